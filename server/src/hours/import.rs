//! Import of credit history from a province's old system (`jijiao import credits`): a CSV or xlsx file
//! with the columns id_number, name, year, subject, hours, source, reference. Every row is checked and
//! written on its own (one bad row never blocks or half-writes another), idempotent by reference, and
//! answered in a report.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::{NewCredit, SOURCES, grant_tx, parse_hours};
use crate::db::{Db, q};

pub const COLUMNS: &[&str] = &["id_number", "name", "year", "subject", "hours", "source", "reference"];

/// The columns' Chinese headers, which a file may use instead of the code names: (code, header).
pub const HEADERS: &[(&str, &str)] = &[
    ("id_number", "身份证号"),
    ("name", "姓名"),
    ("year", "计入年度"),
    ("subject", "科目"),
    ("hours", "学时"),
    ("source", "来源"),
    ("reference", "记录编号"),
];

crate::codes::code_enum! {
    /// What became of one row of an import file.
    pub enum RowStatus {
        Imported = ("imported", "已导入"),
        Duplicate = ("duplicate", "重复"),
        Error = ("error", "出错"),
    }
}

/// What became of one row of the file.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RowOutcome {
    /// The row number in the file (the header is row 1).
    pub row: usize,
    pub status: RowStatus,
    /// `imported`, `duplicate`, or why the row was refused (e.g. `unknown_person`)
    pub code: &'static str,
    pub message: String,
}

/// An import's report: the counts and every row's outcome.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
#[schema(as = CreditImportReport)]
pub struct Report {
    pub imported: usize,
    pub duplicates: usize,
    pub errors: usize,
    pub rows: Vec<RowOutcome>,
}

/// The table an import file must hold.
const SPEC: crate::spreadsheet::TableSpec<'static> =
    crate::spreadsheet::TableSpec { required: COLUMNS, aliases: HEADERS, max_rows: UPLOAD_MAX_ROWS };

/// Reads the file into rows keyed by column name (`jijiao import credits`: an operator's own file on the
/// server, so up to a full worksheet of rows and no time limit).
pub fn read_file(path: &Path) -> anyhow::Result<Vec<HashMap<String, String>>> {
    let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("无法读取文件 {}：{e}", path.display()))?;
    let spec = crate::spreadsheet::TableSpec { max_rows: 1_048_575, ..SPEC };
    let no_deadline = std::time::Instant::now() + std::time::Duration::from_secs(24 * 3600);
    crate::spreadsheet::read_table(&bytes, path.file_name().and_then(|n| n.to_str()).unwrap_or_default(), spec, no_deadline)
}

fn code_of<'a>(table: &'a [(&'a str, &'a str)], text: &str) -> Option<&'a str> {
    let text = text.trim();
    table.iter().find(|(code, label)| *code == text || *label == text || label.starts_with(text) && !text.is_empty()).map(|(code, _)| *code)
}

/// Every province's words for the subjects: old systems write either, whichever tenant imports.
const SUBJECT_WORDS: &[(&str, &str)] = &[("public", "公需科目"), ("public", "公共科目"), ("professional", "专业科目")];

/// Subject as written in old systems: the codes, 公需/公共/专业 or the full words.
fn subject_code(text: &str) -> Option<&'static str> {
    code_of(SUBJECT_WORDS, text)
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
            RowStatus::Imported => report.imported += 1,
            RowStatus::Duplicate => report.duplicates += 1,
            RowStatus::Error => report.errors += 1,
        }
        report.rows.push(outcome);
        progress(i + 1);
    }
    Ok(report)
}

async fn import_row(db: &Db, tenant: &str, row_number: usize, row: &HashMap<String, String>) -> anyhow::Result<RowOutcome> {
    let field = |name: &str| row.get(name).map(|v| v.trim()).unwrap_or_default();
    let error = |code: &'static str, message: String| RowOutcome { row: row_number, status: RowStatus::Error, code, message };
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
    let this_year = crate::china_time::this_year();
    let year = match field("year").parse::<i64>() {
        Ok(y) if (1990..=this_year).contains(&y) => y,
        _ => return Ok(error("bad_year", format!("计入年度应为 1990 到 {this_year} 之间的年份"))),
    };
    let Some(subject) = subject_code(field("subject")) else {
        return Ok(error("bad_subject", "科目应为公需科目（公共科目）或专业科目".into()));
    };
    let hours = match parse_hours(field("hours")) {
        Ok(h) if h <= 100_000 => h,
        Ok(_) => return Ok(error("bad_hours", "单条记录的学时不能超过 1000".into())),
        Err(msg) => return Ok(error("bad_hours", msg.into())),
    };
    let Some(source) = code_of(SOURCES, field("source")) else {
        return Ok(error("bad_source", format!("来源应为{}之一", SOURCES.iter().map(|(_, label)| *label).collect::<Vec<_>>().join("、"))));
    };
    let reference = field("reference");
    if reference.is_empty() || reference.chars().count() > 100 {
        return Ok(error("bad_reference", "每行须有 100 字以内的唯一记录编号".into()));
    }
    let source_ref = format!("import:{reference}");
    let mut tx = db.begin().await?;
    let credit = NewCredit { person_id, year, subject, hours, source, source_ref: &source_ref, course: None, granted_by: None };
    let inserted = grant_tx(&mut tx, tenant, credit).await?;
    tx.commit().await?;
    Ok(match inserted {
        Some(_) => RowOutcome { row: row_number, status: RowStatus::Imported, code: "imported", message: String::new() },
        None => RowOutcome { row: row_number, status: RowStatus::Duplicate, code: "duplicate", message: "此编号已导入过".into() },
    })
}

