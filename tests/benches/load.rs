//! Load at province scale (issue 19 §4): Hunan filled with ~1,000,000 staff and ~30,000,000 credits
//! (`jijiao_tests::province`, shared with the statistics benchmark), then, for a fixed time each, many
//! concurrent connections over loopback: logged-in staff opening 我的学时 and `GET /me/status`; admins
//! (the province, a city bureau, a unit) paging 人员学时 and their approval queue; anonymous certificate
//! verification; and, as the limits of this machine, a static axum handler answering a page of the same
//! size in the same process, and the same handler after one trivial statement through the server's
//! database layer (the floor of any page that reads the database). Reports requests/s, p50 and p99 per mix and the ratio to the static handler.
//!
//! `cargo bench -p jijiao-tests --bench load`. PostgreSQL from `JIJIAO_TEST_POSTGRES_URL`. Knobs:
//! `JIJIAO_BENCH_CONNECTIONS` (default 200), `JIJIAO_BENCH_SECONDS` (default 15 per mix), and as for the
//! statistics benchmark `JIJIAO_BENCH_PEOPLE`, `JIJIAO_BENCH_UNITS`, `JIJIAO_BENCH_DATABASE`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jijiao::db::q;
use jijiao_tests::TestServer;
use jijiao_tests::province::{ID_PREFIX, Scale};
use reqwest::Client;

// The server's own allocator (server/src/main.rs): the server runs inside this process.
#[global_allocator]
static ALLOCATOR: jijiao::MiMalloc = jijiao::MiMalloc;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// One virtual user: its session cookie (none: anonymous) and the paths it opens in turn.
#[derive(Clone)]
struct User {
    cookie: Option<String>,
    paths: Vec<String>,
}

/// What a mix measured.
struct Outcome {
    requests: usize,
    /// Answers other than 200 (status and path, or the client's error) and how many of each.
    failed: std::collections::BTreeMap<String, usize>,
    rate: f64,
    p50: Duration,
    p99: Duration,
}

/// Runs `users` (one connection each, cycling through them if fewer than `connections`) against
/// `base` for `seconds`; each connection sends its next request when the last one answered.
async fn run(base: &str, users: &[User], connections: usize, seconds: u64) -> Outcome {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let users = Arc::new(users.to_vec());
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (users, base) = (users.clone(), base.to_owned());
        tasks.push(tokio::spawn(async move {
            let user = &users[c % users.len()];
            let client = Client::builder().pool_max_idle_per_host(1).build().unwrap();
            let (mut times, mut failed, mut n) = (Vec::new(), Vec::new(), c);
            while Instant::now() < deadline {
                let path = &user.paths[n % user.paths.len()];
                n += 1;
                let mut request = client.get(format!("{base}{path}"));
                if let Some(cookie) = &user.cookie {
                    request = request.header("cookie", cookie);
                } else {
                    // Anonymous verifications come from many addresses (the server trusts the proxy's
                    // header here, as behind nginx).
                    request = request.header("x-forwarded-for", format!("10.{}.{}.{}", n % 250, (n / 250) % 250, c % 250));
                }
                let started = Instant::now();
                match request.send().await {
                    Ok(res) if res.status() == 200 => {
                        let _ = res.bytes().await;
                        times.push(started.elapsed());
                    }
                    Ok(res) => {
                        let status = res.status();
                        let _ = res.bytes().await;
                        failed.push(format!("{status} {}", path.split('?').next().unwrap_or_default()));
                    }
                    Err(err) => failed.push(err.without_url().to_string()),
                }
            }
            (times, failed)
        }));
    }
    let (mut times, mut failed) = (Vec::new(), std::collections::BTreeMap::new());
    for task in tasks {
        let (t, f) = task.await.unwrap();
        times.extend(t);
        for reason in f {
            *failed.entry(reason).or_insert(0) += 1;
        }
    }
    times.sort();
    let at = |p: f64| times.get(((times.len() as f64 * p) as usize).min(times.len().saturating_sub(1))).copied().unwrap_or_default();
    Outcome { requests: times.len(), failed, rate: times.len() as f64 / seconds as f64, p50: at(0.50), p99: at(0.99) }
}

fn report(name: &str, o: &Outcome, limit: Option<f64>) {
    let ratio = limit.map_or(String::new(), |l| format!(", {:.0}% of static", 100.0 * o.rate / l));
    println!(
        "{name}: {:.0} requests/s, p50 {:.1} ms, p99 {:.1} ms ({} answered 200, {} not){ratio}",
        o.rate,
        o.p50.as_secs_f64() * 1000.0,
        o.p99.as_secs_f64() * 1000.0,
        o.requests,
        o.failed.values().sum::<usize>()
    );
    for (reason, n) in &o.failed {
        println!("    not 200: {n} × {reason}");
    }
}

/// A session for an account, as a login would start it.
async fn session(s: &TestServer, account: i64) -> String {
    let token = jijiao::auth::session::create(&s.db, "hunan", account, 600).await.expect("session");
    format!("{}={token}", jijiao::auth::session::COOKIE)
}

