//! Staff (专业技术人员 / 事业单位工作人员): registration under a unit, profiles.

pub mod admin;
pub mod api;
pub mod pages;

use crate::approvals::{self, NewApproval, RouteOrg};
use crate::auth::{self, AccountStatus, NewAccount, Role, password};
use crate::db::{Db, Tx, q};
use crate::error::{AppError, FieldErrors, ResultExt, field_error};
use crate::ids;
use crate::orgs::registration::Registrations;
use crate::orgs::{self, Org};
use crate::orgs::{OrgKind, OrgStatus};
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use chrono::{Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub const TITLE_LEVELS: &[&str] = &["senior", "deputy_senior", "intermediate", "junior", "assistant", "none"];
pub const POSTS: &[&str] = &["management", "technical", "worker"];

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct StaffRegistration {
    pub name: String,
    pub id_number: String,
    pub password: String,
    /// male or female
    pub gender: String,
    pub ethnicity: Option<String>,
    pub phone: String,
    pub email: String,
    pub native_place: String,
    pub education: String,
    pub major: String,
    pub school: String,
    /// YYYY-MM-DD
    pub graduated_on: String,
    pub unit_id: Option<i64>,
    pub department_id: Option<i64>,
    pub title: String,
    /// senior, deputy_senior, intermediate, junior, assistant or none
    pub title_level: String,
    pub title_date: Option<String>,
    /// management, technical or worker
    pub post: String,
}

/// Profile fields a person may change themselves: never name, ID number or unit (seed 003).
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ProfileUpdate {
    pub ethnicity: Option<String>,
    pub phone: String,
    pub email: String,
    pub native_place: String,
    pub education: String,
    pub major: String,
    pub school: String,
    pub graduated_on: String,
    pub department_id: Option<i64>,
    pub title: String,
    pub title_level: String,
    pub title_date: Option<String>,
    pub post: String,
}

pub(crate) fn required(errors: &mut FieldErrors, field: &str, value: &str, label: &str, max: usize) {
    let len = value.trim().chars().count();
    if len == 0 {
        errors.add(field, format!("请填写{label}"));
    } else if len > max {
        errors.add(field, format!("{label}不能超过 {max} 个字"));
    } else if value.trim().starts_with(['=', '+', '-', '@']) {
        // Text a spreadsheet would run as a formula when an admin opens an export.
        errors.add(field, format!("{label}不能以 =、+、-、@ 开头"));
    }
}

pub(crate) fn check_phone(errors: &mut FieldErrors, phone: &str) {
    let p = phone.trim();
    if p.is_empty() {
        errors.add("phone", "请填写手机号码");
    } else if !(p.len() == 11 && p.starts_with('1') && p.bytes().all(|b| b.is_ascii_digit())) {
        errors.add("phone", "手机号码应为 11 位数字");
    }
}

pub(crate) fn check_email(errors: &mut FieldErrors, email: &str) {
    let e = email.trim();
    let valid = e.len() <= 100
        && e.split_once('@')
            .is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'))
        && !e.contains(char::is_whitespace);
    if e.is_empty() {
        errors.add("email", "请填写电子邮箱");
    } else if !valid {
        errors.add("email", "电子邮箱格式不正确");
    }
}

pub(crate) fn check_name(errors: &mut FieldErrors, field: &str, name: &str) {
    let n = name.trim();
    let len = n.chars().count();
    if len == 0 {
        errors.add(field, "请填写姓名");
    } else if !(2..=30).contains(&len) || !is_personal_name(n) {
        errors.add(field, "姓名应为 2 到 30 个字，只能含文字、间隔号“·”和空格");
    }
}

/// A person's name as identity documents write it: letters of any script (Han, Tibetan, Uyghur, Latin…)
/// with middle dots, spaces, Tibetan syllable marks and inner hyphens or points (罗伯特·布朗, Jean-Luc). No digits, symbols or
/// formula text such as `=HYPERLINK(…)`.
fn is_personal_name(name: &str) -> bool {
    let inner = |c: char| matches!(c, '·' | '•' | '．' | '.' | ' ' | '-' | '\u{0F0B}');
    name.chars().next().is_some_and(char::is_alphabetic)
        && name.chars().all(|c| (c.is_alphabetic() && !c.is_ascii_digit()) || inner(c) || is_combining_mark(c))
}

/// Marks that some scripts (Tibetan, Uyghur, Mongolian) write on a letter: part of a name, not symbols.
fn is_combining_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x0610..=0x061A | 0x064B..=0x065F | 0x0670 | 0x06D6..=0x06ED | 0x0F71..=0x0F84 | 0x180B..=0x180D)
}

