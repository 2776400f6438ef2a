//! Accounts as their administrators see them (seed 003 系统用户信息管理, seed 004 "禁用、重置密码"): one
//! searchable list of the accounts in the caller's scope (the whole tenant for the province's and the
//! system's admins), enabling and disabling one or many at once, and one-time codes in place of a
//! forgotten password. Adding admins is an organisation's business (`orgs::admins`).

pub mod api;
pub mod pages;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit;
use crate::auth::{Account, CurrentUser, USER_TYPES, password, session};
use crate::auth::{AccountStatus, Role};
use crate::db::{Filters, q};
use crate::error::{AppError, field_error};
use crate::paging::{Paging, Search};
use crate::state::AppState;

/// The casbin object; `list` is the tenant-wide list, `manage` acting on one account below the caller.
const OBJECT: &str = "accounts";

/// The statuses the list filters by (removed admins are not listed).
const STATUSES: &[AccountStatus] = &[AccountStatus::Active, AccountStatus::Disabled, AccountStatus::Pending, AccountStatus::Rejected];

/// One account in the list.
#[derive(Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AccountRow {
    pub id: i64,
    /// staff, unit, institution, authority, hr, province or system
    pub user_type: String,
    #[sqlx(skip)]
    pub user_type_label: &'static str,
    pub name: String,
    /// Masked
    pub id_number: String,
    pub org_id: Option<i64>,
    pub org_name: Option<String>,
    /// active, disabled, pending or rejected (removed admins are not listed)
    pub status: AccountStatus,
    #[sqlx(skip)]
    pub status_label: &'static str,
    pub super_admin: bool,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

crate::paging::list_query! {
    /// `GET /api/v1/accounts`
    #[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct AccountQuery {
        /// A login type: staff, unit, institution, authority, hr, province or system
        #[serde(rename = "type")]
        #[param(rename = "type", pattern = "^(staff|unit|institution|authority|hr|province|system)?$")]
        pub user_type: Option<String>,
        /// An organisation in the caller's scope: its accounts and those of the organisations below it
        #[serde(default, deserialize_with = "crate::web::empty_as_none")]
        pub org: Option<i64>,
        /// active, disabled, pending or rejected
        #[param(pattern = "^(active|disabled|pending|rejected)?$")]
        pub status: Option<String>,
        /// Part of the name or the full ID number
        pub q: Option<String>,
    }
}

/// The user types as the filter offers them.
pub fn user_types() -> Vec<serde_json::Value> {
    USER_TYPES.iter().map(|(code, _, label)| json!({"code": code, "name": label})).collect()
}

pub fn statuses() -> Vec<serde_json::Value> {
    STATUSES.iter().map(|status| json!({"code": status, "name": status.label()})).collect()
}

fn scope(user: &CurrentUser) -> Result<String, AppError> {
    user.scope_pattern().ok_or_else(AppError::forbidden)
}

/// One page of the accounts whose organisation lies in the caller's scope, newest first.
pub async fn list(state: &AppState, user: &CurrentUser, query: &AccountQuery) -> Result<(Vec<AccountRow>, i64), AppError> {
    user.authorize(state, OBJECT, "list").await?;
    let tenant = user.tenant_code();
    let mut f = Filters::tenant("a.tenant_id", tenant);
    f.and_same("(o.path LIKE ? OR o.supervisor_path LIKE ?)", scope(user)?);
    f.and("a.status <> ?", "removed");
    if let Some(user_type) = query.user_type.as_deref().filter(|t| !t.is_empty()) {
        if !USER_TYPES.iter().any(|(code, _, _)| *code == user_type) {
            return Err(field_error("type", "用户类型无效"));
        }
        f.and("a.user_type = ?", user_type.to_owned());
    }
    if let Some(org) = query.org {
        let org = crate::orgs::get_in_scope(&state.db, tenant, &scope(user)?, org).await?;
        f.and_same("(o.path LIKE ? OR o.supervisor_path LIKE ?)", format!("{}%", org.path));
    }
    match query.status.as_deref().unwrap_or("") {
        "" => {}
        status if let Some(status) = AccountStatus::parse(status).filter(|s| STATUSES.contains(s)) => {
            f.and("a.status = ?", status);
        }
        _ => return Err(field_error("status", "状态须为 active、disabled、pending 或 rejected")),
    }
    if let Some(text) = query.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        f.name_or_id_number("a.name", "a.id_number", text);
    }
    const FROM: &str = "FROM accounts a LEFT JOIN orgs o ON o.tenant_id = a.tenant_id AND o.id = a.org_id";
    let paging: Paging = query.paging();
    let total = state.db.scalar(f.count(FROM)).await?;
    let mut rows: Vec<AccountRow> = state
        .db
        .all(f.page(
            &format!(
                "SELECT a.id, a.user_type, a.name, a.id_number, a.org_id, o.name AS org_name, a.status, a.super_admin, a.last_login_at, \
                 a.created_at {FROM}"
            ),
            "a.created_at DESC, a.id DESC",
            paging.page,
            paging.per_page,
        ))
        .await?;
    for row in &mut rows {
        row.id_number = crate::ids::mask_id_number(&row.id_number);
        row.user_type_label = crate::auth::user_type_label(&row.user_type);
        row.status_label = row.status.label();
    }
    Ok((rows, total))
}

