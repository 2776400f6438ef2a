//! Organisations: one tree per tenant (provincial HR department → city → county HR bureaus, industry
//! authorities, employer units with departments, training institutions, online platforms). Data scope
//! is the materialised `path` ("/1/5/12/"): an admin sees the rows whose org path starts with theirs.

pub mod admins;
pub mod api;
pub mod browse;
pub mod master;
pub mod pages;
pub mod registration;

use crate::audit;
use crate::auth::CurrentUser;
use crate::db::{Db, Filters, Tx, q};
use crate::error::{AppError, FieldErrors};
use crate::paging::Search;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

crate::codes::code_enum! {
    /// What an organisation is in the tree.
    pub enum OrgKind {
        Province = ("province", "省人社厅"),
        Hr = ("hr", "人社局"),
        Authority = ("authority", "行业主管部门"),
        Unit = ("unit", "用人单位"),
        Department = ("department", "内设部门"),
        Institution = ("institution", "施教机构"),
        Platform = ("platform", "网络培训机构"),
    }
}

crate::codes::code_enum! {
    /// Where an organisation's registration stands.
    pub enum OrgStatus {
        Active = ("active", "正常"),
        Pending = ("pending", "待审核"),
        Rejected = ("rejected", "未通过"),
        /// Set by the system administrator (authorities, HR bureaus): history kept, no new registrations.
        Disabled = ("disabled", "已停用"),
    }
}

/// The tenant's provincial HR department (the root of its tree).
pub async fn province_id(db: &Db, tenant: &str) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> =
        db.opt(q("SELECT id FROM orgs WHERE tenant_id = $1 AND kind = 'province' ORDER BY id LIMIT 1").bind(tenant)).await?;
    Ok(row.map(|(id,)| id))
}

/// What pages call a kind given as its code ("机构" for an unknown one).
pub fn kind_label(kind: &str) -> &'static str {
    OrgKind::parse(kind).map_or("机构", OrgKind::label)
}

#[derive(Debug, Clone, Default)]
pub struct NewOrg {
    pub ext_key: Option<String>,
    pub kind: String,
    pub name: String,
    pub credit_code: Option<String>,
    pub level: String,
    pub region_code: Option<String>,
    pub parent_id: Option<i64>,
    pub hr_bureau_id: Option<i64>,
    /// The industry authority supervising a unit or institution, beside its place in the regional tree.
    pub supervisor_id: Option<i64>,
    pub nature: Option<String>,
    pub affiliation: Option<String>,
    pub industry: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub address: Option<String>,
    pub licence_blob_id: Option<i64>,
    pub status: String,
}

/// An organisation: a unit, institution, authority, HR bureau, province or internal department.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Org {
    pub id: i64,
    pub kind: OrgKind,
    pub name: String,
    pub credit_code: Option<String>,
    pub parent_id: Option<i64>,
    pub path: String,
    pub supervisor_id: Option<i64>,
    pub supervisor_path: Option<String>,
    pub level: String,
    pub region_code: Option<String>,
    pub hr_bureau_id: Option<i64>,
    pub nature: Option<String>,
    pub affiliation: Option<String>,
    pub industry: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub address: Option<String>,
    pub licence_blob_id: Option<i64>,
    pub status: OrgStatus,
    pub created_at: DateTime<Utc>,
}

/// An organisation as the approval engine routes it (as an applicant's unit or a step's approver).
impl From<&Org> for crate::approvals::RouteOrg {
    fn from(org: &Org) -> Self {
        crate::approvals::RouteOrg {
            id: org.id,
            name: org.name.clone(),
            level: org.level.clone(),
            path: org.path.clone(),
            supervisor_id: org.supervisor_id,
            hr_bureau_id: org.hr_bureau_id,
        }
    }
}

pub const ORG_COLUMNS: &str = "id, kind, name, credit_code, parent_id, path, supervisor_id, supervisor_path, level, region_code, hr_bureau_id, nature, \
     affiliation, industry, contact_name, contact_phone, address, licence_blob_id, status, created_at";

