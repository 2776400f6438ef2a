//! The approval queue: registrations (and later claims, plans, declarations) wait for an organisation
//! to decide them. An admin sees and decides the items whose approver org lies in their subtree; batch
//! decisions are one transaction, and a decided item cannot be decided again (409).

use std::collections::BTreeMap;

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::app::AppState;
use crate::audit;
use crate::auth::CurrentUser;
use crate::auth::csrf::CsrfForm;
use crate::db::{Filters, Tx, q};
use crate::error::AppError;
use crate::web::Page;
use crate::{mail, messages};

pub struct NewApproval<'a> {
    pub kind: &'a str,
    pub subject_type: &'a str,
    pub subject_id: i64,
    pub summary: String,
    pub applicant_account_id: Option<i64>,
    pub approver_org_id: i64,
}

pub async fn open_tx(tx: &mut Tx, tenant: &str, a: NewApproval<'_>) -> Result<i64, sqlx::Error> {
    tx.scalar(
        q("INSERT INTO approvals (tenant_id, kind, subject_type, subject_id, summary, applicant_account_id, approver_org_id, status, created_at) \
           VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8) RETURNING id")
        .bind(tenant)
        .bind(a.kind)
        .bind(a.subject_type)
        .bind(a.subject_id)
        .bind(a.summary)
        .bind(a.applicant_account_id)
        .bind(a.approver_org_id)
        .bind(Utc::now()),
    )
    .await
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
    pub status: String,
    pub reason: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const SELECT: &str = "SELECT p.id, p.kind, p.subject_type, p.subject_id, p.summary, p.applicant_account_id, a.name AS applicant_name, \
     p.approver_org_id, o.name AS approver_org_name, p.status, p.reason, p.decided_at, p.created_at";
const FROM: &str = "FROM approvals p JOIN orgs o ON o.tenant_id = p.tenant_id AND o.id = p.approver_org_id \
     LEFT JOIN accounts a ON a.tenant_id = p.tenant_id AND a.id = p.applicant_account_id";

pub const KINDS: &[&str] = &["registration"];

/// Which casbin object guards decisions of each kind.
fn object_for(kind: &str) -> Result<&'static str, AppError> {
    match kind {
        "registration" => Ok("registrations"),
        _ => Err(AppError::bad_request("bad_kind", "审核类型无效")),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    #[serde(default = "default_kind")]
    pub kind: String,
    /// pending (default), approved, rejected or all
    #[serde(default = "default_status")]
    pub status: String,
    /// Applicant name or summary contains
    pub q: Option<String>,
    #[serde(default = "crate::api::default_page")]
    pub page: i64,
    pub per_page: Option<i64>,
}

fn default_kind() -> String {
    "registration".into()
}

fn default_status() -> String {
    "pending".into()
}

fn scope(user: &CurrentUser) -> Result<String, AppError> {
    user.scope_pattern().ok_or_else(AppError::forbidden)
}

pub async fn list(state: &AppState, user: &CurrentUser, query: &ListQuery) -> Result<(Vec<Approval>, i64), AppError> {
    user.authorize(state, object_for(&query.kind)?, "review").await?;
    let mut filters = Filters::tenant("p.tenant_id", user.tenant_code());
    filters.and("p.kind = ?", query.kind.as_str()).and_same("(o.path LIKE ? OR o.supervisor_path LIKE ?)", scope(user)?);
    match query.status.as_str() {
        "all" => {}
        "pending" | "approved" | "rejected" => {
            filters.and("p.status = ?", query.status.as_str());
        }
        _ => return Err(AppError::bad_request("bad_status", "审核状态无效")),
    }
    if let Some(text) = query.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        filters.and("p.summary LIKE ?", format!("%{}%", text.replace(['%', '_'], "")));
    }
    let per_page = query.per_page.unwrap_or(20).clamp(1, 200);
    let total = state.db.scalar(filters.count(FROM)).await?;
    let items = state.db.all(filters.page(&format!("{SELECT} {FROM}"), "p.id DESC", query.page, per_page)).await?;
    Ok((items, total))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DecisionInput {
    pub ids: Vec<i64>,
    /// approve or reject
    pub decision: String,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Decides every listed item, or none: one transaction. Items outside the caller's scope or tenant are
/// "not found"; items already decided are a conflict.
pub async fn decide(state: &AppState, user: &CurrentUser, input: &DecisionInput) -> Result<Vec<i64>, AppError> {
    let reason = input.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    let mut fields = BTreeMap::new();
    if input.ids.is_empty() {
        fields.insert("ids".to_owned(), "请至少选择一条记录".to_owned());
    }
    if input.ids.len() > 500 {
        fields.insert("ids".to_owned(), "一次最多审核 500 条".to_owned());
    }
    let approve = match input.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => {
            fields.insert("decision".to_owned(), "审核结果只能是通过或不通过".to_owned());
            true
        }
    };
    if !approve && reason.is_none() {
        fields.insert("reason".to_owned(), "不通过时请填写原因".to_owned());
    }
    if reason.is_some_and(|r| r.chars().count() > 500) {
        fields.insert("reason".to_owned(), "原因不能超过 500 字".to_owned());
    }
    if !fields.is_empty() {
        return Err(AppError::invalid(fields));
    }
    let tenant = user.tenant_code();
    let scope = scope(user)?;
    let mut ids = input.ids.clone();
    ids.sort_unstable();
    ids.dedup();
    let mut tx = state.db.begin().await?;
    let mut decided = Vec::new();
    for id in &ids {
        let item: Option<Approval> = tx
            .opt(
                q(format!("{SELECT} {FROM} WHERE p.tenant_id = $1 AND p.id = $2 AND {}", crate::orgs::in_scope("o", 3)))
                    .bind(tenant)
                    .bind(*id)
                    .bind(&scope),
            )
            .await?;
        let Some(item) = item else {
            return Err(AppError::not_found());
        };
        user.authorize(state, object_for(&item.kind)?, "review").await?;
        let status = if approve { "approved" } else { "rejected" };
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
            return Err(AppError::conflict("already_decided", format!("第 {id} 号申请已被审核，请刷新后重试")));
        }
        apply(&mut tx, tenant, &item, approve).await?;
        audit::record_tx(
            &mut tx,
            tenant,
            Some(user.account.id),
            &format!("{}.{status}", item.kind),
            "approval",
            Some(*id),
            json!({"reason": reason, "summary": item.summary}),
        )
        .await?;
        if let Some(applicant) = item.applicant_account_id {
            let (title, body) = if approve {
                ("注册审核已通过".to_owned(), format!("您的注册申请（{}）已审核通过，现在可以登录了。", item.summary))
            } else {
                ("注册审核未通过".to_owned(), format!("您的注册申请（{}）未通过审核。原因：{}", item.summary, reason.unwrap_or("")))
            };
            messages::send_tx(&mut tx, tenant, applicant, &title, &body).await?;
            mail::queue_to_account_tx(&mut tx, tenant, applicant, &title, &body).await?;
        }
        decided.push(*id);
    }
    tx.commit().await?;
    Ok(decided)
}

