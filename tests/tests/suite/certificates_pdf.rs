//! Certificate PDFs (issue 5): the renderer called directly, its output read back the way a person or an
//! offline tool would — the text through poppler's `pdftotext`, the QR code from the page rendered at
//! 150 dpi and decoded, the page count and metadata through `pdfinfo`.

use std::sync::OnceLock;

use chrono::NaiveDate;
use jijiao::certificates::pdf::{Branding, Document, PdfError, Renderer, Table};
use jijiao_tests::pdf::{keep, pdf_fonts, pdf_info, pdf_pages, pdf_qr, pdf_qrs, pdf_text};

/// One renderer for the whole suite, as the server keeps one.
fn renderer() -> &'static Renderer {
    static RENDERER: OnceLock<Renderer> = OnceLock::new();
    RENDERER.get_or_init(|| Renderer::load(None).expect("a CJK font (Debian fonts-wqy-microhei, installed by .ci/run)"))
}

fn branding() -> Branding {
    Branding::new("湖南省人力资源和社会保障厅", "湖南省专业技术人员继续教育平台", "#b3261e")
}

fn certificate(name: &str, number: &str) -> Document {
    Document {
        title: "在岗培训证书".into(),
        number: number.into(),
        fields: vec![
            ("姓名".into(), name.into()),
            ("身份证号".into(), "430102********1234".into()),
            ("单位".into(), "长沙市第一中学".into()),
            ("年度".into(), "2025".into()),
            ("公共科目".into(), "30 学时".into()),
            ("专业科目".into(), "60 学时".into()),
            ("合计".into(), "90 学时".into()),
        ],
        body: None,
        detail: None,
        issue_date: NaiveDate::from_ymd_opt(2025, 12, 30).unwrap(),
        verify_url: format!("https://hunan.jijiao.example/t/hunan/verify?number={number}"),
    }
}

