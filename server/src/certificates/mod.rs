//! Certificates (issue 5). A person applies for a kind and year (or the platform issues it by itself
//! when the tenant says so), the tenant's rules plugin (`certificate-check`) decides eligibility from the
//! ledger, and the database keeps one valid certificate per person, kind and year. Every certificate is
//! signed (a compact JWS over its fields with the tenant's Ed25519 key, carried in the QR code's
//! verification URL) and rendered to a PDF by a background job ([`RenderPdf`]).
//!
//! Besides the plugin's kinds: the yearly CE hour recognition proof ([`RECOGNITION`], current year,
//! reissuing voids the previous one, online hours from recognised platforms only) and the exemption
//! proof ([`EXEMPTION`], issued when the superior approves a unit's filing, see [`exemptions`]).
//! Anyone may verify a certificate by its number (unguessable, so verification cannot enumerate
//! people); the record shows the name partly masked. Revoking a credit revokes the certificates of its
//! person-year ([`revoke_dependent_tx`], a ledger hook `hours::revoke_tx` calls, installed by [`year_hooks`]).

pub mod api;
pub mod badge;
pub mod cli;
pub mod exemptions;
pub mod pdf;

use crate::auth::CurrentUser;
use crate::db::{Filters, Tx, q};
use crate::error::AppError;
use crate::hours;
use crate::paging::Search;
use crate::rules::model::Subject;
use crate::state::AppState;
use crate::tenancy::{TenantCtx, TenantSettings};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::Arc;

pub mod pages;

/// The yearly CE hour recognition proof (继教学时互认证明).
pub const RECOGNITION: &str = "recognition";
/// The exemption proof (免训证明).
pub const EXEMPTION: &str = "exemption";
/// The most certificates one print batch puts into one PDF.
pub const PRINT_LIMIT: usize = 1000;

/// The Chinese name of a kind the tenant offers: its plugin's kinds (tenant.toml
/// `[[certificates.kinds]]`) and the proofs it has switched on.
pub fn kind_name(settings: &TenantSettings, kind: &str) -> Option<String> {
    let c = &settings.certificates;
    match kind {
        RECOGNITION if c.recognition_proof => Some("继教学时互认证明".to_owned()),
        EXEMPTION if c.exemption_proof => Some("免训证明".to_owned()),
        _ => c.kinds.iter().find(|k| k.code == kind).map(|k| k.name.clone()),
    }
}

/// Who the certificates name as issuer (and the seal says).
pub fn issuer(settings: &TenantSettings) -> &str {
    if settings.certificates.issuer.is_empty() { &settings.name } else { &settings.certificates.issuer }
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
    pub status: CertificateStatus,
    pub person_name: String,
    pub unit_name: String,
    pub public_hours: i64,
    pub professional_hours: i64,
    pub plugin_sha256: String,
    pub issued_at: DateTime<Utc>,
    pub voided_at: Option<DateTime<Utc>>,
    pub void_reason: Option<String>,
    pub document_state: DocumentState,
    pub document_blob_id: Option<i64>,
    pub document_error: Option<String>,
    pub proof: Option<String>,
    pub detail: Option<String>,
}

const COLUMNS: &str = "c.id, c.number, c.person_id, c.kind, c.year, c.status, c.person_name, c.unit_name, c.public_hours, \
     c.professional_hours, c.plugin_sha256, c.issued_at, c.voided_at, c.void_reason, c.document_state, c.document_blob_id, \
     c.document_error, c.proof, c.detail";

crate::codes::code_enum! {
    /// Whether a certificate counts: a new one for the same kind and year voids the old; a year judged
    /// again as not qualifying revokes it.
    pub enum CertificateStatus {
        Valid = ("valid", "有效"),
        Void = ("void", "已作废"),
        Revoked = ("revoked", "已撤销"),
    }
}

crate::codes::code_enum! {
    /// Where a certificate's PDF stands (rendered by a job after the issue).
    pub enum DocumentState {
        Generating = ("generating", "生成中"),
        Ready = ("ready", "可下载"),
        Failed = ("failed", "生成失败"),
    }
}

fn select() -> String {
    format!("SELECT {COLUMNS} FROM certificates c")
}

/// "张三" → "张*", "欧阳娜娜" → "欧***": enough to recognise, not enough to look someone up.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        None => String::new(),
    }
}

/// A certificate as its owner (and admins) see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CertificateView {
    pub number: String,
    pub kind: String,
    pub kind_name: String,
    pub year: i64,
    pub status: CertificateStatus,
    /// revoked, void, or for a valid one where its PDF stands: generating, ready or failed
    pub state: &'static str,
    pub state_label: &'static str,
    /// Whether the PDF can be downloaded
    pub downloadable: bool,
    pub person_name: String,
    pub unit_name: String,
    pub hours: hours::SubjectHours,
    pub issued_at: DateTime<Utc>,
    pub voided_at: Option<DateTime<Utc>>,
    pub void_reason: Option<String>,
    /// What the kind records besides the hours (a recognition proof: `{courses: [{platform, course,
    /// subject, hours, completed_on}]}`; an exemption proof: `{reason}`), else null
    pub detail: Value,
}

/// What anyone holding a certificate's number may see: the record with the name partly masked.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicRecord {
    pub number: String,
    pub valid: bool,
    pub status: CertificateStatus,
    /// revoked, void, or for a valid one where its PDF stands: generating, ready or failed
    pub state: &'static str,
    pub state_label: &'static str,
    pub kind: String,
    pub kind_name: String,
    pub year: i64,
    /// Partly masked ("张*")
    pub person_name: String,
    pub unit_name: String,
    pub issuer: String,
    pub hours: hours::SubjectHours,
    /// How many courses a recognition proof lists
    pub courses: usize,
    pub issued_at: DateTime<Utc>,
    pub voided_at: Option<DateTime<Utc>>,
    pub void_reason: Option<String>,
    /// The verdict on the QR code's signed proof; only when a proof was given
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignatureVerdict>,
}

