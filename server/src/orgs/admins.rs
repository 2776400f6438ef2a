//! The admins of an organisation (seed 003 "管理人员管理", seed 004 §5.1.1.3 "管理单位管理员"): the list of
//! an organisation's admins, adding one three ways (an existing staff member of the organisation, a
//! newcomer registered here with a one-time code, an existing account of the tenant), removing one's
//! admin rights (移除权限) and designating the super admin. Within an organisation only its super admin
//! manages the other admins; admins of the organisations above it manage them too. Enabling, disabling
//! and one-time codes for any account below the caller are in `handlers`.
//! Also the licence scan an approver looks at before deciding an org registration.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Org, get_in_scope};
use super::{OrgKind, OrgStatus};
use crate::audit;
use crate::auth::csrf::CsrfForm;
use crate::auth::{AccountStatus, Role};
use crate::auth::{CurrentUser, NewAccount, insert_account, password, session};
use crate::db::{Filters, Tx, q};
use crate::error::{AppError, FieldErrors, field_error};
use crate::fields::{check_email, check_name, check_phone};
use crate::paging::Query;
use crate::paging::{Paging, Search};
use crate::state::AppState;
use crate::web::Page;

/// Where a new admin comes from (seed 004 §5.1.1.3.2's three ways).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdminSource {
    /// 注册成为管理员: someone new to the platform; gets a one-time code
    #[default]
    New,
    /// 选择成为管理员: a registered staff member of this organisation (`person_id`); keeps their password
    Staff,
    /// 添加成为管理员: anyone with an account in this province (`id_number`); keeps their password
    Account,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct NewAdmin {
    #[serde(default)]
    pub source: AdminSource,
    /// For `new` and `account`
    #[serde(default)]
    pub id_number: String,
    /// For `new`
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    /// For `staff`
    #[serde(default, deserialize_with = "crate::web::empty_as_none")]
    pub person_id: Option<i64>,
    /// `system_admin` makes a system administrator (only a system administrator may, and only at the
    /// provincial department); otherwise the organisation's own admin role
    #[serde(default)]
    pub role: Option<String>,
}

/// The answer to adding an admin.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AddedAdmin {
    pub id: i64,
    /// A one-time password, shown once: only for a newcomer (`source` `new`)
    pub code: Option<String>,
    pub message: &'static str,
}

/// One admin of an organisation.
#[derive(Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AdminRow {
    pub id: i64,
    pub name: String,
    /// Masked
    pub id_number: String,
    pub role: Role,
    /// active, disabled or pending (removed admins are not listed)
    pub status: AccountStatus,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub super_admin: bool,
    pub last_login_at: Option<chrono::DateTime<chrono::Utc>>,
}

