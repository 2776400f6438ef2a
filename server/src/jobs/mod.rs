//! Background work through a `jobs` table that every server process shares (DESIGN "Scaling out").
//!
//! A job is enqueued inside the transaction of the change that causes it, so it exists exactly when the
//! change does. Workers (`jobs.workers` tokio tasks per `jijiao serve`) claim one due job at a time; a
//! claim is one statement that only one worker can win, the one place where the SQL differs per backend.
//! A failed run is retried with exponential backoff; after `max_attempts` the job stays `failed` with its
//! last error, for an operator to see (`jijiao jobs list --state failed`) and retry (`jijiao jobs retry`).
//!
//! The queue knows no job kind. Each kind is a type implementing [`JobKind`] in the module that owns
//! the work: its payload is the type itself, so it can only be enqueued through the type
//! ([`enqueue_tx`] and friends), and it runs once registered in the [`Registry`] (`crate::kinds`).

pub mod admin;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::db::{Backend, Db, DbResult, Tx, q};
use crate::state::AppState;

/// Attempts before a job is left `failed`: with the backoff below, about an hour of retries.
pub const DEFAULT_MAX_ATTEMPTS: i64 = 8;
/// Delay before the first retry; each later retry waits twice as long, up to `MAX_BACKOFF_SECS`.
const FIRST_BACKOFF_SECS: i64 = 30;
const MAX_BACKOFF_SECS: i64 = 3600;
/// A claim holds a running job for `jobs.lease_secs`. A worker whose process died mid-job never finishes
/// it; after the lease another worker claims it again (so handlers must tolerate running twice after a
/// crash).
///
/// Idle workers poll at this interval at first, doubling while the queue stays empty.
const MIN_POLL: Duration = Duration::from_millis(250);
const MAX_POLL: Duration = Duration::from_secs(5);
/// How often a process deletes old finished jobs (`jobs.keep_done_days`).
const SWEEP_EVERY: Duration = Duration::from_secs(3600);
/// Longest error text kept on a job.
const MAX_ERROR_CHARS: usize = 2000;

pub const STATES: &[&str] = &["queued", "running", "done", "failed"];

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub tenant_id: String,
    pub kind: String,
    /// JSON text: the kind's [`JobKind`] type, decoded when the job runs.
    pub payload: String,
    pub state: String,
    pub attempts: i64,
    pub max_attempts: i64,
    /// When a queued job is due; for a running job, when its claim's lease ends.
    pub run_after: DateTime<Utc>,
    /// The worker that claimed it last (`<host>-pid<N>-worker<M>`), for tracing a run in the logs.
    pub worker: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, tenant_id, kind, payload, state, attempts, max_attempts, run_after, worker, last_error, created_at, updated_at";

/// One kind of background work. The implementing type is the job's payload (stored as JSON), so a job
/// is enqueued only through its type and decoded into it when it runs.
pub trait JobKind: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The code stored in `jobs.kind` (`mail.send`): never change it while such jobs may wait.
    const KIND: &'static str;
    /// What the job does, in words for the admin page.
    const LABEL: &'static str;

    /// Does the work. An error is retried with backoff; a job may run twice after a crash (see
    /// `jobs.lease_secs`), so the work must tolerate that.
    fn run(self, state: &AppState, job: &Job) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// A job kind that the workers run: implemented for each kind by `crate::kinds`'s list and nowhere else,
/// so enqueuing a kind that is not registered does not compile.
pub trait Registered: JobKind {}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
type Handler = for<'a> fn(&'a AppState, &'a Job) -> BoxFuture<'a, anyhow::Result<()>>;

/// The job kinds this process runs, installed once at start-up (`crate::kinds::jobs`).
#[derive(Default)]
pub struct Registry {
    kinds: BTreeMap<&'static str, (&'static str, Handler)>,
}

static REGISTRY: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();

/// Installs the process's job kinds before anything runs a job. They are the same for every server in
/// a process, so a later call keeps the first registry.
pub fn install(make: impl FnOnce() -> Registry) {
    REGISTRY.get_or_init(make);
}

/// The installed job kinds.
pub fn registry() -> &'static Registry {
    REGISTRY.get().expect("job kinds are installed at start-up, before any worker runs")
}

impl Registry {
    /// Adds a kind. Two kinds with one code are a programming error, found at start-up.
    pub fn register<J: JobKind>(&mut self) -> &mut Self {
        let added = self.kinds.insert(J::KIND, (J::LABEL, run_kind::<J>));
        assert!(added.is_none(), "job kind {:?} registered twice", J::KIND);
        self
    }

