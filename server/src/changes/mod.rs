//! Change audits (变更审核管理, seed 004 §5.1.4), two request kinds over one table:
//! - a person's professional title — title, title level, title series, title date — changes only when the
//!   route the tenant's rules plugin names for a `person-change` (against the person's unit: Hubei its
//!   supervising department, Hunan and Henan the unit's admin) approves it; approval has this year's
//!   status judged again when the title level changed (the yearly requirement may depend on it);
//! - an organisation's information — name, address, contact, nature, industry, affiliation — is edited
//!   by its admin as an `org-change`, routed like its registration (Hubei the supervising department,
//!   Hunan and Henan the HR bureau);
//! - an organisation's supervising department changes (更换上级部门, seed 004 §5.1.1.1) as a
//!   `parent-change`: the plugin's route is asked for the organisation under its old parent and under
//!   the new one, so both parents approve, the old one first.
//!
//! Until approved the pages show the pending change; the reviewer sees old → new for each field.

pub mod api;
pub mod pages;

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::approvals::{self, Approval, Decided, NewApproval, Notice, RequestKind, RouteOrg, Trail};
use crate::auth::CurrentUser;
use crate::db::{Db, Tx, q};
use crate::error::{AppError, FieldErrors, ResultExt};
use crate::orgs::Org;
use crate::orgs::{OrgKind, OrgStatus};
use crate::paging::Paging;
use crate::rules::model::RequestKind as RouteKind;
use crate::state::AppState;
use crate::storage::upload::Upload;

/// The casbin objects: `apply` (staff for their title, admins for their organisation) and `review`.
pub(crate) const OBJECT: &str = "person_changes";
pub(crate) const ORG_OBJECT: &str = "org_changes";
crate::codes::code_enum! {
    /// Where a change request stands.
    pub enum ChangeStatus {
        Pending = ("pending", "待审核"),
        Approved = ("approved", "已生效"),
        Rejected = ("rejected", "未通过"),
        Withdrawn = ("withdrawn", "已撤回"),
    }
}

/// How a field's new value is checked.
#[derive(Debug, Clone, Copy)]
enum Check {
    /// Free text of at most this many characters.
    Text(usize),
    /// A code of the tenant's basic data of this kind.
    Code(&'static str),
    /// A past date.
    Date,
    /// An active industry authority of the tenant, by id.
    Authority,
    /// A scanned document (the licence), by blob id: uploaded as a file with the request, never named.
    Scan,
}

const LICENCE_LABEL: &str = "证照扫描件";

/// A changeable field: its key (also its column), its Chinese name and its check.
type FieldSpec = (&'static str, &'static str, Check);

/// What a change request changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// A person's title (the person's own request).
    Person,
    /// An organisation's information (its admin's request).
    Org,
    /// An organisation's supervising department (its admin's request).
    Parent,
}

impl Subject {
    fn code(self) -> &'static str {
        match self {
            Subject::Person => "person",
            Subject::Org => "org",
            Subject::Parent => "parent",
        }
    }

    fn from_code(code: &str) -> Subject {
        match code {
            "org" => Subject::Org,
            "parent" => Subject::Parent,
            _ => Subject::Person,
        }
    }

    /// The fields that may be asked for, in display order.
    fn fields(self) -> &'static [FieldSpec] {
        match self {
            Subject::Person => &[
                ("title", "职称", Check::Text(50)),
                ("title_level", "职称等级", Check::Code("title_level")),
                ("title_series", "职称系列", Check::Code("title_series")),
                ("title_date", "职称获取时间", Check::Date),
            ],
            Subject::Org => &[
                ("name", "单位名称", Check::Text(100)),
                ("address", "单位地址", Check::Text(200)),
                ("contact_name", "联系人", Check::Text(50)),
                ("contact_phone", "联系电话", Check::Text(30)),
                ("nature", "单位性质", Check::Code("unit_nature")),
                ("industry", "所属行业", Check::Code("industry")),
                ("affiliation", "隶属关系", Check::Code("affiliation")),
                ("licence_blob_id", LICENCE_LABEL, Check::Scan),
            ],
            Subject::Parent => &[("supervisor_id", "上级主管部门", Check::Authority)],
        }
    }

    /// The table the approved values are written to.
    fn table(self) -> &'static str {
        match self {
            Subject::Person => "people",
            Subject::Org | Subject::Parent => "orgs",
        }
    }

    /// The approval rows' `subject_type` (also the audit actions' prefix).
    fn subject_type(self) -> &'static str {
        match self {
            Subject::Person => "person_change",
            Subject::Org => "org_change",
            Subject::Parent => "parent_change",
        }
    }

    /// What the queue's summary calls such a change.
    fn noun(self) -> &'static str {
        match self {
            Subject::Person => "职称变更",
            Subject::Org => "单位信息变更",
            Subject::Parent => "更换上级部门",
        }
    }
}

