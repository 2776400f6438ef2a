//! CSRF protection for HTML forms: a random token in an HttpOnly SameSite=Strict cookie that every
//! form must echo in its `csrf_token` field (double submit). JSON API calls are protected instead by
//! requiring `Content-Type: application/json` and refusing foreign `Origin`s (see `api::guard`).

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::de::DeserializeOwned;

use super::password::new_token;
use super::session::cookie_value;
use crate::app::AppState;
use crate::error::AppError;
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

/// Makes sure the browser has a token cookie; new tokens are set on the response.
pub async fn ensure_cookie(mut request: Request, next: Next) -> Response {
    let existing = cookie_value(request.headers(), COOKIE).filter(|t| t.len() >= 32);
    let fresh = existing.is_none();
    let token = existing.unwrap_or_else(|| new_token().0);
    request.extensions_mut().insert(CsrfToken(token.clone()));
    let base = request.extensions().get::<TenantCtx>().map(|t| t.base.clone()).unwrap_or_default();
    let mut response = next.run(request).await;
    if fresh {
        let cookie = Cookie::build((COOKIE, token))
            .path(if base.is_empty() { "/".to_owned() } else { base })
            .http_only(true)
            .same_site(SameSite::Strict)
            .build();
        if let Ok(value) = cookie.to_string().parse() {
            response.headers_mut().append(axum::http::header::SET_COOKIE, value);
        }
    }
    response
}

/// A URL-encoded form whose `csrf_token` field must match the cookie; otherwise 403.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let cookie = cookie_value(request.headers(), COOKIE);
        let bytes =
            axum::body::Bytes::from_request(request, state).await.map_err(|_| AppError::bad_request("bad_form", "表单内容无法读取"))?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        let sent = pairs.iter().find(|(k, _)| k == FIELD).map(|(_, v)| v.as_str());
        verify(cookie.as_deref(), sent)?;
        let value = serde_html_form::from_bytes(&bytes).map_err(|e| AppError::bad_request("bad_form", format!("表单内容有误：{e}")))?;
        Ok(CsrfForm(value))
    }
}

/// Compares the cookie token with the submitted one.
pub fn verify(cookie: Option<&str>, sent: Option<&str>) -> Result<(), AppError> {
    match (cookie, sent) {
        (Some(c), Some(s)) if !c.is_empty() && constant_time_eq(c.as_bytes(), s.as_bytes()) => Ok(()),
        _ => Err(AppError::new(axum::http::StatusCode::FORBIDDEN, "csrf", "页面已过期或请求来源无效，请刷新页面后重试")),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
