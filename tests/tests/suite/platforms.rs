//! Online training platforms (issue 6): signed requests, the completions batch API (per-record answers,
//! idempotency), orders on 我的订单 (seed 001 §5.8), reconciliation, and tenants kept apart.

use chrono::{Datelike, Duration, Utc};
use jijiao::db::q;
use jijiao::demo::demo_id_number;
use jijiao::training::platforms::{HEADER_KEY, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP, issue, sign, signed_headers};
use jijiao_tests::{TestServer, both, id_number, json_of};
use serde_json::{Value, json};

/// A platform's client: its tenant, code and credentials.
struct Platform {
    tenant: &'static str,
    key_id: String,
    secret: String,
}

async fn platform(s: &TestServer, tenant: &'static str, code: &str) -> Platform {
    let c = issue(&s.db, tenant, code, true, None).await.expect("credentials");
    Platform { tenant, key_id: c.key_id, secret: c.secret }
}

impl Platform {
    /// The path a platform signs: as sent, with the tenant prefix.
    fn path(&self, path: &str) -> String {
        format!("/t/{}/api/v1{path}", self.tenant)
    }

    async fn send(&self, s: &TestServer, method: &str, path: &str, body: Vec<u8>) -> reqwest::Response {
        let full = self.path(path);
        let mut req = s.client().request(method.parse().unwrap(), format!("{}{full}", s.base));
        for (name, value) in signed_headers(&self.key_id, &self.secret, method, &full, &body) {
            req = req.header(name, value);
        }
        req.header("content-type", "application/json").body(body).send().await.unwrap()
    }

    async fn post(&self, s: &TestServer, path: &str, body: &Value) -> (u16, Value) {
        json_of(self.send(s, "POST", path, body.to_string().into_bytes()).await).await
    }

    async fn get(&self, s: &TestServer, path: &str) -> reqwest::Response {
        self.send(s, "GET", path, Vec::new()).await
    }
}

fn this_year() -> i32 {
    (Utc::now() + Duration::hours(8)).year()
}

fn record(id: &str, id_number: &str, name: &str, subject: &str, hours: Value) -> Value {
    json!({"record_id": id, "id_number": id_number, "name": name, "course_code": format!("C-{id}"),
           "course_title": "事业单位人事管理政策法规", "subject": subject, "hours": hours,
           "completed_at": (Utc::now() - Duration::days(1)).to_rfc3339(), "year": this_year()})
}

fn statuses(body: &Value) -> Vec<String> {
    body["results"]
        .as_array()
        .unwrap_or_else(|| panic!("results: {body}"))
        .iter()
        .map(|r| match r["code"].as_str() {
            Some(code) => format!("{}:{code}", r["status"].as_str().unwrap()),
            None => r["status"].as_str().unwrap().to_owned(),
        })
        .collect()
}

async fn person(s: &TestServer, tenant: &str, seq: u32) -> i64 {
    s.db.scalar(q("SELECT id FROM people WHERE tenant_id = $1 AND id_number = $2").bind(tenant).bind(demo_id_number(tenant, seq)))
        .await
        .unwrap()
}

