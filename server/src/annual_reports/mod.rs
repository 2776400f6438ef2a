//! CE institutions' yearly reports (seed 004 §5.1.5): a training institution (继续教育基地/机构) files its
//! 年度培训计划 before a year and its 年度工作总结 after it — the figures (classes and trainees planned or
//! held), the text and a document — and the department above audits them in the approval queue (kinds
//! `annual_plan` and `annual_summary`; the tenant's rules plugin names the route). A rejected or
//! withdrawn report is filed again as a new one; an institution has at most one pending or approved
//! report of each kind per year.

pub mod api;
pub mod pages;

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::approvals::{self, Approval, Decided, NewApproval, Notice, RequestKind, RouteOrg, Trail};
use crate::auth::CurrentUser;
use crate::db::{Filters, Tx, q};
use crate::error::{AppError, FieldErrors, ResultExt};
use crate::orgs::{OrgKind, OrgStatus};
use crate::paging::Search;
use crate::rules::model::RequestKind as RouteKind;
use crate::state::AppState;
use crate::storage::upload::Upload;

/// The casbin object: `file` (institutions) and `review` (the departments that audit them).
pub(crate) const OBJECT: &str = "annual_reports";
const SUBJECT_TYPE: &str = "institution_report";
crate::codes::code_enum! {
    /// Where a report stands.
    pub enum ReportStatus {
        Pending = ("pending", "待审核"),
        Approved = ("approved", "已通过"),
        Rejected = ("rejected", "未通过"),
        Withdrawn = ("withdrawn", "已撤回"),
    }
}

/// The two reports an institution files each year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// 年度培训计划
    Plan,
    /// 年度工作总结
    Summary,
}

impl ReportKind {
    pub fn code(self) -> &'static str {
        match self {
            ReportKind::Plan => "plan",
            ReportKind::Summary => "summary",
        }
    }

    pub fn parse(code: &str) -> Option<ReportKind> {
        match code {
            "plan" => Some(ReportKind::Plan),
            "summary" => Some(ReportKind::Summary),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ReportKind::Plan => "年度培训计划",
            ReportKind::Summary => "年度工作总结",
        }
    }

    /// What the two figures count: planned before the year, held after it.
    fn figures(self) -> (&'static str, &'static str) {
        match self {
            ReportKind::Plan => ("计划培训班次", "计划培训人次"),
            ReportKind::Summary => ("实际培训班次", "实际培训人次"),
        }
    }

    fn route_kind(self) -> RouteKind {
        match self {
            ReportKind::Plan => RouteKind::InstitutionAnnualPlan,
            ReportKind::Summary => RouteKind::InstitutionAnnualSummary,
        }
    }
}

/// A report to file (`POST /api/v1/annual-reports`, multipart: these fields and a `document` file).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewReport {
    /// `plan` or `summary`
    pub kind: String,
    /// The year the report covers (a plan: this year or the next; a summary: this year or an earlier one)
    pub year: String,
    /// 标题, at most 100 characters
    pub title: String,
    /// 主要内容 / 工作总结, at most 5,000 characters
    pub content: String,
    /// Classes planned or held
    pub classes: String,
    /// Trainees planned or trained (人次)
    pub trainees: String,
}

/// A report as lists, details and the approver see it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Report {
    pub id: i64,
    /// plan or summary
    pub kind: String,
    #[sqlx(default)]
    pub kind_label: String,
    pub institution_id: i64,
    pub institution_name: String,
    pub year: i64,
    pub title: String,
    pub content: String,
    pub classes: i64,
    pub trainees: i64,
    pub document_name: String,
    /// pending, approved, rejected or withdrawn
    pub status: ReportStatus,
    #[sqlx(default)]
    pub status_label: String,
    pub created_by_name: String,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

const SELECT: &str = "SELECT r.id, r.kind, r.institution_id, o.name AS institution_name, r.year, r.title, r.content, r.classes, r.trainees, \
     b.filename AS document_name, r.status, a.name AS created_by_name, r.created_at, r.decided_at";
