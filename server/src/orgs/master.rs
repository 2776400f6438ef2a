//! 管理行业主管部门 and 管理人社局信息 (seed 003 基础数据管理): the tenant's system administrator adds,
//! renames, disables and enables industry authorities and HR bureaus. They are organisations of the
//! tree, kept as basic-data lists (`/basic-data?kind=authority|hr_bureau`, the basic-data API). A
//! disabled one keeps its history — staff, admins, requests — but takes no new registrations: the
//! registration forms and pickers offer only active organisations. Those listed in the tenant folder
//! get their names back from the file at the next sync; their status stays as administrators set it.

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{NewOrg, OrgKind, OrgStatus};
use crate::audit;
use crate::auth::CurrentUser;
use crate::db::{Filters, q};
use crate::error::{AppError, FieldErrors};
use crate::paging::Search;
use crate::state::AppState;

/// The organisation lists among the basic data: (list code, kind, Chinese name).
pub const LISTS: &[(&str, OrgKind, &str)] = &[("authority", OrgKind::Authority, "行业主管部门"), ("hr_bureau", OrgKind::Hr, "人社局")];

/// The organisation kind behind a basic-data list code, if it is one.
pub fn list_kind(list: &str) -> Option<(OrgKind, &'static str)> {
    LISTS.iter().find(|(code, _, _)| *code == list).map(|(_, kind, label)| (*kind, *label))
}

/// The prefix of the key the tenant folder gives each kind (`authority:<key>`, `hr:<region>`).
fn key_prefix(kind: OrgKind) -> &'static str {
    if kind == OrgKind::Authority { "authority:" } else { "hr:" }
}

/// The code an organisation has in its list: its key without the prefix, or `org-<id>` for one that
/// registered itself (no key).
fn code_of(kind: OrgKind, id: i64, ext_key: Option<&str>) -> String {
    ext_key.and_then(|key| key.strip_prefix(key_prefix(kind))).map_or_else(|| format!("org-{id}"), str::to_owned)
}

crate::paging::list_query! {
    per_page(50, 200);
    #[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
    pub struct MasterQuery {
        /// Part of the name
        pub q: Option<String>,
        /// active or disabled
        pub status: Option<String>,
    }
}

#[derive(Debug, sqlx::FromRow)]
struct Row {
    id: i64,
    ext_key: Option<String>,
    name: String,
    level: String,
    region_code: Option<String>,
    region_name: Option<String>,
    industry: Option<String>,
    industry_name: Option<String>,
    parent_name: Option<String>,
    status: OrgStatus,
}

/// One authority or bureau as its list shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MasterOrg {
    pub id: i64,
    /// Its code in the list (the key from the tenant folder, or `org-<id>`)
    pub code: String,
    pub name: String,
    /// province, city or county
    pub level: String,
    pub level_label: &'static str,
    pub region_code: Option<String>,
    pub region_name: Option<String>,
    pub industry: Option<String>,
    pub industry_name: Option<String>,
    /// The organisation above it (an authority's HR bureau, a bureau's parent bureau)
    pub parent_name: Option<String>,
    pub status: OrgStatus,
    pub status_label: &'static str,
    pub enabled: bool,
}

pub fn level_label(level: &str) -> &'static str {
    match level {
        "province" => "省级",
        "city" => "市级",
        "county" => "县级",
        _ => "其他",
    }
}

/// The statuses an organisation of these lists can have.
fn listed_status(status: OrgStatus) -> bool {
    matches!(status, OrgStatus::Active | OrgStatus::Disabled)
}