async fn a_mixed_batch_is_answered_record_by_record(s: TestServer) {
    let p = platform(&s, "hunan", "ischinese").await;
    let (one, two) = (demo_id_number("hunan", 101), demo_id_number("hunan", 102));
    let year = this_year();
    let mut future = record("r-7", &one, "湘一", "public", json!(1));
    future["completed_at"] = json!((Utc::now() + Duration::days(2)).to_rfc3339());
    let mut closed = record("r-8", &one, "湘一", "public", json!(1));
    closed["year"] = json!(year - 2);
    let mut unrecognised = record("r-9", &one, "湘一", "public", json!(1));
    unrecognised["year"] = json!(2019);
    let mut changed = record("r-2", &two, "湘二", "professional", json!("20"));
    changed["hours"] = json!(21);
    let batch = json!({"records": [
        record("r-1", &one, "湘一", "public", json!(12.5)),
        record("r-2", &two, "湘二", "professional", json!("20")),
        record("r-3", &id_number("430104", "19900315", 999), "某人", "public", json!(1)),
        record("r-4", &one, "张三", "public", json!(1)),
        record("r-5", &one, "湘一", "public", json!(-3)),
        record("r-6", &one, "湘一", "public", json!(5000)),
        future,
        closed,
        unrecognised,
        // A Henan person is nobody in Hunan.
        record("r-10", &demo_id_number("henan", 101), "豫一", "public", json!(1)),
        record("r-1", &one, "湘一", "public", json!(12.5)),
        changed,
        {"record_id": "r-13", "id_number": one},
        record("r-14", &one, "湘一", "science", json!(1)),
    ]});
    let (status, body) = p.post(&s, "/platform/completions", &batch).await;
    assert_eq!(status, 200, "{body}");
    let expected = [
        "accepted",
        "accepted",
        "rejected:unknown_person",
        "rejected:name_mismatch",
        "rejected:bad_hours",
        "rejected:bad_hours",
        "rejected:future_date",
        "rejected:year_closed",
        "rejected:year_not_recognised",
        "rejected:unknown_person",
        "duplicate",
        "rejected:conflict",
        "rejected:bad_record",
        "rejected:bad_subject",
    ];
    assert_eq!(statuses(&body), expected, "{body}");
    assert_eq!(
        (body["received"].as_i64(), body["accepted"].as_i64(), body["duplicates"].as_i64(), body["rejected"].as_i64()),
        (Some(14), Some(2), Some(1), Some(11))
    );
    assert_eq!(body["results"][0]["record_id"], "r-1");
    assert!(body["results"][0]["credit_id"].as_i64().is_some(), "{body}");
    // A record that does not parse is still answered under its id, and kept as it was sent.
    assert_eq!(body["results"][12]["record_id"], "r-13", "{body}");
    let (kept,): (String,) = s.db.one(q("SELECT record FROM platform_rejections WHERE record_id = 'r-13'")).await.unwrap();
    assert_eq!(serde_json::from_str::<Value>(&kept).unwrap(), json!({"record_id": "r-13", "id_number": one}));
    assert_eq!(s.count("SELECT COUNT(*) FROM credits WHERE source_ref LIKE 'platform:%'").await, 2);
    assert_eq!(s.count("SELECT COUNT(*) FROM platform_completions").await, 2);
    assert_eq!(s.count("SELECT COUNT(*) FROM platform_rejections").await, 11);

    // The same batch again (a platform retrying after a lost answer): nothing new, the same answers.
    let (status, again) = p.post(&s, "/platform/completions", &batch).await;
    assert_eq!(status, 200, "{again}");
    let mut expected_again = expected.map(str::to_owned).to_vec();
    expected_again[0] = "duplicate".into();
    expected_again[1] = "duplicate".into();
    assert_eq!(statuses(&again), expected_again, "{again}");
    assert_eq!(s.count("SELECT COUNT(*) FROM credits WHERE source_ref LIKE 'platform:%'").await, 2);
    // A changed record under a known id, alone: a conflict, and the ledger keeps the first.
    let mut fix = record("r-1", &one, "湘一", "public", json!(13));
    fix["course_title"] = json!("另一门课");
    let (_, body) = p.post(&s, "/platform/completions", &json!({"records": [fix]})).await;
    assert_eq!(statuses(&body), ["rejected:conflict"], "{body}");
    // Once the person is known, a record rejected earlier goes through under the same id.
    let (_, body) = p.post(&s, "/platform/completions", &json!({"records": [record("r-4", &one, "湘一", "public", json!(1))]})).await;
    assert_eq!(statuses(&body), ["accepted"], "{body}");

    // The credits are the person's, as online hours; the recompute queued with them brings the status up to date.
    let staff = s.demo("hunan", "staff", 101).await;
    let (_, credits) = json_of(staff.get(s.api("hunan", &format!("/me/credits?year={year}"))).send().await.unwrap()).await;
    let refs: Vec<&str> = credits["items"].as_array().unwrap().iter().map(|c| c["source_ref"].as_str().unwrap()).collect();
    assert!(refs.contains(&"platform:ischinese:r-1") && refs.contains(&"platform:ischinese:r-4"), "{credits}");
    assert!(credits["items"].as_array().unwrap().iter().all(|c| c["source"] == "online"));
    assert!(s.jobs().await.iter().any(|j| j.kind == "status.recompute_many"));
    s.drain_jobs().await;
    let (_, years) = json_of(staff.get(s.api("hunan", "/me/years")).send().await.unwrap()).await;
    let row = years["items"].as_array().unwrap().iter().find(|y| y["year"] == year).cloned().unwrap_or_else(|| panic!("{years}"));
    assert_eq!(row["state"], "computed", "{years}");
    assert!(row["counted"]["public"].as_f64().unwrap() >= 13.5, "{row}");
    // The other person of the batch got their own numbers from the same batched recompute.
    let two = person(&s, "hunan", 102).await;
    let current = format!(
        "SELECT COUNT(*) FROM year_status WHERE tenant_id = 'hunan' AND person_id = {two} AND year = {year} \
         AND computed_generation = generation AND counted_professional >= 2000"
    );
    assert_eq!(s.count(&current).await, 1);
    // What the lead's recognition proof reads: valid credits from platforms recognised for that year.
    let me = person(&s, "hunan", 101).await;
    assert_eq!(jijiao::training::platforms::recognised_hours(&s.db, "hunan", me, i64::from(year)).await.unwrap(), (1350, 0));
    let (_, days) = json_of(p.get(&s, "/platform/reconciliation").await).await;
    let day = &days["days"][0];
    assert_eq!(
        (day["received"].as_i64(), day["accepted"].as_i64(), day["duplicates"].as_i64(), day["rejected"].as_i64()),
        (Some(30), Some(3), Some(4), Some(23)),
        "{days}"
    );
    assert_eq!(day["hours"], 33.5);

    // A batch larger than 1,000 records is refused whole; a body that is no batch too.
    let big = json!({"records": vec![record("x", &one, "湘一", "public", json!(1)); 1001]});
    let (status, body) = p.post(&s, "/platform/completions", &big).await;
    assert_eq!((status, body["code"].as_str()), (413, Some("batch_too_large")));
    let (status, body) = p.post(&s, "/platform/completions", &json!([1, 2])).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("bad_batch")));
    assert_eq!(s.count("SELECT COUNT(*) FROM credits WHERE source_ref LIKE 'platform:%'").await, 3);
}
both!(a_mixed_batch_is_answered_record_by_record, a_mixed_batch_is_answered_record_by_record);

