//! Training plans (培训计划, seed 003 施教机构 培训计划管理, seed 004 §5.1.5): an institution files a
//! plan for an enabled subject of the plan's kind and year; it is routed at once along the rules
//! plugin's route for `training-plan` (Henan: public → the HR bureau, professional → the authority or the
//! HR bureau as the institution chooses) through the approval queue (kind `plan`, subject type
//! `training_plan`). While pending or rejected the institution edits it (a new round: the open step is
//! withdrawn and the new route opened) or deletes it (kept as `deleted` for the audit trail); approved
//! plans are final and carry the institution's classes.

pub mod api;
pub mod pages;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::subjects::{self, is_kind};
use crate::approvals::{self, Approval, Decided, NewApproval, Notice, RequestKind, RouteOrg, Steps, Trail};
use crate::auth::CurrentUser;
use crate::db::{Db, Filters, Tx, q};
use crate::error::{AppError, FieldErrors};
use crate::orgs::OrgKind;
use crate::orgs::{self, Org};
use crate::paging::Search;
use crate::rules::model::{RequestKind as RouteKind, Subject as RuleSubject};
use crate::state::AppState;
use crate::tenancy::Words;
use crate::{audit, hours, messages};

/// 培训形式: (code, Chinese label).
pub const MODES: &[(&str, &str)] = &[("face_to_face", "面授"), ("online", "网络"), ("blended", "混合")];

crate::codes::code_enum! {
    /// Where a training plan stands.
    pub enum PlanStatus {
        Pending = ("pending", "待审核"),
        Approved = ("approved", "已通过"),
        Rejected = ("rejected", "未通过"),
        /// Kept for the queue rows that name it; never returned.
        Deleted = ("deleted", "已删除"),
    }
}

impl PlanStatus {
    /// The statuses an institution can filter by.
    pub fn listed() -> impl Iterator<Item = PlanStatus> {
        PlanStatus::ALL.iter().copied().filter(|s| *s != PlanStatus::Deleted)
    }

    /// Whether the institution may still edit or delete the plan.
    fn editable(self) -> bool {
        matches!(self, PlanStatus::Pending | PlanStatus::Rejected)
    }
}

/// Where Henan lets the institution send a professional plan: (code, Chinese label).
pub const CHOICES: &[(&str, &str)] = &[("authority", "同级行业主管部门"), ("hr_bureau", "同级人社部门")];

/// Most hours one plan may carry, in hundredths.
const MAX_HOURS: i64 = 100_000;