crate::paging::list_query! {
    /// `GET /api/v1/orgs/{id}/admins`
    #[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct AdminQuery {
        /// active, disabled or pending
        #[param(pattern = "^(active|disabled|pending)?$")]
        pub status: Option<String>,
        /// Part of the name or phone number
        pub q: Option<String>,
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SuperAdminInput {
    /// An active admin of the organisation
    pub account_id: i64,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RemoveQuery {
    /// Who becomes super admin when the super admin is removed
    pub successor_id: Option<i64>,
}

fn scope(user: &CurrentUser) -> Result<String, AppError> {
    user.scope_pattern().ok_or_else(AppError::forbidden)
}

/// The admin role an organisation's admins get: the role of the login type named like its kind
/// (departments and platforms have no admins).
fn admin_role(org: &Org) -> Result<Role, AppError> {
    Role::for_user_type(org.kind.as_str())
        .filter(|role| !matches!(role, Role::Staff | Role::SystemAdmin))
        .ok_or_else(|| AppError::bad_request("bad_org", "该机构不能设置管理员"))
}

/// Within one's own organisation only the super admin manages the other admins.
/// (System administrators run the tenant and manage every account.)
pub fn require_super_admin_within_own(user: &CurrentUser, org_id: Option<i64>) -> Result<(), AppError> {
    if user.account.role != Role::SystemAdmin && org_id.is_some() && org_id == user.account.org_id && !user.account.super_admin {
        return Err(AppError::new(StatusCode::FORBIDDEN, "super_admin_only", "只有本单位的超级管理员可以管理本单位的其他管理员"));
    }
    Ok(())
}

/// A system administrator's account is disabled, reset or removed only by another system administrator
/// (a province admin who is the department's super admin does not manage them).
pub fn require_system_admin_for(user: &CurrentUser, target_role: Role) -> Result<(), AppError> {
    if target_role == Role::SystemAdmin && user.account.role != Role::SystemAdmin {
        return Err(AppError::new(StatusCode::FORBIDDEN, "system_admin_only", "系统管理员的账号只能由系统管理员管理"));
    }
    Ok(())
}

/// System administrators are made by system administrators.
fn may_add_system_admins(user: &CurrentUser) -> bool {
    user.account.role == Role::SystemAdmin
}

/// An org in the caller's subtree whose admins the caller manages.
async fn managed_org(state: &AppState, user: &CurrentUser, org_id: i64) -> Result<Org, AppError> {
    user.authorize(state, "accounts", "manage").await?;
    let org = get_in_scope(&state.db, user.tenant_code(), &scope(user)?, org_id).await?;
    require_super_admin_within_own(user, Some(org.id))?;
    Ok(org)
}

const ADMIN_COLUMNS: &str = "id, name, id_number, role, status, phone, email, super_admin, last_login_at";

/// One page of an org's admins (super admin first); any admin of the org or above it may look.
pub async fn list(state: &AppState, user: &CurrentUser, org_id: i64, query: &AdminQuery) -> Result<(Org, Vec<AdminRow>, i64), AppError> {
    user.authorize(state, "orgs", "read").await?;
    let tenant = user.tenant_code();
    let org = get_in_scope(&state.db, tenant, &scope(user)?, org_id).await?;
    let mut f = Filters::tenant("tenant_id", tenant);
    f.and("org_id = ?", org.id).and("role <> ?", "staff");
    match query.status.as_deref().unwrap_or("") {
        "" => {
            f.and("status <> ?", "removed");
        }
        status @ ("active" | "disabled" | "pending") => {
            f.and("status = ?", status.to_owned());
        }
        _ => return Err(field_error("status", "状态须为 active、disabled 或 pending")),
    }
    if let Some(text) = query.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        f.contains(&["name", "phone"], text);
    }
    let paging: Paging = query.paging();
    let total = state.db.scalar(f.count("FROM accounts")).await?;
    let mut rows: Vec<AdminRow> = state
        .db
        .all(f.page(&format!("SELECT {ADMIN_COLUMNS} FROM accounts"), "super_admin DESC, id", paging.page, paging.per_page))
        .await?;
    for row in &mut rows {
        row.id_number = crate::ids::mask_id_number(&row.id_number);
    }
    Ok((org, rows, total))
}

/// Who the new admin is: ID number, name, contact and password hash, and the one-time code a newcomer
/// gets (someone already on the platform keeps their password).
#[derive(sqlx::FromRow)]
struct Newcomer {
    id_number: String,
    name: String,
    phone: Option<String>,
    email: Option<String>,
    password_hash: String,
    #[sqlx(skip)]
    code: Option<String>,
}

async fn newcomer(state: &AppState, tenant: &str, org: &Org, input: &NewAdmin) -> Result<Newcomer, AppError> {
    let mut errors = FieldErrors::default();
    match input.source {
        AdminSource::New => {
            check_name(&mut errors, "name", &input.name);
            let id_number = crate::ids::check_id_number(&input.id_number).unwrap_or_else(|msg| {
                errors.add("id_number", msg);
                String::new()
            });
            check_phone(&mut errors, &input.phone);
            check_email(&mut errors, &input.email);
            errors.finish()?;
            let code = password::one_time_code();
            Ok(Newcomer {
                id_number,
                name: input.name.trim().to_owned(),
                phone: Some(input.phone.trim().to_owned()),
                email: Some(input.email.trim().to_owned()),
                password_hash: password::hash(&code).await?,
                code: Some(code),
            })
        }
        AdminSource::Staff => {
            let Some(person_id) = input.person_id else { return Err(field_error("person_id", "请选择本单位已注册的人员")) };
            let known: Option<Newcomer> = state
                .db
                .opt(
                    q("SELECT p.id_number, p.name, p.phone, p.email, a.password_hash FROM people p \
                       JOIN accounts a ON a.tenant_id = p.tenant_id AND a.person_id = p.id AND a.user_type = 'staff' \
                       WHERE p.tenant_id = $1 AND p.id = $2 AND p.unit_id = $3 AND a.status = 'active'")
                    .bind(tenant)
                    .bind(person_id)
                    .bind(org.id),
                )
                .await?;
            known.ok_or_else(|| field_error("person_id", "该人员不是本单位已通过审核的在职人员"))
        }
        AdminSource::Account => {
            let id_number = crate::ids::check_id_number(&input.id_number).map_err(|msg| field_error("id_number", msg))?;
            let known: Option<Newcomer> = state
                .db
                .opt(
                    q("SELECT id_number, name, phone, email, password_hash FROM accounts WHERE tenant_id = $1 AND id_number = $2 \
                       AND status IN ('active', 'removed') ORDER BY CASE status WHEN 'active' THEN 0 ELSE 1 END, id LIMIT 1")
                    .bind(tenant)
                    .bind(&id_number),
                )
                .await?;
            known.ok_or_else(|| field_error("id_number", "本平台没有此身份证号码的有效账号，请用“注册成为管理员”添加"))
        }
    }
}

/// Adds an admin to an org the caller manages; returns the account id and, for a newcomer, the one-time
/// code. Someone whose admin rights here were removed earlier gets the same account back.
pub async fn add_admin(state: &AppState, user: &CurrentUser, org_id: i64, input: &NewAdmin) -> Result<(i64, Option<String>), AppError> {
    let org = managed_org(state, user, org_id).await?;
    let tenant = user.tenant_code();
    let role = match input.role.as_deref().unwrap_or("") {
        "" => admin_role(&org)?,
        "system_admin" if org.kind == OrgKind::Province && may_add_system_admins(user) => Role::SystemAdmin,
        _ => return Err(field_error("role", "只有系统管理员可以在省人社厅新增系统管理员")),
    };
    if org.status != OrgStatus::Active {
        return Err(AppError::conflict("org_not_active", "该机构尚未通过审核或已停用"));
    }
    let who = newcomer(state, tenant, &org, input).await?;
    let user_type = role.user_type();
    let mut tx = state.db.begin().await?;
    let existing: Option<(i64, AccountStatus, Option<String>)> = tx
        .opt(
            q("SELECT a.id, a.status, o.name FROM accounts a LEFT JOIN orgs o ON o.tenant_id = a.tenant_id AND o.id = a.org_id \
               WHERE a.tenant_id = $1 AND a.user_type = $2 AND a.id_number = $3")
            .bind(tenant)
            .bind(user_type)
            .bind(&who.id_number),
        )
        .await?;
    let account_id = match existing {
        Some((id, AccountStatus::Removed, _)) => {
            tx.run(
                q("UPDATE accounts SET org_id = $3, role = $4, name = $5, phone = $6, email = $7, password_hash = $8, \
                   must_change_password = $9, status = 'active', super_admin = FALSE WHERE tenant_id = $1 AND id = $2")
                .bind(tenant)
                .bind(id)
                .bind(org.id)
                .bind(role)
                .bind(&who.name)
                .bind(who.phone.clone())
                .bind(who.email.clone())
                .bind(&who.password_hash)
                .bind(who.code.is_some()),
            )
            .await?;
            crate::auth::settle_super_admin_tx(&mut tx, tenant, org.id).await?;
            id
        }
        Some((_, _, org_name)) => {
            return Err(AppError::conflict(
                "already_admin",
                format!("{} 已是{}的管理员", who.name, org_name.unwrap_or_else(|| "其他机构".to_owned())),
            ));
        }
        None => {
            insert_account(
                &mut tx,
                tenant,
                NewAccount {
                    user_type,
                    id_number: &who.id_number,
                    name: &who.name,
                    phone: who.phone.as_deref(),
                    email: who.email.as_deref(),
                    org_id: Some(org.id),
                    person_id: None,
                    role,
                    status: AccountStatus::Active,
                    password_hash: &who.password_hash,
                    must_change_password: who.code.is_some(),
                },
            )
            .await?
        }
    };
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "account.create",
        "account",
        Some(account_id),
        json!({"org": org.id, "role": role, "name": who.name, "source": input.source}),
    )
    .await?;
    tx.commit().await?;
    Ok((account_id, who.code))
}