    /// What a job kind is, in words for the admin page.
    pub fn label(&self, kind: &str) -> &'static str {
        self.kinds.get(kind).map_or("其他任务", |(label, _)| label)
    }

    /// The registered kind codes.
    pub fn kinds(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.kinds.keys().copied()
    }

    async fn run(&self, state: &AppState, job: &Job) -> anyhow::Result<()> {
        match self.kinds.get(job.kind.as_str()) {
            Some((_, handler)) => handler(state, job).await,
            // Retried like any failure rather than failed at once: during a rolling upgrade an older
            // process may see a kind that only newer processes know.
            None => anyhow::bail!("unknown job kind {:?}", job.kind),
        }
    }
}

fn run_kind<'a, J: JobKind>(state: &'a AppState, job: &'a Job) -> BoxFuture<'a, anyhow::Result<()>> {
    Box::pin(async move {
        let payload: J = serde_json::from_str(&job.payload)?;
        payload.run(state, job).await
    })
}

fn payload_of<J: JobKind>(job: &J) -> serde_json::Value {
    serde_json::to_value(job).expect("a job payload serialises to JSON")
}

/// Queues a job in the caller's transaction: it commits or rolls back with the change that caused it.
pub async fn enqueue_tx<J: Registered>(tx: &mut Tx, tenant: &str, job: &J) -> DbResult<i64> {
    insert_tx(tx, tenant, J::KIND, &payload_of(job), None, Utc::now()).await
}

async fn insert_tx(
    tx: &mut Tx,
    tenant: &str,
    kind: &str,
    payload: &serde_json::Value,
    dedupe_key: Option<String>,
    run_after: DateTime<Utc>,
) -> DbResult<i64> {
    let now = Utc::now();
    tx.scalar(
        q("INSERT INTO jobs (tenant_id, kind, payload, state, attempts, max_attempts, run_after, created_at, updated_at, dedupe_key) \
           VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $6, $7) RETURNING id")
        .bind(tenant)
        .bind(kind)
        .bind(payload.to_string())
        .bind(DEFAULT_MAX_ATTEMPTS)
        .bind(run_after)
        .bind(now)
        .bind(dedupe_key),
    )
    .await
}

/// Queues a job unless the same one (tenant, kind, payload) is already waiting untouched: repeated
/// causes, such as many credits of one person-year in one import, then run it once. On Postgres the
/// waiting job's row is locked until the caller commits, so no worker can start it before it sees the
/// caller's change (a claim skips locked rows); once a worker has claimed it, a new job is queued. On
/// SQLite write transactions are serialised, so the same holds.
pub async fn enqueue_once_tx<J: Registered>(tx: &mut Tx, tenant: &str, job: &J) -> DbResult<i64> {
    enqueue_once_at_tx(tx, tenant, job, Utc::now()).await
}

/// [`enqueue_once_tx`] for a job due later: a debounce (the first cause sets the time, later causes
/// join the waiting job).
pub async fn enqueue_once_at_tx<J: Registered>(tx: &mut Tx, tenant: &str, job: &J, run_after: DateTime<Utc>) -> DbResult<i64> {
    use sha2::Digest;
    let (kind, payload) = (J::KIND, &payload_of(job));
    let lock = match tx.backend() {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    let key = hex::encode(sha2::Sha256::digest(format!("{kind}\n{payload}")));
    let waiting: Option<(i64,)> = tx
        .opt(
            q(format!("SELECT id FROM jobs WHERE tenant_id = $1 AND dedupe_key = $2 AND state = 'queued' AND attempts = 0 LIMIT 1{lock}"))
                .bind(tenant)
                .bind(&key),
        )
        .await?;
    match waiting {
        Some((id,)) => Ok(id),
        None => insert_tx(tx, tenant, kind, payload, Some(key), run_after).await,
    }
}

/// Claims the most overdue job for `worker`, or none. Only one of several concurrent workers, in this
/// process or another, can win a job: on Postgres the candidate row is locked and rows locked by other
/// claims are skipped; on SQLite the write transaction (`BEGIN IMMEDIATE`) serialises claims.
pub async fn claim(db: &Db, worker: &str, now: DateTime<Utc>, lease_secs: i64) -> DbResult<Option<Job>> {
    let lock = match db.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let claim = format!(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, run_after = $2, worker = $3, updated_at = $1 \
         WHERE id = (SELECT id FROM jobs WHERE state IN ('queued', 'running') AND run_after <= $1 ORDER BY run_after, id LIMIT 1{lock}) \
         AND state IN ('queued', 'running') AND run_after <= $1 RETURNING {COLUMNS}"
    );
    let mut tx = db.begin().await?;
    let job = tx.opt(q(claim).bind(now).bind(now + chrono::Duration::seconds(lease_secs.max(1))).bind(worker)).await?;
    tx.commit().await?;
    Ok(job)
}

/// Claims and runs one due job; returns it as it stands afterwards, or `None` when nothing is due.
/// `now` is the worker's clock (tests pass a later one to make retries due).
pub async fn run_next(state: &AppState, worker: &str, now: DateTime<Utc>) -> anyhow::Result<Option<Job>> {
    let Some(job) = claim(&state.db, worker, now, state.config.jobs.lease_secs).await? else {
        return Ok(None);
    };
    // The job runs behind its tenant's row-level wall; claiming and finishing read the shared queue.
    let outcome = crate::db::within_tenant(&job.tenant_id, registry().run(state, &job)).await;
    if let Err(err) = &outcome {
        tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempts, error = %format!("{err:#}"), "job failed");
    }
    Ok(Some(finish(&state.db, &job, outcome, now).await?))
}

