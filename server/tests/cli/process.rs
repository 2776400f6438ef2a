//! Hostile uploads to the real server process (issue 20, defects 1 and 2): workbooks built part by part
//! (as an attacker would with Python's `zipfile`), thrown at `jijiao serve` run as its own process, so
//! the test sees whether it survives and how much memory it took.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

/// An xlsx file whose only worksheet's `<sheetData>` is what `rows` writes: the four standard parts plus
/// the sheet, deflated.
fn workbook_with_sheet_data(rows: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let parts = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
        ),
    ];
    for (name, text) in parts {
        zip.start_file(name, options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
    zip.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#)
        .unwrap();
    rows(&mut zip).unwrap();
    zip.write_all(b"</sheetData></worksheet>").unwrap();
    zip.finish().unwrap().into_inner()
}

/// The probe's 2 KB workbook: one cell at A1 and one at XFD1048576.
fn two_corner_workbook() -> Vec<u8> {
    workbook_with_sheet_data(|w| {
        w.write_all(br#"<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>"#)
    })
}

/// A workbook of `rows` one-cell rows (1,000,000 rows deflate to well under 1 MB).
fn long_workbook(rows: u32) -> Vec<u8> {
    workbook_with_sheet_data(|w| {
        for r in 1..=rows {
            write!(w, r#"<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>"#)?;
        }
        Ok(())
    })
}

/// `jijiao serve --demo` as a child process in a temporary data directory (SQLite in it unless the
/// environment names another database).
pub(crate) struct ServerProcess {
    pub(crate) base: String,
    child: Child,
    pub(crate) data: PathBuf,
}

impl ServerProcess {
    async fn start() -> ServerProcess {
        Self::start_with(&[]).await
    }

    /// Starts a server with extra `JIJIAO_*` settings.
    pub(crate) async fn start_with(env: &[(&str, &str)]) -> ServerProcess {
        let data = super::tempdir();
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let mut command = Command::new(super::jijiao_binary());
        command
            .args(["serve", "--demo"])
            .env("JIJIAO_BIND", format!("127.0.0.1:{port}"))
            .env("JIJIAO_DATA_DIR", &data)
            .env("JIJIAO_TENANTS_DIR", super::workspace().join("tenants"))
            .env("JIJIAO_PLUGINS_DIR", super::workspace().join("plugins/dist"))
            .env_remove("JIJIAO_DATABASE_URL")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command.spawn().expect("jijiao serve starts");
        let server = ServerProcess { base: format!("http://127.0.0.1:{port}"), child, data };
        let started = Instant::now();
        while !server.healthy().await {
            assert!(started.elapsed() < Duration::from_secs(120), "jijiao serve did not answer /healthz within 120 s");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        server
    }

    pub(crate) fn api(&self, tenant: &str, path: &str) -> String {
        format!("{}/t/{tenant}/api/v1{path}", self.base)
    }

    /// The process is running and answers `/healthz`.
    pub(crate) async fn healthy(&self) -> bool {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("client");
        matches!(client.get(format!("{}/healthz", self.base)).send().await, Ok(r) if r.status() == 200)
    }

    /// Whether the process has exited (and how).
    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().expect("child status")
    }

    /// Ends the process the hard way (`kill -9`): no shutdown, no finishing of open requests.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The process's peak resident memory so far, in MiB (`VmHWM` in /proc).
    fn peak_rss_mib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("/proc/PID/status");
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .expect("VmHWM in /proc/PID/status");
        kib / 1024
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

pub(crate) async fn json_of(res: reqwest::Response) -> (u16, serde_json::Value) {
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
}

fn upload(name: &str, bytes: Vec<u8>) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()))
}

/// Logs in through the API; the client keeps the session.
pub(crate) async fn login(server: &ServerProcess, tenant: &str, user_type: &str, seq: u32) -> reqwest::Client {
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let id_number = jijiao::demo::demo_id_number(tenant, seq);
    let body = json!({"user_type": user_type, "id_number": id_number, "password": jijiao::demo::DEMO_PASSWORD});
    assert_eq!(client.post(server.api(tenant, "/session")).json(&body).send().await.unwrap().status(), 200);
    client
}

/// A 2 KB workbook declaring a cell at XFD1048576, a workbook of a million rows and a 20 MB CSV are
/// refused with a clear message while the process stays up with its peak memory bounded; a good file
/// still imports afterwards. (Before the fix the first one aborted the process: "memory allocation of
/// 549755813888 bytes failed".)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_spreadsheets_leave_the_server_process_standing() {
    let mut server = ServerProcess::start().await;
    let admin = login(&server, "hunan", "province", 601).await;
    let baseline = server.peak_rss_mib();

    let corner = two_corner_workbook();
    assert!(corner.len() < 2048, "the probe's file is about 2 KB: {}", corner.len());
    let mut long_csv = String::from("id_number,name,year,subject,hours,source,reference\n");
    while long_csv.len() < 19 * 1024 * 1024 {
        long_csv.push_str("430102198001011014,x,2024,public,1,online,r\n");
    }
    let cases: Vec<(&str, Vec<u8>)> =
        vec![("corner.xlsx", corner), ("million.xlsx", long_workbook(1_000_000)), ("long.csv", long_csv.into_bytes())];
    for (name, bytes) in cases {
        let size = bytes.len();
        let res = admin.post(server.api("hunan", "/credits/imports")).multipart(upload(name, bytes)).send().await;
        let (status, body) = json_of(res.unwrap_or_else(|e| panic!("{name} ({size} bytes): no answer, did the server die? {e}"))).await;
        assert_eq!(status, 422, "{name}: {body}");
        assert!(body["fields"]["file"].as_str().unwrap().contains("20000 行"), "{name}: the message names the limit: {body}");
        assert!(server.exited().is_none(), "{name}: the server process exited");
        assert!(server.healthy().await, "{name}: the server no longer answers");
    }
    // The same for an institution's score import (every institution admin can reach it).
    let institution = login(&server, "henan", "institution", 301).await;
    let (_, classes) = json_of(institution.get(server.api("henan", "/classes")).send().await.unwrap()).await;
    let class = classes["items"][0]["id"].as_i64().expect("the demo class");
    let res = institution
        .post(server.api("henan", &format!("/classes/{class}/scores/import")))
        .multipart(upload("corner.xlsx", two_corner_workbook()))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(res).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"]["file"].as_str().unwrap().contains("2000 行"), "{body}");
    assert!(server.exited().is_none());

    let peak = server.peak_rss_mib();
    eprintln!("jijiao serve peak RSS: {baseline} MiB after start and login, {peak} MiB after the hostile uploads");
    assert!(peak < baseline + 300, "peak RSS grew from {baseline} MiB to {peak} MiB");

    // A good file still goes through.
    let good = "id_number,name,year,subject,hours,source,reference\n430102198001011014,湘一,2024,public,2,offline,after-probe\n";
    let (status, body) =
        json_of(admin.post(server.api("hunan", "/credits/imports")).multipart(upload("good.csv", good.into())).send().await.unwrap()).await;
    assert_eq!((status, body["imported"].as_i64()), (200, Some(1)), "{body}");
}
