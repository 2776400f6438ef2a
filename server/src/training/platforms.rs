//! Online training platforms (网络培训机构, seed 002 §4) as API clients: their configuration (synced from
//! `[[platforms]]` in tenant.toml), their credentials, and the HMAC authentication of their requests.
//!
//! A request is signed with the platform's secret:
//! `hex(hmac_sha256(secret, METHOD \n PATH \n TIMESTAMP \n NONCE \n hex(sha256(BODY))))`, where PATH is
//! the path and query exactly as sent (`/t/hunan/api/v1/platform/completions`), TIMESTAMP is Unix
//! seconds within ±[`WINDOW_SECS`] of the server's clock, and NONCE is fresh per request. Nonces are
//! kept in the database until their timestamp expires, so a replay is refused by every server process.
//!
//! HMAC needs the secret on the server, so the secret is stored as issued — a random 256-bit value that
//! is worth nothing but access to this one platform's API — and shown only once, when it is issued.
//! (Encrypting it under a key in the server's configuration would protect a stolen database dump but not
//! a stolen server; the database already holds everything the key would protect.)

use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use hmac::{KeyInit, Mac};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::csrf::CsrfForm;
use crate::db::{Db, Tx, q};
use crate::error::AppError;
use crate::state::AppState;
use crate::tenancy::{PlatformSettings, TenantCtx};
use crate::web::Page;

type HmacSha256 = hmac::Hmac<sha2_hmac::Sha256>;

/// How far a request's timestamp may be from the server's clock, either way.
pub const WINDOW_SECS: i64 = 300;

pub const HEADER_KEY: &str = "x-jijiao-key";
pub const HEADER_TIMESTAMP: &str = "x-jijiao-timestamp";
pub const HEADER_NONCE: &str = "x-jijiao-nonce";
pub const HEADER_SIGNATURE: &str = "x-jijiao-signature";

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Platform {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub site: String,
    pub phone: String,
    pub year_from: i64,
    pub year_to: Option<i64>,
    pub enabled: bool,
}

impl Platform {
    /// Whether the province recognises the platform's hours for `year`.
    pub fn recognises(&self, year: i64) -> bool {
        self.year_from <= year && self.year_to.is_none_or(|to| year <= to)
    }

    pub fn years_text(&self) -> String {
        match self.year_to {
            Some(to) => format!("{}—{} 年度", self.year_from, to),
            None => format!("{} 年度起", self.year_from),
        }
    }
}

const COLUMNS: &str = "id, code, name, site, phone, year_from, year_to, enabled";

/// Makes the tenant's `platforms` rows match tenant.toml, inside `tenant sync`'s transaction. A platform
/// that left the file is disabled (its keys stop working), never deleted: its history stays.
pub async fn sync_tx(tx: &mut Tx, tenant: &str, platforms: &[PlatformSettings], now: DateTime<Utc>) -> anyhow::Result<()> {
    for (i, p) in platforms.iter().enumerate() {
        if p.code.is_empty() || p.code.len() > 32 || !p.code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            anyhow::bail!("[[platforms]] code {:?}: 1–32 lowercase ASCII letters, digits or '-'", p.code);
        }
        if platforms[..i].iter().any(|o| o.code == p.code) {
            anyhow::bail!("[[platforms]] code {:?} appears twice", p.code);
        }
        if p.name.trim().is_empty() || !(1990..=2100).contains(&p.from) || p.to.is_some_and(|to| to < p.from || to > 2100) {
            anyhow::bail!("[[platforms]] {}: needs a name and recognised years 1990 ≤ from ≤ to ≤ 2100", p.code);
        }
        if let Some(scope) = p.scopes.iter().find(|s| !crate::auth::oidc::SCOPES.contains(&s.as_str())) {
            anyhow::bail!("[[platforms]] {}: unknown scope {scope:?} (known: {:?})", p.code, crate::auth::oidc::SCOPES);
        }
        if let Some(uri) = p.redirect_uris.iter().find(|u| !(u.starts_with("https://") || u.starts_with("http://")) || u.contains('#')) {
            anyhow::bail!("[[platforms]] {}: redirect URI {uri:?} must be an absolute http(s) URL without a fragment", p.code);
        }
        tx.run(
            q("INSERT INTO platforms (tenant_id, code, name, site, phone, year_from, year_to, enabled, synced_at, redirect_uris, scopes) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (tenant_id, code) DO UPDATE SET name = excluded.name, \
               site = excluded.site, phone = excluded.phone, year_from = excluded.year_from, year_to = excluded.year_to, \
               enabled = excluded.enabled, synced_at = excluded.synced_at, redirect_uris = excluded.redirect_uris, scopes = excluded.scopes")
            .bind(tenant)
            .bind(&p.code)
            .bind(&p.name)
            .bind(&p.site)
            .bind(&p.phone)
            .bind(p.from)
            .bind(p.to)
            .bind(true)
            .bind(now)
            .bind(serde_json::to_string(&p.redirect_uris)?)
            .bind(serde_json::to_string(&p.scopes)?),
        )
        .await?;
    }
    let listed: Vec<(String,)> =
        tx.all(q("SELECT code FROM platforms WHERE tenant_id = $1 AND enabled = $2").bind(tenant).bind(true)).await?;
    for (code,) in listed.into_iter().filter(|(c,)| !platforms.iter().any(|p| &p.code == c)) {
        tx.run(
            q("UPDATE platforms SET enabled = $3, synced_at = $4 WHERE tenant_id = $1 AND code = $2")
                .bind(tenant)
                .bind(code)
                .bind(false)
                .bind(now),
        )
        .await?;
    }
    Ok(())
}

