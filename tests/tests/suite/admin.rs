//! Admin lists and basic data (seed 003 "专业技术人员管理", "基础数据管理"), public rate limits and the
//! operational endpoints.

use jijiao_tests::{TestServer, both, json_of};
use serde_json::json;

async fn people_lists_follow_scope(s: TestServer) {
    // The school's admin sees the school's staff only, with ID numbers masked.
    let school_admin = s.demo("hunan", "unit", 201).await;
    let (status, body) = json_of(school_admin.get(s.api("hunan", "/people")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let names: Vec<&str> = body["items"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["湘一"], "{body}");
    assert!(body["items"][0]["id_number"].as_str().unwrap().contains('*'));
    // The city bureau sees both units; the supervising authority sees the school it supervises.
    let city = s.demo("hunan", "hr", 501).await;
    let (_, body) = json_of(city.get(s.api("hunan", "/people")).send().await.unwrap()).await;
    assert_eq!(body["total"], 2, "{body}");
    let authority = s.demo("hunan", "authority", 401).await;
    let (_, body) = json_of(authority.get(s.api("hunan", "/people")).send().await.unwrap()).await;
    assert_eq!(body["total"], 1, "{body}");
    // Filters: name and exact ID number.
    let (_, body) = json_of(city.get(s.api("hunan", "/people?q=二")).send().await.unwrap()).await;
    assert_eq!(body["items"][0]["name"], "湘二");
    let id = jijiao::demo::demo_id_number("hunan", 101);
    let (_, body) = json_of(city.get(s.api("hunan", &format!("/people?id_number={id}"))).send().await.unwrap()).await;
    assert_eq!(body["total"], 1);
    // Staff cannot list people; other tenants' admins see none of Hunan's.
    let staff = s.demo("hunan", "staff", 101).await;
    let (status, _) = json_of(staff.get(s.api("hunan", "/people")).send().await.unwrap()).await;
    assert_eq!(status, 403);
    let henan = s.demo("henan", "province", 601).await;
    let (_, body) = json_of(henan.get(s.api("henan", &format!("/people?id_number={id}"))).send().await.unwrap()).await;
    assert_eq!(body["total"], 0);
    // The page renders the same list.
    let html = school_admin.get(s.url("hunan", "/people")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("湘一") && !html.contains("湘二"));
}
both!(people_lists_follow_scope, people_lists_follow_scope);

async fn system_admin_manages_basic_data(s: TestServer) {
    let system = s.demo("henan", "system", 701).await;
    let (status, body) = json_of(system.get(s.api("henan", "/basic-data/unit_nature")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let before = body["items"].as_array().unwrap().len();
    let (status, _) = json_of(
        system.post(s.api("henan", "/basic-data/unit_nature")).json(&json!({"code": "coop", "name": "合作社"})).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 201);
    let (status, body) = json_of(
        system.post(s.api("henan", "/basic-data/unit_nature")).json(&json!({"code": "coop", "name": "重复"})).send().await.unwrap(),
    )
    .await;
    assert_eq!((status, body["fields"]["code"].is_string()), (422, true), "{body}");
    let (status, body) = json_of(
        system.post(s.api("henan", "/basic-data/unit_nature")).json(&json!({"code": "bad code!", "name": ""})).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    assert!(body["fields"]["code"].is_string() && body["fields"]["name"].is_string(), "{body}");
    // Disable it: it leaves the registration form's list but stays in the admin list.
    let (status, _) = json_of(
        system
            .post(s.api("henan", "/basic-data/unit_nature/coop"))
            .json(&json!({"name": "农民专业合作社", "enabled": false}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 204);
    let (_, body) = json_of(system.get(s.api("henan", "/basic-data/unit_nature")).send().await.unwrap()).await;
    assert_eq!(body["items"].as_array().unwrap().len(), before + 1);
    let html = s.client().get(s.url("henan", "/register/org")).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains("农民专业合作社"));
    // Regions cannot be edited here; other roles and other tenants get nothing.
    let (status, _) = json_of(system.get(s.api("henan", "/basic-data/region")).send().await.unwrap()).await;
    assert_eq!(status, 404);
    let unit = s.demo("henan", "unit", 201).await;
    let (status, _) =
        json_of(unit.post(s.api("henan", "/basic-data/unit_nature")).json(&json!({"code": "x", "name": "x"})).send().await.unwrap()).await;
    assert_eq!(status, 403);
    let hunan_system = s.demo("hunan", "system", 701).await;
    let (_, body) = json_of(hunan_system.get(s.api("hunan", "/basic-data/unit_nature")).send().await.unwrap()).await;
    assert!(body["items"].as_array().unwrap().iter().all(|i| i["code"] != "coop"), "{body}");
    let (status, _) = json_of(
        hunan_system
            .post(s.api("hunan", "/basic-data/unit_nature/coop"))
            .json(&json!({"name": "改", "enabled": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(s.count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'basic_data.%'").await, 2);
}
both!(system_admin_manages_basic_data, system_admin_manages_basic_data);

async fn public_endpoints_are_rate_limited(s: TestServer) {
    let client = s.client();
    for _ in 0..10 {
        let (status, _) = json_of(
            client
                .post(s.api("hubei", "/password-resets"))
                .json(&json!({"user_type": "staff", "id_number": "x", "email": "a@b.cn"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 202);
    }
    let (status, body) = json_of(
        client
            .post(s.api("hubei", "/password-resets"))
            .json(&json!({"user_type": "staff", "id_number": "x", "email": "a@b.cn"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (429, Some("rate_limited")));
    // Counted per tenant: Hunan's reset form still answers.
    let (status, _) = json_of(
        client
            .post(s.api("hunan", "/password-resets"))
            .json(&json!({"user_type": "staff", "id_number": "x", "email": "a@b.cn"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 202);
}
both!(public_endpoints_are_rate_limited, public_endpoints_are_rate_limited);

async fn operational_endpoints(s: TestServer) {
    let client = s.client();
    assert_eq!(client.get(format!("{}/healthz", s.base)).send().await.unwrap().status(), 200);
    assert_eq!(client.get(format!("{}/readyz", s.base)).send().await.unwrap().status(), 200);
    client.get(s.url("hunan", "/")).send().await.unwrap();
    let metrics = client.get(format!("{}/metrics", s.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("http_requests_total"), "{metrics}");
    let (status, doc) = json_of(client.get(format!("{}/api/openapi.json", s.base)).send().await.unwrap()).await;
    assert_eq!(status, 200);
    for path in [
        "/t/{tenant}/api/v1/session",
        "/t/{tenant}/api/v1/registrations/staff",
        "/t/{tenant}/api/v1/approvals/decisions",
        "/t/{tenant}/api/v1/orgs",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing from the OpenAPI document");
    }
    // Security headers on pages.
    let res = s.client().get(s.url("hunan", "/login")).send().await.unwrap();
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    assert!(res.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'self'"));
    let cookies: Vec<_> = res.headers().get_all("set-cookie").iter().map(|c| c.to_str().unwrap().to_owned()).collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("jijiao_csrf=") && c.contains("HttpOnly") && c.contains("SameSite=Strict")),
        "{cookies:?}"
    );
    // Each tenant's portal carries its own branding.
    let hunan = client.get(s.url("hunan", "/")).send().await.unwrap().text().await.unwrap();
    assert!(hunan.contains("4000-434-678") && hunan.contains("湖南省事业单位工作人员培训管理平台"));
    let css = client.get(s.url("henan", "/theme.css")).send().await.unwrap().text().await.unwrap();
    assert!(css.contains("#0b5cad"));
    let logo = client.get(s.url("hubei", "/theme/logo.svg")).send().await.unwrap();
    assert_eq!(logo.headers()["content-type"], "image/svg+xml");
    assert_eq!(client.get(s.url("hubei", "/theme/..%2Ftenant.toml")).send().await.unwrap().status(), 404);
}
both!(operational_endpoints, operational_endpoints);
