//! Throttling kept in the database, so that every server process agrees: login failures, and rate limits
//! on public endpoints.
//!
//! Login failures are counted three ways in a 15-minute window, so that an attacker slows themselves and
//! not their victims: per account and per client address, 3 failures make a captcha necessary (for
//! everyone trying that account, or for everything tried from that address: the rightful user still gets
//! in by solving it, and people behind a shared office address are never locked out); per address *and*
//! account, 10 failures lock that address out of that account for the rest of the window.

use base64::Engine;
use chrono::{Duration, Utc};

use crate::db::{Db, q};
use crate::error::AppError;
use crate::state::AppState;

pub const CAPTCHA_AFTER: i64 = 3;
pub const LOCK_AFTER: i64 = 10;
const LOGIN_WINDOW_MINUTES: i64 = 15;

#[derive(Debug, PartialEq, Eq)]
pub enum Gate {
    Open,
    CaptchaRequired,
    Locked,
}

/// Hits of a key in its current window (0 when the window has passed).
async fn hits(db: &Db, tenant: &str, key: &str, window_minutes: i64) -> Result<i64, sqlx::Error> {
    let since = Utc::now() - Duration::minutes(window_minutes);
    let row: Option<(i64,)> = db
        .opt(
            q("SELECT hits FROM throttle_counters WHERE tenant_id = $1 AND key = $2 AND window_start > $3")
                .bind(tenant)
                .bind(key)
                .bind(since),
        )
        .await?;
    Ok(row.map_or(0, |r| r.0))
}

/// Counts one hit: a fixed window that starts again once `window_minutes` have passed. Returns the hits
/// in the window including this one.
async fn bump(db: &Db, tenant: &str, key: &str, window_minutes: i64) -> Result<i64, sqlx::Error> {
    let now = Utc::now();
    let since = now - Duration::minutes(window_minutes);
    db.scalar(
        q("INSERT INTO throttle_counters (tenant_id, key, hits, window_start) VALUES ($1, $2, 1, $3) \
           ON CONFLICT (tenant_id, key) DO UPDATE SET \
           hits = CASE WHEN throttle_counters.window_start > $4 THEN throttle_counters.hits + 1 ELSE 1 END, \
           window_start = CASE WHEN throttle_counters.window_start > $4 THEN throttle_counters.window_start ELSE $3 END \
           RETURNING hits")
        .bind(tenant)
        .bind(key)
        .bind(now)
        .bind(since),
    )
    .await
}

/// The counters one login attempt touches.
pub struct LoginKeys {
    pub account: String,
    pub address: String,
    /// This address trying this account: the only counter that locks.
    pub pair: String,
}

impl LoginKeys {
    pub fn new(user_type: &str, id_number: &str, ip: &str) -> LoginKeys {
        LoginKeys {
            account: format!("account:{user_type}:{id_number}"),
            address: format!("ip:{ip}"),
            pair: format!("pair:{ip}:{user_type}:{id_number}"),
        }
    }

    fn all(&self) -> [&str; 3] {
        [&self.account, &self.address, &self.pair]
    }
}

pub async fn gate(db: &Db, tenant: &str, keys: &LoginKeys) -> Result<Gate, sqlx::Error> {
    if hits(db, tenant, &keys.pair, LOGIN_WINDOW_MINUTES).await? >= LOCK_AFTER {
        return Ok(Gate::Locked);
    }
    let mut worst = 0;
    for key in [&keys.account, &keys.address] {
        worst = worst.max(hits(db, tenant, key, LOGIN_WINDOW_MINUTES).await?);
    }
    Ok(if worst >= CAPTCHA_AFTER { Gate::CaptchaRequired } else { Gate::Open })
}

pub async fn record_failure(db: &Db, tenant: &str, keys: &LoginKeys) -> Result<(), sqlx::Error> {
    for key in keys.all() {
        bump(db, tenant, key, LOGIN_WINDOW_MINUTES).await?;
    }
    Ok(())
}

/// A successful login forgets the account's failures (the address keeps its count).
pub async fn record_success(db: &Db, tenant: &str, keys: &LoginKeys) -> Result<(), sqlx::Error> {
    clear(db, tenant, &keys.account).await?;
    clear(db, tenant, &keys.pair).await
}

pub async fn clear(db: &Db, tenant: &str, key: &str) -> Result<(), sqlx::Error> {
    db.run(q("DELETE FROM throttle_counters WHERE tenant_id = $1 AND key = $2").bind(tenant).bind(key)).await?;
    Ok(())
}

