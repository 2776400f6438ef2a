//! Staff (专业技术人员 / 事业单位工作人员): registration under a unit, profiles.

pub mod admin;
pub mod api;
pub mod pages;
pub mod registration;

use crate::auth;
use crate::db::{Db, q};
use crate::error::{AppError, FieldErrors};
use crate::fields::{check_email, check_phone, required};
use crate::ids;
use crate::orgs::{self, Org};
use crate::state::AppState;
use chrono::{Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub const TITLE_LEVELS: &[&str] = &["senior", "deputy_senior", "intermediate", "junior", "assistant", "none"];
pub const POSTS: &[&str] = &["management", "technical", "worker"];

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
        return Err(AppError::new(axum::http::StatusCode::FORBIDDEN, "no_profile", "管理员账号没有个人档案"));
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
        crate::hours::status::mark_tx(&mut tx, code, person_id, crate::china_time::this_year()).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub const FORM_LISTS: &[&str] = &["education", "ethnicity", "title_level", "title_series", "post", "gender", "region"];
