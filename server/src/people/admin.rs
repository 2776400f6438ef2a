//! Staff lists for admins (seed 003 "专业技术人员管理"): the people of the units in one's subtree, with
//! filters and paging; ID numbers masked.

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::Paged;
use crate::auth::CurrentUser;
use crate::db::Filters;
use crate::error::AppError;
use crate::paging::Query;
use crate::paging::Search;
use crate::state::AppState;
use crate::web::Page;

crate::paging::list_query! {
    #[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
    pub struct PeopleQuery {
        /// Name contains
        pub q: Option<String>,
        /// Exact ID number
        pub id_number: Option<String>,
        /// A unit in the caller's subtree
        pub unit: Option<i64>,
        pub department: Option<i64>,
        pub title_level: Option<String>,
        /// Account status: active, pending, rejected, disabled
        pub status: Option<String>,
    }
}

/// A staff member in the admins' list (ID number masked).
#[derive(Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PersonRow {
    pub id: i64,
    pub name: String,
    pub id_number: String,
    pub gender: String,
    pub unit_id: i64,
    pub unit_name: String,
    pub department_name: Option<String>,
    pub title: Option<String>,
    pub title_level: String,
    pub post: String,
    /// The staff account, if the person has one
    pub account_id: Option<i64>,
    /// active, pending, rejected or disabled
    pub account_status: Option<String>,
}

pub async fn list(state: &AppState, user: &CurrentUser, query: &PeopleQuery) -> Result<(Vec<PersonRow>, i64), AppError> {
    user.authorize(state, "people", "read").await?;
    let scope = user.scope_pattern().ok_or_else(AppError::forbidden)?;
    let mut filters = Filters::tenant("p.tenant_id", user.tenant_code());
    filters.and_same("(u.path LIKE ? OR u.supervisor_path LIKE ?)", scope);
    if let Some(text) = query.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        filters.contains(&["p.name"], text);
    }
    if let Some(id) = query.id_number.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        filters.and("p.id_number = ?", id.to_ascii_uppercase());
    }
    if let Some(unit) = query.unit {
        filters.and("p.unit_id = ?", unit);
    }
    if let Some(department) = query.department {
        filters.and("p.department_id = ?", department);
    }
    if let Some(level) = query.title_level.as_deref().filter(|t| !t.is_empty()) {
        filters.and("p.title_level = ?", level);
    }
    if let Some(status) = query.status.as_deref().filter(|t| !t.is_empty()) {
        filters.and("a.status = ?", status);
    }
    let from = "FROM people p JOIN orgs u ON u.tenant_id = p.tenant_id AND u.id = p.unit_id \
                LEFT JOIN orgs d ON d.tenant_id = p.tenant_id AND d.id = p.department_id \
                LEFT JOIN accounts a ON a.tenant_id = p.tenant_id AND a.person_id = p.id AND a.user_type = 'staff'";
    let per_page = query.per_page();
    let total = state.db.scalar(filters.count(from)).await?;
    let mut rows: Vec<PersonRow> = state
        .db
        .all(filters.page(
            &format!(
                "SELECT p.id, p.name, p.id_number, p.gender, p.unit_id, u.name AS unit_name, d.name AS department_name, p.title, \
                 p.title_level, p.post, a.id AS account_id, a.status AS account_status {from}"
            ),
            "u.name, p.name, p.id",
            query.page,
            per_page,
        ))
        .await?;
    for row in &mut rows {
        row.id_number = crate::ids::mask_id_number(&row.id_number);
    }
    Ok((rows, total))
}

#[utoipa::path(get, path = "/people", params(PeopleQuery), tag = "people",
    responses((status = 200, body = Paged<PersonRow>, description = "Staff of the units in the caller's subtree"), (status = 403, description = "Not an admin")))]
pub async fn api_list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<PeopleQuery>,
) -> Result<Json<Paged<PersonRow>>, AppError> {
    let (items, total) = list(&state, &user, &query).await?;
    Ok(Json(Paged::new(items, total, query.paging())))
}

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api_list))
}

pub fn page_routes() -> Router<AppState> {
    Router::new().route("/people", get(people_page))
}

async fn people_page(State(state): State<AppState>, page: Page, Query(query): Query<PeopleQuery>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let (items, total) = list(&state, user, &query).await?;
    let lists = crate::tenancy::form_options(&state.db, user.tenant_code(), &["title_level", "post"]).await?;
    let filter_href = format!(
        "{}/people?q={}&id_number={}&status={}&title_level={}&",
        page.tenant.base,
        urlencoding::encode(query.q.as_deref().unwrap_or("")),
        urlencoding::encode(query.id_number.as_deref().unwrap_or("")),
        urlencoding::encode(query.status.as_deref().unwrap_or("")),
        urlencoding::encode(query.title_level.as_deref().unwrap_or(""))
    );
    page.render(
        "people.html",
        json!({"items": items, "lists": lists, "pager": query.paging().pager(total),
               "query": {"q": query.q, "status": query.status, "title_level": query.title_level, "id_number": query.id_number},
               "href": filter_href, "can_manage": user.can(&state, "accounts", "manage").await}),
    )
}
