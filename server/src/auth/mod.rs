//! Accounts, sessions, login throttling with captcha, CSRF, password changes and resets, casbin.

pub mod admin;
pub mod api;
pub mod csrf;
pub mod login;
pub mod oidc;
pub mod pages;
pub mod password;
pub mod rbac;
pub mod session;
pub mod throttle;

use crate::db::{Db, Tx, q};
use crate::error::AppError;
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::Utc;
use serde::Serialize;

crate::codes::code_enum! {
    /// What an account may do: a staff member's own things, or an admin's of one organisation kind.
    pub enum Role {
        Staff = ("staff", "专业技术人员"),
        UnitAdmin = ("unit_admin", "单位管理员"),
        InstitutionAdmin = ("institution_admin", "施教机构管理员"),
        AuthorityAdmin = ("authority_admin", "行业主管部门管理员"),
        HrAdmin = ("hr_admin", "人社局管理员"),
        ProvinceAdmin = ("province_admin", "省人社厅管理员"),
        SystemAdmin = ("system_admin", "系统管理员"),
    }
}

crate::codes::code_enum! {
    /// Whether an account may log in, and if not, why.
    pub enum AccountStatus {
        Active = ("active", "启用"),
        Pending = ("pending", "待审核"),
        Rejected = ("rejected", "未通过"),
        Disabled = ("disabled", "禁用"),
        /// An admin whose admin rights were removed (管理员管理).
        Removed = ("removed", "已移除"),
    }
}

/// Login user types (as the seeds' login forms offer them) and the role each one's accounts get.
pub const USER_TYPES: &[(&str, Role, &str)] = &[
    ("staff", Role::Staff, "专业技术人员/个人"),
    ("unit", Role::UnitAdmin, "单位管理员"),
    ("institution", Role::InstitutionAdmin, "施教机构"),
    ("authority", Role::AuthorityAdmin, "行业主管部门"),
    ("hr", Role::HrAdmin, "市、区（县）人社局"),
    ("province", Role::ProvinceAdmin, "省人社厅"),
    ("system", Role::SystemAdmin, "系统管理员"),
];

/// What pages call a login type ("" for an unknown one).
pub fn user_type_label(user_type: &str) -> &'static str {
    USER_TYPES.iter().find(|(code, _, _)| *code == user_type).map_or("", |(_, _, label)| label)
}

impl Role {
    /// The role of accounts that log in as `user_type`.
    pub fn for_user_type(user_type: &str) -> Option<Role> {
        USER_TYPES.iter().find(|(t, _, _)| *t == user_type).map(|(_, r, _)| *r)
    }

    /// The login type of the role's accounts.
    pub fn user_type(self) -> &'static str {
        USER_TYPES.iter().find(|(_, r, _)| *r == self).map_or("staff", |(t, _, _)| t)
    }

    /// The kind of organisation an admin role administers.
    pub fn org_kind(self) -> Option<&'static str> {
        Some(match self {
            Role::UnitAdmin => "unit",
            Role::InstitutionAdmin => "institution",
            Role::AuthorityAdmin => "authority",
            Role::HrAdmin => "hr",
            Role::ProvinceAdmin | Role::SystemAdmin => "province",
            Role::Staff => return None,
        })
    }

    pub fn is_admin(self) -> bool {
        self != Role::Staff
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Account {
    pub id: i64,
    pub tenant_id: String,
    pub user_type: String,
    pub id_number: String,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub org_id: Option<i64>,
    pub person_id: Option<i64>,
    pub role: Role,
    pub status: AccountStatus,
    pub must_change_password: bool,
    /// The one admin of the organisation who manages its other admins (超级管理员).
    pub super_admin: bool,
    /// Its permissions come from the roles given to it (角色管理), within its built-in role's.
    pub roles_assigned: bool,
    /// Materialised path of the account's organisation: the root of what it may see.
    pub org_path: Option<String>,
    /// The org's path under its supervising authority, if any.
    pub org_supervisor_path: Option<String>,
    pub org_name: Option<String>,
}

pub const ACCOUNT_COLUMNS: &str = "a.id, a.tenant_id, a.user_type, a.id_number, a.name, a.phone, a.email, a.org_id, \
     a.person_id, a.role, a.status, a.must_change_password, a.super_admin, a.roles_assigned, o.path AS org_path, o.supervisor_path AS org_supervisor_path, o.name AS org_name";

pub async fn account_by_id(db: &Db, tenant: &str, id: i64) -> Result<Option<Account>, sqlx::Error> {
    db.opt(
        q(format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts a LEFT JOIN orgs o ON o.tenant_id = a.tenant_id AND o.id = a.org_id \
             WHERE a.tenant_id = $1 AND a.id = $2"
        ))
        .bind(tenant)
        .bind(id),
    )
    .await
}

