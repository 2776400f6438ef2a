//! Notices (当地站内消息, seed 001 §4): an admin writes to everyone in its subtree, optionally only the
//! staff or only the admins, or to one unit or region below it. A notice is one row however many
//! people it reaches: an inbox matches it by the target organisation being on the recipient's own path
//! ([`reaching`]), so a province-wide notice to millions writes nothing per recipient; a read writes one
//! `notice_reads` row when it happens. The sender's organisation lists what it sent with how many have
//! read each, and may withdraw a notice.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Entry, Recipient};
use crate::auth::CurrentUser;
use crate::db::{Filters, q};
use crate::error::{AppError, FieldErrors};
use crate::paging::Search;
use crate::state::AppState;

/// The casbin object: `send` (admins with people below them).
pub(crate) const OBJECT: &str = "notices";
const MAX_TITLE: usize = 100;
const MAX_BODY: usize = 5000;

crate::codes::code_enum! {
    /// Who in the target subtree a notice reaches.
    pub enum Audience {
        All = ("all", "全部人员"),
        Staff = ("staff", "仅工作人员"),
        Admins = ("admins", "仅管理员"),
    }
}

/// The SQL condition "notice `n` reaches recipient `r`": not withdrawn, its target organisation one of
/// the recipient's (its own or one above it), its audience the recipient's kind of account, and not
/// written by the recipient. The account is bound as `$<account>` and [`Recipient::ancestors`] as
/// `$<ancestors>`, so that the text is one of two (staff, admins): every signed-in page counts unread
/// notices, and a statement whose text named the account would be prepared anew on each.
pub fn reaching(n: &str, r: &Recipient, account: usize, ancestors: usize) -> String {
    let audience = if r.staff { Audience::Staff } else { Audience::Admins };
    format!(
        "{n}.withdrawn_at IS NULL AND ${ancestors} LIKE ('%/' || CAST({n}.target_org_id AS TEXT) || '/%') \
         AND {n}.audience IN ('all', '{}') AND {n}.sender_account_id <> ${account}",
        audience.as_str()
    )
}

/// Who a new notice goes to (`audience` of `POST /api/v1/notices`); empty: everyone in the sender's
/// subtree.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct AudienceInput {
    /// all (default), staff or admins
    pub who: Option<String>,
    /// One organisation in the sender's subtree (a unit, or a region's HR bureau); the sender's own
    /// when not given
    #[serde(deserialize_with = "crate::web::empty_as_none")]
    pub org_id: Option<i64>,
}

/// `POST /api/v1/notices`
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct NewNotice {
    /// At most 100 characters
    pub title: String,
    /// At most 5,000 characters
    pub body: String,
    pub audience: AudienceInput,
}

/// A notice as its sender's list and its page show it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Notice {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub audience: Audience,
    #[sqlx(default)]
    pub audience_label: String,
    pub sender_org_id: i64,
    pub sender_org_name: String,
    pub sender_name: String,
    pub target_org_id: i64,
    pub target_org_name: String,
    /// How many recipients have opened it
    pub reads: i64,
    pub created_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
}

const SELECT: &str = "SELECT n.id, n.title, n.body, n.audience, n.sender_org_id, so.name AS sender_org_name, a.name AS sender_name, \
     n.target_org_id, t.name AS target_org_name, \
     (SELECT COUNT(*) FROM notice_reads r WHERE r.tenant_id = n.tenant_id AND r.notice_id = n.id) AS reads, n.created_at, n.withdrawn_at";
const FROM: &str = "FROM notices n JOIN orgs so ON so.tenant_id = n.tenant_id AND so.id = n.sender_org_id \
     JOIN orgs t ON t.tenant_id = n.tenant_id AND t.id = n.target_org_id \
     JOIN accounts a ON a.tenant_id = n.tenant_id AND a.id = n.sender_account_id";

impl Notice {
    fn finish(mut self) -> Self {
        self.audience_label = self.audience.label().to_owned();
        self
    }
}

/// The caller's organisation, if the caller may send notices from it.
async fn sending_org(state: &AppState, user: &CurrentUser) -> Result<i64, AppError> {
    user.authorize(state, OBJECT, "send").await?;
    match user.account.org_id {
        Some(org) if user.is_admin() => Ok(org),
        _ => Err(AppError::forbidden()),
    }
}

