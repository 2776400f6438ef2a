//! The one error type of the web layer and the one place it becomes a response.
//!
//! Handlers return `Result<_, AppError>`. The response is JSON `{"code","message",…}`; page routes are
//! wrapped by [`crate::web::html_errors`], which renders the same error as a Chinese error page.

use std::collections::BTreeMap;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Serialize)]
pub struct AppError {
    #[serde(skip)]
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub extra: Option<Value>,
}

impl AppError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), fields: BTreeMap::new(), extra: None }
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "您访问的页面或数据不存在")
    }

    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "请先登录")
    }

    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "您没有权限执行此操作")
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// Input that fails validation: 422 with a message per field.
    pub fn invalid(fields: BTreeMap<String, String>) -> Self {
        let mut err = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "提交的信息有误，请检查标红的项目");
        err.fields = fields;
        err
    }

    pub fn with_extra(mut self, extra: Value) -> Self {
        self.extra = Some(extra);
        self
    }

    /// A mistake the user can fix on the page they came from (bad input, a conflict), as opposed to
    /// "not yours", "log in first" or a server fault, which get the error page.
    /// What a page says about the error: the field messages when there are any, else the message.
    pub fn page_text(&self) -> String {
        if self.fields.is_empty() { self.message.clone() } else { self.fields.values().cloned().collect::<Vec<_>>().join("；") }
    }

    pub fn fixable_on_page(&self) -> bool {
        self.status.is_client_error() && !matches!(self.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND | StatusCode::UNAUTHORIZED)
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "系统繁忙，请稍后再试")
    }
}

impl AppError {
    /// The error a bare status stands for: axum's extractor rejections (a query string that does not
    /// parse, a body of the wrong type), the router's 405 and the like, which come without a code.
    pub fn from_status(status: StatusCode) -> Self {
        let (code, message) = match status {
            StatusCode::NOT_FOUND => return Self::not_found(),
            StatusCode::BAD_REQUEST => ("bad_request", "请求参数有误，请检查地址或表单后重试"),
            StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "不支持对此地址的这种操作"),
            StatusCode::REQUEST_TIMEOUT => ("timeout", "请求超时，请稍后再试"),
            StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "提交的内容过大"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "请求内容的格式不受支持"),
            StatusCode::UNPROCESSABLE_ENTITY => ("unprocessable", "提交的内容无法识别，请检查后重试"),
            s if s.is_server_error() => ("internal", "系统繁忙，请稍后再试"),
            _ => ("bad_request", "请求无法处理，请检查后重试"),
        };
        Self::new(status, code, message)
    }
}

/// Middleware: an error response that did not come from an [`AppError`] (an extractor's rejection, the
/// router's 405) becomes one, with a code and a Chinese message; the rejection's own English text stays
/// in `detail` for API clients. So every error reaches the page layer as an `AppError` and is shown as
/// the tenant's error page, and the JSON API never answers plain text.
pub async fn uniform_errors(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let plain =
        response.headers().get(axum::http::header::CONTENT_TYPE).is_none_or(|t| t.to_str().is_ok_and(|t| t.starts_with("text/plain")));
    if !(status.is_client_error() || status.is_server_error()) || !plain || response.extensions().get::<AppError>().is_some() {
        return response;
    }
    let detail = axum::body::to_bytes(response.into_body(), 4096).await.ok().map(|b| String::from_utf8_lossy(&b).trim().to_owned());
    let err = AppError::from_status(status);
    match detail.filter(|d| !d.is_empty()) {
        Some(detail) => err.with_extra(serde_json::json!({"detail": detail})),
        None => err,
    }
    .into_response()
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

/// A database error is a server fault, except the constraint violations a request can cause: a
/// duplicate of a unique key (409 `duplicate`) and a reference to a row that does not exist
/// (422 `invalid_reference`). SQLite and PostgreSQL report both through sqlx's error kind. Call sites
/// that know which field was duplicated say so with [`ResultExt::on_duplicate`].
impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err {
            match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => {
                    tracing::info!(error = %db, "refused a duplicate");
                    return Self::conflict("duplicate", "该记录已存在，请勿重复提交");
                }
                sqlx::error::ErrorKind::ForeignKeyViolation => {
                    tracing::info!(error = %db, "refused a reference to a missing row");
                    return Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_reference", "所选的关联数据不存在，请刷新后重试");
                }
                _ => {}
            }
            // PostgreSQL cannot store or compare text holding a NUL character (SQLite can): such input
            // is the caller's, not a server fault.
            if matches!(db.code().as_deref(), Some("22021" | "22P05")) {
                tracing::info!(error = %db, "refused text the database cannot hold");
                return Self::bad_request("bad_text", "提交的内容含有无法识别的字符，请删除后重试");
            }
        }
        Self::internal(err)
    }
}

/// Query results whose constraint violations mean something to the caller.
pub trait ResultExt<T> {
    /// A unique-key violation becomes `err()` (which field was taken, in the caller's words); any
    /// other error converts as usual.
    fn on_duplicate(self, err: impl FnOnce() -> AppError) -> Result<T, AppError>;
}

impl<T> ResultExt<T> for Result<T, sqlx::Error> {
    fn on_duplicate(self, err: impl FnOnce() -> AppError) -> Result<T, AppError> {
        self.map_err(|e| if crate::db::is_unique_violation(&e) { err() } else { e.into() })
    }
}

/// `FieldErrors` with one message, as the 422 error (a duplicate that names its field).
pub fn field_error(field: &str, message: impl Into<String>) -> AppError {
    let mut errors = FieldErrors::default();
    errors.add(field, message);
    AppError::invalid(errors.0)
}

impl From<anyhow::Error> for AppError {
    fn from(err: anyhow::Error) -> Self {
        match err.downcast::<AppError>() {
            Ok(app) => app,
            Err(err) => Self::internal(format!("{err:#}")),
        }
    }
}

impl std::error::Error for AppError {}

/// A rules failure fails the request that needed it, with its machine code; the server stays up.
impl From<crate::rules::RulesError> for AppError {
    fn from(err: crate::rules::RulesError) -> Self {
        use crate::rules::RulesError;
        let status = match &err {
            RulesError::InvalidInput(_) => StatusCode::UNPROCESSABLE_ENTITY,
            RulesError::InputTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            RulesError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            e if e.is_plugin_failure() => StatusCode::BAD_GATEWAY,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            tracing::error!(error = %err, code = err.code(), "rules call failed");
        }
        // A person is told the rules are unavailable; the plugin's file, hash and trap are for the log.
        let message = if status == StatusCode::SERVICE_UNAVAILABLE || !status.is_server_error() {
            err.to_string()
        } else {
            "学时规则暂时无法计算，请稍后再试；如持续出现请联系平台运维人员".to_owned()
        };
        let mut app = AppError::new(status, err.code(), message);
        if let RulesError::InvalidInput(fields) = err {
            app.fields = fields;
        }
        app
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status;
        let mut response = (status, Json(&self)).into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// Collects per-field validation messages.
#[derive(Default, Debug)]
pub struct FieldErrors(pub BTreeMap<String, String>);

impl FieldErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.entry(field.to_owned()).or_insert_with(|| message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when nothing was added, otherwise the 422 error.
    pub fn finish(self) -> Result<(), AppError> {
        if self.0.is_empty() { Ok(()) } else { Err(AppError::invalid(self.0)) }
    }
}
