//! Admin lists and basic data (seed 003 "专业技术人员管理", "基础数据管理"), public rate limits and the
//! operational endpoints.

use jijiao_tests::{TestServer, both, id_number, json_of};
use reqwest::multipart::Part;
use serde_json::{Value, json};

use crate::common::*;

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
    let (status, body) = json_of(
        system.post(s.api("henan", "/basic-data/unit_nature")).json(&json!({"code": "coop", "name": "合作社"})).send().await.unwrap(),
    )
    .await;
    assert_eq!((status, body), (201, json!({"kind": "unit_nature", "code": "coop"})));
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

/// 管理行业主管部门 / 管理人社局信息 (seed 003): authorities and HR bureaus added, renamed, disabled and
/// enabled as basic-data lists; a disabled one keeps its history but is offered to no registration, and a
/// sync gives file-listed ones their names back without enabling them again.
async fn system_admin_keeps_authorities_and_bureaus(s: TestServer) {
    let system = s.demo("henan", "system", 701).await;
    let list = |path: &'static str| {
        let (system, url) = (system.clone(), s.api("henan", path));
        async move {
            let (status, body) = json_of(system.get(url).send().await.unwrap()).await;
            assert_eq!(status, 200, "{body}");
            body
        }
    };
    let named = |body: &Value, name: &str| body["items"].as_array().unwrap().iter().find(|i| i["name"] == name).cloned();
    let body = list("/basic-data/authority").await;
    assert_eq!(body["total"], 18, "{body}");
    let education = named(&body, "河南省教育厅").expect("the file's authorities are listed");
    assert_eq!(
        (education["code"].as_str(), education["level_label"].as_str(), education["industry_name"].as_str()),
        (Some("prov-edu"), Some("省级"), Some("教育"))
    );
    assert_eq!(list("/basic-data/authority?q=教育厅").await["total"], 1);
    let (status, body) = json_of(system.get(s.api("henan", "/basic-data/authority?status=lost")).send().await.unwrap()).await;
    assert_eq!((status, body["fields"]["status"].is_string()), (422, true), "{body}");

    // Adding: every field checked, nothing stored on a refusal.
    let orgs_before = s.count("SELECT COUNT(*) FROM orgs WHERE tenant_id = 'henan'").await;
    let add = |kind: &'static str, body: Value| {
        let (system, url) = (system.clone(), s.api("henan", &format!("/basic-data/{kind}")));
        async move { json_of(system.post(url).json(&body).send().await.unwrap()).await }
    };
    let (status, body) = add("authority", json!({"code": "bad code!", "name": "", "region": "999999", "industry": "astrology"})).await;
    assert_eq!(status, 422, "{body}");
    for field in ["code", "name", "region", "industry"] {
        assert!(body["fields"][field].is_string(), "{field}: {body}");
    }
    let (status, body) =
        add("authority", json!({"code": "prov-edu", "name": "河南省教育厅", "region": "410000", "industry": "education"})).await;
    assert_eq!((status, body["fields"]["code"].is_string(), body["fields"]["name"].is_string()), (422, true, true), "{body}");
    assert_eq!(s.count("SELECT COUNT(*) FROM orgs WHERE tenant_id = 'henan'").await, orgs_before);
    let (status, body) =
        add("authority", json!({"code": "zz-sport", "name": "郑州市体育局", "region": "410100", "industry": "education"})).await;
    assert_eq!(status, 201, "{body}");
    let sport = named(&list("/basic-data/authority?q=体育局").await, "郑州市体育局").unwrap();
    assert_eq!(
        (sport["level"].as_str(), sport["region_name"].as_str(), sport["enabled"].as_bool()),
        (Some("city"), Some("郑州市"), Some(true)),
        "{sport}"
    );
    let searched = |q: &'static str| {
        let url = s.api("henan", &format!("/orgs?kind=authority&q={q}"));
        let client = s.client();
        async move { json_of(client.get(url).send().await.unwrap()).await.1["total"].as_i64().unwrap() }
    };
    assert_eq!(searched("郑州市体育局").await, 1, "registration forms offer it");

    // Disabled: listed as such, offered to no registration, its supervised history untouched.
    let (status, body) = json_of(
        system
            .post(s.api("henan", "/basic-data/authority/zz-sport"))
            .json(&json!({"name": "郑州市体育局", "enabled": false}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(searched("郑州市体育局").await, 0);
    assert_eq!(named(&list("/basic-data/authority?status=disabled").await, "郑州市体育局").unwrap()["status_label"], "已停用");
    let credit = jijiao::ids::credit_code_with_check("12410102MB0000777");
    let form = org_form("unit", "郑州市中原区体育学校", &credit, "410102", &id_number("410102", "19800808", 31))
        .text("supervisor_id", sport["id"].to_string())
        .part("licence", Part::bytes(PDF.to_vec()).file_name("执照.pdf"));
    let (status, body) = json_of(s.client().post(s.api("henan", "/registrations/orgs")).multipart(form).send().await.unwrap()).await;
    assert_eq!((status, body["fields"]["supervisor_id"].is_string()), (422, true), "{body}");
    let (status, _) = json_of(
        system
            .post(s.api("henan", "/basic-data/authority/zz-sport"))
            .json(&json!({"name": "郑州市体育局", "enabled": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(searched("郑州市体育局").await, 1);

    // A file-listed authority disabled and renamed: the next sync gives the name back, not the status.
    let (status, _) = json_of(
        system
            .post(s.api("henan", "/basic-data/authority/prov-edu"))
            .json(&json!({"name": "改名的教育厅", "enabled": false}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 204);
    jijiao::tenancy::sync::sync_dir(&s.db, &jijiao_tests::workspace_root().join("tenants")).await.unwrap();
    let education = named(&list("/basic-data/authority?q=教育厅").await, "河南省教育厅").expect("the file's name is back");
    assert_eq!(education["status"], "disabled", "{education}");
    assert_eq!(s.count("SELECT COUNT(*) FROM audit_log WHERE tenant_id = 'henan' AND action LIKE 'basic_data.org.%'").await, 4);

    // HR bureaus: a new one is a new region below a province or city bureau.
    let (status, body) = add("hr_bureau", json!({"code": "4101", "name": "", "region": "410102"})).await;
    assert_eq!(status, 422, "{body}");
    for field in ["code", "name", "region"] {
        assert!(body["fields"][field].is_string(), "{field}: {body}");
    }
    let (status, body) = add("hr_bureau", json!({"code": "410102", "name": "中原区人社局", "region": "410100"})).await;
    assert_eq!((status, body["fields"]["code"].is_string()), (422, true), "{body}");
    let (status, body) = add("hr_bureau", json!({"code": "410199", "name": "郑州航空港区人力资源和社会保障局", "region": "410100"})).await;
    assert_eq!(status, 201, "{body}");
    let zone = named(&list("/basic-data/hr_bureau?q=航空港").await, "郑州航空港区人力资源和社会保障局").unwrap();
    assert_eq!(
        (zone["code"].as_str(), zone["level"].as_str(), zone["parent_name"].as_str()),
        (Some("410199"), Some("county"), Some("郑州市人力资源和社会保障局")),
        "{zone}"
    );
    assert_eq!(s.count("SELECT COUNT(*) FROM basic_data WHERE tenant_id = 'henan' AND kind = 'region' AND code = '410199' AND name = '郑州航空港区' AND parent_code = '410100'").await, 1);

    // The page lists them with their filters; nobody else manages them, and tenants stay apart.
    let html = system.get(s.url("henan", "/basic-data?kind=hr_bureau&q=航空港")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("郑州航空港区人力资源和社会保障局") && html.contains("新增人社局") && !html.contains("二七区人力资源"), "{html}");
    let unit = s.demo("henan", "unit", 201).await;
    assert_eq!(json_of(unit.get(s.api("henan", "/basic-data/authority")).send().await.unwrap()).await.0, 403);
    let hunan = s.demo("hunan", "system", 701).await;
    let (status, body) = json_of(hunan.get(s.api("hunan", "/basic-data/authority?q=体育局")).send().await.unwrap()).await;
    assert_eq!((status, body["total"].as_i64()), (200, Some(0)), "{body}");
    let (status, _) = json_of(
        hunan.post(s.api("hunan", "/basic-data/authority/zz-sport")).json(&json!({"name": "x", "enabled": false})).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 404);
}
both!(system_admin_keeps_authorities_and_bureaus, system_admin_keeps_authorities_and_bureaus);

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
