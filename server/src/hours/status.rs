//! Stored yearly status (issue 4 §1): each person-year's standing as the tenant's rules plugin judged it,
//! kept in `year_status` so that lists and exports never call the plugin per row.
//!
//! Every change that can move a judgement — a credit granted or revoked, a new title level or post, new
//! rules for the tenant — marks the person-year (or the whole year) stale and queues a recompute in the
//! same transaction (`mark_tx`). Staleness is a counter, not a flag: `generation` grows with each mark,
//! and a recompute stores the generation it read *before* reading the ledger as `computed_generation`. A
//! recompute that raced a newer change thus leaves the row stale for the job queued by that change.
//! A pending recompute of the same person-year is queued only once.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{LedgerCredit, SubjectHours, check_year, format_hours, person_year};
use crate::db::{Bulk, Db, DbResult, Tx, q};
use crate::error::AppError;
use crate::jobs::{self, Job, JobKind};
use crate::rules::Rules;
use crate::rules::model::{Hours, YearStatus};
use crate::state::AppState;
use crate::tenancy::Words;

/// Recompute one person-year: payload `{"person_id", "year"}`.
pub const RECOMPUTE_JOB: &str = "status.recompute";
/// Recompute a whole tenant-year in batches (after the tenant's rules changed): payload `{"year"}`.
pub const RECOMPUTE_YEAR_JOB: &str = "status.recompute_year";
/// Recompute a list of person-years (a platform batch's): payload `{"items": [[person_id, year], …]}`.
pub const RECOMPUTE_MANY_JOB: &str = "status.recompute_many";
/// Person-years per plugin call in a tenant-year recompute.
const BATCH: i64 = 500;

/// The job that recomputes one person-year ([`RECOMPUTE_JOB`]).
#[derive(Debug, Serialize, Deserialize)]
pub struct RecomputePerson {
    pub person_id: i64,
    pub year: i64,
}

impl JobKind for RecomputePerson {
    const KIND: &'static str = RECOMPUTE_JOB;
    const LABEL: &'static str = "年度学时计算";

    async fn run(self, state: &AppState, job: &Job) -> anyhow::Result<()> {
        recompute_many(state, &job.tenant_id, &[(self.person_id, self.year)]).await?;
        Ok(())
    }
}

/// The job that recomputes a list of person-years ([`RECOMPUTE_MANY_JOB`]).
#[derive(Debug, Serialize, Deserialize)]
pub struct RecomputeMany {
    pub items: Vec<(i64, i64)>,
}

impl JobKind for RecomputeMany {
    const KIND: &'static str = RECOMPUTE_MANY_JOB;
    const LABEL: &'static str = "平台学时入账后计算";

    async fn run(self, state: &AppState, job: &Job) -> anyhow::Result<()> {
        recompute_many(state, &job.tenant_id, &self.items).await?;
        Ok(())
    }
}

/// The job that recomputes a whole tenant-year in batches ([`RECOMPUTE_YEAR_JOB`]).
#[derive(Debug, Serialize, Deserialize)]
pub struct RecomputeYear {
    pub year: i64,
}

impl JobKind for RecomputeYear {
    const KIND: &'static str = RECOMPUTE_YEAR_JOB;
    const LABEL: &'static str = "年度学时批量重算";

    async fn run(self, state: &AppState, job: &Job) -> anyhow::Result<()> {
        let n = recompute_year(&state.db, &state.rules, &job.tenant_id, self.year, |_| {}).await?;
        tracing::info!(tenant = %job.tenant_id, year = self.year, people = n, "yearly status recomputed");
        Ok(())
    }
}

/// One stored row; hours in hundredths.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StoredStatus {
    pub person_id: i64,
    pub year: i64,
    pub met: bool,
    pub required_public: i64,
    pub required_professional: i64,
    pub required_total: i64,
    pub counted_public: i64,
    pub counted_professional: i64,
    pub counted_total: i64,
    pub shortfall_public: i64,
    pub shortfall_professional: i64,
    pub shortfall_total: i64,
    /// JSON array of the plugin's notes.
    pub notes: String,
    pub plugin_sha256: Option<String>,
    pub computed_at: Option<DateTime<Utc>>,
    pub generation: i64,
    pub computed_generation: i64,
}

