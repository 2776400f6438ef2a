//! The inbox and notices in the JSON API.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::notices::{NewNotice, Notice, NoticeQuery};
use super::{Entry, ListQuery};
use crate::api::Paged;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::paging::Query;
use crate::state::AppState;

/// How many entries `POST /messages/read-all` marked.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Marked {
    pub marked: u64,
}

#[utoipa::path(get, path = "/messages", tag = "messages",
    params(ListQuery),
    responses((status = 200, body = Paged<Entry>, description = "The caller's messages and the notices that reach it, newest first; `total` counts both (with `unread=1`, the unread ones)")))]
pub async fn api_list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<Paged<Entry>>, AppError> {
    let (items, total) = super::inbox::list(&state, &user, &query).await?;
    Ok(Json(Paged::new(items, total, query.paging())))
}

#[utoipa::path(get, path = "/messages/{id}", tag = "messages",
    params(("id" = i64, Path, description = "Message id")),
    responses((status = 200, body = Entry), (status = 404, description = "Not the caller's message")))]
pub async fn api_get(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Json<Entry>, AppError> {
    Ok(Json(super::get(&state, &user, id).await?))
}

#[utoipa::path(post, path = "/messages/{id}/read", tag = "messages",
    params(("id" = i64, Path, description = "Message id")),
    responses((status = 204, description = "Marked read"), (status = 404, description = "Not the caller's message")))]
pub async fn api_mark_read(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Response, AppError> {
    super::mark_read(&state, &user, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(post, path = "/messages/read-all", tag = "messages",
    responses((status = 200, body = Marked, description = "Every unread message and notice of the caller marked read")))]
pub async fn api_mark_all_read(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Marked>, AppError> {
    Ok(Json(Marked { marked: super::inbox::mark_all_read(&state, &user).await? }))
}

#[utoipa::path(post, path = "/notices", request_body = NewNotice, tag = "messages",
    responses((status = 201, body = crate::api::Created, description = "Sent: it is in its recipients' inboxes at once"),
              (status = 403, description = "Not an admin who may send notices"),
              (status = 422, description = "Field errors: title, body, audience.who, audience.org_id (not in the sender's subtree)")))]
pub async fn api_send(State(state): State<AppState>, user: CurrentUser, Json(input): Json<NewNotice>) -> Result<Response, AppError> {
    let id = super::notices::send(&state, &user, &input).await?;
    Ok((StatusCode::CREATED, Json(crate::api::Created { id })).into_response())
}

#[utoipa::path(get, path = "/notices", tag = "messages",
    params(NoticeQuery),
    responses((status = 200, body = Paged<Notice>, description = "What the caller's organisation sent, newest first, with read counts")))]
pub async fn api_sent(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<NoticeQuery>,
) -> Result<Json<Paged<Notice>>, AppError> {
    let (items, total) = super::notices::sent(&state, &user, &query).await?;
    Ok(Json(Paged::new(items, total, query.paging())))
}

#[utoipa::path(get, path = "/notices/{id}", tag = "messages",
    params(("id" = i64, Path, description = "Notice id")),
    responses((status = 200, body = Notice), (status = 404, description = "Neither reaching the caller nor sent by its organisation")))]
pub async fn api_get_notice(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Json<Notice>, AppError> {
    Ok(Json(super::notices::get(&state, &user, id).await?.0))
}

#[utoipa::path(post, path = "/notices/{id}/read", tag = "messages",
    params(("id" = i64, Path, description = "Notice id")),
    responses((status = 204, description = "Marked read"), (status = 404, description = "Does not reach the caller")))]
pub async fn api_notice_read(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    super::notices::mark_read(&state, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/notices/{id}/withdraw", tag = "messages",
    params(("id" = i64, Path, description = "Notice id")),
    responses((status = 204, description = "Withdrawn: recipients no longer see it"), (status = 404, description = "Not sent by the caller's organisation"),
              (status = 409, description = "already_withdrawn")))]
pub async fn api_withdraw(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    super::notices::withdraw(&state, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_list))
        .routes(routes!(api_mark_all_read))
        .routes(routes!(api_get))
        .routes(routes!(api_mark_read))
        .routes(routes!(api_sent, api_send))
        .routes(routes!(api_get_notice))
        .routes(routes!(api_notice_read))
        .routes(routes!(api_withdraw))
}
