//! Activity claims (其它继续教育形式 / 活动学时): a person claims hours for an activity with a form the
//! tenant's rules plugin defines, attaches proof, and submits it along the route the plugin returns.
//! Every step of the route is a row of the approval queue (`approvals`, kind `claim`); when the last
//! step approves, the assessed hours land in the ledger in the same transaction.
//!
//! Lifecycle: draft → submitted → (each step: approve → next step | reject → rejected | return →
//! returned) → approved. The applicant may withdraw before the first decision (back to draft), then edit
//! or delete. A unit admin may claim on behalf of the unit's staff; submitting declares it upward at once.

pub mod api;
pub mod pages;

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::approvals::{self, Approval, Decided, NewApproval, Notice, RequestKind, RouteOrg, StepView, Trail, TrailEntry};
use crate::auth::CurrentUser;
use crate::auth::Role;
use crate::china_time::this_year;
use crate::db::{Db, Filters, Tx, q};
use crate::error::{AppError, FieldErrors};
use crate::hours::{self, NewCredit};
use crate::orgs;
use crate::paging::Search;
use crate::rules::model::{Activity, Assessment, ClaimInput, FieldKind, Person, RequestKind as RouteKind, Subject};
use crate::state::AppState;
use crate::{audit, storage};

crate::codes::code_enum! {
    /// Where a claim stands.
    pub enum ClaimStatus {
        Draft = ("draft", "草稿"),
        Submitted = ("submitted", "审核中"),
        Returned = ("returned", "退回修改"),
        Approved = ("approved", "已通过"),
        Rejected = ("rejected", "未通过"),
    }
}

/// Most proof files on one claim.
const MAX_ATTACHMENTS: i64 = 20;

/// A file field's value while the claim is a draft: files come after the form, so a draft is checked
/// for everything but its files; submitting checks the files too.
const FILE_PENDING: &str = "pending-upload";

/// A claim's row; the API and pages show it as a [`ClaimView`].
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Claim {
    pub id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub unit_id: i64,
    pub unit_name: String,
    pub created_by: i64,
    pub year: i64,
    pub activity: String,
    pub activity_name: String,
    #[serde(skip)]
    pub fields: String,
    pub route_choice: Option<String>,
    #[serde(skip)]
    pub grants: String,
    #[serde(skip)]
    pub hours: i64,
    pub status: ClaimStatus,
    /// How often it was submitted; the steps shown are the latest round's
    pub round: i64,
    pub declared_by: Option<i64>,
    pub plugin_sha256: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const SELECT: &str = "SELECT c.id, c.person_id, p.name AS person_name, c.unit_id, u.name AS unit_name, c.created_by, c.year, c.activity, \
     c.activity_name, c.fields, c.route_choice, c.grants, c.hours, c.status, c.round, c.declared_by, c.plugin_sha256, c.submitted_at, \
     c.decided_at, c.created_at, c.updated_at";
const FROM: &str = "FROM claims c JOIN people p ON p.tenant_id = c.tenant_id AND p.id = c.person_id \
     JOIN orgs u ON u.tenant_id = c.tenant_id AND u.id = c.unit_id";

/// Grants as stored: hours in hundredths.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredGrant {
    subject: Subject,
    hours: i64,
}

impl Claim {
    fn form_values(&self) -> BTreeMap<String, Value> {
        serde_json::from_str(&self.fields).unwrap_or_default()
    }

    fn stored_grants(&self) -> Vec<StoredGrant> {
        serde_json::from_str(&self.grants).unwrap_or_default()
    }

    pub fn status_label(&self) -> &'static str {
        self.status.label()
    }

    /// The claim as the API and pages show it.
    pub fn into_view(self) -> ClaimView {
        let fields = self.form_values();
        let grants = self.stored_grants().into_iter().map(|g| Grant { subject: g.subject, hours: g.hours.into() }).collect();
        ClaimView { fields, grants, hours: self.hours.into(), status_label: self.status_label(), claim: self }
    }

    /// Its person, whoever created it, or an admin of its unit: those who may change it.
    fn applicant_side(&self, user: &CurrentUser) -> bool {
        let own = user.account.person_id == Some(self.person_id) || user.account.id == self.created_by;
        own || (user.account.role == Role::UnitAdmin && user.account.org_id == Some(self.unit_id))
    }

    fn editable(&self) -> bool {
        matches!(self.status, ClaimStatus::Draft | ClaimStatus::Returned)
    }
}

/// A claim with its form values, grants and hours decoded from the row.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClaimView {
    #[serde(flatten)]
    pub claim: Claim,
    /// Form values by field key (file fields are attachments)
    pub fields: BTreeMap<String, Value>,
    /// The hours the rules plugin assessed, per subject
    pub grants: Vec<Grant>,
    /// All assessed hours
    pub hours: hours::Hundredths,
    pub status_label: &'static str,
}

/// Assessed hours in one subject.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Grant {
    /// public or professional
    #[schema(value_type = String)]
    pub subject: Subject,
    pub hours: hours::Hundredths,
}

