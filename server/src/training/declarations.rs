//! Class declarations (学员成绩申报 / 审核培训班申报信息, seed 003; 学时审核, seed 004 §5.2): an institution
//! previews a class's roster (申报花名册) and declares it once; the rules plugin routes the declaration
//! (request kind class-declaration: Henan public → HR bureau, professional → the authority or HR bureau
//! the institution chooses). Reviewers see every declared student, search by name or result, and mark
//! them 合格 / 不合格 one by one or in batches; approving the declaration settles the students left
//! unmarked by the institution's result, and every passed student gets the plan's hours as an offline
//! credit in the same transaction.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::classes;
use super::plans;
use crate::api::Paged;
use crate::approvals::{self, Approval, Decided, NewApproval, Notice, RequestKind, RouteOrg};
use crate::auth::CurrentUser;
use crate::db::{Db, Filters, Tx, q};
use crate::error::AppError;
use crate::hours::{self, NewCredit};
use crate::paging::Query;
use crate::rules::model::{RequestKind as RouteKind, Subject};
use crate::state::AppState;
use crate::{audit, ids};

pub const VERDICTS: &[(&str, &str)] = &[("pending", "待审核"), ("pass", "合格"), ("fail", "不合格")];

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = ClassDeclaration)]
pub struct Declaration {
    pub id: i64,
    pub class_id: i64,
    pub class_name: String,
    pub institution_id: i64,
    pub institution_name: String,
    pub plan_id: i64,
    pub plan_name: String,
    pub subject_kind: String,
    pub year: i64,
    pub credit_year: i64,
    #[serde(skip)]
    pub hours: i64,
    pub status: classes::DeclarationStatus,
    pub route_choice: Option<String>,
    pub declared_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub students: i64,
    pub passed: i64,
    pub verdict_pass: i64,
    pub verdict_fail: i64,
}

const SELECT: &str = "SELECT d.id, d.class_id, c.name AS class_name, d.institution_id, i.name AS institution_name, c.plan_id, \
     p.name AS plan_name, p.subject_kind, p.year, p.credit_year, p.hours, d.status, d.route_choice, d.declared_at, d.decided_at, \
     (SELECT COUNT(*) FROM declaration_students x WHERE x.tenant_id = d.tenant_id AND x.declaration_id = d.id) AS students, \
     (SELECT COUNT(*) FROM declaration_students x WHERE x.tenant_id = d.tenant_id AND x.declaration_id = d.id AND x.passed = TRUE) AS passed, \
     (SELECT COUNT(*) FROM declaration_students x WHERE x.tenant_id = d.tenant_id AND x.declaration_id = d.id AND x.verdict = 'pass') AS verdict_pass, \
     (SELECT COUNT(*) FROM declaration_students x WHERE x.tenant_id = d.tenant_id AND x.declaration_id = d.id AND x.verdict = 'fail') AS verdict_fail \
     FROM class_declarations d JOIN training_classes c ON c.tenant_id = d.tenant_id AND c.id = d.class_id \
     JOIN training_plans p ON p.tenant_id = d.tenant_id AND p.id = c.plan_id \
     JOIN orgs i ON i.tenant_id = d.tenant_id AND i.id = d.institution_id";

/// A declaration as the API and the pages show it, with its counts.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeclarationView {
    #[serde(flatten)]
    pub declaration: Declaration,
    /// The plan's hours, each passed student's credit
    pub hours: crate::hours::Hundredths,
    pub status_label: &'static str,
    /// The subject kind in the tenant's words
    pub subject_label: String,
}

impl Declaration {
    pub fn view(&self, words: &crate::tenancy::Words) -> DeclarationView {
        DeclarationView {
            declaration: self.clone(),
            hours: crate::hours::Hundredths(self.hours),
            status_label: classes::declaration_label(Some(self.status)),
            subject_label: words.subject(&self.subject_kind).to_owned(),
        }
    }
}

