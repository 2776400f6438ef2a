//! The approval engine: requests of every kind (registrations, claims, plans, declarations, filings,
//! exemptions …) wait in one queue for an organisation to decide them. The engine owns routing (through
//! the tenant's rules plugin), rounds and steps, batch decisions (one transaction; a decided item cannot
//! be decided again, 409), returns, the audit trail, messages and digest mails. What differs per kind —
//! what a decision does to its subject, what the approver is shown — is the kind's own
//! [`RequestKind`], registered in `crate::kinds::requests`; the engine names no kind.

mod kind;
mod route;

pub use kind::{
    Decided, Registered, Registry, RequestKind, Reviewers, Trail, TrailEntry, install, registry, settle_subject_tx, subject_trail,
};
pub use route::{
    NewApproval, RouteOrg, Seat, StepStatus, StepView, Steps, close_open_steps_tx, hold_pending_tx, latest_round, on_route, open_route_tx,
    open_tx, org_level, resolve_step, role_code, route_asks_choice, route_for, route_json, seat, steps, withdraw_undecided_tx,
};

use std::collections::BTreeMap;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, Utc};
use kind::DynKind;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::Paged;
use crate::audit;
use crate::auth::CurrentUser;
use crate::auth::csrf::CsrfForm;
use crate::config::Config;
use crate::db::{Filters, Tx, q};
use crate::error::AppError;
use crate::paging::Query;
use crate::paging::Search;
use crate::state::AppState;
use crate::web::Page;
use crate::{jobs, mail, messages};

/// Makes sure the admins of `org` get a digest mail of their queue within `mail.digest_minutes`: one job
/// per organisation while one is queued, so a burst of new items gives one mail.
pub async fn schedule_digest_tx(tx: &mut Tx, config: &Config, tenant: &str, org: i64) -> Result<(), sqlx::Error> {
    let at = Utc::now() + chrono::Duration::minutes(config.mail.digest_minutes.max(0));
    jobs::enqueue_once_at_tx(tx, tenant, &Digest { org_id: org }, at).await.map(|_| ())
}

/// The job that mails an organisation's admins what waits in their queue.
#[derive(Serialize, Deserialize)]
pub struct Digest {
    org_id: i64,
}

impl jobs::JobKind for Digest {
    const KIND: &'static str = "approvals.digest";
    const LABEL: &'static str = "待审核提醒邮件";

    async fn run(self, state: &AppState, job: &jobs::Job) -> anyhow::Result<()> {
        send_digest(state, job, self).await
    }
}

/// Mails every active admin of the organisation how many items wait in its queue per kind. Nothing is
/// sent when the queue was emptied meanwhile.
async fn send_digest(state: &AppState, job: &jobs::Job, payload: Digest) -> anyhow::Result<()> {
    let tenant = job.tenant_id.as_str();
    let counts: Vec<(String, i64)> = state
        .db
        .all(
            q("SELECT kind, COUNT(*) FROM approvals WHERE tenant_id = $1 AND approver_org_id = $2 AND status = 'pending' GROUP BY kind ORDER BY kind")
                .bind(tenant)
                .bind(payload.org_id),
        )
        .await?;
    if counts.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> =
        counts.iter().map(|(kind, n)| format!("{}：{n} 条", registry().label(kind).unwrap_or(kind.as_str()))).collect();
    let total: i64 = counts.iter().map(|c| c.1).sum();
    let subject = format!("您有 {total} 条待审核事项");
    let body = format!("您所在单位的审核队列中有以下待审核事项：\n{}\n请登录平台“审核管理”处理。", lines.join("\n"));
    let admins: Vec<(i64,)> = state
        .db
        .all(
            q("SELECT id FROM accounts WHERE tenant_id = $1 AND org_id = $2 AND role <> 'staff' AND status = 'active' ORDER BY id")
                .bind(tenant)
                .bind(payload.org_id),
        )
        .await?;
    let mut tx = state.db.begin().await?;
    for (admin,) in admins {
        mail::queue::queue_to_account_tx(&mut tx, tenant, admin, &subject, &body).await?;
    }
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Approval {
    pub id: i64,
    pub kind: String,
    pub subject_type: String,
    pub subject_id: i64,
    pub summary: String,
    pub applicant_account_id: Option<i64>,
    pub applicant_name: Option<String>,
    pub approver_org_id: i64,
    pub approver_org_name: String,
    /// pending, waiting (a later step), approved, rejected, returned, withdrawn or cancelled
    pub status: StepStatus,
    pub reason: Option<String>,
    pub decided_by: Option<i64>,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub round: i64,
    pub step_no: i64,
    pub step_role: Option<String>,
    pub declaring_org_id: Option<i64>,
    pub declaring_org_name: Option<String>,
}

pub const COLUMNS: &str = "p.id, p.kind, p.subject_type, p.subject_id, p.summary, p.applicant_account_id, a.name AS applicant_name, \
     p.approver_org_id, o.name AS approver_org_name, p.status, p.reason, p.decided_by, x.name AS decided_by_name, p.decided_at, p.created_at, \
     p.round, p.step_no, p.step_role, p.declaring_org_id, d.name AS declaring_org_name";
pub const FROM: &str = "FROM approvals p JOIN orgs o ON o.tenant_id = p.tenant_id AND o.id = p.approver_org_id \
     LEFT JOIN accounts a ON a.tenant_id = p.tenant_id AND a.id = p.applicant_account_id \
     LEFT JOIN accounts x ON x.tenant_id = p.tenant_id AND x.id = p.decided_by \
     LEFT JOIN orgs d ON d.tenant_id = p.tenant_id AND d.id = p.declaring_org_id";

/// A registered kind by its code (the first registered when none is given), else 400.
fn kind_of<'a>(_state: &'a AppState, code: &str) -> Result<&'a dyn DynKind, AppError> {
    let kinds = registry();
    let code = if code.is_empty() { kinds.default_code() } else { code };
    kinds.get(code).ok_or_else(|| AppError::bad_request("bad_kind", "审核类型无效"))
}

