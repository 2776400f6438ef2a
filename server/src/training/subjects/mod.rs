//! Subject catalogues (培训科目, seed 003 公需科目管理 / 专业科目管理): the provincial HR department keeps
//! the public subjects, each industry authority the professional subjects of its field — per year, with
//! an optional major (所属专业) and teaching suggestion (教学建议). Each keeper edits and disables (停用)
//! only its own; institutions pick an enabled subject of a plan's kind and year.

pub mod api;
pub mod pages;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit;
use crate::auth::CurrentUser;
use crate::auth::Role;
use crate::db::{Db, Filters, q};
use crate::error::{AppError, FieldErrors, ResultExt};
use crate::paging::Search;
use crate::state::AppState;
use crate::tenancy::TenantSettings;

/// Whether `kind` is a subject kind's code (`public`, `professional`); pages name it in the tenant's
/// words ([`TenantSettings::subject_name`]).
pub fn is_kind(kind: &str) -> bool {
    crate::tenancy::SUBJECT_CODES.contains(&kind)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = TrainingSubject)]
pub struct Subject {
    pub id: i64,
    pub owner_org_id: i64,
    pub owner_name: String,
    pub kind: String,
    pub name: String,
    pub year: i64,
    pub major: Option<String>,
    pub suggestion: Option<String>,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const SELECT: &str = "SELECT s.id, s.owner_org_id, o.name AS owner_name, s.kind, s.name, s.year, s.major, s.suggestion, s.enabled, \
     s.created_at, s.updated_at";
const FROM: &str = "FROM training_subjects s JOIN orgs o ON o.tenant_id = s.tenant_id AND o.id = s.owner_org_id";

/// A subject as the API and the pages show it: the record and its kind in the tenant's words.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubjectView {
    #[serde(flatten)]
    pub subject: Subject,
    pub kind_label: String,
}

impl Subject {
    pub fn view(&self, settings: &TenantSettings) -> SubjectView {
        SubjectView { subject: self.clone(), kind_label: settings.subject_name(&self.kind).to_owned() }
    }
}

pub async fn get(db: &Db, tenant: &str, id: i64) -> Result<Option<Subject>, sqlx::Error> {
    db.opt(q(format!("{SELECT} {FROM} WHERE s.tenant_id = $1 AND s.id = $2")).bind(tenant).bind(id)).await
}

/// The catalogue a subject keeper manages: the province HR department (and the tenant's system
/// administrator, who works there) the public subjects, owned by the tenant's province org; an industry
/// authority the professional subjects of its own org. Anyone else may not manage subjects.
#[derive(Debug, Clone, Copy)]
pub struct Keeper {
    pub kind: &'static str,
    pub owner_org_id: i64,
}

pub async fn keeper(state: &AppState, user: &CurrentUser) -> Result<Keeper, AppError> {
    user.authorize(state, "subjects", "manage").await?;
    let tenant = user.tenant_code();
    match (user.account.role, user.account.org_id) {
        (Role::ProvinceAdmin | Role::SystemAdmin, Some(_)) => {
            let owner_org_id = crate::orgs::province_id(&state.db, tenant).await?.ok_or_else(AppError::forbidden)?;
            Ok(Keeper { kind: "public", owner_org_id })
        }
        (Role::AuthorityAdmin, Some(org)) => Ok(Keeper { kind: "professional", owner_org_id: org }),
        _ => Err(AppError::forbidden()),
    }
}

/// The request body of `POST /subjects` and `PUT /subjects/{id}`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct SubjectBody {
    pub name: String,
    pub year: Option<i64>,
    /// public or professional; optional (it follows from who keeps it) but checked when given
    #[serde(default)]
    pub kind: Option<String>,
    /// 所属专业
    #[serde(default)]
    pub major: Option<String>,
    /// 教学建议 (at most 2,000 characters)
    #[serde(default)]
    pub suggestion: Option<String>,
    /// Default true
    #[serde(default)]
    pub enabled: Option<bool>,
}

struct Clean {
    name: String,
    year: i64,
    major: Option<String>,
    suggestion: Option<String>,
}

fn check(keeper: Keeper, body: &SubjectBody, settings: &TenantSettings) -> Result<Clean, AppError> {
    let mut errors = FieldErrors::default();
    let name = body.name.trim().to_owned();
    if name.is_empty() {
        errors.add("name", "请填写科目名称");
    } else if name.chars().count() > 100 {
        errors.add("name", "科目名称不能超过 100 字");
    }
    let year = body.year.unwrap_or(0);
    if !(1990..=2100).contains(&year) {
        errors.add("year", "请填写有效的培训年度");
    }
    if let Some(kind) = body.kind.as_deref().filter(|k| !k.is_empty())
        && kind != keeper.kind
    {
        errors.add(
            "kind",
            if keeper.kind == "public" {
                format!("省人社厅只能维护{}", settings.words.public)
            } else {
                format!("行业主管部门只能维护本部门的{}", settings.words.professional)
            },
        );
    }
    let major = super::optional_text(body.major.as_deref());
    if major.as_ref().is_some_and(|m| m.chars().count() > 100) {
        errors.add("major", "所属专业不能超过 100 字");
    }
    let suggestion = super::optional_text(body.suggestion.as_deref());
    if suggestion.as_ref().is_some_and(|s| s.chars().count() > 2000) {
        errors.add("suggestion", "教学建议不能超过 2000 字");
    }
    errors.finish()?;
    Ok(Clean { name, year, major, suggestion })
}

