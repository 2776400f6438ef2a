//! Offline training filings (线下培训备案, seed 002 《事业单位工作人员线下培训备案表》; each tenant's form
//! title is `[words] filing_form`): a unit or an industry
//! authority files an offline training with the form's fields; the tenant's rules plugin routes it
//! (request kind training-plan) — in Hunan professional trainings to the supervising department and
//! public ones to the HR department at the filer's level — and the reviewer accepts (approves) or rejects
//! it in the approvals queue (kind `filing`).
//!
//! Lifecycle: pending → accepted | rejected. The filer may withdraw a pending filing, edit one that is
//! not accepted (the edit resubmits it as a new round: the open step closes, the route opens again) and
//! delete it; an accepted filing is final (409). Deleted filings stay in the table as `deleted` for the
//! audit trail and the queue rows that name them.

pub mod api;
pub mod pages;
pub mod roster;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::approvals::{self, Approval, Decided, NewApproval, Notice, RequestKind, RouteOrg, Steps, Trail};
use crate::auth::CurrentUser;
use crate::db::{Db, Filters, Tx, q};
use crate::error::{AppError, FieldErrors};
use crate::orgs::OrgKind;
use crate::paging::Search;
use crate::rules::model::{RequestKind as RouteKind, Subject};
use crate::state::AppState;
use crate::tenancy::Words;
use crate::{audit, orgs};

crate::codes::code_enum! {
    /// Where a filing stands.
    pub enum FilingStatus {
        Pending = ("pending", "待受理"),
        Accepted = ("accepted", "已受理"),
        Rejected = ("rejected", "未通过"),
        Withdrawn = ("withdrawn", "已撤回"),
        /// Kept for the audit trail and the queue rows that name it; never listed.
        Deleted = ("deleted", "已删除"),
    }
}

impl FilingStatus {
    /// The statuses a filer can filter by (deleted ones are never listed).
    pub fn listed() -> impl Iterator<Item = FilingStatus> {
        FilingStatus::ALL.iter().copied().filter(|s| *s != FilingStatus::Deleted)
    }

    /// Whether the filer may still change the filing (edit, delete).
    fn changeable(self) -> bool {
        matches!(self, FilingStatus::Pending | FilingStatus::Rejected | FilingStatus::Withdrawn)
    }
}

/// Where a province lets the filer choose the deciding department (Henan, professional subjects).
const CHOICES: &[(&str, &str)] = &[("authority", "行业主管部门"), ("hr_bureau", "同级人社部门")];

/// Most filings one batch deletes (one transaction).
const BATCH_LIMIT: usize = 500;

fn label(table: &[(&'static str, &'static str)], code: &str) -> &'static str {
    table.iter().find(|(c, _)| *c == code).map_or("", |(_, l)| l)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = TrainingFiling)]
pub struct Filing {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub subject: String,
    pub institution: String,
    pub institution_address: String,
    pub postcode: String,
    pub email: Option<String>,
    pub leader_name: String,
    pub leader_title: String,
    pub leader_phone: String,
    pub contact_name: String,
    pub contact_title: String,
    pub contact_phone: String,
    pub name: String,
    pub start_date: String,
    pub end_date: String,
    pub year: i64,
    pub place: String,
    pub scope: String,
    pub participants: i64,
    pub plan: String,
    pub route_choice: Option<String>,
    pub status: FilingStatus,
    pub round: i64,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

const SELECT: &str = "SELECT f.id, f.org_id, o.name AS org_name, f.subject, f.institution, f.institution_address, f.postcode, f.email, \
     f.leader_name, f.leader_title, f.leader_phone, f.contact_name, f.contact_title, f.contact_phone, f.name, f.start_date, f.end_date, \
     f.year, f.place, f.scope, f.participants, f.plan, f.route_choice, f.status, f.round, f.created_by, f.created_at, f.updated_at, f.decided_at";
const FROM: &str = "FROM training_filings f JOIN orgs o ON o.tenant_id = f.tenant_id AND o.id = f.org_id";

/// A filing as the API and the pages show it: the form and the labels of its codes.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FilingView {
    #[serde(flatten)]
    pub filing: Filing,
    /// The subject kind in the tenant's words
    pub subject_label: String,
    pub status_label: &'static str,
    pub choice_label: Option<&'static str>,
    /// The filer may still edit or delete it
    pub changeable: bool,
}