fn label(table: &[(&str, &'static str)], code: &str) -> &'static str {
    table.iter().find(|(c, _)| *c == code).map_or("", |(_, l)| l)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = TrainingPlan)]
pub struct Plan {
    pub id: i64,
    pub institution_id: i64,
    pub institution_name: String,
    pub name: String,
    pub subject_kind: String,
    pub subject_id: i64,
    pub subject_name: String,
    /// 培训年度
    pub year: i64,
    /// 继续教育年度: the year the hours count towards
    pub credit_year: i64,
    pub mode: String,
    pub planned_count: i64,
    /// Hundredths of an hour (sent as hours by [`PlanView`])
    #[serde(skip)]
    pub hours: i64,
    pub start_date: String,
    pub end_date: String,
    pub place: Option<String>,
    pub remark: Option<String>,
    pub route_choice: Option<String>,
    /// pending, approved, rejected (deleted ones are never returned)
    pub status: PlanStatus,
    pub round: i64,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

const SELECT: &str = "SELECT p.id, p.institution_id, i.name AS institution_name, p.name, p.subject_kind, p.subject_id, s.name AS subject_name, \
     p.year, p.credit_year, p.mode, p.planned_count, p.hours, p.start_date, p.end_date, p.place, p.remark, p.route_choice, p.status, p.round, \
     p.created_by, p.created_at, p.updated_at, p.decided_at";
const FROM: &str = "FROM training_plans p JOIN orgs i ON i.tenant_id = p.tenant_id AND i.id = p.institution_id \
     JOIN training_subjects s ON s.tenant_id = p.tenant_id AND s.id = p.subject_id";

/// A plan as the API and the pages show it: the record, its hours and the labels of its codes.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanView {
    #[serde(flatten)]
    pub plan: Plan,
    /// 学时
    pub hours: crate::hours::Hundredths,
    pub mode_label: &'static str,
    /// The subject kind in the tenant's words
    pub subject_kind_label: String,
    pub status_label: &'static str,
    pub route_choice_label: Option<&'static str>,
    /// The institution may still edit or delete it (pending or rejected)
    pub editable: bool,
}

impl Plan {
    pub fn view(&self, words: &Words) -> PlanView {
        PlanView {
            plan: self.clone(),
            hours: crate::hours::Hundredths(self.hours),
            mode_label: label(MODES, &self.mode),
            subject_kind_label: words.subject(&self.subject_kind).to_owned(),
            status_label: self.status.label(),
            route_choice_label: self.route_choice.as_deref().map(|c| label(CHOICES, c)),
            editable: self.editable(),
        }
    }

    pub fn editable(&self) -> bool {
        self.status.editable()
    }

    fn summary(&self) -> String {
        format!(
            "{} · {} · {}（{} 年度，{} 学时）",
            self.institution_name,
            self.name,
            self.subject_name,
            self.year,
            hours::format_hours(self.hours)
        )
    }
}

/// A plan that has not been deleted.
pub async fn get(db: &Db, tenant: &str, id: i64) -> Result<Option<Plan>, sqlx::Error> {
    db.opt(q(format!("{SELECT} {FROM} WHERE p.tenant_id = $1 AND p.id = $2 AND p.status <> 'deleted'")).bind(tenant).bind(id)).await
}

/// An institution's approved plans, newest first (what classes are run under).
pub async fn approved_for(db: &Db, tenant: &str, institution_id: i64) -> Result<Vec<Plan>, sqlx::Error> {
    db.all(
        q(format!("{SELECT} {FROM} WHERE p.tenant_id = $1 AND p.institution_id = $2 AND p.status = 'approved' ORDER BY p.id DESC"))
            .bind(tenant)
            .bind(institution_id),
    )
    .await
}

/// The request body of `POST /plans` and `PUT /plans/{id}`. Missing or mistyped values come back as
/// per-field errors.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct PlanBody {
    #[serde(default)]
    pub name: String,
    /// public or professional
    #[serde(default)]
    pub subject_kind: String,
    /// An enabled subject of `subject_kind` and `year` (`GET /subjects?kind=&year=&enabled=yes`)
    pub subject_id: Option<i64>,
    /// 培训年度
    pub year: Option<i64>,
    /// 继续教育年度
    pub credit_year: Option<i64>,
    /// face_to_face, online or blended
    #[serde(default)]
    pub mode: String,
    pub planned_count: Option<i64>,
    /// A number or decimal string, > 0, at most 1000, two decimals at most
    #[serde(default)]
    #[schema(schema_with = crate::hours::number_or_decimal_text)]
    pub hours: Value,
    /// YYYY-MM-DD
    #[serde(default)]
    pub start_date: String,
    /// YYYY-MM-DD, not before `start_date`
    #[serde(default)]
    pub end_date: String,
    #[serde(default)]
    pub place: Option<String>,
    #[serde(default)]
    pub remark: Option<String>,
    /// Where the province lets the institution choose the deciding department (Henan, professional
    /// subjects: `authority` or `hr_bureau`)
    #[serde(default)]
    pub choice: Option<String>,
}

/// A checked plan.
struct Clean {
    name: String,
    subject: subjects::Subject,
    year: i64,
    credit_year: i64,
    mode: String,
    planned_count: i64,
    hours: i64,
    start_date: String,
    end_date: String,
    place: Option<String>,
    remark: Option<String>,
    choice: Option<String>,
}

impl Clean {
    /// The plan's columns in the order the insert and the update both use (`name` … `route_choice`).
    fn values(&self) -> Vec<crate::db::Value> {
        use crate::db::ToValue;
        vec![
            self.name.as_str().to_value(),
            self.subject.kind.as_str().to_value(),
            self.subject.id.to_value(),
            self.year.to_value(),
            self.credit_year.to_value(),
            self.mode.as_str().to_value(),
            self.planned_count.to_value(),
            self.hours.to_value(),
            self.start_date.as_str().to_value(),
            self.end_date.as_str().to_value(),
            self.place.clone().to_value(),
            self.remark.clone().to_value(),
            self.choice.clone().to_value(),
        ]
    }
}

fn year_ok(year: Option<i64>) -> Option<i64> {
    year.filter(|y| (1990..=2100).contains(y))
}

fn date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

fn text_at_most(errors: &mut FieldErrors, field: &str, text: Option<&str>, max: usize, what: &str) -> Option<String> {
    let text = super::optional_text(text);
    if text.as_ref().is_some_and(|t| t.chars().count() > max) {
        errors.add(field, format!("{what}不能超过 {max} 字"));
    }
    text
}

/// Every field checked, with a message per field; the subject must exist in the tenant, be enabled,
/// and be of the plan's kind and year (the kind limits the subjects offered).
async fn check(db: &Db, tenant: &str, words: &Words, body: &PlanBody) -> Result<Clean, AppError> {
    let mut errors = FieldErrors::default();
    let name = body.name.trim().to_owned();
    if name.is_empty() {
        errors.add("name", "请填写计划名称");
    } else if name.chars().count() > 100 {
        errors.add("name", "计划名称不能超过 100 字");
    }
    let kind_ok = is_kind(&body.subject_kind);
    if !kind_ok {
        errors.add("subject_kind", format!("请选择科目类型：{}或{}", words.public, words.professional));
    }
    let year = year_ok(body.year);
    if year.is_none() {
        errors.add("year", "请选择有效的培训年度");
    }
    let credit_year = year_ok(body.credit_year);
    if credit_year.is_none() {
        errors.add("credit_year", "请选择有效的继续教育年度");
    }
    if label(MODES, &body.mode).is_empty() {
        errors.add("mode", "请选择培训形式：面授、网络或混合");
    }
    let planned_count = body.planned_count.filter(|n| (1..=100_000).contains(n));
    if planned_count.is_none() {
        errors.add("planned_count", "计划培训人数应为 1 到 100000 的整数");
    }
    let hours_text = match &body.hours {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    };
    let hours = match hours_text.as_deref().map(hours::parse_hours) {
        None => {
            errors.add("hours", "请填写计划学时");
            None
        }
        Some(Err(message)) => {
            errors.add("hours", message);
            None
        }
        Some(Ok(h)) if h > MAX_HOURS => {
            errors.add("hours", "计划学时不能超过 1000");
            None
        }
        Some(Ok(h)) => Some(h),
    };
    let start = date(&body.start_date);
    let end = date(&body.end_date);
    if start.is_none() {
        errors.add("start_date", "请填写开始日期（YYYY-MM-DD）");
    }
    if end.is_none() {
        errors.add("end_date", "请填写结束日期（YYYY-MM-DD）");
    }
    if let (Some(start), Some(end)) = (start, end)
        && end < start
    {
        errors.add("end_date", "结束日期不能早于开始日期");
    }
    let place = text_at_most(&mut errors, "place", body.place.as_deref(), 200, "培训地点");
    let remark = text_at_most(&mut errors, "remark", body.remark.as_deref(), 500, "备注");
    let choice = super::optional_text(body.choice.as_deref());
    if choice.as_deref().is_some_and(|c| label(CHOICES, c).is_empty()) {
        errors.add("choice", "送审部门无效：只能是行业主管部门或人社部门");
    }
    let subject = match body.subject_id {
        None => {
            errors.add("subject_id", "请选择培训科目");
            None
        }
        Some(id) => match subjects::get(db, tenant, id).await? {
            None => {
                errors.add("subject_id", "培训科目不存在");
                None
            }
            Some(s) if kind_ok && s.kind != body.subject_kind => {
                errors.add("subject_id", format!("所选科目不是{}", words.subject(&body.subject_kind)));
                None
            }
            Some(s) if year.is_some_and(|y| y != s.year) => {
                errors.add("subject_id", format!("所选科目不属于 {} 年度", year.unwrap_or_default()));
                None
            }
            Some(s) if !s.enabled => {
                errors.add("subject_id", "所选科目已停用");
                None
            }
            Some(s) => Some(s),
        },
    };
    errors.finish()?;
    let missing = || AppError::internal("plan checked without a value");
    Ok(Clean {
        name,
        subject: subject.ok_or_else(missing)?,
        year: year.ok_or_else(missing)?,
        credit_year: credit_year.ok_or_else(missing)?,
        mode: body.mode.clone(),
        planned_count: planned_count.ok_or_else(missing)?,
        hours: hours.ok_or_else(missing)?,
        start_date: start.ok_or_else(missing)?.format("%Y-%m-%d").to_string(),
        end_date: end.ok_or_else(missing)?.format("%Y-%m-%d").to_string(),
        place,
        remark,
        choice,
    })
}

/// The caller's institution: plans are filed by institution admins for their own institution only.
async fn institution(state: &AppState, user: &CurrentUser) -> Result<Org, AppError> {
    user.authorize(state, "plans", "manage").await?;
    let org = match user.account.org_id {
        Some(id) => orgs::get(&state.db, user.tenant_code(), id).await?,
        None => None,
    };
    org.filter(|o| o.kind == OrgKind::Institution).ok_or_else(AppError::forbidden)
}

/// The plugin's route for a checked plan (its field errors, such as a missing `choice`, are 422).
async fn route(state: &AppState, tenant: &str, institution: &Org, clean: &Clean) -> Result<Steps, AppError> {
    let subject = if clean.subject.kind == "public" { RuleSubject::Public } else { RuleSubject::Professional };
    let year = hours::check_year(clean.year)?;
    approvals::route_for(state, tenant, &RouteOrg::from(institution), year, RouteKind::TrainingPlan, Some(subject), clean.choice.clone())
        .await
}

/// Opens the route's queue rows for the plan's round; a route without steps approves it at once.
async fn open_round(tx: &mut Tx, state: &AppState, tenant: &str, plan: &Plan, steps: &Steps, applicant: i64) -> Result<(), AppError> {
    approvals::open_route_tx::<Plans>(
        tx,
        &state.config,
        tenant,
        steps,
        NewApproval {
            subject_type: "training_plan",
            subject_id: plan.id,
            summary: plan.summary(),
            applicant_account_id: Some(applicant),
            round: plan.round,
            declaring_org_id: Some(plan.institution_id),
            ..Default::default()
        },
    )
    .await?;
    if steps.is_empty() {
        tx.run(
            q("UPDATE training_plans SET status = 'approved', decided_at = $3 WHERE tenant_id = $1 AND id = $2 AND status = 'pending'")
                .bind(tenant)
                .bind(plan.id)
                .bind(Utc::now()),
        )
        .await?;
    }
    Ok(())
}

async fn get_tx(tx: &mut Tx, tenant: &str, id: i64) -> Result<Plan, AppError> {
    tx.opt(q(format!("{SELECT} {FROM} WHERE p.tenant_id = $1 AND p.id = $2")).bind(tenant).bind(id)).await?.ok_or_else(AppError::not_found)
}

/// Files a plan and routes it for approval at once. Bad input → 422 and nothing stored.
pub async fn create(state: &AppState, user: &CurrentUser, body: &PlanBody) -> Result<Plan, AppError> {
    let tenant = user.tenant_code();
    let institution = institution(state, user).await?;
    let clean = check(&state.db, tenant, &user.tenant.tenant.settings.words, body).await?;
    let steps = route(state, tenant, &institution, &clean).await?;
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    let id = tx
        .scalar(
            q("INSERT INTO training_plans (tenant_id, institution_id, name, subject_kind, subject_id, year, credit_year, mode, planned_count, hours, \
               start_date, end_date, place, remark, route_choice, status, round, created_by, created_at, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'pending', 1, $16, $17, $17) RETURNING id")
            .bind(tenant)
            .bind(institution.id)
            .bind_all(clean.values())
            .bind(user.account.id)
            .bind(now),
        )
        .await?;
    let plan = get_tx(&mut tx, tenant, id).await?;
    open_round(&mut tx, state, tenant, &plan, &steps, user.account.id).await?;
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "plan.created",
        "training_plan",
        Some(id),
        json!({"name": plan.name, "round": 1, "route": approvals::route_json(&steps)}),
    )
    .await?;
    tx.commit().await?;
    get(&state.db, tenant, id).await?.ok_or_else(AppError::not_found)
}

