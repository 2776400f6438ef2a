//! One inbox: an account's own messages and the notices that reach it, newest first, with one unread
//! count and one "mark all read".

use chrono::Utc;

use super::{Entry, EntryKind, ListQuery, OBJECT, Recipient, notices};
use crate::auth::CurrentUser;
use crate::db::{Db, q};
use crate::error::AppError;
use crate::state::AppState;

/// The inbox of `r` as one query: its own messages and the notices that reach it, with `read_at`
/// (tenant `$1`, account `$2`, [`Recipient::ancestors`] `$3`).
fn inbox_sql(r: &Recipient) -> String {
    format!(
        "SELECT 'message' AS kind, m.id, m.title, m.body, NULL AS sender_org_name, m.read_at, m.created_at FROM messages m \
         WHERE m.tenant_id = $1 AND m.account_id = $2 \
         UNION ALL \
         SELECT 'notice' AS kind, n.id, n.title, n.body, o.name AS sender_org_name, r.read_at, n.created_at FROM notices n \
         JOIN orgs o ON o.tenant_id = n.tenant_id AND o.id = n.sender_org_id \
         LEFT JOIN notice_reads r ON r.tenant_id = n.tenant_id AND r.notice_id = n.id AND r.account_id = $2 \
         WHERE n.tenant_id = $1 AND {}",
        notices::reaching("n", r, 2, 3)
    )
}

/// How many entries of an inbox are unread (the header shows it on every page: two indexed counts in one statement).
pub async fn unread_count(db: &Db, r: &Recipient) -> Result<i64, sqlx::Error> {
    db.scalar(
        q(format!(
            "SELECT (SELECT COUNT(*) FROM messages WHERE tenant_id = $1 AND account_id = $2 AND read_at IS NULL) \
             + (SELECT COUNT(*) FROM notices n WHERE n.tenant_id = $1 AND {} AND NOT EXISTS \
                (SELECT 1 FROM notice_reads r WHERE r.tenant_id = n.tenant_id AND r.notice_id = n.id AND r.account_id = $2))",
            notices::reaching("n", r, 2, 3)
        ))
        .bind(&r.tenant)
        .bind(r.account_id)
        .bind(&r.ancestors),
    )
    .await
}

/// One page of the caller's inbox, newest first, and the total.
pub async fn list(state: &AppState, user: &CurrentUser, query: &ListQuery) -> Result<(Vec<Entry>, i64), AppError> {
    user.authorize(state, OBJECT, "read").await?;
    let r = Recipient::of(&user.account);
    let mut filter = if query.unread { "read_at IS NULL".to_owned() } else { "1 = 1".to_owned() };
    match query.kind.as_deref().map(str::trim).unwrap_or("") {
        "" => {}
        code => {
            let kind = EntryKind::parse(code).ok_or_else(|| crate::error::field_error("kind", "消息类型须为 message 或 notice"))?;
            filter.push_str(&format!(" AND kind = '{}'", kind.as_str()));
        }
    }
    let paging = query.paging();
    let inbox = inbox_sql(&r);
    let items = state
        .db
        .all(
            q(format!("SELECT * FROM ({inbox}) inbox WHERE {filter} ORDER BY created_at DESC, kind, id DESC LIMIT $4 OFFSET $5"))
                .bind(&r.tenant)
                .bind(r.account_id)
                .bind(&r.ancestors)
                .bind(paging.per_page)
                .bind(paging.offset()),
        )
        .await?;
    let total = state
        .db
        .scalar(q(format!("SELECT COUNT(*) FROM ({inbox}) inbox WHERE {filter}")).bind(&r.tenant).bind(r.account_id).bind(&r.ancestors))
        .await?;
    Ok((items, total))
}

/// Marks the caller's whole inbox read (messages and the notices that reach it) in one transaction;
/// returns how many entries were unread.
pub async fn mark_all_read(state: &AppState, user: &CurrentUser) -> Result<u64, AppError> {
    user.authorize(state, OBJECT, "read").await?;
    let r = Recipient::of(&user.account);
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    let messages = tx
        .run(
            q("UPDATE messages SET read_at = $3 WHERE tenant_id = $1 AND account_id = $2 AND read_at IS NULL")
                .bind(&r.tenant)
                .bind(r.account_id)
                .bind(now),
        )
        .await?;
    let notices = tx
        .run(
            q(format!(
                "INSERT INTO notice_reads (tenant_id, notice_id, account_id, read_at) SELECT n.tenant_id, n.id, $2, $3 FROM notices n \
                 WHERE n.tenant_id = $1 AND {} ON CONFLICT (tenant_id, notice_id, account_id) DO NOTHING",
                notices::reaching("n", &r, 2, 4)
            ))
            .bind(&r.tenant)
            .bind(r.account_id)
            .bind(now)
            .bind(&r.ancestors),
        )
        .await?;
    tx.commit().await?;
    Ok(messages + notices)
}
