//! Certificates (issue 5, first part): a person applies for a kind and year, the tenant's rules plugin
//! (`certificate-check`) decides eligibility from the ledger, and the database keeps one valid
//! certificate per person, kind and year. Anyone may verify a certificate by its number (unguessable,
//! so verification cannot enumerate people); the record shows the name partly masked.
//!
//! Not yet here (issue 5): PDFs with QR codes and signatures, yearly recognition proofs, exemptions,
//! admin batch printing, Open Badges export. Revoking a credit revokes the certificates of its
//! person-year ([`revoke_dependent_tx`], called by `hours::revoke_tx`).

pub mod pdf;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::app::AppState;
use crate::auth::CurrentUser;
use crate::auth::csrf::CsrfForm;
use crate::db::q;
use crate::error::AppError;
use crate::hours;
use crate::rules::model::Subject;
use crate::tenancy::TenantCtx;
use crate::web::{Page, done_redirect};

/// The Chinese name of a tenant's certificate kind (tenant.toml `[[certificates.kinds]]`), if it offers it.
fn kind_name(tenant: &TenantCtx, kind: &str) -> Option<String> {
    tenant.tenant.settings.certificates.kinds.iter().find(|k| k.code == kind).map(|k| k.name.clone())
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct Application {
    /// Hunan: pre_job or in_service; Henan and Hubei: qualified
    pub kind: String,
    pub year: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Certificate {
    pub id: i64,
    pub number: String,
    pub person_id: i64,
    pub kind: String,
    pub year: i64,
    pub status: String,
    pub person_name: String,
    pub unit_name: String,
    pub public_hours: i64,
    pub professional_hours: i64,
    pub plugin_sha256: String,
    pub issued_at: DateTime<Utc>,
    pub voided_at: Option<DateTime<Utc>>,
    pub void_reason: Option<String>,
}

const SELECT: &str = "SELECT id, number, person_id, kind, year, status, person_name, unit_name, public_hours, professional_hours, \
     plugin_sha256, issued_at, voided_at, void_reason FROM certificates";

/// "张三" → "张*", "欧阳娜娜" → "欧***": enough to recognise, not enough to look someone up.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        None => String::new(),
    }
}

impl Certificate {
    fn hours_json(&self) -> Value {
        json!({"public": hours::hours_json(self.public_hours), "professional": hours::hours_json(self.professional_hours),
               "total": hours::hours_json(self.public_hours + self.professional_hours)})
    }

    fn kind_name(&self, tenant: &TenantCtx) -> String {
        kind_name(tenant, &self.kind).unwrap_or_else(|| self.kind.clone())
    }

    /// The owner's view.
    pub fn to_json(&self, tenant: &TenantCtx) -> Value {
        json!({"number": self.number, "kind": self.kind, "kind_name": self.kind_name(tenant), "year": self.year, "status": self.status,
               "person_name": self.person_name, "unit_name": self.unit_name, "hours": self.hours_json(), "issued_at": self.issued_at,
               "voided_at": self.voided_at, "void_reason": self.void_reason})
    }

    /// What anyone holding the number may see: the full record with the name partly masked.
    pub fn public_json(&self, tenant: &TenantCtx) -> Value {
        let issuer = &tenant.tenant.settings.name;
        json!({"number": self.number, "valid": self.status == "valid", "status": self.status, "kind": self.kind,
               "kind_name": self.kind_name(tenant), "year": self.year, "person_name": mask_name(&self.person_name),
               "unit_name": self.unit_name, "issuer": issuer, "hours": self.hours_json(), "issued_at": self.issued_at,
               "voided_at": self.voided_at, "void_reason": self.void_reason})
    }
}

/// A fresh, unguessable certificate number: the tenant's prefix (tenant.toml `certificates.number_prefix`,
/// else its code), the year and ten random characters.
fn new_number(tenant: &TenantCtx, year: i64) -> String {
    let (token, _) = crate::auth::password::new_token();
    let random: String = token.chars().filter(char::is_ascii_alphanumeric).take(10).collect::<String>().to_uppercase();
    let configured = &tenant.tenant.settings.certificates.number_prefix;
    let prefix = if configured.is_empty() { tenant.code() } else { configured.as_str() };
    let prefix: String = prefix.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_uppercase();
    format!("{prefix}{year}{random}")
}