async fn requests_must_be_signed_fresh_and_once(s: TestServer) {
    let p = platform(&s, "hunan", "webtrn").await;
    let path = p.path("/platform/me");
    let (status, body) = json_of(p.get(&s, "/platform/me").await).await;
    assert_eq!((status, body["code"].as_str(), body["tenant"].as_str()), (200, Some("webtrn"), Some("hunan")), "{body}");

    let send = |headers: Vec<(&'static str, String)>, body: &'static str| {
        let mut req = s.client().post(format!("{}{}", s.base, p.path("/platform/completions")));
        for (k, v) in headers {
            req = req.header(k, v);
        }
        async move { json_of(req.body(body).send().await.unwrap()).await }
    };
    let completions = p.path("/platform/completions");
    let body = r#"{"records": []}"#;
    // No signature at all.
    let (status, res) = send(vec![], body).await;
    assert_eq!((status, res["code"].as_str()), (401, Some("missing_signature")), "{res}");
    // Signed with another secret.
    let (status, res) = send(signed_headers(&p.key_id, "not-the-secret", "POST", &completions, body.as_bytes()), body).await;
    assert_eq!((status, res["code"].as_str()), (401, Some("bad_signature")));
    // The body changed after signing.
    let (status, res) = send(signed_headers(&p.key_id, &p.secret, "POST", &completions, br#"{"records": [1]}"#), body).await;
    assert_eq!((status, res["code"].as_str()), (401, Some("bad_signature")));
    // Signed for another path (a GET signature reused for a POST, say).
    let (status, res) = send(signed_headers(&p.key_id, &p.secret, "POST", &path, body.as_bytes()), body).await;
    assert_eq!((status, res["code"].as_str()), (401, Some("bad_signature")));
    // Stale: ten minutes old, correctly signed.
    let old = Utc::now().timestamp() - 600;
    let stale = vec![
        (HEADER_KEY, p.key_id.clone()),
        (HEADER_TIMESTAMP, old.to_string()),
        (HEADER_NONCE, "stale-nonce-1".to_owned()),
        (HEADER_SIGNATURE, sign(&p.secret, "POST", &completions, old, "stale-nonce-1", body.as_bytes())),
    ];
    let (status, res) = send(stale, body).await;
    assert_eq!((status, res["code"].as_str()), (401, Some("stale_request")));
    // Replayed: the very same signed request twice.
    let headers = signed_headers(&p.key_id, &p.secret, "POST", &completions, body.as_bytes());
    let (status, res) = send(headers.clone(), body).await;
    assert_eq!(status, 200, "{res}");
    let (status, res) = send(headers, body).await;
    assert_eq!((status, res["code"].as_str()), (401, Some("replayed_request")));
    assert!(s.count("SELECT COUNT(*) FROM platform_nonces").await >= 2);

    // A Hunan platform's key means nothing in Henan, even correctly signed for Henan's path.
    let henan_path = "/t/henan/api/v1/platform/completions";
    let mut req = s.client().post(format!("{}{henan_path}", s.base));
    for (k, v) in signed_headers(&p.key_id, &p.secret, "POST", henan_path, body.as_bytes()) {
        req = req.header(k, v);
    }
    let (status, res) = json_of(req.body(body).send().await.unwrap()).await;
    assert_eq!((status, res["code"].as_str()), (401, Some("unknown_key")));

    // Rotation: the old key stops at once, the new one works; without --rotate a second key is refused.
    let refused = issue(&s.db, "hunan", "webtrn", false, None).await.unwrap_err();
    assert_eq!(refused.code, "has_credentials");
    let new = platform(&s, "hunan", "webtrn").await;
    let (status, res) = json_of(p.get(&s, "/platform/me").await).await;
    assert_eq!((status, res["code"].as_str()), (401, Some("unknown_key")));
    let (status, _) = json_of(new.get(&s, "/platform/me").await).await;
    assert_eq!(status, 200);
    assert!(issue(&s.db, "hunan", "nosuch", true, None).await.is_err());
    // The credentials are never shown again: nothing lists the secret.
    let admin = s.demo("hunan", "province", 601).await;
    let html = admin.get(s.url("hunan", "/admin/platforms")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&new.key_id) && !html.contains(&new.secret), "{html}");
}
both!(requests_must_be_signed_fresh_and_once, requests_must_be_signed_fresh_and_once);

async fn orders_show_on_my_orders_and_stay_in_their_tenant(s: TestServer) {
    let p = platform(&s, "hunan", "hnou").await;
    let one = demo_id_number("hunan", 101);
    let paid_at = (Utc::now() - Duration::days(3)).to_rfc3339();
    let order = json!({"order_id": "O-1", "id_number": one, "name": "湘一", "amount": "199.00", "status": "paid", "paid_at": paid_at,
                       "courses": [{"code": "K1", "title": "专业课程包", "hours": 10}]});
    let batch = json!({"records": [
        order,
        {"order_id": "O-2", "id_number": id_number("430104", "19900315", 998), "name": "某人", "amount": 10, "status": "paid", "paid_at": paid_at},
        {"order_id": "O-3", "id_number": one, "name": "湘一", "amount": -1, "status": "paid", "paid_at": paid_at},
        {"order_id": "O-4", "id_number": one, "name": "湘一", "amount": 1, "status": "lost", "paid_at": paid_at},
    ]});
    let (status, body) = p.post(&s, "/platform/orders", &batch).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(statuses(&body), ["accepted", "rejected:unknown_person", "rejected:bad_amount", "rejected:bad_status"]);
    let (_, body) = p.post(&s, "/platform/orders", &batch).await;
    assert_eq!(statuses(&body)[0], "duplicate");
    // Completions under the order count as its hours.
    let mut done = record("k1-1", &one, "湘一", "professional", json!(10));
    done["order_id"] = json!("O-1");
    let (_, body) = p.post(&s, "/platform/completions", &json!({"records": [done]})).await;
    assert_eq!(statuses(&body), ["accepted"]);

    let staff = s.demo("hunan", "staff", 101).await;
    let (status, mine) = json_of(staff.get(s.api("hunan", "/me/orders")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine["total"], 1);
    let o = &mine["items"][0];
    assert_eq!((o["order_id"].as_str(), o["amount"].as_str(), o["status"].as_str()), (Some("O-1"), Some("199"), Some("paid")), "{o}");
    assert_eq!(o["platform"], "湖南开放大学（原湖南广播电视大学）");
    assert_eq!(o["credited_hours"], 10);
    let html = staff.get(s.url("hunan", "/orders")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("我的订单") && html.contains("O-1") && html.contains("专业课程包") && html.contains("0731-82821099"), "{html}");
    // A refund updates the order.
    let mut refunded = batch["records"][0].clone();
    refunded["status"] = json!("refunded");
    let (_, body) = p.post(&s, "/platform/orders", &json!({"records": [refunded]})).await;
    assert_eq!(statuses(&body), ["updated"]);
    let (_, mine) = json_of(staff.get(s.api("hunan", "/me/orders")).send().await.unwrap()).await;
    assert_eq!(mine["items"][0]["status"], "refunded");

    // Nobody else sees it: the other Hunan staff, Henan staff, admins (no orders of their own).
    let other = s.demo("hunan", "staff", 102).await;
    let (_, theirs) = json_of(other.get(s.api("hunan", "/me/orders")).send().await.unwrap()).await;
    assert_eq!(theirs["total"], 0);
    let henan = s.demo("henan", "staff", 101).await;
    let (status, theirs) = json_of(henan.get(s.api("henan", "/me/orders")).send().await.unwrap()).await;
    assert_eq!((status, theirs["total"].as_i64()), (200, Some(0)));
    let admin = s.demo("hunan", "unit", 201).await;
    let (status, _) = json_of(admin.get(s.api("hunan", "/me/orders")).send().await.unwrap()).await;
    assert_eq!(status, 403);
    // A Henan platform cannot report for a Hunan person: unknown there.
    let henan_platform = platform(&s, "henan", "zyjj").await;
    let (_, body) = henan_platform.post(&s, "/platform/orders", &json!({"records": [batch["records"][0].clone()]})).await;
    assert_eq!(statuses(&body), ["rejected:unknown_person"]);
    let (_, body) =
        henan_platform.post(&s, "/platform/completions", &json!({"records": [record("h-1", &one, "湘一", "public", json!(1))]})).await;
    assert_eq!(statuses(&body), ["rejected:unknown_person"]);
    // And a Henan platform's reconciliation knows nothing of Hunan's records.
    let (_, days) = json_of(henan_platform.get(&s, "/platform/reconciliation").await).await;
    assert_eq!(days["days"].as_array().unwrap().len(), 1, "only its own day: {days}");
    assert_eq!(days["days"][0]["received"], 1);
}
both!(orders_show_on_my_orders_and_stay_in_their_tenant, orders_show_on_my_orders_and_stay_in_their_tenant);

async fn reconciliation_for_platform_and_operator(s: TestServer) {
    let p = platform(&s, "hunan", "ischinese").await;
    let one = demo_id_number("hunan", 101);
    let batch = json!({"records": [
        record("a-1", &one, "湘一", "public", json!(2)),
        record("a-2", &one, "王五", "public", json!(2)),
        record("a-3", &one, "湘一", "public", json!(0)),
    ]});
    let (_, body) = p.post(&s, "/platform/completions", &batch).await;
    assert_eq!(statuses(&body), ["accepted", "rejected:name_mismatch", "rejected:bad_hours"]);
    let today = (Utc::now() + Duration::hours(8)).date_naive();

    // The platform's own view, signed.
    let (status, days) = json_of(p.get(&s, &format!("/platform/reconciliation?from={today}&to={today}")).await).await;
    assert_eq!(status, 200, "{days}");
    assert_eq!(days["days"][0]["day"], today.to_string());
    assert_eq!((days["days"][0]["accepted"].as_i64(), days["days"][0]["rejected"].as_i64()), (Some(1), Some(2)));
    let res = p.get(&s, &format!("/platform/rejections.xlsx?day={today}")).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().contains("spreadsheetml"));
    let rows = xlsx_rows(&res.bytes().await.unwrap());
    assert_eq!(rows.len(), 3, "a header and two rejected records: {rows:?}");
    assert!(rows[1].contains(&"name_mismatch".to_owned()) && rows[1].contains(&"a-2".to_owned()), "{rows:?}");
    assert!(rows[2].contains(&"bad_hours".to_owned()));
    // Unsigned, it is nobody's.
    let res = s.client().get(format!("{}{}", s.base, p.path(&format!("/platform/rejections.xlsx?day={today}")))).send().await.unwrap();
    assert_eq!(res.status(), 401);

    // The operator (province admin): platforms with seed 002's sites and phones, the days, the download.
    let admin = s.demo("hunan", "province", 601).await;
    let html = admin.get(s.url("hunan", "/admin/platforms")).send().await.unwrap().text().await.unwrap();
    for text in ["北京思想天下教育科技有限公司", "hn.ischinese.cn", "4008434678", "hn.webtrn.cn", "0731-82821099", "2021 年度起"]
    {
        assert!(html.contains(text), "{text} in {html}");
    }
    let html = admin.get(s.url("hunan", "/admin/platforms/ischinese")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("data-day=\"{today}\"")) && html.contains("rejections.xlsx"), "{html}");
    let res = admin.get(s.url("hunan", &format!("/admin/platforms/ischinese/rejections.xlsx?day={today}"))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(xlsx_rows(&res.bytes().await.unwrap()).len(), 3);
    assert_eq!(s.count("SELECT COUNT(*) FROM audit_log WHERE action = 'export.platform_rejections'").await, 1);
    // Rotating on the page shows the new secret once, and it works.
    let list = admin.get(s.url("hunan", "/admin/platforms")).send().await.unwrap().text().await.unwrap();
    let re = regex::Regex::new(r#"name="csrf_token" value="([^"]+)""#).unwrap();
    let csrf = re.captures(&list).expect("a form with a CSRF token")[1].to_owned();
    let res =
        admin.post(s.url("hunan", "/admin/platforms/webtrn/credentials")).form(&[("csrf_token", csrf.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let key_id = regex::Regex::new(r"<code data-key-id>([^<]+)</code>").unwrap().captures(&html).expect("key id")[1].to_owned();
    let secret = regex::Regex::new(r"<code data-secret>([^<]+)</code>").unwrap().captures(&html).expect("secret")[1].to_owned();
    let rotated = Platform { tenant: "hunan", key_id, secret };
    assert_eq!(json_of(rotated.get(&s, "/platform/me").await).await.0, 200);

    // Staff, unit admins and other tenants' admins see none of it.
    for (tenant, user_type, seq) in [("hunan", "staff", 101), ("hunan", "unit", 201)] {
        let c = s.demo(tenant, user_type, seq).await;
        assert_eq!(c.get(s.url(tenant, "/admin/platforms/ischinese")).send().await.unwrap().status(), 403);
        assert_eq!(
            c.get(s.url(tenant, &format!("/admin/platforms/ischinese/rejections.xlsx?day={today}"))).send().await.unwrap().status(),
            403
        );
    }
    let henan = s.demo("henan", "province", 601).await;
    assert_eq!(henan.get(s.url("henan", "/admin/platforms/ischinese")).send().await.unwrap().status(), 404);
    let html = henan.get(s.url("henan", "/admin/platforms")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("演示") && !html.contains("北京思想天下"), "{html}");
}
both!(reconciliation_for_platform_and_operator, reconciliation_for_platform_and_operator);

/// Every row of the first sheet of an xlsx file, as text.
fn xlsx_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    use calamine::Reader;
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes.to_vec())).expect("an xlsx workbook");
    let sheet = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&sheet).expect("a sheet");
    range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect()
}

async fn tenant_sync_keeps_platforms_in_step(s: TestServer) {
    let rows: Vec<(String, String, String, i64, bool)> =
        s.db.all(q("SELECT code, site, phone, year_from, enabled FROM platforms WHERE tenant_id = 'hunan' ORDER BY id")).await.unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0], ("ischinese".into(), "http://hn.ischinese.cn".into(), "4008434678".into(), 2021, true));
    // Syncing again changes nothing; a platform that left the file is disabled and its key refused.
    jijiao::tenancy::sync::sync_dir(&s.db, &jijiao_tests::workspace_root().join("tenants")).await.unwrap();
    assert_eq!(s.count("SELECT COUNT(*) FROM platforms").await, 9);
    let p = platform(&s, "hubei", "chuxue").await;
    s.db.run(q("UPDATE platforms SET enabled = $1 WHERE tenant_id = 'hubei' AND code = 'chuxue'").bind(false)).await.unwrap();
    let (status, body) = json_of(p.get(&s, "/platform/me").await).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unknown_key")));
    jijiao::tenancy::sync::sync_dir(&s.db, &jijiao_tests::workspace_root().join("tenants")).await.unwrap();
    assert_eq!(json_of(p.get(&s, "/platform/me").await).await.0, 200, "the file lists it: enabled again");
    // Hubei's chuxue is recognised from 2022 only.
    let (_, body) = p
        .post(&s, "/platform/completions", &json!({"records": [{"record_id": "c-1", "id_number": demo_id_number("hubei", 101), "name": "鄂一",
            "course_code": "X", "course_title": "课程", "subject": "public", "hours": 1, "completed_at": "2021-05-01T08:00:00+08:00", "year": 2021}]}))
        .await;
    assert_eq!(statuses(&body), ["rejected:year_not_recognised"]);
}
both!(tenant_sync_keeps_platforms_in_step, tenant_sync_keeps_platforms_in_step);

