//! Basic data management for the tenant's system administrator (seed 003 "基础数据管理"): unit
//! natures, affiliations, industries, education levels … may be added, renamed and disabled. Items
//! listed in `tenants/<code>/data/basic.toml` get their names back from the file at the next sync;
//! items added here stay. Industry authorities and HR bureaus are lists here too, kept as organisations
//! (`orgs::master`).

use axum::extract::{Path, State};

use crate::paging::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::audit;
use crate::auth::CurrentUser;
use crate::auth::csrf::CsrfForm;
use crate::db::q;
use crate::error::{AppError, FieldErrors};
use crate::orgs::master::{self, MasterInput, MasterOrg, MasterQuery};
use crate::state::AppState;
use crate::web::Page;

/// The lists an administrator may edit, with their Chinese names. Regions are not among them: the HR
/// bureau tree is built from them, so they change only through the tenant folder.
pub const EDITABLE: &[(&str, &str)] = &[
    ("unit_nature", "单位性质"),
    ("affiliation", "隶属关系"),
    ("unit_level", "单位级别"),
    ("industry", "所属行业"),
    ("institution_level", "施教机构级别"),
    ("education", "学历"),
    ("ethnicity", "民族"),
    ("title_series", "职称系列"),
    // A new level is judged by the requirement table's `*` row until the table names it (年度学时要求).
    ("title_level", "职称等级"),
];

fn check_kind(kind: &str) -> Result<&'static str, AppError> {
    EDITABLE
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, label)| *label)
        .or_else(|| master::list_kind(kind).map(|(_, label)| label))
        .ok_or_else(AppError::not_found)
}

/// One item of an editable list.
#[derive(Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = BasicDataItem)]
pub struct Item {
    pub code: String,
    pub name: String,
    pub enabled: bool,
    pub sort: i64,
}

