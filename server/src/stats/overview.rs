//! 继教综合统计查询 (seed 004 §5.4.1): for a year, over the caller's subtree, one row per organisation one
//! level below the one looked at — a province's or a city's regions and directly placed units, an
//! industry authority's units (or, for a province or city, its industry authorities), a unit's
//! departments — with the seed's columns: units and CE institutions, staff, the people who learned
//! that year (all subjects, 公需, 专业; online platforms' credits vs. the others), how many met the
//! public and the professional requirement and the year as a whole, and the pass rate; a 总计 row, and a
//! row for what lies directly at the level looked at. Counts come from the people, the ledger and the
//! stored yearly status.
//!
//! Reading of the seed's ambiguous columns: 合格总人数 = met the public-subject requirement, 合格课程总人数
//! = met the professional-subject requirement, 专技综合合格人数 = met the year; 合格率 = the last over 专技人员
//! 总数. 学时学习人数 = people with credits from anything but an online platform (offline training,
//! activities, recognised hours, exemptions).

use serde::{Deserialize, Serialize};

use super::{IS_STAFF, MET_COUNT, OBJECT};
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
        self.year.unwrap_or_else(crate::hours::this_year)
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
    pub rows: Vec<OverviewRow>,
    pub total: OverviewRow,
}

/// The numbers of one row as the two queries give them.
#[derive(Debug, Default, sqlx::FromRow)]
struct PeopleCounts {
    row_id: i64,
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

#[derive(Debug, Default, sqlx::FromRow)]
struct OrgCounts {
    row_id: i64,
    units: i64,
    institutions: i64,
}

/// How a row's organisation `c` holds a person's unit `u` (or the person `p`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Membership {
    /// The unit lies in the row's regional subtree.
    Subtree,
    /// The row's authority supervises the unit.
    Supervised,
    /// The row's regional or supervising subtree (the total).
    Either,
    /// The person is in the row's department.
    Department,
}

