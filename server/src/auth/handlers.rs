//! Login, logout, my account, password change and reset: the domain calls and their API and page
//! handlers.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_extra::extract::CookieJar;
use chrono::{Duration, Utc};
use serde::Deserialize;
use serde_json::json;

use super::csrf::{CsrfForm, CsrfToken};
use super::throttle::Gate;
use super::{Account, CurrentUser, MaybeUser, password, session, throttle};
use crate::audit;
use crate::db::q;
use crate::error::{AppError, FieldErrors};
use crate::state::{AppState, ClientIp};
use crate::tenancy::TenantCtx;
use crate::web::{self, Page};

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
    let account = super::account_by_id(&state.db, code, creds.id).await?.ok_or_else(AppError::not_found)?;
    Ok((account, token))
}

async fn captcha_error(state: &AppState, tenant: &str, code: &'static str, message: &str) -> Result<AppError, AppError> {
    let (id, image) = throttle::new_captcha(&state.db, tenant).await?;
    Ok(AppError::new(StatusCode::UNAUTHORIZED, code, message).with_extra(json!({"captcha": {"id": id, "image": image}})))
}

/// `POST /api/v1/session`
#[utoipa::path(post, path = "/t/{tenant}/api/v1/session", request_body = LoginInput, tag = "auth",
    responses((status = 200, description = "Logged in; the session cookie is set"), (status = 401, description = "bad_credentials, captcha_required or bad_captcha"), (status = 403, description = "pending, rejected or disabled")))]
pub async fn api_login(
    State(state): State<AppState>,
    tenant: TenantCtx,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Json(input): Json<LoginInput>,
) -> Result<Response, AppError> {
    let (account, token) = login(&state, &tenant, &ip, &input).await?;
    let jar = jar.add(session::cookie(token, &tenant.base, state.config.secure_cookies));
    Ok((jar, Json(json!({"account": account_json(&account)}))).into_response())
}

/// `DELETE /api/v1/session`
#[utoipa::path(delete, path = "/t/{tenant}/api/v1/session", tag = "auth", responses((status = 204, description = "Logged out")))]
pub async fn api_logout(State(state): State<AppState>, tenant: TenantCtx, user: MaybeUser, jar: CookieJar) -> Result<Response, AppError> {
    if let Some(user) = user.0 {
        session::delete(&state.db, &user.session_id).await?;
    }
    Ok((jar.add(session::removal(&tenant.base)), StatusCode::NO_CONTENT).into_response())
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

/// `GET /api/v1/me`
#[utoipa::path(get, path = "/t/{tenant}/api/v1/me", tag = "auth", responses((status = 200, description = "The logged-in account and, for staff, the profile"), (status = 401, description = "Not logged in")))]
pub async fn api_me(State(state): State<AppState>, user: CurrentUser) -> Result<Json<serde_json::Value>, AppError> {
    let profile = match user.account.person_id {
        Some(id) => crate::people::profile_json(&state.db, user.tenant_code(), id).await?,
        None => serde_json::Value::Null,
    };
    Ok(Json(json!({"tenant": user.tenant_code(), "account": account_json(&user.account), "profile": profile})))
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

/// `POST /api/v1/me/password`
#[utoipa::path(post, path = "/t/{tenant}/api/v1/me/password", request_body = PasswordChange, tag = "auth", responses((status = 204, description = "Changed; other sessions ended"), (status = 422, description = "Wrong old password or weak new one")))]
pub async fn api_change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(input): Json<PasswordChange>,
) -> Result<StatusCode, AppError> {
    change_password(&state, &user, &input).await?;
    Ok(StatusCode::NO_CONTENT)
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
    crate::mail::queue_tx(&mut tx, code, &email, "重置密码", &body).await?;
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

/// `POST /api/v1/password-resets`
#[utoipa::path(post, path = "/t/{tenant}/api/v1/password-resets", request_body = ResetRequest, tag = "auth", responses((status = 202, description = "A link is mailed if the ID number and e-mail match; the answer is the same either way"), (status = 429, description = "rate_limited")))]
pub async fn api_request_reset(
    State(state): State<AppState>,
    tenant: TenantCtx,
    headers: HeaderMap,
    Json(input): Json<ResetRequest>,
) -> Result<Response, AppError> {
    request_reset(&state, &tenant, &web::origin(&state, &headers), &input).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"message": "如果信息匹配，重置链接已发送到您的邮箱"}))).into_response())
}

/// `POST /api/v1/password-resets/confirm`
#[utoipa::path(post, path = "/t/{tenant}/api/v1/password-resets/confirm", request_body = ResetConfirm, tag = "auth", responses((status = 204, description = "Password set"), (status = 400, description = "bad_token")))]
pub async fn api_confirm_reset(
    State(state): State<AppState>,
    tenant: TenantCtx,
    Json(input): Json<ResetConfirm>,
) -> Result<StatusCode, AppError> {
    confirm_reset(&state, &tenant, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- pages ----

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    user_type: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    password: String,
    captcha_id: Option<String>,
    captcha_answer: Option<String>,
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
    user_type: Option<String>,
}

pub async fn login_page(page: Page, Query(query): Query<NextQuery>) -> Result<Response, AppError> {
    page.render(
        "login.html",
        json!({"user_types": user_types_json(), "form": {"user_type": query.user_type.unwrap_or_else(|| "staff".into())}, "next": query.next}),
    )
}

fn user_types_json() -> Vec<serde_json::Value> {
    super::USER_TYPES.iter().map(|(code, _, label)| json!({"code": code, "label": label})).collect()
}

/// Where to go after login: `next` only when it is a plain path inside this tenant's portal (no scheme,
/// host, `//`, backslash, control or non-ASCII characters, which browsers may resolve to another site or
/// which cannot go into a `Location` header); otherwise the account page.
fn safe_next(base: &str, next: Option<&str>) -> String {
    let inside = |n: &str| {
        let rest = if base.is_empty() { Some(n) } else { n.strip_prefix(base).filter(|r| r.is_empty() || r.starts_with(['/', '?'])) };
        rest.is_some_and(|r| !r.starts_with("//"))
    };
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && inside(n)
                && n.bytes().all(|b| b.is_ascii_graphic())
                && !n.contains('\\')
                && n.parse::<axum::http::Uri>().is_ok_and(|u| u.scheme().is_none() && u.authority().is_none()) =>
        {
            n.to_owned()
        }
        _ => format!("{base}/account"),
    }
}

