//! 继教综合统计查询 (seed 004 §5.4.1): for a year, over the caller's subtree, one row per organisation one
//! level below the one looked at — a province's or a city's regions and directly placed units, an
//! industry authority's units (or, for a province or city, its industry authorities), a unit's
//! departments — with the seed's columns: units and CE institutions, staff, the people who learned
//! that year (all subjects, 公需, 专业; online platforms' credits vs. the others), how many met the
//! public and the professional requirement and the year as a whole, and the pass rate; a 总计 row, and a
//! row for what lies directly at the level looked at. Counts come from the people, the ledger's
//! per-person-year tallies (`learning`, kept by triggers on `credits` in the same transaction as every
//! grant and revocation) and the stored yearly status: one pass over the staff in reach grouped by unit
//! and department, then each group is added to the rows that hold it.
//!
//! Reading of the seed's ambiguous columns: 合格总人数 = met the public-subject requirement, 合格课程总人数
//! = met the professional-subject requirement, 专技综合合格人数 = met the year; 合格率 = the last over 专技人员
//! 总数. 学时学习人数 = people with credits from anything but an online platform (offline training,
//! activities, recognised hours, exemptions).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{OBJECT, path_ids};
use crate::auth::CurrentUser;
use crate::db::{Db, q};
use crate::error::AppError;
use crate::orgs::{Org, OrgKind};
use crate::state::AppState;

crate::codes::code_enum! {
    /// What a table's rows are.
    pub enum Breakdown {
        /// The organisations directly below (regions and units; an authority's units; a unit's departments).
        Below = ("below", "按下级"),
        /// The industry authorities whose units lie in the subtree (provinces and HR bureaus).
        Authority = ("authority", "按行业主管部门"),
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OverviewQuery {
    /// The year (this year when not given)
    #[serde(default, deserialize_with = "crate::web::empty_as_none")]
    #[param(minimum = 1990, maximum = 2100)]
    pub year: Option<i64>,
    /// The organisation looked at (the caller's own when not given); must lie in the caller's subtree
    #[serde(default, deserialize_with = "crate::web::empty_as_none")]
    pub parent: Option<i64>,
    /// below (default) or authority
    pub by: Option<String>,
    /// Only units in this region (an HR bureau's id)
    #[serde(default, deserialize_with = "crate::web::empty_as_none")]
    pub region: Option<i64>,
    /// Only units this industry authority supervises
    #[serde(default, deserialize_with = "crate::web::empty_as_none")]
    pub authority: Option<i64>,
    /// Only units of this nature (basic data `unit_nature`)
    pub nature: Option<String>,
}

impl OverviewQuery {
    pub fn year(&self) -> i64 {
        self.year.unwrap_or_else(crate::china_time::this_year)
    }

    /// The query as link parameters.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let opt = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
        vec![
            ("year", self.year().to_string()),
            ("parent", opt(self.parent)),
            ("by", self.by.clone().unwrap_or_default()),
            ("region", opt(self.region)),
            ("authority", opt(self.authority)),
            ("nature", self.nature.clone().unwrap_or_default()),
        ]
    }
}

/// People who learned in the year: any credit, an online platform's, any other.
#[derive(Debug, Clone, Copy, Default, Serialize, utoipa::ToSchema)]
pub struct Learners {
    pub total: i64,
    pub online: i64,
    pub offline: i64,
}

#[derive(Debug, Clone, Copy, Default, Serialize, utoipa::ToSchema)]
pub struct LearnerGroups {
    pub all: Learners,
    pub public: Learners,
    pub professional: Learners,
}

/// One row of the table.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct OverviewRow {
    /// The row's organisation (none for the 本级 row)
    pub org_id: Option<i64>,
    pub name: String,
    /// 用人单位总数
    pub units: i64,
    /// 继续教育机构总数
    pub institutions: i64,
    /// 专技人员总数
    pub staff: i64,
    pub learners: LearnerGroups,
    /// 合格总人数: met the public-subject requirement
    pub qualified_people: i64,
    /// 合格课程总人数: met the professional-subject requirement
    pub qualified_courses: i64,
    /// 专技综合合格人数: met the year
    pub qualified_overall: i64,
    /// 合格率: qualified_overall / staff, 0–1
    pub pass_rate: f64,
    /// Where 查看 leads: `stats` (this table one level down) or `people` (the staff list)
    pub drill: Option<String>,
}

