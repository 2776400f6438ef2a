//! Certificates in the JSON API under `/api/v1`. Handlers parse, authorize and render; the domain is in
//! the parent module.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::exemptions::{self, ExemptionView};
use super::*;
use super::{AdminQuery, Application, CertificateView, ManagedCertificate, PrintInput, PublicRecord};
use crate::api::{Created, Paged};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::keys::JwkSet;
use crate::paging::Query;
use crate::state::AppState;
use crate::tenancy::TenantCtx;
use crate::web::origin;

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

/// A short list served whole.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
}

/// `GET /exemptions`: one page of exemptions and how many there are.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExemptionPage {
    pub items: Vec<ExemptionView>,
    /// Exemptions in the caller's scope, on every page
    pub total: i64,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VerifyQuery {
    pub number: Option<String>,
    /// The signed proof from the QR code (a compact JWS); checked against the tenant's keys
    pub proof: Option<String>,
}

#[utoipa::path(post, path = "/certificates/lookup", request_body = LookupInput, tag = "certificates",
    responses((status = 200, body = Items<PublicRecord>, description = "The person's certificates: none unless ID number and name both match"),
              (status = 422, description = "captcha_required or bad_captcha, with a new {captcha: {id, image}}")))]
pub async fn api_lookup(
    State(state): State<AppState>,
    tenant: TenantCtx,
    Json(input): Json<LookupInput>,
) -> Result<Json<Items<PublicRecord>>, AppError> {
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
    let items = super::lookup(&state, code, &input.id_number, &input.name).await?.iter().map(|c| c.public_record(settings)).collect();
    Ok(Json(Items { items }))
}

#[utoipa::path(post, path = "/certificates/applications", request_body = Application, tag = "certificates",
    responses((status = 201, body = CertificateView, description = "Issued; the PDF follows from a background job"),
              (status = 200, body = CertificateView, description = "Already issued: the valid certificate"),
              (status = 422, description = "{code: not_eligible, reasons: […]} or field errors")))]
pub async fn api_apply(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(input): Json<Application>,
) -> Result<Response, AppError> {
    let (certificate, created) = super::apply(&state, &user, &origin(&state, &headers), &input).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(certificate.view(&user.tenant.tenant.settings))).into_response())
}

#[utoipa::path(post, path = "/certificates/recognition", tag = "certificates",
    responses((status = 201, body = CertificateView, description = "This year's recognition proof (earlier ones of the year become void), with detail.courses"),
              (status = 422, description = "no_online_hours: nothing from a recognised platform this year"),
              (status = 404, description = "The tenant offers no recognition proof")))]
pub async fn api_recognition(State(state): State<AppState>, user: CurrentUser, headers: HeaderMap) -> Result<Response, AppError> {
    let certificate = super::recognition(&state, &user, &origin(&state, &headers)).await?;
    Ok((StatusCode::CREATED, Json(certificate.view(&user.tenant.tenant.settings))).into_response())
}

#[utoipa::path(get, path = "/me/certificates", tag = "certificates",
    responses((status = 200, body = Items<CertificateView>, description = "The caller's certificates, with state generating/ready/failed/void/revoked")))]
pub async fn api_mine(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Items<CertificateView>>, AppError> {
    let settings = &user.tenant.tenant.settings;
    let items = super::mine(&state, &user).await?.iter().map(|c| c.view(settings)).collect();
    Ok(Json(Items { items }))
}

#[utoipa::path(get, path = "/certificates/{number}", tag = "certificates", params(("number" = String, Path), VerifyQuery),
    responses((status = 200, body = PublicRecord, description = "Public verification: the record with the name masked; `signature` when a proof was given"),
              (status = 404, description = "No such certificate in this tenant")))]
pub async fn api_verify(
    State(state): State<AppState>,
    tenant: TenantCtx,
    Path(number): Path<String>,
    Query(query): Query<VerifyQuery>,
) -> Result<Json<PublicRecord>, AppError> {
    let certificate = super::by_number(&state, tenant.code(), &number).await?;
    Ok(Json(verified(&state, &tenant, &certificate, query.proof.as_deref()).await?))
}

#[utoipa::path(get, path = "/certificates/{number}/pdf", tag = "certificates", params(("number" = String, Path)),
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
    crate::storage::upload::download(&state, user.tenant_code(), blob).await
}