/// The verdict on a certificate's signed proof.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SignatureVerdict {
    /// valid, mismatch (genuine but the record changed since) or invalid
    pub result: &'static str,
    pub label: &'static str,
}

impl Certificate {
    fn hours(&self) -> hours::SubjectHours {
        hours::SubjectHours::new(self.public_hours, self.professional_hours, self.public_hours + self.professional_hours)
    }

    pub fn kind_name(&self, settings: &TenantSettings) -> String {
        kind_name(settings, &self.kind).unwrap_or_else(|| self.kind.clone())
    }

    /// The history page's state: revoked, void (superseded), or for valid ones where the PDF stands.
    pub fn state(&self) -> &'static str {
        match self.status {
            CertificateStatus::Valid => self.document_state.as_str(),
            status => status.as_str(),
        }
    }

    pub fn state_label(&self) -> &'static str {
        match self.status {
            CertificateStatus::Valid => self.document_state.label(),
            status => status.label(),
        }
    }

    fn detail_json(&self) -> Value {
        self.detail.as_deref().and_then(|d| serde_json::from_str(d).ok()).unwrap_or(Value::Null)
    }

    /// The owner's (and admins') view.
    pub fn view(&self, settings: &TenantSettings) -> CertificateView {
        CertificateView {
            number: self.number.clone(),
            kind: self.kind.clone(),
            kind_name: self.kind_name(settings),
            year: self.year,
            status: self.status,
            state: self.state(),
            state_label: self.state_label(),
            downloadable: self.state() == "ready",
            person_name: self.person_name.clone(),
            unit_name: self.unit_name.clone(),
            hours: self.hours(),
            issued_at: self.issued_at,
            voided_at: self.voided_at,
            void_reason: self.void_reason.clone(),
            detail: self.detail_json(),
        }
    }

    /// What anyone holding the number may see: the full record with the name partly masked.
    pub fn public_record(&self, settings: &TenantSettings) -> PublicRecord {
        let detail = self.detail_json();
        let courses = detail.get("courses").map_or(0, |c| c.as_array().map_or(0, Vec::len));
        PublicRecord {
            number: self.number.clone(),
            valid: self.status == CertificateStatus::Valid,
            status: self.status,
            state: self.state(),
            state_label: self.state_label(),
            kind: self.kind.clone(),
            kind_name: self.kind_name(settings),
            year: self.year,
            person_name: mask_name(&self.person_name),
            unit_name: self.unit_name.clone(),
            issuer: issuer(settings).to_owned(),
            hours: self.hours(),
            courses,
            issued_at: self.issued_at,
            voided_at: self.voided_at,
            void_reason: self.void_reason.clone(),
            signature: None,
        }
    }

    /// The fields the signature covers. Everything a printed certificate states, so that a verifier
    /// holding only the QR code and the tenant's public key can tell a genuine paper from an edited one.
    pub fn signed_claims(&self, tenant: &str) -> Value {
        json!({"iss": tenant, "num": self.number, "kind": self.kind, "year": self.year, "name": self.person_name,
               "unit": self.unit_name, "pub": self.public_hours, "pro": self.professional_hours, "iat": self.issued_at.timestamp()})
    }

    /// The QR code's target: the public verification page with the number and the signed proof.
    pub fn verify_url(&self, origin: &str, tenant: &str) -> String {
        let mut url = format!("{}/t/{tenant}/verify?number={}", origin.trim_end_matches('/'), self.number);
        if let Some(proof) = &self.proof {
            url.push_str("&proof=");
            url.push_str(proof);
        }
        url
    }
}

/// Where verification links point when no request says it: `public_url`, else the tenant's first host
/// name on the configured port.
pub fn default_origin(state: &AppState, settings: &TenantSettings) -> String {
    if !state.config.public_url.is_empty() {
        return state.config.public_url.trim_end_matches('/').to_owned();
    }
    let host = settings.hosts.first().cloned().unwrap_or_else(|| "localhost".to_owned());
    format!("http://{host}:{}", state.config.bind.port())
}

/// A fresh, unguessable certificate number: the tenant's prefix (tenant.toml `certificates.number_prefix`,
/// else its code), the year and ten random characters.
fn new_number(settings: &TenantSettings, year: i64) -> String {
    let (token, _) = crate::auth::password::new_token();
    let random: String = token.chars().filter(char::is_ascii_alphanumeric).take(10).collect::<String>().to_uppercase();
    let configured = &settings.certificates.number_prefix;
    let prefix = if configured.is_empty() { settings.code.as_str() } else { configured.as_str() };
    let prefix: String = prefix.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_uppercase();
    format!("{prefix}{year}{random}")
}

async fn valid_one(state: &AppState, tenant: &str, person: i64, kind: &str, year: i64) -> Result<Option<Certificate>, sqlx::Error> {
    state
        .db
        .opt(
            q(format!("{} WHERE c.tenant_id = $1 AND c.person_id = $2 AND c.kind = $3 AND c.year = $4 AND c.status = 'valid'", select()))
                .bind(tenant)
                .bind(person)
                .bind(kind)
                .bind(year),
        )
        .await
}

/// What a new certificate states; [`issue`] adds the number, names, signature and PDF job.
pub struct NewCertificate<'a> {
    pub person_id: i64,
    pub kind: &'a str,
    pub year: i64,
    pub public_hours: i64,
    pub professional_hours: i64,
    pub plugin_sha256: String,
    pub issued_by: Option<i64>,
    pub detail: Option<Value>,
    /// Void the valid certificate of the same person, kind and year first (recognition proofs).
    pub supersede: bool,
}