pub async fn get(db: &Db, tenant: &str, id: i64) -> Result<Option<Declaration>, sqlx::Error> {
    db.opt(q(format!("{SELECT} WHERE d.tenant_id = $1 AND d.id = $2")).bind(tenant).bind(id)).await
}

/// How the caller may see a declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The declaring institution: read only.
    Institution,
    /// A reviewer on its route; `Some(approval)` while their step is pending (they may mark students).
    Reviewer(Option<i64>),
}

/// A declaration the caller may see — their institution's, or one whose route passes their organisation —
/// else "not found".
pub async fn visible(state: &AppState, user: &CurrentUser, id: i64) -> Result<(Declaration, Access), AppError> {
    let tenant = user.tenant_code();
    let declaration = get(&state.db, tenant, id).await?.ok_or_else(AppError::not_found)?;
    let Some(org) = user.account.org_id else { return Err(AppError::not_found()) };
    if org == declaration.institution_id && user.can(state, "classes", "manage").await {
        return Ok((declaration, Access::Institution));
    }
    if user.can(state, "declarations", "review").await
        && let Some(seat) = approvals::seat(&state.db, tenant, "class_declaration", id, org).await?
    {
        return Ok((declaration, Access::Reviewer(seat.pending)));
    }
    Err(AppError::not_found())
}

/// The request body of `POST /classes/{id}/declaration` (申报学时).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct DeclareBody {
    /// Where the province lets the institution choose the deciding department (Henan professional:
    /// `authority` or `hr_bureau`)
    #[serde(default)]
    pub choice: Option<String>,
}

fn subject_of(kind: &str) -> Option<Subject> {
    match kind {
        "public" => Some(Subject::Public),
        "professional" => Some(Subject::Professional),
        _ => None,
    }
}

/// Declares a class's scores once, along the route the plugin returns.
pub async fn declare(state: &AppState, user: &CurrentUser, class_id: i64, body: &DeclareBody) -> Result<Declaration, AppError> {
    let class = classes::own(state, user, class_id).await?;
    let tenant = user.tenant_code();
    if class.declared() {
        return Err(AppError::conflict("already_declared", "每个培训班仅允许申报一次，该培训班已申报"));
    }
    if class.students == 0 {
        return Err(AppError::invalid([("class".to_owned(), "培训班还没有学员成绩，不能申报".to_owned())].into()));
    }
    let plan = plans::get(&state.db, tenant, class.plan_id).await?.ok_or_else(AppError::not_found)?;
    let institution = crate::orgs::get(&state.db, tenant, class.institution_id).await?.ok_or_else(AppError::not_found)?;
    let choice = super::optional_text(body.choice.as_deref());
    let steps = approvals::route_for(
        state,
        tenant,
        &RouteOrg::from(&institution),
        hours::check_year(plan.credit_year)?,
        RouteKind::ClassDeclaration,
        subject_of(&plan.subject_kind),
        choice.clone(),
    )
    .await?;
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    classes::lock_open_tx(&mut tx, tenant, class_id).await.map_err(|e| {
        if e.status == StatusCode::CONFLICT {
            AppError::conflict("already_declared", "每个培训班仅允许申报一次，该培训班已申报")
        } else {
            e
        }
    })?;
    let id = tx
        .scalar(
            q("INSERT INTO class_declarations (tenant_id, class_id, institution_id, route_choice, status, declared_by, declared_at) \
               VALUES ($1, $2, $3, $4, 'pending', $5, $6) RETURNING id")
            .bind(tenant)
            .bind(class_id)
            .bind(class.institution_id)
            .bind(choice)
            .bind(user.account.id)
            .bind(now),
        )
        .await?;
    let copied = tx
        .run(
            q("INSERT INTO declaration_students (tenant_id, declaration_id, person_id, score, passed, remark, verdict) \
               SELECT tenant_id, $3, person_id, score, passed, remark, 'pending' FROM class_scores WHERE tenant_id = $1 AND class_id = $2")
            .bind(tenant)
            .bind(class_id)
            .bind(id),
        )
        .await?;
    let summary = format!(
        "{} · {} · {} 人 · {} 学时（{} 年度）",
        class.institution_name,
        class.name,
        copied,
        hours::format_hours(plan.hours),
        plan.credit_year
    );
    approvals::open_route_tx::<Declarations>(
        &mut tx,
        &state.config,
        tenant,
        &steps,
        NewApproval {
            subject_type: "class_declaration",
            subject_id: id,
            summary,
            applicant_account_id: Some(user.account.id),
            declaring_org_id: Some(class.institution_id),
            ..Default::default()
        },
    )
    .await?;
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "class.declared",
        "class",
        Some(class_id),
        json!({"declaration": id, "students": copied, "route": approvals::route_json(&steps)}),
    )
    .await?;
    if steps.is_empty() {
        finish_approved(&mut tx, tenant, id, user.account.id).await?;
    }
    tx.commit().await?;
    get(&state.db, tenant, id).await?.ok_or_else(AppError::not_found)
}

