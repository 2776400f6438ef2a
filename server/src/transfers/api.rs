//! Transfers in the JSON API: start (调出), list in and out (调转记录), one transfer, withdraw. Decisions go
//! through `POST /api/v1/approvals/decisions` with kind `transfer`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{NewTransfer, Transfer, TransferDetail, TransferQuery};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::paging::Query;
use crate::state::AppState;

/// The answer to starting a transfer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Started {
    pub id: i64,
    /// `pending` (waiting for the receiving side), or `approved` where the route has no step
    pub status: &'static str,
}

#[utoipa::path(post, path = "/transfers", request_body = NewTransfer, tag = "transfers",
    responses((status = 201, body = Started, description = "Started; waiting for the receiving side's approval"),
              (status = 404, description = "No such person in the caller's scope"),
              (status = 409, description = "transfer_pending: the person has a transfer waiting"),
              (status = 422, description = "Field errors (to_unit_id, reason, effective_on)")))]
pub async fn api_start(State(state): State<AppState>, user: CurrentUser, Json(input): Json<NewTransfer>) -> Result<Response, AppError> {
    let (id, status) = super::start(&state, &user, &input).await?;
    Ok((StatusCode::CREATED, Json(Started { id, status })).into_response())
}

#[utoipa::path(get, path = "/transfers", tag = "transfers",
    params(TransferQuery),
    responses((status = 200, body = crate::api::Paged<Transfer>, description = "Transfers out of and into the caller's scope, newest first"),
              (status = 422, description = "Unknown direction or status")))]
pub async fn api_list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<TransferQuery>,
) -> Result<Json<crate::api::Paged<Transfer>>, AppError> {
    let (items, total) = super::list(&state, &user, &query).await?;
    let paging = query.paging();
    Ok(Json(crate::api::Paged::new(items, total, paging)))
}

#[utoipa::path(get, path = "/transfers/{id}", tag = "transfers",
    params(("id" = i64, Path, description = "Transfer id")),
    responses((status = 200, body = TransferDetail, description = "The transfer with its route, trail and person"),
              (status = 404, description = "Not a transfer of the caller's scope")))]
pub async fn api_get(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Json<TransferDetail>, AppError> {
    let (transfer, _) = super::get(&state, &user, id).await?;
    Ok(Json(super::detail(&state, user.tenant_code(), transfer).await?))
}

#[utoipa::path(post, path = "/transfers/{id}/withdraw", tag = "transfers",
    params(("id" = i64, Path, description = "Transfer id")),
    responses((status = 204, description = "Withdrawn"), (status = 403, description = "Not the sending side"),
              (status = 404, description = "Not a transfer of the caller's scope"), (status = 409, description = "already_decided")))]
pub async fn api_withdraw(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    super::withdraw(&state, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api_list, api_start)).routes(routes!(api_get)).routes(routes!(api_withdraw))
}
