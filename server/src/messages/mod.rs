//! In-app messages (站内消息, seed 001 §4 查看信息): what happened to one account (approval outcomes,
//! replies to feedback) and the notices admins write to the people below them ([`notices`]). Both are
//! read in one inbox, newest first, with one unread count ([`inbox`]). This file is what the approval
//! engine and other domains send with; it knows nothing of notices, so the engine does not depend on
//! the organisations notices are addressed to.

pub mod api;
pub mod inbox;
pub mod notices;
pub mod pages;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::auth::{Account, CurrentUser, Role};
use crate::db::{Tx, q};
use crate::error::AppError;
use crate::state::AppState;

/// The casbin object every signed-in role reads its inbox with (action `read`).
const OBJECT: &str = "messages";

crate::codes::code_enum! {
    /// What an inbox entry is.
    pub enum EntryKind {
        /// To this account alone (an approval's outcome, a reply).
        Message = ("message", "系统消息"),
        /// Written by an admin to many (当地站内消息).
        Notice = ("notice", "通知公告"),
    }
}

/// One entry of an inbox.
#[derive(Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Entry {
    pub kind: EntryKind,
    /// The message's or the notice's id (`/messages/{id}` or `/notices/{id}`)
    pub id: i64,
    pub title: String,
    pub body: String,
    /// The organisation that wrote a notice
    pub sender_org_name: Option<String>,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub async fn send_tx(tx: &mut Tx, tenant: &str, account_id: i64, title: &str, body: &str) -> Result<(), sqlx::Error> {
    tx.run(
        q("INSERT INTO messages (tenant_id, account_id, title, body, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(tenant)
            .bind(account_id)
            .bind(title)
            .bind(body)
            .bind(Utc::now()),
    )
    .await?;
    Ok(())
}

/// Whom an inbox belongs to, as notices are matched: the account, whether it is staff, and every
/// organisation above its own (its regional path and its path under a supervising authority, itself
/// included).
#[derive(Debug, Clone)]
pub struct Recipient {
    pub tenant: String,
    pub account_id: i64,
    pub staff: bool,
    /// The organisations above, as one bound text `/1/5/9/` (none: empty), which
    /// [`notices::reaching`] searches for a notice's target.
    pub ancestors: String,
}

impl Recipient {
    pub fn of(account: &Account) -> Recipient {
        let mut ancestors: Vec<i64> = [&account.org_path, &account.org_supervisor_path]
            .into_iter()
            .flatten()
            .flat_map(|path| path.split('/').filter_map(|id| id.parse().ok()))
            .collect();
        ancestors.sort_unstable();
        ancestors.dedup();
        let ids: Vec<String> = ancestors.iter().map(i64::to_string).collect();
        let ancestors = if ids.is_empty() { String::new() } else { format!("/{}/", ids.join("/")) };
        Recipient { tenant: account.tenant_id.clone(), account_id: account.id, staff: account.role == Role::Staff, ancestors }
    }
}

crate::paging::list_query! {
    /// `GET /api/v1/messages`
    #[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct ListQuery {
        /// Only unread entries (`1`/`true`)
        #[serde(default, deserialize_with = "crate::messages::flag")]
        pub unread: bool,
        /// message or notice
        #[param(pattern = "^\\s*(message|notice)?\\s*$")]
        pub kind: Option<String>,
    }
}

/// A query-string flag: `1`, `true` or `on` (an empty value is off).
pub fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let text: Option<String> = Deserialize::deserialize(d)?;
    match text.as_deref().map(str::trim).unwrap_or("") {
        "" | "0" | "false" | "off" => Ok(false),
        "1" | "true" | "on" => Ok(true),
        other => Err(serde::de::Error::custom(format!("不是有效的开关值：{other}"))),
    }
}

/// One of the caller's messages; another account's is "not found".
pub async fn get(state: &AppState, user: &CurrentUser, id: i64) -> Result<Entry, AppError> {
    user.authorize(state, OBJECT, "read").await?;
    state
        .db
        .opt(
            q("SELECT 'message' AS kind, id, title, body, NULL AS sender_org_name, read_at, created_at FROM messages \
               WHERE tenant_id = $1 AND account_id = $2 AND id = $3")
            .bind(user.tenant_code())
            .bind(user.account.id)
            .bind(id),
        )
        .await?
        .ok_or_else(AppError::not_found)
}

/// Marks one of the caller's messages read; another account's message is "not found".
pub async fn mark_read(state: &AppState, user: &CurrentUser, id: i64) -> Result<(), AppError> {
    user.authorize(state, OBJECT, "read").await?;
    let n = state
        .db
        .run(
            q("UPDATE messages SET read_at = COALESCE(read_at, $4) WHERE tenant_id = $1 AND account_id = $2 AND id = $3")
                .bind(user.tenant_code())
                .bind(user.account.id)
                .bind(id)
                .bind(Utc::now()),
        )
        .await?;
    if n == 0 { Err(AppError::not_found()) } else { Ok(()) }
}