/// The table.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Overview {
    pub year: i64,
    pub parent_id: i64,
    pub parent_name: String,
    pub by: Breakdown,
    /// Whether the table may be broken down by industry authority (a province's or an HR bureau's).
    pub by_authority: bool,
    pub rows: Vec<OverviewRow>,
    pub total: OverviewRow,
}

/// The numbers of one row, summed from the units' (or departments') counts.
#[derive(Debug, Default, Clone, Copy, sqlx::FromRow)]
struct PeopleCounts {
    staff: i64,
    all_total: i64,
    all_online: i64,
    all_offline: i64,
    public_total: i64,
    public_online: i64,
    public_offline: i64,
    professional_total: i64,
    professional_online: i64,
    professional_offline: i64,
    qualified_people: i64,
    qualified_courses: i64,
    qualified_overall: i64,
}

impl PeopleCounts {
    fn add(&mut self, o: &PeopleCounts) {
        self.staff += o.staff;
        self.all_total += o.all_total;
        self.all_online += o.all_online;
        self.all_offline += o.all_offline;
        self.public_total += o.public_total;
        self.public_online += o.public_online;
        self.public_offline += o.public_offline;
        self.professional_total += o.professional_total;
        self.professional_online += o.professional_online;
        self.professional_offline += o.professional_offline;
        self.qualified_people += o.qualified_people;
        self.qualified_courses += o.qualified_courses;
        self.qualified_overall += o.qualified_overall;
    }
}

/// One unit's staff in one of its departments (0: none) with their numbers, and the unit's places.
#[derive(Debug, sqlx::FromRow)]
struct UnitPeople {
    path: String,
    supervisor_path: Option<String>,
    department_id: i64,
    #[sqlx(flatten)]
    counts: PeopleCounts,
}

/// A unit or CE institution in reach, with its places.
#[derive(Debug, sqlx::FromRow)]
struct PlacedOrg {
    kind: OrgKind,
    path: String,
    supervisor_path: Option<String>,
}

#[derive(Debug, Default, Clone, Copy)]
struct OrgCounts {
    units: i64,
    institutions: i64,
}

/// How a row's organisation holds a unit (and the unit's staff).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Membership {
    /// The unit lies in the row's regional subtree.
    Subtree,
    /// The row's authority supervises the unit.
    Supervised,
    /// The staff are in the row's department.
    Department,
}

impl Membership {
    /// The rows (by index in `rows`) that hold a unit placed at `path` / `supervisor_path`, or its
    /// staff in `department` — a row holds what lies below it, so its id is on the unit's path.
    fn rows_of(self, rows: &HashMap<i64, usize>, path: &str, supervisor_path: Option<&str>, department: i64) -> Vec<usize> {
        match self {
            Membership::Subtree => path_ids(path).filter_map(|id| rows.get(&id).copied()).collect(),
            Membership::Supervised => path_ids(supervisor_path.unwrap_or("")).filter_map(|id| rows.get(&id).copied()).collect(),
            Membership::Department => rows.get(&department).copied().into_iter().collect(),
        }
    }
}

/// The filters every count obeys, on the organisation `x` (a unit): the caller's subtree ($3), the
/// subtree looked at ($7), and the query's region ($4), authority ($5) and nature ($6), each skipped
/// when NULL.
fn filters(x: &str) -> String {
    format!(
        "({x}.path LIKE $3 OR {x}.supervisor_path LIKE $3) AND ({x}.path LIKE $7 OR {x}.supervisor_path LIKE $7) \
         AND ($4 IS NULL OR {x}.path LIKE $4) AND ($5 IS NULL OR {x}.supervisor_path LIKE $5) AND ($6 IS NULL OR {x}.nature = $6)"
    )
}

struct Counting<'a> {
    db: &'a Db,
    tenant: &'a str,
    year: i64,
    scope: String,
    region: Option<String>,
    authority: Option<String>,
    nature: Option<String>,
    /// The subtree looked at, as a pattern.
    within: String,
}