/// Statuses a reviewer can list ("all" is every decided or pending one).
const LISTED: &[&str] = &["pending", "approved", "rejected", "returned"];

crate::paging::list_query! {
    #[derive(Debug, Deserialize, utoipa::IntoParams)]
    pub struct ListQuery {
        /// registration (default), claim, exemption, plan, declaration or filing
        #[serde(default)]
        pub kind: String,
        /// pending (default), approved, rejected, returned or all
        #[serde(default = "default_status")]
        pub status: String,
        /// The summary (applicant's name, what was applied for) or the declaring organisation's name contains
        pub q: Option<String>,
        /// Only items declared by this organisation
        pub org: Option<i64>,
    }
}

fn default_status() -> String {
    "pending".into()
}

/// The rows of `kind` the caller may see and decide: per the kind's [`Reviewers`], those of the
/// caller's own organisation, or anything whose approver lies in the caller's subtree.
async fn queue(state: &AppState, user: &CurrentUser, kind: &str) -> Result<Filters, AppError> {
    let kind = kind_of(state, kind)?;
    user.authorize(state, kind.object(), "review").await?;
    let mut filters = Filters::tenant("p.tenant_id", user.tenant_code());
    filters.and("p.kind = ?", kind.code());
    reviewed_by(&mut filters, user, kind.reviewers())?;
    Ok(filters)
}

/// Keeps the rows the caller reviews under `reviewers`; 403 for an account without an organisation.
fn reviewed_by(filters: &mut Filters, user: &CurrentUser, reviewers: Reviewers) -> Result<(), AppError> {
    match reviewers {
        Reviewers::Subtree => {
            filters.and_same("(o.path LIKE ? OR o.supervisor_path LIKE ?)", user.scope_pattern().ok_or_else(AppError::forbidden)?);
        }
        Reviewers::StepOrg => {
            filters.and("p.approver_org_id = ?", user.account.org_id.ok_or_else(AppError::forbidden)?);
        }
    }
    Ok(())
}

/// One queue the caller reviews and how many items wait in it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PendingCount {
    /// The queue's kind (`?kind=` of the approval list)
    pub kind: &'static str,
    pub label: &'static str,
    pub pending: i64,
}

/// How many items wait for the caller in each queue it may review, in tab order, zeros included: one
/// grouped count per way of reviewing (the caller's own organisation's steps, its subtree's), on the
/// queue's index, so every page view can afford it.
/// The kinds the user reviews: offered by the tenant and granted by the policy.
async fn reviewable_kinds(state: &AppState, user: &CurrentUser) -> Vec<&'static dyn DynKind> {
    let mut kinds = Vec::new();
    for kind in registry().all() {
        if kind.offered(&user.tenant.tenant.settings) && user.can(state, kind.object(), "review").await {
            kinds.push(kind);
        }
    }
    kinds
}

