//! Organisation routes: the public picker search, registration, the tree an admin manages, internal
//! departments, and the admins below one (enable, disable, one-time reset codes).

use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::registration::{OrgRegistration, read_multipart, register_org};
use super::{NewOrg, Org, SearchQuery, get_in_scope, insert_org, search};
use crate::audit;
use crate::auth::CurrentUser;
use crate::auth::csrf::{CsrfForm, verify};
use crate::auth::throttle::limited;
use crate::db::{Filters, q};
use crate::error::{AppError, FieldErrors};
use crate::paging::{Paging, Search};
use crate::state::AppState;
use crate::tenancy::{TenantCtx, form_options};
use crate::web::Page;

/// `GET /api/v1/orgs` — public: active organisations by kind, name and region, for pickers.
#[utoipa::path(get, path = "/t/{tenant}/api/v1/orgs", tag = "orgs", params(("kind" = Option<String>, Query), ("q" = Option<String>, Query), ("region" = Option<String>, Query), ("page" = Option<i64>, Query)),
    responses((status = 200, description = "{items:[{id,name,kind,level,region_code,region_name}], total, page, per_page}")))]
pub async fn api_search(
    State(state): State<AppState>,
    tenant: TenantCtx,
    Query(query): Query<SearchQuery>,
) -> Result<Json<Value>, AppError> {
    let (items, total) = search(&state.db, tenant.code(), &query).await?;
    Ok(query.paging().json(items, total))
}

/// `POST /api/v1/registrations/orgs` — multipart: the fields of [`OrgRegistration`] and a `licence` file.
#[utoipa::path(post, path = "/t/{tenant}/api/v1/registrations/orgs", tag = "registrations", request_body(content = OrgRegistration, content_type = "multipart/form-data", description = "The fields plus a `licence` file"), responses((status = 201, description = "Registered, pending approval"), (status = 422, description = "Invalid fields or file type"), (status = 413, description = "File too large")))]
pub async fn api_register(State(state): State<AppState>, tenant: TenantCtx, multipart: Multipart) -> Result<Response, AppError> {
    let (form, licence, _) = read_multipart(multipart).await?;
    let done = register_org(&state, &tenant, &form, licence).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"status": done.status, "account_id": done.account_id, "approver": done.approver, "resubmitted": done.resubmitted})),
    )
        .into_response())
}

fn scope(user: &CurrentUser) -> Result<String, AppError> {
    user.scope_pattern().ok_or_else(AppError::forbidden)
}

#[derive(Debug, Deserialize, Default)]
pub struct ChildrenQuery {
    pub kind: Option<String>,
    pub q: Option<String>,
    pub status: Option<String>,
    #[serde(default = "crate::paging::first_page")]
    pub page: i64,
}

#[derive(Debug, serde::Serialize, sqlx::FromRow)]
pub struct Child {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub level: String,
    pub region_code: Option<String>,
    pub status: String,
    pub credit_code: Option<String>,
}

/// An org in the caller's subtree with one page of its direct children.
pub async fn browse(state: &AppState, user: &CurrentUser, id: Option<i64>, query: &ChildrenQuery) -> Result<Value, AppError> {
    user.authorize(state, "orgs", "read").await?;
    let tenant = user.tenant_code();
    let scope = scope(user)?;
    let id = id.or(user.account.org_id).ok_or_else(AppError::not_found)?;
    let org = get_in_scope(&state.db, tenant, &scope, id).await?;
    let mut filters = Filters::tenant("tenant_id", tenant);
    // Children in the regional tree and, for an authority, the units and institutions it supervises.
    filters.and_same("(parent_id = ? OR supervisor_id = ?)", org.id);
    if let Some(kind) = query.kind.as_deref().filter(|k| !k.is_empty()) {
        filters.and("kind = ?", kind);
    }
    if let Some(status) = query.status.as_deref().filter(|k| !k.is_empty()) {
        filters.and("status = ?", status);
    }
    if let Some(text) = query.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        filters.contains(&["name"], text);
    }
    let total = state.db.scalar(filters.count("FROM orgs")).await?;
    let children: Vec<Child> = state
        .db
        .all(filters.page("SELECT id, kind, name, level, region_code, status, credit_code FROM orgs", "kind, name, id", query.page, 20))
        .await?;
    let ancestors: Vec<(i64, String)> = {
        let ids: Vec<i64> = org.path.split('/').filter_map(|s| s.parse().ok()).collect();
        let mut out = Vec::new();
        let own_root = user.account.org_path.clone().unwrap_or_default();
        for ancestor in ids {
            if let Some(a) = super::get(&state.db, tenant, ancestor).await?
                && a.path.starts_with(&own_root)
            {
                out.push((a.id, a.name));
            }
        }
        out
    };
    let admins = if user.can(state, "accounts", "manage").await {
        super::admins::list(state, user, org.id, &Default::default()).await?.1
    } else {
        Vec::new()
    };
    Ok(json!({
        "org": org, "kind_label": super::kind_label(&org.kind), "children": children, "total": total,
        "pager": Paging::new(query.page, None).pager(total), "ancestors": ancestors, "admins": admins,
        "is_own": Some(org.id) == user.account.org_id,
    }))
}

