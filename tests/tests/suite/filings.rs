//! Offline training filings (issue 6 part 6, seed 002 备案表): units and authorities file an offline
//! training; the tenant's plugin routes it (Hunan: professional → supervising department, public → HR
//! department at the filer's level); the reviewer accepts or rejects it in the queue. Edit / withdraw /
//! delete rules, batch delete, per-field validation, pages, and that nobody outside sees anything.

use chrono::Datelike;
use jijiao::db::q;
use jijiao_tests::{TestServer, both, json_of};
use reqwest::Client;
use serde_json::{Value, json};

/// Filings and their queue rows other than the demo's (each tenant's hospital has one accepted filing).
const TEST_FILINGS: &str = "SELECT COUNT(*) FROM training_filings WHERE name NOT LIKE '%医德医风%'";
const TEST_FILING_STEPS: &str = "SELECT COUNT(*) FROM approvals WHERE kind = 'filing' AND summary NOT LIKE '%医德医风%'";

fn year() -> i32 {
    chrono::Utc::now().year()
}

/// A complete, valid filing (the seed's form).
fn body(subject: &str, name: &str) -> Value {
    let y = year();
    json!({
        "subject": subject, "name": name,
        "institution": "长沙市继续教育培训中心", "institution_address": "长沙市芙蓉中路 100 号", "postcode": "410005",
        "email": "train@example.com",
        "leader_name": "李明", "leader_title": "副校长", "leader_phone": "0731-82821099",
        "contact_name": "王芳", "contact_title": "教务干事", "contact_phone": "13812345678",
        "start_date": format!("{y}-07-01"), "end_date": format!("{y}-07-03"), "place": "学校报告厅",
        "scope": "全校专任教师", "participants": 120, "plan": "第一天：师德师风专题；第二天：课堂教学设计；第三天：考核。"
    })
}

async fn create(client: &Client, s: &TestServer, tenant: &str, body: &Value) -> (u16, Value) {
    json_of(client.post(s.api(tenant, "/filings")).json(body).send().await.unwrap()).await
}

async fn get(client: &Client, s: &TestServer, tenant: &str, id: i64) -> (u16, Value) {
    json_of(client.get(s.api(tenant, &format!("/filings/{id}"))).send().await.unwrap()).await
}

async fn list(client: &Client, s: &TestServer, tenant: &str, query: &str) -> (u16, Value) {
    json_of(client.get(s.api(tenant, &format!("/filings{query}"))).send().await.unwrap()).await
}

async fn put(client: &Client, s: &TestServer, tenant: &str, id: i64, body: &Value) -> (u16, Value) {
    json_of(client.put(s.api(tenant, &format!("/filings/{id}"))).json(body).send().await.unwrap()).await
}

async fn withdraw(client: &Client, s: &TestServer, tenant: &str, id: i64) -> (u16, Value) {
    json_of(client.post(s.api(tenant, &format!("/filings/{id}/withdraw"))).send().await.unwrap()).await
}

async fn delete(client: &Client, s: &TestServer, tenant: &str, id: i64) -> u16 {
    client.delete(s.api(tenant, &format!("/filings/{id}"))).send().await.unwrap().status().as_u16()
}

async fn delete_many(client: &Client, s: &TestServer, tenant: &str, ids: &[i64]) -> (u16, Value) {
    json_of(client.post(s.api(tenant, "/filings/deletions")).json(&json!({"ids": ids})).send().await.unwrap()).await
}

/// The caller's filing queue (`status`: pending, approved, rejected or all).
async fn queue(client: &Client, s: &TestServer, tenant: &str, status: &str) -> Vec<Value> {
    let (code, body) = json_of(client.get(s.api(tenant, &format!("/approvals?kind=filing&status={status}"))).send().await.unwrap()).await;
    assert_eq!(code, 200, "{body}");
    body["items"].as_array().cloned().unwrap_or_default()
}