/// Every platform of a tenant (enabled first, then by code).
pub async fn list(db: &Db, tenant: &str) -> Result<Vec<Platform>, sqlx::Error> {
    db.all(q(format!("SELECT {COLUMNS} FROM platforms WHERE tenant_id = $1 ORDER BY enabled DESC, id")).bind(tenant)).await
}

pub async fn by_code(db: &Db, tenant: &str, code: &str) -> Result<Option<Platform>, sqlx::Error> {
    db.opt(q(format!("SELECT {COLUMNS} FROM platforms WHERE tenant_id = $1 AND code = $2")).bind(tenant).bind(code)).await
}

/// API credentials as issued: shown once, never again.
#[derive(Debug, Clone, Serialize)]
pub struct Credentials {
    pub platform: String,
    pub key_id: String,
    pub secret: String,
}

/// Issues a platform's credentials. With `rotate` the platform's current key is revoked in the same
/// transaction; without it a platform that already has a key is refused (its secret cannot be shown
/// again). Audited.
pub async fn issue(db: &Db, tenant: &str, code: &str, rotate: bool, by: Option<i64>) -> Result<Credentials, AppError> {
    let platform = by_code(db, tenant, code).await?.filter(|p| p.enabled).ok_or_else(AppError::not_found)?;
    let mut tx = db.begin().await?;
    let now = Utc::now();
    let active = tx
        .exists(
            q("SELECT 1 FROM platform_keys WHERE tenant_id = $1 AND platform_id = $2 AND revoked_at IS NULL")
                .bind(tenant)
                .bind(platform.id),
        )
        .await?;
    if active && !rotate {
        return Err(AppError::conflict("has_credentials", "该平台已有接口密钥（密钥只显示一次）；如需新密钥请轮换（--rotate）"));
    }
    let revoked = tx
        .run(
            q("UPDATE platform_keys SET revoked_at = $3 WHERE tenant_id = $1 AND platform_id = $2 AND revoked_at IS NULL")
                .bind(tenant)
                .bind(platform.id)
                .bind(now),
        )
        .await?;
    let key_id = format!("{}-{}", platform.code, hex::encode(rand::random::<[u8; 8]>()));
    let secret = hex::encode(rand::random::<[u8; 32]>());
    tx.run(
        q("INSERT INTO platform_keys (tenant_id, key_id, platform_id, secret, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(tenant)
            .bind(&key_id)
            .bind(platform.id)
            .bind(&secret)
            .bind(now)
            .bind(by),
    )
    .await?;
    crate::audit::record_tx(
        &mut tx,
        tenant,
        by,
        if rotate { "platform.credentials.rotate" } else { "platform.credentials.issue" },
        "platform",
        Some(platform.id),
        json!({"platform": platform.code, "key_id": key_id, "revoked": revoked}),
    )
    .await?;
    tx.commit().await?;
    Ok(Credentials { platform: platform.code, key_id, secret })
}

/// The signature of a request, as the platform computes it and the server checks it.
pub fn sign(secret: &str, method: &str, path: &str, timestamp: i64, nonce: &str, body: &[u8]) -> String {
    hex::encode(mac(secret, method, path, timestamp, nonce, body).finalize().into_bytes())
}

fn mac(secret: &str, method: &str, path: &str, timestamp: i64, nonce: &str, body: &[u8]) -> HmacSha256 {
    use sha2::Digest;
    let body_hash = hex::encode(sha2::Sha256::digest(body));
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(format!("{method}\n{path}\n{timestamp}\n{nonce}\n{body_hash}").as_bytes());
    mac
}

/// The headers a platform sends, for clients written in Rust (the tests and the load generator).
pub fn signed_headers(key_id: &str, secret: &str, method: &str, path: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    let timestamp = Utc::now().timestamp();
    let nonce = hex::encode(rand::random::<[u8; 16]>());
    let signature = sign(secret, method, path, timestamp, &nonce, body);
    vec![(HEADER_KEY, key_id.to_owned()), (HEADER_TIMESTAMP, timestamp.to_string()), (HEADER_NONCE, nonce), (HEADER_SIGNATURE, signature)]
}

fn refused(code: &'static str, message: &str) -> AppError {
    AppError::new(StatusCode::UNAUTHORIZED, code, message)
}

/// An authenticated platform request: the platform (of the request's tenant), and the body it signed.
pub struct PlatformCall {
    pub tenant: String,
    pub platform: Platform,
    pub body: Bytes,
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    secret: String,
    id: i64,
    code: String,
    name: String,
    site: String,
    phone: String,
    year_from: i64,
    year_to: Option<i64>,
    enabled: bool,
}

impl FromRequest<AppState> for PlatformCall {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let tenant = request.extensions().get::<TenantCtx>().cloned().ok_or_else(AppError::not_found)?;
        let method = request.method().as_str().to_owned();
        // The path as the platform sent it: the tenant prefix and the API root are stripped by routing.
        let rest = request.uri().path_and_query().map_or("/", |p| p.as_str());
        let path = format!("{}/api/v1{rest}", tenant.base);
        let headers = request.headers().clone();
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|_| AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "请求内容过大或无法读取"))?;
        let platform = authenticate(&state.db, tenant.code(), &headers, &method, &path, &body, Utc::now()).await?;
        Ok(PlatformCall { tenant: tenant.code().to_owned(), platform, body })
    }
}

