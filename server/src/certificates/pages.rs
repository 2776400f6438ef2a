//! Certificate pages: 我的证书 with its history, 证书打印 for admins, 免训申请 for unit admins, and the public 证书验证 page the QR code opens.

use super::exemptions;
use super::{AdminQuery, Application, PrintInput};
use crate::auth::CurrentUser;
use crate::auth::csrf::CsrfForm;
use crate::error::AppError;
use crate::hours;
use crate::paging::Paging;
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::web::{Page, done_redirect, origin};
use axum::Router;
use axum::extract::State;

use crate::paging::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{PageQuery, VerifyQuery, badge, download};
use super::*;

pub fn routes(state: &AppState) -> Router<AppState> {
    let search = || crate::auth::throttle::limited(state, "search");
    Router::new()
        .route("/certificates", get(list_page).post(apply_submit))
        .route("/certificates/recognition", post(recognition_submit))
        .route("/certificates/{number}/pdf", get(download))
        .route("/certificates/{number}/badge", get(badge))
        .route("/certificates/manage", get(manage_page))
        .route("/certificates/print", post(print_submit))
        .route("/certificates/batch-issue", post(issue_submit))
        .route("/exemptions", get(exemptions_page).post(exemption_submit))
        .route("/verify", get(verify_page).layer(search()))
        .route("/verify/person", post(lookup_submit).layer(search()))
}

async fn list_data(state: &AppState, user: &CurrentUser) -> Result<Value, AppError> {
    let this = hours::this_year();
    let settings = &user.tenant.tenant.settings;
    let kinds: Vec<Value> = settings.certificates.kinds.iter().map(|k| json!({"code": k.code, "name": k.name})).collect();
    let items: Vec<CertificateView> = super::mine(state, user).await?.iter().map(|c| c.view(settings)).collect();
    let current_recognition = items.iter().find(|c| c.kind == super::RECOGNITION && c.status == super::CertificateStatus::Valid);
    Ok(json!({"items": items, "kinds": kinds, "years": ((this - 5)..=this).rev().collect::<Vec<_>>(), "this_year": this,
              "recognition_proof": settings.certificates.recognition_proof, "recognition": current_recognition}))
}

async fn list_page(State(state): State<AppState>, page: Page) -> Result<Response, AppError> {
    let user = page.require_user()?;
    page.render("certificates.html", list_data(&state, user).await?)
}

#[derive(Debug, Deserialize)]
struct ApplyForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    year: i64,
}

/// Renders the certificates page again with a fixable error (and the plugin's reasons, if any).
async fn list_with_error(state: &AppState, page: &Page, user: &CurrentUser, err: AppError) -> Result<Response, AppError> {
    if !err.fixable_on_page() {
        return Err(err);
    }
    let mut data = list_data(state, user).await?;
    data["error"] = json!(err.message);
    data["reasons"] = err.extra.as_ref().and_then(|e| e.get("reasons")).cloned().unwrap_or(json!([]));
    data["errors"] = json!(err.fields);
    page.render_status(err.status, "certificates.html", data)
}

async fn apply_submit(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<ApplyForm>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match super::apply(&state, user, &origin(&state, &headers), &Application { kind: form.kind, year: form.year }).await {
        Ok(_) => Ok(done_redirect(&page.tenant.base, "/certificates", "saved", 1)),
        Err(err) => list_with_error(&state, &page, user, err).await,
    }
}

#[derive(Debug, Deserialize)]
struct Empty {}

async fn recognition_submit(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match super::recognition(&state, user, &origin(&state, &headers)).await {
        Ok(_) => Ok(done_redirect(&page.tenant.base, "/certificates", "saved", 1)),
        Err(err) => list_with_error(&state, &page, user, err).await,
    }
}

/// 证书打印 (seed 003) / 电子证书查询打印 (seed 004): admins list the certificates of their scope and
/// print the chosen ones, or all the filters find, into one PDF.
async fn manage_page(State(state): State<AppState>, page: Page, Query(query): Query<AdminQuery>) -> Result<Response, AppError> {
    manage_render(&state, &page, &query, None).await
}