fn parse_past_date(errors: &mut FieldErrors, field: &str, value: &str, label: &str, required: bool) -> Option<NaiveDate> {
    let v = value.trim();
    if v.is_empty() {
        if required {
            errors.add(field, format!("请填写{label}"));
        }
        return None;
    }
    match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        Ok(d) if d <= Utc::now().date_naive() && d.year_ce().1 >= 1940 => Some(d),
        Ok(_) => {
            errors.add(field, format!("{label}不在有效范围内"));
            None
        }
        Err(_) => {
            errors.add(field, format!("{label}格式应为 年-月-日，如 2010-07-01"));
            None
        }
    }
}

async fn in_basic_data(db: &Db, tenant: &str, kind: &str, code: &str) -> Result<bool, sqlx::Error> {
    db.exists(
        q("SELECT 1 FROM basic_data WHERE tenant_id = $1 AND kind = $2 AND code = $3 AND enabled = $4")
            .bind(tenant)
            .bind(kind)
            .bind(code)
            .bind(true),
    )
    .await
}

/// Checks the fields a person may edit; shared by registration and profile update.
async fn check_editable(db: &Db, tenant: &str, p: &ProfileUpdate, unit: Option<&Org>, errors: &mut FieldErrors) -> Result<Dates, AppError> {
    check_phone(errors, &p.phone);
    check_email(errors, &p.email);
    required(errors, "native_place", &p.native_place, "籍贯", 50);
    required(errors, "major", &p.major, "所学专业", 50);
    required(errors, "school", &p.school, "毕业院校", 100);
    required(errors, "title", &p.title, "职称（没有职称请填“无”）", 50);
    if p.education.trim().is_empty() {
        errors.add("education", "请选择最高学历");
    } else if !in_basic_data(db, tenant, "education", &p.education).await? {
        errors.add("education", "最高学历无效");
    }
    if let Some(e) = p.ethnicity.as_deref().filter(|e| !e.is_empty())
        && !in_basic_data(db, tenant, "ethnicity", e).await?
    {
        errors.add("ethnicity", "民族无效");
    }
    if !TITLE_LEVELS.contains(&p.title_level.as_str()) {
        errors.add("title_level", "请选择职称等级");
    }
    if !POSTS.contains(&p.post.as_str()) {
        errors.add("post", "请选择岗位类别");
    }
    let graduated_on = parse_past_date(errors, "graduated_on", &p.graduated_on, "毕业时间", true);
    let title_date = parse_past_date(errors, "title_date", p.title_date.as_deref().unwrap_or(""), "职称获取时间", false);
    if let (Some(department), Some(unit)) = (p.department_id, unit) {
        let ok = db
            .exists(
                q("SELECT 1 FROM orgs WHERE tenant_id = $1 AND id = $2 AND kind = 'department' AND parent_id = $3 AND status = 'active'")
                    .bind(tenant)
                    .bind(department)
                    .bind(unit.id),
            )
            .await?;
        if !ok {
            errors.add("department_id", "所选部门不属于该单位");
        }
    }
    Ok(Dates { graduated_on, title_date })
}

struct Dates {
    graduated_on: Option<NaiveDate>,
    title_date: Option<NaiveDate>,
}

