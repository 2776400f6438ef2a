//! Training plan pages: institutions file and edit plans, reviewers read them.

use crate::approvals::{self};
use crate::auth::CurrentUser;
use crate::auth::csrf::CsrfForm;
use crate::error::AppError;
use crate::hours;
use crate::rules::model::{RequestKind as RouteKind, Subject as RuleSubject};
use crate::state::AppState;
use crate::training::subjects::{self, is_kind};
use crate::web::{Page, done_redirect};
use axum::Router;
use axum::extract::{Path, State};

use crate::paging::Query;
use axum::response::Response;
use axum::routing::{self, post};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

use super::*;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/plans", routing::get(list_page))
        .route("/plans/delete", post(delete_submit))
        .route("/plans/new", routing::get(new_page).post(new_submit))
        .route("/plans/{id}", routing::get(detail_page))
        .route("/plans/{id}/edit", routing::get(edit_page).post(edit_submit))
        .route("/plans/{id}/delete", post(delete_one_submit))
}

fn codes(table: &[(&str, &str)]) -> Vec<Value> {
    table.iter().map(|(c, l)| json!({"code": c, "name": l})).collect()
}

async fn list_data(state: &AppState, user: &CurrentUser, query: &ListQuery) -> Result<Value, AppError> {
    let (items, total) = list(state, user, query).await?;
    let words = &user.tenant.tenant.settings.words;
    Ok(json!({
        "items": items.iter().map(|p| p.view(words)).collect::<Vec<_>>(),
        "statuses": crate::codes::choices(PlanStatus::listed()),
        "kinds": codes(&words.subjects()),
        "query": {"status": query.status, "year": query.year, "credit_year": query.credit_year, "subject_kind": query.subject_kind, "q": query.q},
        "pager": query.paging().pager(total),
    }))
}

async fn list_page(State(state): State<AppState>, page: Page, Query(query): Query<ListQuery>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    page.render("plans.html", list_data(&state, user, &query).await?)
}

#[derive(Debug, Deserialize)]
struct DeleteForm {
    #[serde(default)]
    ids: Vec<i64>,
}

async fn delete_with(state: &AppState, page: &Page, ids: &[i64]) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match delete(state, user, ids).await {
        Ok(n) => Ok(done_redirect(&page.tenant.base, "/plans", "deleted", n as i64)),
        Err(err) if err.fixable_on_page() => {
            let mut data = list_data(state, user, &ListQuery { page: 1, ..Default::default() }).await?;
            data["error"] = json!(err.fields.get("ids").cloned().unwrap_or(err.message));
            page.render_status(err.status, "plans.html", data)
        }
        Err(err) => Err(err),
    }
}

async fn delete_submit(State(state): State<AppState>, page: Page, CsrfForm(form): CsrfForm<DeleteForm>) -> Result<Response, AppError> {
    delete_with(&state, &page, &form.ids).await
}

#[derive(Deserialize)]
struct Empty {}

async fn delete_one_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    delete_with(&state, &page, &[id]).await
}

async fn detail_page(State(state): State<AppState>, page: Page, Path(id): Path<i64>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    page.render("plan.html", json!({"plan": detail(&state, user, id).await?}))
}

#[derive(Debug, Default, Deserialize)]
struct FormQuery {
    subject_kind: Option<String>,
    year: Option<i64>,
}

/// The plan form: kind and year pick the subjects offered (a reload), then the plan's fields. `values`
/// and `errors` refill it after a failed save.
async fn form_data(
    state: &AppState,
    user: &CurrentUser,
    values: &BTreeMap<String, String>,
    plan_id: Option<i64>,
) -> Result<Value, AppError> {
    let tenant = user.tenant_code();
    let institution = institution(state, user).await?;
    let this = hours::this_year();
    let words = &user.tenant.tenant.settings.words;
    let kind = values.get("subject_kind").filter(|k| is_kind(k)).cloned().unwrap_or_else(|| "public".to_owned());
    let year = values.get("year").and_then(|y| y.trim().parse().ok()).and_then(|y| year_ok(Some(y))).unwrap_or(this);
    let offered = subjects::offered(&state.db, tenant, &kind, year).await?;
    let asks_choice = kind == "professional"
        && approvals::route_asks_choice(state, tenant, year, &institution.level, RouteKind::TrainingPlan, RuleSubject::Professional).await;
    let mut values = values.clone();
    values.entry("credit_year".to_owned()).or_insert_with(|| year.to_string());
    Ok(json!({
        "plan_id": plan_id,
        "kind": kind,
        "kind_label": words.subject(&kind),
        "year": year,
        "kinds": codes(&words.subjects()),
        "years": ((this - 3)..=(this + 1)).rev().collect::<Vec<_>>(),
        "subjects": offered.iter().map(|s| json!({"id": s.id.to_string(), "name": s.name, "major": s.major, "owner_name": s.owner_name})).collect::<Vec<_>>(),
        "modes": codes(MODES),
        "choices": codes(CHOICES),
        "asks_choice": asks_choice,
        "values": values,
    }))
}

