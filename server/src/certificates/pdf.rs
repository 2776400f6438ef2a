//! Certificate PDFs (issue 5): certificates, recognition proofs and exemptions rendered as A4 pages with
//! krilla, Chinese text through a CJK font from a Debian package (embedded as a subset), a QR code of the
//! public verification URL drawn as vector modules, and a red seal drawn as vector paths.
//!
//! One [`Renderer`] is built at start ([`Renderer::load`]): it reads and parses the font once, so a
//! certificate costs only its layout and serialisation. [`Renderer::render`] turns any number of
//! [`Document`]s into one PDF (admins batch-print a thousand at once); each document takes one page, or
//! several when its detail table is long (the table header repeats on every page).
//!
//! The verification URLs are also in the PDF's metadata: the keywords hold every document's URL (in
//! order), and a single-document PDF has its URL as the description (the Subject of `pdfinfo`), so offline
//! tools need not decode the QR code.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use krilla::color::rgb;
use krilla::geom::{Path as PdfPath, PathBuilder, Point, Rect, Transform};
use krilla::graphic::Graphic;
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use qrcode::{EcLevel, QrCode};
use skrifa::MetadataProvider;
use skrifa::instance::{LocationRef, Size};

/// The tenant's look on its documents.
#[derive(Debug, Clone)]
pub struct Branding {
    /// Who issues the document, set at the bottom right and inside the seal, e.g. 湖南省人力资源和社会保障厅.
    pub issuer: String,
    /// The platform's name in the page header.
    pub platform_name: String,
    /// The border and heading colour (the tenant theme's primary colour, see [`parse_rgb`]).
    pub primary_rgb: (u8, u8, u8),
}

/// The colour used when a tenant's theme has none (or an unreadable one).
pub const DEFAULT_PRIMARY: (u8, u8, u8) = (0xb3, 0x26, 0x1e);

/// `"#b3261e"` (or `"b3261e"`, or the short `"#b21"`) → `(0xb3, 0x26, 0x1e)`; `None` for anything else.
pub fn parse_rgb(colour: &str) -> Option<(u8, u8, u8)> {
    let hex = colour.trim().trim_start_matches('#');
    if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let digit = |i: usize, len: usize| u8::from_str_radix(&hex[i..i + len], 16).ok();
    match hex.len() {
        6 => Some((digit(0, 2)?, digit(2, 2)?, digit(4, 2)?)),
        3 => Some((digit(0, 1)? * 17, digit(1, 1)? * 17, digit(2, 1)? * 17)),
        _ => None,
    }
}

impl Branding {
    /// Branding from a theme colour string, falling back to [`DEFAULT_PRIMARY`] when it cannot be read.
    pub fn new(issuer: impl Into<String>, platform_name: impl Into<String>, theme_colour: &str) -> Branding {
        Branding {
            issuer: issuer.into(),
            platform_name: platform_name.into(),
            primary_rgb: parse_rgb(theme_colour).unwrap_or(DEFAULT_PRIMARY),
        }
    }
}

/// One certificate or proof: one page, or more when its detail table is long.
#[derive(Debug, Clone)]
pub struct Document {
    /// e.g. 在岗培训证书, 继教学时互认证明, 免训证明
    pub title: String,
    /// The certificate number, printed under the QR code.
    pub number: String,
    /// Label/value lines: 姓名, 身份证号 (masked), 单位, 年度, the subjects in the tenant's words …
    pub fields: Vec<(String, String)>,
    /// An optional paragraph, wrapped to the page width (e.g. an exemption's reason).
    pub body: Option<String>,
    /// An optional table (e.g. the online courses behind a recognition proof); may span pages.
    pub detail: Option<Table>,
    pub issue_date: NaiveDate,
    /// The public verification URL: the QR code's content and the metadata's keywords.
    pub verify_url: String,
}

#[derive(Debug, Clone, Default)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error(
        "no CJK font found for certificate PDFs (looked at {searched}): install the Debian package fonts-wqy-microhei \
         (apt-get install fonts-wqy-microhei) or configure a font path"
    )]
    NoFont { searched: String },
    #[error("cannot read the font {path}: {source}")]
    FontRead { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a usable font with Chinese glyphs (a TrueType/OpenType font or collection is needed)")]
    BadFont { path: PathBuf },
    #[error("nothing to render: no documents")]
    NoDocuments,
    #[error("cannot encode the verification URL as a QR code: {0}")]
    Qr(String),
    #[error("cannot write the PDF: {0}")]
    Pdf(String),
}