/// One page of an organisation list, with filters.
pub async fn list(state: &AppState, user: &CurrentUser, kind: OrgKind, query: &MasterQuery) -> Result<(Vec<MasterOrg>, i64), AppError> {
    user.authorize(state, "basic_data", "manage").await?;
    let mut filters = Filters::tenant("o.tenant_id", user.tenant_code());
    filters.and("o.kind = ?", kind.as_str());
    match crate::codes::filter::<OrgStatus>(query.status.as_deref(), "status", "状态")? {
        Some(status) if listed_status(status) => filters.and("o.status = ?", status.as_str()),
        Some(_) => return Err(crate::error::field_error("status", "状态须为 active（正常）或 disabled（已停用）")),
        None => filters.and_sql("o.status IN ('active', 'disabled')"),
    };
    if let Some(text) = query.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        filters.contains(&["o.name"], text);
    }
    let total = state.db.scalar(filters.count("FROM orgs o")).await?;
    let rows: Vec<Row> = state
        .db
        .all(filters.page(
            "SELECT o.id, o.ext_key, o.name, o.level, o.region_code, r.name AS region_name, o.industry, i.name AS industry_name, \
             p.name AS parent_name, o.status FROM orgs o \
             LEFT JOIN basic_data r ON r.tenant_id = o.tenant_id AND r.kind = 'region' AND r.code = o.region_code \
             LEFT JOIN basic_data i ON i.tenant_id = o.tenant_id AND i.kind = 'industry' AND i.code = o.industry \
             LEFT JOIN orgs p ON p.tenant_id = o.tenant_id AND p.id = o.parent_id",
            "o.region_code, o.name, o.id",
            query.page,
            query.per_page(),
        ))
        .await?;
    let items = rows
        .into_iter()
        .map(|row| MasterOrg {
            code: code_of(kind, row.id, row.ext_key.as_deref()),
            id: row.id,
            name: row.name,
            level_label: level_label(&row.level),
            level: row.level,
            region_code: row.region_code,
            region_name: row.region_name,
            industry: row.industry,
            industry_name: row.industry_name,
            parent_name: row.parent_name,
            status_label: row.status.label(),
            enabled: row.status == OrgStatus::Active,
            status: row.status,
        })
        .collect();
    Ok((items, total))
}

/// What an administrator sends to add or change an authority or bureau.
pub struct MasterInput<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub enabled: bool,
    /// An authority's region (its HR bureau's region code); a new bureau's parent bureau's region code
    pub region: Option<&'a str>,
    /// An authority's industry (basic data `industry`)
    pub industry: Option<&'a str>,
}

/// The organisation of a list by its code, or 404.
async fn find(state: &AppState, tenant: &str, kind: OrgKind, code: &str) -> Result<(i64, String, OrgStatus), AppError> {
    let row: Option<(i64, String, OrgStatus)> = match code.strip_prefix("org-").and_then(|id| id.parse::<i64>().ok()) {
        Some(id) => {
            state
                .db
                .opt(
                    q("SELECT id, name, status FROM orgs WHERE tenant_id = $1 AND kind = $2 AND id = $3 AND ext_key IS NULL")
                        .bind(tenant)
                        .bind(kind.as_str())
                        .bind(id),
                )
                .await?
        }
        None => {
            state
                .db
                .opt(
                    q("SELECT id, name, status FROM orgs WHERE tenant_id = $1 AND kind = $2 AND ext_key = $3")
                        .bind(tenant)
                        .bind(kind.as_str())
                        .bind(format!("{}{code}", key_prefix(kind))),
                )
                .await?
        }
    };
    row.filter(|(_, _, status)| listed_status(*status)).ok_or_else(AppError::not_found)
}

/// The HR bureau (or the province's department) of a region: id and level.
async fn bureau_of_region(state: &AppState, tenant: &str, region: &str) -> Result<Option<(i64, String)>, AppError> {
    Ok(state
        .db
        .opt(
            q("SELECT id, level FROM orgs WHERE tenant_id = $1 AND kind IN ('province', 'hr') AND region_code = $2 AND status = 'active' \
               ORDER BY id LIMIT 1")
            .bind(tenant)
            .bind(region),
        )
        .await?)
}

fn check_name(name: &str, errors: &mut FieldErrors) {
    let len = name.trim().chars().count();
    if len == 0 || len > 50 {
        errors.add("name", "名称应为 1 到 50 个字");
    }
}

