//! Training plans in the JSON API.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::*;
use crate::api::Paged;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::paging::Query;
use crate::state::AppState;
use crate::training::DeletedCount;

#[utoipa::path(get, path = "/plans", params(ListQuery), tag = "training",
    responses((status = 200, body = Paged<PlanView>, description = "The caller's institution's plans, paged"), (status = 403, description = "Not an institution admin")))]
pub async fn api_list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<Paged<PlanView>>, AppError> {
    let (items, total) = list(&state, &user, &query).await?;
    let items = items.iter().map(|p| p.view(&user.tenant.tenant.settings.words)).collect();
    Ok(Json(Paged::new(items, total, query.paging())))
}

#[utoipa::path(post, path = "/plans", request_body = PlanBody, tag = "training",
    responses((status = 201, body = PlanView, description = "The plan, pending in its first approver's queue"), (status = 403, description = "Not an institution admin"),
        (status = 422, description = "Per-field errors (the route's too, e.g. `choice`); nothing stored")))]
pub async fn api_create(State(state): State<AppState>, user: CurrentUser, Json(body): Json<PlanBody>) -> Result<Response, AppError> {
    let plan = create(&state, &user, &body).await?;
    Ok((StatusCode::CREATED, Json(plan.view(&user.tenant.tenant.settings.words))).into_response())
}

#[utoipa::path(get, path = "/plans/{id}", tag = "training", params(("id" = i64, Path)),
    responses((status = 200, body = PlanDetail, description = "The plan with its route `steps` and audit `trail`"), (status = 404, description = "Not the caller's institution's")))]
pub async fn api_get(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Json<PlanDetail>, AppError> {
    Ok(Json(detail(&state, &user, id).await?))
}

#[utoipa::path(put, path = "/plans/{id}", request_body = PlanBody, tag = "training", params(("id" = i64, Path)),
    responses((status = 200, body = PlanView, description = "The edited plan, resubmitted as a new round"), (status = 404, description = "Not the caller's institution's"),
        (status = 409, description = "Already approved"), (status = 422, description = "Per-field errors")))]
pub async fn api_update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<PlanBody>,
) -> Result<Json<PlanView>, AppError> {
    Ok(Json(update(&state, &user, id, &body).await?.view(&user.tenant.tenant.settings.words)))
}

#[utoipa::path(delete, path = "/plans/{id}", tag = "training", params(("id" = i64, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, description = "Not the caller's institution's"), (status = 409, description = "Already approved")))]
pub async fn api_delete(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    delete(&state, &user, &[id]).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DeleteInput {
    pub ids: Vec<i64>,
}

#[utoipa::path(post, path = "/plans/delete", request_body = DeleteInput, tag = "training",
    responses((status = 200, body = DeletedCount, description = "All deleted"), (status = 404, description = "A plan is not the caller's institution's; nothing deleted"),
        (status = 409, description = "A plan is approved; nothing deleted")))]
pub async fn api_delete_many(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(input): Json<DeleteInput>,
) -> Result<Json<DeletedCount>, AppError> {
    let deleted = delete(&state, &user, &input.ids).await?;
    Ok(Json(DeletedCount { deleted }))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_list, api_create))
        .routes(routes!(api_delete_many))
        .routes(routes!(api_get, api_update, api_delete))
}