impl Filing {
    pub fn view(&self, words: &Words) -> FilingView {
        FilingView {
            filing: self.clone(),
            subject_label: words.subject(&self.subject).to_owned(),
            status_label: self.status.label(),
            choice_label: self.route_choice.as_deref().map(|c| label(CHOICES, c)),
            changeable: self.changeable(),
        }
    }

    fn changeable(&self) -> bool {
        self.status.changeable()
    }

    /// The queue's one-line description of the filing.
    fn summary(&self, words: &Words) -> String {
        format!(
            "{} · {}（{}，{} 至 {}，{} 人）",
            self.org_name,
            self.name,
            words.subject(&self.subject),
            self.start_date,
            self.end_date,
            self.participants
        )
    }
}

/// The request body of `POST /filings` and `PUT /filings/{id}`: the seed's form. 申报单位 is the caller's
/// organisation.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct FilingBody {
    /// 培训科目: `public` (公共科目) or `professional` (专业科目)
    pub subject: String,
    /// 培训机构
    pub institution: String,
    /// 培训机构地址
    pub institution_address: String,
    /// 邮编 (6 digits)
    pub postcode: String,
    /// E-mail (optional)
    pub email: Option<String>,
    /// 培训负责人, 职务, 电话 (mobile or landline with area code)
    pub leader_name: String,
    pub leader_title: String,
    pub leader_phone: String,
    /// 培训联系人, 职务, 电话
    pub contact_name: String,
    pub contact_title: String,
    pub contact_phone: String,
    /// 培训名称
    pub name: String,
    /// 培训时间: first and last day, YYYY-MM-DD (the end not before the start)
    pub start_date: String,
    pub end_date: String,
    /// 培训地点
    pub place: String,
    /// 培训范围 (who is trained)
    pub scope: String,
    /// 人数: 1 to 100000
    pub participants: Option<i64>,
    /// 培训计划, at most 2000 characters
    pub plan: String,
    /// Where the province lets the filer choose the deciding department (Henan, professional subjects):
    /// `authority` or `hr_bureau`.
    pub choice: Option<String>,
}

/// A form that passed every check: trimmed texts and parsed values.
struct Checked {
    subject: Subject,
    year: i64,
    body: FilingBody,
}

fn subject_code(subject: Subject) -> &'static str {
    match subject {
        Subject::Public => "public",
        Subject::Professional => "professional",
    }
}

/// Mobile numbers (11 digits from 13x), landlines with an area code (0731-82821099, 073184900106,
/// optionally an extension), 400/800 service numbers and local 7–8 digit numbers.
fn valid_phone(phone: &str) -> bool {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let hyphens = phone.matches('-').count();
    if !phone.chars().all(|c| c.is_ascii_digit() || c == '-') || phone.starts_with('-') || phone.ends_with('-') || phone.contains("--") {
        return false;
    }
    let n = digits.len();
    let mobile = n == 11 && hyphens == 0 && digits.starts_with('1') && matches!(digits.as_bytes()[1], b'3'..=b'9');
    let landline = digits.starts_with('0') && (10..=16).contains(&n) && hyphens <= 2;
    let service = (digits.starts_with("400") || digits.starts_with("800")) && n == 10 && hyphens <= 2;
    let local = (7..=8).contains(&n) && hyphens == 0 && !digits.starts_with('0') && !digits.starts_with('1');
    mobile || landline || service || local
}

fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && email.chars().all(|c| c.is_ascii_graphic())
        && email.len() <= 100
}

fn date(text: &str) -> Option<NaiveDate> {
    (text.len() == 10).then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()).flatten()
}

