//! The per-unit summaries the statistics add up (migrations 0023, 0025): for a tenant-year, one row per
//! unit and department with its staff, the people who learned by class (from the ledger's per-person
//! tallies, `learning`) and the qualified (from the stored yearly status); and one per unit, title series
//! and level with the staff and how many met the year; and one per unit and title level with every person,
//! the met and the judged (人员学时's counts). Triggers mark the unit-years
//! whose inputs changed; [`refresh`] rebuilds the marked units' rows before a table is read, in one
//! transaction, so what the table shows is never older than the ledger.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{IS_STAFF, JUDGED_COUNT, MET_COUNT};
use crate::db::{Backend, Db, q};
use crate::error::AppError;
use crate::jobs::{self, Job, JobKind};
use crate::state::AppState;

/// The summary's count columns, in the order a rebuild writes them.
pub const COUNT_COLUMNS: &str = "staff, all_total, all_online, all_offline, public_total, public_online, public_offline, \
     professional_total, professional_online, professional_offline, qualified_people, qualified_courses, qualified_overall";

/// Units rebuilt per statement.
const CHUNK: usize = 500;

/// The nine learner columns of [`COUNT_COLUMNS`] (all, 公需, 专业 × total, online, other), each as the
/// `learning` columns of which a person-year needs some valid credit to count.
pub const LEARNER_CLASSES: [&[&str]; 9] = [
    &["public_online", "public_offline", "professional_online", "professional_offline"],
    &["public_online", "professional_online"],
    &["public_offline", "professional_offline"],
    &["public_online", "public_offline"],
    &["public_online"],
    &["public_offline"],
    &["professional_online", "professional_offline"],
    &["professional_online"],
    &["professional_offline"],
];

/// "Learned" as an SQL condition on a person-year's `learning` row `l` (none: nothing learned).
pub fn learned(columns: &[&str]) -> String {
    let sum = columns.iter().map(|c| format!("l.{c}")).collect::<Vec<_>>().join(" + ");
    format!("{sum} > 0")
}