/// Public endpoints and their limits per client address: (name, hits, window in minutes).
const PUBLIC_LIMITS: &[(&str, i64, i64)] = &[("search", 300, 1), ("register", 30, 60), ("reset", 10, 60)];

/// Counts a call of a public endpoint from `ip`; past its limit the caller gets 429.
pub async fn limit_public(state: &AppState, tenant: &str, endpoint: &str, ip: &str) -> Result<(), AppError> {
    let (_, limit, window) = PUBLIC_LIMITS.iter().find(|(name, _, _)| *name == endpoint).copied().unwrap_or((endpoint, 60, 1));
    if bump(&state.db, tenant, &format!("rate:{endpoint}:{ip}"), window).await? > limit {
        return Err(AppError::new(axum::http::StatusCode::TOO_MANY_REQUESTS, "rate_limited", "操作过于频繁，请稍后再试"));
    }
    Ok(())
}

type BoxedMiddleware = fn(
    axum::extract::State<(AppState, &'static str)>,
    axum::extract::Request,
    axum::middleware::Next,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = axum::response::Response> + Send>>;

/// The layer [`limited`] returns.
pub type LimitLayer = axum::middleware::FromFnLayer<
    BoxedMiddleware,
    (AppState, &'static str),
    (axum::extract::State<(AppState, &'static str)>, axum::extract::Request),
>;

/// The rate-limit layer for a public route: `get(handler).layer(limited(&state, "search"))`.
pub fn limited(state: &AppState, endpoint: &'static str) -> LimitLayer {
    fn boxed(
        state: axum::extract::State<(AppState, &'static str)>,
        request: axum::extract::Request,
        next: axum::middleware::Next,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = axum::response::Response> + Send>> {
        Box::pin(public_limit(state, request, next))
    }
    axum::middleware::from_fn_with_state((state.clone(), endpoint), boxed as BoxedMiddleware)
}

/// Route middleware for public endpoints: GETs count as "search", other methods as `endpoint`.
pub async fn public_limit(
    axum::extract::State((state, endpoint)): axum::extract::State<(AppState, &'static str)>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let tenant = request.extensions().get::<crate::tenancy::TenantCtx>().map(|t| t.code().to_owned()).unwrap_or_default();
    let ip = crate::state::client_ip(&state, request.headers(), request.extensions());
    let what = if request.method() == axum::http::Method::GET { "search" } else { endpoint };
    match limit_public(&state, &tenant, what, &ip).await {
        Ok(()) => next.run(request).await,
        Err(err) => err.into_response(),
    }
}

/// A new image captcha: its id and the PNG as a data URI. The answer stays in the database.
pub async fn new_captcha(db: &Db, tenant: &str) -> anyhow::Result<(String, String)> {
    let (answer, png) = tokio::task::spawn_blocking(|| {
        let mut captcha = captcha::Captcha::new();
        captcha
            .set_chars(&"ABCDEFGHJKLMNPQRSTUVWXYZ23456789".chars().collect::<Vec<_>>())
            .add_chars(4)
            .apply_filter(captcha::filters::Noise::new(0.2))
            .apply_filter(captcha::filters::Wave::new(2.0, 12.0))
            .view(160, 60);
        (captcha.chars_as_string(), captcha.as_png().unwrap_or_default())
    })
    .await?;
    let (id, _) = super::password::new_token();
    db.run(
        q("INSERT INTO captchas (id, tenant_id, answer, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(&id)
            .bind(tenant)
            .bind(answer)
            .bind(Utc::now() + Duration::minutes(10)),
    )
    .await?;
    let uri = format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png));
    Ok((id, uri))
}

/// Checks and consumes a captcha answer (case-insensitive). Each captcha is good for one try.
pub async fn check_captcha(db: &Db, tenant: &str, id: &str, answer: &str) -> Result<bool, sqlx::Error> {
    let row: Option<(String,)> = db
        .opt(q("SELECT answer FROM captchas WHERE id = $1 AND tenant_id = $2 AND expires_at > $3").bind(id).bind(tenant).bind(Utc::now()))
        .await?;
    db.run(q("DELETE FROM captchas WHERE id = $1 OR expires_at < $2").bind(id).bind(Utc::now())).await?;
    Ok(row.is_some_and(|(expected,)| expected.eq_ignore_ascii_case(answer.trim())))
}