fn plan_values(plan: &Plan) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        values.insert(k.to_owned(), v);
    };
    put("name", plan.name.clone());
    put("subject_kind", plan.subject_kind.clone());
    put("subject_id", plan.subject_id.to_string());
    put("year", plan.year.to_string());
    put("credit_year", plan.credit_year.to_string());
    put("mode", plan.mode.clone());
    put("planned_count", plan.planned_count.to_string());
    put("hours", hours::format_hours(plan.hours));
    put("start_date", plan.start_date.clone());
    put("end_date", plan.end_date.clone());
    put("place", plan.place.clone().unwrap_or_default());
    put("remark", plan.remark.clone().unwrap_or_default());
    put("choice", plan.route_choice.clone().unwrap_or_default());
    values
}

fn query_values(query: &FormQuery, mut values: BTreeMap<String, String>) -> BTreeMap<String, String> {
    if let Some(kind) = &query.subject_kind {
        if values.get("subject_kind") != Some(kind) {
            values.remove("subject_id");
            values.remove("choice");
        }
        values.insert("subject_kind".to_owned(), kind.clone());
    }
    if let Some(year) = query.year {
        if values.get("year") != Some(&year.to_string()) {
            values.remove("subject_id");
            values.insert("credit_year".to_owned(), year.to_string());
        }
        values.insert("year".to_owned(), year.to_string());
    }
    values
}

async fn new_page(State(state): State<AppState>, page: Page, Query(query): Query<FormQuery>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let values = query_values(&query, BTreeMap::new());
    page.render("plan_form.html", form_data(&state, user, &values, None).await?)
}

/// The form's flat fields as the API body.
fn body_from_form(form: &BTreeMap<String, String>) -> PlanBody {
    let text = |k: &str| form.get(k).cloned().unwrap_or_default();
    let number = |k: &str| form.get(k).and_then(|v| v.trim().parse::<i64>().ok());
    PlanBody {
        name: text("name"),
        subject_kind: text("subject_kind"),
        subject_id: number("subject_id"),
        year: number("year"),
        credit_year: number("credit_year"),
        mode: text("mode"),
        planned_count: number("planned_count"),
        hours: Value::String(text("hours")),
        start_date: text("start_date"),
        end_date: text("end_date"),
        place: form.get("place").cloned(),
        remark: form.get("remark").cloned(),
        choice: form.get("choice").cloned(),
    }
}

async fn form_again(
    state: &AppState,
    page: &Page,
    form: &BTreeMap<String, String>,
    plan_id: Option<i64>,
    err: AppError,
) -> Result<Response, AppError> {
    if !err.fixable_on_page() {
        return Err(err);
    }
    let user = page.require_user()?;
    let mut values = form.clone();
    values.remove("csrf_token");
    let mut data = form_data(state, user, &values, plan_id).await?;
    data["error"] = json!(err.message);
    data["errors"] = json!(err.fields);
    page.render_status(err.status, "plan_form.html", data)
}

async fn new_submit(
    State(state): State<AppState>,
    page: Page,
    CsrfForm(form): CsrfForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match create(&state, user, &body_from_form(&form)).await {
        Ok(plan) => Ok(done_redirect(&page.tenant.base, &format!("/plans/{}", plan.id), "submitted", 1)),
        Err(err) => form_again(&state, &page, &form, None, err).await,
    }
}

async fn edit_page(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    Query(query): Query<FormQuery>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let (_, plan) = own(&state, user, id).await?;
    if !plan.editable() {
        return Err(not_editable());
    }
    let values = query_values(&query, plan_values(&plan));
    page.render("plan_form.html", form_data(&state, user, &values, Some(id)).await?)
}

async fn edit_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match update(&state, user, id, &body_from_form(&form)).await {
        Ok(_) => Ok(done_redirect(&page.tenant.base, &format!("/plans/{id}"), "submitted", 1)),
        Err(err) => form_again(&state, &page, &form, Some(id), err).await,
    }
}
