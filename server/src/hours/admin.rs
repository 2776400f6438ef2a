//! Yearly status for admins (issue 4 §2; seed 003 "查看继续教育信息", seed 004 人员查询): the staff of the
//! units in one's scope with their stored status for a year — a unit admin its own unit, an HR bureau or
//! industry authority its subtree — with filters, paging, masked ID numbers, an audited xlsx export and a
//! drill-down to one person's years and credits. Lists read `year_status`; they never call the plugin.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::pages::{label, pairs, query_href};
use super::{CreditQuery, Hundredths, SOURCES, SubjectHours, format_hours, status, this_year};
use crate::auth::CurrentUser;
use crate::auth::Role;
use crate::db::{Filters, q};
use crate::error::AppError;
use crate::paging::Query;
use crate::paging::{Paging, Search};
use crate::state::AppState;
use crate::stats::{JUDGED_COUNT, MET_COUNT};
use crate::tenancy::Words;
use crate::web::Page;
use crate::web::empty_as_none;

/// Most rows in one export.
const EXPORT_LIMIT: i64 = 50_000;

crate::paging::list_query! {
    #[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
    pub struct StatusQuery {
        /// The year (default: this year)
        #[serde(default, deserialize_with = "empty_as_none")]
        #[param(minimum = 1990, maximum = 2100)]
        pub year: Option<i64>,
        /// yes (met), no (not met) or none (not computed yet)
        #[param(pattern = "^(yes|no|none)?$")]
        pub met: Option<String>,
        /// Title level code (basic data `title_level`)
        pub title_level: Option<String>,
        /// A department (internal org) id
        #[serde(default, deserialize_with = "empty_as_none")]
        pub department: Option<i64>,
        /// A unit in the caller's scope
        #[serde(default, deserialize_with = "empty_as_none")]
        pub unit: Option<i64>,
        /// Name contains, or an exact ID number
        pub q: Option<String>,
    }
}

impl StatusQuery {
    fn year(&self) -> i64 {
        self.year.unwrap_or_else(this_year)
    }

    /// The filters as link parameters (without the page).
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let opt = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
        vec![
            ("year", self.year().to_string()),
            ("met", self.met.clone().unwrap_or_default()),
            ("title_level", self.title_level.clone().unwrap_or_default()),
            ("department", opt(self.department)),
            ("unit", opt(self.unit)),
            ("q", self.q.clone().unwrap_or_default()),
        ]
    }
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct StaffStatusRow {
    pub person_id: i64,
    pub name: String,
    pub id_number: String,
    pub unit_id: i64,
    pub unit_name: String,
    pub department_name: Option<String>,
    pub title: Option<String>,
    pub title_level: String,
    pub met: Option<bool>,
    pub required_public: Option<i64>,
    pub required_professional: Option<i64>,
    pub required_total: Option<i64>,
    pub counted_public: Option<i64>,
    pub counted_professional: Option<i64>,
    pub counted_total: Option<i64>,
    pub shortfall_total: Option<i64>,
    pub computed_at: Option<DateTime<Utc>>,
    pub generation: Option<i64>,
    pub computed_generation: Option<i64>,
}

impl StaffStatusRow {
    pub fn state(&self) -> &'static str {
        match (self.computed_at, self.generation, self.computed_generation) {
            (None, _, _) => "pending",
            (Some(_), Some(g), Some(c)) if c < g => "stale",
            _ => "computed",
        }
    }

    /// The API's shape: hours as decimals (0 until computed), `met` null until computed.
    pub fn view(&self) -> StaffStatus {
        let h = |v: Option<i64>| v.unwrap_or(0);
        StaffStatus {
            person_id: self.person_id,
            name: self.name.clone(),
            id_number: self.id_number.clone(),
            unit_id: self.unit_id,
            unit_name: self.unit_name.clone(),
            department_name: self.department_name.clone(),
            title: self.title.clone(),
            title_level: self.title_level.clone(),
            state: self.state(),
            met: if self.computed_at.is_some() { self.met } else { None },
            required: SubjectHours::new(h(self.required_public), h(self.required_professional), h(self.required_total)),
            counted: SubjectHours::new(h(self.counted_public), h(self.counted_professional), h(self.counted_total)),
            shortfall_total: Hundredths(h(self.shortfall_total)),
            computed_at: self.computed_at,
        }
    }
}