/// Checks every field of the form; bad input is one 422 with a Chinese message per field.
fn check(body: &FilingBody, words: &Words) -> Result<Checked, AppError> {
    let mut errors = FieldErrors::default();
    let mut text = |key: &str, value: &str, name: &str, max: usize| -> String {
        let value = value.trim();
        if value.is_empty() {
            errors.add(key, format!("请填写{name}"));
        } else if value.chars().count() > max {
            errors.add(key, format!("{name}不能超过 {max} 字"));
        }
        value.to_owned()
    };
    let cleaned = FilingBody {
        subject: body.subject.trim().to_owned(),
        institution: text("institution", &body.institution, "培训机构", 100),
        institution_address: text("institution_address", &body.institution_address, "培训机构地址", 200),
        postcode: text("postcode", &body.postcode, "邮编", 20),
        email: body.email.as_deref().map(str::trim).filter(|e| !e.is_empty()).map(str::to_owned),
        leader_name: text("leader_name", &body.leader_name, "培训负责人", 50),
        leader_title: text("leader_title", &body.leader_title, "培训负责人职务", 50),
        leader_phone: text("leader_phone", &body.leader_phone, "培训负责人电话", 20),
        contact_name: text("contact_name", &body.contact_name, "培训联系人", 50),
        contact_title: text("contact_title", &body.contact_title, "培训联系人职务", 50),
        contact_phone: text("contact_phone", &body.contact_phone, "培训联系人电话", 20),
        name: text("name", &body.name, "培训名称", 100),
        start_date: text("start_date", &body.start_date, "培训开始日期", 20),
        end_date: text("end_date", &body.end_date, "培训结束日期", 20),
        place: text("place", &body.place, "培训地点", 200),
        scope: text("scope", &body.scope, "培训范围", 500),
        participants: body.participants,
        plan: text("plan", &body.plan, "培训计划", 2000),
        choice: super::optional_text(body.choice.as_deref()),
    };
    let subject = match cleaned.subject.as_str() {
        "public" => Some(Subject::Public),
        "professional" => Some(Subject::Professional),
        _ => {
            errors.add("subject", format!("请选择培训科目：{}或{}", words.public, words.professional));
            None
        }
    };
    let postcode_ok = cleaned.postcode.len() == 6 && cleaned.postcode.bytes().all(|b| b.is_ascii_digit());
    if !cleaned.postcode.is_empty() && !postcode_ok {
        errors.add("postcode", "邮编应为 6 位数字");
    }
    if cleaned.email.as_deref().is_some_and(|e| !valid_email(e)) {
        errors.add("email", "E-mail 格式不正确");
    }
    for (key, value, name) in
        [("leader_phone", &cleaned.leader_phone, "培训负责人电话"), ("contact_phone", &cleaned.contact_phone, "培训联系人电话")]
    {
        if !value.is_empty() && !valid_phone(value) {
            errors.add(key, format!("{name}格式不正确，请填写手机号或带区号的固定电话"));
        }
    }
    let this = crate::hours::this_year();
    let (first, last) = (this - 5, this + 1);
    let start = date(&cleaned.start_date);
    let end = date(&cleaned.end_date);
    for (key, value, parsed) in [("start_date", &cleaned.start_date, start), ("end_date", &cleaned.end_date, end)] {
        match parsed {
            None if !value.is_empty() => errors.add(key, "日期格式应为 YYYY-MM-DD"),
            Some(d) if !(first..=last).contains(&i64::from(d.year())) => errors.add(key, format!("培训时间应在 {first} 至 {last} 年之间")),
            _ => {}
        }
    }
    if let (Some(start), Some(end)) = (start, end)
        && end < start
    {
        errors.add("end_date", "结束日期不能早于开始日期");
    }
    match cleaned.participants {
        None => errors.add("participants", "请填写培训人数"),
        Some(n) if !(1..=100_000).contains(&n) => errors.add("participants", "培训人数应为 1 至 100000 的整数"),
        Some(_) => {}
    }
    if cleaned.choice.as_deref().is_some_and(|c| !CHOICES.iter().any(|(code, _)| *code == c)) {
        errors.add("choice", "审批部门无效：请选择行业主管部门或同级人社部门");
    }
    errors.finish()?;
    let year = start.map(|d| i64::from(d.year())).expect("checked above");
    Ok(Checked { subject: subject.expect("checked above"), year, body: cleaned })
}