/// The request body of `POST /claims` and `PUT /claims/{id}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimBody {
    pub year: i64,
    /// An activity code from `GET /activities?year=`
    pub activity: String,
    /// Form values by field key (numbers as JSON numbers or decimal strings, dates as YYYY-MM-DD);
    /// file fields are uploaded with `POST /claims/{id}/attachments`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub fields: BTreeMap<String, Value>,
    /// Unit admins claiming on behalf of one of their staff.
    #[serde(default)]
    pub person_id: Option<i64>,
    /// Where the province lets the unit choose the deciding department (Henan: `authority` or `hr_bureau`).
    #[serde(default)]
    pub choice: Option<String>,
}

fn year_u16(year: i64) -> Result<u16, AppError> {
    u16::try_from(year)
        .ok()
        .filter(|y| (1990..=2100).contains(y))
        .ok_or_else(|| AppError::invalid([("year".to_owned(), "请选择有效的年度".to_owned())].into()))
}

/// The plugin's activity catalogue for a tenant's year.
pub async fn catalogue(state: &AppState, tenant: &str, year: i64) -> Result<Vec<Activity>, AppError> {
    let rules = state.rules.for_tenant_year(tenant, year_u16(year)?)?;
    Ok(rules.blocking(|r| r.catalogue()).await?)
}

/// The person a claim is for, with what the rules need to know of them.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Claimant {
    id: i64,
    unit_id: i64,
    post: String,
    title_level: String,
}

impl Claimant {
    fn rules_person(&self) -> Result<Person, AppError> {
        Ok(Person { post: serde_json::from_value(json!(self.post)).map_err(AppError::internal)?, title_level: self.title_level.clone() })
    }
}

