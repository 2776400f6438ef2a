//! `POST /platform/completions`: a platform reports a batch of completed courses (up to
//! [`MAX_BATCH`]). Each record is checked on its own and answered on its own — accepted, duplicate or
//! rejected with a code — and the whole batch is written in one transaction: every accepted record
//! becomes a ledger credit (`source = 'online'`, `source_ref = 'platform:<code>:<record_id>'`), a row in
//! `platform_completions` linking it to the platform, a stale mark on its person-year with one queued
//! recompute for the batch; every rejected record is kept for reconciliation. The answer goes out only
//! after the commit, so a record answered `accepted` is durable; if the server dies before answering,
//! the platform sends the batch again and gets `duplicate` for whatever did commit.
//!
//! Built for throughput: people are fetched by ID number in one query, and rows go in as one
//! `INSERT … SELECT` per table over the whole batch ([`Bulk`]: arrays read with `UNNEST` on
//! Postgres), the credit's unique source reference being the idempotency gate (`ON CONFLICT`).

use std::collections::{BTreeSet, HashMap};

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use sha2::Digest;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::platforms::{Platform, PlatformCall};
use crate::db::{Bulk, Db, Tx, q};
use crate::error::AppError;
use crate::state::AppState;
use crate::tenancy::CompletionSettings;

/// Most records in one batch.
pub const MAX_BATCH: usize = 1000;
/// Most hours one completed course may carry (hundredths): more is taken as a platform's mistake.
pub const MAX_RECORD_HOURS: i64 = 20_000;
/// How far in the future a completion time may be (clock skew).
const FUTURE_SKEW_SECS: i64 = 300;

/// One record as the platform sends it.
#[derive(Debug, Deserialize)]
struct RecordIn {
    record_id: String,
    id_number: String,
    name: String,
    course_code: String,
    course_title: String,
    subject: String,
    /// A number (12.5) or a decimal string ("12.5"); at most two decimals.
    hours: Value,
    /// RFC 3339, e.g. `2026-03-01T10:00:00+08:00`.
    completed_at: String,
    /// The year the hours count towards (计入年度).
    year: i64,
    #[serde(default)]
    order_id: Option<String>,
}

/// A record that passed every check that needs no write.
#[derive(Debug)]
struct Valid {
    index: usize,
    record_id: String,
    person_id: i64,
    subject: &'static str,
    hours: i64,
    year: i64,
    course_code: String,
    course_title: String,
    completed_at: DateTime<Utc>,
    order_id: Option<String>,
    digest: String,
    /// The credit's reference, `platform:<code>:<record_id>`: the ledger's idempotency key.
    source_ref: String,
}

crate::codes::code_enum! {
    /// What became of one record of a batch (an order may also be updated in place).
    pub enum RecordStatus {
        Accepted = ("accepted", "已接收"),
        Updated = ("updated", "已更新"),
        Duplicate = ("duplicate", "重复"),
        Rejected = ("rejected", "已拒收"),
    }
}

/// The answer for one record, in the order they were sent.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecordResult {
    pub index: usize,
    pub record_id: String,
    pub status: RecordStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_id: Option<i64>,
}

/// The answer to a batch: the counts and each record's result.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct BatchResult {
    pub received: usize,
    pub accepted: usize,
    pub duplicates: usize,
    pub rejected: usize,
    pub results: Vec<RecordResult>,
}

pub(crate) fn result(index: usize, record_id: &str, status: RecordStatus) -> RecordResult {
    RecordResult { index, record_id: record_id.to_owned(), status, code: None, message: None, credit_id: None }
}

pub(crate) fn rejected(index: usize, record_id: &str, code: &'static str, message: impl Into<String>) -> RecordResult {
    RecordResult { code: Some(code), message: Some(message.into()), ..result(index, record_id, RecordStatus::Rejected) }
}

