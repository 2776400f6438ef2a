//! Certificate PDFs (issue 5's benchmark): (a) one certificate in its own PDF, (b) a batch of 1,000
//! certificates into one PDF, as an admin prints them. Goals: ≥ 500 certificates/s per core for (a),
//! ≤ 3 s for (b).
//!
//! Needs a CJK font (Debian `fonts-wqy-microhei`): `cargo bench -p jijiao --bench certificates`.

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jijiao::certificates::pdf::{Branding, Document, Renderer};

fn certificate(i: usize) -> Document {
    // Names vary so that the batch's font subset grows the way real batches do.
    let names = ["张三丰", "李四", "王小明", "欧阳娜娜", "赵敏", "周芷若", "陈家洛", "黄蓉"];
    let number = format!("HN2025{i:010}");
    Document {
        title: "在岗培训证书".into(),
        fields: vec![
            ("姓名".into(), names[i % names.len()].into()),
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
        number,
    }
}

fn bench(c: &mut Criterion) {
    let renderer = Renderer::load(None).expect("a CJK font: apt-get install fonts-wqy-microhei");
    let branding = Branding::new("湖南省人力资源和社会保障厅", "湖南省专业技术人员继续教育平台", "#b3261e");

    let one = [certificate(0)];
    let mut group = c.benchmark_group("a_single");
    group.throughput(Throughput::Elements(1));
    group.bench_function("one_certificate_pdf", |b| b.iter(|| black_box(renderer.render(&branding, black_box(&one)).unwrap())));
    group.finish();

    let batch: Vec<Document> = (0..1000).map(certificate).collect();
    let mut group = c.benchmark_group("b_batch");
    group.throughput(Throughput::Elements(1000));
    group.sample_size(10);
    group.bench_function("1000_certificates_one_pdf", |b| b.iter(|| black_box(renderer.render(&branding, black_box(&batch)).unwrap())));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