/// A person's standing for a year as the rules judged it (the shape of `jijiao rules status`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Judgement {
    pub year: i64,
    pub met: bool,
    pub required: SubjectHours,
    pub counted: SubjectHours,
    pub shortfall: SubjectHours,
    /// The plugin's notes, e.g. required courses still missing
    pub notes: Vec<String>,
}

/// A stored yearly status as lists show it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Standing {
    pub year: i64,
    /// `computed` (current), `stale` (from before a change; a recompute is queued) or `pending` (never computed)
    pub state: &'static str,
    /// Null until first computed
    pub met: Option<bool>,
    pub required: SubjectHours,
    pub counted: SubjectHours,
    pub shortfall: SubjectHours,
    /// The plugin's notes, e.g. required courses still missing
    pub notes: Vec<String>,
    /// The rules plugin that judged it
    pub plugin_sha256: Option<String>,
    pub computed_at: Option<DateTime<Utc>>,
}

pub const COLUMNS: &str = "person_id, year, met, required_public, required_professional, required_total, counted_public, \
     counted_professional, counted_total, shortfall_public, shortfall_professional, shortfall_total, notes, plugin_sha256, \
     computed_at, generation, computed_generation";

impl StoredStatus {
    /// `computed` (current), `stale` (numbers from before a change; a recompute is queued) or `pending`
    /// (never computed yet).
    pub fn state(&self) -> &'static str {
        match self.computed_at {
            None => "pending",
            Some(_) if self.computed_generation < self.generation => "stale",
            Some(_) => "computed",
        }
    }

    pub fn notes(&self) -> Vec<String> {
        serde_json::from_str(&self.notes).unwrap_or_default()
    }

    /// The rules' shape (`jijiao rules status`), for `GET /me/status`.
    pub fn judgement(&self) -> Judgement {
        Judgement {
            year: self.year,
            met: self.met,
            required: SubjectHours::new(self.required_public, self.required_professional, self.required_total),
            counted: SubjectHours::new(self.counted_public, self.counted_professional, self.counted_total),
            shortfall: SubjectHours::new(self.shortfall_public, self.shortfall_professional, self.shortfall_total),
            notes: self.notes(),
        }
    }

    /// The API's shape: hours as decimals, `met` null until computed, with its state and provenance.
    pub fn standing(&self) -> Standing {
        Standing {
            year: self.year,
            state: self.state(),
            met: self.computed_at.is_some().then_some(self.met),
            required: SubjectHours::new(self.required_public, self.required_professional, self.required_total),
            counted: SubjectHours::new(self.counted_public, self.counted_professional, self.counted_total),
            shortfall: SubjectHours::new(self.shortfall_public, self.shortfall_professional, self.shortfall_total),
            notes: self.notes(),
            plugin_sha256: self.plugin_sha256.clone(),
            computed_at: self.computed_at,
        }
    }

    /// What pages show: the API's shape plus one bar per subject (percent of the requirement, capped at
    /// 100) labelled in the tenant's words, and hours as text.
    pub fn view(&self, words: &Words) -> Value {
        let bar = |key: &str, label: &str, required: i64, counted: i64, shortfall: i64| {
            let percent = if required <= 0 { 100 } else { (counted.saturating_mul(100) / required).clamp(0, 100) };
            json!({"key": key, "label": label, "required": format_hours(required), "counted": format_hours(counted),
                   "shortfall": format_hours(shortfall), "short": shortfall > 0, "percent": percent})
        };
        let mut value = json!(self.standing());
        value["bars"] = json!([
            bar("public", &words.public, self.required_public, self.counted_public, self.shortfall_public),
            bar("professional", &words.professional, self.required_professional, self.counted_professional, self.shortfall_professional),
            bar("total", "合计", self.required_total, self.counted_total, self.shortfall_total),
        ]);
        value["computed_at_text"] = json!(self.computed_at.map(crate::china_time::minute));
        value
    }
}

