//! Classes, scores and rosters in the JSON API.

use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::*;
use crate::api::Paged;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::paging::Query;
use crate::state::AppState;
use crate::training::DeletedCount;
use crate::training::plans::{self};

#[utoipa::path(get, path = "/classes", params(ClassQuery), tag = "institutions",
    responses((status = 200, body = Paged<ClassView>, description = "The caller's institution's classes"), (status = 403, description = "Not an institution admin")))]
pub async fn api_list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<ClassQuery>,
) -> Result<Json<Paged<ClassView>>, AppError> {
    let (rows, total) = list(&state, &user, &query).await?;
    Ok(Json(Paged::new(rows.iter().map(Class::view).collect(), total, query.paging())))
}

#[utoipa::path(post, path = "/classes", request_body = ClassBody, tag = "institutions",
    responses((status = 201, body = ClassView, description = "Class opened"), (status = 422, description = "Invalid fields (plan not approved, capacity, dates)")))]
pub async fn api_create(State(state): State<AppState>, user: CurrentUser, Json(body): Json<ClassBody>) -> Result<Response, AppError> {
    let class = create(&state, &user, &body).await?;
    Ok((StatusCode::CREATED, Json(class.view())).into_response())
}

#[utoipa::path(get, path = "/classes/{id}", tag = "institutions", params(("id" = i64, Path)),
    responses((status = 200, body = ClassDetail, description = "The class with its plan"), (status = 404, description = "Not the caller's institution's")))]
pub async fn api_get(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Json<ClassDetail>, AppError> {
    let class = own(&state, &user, id).await?;
    let plan = plans::get(&state.db, user.tenant_code(), class.plan_id).await?.map(|p| p.view(&user.tenant.tenant.settings.words));
    Ok(Json(ClassDetail { class: class.view(), plan }))
}

/// A class with the plan it runs under.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClassDetail {
    #[serde(flatten)]
    pub class: ClassView,
    /// The plan (null only if it has since been deleted)
    pub plan: Option<plans::PlanView>,
}

#[utoipa::path(put, path = "/classes/{id}", request_body = ClassBody, tag = "institutions", params(("id" = i64, Path)),
    responses((status = 200, body = ClassView, description = "Saved"), (status = 409, description = "Declared: frozen"), (status = 422, description = "Invalid fields")))]
pub async fn api_update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<ClassBody>,
) -> Result<Json<ClassView>, AppError> {
    Ok(Json(update(&state, &user, id, &body).await?.view()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Ids {
    pub ids: Vec<i64>,
}

#[utoipa::path(post, path = "/classes/delete", request_body = Ids, tag = "institutions",
    responses((status = 200, body = DeletedCount, description = "All deleted"), (status = 404, description = "One is not the caller's"), (status = 409, description = "One is declared; nothing deleted")))]
pub async fn api_delete(State(state): State<AppState>, user: CurrentUser, Json(body): Json<Ids>) -> Result<Json<DeletedCount>, AppError> {
    Ok(Json(DeletedCount { deleted: delete(&state, &user, &body.ids).await? }))
}

#[utoipa::path(get, path = "/classes/{id}/scores", params(("id" = i64, Path), ScoreQuery), tag = "institutions",
    responses((status = 200, body = Paged<ScoreView>, description = "Scores, ID numbers masked"), (status = 404, description = "Not the caller's class")))]
pub async fn api_scores(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(query): Query<ScoreQuery>,
) -> Result<Json<Paged<ScoreView>>, AppError> {
    let (rows, total) = scores(&state, &user, id, &query).await?;
    Ok(Json(Paged::new(rows.iter().map(Score::view).collect(), total, query.paging())))
}

#[utoipa::path(post, path = "/classes/{id}/scores", request_body = ScoreBody, tag = "institutions", params(("id" = i64, Path)),
    responses((status = 201, body = ScoreView, description = "Score entered"), (status = 409, description = "Already entered, class full or declared"), (status = 422, description = "Unknown ID number, wrong name, bad score")))]
pub async fn api_add_score(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<ScoreBody>,
) -> Result<Response, AppError> {
    let score = add_score(&state, &user, id, &body).await?;
    Ok((StatusCode::CREATED, Json(score.view())).into_response())
}

#[utoipa::path(put, path = "/classes/{id}/scores/{score}", request_body = ScoreBody, tag = "institutions",
    params(("id" = i64, Path), ("score" = i64, Path)),
    responses((status = 200, body = ScoreView, description = "Saved"), (status = 409, description = "Declared"), (status = 422, description = "Bad score")))]
pub async fn api_update_score(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, score)): Path<(i64, i64)>,
    Json(body): Json<ScoreBody>,
) -> Result<Json<ScoreView>, AppError> {
    Ok(Json(update_score(&state, &user, id, score, &body).await?.view()))
}

#[utoipa::path(post, path = "/classes/{id}/scores/delete", request_body = Ids, tag = "institutions", params(("id" = i64, Path)),
    responses((status = 200, body = DeletedCount, description = "All deleted"), (status = 404, description = "A score is not in the class"), (status = 409, description = "Declared")))]
pub async fn api_delete_scores(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<Ids>,
) -> Result<Json<DeletedCount>, AppError> {
    Ok(Json(DeletedCount { deleted: delete_scores(&state, &user, id, &body.ids).await? }))
}

#[utoipa::path(post, path = "/classes/{id}/scores/import", tag = "institutions", params(("id" = i64, Path)),
    request_body(content_type = "multipart/form-data", description = "`file`: xlsx or CSV with 身份证号, 成绩 (姓名, 是否合格, 备注 optional)"),
    responses((status = 200, description = "Imported", body = ImportResult), (status = 422, description = "Per-row errors in `rows`; nothing imported")))]
pub async fn api_import(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<Json<ImportResult>, AppError> {
    let upload = crate::storage::upload::read_form_upload(multipart).await?;
    Ok(Json(import_scores(&state, &user, id, &upload.filename, &upload.bytes).await?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_list, api_create))
        .routes(routes!(api_delete))
        .routes(routes!(api_get, api_update))
        .routes(routes!(api_scores, api_add_score))
        .routes(routes!(api_delete_scores))
        .routes(routes!(api_import))
        .routes(routes!(api_update_score))
}
