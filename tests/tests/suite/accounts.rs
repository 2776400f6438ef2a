//! 用户管理 (issue 17 §3): one searchable list of the province's accounts, enable / disable one or many
//! (all or nothing), one-time codes, and system administrators created in the browser.

use jijiao_tests::{TestServer, both, json_of};
use reqwest::Client;
use serde_json::{Value, json};

use crate::common::*;

async fn list(client: &Client, s: &TestServer, tenant: &str, query: &str) -> (u16, Value) {
    json_of(client.get(s.api(tenant, &format!("/accounts{query}"))).send().await.unwrap()).await
}

async fn the_province_lists_and_disables_accounts(s: TestServer) {
    let province = s.demo("hunan", "province", 601).await;
    let (status, all) = list(&province, &s, "hunan", "").await;
    assert_eq!(status, 200, "{all}");
    let total = all["total"].as_i64().unwrap();
    assert!(total >= 10, "every demo account of Hunan: {all}");
    assert!(all["items"].as_array().unwrap().iter().all(|a| a["id_number"].as_str().unwrap().contains('*')), "masked: {all}");
    let (_, staff) = list(&province, &s, "hunan", "?type=staff").await;
    assert_eq!(staff["total"], 2, "{staff}");
    assert!(staff["items"].as_array().unwrap().iter().all(|a| a["user_type_label"] == "专业技术人员/个人"), "{staff}");
    let id = jijiao::demo::demo_id_number("hunan", 101);
    let (_, found) = list(&province, &s, "hunan", &format!("?q={id}")).await;
    assert_eq!((found["total"].as_i64(), found["items"][0]["name"].as_str()), (Some(1), Some("湘一")), "{found}");
    let (_, found) = list(&province, &s, "hunan", "?q=湘单").await;
    assert_eq!(found["total"], 1, "{found}");
    let school = org_id(&s, "hunan", "unit", "第一中学").await;
    let (_, of_school) = list(&province, &s, "hunan", &format!("?org={school}")).await;
    assert_eq!(of_school["total"], 2, "the school's staff member and admin: {of_school}");
    for bad in ["?type=emperor", "?status=sleeping"] {
        assert_eq!(list(&province, &s, "hunan", bad).await.0, 422, "{bad}");
    }

    // Batch disable: all or nothing.
    let ids: Vec<i64> = staff["items"].as_array().unwrap().iter().map(|a| a["id"].as_i64().unwrap()).collect();
    let henan_account = {
        let (_, me) = json_of(s.demo("henan", "staff", 101).await.get(s.api("henan", "/me")).send().await.unwrap()).await;
        me["account"]["id"].as_i64().unwrap()
    };
    let batch = |body: Value| {
        let request = province.post(s.api("hunan", "/accounts/status")).json(&body);
        async move { json_of(request.send().await.unwrap()).await }
    };
    let (status, body) = batch(json!({"ids": [ids[0], henan_account], "status": "disabled"})).await;
    assert_eq!(status, 404, "another tenant's account: {body}");
    let staff_client = s.demo("hunan", "staff", 101).await;
    assert_eq!(staff_client.get(s.api("hunan", "/me")).send().await.unwrap().status(), 200, "nothing changed");
    let (status, body) = batch(json!({"ids": ids, "status": "disabled"})).await;
    assert_eq!((status, body["changed"].as_i64()), (200, Some(2)), "{body}");
    assert_eq!(staff_client.get(s.api("hunan", "/me")).send().await.unwrap().status(), 401, "sessions end");
    let (status, body) = batch(json!({"ids": ids, "status": "disabled"})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("status_unchanged")), "{body}");
    let (_, disabled) = list(&province, &s, "hunan", "?status=disabled").await;
    assert_eq!(disabled["total"], 2, "{disabled}");
    assert_eq!(batch(json!({"ids": ids, "status": "active"})).await.0, 200);
    assert_eq!(s.count("SELECT COUNT(*) FROM audit_log WHERE action = 'account.disabled'").await, 2);

    // A system administrator's account is managed by system administrators only.
    let (_, systems) = list(&province, &s, "hunan", "?type=system").await;
    let system_id = systems["items"][0]["id"].as_i64().unwrap();
    let (status, body) = batch(json!({"ids": [system_id], "status": "disabled"})).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("system_admin_only")), "{body}");
    let (_, me) = json_of(province.get(s.api("hunan", "/me")).send().await.unwrap()).await;
    let department = me["account"]["org_id"].as_i64().unwrap();
    let res = province.delete(s.api("hunan", &format!("/orgs/{department}/admins/{system_id}"))).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let system = s.demo("hunan", "system", 701).await;
    let (_, me) = json_of(system.get(s.api("hunan", "/me")).send().await.unwrap()).await;
    assert_eq!(me["account"]["status"], "active");

    // Others see nothing: a unit admin has no such list; Henan's list has no Hunan account.
    let unit = s.demo("hunan", "unit", 201).await;
    assert_eq!(list(&unit, &s, "hunan", "").await.0, 403);
    let henan = s.demo("henan", "province", 601).await;
    let (_, henan_list) = list(&henan, &s, "henan", &format!("?q={id}")).await;
    assert_eq!(henan_list["total"], 0, "{henan_list}");
    assert_eq!(list(&henan, &s, "henan", &format!("?org={school}")).await.0, 404);
    assert_eq!(henan.post(s.api("henan", &format!("/accounts/{}/reset-code", ids[0]))).send().await.unwrap().status(), 404);

    // The page: filters, rows, batch buttons.
    let html = province.get(s.url("hunan", "/accounts?type=staff")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(">用户管理</a>") && html.contains("湘一") && html.contains("批量禁用"), "{html}");
    let csrf = csrf_in(&html);
    let res = province
        .post(s.url("hunan", "/accounts/status"))
        .form(&[("csrf_token", csrf.as_str()), ("ids", &ids[0].to_string()), ("ids", &ids[1].to_string()), ("status", "disabled")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(s.count("SELECT COUNT(*) FROM audit_log WHERE action = 'account.disabled'").await, 4);
    let res = province
        .post(s.url("hunan", "/accounts/status"))
        .form(&[("csrf_token", csrf.as_str()), ("status", "active")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422, "nothing ticked");
    assert!(res.text().await.unwrap().contains("请至少选择一个账号"));
}
both!(the_province_lists_and_disables_accounts, the_province_lists_and_disables_accounts);

/// A system administrator makes another in the browser's 管理员管理 of the provincial department; nobody
/// else may.
async fn system_admins_are_made_by_system_admins(s: TestServer) {
    let system = s.demo("hunan", "system", 701).await;
    let (_, me) = json_of(system.get(s.api("hunan", "/me")).send().await.unwrap()).await;
    let department = me["account"]["org_id"].as_i64().unwrap();
    let html = system.get(s.url("hunan", &format!("/orgs/{department}/admins"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("value=\"system_admin\">系统管理员"), "{html}");
    let newcomer = new_id(91);
    let add = |client: &Client, role: &str| {
        let body = json!({"source": "new", "role": role, "id_number": newcomer, "name": "新系统", "phone": "13800002222", "email": "s@example.com"});
        let request = client.post(s.api("hunan", &format!("/orgs/{department}/admins"))).json(&body);
        async move { json_of(request.send().await.unwrap()).await }
    };
    let province = s.demo("hunan", "province", 601).await;
    let (status, body) = add(&province, "system_admin").await;
    assert_eq!(status, 422, "a province admin makes no system admin: {body}");
    assert!(body["fields"]["role"].is_string(), "{body}");
    let school = org_id(&s, "hunan", "unit", "第一中学").await;
    let (status, _) = json_of(
        system
            .post(s.api("hunan", &format!("/orgs/{school}/admins")))
            .json(&json!({"source": "new", "role": "system_admin", "id_number": newcomer, "name": "新系统", "phone": "13800002222", "email": "s@example.com"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422, "system admins belong to the provincial department");
    let (status, body) = add(&system, "system_admin").await;
    assert_eq!(status, 201, "{body}");
    let code = body["code"].as_str().unwrap();
    let client = s.login("hunan", "system", &newcomer, code).await;
    let (_, me) = json_of(client.get(s.api("hunan", "/me")).send().await.unwrap()).await;
    assert_eq!(me["account"]["role"], "system_admin", "{me}");
}
both!(system_admins_are_made_by_system_admins, system_admins_are_made_by_system_admins);
