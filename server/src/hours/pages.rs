//! "我的学时" (seed 001 学时查询, seed 003 继续教育信息): the person's own progress for a year (a bar per
//! subject, the shortfall and the plugin's notes such as missing required courses), every year's
//! standing, and the credits with filters.

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{CreditQuery, SOURCES, status, this_year};
use crate::api::Paged;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::paging::Paging;
use crate::paging::Query;
use crate::state::AppState;
use crate::web::{Page, empty_as_none};

/// `?a=1&b=x&` for links that keep a list's filters (pager, year links); empty values are left out.
pub use crate::paging::query_href;

fn opt(v: Option<i64>) -> String {
    v.map(|n| n.to_string()).unwrap_or_default()
}

/// The person behind a staff account, or 403 for admins (they have no ledger of their own).
fn own_person(user: &CurrentUser) -> Result<i64, AppError> {
    user.account.person_id.ok_or_else(|| AppError::new(axum::http::StatusCode::FORBIDDEN, "no_person", "管理员账号没有个人学时档案"))
}

#[utoipa::path(get, path = "/me/years", tag = "hours",
    responses((status = 200, body = Paged<status::Standing>, description = "Every year with its stored status, all on one page"),
              (status = 403, description = "Not a staff account")))]
pub async fn api_my_years(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Paged<status::Standing>>, AppError> {
    user.authorize(&state, "profile", "read").await?;
    let person = own_person(&user)?;
    let years = status::years(&state.db, user.tenant_code(), person).await?;
    Ok(Json(every_year(&years)))
}

/// Every year's stored status in the paged shape, all on one page.
pub fn every_year(years: &[status::StoredStatus]) -> Paged<status::Standing> {
    let total = years.len() as i64;
    Paged::new(years.iter().map(status::StoredStatus::standing).collect(), total, Paging::all(total))
}

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api_my_years))
}

pub fn page_routes() -> Router<AppState> {
    Router::new().route("/hours", get(hours_page))
}

#[derive(Debug, Default, Deserialize)]
pub struct HoursPageQuery {
    /// The year whose progress is shown (default: this year).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub year: Option<i64>,
    /// The credits list's year filter ("" = every year).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub credit_year: Option<i64>,
    pub subject: Option<String>,
    pub source: Option<String>,
    #[serde(default)]
    pub revoked: Option<String>,
    #[serde(default = "crate::paging::first_page")]
    pub page: i64,
}

async fn hours_page(State(state): State<AppState>, page: Page, Query(query): Query<HoursPageQuery>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    user.authorize(&state, "profile", "read").await?;
    let Some(person) = user.account.person_id else {
        return page.render("hours.html", json!({"no_person": true}));
    };
    let tenant = user.tenant_code();
    let settings = &page.tenant.tenant.settings;
    let year = query.year.unwrap_or_else(this_year);
    super::check_year(year)?;
    let mut stored_years = status::years(&state.db, tenant, person).await?;
    // The person's own page judges the year now when its stored status is missing or stale.
    let stored = stored_years.iter().position(|s| s.year == year);
    let (current, error) = match stored.filter(|&i| stored_years[i].state() == "computed") {
        Some(i) => (Some(stored_years[i].view(&settings.words)), None),
        None => match status::recompute(&state.db, &state.rules, tenant, person, year).await {
            Ok(judged) => {
                let view = judged.view(&settings.words);
                match stored {
                    Some(i) => stored_years[i] = judged,
                    None => stored_years.push(judged),
                }
                (Some(view), None)
            }
            // Show what is stored (if anything) beside the error rather than fail the whole page.
            Err(err) => (stored.map(|i| stored_years[i].view(&settings.words)), Some(err.message)),
        },
    };
    // The rules that judged the year, as a version a person can read (the stored hash is for machines):
    // named only while the year's pinned plugin is the one that computed it.
    let rules_version = current.as_ref().and_then(|c| c["plugin_sha256"].as_str()).and_then(|sha| {
        let plugin = state.rules.for_tenant_year(tenant, u16::try_from(year).ok()?).ok()?.plugin();
        (plugin.sha256 == sha).then_some(plugin.version)
    });
    stored_years.sort_by_key(|s| std::cmp::Reverse(s.year));
    let years: Vec<Value> = stored_years.iter().map(|s| s.view(&settings.words)).collect();
    let revoked = query.revoked.as_deref() == Some("1");
    let credit_query = CreditQuery {
        year: query.credit_year,
        subject: query.subject.clone(),
        source: query.source.clone(),
        revoked,
        page: query.page,
        per_page: Some(20),
    };
    let (credits, total) = super::list(&state.db, tenant, person, &credit_query).await?;
    let credits: Vec<Value> = credits
        .iter()
        .map(|c| {
            let mut v = json!(c);
            v["hours_text"] = json!(super::format_hours(c.hours.0));
            v["subject_label"] = json!(settings.subject_name(&c.subject));
            v["source_label"] = json!(label(SOURCES, &c.source));
            v
        })
        .collect();
    let href = query_href(
        &format!("{}/hours", page.tenant.base),
        &[
            ("year", year.to_string()),
            ("credit_year", opt(query.credit_year)),
            ("subject", query.subject.clone().unwrap_or_default()),
            ("source", query.source.clone().unwrap_or_default()),
            ("revoked", if revoked { "1".into() } else { String::new() }),
        ],
    );
    let year_choices: Vec<i64> = years.iter().filter_map(|y| y["year"].as_i64()).collect();
    page.render(
        "hours.html",
        json!({"year": year, "current": current, "rules_version": rules_version, "error": error, "years": years, "year_choices": year_choices,
               "credits": credits, "pager": credit_query.paging().pager(total), "href": href,
               "subjects": pairs(&settings.subjects()), "sources": pairs(SOURCES),
               "query": {"credit_year": query.credit_year, "subject": query.subject, "source": query.source, "revoked": revoked}}),
    )
}

pub fn label(table: &[(&str, &'static str)], code: &str) -> &'static str {
    table.iter().find(|(c, _)| *c == code).map_or("", |(_, l)| *l)
}

pub fn pairs(table: &[(&str, &str)]) -> Vec<Value> {
    table.iter().map(|(code, name)| json!({"code": code, "name": name})).collect()
}
