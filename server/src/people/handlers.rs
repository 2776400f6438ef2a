//! Staff registration and "my account": API and page handlers.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ContactUpdate, ProfileUpdate, StaffRegistration, profile, register_staff, update_contact, update_profile};
use crate::auth::CurrentUser;
use crate::auth::csrf::CsrfForm;
use crate::auth::throttle::limited;
use crate::error::AppError;
use crate::orgs::{self, SearchQuery};
use crate::state::AppState;
use crate::tenancy::{TenantCtx, form_options};
use crate::web::Page;

pub const FORM_LISTS: &[&str] = &["education", "ethnicity", "title_level", "title_series", "post", "gender", "region"];

#[utoipa::path(post, path = "/t/{tenant}/api/v1/registrations/staff", request_body = StaffRegistration, tag = "registrations",
    responses((status = 201, description = "Registered: status active or pending"), (status = 422, description = "Invalid fields, nothing stored")))]
pub async fn api_register(
    State(state): State<AppState>,
    tenant: TenantCtx,
    Json(input): Json<StaffRegistration>,
) -> Result<Response, AppError> {
    let done = register_staff(&state, &tenant, &input).await?;
    let body = json!({"status": done.status, "account_id": done.account_id, "approver": done.approver, "resubmitted": done.resubmitted});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/me/profile", tag = "people", responses((status = 200, description = "The caller's profile")))]
pub async fn api_profile(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Value>, AppError> {
    user.authorize(&state, "profile", "read").await?;
    let Some(person) = user.account.person_id else {
        return Err(AppError::not_found());
    };
    Ok(Json(super::profile_json(&state.db, user.tenant_code(), person).await?))
}

#[utoipa::path(patch, path = "/t/{tenant}/api/v1/me/profile", request_body = ProfileUpdate, tag = "people", responses((status = 200, description = "Saved; name, ID number and unit never change here"), (status = 422, description = "Invalid fields")))]
pub async fn api_update_profile(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(input): Json<ProfileUpdate>,
) -> Result<Json<Value>, AppError> {
    update_profile(&state, &user, &input).await?;
    let person = user.account.person_id.unwrap_or_default();
    Ok(Json(super::profile_json(&state.db, user.tenant_code(), person).await?))
}

#[utoipa::path(patch, path = "/t/{tenant}/api/v1/me/contact", request_body = ContactUpdate, tag = "people",
    params(("tenant" = String, Path, description = "Tenant code")),
    responses((status = 204, description = "Saved"), (status = 400, description = "use_profile: staff change theirs with the profile"),
              (status = 422, description = "Invalid phone or e-mail")))]
pub async fn api_update_contact(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(input): Json<ContactUpdate>,
) -> Result<StatusCode, AppError> {
    update_contact(&state, &user, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn api_routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/registrations/staff", post(api_register).layer(limited(state, "register")))
        .route("/me/profile", get(api_profile).patch(api_update_profile))
        .route("/me/contact", axum::routing::patch(api_update_contact))
}

pub fn page_routes(state: &AppState) -> Router<AppState> {
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
        Some(id) => orgs::get(&state.db, &code, id).await?.filter(|o| o.kind == "unit" && o.status == "active"),
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
                Some(id) => orgs::get(&state.db, page.tenant.code(), id).await?.filter(|o| o.kind == "unit" && o.status == "active"),
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
        json!({"account": crate::auth::handlers::account_json(&user.account), "id_number": masked, "person": person,
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
