//! Tenants: loaded from `tenants/<code>/` by `jijiao tenant sync`, resolved per request from the Host
//! header or a `/t/<code>/` path prefix.

pub mod scaffold;
pub mod sync;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::Uri;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::db::{Db, q};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TenantSettings {
    pub code: String,
    pub name: String,
    pub short_name: String,
    pub province: String,
    #[serde(default)]
    pub hosts: Vec<String>,
    pub theme: Theme,
    pub mail: MailSettings,
    pub registration: RegistrationRules,
    #[serde(default)]
    pub certificates: CertificateSettings,
    /// Who handles feedback (意见反馈, `[feedback]`).
    #[serde(default)]
    pub feedback: FeedbackSettings,
    /// The online training platforms the province recognises (`[[platforms]]`).
    #[serde(default)]
    pub platforms: Vec<PlatformSettings>,
    /// When a year stops taking platform completions (`[completions]`).
    #[serde(default)]
    pub completions: CompletionSettings,
    /// What the province's documents call things (`[words]`).
    #[serde(default)]
    pub words: Words,
}

/// The subject codes in the order pages list them.
pub const SUBJECT_CODES: [&str; 2] = ["public", "professional"];

impl TenantSettings {
    /// The province's name for a subject code (`public`, `professional`); empty for any other code.
    pub fn subject_name(&self, code: &str) -> &str {
        self.words.subject(code)
    }

    /// The subjects as (code, the province's name) in page order, for choices and labels.
    pub fn subjects(&self) -> Vec<(&'static str, &str)> {
        self.words.subjects()
    }
}

/// `[words]` of tenant.toml: province words that differ between provinces' documents. Hunan's say
/// 公共科目 where Henan's say 公需科目, and each names its own offline filing form.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Words {
    /// The general subject every person needs (code `public`).
    pub public: String,
    /// The subject of the person's own field (code `professional`).
    pub professional: String,
    /// The title of the offline training filing form (线下培训备案, seed 002).
    pub filing_form: String,
}

impl Default for Words {
    fn default() -> Self {
        Words { public: "公需科目".into(), professional: "专业科目".into(), filing_form: "线下培训备案表".into() }
    }
}

impl Words {
    /// The name of a subject code (`public`, `professional`); empty for any other code.
    pub fn subject(&self, code: &str) -> &str {
        match code {
            "public" => &self.public,
            "professional" => &self.professional,
            _ => "",
        }
    }

    /// The subjects as (code, name) in page order, for choices and labels.
    pub fn subjects(&self) -> Vec<(&'static str, &str)> {
        SUBJECT_CODES.iter().map(|code| (*code, self.subject(code))).collect()
    }

    /// A subject's name without the trailing 科目 (公需, 公共, 专业), for narrow table headings.
    pub fn short(name: &str) -> &str {
        name.strip_suffix("科目").filter(|s| !s.is_empty()).unwrap_or(name)
    }
}

/// One `[[platforms]]` entry of tenant.toml.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlatformSettings {
    /// Short ASCII code (lowercase letters, digits, `-`): in credit references and URLs.
    pub code: String,
    pub name: String,
    /// The platform's web site (where staff go to learn).
    pub site: String,
    /// Service phone (服务电话).
    pub phone: String,
    /// First year the province recognises the platform's hours for.
    pub from: i64,
    /// Last recognised year; absent while it is still recognised.
    #[serde(default)]
    pub to: Option<i64>,
    /// Where the OpenID Connect provider may send staff back with a code (exact match).
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// The OpenID Connect scopes the platform is granted: `openid`, `profile` (name, unit),
    /// `id_number` (the resident ID number).
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// `[completions]` of tenant.toml.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompletionSettings {
    /// `MM-DD`: completions counted towards year Y are accepted until the end of this day of year Y+1
    /// (China time); later they are refused with `year_closed`.
    #[serde(default = "default_year_closes")]
    pub year_closes: String,
}

fn default_year_closes() -> String {
    "03-31".into()
}