/// An active or disabled admin of the org (404 otherwise), locked for the change.
async fn admin_of(tx: &mut Tx, tenant: &str, org_id: i64, account_id: i64) -> Result<AdminRow, AppError> {
    tx.opt(
        q(format!(
            "SELECT {ADMIN_COLUMNS} FROM accounts WHERE tenant_id = $1 AND org_id = $2 AND id = $3 AND role <> 'staff' \
             AND status IN ('active', 'disabled')"
        ))
        .bind(tenant)
        .bind(org_id)
        .bind(account_id),
    )
    .await?
    .ok_or_else(AppError::not_found)
}

/// Moves the super admin title to `account_id` (an active admin of the org); the former super admin
/// stays an ordinary admin.
async fn designate_tx(tx: &mut Tx, tenant: &str, org_id: i64, account_id: i64) -> Result<(), AppError> {
    let target = admin_of(tx, tenant, org_id, account_id).await?;
    if target.super_admin {
        return Err(AppError::conflict("already_super_admin", format!("{} 已是超级管理员", target.name)));
    }
    if target.status != AccountStatus::Active {
        return Err(AppError::conflict("admin_disabled", "已禁用的管理员不能设为超级管理员，请先启用"));
    }
    // Clear first: at most one super admin per organisation is a unique index.
    tx.run(q("UPDATE accounts SET super_admin = FALSE WHERE tenant_id = $1 AND org_id = $2 AND super_admin").bind(tenant).bind(org_id))
        .await?;
    tx.run(q("UPDATE accounts SET super_admin = TRUE WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(target.id)).await?;
    Ok(())
}

/// 设为超级管理员.
pub async fn designate(state: &AppState, user: &CurrentUser, org_id: i64, account_id: i64) -> Result<(), AppError> {
    let org = managed_org(state, user, org_id).await?;
    let tenant = user.tenant_code();
    let mut tx = state.db.begin().await?;
    designate_tx(&mut tx, tenant, org.id, account_id).await?;
    audit::record_tx(&mut tx, tenant, Some(user.account.id), "account.super_admin", "account", Some(account_id), json!({"org": org.id}))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// 删除 (移除权限): the account keeps its row (ledgers and audits refer to it) but can no longer log in.
/// The super admin goes only with a successor named; the last admin never.
pub async fn remove(state: &AppState, user: &CurrentUser, org_id: i64, account_id: i64, successor_id: Option<i64>) -> Result<(), AppError> {
    let org = managed_org(state, user, org_id).await?;
    let tenant = user.tenant_code();
    if account_id == user.account.id {
        return Err(AppError::bad_request("self", "不能移除自己的管理权限"));
    }
    let mut tx = state.db.begin().await?;
    let target = admin_of(&mut tx, tenant, org.id, account_id).await?;
    require_system_admin_for(user, target.role)?;
    let others = tx
        .scalar(
            q("SELECT COUNT(*) FROM accounts WHERE tenant_id = $1 AND org_id = $2 AND role <> 'staff' AND status = 'active' AND id <> $3")
                .bind(tenant)
                .bind(org.id)
                .bind(target.id),
        )
        .await?;
    if others == 0 {
        return Err(AppError::conflict("last_admin", "这是本单位唯一的管理员，不能移除；请先新增其他管理员"));
    }
    if target.super_admin {
        let Some(successor) = successor_id.filter(|s| *s != target.id) else {
            return Err(AppError::conflict("super_admin_required", "超级管理员不能直接移除：请先将其他管理员设为超级管理员，或指定继任者"));
        };
        designate_tx(&mut tx, tenant, org.id, successor).await?;
    }
    tx.run(q("UPDATE accounts SET status = 'removed', super_admin = FALSE WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(target.id))
        .await?;
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "account.removed",
        "account",
        Some(target.id),
        json!({"org": org.id, "name": target.name, "successor": successor_id}),
    )
    .await?;
    tx.commit().await?;
    session::delete_for_account(&state.db, tenant, target.id, None).await?;
    Ok(())
}

#[utoipa::path(get, path = "/orgs/{id}/admins", tag = "orgs",
    params(("id" = i64, Path, description = "Organisation id"), AdminQuery),
    responses((status = 200, body = crate::api::Paged<AdminRow>, description = "The organisation's admins, super admin first"),
              (status = 404, description = "Org outside the caller's subtree")))]
pub async fn api_list(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(query): Query<AdminQuery>,
) -> Result<Json<crate::api::Paged<AdminRow>>, AppError> {
    let (_, items, total) = list(&state, &user, id, &query).await?;
    let paging = query.paging();
    Ok(Json(crate::api::Paged::new(items, total, paging)))
}

#[utoipa::path(post, path = "/orgs/{id}/admins", request_body = NewAdmin, tag = "orgs",
    params(("id" = i64, Path, description = "Organisation id")),
    responses((status = 201, body = AddedAdmin, description = "Added; a newcomer's one-time code is shown once"),
              (status = 403, description = "super_admin_only: within one's own organisation only the super admin adds admins"),
              (status = 404, description = "Org outside the caller's subtree"),
              (status = 409, description = "already_admin: the person is already an admin of this kind"),
              (status = 422, description = "Field errors (id_number, name, phone, email, person_id)")))]
