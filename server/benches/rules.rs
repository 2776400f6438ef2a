//! Hunan yearly status for a person-year with 30 credits (issue 3's benchmark):
//! (a) one call on a fresh instance from the `InstancePre`, (b) a batch of 10,000 person-years in one call,
//! (c) the same rule natively (the plugin crate compiled for the host), for reference.
//!
//! Needs the plugins built: `cargo xtask plugins`, then `cargo bench -p jijiao --bench rules`.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jijiao::rules::model::{Credit, Hours, Person, PersonYear, Post, Source, Subject};
use jijiao::rules::{Host, Limits, Rules};
use jijiao_plugin_sdk as sdk;
use sdk::Guest;

fn person_year() -> PersonYear {
    let credits = (0..30)
        .map(|i| Credit {
            subject: if i % 3 == 0 { Subject::Public } else { Subject::Professional },
            hours: Hours(300 + i * 7),
            source: if i % 2 == 0 { Source::Online } else { Source::Offline },
            course: None,
        })
        .collect();
    PersonYear { year: 2024, person: Person { post: Post::Technical, title_level: "intermediate".into() }, credits }
}

/// Hunan 2024's figures as the host prepares them: the default row only, no caps or required courses,
/// the plugin's five params at their defaults.
fn native_figures() -> sdk::Figures {
    sdk::Figures {
        year: 2024,
        requirements: vec![sdk::Requirement { title_level: 0, public: 3000, professional: 6000, total: 9000 }],
        caps: vec![],
        required_courses: vec![],
        params: jijiao_plugin_hunan::PARAMS.iter().map(|p| p.default).collect(),
    }
}

fn native_credits(input: &PersonYear) -> Vec<sdk::Credit> {
    input
        .credits
        .iter()
        .map(|c| sdk::Credit {
            subject: if c.subject == Subject::Public { sdk::Subject::Public } else { sdk::Subject::Professional },
            hours: c.hours.0,
            source: if c.source == Source::Online { sdk::Source::Online } else { sdk::Source::Offline },
            course: 0,
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let limits = Limits { max_items: 1_000_000, ..Limits::default() };
    let rules = Rules::new(Host::new(limits, None).unwrap(), root.join("tenants"), root.join("plugins/dist"));
    let hunan = rules.for_tenant_year("hunan", 2024).expect("run `cargo xtask plugins` first");
    let one = person_year();

    c.bench_function("a_fresh_instance_year_status_30_credits", |b| b.iter(|| black_box(hunan.year_status(black_box(&one)).unwrap())));

    let batch = hunan.batch_items(&vec![one.clone(); 10_000]).unwrap();
    let mut group = c.benchmark_group("b_batch");
    group.throughput(Throughput::Elements(10_000));
    group.sample_size(10);
    group.bench_function("year_status_batch_10000", |b| b.iter(|| black_box(hunan.year_status_batch_raw(black_box(&batch)).unwrap())));
    group.finish();

    // Natively through the same export signature the component has (owned arguments, as the canonical ABI
    // hands them over), so the figure includes building the inputs, not only the arithmetic.
    let figures = native_figures();
    let credits = native_credits(&one);
    // Hunan's table has only the default row, so the person's level is "unlisted" and its code crosses.
    let person = sdk::Person { post: sdk::Post::Technical, title_level: 0, unlisted_title_level: Some("intermediate".into()) };
    c.bench_function("c_native_year_status_30_credits", |b| {
        b.iter(|| black_box(jijiao_plugin_hunan::Hunan::year_status(person.clone(), black_box(credits.clone()), figures.clone())))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
