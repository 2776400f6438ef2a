//! Spreadsheets people upload and download: reading an uploaded xlsx or CSV table in bounded memory and
//! time, and making exported cell text safe to open.
//!
//! Uploads are hostile input. A workbook is a zip of XML, and a 2 KB file can declare a cell at XFD1048576
//! (a dense reader would allocate half a terabyte) or a million rows. So the reader streams cells, never
//! builds a dense grid, refuses a workbook whose parts inflate past [`MAX_INFLATED_BYTES`], and stops with
//! an error as soon as a row past the caller's limit or the deadline arrives. It is synchronous and
//! CPU-bound: callers in a request run it on a blocking thread ([`read_table_blocking`]).

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// What a table upload must look like.
#[derive(Clone, Copy, Debug)]
pub struct TableSpec<'a> {
    /// Columns that must be in the header row (their code names).
    pub required: &'a [&'a str],
    /// Other headers (such as Chinese ones, "身份证号" → "id_number") mapped to code names: (name, alias).
    pub aliases: &'a [(&'a str, &'a str)],
    /// Most data rows (the header not counted).
    pub max_rows: usize,
}

/// One data row keyed by column code name; missing cells are empty strings.
pub type Row = HashMap<String, String>;

/// Cells right of this column are ignored: no import has more than a dozen columns.
pub const MAX_COLUMNS: u32 = 64;
/// The most a workbook's parts may inflate to, all together (a real 20,000-row sheet is a few MB).
pub const MAX_INFLATED_BYTES: u64 = 256 * 1024 * 1024;
/// How long reading one upload may take (the request timeout is longer).
pub const READ_TIME_LIMIT: Duration = Duration::from_secs(20);

/// Reads an upload on a blocking thread, so a large file never stalls the async workers.
pub async fn read_table_blocking(bytes: Vec<u8>, filename: String, spec: TableSpec<'static>) -> anyhow::Result<Vec<Row>> {
    let deadline = Instant::now() + READ_TIME_LIMIT;
    tokio::task::spawn_blocking(move || read_table(&bytes, &filename, spec, deadline)).await?
}

/// Reads a spreadsheet (`.xlsx`) or UTF-8 CSV into rows keyed by column name. The first row with any
/// cell names the columns; `aliases` map other headers to code names, and every `required` column must be
/// present. More than `max_rows` data rows, or reading past `deadline`, is an error that says so.
pub fn read_table(bytes: &[u8], filename: &str, spec: TableSpec<'_>, deadline: Instant) -> anyhow::Result<Vec<Row>> {
    let ext = filename.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let mut grid = Grid::new(spec.max_rows, deadline);
    match ext.as_str() {
        "xlsx" | "xlsm" => read_xlsx(bytes, &mut grid)?,
        "xls" | "ods" | "et" => anyhow::bail!("暂不支持 .{ext} 格式，请在 Excel 或 WPS 中另存为 .xlsx 或 CSV UTF-8 后上传"),
        _ => read_csv(bytes, &mut grid)?,
    }
    grid.into_rows(spec)
}

/// Rows as they arrive, with the limits checked on every cell.
struct Grid {
    rows: Vec<Vec<String>>,
    max_rows: usize,
    deadline: Instant,
    /// Row index in the file of the header (the first row with a cell).
    header_at: Option<u32>,
}

impl Grid {
    fn new(max_rows: usize, deadline: Instant) -> Grid {
        Grid { rows: Vec::new(), max_rows, deadline, header_at: None }
    }

    /// Puts a cell's text at (row, column) of the file, both counted from 0.
    fn put(&mut self, row: u32, column: u32, text: String) -> anyhow::Result<()> {
        if Instant::now() > self.deadline {
            anyhow::bail!("文件过大，未能在 {} 秒内读完，请拆分后上传", READ_TIME_LIMIT.as_secs());
        }
        if text.is_empty() {
            return Ok(());
        }
        let header_at = *self.header_at.get_or_insert(row);
        // Rows above the header (a title line written after the header) cannot be placed: ignore them.
        let Some(index) = row.checked_sub(header_at) else { return Ok(()) };
        let index = index as usize;
        if index > self.max_rows {
            anyhow::bail!("文件超过 {} 行数据（不含列名行），请拆分后上传", self.max_rows);
        }
        if column >= MAX_COLUMNS {
            return Ok(());
        }
        if self.rows.len() <= index {
            self.rows.resize_with(index + 1, Vec::new);
        }
        let cells = &mut self.rows[index];
        let column = column as usize;
        if cells.len() <= column {
            cells.resize(column + 1, String::new());
        }
        cells[column] = text;
        Ok(())
    }