async fn manage_render(state: &AppState, page: &Page, query: &AdminQuery, error: Option<&AppError>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let (rows, total) = super::admin_list(state, user, query).await?;
    let settings = &user.tenant.tenant.settings;
    let items: Vec<ManagedCertificate> = rows.iter().map(|r| r.view(settings)).collect();
    let this = hours::this_year();
    let mut kinds: Vec<Value> = settings.certificates.kinds.iter().map(|k| json!({"code": k.code, "name": k.name})).collect();
    for extra in [super::RECOGNITION, super::EXEMPTION] {
        if let Some(name) = super::kind_name(settings, extra) {
            kinds.push(json!({"code": extra, "name": name}));
        }
    }
    let departments = crate::hours::admin::department_choices(state, user, None).await?;
    let issuable: Vec<Value> = settings.certificates.kinds.iter().map(|k| json!({"code": k.code, "name": k.name})).collect();
    let issues = user.can(state, "certificates", "issue").await && !issuable.is_empty();
    let data = json!({"items": items, "pager": query.paging().pager(total), "kinds": kinds, "departments": departments,
           "issues": issues, "issuable": issuable, "this_year": this,
           "years": ((this - 5)..=this).rev().collect::<Vec<_>>(), "print_limit": super::PRINT_LIMIT,
           "error": error.map(|e| e.message.clone()),
           "query": {"year": query.year, "q": query.q, "department": query.department, "kind": query.kind,
                     "status": query.status.clone().unwrap_or_else(|| "valid".into())}});
    page.render_status(error.map_or(StatusCode::OK, |e| e.status), "certificates_manage.html", data)
}

#[derive(Debug, Deserialize)]
struct PrintForm {
    #[serde(default)]
    numbers: Vec<String>,
    #[serde(default)]
    all: Option<String>,
    #[serde(default)]
    year: Option<String>,
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    department: Option<String>,
    #[serde(default)]
    kind: Option<String>,
}

async fn print_submit(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<PrintForm>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let number = |text: &Option<String>| text.as_deref().and_then(|t| t.trim().parse::<i64>().ok());
    let input = PrintInput {
        numbers: form.numbers,
        all: form.all.is_some_and(|a| a == "1"),
        year: number(&form.year),
        q: form.q,
        department: number(&form.department),
        unit: None,
        kind: form.kind,
    };
    match super::print(&state, user, &origin(&state, &headers), &input).await {
        Ok(bytes) => Ok(pdf_response(bytes, "证书打印.pdf")),
        // Nothing chosen, too many: the list again, with the message.
        Err(err) if err.fixable_on_page() => {
            let query = AdminQuery {
                year: input.year,
                q: input.q,
                department: input.department,
                kind: input.kind,
                page: 1,
                ..AdminQuery::default()
            };
            manage_render(&state, &page, &query, Some(&err)).await
        }
        Err(err) => Err(err),
    }
}

#[derive(Debug, Deserialize)]
struct IssueForm {
    #[serde(default)]
    year: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    department: String,
}

/// 批量开具: certificates for everyone qualified in the admin's scope (or one department), then the list
/// of that year's and kind's certificates, ready to print.
async fn issue_submit(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<IssueForm>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let input = super::BatchIssue {
        year: form.year.trim().parse().ok(),
        kind: form.kind.clone(),
        unit: None,
        department: form.department.trim().parse().ok(),
    };
    match super::issue_batch(&state, user, &origin(&state, &headers), &input).await {
        Ok(done) => Ok(crate::web::done_redirect(
            &page.tenant.base,
            &format!("/certificates/manage?year={}&kind={}", input.year.unwrap_or_default(), urlencoding::encode(&input.kind)),
            "certificates_issued",
            done.numbers.len() as i64,
        )),
        Err(err) if err.fixable_on_page() => {
            let query = AdminQuery { year: input.year, kind: Some(input.kind), page: 1, ..AdminQuery::default() };
            let mut shown = err.clone();
            shown.message = err.page_text();
            manage_render(&state, &page, &query, Some(&shown)).await
        }
        Err(err) => Err(err),
    }
}

