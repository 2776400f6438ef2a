//! Classes (培训班) and scores (学员成绩), seed 003 施教机构: an institution opens classes under its
//! approved training plans (the plan's subject, years, form and planned size come with it), enters each
//! student's score by ID number or imports a spreadsheet, and — until the class is declared — edits and
//! deletes them. The declaration itself lives in [`super::declarations`]; once a class is declared its
//! scores are frozen.

pub mod api;
pub mod pages;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::plans::{self, Plan};
use super::roster;
use crate::auth::CurrentUser;
use crate::db::{Db, Filters, Tx, q};
use crate::error::{AppError, FieldErrors};
use crate::paging::Search;
use crate::state::AppState;
use crate::{audit, ids};

/// Most students one class holds (the roster is declared and reviewed as one batch).
pub const MAX_CAPACITY: i64 = 2000;

/// The score at or above which a student passes unless the institution says otherwise.
pub const PASS_MARK: i64 = 6_000;

/// Spreadsheet columns of a score import: canonical name and the Chinese header institutions use.
pub const IMPORT_COLUMNS: &[(&str, &str)] =
    &[("id_number", "身份证号"), ("name", "姓名"), ("score", "成绩"), ("passed", "是否合格"), ("remark", "备注")];

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = TrainingClass)]
pub struct Class {
    pub id: i64,
    pub plan_id: i64,
    pub plan_name: String,
    pub institution_id: i64,
    pub institution_name: String,
    pub name: String,
    pub capacity: i64,
    pub start_date: String,
    pub end_date: String,
    pub place: Option<String>,
    pub teacher: Option<String>,
    pub students: i64,
    pub declaration_id: Option<i64>,
    pub declaration_status: Option<DeclarationStatus>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const SELECT: &str = "SELECT c.id, c.plan_id, p.name AS plan_name, c.institution_id, i.name AS institution_name, c.name, c.capacity, \
     c.start_date, c.end_date, c.place, c.teacher, \
     (SELECT COUNT(*) FROM class_scores s WHERE s.tenant_id = c.tenant_id AND s.class_id = c.id) AS students, \
     d.id AS declaration_id, d.status AS declaration_status, c.created_at, c.updated_at";
const FROM: &str = "FROM training_classes c JOIN training_plans p ON p.tenant_id = c.tenant_id AND p.id = c.plan_id \
     JOIN orgs i ON i.tenant_id = c.tenant_id AND i.id = c.institution_id \
     LEFT JOIN class_declarations d ON d.tenant_id = c.tenant_id AND d.class_id = c.id";

crate::codes::code_enum! {
    /// Where a class's declaration (申报花名册) stands.
    pub enum DeclarationStatus {
        Pending = ("pending", "审核中"),
        Approved = ("approved", "已通过"),
        Rejected = ("rejected", "未通过"),
    }
}

/// The filter value for classes not declared yet.
pub const NOT_DECLARED: (&str, &str) = ("none", "未申报");

pub fn declaration_label(status: Option<DeclarationStatus>) -> &'static str {
    status.map_or(NOT_DECLARED.1, DeclarationStatus::label)
}

impl Class {
    pub fn declared(&self) -> bool {
        self.declaration_id.is_some()
    }

    pub fn view(&self) -> ClassView {
        ClassView { class: self.clone(), declaration_label: declaration_label(self.declaration_status), declared: self.declared() }
    }
}

/// A class as the API and the pages show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClassView {
    #[serde(flatten)]
    pub class: Class,
    /// 未申报 or the declaration's status
    pub declaration_label: &'static str,
    /// Declared: the class and its scores are frozen
    pub declared: bool,
}

/// A score row; [`Score::view`] is how it is shown.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = ClassScore)]
pub struct Score {
    pub id: i64,
    pub class_id: i64,
    pub person_id: i64,
    pub name: String,
    #[serde(skip)]
    pub id_number: String,
    pub unit_name: String,
    #[serde(skip)]
    pub score: i64,
    pub passed: bool,
    pub remark: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const SCORE_SELECT: &str = "SELECT s.id, s.class_id, s.person_id, p.name, p.id_number, u.name AS unit_name, s.score, s.passed, s.remark, \
     s.created_at, s.updated_at FROM class_scores s JOIN people p ON p.tenant_id = s.tenant_id AND p.id = s.person_id \
     JOIN orgs u ON u.tenant_id = p.tenant_id AND u.id = p.unit_id";

/// A score as shown: the ID number masked, the score as a decimal number.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScoreView {
    #[serde(flatten)]
    pub score_row: Score,
    /// Masked (the first 6 and last 4 digits shown)
    pub id_number: String,
    /// 0–100, up to two decimals
    pub score: crate::hours::Hundredths,
    /// 合格 or 不合格
    pub result_label: &'static str,
}

