//! Accounts, sessions, login throttling with captcha, CSRF, password changes and resets, casbin.

pub mod admin;
pub mod api;
pub mod csrf;
pub mod oidc;
pub mod pages;
pub mod password;
pub mod rbac;
pub mod session;
pub mod throttle;

use crate::audit;
use crate::auth::throttle::Gate;
use crate::db::{Db, Tx, q};
use crate::error::{AppError, FieldErrors};
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LoginInput {
    pub user_type: String,
    pub id_number: String,
    pub password: String,
    #[serde(default)]
    pub captcha_id: Option<String>,
    #[serde(default)]
    pub captcha_answer: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Credentials {
    id: i64,
    password_hash: String,
    status: String,
}

/// Checks credentials under throttling and captcha; on success returns the account and a new session
/// token (a fresh id: sessions rotate on login).
pub async fn login(state: &AppState, tenant: &TenantCtx, ip: &str, input: &LoginInput) -> Result<(Account, String), AppError> {
    let code = tenant.code();
    let id_number = input.id_number.trim().to_ascii_uppercase();
    let keys = throttle::LoginKeys::new(&input.user_type, &id_number, ip);
    match throttle::gate(&state.db, code, &keys).await? {
        Gate::Locked => {
            return Err(AppError::new(StatusCode::TOO_MANY_REQUESTS, "locked", "此账号从您所在网络登录失败次数过多，请 15 分钟后再试"));
        }
        Gate::CaptchaRequired => {
            let solved = match (&input.captcha_id, &input.captcha_answer) {
                (Some(id), Some(answer)) => throttle::check_captcha(&state.db, code, id, answer).await?,
                _ => false,
            };
            if !solved {
                // A missing or wrong captcha counts as a failure, so guessing ends in the lock.
                throttle::record_failure(&state.db, code, &keys).await?;
                let (code_name, message) = if input.captcha_answer.is_some() {
                    ("bad_captcha", "验证码错误，请重新输入")
                } else {
                    ("captcha_required", "请输入验证码")
                };
                return Err(captcha_error(state, code, code_name, message).await?);
            }
        }
        Gate::Open => {}
    }
    let creds: Option<Credentials> = state
        .db
        .opt(
            q("SELECT id, password_hash, status FROM accounts WHERE tenant_id = $1 AND user_type = $2 AND id_number = $3")
                .bind(code)
                .bind(&input.user_type)
                .bind(&id_number),
        )
        .await?;
    let valid = password::verify(&input.password, creds.as_ref().map(|c| c.password_hash.as_str())).await;
    let Some(creds) = creds.filter(|_| valid) else {
        throttle::record_failure(&state.db, code, &keys).await?;
        let err = AppError::new(StatusCode::UNAUTHORIZED, "bad_credentials", "账号或密码错误");
        if throttle::gate(&state.db, code, &keys).await? == Gate::CaptchaRequired {
            let (id, image) = throttle::new_captcha(&state.db, code).await?;
            return Err(err.with_extra(json!({"captcha": {"id": id, "image": image}})));
        }
        return Err(err);
    };
    match creds.status.as_str() {
        "active" => {}
        "pending" => {
            return Err(AppError::new(StatusCode::FORBIDDEN, "pending", "此账号还未通过审核，请耐心等待或联系审核单位"));
        }
        "rejected" => {
            // The password was right: the owner may read why, and how to correct and resubmit.
            let reason = crate::people::rejection_reason(&state.db, code, creds.id).await?.filter(|r| !r.trim().is_empty());
            let how = if input.user_type == "staff" {
                "请在“注册”中选择单位，用原身份证号和密码修改信息后重新提交。"
            } else {
                "请在“单位注册”中用原管理员身份证号和密码修改信息后重新提交。"
            };
            let message = match &reason {
                Some(reason) => format!("此账号的注册未通过审核。原因：{reason}。{how}"),
                None => format!("此账号的注册未通过审核。{how}"),
            };
            return Err(AppError::new(StatusCode::FORBIDDEN, "rejected", message).with_extra(json!({"reason": reason})));
        }
        "removed" => {
            return Err(AppError::new(StatusCode::FORBIDDEN, "removed", "此账号的管理权限已被移除，如有疑问请联系本单位超级管理员"));
        }
        _ => {
            return Err(AppError::new(StatusCode::FORBIDDEN, "disabled", "此账号已被停用，请联系管理员"));
        }
    }
    throttle::record_success(&state.db, code, &keys).await?;
    state
        .db
        .run(q("UPDATE accounts SET last_login_at = $3 WHERE tenant_id = $1 AND id = $2").bind(code).bind(creds.id).bind(Utc::now()))
        .await?;
    let token = session::create(&state.db, code, creds.id, state.config.session_minutes).await?;
    let account = account_by_id(&state.db, code, creds.id).await?.ok_or_else(AppError::not_found)?;
    Ok((account, token))
}

async fn captcha_error(state: &AppState, tenant: &str, code: &'static str, message: &str) -> Result<AppError, AppError> {
    let (id, image) = throttle::new_captcha(&state.db, tenant).await?;
    Ok(AppError::new(StatusCode::UNAUTHORIZED, code, message).with_extra(json!({"captcha": {"id": id, "image": image}})))
}

pub fn account_json(account: &Account) -> serde_json::Value {
    json!({
        "id": account.id,
        "user_type": account.user_type,
        "role": account.role,
        "name": account.name,
        "id_number": crate::ids::mask_id_number(&account.id_number),
        "phone": account.phone,
        "email": account.email,
        "org_id": account.org_id,
        "org_name": account.org_name,
        "person_id": account.person_id,
        "status": account.status,
        "must_change_password": account.must_change_password,
        "super_admin": account.super_admin,
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PasswordChange {
    pub old_password: String,
    pub new_password: String,
    #[serde(default)]
    pub confirm_password: Option<String>,
}

/// Changes the caller's password after checking the old one; ends the account's other sessions.
pub async fn change_password(state: &AppState, user: &CurrentUser, input: &PasswordChange) -> Result<(), AppError> {
    user.authorize(state, "password", "change").await?;
    let code = user.tenant_code();
    let (hash,): (String,) =
        state.db.one(q("SELECT password_hash FROM accounts WHERE tenant_id = $1 AND id = $2").bind(code).bind(user.account.id)).await?;
    let mut errors = FieldErrors::default();
    if !password::verify(&input.old_password, Some(&hash)).await {
        errors.add("old_password", "原密码不正确");
    }
    if let Err(msg) = password::check_policy(&input.new_password, &user.account.id_number) {
        errors.add("new_password", msg);
    }
    if input.confirm_password.as_ref().is_some_and(|c| c != &input.new_password) {
        errors.add("confirm_password", "两次输入的新密码不一致");
    }
    if input.new_password == input.old_password {
        errors.add("new_password", "新密码不能与原密码相同");
    }
    errors.finish()?;
    let new_hash = password::hash(&input.new_password).await?;
    let mut tx = state.db.begin().await?;
    tx.run(
        q("UPDATE accounts SET password_hash = $3, must_change_password = $4 WHERE tenant_id = $1 AND id = $2")
            .bind(code)
            .bind(user.account.id)
            .bind(new_hash)
            .bind(false),
    )
    .await?;
    // Reset links mailed before the change would undo it.
    void_reset_tokens_tx(&mut tx, code, user.account.id).await?;
    tx.commit().await?;
    session::delete_for_account(&state.db, code, user.account.id, Some(&user.session_id)).await?;
    audit::record(&state.db, code, Some(user.account.id), "password.change", "account", Some(user.account.id), json!({})).await?;
    Ok(())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ResetRequest {
    pub user_type: String,
    pub id_number: String,
    pub email: String,
}

/// Queues a mail with a one-time reset link when the ID number and e-mail match an account. The answer
/// is the same either way, and no mail server is contacted during the request, so neither the answer
/// nor its timing tells anyone whether an account exists.
pub async fn request_reset(state: &AppState, tenant: &TenantCtx, origin: &str, input: &ResetRequest) -> Result<(), AppError> {
    let code = tenant.code();
    let row: Option<(i64, String, Option<String>)> = state
        .db
        .opt(
            q("SELECT id, name, email FROM accounts WHERE tenant_id = $1 AND user_type = $2 AND id_number = $3 AND status = 'active'")
                .bind(code)
                .bind(&input.user_type)
                .bind(input.id_number.trim().to_ascii_uppercase()),
        )
        .await?;
    let Some((account_id, name, Some(email))) = row else {
        return Ok(());
    };
    if !email.eq_ignore_ascii_case(input.email.trim()) {
        return Ok(());
    }
    let (token, id) = password::new_token();
    let mut tx = state.db.begin().await?;
    // Only the newest link works: a new request voids the ones mailed before.
    void_reset_tokens_tx(&mut tx, code, account_id).await?;
    tx.run(
        q("INSERT INTO password_tokens (id, tenant_id, account_id, kind, expires_at) VALUES ($1, $2, $3, 'link', $4)")
            .bind(id)
            .bind(code)
            .bind(account_id)
            .bind(Utc::now() + Duration::hours(1)),
    )
    .await?;
    let link = format!("{origin}{}/reset?token={token}", tenant.base);
    let body = format!(
        "{name}，您好：\n\n请在 1 小时内打开以下链接设置新密码（链接只能使用一次）：\n{link}\n\n如果不是您本人操作，请忽略本邮件。\n\n{}",
        tenant.tenant.settings.name
    );
    crate::mail::queue::queue_tx(&mut tx, code, &email, "重置密码", &body).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ResetConfirm {
    pub token: String,
    pub new_password: String,
}

/// Sets a new password with a one-time link token.
pub async fn confirm_reset(state: &AppState, tenant: &TenantCtx, input: &ResetConfirm) -> Result<(), AppError> {
    let code = tenant.code();
    let token_id = password::token_hash(&input.token);
    let row: Option<(i64, String)> = state
        .db
        .opt(
            q("SELECT t.account_id, a.id_number FROM password_tokens t JOIN accounts a ON a.tenant_id = t.tenant_id AND a.id = t.account_id \
               WHERE t.id = $1 AND t.tenant_id = $2 AND t.used_at IS NULL AND t.expires_at > $3")
                .bind(&token_id)
                .bind(code)
                .bind(Utc::now()),
        )
        .await?;
    let Some((account_id, id_number)) = row else {
        return Err(AppError::bad_request("bad_token", "重置链接无效或已过期，请重新申请"));
    };
    if let Err(msg) = password::check_policy(&input.new_password, &id_number) {
        let mut errors = FieldErrors::default();
        errors.add("new_password", msg);
        return Err(errors.finish().unwrap_err());
    }
    let hash = password::hash(&input.new_password).await?;
    let mut tx = state.db.begin().await?;
    let used =
        tx.run(q("UPDATE password_tokens SET used_at = $2 WHERE id = $1 AND used_at IS NULL").bind(&token_id).bind(Utc::now())).await?;
    if used != 1 {
        return Err(AppError::bad_request("bad_token", "重置链接无效或已过期，请重新申请"));
    }
    tx.run(
        q("UPDATE accounts SET password_hash = $3, must_change_password = $4 WHERE tenant_id = $1 AND id = $2")
            .bind(code)
            .bind(account_id)
            .bind(hash)
            .bind(false),
    )
    .await?;
    // A completed reset voids every other link still out.
    void_reset_tokens_tx(&mut tx, code, account_id).await?;
    tx.commit().await?;
    session::delete_for_account(&state.db, code, account_id, None).await?;
    audit::record(&state.db, code, Some(account_id), "password.reset", "account", Some(account_id), json!({"via": "link"})).await?;
    Ok(())
}

/// Marks every unused reset token of the account as used.
async fn void_reset_tokens_tx(tx: &mut crate::db::Tx, tenant: &str, account_id: i64) -> Result<(), sqlx::Error> {
    tx.run(
        q("UPDATE password_tokens SET used_at = $3 WHERE tenant_id = $1 AND account_id = $2 AND used_at IS NULL")
            .bind(tenant)
            .bind(account_id)
            .bind(Utc::now()),
    )
    .await?;
    Ok(())
}
