//! Claim routes of the JSON API under `/api/v1`; the pages call the same domain functions.

use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::*;
use super::{Attachment, ClaimBody, ClaimDetail, ClaimView, ListQuery};
use crate::api::Paged;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::paging::Query;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct YearQuery {
    /// The year counted (default: this year)
    #[param(minimum = 1990, maximum = 2100)]
    pub year: Option<i64>,
}

/// The activity types a year's claims may be for.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Catalogue {
    pub year: i64,
    /// The rules plugin's catalogue
    pub activities: Vec<crate::rules::model::Activity>,
}

#[utoipa::path(get, path = "/activities", params(YearQuery), tag = "claims",
    responses((status = 200, body = Catalogue, description = "The rules plugin's catalogue for the year"), (status = 422, description = "Bad year")))]
pub async fn api_activities(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<YearQuery>,
) -> Result<Json<Catalogue>, AppError> {
    user.authorize(&state, "claims", "apply").await?;
    let year = query.year.unwrap_or_else(this_year);
    hours::check_year(year)?;
    let activities = super::catalogue(&state, user.tenant_code(), year).await?;
    Ok(Json(Catalogue { year, activities }))
}

#[utoipa::path(get, path = "/claims", params(ListQuery), tag = "claims",
    responses((status = 200, body = Paged<ClaimView>, description = "The caller's claims (a unit admin: the unit's)"), (status = 403, description = "Not allowed")))]
pub async fn api_list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<Paged<ClaimView>>, AppError> {
    let (items, total) = super::list(&state, &user, &query).await?;
    Ok(Json(Paged::new(items.into_iter().map(super::Claim::into_view).collect(), total, query.paging())))
}

#[utoipa::path(post, path = "/claims", request_body = ClaimBody, tag = "claims",
    responses((status = 201, body = ClaimView, description = "The draft claim with the assessed hours"), (status = 422, description = "Per-field errors from the rules plugin; nothing stored"), (status = 404, description = "The person is not the caller's")))]
pub async fn api_create(State(state): State<AppState>, user: CurrentUser, Json(body): Json<ClaimBody>) -> Result<Response, AppError> {
    let claim = super::create(&state, &user, &body).await?;
    Ok((StatusCode::CREATED, Json(claim.into_view())).into_response())
}

#[utoipa::path(get, path = "/claims/{id}", tag = "claims", params(("id" = i64, Path)),
    responses((status = 200, body = ClaimDetail, description = "The claim with its form, attachments, route steps and trail"), (status = 404, description = "Not the caller's, nor on a route they review")))]
pub async fn api_get(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Json<ClaimDetail>, AppError> {
    Ok(Json(super::detail(&state, &user, id).await?))
}

#[utoipa::path(put, path = "/claims/{id}", request_body = ClaimBody, tag = "claims", params(("id" = i64, Path)),
    responses((status = 200, body = ClaimView, description = "The edited claim"), (status = 409, description = "Submitted: withdraw first"), (status = 422, description = "Per-field errors")))]
pub async fn api_update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<ClaimBody>,
) -> Result<Json<ClaimView>, AppError> {
    Ok(Json(super::update(&state, &user, id, &body).await?.into_view()))
}

#[utoipa::path(delete, path = "/claims/{id}", tag = "claims", params(("id" = i64, Path)),
    responses((status = 204, description = "Deleted"), (status = 409, description = "Submitted: withdraw first")))]
pub async fn api_delete(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    super::delete(&state, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/claims/{id}/attachments", tag = "claims", params(("id" = i64, Path)),
    request_body(content_type = "multipart/form-data", description = "`file` and optional `field` (the form's file field key)"),
    responses((status = 201, body = Attachment, description = "The stored attachment"), (status = 413, description = "Over the size limit"), (status = 422, description = "Type not allowed")))]
pub async fn api_add_attachment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let upload = crate::storage::upload::read_form_upload(multipart).await?;
    let attachment = super::add_attachment(&state, &user, id, upload.field.as_deref(), &upload.filename, upload.bytes).await?;
    Ok((StatusCode::CREATED, Json(attachment)).into_response())
}

#[utoipa::path(get, path = "/claims/{id}/attachments/{attachment}", tag = "claims",
    params(("id" = i64, Path), ("attachment" = i64, Path)),
    responses((status = 200, description = "The file, with the type detected when it was stored (PDF, image, office document …)", content_type = "*/*"),
              (status = 404, description = "Not the caller's, nor on a route they review")))]
pub async fn download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, attachment)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    super::download_attachment(&state, &user, id, attachment).await
}

#[utoipa::path(delete, path = "/claims/{id}/attachments/{attachment}", tag = "claims",
    params(("id" = i64, Path), ("attachment" = i64, Path)),
    responses((status = 204, description = "Removed"), (status = 409, description = "Submitted: withdraw first")))]
pub async fn api_remove_attachment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, attachment)): Path<(i64, i64)>,
) -> Result<StatusCode, AppError> {
    super::remove_attachment(&state, &user, id, attachment).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/claims/{id}/submit", tag = "claims", params(("id" = i64, Path)),
    responses((status = 200, body = ClaimDetail, description = "Submitted: the first step of the plugin's route is in its queue"), (status = 409, description = "Already submitted"), (status = 422, description = "Missing fields or files, or no department to route to")))]
pub async fn api_submit(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Json<ClaimDetail>, AppError> {
    super::submit(&state, &user, id).await?;
    Ok(Json(super::detail(&state, &user, id).await?))
}

#[utoipa::path(post, path = "/claims/{id}/withdraw", tag = "claims", params(("id" = i64, Path)),
    responses((status = 200, body = ClaimDetail, description = "Back to draft"), (status = 409, description = "Already decided (or not submitted)")))]
pub async fn api_withdraw(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Json<ClaimDetail>, AppError> {
    super::withdraw(&state, &user, id).await?;
    Ok(Json(super::detail(&state, &user, id).await?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_activities))
        .routes(routes!(api_list, api_create))
        .routes(routes!(api_get, api_update, api_delete))
        .routes(routes!(api_add_attachment))
        .routes(routes!(download, api_remove_attachment))
        .routes(routes!(api_submit))
        .routes(routes!(api_withdraw))
}