pub async fn pending_counts(state: &AppState, user: &CurrentUser) -> Result<Vec<PendingCount>, AppError> {
    let kinds = if user.is_admin() { reviewable_kinds(state, user).await } else { Vec::new() };
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    for reviewers in [Reviewers::StepOrg, Reviewers::Subtree] {
        // Registered codes only (static, lowercase words): safe to write into the statement.
        let codes: Vec<String> = kinds.iter().filter(|k| k.reviewers() == reviewers).map(|k| format!("'{}'", k.code())).collect();
        let mut filters = Filters::tenant("p.tenant_id", user.tenant_code());
        if codes.is_empty() || reviewed_by(&mut filters, user, reviewers).is_err() {
            continue;
        }
        filters.and_sql("p.status = 'pending'").and_sql(&format!("p.kind IN ({})", codes.join(", ")));
        let rows: Vec<(String, i64)> = state
            .db
            .all(filters.grouped(
                "SELECT p.kind, COUNT(*) FROM approvals p JOIN orgs o ON o.tenant_id = p.tenant_id AND o.id = p.approver_org_id",
                "p.kind",
                "p.kind",
            ))
            .await?;
        counts.extend(rows);
    }
    Ok(kinds
        .iter()
        .map(|k| PendingCount { kind: k.code(), label: k.label(), pending: counts.get(k.code()).copied().unwrap_or(0) })
        .collect())
}

#[utoipa::path(get, path = "/me/todo-counts", tag = "approvals",
    responses((status = 200, body = BTreeMap<String, i64>, description = "`{\"<kind>\": n, …}`: items waiting for the caller in each queue it reviews (none for staff)")))]
pub async fn api_todo_counts(State(state): State<AppState>, user: CurrentUser) -> Result<Json<BTreeMap<&'static str, i64>>, AppError> {
    Ok(Json(pending_counts(&state, &user).await?.into_iter().map(|c| (c.kind, c.pending)).collect()))
}

async fn filtered(state: &AppState, user: &CurrentUser, query: &ListQuery) -> Result<Filters, AppError> {
    let mut filters = queue(state, user, &query.kind).await?;
    match query.status.as_str() {
        "all" => {
            filters.and_sql("p.status IN ('pending', 'approved', 'rejected', 'returned')");
        }
        s if LISTED.contains(&s) => {
            filters.and("p.status = ?", s);
        }
        _ => return Err(AppError::bad_request("bad_status", "审核状态无效")),
    }
    if let Some(text) = query.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        // The summary names the applicant; the declaring organisation is how reviewers above a unit
        // find its batch.
        filters.contains(&["p.summary", "d.name"], text);
    }
    if let Some(org) = query.org {
        filters.and("p.declaring_org_id = ?", org);
    }
    Ok(filters)
}

pub async fn list(state: &AppState, user: &CurrentUser, query: &ListQuery) -> Result<(Vec<Approval>, i64), AppError> {
    let filters = filtered(state, user, query).await?;
    Ok(state.db.page(&filters, COLUMNS, FROM, "p.id DESC", query.page, query.per_page()).await?)
}

#[derive(Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Group {
    pub org_id: Option<i64>,
    pub org_name: Option<String>,
    pub pending: i64,
}

/// Pending items of a kind per declaring organisation (reviewers work through one unit's batch at a
/// time, seeds 003 and 004).
pub async fn groups(state: &AppState, user: &CurrentUser, kind: &str) -> Result<Vec<Group>, AppError> {
    let mut filters = queue(state, user, kind).await?;
    filters.and_sql("p.status = 'pending'");
    Ok(state
        .db
        .all(filters.grouped(
            &format!("SELECT p.declaring_org_id AS org_id, MIN(d.name) AS org_name, COUNT(*) AS pending {FROM}"),
            "p.declaring_org_id",
            "MIN(d.name), p.declaring_org_id",
        ))
        .await?)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DecisionInput {
    /// The items to decide; or use `all`.
    #[serde(default)]
    pub ids: Vec<i64>,
    /// approve, reject or return (return: claims only, back to the applicant for changes)
    pub decision: String,
    #[serde(default)]
    pub reason: Option<String>,
    /// Decide every pending item of `kind` in the caller's queue (optionally only those declared by `org`)
    /// instead of `ids` — "全部通过 / 全部不通过".
    #[serde(default)]
    pub all: bool,
    pub kind: Option<String>,
    pub org: Option<i64>,
}

/// What a decision does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
    Return,
}