/// Checks and stores a notice; it reaches its recipients at once. Bad input → 422 per field and
/// nothing stored.
pub async fn send(state: &AppState, user: &CurrentUser, input: &NewNotice) -> Result<i64, AppError> {
    let org = sending_org(state, user).await?;
    let tenant = user.tenant_code();
    let mut errors = FieldErrors::default();
    let title = input.title.trim();
    let body = input.body.trim();
    for (field, value, name, max) in [("title", title, "标题", MAX_TITLE), ("body", body, "内容", MAX_BODY)] {
        if value.is_empty() {
            errors.add(field, format!("请填写{name}"));
        } else if value.chars().count() > max {
            errors.add(field, format!("{name}不能超过 {max} 字"));
        }
    }
    let audience = match input.audience.who.as_deref().map(str::trim).unwrap_or("") {
        "" => Some(Audience::All),
        code => Audience::parse(code),
    };
    if audience.is_none() {
        errors.add("audience.who", "接收人员须为 all（全部人员）、staff（仅工作人员）或 admins（仅管理员）");
    }
    let target = match input.audience.org_id {
        None => Some(org),
        Some(id) => {
            let scope = user.scope_pattern().ok_or_else(AppError::forbidden)?;
            match crate::orgs::get_in_scope(&state.db, tenant, &scope, id).await {
                Ok(found) => Some(found.id),
                Err(err) if err.status == axum::http::StatusCode::NOT_FOUND => {
                    errors.add("audience.org_id", "所选单位不在本单位管辖范围内");
                    None
                }
                Err(err) => return Err(err),
            }
        }
    };
    errors.finish()?;
    let (audience, target) = (audience.expect("checked above"), target.expect("checked above"));
    let mut tx = state.db.begin().await?;
    let id = tx
        .scalar(
            q("INSERT INTO notices (tenant_id, sender_account_id, sender_org_id, target_org_id, audience, title, body, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
            .bind(tenant)
            .bind(user.account.id)
            .bind(org)
            .bind(target)
            .bind(audience)
            .bind(title)
            .bind(body)
            .bind(Utc::now()),
        )
        .await?;
    crate::audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "notice.sent",
        "notice",
        Some(id),
        json!({"target_org_id": target, "audience": audience}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

crate::paging::list_query! {
    /// `GET /api/v1/notices`
    #[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct NoticeQuery {
        /// Part of the title or the text
        pub q: Option<String>,
    }
}

/// What the caller's organisation sent, newest first (withdrawn ones included, marked).
pub async fn sent(state: &AppState, user: &CurrentUser, query: &NoticeQuery) -> Result<(Vec<Notice>, i64), AppError> {
    let org = sending_org(state, user).await?;
    let mut filters = Filters::tenant("n.tenant_id", user.tenant_code());
    filters.and("n.sender_org_id = ?", org);
    if let Some(text) = query.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        filters.contains(&["n.title", "n.body"], text);
    }
    let paging = query.paging();
    let total = state.db.scalar(filters.count(FROM)).await?;
    let rows: Vec<Notice> = state.db.all(filters.page(&format!("{SELECT} {FROM}"), "n.id DESC", paging.page, paging.per_page)).await?;
    Ok((rows.into_iter().map(Notice::finish).collect(), total))
}

/// A notice as one of its recipients or its sending organisation's admins see it, and whether the
/// caller is of the sender's side; anyone else: "not found".
pub async fn get(state: &AppState, user: &CurrentUser, id: i64) -> Result<(Notice, bool), AppError> {
    user.authorize(state, super::OBJECT, "read").await?;
    let r = Recipient::of(&user.account);
    let sender_side = user.is_admin() && user.can(state, OBJECT, "send").await;
    let own_org = user.account.org_id.filter(|_| sender_side).unwrap_or(-1);
    let notice: Notice = state
        .db
        .opt(
            q(format!("{SELECT} {FROM} WHERE n.tenant_id = $1 AND n.id = $3 AND (n.sender_org_id = $4 OR ({}))", reaching("n", &r, 2, 5)))
                .bind(&r.tenant)
                .bind(r.account_id)
                .bind(id)
                .bind(own_org)
                .bind(&r.ancestors),
        )
        .await?
        .ok_or_else(AppError::not_found)?;
    let sender = notice.sender_org_id == own_org;
    Ok((notice.finish(), sender))
}

/// The notice as an inbox entry of the caller (a recipient), read or not.
pub async fn entry(state: &AppState, user: &CurrentUser, id: i64) -> Result<Entry, AppError> {
    let r = Recipient::of(&user.account);
    state
        .db
        .opt(
            q(format!(
                "SELECT 'notice' AS kind, n.id, n.title, n.body, o.name AS sender_org_name, r.read_at, n.created_at FROM notices n \
                 JOIN orgs o ON o.tenant_id = n.tenant_id AND o.id = n.sender_org_id \
                 LEFT JOIN notice_reads r ON r.tenant_id = n.tenant_id AND r.notice_id = n.id AND r.account_id = $2 \
                 WHERE n.tenant_id = $1 AND n.id = $3 AND {}",
                reaching("n", &r, 2, 4)
            ))
            .bind(&r.tenant)
            .bind(r.account_id)
            .bind(id)
            .bind(&r.ancestors),
        )
        .await?
        .ok_or_else(AppError::not_found)
}

/// Marks a notice that reaches the caller read (again: no change); any other is "not found".
pub async fn mark_read(state: &AppState, user: &CurrentUser, id: i64) -> Result<(), AppError> {
    user.authorize(state, super::OBJECT, "read").await?;
    let r = Recipient::of(&user.account);
    let n = state
        .db
        .run(
            q(format!(
                "INSERT INTO notice_reads (tenant_id, notice_id, account_id, read_at) SELECT n.tenant_id, n.id, $2, $4 FROM notices n \
                 WHERE n.tenant_id = $1 AND n.id = $3 AND {} ON CONFLICT (tenant_id, notice_id, account_id) DO NOTHING",
                reaching("n", &r, 2, 5)
            ))
            .bind(&r.tenant)
            .bind(r.account_id)
            .bind(id)
            .bind(Utc::now())
            .bind(&r.ancestors),
        )
        .await?;
    if n == 0 && entry(state, user, id).await.is_err() { Err(AppError::not_found()) } else { Ok(()) }
}

/// Withdraws a notice the caller's organisation sent: recipients no longer see it. 409 when it was
/// withdrawn already.
pub async fn withdraw(state: &AppState, user: &CurrentUser, id: i64) -> Result<(), AppError> {
    let org = sending_org(state, user).await?;
    let tenant = user.tenant_code();
    let mut tx = state.db.begin().await?;
    let found: Option<(Option<DateTime<Utc>>,)> = tx
        .opt(q("SELECT withdrawn_at FROM notices WHERE tenant_id = $1 AND id = $2 AND sender_org_id = $3").bind(tenant).bind(id).bind(org))
        .await?;
    match found {
        None => return Err(AppError::not_found()),
        Some((Some(_),)) => return Err(AppError::conflict("already_withdrawn", "该通知已撤回")),
        Some((None,)) => {}
    }
    let changed = tx
        .run(
            q("UPDATE notices SET withdrawn_at = $3 WHERE tenant_id = $1 AND id = $2 AND withdrawn_at IS NULL")
                .bind(tenant)
                .bind(id)
                .bind(Utc::now()),
        )
        .await?;
    if changed != 1 {
        return Err(AppError::conflict("already_withdrawn", "该通知已撤回"));
    }
    crate::audit::record_tx(&mut tx, tenant, Some(user.account.id), "notice.withdrawn", "notice", Some(id), json!({})).await?;
    tx.commit().await?;
    Ok(())
}

/// The organisations a sender may address on the form besides its whole subtree (the form's default):
/// those directly below it (regions' bureaus, units, supervised units and institutions), by kind and name.
pub async fn targets(state: &AppState, user: &CurrentUser) -> Result<Vec<(i64, String)>, AppError> {
    let org = sending_org(state, user).await?;
    Ok(state
        .db
        .all(
            q("SELECT id, name FROM orgs WHERE tenant_id = $1 AND (parent_id = $2 OR supervisor_id = $2) AND kind <> 'department' AND status = 'active' \
               ORDER BY kind, region_code, name LIMIT 500")
            .bind(user.tenant_code())
            .bind(org),
        )
        .await?)
}