/// Marks a person-year stale and queues its recompute, in the caller's transaction (so the recompute
/// exists exactly when the change does). A recompute already waiting for the same person-year serves.
pub async fn mark_tx(tx: &mut Tx, tenant: &str, person_id: i64, year: i64) -> DbResult<()> {
    tx.run(
        q("INSERT INTO year_status (tenant_id, person_id, year, generation, computed_generation) VALUES ($1, $2, $3, 1, 0) \
           ON CONFLICT (tenant_id, person_id, year) DO UPDATE SET generation = year_status.generation + 1")
        .bind(tenant)
        .bind(person_id)
        .bind(year),
    )
    .await?;
    jobs::enqueue_once_tx(tx, tenant, &RecomputePerson { person_id, year }).await?;
    Ok(())
}

/// [`mark_tx`] for many person-years at once (a platform's batch of completions): one multi-row upsert
/// and one queued job for them all. Pass them sorted, so that concurrent batches lock rows in one order.
pub async fn mark_many_tx(tx: &mut Tx, tenant: &str, person_years: &[(i64, i64)]) -> DbResult<()> {
    if person_years.is_empty() {
        return Ok(());
    }
    let rows = Bulk::new().i64("person_id", person_years.iter().map(|p| p.0)).i64("year", person_years.iter().map(|p| p.1));
    tx.run_bulk(
        q("INSERT INTO year_status (tenant_id, person_id, year, generation, computed_generation) \
           SELECT $1, person_id, year, 1, 0 FROM {rows} WHERE true \
           ON CONFLICT (tenant_id, person_id, year) DO UPDATE SET generation = year_status.generation + 1")
        .bind(tenant),
        &rows,
    )
    .await?;
    jobs::enqueue_tx(tx, tenant, &RecomputeMany { items: person_years.to_vec() }).await?;
    Ok(())
}

/// Marks every stored row of a tenant-year stale and queues one batched recompute of the year.
pub async fn mark_year_tx(tx: &mut Tx, tenant: &str, year: i64) -> DbResult<()> {
    tx.run(q("UPDATE year_status SET generation = generation + 1 WHERE tenant_id = $1 AND year = $2").bind(tenant).bind(year)).await?;
    jobs::enqueue_once_tx(tx, tenant, &RecomputeYear { year }).await?;
    Ok(())
}

/// The stored row of a person-year, if any.
pub async fn get(db: &Db, tenant: &str, person_id: i64, year: i64) -> DbResult<Option<StoredStatus>> {
    db.opt(
        q(format!("SELECT {COLUMNS} FROM year_status WHERE tenant_id = $1 AND person_id = $2 AND year = $3"))
            .bind(tenant)
            .bind(person_id)
            .bind(year),
    )
    .await
}

/// A person's stored year rows, newest first, with a pending row for every year that has credits but
/// no row yet (e.g. history imported before statuses were stored) and for this year. One statement: the
/// person's own pages ask on every visit.
pub async fn years(db: &Db, tenant: &str, person_id: i64) -> DbResult<Vec<StoredStatus>> {
    let mut rows: Vec<StoredStatus> = db
        .all(
            q(format!(
                "SELECT {COLUMNS} FROM year_status WHERE tenant_id = $1 AND person_id = $2 \
                 UNION ALL \
                 SELECT {PENDING_COLUMNS} FROM (SELECT DISTINCT year FROM credits WHERE tenant_id = $1 AND person_id = $2) c \
                 WHERE NOT EXISTS (SELECT 1 FROM year_status y WHERE y.tenant_id = $1 AND y.person_id = $2 AND y.year = c.year)"
            ))
            .bind(tenant)
            .bind(person_id),
        )
        .await?;
    let this_year = super::this_year();
    if !rows.iter().any(|r| r.year == this_year) {
        rows.push(pending(person_id, this_year));
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.year));
    Ok(rows)
}

/// [`COLUMNS`] of a year not judged yet (`c.year`, person $2), as [`pending`] makes it.
const PENDING_COLUMNS: &str = "CAST($2 AS BIGINT), c.year, FALSE, 0, 0, 0, 0, 0, 0, 0, 0, 0, '[]', NULL, NULL, 1, 0";