/// The caller's organisation if it may file: casbin's `filings file`, and an employer unit or an
/// industry authority (the seed's 申报单位).
async fn filing_org(state: &AppState, user: &CurrentUser) -> Result<orgs::Org, AppError> {
    user.authorize(state, "filings", "file").await?;
    let org_id = user.account.org_id.ok_or_else(AppError::forbidden)?;
    let org = orgs::get(&state.db, user.tenant_code(), org_id).await?.ok_or_else(AppError::forbidden)?;
    if matches!(org.kind, OrgKind::Unit | OrgKind::Authority) { Ok(org) } else { Err(AppError::forbidden()) }
}

/// Asks the tenant's rules plugin where the filing goes. Its answers such as "choose the deciding
/// department" come back as field errors (422).
async fn route(state: &AppState, tenant: &str, org: &orgs::Org, checked: &Checked) -> Result<Steps, AppError> {
    let year = crate::hours::check_year(checked.year)?;
    approvals::route_for(
        state,
        tenant,
        &RouteOrg::from(org),
        year,
        RouteKind::TrainingPlan,
        Some(checked.subject),
        checked.body.choice.clone(),
    )
    .await
}

/// Opens the route of a filing's round in the queue; a route without steps (a province that wants no
/// review) accepts the filing at once.
async fn open_round_tx(tx: &mut Tx, state: &AppState, tenant: &str, filing: &Filing, steps: &Steps, actor: i64) -> Result<(), AppError> {
    approvals::open_route_tx::<Filings>(
        tx,
        &state.config,
        tenant,
        steps,
        NewApproval {
            subject_type: "filing",
            subject_id: filing.id,
            summary: filing.summary(state.tenants.words(tenant)),
            applicant_account_id: Some(actor),
            round: filing.round,
            declaring_org_id: Some(filing.org_id),
            ..Default::default()
        },
    )
    .await?;
    if steps.is_empty() {
        tx.run(
            q("UPDATE training_filings SET status = 'accepted', decided_at = $3 WHERE tenant_id = $1 AND id = $2 AND status = 'pending'")
                .bind(tenant)
                .bind(filing.id)
                .bind(Utc::now()),
        )
        .await?;
        audit::record_tx(
            tx,
            tenant,
            Some(actor),
            "filing.accepted",
            "filing",
            Some(filing.id),
            json!({"round": filing.round, "route": []}),
        )
        .await?;
    }
    Ok(())
}

async fn fetch_tx(tx: &mut Tx, tenant: &str, id: i64) -> Result<Option<Filing>, sqlx::Error> {
    tx.opt(q(format!("{SELECT} {FROM} WHERE f.tenant_id = $1 AND f.id = $2")).bind(tenant).bind(id)).await
}

/// A filing of the tenant, deleted ones included (the queue still names them).
pub async fn fetch(db: &Db, tenant: &str, id: i64) -> Result<Option<Filing>, sqlx::Error> {
    db.opt(q(format!("{SELECT} {FROM} WHERE f.tenant_id = $1 AND f.id = $2")).bind(tenant).bind(id)).await
}

/// The form's values in the column order both the insert and the update use (`subject` … `route_choice`).
fn form_values(checked: &Checked) -> Vec<crate::db::Value> {
    use crate::db::ToValue;
    let b = &checked.body;
    vec![
        subject_code(checked.subject).to_value(),
        b.institution.as_str().to_value(),
        b.institution_address.as_str().to_value(),
        b.postcode.as_str().to_value(),
        b.email.clone().to_value(),
        b.leader_name.as_str().to_value(),
        b.leader_title.as_str().to_value(),
        b.leader_phone.as_str().to_value(),
        b.contact_name.as_str().to_value(),
        b.contact_title.as_str().to_value(),
        b.contact_phone.as_str().to_value(),
        b.name.as_str().to_value(),
        b.start_date.as_str().to_value(),
        b.end_date.as_str().to_value(),
        checked.year.to_value(),
        b.place.as_str().to_value(),
        b.scope.as_str().to_value(),
        b.participants.unwrap_or_default().to_value(),
        b.plan.as_str().to_value(),
        b.choice.clone().to_value(),
    ]
}