/// Adds an authority or bureau (`existing` None) or renames / enables / disables / re-files one.
pub async fn save(
    state: &AppState,
    user: &CurrentUser,
    kind: OrgKind,
    existing: Option<&str>,
    input: &MasterInput<'_>,
) -> Result<(), AppError> {
    user.authorize(state, "basic_data", "manage").await?;
    let tenant = user.tenant_code();
    let found = match existing {
        Some(code) => Some(find(state, tenant, kind, code).await?),
        None => None,
    };
    let mut errors = FieldErrors::default();
    check_name(input.name, &mut errors);
    let name = input.name.trim();
    let same_name: Option<(i64,)> = state
        .db
        .opt(q("SELECT id FROM orgs WHERE tenant_id = $1 AND kind = $2 AND name = $3 LIMIT 1").bind(tenant).bind(kind.as_str()).bind(name))
        .await?;
    if same_name.is_some_and(|(id,)| found.as_ref().is_none_or(|(own, _, _)| *own != id)) {
        errors.add("name", "已有同名的机构");
    }
    let industry = input.industry.map(str::trim).filter(|i| !i.is_empty());
    if kind == OrgKind::Authority && (found.is_none() || industry.is_some()) {
        let known = match industry {
            Some(code) => {
                state
                    .db
                    .exists(
                        q("SELECT 1 FROM basic_data WHERE tenant_id = $1 AND kind = 'industry' AND code = $2 AND enabled = $3")
                            .bind(tenant)
                            .bind(code)
                            .bind(true),
                    )
                    .await?
            }
            None => false,
        };
        if !known {
            errors.add("industry", "请选择所属行业");
        }
    }
    let now = Utc::now();
    let Some((id, old_name, old_status)) = found else {
        // A new one: its code and where it sits.
        let code = input.code.trim();
        let region = input.region.map(str::trim).unwrap_or("");
        let placed = if region.is_empty() { None } else { bureau_of_region(state, tenant, region).await? };
        let (new, level) = match kind {
            OrgKind::Authority => {
                if code.is_empty()
                    || code.len() > 30
                    || code.starts_with("org-")
                    || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    errors.add("code", "代码只能包含字母、数字、连字符和下划线，最长 30 位");
                } else if state
                    .db
                    .exists(q("SELECT 1 FROM orgs WHERE tenant_id = $1 AND ext_key = $2").bind(tenant).bind(format!("authority:{code}")))
                    .await?
                {
                    errors.add("code", "该代码已存在");
                }
                if placed.is_none() {
                    errors.add("region", "请选择所在地区");
                }
                let level = placed.as_ref().map(|(_, level)| level.clone()).unwrap_or_default();
                (format!("authority:{code}"), level)
            }
            _ => {
                if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
                    errors.add("code", "请填写 6 位行政区划代码");
                } else if state
                    .db
                    .exists(q("SELECT 1 FROM basic_data WHERE tenant_id = $1 AND kind = 'region' AND code = $2").bind(tenant).bind(code))
                    .await?
                {
                    errors.add("code", "该行政区划代码已存在");
                }
                let level = match placed.as_ref().map(|(_, level)| level.as_str()) {
                    Some("province") => "city",
                    Some("city") => "county",
                    Some(_) => {
                        errors.add("region", "县级人社局下不能再设下级人社局");
                        ""
                    }
                    None => {
                        errors.add("region", "请选择上级人社局");
                        ""
                    }
                };
                (format!("hr:{code}"), level.to_owned())
            }
        };
        errors.finish()?;
        let parent = placed.map(|(id, _)| id);
        let mut tx = state.db.begin().await?;
        let region_code = if kind == OrgKind::Authority {
            region.to_owned()
        } else {
            // A new bureau is a new region of the tenant's region list too.
            let region_name = name.strip_suffix("人力资源和社会保障局").filter(|n| !n.is_empty()).unwrap_or(name);
            tx.run(
                q("INSERT INTO basic_data (tenant_id, kind, code, name, parent_code, sort, enabled) \
                   VALUES ($1, 'region', $2, $3, $4, (SELECT COALESCE(MAX(sort), 0) + 1 FROM basic_data WHERE tenant_id = $1 AND kind = 'region'), $5)")
                .bind(tenant)
                .bind(code)
                .bind(region_name)
                .bind(region)
                .bind(true),
            )
            .await?;
            code.to_owned()
        };
        let id = super::insert_org(
            &mut tx,
            tenant,
            NewOrg {
                ext_key: Some(new),
                kind: kind.as_str().to_owned(),
                name: name.to_owned(),
                level,
                region_code: Some(region_code),
                parent_id: parent,
                industry: industry.map(str::to_owned),
                status: if input.enabled { "active" } else { "disabled" }.into(),
                ..Default::default()
            },
            now,
        )
        .await?;
        audit::record_tx(
            &mut tx,
            tenant,
            Some(user.account.id),
            "basic_data.org.add",
            "org",
            Some(id),
            json!({"kind": kind.as_str(), "code": code, "name": name, "industry": industry}),
        )
        .await?;
        tx.commit().await?;
        return Ok(());
    };
    errors.finish()?;
    let status = if input.enabled { OrgStatus::Active } else { OrgStatus::Disabled };
    let mut tx = state.db.begin().await?;
    tx.run(
        q("UPDATE orgs SET name = $3, status = $4, industry = COALESCE($5, industry), updated_at = $6 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .bind(name)
            .bind(status.as_str())
            .bind(industry.filter(|_| kind == OrgKind::Authority).map(str::to_owned))
            .bind(now),
    )
    .await?;
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "basic_data.org.update",
        "org",
        Some(id),
        json!({"kind": kind.as_str(), "before": {"name": old_name, "status": old_status.as_str()}, "after": {"name": name, "status": status.as_str(), "industry": industry}}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
