//! Certificates over HTTP: the JSON API under `/api/v1` and the pages (我的证书 with its history,
//! 证书打印 for admins, 免训申请 for unit admins, and the public 证书验证 page the QR code opens).
//! Handlers parse, authorize and render; the domain is in the parent module.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::exemptions;
use super::{AdminQuery, Application, Certificate, PrintInput};
use crate::auth::CurrentUser;
use crate::auth::csrf::CsrfForm;
use crate::error::AppError;
use crate::hours;
use crate::paging::Paging;
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::web::{Page, done_redirect, origin};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LookupInput {
    pub id_number: String,
    pub name: String,
    /// From the `captcha` of a previous 422 answer
    #[serde(default)]
    pub captcha_id: Option<String>,
    #[serde(default)]
    pub captcha_answer: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VerifyQuery {
    pub number: Option<String>,
    /// The signed proof from the QR code (a compact JWS); checked against the tenant's keys
    pub proof: Option<String>,
}

/// The public record, with the verdict on a proof when one came along.
async fn verified(state: &AppState, tenant: &TenantCtx, certificate: &Certificate, proof: Option<&str>) -> Result<Value, AppError> {
    let mut record = certificate.public_json(&tenant.tenant.settings);
    if let Some(proof) = proof.map(str::trim).filter(|p| !p.is_empty()) {
        let keys = crate::keys::public_keys(&state.db, tenant.code(), crate::keys::CERTIFICATES).await?;
        let (check, _) = super::check_proof(proof, &keys, Some((certificate, tenant.code())));
        let code = match &check {
            super::ProofCheck::Valid => "valid",
            super::ProofCheck::Mismatch => "mismatch",
            super::ProofCheck::Invalid(_) => "invalid",
        };
        record["signature"] = json!({"result": code, "label": check.label()});
    }
    Ok(record)
}

// ---- API ----

#[utoipa::path(post, path = "/t/{tenant}/api/v1/certificates/lookup", request_body = LookupInput, tag = "certificates",
    responses((status = 200, description = "{items: [public records]}: empty unless ID number and name both match"),
              (status = 422, description = "captcha_required or bad_captcha, with a new {captcha: {id, image}}")))]
pub async fn api_lookup(State(state): State<AppState>, tenant: TenantCtx, Json(input): Json<LookupInput>) -> Result<Json<Value>, AppError> {
    let code = tenant.code();
    let solved = match (&input.captcha_id, &input.captcha_answer) {
        (Some(id), Some(answer)) => crate::auth::throttle::check_captcha(&state.db, code, id, answer).await?,
        _ => false,
    };
    if !solved {
        let (id, image) = crate::auth::throttle::new_captcha(&state.db, code).await?;
        let (error, message) = if input.captcha_answer.is_some() {
            ("bad_captcha", "验证码错误，请重新输入")
        } else {
            ("captcha_required", "请输入验证码")
        };
        return Err(
            AppError::new(StatusCode::UNPROCESSABLE_ENTITY, error, message).with_extra(json!({"captcha": {"id": id, "image": image}}))
        );
    }
    let settings = &tenant.tenant.settings;
    let items: Vec<Value> =
        super::lookup(&state, code, &input.id_number, &input.name).await?.iter().map(|c| c.public_json(settings)).collect();
    Ok(Json(json!({"items": items})))
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/certificates/applications", request_body = Application, tag = "certificates",
    responses((status = 201, description = "Issued: {number, kind, year, status, state, hours, …}; the PDF follows from a background job"),
              (status = 200, description = "Already issued: the valid certificate"),
              (status = 422, description = "{code: not_eligible, reasons: […]} or field errors")))]
pub async fn api_apply(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(input): Json<Application>,
) -> Result<Response, AppError> {
    let (certificate, created) = super::apply(&state, &user, &origin(&state, &headers), &input).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(certificate.to_json(&user.tenant.tenant.settings))).into_response())
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/certificates/recognition", tag = "certificates",
    responses((status = 201, description = "This year's recognition proof (earlier ones of the year become void), with detail.courses"),
              (status = 422, description = "no_online_hours: nothing from a recognised platform this year"),
              (status = 404, description = "The tenant offers no recognition proof")))]