pub async fn login_submit(
    State(state): State<AppState>,
    page: Page,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<Response, AppError> {
    let input = LoginInput {
        user_type: form.user_type.clone(),
        id_number: form.id_number.clone(),
        password: form.password.clone(),
        captcha_id: form.captcha_id.filter(|s| !s.is_empty()),
        captcha_answer: form.captcha_answer.filter(|s| !s.is_empty()),
    };
    match login(&state, &page.tenant, &ip, &input).await {
        Ok((account, token)) => {
            let jar = jar.add(session::cookie(token, &page.tenant.base, state.config.secure_cookies));
            let target = if account.must_change_password {
                format!("{}/account/password", page.tenant.base)
            } else {
                safe_next(&page.tenant.base, form.next.as_deref())
            };
            Ok((jar, Redirect::to(&target)).into_response())
        }
        Err(err) if err.status.is_client_error() => {
            let captcha = err.extra.as_ref().and_then(|e| e.get("captcha")).cloned();
            let mut response = page.render(
                "login.html",
                json!({
                    "user_types": user_types_json(),
                    "form": {"user_type": form.user_type, "id_number": form.id_number},
                    "error": err.message,
                    "rejected": err.code == "rejected",
                    "captcha": captcha,
                    "next": form.next,
                }),
            )?;
            *response.status_mut() = err.status;
            Ok(response)
        }
        Err(err) => Err(err),
    }
}

pub async fn logout_submit(
    State(state): State<AppState>,
    page: Page,
    jar: CookieJar,
    CsrfForm(_): CsrfForm<serde_json::Value>,
) -> Result<Response, AppError> {
    if let Some(user) = &page.user {
        session::delete(&state.db, &user.session_id).await?;
    }
    Ok((jar.add(session::removal(&page.tenant.base)), Redirect::to(&format!("{}/", page.tenant.base))).into_response())
}

pub async fn password_page(page: Page) -> Result<Response, AppError> {
    page.require_user()?;
    page.render("password.html", json!({}))
}

pub async fn password_submit(
    State(state): State<AppState>,
    page: Page,
    CsrfForm(form): CsrfForm<PasswordChange>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match change_password(&state, user, &form).await {
        Ok(()) => page.render("password.html", json!({"done": true})),
        Err(err) if err.code == "invalid" => {
            page.render_status(StatusCode::UNPROCESSABLE_ENTITY, "password.html", json!({"errors": err.fields}))
        }
        Err(err) => Err(err),
    }
}

pub async fn forgot_page(page: Page) -> Result<Response, AppError> {
    page.render("forgot.html", json!({"user_types": user_types_json()}))
}

pub async fn forgot_submit(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<ResetRequest>,
) -> Result<Response, AppError> {
    request_reset(&state, &page.tenant, &web::origin(&state, &headers), &form).await?;
    page.render("forgot.html", json!({"user_types": user_types_json(), "sent": true}))
}

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

pub async fn reset_page(page: Page, Query(query): Query<TokenQuery>) -> Result<Response, AppError> {
    page.render("reset.html", json!({"token": query.token}))
}

pub async fn reset_submit(State(state): State<AppState>, page: Page, CsrfForm(form): CsrfForm<ResetConfirm>) -> Result<Response, AppError> {
    match confirm_reset(&state, &page.tenant, &form).await {
        Ok(()) => page.render("reset.html", json!({"done": true})),
        Err(err) if err.status.is_client_error() => {
            page.render_status(err.status, "reset.html", json!({"token": form.token, "error": err.message, "errors": err.fields}))
        }
        Err(err) => Err(err),
    }
}

/// Used by the CSRF-token-bearing logout button on every page.
pub fn csrf_json(token: &CsrfToken) -> serde_json::Value {
    json!(token.0)
}

/// The account pages: login, logout, password reset and change.
pub fn page_routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout_submit))
        .route("/forgot", get(forgot_page).post(forgot_submit).layer(throttle::limited(state, "reset")))
        .route("/reset", get(reset_page).post(reset_submit))
        .route("/account/password", get(password_page).post(password_submit))
}

/// The session, the caller and password resets in the JSON API.
pub fn api_routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/session", post(api_login).delete(api_logout))
        .route("/me", get(api_me))
        .route("/me/password", post(api_change_password))
        .route("/password-resets", post(api_request_reset).layer(throttle::limited(state, "reset")))
        .route("/password-resets/confirm", post(api_confirm_reset))
}
