//! Claim routes of the JSON API under `/api/v1`; the pages call the same domain functions.

use axum::extract::{Multipart, Path, State};

use crate::paging::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ClaimBody, ListQuery};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::state::AppState;

use super::*;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct YearQuery {
    /// The year counted (default: this year)
    pub year: Option<i64>,
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/activities", params(YearQuery), tag = "claims",
    responses((status = 200, description = "{year, activities: [{code, name, subject, fields}]}: the rules plugin's catalogue"), (status = 422, description = "Bad year")))]
pub async fn api_activities(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<YearQuery>,
) -> Result<Json<Value>, AppError> {
    user.authorize(&state, "claims", "apply").await?;
    let year = query.year.unwrap_or_else(this_year);
    let activities = super::catalogue(&state, user.tenant_code(), year).await?;
    Ok(Json(json!({"year": year, "activities": activities})))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/claims", params(ListQuery), tag = "claims",
    responses((status = 200, description = "The caller's claims (a unit admin: the unit's)"), (status = 403, description = "Not allowed")))]
pub async fn api_list(State(state): State<AppState>, user: CurrentUser, Query(query): Query<ListQuery>) -> Result<Json<Value>, AppError> {
    let (items, total) = super::list(&state, &user, &query).await?;
    let items: Vec<Value> = items.iter().map(super::Claim::to_json).collect();
    Ok(query.paging().json(items, total))
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/claims", request_body = ClaimBody, tag = "claims",
    responses((status = 201, description = "The draft claim with the assessed hours"), (status = 422, description = "Per-field errors from the rules plugin; nothing stored"), (status = 404, description = "The person is not the caller's")))]
pub async fn api_create(State(state): State<AppState>, user: CurrentUser, Json(body): Json<ClaimBody>) -> Result<Response, AppError> {
    let claim = super::create(&state, &user, &body).await?;
    Ok((StatusCode::CREATED, Json(claim.to_json())).into_response())
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/claims/{id}", tag = "claims", params(("id" = i64, Path)),
    responses((status = 200, description = "{claim, form, attachments, steps, trail}"), (status = 404, description = "Not the caller's, nor on a route they review")))]
pub async fn api_get(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Json<Value>, AppError> {
    Ok(Json(super::detail(&state, &user, id).await?))
}

#[utoipa::path(put, path = "/t/{tenant}/api/v1/claims/{id}", request_body = ClaimBody, tag = "claims", params(("id" = i64, Path)),
    responses((status = 200, description = "The edited claim"), (status = 409, description = "Submitted: withdraw first"), (status = 422, description = "Per-field errors")))]
pub async fn api_update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<ClaimBody>,
) -> Result<Json<Value>, AppError> {
    Ok(Json(super::update(&state, &user, id, &body).await?.to_json()))
}

#[utoipa::path(delete, path = "/t/{tenant}/api/v1/claims/{id}", tag = "claims", params(("id" = i64, Path)),
    responses((status = 204, description = "Deleted"), (status = 409, description = "Submitted: withdraw first")))]
pub async fn api_delete(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    super::delete(&state, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/claims/{id}/attachments", tag = "claims", params(("id" = i64, Path)),
    request_body(content_type = "multipart/form-data", description = "`file` and optional `field` (the form's file field key)"),
    responses((status = 201, description = "The stored attachment"), (status = 413, description = "Over the size limit"), (status = 422, description = "Type not allowed")))]
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

#[utoipa::path(get, path = "/t/{tenant}/api/v1/claims/{id}/attachments/{attachment}", tag = "claims",
    params(("id" = i64, Path), ("attachment" = i64, Path)),
    responses((status = 200, description = "The file"), (status = 404, description = "Not the caller's, nor on a route they review")))]
pub async fn download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, attachment)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    super::download_attachment(&state, &user, id, attachment).await
}

#[utoipa::path(delete, path = "/t/{tenant}/api/v1/claims/{id}/attachments/{attachment}", tag = "claims",
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

#[utoipa::path(post, path = "/t/{tenant}/api/v1/claims/{id}/submit", tag = "claims", params(("id" = i64, Path)),
    responses((status = 200, description = "Submitted: the first step of the plugin's route is in its queue"), (status = 409, description = "Already submitted"), (status = 422, description = "Missing fields or files, or no department to route to")))]
pub async fn api_submit(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Json<Value>, AppError> {
    super::submit(&state, &user, id).await?;
    Ok(Json(super::detail(&state, &user, id).await?))
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/claims/{id}/withdraw", tag = "claims", params(("id" = i64, Path)),
    responses((status = 200, description = "Back to draft"), (status = 409, description = "Already decided (or not submitted)")))]
pub async fn api_withdraw(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Json<Value>, AppError> {
    super::withdraw(&state, &user, id).await?;
    Ok(Json(super::detail(&state, &user, id).await?))
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/activities", get(api_activities))
        .route("/claims", get(api_list).post(api_create))
        .route("/claims/{id}", get(api_get).put(api_update).delete(api_delete))
        .route("/claims/{id}/attachments", post(api_add_attachment))
        .route("/claims/{id}/attachments/{attachment}", get(download).delete(api_remove_attachment))
        .route("/claims/{id}/submit", post(api_submit))
        .route("/claims/{id}/withdraw", post(api_withdraw))
}
