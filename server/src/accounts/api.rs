//! Accounts in the JSON API: the list, enable / disable (one or many), one-time codes.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AccountQuery, AccountRow};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::paging::Query;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct StatusInput {
    /// active or disabled
    pub status: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct BatchStatusInput {
    pub ids: Vec<i64>,
    /// active or disabled
    pub status: String,
}

/// The answer to a batch change.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Changed {
    pub changed: usize,
}

/// A one-time code, shown once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OneTimeCode {
    pub code: String,
    pub message: &'static str,
}

#[utoipa::path(get, path = "/accounts", tag = "accounts",
    params(AccountQuery),
    responses((status = 200, body = crate::api::Paged<AccountRow>, description = "Accounts whose organisation lies in the caller's scope, newest first"),
              (status = 403, description = "Only the province's and the system's admins list accounts"),
              (status = 422, description = "Unknown type or status")))]
pub async fn api_list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<AccountQuery>,
) -> Result<Json<crate::api::Paged<AccountRow>>, AppError> {
    let (items, total) = super::list(&state, &user, &query).await?;
    let paging = query.paging();
    Ok(Json(crate::api::Paged::new(items, total, paging)))
}

#[utoipa::path(post, path = "/accounts/status", request_body = BatchStatusInput, tag = "accounts",
    responses((status = 200, body = Changed, description = "All changed"),
              (status = 404, description = "An account outside the caller's subtree: nothing changed"),
              (status = 409, description = "An account already in that state: nothing changed")))]
pub async fn api_set_statuses(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(input): Json<BatchStatusInput>,
) -> Result<Json<Changed>, AppError> {
    let changed = super::set_statuses(&state, &user, &input.ids, &input.status).await?;
    Ok(Json(Changed { changed }))
}

#[utoipa::path(post, path = "/accounts/{id}/status", request_body = StatusInput, tag = "accounts",
    params(("id" = i64, Path, description = "Account id")),
    responses((status = 204, description = "Enabled or disabled"), (status = 404, description = "Outside the caller's subtree"),
              (status = 409, description = "Already in that state")))]
pub async fn api_set_status(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<StatusInput>,
) -> Result<StatusCode, AppError> {
    super::set_statuses(&state, &user, &[id], &input.status).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/accounts/{id}/reset-code", tag = "accounts",
    params(("id" = i64, Path, description = "Account id")),
    responses((status = 200, body = OneTimeCode, description = "A one-time password that forces a change"),
              (status = 404, description = "Outside the caller's subtree")))]
pub async fn api_reset_code(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Json<OneTimeCode>, AppError> {
    let (_, code) = super::reset_code(&state, &user, id).await?;
    Ok(Json(OneTimeCode { code, message: "请将一次性密码交给本人，登录后须立即修改密码" }))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_list))
        .routes(routes!(api_set_statuses))
        .routes(routes!(api_set_status))
        .routes(routes!(api_reset_code))
}