async fn valid_one(state: &AppState, tenant: &str, person: i64, kind: &str, year: i64) -> Result<Option<Certificate>, sqlx::Error> {
    state
        .db
        .opt(
            q(format!("{SELECT} WHERE tenant_id = $1 AND person_id = $2 AND kind = $3 AND year = $4 AND status = 'valid'"))
                .bind(tenant)
                .bind(person)
                .bind(kind)
                .bind(year),
        )
        .await
}

/// Applies for a certificate: the existing valid one if there is one (`false`), otherwise a new one when
/// the plugin finds the year eligible (`true`), otherwise 422 `not_eligible` with the plugin's reasons.
pub async fn apply(state: &AppState, user: &CurrentUser, input: &Application) -> Result<(Certificate, bool), AppError> {
    user.authorize(state, "certificates", "apply").await?;
    let tenant = user.tenant_code();
    let person = user.account.person_id.ok_or_else(AppError::forbidden)?;
    if kind_name(&user.tenant, &input.kind).is_none() {
        return Err(AppError::invalid([("kind".to_owned(), "请选择本省的证书类型".to_owned())].into()));
    }
    let year = input.year;
    hours::check_year(year).map_err(|_| AppError::invalid([("year".to_owned(), "请选择有效的年度".to_owned())].into()))?;
    if let Some(existing) = valid_one(state, tenant, person, &input.kind, year).await? {
        return Ok((existing, false));
    }
    let person_year = hours::ledger_input(&state.db, tenant, person, year).await?;
    let rules = state.rules.for_tenant_year(tenant, person_year.year)?;
    let sha = rules.plugin().sha256;
    let kind = input.kind.clone();
    let (check, status) = rules
        .blocking(move |r| {
            let check = r.certificate_check(&kind, &person_year)?;
            Ok((check, r.year_status(&person_year)?))
        })
        .await?;
    if !check.eligible {
        return Err(AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "not_eligible", "学时尚未达到申请条件")
            .with_extra(json!({"reasons": check.reasons})));
    }
    let (person_name, unit_name): (String, String) = state
        .db
        .one(
            q("SELECT p.name, u.name FROM people p JOIN orgs u ON u.tenant_id = p.tenant_id AND u.id = p.unit_id WHERE p.tenant_id = $1 AND p.id = $2")
                .bind(tenant)
                .bind(person),
        )
        .await?;
    let counted =
        |subject: Subject| i64::from(if subject == Subject::Public { status.counted.public.0 } else { status.counted.professional.0 });
    let number = new_number(&user.tenant, year);
    let mut tx = state.db.begin().await?;
    let inserted = tx
        .run(
            q("INSERT INTO certificates (tenant_id, number, person_id, kind, year, status, person_name, unit_name, public_hours, professional_hours, \
               plugin_sha256, issued_by, issued_at) VALUES ($1, $2, $3, $4, $5, 'valid', $6, $7, $8, $9, $10, $11, $12)")
            .bind(tenant)
            .bind(&number)
            .bind(person)
            .bind(&input.kind)
            .bind(year)
            .bind(&person_name)
            .bind(&unit_name)
            .bind(counted(Subject::Public))
            .bind(counted(Subject::Professional))
            .bind(&sha)
            .bind(user.account.id)
            .bind(Utc::now()),
        )
        .await;
    match inserted {
        Ok(_) => {
            crate::audit::record_tx(
                &mut tx,
                tenant,
                Some(user.account.id),
                "certificate.issued",
                "person",
                Some(person),
                json!({"number": number, "kind": input.kind, "year": year}),
            )
            .await?;
            tx.commit().await?;
        }
        // A simultaneous application won: its certificate is this one.
        Err(err) if crate::db::is_unique_violation(&err) => drop(tx),
        Err(err) => return Err(err.into()),
    }
    let certificate =
        valid_one(state, tenant, person, &input.kind, year).await?.ok_or_else(|| AppError::internal("certificate vanished"))?;
    let created = certificate.number == number;
    Ok((certificate, created))
}