pub async fn api_add_admin(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<NewAdmin>,
) -> Result<Response, AppError> {
    let (account_id, code) = add_admin(&state, &user, id, &input).await?;
    let message = if code.is_some() {
        "请将一次性密码交给本人，登录后须立即修改密码"
    } else {
        "已添加，本人用原密码选择管理员身份登录"
    };
    Ok((StatusCode::CREATED, Json(AddedAdmin { id: account_id, code, message })).into_response())
}

#[utoipa::path(delete, path = "/orgs/{id}/admins/{account_id}", tag = "orgs",
    params(("id" = i64, Path, description = "Organisation id"),
           ("account_id" = i64, Path, description = "The admin's account"), RemoveQuery),
    responses((status = 204, description = "Admin rights removed; the account's sessions end"),
              (status = 403, description = "super_admin_only"), (status = 404, description = "No such admin in the caller's subtree"),
              (status = 409, description = "last_admin, or super_admin_required: name a successor_id")))]
pub async fn api_remove(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, account_id)): Path<(i64, i64)>,
    Query(query): Query<RemoveQuery>,
) -> Result<StatusCode, AppError> {
    remove(&state, &user, id, account_id, query.successor_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/orgs/{id}/super-admin", request_body = SuperAdminInput, tag = "orgs",
    params(("id" = i64, Path, description = "Organisation id")),
    responses((status = 204, description = "Designated; the former super admin is an ordinary admin"),
              (status = 403, description = "super_admin_only"), (status = 404, description = "No such admin in the caller's subtree"),
              (status = 409, description = "already_super_admin, admin_disabled")))]
