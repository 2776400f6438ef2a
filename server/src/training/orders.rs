//! Orders (我的订单, seed 001 §5.8: "可查看自己在管理平台授权的三家线上培训平台的相关购买记录及学时"):
//! platforms report purchases with `POST /platform/orders` (signed like completions, up to 1,000 per
//! batch, each answered on its own, idempotent on the platform's order id, a changed status such as a
//! refund updates the order); staff see theirs on the 我的订单 page and at `GET /me/orders`, each with
//! the hours credited from completions under that order.

use std::collections::{BTreeSet, HashMap};

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use sha2::Digest;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::completions::{
    BatchResult, RecordResult, RecordStatus, china_day, parse_batch, parse_record, people_by_id_number, rejected, result, save_rejections,
};
use super::platforms::{Platform, PlatformCall};
use crate::api::Paged;
use crate::auth::CurrentUser;
use crate::db::{Db, Filters, q};
use crate::error::AppError;
use crate::paging::Query;
use crate::state::AppState;
use crate::web::Page;

crate::codes::code_enum! {
    /// An order as the platform reports it.
    pub enum OrderStatus {
        Paid = ("paid", "已支付"),
        Refunded = ("refunded", "已退款"),
    }
}

#[derive(Debug, Deserialize)]
struct OrderIn {
    order_id: String,
    id_number: String,
    name: String,
    /// Yuan, a number or a decimal string with at most two decimals ("199.00").
    amount: Value,
    /// paid or refunded
    status: String,
    /// RFC 3339
    paid_at: String,
    #[serde(default)]
    courses: Vec<CourseIn>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
struct CourseIn {
    code: String,
    title: String,
    #[serde(default)]
    hours: Option<Value>,
}

struct ValidOrder {
    index: usize,
    order_id: String,
    id_number: String,
    name: String,
    amount: i64,
    status: OrderStatus,
    paid_at: DateTime<Utc>,
    courses: String,
    digest: String,
}

/// Yuan as fen, without floating point: "199", "199.5", 199.99.
fn fen_of(value: &Value) -> Result<i64, &'static str> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        _ => return Err("金额应为数字"),
    };
    if text == "0" || text == "0.0" || text == "0.00" {
        return Ok(0);
    }
    let fen = crate::hours::parse_hours(&text).map_err(|_| "金额应为不小于 0 的数字，最多两位小数")?;
    if fen > 100_000_000 {
        return Err("金额过大");
    }
    Ok(fen)
}

fn check(index: usize, raw: &RawValue, now: DateTime<Utc>) -> Result<ValidOrder, RecordResult> {
    let order: OrderIn = parse_record(index, raw, "order_id", "订单")?;
    let id = order.order_id.trim();
    if id.is_empty() || id.chars().count() > 64 {
        return Err(rejected(index, &order.order_id, "bad_order_id", "订单编号（order_id）应为 1–64 个字符"));
    }
    let fail = |code, message: &str| rejected(index, id, code, message);
    let id_number = crate::ids::check_id_number(&order.id_number).map_err(|m| fail("bad_id_number", m))?;
    let amount = fen_of(&order.amount).map_err(|m| fail("bad_amount", m))?;
    let status = OrderStatus::parse(order.status.trim()).ok_or_else(|| fail("bad_status", "订单状态应为 paid 或 refunded"))?;
    let paid_at = DateTime::parse_from_rfc3339(order.paid_at.trim())
        .map_err(|_| fail("bad_paid_at", "支付时间应为 RFC 3339 格式"))?
        .with_timezone(&Utc);
    if paid_at > now + chrono::Duration::seconds(300) {
        return Err(fail("future_date", "支付时间晚于当前时间"));
    }
    if order.courses.len() > 100 || order.courses.iter().any(|c| c.code.trim().is_empty() || c.title.trim().is_empty()) {
        return Err(fail("bad_course", "每门课程须有编号和名称，每单最多 100 门"));
    }
    let mut courses = Vec::with_capacity(order.courses.len());
    for c in &order.courses {
        let hours = match &c.hours {
            None | Some(Value::Null) => None,
            Some(h) => Some(crate::hours::format_hours(super::completions::hours_value(h).map_err(|m| fail("bad_hours", &m))?)),
        };
        courses.push(OrderCourse { code: c.code.trim().to_owned(), hours, title: c.title.trim().to_owned() });
    }
    let courses = serde_json::to_string(&courses).unwrap_or_default();
    let digest = hex::encode(sha2::Sha256::digest(
        format!("{id_number}\n{}\n{amount}\n{status}\n{}\n{courses}", order.name.trim(), paid_at.timestamp()).as_bytes(),
    ));
    Ok(ValidOrder {
        index,
        order_id: id.to_owned(),
        id_number,
        name: order.name.trim().to_owned(),
        amount,
        status,
        paid_at,
        courses,
        digest,
    })
}