/// The logged-in account of a request, with its tenant. Extracting it answers 401 when there is none.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub account: Account,
    pub tenant: TenantCtx,
    pub session_id: String,
}

impl CurrentUser {
    pub fn tenant_code(&self) -> &str {
        self.tenant.code()
    }

    /// casbin: may this account's role do `action` on `object` in its tenant?
    pub async fn authorize(&self, state: &AppState, object: &str, action: &str) -> Result<(), AppError> {
        if self.can(state, object, action).await { Ok(()) } else { Err(AppError::forbidden()) }
    }

    /// The built-in role decides; an admin given custom roles (角色管理) holds only what those roles
    /// grant within it — never more — and keeps its own profile, password and messages.
    pub async fn can(&self, state: &AppState, object: &str, action: &str) -> bool {
        let tenant = self.tenant_code();
        let builtin = state.rbac.allows(self.account.role.as_str(), tenant, object, action).await;
        if !builtin || !self.account.roles_assigned || rbac::SELF_SERVICE.contains(&object) {
            return builtin;
        }
        state.rbac.allows(&rbac::account_subject(self.account.id), tenant, object, action).await
    }

    /// The org subtree this account administers, as a `LIKE` pattern on `orgs.path`.
    /// Staff have none.
    pub fn scope_pattern(&self) -> Option<String> {
        if self.account.role == Role::Staff {
            return None;
        }
        self.account.org_path.as_ref().map(|p| format!("{p}%"))
    }

    pub fn is_admin(&self) -> bool {
        self.account.role.is_admin()
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match MaybeUser::from_request_parts(parts, state).await?.0 {
            Some(user) => Ok(user),
            None => Err(AppError::unauthorized()),
        }
    }
}

/// The logged-in account if there is one.
#[derive(Clone, Debug)]
pub struct MaybeUser(pub Option<CurrentUser>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(user) = parts.extensions.get::<CurrentUser>() {
            return Ok(MaybeUser(Some(user.clone())));
        }
        let tenant = TenantCtx::from_request_parts(parts, state).await?;
        let Some(token) = session::token_from(&parts.headers) else {
            return Ok(MaybeUser(None));
        };
        let Some((session_id, account)) = session::lookup(&state.db, tenant.code(), &token, state.config.session_minutes).await? else {
            return Ok(MaybeUser(None));
        };
        if account.status != AccountStatus::Active {
            return Ok(MaybeUser(None));
        }
        if account.must_change_password && !allowed_before_password_change(&parts.method, parts.uri.path()) {
            return Err(AppError::new(
                axum::http::StatusCode::FORBIDDEN,
                "password_change_required",
                "请先修改初始密码，修改后才能继续使用",
            ));
        }
        let user = CurrentUser { account, tenant, session_id };
        parts.extensions.insert(user.clone());
        Ok(MaybeUser(Some(user)))
    }
}

/// What a session opened with a one-time code may do until the password is changed: read who it is
/// (`GET /me`, which says `must_change_password`), change the password (page and API) and log out. Paths are matched by their end, since nested routers see them without their prefix.
fn allowed_before_password_change(method: &axum::http::Method, path: &str) -> bool {
    use axum::http::Method;
    (path.ends_with("/me") && method == Method::GET)
        || (path.ends_with("/account/password") && matches!(*method, Method::GET | Method::POST))
        || (path.ends_with("/me/password") && method == Method::POST)
        || (path.ends_with("/logout") && method == Method::POST)
        || (path.ends_with("/session") && method == Method::DELETE)
}

