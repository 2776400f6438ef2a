//! Lists of people uploaded as a table — a class's scores, the participants of an offline training with
//! their hours: each row names a person of the tenant by ID number (and name). Every row is checked
//! before anything is written; any problem answers one 422 listing every row's problems, so the admin
//! fixes the file once.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::json;

use crate::db::Db;
use crate::error::AppError;
use crate::ids;
use crate::spreadsheet::{Row, TableSpec};

/// One row's problem.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RowError {
    /// The row number (in a sheet the header is row 1; typed lines count from 1)
    pub row: usize,
    pub field: String,
    pub message: String,
}

/// Every problem found so far.
#[derive(Debug, Default)]
pub struct Problems(pub Vec<RowError>);

impl Problems {
    pub fn add(&mut self, row: usize, field: &str, message: impl Into<String>) {
        self.0.push(RowError { row, field: field.to_owned(), message: message.into() });
    }

    /// 422 listing every row's problem (`rows`) when there is any; `nothing` says what was not saved.
    pub fn finish(self, nothing: &str) -> Result<(), AppError> {
        if self.0.is_empty() {
            return Ok(());
        }
        let count = self.0.len();
        Err(AppError::invalid([("file".to_owned(), format!("有 {count} 处错误，{nothing}，请修改后重新提交"))].into())
            .with_extra(json!({"rows": self.0})))
    }
}

/// A row of a list with its number (in a sheet the header is row 1; typed lines count from 1).
pub type Numbered = (usize, Row);

/// Reads an uploaded table (xlsx or UTF-8 CSV) into numbered rows; an unreadable, column-less, too long
/// or empty file is a 422 on `file`.
pub async fn read_upload(bytes: &[u8], filename: &str, spec: TableSpec<'static>, empty: &str) -> Result<Vec<Numbered>, AppError> {
    let rows = crate::spreadsheet::read_table_blocking(bytes.to_vec(), filename.to_owned(), spec)
        .await
        .map_err(|e| AppError::invalid([("file".to_owned(), e.to_string())].into()))?;
    if rows.is_empty() {
        return Err(AppError::invalid([("file".to_owned(), empty.to_owned())].into()));
    }
    Ok(rows.into_iter().enumerate().map(|(i, row)| (i + 2, row)).collect())
}

/// A row's trimmed cell ("" when missing).
pub fn cell(row: &Row, key: &str) -> String {
    row.get(key).map(String::as_str).unwrap_or_default().trim().to_owned()
}

/// The person each row names (`id_number`, and `name` which must match when given, or always when
/// `name_required`), in row order: `None` for a row with a problem, which is added to `problems` under
/// the row's number. The same person twice is a problem of the later row.
pub async fn resolve_people(
    db: &Db,
    tenant: &str,
    rows: &[Numbered],
    name_required: bool,
    problems: &mut Problems,
) -> Result<Vec<Option<i64>>, sqlx::Error> {
    let wanted: BTreeSet<String> = rows.iter().filter_map(|(_, row)| ids::check_id_number(&cell(row, "id_number")).ok()).collect();
    let people = super::completions::people_by_id_number(db, tenant, &wanted).await?;
    let mut seen: BTreeMap<i64, usize> = BTreeMap::new();
    let mut found = Vec::with_capacity(rows.len());
    for &(line, ref row) in rows {
        let person = match ids::check_id_number(&cell(row, "id_number")) {
            Err(message) => {
                problems.add(line, "id_number", message);
                None
            }
            Ok(id) => match people.get(&id) {
                None => {
                    problems.add(line, "id_number", "平台中没有这个身份证号的人员");
                    None
                }
                Some((person_id, name)) => {
                    let given = cell(row, "name");
                    if given.is_empty() && name_required {
                        problems.add(line, "name", "请填写姓名");
                    } else if !given.is_empty() && given != *name {
                        problems.add(line, "name", format!("姓名与身份证号不符（平台中为 {}）", ids::mask_name(name)));
                    }
                    match seen.get(person_id) {
                        Some(first) => problems.add(line, "id_number", format!("与第 {first} 行是同一人")),
                        None => {
                            seen.insert(*person_id, line);
                        }
                    }
                    Some(*person_id)
                }
            },
        };
        found.push(person);
    }
    Ok(found)
}
