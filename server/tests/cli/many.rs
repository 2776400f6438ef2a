//! Many processes, one state (issue 19 §2): two `jijiao serve` processes on one PostgreSQL behave as one
//! server — a session, a CSRF token, login throttling and its captcha, a platform's nonce and the job
//! queue are shared — and `kill -9` of one in the middle of platform batches loses nothing that was
//! answered as accepted, while the other finishes the queued work.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use jijiao::db::{Db, q};
use serde_json::{Value, json};

use super::process::{ServerProcess, json_of, login};

fn postgres_admin_url() -> String {
    std::env::var("JIJIAO_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh database on the test PostgreSQL, dropped when the value goes.
struct Database {
    name: String,
    url: String,
}

impl Database {
    async fn create() -> Database {
        let admin = postgres_admin_url();
        let name = format!("jijiao_two_{}", rand::random::<u32>());
        let db = Db::connect(&admin).await.expect("PostgreSQL for the two-process test");
        db.run(q(format!("CREATE DATABASE {name}"))).await.unwrap();
        db.close().await;
        let (base, params) = admin.split_once('?').map_or((admin.as_str(), String::new()), |(u, p)| (u, format!("?{p}")));
        let url = format!("{}/{name}{params}", base.rsplit_once('/').expect("a database in the URL").0);
        Database { name, url }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                if let Ok(db) = Db::connect(&postgres_admin_url()).await {
                    let _ = db.run(q(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).await;
                    db.close().await;
                }
            });
        })
        .join();
    }
}

