//! Reconciliation (对账): per platform and day (China time) how many records came in, were accepted,
//! were duplicates or were rejected, and the hours accepted; the rejected records of a day as an Excel
//! file. The platform reads its own with signed requests (`GET /platform/reconciliation`,
//! `GET /platform/rejections.xlsx?day=`); the province and system admins read every platform's on the
//! 培训平台 pages (casbin `platforms manage`).

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::completions::china_day;
use super::platforms::{Platform, PlatformCall};
use crate::db::{Db, q};
use crate::error::AppError;
use crate::paging::Query;
use crate::state::AppState;
use crate::web::Page;

/// Longest range of days one request may ask for.
const MAX_DAYS: i64 = 366;

/// One day (China time) of a platform's records.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = ReconciliationDay)]
pub struct Day {
    pub day: NaiveDate,
    pub received: i64,
    pub accepted: i64,
    pub duplicates: i64,
    pub rejected: i64,
    /// Hours accepted (kept in hundredths)
    #[serde(serialize_with = "crate::hours::Hundredths::serialize_field")]
    #[schema(value_type = f64)]
    pub hours: i64,
}

/// A platform's reconciliation over a range of days.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Reconciliation {
    /// The platform's code
    pub platform: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Newest day first
    pub days: Vec<Day>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Rejection {
    pub kind: String,
    pub record_id: String,
    pub code: String,
    pub message: String,
    /// The record as received (JSON).
    pub record: String,
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct RangeQuery {
    /// First day (YYYY-MM-DD, China time); default 30 days before `to`
    pub from: Option<NaiveDate>,
    /// Last day; default today
    pub to: Option<NaiveDate>,
}

impl RangeQuery {
    fn range(&self) -> Result<(NaiveDate, NaiveDate), AppError> {
        let to = self.to.unwrap_or_else(|| china_day(Utc::now()));
        let from = self.from.unwrap_or(to - chrono::Duration::days(30));
        if from > to || (to - from).num_days() > MAX_DAYS {
            return Err(AppError::bad_request("bad_range", format!("起止日期有误（最多 {MAX_DAYS} 天）")));
        }
        Ok((from, to))
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DayQuery {
    /// The day (YYYY-MM-DD, China time)
    pub day: NaiveDate,
}

/// A platform's days in a range, newest first (days without records are left out).
pub async fn days(db: &Db, tenant: &str, platform_id: i64, from: NaiveDate, to: NaiveDate) -> Result<Vec<Day>, sqlx::Error> {
    db.all(
        q("SELECT day, received, accepted, duplicates, rejected, hours FROM platform_days \
           WHERE tenant_id = $1 AND platform_id = $2 AND day >= $3 AND day <= $4 ORDER BY day DESC")
        .bind(tenant)
        .bind(platform_id)
        .bind(from)
        .bind(to),
    )
    .await
}

/// The records a platform had rejected on a day, in the order they came.
pub async fn rejections(db: &Db, tenant: &str, platform_id: i64, day: NaiveDate) -> Result<Vec<Rejection>, sqlx::Error> {
    db.all(
        q("SELECT kind, record_id, code, message, record, received_at FROM platform_rejections \
           WHERE tenant_id = $1 AND platform_id = $2 AND received_on = $3 ORDER BY id")
        .bind(tenant)
        .bind(platform_id)
        .bind(day),
    )
    .await
}

/// The rejected records of a day as an xlsx workbook: one row each, the answer's code and message
/// beside the fields as the platform sent them.
pub fn workbook(day: NaiveDate, rows: &[Rejection]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use crate::spreadsheet::export_text;
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(format!("{day}"))?;
    let bold = Format::new().set_bold();
    let fields = ["id_number", "name", "course_code", "course_title", "subject", "hours", "completed_at", "year", "order_id"];
    let mut headers = vec!["类型", "记录编号", "代码", "原因", "接收时间"];
    headers.extend(["身份证号", "姓名", "课程编号", "课程名称", "科目", "学时", "完成时间", "计入年度", "订单编号", "原始记录"]);
    for (col, title) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *title, &bold)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        let record: Value = serde_json::from_str(&r.record).unwrap_or(Value::Null);
        sheet.write_string(row, 0, if r.kind == "order" { "订单" } else { "学时" })?;
        sheet.write_string(row, 1, export_text(&r.record_id))?;
        sheet.write_string(row, 2, &r.code)?;
        sheet.write_string(row, 3, export_text(&r.message))?;
        sheet.write_string(row, 4, crate::china_time::minute(r.received_at))?;
        for (j, field) in fields.iter().enumerate() {
            let text = match record.get(field) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            sheet.write_string(row, 5 + j as u16, export_text(&text))?;
        }
        sheet.write_string(row, 5 + fields.len() as u16, export_text(&r.record))?;
    }
    sheet.set_column_width(3, 40)?;
    sheet.set_column_width(5, 20)?;
    book.save_to_buffer()
}

fn xlsx_response(platform: &Platform, day: NaiveDate, bytes: Vec<u8>) -> Response {
    let filename = format!("{}_{day}_未通过记录.xlsx", platform.name);
    crate::spreadsheet::xlsx_download(&format!("rejected-{}-{day}.xlsx", platform.code), &filename, bytes)
}

#[utoipa::path(get, path = "/platform/reconciliation", params(RangeQuery), tag = "platforms",
    responses((status = 200, body = Reconciliation, description = "The platform's days in the range, newest day first"),
              (status = 401, description = "Missing, wrong, stale or replayed signature")))]