/// One of the caller's institution's plans; anyone else's is "not found".
async fn own(state: &AppState, user: &CurrentUser, id: i64) -> Result<(Org, Plan), AppError> {
    let institution = institution(state, user).await?;
    let plan =
        get(&state.db, user.tenant_code(), id).await?.filter(|p| p.institution_id == institution.id).ok_or_else(AppError::not_found)?;
    Ok((institution, plan))
}

fn not_editable() -> AppError {
    AppError::conflict("not_editable", "培训计划已审核通过，不能修改或删除")
}

/// Edits a pending or rejected plan (same checks as filing it) and submits it again as a new round:
/// the open step of the old round is withdrawn, the new route opened.
pub async fn update(state: &AppState, user: &CurrentUser, id: i64, body: &PlanBody) -> Result<Plan, AppError> {
    let tenant = user.tenant_code();
    let (institution, plan) = own(state, user, id).await?;
    if !plan.editable() {
        return Err(not_editable());
    }
    let clean = check(&state.db, tenant, &user.tenant.tenant.settings.words, body).await?;
    let steps = route(state, tenant, &institution, &clean).await?;
    let mut tx = state.db.begin().await?;
    approvals::close_open_steps_tx(
        &mut tx,
        tenant,
        "training_plan",
        id,
        plan.round,
        &[approvals::StepStatus::Pending, approvals::StepStatus::Waiting],
        approvals::StepStatus::Withdrawn,
    )
    .await?;
    let changed = tx
        .run(
            q("UPDATE training_plans SET name = $4, subject_kind = $5, subject_id = $6, year = $7, credit_year = $8, mode = $9, planned_count = $10, \
               hours = $11, start_date = $12, end_date = $13, place = $14, remark = $15, route_choice = $16, status = 'pending', round = $3 + 1, \
               decided_at = NULL, updated_at = $17 WHERE tenant_id = $1 AND id = $2 AND round = $3 AND status IN ('pending', 'rejected')")
            .bind(tenant)
            .bind(id)
            .bind(plan.round)
            .bind_all(clean.values())
            .bind(Utc::now()),
        )
        .await?;
    if changed != 1 {
        return Err(AppError::conflict("already_decided", "培训计划状态已变化，请刷新后重试"));
    }
    let updated = get_tx(&mut tx, tenant, id).await?;
    open_round(&mut tx, state, tenant, &updated, &steps, user.account.id).await?;
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "plan.updated",
        "training_plan",
        Some(id),
        json!({"name": updated.name, "round": updated.round, "route": approvals::route_json(&steps)}),
    )
    .await?;
    tx.commit().await?;
    get(&state.db, tenant, id).await?.ok_or_else(AppError::not_found)
}

