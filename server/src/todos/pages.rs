//! To-do pages: a unit admin assigns training tasks, staff upload their proof.

use crate::auth::CurrentUser;
use crate::auth::csrf::{self, CsrfForm};
use crate::db::q;
use crate::error::AppError;
use crate::state::AppState;
use crate::storage;
use crate::web::{Page, done_redirect};
use axum::Router;
use axum::extract::{Multipart, Path, State};

use crate::paging::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::download;
use super::*;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/todos", get(list_page).post(create_submit))
        .route("/todos/{id}", get(detail_page))
        .route("/todos/{id}/proof", post(upload_submit))
        .route("/todos/{id}/review", post(review_submit))
        .route("/todos/{id}/items/{item}/proof", get(download))
}

async fn list_data(state: &AppState, user: &CurrentUser, query: &ListQuery) -> Result<Value, AppError> {
    let (items, total) = list(state, user, query).await?;
    let staff: Vec<Value> = if user.account.person_id.is_none() {
        let rows: Vec<(i64, String)> = state
            .db
            .all(
                q("SELECT id, name FROM people WHERE tenant_id = $1 AND unit_id = $2 ORDER BY name, id LIMIT 2000")
                    .bind(user.tenant_code())
                    .bind(user.account.org_id),
            )
            .await?;
        rows.into_iter().map(|(id, name)| json!({"id": id, "name": name})).collect()
    } else {
        Vec::new()
    };
    Ok(json!({
        "items": items, "staff": staff, "admin": user.account.person_id.is_none(),
        "statuses": crate::codes::choices(ItemStatus::ALL.iter().copied()),
        "kinds": KINDS.iter().map(|(c, l)| json!({"code": c, "name": l})).collect::<Vec<_>>(),
        "query": {"status": query.status, "q": query.q},
        "pager": query.paging().pager(total),
    }))
}

async fn list_page(State(state): State<AppState>, page: Page, Query(query): Query<ListQuery>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    page.render("todos.html", list_data(&state, user, &query).await?)
}

#[derive(Debug, Deserialize)]
struct TodoForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    due_on: Option<String>,
    #[serde(default)]
    person_ids: Vec<i64>,
}

async fn create_submit(State(state): State<AppState>, page: Page, CsrfForm(form): CsrfForm<TodoForm>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let input =
        NewTodo { kind: form.kind, title: form.title, description: form.description, due_on: form.due_on, person_ids: form.person_ids };
    match create(&state, user, &input).await {
        Ok(id) => Ok(done_redirect(&page.tenant.base, &format!("/todos/{id}"), "saved", 1)),
        Err(err) if err.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let mut data = list_data(&state, user, &ListQuery::default()).await?;
            data["error"] = json!(err.message);
            data["errors"] = json!(err.fields);
            data["form"] = json!({"kind": input.kind, "title": input.title, "description": input.description, "due_on": input.due_on, "person_ids": input.person_ids});
            page.render_status(err.status, "todos.html", data)
        }
        Err(err) => Err(err),
    }
}

async fn detail_page(State(state): State<AppState>, page: Page, Path(id): Path<i64>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    page.render("todo.html", json!(detail(&state, user, id).await?))
}

async fn upload_submit(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let result = match storage::upload::read_form_upload(multipart).await {
        Ok(file) => {
            csrf::verify(&headers, file.csrf.as_deref())?;
            upload(&state, user, id, &file.filename, file.bytes).await
        }
        Err(err) => Err(err),
    };
    page_result(&state, &page, id, result.map(|_| 1), "uploaded").await
}

#[derive(Debug, Deserialize)]
struct ReviewForm {
    #[serde(default)]
    item_ids: Vec<i64>,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: Option<String>,
}

async fn review_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ReviewForm>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let input = ReviewInput { item_ids: form.item_ids, decision: form.decision, reason: form.reason };
    let result = review(&state, user, id, &input).await;
    page_result(&state, &page, id, result, "decided").await
}

/// After an action on the to-do page: back to it with a notice, or the page again with the error.
async fn page_result(state: &AppState, page: &Page, id: i64, result: Result<usize, AppError>, done: &str) -> Result<Response, AppError> {
    match result {
        Ok(n) => Ok(done_redirect(&page.tenant.base, &format!("/todos/{id}"), done, n as i64)),
        Err(err) if err.fixable_on_page() => {
            let user = page.require_user()?;
            let mut data = json!(detail(state, user, id).await?);
            data["error"] = json!(err.message);
            data["errors"] = json!(err.fields);
            page.render_status(err.status, "todo.html", data)
        }
        Err(err) => Err(err),
    }
}
