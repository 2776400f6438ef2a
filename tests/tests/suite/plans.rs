//! Subject catalogues and training plans (issue 6 part 5): who keeps which subjects, plans checked
//! against the subjects offered, routed by the rules plugin (Henan: public → HR bureau, professional →
//! authority or HR bureau as chosen), edited as new rounds, deleted while not approved, approved or
//! rejected in the queue; nobody outside the institution or the tenant sees any of it.

use jijiao_tests::training::{YEAR, approved_plan, plan_body, subject};
use jijiao_tests::{TestServer, both, json_of};
use reqwest::Client;
use serde_json::{Value, json};

use crate::common::csrf_in;

async fn post(client: &Client, url: String, body: Value) -> (u16, Value) {
    json_of(client.post(url).json(&body).send().await.unwrap()).await
}

async fn put(client: &Client, url: String, body: Value) -> (u16, Value) {
    json_of(client.put(url).json(&body).send().await.unwrap()).await
}

async fn get(client: &Client, url: String) -> (u16, Value) {
    json_of(client.get(url).send().await.unwrap()).await
}

/// The caller's pending plan approvals.
async fn plan_queue(client: &Client, s: &TestServer, tenant: &str) -> Vec<Value> {
    let (status, body) = get(client, s.api(tenant, "/approvals?kind=plan")).await;
    assert_eq!(status, 200, "{body}");
    body["items"].as_array().cloned().unwrap_or_default()
}

fn in_queue(queue: &[Value], plan: i64) -> Option<Value> {
    queue.iter().find(|a| a["subject_type"] == "training_plan" && a["subject_id"] == json!(plan)).cloned()
}

async fn plans_stored(s: &TestServer) -> i64 {
    s.count("SELECT COUNT(*) FROM training_plans").await
}