/// Records a run's outcome, unless the claim was lost meanwhile (its lease ran out and another worker
/// claimed the job again; that worker's outcome counts).
async fn finish(db: &Db, job: &Job, outcome: anyhow::Result<()>, now: DateTime<Utc>) -> DbResult<Job> {
    let update = match outcome {
        Ok(()) => q(format!(
            "UPDATE jobs SET state = 'done', updated_at = $3 \
             WHERE id = $1 AND state = 'running' AND attempts = $2 RETURNING {COLUMNS}"
        ))
        .bind(job.id)
        .bind(job.attempts)
        .bind(now),
        Err(err) => {
            let error: String = format!("{err:#}").chars().take(MAX_ERROR_CHARS).collect();
            let next_state = if job.attempts >= job.max_attempts { "failed" } else { "queued" };
            q(format!(
                "UPDATE jobs SET state = $4, run_after = $5, last_error = $6, updated_at = $3 \
                 WHERE id = $1 AND state = 'running' AND attempts = $2 RETURNING {COLUMNS}"
            ))
            .bind(job.id)
            .bind(job.attempts)
            .bind(now)
            .bind(next_state)
            .bind(now + backoff(job.attempts))
            .bind(error)
        }
    };
    match db.opt(update).await? {
        Some(done) => Ok(done),
        None => {
            tracing::warn!(job = job.id, "job outcome dropped: its claim expired and it was claimed again");
            db.one(q(format!("SELECT {COLUMNS} FROM jobs WHERE id = $1")).bind(job.id)).await
        }
    }
}

/// The wait before the retry that follows attempt number `attempts` (1-based).
fn backoff(attempts: i64) -> chrono::Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1)).unwrap_or(u32::MAX).min(20);
    chrono::Duration::seconds(FIRST_BACKOFF_SECS.saturating_mul(1 << doublings).min(MAX_BACKOFF_SECS))
}

/// Runs jobs due at `now` until none is left; returns how many ran. Jobs that fail are queued again for
/// later, so this always ends.
pub async fn run_due(state: &AppState, worker: &str, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let mut ran = 0;
    while run_next(state, worker, now).await?.is_some() {
        ran += 1;
    }
    Ok(ran)
}

/// Starts the configured number of workers for this process.
pub fn spawn_workers(state: &AppState) {
    for n in 0..state.config.jobs.workers {
        // Host and pid tell the processes of a deployment apart in the `worker` column and the logs.
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into());
        let name = format!("{host}-pid{}-worker{n}", std::process::id());
        crate::db::spawn(work(state.clone(), name, n == 0));
    }
}

/// One worker: runs due jobs back to back, and polls with a growing pause while there are none. The
/// `sweeper` (each process's first worker) also deletes old finished jobs when idle, once an hour.
async fn work(state: AppState, name: String, sweeper: bool) {
    let mut pause = MIN_POLL;
    let mut swept: Option<std::time::Instant> = None;
    loop {
        match run_next(&state, &name, Utc::now()).await {
            Ok(Some(_)) => {
                pause = MIN_POLL;
                continue;
            }
            Ok(None) => {}
            Err(err) => tracing::error!(worker = %name, error = %format!("{err:#}"), "jobs worker cannot reach the queue"),
        }
        let keep_days = state.config.jobs.keep_done_days;
        if sweeper && keep_days > 0 && swept.is_none_or(|at| at.elapsed() >= SWEEP_EVERY) {
            swept = Some(std::time::Instant::now());
            match purge_done(&state.db, Utc::now() - chrono::Duration::days(keep_days)).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(worker = %name, jobs = n, "finished jobs deleted"),
                Err(err) => tracing::error!(worker = %name, error = %format!("{err:#}"), "finished jobs not deleted"),
            }
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(MAX_POLL);
    }
}