/// Reads hours sent as a JSON number or string into hundredths.
pub(crate) fn hours_value(value: &Value) -> Result<i64, String> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return Err("学时应为数字".into()),
    };
    if text.trim_start().starts_with('-') {
        return Err("学时不能为负数".into());
    }
    let hours = crate::hours::parse_hours(&text).map_err(str::to_owned)?;
    if hours > MAX_RECORD_HOURS {
        return Err(format!("单门课程学时不能超过 {}", MAX_RECORD_HOURS / 100));
    }
    Ok(hours)
}

/// The calendar day in China (UTC+8): reconciliation days and the year's closing day.
pub fn china_day(at: DateTime<Utc>) -> NaiveDate {
    (at + chrono::Duration::hours(8)).date_naive()
}

/// Reads one record of a batch as `T` straight from its text; a record that does not fit is rejected on
/// its own (`bad_record`, with serde's reason), under the id in its `id_field` if it has a readable one.
pub(crate) fn parse_record<T: DeserializeOwned>(index: usize, raw: &RawValue, id_field: &str, what: &str) -> Result<T, RecordResult> {
    serde_json::from_str(raw.get()).map_err(|e| {
        let record: Option<Value> = serde_json::from_str(raw.get()).ok();
        let id = record.as_ref().and_then(|r| r.get(id_field)?.as_str()).unwrap_or_default();
        rejected(index, id, "bad_record", format!("{what}格式有误：{e}"))
    })
}

/// Checks the shape and values of one record; the person is checked against `people` afterwards.
fn check(
    index: usize,
    raw: &RawValue,
    platform: &Platform,
    settings: &CompletionSettings,
    now: DateTime<Utc>,
) -> Result<(RecordIn, Valid), RecordResult> {
    let record: RecordIn = parse_record(index, raw, "record_id", "记录")?;
    let id = record.record_id.trim();
    if id.is_empty() || id.chars().count() > 64 || id.chars().any(char::is_control) {
        return Err(rejected(index, &record.record_id, "bad_record_id", "记录编号（record_id）应为 1–64 个字符"));
    }
    let fail = |code, message: &str| rejected(index, id, code, message);
    let id_number = crate::ids::check_id_number(&record.id_number).map_err(|m| fail("bad_id_number", m))?;
    if record.name.trim().is_empty() {
        return Err(fail("name_mismatch", "姓名不能为空"));
    }
    let course_code = record.course_code.trim();
    let course_title = record.course_title.trim();
    if course_code.is_empty() || course_code.chars().count() > 64 || course_title.is_empty() || course_title.chars().count() > 200 {
        return Err(fail("bad_course", "课程编号（1–64 字）和课程名称（1–200 字）不能为空"));
    }
    let subject = match record.subject.trim() {
        // Either province's word: a platform may serve several provinces.
        "public" | "公需科目" | "公需" | "公共科目" | "公共" => "public",
        "professional" | "专业科目" | "专业" => "professional",
        _ => return Err(fail("bad_subject", "科目应为 public（公需科目/公共科目）或 professional（专业科目）")),
    };
    let hours = hours_value(&record.hours).map_err(|m| fail("bad_hours", &m))?;
    let completed_at = DateTime::parse_from_rfc3339(record.completed_at.trim())
        .map_err(|_| fail("bad_completed_at", "完成时间应为 RFC 3339 格式，如 2026-03-01T10:00:00+08:00"))?
        .with_timezone(&Utc);
    if completed_at > now + chrono::Duration::seconds(FUTURE_SKEW_SECS) {
        return Err(fail("future_date", "完成时间晚于当前时间"));
    }
    let this_year = i64::from(china_day(now).year());
    if !(1990..=this_year).contains(&record.year) {
        return Err(fail("bad_year", &format!("计入年度应为 1990 到 {this_year} 之间的年份")));
    }
    if !platform.recognises(record.year) {
        return Err(fail("year_not_recognised", &format!("本平台的学时仅在 {} 被认可", platform.years_text())));
    }
    if china_day(now) > settings.closes_on(record.year) {
        return Err(fail("year_closed", &format!("{} 年度已于 {} 截止报送", record.year, settings.closes_on(record.year))));
    }
    let order_id = record.order_id.as_deref().map(str::trim).filter(|o| !o.is_empty()).map(str::to_owned);
    if order_id.as_ref().is_some_and(|o| o.chars().count() > 64) {
        return Err(fail("bad_order_id", "订单编号不能超过 64 个字符"));
    }
    // The normalised payload: a resend with the same meaning is a duplicate, whatever its formatting.
    let digest = hex::encode(sha2::Sha256::digest(
        format!(
            "{id_number}\n{}\n{course_code}\n{course_title}\n{subject}\n{hours}\n{}\n{}\n{}",
            record.name.trim(),
            completed_at.timestamp(),
            record.year,
            order_id.as_deref().unwrap_or("")
        )
        .as_bytes(),
    ));
    let valid = Valid {
        index,
        record_id: id.to_owned(),
        person_id: 0,
        subject,
        hours,
        year: record.year,
        course_code: course_code.to_owned(),
        course_title: course_title.to_owned(),
        completed_at,
        order_id,
        digest,
        source_ref: format!("platform:{}:{id}", platform.code),
    };
    Ok((RecordIn { id_number, ..record }, valid))
}

