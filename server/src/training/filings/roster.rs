//! Hours after an offline filing (seed 002: offline hours "需经相关部门认定后，将学时数据上传至管理平台").
//! Once a filing is accepted, its organisation uploads who took part and each one's hours (a sheet, the
//! form's typed lines, or JSON); every row is checked first. The organisation that accepted the filing
//! confirms the list in its approval queue (kind `filing_roster`); the confirmed people get `offline`
//! credits for the filing's year and subject, sourced to the filing (`filing:{id}:{person}`, so a
//! person is never credited twice for one training). A returned list may be corrected and uploaded
//! again; at most one list per filing is pending or confirmed.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Filing, fetch_tx, own, readable_by};
use crate::approvals::{self, Approval, Decided, NewApproval, Notice, RequestKind, StepStatus};
use crate::auth::CurrentUser;
use crate::db::{Bulk, Db, Tx, q};
use crate::error::AppError;
use crate::hours::{self, NewCredit};
use crate::spreadsheet::{Row, TableSpec};
use crate::state::AppState;
use crate::training::roster::{self, Numbered, Problems};
use crate::{audit, ids};

/// Most people one list holds (a filing declares at most 100,000; a larger training files several lists
/// through several filings).
pub const MAX_ROWS: usize = 10_000;
/// The most hours a day of training counts for.
const HOURS_PER_DAY: i64 = 8;
/// Columns of an uploaded sheet: code name and the Chinese header it may have instead.
pub const COLUMNS: &[(&str, &str)] = &[("id_number", "身份证号"), ("name", "姓名"), ("hours", "学时")];

crate::codes::code_enum! {
    /// Where a list stands.
    pub enum RosterStatus {
        Pending = ("pending", "待确认"),
        Confirmed = ("confirmed", "已确认"),
        Returned = ("returned", "已退回"),
        Withdrawn = ("withdrawn", "已撤回"),
    }
}

/// One participant as sent in JSON (`hours` a number or text such as "12.5").
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct RosterLine {
    pub id_number: String,
    pub name: String,
    #[serde(deserialize_with = "number_or_text")]
    #[schema(value_type = f64)]
    pub hours: String,
}

/// `POST /api/v1/filings/{id}/roster` as JSON.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct RosterBody {
    pub rows: Vec<RosterLine>,
}

fn number_or_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(text) => text,
        Value::Null => String::new(),
        other => other.to_string(),
    })
}

impl RosterBody {
    /// The lines as table rows (numbered from 1).
    pub fn rows(&self) -> Vec<Numbered> {
        self.rows
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let row = [("id_number", &l.id_number), ("name", &l.name), ("hours", &l.hours)]
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.clone()))
                    .collect();
                (i + 1, row)
            })
            .collect()
    }
}

/// Lines typed into the form, one person per line: 身份证号, 姓名, 学时 separated by commas (either
/// width), tabs or spaces. Blank lines are skipped (they keep their numbers).
pub fn typed_rows(text: &str) -> Vec<Numbered> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            let cells: Vec<&str> =
                line.split(|c: char| c == ',' || c == '，' || c == '\t' || c.is_whitespace()).filter(|c| !c.is_empty()).collect();
            let row: Row = COLUMNS
                .iter()
                .zip(cells.iter().chain(std::iter::repeat(&"")))
                .map(|((k, _), v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            (i + 1, row)
        })
        .collect()
}

/// A list as its filing's page and the reviewer see it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Roster {
    pub id: i64,
    pub filing_id: i64,
    pub status: RosterStatus,
    #[sqlx(default)]
    pub status_label: String,
    pub people: i64,
    /// Everyone's hours together, in hundredths
    pub hours: i64,
    #[sqlx(default)]
    pub hours_text: String,
    pub filename: Option<String>,
    pub created_by_name: String,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

impl Roster {
    fn finish(mut self) -> Self {
        self.status_label = self.status.label().to_owned();
        self.hours_text = hours::format_hours(self.hours);
        self
    }
}

const SELECT: &str = "SELECT r.id, r.filing_id, r.status, r.people, r.hours, r.filename, a.name AS created_by_name, r.created_at, r.decided_at \
     FROM filing_rosters r JOIN accounts a ON a.tenant_id = r.tenant_id AND a.id = r.created_by";