/// Files an offline training for the caller's organisation and routes it. Bad input → 422 per field and
/// nothing stored.
pub async fn create(state: &AppState, user: &CurrentUser, body: &FilingBody) -> Result<Filing, AppError> {
    let tenant = user.tenant_code();
    let org = filing_org(state, user).await?;
    let checked = check(body, &user.tenant.tenant.settings.words)?;
    let steps = route(state, tenant, &org, &checked).await?;
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    let id = tx
        .scalar(
            q("INSERT INTO training_filings (tenant_id, org_id, subject, institution, institution_address, postcode, email, leader_name, \
               leader_title, leader_phone, contact_name, contact_title, contact_phone, name, start_date, end_date, year, place, scope, \
               participants, plan, route_choice, status, round, created_by, created_at, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, 'pending', 1, $23, $24, $24) \
               RETURNING id")
            .bind(tenant)
            .bind(org.id)
            .bind_all(form_values(&checked))
            .bind(user.account.id)
            .bind(now),
        )
        .await?;
    let filing = fetch_tx(&mut tx, tenant, id).await?.ok_or_else(AppError::not_found)?;
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "filing.created",
        "filing",
        Some(id),
        json!({"route": approvals::route_json(&steps)}),
    )
    .await?;
    open_round_tx(&mut tx, state, tenant, &filing, &steps, user.account.id).await?;
    tx.commit().await?;
    fetch(&state.db, tenant, id).await?.ok_or_else(AppError::not_found)
}

/// The filing if it belongs to the caller's organisation (and the caller may file); anyone else's is
/// "not found".
async fn own(state: &AppState, user: &CurrentUser, id: i64) -> Result<Filing, AppError> {
    let org = filing_org(state, user).await?;
    match fetch(&state.db, user.tenant_code(), id).await? {
        Some(filing) if filing.org_id == org.id && filing.status != FilingStatus::Deleted => Ok(filing),
        _ => Err(AppError::not_found()),
    }
}

/// Whether the caller may see the filing: its organisation's filers, and admins of an organisation on
/// its route once their step is open (a reviewer sees what they decide and what they decided).
async fn readable_by(state: &AppState, user: &CurrentUser, id: i64) -> Result<(Filing, bool), AppError> {
    let tenant = user.tenant_code();
    let files = user.can(state, "filings", "file").await;
    let reviews = user.can(state, "filings", "review").await;
    if !files && !reviews {
        return Err(AppError::forbidden());
    }
    let filing = fetch(&state.db, tenant, id).await?.filter(|f| f.status != FilingStatus::Deleted).ok_or_else(AppError::not_found)?;
    let Some(org) = user.account.org_id else { return Err(AppError::not_found()) };
    if files && filing.org_id == org {
        return Ok((filing, true));
    }
    if reviews && approvals::on_route(&state.db, tenant, "filing", id, org).await? {
        return Ok((filing, false));
    }
    Err(AppError::not_found())
}

fn not_changeable(filing: &Filing) -> AppError {
    match filing.status {
        FilingStatus::Accepted => AppError::conflict("already_accepted", format!("备案“{}”已受理，不能再修改、撤回或删除", filing.name)),
        _ => AppError::conflict("not_changeable", format!("备案“{}”当前状态不能执行此操作，请刷新后重试", filing.name)),
    }
}

