//! Login, logout, my account, password change and reset in the JSON API; the domain calls are in the
//! parent module.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::login::*;
use super::*;
use super::{CurrentUser, MaybeUser, session, throttle};
use crate::error::AppError;
use crate::state::{AppState, ClientIp};
use crate::tenancy::TenantCtx;
use crate::web::{self};

/// The answer to logging in.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct LoggedIn {
    pub account: AccountView,
}

/// The caller as `GET /api/v1/me` shows it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Me {
    /// The tenant's code
    pub tenant: String,
    pub account: AccountView,
    /// Staff's own profile; `null` for admins
    pub profile: Option<crate::people::Profile>,
}

/// The same answer to every reset request, so it tells nobody whether an account matched.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ResetRequested {
    pub message: &'static str,
}

/// `POST /api/v1/session`
#[utoipa::path(post, path = "/session", request_body = LoginInput, tag = "auth",
    responses((status = 200, body = LoggedIn, description = "Logged in; the session cookie is set"), (status = 401, description = "bad_credentials, captcha_required or bad_captcha"), (status = 403, description = "pending, rejected or disabled")))]
pub async fn api_login(
    State(state): State<AppState>,
    tenant: TenantCtx,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Json(input): Json<LoginInput>,
) -> Result<Response, AppError> {
    let (account, token) = login(&state, &tenant, &ip, &input).await?;
    let jar = jar.add(session::cookie(token, &tenant.base, state.config.secure_cookies));
    Ok((jar, Json(LoggedIn { account: AccountView::from(&account) })).into_response())
}

/// `DELETE /api/v1/session`
#[utoipa::path(delete, path = "/session", tag = "auth", responses((status = 204, description = "Logged out")))]
pub async fn api_logout(State(state): State<AppState>, tenant: TenantCtx, user: MaybeUser, jar: CookieJar) -> Result<Response, AppError> {
    if let Some(user) = user.0 {
        session::delete(&state.db, &user.session_id).await?;
    }
    Ok((jar.add(session::removal(&tenant.base)), StatusCode::NO_CONTENT).into_response())
}

/// `GET /api/v1/me`
#[utoipa::path(get, path = "/me", tag = "auth",
    responses((status = 200, body = Me, description = "The logged-in account and, for staff, the profile"), (status = 401, description = "Not logged in")))]
pub async fn api_me(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Me>, AppError> {
    let profile = match user.account.person_id {
        Some(id) => crate::people::masked_profile(&state.db, user.tenant_code(), id).await?,
        None => None,
    };
    Ok(Json(Me { tenant: user.tenant_code().to_owned(), account: AccountView::from(&user.account), profile }))
}

/// `POST /api/v1/me/password`
#[utoipa::path(post, path = "/me/password", request_body = PasswordChange, tag = "auth", responses((status = 204, description = "Changed; other sessions ended"), (status = 422, description = "Wrong old password or weak new one")))]
pub async fn api_change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(input): Json<PasswordChange>,
) -> Result<StatusCode, AppError> {
    change_password(&state, &user, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/password-resets`
#[utoipa::path(post, path = "/password-resets", request_body = ResetRequest, tag = "auth", responses((status = 202, body = ResetRequested, description = "A link is mailed if the ID number and e-mail match; the answer is the same either way"), (status = 429, description = "rate_limited")))]
pub async fn api_request_reset(
    State(state): State<AppState>,
    tenant: TenantCtx,
    headers: HeaderMap,
    Json(input): Json<ResetRequest>,
) -> Result<Response, AppError> {
    request_reset(&state, &tenant, &web::origin(&state, &headers), &input).await?;
    Ok((StatusCode::ACCEPTED, Json(ResetRequested { message: "如果信息匹配，重置链接已发送到您的邮箱" })).into_response())
}

/// `POST /api/v1/password-resets/confirm`
#[utoipa::path(post, path = "/password-resets/confirm", request_body = ResetConfirm, tag = "auth", responses((status = 204, description = "Password set"), (status = 400, description = "bad_token")))]
pub async fn api_confirm_reset(
    State(state): State<AppState>,
    tenant: TenantCtx,
    Json(input): Json<ResetConfirm>,
) -> Result<StatusCode, AppError> {
    confirm_reset(&state, &tenant, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The session, the caller and password resets in the JSON API.
pub fn routes(state: &AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_login, api_logout))
        .routes(routes!(api_me))
        .routes(routes!(api_change_password))
        .routes(routes!(api_request_reset).layer(throttle::limited(state, "reset")))
        .routes(routes!(api_confirm_reset))
}
