//! Hostile input (issue 20): what an attacker's probe found, each defect as the request that showed it.

use std::time::Duration;

use jijiao::db::q;
use jijiao_tests::{Backend, TestServer, both, json_of};
use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::common::*;

fn upload(name: &str, bytes: Vec<u8>) -> Form {
    Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()))
}

/// A workbook with a cell at A1 and one at XFD1048576, the last cell a sheet can have (a dense reader
/// allocates every cell between). The process test (`server/tests/cli/process.rs`) throws the probe's
/// own hand-built file at the real server process.
fn two_corner_workbook() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_number(0, 0, 1).unwrap();
    sheet.write_number(1_048_575, 16_383, 1).unwrap();
    book.save_to_buffer().unwrap()
}

/// A workbook with the import's header and `rows` data rows.
fn long_workbook(rows: u32) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (col, name) in jijiao::hours::import::COLUMNS.iter().enumerate() {
        sheet.write_string(0, col as u16, *name).unwrap();
    }
    for row in 1..=rows {
        sheet.write_string(row, 0, "430102198001011014").unwrap();
    }
    book.save_to_buffer().unwrap()
}

/// Defects 1 and 2 on both backends: refused with the limit named, nothing imported, and old formats get
/// advice.
async fn hostile_spreadsheets_change_nothing(s: TestServer) {
    let admin = s.demo("hunan", "province", 601).await;
    let before = s.count("SELECT COUNT(*) FROM credits").await;
    for (name, bytes) in [("corner.xlsx", two_corner_workbook()), ("long.xlsx", long_workbook(20_002))] {
        let (status, body) =
            json_of(admin.post(s.api("hunan", "/credits/imports")).multipart(upload(name, bytes)).send().await.unwrap()).await;
        assert_eq!(status, 422, "{name}: {body}");
        assert!(body["fields"]["file"].as_str().unwrap().contains("20000 行"), "{name}: {body}");
    }
    let (status, body) = json_of(
        admin.post(s.api("hunan", "/credits/imports")).multipart(upload("old.xls", b"\xd0\xcf\x11\xe0".to_vec())).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    assert!(body["fields"]["file"].as_str().unwrap().contains(".xlsx"), "{body}");
    assert_eq!(s.count("SELECT COUNT(*) FROM credits").await, before);
}
both!(hostile_spreadsheets_change_nothing, hostile_spreadsheets_change_nothing);

/// A workbook whose zip directory claims a part inflates to 4 GB (a zip bomb's signature): refused from
/// the directory before anything is inflated, with advice, and nothing imported.
fn bomb_workbook() -> Vec<u8> {
    let mut bytes = long_workbook(3);
    let mut at = 0;
    let mut patched = 0;
    // Each central directory header (PK\x01\x02) holds the part's uncompressed size at offset 24.
    while let Some(found) = bytes[at..].windows(4).position(|w| w == b"PK\x01\x02") {
        let header = at + found;
        bytes[header + 24..header + 28].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
        patched += 1;
        at = header + 4;
    }
    assert!(patched > 0, "the workbook has a central directory");
    bytes
}

async fn zip_bombs_are_refused_before_inflating(s: TestServer) {
    let admin = s.demo("hunan", "province", 601).await;
    let before = s.count("SELECT COUNT(*) FROM credits").await;
    let (status, body) =
        json_of(admin.post(s.api("hunan", "/credits/imports")).multipart(upload("bomb.xlsx", bomb_workbook())).send().await.unwrap()).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"]["file"].as_str().unwrap().contains("解压后过大"), "{body}");
    assert_eq!(s.count("SELECT COUNT(*) FROM credits").await, before);
}
both!(zip_bombs_are_refused_before_inflating, zip_bombs_are_refused_before_inflating);

/// Defects 3 and 4: after login only paths of this tenant's portal are followed.
async fn login_follows_only_paths_of_this_portal(s: TestServer) {
    let id = jijiao::demo::demo_id_number("hubei", 101);
    for (next, expected) in [
        ("/\t/evil.example/x", "/t/hubei/account"),
        ("/%09/evil.example/x", "/t/hubei/account"),
        ("/t/hubei/\n/x", "/t/hubei/account"),
        ("//evil.example/x", "/t/hubei/account"),
        ("/t/hubei//evil.example/x", "/t/hubei/account"),
        ("/t/hunan/hours", "/t/hubei/account"),
        ("https://evil.example/", "/t/hubei/account"),
        ("/t/hubei/hours?year=2024", "/t/hubei/hours?year=2024"),
    ] {
        let client = s.client();
        let html = client.get(s.url("hubei", "/login")).send().await.unwrap().text().await.unwrap();
        let form = [
            ("csrf_token", csrf_in(&html)),
            ("user_type", "staff".to_owned()),
            ("id_number", id.clone()),
            ("password", jijiao::demo::DEMO_PASSWORD.to_owned()),
            ("next", next.to_owned()),
        ];
        let res = client.post(s.url("hubei", "/login")).form(&form).send().await.unwrap();
        assert_eq!(res.status(), 303, "next={next:?}");
        assert_eq!(res.headers()["location"].to_str().unwrap(), expected, "next={next:?}");
    }
}
both!(login_follows_only_paths_of_this_portal, login_follows_only_paths_of_this_portal);

/// Defect 5: a connection that never finishes its headers is closed after the header timeout.
async fn unfinished_headers_are_cut_off(s: TestServer) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = s.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the server closed the connection before the test gave up (10 s)");
    // Complete requests are served as before.
    assert_eq!(reqwest::get(format!("{}/healthz", s.base)).await.unwrap().status(), 200);
}
async fn unfinished_headers_with_short_timeout(backend: Backend) {
    unfinished_headers_are_cut_off(TestServer::start_with(backend, |c| c.header_timeout_secs = 2).await).await;
}
both!(unfinished_headers_are_cut_off, unfinished_headers_with_short_timeout, backend);