/// Where Debian puts the CJK fonts we can use, in order of preference, with the face to use in each
/// collection (Noto CJK's collection starts with the Japanese face; its Simplified Chinese one is 2).
pub const KNOWN_FONTS: &[(&str, u32)] = &[
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
];

/// Renders documents to PDF. Parsing the font happens once, in [`Renderer::load`]; the renderer is
/// cheap to clone (the font is shared) and may be used from many threads at once.
#[derive(Clone)]
pub struct Renderer {
    font: Font,
    metrics: Arc<Metrics>,
    font_path: PathBuf,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer").field("font_path", &self.font_path).finish_non_exhaustive()
    }
}

/// Horizontal advances of the font's characters, in ems, for measuring text (centring, wrapping, table
/// columns) without shaping it.
struct Metrics {
    ascii: [f32; 128],
    other: HashMap<char, f32>,
    fallback: f32,
}

impl Metrics {
    fn advance(&self, c: char) -> f32 {
        if c.is_ascii() { self.ascii[c as usize] } else { self.other.get(&c).copied().unwrap_or(self.fallback) }
    }
}

/// A character every font we accept must have.
const PROBE: char = '证';

fn read_metrics(data: &[u8], index: u32) -> Option<Metrics> {
    let font = skrifa::FontRef::from_index(data, index).ok()?;
    let charmap = font.charmap();
    charmap.map(PROBE)?;
    let upem = f32::from(font.metrics(Size::unscaled(), LocationRef::default()).units_per_em);
    if upem <= 0.0 {
        return None;
    }
    let glyphs = font.glyph_metrics(Size::unscaled(), LocationRef::default());
    let mut ascii = [0.5f32; 128];
    let mut other = HashMap::new();
    for (code, glyph) in charmap.mappings() {
        let Some(c) = char::from_u32(code) else { continue };
        let advance = glyphs.advance_width(glyph).unwrap_or(upem) / upem;
        if c.is_ascii() {
            ascii[c as usize] = advance;
        } else {
            other.insert(c, advance);
        }
    }
    Some(Metrics { ascii, other, fallback: 1.0 })
}

/// The face to use in a font file: the preferred one when it has Chinese glyphs, else the first that has.
fn usable_face(data: &[u8], preferred: u32) -> Option<(u32, Metrics)> {
    let count = match skrifa::raw::FileRef::new(data).ok()? {
        skrifa::raw::FileRef::Font(_) => 1,
        skrifa::raw::FileRef::Collection(collection) => collection.len(),
    };
    std::iter::once(preferred).chain(0..count).filter(|i| *i < count).find_map(|i| read_metrics(data, i).map(|metrics| (i, metrics)))
}

impl Renderer {
    /// Loads the CJK font: `font_path` when given, else the first of [`KNOWN_FONTS`] that exists. The
    /// error names the Debian package to install when there is none.
    pub fn load(font_path: Option<&Path>) -> Result<Renderer, PdfError> {
        let (path, preferred) = match font_path {
            Some(path) => (path.to_path_buf(), 0),
            None => {
                let found = KNOWN_FONTS.iter().find(|(path, _)| Path::new(path).is_file());
                let Some((path, index)) = found else {
                    let searched = KNOWN_FONTS.iter().map(|(p, _)| *p).collect::<Vec<_>>().join(", ");
                    return Err(PdfError::NoFont { searched });
                };
                (PathBuf::from(path), *index)
            }
        };
        let data = std::fs::read(&path).map_err(|source| PdfError::FontRead { path: path.clone(), source })?;
        let (index, metrics) = usable_face(&data, preferred).ok_or_else(|| PdfError::BadFont { path: path.clone() })?;
        let font = Font::new(data.into(), index).ok_or_else(|| PdfError::BadFont { path: path.clone() })?;
        Ok(Renderer { font, metrics: Arc::new(metrics), font_path: path })
    }

    /// The font file in use.
    pub fn font_path(&self) -> &Path {
        &self.font_path
    }

