//! 查询统计 pages: 职称系列分布 (`/stats/titles`) with its table, chart and export.

use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use serde_json::json;

use super::YearQuery;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::Page;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/stats/titles", get(titles_page))
        .route("/stats/titles.xlsx", get(super::api::api_titles_xlsx))
        .route("/stats/titles.svg", get(super::api::api_titles_svg))
        .route("/stats/regions.svg", get(super::api::api_regions_svg))
}

async fn titles_page(State(state): State<AppState>, page: Page, Query(query): Query<YearQuery>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let stats = super::titles(&state, user, query.year()).await?;
    let this_year = crate::hours::this_year();
    let years: Vec<i64> = (this_year - 4..=this_year).rev().collect();
    // The table: one row per series, a column per level (staff / met).
    let table: Vec<serde_json::Value> = stats
        .series
        .iter()
        .map(|s| {
            let cells: Vec<serde_json::Value> = stats
                .levels
                .iter()
                .map(|(level, _)| {
                    let row = stats.rows.iter().find(|r| r.series == s.series && &r.level == level);
                    json!({"staff": row.map_or(0, |r| r.staff), "met": row.map_or(0, |r| r.met)})
                })
                .collect();
            json!({"name": s.series_name, "cells": cells, "staff": s.staff, "met": s.met})
        })
        .collect();
    let level_totals: Vec<serde_json::Value> = stats
        .levels
        .iter()
        .map(|(level, _)| {
            let rows = stats.rows.iter().filter(|r| &r.level == level);
            let (staff, met) = rows.fold((0, 0), |(staff, met), r| (staff + r.staff, met + r.met));
            json!({"staff": staff, "met": met})
        })
        .collect();
    page.render(
        "stats_titles.html",
        json!({"stats": stats, "table": table, "level_totals": level_totals, "years": years, "year": stats.year,
               "rate": format!("{:.1}", if stats.total_staff == 0 { 0.0 } else { stats.total_met as f64 * 100.0 / stats.total_staff as f64 })}),
    )
}