/// Checks a signed request: headers, clock window, key, signature, then the nonce (recorded only for
/// requests whose signature holds, so that no one else can fill the table).
pub async fn authenticate(
    db: &Db,
    tenant: &str,
    headers: &HeaderMap,
    method: &str,
    path: &str,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Platform, AppError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty());
    let (Some(key_id), Some(timestamp), Some(nonce), Some(signature)) =
        (header(HEADER_KEY), header(HEADER_TIMESTAMP), header(HEADER_NONCE), header(HEADER_SIGNATURE))
    else {
        return Err(refused("missing_signature", "请求缺少签名头（X-Jijiao-Key、X-Jijiao-Timestamp、X-Jijiao-Nonce、X-Jijiao-Signature）"));
    };
    let timestamp: i64 = timestamp.parse().map_err(|_| refused("stale_request", "时间戳应为 Unix 秒数"))?;
    if (now.timestamp() - timestamp).abs() > WINDOW_SECS {
        return Err(refused("stale_request", "请求时间戳与服务器时间相差超过 300 秒，请校准时钟后重发"));
    }
    if !(8..=64).contains(&nonce.len()) || !nonce.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(refused("bad_nonce", "随机串（nonce）应为 8–64 位字母、数字、- 或 _"));
    }
    let row: Option<KeyRow> = db
        .opt(
            q("SELECT k.secret, p.id, p.code, p.name, p.site, p.phone, p.year_from, p.year_to, p.enabled FROM platform_keys k \
               JOIN platforms p ON p.tenant_id = k.tenant_id AND p.id = k.platform_id \
               WHERE k.tenant_id = $1 AND k.key_id = $2 AND k.revoked_at IS NULL")
            .bind(tenant)
            .bind(key_id),
        )
        .await?;
    let Some(row) = row.filter(|r| r.enabled) else {
        return Err(refused("unknown_key", "接口密钥无效、已轮换或不属于本省平台"));
    };
    let signature = hex::decode(signature).map_err(|_| refused("bad_signature", "签名无效"))?;
    mac(&row.secret, method, path, timestamp, nonce, body).verify_slice(&signature).map_err(|_| refused("bad_signature", "签名无效"))?;
    let fresh = db
        .run(
            q("INSERT INTO platform_nonces (tenant_id, key_id, nonce, expires_at) VALUES ($1, $2, $3, $4) \
               ON CONFLICT (tenant_id, key_id, nonce) DO NOTHING")
            .bind(tenant)
            .bind(key_id)
            .bind(nonce)
            .bind(DateTime::from_timestamp(timestamp, 0).unwrap_or(now) + Duration::seconds(WINDOW_SECS)),
        )
        .await?;
    if fresh == 0 {
        return Err(refused("replayed_request", "该请求已处理过（nonce 重复），请用新的 nonce 和时间戳重新签名"));
    }
    // Expired nonces go now and then (they can no longer be replayed: their timestamps are refused).
    if rand::random::<u8>() < 4 {
        db.run(q("DELETE FROM platform_nonces WHERE tenant_id = $1 AND expires_at < $2").bind(tenant).bind(now)).await?;
    }
    Ok(Platform {
        id: row.id,
        code: row.code,
        name: row.name,
        site: row.site,
        phone: row.phone,
        year_from: row.year_from,
        year_to: row.year_to,
        enabled: row.enabled,
    })
}