const FROM: &str = "FROM institution_reports r JOIN orgs o ON o.tenant_id = r.tenant_id AND o.id = r.institution_id \
     JOIN blobs b ON b.tenant_id = r.tenant_id AND b.id = r.document_blob_id \
     JOIN accounts a ON a.tenant_id = r.tenant_id AND a.id = r.created_by";

impl Report {
    fn finish(mut self) -> Self {
        self.kind_label = ReportKind::parse(&self.kind).map_or("", ReportKind::label).to_owned();
        self.status_label = self.status.label().to_owned();
        self
    }
}

crate::paging::list_query! {
    /// `GET /api/v1/annual-reports`
    #[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct ReportQuery {
        /// plan or summary
        pub kind: Option<String>,
        #[serde(default, deserialize_with = "crate::web::empty_as_none")]
        pub year: Option<i64>,
        /// pending, approved, rejected or withdrawn
        pub status: Option<String>,
        /// Part of the institution's name or the title
        pub q: Option<String>,
    }
}

/// The year a report may cover: a plan is for this year or the next, a summary for a year that has begun.
fn check_year(kind: ReportKind, text: &str, errors: &mut FieldErrors) -> i64 {
    let this_year = i64::from(crate::china_time::day(Utc::now()).year());
    let (from, to) = match kind {
        ReportKind::Plan => (this_year, this_year + 1),
        ReportKind::Summary => (this_year - 5, this_year),
    };
    match text.trim().parse::<i64>() {
        Ok(year) if (from..=to).contains(&year) => year,
        _ => {
            errors.add("year", format!("{}的年度须在 {from} 至 {to} 年之间", kind.label()));
            0
        }
    }
}

fn check_count(field: &str, label: &str, text: &str, errors: &mut FieldErrors) -> i64 {
    match text.trim().parse::<i64>() {
        Ok(n) if (0..=1_000_000).contains(&n) => n,
        _ => {
            errors.add(field, format!("{label}须为 0 至 1000000 之间的整数"));
            0
        }
    }
}

/// The caller's own institution, active; 403 for anyone who does not administer one.
async fn own_institution(state: &AppState, user: &CurrentUser) -> Result<crate::orgs::Org, AppError> {
    user.authorize(state, OBJECT, "file").await?;
    let org_id = user.account.org_id.ok_or_else(AppError::forbidden)?;
    let org = crate::orgs::get(&state.db, user.tenant_code(), org_id).await?.ok_or_else(AppError::forbidden)?;
    if org.kind != OrgKind::Institution {
        return Err(AppError::forbidden());
    }
    if org.status != OrgStatus::Active {
        return Err(AppError::conflict("org_not_active", "本机构尚未通过审核或已停用"));
    }
    Ok(org)
}