/// Deletes pending or rejected plans of the caller's institution: all or none (one transaction). An
/// approved plan → 409, another institution's → 404; nothing is deleted then. Deleted plans stay as
/// `deleted` rows for the audit trail; their open steps are withdrawn.
pub async fn delete(state: &AppState, user: &CurrentUser, ids: &[i64]) -> Result<usize, AppError> {
    let tenant = user.tenant_code();
    let institution = institution(state, user).await?;
    if ids.is_empty() {
        return Err(AppError::invalid([("ids".to_owned(), "请至少选择一个培训计划".to_owned())].into()));
    }
    if ids.len() > 1000 {
        return Err(AppError::invalid([("ids".to_owned(), "一次最多删除 1000 个培训计划".to_owned())].into()));
    }
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let mut tx = state.db.begin().await?;
    for id in &ids {
        let row: Option<(PlanStatus, i64, String)> = tx
            .opt(
                q("SELECT status, round, name FROM training_plans WHERE tenant_id = $1 AND id = $2 AND institution_id = $3 AND status <> 'deleted'")
                    .bind(tenant)
                    .bind(*id)
                    .bind(institution.id),
            )
            .await?;
        let Some((status, round, name)) = row else { return Err(AppError::not_found()) };
        if !status.editable() {
            return Err(AppError::conflict("not_editable", format!("培训计划“{name}”已审核通过，不能删除")));
        }
        approvals::close_open_steps_tx(
            &mut tx,
            tenant,
            "training_plan",
            *id,
            round,
            &[approvals::StepStatus::Pending, approvals::StepStatus::Waiting],
            approvals::StepStatus::Withdrawn,
        )
        .await?;
        let changed = tx
            .run(
                q("UPDATE training_plans SET status = 'deleted', updated_at = $4 WHERE tenant_id = $1 AND id = $2 AND round = $3 \
                   AND status IN ('pending', 'rejected')")
                .bind(tenant)
                .bind(*id)
                .bind(round)
                .bind(Utc::now()),
            )
            .await?;
        if changed != 1 {
            return Err(AppError::conflict("already_decided", "培训计划状态已变化，请刷新后重试"));
        }
        audit::record_tx(&mut tx, tenant, Some(user.account.id), "plan.deleted", "training_plan", Some(*id), json!({"name": name})).await?;
    }
    tx.commit().await?;
    Ok(ids.len())
}