impl Decision {
    fn status(self) -> StepStatus {
        match self {
            Decision::Approve => StepStatus::Approved,
            Decision::Reject => StepStatus::Rejected,
            Decision::Return => StepStatus::Returned,
        }
    }
}

/// A message (and, when `mail`, an e-mail) to the applicant about a decision.
pub struct Notice {
    pub title: String,
    pub body: String,
    pub mail: bool,
}

/// Most items one batch decides (one transaction).
const BATCH_LIMIT: usize = 2000;

/// Decides every listed item, or none: one transaction. Items outside the caller's scope or tenant are
/// "not found"; items already decided are a conflict.
pub async fn decide(state: &AppState, user: &CurrentUser, input: &DecisionInput) -> Result<Vec<i64>, AppError> {
    let reason = input.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    let mut fields = BTreeMap::new();
    let decision = match input.decision.as_str() {
        "approve" => Some(Decision::Approve),
        "reject" => Some(Decision::Reject),
        "return" => Some(Decision::Return),
        _ => {
            fields.insert("decision".to_owned(), "审核结果只能是通过、不通过或退回修改".to_owned());
            None
        }
    };
    if decision.is_some_and(|d| d != Decision::Approve) && reason.is_none() {
        fields.insert("reason".to_owned(), "不通过或退回时请填写原因".to_owned());
    }
    if reason.is_some_and(|r| r.chars().count() > 500) {
        fields.insert("reason".to_owned(), "原因不能超过 500 字".to_owned());
    }
    let mut ids = if input.all {
        let kind = input.kind.clone().unwrap_or_default();
        let query = ListQuery { kind, status: default_status(), q: None, org: input.org, page: 1, per_page: None };
        let filters = filtered(state, user, &query).await?;
        let rows: Vec<(i64,)> = state.db.all(filters.all(&format!("SELECT p.id {FROM}"), "p.id")).await?;
        rows.into_iter().map(|r| r.0).collect()
    } else {
        input.ids.clone()
    };
    if ids.is_empty() {
        fields.insert("ids".to_owned(), if input.all { "没有待审核的记录".to_owned() } else { "请至少选择一条记录".to_owned() });
    }
    if ids.len() > BATCH_LIMIT {
        fields.insert("ids".to_owned(), format!("一次最多审核 {BATCH_LIMIT} 条"));
    }
    let Some(decision) = decision.filter(|_| fields.is_empty()) else {
        return Err(AppError::invalid(fields));
    };
    let tenant = user.tenant_code();
    ids.sort_unstable();
    ids.dedup();
    let mut tx = state.db.begin().await?;
    let mut decided = Vec::new();
    let mut queues: BTreeMap<String, Filters> = BTreeMap::new();
    for id in &ids {
        let kind: Option<(String,)> =
            tx.opt(q("SELECT kind FROM approvals WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(*id)).await?;
        let Some((kind,)) = kind else { return Err(AppError::not_found()) };
        if !queues.contains_key(&kind) {
            let filters =
                queue(state, user, &kind).await.map_err(|e| if e.status == StatusCode::BAD_REQUEST { AppError::not_found() } else { e })?;
            queues.insert(kind.clone(), filters);
        }
        let mut filters = queues[&kind].clone();
        filters.and("p.id = ?", *id);
        let Some(item): Option<Approval> = tx.opt(filters.all(&format!("SELECT {COLUMNS} {FROM}"), "p.id")).await? else {
            return Err(AppError::not_found());
        };
        let kind = kind_of(state, &item.kind)?;
        if decision == Decision::Return && !kind.returnable() {
            return Err(AppError::invalid([("decision".to_owned(), "只有学时申报可以退回修改，请选择通过或不通过".to_owned())].into()));
        }
        let status = decision.status();
        let changed = tx
            .run(
                q("UPDATE approvals SET status = $3, reason = $4, decided_by = $5, decided_at = $6 WHERE tenant_id = $1 AND id = $2 AND status = 'pending'")
                    .bind(tenant)
                    .bind(*id)
                    .bind(status)
                    .bind(reason.map(str::to_owned))
                    .bind(user.account.id)
                    .bind(Utc::now()),
            )
            .await?;
        if changed != 1 {
            return Err(AppError::conflict("already_decided", format!("第 {id} 号申请已被审核或已撤回，请刷新后重试")));
        }
        let decided_now =
            Decided { config: &state.config, tenant, words: state.tenants.words(tenant), item: &item, actor: user.account.id, reason };
        let notice = apply(&mut tx, kind, &decided_now, decision).await?;
        audit::record_tx(
            &mut tx,
            tenant,
            Some(user.account.id),
            &format!("{}.{status}", item.kind),
            "approval",
            Some(*id),
            json!({"reason": reason, "summary": item.summary, "subject_type": item.subject_type, "subject_id": item.subject_id, "step": item.step_no}),
        )
        .await?;
        if let Some(applicant) = item.applicant_account_id {
            messages::send_tx(&mut tx, tenant, applicant, &notice.title, &notice.body).await?;
            if notice.mail {
                mail::queue::queue_to_account_tx(&mut tx, tenant, applicant, &notice.title, &notice.body).await?;
            }
        }
        decided.push(*id);
    }
    tx.commit().await?;
    Ok(decided)
}

/// The step machine, one for every kind: an approval makes the round's next step pending, or is the
/// kind's final approval when it was the last step; a rejection or return closes the round's later
/// steps and lets the kind record it. The engine writes the subject's trail entry; the kind says what
/// the applicant is told.
async fn apply(tx: &mut Tx, kind: &dyn DynKind, d: &Decided<'_>, decision: Decision) -> Result<Notice, AppError> {
    let item = d.item;
    let trail = kind.trail();
    let (notice, entry) = match decision {
        Decision::Approve => match route::advance_tx(tx, d.config, d.tenant, item).await? {
            Some(next) => {
                let notice = kind.forwarded(tx, d, &next).await?;
                (notice, trail.map(|t| (t.forwarded, json!({"step": item.step_no, "next": next}))))
            }
            None => (kind.approved(tx, d).await?, trail.map(|t| (t.approved.0, json!({"step": item.step_no})))),
        },
        Decision::Reject | Decision::Return => {
            close_open_steps_tx(
                tx,
                d.tenant,
                &item.subject_type,
                item.subject_id,
                item.round,
                &[StepStatus::Waiting],
                StepStatus::Cancelled,
            )
            .await?;
            let detail = json!({"step": item.step_no, "reason": d.reason});
            if decision == Decision::Reject {
                (kind.rejected(tx, d).await?, trail.map(|t| (t.rejected, detail)))
            } else {
                (kind.returned(tx, d).await?, trail.and_then(|t| t.returned).map(|action| (action, detail)))
            }
        }
    };
    if let Some((action, detail)) = entry {
        audit::record_tx(tx, d.tenant, Some(d.actor), action, &item.subject_type, Some(item.subject_id), detail).await?;
    }
    Ok(notice)
}

/// One queue row the caller may see: in their queue for its kind, else "not found".
async fn visible(state: &AppState, user: &CurrentUser, id: i64) -> Result<Approval, AppError> {
    let tenant = user.tenant_code();
    let kind: Option<(String,)> =
        state.db.opt(q("SELECT kind FROM approvals WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(id)).await?;
    let Some((kind,)) = kind else { return Err(AppError::not_found()) };
    let mut filters = queue(state, user, &kind).await?;
    filters.and("p.id = ?", id);
    state.db.opt(filters.all(&format!("SELECT {COLUMNS} {FROM}"), "p.id")).await?.ok_or_else(AppError::not_found)
}

/// One queue item with what the approver needs to decide it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApprovalDetail {
    pub approval: Approval,
    /// The subject as its kind shows it (a registering person or organisation, a claim with its form and
    /// attachments, a plan …): each kind has its own shape, see the kind's detail template
    pub subject: serde_json::Value,
    /// The queue item's own audit trail, oldest first
    pub trail: Vec<audit::AuditEntry>,
}

/// Declares the `subject` of [`ApprovalDetail`] in the OpenAPI document: each registered kind's subject
/// schema (and the schemas it refers to) joins the document's components, and the `subject` property of
/// the `ApprovalDetail` component becomes one of them. Kinds of one shape (the three changes) share their
/// schema. Reads the installed registry, so the request kinds must be installed first ([`install`], as
/// start-up does); a document without an `ApprovalDetail` component only gains the subject schemas.
pub fn document_subjects(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::{OneOfBuilder, Schema};
    use utoipa::openapi::{ComponentsBuilder, Ref, RefOr};
    let components = openapi.components.get_or_insert_with(|| ComponentsBuilder::new().build());
    // Each subject schema's name with the codes of the kinds it shows, in tab order.
    let mut subjects: Vec<(String, Vec<&'static str>)> = Vec::new();
    let mut nested = Vec::new();
    for kind in kind::registry().all() {
        let (name, schema) = kind.detail_schema();
        kind.detail_schemas(&mut nested);
        match subjects.iter_mut().find(|(known, _)| *known == name) {
            Some((_, codes)) => codes.push(kind.code()),
            None => {
                components.schemas.insert(name.clone(), schema);
                subjects.push((name, vec![kind.code()]));
            }
        }
    }
    for (name, schema) in nested {
        components.schemas.entry(name).or_insert(schema);
    }
    let which = subjects.iter().map(|(name, codes)| format!("{name} for `{}`", codes.join("`, `"))).collect::<Vec<_>>().join("; ");
    let subject = subjects
        .iter()
        .fold(OneOfBuilder::new(), |one_of, (name, _)| one_of.item(Ref::from_schema_name(name.clone())))
        .description(Some(format!("The subject as the item's kind (`approval.kind`) shows it: {which}")));
    if let Some(RefOr::T(Schema::Object(detail))) = components.schemas.get_mut("ApprovalDetail") {
        detail.properties.insert("subject".to_owned(), subject.into());
    }
}

/// One item with what the approver needs to decide it: its subject as its kind shows it and the item's
/// audit trail.
pub async fn detail(state: &AppState, user: &CurrentUser, id: i64) -> Result<ApprovalDetail, AppError> {
    let tenant = user.tenant_code();
    let approval = visible(state, user, id).await?;
    let subject = kind_of(state, &approval.kind)?.detail(state, tenant, &approval).await?;
    let trail = audit::trail(&state.db, tenant, "approval", id).await?;
    Ok(ApprovalDetail { approval, subject, trail })
}

// ---- API ----

#[utoipa::path(get, path = "/approvals", params(ListQuery), tag = "approvals",
    responses((status = 200, body = Paged<Approval>, description = "Items waiting for (or decided by) the caller's queue"),
              (status = 403, description = "Not allowed")))]
pub async fn api_list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<Paged<Approval>>, AppError> {
    let (items, total) = list(&state, &user, &query).await?;
    Ok(Json(Paged::new(items, total, query.paging())))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct GroupQuery {
    /// registration (default), claim, exemption, plan, declaration or filing
    #[serde(default)]
    pub kind: String,
}

#[utoipa::path(get, path = "/approvals/groups", params(GroupQuery), tag = "approvals",
    responses((status = 200, description = "Pending items per declaring organisation", body = Groups), (status = 403, description = "Not allowed")))]
pub async fn api_groups(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<GroupQuery>,
) -> Result<Json<Groups>, AppError> {
    Ok(Json(Groups { items: groups(&state, &user, &query.kind).await? }))
}

/// `GET /approvals/groups`: the pending items per declaring organisation.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Groups {
    pub items: Vec<Group>,
}

