//! 用户管理 (`/accounts`): the list with its filters and batch enable / disable; the per-row actions
//! other pages (组织机构, 管理员管理, 人员管理) post to as well.

use axum::Router;
use axum::extract::{Path, State};

use crate::paging::Query;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::AccountQuery;
use crate::auth::Role;
use crate::auth::csrf::CsrfForm;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::{Page, done_redirect};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts", get(list_page))
        .route("/accounts/status", post(batch_submit))
        .route("/accounts/{id}/status", post(status_submit))
        .route("/accounts/{id}/reset-code", post(reset_code_submit))
}

async fn list_page(State(state): State<AppState>, page: Page, Query(query): Query<AccountQuery>) -> Result<Response, AppError> {
    render(&state, &page, &query, None).await
}

async fn render(state: &AppState, page: &Page, query: &AccountQuery, err: Option<&AppError>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let (items, total) = super::list(state, user, query).await?;
    let kept = |value: &Option<String>| value.clone().unwrap_or_default();
    let href = crate::paging::query_href(
        &format!("{}/accounts", page.tenant.base),
        &[
            ("type", kept(&query.user_type)),
            ("org", query.org.map(|o| o.to_string()).unwrap_or_default()),
            ("status", kept(&query.status)),
            ("q", kept(&query.q)),
        ],
    );
    page.render_status(
        err.map_or(StatusCode::OK, |e| e.status),
        "accounts.html",
        json!({"error": err.map(AppError::page_text), "items": items, "pager": query.paging().pager(total), "href": href, "types": super::user_types(),
               "statuses": super::statuses(), "me": user.account.id, "me_system": user.account.role == Role::SystemAdmin,
               "query": {"type": query.user_type, "org": query.org, "status": query.status, "q": query.q}}),
    )
}

#[derive(Debug, Deserialize)]
struct ActionForm {
    #[serde(default)]
    status: String,
    /// The page to return to (a path of this portal, e.g. `/orgs?id=5` or `/people`).
    #[serde(default)]
    back: String,
}

/// The batch form: the ticked rows (`ids`, repeated) and the action.
#[derive(Debug, Deserialize)]
struct BatchForm {
    #[serde(default)]
    ids: Vec<i64>,
    #[serde(default)]
    status: String,
}

/// Only paths of this portal are followed back.
fn back_path(back: &str) -> &str {
    if back.starts_with('/') && !back.starts_with("//") && !back.contains('\\') { back } else { "/" }
}

fn done_code(status: &str) -> &'static str {
    if status == "disabled" { "account_disabled" } else { "account_enabled" }
}

async fn status_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ActionForm>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    super::set_statuses(&state, user, &[id], &form.status).await?;
    Ok(done_redirect(&page.tenant.base, back_path(&form.back), done_code(&form.status), 1))
}

async fn batch_submit(State(state): State<AppState>, page: Page, CsrfForm(form): CsrfForm<BatchForm>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match super::set_statuses(&state, user, &form.ids, &form.status).await {
        Ok(changed) => Ok(done_redirect(&page.tenant.base, "/accounts", done_code(&form.status), i64::try_from(changed).unwrap_or(0))),
        Err(err) if err.fixable_on_page() || err.status == StatusCode::NOT_FOUND => {
            render(&state, &page, &AccountQuery { page: 1, ..Default::default() }, Some(&err)).await
        }
        Err(err) => Err(err),
    }
}

async fn reset_code_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ActionForm>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let (account, code) = super::reset_code(&state, user, id).await?;
    page.render("one_time_code.html", json!({"code": code, "name": account.name, "back": back_path(&form.back)}))
}
