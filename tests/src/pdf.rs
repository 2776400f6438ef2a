//! Looking into PDFs the way a person would: the text poppler extracts (`pdftotext`), the page count
//! (`pdfinfo`), and the QR codes on the pages rendered at 150 dpi (`pdftoppm`) and decoded in Rust
//! (rqrr). poppler-utils is a Debian package that `.ci/run` installs.

use std::path::Path;
use std::process::Command;

/// Keeps a copy of a PDF a test made in `$JIJIAO_TEST_PDF_DIR`, when set, for a person to look at.
pub fn keep(name: &str, bytes: &[u8]) {
    if let Some(dir) = std::env::var_os("JIJIAO_TEST_PDF_DIR") {
        let _ = std::fs::create_dir_all(&dir);
        std::fs::write(Path::new(&dir).join(name), bytes).expect("keep the PDF");
    }
}

/// Writes the PDF to a temporary file and runs a poppler tool on it.
fn poppler(bytes: &[u8], tool: &str, args: &[&str], run: impl FnOnce(&mut Command, &Path)) -> std::process::Output {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("document.pdf");
    std::fs::write(&file, bytes).expect("write the PDF");
    let mut command = Command::new(tool);
    command.args(args).current_dir(dir.path());
    run(&mut command, &file);
    let output = command.output().unwrap_or_else(|e| panic!("cannot run {tool} (Debian package poppler-utils): {e}"));
    assert!(output.status.success(), "{tool} failed: {}", String::from_utf8_lossy(&output.stderr));
    output
}

/// The PDF's text as `pdftotext` extracts it (UTF-8, in reading order).
pub fn pdf_text(bytes: &[u8]) -> String {
    let output = poppler(bytes, "pdftotext", &["-enc", "UTF-8"], |c, file| {
        c.arg(file).arg("-");
    });
    String::from_utf8(output.stdout).expect("pdftotext writes UTF-8")
}

/// A field of `pdfinfo`'s report (`Pages`, `Title`, `Subject`, `Keywords` …), trimmed.
pub fn pdf_info(bytes: &[u8], field: &str) -> Option<String> {
    let output = poppler(bytes, "pdfinfo", &["-enc", "UTF-8"], |c, file| {
        c.arg(file);
    });
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    report.lines().find_map(|line| line.strip_prefix(field)?.strip_prefix(':').map(|v| v.trim().to_owned()))
}

/// `pdffonts`' table of the fonts in the PDF (name, type, encoding, embedded, subset, Unicode map).
pub fn pdf_fonts(bytes: &[u8]) -> String {
    let output = poppler(bytes, "pdffonts", &[], |c, file| {
        c.arg(file);
    });
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The number of pages.
pub fn pdf_pages(bytes: &[u8]) -> usize {
    pdf_info(bytes, "Pages").and_then(|p| p.parse().ok()).expect("pdfinfo reports the page count")
}

/// The content of every QR code found, page by page (pages without one give nothing), with the pages
/// rendered at 150 dpi.
pub fn pdf_qrs(bytes: &[u8]) -> Vec<String> {
    pdf_qrs_at(bytes, 150)
}

fn pdf_qrs_at(bytes: &[u8], dpi: u32) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let prefix = dir.path().join("page");
    let resolution = dpi.to_string();
    poppler(bytes, "pdftoppm", &["-r", &resolution, "-png"], |c, file| {
        c.arg(file).arg(&prefix);
    });
    let mut pages: Vec<_> = std::fs::read_dir(dir.path())
        .expect("rendered pages")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    // pdftoppm pads page numbers to the same width, so names sort in page order.
    pages.sort();
    pages.iter().flat_map(|page| decode_qrs(page)).collect()
}

/// The content of the first QR code in the PDF; panics when there is none. A signed verification URL
/// makes a dense code: when the 150 dpi rendering does not decode, a 300 dpi one (still coarser than a
/// phone camera) must.
pub fn pdf_qr(bytes: &[u8]) -> String {
    pdf_qrs(bytes).into_iter().next().or_else(|| pdf_qrs_at(bytes, 300).into_iter().next()).expect("a QR code in the PDF")
}

fn decode_qrs(png: &Path) -> Vec<String> {
    let image = image::open(png).unwrap_or_else(|e| panic!("{}: {e}", png.display())).to_luma8();
    let (w, h) = image.dimensions();
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, |x, y| image.get_pixel(x as u32, y as u32).0[0]);
    prepared.detect_grids().into_iter().filter_map(|grid| grid.decode().ok().map(|(_, content)| content)).collect()
}
