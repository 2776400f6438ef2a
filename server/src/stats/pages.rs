//! 查询统计 pages: 职称系列分布 (`/stats/titles`) with its table, chart and export.

use axum::Router;
use axum::extract::State;

use crate::paging::Query;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use super::YearQuery;
use super::overview::OverviewQuery;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::Page;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/stats", get(overview_page))
        .route("/stats/overview.xlsx", get(super::api::api_overview_xlsx))
        .route("/stats/titles", get(titles_page))
        .route("/stats/titles.xlsx", get(super::api::api_titles_xlsx))
        .route("/stats/titles.svg", get(super::api::api_titles_svg))
        .route("/stats/regions.svg", get(super::api::api_regions_svg))
}

async fn titles_page(State(state): State<AppState>, page: Page, Query(query): Query<YearQuery>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let stats = super::titles(&state, user, query.year()).await?;
    let this_year = crate::china_time::this_year();
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

/// 继教综合统计查询: the table with its filters, 查看 links one level down (or to the people) and export.
async fn overview_page(State(state): State<AppState>, page: Page, Query(query): Query<OverviewQuery>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let overview = super::overview::overview(&state, user, &query).await?;
    let this_year = crate::china_time::this_year();
    let years: Vec<i64> = (this_year - 4..=this_year).rev().collect();
    let tenant = user.tenant_code();
    let scope = user.scope_pattern().unwrap_or_default();
    let (regions, authorities) = super::overview::choices(&state.db, tenant, &scope).await?;
    let natures = crate::tenancy::basic_data(&state.db, tenant, "unit_nature").await?;
    let base = &page.tenant.base;
    let year = overview.year;
    // 查看: one level down keeps the filters; a department or a unit's total opens its people.
    let kept: Vec<(&str, String)> = query.pairs().into_iter().filter(|(k, _)| !matches!(*k, "parent" | "by")).collect();
    let link = |row: &super::overview::OverviewRow| -> Option<String> {
        let id = row.org_id?;
        match row.drill.as_deref()? {
            "people" if id == overview.parent_id => Some(format!("{base}/staff/status?year={year}&unit={id}")),
            "people" => Some(format!("{base}/staff/status?year={year}&unit={}&department={id}", overview.parent_id)),
            _ => {
                let mut pairs = kept.clone();
                pairs.push(("parent", id.to_string()));
                Some(crate::paging::query_href(&format!("{base}/stats"), &pairs).trim_end_matches('&').to_owned())
            }
        }
    };
    // A bureau's row is its region (长沙市人力资源和社会保障局 → 长沙市), as on the region chart.
    let rows: Vec<Value> = overview
        .rows
        .iter()
        .map(|r| json!({"row": r, "name": r.name.trim_end_matches("人力资源和社会保障局"), "href": link(r), "rate": percent(r.pass_rate)}))
        .collect();
    let total = json!({"row": overview.total, "href": link(&overview.total), "rate": percent(overview.total.pass_rate)});
    let export = crate::paging::query_href(&format!("{base}/stats/overview.xlsx"), &query.pairs());
    let own = user.account.org_id == Some(overview.parent_id);
    page.render(
        "stats_overview.html",
        json!({"overview": overview, "rows": rows, "total": total, "years": years, "year": year, "own": own,
               "regions": regions, "authorities": authorities,
               "natures": natures.iter().map(|n| json!({"code": n.code, "name": n.name})).collect::<Vec<_>>(),
               "query": {"by": query.by, "region": query.region, "authority": query.authority, "nature": query.nature, "parent": query.parent},
               "export": export.trim_end_matches('&')}),
    )
}

fn percent(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}
