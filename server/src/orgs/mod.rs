//! Organisations: one tree per tenant (provincial HR department → city → county HR bureaus, industry
//! authorities, employer units with departments, training institutions, online platforms). Data scope
//! is the materialised `path` ("/1/5/12/"): an admin sees the rows whose org path starts with theirs.

pub mod admins;
pub mod handlers;
pub mod registration;

pub use handlers::{api_routes, page_routes};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::db::{Db, Filters, Tx, q};
use crate::error::AppError;
use crate::paging::Search;

pub const KINDS: &[(&str, &str)] = &[
    ("province", "省人社厅"),
    ("hr", "人社局"),
    ("authority", "行业主管部门"),
    ("unit", "用人单位"),
    ("department", "内设部门"),
    ("institution", "施教机构"),
    ("platform", "网络培训机构"),
];

pub fn kind_label(kind: &str) -> &'static str {
    KINDS.iter().find(|(k, _)| *k == kind).map_or("机构", |(_, l)| l)
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

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Org {
    pub id: i64,
    pub kind: String,
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
    pub status: String,
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

#[derive(Debug, Serialize, sqlx::FromRow)]
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
        if !KINDS.iter().any(|(k, _)| *k == kind) {
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