/// Issues a certificate in its own transaction: signs it, records it and queues its PDF. `None` when a
/// simultaneous issue of the same person, kind and year won (the unique index decides).
pub async fn issue(
    state: &AppState,
    settings: &TenantSettings,
    origin: &str,
    new: NewCertificate<'_>,
) -> Result<Option<Certificate>, AppError> {
    let mut certificate = signed(state, settings, &new).await?;
    let mut tx = state.db.begin().await?;
    match record_tx(&mut tx, settings, origin, &new, &mut certificate).await {
        Ok(()) => {}
        // A simultaneous issue won: its certificate is the valid one.
        Err(err) if crate::db::is_unique_violation(&err) => return Ok(None),
        Err(err) => return Err(err.into()),
    }
    tx.commit().await?;
    Ok(Some(certificate))
}

/// A new certificate as it will be recorded: numbered, with the person's and unit's names, signed.
async fn signed(state: &AppState, settings: &TenantSettings, new: &NewCertificate<'_>) -> Result<Certificate, AppError> {
    let tenant = settings.code.as_str();
    let key = crate::keys::current(&state.db, tenant, crate::keys::CERTIFICATES).await?;
    let (person_name, unit_name): (String, String) = state
        .db
        .one(
            q("SELECT p.name, u.name FROM people p JOIN orgs u ON u.tenant_id = p.tenant_id AND u.id = p.unit_id WHERE p.tenant_id = $1 AND p.id = $2")
                .bind(tenant)
                .bind(new.person_id),
        )
        .await?;
    // Whole seconds: the signed `iat` and the stored time must say the same on both backends.
    let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap_or_else(Utc::now);
    let mut certificate = Certificate {
        id: 0,
        number: new_number(settings, new.year),
        person_id: new.person_id,
        kind: new.kind.to_owned(),
        year: new.year,
        status: CertificateStatus::Valid,
        person_name,
        unit_name,
        public_hours: new.public_hours,
        professional_hours: new.professional_hours,
        plugin_sha256: new.plugin_sha256.clone(),
        issued_at: now,
        voided_at: None,
        void_reason: None,
        document_state: DocumentState::Generating,
        document_blob_id: None,
        document_error: None,
        proof: None,
        detail: new.detail.as_ref().map(|d| d.to_string()),
    };
    certificate.proof = Some(key.sign_jws(&certificate.signed_claims(tenant)));
    Ok(certificate)
}

/// Records a signed certificate in the caller's transaction (voiding the one it supersedes), audits it
/// and queues its PDF; sets its id. A unique violation means another valid one exists.
async fn record_tx(
    tx: &mut Tx,
    settings: &TenantSettings,
    origin: &str,
    new: &NewCertificate<'_>,
    certificate: &mut Certificate,
) -> Result<(), sqlx::Error> {
    let tenant = settings.code.as_str();
    if new.supersede {
        tx.run(
            q("UPDATE certificates SET status = 'void', voided_at = $5, void_reason = '已开具新的证明，此证明作废' \
               WHERE tenant_id = $1 AND person_id = $2 AND kind = $3 AND year = $4 AND status = 'valid'")
            .bind(tenant)
            .bind(new.person_id)
            .bind(new.kind)
            .bind(new.year)
            .bind(certificate.issued_at),
        )
        .await?;
    }
    certificate.id = tx
        .scalar(
            q("INSERT INTO certificates (tenant_id, number, person_id, kind, year, status, person_name, unit_name, public_hours, professional_hours, \
               plugin_sha256, issued_by, issued_at, document_state, proof, detail) \
               VALUES ($1, $2, $3, $4, $5, 'valid', $6, $7, $8, $9, $10, $11, $12, 'generating', $13, $14) RETURNING id")
            .bind(tenant)
            .bind(&certificate.number)
            .bind(certificate.person_id)
            .bind(&certificate.kind)
            .bind(certificate.year)
            .bind(&certificate.person_name)
            .bind(&certificate.unit_name)
            .bind(certificate.public_hours)
            .bind(certificate.professional_hours)
            .bind(&certificate.plugin_sha256)
            .bind(new.issued_by)
            .bind(certificate.issued_at)
            .bind(certificate.proof.clone())
            .bind(certificate.detail.clone()),
        )
        .await?;
    crate::audit::record_tx(
        tx,
        tenant,
        new.issued_by,
        "certificate.issued",
        "person",
        Some(certificate.person_id),
        json!({"number": certificate.number, "kind": certificate.kind, "year": certificate.year}),
    )
    .await?;
    crate::jobs::enqueue_tx(tx, tenant, &RenderPdf { certificate_id: certificate.id, origin: origin.to_owned() }).await?;
    Ok(())
}

/// The plugin's verdict on a kind for a person-year, with the counted hours and the plugin that judged.
async fn check(state: &AppState, tenant: &str, person: i64, kind: &str, year: i64) -> Result<Judgement, AppError> {
    let person_year = hours::ledger_input(&state.db, tenant, person, year).await?;
    let rules = state.rules.for_tenant_year(tenant, person_year.year)?;
    let sha = rules.plugin().sha256;
    let kind = kind.to_owned();
    let (check, status) = rules
        .blocking(move |r| {
            let check = r.certificate_check(&kind, &person_year)?;
            Ok((check, r.year_status(&person_year)?))
        })
        .await?;
    let counted =
        |subject: Subject| i64::from(if subject == Subject::Public { status.counted.public.0 } else { status.counted.professional.0 });
    Ok(Judgement {
        eligible: check.eligible,
        reasons: check.reasons,
        public: counted(Subject::Public),
        professional: counted(Subject::Professional),
        sha,
    })
}

struct Judgement {
    eligible: bool,
    reasons: Vec<String>,
    public: i64,
    professional: i64,
    sha: String,
}

