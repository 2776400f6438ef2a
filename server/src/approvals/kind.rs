//! What a request kind supplies to the engine, and the registry of kinds. The engine owns the queue,
//! routes, rounds, steps, batch decisions, returns, the audit trail, messages and digests; a kind owns
//! its subject: what a final approval, a rejection or a return does to it inside the deciding
//! transaction, what the applicant is told, and what the approver is shown.

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};
use serde_json::Value;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa::{PartialSchema, ToSchema};

use super::{Approval, Notice};
use crate::config::Config;
use crate::db::{Db, Tx};
use crate::error::AppError;
use crate::state::AppState;

/// Whose queue an item of a kind lands in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reviewers {
    /// Only the step's own organisation: a step is that organisation's review, and a higher level must
    /// not skip it.
    StepOrg,
    /// Any admin whose subtree (regional or supervising) holds the step's organisation: a bureau can act
    /// for the units below it.
    Subtree,
}

/// How the engine records its decisions in a kind's own audit trail (on the subject, next to the kind's
/// own actions such as `claim.created`), and what the trail calls them.
#[derive(Debug, Clone, Copy)]
pub struct Trail {
    /// A step approved and the item went on to the next (detail `{step, next}`).
    pub forwarded: &'static str,
    /// The last step approved (detail `{step}`), with its words on the trail.
    pub approved: (&'static str, &'static str),
    /// A step rejected (detail `{step, reason}`).
    pub rejected: &'static str,
    /// A step returned the item for changes, for kinds that may be returned (detail `{step, reason}`).
    pub returned: Option<&'static str>,
}

impl Trail {
    /// The engine's actions on this trail with their words.
    fn labels(&self) -> impl Iterator<Item = (&'static str, &'static str)> {
        [
            Some((self.forwarded, "审核通过，送下一级")),
            Some(self.approved),
            Some((self.rejected, "审核不通过")),
            self.returned.map(|r| (r, "退回修改")),
        ]
        .into_iter()
        .flatten()
    }
}

/// One decision being applied: the item, who decided, and the reason they gave.
pub struct Decided<'a> {
    pub config: &'a Config,
    pub tenant: &'a str,
    /// The tenant's words, for messages that name a subject.
    pub words: &'a crate::tenancy::Words,
    pub item: &'a Approval,
    pub actor: i64,
    pub reason: Option<&'a str>,
}

impl Decided<'_> {
    /// The reason as messages quote it (empty when none was given).
    pub fn reason_text(&self) -> &str {
        self.reason.unwrap_or("")
    }
}