/// A staff member with the stored status of the year (ID number masked).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffStatus {
    pub person_id: i64,
    pub name: String,
    pub id_number: String,
    pub unit_id: i64,
    pub unit_name: String,
    pub department_name: Option<String>,
    pub title: Option<String>,
    pub title_level: String,
    /// `computed`, `stale` (a recompute is queued) or `pending` (never computed)
    pub state: &'static str,
    /// Null until computed
    pub met: Option<bool>,
    pub required: SubjectHours,
    pub counted: SubjectHours,
    pub shortfall_total: Hundredths,
    pub computed_at: Option<DateTime<Utc>>,
}

/// One page of staff with their status for a year, and the counts over every page.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffStatusList {
    pub items: Vec<StaffStatus>,
    /// Rows matching the filters, on every page
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    pub year: i64,
    pub summary: Summary,
}

/// A person's masked profile and every year's stored status, all on one page.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffYears {
    pub person: crate::people::Profile,
    pub items: Vec<status::Standing>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

const FROM: &str = "FROM people p JOIN orgs u ON u.tenant_id = p.tenant_id AND u.id = p.unit_id \
     LEFT JOIN orgs d ON d.tenant_id = p.tenant_id AND d.id = p.department_id \
     LEFT JOIN year_status s ON s.tenant_id = p.tenant_id AND s.person_id = p.id AND s.year = $2";

const SELECT: &str = "SELECT p.id AS person_id, p.name, p.id_number, u.id AS unit_id, u.name AS unit_name, d.name AS department_name, \
     p.title, p.title_level, s.met, s.required_public, s.required_professional, s.required_total, s.counted_public, \
     s.counted_professional, s.counted_total, s.shortfall_total, s.computed_at, s.generation, s.computed_generation";

/// Counts of the filtered staff by status (the met filter left out).
#[derive(Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = StatusSummary)]
pub struct Summary {
    pub total: i64,
    pub met: i64,
    pub not_met: i64,
}

/// The scope and filters of a list, checked; returns the filters and a summary's filters (without `met`).
async fn filters(state: &AppState, user: &CurrentUser, query: &StatusQuery) -> Result<(Filters, Filters), AppError> {
    user.authorize(state, "people", "read").await?;
    let scope = user.scope_pattern().ok_or_else(AppError::forbidden)?;
    let year = query.year();
    super::check_year(year)?;
    let mut f = Filters::tenant("p.tenant_id", user.tenant_code());
    // Binds the year as $2, which the LEFT JOIN on year_status uses (see FROM).
    f.and("CAST(? AS BIGINT) > 0", year);
    f.and_same("(u.path LIKE ? OR u.supervisor_path LIKE ?)", scope);
    // People belong to units only (registration and transfers see to it); saying so lets a page walk
    // the units by name.
    f.and_sql("u.kind = 'unit'");
    if let Some(text) = query.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        f.name_or_id_number("p.name", "p.id_number", text);
    }
    if let Some(level) = query.title_level.as_deref().filter(|t| !t.is_empty()) {
        f.and("p.title_level = ?", level.to_owned());
    }
    if let Some(unit) = query.unit {
        f.and("p.unit_id = ?", unit);
    }
    if let Some(department) = query.department {
        f.and("p.department_id = ?", department);
    }
    let summary = f.clone();
    match query.met.as_deref().unwrap_or("") {
        "" => {}
        "yes" => {
            f.and_sql("s.computed_at IS NOT NULL");
            f.and("s.met = ?", true);
        }
        "no" => {
            f.and_sql("s.computed_at IS NOT NULL");
            f.and("s.met = ?", false);
        }
        "none" => {
            f.and_sql("(s.person_id IS NULL OR s.computed_at IS NULL)");
        }
        _ => return Err(AppError::bad_request("bad_met", "达标状态应为 yes（已达标）、no（未达标）或 none（未计算）")),
    }
    Ok((f, summary))
}

