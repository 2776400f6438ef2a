//! 查询统计 (seed 004 §5.4): the statistics a supervising admin reads over their subtree. So far
//! 职称系列分布查询: the staff by title series × title level with how many met the year's requirement, as a
//! table, a chart drawn by the server (SVG; deployments are on intranets, no charting from a CDN) and an
//! xlsx export; and the completion rate by region (the HR bureaus directly below the caller's province
//! or city) for the dashboards. Counts come from per-unit summaries of the people, the ledger and the
//! stored yearly status (`summary`), never from the plugin.

pub mod api;
pub mod chart;
pub mod overview;
pub mod pages;
pub mod summary;

use serde::{Deserialize, Serialize};

use crate::auth::CurrentUser;
use crate::db::q;
use crate::error::AppError;
use crate::state::AppState;

/// The casbin object: `read` for admins who supervise staff (units and everything above them).
const OBJECT: &str = "stats";

/// Who counts as staff (`p`, people): registered and approved, an active staff account.
const IS_STAFF: &str = "EXISTS (SELECT 1 FROM accounts a WHERE a.tenant_id = p.tenant_id AND a.person_id = p.id AND a.user_type = 'staff' AND a.status = 'active')";

/// How many of the counted met the year (`s`, their stored yearly status; not yet judged is not met).
pub(crate) const MET_COUNT: &str = "COALESCE(SUM(CASE WHEN s.computed_at IS NOT NULL AND s.met THEN 1 ELSE 0 END), 0)";

/// How many of the counted the rules have judged for the year (met or not).
pub(crate) const JUDGED_COUNT: &str = "COALESCE(SUM(CASE WHEN s.computed_at IS NOT NULL THEN 1 ELSE 0 END), 0)";

/// The ids on an organisation's path ("/1/10/85/1234/"): itself and every organisation above it. An
/// organisation holds what lies below it exactly when its id is on the path.
fn path_ids(path: &str) -> impl Iterator<Item = i64> + '_ {
    path.split('/').filter_map(|s| s.parse().ok())
}

/// One cell of the distribution: a title series and level, its staff, and how many met the year.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct TitleRow {
    /// The series code from basic data ("" when the profile names none)
    pub series: String,
    #[sqlx(skip)]
    pub series_name: String,
    /// The level code from basic data
    pub level: String,
    #[sqlx(skip)]
    pub level_name: String,
    pub staff: i64,
    pub met: i64,
}

/// A series' totals over its levels (the chart's bars).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SeriesTotal {
    pub series: String,
    pub series_name: String,
    pub staff: i64,
    pub met: i64,
}

/// The distribution for a year over the caller's scope.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TitleStats {
    pub year: i64,
    pub rows: Vec<TitleRow>,
    pub series: Vec<SeriesTotal>,
    /// Level codes and names in basic data's order (the table's columns)
    pub levels: Vec<(String, String)>,
    pub total_staff: i64,
    pub total_met: i64,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// The year (this year when not given)
    #[param(minimum = 1990, maximum = 2100)]
    pub year: Option<i64>,
}

impl YearQuery {
    pub fn year(&self) -> i64 {
        self.year.unwrap_or_else(crate::china_time::this_year)
    }
}

/// Staff by title series and level, and how many met the year, over the caller's subtree (registered
/// staff with an active account).
pub async fn titles(state: &AppState, user: &CurrentUser, year: i64) -> Result<TitleStats, AppError> {
    user.authorize(state, OBJECT, "read").await?;
    crate::china_time::check_year(year)?;
    let scope = user.scope_pattern().ok_or_else(AppError::forbidden)?;
    let tenant = user.tenant_code();
    summary::refresh(state, tenant, year).await?;
    let mut rows: Vec<TitleRow> = state
        .db
        .all(
            q("SELECT x.series, x.level, CAST(SUM(x.staff) AS BIGINT) AS staff, CAST(SUM(x.met) AS BIGINT) AS met \
               FROM stats_titles x JOIN orgs u ON u.tenant_id = x.tenant_id AND u.id = x.unit_id \
               WHERE x.tenant_id = $1 AND x.year = $2 AND (u.path LIKE $3 OR u.supervisor_path LIKE $3) GROUP BY x.series, x.level")
            .bind(tenant)
            .bind(year)
            .bind(scope),
        )
        .await?;
    let series_data = crate::tenancy::basic_data(&state.db, tenant, "title_series").await?;
    let level_data = crate::tenancy::basic_data(&state.db, tenant, "title_level").await?;
    let position = |list: &[crate::tenancy::BasicItem], code: &str| list.iter().position(|i| i.code == code).unwrap_or(usize::MAX);
    let name = |list: &[crate::tenancy::BasicItem], code: &str, none: &str| {
        if code.is_empty() {
            none.to_owned()
        } else {
            list.iter().find(|i| i.code == code).map_or_else(|| code.to_owned(), |i| i.name.clone())
        }
    };
    for row in &mut rows {
        row.series_name = name(&series_data, &row.series, "未填写职称系列");
        row.level_name = name(&level_data, &row.level, "未填写");
    }
    // Basic data's order, people without a series last.
    rows.sort_by_key(|r| (r.series.is_empty(), position(&series_data, &r.series), position(&level_data, &r.level)));
    let mut series: Vec<SeriesTotal> = Vec::new();
    for row in &rows {
        match series.iter_mut().find(|s| s.series == row.series) {
            Some(total) => {
                total.staff += row.staff;
                total.met += row.met;
            }
            None => series.push(SeriesTotal {
                series: row.series.clone(),
                series_name: row.series_name.clone(),
                staff: row.staff,
                met: row.met,
            }),
        }
    }
    let levels = level_data.iter().map(|l| (l.code.clone(), l.name.clone())).collect();
    Ok(TitleStats {
        year,
        total_staff: rows.iter().map(|r| r.staff).sum(),
        total_met: rows.iter().map(|r| r.met).sum(),
        rows,
        series,
        levels,
    })
}