/// Looks up people by ID number: id_number → (id, name).
pub(crate) async fn people_by_id_number(
    db: &Db,
    tenant: &str,
    ids: &BTreeSet<String>,
) -> Result<HashMap<String, (i64, String)>, sqlx::Error> {
    let rows = Bulk::new().text("id_number", ids.iter().map(String::as_str));
    let found: Vec<(i64, String, String)> = db
        .all_bulk(
            q("SELECT id, id_number, name FROM people WHERE tenant_id = $1 AND id_number IN (SELECT id_number FROM {rows})").bind(tenant),
            &rows,
        )
        .await?;
    Ok(found.into_iter().map(|(id, id_number, name)| (id_number, (id, name))).collect())
}

/// Checks, writes and answers a batch (see the module comment). `records` are the JSON records as sent.
pub async fn ingest(
    db: &Db,
    tenant: &str,
    platform: &Platform,
    settings: &CompletionSettings,
    records: &[&RawValue],
    now: DateTime<Utc>,
) -> Result<BatchResult, AppError> {
    let mut results: Vec<Option<RecordResult>> = vec![None; records.len()];
    let mut valid: Vec<(RecordIn, Valid)> = Vec::with_capacity(records.len());
    // A record id sent twice in one batch: the later copies share the first one's fate when identical,
    // and are a conflict when not.
    let mut first_of: HashMap<String, usize> = HashMap::new();
    let mut repeats: Vec<(usize, usize, String)> = Vec::new();
    let mut digests: HashMap<usize, String> = HashMap::new();
    for (index, raw) in records.iter().enumerate() {
        match check(index, raw, platform, settings, now) {
            Ok((record, v)) => {
                if let Some(&first) = first_of.get(&v.record_id) {
                    repeats.push((index, first, v.digest.clone()));
                    continue;
                }
                first_of.insert(v.record_id.clone(), index);
                digests.insert(index, v.digest.clone());
                valid.push((record, v));
            }
            Err(r) => {
                if !r.record_id.is_empty() && !first_of.contains_key(&r.record_id) {
                    first_of.insert(r.record_id.clone(), index);
                }
                results[index] = Some(r);
            }
        }
    }
    let ids: BTreeSet<String> = valid.iter().map(|(r, _)| r.id_number.clone()).collect();
    let people = people_by_id_number(db, tenant, &ids).await?;
    let mut pending: Vec<Valid> = Vec::with_capacity(valid.len());
    for (record, mut v) in valid {
        match people.get(&record.id_number) {
            None => results[v.index] = Some(rejected(v.index, &v.record_id, "unknown_person", "平台中没有此身份证号的人员")),
            Some((_, name)) if name != record.name.trim() => {
                results[v.index] = Some(rejected(v.index, &v.record_id, "name_mismatch", "姓名与身份证号不符"))
            }
            Some((id, _)) => {
                v.person_id = *id;
                pending.push(v);
            }
        }
    }
    // Locks are taken in one order (by reference) so that two batches touching the same records cannot deadlock.
    pending.sort_by(|a, b| a.record_id.cmp(&b.record_id));

    let received_on = china_day(now);
    let mut tx = db.begin().await?;
    let credits = Bulk::new()
        .i64("person_id", pending.iter().map(|v| v.person_id))
        .i64("year", pending.iter().map(|v| v.year))
        .text("subject", pending.iter().map(|v| v.subject))
        .i64("hours", pending.iter().map(|v| v.hours))
        .text("source_ref", pending.iter().map(|v| v.source_ref.as_str()))
        .text("course", pending.iter().map(|v| v.course_title.as_str()));
    let credit_ids: HashMap<String, i64> = tx
        .all_bulk::<(i64, String)>(
            q("INSERT INTO credits (tenant_id, person_id, year, subject, hours, source, source_ref, course, created_at) \
               SELECT $1, person_id, year, subject, hours, 'online', source_ref, course, $2 FROM {rows} WHERE true \
               ON CONFLICT (tenant_id, source_ref) DO NOTHING RETURNING id, source_ref")
            .bind(tenant)
            .bind(now),
            &credits,
        )
        .await?
        .into_iter()
        .map(|(id, source_ref)| (source_ref, id))
        .collect();
    let (accepted, seen): (Vec<&Valid>, Vec<&Valid>) = pending.iter().partition(|v| credit_ids.contains_key(&v.source_ref));
    // Already in the ledger: the same payload is a duplicate, another one a conflict.
    let known = stored_digests(&mut tx, tenant, &seen).await?;
    for v in &seen {
        results[v.index] = Some(match known.get(&v.record_id) {
            Some(d) if d != &v.digest => {
                rejected(v.index, &v.record_id, "conflict", "该记录编号已以不同内容报送过；更正请使用新的记录编号")
            }
            _ => result(v.index, &v.record_id, RecordStatus::Duplicate),
        });
    }
    let credit_of = |v: &Valid| credit_ids[&v.source_ref];
    let completions = Bulk::new()
        .text("record_id", accepted.iter().map(|v| v.record_id.as_str()))
        .text("digest", accepted.iter().map(|v| v.digest.as_str()))
        .i64("credit_id", accepted.iter().map(|v| credit_of(v)))
        .text("course_code", accepted.iter().map(|v| v.course_code.as_str()))
        .time("completed_at", accepted.iter().map(|v| v.completed_at))
        .opt_text("order_id", accepted.iter().map(|v| v.order_id.clone()));
    tx.run_bulk(
        q("INSERT INTO platform_completions (tenant_id, platform_id, record_id, digest, credit_id, course_code, completed_at, \
           order_id, received_on, received_at) \
           SELECT $1, $2, record_id, digest, credit_id, course_code, completed_at, order_id, $3, $4 FROM {rows}")
        .bind(tenant)
        .bind(platform.id)
        .bind(received_on)
        .bind(now),
        &completions,
    )
    .await?;
    for v in &accepted {
        let mut r = result(v.index, &v.record_id, RecordStatus::Accepted);
        r.credit_id = Some(credit_of(v));
        results[v.index] = Some(r);
    }
    let person_years: BTreeSet<(i64, i64)> = accepted.iter().map(|v| (v.person_id, v.year)).collect();
    crate::hours::status::mark_many_tx(&mut tx, tenant, &person_years.into_iter().collect::<Vec<_>>()).await?;

    for (index, first, digest) in repeats {
        let first_result = results[first].clone().expect("the first copy was answered");
        let same = digests.get(&first).is_some_and(|d| *d == digest);
        results[index] = Some(if same && first_result.status == RecordStatus::Accepted {
            // Sent twice in one batch: the second copy is what a resend would be.
            result(index, &first_result.record_id, RecordStatus::Duplicate)
        } else if same {
            RecordResult { index, ..first_result }
        } else {
            rejected(index, &first_result.record_id, "conflict", "同一批次中该记录编号出现了两次且内容不同")
        });
    }
    let results: Vec<RecordResult> = results.into_iter().map(|r| r.expect("every record is answered")).collect();
    let rejections: Vec<&RecordResult> = results.iter().filter(|r| r.status == RecordStatus::Rejected).collect();
    save_rejections(&mut tx, tenant, platform.id, "completion", &rejections, records, received_on, now).await?;

    let count = |status: RecordStatus| results.iter().filter(|r| r.status == status).count();
    let batch = BatchResult {
        received: results.len(),
        accepted: count(RecordStatus::Accepted),
        duplicates: count(RecordStatus::Duplicate),
        rejected: count(RecordStatus::Rejected),
        results: Vec::new(),
    };
    let hours: i64 = accepted.iter().map(|v| v.hours).sum();
    tx.run(
        q("INSERT INTO platform_days (tenant_id, platform_id, day, received, accepted, duplicates, rejected, hours) \
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id, platform_id, day) DO UPDATE SET \
           received = platform_days.received + excluded.received, accepted = platform_days.accepted + excluded.accepted, \
           duplicates = platform_days.duplicates + excluded.duplicates, rejected = platform_days.rejected + excluded.rejected, \
           hours = platform_days.hours + excluded.hours")
        .bind(tenant)
        .bind(platform.id)
        .bind(received_on)
        .bind(batch.received as i64)
        .bind(batch.accepted as i64)
        .bind(batch.duplicates as i64)
        .bind(batch.rejected as i64)
        .bind(hours),
    )
    .await?;
    tx.commit().await?;
    Ok(BatchResult { results, ..batch })
}