/// One participant of a list.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Participant {
    pub line: i64,
    pub person_id: i64,
    pub name: String,
    /// Masked (the first 6 and last 4 digits shown)
    pub id_number: String,
    /// Hundredths
    pub hours: i64,
    #[sqlx(default)]
    pub hours_text: String,
}

/// The filing's latest list, if any.
pub async fn latest(db: &Db, tenant: &str, filing_id: i64) -> Result<Option<Roster>, sqlx::Error> {
    let row: Option<Roster> = db
        .opt(q(format!("{SELECT} WHERE r.tenant_id = $1 AND r.filing_id = $2 ORDER BY r.id DESC LIMIT 1")).bind(tenant).bind(filing_id))
        .await?;
    Ok(row.map(Roster::finish))
}

async fn fetch_roster_tx(tx: &mut Tx, tenant: &str, id: i64) -> Result<Roster, AppError> {
    let row: Option<Roster> = tx.opt(q(format!("{SELECT} WHERE r.tenant_id = $1 AND r.id = $2")).bind(tenant).bind(id)).await?;
    row.map(Roster::finish).ok_or_else(AppError::not_found)
}

/// One page of a list's participants, in upload order.
pub async fn participants(
    db: &Db,
    tenant: &str,
    roster_id: i64,
    paging: crate::paging::Paging,
) -> Result<(Vec<Participant>, i64), sqlx::Error> {
    let rows: Vec<Participant> = db
        .all(
            q("SELECT w.line, w.person_id, p.name, p.id_number, w.hours FROM filing_roster_rows w \
               JOIN people p ON p.tenant_id = w.tenant_id AND p.id = w.person_id \
               WHERE w.tenant_id = $1 AND w.roster_id = $2 ORDER BY w.line LIMIT $3 OFFSET $4")
            .bind(tenant)
            .bind(roster_id)
            .bind(paging.per_page)
            .bind(paging.offset()),
        )
        .await?;
    let total = db
        .scalar(q("SELECT COUNT(*) FROM filing_roster_rows WHERE tenant_id = $1 AND roster_id = $2").bind(tenant).bind(roster_id))
        .await?;
    let rows = rows
        .into_iter()
        .map(|mut p| {
            p.id_number = ids::mask_id_number(&p.id_number);
            p.hours_text = hours::format_hours(p.hours);
            p
        })
        .collect();
    Ok((rows, total))
}

/// The most hours one person may get from the filing: 8 a day of its training time.
fn max_hours(filing: &Filing) -> i64 {
    let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok();
    let days = match (day(&filing.start_date), day(&filing.end_date)) {
        (Some(start), Some(end)) => (end - start).num_days() + 1,
        _ => 1,
    };
    days.max(1) * HOURS_PER_DAY * 100
}

