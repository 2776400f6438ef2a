//! The basic-data page: one tab per list; code lists whole, organisation lists a page at a time with
//! their search, and the forms that add and change items.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{EDITABLE, ItemInput, check_kind, list, save};
use crate::auth::csrf::CsrfForm;
use crate::db::q;
use crate::error::AppError;
use crate::orgs::master::{self, MasterQuery};
use crate::paging::Query;
use crate::state::AppState;
use crate::web::Page;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/basic-data", get(page))
        .route("/basic-data/{kind}", post(page_add))
        .route("/basic-data/{kind}/{code}", post(page_update))
}

#[derive(Debug, Deserialize)]
struct KindQuery {
    kind: Option<String>,
}

/// Every list's tab: the code lists, then the organisation lists.
fn tabs() -> Vec<Value> {
    EDITABLE
        .iter()
        .map(|(k, l)| json!({"code": k, "label": l}))
        .chain(master::LISTS.iter().map(|(k, _, l)| json!({"code": k, "label": l})))
        .collect()
}

async fn render(
    state: &AppState,
    page: &Page,
    kind: &str,
    query: &MasterQuery,
    form: Option<&ItemInput>,
    err: Option<&AppError>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let status = err.map_or(StatusCode::OK, |e| e.status);
    let errors = err.map(|e| &e.fields);
    let error = err.map(|e| &e.message);
    let Some((org_kind, label)) = master::list_kind(kind) else {
        let items = list(state, user, kind).await?;
        return page.render_status(
            status,
            "basic_data.html",
            json!({"kind": kind, "label": check_kind(kind)?, "kinds": tabs(), "items": items, "errors": errors, "error": error}),
        );
    };
    let (items, total) = master::list(state, user, org_kind, query).await?;
    let tenant = user.tenant_code();
    // Where a new one may sit: any bureau for an authority, a province or city bureau for a bureau.
    let levels = if org_kind == crate::orgs::OrgKind::Authority { "'province', 'city', 'county'" } else { "'province', 'city'" };
    let places: Vec<(String, String)> = state
        .db
        .all(
            q(format!(
                "SELECT region_code, name FROM orgs WHERE tenant_id = $1 AND kind IN ('province', 'hr') AND status = 'active' \
                 AND level IN ({levels}) AND region_code IS NOT NULL ORDER BY region_code"
            ))
            .bind(tenant),
        )
        .await?;
    let places: Vec<Value> = places.into_iter().map(|(code, name)| json!({"code": code, "name": name})).collect();
    let industries = crate::tenancy::basic_data(&state.db, tenant, "industry").await?;
    let kept = |value: &Option<String>| value.clone().unwrap_or_default();
    let href = crate::paging::query_href(
        &format!("{}/basic-data", page.tenant.base),
        &[("kind", kind.to_owned()), ("q", kept(&query.q)), ("status", kept(&query.status))],
    );
    page.render_status(
        status,
        "basic_orgs.html",
        json!({"kind": kind, "label": label, "kinds": tabs(), "items": items, "pager": query.paging().pager(total), "href": href,
               "query": {"q": query.q, "status": query.status}, "authority": org_kind == crate::orgs::OrgKind::Authority,
               "places": places, "industries": industries,
               "form": form.map(|f| json!({"code": f.code, "name": f.name, "region": f.region, "industry": f.industry})),
               "errors": errors, "error": error}),
    )
}

async fn page(
    State(state): State<AppState>,
    page: Page,
    Query(kind): Query<KindQuery>,
    Query(query): Query<MasterQuery>,
) -> Result<Response, AppError> {
    render(&state, &page, kind.kind.as_deref().unwrap_or(EDITABLE[0].0), &query, None, None).await
}

async fn page_add(
    State(state): State<AppState>,
    page: Page,
    Path(kind): Path<String>,
    CsrfForm(form): CsrfForm<ItemInput>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match save(&state, user, &kind, None, &form).await {
        Ok(()) => Ok(crate::web::done_redirect(&page.tenant.base, &format!("/basic-data?kind={kind}"), "saved", 1)),
        Err(err) if err.code == "invalid" => render(&state, &page, &kind, &MasterQuery::default(), Some(&form), Some(&err)).await,
        Err(err) => Err(err),
    }
}

async fn page_update(
    State(state): State<AppState>,
    page: Page,
    Path((kind, code)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<ItemInput>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match save(&state, user, &kind, Some(&code), &form).await {
        Ok(()) => Ok(crate::web::done_redirect(&page.tenant.base, &format!("/basic-data?kind={kind}"), "saved", 1)),
        Err(err) if err.code == "invalid" => render(&state, &page, &kind, &MasterQuery::default(), None, Some(&err)).await,
        Err(err) => Err(err),
    }
}