/// Messages every other active admin of the institution (the applicant gets the queue's own notice).
async fn tell_institution(tx: &mut Tx, tenant: &str, institution_id: i64, except: Option<i64>, notice: &Notice) -> Result<(), sqlx::Error> {
    let admins: Vec<(i64,)> = tx
        .all(
            q("SELECT id FROM accounts WHERE tenant_id = $1 AND org_id = $2 AND role = 'institution_admin' AND status = 'active' ORDER BY id")
                .bind(tenant)
                .bind(institution_id),
        )
        .await?;
    for (admin,) in admins.into_iter().filter(|(a,)| Some(*a) != except) {
        messages::send_tx(tx, tenant, admin, &notice.title, &notice.body).await?;
    }
    Ok(())
}

/// Training plans in the approval queue: the last step's approval approves the plan (classes may then
/// be opened under it); a rejection rejects it (the institution may edit and resubmit). Every decision
/// is told to the institution's other admins too.
#[derive(Default)]
pub struct Plans;

/// The plan a decision is about, if it is still the round being decided; and how messages name it.
async fn decided_plan(tx: &mut Tx, d: &Decided<'_>) -> Result<(Plan, String), AppError> {
    let plan = get_tx(tx, d.tenant, d.item.subject_id).await?;
    if plan.status != PlanStatus::Pending || plan.round != d.item.round {
        return Err(AppError::conflict("already_decided", "培训计划状态已变化，请刷新后重试"));
    }
    let what = format!("“{}”（{}，{} 年度）", plan.name, plan.subject_name, plan.year);
    Ok((plan, what))
}