impl Judgement {
    /// The certificate an eligible judgement gives: the counted hours and the plugin that judged.
    fn certificate(self, person_id: i64, kind: &str, year: i64, issued_by: Option<i64>) -> NewCertificate<'_> {
        NewCertificate {
            person_id,
            kind,
            year,
            public_hours: self.public,
            professional_hours: self.professional,
            plugin_sha256: self.sha,
            issued_by,
            detail: None,
            supersede: false,
        }
    }
}

/// Issues `kind` for a person-year when the plugin finds it eligible and none is valid yet; returns the
/// valid certificate and whether it is new, or 422 `not_eligible` with the plugin's reasons.
async fn issue_if_eligible(
    state: &AppState,
    settings: &TenantSettings,
    origin: &str,
    person: i64,
    kind: &str,
    year: i64,
    issued_by: Option<i64>,
) -> Result<(Certificate, bool), AppError> {
    let tenant = settings.code.as_str();
    if let Some(existing) = valid_one(state, tenant, person, kind, year).await? {
        return Ok((existing, false));
    }
    let judged = check(state, tenant, person, kind, year).await?;
    if !judged.eligible {
        return Err(AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "not_eligible", "学时尚未达到申请条件")
            .with_extra(json!({"reasons": judged.reasons})));
    }
    let new = judged.certificate(person, kind, year, issued_by);
    match issue(state, settings, origin, new).await? {
        Some(created) => Ok((created, true)),
        None => {
            let winner = valid_one(state, tenant, person, kind, year).await?.ok_or_else(|| AppError::internal("certificate vanished"))?;
            Ok((winner, false))
        }
    }
}

/// Applies for a certificate: the existing valid one if there is one (`false`), otherwise a new one when
/// the plugin finds the year eligible (`true`), otherwise 422 `not_eligible` with the plugin's reasons.
pub async fn apply(state: &AppState, user: &CurrentUser, origin: &str, input: &Application) -> Result<(Certificate, bool), AppError> {
    user.authorize(state, "certificates", "apply").await?;
    let person = user.account.person_id.ok_or_else(AppError::forbidden)?;
    let settings = &user.tenant.tenant.settings;
    // The proofs have their own ways in; only the plugin's kinds are applied for.
    if !settings.certificates.kinds.iter().any(|k| k.code == input.kind) {
        return Err(AppError::invalid([("kind".to_owned(), "请选择本省的证书类型".to_owned())].into()));
    }
    hours::check_year(input.year).map_err(|_| AppError::invalid([("year".to_owned(), "请选择有效的年度".to_owned())].into()))?;
    issue_if_eligible(state, settings, origin, person, &input.kind, input.year, Some(user.account.id)).await
}

/// Seed 002: the platform issues the tenant's `auto_issue` kinds by itself once a person-year
/// qualifies. Called after a person-year's status is recomputed; a kind that does not qualify (yet)
/// is simply not issued.
pub async fn auto_issue(state: &AppState, tenant: &str, person: i64, year: i64) -> Result<Vec<Certificate>, AppError> {
    let Some(t) = state.tenants.get(tenant) else { return Ok(Vec::new()) };
    let settings = &t.settings;
    let mut issued = Vec::new();
    for kind in &settings.certificates.auto_issue {
        match issue_if_eligible(state, settings, &default_origin(state, settings), person, kind, year, None).await {
            Ok((certificate, true)) => issued.push(certificate),
            Ok((_, false)) => {}
            Err(err) if err.code == "not_eligible" => {}
            Err(err) => return Err(err),
        }
    }
    Ok(issued)
}

/// Seed 001 §10 继教学时互认证明: a proof of this year's online training hours, counting only credits
/// from the province's recognised platforms. May be requested again; the newest stays valid and earlier
/// ones become void.
pub async fn recognition(state: &AppState, user: &CurrentUser, origin: &str) -> Result<Certificate, AppError> {
    user.authorize(state, "certificates", "apply").await?;
    let settings = &user.tenant.tenant.settings;
    if !settings.certificates.recognition_proof {
        return Err(AppError::not_found());
    }
    let tenant = user.tenant_code();
    let person = user.account.person_id.ok_or_else(AppError::forbidden)?;
    let year = hours::this_year();
    // Seed 001 §10: only courses taken at the platforms the province recognises for the year.
    let courses = crate::training::platforms::recognised_courses(&state.db, tenant, person, year).await?;
    if courses.is_empty() {
        return Err(AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "no_online_hours", "本年度还没有在省厅认可的培训机构完成的线上学时"));
    }
    let (public_hours, professional_hours) = crate::training::platforms::sum_by_subject(&courses);
    let detail: Vec<Value> = courses
        .iter()
        .map(|c| {
            json!({"platform": c.platform, "course": c.course, "subject": c.subject,
                   "hours": hours::hours_json(c.hours), "completed_on": crate::china_time::day(c.completed_at)})
        })
        .collect();
    let new = NewCertificate {
        person_id: person,
        kind: RECOGNITION,
        year,
        public_hours,
        professional_hours,
        plugin_sha256: String::new(),
        issued_by: Some(user.account.id),
        detail: Some(json!({"courses": detail})),
        supersede: true,
    };
    if let Some(created) = issue(state, settings, origin, new).await? {
        return Ok(created);
    }
    // Two requests at once: the other one's proof is the valid one.
    valid_one(state, tenant, person, RECOGNITION, year).await?.ok_or_else(|| AppError::internal("recognition proof vanished"))
}

