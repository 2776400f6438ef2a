//! Transfer pages: 调转记录 (in and out, with filters), the 调出 form for one person, a transfer's page
//! with its route and trail, and withdrawing one. 调入审核 is the approval queue's `transfer` tab.

use axum::Router;
use axum::extract::{Path, State};

use crate::paging::Query;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{NewTransfer, TransferQuery};
use crate::auth::csrf::CsrfForm;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::{Page, done_redirect};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/transfers", get(list_page).post(start_submit))
        .route("/transfers/new", get(form_page))
        .route("/transfers/{id}", get(detail_page))
        .route("/transfers/{id}/withdraw", post(withdraw_submit))
}

async fn list_page(State(state): State<AppState>, page: Page, Query(query): Query<TransferQuery>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let (items, total) = super::list(&state, user, &query).await?;
    let kept = |value: &Option<String>| value.clone().unwrap_or_default();
    let href = crate::paging::query_href(
        &format!("{}/transfers", page.tenant.base),
        &[("direction", kept(&query.direction)), ("status", kept(&query.status)), ("q", kept(&query.q))],
    );
    let statuses: Vec<Value> = crate::codes::choices(super::TransferStatus::ALL.iter().copied());
    page.render(
        "transfers.html",
        json!({"items": items, "pager": query.paging().pager(total), "href": href, "statuses": statuses,
               "query": {"direction": query.direction, "status": query.status, "q": query.q},
               "may_start": user.can(&state, super::OBJECT, "start").await}),
    )
}

#[derive(Debug, Deserialize)]
struct FormQuery {
    person_id: i64,
}

async fn form_page(State(state): State<AppState>, page: Page, Query(query): Query<FormQuery>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let person = super::form_person(&state, user, query.person_id).await?;
    page.render("transfer_form.html", json!({"person": person, "form": {"effective_on": super::today().to_string()}}))
}

#[derive(Debug, Deserialize)]
struct StartForm {
    #[serde(default)]
    person_id: i64,
    #[serde(default)]
    to_unit: String,
    #[serde(default)]
    effective_on: String,
    #[serde(default)]
    reason: String,
}

async fn start_submit(State(state): State<AppState>, page: Page, CsrfForm(form): CsrfForm<StartForm>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let person = super::form_person(&state, user, form.person_id).await?;
    let started = match super::find_unit(&state, user.tenant_code(), &form.to_unit).await {
        Ok(to_unit_id) => {
            let input = NewTransfer {
                person_id: form.person_id,
                to_unit_id,
                reason: form.reason.clone(),
                effective_on: Some(form.effective_on.clone()),
            };
            super::start(&state, user, &input).await
        }
        Err(err) => Err(err),
    };
    match started {
        Ok((id, _)) => Ok(done_redirect(&page.tenant.base, &format!("/transfers/{id}"), "transfer_started", 1)),
        Err(err) if err.fixable_on_page() => page.render_status(
            err.status,
            "transfer_form.html",
            json!({"person": person, "error": err.message, "errors": err.fields,
                   "form": {"to_unit": form.to_unit, "effective_on": form.effective_on, "reason": form.reason}}),
        ),
        Err(err) => Err(err),
    }
}

async fn detail_page(State(state): State<AppState>, page: Page, Path(id): Path<i64>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let (transfer, sides) = super::get(&state, user, id).await?;
    let may_withdraw = sides.sending && transfer.status == super::TransferStatus::Pending && user.can(&state, super::OBJECT, "start").await;
    let mut data = json!(super::detail(&state, user.tenant_code(), transfer).await?);
    data["may_withdraw"] = json!(may_withdraw);
    page.render("transfer.html", data)
}

async fn withdraw_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<std::collections::HashMap<String, String>>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    super::withdraw(&state, user, id).await?;
    Ok(done_redirect(&page.tenant.base, &format!("/transfers/{id}"), "transfer_withdrawn", 1))
}