    fn into_rows(self, spec: TableSpec<'_>) -> anyhow::Result<Vec<Row>> {
        let mut rows = self.rows.into_iter();
        let alias_of = |c: &str| spec.aliases.iter().find(|(name, _)| *name == c).map_or(c.to_owned(), |(_, alias)| (*alias).to_owned());
        let header: Vec<String> = rows
            .next()
            .unwrap_or_default()
            .iter()
            .map(|h| {
                let h = h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase();
                spec.aliases.iter().find(|(_, alias)| *alias == h).map_or(h, |(name, _)| (*name).to_owned())
            })
            .collect();
        let missing: Vec<String> =
            spec.required.iter().copied().filter(|c| !header.iter().any(|h| h.as_str() == *c)).map(alias_of).collect();
        if !missing.is_empty() {
            let named: Vec<String> = spec.required.iter().copied().map(alias_of).collect();
            anyhow::bail!("文件缺少这些列：{}（第一行应为列名：{}）", missing.join(", "), named.join(", "));
        }
        let columns: Vec<(usize, &String)> = header.iter().enumerate().filter(|(_, h)| !h.is_empty()).collect();
        Ok(rows.map(|row| columns.iter().map(|(i, h)| ((*h).clone(), row.get(*i).cloned().unwrap_or_default())).collect()).collect())
    }
}

fn read_xlsx(bytes: &[u8], grid: &mut Grid) -> anyhow::Result<()> {
    use calamine::{Reader, Xlsx};
    let unreadable = |e: &dyn std::fmt::Display| anyhow::anyhow!("无法读取表格文件（{e}），请确认是 Excel 保存的 .xlsx 文件");
    check_inflated_size(bytes).map_err(|e| match e {
        Inflated::TooLarge => anyhow::anyhow!("表格文件解压后过大，请拆分后上传"),
        Inflated::Unreadable(e) => unreadable(&e),
    })?;
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    let sheet = book.sheet_names().first().cloned().ok_or_else(|| anyhow::anyhow!("表格文件中没有工作表"))?;
    let mut cells = book.worksheet_cells_reader(&sheet).map_err(|e| anyhow::anyhow!("无法读取工作表 {sheet}（{e}）"))?;
    while let Some(cell) = cells.next_cell().map_err(|e| anyhow::anyhow!("无法读取工作表 {sheet}（{e}）"))? {
        let (row, column) = cell.get_position();
        grid.put(row, column, cell_text(&calamine::Data::from(cell.get_value().clone())))?;
    }
    Ok(())
}

enum Inflated {
    TooLarge,
    Unreadable(String),
}

/// The sizes the zip's central directory declares for its parts, added up: a zip bomb is refused before
/// anything is inflated (the zip reader then stops each part at its declared size).
fn check_inflated_size(bytes: &[u8]) -> Result<(), Inflated> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| Inflated::Unreadable(e.to_string()))?;
    let mut total: u64 = 0;
    for index in 0..zip.len() {
        let part = zip.by_index_raw(index).map_err(|e| Inflated::Unreadable(e.to_string()))?;
        total = total.saturating_add(part.size());
        if total > MAX_INFLATED_BYTES {
            return Err(Inflated::TooLarge);
        }
    }
    Ok(())
}

fn read_csv(bytes: &[u8], grid: &mut Grid) -> anyhow::Result<()> {
    if std::str::from_utf8(bytes).is_err() {
        anyhow::bail!("CSV 文件应为 UTF-8 编码（可在 Excel 中“另存为 CSV UTF-8”）");
    }
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
    let mut record = csv::StringRecord::new();
    let mut row: u32 = 0;
    while reader.read_record(&mut record).map_err(|e| anyhow::anyhow!("CSV 文件格式有误（{e}）"))? {
        for (column, text) in record.iter().enumerate() {
            grid.put(row, u32::try_from(column).unwrap_or(u32::MAX), text.to_owned())?;
        }
        row = row.saturating_add(1);
    }
    Ok(())
}

