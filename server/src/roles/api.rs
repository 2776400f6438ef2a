//! Custom roles in the JSON API: the caller's organisation's roles, the permissions they may hold, and
//! the roles its admins hold.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AccountRoles, AssignInput, CustomRole, Permission, RoleInput};
use crate::api::{Created, Paged};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::paging::{Paging, Query};
use crate::state::AppState;

#[utoipa::path(get, path = "/roles", tag = "roles",
    responses((status = 200, body = Paged<CustomRole>, description = "The roles of the caller's organisation, oldest first"),
              (status = 403, description = "super_admin_only: only the organisation's super admin manages roles")))]
pub async fn api_list(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Paged<CustomRole>>, AppError> {
    let items = super::list(&state, &user).await?;
    let total = items.len() as i64;
    Ok(Json(Paged::new(items, total, Paging::all(total))))
}

#[utoipa::path(post, path = "/roles", request_body = RoleInput, tag = "roles",
    responses((status = 201, body = Created, description = "Created"), (status = 403, description = "Not the organisation's super admin"),
              (status = 422, description = "name (empty, over 30, taken) or permissions (none, or outside the caller's catalogue): nothing stored")))]
pub async fn api_create(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(input): Json<RoleInput>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let id = super::create(&state, &user, &input).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[utoipa::path(get, path = "/roles/{id}", tag = "roles", params(("id" = i64, Path)),
    responses((status = 200, body = CustomRole), (status = 404, description = "Not a role of the caller's organisation")))]
pub async fn api_get(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Json<CustomRole>, AppError> {
    Ok(Json(super::get(&state, &user, id).await?))
}

#[utoipa::path(put, path = "/roles/{id}", request_body = RoleInput, tag = "roles", params(("id" = i64, Path)),
    responses((status = 200, body = CustomRole, description = "Renamed and its permissions replaced; holders follow at once"),
              (status = 404, description = "Not a role of the caller's organisation"), (status = 422, description = "As for creating")))]
pub async fn api_update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<RoleInput>,
) -> Result<Json<CustomRole>, AppError> {
    super::update(&state, &user, id, &input).await?;
    Ok(Json(super::get(&state, &user, id).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct DeleteQuery {
    /// The role its holders get instead: another role's id or the built-in role's code
    pub reassign: Option<String>,
}

#[utoipa::path(delete, path = "/roles/{id}", tag = "roles", params(("id" = i64, Path), DeleteQuery),
    responses((status = 204, description = "Deleted"), (status = 404, description = "Not a role of the caller's organisation"),
              (status = 409, description = "role_in_use: admins hold it and no `reassign` was given"), (status = 422, description = "reassign names no role")))]
pub async fn api_delete(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(query): Query<DeleteQuery>,
) -> Result<StatusCode, AppError> {
    super::delete(&state, &user, id, query.reassign.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/permissions", tag = "roles",
    responses((status = 200, body = Vec<Permission>, description = "What the caller's roles may hold: its organisation's built-in admin role's permissions"),
              (status = 403, description = "Not an organisation's super admin")))]
pub async fn api_permissions(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Vec<Permission>>, AppError> {
    Ok(Json(super::permissions(&state, &user).await?))
}

#[utoipa::path(get, path = "/accounts/{id}/roles", tag = "roles", params(("id" = i64, Path)),
    responses((status = 200, body = AccountRoles), (status = 404, description = "Not an admin of the caller's organisation")))]
pub async fn api_account_roles(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<AccountRoles>, AppError> {
    Ok(Json(super::account_roles(&state, &user, id).await?))
}

#[utoipa::path(put, path = "/accounts/{id}/roles", request_body = AssignInput, tag = "roles", params(("id" = i64, Path)),
    responses((status = 200, body = AccountRoles, description = "The admin now holds exactly these roles, in every server within a second"),
              (status = 404, description = "Not an admin of the caller's organisation"), (status = 409, description = "super_admin_roles: the super admin holds everything"),
              (status = 422, description = "roles names a role the organisation does not have")))]
pub async fn api_assign(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<AssignInput>,
) -> Result<Json<AccountRoles>, AppError> {
    super::assign(&state, &user, id, &input).await?;
    Ok(Json(super::account_roles(&state, &user, id).await?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_list, api_create))
        .routes(routes!(api_get, api_update, api_delete))
        .routes(routes!(api_permissions))
        .routes(routes!(api_account_roles, api_assign))
}