    /// The width of `text` at `size` points.
    fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.metrics.advance(c)).sum::<f32>() * size
    }

    /// Renders every document, in order, into one PDF.
    pub fn render(&self, branding: &Branding, docs: &[Document]) -> Result<Vec<u8>, PdfError> {
        if docs.is_empty() {
            return Err(PdfError::NoDocuments);
        }
        // No tag tree is written, so krilla need not track tagged content.
        let mut pdf = krilla::Document::new_with(krilla::SerializeSettings { enable_tagging: false, ..Default::default() });
        let style = Style::new(branding);
        // The frame and the seal are the same on every page: drawn once as graphics (PDF form XObjects)
        // that each page refers to, which keeps a batch small and quick to write.
        let mut shared: Option<(Graphic, Graphic)> = None;
        for doc in docs {
            let qr = qr_path(&doc.verify_url)?;
            let pages = self.paginate(doc);
            let count = pages.len();
            for (i, page) in pages.iter().enumerate() {
                let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| PdfError::Pdf("bad page size".into()))?;
                let mut pdf_page = pdf.start_page_with(settings);
                let mut surface = pdf_page.surface();
                let (frame, seal) = match &shared {
                    Some(graphics) => graphics.clone(),
                    None => {
                        let frame = self.graphic(&mut surface, &style, |pen| pen.frame(branding));
                        let seal = self.graphic(&mut surface, &style, |pen| pen.seal(branding));
                        shared.insert((frame, seal)).clone()
                    }
                };
                surface.draw_graphic(frame);
                let mut pen = Pen { r: self, s: &mut surface, style: &style };
                pen.heading(doc, i);
                for (line, y) in &page.lines {
                    pen.line(doc, page, line, *y);
                }
                if count > 1 {
                    pen.centred(&format!("第 {} 页 / 共 {} 页", i + 1, count), PAGE_H - 42.0, 9.0, GREY);
                }
                if i + 1 == count {
                    pen.footer(branding, doc, &qr);
                    surface.draw_graphic(seal);
                }
                surface.finish();
                pdf_page.finish();
            }
        }
        pdf.set_metadata(metadata(branding, docs));
        pdf.finish().map_err(|e| PdfError::Pdf(format!("{e:?}")))
    }

    /// Content drawn once and placed on many pages.
    fn graphic(&self, surface: &mut Surface<'_>, style: &Style, draw: impl FnOnce(&mut Pen<'_, '_>)) -> Graphic {
        let mut builder = surface.stream_builder();
        let mut inner = builder.surface();
        draw(&mut Pen { r: self, s: &mut inner, style });
        inner.finish();
        Graphic::new(builder.finish(), false)
    }

    /// Where the seal's centre is: over the issuer's name and the date at the bottom right.
    fn seal_centre(&self, branding: &Branding) -> (f32, f32) {
        let text_w = self.width(&branding.issuer, ISSUER_SIZE).max(self.width("2000年12月31日", DATE_SIZE));
        ((CONTENT_RIGHT - text_w / 2.0).min(PAGE_W - 36.0 - SEAL_RADIUS), ISSUER_Y + 4.0)
    }

    /// Lays a document's lines out on pages: fields, then the body, then the table (its header repeated
    /// on each page), leaving the bottom of the last page free for the issuer, seal and QR code.
    fn paginate(&self, doc: &Document) -> Vec<PagePlan> {
        let label_w = self.label_width(doc);
        let value_w = CONTENT_RIGHT - (FIELD_X + label_w);
        let mut lines: Vec<Line> = Vec::new();
        for (i, (_, value)) in doc.fields.iter().enumerate() {
            for (n, part) in self.wrap(value, FIELD_SIZE, value_w).into_iter().enumerate() {
                lines.push(Line::Field { index: i, first: n == 0, text: part });
            }
        }
        if let Some(body) = doc.body.as_deref().filter(|b| !b.trim().is_empty()) {
            lines.push(Line::Gap(10.0));
            for part in self.wrap(body, BODY_SIZE, CONTENT_RIGHT - CONTENT_LEFT) {
                lines.push(Line::Body(part));
            }
        }
        let columns = doc.detail.as_ref().filter(|t| !t.header.is_empty()).map(|t| self.columns(t));
        if let Some(table) = doc.detail.as_ref().filter(|t| !t.header.is_empty()) {
            lines.push(Line::Gap(16.0));
            lines.push(Line::Header);
            lines.extend((0..table.rows.len()).map(Line::Row));
        }

        let mut pages = vec![PagePlan::new(FIRST_TOP, columns.clone())];
        for line in lines {
            let h = line.height();
            let page = pages.last_mut().expect("a page");
            if page.y + h > CONTENT_BOTTOM && !page.lines.is_empty() {
                if matches!(line, Line::Gap(_)) {
                    continue;
                }
                let mut next = PagePlan::new(NEXT_TOP, columns.clone());
                if matches!(line, Line::Row(_)) {
                    next.push(Line::Header);
                }
                pages.push(next);
            }
            pages.last_mut().expect("a page").push(line);
        }
        // The last page needs room for the footer: what runs into it moves to a page of its own.
        let last = pages.last_mut().expect("a page");
        if last.y > FOOTER_TOP {
            let mut cut = last.lines.iter().position(|(line, y)| y + line.height() > FOOTER_TOP).unwrap_or(last.lines.len());
            // Never leave a table header alone at the bottom of a page.
            while cut > 0 && matches!(last.lines[cut - 1].0, Line::Header | Line::Gap(_)) {
                cut -= 1;
            }
            let moved: Vec<Line> = last.lines.drain(cut..).map(|(line, _)| line).collect();
            let mut next = PagePlan::new(NEXT_TOP, columns);
            if matches!(moved.first(), Some(Line::Row(_))) {
                next.push(Line::Header);
            }
            for line in moved.into_iter().skip_while(|l| matches!(l, Line::Gap(_))) {
                next.push(line);
            }
            pages.push(next);
        }
        pages
    }

    /// The widest field label (with its colon), capped so values keep room.
    fn label_width(&self, doc: &Document) -> f32 {
        let widest = doc.fields.iter().map(|(label, _)| self.width(&format!("{label}："), FIELD_SIZE)).fold(0.0, f32::max);
        widest.min(170.0) + 6.0
    }

    /// Column widths that fill the content width: every column gets its natural width when they fit;
    /// otherwise narrow columns keep theirs and the wide ones share what is left equally.
    fn columns(&self, table: &Table) -> Vec<f32> {
        let n = table.header.len();
        let mut natural: Vec<f32> = table.header.iter().map(|h| self.width(h, TABLE_SIZE) + 2.0 * CELL_PAD).collect();
        for row in &table.rows {
            for (i, cell) in row.iter().take(n).enumerate() {
                natural[i] = natural[i].max(self.width(cell, TABLE_SIZE) + 2.0 * CELL_PAD);
            }
        }
        let available = CONTENT_RIGHT - CONTENT_LEFT;
        let total: f32 = natural.iter().sum();
        if total <= available {
            return natural.iter().map(|w| w * available / total).collect();
        }
        let mut fixed = vec![false; n];
        loop {
            let free: Vec<usize> = (0..n).filter(|i| !fixed[*i]).collect();
            let left = available - (0..n).filter(|i| fixed[*i]).map(|i| natural[i]).sum::<f32>();
            let share = left / free.len().max(1) as f32;
            let newly: Vec<usize> = free.iter().copied().filter(|i| natural[*i] <= share).collect();
            if newly.is_empty() {
                return (0..n).map(|i| if fixed[i] { natural[i] } else { share }).collect();
            }
            for i in newly {
                fixed[i] = true;
            }
        }
    }

    /// Breaks text into lines no wider than `width`: anywhere between Chinese characters, at spaces in
    /// Latin text when possible, never putting closing punctuation at the start of a line. `\n` starts
    /// a new paragraph.
    fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            let mut line_w = 0.0;
            for c in paragraph.chars() {
                let w = self.metrics.advance(c) * size;
                if line_w + w > width && !line.is_empty() && !is_closing(c) {
                    let mut carry = String::new();
                    // Break Latin words at their last space rather than inside them.
                    if c.is_ascii_alphanumeric()
                        && let Some(space) = line.rfind(' ')
                        && line[space + 1..].chars().all(|c| c.is_ascii_alphanumeric())
                        && space > 0
                    {
                        carry = line[space + 1..].to_owned();
                        line.truncate(space);
                    }
                    lines.push(std::mem::take(&mut line));
                    line_w = self.width(&carry, size);
                    line = carry;
                    if c == ' ' && line.is_empty() {
                        continue;
                    }
                }
                line.push(c);
                line_w += w;
            }
            lines.push(line);
        }
        lines
    }

    /// `text` cut to fit `width`, ending with "…" when it was cut.
    fn fit(&self, text: &str, size: f32, width: f32) -> String {
        if self.width(text, size) <= width {
            return text.to_owned();
        }
        let ellipsis = self.width("…", size);
        let mut out = String::new();
        let mut w = 0.0;
        for c in text.chars() {
            let cw = self.metrics.advance(c) * size;
            if w + cw + ellipsis > width {
                break;
            }
            out.push(c);
            w += cw;
        }
        out.push('…');
        out
    }
}