#[utoipa::path(get, path = "/t/{tenant}/api/v1/orgs/{id}", tag = "orgs", params(("id" = i64, Path)), responses((status = 200, description = "The org, its children (paged) and admins"), (status = 404, description = "Outside the caller's subtree")))]
pub async fn api_browse(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(query): Query<ChildrenQuery>,
) -> Result<Json<Value>, AppError> {
    Ok(Json(browse(&state, &user, Some(id), &query).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewDepartment {
    pub name: String,
}

/// Adds an internal department (内设部门) to an org in the caller's subtree.
pub async fn add_department(state: &AppState, user: &CurrentUser, org_id: i64, input: &NewDepartment) -> Result<i64, AppError> {
    user.authorize(state, "orgs", "manage").await?;
    let tenant = user.tenant_code();
    let parent: Org = get_in_scope(&state.db, tenant, &scope(user)?, org_id).await?;
    if !matches!(parent.kind.as_str(), "unit" | "authority" | "hr" | "province" | "institution") {
        return Err(AppError::bad_request("bad_parent", "内设部门只能添加在单位或部门机构下"));
    }
    let mut errors = FieldErrors::default();
    crate::people::required(&mut errors, "name", &input.name, "部门名称", 50);
    if !errors.is_empty() {
        return Err(errors.finish().unwrap_err());
    }
    let name = input.name.trim();
    if sibling_named(state, tenant, org_id, name, None).await? {
        errors.add("name", "该部门已存在");
        return Err(errors.finish().unwrap_err());
    }
    let mut tx = state.db.begin().await?;
    let id = insert_org(
        &mut tx,
        tenant,
        NewOrg {
            kind: "department".into(),
            name: name.to_owned(),
            level: parent.level.clone(),
            region_code: parent.region_code.clone(),
            parent_id: Some(parent.id),
            status: "active".into(),
            ..Default::default()
        },
        Utc::now(),
    )
    .await?;
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "org.department.add",
        "org",
        Some(id),
        json!({"parent": parent.id, "name": name}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

#[utoipa::path(post, path = "/t/{tenant}/api/v1/orgs/{id}/departments", request_body = NewDepartment, tag = "orgs", params(("id" = i64, Path)), responses((status = 201, description = "Created"), (status = 422, description = "Invalid or duplicate name")))]
pub async fn api_add_department(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<NewDepartment>,
) -> Result<Response, AppError> {
    let id = add_department(&state, &user, id, &input).await?;
    Ok((StatusCode::CREATED, Json(json!({"id": id}))).into_response())
}

/// Whether the org `parent` has a department called `name` (other than `except`).
async fn sibling_named(state: &AppState, tenant: &str, parent: i64, name: &str, except: Option<i64>) -> Result<bool, AppError> {
    Ok(state
        .db
        .exists(
            q("SELECT 1 FROM orgs WHERE tenant_id = $1 AND parent_id = $2 AND kind = 'department' AND name = $3 AND id <> $4")
                .bind(tenant)
                .bind(parent)
                .bind(name.to_owned())
                .bind(except.unwrap_or(0)),
        )
        .await?)
}

/// An internal department in the caller's subtree (anything else: 404).
async fn managed_department(state: &AppState, user: &CurrentUser, id: i64) -> Result<Org, AppError> {
    user.authorize(state, "orgs", "manage").await?;
    let org = get_in_scope(&state.db, user.tenant_code(), &scope(user)?, id).await?;
    if org.kind != "department" {
        return Err(AppError::not_found());
    }
    Ok(org)
}

/// Renames an internal department; the name must stay unique among its siblings.
pub async fn rename_department(state: &AppState, user: &CurrentUser, id: i64, input: &NewDepartment) -> Result<(), AppError> {
    let department = managed_department(state, user, id).await?;
    let tenant = user.tenant_code();
    let mut errors = FieldErrors::default();
    crate::people::required(&mut errors, "name", &input.name, "部门名称", 50);
    let name = input.name.trim();
    if errors.is_empty() && sibling_named(state, tenant, department.parent_id.unwrap_or_default(), name, Some(id)).await? {
        errors.add("name", "该部门已存在");
    }
    errors.finish()?;
    let mut tx = state.db.begin().await?;
    tx.run(
        q("UPDATE orgs SET name = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(id).bind(name).bind(Utc::now()),
    )
    .await?;
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "org.department.rename",
        "org",
        Some(id),
        json!({"from": department.name, "to": name}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes an internal department nobody belongs to (409 `department_in_use` while staff, admins or
/// sub-departments do); returns its parent.
pub async fn delete_department(state: &AppState, user: &CurrentUser, id: i64) -> Result<Option<i64>, AppError> {
    let department = managed_department(state, user, id).await?;
    let tenant = user.tenant_code();
    let staff = state.db.scalar(q("SELECT COUNT(*) FROM people WHERE tenant_id = $1 AND department_id = $2").bind(tenant).bind(id)).await?;
    let others = state
        .db
        .scalar(
            q("SELECT (SELECT COUNT(*) FROM accounts WHERE tenant_id = $1 AND org_id = $2) + (SELECT COUNT(*) FROM orgs WHERE tenant_id = $1 AND parent_id = $2)")
                .bind(tenant)
                .bind(id),
        )
        .await?;
    if staff > 0 {
        return Err(AppError::conflict(
            "department_in_use",
            format!("{} 还有 {staff} 名人员，请先调整他们的部门后再删除", department.name),
        ));
    }
    if others > 0 {
        return Err(AppError::conflict("department_in_use", format!("{} 下还有账号或下级部门，不能删除", department.name)));
    }
    let mut tx = state.db.begin().await?;
    tx.run(q("DELETE FROM orgs WHERE tenant_id = $1 AND id = $2 AND kind = 'department'").bind(tenant).bind(id)).await?;
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "org.department.delete",
        "org",
        Some(id),
        json!({"name": department.name, "parent": department.parent_id}),
    )
    .await?;
    tx.commit().await?;
    Ok(department.parent_id)
}

#[utoipa::path(patch, path = "/t/{tenant}/api/v1/departments/{id}", request_body = NewDepartment, tag = "orgs",
    params(("tenant" = String, Path, description = "Tenant code"), ("id" = i64, Path, description = "Department id")),
    responses((status = 204, description = "Renamed"), (status = 404, description = "No such department in the caller's subtree"),
              (status = 422, description = "Invalid or duplicate name")))]
pub async fn api_rename_department(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<NewDepartment>,
) -> Result<StatusCode, AppError> {
    rename_department(&state, &user, id, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/t/{tenant}/api/v1/departments/{id}", tag = "orgs",
    params(("tenant" = String, Path, description = "Tenant code"), ("id" = i64, Path, description = "Department id")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such department in the caller's subtree"),
              (status = 409, description = "department_in_use: staff, admins or sub-departments belong to it")))]
pub async fn api_delete_department(State(state): State<AppState>, user: CurrentUser, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    delete_department(&state, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn api_routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(super::admins::api_routes())
        .route("/orgs", get(api_search).layer(limited(state, "search")))
        .route("/orgs/{id}", get(api_browse))
        .route("/orgs/{id}/departments", post(api_add_department))
        .route("/departments/{id}", axum::routing::patch(api_rename_department).delete(api_delete_department))
        .route("/registrations/orgs", post(api_register).layer(limited(state, "register")))
}

// ---- pages ----

pub fn page_routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(super::admins::page_routes())
        .route("/orgs", get(orgs_page))
        .route("/orgs/{id}/departments", post(department_submit))
        .route("/departments/{id}/rename", post(rename_submit))
        .route("/departments/{id}/delete", post(delete_submit))
        .route("/register/org", get(register_org_page).post(register_org_submit).layer(limited(state, "register")))
}

/// The org page's query: the org shown and its children's filters. Spelled out rather than
/// `#[serde(flatten)]`ing `ChildrenQuery`: a flattened struct receives every value as a string, and
/// `?id=3&page=2` then failed to parse.
#[derive(Debug, Deserialize)]
struct OrgsPageQuery {
    id: Option<i64>,
    kind: Option<String>,
    q: Option<String>,
    status: Option<String>,
    #[serde(default = "crate::paging::first_page")]
    page: i64,
}

async fn orgs_page(State(state): State<AppState>, page: Page, Query(query): Query<OrgsPageQuery>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let children = ChildrenQuery { kind: query.kind, q: query.q, status: query.status, page: query.page };
    let mut ctx = browse(&state, user, query.id, &children).await?;
    ctx["query"] = json!({"kind": children.kind, "q": children.q, "status": children.status});
    ctx["can_manage"] = json!(user.can(&state, "orgs", "manage").await);
    ctx["kinds"] = kinds_json();
    page.render("orgs.html", ctx)
}

/// The org page of `id` with an error from one of its forms.
async fn orgs_page_with_error(state: &AppState, page: &Page, id: i64, err: &AppError) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let mut ctx = browse(state, user, Some(id), &ChildrenQuery::default()).await?;
    ctx["error"] = json!(err.fields.values().next().cloned().unwrap_or_else(|| err.message.clone()));
    ctx["can_manage"] = json!(true);
    ctx["kinds"] = kinds_json();
    page.render_status(err.status, "orgs.html", ctx)
}

async fn rename_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<NewDepartment>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match rename_department(&state, user, id, &form).await {
        Ok(()) => Ok(crate::web::done_redirect(&page.tenant.base, &format!("/orgs?id={id}"), "saved", 1)),
        Err(err) if err.fixable_on_page() => orgs_page_with_error(&state, &page, id, &err).await,
        Err(err) => Err(err),
    }
}

async fn delete_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<std::collections::HashMap<String, String>>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match delete_department(&state, user, id).await {
        Ok(parent) => {
            let back = parent.map_or_else(|| "/orgs".to_owned(), |p| format!("/orgs?id={p}"));
            Ok(crate::web::done_redirect(&page.tenant.base, &back, "department_deleted", 1))
        }
        Err(err) if err.fixable_on_page() => orgs_page_with_error(&state, &page, id, &err).await,
        Err(err) => Err(err),
    }
}

async fn department_submit(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<NewDepartment>,
) -> Result<Response, AppError> {
    let user = page.require_user()?;
    match add_department(&state, user, id, &form).await {
        Ok(_) => Ok(crate::web::done_redirect(&page.tenant.base, &format!("/orgs?id={id}"), "department_added", 1)),
        Err(err) if err.code == "invalid" => orgs_page_with_error(&state, &page, id, &err).await,
        Err(err) => Err(err),
    }
}

fn kinds_json() -> Value {
    json!(super::KINDS.iter().map(|(k, l)| json!({"code": k, "label": l})).collect::<Vec<_>>())
}

const ORG_FORM_LISTS: &[&str] = &["region", "unit_nature", "affiliation", "industry"];

async fn register_org_page(State(state): State<AppState>, page: Page) -> Result<Response, AppError> {
    render_org_form(&state, &page, &OrgRegistration { kind: "unit".into(), ..Default::default() }, None, StatusCode::OK).await
}

async fn render_org_form(
    state: &AppState,
    page: &Page,
    form: &OrgRegistration,
    err: Option<&AppError>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let code = page.tenant.code();
    let lists = form_options(&state.db, code, ORG_FORM_LISTS).await?;
    let authorities =
        search(&state.db, code, &SearchQuery { kind: Some("authority".into()), per_page: Some(100), ..Default::default() }).await?.0;
    let bureaus = search(&state.db, code, &SearchQuery { kind: Some("hr".into()), per_page: Some(100), ..Default::default() }).await?.0;
    let mut form = serde_json::to_value(form).map_err(AppError::internal)?;
    form["admin_password"] = Value::Null;
    page.render_status(
        status,
        "register_org.html",
        json!({"form": form, "lists": lists, "authorities": authorities, "bureaus": bureaus,
               "errors": err.map(|e| &e.fields), "error": err.map(|e| &e.message)}),
    )
}

async fn register_org_submit(
    State(state): State<AppState>,
    page: Page,
    headers: axum::http::HeaderMap,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let (form, licence, csrf) = read_multipart(multipart).await?;
    verify(&headers, csrf.as_deref())?;
    match register_org(&state, &page.tenant, &form, licence).await {
        Ok(done) => page.render(
            "registered.html",
            json!({"status": done.status, "approver": done.approver, "kind": "org", "resubmitted": done.resubmitted}),
        ),
        Err(err) if err.status == StatusCode::UNPROCESSABLE_ENTITY || err.status == StatusCode::PAYLOAD_TOO_LARGE => {
            let mut err = err;
            if err.fields.is_empty() {
                err.fields.insert("licence".into(), err.message.clone());
            }
            render_org_form(&state, &page, &form, Some(&err), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(err) => Err(err),
    }
}