impl Default for CompletionSettings {
    fn default() -> Self {
        CompletionSettings { year_closes: default_year_closes() }
    }
}

impl CompletionSettings {
    /// The last day on which completions for `year` are accepted.
    pub fn closes_on(&self, year: i64) -> NaiveDate {
        let (m, d) = self.year_closes.split_once('-').and_then(|(m, d)| Some((m.parse().ok()?, d.parse().ok()?))).unwrap_or((3, 31));
        i32::try_from(year + 1)
            .ok()
            .and_then(|y| NaiveDate::from_ymd_opt(y, m, d))
            .unwrap_or_else(|| NaiveDate::from_ymd_opt(2100, 12, 31).expect("a date"))
    }

    pub fn check(&self) -> anyhow::Result<()> {
        let ok = self.year_closes.len() == 5
            && self
                .year_closes
                .split_once('-')
                .and_then(|(m, d)| NaiveDate::from_ymd_opt(2001, m.parse().ok()?, d.parse().ok()?))
                .is_some();
        if !ok {
            anyhow::bail!("[completions] year_closes should be MM-DD, e.g. \"03-31\": {:?}", self.year_closes);
        }
        Ok(())
    }
}

/// `[feedback]` of tenant.toml: which organisation answers feedback.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeedbackSettings {
    /// `province` (the provincial HR department, the default) or `hr` (the filer's city or county HR
    /// bureau, falling back to the province's).
    #[serde(default = "default_feedback_handler")]
    pub handled_by: String,
}

fn default_feedback_handler() -> String {
    "province".into()
}

impl Default for FeedbackSettings {
    fn default() -> Self {
        FeedbackSettings { handled_by: default_feedback_handler() }
    }
}

