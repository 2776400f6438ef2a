//! Offline filings in the JSON API.

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::*;

#[utoipa::path(get, path = "/t/{tenant}/api/v1/filings", params(ListQuery), tag = "filings",
    responses((status = 200, description = "The caller's organisation's offline training filings"), (status = 403, description = "Not a unit or authority admin")))]
pub async fn api_list(State(state): State<AppState>, user: CurrentUser, Query(query): Query<ListQuery>) -> Result<Json<Value>, AppError> {
    let (items, total) = list(&state, &user, &query).await?;
    Ok(query.paging().json(items.iter().map(Filing::to_json).collect::<Vec<_>>(), total))
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/filings", request_body = FilingBody, tag = "filings",
    responses((status = 201, description = "Filed: {filing, steps, trail}; the first step of the plugin's route is in its queue"),
              (status = 422, description = "Per-field errors (also the plugin's, e.g. `choice`); nothing stored"), (status = 403, description = "Not allowed")))]
pub async fn api_create(State(state): State<AppState>, user: CurrentUser, Json(body): Json<FilingBody>) -> Result<Response, AppError> {
    let filing = create(&state, &user, &body).await?;
    Ok((StatusCode::CREATED, Json(detail(&state, &user, filing.id).await?)).into_response())
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/filings/{id}", tag = "filings", params(("id" = i64, Path)),
    responses((status = 200, description = "{filing, steps, trail, can_edit, can_withdraw, can_delete}"), (status = 404, description = "Not the caller's organisation's, nor on a route they review")))]
pub async fn api_get(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Json<Value>, AppError> {
    Ok(Json(detail(&state, &user, id).await?))
}

#[utoipa::path(put, path = "/t/{tenant}/api/v1/filings/{id}", request_body = FilingBody, tag = "filings", params(("id" = i64, Path)),
    responses((status = 200, description = "Edited and resubmitted as a new round"), (status = 409, description = "Accepted: final"), (status = 422, description = "Per-field errors")))]
pub async fn api_update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<FilingBody>,
) -> Result<Json<Value>, AppError> {
    update(&state, &user, id, &body).await?;
    Ok(Json(detail(&state, &user, id).await?))
}

#[utoipa::path(delete, path = "/t/{tenant}/api/v1/filings/{id}", tag = "filings", params(("id" = i64, Path)),
    responses((status = 204, description = "Deleted"), (status = 409, description = "Accepted: final"), (status = 404, description = "Not the caller's organisation's")))]
pub async fn api_delete(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    delete(&state, &user, &[id]).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/filings/{id}/withdraw", tag = "filings", params(("id" = i64, Path)),
    responses((status = 200, description = "Withdrawn from the reviewers' queue"), (status = 409, description = "Not pending")))]
pub async fn api_withdraw(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Json<Value>, AppError> {
    withdraw(&state, &user, id).await?;
    Ok(Json(detail(&state, &user, id).await?))
}

/// The body of `POST /filings/deletions`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct FilingIds {
    #[serde(default)]
    pub ids: Vec<i64>,
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/filings/deletions", request_body = FilingIds, tag = "filings",
    responses((status = 200, description = "{deleted: n}: every listed filing deleted"), (status = 404, description = "A filing is not the caller's organisation's; nothing deleted"),
              (status = 409, description = "A filing is accepted; nothing deleted"), (status = 422, description = "No ids")))]
pub async fn api_delete_many(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(input): Json<FilingIds>,
) -> Result<Json<Value>, AppError> {
    Ok(Json(json!({"deleted": delete(&state, &user, &input.ids).await?})))
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/filings", get(api_list).post(api_create))
        .route("/filings/deletions", post(api_delete_many))
        .route("/filings/{id}", get(api_get).put(api_update).delete(api_delete))
        .route("/filings/{id}/withdraw", post(api_withdraw))
}