fn is_closing(c: char) -> bool {
    "，。、；：？！）》」』”’,.;:?!)%".contains(c)
}

fn metadata(branding: &Branding, docs: &[Document]) -> Metadata {
    let title = match docs {
        [one] => format!("{} {}", one.title, one.number),
        _ => format!("{}（{} 份）", docs[0].title, docs.len()),
    };
    let mut metadata = Metadata::new()
        .title(title)
        .creator(branding.platform_name.clone())
        .producer("jijiao".to_owned())
        .authors(vec![branding.issuer.clone()])
        .language("zh-CN".to_owned())
        .keywords(docs.iter().map(|d| d.verify_url.clone()).collect());
    if let [one] = docs {
        metadata = metadata.description(one.verify_url.clone());
    }
    metadata
}

// ---- layout ----

/// A4 portrait, in points.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const CONTENT_LEFT: f32 = 72.0;
const CONTENT_RIGHT: f32 = PAGE_W - 72.0;
/// Where the first line's top is on a document's first page (below the title) and on later pages.
const FIRST_TOP: f32 = 196.0;
const NEXT_TOP: f32 = 118.0;
/// Lines end above this on every page; on the last page above [`FOOTER_TOP`].
const CONTENT_BOTTOM: f32 = PAGE_H - 60.0;
const FOOTER_TOP: f32 = PAGE_H - 212.0;
const FIELD_X: f32 = 96.0;
const FIELD_SIZE: f32 = 14.0;
const BODY_SIZE: f32 = 12.0;
const TABLE_SIZE: f32 = 9.5;
const CELL_PAD: f32 = 4.0;
const QR_SIZE: f32 = 128.0;
const SEAL_RADIUS: f32 = 50.0;
const ISSUER_Y: f32 = PAGE_H - 150.0;
const ISSUER_SIZE: f32 = 14.0;
const DATE_SIZE: f32 = 13.0;