/// Defect 6: only the newest reset link works, and a completed reset voids the others.
async fn older_reset_links_stop_working(s: TestServer) {
    let id = jijiao::demo::demo_id_number("hubei", 101);
    let request = json!({"user_type": "staff", "id_number": id, "email": "staff101@hubei.demo.jijiao.local"});
    let token_re = regex::Regex::new(r"reset\?token=([A-Za-z0-9_-]+)").unwrap();
    let outbox = s.data_dir.join("outbox");
    let mut seen = std::collections::BTreeSet::new();
    let mut tokens = Vec::new();
    for _ in 0..3 {
        assert_eq!(s.client().post(s.api("hubei", "/password-resets")).json(&request).send().await.unwrap().status(), 202);
        s.drain_jobs().await;
        let new: Vec<_> =
            std::fs::read_dir(&outbox).unwrap().filter_map(Result::ok).map(|e| e.path()).filter(|p| seen.insert(p.clone())).collect();
        assert_eq!(new.len(), 1, "one mail per request");
        tokens.push(token_re.captures(&jijiao_tests::mail_text(&std::fs::read(&new[0]).unwrap())).unwrap()[1].to_owned());
    }
    let confirm = |token: &str, password: &str| json!({"token": token, "new_password": password});
    // The first two links were voided by the requests after them.
    for token in &tokens[..2] {
        let (status, body) =
            json_of(s.client().post(s.api("hubei", "/password-resets/confirm")).json(&confirm(token, "First2026ok")).send().await.unwrap())
                .await;
        assert_eq!((status, body["code"].as_str()), (400, Some("bad_token")));
    }
    let (status, _) = json_of(
        s.client().post(s.api("hubei", "/password-resets/confirm")).json(&confirm(&tokens[2], "Third2026ok")).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 204);
    s.login("hubei", "staff", &id, "Third2026ok").await;
    // A completed reset leaves no link that works.
    assert_eq!(s.client().post(s.api("hubei", "/password-resets")).json(&request).send().await.unwrap().status(), 202);
    s.drain_jobs().await;
    let staff = s.login("hubei", "staff", &id, "Third2026ok").await;
    let change = json!({"old_password": "Third2026ok", "new_password": "Fourth2026ok"});
    assert_eq!(staff.post(s.api("hubei", "/me/password")).json(&change).send().await.unwrap().status(), 204);
    assert_eq!(s.count("SELECT COUNT(*) FROM password_tokens WHERE used_at IS NULL").await, 0, "a password change voids links still out");
}
both!(older_reset_links_stop_working, older_reset_links_stop_working);

