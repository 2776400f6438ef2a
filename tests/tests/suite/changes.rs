//! Change audits of a person's title (issue 15 §2): invisible until approved on the route the tenant's
//! plugin names, then in force, and the yearly requirement follows the new title level.

use jijiao_tests::{Backend, TestServer, both, json_of};
use reqwest::Client;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::common::*;

async fn file(client: &Client, s: &TestServer, tenant: &str, fields: Value) -> (u16, Value) {
    json_of(client.post(s.api(tenant, "/me/changes")).json(&json!({"fields": fields})).send().await.unwrap()).await
}

async fn queue(client: &Client, s: &TestServer, tenant: &str) -> Vec<Value> {
    let (status, body) = json_of(client.get(s.api(tenant, "/approvals?kind=person_change")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    body["items"].as_array().cloned().unwrap_or_default()
}

async fn me(client: &Client, s: &TestServer, tenant: &str, path: &str) -> Value {
    let (status, body) = json_of(client.get(s.api(tenant, path)).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Henan with a requirement table where senior titles need 120 hours: the change is invisible until the
/// unit's admin approves it, then the profile and this year's requirement follow.
async fn a_title_change_takes_effect_only_when_approved(backend: Backend) {
    let tenants = tempfile::tempdir().unwrap();
    let root = jijiao_tests::workspace_root().join("tenants");
    for tenant in ["hunan", "henan", "hubei"] {
        copy_dir(&root.join(tenant), &tenants.path().join(tenant));
    }
    let rules = tenants.path().join("henan/rules.toml");
    let text = std::fs::read_to_string(&rules).unwrap();
    let senior = "{ title_level = \"senior\", public = 24, professional = 60, total = 90 }";
    assert!(text.contains(senior), "the test edits Henan's senior row");
    std::fs::write(&rules, text.replacen(senior, "{ title_level = \"senior\", public = 24, professional = 96, total = 120 }", 1)).unwrap();
    let dir = tenants.path().to_path_buf();
    let s = TestServer::start_with(backend, move |config| config.tenants_dir = dir).await;

    let staff = s.demo("henan", "staff", 101).await;
    let year = jijiao::hours::this_year();
    assert_eq!(me(&staff, &s, "henan", &format!("/me/status?year={year}")).await["required"]["total"], 90);

    // Bad requests change nothing.
    for (fields, field) in [
        (json!({"name": "改名"}), "name"),
        (json!({"title_level": "emperor"}), "title_level"),
        (json!({"title_series": "astrology"}), "title_series"),
        (json!({"title_level": "intermediate"}), "title_level"),
        (json!({"title_date": "2099-01-01"}), "title_date"),
        (json!({"title": "=HYPERLINK()"}), "title"),
        (json!({}), "fields"),
    ] {
        let (status, body) = file(&staff, &s, "henan", fields).await;
        assert_eq!(status, 422, "{body}");
        assert!(body["fields"][field].is_string(), "{field}: {body}");
    }
    assert_eq!(s.count("SELECT COUNT(*) FROM change_requests").await, 0);

    let (status, body) = file(
        &staff,
        &s,
        "henan",
        json!({"title": "主任医师", "title_level": "senior", "title_series": "health", "title_date": "2026-06-30"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["status"], "pending");
    let (status, body) = file(&staff, &s, "henan", json!({"title_level": "deputy_senior"})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("change_pending")), "{body}");
    // Pending: the profile is unchanged and shows nothing new; the person's list says it waits.
    let profile = me(&staff, &s, "henan", "/me/profile").await;
    assert_eq!((profile["title_level"].as_str(), profile["title_series"].as_str()), (Some("intermediate"), None), "{profile}");
    let mine = me(&staff, &s, "henan", "/me/changes").await;
    assert_eq!(mine["items"][0]["status_label"], "待审核", "{mine}");

    // Henan: the person's unit admin reviews it and sees old → new.
    let unit_admin = s.demo("henan", "unit", 201).await;
    let items = queue(&unit_admin, &s, "henan").await;
    assert_eq!(items.len(), 1, "{items:?}");
    let detail = me(&unit_admin, &s, "henan", &format!("/approvals/{}", items[0]["id"])).await;
    let level = detail["subject"]["change"]["changes"].as_array().unwrap().iter().find(|c| c["field"] == "title_level").cloned().unwrap();
    assert_eq!((level["old_text"].as_str(), level["new_text"].as_str()), (Some("中级"), Some("正高级")), "{detail}");
    // Another unit's admin has nothing to review; another tenant's gets nothing either.
    assert!(queue(&s.demo("henan", "unit", 202).await, &s, "henan").await.is_empty());
    let hunan = s.demo("hunan", "unit", 201).await;
    assert!(queue(&hunan, &s, "hunan").await.is_empty());
    assert_eq!(decide(&hunan, &s, "hunan", &[items[0]["id"].as_i64().unwrap()], "approve", None).await.0, 404);

    let (status, body) = decide(&unit_admin, &s, "henan", &[items[0]["id"].as_i64().unwrap()], "approve", None).await;
    assert_eq!(status, 200, "{body}");
    let profile = me(&staff, &s, "henan", "/me/profile").await;
    assert_eq!(
        (profile["title"].as_str(), profile["title_level"].as_str(), profile["title_series"].as_str(), profile["title_date"].as_str()),
        (Some("主任医师"), Some("senior"), Some("health"), Some("2026-06-30")),
        "{profile}"
    );
    s.drain_jobs().await;
    assert_eq!(me(&staff, &s, "henan", &format!("/me/status?year={year}")).await["required"]["total"], 120);
    let messages = me(&staff, &s, "henan", "/messages").await;
    assert!(messages.to_string().contains("职称变更已通过"), "{messages}");
}
both!(a_title_change_takes_effect_only_when_approved, a_title_change_takes_effect_only_when_approved, backend);

/// Hubei: the unit's supervising department reviews (the school's is the provincial education
/// department); a rejection leaves everything as it was; a pending change can be withdrawn.
async fn hubei_title_changes_go_to_the_supervising_department(s: TestServer) {
    let staff = s.demo("hubei", "staff", 101).await;
    let (status, body) = file(&staff, &s, "hubei", json!({"title_series": "school_teacher"})).await;
    assert_eq!(status, 201, "{body}");
    assert!(queue(&s.demo("hubei", "unit", 201).await, &s, "hubei").await.is_empty(), "not the unit itself");
    let authority = s.demo("hubei", "authority", 401).await;
    let items = queue(&authority, &s, "hubei").await;
    assert_eq!(items.len(), 1);
    let (status, _) = decide(&authority, &s, "hubei", &[items[0]["id"].as_i64().unwrap()], "reject", Some("请上传聘任文件")).await;
    assert_eq!(status, 200);
    assert!(me(&staff, &s, "hubei", "/me/profile").await["title_series"].is_null());
    assert_eq!(me(&staff, &s, "hubei", "/me/changes").await["items"][0]["status"], "rejected");

    let (status, body) = file(&staff, &s, "hubei", json!({"title_series": "school_teacher"})).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().unwrap();
    // The person's page shows the pending change with its new value and offers withdrawing it.
    let html = staff.get(s.url("hubei", "/account/changes")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("待审核的变更") && html.contains("中小学教师") && html.contains("撤回变更申请"), "{html}");
    assert!(html.contains("请上传聘任文件") || html.contains("未通过"), "the rejected one is in the history");
    let other = s.demo("hubei", "staff", 102).await;
    assert_eq!(other.post(s.api("hubei", &format!("/changes/{id}/withdraw"))).send().await.unwrap().status(), 404, "not theirs");
    assert_eq!(staff.post(s.api("hubei", &format!("/changes/{id}/withdraw"))).send().await.unwrap().status(), 204);
    assert!(queue(&authority, &s, "hubei").await.is_empty());
    // Admins have no profile to change.
    let (status, _) = file(&authority, &s, "hubei", json!({"title_series": "health"})).await;
    assert!(status == 403 || status == 400, "{status}");
}
both!(hubei_title_changes_go_to_the_supervising_department, hubei_title_changes_go_to_the_supervising_department);

/// An organisation's admin asks for a change of its information; Hunan's HR bureau (which approved its
/// registration) reviews it and it takes effect; Hubei's goes to the supervising department. Other
/// organisations' admins can neither file nor see it.
async fn organisation_changes_are_audited(s: TestServer) {
    let school: i64 = s.count("SELECT id FROM orgs WHERE tenant_id = 'hunan' AND ext_key = 'demo:unit:school'").await;
    let hospital: i64 = s.count("SELECT id FROM orgs WHERE tenant_id = 'hunan' AND ext_key = 'demo:unit:hospital'").await;
    let admin = s.demo("hunan", "unit", 201).await;
    let org_file = |client: &Client, org: i64, fields: Value| {
        let request = client.post(s.api("hunan", &format!("/orgs/{org}/changes"))).json(&json!({"fields": fields}));
        async move { json_of(request.send().await.unwrap()).await }
    };
    let (status, body) = org_file(&admin, school, json!({"credit_code": "x", "nature": "castle"})).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"]["credit_code"].is_string() && body["fields"]["nature"].is_string(), "{body}");
    assert_eq!(org_file(&admin, hospital, json!({"address": "别人的地址"})).await.0, 404, "not the caller's organisation");
    let staff = s.demo("hunan", "staff", 101).await;
    assert!(matches!(org_file(&staff, school, json!({"address": "x"})).await.0, 403 | 404));

    let (status, body) = org_file(&admin, school, json!({"address": "长沙市岳麓区新址 8 号", "nature": "government"})).await;
    assert_eq!(status, 201, "{body}");
    let bureau = s.demo("hunan", "hr", 501).await;
    let (_, queue) = json_of(bureau.get(s.api("hunan", "/approvals?kind=org_change")).send().await.unwrap()).await;
    assert_eq!(queue["total"], 1, "{queue}");
    let item = queue["items"][0]["id"].as_i64().unwrap();
    let (_, detail) = json_of(bureau.get(s.api("hunan", &format!("/approvals/{item}"))).send().await.unwrap()).await;
    let nature = detail["subject"]["change"]["changes"].as_array().unwrap().iter().find(|c| c["field"] == "nature").cloned().unwrap();
    assert_eq!((nature["old_text"].as_str(), nature["new_text"].as_str()), (Some("事业单位"), Some("机关")), "{detail}");
    let address = |s: &TestServer| {
        let db = s.db.clone();
        async move {
            let (address,): (Option<String>,) = db.one(jijiao::db::q("SELECT address FROM orgs WHERE id = $1").bind(school)).await.unwrap();
            address
        }
    };
    assert_ne!(address(&s).await.as_deref(), Some("长沙市岳麓区新址 8 号"), "not before approval");
    let (status, body) = decide(&bureau, &s, "hunan", &[item], "approve", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(address(&s).await.as_deref(), Some("长沙市岳麓区新址 8 号"));
    let (_, mine) = json_of(admin.get(s.api("hunan", &format!("/orgs/{school}/changes"))).send().await.unwrap()).await;
    assert_eq!(mine["items"][0]["status"], "approved", "{mine}");
    let html = admin.get(s.url("hunan", "/org/changes")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("长沙市岳麓区新址 8 号") && html.contains("已生效"), "{html}");

    // Hubei: the school's supervising department reviews.
    let hubei_school: i64 = s.count("SELECT id FROM orgs WHERE tenant_id = 'hubei' AND ext_key = 'demo:unit:school'").await;
    let hubei_admin = s.demo("hubei", "unit", 201).await;
    let (status, body) = json_of(
        hubei_admin
            .post(s.api("hubei", &format!("/orgs/{hubei_school}/changes")))
            .json(&json!({"fields": {"contact_name": "李四"}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let authority = s.demo("hubei", "authority", 401).await;
    let (_, queue) = json_of(authority.get(s.api("hubei", "/approvals?kind=org_change")).send().await.unwrap()).await;
    assert_eq!(queue["total"], 1, "{queue}");
    let (_, queue) =
        json_of(s.demo("hubei", "hr", 501).await.get(s.api("hubei", "/approvals?kind=org_change")).send().await.unwrap()).await;
    assert_eq!(queue["total"], 0, "{queue}");
}
both!(organisation_changes_are_audited, organisation_changes_are_audited);

/// 更换上级部门 (Hubei): the hospital, answering to the HR bureau, moves under the education department;
/// the old parent decides first, then the new; after that the new parent's scope holds the hospital and its
/// staff.
async fn a_new_parent_needs_both_parents(s: TestServer) {
    let hospital: i64 = s.count("SELECT id FROM orgs WHERE tenant_id = 'hubei' AND ext_key = 'demo:unit:hospital'").await;
    let school: i64 = s.count("SELECT id FROM orgs WHERE tenant_id = 'hubei' AND ext_key = 'demo:unit:school'").await;
    let education: i64 = s.count("SELECT supervisor_id FROM orgs WHERE tenant_id = 'hubei' AND ext_key = 'demo:unit:school'").await;
    let staff_id = jijiao::demo::demo_id_number("hubei", 102);
    let person: i64 = s.count(&format!("SELECT id FROM people WHERE id_number = '{staff_id}'")).await;
    let admin = s.demo("hubei", "unit", 202).await;
    let bureau = s.demo("hubei", "hr", 501).await;
    let authority = s.demo("hubei", "authority", 401).await;
    let file = |fields: Value| {
        let request = admin.post(s.api("hubei", &format!("/orgs/{hospital}/changes"))).json(&json!({"fields": fields}));
        async move { json_of(request.send().await.unwrap()).await }
    };
    for fields in [json!({"supervisor_id": school.to_string()}), json!({"supervisor_id": education.to_string(), "address": "x"})] {
        let (status, body) = file(fields).await;
        assert_eq!((status, body["fields"]["supervisor_id"].is_string()), (422, true), "{body}");
    }
    assert_eq!(json_of(authority.get(s.api("hubei", &format!("/staff/{person}/years"))).send().await.unwrap()).await.0, 404);

    let (status, body) = file(json!({"supervisor_id": education.to_string()})).await;
    assert_eq!(status, 201, "{body}");
    let pending = |client: &Client| {
        let request = client.get(s.api("hubei", "/approvals?kind=parent_change"));
        async move { json_of(request.send().await.unwrap()).await.1["items"].as_array().cloned().unwrap_or_default() }
    };
    assert!(pending(&authority).await.is_empty(), "the new parent waits for the old one");
    let items = pending(&bureau).await;
    assert_eq!(items.len(), 1);
    assert_eq!(decide(&bureau, &s, "hubei", &[items[0]["id"].as_i64().unwrap()], "approve", None).await.0, 200);
    assert_eq!(s.count(&format!("SELECT COUNT(*) FROM orgs WHERE id = {hospital} AND supervisor_id IS NULL")).await, 1, "not yet");
    let items = pending(&authority).await;
    assert_eq!(items.len(), 1, "now the new parent decides");
    let (_, detail) = json_of(authority.get(s.api("hubei", &format!("/approvals/{}", items[0]["id"]))).send().await.unwrap()).await;
    assert!(detail["subject"]["change"]["changes"][0]["new_text"].as_str().unwrap().contains("教育厅"), "{detail}");
    assert_eq!(decide(&authority, &s, "hubei", &[items[0]["id"].as_i64().unwrap()], "approve", None).await.0, 200);
    assert_eq!(s.count(&format!("SELECT supervisor_id FROM orgs WHERE id = {hospital}")).await, education);
    let (status, _) = json_of(authority.get(s.api("hubei", &format!("/staff/{person}/years"))).send().await.unwrap()).await;
    assert_eq!(status, 200, "the new parent's scope holds the hospital's staff");
    let html = admin.get(s.url("hubei", "/org/changes")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("更换上级主管部门") && html.contains("已生效"), "{html}");
}
both!(a_new_parent_needs_both_parents, a_new_parent_needs_both_parents);

/// A new licence scan comes with an organisation's change as a file: the reviewer opens it before
/// deciding, approval puts it in force, and nobody else can fetch it.
async fn a_new_licence_scan_is_reviewed(s: TestServer) {
    let school: i64 = s.count("SELECT id FROM orgs WHERE tenant_id = 'hunan' AND ext_key = 'demo:unit:school'").await;
    let admin = s.demo("hunan", "unit", 201).await;
    let url = s.api("hunan", &format!("/orgs/{school}/changes"));
    let stored = "SELECT (SELECT COUNT(*) FROM change_requests) + (SELECT COUNT(*) FROM blobs)";
    let before = s.count(stored).await;
    // A scan is a file, never a blob id named in the request; a file that is no document is refused.
    let (status, body) = json_of(admin.post(&url).json(&json!({"fields": {"licence_blob_id": "1"}})).send().await.unwrap()).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"]["licence_blob_id"].is_string(), "{body}");
    let fake = Form::new().part("licence", Part::bytes(b"MZ\x90\x00 not a pdf".to_vec()).file_name("licence.pdf"));
    let (status, body) = json_of(admin.post(&url).multipart(fake).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("bad_file_type")), "{body}");
    assert_eq!(s.count(stored).await, before, "nothing stored");

    let form = Form::new()
        .text("fields", json!({"contact_name": "王五"}).to_string())
        .part("licence", Part::bytes(PDF.to_vec()).file_name("新执照.pdf"));
    let (status, body) = json_of(admin.post(&url).multipart(form).send().await.unwrap()).await;
    assert_eq!(status, 201, "{body}");
    let change = body["id"].as_i64().unwrap();
    let licence_url = s.api("hunan", &format!("/changes/{change}/licence"));
    let bureau = s.demo("hunan", "hr", 501).await;
    let res = bureau.get(&licence_url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);
    assert_eq!(admin.get(&licence_url).send().await.unwrap().status(), 200, "the organisation's own admin");
    for (tenant, client) in [
        ("hunan", s.demo("hunan", "unit", 202).await),
        ("hunan", s.demo("hunan", "staff", 101).await),
        ("henan", s.demo("henan", "province", 601).await),
    ] {
        let status = client.get(s.api(tenant, &format!("/changes/{change}/licence"))).send().await.unwrap().status();
        assert_eq!(status, 404, "{tenant}");
    }
    let (_, queue) = json_of(bureau.get(s.api("hunan", "/approvals?kind=org_change")).send().await.unwrap()).await;
    let item = queue["items"][0]["id"].as_i64().unwrap();
    let html = bureau.get(s.url("hunan", &format!("/approvals/{item}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("证照扫描件") && html.contains(&format!("/changes/{change}/licence\">新执照.pdf</a>")), "{html}");
    let licence = |s: &TestServer| {
        let db = s.db.clone();
        async move {
            let (blob,): (Option<i64>,) =
                db.one(jijiao::db::q("SELECT licence_blob_id FROM orgs WHERE id = $1").bind(school)).await.unwrap();
            blob
        }
    };
    assert_eq!(licence(&s).await, None, "not before approval");
    let (status, body) = decide(&bureau, &s, "hunan", &[item], "approve", None).await;
    assert_eq!(status, 200, "{body}");
    let blob = licence(&s).await.expect("the new scan is the organisation's licence");
    assert_eq!(s.count(&format!("SELECT COUNT(*) FROM blobs WHERE id = {blob} AND filename = '新执照.pdf'")).await, 1);
    let res = bureau.get(s.api("hunan", &format!("/orgs/{school}/licence"))).send().await.unwrap();
    assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);

    // The page's form uploads the scan too.
    let html = admin.get(s.url("hunan", "/org/changes")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("enctype=\"multipart/form-data\"") && html.contains("name=\"licence\""), "{html}");
    let form = Form::new()
        .text("csrf_token", csrf_in(&html))
        .text("address", "")
        .part("licence", Part::bytes(PDF.to_vec()).file_name("再换执照.pdf"));
    let res = admin.post(s.url("hunan", "/org/changes")).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let html = admin.get(s.url("hunan", "/org/changes")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("再换执照.pdf"), "{html}");
}
both!(a_new_licence_scan_is_reviewed, a_new_licence_scan_is_reviewed);
