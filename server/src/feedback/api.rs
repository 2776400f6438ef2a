//! Feedback in the JSON API: file (JSON, or multipart with an attachment), list, one, reply, attachment.

use axum::Json;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Feedback, FeedbackQuery, NewFeedback, Reply};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::paging::Query;
use crate::state::AppState;
use crate::storage::upload::Upload;

/// The feedback's fields and its `attachment` from a multipart form (the CSRF token too, for pages).
pub async fn read_form(multipart: Multipart) -> Result<(NewFeedback, Option<Upload>, Option<String>), AppError> {
    let form = crate::storage::upload::read_multipart_form(multipart, "attachment").await?;
    Ok((NewFeedback { category: form.text("category"), text: form.text("text") }, form.file, form.csrf))
}

#[utoipa::path(post, path = "/feedback", tag = "feedback",
    request_body(content(
        (NewFeedback = "application/json"),
        (NewFeedback = "multipart/form-data")
    ), description = "JSON, or multipart with the fields as text parts and an `attachment` file"),
    responses((status = 201, body = crate::api::Created, description = "Created"), (status = 422, description = "Field errors (category, text over 1,000 characters) or an unsupported file type")))]
pub async fn api_file(State(state): State<AppState>, user: CurrentUser, request: Request) -> Result<Response, AppError> {
    let multipart = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("multipart/"));
    let (input, attachment) = if multipart {
        let form = Multipart::from_request(request, &state).await.map_err(|e| AppError::bad_request("bad_form", e.body_text()))?;
        let (input, attachment, _) = read_form(form).await?;
        (input, attachment)
    } else {
        let Json(input) =
            Json::<NewFeedback>::from_request(request, &state).await.map_err(|e| AppError::bad_request("bad_json", e.body_text()))?;
        (input, None)
    };
    let id = super::file(&state, &user, &input, attachment).await?;
    Ok((StatusCode::CREATED, Json(crate::api::Created { id })).into_response())
}

#[utoipa::path(get, path = "/feedback", tag = "feedback",
    params(FeedbackQuery),
    responses((status = 200, body = crate::api::Paged<Feedback>, description = "The caller's own feedback; for the handling organisation's admins also what was sent to it")))]
pub async fn api_list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<FeedbackQuery>,
) -> Result<Json<crate::api::Paged<Feedback>>, AppError> {
    let (items, total) = super::list(&state, &user, &query).await?;
    let paging = query.paging();
    Ok(Json(crate::api::Paged::new(items, total, paging)))
}

#[utoipa::path(get, path = "/feedback/{id}", tag = "feedback",
    params(("id" = i64, Path, description = "Feedback id")),
    responses((status = 200, body = Feedback), (status = 404, description = "Neither the caller's nor sent to the caller's organisation")))]
pub async fn api_get(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Json<Feedback>, AppError> {
    Ok(Json(super::get(&state, &user, id).await?.0))
}

#[utoipa::path(post, path = "/feedback/{id}/reply", request_body = Reply, tag = "feedback",
    params(("id" = i64, Path, description = "Feedback id")),
    responses((status = 204, description = "Replied; the filer gets a message"), (status = 403, description = "Not the handling organisation"),
              (status = 404, description = "Not visible to the caller"), (status = 409, description = "closed"), (status = 422, description = "text")))]
pub async fn api_reply(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<Reply>,
) -> Result<StatusCode, AppError> {
    super::reply(&state, &user, id, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/feedback/{id}/attachment", tag = "feedback",
    params(("id" = i64, Path, description = "Feedback id")),
    responses((status = 200, description = "The attachment, served with its stored type (PDF, an image, an office document or ZIP)",
               content_type = "application/octet-stream"),
              (status = 404, description = "None, or not visible to the caller")))]
pub async fn api_attachment(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Response, AppError> {
    super::attachment(&state, &user, id).await
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_list, api_file))
        .routes(routes!(api_get))
        .routes(routes!(api_reply))
        .routes(routes!(api_attachment))
}