/// A declared student; [`Student::view`] is how it is shown.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = DeclaredStudent)]
pub struct Student {
    pub id: i64,
    pub person_id: i64,
    pub name: String,
    #[serde(skip)]
    pub id_number: String,
    pub unit_name: String,
    #[serde(skip)]
    pub score: i64,
    pub passed: bool,
    pub remark: Option<String>,
    pub verdict: String,
    pub decided_at: Option<DateTime<Utc>>,
}

/// A declared student as shown: the ID number masked, the score as a decimal number, the institution's
/// result and the reviewers' verdict labelled.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StudentView {
    #[serde(flatten)]
    pub student: Student,
    /// Masked (the first 6 and last 4 digits shown)
    pub id_number: String,
    /// 0–100, up to two decimals
    pub score: crate::hours::Hundredths,
    /// The institution's result: 合格 or 不合格
    pub result_label: &'static str,
    /// The reviewers' verdict: 待审核, 合格 or 不合格
    pub verdict_label: &'static str,
}

impl Student {
    pub fn view(&self) -> StudentView {
        StudentView {
            student: self.clone(),
            id_number: ids::mask_id_number(&self.id_number),
            score: crate::hours::Hundredths(self.score),
            result_label: classes::result_label(self.passed),
            verdict_label: VERDICTS.iter().find(|(k, _)| *k == self.verdict).map_or("", |(_, l)| l),
        }
    }
}

const STUDENT_SELECT: &str = "SELECT x.id, x.person_id, p.name, p.id_number, u.name AS unit_name, x.score, x.passed, x.remark, x.verdict, \
     x.decided_at";
const STUDENT_FROM: &str = "FROM declaration_students x JOIN people p ON p.tenant_id = x.tenant_id AND p.id = x.person_id \
     JOIN orgs u ON u.tenant_id = p.tenant_id AND u.id = p.unit_id";

crate::paging::list_query! {
    #[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
    pub struct StudentQuery {
        /// Name contains
        pub q: Option<String>,
        /// The institution's result (passed, failed) or the reviewer's verdict (pass, fail, pending)
        pub result: Option<String>,
    }
}

fn student_filters(tenant: &str, id: i64, query: &StudentQuery) -> Result<Filters, AppError> {
    let mut f = Filters::tenant("x.tenant_id", tenant);
    f.and("x.declaration_id = ?", id);
    classes::roster_filters(&mut f, "x", query.q.as_deref(), query.result.as_deref(), Some(VERDICTS))?;
    Ok(f)
}

pub async fn students(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    query: &StudentQuery,
) -> Result<(Declaration, Access, Vec<Student>, i64), AppError> {
    let (declaration, access) = visible(state, user, id).await?;
    let f = student_filters(user.tenant_code(), id, query)?;
    let total = state.db.scalar(f.count(STUDENT_FROM)).await?;
    let rows = state.db.all(f.page(&format!("{STUDENT_SELECT} {STUDENT_FROM}"), "x.id", query.page, query.per_page())).await?;
    Ok((declaration, access, rows, total))
}