/// The stored digests of records already in the ledger, by the credits' source references (the
/// idempotency gate's own index).
async fn stored_digests(tx: &mut Tx, tenant: &str, records: &[&Valid]) -> Result<HashMap<String, String>, sqlx::Error> {
    let rows = Bulk::new().text("source_ref", records.iter().map(|v| v.source_ref.as_str()));
    let found: Vec<(String, String)> = tx
        .all_bulk(
            q("SELECT pc.record_id, pc.digest FROM credits c \
               JOIN platform_completions pc ON pc.tenant_id = c.tenant_id AND pc.credit_id = c.id \
               WHERE c.tenant_id = $1 AND c.source_ref IN (SELECT source_ref FROM {rows})")
            .bind(tenant),
            &rows,
        )
        .await?;
    Ok(found.into_iter().collect())
}

/// Keeps rejected records as received, with their answer, for reconciliation.
pub(crate) async fn save_rejections(
    tx: &mut Tx,
    tenant: &str,
    platform_id: i64,
    kind: &str,
    rejections: &[&RecordResult],
    records: &[&RawValue],
    received_on: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let kept = |r: &&RecordResult| {
        let record = records.get(r.index).map(|raw| raw.get().to_owned()).unwrap_or_default();
        if record.len() > 4000 { record.chars().take(2000).collect() } else { record }
    };
    let rows = Bulk::new()
        .text("record_id", rejections.iter().map(|r| r.record_id.chars().take(200).collect::<String>()))
        .text("code", rejections.iter().map(|r| r.code.unwrap_or("rejected")))
        .text("message", rejections.iter().map(|r| r.message.clone().unwrap_or_default()))
        .text("record", rejections.iter().map(kept));
    tx.run_bulk(
        q("INSERT INTO platform_rejections (tenant_id, platform_id, kind, record_id, code, message, record, received_on, received_at) \
           SELECT $1, $2, $3, record_id, code, message, record, $4, $5 FROM {rows}")
        .bind(tenant)
        .bind(platform_id)
        .bind(kind)
        .bind(received_on)
        .bind(now),
        &rows,
    )
    .await?;
    Ok(())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Batch {
    /// Up to 1,000 records: {record_id, id_number, name, course_code, course_title, subject
    /// (public|professional), hours (number, two decimals at most), completed_at (RFC 3339), year, order_id?}
    #[schema(value_type = Vec<Object>)]
    pub records: Vec<Value>,
}

/// A batch as read: each record kept as the text it was sent as (no JSON tree per record), so that it
/// is deserialized once into its own type, answered on its own when malformed and kept verbatim when
/// rejected. [`Batch`] documents the same body.
#[derive(Deserialize)]
struct RawBatch<'a> {
    #[serde(borrow)]
    records: Vec<&'a RawValue>,
}