const BLACK: (u8, u8, u8) = (0x20, 0x20, 0x20);
const GREY: (u8, u8, u8) = (0x70, 0x70, 0x70);
const RULE: (u8, u8, u8) = (0xc8, 0xc8, 0xc8);
const SEAL_RED: (u8, u8, u8) = (0xd4, 0x1f, 0x26);

#[derive(Debug, Clone)]
enum Line {
    /// A field's line; `first` carries the label.
    Field {
        index: usize,
        first: bool,
        text: String,
    },
    Body(String),
    Gap(f32),
    Header,
    Row(usize),
}

impl Line {
    fn height(&self) -> f32 {
        match self {
            Line::Field { first: true, .. } => 27.0,
            Line::Field { .. } => 21.0,
            Line::Body(_) => 20.0,
            Line::Gap(h) => *h,
            Line::Header => 20.0,
            Line::Row(_) => 17.0,
        }
    }
}

struct PagePlan {
    /// Each line with the y of its top.
    lines: Vec<(Line, f32)>,
    y: f32,
    columns: Option<Vec<f32>>,
}

impl PagePlan {
    fn new(top: f32, columns: Option<Vec<f32>>) -> PagePlan {
        PagePlan { lines: Vec::new(), y: top, columns }
    }

    fn push(&mut self, line: Line) {
        let h = line.height();
        self.lines.push((line, self.y));
        self.y += h;
    }
}

/// Colours and fills of one tenant, made once per render.
struct Style {
    primary: (u8, u8, u8),
    tint: (u8, u8, u8),
}

impl Style {
    fn new(branding: &Branding) -> Style {
        let (r, g, b) = branding.primary_rgb;
        let mix = |c: u8| (f32::from(c) * 0.12 + 255.0 * 0.88) as u8;
        Style { primary: (r, g, b), tint: (mix(r), mix(g), mix(b)) }
    }
}

fn fill(colour: (u8, u8, u8)) -> Fill {
    Fill { paint: rgb::Color::new(colour.0, colour.1, colour.2).into(), opacity: NormalizedF32::ONE, rule: FillRule::NonZero }
}