/// Text extraction may put line breaks or spaces differently; compare without whitespace.
fn squeeze(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn a_certificate_reads_back_its_name_number_hours_and_qr() {
    let doc = certificate("张三丰", "HN2025K7Q2M9X4PA");
    let bytes = renderer().render(&branding(), std::slice::from_ref(&doc)).expect("render");
    assert!(bytes.starts_with(b"%PDF-"), "a PDF");
    keep("certificate.pdf", &bytes);

    let text = squeeze(&pdf_text(&bytes));
    for expected in ["在岗培训证书", "张三丰", "HN2025K7Q2M9X4PA", "30学时", "60学时", "90学时", "长沙市第一中学", "2025年12月30日"]
    {
        assert!(text.contains(expected), "{expected:?} is not in the PDF's text: {text}");
    }
    assert_eq!(pdf_qr(&bytes), doc.verify_url, "the QR code holds the verification URL");
    assert_eq!(pdf_pages(&bytes), 1);
    // The URL is in the metadata too, for offline tools.
    assert_eq!(pdf_info(&bytes, "Subject").as_deref(), Some(doc.verify_url.as_str()));
    assert_eq!(pdf_info(&bytes, "Keywords").as_deref(), Some(doc.verify_url.as_str()));
}

#[test]
fn the_font_is_embedded_as_a_subset() {
    let bytes = renderer().render(&branding(), &[certificate("张三丰", "HN2025SUBSET0001")]).expect("render");
    // The whole WenQuanYi collection is ≈ 5 MB; a subset of the few glyphs used is far smaller.
    assert!(bytes.len() < 300_000, "the PDF is {} bytes: the font is not subset", bytes.len());
    // pdffonts: name (a subset's has a "ABCDEF+" tag), type, encoding, emb, sub, uni, object.
    let fonts = pdf_fonts(&bytes);
    let embedded = fonts.lines().filter(|l| l.contains('+') && l.contains("yes yes yes")).count();
    assert!(embedded >= 1, "no embedded, subset font with a Unicode map: {fonts}");
}

#[test]
fn a_batch_gives_one_page_per_certificate_each_with_its_own_qr() {
    let docs: Vec<Document> = [("张三丰", "HN2025BATCH00001"), ("李四", "HN2025BATCH00002"), ("欧阳娜娜", "HN2025BATCH00003")]
        .iter()
        .map(|(n, no)| certificate(n, no))
        .collect();
    let bytes = renderer().render(&branding(), &docs).expect("render");
    keep("batch.pdf", &bytes);
    assert_eq!(pdf_pages(&bytes), 3);
    let text = squeeze(&pdf_text(&bytes));
    for doc in &docs {
        assert!(text.contains(&doc.fields[0].1) && text.contains(&doc.number), "{} / {} missing: {text}", doc.fields[0].1, doc.number);
    }
    let urls: Vec<String> = docs.iter().map(|d| d.verify_url.clone()).collect();
    assert_eq!(pdf_qrs(&bytes), urls, "each page carries its own certificate's QR code, in order");
    assert_eq!(pdf_info(&bytes, "Keywords"), Some(urls.join(", ")));
}

#[test]
fn a_long_detail_table_spans_pages_and_repeats_its_header() {
    let mut doc = certificate("张三丰", "HN2025PROOF00001");
    doc.title = "继教学时互认证明".into();
    doc.body = Some("兹证明该同志 2025 年度通过网络培训平台完成下列继续教育课程的学习，经审核，所列学时予以互认，特此证明。".into());
    let rows: Vec<Vec<String>> = (1..=80)
        .map(|i| {
            vec![format!("{i}"), format!("专业课程第{i}讲：课程名称"), "专业科目".into(), format!("{}.5", i % 7 + 1), "2025-06-01".into()]
        })
        .collect();
    doc.detail = Some(Table { header: ["序号", "课程名称", "科目", "学时", "完成日期"].map(String::from).to_vec(), rows });
    let bytes = renderer().render(&branding(), std::slice::from_ref(&doc)).expect("render");
    keep("proof.pdf", &bytes);

    let pages = pdf_pages(&bytes);
    assert!(pages >= 3, "80 rows take several pages, got {pages}");
    let text = pdf_text(&bytes);
    let squeezed = squeeze(&text);
    for i in [1, 40, 80] {
        assert!(squeezed.contains(&format!("专业课程第{i}讲")), "row {i} is missing");
    }
    assert!(squeezed.contains("兹证明该同志"), "the body paragraph is there");
    // pdftotext separates pages with a form feed: the header is on every page.
    let page_texts: Vec<&str> = text.split('\u{c}').filter(|p| !p.trim().is_empty()).collect();
    assert_eq!(page_texts.len(), pages);
    for (i, page) in page_texts.iter().enumerate() {
        assert!(squeeze(page).contains("课程名称"), "page {} has no table header", i + 1);
        assert!(squeeze(page).contains(&format!("第{}页/共{pages}页", i + 1)), "page {} has no page number", i + 1);
    }
    // The seal, issuer and QR code close the document, on its last page.
    assert!(squeeze(page_texts[pages - 1]).contains("2025年12月30日"));
    assert!(!squeeze(page_texts[0]).contains("2025年12月30日"));
    assert_eq!(pdf_qrs(&bytes), vec![doc.verify_url.clone()]);
}

#[test]
fn a_missing_font_or_nothing_to_render_is_a_clear_error() {
    let err = Renderer::load(Some(std::path::Path::new("/nonexistent/wqy.ttc"))).unwrap_err();
    assert!(matches!(err, PdfError::FontRead { .. }), "{err}");
    assert!(err.to_string().contains("/nonexistent/wqy.ttc"));
    let not_a_font = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(not_a_font.path(), b"not a font").unwrap();
    let err = Renderer::load(Some(not_a_font.path())).unwrap_err();
    assert!(matches!(err, PdfError::BadFont { .. }), "{err}");
    assert!(matches!(renderer().render(&branding(), &[]), Err(PdfError::NoDocuments)));
}