/// The request body of `POST /declarations/{id}/verdicts`: 批量通过 / 批量不通过 (ids), or 全部 (all,
/// optionally narrowed by the list's search).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct VerdictBody {
    #[serde(default)]
    pub ids: Vec<i64>,
    #[serde(default)]
    pub all: bool,
    /// pass or fail
    pub verdict: String,
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub result: Option<String>,
}

/// Marks students 合格 / 不合格 while the caller's step on the declaration is pending: one transaction.
pub async fn mark(state: &AppState, user: &CurrentUser, id: i64, body: &VerdictBody) -> Result<usize, AppError> {
    let (_, access) = visible(state, user, id).await?;
    let Access::Reviewer(step) = access else { return Err(AppError::forbidden()) };
    let Some(step) = step else { return Err(AppError::conflict("not_pending", "该申报已审核，不能再修改学员结果")) };
    if !matches!(body.verdict.as_str(), "pass" | "fail") {
        return Err(AppError::invalid([("verdict".to_owned(), "审核结果只能是合格或不合格".to_owned())].into()));
    }
    let tenant = user.tenant_code();
    let targets: Vec<i64> = if body.all {
        let query = StudentQuery { q: body.q.clone(), result: body.result.clone(), page: 1, per_page: None };
        let rows: Vec<(i64,)> =
            state.db.all(student_filters(tenant, id, &query)?.all(&format!("SELECT x.id {STUDENT_FROM}"), "x.id")).await?;
        rows.into_iter().map(|r| r.0).collect()
    } else {
        body.ids.clone()
    };
    if targets.is_empty() {
        return Err(AppError::invalid([("ids".to_owned(), "请至少选择一名学员".to_owned())].into()));
    }
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    // The step must still be pending when the marks land: a concurrent decision excludes this.
    if !approvals::hold_pending_tx(&mut tx, tenant, step).await? {
        return Err(AppError::conflict("not_pending", "该申报已审核，不能再修改学员结果"));
    }
    for student in &targets {
        let changed = tx
            .run(
                q("UPDATE declaration_students SET verdict = $4, decided_by = $5, decided_at = $6 WHERE tenant_id = $1 AND declaration_id = $2 AND id = $3")
                    .bind(tenant)
                    .bind(id)
                    .bind(*student)
                    .bind(body.verdict.as_str())
                    .bind(user.account.id)
                    .bind(now),
            )
            .await?;
        if changed != 1 {
            return Err(AppError::not_found());
        }
    }
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        &format!("declaration.students_{}", body.verdict),
        "approval",
        Some(step),
        json!({"declaration": id, "students": targets.len()}),
    )
    .await?;
    tx.commit().await?;
    Ok(targets.len())
}