/// A change to ask for (`POST /api/v1/me/changes`, `POST /api/v1/orgs/{id}/changes`): the new values of
/// some of the subject's fields.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewChange {
    /// A person's title: any of `title`, `title_level`, `title_series` (codes from the tenant's basic
    /// data), `title_date` (YYYY-MM-DD). An organisation: any of `name`, `address`, `contact_name`,
    /// `contact_phone`, `nature`, `industry`, `affiliation` (codes from basic data); or alone
    /// `supervisor_id` (an industry authority's id as text) to change its supervising department
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
}

/// One field's change as asked.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldChange {
    pub field: String,
    pub label: String,
    pub old: Option<String>,
    pub new: String,
    /// The values as people read them (a code's name from basic data)
    pub old_text: String,
    pub new_text: String,
}

/// A change request as its pages and the reviewer see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChangeRequest {
    pub id: i64,
    /// person or org
    pub subject: String,
    /// The person of a title change
    pub person_id: Option<i64>,
    pub person_name: Option<String>,
    /// The organisation changed, or the person's unit
    pub org_id: i64,
    pub org_name: String,
    pub changes: Vec<FieldChange>,
    pub status: ChangeStatus,
    pub status_label: &'static str,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    subject: String,
    person_id: Option<i64>,
    person_name: Option<String>,
    org_id: i64,
    org_name: String,
    changes: String,
    status: ChangeStatus,
    created_at: DateTime<Utc>,
    decided_at: Option<DateTime<Utc>>,
}

const SELECT: &str = "SELECT c.id, c.subject, c.person_id, p.name AS person_name, c.org_id, o.name AS org_name, c.changes, c.status, \
     c.created_at, c.decided_at FROM change_requests c LEFT JOIN people p ON p.tenant_id = c.tenant_id AND p.id = c.person_id \
     JOIN orgs o ON o.tenant_id = c.tenant_id AND o.id = c.org_id";

impl From<Row> for ChangeRequest {
    fn from(row: Row) -> Self {
        let changes = serde_json::from_str(&row.changes).unwrap_or_default();
        ChangeRequest {
            id: row.id,
            subject: row.subject,
            person_id: row.person_id,
            person_name: row.person_name,
            org_id: row.org_id,
            org_name: row.org_name,
            changes,
            status: row.status,
            status_label: row.status.label(),
            created_at: row.created_at,
            decided_at: row.decided_at,
        }
    }
}

/// A code's name in the tenant's basic data of `kind`, if the code is an enabled one.
async fn code_name(db: &Db, tenant: &str, kind: &str, code: &str) -> Result<Option<String>, AppError> {
    Ok(crate::tenancy::basic_data(db, tenant, kind).await?.into_iter().find(|item| item.code == code).map(|item| item.name))
}

/// The name of an active industry authority of the tenant, by its id as text.
async fn authority_name(db: &Db, tenant: &str, id: &str) -> Result<Option<String>, AppError> {
    let Ok(id) = id.parse::<i64>() else { return Ok(None) };
    Ok(crate::orgs::get(db, tenant, id).await?.filter(|o| o.kind == OrgKind::Authority && o.status == OrgStatus::Active).map(|o| o.name))
}

/// The text a field's value reads as: the name of a coded value or an organisation, the value itself
/// otherwise.
async fn value_text(db: &Db, tenant: &str, check: Check, value: Option<&str>) -> Result<String, AppError> {
    let Some(value) = value.filter(|v| !v.is_empty()) else { return Ok("—".into()) };
    Ok(match check {
        Check::Code(kind) => code_name(db, tenant, kind, value).await?.unwrap_or_else(|| value.to_owned()),
        Check::Authority => authority_name(db, tenant, value).await?.unwrap_or_else(|| value.to_owned()),
        Check::Scan => "已上传".to_owned(),
        _ => value.to_owned(),
    })
}