async fn claimant(db: &Db, tenant: &str, person_id: i64) -> Result<Option<Claimant>, sqlx::Error> {
    db.opt(q("SELECT id, unit_id, post, title_level FROM people WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(person_id)).await
}

/// Who the claim is for: staff claim for themselves; a unit admin for a person of their unit (anyone
/// else's person is "not found").
async fn claimant_for(state: &AppState, user: &CurrentUser, person_id: Option<i64>) -> Result<Claimant, AppError> {
    user.authorize(state, "claims", "apply").await?;
    let tenant = user.tenant_code();
    if let Some(own) = user.account.person_id {
        if person_id.is_some_and(|p| p != own) {
            return Err(AppError::not_found());
        }
        return claimant(&state.db, tenant, own).await?.ok_or_else(AppError::not_found);
    }
    let Some(person_id) = person_id else {
        return Err(AppError::invalid([("person_id".to_owned(), "请选择申报人员".to_owned())].into()));
    };
    let person = claimant(&state.db, tenant, person_id).await?.ok_or_else(AppError::not_found)?;
    if user.account.role != Role::UnitAdmin || Some(person.unit_id) != user.account.org_id {
        return Err(AppError::not_found());
    }
    Ok(person)
}

/// The form values checked against the activity's fields and assessed by the plugin: the activity, the
/// cleaned values (non-file fields only) and the grants. `files` are the uploaded blob ids per file
/// field; `None` while drafting (file fields are then taken as "to be uploaded").
async fn assess(
    state: &AppState,
    tenant: &str,
    person: &Claimant,
    body: &ClaimBody,
    files: Option<&BTreeMap<String, Vec<i64>>>,
) -> Result<(Activity, BTreeMap<String, Value>, Vec<StoredGrant>), AppError> {
    let year = year_u16(body.year)?;
    let activities = catalogue(state, tenant, body.year).await?;
    let Some(activity) = activities.into_iter().find(|a| a.code == body.activity) else {
        return Err(AppError::invalid([("activity".to_owned(), "请选择本年度可申报的活动类型".to_owned())].into()));
    };
    let mut errors = FieldErrors::default();
    let mut values = BTreeMap::new();
    for (key, value) in &body.fields {
        match activity.fields.iter().find(|f| &f.key == key) {
            None => errors.add(key, "该活动类型没有此项"),
            Some(field) if field.kind == FieldKind::File => errors.add(key, "附件请通过上传接口提交"),
            Some(field) => match value {
                Value::String(text) => {
                    let text = text.trim();
                    // Dates of the activity fall in the year it is claimed for.
                    let outside = field.kind == FieldKind::Date
                        && chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok_and(|d| i64::from(d.year()) != body.year);
                    if outside {
                        errors.add(key, format!("{}应在 {} 年内", field.label, body.year));
                    } else if !text.is_empty() {
                        values.insert(key.clone(), json!(text));
                    }
                }
                Value::Number(_) => {
                    values.insert(key.clone(), value.clone());
                }
                Value::Null => {}
                _ => errors.add(key, "应为文字或数字"),
            },
        }
    }
    if body.choice.as_deref().is_some_and(|c| !matches!(c, "" | "authority" | "hr_bureau")) {
        errors.add("choice", "审批部门无效：请选择行业主管部门或同级人社部门");
    }
    errors.finish()?;
    let mut input_fields = values.clone();
    for field in activity.fields.iter().filter(|f| f.kind == FieldKind::File) {
        let value = match files {
            None => FILE_PENDING.to_owned(),
            Some(files) => {
                files.get(&field.key).map(|ids| ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")).unwrap_or_default()
            }
        };
        input_fields.insert(field.key.clone(), json!(value));
    }
    let input = ClaimInput { year, activity: activity.code.clone(), fields: input_fields, person: person.rules_person()? };
    let rules = state.rules.for_tenant_year(tenant, year)?;
    match rules.blocking(move |r| r.assess(&input)).await? {
        Assessment::Granted { grants, .. } => {
            let grants: Vec<StoredGrant> =
                grants.into_iter().map(|g| StoredGrant { subject: g.subject, hours: i64::from(g.hours.0) }).collect();
            // Where the route asks the unit to choose the deciding department (Henan's professional
            // claims), a claim without the choice is refused when saved, not first at submit.
            if routed_subject(&grants) == Some(Subject::Professional) && body.choice.as_deref().is_none_or(str::is_empty) {
                let level = orgs::get(&state.db, tenant, person.unit_id).await?.map(|u| u.level).unwrap_or_default();
                if offers_choice(state, tenant, body.year, &level).await {
                    return Err(AppError::invalid([("choice".to_owned(), "请选择审批部门：行业主管部门或人社部门".to_owned())].into()));
                }
            }
            Ok((activity, values, grants))
        }
        Assessment::Rejected { errors, .. } => {
            let mut fields = errors;
            for file_field in activity.fields.iter().filter(|f| f.kind == FieldKind::File) {
                if let Some(message) = fields.get_mut(&file_field.key) {
                    *message = format!("请上传{}", file_field.label);
                }
            }
            Err(AppError::invalid(fields))
        }
    }
}

fn total_hours(grants: &[StoredGrant]) -> i64 {
    grants.iter().map(|g| g.hours).sum()
}

/// Creates a draft. Bad input → 422 with per-field errors and nothing stored.
pub async fn create(state: &AppState, user: &CurrentUser, body: &ClaimBody) -> Result<Claim, AppError> {
    let tenant = user.tenant_code();
    let person = claimant_for(state, user, body.person_id).await?;
    let (activity, values, grants) = assess(state, tenant, &person, body, None).await?;
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    let id = tx
        .scalar(
            q("INSERT INTO claims (tenant_id, person_id, unit_id, created_by, year, activity, activity_name, fields, route_choice, grants, hours, \
               status, round, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'draft', 0, $12, $12) RETURNING id")
            .bind(tenant)
            .bind(person.id)
            .bind(person.unit_id)
            .bind(user.account.id)
            .bind(body.year)
            .bind(&activity.code)
            .bind(&activity.name)
            .bind(json!(values).to_string())
            .bind(body.choice.clone().filter(|c| !c.is_empty()))
            .bind(json!(grants).to_string())
            .bind(total_hours(&grants))
            .bind(now),
        )
        .await?;
    audit::record_tx(&mut tx, tenant, Some(user.account.id), "claim.created", "claim", Some(id), json!({"activity": activity.code}))
        .await?;
    tx.commit().await?;
    get(&state.db, tenant, id).await?.ok_or_else(AppError::not_found)
}

pub async fn get(db: &Db, tenant: &str, id: i64) -> Result<Option<Claim>, sqlx::Error> {
    db.opt(q(format!("{SELECT} {FROM} WHERE c.tenant_id = $1 AND c.id = $2 AND c.status <> 'deleted'")).bind(tenant).bind(id)).await
}

/// The claim if the caller may change it: its person, whoever created it, or an admin of its unit.
async fn editable_by(state: &AppState, user: &CurrentUser, id: i64) -> Result<Claim, AppError> {
    user.authorize(state, "claims", "apply").await?;
    let claim = get(&state.db, user.tenant_code(), id).await?.ok_or_else(AppError::not_found)?;
    if claim.applicant_side(user) { Ok(claim) } else { Err(AppError::not_found()) }
}

/// Whether the caller may see the claim: those who may change it, and admins of any organisation on its
/// route (a reviewer sees what they decide, and what they decided).
async fn readable_by(state: &AppState, user: &CurrentUser, id: i64) -> Result<Claim, AppError> {
    let tenant = user.tenant_code();
    let claim = get(&state.db, tenant, id).await?.ok_or_else(AppError::not_found)?;
    if claim.applicant_side(user) {
        return Ok(claim);
    }
    if let Some(org) = user.account.org_id
        && user.can(state, "claims", "review").await
        && approvals::on_route(&state.db, tenant, "claim", id, org).await?
    {
        return Ok(claim);
    }
    Err(AppError::not_found())
}

/// Edits a draft or a returned claim (same checks as creating it).
pub async fn update(state: &AppState, user: &CurrentUser, id: i64, body: &ClaimBody) -> Result<Claim, AppError> {
    let tenant = user.tenant_code();
    let claim = editable_by(state, user, id).await?;
    if !claim.editable() {
        return Err(AppError::conflict("not_editable", "申报已提交，撤回后才能修改"));
    }
    if body.person_id.is_some_and(|p| p != claim.person_id) {
        return Err(AppError::invalid([("person_id".to_owned(), "不能更换申报人员".to_owned())].into()));
    }
    let person = claimant(&state.db, tenant, claim.person_id).await?.ok_or_else(AppError::not_found)?;
    let (activity, values, grants) = assess(state, tenant, &person, body, None).await?;
    let mut tx = state.db.begin().await?;
    let changed = tx
        .run(
            q("UPDATE claims SET year = $3, activity = $4, activity_name = $5, fields = $6, route_choice = $7, grants = $8, hours = $9, updated_at = $10 \
               WHERE tenant_id = $1 AND id = $2 AND status IN ('draft', 'returned')")
            .bind(tenant)
            .bind(id)
            .bind(body.year)
            .bind(&activity.code)
            .bind(&activity.name)
            .bind(json!(values).to_string())
            .bind(body.choice.clone().filter(|c| !c.is_empty()))
            .bind(json!(grants).to_string())
            .bind(total_hours(&grants))
            .bind(Utc::now()),
        )
        .await?;
    if changed != 1 {
        return Err(AppError::conflict("not_editable", "申报已提交，撤回后才能修改"));
    }
    // Files of fields the new activity does not have would never be looked at: drop them.
    let file_keys: Vec<String> = activity.fields.iter().filter(|f| f.kind == FieldKind::File).map(|f| f.key.clone()).collect();
    for (attachment_id, field) in attachment_fields(&mut tx, tenant, id).await? {
        if !file_keys.contains(&field) {
            tx.run(q("DELETE FROM claim_attachments WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(attachment_id)).await?;
        }
    }
    audit::record_tx(&mut tx, tenant, Some(user.account.id), "claim.updated", "claim", Some(id), json!({"activity": activity.code}))
        .await?;
    tx.commit().await?;
    get(&state.db, tenant, id).await?.ok_or_else(AppError::not_found)
}

async fn attachment_fields(tx: &mut Tx, tenant: &str, claim_id: i64) -> Result<Vec<(i64, String)>, sqlx::Error> {
    tx.all(q("SELECT id, field FROM claim_attachments WHERE tenant_id = $1 AND claim_id = $2 ORDER BY id").bind(tenant).bind(claim_id))
        .await
}

/// Deletes a draft or returned claim. It is kept as `deleted` for the audit trail but no longer listed.
pub async fn delete(state: &AppState, user: &CurrentUser, id: i64) -> Result<(), AppError> {
    let tenant = user.tenant_code();
    editable_by(state, user, id).await?;
    let mut tx = state.db.begin().await?;
    let changed = tx
        .run(
            q("UPDATE claims SET status = 'deleted', updated_at = $3 WHERE tenant_id = $1 AND id = $2 AND status IN ('draft', 'returned')")
                .bind(tenant)
                .bind(id)
                .bind(Utc::now()),
        )
        .await?;
    if changed != 1 {
        return Err(AppError::conflict("not_editable", "申报已提交，撤回后才能删除"));
    }
    audit::record_tx(&mut tx, tenant, Some(user.account.id), "claim.deleted", "claim", Some(id), json!({})).await?;
    tx.commit().await?;
    Ok(())
}

/// A proof file on a claim.
#[derive(Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Attachment {
    pub id: i64,
    /// The form's file field it proves
    pub field: String,
    pub blob_id: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub created_at: DateTime<Utc>,
}

pub async fn attachments(db: &Db, tenant: &str, claim_id: i64) -> Result<Vec<Attachment>, sqlx::Error> {
    db.all(
        q("SELECT t.id, t.field, t.blob_id, b.filename, b.content_type, b.size, t.created_at FROM claim_attachments t \
           JOIN blobs b ON b.tenant_id = t.tenant_id AND b.id = t.blob_id WHERE t.tenant_id = $1 AND t.claim_id = $2 ORDER BY t.id")
        .bind(tenant)
        .bind(claim_id),
    )
    .await
}

/// Stores a proof file for one of the activity's file fields (the first file field when `field` is not
/// given). Oversize → 413, a type that is not a document or image → 422; nothing is kept then.
pub async fn add_attachment(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    field: Option<&str>,
    filename: &str,
    bytes: Vec<u8>,
) -> Result<Attachment, AppError> {
    let tenant = user.tenant_code();
    let claim = editable_by(state, user, id).await?;
    if !claim.editable() {
        return Err(AppError::conflict("not_editable", "申报已提交，撤回后才能修改附件"));
    }
    let activities = catalogue(state, tenant, claim.year).await?;
    let file_fields: Vec<String> = activities
        .iter()
        .find(|a| a.code == claim.activity)
        .map(|a| a.fields.iter().filter(|f| f.kind == FieldKind::File).map(|f| f.key.clone()).collect())
        .unwrap_or_default();
    let field = match field.map(str::trim).filter(|f| !f.is_empty()) {
        Some(f) if file_fields.iter().any(|k| k == f) => f.to_owned(),
        Some(_) => return Err(AppError::invalid([("field".to_owned(), "该活动类型没有此附件项".to_owned())].into())),
        None => file_fields.first().cloned().unwrap_or_else(|| "attachment".to_owned()),
    };
    let count =
        state.db.scalar(q("SELECT COUNT(*) FROM claim_attachments WHERE tenant_id = $1 AND claim_id = $2").bind(tenant).bind(id)).await?;
    if count >= MAX_ATTACHMENTS {
        return Err(AppError::invalid([("file".to_owned(), format!("每条申报最多上传 {MAX_ATTACHMENTS} 个附件"))].into()));
    }
    let mut tx = state.db.begin().await?;
    let blob_id = storage::upload::store_attachment(state, &mut tx, tenant, filename, bytes).await?;
    let attachment_id = tx
        .scalar(
            q("INSERT INTO claim_attachments (tenant_id, claim_id, field, blob_id, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
                .bind(tenant)
                .bind(id)
                .bind(&field)
                .bind(blob_id)
                .bind(user.account.id)
                .bind(Utc::now()),
        )
        .await?;
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "claim.attachment_added",
        "claim",
        Some(id),
        json!({"attachment": attachment_id, "field": field}),
    )
    .await?;
    tx.commit().await?;
    attachments(&state.db, tenant, id).await?.into_iter().find(|a| a.id == attachment_id).ok_or_else(AppError::not_found)
}

pub async fn remove_attachment(state: &AppState, user: &CurrentUser, id: i64, attachment_id: i64) -> Result<(), AppError> {
    let tenant = user.tenant_code();
    let claim = editable_by(state, user, id).await?;
    if !claim.editable() {
        return Err(AppError::conflict("not_editable", "申报已提交，撤回后才能修改附件"));
    }
    let mut tx = state.db.begin().await?;
    let removed = tx
        .run(
            q("DELETE FROM claim_attachments WHERE tenant_id = $1 AND claim_id = $2 AND id = $3").bind(tenant).bind(id).bind(attachment_id),
        )
        .await?;
    if removed != 1 {
        return Err(AppError::not_found());
    }
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "claim.attachment_removed",
        "claim",
        Some(id),
        json!({"attachment": attachment_id}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A proof file, for the applicant and the reviewers on the claim's route.
pub async fn download_attachment(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    attachment_id: i64,
) -> Result<axum::response::Response, AppError> {
    let tenant = user.tenant_code();
    readable_by(state, user, id).await?;
    let blob: Option<(i64,)> = state
        .db
        .opt(
            q("SELECT blob_id FROM claim_attachments WHERE tenant_id = $1 AND claim_id = $2 AND id = $3")
                .bind(tenant)
                .bind(id)
                .bind(attachment_id),
        )
        .await?;
    let Some((blob_id,)) = blob else { return Err(AppError::not_found()) };
    storage::upload::download(state, tenant, blob_id).await
}

/// The subject a claim is about, for routing: the one subject its grants are in, if only one.
fn routed_subject(grants: &[StoredGrant]) -> Option<Subject> {
    let first = grants.first()?.subject;
    grants.iter().all(|g| g.subject == first).then_some(first)
}

/// Whether the tenant's route for claims in `year` asks the unit to choose the deciding department (the
/// form shows the choice only then).
pub async fn offers_choice(state: &AppState, tenant: &str, year: i64, level: &str) -> bool {
    approvals::route_asks_choice(state, tenant, year, level, RouteKind::ActivityClaim, Subject::Professional).await
}

/// Submits a draft or returned claim: the full form with its files is assessed again, the plugin returns
/// the route, and the first step opens in the queue. A unit admin submitting for their staff declares it
/// upward at once (their own unit's step is taken as done).
pub async fn submit(state: &AppState, user: &CurrentUser, id: i64) -> Result<Claim, AppError> {
    let tenant = user.tenant_code();
    let claim = editable_by(state, user, id).await?;
    if !claim.editable() {
        return Err(AppError::conflict("already_submitted", "申报已提交"));
    }
    let person = claimant(&state.db, tenant, claim.person_id).await?.ok_or_else(AppError::not_found)?;
    let mut files: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for a in attachments(&state.db, tenant, id).await? {
        files.entry(a.field).or_default().push(a.id);
    }
    let body = ClaimBody {
        year: claim.year,
        activity: claim.activity.clone(),
        fields: claim.form_values(),
        person_id: None,
        choice: claim.route_choice.clone(),
    };
    let (_, _, grants) = assess(state, tenant, &person, &body, Some(&files)).await?;
    let unit = orgs::get(&state.db, tenant, claim.unit_id).await?.ok_or_else(AppError::not_found)?;
    let year = year_u16(claim.year)?;
    let sha = state.rules.for_tenant_year(tenant, year)?.plugin().sha256;
    let mut steps = approvals::route_for(
        state,
        tenant,
        &RouteOrg::from(&unit),
        year,
        RouteKind::ActivityClaim,
        routed_subject(&grants),
        claim.route_choice.clone(),
    )
    .await?;
    // Declaring for one's own staff: the unit's review is the declaration itself.
    let declared = user.account.role == Role::UnitAdmin && user.account.org_id == Some(unit.id);
    if declared {
        while steps.first().is_some_and(|(_, org)| org.id == unit.id) {
            steps.remove(0);
        }
    }
    let applicant_account: Option<(i64,)> = state
        .db
        .opt(q("SELECT id FROM accounts WHERE tenant_id = $1 AND person_id = $2 ORDER BY id LIMIT 1").bind(tenant).bind(claim.person_id))
        .await?;
    let now = Utc::now();
    let round = claim.round + 1;
    let hours_total = total_hours(&grants);
    let mut tx = state.db.begin().await?;
    let changed = tx
        .run(
            q("UPDATE claims SET status = 'submitted', round = $3, grants = $4, hours = $5, plugin_sha256 = $6, declared_by = $7, \
               submitted_at = $8, updated_at = $8, decided_at = NULL WHERE tenant_id = $1 AND id = $2 AND status IN ('draft', 'returned')")
            .bind(tenant)
            .bind(id)
            .bind(round)
            .bind(json!(grants).to_string())
            .bind(hours_total)
            .bind(&sha)
            .bind(declared.then_some(user.account.id))
            .bind(now),
        )
        .await?;
    if changed != 1 {
        return Err(AppError::conflict("already_submitted", "申报已提交"));
    }
    let summary =
        format!("{} · {} · {} 学时（{} 年度）", claim.person_name, claim.activity_name, hours::format_hours(hours_total), claim.year);
    approvals::open_route_tx::<Claims>(
        &mut tx,
        &state.config,
        tenant,
        &steps,
        NewApproval {
            subject_type: "claim",
            subject_id: id,
            summary,
            applicant_account_id: applicant_account.map(|a| a.0),
            round,
            declaring_org_id: Some(unit.id),
            ..Default::default()
        },
    )
    .await?;
    let action = if declared { "claim.declared" } else { "claim.submitted" };
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        action,
        "claim",
        Some(id),
        json!({"round": round, "route": approvals::route_json(&steps)}),
    )
    .await?;
    if steps.is_empty() {
        // The route had only the declaring unit's own review: declaring it approves it.
        finish_approved(&mut tx, tenant, id, user.account.id).await?;
    }
    tx.commit().await?;
    get(&state.db, tenant, id).await?.ok_or_else(AppError::not_found)
}

/// Takes a submitted claim back before anyone has decided it; it becomes a draft again.
pub async fn withdraw(state: &AppState, user: &CurrentUser, id: i64) -> Result<Claim, AppError> {
    let tenant = user.tenant_code();
    let claim = editable_by(state, user, id).await?;
    let too_late = || AppError::conflict("already_decided", "申报已有审核结果，不能撤回");
    if claim.status != ClaimStatus::Submitted {
        return Err(if claim.editable() { AppError::conflict("not_submitted", "申报尚未提交") } else { too_late() });
    }
    if claim.declared_by.is_some_and(|d| d != user.account.id) && user.account.role != Role::UnitAdmin {
        return Err(AppError::conflict("already_declared", "单位已申报，不能撤回，请联系单位管理员"));
    }
    let mut tx = state.db.begin().await?;
    if !approvals::withdraw_undecided_tx(&mut tx, tenant, "claim", id, claim.round, user.account.id).await? {
        return Err(too_late());
    }
    let changed = tx
        .run(
            q("UPDATE claims SET status = 'draft', declared_by = NULL, updated_at = $3 WHERE tenant_id = $1 AND id = $2 AND status = 'submitted'")
                .bind(tenant)
                .bind(id)
                .bind(Utc::now()),
        )
        .await?;
    if changed != 1 {
        return Err(too_late());
    }
    audit::record_tx(&mut tx, tenant, Some(user.account.id), "claim.withdrawn", "claim", Some(id), json!({"round": claim.round})).await?;
    tx.commit().await?;
    get(&state.db, tenant, id).await?.ok_or_else(AppError::not_found)
}

/// Grants the claim's hours and marks it approved, inside the deciding transaction: a crash between
/// approving and granting leaves neither.
async fn finish_approved(tx: &mut Tx, tenant: &str, id: i64, actor: i64) -> Result<(), AppError> {
    let claim: Option<(i64, i64, String)> = tx
        .opt(
            q("SELECT person_id, year, grants FROM claims WHERE tenant_id = $1 AND id = $2 AND status = 'submitted'").bind(tenant).bind(id),
        )
        .await?;
    let Some((person_id, year, grants)) = claim else {
        return Err(AppError::conflict("already_decided", "申报状态已变化，请刷新后重试"));
    };
    let grants: Vec<StoredGrant> = serde_json::from_str(&grants).map_err(AppError::internal)?;
    for grant in &grants {
        let subject = match grant.subject {
            Subject::Public => "public",
            Subject::Professional => "professional",
        };
        hours::grant_tx(
            tx,
            tenant,
            NewCredit {
                person_id,
                year,
                subject,
                hours: grant.hours,
                source: "activity",
                source_ref: &format!("claim:{id}:{subject}"),
                course: None,
                granted_by: Some(actor),
            },
        )
        .await?;
    }
    tx.run(
        q("UPDATE claims SET status = 'approved', decided_at = $3, updated_at = $3 WHERE tenant_id = $1 AND id = $2 AND status = 'submitted'")
            .bind(tenant)
            .bind(id)
            .bind(Utc::now()),
    )
    .await?;
    Ok(())
}

/// Activity claims in the approval queue: each step of the plugin's route is a queue row; the last
/// step's approval grants the hours, a rejection ends the claim, a return sends it back for changes.
#[derive(Default)]
pub struct Claims;

/// What the applicant's messages call the claim: the activity and its hours; and its year.
async fn described(tx: &mut Tx, tenant: &str, id: i64) -> Result<(String, i64), sqlx::Error> {
    let (activity_name, hours_total, year): (String, i64, i64) =
        tx.one(q("SELECT activity_name, hours, year FROM claims WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(id)).await?;
    Ok((format!("{}（{} 学时）", activity_name, hours::format_hours(hours_total)), year))
}

/// Ends the claim's round as rejected or returned, inside the deciding transaction.
async fn finish_decided(tx: &mut Tx, tenant: &str, id: i64, status: &str) -> Result<(), AppError> {
    let changed = tx
        .run(
            q("UPDATE claims SET status = $3, decided_at = $4, updated_at = $4 WHERE tenant_id = $1 AND id = $2 AND status = 'submitted'")
                .bind(tenant)
                .bind(id)
                .bind(status)
                .bind(Utc::now()),
        )
        .await?;
    if changed != 1 {
        return Err(AppError::conflict("already_decided", "申报状态已变化，请刷新后重试"));
    }
    Ok(())
}

impl RequestKind for Claims {
    const CODE: &'static str = "claim";
    const LABEL: &'static str = "学时申报审核";
    const NOUN: &'static str = "学时申报";
    const OBJECT: &'static str = "claims";
    const DETAIL_TEMPLATE: &'static str = "approval_claim.html";
    const GROUPED: bool = true;
    const RETURNABLE: bool = true;
    const TRAIL: Option<Trail> = Some(Trail {
        forwarded: "claim.step_approved",
        approved: ("claim.approved", "审核通过，学时已入账"),
        rejected: "claim.rejected",
        returned: Some("claim.returned"),
    });

    async fn forwarded(&self, tx: &mut Tx, d: &Decided<'_>, next: &str) -> Result<Notice, AppError> {
        let (what, _) = described(tx, d.tenant, d.item.subject_id).await?;
        Ok(Notice {
            title: "学时申报已通过一级审核".to_owned(),
            body: format!("您的学时申报 {what} 已通过{}审核，已提交{}审核。", d.item.approver_org_name, next),
            mail: false,
        })
    }

    async fn approved(&self, tx: &mut Tx, d: &Decided<'_>) -> Result<Notice, AppError> {
        let (what, year) = described(tx, d.tenant, d.item.subject_id).await?;
        finish_approved(tx, d.tenant, d.item.subject_id, d.actor).await?;
        Ok(Notice {
            title: "学时申报已通过".to_owned(),
            body: format!("您的学时申报 {what} 已审核通过，学时已计入 {year} 年度。"),
            mail: true,
        })
    }

    async fn rejected(&self, tx: &mut Tx, d: &Decided<'_>) -> Result<Notice, AppError> {
        let (what, _) = described(tx, d.tenant, d.item.subject_id).await?;
        finish_decided(tx, d.tenant, d.item.subject_id, "rejected").await?;
        Ok(Notice {
            title: "学时申报未通过".to_owned(),
            body: format!("您的学时申报 {what} 未通过{}审核。原因：{}", d.item.approver_org_name, d.reason_text()),
            mail: true,
        })
    }

    async fn returned(&self, tx: &mut Tx, d: &Decided<'_>) -> Result<Notice, AppError> {
        let (what, _) = described(tx, d.tenant, d.item.subject_id).await?;
        finish_decided(tx, d.tenant, d.item.subject_id, "returned").await?;
        Ok(Notice {
            title: "学时申报被退回修改".to_owned(),
            body: format!("您的学时申报 {what} 被{}退回修改。原因：{}。请修改后重新提交。", d.item.approver_org_name, d.reason_text()),
            mail: true,
        })
    }

    type Detail = ClaimRecord;

    async fn detail(&self, state: &AppState, tenant: &str, item: &Approval) -> Result<ClaimRecord, AppError> {
        record(state, tenant, item.subject_id).await
    }
}

/// The applicant's own actions on a claim, as its trail shows them (the reviewers' are the engine's,
/// see [`Claims`]).
const ACTIONS: &[(&str, &str)] = &[
    ("claim.created", "创建申报"),
    ("claim.updated", "修改申报"),
    ("claim.attachment_added", "上传附件"),
    ("claim.attachment_removed", "删除附件"),
    ("claim.submitted", "提交申报"),
    ("claim.declared", "单位代为申报"),
    ("claim.withdrawn", "撤回申报"),
    ("claim.deleted", "删除申报"),
];

/// Everything about one claim, as its applicant and its reviewers see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClaimRecord {
    pub claim: ClaimView,
    /// The form's non-file fields in the activity's order
    pub form: Vec<FormLine>,
    /// The activity's file fields (empty when the rules plugin could not be asked)
    pub file_fields: Vec<FileField>,
    pub attachments: Vec<Attachment>,
    /// The current round's route steps
    pub steps: Vec<StepView>,
    /// The audit trail, oldest first
    pub trail: Vec<TrailEntry>,
}

/// One line of a claim's form.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FormLine {
    pub key: String,
    pub label: String,
    /// As shown: a choice's label, else the value entered (as stored when the plugin could not be asked)
    pub value: Value,
}

/// A file field of the claim's activity.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FileField {
    pub key: String,
    pub label: String,
}

/// A claim for the applicant or a reviewer on its route: its record and what the caller may do.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClaimDetail {
    #[serde(flatten)]
    pub record: ClaimRecord,
    pub can_edit: bool,
    pub can_withdraw: bool,
}

/// Everything about one claim: the claim, its form as the activity defines it, its attachments, the
/// current round's steps and the audit trail. The caller has checked visibility.
pub async fn record(state: &AppState, tenant: &str, id: i64) -> Result<ClaimRecord, AppError> {
    let claim = get(&state.db, tenant, id).await?.ok_or_else(AppError::not_found)?;
    let values = claim.form_values();
    // Labels from the catalogue of the claim's year; a plugin failure must not hide the claim itself.
    let activity = catalogue(state, tenant, claim.year).await.ok().and_then(|list| list.into_iter().find(|a| a.code == claim.activity));
    let form: Vec<FormLine> = match &activity {
        Some(activity) => activity
            .fields
            .iter()
            .filter(|f| f.kind != FieldKind::File)
            .map(|f| {
                let raw = values.get(&f.key).map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())).unwrap_or_default();
                let shown = f.choices.iter().find(|c| c.code == raw).map_or(raw.clone(), |c| c.label.clone());
                FormLine { key: f.key.clone(), label: f.label.clone(), value: Value::String(shown) }
            })
            .collect(),
        None => values.iter().map(|(k, v)| FormLine { key: k.clone(), label: k.clone(), value: v.clone() }).collect(),
    };
    let file_fields = activity
        .iter()
        .flat_map(|a| &a.fields)
        .filter(|f| f.kind == FieldKind::File)
        .map(|f| FileField { key: f.key.clone(), label: f.label.clone() })
        .collect();
    Ok(ClaimRecord {
        form,
        file_fields,
        attachments: attachments(&state.db, tenant, id).await?,
        steps: approvals::steps(&state.db, tenant, "claim", id, claim.round).await?,
        trail: approvals::subject_trail(&state.db, tenant, "claim", id, ACTIONS, Claims::TRAIL).await?,
        claim: claim.into_view(),
    })
}

/// A claim for the applicant or a reviewer on its route.
pub async fn detail(state: &AppState, user: &CurrentUser, id: i64) -> Result<ClaimDetail, AppError> {
    let claim = readable_by(state, user, id).await?;
    let record = record(state, user.tenant_code(), id).await?;
    let applicant_side = claim.applicant_side(user);
    Ok(ClaimDetail {
        record,
        can_edit: applicant_side && claim.editable(),
        can_withdraw: applicant_side && claim.status == ClaimStatus::Submitted,
    })
}

crate::paging::list_query! {
    #[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
    pub struct ListQuery {
        pub year: Option<i64>,
        /// draft, submitted, returned, approved or rejected
        pub status: Option<String>,
        /// Activity name contains (and person name, for unit admins)
        pub q: Option<String>,
    }
}

/// The caller's claims: staff see their own; a unit admin sees the unit's.
pub async fn list(state: &AppState, user: &CurrentUser, query: &ListQuery) -> Result<(Vec<Claim>, i64), AppError> {
    user.authorize(state, "claims", "apply").await?;
    let mut filters = Filters::tenant("c.tenant_id", user.tenant_code());
    filters.and_sql("c.status <> 'deleted'");
    match (user.account.person_id, user.account.role, user.account.org_id) {
        (Some(person), _, _) => {
            filters.and("c.person_id = ?", person);
        }
        (None, Role::UnitAdmin, Some(unit)) => {
            filters.and("c.unit_id = ?", unit);
        }
        _ => return Err(AppError::forbidden()),
    }
    if let Some(year) = query.year {
        filters.and("c.year = ?", year);
    }
    if let Some(status) = crate::codes::filter::<ClaimStatus>(query.status.as_deref(), "status", "申报状态")? {
        filters.and("c.status = ?", status);
    }
    if let Some(text) = query.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        filters.contains(&["c.activity_name", "p.name"], text);
    }
    let total = state.db.scalar(filters.count(FROM)).await?;
    let items = state.db.all(filters.page(&format!("{SELECT} {FROM}"), "c.id DESC", query.page, query.per_page())).await?;
    Ok((items, total))
}
