//! The JSON API's shell under `/t/<code>/api/v1` (or a tenant host's `/api/v1`): the layers every API
//! route gets. The routes themselves are the domains'; `app::routes` merges them and lists them in the
//! OpenAPI document.

use axum::Router;
use axum::extract::Request;
use axum::http::{Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::state::AppState;

/// The answer to creating a record whose only news is its id.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Created {
    pub id: i64,
}

/// One page of a list, as every paged list answers (`GET …?page=&per_page=`).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    /// Rows matching the filters, on every page
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

impl<T> Paged<T> {
    pub fn new(items: Vec<T>, total: i64, paging: crate::paging::Paging) -> Self {
        Paged { items, total, page: paging.page, per_page: paging.per_page }
    }
}

/// The domains' API routes behind the API's fallback (a JSON 404), uniform errors and the origin guard.
pub fn shell(routes: Router<AppState>) -> Router<AppState> {
    routes
        .fallback(|| async { AppError::not_found() })
        .layer(middleware::from_fn(crate::error::uniform_errors))
        .layer(middleware::from_fn(guard))
}

/// CSRF wall for the API: a state-changing call from a browser page of another origin is refused.
/// (Cross-site forms cannot send `application/json`, which the JSON endpoints require; multipart
/// endpoints rely on this origin check.)
async fn guard(request: Request, next: Next) -> Response {
    if !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        let origin = request.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok());
        let host = request.headers().get(header::HOST).and_then(|v| v.to_str().ok());
        if let Some(origin) = origin {
            let origin_host = origin.split("://").nth(1).unwrap_or("");
            if Some(origin_host) != host {
                return AppError::new(axum::http::StatusCode::FORBIDDEN, "foreign_origin", "不接受来自其他网站的请求").into_response();
            }
        }
    }
    next.run(request).await
}
