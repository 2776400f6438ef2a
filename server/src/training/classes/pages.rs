//! Pages for institutions' classes, scores and declarations (培训班管理, 成绩录入, 申报花名册) and for the
//! reviewers' per-student audit of a declaration. Every page calls the same domain functions as the API;
//! a mistake the user can fix re-renders the page with the Chinese message.

use axum::Router;
use axum::extract::{Multipart, Path, State};

use crate::paging::Query;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::CurrentUser;
use crate::auth::csrf::{self, CsrfForm};
use crate::error::AppError;
use crate::rules::model::{RequestKind, Subject};
use crate::state::AppState;
use crate::training::classes::{self, Class, ClassBody, ClassQuery, ScoreBody, ScoreQuery};
use crate::training::declarations::{self, Access, DeclareBody, StudentQuery, VerdictBody};
use crate::training::plans;
use crate::web::{Page, done_redirect};

/// The departments an institution may send a professional declaration to, where the province offers a choice.
const CHOICES: &[(&str, &str)] = &[("authority", "行业主管部门"), ("hr_bureau", "同级人社部门")];

fn show_error(data: &mut Value, err: &AppError) {
    data["error"] = json!(err.message);
    data["errors"] = json!(err.fields);
    if let Some(extra) = &err.extra {
        data["error_extra"] = extra.clone();
    }
}

/// Renders `template` with the error when the user can fix it, else passes the error on.
fn fixable(page: &Page, err: AppError, template: &str, mut data: Value) -> Result<Response, AppError> {
    if !err.fixable_on_page() {
        return Err(err);
    }
    show_error(&mut data, &err);
    page.render_status(err.status, template, data)
}

fn query_string(pairs: &[(&str, Option<String>)]) -> String {
    pairs
        .iter()
        .filter_map(|(k, v)| v.as_deref().filter(|v| !v.is_empty()).map(|v| format!("{k}={}", urlencoding::encode(v))))
        .collect::<Vec<_>>()
        .join("&")
}

// ---- classes ----

async fn classes_data(state: &AppState, user: &CurrentUser, query: &ClassQuery) -> Result<Value, AppError> {
    let (rows, total) = classes::list(state, user, query).await?;
    let filter = query_string(&[
        ("q", query.q.clone()),
        ("year", query.year.map(|y| y.to_string())),
        ("subject_kind", query.subject_kind.clone()),
        ("declaration", query.declaration.clone()),
    ]);
    Ok(json!({
        "items": rows.iter().map(Class::view).collect::<Vec<_>>(),
        "query": {"q": query.q, "year": query.year, "subject_kind": query.subject_kind, "declaration": query.declaration},
        "filter": filter,
        "subjects": user.tenant.tenant.settings.subjects().iter().map(|(code, name)| json!({"code": code, "name": name})).collect::<Vec<_>>(),
        "declarations": std::iter::once(json!({"code": classes::NOT_DECLARED.0, "name": classes::NOT_DECLARED.1}))
            .chain(crate::codes::choices(classes::DeclarationStatus::ALL.iter().copied())).collect::<Vec<_>>(),
        "pager": query.paging().pager(total),
    }))
}

async fn classes_page(State(state): State<AppState>, page: Page, Query(query): Query<ClassQuery>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    page.render("classes.html", classes_data(&state, user, &query).await?)
}

#[derive(Debug, Deserialize)]
struct IdsForm {
    #[serde(default)]
    ids: Vec<i64>,
}

async fn classes_delete(State(state): State<AppState>, page: Page, CsrfForm(form): CsrfForm<IdsForm>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match classes::delete(&state, user, &form.ids).await {
        Ok(n) => Ok(done_redirect(&page.tenant.base, "/classes", "deleted", n as i64)),
        Err(err) => {
            let data = classes_data(&state, user, &ClassQuery { page: 1, ..Default::default() }).await?;
            fixable(&page, err, "classes.html", data)
        }
    }
}