/// Sets the plan's final status, inside the deciding transaction.
async fn set_decided(tx: &mut Tx, tenant: &str, id: i64, status: PlanStatus) -> Result<(), sqlx::Error> {
    tx.run(
        q("UPDATE training_plans SET status = $3, decided_at = $4, updated_at = $4 WHERE tenant_id = $1 AND id = $2 AND status = 'pending'")
            .bind(tenant)
            .bind(id)
            .bind(status)
            .bind(Utc::now()),
    )
    .await?;
    Ok(())
}

impl RequestKind for Plans {
    const CODE: &'static str = "plan";
    const LABEL: &'static str = "培训计划审核";
    const NOUN: &'static str = "培训计划";
    const OBJECT: &'static str = "plans";
    const DETAIL_TEMPLATE: &'static str = "approval_plan.html";
    const GROUPED: bool = true;
    const TRAIL: Option<Trail> =
        Some(Trail {
            forwarded: "plan.step_approved", approved: ("plan.approved", "审核通过"), rejected: "plan.rejected", returned: None
        });

    async fn forwarded(&self, tx: &mut Tx, d: &Decided<'_>, next: &str) -> Result<Notice, AppError> {
        let (plan, what) = decided_plan(tx, d).await?;
        let notice = Notice {
            title: "培训计划已通过一级审核".to_owned(),
            body: format!("培训计划{what}已通过{}审核，已提交{next}审核。", d.item.approver_org_name),
            mail: false,
        };
        tell_institution(tx, d.tenant, plan.institution_id, d.item.applicant_account_id, &notice).await?;
        Ok(notice)
    }

    async fn approved(&self, tx: &mut Tx, d: &Decided<'_>) -> Result<Notice, AppError> {
        let (plan, what) = decided_plan(tx, d).await?;
        set_decided(tx, d.tenant, plan.id, PlanStatus::Approved).await?;
        let notice = Notice {
            title: "培训计划已审核通过".to_owned(),
            body: format!("培训计划{what}已由{}审核通过，可以在此计划下开设培训班。", d.item.approver_org_name),
            mail: true,
        };
        tell_institution(tx, d.tenant, plan.institution_id, d.item.applicant_account_id, &notice).await?;
        Ok(notice)
    }