pub async fn api_designate(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<SuperAdminInput>,
) -> Result<StatusCode, AppError> {
    designate(&state, &user, id, input.account_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The licence scan of an org in the caller's subtree (approvers check it before deciding).
pub async fn licence(state: &AppState, user: &CurrentUser, org_id: i64) -> Result<Response, AppError> {
    user.authorize(state, "orgs", "read").await?;
    let tenant = user.tenant_code();
    get_in_scope(&state.db, tenant, &scope(user)?, org_id).await?;
    let blob: Option<(Option<i64>,)> =
        state.db.opt(q("SELECT licence_blob_id FROM orgs WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(org_id)).await?;
    let Some((Some(blob_id),)) = blob else { return Err(AppError::not_found()) };
    crate::storage::upload::download(state, tenant, blob_id).await
}

#[utoipa::path(get, path = "/orgs/{id}/licence", tag = "orgs", params(("id" = i64, Path)),
    responses((status = 200, description = "The organisation's business licence scan, served with its stored type (PDF or an image)",
               content_type = "application/octet-stream"),
              (status = 404, description = "Not in the caller's subtree, or no scan")))]
pub async fn api_licence(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Response, AppError> {
    licence(&state, &user, id).await
}

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_list, api_add_admin))
        .routes(routes!(api_remove))
        .routes(routes!(api_designate))
        .routes(routes!(api_licence))
}

// ---- pages ----

pub fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/admins", get(own_admins_page))
        .route("/orgs/{id}/admins", get(admins_page).post(add_admin_submit))
        .route("/orgs/{id}/admins/{account_id}/remove", post(remove_submit))
        .route("/orgs/{id}/super-admin", post(designate_submit))
        .route("/orgs/{id}/licence", get(api_licence))
}

/// The page's search among the organisation's staff for 选择成为管理员 (a unit may have thousands).
#[derive(Debug, Default, Deserialize)]
struct StaffSearch {
    staff_q: Option<String>,
}

/// How many of the organisation's staff 选择成为管理员 offers at once.
const STAFF_CHOICES: usize = 200;

/// 管理员管理 of the caller's own organisation.
async fn own_admins_page(
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<AdminQuery>,
    Query(search): Query<StaffSearch>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let org_id = user.account.org_id.ok_or_else(AppError::not_found)?;
    let page = page.under("/orgs");
    render_admins(&state, &page, org_id, &query, search.staff_q.as_deref(), None, StatusCode::OK).await
}

async fn admins_page(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    Query(query): Query<AdminQuery>,
    Query(search): Query<StaffSearch>,
) -> Result<Response, AppError> {
    render_admins(&state, &page, id, &query, search.staff_q.as_deref(), None, StatusCode::OK).await
}

