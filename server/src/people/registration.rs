//! Staff registration (人员注册): a staff member registers under a unit with a profile and a password,
//! waits for the approver the province's rule names (or is active at once), and may correct and submit a
//! rejected registration again. The approval itself is the registrations request kind
//! ([`crate::orgs::registration::Registrations`]), shared with organisations' registrations.

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Dates, ProfileUpdate, check_editable};
use crate::approvals::{self, NewApproval, RouteOrg};
use crate::auth::{self, AccountStatus, NewAccount, Role, password};
use crate::db::{Db, Tx, q};
use crate::error::{AppError, FieldErrors, ResultExt, field_error};
use crate::fields::check_name;
use crate::ids;
use crate::orgs::registration::{Registered, Registrations};
use crate::orgs::{self, Org, OrgKind, OrgStatus};
use crate::state::AppState;
use crate::tenancy::TenantCtx;

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
