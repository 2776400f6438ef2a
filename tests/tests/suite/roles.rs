//! 角色管理 (issue 17 §1): an organisation's super admin defines roles from its own permissions and gives
//! them to the organisation's other admins; an admin given a role can do exactly what it grants, in
//! every server process within a second, and loses it as soon as it is taken away.

use std::time::Duration;

use jijiao_tests::{Backend, TestServer, both, json_of};
use reqwest::Client;
use serde_json::json;

use crate::common::*;

/// Admin routes a Henan unit admin may call; a role granting only registration review keeps the first.
const REGISTRATION_QUEUE: &str = "/approvals?kind=registration";
const OTHER_ADMIN_ROUTES: &[&str] = &[
    "/staff/status",
    "/people",
    "/approvals?kind=claim",
    "/approvals?kind=transfer",
    "/approvals?kind=person_change",
    "/todos",
    "/stats/overview",
    "/transfers",
    "/filings",
    "/certificates",
];

async fn status(client: &Client, url: String) -> u16 {
    client.get(url).send().await.unwrap().status().as_u16()
}

/// Waits up to two seconds for `url` to answer `expected` (another process reloads each second).
async fn eventually(client: &Client, url: String, expected: u16) {
    let mut last = 0;
    for _ in 0..40 {
        last = status(client, url.clone()).await;
        if last == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} answered {last}, expected {expected}");
}