#[utoipa::path(get, path = "/certificates/{number}/badge", tag = "certificates", params(("number" = String, Path)),
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
    if certificate.status != super::CertificateStatus::Valid {
        return Err(AppError::new(StatusCode::GONE, "not_valid", format!("该证书{}，不能导出", certificate.state_label())));
    }
    let credential = super::badge::credential(&state, &user.tenant.tenant.settings, &origin(&state, &headers), &certificate).await?;
    let disposition = format!("attachment; filename=\"{}.json\"", certificate.number);
    Ok(([(header::CONTENT_TYPE, "application/ld+json".to_owned()), (header::CONTENT_DISPOSITION, disposition)], Json(credential))
        .into_response())
}

#[utoipa::path(get, path = "/keys", tag = "certificates",
    responses((status = 200, body = JwkSet, description = "The tenant's certificate signing keys as a JWK set (Ed25519, current and retired)")))]
pub async fn api_keys(State(state): State<AppState>, tenant: TenantCtx) -> Result<Json<JwkSet>, AppError> {
    // Publishing creates the first key, so verifiers can fetch it before anything was issued.
    crate::keys::current(&state.db, tenant.code(), crate::keys::CERTIFICATES).await?;
    Ok(Json(crate::keys::jwks(&state.db, tenant.code(), crate::keys::CERTIFICATES).await?))
}

#[utoipa::path(get, path = "/certificates", tag = "certificates", params(AdminQuery),
    responses((status = 200, body = Paged<ManagedCertificate>, description = "Certificates of people in the admin's scope"), (status = 403, description = "Not allowed")))]
pub async fn api_admin_list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<AdminQuery>,
) -> Result<Json<Paged<ManagedCertificate>>, AppError> {
    let (rows, total) = super::admin_list(&state, &user, &query).await?;
    let settings = &user.tenant.tenant.settings;
    Ok(Json(Paged::new(rows.iter().map(|r| r.view(settings)).collect(), total, query.paging())))
}

#[utoipa::path(post, path = "/certificates/print", request_body = PrintInput, tag = "certificates",
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

#[utoipa::path(post, path = "/certificates/batch-issue", request_body = super::BatchIssue, tag = "certificates",
    responses((status = 200, body = super::BatchIssued, description = "Issued to every qualified person in scope without one, in one transaction"),
              (status = 403, description = "The province's admins do not issue certificates (Hunan issues them by itself)"),
              (status = 409, description = "already_issued: a certificate was issued meanwhile; nothing issued"),
              (status = 422, description = "Field errors (kind, year), nothing_to_issue or too_many (over 1,000 people)")))]
pub async fn api_issue_batch(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(input): Json<super::BatchIssue>,
) -> Result<Json<super::BatchIssued>, AppError> {
    Ok(Json(super::issue_batch(&state, &user, &origin(&state, &headers), &input).await?))
}

#[utoipa::path(post, path = "/exemptions", request_body = exemptions::Filing, tag = "certificates",
    responses((status = 201, body = Created, description = "Filed and waiting for the superior"), (status = 409, description = "already_filed"),
              (status = 422, description = "Field errors"), (status = 404, description = "The tenant offers no exemption proof")))]
pub async fn api_file_exemption(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(input): Json<exemptions::Filing>,
) -> Result<Response, AppError> {
    let id = exemptions::file(&state, &user, &input).await?;
    Ok((StatusCode::CREATED, Json(Created { id })).into_response())
}

crate::paging::list_query! {
    #[derive(Debug, Deserialize, utoipa::IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct PageQuery {
    }
}

#[utoipa::path(get, path = "/exemptions", tag = "certificates", params(PageQuery),
    responses((status = 200, body = ExemptionPage, description = "Exemptions filed for people in the caller's scope, newest first")))]
pub async fn api_exemptions(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<PageQuery>,
) -> Result<Json<ExemptionPage>, AppError> {
    let (rows, total) = exemptions::list(&state, &user, query.paging()).await?;
    Ok(Json(ExemptionPage { items: rows.into_iter().map(exemptions::Exemption::into_view).collect(), total }))
}

pub fn routes(state: &AppState) -> OpenApiRouter<AppState> {
    let search = || crate::auth::throttle::limited(state, "search");
    OpenApiRouter::new()
        .routes(routes!(api_admin_list))
        .routes(routes!(api_apply))
        .routes(routes!(api_recognition))
        .routes(routes!(api_print))
        .routes(routes!(api_issue_batch))
        .routes(routes!(api_mine))
        .routes(routes!(api_lookup).layer(search()))
        .routes(routes!(api_verify).layer(search()))
        .routes(routes!(download))
        .routes(routes!(badge))
        .routes(routes!(api_keys).layer(search()))
        .routes(routes!(api_exemptions, api_file_exemption))
}
