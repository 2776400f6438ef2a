//! Basic data management for the tenant's system administrator (seed 003 "基础数据管理"): unit
//! natures, affiliations, industries, education levels … may be added, renamed and disabled. Items
//! listed in `tenants/<code>/data/basic.toml` get their names back from the file at the next sync;
//! items added here stay. Industry authorities and HR bureaus are lists here too, kept as organisations
//! (`orgs::master`).

pub mod api;
pub mod pages;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit;
use crate::auth::CurrentUser;
use crate::db::q;
use crate::error::{AppError, FieldErrors};
use crate::orgs::master::{self, MasterInput};
use crate::state::AppState;

/// The lists an administrator may edit, with their Chinese names. Regions are not among them: the HR
/// bureau tree is built from them, so they change only through the tenant folder.
pub const EDITABLE: &[(&str, &str)] = &[
    ("unit_nature", "单位性质"),
    ("affiliation", "隶属关系"),
    ("unit_level", "单位级别"),
    ("industry", "所属行业"),
    ("institution_level", "施教机构级别"),
    ("education", "学历"),
    ("ethnicity", "民族"),
    ("title_series", "职称系列"),
    // A new level is judged by the requirement table's `*` row until the table names it (年度学时要求).
    ("title_level", "职称等级"),
];

pub(crate) fn check_kind(kind: &str) -> Result<&'static str, AppError> {
    EDITABLE
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, label)| *label)
        .or_else(|| master::list_kind(kind).map(|(_, label)| label))
        .ok_or_else(AppError::not_found)
}

/// One item of an editable list.
#[derive(Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = BasicDataItem)]
pub struct Item {
    pub code: String,
    pub name: String,
    pub enabled: bool,
    pub sort: i64,
}

pub async fn list(state: &AppState, user: &CurrentUser, kind: &str) -> Result<Vec<Item>, AppError> {
    user.authorize(state, "basic_data", "manage").await?;
    check_kind(kind)?;
    Ok(state
        .db
        .all(
            q("SELECT code, name, enabled, sort FROM basic_data WHERE tenant_id = $1 AND kind = $2 ORDER BY sort, code")
                .bind(user.tenant_code())
                .bind(kind),
        )
        .await?)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ItemInput {
    /// ASCII letters, digits and underscores; fixed once created
    #[serde(default)]
    pub code: String,
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Authorities: the region code of the HR bureau it sits under (when added); HR bureaus: the
    /// region code of the parent bureau (when added)
    #[serde(default)]
    pub region: Option<String>,
    /// Authorities: the industry code (basic data `industry`)
    #[serde(default)]
    pub industry: Option<String>,
}

fn yes() -> bool {
    true
}

fn check_name(name: &str, errors: &mut FieldErrors) {
    let len = name.trim().chars().count();
    if len == 0 || len > 50 {
        errors.add("name", "名称应为 1 到 50 个字");
    }
}

/// Adds an item (new code) or renames / enables / disables an existing one.
pub async fn save(state: &AppState, user: &CurrentUser, kind: &str, existing: Option<&str>, input: &ItemInput) -> Result<(), AppError> {
    user.authorize(state, "basic_data", "manage").await?;
    check_kind(kind)?;
    if let Some((org_kind, _)) = master::list_kind(kind) {
        let input = MasterInput {
            code: &input.code,
            name: &input.name,
            enabled: input.enabled,
            region: input.region.as_deref(),
            industry: input.industry.as_deref(),
        };
        return master::save(state, user, org_kind, existing, &input).await;
    }
    let tenant = user.tenant_code();
    let mut errors = FieldErrors::default();
    check_name(&input.name, &mut errors);
    let code = existing.unwrap_or(input.code.trim());
    let exists = state
        .db
        .exists(q("SELECT 1 FROM basic_data WHERE tenant_id = $1 AND kind = $2 AND code = $3").bind(tenant).bind(kind).bind(code))
        .await?;
    match existing {
        Some(_) if !exists => return Err(AppError::not_found()),
        None if code.is_empty() || code.len() > 30 || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
            errors.add("code", "代码只能包含字母、数字和下划线，最长 30 位")
        }
        None if exists => errors.add("code", "该代码已存在"),
        _ => {}
    }
    errors.finish()?;
    let mut tx = state.db.begin().await?;
    if existing.is_some() {
        tx.run(
            q("UPDATE basic_data SET name = $4, enabled = $5 WHERE tenant_id = $1 AND kind = $2 AND code = $3")
                .bind(tenant)
                .bind(kind)
                .bind(code)
                .bind(input.name.trim())
                .bind(input.enabled),
        )
        .await?;
    } else {
        tx.run(
            q("INSERT INTO basic_data (tenant_id, kind, code, name, parent_code, sort, enabled) \
               VALUES ($1, $2, $3, $4, NULL, (SELECT COALESCE(MAX(sort), 0) + 1 FROM basic_data WHERE tenant_id = $1 AND kind = $2), $5)")
            .bind(tenant)
            .bind(kind)
            .bind(code)
            .bind(input.name.trim())
            .bind(input.enabled),
        )
        .await?;
    }
    let action = if existing.is_some() { "basic_data.update" } else { "basic_data.add" };
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        action,
        "basic_data",
        None,
        json!({"kind": kind, "code": code, "name": input.name.trim(), "enabled": input.enabled}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
