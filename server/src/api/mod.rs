//! The JSON API under `/t/<code>/api/v1` (or a tenant host's `/api/v1`) and its OpenAPI document.

use axum::extract::Request;
use axum::http::{Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use utoipa::OpenApi;

use crate::app::AppState;
use crate::error::AppError;

pub fn default_page() -> i64 {
    1
}

/// A list's page size: 20 unless asked, at most 200.
pub fn per_page(asked: Option<i64>) -> i64 {
    asked.unwrap_or(20).clamp(1, 200)
}

/// Paging facts for templates: current page, pages, previous/next.
pub fn pager(page: i64, per_page: i64, total: i64) -> Value {
    let page = page.max(1);
    let pages = ((total + per_page - 1) / per_page).max(1);
    json!({"page": page, "pages": pages, "total": total, "per_page": per_page,
           "prev": (page > 1).then_some(page - 1), "next": (page < pages).then_some(page + 1)})
}

/// The JSON shape of every paged list: `{"items", "total", "page", "per_page"}`.
pub fn page_json(items: impl serde::Serialize, total: i64, page: i64, per_page: i64) -> Json<Value> {
    Json(json!({"items": items, "total": total, "page": page.max(1), "per_page": per_page}))
}

pub fn routes(state: AppState) -> Router<AppState> {
    use crate::auth::handlers as auth;
    use crate::auth::throttle::limited;
    Router::new()
        .route("/session", post(auth::api_login).delete(auth::api_logout))
        .route("/me", get(auth::api_me))
        .route("/me/password", post(auth::api_change_password))
        .route("/password-resets", post(auth::api_request_reset).layer(limited(&state, "reset")))
        .route("/password-resets/confirm", post(auth::api_confirm_reset))
        .merge(crate::people::api_routes(&state))
        .merge(crate::orgs::api_routes(&state))
        .merge(crate::approvals::api_routes())
        .merge(crate::claims::api_routes())
        .merge(crate::todos::api_routes())
        .merge(crate::certificates::api_routes(&state))
        .merge(crate::messages::api_routes())
        .merge(crate::hours::api_routes())
        .merge(crate::training::api_routes())
        .merge(crate::jobs::admin::api_routes())
        .merge(crate::people::admin::api_routes())
        .merge(crate::tenancy::admin::api_routes())
        .fallback(|| async { AppError::not_found() })
        .layer(middleware::from_fn(crate::error::uniform_errors))
        .layer(middleware::from_fn(guard))
}

/// CSRF wall for the API: a state-changing call from a browser page of another origin is refused.
/// (Cross-site forms cannot send `application/json`, which the JSON endpoints require; multipart
/// endpoints rely on this origin check.)
async fn guard(request: Request, next: Next) -> Response {
    if !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        let origin = request.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok());
        let host = request.headers().get(header::HOST).and_then(|v| v.to_str().ok());
        if let Some(origin) = origin {
            let origin_host = origin.split("://").nth(1).unwrap_or("");
            if Some(origin_host) != host {
                return AppError::new(axum::http::StatusCode::FORBIDDEN, "foreign_origin", "不接受来自其他网站的请求").into_response();
            }
        }
    }
    next.run(request).await
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "jijiao API",
        description = "继教 multi-tenant continuing-education platform. Every path is also served under a tenant's own host without the /t/{tenant} prefix."
    ),
    paths(
        crate::auth::handlers::api_login,
        crate::auth::handlers::api_logout,
        crate::auth::handlers::api_me,
        crate::auth::handlers::api_change_password,
        crate::auth::handlers::api_request_reset,
        crate::auth::handlers::api_confirm_reset,
        crate::people::handlers::api_register,
        crate::people::handlers::api_profile,
        crate::people::handlers::api_update_profile,
        crate::people::admin::api_list,
        crate::orgs::handlers::api_search,
        crate::orgs::handlers::api_register,
        crate::orgs::handlers::api_browse,
        crate::orgs::handlers::api_add_department,
        crate::orgs::handlers::api_set_status,
        crate::orgs::handlers::api_reset_code,
        crate::orgs::admins::api_add_admin,
        crate::approvals::api_list,
        crate::approvals::api_decide,
        crate::approvals::api_detail,
        crate::approvals::api_groups,
        crate::claims::handlers::api_activities,
        crate::claims::handlers::api_list,
        crate::claims::handlers::api_create,
        crate::claims::handlers::api_get,
        crate::claims::handlers::api_update,
        crate::claims::handlers::api_delete,
        crate::claims::handlers::api_add_attachment,
        crate::claims::handlers::download,
        crate::claims::handlers::api_remove_attachment,
        crate::claims::handlers::api_submit,
        crate::claims::handlers::api_withdraw,
        crate::todos::api_list,
        crate::todos::api_create,
        crate::todos::api_detail,
        crate::todos::api_upload,
        crate::todos::api_review,
        crate::todos::download,
        crate::certificates::handlers::api_apply,
        crate::certificates::handlers::api_recognition,
        crate::certificates::handlers::api_mine,
        crate::certificates::handlers::api_verify,
        crate::certificates::handlers::api_lookup,
        crate::certificates::handlers::download,
        crate::certificates::handlers::badge,
        crate::certificates::handlers::api_keys,
        crate::certificates::handlers::api_admin_list,
        crate::certificates::handlers::api_print,
        crate::certificates::handlers::api_file_exemption,
        crate::certificates::handlers::api_exemptions,
        crate::hours::api_my_credits,
        crate::hours::api_my_status,
        crate::hours::pages::api_my_years,
        crate::hours::admin::api_staff_status,
        crate::hours::admin::api_staff_years,
        crate::hours::admin::api_staff_credits,
        crate::hours::import::api_import,
        crate::training::completions::api_completions,
        crate::training::orders::api_orders,
        crate::training::orders::api_my_orders,
        crate::training::reconciliation::api_reconciliation,
        crate::training::reconciliation::api_rejections,
        crate::training::classes::api_list,
        crate::training::classes::api_create,
        crate::training::classes::api_get,
        crate::training::classes::api_update,
        crate::training::classes::api_delete,
        crate::training::classes::api_scores,
        crate::training::classes::api_add_score,
        crate::training::classes::api_update_score,
        crate::training::classes::api_delete_scores,
        crate::training::classes::api_import,
        crate::training::declarations::api_declare,
        crate::training::declarations::api_get,
        crate::training::declarations::api_students,
        crate::training::declarations::api_mark,
        crate::training::subjects::api_list,
        crate::training::subjects::api_create,
        crate::training::subjects::api_get,
        crate::training::subjects::api_update,
        crate::training::subjects::api_set_status,
        crate::training::plans::api_list,
        crate::training::plans::api_create,
        crate::training::plans::api_get,
        crate::training::plans::api_update,
        crate::training::plans::api_delete,
        crate::training::plans::api_delete_many,
        crate::training::filings::api_list,
        crate::training::filings::api_create,
        crate::training::filings::api_get,
        crate::training::filings::api_update,
        crate::training::filings::api_delete,
        crate::training::filings::api_withdraw,
        crate::training::filings::api_delete_many,
        crate::jobs::admin::api_list,
        crate::jobs::admin::api_retry,
        crate::messages::api_list,
        crate::messages::api_mark_read,
        crate::tenancy::admin::api_list,
        crate::tenancy::admin::api_add,
        crate::tenancy::admin::api_update,
    ),
    components(schemas(
        crate::auth::handlers::LoginInput,
        crate::auth::handlers::PasswordChange,
        crate::auth::handlers::ResetRequest,
        crate::auth::handlers::ResetConfirm,
        crate::people::StaffRegistration,
        crate::people::ProfileUpdate,
        crate::orgs::registration::OrgRegistration,
        crate::orgs::handlers::NewDepartment,
        crate::orgs::handlers::StatusInput,
        crate::orgs::admins::NewAdmin,
        crate::tenancy::admin::ItemInput,
        crate::approvals::DecisionInput,
        crate::approvals::Approval,
        crate::approvals::Group,
        crate::claims::ClaimBody,
        crate::todos::NewTodo,
        crate::todos::ReviewInput,
        crate::certificates::Application,
        crate::certificates::handlers::LookupInput,
        crate::certificates::PrintInput,
        crate::certificates::exemptions::Filing,
        crate::training::completions::Batch,
        crate::training::classes::ClassBody,
        crate::training::classes::ScoreBody,
        crate::training::classes::Ids,
        crate::training::classes::ImportResult,
        crate::training::classes::RowError,
        crate::training::declarations::DeclareBody,
        crate::training::declarations::VerdictBody,
        crate::training::subjects::SubjectBody,
        crate::training::subjects::StatusInput,
        crate::training::plans::PlanBody,
        crate::training::plans::DeleteInput,
        crate::training::filings::FilingBody,
        crate::training::filings::FilingIds,
    ))
)]
pub struct ApiDoc;

pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
