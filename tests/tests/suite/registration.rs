//! Registration → (approval) → login → /me, as each province does it (issue 2 §6).

use jijiao_tests::{TestServer, both, json_of};
use serde_json::json;

use crate::common::*;

/// Hunan (seed 001): staff are active at once.
async fn hunan_staff_active_at_once(s: TestServer) {
    let unit = org_id(&s, "hunan", "unit", "第一中学").await;
    let id = new_id(1);
    let (status, body) = register_staff(&s, "hunan", &staff_form(unit, &id, "李明")).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["status"], "active");
    let client = s.login("hunan", "staff", &id, "Passw0rd2026").await;
    let (status, me) = json_of(client.get(s.api("hunan", "/me")).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(me["account"]["name"], "李明");
    assert_eq!(me["profile"]["title_level"], "intermediate");
    assert_eq!(me["profile"]["unit_id"], unit);
    // Lists and /me never show the whole ID number.
    assert_ne!(me["account"]["id_number"], json!(id));
}
both!(hunan_staff_active_at_once, hunan_staff_active_at_once);

/// Henan (seed 003): staff wait for their unit admin; the applicant learns the outcome in a message.
async fn henan_staff_wait_for_unit(s: TestServer) {
    let unit = org_id(&s, "henan", "unit", "第一中学").await;
    let id = new_id(2);
    let (status, body) = register_staff(&s, "henan", &staff_form(unit, &id, "王芳")).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["status"], "pending");
    let (status, body) = login_status(&s, "henan", "staff", &id, "Passw0rd2026").await;
    assert_eq!((status, body["code"].as_str()), (403, Some("pending")));

    // The hospital's admin (another unit) does not see it; the school's admin does.
    let other_unit = s.demo("henan", "unit", 202).await;
    assert!(pending(&other_unit, &s, "henan").await.is_empty());
    let unit_admin = s.demo("henan", "unit", 201).await;
    let items = pending(&unit_admin, &s, "henan").await;
    assert_eq!(items.len(), 1, "{items:?}");
    let approval = items[0]["id"].as_i64().unwrap();
    let (status, body) = decide(&other_unit, &s, "henan", &[approval], "approve", None).await;
    assert_eq!(status, 404, "outside the other unit's scope: {body}");
    // The approver sees the applicant's details (ID number masked); the other unit does not.
    let (status, detail) = json_of(unit_admin.get(s.api("henan", &format!("/approvals/{approval}"))).send().await.unwrap()).await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["subject"]["name"], "王芳");
    assert_eq!(detail["subject"]["title"], "主治医师");
    assert!(detail["subject"]["id_number"].as_str().unwrap().contains('*'));
    let (status, _) = json_of(other_unit.get(s.api("henan", &format!("/approvals/{approval}"))).send().await.unwrap()).await;
    assert_eq!(status, 404);
    let hunan = s.demo("hunan", "province", 601).await;
    let (status, _) = json_of(hunan.get(s.api("hunan", &format!("/approvals/{approval}"))).send().await.unwrap()).await;
    assert_eq!(status, 404);
    let (status, body) = decide(&unit_admin, &s, "henan", &[approval], "approve", None).await;
    assert_eq!(status, 200, "{body}");
    let (_, detail) = json_of(unit_admin.get(s.api("henan", &format!("/approvals/{approval}"))).send().await.unwrap()).await;
    assert_eq!(detail["trail"][0]["action"], "registration.approved", "{detail}");
    // Deciding again is a conflict, and changes nothing.
    let (status, _) = decide(&unit_admin, &s, "henan", &[approval], "reject", Some("重复")).await;
    assert_eq!(status, 409);

    let staff = s.login("henan", "staff", &id, "Passw0rd2026").await;
    let (_, messages) = json_of(staff.get(s.api("henan", "/messages")).send().await.unwrap()).await;
    assert_eq!(messages["items"][0]["title"], "注册审核已通过", "{messages}");
}
both!(henan_staff_wait_for_unit, henan_staff_wait_for_unit);