/// 合格 / 不合格: how pages name the institution's result.
pub(crate) fn result_label(passed: bool) -> &'static str {
    if passed { "合格" } else { "不合格" }
}

impl Score {
    pub fn view(&self) -> ScoreView {
        ScoreView {
            score_row: self.clone(),
            id_number: ids::mask_id_number(&self.id_number),
            score: crate::hours::Hundredths(self.score),
            result_label: result_label(self.passed),
        }
    }
}

/// A score "0"–"100" with up to two decimals, as hundredths of a point.
pub fn parse_score(text: &str) -> Result<i64, &'static str> {
    let text = text.trim();
    if text.is_empty() {
        return Err("请填写成绩");
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err("成绩应为 0 到 100 之间的数字");
    }
    if fraction.len() > 2 {
        return Err("成绩最多保留两位小数");
    }
    let whole: i64 = whole.parse().map_err(|_| "成绩应为 0 到 100 之间的数字")?;
    let fraction: i64 = format!("{fraction:0<2}").parse().unwrap_or(0);
    let score = whole.saturating_mul(100).saturating_add(fraction);
    if score > 10_000 {
        return Err("成绩应为 0 到 100 之间的数字");
    }
    Ok(score)
}

/// "合格"/"不合格" (or yes/no, 1/0, true/false) from a form or spreadsheet; empty → `None` (by score).
fn parse_passed(text: &str) -> Result<Option<bool>, &'static str> {
    match text.trim().to_lowercase().as_str() {
        "" => Ok(None),
        "合格" | "是" | "通过" | "1" | "true" | "yes" | "pass" => Ok(Some(true)),
        "不合格" | "否" | "不通过" | "0" | "false" | "no" | "fail" => Ok(Some(false)),
        _ => Err("是否合格只能填“合格”或“不合格”"),
    }
}

fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The caller's institution: institution admins manage their own classes only.
async fn institution_of(state: &AppState, user: &CurrentUser) -> Result<i64, AppError> {
    user.authorize(state, "classes", "manage").await?;
    user.account.org_id.ok_or_else(AppError::forbidden)
}

pub async fn get(db: &Db, tenant: &str, id: i64) -> Result<Option<Class>, sqlx::Error> {
    db.opt(q(format!("{SELECT} {FROM} WHERE c.tenant_id = $1 AND c.id = $2")).bind(tenant).bind(id)).await
}

/// A class of the caller's institution, else "not found".
pub async fn own(state: &AppState, user: &CurrentUser, id: i64) -> Result<Class, AppError> {
    let institution = institution_of(state, user).await?;
    get(&state.db, user.tenant_code(), id).await?.filter(|c| c.institution_id == institution).ok_or_else(AppError::not_found)
}

crate::paging::list_query! {
    #[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
    pub struct ClassQuery {
        pub plan_id: Option<i64>,
        /// 培训年度 (the plan's year)
        pub year: Option<i64>,
        /// 继续教育年度
        pub credit_year: Option<i64>,
        /// public or professional
        pub subject_kind: Option<String>,
        /// Class name contains
        pub q: Option<String>,
        /// none (not declared), pending, approved or rejected
        pub declaration: Option<String>,
    }
}