impl StaffRegistration {
    fn editable(&self) -> ProfileUpdate {
        ProfileUpdate {
            ethnicity: self.ethnicity.clone(),
            phone: self.phone.clone(),
            email: self.email.clone(),
            native_place: self.native_place.clone(),
            education: self.education.clone(),
            major: self.major.clone(),
            school: self.school.clone(),
            graduated_on: self.graduated_on.clone(),
            department_id: self.department_id,
            title: self.title.clone(),
            title_level: self.title_level.clone(),
            title_date: self.title_date.clone(),
            post: self.post.clone(),
        }
    }
}

/// The outcome of a registration.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Registered {
    pub account_id: i64,
    /// `active`, or `pending` while the registration waits for approval
    pub status: AccountStatus,
    /// The organisation that approves the registration, if one must
    pub approver: Option<String>,
    /// A rejected registration corrected and submitted again (same ID number and password).
    pub resubmitted: bool,
}

/// Registers a staff member under a unit. Everything is validated first; then person, account and (if
/// the province requires it) the approval request are written in one transaction.
pub async fn register_staff(state: &AppState, tenant: &TenantCtx, input: &StaffRegistration) -> Result<Registered, AppError> {
    let code = tenant.code();
    let db = &state.db;
    let mut errors = FieldErrors::default();
    check_name(&mut errors, "name", &input.name);
    let id_number = match ids::check_id_number(&input.id_number) {
        Ok(id) => Some(id),
        Err(msg) => {
            errors.add("id_number", if input.id_number.trim().is_empty() { "请填写身份证号码" } else { msg });
            None
        }
    };
    if !matches!(input.gender.as_str(), "male" | "female") {
        errors.add("gender", "请选择性别");
    } else if let Some(id) = &id_number
        && ids::gender_of(id) != input.gender
    {
        errors.add("gender", "性别与身份证号码不一致");
    }
    if let Err(msg) = password::check_policy(&input.password, id_number.as_deref().unwrap_or("")) {
        errors.add("password", msg);
    }
    let unit = match input.unit_id {
        Some(id) => orgs::get(db, code, id).await?.filter(|o| o.kind == OrgKind::Unit && o.status == OrgStatus::Active),
        None => None,
    };
    if unit.is_none() {
        errors.add("unit_id", "请选择所在单位");
    }
    let dates = check_editable(db, code, &input.editable(), unit.as_ref(), &mut errors).await?;
    // A rejected registration is corrected and submitted again under the same ID number, proven by the
    // password it was registered with.
    let rejected: Option<(i64, i64, String)> = match &id_number {
        Some(id) => {
            db.opt(
                q("SELECT id, person_id, password_hash FROM accounts WHERE tenant_id = $1 AND user_type = 'staff' AND id_number = $2 \
                   AND status = 'rejected' AND person_id IS NOT NULL")
                .bind(code)
                .bind(id),
            )
            .await?
        }
        None => None,
    };
    let resubmission = match &rejected {
        Some((account_id, person_id, hash)) if password::verify(&input.password, Some(hash)).await => Some((*account_id, *person_id)),
        Some(_) => {
            errors.add("password", "该身份证号码的注册未通过审核：请填写注册时设置的密码，修改信息后重新提交");
            None
        }
        None => None,
    };
    if rejected.is_none()
        && let Some(id) = &id_number
        && (db.exists(q("SELECT 1 FROM people WHERE tenant_id = $1 AND id_number = $2").bind(code).bind(id)).await?
            || db
                .exists(q("SELECT 1 FROM accounts WHERE tenant_id = $1 AND user_type = 'staff' AND id_number = $2").bind(code).bind(id))
                .await?)
    {
        errors.add("id_number", "该身份证号码已注册，请直接登录或找回密码");
    }
    errors.finish()?;
    let (Some(id_number), Some(unit)) = (id_number, unit) else { unreachable!("checked above") };

    let approver = staff_approver(state, code, &unit).await?;
    if let Some((account_id, person_id)) = resubmission {
        return resubmit_staff(state, code, input, (account_id, person_id), &id_number, &unit, &dates, approver).await;
    }
    let status = if approver.is_some() { AccountStatus::Pending } else { AccountStatus::Active };
    let hash = password::hash(&input.password).await?;
    let mut tx = db.begin().await?;
    let account_id = write_staff(&mut tx, code, input, &id_number, &unit, &dates, status, &hash, approver.as_ref())
        .await
        .on_duplicate(|| field_error("id_number", "该身份证号码已注册，请直接登录或找回密码"))?;
    crate::audit::record_tx(
        &mut tx,
        code,
        Some(account_id),
        "registration.staff",
        "account",
        Some(account_id),
        json!({"unit_id": unit.id, "status": status}),
    )
    .await?;
    if let Some(approver) = &approver {
        approvals::schedule_digest_tx(&mut tx, &state.config, code, approver.id).await?;
    }
    tx.commit().await?;
    Ok(Registered { account_id, status, approver: approver.map(|o| o.name), resubmitted: false })
}