async fn subjects_per_role(s: TestServer) {
    // The demo catalogue and plan load idempotently.
    let (subjects, plans) = (s.count("SELECT COUNT(*) FROM training_subjects").await, plans_stored(&s).await);
    assert!(subjects >= 15 && plans >= 3, "five subjects for two years and one approved plan per tenant: {subjects}, {plans}");
    jijiao::demo::load(&s.db).await.unwrap();
    assert_eq!((s.count("SELECT COUNT(*) FROM training_subjects").await, plans_stored(&s).await), (subjects, plans));
    let province = s.demo("henan", "province", 601).await;
    let authority = s.demo("henan", "authority", 401).await;
    let before = s.count("SELECT COUNT(*) FROM training_subjects").await;

    // Public subjects by the province, professional ones by the authority; the kind follows the keeper.
    let (status, public) = post(
        &province,
        s.api("henan", "/subjects"),
        json!({"name": "乡村振兴战略解读", "year": YEAR, "major": "公共管理", "suggestion": "结合本地实例讲授"}),
    )
    .await;
    assert_eq!(status, 201, "{public}");
    assert_eq!((public["kind"].as_str(), public["enabled"].as_bool()), (Some("public"), Some(true)), "{public}");
    assert!(public["owner_name"].as_str().unwrap().contains("人力资源和社会保障厅"), "{public}");
    let (status, body) =
        post(&province, s.api("henan", "/subjects"), json!({"name": "教育学", "year": YEAR, "kind": "professional"})).await;
    assert_eq!((status, body["fields"]["kind"].is_string()), (422, true), "{body}");
    let (status, professional) =
        post(&authority, s.api("henan", "/subjects"), json!({"name": "课堂教学评价", "year": YEAR, "major": "教育"})).await;
    assert_eq!((status, professional["kind"].as_str()), (201, Some("professional")), "{professional}");
    let (status, body) = post(&authority, s.api("henan", "/subjects"), json!({"name": "依法行政", "year": YEAR, "kind": "public"})).await;
    assert_eq!((status, body["fields"]["kind"].is_string()), (422, true), "{body}");
    for (user_type, seq) in [("institution", 301), ("hr", 501), ("unit", 201), ("staff", 101)] {
        let client = s.demo("henan", user_type, seq).await;
        let (status, body) = post(&client, s.api("henan", "/subjects"), json!({"name": "越权科目", "year": YEAR})).await;
        assert_eq!(status, 403, "{user_type} creating a subject: {body}");
    }

    // Bad input: a message per field, nothing stored.
    let (status, body) = post(&province, s.api("henan", "/subjects"), json!({"name": " ", "suggestion": "长".repeat(2001)})).await;
    assert_eq!(status, 422, "{body}");
    for field in ["name", "year", "suggestion"] {
        assert!(body["fields"][field].is_string(), "{field}: {body}");
    }
    // The same name in the same year of the same catalogue is a conflict; another year is fine.
    let (status, body) = post(&province, s.api("henan", "/subjects"), json!({"name": "乡村振兴战略解读", "year": YEAR})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("duplicate_subject")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("乡村振兴战略解读"), "{body}");
    let (status, body) = post(&province, s.api("henan", "/subjects"), json!({"name": "乡村振兴战略解读", "year": YEAR - 1})).await;
    assert_eq!(status, 201, "{body}");
    let other_year = body["id"].as_i64().unwrap();
    assert_eq!(s.count("SELECT COUNT(*) FROM training_subjects").await, before + 3);

    // Each keeper edits only their own.
    let public_id = public["id"].as_i64().unwrap();
    let professional_id = professional["id"].as_i64().unwrap();
    let (status, _) = put(&authority, s.api("henan", &format!("/subjects/{public_id}")), json!({"name": "改名", "year": YEAR})).await;
    assert_eq!(status, 404);
    let (status, body) = put(
        &province,
        s.api("henan", &format!("/subjects/{public_id}")),
        json!({"name": "乡村振兴战略与实践", "year": YEAR, "suggestion": "案例教学"}),
    )
    .await;
    assert_eq!((status, body["name"].as_str(), body["major"].as_str()), (200, Some("乡村振兴战略与实践"), None), "{body}");
    let (status, body) =
        put(&province, s.api("henan", &format!("/subjects/{other_year}")), json!({"name": "乡村振兴战略与实践", "year": YEAR})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("duplicate_subject")), "{body}");

    // Batch disable: all of one's own, or nothing.
    let (status, _) =
        post(&province, s.api("henan", "/subjects/status"), json!({"ids": [public_id, other_year, professional_id], "enabled": false}))
            .await;
    assert_eq!(status, 404);
    assert_eq!(s.count("SELECT COUNT(*) FROM training_subjects WHERE enabled = false").await, 0);
    let (status, body) =
        post(&province, s.api("henan", "/subjects/status"), json!({"ids": [public_id, other_year], "enabled": false})).await;
    assert_eq!((status, body["changed"].as_i64()), (200, Some(2)), "{body}");

    // Institutions read the catalogue (enabled ones to pick from); staff do not.
    let institution = s.demo("henan", "institution", 301).await;
    let (status, body) = get(&institution, s.api("henan", &format!("/subjects?kind=public&year={YEAR}&enabled=yes"))).await;
    assert_eq!(status, 200, "{body}");
    let names: Vec<&str> = body["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    // The demo catalogue covers this year and last.
    let this = jijiao::hours::this_year();
    assert!(names.contains(&"专业技术人员职业道德") || !(this - 1..=this).contains(&YEAR), "{names:?}");
    assert!(!names.contains(&"乡村振兴战略与实践"), "disabled subjects are not offered: {names:?}");
    let (status, body) = get(&institution, s.api("henan", "/subjects?enabled=no&q=乡村振兴")).await;
    assert_eq!((status, body["total"].as_i64()), (200, Some(2)), "{body}");
    let (status, body) = get(&authority, s.api("henan", "/subjects?mine=1&major=教育")).await;
    assert!(status == 200 && body["items"].as_array().unwrap().iter().all(|i| i["kind"] == "professional"), "{body}");
    let (status, _) = get(&institution, s.api("henan", "/subjects?mine=1")).await;
    assert_eq!(status, 403, "institutions keep no catalogue");
    let (status, body) = get(&institution, s.api("henan", &format!("/subjects/{public_id}"))).await;
    assert_eq!((status, body["enabled"].as_bool()), (200, Some(false)), "{body}");
    let staff = s.demo("henan", "staff", 101).await;
    assert_eq!(get(&staff, s.api("henan", "/subjects")).await.0, 403);
    assert_eq!(get(&staff, s.api("henan", &format!("/subjects/{public_id}"))).await.0, 403);
    assert!(s.count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'subject.%'").await >= 6);
}
both!(subjects_per_role, subjects_per_role);

async fn henan_plans_follow_the_plugins_route(s: TestServer) {
    let public = subject(&s, "henan", "public", "测试公需科目").await;
    let professional = subject(&s, "henan", "professional", "测试专业科目").await;
    let institution = s.demo("henan", "institution", 301).await;
    let hr = s.demo("henan", "hr", 501).await;
    let authority = s.demo("henan", "authority", 401).await;
    let before = plans_stored(&s).await;

    // Public: to the HR bureau only.
    let (status, plan) = post(&institution, s.api("henan", "/plans"), plan_body("公需科目培训计划", "public", public)).await;
    assert_eq!(status, 201, "{plan}");
    assert_eq!((plan["status"].as_str(), plan["hours"].as_f64()), (Some("pending"), Some(24.5)), "{plan}");
    assert_eq!(plan["subject_name"], "测试公需科目");
    assert!(plan["institution_name"].as_str().unwrap().contains("继续教育培训中心"), "{plan}");
    let public_plan = plan["id"].as_i64().unwrap();
    let item = in_queue(&plan_queue(&hr, &s, "henan").await, public_plan).expect("in the HR bureau's queue");
    assert_eq!(item["kind"], "plan");
    assert!(in_queue(&plan_queue(&authority, &s, "henan").await, public_plan).is_none());

    // A choice on a public plan is refused by the plugin; professional plans need one.
    let mut body = plan_body("公需科目送行业主管", "public", public);
    body["choice"] = json!("authority");
    let (status, body) = post(&institution, s.api("henan", "/plans"), body).await;
    assert_eq!((status, body["fields"]["choice"].is_string()), (422, true), "{body}");
    let mut body = plan_body("专业科目未选部门", "professional", professional);
    body.as_object_mut().unwrap().remove("choice");
    let (status, body) = post(&institution, s.api("henan", "/plans"), body).await;
    assert_eq!((status, body["fields"]["choice"].is_string()), (422, true), "{body}");

    // Professional with choice authority: to the authority.
    let (status, plan) = post(&institution, s.api("henan", "/plans"), plan_body("专业科目培训计划", "professional", professional)).await;
    assert_eq!((status, plan["route_choice"].as_str()), (201, Some("authority")), "{plan}");
    let professional_plan = plan["id"].as_i64().unwrap();
    assert!(in_queue(&plan_queue(&authority, &s, "henan").await, professional_plan).is_some());
    assert!(in_queue(&plan_queue(&hr, &s, "henan").await, professional_plan).is_none());
    let mut body = plan_body("专业科目送人社", "professional", professional);
    body["choice"] = json!("hr_bureau");
    let (status, plan) = post(&institution, s.api("henan", "/plans"), body).await;
    assert_eq!(status, 201, "{plan}");
    assert!(in_queue(&plan_queue(&hr, &s, "henan").await, plan["id"].as_i64().unwrap()).is_some());
    assert_eq!(plans_stored(&s).await, before + 3);

    // The subject must be of the plan's kind and year, and enabled; every field is checked.
    let (status, body) = post(&institution, s.api("henan", "/plans"), plan_body("科目类型不符", "professional", public)).await;
    assert_eq!((status, body["fields"]["subject_id"].is_string()), (422, true), "{body}");
    let mut body = plan_body("年度不符", "public", public);
    body["year"] = json!(YEAR - 1);
    let (status, body) = post(&institution, s.api("henan", "/plans"), body).await;
    assert!(status == 422 && body["fields"]["subject_id"].as_str().unwrap().contains("年度"), "{body}");
    let province = s.demo("henan", "province", 601).await;
    let disabled = subject(&s, "henan", "public", "已停用科目").await;
    let (status, _) = post(&province, s.api("henan", "/subjects/status"), json!({"ids": [disabled], "enabled": false})).await;
    assert_eq!(status, 200);
    let (status, body) = post(&institution, s.api("henan", "/plans"), plan_body("停用科目", "public", disabled)).await;
    assert!(status == 422 && body["fields"]["subject_id"].as_str().unwrap().contains("停用"), "{body}");
    let (status, body) = post(&institution, s.api("henan", "/plans"), plan_body("不存在的科目", "public", 999_999)).await;
    assert_eq!((status, body["fields"]["subject_id"].is_string()), (422, true), "{body}");
    let (status, body) = post(
        &institution,
        s.api("henan", "/plans"),
        json!({"name": "", "subject_kind": "other", "mode": "radio", "planned_count": 0, "hours": "1000.5",
               "start_date": "2025-05-12", "end_date": "2025-05-10", "choice": "mayor"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    for field in ["name", "subject_kind", "subject_id", "year", "credit_year", "mode", "planned_count", "hours", "choice"] {
        assert!(body["fields"][field].is_string(), "{field}: {body}");
    }
    let mut body = plan_body("日期颠倒", "public", public);
    body["end_date"] = json!("2025-05-01");
    body["hours"] = json!(0);
    let (status, body) = post(&institution, s.api("henan", "/plans"), body).await;
    assert!(status == 422 && body["fields"]["end_date"].is_string() && body["fields"]["hours"].is_string(), "{body}");
    assert_eq!(plans_stored(&s).await, before + 3, "bad plans store nothing");
    assert_eq!(s.count("SELECT COUNT(*) FROM approvals WHERE kind = 'plan'").await, 3);

    // Lists with filters, own institution only.
    let (status, list) = get(&institution, s.api("henan", "/plans?subject_kind=professional")).await;
    assert_eq!((status, list["total"].as_i64()), (200, Some(2)), "{list}");
    let (status, list) = get(&institution, s.api("henan", &format!("/plans?status=pending&credit_year={YEAR}&q=公需"))).await;
    assert_eq!((status, list["total"].as_i64()), (200, Some(1)), "{list}");
    assert_eq!(list["items"][0]["id"], json!(public_plan));
}
both!(henan_plans_follow_the_plugins_route, henan_plans_follow_the_plugins_route);

async fn plans_are_edited_deleted_and_decided(s: TestServer) {
    let public = subject(&s, "henan", "public", "测试公需科目").await;
    let institution = s.demo("henan", "institution", 301).await;
    let hr = s.demo("henan", "hr", 501).await;
    let (_, first) = post(&institution, s.api("henan", "/plans"), plan_body("第一期", "public", public)).await;
    let (_, second) = post(&institution, s.api("henan", "/plans"), plan_body("第二期", "public", public)).await;
    let (first, second) = (first["id"].as_i64().unwrap(), second["id"].as_i64().unwrap());
    let old_step = in_queue(&plan_queue(&hr, &s, "henan").await, first).unwrap();

    // Editing a pending plan resubmits it: the old step is withdrawn, a new one pending.
    let mut revised = plan_body("第一期（修订）", "public", public);
    revised["hours"] = json!(30);
    let (status, edited) = put(&institution, s.api("henan", &format!("/plans/{first}")), revised.clone()).await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!((edited["round"].as_i64(), edited["hours"].as_f64(), edited["status"].as_str()), (Some(2), Some(30.0), Some("pending")));
    let new_step = in_queue(&plan_queue(&hr, &s, "henan").await, first).expect("the new round is pending");
    assert_ne!(new_step["id"], old_step["id"]);
    assert_eq!(
        s.count(&format!("SELECT COUNT(*) FROM approvals WHERE id = {} AND status = 'withdrawn'", old_step["id"])).await,
        1,
        "the old round's step is withdrawn"
    );
    // Deciding the withdrawn step is a conflict, not a decision.
    let (status, _) = post(&hr, s.api("henan", "/approvals/decisions"), json!({"ids": [old_step["id"]], "decision": "approve"})).await;
    assert_eq!(status, 409);

    // Reject → the institution is told, edits and resubmits.
    let (status, body) = post(
        &hr,
        s.api("henan", "/approvals/decisions"),
        json!({"ids": [new_step["id"]], "decision": "reject", "reason": "学时安排不合理"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, detail) = get(&institution, s.api("henan", &format!("/plans/{first}"))).await;
    assert_eq!(detail["status"], "rejected", "{detail}");
    assert!(detail["steps"][0]["reason"] == "学时安排不合理", "{detail}");
    let (_, messages) = get(&institution, s.api("henan", "/messages")).await;
    assert!(messages["items"].as_array().unwrap().iter().any(|m| m["title"] == "培训计划未通过审核"), "{messages}");
    let (status, resubmitted) = put(&institution, s.api("henan", &format!("/plans/{first}")), revised).await;
    assert_eq!((status, resubmitted["status"].as_str(), resubmitted["round"].as_i64()), (200, Some("pending"), Some(3)), "{resubmitted}");

    // Approve → approved, decided, the institution told.
    let step = in_queue(&plan_queue(&hr, &s, "henan").await, first).unwrap();
    let (status, body) = post(&hr, s.api("henan", "/approvals/decisions"), json!({"ids": [step["id"]], "decision": "approve"})).await;
    assert_eq!(status, 200, "{body}");
    let (_, detail) = get(&institution, s.api("henan", &format!("/plans/{first}"))).await;
    assert!(detail["status"] == "approved" && detail["decided_at"].is_string(), "{detail}");
    let (_, messages) = get(&institution, s.api("henan", "/messages")).await;
    assert!(messages["items"].as_array().unwrap().iter().any(|m| m["title"] == "培训计划已审核通过"), "{messages}");
    let approved = jijiao::training::plans::approved_for(&s.db, "henan", detail["institution_id"].as_i64().unwrap()).await.unwrap();
    assert!(approved.iter().any(|p| p.id == first && p.hours == 3000), "{approved:?}");

    // Approved plans are final: no edit, no delete, and a batch with one is refused as a whole.
    let (status, body) = put(&institution, s.api("henan", &format!("/plans/{first}")), plan_body("再改", "public", public)).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("not_editable")), "{body}");
    let res = institution.delete(s.api("henan", &format!("/plans/{first}"))).send().await.unwrap();
    assert_eq!(res.status(), 409);
    let (status, _) = post(&institution, s.api("henan", "/plans/delete"), json!({"ids": [second, first]})).await;
    assert_eq!(status, 409);
    assert_eq!(s.count(&format!("SELECT COUNT(*) FROM training_plans WHERE id = {second} AND status = 'pending'")).await, 1);
    assert!(in_queue(&plan_queue(&hr, &s, "henan").await, second).is_some(), "nothing was withdrawn");

    // Deleting pending plans, singly or in a batch, withdraws their steps.
    let (_, third) = post(&institution, s.api("henan", "/plans"), plan_body("第三期", "public", public)).await;
    let third = third["id"].as_i64().unwrap();
    let (status, body) = post(&institution, s.api("henan", "/plans/delete"), json!({"ids": [second, third]})).await;
    assert_eq!((status, body["deleted"].as_i64()), (200, Some(2)), "{body}");
    assert!(in_queue(&plan_queue(&hr, &s, "henan").await, second).is_none());
    assert_eq!(get(&institution, s.api("henan", &format!("/plans/{second}"))).await.0, 404);
    let (_, list) = get(&institution, s.api("henan", "/plans")).await;
    assert!(list["items"].as_array().unwrap().iter().all(|p| p["id"] != json!(second) && p["id"] != json!(third)), "{list}");
    assert_eq!(
        s.count(&format!("SELECT COUNT(*) FROM approvals WHERE subject_type = 'training_plan' AND subject_id IN ({second}, {third}) AND status = 'pending'")).await,
        0
    );
    let (_, fourth) = post(&institution, s.api("henan", "/plans"), plan_body("第四期", "public", public)).await;
    let res = institution.delete(s.api("henan", &format!("/plans/{}", fourth["id"]))).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert!(s.count("SELECT COUNT(*) FROM audit_log WHERE action = 'plan.deleted'").await == 3);

    // The helper other tests build on: a professional plan approved along its route.
    let id = approved_plan(&s, "henan", "professional").await;
    let plan = jijiao::training::plans::get(&s.db, "henan", id).await.unwrap().unwrap();
    assert_eq!((plan.status.as_str(), plan.subject_kind.as_str()), ("approved", "professional"));
    for tenant in ["hunan", "hubei"] {
        let id = approved_plan(&s, tenant, "public").await;
        assert_eq!(
            jijiao::training::plans::get(&s.db, tenant, id).await.unwrap().unwrap().status,
            jijiao::training::plans::PlanStatus::Approved
        );
    }
}
both!(plans_are_edited_deleted_and_decided, plans_are_edited_deleted_and_decided);

async fn outsiders_get_nothing(s: TestServer) {
    let public = subject(&s, "henan", "public", "测试公需科目").await;
    let institution = s.demo("henan", "institution", 301).await;
    let (_, plan) = post(&institution, s.api("henan", "/plans"), plan_body("河南计划", "public", public)).await;
    let plan = plan["id"].as_i64().unwrap();
    let hr = s.demo("henan", "hr", 501).await;
    let approval = in_queue(&plan_queue(&hr, &s, "henan").await, plan).unwrap()["id"].as_i64().unwrap();

    // Other tenants' admins: nothing by id, nothing in lists, nothing to decide.
    for tenant in ["hunan", "hubei"] {
        for (user_type, seq) in [("institution", 301), ("province", 601), ("authority", 401), ("hr", 501), ("system", 701)] {
            let other = s.demo(tenant, user_type, seq).await;
            let (status, _) = get(&other, s.api(tenant, &format!("/subjects/{public}"))).await;
            assert!(status == 404 || status == 403, "{tenant} {user_type} reading Henan's subject: {status}");
            let (status, _) = put(&other, s.api(tenant, &format!("/subjects/{public}")), json!({"name": "x", "year": YEAR})).await;
            assert!(status == 404 || status == 403, "{tenant} {user_type} editing Henan's subject: {status}");
            let (status, _) = post(&other, s.api(tenant, "/subjects/status"), json!({"ids": [public], "enabled": false})).await;
            assert!(status == 404 || status == 403, "{tenant} {user_type} disabling Henan's subject: {status}");
            let (status, body) = get(&other, s.api(tenant, "/subjects?q=测试公需科目")).await;
            assert!(status == 403 || body["total"] == 0, "{tenant} {user_type}: {body}");
            for path in [format!("/plans/{plan}"), format!("/approvals/{approval}")] {
                let (status, _) = get(&other, s.api(tenant, &path)).await;
                assert!(status == 404 || status == 403, "{tenant} {user_type} GET {path}: {status}");
            }
            let (status, _) = put(&other, s.api(tenant, &format!("/plans/{plan}")), plan_body("x", "public", public)).await;
            assert!(status == 404 || status == 403 || status == 422, "{tenant} {user_type} editing Henan's plan: {status}");
            let (status, _) = post(&other, s.api(tenant, "/plans/delete"), json!({"ids": [plan]})).await;
            assert!(status == 404 || status == 403, "{tenant} {user_type} deleting Henan's plan: {status}");
            if user_type == "institution" {
                let (status, list) = get(&other, s.api(tenant, "/plans")).await;
                assert!(status == 200 && list["items"].as_array().unwrap().iter().all(|p| p["id"] != json!(plan)), "{list}");
            }
            let (status, queue) = get(&other, s.api(tenant, "/approvals?kind=plan&status=all")).await;
            assert!(status == 403 || queue["items"].as_array().unwrap().iter().all(|a| a["id"] != json!(approval)), "{queue}");
            let (status, _) = post(&other, s.api(tenant, "/approvals/decisions"), json!({"ids": [approval], "decision": "approve"})).await;
            assert!(status == 404 || status == 403, "{tenant} {user_type} deciding Henan's plan: {status}");
        }
    }
    // The plan's own institution edits with the other tenant's subject id: not a subject here.
    let hunan_public = subject(&s, "hunan", "public", "湖南公需科目").await;
    let (status, body) =
        put(&institution, s.api("henan", &format!("/plans/{plan}")), plan_body("借用湖南科目", "public", hunan_public)).await;
    assert_eq!((status, body["fields"]["subject_id"].is_string()), (422, true), "{body}");

    // The same tenant, outside the institution or the route: nothing.
    for (user_type, seq) in [("staff", 101), ("unit", 201), ("authority", 401), ("province", 601), ("hr", 501)] {
        let client = s.demo("henan", user_type, seq).await;
        for path in ["/plans".to_owned(), format!("/plans/{plan}")] {
            let (status, _) = get(&client, s.api("henan", &path)).await;
            assert_eq!(status, 403, "{user_type} GET {path}");
        }
        let (status, _) = post(&client, s.api("henan", "/plans"), plan_body("越权", "public", public)).await;
        assert_eq!(status, 403, "{user_type} filing a plan");
        let (status, _) = post(&client, s.api("henan", "/plans/delete"), json!({"ids": [plan]})).await;
        assert_eq!(status, 403, "{user_type} deleting a plan");
        if user_type != "hr" {
            let (status, _) = get(&client, s.api("henan", &format!("/approvals/{approval}"))).await;
            assert!(status == 404 || status == 403, "{user_type} reading the HR bureau's plan approval: {status}");
        }
    }
    let (status, detail) = get(&hr, s.api("henan", &format!("/approvals/{approval}"))).await;
    assert!(status == 200 && detail["subject"]["name"] == "河南计划", "{detail}");
    assert_eq!(
        s.count(&format!("SELECT COUNT(*) FROM training_plans WHERE id = {plan} AND status = 'pending' AND name = '河南计划'")).await,
        1
    );
}
both!(outsiders_get_nothing, outsiders_get_nothing);

async fn page(client: &Client, url: String) -> (u16, String) {
    let res = client.get(url).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn submit(client: &Client, url: String, form: &[(&str, &str)]) -> (u16, String, String) {
    let res = client.post(url).form(form).send().await.unwrap();
    let status = res.status().as_u16();
    let location = res.headers().get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, location, res.text().await.unwrap())
}

async fn subject_and_plan_pages(s: TestServer) {
    // The province's catalogue page: list, add, a refused duplicate re-rendered, edit, batch disable.
    let province = s.demo("henan", "province", 601).await;
    let (status, html) = page(&province, s.url("henan", "/subjects")).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("公需科目管理") && html.contains("专业技术人员职业道德") && html.contains("培训科目"), "{html}");
    let csrf = csrf_in(&html);
    let year = YEAR.to_string();
    let (status, location, _) = submit(
        &province,
        s.url("henan", "/subjects"),
        &[("csrf_token", &csrf), ("name", "页面新增科目"), ("year", &year), ("major", ""), ("suggestion", "讲授要点"), ("enabled", "1")],
    )
    .await;
    assert_eq!((status, location.contains("/subjects?done=saved")), (303, true), "{location}");
    let (status, _, html) =
        submit(&province, s.url("henan", "/subjects"), &[("csrf_token", &csrf), ("name", "页面新增科目"), ("year", &year)]).await;
    assert!(status == 409 && html.contains("已有名为“页面新增科目”的科目"), "{status} {html}");
    let (status, _, html) = submit(&province, s.url("henan", "/subjects"), &[("csrf_token", &csrf), ("name", ""), ("year", "")]).await;
    assert!(status == 422 && html.contains("请填写科目名称"), "{status} {html}");
    let id = s.count("SELECT id FROM training_subjects WHERE name = '页面新增科目'").await;
    let (status, html) = page(&province, s.url("henan", &format!("/subjects/{id}/edit"))).await;
    assert!(status == 200 && html.contains("编辑科目：页面新增科目") && html.contains("讲授要点"), "{html}");
    let (status, location, _) = submit(
        &province,
        s.url("henan", &format!("/subjects/{id}/edit")),
        &[("csrf_token", &csrf), ("name", "页面修改科目"), ("year", &year), ("enabled", "1")],
    )
    .await;
    assert_eq!(status, 303, "{location}");
    let (status, location, _) =
        submit(&province, s.url("henan", "/subjects/status"), &[("csrf_token", &csrf), ("ids", &id.to_string()), ("enabled", "0")]).await;
    assert!(status == 303 && location.contains("done=subjects_disabled&count=1"), "{location}");
    let (_, html) = page(&province, s.url("henan", &format!("/subjects?done=subjects_disabled&count=1&enabled=no&year={YEAR}"))).await;
    assert!(html.contains("已停用 1 个科目") && html.contains("页面修改科目"), "{html}");
    // Without a token nothing happens.
    let (status, _, _) = submit(&province, s.url("henan", "/subjects"), &[("name", "无令牌"), ("year", &year)]).await;
    assert_eq!(status, 403);

    // The institution's plan pages: empty form state per year, the form, a validation message, the list.
    let public = subject(&s, "henan", "public", "测试公需科目").await;
    let institution = s.demo("henan", "institution", 301).await;
    let (status, html) = page(&institution, s.url("henan", "/plans")).await;
    assert!(status == 200 && html.contains("培训计划管理") && html.contains("新增培训计划"), "{html}");
    let (status, html) = page(&institution, s.url("henan", "/plans/new?subject_kind=professional&year=1999")).await;
    assert!(status == 200 && html.contains("1999 年度没有可选的专业科目"), "{html}");
    let (status, html) = page(&institution, s.url("henan", &format!("/plans/new?subject_kind=professional&year={YEAR}"))).await;
    assert!(status == 200 && html.contains("送审部门"), "{html}");
    let (status, html) = page(&institution, s.url("henan", &format!("/plans/new?subject_kind=public&year={YEAR}"))).await;
    assert!(status == 200 && html.contains("测试公需科目") && !html.contains("name=\"choice\""), "{html}");
    let csrf = csrf_in(&html);
    let subject_id = public.to_string();
    let mut form = vec![
        ("csrf_token", csrf.as_str()),
        ("subject_kind", "public"),
        ("year", year.as_str()),
        ("credit_year", year.as_str()),
        ("name", "页面培训计划"),
        ("subject_id", subject_id.as_str()),
        ("mode", "blended"),
        ("planned_count", "40"),
        ("hours", "abc"),
        ("start_date", "2025-06-01"),
        ("end_date", "2025-06-03"),
        ("place", "郑州"),
        ("remark", ""),
    ];
    let before = plans_stored(&s).await;
    let (status, _, html) = submit(&institution, s.url("henan", "/plans/new"), &form).await;
    assert!(status == 422 && html.contains("学时应为数字") && html.contains("value=\"页面培训计划\""), "{status} {html}");
    assert_eq!(plans_stored(&s).await, before);
    form[8] = ("hours", "16");
    let (status, location, _) = submit(&institution, s.url("henan", "/plans/new"), &form).await;
    assert_eq!(status, 303, "{location}");
    let id = s.count("SELECT id FROM training_plans WHERE name = '页面培训计划'").await;
    assert!(location.contains(&format!("/plans/{id}?done=submitted")), "{location}");
    let (status, html) = page(&institution, s.url("henan", &format!("/plans/{id}"))).await;
    assert!(status == 200 && html.contains("页面培训计划") && html.contains("待审核") && html.contains("混合"), "{html}");
    let (status, html) = page(&institution, s.url("henan", &format!("/plans/{id}/edit"))).await;
    assert!(status == 200 && html.contains("修改培训计划") && html.contains("value=\"16\""), "{html}");
    let (status, html) = page(&institution, s.url("henan", "/plans?status=pending")).await;
    assert!(status == 200 && html.contains("页面培训计划") && html.contains("批量删除"), "{html}");

    // The reviewer's queue and detail pages show the plan.
    let hr = s.demo("henan", "hr", 501).await;
    let (status, html) = page(&hr, s.url("henan", "/approvals?kind=plan")).await;
    assert!(status == 200 && html.contains("页面培训计划") && html.contains("计划审核"), "{html}");
    let approval = in_queue(&plan_queue(&hr, &s, "henan").await, id).unwrap()["id"].as_i64().unwrap();
    let (status, html) = page(&hr, s.url("henan", &format!("/approvals/{approval}"))).await;
    assert!(status == 200 && html.contains("计划培训人数") && html.contains("测试公需科目") && html.contains("通过"), "{html}");

    // Batch delete from the list page.
    let (_, html) = page(&institution, s.url("henan", "/plans")).await;
    let csrf = csrf_in(&html);
    let (status, location, _) =
        submit(&institution, s.url("henan", "/plans/delete"), &[("csrf_token", &csrf), ("ids", &id.to_string())]).await;
    assert!(status == 303 && location.contains("done=deleted&count=1"), "{location}");
    let (status, _, html) = submit(&institution, s.url("henan", "/plans/delete"), &[("csrf_token", &csrf)]).await;
    assert!(status == 422 && html.contains("请至少选择一个培训计划"), "{status} {html}");
    // Others get no plan pages.
    assert_eq!(page(&hr, s.url("henan", "/plans")).await.0, 403);
    assert_eq!(page(&institution, s.url("henan", "/subjects")).await.0, 403);
}
both!(subject_and_plan_pages, subject_and_plan_pages);
