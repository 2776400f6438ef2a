//! jijiao as an OpenID Connect provider for the tenant's online training platforms (issue 6): a staff
//! member who clicks a platform's tile arrives at the platform, which sends them here; they log in (or
//! already are) and go back to the platform with an authorization code.
//!
//! - Issuer `{origin}/t/{code}`; discovery at `/.well-known/openid-configuration` under it.
//! - Clients are the tenant's enabled platforms: `client_id` = platform code, `client_secret` = the
//!   platform's current API key secret (`client_secret_basic` or `client_secret_post`). Redirect URIs
//!   (exact match) and granted scopes come from `[[platforms]]` in tenant.toml.
//! - Authorization code flow only, PKCE S256 required; codes live 60 s, are used once and stored as
//!   SHA-256; access tokens (for userinfo) live 10 minutes, stored as SHA-256.
//! - ID tokens are RS256 JWTs (keys in [`crate::keys::rsa`], JWKS at `/oauth/jwks`). `sub` is the
//!   account id within the tenant (public subject: stable, the same for every platform of the tenant).
//!   `profile` adds `name` and `unit`; `id_number` adds the resident ID number — only for a platform
//!   granted that scope in tenant.toml.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::db::q;
use crate::error::AppError;
use crate::keys::rsa::{self as keys, OIDC};
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::web::Page;

/// Scopes a platform may be granted.
pub const SCOPES: &[&str] = &["openid", "profile", "id_number"];
const CODE_SECS: i64 = 60;
const TOKEN_SECS: i64 = 600;

fn issuer(state: &AppState, headers: &HeaderMap, tenant: &TenantCtx) -> String {
    format!("{}/t/{}", crate::web::origin(state, headers), tenant.code())
}

fn hash(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    B64.encode(bytes)
}

/// A platform as an OpenID Connect client.
#[derive(sqlx::FromRow)]
struct Client {
    id: i64,
    redirect_uris: String,
    scopes: String,
}

impl Client {
    fn redirect_uris(&self) -> Vec<String> {
        serde_json::from_str(&self.redirect_uris).unwrap_or_default()
    }
    fn scopes(&self) -> Vec<String> {
        serde_json::from_str(&self.scopes).unwrap_or_default()
    }
}

async fn client(state: &AppState, tenant: &str, client_id: &str) -> Result<Option<Client>, AppError> {
    Ok(state
        .db
        .opt(
            q("SELECT id, redirect_uris, scopes FROM platforms WHERE tenant_id = $1 AND code = $2 AND enabled = $3")
                .bind(tenant)
                .bind(client_id)
                .bind(true),
        )
        .await?)
}

async fn discovery(State(state): State<AppState>, tenant: TenantCtx, headers: HeaderMap) -> Response {
    let iss = issuer(&state, &headers, &tenant);
    axum::Json(json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/oauth/authorize"),
        "token_endpoint": format!("{iss}/oauth/token"),
        "userinfo_endpoint": format!("{iss}/oauth/userinfo"),
        "jwks_uri": format!("{iss}/oauth/jwks"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": SCOPES,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "name", "unit", "id_number"],
    }))
    .into_response()
}

