//! Staff in the JSON API: registration and the profile.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::{ContactUpdate, ProfileUpdate, StaffRegistration, register_staff, update_contact, update_profile};
use crate::auth::CurrentUser;
use crate::auth::throttle::limited;
use crate::error::AppError;
use crate::state::AppState;
use crate::tenancy::TenantCtx;

#[utoipa::path(post, path = "/t/{tenant}/api/v1/registrations/staff", request_body = StaffRegistration, tag = "registrations",
    responses((status = 201, description = "Registered: status active or pending"), (status = 422, description = "Invalid fields, nothing stored")))]
pub async fn api_register(
    State(state): State<AppState>,
    tenant: TenantCtx,
    Json(input): Json<StaffRegistration>,
) -> Result<Response, AppError> {
    let done = register_staff(&state, &tenant, &input).await?;
    let body = json!({"status": done.status, "account_id": done.account_id, "approver": done.approver, "resubmitted": done.resubmitted});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/me/profile", tag = "people", responses((status = 200, description = "The caller's profile")))]
pub async fn api_profile(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Value>, AppError> {
    user.authorize(&state, "profile", "read").await?;
    let Some(person) = user.account.person_id else {
        return Err(AppError::not_found());
    };
    Ok(Json(super::profile_json(&state.db, user.tenant_code(), person).await?))
}

#[utoipa::path(patch, path = "/t/{tenant}/api/v1/me/profile", request_body = ProfileUpdate, tag = "people", responses((status = 200, description = "Saved; name, ID number and unit never change here"), (status = 422, description = "Invalid fields")))]
pub async fn api_update_profile(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(input): Json<ProfileUpdate>,
) -> Result<Json<Value>, AppError> {
    update_profile(&state, &user, &input).await?;
    let person = user.account.person_id.unwrap_or_default();
    Ok(Json(super::profile_json(&state.db, user.tenant_code(), person).await?))
}

#[utoipa::path(patch, path = "/t/{tenant}/api/v1/me/contact", request_body = ContactUpdate, tag = "people",
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

pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/registrations/staff", post(api_register).layer(limited(state, "register")))
        .route("/me/profile", get(api_profile).patch(api_update_profile))
        .route("/me/contact", axum::routing::patch(api_update_contact))
}
