//! Organisation registration with a licence scan, HR approval, scope of county bureaus, departments and
//! the admins below one (issue 2 §4–§6).

use jijiao_tests::{TestServer, both, id_number, json_of};
use reqwest::multipart::Part;
use serde_json::json;

use crate::common::*;

async fn unit_registration_needs_bureau_approval(s: TestServer) {
    let credit = jijiao::ids::credit_code_with_check("12430102MB0000999");
    let admin_id = id_number("430102", "19800808", 11);
    let orgs_before = s.count("SELECT COUNT(*) FROM orgs").await;

    // Bad credit code, missing licence: 422, nothing stored.
    let bad = org_form("unit", "长沙市芙蓉区实验小学", &format!("{}0", &credit[..17]), "430102", &admin_id);
    let (status, body) = json_of(s.client().post(s.api("hunan", "/registrations/orgs")).multipart(bad).send().await.unwrap()).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"]["credit_code"].is_string(), "{body}");
    assert!(body["fields"]["licence"].is_string(), "{body}");
    // A licence that is not a document is refused by its bytes, whatever its name says.
    let fake = org_form("unit", "长沙市芙蓉区实验小学", &credit, "430102", &admin_id)
        .part("licence", Part::bytes(b"MZ\x90\x00 not a pdf".to_vec()).file_name("licence.pdf"));
    let (status, body) = json_of(s.client().post(s.api("hunan", "/registrations/orgs")).multipart(fake).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("bad_file_type")), "{body}");
    assert_eq!(s.count("SELECT COUNT(*) FROM orgs").await, orgs_before);
    assert_eq!(s.count("SELECT COUNT(*) FROM blobs").await, 0);

    let good = org_form("unit", "长沙市芙蓉区实验小学", &credit, "430102", &admin_id)
        .part("licence", Part::bytes(PDF.to_vec()).file_name("执照.pdf"));
    let (status, body) = json_of(s.client().post(s.api("hunan", "/registrations/orgs")).multipart(good).send().await.unwrap()).await;
    assert_eq!((status, body["status"].as_str()), (201, Some("pending")), "{body}");
    assert_eq!(s.count("SELECT COUNT(*) FROM blobs").await, 1);
    let (status, body) = login_status(&s, "hunan", "unit", &admin_id, "Admin2026ok").await;
    assert_eq!((status, body["code"].as_str()), (403, Some("pending")));

    // The 芙蓉区 bureau approves; the 天心区 bureau (another county) sees nothing and cannot decide.
    let other_county = county_admin(&s, "hunan", "430103", 21).await;
    assert!(pending(&other_county, &s, "hunan").await.is_empty());
    let own_county = county_admin(&s, "hunan", "430102", 22).await;
    let items = pending(&own_county, &s, "hunan").await;
    assert_eq!(items.len(), 1, "{items:?}");
    let approval = items[0]["id"].as_i64().unwrap();
    // Before deciding, the approver looks at the licence scan; the other county cannot.
    let new_org = items[0]["subject_id"].as_i64().unwrap();
    let res = own_county.get(s.api("hunan", &format!("/orgs/{new_org}/licence"))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);
    let res = other_county.get(s.api("hunan", &format!("/orgs/{new_org}/licence"))).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let henan = s.demo("henan", "province", 601).await;
    assert_eq!(henan.get(s.api("henan", &format!("/orgs/{new_org}/licence"))).send().await.unwrap().status(), 404);
    let (status, _) = decide(&other_county, &s, "hunan", &[approval], "approve", None).await;
    assert_eq!(status, 404);
    // The city bureau above both sees it too (its subtree).
    let city = s.demo("hunan", "hr", 501).await;
    assert_eq!(pending(&city, &s, "hunan").await.len(), 1);
    let (status, body) = decide(&own_county, &s, "hunan", &[approval], "approve", None).await;
    assert_eq!(status, 200, "{body}");

    let admin = s.login("hunan", "unit", &admin_id, "Admin2026ok").await;
    let (_, me) = json_of(admin.get(s.api("hunan", "/me")).send().await.unwrap()).await;
    assert_eq!(me["account"]["org_name"], "长沙市芙蓉区实验小学");
    // The new unit now appears in the public picker for staff registration.
    assert!(org_id(&s, "hunan", "unit", "芙蓉区实验小学").await > 0);
    // The decision is in the audit trail.
    assert_eq!(s.count("SELECT COUNT(*) FROM audit_log WHERE action = 'registration.approved'").await, 1);
}
both!(unit_registration_needs_bureau_approval, unit_registration_needs_bureau_approval);

