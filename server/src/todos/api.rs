//! To-dos in the JSON API.

use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::*;
use crate::api::{Created, Paged};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::paging::Query;
use crate::state::AppState;
use crate::storage;

/// `POST /todos/{id}/review`: how many items were decided.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Reviewed {
    pub reviewed: usize,
}

#[utoipa::path(get, path = "/todos", params(ListQuery), tag = "todos",
    responses((status = 200, body = Paged<Listed>, description = "A unit admin's to-dos with counts (`Todo`), or a person's own items (`Item`)")))]
pub async fn api_list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<Paged<Listed>>, AppError> {
    let (items, total) = list(&state, &user, &query).await?;
    Ok(Json(Paged::new(items, total, query.paging())))
}

#[utoipa::path(post, path = "/todos", request_body = NewTodo, tag = "todos",
    responses((status = 201, body = Created, description = "Assigned"), (status = 422, description = "Invalid input; nothing stored")))]
pub async fn api_create(State(state): State<AppState>, user: CurrentUser, Json(input): Json<NewTodo>) -> Result<Response, AppError> {
    let id = create(&state, &user, &input).await?;
    Ok((StatusCode::CREATED, Json(Created { id })).into_response())
}

#[utoipa::path(get, path = "/todos/{id}", tag = "todos", params(("id" = i64, Path)),
    responses((status = 200, body = TodoDetail, description = "The to-do and the caller's view of its items"), (status = 404, description = "Not the caller's")))]
pub async fn api_detail(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Json<TodoDetail>, AppError> {
    Ok(Json(detail(&state, &user, id).await?))
}

#[utoipa::path(post, path = "/todos/{id}/proof", tag = "todos", params(("id" = i64, Path)),
    request_body(content_type = "multipart/form-data", description = "`file`"),
    responses((status = 204, description = "Uploaded"), (status = 413, description = "Too large"), (status = 422, description = "Type not allowed")))]
pub async fn api_upload(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<StatusCode, AppError> {
    let file = storage::upload::read_form_upload(multipart).await?;
    upload(&state, &user, id, &file.filename, file.bytes).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/todos/{id}/review", request_body = ReviewInput, tag = "todos", params(("id" = i64, Path)),
    responses((status = 200, body = Reviewed, description = "Accepted or returned"), (status = 409, description = "An item has no upload or was already reviewed")))]
pub async fn api_review(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<ReviewInput>,
) -> Result<Json<Reviewed>, AppError> {
    Ok(Json(Reviewed { reviewed: review(&state, &user, id, &input).await? }))
}

#[utoipa::path(get, path = "/todos/{id}/items/{item}/proof", tag = "todos", params(("id" = i64, Path), ("item" = i64, Path)),
    responses((status = 200, description = "The proof file, with the type detected when it was stored", content_type = "*/*"),
              (status = 404, description = "Not the caller's")))]
pub async fn download(State(state): State<AppState>, user: CurrentUser, Path((id, item)): Path<(i64, i64)>) -> Result<Response, AppError> {
    proof(&state, &user, id, item).await
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_list, api_create))
        .routes(routes!(api_detail))
        .routes(routes!(api_upload))
        .routes(routes!(api_review))
        .routes(routes!(download))
}