/// Checks the asked fields against the current values (`old`, by field): unknown fields, bad values and
/// values that change nothing are field errors. Returns the changes in the subject's field order.
async fn check(
    db: &Db,
    tenant: &str,
    subject: Subject,
    old: &BTreeMap<&str, Option<String>>,
    asked: &Map<String, Value>,
    uploading: bool,
) -> Result<Vec<FieldChange>, AppError> {
    let fields = subject.fields();
    let mut errors = FieldErrors::default();
    for key in asked.keys() {
        if !fields.iter().any(|(field, _, _)| field == key) {
            let allowed: Vec<&str> = fields.iter().map(|(_, label, _)| *label).collect();
            errors.add(key, format!("不能申请变更此项（可变更：{}）", allowed.join("、")));
        }
    }
    let mut changes = Vec::new();
    for &(field, label, check) in fields {
        let Some(value) = asked.get(field) else { continue };
        if let Check::Scan = check {
            errors.add(field, format!("{label}请以文件上传（licence）"));
            continue;
        }
        let Some(new) = value.as_str().map(str::trim).filter(|v| !v.is_empty()) else {
            errors.add(field, format!("请填写新的{label}"));
            continue;
        };
        let problem = match check {
            Check::Text(max) if new.chars().count() > max => Some(format!("{label}不能超过 {max} 个字")),
            // Text a spreadsheet would run as a formula when an admin opens an export.
            Check::Text(_) if new.starts_with(['=', '+', '-', '@']) => Some(format!("{label}不能以 =、+、-、@ 开头")),
            Check::Text(_) => None,
            Check::Code(kind) => code_name(db, tenant, kind, new).await?.is_none().then(|| format!("{label}无效，请从列表中选择")),
            Check::Date => (!NaiveDate::parse_from_str(new, "%Y-%m-%d").is_ok_and(|d| d <= Utc::now().date_naive() && d.year() >= 1950))
                .then(|| format!("{label}无效，请按 年-月-日 填写不晚于今天的日期")),
            Check::Authority => {
                authority_name(db, tenant, new).await?.is_none().then(|| format!("{label}无效，请从本省的行业主管部门中选择"))
            }
            Check::Scan => None,
        };
        if let Some(problem) = problem {
            errors.add(field, problem);
            continue;
        }
        let old = old.get(field).cloned().flatten();
        if old.as_deref() == Some(new) {
            errors.add(field, format!("{label}与当前信息相同"));
            continue;
        }
        changes.push(FieldChange {
            field: field.to_owned(),
            label: label.to_owned(),
            old_text: value_text(db, tenant, check, old.as_deref()).await?,
            new_text: value_text(db, tenant, check, Some(new)).await?,
            old,
            new: new.to_owned(),
        });
    }
    if asked.is_empty() && !uploading {
        errors.add("fields", "请至少填写一项要变更的信息");
    }
    errors.finish()?;
    Ok(changes)
}

/// One change request to file: whose, on which organisation's route.
struct Filing<'a> {
    subject: Subject,
    person_id: Option<i64>,
    /// The organisation changed, or the person's unit: the route is resolved against it.
    org: &'a Org,
    /// Who is asking (the person's or the organisation's name), for the queue's summary.
    who: &'a str,
    old: BTreeMap<&'static str, Option<String>>,
}