#[utoipa::path(post, path = "/approvals/decisions", request_body = DecisionInput, tag = "approvals",
    responses((status = 200, body = DecisionTaken, description = "All listed items decided"), (status = 404, description = "An item is outside the caller's queue"), (status = 409, description = "An item was already decided"), (status = 422, description = "Invalid input")))]
pub async fn api_decide(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(input): Json<DecisionInput>,
) -> Result<Json<DecisionTaken>, AppError> {
    let decided = decide(&state, &user, &input).await?;
    Ok(Json(DecisionTaken { decided, decision: input.decision }))
}

/// `POST /approvals/decisions`: what was decided.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DecisionTaken {
    /// The decided items' ids, ascending
    pub decided: Vec<i64>,
    /// approve, reject or return, as asked
    pub decision: String,
}

#[utoipa::path(get, path = "/approvals/{id}", tag = "approvals", params(("id" = i64, Path)),
    responses((status = 200, body = ApprovalDetail, description = "The item, its subject and its trail"), (status = 404, description = "Outside the caller's queue")))]
pub async fn api_detail(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Result<Json<ApprovalDetail>, AppError> {
    Ok(Json(detail(&state, &user, id).await?))
}

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_list))
        .routes(routes!(api_groups))
        .routes(routes!(api_decide))
        .routes(routes!(api_detail))
        .routes(routes!(api_todo_counts))
}