pub async fn list(state: &AppState, user: &CurrentUser, query: &ClassQuery) -> Result<(Vec<Class>, i64), AppError> {
    let institution = institution_of(state, user).await?;
    let mut f = Filters::tenant("c.tenant_id", user.tenant_code());
    f.and("c.institution_id = ?", institution);
    if let Some(plan) = query.plan_id {
        f.and("c.plan_id = ?", plan);
    }
    if let Some(year) = query.year {
        f.and("p.year = ?", year);
    }
    if let Some(year) = query.credit_year {
        f.and("p.credit_year = ?", year);
    }
    if let Some(kind) = query.subject_kind.as_deref().filter(|k| !k.is_empty()) {
        f.and("p.subject_kind = ?", kind.to_owned());
    }
    if let Some(text) = query.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        f.contains(&["c.name"], text);
    }
    match query.declaration.as_deref() {
        Some(none) if none == NOT_DECLARED.0 => {
            f.and_sql("d.id IS NULL");
        }
        declaration => {
            if let Some(status) = crate::codes::filter::<DeclarationStatus>(declaration, "declaration", "申报状态")? {
                f.and("d.status = ?", status.as_str());
            }
        }
    }
    let total = state.db.scalar(f.count(FROM)).await?;
    let rows = state.db.all(f.page(&format!("{SELECT} {FROM}"), "c.id DESC", query.page, query.per_page())).await?;
    Ok((rows, total))
}

/// The request body of `POST /classes` and `PUT /classes/{id}`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ClassBody {
    /// An approved plan of the caller's institution
    pub plan_id: i64,
    pub name: String,
    /// Most students (≤ the plan's planned count)
    pub capacity: i64,
    /// YYYY-MM-DD, within the plan's dates
    pub start_date: String,
    pub end_date: String,
    #[serde(default)]
    pub place: Option<String>,
    #[serde(default)]
    pub teacher: Option<String>,
}

impl ClassBody {
    /// The class's columns in the order the insert and the update both use (`plan_id` … `teacher`).
    fn values(&self, plan_id: i64) -> Vec<crate::db::Value> {
        use crate::db::ToValue;
        vec![
            plan_id.to_value(),
            self.name.trim().to_value(),
            self.capacity.to_value(),
            self.start_date.trim().to_value(),
            self.end_date.trim().to_value(),
            super::optional_text(self.place.as_deref()).to_value(),
            super::optional_text(self.teacher.as_deref()).to_value(),
        ]
    }
}

/// Checks a class against its plan; the plan when everything is right, else every field's problem.
async fn check(state: &AppState, tenant: &str, institution: i64, body: &ClassBody, students: i64) -> Result<Plan, AppError> {
    let mut errors = FieldErrors::default();
    let plan = plans::get(&state.db, tenant, body.plan_id).await?.filter(|p| p.institution_id == institution);
    match &plan {
        None => errors.add("plan_id", "请选择本机构的培训计划"),
        Some(p) if p.status != plans::PlanStatus::Approved => errors.add("plan_id", "培训计划审核通过后才能开班"),
        Some(_) => {}
    }
    let name = body.name.trim();
    if name.is_empty() {
        errors.add("name", "请填写培训班名称");
    } else if name.chars().count() > 100 {
        errors.add("name", "培训班名称不能超过 100 字");
    }
    if body.capacity < 1 {
        errors.add("capacity", "培训班人数应为正整数");
    } else if body.capacity > MAX_CAPACITY {
        errors.add("capacity", format!("一个培训班最多 {MAX_CAPACITY} 人"));
    } else if let Some(p) = plan.as_ref().filter(|p| body.capacity > p.planned_count) {
        errors.add("capacity", format!("培训班人数不能超过计划培训人数（{} 人）", p.planned_count));
    } else if body.capacity < students {
        errors.add("capacity", format!("培训班已登记 {students} 名学员成绩，人数不能少于此数"));
    }
    let start = NaiveDate::parse_from_str(body.start_date.trim(), "%Y-%m-%d").ok();
    let end = NaiveDate::parse_from_str(body.end_date.trim(), "%Y-%m-%d").ok();
    if start.is_none() {
        errors.add("start_date", "请填写开班日期（年-月-日）");
    }
    if end.is_none() {
        errors.add("end_date", "请填写结业日期（年-月-日）");
    }
    if let (Some(start), Some(end)) = (start, end) {
        if end < start {
            errors.add("end_date", "结业日期不能早于开班日期");
        } else if let Some(p) = &plan {
            let plan_start = NaiveDate::parse_from_str(&p.start_date, "%Y-%m-%d").ok();
            let plan_end = NaiveDate::parse_from_str(&p.end_date, "%Y-%m-%d").ok();
            if plan_start.is_some_and(|s| start < s) || plan_end.is_some_and(|e| end > e) {
                errors.add("start_date", format!("培训班日期应在培训计划的 {} 至 {} 之间", p.start_date, p.end_date));
            }
        }
    }
    for (field, value, label) in [("place", &body.place, "培训地点"), ("teacher", &body.teacher, "授课教师")] {
        if value.as_deref().is_some_and(|v| v.trim().chars().count() > 200) {
            errors.add(field, format!("{label}不能超过 200 字"));
        }
    }
    errors.finish()?;
    Ok(plan.expect("checked above"))
}

