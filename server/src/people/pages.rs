//! Registration and account pages for staff.

use super::registration::{StaffRegistration, register_staff};
use super::{ContactUpdate, ProfileUpdate, profile, update_contact, update_profile};
use crate::auth::CurrentUser;
use crate::auth::csrf::CsrfForm;
use crate::auth::throttle::limited;
use crate::error::AppError;
use crate::orgs::{self, SearchQuery};
use crate::state::AppState;
use crate::tenancy::form_options;
use crate::web::Page;
use axum::Router;
use axum::extract::State;

use crate::paging::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::*;
use crate::orgs::{OrgKind, OrgStatus};

pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/register", get(register_page).post(register_submit).layer(limited(state, "register")))
        .route("/account", get(account_page).post(account_submit))
        .route("/account/contact", post(contact_submit))
}

#[derive(Debug, Deserialize)]
pub struct RegisterQuery {
    unit_id: Option<i64>,
    q: Option<String>,
    region: Option<String>,
    #[serde(default = "crate::paging::first_page")]
    page: i64,
}

/// Step 1 searches for the unit (no JavaScript needed); step 2 is the form for the chosen unit.
async fn register_page(State(state): State<AppState>, page: Page, Query(query): Query<RegisterQuery>) -> Result<Response, AppError> {
    let code = page.tenant.code().to_owned();
    let unit = match query.unit_id {
        Some(id) => orgs::get(&state.db, &code, id).await?.filter(|o| o.kind == OrgKind::Unit && o.status == OrgStatus::Active),
        None => None,
    };
    match unit {
        Some(unit) => {
            render_form(&state, &page, &unit, &StaffRegistration { unit_id: Some(unit.id), ..Default::default() }, None, StatusCode::OK)
                .await
        }
        None => {
            let search = SearchQuery {
                kind: Some("unit".into()),
                q: query.q.clone(),
                region: query.region.clone(),
                page: query.page,
                ..Default::default()
            };
            let searched = query.q.is_some() || query.region.is_some();
            let (items, total) = orgs::search(&state.db, &code, &search).await?;
            let lists = form_options(&state.db, &code, &["region"]).await?;
            page.render(
                "register.html",
                json!({"step": "unit", "units": items, "searched": searched, "query": {"q": query.q, "region": query.region},
                       "pager": search.paging().pager(total), "lists": lists}),
            )
        }
    }
}

async fn render_form(
    state: &AppState,
    page: &Page,
    unit: &orgs::Org,
    form: &StaffRegistration,
    errors: Option<&AppError>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let code = page.tenant.code();
    let search = SearchQuery { kind: Some("department".into()), parent: Some(unit.id), per_page: Some(100), ..Default::default() };
    let (departments, _) = orgs::search(&state.db, code, &search).await?;
    let lists = form_options(&state.db, code, FORM_LISTS).await?;
    let mut form = serde_json::to_value(form).map_err(AppError::internal)?;
    form["password"] = Value::Null;
    page.render_status(
        status,
        "register.html",
        json!({"step": "form", "unit": unit, "departments": departments, "lists": lists, "form": form,
               "errors": errors.map(|e| &e.fields), "error": errors.map(|e| &e.message)}),
    )
}

async fn register_submit(
    State(state): State<AppState>,
    page: Page,
    CsrfForm(form): CsrfForm<StaffRegistration>,
) -> Result<Response, AppError> {
    match register_staff(&state, &page.tenant, &form).await {
        Ok(done) => page.render(
            "registered.html",
            json!({"status": done.status, "approver": done.approver, "kind": "staff", "resubmitted": done.resubmitted}),
        ),
        Err(err) if err.code == "invalid" => {
            let unit = match form.unit_id {
                Some(id) => {
                    orgs::get(&state.db, page.tenant.code(), id).await?.filter(|o| o.kind == OrgKind::Unit && o.status == OrgStatus::Active)
                }
                None => None,
            };
            match unit {
                Some(unit) => render_form(&state, &page, &unit, &form, Some(&err), StatusCode::UNPROCESSABLE_ENTITY).await,
                None => Ok(Redirect::to(&format!("{}/register", page.tenant.base)).into_response()),
            }
        }
        Err(err) => Err(err),
    }
}

async fn account_page(State(state): State<AppState>, page: Page) -> Result<Response, AppError> {
    let user = page.require_user()?;
    user.authorize(&state, "profile", "read").await?;
    render_account(&state, &page, user, None, None, StatusCode::OK).await
}

async fn render_account(
    state: &AppState,
    page: &Page,
    user: &CurrentUser,
    form: Option<&ProfileUpdate>,
    err: Option<&AppError>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let code = user.tenant_code();
    let person = match user.account.person_id {
        Some(id) => profile(&state.db, code, id).await?,
        None => None,
    };
    let departments = match &person {
        Some(p) => {
            let search =
                SearchQuery { kind: Some("department".into()), parent: Some(p.unit_id), per_page: Some(100), ..Default::default() };
            orgs::search(&state.db, code, &search).await?.0
        }
        None => Vec::new(),
    };
    let lists = form_options(&state.db, code, FORM_LISTS).await?;
    let masked = crate::ids::mask_id_number(&user.account.id_number);
    page.render_status(
        status,
        "account.html",
        json!({"account": crate::auth::AccountView::from(&user.account), "id_number": masked, "person": person,
               "form": form, "departments": departments, "lists": lists,
               "errors": err.map(|e| &e.fields), "saved": err.is_none() && form.is_some()}),
    )
}

async fn contact_submit(State(state): State<AppState>, page: Page, CsrfForm(form): CsrfForm<ContactUpdate>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match update_contact(&state, user, &form).await {
        Ok(()) => Ok(crate::web::done_redirect(&page.tenant.base, "/account", "saved", 1)),
        Err(err) if err.code == "invalid" => {
            let profile_form = ProfileUpdate { phone: form.phone.clone(), email: form.email.clone(), ..Default::default() };
            render_account(&state, &page, user, Some(&profile_form), Some(&err), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(err) => Err(err),
    }
}

async fn account_submit(State(state): State<AppState>, page: Page, CsrfForm(form): CsrfForm<ProfileUpdate>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match update_profile(&state, user, &form).await {
        Ok(()) => render_account(&state, &page, user, Some(&form), None, StatusCode::OK).await,
        Err(err) if err.code == "invalid" => {
            render_account(&state, &page, user, Some(&form), Some(&err), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(err) => Err(err),
    }
}