pub async fn api_reconciliation(
    State(state): State<AppState>,
    Query(query): Query<RangeQuery>,
    call: PlatformCall,
) -> Result<Json<Reconciliation>, AppError> {
    let (from, to) = query.range()?;
    let days = days(&state.db, &call.tenant, call.platform.id, from, to).await?;
    Ok(Json(Reconciliation { platform: call.platform.code, from, to, days }))
}

#[utoipa::path(get, path = "/platform/rejections.xlsx", params(DayQuery), tag = "platforms",
    responses((status = 200, description = "The day's rejected records as an Excel workbook",
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 401, description = "Missing, wrong, stale or replayed signature")))]
pub async fn api_rejections(
    State(state): State<AppState>,
    Query(query): Query<DayQuery>,
    call: PlatformCall,
) -> Result<Response, AppError> {
    let rows = rejections(&state.db, &call.tenant, call.platform.id, query.day).await?;
    let bytes = workbook(query.day, &rows).map_err(AppError::internal)?;
    Ok(xlsx_response(&call.platform, query.day, bytes))
}

async fn operator_platform(state: &AppState, page: &Page, code: &str) -> Result<Platform, AppError> {
    let user = page.require_user()?;
    user.authorize(state, "platforms", "manage").await?;
    super::platforms::by_code(&state.db, user.tenant_code(), code).await?.ok_or_else(AppError::not_found)
}

/// 对账: one platform's days for the operator, each with a link to its rejected records.
async fn reconciliation_page(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Query(query): Query<RangeQuery>,
) -> Result<Response, AppError> {
    let platform = operator_platform(&state, &page, &code).await?;
    let (from, to) = query.range()?;
    let days = days(&state.db, page.tenant.code(), platform.id, from, to).await?;
    let totals = days.iter().fold(Day { day: to, received: 0, accepted: 0, duplicates: 0, rejected: 0, hours: 0 }, |mut t, d| {
        t.received += d.received;
        t.accepted += d.accepted;
        t.duplicates += d.duplicates;
        t.rejected += d.rejected;
        t.hours += d.hours;
        t
    });
    page.render(
        "platform_days.html",
        json!({"platform": {"code": platform.code, "name": platform.name, "site": platform.site, "phone": platform.phone, "years": platform.years_text()},
               "days": days, "totals": totals, "from": from, "to": to}),
    )
}

/// The operator's download of a day's rejected records (audited: it holds ID numbers).
async fn rejections_download(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Query(query): Query<DayQuery>,
) -> Result<Response, AppError> {
    let platform = operator_platform(&state, &page, &code).await?;
    let user = page.require_user()?;
    let rows = rejections(&state.db, user.tenant_code(), platform.id, query.day).await?;
    let bytes = workbook(query.day, &rows).map_err(AppError::internal)?;
    crate::audit::record(
        &state.db,
        user.tenant_code(),
        Some(user.account.id),
        "export.platform_rejections",
        "platform",
        Some(platform.id),
        json!({"platform": platform.code, "day": query.day, "rows": rows.len()}),
    )
    .await?;
    Ok(xlsx_response(&platform, query.day, bytes))
}

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api_reconciliation)).routes(routes!(api_rejections))
}

pub fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/admin/platforms/{code}", get(reconciliation_page))
        .route("/admin/platforms/{code}/rejections.xlsx", get(rejections_download))
}
