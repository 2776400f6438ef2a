//! Yearly requirement tables in the JSON API: read a year's table, replace it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{RequirementTable, RequirementsInput};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::state::AppState;

#[utoipa::path(get, path = "/requirements/{year}", tag = "basic data",
    params(("year" = i64, Path, description = "The year (from 2000 to next year)")),
    responses((status = 200, body = RequirementTable, description = "The table that judges the year: the stored one, else the rules file's"),
              (status = 403, description = "Not a manager of the tenant's basic data"),
              (status = 404, description = "A year outside the range")))]
pub async fn api_get(State(state): State<AppState>, user: CurrentUser, Path(year): Path<i64>) -> Result<Json<RequirementTable>, AppError> {
    Ok(Json(super::table(&state, &user, year).await?))
}

#[utoipa::path(put, path = "/requirements/{year}", request_body = RequirementsInput, tag = "basic data",
    params(("year" = i64, Path, description = "This year or the next")),
    responses((status = 200, body = RequirementTable, description = "Saved; the year's stored statuses are queued for recompute"),
              (status = 403, description = "Not a manager of the tenant's basic data"),
              (status = 404, description = "A year outside the range"),
              (status = 409, description = "year_closed: an earlier year keeps the table it was judged by"),
              (status = 422, description = "Field errors keyed `<title level>.<public|professional|total>`: not a number, below zero, over 1000, more than two decimals, an unknown or repeated title level, no `*` row")))]
pub async fn api_put(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(year): Path<i64>,
    Json(input): Json<RequirementsInput>,
) -> Result<Json<RequirementTable>, AppError> {
    super::save(&state, &user, year, &input).await?;
    Ok(Json(super::table(&state, &user, year).await?))
}

#[utoipa::path(delete, path = "/requirements/{year}", tag = "basic data",
    params(("year" = i64, Path, description = "This year or the next")),
    responses((status = 204, description = "The stored table is gone: the rules file's judges the year again; its stored statuses are queued for recompute"),
              (status = 403, description = "Not a manager of the tenant's basic data"),
              (status = 404, description = "not_stored: no table was saved for the year (or a year outside the range)"),
              (status = 409, description = "year_closed: an earlier year keeps the table it was judged by")))]
pub async fn api_reset(State(state): State<AppState>, user: CurrentUser, Path(year): Path<i64>) -> Result<StatusCode, AppError> {
    super::reset(&state, &user, year).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api_get, api_put, api_reset))
}