fn stroke(colour: (u8, u8, u8), width: f32) -> Stroke {
    Stroke { paint: rgb::Color::new(colour.0, colour.1, colour.2).into(), width, ..Stroke::default() }
}

fn rect_path(x: f32, y: f32, w: f32, h: f32) -> Option<PdfPath> {
    let mut pb = PathBuilder::new();
    pb.push_rect(Rect::from_xywh(x, y, w, h)?);
    pb.finish()
}

/// A circle as four cubic Béziers.
fn push_circle(pb: &mut PathBuilder, cx: f32, cy: f32, r: f32) {
    const K: f32 = 0.552_284_8;
    let k = K * r;
    pb.move_to(cx + r, cy);
    pb.cubic_to(cx + r, cy + k, cx + k, cy + r, cx, cy + r);
    pb.cubic_to(cx - k, cy + r, cx - r, cy + k, cx - r, cy);
    pb.cubic_to(cx - r, cy - k, cx - k, cy - r, cx, cy - r);
    pb.cubic_to(cx + k, cy - r, cx + r, cy - k, cx + r, cy);
    pb.close();
}

/// The QR code of `url` as one path of dark modules (the runs of a row merged into one rectangle), in
/// module units with the quiet zone included: the caller scales it. Whole-number
/// coordinates keep the content stream short.
fn qr_path(url: &str) -> Result<(PdfPath, usize), PdfError> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::L).map_err(|e| PdfError::Qr(e.to_string()))?;
    let n = code.width();
    let colours = code.to_colors();
    let mut pb = PathBuilder::new();
    for row in 0..n {
        let mut x = 0;
        while x < n {
            if colours[row * n + x] != qrcode::Color::Dark {
                x += 1;
                continue;
            }
            let start = x;
            while x < n && colours[row * n + x] == qrcode::Color::Dark {
                x += 1;
            }
            // One path for the whole code: touching rectangles fill without seams when rasterised.
            if let Some(rect) = Rect::from_xywh((start + QR_QUIET) as f32, (row + QR_QUIET) as f32, (x - start) as f32, 1.0) {
                pb.push_rect(rect);
            }
        }
    }
    let path = pb.finish().ok_or_else(|| PdfError::Qr("empty QR code".into()))?;
    Ok((path, n + 2 * QR_QUIET))
}

/// The quiet zone around a QR code, in modules.
const QR_QUIET: usize = 4;

/// Draws on one page.
struct Pen<'a, 'b> {
    r: &'a Renderer,
    s: &'a mut Surface<'b>,
    style: &'a Style,
}

impl Pen<'_, '_> {
    /// Text with its baseline at `y`.
    fn text(&mut self, text: &str, x: f32, y: f32, size: f32, colour: (u8, u8, u8)) {
        if text.is_empty() {
            return;
        }
        self.s.set_fill(Some(fill(colour)));
        self.s.draw_text(Point::from_xy(x, y), self.r.font.clone(), size, text, false, TextDirection::Auto);
    }

    fn centred(&mut self, text: &str, y: f32, size: f32, colour: (u8, u8, u8)) {
        let x = (PAGE_W - self.r.width(text, size)) / 2.0;
        self.text(text, x, y, size, colour);
    }

    fn right(&mut self, text: &str, right: f32, y: f32, size: f32, colour: (u8, u8, u8)) {
        let x = right - self.r.width(text, size);
        self.text(text, x, y, size, colour);
    }

    fn fill_path(&mut self, path: Option<PdfPath>, colour: (u8, u8, u8)) {
        if let Some(path) = path {
            self.s.set_stroke(None);
            self.s.set_fill(Some(fill(colour)));
            self.s.draw_path(&path);
        }
    }

    fn fill_ref(&mut self, path: &PdfPath, colour: (u8, u8, u8)) {
        self.s.set_stroke(None);
        self.s.set_fill(Some(fill(colour)));
        self.s.draw_path(path);
    }

    fn stroke_path(&mut self, path: Option<PdfPath>, colour: (u8, u8, u8), width: f32) {
        if let Some(path) = path {
            self.s.set_fill(None);
            self.s.set_stroke(Some(stroke(colour, width)));
            self.s.draw_path(&path);
            self.s.set_stroke(None);
        }
    }