async fn render_admins(
    state: &AppState,
    page: &Page,
    org_id: i64,
    query: &AdminQuery,
    staff_search: Option<&str>,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let (org, admins, total) = list(state, user, org_id, query).await?;
    let can_manage = user.can(state, "accounts", "manage").await && require_super_admin_within_own(user, Some(org.id)).is_ok();
    // 选择成为管理员 offers the organisation's registered staff: the first by name, or those found by
    // part of the name or the whole ID number.
    let staff_search = staff_search.map(str::trim).filter(|t| !t.is_empty());
    let (staff, more_staff) = if can_manage {
        let mut f = Filters::tenant("p.tenant_id", user.tenant_code());
        f.and("p.unit_id = ?", org.id);
        if let Some(text) = staff_search {
            f.name_or_id_number("p.name", "p.id_number", text);
        }
        let query = f.all(
            "SELECT p.id, p.name, p.id_number FROM people p JOIN accounts a ON a.tenant_id = p.tenant_id AND a.person_id = p.id \
             AND a.user_type = 'staff' AND a.status = 'active'",
            "p.name, p.id",
        );
        let (rows, more): (Vec<(i64, String, String)>, bool) = crate::paging::first_rows(&state.db, query, STAFF_CHOICES).await?;
        (rows.into_iter().map(|(id, name, id_number)| (id, name, crate::ids::mask_id_number(&id_number))).collect(), more)
    } else {
        (Vec::new(), false)
    };
    let paging = query.paging();
    let back = if Some(org.id) == user.account.org_id { "/admins".to_owned() } else { format!("/orgs/{}/admins", org.id) };
    let kept = |value: &Option<String>| value.clone().unwrap_or_default();
    let href = crate::paging::query_href(&format!("{}{back}", page.tenant.base), &[("status", kept(&query.status)), ("q", kept(&query.q))]);
    page.render_status(
        status,
        "admins.html",
        json!({
            "org": org, "admins": admins, "total": total, "pager": paging.pager(total), "query": {"status": query.status, "q": query.q},
            "can_manage": can_manage && org.status == OrgStatus::Active, "staff": staff, "more_staff": more_staff,
            "staff_search": staff_search.unwrap_or_default(), "staff_limit": STAFF_CHOICES, "back": back, "href": href, "error": error,
            "me": user.account.id, "is_own": Some(org.id) == user.account.org_id,
            "system_role": org.kind == OrgKind::Province && may_add_system_admins(user), "me_system": may_add_system_admins(user),
        }),
    )
}

async fn add_admin_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<NewAdmin>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match add_admin(&state, user, id, &form).await {
        Ok((_, Some(code))) => {
            page.render("one_time_code.html", json!({"code": code, "name": form.name.trim(), "back": format!("/orgs/{id}/admins")}))
        }
        Ok((_, None)) => Ok(crate::web::done_redirect(&page.tenant.base, &format!("/orgs/{id}/admins"), "admin_added", 1)),
        Err(err) if matches!(err.code, "invalid" | "already_admin") => {
            let message = err.page_text();
            render_admins(&state, &page, id, &AdminQuery::default(), None, Some(message), err.status).await
        }
        Err(err) => Err(err),
    }
}

#[derive(Debug, Deserialize)]
struct RemoveForm {
    #[serde(default, deserialize_with = "crate::web::empty_as_none")]
    successor_id: Option<i64>,
}

async fn remove_submit(
    State(state): State<AppState>,
    page: Page,
    Path((id, account_id)): Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<RemoveForm>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match remove(&state, user, id, account_id, form.successor_id).await {
        Ok(()) => Ok(crate::web::done_redirect(&page.tenant.base, &format!("/orgs/{id}/admins"), "admin_removed", 1)),
        Err(err) if err.status == StatusCode::CONFLICT || err.code == "self" => {
            render_admins(&state, &page, id, &AdminQuery::default(), None, Some(err.message.clone()), err.status).await
        }
        Err(err) => Err(err),
    }
}

async fn designate_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<SuperAdminInput>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match designate(&state, user, id, form.account_id).await {
        Ok(()) => Ok(crate::web::done_redirect(&page.tenant.base, &format!("/orgs/{id}/admins"), "super_admin_set", 1)),
        Err(err) if err.status == StatusCode::CONFLICT => {
            render_admins(&state, &page, id, &AdminQuery::default(), None, Some(err.message.clone()), err.status).await
        }
        Err(err) => Err(err),
    }
}
