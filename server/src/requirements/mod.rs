//! 年度学时要求 (seed 003 "管理年度完成继续教育学时"): the tenant's system administrator keeps, per
//! year, the public, professional and total hours each title level must complete. A saved table
//! replaces the rules file's `requirements` for that year only (it reaches the plugin through that
//! year's config, `rules::stored`) and queues the recompute of that year's stored statuses. Years
//! before this one keep the figures they were judged by: their tables no longer change.

pub mod api;
pub mod pages;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::audit;
use crate::auth::CurrentUser;
use crate::db::q;
use crate::error::{AppError, FieldErrors};
use crate::rules::model::Hours;
use crate::rules::tenant::RequirementRow;
use crate::state::AppState;

/// Part of 基础数据管理: whoever manages the tenant's basic data manages its hour table.
const OBJECT: &str = "basic_data";
const ACTION: &str = "manage";
/// The row for every title level the table does not name.
pub const OTHER_LEVEL: &str = "*";
/// The most hours one part of a year's requirement may ask.
const MAX_HOURS: f64 = 1000.0;
/// Years ahead of this one whose table may already be set.
const YEARS_AHEAD: i64 = 1;
/// The first year a table can be asked for.
const FIRST_YEAR: i64 = 2000;

/// Whose table judges the year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TableSource {
    /// Saved by an administrator for this year
    Stored,
    /// The rules file's table (no table saved for this year)
    RulesFile,
}

/// One year's requirement per title level.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RequirementTable {
    pub year: i64,
    pub source: TableSource,
    /// Whether the table may still change (this year and the next; earlier years were judged by it)
    pub editable: bool,
    pub rows: Vec<Requirement>,
    /// When the stored table was last saved
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Requirement {
    /// A title level's code, or `*` for every level the table does not name
    pub title_level: String,
    /// The title level's name (其他职称等级 for `*`)
    pub title_level_name: String,
    /// 公需科目 hours
    #[schema(value_type = f64)]
    pub public: Hours,
    /// 专业科目 hours
    #[schema(value_type = f64)]
    pub professional: Hours,
    /// Hours in all
    #[schema(value_type = f64)]
    pub total: Hours,
}

/// A year's whole table: it replaces the one in force. The `*` row is required.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RequirementsInput {
    pub rows: Vec<RequirementInput>,
}

/// Hours are decimal numbers with at most two decimals (numbers or numeric text).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct RequirementInput {
    pub title_level: String,
    #[serde(default)]
    #[schema(value_type = f64)]
    pub public: Value,
    #[serde(default)]
    #[schema(value_type = f64)]
    pub professional: Value,
    #[serde(default)]
    #[schema(value_type = f64)]
    pub total: Value,
}

fn this_year() -> i64 {
    crate::hours::this_year()
}

/// The years whose table can be shown, newest first.
pub fn shown_years() -> Vec<i64> {
    (FIRST_YEAR.max(this_year() - 5)..=this_year() + YEARS_AHEAD).rev().collect()
}

fn check_year(year: i64) -> Result<u16, AppError> {
    u16::try_from(year).ok().filter(|_| (FIRST_YEAR..=this_year() + YEARS_AHEAD).contains(&year)).ok_or_else(AppError::not_found)
}

fn editable(year: i64) -> bool {
    year >= this_year()
}

/// A year whose table may still change: 404 outside the range, 409 before this year.
fn open_year(year: i64) -> Result<u16, AppError> {
    let year16 = check_year(year)?;
    if !editable(year) {
        return Err(AppError::conflict("year_closed", format!("{year} 年度已按当时的学时要求判定，不能再修改")));
    }
    Ok(year16)
}

/// The tenant's title levels (code → name), disabled ones too: a stored table may name them.
async fn title_levels(state: &AppState, tenant: &str) -> Result<Vec<(String, String)>, AppError> {
    Ok(state
        .db
        .all(q("SELECT code, name FROM basic_data WHERE tenant_id = $1 AND kind = 'title_level' ORDER BY sort, code").bind(tenant))
        .await?)
}

fn level_name(levels: &[(String, String)], code: &str) -> String {
    if code == OTHER_LEVEL {
        return "其他职称等级".into();
    }
    levels.iter().find(|(c, _)| c == code).map_or_else(|| code.to_owned(), |(_, name)| name.clone())
}

/// The rows that judge `year`, where they come from and when they were saved.
async fn in_force(
    state: &AppState,
    tenant: &str,
    year: u16,
) -> Result<(TableSource, Vec<RequirementRow>, Option<DateTime<Utc>>), AppError> {
    Ok(match crate::rules::stored::read(&state.db, tenant, year).await? {
        Some((rows, updated_at)) => (TableSource::Stored, rows, Some(updated_at)),
        None => (TableSource::RulesFile, state.rules.file_requirements(tenant, year)?, None),
    })
}

/// The table that judges `year`: the stored one, else the rules file's.
pub async fn table(state: &AppState, user: &CurrentUser, year: i64) -> Result<RequirementTable, AppError> {
    user.authorize(state, OBJECT, ACTION).await?;
    let tenant = user.tenant_code();
    let (source, rows, updated_at) = in_force(state, tenant, check_year(year)?).await?;
    let levels = title_levels(state, tenant).await?;
    let rows = rows
        .into_iter()
        .map(|row| Requirement {
            title_level_name: level_name(&levels, &row.title_level),
            title_level: row.title_level,
            public: row.public,
            professional: row.professional,
            total: row.total,
        })
        .collect();
    Ok(RequirementTable { year, source, editable: editable(year), rows, updated_at })
}