/// Deletes finished jobs last touched before `before`; returns how many. Every platform batch queues a
/// recompute whose payload lists its person-years, so without this the table grows by the ingest rate.
pub async fn purge_done(db: &Db, before: DateTime<Utc>) -> DbResult<u64> {
    db.run(q("DELETE FROM jobs WHERE state = 'done' AND updated_at < $1").bind(before)).await
}

/// Jobs for operators, newest first, optionally by state and tenant (`jijiao jobs list`).
pub async fn list(db: &Db, state: Option<&str>, tenant: Option<&str>, limit: i64) -> anyhow::Result<Vec<Job>> {
    Ok(list_page(db, state, tenant, 0, limit).await?.0)
}

/// One page of jobs, newest first, and how many match: the query behind `jijiao jobs list` and the
/// jobs admin page.
/// Jobs not done, by kind and state: how many and how long the oldest has waited (`/metrics`).
#[derive(Debug, sqlx::FromRow)]
pub struct OpenKind {
    pub kind: String,
    pub state: String,
    pub count: i64,
    pub oldest: DateTime<Utc>,
}

pub async fn open_by_kind(db: &Db) -> DbResult<Vec<OpenKind>> {
    db.all(q("SELECT kind, state, COUNT(*) AS count, MIN(created_at) AS oldest FROM jobs \
              WHERE state IN ('queued', 'running', 'failed') GROUP BY kind, state"))
        .await
}

pub async fn list_page(db: &Db, state: Option<&str>, tenant: Option<&str>, offset: i64, limit: i64) -> anyhow::Result<(Vec<Job>, i64)> {
    let state = state.filter(|s| !s.is_empty());
    if let Some(state) = state {
        anyhow::ensure!(STATES.contains(&state), "unknown job state {state:?} (use one of {})", STATES.join(", "));
    }
    const WHERE: &str = "WHERE ($1 = '' OR state = $1) AND ($2 = '' OR tenant_id = $2)";
    let jobs = db
        .all(
            q(format!("SELECT {COLUMNS} FROM jobs {WHERE} ORDER BY id DESC LIMIT $3 OFFSET $4"))
                .bind(state.unwrap_or(""))
                .bind(tenant.unwrap_or(""))
                .bind(limit)
                .bind(offset),
        )
        .await?;
    let total = db.scalar(q(format!("SELECT COUNT(*) FROM jobs {WHERE}")).bind(state.unwrap_or("")).bind(tenant.unwrap_or(""))).await?;
    Ok((jobs, total))
}

/// One tab-separated line per job for `jijiao jobs list`; the error on one line.
pub fn describe(job: &Job) -> String {
    let error = job.last_error.as_deref().unwrap_or("").replace(['\n', '\t'], " ");
    format!(
        "{}\t{}\t{}\t{}\t{}/{}\t{}\t{error}",
        job.id,
        job.state,
        job.kind,
        job.tenant_id,
        job.attempts,
        job.max_attempts,
        job.run_after.format("%Y-%m-%d %H:%M:%S UTC")
    )
}

/// Makes a failed (or waiting) job due now with a fresh set of attempts.
pub async fn retry(db: &Db, id: i64) -> anyhow::Result<Job> {
    retry_in(db, None, id).await
}

/// `retry`, limited to one tenant's jobs when `tenant` is given (the admin page): another tenant's job
/// is "no job".
pub async fn retry_in(db: &Db, tenant: Option<&str>, id: i64) -> anyhow::Result<Job> {
    let tenant = tenant.unwrap_or("");
    let retried = db
        .opt(
            q(format!(
                "UPDATE jobs SET state = 'queued', attempts = 0, run_after = $2, updated_at = $2 \
                 WHERE id = $1 AND ($3 = '' OR tenant_id = $3) AND state IN ('failed', 'queued') RETURNING {COLUMNS}"
            ))
            .bind(id)
            .bind(Utc::now())
            .bind(tenant),
        )
        .await?;
    if let Some(job) = retried {
        return Ok(job);
    }
    let current: Option<(String,)> =
        db.opt(q("SELECT state FROM jobs WHERE id = $1 AND ($2 = '' OR tenant_id = $2)").bind(id).bind(tenant)).await?;
    match current {
        None => anyhow::bail!("no job {id}"),
        Some((state,)) => anyhow::bail!("job {id} is {state}; only failed or queued jobs can be retried"),
    }
}

/// One job of a tenant, for the admin page.
pub async fn get_in(db: &Db, tenant: &str, id: i64) -> DbResult<Option<Job>> {
    db.opt(q(format!("SELECT {COLUMNS} FROM jobs WHERE id = $1 AND tenant_id = $2")).bind(id).bind(tenant)).await
}
