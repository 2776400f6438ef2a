//! Institutions' yearly reports in the JSON API: file (multipart), list, one report, its document,
//! withdraw. Decisions go through `POST /api/v1/approvals/decisions` with kinds `annual_plan` and
//! `annual_summary`.

use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{NewReport, Report, ReportDetail, ReportQuery};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::paging::Query;
use crate::state::AppState;
use crate::storage::upload::Upload;

/// The answer to filing a report.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ReportFiled)]
pub struct Filed {
    pub id: i64,
    /// `pending` (waiting for the route's approval), or `approved` where the route has no step
    pub status: &'static str,
}

/// The report's fields and its `document` from a multipart form (the CSRF token too, for pages).
pub async fn read_form(multipart: Multipart) -> Result<(NewReport, Option<Upload>, Option<String>), AppError> {
    let form = crate::storage::upload::read_multipart_form(multipart, "document").await?;
    let input = NewReport {
        kind: form.text("kind"),
        year: form.text("year"),
        title: form.text("title"),
        content: form.text("content"),
        classes: form.text("classes"),
        trainees: form.text("trainees"),
    };
    Ok((input, form.file, form.csrf))
}

#[utoipa::path(post, path = "/annual-reports", tag = "annual_reports",
    request_body(content = NewReport, content_type = "multipart/form-data", description = "The fields as text parts and the `document` file (PDF, Word, images)"),
    responses((status = 201, body = Filed, description = "Filed; waiting for the route's approval"),
              (status = 403, description = "Not an admin of an institution"),
              (status = 409, description = "report_exists: this kind of report for the year is pending or approved"),
              (status = 413, description = "The document is over the upload limit"),
              (status = 422, description = "Field errors (kind, year, title, content, classes, trainees, document) or an unsupported file type")))]
pub async fn api_file(State(state): State<AppState>, user: CurrentUser, multipart: Multipart) -> Result<Response, AppError> {
    let (input, document, _) = read_form(multipart).await?;
    let (id, status) = super::file(&state, &user, &input, document).await?;
    Ok((StatusCode::CREATED, Json(Filed { id, status })).into_response())
}

#[utoipa::path(get, path = "/annual-reports", tag = "annual_reports",
    params(ReportQuery),
    responses((status = 200, body = crate::api::Paged<Report>, description = "The caller's institution's reports, or those of the institutions in the caller's scope, newest first"),
              (status = 422, description = "Unknown kind or status")))]
pub async fn api_list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<ReportQuery>,
) -> Result<Json<crate::api::Paged<Report>>, AppError> {
    let (items, total) = super::list(&state, &user, &query).await?;
    let paging = query.paging();
    Ok(Json(crate::api::Paged::new(items, total, paging)))
}

#[utoipa::path(get, path = "/annual-reports/{id}", tag = "annual_reports",
    params(("id" = i64, Path, description = "Report id")),
    responses((status = 200, body = ReportDetail, description = "The report with its route and trail"),
              (status = 404, description = "Not a report of the caller's scope")))]
pub async fn api_get(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Json<ReportDetail>, AppError> {
    let report = super::get(&state, &user, id).await?;
    Ok(Json(super::detail(&state, user.tenant_code(), report).await?))
}

#[utoipa::path(get, path = "/annual-reports/{id}/document", tag = "annual_reports",
    params(("id" = i64, Path, description = "Report id")),
    responses((status = 200, description = "The report's document (PDF, Word or an image, as filed)", content_type = "application/octet-stream"),
              (status = 404, description = "Not a report of the caller's scope")))]
pub async fn api_document(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Response, AppError> {
    super::document(&state, &user, id).await
}

#[utoipa::path(post, path = "/annual-reports/{id}/withdraw", tag = "annual_reports",
    params(("id" = i64, Path, description = "Report id")),
    responses((status = 204, description = "Withdrawn"), (status = 403, description = "Not the filing institution"),
              (status = 404, description = "Not a report of the caller's scope"), (status = 409, description = "already_decided")))]
pub async fn api_withdraw(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    super::withdraw(&state, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_list, api_file))
        .routes(routes!(api_get))
        .routes(routes!(api_document))
        .routes(routes!(api_withdraw))
}