/// Checks and files a change request and opens its route; a route the plugin leaves empty applies it at
/// once. Returns the id and the status.
async fn file_request(
    state: &AppState,
    user: &CurrentUser,
    filing: Filing<'_>,
    asked: &Map<String, Value>,
    scan: Option<Upload>,
) -> Result<(i64, ChangeStatus), AppError> {
    let tenant = user.tenant_code();
    let subject = filing.subject;
    let mut changes = check(&state.db, tenant, subject, &filing.old, asked, scan.is_some()).await?;
    let year = u16::try_from(crate::hours::this_year()).unwrap_or(2026);
    let steps = match subject {
        Subject::Person => {
            approvals::route_for(state, tenant, &RouteOrg::from(filing.org), year, RouteKind::PersonChange, None, None).await?
        }
        Subject::Org => approvals::route_for(state, tenant, &RouteOrg::from(filing.org), year, RouteKind::OrgChange, None, None).await?,
        Subject::Parent => {
            // Both parents decide: the route as under the old parent, then as under the new one (a step
            // the two share is taken once).
            let new_parent = changes.first().and_then(|c| c.new.parse::<i64>().ok());
            let old = RouteOrg::from(filing.org);
            let new = RouteOrg { supervisor_id: new_parent, ..old.clone() };
            let mut steps = approvals::route_for(state, tenant, &old, year, RouteKind::ParentChange, None, None).await?;
            for step in approvals::route_for(state, tenant, &new, year, RouteKind::ParentChange, None, None).await? {
                if !steps.iter().any(|(_, org)| org.id == step.1.id) {
                    steps.push(step);
                }
            }
            steps
        }
    };
    let mut tx = state.db.begin().await?;
    if let Some(scan) = scan {
        // Stored with the request: the reviewer opens it before deciding; approval puts it in force.
        let blob = crate::storage::upload::store_upload(
            state.blobs.as_ref(),
            &mut tx,
            tenant,
            &scan.filename,
            scan.bytes,
            crate::storage::DOCUMENT_TYPES,
            state.config.upload_limit_mb,
        )
        .await?;
        let old = filing.old.get("licence_blob_id").cloned().flatten();
        changes.push(FieldChange {
            field: "licence_blob_id".to_owned(),
            label: LICENCE_LABEL.to_owned(),
            old_text: if old.is_some() { "原扫描件".to_owned() } else { "—".to_owned() },
            new_text: scan.filename,
            old,
            new: blob.to_string(),
        });
    }
    let id = tx
        .scalar(
            q("INSERT INTO change_requests (tenant_id, subject, person_id, org_id, changes, status, created_by, created_at) \
               VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7) RETURNING id")
            .bind(tenant)
            .bind(subject.code())
            .bind(filing.person_id)
            .bind(filing.org.id)
            .bind(serde_json::to_string(&changes).map_err(AppError::internal)?)
            .bind(user.account.id)
            .bind(Utc::now()),
        )
        .await
        .on_duplicate(|| AppError::conflict("change_pending", "已有待审核的变更申请，请等待审核或撤回后再提交"))?;
    let subject_type = subject.subject_type();
    crate::audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        &format!("{subject_type}.filed"),
        subject_type,
        Some(id),
        json!({"route": approvals::route_json(&steps)}),
    )
    .await?;
    let status = if steps.is_empty() {
        apply_tx(&mut tx, tenant, id, Some(user.account.id)).await?;
        ChangeStatus::Approved
    } else {
        let labels: Vec<&str> = changes.iter().map(|c| c.label.as_str()).collect();
        let template = NewApproval {
            subject_type,
            subject_id: id,
            summary: format!("{} 的{}（{}）", filing.who, subject.noun(), labels.join("、")),
            applicant_account_id: Some(user.account.id),
            declaring_org_id: Some(filing.org.id),
            ..NewApproval::default()
        };
        match subject {
            Subject::Person => approvals::open_route_tx::<PersonChanges>(&mut tx, &state.config, tenant, &steps, template).await?,
            Subject::Org => approvals::open_route_tx::<OrgChanges>(&mut tx, &state.config, tenant, &steps, template).await?,
            Subject::Parent => approvals::open_route_tx::<ParentChanges>(&mut tx, &state.config, tenant, &steps, template).await?,
        }
        ChangeStatus::Pending
    };
    tx.commit().await?;
    Ok((id, status))
}

/// A person's current values of the title fields.
pub fn person_values(person: &crate::people::Profile) -> BTreeMap<&'static str, Option<String>> {
    BTreeMap::from([
        ("title", person.title.clone()),
        ("title_level", Some(person.title_level.clone())),
        ("title_series", person.title_series.clone()),
        ("title_date", person.title_date.map(|d| d.to_string())),
    ])
}

/// An organisation's current values of the changeable fields.
pub fn org_values(org: &Org) -> BTreeMap<&'static str, Option<String>> {
    BTreeMap::from([
        ("name", Some(org.name.clone())),
        ("address", org.address.clone()),
        ("contact_name", org.contact_name.clone()),
        ("contact_phone", org.contact_phone.clone()),
        ("nature", org.nature.clone()),
        ("industry", org.industry.clone()),
        ("affiliation", org.affiliation.clone()),
        ("licence_blob_id", org.licence_blob_id.map(|id| id.to_string())),
    ])
}

/// The subject's fields as a change form shows them: key, label, input kind (`text`, `code` with its
/// options, `date`) and the current value as people read it.
pub async fn form_fields(db: &Db, tenant: &str, subject: Subject, values: &BTreeMap<&str, Option<String>>) -> Result<Vec<Value>, AppError> {
    let mut fields = Vec::new();
    for &(key, label, check) in subject.fields() {
        let current = values.get(key).cloned().flatten();
        let (kind, options) = match check {
            Check::Text(_) => ("text", Vec::new()),
            Check::Code(list) => ("code", crate::tenancy::basic_data(db, tenant, list).await?),
            Check::Date => ("date", Vec::new()),
            // Chosen on the page's own form (`authorities`), not among the information fields.
            Check::Authority => ("authority", Vec::new()),
            Check::Scan => ("file", Vec::new()),
        };
        fields.push(json!({"key": key, "label": label, "kind": kind, "options": options,
                           "current_text": value_text(db, tenant, check, current.as_deref()).await?}));
    }
    Ok(fields)
}

/// The tenant's active industry authorities (id and name), for choosing a new supervising department.
pub async fn authorities(db: &Db, tenant: &str) -> Result<Vec<Value>, AppError> {
    let rows: Vec<(i64, String)> = db
        .all(
            q("SELECT id, name FROM orgs WHERE tenant_id = $1 AND kind = 'authority' AND status = 'active' ORDER BY name, id").bind(tenant),
        )
        .await?;
    Ok(rows.into_iter().map(|(id, name)| json!({"id": id, "name": name})).collect())
}