/// The counts of each row (in the rows' order) and of everything in reach (the total).
struct Counted {
    rows: Vec<(PeopleCounts, OrgCounts)>,
    total: (PeopleCounts, OrgCounts),
}

impl Counting<'_> {
    fn bind(&self, sql: String) -> crate::db::Query {
        q(sql)
            .bind(self.tenant)
            .bind(self.year)
            .bind(self.scope.clone())
            .bind(self.region.clone())
            .bind(self.authority.clone())
            .bind(self.nature.clone())
            .bind(self.within.clone())
    }

    /// The summary's rows of the units in reach (per unit and department; brought up to date by the
    /// caller) and the units and institutions in reach; each is then added to the rows that hold it and
    /// to the total.
    async fn count(&self, rows: &[i64], membership: Membership) -> Result<Counted, sqlx::Error> {
        let people: Vec<UnitPeople> = self
            .db
            .all(self.bind(format!(
                "SELECT u.path, u.supervisor_path, x.department_id, {} FROM stats_units x \
                 JOIN orgs u ON u.tenant_id = x.tenant_id AND u.id = x.unit_id WHERE x.tenant_id = $1 AND x.year = $2 AND {}",
                super::summary::COUNT_COLUMNS.split(", ").map(|c| format!("x.{c}")).collect::<Vec<_>>().join(", "),
                filters("u")
            )))
            .await?;
        let orgs: Vec<PlacedOrg> = self
            .db
            .all(self.bind(format!(
                "SELECT o.kind, o.path, o.supervisor_path FROM orgs o \
                 WHERE o.tenant_id = $1 AND o.kind IN ('unit', 'institution') AND o.status = 'active' AND $2 > 0 AND {}",
                filters("o")
            )))
            .await?;
        let index: HashMap<i64, usize> = rows.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let mut counted = Counted { rows: vec![Default::default(); rows.len()], total: Default::default() };
        for group in &people {
            let counts = group.counts;
            counted.total.0.add(&counts);
            for i in membership.rows_of(&index, &group.path, group.supervisor_path.as_deref(), group.department_id) {
                counted.rows[i].0.add(&counts);
            }
        }
        for org in &orgs {
            let (units, institutions) = match org.kind {
                OrgKind::Unit => (1, 0),
                _ => (0, 1),
            };
            counted.total.1.units += units;
            counted.total.1.institutions += institutions;
            if membership == Membership::Department {
                continue;
            }
            for i in membership.rows_of(&index, &org.path, org.supervisor_path.as_deref(), 0) {
                counted.rows[i].1.units += units;
                counted.rows[i].1.institutions += institutions;
            }
        }
        Ok(counted)
    }
}

impl OverviewRow {
    fn from_counts(org_id: Option<i64>, name: String, (p, orgs): &(PeopleCounts, OrgCounts)) -> OverviewRow {
        let learners = |total, online, offline| Learners { total, online, offline };
        let mut row = OverviewRow {
            org_id,
            name,
            units: orgs.units,
            institutions: orgs.institutions,
            staff: p.staff,
            learners: LearnerGroups {
                all: learners(p.all_total, p.all_online, p.all_offline),
                public: learners(p.public_total, p.public_online, p.public_offline),
                professional: learners(p.professional_total, p.professional_online, p.professional_offline),
            },
            qualified_people: p.qualified_people,
            qualified_courses: p.qualified_courses,
            qualified_overall: p.qualified_overall,
            pass_rate: 0.0,
            drill: None,
        };
        row.rate();
        row
    }

    fn rate(&mut self) {
        self.pass_rate = if self.staff == 0 { 0.0 } else { self.qualified_overall as f64 / self.staff as f64 };
    }

