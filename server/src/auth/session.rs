//! Server-side sessions in the database, so any server process can serve any request. The cookie holds
//! a random token; the table holds only its SHA-256.

use axum::http::HeaderMap;
use axum_extra::extract::cookie::{Cookie, SameSite};
use chrono::{Duration, Utc};

use super::password::{new_token, token_hash};
use super::{ACCOUNT_COLUMNS, Account};
use crate::db::{Db, q};

pub const COOKIE: &str = "jijiao_session";

pub fn token_from(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, COOKIE)
}

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| Cookie::parse(pair.trim().to_owned()).ok())
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// Starts a fresh session (a new id on every login: no fixation) and returns the cookie token.
pub async fn create(db: &Db, tenant: &str, account_id: i64, minutes: i64) -> Result<String, sqlx::Error> {
    let (token, id) = new_token();
    let now = Utc::now();
    db.run(
        q("INSERT INTO sessions (id, tenant_id, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(tenant)
            .bind(account_id)
            .bind(now)
            .bind(now + Duration::minutes(minutes)),
    )
    .await?;
    Ok(token)
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    session_id: String,
    expires_at: chrono::DateTime<Utc>,
    #[sqlx(flatten)]
    account: Account,
}

/// The session's id and its account, if the token is valid for this tenant and not expired: one
/// statement, since every signed-in request asks. An active session slides forward, written at most once
/// per half lifetime to spare the database.
pub async fn lookup(db: &Db, tenant: &str, token: &str, minutes: i64) -> Result<Option<(String, Account)>, sqlx::Error> {
    let now = Utc::now();
    let row: Option<SessionRow> = db
        .opt(
            q(format!(
                "SELECT s.id AS session_id, s.expires_at, {ACCOUNT_COLUMNS} FROM sessions s \
                 JOIN accounts a ON a.tenant_id = s.tenant_id AND a.id = s.account_id \
                 LEFT JOIN orgs o ON o.tenant_id = a.tenant_id AND o.id = a.org_id \
                 WHERE s.id = $1 AND s.tenant_id = $2 AND s.expires_at > $3"
            ))
            .bind(token_hash(token))
            .bind(tenant)
            .bind(now),
        )
        .await?;
    if let Some(row) = &row
        && row.expires_at - now < Duration::minutes(minutes / 2)
    {
        db.run(q("UPDATE sessions SET expires_at = $2 WHERE id = $1").bind(&row.session_id).bind(now + Duration::minutes(minutes))).await?;
    }
    Ok(row.map(|r| (r.session_id, r.account)))
}

pub async fn delete(db: &Db, session_id: &str) -> Result<(), sqlx::Error> {
    db.run(q("DELETE FROM sessions WHERE id = $1").bind(session_id)).await?;
    Ok(())
}

/// Ends every session of an account (password change, disable), except `keep`.
pub async fn delete_for_account(db: &Db, tenant: &str, account_id: i64, keep: Option<&str>) -> Result<(), sqlx::Error> {
    db.run(
        q("DELETE FROM sessions WHERE tenant_id = $1 AND account_id = $2 AND id <> $3")
            .bind(tenant)
            .bind(account_id)
            .bind(keep.unwrap_or("")),
    )
    .await?;
    Ok(())
}

/// The session cookie, scoped to the tenant's path prefix (`/t/<code>`) or the whole host.
pub fn cookie(token: String, base: &str, secure: bool) -> Cookie<'static> {
    Cookie::build((COOKIE, token))
        .path(if base.is_empty() { "/".to_owned() } else { base.to_owned() })
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .build()
}

pub fn removal(base: &str) -> Cookie<'static> {
    let mut c = Cookie::build((COOKIE, "")).path(if base.is_empty() { "/".to_owned() } else { base.to_owned() }).http_only(true).build();
    c.make_removal();
    c
}