/// Files a change of the caller's own title.
pub async fn file(state: &AppState, user: &CurrentUser, input: &NewChange) -> Result<(i64, ChangeStatus), AppError> {
    user.authorize(state, OBJECT, "apply").await?;
    let tenant = user.tenant_code();
    let person_id =
        user.account.person_id.ok_or_else(|| AppError::new(axum::http::StatusCode::FORBIDDEN, "no_profile", "管理员账号没有个人档案"))?;
    let current = crate::people::profile(&state.db, tenant, person_id).await?.ok_or_else(AppError::not_found)?;
    let unit = crate::orgs::get(&state.db, tenant, current.unit_id).await?.ok_or_else(AppError::not_found)?;
    let filing =
        Filing { subject: Subject::Person, person_id: Some(person_id), org: &unit, who: &current.name, old: person_values(&current) };
    file_request(state, user, filing, &input.fields, None).await
}

/// The caller's own organisation, which its admins may ask to change (any other id: 404).
async fn own_org(state: &AppState, user: &CurrentUser, org_id: i64) -> Result<Org, AppError> {
    user.authorize(state, ORG_OBJECT, "apply").await?;
    if !user.is_admin() || user.account.org_id != Some(org_id) {
        return Err(AppError::not_found());
    }
    crate::orgs::get(&state.db, user.tenant_code(), org_id).await?.ok_or_else(AppError::not_found)
}

/// Files a change of the information of the caller's own organisation, or (when `supervisor_id` is
/// asked, alone) of its supervising department.
/// A new licence scan comes as a file (`scan`) with the other fields.
pub async fn file_org(
    state: &AppState,
    user: &CurrentUser,
    org_id: i64,
    input: &NewChange,
    scan: Option<Upload>,
) -> Result<(i64, ChangeStatus), AppError> {
    let org = own_org(state, user, org_id).await?;
    let filing = if input.fields.contains_key("supervisor_id") {
        if input.fields.len() > 1 || scan.is_some() {
            return Err(crate::error::field_error("supervisor_id", "更换上级部门须单独申请，不能与其他信息一起变更"));
        }
        if org.kind != OrgKind::Unit && org.kind != OrgKind::Institution {
            return Err(crate::error::field_error("supervisor_id", "只有用人单位和施教机构可以更换上级主管部门"));
        }
        let old = BTreeMap::from([("supervisor_id", org.supervisor_id.map(|id| id.to_string()))]);
        Filing { subject: Subject::Parent, person_id: None, org: &org, who: &org.name, old }
    } else {
        Filing { subject: Subject::Org, person_id: None, org: &org, who: &org.name, old: org_values(&org) }
    };
    file_request(state, user, filing, &input.fields, scan).await
}

/// Writes an approved change's fields to the person or the organisation, and has this year judged again
/// when a person's title level changed; 409 when the change is no longer pending.
async fn apply_tx(tx: &mut Tx, tenant: &str, id: i64, actor: Option<i64>) -> Result<(), AppError> {
    let row: Option<(String, Option<i64>, i64, String)> = tx
        .opt(
            q("SELECT subject, person_id, org_id, changes FROM change_requests WHERE tenant_id = $1 AND id = $2 AND status = 'pending'")
                .bind(tenant)
                .bind(id),
        )
        .await?;
    let Some((subject, person_id, org_id, changes)) = row else {
        return Err(AppError::conflict("already_decided", "该变更申请已被处理"));
    };
    let subject = Subject::from_code(&subject);
    let target = match subject {
        Subject::Person => person_id.ok_or_else(|| AppError::internal("a person change without its person"))?,
        Subject::Org | Subject::Parent => org_id,
    };
    set_status_tx(tx, tenant, id, ChangeStatus::Approved).await?;
    let changes: Vec<FieldChange> = serde_json::from_str(&changes).map_err(AppError::internal)?;
    for change in &changes {
        // The column comes from the subject's field list (checked when filed), never from the request.
        let Some(&(column, _, check)) = subject.fields().iter().find(|(field, _, _)| *field == change.field) else { continue };
        let sql = format!("UPDATE {} SET {column} = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2", subject.table());
        let query = q(sql).bind(tenant).bind(target);
        let query = match check {
            Check::Date => query.bind(NaiveDate::parse_from_str(&change.new, "%Y-%m-%d").map_err(AppError::internal)?),
            Check::Authority | Check::Scan => query.bind(change.new.parse::<i64>().map_err(AppError::internal)?),
            _ => query.bind(change.new.clone()),
        };
        tx.run(query.bind(Utc::now())).await?;
        if let Check::Authority = check {
            resupervise_tx(tx, tenant, target).await?;
        }
    }
    let (action, audited) = match subject {
        Subject::Person => ("profile.title_changed", "person"),
        Subject::Org => ("org.changed", "org"),
        Subject::Parent => ("org.parent_changed", "org"),
    };
    if subject == Subject::Person && changes.iter().any(|c| c.field == "title_level") {
        crate::hours::status::mark_tx(tx, tenant, target, crate::hours::this_year()).await?;
    }
    crate::audit::record_tx(tx, tenant, actor, action, audited, Some(target), json!({"change_id": id})).await?;
    Ok(())
}