fn duplicate(clean: &Clean) -> AppError {
    let mut err = AppError::conflict("duplicate_subject", format!("{} 年度已有名为“{}”的科目", clean.year, clean.name));
    err.fields.insert("name".to_owned(), "同一年度的科目名称不能重复".to_owned());
    err
}

/// Adds a subject to the caller's catalogue. A name used in the same year → 409 `duplicate_subject`.
pub async fn create(state: &AppState, user: &CurrentUser, body: &SubjectBody) -> Result<Subject, AppError> {
    let keeper = keeper(state, user).await?;
    let clean = check(keeper, body, &user.tenant.tenant.settings)?;
    let tenant = user.tenant_code();
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    let id = tx
        .scalar(
            q("INSERT INTO training_subjects (tenant_id, owner_org_id, kind, name, year, major, suggestion, enabled, created_by, created_at, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id")
            .bind(tenant)
            .bind(keeper.owner_org_id)
            .bind(keeper.kind)
            .bind(&clean.name)
            .bind(clean.year)
            .bind(clean.major.clone())
            .bind(clean.suggestion.clone())
            .bind(body.enabled.unwrap_or(true))
            .bind(user.account.id)
            .bind(now),
        )
        .await
        .on_duplicate(|| duplicate(&clean))?;
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "subject.created",
        "training_subject",
        Some(id),
        json!({"kind": keeper.kind, "name": clean.name, "year": clean.year}),
    )
    .await?;
    tx.commit().await?;
    get(&state.db, tenant, id).await?.ok_or_else(AppError::not_found)
}

/// One of the caller's own subjects; anyone else's is "not found".
async fn own(state: &AppState, user: &CurrentUser, id: i64) -> Result<(Keeper, Subject), AppError> {
    let keeper = keeper(state, user).await?;
    let subject = get(&state.db, user.tenant_code(), id).await?.ok_or_else(AppError::not_found)?;
    if subject.owner_org_id != keeper.owner_org_id || subject.kind != keeper.kind {
        return Err(AppError::not_found());
    }
    Ok((keeper, subject))
}

/// Edits one of the caller's subjects. Its year cannot change once plans use it.
pub async fn update(state: &AppState, user: &CurrentUser, id: i64, body: &SubjectBody) -> Result<Subject, AppError> {
    let (keeper, subject) = own(state, user, id).await?;
    let clean = check(keeper, body, &user.tenant.tenant.settings)?;
    let tenant = user.tenant_code();
    let mut tx = state.db.begin().await?;
    if clean.year != subject.year
        && tx
            .exists(
                q("SELECT 1 FROM training_plans WHERE tenant_id = $1 AND subject_id = $2 AND status <> 'deleted'").bind(tenant).bind(id),
            )
            .await?
    {
        return Err(AppError::conflict("subject_in_use", "已有培训计划使用该科目，不能修改培训年度"));
    }
    tx.run(
        q("UPDATE training_subjects SET name = $3, year = $4, major = $5, suggestion = $6, enabled = $7, updated_at = $8 \
               WHERE tenant_id = $1 AND id = $2")
        .bind(tenant)
        .bind(id)
        .bind(&clean.name)
        .bind(clean.year)
        .bind(clean.major.clone())
        .bind(clean.suggestion.clone())
        .bind(body.enabled.unwrap_or(subject.enabled))
        .bind(Utc::now()),
    )
    .await
    .on_duplicate(|| duplicate(&clean))?;
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "subject.updated",
        "training_subject",
        Some(id),
        json!({"name": clean.name, "year": clean.year, "was": {"name": subject.name, "year": subject.year}}),
    )
    .await?;
    tx.commit().await?;
    get(&state.db, tenant, id).await?.ok_or_else(AppError::not_found)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct StatusInput {
    pub ids: Vec<i64>,
    /// false: 停用; true: 启用
    pub enabled: bool,
}

