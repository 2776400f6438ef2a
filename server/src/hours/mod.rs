//! The hours ledger (学时): every credit a person holds — year counted, subject, hours in hundredths,
//! source and a unique source reference — so that nothing is ever counted twice. Credits are revoked
//! with a reason, never deleted.

pub mod admin;
pub mod import;
pub mod pages;
pub mod status;

use axum::extract::State;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::Paged;
use crate::auth::CurrentUser;
use crate::db::{Db, Filters, Tx, q};
use crate::error::AppError;
use crate::paging::Query;
use crate::state::AppState;

pub const SOURCES: &[(&str, &str)] =
    &[("online", "网络培训"), ("offline", "线下培训"), ("activity", "活动学时"), ("recognized", "学时互认"), ("exemption", "免训")];

/// Parses decimal hours ("12", "12.5", "0.25") into hundredths without floating point.
pub fn parse_hours(text: &str) -> Result<i64, &'static str> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err("学时应为数字，如 12 或 12.5");
    }
    if fraction.len() > 2 {
        return Err("学时最多保留两位小数");
    }
    let whole: i64 = whole.parse().map_err(|_| "学时数值过大")?;
    let fraction: i64 = format!("{fraction:0<2}").parse().unwrap_or(0);
    let hundredths = whole.checked_mul(100).and_then(|w| w.checked_add(fraction)).ok_or("学时数值过大")?;
    if hundredths == 0 {
        return Err("学时应大于 0");
    }
    Ok(hundredths)
}

/// Hundredths as a decimal string: 1250 → "12.5", 1200 → "12".
pub fn format_hours(hundredths: i64) -> String {
    let (whole, fraction) = (hundredths / 100, hundredths % 100);
    match fraction {
        0 => whole.to_string(),
        f if f % 10 == 0 => format!("{whole}.{}", f / 10),
        f => format!("{whole}.{f:02}"),
    }
}

/// Hundredths as a JSON number (hours as decimals at the API, integers inside).
pub fn hours_json(hundredths: i64) -> Value {
    serde_json::from_str(&format_hours(hundredths)).unwrap_or(Value::Null)
}

/// A number kept in hundredths (hours, scores) as the API answers it: a decimal number on the wire
/// (90, 12.5, 0.25).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hundredths(pub i64);

impl Hundredths {
    /// `#[serde(serialize_with = …)]` for a row's own hundredths column.
    pub fn serialize_field<S: serde::Serializer>(hundredths: &i64, serializer: S) -> Result<S::Ok, S::Error> {
        Hundredths(*hundredths).serialize(serializer)
    }
}

impl From<i64> for Hundredths {
    fn from(hundredths: i64) -> Self {
        Hundredths(hundredths)
    }
}

impl Serialize for Hundredths {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        hours_json(self.0).serialize(serializer)
    }
}

impl utoipa::PartialSchema for Hundredths {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Number)
            .description(Some("Hours as a decimal with at most two decimals"))
            .into()
    }
}

impl utoipa::ToSchema for Hundredths {}

/// The schema of a decimal a form may send either as a JSON number or as text (`"12.5"`), the way form
/// inputs post it: hours and scores in request bodies.
pub fn number_or_decimal_text() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::ObjectBuilder;
    use utoipa::openapi::schema::{OneOfBuilder, Type};
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::Number))
        .item(ObjectBuilder::new().schema_type(Type::String).description(Some("The decimal as text")))
        .into()
}

/// Hours per subject and their sum: a requirement, what counted, or what is short.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct SubjectHours {
    pub public: Hundredths,
    pub professional: Hundredths,
    pub total: Hundredths,
}

impl SubjectHours {
    /// From hundredths: public, professional, total.
    pub fn new(public: i64, professional: i64, total: i64) -> Self {
        SubjectHours { public: Hundredths(public), professional: Hundredths(professional), total: Hundredths(total) }
    }
}

pub struct NewCredit<'a> {
    pub person_id: i64,
    pub year: i64,
    pub subject: &'a str,
    pub hours: i64,
    pub source: &'a str,
    pub source_ref: &'a str,
    pub course: Option<&'a str>,
    pub granted_by: Option<i64>,
}