// ---- pages ----

pub fn page_routes() -> Router<AppState> {
    Router::new().route("/approvals", get(approvals_page).post(approvals_submit)).route("/approvals/{id}", get(detail_page))
}

async fn detail_page(
    State(state): State<AppState>,
    page: Page,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let detail = detail(&state, user, id).await?;
    let kind = registry().get(&detail.approval.kind).ok_or_else(AppError::not_found)?;
    let mut data = json!(detail);
    data["returnable"] = json!(kind.returnable());
    data["detail_template"] = json!(kind.detail_template());
    let page = page.under(&format!("/approvals?kind={}", kind.code()));
    page.render("approval.html", data)
}

/// The queue page's data: the kinds the user may review (tabs), the groups and one page of items.
async fn queue_page_data(state: &AppState, user: &CurrentUser, query: &ListQuery) -> Result<serde_json::Value, AppError> {
    let (items, total) = list(state, user, query).await?;
    let kinds: Vec<_> = reviewable_kinds(state, user).await.into_iter().map(|k| json!({"kind": k.code(), "name": k.label()})).collect();
    let kind = kind_of(state, &query.kind)?;
    let groups = if kind.grouped() { groups(state, user, &query.kind).await? } else { Vec::new() };
    Ok(json!({
        "items": items,
        "kinds": kinds,
        "kind_noun": kind.noun(),
        "grouped": kind.grouped(),
        "returnable": kind.returnable(),
        "groups": groups,
        "query": {"status": query.status, "q": query.q, "kind": query.kind, "org": query.org},
        "pager": query.paging().pager(total),
    }))
}