    /// `self − rows`, column by column (what lies directly at the level looked at).
    fn minus(&self, rows: &[OverviewRow], name: &str) -> OverviewRow {
        let sum = |f: &dyn Fn(&OverviewRow) -> i64| rows.iter().map(f).sum::<i64>();
        let learners = |f: &dyn Fn(&LearnerGroups) -> Learners, g: &dyn Fn(&LearnerGroups) -> Learners| Learners {
            total: f(&self.learners).total - sum(&|r| g(&r.learners).total),
            online: f(&self.learners).online - sum(&|r| g(&r.learners).online),
            offline: f(&self.learners).offline - sum(&|r| g(&r.learners).offline),
        };
        let mut row = OverviewRow {
            org_id: None,
            name: name.to_owned(),
            units: self.units - sum(&|r| r.units),
            institutions: self.institutions - sum(&|r| r.institutions),
            staff: self.staff - sum(&|r| r.staff),
            learners: LearnerGroups {
                all: learners(&|l| l.all, &|l| l.all),
                public: learners(&|l| l.public, &|l| l.public),
                professional: learners(&|l| l.professional, &|l| l.professional),
            },
            qualified_people: self.qualified_people - sum(&|r| r.qualified_people),
            qualified_courses: self.qualified_courses - sum(&|r| r.qualified_courses),
            qualified_overall: self.qualified_overall - sum(&|r| r.qualified_overall),
            pass_rate: 0.0,
            drill: None,
        };
        row.rate();
        row
    }

    fn is_empty(&self) -> bool {
        self.units == 0 && self.institutions == 0 && self.staff == 0
    }
}

/// The organisation a pattern's subtree is rooted at, if it lies in the caller's scope.
async fn in_scope(state: &AppState, user: &CurrentUser, scope: &str, id: i64, field: &str) -> Result<Org, AppError> {
    crate::orgs::get_in_scope(&state.db, user.tenant_code(), scope, id).await.map_err(|e| {
        if e.status == axum::http::StatusCode::NOT_FOUND {
            crate::error::field_error(field, "所选单位不在本单位管辖范围内")
        } else {
            e
        }
    })
}

