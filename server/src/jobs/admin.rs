//! The jobs admin page and API for a tenant's system admins (casbin `jobs manage`): the same queries
//! as `jijiao jobs`, limited to the tenant's own jobs.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Job, STATES, get_in, list_page, retry_in};
use crate::api::Paged;
use crate::auth::CurrentUser;
use crate::auth::csrf::CsrfForm;
use crate::error::AppError;
use crate::paging::Paging;
use crate::paging::Query;
use crate::state::AppState;
use crate::web::Page;

fn state_label(state: &str) -> &'static str {
    match state {
        "queued" => "等待中",
        "running" => "运行中",
        "done" => "已完成",
        "failed" => "失败",
        _ => "",
    }
}

/// A job as the API and the admin page show it: never its payload (mails carry reset links).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JobView {
    pub id: i64,
    pub kind: String,
    pub kind_label: &'static str,
    /// queued, running, done or failed
    pub state: String,
    pub state_label: &'static str,
    pub attempts: i64,
    pub max_attempts: i64,
    /// When a queued job is due; for a running one, when its lease ends
    pub run_after: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Failed or queued: `POST /jobs/{id}/retry` runs it now
    pub retryable: bool,
}

impl From<Job> for JobView {
    fn from(job: Job) -> Self {
        JobView {
            kind_label: super::registry().label(&job.kind),
            state_label: state_label(&job.state),
            retryable: matches!(job.state.as_str(), "failed" | "queued"),
            id: job.id,
            kind: job.kind,
            state: job.state,
            attempts: job.attempts,
            max_attempts: job.max_attempts,
            run_after: job.run_after,
            last_error: job.last_error,
            created_at: job.created_at,
            updated_at: job.updated_at,
        }
    }
}

crate::paging::list_query! {
    #[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
    pub struct JobsQuery {
        /// queued, running, done or failed
        #[param(pattern = "^(queued|running|done|failed)?$")]
        pub state: Option<String>,
    }
}

async fn list(state: &AppState, user: &CurrentUser, query: &JobsQuery) -> Result<(Vec<JobView>, i64, Paging), AppError> {
    user.authorize(state, "jobs", "manage").await?;
    let filter = query.state.as_deref().filter(|s| !s.is_empty());
    if filter.is_some_and(|s| !STATES.contains(&s)) {
        return Err(AppError::bad_request("bad_state", "任务状态应为 queued、running、done 或 failed"));
    }
    // 30 jobs a page unless asked: the queue's page is longer than other lists.
    let paging = Paging::sized(query.page, query.per_page, 30, 200);
    let (jobs, total) = list_page(&state.db, filter, Some(user.tenant_code()), paging.offset(), paging.per_page).await?;
    Ok((jobs.into_iter().map(JobView::from).collect(), total, paging))
}

/// Retries a failed or waiting job of the caller's tenant: 404 for another tenant's, 409 for one that
/// is running or done.
async fn retry(state: &AppState, user: &CurrentUser, id: i64) -> Result<JobView, AppError> {
    user.authorize(state, "jobs", "manage").await?;
    let job = get_in(&state.db, user.tenant_code(), id).await?.ok_or_else(AppError::not_found)?;
    if !matches!(job.state.as_str(), "failed" | "queued") {
        return Err(AppError::conflict("not_retryable", "该任务正在运行或已完成，不能重试"));
    }
    let job = retry_in(&state.db, Some(user.tenant_code()), id).await.map_err(|e| AppError::conflict("not_retryable", e.to_string()))?;
    crate::audit::record(&state.db, user.tenant_code(), Some(user.account.id), "job.retry", "job", Some(id), json!({"kind": job.kind}))
        .await?;
    Ok(JobView::from(job))
}

#[utoipa::path(get, path = "/jobs", params(JobsQuery), tag = "jobs",
    responses((status = 200, body = Paged<JobView>, description = "The tenant's background jobs, newest first, with their last error"),
              (status = 403, description = "Not a system admin")))]
pub async fn api_list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<JobsQuery>,
) -> Result<Json<Paged<JobView>>, AppError> {
    let (items, total, paging) = list(&state, &user, &query).await?;
    Ok(Json(Paged::new(items, total, paging)))
}

#[utoipa::path(post, path = "/jobs/{id}/retry", tag = "jobs",
    params(("id" = i64, Path, description = "A job of the caller's tenant")),
    responses((status = 200, body = JobView, description = "Queued again, due now, with a fresh set of attempts"), (status = 404, description = "No such job in this tenant"),
              (status = 409, description = "Running or done")))]
pub async fn api_retry(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Json<JobView>, AppError> {
    Ok(Json(retry(&state, &user, id).await?))
}

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api_list)).routes(routes!(api_retry))
}

pub fn page_routes() -> Router<AppState> {
    Router::new().route("/admin/jobs", get(jobs_page)).route("/admin/jobs/{id}/retry", post(retry_submit))
}

async fn jobs_page(State(state): State<AppState>, page: Page, Query(query): Query<JobsQuery>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let (items, total, paging) = list(&state, user, &query).await?;
    let filter = query.state.clone().unwrap_or_default();
    // The pager's base link keeps the state filter (`?state=failed&`), as the other list pages do.
    let href = match filter.as_str() {
        "" => format!("{}/admin/jobs?", page.tenant.base),
        state => format!("{}/admin/jobs?state={}&", page.tenant.base, urlencoding::encode(state)),
    };
    page.render(
        "jobs.html",
        json!({"items": items, "state": filter, "pager": paging.pager(total), "href": href,
               "states": [("", "全部"), ("failed", "失败"), ("queued", "等待中"), ("running", "运行中"), ("done", "已完成")]}),
    )
}

async fn retry_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<std::collections::HashMap<String, String>>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    retry(&state, user, id).await?;
    Ok(crate::web::done_redirect(&page.tenant.base, "/admin/jobs", "job_retried", 1))
}
