//! The per-unit summaries the statistics add up (migrations 0023, 0025): for a tenant-year, one row per
//! unit and department with its staff, the people who learned by class (from the ledger's per-person
//! tallies, `learning`) and the qualified (from the stored yearly status); and one per unit, title series
//! and level with the staff and how many met the year; and one per unit and title level with every person,
//! the met and the judged (人员学时's counts). Triggers mark the unit-years
//! whose inputs changed; [`refresh`] rebuilds the marked units' rows before a table is read, in one
//! transaction, so what the table shows is never older than the ledger.

use std::collections::BTreeSet;

use super::{IS_STAFF, MET_COUNT};
use crate::db::{Backend, Db, q};

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
            "SELECT $1, $2, p.unit_id, {level}, COUNT(*), {MET_COUNT}, SUM(CASE WHEN s.computed_at IS NOT NULL THEN 1 ELSE 0 END) \
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

/// Brings a tenant-year's summary up to date: builds the whole year the first time it is asked for,
/// afterwards rebuilds the units marked since. Costs two look-ups when nothing changed.
pub async fn refresh(db: &Db, tenant: &str, year: i64) -> Result<(), sqlx::Error> {
    let built_query = || q("SELECT 1 FROM stats_years WHERE tenant_id = $1 AND year = $2").bind(tenant).bind(year);
    if db.exists(built_query()).await?
        && !db.exists(q("SELECT 1 FROM stats_dirty WHERE tenant_id = $1 AND year IN ($2, 0)").bind(tenant).bind(year)).await?
    {
        return Ok(());
    }
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
    let built = tx.exists(built_query()).await?;
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
            q("INSERT INTO stats_years (tenant_id, year, built_at) VALUES ($1, $2, $3)").bind(tenant).bind(year).bind(chrono::Utc::now()),
        )
        .await?;
    }
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
    tx.commit().await
}
