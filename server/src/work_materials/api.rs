//! Yearly work materials in the JSON API: file (multipart), list, update, delete, download.

use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Material, MaterialInput, MaterialQuery};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::paging::Query;
use crate::state::AppState;

#[utoipa::path(post, path = "/work-materials", tag = "work_materials",
    request_body(content = MaterialInput, content_type = "multipart/form-data", description = "`year`, `category`, `title` as text parts and the `file`"),
    responses((status = 201, body = crate::api::Created, description = "Created"), (status = 403, description = "Not an admin of a supervising department or an HR bureau"),
              (status = 413, description = "The file is over the upload limit"),
              (status = 422, description = "Field errors (year, category, title, file) or an unsupported file type")))]
pub async fn api_file(State(state): State<AppState>, user: CurrentUser, multipart: Multipart) -> Result<Response, AppError> {
    let (input, upload, _) = super::read_form(multipart).await?;
    let id = super::file(&state, &user, &input, upload).await?;
    Ok((StatusCode::CREATED, Json(crate::api::Created { id })).into_response())
}

#[utoipa::path(get, path = "/work-materials", tag = "work_materials",
    params(MaterialQuery),
    responses((status = 200, body = crate::api::Paged<Material>, description = "The materials of the caller's organisation and those below it")))]
pub async fn api_list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<MaterialQuery>,
) -> Result<Json<crate::api::Paged<Material>>, AppError> {
    let (items, total) = super::list(&state, &user, &query).await?;
    let paging = query.paging();
    Ok(Json(crate::api::Paged::new(items, total, paging)))
}

#[utoipa::path(put, path = "/work-materials/{id}", tag = "work_materials",
    request_body(content = MaterialInput, content_type = "multipart/form-data", description = "The new values; a `file` part replaces the file"),
    params(("id" = i64, Path, description = "Material id")),
    responses((status = 204, description = "Updated"), (status = 404, description = "Not a material of the caller's organisation"), (status = 422, description = "Field errors")))]
pub async fn api_update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<StatusCode, AppError> {
    let (input, upload, _) = super::read_form(multipart).await?;
    super::update(&state, &user, id, &input, upload).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/work-materials/{id}", tag = "work_materials",
    params(("id" = i64, Path, description = "Material id")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "Not a material of the caller's organisation")))]
pub async fn api_delete(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    super::delete(&state, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/work-materials/{id}/file", tag = "work_materials",
    params(("id" = i64, Path, description = "Material id")),
    responses((status = 200, description = "The material's file, served with its stored type (PDF, an image, an office document or ZIP)",
               content_type = "application/octet-stream"),
              (status = 404, description = "Not a material the caller sees")))]
pub async fn api_download(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Response, AppError> {
    super::download(&state, &user, id).await
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api_list, api_file)).routes(routes!(api_update, api_delete)).routes(routes!(api_download))
}