/// Writes the corrected fields of a rejected registration over the person and the account and opens a
/// new round of its approval (active at once where the province approves none).
#[allow(clippy::too_many_arguments)]
async fn resubmit_staff(
    state: &AppState,
    code: &str,
    input: &StaffRegistration,
    (account_id, person_id): (i64, i64),
    id_number: &str,
    unit: &Org,
    dates: &Dates,
    approver: Option<RouteOrg>,
) -> Result<Registered, AppError> {
    let status = if approver.is_some() { AccountStatus::Pending } else { AccountStatus::Active };
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    let assignments: Vec<String> = REGISTERED_COLUMNS.split(", ").enumerate().map(|(i, column)| format!("{column} = ${}", i + 3)).collect();
    let update = q(format!("UPDATE people SET {}, updated_at = $19 WHERE tenant_id = $1 AND id = $2", assignments.join(", ")))
        .bind(code)
        .bind(person_id);
    tx.run(bind_registered(update, input, unit.id, dates).bind(now)).await?;
    let changed = tx
        .run(
            q("UPDATE accounts SET name = $3, phone = $4, email = $5, org_id = $6, status = $7 WHERE tenant_id = $1 AND id = $2 AND status = 'rejected'")
                .bind(code)
                .bind(account_id)
                .bind(input.name.trim())
                .bind(input.phone.trim())
                .bind(input.email.trim())
                .bind(unit.id)
                .bind(status),
        )
        .await?;
    if changed != 1 {
        return Err(AppError::conflict("already_resubmitted", "该注册已重新提交，请等待审核"));
    }
    if let Some(approver) = &approver {
        let round = tx.scalar(approvals::latest_round(code, "account", account_id)).await? + 1;
        approvals::open_tx::<Registrations>(
            &mut tx,
            code,
            NewApproval {
                subject_type: "account",
                subject_id: account_id,
                summary: format!("专技人员 {} {}（{}，重新提交）", input.name.trim(), ids::mask_id_number(id_number), unit.name),
                applicant_account_id: Some(account_id),
                approver_org_id: approver.id,
                declaring_org_id: Some(unit.id),
                round,
                ..Default::default()
            },
        )
        .await?;
        approvals::schedule_digest_tx(&mut tx, &state.config, code, approver.id).await?;
    }
    crate::audit::record_tx(
        &mut tx,
        code,
        Some(account_id),
        "registration.resubmitted",
        "account",
        Some(account_id),
        json!({"unit_id": unit.id, "status": status}),
    )
    .await?;
    tx.commit().await?;
    Ok(Registered { account_id, status, approver: approver.map(|o| o.name), resubmitted: true })
}

/// Why the account's registration was last rejected, for the person who proved they own it.
pub async fn rejection_reason(db: &Db, tenant: &str, account_id: i64) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(Option<String>,)> = db
        .opt(
            q("SELECT reason FROM approvals WHERE tenant_id = $1 AND status = 'rejected' \
               AND ((subject_type = 'account' AND subject_id = $2) OR (subject_type = 'org' AND applicant_account_id = $2)) \
               ORDER BY decided_at DESC, id DESC LIMIT 1")
            .bind(tenant)
            .bind(account_id),
        )
        .await?;
    Ok(row.and_then(|r| r.0))
}