/// One page of staff with their status for the year, the total, and the counts by status. The total is
/// read off the counts (the `met` filter picks one of them), so the scope is counted once per page.
pub async fn list(state: &AppState, user: &CurrentUser, query: &StatusQuery) -> Result<(Vec<StaffStatusRow>, i64, Summary), AppError> {
    let (f, s) = filters(state, user, query).await?;
    let mut rows: Vec<StaffStatusRow> =
        state.db.all(f.page(&format!("{SELECT} {FROM}"), "u.name, p.name, p.id", query.page, query.per_page())).await?;
    for row in &mut rows {
        row.id_number = crate::ids::mask_id_number(&row.id_number);
    }
    let summary = counts(state, user, query, &s).await?;
    let total = match query.met.as_deref().unwrap_or("") {
        "yes" => summary.met,
        "no" => summary.not_met,
        "none" => summary.total - summary.met - summary.not_met,
        _ => summary.total,
    };
    Ok((rows, total, summary))
}

/// The list's counts by status. Filtered by no more than title level and unit they are the per-unit
/// summary's sums (a province's admin would otherwise count a million people on every page); a name or
/// department filter counts the matching people.
async fn counts(state: &AppState, user: &CurrentUser, query: &StatusQuery, people: &Filters) -> Result<Summary, AppError> {
    let searched = query.q.as_deref().is_some_and(|t| !t.trim().is_empty()) || query.department.is_some();
    if searched {
        return Ok(state
            .db
            .one(people.all(
                &format!(
                    "SELECT CAST(COUNT(*) AS BIGINT) AS total, CAST({MET_COUNT} AS BIGINT) AS met, \
                     CAST({JUDGED_COUNT} - {MET_COUNT} AS BIGINT) AS not_met {FROM}"
                ),
                "1",
            ))
            .await?);
    }
    let scope = user.scope_pattern().ok_or_else(AppError::forbidden)?;
    let level = query.title_level.as_deref().filter(|t| !t.is_empty());
    let sums = crate::stats::summary::people_sums(state, user.tenant_code(), query.year(), &scope, level, query.unit).await?;
    Ok(Summary { total: sums.people, met: sums.met, not_met: sums.judged - sums.met })
}

#[utoipa::path(get, path = "/staff/status", params(StatusQuery), tag = "hours",
    responses((status = 200, body = StaffStatusList, description = "Staff in the caller's scope with their stored status for the year (ID numbers masked)"),
              (status = 400, description = "bad_met / bad_year"), (status = 403, description = "Not an admin"),
              (status = 503, description = "stats_building: a large tenant's first summary of the year is being built by a job; ask again later")))]
pub async fn api_staff_status(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<StatusQuery>,
) -> Result<Json<StaffStatusList>, AppError> {
    let (rows, total, summary) = list(&state, &user, &query).await?;
    let Paging { page, per_page } = query.paging();
    let items = rows.iter().map(StaffStatusRow::view).collect();
    Ok(Json(StaffStatusList { items, total, page, per_page, year: query.year(), summary }))
}

/// A person in the caller's scope, with a masked profile; anyone else is "not found".
async fn person_in_scope(state: &AppState, user: &CurrentUser, person_id: i64) -> Result<crate::people::Profile, AppError> {
    user.authorize(state, "people", "read").await?;
    let scope = user.scope_pattern().ok_or_else(AppError::forbidden)?;
    let mut profile =
        crate::people::profile_in_scope(&state.db, user.tenant_code(), &scope, person_id).await?.ok_or_else(AppError::not_found)?;
    profile.id_number = crate::ids::mask_id_number(&profile.id_number);
    Ok(profile)
}

#[utoipa::path(get, path = "/staff/{person_id}/years", tag = "hours",
    params(("person_id" = i64, Path, description = "A person in the caller's scope")),
    responses((status = 200, body = StaffYears, description = "The person's masked profile and every year's stored status"),
              (status = 404, description = "No such person in the caller's scope")))]
pub async fn api_staff_years(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(person_id): Path<i64>,
) -> Result<Json<StaffYears>, AppError> {
    let person = person_in_scope(&state, &user, person_id).await?;
    let years = status::years(&state.db, user.tenant_code(), person_id).await?;
    let crate::api::Paged { items, total, page, per_page } = super::pages::every_year(&years);
    Ok(Json(StaffYears { person, items, total, page, per_page }))
}

#[utoipa::path(get, path = "/staff/{person_id}/credits", tag = "hours",
    params(("person_id" = i64, Path, description = "A person in the caller's scope"), CreditQuery),
    responses((status = 200, body = crate::api::Paged<super::Credit>, description = "The person's credits, hours as decimals"),
              (status = 404, description = "No such person in the caller's scope")))]