/// The organisation that confirms the lists of a filing: the one whose approval accepted it (the last
/// approved step of its latest round); for a filing accepted without review, the filer's HR bureau.
async fn confirming_org(tx: &mut Tx, tenant: &str, filing: &Filing) -> Result<i64, AppError> {
    let decided: Option<(i64,)> = tx
        .opt(
            q("SELECT approver_org_id FROM approvals WHERE tenant_id = $1 AND subject_type = 'filing' AND subject_id = $2 AND round = $3 \
               AND status = 'approved' ORDER BY step_no DESC LIMIT 1")
            .bind(tenant)
            .bind(filing.id)
            .bind(filing.round),
        )
        .await?;
    if let Some((org,)) = decided {
        return Ok(org);
    }
    let bureau: (Option<i64>,) =
        tx.one(q("SELECT hr_bureau_id FROM orgs WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(filing.org_id)).await?;
    if let Some(org) = bureau.0 {
        return Ok(org);
    }
    let province: Option<(i64,)> =
        tx.opt(q("SELECT id FROM orgs WHERE tenant_id = $1 AND kind = 'province' ORDER BY id LIMIT 1").bind(tenant)).await?;
    province.map(|(id,)| id).ok_or_else(|| AppError::internal("tenant without a province"))
}

/// Uploads the participants of an accepted filing of the caller's organisation: `rows` numbered from
/// their line in the file or form. Every row is checked first (a person of the tenant, the name
/// matching, once, hours above 0 and at most 8 a day of the training); any problem → 422 listing every
/// row's, nothing stored. Otherwise the list waits for the accepting organisation's confirmation.
pub async fn upload(
    state: &AppState,
    user: &CurrentUser,
    filing_id: i64,
    rows: &[Numbered],
    filename: Option<&str>,
) -> Result<Roster, AppError> {
    let tenant = user.tenant_code();
    let filing = own(state, user, filing_id).await?;
    if filing.status != super::FilingStatus::Accepted {
        return Err(AppError::conflict("not_accepted", format!("备案“{}”受理后才能上传参训人员学时", filing.name)));
    }
    if let Some(open) =
        latest(&state.db, tenant, filing_id).await?.filter(|r| matches!(r.status, RosterStatus::Pending | RosterStatus::Confirmed))
    {
        return Err(roster_exists(&open));
    }
    if rows.is_empty() {
        return Err(crate::error::field_error("file", "请上传名单文件或填写参训人员"));
    }
    let limit = usize::try_from(filing.participants).unwrap_or(0).min(MAX_ROWS);
    if rows.len() > limit {
        return Err(crate::error::field_error("file", format!("名单有 {} 人，超过备案的培训人数 {limit} 人", rows.len())));
    }
    let mut problems = Problems::default();
    let people = roster::resolve_people(&state.db, tenant, rows, true, &mut problems).await?;
    let most = max_hours(&filing);
    let mut valid = Vec::with_capacity(rows.len());
    for ((line, row), person) in rows.iter().zip(people) {
        let hours = match hours::parse_hours(&roster::cell(row, "hours")) {
            Ok(h) if h <= most => Some(h),
            Ok(_) => {
                problems.add(
                    *line,
                    "hours",
                    format!("学时不能超过 {}（培训时间每天最多 {HOURS_PER_DAY} 学时）", hours::format_hours(most)),
                );
                None
            }
            Err(message) => {
                problems.add(*line, "hours", message);
                None
            }
        };
        if let (Some(person), Some(hours)) = (person, hours) {
            valid.push((*line as i64, person, hours));
        }
    }
    problems.0.sort_by_key(|p| p.row);
    problems.finish("未保存名单")?;

    let total: i64 = valid.iter().map(|(_, _, h)| h).sum();
    let mut tx = state.db.begin().await?;
    let approver = confirming_org(&mut tx, tenant, &filing).await?;
    let id = tx
        .scalar(
            q("INSERT INTO filing_rosters (tenant_id, filing_id, status, people, hours, filename, created_by, created_at) \
               VALUES ($1, $2, 'pending', $3, $4, $5, $6, $7) RETURNING id")
            .bind(tenant)
            .bind(filing_id)
            .bind(valid.len() as i64)
            .bind(total)
            .bind(filename.map(str::to_owned))
            .bind(user.account.id)
            .bind(Utc::now()),
        )
        .await
        .map_err(|e| {
            if crate::db::is_unique_violation(&e) {
                AppError::conflict("roster_exists", "该备案已有待确认或已确认的学时名单")
            } else {
                e.into()
            }
        })?;
    let bulk = Bulk::new()
        .i64("line", valid.iter().map(|v| v.0))
        .i64("person_id", valid.iter().map(|v| v.1))
        .i64("hours", valid.iter().map(|v| v.2));
    tx.run_bulk(
        q("INSERT INTO filing_roster_rows (tenant_id, roster_id, line, person_id, hours) SELECT $1, $2, line, person_id, hours FROM {rows}")
            .bind(tenant)
            .bind(id),
        &bulk,
    )
    .await?;
    approvals::open_tx::<FilingRosters>(
        &mut tx,
        tenant,
        NewApproval {
            subject_type: FilingRosters::CODE,
            subject_id: id,
            summary: format!("{} · {}（{} 人，共 {} 学时）", filing.org_name, filing.name, valid.len(), hours::format_hours(total)),
            applicant_account_id: Some(user.account.id),
            approver_org_id: approver,
            declaring_org_id: Some(filing.org_id),
            ..Default::default()
        },
    )
    .await?;
    approvals::schedule_digest_tx(&mut tx, &state.config, tenant, approver).await?;
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "filing.roster_uploaded",
        "filing",
        Some(filing_id),
        json!({"roster": id, "people": valid.len(), "hours": total}),
    )
    .await?;
    tx.commit().await?;
    latest(&state.db, tenant, filing_id).await?.ok_or_else(AppError::not_found)
}

/// [`upload`] from a sheet: xlsx or UTF-8 CSV with the columns 身份证号, 姓名, 学时 (or their code
/// names); rows are numbered as in the sheet (the header is row 1).
pub async fn upload_file(state: &AppState, user: &CurrentUser, filing_id: i64, filename: &str, bytes: &[u8]) -> Result<Roster, AppError> {
    own(state, user, filing_id).await?;
    let spec = TableSpec { required: &["id_number", "name", "hours"], aliases: COLUMNS, max_rows: MAX_ROWS };
    let rows = roster::read_upload(bytes, filename, spec, "文件中除列名外没有参训人员").await?;
    upload(state, user, filing_id, &rows, Some(filename)).await
}

/// An empty list to fill in: the columns and one example row.
pub fn template() -> Result<Vec<u8>, AppError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    for (col, (_, title)) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *title, &bold).map_err(AppError::internal)?;
        sheet.set_column_format(col as u16, &text).map_err(AppError::internal)?;
    }
    sheet.set_column_width(0, 22).map_err(AppError::internal)?;
    book.save_to_buffer().map_err(AppError::internal)
}