    async fn rejected(&self, tx: &mut Tx, d: &Decided<'_>) -> Result<Notice, AppError> {
        let (plan, what) = decided_plan(tx, d).await?;
        set_decided(tx, d.tenant, plan.id, PlanStatus::Rejected).await?;
        let notice = Notice {
            title: "培训计划未通过审核".to_owned(),
            body: format!("培训计划{what}未通过{}审核。原因：{}。可修改后重新提交。", d.item.approver_org_name, d.reason_text()),
            mail: true,
        };
        tell_institution(tx, d.tenant, plan.institution_id, d.item.applicant_account_id, &notice).await?;
        Ok(notice)
    }

    type Detail = PlanDetail;

    async fn detail(&self, state: &AppState, tenant: &str, item: &Approval) -> Result<PlanDetail, AppError> {
        history(state, tenant, item.subject_id).await
    }
}

/// The institution's own actions on a plan, as its trail shows them (the reviewers' are the engine's,
/// see [`Plans`]).
const ACTIONS: &[(&str, &str)] =
    &[("plan.created", "新增计划并送审"), ("plan.updated", "修改计划并重新送审"), ("plan.deleted", "删除计划")];

/// A plan with its current round's route and its audit trail.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlanDetail {
    #[serde(flatten)]
    pub plan: PlanView,
    /// The current round's route steps
    pub steps: Vec<approvals::StepView>,
    /// The audit trail, oldest first
    pub trail: Vec<approvals::TrailEntry>,
}

/// Everything about one plan (deleted ones too, for reviewers' history): the plan, its current round's
/// steps and the audit trail. The caller has checked visibility.
pub async fn history(state: &AppState, tenant: &str, id: i64) -> Result<PlanDetail, AppError> {
    let plan: Plan = state
        .db
        .opt(q(format!("{SELECT} {FROM} WHERE p.tenant_id = $1 AND p.id = $2")).bind(tenant).bind(id))
        .await?
        .ok_or_else(AppError::not_found)?;
    let steps = approvals::steps(&state.db, tenant, "training_plan", id, plan.round).await?;
    let trail = approvals::subject_trail(&state.db, tenant, "training_plan", id, ACTIONS, Plans::TRAIL).await?;
    Ok(PlanDetail { plan: plan.view(state.tenants.words(tenant)), steps, trail })
}

crate::paging::list_query! {
    #[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
    pub struct ListQuery {
        /// pending, approved or rejected
        pub status: Option<String>,
        /// 培训年度
        pub year: Option<i64>,
        /// 继续教育年度
        pub credit_year: Option<i64>,
        /// public or professional
        pub subject_kind: Option<String>,
        /// Plan or subject name contains
        pub q: Option<String>,
    }
}

/// The caller's institution's plans.
pub async fn list(state: &AppState, user: &CurrentUser, query: &ListQuery) -> Result<(Vec<Plan>, i64), AppError> {
    let institution = institution(state, user).await?;
    let mut filters = Filters::tenant("p.tenant_id", user.tenant_code());
    filters.and("p.institution_id = ?", institution.id);
    filters.and_sql("p.status <> 'deleted'");
    if let Some(status) = crate::codes::filter::<PlanStatus>(query.status.as_deref(), "status", "审核状态")? {
        filters.and("p.status = ?", status);
    }
    if let Some(year) = query.year {
        filters.and("p.year = ?", year);
    }
    if let Some(year) = query.credit_year {
        filters.and("p.credit_year = ?", year);
    }
    if let Some(kind) = query.subject_kind.as_deref().filter(|k| !k.is_empty()) {
        if !is_kind(kind) {
            return Err(AppError::bad_request("bad_filter", "科目类型无效"));
        }
        filters.and("p.subject_kind = ?", kind);
    }
    if let Some(text) = query.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        filters.contains(&["p.name", "s.name"], text);
    }
    let total = state.db.scalar(filters.count(FROM)).await?;
    let items = state.db.all(filters.page(&format!("{SELECT} {FROM}"), "p.id DESC", query.page, query.per_page())).await?;
    Ok((items, total))
}

/// One plan for its institution, with its route and trail.
pub async fn detail(state: &AppState, user: &CurrentUser, id: i64) -> Result<PlanDetail, AppError> {
    own(state, user, id).await?;
    history(state, user.tenant_code(), id).await
}