/// Records a credit; `None` when its source reference is already in the ledger (the same record sent
/// again counts once).
pub async fn grant_tx(tx: &mut Tx, tenant: &str, credit: NewCredit<'_>) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> = tx
        .opt(
            q("INSERT INTO credits (tenant_id, person_id, year, subject, hours, source, source_ref, course, granted_by, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (tenant_id, source_ref) DO NOTHING RETURNING id")
            .bind(tenant)
            .bind(credit.person_id)
            .bind(credit.year)
            .bind(credit.subject)
            .bind(credit.hours)
            .bind(credit.source)
            .bind(credit.source_ref)
            .bind(credit.course.map(str::to_owned))
            .bind(credit.granted_by)
            .bind(Utc::now()),
        )
        .await?;
    if row.is_some() {
        // The person-year's stored status is stale from here on; its recompute commits with the credit.
        status::mark_tx(tx, tenant, credit.person_id, credit.year).await?;
    }
    Ok(row.map(|r| r.0))
}

/// Revokes a valid credit with a reason (the row stays, with who, when and why), queues the recompute of
/// its person-year and revokes the certificates that year's hours backed, in the same transaction. `None` when there is no such valid credit.
type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// What the domains built on the ledger do when a person's year changes: certificates revoke those that
/// rested on a revoked credit and issue those a met year earns. The layer that knows the domains installs
/// them at start-up (`app::build_state`), so the ledger imports none of them.
#[derive(Clone, Copy)]
pub struct YearHooks {
    pub credit_revoked: CreditRevoked,
    pub year_met: YearMet,
}

/// A credit of the person-year (tenant, person, year) was revoked for `reason`, in the revoking transaction.
pub type CreditRevoked = for<'a> fn(&'a mut Tx, &'a str, i64, i64, &'a str) -> BoxFuture<'a, Result<u64, sqlx::Error>>;
/// A recompute found the person-year (tenant, person, year) met.
pub type YearMet = for<'a> fn(&'a AppState, &'a str, i64, i64) -> BoxFuture<'a, Result<(), AppError>>;

static HOOKS: std::sync::OnceLock<YearHooks> = std::sync::OnceLock::new();

/// Installs the hooks (start-up; a later call keeps the first).
pub fn install_hooks(hooks: YearHooks) {
    HOOKS.get_or_init(|| hooks);
}

/// The installed hooks; start-up installs them before any request or job runs.
pub(crate) fn hooks() -> YearHooks {
    *HOOKS.get().expect("the ledger's year hooks are installed at start-up (app::build_state)")
}

pub async fn revoke_tx(
    tx: &mut Tx,
    tenant: &str,
    credit_id: i64,
    by: Option<i64>,
    reason: &str,
) -> Result<Option<(i64, i64)>, sqlx::Error> {
    let row: Option<(i64, i64)> = tx
        .opt(
            q("UPDATE credits SET revoked_at = $3, revoked_by = $4, revoke_reason = $5 \
               WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING person_id, year")
            .bind(tenant)
            .bind(credit_id)
            .bind(Utc::now())
            .bind(by)
            .bind(reason),
        )
        .await?;
    if let Some((person_id, year)) = row {
        status::mark_tx(tx, tenant, person_id, year).await?;
        (hooks().credit_revoked)(tx, tenant, person_id, year, reason).await?;
    }
    Ok(row)
}

/// A credit in the ledger; a revoked one keeps when and why.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Credit {
    pub id: i64,
    /// The year the hours count for
    pub year: i64,
    /// public or professional
    pub subject: String,
    #[sqlx(try_from = "i64")]
    pub hours: Hundredths,
    /// online, offline, activity, recognized or exemption
    pub source: String,
    /// Unique in the tenant: the same record sent again counts once
    pub source_ref: String,
    pub course: Option<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoke_reason: Option<String>,
}

crate::paging::list_query! {
    per_page(50, 500);
    #[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
    pub struct CreditQuery {
        pub year: Option<i64>,
        /// public or professional
        pub subject: Option<String>,
        /// online, offline, activity, recognized or exemption
        pub source: Option<String>,
        /// Include revoked credits (default: only valid ones)
        #[serde(default)]
        pub revoked: bool,
    }
}