/// Revokes the valid certificates a person-year's hours backed, when one of its credits is revoked: the
/// certificate no longer stands on the ledger. The person may apply again if the year still qualifies.
/// Exemption proofs do not stand on hours and stay.
/// What certificates do when a person's year changes in the ledger (installed at start-up).
pub fn year_hooks() -> hours::YearHooks {
    hours::YearHooks {
        credit_revoked: |tx, tenant, person, year, reason| Box::pin(revoke_dependent_tx(tx, tenant, person, year, reason)),
        year_met: |state, tenant, person, year| Box::pin(async move { auto_issue(state, tenant, person, year).await.map(drop) }),
    }
}

pub async fn revoke_dependent_tx(tx: &mut Tx, tenant: &str, person: i64, year: i64, reason: &str) -> Result<u64, sqlx::Error> {
    tx.run(
        q("UPDATE certificates SET status = 'revoked', voided_at = $4, void_reason = $5 \
           WHERE tenant_id = $1 AND person_id = $2 AND year = $3 AND status = 'valid' AND kind <> $6")
        .bind(tenant)
        .bind(person)
        .bind(year)
        .bind(Utc::now())
        .bind(format!("所依据的学时已撤销：{reason}"))
        .bind(EXEMPTION),
    )
    .await
}

pub async fn mine(state: &AppState, user: &CurrentUser) -> Result<Vec<Certificate>, AppError> {
    user.authorize(state, "certificates", "apply").await?;
    let person = user.account.person_id.ok_or_else(AppError::forbidden)?;
    Ok(state
        .db
        .all(
            q(format!("{} WHERE c.tenant_id = $1 AND c.person_id = $2 ORDER BY c.year DESC, c.id DESC", select()))
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
        .opt(q(format!("{} WHERE c.tenant_id = $1 AND c.number = $2", select())).bind(tenant).bind(number))
        .await?
        .ok_or_else(AppError::not_found)
}

/// A certificate the caller may hold a copy of: their own, or one of a person in the admin's scope
/// (with the print permission). Anything else is "not found".
pub async fn accessible(state: &AppState, user: &CurrentUser, number: &str) -> Result<Certificate, AppError> {
    let certificate = by_number(state, user.tenant_code(), number).await?;
    if user.account.person_id == Some(certificate.person_id) {
        return Ok(certificate);
    }
    let Some(scope) = user.scope_pattern() else { return Err(AppError::not_found()) };
    if !user.can(state, "certificates", "print").await {
        return Err(AppError::not_found());
    }
    let in_scope = state
        .db
        .exists(
            q(format!(
                "SELECT 1 FROM people p JOIN orgs u ON u.tenant_id = p.tenant_id AND u.id = p.unit_id WHERE p.tenant_id = $1 AND p.id = $2 AND {}",
                crate::orgs::in_scope("u", 3)
            ))
            .bind(user.tenant_code())
            .bind(certificate.person_id)
            .bind(scope),
        )
        .await?;
    if in_scope { Ok(certificate) } else { Err(AppError::not_found()) }
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
            q(format!(
                "{} JOIN people p ON p.tenant_id = c.tenant_id AND p.id = c.person_id \
                 WHERE c.tenant_id = $1 AND p.id_number = $2 AND p.name = $3 ORDER BY c.year DESC, c.id DESC",
                select()
            ))
            .bind(tenant)
            .bind(&id_number)
            .bind(name),
        )
        .await?)
}

// ---- signatures ----

/// What a certificate's signature says, for the verification page and `jijiao cert verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ProofCheck {
    /// Signed by the tenant and stating exactly what the record says.
    Valid,
    /// Genuinely signed, but the record now says something else (it was changed after signing).
    Mismatch,
    /// Not signed by any of the tenant's keys, or altered.
    Invalid(String),
}

impl ProofCheck {
    pub fn label(&self) -> &'static str {
        match self {
            ProofCheck::Valid => "签名有效：二维码中的信息由发证机构签发，与证书记录一致",
            ProofCheck::Mismatch => "签名有效，但与当前证书记录不一致",
            ProofCheck::Invalid(_) => "签名无效：二维码中的信息不是发证机构签发的，或已被篡改",
        }
    }
}

/// Checks a proof (compact JWS) against the tenant's public keys and, when the record is known, that
/// it states what the record says.
pub fn check_proof(proof: &str, keys: &[crate::keys::PublicKey], record: Option<(&Certificate, &str)>) -> (ProofCheck, Option<Value>) {
    match crate::keys::verify_jws(proof, keys) {
        Err(err) => (ProofCheck::Invalid(err.to_string()), None),
        Ok(claims) => match record {
            Some((certificate, tenant)) if certificate.signed_claims(tenant) != claims => (ProofCheck::Mismatch, Some(claims)),
            _ => (ProofCheck::Valid, Some(claims)),
        },
    }
}

// ---- documents ----

/// The renderer of the configured font, loaded (font parsed) on first use and kept for the process; its
/// error (no CJK font) is the same for every later call.
pub fn renderer(state: &AppState) -> Result<Arc<pdf::Renderer>, AppError> {
    type Loaded = std::collections::BTreeMap<std::path::PathBuf, Result<Arc<pdf::Renderer>, String>>;
    static LOADED: std::sync::Mutex<Loaded> = std::sync::Mutex::new(std::collections::BTreeMap::new());
    let configured = &state.config.certificate_font;
    let font = (!configured.as_os_str().is_empty()).then_some(configured.as_path());
    let mut loaded = LOADED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    loaded
        .entry(configured.clone())
        .or_insert_with(|| pdf::Renderer::load(font).map(Arc::new).map_err(|e| e.to_string()))
        .clone()
        .map_err(|message| AppError::new(StatusCode::SERVICE_UNAVAILABLE, "no_font", format!("证书字体不可用：{message}")))
}

pub fn branding(settings: &TenantSettings) -> pdf::Branding {
    pdf::Branding::new(issuer(settings), settings.name.clone(), &settings.theme.primary)
}