/// Checks and stores a batch of orders, one transaction, answered per order: accepted (new), updated
/// (a known order whose content changed, e.g. refunded), duplicate (unchanged) or rejected.
pub async fn ingest(
    db: &Db,
    tenant: &str,
    platform: &Platform,
    records: &[&RawValue],
    now: DateTime<Utc>,
) -> Result<BatchResult, AppError> {
    let mut results: Vec<Option<RecordResult>> = vec![None; records.len()];
    let mut valid = Vec::new();
    let mut seen = BTreeSet::new();
    for (index, raw) in records.iter().enumerate() {
        match check(index, raw, now) {
            Ok(v) if !seen.insert(v.order_id.clone()) => {
                results[index] = Some(rejected(index, &v.order_id, "repeated_in_batch", "同一批次中该订单编号出现了不止一次"))
            }
            Ok(v) => valid.push(v),
            Err(r) => results[index] = Some(r),
        }
    }
    let ids: BTreeSet<String> = valid.iter().map(|v| v.id_number.clone()).collect();
    let people = people_by_id_number(db, tenant, &ids).await?;
    let mut tx = db.begin().await?;
    for v in &valid {
        let person_id = match people.get(&v.id_number) {
            None => {
                results[v.index] = Some(rejected(v.index, &v.order_id, "unknown_person", "平台中没有此身份证号的人员"));
                continue;
            }
            Some((_, name)) if *name != v.name => {
                results[v.index] = Some(rejected(v.index, &v.order_id, "name_mismatch", "姓名与身份证号不符"));
                continue;
            }
            Some((id, _)) => *id,
        };
        let existing: Option<(i64, String, i64)> = tx
            .opt(
                q("SELECT id, digest, person_id FROM platform_orders WHERE tenant_id = $1 AND platform_id = $2 AND order_id = $3")
                    .bind(tenant)
                    .bind(platform.id)
                    .bind(&v.order_id),
            )
            .await?;
        let status = match existing {
            Some((_, digest, _)) if digest == v.digest => RecordStatus::Duplicate,
            Some((_, _, owner)) if owner != person_id => {
                results[v.index] = Some(rejected(v.index, &v.order_id, "conflict", "该订单编号已属于另一人"));
                continue;
            }
            Some((id, _, _)) => {
                tx.run(
                    q("UPDATE platform_orders SET digest = $3, amount = $4, status = $5, paid_at = $6, courses = $7, updated_at = $8 \
                       WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant)
                    .bind(id)
                    .bind(&v.digest)
                    .bind(v.amount)
                    .bind(v.status.as_str())
                    .bind(v.paid_at)
                    .bind(&v.courses)
                    .bind(now),
                )
                .await?;
                RecordStatus::Updated
            }
            None => {
                tx.run(
                    q("INSERT INTO platform_orders (tenant_id, platform_id, order_id, digest, person_id, amount, status, paid_at, courses, \
                       received_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)")
                    .bind(tenant)
                    .bind(platform.id)
                    .bind(&v.order_id)
                    .bind(&v.digest)
                    .bind(person_id)
                    .bind(v.amount)
                    .bind(v.status.as_str())
                    .bind(v.paid_at)
                    .bind(&v.courses)
                    .bind(now),
                )
                .await?;
                RecordStatus::Accepted
            }
        };
        results[v.index] = Some(result(v.index, &v.order_id, status));
    }
    let results: Vec<RecordResult> = results.into_iter().map(|r| r.expect("every order is answered")).collect();
    let rejections: Vec<&RecordResult> = results.iter().filter(|r| r.status == RecordStatus::Rejected).collect();
    save_rejections(&mut tx, tenant, platform.id, "order", &rejections, records, china_day(now), now).await?;
    tx.commit().await?;
    let count = |status: RecordStatus| results.iter().filter(|r| r.status == status).count();
    Ok(BatchResult {
        received: results.len(),
        accepted: count(RecordStatus::Accepted) + count(RecordStatus::Updated),
        duplicates: count(RecordStatus::Duplicate),
        rejected: count(RecordStatus::Rejected),
        results,
    })
}

#[utoipa::path(post, path = "/platform/orders", tag = "platforms", request_body = super::completions::Batch,
    responses((status = 200, body = BatchResult, description = "Per order: accepted, updated, duplicate or rejected with a code; records are {order_id, id_number, name, amount (yuan), status: paid|refunded, paid_at, courses: [{code, title, hours?}]}"),
              (status = 401, description = "Missing, wrong, stale or replayed signature"), (status = 413, description = "More than 1,000 orders")))]
