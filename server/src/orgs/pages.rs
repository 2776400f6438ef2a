//! Organisation pages: browsing the tree with departments, registering an organisation.

use super::registration::{OrgRegistration, read_multipart, register_org};
use super::{SearchQuery, search};
use crate::auth::csrf::{CsrfForm, verify};
use crate::auth::throttle::limited;
use crate::error::AppError;
use crate::state::AppState;
use crate::tenancy::form_options;
use crate::web::Page;
use axum::Router;
use axum::extract::{Multipart, Path, State};

use crate::paging::Query;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::browse::{ChildrenQuery, browse};
use super::*;

pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(super::admins::page_routes())
        .route("/orgs", get(orgs_page))
        .route("/orgs/{id}/departments", post(department_submit))
        .route("/departments/{id}/rename", post(rename_submit))
        .route("/departments/{id}/delete", post(delete_submit))
        .route("/register/org", get(register_org_page).post(register_org_submit).layer(limited(state, "register")))
}

/// The org page's query: the org shown and its children's filters. Spelled out rather than
/// `#[serde(flatten)]`ing `ChildrenQuery`: a flattened struct receives every value as a string, and
/// `?id=3&page=2` then failed to parse.
#[derive(Debug, Deserialize)]
struct OrgsPageQuery {
    id: Option<i64>,
    kind: Option<String>,
    q: Option<String>,
    status: Option<String>,
    #[serde(default = "crate::paging::first_page")]
    page: i64,
}

async fn orgs_page(State(state): State<AppState>, page: Page, Query(query): Query<OrgsPageQuery>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let children = ChildrenQuery { kind: query.kind, q: query.q, status: query.status, page: query.page };
    let mut ctx = json!(browse(&state, user, query.id, &children).await?);
    ctx["query"] = json!({"kind": children.kind, "q": children.q, "status": children.status});
    ctx["can_manage"] = json!(user.can(&state, "orgs", "manage").await);
    ctx["kinds"] = kinds_json();
    page.render("orgs.html", ctx)
}

/// The org page of `id` with an error from one of its forms.
async fn orgs_page_with_error(state: &AppState, page: &Page, id: i64, err: &AppError) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let mut ctx = json!(browse(state, user, Some(id), &ChildrenQuery::default()).await?);
    ctx["error"] = json!(err.fields.values().next().cloned().unwrap_or_else(|| err.message.clone()));
    ctx["can_manage"] = json!(true);
    ctx["kinds"] = kinds_json();
    page.render_status(err.status, "orgs.html", ctx)
}

async fn rename_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<NewDepartment>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match rename_department(&state, user, id, &form).await {
        Ok(()) => Ok(crate::web::done_redirect(&page.tenant.base, &format!("/orgs?id={id}"), "saved", 1)),
        Err(err) if err.fixable_on_page() => orgs_page_with_error(&state, &page, id, &err).await,
        Err(err) => Err(err),
    }
}

async fn delete_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<std::collections::HashMap<String, String>>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match delete_department(&state, user, id).await {
        Ok(parent) => {
            let back = parent.map_or_else(|| "/orgs".to_owned(), |p| format!("/orgs?id={p}"));
            Ok(crate::web::done_redirect(&page.tenant.base, &back, "department_deleted", 1))
        }
        Err(err) if err.fixable_on_page() => orgs_page_with_error(&state, &page, id, &err).await,
        Err(err) => Err(err),
    }
}

async fn department_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<NewDepartment>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match add_department(&state, user, id, &form).await {
        Ok(_) => Ok(crate::web::done_redirect(&page.tenant.base, &format!("/orgs?id={id}"), "department_added", 1)),
        Err(err) if err.code == "invalid" => orgs_page_with_error(&state, &page, id, &err).await,
        Err(err) => Err(err),
    }
}

fn kinds_json() -> Value {
    json!(super::OrgKind::ALL.iter().map(|k| json!({"code": k, "label": k.label()})).collect::<Vec<_>>())
}

const ORG_FORM_LISTS: &[&str] = &["region", "unit_nature", "affiliation", "industry"];

async fn register_org_page(State(state): State<AppState>, page: Page) -> Result<Response, AppError> {
    render_org_form(&state, &page, &OrgRegistration { kind: "unit".into(), ..Default::default() }, None, StatusCode::OK).await
}

async fn render_org_form(
    state: &AppState,
    page: &Page,
    form: &OrgRegistration,
    err: Option<&AppError>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let code = page.tenant.code();
    let lists = form_options(&state.db, code, ORG_FORM_LISTS).await?;
    let authorities =
        search(&state.db, code, &SearchQuery { kind: Some("authority".into()), per_page: Some(100), ..Default::default() }).await?.0;
    let bureaus = search(&state.db, code, &SearchQuery { kind: Some("hr".into()), per_page: Some(100), ..Default::default() }).await?.0;
    let mut form = serde_json::to_value(form).map_err(AppError::internal)?;
    form["admin_password"] = Value::Null;
    page.render_status(
        status,
        "register_org.html",
        json!({"form": form, "lists": lists, "authorities": authorities, "bureaus": bureaus,
               "errors": err.map(|e| &e.fields), "error": err.map(|e| &e.message)}),
    )
}

async fn register_org_submit(
    State(state): State<AppState>,
    page: Page,
    headers: axum::http::HeaderMap,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let (form, licence, csrf) = read_multipart(multipart).await?;
    verify(&headers, csrf.as_deref())?;
    match register_org(&state, &page.tenant, &form, licence).await {
        Ok(done) => page.render(
            "registered.html",
            json!({"status": done.status, "approver": done.approver, "kind": "org", "resubmitted": done.resubmitted}),
        ),
        Err(err) if err.status == StatusCode::UNPROCESSABLE_ENTITY || err.status == StatusCode::PAYLOAD_TOO_LARGE => {
            let mut err = err;
            if err.fields.is_empty() {
                err.fields.insert("licence".into(), err.message.clone());
            }
            render_org_form(&state, &page, &form, Some(&err), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(err) => Err(err),
    }
}