pub async fn api_staff_credits(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(person_id): Path<i64>,
    Query(query): Query<CreditQuery>,
) -> Result<Json<crate::api::Paged<super::Credit>>, AppError> {
    person_in_scope(&state, &user, person_id).await?;
    let (items, total) = super::list(&state.db, user.tenant_code(), person_id, &query).await?;
    Ok(Json(crate::api::Paged::new(items, total, query.paging())))
}

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api_staff_status)).routes(routes!(api_staff_years)).routes(routes!(api_staff_credits))
}

pub fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/staff/status", get(status_page))
        .route("/staff/status.xlsx", get(export_xlsx))
        .route("/staff/{person_id}", get(detail_page))
}

/// How many units the filter's drop-down lists at once (a province has tens of thousands).
const UNIT_CHOICES: usize = 200;

/// The page's unit search (查找单位): a part of a unit's name or credit code.
#[derive(Debug, Default, Deserialize)]
struct UnitSearch {
    unit_q: Option<String>,
}

/// The unit filter of the page: units in the caller's scope by name, at most [`UNIT_CHOICES`] of them,
/// narrowed by a search; none for a unit admin (it sees its own unit only).
#[derive(Debug, Default, Serialize)]
struct UnitChoices {
    offered: bool,
    items: Vec<Value>,
    /// More units matched than are listed.
    more: bool,
    search: String,
    limit: usize,
}

/// The unit filter's choices. A search decides the chosen unit: kept if it matches, otherwise the one
/// unit matching (if just one does) or none; without a search a chosen unit beyond the listed ones is
/// listed first, so that a link to a unit's staff shows it chosen.
async fn unit_choices(
    state: &AppState,
    user: &CurrentUser,
    search: Option<&str>,
    chosen: &mut Option<i64>,
) -> Result<UnitChoices, AppError> {
    if user.account.role == Role::UnitAdmin {
        return Ok(UnitChoices::default());
    }
    let scope = user.scope_pattern().ok_or_else(AppError::forbidden)?;
    let search = search.map(str::trim).filter(|t| !t.is_empty());
    let mut f = Filters::tenant("o.tenant_id", user.tenant_code());
    f.and_sql("o.kind = 'unit'");
    f.and_same("(o.path LIKE ? OR o.supervisor_path LIKE ?)", scope);
    let listed = f.clone();
    if let Some(text) = search {
        f.contains(&["o.name", "o.credit_code"], text);
    }
    let (mut units, more): (Vec<(i64, String)>, bool) =
        crate::paging::first_rows(&state.db, f.all("SELECT o.id, o.name FROM orgs o", "o.name, o.id"), UNIT_CHOICES).await?;
    let is_listed = |id: i64| units.iter().any(|(u, _)| *u == id);
    if search.is_some() {
        if !chosen.is_some_and(is_listed) {
            *chosen = match units.as_slice() {
                [(only, _)] => Some(*only),
                _ => None,
            };
        }
    } else if let Some(id) = *chosen
        && !is_listed(id)
    {
        let mut one = listed;
        one.and("o.id = ?", id);
        if let Some(unit) = state.db.opt::<(i64, String)>(one.all("SELECT o.id, o.name FROM orgs o", "o.id")).await? {
            units.insert(0, unit);
        }
    }
    Ok(UnitChoices {
        offered: true,
        items: units.into_iter().map(|(id, name)| json!({"id": id, "name": name})).collect(),
        more,
        search: search.unwrap_or_default().to_owned(),
        limit: UNIT_CHOICES,
    })
}

/// Departments of the chosen unit, or of the unit admin's own unit.
pub async fn department_choices(state: &AppState, user: &CurrentUser, unit: Option<i64>) -> Result<Vec<Value>, AppError> {
    let unit = match unit {
        Some(u) => Some(u),
        None if user.account.role == Role::UnitAdmin => user.account.org_id,
        None => None,
    };
    let Some(unit) = unit else { return Ok(Vec::new()) };
    let scope = user.scope_pattern().ok_or_else(AppError::forbidden)?;
    let rows: Vec<(i64, String)> = state
        .db
        .all(
            q("SELECT d.id, d.name FROM orgs d JOIN orgs u ON u.tenant_id = d.tenant_id AND u.id = d.parent_id \
               WHERE d.tenant_id = $1 AND d.kind = 'department' AND d.parent_id = $2 AND (u.path LIKE $3 OR u.supervisor_path LIKE $3) \
               ORDER BY d.name, d.id")
            .bind(user.tenant_code())
            .bind(unit)
            .bind(scope),
        )
        .await?;
    Ok(rows.into_iter().map(|(id, name)| json!({"id": id, "name": name})).collect())
}