/// The table for a year over the caller's subtree, looking at `parent` (the caller's organisation by
/// default; another one in the subtree: 404 outside it).
pub async fn overview(state: &AppState, user: &CurrentUser, query: &OverviewQuery) -> Result<Overview, AppError> {
    user.authorize(state, OBJECT, "read").await?;
    let year = query.year();
    crate::china_time::check_year(year)?;
    let scope = user.scope_pattern().ok_or_else(AppError::forbidden)?;
    let tenant = user.tenant_code();
    let parent_id = match query.parent {
        Some(id) => id,
        None => user.account.org_id.ok_or_else(AppError::forbidden)?,
    };
    let parent = crate::orgs::get_in_scope(&state.db, tenant, &scope, parent_id).await?;
    let by = match query.by.as_deref().map(str::trim).unwrap_or("") {
        "" => Breakdown::Below,
        code => Breakdown::parse(code).ok_or_else(|| crate::error::field_error("by", "统计方式须为按下级或按行业主管部门"))?,
    };
    let regional = matches!(parent.kind, OrgKind::Province | OrgKind::Hr);
    if by == Breakdown::Authority && !regional {
        return Err(crate::error::field_error("by", "只有人社部门可按行业主管部门统计"));
    }
    let region = match query.region {
        Some(id) => {
            let org = in_scope(state, user, &scope, id, "region").await?;
            if org.kind != OrgKind::Hr && org.kind != OrgKind::Province {
                return Err(crate::error::field_error("region", "请选择地区（人社部门）"));
            }
            Some(format!("{}%", org.path))
        }
        None => None,
    };
    let authority = match query.authority {
        Some(id) => {
            let org = crate::orgs::get(&state.db, tenant, id).await?.filter(|o| o.kind == OrgKind::Authority);
            Some(format!("{}%", org.ok_or_else(|| crate::error::field_error("authority", "请选择行业主管部门"))?.path))
        }
        None => None,
    };
    let nature = query.nature.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
    if let Some(code) = &nature
        && !crate::tenancy::basic_data(&state.db, tenant, "unit_nature").await?.iter().any(|i| &i.code == code)
    {
        return Err(crate::error::field_error("nature", "单位性质无效"));
    }
    let within = format!("{}%", parent.path);
    super::summary::refresh(state, tenant, year).await?;
    let counting = Counting { db: &state.db, tenant, year, scope: scope.clone(), region, authority, nature, within: within.clone() };

    // The rows' organisations, and how each holds people.
    let (rows_sql, membership, remainder) = match (by, parent.kind) {
        (Breakdown::Authority, _) => (
            "SELECT c.id, c.name, c.kind FROM orgs c WHERE c.tenant_id = $1 AND c.kind = 'authority' AND c.status = 'active' \
             AND (c.path LIKE $2 OR EXISTS (SELECT 1 FROM orgs x WHERE x.tenant_id = c.tenant_id AND x.supervisor_id = c.id AND x.path LIKE $2)) \
             ORDER BY c.name, c.id",
            Membership::Supervised,
            "无行业主管部门",
        ),
        (_, OrgKind::Province | OrgKind::Hr) => (
            "SELECT c.id, c.name, c.kind FROM orgs c WHERE c.tenant_id = $1 AND c.parent_id = $2 \
             AND c.kind IN ('hr', 'unit', 'institution') AND c.status = 'active' \
             ORDER BY CASE c.kind WHEN 'hr' THEN 0 WHEN 'unit' THEN 1 ELSE 2 END, c.region_code, c.name, c.id",
            Membership::Subtree,
            "本级",
        ),
        (_, OrgKind::Authority) => (
            "SELECT c.id, c.name, c.kind FROM orgs c WHERE c.tenant_id = $1 AND c.supervisor_id = $2 \
             AND c.kind IN ('unit', 'institution') AND c.status = 'active' ORDER BY c.name, c.id",
            Membership::Subtree,
            "本级",
        ),
        (_, OrgKind::Unit) => (
            "SELECT c.id, c.name, c.kind FROM orgs c WHERE c.tenant_id = $1 AND c.parent_id = $2 AND c.kind = 'department' \
             ORDER BY c.name, c.id",
            Membership::Department,
            "未分部门",
        ),
        _ => ("SELECT c.id, c.name, c.kind FROM orgs c WHERE 1 = 0 AND c.tenant_id = $1 AND c.id = $2", Membership::Subtree, "本级"),
    };
    let row_orgs: Vec<(i64, String, OrgKind)> = match by {
        Breakdown::Authority => state.db.all(q(rows_sql).bind(tenant).bind(within)).await?,
        Breakdown::Below => state.db.all(q(rows_sql).bind(tenant).bind(parent.id)).await?,
    };
    let ids: Vec<i64> = row_orgs.iter().map(|r| r.0).collect();
    let counted = counting.count(&ids, membership).await?;
    let mut total = OverviewRow::from_counts(Some(parent.id), "总计".to_owned(), &counted.total);
    if parent.kind == OrgKind::Unit {
        total.drill = Some("people".to_owned());
    }
    let mut rows: Vec<OverviewRow> = row_orgs
        .iter()
        .zip(&counted.rows)
        .map(|((id, name, kind), counts)| {
            let mut row = OverviewRow::from_counts(Some(*id), name.clone(), counts);
            row.drill = match kind {
                OrgKind::Department => Some("people".to_owned()),
                OrgKind::Institution => None,
                _ => Some("stats".to_owned()),
            };
            row
        })
        .collect();
    // Authorities outside the caller's own path are counted but not opened.
    if by == Breakdown::Authority {
        for row in &mut rows {
            if let Some(id) = row.org_id
                && crate::orgs::get_in_scope(&state.db, tenant, &scope, id).await.is_err()
            {
                row.drill = None;
            }
        }
    }
    let mut rest = total.minus(&rows, remainder);
    if membership == Membership::Department {
        // The unit itself is the total's one unit, not one of its departments'.
        (rest.units, rest.institutions) = (0, 0);
    }
    if !rest.is_empty() && !row_orgs.is_empty() {
        rows.push(rest);
    }
    if row_orgs.is_empty() {
        total.name = "总计".to_owned();
    }
    Ok(Overview { year, parent_id: parent.id, parent_name: parent.name, by, by_authority: regional, rows, total })
}