pub async fn list(state: &AppState, user: &CurrentUser, kind: &str) -> Result<Vec<Item>, AppError> {
    user.authorize(state, "basic_data", "manage").await?;
    check_kind(kind)?;
    Ok(state
        .db
        .all(
            q("SELECT code, name, enabled, sort FROM basic_data WHERE tenant_id = $1 AND kind = $2 ORDER BY sort, code")
                .bind(user.tenant_code())
                .bind(kind),
        )
        .await?)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ItemInput {
    /// ASCII letters, digits and underscores; fixed once created
    #[serde(default)]
    pub code: String,
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Authorities: the region code of the HR bureau it sits under (when added); HR bureaus: the
    /// region code of the parent bureau (when added)
    #[serde(default)]
    pub region: Option<String>,
    /// Authorities: the industry code (basic data `industry`)
    #[serde(default)]
    pub industry: Option<String>,
}

fn yes() -> bool {
    true
}

fn check_name(name: &str, errors: &mut FieldErrors) {
    let len = name.trim().chars().count();
    if len == 0 || len > 50 {
        errors.add("name", "名称应为 1 到 50 个字");
    }
}

/// Adds an item (new code) or renames / enables / disables an existing one.
pub async fn save(state: &AppState, user: &CurrentUser, kind: &str, existing: Option<&str>, input: &ItemInput) -> Result<(), AppError> {
    user.authorize(state, "basic_data", "manage").await?;
    check_kind(kind)?;
    if let Some((org_kind, _)) = master::list_kind(kind) {
        let input = MasterInput {
            code: &input.code,
            name: &input.name,
            enabled: input.enabled,
            region: input.region.as_deref(),
            industry: input.industry.as_deref(),
        };
        return master::save(state, user, org_kind, existing, &input).await;
    }
    let tenant = user.tenant_code();
    let mut errors = FieldErrors::default();
    check_name(&input.name, &mut errors);
    let code = existing.unwrap_or(input.code.trim());
    let exists = state
        .db
        .exists(q("SELECT 1 FROM basic_data WHERE tenant_id = $1 AND kind = $2 AND code = $3").bind(tenant).bind(kind).bind(code))
        .await?;
    match existing {
        Some(_) if !exists => return Err(AppError::not_found()),
        None if code.is_empty() || code.len() > 30 || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
            errors.add("code", "代码只能包含字母、数字和下划线，最长 30 位")
        }
        None if exists => errors.add("code", "该代码已存在"),
        _ => {}
    }
    errors.finish()?;
    let mut tx = state.db.begin().await?;
    if existing.is_some() {
        tx.run(
            q("UPDATE basic_data SET name = $4, enabled = $5 WHERE tenant_id = $1 AND kind = $2 AND code = $3")
                .bind(tenant)
                .bind(kind)
                .bind(code)
                .bind(input.name.trim())
                .bind(input.enabled),
        )
        .await?;
    } else {
        tx.run(
            q("INSERT INTO basic_data (tenant_id, kind, code, name, parent_code, sort, enabled) \
               VALUES ($1, $2, $3, $4, NULL, (SELECT COALESCE(MAX(sort), 0) + 1 FROM basic_data WHERE tenant_id = $1 AND kind = $2), $5)")
            .bind(tenant)
            .bind(kind)
            .bind(code)
            .bind(input.name.trim())
            .bind(input.enabled),
        )
        .await?;
    }
    let action = if existing.is_some() { "basic_data.update" } else { "basic_data.add" };
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        action,
        "basic_data",
        None,
        json!({"kind": kind, "code": code, "name": input.name.trim(), "enabled": input.enabled}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A list as the API answers it: organisation lists a page at a time, the others whole.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[schema(as = BasicDataList)]
pub enum Listing {
    /// `authority` and `hr_bureau`: one page of organisations
    Organisations { kind: String, items: Vec<MasterOrg>, total: i64, page: i64, per_page: i64 },
    /// Every other list: all its items, disabled ones too
    Items { kind: String, items: Vec<Item> },
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/basic-data/{kind}", tag = "basic data", params(("kind" = String, Path), MasterQuery),
    responses((status = 200, body = Listing, description = "All items of a list, disabled ones too; `authority` and `hr_bureau` (organisations) a page at a time with `q` and `status` filters")))]
pub async fn api_list(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(kind): Path<String>,
    Query(query): Query<MasterQuery>,
) -> Result<Json<Listing>, AppError> {
    if let Some((org_kind, _)) = master::list_kind(&kind) {
        let (items, total) = master::list(&state, &user, org_kind, &query).await?;
        let paging = query.paging();
        return Ok(Json(Listing::Organisations { kind, items, total, page: paging.page, per_page: paging.per_page }));
    }
    let items = list(&state, &user, &kind).await?;
    Ok(Json(Listing::Items { kind, items }))
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/basic-data/{kind}", request_body = ItemInput, tag = "basic data", params(("kind" = String, Path)),
    responses((status = 201, description = "Added (an empty body)"), (status = 422, description = "Invalid or duplicate code")))]
pub async fn api_add(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(kind): Path<String>,
    Json(input): Json<ItemInput>,
) -> Result<Response, AppError> {
    save(&state, &user, &kind, None, &input).await?;
    Ok(StatusCode::CREATED.into_response())
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/basic-data/{kind}/{code}", request_body = ItemInput, tag = "basic data", params(("kind" = String, Path), ("code" = String, Path)), responses((status = 204, description = "Renamed, enabled or disabled")))]
pub async fn api_update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((kind, code)): Path<(String, String)>,
    Json(input): Json<ItemInput>,
) -> Result<StatusCode, AppError> {
    save(&state, &user, &kind, Some(&code), &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn api_routes() -> Router<AppState> {
    Router::new().route("/basic-data/{kind}", get(api_list).post(api_add)).route("/basic-data/{kind}/{code}", post(api_update))
}

pub fn page_routes() -> Router<AppState> {
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
