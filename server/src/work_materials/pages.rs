//! The 年度工作材料 page: departments and bureaus file, replace and delete their materials; those above
//! list and download them.

use axum::Router;
use axum::extract::{Multipart, Path, State};

use crate::paging::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::{MaterialInput, MaterialQuery};
use crate::auth::csrf::CsrfForm;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::{Page, done_redirect};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/materials", get(list_page).post(file_submit))
        .route("/materials/{id}", post(update_submit))
        .route("/materials/{id}/delete", post(delete_submit))
        .route("/materials/{id}/file", get(super::api::api_download))
}

async fn render(
    state: &AppState,
    page: &Page,
    query: &MaterialQuery,
    form: Option<&MaterialInput>,
    err: Option<&AppError>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let (items, total) = super::list(state, user, query).await?;
    let kept = |value: &Option<String>| value.clone().unwrap_or_default();
    let href = crate::paging::query_href(
        &format!("{}/materials", page.tenant.base),
        &[("year", query.year.map(|y| y.to_string()).unwrap_or_default()), ("category", kept(&query.category)), ("q", kept(&query.q))],
    );
    let files = user.can(state, super::OBJECT, "file").await
        && crate::orgs::get(&state.db, user.tenant_code(), user.account.org_id.unwrap_or_default())
            .await?
            .is_some_and(|o| matches!(o.kind, crate::orgs::OrgKind::Authority | crate::orgs::OrgKind::Hr));
    let this_year = crate::china_time::day(chrono::Utc::now()).format("%Y").to_string();
    page.render_status(
        err.map_or(StatusCode::OK, |e| e.status),
        "materials.html",
        json!({"items": items, "pager": query.paging().pager(total), "href": href, "files": files, "own_org": user.account.org_id,
               "categories": super::CATEGORIES.iter().map(|(c, l)| json!({"code": c, "name": l})).collect::<Vec<_>>(),
               "query": {"year": query.year, "category": query.category, "q": query.q},
               "form": form.map_or_else(|| json!({"year": this_year, "category": "guide"}), |f| json!({"year": f.year, "category": f.category, "title": f.title})),
               "errors": err.map_or(Value::Null, |e| json!(e.fields)), "error": err.map(AppError::page_text)}),
    )
}

async fn list_page(State(state): State<AppState>, page: Page, Query(query): Query<MaterialQuery>) -> Result<Response, AppError> {
    render(&state, &page, &query, None, None).await
}

async fn file_submit(State(state): State<AppState>, page: Page, headers: HeaderMap, multipart: Multipart) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let (input, upload, csrf) = super::read_form(multipart).await?;
    crate::auth::csrf::verify(&headers, csrf.as_deref())?;
    match super::file(&state, user, &input, upload).await {
        Ok(_) => Ok(done_redirect(&page.tenant.base, "/materials", "material_filed", 1)),
        Err(err) if err.fixable_on_page() => render(&state, &page, &MaterialQuery::default(), Some(&input), Some(&err)).await,
        Err(err) => Err(err),
    }
}

async fn update_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let (input, upload, csrf) = super::read_form(multipart).await?;
    crate::auth::csrf::verify(&headers, csrf.as_deref())?;
    match super::update(&state, user, id, &input, upload).await {
        Ok(()) => Ok(done_redirect(&page.tenant.base, "/materials", "saved", 1)),
        Err(err) if err.fixable_on_page() => render(&state, &page, &MaterialQuery::default(), None, Some(&err)).await,
        Err(err) => Err(err),
    }
}

async fn delete_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<std::collections::BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    super::delete(&state, user, id).await?;
    Ok(done_redirect(&page.tenant.base, "/materials", "deleted", 1))
}
