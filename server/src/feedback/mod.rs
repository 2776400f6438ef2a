//! Feedback (意见反馈, seed 001 §7): staff and admins report illegal training, platform problems or
//! suggestions, with an optional attachment; the organisation the tenant names (`[feedback] handled_by`:
//! the provincial HR department, or the filer's HR bureau) replies and closes it; the filer sees the
//! reply and gets a message.

pub mod api;
pub mod pages;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::CurrentUser;
use crate::db::{Filters, Tx, q};
use crate::error::{AppError, FieldErrors};
use crate::paging::Search;
use crate::state::AppState;
use crate::storage::upload::Upload;

/// The casbin object: `file` (everyone signed in) and `handle` (the departments that answer).
pub(crate) const OBJECT: &str = "feedback";
pub(crate) const CATEGORIES: &[(&str, &str)] =
    &[("illegal_training", "违规培训"), ("platform", "平台问题"), ("suggestion", "意见建议"), ("other", "其他")];
crate::codes::code_enum! {
    /// Where feedback stands.
    pub enum FeedbackStatus {
        Open = ("open", "待处理"),
        Replied = ("replied", "已回复"),
        Closed = ("closed", "已办结"),
    }
}
/// Most characters of feedback text and of a reply.
const MAX_TEXT: usize = 1000;

/// Feedback to file (`POST /api/v1/feedback`: JSON, or multipart with an `attachment` file).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewFeedback {
    /// illegal_training (违规培训), platform (平台问题), suggestion (意见建议) or other
    pub category: String,
    /// At most 1,000 characters
    pub text: String,
}

/// A reply (`POST /api/v1/feedback/{id}/reply`).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct Reply {
    /// At most 1,000 characters
    pub text: String,
    /// Close the feedback with this reply (办结)
    #[serde(default)]
    pub close: bool,
}

/// Feedback as lists and its page show it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Feedback {
    pub id: i64,
    pub category: String,
    #[sqlx(default)]
    pub category_label: String,
    pub text: String,
    /// The text's first 40 characters, for lists
    #[sqlx(default)]
    pub excerpt: String,
    pub filer_name: String,
    pub filer_org_name: Option<String>,
    pub handler_org_name: String,
    pub attachment_name: Option<String>,
    /// open, replied or closed
    pub status: FeedbackStatus,
    #[sqlx(default)]
    pub status_label: String,
    pub reply: Option<String>,
    pub replied_by_name: Option<String>,
    pub replied_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const SELECT: &str = "SELECT f.id, f.category, f.text, a.name AS filer_name, fo.name AS filer_org_name, h.name AS handler_org_name, \
     b.filename AS attachment_name, f.status, f.reply, r.name AS replied_by_name, f.replied_at, f.created_at";
const FROM: &str = "FROM feedback f JOIN accounts a ON a.tenant_id = f.tenant_id AND a.id = f.account_id \
     LEFT JOIN orgs fo ON fo.tenant_id = a.tenant_id AND fo.id = a.org_id \
     JOIN orgs h ON h.tenant_id = f.tenant_id AND h.id = f.handler_org_id \
     LEFT JOIN blobs b ON b.tenant_id = f.tenant_id AND b.id = f.attachment_blob_id \
     LEFT JOIN accounts r ON r.tenant_id = f.tenant_id AND r.id = f.replied_by";

