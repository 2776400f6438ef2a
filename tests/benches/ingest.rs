//! Load generator for the platform completions API (issue 6's benchmark): signed batches of 1,000
//! records over loopback HTTP against a real server on PostgreSQL, several batches in flight, and —
//! as the physical limit — a raw `COPY` of the same rows into the same tables (`credits` and
//! `platform_completions`, with their indexes and foreign keys), one transaction per 1,000 rows with the
//! same concurrency.
//!
//! `cargo bench -p jijiao-tests --bench ingest` (PostgreSQL from `JIJIAO_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`; a fresh database is created and dropped). Knobs:
//! `JIJIAO_BENCH_BATCHES` (default 200 batches of 1,000), `JIJIAO_BENCH_CONCURRENCY` (default 4),
//! `JIJIAO_BENCH_PEOPLE` (default 20,000 people the records are spread over). Between the two it runs
//! the recompute jobs the batches queued, with one worker, and reports person-years per second.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use chrono::{Datelike, Duration, NaiveDate, Utc};
use jijiao::db::{Db, Query, ToValue, q};
use jijiao_tests::{Backend, TestServer};
use serde_json::{Value, json};

// The server's own allocator (server/src/main.rs): the server runs inside this process.
#[global_allocator]
static ALLOCATOR: jijiao::MiMalloc = jijiao::MiMalloc;

const BATCH: usize = 1000;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Adds `n` people to Hunan's first school, 1,000 per statement; returns their ID numbers and ids.
async fn seed_people(db: &Db, n: usize) -> Vec<(String, i64)> {
    let unit: i64 = db.scalar(q("SELECT MIN(id) FROM orgs WHERE tenant_id = 'hunan' AND kind = 'unit'")).await.expect("a demo unit");
    let base = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    let ids: Vec<String> = (0..n)
        .map(|i| {
            let birth = base + Duration::days((i / 900) as i64);
            jijiao::ids::id_number_with_check(&format!("430103{}{:03}", birth.format("%Y%m%d"), i % 900 + 100))
        })
        .collect();
    let now = Utc::now();
    for chunk in ids.chunks(1000) {
        let mut sql = String::from(
            "INSERT INTO people (tenant_id, id_number, name, gender, unit_id, title_level, post, created_at, updated_at) VALUES ",
        );
        let mut args = vec!["hunan".to_value(), unit.to_value(), now.to_value()];
        for (i, id) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            args.push(id.as_str().to_value());
            sql.push_str(&format!("($1, ${}, '压测', 'male', $2, 'intermediate', 'technical', $3, $3)", args.len()));
        }
        db.run(Query::with_args(sql, args)).await.expect("seed people");
    }
    let rows: Vec<(String, i64)> =
        db.all(q("SELECT id_number, id FROM people WHERE tenant_id = 'hunan' AND name = '压测' ORDER BY id")).await.expect("people");
    rows
}

fn batch_body(batch: usize, people: &[(String, i64)], year: i32) -> Vec<u8> {
    let completed = (Utc::now() - Duration::days(1)).to_rfc3339();
    let records: Vec<Value> = (0..BATCH)
        .map(|i| {
            let n = batch * BATCH + i;
            let (id_number, _) = &people[n % people.len()];
            json!({"record_id": format!("b{batch}-{i}"), "id_number": id_number, "name": "压测", "course_code": format!("C{}", n % 97),
                   "course_title": "专业技术人员能力提升", "subject": if n.is_multiple_of(3) { "public" } else { "professional" },
                   "hours": 1 + (n % 8), "completed_at": completed, "year": year, "order_id": format!("O{}", n / 5)})
        })
        .collect();
    serde_json::to_vec(&json!({"records": records})).unwrap()
}

/// The part of an answer the load generator reads (the per-record results are skipped unparsed).
#[derive(serde::Deserialize)]
struct Answer {
    accepted: usize,
}

/// Sends batches `from..to` with `concurrency` in flight; returns the records accepted.
async fn run_ingest(s: &TestServer, key: &(String, String), bodies: Arc<Vec<Vec<u8>>>, concurrency: usize) -> usize {
    let next = Arc::new(AtomicUsize::new(0));
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().unwrap();
    let path = "/t/hunan/api/v1/platform/completions".to_owned();
    let url = format!("{}{path}", s.base);
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (next, bodies, client, url, path, key) = (next.clone(), bodies.clone(), client.clone(), url.clone(), path.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            let mut accepted = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { break };
                let mut req = client.post(&url).header("content-type", "application/json");
                for (name, value) in jijiao::training::platforms::signed_headers(&key.0, &key.1, "POST", &path, body) {
                    req = req.header(name, value);
                }
                let res = req.body(body.clone()).send().await.expect("request");
                assert_eq!(res.status(), 200);
                let answer: Answer = res.json().await.expect("json");
                accepted += answer.accepted;
            }
            accepted
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total
}