/// What a decision does to its subject.
async fn apply(tx: &mut Tx, tenant: &str, item: &Approval, approve: bool) -> Result<(), AppError> {
    let status = if approve { "active" } else { "rejected" };
    match item.subject_type.as_str() {
        "account" => {
            tx.run(
                q("UPDATE accounts SET status = $3 WHERE tenant_id = $1 AND id = $2 AND status = 'pending'")
                    .bind(tenant)
                    .bind(item.subject_id)
                    .bind(status),
            )
            .await?;
        }
        "org" => {
            tx.run(
                q("UPDATE orgs SET status = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2 AND status = 'pending'")
                    .bind(tenant)
                    .bind(item.subject_id)
                    .bind(status)
                    .bind(Utc::now()),
            )
            .await?;
            if let Some(applicant) = item.applicant_account_id {
                tx.run(
                    q("UPDATE accounts SET status = $3 WHERE tenant_id = $1 AND id = $2 AND status = 'pending'")
                        .bind(tenant)
                        .bind(applicant)
                        .bind(status),
                )
                .await?;
            }
        }
        other => {
            return Err(AppError::internal(format!("unknown approval subject {other}")));
        }
    }
    Ok(())
}

// ---- API ----

#[utoipa::path(get, path = "/t/{tenant}/api/v1/approvals", params(ListQuery), tag = "approvals",
    responses((status = 200, description = "Items waiting for (or decided by) the caller's subtree"), (status = 403, description = "Not allowed")))]
