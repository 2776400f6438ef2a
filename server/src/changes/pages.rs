//! The title change form and history on 个人中心 (`/account/changes`); reviewers decide in the approval
//! queue's `person_change` tab.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::NewChange;
use crate::auth::csrf::CsrfForm;
use crate::error::AppError;
use crate::paging::Paging;
use crate::state::AppState;
use crate::web::{Page, done_redirect};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account/changes", get(changes_page).post(file_submit))
        .route("/account/changes/{id}/withdraw", post(withdraw_submit))
}

/// The form's values as the API takes them: only the fields filled in.
#[derive(Debug, Default, Deserialize)]
struct ChangeForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    title_level: String,
    #[serde(default)]
    title_series: String,
    #[serde(default)]
    title_date: String,
}

impl ChangeForm {
    fn fields(&self) -> Map<String, Value> {
        [("title", &self.title), ("title_level", &self.title_level), ("title_series", &self.title_series), ("title_date", &self.title_date)]
            .into_iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| (k.to_owned(), Value::String(v.trim().to_owned())))
            .collect()
    }
}

async fn render(
    state: &AppState,
    page: &Page,
    form: Option<&ChangeForm>,
    err: Option<&AppError>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let tenant = user.tenant_code();
    let person_id = user.account.person_id.ok_or_else(AppError::forbidden)?;
    let person = crate::people::profile(&state.db, tenant, person_id).await?.ok_or_else(AppError::not_found)?;
    let (items, total) = super::mine(state, user, Paging::new(1, Some(50))).await?;
    let lists = crate::tenancy::form_options(&state.db, tenant, &["title_level", "title_series"]).await?;
    let values = |field: &str| {
        form.map(|f| {
            json!({"title": f.title, "title_level": f.title_level, "title_series": f.title_series, "title_date": f.title_date})[field]
                .clone()
        })
    };
    page.render_status(
        status,
        "changes.html",
        json!({"person": person, "items": items, "total": total, "lists": lists,
               "pending": items.iter().find(|c| c.status == "pending"),
               "form": {"title": values("title"), "title_level": values("title_level"), "title_series": values("title_series"), "title_date": values("title_date")},
               "errors": err.map(|e| &e.fields), "error": err.map(|e| &e.message)}),
    )
}

async fn changes_page(State(state): State<AppState>, page: Page) -> Result<Response, AppError> {
    render(&state, &page, None, None, StatusCode::OK).await
}

async fn file_submit(State(state): State<AppState>, page: Page, CsrfForm(form): CsrfForm<ChangeForm>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match super::file(&state, user, &NewChange { fields: form.fields() }).await {
        Ok(_) => Ok(done_redirect(&page.tenant.base, "/account/changes", "change_filed", 1)),
        Err(err) if err.fixable_on_page() => render(&state, &page, Some(&form), Some(&err), err.status).await,
        Err(err) => Err(err),
    }
}

async fn withdraw_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<std::collections::HashMap<String, String>>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    super::withdraw(&state, user, id).await?;
    Ok(done_redirect(&page.tenant.base, "/account/changes", "change_withdrawn", 1))
}