    /// The double border in the tenant's colour and the platform's name at the top.
    fn frame(&mut self, branding: &Branding) {
        let primary = self.style.primary;
        self.stroke_path(rect_path(22.0, 22.0, PAGE_W - 44.0, PAGE_H - 44.0), primary, 4.0);
        self.stroke_path(rect_path(30.0, 30.0, PAGE_W - 60.0, PAGE_H - 60.0), primary, 0.8);
        self.centred(&branding.platform_name, 70.0, 11.0, primary);
    }

    /// The title: large on a document's first page, small with "（续）" on the pages after.
    fn heading(&mut self, doc: &Document, page: usize) {
        let primary = self.style.primary;
        if page == 0 {
            self.centred(&doc.title, 140.0, 30.0, primary);
            let w = 140.0;
            self.fill_path(rect_path((PAGE_W - w) / 2.0, 158.0, w, 1.2), primary);
        } else {
            self.centred(&format!("{}（续）", doc.title), 96.0, 15.0, primary);
        }
    }

    fn line(&mut self, doc: &Document, page: &PagePlan, line: &Line, top: f32) {
        match line {
            Line::Field { index, first, text } => {
                let baseline = top + FIELD_SIZE + 4.0;
                if *first {
                    let label = format!("{}：", doc.fields[*index].0);
                    self.text(&label, FIELD_X, baseline, FIELD_SIZE, GREY);
                }
                let x = FIELD_X + self.r.label_width(doc);
                self.text(text, x, baseline, FIELD_SIZE, BLACK);
            }
            Line::Body(text) => self.text(text, CONTENT_LEFT, top + BODY_SIZE + 3.0, BODY_SIZE, BLACK),
            Line::Gap(_) => {}
            Line::Header => {
                let (Some(table), Some(columns)) = (&doc.detail, &page.columns) else { return };
                let tint = self.style.tint;
                let primary = self.style.primary;
                self.fill_path(rect_path(CONTENT_LEFT, top, CONTENT_RIGHT - CONTENT_LEFT, 20.0), tint);
                self.cells(&table.header, columns, top + 14.0, primary);
                self.fill_path(rect_path(CONTENT_LEFT, top + 19.4, CONTENT_RIGHT - CONTENT_LEFT, 0.6), primary);
            }
            Line::Row(i) => {
                let (Some(table), Some(columns)) = (&doc.detail, &page.columns) else { return };
                self.cells(&table.rows[*i], columns, top + 12.5, BLACK);
                self.fill_path(rect_path(CONTENT_LEFT, top + 16.6, CONTENT_RIGHT - CONTENT_LEFT, 0.4), RULE);
            }
        }
    }

    fn cells(&mut self, cells: &[String], columns: &[f32], baseline: f32, colour: (u8, u8, u8)) {
        let mut x = CONTENT_LEFT;
        for (cell, w) in cells.iter().zip(columns) {
            let text = self.r.fit(cell, TABLE_SIZE, w - 2.0 * CELL_PAD);
            self.text(&text, x + CELL_PAD, baseline, TABLE_SIZE, colour);
            x += w;
        }
    }

    /// The QR code with the number under it (bottom left), the issuer and date (bottom right); the seal
    /// is stamped over them afterwards.
    fn footer(&mut self, branding: &Branding, doc: &Document, qr: &(PdfPath, usize)) {
        let qr_x = 60.0;
        let qr_y = PAGE_H - 64.0 - QR_SIZE - 14.0;
        let module = QR_SIZE / qr.1 as f32;
        self.s.push_transform(&Transform::from_row(module, 0.0, 0.0, module, qr_x, qr_y));
        self.fill_ref(&qr.0, (0, 0, 0));
        self.s.pop();
        self.text(&format!("编号：{}", doc.number), qr_x + 8.0, qr_y + QR_SIZE + 10.0, 9.0, BLACK);
        self.text("扫码核验", qr_x + 8.0, qr_y - 2.0, 8.0, GREY);

        let date = format!("{}年{}月{}日", doc.issue_date.year(), doc.issue_date.month(), doc.issue_date.day());
        self.right(&branding.issuer, CONTENT_RIGHT, ISSUER_Y, ISSUER_SIZE, BLACK);
        self.right(&date, CONTENT_RIGHT, ISSUER_Y + 24.0, DATE_SIZE, BLACK);
    }