/// The value a response sets for a cookie.
fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.split(';').next().and_then(|pair| pair.split_once('=')).filter(|(n, _)| *n == name).map(|(_, v)| v.to_owned()))
}

/// Defect 7: an invented CSRF cookie/field pair is refused even with a real session; the token a page
/// gives is bound to the session, and a token from before login does not serve the new session.
async fn csrf_tokens_are_bound_to_the_session(s: TestServer) {
    // A client that sends only the cookies the test writes.
    let raw = jijiao_tests::client_builder().build().unwrap();
    let page = raw.get(s.url("hunan", "/login")).send().await.unwrap();
    let before_login = set_cookie(&page, "jijiao_csrf").expect("a CSRF cookie for the login page");
    let login =
        json!({"user_type": "staff", "id_number": jijiao::demo::demo_id_number("hunan", 101), "password": jijiao::demo::DEMO_PASSWORD});
    let res = raw.post(s.api("hunan", "/session")).json(&login).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let session = set_cookie(&res, "jijiao_session").expect("a session cookie");
    let change = |token: &str, new: &str| {
        [("csrf_token", token.to_owned()), ("old_password", jijiao::demo::DEMO_PASSWORD.to_owned()), ("new_password", new.to_owned())]
    };
    let post = |csrf_cookie: String, token: String, new: &'static str| {
        raw.post(s.url("hunan", "/account/password"))
            .header("cookie", format!("jijiao_session={session}; jijiao_csrf={csrf_cookie}"))
            .form(&change(&token, new))
            .send()
    };
    let invented = "A".repeat(43);
    assert_eq!(post(invented.clone(), invented.clone(), "Invented2026x").await.unwrap().status(), 403, "a pair the server never issued");
    let forged = format!("{}.{}", "A".repeat(43), "0".repeat(64));
    assert_eq!(post(forged.clone(), forged, "Forged2026xx").await.unwrap().status(), 403);
    assert_eq!(post(before_login.clone(), before_login, "Stale2026xx").await.unwrap().status(), 403, "issued before the session");
    // The form page of this session gives a token that works.
    let res = raw.get(s.url("hunan", "/account/password")).header("cookie", format!("jijiao_session={session}")).send().await.unwrap();
    let cookie = set_cookie(&res, "jijiao_csrf").expect("a token for this session");
    let html = res.text().await.unwrap();
    assert_eq!(csrf_in(&html), cookie);
    assert_eq!(post(cookie.clone(), cookie, "Bound2026xx").await.unwrap().status(), 200);
    s.login("hunan", "staff", &jijiao::demo::demo_id_number("hunan", 101), "Bound2026xx").await;
}
both!(csrf_tokens_are_bound_to_the_session, csrf_tokens_are_bound_to_the_session);

async fn csrf_cookie_is_secure_with_secure_cookies(backend: Backend) {
    let s = TestServer::start_with(backend, |c| c.secure_cookies = true).await;
    let res = s.client().get(s.url("hunan", "/login")).send().await.unwrap();
    let cookies: Vec<String> = res.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    assert!(cookies.iter().any(|c| c.starts_with("jijiao_csrf=") && c.contains("Secure") && c.contains("HttpOnly")), "{cookies:?}");
}
both!(csrf_cookie_is_secure_with_secure_cookies, csrf_cookie_is_secure_with_secure_cookies, backend);

