//! Activity claims (issue 4 §3): the plugin's form, attachments, the plugin's route through the queue,
//! decisions (approve, reject, return, batch, all), withdraw / edit / delete, credits in the ledger.

use jijiao::db::q;
use jijiao_tests::services::{S3Server, SmtpServer};
use jijiao_tests::{Backend, TestServer, both, json_of, mail_text};
use reqwest::Client;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::common::PDF;

const YEAR: i64 = 2025;

async fn create(client: &Client, s: &TestServer, tenant: &str, body: Value) -> (u16, Value) {
    json_of(client.post(s.api(tenant, "/claims")).json(&body).send().await.unwrap()).await
}

async fn attach(client: &Client, s: &TestServer, tenant: &str, id: i64, name: &str, bytes: Vec<u8>) -> (u16, Value) {
    let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()));
    json_of(client.post(s.api(tenant, &format!("/claims/{id}/attachments"))).multipart(form).send().await.unwrap()).await
}

async fn act(client: &Client, s: &TestServer, tenant: &str, id: i64, action: &str) -> (u16, Value) {
    json_of(client.post(s.api(tenant, &format!("/claims/{id}/{action}"))).send().await.unwrap()).await
}

async fn get(client: &Client, s: &TestServer, tenant: &str, id: i64) -> (u16, Value) {
    json_of(client.get(s.api(tenant, &format!("/claims/{id}"))).send().await.unwrap()).await
}

