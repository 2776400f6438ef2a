//! Import of credit history from a province's old system (`jijiao import credits`): a CSV or xlsx file
//! with the columns id_number, name, year, subject, hours, source, reference. Every row is checked and
//! written on its own (one bad row never blocks or half-writes another), idempotent by reference, and
//! answered in a report.

use std::collections::HashMap;
use std::path::Path;

use chrono::Datelike;
use serde::Serialize;

use super::{NewCredit, SOURCES, SUBJECTS, grant_tx, parse_hours};
use crate::db::{Db, q};

pub const COLUMNS: &[&str] = &["id_number", "name", "year", "subject", "hours", "source", "reference"];

#[derive(Debug, Clone, Serialize)]
pub struct RowOutcome {
    /// The row number in the file (the header is row 1).
    pub row: usize,
    /// imported, duplicate or error
    pub status: &'static str,
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub imported: usize,
    pub duplicates: usize,
    pub errors: usize,
    pub rows: Vec<RowOutcome>,
}

/// Reads the file into rows keyed by column name. `.xlsx`/`.xls`/`.ods` go through calamine, anything else
/// is read as UTF-8 CSV.
pub fn read_file(path: &Path) -> anyhow::Result<Vec<HashMap<String, String>>> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    let table: Vec<Vec<String>> = if matches!(ext.as_str(), "xlsx" | "xls" | "ods") {
        use calamine::{Reader, open_workbook_auto};
        let mut book = open_workbook_auto(path)?;
        let sheet = book.sheet_names().first().cloned().ok_or_else(|| anyhow::anyhow!("the workbook has no sheet"))?;
        let range = book.worksheet_range(&sheet)?;
        range.rows().map(|row| row.iter().map(cell_text).collect()).collect()
    } else {
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_path(path)?;
        reader.records().map(|r| r.map(|rec| rec.iter().map(str::to_owned).collect())).collect::<Result<_, _>>()?
    };
    let mut rows = table.into_iter();
    let header: Vec<String> =
        rows.next().unwrap_or_default().iter().map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase()).collect();
    let missing: Vec<&str> = COLUMNS.iter().copied().filter(|c| !header.iter().any(|h| h == c)).collect();
    if !missing.is_empty() {
        anyhow::bail!("the file lacks the columns {} (expected: {})", missing.join(", "), COLUMNS.join(", "));
    }
    Ok(rows.map(|row| header.iter().cloned().zip(row.into_iter().chain(std::iter::repeat(String::new()))).collect()).collect())
}

/// Spreadsheet cells as text; whole numbers lose the ".0" spreadsheets add.
fn cell_text(cell: &calamine::Data) -> String {
    match cell {
        calamine::Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
        other => other.to_string(),
    }
}

fn code_of<'a>(table: &'a [(&'a str, &'a str)], text: &str) -> Option<&'a str> {
    let text = text.trim();
    table.iter().find(|(code, label)| *code == text || *label == text || label.starts_with(text) && !text.is_empty()).map(|(code, _)| *code)
}

/// Subject as written in old systems: the codes, 公需/公共/专业 or the full labels.
fn subject_code(text: &str) -> Option<&'static str> {
    match text.trim() {
        "公需" | "公共" | "公共科目" => Some("public"),
        "专业" => Some("professional"),
        other => code_of(SUBJECTS, other),
    }
}

/// Checks and imports every row; `progress` is told after each one.
pub async fn import_rows(
    db: &Db,
    tenant: &str,
    rows: &[HashMap<String, String>],
    mut progress: impl FnMut(usize),
) -> anyhow::Result<Report> {
    let mut report = Report::default();
    for (i, row) in rows.iter().enumerate() {
        let outcome = import_row(db, tenant, i + 2, row).await?;
        match outcome.status {
            "imported" => report.imported += 1,
            "duplicate" => report.duplicates += 1,
            _ => report.errors += 1,
        }
        report.rows.push(outcome);
        progress(i + 1);
    }
    Ok(report)
}

async fn import_row(db: &Db, tenant: &str, row_number: usize, row: &HashMap<String, String>) -> anyhow::Result<RowOutcome> {
    let field = |name: &str| row.get(name).map(|v| v.trim()).unwrap_or_default();
    let error = |code: &'static str, message: String| RowOutcome { row: row_number, status: "error", code, message };
    let id_number = match crate::ids::check_id_number(field("id_number")) {
        Ok(id) => id,
        Err(msg) => return Ok(error("bad_id_number", msg.to_owned())),
    };
    let person: Option<(i64, String)> =
        db.opt(q("SELECT id, name FROM people WHERE tenant_id = $1 AND id_number = $2").bind(tenant).bind(&id_number)).await?;
    let Some((person_id, name)) = person else {
        return Ok(error("unknown_person", "平台中没有此身份证号的人员".into()));
    };
    if name != field("name") {
        return Ok(error("name_mismatch", "姓名与身份证号不符".into()));
    }
    let this_year = i64::from(chrono::Utc::now().year());
    let year = match field("year").parse::<i64>() {
        Ok(y) if (1990..=this_year).contains(&y) => y,
        _ => return Ok(error("bad_year", format!("计入年度应为 1990 到 {this_year} 之间的年份"))),
    };
    let Some(subject) = subject_code(field("subject")) else {
        return Ok(error("bad_subject", "科目应为 public（公需科目）或 professional（专业科目）".into()));
    };
    let hours = match parse_hours(field("hours")) {
        Ok(h) if h <= 100_000 => h,
        Ok(_) => return Ok(error("bad_hours", "单条记录的学时不能超过 1000".into())),
        Err(msg) => return Ok(error("bad_hours", msg.into())),
    };
    let Some(source) = code_of(SOURCES, field("source")) else {
        return Ok(error("bad_source", "来源应为 online、offline、activity、recognized 或 exemption".into()));
    };
    let reference = field("reference");
    if reference.is_empty() || reference.chars().count() > 100 {
        return Ok(error("bad_reference", "每行须有 100 字以内的唯一编号（reference）".into()));
    }
    let source_ref = format!("import:{reference}");
    let mut tx = db.begin().await?;
    let credit = NewCredit { person_id, year, subject, hours, source, source_ref: &source_ref, course: None, granted_by: None };
    let inserted = grant_tx(&mut tx, tenant, credit).await?;
    tx.commit().await?;
    Ok(match inserted {
        Some(_) => RowOutcome { row: row_number, status: "imported", code: "imported", message: String::new() },
        None => RowOutcome { row: row_number, status: "duplicate", code: "duplicate", message: "此编号已导入过".into() },
    })
}