/// Hubei (seed 004 §5.1.3): the supervising department audits staff registrations; a rejection
/// carries its reason to the applicant.
async fn hubei_staff_wait_for_supervisor(s: TestServer) {
    let unit = org_id(&s, "hubei", "unit", "第一中学").await;
    let id = new_id(3);
    let (status, body) = register_staff(&s, "hubei", &staff_form(unit, &id, "赵强")).await;
    assert_eq!((status, body["status"].as_str()), (201, Some("pending")), "{body}");
    // Hubei's unit admins do not review registrations (casbin), the supervising authority does.
    let unit_admin = s.demo("hubei", "unit", 201).await;
    let (status, _) = json_of(unit_admin.get(s.api("hubei", "/approvals?kind=registration")).send().await.unwrap()).await;
    assert_eq!(status, 403);
    let authority = s.demo("hubei", "authority", 401).await;
    let items = pending(&authority, &s, "hubei").await;
    assert_eq!(items.len(), 1);
    let approval = items[0]["id"].as_i64().unwrap();
    let (status, body) = decide(&authority, &s, "hubei", &[approval], "reject", None).await;
    assert_eq!((status, body["fields"]["reason"].is_string()), (422, true), "a rejection needs a reason: {body}");
    let (status, _) = decide(&authority, &s, "hubei", &[approval], "reject", Some("单位信息不符")).await;
    assert_eq!(status, 200);
    let (status, body) = login_status(&s, "hubei", "staff", &id, "Passw0rd2026").await;
    assert_eq!((status, body["code"].as_str()), (403, Some("rejected")));
}
both!(hubei_staff_wait_for_supervisor, hubei_staff_wait_for_supervisor);

/// Invalid input gets 422 with a message per field, and nothing is stored.
async fn invalid_registrations_store_nothing(s: TestServer) {
    let unit = org_id(&s, "hunan", "unit", "第一中学").await;
    let people = s.count("SELECT COUNT(*) FROM people").await;
    let accounts = s.count("SELECT COUNT(*) FROM accounts").await;
    let good = staff_form(unit, &new_id(4), "陈静");
    let mut bad_check = good.clone();
    let id = good["id_number"].as_str().unwrap();
    let wrong_digit = if id.ends_with('1') { "2" } else { "1" };
    bad_check["id_number"] = json!(format!("{}{wrong_digit}", &id[..17]));
    let mut bad_birth = good.clone();
    bad_birth["id_number"] = json!(jijiao::ids::id_number_with_check("43010419901332001"));
    let mut missing = good.clone();
    for key in ["name", "phone", "education", "title_level", "post"] {
        missing.as_object_mut().unwrap().remove(key);
    }
    let mut bad_unit = good.clone();
    bad_unit["unit_id"] = json!(999_999);
    let mut weak = good.clone();
    weak["password"] = json!("000000");
    for (form, field) in
        [(&bad_check, "id_number"), (&bad_birth, "id_number"), (&missing, "phone"), (&bad_unit, "unit_id"), (&weak, "password")]
    {
        let (status, body) = register_staff(&s, "hunan", form).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["code"], "invalid");
        assert!(body["fields"][field].is_string(), "expected an error for {field}: {body}");
    }
    let (_, body) = register_staff(&s, "hunan", &missing).await;
    for key in ["name", "education", "title_level", "post"] {
        assert!(body["fields"][key].is_string(), "missing {key} not reported: {body}");
    }
    assert_eq!(s.count("SELECT COUNT(*) FROM people").await, people);
    assert_eq!(s.count("SELECT COUNT(*) FROM accounts").await, accounts);

    // Duplicate ID number in the same tenant.
    let (status, _) = register_staff(&s, "hunan", &good).await;
    assert_eq!(status, 201);
    let (status, body) = register_staff(&s, "hunan", &good).await;
    assert_eq!(status, 422);
    assert!(body["fields"]["id_number"].as_str().unwrap().contains("已注册"), "{body}");
    assert_eq!(s.count("SELECT COUNT(*) FROM people").await, people + 1);
    // The same person may register in another province: tenants are separate.
    let henan_unit = org_id(&s, "henan", "unit", "第一中学").await;
    let (status, _) = register_staff(&s, "henan", &staff_form(henan_unit, id, "陈静")).await;
    assert_eq!(status, 201);
}
both!(invalid_registrations_store_nothing, invalid_registrations_store_nothing);