fn roster_exists(open: &Roster) -> AppError {
    match open.status {
        RosterStatus::Confirmed => AppError::conflict("roster_confirmed", "该备案的学时名单已确认，学时已登记，不能再次上传"),
        _ => AppError::conflict("roster_exists", "该备案已有待确认的学时名单，如需修改请先撤回"),
    }
}

/// Takes a pending list back from the confirming organisation (it can be uploaded again corrected).
pub async fn withdraw(state: &AppState, user: &CurrentUser, filing_id: i64) -> Result<(), AppError> {
    let tenant = user.tenant_code();
    own(state, user, filing_id).await?;
    let pending = latest(&state.db, tenant, filing_id)
        .await?
        .filter(|r| r.status == RosterStatus::Pending)
        .ok_or_else(|| AppError::conflict("not_pending", "没有待确认的学时名单"))?;
    let mut tx = state.db.begin().await?;
    approvals::close_open_steps_tx(&mut tx, tenant, FilingRosters::CODE, pending.id, 1, &[StepStatus::Pending], StepStatus::Withdrawn)
        .await?;
    let changed = tx
        .run(
            q("UPDATE filing_rosters SET status = 'withdrawn', decided_at = $3 WHERE tenant_id = $1 AND id = $2 AND status = 'pending'")
                .bind(tenant)
                .bind(pending.id)
                .bind(Utc::now()),
        )
        .await?;
    if changed != 1 {
        return Err(AppError::conflict("already_decided", "学时名单已被处理，请刷新后重试"));
    }
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "filing.roster_withdrawn",
        "filing",
        Some(filing_id),
        json!({"roster": pending.id}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The filing's latest list and one page of its participants, for those who see the filing.
/// A filing's list as its page and `GET /filings/{id}/roster` show it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RosterView {
    /// The latest list, if any
    pub roster: Option<Roster>,
    /// One page of its participants
    pub participants: crate::api::Paged<Participant>,
    /// The caller may upload a list (the filer's organisation, the filing accepted, no list pending or
    /// confirmed)
    pub can_upload: bool,
    pub can_withdraw: bool,
    /// The most hours one person may get: 8 a day of the training
    pub max_hours: f64,
    pub max_hours_text: String,
    /// The most people a list may hold
    pub max_people: i64,
}

pub async fn view(state: &AppState, user: &CurrentUser, filing_id: i64, paging: crate::paging::Paging) -> Result<RosterView, AppError> {
    let (filing, filer) = readable_by(state, user, filing_id).await?;
    let tenant = user.tenant_code();
    let roster = latest(&state.db, tenant, filing_id).await?;
    let (rows, total) = match &roster {
        Some(r) => participants(&state.db, tenant, r.id, paging).await?,
        None => (Vec::new(), 0),
    };
    let open = roster.as_ref().is_some_and(|r| matches!(r.status, RosterStatus::Pending | RosterStatus::Confirmed));
    let most = max_hours(&filing);
    Ok(RosterView {
        can_upload: filer && filing.status == super::FilingStatus::Accepted && !open,
        can_withdraw: filer && roster.as_ref().is_some_and(|r| r.status == RosterStatus::Pending),
        roster,
        participants: crate::api::Paged::new(rows, total, paging),
        max_hours: most as f64 / 100.0,
        max_hours_text: hours::format_hours(most),
        max_people: filing.participants.min(MAX_ROWS as i64),
    })
}

/// Participant lists in the approval queue: approving one credits everyone on it, returning it lets the
/// organisation upload a corrected one.
#[derive(Default)]
pub struct FilingRosters;

struct Decision {
    roster: Roster,
    filing: Filing,
}

async fn decision(tx: &mut Tx, d: &Decided<'_>) -> Result<Decision, AppError> {
    let roster = fetch_roster_tx(tx, d.tenant, d.item.subject_id).await?;
    let filing = fetch_tx(tx, d.tenant, roster.filing_id).await?.ok_or_else(AppError::not_found)?;
    Ok(Decision { roster, filing })
}

impl RequestKind for FilingRosters {
    const CODE: &'static str = "filing_roster";
    const LABEL: &'static str = "线下培训学时确认";
    const NOUN: &'static str = "学时名单";
    const OBJECT: &'static str = "filings";
    const DETAIL_TEMPLATE: &'static str = "approval_filing_roster.html";
    const GROUPED: bool = true;

    async fn approved(&self, tx: &mut Tx, d: &Decided<'_>) -> Result<Notice, AppError> {
        let Decision { roster, filing } = decision(tx, d).await?;
        approvals::settle_subject_tx(tx, "filing_rosters", d.tenant, roster.id, RosterStatus::Confirmed.as_str()).await?;
        let rows: Vec<(i64, i64)> = tx
            .all(
                q("SELECT person_id, hours FROM filing_roster_rows WHERE tenant_id = $1 AND roster_id = $2 ORDER BY line")
                    .bind(d.tenant)
                    .bind(roster.id),
            )
            .await?;
        let mut credited = 0;
        for (person_id, hours) in rows {
            let source_ref = format!("filing:{}:{person_id}", filing.id);
            let credit = NewCredit {
                person_id,
                year: filing.year,
                subject: &filing.subject,
                hours,
                source: "offline",
                source_ref: &source_ref,
                course: Some(&filing.name),
                granted_by: Some(d.actor),
            };
            if hours::grant_tx(tx, d.tenant, credit).await?.is_some() {
                credited += 1;
            }
        }
        audit::record_tx(
            tx,
            d.tenant,
            Some(d.actor),
            "filing.roster_confirmed",
            "filing",
            Some(filing.id),
            json!({"roster": roster.id, "credited": credited}),
        )
        .await?;
        Ok(Notice {
            title: "线下培训学时已确认".to_owned(),
            body: format!(
                "您单位线下培训“{}”的参训人员学时名单（{} 人，共 {} 学时）已由{}确认，学时已登记到参训人员名下。",
                filing.name, roster.people, roster.hours_text, d.item.approver_org_name
            ),
            mail: false,
        })
    }

    async fn rejected(&self, tx: &mut Tx, d: &Decided<'_>) -> Result<Notice, AppError> {
        let Decision { roster, filing } = decision(tx, d).await?;
        approvals::settle_subject_tx(tx, "filing_rosters", d.tenant, roster.id, RosterStatus::Returned.as_str()).await?;
        audit::record_tx(
            tx,
            d.tenant,
            Some(d.actor),
            "filing.roster_returned",
            "filing",
            Some(filing.id),
            json!({"roster": roster.id, "reason": d.reason}),
        )
        .await?;
        Ok(Notice {
            title: "线下培训学时名单被退回".to_owned(),
            body: format!(
                "您单位线下培训“{}”的参训人员学时名单未被{}确认。原因：{}。请修改后重新上传。",
                filing.name,
                d.item.approver_org_name,
                d.reason_text()
            ),
            mail: false,
        })
    }

    type Detail = RosterSubject;

    async fn detail(&self, state: &AppState, tenant: &str, item: &Approval) -> Result<RosterSubject, AppError> {
        let mut tx = state.db.begin().await?;
        let roster = fetch_roster_tx(&mut tx, tenant, item.subject_id).await?;
        let filing = fetch_tx(&mut tx, tenant, roster.filing_id).await?.ok_or_else(AppError::not_found)?;
        tx.commit().await?;
        let (participants, total) = participants(&state.db, tenant, roster.id, crate::paging::Paging::new(1, Some(500))).await?;
        Ok(RosterSubject { roster, filing: filing.view(state.tenants.words(tenant)), participants, total })
    }
}

/// What the reviewer of a list sees: the list, its filing and its participants.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RosterSubject {
    pub roster: Roster,
    /// The filing the list belongs to
    pub filing: super::FilingView,
    /// The list's first 500 participants, in upload order
    pub participants: Vec<Participant>,
    /// How many participants the list has in all
    pub total: i64,
}
