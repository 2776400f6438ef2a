//! CSRF protection for HTML forms: a token in an HttpOnly SameSite=Strict cookie that every form must
//! echo in its `csrf_token` field (double submit), and that is bound to the browser's session: the token
//! is `nonce.mac` with `mac = SHA-256(nonce, session cookie)`. An invented cookie/field pair fails, and so
//! does a token planted in a victim's browser, since nobody but the browser knows its session cookie. A
//! new session (login) gets a new token on its next page. JSON API calls are protected instead by
//! requiring `Content-Type: application/json` and refusing foreign `Origin`s (see `api::guard`).

use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::de::DeserializeOwned;

use super::password::new_token;
use super::session::{self, cookie_value};
use crate::error::AppError;
use crate::state::AppState;
use crate::tenancy::TenantCtx;

pub const COOKIE: &str = "jijiao_csrf";
pub const FIELD: &str = "csrf_token";

/// The token for forms on the page being rendered.
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<CsrfToken>().cloned().ok_or_else(|| AppError::internal("csrf middleware missing"))
    }
}

/// Makes sure the browser has a token bound to its current session; new tokens are set on the response,
/// marked like the session cookie (`Secure` with `secure_cookies`).
pub async fn ensure_cookie(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let session = session::token_from(request.headers());
    let existing = cookie_value(request.headers(), COOKIE).filter(|t| bound_to(t, session.as_deref()));
    let fresh = existing.is_none();
    let token = existing.unwrap_or_else(|| new_bound_token(session.as_deref()));
    request.extensions_mut().insert(CsrfToken(token.clone()));
    let base = request.extensions().get::<TenantCtx>().map(|t| t.base.clone()).unwrap_or_default();
    let mut response = next.run(request).await;
    if fresh {
        let cookie = Cookie::build((COOKIE, token))
            .path(if base.is_empty() { "/".to_owned() } else { base })
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(state.config.secure_cookies)
            .build();
        if let Ok(value) = cookie.to_string().parse() {
            response.headers_mut().append(axum::http::header::SET_COOKIE, value);
        }
    }
    response
}

/// A fresh token for the browser holding `session` (its session cookie, if any).
fn new_bound_token(session: Option<&str>) -> String {
    let nonce = new_token().0;
    let mac = mac(&nonce, session);
    format!("{nonce}.{mac}")
}

fn mac(nonce: &str, session: Option<&str>) -> String {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    hasher.update(b"jijiao-csrf\0");
    hasher.update(nonce.as_bytes());
    hasher.update(b"\0");
    hasher.update(session.unwrap_or_default().as_bytes());
    hex::encode(hasher.finalize())
}

/// Whether `token` was made for the browser holding `session`.
fn bound_to(token: &str, session: Option<&str>) -> bool {
    token
        .split_once('.')
        .is_some_and(|(nonce, sent)| nonce.len() >= 32 && constant_time_eq(sent.as_bytes(), mac(nonce, session).as_bytes()))
}

/// A URL-encoded form whose `csrf_token` field must match the cookie; otherwise 403.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let headers = request.headers().clone();
        let bytes =
            axum::body::Bytes::from_request(request, state).await.map_err(|_| AppError::bad_request("bad_form", "表单内容无法读取"))?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        let sent = pairs.iter().find(|(k, _)| k == FIELD).map(|(_, v)| v.as_str());
        verify(&headers, sent)?;
        let value = serde_html_form::from_bytes(&bytes).map_err(|e| AppError::bad_request("bad_form", format!("表单内容有误：{e}")))?;
        Ok(CsrfForm(value))
    }
}

/// Checks a submitted token: it must equal the browser's cookie and be bound to its session cookie.
pub fn verify(headers: &HeaderMap, sent: Option<&str>) -> Result<(), AppError> {
    let cookie = cookie_value(headers, COOKIE);
    let session = session::token_from(headers);
    match (cookie.as_deref(), sent) {
        (Some(c), Some(s)) if constant_time_eq(c.as_bytes(), s.as_bytes()) && bound_to(s, session.as_deref()) => Ok(()),
        _ => Err(AppError::new(axum::http::StatusCode::FORBIDDEN, "csrf", "页面已过期或请求来源无效，请刷新页面后重试")),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