/// Reads a batch body: 400 when it is not `{"records": [...]}`, 413 above [`MAX_BATCH`] records.
pub(crate) fn parse_batch(body: &[u8]) -> Result<Vec<&RawValue>, AppError> {
    let batch: RawBatch =
        serde_json::from_slice(body).map_err(|e| AppError::bad_request("bad_batch", format!("请求体应为 {{\"records\": [...]}}：{e}")))?;
    if batch.records.len() > MAX_BATCH {
        return Err(AppError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "batch_too_large",
            format!("每批最多 {MAX_BATCH} 条记录，本批 {} 条", batch.records.len()),
        ));
    }
    Ok(batch.records)
}

#[utoipa::path(post, path = "/platform/completions", tag = "platforms", request_body = Batch,
    responses((status = 200, body = BatchResult, description = "Every record's result, answered after the batch committed"),
              (status = 400, description = "Not a batch"), (status = 401, description = "Missing, wrong, stale or replayed signature"),
              (status = 413, description = "More than 1,000 records")))]
pub async fn api_completions(State(state): State<AppState>, call: PlatformCall) -> Result<Json<BatchResult>, AppError> {
    let records = parse_batch(&call.body)?;
    let settings = state.tenants.get(&call.tenant).map(|t| t.settings.completions.clone()).unwrap_or_default();
    let batch = ingest(&state.db, &call.tenant, &call.platform, &settings, &records, Utc::now()).await?;
    metrics::counter!("platform_records_total", "status" => "accepted").increment(batch.accepted as u64);
    metrics::counter!("platform_records_total", "status" => "duplicate").increment(batch.duplicates as u64);
    metrics::counter!("platform_records_total", "status" => "rejected").increment(batch.rejected as u64);
    Ok(Json(batch))
}

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(api_completions))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_from_numbers_and_strings() {
        assert_eq!(hours_value(&serde_json::json!(12.5)), Ok(1250));
        assert_eq!(hours_value(&serde_json::json!("3")), Ok(300));
        assert!(hours_value(&serde_json::json!(-1)).is_err());
        assert!(hours_value(&serde_json::json!(0)).is_err());
        assert!(hours_value(&serde_json::json!(1.234)).is_err());
        assert!(hours_value(&serde_json::json!(5000)).is_err());
        assert!(hours_value(&serde_json::json!(true)).is_err());
    }

    #[test]
    fn a_year_closes_on_the_configured_day_of_the_next() {
        let s = CompletionSettings::default();
        assert_eq!(s.closes_on(2025), NaiveDate::from_ymd_opt(2026, 3, 31).unwrap());
        assert!(CompletionSettings { year_closes: "02-30".into() }.check().is_err());
        assert!(CompletionSettings { year_closes: "12-31".into() }.check().is_ok());
    }
}