/// After an organisation's supervisor changed: its supervision path and those of the organisations below
/// it in the regional tree (its departments) follow the new supervisor, so scopes see it under the new
/// parent and no longer under the old.
async fn resupervise_tx(tx: &mut Tx, tenant: &str, org_id: i64) -> Result<(), AppError> {
    let (path, supervisor_path): (String, String) = tx
        .one(
            q("SELECT o.path, s.path FROM orgs o JOIN orgs s ON s.tenant_id = o.tenant_id AND s.id = o.supervisor_id WHERE o.tenant_id = $1 AND o.id = $2")
                .bind(tenant)
                .bind(org_id),
        )
        .await?;
    // `path` is the parent's path plus `<id>/`; below the org every path continues it.
    let parent_path = path.strip_suffix(&format!("{org_id}/")).unwrap_or(&path).to_owned();
    tx.run(
        q("UPDATE orgs SET supervisor_path = $3 || SUBSTR(path, CAST($4 AS INTEGER)) WHERE tenant_id = $1 AND (id = $2 OR path LIKE $5)")
            .bind(tenant)
            .bind(org_id)
            .bind(supervisor_path)
            .bind(i64::try_from(parent_path.len() + 1).map_err(AppError::internal)?)
            .bind(format!("{path}_%")),
    )
    .await?;
    Ok(())
}

async fn set_status_tx(tx: &mut Tx, tenant: &str, id: i64, status: ChangeStatus) -> Result<(), AppError> {
    approvals::settle_subject_tx(tx, "change_requests", tenant, id, status.as_str()).await
}

/// One page of the change requests of a person, or of an organisation (its information and its parent),
/// newest first.
async fn page_of(db: &Db, tenant: &str, subject: Subject, id: i64, paging: Paging) -> Result<(Vec<ChangeRequest>, i64), AppError> {
    let condition = match subject {
        Subject::Person => "c.subject = 'person' AND c.person_id = $2",
        Subject::Org | Subject::Parent => "c.subject IN ('org', 'parent') AND c.org_id = $2",
    };
    let total = db
        .scalar(q(format!("SELECT COUNT(*) FROM change_requests c WHERE c.tenant_id = $1 AND {condition}")).bind(tenant).bind(id))
        .await?;
    let rows: Vec<Row> = db
        .all(
            q(format!("{SELECT} WHERE c.tenant_id = $1 AND {condition} ORDER BY c.created_at DESC, c.id DESC LIMIT $3 OFFSET $4"))
                .bind(tenant)
                .bind(id)
                .bind(paging.per_page)
                .bind(paging.offset()),
        )
        .await?;
    Ok((rows.into_iter().map(Into::into).collect(), total))
}

/// The caller's own title change requests, newest first.
pub async fn mine(state: &AppState, user: &CurrentUser, paging: Paging) -> Result<(Vec<ChangeRequest>, i64), AppError> {
    user.authorize(state, OBJECT, "apply").await?;
    let Some(person_id) = user.account.person_id else { return Ok((Vec::new(), 0)) };
    page_of(&state.db, user.tenant_code(), Subject::Person, person_id, paging).await
}

/// The caller's own organisation and its change requests, newest first.
pub async fn of_org(state: &AppState, user: &CurrentUser, org_id: i64, paging: Paging) -> Result<(Org, Vec<ChangeRequest>, i64), AppError> {
    let org = own_org(state, user, org_id).await?;
    let (items, total) = page_of(&state.db, user.tenant_code(), Subject::Org, org_id, paging).await?;
    Ok((org, items, total))
}

