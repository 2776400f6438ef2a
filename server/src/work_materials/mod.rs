//! Yearly work materials (年度工作材料报送, seed 004 §5.3): a supervising department (主管部门) or an HR
//! bureau files its year's materials — study guides (学习指南), work notices (工作通知) and others — each a
//! title and a file, and edits, replaces or deletes them; the departments above it (whose subtree holds
//! it) see and download them.

pub mod api;
pub mod pages;

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::CurrentUser;
use crate::db::{Filters, q};
use crate::error::{AppError, FieldErrors};
use crate::orgs::OrgKind;
use crate::paging::Search;
use crate::state::AppState;
use crate::storage::upload::Upload;

/// The casbin object: `file` (departments and bureaus that file their own) and `read` (those above).
pub(crate) const OBJECT: &str = "work_materials";
pub(crate) const CATEGORIES: &[(&str, &str)] = &[("guide", "学习指南"), ("notice", "工作通知"), ("other", "其他材料")];

/// A material to file or the new values of one (`title`, `year`, `category`; a new file replaces the old).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct MaterialInput {
    /// The year the material is for (2000 to next year)
    pub year: String,
    /// guide (学习指南), notice (工作通知) or other
    pub category: String,
    /// 标题, at most 100 characters
    pub title: String,
}

/// A material as lists show it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Material {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub year: i64,
    pub category: String,
    #[sqlx(default)]
    pub category_label: String,
    pub title: String,
    pub filename: String,
    pub created_by_name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const SELECT: &str = "SELECT m.id, m.org_id, o.name AS org_name, m.year, m.category, m.title, b.filename, a.name AS created_by_name, \
     m.created_at, m.updated_at";
const FROM: &str = "FROM work_materials m JOIN orgs o ON o.tenant_id = m.tenant_id AND o.id = m.org_id \
     JOIN blobs b ON b.tenant_id = m.tenant_id AND b.id = m.blob_id \
     JOIN accounts a ON a.tenant_id = m.tenant_id AND a.id = m.created_by";

impl Material {
    fn finish(mut self) -> Self {
        self.category_label = CATEGORIES.iter().find(|(c, _)| *c == self.category).map_or("", |(_, l)| l).to_owned();
        self
    }
}

crate::paging::list_query! {
    /// `GET /api/v1/work-materials`
    #[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct MaterialQuery {
        #[serde(default, deserialize_with = "crate::web::empty_as_none")]
        pub year: Option<i64>,
        /// guide, notice or other
        #[param(pattern = "^\\s*(guide|notice|other)?\\s*$")]
        pub category: Option<String>,
        /// Only this organisation's (one in the caller's scope)
        #[serde(default, deserialize_with = "crate::web::empty_as_none")]
        pub org: Option<i64>,
        /// Part of the title or the organisation's name
        pub q: Option<String>,
    }
}

/// The caller's own organisation when it files materials (a supervising department or an HR bureau).
async fn own_filer(state: &AppState, user: &CurrentUser) -> Result<i64, AppError> {
    user.authorize(state, OBJECT, "file").await?;
    let org_id = user.account.org_id.ok_or_else(AppError::forbidden)?;
    let org = crate::orgs::get(&state.db, user.tenant_code(), org_id).await?.ok_or_else(AppError::forbidden)?;
    if !matches!(org.kind, OrgKind::Authority | OrgKind::Hr) {
        return Err(AppError::forbidden());
    }
    Ok(org_id)
}

fn checked(input: &MaterialInput) -> Result<(i64, &str, &str), AppError> {
    let mut errors = FieldErrors::default();
    let next_year = i64::from(crate::china_time::day(Utc::now()).year()) + 1;
    let year = input.year.trim().parse::<i64>().ok().filter(|y| (2000..=next_year).contains(y));
    if year.is_none() {
        errors.add("year", format!("年度须在 2000 至 {next_year} 年之间"));
    }
    let category = input.category.trim();
    if !CATEGORIES.iter().any(|(c, _)| *c == category) {
        errors.add("category", "请选择材料类别：学习指南、工作通知或其他材料");
    }
    let title = input.title.trim();
    crate::fields::required(&mut errors, "title", title, "标题", 100);
    errors.finish()?;
    Ok((year.expect("checked above"), category, title))
}