/// Files a report with its document and opens its route; a route the plugin leaves empty approves it at
/// once. Everything is checked before anything is stored. Returns the report's id and status.
pub async fn file(
    state: &AppState,
    user: &CurrentUser,
    input: &NewReport,
    document: Option<Upload>,
) -> Result<(i64, &'static str), AppError> {
    let institution = own_institution(state, user).await?;
    let tenant = user.tenant_code();
    let mut errors = FieldErrors::default();
    let kind = ReportKind::parse(input.kind.trim());
    if kind.is_none() {
        errors.add("kind", "请选择报送类型：年度培训计划或年度工作总结");
    }
    let kind = kind.unwrap_or(ReportKind::Plan);
    let year = check_year(kind, &input.year, &mut errors);
    let (title, content) = (input.title.trim(), input.content.trim());
    crate::fields::required(&mut errors, "title", title, "标题", 100);
    crate::fields::required(&mut errors, "content", content, "主要内容", 5000);
    let (classes_label, trainees_label) = kind.figures();
    let classes = check_count("classes", classes_label, &input.classes, &mut errors);
    let trainees = check_count("trainees", trainees_label, &input.trainees, &mut errors);
    if document.is_none() {
        errors.add("document", format!("请上传{}文件", kind.label()));
    }
    errors.finish()?;
    let document = document.expect("checked above");
    let route_year = u16::try_from(year).unwrap_or(2026);
    let steps = approvals::route_for(state, tenant, &RouteOrg::from(&institution), route_year, kind.route_kind(), None, None).await?;
    let mut tx = state.db.begin().await?;
    let blob = crate::storage::upload::store_attachment(state, &mut tx, tenant, &document.filename, document.bytes).await?;
    let id = tx
        .scalar(
            q("INSERT INTO institution_reports (tenant_id, kind, institution_id, year, title, content, classes, trainees, document_blob_id, \
               status, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10, $11) RETURNING id")
            .bind(tenant)
            .bind(kind.code())
            .bind(institution.id)
            .bind(year)
            .bind(title)
            .bind(content)
            .bind(classes)
            .bind(trainees)
            .bind(blob)
            .bind(user.account.id)
            .bind(Utc::now()),
        )
        .await
        .on_duplicate(|| {
            AppError::conflict("report_exists", format!("本机构 {year} 年的{}已提交，请等待审核或撤回后再提交", kind.label()))
        })?;
    crate::audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "annual_report.filed",
        SUBJECT_TYPE,
        Some(id),
        json!({"kind": kind.code(), "year": year, "route": approvals::route_json(&steps)}),
    )
    .await?;
    let status = if steps.is_empty() {
        approvals::settle_subject_tx(&mut tx, "institution_reports", tenant, id, "approved").await?;
        "approved"
    } else {
        let template = NewApproval {
            subject_type: SUBJECT_TYPE,
            subject_id: id,
            summary: format!("{} {year} 年{}：{title}", institution.name, kind.label()),
            applicant_account_id: Some(user.account.id),
            declaring_org_id: Some(institution.id),
            ..NewApproval::default()
        };
        match kind {
            ReportKind::Plan => approvals::open_route_tx::<AnnualPlans>(&mut tx, &state.config, tenant, &steps, template).await?,
            ReportKind::Summary => approvals::open_route_tx::<AnnualSummaries>(&mut tx, &state.config, tenant, &steps, template).await?,
        };
        "pending"
    };
    tx.commit().await?;
    Ok((id, status))
}

/// Whether the caller sees the report: its own institution's admins, and admins whose subtree (regional
/// or supervising) holds the institution.
fn visible_to(user: &CurrentUser, filters: &mut Filters) -> Result<(), AppError> {
    let scope = user.scope_pattern().ok_or_else(AppError::forbidden)?;
    filters.and_same("(o.path LIKE ? OR o.supervisor_path LIKE ?)", scope);
    Ok(())
}

/// Admins who file or review reports; 403 for everyone else.
async fn require_reader(state: &AppState, user: &CurrentUser) -> Result<(), AppError> {
    if user.can(state, OBJECT, "file").await || user.can(state, OBJECT, "review").await { Ok(()) } else { Err(AppError::forbidden()) }
}

/// One page of the reports the caller sees, newest first.
pub async fn list(state: &AppState, user: &CurrentUser, query: &ReportQuery) -> Result<(Vec<Report>, i64), AppError> {
    require_reader(state, user).await?;
    let mut filters = Filters::tenant("r.tenant_id", user.tenant_code());
    visible_to(user, &mut filters)?;
    match query.kind.as_deref().map(str::trim).unwrap_or("") {
        "" => {}
        kind if ReportKind::parse(kind).is_some() => {
            filters.and("r.kind = ?", kind.to_owned());
        }
        _ => return Err(crate::error::field_error("kind", "报送类型须为 plan 或 summary")),
    }
    if let Some(year) = query.year {
        filters.and("r.year = ?", year);
    }
    if let Some(status) = crate::codes::filter::<ReportStatus>(query.status.as_deref(), "status", "状态")? {
        filters.and("r.status = ?", status);
    }
    if let Some(text) = query.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        filters.contains(&["o.name", "r.title"], text);
    }
    let paging = query.paging();
    let total = state.db.scalar(filters.count(FROM)).await?;
    let rows: Vec<Report> =
        state.db.all(filters.page(&format!("{SELECT} {FROM}"), "r.created_at DESC, r.id DESC", paging.page, paging.per_page)).await?;
    Ok((rows.into_iter().map(Report::finish).collect(), total))
}