pub async fn api_recognition(State(state): State<AppState>, user: CurrentUser, headers: HeaderMap) -> Result<Response, AppError> {
    let certificate = super::recognition(&state, &user, &origin(&state, &headers)).await?;
    Ok((StatusCode::CREATED, Json(certificate.to_json(&user.tenant.tenant.settings))).into_response())
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/me/certificates", tag = "certificates", responses((status = 200, description = "{items: […]} with state generating/ready/failed/void/revoked")))]
pub async fn api_mine(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Value>, AppError> {
    let settings = &user.tenant.tenant.settings;
    let items: Vec<Value> = super::mine(&state, &user).await?.iter().map(|c| c.to_json(settings)).collect();
    Ok(Json(json!({"items": items})))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/certificates/{number}", tag = "certificates", params(("number" = String, Path), VerifyQuery),
    responses((status = 200, description = "Public verification: {number, valid, status, kind, year, person_name (masked), unit_name, issuer, hours, …; signature: {result: valid|mismatch|invalid} when a proof was given}"),
              (status = 404, description = "No such certificate in this tenant")))]
pub async fn api_verify(
    State(state): State<AppState>,
    tenant: TenantCtx,
    Path(number): Path<String>,
    Query(query): Query<VerifyQuery>,
) -> Result<Json<Value>, AppError> {
    let certificate = super::by_number(&state, tenant.code(), &number).await?;
    Ok(Json(verified(&state, &tenant, &certificate, query.proof.as_deref()).await?))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/certificates/{number}/pdf", tag = "certificates", params(("number" = String, Path)),
    responses((status = 200, description = "The certificate as PDF", content_type = "application/pdf"),
              (status = 409, description = "generating (try again shortly) or document_failed"),
              (status = 410, description = "The certificate is void or revoked"),
              (status = 404, description = "Not the caller's, nor of a person in the admin's scope")))]
pub async fn download(State(state): State<AppState>, user: CurrentUser, Path(number): Path<String>) -> Result<Response, AppError> {
    let certificate = super::accessible(&state, &user, &number).await?;
    match certificate.state() {
        "ready" => {}
        "void" | "revoked" => {
            return Err(AppError::new(StatusCode::GONE, "not_valid", format!("该证书{}，不能下载", certificate.state_label())));
        }
        "failed" => return Err(AppError::conflict("document_failed", "证书文件生成失败，请联系管理员")),
        _ => return Err(AppError::conflict("generating", "证书文件正在生成，请稍后再试")),
    }
    let blob = certificate.document_blob_id.ok_or_else(|| AppError::internal("ready certificate without a document"))?;
    crate::storage::download(&state, user.tenant_code(), blob).await
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/certificates/{number}/badge", tag = "certificates", params(("number" = String, Path)),
    responses((status = 200, description = "An Open Badges 3.0 OpenBadgeCredential (W3C Verifiable Credential) with an eddsa-jcs-2022 Data Integrity proof", content_type = "application/ld+json"),
              (status = 410, description = "The certificate is void or revoked"),
              (status = 404, description = "Not the caller's, nor of a person in the admin's scope")))]
pub async fn badge(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> Result<Response, AppError> {
    let certificate = super::accessible(&state, &user, &number).await?;
    if certificate.status != "valid" {
        return Err(AppError::new(StatusCode::GONE, "not_valid", format!("该证书{}，不能导出", certificate.state_label())));
    }
    let credential = super::badge::credential(&state, &user.tenant.tenant.settings, &origin(&state, &headers), &certificate).await?;
    let disposition = format!("attachment; filename=\"{}.json\"", certificate.number);
    Ok(([(header::CONTENT_TYPE, "application/ld+json".to_owned()), (header::CONTENT_DISPOSITION, disposition)], Json(credential))
        .into_response())
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/keys", tag = "certificates",
    responses((status = 200, description = "The tenant's certificate signing keys as a JWK set (Ed25519, current and retired)")))]
pub async fn api_keys(State(state): State<AppState>, tenant: TenantCtx) -> Result<Json<Value>, AppError> {
    // Publishing creates the first key, so verifiers can fetch it before anything was issued.
    crate::keys::current(&state.db, tenant.code(), crate::keys::CERTIFICATES).await?;
    Ok(Json(crate::keys::jwks(&state.db, tenant.code(), crate::keys::CERTIFICATES).await?))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/certificates", tag = "certificates", params(AdminQuery),
    responses((status = 200, description = "{items, total, page, per_page}: certificates of people in the admin's scope"), (status = 403, description = "Not allowed")))]
pub async fn api_admin_list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<AdminQuery>,
) -> Result<Json<Value>, AppError> {
    let (rows, total) = super::admin_list(&state, &user, &query).await?;
    let settings = &user.tenant.tenant.settings;
    let items: Vec<Value> = rows.iter().map(|r| admin_row_json(r, settings)).collect();
    Ok(Json(json!({"items": items, "total": total, "page": query.paging().page, "per_page": query.per_page()})))
}

fn admin_row_json(row: &super::AdminRow, settings: &crate::tenancy::TenantSettings) -> Value {
    let mut value = row.certificate.to_json(settings);
    value["department_name"] = json!(row.department_name);
    value
}