/// The caller's pending claim steps.
async fn queue(client: &Client, s: &TestServer, tenant: &str) -> Vec<Value> {
    let (status, body) = json_of(client.get(s.api(tenant, "/approvals?kind=claim")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    body["items"].as_array().cloned().unwrap_or_default()
}

async fn decide(client: &Client, s: &TestServer, tenant: &str, body: Value) -> (u16, Value) {
    json_of(client.post(s.api(tenant, "/approvals/decisions")).json(&body).send().await.unwrap()).await
}

fn ids(items: &[Value]) -> Vec<i64> {
    items.iter().map(|i| i["id"].as_i64().unwrap()).collect()
}

/// A Hunan patent claim (seed 001 §9: 专利, professional, fixed hours) as a draft with its proof attached.
async fn hunan_patent(client: &Client, s: &TestServer) -> i64 {
    let (status, claim) = create(
        client,
        s,
        "hunan",
        json!({"year": YEAR, "activity": "patent", "fields": {"name": "一种教学演示装置", "start_date": "2025-03-01", "end_date": "2025-03-05"}}),
    )
    .await;
    assert_eq!(status, 201, "{claim}");
    let id = claim["id"].as_i64().unwrap();
    let (status, body) = attach(client, s, "hunan", id, "专利证书.pdf", PDF.to_vec()).await;
    assert_eq!(status, 201, "{body}");
    id
}

async fn hunan_claim_through_unit_and_authority(s: TestServer) {
    let staff = s.demo("hunan", "staff", 101).await;
    // The form comes from the plugin's catalogue.
    let (status, catalogue) = json_of(staff.get(s.api("hunan", &format!("/activities?year={YEAR}"))).send().await.unwrap()).await;
    assert_eq!(status, 200, "{catalogue}");
    let patent =
        catalogue["activities"].as_array().unwrap().iter().find(|a| a["code"] == "patent").expect("patent in the catalogue").clone();
    assert!(patent["fields"].as_array().unwrap().iter().any(|f| f["key"] == "attachment" && f["kind"] == "file"), "{patent}");

    // Missing fields: per-field errors from the plugin, nothing stored.
    let (status, body) =
        create(&staff, &s, "hunan", json!({"year": YEAR, "activity": "patent", "fields": {"start_date": "2025-03-01"}})).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"]["name"].is_string() && body["fields"]["end_date"].is_string(), "{body}");
    let (status, body) = create(&staff, &s, "hunan", json!({"year": YEAR, "activity": "no_such_thing", "fields": {}})).await;
    assert_eq!((status, body["fields"]["activity"].is_string()), (422, true), "{body}");
    // Dates outside the claimed year (issue 22 §6).
    let (status, body) = create(
        &staff,
        &s,
        "hunan",
        json!({"year": YEAR, "activity": "patent", "fields": {"name": "旧专利", "start_date": "2019-03-01", "end_date": "2030-03-05"}}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"]["start_date"].as_str().unwrap().contains(&format!("{YEAR} 年内")), "{body}");
    assert!(body["fields"]["end_date"].is_string(), "{body}");
    assert_eq!(s.count("SELECT COUNT(*) FROM claims").await, 0);

    let (status, claim) = create(
        &staff,
        &s,
        "hunan",
        json!({"year": YEAR, "activity": "patent", "fields": {"name": "一种教学演示装置", "start_date": "2025-03-01", "end_date": "2025-03-05"}}),
    )
    .await;
    assert_eq!(status, 201, "{claim}");
    assert_eq!((claim["status"].as_str(), claim["hours"].as_f64()), (Some("draft"), Some(20.0)), "{claim}");
    let id = claim["id"].as_i64().unwrap();

    // Submitting without the proof the form requires is refused, the claim stays a draft.
    let (status, body) = act(&staff, &s, "hunan", id, "submit").await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"]["attachment"].as_str().unwrap().contains("请上传"), "{body}");
    // Plain text is not a proof document.
    let (status, body) = attach(&staff, &s, "hunan", id, "notes.txt", b"just some words".to_vec()).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("bad_file_type")), "{body}");
    let (status, body) = attach(&staff, &s, "hunan", id, "专利证书.pdf", PDF.to_vec()).await;
    assert_eq!(status, 201, "{body}");
    let attachment = body["id"].as_i64().unwrap();

    let (status, detail) = act(&staff, &s, "hunan", id, "submit").await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["claim"]["status"], "submitted");
    let steps = detail["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2, "seed 001: unit admin, then the supervising department: {detail}");
    assert_eq!((steps[0]["status"].as_str(), steps[1]["status"].as_str()), (Some("pending"), Some("waiting")));
    assert!(steps[0]["org_name"].as_str().unwrap().contains("第一中学"), "{detail}");

    // Nobody else sees it: another person, another unit's admin, another tenant, the authority before its turn.
    let other_staff = s.demo("hunan", "staff", 102).await;
    let other_unit = s.demo("hunan", "unit", 202).await;
    let authority = s.demo("hunan", "authority", 401).await;
    let henan = s.demo("henan", "staff", 101).await;
    for client in [&other_staff, &other_unit, &authority] {
        assert_eq!(get(client, &s, "hunan", id).await.0, 404);
        let res = client.get(s.api("hunan", &format!("/claims/{id}/attachments/{attachment}"))).send().await.unwrap();
        assert_eq!(res.status(), 404);
    }
    assert_eq!(get(&henan, &s, "henan", id).await.0, 404);
    assert_eq!(henan.get(s.api("henan", &format!("/claims/{id}/attachments/{attachment}"))).send().await.unwrap().status(), 404);
    assert!(queue(&other_unit, &s, "hunan").await.is_empty());
    assert!(queue(&authority, &s, "hunan").await.is_empty(), "the authority's step waits for the unit");

    // The unit admin passes it on (批量通过 with one row).
    let unit = s.demo("hunan", "unit", 201).await;
    let items = queue(&unit, &s, "hunan").await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["declaring_org_name"].as_str().map(|n| n.contains("第一中学")), Some(true), "{items:?}");
    let (status, body) = decide(&unit, &s, "hunan", json!({"ids": ids(&items), "decision": "approve"})).await;
    assert_eq!(status, 200, "{body}");
    // Declared upward once only.
    let (status, body) = decide(&unit, &s, "hunan", json!({"ids": ids(&items), "decision": "approve"})).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!((get(&staff, &s, "hunan", id).await.1)["claim"]["status"], "submitted");

    // The supervising department sees it, with the proof, and approves: the hours land in the ledger.
    let items = queue(&authority, &s, "hunan").await;
    assert_eq!(items.len(), 1, "{items:?}");
    // Its reviewers find a unit's batch by the unit's name (the summary names the applicant).
    for (q, found) in [("第一中学", 1), ("湘一", 1), ("不存在的单位", 0)] {
        let request = authority.get(s.api("hunan", "/approvals")).query(&[("kind", "claim"), ("q", q)]);
        let (status, body) = json_of(request.send().await.unwrap()).await;
        assert_eq!((status, body["items"].as_array().map(Vec::len)), (200, Some(found)), "q={q}: {body}");
    }
    let res = authority.get(s.api("hunan", &format!("/claims/{id}/attachments/{attachment}"))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);
    let (status, detail) = json_of(authority.get(s.api("hunan", &format!("/approvals/{}", items[0]["id"]))).send().await.unwrap()).await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["subject"]["claim"]["activity"], "patent");
    let (status, body) = decide(&authority, &s, "hunan", json!({"ids": ids(&items), "decision": "approve"})).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = decide(&authority, &s, "hunan", json!({"ids": ids(&items), "decision": "reject", "reason": "重复"})).await;
    assert_eq!(status, 409, "a second reviewer loses: {body}");

    let (_, detail) = get(&staff, &s, "hunan", id).await;
    assert_eq!(detail["claim"]["status"], "approved", "{detail}");
    let actions: Vec<&str> = detail["trail"].as_array().unwrap().iter().map(|t| t["action"].as_str().unwrap()).collect();
    for action in ["claim.created", "claim.attachment_added", "claim.submitted", "claim.step_approved", "claim.approved"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    let (_, credits) = json_of(staff.get(s.api("hunan", &format!("/me/credits?year={YEAR}"))).send().await.unwrap()).await;
    let credit = &credits["items"][0];
    assert_eq!(
        (credit["source"].as_str(), credit["subject"].as_str(), credit["hours"].as_f64()),
        (Some("activity"), Some("professional"), Some(20.0))
    );
    assert_eq!(credit["source_ref"], format!("claim:{id}:professional"));
    let (_, status) = json_of(staff.get(s.api("hunan", &format!("/me/status?year={YEAR}"))).send().await.unwrap()).await;
    assert_eq!(status["counted"]["professional"].as_f64(), Some(20.0), "{status}");
    // The applicant is told: a message now, a mail through the jobs queue.
    let (_, messages) = json_of(staff.get(s.api("hunan", "/messages")).send().await.unwrap()).await;
    let titles: Vec<&str> = messages["items"].as_array().unwrap().iter().map(|m| m["title"].as_str().unwrap()).collect();
    assert!(titles.contains(&"学时申报已通过") && titles.contains(&"学时申报已通过一级审核"), "{titles:?}");
    assert_eq!(s.count("SELECT COUNT(*) FROM jobs WHERE kind = 'mail.send'").await, 1, "one mail: the final decision");
}
both!(hunan_claim_through_unit_and_authority, hunan_claim_through_unit_and_authority);

/// Seed 003: public claims go to the same-level HR bureau; professional ones to the authority or the HR
/// bureau as the unit chooses — after the unit has reviewed and declared them.
async fn henan_routes_by_subject_and_choice(s: TestServer) {
    let staff = s.demo("henan", "staff", 101).await;
    let unit = s.demo("henan", "unit", 201).await;
    let hr = s.demo("henan", "hr", 501).await;
    let authority = s.demo("henan", "authority", 401).await;
    let common = json!({"name": "继续教育活动", "start_date": "2025-03-01", "end_date": "2025-03-05"});
    let with = |extra: Value| {
        let mut fields = common.clone();
        fields.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        fields
    };
    let mut claims = Vec::new();
    for (activity, fields, choice) in [
        ("degree_education", with(json!({"subject": "public", "institution": "河南大学", "courses": 3})), None),
        ("patent", with(json!({"subject": "professional"})), Some("authority")),
    ] {
        let (status, claim) =
            create(&staff, &s, "henan", json!({"year": YEAR, "activity": activity, "fields": fields, "choice": choice})).await;
        assert_eq!(status, 201, "{claim}");
        let id = claim["id"].as_i64().unwrap();
        assert_eq!(attach(&staff, &s, "henan", id, "证明.pdf", PDF.to_vec()).await.0, 201);
        claims.push(id);
    }
    assert_eq!((get(&staff, &s, "henan", claims[0]).await.1)["claim"]["hours"].as_f64(), Some(45.0));
    // A professional claim must say where it goes, already when it is saved (issue 22 §6).
    let before = s.count("SELECT COUNT(*) FROM claims").await;
    let (status, body) =
        create(&staff, &s, "henan", json!({"year": YEAR, "activity": "patent", "fields": with(json!({"subject": "professional"}))})).await;
    assert_eq!(status, 422, "{body}");
    // In words, not role codes (issue 22 §1).
    assert_eq!(body["fields"]["choice"], "请选择审批部门：行业主管部门或人社部门", "{body}");
    assert_eq!(s.count("SELECT COUNT(*) FROM claims").await, before);
    for id in &claims[..2] {
        assert_eq!(act(&staff, &s, "henan", *id, "submit").await.0, 200);
    }
    // The unit declares both at once ("全部通过" over its own queue).
    let (status, groups) = json_of(unit.get(s.api("henan", "/approvals/groups?kind=claim")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{groups}");
    assert_eq!(groups["items"][0]["pending"], 2, "{groups}");
    let org = groups["items"][0]["org_id"].as_i64().unwrap();
    let (status, body) = decide(&unit, &s, "henan", json!({"all": true, "kind": "claim", "org": org, "decision": "approve"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["decided"].as_array().unwrap().len(), 2);

    let to_hr = queue(&hr, &s, "henan").await;
    let to_authority = queue(&authority, &s, "henan").await;
    assert_eq!(to_hr.len(), 1, "{to_hr:?}");
    assert_eq!(to_authority.len(), 1, "{to_authority:?}");
    assert_eq!(to_hr[0]["subject_id"].as_i64(), Some(claims[0]), "public → HR bureau");
    assert_eq!(to_authority[0]["subject_id"].as_i64(), Some(claims[1]), "professional with choice → authority");
    assert_eq!(decide(&hr, &s, "henan", json!({"ids": ids(&to_hr), "decision": "approve"})).await.0, 200);
    assert_eq!((get(&staff, &s, "henan", claims[0]).await.1)["claim"]["status"], "approved");
    // A rejection needs a reason, then ends the claim.
    let (status, body) = decide(&authority, &s, "henan", json!({"ids": ids(&to_authority), "decision": "reject"})).await;
    assert_eq!((status, body["fields"]["reason"].is_string()), (422, true), "{body}");
    assert_eq!(
        decide(&authority, &s, "henan", json!({"ids": ids(&to_authority), "decision": "reject", "reason": "材料不清晰"})).await.0,
        200
    );
    assert_eq!((get(&staff, &s, "henan", claims[1]).await.1)["claim"]["status"], "rejected");
    assert_eq!(s.count("SELECT COUNT(*) FROM credits WHERE tenant_id = 'henan'").await, 1);
}
both!(henan_routes_by_subject_and_choice, henan_routes_by_subject_and_choice);

/// Seed 004: hour claims are audited by the supervising department; a returned claim is edited and
/// submitted again in a new round.
async fn hubei_claim_returned_and_resubmitted(s: TestServer) {
    let staff = s.demo("hubei", "staff", 101).await;
    let authority = s.demo("hubei", "authority", 401).await;
    let fields = json!({"name": "湖北省某学会年会", "start_date": "2025-03-01", "end_date": "2025-03-05", "organiser": "湖北省某学会", "subject": "professional", "hours": 12});
    let (status, claim) = create(&staff, &s, "hubei", json!({"year": YEAR, "activity": "training", "fields": fields})).await;
    assert_eq!(status, 201, "{claim}");
    let id = claim["id"].as_i64().unwrap();
    assert_eq!(attach(&staff, &s, "hubei", id, "证明.pdf", PDF.to_vec()).await.0, 201);
    let (status, detail) = act(&staff, &s, "hubei", id, "submit").await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["steps"].as_array().unwrap().len(), 1, "straight to the supervising department: {detail}");
    let items = queue(&authority, &s, "hubei").await;
    assert_eq!(decide(&authority, &s, "hubei", json!({"ids": ids(&items), "decision": "return", "reason": "请补充学时证明"})).await.0, 200);
    let (_, detail) = get(&staff, &s, "hubei", id).await;
    assert_eq!(detail["claim"]["status"], "returned");
    assert_eq!(detail["can_edit"], true);

    let mut fields = fields.clone();
    fields["hours"] = json!(10);
    let (status, edited) = json_of(
        staff
            .put(s.api("hubei", &format!("/claims/{id}")))
            .json(&json!({"year": YEAR, "activity": "training", "fields": fields}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, edited["hours"].as_f64()), (200, Some(10.0)), "{edited}");
    assert_eq!(act(&staff, &s, "hubei", id, "submit").await.0, 200);
    let items = queue(&authority, &s, "hubei").await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["round"], 2);
    assert_eq!(decide(&authority, &s, "hubei", json!({"ids": ids(&items), "decision": "approve"})).await.0, 200);
    let (_, credits) = json_of(staff.get(s.api("hubei", "/me/credits")).send().await.unwrap()).await;
    assert_eq!(credits["items"][0]["hours"].as_f64(), Some(10.0));
}
both!(hubei_claim_returned_and_resubmitted, hubei_claim_returned_and_resubmitted);

/// Seed 001: before the first decision the applicant may withdraw, then edit or delete.
async fn withdraw_edit_delete(s: TestServer) {
    let staff = s.demo("hunan", "staff", 101).await;
    let unit = s.demo("hunan", "unit", 201).await;
    let id = hunan_patent(&staff, &s).await;
    assert_eq!(act(&staff, &s, "hunan", id, "withdraw").await.0, 409, "a draft is not submitted");
    assert_eq!(act(&staff, &s, "hunan", id, "submit").await.0, 200);
    assert_eq!(act(&staff, &s, "hunan", id, "submit").await.0, 409);
    let edit =
        json!({"year": YEAR, "activity": "patent", "fields": {"name": "改名", "start_date": "2025-03-01", "end_date": "2025-03-05"}});
    assert_eq!(json_of(staff.put(s.api("hunan", &format!("/claims/{id}"))).json(&edit).send().await.unwrap()).await.0, 409);
    let (status, detail) = act(&staff, &s, "hunan", id, "withdraw").await;
    assert_eq!((status, detail["claim"]["status"].as_str()), (200, Some("draft")), "{detail}");
    assert!(queue(&unit, &s, "hunan").await.is_empty(), "withdrawn items leave the queue");
    let (status, edited) = json_of(staff.put(s.api("hunan", &format!("/claims/{id}"))).json(&edit).send().await.unwrap()).await;
    assert_eq!((status, edited["fields"]["name"].as_str()), (200, Some("改名")), "{edited}");
    assert_eq!(act(&staff, &s, "hunan", id, "submit").await.0, 200);
    let items = queue(&unit, &s, "hunan").await;
    assert_eq!(decide(&unit, &s, "hunan", json!({"ids": ids(&items), "decision": "approve"})).await.0, 200);
    assert_eq!(act(&staff, &s, "hunan", id, "withdraw").await.0, 409, "after a decision");
    assert_eq!(staff.delete(s.api("hunan", &format!("/claims/{id}"))).send().await.unwrap().status(), 409);

    // A draft can be deleted; it is gone from lists and reads.
    let draft = hunan_patent(&staff, &s).await;
    let other = s.demo("hunan", "staff", 102).await;
    assert_eq!(other.delete(s.api("hunan", &format!("/claims/{draft}"))).send().await.unwrap().status(), 404);
    assert_eq!(staff.delete(s.api("hunan", &format!("/claims/{draft}"))).send().await.unwrap().status(), 204);
    assert_eq!(get(&staff, &s, "hunan", draft).await.0, 404);
    let (_, list) = json_of(staff.get(s.api("hunan", "/claims")).send().await.unwrap()).await;
    assert_eq!(list["total"], 1, "{list}");
}
both!(withdraw_edit_delete, withdraw_edit_delete);

/// Seed 003 批量申报: a unit admin registers claims for its staff (declared upward at once) and reviewers
/// decide many at a time; other units and tenants cannot touch them.
async fn unit_declares_on_behalf_and_reviewers_batch(s: TestServer) {
    let unit = s.demo("henan", "unit", 201).await;
    let (_, me) = json_of(s.demo("henan", "staff", 101).await.get(s.api("henan", "/me")).send().await.unwrap()).await;
    let person = me["account"]["person_id"].as_i64().unwrap_or_else(|| panic!("person_id in /me: {me}"));
    let body = json!({"year": YEAR, "activity": "patent", "person_id": person, "choice": "hr_bureau",
                      "fields": {"subject": "professional", "name": "代报专利", "start_date": "2025-03-01", "end_date": "2025-03-05"}});
    // Another unit's admin, or another tenant, cannot claim for this person.
    assert_eq!(create(&s.demo("henan", "unit", 202).await, &s, "henan", body.clone()).await.0, 404);
    assert_eq!(create(&s.demo("hunan", "unit", 201).await, &s, "hunan", body.clone()).await.0, 404);
    let mut claims = Vec::new();
    for _ in 0..3 {
        let (status, claim) = create(&unit, &s, "henan", body.clone()).await;
        assert_eq!(status, 201, "{claim}");
        let id = claim["id"].as_i64().unwrap();
        assert_eq!(attach(&unit, &s, "henan", id, "证明.pdf", PDF.to_vec()).await.0, 201);
        let (status, detail) = act(&unit, &s, "henan", id, "submit").await;
        assert_eq!(status, 200, "{detail}");
        assert_eq!(detail["steps"].as_array().unwrap().len(), 1, "the unit's own review is the declaration: {detail}");
        claims.push(id);
    }
    assert!(queue(&unit, &s, "henan").await.is_empty());
    let staff = s.demo("henan", "staff", 101).await;
    let (_, list) = json_of(staff.get(s.api("henan", "/claims")).send().await.unwrap()).await;
    assert_eq!(list["total"], 3, "the person sees claims made for them: {list}");
    let (_, detail) = get(&staff, &s, "henan", claims[0]).await;
    assert!(detail["trail"].as_array().unwrap().iter().any(|t| t["action"] == "claim.declared"), "{detail}");

    let hr = s.demo("henan", "hr", 501).await;
    let items = queue(&hr, &s, "henan").await;
    assert_eq!(items.len(), 3);
    // One bad id in a batch → nothing is decided.
    let mut batch = ids(&items[..2]);
    batch.push(999_999);
    assert_eq!(decide(&hr, &s, "henan", json!({"ids": batch, "decision": "approve"})).await.0, 404);
    assert_eq!(queue(&hr, &s, "henan").await.len(), 3);
    // Another tenant's reviewer cannot decide them.
    let hunan_hr = s.demo("hunan", "hr", 501).await;
    assert_eq!(decide(&hunan_hr, &s, "hunan", json!({"ids": ids(&items), "decision": "approve"})).await.0, 404);
    assert_eq!(decide(&hr, &s, "henan", json!({"ids": ids(&items[..1]), "decision": "approve"})).await.0, 200);
    // "全部不通过" decides the rest.
    let (status, body) =
        decide(&hr, &s, "henan", json!({"all": true, "kind": "claim", "decision": "reject", "reason": "不符合规定"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["decided"].as_array().unwrap().len(), 2);
    assert_eq!(s.count("SELECT COUNT(*) FROM claims WHERE tenant_id = 'henan' AND status = 'rejected'").await, 2);
    assert_eq!(s.count("SELECT COUNT(*) FROM credits WHERE tenant_id = 'henan'").await, 1);
}
both!(unit_declares_on_behalf_and_reviewers_batch, unit_declares_on_behalf_and_reviewers_batch);

/// Attachments live in S3 when configured; the size limit answers 413; the decision mail goes out over
/// SMTP.
async fn attachments_in_s3_and_decision_mail_over_smtp(backend: Backend) {
    let s3 = S3Server::start().await;
    let smtp = SmtpServer::start().await;
    let s = TestServer::start_with(backend, |config| {
        s3.configure(config, "jijiao-claims");
        smtp.configure(config);
        config.upload_limit_mb = 1;
    })
    .await;
    let staff = s.demo("hunan", "staff", 101).await;
    let id = hunan_patent(&staff, &s).await;
    let mut big = PDF.to_vec();
    big.resize(1024 * 1024 + 10, b' ');
    let (status, body) = attach(&staff, &s, "hunan", id, "big.pdf", big).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(s.count("SELECT COUNT(*) FROM claim_attachments").await, 1);
    let listed = s3.client().list_objects_v2().bucket("jijiao-claims").send().await.unwrap();
    assert_eq!(listed.contents().len(), 1, "the proof is in the bucket, the refused upload is not");

    assert_eq!(act(&staff, &s, "hunan", id, "submit").await.0, 200);
    let unit = s.demo("hunan", "unit", 201).await;
    let items = queue(&unit, &s, "hunan").await;
    assert_eq!(decide(&unit, &s, "hunan", json!({"ids": ids(&items), "decision": "return", "reason": "请补充专利授权页"})).await.0, 200);
    s.drain_jobs().await;
    let mails: Vec<String> = smtp.messages().iter().map(|m| mail_text(m)).collect();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].contains("退回修改") && mails[0].contains("请补充专利授权页"), "{}", mails[0]);
}
both!(attachments_in_s3_and_decision_mail_over_smtp, attachments_in_s3_and_decision_mail_over_smtp, backend);

/// Every claim route, called by users of another tenant (or another unit) for a Hunan claim: nothing
/// is shown, nothing changes.
async fn claim_routes_refuse_other_tenants(s: TestServer) {
    let staff = s.demo("hunan", "staff", 101).await;
    let id = hunan_patent(&staff, &s).await;
    let draft = hunan_patent(&staff, &s).await;
    assert_eq!(act(&staff, &s, "hunan", id, "submit").await.0, 200);
    let (_, detail) = get(&staff, &s, "hunan", id).await;
    let attachment = detail["attachments"][0]["id"].as_i64().unwrap();
    let approval = detail["steps"][0]["approval_id"].as_i64().unwrap();
    let edit =
        json!({"year": YEAR, "activity": "patent", "fields": {"name": "篡改", "start_date": "2025-03-01", "end_date": "2025-03-05"}});
    let outsiders = [
        ("henan", s.demo("henan", "staff", 101).await),
        ("henan", s.demo("henan", "unit", 201).await),
        ("hubei", s.demo("hubei", "province", 601).await),
        ("hubei", s.demo("hubei", "system", 701).await),
        ("hunan", s.demo("hunan", "unit", 202).await),
    ];
    for (tenant, client) in &outsiders {
        let api = |path: String| s.api(tenant, &path);
        let statuses = [
            client.get(api(format!("/claims/{id}"))).send().await.unwrap().status().as_u16(),
            client.put(api(format!("/claims/{draft}"))).json(&edit).send().await.unwrap().status().as_u16(),
            client.delete(api(format!("/claims/{draft}"))).send().await.unwrap().status().as_u16(),
            client
                .post(api(format!("/claims/{draft}/attachments")))
                .multipart(Form::new().part("file", Part::bytes(PDF.to_vec()).file_name("x.pdf")))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
            client.get(api(format!("/claims/{id}/attachments/{attachment}"))).send().await.unwrap().status().as_u16(),
            client.delete(api(format!("/claims/{draft}/attachments/{attachment}"))).send().await.unwrap().status().as_u16(),
            client.post(api(format!("/claims/{draft}/submit"))).send().await.unwrap().status().as_u16(),
            client.post(api(format!("/claims/{id}/withdraw"))).send().await.unwrap().status().as_u16(),
            client.get(api(format!("/approvals/{approval}"))).send().await.unwrap().status().as_u16(),
            client
                .post(api("/approvals/decisions".into()))
                .json(&json!({"ids": [approval], "decision": "approve"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
        ];
        assert!(statuses.iter().all(|s| *s == 404 || *s == 403), "{tenant}: {statuses:?}");
        let (_, list) = json_of(client.get(api("/claims".into())).send().await.unwrap()).await;
        assert!(list["total"].as_i64().unwrap_or(0) == 0, "{tenant}: {list}");
        let (_, groups) = json_of(client.get(api("/approvals/groups?kind=claim".into())).send().await.unwrap()).await;
        assert!(groups["items"].as_array().is_none_or(|g| g.is_empty()), "{tenant}: {groups}");
    }
    let (_, detail) = get(&staff, &s, "hunan", id).await;
    assert_eq!((detail["claim"]["status"].as_str(), detail["attachments"].as_array().unwrap().len()), (Some("submitted"), 1));
    let (_, detail) = get(&staff, &s, "hunan", draft).await;
    assert_eq!((detail["claim"]["status"].as_str(), detail["claim"]["fields"]["name"].as_str()), (Some("draft"), Some("一种教学演示装置")));
    assert_eq!(s.count("SELECT COUNT(*) FROM claim_attachments").await, 2);
}
both!(claim_routes_refuse_other_tenants, claim_routes_refuse_other_tenants);

/// Admins get one digest mail of new items in their queue, however many arrive meanwhile.
async fn reviewers_get_one_digest_of_new_items(s: TestServer) {
    let staff = s.demo("hunan", "staff", 101).await;
    for _ in 0..2 {
        let id = hunan_patent(&staff, &s).await;
        assert_eq!(act(&staff, &s, "hunan", id, "submit").await.0, 200);
    }
    assert_eq!(s.count("SELECT COUNT(*) FROM jobs WHERE kind = 'approvals.digest' AND state = 'queued'").await, 1, "one digest per queue");
    s.drain_jobs().await;
    assert_eq!(s.count("SELECT COUNT(*) FROM jobs WHERE kind = 'mail.send'").await, 0, "not before the digest delay");
    s.run_jobs_at(chrono::Utc::now() + chrono::Duration::hours(1)).await;
    let outbox: Vec<String> = std::fs::read_dir(s.data_dir.join("outbox"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|entry| std::fs::read(entry.path()).unwrap())
        .map(|raw| mail_text(&raw))
        .collect();
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    assert!(outbox[0].contains("学时申报审核：2 条"), "{}", outbox[0]);
}
both!(reviewers_get_one_digest_of_new_items, reviewers_get_one_digest_of_new_items);

/// Issue 22 §6: the form's activity types come grouped by the subjects they grant, in the plugin's
/// catalogue order and in the province's words (seed 001: 专业科目, 公共科目, 专业科目+公共科目).
async fn claim_form_groups_activity_types_by_subject(s: TestServer) {
    let staff = s.demo("hunan", "staff", 101).await;
    let html = staff.get(s.url("hunan", &format!("/claims/new?year={YEAR}"))).send().await.unwrap().text().await.unwrap();
    let groups: Vec<&str> = html.split("<optgroup label=\"").skip(1).map(|g| &g[..g.find('"').unwrap()]).collect();
    assert_eq!(groups, ["专业科目", "公共科目", "专业科目+公共科目"], "{html}");
    let public = &html[html.find("<optgroup label=\"公共科目\">").unwrap()..];
    let public = &public[..public.find("</optgroup>").unwrap()];
    assert!(public.contains(r#"<option value="cadre_training">干部教育培训</option>"#), "{public}");
    // The two 专业技术人员继续教育 types read apart.
    assert!(public.contains("专业技术人员继续教育培训（公共科目）"), "{public}");
    assert!(html.contains("专业技术人员继续教育（专业科目+公共科目）"), "{html}");

    let staff = s.demo("henan", "staff", 101).await;
    let html = staff.get(s.url("henan", &format!("/claims/new?year={YEAR}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("<optgroup label=\"公需科目或专业科目（任选其一）\">") && !html.contains("公共科目"), "{html}");
}
both!(claim_form_groups_activity_types_by_subject, claim_form_groups_activity_types_by_subject);

/// An upload named with path parts is stored under a generated key and keeps only a plain name: the
/// name cannot reach the storage's paths, and the download offers a name without separators.
async fn upload_names_with_path_parts_stay_plain_names(s: TestServer) {
    let staff = s.demo("hunan", "staff", 101).await;
    let body =
        json!({"year": YEAR, "activity": "patent", "fields": {"name": "路径测试", "start_date": "2025-03-01", "end_date": "2025-03-05"}});
    let (status, claim) = create(&staff, &s, "hunan", body).await;
    assert_eq!(status, 201, "{claim}");
    let id = claim["id"].as_i64().unwrap();
    let (status, body) = attach(&staff, &s, "hunan", id, "../../..\\windows/证书.pdf", PDF.to_vec()).await;
    assert_eq!(status, 201, "{body}");
    let attachment = body["id"].as_i64().unwrap();
    let (_, detail) = get(&staff, &s, "hunan", id).await;
    let name = detail["attachments"][0]["filename"].as_str().unwrap_or_else(|| panic!("{detail}")).to_owned();
    assert!(!name.contains(['/', '\\']), "{name:?}");
    assert!(name.ends_with("证书.pdf"), "{name:?}");
    let (key,): (String,) = s.db.one(q("SELECT storage_key FROM blobs ORDER BY id DESC LIMIT 1")).await.unwrap();
    assert!(key.starts_with("hunan/") && !key.contains("..") && !key.contains("证书"), "{key}");
    let res = staff.get(s.api("hunan", &format!("/claims/{id}/attachments/{attachment}"))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let disposition = res.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(!disposition.contains("%2F") && !disposition.contains("%5C") && !disposition.contains('/'), "{disposition}");
    assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);
}
both!(upload_names_with_path_parts_stay_plain_names, upload_names_with_path_parts_stay_plain_names);