pub async fn api_orders(State(state): State<AppState>, call: PlatformCall) -> Result<Json<BatchResult>, AppError> {
    let records = parse_batch(&call.body)?;
    Ok(Json(ingest(&state.db, &call.tenant, &call.platform, &records, Utc::now()).await?))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
struct OrderRow {
    id: i64,
    platform_id: i64,
    platform_name: String,
    platform_site: String,
    order_id: String,
    amount: i64,
    status: OrderStatus,
    paid_at: DateTime<Utc>,
    courses: String,
}

/// One of a person's orders as 我的订单 shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = PlatformOrder)]
pub struct Order {
    pub id: i64,
    /// The platform's order id
    pub order_id: String,
    /// The platform's name
    pub platform: String,
    pub platform_site: String,
    /// Yuan, as a decimal string ("12.5")
    pub amount: String,
    pub status: OrderStatus,
    pub status_label: &'static str,
    pub paid_at: DateTime<Utc>,
    /// China time, to the minute
    pub paid_at_text: String,
    pub courses: Vec<OrderCourse>,
    /// Hours credited from completions under this order
    pub credited_hours: crate::hours::Hundredths,
}

/// A course bought in an order, as stored. The stored text feeds the order's digest, which once came
/// from a `json!` object (keys sorted): keep the fields in that order, or every order resent after a
/// release would count as changed.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrderCourse {
    pub code: String,
    /// Hours as a decimal string, when the platform sent them
    pub hours: Option<String>,
    pub title: String,
}

crate::paging::list_query! {
    #[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
    pub struct OrdersQuery {
    }
}

/// A person's orders, newest first, each with the hours credited from completions under it.
async fn mine(state: &AppState, user: &CurrentUser, query: &OrdersQuery) -> Result<(Vec<Order>, i64), AppError> {
    user.authorize(state, "orders", "read").await?;
    let person =
        user.account.person_id.ok_or_else(|| AppError::new(axum::http::StatusCode::FORBIDDEN, "no_person", "管理员账号没有个人订单"))?;
    let tenant = user.tenant_code();
    let mut filters = Filters::tenant("o.tenant_id", tenant);
    filters.and("o.person_id = ?", person);
    let from = "FROM platform_orders o JOIN platforms p ON p.tenant_id = o.tenant_id AND p.id = o.platform_id";
    let total = state.db.scalar(filters.count(from)).await?;
    let rows: Vec<OrderRow> = state
        .db
        .all(filters.page(
            &format!(
                "SELECT o.id, o.platform_id, p.name AS platform_name, p.site AS platform_site, o.order_id, o.amount, o.status, o.paid_at, o.courses {from}"
            ),
            "o.paid_at DESC, o.id DESC",
            query.page,
            query.per_page(),
        ))
        .await?;
    let credited: Vec<(i64, String, i64)> = state
        .db
        .all(
            q("SELECT pc.platform_id, pc.order_id, CAST(SUM(c.hours) AS BIGINT) FROM credits c \
               JOIN platform_completions pc ON pc.tenant_id = c.tenant_id AND pc.credit_id = c.id \
               WHERE c.tenant_id = $1 AND c.person_id = $2 AND pc.order_id IS NOT NULL AND c.revoked_at IS NULL \
               GROUP BY pc.platform_id, pc.order_id")
            .bind(tenant)
            .bind(person),
        )
        .await?;
    let by_order: HashMap<(i64, &str), i64> = credited.iter().map(|(p, o, h)| ((*p, o.as_str()), *h)).collect();
    let items = rows
        .iter()
        .map(|o| Order {
            id: o.id,
            order_id: o.order_id.clone(),
            platform: o.platform_name.clone(),
            platform_site: o.platform_site.clone(),
            amount: crate::hours::format_hours(o.amount),
            status: o.status,
            status_label: o.status.label(),
            paid_at: o.paid_at,
            paid_at_text: crate::china_time::minute(o.paid_at),
            // Stored by `ingest` from `OrderCourse`s, so it reads back.
            courses: serde_json::from_str(&o.courses).unwrap_or_default(),
            credited_hours: crate::hours::Hundredths(by_order.get(&(o.platform_id, o.order_id.as_str())).copied().unwrap_or(0)),
        })
        .collect();
    Ok((items, total))
}

#[utoipa::path(get, path = "/me/orders", params(OrdersQuery), tag = "platforms",
    responses((status = 200, body = Paged<Order>, description = "The caller's orders on the province's platforms, newest first, with amount (yuan), status, courses and the hours credited under each"),
              (status = 403, description = "Not a staff account")))]
pub async fn api_my_orders(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<OrdersQuery>,
) -> Result<Json<Paged<Order>>, AppError> {
    let (items, total) = mine(&state, &user, &query).await?;
    Ok(Json(Paged::new(items, total, query.paging())))
}

async fn orders_page(State(state): State<AppState>, page: Page, Query(query): Query<OrdersQuery>) -> Result<Response, AppError> {
    let user = page.require_user()?;
    let (items, total) = mine(&state, user, &query).await?;
    let platforms = super::platforms::list(&state.db, user.tenant_code()).await?;
    let platforms: Vec<Value> =
        platforms.iter().filter(|p| p.enabled).map(|p| json!({"name": p.name, "site": p.site, "phone": p.phone})).collect();
    page.render(
        "orders.html",
        json!({"items": items, "platforms": platforms, "pager": query.paging().pager(total),
               "href": format!("{}/orders?", page.tenant.base)}),
    )
}

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api_orders)).routes(routes!(api_my_orders))
}

pub fn page_routes() -> Router<AppState> {
    Router::new().route("/orders", get(orders_page))
}
