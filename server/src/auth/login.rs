//! Logging in (with the throttle and captcha), changing a password and resetting a forgotten one.

use crate::audit;
use crate::auth::throttle::Gate;
use crate::db::q;
use crate::error::{AppError, FieldErrors};
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use axum::http::StatusCode;
use chrono::{Duration, Utc};
use serde::Deserialize;
use serde_json::json;

use super::*;

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
    status: AccountStatus,
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
    match creds.status {
        AccountStatus::Active => {}
        AccountStatus::Pending => {
            return Err(AppError::new(StatusCode::FORBIDDEN, "pending", "此账号还未通过审核，请耐心等待或联系审核单位"));
        }
        AccountStatus::Rejected => {
            // The password was right: the owner may read why, and how to correct and resubmit.
            let reason = crate::people::registration::rejection_reason(&state.db, code, creds.id).await?.filter(|r| !r.trim().is_empty());
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
        AccountStatus::Removed => {
            return Err(AppError::new(StatusCode::FORBIDDEN, "removed", "此账号的管理权限已被移除，如有疑问请联系本单位超级管理员"));
        }
        AccountStatus::Disabled => {
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