async fn a_batch_sent_twice_at_once_counts_once(s: TestServer) {
    // A platform that timed out and retried while the first request was still running: one of the two
    // takes each record, the other answers it as a duplicate, and the ledger holds each once.
    let p = platform(&s, "hunan", "webtrn").await;
    let (one, two) = (demo_id_number("hunan", 101), demo_id_number("hunan", 102));
    let records: Vec<Value> = (0..60)
        .map(|i| {
            if i % 2 == 0 {
                record(&format!("t-{i}"), &one, "湘一", "public", json!(1))
            } else {
                record(&format!("t-{i}"), &two, "湘二", "professional", json!(2))
            }
        })
        .collect();
    let batch = json!({"records": records});
    let ((s1, a), (s2, b)) = tokio::join!(p.post(&s, "/platform/completions", &batch), p.post(&s, "/platform/completions", &batch));
    assert_eq!((s1, s2), (200, 200), "{a} {b}");
    assert_eq!(a["accepted"].as_i64().unwrap() + b["accepted"].as_i64().unwrap(), 60, "{a} {b}");
    assert_eq!(a["duplicates"].as_i64().unwrap() + b["duplicates"].as_i64().unwrap(), 60, "{a} {b}");
    assert_eq!(s.count("SELECT COUNT(*) FROM credits WHERE source_ref LIKE 'platform:webtrn:%'").await, 60);
    assert_eq!(s.count("SELECT COUNT(*) FROM platform_completions").await, 60);
}
both!(a_batch_sent_twice_at_once_counts_once, a_batch_sent_twice_at_once_counts_once);

async fn completions_that_meet_the_year_issue_hunans_certificate(s: TestServer) {
    // Seed 002: Hunan issues the in-service certificate by itself once the year qualifies — also when
    // the qualifying hours arrive in a platform batch (recomputed as one job for the batch).
    let p = platform(&s, "hunan", "webtrn").await;
    let id = demo_id_number("hunan", 101);
    let batch =
        json!({"records": [record("y-1", &id, "湘一", "public", json!(30)), record("y-2", &id, "湘一", "professional", json!(60))]});
    let (status, body) = p.post(&s, "/platform/completions", &batch).await;
    assert_eq!((status, body["accepted"].as_i64()), (200, Some(2)), "{body}");
    s.drain_jobs().await;
    let staff = s.demo("hunan", "staff", 101).await;
    let (_, mine) = json_of(staff.get(s.api("hunan", "/me/certificates")).send().await.unwrap()).await;
    let kinds: Vec<&str> = mine["items"].as_array().unwrap().iter().map(|c| c["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["in_service"], "{mine}");
}
both!(completions_that_meet_the_year_issue_hunans_certificate, completions_that_meet_the_year_issue_hunans_certificate);
