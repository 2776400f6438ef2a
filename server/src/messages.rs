//! In-app messages (站内消息): outcomes of approvals and other notices to one account.

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::CurrentUser;
use crate::auth::csrf::CsrfForm;
use crate::db::{Tx, q};
use crate::error::AppError;
use crate::paging::Paging;
use crate::state::AppState;
use crate::web::Page;

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct Message {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub async fn send_tx(tx: &mut Tx, tenant: &str, account_id: i64, title: &str, body: &str) -> Result<(), sqlx::Error> {
    tx.run(
        q("INSERT INTO messages (tenant_id, account_id, title, body, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(tenant)
            .bind(account_id)
            .bind(title)
            .bind(body)
            .bind(Utc::now()),
    )
    .await?;
    Ok(())
}

/// How many of an account's messages are unread.
pub async fn unread_count(db: &crate::db::Db, tenant: &str, account_id: i64) -> Result<i64, sqlx::Error> {
    db.scalar(q("SELECT COUNT(*) FROM messages WHERE tenant_id = $1 AND account_id = $2 AND read_at IS NULL").bind(tenant).bind(account_id))
        .await
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(default = "crate::paging::first_page")]
    pub page: i64,
    #[serde(default)]
    pub unread: bool,
}

/// One page of the caller's messages, newest first, and the total.
pub async fn list(state: &AppState, user: &CurrentUser, query: &ListQuery) -> Result<(Vec<Message>, i64), AppError> {
    user.authorize(state, "messages", "read").await?;
    let filter = if query.unread { " AND read_at IS NULL" } else { "" };
    let page = query.page.max(1);
    let items = state
        .db
        .all(
            q(format!(
                "SELECT id, title, body, read_at, created_at FROM messages WHERE tenant_id = $1 AND account_id = $2{filter} \
                 ORDER BY id DESC LIMIT 20 OFFSET $3"
            ))
            .bind(user.tenant_code())
            .bind(user.account.id)
            .bind((page - 1) * 20),
        )
        .await?;
    let total = state
        .db
        .scalar(
            q(format!("SELECT COUNT(*) FROM messages WHERE tenant_id = $1 AND account_id = $2{filter}"))
                .bind(user.tenant_code())
                .bind(user.account.id),
        )
        .await?;
    Ok((items, total))
}

/// Marks one of the caller's messages read; another account's message is "not found".
pub async fn mark_read(state: &AppState, user: &CurrentUser, id: i64) -> Result<(), AppError> {
    user.authorize(state, "messages", "read").await?;
    let n = state
        .db
        .run(
            q("UPDATE messages SET read_at = COALESCE(read_at, $4) WHERE tenant_id = $1 AND account_id = $2 AND id = $3")
                .bind(user.tenant_code())
                .bind(user.account.id)
                .bind(id)
                .bind(Utc::now()),
        )
        .await?;
    if n == 0 { Err(AppError::not_found()) } else { Ok(()) }
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/messages", tag = "messages", params(("unread" = Option<bool>, Query), ("page" = Option<i64>, Query)), responses((status = 200, description = "The caller's messages, newest first")))]
pub async fn api_list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    let (items, total) = list(&state, &user, &query).await?;
    Ok(Paging::new(query.page, None).json(items, total))
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/messages/{id}/read", tag = "messages", params(("id" = i64, Path)), responses((status = 204, description = "Marked read"), (status = 404, description = "Not the caller's message")))]
pub async fn api_mark_read(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Response, AppError> {
    mark_read(&state, &user, id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}

pub fn api_routes() -> Router<AppState> {
    Router::new().route("/messages", get(api_list)).route("/messages/{id}/read", post(api_mark_read))
}

pub fn page_routes() -> Router<AppState> {
    Router::new().route("/messages", get(messages_page)).route("/messages/{id}/read", post(read_submit))
}

async fn messages_page(State(state): State<AppState>, page: Page, Query(query): Query<ListQuery>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let (items, total) = list(&state, user, &query).await?;
    page.render("messages.html", json!({"items": items, "pager": Paging::new(query.page, None).pager(total), "unread": query.unread}))
}

async fn read_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<serde_json::Value>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    mark_read(&state, user, id).await?;
    Ok(Redirect::to(&format!("{}/messages", page.tenant.base)).into_response())
}