/// Inserts an org and sets its paths (parent's path + own id; the supervisor's path + own id, or the
/// parent's supervisor path for a department) and HR bureau (itself for bureaus, otherwise the one given
/// or the parent's).
pub async fn insert_org(tx: &mut Tx, tenant: &str, org: NewOrg, now: DateTime<Utc>) -> Result<i64, sqlx::Error> {
    let id = tx
        .scalar(
            q("INSERT INTO orgs (tenant_id, ext_key, kind, name, credit_code, parent_id, path, level, region_code, nature, affiliation, \
               industry, contact_name, contact_phone, address, licence_blob_id, status, created_at, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, '', $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17) RETURNING id")
            .bind(tenant)
            .bind(org.ext_key)
            .bind(&org.kind)
            .bind(org.name)
            .bind(org.credit_code)
            .bind(org.parent_id)
            .bind(org.level)
            .bind(org.region_code)
            .bind(org.nature)
            .bind(org.affiliation)
            .bind(org.industry)
            .bind(org.contact_name)
            .bind(org.contact_phone)
            .bind(org.address)
            .bind(org.licence_blob_id)
            .bind(org.status)
            .bind(now),
        )
        .await?;
    place_tx(tx, tenant, id, &org.kind, org.parent_id, org.hr_bureau_id, org.supervisor_id).await?;
    Ok(id)
}