/// One valid credit a person holds for a year from a platform the province recognises for that year.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RecognisedCourse {
    pub platform: String,
    pub course: Option<String>,
    pub subject: String,
    pub hours: i64,
    pub completed_at: DateTime<Utc>,
}

/// The courses behind a person's recognised online hours for a year (the recognition proof's detail),
/// oldest first. Only valid credits that came in through the completions API count.
pub async fn recognised_courses(db: &Db, tenant: &str, person_id: i64, year: i64) -> Result<Vec<RecognisedCourse>, sqlx::Error> {
    db.all(
        q("SELECT p.name AS platform, c.course, c.subject, c.hours, pc.completed_at FROM credits c \
           JOIN platform_completions pc ON pc.tenant_id = c.tenant_id AND pc.credit_id = c.id \
           JOIN platforms p ON p.tenant_id = pc.tenant_id AND p.id = pc.platform_id \
           WHERE c.tenant_id = $1 AND c.person_id = $2 AND c.year = $3 AND c.revoked_at IS NULL \
           AND p.year_from <= c.year AND (p.year_to IS NULL OR c.year <= p.year_to) ORDER BY pc.completed_at, c.id")
        .bind(tenant)
        .bind(person_id)
        .bind(year),
    )
    .await
}

/// The hours a person holds for a year from platforms the province recognises for that year, in
/// hundredths: (public, professional).
pub async fn recognised_hours(db: &Db, tenant: &str, person_id: i64, year: i64) -> Result<(i64, i64), sqlx::Error> {
    Ok(sum_by_subject(&recognised_courses(db, tenant, person_id, year).await?))
}

/// (public, professional) hours of some courses, in hundredths.
pub fn sum_by_subject(courses: &[RecognisedCourse]) -> (i64, i64) {
    let sum = |subject: &str| courses.iter().filter(|c| c.subject == subject).map(|c| c.hours).sum::<i64>();
    (sum("public"), sum("professional"))
}

// ---- the operator's page: platforms and their keys ------------------------------------------------