/// The person's columns a registration writes (after `tenant_id` and `id_number` or the id), bound as
/// `$3`…`$18` by [`bind_registered`].
const REGISTERED_COLUMNS: &str = "name, gender, ethnicity, phone, email, native_place, education, major, school, graduated_on, unit_id, \
     department_id, title, title_level, title_date, post";

/// Binds a registration's values in the order of [`REGISTERED_COLUMNS`].
fn bind_registered(query: crate::db::Query, input: &StaffRegistration, unit_id: i64, dates: &Dates) -> crate::db::Query {
    query
        .bind(input.name.trim())
        .bind(&input.gender)
        .bind(input.ethnicity.clone().filter(|e| !e.is_empty()))
        .bind(input.phone.trim())
        .bind(input.email.trim())
        .bind(input.native_place.trim())
        .bind(&input.education)
        .bind(input.major.trim())
        .bind(input.school.trim())
        .bind(dates.graduated_on)
        .bind(unit_id)
        .bind(input.department_id)
        .bind(input.title.trim())
        .bind(&input.title_level)
        .bind(dates.title_date)
        .bind(&input.post)
}

#[allow(clippy::too_many_arguments)]
async fn write_staff(
    tx: &mut Tx,
    code: &str,
    input: &StaffRegistration,
    id_number: &str,
    unit: &Org,
    dates: &Dates,
    status: AccountStatus,
    hash: &str,
    approver: Option<&RouteOrg>,
) -> Result<i64, sqlx::Error> {
    let now = Utc::now();
    let insert = q(format!(
        "INSERT INTO people (tenant_id, id_number, {REGISTERED_COLUMNS}, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19) RETURNING id"
    ))
    .bind(code)
    .bind(id_number);
    let person_id = tx.scalar(bind_registered(insert, input, unit.id, dates).bind(now)).await?;
    let account_id = auth::insert_account(
        tx,
        code,
        NewAccount {
            user_type: "staff",
            id_number,
            name: input.name.trim(),
            phone: Some(input.phone.trim()),
            email: Some(input.email.trim()),
            org_id: Some(unit.id),
            person_id: Some(person_id),
            role: Role::Staff,
            status,
            password_hash: hash,
            must_change_password: false,
        },
    )
    .await?;
    if let Some(approver) = approver {
        approvals::open_tx::<Registrations>(
            tx,
            code,
            NewApproval {
                subject_type: "account",
                subject_id: account_id,
                summary: format!("专技人员 {} {}（{}）", input.name.trim(), ids::mask_id_number(id_number), unit.name),
                applicant_account_id: Some(account_id),
                approver_org_id: approver.id,
                declaring_org_id: Some(unit.id),
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(account_id)
}

/// Who approves a staff registration: the first step of the route the tenant's rules plugin gives for
/// this year (Hunan: nobody, active at once; Henan: the unit; Hubei: the supervising authority).
async fn staff_approver(state: &AppState, code: &str, unit: &Org) -> Result<Option<RouteOrg>, AppError> {
    use crate::rules::model::{Applicant, RequestKind, RouteInput};
    let year = u16::try_from(chrono::Datelike::year(&chrono::Utc::now())).map_err(AppError::internal)?;
    let rules = state.rules.for_tenant_year(code, year)?;
    let request = RouteInput {
        year: None,
        kind: RequestKind::StaffRegistration,
        subject: None,
        applicant: Applicant { level: approvals::org_level(&unit.level) },
        choice: None,
    };
    let route = rules.blocking(move |r| r.route(&request)).await?;
    match route.steps.first() {
        None => Ok(None),
        Some(step) => Ok(Some(approvals::resolve_step(&state.db, code, &RouteOrg::from(unit), step).await?)),
    }
}

/// A staff member's profile (the API and pages show the ID number masked).
#[derive(Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Profile {
    pub id: i64,
    pub id_number: String,
    pub name: String,
    pub gender: String,
    pub ethnicity: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub native_place: Option<String>,
    pub education: Option<String>,
    pub major: Option<String>,
    pub school: Option<String>,
    pub graduated_on: Option<NaiveDate>,
    pub unit_id: i64,
    pub unit_name: String,
    pub department_id: Option<i64>,
    pub department_name: Option<String>,
    pub title: Option<String>,
    pub title_level: String,
    pub title_series: Option<String>,
    pub title_date: Option<NaiveDate>,
    pub post: String,
}

/// The person's profile if the person belongs to a unit in `scope` (an admin's `LIKE` pattern on the
/// regional or supervision path); `None` both for nobody and for someone outside the scope.
pub async fn profile_in_scope(db: &Db, tenant: &str, scope: &str, person_id: i64) -> Result<Option<Profile>, sqlx::Error> {
    let visible = db
        .exists(
            q(format!(
                "SELECT 1 FROM people p JOIN orgs u ON u.tenant_id = p.tenant_id AND u.id = p.unit_id WHERE p.tenant_id = $1 AND p.id = $2 AND {}",
                orgs::in_scope("u", 3)
            ))
            .bind(tenant)
            .bind(person_id)
            .bind(scope.to_owned()),
        )
        .await?;
    if !visible {
        return Ok(None);
    }
    profile(db, tenant, person_id).await
}

pub async fn profile(db: &Db, tenant: &str, person_id: i64) -> Result<Option<Profile>, sqlx::Error> {
    db.opt(
        q("SELECT p.id, p.id_number, p.name, p.gender, p.ethnicity, p.phone, p.email, p.native_place, p.education, p.major, p.school, \
           p.graduated_on, p.unit_id, u.name AS unit_name, p.department_id, d.name AS department_name, p.title, p.title_level, p.title_series, p.title_date, p.post \
           FROM people p JOIN orgs u ON u.tenant_id = p.tenant_id AND u.id = p.unit_id \
           LEFT JOIN orgs d ON d.tenant_id = p.tenant_id AND d.id = p.department_id \
           WHERE p.tenant_id = $1 AND p.id = $2")
        .bind(tenant)
        .bind(person_id),
    )
    .await
}

/// The profile as others see it: the ID number masked.
pub async fn masked_profile(db: &Db, tenant: &str, person_id: i64) -> Result<Option<Profile>, sqlx::Error> {
    Ok(profile(db, tenant, person_id).await?.map(|p| Profile { id_number: ids::mask_id_number(&p.id_number), ..p }))
}

/// [`masked_profile`] as JSON, `null` for nobody.
pub async fn profile_json(db: &Db, tenant: &str, person_id: i64) -> Result<serde_json::Value, AppError> {
    Ok(json!(masked_profile(db, tenant, person_id).await?))
}

/// Saves the editable part of the caller's own profile.
/// An admin's own contact details (admins have no person profile).
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ContactUpdate {
    pub phone: String,
    pub email: String,
}

/// Saves the caller's own phone and e-mail on their account (staff change theirs with the profile).
pub async fn update_contact(state: &AppState, user: &auth::CurrentUser, input: &ContactUpdate) -> Result<(), AppError> {
    user.authorize(state, "profile", "update").await?;
    if user.account.person_id.is_some() {
        return Err(AppError::bad_request("use_profile", "请在个人信息中修改手机号和邮箱"));
    }
    let mut errors = FieldErrors::default();
    check_phone(&mut errors, &input.phone);
    check_email(&mut errors, &input.email);
    errors.finish()?;
    let code = user.tenant_code();
    let mut tx = state.db.begin().await?;
    tx.run(
        q("UPDATE accounts SET phone = $3, email = $4 WHERE tenant_id = $1 AND id = $2")
            .bind(code)
            .bind(user.account.id)
            .bind(input.phone.trim())
            .bind(input.email.trim()),
    )
    .await?;
    crate::audit::record_tx(&mut tx, code, Some(user.account.id), "account.contact_update", "account", Some(user.account.id), json!({}))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The profile update with the title fields as they are: a title, title level or title date changes only
/// through a change audit (`crate::changes`), so a different value is a field error and a missing one
/// keeps the current value.
fn keep_title(input: &ProfileUpdate, current: &Profile, errors: &mut FieldErrors) -> ProfileUpdate {
    const THROUGH_AUDIT: &str = "职称信息须通过“职称变更”提交审核，审核通过后生效";
    let current_title = current.title.clone().unwrap_or_default();
    let current_date = current.title_date.map(|d| d.to_string());
    if !input.title.trim().is_empty() && input.title.trim() != current_title {
        errors.add("title", THROUGH_AUDIT);
    }
    if !input.title_level.is_empty() && input.title_level != current.title_level {
        errors.add("title_level", THROUGH_AUDIT);
    }
    if let Some(date) = input.title_date.as_deref().map(str::trim).filter(|d| !d.is_empty())
        && Some(date) != current_date.as_deref()
    {
        errors.add("title_date", THROUGH_AUDIT);
    }
    ProfileUpdate { title: current_title, title_level: current.title_level.clone(), title_date: current_date, ..input.clone() }
}

pub async fn update_profile(state: &AppState, user: &auth::CurrentUser, input: &ProfileUpdate) -> Result<(), AppError> {
    user.authorize(state, "profile", "update").await?;
    let code = user.tenant_code();
    let Some(person_id) = user.account.person_id else {
        return Err(AppError::bad_request("no_profile", "管理员账号没有个人档案"));
    };
    let current = profile(&state.db, code, person_id).await?.ok_or_else(AppError::not_found)?;
    let (unit_id, old_title_level, old_post) = (current.unit_id, current.title_level.clone(), current.post.clone());
    let unit = orgs::get(&state.db, code, unit_id).await?;
    let mut errors = FieldErrors::default();
    let input = &keep_title(input, &current, &mut errors);
    let dates = check_editable(&state.db, code, input, unit.as_ref(), &mut errors).await?;
    errors.finish()?;
    let mut tx = state.db.begin().await?;
    tx.run(
        q("UPDATE people SET ethnicity = $3, phone = $4, email = $5, native_place = $6, education = $7, major = $8, school = $9, \
           graduated_on = $10, department_id = $11, title = $12, title_level = $13, title_date = $14, post = $15, updated_at = $16 \
           WHERE tenant_id = $1 AND id = $2")
        .bind(code)
        .bind(person_id)
        .bind(input.ethnicity.clone().filter(|e| !e.is_empty()))
        .bind(input.phone.trim())
        .bind(input.email.trim())
        .bind(input.native_place.trim())
        .bind(&input.education)
        .bind(input.major.trim())
        .bind(input.school.trim())
        .bind(dates.graduated_on)
        .bind(input.department_id)
        .bind(input.title.trim())
        .bind(&input.title_level)
        .bind(dates.title_date)
        .bind(&input.post)
        .bind(Utc::now()),
    )
    .await?;
    tx.run(
        q("UPDATE accounts SET phone = $3, email = $4 WHERE tenant_id = $1 AND id = $2")
            .bind(code)
            .bind(user.account.id)
            .bind(input.phone.trim())
            .bind(input.email.trim()),
    )
    .await?;
    crate::audit::record_tx(&mut tx, code, Some(user.account.id), "profile.update", "person", Some(person_id), json!({})).await?;
    // Title level and post decide the yearly requirement: this year's status is judged again. Past
    // years keep the judgement made with the title they had then.
    if input.title_level != old_title_level || input.post != old_post {
        crate::hours::status::mark_tx(&mut tx, code, person_id, crate::hours::this_year()).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub const FORM_LISTS: &[&str] = &["education", "ethnicity", "title_level", "title_series", "post", "gender", "region"];

#[cfg(test)]
mod tests {
    use super::is_personal_name;

    #[test]
    fn names_are_letters_not_formulas() {
        for ok in ["张三", "欧阳娜娜", "罗伯特·布朗", "Jean-Luc Picard", "阿卜杜拉·艾买提", "བཀྲ་ཤིས"] {
            assert!(is_personal_name(ok), "{ok}");
        }
        for bad in ["=cmd|' /C calc'!A", "=HYPERLINK(\"http://x\",\"y\")", "+1", "@SUM(A1)", "-张三", "张三1", "张<三>"] {
            assert!(!is_personal_name(bad), "{bad}");
        }
    }
}
