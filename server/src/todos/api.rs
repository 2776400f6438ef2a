//! To-dos in the JSON API.

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::state::AppState;
use crate::storage;
use axum::extract::{Multipart, Path, State};

use crate::paging::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::*;

#[utoipa::path(get, path = "/t/{tenant}/api/v1/todos", params(ListQuery), tag = "todos",
    responses((status = 200, description = "A unit admin's to-dos with counts, or a person's own items")))]
pub async fn api_list(State(state): State<AppState>, user: CurrentUser, Query(query): Query<ListQuery>) -> Result<Json<Value>, AppError> {
    let (items, total) = list(&state, &user, &query).await?;
    Ok(query.paging().json(items, total))
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/todos", request_body = NewTodo, tag = "todos",
    responses((status = 201, description = "{id}"), (status = 422, description = "Invalid input; nothing stored")))]
pub async fn api_create(State(state): State<AppState>, user: CurrentUser, Json(input): Json<NewTodo>) -> Result<Response, AppError> {
    let id = create(&state, &user, &input).await?;
    Ok((StatusCode::CREATED, Json(json!({"id": id}))).into_response())
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/todos/{id}", tag = "todos", params(("id" = i64, Path)),
    responses((status = 200, description = "{todo, items}"), (status = 404, description = "Not the caller's")))]
pub async fn api_detail(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Json<Value>, AppError> {
    Ok(Json(detail(&state, &user, id).await?))
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/todos/{id}/proof", tag = "todos", params(("id" = i64, Path)),
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

#[utoipa::path(post, path = "/t/{tenant}/api/v1/todos/{id}/review", request_body = ReviewInput, tag = "todos", params(("id" = i64, Path)),
    responses((status = 200, description = "{reviewed}"), (status = 409, description = "An item has no upload or was already reviewed")))]
pub async fn api_review(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<ReviewInput>,
) -> Result<Json<Value>, AppError> {
    Ok(Json(json!({"reviewed": review(&state, &user, id, &input).await?})))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/todos/{id}/items/{item}/proof", tag = "todos", params(("id" = i64, Path), ("item" = i64, Path)),
    responses((status = 200, description = "The proof file"), (status = 404, description = "Not the caller's")))]
pub async fn download(State(state): State<AppState>, user: CurrentUser, Path((id, item)): Path<(i64, i64)>) -> Result<Response, AppError> {
    proof(&state, &user, id, item).await
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/todos", get(api_list).post(api_create))
        .route("/todos/{id}", get(api_detail))
        .route("/todos/{id}/proof", post(api_upload))
        .route("/todos/{id}/review", post(api_review))
        .route("/todos/{id}/items/{item}/proof", get(download))
}