/// The account if it belongs to an org in the caller's subtree and is not the caller; within the
/// caller's own organisation only its super admin manages the other admins.
async fn managed_account(state: &AppState, user: &CurrentUser, account_id: i64) -> Result<Account, AppError> {
    user.authorize(state, OBJECT, "manage").await?;
    let scope = scope(user)?;
    let account = crate::auth::account_by_id(&state.db, user.tenant_code(), account_id).await?.ok_or_else(AppError::not_found)?;
    let root = scope.trim_end_matches('%');
    let in_scope = [&account.org_path, &account.org_supervisor_path].iter().any(|p| p.as_deref().is_some_and(|p| p.starts_with(root)));
    if !in_scope || account.status == AccountStatus::Removed {
        return Err(AppError::not_found());
    }
    if account.id == user.account.id {
        return Err(AppError::bad_request("self", "不能对自己的账号执行此操作"));
    }
    if account.role != Role::Staff {
        crate::orgs::admins::require_super_admin_within_own(user, account.org_id)?;
        crate::orgs::admins::require_system_admin_for(user, account.role)?;
    }
    Ok(account)
}

/// Enables or disables accounts below the caller, all or none (one transaction); disabling ends their
/// sessions. Returns how many changed.
pub async fn set_statuses(state: &AppState, user: &CurrentUser, ids: &[i64], status: &str) -> Result<usize, AppError> {
    let (status, from) = match AccountStatus::parse(status) {
        Some(AccountStatus::Disabled) => (AccountStatus::Disabled, AccountStatus::Active),
        Some(AccountStatus::Active) => (AccountStatus::Active, AccountStatus::Disabled),
        _ => return Err(AppError::bad_request("bad_status", "状态只能是启用或禁用")),
    };
    if ids.is_empty() {
        return Err(field_error("ids", "请至少选择一个账号"));
    }
    let mut accounts = Vec::with_capacity(ids.len());
    for id in ids {
        accounts.push(managed_account(state, user, *id).await?);
    }
    let tenant = user.tenant_code();
    let mut tx = state.db.begin().await?;
    for account in &accounts {
        let changed = tx
            .run(
                q("UPDATE accounts SET status = $3 WHERE tenant_id = $1 AND id = $2 AND status = $4")
                    .bind(tenant)
                    .bind(account.id)
                    .bind(status)
                    .bind(from),
            )
            .await?;
        if changed != 1 {
            return Err(AppError::conflict("status_unchanged", format!("{} 的账号当前状态不允许此操作", account.name)));
        }
        audit::record_tx(
            &mut tx,
            tenant,
            Some(user.account.id),
            &format!("account.{status}"),
            "account",
            Some(account.id),
            json!({"name": account.name}),
        )
        .await?;
    }
    tx.commit().await?;
    if status == AccountStatus::Disabled {
        for account in &accounts {
            session::delete_for_account(&state.db, tenant, account.id, None).await?;
        }
    }
    Ok(accounts.len())
}

/// Issues a one-time code in place of the password (never a default password): the holder must set a
/// new password at the next login.
pub async fn reset_code(state: &AppState, user: &CurrentUser, account_id: i64) -> Result<(Account, String), AppError> {
    let account = managed_account(state, user, account_id).await?;
    let tenant = user.tenant_code();
    let code = password::one_time_code();
    let hash = password::hash(&code).await?;
    let mut tx = state.db.begin().await?;
    tx.run(
        q("UPDATE accounts SET password_hash = $3, must_change_password = $4 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(account.id)
            .bind(hash)
            .bind(true),
    )
    .await?;
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "account.reset_code",
        "account",
        Some(account.id),
        json!({"name": account.name}),
    )
    .await?;
    tx.commit().await?;
    session::delete_for_account(&state.db, tenant, account.id, None).await?;
    Ok((account, code))
}