async fn decide(client: &Client, s: &TestServer, tenant: &str, ids: &[i64], decision: &str, reason: Option<&str>) -> (u16, Value) {
    json_of(
        client
            .post(s.api(tenant, "/approvals/decisions"))
            .json(&json!({"ids": ids, "decision": decision, "reason": reason}))
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// The organisation of a demo account.
async fn demo_org(s: &TestServer, tenant: &str, seq: u32) -> i64 {
    s.db.scalar(
        q("SELECT org_id FROM accounts WHERE tenant_id = $1 AND id_number = $2")
            .bind(tenant)
            .bind(jijiao::demo::demo_id_number(tenant, seq)),
    )
    .await
    .unwrap()
}

fn filing_id(body: &Value) -> i64 {
    body["filing"]["id"].as_i64().unwrap_or_else(|| panic!("a filing in {body}"))
}

async fn message_titles(client: &Client, s: &TestServer, tenant: &str) -> Vec<String> {
    let (_, messages) = json_of(client.get(s.api(tenant, "/messages")).send().await.unwrap()).await;
    messages["items"].as_array().unwrap().iter().map(|m| m["title"].as_str().unwrap().to_owned()).collect()
}

async fn hunan_filings_go_to_the_right_department(s: TestServer) {
    let unit = s.demo("hunan", "unit", 201).await;
    let authority = s.demo("hunan", "authority", 401).await;
    let hr = s.demo("hunan", "hr", 501).await;
    let (authority_org, hr_org, school) =
        (demo_org(&s, "hunan", 401).await, demo_org(&s, "hunan", 501).await, demo_org(&s, "hunan", 201).await);

    // Professional → the school's supervising department.
    let (status, professional) = create(&unit, &s, "hunan", &body("professional", "新课标专题研修班")).await;
    assert_eq!(status, 201, "{professional}");
    let professional_id = filing_id(&professional);
    assert_eq!(professional["filing"]["status"], "pending");
    assert_eq!(professional["filing"]["org_id"], json!(school), "申报单位 is the filer's unit");
    assert_eq!(professional["steps"].as_array().unwrap().len(), 1, "{professional}");
    let items = queue(&authority, &s, "hunan", "pending").await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!((items[0]["approver_org_id"].as_i64(), items[0]["declaring_org_id"].as_i64()), (Some(authority_org), Some(school)));
    assert!(items[0]["summary"].as_str().unwrap().contains("新课标专题研修班"), "{items:?}");
    assert!(queue(&hr, &s, "hunan", "pending").await.is_empty(), "professional filings are not the HR bureau's");

    // Public → the HR department at the unit's level (the city bureau).
    let (status, public) = create(&unit, &s, "hunan", &body("public", "师德师风公需科目培训")).await;
    assert_eq!(status, 201, "{public}");
    let public_id = filing_id(&public);
    let hr_items = queue(&hr, &s, "hunan", "pending").await;
    assert_eq!(hr_items.len(), 1, "{hr_items:?}");
    assert_eq!(hr_items[0]["approver_org_id"].as_i64(), Some(hr_org));
    assert_eq!(queue(&authority, &s, "hunan", "pending").await.len(), 1);

    // The reviewer sees the form in the queue's detail and on the filing itself.
    let (status, detail) = json_of(authority.get(s.api("hunan", &format!("/approvals/{}", items[0]["id"]))).send().await.unwrap()).await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["subject"]["filing"]["name"], "新课标专题研修班");
    assert_eq!(detail["subject"]["filing"]["leader_phone"], "0731-82821099");
    let (status, seen) = get(&authority, &s, "hunan", professional_id).await;
    assert_eq!((status, seen["can_edit"].as_bool()), (200, Some(false)), "{seen}");
    assert_eq!(get(&hr, &s, "hunan", professional_id).await.0, 404, "not on its route");

    // Rejecting needs a reason; the filer is told.
    let (status, body_) = decide(&authority, &s, "hunan", &[items[0]["id"].as_i64().unwrap()], "reject", None).await;
    assert_eq!((status, body_["fields"]["reason"].is_string()), (422, true), "{body_}");
    assert_eq!(get(&unit, &s, "hunan", professional_id).await.1["filing"]["status"], "pending");
    let (status, body_) = decide(&authority, &s, "hunan", &[items[0]["id"].as_i64().unwrap()], "reject", Some("培训计划不完整")).await;
    assert_eq!(status, 200, "{body_}");
    let (_, rejected) = get(&unit, &s, "hunan", professional_id).await;
    assert_eq!((rejected["filing"]["status"].as_str(), rejected["can_edit"].as_bool()), (Some("rejected"), Some(true)), "{rejected}");
    assert!(message_titles(&unit, &s, "hunan").await.contains(&"线下培训备案未通过".to_owned()));
    // A return is for claims only.
    let (status, _) = decide(&hr, &s, "hunan", &[hr_items[0]["id"].as_i64().unwrap()], "return", Some("改")).await;
    assert_eq!(status, 422);

    // Accepting: accepted, the filer gets a message, the reviewer lists it among the approved.
    let (status, body_) = decide(&hr, &s, "hunan", &[hr_items[0]["id"].as_i64().unwrap()], "approve", None).await;
    assert_eq!(status, 200, "{body_}");
    let (_, accepted) = get(&unit, &s, "hunan", public_id).await;
    assert_eq!(accepted["filing"]["status"], "accepted", "{accepted}");
    assert!(accepted["filing"]["decided_at"].is_string());
    assert!(message_titles(&unit, &s, "hunan").await.contains(&"线下培训备案已受理".to_owned()));
    // (The demo's own accepted filing is in the same queue.)
    let approved = queue(&hr, &s, "hunan", "approved").await;
    assert_eq!(approved.iter().filter(|i| i["subject_id"].as_i64() == Some(public_id)).count(), 1, "{approved:?}");
    // Accepted is final.
    let (status, conflict) = put(&unit, &s, "hunan", public_id, &body("public", "改名")).await;
    assert_eq!((status, conflict["code"].as_str()), (409, Some("already_accepted")), "{conflict}");
    assert_eq!(withdraw(&unit, &s, "hunan", public_id).await.0, 409);
    assert_eq!(delete(&unit, &s, "hunan", public_id).await, 409);
    assert_eq!(get(&unit, &s, "hunan", public_id).await.1["filing"]["name"], "师德师风公需科目培训");

    // A rejected filing is edited and resubmitted as a new round; the subject change reroutes it.
    let (status, edited) = put(&unit, &s, "hunan", professional_id, &body("public", "新课标专题研修班（修订）")).await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!((edited["filing"]["status"].as_str(), edited["filing"]["round"].as_i64()), (Some("pending"), Some(2)));
    assert!(queue(&authority, &s, "hunan", "pending").await.is_empty());
    let hr_items = queue(&hr, &s, "hunan", "pending").await;
    assert_eq!(hr_items.len(), 1);
    assert_eq!(hr_items[0]["subject_id"].as_i64(), Some(professional_id));
    // Editing a pending filing closes its open step and opens a new one.
    let (status, _) = put(&unit, &s, "hunan", professional_id, &body("public", "新课标专题研修班（第三稿）")).await;
    assert_eq!(status, 200);
    let (status, stale) = decide(&hr, &s, "hunan", &[hr_items[0]["id"].as_i64().unwrap()], "approve", None).await;
    assert_eq!(status, 409, "the old round's step is closed: {stale}");
    let hr_items = queue(&hr, &s, "hunan", "pending").await;
    assert_eq!(hr_items.len(), 1);
    assert!(hr_items[0]["summary"].as_str().unwrap().contains("第三稿"));
    assert_eq!(s.count("SELECT COUNT(*) FROM approvals WHERE kind = 'filing' AND status = 'withdrawn'").await, 1);

    // Withdraw takes it out of the queue; then it can only be edited or deleted.
    let (status, withdrawn) = withdraw(&unit, &s, "hunan", professional_id).await;
    assert_eq!((status, withdrawn["filing"]["status"].as_str()), (200, Some("withdrawn")), "{withdrawn}");
    assert!(queue(&hr, &s, "hunan", "pending").await.is_empty());
    let (status, again) = withdraw(&unit, &s, "hunan", professional_id).await;
    assert_eq!((status, again["code"].as_str()), (409, Some("not_pending")));
    assert_eq!(delete(&unit, &s, "hunan", professional_id).await, 204);
    assert_eq!(get(&unit, &s, "hunan", professional_id).await.0, 404);
    assert_eq!(delete(&unit, &s, "hunan", professional_id).await, 404);

    // The list shows what is left, with its filters.
    let (status, listed) = list(&unit, &s, "hunan", "").await;
    assert_eq!((status, listed["total"].as_i64()), (200, Some(1)), "{listed}");
    assert_eq!(list(&unit, &s, "hunan", "?status=accepted&subject=public").await.1["total"], 1);
    assert_eq!(list(&unit, &s, "hunan", "?subject=professional").await.1["total"], 0);
    assert_eq!(list(&unit, &s, "hunan", &format!("?year={}", year() - 1)).await.1["total"], 0);
    assert_eq!(list(&unit, &s, "hunan", &format!("?year={}&q=师德", year())).await.1["total"], 1);
    assert_eq!(list(&unit, &s, "hunan", "?status=nonsense").await.0, 422);

    // Every change is audited.
    let (_, detail) = get(&unit, &s, "hunan", public_id).await;
    let actions: Vec<&str> = detail["trail"].as_array().unwrap().iter().map(|t| t["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["filing.created", "filing.accepted"]);
    for action in ["filing.created", "filing.updated", "filing.rejected", "filing.withdrawn", "filing.deleted", "filing.accepted"] {
        assert!(s.count(&format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}'")).await >= 1, "{action}");
    }
}
both!(hunan_filings_go_to_the_right_department, hunan_filings_go_to_the_right_department);

async fn bad_input_is_refused_per_field(s: TestServer) {
    let unit = s.demo("hunan", "unit", 201).await;
    let (status, err) = create(&unit, &s, "hunan", &json!({})).await;
    assert_eq!(status, 422, "{err}");
    for field in [
        "subject",
        "institution",
        "institution_address",
        "postcode",
        "leader_name",
        "leader_title",
        "leader_phone",
        "contact_name",
        "contact_title",
        "contact_phone",
        "name",
        "start_date",
        "end_date",
        "place",
        "scope",
        "participants",
        "plan",
    ] {
        assert!(err["fields"][field].is_string(), "{field} in {err}");
    }
    assert!(err["fields"]["email"].is_null(), "E-mail is optional: {err}");
    assert_eq!(err["fields"]["institution"], "请填写培训机构");

    let y = year();
    let mut bad = body("elective", "x");
    for (key, value) in [
        ("postcode", json!("4100")),
        ("email", json!("train@")),
        ("leader_phone", json!("12345")),
        ("contact_phone", json!("1381234567a")),
        ("start_date", json!(format!("{y}-07-05"))),
        ("end_date", json!(format!("{y}-07-01"))),
        ("participants", json!(0)),
        ("plan", json!("计".repeat(2001))),
        ("name", json!("名".repeat(101))),
    ] {
        bad[key] = value;
    }
    let (status, err) = create(&unit, &s, "hunan", &bad).await;
    assert_eq!(status, 422, "{err}");
    let fields = &err["fields"];
    assert_eq!(fields["subject"], "请选择培训科目：公共科目或专业科目");
    assert_eq!(fields["postcode"], "邮编应为 6 位数字");
    assert_eq!(fields["email"], "E-mail 格式不正确");
    assert!(fields["leader_phone"].as_str().unwrap().contains("格式不正确"), "{err}");
    assert!(fields["contact_phone"].as_str().unwrap().contains("格式不正确"), "{err}");
    assert_eq!(fields["end_date"], "结束日期不能早于开始日期");
    assert_eq!(fields["participants"], "培训人数应为 1 至 100000 的整数");
    assert_eq!(fields["plan"], "培训计划不能超过 2000 字");
    assert_eq!(fields["name"], "培训名称不能超过 100 字");
    let mut far = body("public", "远期培训");
    far["start_date"] = json!("1999-01-01");
    far["end_date"] = json!("2019-02-30");
    far["participants"] = json!(100_001);
    let (status, err) = create(&unit, &s, "hunan", &far).await;
    assert_eq!(status, 422);
    assert!(err["fields"]["start_date"].as_str().unwrap().contains("培训时间应在"), "{err}");
    assert_eq!(err["fields"]["end_date"], "日期格式应为 YYYY-MM-DD", "no 30 February");
    assert!(err["fields"]["participants"].is_string());
    assert_eq!(s.count(TEST_FILINGS).await, 0);
    assert_eq!(s.count(TEST_FILING_STEPS).await, 0);

    // An edit with bad input changes nothing either.
    let (_, created) = create(&unit, &s, "hunan", &body("professional", "原名称")).await;
    let id = filing_id(&created);
    let mut broken = body("professional", "新名称");
    broken["participants"] = json!(-3);
    assert_eq!(put(&unit, &s, "hunan", id, &broken).await.0, 422);
    let (_, after) = get(&unit, &s, "hunan", id).await;
    assert_eq!((after["filing"]["name"].as_str(), after["filing"]["round"].as_i64()), (Some("原名称"), Some(1)));
    assert_eq!(s.count("SELECT COUNT(*) FROM approvals WHERE kind = 'filing' AND status = 'pending'").await, 1);
}
both!(bad_input_is_refused_per_field, bad_input_is_refused_per_field);

async fn batch_delete_is_all_or_nothing(s: TestServer) {
    let unit = s.demo("hunan", "unit", 201).await;
    let hospital = s.demo("hunan", "unit", 202).await;
    let authority = s.demo("hunan", "authority", 401).await;
    let mut ids = Vec::new();
    for name in ["一", "二", "三"] {
        let (status, created) = create(&unit, &s, "hunan", &body("professional", &format!("专业培训{name}"))).await;
        assert_eq!(status, 201, "{created}");
        ids.push(filing_id(&created));
    }
    let (_, other) = create(&hospital, &s, "hunan", &body("professional", "医院的培训")).await;
    let other = filing_id(&other);
    // The authority accepts the third.
    let items = queue(&authority, &s, "hunan", "pending").await;
    let third = items.iter().find(|i| i["subject_id"].as_i64() == Some(ids[2])).unwrap()["id"].as_i64().unwrap();
    assert_eq!(decide(&authority, &s, "hunan", &[third], "approve", None).await.0, 200);

    let live = "SELECT COUNT(*) FROM training_filings WHERE status <> 'deleted' AND name NOT LIKE '%医德医风%'";
    let (status, err) = delete_many(&unit, &s, "hunan", &ids).await;
    assert_eq!((status, err["code"].as_str()), (409, Some("already_accepted")), "{err}");
    assert_eq!(s.count(live).await, 4, "nothing deleted");
    let (status, _) = delete_many(&unit, &s, "hunan", &[ids[0], ids[1], other]).await;
    assert_eq!(status, 404, "another unit's filing");
    assert_eq!(s.count(live).await, 4, "nothing deleted");
    assert_eq!(delete_many(&unit, &s, "hunan", &[]).await.0, 422);
    let (status, done) = delete_many(&unit, &s, "hunan", &[ids[0], ids[1], ids[1]]).await;
    assert_eq!((status, done["deleted"].as_i64()), (200, Some(2)), "{done}");
    assert_eq!(s.count(live).await, 2);
    // Their queue rows are closed with them; the hospital's (it has no supervising department, so its
    // HR bureau takes it) is untouched.
    assert!(queue(&authority, &s, "hunan", "pending").await.is_empty());
    assert_eq!(s.count("SELECT COUNT(*) FROM approvals WHERE kind = 'filing' AND status = 'withdrawn'").await, 2);
    assert_eq!(queue(&s.demo("hunan", "hr", 501).await, &s, "hunan", "pending").await.len(), 1);
    assert_eq!(s.count("SELECT COUNT(*) FROM audit_log WHERE action = 'filing.deleted'").await, 2);
}
both!(batch_delete_is_all_or_nothing, batch_delete_is_all_or_nothing);

async fn nobody_outside_sees_anything(s: TestServer) {
    let unit = s.demo("hunan", "unit", 201).await;
    let (_, created) = create(&unit, &s, "hunan", &body("professional", "湖南的备案")).await;
    let id = filing_id(&created);
    let authority = s.demo("hunan", "authority", 401).await;
    let approval = queue(&authority, &s, "hunan", "pending").await[0]["id"].as_i64().unwrap();

    // Staff of the same unit: not theirs to file or read.
    let staff = s.demo("hunan", "staff", 101).await;
    assert_eq!(list(&staff, &s, "hunan", "").await.0, 403);
    assert_eq!(create(&staff, &s, "hunan", &body("public", "x")).await.0, 403);
    assert_eq!(get(&staff, &s, "hunan", id).await.0, 403);
    assert_eq!(put(&staff, &s, "hunan", id, &body("public", "x")).await.0, 403);
    assert_eq!(delete(&staff, &s, "hunan", id).await, 403);
    assert_eq!(decide(&staff, &s, "hunan", &[approval], "approve", None).await.0, 403);

    // Another unit of the same tenant, and the HR bureau (not on this filing's route): nothing.
    let hospital = s.demo("hunan", "unit", 202).await;
    let hr = s.demo("hunan", "hr", 501).await;
    let (status, listed) = list(&hospital, &s, "hunan", "").await;
    assert_eq!(status, 200);
    assert!(listed["items"].as_array().unwrap().iter().all(|f| f["id"].as_i64() != Some(id)), "{listed}");
    for client in [&hospital, &hr] {
        assert_eq!(get(client, &s, "hunan", id).await.0, 404);
    }
    assert_eq!(put(&hospital, &s, "hunan", id, &body("public", "改")).await.0, 404);
    assert_eq!(withdraw(&hospital, &s, "hunan", id).await.0, 404);
    assert_eq!(delete(&hospital, &s, "hunan", id).await, 404);
    assert_eq!(delete_many(&hospital, &s, "hunan", &[id]).await.0, 404);
    assert_eq!(decide(&hospital, &s, "hunan", &[approval], "approve", None).await.0, 403, "units do not review filings");
    assert_eq!(decide(&hr, &s, "hunan", &[approval], "approve", None).await.0, 404, "not in the HR bureau's queue");
    assert!(queue(&hr, &s, "hunan", "all").await.iter().all(|i| i["subject_id"].as_i64() != Some(id)));

    // Henan and Hubei: their unit, authority and province admins get 404 or an empty list.
    for tenant in ["henan", "hubei"] {
        let other_unit = s.demo(tenant, "unit", 201).await;
        let other_authority = s.demo(tenant, "authority", 401).await;
        let other_province = s.demo(tenant, "province", 601).await;
        let (status, listed) = list(&other_unit, &s, tenant, "").await;
        assert_eq!((status, listed["total"].as_i64()), (200, Some(0)), "{tenant}");
        for client in [&other_unit, &other_authority, &other_province] {
            assert_eq!(get(client, &s, tenant, id).await.0, 404, "{tenant}");
        }
        for client in [&other_authority, &other_province] {
            assert!(queue(client, &s, tenant, "all").await.is_empty(), "{tenant}");
        }
        assert_eq!(put(&other_unit, &s, tenant, id, &body("public", "改")).await.0, 404, "{tenant}");
        assert_eq!(withdraw(&other_unit, &s, tenant, id).await.0, 404, "{tenant}");
        assert_eq!(delete(&other_unit, &s, tenant, id).await, 404, "{tenant}");
        assert_eq!(delete_many(&other_unit, &s, tenant, &[id]).await.0, 404, "{tenant}");
        for client in [&other_authority, &other_province] {
            assert_eq!(decide(client, &s, tenant, &[approval], "approve", None).await.0, 404, "{tenant}");
            assert_eq!(decide(client, &s, tenant, &[approval], "reject", Some("x")).await.0, 404, "{tenant}");
        }
        let res = other_authority.get(s.url(tenant, &format!("/filings/{id}"))).send().await.unwrap();
        assert_eq!(res.status(), 404, "{tenant} page");
        // The session is not one in Hunan.
        assert_eq!(get(&other_unit, &s, "hunan", id).await.0, 401);
    }
    let (_, after) = get(&unit, &s, "hunan", id).await;
    assert_eq!((after["filing"]["status"].as_str(), after["filing"]["name"].as_str()), (Some("pending"), Some("湖南的备案")));
    assert_eq!(s.count("SELECT COUNT(*) FROM approvals WHERE kind = 'filing' AND status = 'pending'").await, 1);
}
both!(nobody_outside_sees_anything, nobody_outside_sees_anything);

/// Henan lets the unit choose who decides a professional filing (seed 003); Hubei's supervising
/// department audits everything (seed 004).
async fn henan_and_hubei_route_by_their_plugins(s: TestServer) {
    let unit = s.demo("henan", "unit", 201).await;
    let (status, err) = create(&unit, &s, "henan", &body("professional", "河南专业培训")).await;
    assert_eq!(status, 422, "{err}");
    assert!(err["fields"]["choice"].as_str().unwrap().contains("请选择审批部门"), "{err}");
    let mut public = body("public", "河南公需培训");
    public["choice"] = json!("authority");
    let (status, err) = create(&unit, &s, "henan", &public).await;
    assert_eq!((status, err["fields"]["choice"].is_string()), (422, true), "{err}");
    let mut bogus = body("professional", "河南专业培训");
    bogus["choice"] = json!("mayor");
    assert_eq!(create(&unit, &s, "henan", &bogus).await.1["fields"]["choice"], "审批部门无效：请选择行业主管部门或同级人社部门");
    assert_eq!(s.count(TEST_FILINGS).await, 0);

    let mut chosen = body("professional", "河南专业培训");
    chosen["choice"] = json!("hr_bureau");
    let (status, created) = create(&unit, &s, "henan", &chosen).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["filing"]["route_choice"], "hr_bureau");
    let hr = s.demo("henan", "hr", 501).await;
    let items = queue(&hr, &s, "henan", "pending").await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["approver_org_id"].as_i64(), Some(demo_org(&s, "henan", 501).await));
    assert!(queue(&s.demo("henan", "authority", 401).await, &s, "henan", "pending").await.is_empty());

    let hubei = s.demo("hubei", "unit", 201).await;
    let (status, created) = create(&hubei, &s, "hubei", &body("public", "湖北公需培训")).await;
    assert_eq!(status, 201, "{created}");
    let authority = s.demo("hubei", "authority", 401).await;
    let items = queue(&authority, &s, "hubei", "pending").await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["approver_org_id"].as_i64(), Some(demo_org(&s, "hubei", 401).await));
    assert_eq!(decide(&authority, &s, "hubei", &[items[0]["id"].as_i64().unwrap()], "approve", None).await.0, 200);
    assert_eq!(get(&hubei, &s, "hubei", filing_id(&created)).await.1["filing"]["status"], "accepted");

    // An authority files too (seed: 申报单位 may be a supervising department).
    let hunan_authority = s.demo("hunan", "authority", 401).await;
    let (status, created) = create(&hunan_authority, &s, "hunan", &body("public", "厅局公需培训")).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["filing"]["org_id"].as_i64(), Some(demo_org(&s, "hunan", 401).await));
}
both!(henan_and_hubei_route_by_their_plugins, henan_and_hubei_route_by_their_plugins);

