//! Organisations in the JSON API: search, registration, browsing the tree, departments.

use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::browse::{Browse, ChildrenQuery, browse};
use super::registration::{OrgRegistration, read_multipart, register_org};
use super::*;
use super::{OrgSummary, SearchQuery, search};
use crate::api::Paged;
use crate::auth::CurrentUser;
use crate::auth::throttle::limited;
use crate::error::AppError;
use crate::paging::Query;
use crate::state::AppState;
use crate::tenancy::TenantCtx;

/// `GET /api/v1/orgs` — public: active organisations by kind, name and region, for pickers.
#[utoipa::path(get, path = "/orgs", tag = "orgs", params(("kind" = Option<String>, Query), ("q" = Option<String>, Query), ("region" = Option<String>, Query), ("page" = Option<i64>, Query)),
    responses((status = 200, body = Paged<OrgSummary>, description = "Active organisations matching the filters")))]
pub async fn api_search(
    State(state): State<AppState>,
    tenant: TenantCtx,
    Query(query): Query<SearchQuery>,
) -> Result<Json<Paged<OrgSummary>>, AppError> {
    let (items, total) = search(&state.db, tenant.code(), &query).await?;
    Ok(Json(Paged::new(items, total, query.paging())))
}

/// `POST /api/v1/registrations/orgs` — multipart: the fields of [`OrgRegistration`] and a `licence` file.
#[utoipa::path(post, path = "/registrations/orgs", tag = "registrations", request_body(content = OrgRegistration, content_type = "multipart/form-data", description = "The fields plus a `licence` file"), responses((status = 201, body = crate::orgs::registration::Registered, description = "Registered, pending approval"), (status = 422, description = "Invalid fields or file type"), (status = 413, description = "File too large")))]
pub async fn api_register(State(state): State<AppState>, tenant: TenantCtx, multipart: Multipart) -> Result<Response, AppError> {
    let (form, licence, _) = read_multipart(multipart).await?;
    let done = register_org(&state, &tenant, &form, licence).await?;
    Ok((StatusCode::CREATED, Json(done)).into_response())
}

#[utoipa::path(get, path = "/orgs/{id}", tag = "orgs", params(("id" = i64, Path)), responses((status = 200, body = Browse, description = "The org, its children (paged) and admins"), (status = 404, description = "Outside the caller's subtree")))]
pub async fn api_browse(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(query): Query<ChildrenQuery>,
) -> Result<Json<Browse>, AppError> {
    Ok(Json(browse(&state, &user, Some(id), &query).await?))
}

#[utoipa::path(post, path = "/orgs/{id}/departments", request_body = NewDepartment, tag = "orgs", params(("id" = i64, Path)), responses((status = 201, body = crate::api::Created, description = "Created"), (status = 422, description = "Invalid or duplicate name")))]
pub async fn api_add_department(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<NewDepartment>,
) -> Result<Response, AppError> {
    let id = add_department(&state, &user, id, &input).await?;
    Ok((StatusCode::CREATED, Json(crate::api::Created { id })).into_response())
}

#[utoipa::path(patch, path = "/departments/{id}", request_body = NewDepartment, tag = "orgs",
    params(("id" = i64, Path, description = "Department id")),
    responses((status = 204, description = "Renamed"), (status = 404, description = "No such department in the caller's subtree"),
              (status = 422, description = "Invalid or duplicate name")))]
pub async fn api_rename_department(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<NewDepartment>,
) -> Result<StatusCode, AppError> {
    rename_department(&state, &user, id, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/departments/{id}", tag = "orgs",
    params(("id" = i64, Path, description = "Department id")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such department in the caller's subtree"),
              (status = 409, description = "department_in_use: staff, admins or sub-departments belong to it")))]
pub async fn api_delete_department(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    delete_department(&state, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes(state: &AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(super::admins::api_routes())
        .routes(routes!(api_search).layer(limited(state, "search")))
        .routes(routes!(api_browse))
        .routes(routes!(api_add_department))
        .routes(routes!(api_rename_department, api_delete_department))
        .routes(routes!(api_register).layer(limited(state, "register")))
}
