//! The subject catalogue page.

use crate::auth::CurrentUser;
use crate::auth::csrf::CsrfForm;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::{Page, done_redirect};
use axum::Router;
use axum::extract::{Path, State};

use crate::paging::Query;
use axum::response::Response;
use axum::routing::{self, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::*;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/subjects", routing::get(list_page).post(create_submit))
        .route("/subjects/status", post(status_submit))
        .route("/subjects/{id}/edit", routing::get(edit_page).post(edit_submit))
}

/// The page's data: the keeper's catalogue with filters, and the new/edit form.
async fn page_data(state: &AppState, user: &CurrentUser, query: &ListQuery) -> Result<Value, AppError> {
    let keeper = keeper(state, user).await?;
    let (items, total) = list(state, user, query).await?;
    let this = crate::hours::this_year();
    let settings = &user.tenant.tenant.settings;
    Ok(json!({
        "items": items.iter().map(|s| {
            let mut v = json!(s.view(settings));
            v["own"] = json!(s.owner_org_id == keeper.owner_org_id && s.kind == keeper.kind);
            v
        }).collect::<Vec<_>>(),
        "keeper_kind": keeper.kind,
        "keeper_label": settings.subject_name(keeper.kind),
        "kinds": settings.subjects().iter().map(|(c, l)| json!({"code": c, "name": l})).collect::<Vec<_>>(),
        "years": ((this - 5)..=(this + 1)).rev().collect::<Vec<_>>(),
        "query": {"kind": query.kind, "year": query.year, "major": query.major, "q": query.q, "enabled": query.enabled, "mine": query.mine},
        "values": {"year": this, "enabled": true},
        "pager": query.paging().pager(total),
    }))
}

fn default_query() -> ListQuery {
    ListQuery { mine: Some("1".into()), page: 1, ..Default::default() }
}

async fn list_page(State(state): State<AppState>, page: Page, Query(mut query): Query<ListQuery>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    // Keepers land on their own catalogue; `mine=0` lists the tenant's.
    if query.mine.is_none() {
        query.mine = Some("1".into());
    }
    page.render("subjects.html", page_data(&state, user, &query).await?)
}

/// The form's flat fields.
#[derive(Debug, Default, Deserialize)]
struct SubjectForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    major: String,
    #[serde(default)]
    suggestion: String,
    #[serde(default)]
    enabled: Option<String>,
}

impl SubjectForm {
    fn body(&self) -> SubjectBody {
        SubjectBody {
            name: self.name.clone(),
            year: self.year.trim().parse().ok(),
            kind: None,
            major: Some(self.major.clone()),
            suggestion: Some(self.suggestion.clone()),
            enabled: Some(self.enabled.is_some()),
        }
    }

    fn values(&self) -> Value {
        json!({"name": self.name, "year": self.year, "major": self.major, "suggestion": self.suggestion, "enabled": self.enabled.is_some()})
    }
}

async fn create_submit(State(state): State<AppState>, page: Page, CsrfForm(form): CsrfForm<SubjectForm>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match create(&state, user, &form.body()).await {
        Ok(_) => Ok(done_redirect(&page.tenant.base, "/subjects", "saved", 1)),
        Err(err) if err.fixable_on_page() => {
            let mut data = page_data(&state, user, &default_query()).await?;
            data["values"] = form.values();
            data["error"] = json!(err.message);
            data["errors"] = json!(err.fields);
            page.render_status(err.status, "subjects.html", data)
        }
        Err(err) => Err(err),
    }
}

async fn edit_data(state: &AppState, user: &CurrentUser, id: i64, values: Option<Value>) -> Result<Value, AppError> {
    let (_, subject) = own(state, user, id).await?;
    let mut data = page_data(state, user, &default_query()).await?;
    let view = json!(subject.view(&user.tenant.tenant.settings));
    data["values"] = values.unwrap_or_else(|| view.clone());
    data["editing"] = view;
    Ok(data)
}

async fn edit_page(State(state): State<AppState>, page: Page, Path(id): Path<i64>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    page.render("subjects.html", edit_data(&state, user, id, None).await?)
}

async fn edit_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<SubjectForm>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match update(&state, user, id, &form.body()).await {
        Ok(_) => Ok(done_redirect(&page.tenant.base, "/subjects", "saved", 1)),
        Err(err) if err.fixable_on_page() => {
            let mut data = edit_data(&state, user, id, Some(form.values())).await?;
            data["error"] = json!(err.message);
            data["errors"] = json!(err.fields);
            page.render_status(err.status, "subjects.html", data)
        }
        Err(err) => Err(err),
    }
}

#[derive(Debug, Deserialize)]
struct StatusForm {
    #[serde(default)]
    ids: Vec<i64>,
    #[serde(default)]
    enabled: String,
}

async fn status_submit(State(state): State<AppState>, page: Page, CsrfForm(form): CsrfForm<StatusForm>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let enabled = form.enabled == "1";
    match set_enabled(&state, user, &form.ids, enabled).await {
        Ok(n) => {
            Ok(done_redirect(&page.tenant.base, "/subjects", if enabled { "subjects_enabled" } else { "subjects_disabled" }, n as i64))
        }
        Err(err) if err.fixable_on_page() => {
            let mut data = page_data(&state, user, &default_query()).await?;
            data["error"] = json!(err.fields.get("ids").cloned().unwrap_or(err.message));
            page.render_status(err.status, "subjects.html", data)
        }
        Err(err) => Err(err),
    }
}