/// Enables or disables several of the caller's subjects: all or none (one transaction; a subject that
/// is not the caller's → 404 and nothing changes). Returns how many changed.
pub async fn set_enabled(state: &AppState, user: &CurrentUser, ids: &[i64], enabled: bool) -> Result<u64, AppError> {
    let keeper = keeper(state, user).await?;
    if ids.is_empty() {
        return Err(AppError::invalid([("ids".to_owned(), "请至少选择一个科目".to_owned())].into()));
    }
    if ids.len() > 1000 {
        return Err(AppError::invalid([("ids".to_owned(), "一次最多处理 1000 个科目".to_owned())].into()));
    }
    let tenant = user.tenant_code();
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let mut tx = state.db.begin().await?;
    let mut changed = 0;
    for id in &ids {
        let owned = tx
            .exists(
                q("SELECT 1 FROM training_subjects WHERE tenant_id = $1 AND id = $2 AND owner_org_id = $3 AND kind = $4")
                    .bind(tenant)
                    .bind(*id)
                    .bind(keeper.owner_org_id)
                    .bind(keeper.kind),
            )
            .await?;
        if !owned {
            return Err(AppError::not_found());
        }
        let n = tx
            .run(
                q("UPDATE training_subjects SET enabled = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2 AND enabled <> $3")
                    .bind(tenant)
                    .bind(*id)
                    .bind(enabled)
                    .bind(Utc::now()),
            )
            .await?;
        if n > 0 {
            audit::record_tx(
                &mut tx,
                tenant,
                Some(user.account.id),
                if enabled { "subject.enabled" } else { "subject.disabled" },
                "training_subject",
                Some(*id),
                json!({}),
            )
            .await?;
        }
        changed += n;
    }
    tx.commit().await?;
    Ok(changed)
}

crate::paging::list_query! {
    #[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
    pub struct ListQuery {
        /// public or professional
        pub kind: Option<String>,
        pub year: Option<i64>,
        /// 所属专业 contains
        pub major: Option<String>,
        /// Name contains
        pub q: Option<String>,
        /// yes/true (enabled only) or no/false (disabled only)
        pub enabled: Option<String>,
        /// 1/true: only the caller's own catalogue (subject keepers)
        pub mine: Option<String>,
    }
}

fn yes_no(text: Option<&str>, field: &str) -> Result<Option<bool>, AppError> {
    match text.map(str::trim).unwrap_or("") {
        "" => Ok(None),
        "1" | "yes" | "true" => Ok(Some(true)),
        "0" | "no" | "false" => Ok(Some(false)),
        _ => Err(AppError::bad_request("bad_filter", format!("筛选条件 {field} 无效"))),
    }
}

/// The tenant's subjects, for those who keep subjects or pick them (institutions).
pub async fn list(state: &AppState, user: &CurrentUser, query: &ListQuery) -> Result<(Vec<Subject>, i64), AppError> {
    if !user.can(state, "subjects", "read").await {
        user.authorize(state, "subjects", "manage").await?;
    }
    let mut filters = Filters::tenant("s.tenant_id", user.tenant_code());
    if let Some(kind) = query.kind.as_deref().filter(|k| !k.is_empty()) {
        if !is_kind(kind) {
            return Err(AppError::bad_request("bad_filter", "科目类型无效"));
        }
        filters.and("s.kind = ?", kind);
    }
    if let Some(year) = query.year {
        filters.and("s.year = ?", year);
    }
    if let Some(major) = query.major.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        filters.contains(&["s.major"], major);
    }
    if let Some(text) = query.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        filters.contains(&["s.name"], text);
    }
    if let Some(enabled) = yes_no(query.enabled.as_deref(), "enabled")? {
        filters.and("s.enabled = ?", enabled);
    }
    if yes_no(query.mine.as_deref(), "mine")? == Some(true) {
        let keeper = keeper(state, user).await?;
        filters.and("s.owner_org_id = ?", keeper.owner_org_id);
        filters.and("s.kind = ?", keeper.kind);
    }
    let total = state.db.scalar(filters.count(FROM)).await?;
    let items =
        state.db.all(filters.page(&format!("{SELECT} {FROM}"), "s.year DESC, s.kind, s.name, s.id", query.page, query.per_page())).await?;
    Ok((items, total))
}

/// Enabled subjects of a kind and year, for a plan form's picker.
pub async fn offered(db: &Db, tenant: &str, kind: &str, year: i64) -> Result<Vec<Subject>, sqlx::Error> {
    db.all(
        q(format!("{SELECT} {FROM} WHERE s.tenant_id = $1 AND s.kind = $2 AND s.year = $3 AND s.enabled = $4 ORDER BY s.name, s.id"))
            .bind(tenant)
            .bind(kind)
            .bind(year)
            .bind(true),
    )
    .await
}

/// A subject for those who may list subjects.
pub async fn readable(state: &AppState, user: &CurrentUser, id: i64) -> Result<Subject, AppError> {
    if !user.can(state, "subjects", "read").await {
        user.authorize(state, "subjects", "manage").await?;
    }
    get(&state.db, user.tenant_code(), id).await?.ok_or_else(AppError::not_found)
}