/// One page of a person's credits, newest year first, and the total count.
pub async fn list(db: &Db, tenant: &str, person_id: i64, query: &CreditQuery) -> Result<(Vec<Credit>, i64), AppError> {
    let mut filters = Filters::tenant("tenant_id", tenant);
    filters.and("person_id = ?", person_id);
    if let Some(year) = query.year {
        filters.and("year = ?", year);
    }
    if let Some(subject) = query.subject.as_deref().filter(|s| !s.is_empty()) {
        if !crate::tenancy::SUBJECT_CODES.contains(&subject) {
            return Err(AppError::bad_request("bad_subject", "科目类型无效"));
        }
        filters.and("subject = ?", subject);
    }
    if let Some(source) = query.source.as_deref().filter(|s| !s.is_empty()) {
        if !SOURCES.iter().any(|(c, _)| *c == source) {
            return Err(AppError::bad_request("bad_source", "学时来源无效"));
        }
        filters.and("source = ?", source);
    }
    if !query.revoked {
        filters.and_sql("revoked_at IS NULL");
    }
    Ok(db
        .page(
            &filters,
            "id, year, subject, hours, source, source_ref, course, created_at, revoked_at, revoke_reason",
            "FROM credits",
            "year DESC, id DESC",
            query.page,
            query.per_page(),
        )
        .await?)
}

/// Valid hours per subject of one person-year, in hundredths: (public, professional).
pub async fn totals(db: &Db, tenant: &str, person_id: i64, year: i64) -> Result<(i64, i64), sqlx::Error> {
    let rows: Vec<(String, i64)> = db
        .all(
            q("SELECT subject, CAST(SUM(hours) AS BIGINT) FROM credits WHERE tenant_id = $1 AND person_id = $2 AND year = $3 AND revoked_at IS NULL GROUP BY subject")
                .bind(tenant)
                .bind(person_id)
                .bind(year),
        )
        .await?;
    let get = |s: &str| rows.iter().find(|(subject, _)| subject == s).map_or(0, |r| r.1);
    Ok((get("public"), get("professional")))
}

/// Reads a stored code ("public", "online", "technical") as the rules model's enum.
fn as_enum<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    serde_json::from_value(Value::String(text.to_owned()))
}

/// This year, as the ledger counts years (China's calendar), and a year checked for the rules.
pub use crate::china_time::{check_year, this_year};

/// A valid credit as the rules read it from the ledger: subject, hours (hundredths), source, course.
pub type LedgerCredit = (String, i64, String, Option<String>);

/// Turns a person's stored post, title level and valid credits of a year into the plugin's input.
/// Exemptions are not hours (the certificate work decides what an exempt year means), so they are left out.
pub fn person_year(
    year: u16,
    post: &str,
    title_level: &str,
    credits: impl IntoIterator<Item = LedgerCredit>,
) -> Result<crate::rules::model::PersonYear, AppError> {
    use crate::rules::model::{Credit as RuleCredit, Hours, Person, PersonYear};
    let mut out = Vec::new();
    for (subject, hours, source, course) in credits {
        let (Ok(subject), Ok(source)) = (as_enum(&subject), as_enum::<crate::rules::model::Source>(&source)) else { continue };
        let hours = Hours(u32::try_from(hours).map_err(AppError::internal)?);
        out.push(RuleCredit { subject, hours, source, course });
    }
    let person = Person { post: as_enum(post).map_err(AppError::internal)?, title_level: title_level.to_owned() };
    Ok(PersonYear { year, person, credits: out })
}

/// A person's standing for a year, judged live by the tenant's rules plugin for that year from the valid
/// credits in the ledger (the same shape as `jijiao rules status`), and the sha256 of the plugin that
/// judged it. Pages read the stored result instead (`status`); this is what the recompute runs.
pub async fn judge(
    db: &Db,
    rules: &crate::rules::Rules,
    tenant: &str,
    person_id: i64,
    year: i64,
) -> Result<(crate::rules::model::YearStatus, String), AppError> {
    let input = ledger_input(db, tenant, person_id, year).await?;
    let rules = rules.for_tenant_year(tenant, input.year)?;
    let sha256 = rules.plugin().sha256;
    Ok((rules.blocking(move |r| r.year_status(&input)).await?, sha256))
}