/// A batch decision is one transaction: one bad id and nothing changes.
async fn batch_decisions_are_all_or_nothing(s: TestServer) {
    let unit = org_id(&s, "henan", "unit", "第一中学").await;
    for seq in 30..33 {
        let (status, _) = register_staff(&s, "henan", &staff_form(unit, &new_id(seq), "批量")).await;
        assert_eq!(status, 201);
    }
    let admin = s.demo("henan", "unit", 201).await;
    let ids: Vec<i64> = pending(&admin, &s, "henan").await.iter().map(|a| a["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), 3);
    let (status, _) = decide(&admin, &s, "henan", &[ids[0], ids[1], 987_654], "approve", None).await;
    assert_eq!(status, 404);
    assert_eq!(pending(&admin, &s, "henan").await.len(), 3, "nothing was decided");
    let (status, body) = decide(&admin, &s, "henan", &ids, "approve", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["decided"].as_array().unwrap().len(), 3);
    assert!(pending(&admin, &s, "henan").await.is_empty());
}
both!(batch_decisions_are_all_or_nothing, batch_decisions_are_all_or_nothing);

/// Departments, disabling an admin below, and one-time reset codes that force a password change.
async fn admins_manage_below_them(s: TestServer) {
    let unit_admin = s.demo("hunan", "unit", 201).await;
    let (_, me) = json_of(unit_admin.get(s.api("hunan", "/me")).send().await.unwrap()).await;
    let school = me["account"]["org_id"].as_i64().unwrap();
    let (status, body) = json_of(
        unit_admin.post(s.api("hunan", &format!("/orgs/{school}/departments"))).json(&json!({"name": "后勤处"})).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) =
        json_of(unit_admin.post(s.api("hunan", &format!("/orgs/{school}/departments"))).json(&json!({"name": "  "})).send().await.unwrap())
            .await;
    assert_eq!((status, body["fields"]["name"].is_string()), (422, true));
    let (_, tree) = json_of(unit_admin.get(s.api("hunan", &format!("/orgs/{school}"))).send().await.unwrap()).await;
    assert!(tree["children"].as_array().unwrap().iter().any(|c| c["name"] == "后勤处"), "{tree}");
    // A unit admin cannot browse the city bureau above it.
    let city_bureau = bureau(&s, "hunan", "430100").await;
    let (status, _) = json_of(unit_admin.get(s.api("hunan", &format!("/orgs/{city_bureau}"))).send().await.unwrap()).await;
    assert_eq!(status, 404);

    // The city bureau disables the school's admin: the admin's session ends and login is refused.
    let city = s.demo("hunan", "hr", 501).await;
    let admin_account = me["account"]["id"].as_i64().unwrap();
    let (status, _) = json_of(
        city.post(s.api("hunan", &format!("/accounts/{admin_account}/status"))).json(&json!({"status": "disabled"})).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = json_of(unit_admin.get(s.api("hunan", "/me")).send().await.unwrap()).await;
    assert_eq!(status, 401);
    let demo_id = jijiao::demo::demo_id_number("hunan", 201);
    let (status, body) = login_status(&s, "hunan", "unit", &demo_id, jijiao::demo::DEMO_PASSWORD).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("disabled")));
    let (status, _) = json_of(
        city.post(s.api("hunan", &format!("/accounts/{admin_account}/status"))).json(&json!({"status": "active"})).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 204);

    // A one-time code replaces the password and forces a change at the next login.
    let (status, body) = json_of(city.post(s.api("hunan", &format!("/accounts/{admin_account}/reset-code"))).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let code = body["code"].as_str().unwrap().to_owned();
    let (status, _) = login_status(&s, "hunan", "unit", &demo_id, jijiao::demo::DEMO_PASSWORD).await;
    assert_eq!(status, 401, "the old password no longer works");
    let admin = s.login("hunan", "unit", &demo_id, &code).await;
    let (_, me) = json_of(admin.get(s.api("hunan", "/me")).send().await.unwrap()).await;
    assert_eq!(me["account"]["must_change_password"], true);
    let (status, _) = json_of(
        admin
            .post(s.api("hunan", "/me/password"))
            .json(&json!({"old_password": code, "new_password": "Fresh2026pass"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 204);
    let (_, me) = json_of(admin.get(s.api("hunan", "/me")).send().await.unwrap()).await;
    assert_eq!(me["account"]["must_change_password"], false);
    // Both actions are audited.
    assert_eq!(s.count("SELECT COUNT(*) FROM audit_log WHERE action IN ('account.disabled', 'account.reset_code')").await, 2);
    // The school's admin adds a second admin: a one-time code, a forced change at first login.
    let (status, body) = json_of(
        admin
            .post(s.api("hunan", &format!("/orgs/{school}/admins")))
            .json(&json!({"id_number": id_number("430102", "19920202", 55), "name": "副管理员", "phone": "13600000000", "email": "deputy@example.com"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let deputy = s.login("hunan", "unit", &id_number("430102", "19920202", 55), body["code"].as_str().unwrap()).await;
    let (_, me) = json_of(deputy.get(s.api("hunan", "/me")).send().await.unwrap()).await;
    assert_eq!((me["account"]["role"].as_str(), me["account"]["must_change_password"].as_bool()), (Some("unit_admin"), Some(true)));
    let (status, body) = json_of(
        admin
            .post(s.api("hunan", &format!("/orgs/{school}/admins")))
            .json(&json!({"id_number": "123", "name": "", "phone": "1", "email": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    for field in ["id_number", "name", "phone", "email"] {
        assert!(body["fields"][field].is_string(), "{field}: {body}");
    }
    // Not into an org outside one's subtree, nor another tenant's.
    let (status, _) = json_of(admin.post(s.api("hunan", &format!("/orgs/{city_bureau}/admins"))).json(&json!({"id_number": id_number("430102", "19920202", 56), "name": "越权", "phone": "13600000001", "email": "x@example.com"})).send().await.unwrap()).await;
    assert_eq!(status, 404);

    // A staff member cannot manage accounts at all.
    let staff = s.demo("hunan", "staff", 101).await;
    let (status, _) = json_of(staff.post(s.api("hunan", &format!("/accounts/{admin_account}/reset-code"))).send().await.unwrap()).await;
    assert_eq!(status, 403);
}
both!(admins_manage_below_them, admins_manage_below_them);

/// Issue 15 §3: internal departments are renamed (unique among siblings) and deleted, never while
/// anybody belongs to them; other units' admins and other tenants get nothing.
async fn departments_are_renamed_and_deleted_when_empty(s: TestServer) {
    let teaching: i64 = s.count("SELECT id FROM orgs WHERE tenant_id = 'hunan' AND ext_key = 'demo:dept:teaching'").await;
    let school: i64 = s.count("SELECT id FROM orgs WHERE tenant_id = 'hunan' AND ext_key = 'demo:unit:school'").await;
    let admin = s.demo("hunan", "unit", 201).await;
    let (status, body) = json_of(admin.delete(s.api("hunan", &format!("/departments/{teaching}"))).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("department_in_use")), "{body}");
    let (status, body) =
        json_of(admin.post(s.api("hunan", &format!("/orgs/{school}/departments"))).json(&json!({"name": "后勤处"})).send().await.unwrap())
            .await;
    assert_eq!(status, 201, "{body}");
    let new = body["id"].as_i64().unwrap();
    let rename = |client: &reqwest::Client, id: i64, name: &str| {
        let request = client.patch(s.api("hunan", &format!("/departments/{id}"))).json(&json!({"name": name}));
        async move { json_of(request.send().await.unwrap()).await }
    };
    let teaching_name: (String,) = s.db.one(jijiao::db::q("SELECT name FROM orgs WHERE id = $1").bind(teaching)).await.unwrap();
    let (status, body) = rename(&admin, new, &teaching_name.0).await;
    assert_eq!((status, body["fields"]["name"].is_string()), (422, true), "{body}");
    assert_eq!(rename(&admin, new, "总务处").await.0, 204);
    assert_eq!(s.count(&format!("SELECT COUNT(*) FROM orgs WHERE id = {new} AND name = '总务处'")).await, 1);
    // The hospital's admin and another tenant's admin cannot touch it.
    let hospital = s.demo("hunan", "unit", 202).await;
    assert_eq!(rename(&hospital, new, "抢来的").await.0, 404);
    assert_eq!(hospital.delete(s.api("hunan", &format!("/departments/{new}"))).send().await.unwrap().status(), 404);
    let henan = s.demo("henan", "province", 601).await;
    assert_eq!(henan.delete(s.api("henan", &format!("/departments/{new}"))).send().await.unwrap().status(), 404);
    // The page says why a department in use stays.
    let html = admin.get(s.url("hunan", &format!("/orgs?id={teaching}"))).send().await.unwrap().text().await.unwrap();
    let form = [("csrf_token", csrf_in(&html))];
    let page = admin.post(s.url("hunan", &format!("/departments/{teaching}/delete"))).form(&form).send().await.unwrap();
    assert_eq!(page.status(), 409);
    assert!(page.text().await.unwrap().contains("名人员"), "the reason is on the page");
    assert_eq!(admin.delete(s.api("hunan", &format!("/departments/{new}"))).send().await.unwrap().status(), 204);
    assert_eq!(s.count(&format!("SELECT COUNT(*) FROM orgs WHERE id = {new}")).await, 0);
}
both!(departments_are_renamed_and_deleted_when_empty, departments_are_renamed_and_deleted_when_empty);

/// A rejected organisation reads why at login, corrects its registration and submits it again: the same
/// org and admin, a new round for the same approver, the licence kept unless another is uploaded.
async fn a_rejected_organisation_resubmits(s: TestServer) {
    let credit = jijiao::ids::credit_code_with_check("12430102MB0000888");
    let admin_id = id_number("430102", "19800808", 12);
    let register = |form: reqwest::multipart::Form| {
        let client = s.client();
        let url = s.api("hunan", "/registrations/orgs");
        async move { json_of(client.post(url).multipart(form).send().await.unwrap()).await }
    };
    let first =
        org_form("unit", "芙蓉区实验幼儿园", &credit, "430102", &admin_id).part("licence", Part::bytes(PDF.to_vec()).file_name("执照.pdf"));
    assert_eq!(register(first).await.0, 201);
    let county = county_admin(&s, "hunan", "430102", 23).await;
    let items = pending(&county, &s, "hunan").await;
    let (status, body) = decide(&county, &s, "hunan", &[items[0]["id"].as_i64().unwrap()], "reject", Some("单位名称与证照不一致")).await;
    assert_eq!(status, 200, "{body}");
    let org = items[0]["subject_id"].as_i64().unwrap();

    // With the right password, the login answer says why and where to resubmit.
    let (status, body) = login_status(&s, "hunan", "unit", &admin_id, "Admin2026ok").await;
    assert_eq!((status, body["code"].as_str(), body["reason"].as_str()), (403, Some("rejected"), Some("单位名称与证照不一致")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("单位注册"), "{body}");
    let browser = s.client();
    let csrf = csrf_in(&browser.get(s.url("hunan", "/login")).send().await.unwrap().text().await.unwrap());
    let html = browser
        .post(s.url("hunan", "/login"))
        .form(&[("csrf_token", csrf.as_str()), ("user_type", "unit"), ("id_number", admin_id.as_str()), ("password", "Admin2026ok")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("/register/org\">修改注册信息并重新提交"), "{html}");

    // The wrong password cannot take over the registration; nothing changes.
    let wrong = org_form("unit", "芙蓉区实验幼儿园", &credit, "430102", &admin_id).text("admin_password", "Other2026ok");
    let (status, body) = register(wrong).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"]["admin_password"].is_string(), "{body}");

    let orgs_before = s.count("SELECT COUNT(*) FROM orgs").await;
    let corrected = org_form("unit", "长沙市芙蓉区实验幼儿园", &credit, "430102", &admin_id);
    let (status, body) = register(corrected).await;
    assert_eq!((status, body["resubmitted"].as_bool()), (201, Some(true)), "{body}");
    assert_eq!(s.count("SELECT COUNT(*) FROM orgs").await, orgs_before, "the same org, corrected");
    assert_eq!(s.count("SELECT COUNT(*) FROM blobs").await, 1, "the licence is kept");
    let again = org_form("unit", "长沙市芙蓉区实验幼儿园", &credit, "430102", &admin_id);
    let (status, body) = register(again).await;
    assert_eq!(status, 422, "a pending registration is not resubmitted twice: {body}");

    let items = pending(&county, &s, "hunan").await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!((items[0]["subject_id"].as_i64(), items[0]["round"].as_i64()), (Some(org), Some(2)), "{items:?}");
    assert!(items[0]["summary"].as_str().unwrap().contains("重新提交"));
    let (status, _) = decide(&county, &s, "hunan", &[items[0]["id"].as_i64().unwrap()], "approve", None).await;
    assert_eq!(status, 200);
    let admin = s.login("hunan", "unit", &admin_id, "Admin2026ok").await;
    let (_, me) = json_of(admin.get(s.api("hunan", "/me")).send().await.unwrap()).await;
    assert_eq!(
        (me["account"]["org_name"].as_str(), me["account"]["super_admin"].as_bool()),
        (Some("长沙市芙蓉区实验幼儿园"), Some(true)),
        "{me}"
    );
    assert!(org_id(&s, "hunan", "unit", "芙蓉区实验幼儿园").await == org);
}
both!(a_rejected_organisation_resubmits, a_rejected_organisation_resubmits);