/// Revokes the valid certificates a person-year's hours backed, when one of its credits is revoked: the
/// certificate no longer stands on the ledger. The person may apply again if the year still qualifies.
pub async fn revoke_dependent_tx(tx: &mut crate::db::Tx, tenant: &str, person: i64, year: i64, reason: &str) -> Result<u64, sqlx::Error> {
    tx.run(
        q("UPDATE certificates SET status = 'revoked', voided_at = $4, void_reason = $5 WHERE tenant_id = $1 AND person_id = $2 AND year = $3 AND status = 'valid'")
            .bind(tenant)
            .bind(person)
            .bind(year)
            .bind(Utc::now())
            .bind(format!("所依据的学时已撤销：{reason}")),
    )
    .await
}

pub async fn mine(state: &AppState, user: &CurrentUser) -> Result<Vec<Certificate>, AppError> {
    user.authorize(state, "certificates", "apply").await?;
    let person = user.account.person_id.ok_or_else(AppError::forbidden)?;
    Ok(state
        .db
        .all(
            q(format!("{SELECT} WHERE tenant_id = $1 AND person_id = $2 ORDER BY year DESC, id DESC"))
                .bind(user.tenant_code())
                .bind(person),
        )
        .await?)
}

/// A certificate by its number, for anyone (public verification).
pub async fn by_number(state: &AppState, tenant: &str, number: &str) -> Result<Certificate, AppError> {
    let number = number.trim().to_uppercase();
    if number.is_empty() || number.len() > 40 {
        return Err(AppError::not_found());
    }
    state
        .db
        .opt(q(format!("{SELECT} WHERE tenant_id = $1 AND number = $2")).bind(tenant).bind(number))
        .await?
        .ok_or_else(AppError::not_found)
}

/// Seed 001 §12 档案查询: the certificates of the person with exactly this ID number and name. Partial
/// input finds nothing, so nobody can be listed; callers put it behind a captcha and the rate limit.
pub async fn lookup(state: &AppState, tenant: &str, id_number: &str, name: &str) -> Result<Vec<Certificate>, AppError> {
    let id_number = id_number.trim().to_uppercase();
    let name = name.trim();
    if id_number.len() != 18 || name.is_empty() {
        return Ok(Vec::new());
    }
    Ok(state
        .db
        .all(
            q("SELECT c.id, c.number, c.person_id, c.kind, c.year, c.status, c.person_name, c.unit_name, c.public_hours, c.professional_hours, \
               c.plugin_sha256, c.issued_at, c.voided_at, c.void_reason FROM certificates c JOIN people p ON p.tenant_id = c.tenant_id AND p.id = c.person_id \
               WHERE c.tenant_id = $1 AND p.id_number = $2 AND p.name = $3 ORDER BY c.year DESC, c.id DESC")
            .bind(tenant)
            .bind(&id_number)
            .bind(name),
        )
        .await?)
}

// ---- API ----

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
    let items: Vec<Value> = lookup(&state, code, &input.id_number, &input.name).await?.iter().map(|c| c.public_json(&tenant)).collect();
    Ok(Json(json!({"items": items})))
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/certificates/applications", request_body = Application, tag = "certificates",
    responses((status = 201, description = "Issued: {number, kind, year, status, hours, …}"), (status = 200, description = "Already issued: the valid certificate"),
              (status = 422, description = "{code: not_eligible, reasons: […]} or field errors")))]