/// What the PDF of a certificate shows.
pub fn document(certificate: &Certificate, settings: &TenantSettings, origin: &str) -> pdf::Document {
    let h = |hundredths: i64| format!("{} 学时", hours::format_hours(hundredths));
    let mut fields = vec![("姓名".to_owned(), certificate.person_name.clone()), ("工作单位".to_owned(), certificate.unit_name.clone())];
    fields.push(("年度".to_owned(), format!("{} 年度", certificate.year)));
    let detail = certificate.detail_json();
    let mut body = None;
    let mut table = None;
    if certificate.kind == EXEMPTION {
        body = Some(format!(
            "经单位申请、主管部门审核，同意{}同志免于参加 {} 年度继续教育培训。免训事由：{}",
            certificate.person_name,
            certificate.year,
            detail.get("reason").and_then(Value::as_str).unwrap_or("")
        ));
    } else {
        fields.push((settings.words.public.clone(), h(certificate.public_hours)));
        fields.push((settings.words.professional.clone(), h(certificate.professional_hours)));
        fields.push(("合计".to_owned(), h(certificate.public_hours + certificate.professional_hours)));
    }
    if let Some(courses) = detail.get("courses").and_then(Value::as_array) {
        body = Some(format!(
            "兹证明{}同志 {} 年度在省厅认可的线上培训机构完成以下培训，学时予以互认。",
            certificate.person_name, certificate.year
        ));
        let text = |c: &Value, key: &str| match c.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        let rows = courses
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let subject = if text(c, "subject") == "public" { &settings.words.public } else { &settings.words.professional };
                vec![
                    (i + 1).to_string(),
                    text(c, "platform"),
                    text(c, "course"),
                    subject.to_owned(),
                    text(c, "hours"),
                    text(c, "completed_on"),
                ]
            })
            .collect();
        table = Some(pdf::Table {
            header: ["序号", "培训机构", "课程", "科目", "学时", "完成日期"].iter().map(|s| (*s).to_owned()).collect(),
            rows,
        });
    }
    pdf::Document {
        title: certificate.kind_name(settings),
        number: certificate.number.clone(),
        fields,
        body,
        detail: table,
        issue_date: crate::china_time::day(certificate.issued_at),
        verify_url: certificate.verify_url(origin, &settings.code),
    }
}

/// Renders certificates into one PDF on a blocking thread.
pub async fn render(state: &AppState, settings: &TenantSettings, docs: Vec<pdf::Document>) -> Result<Vec<u8>, AppError> {
    let renderer = renderer(state)?;
    let branding = branding(settings);
    tokio::task::spawn_blocking(move || renderer.render(&branding, &docs))
        .await
        .map_err(AppError::internal)?
        .map_err(|e| AppError::internal(format!("certificate PDF: {e}")))
}

/// The background job that renders a certificate's PDF and stores it.
#[derive(Debug, Serialize, Deserialize)]
pub struct RenderPdf {
    certificate_id: i64,
    origin: String,
}

impl crate::jobs::JobKind for RenderPdf {
    const KIND: &'static str = "certificates.render";
    const LABEL: &'static str = "证书生成";

    /// A missing font marks the certificate `failed` with the reason and fails the job (retried:
    /// installing the font fixes it).
    async fn run(self, state: &AppState, job: &crate::jobs::Job) -> anyhow::Result<()> {
        render_job(state, job, self).await
    }
}

async fn render_job(state: &AppState, job: &crate::jobs::Job, payload: RenderPdf) -> anyhow::Result<()> {
    let tenant = job.tenant_id.as_str();
    let Some(certificate) = state
        .db
        .opt::<Certificate>(q(format!("{} WHERE c.tenant_id = $1 AND c.id = $2", select())).bind(tenant).bind(payload.certificate_id))
        .await?
    else {
        anyhow::bail!("no certificate {}", payload.certificate_id);
    };
    if certificate.document_state == DocumentState::Ready {
        return Ok(());
    }
    let t = state.tenants.get(tenant).ok_or_else(|| anyhow::anyhow!("unknown tenant {tenant}"))?;
    let rendered = render(state, &t.settings, vec![document(&certificate, &t.settings, &payload.origin)]).await;
    let bytes = match rendered {
        Ok(bytes) => bytes,
        Err(err) => {
            state
                .db
                .run(
                    q("UPDATE certificates SET document_state = 'failed', document_error = $3 WHERE tenant_id = $1 AND id = $2 AND document_state <> 'ready'")
                        .bind(tenant)
                        .bind(certificate.id)
                        .bind(err.message.clone()),
                )
                .await?;
            anyhow::bail!("{}", err.message);
        }
    };
    let mut tx = state.db.begin().await?;
    let filename = format!("{}-{}.pdf", certificate.kind_name(&t.settings), certificate.number);
    let blob =
        crate::storage::upload::store_upload(&*state.blobs, &mut tx, tenant, &filename, bytes, &[("application/pdf", "PDF")], 200).await?;
    tx.run(
        q("UPDATE certificates SET document_state = 'ready', document_blob_id = $3, document_error = NULL WHERE tenant_id = $1 AND id = $2 AND document_state <> 'ready'")
            .bind(tenant)
            .bind(certificate.id)
            .bind(blob),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---- admins: lists and batch printing ----

crate::paging::list_query! {
    #[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct AdminQuery {
        pub year: Option<i64>,
        /// Name (part) or full ID number
        pub q: Option<String>,
        pub department: Option<i64>,
        pub unit: Option<i64>,
        pub kind: Option<String>,
        /// valid (default), void, revoked or all
        pub status: Option<String>,
    }
}

const ADMIN_FROM: &str = "FROM certificates c JOIN people p ON p.tenant_id = c.tenant_id AND p.id = c.person_id \
     JOIN orgs u ON u.tenant_id = p.tenant_id AND u.id = p.unit_id LEFT JOIN orgs d ON d.tenant_id = p.tenant_id AND d.id = p.department_id";

/// A certificate in an admin's list: the record plus where the person works now.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct AdminRow {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub certificate: Certificate,
    pub department_name: Option<String>,
}