/// Most rows one upload may carry (larger histories go through `jijiao import credits`).
pub const UPLOAD_MAX_ROWS: usize = 20_000;

/// An upload from the admin page or the API: authorize (casbin `credits import`: the tenant's province
/// and system admins, whose scope is the whole tenant), read, import row by row, audit.
pub async fn import_upload(
    state: &crate::state::AppState,
    user: &crate::auth::CurrentUser,
    filename: &str,
    bytes: &[u8],
) -> Result<Report, crate::error::AppError> {
    use crate::error::AppError;
    user.authorize(state, "credits", "import").await?;
    if bytes.is_empty() {
        return Err(AppError::invalid([("file".to_owned(), "请选择要导入的 CSV 或 Excel 文件".to_owned())].into()));
    }
    let rows = crate::spreadsheet::read_table_blocking(bytes.to_vec(), filename.to_owned(), SPEC)
        .await
        .map_err(|e| AppError::invalid([("file".to_owned(), e.to_string())].into()))?;
    if rows.is_empty() {
        return Err(AppError::invalid([("file".to_owned(), "文件中除列名外没有数据行".to_owned())].into()));
    }
    let tenant = user.tenant_code();
    let report = import_rows(&state.db, tenant, &rows, |_| {}).await?;
    crate::audit::record(
        &state.db,
        tenant,
        Some(user.account.id),
        "import.credits",
        "credits",
        None,
        serde_json::json!({"file": filename, "rows": rows.len(), "imported": report.imported, "duplicates": report.duplicates, "errors": report.errors}),
    )
    .await?;
    Ok(report)
}

/// The `file` part (and the CSRF field, for the page) of a multipart upload.
async fn read_upload(mut multipart: axum::extract::Multipart) -> Result<(String, Vec<u8>, Option<String>), crate::error::AppError> {
    let bad = |_| crate::error::AppError::bad_request("bad_form", "上传内容无法读取");
    let (mut filename, mut bytes, mut csrf) = (String::new(), Vec::new(), None);
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        match field.name().unwrap_or_default() {
            "file" => {
                filename = field.file_name().unwrap_or("upload.csv").to_owned();
                bytes = field.bytes().await.map_err(bad)?.to_vec();
            }
            crate::auth::csrf::FIELD => csrf = Some(field.text().await.map_err(bad)?),
            _ => {}
        }
    }
    Ok((filename, bytes, csrf))
}

#[utoipa::path(post, path = "/credits/imports", tag = "hours",
    request_body(content_type = "multipart/form-data", description = "`file`: CSV (UTF-8) or xlsx with the columns id_number, name, year, subject, hours, source, reference"),
    responses((status = 200, body = Report, description = "Each row imported on its own, idempotent by reference"),
              (status = 422, description = "The file is unreadable, lacks columns or is too long; nothing imported"),
              (status = 403, description = "Not a province or system admin")))]
pub async fn api_import(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
    user: crate::auth::CurrentUser,
    multipart: axum::extract::Multipart,
) -> Result<axum::Json<Report>, crate::error::AppError> {
    user.authorize(&state, "credits", "import").await?;
    let (filename, bytes, _) = read_upload(multipart).await?;
    Ok(axum::Json(import_upload(&state, &user, &filename, &bytes).await?))
}

pub fn api_routes() -> OpenApiRouter<crate::state::AppState> {
    // The body is capped by the server's upload limit (`upload_limit_mb`), not axum's 2 MB default.
    OpenApiRouter::new().routes(routes!(api_import).layer(axum::extract::DefaultBodyLimit::disable()))
}

pub fn page_routes() -> axum::Router<crate::state::AppState> {
    axum::Router::new()
        .route("/admin/import", axum::routing::get(import_page).post(import_submit).layer(axum::extract::DefaultBodyLimit::disable()))
}

async fn import_page(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
    page: crate::web::Page,
) -> Result<axum::response::Response, crate::error::AppError> {
    let user = page.require_user()?;
    user.authorize(&state, "credits", "import").await?;
    page.render(
        "import.html",
        serde_json::json!({"headers": HEADERS.iter().map(|(_, header)| header).collect::<Vec<_>>(),
                           "sources": SOURCES.iter().map(|(_, label)| label).collect::<Vec<_>>()}),
    )
}

async fn import_submit(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
    page: crate::web::Page,
    headers: axum::http::HeaderMap,
    multipart: axum::extract::Multipart,
) -> Result<axum::response::Response, crate::error::AppError> {
    let user = page.require_user()?;
    user.authorize(&state, "credits", "import").await?;
    let (filename, bytes, csrf) = read_upload(multipart).await?;
    crate::auth::csrf::verify(&headers, csrf.as_deref())?;
    match import_upload(&state, user, &filename, &bytes).await {
        Ok(report) => {
            // Failed rows first: they are what the operator has to fix.
            let mut rows: Vec<&RowOutcome> = report.rows.iter().collect();
            rows.sort_by_key(|r| (r.status != RowStatus::Error, r.row));
            let shown: Vec<&RowOutcome> = rows.into_iter().take(1000).collect();
            page.render(
                "import.html",
                serde_json::json!({"columns": COLUMNS, "filename": filename, "report": {"imported": report.imported,
                    "duplicates": report.duplicates, "errors": report.errors, "total": report.rows.len()}, "rows": shown}),
            )
        }
        Err(err) if err.status == axum::http::StatusCode::UNPROCESSABLE_ENTITY => page.render_status(
            err.status,
            "import.html",
            serde_json::json!({"columns": COLUMNS, "filename": filename, "error": err.fields.get("file").unwrap_or(&err.message)}),
        ),
        Err(err) => Err(err),
    }
}