/// Spreadsheet cells as text; whole numbers lose the ".0" spreadsheets add.
fn cell_text(cell: &calamine::Data) -> String {
    match cell {
        calamine::Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        other => other.to_string(),
    }
}

/// Text for a cell of an exported spreadsheet or CSV: text that a spreadsheet program would read as a
/// formula (starting with `=`, `+`, `-`, `@`, or a tab or carriage return before one) gets a leading
/// apostrophe, so opening or editing an export never runs what someone typed into a form.
pub fn export_text(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// A workbook as a download: `ascii_name` for old clients, `name` (Chinese) for the rest, never cached.
pub fn xlsx_download(ascii_name: &str, name: &str, bytes: Vec<u8>) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{}", urlencoding::encode(name))),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: TableSpec<'static> =
        TableSpec { required: &["id_number", "score"], aliases: &[("id_number", "身份证号")], max_rows: 3 };

    fn later() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    #[test]
    fn csv_rows_keyed_by_header_with_aliases() {
        let rows = read_table("身份证号,score,extra\n1,90\n2,80,x\n".as_bytes(), "a.csv", SPEC, later()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["id_number"], "1");
        assert_eq!(rows[0]["extra"], "");
        assert_eq!(rows[1]["extra"], "x");
    }

    #[test]
    fn row_limit_stops_reading() {
        let text = "id_number,score\n1,1\n2,2\n3,3\n4,4\n5,5\n";
        let err = read_table(text.as_bytes(), "a.csv", SPEC, later()).unwrap_err().to_string();
        assert!(err.contains("超过 3 行"), "{err}");
        let ok = read_table("id_number,score\n1,1\n2,\n3,3\n".as_bytes(), "a.csv", SPEC, later()).unwrap();
        assert_eq!(ok.len(), 3);
        assert_eq!(ok[1]["score"], "");
    }

    #[test]
    fn missing_columns_named_by_alias() {
        let err = read_table("score\n1\n".as_bytes(), "a.csv", SPEC, later()).unwrap_err().to_string();
        assert!(err.contains("缺少这些列：身份证号"), "{err}");
    }

    #[test]
    fn deadline_passed_is_an_error() {
        let err = read_table("id_number,score\n1,1\n".as_bytes(), "a.csv", SPEC, Instant::now() - Duration::from_secs(1)).unwrap_err();
        assert!(err.to_string().contains("秒内读完"));
    }

    #[test]
    fn old_formats_are_refused_with_advice() {
        let err = read_table(b"\xd0\xcf\x11\xe0", "a.xls", SPEC, later()).unwrap_err().to_string();
        assert!(err.contains(".xlsx"), "{err}");
    }

    #[test]
    fn formula_text_is_escaped_for_exports() {
        assert_eq!(export_text("=cmd|' /C calc'!A"), "'=cmd|' /C calc'!A");
        assert_eq!(export_text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(export_text("-1+1"), "'-1+1");
        assert_eq!(export_text("张三"), "张三");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Any bytes under any of the accepted names are read or refused, never a panic, and never more
            /// rows than the limit.
            #[test]
            fn any_upload_is_read_or_refused(bytes in proptest::collection::vec(any::<u8>(), 0..4096), name in "(x\\.xlsx|x\\.csv|x\\.xlsm|x)") {
                if let Ok(rows) = read_table(&bytes, &name, SPEC, later()) {
                    prop_assert!(rows.len() <= SPEC.max_rows);
                }
            }

            /// CSV made of arbitrary cells, with the header present, reads back within the limit.
            #[test]
            fn any_csv_cells_are_read_or_refused(cells in proptest::collection::vec("[^\\x00]{0,12}", 0..40)) {
                let mut csv = String::from("身份证号,score\n");
                for pair in cells.chunks(2) {
                    csv.push_str(&pair.join(","));
                    csv.push('\n');
                }
                if let Ok(rows) = read_table(csv.as_bytes(), "x.csv", SPEC, later()) {
                    prop_assert!(rows.len() <= SPEC.max_rows);
                }
            }

            /// Exported text never begins as a formula.
            #[test]
            fn exported_text_never_starts_a_formula(text in any::<String>()) {
                let safe = export_text(&text);
                prop_assert!(!safe.starts_with(['=', '+', '-', '@', '\t', '\r']));
                prop_assert!(safe.ends_with(text.as_str()));
            }
        }
    }
}