/// Adds an account inside a transaction; the caller has validated the fields.
pub struct NewAccount<'a> {
    pub user_type: &'a str,
    pub id_number: &'a str,
    pub name: &'a str,
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
    pub org_id: Option<i64>,
    pub person_id: Option<i64>,
    pub role: Role,
    pub status: AccountStatus,
    pub password_hash: &'a str,
    pub must_change_password: bool,
}

/// Inserts an account; an organisation's first admin becomes its super admin.
pub async fn insert_account(tx: &mut Tx, tenant: &str, a: NewAccount<'_>) -> Result<i64, sqlx::Error> {
    let id = tx
        .scalar(
            q("INSERT INTO accounts (tenant_id, user_type, id_number, name, phone, email, org_id, person_id, role, status, \
           password_hash, must_change_password, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
           RETURNING id")
            .bind(tenant)
            .bind(a.user_type)
            .bind(a.id_number)
            .bind(a.name)
            .bind(a.phone.map(str::to_owned))
            .bind(a.email.map(str::to_owned))
            .bind(a.org_id)
            .bind(a.person_id)
            .bind(a.role)
            .bind(a.status)
            .bind(a.password_hash)
            .bind(a.must_change_password)
            .bind(Utc::now()),
        )
        .await?;
    if let Some(org_id) = a.org_id.filter(|_| a.role.is_admin()) {
        settle_super_admin_tx(tx, tenant, org_id).await?;
    }
    Ok(id)
}

/// Keeps one super admin per organisation: when none of its admins holds the title (a new
/// organisation's first admin, a rejected registrant), the longest-serving active one — or, while the
/// organisation is still being registered, the pending one — gets it.
pub async fn settle_super_admin_tx(tx: &mut Tx, tenant: &str, org_id: i64) -> Result<(), sqlx::Error> {
    tx.run(
        q("UPDATE accounts SET super_admin = TRUE WHERE tenant_id = $1 AND id = ( \
             SELECT id FROM accounts WHERE tenant_id = $1 AND org_id = $2 AND role <> 'staff' AND status IN ('active', 'pending') \
             ORDER BY CASE status WHEN 'active' THEN 0 ELSE 1 END, id LIMIT 1) \
           AND NOT EXISTS (SELECT 1 FROM accounts b WHERE b.tenant_id = $1 AND b.org_id = $2 AND b.super_admin)")
        .bind(tenant)
        .bind(org_id),
    )
    .await?;
    Ok(())
}

/// An account as its owner, the API and the registration queue see it (ID number masked).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    pub id: i64,
    /// staff, unit, institution, authority, hr, province or system
    pub user_type: String,
    pub user_type_label: &'static str,
    pub role: Role,
    pub role_label: &'static str,
    pub name: String,
    pub id_number: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub org_id: Option<i64>,
    pub org_name: Option<String>,
    pub person_id: Option<i64>,
    pub status: AccountStatus,
    pub must_change_password: bool,
    /// The one admin of the organisation who manages its other admins (超级管理员)
    pub super_admin: bool,
}

impl From<&Account> for AccountView {
    fn from(account: &Account) -> Self {
        AccountView {
            id: account.id,
            user_type: account.user_type.clone(),
            user_type_label: user_type_label(&account.user_type),
            role: account.role,
            role_label: account.role.label(),
            name: account.name.clone(),
            id_number: crate::ids::mask_id_number(&account.id_number),
            phone: account.phone.clone(),
            email: account.email.clone(),
            org_id: account.org_id,
            org_name: account.org_name.clone(),
            person_id: account.person_id,
            status: account.status,
            must_change_password: account.must_change_password,
            super_admin: account.super_admin,
        }
    }
}