/// The filters' choices for the caller: the regions (HR bureaus) and the industry authorities of its
/// subtree, as `{code, name}`.
pub async fn choices(db: &Db, tenant: &str, scope: &str) -> Result<(Vec<serde_json::Value>, Vec<serde_json::Value>), sqlx::Error> {
    let regions: Vec<(i64, String)> = db
        .all(
            q("SELECT id, name FROM orgs WHERE tenant_id = $1 AND kind = 'hr' AND path LIKE $2 ORDER BY region_code, id LIMIT 500")
                .bind(tenant)
                .bind(scope),
        )
        .await?;
    let authorities: Vec<(i64, String)> = db
        .all(
            q("SELECT c.id, c.name FROM orgs c WHERE c.tenant_id = $1 AND c.kind = 'authority' AND c.status = 'active' \
               AND (c.path LIKE $2 OR EXISTS (SELECT 1 FROM orgs x WHERE x.tenant_id = c.tenant_id AND x.supervisor_id = c.id AND x.path LIKE $2)) \
               ORDER BY c.name LIMIT 500")
            .bind(tenant)
            .bind(scope),
        )
        .await?;
    let codes =
        |list: Vec<(i64, String)>| list.into_iter().map(|(id, name)| serde_json::json!({"code": id.to_string(), "name": name})).collect();
    Ok((codes(regions), codes(authorities)))
}

/// The table as an xlsx workbook with the seed's two-row header.
pub fn workbook(overview: &Overview, words: &crate::tenancy::Words) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, FormatAlign, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(format!("{}年度综合统计", overview.year))?;
    let head = Format::new()
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_border(rust_xlsxwriter::FormatBorder::Thin);
    let first = match overview.by {
        Breakdown::Authority => "行业主管部门",
        Breakdown::Below => "单位/地区",
    };
    // Single columns span both header rows; each learner group spans three columns of the first row.
    let singles_before = ["序号", first, "用人单位总数", "继续教育机构总数", "专技人员总数"];
    for (col, title) in singles_before.iter().enumerate() {
        sheet.merge_range(0, col as u16, 1, col as u16, title, &head)?;
    }
    let groups = ["当年总学习人数".to_owned(), format!("当年{}学习人数", words.public), format!("当年{}学习人数", words.professional)];
    for (i, group) in groups.iter().enumerate() {
        let start = 5 + 3 * i as u16;
        sheet.merge_range(0, start, 0, start + 2, group, &head)?;
        for (j, sub) in ["总学习人数", "网络学习人数", "学时学习人数"].iter().enumerate() {
            sheet.write_string_with_format(1, start + j as u16, *sub, &head)?;
        }
    }
    for (i, title) in ["合格总人数", "合格课程总人数", "专技综合合格人数", "合格率"].iter().enumerate() {
        let col = 14 + i as u16;
        sheet.merge_range(0, col, 1, col, title, &head)?;
    }
    let percent = Format::new().set_num_format("0.0%");
    let write = |sheet: &mut rust_xlsxwriter::Worksheet,
                 line: u32,
                 number: Option<usize>,
                 row: &OverviewRow|
     -> Result<(), rust_xlsxwriter::XlsxError> {
        match number {
            Some(n) => sheet.write_number(line, 0, n as f64)?,
            None => sheet.write_string(line, 0, "")?,
        };
        sheet.write_string(line, 1, crate::spreadsheet::export_text(&row.name))?;
        let l = &row.learners;
        let numbers = [
            row.units,
            row.institutions,
            row.staff,
            l.all.total,
            l.all.online,
            l.all.offline,
            l.public.total,
            l.public.online,
            l.public.offline,
            l.professional.total,
            l.professional.online,
            l.professional.offline,
            row.qualified_people,
            row.qualified_courses,
            row.qualified_overall,
        ];
        for (i, n) in numbers.iter().enumerate() {
            sheet.write_number(line, 2 + i as u16, *n as f64)?;
        }
        sheet.write_number_with_format(line, 17, row.pass_rate, &percent)?;
        Ok(())
    };
    let mut line = 2u32;
    for (i, row) in overview.rows.iter().enumerate() {
        write(sheet, line, Some(i + 1), row)?;
        line += 1;
    }
    write(sheet, line, None, &overview.total)?;
    sheet.set_column_width(1, 28)?;
    book.save_to_buffer()
}
