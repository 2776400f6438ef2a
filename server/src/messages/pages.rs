//! 站内消息 pages: the inbox (messages and notices), one message or notice (opening it marks it read),
//! and for admins who send notices the form and what their organisation sent.

use axum::Router;
use axum::extract::{Path, State};

use crate::paging::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::notices::{Audience, AudienceInput, NewNotice, NoticeQuery};
use super::{EntryKind, ListQuery};
use crate::auth::csrf::CsrfForm;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::{Page, done_redirect};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/messages", get(inbox_page))
        .route("/messages/read-all", post(read_all_submit))
        .route("/messages/{id}", get(message_page))
        .route("/messages/{id}/read", post(read_submit))
        .route("/notices", get(notices_page).post(send_submit))
        .route("/notices/{id}", get(notice_page))
        .route("/notices/{id}/withdraw", post(withdraw_submit))
}

async fn inbox_page(State(state): State<AppState>, page: Page, Query(query): Query<ListQuery>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let (items, total) = super::inbox::list(&state, user, &query).await?;
    let href = crate::paging::query_href(
        &format!("{}/messages", page.tenant.base),
        &[("unread", if query.unread { "1".to_owned() } else { String::new() }), ("kind", query.kind.clone().unwrap_or_default())],
    );
    let items: Vec<Value> = items
        .iter()
        .map(|e| {
            let mut excerpt: String = e.body.chars().take(60).collect();
            if e.body.chars().count() > 60 {
                excerpt.push('…');
            }
            let path = match e.kind {
                EntryKind::Message => "messages",
                EntryKind::Notice => "notices",
            };
            json!({"kind": e.kind, "kind_label": e.kind.label(), "id": e.id, "title": e.title, "excerpt": excerpt,
                   "sender_org_name": e.sender_org_name, "read_at": e.read_at, "created_at": e.created_at,
                   "href": format!("{}/{path}/{}", page.tenant.base, e.id)})
        })
        .collect();
    let kinds: Vec<Value> = EntryKind::ALL.iter().map(|k| json!({"code": k.as_str(), "name": k.label()})).collect();
    page.render(
        "messages.html",
        json!({"items": items, "pager": query.paging().pager(total), "href": href, "unread": query.unread, "kind": query.kind,
               "kinds": kinds, "sends": user.is_admin() && user.can(&state, super::notices::OBJECT, "send").await}),
    )
}

async fn read_all_submit(State(state): State<AppState>, page: Page, CsrfForm(_): CsrfForm<Value>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let marked = super::inbox::mark_all_read(&state, user).await?;
    Ok(done_redirect(&page.tenant.base, "/messages", "all_read", marked as i64))
}

/// One message; opening it marks it read.
async fn message_page(State(state): State<AppState>, page: Page, Path(id): Path<i64>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let entry = super::get(&state, user, id).await?;
    if entry.read_at.is_none() {
        super::mark_read(&state, user, id).await?;
    }
    page.render("message.html", json!({"entry": entry, "kind_label": entry.kind.label()}))
}

async fn read_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Value>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    super::mark_read(&state, user, id).await?;
    Ok(axum::response::Redirect::to(&format!("{}/messages", page.tenant.base)).into_response())
}

/// One notice: for a recipient (opening it marks it read) and for its sending organisation (with
/// whom it reached, how many read it, and withdrawal).
async fn notice_page(State(state): State<AppState>, page: Page, Path(id): Path<i64>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let (notice, sender) = super::notices::get(&state, user, id).await?;
    let entry = match super::notices::entry(&state, user, id).await {
        Ok(entry) => {
            if entry.read_at.is_none() {
                super::notices::mark_read(&state, user, id).await?;
            }
            Some(entry)
        }
        Err(err) if err.status == StatusCode::NOT_FOUND => None,
        Err(err) => return Err(err),
    };
    // The sender reads it below 发布通知, a recipient among the messages.
    let page = page.under(if sender { "/notices" } else { "/messages" });
    page.render(
        "message.html",
        json!({"entry": entry.as_ref().map_or_else(|| json!(notice), |e| json!(e)), "kind_label": EntryKind::Notice.label(),
                                       "published": notice, "sender": sender}),
    )
}

async fn render_notices(
    state: &AppState,
    page: &Page,
    query: &NoticeQuery,
    form: Option<&NoticeForm>,
    err: Option<&AppError>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let (items, total) = super::notices::sent(state, user, query).await?;
    let targets: Vec<Value> =
        super::notices::targets(state, user).await?.into_iter().map(|(id, name)| json!({"code": id.to_string(), "name": name})).collect();
    let audiences: Vec<Value> = Audience::ALL.iter().map(|a| json!({"code": a.as_str(), "name": a.label()})).collect();
    let href = crate::paging::query_href(&format!("{}/notices", page.tenant.base), &[("q", query.q.clone().unwrap_or_default())]);
    let errors = err.map_or(Value::Null, |e| {
        // The API's nested field names as the form's.
        let fields: serde_json::Map<String, Value> = e.fields.iter().map(|(k, v)| (k.replace("audience.", ""), json!(v))).collect();
        Value::Object(fields)
    });
    page.render_status(
        err.map_or(StatusCode::OK, |e| e.status),
        "notices.html",
        json!({"items": items, "pager": query.paging().pager(total), "href": href, "query": {"q": query.q},
               "targets": targets, "audiences": audiences, "form": form.map(|f| json!(f)),
               "errors": errors, "error": err.map(AppError::page_text)}),
    )
}

async fn notices_page(State(state): State<AppState>, page: Page, Query(query): Query<NoticeQuery>) -> Result<Response, AppError> {
    render_notices(&state, &page, &query, None, None).await
}

#[derive(Debug, Default, Deserialize, serde::Serialize)]
struct NoticeForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    who: String,
    #[serde(default)]
    org_id: String,
}

async fn send_submit(State(state): State<AppState>, page: Page, CsrfForm(form): CsrfForm<NoticeForm>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let org_id = match form.org_id.trim() {
        "" => None,
        text => Some(text.parse().map_err(|_| crate::error::field_error("audience.org_id", "所选单位无效"))?),
    };
    let input = NewNotice {
        title: form.title.clone(),
        body: form.body.clone(),
        audience: AudienceInput { who: Some(form.who.clone()).filter(|w| !w.is_empty()), org_id },
    };
    match super::notices::send(&state, user, &input).await {
        Ok(_) => Ok(done_redirect(&page.tenant.base, "/notices", "notice_sent", 1)),
        Err(err) if err.fixable_on_page() => render_notices(&state, &page, &NoticeQuery::default(), Some(&form), Some(&err)).await,
        Err(err) => Err(err),
    }
}

async fn withdraw_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Value>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    super::notices::withdraw(&state, user, id).await?;
    Ok(done_redirect(&page.tenant.base, &format!("/notices/{id}"), "notice_withdrawn", 1))
}
