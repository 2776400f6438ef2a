//! Offline filing pages: units file, edit and withdraw; reviewers accept.

use crate::approvals::{self};
use crate::auth::CurrentUser;
use crate::auth::csrf::CsrfForm;
use crate::error::AppError;
use crate::rules::model::{RequestKind as RouteKind, Subject};
use crate::state::AppState;
use crate::web::{Page, done_redirect};
use axum::Router;
use axum::extract::{Path, State};

use crate::paging::Query;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

use super::*;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/filings", get(list_page).post(create_submit))
        .route("/filings/delete", post(delete_submit))
        .route("/filings/roster-template.xlsx", get(roster_template))
        .route("/filings/{id}", get(detail_page))
        .route("/filings/{id}/roster", post(roster_submit).layer(axum::extract::DefaultBodyLimit::disable()))
        .route("/filings/{id}/edit", get(edit_page).post(edit_submit))
        .route("/filings/{id}/{action}", post(action_submit))
}

/// What the form needs besides its values: the filer's organisation (申报单位), the subjects and, where
/// the province asks for it, the choice of the deciding department.
async fn form_data(state: &AppState, user: &CurrentUser, values: &Value) -> Result<Value, AppError> {
    let org = filing_org(state, user).await?;
    Ok(json!({
        "org_name": org.name,
        "subjects": user.tenant.tenant.settings.subjects().iter().map(|(c, l)| json!({"code": c, "name": l})).collect::<Vec<_>>(),
        "choices": CHOICES.iter().map(|(c, l)| json!({"code": c, "name": l})).collect::<Vec<_>>(),
        "offers_choice": approvals::route_asks_choice(state, user.tenant_code(), crate::hours::this_year(), &org.level, RouteKind::TrainingPlan, Subject::Professional).await,
        "values": values,
    }))
}

/// The list page with the new-filing form below it; `values`/`error` refill the form after a failed save.
async fn list_data(state: &AppState, user: &CurrentUser, query: &ListQuery, values: &Value) -> Result<Value, AppError> {
    let (items, total) = list(state, user, query).await?;
    let this = crate::hours::this_year();
    let mut data = form_data(state, user, values).await?;
    data["items"] = json!(items.iter().map(|f| f.view(&user.tenant.tenant.settings.words)).collect::<Vec<_>>());
    data["statuses"] = json!(crate::codes::choices(FilingStatus::listed()));
    data["years"] = json!(((this - 5)..=(this + 1)).rev().collect::<Vec<_>>());
    data["query"] = json!({"year": query.year, "subject": query.subject, "status": query.status, "q": query.q});
    data["pager"] = json!(query.paging().pager(total));
    Ok(data)
}

async fn list_page(State(state): State<AppState>, page: Page, Query(query): Query<ListQuery>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    page.render("filings.html", list_data(&state, user, &query, &json!({})).await?)
}

/// The form's flat text fields as the body (人数 from text: something that is no number is out of range).
fn body_from_form(form: &BTreeMap<String, String>) -> FilingBody {
    let text = |key: &str| form.get(key).cloned().unwrap_or_default();
    let participants = form.get("participants").map(|p| p.trim()).filter(|p| !p.is_empty()).map(|p| p.parse().unwrap_or(-1));
    FilingBody {
        subject: text("subject"),
        institution: text("institution"),
        institution_address: text("institution_address"),
        postcode: text("postcode"),
        email: form.get("email").cloned(),
        leader_name: text("leader_name"),
        leader_title: text("leader_title"),
        leader_phone: text("leader_phone"),
        contact_name: text("contact_name"),
        contact_title: text("contact_title"),
        contact_phone: text("contact_phone"),
        name: text("name"),
        start_date: text("start_date"),
        end_date: text("end_date"),
        place: text("place"),
        scope: text("scope"),
        participants,
        plan: text("plan"),
        choice: form.get("choice").cloned(),
    }
}

fn with_error(mut data: Value, err: &AppError) -> Value {
    data["error"] = json!(err.message);
    data["errors"] = json!(err.fields);
    data
}

async fn create_submit(
    State(state): State<AppState>,
    page: Page,
    CsrfForm(form): CsrfForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match create(&state, user, &body_from_form(&form)).await {
        Ok(filing) => Ok(done_redirect(&page.tenant.base, &format!("/filings/{}", filing.id), "submitted", 1)),
        Err(err) if err.fixable_on_page() => {
            let data = list_data(&state, user, &ListQuery { page: 1, ..Default::default() }, &json!(form)).await?;
            page.render_status(err.status, "filings.html", with_error(data, &err))
        }
        Err(err) => Err(err),
    }
}

#[derive(Debug, Deserialize)]
struct DeleteForm {
    #[serde(default)]
    ids: Vec<i64>,
}

/// 批量删除 from the list's check boxes.
async fn delete_submit(State(state): State<AppState>, page: Page, CsrfForm(form): CsrfForm<DeleteForm>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match delete(&state, user, &form.ids).await {
        Ok(n) => Ok(done_redirect(&page.tenant.base, "/filings", "deleted", n as i64)),
        Err(err) if err.fixable_on_page() => {
            let data = list_data(&state, user, &ListQuery { page: 1, ..Default::default() }, &json!({})).await?;
            page.render_status(err.status, "filings.html", with_error(data, &err))
        }
        Err(err) => Err(err),
    }
}