async fn exemptions_data(state: &AppState, user: &CurrentUser, page_no: i64) -> Result<Value, AppError> {
    let (rows, total) = exemptions::list(state, user, Paging::new(page_no, None)).await?;
    let this = hours::this_year();
    Ok(json!({"items": rows.into_iter().map(exemptions::Exemption::into_view).collect::<Vec<_>>(),
              "pager": Paging::new(page_no, None).pager(total), "years": ((this - 2)..=this).rev().collect::<Vec<_>>()}))
}

async fn exemptions_page(State(state): State<AppState>, page: Page, Query(query): Query<PageQuery>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    page.render("exemptions.html", exemptions_data(&state, user, query.page).await?)
}

#[derive(Debug, Deserialize)]
struct ExemptionForm {
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    year: i64,
    #[serde(default)]
    reason: String,
}

async fn exemption_submit(
    State(state): State<AppState>,
    page: Page,
    CsrfForm(form): CsrfForm<ExemptionForm>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let filing = exemptions::Filing { id_number: form.id_number.clone(), year: form.year, reason: form.reason.clone() };
    match exemptions::file(&state, user, &filing).await {
        Ok(_) => Ok(done_redirect(&page.tenant.base, "/exemptions", "saved", 1)),
        Err(err) if err.fixable_on_page() => {
            let mut data = exemptions_data(&state, user, 1).await?;
            data["error"] = json!(err.message);
            data["errors"] = json!(err.fields);
            data["form"] = json!({"id_number": form.id_number, "year": form.year, "reason": form.reason});
            page.render_status(err.status, "exemptions.html", data)
        }
        Err(err) => Err(err),
    }
}

/// The verification page's data: the number look-up's result (if any) and a fresh captcha for the
/// look-up by ID number and name.
async fn verify_data(state: &AppState, tenant: &TenantCtx, number: &str, result: Value) -> Result<Value, AppError> {
    let (captcha_id, captcha_image) = crate::auth::throttle::new_captcha(&state.db, tenant.code()).await?;
    Ok(json!({"number": number, "result": result, "captcha": {"id": captcha_id, "image": captcha_image}}))
}

/// The public verification page (the QR code's target): no login needed.
async fn verify_page(State(state): State<AppState>, page: Page, Query(query): Query<VerifyQuery>) -> Result<Response, AppError> {
    let number = query.number.clone().unwrap_or_default();
    let result = if number.trim().is_empty() {
        Value::Null
    } else {
        match super::by_number(&state, page.tenant.code(), &number).await {
            Ok(certificate) => json!(verified(&state, &page.tenant, &certificate, query.proof.as_deref()).await?),
            Err(err) if err.status == StatusCode::NOT_FOUND => json!({"missing": true}),
            Err(err) => return Err(err),
        }
    };
    page.render("verify.html", verify_data(&state, &page.tenant, number.trim(), result).await?)
}

#[derive(Debug, Deserialize)]
struct LookupForm {
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    captcha_id: String,
    #[serde(default)]
    captcha_answer: String,
}

/// Seed 001 §12 档案查询: a person's certificates by their full ID number together with their exact name,
/// behind a captcha and the public rate limit. Partial input finds nothing, so nobody can be listed.
async fn lookup_submit(State(state): State<AppState>, page: Page, CsrfForm(form): CsrfForm<LookupForm>) -> Result<Response, AppError> {
    let tenant = page.tenant.code();
    if !crate::auth::throttle::check_captcha(&state.db, tenant, &form.captcha_id, &form.captcha_answer).await? {
        let mut data = verify_data(&state, &page.tenant, "", Value::Null).await?;
        data["lookup_error"] = json!("验证码不正确，请重新输入");
        return page.render_status(StatusCode::UNPROCESSABLE_ENTITY, "verify.html", data);
    }
    let found = super::lookup(&state, tenant, &form.id_number, &form.name).await?;
    let mut data = verify_data(&state, &page.tenant, "", Value::Null).await?;
    data["lookup"] = json!(found.iter().map(|c| c.public_record(&page.tenant.tenant.settings)).collect::<Vec<_>>());
    page.render("verify.html", data)
}
