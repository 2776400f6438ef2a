//! The account pages: login, logout, password change and reset.

use super::csrf::CsrfForm;
use super::{session, throttle};
use crate::error::AppError;
use crate::state::{AppState, ClientIp};
use crate::web::{self, Page};
use axum::Router;
use axum::extract::State;

use crate::paging::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use serde_json::json;

use super::login::*;

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    user_type: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    password: String,
    captcha_id: Option<String>,
    captcha_answer: Option<String>,
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
    user_type: Option<String>,
}

pub async fn login_page(page: Page, Query(query): Query<NextQuery>) -> Result<Response, AppError> {
    page.render(
        "login.html",
        json!({"user_types": user_types_json(), "form": {"user_type": query.user_type.unwrap_or_else(|| "staff".into())}, "next": query.next}),
    )
}

fn user_types_json() -> Vec<serde_json::Value> {
    super::USER_TYPES.iter().map(|(code, _, label)| json!({"code": code, "label": label})).collect()
}

/// Where to go after login: `next` only when it is a plain path inside this tenant's portal (no scheme,
/// host, `//`, backslash, control or non-ASCII characters, which browsers may resolve to another site or
/// which cannot go into a `Location` header); otherwise the account page.
fn safe_next(base: &str, next: Option<&str>) -> String {
    let inside = |n: &str| {
        let rest = if base.is_empty() { Some(n) } else { n.strip_prefix(base).filter(|r| r.is_empty() || r.starts_with(['/', '?'])) };
        rest.is_some_and(|r| !r.starts_with("//"))
    };
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && inside(n)
                && n.bytes().all(|b| b.is_ascii_graphic())
                && !n.contains('\\')
                && n.parse::<axum::http::Uri>().is_ok_and(|u| u.scheme().is_none() && u.authority().is_none()) =>
        {
            n.to_owned()
        }
        _ => format!("{base}/account"),
    }
}

pub async fn login_submit(
    State(state): State<AppState>,
    page: Page,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<Response, AppError> {
    let input = LoginInput {
        user_type: form.user_type.clone(),
        id_number: form.id_number.clone(),
        password: form.password.clone(),
        captcha_id: form.captcha_id.filter(|s| !s.is_empty()),
        captcha_answer: form.captcha_answer.filter(|s| !s.is_empty()),
    };
    match login(&state, &page.tenant, &ip, &input).await {
        Ok((account, token)) => {
            let jar = jar.add(session::cookie(token, &page.tenant.base, state.config.secure_cookies));
            let target = if account.must_change_password {
                format!("{}/account/password", page.tenant.base)
            } else {
                safe_next(&page.tenant.base, form.next.as_deref())
            };
            Ok((jar, Redirect::to(&target)).into_response())
        }
        Err(err) if err.status.is_client_error() => {
            let captcha = err.extra.as_ref().and_then(|e| e.get("captcha")).cloned();
            let mut response = page.render(
                "login.html",
                json!({
                    "user_types": user_types_json(),
                    "form": {"user_type": form.user_type, "id_number": form.id_number},
                    "error": err.message,
                    "rejected": err.code == "rejected",
                    "captcha": captcha,
                    "next": form.next,
                }),
            )?;
            *response.status_mut() = err.status;
            Ok(response)
        }
        Err(err) => Err(err),
    }
}

pub async fn logout_submit(
    State(state): State<AppState>,
    page: Page,
    jar: CookieJar,
    CsrfForm(_): CsrfForm<serde_json::Value>,
) -> Result<Response, AppError> {
    if let Some(user) = &page.user {
        session::delete(&state.db, &user.session_id).await?;
    }
    Ok((jar.add(session::removal(&page.tenant.base)), Redirect::to(&format!("{}/", page.tenant.base))).into_response())
}

pub async fn password_page(page: Page) -> Result<Response, AppError> {
    page.require_user()?;
    page.render("password.html", json!({}))
}

pub async fn password_submit(
    State(state): State<AppState>,
    page: Page,
    CsrfForm(form): CsrfForm<PasswordChange>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match change_password(&state, user, &form).await {
        Ok(()) => page.render("password.html", json!({"done": true})),
        Err(err) if err.code == "invalid" => {
            page.render_status(StatusCode::UNPROCESSABLE_ENTITY, "password.html", json!({"errors": err.fields}))
        }
        Err(err) => Err(err),
    }
}

pub async fn forgot_page(page: Page) -> Result<Response, AppError> {
    page.render("forgot.html", json!({"user_types": user_types_json()}))
}

pub async fn forgot_submit(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<ResetRequest>,
) -> Result<Response, AppError> {
    request_reset(&state, &page.tenant, &web::origin(&state, &headers), &form).await?;
    page.render("forgot.html", json!({"user_types": user_types_json(), "sent": true}))
}

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

pub async fn reset_page(page: Page, Query(query): Query<TokenQuery>) -> Result<Response, AppError> {
    page.render("reset.html", json!({"token": query.token}))
}

pub async fn reset_submit(State(state): State<AppState>, page: Page, CsrfForm(form): CsrfForm<ResetConfirm>) -> Result<Response, AppError> {
    match confirm_reset(&state, &page.tenant, &form).await {
        Ok(()) => page.render("reset.html", json!({"done": true})),
        Err(err) if err.status.is_client_error() => {
            page.render_status(err.status, "reset.html", json!({"token": form.token, "error": err.message, "errors": err.fields}))
        }
        Err(err) => Err(err),
    }
}

/// The account pages: login, logout, password reset and change.
pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout_submit))
        .route("/forgot", get(forgot_page).post(forgot_submit).layer(throttle::limited(state, "reset")))
        .route("/reset", get(reset_page).post(reset_submit))
        .route("/account/password", get(password_page).post(password_submit))
}