/// Writes an org's place in the tree (path, HR bureau, supervising authority) from its parent and
/// supervisor: for a new org, or a rejected registration submitted again under another parent. Nothing
/// may lie below the org yet.
pub async fn place_tx(
    tx: &mut Tx,
    tenant: &str,
    id: i64,
    kind: &str,
    parent_id: Option<i64>,
    hr_bureau_id: Option<i64>,
    supervisor_id: Option<i64>,
) -> Result<(), sqlx::Error> {
    let (parent_path, parent_bureau, parent_supervisor_path) = match parent_id {
        Some(parent) => {
            let row: (String, Option<i64>, Option<String>) = tx
                .one(q("SELECT path, hr_bureau_id, supervisor_path FROM orgs WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(parent))
                .await?;
            row
        }
        None => ("/".to_owned(), None, None),
    };
    let supervisor_path = match supervisor_id {
        Some(supervisor) => {
            let (path,): (String,) =
                tx.one(q("SELECT path FROM orgs WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(supervisor)).await?;
            Some(format!("{path}{id}/"))
        }
        None => parent_supervisor_path.map(|p| format!("{p}{id}/")),
    };
    let bureau = if matches!(kind, "province" | "hr") { Some(id) } else { hr_bureau_id.or(parent_bureau) };
    tx.run(
        q("UPDATE orgs SET path = $3, hr_bureau_id = $4, supervisor_id = $5, supervisor_path = $6 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .bind(format!("{parent_path}{id}/"))
            .bind(bureau)
            .bind(supervisor_id)
            .bind(supervisor_path),
    )
    .await?;
    Ok(())
}

pub async fn get(db: &Db, tenant: &str, id: i64) -> Result<Option<Org>, sqlx::Error> {
    db.opt(q(format!("SELECT {ORG_COLUMNS} FROM orgs WHERE tenant_id = $1 AND id = $2")).bind(tenant).bind(id)).await
}

/// The SQL condition "org `alias` lies in the scope bound as `$n`": in the regional tree or under the
/// supervising authority.
pub fn in_scope(alias: &str, n: usize) -> String {
    format!("({alias}.path LIKE ${n} OR {alias}.supervisor_path LIKE ${n})")
}

/// The org if it lies within `scope` (a `LIKE` pattern on paths); otherwise "not found", so that rows
/// outside one's scope are indistinguishable from rows that do not exist.
pub async fn get_in_scope(db: &Db, tenant: &str, scope: &str, id: i64) -> Result<Org, AppError> {
    db.opt(
        q(format!("SELECT {ORG_COLUMNS} FROM orgs o WHERE tenant_id = $1 AND id = $2 AND {}", in_scope("o", 3)))
            .bind(tenant)
            .bind(id)
            .bind(scope),
    )
    .await?
    .ok_or_else(AppError::not_found)
}

/// The HR bureau of a region code (the province's department for the province code).
pub async fn bureau_of_region(db: &Db, tenant: &str, region: &str) -> Result<Option<Org>, sqlx::Error> {
    db.opt(
        q(format!("SELECT {ORG_COLUMNS} FROM orgs WHERE tenant_id = $1 AND kind IN ('province', 'hr') AND region_code = $2 AND ext_key IS NOT NULL"))
            .bind(tenant)
            .bind(region),
    )
    .await
}

/// An active organisation as pickers show it: names only.
#[derive(Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct OrgSummary {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub level: String,
    pub region_code: Option<String>,
    pub region_name: Option<String>,
}

crate::paging::list_query! {
    per_page(20, 100);
    #[derive(Debug, Default, serde::Deserialize)]
    pub struct SearchQuery {
        pub kind: Option<String>,
        pub q: Option<String>,
        pub region: Option<String>,
        pub parent: Option<i64>,
    }
}

/// Public search of active organisations for pickers (units to register under, authorities, bureaus).
/// Returns names only: never people, never admin details.
pub async fn search(db: &Db, tenant: &str, query: &SearchQuery) -> Result<(Vec<OrgSummary>, i64), AppError> {
    let mut filters = Filters::tenant("o.tenant_id", tenant);
    filters.and_sql("o.status = 'active'");
    if let Some(kind) = query.kind.as_deref().filter(|k| !k.is_empty()) {
        if OrgKind::parse(kind).is_none() {
            return Err(AppError::bad_request("bad_kind", "机构类型无效"));
        }
        filters.and("o.kind = ?", kind);
    }
    if let Some(text) = query.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        filters.contains(&["o.name"], text);
    }
    if let Some(region) = query.region.as_deref().filter(|r| !r.is_empty()) {
        filters.starts_with("o.region_code", region.trim_end_matches("00"));
    }
    if let Some(parent) = query.parent {
        filters.and("o.parent_id = ?", parent);
    }
    let total = db.scalar(filters.count("FROM orgs o")).await?;
    let items = db
        .all(filters.page(
            "SELECT o.id, o.kind, o.name, o.level, o.region_code, r.name AS region_name FROM orgs o \
             LEFT JOIN basic_data r ON r.tenant_id = o.tenant_id AND r.kind = 'region' AND r.code = o.region_code",
            "o.region_code, o.name, o.id",
            query.page,
            query.per_page(),
        ))
        .await?;
    Ok((items, total))
}

fn scope(user: &CurrentUser) -> Result<String, AppError> {
    user.scope_pattern().ok_or_else(AppError::forbidden)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewDepartment {
    pub name: String,
}

/// Adds an internal department (内设部门) to an org in the caller's subtree.
pub async fn add_department(state: &AppState, user: &CurrentUser, org_id: i64, input: &NewDepartment) -> Result<i64, AppError> {
    user.authorize(state, "orgs", "manage").await?;
    let tenant = user.tenant_code();
    let parent: Org = get_in_scope(&state.db, tenant, &scope(user)?, org_id).await?;
    if !matches!(parent.kind, OrgKind::Unit | OrgKind::Authority | OrgKind::Hr | OrgKind::Province | OrgKind::Institution) {
        return Err(AppError::bad_request("bad_parent", "内设部门只能添加在单位或部门机构下"));
    }
    let mut errors = FieldErrors::default();
    crate::fields::required(&mut errors, "name", &input.name, "部门名称", 50);
    if !errors.is_empty() {
        return Err(errors.finish().unwrap_err());
    }
    let name = input.name.trim();
    if sibling_named(state, tenant, org_id, name, None).await? {
        errors.add("name", "该部门已存在");
        return Err(errors.finish().unwrap_err());
    }
    let mut tx = state.db.begin().await?;
    let id = insert_org(
        &mut tx,
        tenant,
        NewOrg {
            kind: "department".into(),
            name: name.to_owned(),
            level: parent.level.clone(),
            region_code: parent.region_code.clone(),
            parent_id: Some(parent.id),
            status: "active".into(),
            ..Default::default()
        },
        Utc::now(),
    )
    .await?;
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "org.department.add",
        "org",
        Some(id),
        json!({"parent": parent.id, "name": name}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Whether the org `parent` has a department called `name` (other than `except`).
async fn sibling_named(state: &AppState, tenant: &str, parent: i64, name: &str, except: Option<i64>) -> Result<bool, AppError> {
    Ok(state
        .db
        .exists(
            q("SELECT 1 FROM orgs WHERE tenant_id = $1 AND parent_id = $2 AND kind = 'department' AND name = $3 AND id <> $4")
                .bind(tenant)
                .bind(parent)
                .bind(name.to_owned())
                .bind(except.unwrap_or(0)),
        )
        .await?)
}

/// An internal department in the caller's subtree (anything else: 404).
async fn managed_department(state: &AppState, user: &CurrentUser, id: i64) -> Result<Org, AppError> {
    user.authorize(state, "orgs", "manage").await?;
    let org = get_in_scope(&state.db, user.tenant_code(), &scope(user)?, id).await?;
    if org.kind != OrgKind::Department {
        return Err(AppError::not_found());
    }
    Ok(org)
}

/// Renames an internal department; the name must stay unique among its siblings.
pub async fn rename_department(state: &AppState, user: &CurrentUser, id: i64, input: &NewDepartment) -> Result<(), AppError> {
    let department = managed_department(state, user, id).await?;
    let tenant = user.tenant_code();
    let mut errors = FieldErrors::default();
    crate::fields::required(&mut errors, "name", &input.name, "部门名称", 50);
    let name = input.name.trim();
    if errors.is_empty() && sibling_named(state, tenant, department.parent_id.unwrap_or_default(), name, Some(id)).await? {
        errors.add("name", "该部门已存在");
    }
    errors.finish()?;
    let mut tx = state.db.begin().await?;
    tx.run(
        q("UPDATE orgs SET name = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(id).bind(name).bind(Utc::now()),
    )
    .await?;
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "org.department.rename",
        "org",
        Some(id),
        json!({"from": department.name, "to": name}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes an internal department nobody belongs to (409 `department_in_use` while staff, admins or
/// sub-departments do); returns its parent.
pub async fn delete_department(state: &AppState, user: &CurrentUser, id: i64) -> Result<Option<i64>, AppError> {
    let department = managed_department(state, user, id).await?;
    let tenant = user.tenant_code();
    let staff = state.db.scalar(q("SELECT COUNT(*) FROM people WHERE tenant_id = $1 AND department_id = $2").bind(tenant).bind(id)).await?;
    let others = state
        .db
        .scalar(
            q("SELECT (SELECT COUNT(*) FROM accounts WHERE tenant_id = $1 AND org_id = $2) + (SELECT COUNT(*) FROM orgs WHERE tenant_id = $1 AND parent_id = $2)")
                .bind(tenant)
                .bind(id),
        )
        .await?;
    if staff > 0 {
        return Err(AppError::conflict(
            "department_in_use",
            format!("{} 还有 {staff} 名人员，请先调整他们的部门后再删除", department.name),
        ));
    }
    if others > 0 {
        return Err(AppError::conflict("department_in_use", format!("{} 下还有账号或下级部门，不能删除", department.name)));
    }
    let mut tx = state.db.begin().await?;
    tx.run(q("DELETE FROM orgs WHERE tenant_id = $1 AND id = $2 AND kind = 'department'").bind(tenant).bind(id)).await?;
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "org.department.delete",
        "org",
        Some(id),
        json!({"name": department.name, "parent": department.parent_id}),
    )
    .await?;
    tx.commit().await?;
    Ok(department.parent_id)
}
