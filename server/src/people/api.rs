//! Staff in the JSON API: registration and the profile.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::registration::{StaffRegistration, register_staff};
use super::{ContactUpdate, Profile, ProfileUpdate, update_contact, update_profile};
use crate::auth::CurrentUser;
use crate::auth::throttle::limited;
use crate::error::AppError;
use crate::orgs::registration::Registered;
use crate::state::AppState;
use crate::tenancy::TenantCtx;

#[utoipa::path(post, path = "/registrations/staff", request_body = StaffRegistration, tag = "registrations",
    responses((status = 201, body = Registered, description = "Registered: status active or pending"), (status = 422, description = "Invalid fields, nothing stored")))]
pub async fn api_register(
    State(state): State<AppState>,
    tenant: TenantCtx,
    Json(input): Json<StaffRegistration>,
) -> Result<Response, AppError> {
    let done = register_staff(&state, &tenant, &input).await?;
    Ok((StatusCode::CREATED, Json(done)).into_response())
}

#[utoipa::path(get, path = "/me/profile", tag = "people",
    responses((status = 200, body = Profile, description = "The caller's profile"), (status = 404, description = "The caller is not staff")))]
pub async fn api_profile(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Profile>, AppError> {
    user.authorize(&state, "profile", "read").await?;
    let Some(person) = user.account.person_id else {
        return Err(AppError::not_found());
    };
    own_profile(&state, &user, person).await
}

#[utoipa::path(patch, path = "/me/profile", request_body = ProfileUpdate, tag = "people",
    responses((status = 200, body = Profile, description = "Saved; name, ID number and unit never change here"), (status = 403, description = "no_profile: an admin account has no profile"), (status = 422, description = "Invalid fields")))]
pub async fn api_update_profile(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(input): Json<ProfileUpdate>,
) -> Result<Json<Profile>, AppError> {
    update_profile(&state, &user, &input).await?;
    let person = user.account.person_id.unwrap_or_default();
    own_profile(&state, &user, person).await
}

/// The caller's profile as the API answers it; an account whose person is gone has none (404).
async fn own_profile(state: &AppState, user: &CurrentUser, person: i64) -> Result<Json<Profile>, AppError> {
    let profile = super::masked_profile(&state.db, user.tenant_code(), person).await?;
    profile.map(Json).ok_or_else(AppError::not_found)
}

#[utoipa::path(patch, path = "/me/contact", request_body = ContactUpdate, tag = "people",
    responses((status = 204, description = "Saved"), (status = 400, description = "use_profile: staff change theirs with the profile"),
              (status = 422, description = "Invalid phone or e-mail")))]
pub async fn api_update_contact(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(input): Json<ContactUpdate>,
) -> Result<StatusCode, AppError> {
    update_contact(&state, &user, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes(state: &AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_register).layer(limited(state, "register")))
        .routes(routes!(api_profile, api_update_profile))
        .routes(routes!(api_update_contact))
}