/// Whether regions lie directly below the organisation (a province or a city has some; a county none).
pub async fn has_regions(db: &crate::db::Db, tenant: &str, org_id: i64) -> Result<bool, sqlx::Error> {
    db.exists(q("SELECT 1 FROM orgs WHERE tenant_id = $1 AND parent_id = $2 AND kind = 'hr'").bind(tenant).bind(org_id)).await
}

/// One region's staff and how many met the year.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RegionRow {
    pub org_id: i64,
    pub name: String,
    pub staff: i64,
    pub met: i64,
}

/// The regions directly below the caller's organisation (a province's cities, a city's counties), each
/// with the registered staff of its subtree and how many met the year, and a last row 本级 for the units
/// directly under the caller (a city's own units belong to no county); none below a county or a unit.
pub async fn regions(state: &AppState, user: &CurrentUser, year: i64) -> Result<Vec<RegionRow>, AppError> {
    user.authorize(state, OBJECT, "read").await?;
    crate::china_time::check_year(year)?;
    let org = user.account.org_id.ok_or_else(AppError::forbidden)?;
    let tenant = user.tenant_code();
    let regions: Vec<(i64, String)> = state
        .db
        .all(
            q("SELECT id, name FROM orgs WHERE tenant_id = $1 AND parent_id = $2 AND kind = 'hr' ORDER BY region_code, id")
                .bind(tenant)
                .bind(org),
        )
        .await?;
    if regions.is_empty() {
        return Ok(Vec::new());
    }
    let scope = user.scope_pattern().ok_or_else(AppError::forbidden)?;
    // The summary's rows of the units in the caller's regional subtree, added to the region that holds
    // each (its id is on the unit's path) and to the whole.
    summary::refresh(state, tenant, year).await?;
    let units: Vec<(String, i64, i64)> = state
        .db
        .all(
            q("SELECT u.path, x.staff, x.qualified_overall FROM stats_units x JOIN orgs u ON u.tenant_id = x.tenant_id AND u.id = x.unit_id \
               WHERE x.tenant_id = $1 AND x.year = $2 AND u.path LIKE $3")
            .bind(tenant)
            .bind(year)
            .bind(scope),
        )
        .await?;
    let index: std::collections::HashMap<i64, usize> = regions.iter().enumerate().map(|(i, r)| (r.0, i)).collect();
    let mut rows: Vec<RegionRow> = regions.into_iter().map(|(org_id, name)| RegionRow { org_id, name, staff: 0, met: 0 }).collect();
    let (mut staff, mut met) = (0, 0);
    for (path, unit_staff, unit_met) in units {
        staff += unit_staff;
        met += unit_met;
        for i in path_ids(&path).filter_map(|id| index.get(&id)) {
            rows[*i].staff += unit_staff;
            rows[*i].met += unit_met;
        }
    }
    let (in_regions, met_in_regions) = rows.iter().fold((0, 0), |(s, m), r| (s + r.staff, m + r.met));
    if staff > in_regions {
        rows.push(RegionRow { org_id: org, name: "本级".to_owned(), staff: staff - in_regions, met: met - met_in_regions });
    }
    Ok(rows)
}

/// The distribution as an xlsx workbook: one row per series and level, with the met rate.
pub fn titles_workbook(stats: &TitleStats) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(format!("{}年度职称系列分布", stats.year))?;
    let bold = Format::new().set_bold();
    for (col, title) in ["职称系列", "职称等级", "专技人员数", "已达标人数", "未达标人数", "达标率"].iter().enumerate()
    {
        sheet.write_string_with_format(0, col as u16, *title, &bold)?;
    }
    let rate = |met: i64, staff: i64| if staff == 0 { 0.0 } else { met as f64 / staff as f64 };
    let percent = Format::new().set_num_format("0.0%");
    let mut line = 1u32;
    for r in &stats.rows {
        sheet.write_string(line, 0, &r.series_name)?;
        sheet.write_string(line, 1, &r.level_name)?;
        sheet.write_number(line, 2, r.staff as f64)?;
        sheet.write_number(line, 3, r.met as f64)?;
        sheet.write_number(line, 4, (r.staff - r.met) as f64)?;
        sheet.write_number_with_format(line, 5, rate(r.met, r.staff), &percent)?;
        line += 1;
    }
    sheet.write_string_with_format(line, 0, "总计", &bold)?;
    sheet.write_number_with_format(line, 2, stats.total_staff as f64, &bold)?;
    sheet.write_number_with_format(line, 3, stats.total_met as f64, &bold)?;
    sheet.write_number_with_format(line, 4, (stats.total_staff - stats.total_met) as f64, &bold)?;
    sheet.write_number_with_format(line, 5, rate(stats.total_met, stats.total_staff), &percent)?;
    sheet.set_column_width(0, 24)?;
    book.save_to_buffer()
}