/// The class form's data: the institution's approved plans (their data fills the form's summary).
async fn class_form_data(state: &AppState, user: &CurrentUser, class: Option<&Class>) -> Result<Value, AppError> {
    user.authorize(state, "classes", "manage").await?;
    let institution = user.account.org_id.ok_or_else(AppError::forbidden)?;
    let plans = plans::approved_for(&state.db, user.tenant_code(), institution).await?;
    let form = class.map(|c| {
        json!({"plan_id": c.plan_id, "name": c.name, "capacity": c.capacity, "start_date": c.start_date, "end_date": c.end_date,
               "place": c.place, "teacher": c.teacher})
    });
    Ok(
        json!({"plans": plans.iter().map(|p| p.view(&user.tenant.tenant.settings.words)).collect::<Vec<_>>(), "class": class.map(Class::view), "form": form}),
    )
}

async fn new_class_page(State(state): State<AppState>, page: Page) -> Result<Response, AppError> {
    let user = page.require_user()?;
    page.render("class_form.html", class_form_data(&state, user, None).await?)
}

async fn edit_class_page(State(state): State<AppState>, page: Page, Path(id): Path<i64>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let class = classes::own(&state, user, id).await?;
    page.render("class_form.html", class_form_data(&state, user, Some(&class)).await?)
}

#[derive(Debug, Deserialize)]
struct ClassForm {
    #[serde(default)]
    plan_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    capacity: String,
    #[serde(default)]
    start_date: String,
    #[serde(default)]
    end_date: String,
    #[serde(default)]
    place: Option<String>,
    #[serde(default)]
    teacher: Option<String>,
}

impl ClassForm {
    fn body(&self) -> ClassBody {
        ClassBody {
            plan_id: self.plan_id.trim().parse().unwrap_or(0),
            name: self.name.clone(),
            capacity: self.capacity.trim().parse().unwrap_or(0),
            start_date: self.start_date.clone(),
            end_date: self.end_date.clone(),
            place: self.place.clone(),
            teacher: self.teacher.clone(),
        }
    }

    fn echo(&self) -> Value {
        json!({"plan_id": self.plan_id.trim().parse::<i64>().ok(), "name": self.name, "capacity": self.capacity, "start_date": self.start_date,
               "end_date": self.end_date, "place": self.place, "teacher": self.teacher})
    }
}

async fn save_class(state: &AppState, page: &Page, id: Option<i64>, form: ClassForm) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let result = match id {
        Some(id) => classes::update(state, user, id, &form.body()).await,
        None => classes::create(state, user, &form.body()).await,
    };
    match result {
        Ok(class) => Ok(done_redirect(&page.tenant.base, &format!("/classes/{}", class.id), "saved", 1)),
        Err(err) => {
            let class = match id {
                Some(id) => Some(classes::own(state, user, id).await?),
                None => None,
            };
            let mut data = class_form_data(state, user, class.as_ref()).await?;
            data["form"] = form.echo();
            fixable(page, err, "class_form.html", data)
        }
    }
}

async fn create_class(State(state): State<AppState>, page: Page, CsrfForm(form): CsrfForm<ClassForm>) -> Result<Response, AppError> {
    save_class(&state, &page, None, form).await
}

async fn update_class(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ClassForm>,
) -> Result<Response, AppError> {
    save_class(&state, &page, Some(id), form).await
}

// ---- scores ----

async fn class_data(state: &AppState, user: &CurrentUser, id: i64, query: &ScoreQuery) -> Result<Value, AppError> {
    let class = classes::own(state, user, id).await?;
    let plan = plans::get(&state.db, user.tenant_code(), class.plan_id).await?.map(|p| p.view(&user.tenant.tenant.settings.words));
    let (rows, total) = classes::scores(state, user, id, query).await?;
    let filter = query_string(&[("q", query.q.clone()), ("result", query.result.clone())]);
    Ok(json!({
        "class": class.view(),
        "plan": plan,
        "items": rows.iter().map(classes::Score::view).collect::<Vec<_>>(),
        "query": {"q": query.q, "result": query.result},
        "filter": filter,
        "pager": query.paging().pager(total),
        "columns": classes::IMPORT_COLUMNS.iter().map(|(_, label)| *label).collect::<Vec<_>>(),
    }))
}