/// Settles the students left unmarked by the institution's result, grants every passed student the
/// plan's hours and marks the declaration approved — inside the deciding transaction. Returns how many
/// passed.
async fn finish_approved(tx: &mut Tx, tenant: &str, id: i64, actor: i64) -> Result<i64, AppError> {
    let now = Utc::now();
    let row: Option<(i64, String, i64, String, i64, String)> = tx
        .opt(
            q("SELECT d.class_id, c.name, p.credit_year, p.subject_kind, p.hours, p.name FROM class_declarations d \
               JOIN training_classes c ON c.tenant_id = d.tenant_id AND c.id = d.class_id \
               JOIN training_plans p ON p.tenant_id = d.tenant_id AND p.id = c.plan_id \
               WHERE d.tenant_id = $1 AND d.id = $2 AND d.status = 'pending'")
            .bind(tenant)
            .bind(id),
        )
        .await?;
    let Some((class_id, class_name, year, subject, hours_each, plan_name)) = row else {
        return Err(AppError::conflict("already_decided", "申报状态已变化，请刷新后重试"));
    };
    tx.run(
        q("UPDATE declaration_students SET verdict = CASE WHEN passed THEN 'pass' ELSE 'fail' END, decided_by = $3, decided_at = $4 \
           WHERE tenant_id = $1 AND declaration_id = $2 AND verdict = 'pending'")
        .bind(tenant)
        .bind(id)
        .bind(actor)
        .bind(now),
    )
    .await?;
    let passed: Vec<(i64,)> = tx
        .all(
            q("SELECT person_id FROM declaration_students WHERE tenant_id = $1 AND declaration_id = $2 AND verdict = 'pass' ORDER BY person_id")
                .bind(tenant)
                .bind(id),
        )
        .await?;
    let course = format!("{plan_name}（{class_name}）");
    for (person_id,) in &passed {
        hours::grant_tx(
            tx,
            tenant,
            NewCredit {
                person_id: *person_id,
                year,
                subject: &subject,
                hours: hours_each,
                source: "offline",
                source_ref: &format!("class:{class_id}:{person_id}"),
                course: Some(&course),
                granted_by: Some(actor),
            },
        )
        .await?;
    }
    let person_years: Vec<(i64, i64)> = passed.iter().map(|(p,)| (*p, year)).collect();
    if !person_years.is_empty() {
        hours::status::mark_many_tx(tx, tenant, &person_years).await?;
    }
    tx.run(
        q("UPDATE class_declarations SET status = 'approved', decided_at = $3 WHERE tenant_id = $1 AND id = $2 AND status = 'pending'")
            .bind(tenant)
            .bind(id)
            .bind(now),
    )
    .await?;
    Ok(passed.len() as i64)
}

/// Class declarations in the approval queue: the last step's approval settles the students and grants
/// the passed ones their hours; a rejection ends the declaration. They cannot be returned: the class is
/// declared once.
#[derive(Default)]
pub struct Declarations;

impl RequestKind for Declarations {
    const CODE: &'static str = "declaration";
    const LABEL: &'static str = "培训班学时审核";
    const NOUN: &'static str = "培训班学时申报";
    const OBJECT: &'static str = "declarations";
    const DETAIL_TEMPLATE: &'static str = "approval_declaration.html";
    const GROUPED: bool = true;

    async fn forwarded(&self, tx: &mut Tx, d: &Decided<'_>, next: &str) -> Result<Notice, AppError> {
        let item = d.item;
        // A declaration keeps no trail of its own: the forwarding is recorded on the decided queue
        // row, whose trail the approval page shows.
        audit::record_tx(tx, d.tenant, Some(d.actor), "declaration.step_approved", "approval", Some(item.id), json!({"next": next}))
            .await?;
        Ok(Notice {
            title: "培训班学时申报已通过一级审核".to_owned(),
            body: format!("{} 已通过{}审核，已提交{}审核。", item.summary, item.approver_org_name, next),
            mail: false,
        })
    }

    async fn approved(&self, tx: &mut Tx, d: &Decided<'_>) -> Result<Notice, AppError> {
        let passed = finish_approved(tx, d.tenant, d.item.subject_id, d.actor).await?;
        Ok(Notice {
            title: "培训班学时申报已通过".to_owned(),
            body: format!("{} 已审核通过，{passed} 名合格学员的学时已计入。", d.item.summary),
            mail: true,
        })
    }

    async fn rejected(&self, tx: &mut Tx, d: &Decided<'_>) -> Result<Notice, AppError> {
        let changed = tx
            .run(
                q("UPDATE class_declarations SET status = 'rejected', decided_at = $3 WHERE tenant_id = $1 AND id = $2 AND status = 'pending'")
                    .bind(d.tenant)
                    .bind(d.item.subject_id)
                    .bind(Utc::now()),
            )
            .await?;
        if changed != 1 {
            return Err(AppError::conflict("already_decided", "申报状态已变化，请刷新后重试"));
        }
        Ok(Notice {
            title: "培训班学时申报未通过".to_owned(),
            body: format!("{} 未通过{}审核。原因：{}", d.item.summary, d.item.approver_org_name, d.reason_text()),
            mail: true,
        })
    }

