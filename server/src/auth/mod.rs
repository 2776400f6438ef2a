//! Accounts, sessions, login throttling with captcha, CSRF, password changes and resets, casbin.

pub mod admin;
pub mod csrf;
pub mod handlers;
pub mod oidc;
pub mod password;
pub mod rbac;
pub mod session;
pub mod throttle;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::Utc;
use serde::Serialize;

use crate::db::{Db, Tx, q};
use crate::error::AppError;
use crate::state::AppState;
use crate::tenancy::TenantCtx;

/// Login user types (as the seeds' login forms offer them) and the role each one's accounts get.
pub const USER_TYPES: &[(&str, &str, &str)] = &[
    ("staff", "staff", "专业技术人员/个人"),
    ("unit", "unit_admin", "单位管理员"),
    ("institution", "institution_admin", "施教机构"),
    ("authority", "authority_admin", "行业主管部门"),
    ("hr", "hr_admin", "市、区（县）人社局"),
    ("province", "province_admin", "省人社厅"),
    ("system", "system_admin", "系统管理员"),
];

pub fn role_for_user_type(user_type: &str) -> Option<&'static str> {
    USER_TYPES.iter().find(|(t, _, _)| *t == user_type).map(|(_, r, _)| *r)
}

pub fn user_type_for_role(role: &str) -> Option<&'static str> {
    USER_TYPES.iter().find(|(_, r, _)| *r == role).map(|(t, _, _)| *t)
}

/// Which org kind an admin role belongs to.
pub fn org_kind_for_role(role: &str) -> Option<&'static str> {
    Some(match role {
        "unit_admin" => "unit",
        "institution_admin" => "institution",
        "authority_admin" => "authority",
        "hr_admin" => "hr",
        "province_admin" | "system_admin" => "province",
        _ => return None,
    })
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
    pub role: String,
    pub status: String,
    pub must_change_password: bool,
    /// The one admin of the organisation who manages its other admins (超级管理员).
    pub super_admin: bool,
    /// Materialised path of the account's organisation: the root of what it may see.
    pub org_path: Option<String>,
    /// The org's path under its supervising authority, if any.
    pub org_supervisor_path: Option<String>,
    pub org_name: Option<String>,
}

pub const ACCOUNT_COLUMNS: &str = "a.id, a.tenant_id, a.user_type, a.id_number, a.name, a.phone, a.email, a.org_id, \
     a.person_id, a.role, a.status, a.must_change_password, a.super_admin, o.path AS org_path, o.supervisor_path AS org_supervisor_path, o.name AS org_name";

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
        if state.rbac.allows(&self.account.role, self.tenant_code(), object, action).await { Ok(()) } else { Err(AppError::forbidden()) }
    }

    pub async fn can(&self, state: &AppState, object: &str, action: &str) -> bool {
        state.rbac.allows(&self.account.role, self.tenant_code(), object, action).await
    }

    /// The org subtree this account administers, as a `LIKE` pattern on `orgs.path`.
    /// Staff have none.
    pub fn scope_pattern(&self) -> Option<String> {
        if self.account.role == "staff" {
            return None;
        }
        self.account.org_path.as_ref().map(|p| format!("{p}%"))
    }

    pub fn is_admin(&self) -> bool {
        self.account.role != "staff"
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
        let Some((session_id, account_id)) = session::lookup(&state.db, tenant.code(), &token, state.config.session_minutes).await? else {
            return Ok(MaybeUser(None));
        };
        let Some(account) = account_by_id(&state.db, tenant.code(), account_id).await? else {
            return Ok(MaybeUser(None));
        };
        if account.status != "active" {
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
    pub role: &'a str,
    pub status: &'a str,
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
    if let Some(org_id) = a.org_id.filter(|_| a.role != "staff") {
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