async fn class_page(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    Query(query): Query<ScoreQuery>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    page.render("class.html", class_data(&state, user, id, &query).await?)
}

#[derive(Debug, Deserialize)]
struct ScoreForm {
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    score: String,
    /// "" (by score), "1" 合格 or "0" 不合格
    #[serde(default)]
    passed: String,
    #[serde(default)]
    remark: Option<String>,
}

impl ScoreForm {
    fn body(&self) -> ScoreBody {
        ScoreBody {
            id_number: self.id_number.clone(),
            name: self.name.clone(),
            score: json!(self.score),
            passed: match self.passed.as_str() {
                "1" => Some(true),
                "0" => Some(false),
                _ => None,
            },
            remark: self.remark.clone(),
        }
    }
}

/// After a score change: back to the class page, or the page again with the error.
async fn after_score_change(
    state: &AppState,
    page: &Page,
    id: i64,
    result: Result<usize, AppError>,
    done: &str,
    form: Option<&ScoreForm>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match result {
        Ok(n) => Ok(done_redirect(&page.tenant.base, &format!("/classes/{id}"), done, n as i64)),
        Err(err) => {
            let mut data = class_data(state, user, id, &ScoreQuery { page: 1, ..Default::default() }).await?;
            if let Some(form) = form {
                data["form"] = json!({"id_number": form.id_number, "name": form.name, "score": form.score, "passed": form.passed, "remark": form.remark});
            }
            fixable(page, err, "class.html", data)
        }
    }
}

async fn add_score(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ScoreForm>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let result = classes::add_score(&state, user, id, &form.body()).await.map(|_| 1);
    after_score_change(&state, &page, id, result, "saved", Some(&form)).await
}

async fn update_score(
    State(state): State<AppState>,
    page: Page,
    Path((id, score)): Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<ScoreForm>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let result = classes::update_score(&state, user, id, score, &form.body()).await.map(|_| 1);
    after_score_change(&state, &page, id, result, "saved", None).await
}

async fn delete_scores(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<IdsForm>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let result = classes::delete_scores(&state, user, id, &form.ids).await;
    after_score_change(&state, &page, id, result, "deleted", None).await
}

async fn import_scores(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let upload = crate::storage::upload::read_form_upload(multipart).await;
    let result = match upload {
        Ok(upload) => {
            csrf::verify(&headers, upload.csrf.as_deref())?;
            classes::import_scores(&state, user, id, &upload.filename, &upload.bytes).await.map(|r| r.added + r.updated)
        }
        Err(err) => Err(err),
    };
    after_score_change(&state, &page, id, result, "imported", None).await
}

// ---- roster and declaration ----

async fn roster_data(state: &AppState, user: &CurrentUser, id: i64) -> Result<Value, AppError> {
    let class = classes::own(state, user, id).await?;
    let tenant = user.tenant_code();
    let plan = plans::get(&state.db, tenant, class.plan_id).await?.ok_or_else(AppError::not_found)?;
    let students = classes::all_scores(&state.db, tenant, id).await?;
    let passed = students.iter().filter(|s| s.passed).count();
    let institution = crate::orgs::get(&state.db, tenant, class.institution_id).await?.ok_or_else(AppError::not_found)?;
    let subject = if plan.subject_kind == "public" { Subject::Public } else { Subject::Professional };
    let offers_choice =
        crate::approvals::route_asks_choice(state, tenant, plan.credit_year, &institution.level, RequestKind::ClassDeclaration, subject)
            .await;
    Ok(json!({
        "class": class.view(),
        "plan": plan.view(&user.tenant.tenant.settings.words),
        "students": students.iter().map(classes::Score::view).collect::<Vec<_>>(),
        "summary": {"students": students.len(), "passed": passed, "failed": students.len() - passed},
        "choices": if offers_choice { CHOICES.iter().map(|(code, name)| json!({"code": code, "name": name})).collect::<Vec<_>>() } else { Vec::new() },
    }))
}

