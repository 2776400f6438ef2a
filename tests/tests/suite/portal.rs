//! The portal as a person meets it (issue 22): errors are the tenant's styled pages in Chinese, whatever
//! went wrong — a query string that does not parse, an unknown path or portal, a wrong method — and the
//! JSON API answers every error with a code. A logged-in person keeps the menu on an error page.

use jijiao_tests::{TestServer, both, json_of};

/// A styled page of this tenant: its stylesheet and name, a Chinese heading, no English parser text.
async fn styled_error(res: reqwest::Response, status: u16, tenant_name: &str) -> String {
    assert_eq!(res.status().as_u16(), status, "{}", res.url());
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"), "{}", res.url());
    let html = res.text().await.unwrap();
    assert!(html.contains("/static/app.css") && html.contains(tenant_name), "{html}");
    assert!(!html.contains("Failed to deserialize") && !html.contains("invalid digit"), "{html}");
    html
}

async fn bad_requests_get_styled_pages(s: TestServer) {
    let city = s.demo("hunan", "hr", 501).await;
    // The org browser's next page (`?id=…&page=2`) used to fail to parse.
    let res = city.get(s.url("hunan", "/orgs")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let (_, me) = json_of(city.get(s.api("hunan", "/me")).send().await.unwrap()).await;
    let org = me["account"]["org_id"].as_i64().unwrap();
    let res = city.get(s.url("hunan", &format!("/orgs?id={org}&page=2"))).send().await.unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());

    let html = styled_error(city.get(s.url("hunan", "/orgs?page=abc")).send().await.unwrap(), 400, "湖南").await;
    assert!(html.contains("请求参数有误"), "{html}");
    let html = styled_error(city.get(s.url("hunan", "/staff/status?year=abc")).send().await.unwrap(), 400, "湖南").await;
    assert!(html.contains("请求参数有误"), "{html}");
    let html = styled_error(city.get(s.url("hunan", "/no/such/page")).send().await.unwrap(), 404, "湖南").await;
    assert!(html.contains("页面不存在"), "{html}");
    assert!(
        html.contains("class=\"sidenav\"") && html.contains("个人中心") && html.contains("退出登录"),
        "the error page keeps the menu: {html}"
    );
    styled_error(s.client().get(s.url("henan", "/no/such/page")).send().await.unwrap(), 404, "河南").await;
    styled_error(city.delete(s.url("hunan", "/login")).send().await.unwrap(), 405, "湖南").await;

    // An unknown portal: the platform's list of portals, saying what happened.
    let res = s.client().get(format!("{}/t/nowhere/hours", s.base)).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let html = res.text().await.unwrap();
    assert!(html.contains("门户或页面不存在") && html.contains("/t/hubei/"), "{html}");

    // The API keeps JSON, with a code, a Chinese message and the parser's detail.
    let (status, body) = json_of(city.get(s.api("hunan", "/staff/status?year=abc")).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("bad_request")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("请求参数有误") && body["detail"].is_string(), "{body}");
    let (status, body) = json_of(city.delete(s.api("hunan", "/me")).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (405, Some("method_not_allowed")), "{body}");
    let (status, body) = json_of(s.client().get(format!("{}/t/nowhere/api/v1/orgs", s.base)).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")), "{body}");
}
both!(bad_requests_get_styled_pages, bad_requests_get_styled_pages);

/// `/metrics` (issue 19 §5): requests by route template and status with latency histograms (buckets, which
/// add up across processes), the job queue by kind, the database pool, the rules engine's calls.
async fn metrics_describe_routes_queue_and_pool(s: TestServer) {
    let staff = s.demo("hunan", "staff", 101).await;
    assert_eq!(staff.get(s.api("hunan", "/me")).send().await.unwrap().status(), 200);
    assert_eq!(staff.get(s.api("hunan", "/me/status?year=2024")).send().await.unwrap().status(), 200);
    let res = s.client().get(s.url("hunan", "/no/such/page")).send().await.unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(res.text().await.unwrap().contains(&id), "the error page shows the request id");
    let text = s.client().get(format!("{}/metrics", s.base)).send().await.unwrap().text().await.unwrap();
    let has = |needle: &str| assert!(text.lines().any(|l| l.contains(needle)), "{needle} in\n{text}");
    has("http_requests_total{method=\"GET\",route=\"/api/v1/me\",status=\"200\"}");
    has("http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/me\",status=\"200\",le=\"0.005\"}");
    has("route=\"unmatched\",status=\"404\"");
    has("jobs_open{kind=\"mail.send\",state=\"queued\"}");
    has("jobs_oldest_age_seconds{kind=\"status.recompute\"");
    has("db_pool_connections ");
    has("rules_call_seconds_bucket{result=\"ok\"");
    has("rules_call_fuel_bucket{result=\"ok\",le=\"10000000\"}");
}
both!(metrics_describe_routes_queue_and_pool, metrics_describe_routes_queue_and_pool);

/// Times on pages are China time (issue 22 §5): a message sent at 18:05 UTC reads 02:05 the next day.
async fn pages_show_china_time(s: TestServer) {
    let staff = s.demo("hunan", "staff", 101).await;
    let (account,): (i64,) =
        s.db.one(
            jijiao::db::q("SELECT id FROM accounts WHERE tenant_id = 'hunan' AND id_number = $1 AND user_type = 'staff'")
                .bind(jijiao::demo::demo_id_number("hunan", 101)),
        )
        .await
        .unwrap();
    let at = chrono::DateTime::parse_from_rfc3339("2026-03-01T18:05:00Z").unwrap().with_timezone(&chrono::Utc);
    s.db.run(
        jijiao::db::q("INSERT INTO messages (tenant_id, account_id, title, body, created_at) VALUES ('hunan', $1, '时区检查', '正文', $2)")
            .bind(account)
            .bind(at),
    )
    .await
    .unwrap();
    let html = staff.get(s.url("hunan", "/messages")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("时区检查") && html.contains("2026-03-02 02:05"), "{html}");
    assert!(!html.contains("2026-03-01 18:05"), "{html}");
}
both!(pages_show_china_time, pages_show_china_time);

/// Issue 22 §2: the menu marks the page one is on (a queue by its kind), and a page below a menu entry
/// has breadcrumbs back to it and home.
async fn the_menu_marks_where_one_is(s: TestServer) {
    let authority = s.demo("hunan", "authority", 401).await;
    let html = authority.get(s.url("hunan", "/approvals?kind=filing")).send().await.unwrap().text().await.unwrap();
    let current: Vec<&str> = html.match_indices(r#"aria-current="page""#).map(|(i, _)| &html[i..(i + 80).min(html.len())]).collect();
    assert_eq!(current.len(), 1, "{html}");
    assert!(current[0].contains("备案审核"), "{current:?}");
    assert!(!html.contains(r#"class="crumbs""#), "a menu page has no breadcrumbs");

    let hospital = s.demo("hunan", "unit", 202).await;
    let (_, filings) = json_of(hospital.get(s.api("hunan", "/filings")).send().await.unwrap()).await;
    let id = filings["items"][0]["id"].as_i64().expect("the demo's filing");
    let html = hospital.get(s.url("hunan", &format!("/filings/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(r#"aria-current="page" class="current">线下培训备案"#), "{html}");
    let crumbs = &html[html.find(r#"class="crumbs""#).expect("breadcrumbs")..];
    let crumbs = &crumbs[..crumbs.find("</nav>").unwrap()];
    assert!(crumbs.contains(">首页</a>") && crumbs.contains(">线下培训备案</a>"), "{crumbs}");
}
both!(the_menu_marks_where_one_is, the_menu_marks_where_one_is);

/// Issue 22 §1: codes reach pages through their labels (the organisation browser's kinds and statuses,
/// the account's login type).
async fn pages_show_labels_not_codes(s: TestServer) {
    let province = s.demo("hunan", "province", 601).await;
    let html = province.get(s.url("hunan", "/orgs")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("<td>人社局</td><td>正常</td>"), "{html}");
    assert!(!html.contains("<td>hr</td>") && !html.contains("<td>active</td>"), "{html}");
    let staff = s.demo("hunan", "staff", 101).await;
    let html = staff.get(s.url("hunan", "/account")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("<dt>账号类型</dt><dd>专业技术人员") && !html.contains("<dd>staff</dd>"), "{html}");
}
both!(pages_show_labels_not_codes, pages_show_labels_not_codes);

/// Issue 22 §4: province words come from the tenant's configuration. Hunan's documents say 公共科目 and
/// name the offline filing form 《事业单位工作人员线下培训备案表》; Henan's say 公需科目 and name no such form.
async fn pages_speak_the_provinces_words(s: TestServer) {
    for (tenant, own, other) in [("hunan", "公共科目", "公需科目"), ("henan", "公需科目", "公共科目")] {
        let staff = s.demo(tenant, "staff", 101).await;
        let html = staff.get(s.url(tenant, "/hours")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains(own) && !html.contains(other), "{tenant} should say {own}: {html}");
    }
    for (tenant, title) in [("hunan", "事业单位工作人员线下培训备案表"), ("henan", "线下培训备案表")] {
        let hospital = s.demo(tenant, "unit", 202).await;
        let html = hospital.get(s.url(tenant, "/filings")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains(&format!("《{title}》")), "{tenant}: {html}");
        let (_, filings) = json_of(hospital.get(s.api(tenant, "/filings")).send().await.unwrap()).await;
        let id = filings["items"][0]["id"].as_i64().expect("the demo's filing");
        let html = hospital.get(s.url(tenant, &format!("/filings/{id}"))).send().await.unwrap().text().await.unwrap();
        assert!(html.contains(&format!("<caption>{title}</caption>")), "{tenant}: {html}");
        if tenant == "henan" {
            assert!(!html.contains("事业单位工作人员线下培训备案表") && !html.contains("公共科目"), "{html}");
        }
    }
}
both!(pages_speak_the_provinces_words, pages_speak_the_provinces_words);

/// Issue 22 §1: no internal codes on pages — the rules that judged a year by version, not by hash; admin
/// pages without command lines or file names; route errors that name departments, not role codes.
async fn pages_name_no_internal_codes(s: TestServer) {
    let staff = s.demo("hunan", "staff", 101).await;
    let html = staff.get(s.url("hunan", "/hours")).send().await.unwrap().text().await.unwrap();
    let (sha,): (String,) =
        s.db.one(jijiao::db::q("SELECT plugin_sha256 FROM year_status WHERE tenant_id = 'hunan' AND plugin_sha256 IS NOT NULL LIMIT 1"))
            .await
            .unwrap();
    assert!(html.contains("按湖南学时规则 0.3.0 版计算") && !html.contains(&sha[..12]), "{html}");

    let province = s.demo("hunan", "province", 601).await;
    for path in ["/admin/import", "/admin/platforms"] {
        let html = province.get(s.url("hunan", path)).send().await.unwrap().text().await.unwrap();
        assert!(!html.contains("jijiao ") && !html.contains("tenant.toml"), "{path}: {html}");
    }
}
both!(pages_name_no_internal_codes, pages_name_no_internal_codes);

/// Issue 22 §3: a filter left blank is a filter not given, on pages and in the API alike (a list's
/// search form sends `?year=&status=draft`); a filter a caller cannot use is not offered.
async fn blank_filters_are_no_filters(s: TestServer) {
    let staff = s.demo("hunan", "staff", 101).await;
    let res = staff.get(s.url("hunan", "/claims?year=&status=draft&q=")).send().await.unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let (status, body) = json_of(staff.get(s.api("hunan", "/claims?year=&status=&page=")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let res = staff.get(s.url("hunan", "/claims?year=abc")).send().await.unwrap();
    assert_eq!(res.status(), 400, "a filter that is not blank must still parse");
    let institution = s.demo("hunan", "institution", 301).await;
    let res = institution.get(s.url("hunan", "/plans?q=&year=&credit_year=&subject_kind=public&status=pending")).send().await.unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    // Only a province or an HR bureau may break the overview down by industry authority.
    let unit = s.demo("hunan", "unit", 201).await;
    let html = unit.get(s.url("hunan", "/stats")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("单位性质") && !html.contains("name=\"by\""), "{html}");
    let province = s.demo("hunan", "province", 601).await;
    let html = province.get(s.url("hunan", "/stats")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("name=\"by\""), "{html}");
}
both!(blank_filters_are_no_filters, blank_filters_are_no_filters);