/// An approvable request kind (registration, claim, plan, …). Implemented by the module that owns the
/// subject and registered once in `crate::kinds::requests`; rows of the kind are opened through the type
/// (`open_route_tx::<K>`), so a kind that is not a `RequestKind` cannot be queued.
///
/// Every hook runs inside the deciding transaction; an error rolls the whole batch back.
pub trait RequestKind: Default + Send + Sync + 'static {
    /// The queue's code (`approvals.kind`, `?kind=` on the queue page): never change it while rows wait.
    const CODE: &'static str;
    /// The queue's name on the tabs and in digest mails.
    const LABEL: &'static str;
    /// What one item of the queue is called ("没有待审核的{NOUN}。").
    const NOUN: &'static str;
    /// The casbin object guarding reviews of the kind (action `review`).
    const OBJECT: &'static str;
    /// The template that shows the subject (the `subject` from [`detail`](Self::detail)) on the approval
    /// page: a file in `server/templates/`, listed in `web/templates.rs`.
    const DETAIL_TEMPLATE: &'static str;
    const REVIEWERS: Reviewers = Reviewers::StepOrg;
    /// Whether the queue page groups pending items by the declaring organisation (seeds 003, 004:
    /// reviewers work through one unit's or institution's batch at a time).
    const GROUPED: bool = false;
    /// Whether a reviewer may return an item to the applicant for changes (else approve or reject only).
    const RETURNABLE: bool = false;
    /// Where the engine records its decisions on the subject's own trail; `None` records only the queue
    /// row's.
    const TRAIL: Option<Trail> = None;

    /// Whether the tenant offers the kind at all (a province without exemptions has no such queue).
    fn offered(tenant: &crate::tenancy::TenantSettings) -> bool {
        let _ = tenant;
        true
    }

    /// A step approved and the item went on to the organisation `next`: what the applicant is told.
    fn forwarded(&self, tx: &mut Tx, d: &Decided<'_>, next: &str) -> impl Future<Output = Result<Notice, AppError>> + Send {
        let _ = tx;
        let notice = Notice {
            title: "申请已通过一级审核".to_owned(),
            body: format!("{} 已通过{}审核，已提交{next}审核。", d.item.summary, d.item.approver_org_name),
            mail: false,
        };
        async move { Ok(notice) }
    }

    /// The last step approved: what that does to the subject, and what the applicant is told.
    fn approved(&self, tx: &mut Tx, d: &Decided<'_>) -> impl Future<Output = Result<Notice, AppError>> + Send;

    /// A step rejected (the engine has closed the round's later steps): what that does to the subject.
    fn rejected(&self, tx: &mut Tx, d: &Decided<'_>) -> impl Future<Output = Result<Notice, AppError>> + Send;

    /// A step returned the item for changes (only when `RETURNABLE`; the round's later steps are closed).
    fn returned(&self, tx: &mut Tx, d: &Decided<'_>) -> impl Future<Output = Result<Notice, AppError>> + Send {
        let _ = (tx, d);
        async { Err(AppError::internal(format!("{} cannot be returned", Self::CODE))) }
    }

    /// What [`detail`](Self::detail) shows: the kind's own `subject` shape, declared in the OpenAPI
    /// document as one of the approval detail's subjects.
    type Detail: serde::Serialize + utoipa::ToSchema + Send;

    /// The subject as the approver sees it (the `subject` of the approval detail page and API).
    fn detail(&self, state: &AppState, tenant: &str, item: &Approval) -> impl Future<Output = Result<Self::Detail, AppError>> + Send;
}

/// Settles a kind's own subject row that is still pending (`table` has `tenant_id`, `id`, `status` and
/// `decided_at`): `status` becomes the outcome. 409 `already_decided` when it was settled meanwhile (a
/// withdrawal, another decision), which rolls the deciding batch back.
pub async fn settle_subject_tx(tx: &mut Tx, table: &'static str, tenant: &str, id: i64, status: &str) -> Result<(), AppError> {
    let changed = tx
        .run(
            crate::db::q(format!(
                "UPDATE {table} SET status = $3, decided_at = $4 WHERE tenant_id = $1 AND id = $2 AND status = 'pending'"
            ))
            .bind(tenant)
            .bind(id)
            .bind(status)
            .bind(chrono::Utc::now()),
        )
        .await?;
    if changed == 0 {
        return Err(AppError::conflict("already_decided", "该申请已被处理"));
    }
    Ok(())
}

/// A request kind the engine decides: implemented for each kind by `crate::kinds`'s list and nowhere
/// else, so opening rows of a kind that is not registered does not compile.
pub trait Registered: RequestKind {}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// [`RequestKind`] as the registry holds it: its constants as methods, its futures boxed.
pub(super) trait DynKind: Send + Sync {
    fn code(&self) -> &'static str;
    fn label(&self) -> &'static str;
    fn noun(&self) -> &'static str;
    fn object(&self) -> &'static str;
    fn detail_template(&self) -> &'static str;
    fn reviewers(&self) -> Reviewers;
    fn grouped(&self) -> bool;
    fn returnable(&self) -> bool;
    fn trail(&self) -> Option<Trail>;
    fn offered(&self, tenant: &crate::tenancy::TenantSettings) -> bool;
    fn forwarded<'a>(&'a self, tx: &'a mut Tx, d: &'a Decided<'a>, next: &'a str) -> BoxFuture<'a, Result<Notice, AppError>>;
    fn approved<'a>(&'a self, tx: &'a mut Tx, d: &'a Decided<'a>) -> BoxFuture<'a, Result<Notice, AppError>>;
    fn rejected<'a>(&'a self, tx: &'a mut Tx, d: &'a Decided<'a>) -> BoxFuture<'a, Result<Notice, AppError>>;
    fn returned<'a>(&'a self, tx: &'a mut Tx, d: &'a Decided<'a>) -> BoxFuture<'a, Result<Notice, AppError>>;
    /// The subject as JSON: kinds differ in shape, and the engine serves them all.
    fn detail<'a>(&'a self, state: &'a AppState, tenant: &'a str, item: &'a Approval) -> BoxFuture<'a, Result<Value, AppError>>;
    /// The name of the kind's subject schema and the schema itself.
    fn detail_schema(&self) -> (String, RefOr<Schema>);
    /// Adds the schemas the subject schema refers to (recursively) to `schemas`.
    fn detail_schemas(&self, schemas: &mut Vec<(String, RefOr<Schema>)>);
}