/// The certificates of people in the admin's scope, filtered (seed 003 证书打印: by year, name,
/// department; seed 004 电子证书查询打印).
fn admin_filters(user: &CurrentUser, query: &AdminQuery) -> Result<Filters, AppError> {
    let scope = user.scope_pattern().ok_or_else(AppError::forbidden)?;
    let mut f = Filters::tenant("c.tenant_id", user.tenant_code());
    f.and_same("(u.path LIKE ? OR u.supervisor_path LIKE ?)", scope);
    if let Some(year) = query.year.filter(|y| *y > 0) {
        f.and("c.year = ?", year);
    }
    if let Some(text) = query.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        f.name_or_id_number("c.person_name", "p.id_number", text);
    }
    if let Some(department) = query.department {
        f.and("p.department_id = ?", department);
    }
    if let Some(unit) = query.unit {
        f.and("p.unit_id = ?", unit);
    }
    if let Some(kind) = query.kind.as_deref().filter(|k| !k.is_empty()) {
        f.and("c.kind = ?", kind.to_owned());
    }
    // No status is the valid ones; "all" is every status.
    match query.status.as_deref().map(str::trim) {
        Some("all") => {}
        status => {
            let status = crate::codes::filter::<CertificateStatus>(status, "status", "状态")?.unwrap_or(CertificateStatus::Valid);
            f.and("c.status = ?", status);
        }
    }
    Ok(f)
}

fn admin_select() -> String {
    format!("SELECT {COLUMNS}, d.name AS department_name {ADMIN_FROM}")
}

pub async fn admin_list(state: &AppState, user: &CurrentUser, query: &AdminQuery) -> Result<(Vec<AdminRow>, i64), AppError> {
    user.authorize(state, "certificates", "print").await?;
    let f = admin_filters(user, query)?;
    let total = state.db.scalar(f.count(ADMIN_FROM)).await?;
    let rows = state.db.all(f.page(&admin_select(), "c.year DESC, u.name, c.person_name, c.id", query.page, query.per_page())).await?;
    Ok((rows, total))
}

/// What to print: chosen numbers, or everything the filters find.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct PrintInput {
    #[serde(default)]
    pub numbers: Vec<String>,
    /// Print every valid certificate the filters find (at most 1,000)
    #[serde(default)]
    pub all: bool,
    pub year: Option<i64>,
    pub q: Option<String>,
    pub department: Option<i64>,
    pub unit: Option<i64>,
    pub kind: Option<String>,
}

/// Seed 003 证书打印: many certificates into one PDF for an admin to print. Only valid certificates of
/// people in the caller's scope; a chosen number outside it is "not found".
pub async fn print(state: &AppState, user: &CurrentUser, origin: &str, input: &PrintInput) -> Result<Vec<u8>, AppError> {
    user.authorize(state, "certificates", "print").await?;
    let certificates: Vec<AdminRow> = if input.all {
        let query = AdminQuery {
            year: input.year,
            q: input.q.clone(),
            department: input.department,
            unit: input.unit,
            kind: input.kind.clone(),
            status: Some("valid".into()),
            ..AdminQuery::default()
        };
        let f = admin_filters(user, &query)?;
        let total = state.db.scalar(f.count(ADMIN_FROM)).await?;
        if total as usize > PRINT_LIMIT {
            return Err(AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "too_many",
                format!("符合条件的证书有 {total} 份，一次最多打印 {PRINT_LIMIT} 份，请缩小筛选范围"),
            ));
        }
        state.db.all(f.all(&admin_select(), "u.name, c.person_name, c.id")).await?
    } else {
        if input.numbers.is_empty() {
            return Err(AppError::invalid([("numbers".to_owned(), "请选择要打印的证书".to_owned())].into()));
        }
        if input.numbers.len() > PRINT_LIMIT {
            return Err(AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "too_many", format!("一次最多打印 {PRINT_LIMIT} 份证书")));
        }
        let mut rows = Vec::with_capacity(input.numbers.len());
        for number in &input.numbers {
            let query = AdminQuery { status: Some("valid".into()), ..AdminQuery::default() };
            let mut f = admin_filters(user, &query)?;
            f.and("c.number = ?", number.trim().to_uppercase());
            let row: Option<AdminRow> = state.db.opt(f.all(&admin_select(), "c.id")).await?;
            rows.push(row.ok_or_else(AppError::not_found)?);
        }
        rows
    };
    if certificates.is_empty() {
        return Err(AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "nothing_to_print", "没有符合条件的有效证书"));
    }
    let settings = &user.tenant.tenant.settings;
    let docs = certificates.iter().map(|row| document(&row.certificate, settings, origin)).collect();
    let bytes = render(state, settings, docs).await?;
    crate::audit::record(
        &state.db,
        user.tenant_code(),
        Some(user.account.id),
        "certificate.printed",
        "org",
        user.account.org_id,
        json!({"count": certificates.len()}),
    )
    .await?;
    Ok(bytes)
}

/// The public record, with the verdict on a proof when one came along.
pub(crate) async fn verified(
    state: &AppState,
    tenant: &TenantCtx,
    certificate: &Certificate,
    proof: Option<&str>,
) -> Result<PublicRecord, AppError> {
    let mut record = certificate.public_record(&tenant.tenant.settings);
    if let Some(proof) = proof.map(str::trim).filter(|p| !p.is_empty()) {
        let keys = crate::keys::public_keys(&state.db, tenant.code(), crate::keys::CERTIFICATES).await?;
        let (check, _) = check_proof(proof, &keys, Some((certificate, tenant.code())));
        let result = match &check {
            ProofCheck::Valid => "valid",
            ProofCheck::Mismatch => "mismatch",
            ProofCheck::Invalid(_) => "invalid",
        };
        record.signature = Some(SignatureVerdict { result, label: check.label() });
    }
    Ok(record)
}