/// The licence scan uploaded with an organisation's change: for the organisation's own admins and for
/// reviewers of organisation changes whose scope holds it; 404 for anyone else or a change without one.
pub async fn scan(state: &AppState, user: &CurrentUser, id: i64) -> Result<axum::response::Response, AppError> {
    let tenant = user.tenant_code();
    let change = load(&state.db, tenant, id).await?.ok_or_else(AppError::not_found)?;
    let own = user.is_admin() && user.account.org_id == Some(change.org_id) && change.subject != "person";
    if !own {
        if !user.can(state, ORG_OBJECT, "review").await {
            return Err(AppError::not_found());
        }
        let scope = user.scope_pattern().ok_or_else(AppError::not_found)?;
        crate::orgs::get_in_scope(&state.db, tenant, &scope, change.org_id).await?;
    }
    let blob = change.changes.iter().find(|c| c.field == "licence_blob_id").and_then(|c| c.new.parse::<i64>().ok());
    crate::storage::upload::download(state, tenant, blob.ok_or_else(AppError::not_found)?).await
}

/// A change asked for in a multipart form (pages, and the API when a scan comes along): the
/// subject's fields as text parts or one JSON `fields` part, the `licence` file, the CSRF token.
pub async fn read_multipart(multipart: axum::extract::Multipart) -> Result<(Map<String, Value>, Option<Upload>, Option<String>), AppError> {
    let mut form = crate::storage::upload::read_multipart_form(multipart, "licence").await?;
    if let Some(json) = form.fields.remove("fields") {
        match json.as_str().map(serde_json::from_str::<Value>) {
            Some(Ok(Value::Object(map))) => form.fields.extend(map),
            _ => return Err(crate::error::field_error("fields", "fields 须为 JSON 对象")),
        }
    }
    Ok((form.fields, form.file, form.csrf))
}

async fn load(db: &Db, tenant: &str, id: i64) -> Result<Option<ChangeRequest>, AppError> {
    let row: Option<Row> = db.opt(q(format!("{SELECT} WHERE c.tenant_id = $1 AND c.id = $2")).bind(tenant).bind(id)).await?;
    Ok(row.map(Into::into))
}

