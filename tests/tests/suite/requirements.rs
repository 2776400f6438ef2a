//! 管理年度完成继续教育学时 (issue 17 §2): the system administrator's yearly requirement table per title
//! level. A saved table judges that year only, in every server process; earlier years keep the figures
//! they were judged by.

use jijiao_tests::{Backend, TestServer, both, json_of};
use reqwest::Client;
use serde_json::{Value, json};

use crate::common::*;

async fn get(client: &Client, s: &TestServer, tenant: &str, path: &str) -> Value {
    let (status, body) = json_of(client.get(s.api(tenant, path)).send().await.unwrap()).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

async fn put(client: &Client, s: &TestServer, tenant: &str, year: i64, rows: Value) -> (u16, Value) {
    json_of(client.put(s.api(tenant, &format!("/requirements/{year}"))).json(&json!({"rows": rows})).send().await.unwrap()).await
}

/// Henan staff 101 holds an intermediate title.
async fn a_saved_table_judges_its_year_only_in_every_process(backend: Backend) {
    let s = TestServer::start(backend).await;
    let year = jijiao::hours::this_year();
    let staff = s.demo("henan", "staff", 101).await;
    let system = s.demo("henan", "system", 701).await;
    let required = |body: &Value| (body["required"]["professional"].clone(), body["required"]["total"].clone());
    assert_eq!(required(&get(&staff, &s, "henan", &format!("/me/status?year={year}")).await), (json!(60), json!(90)));
    // Last year's status is stored now, judged by the rules file's table.
    let last_year = get(&staff, &s, "henan", &format!("/me/status?year={}", year - 1)).await;
    assert_eq!(required(&last_year), (json!(60), json!(90)), "{last_year}");
    let stored_last =
        format!("SELECT COUNT(*) FROM year_status WHERE tenant_id = 'henan' AND year = {} AND required_total = 9000", year - 1);
    let last_year_rows = s.count(&stored_last).await;
    assert!(last_year_rows >= 1);

    // The table in force: the rules file's, one row per level.
    let table = get(&system, &s, "henan", &format!("/requirements/{year}")).await;
    assert_eq!((table["source"].as_str(), table["editable"].as_bool()), (Some("rules_file"), Some(true)), "{table}");
    let intermediate = table["rows"].as_array().unwrap().iter().find(|r| r["title_level"] == "intermediate").cloned().unwrap();
    assert_eq!((intermediate["title_level_name"].as_str(), &intermediate["total"]), (Some("中级"), &json!(90)));

    // Bad tables: a 422 naming the field, nothing stored.
    let other = json!({"title_level": "*", "public": 24, "professional": 60, "total": 90});
    for (rows, field) in [
        (json!([other, {"title_level": "intermediate", "public": -1, "professional": 60, "total": 90}]), "intermediate.public"),
        (json!([other, {"title_level": "intermediate", "public": 24, "professional": "很多", "total": 90}]), "intermediate.professional"),
        (json!([other, {"title_level": "intermediate", "public": 24, "professional": 60, "total": 90.125}]), "intermediate.total"),
        (json!([other, {"title_level": "intermediate", "public": 24, "professional": 60}]), "intermediate.total"),
        (json!([other, {"title_level": "emperor", "public": 24, "professional": 60, "total": 90}]), "emperor.title_level"),
        (json!([other, other]), "*.title_level"),
        (json!([{"title_level": "intermediate", "public": 24, "professional": 60, "total": 90}]), "*.total"),
    ] {
        let (status, body) = put(&system, &s, "henan", year, rows).await;
        assert_eq!(status, 422, "{body}");
        assert!(body["fields"][field].is_string(), "{field}: {body}");
    }
    // Earlier years keep their table; years far ahead have none; only basic-data managers may save.
    let (status, body) = put(&system, &s, "henan", year - 1, json!([other])).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("year_closed")), "{body}");
    assert_eq!(put(&system, &s, "henan", year + 5, json!([other])).await.0, 404);
    for (user_type, seq) in [("staff", 101), ("unit", 201), ("hr", 501)] {
        let client = s.demo("henan", user_type, seq).await;
        assert_eq!(put(&client, &s, "henan", year, json!([other])).await.0, 403, "{user_type}");
        assert_eq!(json_of(client.get(s.api("henan", &format!("/requirements/{year}"))).send().await.unwrap()).await.0, 403);
    }
    assert_eq!(s.count("SELECT COUNT(*) FROM year_requirements").await, 0);

    // A second server process on the same database, with its own copy of the rules.
    let second = jijiao::app::build_state(s.state.config.clone()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    tokio::spawn(jijiao::app::serve(second.clone(), listener));
    assert_eq!(second.rules.stored_requirements("henan", year as u16), None);

    let (status, body) = put(
        &system,
        &s,
        "henan",
        year,
        json!([other, {"title_level": "intermediate", "public": "30", "professional": 90, "total": 120.5}]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["source"], "stored");
    assert!(body["rows"].as_array().unwrap().iter().any(|r| r["title_level"] == "intermediate" && r["total"] == json!(120.5)), "{body}");
    assert_eq!(s.count("SELECT COUNT(*) FROM audit_log WHERE tenant_id = 'henan' AND action = 'requirements.update'").await, 1);
    // Another tenant's table is untouched.
    let hunan = get(&s.demo("hunan", "system", 701).await, &s, "hunan", &format!("/requirements/{year}")).await;
    assert_eq!(hunan["source"], "rules_file", "{hunan}");

    // The other process learns the table within a second or two, and its worker recomputes the year by it.
    let mut learned = false;
    for _ in 0..40 {
        if second.rules.stored_requirements("henan", year as u16).is_some() {
            learned = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(learned, "the second process never read the saved table");
    while jijiao::jobs::run_due(&second, "second", chrono::Utc::now()).await.unwrap() > 0 {}
    let now = get(&staff, &s, "henan", &format!("/me/status?year={year}")).await;
    assert_eq!(required(&now), (json!(90), json!(120.5)), "{now}");
    // Last year keeps the figures it was judged by.
    assert_eq!(s.count(&stored_last).await, last_year_rows);
    assert_eq!(required(&get(&staff, &s, "henan", &format!("/me/status?year={}", year - 1)).await), (json!(60), json!(90)));
}
both!(a_saved_table_judges_its_year_only_in_every_process, a_saved_table_judges_its_year_only_in_every_process, backend);

/// The page: a row per title level, blank levels follow the `*` row, errors shown in words beside the
/// field, earlier years read-only.
async fn the_requirements_page_saves_and_explains(s: TestServer) {
    let year = jijiao::hours::this_year();
    let system = s.demo("henan", "system", 701).await;
    let html = system.get(s.url("henan", "/requirements")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("{year} 年度继续教育学时要求")) && html.contains("其他职称等级") && html.contains("中级"), "{html}");
    let csrf = csrf_in(&html);
    let levels = ["*", "senior", "deputy_senior", "intermediate", "junior", "assistant", "none"];
    let form = |intermediate_total: &str| {
        let mut fields = vec![("csrf_token", csrf.clone())];
        for level in levels {
            let (public, professional, total) = match level {
                "*" => ("24", "60", "90"),
                "intermediate" => ("30", "90", intermediate_total),
                _ => ("", "", ""),
            };
            fields.extend([
                ("title_level", level.to_owned()),
                ("public", public.into()),
                ("professional", professional.into()),
                ("total", total.into()),
            ]);
        }
        fields
    };
    let res = system.post(s.url("henan", &format!("/requirements/{year}"))).form(&form("一百")).send().await.unwrap();
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("学时须为数字") && html.contains("value=\"一百\""), "the error is shown and the input kept: {html}");
    assert_eq!(s.count("SELECT COUNT(*) FROM year_requirements").await, 0);

    let res = system.post(s.url("henan", &format!("/requirements/{year}"))).form(&form("120")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    // Only the rows filled in are stored: the blank levels follow `*`.
    assert_eq!(s.count("SELECT COUNT(*) FROM year_requirements WHERE tenant_id = 'henan'").await, 2);
    let html =
        system.get(s.url("henan", &format!("/requirements?year={year}&done=saved&count=1"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("已保存") && html.contains("value=\"120\"") && html.contains("本年度的要求已于"), "{html}");

    // Back to the rules file's table: the stored rows go, the year is recomputed; a second reset is a 404.
    let csrf = csrf_in(&html);
    let res =
        system.post(s.url("henan", &format!("/requirements/{year}/reset"))).form(&[("csrf_token", csrf.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(s.count("SELECT COUNT(*) FROM year_requirements WHERE tenant_id = 'henan'").await, 0);
    let html = system.get(s.url("henan", "/requirements")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("本年度尚未单独设置") && !html.contains("恢复为省级规则"), "{html}");
    let (status, body) = json_of(system.delete(s.api("henan", &format!("/requirements/{year}"))).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_stored")), "{body}");
    assert_eq!(s.count("SELECT COUNT(*) FROM audit_log WHERE tenant_id = 'henan' AND action = 'requirements.reset'").await, 1);

    let html = system.get(s.url("henan", &format!("/requirements?year={}", year - 1))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("不能再修改") && !html.contains("<button type=\"submit\" class=\"primary\">保存"), "{html}");
}
both!(the_requirements_page_saves_and_explains, the_requirements_page_saves_and_explains);