/// Issue 15 §4: a rejected person reads why when logging in, corrects the registration and submits it
/// again with the same ID number and password; it re-enters the route and can then be approved.
async fn a_rejected_registration_is_corrected_and_resubmitted(s: TestServer) {
    let unit = org_id(&s, "henan", "unit", "第一中学").await;
    let id = new_id(77);
    let mut form = staff_form(unit, &id, "赵敏");
    assert_eq!(register_staff(&s, "henan", &form).await.0, 201);
    let unit_admin = s.demo("henan", "unit", 201).await;
    let approval = pending(&unit_admin, &s, "henan").await[0]["id"].as_i64().unwrap();
    assert_eq!(decide(&unit_admin, &s, "henan", &[approval], "reject", Some("职称填写有误")).await.0, 200);

    // The owner (right password) learns why; a wrong password learns nothing.
    let (status, body) = login_status(&s, "henan", "staff", &id, "Passw0rd2026").await;
    assert_eq!((status, body["code"].as_str(), body["reason"].as_str()), (403, Some("rejected"), Some("职称填写有误")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("重新提交"), "{body}");
    let (status, body) = login_status(&s, "henan", "staff", &id, "Wrong0pass2026").await;
    assert_eq!(status, 401, "{body}");
    // The login page says the same and leads to the registration form.
    let client = s.client();
    let html = client.get(s.url("henan", "/login")).send().await.unwrap().text().await.unwrap();
    let login =
        [("csrf_token", csrf_in(&html)), ("user_type", "staff".into()), ("id_number", id.clone()), ("password", "Passw0rd2026".into())];
    let page = client.post(s.url("henan", "/login")).form(&login).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("职称填写有误") && page.contains("修改注册信息并重新提交"), "{page}");

    // Registering again: with another password it is refused; with the same one it is a resubmission.
    form["title"] = json!("副主任医师");
    form["title_level"] = json!("deputy_senior");
    let mut wrong = form.clone();
    wrong["password"] = json!("Another0pass2026");
    let (status, body) = register_staff(&s, "henan", &wrong).await;
    assert_eq!((status, body["fields"]["password"].is_string()), (422, true), "{body}");
    let (status, body) = register_staff(&s, "henan", &form).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!((body["status"].as_str(), body["resubmitted"].as_bool()), (Some("pending"), Some(true)), "{body}");
    assert_eq!(s.count(&format!("SELECT COUNT(*) FROM people WHERE id_number = '{id}'")).await, 1, "the same person, corrected");
    let (status, body) = login_status(&s, "henan", "staff", &id, "Passw0rd2026").await;
    assert_eq!((status, body["code"].as_str()), (403, Some("pending")), "{body}");
    // A second resubmission while it waits is an ordinary duplicate.
    assert_eq!(register_staff(&s, "henan", &form).await.0, 422);

    let items = pending(&unit_admin, &s, "henan").await;
    assert_eq!(items.len(), 1, "{items:?}");
    let (_, detail) = json_of(unit_admin.get(s.api("henan", &format!("/approvals/{}", items[0]["id"]))).send().await.unwrap()).await;
    assert_eq!(detail["subject"]["title"], "副主任医师", "the reviewer sees the corrected registration: {detail}");
    assert_eq!(decide(&unit_admin, &s, "henan", &[items[0]["id"].as_i64().unwrap()], "approve", None).await.0, 200);
    let staff = s.login("henan", "staff", &id, "Passw0rd2026").await;
    let (_, me) = json_of(staff.get(s.api("henan", "/me")).send().await.unwrap()).await;
    assert_eq!(me["profile"]["title_level"], "deputy_senior", "{me}");
}
both!(a_rejected_registration_is_corrected_and_resubmitted, a_rejected_registration_is_corrected_and_resubmitted);