/// The filing with its participants' list (`?page=` pages through the list).
async fn detail_data(state: &AppState, user: &CurrentUser, id: i64, page: i64) -> Result<Value, AppError> {
    let mut data = json!(detail(state, user, id).await?);
    let paging = crate::paging::Paging::new(page, Some(50));
    let view = roster::view(state, user, id, paging).await?;
    data["roster_pager"] = json!(paging.pager(view.participants.total));
    data["roster"] = json!(view);
    Ok(data)
}

#[derive(Deserialize)]
struct DetailQuery {
    #[serde(default = "crate::paging::first_page")]
    page: i64,
}

async fn detail_page(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    Query(query): Query<DetailQuery>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    page.render("filing.html", detail_data(&state, user, id, query.page).await?)
}

async fn roster_template(State(state): State<AppState>, page: Page) -> Result<Response, AppError> {
    let user = page.require_user()?;
    filing_org(&state, user).await?;
    Ok(crate::spreadsheet::xlsx_download("roster-template.xlsx", "参训人员学时名单模板.xlsx", roster::template()?))
}

/// 上传学时名单: a sheet, or lines typed into the form when no file is chosen. Problems show on the
/// filing's page with every row's.
async fn roster_submit(
    State(state): State<AppState>,
    page: Page,
    headers: axum::http::HeaderMap,
    Path(id): Path<i64>,
    multipart: axum::extract::Multipart,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let form = crate::storage::upload::read_multipart_form(multipart, "file").await?;
    crate::auth::csrf::verify(&headers, form.csrf.as_deref())?;
    let lines = form.text("lines");
    let result = match &form.file {
        Some(file) => roster::upload_file(&state, user, id, &file.filename, &file.bytes).await,
        None => roster::upload(&state, user, id, &roster::typed_rows(&lines), None).await,
    };
    match result {
        Ok(_) => Ok(done_redirect(&page.tenant.base, &format!("/filings/{id}"), "roster_uploaded", 1)),
        Err(err) if err.fixable_on_page() => {
            let mut data = with_error(detail_data(&state, user, id, 1).await?, &err);
            data["error"] = json!(err.page_text());
            data["roster_lines"] = json!(lines);
            data["roster_problems"] = err.extra.as_ref().and_then(|e| e.get("rows")).cloned().unwrap_or(Value::Null);
            page.render_status(err.status, "filing.html", data)
        }
        Err(err) => Err(err),
    }
}

async fn edit_page(State(state): State<AppState>, page: Page, Path(id): Path<i64>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let filing = own(&state, user, id).await?;
    if !filing.changeable() {
        return Err(not_changeable(&filing));
    }
    let mut values = serde_json::to_value(&filing).map_err(AppError::internal)?;
    values["choice"] = json!(filing.route_choice);
    let mut data = form_data(&state, user, &values).await?;
    data["filing"] = json!(filing.view(&user.tenant.tenant.settings.words));
    page.render("filing_form.html", data)
}

async fn edit_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match update(&state, user, id, &body_from_form(&form)).await {
        Ok(_) => Ok(done_redirect(&page.tenant.base, &format!("/filings/{id}"), "submitted", 1)),
        Err(err) if err.fixable_on_page() => {
            let filing = own(&state, user, id).await?;
            let mut data = form_data(&state, user, &json!(form)).await?;
            data["filing"] = json!(filing.view(&user.tenant.tenant.settings.words));
            page.render_status(err.status, "filing_form.html", with_error(data, &err))
        }
        Err(err) => Err(err),
    }
}

#[derive(Deserialize)]
struct Empty {}

/// 撤回 and 删除 on the filing's page; a refusal shows on the page itself.
async fn action_submit(
    State(state): State<AppState>,
    page: Page,
    Path((id, action)): Path<(i64, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let base = &page.tenant.base;
    let result = match action.as_str() {
        "withdraw" => withdraw(&state, user, id).await.map(|_| done_redirect(base, &format!("/filings/{id}"), "withdrawn", 1)),
        "delete" => delete(&state, user, &[id]).await.map(|n| done_redirect(base, "/filings", "deleted", n as i64)),
        "roster-withdraw" => {
            roster::withdraw(&state, user, id).await.map(|_| done_redirect(base, &format!("/filings/{id}"), "roster_withdrawn", 1))
        }
        _ => return Err(AppError::not_found()),
    };
    match result {
        Ok(response) => Ok(response),
        Err(err) if err.fixable_on_page() => {
            let data = detail_data(&state, user, id, 1).await?;
            page.render_status(err.status, "filing.html", with_error(data, &err))
        }
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones() {
        for ok in ["13812345678", "0731-82821099", "073184900106", "84900400", "4008434678", "400-843-4678", "0731-8282109-123"] {
            assert!(valid_phone(ok), "{ok}");
        }
        for bad in ["", "12345", "1381234567", "23812345678", "0731--8282", "-0731828210", "0731 82821099", "电话", "12812345678"] {
            assert!(!valid_phone(bad), "{bad}");
        }
    }

    #[test]
    fn emails() {
        assert!(valid_email("rstsgc2017@163.com"));
        for bad in ["a@b", "@163.com", "a@.com", "a@b..com", "a b@c.com", "a@b@c.com", "甲@163.com"] {
            assert!(!valid_email(bad), "{bad}");
        }
    }
}