async fn roster_page(State(state): State<AppState>, page: Page, Path(id): Path<i64>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    page.render("roster.html", roster_data(&state, user, id).await?)
}

#[derive(Debug, Deserialize)]
struct DeclareForm {
    #[serde(default)]
    choice: Option<String>,
}

async fn declare(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<DeclareForm>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match declarations::declare(&state, user, id, &DeclareBody { choice: form.choice }).await {
        Ok(_) => Ok(done_redirect(&page.tenant.base, "/classes", "submitted", 1)),
        Err(err) => {
            let data = roster_data(&state, user, id).await?;
            fixable(&page, err, "roster.html", data)
        }
    }
}

// ---- reviewers' per-student audit ----

async fn declaration_data(state: &AppState, user: &CurrentUser, id: i64, query: &StudentQuery) -> Result<Value, AppError> {
    let (declaration, access, rows, total) = declarations::students(state, user, id, query).await?;
    let filter = query_string(&[("q", query.q.clone()), ("result", query.result.clone())]);
    let pending_step = match access {
        Access::Reviewer(step) => step,
        Access::Institution => None,
    };
    Ok(json!({
        "declaration": declaration.view(&user.tenant.tenant.settings.words),
        "items": rows.iter().map(declarations::Student::view).collect::<Vec<_>>(),
        "can_mark": pending_step.is_some(),
        "approval_id": pending_step,
        "query": {"q": query.q, "result": query.result},
        "filter": filter,
        "results": [
            {"code": "passed", "name": "机构评定合格"}, {"code": "failed", "name": "机构评定不合格"},
            {"code": "pending", "name": "待审核"}, {"code": "pass", "name": "审核合格"}, {"code": "fail", "name": "审核不合格"}
        ],
        "pager": query.paging().pager(total),
    }))
}

async fn declaration_page(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    Query(query): Query<StudentQuery>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    page.render("declaration.html", declaration_data(&state, user, id, &query).await?)
}

#[derive(Debug, Deserialize)]
struct VerdictForm {
    #[serde(default)]
    ids: Vec<i64>,
    #[serde(default)]
    verdict: String,
    /// "1": every student the list's search shows (全部合格 / 全部不合格)
    #[serde(default)]
    all: Option<String>,
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    result: Option<String>,
}

async fn mark(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<VerdictForm>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let body = VerdictBody {
        ids: form.ids,
        all: form.all.as_deref() == Some("1"),
        verdict: form.verdict,
        q: form.q.clone(),
        result: form.result.clone(),
    };
    match declarations::mark(&state, user, id, &body).await {
        Ok(n) => {
            let filter = query_string(&[("q", form.q), ("result", form.result)]);
            let path = if filter.is_empty() { format!("/declarations/{id}") } else { format!("/declarations/{id}?{filter}") };
            Ok(done_redirect(&page.tenant.base, &path, "marked", n as i64))
        }
        Err(err) => {
            let query = StudentQuery { q: body.q, result: body.result, page: 1, per_page: None };
            let data = declaration_data(&state, user, id, &query).await?;
            fixable(&page, err, "declaration.html", data)
        }
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/classes", get(classes_page))
        .route("/classes/delete", post(classes_delete))
        .route("/classes/new", get(new_class_page).post(create_class))
        .route("/classes/{id}", get(class_page))
        .route("/classes/{id}/edit", get(edit_class_page).post(update_class))
        .route("/classes/{id}/scores", post(add_score))
        .route("/classes/{id}/scores/delete", post(delete_scores))
        .route("/classes/{id}/scores/import", post(import_scores))
        .route("/classes/{id}/scores/{score}", post(update_score))
        .route("/classes/{id}/roster", get(roster_page))
        .route("/classes/{id}/declare", post(declare))
        .route("/declarations/{id}", get(declaration_page))
        .route("/declarations/{id}/verdicts", post(mark))
}