/// Files a material of the caller's organisation; everything is checked before the file is stored.
pub async fn file(state: &AppState, user: &CurrentUser, input: &MaterialInput, upload: Option<Upload>) -> Result<i64, AppError> {
    let org_id = own_filer(state, user).await?;
    let checked = checked(input);
    let (year, category, title) = match (checked, &upload) {
        (Ok(values), Some(_)) => values,
        (Ok(_), None) => return Err(crate::error::field_error("file", "请选择要上传的文件")),
        (Err(mut err), None) => {
            err.fields.insert("file".into(), "请选择要上传的文件".into());
            return Err(err);
        }
        (Err(err), Some(_)) => return Err(err),
    };
    let upload = upload.expect("checked above");
    let tenant = user.tenant_code();
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    let blob = crate::storage::upload::store_attachment(state, &mut tx, tenant, &upload.filename, upload.bytes).await?;
    let id = tx
        .scalar(
            q("INSERT INTO work_materials (tenant_id, org_id, year, category, title, blob_id, created_by, created_at, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id")
            .bind(tenant)
            .bind(org_id)
            .bind(year)
            .bind(category)
            .bind(title)
            .bind(blob)
            .bind(user.account.id)
            .bind(now),
        )
        .await?;
    crate::audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "work_material.filed",
        "work_material",
        Some(id),
        json!({"year": year, "title": title}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// One of the caller's own organisation's materials; 404 for any other.
async fn own_material(state: &AppState, user: &CurrentUser, id: i64) -> Result<Material, AppError> {
    let org_id = own_filer(state, user).await?;
    let material = get(state, user, id).await?;
    if material.org_id != org_id {
        return Err(AppError::not_found());
    }
    Ok(material)
}

/// Changes a material's year, category and title, and replaces its file when a new one comes along.
pub async fn update(state: &AppState, user: &CurrentUser, id: i64, input: &MaterialInput, upload: Option<Upload>) -> Result<(), AppError> {
    own_material(state, user, id).await?;
    let (year, category, title) = checked(input)?;
    let tenant = user.tenant_code();
    let mut tx = state.db.begin().await?;
    if let Some(upload) = upload {
        let blob = crate::storage::upload::store_attachment(state, &mut tx, tenant, &upload.filename, upload.bytes).await?;
        tx.run(q("UPDATE work_materials SET blob_id = $3 WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(id).bind(blob)).await?;
    }
    tx.run(
        q("UPDATE work_materials SET year = $3, category = $4, title = $5, updated_at = $6 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .bind(year)
            .bind(category)
            .bind(title)
            .bind(Utc::now()),
    )
    .await?;
    crate::audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "work_material.updated",
        "work_material",
        Some(id),
        json!({"year": year, "title": title}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes one of the caller's own organisation's materials.
pub async fn delete(state: &AppState, user: &CurrentUser, id: i64) -> Result<(), AppError> {
    let material = own_material(state, user, id).await?;
    let tenant = user.tenant_code();
    let mut tx = state.db.begin().await?;
    tx.run(q("DELETE FROM work_materials WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(id)).await?;
    crate::audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "work_material.deleted",
        "work_material",
        Some(id),
        json!({"title": material.title}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Admins who file materials or read those below them; 403 for everyone else.
async fn scope(state: &AppState, user: &CurrentUser) -> Result<String, AppError> {
    if !(user.can(state, OBJECT, "file").await || user.can(state, OBJECT, "read").await) {
        return Err(AppError::forbidden());
    }
    user.scope_pattern().ok_or_else(AppError::forbidden)
}

/// One page of the materials of the caller's organisation and those below it, newest year first.
pub async fn list(state: &AppState, user: &CurrentUser, query: &MaterialQuery) -> Result<(Vec<Material>, i64), AppError> {
    let scope = scope(state, user).await?;
    let mut filters = Filters::tenant("m.tenant_id", user.tenant_code());
    filters.and_same("(o.path LIKE ? OR o.supervisor_path LIKE ?)", scope);
    if let Some(year) = query.year {
        filters.and("m.year = ?", year);
    }
    match query.category.as_deref().map(str::trim).unwrap_or("") {
        "" => {}
        category if CATEGORIES.iter().any(|(c, _)| *c == category) => {
            filters.and("m.category = ?", category.to_owned());
        }
        _ => return Err(crate::error::field_error("category", "材料类别须为 guide、notice 或 other")),
    }
    if let Some(org) = query.org {
        filters.and("m.org_id = ?", org);
    }
    if let Some(text) = query.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        filters.contains(&["m.title", "o.name"], text);
    }
    let paging = query.paging();
    let total = state.db.scalar(filters.count(FROM)).await?;
    let rows: Vec<Material> =
        state.db.all(filters.page(&format!("{SELECT} {FROM}"), "m.year DESC, m.id DESC", paging.page, paging.per_page)).await?;
    Ok((rows.into_iter().map(Material::finish).collect(), total))
}

/// A material the caller sees; 404 for any other (another tenant's, outside the caller's subtree).
pub async fn get(state: &AppState, user: &CurrentUser, id: i64) -> Result<Material, AppError> {
    let scope = scope(state, user).await?;
    let mut filters = Filters::tenant("m.tenant_id", user.tenant_code());
    filters.and_same("(o.path LIKE ? OR o.supervisor_path LIKE ?)", scope);
    filters.and("m.id = ?", id);
    let row: Option<Material> = state.db.opt(filters.all(&format!("{SELECT} {FROM}"), "m.id")).await?;
    row.map(Material::finish).ok_or_else(AppError::not_found)
}

/// The material's file as a download, for those who see it.
pub async fn download(state: &AppState, user: &CurrentUser, id: i64) -> Result<axum::response::Response, AppError> {
    let material = get(state, user, id).await?;
    let blob: i64 = state
        .db
        .scalar(q("SELECT blob_id FROM work_materials WHERE tenant_id = $1 AND id = $2").bind(user.tenant_code()).bind(material.id))
        .await?;
    crate::storage::upload::download(state, user.tenant_code(), blob).await
}

/// The material's fields and file from a multipart form (and the CSRF token, for pages).
pub async fn read_form(multipart: axum::extract::Multipart) -> Result<(MaterialInput, Option<Upload>, Option<String>), AppError> {
    let form = crate::storage::upload::read_multipart_form(multipart, "file").await?;
    Ok((MaterialInput { year: form.text("year"), category: form.text("category"), title: form.text("title") }, form.file, form.csrf))
}