/// Edits a filing that is not accepted and resubmits it as a new round: the open step closes and the
/// route (asked again: the subject may have changed) opens anew.
pub async fn update(state: &AppState, user: &CurrentUser, id: i64, body: &FilingBody) -> Result<Filing, AppError> {
    let tenant = user.tenant_code();
    let filing = own(state, user, id).await?;
    if !filing.changeable() {
        return Err(not_changeable(&filing));
    }
    let org = orgs::get(&state.db, tenant, filing.org_id).await?.ok_or_else(AppError::not_found)?;
    let checked = check(body, &user.tenant.tenant.settings.words)?;
    let steps = route(state, tenant, &org, &checked).await?;
    let mut tx = state.db.begin().await?;
    // The queue rows first, then the filing: the same lock order as a decision, so the two exclude
    // each other without deadlocking.
    approvals::close_open_steps_tx(
        &mut tx,
        tenant,
        "filing",
        id,
        filing.round,
        &[approvals::StepStatus::Pending, approvals::StepStatus::Waiting],
        approvals::StepStatus::Withdrawn,
    )
    .await?;
    let changed = tx
        .run(
            q("UPDATE training_filings SET subject = $4, institution = $5, institution_address = $6, postcode = $7, email = $8, \
               leader_name = $9, leader_title = $10, leader_phone = $11, contact_name = $12, contact_title = $13, contact_phone = $14, \
               name = $15, start_date = $16, end_date = $17, year = $18, place = $19, scope = $20, participants = $21, plan = $22, \
               route_choice = $23, status = 'pending', round = round + 1, updated_at = $24, decided_at = NULL \
               WHERE tenant_id = $1 AND id = $2 AND round = $3 AND status IN ('pending', 'rejected', 'withdrawn')")
            .bind(tenant)
            .bind(id)
            .bind(filing.round)
            .bind_all(form_values(&checked))
            .bind(Utc::now()),
        )
        .await?;
    if changed != 1 {
        return Err(not_changeable(&fetch_tx(&mut tx, tenant, id).await?.unwrap_or(filing)));
    }
    let updated = fetch_tx(&mut tx, tenant, id).await?.ok_or_else(AppError::not_found)?;
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "filing.updated",
        "filing",
        Some(id),
        json!({"round": updated.round, "route": approvals::route_json(&steps)}),
    )
    .await?;
    open_round_tx(&mut tx, state, tenant, &updated, &steps, user.account.id).await?;
    tx.commit().await?;
    fetch(&state.db, tenant, id).await?.ok_or_else(AppError::not_found)
}

/// Takes a pending filing back from the reviewers; it can be edited (resubmitted) or deleted later.
pub async fn withdraw(state: &AppState, user: &CurrentUser, id: i64) -> Result<Filing, AppError> {
    let tenant = user.tenant_code();
    let filing = own(state, user, id).await?;
    if filing.status != FilingStatus::Pending {
        return Err(if filing.status == FilingStatus::Accepted {
            not_changeable(&filing)
        } else {
            AppError::conflict("not_pending", format!("备案“{}”不在受理中，无需撤回", filing.name))
        });
    }
    let mut tx = state.db.begin().await?;
    approvals::close_open_steps_tx(
        &mut tx,
        tenant,
        "filing",
        id,
        filing.round,
        &[approvals::StepStatus::Pending, approvals::StepStatus::Waiting],
        approvals::StepStatus::Withdrawn,
    )
    .await?;
    let changed = tx
        .run(
            q("UPDATE training_filings SET status = 'withdrawn', updated_at = $4 WHERE tenant_id = $1 AND id = $2 AND round = $3 AND status = 'pending'")
                .bind(tenant)
                .bind(id)
                .bind(filing.round)
                .bind(Utc::now()),
        )
        .await?;
    if changed != 1 {
        return Err(not_changeable(&fetch_tx(&mut tx, tenant, id).await?.unwrap_or(filing)));
    }
    audit::record_tx(&mut tx, tenant, Some(user.account.id), "filing.withdrawn", "filing", Some(id), json!({"round": filing.round}))
        .await?;
    tx.commit().await?;
    fetch(&state.db, tenant, id).await?.ok_or_else(AppError::not_found)
}

/// Deletes the caller's organisation's filings, all or none (one transaction): a filing that is not the
/// caller's is "not found", an accepted one a conflict. Returns how many were deleted.
pub async fn delete(state: &AppState, user: &CurrentUser, ids: &[i64]) -> Result<usize, AppError> {
    let tenant = user.tenant_code();
    let org = filing_org(state, user).await?;
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Err(AppError::invalid([("ids".to_owned(), "请至少选择一条备案".to_owned())].into()));
    }
    if ids.len() > BATCH_LIMIT {
        return Err(AppError::invalid([("ids".to_owned(), format!("一次最多删除 {BATCH_LIMIT} 条"))].into()));
    }
    let mut tx = state.db.begin().await?;
    for id in &ids {
        let filing = match fetch_tx(&mut tx, tenant, *id).await? {
            Some(f) if f.org_id == org.id && f.status != FilingStatus::Deleted => f,
            _ => return Err(AppError::not_found()),
        };
        if !filing.changeable() {
            return Err(not_changeable(&filing));
        }
        approvals::close_open_steps_tx(
            &mut tx,
            tenant,
            "filing",
            *id,
            filing.round,
            &[approvals::StepStatus::Pending, approvals::StepStatus::Waiting],
            approvals::StepStatus::Withdrawn,
        )
        .await?;
        let changed = tx
            .run(
                q("UPDATE training_filings SET status = 'deleted', updated_at = $3 WHERE tenant_id = $1 AND id = $2 \
                   AND status IN ('pending', 'rejected', 'withdrawn')")
                .bind(tenant)
                .bind(*id)
                .bind(Utc::now()),
            )
            .await?;
        if changed != 1 {
            return Err(not_changeable(&filing));
        }
        audit::record_tx(&mut tx, tenant, Some(user.account.id), "filing.deleted", "filing", Some(*id), json!({"status": filing.status}))
            .await?;
    }
    tx.commit().await?;
    Ok(ids.len())
}