fn pending(person_id: i64, year: i64) -> StoredStatus {
    StoredStatus {
        person_id,
        year,
        met: false,
        required_public: 0,
        required_professional: 0,
        required_total: 0,
        counted_public: 0,
        counted_professional: 0,
        counted_total: 0,
        shortfall_public: 0,
        shortfall_professional: 0,
        shortfall_total: 0,
        notes: "[]".into(),
        plugin_sha256: None,
        computed_at: None,
        generation: 1,
        computed_generation: 0,
    }
}

/// The person-year's status for the person's own pages: the stored row when it is current, otherwise
/// judged now (and stored). Lists never call this; they read the table.
pub async fn current(state: &AppState, tenant: &str, person_id: i64, year: i64) -> Result<StoredStatus, AppError> {
    check_year(year)?;
    if let Some(row) = get(&state.db, tenant, person_id, year).await?
        && row.state() == "computed"
    {
        return Ok(row);
    }
    recompute(&state.db, &state.rules, tenant, person_id, year).await
}

/// Judges a person-year now and stores the result; returns the stored row. The batched recompute with
/// one person in it.
pub async fn recompute(db: &Db, rules: &Rules, tenant: &str, person_id: i64, year: i64) -> Result<StoredStatus, AppError> {
    let person: (i64, String, String) = db
        .opt(q("SELECT id, post, title_level FROM people WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(person_id))
        .await?
        .ok_or_else(AppError::not_found)?;
    if recompute_people(db, rules, tenant, year, &[person]).await?.is_empty() {
        return Err(AppError::internal("the person's stored post is unknown to the rules"));
    }
    get(db, tenant, person_id, year).await?.ok_or_else(|| AppError::internal("stored status vanished"))
}

/// A judgement to store: the person, what the plugin said, and the generation read before the ledger.
struct Judged<'a> {
    person_id: i64,
    status: &'a YearStatus,
    generation: i64,
}

/// Writes judgements, each made at its `generation`, in one statement; never overwrites one made at a
/// later generation.
async fn store_tx(tx: &mut Tx, tenant: &str, judged: &[Judged<'_>], sha256: &str, now: DateTime<Utc>) -> DbResult<()> {
    let h = |f: fn(&YearStatus) -> Hours| judged.iter().map(move |j| i64::from(f(j.status).0));
    let rows = Bulk::new()
        .i64("person_id", judged.iter().map(|j| j.person_id))
        .i64("year", judged.iter().map(|j| i64::from(j.status.year)))
        .bool("met", judged.iter().map(|j| j.status.met))
        .i64("required_public", h(|s| s.required.public))
        .i64("required_professional", h(|s| s.required.professional))
        .i64("required_total", h(|s| s.required.total))
        .i64("counted_public", h(|s| s.counted.public))
        .i64("counted_professional", h(|s| s.counted.professional))
        .i64("counted_total", h(|s| s.counted.total))
        .i64("shortfall_public", h(|s| s.shortfall.public))
        .i64("shortfall_professional", h(|s| s.shortfall.professional))
        .i64("shortfall_total", h(|s| s.shortfall.total))
        .text("notes", judged.iter().map(|j| serde_json::to_string(&j.status.notes).unwrap_or_else(|_| "[]".into())))
        .i64("generation", judged.iter().map(|j| j.generation));
    tx.run_bulk(
        q("INSERT INTO year_status (tenant_id, person_id, year, met, required_public, required_professional, required_total, \
           counted_public, counted_professional, counted_total, shortfall_public, shortfall_professional, shortfall_total, \
           notes, plugin_sha256, computed_at, generation, computed_generation) \
           SELECT $1, person_id, year, met, required_public, required_professional, required_total, counted_public, \
           counted_professional, counted_total, shortfall_public, shortfall_professional, shortfall_total, notes, $2, $3, \
           generation, generation FROM {rows} WHERE true \
           ON CONFLICT (tenant_id, person_id, year) DO UPDATE SET met = excluded.met, \
           required_public = excluded.required_public, required_professional = excluded.required_professional, \
           required_total = excluded.required_total, counted_public = excluded.counted_public, \
           counted_professional = excluded.counted_professional, counted_total = excluded.counted_total, \
           shortfall_public = excluded.shortfall_public, shortfall_professional = excluded.shortfall_professional, \
           shortfall_total = excluded.shortfall_total, notes = excluded.notes, plugin_sha256 = excluded.plugin_sha256, \
           computed_at = excluded.computed_at, computed_generation = excluded.computed_generation \
           WHERE year_status.computed_generation <= excluded.computed_generation")
        .bind(tenant)
        .bind(sha256)
        .bind(now),
        &rows,
    )
    .await?;
    Ok(())
}

/// Recomputes every person of a tenant for a year, `BATCH` person-years per plugin call and per
/// transaction; `progress` is told the running count. Returns how many person-years were stored.
pub async fn recompute_year(db: &Db, rules: &Rules, tenant: &str, year: i64, mut progress: impl FnMut(usize)) -> Result<usize, AppError> {
    let mut after = 0i64;
    let mut done = 0usize;
    loop {
        let people: Vec<(i64, String, String)> = db
            .all(
                q("SELECT id, post, title_level FROM people WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3")
                    .bind(tenant)
                    .bind(after)
                    .bind(BATCH),
            )
            .await?;
        let Some(last) = people.last().map(|p| p.0) else { break };
        after = last;
        done += recompute_people(db, rules, tenant, year, &people).await?.len();
        progress(done);
    }
    Ok(done)
}

/// Recomputes person-years (one changed credit's, a platform batch's, a class declaration's): per year,
/// `BATCH` people per plugin call and per transaction; then, where the tenant says so (seed 002), issues
/// the certificates the years now qualify for.
pub async fn recompute_many(state: &AppState, tenant: &str, person_years: &[(i64, i64)]) -> anyhow::Result<()> {
    let mut by_year: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    for &(person, year) in person_years {
        by_year.entry(year).or_default().insert(person);
    }
    for (year, ids) in by_year {
        let ids: Vec<i64> = ids.into_iter().collect();
        for chunk in ids.chunks(BATCH as usize) {
            let rows = Bulk::new().i64("person_id", chunk.iter().copied());
            let people: Vec<(i64, String, String)> = state
                .db
                .all_bulk(
                    q("SELECT id, post, title_level FROM people WHERE tenant_id = $1 AND id IN (SELECT person_id FROM {rows}) ORDER BY id")
                        .bind(tenant),
                    &rows,
                )
                .await?;
            for (person, status) in recompute_people(&state.db, &state.rules, tenant, year, &people).await? {
                if status.met {
                    (super::hooks().year_met)(state, tenant, person, year).await?;
                }
            }
        }
    }
    Ok(())
}

/// Judges people (id, post, title level) for one year in one plugin call and stores the results in one
/// transaction; returns each stored person's judgement. Generations are read before the ledger (see the
/// module comment); a person whose stored post is unknown to the rules is left out, with a warning.
async fn recompute_people(
    db: &Db,
    rules: &Rules,
    tenant: &str,
    year: i64,
    people: &[(i64, String, String)],
) -> Result<Vec<(i64, YearStatus)>, AppError> {
    let year16 = check_year(year)?;
    let rows = Bulk::new().i64("person_id", people.iter().map(|p| p.0));
    let generations: HashMap<i64, i64> = db
        .all_bulk::<(i64, i64)>(
            q("SELECT person_id, generation FROM year_status WHERE tenant_id = $1 AND year = $2 \
               AND person_id IN (SELECT person_id FROM {rows})")
            .bind(tenant)
            .bind(year),
            &rows,
        )
        .await?
        .into_iter()
        .collect();
    // The year's requirement table is read after the generations: a table saved since then bumped them
    // and queued another recompute, so a result from the older table is stored as stale.
    rules.refresh_stored(db, Some(tenant)).await?;
    let year_rules = rules.for_tenant_year(tenant, year16)?;
    let sha256 = year_rules.plugin().sha256;
    let credits: Vec<(i64, String, i64, String, Option<String>)> = db
        .all_bulk(
            q("SELECT person_id, subject, hours, source, course FROM credits WHERE tenant_id = $1 AND year = $2 \
               AND person_id IN (SELECT person_id FROM {rows}) AND revoked_at IS NULL ORDER BY person_id, id")
            .bind(tenant)
            .bind(year),
            &rows,
        )
        .await?;
    let mut credits_of: HashMap<i64, Vec<LedgerCredit>> = HashMap::new();
    for (person, subject, hours, source, course) in credits {
        credits_of.entry(person).or_default().push((subject, hours, source, course));
    }
    let mut ids = Vec::with_capacity(people.len());
    let mut inputs = Vec::with_capacity(people.len());
    for (id, post, title_level) in people {
        match person_year(year16, post, title_level, credits_of.remove(id).unwrap_or_default()) {
            Ok(input) => {
                ids.push(*id);
                inputs.push(input);
            }
            Err(err) => tracing::warn!(tenant, person = id, error = %err, "person left out of the recompute"),
        }
    }
    let results = year_rules.blocking(move |r| r.year_status_batch(&inputs)).await?;
    let judged: Vec<Judged> = ids
        .iter()
        .zip(&results)
        .map(|(&person_id, status)| Judged { person_id, status, generation: generations.get(&person_id).copied().unwrap_or(0) })
        .collect();
    let mut tx = db.begin().await?;
    store_tx(&mut tx, tenant, &judged, &sha256, Utc::now()).await?;
    tx.commit().await?;
    Ok(ids.into_iter().zip(results).collect())
}

/// The years worth recomputing for a tenant: every year with a stored status or a credit, and this year.
pub async fn tenant_years(db: &Db, tenant: &str) -> DbResult<Vec<i64>> {
    let rows: Vec<(i64,)> = db
        .all(q("SELECT year FROM year_status WHERE tenant_id = $1 UNION SELECT year FROM credits WHERE tenant_id = $1").bind(tenant))
        .await?;
    let mut years: Vec<i64> = rows.into_iter().map(|r| r.0).chain([super::this_year()]).collect();
    years.sort_unstable();
    years.dedup();
    Ok(years)
}

/// A digest of what judges a tenant's years: `rules.toml` and the plugin pins (`[[rules]]` in
/// tenant.toml, each with its sha256).
pub fn rules_digest(folder: &Path) -> anyhow::Result<String> {
    let rules = std::fs::read(folder.join("rules.toml")).unwrap_or_default();
    let tenant: toml::Table = toml::from_str(&std::fs::read_to_string(folder.join("tenant.toml"))?)?;
    let pins = tenant.get("rules").map(|v| v.to_string()).unwrap_or_default();
    let mut hash = Sha256::new();
    hash.update(&rules);
    hash.update([0]);
    hash.update(pins.as_bytes());
    Ok(hex::encode(hash.finalize()))
}

/// Called by `tenant sync` inside its transaction: when the tenant's rules changed since the stored
/// statuses were judged, every stored year is marked stale and queued for a batched recompute.
pub async fn after_sync_tx(tx: &mut Tx, tenant: &str, folder: &Path) -> anyhow::Result<()> {
    let digest = rules_digest(folder)?;
    let stored: Option<(String,)> = tx.opt(q("SELECT digest FROM year_status_config WHERE tenant_id = $1").bind(tenant)).await?;
    if stored.as_ref().is_some_and(|s| s.0 == digest) {
        return Ok(());
    }
    tx.run(
        q("INSERT INTO year_status_config (tenant_id, digest, updated_at) VALUES ($1, $2, $3) \
           ON CONFLICT (tenant_id) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at")
        .bind(tenant)
        .bind(&digest)
        .bind(Utc::now()),
    )
    .await?;
    let years: Vec<(i64,)> = tx.all(q("SELECT DISTINCT year FROM year_status WHERE tenant_id = $1 ORDER BY year").bind(tenant)).await?;
    for (year,) in years {
        mark_year_tx(tx, tenant, year).await?;
    }
    Ok(())
}
