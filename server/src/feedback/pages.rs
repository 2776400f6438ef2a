//! The 意见反馈 pages: the form and the caller's feedback (for handlers, what was sent to them), and one
//! feedback with its reply form.

use axum::Router;
use axum::extract::{Multipart, Path, State};

use crate::paging::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{FeedbackQuery, NewFeedback, Reply};
use crate::auth::csrf::CsrfForm;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::{Page, done_redirect};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/feedback", get(list_page).post(file_submit))
        .route("/feedback/{id}", get(detail_page).post(reply_submit))
        .route("/feedback/{id}/attachment", get(super::api::api_attachment))
}

async fn render(
    state: &AppState,
    page: &Page,
    query: &FeedbackQuery,
    form: Option<&NewFeedback>,
    err: Option<&AppError>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let (items, total) = super::list(state, user, query).await?;
    let kept = |value: &Option<String>| value.clone().unwrap_or_default();
    let href = crate::paging::query_href(
        &format!("{}/feedback", page.tenant.base),
        &[("status", kept(&query.status)), ("category", kept(&query.category)), ("q", kept(&query.q))],
    );
    let codes = |list: &[(&str, &str)]| list.iter().map(|(c, l)| json!({"code": c, "name": l})).collect::<Vec<_>>();
    page.render_status(
        err.map_or(StatusCode::OK, |e| e.status),
        "feedback.html",
        json!({"items": items, "pager": query.paging().pager(total), "href": href, "categories": codes(super::CATEGORIES),
               "statuses": crate::codes::choices(super::FeedbackStatus::ALL.iter().copied()), "handles": user.can(state, super::OBJECT, "handle").await && user.is_admin(),
               "query": {"status": query.status, "category": query.category, "q": query.q},
               "form": form.map(|f| json!({"category": f.category, "text": f.text})),
               "errors": err.map_or(Value::Null, |e| json!(e.fields)), "error": err.map(AppError::page_text)}),
    )
}

async fn list_page(State(state): State<AppState>, page: Page, Query(query): Query<FeedbackQuery>) -> Result<Response, AppError> {
    render(&state, &page, &query, None, None).await
}

async fn file_submit(State(state): State<AppState>, page: Page, headers: HeaderMap, multipart: Multipart) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let (input, attachment, csrf) = super::api::read_form(multipart).await?;
    crate::auth::csrf::verify(&headers, csrf.as_deref())?;
    match super::file(&state, user, &input, attachment).await {
        Ok(_) => Ok(done_redirect(&page.tenant.base, "/feedback", "feedback_filed", 1)),
        Err(err) if err.fixable_on_page() => render(&state, &page, &FeedbackQuery::default(), Some(&input), Some(&err)).await,
        Err(err) => Err(err),
    }
}

async fn detail(state: &AppState, page: &Page, id: i64, err: Option<&AppError>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let (feedback, answers) = super::get(state, user, id).await?;
    page.render_status(
        err.map_or(StatusCode::OK, |e| e.status),
        "feedback_item.html",
        json!({"feedback": feedback, "answers": answers, "error": err.map(AppError::page_text)}),
    )
}

async fn detail_page(State(state): State<AppState>, page: Page, Path(id): Path<i64>) -> Result<Response, AppError> {
    detail(&state, &page, id, None).await
}

#[derive(Debug, Deserialize)]
struct ReplyForm {
    #[serde(default)]
    text: String,
    #[serde(default)]
    close: Option<String>,
}

async fn reply_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ReplyForm>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match super::reply(&state, user, id, &Reply { text: form.text, close: form.close.is_some() }).await {
        Ok(()) => Ok(done_redirect(&page.tenant.base, &format!("/feedback/{id}"), "feedback_replied", 1)),
        Err(err) if err.fixable_on_page() => detail(&state, &page, id, Some(&err)).await,
        Err(err) => Err(err),
    }
}