/// Offline training filings in the approval queue: the last step's approval accepts the filing, a
/// rejection ends the round (the organisation may edit and resubmit).
#[derive(Default)]
pub struct Filings;

/// How the organisation's messages name the filing a decision is about.
async fn decided_filing(tx: &mut Tx, d: &Decided<'_>) -> Result<String, AppError> {
    let filing = fetch_tx(tx, d.tenant, d.item.subject_id).await?.ok_or_else(AppError::not_found)?;
    Ok(format!("“{}”（{}，{} 至 {}）", filing.name, d.words.subject(&filing.subject), filing.start_date, filing.end_date))
}

/// Ends the decided round with `status`, unless the filing changed meanwhile (then 409).
async fn set_decided(tx: &mut Tx, d: &Decided<'_>, status: FilingStatus) -> Result<(), AppError> {
    let changed = tx
        .run(
            q("UPDATE training_filings SET status = $4, decided_at = $5, updated_at = $5 WHERE tenant_id = $1 AND id = $2 AND round = $3 AND status = 'pending'")
                .bind(d.tenant)
                .bind(d.item.subject_id)
                .bind(d.item.round)
                .bind(status)
                .bind(Utc::now()),
        )
        .await?;
    if changed != 1 {
        return Err(AppError::conflict("already_decided", "备案状态已变化，请刷新后重试"));
    }
    Ok(())
}

impl RequestKind for Filings {
    const CODE: &'static str = "filing";
    const LABEL: &'static str = "线下培训备案审核";
    const NOUN: &'static str = "线下培训备案";
    const OBJECT: &'static str = "filings";
    const DETAIL_TEMPLATE: &'static str = "approval_filing.html";
    const GROUPED: bool = true;
    const TRAIL: Option<Trail> = Some(Trail {
        forwarded: "filing.step_accepted",
        approved: ("filing.accepted", "已受理"),
        rejected: "filing.rejected",
        returned: None,
    });

    async fn forwarded(&self, tx: &mut Tx, d: &Decided<'_>, next: &str) -> Result<Notice, AppError> {
        let what = decided_filing(tx, d).await?;
        Ok(Notice {
            title: "线下培训备案已通过一级审核".to_owned(),
            body: format!("您单位的线下培训备案{what}已通过{}审核，已提交{next}受理。", d.item.approver_org_name),
            mail: false,
        })
    }

    async fn approved(&self, tx: &mut Tx, d: &Decided<'_>) -> Result<Notice, AppError> {
        let what = decided_filing(tx, d).await?;
        set_decided(tx, d, FilingStatus::Accepted).await?;
        Ok(Notice {
            title: "线下培训备案已受理".to_owned(),
            body: format!("您单位的线下培训备案{what}已由{}受理。", d.item.approver_org_name),
            mail: false,
        })
    }

    async fn rejected(&self, tx: &mut Tx, d: &Decided<'_>) -> Result<Notice, AppError> {
        let what = decided_filing(tx, d).await?;
        set_decided(tx, d, FilingStatus::Rejected).await?;
        Ok(Notice {
            title: "线下培训备案未通过".to_owned(),
            body: format!(
                "您单位的线下培训备案{what}未通过{}审核。原因：{}。可修改后重新提交。",
                d.item.approver_org_name,
                d.reason_text()
            ),
            mail: false,
        })
    }

    type Detail = FilingHistory;

