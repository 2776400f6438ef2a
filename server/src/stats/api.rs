//! Statistics in the JSON API, with the xlsx and the chart beside each (the pages use the same routes).

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{TitleStats, YearQuery};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::paging::Query;
use crate::state::AppState;

#[utoipa::path(get, path = "/stats/titles", tag = "stats",
    params(YearQuery),
    responses((status = 200, body = TitleStats, description = "Staff by title series and level over the caller's subtree, with how many met the year"),
              (status = 403, description = "Not an admin who supervises staff"),
              (status = 503, description = "stats_building: a large tenant's first summary of the year is being built by a job; ask again later")))]
pub async fn api_titles(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<YearQuery>,
) -> Result<Json<TitleStats>, AppError> {
    Ok(Json(super::titles(&state, &user, query.year()).await?))
}

#[utoipa::path(get, path = "/stats/titles.xlsx", tag = "stats",
    params(YearQuery),
    responses((status = 200, description = "The distribution as an xlsx workbook (audited)", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
              (status = 503, description = "stats_building: a large tenant's first summary of the year is being built by a job; ask again later")))]
pub async fn api_titles_xlsx(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<YearQuery>,
) -> Result<Response, AppError> {
    let stats = super::titles(&state, &user, query.year()).await?;
    let bytes = super::titles_workbook(&stats).map_err(AppError::internal)?;
    crate::audit::record(
        &state.db,
        user.tenant_code(),
        Some(user.account.id),
        "export.title_stats",
        "stats",
        None,
        json!({"year": stats.year}),
    )
    .await?;
    let year = stats.year;
    Ok(crate::spreadsheet::xlsx_download(&format!("title-series-{year}.xlsx"), &format!("职称系列分布_{year}.xlsx"), bytes))
}

#[utoipa::path(get, path = "/stats/titles.svg", tag = "stats",
    params(YearQuery),
    responses((status = 200, description = "The distribution's chart (SVG): per series, staff who met the year and who did not",
               content_type = "image/svg+xml"),
              (status = 503, description = "stats_building: a large tenant's first summary of the year is being built by a job; ask again later")))]
pub async fn api_titles_svg(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<YearQuery>,
) -> Result<Response, AppError> {
    let stats = super::titles(&state, &user, query.year()).await?;
    let bars: Vec<super::chart::Bar> =
        stats.series.iter().map(|s| super::chart::Bar { label: s.series_name.clone(), met: s.met, total: s.staff }).collect();
    svg_response(super::chart::met_bars(&format!("{} 年度职称系列分布", stats.year), &bars).map_err(AppError::internal)?)
}

#[utoipa::path(get, path = "/stats/regions", tag = "stats",
    params(YearQuery),
    responses((status = 200, body = [super::RegionRow], description = "The regions directly below the caller's province or city: staff and how many met the year"),
              (status = 403, description = "Not an admin who supervises staff"),
              (status = 503, description = "stats_building: a large tenant's first summary of the year is being built by a job; ask again later")))]
pub async fn api_regions(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<YearQuery>,
) -> Result<Json<Vec<super::RegionRow>>, AppError> {
    Ok(Json(super::regions(&state, &user, query.year()).await?))
}

#[utoipa::path(get, path = "/stats/regions.svg", tag = "stats",
    params(YearQuery),
    responses((status = 200, description = "The completion by region as a chart (SVG)", content_type = "image/svg+xml"),
              (status = 503, description = "stats_building: a large tenant's first summary of the year is being built by a job; ask again later")))]
pub async fn api_regions_svg(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<YearQuery>,
) -> Result<Response, AppError> {
    let year = query.year();
    let rows = super::regions(&state, &user, year).await?;
    // A bureau's name without its common suffix: the region (长沙市人力资源和社会保障局 → 长沙市).
    let bars: Vec<super::chart::Bar> = rows
        .into_iter()
        .map(|r| super::chart::Bar {
            label: r.name.trim_end_matches("人力资源和社会保障局").to_owned(), met: r.met, total: r.staff
        })
        .collect();
    svg_response(super::chart::met_bars(&format!("{year} 年度各地区学时达标情况"), &bars).map_err(AppError::internal)?)
}

fn svg_response(svg: String) -> Result<Response, AppError> {
    Ok(([(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], svg).into_response())
}

#[utoipa::path(get, path = "/stats/overview", tag = "stats",
    params(super::overview::OverviewQuery),
    responses((status = 200, body = super::overview::Overview, description = "继教综合统计: a row per organisation one level below `parent` (or per industry authority), with a 总计"),
              (status = 403, description = "Not an admin who supervises staff"), (status = 404, description = "`parent` is not in the caller's subtree"),
              (status = 422, description = "Field errors: by, region, authority, nature"),
              (status = 503, description = "stats_building: a large tenant's first summary of the year is being built by a job; ask again later")))]
pub async fn api_overview(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<super::overview::OverviewQuery>,
) -> Result<Json<super::overview::Overview>, AppError> {
    Ok(Json(super::overview::overview(&state, &user, &query).await?))
}

#[utoipa::path(get, path = "/stats/overview.xlsx", tag = "stats",
    params(super::overview::OverviewQuery),
    responses((status = 200, description = "The table as xlsx with the seed's two-row header (audited)", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
              (status = 503, description = "stats_building: a large tenant's first summary of the year is being built by a job; ask again later")))]
pub async fn api_overview_xlsx(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<super::overview::OverviewQuery>,
) -> Result<Response, AppError> {
    let overview = super::overview::overview(&state, &user, &query).await?;
    let bytes = super::overview::workbook(&overview, &user.tenant.tenant.settings.words).map_err(AppError::internal)?;
    crate::audit::record(
        &state.db,
        user.tenant_code(),
        Some(user.account.id),
        "export.overview_stats",
        "stats",
        None,
        json!({"year": overview.year, "parent": overview.parent_id, "by": overview.by}),
    )
    .await?;
    let year = overview.year;
    Ok(crate::spreadsheet::xlsx_download(&format!("overview-{year}.xlsx"), &format!("继教综合统计_{year}.xlsx"), bytes))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_overview))
        .routes(routes!(api_overview_xlsx))
        .routes(routes!(api_titles))
        .routes(routes!(api_titles_xlsx))
        .routes(routes!(api_titles_svg))
        .routes(routes!(api_regions))
        .routes(routes!(api_regions_svg))
}