/// A person-year as the rules plugin reads it: the person's post and title level and the year's valid
/// credits from the ledger.
pub async fn ledger_input(db: &Db, tenant: &str, person_id: i64, year: i64) -> Result<crate::rules::model::PersonYear, AppError> {
    let year16 = check_year(year)?;
    let (post, title_level): (String, String) = db
        .opt(q("SELECT post, title_level FROM people WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(person_id))
        .await?
        .ok_or_else(AppError::not_found)?;
    let rows: Vec<LedgerCredit> = db
        .all(
            q("SELECT subject, hours, source, course FROM credits WHERE tenant_id = $1 AND person_id = $2 AND year = $3 AND revoked_at IS NULL ORDER BY id")
                .bind(tenant)
                .bind(person_id)
                .bind(year),
        )
        .await?;
    person_year(year16, &post, &title_level, rows)
}

/// [`judge`] on the server's state, without the plugin's identity: a live judgement for callers that
/// need one now (pages read the stored status through `status::current` instead).
pub async fn year_status(state: &AppState, tenant: &str, person_id: i64, year: i64) -> Result<crate::rules::model::YearStatus, AppError> {
    Ok(judge(&state.db, &state.rules, tenant, person_id, year).await?.0)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct YearQuery {
    /// The year counted (default: this year)
    pub year: Option<i64>,
}

#[utoipa::path(get, path = "/me/status", params(YearQuery), tag = "hours",
    responses((status = 200, body = status::Judgement, description = "The stored status, recomputed first when missing or stale; hours as decimals"),
              (status = 403, description = "Not a staff account")))]
pub async fn api_my_status(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<YearQuery>,
) -> Result<Json<status::Judgement>, AppError> {
    user.authorize(&state, "profile", "read").await?;
    let person = user.account.person_id.ok_or_else(AppError::forbidden)?;
    let year = query.year.unwrap_or_else(this_year);
    let status = status::current(&state, user.tenant_code(), person, year).await?;
    Ok(Json(status.judgement()))
}

#[utoipa::path(get, path = "/me/credits", params(CreditQuery), tag = "hours",
    responses((status = 200, body = Paged<Credit>, description = "The caller's credits with hours as decimals"), (status = 403, description = "Not a staff account")))]
pub async fn api_my_credits(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<CreditQuery>,
) -> Result<Json<Paged<Credit>>, AppError> {
    user.authorize(&state, "profile", "read").await?;
    let person = user.account.person_id.ok_or_else(AppError::forbidden)?;
    let (items, total) = list(&state.db, user.tenant_code(), person, &query).await?;
    Ok(Json(Paged::new(items, total, query.paging())))
}

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_my_credits))
        .routes(routes!(api_my_status))
        .merge(pages::api_routes())
        .merge(admin::api_routes())
        .merge(import::api_routes())
}

pub fn page_routes() -> Router<AppState> {
    Router::new().merge(pages::page_routes()).merge(admin::page_routes()).merge(import::page_routes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_round_trip_without_floats() {
        assert_eq!(parse_hours("12"), Ok(1200));
        assert_eq!(parse_hours("12.5"), Ok(1250));
        assert_eq!(parse_hours(" 0.25 "), Ok(25));
        assert_eq!(parse_hours("29.50"), Ok(2950));
        assert!(parse_hours("1.234").is_err());
        assert!(parse_hours("-3").is_err());
        assert!(parse_hours("0").is_err());
        assert!(parse_hours("abc").is_err());
        assert!(parse_hours(".5").is_err());
        assert_eq!(format_hours(1250), "12.5");
        assert_eq!(format_hours(1200), "12");
        assert_eq!(format_hours(1205), "12.05");
        assert_eq!(hours_json(2950), serde_json::json!(29.5));
        assert_eq!(serde_json::json!(Hundredths(2950)), serde_json::json!(29.5));
        assert_eq!(serde_json::json!(Hundredths(9000)).to_string(), "90", "whole hours stay integers on the wire");
    }
}