impl<K: RequestKind> DynKind for K {
    fn code(&self) -> &'static str {
        K::CODE
    }
    fn label(&self) -> &'static str {
        K::LABEL
    }
    fn noun(&self) -> &'static str {
        K::NOUN
    }
    fn object(&self) -> &'static str {
        K::OBJECT
    }
    fn detail_template(&self) -> &'static str {
        K::DETAIL_TEMPLATE
    }
    fn reviewers(&self) -> Reviewers {
        K::REVIEWERS
    }
    fn grouped(&self) -> bool {
        K::GROUPED
    }
    fn returnable(&self) -> bool {
        K::RETURNABLE
    }
    fn trail(&self) -> Option<Trail> {
        K::TRAIL
    }
    fn offered(&self, tenant: &crate::tenancy::TenantSettings) -> bool {
        K::offered(tenant)
    }
    fn forwarded<'a>(&'a self, tx: &'a mut Tx, d: &'a Decided<'a>, next: &'a str) -> BoxFuture<'a, Result<Notice, AppError>> {
        Box::pin(RequestKind::forwarded(self, tx, d, next))
    }
    fn approved<'a>(&'a self, tx: &'a mut Tx, d: &'a Decided<'a>) -> BoxFuture<'a, Result<Notice, AppError>> {
        Box::pin(RequestKind::approved(self, tx, d))
    }
    fn rejected<'a>(&'a self, tx: &'a mut Tx, d: &'a Decided<'a>) -> BoxFuture<'a, Result<Notice, AppError>> {
        Box::pin(RequestKind::rejected(self, tx, d))
    }
    fn returned<'a>(&'a self, tx: &'a mut Tx, d: &'a Decided<'a>) -> BoxFuture<'a, Result<Notice, AppError>> {
        Box::pin(RequestKind::returned(self, tx, d))
    }
    fn detail<'a>(&'a self, state: &'a AppState, tenant: &'a str, item: &'a Approval) -> BoxFuture<'a, Result<Value, AppError>> {
        Box::pin(async move {
            let detail = RequestKind::detail(self, state, tenant, item).await?;
            serde_json::to_value(detail).map_err(AppError::internal)
        })
    }
    fn detail_schema(&self) -> (String, RefOr<Schema>) {
        (<K::Detail as ToSchema>::name().into_owned(), <K::Detail as PartialSchema>::schema())
    }
    fn detail_schemas(&self, schemas: &mut Vec<(String, RefOr<Schema>)>) {
        <K::Detail as ToSchema>::schemas(schemas);
    }
}

/// The request kinds this server decides, in the order of the queue page's tabs (the first is the
/// default kind), installed once at start-up (`crate::kinds::requests`).
#[derive(Default)]
pub struct Registry {
    kinds: Vec<Box<dyn DynKind>>,
}

static REGISTRY: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();

/// Installs the process's request kinds before any request is served. They are the same for every
/// server in a process, so a later call keeps the first registry.
pub fn install(make: impl FnOnce() -> Registry) {
    REGISTRY.get_or_init(make);
}

/// The installed request kinds.
pub fn registry() -> &'static Registry {
    REGISTRY.get().expect("request kinds are installed at start-up, before any request is served")
}

impl Registry {
    /// Adds a kind. Two kinds with one code are a programming error, found at start-up.
    pub fn register<K: RequestKind>(&mut self) -> &mut Self {
        assert!(self.get(K::CODE).is_none(), "request kind {:?} registered twice", K::CODE);
        self.kinds.push(Box::new(K::default()));
        self
    }

    /// Each kind's code and the template of its detail view.
    pub fn detail_templates(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        self.kinds.iter().map(|k| (k.code(), k.detail_template()))
    }

    /// The registered kind codes, in tab order.
    pub fn codes(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.kinds.iter().map(|k| k.code())
    }

    /// A kind's name for people, if it is registered.
    pub fn label(&self, code: &str) -> Option<&'static str> {
        self.get(code).map(|k| k.label())
    }

    pub(super) fn get(&self, code: &str) -> Option<&dyn DynKind> {
        self.kinds.iter().find(|k| k.code() == code).map(|k| &**k)
    }

    pub(super) fn all(&self) -> impl Iterator<Item = &dyn DynKind> {
        self.kinds.iter().map(|k| &**k)
    }

    /// The kind a queue shows when none is asked for: the first registered.
    pub(super) fn default_code(&self) -> &'static str {
        self.kinds.first().map_or("", |k| k.code())
    }
}

/// One entry of a subject's trail as its page shows it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TrailEntry {
    pub created_at: DateTime<Utc>,
    pub actor_name: Option<String>,
    /// The audit action, e.g. `claim.submitted`
    pub action: String,
    /// The action in words
    pub label: String,
    /// The reason given with a rejection or return
    pub reason: Option<String>,
}

/// A subject's audit trail as its page shows it, oldest first: time, actor, action, the action's words
/// (from the kind's own `labels`, else the engine's words for its decisions) and the reason given.
pub async fn subject_trail(
    db: &Db,
    tenant: &str,
    subject_type: &str,
    subject_id: i64,
    labels: &[(&str, &str)],
    trail: Option<Trail>,
) -> Result<Vec<TrailEntry>, sqlx::Error> {
    let decisions: Vec<(&str, &str)> = trail.iter().flat_map(Trail::labels).collect();
    Ok(crate::audit::trail(db, tenant, subject_type, subject_id)
        .await?
        .into_iter()
        .map(|entry| {
            let label =
                labels.iter().chain(&decisions).find(|(a, _)| *a == entry.action).map_or(entry.action.as_str(), |(_, l)| l).to_owned();
            let detail: Value = serde_json::from_str(&entry.detail).unwrap_or_default();
            // Every recorded reason is a string (or null); anything else would be no reason.
            let reason = detail.get("reason").and_then(Value::as_str).map(str::to_owned);
            TrailEntry { created_at: entry.created_at, actor_name: entry.actor_name, action: entry.action, label, reason }
        })
        .collect())
}