impl Membership {
    fn holds(self, x: &str) -> String {
        match self {
            Membership::Subtree => format!("{x}.path LIKE c.path || '%'"),
            Membership::Supervised => format!("{x}.supervisor_path LIKE c.path || '%'"),
            Membership::Either | Membership::Department => {
                format!("({x}.path LIKE c.path || '%' OR {x}.supervisor_path LIKE c.path || '%')")
            }
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

/// "How many of the row's staff learned": people with a valid credit of the year, optionally of one
/// subject and from online platforms or from anything else.
fn learned(subject: Option<&str>, online: Option<bool>) -> String {
    let subject = subject.map_or(String::new(), |s| format!(" AND k.subject = '{s}'"));
    let source = match online {
        None => "",
        Some(true) => " AND k.source = 'online'",
        Some(false) => " AND k.source <> 'online'",
    };
    format!(
        "SUM(CASE WHEN EXISTS (SELECT 1 FROM credits k WHERE k.tenant_id = p.tenant_id AND k.person_id = p.id AND k.year = $2 \
         AND k.revoked_at IS NULL{subject}{source}) THEN 1 ELSE 0 END)"
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

    /// Each row organisation's counts (rows without anyone are missing).
    async fn count(&self, rows: &[i64], membership: Membership) -> Result<(Vec<PeopleCounts>, Vec<OrgCounts>), sqlx::Error> {
        if rows.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let ids = rows.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        let columns = format!(
            "c.id AS row_id, COUNT(p.id) AS staff, {} AS all_total, {} AS all_online, {} AS all_offline, \
             {} AS public_total, {} AS public_online, {} AS public_offline, \
             {} AS professional_total, {} AS professional_online, {} AS professional_offline, \
             SUM(CASE WHEN s.computed_at IS NOT NULL AND s.shortfall_public = 0 THEN 1 ELSE 0 END) AS qualified_people, \
             SUM(CASE WHEN s.computed_at IS NOT NULL AND s.shortfall_professional = 0 THEN 1 ELSE 0 END) AS qualified_courses, \
             {MET_COUNT} AS qualified_overall",
            learned(None, None),
            learned(None, Some(true)),
            learned(None, Some(false)),
            learned(Some("public"), None),
            learned(Some("public"), Some(true)),
            learned(Some("public"), Some(false)),
            learned(Some("professional"), None),
            learned(Some("professional"), Some(true)),
            learned(Some("professional"), Some(false)),
        );
        let from = match membership {
            Membership::Department => "FROM orgs c JOIN people p ON p.tenant_id = c.tenant_id AND p.department_id = c.id \
                 JOIN orgs u ON u.tenant_id = p.tenant_id AND u.id = p.unit_id"
                .to_owned(),
            m => format!(
                "FROM orgs c JOIN orgs u ON u.tenant_id = c.tenant_id AND {} JOIN people p ON p.tenant_id = u.tenant_id AND p.unit_id = u.id",
                m.holds("u")
            ),
        };
        let people = self
            .db
            .all(self.bind(format!(
                "SELECT {columns} {from} \
                 LEFT JOIN year_status s ON s.tenant_id = p.tenant_id AND s.person_id = p.id AND s.year = $2 \
                 WHERE c.tenant_id = $1 AND c.id IN ({ids}) AND {IS_STAFF} AND {} GROUP BY c.id",
                filters("u")
            )))
            .await?;
        if membership == Membership::Department {
            return Ok((people, Vec::new()));
        }
        let orgs = self
            .db
            .all(self.bind(format!(
                "SELECT c.id AS row_id, SUM(CASE WHEN o.kind = 'unit' THEN 1 ELSE 0 END) AS units, \
                 SUM(CASE WHEN o.kind = 'institution' THEN 1 ELSE 0 END) AS institutions \
                 FROM orgs c JOIN orgs o ON o.tenant_id = c.tenant_id AND {} \
                 WHERE c.tenant_id = $1 AND c.id IN ({ids}) AND o.status = 'active' AND $2 > 0 AND {} GROUP BY c.id",
                membership.holds("o"),
                filters("o")
            )))
            .await?;
        Ok((people, orgs))
    }
}

impl OverviewRow {
    fn from_counts(org_id: Option<i64>, name: String, people: Option<&PeopleCounts>, orgs: Option<&OrgCounts>) -> OverviewRow {
        let d = PeopleCounts::default();
        let p = people.unwrap_or(&d);
        let learners = |total, online, offline| Learners { total, online, offline };
        let mut row = OverviewRow {
            org_id,
            name,
            units: orgs.map_or(0, |o| o.units),
            institutions: orgs.map_or(0, |o| o.institutions),
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
    crate::hours::check_year(year)?;
    let scope = user.scope_pattern().ok_or_else(AppError::forbidden)?;
    let tenant = user.tenant_code();
    let parent_id = match query.parent {
        Some(id) => id,
        None => user.account.org_id.ok_or_else(AppError::forbidden)?,
    };
    let parent = crate::orgs::get_in_scope(&state.db, tenant, &scope, parent_id).await?;
    let by = match query.by.as_deref().map(str::trim).unwrap_or("") {
        "" => Breakdown::Below,
        code => Breakdown::parse(code).ok_or_else(|| crate::error::field_error("by", "统计方式须为 below 或 authority"))?,
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
    let (people, orgs) = counting.count(&ids, membership).await?;
    let (total_people, total_orgs) = counting.count(&[parent.id], Membership::Either).await?;
    let mut total = OverviewRow::from_counts(Some(parent.id), "总计".to_owned(), total_people.first(), total_orgs.first());
    if parent.kind == OrgKind::Unit {
        total.drill = Some("people".to_owned());
    }
    let mut rows: Vec<OverviewRow> = row_orgs
        .iter()
        .map(|(id, name, kind)| {
            let mut row = OverviewRow::from_counts(
                Some(*id),
                name.clone(),
                people.iter().find(|p| p.row_id == *id),
                orgs.iter().find(|o| o.row_id == *id),
            );
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
    Ok(Overview { year, parent_id: parent.id, parent_name: parent.name, by, rows, total })
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
pub fn workbook(overview: &Overview) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
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
    for (i, group) in ["当年总学习人数", "当年公需科目学习人数", "当年专业科目学习人数"].iter().enumerate() {
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
