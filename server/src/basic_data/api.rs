//! Basic data in the JSON API: a list (organisation lists a page at a time), adding, and renaming,
//! enabling or disabling an item.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Item, ItemInput, list, save};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::orgs::master::{self, MasterOrg, MasterQuery};
use crate::paging::Query;
use crate::state::AppState;

/// A list as the API answers it: organisation lists a page at a time, the others whole.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[schema(as = BasicDataList)]
pub enum Listing {
    /// `authority` and `hr_bureau`: one page of organisations
    Organisations {
        // The two shapes must not both fit one answer (an empty page would), so `kind` tells them apart.
        #[schema(pattern = "^(authority|hr_bureau)$")]
        kind: String,
        items: Vec<MasterOrg>,
        total: i64,
        page: i64,
        per_page: i64,
    },
    /// Every other list: all its items, disabled ones too
    Items {
        #[schema(pattern = "^(?!(authority|hr_bureau)$)")]
        kind: String,
        items: Vec<Item>,
    },
}

#[utoipa::path(get, path = "/basic-data/{kind}", tag = "basic data", params(("kind" = String, Path), MasterQuery),
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

/// A new item: its list and the code it is known by from now on.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = BasicDataAdded)]
pub struct Added {
    pub kind: String,
    pub code: String,
}

#[utoipa::path(post, path = "/basic-data/{kind}", request_body = ItemInput, tag = "basic data", params(("kind" = String, Path)),
    responses((status = 201, body = Added, description = "Added"), (status = 422, description = "Invalid or duplicate code")))]
pub async fn api_add(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(kind): Path<String>,
    Json(input): Json<ItemInput>,
) -> Result<(StatusCode, Json<Added>), AppError> {
    save(&state, &user, &kind, None, &input).await?;
    Ok((StatusCode::CREATED, Json(Added { kind, code: input.code.trim().to_owned() })))
}

#[utoipa::path(post, path = "/basic-data/{kind}/{code}", request_body = ItemInput, tag = "basic data", params(("kind" = String, Path), ("code" = String, Path)), responses((status = 204, description = "Renamed, enabled or disabled")))]
pub async fn api_update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((kind, code)): Path<(String, String)>,
    Json(input): Json<ItemInput>,
) -> Result<StatusCode, AppError> {
    save(&state, &user, &kind, Some(&code), &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api_list, api_add)).routes(routes!(api_update))
}