fn csrf_in(html: &str) -> String {
    let re = regex::Regex::new(r#"name="csrf_token" value="([^"]+)""#).unwrap();
    re.captures(html).expect("a form with a CSRF token")[1].to_owned()
}

/// The page form's fields for `body`.
fn form_of(body: &Value, csrf: &str) -> Vec<(String, String)> {
    let mut form: Vec<(String, String)> = body
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())))
        .collect();
    form.push(("csrf_token".to_owned(), csrf.to_owned()));
    form
}

async fn page(client: &Client, url: String) -> (u16, String) {
    let res = client.get(url).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

fn location(res: &reqwest::Response) -> String {
    res.headers().get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default()
}

async fn pages_round_trip(s: TestServer) {
    let unit = s.demo("hunan", "unit", 201).await;
    let (status, html) = page(&unit, s.url("hunan", "/filings")).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains(">线下培训备案</a>"), "in the unit admin's menu");
    assert!(html.contains("本单位还没有线下培训备案") && html.contains("新增备案") && html.contains("name=\"plan\""), "{html}");
    assert!(html.contains("第一中学"), "申报单位 shown: {html}");
    let csrf = csrf_in(&html);

    // A validation error re-renders the form with the Chinese message and what was typed.
    let mut bad = body("professional", "页面提交的培训");
    bad["postcode"] = json!("41");
    let res = unit.post(s.url("hunan", "/filings")).form(&form_of(&bad, &csrf)).send().await.unwrap();
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("邮编应为 6 位数字") && html.contains("value=\"页面提交的培训\""), "{html}");
    assert_eq!(s.count(TEST_FILINGS).await, 0);
    // Without the CSRF token nothing happens.
    let res = unit.post(s.url("hunan", "/filings")).form(&[("name", "x")]).send().await.unwrap();
    assert_eq!(res.status(), 403);

    let res = unit.post(s.url("hunan", "/filings")).form(&form_of(&body("professional", "页面提交的培训"), &csrf)).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let to = location(&res);
    assert!(to.contains("/filings/") && to.contains("done=submitted"), "{to}");
    let id: i64 = regex::Regex::new(r"/filings/(\d+)").unwrap().captures(&to).unwrap()[1].parse().unwrap();
    let (status, html) = page(&unit, s.url("hunan", &format!("/filings/{id}"))).await;
    assert_eq!(status, 200, "{html}");
    for text in [
        "事业单位工作人员线下培训备案表",
        "页面提交的培训",
        "☑ 专业科目",
        "☐ 公共科目",
        "0731-82821099",
        "待受理",
        "撤回",
        "修改并重新提交",
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
    let (status, html) = page(&unit, s.url("hunan", "/filings?status=pending")).await;
    assert_eq!(status, 200);
    assert!(html.contains("页面提交的培训") && html.contains("批量删除所选"), "{html}");

    // Edit on the page: the form comes filled in; a bad value re-renders it, a good one resubmits.
    let (status, html) = page(&unit, s.url("hunan", &format!("/filings/{id}/edit"))).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("value=\"页面提交的培训\"") && html.contains("保存并重新提交") && html.contains("value=\"120\""), "{html}");
    let mut edited = body("professional", "页面修改后的培训");
    edited["participants"] = json!("很多");
    let res = unit.post(s.url("hunan", &format!("/filings/{id}/edit"))).form(&form_of(&edited, &csrf)).send().await.unwrap();
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("培训人数应为 1 至 100000 的整数"));
    edited["participants"] = json!("80");
    let res = unit.post(s.url("hunan", &format!("/filings/{id}/edit"))).form(&form_of(&edited, &csrf)).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(get(&unit, &s, "hunan", id).await.1["filing"]["participants"], 80);

    // The reviewer's queue and detail pages show the filing as the seed's form.
    let authority = s.demo("hunan", "authority", 401).await;
    let (status, html) = page(&authority, s.url("hunan", "/approvals?kind=filing")).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains(">备案审核</a>") && html.contains("页面修改后的培训"), "{html}");
    let approval = queue(&authority, &s, "hunan", "pending").await[0]["id"].as_i64().unwrap();
    let (status, html) = page(&authority, s.url("hunan", &format!("/approvals/{approval}"))).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("事业单位工作人员线下培训备案表") && html.contains("页面修改后的培训") && html.contains("（80 人）"), "{html}");
    let (status, html) = page(&authority, s.url("hunan", &format!("/filings/{id}"))).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("返回备案审核") && !html.contains(&format!("/filings/{id}/edit")) && !html.contains("/withdraw"),
        "no filer's actions: {html}"
    );

    // Withdraw, then delete from the list's batch form.
    let res = unit.post(s.url("hunan", &format!("/filings/{id}/withdraw"))).form(&[("csrf_token", csrf.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert!(page(&unit, s.url("hunan", &format!("/filings/{id}"))).await.1.contains("已撤回"));
    let res = unit.post(s.url("hunan", "/filings/delete")).form(&[("csrf_token", csrf.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), 422, "nothing selected");
    let res =
        unit.post(s.url("hunan", "/filings/delete")).form(&[("csrf_token", csrf.as_str()), ("ids", &id.to_string())]).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert!(location(&res).contains("done=deleted&count=1"));
    assert_eq!(page(&unit, s.url("hunan", &format!("/filings/{id}"))).await.0, 404);

    // Staff have no such page, nor the menu entry.
    let staff = s.demo("hunan", "staff", 101).await;
    assert_eq!(page(&staff, s.url("hunan", "/filings")).await.0, 403);
    assert!(!page(&staff, s.url("hunan", "/")).await.1.contains("线下培训备案"));
    // The system admin's wildcard grant does not put a filing form in its menu.
    let system = s.demo("hunan", "system", 701).await;
    assert!(!page(&system, s.url("hunan", "/")).await.1.contains(">线下培训备案</a>"));

    // Every API route is in the OpenAPI document.
    let (_, doc) = json_of(s.client().get(format!("{}/api/openapi.json", s.base)).send().await.unwrap()).await;
    for (path, method) in [
        ("/t/{tenant}/api/v1/filings", "get"),
        ("/t/{tenant}/api/v1/filings", "post"),
        ("/t/{tenant}/api/v1/filings/deletions", "post"),
        ("/t/{tenant}/api/v1/filings/{id}", "get"),
        ("/t/{tenant}/api/v1/filings/{id}", "put"),
        ("/t/{tenant}/api/v1/filings/{id}", "delete"),
        ("/t/{tenant}/api/v1/filings/{id}/withdraw", "post"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path} missing from the OpenAPI document");
    }
}
both!(pages_round_trip, pages_round_trip);

/// A sheet of participants with the Chinese headers.
fn roster_sheet(rows: &[[&str; 3]]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (col, header) in ["身份证号", "姓名", "学时"].iter().enumerate() {
        sheet.write_string(0, col as u16, *header).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            sheet.write_string(r as u32 + 1, c as u16, *cell).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

async fn upload_sheet(client: &Client, s: &TestServer, id: i64, filename: &str, bytes: Vec<u8>) -> (u16, Value) {
    let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(bytes).file_name(filename.to_owned()));
    json_of(client.post(s.api("hunan", &format!("/filings/{id}/roster"))).multipart(form).send().await.unwrap()).await
}

async fn upload_rows(client: &Client, s: &TestServer, id: i64, rows: Value) -> (u16, Value) {
    json_of(client.post(s.api("hunan", &format!("/filings/{id}/roster"))).json(&json!({"rows": rows})).send().await.unwrap()).await
}

async fn roster_queue(client: &Client, s: &TestServer) -> Vec<Value> {
    let (code, body) = json_of(client.get(s.api("hunan", "/approvals?kind=filing_roster&status=pending")).send().await.unwrap()).await;
    assert_eq!(code, 200, "{body}");
    body["items"].as_array().cloned().unwrap_or_default()
}

/// A demo staff member's ID number and name.
async fn person(s: &TestServer, seq: u32) -> (String, String) {
    let id = jijiao::demo::demo_id_number("hunan", seq);
    let name: (String,) =
        s.db.one(q("SELECT name FROM people WHERE tenant_id = 'hunan' AND id_number = $1").bind(id.clone())).await.unwrap();
    (id, name.0)
}

/// Issue 18 §6: once a filing is accepted its unit uploads who took part and their hours; the bureau that
/// accepted it confirms the list, and the people get offline credits sourced to the filing, once.
async fn accepted_filing_credits_its_confirmed_roster(s: TestServer) {
    let unit = s.demo("hunan", "unit", 201).await;
    let hr = s.demo("hunan", "hr", 501).await;
    let (teacher_id, teacher) = person(&s, 101).await;
    let (nurse_id, nurse) = person(&s, 102).await;
    let (_, filed) = create(&unit, &s, "hunan", &body("public", "暑期公需科目集中培训")).await;
    let id = filing_id(&filed);
    let stored = "SELECT (SELECT COUNT(*) FROM filing_rosters) + (SELECT COUNT(*) FROM filing_roster_rows)";

    // Not before the filing is accepted.
    let (status, answer) = upload_rows(&unit, &s, id, json!([{"id_number": teacher_id, "name": teacher, "hours": 12}])).await;
    assert_eq!((status, answer["code"].as_str()), (409, Some("not_accepted")), "{answer}");
    let filing_item = queue(&hr, &s, "hunan", "pending").await.into_iter().find(|i| i["subject_id"] == json!(id)).unwrap();
    assert_eq!(decide(&hr, &s, "hunan", &[filing_item["id"].as_i64().unwrap()], "approve", None).await.0, 200);

    // Every row is checked first; any problem stores nothing and names every row's.
    let henan_staff = jijiao::demo::demo_id_number("henan", 101);
    let (status, answer) = upload_rows(
        &unit,
        &s,
        id,
        json!([
            {"id_number": teacher_id, "name": teacher, "hours": 25},
            {"id_number": henan_staff, "name": "某人", "hours": 8},
            {"id_number": nurse_id, "name": "别人", "hours": 8},
            {"id_number": teacher_id, "name": teacher, "hours": 4},
            {"id_number": "12345", "name": "甲", "hours": "abc"},
        ]),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    let problems: Vec<(i64, String)> =
        answer["rows"].as_array().unwrap().iter().map(|p| (p["row"].as_i64().unwrap(), p["field"].as_str().unwrap().to_owned())).collect();
    let expected: Vec<(i64, String)> = [(1, "hours"), (2, "id_number"), (3, "name"), (4, "id_number"), (5, "id_number"), (5, "hours")]
        .iter()
        .map(|(r, f)| (*r, (*f).to_owned()))
        .collect();
    assert_eq!(problems, expected, "{answer}");
    assert!(answer.to_string().contains("学时不能超过 24"), "3 days × 8: {answer}");
    for (name, bytes) in [("名单.pdf", PDF_BYTES.to_vec()), ("名单.xls", b"\xd0\xcf\x11\xe0".to_vec()), ("名单.xlsx", roster_sheet(&[]))]
    {
        let (status, answer) = upload_sheet(&unit, &s, id, name, bytes).await;
        assert_eq!(status, 422, "{name}: {answer}");
        assert!(answer["fields"]["file"].is_string(), "{name}: {answer}");
    }
    let too_many: Vec<Value> = (0..121).map(|_| json!({"id_number": teacher_id, "name": teacher, "hours": 1})).collect();
    let (status, answer) = upload_rows(&unit, &s, id, json!(too_many)).await;
    assert!(status == 422 && answer["fields"]["file"].as_str().unwrap().contains("超过备案的培训人数"), "{answer}");
    assert_eq!(s.count(stored).await, 0, "nothing stored");

    // A good sheet waits for the bureau that accepted the filing; a second one is refused.
    let sheet = roster_sheet(&[[&teacher_id, &teacher, "12"], [&nurse_id, &nurse, "24"]]);
    let (status, roster) = upload_sheet(&unit, &s, id, "参训名单.xlsx", sheet.clone()).await;
    assert_eq!(status, 201, "{roster}");
    assert_eq!(
        (roster["status"].as_str(), roster["people"].as_i64(), roster["hours_text"].as_str()),
        (Some("pending"), Some(2), Some("36"))
    );
    let (status, answer) = upload_sheet(&unit, &s, id, "参训名单.xlsx", sheet).await;
    assert_eq!((status, answer["code"].as_str()), (409, Some("roster_exists")), "{answer}");
    let items = roster_queue(&hr, &s).await;
    assert_eq!(items.len(), 1, "{items:?}");
    let authority = s.demo("hunan", "authority", 401).await;
    assert!(roster_queue(&authority, &s).await.is_empty(), "only the accepting bureau confirms");
    let (_, detail) = json_of(hr.get(s.api("hunan", &format!("/approvals/{}", items[0]["id"]))).send().await.unwrap()).await;
    assert_eq!(detail["subject"]["total"], 2, "{detail}");
    assert_eq!(detail["subject"]["participants"][0]["hours_text"], "12", "{detail}");
    let html = hr.get(s.url("hunan", &format!("/approvals/{}", items[0]["id"]))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("参训人员学时名单") && html.contains("暑期公需科目集中培训"), "{html}");

    // Returned with a reason; the unit corrects it on the page (typed lines) and sends it again.
    let (status, answer) = decide(&hr, &s, "hunan", &[items[0]["id"].as_i64().unwrap()], "reject", Some("护士学时有误")).await;
    assert_eq!(status, 200, "{answer}");
    assert!(message_titles(&unit, &s, "hunan").await.contains(&"线下培训学时名单被退回".to_owned()));
    let html = unit.get(s.url("hunan", &format!("/filings/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("已退回") && html.contains("护士学时有误") && html.contains("上传名单"), "{html}");
    let lines = format!("{teacher_id} {teacher} 12\n{nurse_id}，{nurse}，30");
    let form = [("csrf_token", csrf_in(&html)), ("lines", lines)];
    let res = unit.post(s.url("hunan", &format!("/filings/{id}/roster"))).multipart(multipart_of(&form)).send().await.unwrap();
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("学时不能超过 24") && html.contains(&format!("{nurse_id}，{nurse}，30")), "{html}");
    let form = [("csrf_token", csrf_in(&html)), ("lines", format!("{teacher_id} {teacher} 12\n\n{nurse_id}\t{nurse}\t16"))];
    let res = unit.post(s.url("hunan", &format!("/filings/{id}/roster"))).multipart(multipart_of(&form)).send().await.unwrap();
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());

    // Confirmed: both get offline credits for the filing's year and subject; nothing more can be sent.
    let items = roster_queue(&hr, &s).await;
    assert_eq!(decide(&hr, &s, "hunan", &[items[0]["id"].as_i64().unwrap()], "approve", None).await.0, 200);
    let credits: Vec<(String, i64, String, Option<String>, i64)> = s
        .db
        .all(
            q("SELECT c.source, c.hours, c.subject, c.course, c.year FROM credits c JOIN people p ON p.tenant_id = c.tenant_id AND p.id = c.person_id \
               WHERE c.tenant_id = 'hunan' AND c.source_ref LIKE $1 ORDER BY p.id_number = $2 DESC")
            .bind(format!("filing:{id}:%"))
            .bind(teacher_id.clone()),
        )
        .await
        .unwrap();
    assert_eq!(credits.len(), 2, "{credits:?}");
    assert_eq!(credits[0], ("offline".to_owned(), 1200, "public".to_owned(), Some("暑期公需科目集中培训".to_owned()), i64::from(year())));
    assert_eq!(credits[1].1, 1600);
    let (status, answer) = upload_rows(&unit, &s, id, json!([{"id_number": teacher_id, "name": teacher, "hours": 1}])).await;
    assert_eq!((status, answer["code"].as_str()), (409, Some("roster_confirmed")), "{answer}");
    assert!(message_titles(&unit, &s, "hunan").await.contains(&"线下培训学时已确认".to_owned()));
    let (_, view) = json_of(unit.get(s.api("hunan", &format!("/filings/{id}/roster"))).send().await.unwrap()).await;
    assert_eq!((view["roster"]["status"].as_str(), view["can_upload"].as_bool()), (Some("confirmed"), Some(false)), "{view}");

    // Nobody else sees or sends a list.
    let other_unit = s.demo("hunan", "unit", 202).await;
    let teacher_client = s.demo("hunan", "staff", 101).await;
    let elsewhere = s.demo("henan", "unit", 201).await;
    for (client, tenant, expected) in [(&other_unit, "hunan", 404), (&teacher_client, "hunan", 403), (&elsewhere, "henan", 404)] {
        let res = client.get(s.api(tenant, &format!("/filings/{id}/roster"))).send().await.unwrap();
        assert_eq!(res.status().as_u16(), expected, "{tenant}");
        let res = client.post(s.api(tenant, &format!("/filings/{id}/roster"))).json(&json!({"rows": []})).send().await.unwrap();
        assert_eq!(res.status().as_u16(), expected, "{tenant}");
        let res = client.post(s.api(tenant, &format!("/filings/{id}/roster/withdraw"))).send().await.unwrap();
        assert_eq!(res.status().as_u16(), expected, "{tenant}");
    }
}
both!(accepted_filing_credits_its_confirmed_roster, accepted_filing_credits_its_confirmed_roster);

/// A multipart form of text fields (the roster form posts multipart, for its file).
fn multipart_of(fields: &[(&str, String)]) -> reqwest::multipart::Form {
    fields.iter().fold(reqwest::multipart::Form::new(), |form, (k, v)| form.text((*k).to_owned(), v.clone()))
}

const PDF_BYTES: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF";