async fn a_custom_role_grants_exactly_its_permissions_in_every_process(backend: Backend) {
    let s = TestServer::start(backend).await;
    // A second server process on the same database, started before any role exists.
    let second = jijiao::app::build_state(s.state.config.clone()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let second_api = format!("http://{}/t/henan/api/v1", listener.local_addr().unwrap());
    tokio::spawn(jijiao::app::serve(second, listener));

    // The school's super admin (201) makes staff 101 of the school a second admin.
    let super_admin = s.demo("henan", "unit", 201).await;
    let school = s.count("SELECT id FROM orgs WHERE tenant_id = 'henan' AND ext_key = 'demo:unit:school'").await;
    let person = demo_person(&s, "henan", 101).await;
    let (status_code, body) = json_of(
        super_admin
            .post(s.api("henan", &format!("/orgs/{school}/admins")))
            .json(&json!({"source": "staff", "person_id": person}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status_code, 201, "{body}");
    let deputy_id = body["id"].as_i64().unwrap();
    let deputy = s.login("henan", "unit", &jijiao::demo::demo_id_number("henan", 101), jijiao::demo::DEMO_PASSWORD).await;
    for path in std::iter::once(REGISTRATION_QUEUE).chain(OTHER_ADMIN_ROUTES.iter().copied()) {
        assert_eq!(status(&super_admin, s.api("henan", path)).await, 200, "the super admin may call {path}");
        assert_eq!(status(&deputy, s.api("henan", path)).await, 200, "a new admin holds the built-in role: {path}");
    }

    // The catalogue is the unit admin's own permissions, less what everyone keeps; only the super admin sees it.
    let (_, catalogue) = json_of(super_admin.get(s.api("henan", "/permissions")).send().await.unwrap()).await;
    let codes: Vec<&str> = catalogue.as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"registrations:review") && codes.contains(&"people:read"), "{catalogue}");
    assert!(!codes.contains(&"jobs:manage") && !codes.contains(&"profile:read") && !codes.contains(&"basic_data:manage"), "{catalogue}");
    assert!(catalogue.as_array().unwrap().iter().all(|p| p["label"].as_str().is_some_and(|l| !l.contains(':'))), "{catalogue}");
    assert_eq!(status(&deputy, s.api("henan", "/permissions")).await, 403);

    // Bad roles: 422 and nothing stored.
    for (body, field) in [
        (json!({"name": "", "permissions": []}), "name"),
        (json!({"name": "审核员", "permissions": []}), "permissions"),
        (json!({"name": "审核员", "permissions": ["registrations:review", "jobs:manage"]}), "permissions"),
        (json!({"name": "审核员", "permissions": ["basic_data:manage"]}), "permissions"),
    ] {
        let (code, answer) = json_of(super_admin.post(s.api("henan", "/roles")).json(&body).send().await.unwrap()).await;
        assert_eq!(code, 422, "{answer}");
        assert!(answer["fields"][field].is_string(), "{field}: {answer}");
    }
    let school_roles = format!("SELECT COUNT(*) FROM custom_roles WHERE org_id = {school}");
    assert_eq!(s.count(&school_roles).await + s.count("SELECT COUNT(*) FROM casbin_rules WHERE ptype = 'g'").await, 0);
    assert_eq!(
        json_of(deputy.post(s.api("henan", "/roles")).json(&json!({"name": "x", "permissions": ["people:read"]})).send().await.unwrap())
            .await
            .0,
        403
    );

    let (code, body) = json_of(
        super_admin
            .post(s.api("henan", "/roles"))
            .json(&json!({"name": "注册审核员", "permissions": ["registrations:review"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    let role = body["id"].as_i64().unwrap();
    let (code, _) = json_of(
        super_admin
            .post(s.api("henan", "/roles"))
            .json(&json!({"name": "注册审核员", "permissions": ["people:read"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(code, 422, "names are unique in the organisation");

    // Given the role: exactly registration review, and still its own profile.
    let (code, body) = json_of(
        super_admin.put(s.api("henan", &format!("/accounts/{deputy_id}/roles"))).json(&json!({"roles": [role]})).send().await.unwrap(),
    )
    .await;
    assert_eq!((code, body["roles"][0]["name"].as_str(), body["assigned"].as_bool()), (200, Some("注册审核员"), Some(true)), "{body}");
    assert_eq!(status(&deputy, s.api("henan", REGISTRATION_QUEUE)).await, 200);
    for path in OTHER_ADMIN_ROUTES {
        assert_eq!(status(&deputy, s.api("henan", path)).await, 403, "{path}");
    }
    assert_eq!(status(&deputy, s.api("henan", "/me")).await, 200);
    let home = deputy.get(s.url("henan", "/")).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("注册审核") && !home.contains("人员学时") && !home.contains("角色管理"), "the menu follows: {home}");
    // The other process enforces the same within a second.
    eventually(&deputy, format!("{second_api}{REGISTRATION_QUEUE}"), 200).await;
    eventually(&deputy, format!("{second_api}/staff/status"), 403).await;

    // Taken away through this process: gone here at once and in the other within a second.
    let (code, _) =
        json_of(super_admin.put(s.api("henan", &format!("/accounts/{deputy_id}/roles"))).json(&json!({"roles": []})).send().await.unwrap())
            .await;
    assert_eq!(code, 200);
    assert_eq!(status(&deputy, s.api("henan", REGISTRATION_QUEUE)).await, 403);
    eventually(&deputy, format!("{second_api}{REGISTRATION_QUEUE}"), 403).await;
    assert_eq!(status(&deputy, s.api("henan", "/me")).await, 200, "its own profile stays");

    // A role's permissions changed: its holders follow.
    super_admin
        .put(s.api("henan", &format!("/accounts/{deputy_id}/roles")))
        .json(&json!({"roles": [role.to_string()]}))
        .send()
        .await
        .unwrap();
    let (code, body) = json_of(
        super_admin
            .put(s.api("henan", &format!("/roles/{role}")))
            .json(&json!({"name": "注册与人员", "permissions": ["registrations:review", "people:read"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((code, body["holders"].as_i64()), (200, Some(1)), "{body}");
    assert_eq!(status(&deputy, s.api("henan", "/people")).await, 200);
    assert_eq!(status(&deputy, s.api("henan", "/approvals?kind=claim")).await, 403);

    // A role in use is deleted only with a replacement; the built-in role gives everything back.
    let (code, body) = json_of(super_admin.delete(s.api("henan", &format!("/roles/{role}"))).send().await.unwrap()).await;
    assert_eq!((code, body["code"].as_str()), (409, Some("role_in_use")), "{body}");
    let (code, body) = json_of(super_admin.delete(s.api("henan", &format!("/roles/{role}?reassign=999999"))).send().await.unwrap()).await;
    assert_eq!((code, body["fields"]["reassign"].is_string()), (422, true), "{body}");
    let (code, _) = json_of(super_admin.delete(s.api("henan", &format!("/roles/{role}?reassign=unit_admin"))).send().await.unwrap()).await;
    assert_eq!(code, 204);
    assert_eq!(s.count(&school_roles).await, 0);
    for path in OTHER_ADMIN_ROUTES {
        assert_eq!(status(&deputy, s.api("henan", path)).await, 200, "{path}");
    }

    // The super admin holds everything; other organisations and tenants reach none of it.
    let (_, me) = json_of(super_admin.get(s.api("henan", "/me")).send().await.unwrap()).await;
    let own = me["account"]["id"].as_i64().unwrap();
    let (code, body) =
        json_of(super_admin.put(s.api("henan", &format!("/accounts/{own}/roles"))).json(&json!({"roles": []})).send().await.unwrap()).await;
    assert_eq!((code, body["code"].as_str()), (409, Some("super_admin_roles")), "{body}");
    let (_, body) = json_of(
        super_admin.post(s.api("henan", "/roles")).json(&json!({"name": "统计员", "permissions": ["stats:read"]})).send().await.unwrap(),
    )
    .await;
    let kept = body["id"].as_i64().unwrap();
    let hospital = s.demo("henan", "unit", 202).await;
    assert_eq!(status(&hospital, s.api("henan", &format!("/roles/{kept}"))).await, 404);
    assert_eq!(
        json_of(hospital.put(s.api("henan", &format!("/accounts/{deputy_id}/roles"))).json(&json!({"roles": []})).send().await.unwrap())
            .await
            .0,
        404
    );
    let (_, hospital_roles) = json_of(hospital.get(s.api("henan", "/roles")).send().await.unwrap()).await;
    let names: Vec<&str> = hospital_roles["items"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["人员学时查询员"], "only the hospital's own (the demo's) role: {hospital_roles}");
    let hunan = s.demo("hunan", "unit", 201).await;
    assert_eq!(status(&hunan, s.api("hunan", &format!("/roles/{kept}"))).await, 404);
    assert_eq!(
        json_of(hunan.put(s.api("hunan", &format!("/accounts/{deputy_id}/roles"))).json(&json!({"roles": []})).send().await.unwrap())
            .await
            .0,
        404
    );
    let audited = s.count("SELECT COUNT(*) FROM audit_log WHERE tenant_id = 'henan' AND action IN ('role.create', 'role.update', 'role.delete', 'account.roles')").await;
    assert_eq!(audited, 7, "every change is audited");
}
both!(
    a_custom_role_grants_exactly_its_permissions_in_every_process,
    a_custom_role_grants_exactly_its_permissions_in_every_process,
    backend
);

/// The page: roles with their permissions in words, a new one from ticked permissions, each admin's
/// roles set by ticking; the super admin alone sees 角色管理.
async fn the_roles_page_defines_and_assigns(s: TestServer) {
    let super_admin = s.demo("henan", "unit", 201).await;
    let html = super_admin.get(s.url("henan", "/roles")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("本单位还没有自定义角色") && html.contains("注册审核") && html.contains("超级管理员（全部权限）"), "{html}");
    let csrf = csrf_in(&html);
    let res = super_admin.post(s.url("henan", "/roles")).form(&[("csrf_token", csrf.as_str()), ("name", "")]).send().await.unwrap();
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("角色名称应为") && html.contains("请至少选择一项权限"), "{html}");
    let res = super_admin
        .post(s.url("henan", "/roles"))
        .form(&[("csrf_token", csrf.as_str()), ("name", "统计员"), ("permissions", "stats:read"), ("permissions", "people:read")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let html = super_admin.get(s.url("henan", "/roles")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("统计员") && html.contains("综合统计、人员学时查询") || html.contains("人员学时查询、综合统计"), "{html}");
    let role: i64 = s.count("SELECT id FROM custom_roles WHERE name = '统计员'").await;
    // The edit page shows the role below 角色管理.
    let html = super_admin.get(s.url("henan", &format!("/roles/{role}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("编辑角色：统计员") && html.contains("aria-current"), "{html}");
    // Another admin of the unit has no 角色管理.
    let school = s.count("SELECT id FROM orgs WHERE tenant_id = 'henan' AND ext_key = 'demo:unit:school'").await;
    let person = demo_person(&s, "henan", 101).await;
    super_admin
        .post(s.api("henan", &format!("/orgs/{school}/admins")))
        .json(&json!({"source": "staff", "person_id": person}))
        .send()
        .await
        .unwrap();
    let deputy = s.login("henan", "unit", &jijiao::demo::demo_id_number("henan", 101), jijiao::demo::DEMO_PASSWORD).await;
    let home = deputy.get(s.url("henan", "/")).send().await.unwrap().text().await.unwrap();
    assert!(!home.contains("角色管理"), "{home}");
    assert_eq!(deputy.get(s.url("henan", "/roles")).send().await.unwrap().status(), 403);
    // The super admin ticks the deputy's roles: it holds the built-in role until then.
    let html = super_admin.get(s.url("henan", "/roles")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("value=\"unit_admin\" checked> 单位管理员（全部权限）"), "{html}");
    assert_eq!(value_of(&html, "统计员"), role.to_string());
    let (_, me) = json_of(deputy.get(s.api("henan", "/me")).send().await.unwrap()).await;
    let deputy_id = me["account"]["id"].as_i64().unwrap();
    let res = super_admin
        .post(s.url("henan", &format!("/accounts/{deputy_id}/roles")))
        .form(&[("csrf_token", csrf.as_str()), ("roles", role.to_string().as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(deputy.get(s.url("henan", "/stats")).send().await.unwrap().status(), 200);
    assert_eq!(deputy.get(s.url("henan", "/approvals?kind=claim")).send().await.unwrap().status(), 403);
}
both!(the_roles_page_defines_and_assigns, the_roles_page_defines_and_assigns);

/// The value of the checkbox labelled `label` in a page.
fn value_of(html: &str, label: &str) -> String {
    let end = html.find(&format!("> {label}</label>")).unwrap_or_else(|| panic!("no checkbox {label}"));
    let start = html[..end].rfind("value=\"").unwrap() + 7;
    html[start..].split('"').next().unwrap().to_owned()
}
