//! The 年度学时要求 page: a year's table per title level, editable for this year and the next.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{OTHER_LEVEL, RequirementInput, RequirementsInput};
use crate::auth::csrf::CsrfForm;
use crate::error::AppError;
use crate::paging::Query;
use crate::state::AppState;
use crate::web::{Page, done_redirect};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/requirements", get(page))
        .route("/requirements/{year}", post(submit))
        .route("/requirements/{year}/reset", post(reset_submit))
}

#[derive(Debug, Deserialize)]
struct YearQuery {
    year: Option<i64>,
}

/// The form sends one row per title level, its four fields repeated in the same order.
#[derive(Debug, Default, Deserialize)]
struct TableForm {
    #[serde(default)]
    title_level: Vec<String>,
    #[serde(default)]
    public: Vec<String>,
    #[serde(default)]
    professional: Vec<String>,
    #[serde(default)]
    total: Vec<String>,
}

impl TableForm {
    /// The rows as the API takes them; a level left blank (other than `*`) follows the `*` row.
    fn input(&self) -> RequirementsInput {
        let cell = |column: &[String], i: usize| column.get(i).map_or("", |v| v.trim()).to_owned();
        let rows = (0..self.title_level.len())
            .map(|i| RequirementInput {
                title_level: self.title_level[i].clone(),
                public: Value::String(cell(&self.public, i)),
                professional: Value::String(cell(&self.professional, i)),
                total: Value::String(cell(&self.total, i)),
            })
            .filter(|row| {
                row.title_level == OTHER_LEVEL || [&row.public, &row.professional, &row.total].iter().any(|v| v.as_str() != Some(""))
            })
            .collect();
        RequirementsInput { rows }
    }
}

/// The page's rows: `*` first, then every title level; a level the table does not name shows blank.
async fn render(state: &AppState, page: &Page, year: i64, sent: Option<&TableForm>, err: Option<&AppError>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let table = super::table(state, user, year).await?;
    let levels = super::title_levels(state, user.tenant_code()).await?;
    let codes = std::iter::once(OTHER_LEVEL.to_owned()).chain(levels.iter().map(|(code, _)| code.clone()));
    let rows: Vec<Value> = codes
        .map(|code| {
            let values = match sent.and_then(|form| form.title_level.iter().position(|level| *level == code).map(|i| (form, i))) {
                Some((form, i)) => [&form.public, &form.professional, &form.total].map(|column| json!(column.get(i).cloned().unwrap_or_default())),
                None => match table.rows.iter().find(|row| row.title_level == code) {
                    Some(row) => [json!(row.public), json!(row.professional), json!(row.total)],
                    None => [json!(""), json!(""), json!("")],
                },
            };
            json!({"code": code, "name": super::level_name(&levels, &code), "public": values[0], "professional": values[1], "total": values[2]})
        })
        .collect();
    page.render_status(
        err.map_or(StatusCode::OK, |e| e.status),
        "requirements.html",
        json!({"year": year, "years": super::shown_years(), "table": table, "rows": rows,
               "errors": err.map_or(Value::Null, |e| json!(e.fields)), "error": err.map(AppError::page_text)}),
    )
}

async fn page(State(state): State<AppState>, page: Page, Query(query): Query<YearQuery>) -> Result<Response, AppError> {
    render(&state, &page, query.year.unwrap_or_else(crate::hours::this_year), None, None).await
}

#[derive(Debug, Default, Deserialize)]
struct ResetForm {}

async fn reset_submit(
    State(state): State<AppState>,
    page: Page,
    Path(year): Path<i64>,
    CsrfForm(_): CsrfForm<ResetForm>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match super::reset(&state, user, year).await {
        Ok(()) => Ok(done_redirect(&page.tenant.base, &format!("/requirements?year={year}"), "saved", 1)),
        Err(err) if err.fixable_on_page() || err.code == "not_stored" => render(&state, &page, year, None, Some(&err)).await,
        Err(err) => Err(err),
    }
}

async fn submit(
    State(state): State<AppState>,
    page: Page,
    Path(year): Path<i64>,
    CsrfForm(form): CsrfForm<TableForm>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match super::save(&state, user, year, &form.input()).await {
        Ok(()) => Ok(done_redirect(&page.tenant.base, &format!("/requirements?year={year}"), "saved", 1)),
        Err(err) if err.fixable_on_page() => render(&state, &page, year, Some(&form), Some(&err)).await,
        Err(err) => Err(err),
    }
}