fn label(codes: &[(&str, &'static str)], code: &str) -> String {
    codes.iter().find(|(c, _)| *c == code).map_or("", |(_, l)| l).to_owned()
}

impl Feedback {
    fn finish(mut self) -> Self {
        self.category_label = label(CATEGORIES, &self.category);
        self.status_label = self.status.label().to_owned();
        self.excerpt = self.text.chars().take(40).collect();
        if self.text.chars().count() > 40 {
            self.excerpt.push('…');
        }
        self
    }
}

crate::paging::list_query! {
    /// `GET /api/v1/feedback`
    #[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct FeedbackQuery {
        /// open, replied or closed
        #[param(pattern = "^\\s*(open|replied|closed)?\\s*$")]
        pub status: Option<String>,
        pub category: Option<String>,
        /// Part of the text or the filer's name (handlers)
        pub q: Option<String>,
    }
}

/// The organisation that answers the caller's feedback under the tenant's setting.
async fn handler_for(state: &AppState, user: &CurrentUser) -> Result<i64, AppError> {
    let tenant = user.tenant_code();
    let province = crate::orgs::province_id(&state.db, tenant).await?.ok_or_else(|| AppError::internal("tenant without a province"))?;
    if user.tenant.tenant.settings.feedback.handled_by != "hr" {
        return Ok(province);
    }
    let own = match user.account.org_id {
        Some(id) => crate::orgs::get(&state.db, tenant, id).await?,
        None => None,
    };
    Ok(match own {
        Some(org) if org.kind == crate::orgs::OrgKind::Hr => org.id,
        Some(org) => org.hr_bureau_id.unwrap_or(province),
        None => province,
    })
}

/// Files feedback (checked first, then stored with its attachment in one transaction).
pub async fn file(state: &AppState, user: &CurrentUser, input: &NewFeedback, attachment: Option<Upload>) -> Result<i64, AppError> {
    user.authorize(state, OBJECT, "file").await?;
    let mut errors = FieldErrors::default();
    let category = input.category.trim();
    if !CATEGORIES.iter().any(|(c, _)| *c == category) {
        errors.add("category", "请选择反馈类别");
    }
    let text = input.text.trim();
    if text.is_empty() {
        errors.add("text", "请填写反馈内容");
    } else if text.chars().count() > MAX_TEXT {
        errors.add("text", format!("反馈内容不能超过 {MAX_TEXT} 字"));
    }
    errors.finish()?;
    let handler = handler_for(state, user).await?;
    let tenant = user.tenant_code();
    let mut tx = state.db.begin().await?;
    let blob = match attachment {
        Some(upload) => Some(crate::storage::upload::store_attachment(state, &mut tx, tenant, &upload.filename, upload.bytes).await?),
        None => None,
    };
    let id = tx
        .scalar(
            q("INSERT INTO feedback (tenant_id, account_id, handler_org_id, category, text, attachment_blob_id, status, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, 'open', $7) RETURNING id")
            .bind(tenant)
            .bind(user.account.id)
            .bind(handler)
            .bind(category)
            .bind(text)
            .bind(blob)
            .bind(Utc::now()),
        )
        .await?;
    crate::audit::record_tx(&mut tx, tenant, Some(user.account.id), "feedback.filed", "feedback", Some(id), json!({"category": category}))
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// One page of the feedback the caller sees, newest first.
pub async fn list(state: &AppState, user: &CurrentUser, query: &FeedbackQuery) -> Result<(Vec<Feedback>, i64), AppError> {
    user.authorize(state, OBJECT, "file").await?;
    let mut filters = scoped(state, user).await?;
    if let Some(status) = crate::codes::filter::<FeedbackStatus>(query.status.as_deref(), "status", "状态")? {
        filters.and("f.status = ?", status);
    }
    match query.category.as_deref().map(str::trim).unwrap_or("") {
        "" => {}
        category if CATEGORIES.iter().any(|(c, _)| *c == category) => {
            filters.and("f.category = ?", category.to_owned());
        }
        _ => return Err(crate::error::field_error("category", "反馈类别无效")),
    }
    if let Some(text) = query.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        filters.contains(&["f.text", "a.name"], text);
    }
    let paging = query.paging();
    let total = state.db.scalar(filters.count(FROM)).await?;
    let rows: Vec<Feedback> = state.db.all(filters.page(&format!("{SELECT} {FROM}"), "f.id DESC", paging.page, paging.per_page)).await?;
    Ok((rows.into_iter().map(Feedback::finish).collect(), total))
}

/// The caller's own feedback, and for handlers also what was sent to their organisation.
async fn scoped(state: &AppState, user: &CurrentUser) -> Result<Filters, AppError> {
    let mut filters = Filters::tenant("f.tenant_id", user.tenant_code());
    match user.account.org_id.filter(|_| user.is_admin()) {
        Some(org) if user.can(state, OBJECT, "handle").await => {
            // Both are numbers of our own rows, safe to write into the statement.
            filters.and_sql(&format!("(f.handler_org_id = {org} OR f.account_id = {})", user.account.id));
        }
        _ => {
            filters.and("f.account_id = ?", user.account.id);
        }
    }
    Ok(filters)
}

/// Feedback the caller sees, and whether the caller answers it; 404 for any other.
pub async fn get(state: &AppState, user: &CurrentUser, id: i64) -> Result<(Feedback, bool), AppError> {
    user.authorize(state, OBJECT, "file").await?;
    let mut filters = scoped(state, user).await?;
    filters.and("f.id = ?", id);
    let row: Option<Feedback> = state.db.opt(filters.all(&format!("{SELECT} {FROM}"), "f.id")).await?;
    let feedback = row.map(Feedback::finish).ok_or_else(AppError::not_found)?;
    let handler: (i64,) =
        state.db.one(q("SELECT handler_org_id FROM feedback WHERE tenant_id = $1 AND id = $2").bind(user.tenant_code()).bind(id)).await?;
    let answers = user.account.org_id == Some(handler.0) && user.can(state, OBJECT, "handle").await;
    Ok((feedback, answers))
}

/// Replies to feedback sent to the caller's organisation (and closes it when asked); the filer gets a
/// message. 409 once it is closed.
pub async fn reply(state: &AppState, user: &CurrentUser, id: i64, input: &Reply) -> Result<(), AppError> {
    let (feedback, answers) = get(state, user, id).await?;
    if !answers {
        return Err(AppError::forbidden());
    }
    if feedback.status == FeedbackStatus::Closed {
        return Err(AppError::conflict("closed", "该反馈已办结"));
    }
    let text = input.text.trim();
    if text.is_empty() {
        return Err(crate::error::field_error("text", "请填写回复内容"));
    }
    if text.chars().count() > MAX_TEXT {
        return Err(crate::error::field_error("text", format!("回复内容不能超过 {MAX_TEXT} 字")));
    }
    let tenant = user.tenant_code();
    let status = if input.close { "closed" } else { "replied" };
    let mut tx = state.db.begin().await?;
    let filer = reply_tx(&mut tx, tenant, id, text, status, user.account.id).await?;
    crate::audit::record_tx(&mut tx, tenant, Some(user.account.id), "feedback.replied", "feedback", Some(id), json!({"status": status}))
        .await?;
    let title = if input.close { "您的反馈已办结" } else { "您的反馈已回复" };
    crate::messages::send_tx(&mut tx, tenant, filer, title, &format!("您提交的“{}”反馈已收到回复：{text}", feedback.category_label))
        .await?;
    tx.commit().await?;
    Ok(())
}

async fn reply_tx(tx: &mut Tx, tenant: &str, id: i64, text: &str, status: &str, actor: i64) -> Result<i64, AppError> {
    let changed = tx
        .run(
            q("UPDATE feedback SET reply = $3, status = $4, replied_by = $5, replied_at = $6 WHERE tenant_id = $1 AND id = $2 AND status <> 'closed'")
                .bind(tenant)
                .bind(id)
                .bind(text)
                .bind(status)
                .bind(actor)
                .bind(Utc::now()),
        )
        .await?;
    if changed == 0 {
        return Err(AppError::conflict("closed", "该反馈已办结"));
    }
    let (filer,): (i64,) = tx.one(q("SELECT account_id FROM feedback WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(id)).await?;
    Ok(filer)
}

/// The feedback's attachment as a download, for those who see the feedback.
pub async fn attachment(state: &AppState, user: &CurrentUser, id: i64) -> Result<axum::response::Response, AppError> {
    get(state, user, id).await?;
    let (blob,): (Option<i64>,) = state
        .db
        .one(q("SELECT attachment_blob_id FROM feedback WHERE tenant_id = $1 AND id = $2").bind(user.tenant_code()).bind(id))
        .await?;
    crate::storage::upload::download(state, user.tenant_code(), blob.ok_or_else(AppError::not_found)?).await
}
