//! The admins of an organisation (seed 003 "管理人员管理", seed 004 §5.1.1.3 "新增管理员"): an admin adds
//! another admin to an org in their subtree; the newcomer gets a one-time code, never a default password.
//! Also the licence scan an approver looks at before deciding an org registration.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::get_in_scope;
use crate::audit;
use crate::auth::csrf::CsrfForm;
use crate::auth::{CurrentUser, NewAccount, insert_account, password};
use crate::db::q;
use crate::error::{AppError, FieldErrors, ResultExt, field_error};
use crate::people::{check_email, check_name, check_phone};
use crate::state::AppState;
use crate::web::Page;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewAdmin {
    pub id_number: String,
    pub name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
}

fn scope(user: &CurrentUser) -> Result<String, AppError> {
    user.scope_pattern().ok_or_else(AppError::forbidden)
}

/// Adds an admin to an org in the caller's subtree; returns the account id and its one-time code.
pub async fn add_admin(state: &AppState, user: &CurrentUser, org_id: i64, input: &NewAdmin) -> Result<(i64, String), AppError> {
    user.authorize(state, "accounts", "manage").await?;
    let tenant = user.tenant_code();
    let org = get_in_scope(&state.db, tenant, &scope(user)?, org_id).await?;
    let role = match org.kind.as_str() {
        "unit" => "unit_admin",
        "institution" => "institution_admin",
        "authority" => "authority_admin",
        "hr" => "hr_admin",
        "province" => "province_admin",
        _ => return Err(AppError::bad_request("bad_org", "该机构不能设置管理员")),
    };
    if org.status != "active" {
        return Err(AppError::conflict("org_not_active", "该机构尚未通过审核或已停用"));
    }
    let mut errors = FieldErrors::default();
    check_name(&mut errors, "name", &input.name);
    let id_number = match crate::ids::check_id_number(&input.id_number) {
        Ok(id) => id,
        Err(msg) => {
            errors.add("id_number", msg);
            String::new()
        }
    };
    check_phone(&mut errors, &input.phone);
    check_email(&mut errors, &input.email);
    errors.finish()?;
    let user_type = crate::auth::user_type_for_role(role).unwrap_or("unit");
    let code = password::one_time_code();
    let hash = password::hash(&code).await?;
    let mut tx = state.db.begin().await?;
    let account_id = insert_account(
        &mut tx,
        tenant,
        NewAccount {
            user_type,
            id_number: &id_number,
            name: input.name.trim(),
            phone: Some(input.phone.trim()),
            email: Some(input.email.trim()),
            org_id: Some(org.id),
            person_id: None,
            role,
            status: "active",
            password_hash: &hash,
            must_change_password: true,
        },
    )
    .await
    .on_duplicate(|| field_error("id_number", "该身份证号码已是此类管理员"))?;
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "account.create",
        "account",
        Some(account_id),
        json!({"org": org.id, "role": role, "name": input.name.trim()}),
    )
    .await?;
    tx.commit().await?;
    Ok((account_id, code))
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/orgs/{id}/admins", request_body = NewAdmin, tag = "orgs", params(("id" = i64, Path)), responses((status = 201, description = "{id, code}: the one-time code is shown once"), (status = 404, description = "Org outside the caller's subtree")))]
pub async fn api_add_admin(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<NewAdmin>,
) -> Result<Response, AppError> {
    let (account_id, code) = add_admin(&state, &user, id, &input).await?;
    Ok((StatusCode::CREATED, Json(json!({"id": account_id, "code": code, "message": "请将一次性密码交给本人，登录后须立即修改密码"})))
        .into_response())
}

/// The licence scan of an org in the caller's subtree (approvers check it before deciding).
pub async fn licence(state: &AppState, user: &CurrentUser, org_id: i64) -> Result<Response, AppError> {
    user.authorize(state, "orgs", "read").await?;
    let tenant = user.tenant_code();
    get_in_scope(&state.db, tenant, &scope(user)?, org_id).await?;
    let blob: Option<(Option<i64>,)> =
        state.db.opt(q("SELECT licence_blob_id FROM orgs WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(org_id)).await?;
    let Some((Some(blob_id),)) = blob else { return Err(AppError::not_found()) };
    crate::storage::download(state, tenant, blob_id).await
}

async fn licence_handler(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Response, AppError> {
    licence(&state, &user, id).await
}

pub fn api_routes() -> Router<AppState> {
    Router::new().route("/orgs/{id}/admins", post(api_add_admin)).route("/orgs/{id}/licence", get(licence_handler))
}

pub fn page_routes() -> Router<AppState> {
    Router::new().route("/orgs/{id}/admins", post(add_admin_submit)).route("/orgs/{id}/licence", get(licence_handler))
}

async fn add_admin_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<NewAdmin>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match add_admin(&state, user, id, &form).await {
        Ok((_, code)) => {
            page.render("one_time_code.html", json!({"code": code, "name": form.name.trim(), "back": format!("/orgs?id={id}")}))
        }
        Err(err) if err.code == "invalid" => {
            let mut ctx = super::handlers::browse(&state, user, Some(id), &Default::default()).await?;
            ctx["error"] = json!(err.fields.values().cloned().collect::<Vec<_>>().join("；"));
            ctx["can_manage"] = json!(user.can(&state, "orgs", "manage").await);
            page.render_status(StatusCode::UNPROCESSABLE_ENTITY, "orgs.html", ctx)
        }
        Err(err) => Err(err),
    }
}