pub async fn api_apply(State(state): State<AppState>, user: CurrentUser, Json(input): Json<Application>) -> Result<Response, AppError> {
    let (certificate, created) = apply(&state, &user, &input).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(certificate.to_json(&user.tenant))).into_response())
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/me/certificates", tag = "certificates", responses((status = 200, description = "{items: […]}")))]
pub async fn api_mine(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Value>, AppError> {
    let items: Vec<Value> = mine(&state, &user).await?.iter().map(|c| c.to_json(&user.tenant)).collect();
    Ok(Json(json!({"items": items})))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/certificates/{number}", tag = "certificates", params(("number" = String, Path)),
    responses((status = 200, description = "Public verification: {number, valid, status, kind, year, person_name (masked), unit_name, issuer, hours, …}"),
              (status = 404, description = "No such certificate in this tenant")))]
pub async fn api_verify(State(state): State<AppState>, tenant: TenantCtx, Path(number): Path<String>) -> Result<Json<Value>, AppError> {
    let certificate = by_number(&state, tenant.code(), &number).await?;
    Ok(Json(certificate.public_json(&tenant)))
}

pub fn api_routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/certificates/applications", post(api_apply))
        .route("/me/certificates", get(api_mine))
        .route("/certificates/lookup", post(api_lookup).layer(crate::auth::throttle::limited(state, "search")))
        .route("/certificates/{number}", get(api_verify).layer(crate::auth::throttle::limited(state, "search")))
}

// ---- pages ----

pub fn page_routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/certificates", get(list_page).post(apply_submit))
        .route("/verify", get(verify_page).layer(crate::auth::throttle::limited(state, "search")))
        .route("/verify/person", post(lookup_submit).layer(crate::auth::throttle::limited(state, "search")))
}

async fn list_data(state: &AppState, user: &CurrentUser) -> Result<Value, AppError> {
    let this = hours::this_year();
    let kinds: Vec<Value> =
        user.tenant.tenant.settings.certificates.kinds.iter().map(|k| json!({"code": k.code, "name": k.name})).collect();
    let items: Vec<Value> = mine(state, user).await?.iter().map(|c| c.to_json(&user.tenant)).collect();
    Ok(json!({"items": items, "kinds": kinds, "years": ((this - 5)..=this).rev().collect::<Vec<_>>()}))
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

async fn apply_submit(State(state): State<AppState>, page: Page, CsrfForm(form): CsrfForm<ApplyForm>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match apply(&state, user, &Application { kind: form.kind, year: form.year }).await {
        Ok(_) => Ok(done_redirect(&page.tenant.base, "/certificates", "saved", 1)),
        Err(err) if err.fixable_on_page() => {
            let mut data = list_data(&state, user).await?;
            data["error"] = json!(err.message);
            data["reasons"] = err.extra.as_ref().and_then(|e| e.get("reasons")).cloned().unwrap_or(json!([]));
            data["errors"] = json!(err.fields);
            page.render_status(err.status, "certificates.html", data)
        }
        Err(err) => Err(err),
    }
}

#[derive(Debug, Deserialize)]
struct VerifyQuery {
    number: Option<String>,
}

/// The verification page's data: the number look-up's result (if any) and a fresh captcha for the
/// look-up by ID number and name.
async fn verify_data(state: &AppState, tenant: &TenantCtx, number: &str, result: Value) -> Result<Value, AppError> {
    let (captcha_id, captcha_image) = crate::auth::throttle::new_captcha(&state.db, tenant.code()).await?;
    Ok(json!({"number": number, "result": result, "captcha": {"id": captcha_id, "image": captcha_image}}))
}

/// The public verification page (the QR code's target): no login needed.
async fn verify_page(State(state): State<AppState>, page: Page, Query(query): Query<VerifyQuery>) -> Result<Response, AppError> {
    let number = query.number.unwrap_or_default();
    let result = if number.trim().is_empty() {
        Value::Null
    } else {
        match by_number(&state, page.tenant.code(), &number).await {
            Ok(certificate) => certificate.public_json(&page.tenant),
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
    let found = lookup(&state, tenant, &form.id_number, &form.name).await?;
    let mut data = verify_data(&state, &page.tenant, "", Value::Null).await?;
    data["lookup"] = json!(found.iter().map(|c| c.public_json(&page.tenant)).collect::<Vec<_>>());
    page.render("verify.html", data)
}