pub async fn api_list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    let (items, total) = list(&state, &user, &query).await?;
    Ok(crate::api::page_json(items, total, query.page, query.per_page.unwrap_or(20).clamp(1, 200)))
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/approvals/decisions", request_body = DecisionInput, tag = "approvals",
    responses((status = 200, description = "All listed items decided"), (status = 404, description = "An item is outside the caller's scope"), (status = 409, description = "An item was already decided"), (status = 422, description = "Invalid input")))]
pub async fn api_decide(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(input): Json<DecisionInput>,
) -> Result<Json<serde_json::Value>, AppError> {
    let decided = decide(&state, &user, &input).await?;
    Ok(Json(json!({"decided": decided, "decision": input.decision})))
}

/// One item with what the approver needs to decide it: the applicant's profile (ID number masked) or
/// the registering organisation, and the item's audit trail.
pub async fn detail(state: &AppState, user: &CurrentUser, id: i64) -> Result<serde_json::Value, AppError> {
    let tenant = user.tenant_code();
    let item: Approval = state
        .db
        .opt(
            q(format!("{SELECT} {FROM} WHERE p.tenant_id = $1 AND p.id = $2 AND {}", crate::orgs::in_scope("o", 3)))
                .bind(tenant)
                .bind(id)
                .bind(scope(user)?),
        )
        .await?
        .ok_or_else(AppError::not_found)?;
    user.authorize(state, object_for(&item.kind)?, "review").await?;
    let subject = match item.subject_type.as_str() {
        "org" => serde_json::to_value(crate::orgs::get(&state.db, tenant, item.subject_id).await?).map_err(AppError::internal)?,
        _ => {
            let person: Option<(Option<i64>,)> = state
                .db
                .opt(q("SELECT person_id FROM accounts WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(item.subject_id))
                .await?;
            match person.and_then(|p| p.0) {
                Some(person_id) => crate::people::profile_json(&state.db, tenant, person_id).await?,
                None => serde_json::to_value(
                    crate::auth::account_by_id(&state.db, tenant, item.subject_id).await?.map(|a| crate::auth::handlers::account_json(&a)),
                )
                .map_err(AppError::internal)?,
            }
        }
    };
    let trail = audit::trail(&state.db, tenant, "approval", id).await?;
    Ok(json!({"approval": item, "subject": subject, "trail": trail}))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/approvals/{id}", tag = "approvals", params(("id" = i64, Path)),
    responses((status = 200, description = "{approval, subject, trail}"), (status = 404, description = "Outside the caller's scope")))]
pub async fn api_detail(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    Ok(Json(detail(&state, &user, id).await?))
}

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/approvals", get(api_list))
        .route("/approvals/decisions", post(api_decide))
        .route("/approvals/{id}", get(api_detail))
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
    page.render("approval.html", detail(&state, user, id).await?)
}

async fn approvals_page(State(state): State<AppState>, page: Page, Query(query): Query<ListQuery>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let (items, total) = list(&state, user, &query).await?;
    let per_page = query.per_page.unwrap_or(20).clamp(1, 200);
    page.render(
        "approvals.html",
        json!({"items": items, "query": {"status": query.status, "q": query.q, "kind": query.kind}, "pager": crate::api::pager(query.page, per_page, total)}),
    )
}

#[derive(Debug, Deserialize)]
struct DecisionForm {
    #[serde(default)]
    ids: Vec<i64>,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: Option<String>,
}

async fn approvals_submit(State(state): State<AppState>, page: Page, CsrfForm(form): CsrfForm<DecisionForm>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let input = DecisionInput { ids: form.ids, decision: form.decision, reason: form.reason };
    match decide(&state, user, &input).await {
        Ok(done) => Ok(crate::web::done_redirect(&page.tenant.base, "/approvals", "decided", done.len() as i64)),
        Err(err) if err.status.is_client_error() && err.status != StatusCode::FORBIDDEN => {
            let query = ListQuery { kind: default_kind(), status: default_status(), q: None, page: 1, per_page: None };
            let (items, total) = list(&state, user, &query).await?;
            page.render_status(
                err.status,
                "approvals.html",
                json!({"items": items, "query": {"status": "pending"}, "pager": crate::api::pager(1, 20, total), "error": err.message, "errors": err.fields}),
            )
        }
        Err(err) => Err(err),
    }
}