/// Hours from a number or numeric text; the error says what is wrong in words.
fn parse_hours(value: &Value) -> Result<Hours, &'static str> {
    let number = match value {
        Value::Null => return Err("请填写学时"),
        Value::Number(n) => n.as_f64(),
        Value::String(text) if text.trim().is_empty() => return Err("请填写学时"),
        Value::String(text) => text.trim().parse::<f64>().ok(),
        _ => None,
    };
    let number = number.filter(|n| n.is_finite()).ok_or("学时须为数字")?;
    if number < 0.0 {
        return Err("学时不能小于 0");
    }
    if number > MAX_HOURS {
        return Err("学时不能超过 1000");
    }
    Hours::from_decimal(number).ok_or("学时最多保留两位小数")
}

/// Checks a submitted table against the tenant's title levels; field errors are keyed
/// `<title level>.<public|professional|total>`.
fn validate(input: &RequirementsInput, levels: &[(String, String)]) -> Result<Vec<RequirementRow>, AppError> {
    let mut errors = FieldErrors::default();
    let mut seen = BTreeSet::new();
    let mut rows = Vec::new();
    for row in &input.rows {
        let level = row.title_level.trim();
        if level != OTHER_LEVEL && !levels.iter().any(|(code, _)| code == level) {
            errors.add(&format!("{level}.title_level"), "没有这个职称等级");
            continue;
        }
        if !seen.insert(level.to_owned()) {
            errors.add(&format!("{level}.title_level"), "同一职称等级只能填写一行");
            continue;
        }
        let mut part = |field: &str, value: &Value| match parse_hours(value) {
            Ok(hours) => Some(hours),
            Err(message) => {
                errors.add(&format!("{level}.{field}"), message);
                None
            }
        };
        let (public, professional, total) =
            (part("public", &row.public), part("professional", &row.professional), part("total", &row.total));
        if let (Some(public), Some(professional), Some(total)) = (public, professional, total) {
            rows.push(RequirementRow { title_level: level.to_owned(), public, professional, total });
        }
    }
    if !seen.contains(OTHER_LEVEL) {
        errors.add(&format!("{OTHER_LEVEL}.total"), "请填写其他职称等级的学时要求");
    }
    errors.finish()?;
    Ok(rows)
}

/// Removes `year`'s stored table: the rules file's judges the year again, and its stored statuses are
/// queued for recompute, in one transaction.
pub async fn reset(state: &AppState, user: &CurrentUser, year: i64) -> Result<(), AppError> {
    user.authorize(state, OBJECT, ACTION).await?;
    let year16 = open_year(year)?;
    let tenant = user.tenant_code();
    let (source, before, _) = in_force(state, tenant, year16).await?;
    if source != TableSource::Stored {
        return Err(AppError::new(
            axum::http::StatusCode::NOT_FOUND,
            "not_stored",
            format!("{year} 年度未单独设置学时要求，已在使用省级规则中的默认要求"),
        ));
    }
    let mut tx = state.db.begin().await?;
    crate::rules::stored::replace_tx(&mut tx, tenant, year16, &[], user.account.id, Utc::now()).await?;
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "requirements.reset",
        "year_requirements",
        Some(year),
        json!({"year": year, "before": described(&before)}),
    )
    .await?;
    crate::hours::status::mark_year_tx(&mut tx, tenant, year).await?;
    tx.commit().await?;
    state.rules.refresh_stored(&state.db, Some(tenant)).await?;
    Ok(())
}

/// A table as the audit trail keeps it: level → [public, professional, total].
fn described(rows: &[RequirementRow]) -> BTreeMap<String, Value> {
    rows.iter().map(|r| (r.title_level.clone(), json!([r.public, r.professional, r.total]))).collect()
}

/// Replaces `year`'s table and queues the recompute of that year's stored statuses, in one transaction.
pub async fn save(state: &AppState, user: &CurrentUser, year: i64, input: &RequirementsInput) -> Result<(), AppError> {
    user.authorize(state, OBJECT, ACTION).await?;
    let year16 = open_year(year)?;
    let tenant = user.tenant_code();
    let levels = title_levels(state, tenant).await?;
    let rows = validate(input, &levels)?;
    let (_, before, _) = in_force(state, tenant, year16).await?;
    let mut tx = state.db.begin().await?;
    crate::rules::stored::replace_tx(&mut tx, tenant, year16, &rows, user.account.id, Utc::now()).await?;
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "requirements.update",
        "year_requirements",
        Some(year),
        json!({"year": year, "before": described(&before), "after": described(&rows)}),
    )
    .await?;
    crate::hours::status::mark_year_tx(&mut tx, tenant, year).await?;
    tx.commit().await?;
    // This process judges with the new table at once; the others within a second (`app::keep_fresh`).
    state.rules.refresh_stored(&state.db, Some(tenant)).await?;
    Ok(())
}