/// A login from a given client address (the server trusts `X-Forwarded-For` in this test).
async fn login_from(
    s: &TestServer,
    ip: &str,
    user_type: &str,
    id: &str,
    password: &str,
    captcha: Option<(&str, &str)>,
) -> (u16, serde_json::Value) {
    let mut body = json!({"user_type": user_type, "id_number": id, "password": password});
    if let Some((captcha_id, answer)) = captcha {
        body["captcha_id"] = json!(captcha_id);
        body["captcha_answer"] = json!(answer);
    }
    json_of(s.client().post(s.api("hunan", "/session")).header("x-forwarded-for", ip).json(&body).send().await.unwrap()).await
}

/// Logs in through the captcha the server asks for (the test reads the answer it stored).
async fn login_with_captcha(s: &TestServer, ip: &str, user_type: &str, id: &str, password: &str) -> (u16, serde_json::Value) {
    let (status, body) = login_from(s, ip, user_type, id, password, None).await;
    if status != 401 || body["code"] != "captcha_required" {
        return (status, body);
    }
    let captcha_id = body["captcha"]["id"].as_str().unwrap().to_owned();
    let (answer,): (String,) = s.db.one(q("SELECT answer FROM captchas WHERE id = $1").bind(&captcha_id)).await.unwrap();
    login_from(s, ip, user_type, id, password, Some((&captcha_id, &answer))).await
}

/// Defect 8: failures from one address slow that address (captcha) but lock nobody else out, and failures
/// against one account lock out only the address that made them.
async fn failed_logins_slow_the_attacker_not_the_victim(backend: Backend) {
    let s = TestServer::start_with(backend, |c| c.trust_proxy = true).await;
    let attacker = "203.0.113.9";
    // Ten failures from one address against many accounts.
    for seq in 0..10 {
        let (status, _) =
            login_from(&s, attacker, "staff", &jijiao_tests::id_number("430104", "19900101", seq), "guess-123456", None).await;
        assert_eq!(status, 401);
    }
    // The province admin behind the same address still gets in, by solving the captcha.
    let admin = jijiao::demo::demo_id_number("hunan", 601);
    let (status, body) = login_with_captcha(&s, attacker, "province", &admin, jijiao::demo::DEMO_PASSWORD).await;
    assert_eq!(status, 200, "{body}");

    // Ten failures against one chosen account.
    let victim = jijiao::demo::demo_id_number("hunan", 101);
    for _ in 0..10 {
        let (status, _) = login_from(&s, attacker, "staff", &victim, "guess-123456", None).await;
        assert_ne!(status, 200);
    }
    let (status, body) = login_with_captcha(&s, attacker, "staff", &victim, jijiao::demo::DEMO_PASSWORD).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("locked")), "the attacking address is locked out of that account");
    // The victim, from their own address, gets in (a captcha first, since the account is under attack).
    let (status, body) = login_from(&s, "198.51.100.7", "staff", &victim, jijiao::demo::DEMO_PASSWORD, None).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("captcha_required")), "{body}");
    let (status, body) = login_with_captcha(&s, "198.51.100.7", "staff", &victim, jijiao::demo::DEMO_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
}
both!(failed_logins_slow_the_attacker_not_the_victim, failed_logins_slow_the_attacker_not_the_victim, backend);

/// Defect 9: formula text is not a name, and text from forms is escaped in every export.
async fn formula_text_is_refused_and_escaped(s: TestServer) {
    let unit = org_id(&s, "hunan", "unit", "第一中学").await;
    for name in ["=cmd|' /C calc'!A", "=HYPERLINK(\"http://evil.example\",\"点我\")", "@SUM(1+1)", "+张三"] {
        let (status, body) = register_staff(&s, "hunan", &staff_form(unit, &new_id(77), name)).await;
        assert_eq!((status, body["fields"]["name"].is_string()), (422, true), "{name}: {body}");
    }
    assert_eq!(s.count("SELECT COUNT(*) FROM people WHERE name LIKE '=%' OR name LIKE '@%' OR name LIKE '+%'").await, 0);
    let (status, _) = register_staff(&s, "hunan", &staff_form(unit, &new_id(78), "罗伯特·布朗")).await;
    assert_eq!(status, 201, "names with a middle dot are names");

    // Rows written before this check (or by an import) still leave exports as text.
    let one = jijiao::demo::demo_id_number("hunan", 101);
    s.db.run(q("UPDATE people SET name = '=HYPERLINK(\"http://evil.example\",\"x\")', title = '-2+3' WHERE tenant_id = 'hunan' AND id_number = $1").bind(&one))
        .await
        .unwrap();
    let province = s.demo("hunan", "province", 601).await;
    let year = chrono::Utc::now().format("%Y").to_string();
    let res = province.get(s.url("hunan", &format!("/staff/status.xlsx?year={year}"))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap().to_vec();
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let sheet = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&sheet).unwrap();
    let texts: Vec<String> = range.rows().flat_map(|r| r.iter().map(|c| c.to_string())).collect();
    assert!(texts.contains(&"'=HYPERLINK(\"http://evil.example\",\"x\")".to_owned()), "{texts:?}");
    assert!(texts.contains(&"'-2+3".to_owned()), "{texts:?}");
    assert!(!texts.iter().any(|t| t.starts_with('=')), "{texts:?}");
}
both!(formula_text_is_refused_and_escaped, formula_text_is_refused_and_escaped);