/// The year choices of the filter form: this year and the nine before it.
fn year_choices() -> Vec<i64> {
    let now = this_year();
    (now - 9..=now).rev().collect()
}

async fn status_page(
    State(state): State<AppState>,
    page: Page,
    Query(mut query): Query<StatusQuery>,
    Query(search): Query<UnitSearch>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    user.authorize(&state, "people", "read").await?;
    let units = unit_choices(&state, user, search.unit_q.as_deref(), &mut query.unit).await?;
    let (rows, total, summary) = list(&state, user, &query).await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut v = json!(r.view());
            v["required_text"] = json!(format_hours(r.required_total.unwrap_or(0)));
            v["counted_text"] = json!(format_hours(r.counted_total.unwrap_or(0)));
            v["shortfall_text"] = json!(format_hours(r.shortfall_total.unwrap_or(0)));
            v
        })
        .collect();
    let lists = crate::tenancy::form_options(&state.db, user.tenant_code(), &["title_level"]).await?;
    let base = &page.tenant.base;
    let mut pairs = query.pairs();
    let export_href = query_href(&format!("{base}/staff/status.xlsx"), &pairs);
    pairs.push(("unit_q", units.search.clone()));
    page.render(
        "staff_status.html",
        json!({"items": items, "summary": summary, "lists": lists, "year": query.year(), "years": year_choices(),
               "units": units, "departments": department_choices(&state, user, query.unit).await?,
               "query": {"met": query.met, "title_level": query.title_level, "department": query.department, "unit": query.unit, "q": query.q},
               "pager": query.paging().pager(total),
               "href": query_href(&format!("{base}/staff/status"), &pairs), "export_href": export_href}),
    )
}

#[derive(Debug, Default, Deserialize)]
struct DetailQuery {
    #[serde(default, deserialize_with = "empty_as_none")]
    credit_year: Option<i64>,
    subject: Option<String>,
    source: Option<String>,
    #[serde(default = "crate::paging::first_page")]
    page: i64,
}

/// Seed 003 "查看继续教育信息": one person's profile summary, every year's standing and the credits.
async fn detail_page(
    State(state): State<AppState>,
    page: Page,
    Path(person_id): Path<i64>,
    Query(query): Query<DetailQuery>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let person = person_in_scope(&state, user, person_id).await?;
    let tenant = user.tenant_code();
    let settings = &page.tenant.tenant.settings;
    let years: Vec<Value> = status::years(&state.db, tenant, person_id).await?.iter().map(|s| s.view(&settings.words)).collect();
    let credit_query = CreditQuery {
        year: query.credit_year,
        subject: query.subject.clone(),
        source: query.source.clone(),
        revoked: true,
        page: query.page,
        per_page: Some(20),
    };
    let (credits, total) = super::list(&state.db, tenant, person_id, &credit_query).await?;
    let credits: Vec<Value> = credits
        .iter()
        .map(|c| {
            let mut v = json!(c);
            v["hours_text"] = json!(format_hours(c.hours.0));
            v["subject_label"] = json!(settings.subject_name(&c.subject));
            v["source_label"] = json!(label(SOURCES, &c.source));
            v
        })
        .collect();
    let lists = crate::tenancy::form_options(&state.db, tenant, &["title_level", "post", "education"]).await?;
    let href = query_href(
        &format!("{}/staff/{person_id}", page.tenant.base),
        &[
            ("credit_year", query.credit_year.map(|y| y.to_string()).unwrap_or_default()),
            ("subject", query.subject.clone().unwrap_or_default()),
            ("source", query.source.clone().unwrap_or_default()),
        ],
    );
    let year_choices: Vec<i64> = years.iter().filter_map(|y| y["year"].as_i64()).collect();
    let may_transfer = user.can(&state, "transfers", "start").await;
    let subjects = pairs(&settings.subjects());
    page.under("/staff/status").render(
        "staff_detail.html",
        json!({"person": person, "years": years, "year_choices": year_choices, "credits": credits, "lists": lists,
               "pager": credit_query.paging().pager(total), "href": href, "subjects": subjects, "sources": pairs(SOURCES),
               "query": {"credit_year": query.credit_year, "subject": query.subject, "source": query.source},
               "may_transfer": may_transfer}),
    )
}

