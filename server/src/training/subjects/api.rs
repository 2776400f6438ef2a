//! The subject catalogue in the JSON API.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::*;
use crate::api::Paged;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::paging::Query;
use crate::state::AppState;

#[utoipa::path(get, path = "/subjects", params(ListQuery), tag = "training",
    responses((status = 200, body = Paged<SubjectView>, description = "Subjects of the tenant, paged"), (status = 403, description = "Not allowed")))]
pub async fn api_list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<Paged<SubjectView>>, AppError> {
    let (items, total) = list(&state, &user, &query).await?;
    let items = items.iter().map(|s| s.view(&user.tenant.tenant.settings)).collect();
    Ok(Json(Paged::new(items, total, query.paging())))
}

#[utoipa::path(post, path = "/subjects", request_body = SubjectBody, tag = "training",
    responses((status = 201, body = SubjectView, description = "The new subject"), (status = 403, description = "Not a subject keeper"),
        (status = 409, description = "Same name in the same year"), (status = 422, description = "Per-field errors")))]
pub async fn api_create(State(state): State<AppState>, user: CurrentUser, Json(body): Json<SubjectBody>) -> Result<Response, AppError> {
    let subject = create(&state, &user, &body).await?;
    Ok((StatusCode::CREATED, Json(subject.view(&user.tenant.tenant.settings))).into_response())
}

#[utoipa::path(get, path = "/subjects/{id}", tag = "training", params(("id" = i64, Path)),
    responses((status = 200, body = SubjectView, description = "The subject"), (status = 404, description = "No such subject in the tenant")))]
pub async fn api_get(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Json<SubjectView>, AppError> {
    Ok(Json(readable(&state, &user, id).await?.view(&user.tenant.tenant.settings)))
}

#[utoipa::path(put, path = "/subjects/{id}", request_body = SubjectBody, tag = "training", params(("id" = i64, Path)),
    responses((status = 200, body = SubjectView, description = "The edited subject"), (status = 404, description = "Not the caller's subject"),
        (status = 409, description = "Duplicate name, or a year change of a subject in use"), (status = 422, description = "Per-field errors")))]
pub async fn api_update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<SubjectBody>,
) -> Result<Json<SubjectView>, AppError> {
    Ok(Json(update(&state, &user, id, &body).await?.view(&user.tenant.tenant.settings)))
}

#[utoipa::path(post, path = "/subjects/status", request_body = StatusInput, tag = "training",
    responses((status = 200, body = StatusChanged, description = "How many subjects were switched, and to which state"), (status = 404, description = "A subject is not the caller's; nothing changed")))]
pub async fn api_set_status(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(input): Json<StatusInput>,
) -> Result<Json<StatusChanged>, AppError> {
    let changed = set_enabled(&state, &user, &input.ids, input.enabled).await?;
    Ok(Json(StatusChanged { changed, enabled: input.enabled }))
}

/// The answer to enabling or disabling subjects (启用 / 停用).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct StatusChanged {
    pub changed: u64,
    pub enabled: bool,
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api_list, api_create)).routes(routes!(api_set_status)).routes(routes!(api_get, api_update))
}