/// Defect 10: a session opened with a one-time code answers only who it is, the password change and
/// logout until the password is changed; pages lead to the password form.
async fn one_time_code_sessions_must_change_the_password_first(s: TestServer) {
    let city = s.demo("hunan", "hr", 501).await;
    let staff_id = jijiao::demo::demo_id_number("hunan", 101);
    let (account,): (i64,) =
        s.db.one(q("SELECT id FROM accounts WHERE tenant_id = 'hunan' AND id_number = $1 AND user_type = 'staff'").bind(&staff_id))
            .await
            .unwrap();
    let (status, body) = json_of(city.post(s.api("hunan", &format!("/accounts/{account}/reset-code"))).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let code = body["code"].as_str().unwrap().to_owned();
    let staff = s.login("hunan", "staff", &staff_id, &code).await;
    for path in ["/claims", "/me/credits", "/certificates"] {
        let (status, body) = json_of(staff.get(s.api("hunan", path)).send().await.unwrap()).await;
        assert_eq!((status, body["code"].as_str()), (403, Some("password_change_required")), "{path}: {body}");
    }
    let (status, me) = json_of(staff.get(s.api("hunan", "/me")).send().await.unwrap()).await;
    assert_eq!((status, &me["account"]["must_change_password"]), (200, &json!(true)));
    let res = staff.get(s.url("hunan", "/hours")).send().await.unwrap();
    assert_eq!((res.status().as_u16(), res.headers()["location"].to_str().unwrap()), (303, "/t/hunan/account/password"));
    assert_eq!(staff.get(s.url("hunan", "/account/password")).send().await.unwrap().status(), 200);
    let change = json!({"old_password": code, "new_password": "Changed2026ok"});
    assert_eq!(staff.post(s.api("hunan", "/me/password")).json(&change).send().await.unwrap().status(), 204);
    let (status, _) = json_of(staff.get(s.api("hunan", "/claims")).send().await.unwrap()).await;
    assert_eq!(status, 200);
}
both!(one_time_code_sessions_must_change_the_password_first, one_time_code_sessions_must_change_the_password_first);

/// Text holding a NUL character (which PostgreSQL cannot store or compare, found by the generated API
/// calls) is the caller's error, never a server error; SQLite takes it as text.
async fn nul_characters_are_the_callers_error(s: TestServer) {
    let admin = s.demo("henan", "system", 701).await;
    for path in ["/notices?q=a%00b", "/accounts?q=%00", "/orgs?q=%00&kind=unit", "/people?q=%00"] {
        let status = admin.get(s.api("henan", path)).send().await.unwrap().status().as_u16();
        assert!(status == 200 || status == 400, "{path}: {status}");
    }
    let res = admin.post(s.api("henan", "/notices")).json(&serde_json::json!({"title": "a\u{0}b", "body": "正文"})).send().await.unwrap();
    let status = res.status().as_u16();
    assert!(status == 201 || status == 400, "a notice titled with a NUL: {status}");
}
both!(nul_characters_are_the_callers_error, nul_characters_are_the_callers_error);

/// JSON bodies built against the parser — nested deeper than any form, larger than the body limit,
/// numbers beyond every type, truncated, repeated keys — and form values nested just under the parser's
/// limit (which reach the rules plugin) are refused with a 4xx, change nothing, and leave the server
/// answering.
async fn hostile_json_bodies_change_nothing(s: TestServer) {
    let admin = s.demo("henan", "system", 701).await;
    let staff = s.demo("henan", "staff", 101).await;
    let before = crate::sweep::fingerprint(&s).await;
    let nested = |depth: usize| format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
    let year = jijiao::hours::this_year();
    // A real activity and one of its form fields, so the nested value reaches the rules plugin.
    let (activity, field) = {
        let (status, body) = json_of(staff.get(s.api("henan", "/activities")).send().await.unwrap()).await;
        assert_eq!(status, 200);
        let first = &body["activities"][0];
        (first["code"].as_str().expect("an activity").to_owned(), first["fields"][0]["key"].as_str().expect("a field").to_owned())
    };
    let bodies = [
        // Unknown fields are skipped without recursion, however deep; the empty title is then refused.
        format!(r#"{{"title": "", "body": "b", "extra": {}}}"#, nested(129)),
        format!(r#"{{"title": "", "body": "b", "extra": {}}}"#, nested(500_000)),
        format!(r#"{{"title": "{}", "body": "b"}}"#, "题".repeat(1 << 20)),
        r#"{"title": 1e999999, "body": "b"}"#.to_owned(),
        r#"{"title": "a", "title": "b", "body": 18446744073709551616}"#.to_owned(),
        r#"{"title": "a", "body": "#.to_owned(),
        "\u{feff}{}".to_owned(),
        format!(r#"{{"year": {year}, "activity": "{activity}", "fields": {{"{field}": {}}}}}"#, nested(120)),
        format!(r#"{{"year": {year}, "activity": "{activity}", "fields": {{"{field}": {}}}}}"#, nested(129)),
        format!(r#"{{"year": {year}, "activity": "{activity}", "fields": {{"{}": 1}}}}"#, "k".repeat(1 << 20)),
    ];
    for (who, path) in [(&admin, "/notices"), (&staff, "/claims"), (&admin, "/roles")] {
        for body in &bodies {
            let shown: String = body.chars().take(60).collect();
            let send = || who.post(s.api("henan", path)).header("content-type", "application/json").body(body.clone()).send();
            // The server closes the connection after refusing an oversized body; the client's pool may
            // hand that closed connection to the next request once.
            let sent = match send().await {
                Err(_) if body.len() <= 2 << 20 => send().await,
                sent => sent,
            };
            let res = match sent {
                Ok(res) => res,
                // Past the body limit the server may answer 413 and close before the client has sent
                // everything: the client then sees the connection cut, which is a refusal too.
                Err(err) if body.len() > 2 << 20 && err.is_request() => continue,
                Err(err) => panic!("POST {path} {shown}…: {err}"),
            };
            let status = res.status().as_u16();
            assert!((400..500).contains(&status), "POST {path} {shown}…: {status} {}", res.text().await.unwrap_or_default());
        }
    }
    assert_eq!(crate::sweep::fingerprint(&s).await, before, "a refused body changed rows");
    let res = staff.get(s.api("henan", "/me/status")).send().await.unwrap();
    assert_eq!(res.status(), 200, "the server still answers");
}
both!(hostile_json_bodies_change_nothing, hostile_json_bodies_change_nothing);

/// A year the province has no rules for (found by the generated API calls: a 500) is the caller's error.
async fn a_year_without_rules_is_the_callers_error(s: TestServer) {
    let staff = s.demo("henan", "staff", 101).await;
    let (status, body) = json_of(staff.get(s.api("henan", "/activities?year=1991")).send().await.unwrap()).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"]["year"].as_str().is_some_and(|m| m.contains("1991")), "{body}");
}
both!(a_year_without_rules_is_the_callers_error, a_year_without_rules_is_the_callers_error);