    async fn detail(&self, state: &AppState, tenant: &str, item: &Approval) -> Result<FilingHistory, AppError> {
        history(state, tenant, item.subject_id).await
    }
}

/// The organisation's own actions on a filing, as its trail shows them (the reviewers' are the
/// engine's, see [`Filings`]).
const ACTIONS: &[(&str, &str)] = &[
    ("filing.created", "提交备案"),
    ("filing.updated", "修改并重新提交"),
    ("filing.withdrawn", "撤回备案"),
    ("filing.deleted", "删除备案"),
    ("filing.roster_uploaded", "上传参训人员学时名单"),
    ("filing.roster_withdrawn", "撤回学时名单"),
    ("filing.roster_confirmed", "确认学时名单，学时已登记"),
    ("filing.roster_returned", "退回学时名单"),
];

/// Everything about one filing: the form, the current round's route and the audit trail.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FilingHistory {
    pub filing: FilingView,
    /// The current round's route steps
    pub steps: Vec<approvals::StepView>,
    /// The audit trail, oldest first
    pub trail: Vec<approvals::TrailEntry>,
}

/// One filing's [`FilingHistory`]; the caller has checked visibility.
pub async fn history(state: &AppState, tenant: &str, id: i64) -> Result<FilingHistory, AppError> {
    let filing = fetch(&state.db, tenant, id).await?.ok_or_else(AppError::not_found)?;
    let steps = approvals::steps(&state.db, tenant, "filing", id, filing.round).await?;
    let trail = approvals::subject_trail(&state.db, tenant, "filing", id, ACTIONS, Filings::TRAIL).await?;
    Ok(FilingHistory { filing: filing.view(state.tenants.words(tenant)), steps, trail })
}

/// A filing with what the caller may do with it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FilingDetail {
    #[serde(flatten)]
    pub history: FilingHistory,
    /// The caller is of the filing organisation (not a reviewer)
    pub filer: bool,
    pub can_edit: bool,
    pub can_withdraw: bool,
    pub can_delete: bool,
}

/// A filing for its organisation's filers or a reviewer on its route, with what the caller may do.
pub async fn detail(state: &AppState, user: &CurrentUser, id: i64) -> Result<FilingDetail, AppError> {
    let (filing, filer) = readable_by(state, user, id).await?;
    Ok(FilingDetail {
        history: history(state, user.tenant_code(), id).await?,
        filer,
        can_edit: filer && filing.changeable(),
        can_withdraw: filer && filing.status == FilingStatus::Pending,
        can_delete: filer && filing.changeable(),
    })
}

crate::paging::list_query! {
    #[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
    pub struct ListQuery {
        /// The training's year (its start date's)
        pub year: Option<i64>,
        /// public or professional
        pub subject: Option<String>,
        /// pending, accepted, rejected or withdrawn
        pub status: Option<String>,
        /// 培训名称 contains
        pub q: Option<String>,
    }
}

/// The caller's organisation's filings, newest first.
pub async fn list(state: &AppState, user: &CurrentUser, query: &ListQuery) -> Result<(Vec<Filing>, i64), AppError> {
    let org = filing_org(state, user).await?;
    let mut filters = Filters::tenant("f.tenant_id", user.tenant_code());
    filters.and("f.org_id = ?", org.id).and_sql("f.status <> 'deleted'");
    if let Some(year) = query.year {
        filters.and("f.year = ?", year);
    }
    if let Some(subject) = query.subject.as_deref().filter(|s| !s.is_empty()) {
        if !crate::tenancy::SUBJECT_CODES.contains(&subject) {
            return Err(AppError::bad_request("bad_subject", "培训科目无效"));
        }
        filters.and("f.subject = ?", subject);
    }
    if let Some(status) = crate::codes::filter::<FilingStatus>(query.status.as_deref(), "status", "备案状态")? {
        filters.and("f.status = ?", status);
    }
    if let Some(text) = query.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        filters.contains(&["f.name"], text);
    }
    let total = state.db.scalar(filters.count(FROM)).await?;
    let items = state.db.all(filters.page(&format!("{SELECT} {FROM}"), "f.id DESC", query.page, query.per_page())).await?;
    Ok((items, total))
}