fn csrf_in(html: &str) -> String {
    let start = html.find("name=\"csrf_token\" value=\"").expect("a form with a CSRF token") + "name=\"csrf_token\" value=\"".len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// Waits until the queue holds nothing queued or running, at most `limit`.
async fn queue_drained(db: &Db, limit: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        let open: i64 = db.scalar(q("SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')")).await.unwrap();
        if open == 0 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_postgres_behave_as_one() {
    let database = Database::create().await;
    // A short lease, so the survivor takes up the jobs the killed process held.
    let env = [("JIJIAO_DATABASE_URL", database.url.as_str()), ("JIJIAO_JOBS__LEASE_SECS", "3")];
    let mut a = ServerProcess::start_with(&env).await;
    let b = ServerProcess::start_with(&env).await;
    let db = Db::connect(&database.url).await.unwrap();

    // A session opened on A works on B (the cookie jar is per host, and both are 127.0.0.1).
    let staff = login(&a, "hunan", "staff", 101).await;
    let (status, me) = json_of(staff.get(b.api("hunan", "/me")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{me}");
    // A form from A is accepted by B: the CSRF token is bound to the session, not to a process.
    let html = staff.get(format!("{}/t/hunan/account/password", a.base)).send().await.unwrap().text().await.unwrap();
    let form = [
        ("csrf_token", csrf_in(&html)),
        ("old_password", jijiao::demo::DEMO_PASSWORD.to_owned()),
        ("new_password", "TwoProc2026x".to_owned()),
    ];
    let res = staff.post(format!("{}/t/hunan/account/password", b.base)).form(&form).send().await.unwrap();
    assert_eq!(res.status(), 200);
    // Logging out on B ends the session on A.
    assert_eq!(staff.delete(b.api("hunan", "/session")).send().await.unwrap().status(), 204);
    assert_eq!(staff.get(a.api("hunan", "/me")).send().await.unwrap().status(), 401);

    // Failures counted on A make B ask for the captcha; B's captcha is answered on A.
    let victim = jijiao::demo::demo_id_number("hunan", 102);
    let attempt = |server: &ServerProcess, password: &str, captcha: Option<(String, String)>| {
        let mut body = json!({"user_type": "staff", "id_number": victim, "password": password});
        if let Some((id, answer)) = captcha {
            body["captcha_id"] = json!(id);
            body["captcha_answer"] = json!(answer);
        }
        reqwest::Client::new().post(server.api("hunan", "/session")).json(&body).send()
    };
    for _ in 0..3 {
        assert_eq!(attempt(&a, "wrong-one-1", None).await.unwrap().status(), 401);
    }
    let (status, body) = json_of(attempt(&b, jijiao::demo::DEMO_PASSWORD, None).await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("captcha_required")), "{body}");
    let captcha = body["captcha"]["id"].as_str().unwrap().to_owned();
    let (answer,): (String,) = db.one(q("SELECT answer FROM captchas WHERE id = $1").bind(&captcha)).await.unwrap();
    let (status, body) = json_of(attempt(&a, jijiao::demo::DEMO_PASSWORD, Some((captcha, answer))).await.unwrap()).await;
    assert_eq!(status, 200, "{body}");

    // A platform request accepted by A is a replay on B.
    let key = jijiao::training::platforms::issue(&db, "hunan", "ischinese", true, None).await.unwrap();
    let people: Vec<(String, String)> = db
        .all(
            q("SELECT id_number, name FROM people WHERE tenant_id = 'hunan' AND id_number IN ($1, $2)")
                .bind(jijiao::demo::demo_id_number("hunan", 101))
                .bind(jijiao::demo::demo_id_number("hunan", 102)),
        )
        .await
        .unwrap();
    let year = chrono::Utc::now().format("%Y").to_string().parse::<i64>().unwrap();
    let batch = |n: usize| -> Vec<u8> {
        let records: Vec<Value> = (0..50)
            .map(|i| {
                let (id_number, name) = &people[i % people.len()];
                json!({"record_id": format!("k{n}-{i}"), "id_number": id_number, "name": name, "course_code": format!("C{i}"),
                       "course_title": "专业技术人员能力提升", "subject": "professional", "hours": 1,
                       "completed_at": chrono::Utc::now().to_rfc3339(), "year": year})
            })
            .collect();
        serde_json::to_vec(&json!({"records": records})).unwrap()
    };
    let path = "/t/hunan/api/v1/platform/completions";
    let body = batch(0);
    let headers = jijiao::training::platforms::signed_headers(&key.key_id, &key.secret, "POST", path, &body);
    let send = |base: &str| {
        let mut request = reqwest::Client::new().post(format!("{base}{path}")).header("content-type", "application/json");
        for (name, value) in &headers {
            request = request.header(*name, value);
        }
        request.body(body.clone()).send()
    };
    assert_eq!(send(&a.base).await.unwrap().status(), 200);
    let (status, refused) = json_of(send(&b.base).await.unwrap()).await;
    assert_eq!((status, refused["code"].as_str()), (401, Some("replayed_request")), "{refused}");

    // Mails queued through either process are each sent once.
    for (i, server) in [&a, &b, &a, &b].iter().enumerate() {
        let reset = json!({"user_type": "unit", "id_number": jijiao::demo::demo_id_number("hunan", 201 + (i as u32 % 2)),
                           "email": format!("unit{}@hunan.demo.jijiao.local", 201 + i % 2)});
        assert_eq!(reqwest::Client::new().post(server.api("hunan", "/password-resets")).json(&reset).send().await.unwrap().status(), 202);
    }
    assert!(queue_drained(&db, Duration::from_secs(60)).await, "the two processes' workers drain the queue");
    let outbox = |server: &ServerProcess| std::fs::read_dir(server.data.join("outbox")).map_or(0, |d| d.count());
    assert_eq!(outbox(&a) + outbox(&b), 4, "each mail sent once, by one of the two");
    let retried: i64 = db.scalar(q("SELECT COUNT(*) FROM jobs WHERE kind = 'mail.send' AND attempts <> 1")).await.unwrap();
    assert_eq!(retried, 0);

    // kill -9 of A in the middle of platform batches: every batch A answered as accepted is stored.
    let sent = Arc::new(AtomicUsize::new(1));
    let accepted: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let mut senders = Vec::new();
    for _ in 0..2 {
        let (sent, accepted, base, key) = (sent.clone(), accepted.clone(), a.base.clone(), (key.key_id.clone(), key.secret.clone()));
        let bodies: Vec<Vec<u8>> = (0..200).map(batch).collect();
        senders.push(tokio::spawn(async move {
            let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
            loop {
                let n = sent.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(n) else { break };
                let mut request = client.post(format!("{base}{path}")).header("content-type", "application/json");
                for (name, value) in jijiao::training::platforms::signed_headers(&key.0, &key.1, "POST", path, body) {
                    request = request.header(name, value);
                }
                match request.body(body.clone()).send().await {
                    Ok(res) if res.status() == 200 => {
                        let answer: Value = res.json().await.unwrap_or_default();
                        let ids = answer["results"].as_array().into_iter().flatten().filter(|r| r["status"] == "accepted");
                        let refs = ids.filter_map(|r| r["record_id"].as_str()).map(|id| format!("platform:ischinese:{id}"));
                        accepted.lock().unwrap().extend(refs);
                    }
                    // The process is gone: nothing more is answered.
                    _ => break,
                }
            }
        }));
    }
    while sent.load(Ordering::Relaxed) < 12 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    a.kill();
    for sender in senders {
        sender.await.unwrap();
    }
    let accepted = accepted.lock().unwrap().clone();
    assert!(accepted.len() >= 100, "batches were answered before the kill: {}", accepted.len());
    let mut stored = 0;
    for chunk in accepted.chunks(500) {
        let list = chunk.iter().map(|r| format!("'{r}'")).collect::<Vec<_>>().join(",");
        stored += db.scalar(q(format!("SELECT COUNT(*) FROM credits WHERE tenant_id = 'hunan' AND source_ref IN ({list})"))).await.unwrap();
    }
    assert_eq!(stored, accepted.len() as i64, "every record answered as accepted is in the ledger");
    let held: i64 = db.scalar(q("SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')")).await.unwrap();
    eprintln!(
        "killed after {} batches sent; {} records accepted and stored; {held} jobs open",
        sent.load(Ordering::Relaxed),
        accepted.len()
    );
    // B finishes what was queued, including what A held when it died (after the lease).
    assert!(b.healthy().await);
    assert!(queue_drained(&db, Duration::from_secs(90)).await, "B finishes the queued jobs");
    let failed: i64 = db.scalar(q("SELECT COUNT(*) FROM jobs WHERE state = 'failed'")).await.unwrap();
    assert_eq!(failed, 0);
    db.close().await;
}
