//! Statistics at province scale (issue 16's benchmark): Hunan filled with ~1,000,000 staff in 20,000
//! units and ~30,000,000 credits over three years (`jijiao_tests::province`), then, over loopback HTTP
//! as the provincial HR department's admin: the comprehensive table (继教综合统计) at the province, at a
//! city and at a unit, the title distribution, and beside them hand-written single `GROUP BY` queries
//! over the same tables (the physical limit): the province's cities counted from the ledger itself
//! (credits), and from the tables the endpoint reads (people, learning, year_status).
//!
//! `cargo bench -p jijiao-tests --bench stats`. PostgreSQL from `JIJIAO_TEST_POSTGRES_URL`. Knobs:
//! `JIJIAO_BENCH_PEOPLE` (default 1,000,000), `JIJIAO_BENCH_UNITS` (default one per 50 people),
//! `JIJIAO_BENCH_DATABASE` (keep the filled database under this name and reuse it next time; otherwise
//! a fresh one is dropped at the end), `JIJIAO_BENCH_COLD` (a shell command run before the cold
//! measurement, e.g. `pg_ctlcluster 15 main restart; sync; echo 3 > /proc/sys/vm/drop_caches`; without
//! it "cold" is the server's first request, its caches and pool empty).

use std::time::{Duration, Instant};

use jijiao::db::q;
use jijiao_tests::{Backend, TestServer};
use reqwest::Client;

// The server's own allocator (server/src/main.rs): the server runs inside this process.
#[global_allocator]
static ALLOCATOR: jijiao::MiMalloc = jijiao::MiMalloc;

const WARM_RUNS: usize = 7;