/// The same rows written with `COPY` (text format): credits with explicit ids, then the completions
/// pointing at them, one transaction per batch, `concurrency` at a time.
async fn run_copy(db: &Db, people: &[(String, i64)], batches: usize, concurrency: usize, year: i32, platform_id: i64) -> usize {
    let Db::Postgres(pool) = db else { unreachable!("the benchmark runs on PostgreSQL") };
    let first_id: i64 = db.scalar(q("SELECT COALESCE(MAX(id), 0) + 1000000 FROM credits")).await.unwrap();
    let now = Utc::now().to_rfc3339();
    let day = (Utc::now() + Duration::hours(8)).date_naive().to_string();
    let next = Arc::new(AtomicUsize::new(0));
    let people: Arc<Vec<i64>> = Arc::new(people.iter().map(|p| p.1).collect());
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (pool, next, people, now, day) = (pool.clone(), next.clone(), people.clone(), now.clone(), day.clone());
        tasks.push(tokio::spawn(async move {
            let mut written = 0;
            loop {
                let b = next.fetch_add(1, Ordering::Relaxed);
                if b >= batches {
                    break;
                }
                let mut credits = String::new();
                let mut completions = String::new();
                for i in 0..BATCH {
                    let n = b * BATCH + i;
                    let id = first_id + n as i64;
                    let person = people[n % people.len()];
                    let subject = if n.is_multiple_of(3) { "public" } else { "professional" };
                    credits.push_str(&format!(
                        "{id}\thunan\t{person}\t{year}\t{subject}\t{}\tonline\tplatform:copy:c{b}-{i}\t专业技术人员能力提升\t{now}\n",
                        (1 + n % 8) * 100
                    ));
                    completions.push_str(&format!(
                        "hunan\t{platform_id}\tc{b}-{i}\t{:064x}\t{id}\tC{}\t{now}\tO{}\t{day}\t{now}\n",
                        n,
                        n % 97,
                        n / 5
                    ));
                }
                let mut tx = pool.begin().await.unwrap();
                let mut copy = tx
                    .copy_in_raw(
                        "COPY credits (id, tenant_id, person_id, year, subject, hours, source, source_ref, course, created_at) FROM STDIN",
                    )
                    .await
                    .unwrap();
                copy.send(credits.as_bytes()).await.unwrap();
                copy.finish().await.unwrap();
                let mut copy = tx
                    .copy_in_raw(
                        "COPY platform_completions (tenant_id, platform_id, record_id, digest, credit_id, course_code, \
                         completed_at, order_id, received_on, received_at) FROM STDIN",
                    )
                    .await
                    .unwrap();
                copy.send(completions.as_bytes()).await.unwrap();
                copy.finish().await.unwrap();
                tx.commit().await.unwrap();
                written += BATCH;
            }
            written
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total
}

fn main() {
    let batches = env("JIJIAO_BENCH_BATCHES", 200);
    let concurrency = env("JIJIAO_BENCH_CONCURRENCY", 4);
    let people_n = env("JIJIAO_BENCH_PEOPLE", 20_000);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        let s = TestServer::start(Backend::Postgres).await;
        let people = seed_people(&s.db, people_n).await;
        let issued = jijiao::training::platforms::issue(&s.db, "hunan", "ischinese", true, None).await.unwrap();
        let key = (issued.key_id, issued.secret);
        let platform_id: i64 = s.db.scalar(q("SELECT id FROM platforms WHERE tenant_id = 'hunan' AND code = 'ischinese'")).await.unwrap();
        let year = (Utc::now() + Duration::hours(8)).year();
        eprintln!("{} people; {batches} batches of {BATCH}; {concurrency} in flight", people.len());

        // Warm-up (connections, caches), then the measured run.
        let warm: Vec<Vec<u8>> = (0..5).map(|b| batch_body(1_000_000 + b, &people, year)).collect();
        run_ingest(&s, &key, Arc::new(warm), concurrency).await;
        s.drain_jobs().await;
        let bodies: Vec<Vec<u8>> = (0..batches).map(|b| batch_body(b, &people, year)).collect();
        let started = Instant::now();
        let accepted = run_ingest(&s, &key, Arc::new(bodies), concurrency).await;
        let ingest_secs = started.elapsed().as_secs_f64();
        assert_eq!(accepted, batches * BATCH, "every record is accepted");
        let ingest_rate = accepted as f64 / ingest_secs;
        println!(
            "ingest: {accepted} records in {ingest_secs:.2} s = {ingest_rate:.0} records/s ({:.1} ms per batch of {BATCH})",
            ingest_secs * 1000.0 * concurrency as f64 / batches as f64
        );

        // What the batches queued: one `status.recompute_many` job each, run here by one worker, after
        // the planner statistics autovacuum would have gathered by then (on a table filled seconds ago
        // they say `credits` is empty, and the look-ups by person scan the whole year instead).
        s.db.run(q("ANALYZE")).await.unwrap();
        let started = Instant::now();
        let jobs = s.drain_jobs().await;
        let recompute_secs = started.elapsed().as_secs_f64();
        println!(
            "recompute: {jobs} jobs, {accepted} person-years in {recompute_secs:.2} s = {:.0} person-years/s (one job worker)",
            accepted as f64 / recompute_secs
        );

        let started = Instant::now();
        let copied = run_copy(&s.db, &people, batches, concurrency, year, platform_id).await;
        let copy_secs = started.elapsed().as_secs_f64();
        let copy_rate = copied as f64 / copy_secs;
        println!("COPY:   {copied} rows (credits + platform_completions) in {copy_secs:.2} s = {copy_rate:.0} records/s");
        println!("ingest / COPY = {:.0}%", 100.0 * ingest_rate / copy_rate);
    });
}
