//! A province-scale tenant for the benchmarks: about 1,000,000 staff in 20,000 units with departments
//! and CE institutions under the tenant's county HR bureaus and industry authorities, each with an
//! active account (the demo password), about 30,000,000 credits over three years, and the yearly status
//! of every person-year judged by the tenant's rules plugin. The rows are written by SQL in PostgreSQL
//! (`province_scale.sql`); the statuses by the server's own recompute, as its jobs would.

use std::time::Instant;

use jijiao::db::{Db, q};
use jijiao::state::AppState;

/// How big a tenant to make.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub people: i64,
    pub units: i64,
}

impl Scale {
    /// `JIJIAO_BENCH_PEOPLE` (default 1,000,000) and `JIJIAO_BENCH_UNITS` (default one per 50 people).
    pub fn from_env() -> Scale {
        let var = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<i64>().ok());
        let people = var("JIJIAO_BENCH_PEOPLE").unwrap_or(1_000_000);
        Scale { people, units: var("JIJIAO_BENCH_UNITS").unwrap_or((people / 50).max(1)) }
    }
}

/// The generated people's ID numbers begin with this (a prefix no demo or test person has).
pub const ID_PREFIX: &str = "430199";

/// The ID number of the generated person `n` (1-based), as the SQL writes it.
pub fn id_number(n: i64) -> String {
    let birth = chrono::NaiveDate::from_ymd_opt(1960, 1, 1).unwrap() + chrono::Duration::days(n / 900);
    jijiao::ids::id_number_with_check(&format!("{ID_PREFIX}{}{}", birth.format("%Y%m%d"), 100 + n % 900))
}

/// Fills `tenant` (whose org tree `tenant sync` wrote) on PostgreSQL; returns the three years it holds
/// credits for, the last one this year. Prints each step's time.
pub async fn fill(state: &AppState, tenant: &str, scale: Scale) -> anyhow::Result<[i64; 3]> {
    let Db::Postgres(pool) = &state.db else { anyhow::bail!("the province-scale data is written on PostgreSQL") };
    let this_year = jijiao::hours::this_year();
    let years = [this_year - 2, this_year - 1, this_year];
    let (password_hash,): (String,) = state
        .db
        .one(q("SELECT password_hash FROM accounts WHERE tenant_id = $1 AND user_type = 'staff' ORDER BY id LIMIT 1").bind(tenant))
        .await?;
    let mut conn = pool.acquire().await?;
    sqlx::query(
        "CREATE TEMP TABLE gen_params AS SELECT $1::text AS tenant, $2::bigint AS people, $3::bigint AS units, \
         $4::text AS password_hash, 0::bigint AS year",
    )
    .bind(tenant)
    .bind(scale.people)
    .bind(scale.units)
    .bind(&password_hash)
    .execute(&mut *conn)
    .await?;
    let script = include_str!("province_scale.sql");
    for step in script.split("\n-- step").skip(1) {
        let (title, sql) = step.split_once('\n').unwrap_or((step, ""));
        let per_year = title.starts_with(" per year");
        for year in if per_year { years.to_vec() } else { vec![0] } {
            let started = Instant::now();
            if per_year {
                sqlx::query("UPDATE gen_params SET year = $1").bind(year).execute(&mut *conn).await?;
            }
            sqlx::raw_sql(sql).execute(&mut *conn).await.map_err(|e| anyhow::anyhow!("{title}: {e}"))?;
            let year = if per_year { format!(" {year}") } else { String::new() };
            eprintln!("  {}{year}: {:.1} s", title.trim_start_matches([' ', ':']).trim(), started.elapsed().as_secs_f64());
        }
    }
    drop(conn);
    state.db.run(q("ANALYZE")).await?;
    for year in years {
        let started = Instant::now();
        let judged = jijiao::hours::status::recompute_year(&state.db, &state.rules, tenant, year, |_| {}).await?;
        eprintln!("  yearly status {year}: {judged} person-years in {:.1} s", started.elapsed().as_secs_f64());
    }
    // The statistics' summary of each year, as the job that builds a large tenant's would.
    for year in years {
        let started = Instant::now();
        jijiao::stats::summary::rebuild(&state.db, tenant, year).await?;
        eprintln!("  statistics summary {year}: {:.1} s", started.elapsed().as_secs_f64());
    }
    state.db.run(q("ANALYZE")).await?;
    Ok(years)
}