async fn approvals_page(State(state): State<AppState>, page: Page, Query(mut query): Query<ListQuery>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    query.kind = kind_of(&state, &query.kind)?.code().to_owned();
    // The menu links to /approvals; land on the first kind this user reviews.
    let reviewable = reviewable_kinds(&state, user).await;
    if !reviewable.iter().any(|k| k.code() == query.kind)
        && let Some(first) = reviewable.first()
    {
        query.kind = first.code().to_owned();
    }
    let data = queue_page_data(&state, user, &query).await?;
    page.under(&format!("/approvals?kind={}", query.kind)).render("approvals.html", data)
}

#[derive(Debug, Deserialize)]
struct DecisionForm {
    #[serde(default)]
    ids: Vec<i64>,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    kind: String,
    /// "1" for "全部通过 / 全部不通过" over the listed organisation's pending items.
    #[serde(default)]
    all: Option<String>,
    #[serde(default)]
    org: Option<String>,
    /// Where to go back to (an item's detail page decides one item).
    #[serde(default)]
    back: Option<String>,
}

async fn approvals_submit(
    State(state): State<AppState>,
    page: Page,
    CsrfForm(mut form): CsrfForm<DecisionForm>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    if form.kind.is_empty() {
        form.kind = registry().default_code().to_owned();
    }
    let org = form.org.as_deref().and_then(|o| o.trim().parse::<i64>().ok());
    let input = DecisionInput {
        ids: form.ids,
        decision: form.decision,
        reason: form.reason,
        all: form.all.as_deref() == Some("1"),
        kind: Some(form.kind.clone()),
        org,
    };
    let list_path = format!("/approvals?kind={}{}", form.kind, org.map(|o| format!("&org={o}")).unwrap_or_default());
    match decide(&state, user, &input).await {
        Ok(done) => {
            let back = form.back.filter(|b| b.starts_with("/approvals/") && b[11..].bytes().all(|c| c.is_ascii_digit()));
            Ok(crate::web::done_redirect(&page.tenant.base, back.as_deref().unwrap_or(&list_path), "decided", done.len() as i64))
        }
        Err(err) if err.status.is_client_error() && err.status != StatusCode::FORBIDDEN => {
            let query = ListQuery { kind: form.kind, status: default_status(), q: None, org, page: 1, per_page: None };
            let mut data = queue_page_data(&state, user, &query).await?;
            data["error"] = json!(err.message);
            data["errors"] = json!(err.fields);
            page.render_status(err.status, "approvals.html", data)
        }
        Err(err) => Err(err),
    }
}
