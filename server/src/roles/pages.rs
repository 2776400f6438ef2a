//! The 角色管理 pages: the organisation's roles with a form for a new one, each admin's roles, and one
//! role's edit page with its delete form.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AssignInput, RoleInput};
use crate::auth::csrf::CsrfForm;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::{Page, done_redirect};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/roles", get(list_page).post(create_submit))
        .route("/roles/{id}", get(edit_page).post(update_submit))
        .route("/roles/{id}/delete", post(delete_submit))
        .route("/accounts/{id}/roles", post(assign_submit))
}

/// The role form: its name and the ticked permissions.
#[derive(Debug, Default, Deserialize)]
struct RoleForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    permissions: Vec<String>,
}

impl RoleForm {
    fn input(self) -> RoleInput {
        RoleInput { name: self.name, permissions: self.permissions }
    }
}

async fn render_list(state: &AppState, page: &Page, form: Option<&RoleInput>, err: Option<&AppError>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let roles = super::list(state, user).await?;
    let (_, builtin) = super::managed(state, user).await?;
    let admins: Vec<Value> = super::admins(state, user)
        .await?
        .into_iter()
        .map(|(held, super_admin)| {
            let codes: Vec<&str> = held.roles.iter().map(|r| r.code.as_str()).collect();
            json!({"id": held.account_id, "name": held.name, "super_admin": super_admin, "roles": held.roles, "codes": codes})
        })
        .collect();
    let choices: Vec<Value> = std::iter::once(json!({"code": builtin.as_str(), "name": format!("{}（全部权限）", builtin.label())}))
        .chain(roles.iter().map(|r| json!({"code": r.id.to_string(), "name": r.name})))
        .collect();
    page.render_status(
        err.map_or(StatusCode::OK, |e| e.status),
        "roles.html",
        json!({"roles": roles, "catalogue": super::catalogue(state, user.tenant_code(), builtin), "admins": admins, "choices": choices,
               "form": form.map(|f| json!({"name": f.name, "permissions": f.permissions})),
               "errors": err.map_or(Value::Null, |e| json!(e.fields)), "error": err.map(AppError::page_text)}),
    )
}

async fn list_page(State(state): State<AppState>, page: Page) -> Result<Response, AppError> {
    render_list(&state, &page, None, None).await
}

async fn create_submit(State(state): State<AppState>, page: Page, CsrfForm(form): CsrfForm<RoleForm>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let input = form.input();
    match super::create(&state, user, &input).await {
        Ok(_) => Ok(done_redirect(&page.tenant.base, "/roles", "saved", 1)),
        Err(err) if err.fixable_on_page() => render_list(&state, &page, Some(&input), Some(&err)).await,
        Err(err) => Err(err),
    }
}

async fn render_edit(
    state: &AppState,
    page: Page,
    id: i64,
    form: Option<&RoleInput>,
    err: Option<&AppError>,
) -> Result<Response, AppError> {
    let page = page.under("/roles");
    let user = page.require_user()?;
    let role = super::get(state, user, id).await?;
    let (_, builtin) = super::managed(state, user).await?;
    let others: Vec<Value> = std::iter::once(json!({"code": builtin.as_str(), "name": format!("{}（全部权限）", builtin.label())}))
        .chain(
            super::list(state, user).await?.into_iter().filter(|r| r.id != id).map(|r| json!({"code": r.id.to_string(), "name": r.name})),
        )
        .collect();
    let chosen: Vec<String> = match form {
        Some(f) => f.permissions.clone(),
        None => role.permissions.iter().map(|p| p.code.clone()).collect(),
    };
    page.render_status(
        err.map_or(StatusCode::OK, |e| e.status),
        "role.html",
        json!({"role": role, "name": form.map_or(role.name.clone(), |f| f.name.clone()), "chosen": chosen,
               "catalogue": super::catalogue(state, user.tenant_code(), builtin), "others": others,
               "errors": err.map_or(Value::Null, |e| json!(e.fields)), "error": err.map(AppError::page_text)}),
    )
}

async fn edit_page(State(state): State<AppState>, page: Page, Path(id): Path<i64>) -> Result<Response, AppError> {
    render_edit(&state, page, id, None, None).await
}

async fn update_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let input = form.input();
    match super::update(&state, user, id, &input).await {
        Ok(()) => Ok(done_redirect(&page.tenant.base, "/roles", "saved", 1)),
        Err(err) if err.fixable_on_page() => render_edit(&state, page, id, Some(&input), Some(&err)).await,
        Err(err) => Err(err),
    }
}

#[derive(Debug, Default, Deserialize)]
struct DeleteForm {
    #[serde(default)]
    reassign: String,
}

async fn delete_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<DeleteForm>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match super::delete(&state, user, id, Some(form.reassign.as_str())).await {
        Ok(()) => Ok(done_redirect(&page.tenant.base, "/roles", "deleted", 1)),
        Err(err) if err.fixable_on_page() => render_edit(&state, page, id, None, Some(&err)).await,
        Err(err) => Err(err),
    }
}

#[derive(Debug, Default, Deserialize)]
struct AssignForm {
    #[serde(default)]
    roles: Vec<String>,
}

async fn assign_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<AssignForm>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let input = AssignInput { roles: form.roles.into_iter().map(Value::String).collect() };
    match super::assign(&state, user, id, &input).await {
        Ok(()) => Ok(done_redirect(&page.tenant.base, "/roles", "saved", 1)),
        Err(err) if err.fixable_on_page() => render_list(&state, &page, None, Some(&err)).await,
        Err(err) => Err(err),
    }
}