pub async fn create(state: &AppState, user: &CurrentUser, body: &ClassBody) -> Result<Class, AppError> {
    let institution = institution_of(state, user).await?;
    let tenant = user.tenant_code();
    let plan = check(state, tenant, institution, body, 0).await?;
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    let id = tx
        .scalar(
            q("INSERT INTO training_classes (tenant_id, institution_id, plan_id, name, capacity, start_date, end_date, place, teacher, \
               created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id")
            .bind(tenant)
            .bind(institution)
            .bind_all(body.values(plan.id))
            .bind(user.account.id)
            .bind(now),
        )
        .await?;
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "class.created",
        "class",
        Some(id),
        json!({"plan": plan.id, "name": body.name.trim()}),
    )
    .await?;
    tx.commit().await?;
    get(&state.db, tenant, id).await?.ok_or_else(AppError::not_found)
}

/// Takes the class row's lock for the rest of `tx` (score writes and the declaration serialise on it,
/// so capacity and "declared once" hold under concurrency) and refuses a declared class.
pub(crate) async fn lock_open_tx(tx: &mut Tx, tenant: &str, id: i64) -> Result<(), AppError> {
    tx.run(q("UPDATE training_classes SET updated_at = $3 WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(id).bind(Utc::now()))
        .await?;
    let declared = tx.exists(q("SELECT 1 FROM class_declarations WHERE tenant_id = $1 AND class_id = $2").bind(tenant).bind(id)).await?;
    if declared {
        return Err(AppError::conflict("class_declared", "该培训班已申报学时，不能再修改"));
    }
    Ok(())
}

pub async fn update(state: &AppState, user: &CurrentUser, id: i64, body: &ClassBody) -> Result<Class, AppError> {
    let class = own(state, user, id).await?;
    let tenant = user.tenant_code();
    if class.declared() {
        return Err(AppError::conflict("class_declared", "该培训班已申报学时，不能再修改"));
    }
    let plan = check(state, tenant, class.institution_id, body, class.students).await?;
    let mut tx = state.db.begin().await?;
    lock_open_tx(&mut tx, tenant, id).await?;
    tx.run(
        q("UPDATE training_classes SET plan_id = $3, name = $4, capacity = $5, start_date = $6, end_date = $7, place = $8, teacher = $9, \
           updated_at = $10 WHERE tenant_id = $1 AND id = $2")
        .bind(tenant)
        .bind(id)
        .bind_all(body.values(plan.id))
        .bind(Utc::now()),
    )
    .await?;
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "class.updated",
        "class",
        Some(id),
        json!({"plan": plan.id, "name": body.name.trim()}),
    )
    .await?;
    tx.commit().await?;
    get(&state.db, tenant, id).await?.ok_or_else(AppError::not_found)
}

/// Deletes classes of the caller's institution with their scores: all or none (a declared class or one
/// that is not the caller's stops the batch).
pub async fn delete(state: &AppState, user: &CurrentUser, ids: &[i64]) -> Result<usize, AppError> {
    let institution = institution_of(state, user).await?;
    let tenant = user.tenant_code();
    if ids.is_empty() {
        return Err(AppError::invalid([("ids".to_owned(), "请至少选择一个培训班".to_owned())].into()));
    }
    let mut tx = state.db.begin().await?;
    for id in ids {
        let owner: Option<(i64,)> =
            tx.opt(q("SELECT institution_id FROM training_classes WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(*id)).await?;
        if owner.map(|o| o.0) != Some(institution) {
            return Err(AppError::not_found());
        }
        lock_open_tx(&mut tx, tenant, *id).await?;
        tx.run(q("DELETE FROM class_scores WHERE tenant_id = $1 AND class_id = $2").bind(tenant).bind(*id)).await?;
        tx.run(q("DELETE FROM training_classes WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(*id)).await?;
        audit::record_tx(&mut tx, tenant, Some(user.account.id), "class.deleted", "class", Some(*id), json!({})).await?;
    }
    tx.commit().await?;
    Ok(ids.len())
}

// ---- scores ----

crate::paging::list_query! {
    #[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
    pub struct ScoreQuery {
        /// Name contains
        pub q: Option<String>,
        /// passed or failed
        pub result: Option<String>,
    }
}

fn score_filters(tenant: &str, class_id: i64, query: &ScoreQuery) -> Result<Filters, AppError> {
    let mut f = Filters::tenant("s.tenant_id", tenant);
    f.and("s.class_id = ?", class_id);
    roster_filters(&mut f, "s", query.q.as_deref(), query.result.as_deref(), None)?;
    Ok(f)
}

/// A roster's search (scores, declared students): name contains (`p` is the person) and the
/// institution's result (`passed`, `failed`); where the roster has the reviewer's column `verdict`, its
/// values (`pending`, `pass`, `fail`) too.
pub(crate) fn roster_filters(
    f: &mut Filters,
    alias: &str,
    q: Option<&str>,
    result: Option<&str>,
    verdict: Option<&[(&str, &str)]>,
) -> Result<(), AppError> {
    if let Some(text) = q.map(str::trim).filter(|t| !t.is_empty()) {
        f.contains(&["p.name"], text);
    }
    match result.unwrap_or("") {
        "" => {}
        "passed" => {
            f.and(&format!("{alias}.passed = ?"), true);
        }
        "failed" => {
            f.and(&format!("{alias}.passed = ?"), false);
        }
        v if verdict.is_some_and(|known| known.iter().any(|(k, _)| *k == v)) => {
            f.and(&format!("{alias}.verdict = ?"), v.to_owned());
        }
        _ if verdict.is_some() => return Err(AppError::bad_request("bad_result", "筛选结果只能是 passed、failed、pass、fail 或 pending")),
        _ => return Err(AppError::bad_request("bad_result", "成绩结果只能是 passed 或 failed")),
    }
    Ok(())
}

pub async fn scores(state: &AppState, user: &CurrentUser, class_id: i64, query: &ScoreQuery) -> Result<(Vec<Score>, i64), AppError> {
    own(state, user, class_id).await?;
    let f = score_filters(user.tenant_code(), class_id, query)?;
    let from = "FROM class_scores s JOIN people p ON p.tenant_id = s.tenant_id AND p.id = s.person_id";
    let total = state.db.scalar(f.count(from)).await?;
    let rows = state.db.all(f.page(SCORE_SELECT, "s.id", query.page, query.per_page())).await?;
    Ok((rows, total))
}

/// Every score of a class (the roster), by entry order.
pub async fn all_scores(db: &Db, tenant: &str, class_id: i64) -> Result<Vec<Score>, sqlx::Error> {
    db.all(q(format!("{SCORE_SELECT} WHERE s.tenant_id = $1 AND s.class_id = $2 ORDER BY s.id")).bind(tenant).bind(class_id)).await
}

/// The request body of `POST /classes/{id}/scores` (成绩录入) and `PUT /classes/{id}/scores/{score}`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ScoreBody {
    /// The student's ID number (ignored on update)
    #[serde(default)]
    pub id_number: String,
    /// When given, must match the person's name
    #[serde(default)]
    pub name: Option<String>,
    /// 0–100, a number or a decimal string
    #[schema(schema_with = crate::hours::number_or_decimal_text)]
    pub score: Value,
    /// 合格 or not; by default a score of 60 or more passes
    #[serde(default)]
    pub passed: Option<bool>,
    #[serde(default)]
    pub remark: Option<String>,
}

/// A checked score row, ready to write.
struct ValidScore {
    person_id: i64,
    score: i64,
    passed: bool,
    remark: Option<String>,
}

/// Checks one score's fields (the person is looked up by the caller). Errors are per field.
fn check_score(score: &str, passed: Option<bool>, remark: Option<&str>, errors: &mut FieldErrors) -> Option<(i64, bool, Option<String>)> {
    let remark = remark.map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned);
    if remark.as_deref().is_some_and(|r| r.chars().count() > 200) {
        errors.add("remark", "备注不能超过 200 字");
    }
    match parse_score(score) {
        Ok(value) => Some((value, passed.unwrap_or(value >= PASS_MARK), remark)),
        Err(message) => {
            errors.add("score", message);
            None
        }
    }
}

/// The person with this ID number in the tenant, with their name, or the field's problem.
async fn person_by_id_number(db: &Db, tenant: &str, id_number: &str) -> Result<Result<(i64, String), &'static str>, sqlx::Error> {
    let Ok(id_number) = ids::check_id_number(id_number) else { return Ok(Err("身份证号码格式不正确")) };
    let row: Option<(i64, String)> =
        db.opt(q("SELECT id, name FROM people WHERE tenant_id = $1 AND id_number = $2").bind(tenant).bind(id_number)).await?;
    Ok(row.ok_or("平台中没有这个身份证号的人员，请先让其注册"))
}

/// Writes checked scores into a class in one transaction: new students are added (capacity allowing),
/// students already in the class get their score replaced when `replace`, else it is a conflict.
async fn write_scores(
    state: &AppState,
    user: &CurrentUser,
    class: &Class,
    rows: &[ValidScore],
    replace: bool,
) -> Result<(usize, usize), AppError> {
    let tenant = user.tenant_code();
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    lock_open_tx(&mut tx, tenant, class.id).await?;
    let existing: Vec<(i64,)> =
        tx.all(q("SELECT person_id FROM class_scores WHERE tenant_id = $1 AND class_id = $2").bind(tenant).bind(class.id)).await?;
    let existing: std::collections::HashSet<i64> = existing.into_iter().map(|e| e.0).collect();
    let added = rows.iter().filter(|r| !existing.contains(&r.person_id)).count();
    if existing.len() + added > class.capacity as usize {
        return Err(AppError::conflict(
            "class_full",
            format!("培训班人数上限为 {} 人，已登记 {} 人，不能再添加 {added} 人", class.capacity, existing.len()),
        ));
    }
    let mut updated = 0;
    for row in rows {
        if existing.contains(&row.person_id) {
            if !replace {
                return Err(AppError::conflict("already_scored", "该学员已在本培训班登记成绩，请在列表中修改"));
            }
            tx.run(
                q("UPDATE class_scores SET score = $4, passed = $5, remark = $6, updated_at = $7 WHERE tenant_id = $1 AND class_id = $2 AND person_id = $3")
                    .bind(tenant)
                    .bind(class.id)
                    .bind(row.person_id)
                    .bind(row.score)
                    .bind(row.passed)
                    .bind(row.remark.clone())
                    .bind(now),
            )
            .await?;
            updated += 1;
        } else {
            tx.run(
                q("INSERT INTO class_scores (tenant_id, class_id, person_id, score, passed, remark, created_by, created_at, updated_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)")
                .bind(tenant)
                .bind(class.id)
                .bind(row.person_id)
                .bind(row.score)
                .bind(row.passed)
                .bind(row.remark.clone())
                .bind(user.account.id)
                .bind(now),
            )
            .await?;
        }
    }
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "class.scores_entered",
        "class",
        Some(class.id),
        json!({"added": added, "updated": updated}),
    )
    .await?;
    tx.commit().await?;
    Ok((added, updated))
}

/// 成绩录入: one student's score by ID number.
pub async fn add_score(state: &AppState, user: &CurrentUser, class_id: i64, body: &ScoreBody) -> Result<Score, AppError> {
    let class = own(state, user, class_id).await?;
    let tenant = user.tenant_code();
    let mut errors = FieldErrors::default();
    let person = match person_by_id_number(&state.db, tenant, &body.id_number).await? {
        Ok((id, name)) => {
            if body.name.as_deref().map(str::trim).is_some_and(|n| !n.is_empty() && n != name) {
                errors.add("name", "姓名与身份证号不符");
            }
            Some(id)
        }
        Err(message) => {
            errors.add("id_number", message);
            None
        }
    };
    let checked = check_score(&value_text(&body.score), body.passed, body.remark.as_deref(), &mut errors);
    errors.finish()?;
    let (score, passed, remark) = checked.expect("checked above");
    let person_id = person.expect("checked above");
    write_scores(state, user, &class, &[ValidScore { person_id, score, passed, remark }], false).await?;
    let mut found = all_scores(&state.db, tenant, class_id).await?;
    found.retain(|s| s.person_id == person_id);
    found.pop().ok_or_else(AppError::not_found)
}

/// Changes one score (the student stays).
pub async fn update_score(state: &AppState, user: &CurrentUser, class_id: i64, score_id: i64, body: &ScoreBody) -> Result<Score, AppError> {
    let class = own(state, user, class_id).await?;
    let tenant = user.tenant_code();
    let current = all_scores(&state.db, tenant, class_id).await?.into_iter().find(|s| s.id == score_id).ok_or_else(AppError::not_found)?;
    let mut errors = FieldErrors::default();
    let checked = check_score(&value_text(&body.score), body.passed, body.remark.as_deref(), &mut errors);
    errors.finish()?;
    let (score, passed, remark) = checked.expect("checked above");
    write_scores(state, user, &class, &[ValidScore { person_id: current.person_id, score, passed, remark }], true).await?;
    all_scores(&state.db, tenant, class_id).await?.into_iter().find(|s| s.id == score_id).ok_or_else(AppError::not_found)
}

/// Deletes scores of a class: all or none.
pub async fn delete_scores(state: &AppState, user: &CurrentUser, class_id: i64, score_ids: &[i64]) -> Result<usize, AppError> {
    own(state, user, class_id).await?;
    let tenant = user.tenant_code();
    if score_ids.is_empty() {
        return Err(AppError::invalid([("ids".to_owned(), "请至少选择一条成绩".to_owned())].into()));
    }
    let mut tx = state.db.begin().await?;
    lock_open_tx(&mut tx, tenant, class_id).await?;
    for id in score_ids {
        let removed = tx
            .run(q("DELETE FROM class_scores WHERE tenant_id = $1 AND class_id = $2 AND id = $3").bind(tenant).bind(class_id).bind(*id))
            .await?;
        if removed != 1 {
            return Err(AppError::not_found());
        }
    }
    audit::record_tx(&mut tx, tenant, Some(user.account.id), "class.scores_deleted", "class", Some(class_id), json!({"ids": score_ids}))
        .await?;
    tx.commit().await?;
    Ok(score_ids.len())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportResult {
    pub added: usize,
    pub updated: usize,
}

/// Imports scores from a spreadsheet (xlsx or UTF-8 CSV; columns 身份证号, 成绩 and optionally
/// 姓名, 是否合格, 备注). Every row is checked first: any bad row → 422 listing every row's problem and
/// nothing written; otherwise all rows are written in one transaction (students already in the class
/// get the new score).
pub async fn import_scores(
    state: &AppState,
    user: &CurrentUser,
    class_id: i64,
    filename: &str,
    bytes: &[u8],
) -> Result<ImportResult, AppError> {
    let class = own(state, user, class_id).await?;
    let tenant = user.tenant_code();
    let spec =
        crate::spreadsheet::TableSpec { required: &["id_number", "score"], aliases: IMPORT_COLUMNS, max_rows: MAX_CAPACITY as usize };
    let table = roster::read_upload(bytes, filename, spec, "文件中没有成绩行").await?;
    let mut problems = roster::Problems::default();
    let people = roster::resolve_people(&state.db, tenant, &table, false, &mut problems).await?;
    let mut valid = Vec::new();
    for (&(line, ref row), person) in table.iter().zip(people) {
        let passed = match parse_passed(&roster::cell(row, "passed")) {
            Ok(p) => p,
            Err(message) => {
                problems.add(line, "passed", message);
                None
            }
        };
        let mut errors = FieldErrors::default();
        let remark = roster::cell(row, "remark");
        let checked = check_score(&roster::cell(row, "score"), passed, Some(&remark), &mut errors);
        for (field, message) in errors.0 {
            problems.add(line, &field, message);
        }
        if let (Some(person_id), Some((score, passed, remark))) = (person, checked) {
            valid.push(ValidScore { person_id, score, passed, remark });
        }
    }
    problems.finish("未导入任何成绩")?;
    let (added, updated) = write_scores(state, user, &class, &valid, true).await?;
    Ok(ImportResult { added, updated })
}
