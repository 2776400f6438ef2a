//! Login throttling per account and per client address, kept in the database so that every server
//! process agrees. After 3 failures in 15 minutes a captcha is required; after 10 the key is locked
//! for 15 minutes.

use base64::Engine;
use chrono::{Duration, Utc};

use crate::db::{Db, q};

pub const CAPTCHA_AFTER: i64 = 3;
pub const LOCK_AFTER: i64 = 10;
const WINDOW_MINUTES: i64 = 15;

#[derive(Debug, PartialEq, Eq)]
pub enum Gate {
    Open,
    CaptchaRequired,
    Locked,
}

#[derive(sqlx::FromRow)]
struct Attempts {
    failures: i64,
}

pub async fn gate(db: &Db, tenant: &str, keys: &[String]) -> Result<Gate, sqlx::Error> {
    let since = Utc::now() - Duration::minutes(WINDOW_MINUTES);
    let mut worst = 0;
    for key in keys {
        let row: Option<Attempts> = db
            .opt(
                q("SELECT failures FROM login_attempts WHERE tenant_id = $1 AND key = $2 AND window_start > $3")
                    .bind(tenant)
                    .bind(key)
                    .bind(since),
            )
            .await?;
        worst = worst.max(row.map_or(0, |r| r.failures));
    }
    Ok(if worst >= LOCK_AFTER {
        Gate::Locked
    } else if worst >= CAPTCHA_AFTER {
        Gate::CaptchaRequired
    } else {
        Gate::Open
    })
}

pub async fn record_failure(db: &Db, tenant: &str, keys: &[String]) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    let since = now - Duration::minutes(WINDOW_MINUTES);
    for key in keys {
        db.run(
            q("INSERT INTO login_attempts (tenant_id, key, failures, window_start) VALUES ($1, $2, 1, $3) \
               ON CONFLICT (tenant_id, key) DO UPDATE SET \
               failures = CASE WHEN login_attempts.window_start > $4 THEN login_attempts.failures + 1 ELSE 1 END, \
               window_start = CASE WHEN login_attempts.window_start > $4 THEN login_attempts.window_start ELSE $3 END")
            .bind(tenant)
            .bind(key)
            .bind(now)
            .bind(since),
        )
        .await?;
    }
    Ok(())
}

pub async fn clear(db: &Db, tenant: &str, key: &str) -> Result<(), sqlx::Error> {
    db.run(q("DELETE FROM login_attempts WHERE tenant_id = $1 AND key = $2").bind(tenant).bind(key)).await?;
    Ok(())
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