fn main() {
    let scale = Scale::from_env();
    let connections = env("JIJIAO_BENCH_CONNECTIONS", 200) as usize;
    let seconds = env("JIJIAO_BENCH_SECONDS", 15);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        let trust = |c: &mut jijiao::config::Config| c.trust_proxy = true;
        let s = match std::env::var("JIJIAO_BENCH_DATABASE") {
            Ok(name) => TestServer::start_on_kept_database(&name, trust).await,
            Err(_) => TestServer::start_with(jijiao_tests::Backend::Postgres, trust).await,
        };
        let pattern = format!("{ID_PREFIX}%");
        if s.db.scalar(q("SELECT COUNT(*) FROM people WHERE tenant_id = 'hunan' AND id_number LIKE $1").bind(&pattern)).await.unwrap() == 0
        {
            eprintln!("filling hunan: {} people in {} units", scale.people, scale.units);
            jijiao_tests::province::fill(&s.state, "hunan", scale).await.expect("fill");
        }
        println!(
            "hunan: {} people, {} credits; {connections} connections, {seconds} s per mix",
            s.db.scalar(q("SELECT COUNT(*) FROM people WHERE tenant_id = 'hunan'")).await.unwrap(),
            s.db.scalar(q("SELECT COUNT(*) FROM credits WHERE tenant_id = 'hunan'")).await.unwrap()
        );

        // The limit: a static handler with a body the size of 我的学时, in this process.
        let staff: Vec<(i64,)> =
            s.db.all(
                q("SELECT id FROM accounts WHERE tenant_id = 'hunan' AND user_type = 'staff' AND id_number LIKE $1 ORDER BY id LIMIT $2")
                    .bind(&pattern)
                    .bind(connections as i64),
            )
            .await
            .unwrap();
        let mut staff_users = Vec::new();
        for (account,) in &staff {
            staff_users.push(User {
                cookie: Some(session(&s, *account).await),
                paths: vec!["/t/hunan/hours".into(), "/t/hunan/api/v1/me/status".into()],
            });
        }
        let page = Client::new()
            .get(format!("{}/t/hunan/hours", s.base))
            .header("cookie", staff_users[0].cookie.clone().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        let body: &'static str = Box::leak(page.text().await.unwrap().into_boxed_str());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let static_base = format!("http://{}", listener.local_addr().unwrap());
        // The floor of any page that reads the database: the same handler after one trivial statement
        // through the server's database layer and pool.
        let db = s.db.clone();
        let app = axum::Router::new().route("/static", axum::routing::get(move || async move { axum::response::Html(body) })).route(
            "/one-statement",
            axum::routing::get(move || {
                let db = db.clone();
                async move {
                    db.scalar(q("SELECT CAST(1 AS BIGINT)")).await.expect("SELECT 1");
                    axum::response::Html(body)
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let limit = run(&static_base, &[User { cookie: None, paths: vec!["/static".into()] }], connections, seconds).await;
        report(&format!("static axum handler ({} bytes)", body.len()), &limit, None);
        let floor = run(&static_base, &[User { cookie: None, paths: vec!["/one-statement".into()] }], connections, seconds).await;
        report("the same after one statement (SELECT 1 through the server's pool)", &floor, Some(limit.rate));

        let mixes: Vec<(&str, Vec<User>)> = {
            let admin = |seq: u32, user_type: &'static str| {
                let s = &s;
                async move {
                    let id_number = jijiao::demo::demo_id_number("hunan", seq);
                    let (account,): (i64,) =
                        s.db.one(
                            q("SELECT id FROM accounts WHERE tenant_id = 'hunan' AND user_type = $1 AND id_number = $2")
                                .bind(user_type)
                                .bind(id_number),
                        )
                        .await
                        .unwrap();
                    let cookie = session(s, account).await;
                    // A queue the admin reviews (the list's default kind is not every admin's).
                    let queues: std::collections::BTreeMap<String, i64> = Client::new()
                        .get(format!("{}/t/hunan/api/v1/me/todo-counts", s.base))
                        .header("cookie", &cookie)
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    let kind = queues.keys().next().expect("an admin reviews some queue").clone();
                    let paths = (1..=5)
                        .flat_map(|page| {
                            [format!("/t/hunan/staff/status?page={page}"), format!("/t/hunan/api/v1/approvals?kind={kind}&page={page}")]
                        })
                        .collect();
                    User { cookie: Some(cookie), paths }
                }
            };
            let admins = vec![admin(601, "province").await, admin(501, "hr").await, admin(201, "unit").await];
            let numbers: Vec<(String,)> =
                s.db.all(q("SELECT number FROM certificates WHERE tenant_id = 'hunan' ORDER BY id LIMIT 20")).await.unwrap();
            let verify = vec![User { cookie: None, paths: numbers.iter().map(|(n,)| format!("/t/hunan/verify?number={n}")).collect() }];
            let mut mixes =
                vec![("staff: 我的学时 and GET /me/status", staff_users), ("admins: 人员学时 pages and approval queues", admins)];
            if numbers.is_empty() {
                eprintln!("no certificates to verify: that mix is skipped");
            } else {
                mixes.push(("anonymous certificate verification", verify));
            }
            mixes
        };
        // This year's summaries, as the job `jijiao serve` queues at start-up would have built them.
        jijiao::stats::summary::rebuild(&s.db, "hunan", jijiao::china_time::this_year()).await.unwrap();
        for (name, users) in &mixes {
            // Each path once before the clock starts: caches, units marked since the summaries were built.
            let client = Client::new();
            for user in users.iter().take(3) {
                for path in &user.paths {
                    let mut request = client.get(format!("{}{path}", s.base));
                    if let Some(cookie) = &user.cookie {
                        request = request.header("cookie", cookie);
                    }
                    let _ = request.send().await.map(|r| r.status());
                }
            }
            let outcome = run(&s.base, users, connections, seconds).await;
            report(name, &outcome, Some(limit.rate));
        }
    });
}