/// Withdraws a pending change nobody has decided yet: the caller's own title change, or one of the
/// caller's own organisation.
pub async fn withdraw(state: &AppState, user: &CurrentUser, id: i64) -> Result<(), AppError> {
    let tenant = user.tenant_code();
    let change = load(&state.db, tenant, id).await?.ok_or_else(AppError::not_found)?;
    let subject = Subject::from_code(&change.subject);
    match subject {
        Subject::Person => {
            user.authorize(state, OBJECT, "apply").await?;
            if change.person_id.is_none() || change.person_id != user.account.person_id {
                return Err(AppError::not_found());
            }
        }
        Subject::Org | Subject::Parent => {
            own_org(state, user, change.org_id).await?;
        }
    }
    if change.status != ChangeStatus::Pending {
        return Err(AppError::conflict("already_decided", "该变更申请已被处理，不能撤回"));
    }
    let subject_type = subject.subject_type();
    let mut tx = state.db.begin().await?;
    if !approvals::withdraw_undecided_tx(&mut tx, tenant, subject_type, id, 1, user.account.id).await? {
        return Err(AppError::conflict("already_decided", "审核已开始，不能撤回"));
    }
    set_status_tx(&mut tx, tenant, id, ChangeStatus::Withdrawn).await?;
    crate::audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        &format!("{subject_type}.withdrawn"),
        subject_type,
        Some(id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What the reviewer of a change (of any of the three kinds) sees.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChangeSubject {
    pub change: ChangeRequest,
    /// The change's audit trail, oldest first
    pub trail: Vec<approvals::TrailEntry>,
    /// The person of a title change (ID number masked); null for an organisation's change
    pub person: Option<crate::people::Profile>,
}

/// What the reviewer of a change sees: the change, its trail, and the person (for a title change).
async fn subject_detail(state: &AppState, tenant: &str, item: &Approval, trail: Option<Trail>) -> Result<ChangeSubject, AppError> {
    let change = load(&state.db, tenant, item.subject_id).await?.ok_or_else(AppError::not_found)?;
    let subject_type = item.subject_type.as_str();
    let filed = format!("{subject_type}.filed");
    let trail = approvals::subject_trail(&state.db, tenant, subject_type, change.id, &[(filed.as_str(), "提交变更申请")], trail).await?;
    let person = match change.person_id {
        Some(person) => crate::people::masked_profile(&state.db, tenant, person).await?,
        None => None,
    };
    Ok(ChangeSubject { change, trail, person })
}

/// Title changes in the approval queue.
#[derive(Default)]
pub struct PersonChanges;

impl RequestKind for PersonChanges {
    const CODE: &'static str = "person_change";
    const LABEL: &'static str = "职称变更审核";
    const NOUN: &'static str = "职称变更申请";
    const OBJECT: &'static str = OBJECT;
    const DETAIL_TEMPLATE: &'static str = "approval_change.html";
    const TRAIL: Option<Trail> = Some(Trail {
        forwarded: "person_change.forwarded",
        approved: ("person_change.approved", "审核通过，变更生效"),
        rejected: "person_change.rejected",
        returned: None,
    });

    async fn approved(&self, tx: &mut Tx, d: &Decided<'_>) -> Result<Notice, AppError> {
        apply_tx(tx, d.tenant, d.item.subject_id, Some(d.actor)).await?;
        Ok(Notice {
            title: "职称变更已通过".into(), body: format!("{}已审核通过，新的职称信息已生效。", d.item.summary), mail: true
        })
    }

    async fn rejected(&self, tx: &mut Tx, d: &Decided<'_>) -> Result<Notice, AppError> {
        set_status_tx(tx, d.tenant, d.item.subject_id, ChangeStatus::Rejected).await?;
        Ok(Notice {
            title: "职称变更未通过".into(), body: format!("{}未通过审核。原因：{}", d.item.summary, d.reason_text()), mail: true
        })
    }

    type Detail = ChangeSubject;

    async fn detail(&self, state: &AppState, tenant: &str, item: &Approval) -> Result<ChangeSubject, AppError> {
        subject_detail(state, tenant, item, Self::TRAIL).await
    }
}

/// Organisation information changes in the approval queue.
#[derive(Default)]
pub struct OrgChanges;

impl RequestKind for OrgChanges {
    const CODE: &'static str = "org_change";
    const LABEL: &'static str = "单位信息变更审核";
    const NOUN: &'static str = "单位信息变更申请";
    const OBJECT: &'static str = ORG_OBJECT;
    const DETAIL_TEMPLATE: &'static str = "approval_change.html";
    const TRAIL: Option<Trail> = Some(Trail {
        forwarded: "org_change.forwarded",
        approved: ("org_change.approved", "审核通过，变更生效"),
        rejected: "org_change.rejected",
        returned: None,
    });

    async fn approved(&self, tx: &mut Tx, d: &Decided<'_>) -> Result<Notice, AppError> {
        apply_tx(tx, d.tenant, d.item.subject_id, Some(d.actor)).await?;
        Ok(Notice {
            title: "单位信息变更已通过".into(), body: format!("{}已审核通过，新的单位信息已生效。", d.item.summary), mail: true
        })
    }

    async fn rejected(&self, tx: &mut Tx, d: &Decided<'_>) -> Result<Notice, AppError> {
        set_status_tx(tx, d.tenant, d.item.subject_id, ChangeStatus::Rejected).await?;
        Ok(Notice {
            title: "单位信息变更未通过".into(),
            body: format!("{}未通过审核。原因：{}", d.item.summary, d.reason_text()),
            mail: true,
        })
    }

    type Detail = ChangeSubject;

    async fn detail(&self, state: &AppState, tenant: &str, item: &Approval) -> Result<ChangeSubject, AppError> {
        subject_detail(state, tenant, item, Self::TRAIL).await
    }
}

/// Changes of an organisation's supervising department in the approval queue: the old parent decides
/// first, then the new one.
#[derive(Default)]
pub struct ParentChanges;

impl RequestKind for ParentChanges {
    const CODE: &'static str = "parent_change";
    const LABEL: &'static str = "更换上级部门审核";
    const NOUN: &'static str = "更换上级部门申请";
    const OBJECT: &'static str = ORG_OBJECT;
    const DETAIL_TEMPLATE: &'static str = "approval_change.html";
    const TRAIL: Option<Trail> = Some(Trail {
        forwarded: "parent_change.forwarded",
        approved: ("parent_change.approved", "审核通过，已更换上级部门"),
        rejected: "parent_change.rejected",
        returned: None,
    });

    async fn approved(&self, tx: &mut Tx, d: &Decided<'_>) -> Result<Notice, AppError> {
        apply_tx(tx, d.tenant, d.item.subject_id, Some(d.actor)).await?;
        Ok(Notice {
            title: "更换上级部门已通过".into(),
            body: format!("{}已经原、新上级部门审核通过，现已生效。", d.item.summary),
            mail: true,
        })
    }

    async fn rejected(&self, tx: &mut Tx, d: &Decided<'_>) -> Result<Notice, AppError> {
        set_status_tx(tx, d.tenant, d.item.subject_id, ChangeStatus::Rejected).await?;
        Ok(Notice {
            title: "更换上级部门未通过".into(),
            body: format!("{}未通过审核。原因：{}", d.item.summary, d.reason_text()),
            mail: true,
        })
    }

    type Detail = ChangeSubject;

    async fn detail(&self, state: &AppState, tenant: &str, item: &Approval) -> Result<ChangeSubject, AppError> {
        subject_detail(state, tenant, item, Self::TRAIL).await
    }
}