async fn jwks(State(state): State<AppState>, tenant: TenantCtx) -> Result<Response, AppError> {
    keys::current(&state.db, tenant.code(), OIDC).await.map_err(AppError::internal)?;
    let set = keys::jwks(&state.db, tenant.code(), OIDC).await.map_err(AppError::internal)?;
    Ok(([(header::CACHE_CONTROL, "public, max-age=300")], axum::Json(set)).into_response())
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    response_type: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

fn with_params(uri: &str, params: &[(&str, &str)]) -> String {
    let mut out = uri.to_owned();
    for (i, (k, v)) in params.iter().enumerate() {
        out.push(if i == 0 && !uri.contains('?') { '?' } else { '&' });
        out.push_str(&format!("{k}={}", urlencoding::encode(v)));
    }
    out
}

/// `GET /oauth/authorize`: a logged-in staff member of this tenant gets a code for the platform.
/// Without a valid client and registered redirect URI nothing is redirected (a Chinese error page);
/// later errors go back to the platform as `error=`.
async fn authorize(State(state): State<AppState>, page: Page, Query(query): Query<AuthorizeQuery>) -> Result<Response, AppError> {
    let tenant = page.tenant.code().to_owned();
    let client_id = query.client_id.as_deref().unwrap_or_default();
    let Some(client) = client(&state, &tenant, client_id).await? else {
        return Err(AppError::bad_request("invalid_client", "未知的培训平台，无法登录"));
    };
    let Some(redirect_uri) = query.redirect_uri.as_deref().filter(|u| client.redirect_uris().iter().any(|r| r == u)) else {
        return Err(AppError::bad_request("invalid_redirect_uri", "培训平台的回调地址未登记，无法登录"));
    };
    let st = query.state.as_deref();
    let fail = |error: &str, description: &str| -> Result<Response, AppError> {
        let mut params = vec![("error", error), ("error_description", description)];
        if let Some(s) = st {
            params.push(("state", s));
        }
        Ok(Redirect::to(&with_params(redirect_uri, &params)).into_response())
    };
    if query.response_type.as_deref() != Some("code") {
        return fail("unsupported_response_type", "only response_type=code is supported");
    }
    let requested: Vec<&str> = query.scope.as_deref().unwrap_or_default().split_whitespace().collect();
    if !requested.contains(&"openid") {
        return fail("invalid_scope", "the openid scope is required");
    }
    let granted = client.scopes();
    let scope: Vec<&str> = requested.iter().copied().filter(|s| granted.iter().any(|g| g == s)).collect();
    if !scope.contains(&"openid") {
        return fail("invalid_scope", "the platform is not granted the openid scope");
    }
    let challenge = query.code_challenge.as_deref().unwrap_or_default();
    if query.code_challenge_method.as_deref() != Some("S256") || challenge.len() != 43 {
        return fail("invalid_request", "PKCE with code_challenge_method=S256 is required");
    }
    // Not logged in: the login page, then back here (html_errors turns 401 into that redirect).
    let user = page.require_user()?;
    if user.account.role != crate::auth::Role::Staff {
        return fail("access_denied", "only staff accounts sign in to training platforms");
    }
    let code = random_token();
    let now = Utc::now();
    state
        .db
        .run(
            q("INSERT INTO oidc_codes (tenant_id, code_hash, platform_id, account_id, redirect_uri, scope, code_challenge, nonce, auth_time, expires_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
            .bind(&tenant)
            .bind(hash(&code))
            .bind(client.id)
            .bind(user.account.id)
            .bind(redirect_uri)
            .bind(scope.join(" "))
            .bind(challenge)
            .bind(query.nonce.clone())
            .bind(now)
            .bind(now + Duration::seconds(CODE_SECS)),
        )
        .await?;
    purge_expired(&state.db, &tenant, now).await?;
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = st {
        params.push(("state", s));
    }
    Ok(Redirect::to(&with_params(redirect_uri, &params)).into_response())
}

/// An RFC 6749 §5.2 error answer of the token endpoint.
fn token_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut response = (status, axum::Json(json!({"error": error, "error_description": description}))).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"jijiao\""));
    }
    response
}

/// The client's credentials from `Authorization: Basic` or the form (not both).
type TokenError = (StatusCode, &'static str, &'static str);

fn client_credentials(headers: &HeaderMap, form: &std::collections::HashMap<String, String>) -> Result<(String, String), TokenError> {
    let basic = headers.get(header::AUTHORIZATION).and_then(|h| h.to_str().ok()).and_then(|h| h.strip_prefix("Basic "));
    let in_form = form.get("client_secret").is_some();
    match basic {
        Some(_) if in_form => Err((StatusCode::BAD_REQUEST, "invalid_request", "use one client authentication method")),
        Some(b) => {
            let decoded = STANDARD.decode(b.trim()).ok().and_then(|d| String::from_utf8(d).ok());
            let pair = decoded.as_deref().and_then(|d| d.split_once(':')).and_then(|(id, secret)| {
                Some((urlencoding::decode(id).ok()?.into_owned(), urlencoding::decode(secret).ok()?.into_owned()))
            });
            pair.ok_or((StatusCode::UNAUTHORIZED, "invalid_client", "malformed client credentials"))
        }
        None => match (form.get("client_id"), form.get("client_secret")) {
            (Some(id), Some(secret)) => Ok((id.clone(), secret.clone())),
            _ => Err((StatusCode::UNAUTHORIZED, "invalid_client", "client authentication is required")),
        },
    }
}