/// The certificate kinds a tenant offers (codes its rules plugin's `certificate-check` knows).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CertificateSettings {
    /// Start of every certificate number (letters and digits), before the year and a random part.
    #[serde(default)]
    pub number_prefix: String,
    #[serde(default)]
    pub kinds: Vec<CertificateKind>,
    /// Who signs the certificates (the seal's text); empty means the platform's name.
    #[serde(default)]
    pub issuer: String,
    /// Kinds the platform issues by itself as soon as a person-year qualifies (seed 002: Hunan's platform
    /// generates the certificate when the hours are reached); the others are applied for.
    #[serde(default)]
    pub auto_issue: Vec<String>,
    /// Offers the yearly CE hour recognition proof (继教学时互认证明, seed 001 §10).
    #[serde(default)]
    pub recognition_proof: bool,
    /// Offers exemption proofs (免训证明, seed 001 §11): unit admins file, the superior approves.
    #[serde(default)]
    pub exemption_proof: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CertificateKind {
    pub code: String,
    /// Chinese name on pages and certificates.
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Theme {
    pub primary: String,
    pub accent: String,
    pub logo: String,
    #[serde(default)]
    pub banner: String,
    pub hotline: String,
    pub footer: String,
    #[serde(default)]
    pub welcome: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MailSettings {
    pub sender: String,
}

/// Who approves an organisation's registration (staff registrations follow the rules plugin's route).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegistrationRules {
    /// `hr_bureau` (the HR bureau at the org's level) or `supervisor` (the supervising authority).
    pub org_approval: String,
}

#[derive(Debug)]
pub struct Tenant {
    pub settings: TenantSettings,
    pub policy: String,
}

impl Tenant {
    pub fn code(&self) -> &str {
        &self.settings.code
    }
}

/// All tenants this server knows, by code and by host name.
#[derive(Debug, Default)]
pub struct Tenants {
    by_code: HashMap<String, Arc<Tenant>>,
    by_host: HashMap<String, String>,
}

#[derive(sqlx::FromRow)]
struct TenantRow {
    settings: String,
    policy: String,
}

impl Tenants {
    pub async fn load(db: &Db) -> anyhow::Result<Tenants> {
        let rows: Vec<TenantRow> = db.all(q("SELECT settings, policy FROM tenants ORDER BY id")).await?;
        let mut tenants = Tenants::default();
        for row in rows {
            let settings: TenantSettings = serde_json::from_str(&row.settings)?;
            let code = settings.code.clone();
            tenants.by_host.insert(format!("{code}.localhost"), code.clone());
            for host in &settings.hosts {
                tenants.by_host.insert(host.to_ascii_lowercase(), code.clone());
            }
            tenants.by_code.insert(code, Arc::new(Tenant { settings, policy: row.policy }));
        }
        Ok(tenants)
    }

    pub fn get(&self, code: &str) -> Option<Arc<Tenant>> {
        self.by_code.get(code).cloned()
    }

    /// A tenant's words, for code that knows only the tenant's code (the defaults for an unknown one).
    pub fn words(&self, code: &str) -> &Words {
        static DEFAULT: std::sync::LazyLock<Words> = std::sync::LazyLock::new(Words::default);
        self.by_code.get(code).map_or(&DEFAULT, |t| &t.settings.words)
    }

    pub fn by_host(&self, host: &str) -> Option<Arc<Tenant>> {
        let host = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
        self.by_host.get(&host).and_then(|code| self.get(code))
    }

    pub fn all(&self) -> Vec<Arc<Tenant>> {
        let mut all: Vec<_> = self.by_code.values().cloned().collect();
        all.sort_by(|a, b| a.code().cmp(b.code()));
        all
    }
}

/// The tenant a request is for, and the path prefix its links need (`/t/<code>` or empty).
#[derive(Clone, Debug)]
pub struct TenantCtx {
    pub tenant: Arc<Tenant>,
    pub base: String,
}

impl TenantCtx {
    pub fn code(&self) -> &str {
        self.tenant.code()
    }
}

/// Paths that belong to no tenant.
fn is_global_path(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics" | "/api/openapi.json" | "/favicon.ico")
        || path.starts_with("/static/")
        || path == "/"
}

/// Resolves the tenant before routing: strips a `/t/<code>` prefix (and remembers it as the link base)
/// or looks up the Host header. `None` means an unknown tenant: the caller answers 404, never another
/// tenant's data.
pub fn resolve(tenants: &Tenants, mut request: Request) -> Option<Request> {
    let path = request.uri().path().to_owned();
    if let Some(rest) = path.strip_prefix("/t/") {
        let (code, tail) = rest.split_once('/').unwrap_or((rest, ""));
        let tenant = tenants.get(code)?;
        let new_path = format!("/{tail}");
        let new_uri = match request.uri().query() {
            Some(query) => format!("{new_path}?{query}"),
            None => new_path,
        };
        *request.uri_mut() = new_uri.parse::<Uri>().ok()?;
        request.extensions_mut().insert(TenantCtx { tenant, base: format!("/t/{code}") });
        return Some(request);
    }
    let host = request
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().host().map(str::to_owned));
    match host.and_then(|h| tenants.by_host(&h)) {
        Some(tenant) => {
            request.extensions_mut().insert(TenantCtx { tenant, base: String::new() });
            Some(request)
        }
        None if is_global_path(&path) => Some(request),
        None => None,
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct BasicItem {
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
}

/// One enabled list of the tenant's basic data (education, ethnicity, region …) in its order.
pub async fn basic_data(db: &Db, tenant: &str, kind: &str) -> Result<Vec<BasicItem>, sqlx::Error> {
    db.all(
        q("SELECT code, name, parent_code FROM basic_data WHERE tenant_id = $1 AND kind = $2 AND enabled = $3 ORDER BY sort, code")
            .bind(tenant)
            .bind(kind)
            .bind(true),
    )
    .await
}

/// The lists the registration and profile forms offer, keyed by kind.
pub async fn form_options(db: &Db, tenant: &str, kinds: &[&str]) -> Result<serde_json::Value, sqlx::Error> {
    let mut map = serde_json::Map::new();
    for kind in kinds {
        map.insert((*kind).to_owned(), serde_json::to_value(basic_data(db, tenant, kind).await?).unwrap_or_default());
    }
    Ok(serde_json::Value::Object(map))
}