/// Times a request; panics unless it answers 200.
async fn timed(client: &Client, url: &str) -> Duration {
    let started = Instant::now();
    let res = client.get(url).send().await.expect("request");
    let status = res.status();
    let body = res.bytes().await.expect("body");
    assert_eq!(status, 200, "{url}: {}", String::from_utf8_lossy(&body));
    started.elapsed()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// The median of `WARM_RUNS` timings of `f`.
async fn warm<F, Fut>(mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Duration>,
{
    let mut times = Vec::new();
    for _ in 0..WARM_RUNS {
        times.push(f().await);
    }
    times.sort();
    times[times.len() / 2]
}

/// The physical limit: the province's cities with the table's learner and qualified columns, in one
/// hand-written statement over the ledger itself (`Ledger`), over the per-person-year tables the summary
/// is built from (`People`), or over the summary (`Summary`). A unit's city is the second id on its path.
#[derive(Clone, Copy, Debug)]
enum Limit {
    Ledger,
    People,
    Summary,
}

fn hand_written(limit: Limit) -> String {
    if let Limit::Summary = limit {
        let sums = jijiao::stats::summary::COUNT_COLUMNS.split(", ").map(|c| format!("SUM(x.{c})")).collect::<Vec<_>>().join(", ");
        return format!(
            "SELECT split_part(u.path, '/', 3) AS city, {sums} FROM stats_units x JOIN orgs u ON u.tenant_id = x.tenant_id AND u.id = x.unit_id \
             WHERE x.tenant_id = $1 AND x.year = $2 AND u.path LIKE $3 GROUP BY 1"
        );
    }
    // The nine learner columns as conditions on the credits, in the summary's order.
    let ledger = [
        "",
        " AND k.source = 'online'",
        " AND k.source <> 'online'",
        " AND k.subject = 'public'",
        " AND k.subject = 'public' AND k.source = 'online'",
        " AND k.subject = 'public' AND k.source <> 'online'",
        " AND k.subject = 'professional'",
        " AND k.subject = 'professional' AND k.source = 'online'",
        " AND k.subject = 'professional' AND k.source <> 'online'",
    ];
    let columns: Vec<String> = ledger
        .iter()
        .zip(jijiao::stats::summary::LEARNER_CLASSES)
        .map(|(condition, learning)| match limit {
            Limit::Ledger => format!(
                "COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM credits k WHERE k.tenant_id = p.tenant_id AND k.person_id = p.id \
                 AND k.year = $2 AND k.revoked_at IS NULL{condition}))"
            ),
            _ => format!("COUNT(*) FILTER (WHERE {})", jijiao::stats::summary::learned(learning)),
        })
        .collect();
    let join = match limit {
        Limit::Ledger => "",
        _ => "LEFT JOIN learning l ON l.tenant_id = p.tenant_id AND l.person_id = p.id AND l.year = $2",
    };
    format!(
        "SELECT split_part(u.path, '/', 3) AS city, COUNT(*), {}, COUNT(*) FILTER (WHERE s.shortfall_public = 0), \
         COUNT(*) FILTER (WHERE s.shortfall_professional = 0), COUNT(*) FILTER (WHERE s.met) \
         FROM people p JOIN orgs u ON u.tenant_id = p.tenant_id AND u.id = p.unit_id {join} \
         LEFT JOIN year_status s ON s.tenant_id = p.tenant_id AND s.person_id = p.id AND s.year = $2 \
         WHERE p.tenant_id = $1 AND u.path LIKE $3 \
         AND EXISTS (SELECT 1 FROM accounts a WHERE a.tenant_id = p.tenant_id AND a.person_id = p.id AND a.user_type = 'staff' AND a.status = 'active') \
         GROUP BY 1",
        columns.join(", ")
    )
}

fn main() {
    let scale = jijiao_tests::province::Scale::from_env();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        let s = match std::env::var("JIJIAO_BENCH_DATABASE") {
            Ok(name) => TestServer::start_on_kept_database(&name, |_| {}).await,
            Err(_) => TestServer::start(Backend::Postgres).await,
        };
        let filled: i64 =
            s.db.scalar(
                q("SELECT COUNT(*) FROM people WHERE tenant_id = 'hunan' AND id_number LIKE $1")
                    .bind(format!("{}%", jijiao_tests::province::ID_PREFIX)),
            )
            .await
            .unwrap();
        if filled == 0 {
            eprintln!("filling hunan: {} people in {} units", scale.people, scale.units);
            let started = Instant::now();
            jijiao_tests::province::fill(&s.state, "hunan", scale).await.expect("fill");
            eprintln!("filled in {:.0} s", started.elapsed().as_secs_f64());
        }
        let count = |sql: &'static str| s.db.scalar(q(sql));
        let (people, units, credits) = (
            count("SELECT COUNT(*) FROM people WHERE tenant_id = 'hunan'").await.unwrap(),
            count("SELECT COUNT(*) FROM orgs WHERE tenant_id = 'hunan' AND kind = 'unit'").await.unwrap(),
            count("SELECT COUNT(*) FROM credits WHERE tenant_id = 'hunan'").await.unwrap(),
        );
        println!("hunan: {people} people, {units} units, {credits} credits");
        let year = jijiao::hours::this_year();
        let province: i64 = count("SELECT id FROM orgs WHERE tenant_id = 'hunan' AND kind = 'province'").await.unwrap();
        // The city with the most staff, and its largest unit.
        let city: i64 =
            s.db.scalar(q("SELECT c.id FROM orgs c JOIN orgs u ON u.tenant_id = c.tenant_id AND u.path LIKE c.path || '%' \
                       JOIN people p ON p.tenant_id = u.tenant_id AND p.unit_id = u.id \
                       WHERE c.tenant_id = 'hunan' AND c.kind = 'hr' AND c.level = 'city' GROUP BY c.id ORDER BY COUNT(*) DESC LIMIT 1"))
                .await
                .unwrap();
        let unit: i64 =
            s.db.scalar(q("SELECT unit_id FROM people WHERE tenant_id = 'hunan' GROUP BY unit_id ORDER BY COUNT(*) DESC LIMIT 1"))
                .await
                .unwrap();

        // The summary is current, as a running system's would be (a kept database may come from an
        // older build that did not summarise the same way).
        jijiao::stats::summary::rebuild(&s.db, "hunan", year).await.unwrap();
        s.db.run(q("ANALYZE")).await.unwrap();
        if let Ok(command) = std::env::var("JIJIAO_BENCH_COLD") {
            let status = std::process::Command::new("sh").arg("-c").arg(&command).status().expect("JIJIAO_BENCH_COLD");
            assert!(status.success(), "{command}");
        }
        let admin = s.demo("hunan", "province", 601).await;
        let overview = |parent: i64| s.api("hunan", &format!("/stats/overview?year={year}&parent={parent}"));
        let cold = timed(&admin, &overview(province)).await;
        println!("comprehensive table, province: cold {} (first request after the server started and PostgreSQL restarted)", ms(cold));
        let cases = [
            ("comprehensive table, province", overview(province)),
            ("comprehensive table, province by authority", format!("{}&by=authority", overview(province))),
            ("comprehensive table, a city", overview(city)),
            ("comprehensive table, a unit (by department)", overview(unit)),
            ("title distribution, province", s.api("hunan", &format!("/stats/titles?year={year}"))),
        ];
        for (name, url) in &cases {
            let t = warm(|| timed(&admin, url)).await;
            println!("{name}: warm median {}", ms(t));
        }
        let province_path: String = s.db.one::<(String,)>(q("SELECT path FROM orgs WHERE id = $1").bind(province)).await.unwrap().0;
        for limit in [Limit::Summary, Limit::People, Limit::Ledger] {
            let sql = hand_written(limit);
            let t = warm(|| async {
                let started = Instant::now();
                let rows: Vec<(String,)> =
                    s.db.all(q(format!("SELECT x.city FROM ({sql}) x")).bind("hunan").bind(year).bind(format!("{province_path}%")))
                        .await
                        .expect("hand-written");
                assert!(!rows.is_empty());
                started.elapsed()
            })
            .await;
            println!("hand-written GROUP BY by city over {limit:?}: warm median {}", ms(t));
        }
    });
}