async fn load(state: &AppState, tenant: &str, id: i64) -> Result<Option<Report>, sqlx::Error> {
    let row: Option<Report> =
        state.db.opt(q(format!("{SELECT} {FROM} WHERE r.tenant_id = $1 AND r.id = $2")).bind(tenant).bind(id)).await?;
    Ok(row.map(Report::finish))
}

/// A report the caller may see; 404 for any other (another tenant's, another subtree's).
pub async fn get(state: &AppState, user: &CurrentUser, id: i64) -> Result<Report, AppError> {
    require_reader(state, user).await?;
    let mut filters = Filters::tenant("r.tenant_id", user.tenant_code());
    visible_to(user, &mut filters)?;
    filters.and("r.id = ?", id);
    let row: Option<Report> = state.db.opt(filters.all(&format!("{SELECT} {FROM}"), "r.id")).await?;
    row.map(Report::finish).ok_or_else(AppError::not_found)
}

/// A report with its route and trail, as its page, the approver and the API show it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportDetail {
    pub report: Report,
    /// The route's steps in order
    pub steps: Vec<approvals::StepView>,
    /// The audit trail, oldest first
    pub trail: Vec<approvals::TrailEntry>,
    /// The words for `classes` in this kind of report
    pub classes_label: &'static str,
    /// The words for `trainees` in this kind of report
    pub trainees_label: &'static str,
}

/// The report with its route and trail, as its page and the approver show it.
pub async fn detail(state: &AppState, tenant: &str, report: Report) -> Result<ReportDetail, AppError> {
    let steps = approvals::steps(&state.db, tenant, SUBJECT_TYPE, report.id, 1).await?;
    let trail = approvals::subject_trail(
        &state.db,
        tenant,
        SUBJECT_TYPE,
        report.id,
        &[("annual_report.filed", "提交报送"), ("annual_report.withdrawn", "撤回报送")],
        TRAIL,
    )
    .await?;
    let (classes_label, trainees_label) = ReportKind::parse(&report.kind).unwrap_or(ReportKind::Plan).figures();
    Ok(ReportDetail { report, steps, trail, classes_label, trainees_label })
}

/// Withdraws a pending report nobody has decided yet (its own institution only); 409 once a step decided.
pub async fn withdraw(state: &AppState, user: &CurrentUser, id: i64) -> Result<(), AppError> {
    let institution = own_institution(state, user).await?;
    let report = get(state, user, id).await?;
    if report.institution_id != institution.id {
        return Err(AppError::forbidden());
    }
    if report.status != ReportStatus::Pending {
        return Err(AppError::conflict("already_decided", "该报送已审核完毕，不能撤回"));
    }
    let tenant = user.tenant_code();
    let mut tx = state.db.begin().await?;
    if !approvals::withdraw_undecided_tx(&mut tx, tenant, SUBJECT_TYPE, id, 1, user.account.id).await? {
        return Err(AppError::conflict("already_decided", "审核单位已开始审核，不能撤回"));
    }
    approvals::settle_subject_tx(&mut tx, "institution_reports", tenant, id, "withdrawn").await?;
    crate::audit::record_tx(&mut tx, tenant, Some(user.account.id), "annual_report.withdrawn", SUBJECT_TYPE, Some(id), json!({})).await?;
    tx.commit().await?;
    Ok(())
}