#[derive(sqlx::FromRow)]
struct CodeRow {
    platform_id: i64,
    account_id: i64,
    redirect_uri: String,
    scope: String,
    code_challenge: String,
    nonce: Option<String>,
    auth_time: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

/// `POST /oauth/token` (form): exchanges a code for an ID token and an access token.
async fn token(State(state): State<AppState>, tenant: TenantCtx, headers: HeaderMap, body: Bytes) -> Result<Response, AppError> {
    let Ok(form) = serde_urlencoded::from_bytes::<std::collections::HashMap<String, String>>(&body) else {
        return Ok(token_error(StatusCode::BAD_REQUEST, "invalid_request", "the body must be application/x-www-form-urlencoded"));
    };
    let (client_id, secret) = match client_credentials(&headers, &form) {
        Ok(c) => c,
        Err((status, error, description)) => return Ok(token_error(status, error, description)),
    };
    let code_tenant = tenant.code();
    let secrets: Vec<(i64, String)> = state
        .db
        .all(
            q("SELECT p.id, k.secret FROM platforms p JOIN platform_keys k ON k.tenant_id = p.tenant_id AND k.platform_id = p.id \
               WHERE p.tenant_id = $1 AND p.code = $2 AND p.enabled = $3 AND k.revoked_at IS NULL")
            .bind(code_tenant)
            .bind(&client_id)
            .bind(true),
        )
        .await?;
    // Compared as digests, so the comparison's time says nothing about the secret.
    let Some(platform_id) = secrets.iter().find(|(_, s)| Sha256::digest(s.as_bytes()) == Sha256::digest(secret.as_bytes())).map(|p| p.0)
    else {
        return Ok(token_error(StatusCode::UNAUTHORIZED, "invalid_client", "unknown client or wrong secret"));
    };
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return Ok(token_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "only authorization_code is supported"));
    }
    let (Some(code), Some(redirect_uri), Some(verifier)) = (form.get("code"), form.get("redirect_uri"), form.get("code_verifier")) else {
        return Ok(token_error(StatusCode::BAD_REQUEST, "invalid_request", "code, redirect_uri and code_verifier are required"));
    };
    let code_hash = hash(code);
    let now = Utc::now();
    // Used once: the first exchange marks it, whatever its outcome.
    let taken = state
        .db
        .run(
            q("UPDATE oidc_codes SET used_at = $3 WHERE tenant_id = $1 AND code_hash = $2 AND used_at IS NULL")
                .bind(code_tenant)
                .bind(&code_hash)
                .bind(now),
        )
        .await?;
    let row: Option<CodeRow> = state
        .db
        .opt(
            q("SELECT platform_id, account_id, redirect_uri, scope, code_challenge, nonce, auth_time, expires_at FROM oidc_codes \
               WHERE tenant_id = $1 AND code_hash = $2")
            .bind(code_tenant)
            .bind(&code_hash),
        )
        .await?;
    let Some(row) = row.filter(|_| taken == 1) else {
        return Ok(token_error(StatusCode::BAD_REQUEST, "invalid_grant", "the code is unknown or was already used"));
    };
    if row.platform_id != platform_id || row.expires_at <= now || &row.redirect_uri != redirect_uri {
        return Ok(token_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the code is expired or was issued for another client or redirect_uri",
        ));
    }
    if !(43..=128).contains(&verifier.len()) || B64.encode(Sha256::digest(verifier.as_bytes())) != row.code_challenge {
        return Ok(token_error(StatusCode::BAD_REQUEST, "invalid_grant", "the code_verifier does not match the code_challenge"));
    }
    let Some(account) = crate::auth::account_by_id(&state.db, code_tenant, row.account_id).await? else {
        return Ok(token_error(StatusCode::BAD_REQUEST, "invalid_grant", "the account is gone"));
    };
    let access_token = random_token();
    state
        .db
        .run(
            q("INSERT INTO oidc_tokens (tenant_id, token_hash, platform_id, account_id, scope, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(code_tenant)
                .bind(hash(&access_token))
                .bind(platform_id)
                .bind(row.account_id)
                .bind(&row.scope)
                .bind(now + Duration::seconds(TOKEN_SECS)),
        )
        .await?;
    let mut claims = user_claims(&account, &row.scope);
    claims["iss"] = json!(issuer(&state, &headers, &tenant));
    claims["aud"] = json!(client_id);
    claims["iat"] = json!(now.timestamp());
    claims["exp"] = json!(now.timestamp() + TOKEN_SECS);
    claims["auth_time"] = json!(row.auth_time.timestamp());
    if let Some(nonce) = &row.nonce {
        claims["nonce"] = json!(nonce);
    }
    let key = keys::current(&state.db, code_tenant, OIDC).await.map_err(AppError::internal)?;
    let body = json!({"access_token": access_token, "token_type": "Bearer", "expires_in": TOKEN_SECS,
                      "id_token": key.sign_jwt(&claims), "scope": row.scope});
    let mut response = axum::Json(body).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// What a platform learns about the account under `scope` (already limited to what it is granted).
fn user_claims(account: &crate::auth::Account, scope: &str) -> Value {
    let scopes: Vec<&str> = scope.split_whitespace().collect();
    let mut claims = json!({"sub": account.id.to_string()});
    if scopes.contains(&"profile") {
        claims["name"] = json!(account.name);
        claims["unit"] = json!(account.org_name);
    }
    if scopes.contains(&"id_number") {
        claims["id_number"] = json!(account.id_number);
    }
    claims
}

/// `GET|POST /oauth/userinfo` with `Authorization: Bearer <access token>`.
async fn userinfo(State(state): State<AppState>, tenant: TenantCtx, headers: HeaderMap) -> Result<Response, AppError> {
    let unauthorized = || {
        let mut r = (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": "invalid_token"}))).into_response();
        r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer error=\"invalid_token\""));
        r
    };
    let Some(token) = headers.get(header::AUTHORIZATION).and_then(|h| h.to_str().ok()).and_then(|h| h.strip_prefix("Bearer ")) else {
        return Ok(unauthorized());
    };
    let row: Option<(i64, String)> = state
        .db
        .opt(
            q("SELECT account_id, scope FROM oidc_tokens WHERE tenant_id = $1 AND token_hash = $2 AND expires_at > $3")
                .bind(tenant.code())
                .bind(hash(token.trim()))
                .bind(Utc::now()),
        )
        .await?;
    let Some((account_id, scope)) = row else {
        return Ok(unauthorized());
    };
    let Some(account) = crate::auth::account_by_id(&state.db, tenant.code(), account_id).await? else {
        return Ok(unauthorized());
    };
    Ok(axum::Json(user_claims(&account, &scope)).into_response())
}

/// Mounted with the tenant's pages (outside `/api/v1`, whose guard wants JSON bodies).
/// Expired codes and tokens go now and then: once past `expires_at` they are refused anyway (a used
/// code is kept until then so that its reuse is recognised as such).
async fn purge_expired(db: &crate::db::Db, tenant: &str, now: chrono::DateTime<Utc>) -> Result<(), sqlx::Error> {
    if rand::random::<u8>() < 8 {
        db.run(q("DELETE FROM oidc_codes WHERE tenant_id = $1 AND expires_at < $2").bind(tenant).bind(now)).await?;
        db.run(q("DELETE FROM oidc_tokens WHERE tenant_id = $1 AND expires_at < $2").bind(tenant).bind(now)).await?;
    }
    Ok(())
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/oauth/authorize", get(authorize))
        .route("/oauth/token", axum::routing::post(token))
        .route("/oauth/userinfo", get(userinfo).post(userinfo))
        .route("/oauth/jwks", get(jwks))
}
