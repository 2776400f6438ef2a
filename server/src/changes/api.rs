//! Change audits in the JSON API: file one's own title change, list one's changes, withdraw one.
//! Decisions go through `POST /api/v1/approvals/decisions` with kind `person_change`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;

use super::{NewChange, PersonChange};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::state::AppState;

/// The answer to filing a change.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Filed {
    pub id: i64,
    /// `pending`, or `approved` where the route has no step
    pub status: &'static str,
}

/// A page of the caller's changes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChangePage {
    pub items: Vec<PersonChange>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

crate::paging::list_query! {
    #[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct ChangeQuery {}
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/me/changes", request_body = NewChange, tag = "changes",
    params(("tenant" = String, Path, description = "Tenant code")),
    responses((status = 201, body = Filed, description = "Filed; waiting for the route's approval"),
              (status = 409, description = "change_pending: a change of this person waits already"),
              (status = 422, description = "Field errors: unknown fields, invalid values, values that change nothing")))]
pub async fn api_file(State(state): State<AppState>, user: CurrentUser, Json(input): Json<NewChange>) -> Result<Response, AppError> {
    let (id, status) = super::file(&state, &user, &input).await?;
    Ok((StatusCode::CREATED, Json(Filed { id, status })).into_response())
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/me/changes", tag = "changes",
    params(("tenant" = String, Path, description = "Tenant code"), ChangeQuery),
    responses((status = 200, body = ChangePage, description = "The caller's title changes, newest first")))]
pub async fn api_mine(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<ChangeQuery>,
) -> Result<Json<ChangePage>, AppError> {
    let paging = query.paging();
    let (items, total) = super::mine(&state, &user, paging).await?;
    Ok(Json(ChangePage { items, total, page: paging.page, per_page: paging.per_page }))
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/me/changes/{id}/withdraw", tag = "changes",
    params(("tenant" = String, Path, description = "Tenant code"), ("id" = i64, Path, description = "Change id")),
    responses((status = 204, description = "Withdrawn"), (status = 404, description = "Not the caller's change"),
              (status = 409, description = "already_decided")))]
pub async fn api_withdraw(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    super::withdraw(&state, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/me/changes", get(api_mine).post(api_file)).route("/me/changes/{id}/withdraw", post(api_withdraw))
}