/// The summaries' tables, each with the statement that writes its rows for the staff (`p`) that
/// `people` selects, for tenant $1 and year $2: per unit and department the table's numbers; per unit,
/// title series and level the staff and how many met the year.
fn rebuilt(people: &str) -> [(&'static str, String); 3] {
    [("stats_units", unit_rows(people)), ("stats_titles", title_rows(people)), ("stats_people", people_rows(people))]
}

/// 人员学时's counts: per unit and title level, and per unit over every level (`*`, what an unfiltered
/// list adds up), every person (with or without an account, as the list shows them), the met and the
/// judged.
fn people_rows(people: &str) -> String {
    let rows = |level: &str| {
        format!(
            "SELECT $1, $2, p.unit_id, {level}, COUNT(*), {MET_COUNT}, {JUDGED_COUNT} \
             FROM people p LEFT JOIN year_status s ON s.tenant_id = p.tenant_id AND s.person_id = p.id AND s.year = $2 \
             WHERE p.tenant_id = $1 AND {people} GROUP BY p.unit_id{}",
            if level == "'*'" { String::new() } else { format!(", {level}") }
        )
    };
    format!(
        "INSERT INTO stats_people (tenant_id, year, unit_id, title_level, people, met, judged) {} UNION ALL {}",
        rows("p.title_level"),
        rows("'*'")
    )
}

fn title_rows(people: &str) -> String {
    format!(
        "INSERT INTO stats_titles (tenant_id, year, unit_id, series, level, staff, met) \
         SELECT $1, $2, p.unit_id, COALESCE(p.title_series, ''), p.title_level, COUNT(*), {MET_COUNT} \
         FROM people p LEFT JOIN year_status s ON s.tenant_id = p.tenant_id AND s.person_id = p.id AND s.year = $2 \
         WHERE p.tenant_id = $1 AND {IS_STAFF} AND {people} \
         GROUP BY p.unit_id, COALESCE(p.title_series, ''), p.title_level"
    )
}

fn unit_rows(people: &str) -> String {
    let learners: Vec<String> = LEARNER_CLASSES.iter().map(|c| format!("SUM(CASE WHEN {} THEN 1 ELSE 0 END)", learned(c))).collect();
    format!(
        "INSERT INTO stats_units (tenant_id, year, unit_id, department_id, {COUNT_COLUMNS}) \
         SELECT $1, $2, p.unit_id, COALESCE(p.department_id, 0), COUNT(*), {}, \
         SUM(CASE WHEN s.computed_at IS NOT NULL AND s.shortfall_public = 0 THEN 1 ELSE 0 END), \
         SUM(CASE WHEN s.computed_at IS NOT NULL AND s.shortfall_professional = 0 THEN 1 ELSE 0 END), {MET_COUNT} \
         FROM people p \
         LEFT JOIN learning l ON l.tenant_id = p.tenant_id AND l.person_id = p.id AND l.year = $2 \
         LEFT JOIN year_status s ON s.tenant_id = p.tenant_id AND s.person_id = p.id AND s.year = $2 \
         WHERE p.tenant_id = $1 AND {IS_STAFF} AND {people} \
         GROUP BY p.unit_id, COALESCE(p.department_id, 0)",
        learners.join(", ")
    )
}

/// Builds a tenant-year's summaries in the background: a large tenant's first build takes longer than a
/// request may (a province's million people: half a minute and more).
#[derive(Debug, Serialize, Deserialize)]
pub struct BuildSummary {
    pub year: i64,
}

impl JobKind for BuildSummary {
    const KIND: &'static str = "stats.build_summary";
    const LABEL: &'static str = "统计汇总生成";

    async fn run(self, state: &AppState, job: &Job) -> anyhow::Result<()> {
        rebuild(&state.db, &job.tenant_id, self.year).await?;
        tracing::info!(tenant = %job.tenant_id, year = self.year, "statistics summary built");
        Ok(())
    }
}

fn built_query(tenant: &str, year: i64) -> crate::db::Query {
    q("SELECT version FROM stats_years WHERE tenant_id = $1 AND year = $2").bind(tenant).bind(year)
}

/// Brings a tenant-year's summary up to date before it is read: builds the whole year the first time it
/// is asked for, afterwards rebuilds the units marked since. Costs two look-ups when nothing changed.
/// Returns the summary's version (what sums over it may be kept under: see [`people_sums`]).
/// The first build of a tenant with more people than `jobs.inline_summary_people` is left to a job
/// ([`BuildSummary`]), and the reader is told to come back (503 `stats_building`).
pub async fn refresh(state: &AppState, tenant: &str, year: i64) -> Result<i64, AppError> {
    let db = &state.db;
    let version: Option<(i64,)> = db.opt(built_query(tenant, year)).await?;
    if let Some((version,)) = version
        && !db.exists(q("SELECT 1 FROM stats_dirty WHERE tenant_id = $1 AND year IN ($2, 0)").bind(tenant).bind(year)).await?
    {
        return Ok(version);
    }
    if version.is_none() {
        let limit = state.config.jobs.inline_summary_people;
        let people: i64 = db
            .scalar(q("SELECT COUNT(*) FROM (SELECT 1 FROM people WHERE tenant_id = $1 LIMIT $2) p").bind(tenant).bind(limit + 1))
            .await?;
        if people > limit {
            queue_build(db, tenant, year).await?;
            return Err(AppError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "stats_building",
                format!("{year} 年的统计数据正在生成，请几分钟后再刷新本页"),
            ));
        }
    }
    Ok(rebuild(db, tenant, year).await?)
}

/// 人员学时's counts over a scope (`path LIKE` or `supervisor_path LIKE` the pattern), one title level or
/// all (`None`), one unit or all: every person, the met and the judged.
#[derive(Debug, Clone, Copy, Default, sqlx::FromRow)]
pub struct PeopleSums {
    pub people: i64,
    pub met: i64,
    pub judged: i64,
}

/// [`PeopleSums`] from `stats_people`, brought up to date first. A province's sum runs over 20,000 unit
/// rows, so each is kept under the summary's version and asked again only once something changed.
pub async fn people_sums(
    state: &AppState,
    tenant: &str,
    year: i64,
    scope: &str,
    title_level: Option<&str>,
    unit: Option<i64>,
) -> Result<PeopleSums, AppError> {
    // '*' is the summary's row for every level of a unit; as a level asked for, it is nobody's.
    let level = match title_level {
        Some("*") => return Ok(PeopleSums::default()),
        Some(level) => level,
        None => "*",
    };
    let version = refresh(state, tenant, year).await?;
    let key = format!("people_sums\n{tenant}\n{year}\n{version}\n{scope}\n{level}\n{unit:?}");
    let mut f = crate::db::Filters::tenant("t.tenant_id", tenant);
    f.and("t.year = ?", year);
    f.and_same("(u.path LIKE ? OR u.supervisor_path LIKE ?)", scope.to_owned());
    f.and("t.title_level = ?", level.to_owned());
    if let Some(unit) = unit {
        f.and("t.unit_id = ?", unit);
    }
    let sums = f.all(
        "SELECT CAST(COALESCE(SUM(t.people), 0) AS BIGINT) AS people, CAST(COALESCE(SUM(t.met), 0) AS BIGINT) AS met, \
         CAST(COALESCE(SUM(t.judged), 0) AS BIGINT) AS judged \
         FROM stats_people t JOIN orgs u ON u.tenant_id = t.tenant_id AND u.id = t.unit_id",
        "1",
    );
    Ok(state.memo.get_or_derive(key, state.db.one(sums)).await?)
}