fn pdf_response(bytes: Vec<u8>, filename: &str) -> Response {
    let disposition = format!("attachment; filename*=UTF-8''{}", urlencoding::encode(filename));
    ([(header::CONTENT_TYPE, "application/pdf".to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response()
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/certificates/print", request_body = PrintInput, tag = "certificates",
    responses((status = 200, description = "One PDF with every chosen certificate, one per page", content_type = "application/pdf"),
              (status = 422, description = "nothing_to_print, too_many (over 1,000) or field errors"),
              (status = 404, description = "A chosen number is not a valid certificate in the caller's scope")))]
pub async fn api_print(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(input): Json<PrintInput>,
) -> Result<Response, AppError> {
    let bytes = super::print(&state, &user, &origin(&state, &headers), &input).await?;
    Ok(pdf_response(bytes, "证书打印.pdf"))
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/exemptions", request_body = exemptions::Filing, tag = "certificates",
    responses((status = 201, description = "{id}: filed and waiting for the superior"), (status = 409, description = "already_filed"),
              (status = 422, description = "Field errors"), (status = 404, description = "The tenant offers no exemption proof")))]
pub async fn api_file_exemption(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(input): Json<exemptions::Filing>,
) -> Result<Response, AppError> {
    let id = exemptions::file(&state, &user, &input).await?;
    Ok((StatusCode::CREATED, Json(json!({"id": id}))).into_response())
}

crate::paging::list_query! {
    #[derive(Debug, Deserialize, utoipa::IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct PageQuery {
    }
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/exemptions", tag = "certificates", params(PageQuery),
    responses((status = 200, description = "{items, total}: exemptions filed for people in the caller's scope")))]
pub async fn api_exemptions(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<PageQuery>,
) -> Result<Json<Value>, AppError> {
    let (rows, total) = exemptions::list(&state, &user, query.paging()).await?;
    Ok(Json(json!({"items": rows.iter().map(exemptions::Exemption::to_json).collect::<Vec<_>>(), "total": total})))
}

pub fn api_routes(state: &AppState) -> Router<AppState> {
    let search = || crate::auth::throttle::limited(state, "search");
    Router::new()
        .route("/certificates", get(api_admin_list))
        .route("/certificates/applications", post(api_apply))
        .route("/certificates/recognition", post(api_recognition))
        .route("/certificates/print", post(api_print))
        .route("/me/certificates", get(api_mine))
        .route("/certificates/lookup", post(api_lookup).layer(search()))
        .route("/certificates/{number}", get(api_verify).layer(search()))
        .route("/certificates/{number}/pdf", get(download))
        .route("/certificates/{number}/badge", get(badge))
        .route("/keys", get(api_keys).layer(search()))
        .route("/exemptions", get(api_exemptions).post(api_file_exemption))
}

// ---- pages ----

pub fn page_routes(state: &AppState) -> Router<AppState> {
    let search = || crate::auth::throttle::limited(state, "search");
    Router::new()
        .route("/certificates", get(list_page).post(apply_submit))
        .route("/certificates/recognition", post(recognition_submit))
        .route("/certificates/{number}/pdf", get(download))
        .route("/certificates/{number}/badge", get(badge))
        .route("/certificates/manage", get(manage_page))
        .route("/certificates/print", post(print_submit))
        .route("/exemptions", get(exemptions_page).post(exemption_submit))
        .route("/verify", get(verify_page).layer(search()))
        .route("/verify/person", post(lookup_submit).layer(search()))
}

async fn list_data(state: &AppState, user: &CurrentUser) -> Result<Value, AppError> {
    let this = hours::this_year();
    let settings = &user.tenant.tenant.settings;
    let kinds: Vec<Value> = settings.certificates.kinds.iter().map(|k| json!({"code": k.code, "name": k.name})).collect();
    let items: Vec<Value> = super::mine(state, user).await?.iter().map(|c| c.to_json(settings)).collect();
    let recognitions: Vec<&Value> = items.iter().filter(|c| c["kind"] == super::RECOGNITION).collect();
    let current_recognition = recognitions.iter().find(|c| c["status"] == "valid").map(|c| (*c).clone());
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
    let items: Vec<Value> = rows.iter().map(|r| admin_row_json(r, settings)).collect();
    let this = hours::this_year();
    let mut kinds: Vec<Value> = settings.certificates.kinds.iter().map(|k| json!({"code": k.code, "name": k.name})).collect();
    for extra in [super::RECOGNITION, super::EXEMPTION] {
        if let Some(name) = super::kind_name(settings, extra) {
            kinds.push(json!({"code": extra, "name": name}));
        }
    }
    let departments = crate::hours::admin::department_choices(state, user, None).await?;
    let data = json!({"items": items, "pager": query.paging().pager(total), "kinds": kinds, "departments": departments,
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

async fn exemptions_data(state: &AppState, user: &CurrentUser, page_no: i64) -> Result<Value, AppError> {
    let (rows, total) = exemptions::list(state, user, Paging::new(page_no, None)).await?;
    let this = hours::this_year();
    Ok(json!({"items": rows.iter().map(exemptions::Exemption::to_json).collect::<Vec<_>>(),
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
            Ok(certificate) => verified(&state, &page.tenant, &certificate, query.proof.as_deref()).await?,
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
    data["lookup"] = json!(found.iter().map(|c| c.public_json(&page.tenant.tenant.settings)).collect::<Vec<_>>());
    page.render("verify.html", data)
}
