//! The 年度计划与总结 pages: an institution files its yearly plan and summary and follows them; the
//! departments that audit them list those of their institutions. Decisions are the approval queue's
//! `annual_plan` and `annual_summary` tabs.

use axum::Router;
use axum::extract::{Multipart, Path, State};

use crate::paging::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::{NewReport, ReportQuery};
use crate::auth::csrf::CsrfForm;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::{Page, done_redirect};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/annual-reports", get(list_page).post(file_submit))
        .route("/annual-reports/{id}", get(detail_page))
        .route("/annual-reports/{id}/document", get(super::api::api_document))
        .route("/annual-reports/{id}/withdraw", post(withdraw_submit))
}

async fn render(
    state: &AppState,
    page: &Page,
    query: &ReportQuery,
    form: Option<&NewReport>,
    err: Option<&AppError>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let mut data = super::page_json(state, user, query).await?;
    let kept = |value: &Option<String>| value.clone().unwrap_or_default();
    data["href"] = json!(crate::paging::query_href(
        &format!("{}/annual-reports", page.tenant.base),
        &[
            ("kind", kept(&query.kind)),
            ("year", query.year.map(|y| y.to_string()).unwrap_or_default()),
            ("status", kept(&query.status)),
            ("q", kept(&query.q))
        ],
    ));
    data["query"] = json!({"kind": query.kind, "year": query.year, "status": query.status, "q": query.q});
    data["form"] = form.map_or_else(
        || json!({"kind": "plan", "year": data["this_year"]}),
        |f| json!({"kind": f.kind, "year": f.year, "title": f.title, "content": f.content, "classes": f.classes, "trainees": f.trainees}),
    );
    data["errors"] = err.map_or(Value::Null, |e| json!(e.fields));
    data["error"] = json!(err.map(AppError::page_text));
    page.render_status(err.map_or(StatusCode::OK, |e| e.status), "annual_reports.html", data)
}

async fn list_page(State(state): State<AppState>, page: Page, Query(query): Query<ReportQuery>) -> Result<Response, AppError> {
    render(&state, &page, &query, None, None).await
}

async fn file_submit(State(state): State<AppState>, page: Page, headers: HeaderMap, multipart: Multipart) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let (input, document, csrf) = super::api::read_form(multipart).await?;
    crate::auth::csrf::verify(&headers, csrf.as_deref())?;
    match super::file(&state, user, &input, document).await {
        Ok(_) => Ok(done_redirect(&page.tenant.base, "/annual-reports", "report_filed", 1)),
        Err(err) if err.fixable_on_page() || err.status == StatusCode::CONFLICT => {
            render(&state, &page, &ReportQuery::default(), Some(&input), Some(&err)).await
        }
        Err(err) => Err(err),
    }
}

async fn detail_page(State(state): State<AppState>, page: Page, Path(id): Path<i64>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let report = super::get(&state, user, id).await?;
    let may_withdraw = report.status == super::ReportStatus::Pending && user.account.org_id == Some(report.institution_id);
    let mut data = json!(super::detail(&state, user.tenant_code(), report).await?);
    data["may_withdraw"] = json!(may_withdraw);
    page.render("annual_report.html", data)
}

async fn withdraw_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<std::collections::BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    super::withdraw(&state, user, id).await?;
    Ok(done_redirect(&page.tenant.base, "/annual-reports", "report_withdrawn", 1))
}