/// Queues the first build of this year's summaries for every tenant that lacks them, so that a server
/// started on a large tenant has them ready before an admin asks.
pub async fn prepare(state: &AppState) -> Result<(), sqlx::Error> {
    let year = crate::china_time::this_year();
    for tenant in state.tenants.all() {
        if state.db.opt::<(i64,)>(built_query(tenant.code(), year)).await?.is_none() {
            queue_build(&state.db, tenant.code(), year).await?;
        }
    }
    Ok(())
}

/// Queues a tenant-year's build unless one is already waiting.
async fn queue_build(db: &Db, tenant: &str, year: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    jobs::enqueue_once_tx(&mut tx, tenant, &BuildSummary { year }).await?;
    tx.commit().await
}

/// Builds a tenant-year's summaries the first time, or rebuilds the units marked since, in one
/// transaction, whatever the tenant's size (the job's work; [`refresh`] decides when a request may do it).
/// Returns the summary's version, new when any rows changed.
pub async fn rebuild(db: &Db, tenant: &str, year: i64) -> Result<i64, sqlx::Error> {
    let mut tx = db.begin().await?;
    let marks = match tx.backend() {
        Backend::Postgres => {
            // One rebuild of a tenant-year at a time. The marks are taken in one statement: a writer
            // still counting on one holds it, so this waits for that writer, and the rebuild's later
            // statements see its change.
            tx.run(q(format!("SELECT pg_advisory_xact_lock(hashtext($1 || ':stats:{year}'))")).bind(tenant)).await?;
            "WITH taken AS (DELETE FROM stats_dirty WHERE tenant_id = $1 AND year IN ($2, 0) RETURNING unit_id, year) \
             SELECT DISTINCT unit_id, year FROM taken"
        }
        // The write transaction holds the database's only write lock: nobody marks meanwhile.
        Backend::Sqlite => "SELECT DISTINCT unit_id, year FROM stats_dirty WHERE tenant_id = $1 AND year IN ($2, 0)",
    };
    let built = tx.opt::<(i64,)>(built_query(tenant, year)).await?.is_some();
    let marks: Vec<(i64, i64)> = tx.all(q(marks).bind(tenant).bind(year)).await?;
    if tx.backend() == Backend::Sqlite {
        tx.run(q("DELETE FROM stats_dirty WHERE tenant_id = $1 AND year IN ($2, 0)").bind(tenant).bind(year)).await?;
    }
    let list = |ids: &[i64]| ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
    if built {
        let units: Vec<i64> = marks.iter().map(|m| m.0).collect::<BTreeSet<_>>().into_iter().collect();
        for chunk in units.chunks(CHUNK) {
            let ids = list(chunk);
            for (table, insert) in rebuilt(&format!("p.unit_id IN ({ids})")) {
                tx.run(q(format!("DELETE FROM {table} WHERE tenant_id = $1 AND year = $2 AND unit_id IN ({ids})")).bind(tenant).bind(year))
                    .await?;
                tx.run(q(insert).bind(tenant).bind(year)).await?;
            }
        }
    } else {
        for (table, insert) in rebuilt("TRUE") {
            tx.run(q(format!("DELETE FROM {table} WHERE tenant_id = $1 AND year = $2")).bind(tenant).bind(year)).await?;
            tx.run(q(insert).bind(tenant).bind(year)).await?;
        }
        tx.run(
            q("INSERT INTO stats_years (tenant_id, year, built_at, version) VALUES ($1, $2, $3, 1)")
                .bind(tenant)
                .bind(year)
                .bind(chrono::Utc::now()),
        )
        .await?;
    }
    if built && !marks.is_empty() {
        tx.run(q("UPDATE stats_years SET version = version + 1 WHERE tenant_id = $1 AND year = $2").bind(tenant).bind(year)).await?;
    }
    let (version,): (i64,) = tx.one(built_query(tenant, year)).await?;
    // A mark for every year still stands for the other built years.
    let every_year: Vec<i64> = marks.iter().filter(|m| m.1 == 0).map(|m| m.0).collect();
    for chunk in every_year.chunks(CHUNK) {
        tx.run(
            q(format!(
                "INSERT INTO stats_dirty (tenant_id, unit_id, year) SELECT y.tenant_id, o.id, y.year \
                 FROM stats_years y JOIN orgs o ON o.tenant_id = y.tenant_id WHERE y.tenant_id = $1 AND y.year <> $2 AND o.id IN ({})",
                list(chunk)
            ))
            .bind(tenant)
            .bind(year),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(version)
}