    type Detail = DeclarationWithPlan;

    async fn detail(&self, state: &AppState, tenant: &str, item: &Approval) -> Result<DeclarationWithPlan, AppError> {
        with_plan(state, tenant, item.subject_id).await
    }
}

/// What the approval detail page shows of a declaration (the student review has its own page).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeclarationWithPlan {
    #[serde(flatten)]
    pub declaration: DeclarationView,
    /// The plan the declared class was held under; null when the plan is gone
    pub plan: Option<plans::PlanView>,
}

pub async fn with_plan(state: &AppState, tenant: &str, id: i64) -> Result<DeclarationWithPlan, AppError> {
    let declaration = get(&state.db, tenant, id).await?.ok_or_else(AppError::not_found)?;
    let words = state.tenants.words(tenant);
    let plan = plans::get(&state.db, tenant, declaration.plan_id).await?.map(|p| p.view(words));
    Ok(DeclarationWithPlan { declaration: declaration.view(words), plan })
}

// ---- API ----

#[utoipa::path(post, path = "/classes/{id}/declaration", request_body = DeclareBody, tag = "institutions",
    params(("id" = i64, Path)),
    responses((status = 201, body = DeclarationView, description = "Declared and routed"), (status = 409, description = "Already declared"),
        (status = 422, description = "No scores, or the route needs a choice")))]
pub async fn api_declare(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<DeclareBody>,
) -> Result<Response, AppError> {
    let declaration = declare(&state, &user, id, &body).await?;
    Ok((StatusCode::CREATED, Json(declaration.view(&user.tenant.tenant.settings.words))).into_response())
}

#[utoipa::path(get, path = "/declarations/{id}", tag = "institutions", params(("id" = i64, Path)),
    responses((status = 200, body = DeclarationAccess, description = "The declaration with its counts"), (status = 404, description = "Neither the institution's nor on the caller's route")))]
pub async fn api_get(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<Json<DeclarationAccess>, AppError> {
    let (declaration, access) = visible(&state, &user, id).await?;
    let can_mark = matches!(access, Access::Reviewer(Some(_)));
    Ok(Json(DeclarationAccess { declaration: declaration.view(&user.tenant.tenant.settings.words), can_mark }))
}

/// A declaration and whether the caller may mark its students now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeclarationAccess {
    #[serde(flatten)]
    pub declaration: DeclarationView,
    /// The caller's step on its route is pending
    pub can_mark: bool,
}

#[utoipa::path(get, path = "/declarations/{id}/students", tag = "institutions", params(("id" = i64, Path), StudentQuery),
    responses((status = 200, body = Paged<StudentView>, description = "Declared students, ID numbers masked"), (status = 404, description = "Not visible to the caller")))]
pub async fn api_students(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(query): Query<StudentQuery>,
) -> Result<Json<Paged<StudentView>>, AppError> {
    let (_, _, rows, total) = students(&state, &user, id, &query).await?;
    Ok(Json(Paged::new(rows.iter().map(Student::view).collect(), total, query.paging())))
}

#[utoipa::path(post, path = "/declarations/{id}/verdicts", request_body = VerdictBody, tag = "institutions",
    params(("id" = i64, Path)),
    responses((status = 200, body = StudentsMarked, description = "All marked"), (status = 403, description = "Not a reviewer"), (status = 404, description = "A student is not in the declaration"),
        (status = 409, description = "The caller's step is decided")))]
pub async fn api_mark(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<VerdictBody>,
) -> Result<Json<StudentsMarked>, AppError> {
    let marked = mark(&state, &user, id, &body).await?;
    Ok(Json(StudentsMarked { marked, verdict: body.verdict }))
}

/// The answer to marking students: how many, and as what.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StudentsMarked {
    pub marked: usize,
    /// pass or fail
    pub verdict: String,
}

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api_declare)).routes(routes!(api_get)).routes(routes!(api_students)).routes(routes!(api_mark))
}