/// The report's document as a download, for those who see the report.
pub async fn document(state: &AppState, user: &CurrentUser, id: i64) -> Result<axum::response::Response, AppError> {
    let report = get(state, user, id).await?;
    let blob: i64 = state
        .db
        .scalar(
            q("SELECT document_blob_id FROM institution_reports WHERE tenant_id = $1 AND id = $2").bind(user.tenant_code()).bind(report.id),
        )
        .await?;
    crate::storage::upload::download(state, user.tenant_code(), blob).await
}

/// What a decision does to a report: it is settled as the outcome; the institution is told.
async fn decided(tx: &mut Tx, d: &Decided<'_>, status: &str) -> Result<Notice, AppError> {
    approvals::settle_subject_tx(tx, "institution_reports", d.tenant, d.item.subject_id, status).await?;
    Ok(match status {
        "approved" => {
            Notice { title: "年度报送已通过审核".into(), body: format!("{} 已通过审核。", d.item.summary), mail: true }
        }
        _ => Notice {
            title: "年度报送未通过审核".into(),
            body: format!("{} 未通过审核。原因：{}。请修改后重新提交。", d.item.summary, d.reason_text()),
            mail: true,
        },
    })
}

async fn subject_detail(state: &AppState, tenant: &str, item: &Approval) -> Result<ReportDetail, AppError> {
    let report = load(state, tenant, item.subject_id).await?.ok_or_else(AppError::not_found)?;
    detail(state, tenant, report).await
}

const TRAIL: Option<Trail> = Some(Trail {
    forwarded: "annual_report.forwarded",
    approved: ("annual_report.approved", "审核通过"),
    rejected: "annual_report.rejected",
    returned: None,
});

/// Declares one of the two report kinds the queue decides; they differ only in name.
macro_rules! report_kind {
    ($(#[$doc:meta])* $name:ident, $code:literal, $label:literal, $noun:literal) => {
        $(#[$doc])*
        #[derive(Default)]
        pub struct $name;

        impl RequestKind for $name {
            const CODE: &'static str = $code;
            const LABEL: &'static str = $label;
            const NOUN: &'static str = $noun;
            const OBJECT: &'static str = OBJECT;
            const DETAIL_TEMPLATE: &'static str = "approval_annual_report.html";
            const REVIEWERS: approvals::Reviewers = approvals::Reviewers::Subtree;
            const TRAIL: Option<Trail> = TRAIL;

            async fn approved(&self, tx: &mut Tx, d: &Decided<'_>) -> Result<Notice, AppError> {
                decided(tx, d, "approved").await
            }

            async fn rejected(&self, tx: &mut Tx, d: &Decided<'_>) -> Result<Notice, AppError> {
                decided(tx, d, "rejected").await
            }

            type Detail = ReportDetail;

            async fn detail(&self, state: &AppState, tenant: &str, item: &Approval) -> Result<ReportDetail, AppError> {
                subject_detail(state, tenant, item).await
            }
        }
    };
}

report_kind!(
    /// 审核继教机构年度培训计划.
    AnnualPlans, "annual_plan", "机构年度计划", "年度培训计划"
);
report_kind!(
    /// 审核继教机构年度工作总结.
    AnnualSummaries, "annual_summary", "机构年度总结", "年度工作总结"
);

/// The page's data: the caller's reports (or those it reviews) and, for institutions, the form.
pub async fn page_json(state: &AppState, user: &CurrentUser, query: &ReportQuery) -> Result<Value, AppError> {
    let (items, total) = list(state, user, query).await?;
    let files = user.can(state, OBJECT, "file").await && user.account.org_id.is_some();
    let this_year = i64::from(crate::china_time::day(Utc::now()).year());
    Ok(json!({
        "items": items, "total": total, "pager": query.paging().pager(total),
        "files": files, "this_year": this_year, "statuses": crate::codes::choices(ReportStatus::ALL.iter().copied()),
    }))
}