/// A certificate in an admin's list, as the API and the page show it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ManagedCertificate {
    #[serde(flatten)]
    pub certificate: CertificateView,
    /// The person's department now
    pub department_name: Option<String>,
}

impl AdminRow {
    pub fn view(&self, settings: &TenantSettings) -> ManagedCertificate {
        ManagedCertificate { certificate: self.certificate.view(settings), department_name: self.department_name.clone() }
    }
}

pub(crate) fn pdf_response(bytes: Vec<u8>, filename: &str) -> Response {
    let disposition = format!("attachment; filename*=UTF-8''{}", urlencoding::encode(filename));
    ([(header::CONTENT_TYPE, "application/pdf".to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response()
}

/// Most people one batch issue judges (the plugin is asked once per person).
pub const ISSUE_LIMIT: usize = 1000;

/// `POST /certificates/batch-issue`: issue `kind` for `year` to every qualified person in the caller's
/// subtree (optionally of one unit or department) who has none valid yet.
#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct BatchIssue {
    pub year: Option<i64>,
    /// One of the province's certificate kinds
    pub kind: String,
    pub unit: Option<i64>,
    pub department: Option<i64>,
}

/// What a batch issue did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchIssued {
    /// The new certificates' numbers
    pub numbers: Vec<String>,
    /// People whose year met the requirement but whom the plugin did not find eligible for the kind
    pub not_eligible: usize,
}

/// Seed 003 证书打印, seed 004 电子证书查询打印 (Henan, Hubei: admins print the certificates): issues a kind
/// for a year to every person in the caller's subtree whose year is met and who has no valid one yet,
/// each judged by the plugin, all in one transaction (a plugin failure or a simultaneous issue changes
/// nothing). More than [`ISSUE_LIMIT`] candidates: 422 `too_many`, narrow by unit or department.
pub async fn issue_batch(state: &AppState, user: &CurrentUser, origin: &str, input: &BatchIssue) -> Result<BatchIssued, AppError> {
    user.authorize(state, "certificates", "issue").await?;
    let scope = user.scope_pattern().ok_or_else(AppError::forbidden)?;
    let settings = &user.tenant.tenant.settings;
    let tenant = user.tenant_code();
    let mut errors = crate::error::FieldErrors::default();
    let kind = input.kind.trim();
    if !settings.certificates.kinds.iter().any(|k| k.code == kind) {
        errors.add("kind", "请选择本省的证书类型");
    }
    let year = input.year.filter(|y| hours::check_year(*y).is_ok());
    if year.is_none() {
        errors.add("year", "请选择有效的年度");
    }
    errors.finish()?;
    let year = year.expect("checked above");
    let candidates: Vec<(i64,)> = state
        .db
        .all(
            q("SELECT p.id FROM people p JOIN orgs u ON u.tenant_id = p.tenant_id AND u.id = p.unit_id \
               JOIN year_status s ON s.tenant_id = p.tenant_id AND s.person_id = p.id AND s.year = $2 AND s.met AND s.computed_at IS NOT NULL \
               WHERE p.tenant_id = $1 AND (u.path LIKE $3 OR u.supervisor_path LIKE $3) AND ($5 IS NULL OR p.unit_id = $5) \
               AND ($6 IS NULL OR p.department_id = $6) \
               AND EXISTS (SELECT 1 FROM accounts a WHERE a.tenant_id = p.tenant_id AND a.person_id = p.id AND a.user_type = 'staff' AND a.status = 'active') \
               AND NOT EXISTS (SELECT 1 FROM certificates c WHERE c.tenant_id = p.tenant_id AND c.person_id = p.id AND c.kind = $4 AND c.year = $2 AND c.status = 'valid') \
               ORDER BY u.name, p.name, p.id LIMIT $7")
            .bind(tenant)
            .bind(year)
            .bind(scope)
            .bind(kind)
            .bind(input.unit)
            .bind(input.department)
            .bind(ISSUE_LIMIT as i64 + 1),
        )
        .await?;
    if candidates.len() > ISSUE_LIMIT {
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "too_many",
            format!("符合条件的人员超过 {ISSUE_LIMIT} 人，请按单位或部门分批开具"),
        ));
    }
    if candidates.is_empty() {
        return Err(AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "nothing_to_issue", "没有学时已达标且尚未开具此证书的人员"));
    }
    let mut ready = Vec::new();
    let mut not_eligible = 0;
    for (person,) in candidates {
        let judged = check(state, tenant, person, kind, year).await?;
        if !judged.eligible {
            not_eligible += 1;
            continue;
        }
        let new = judged.certificate(person, kind, year, Some(user.account.id));
        let certificate = signed(state, settings, &new).await?;
        ready.push((new, certificate));
    }
    let mut tx = state.db.begin().await?;
    for (new, certificate) in &mut ready {
        record_tx(&mut tx, settings, origin, new, certificate).await.map_err(|e| {
            if crate::db::is_unique_violation(&e) {
                AppError::conflict("already_issued", "有人员的证书已在此期间开具，请重新操作")
            } else {
                e.into()
            }
        })?;
    }
    let numbers: Vec<String> = ready.iter().map(|(_, c)| c.number.clone()).collect();
    crate::audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "certificate.batch_issued",
        "org",
        user.account.org_id,
        json!({"kind": kind, "year": year, "issued": numbers.len(), "not_eligible": not_eligible}),
    )
    .await?;
    tx.commit().await?;
    Ok(BatchIssued { numbers, not_eligible })
}