/// The filtered list as an xlsx workbook (every page), recorded in the audit log.
async fn export_xlsx(State(state): State<AppState>, page: Page, Query(query): Query<StatusQuery>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let (f, _) = filters(&state, user, &query).await?;
    let total = state.db.scalar(f.count(FROM)).await?;
    if total > EXPORT_LIMIT {
        return Err(AppError::bad_request(
            "export_too_large",
            format!("符合条件的人员有 {total} 人，超过单次导出上限 {EXPORT_LIMIT} 人，请缩小筛选范围"),
        ));
    }
    let rows: Vec<StaffStatusRow> = state.db.all(f.all(&format!("{SELECT} {FROM}"), "u.name, p.name, p.id")).await?;
    let levels = crate::tenancy::basic_data(&state.db, user.tenant_code(), "title_level").await?;
    let year = query.year();
    let bytes = workbook(year, &rows, &page.tenant.tenant.settings.words, |code| {
        levels.iter().find(|l| l.code == code).map_or(code.to_owned(), |l| l.name.clone())
    })
    .map_err(AppError::internal)?;
    crate::audit::record(
        &state.db,
        user.tenant_code(),
        Some(user.account.id),
        "export.staff_status",
        "year_status",
        None,
        json!({"year": year, "rows": rows.len(), "filters": query.pairs().into_iter().filter(|(_, v)| !v.is_empty()).collect::<std::collections::BTreeMap<_, _>>()}),
    )
    .await?;
    Ok(crate::spreadsheet::xlsx_download(&format!("staff-status-{year}.xlsx"), &format!("继续教育学时_{year}.xlsx"), bytes))
}

fn workbook(
    year: i64,
    rows: &[StaffStatusRow],
    words: &Words,
    level_name: impl Fn(&str) -> String,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use crate::spreadsheet::export_text;
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(format!("{year}年度"))?;
    let bold = Format::new().set_bold();
    let (public, professional) = (Words::short(&words.public), Words::short(&words.professional));
    let headers = [
        "姓名".to_owned(),
        "身份证号".to_owned(),
        "单位".to_owned(),
        "部门".to_owned(),
        "职称".to_owned(),
        "职称等级".to_owned(),
        "年度".to_owned(),
        "状态".to_owned(),
        format!("应修{public}"),
        format!("已修{public}"),
        format!("应修{professional}"),
        format!("已修{professional}"),
        "应修合计".to_owned(),
        "已修合计".to_owned(),
        "尚差学时".to_owned(),
        "计算时间".to_owned(),
    ];
    for (col, title) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, title, &bold)?;
    }
    let hours = |v: Option<i64>| v.unwrap_or(0) as f64 / 100.0;
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        let state = match (r.state(), r.met) {
            ("pending", _) => "未计算",
            (_, Some(true)) => "已达标",
            _ => "未达标",
        };
        sheet.write_string(row, 0, export_text(&r.name))?;
        sheet.write_string(row, 1, crate::ids::mask_id_number(&r.id_number))?;
        sheet.write_string(row, 2, export_text(&r.unit_name))?;
        sheet.write_string(row, 3, export_text(r.department_name.as_deref().unwrap_or("")))?;
        sheet.write_string(row, 4, export_text(r.title.as_deref().unwrap_or("")))?;
        sheet.write_string(row, 5, export_text(&level_name(&r.title_level)))?;
        sheet.write_number(row, 6, year as f64)?;
        sheet.write_string(row, 7, state)?;
        if r.state() != "pending" {
            for (col, v) in [
                (8, r.required_public),
                (9, r.counted_public),
                (10, r.required_professional),
                (11, r.counted_professional),
                (12, r.required_total),
                (13, r.counted_total),
                (14, r.shortfall_total),
            ] {
                sheet.write_number(row, col, hours(v))?;
            }
        }
        if let Some(at) = r.computed_at {
            sheet.write_string(row, 15, crate::china_time::minute(at))?;
        }
    }
    sheet.autofit();
    book.save_to_buffer()
}