fn platform_json(p: &Platform, key: Option<&(String, DateTime<Utc>)>) -> Value {
    json!({"code": p.code, "name": p.name, "site": p.site, "phone": p.phone, "years": p.years_text(), "enabled": p.enabled,
           "key_id": key.map(|k| &k.0), "key_created_at": key.map(|k| crate::china_time::minute(k.1))})
}

async fn page_items(state: &AppState, tenant: &str) -> Result<Vec<Value>, AppError> {
    let platforms = list(&state.db, tenant).await?;
    let keys: Vec<(i64, String, DateTime<Utc>)> = state
        .db
        .all(q("SELECT platform_id, key_id, created_at FROM platform_keys WHERE tenant_id = $1 AND revoked_at IS NULL").bind(tenant))
        .await?;
    Ok(platforms
        .iter()
        .map(|p| {
            let key = keys.iter().find(|k| k.0 == p.id).map(|k| (k.1.clone(), k.2));
            platform_json(p, key.as_ref())
        })
        .collect())
}

/// 培训平台: the province's or system admin's list of platforms with their key ids and a rotate button.
async fn platforms_page(State(state): State<AppState>, page: Page) -> Result<Response, AppError> {
    let user = page.require_user()?;
    user.authorize(&state, "platforms", "manage").await?;
    let items = page_items(&state, user.tenant_code()).await?;
    page.render("platforms.html", json!({"items": items, "issued": null}))
}

/// Issues new credentials (revoking the old key) and shows the secret on this one response only.
async fn rotate_submit(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    CsrfForm(_): CsrfForm<std::collections::HashMap<String, String>>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    user.authorize(&state, "platforms", "manage").await?;
    let issued = issue(&state.db, user.tenant_code(), &code, true, Some(user.account.id)).await?;
    let items = page_items(&state, user.tenant_code()).await?;
    let mut response = page.render("platforms.html", json!({"items": items, "issued": issued}))?;
    response.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Who a platform's credentials belong to, for a client trying its signing.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PlatformIdentity {
    pub tenant: String,
    pub code: String,
    pub name: String,
    pub year_from: i64,
    pub year_to: Option<i64>,
}

/// `GET /platform/me`: who the credentials belong to (a signed request to try a client's signing).
#[utoipa::path(get, path = "/platform/me", tag = "platforms",
    responses((status = 200, description = "The platform the signature belongs to", body = PlatformIdentity),
              (status = 401, description = "Missing, wrong, stale or replayed signature")))]
pub async fn api_me(call: PlatformCall) -> Result<Json<PlatformIdentity>, AppError> {
    let p = &call.platform;
    Ok(Json(PlatformIdentity {
        tenant: call.tenant.clone(),
        code: p.code.clone(),
        name: p.name.clone(),
        year_from: p.year_from,
        year_to: p.year_to,
    }))
}

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api_me))
}

pub fn page_routes() -> Router<AppState> {
    Router::new().route("/admin/platforms", get(platforms_page)).route("/admin/platforms/{code}/credentials", post(rotate_submit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_of_the_canonical_request() {
        // RFC 4231-style check of the construction: the same input always signs the same, any change differs.
        let a = sign("secret", "POST", "/t/hunan/api/v1/platform/completions", 1_700_000_000, "n0nce-0001", b"{}");
        assert_eq!(a.len(), 64);
        assert_eq!(a, sign("secret", "POST", "/t/hunan/api/v1/platform/completions", 1_700_000_000, "n0nce-0001", b"{}"));
        assert_ne!(a, sign("secret", "POST", "/t/henan/api/v1/platform/completions", 1_700_000_000, "n0nce-0001", b"{}"));
        assert_ne!(a, sign("secret", "POST", "/t/hunan/api/v1/platform/completions", 1_700_000_000, "n0nce-0001", b"{ }"));
        // Known answer for integrators' clients (README): key "key", message "The quick brown fox jumps over the lazy dog".
        let mut mac = HmacSha256::new_from_slice(b"key").unwrap();
        mac.update(b"The quick brown fox jumps over the lazy dog");
        assert_eq!(hex::encode(mac.finalize().into_bytes()), "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
    }
}