    /// A round red seal: a ring, a five-pointed star in the middle, the issuer's name set along the
    /// upper arc inside the ring and 证书专用章 under the star; drawn slightly transparent, as ink is.
    fn seal(&mut self, branding: &Branding) {
        let issuer = &branding.issuer;
        let (cx, cy) = self.r.seal_centre(branding);
        let r = SEAL_RADIUS;
        let mut red = fill(SEAL_RED);
        red.opacity = NormalizedF32::new(0.88).unwrap_or(NormalizedF32::ONE);

        let mut pb = PathBuilder::new();
        push_circle(&mut pb, cx, cy, r);
        push_circle(&mut pb, cx, cy, r - 3.5);
        // The star: ten points alternating between the outer and inner radius.
        let (outer, inner) = (r * 0.32, r * 0.32 * 0.382);
        for k in 0..10 {
            let radius = if k % 2 == 0 { outer } else { inner };
            let angle = std::f32::consts::PI * (k as f32) / 5.0;
            let (x, y) = (cx + radius * angle.sin(), cy - radius * angle.cos());
            if k == 0 { pb.move_to(x, y) } else { pb.line_to(x, y) }
        }
        pb.close();
        if let Some(path) = pb.finish() {
            self.s.set_stroke(None);
            // Even-odd: the two circles make a ring, the star (inside the inner circle) is filled again.
            let mut ring = red.clone();
            ring.rule = FillRule::EvenOdd;
            self.s.set_fill(Some(ring));
            self.s.draw_path(&path);
        }

        // The issuer's name along the upper arc, each character upright to the ring: a long name spreads
        // over 240° with smaller characters, a short one keeps its natural spacing around the top.
        let chars: Vec<char> = issuer.chars().filter(|c| !c.is_whitespace()).collect();
        if !chars.is_empty() {
            let n = chars.len() as f32;
            let max_span = 240f32.to_radians();
            // The character size whose natural spacing fills the arc, between 7 and 12 points.
            let size = ((r - 10.0) * max_span / n / 1.1).clamp(7.0, 12.0);
            // The characters' centres run on this radius, just inside the ring.
            let text_r = r - 5.0 - size * 0.55;
            let step = (size * 1.1 / text_r).min(max_span / (n - 1.0).max(1.0));
            let span = step * (n - 1.0);
            let mut buf = [0u8; 4];
            for (i, c) in chars.iter().enumerate() {
                let angle = -span / 2.0 + step * i as f32;
                let (sin, cos) = angle.sin_cos();
                self.s.push_transform(&Transform::from_row(cos, sin, -sin, cos, cx, cy));
                let text: &str = c.encode_utf8(&mut buf);
                let w = self.r.width(text, size);
                self.s.set_fill(Some(red.clone()));
                self.s.draw_text(
                    // A CJK glyph's middle sits about 0.38 em above its baseline.
                    Point::from_xy(-w / 2.0, -text_r + size * 0.38),
                    self.r.font.clone(),
                    size,
                    text,
                    false,
                    TextDirection::Auto,
                );
                self.s.pop();
            }
        }
        let label = "证书专用章";
        let size = 8.0;
        let w = self.r.width(label, size);
        self.s.set_fill(Some(red));
        self.s.draw_text(Point::from_xy(cx - w / 2.0, cy + r * 0.62), self.r.font.clone(), size, label, false, TextDirection::Auto);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theme_colours() {
        assert_eq!(parse_rgb("#b3261e"), Some((0xb3, 0x26, 0x1e)));
        assert_eq!(parse_rgb(" B3261E "), Some((0xb3, 0x26, 0x1e)));
        assert_eq!(parse_rgb("#fff"), Some((255, 255, 255)));
        assert_eq!(parse_rgb("#b3261"), None);
        assert_eq!(parse_rgb("red"), None);
        assert_eq!(parse_rgb("#+1+2+3"), None);
        assert_eq!(Branding::new("a", "b", "nope").primary_rgb, DEFAULT_PRIMARY);
    }

    #[test]
    fn renderer_is_shareable() {
        fn shareable<T: Send + Sync + 'static>() {}
        shareable::<Renderer>();
    }

    #[test]
    fn a_missing_font_file_is_a_clear_error() {
        let err = Renderer::load(Some(Path::new("/nonexistent/font.ttc"))).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/font.ttc"), "{err}");
    }
}
