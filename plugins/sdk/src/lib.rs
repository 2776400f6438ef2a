//! Helpers for jijiao rule plugins: the bindings to `plugins/wit/0.3.0/rules.wit`, the glue every plugin
//! shares, and the arithmetic every province shares (requirement look-up, caps, shortfalls, form
//! validation, decimal hours).
//!
//! A plugin implements [`Province`] and declares itself with [`plugin!`]; the SDK turns that into the
//! interface's exports (identity from the crate's Cargo.toml, the batch form, the declared params).
//!
//! Built for wasm the SDK and the plugins are `no_std` (+ `alloc`): std would make the component import
//! WASI for panic messages, and a rules plugin must import nothing. Plugins write
//! `#![cfg_attr(target_arch = "wasm32", no_std)]` and `use jijiao_plugin_sdk::prelude::*;`; natively (tests,
//! the host's benchmark) they are ordinary std crates.

#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

/// What `std`'s prelude would give a plugin, from `alloc`.
pub mod prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec::Vec;
    pub use alloc::{format, vec};
}

use prelude::*;

/// A panic in a plugin is a trap: the host reports it, throws the instance away and stays up.
#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

/// The canonical ABI's allocator export. std provides it on wasm32-wasip2; without std the SDK must.
#[cfg(target_arch = "wasm32")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cabi_realloc(old: *mut u8, old_len: usize, align: usize, new_len: usize) -> *mut u8 {
    use core::alloc::Layout;
    // SAFETY: called only by the canonical ABI glue, which passes a valid alignment and, when `old_len`
    // is not 0, a block it got from this function with that length and alignment (the same contract
    // as wit-bindgen's own `cabi_realloc`).
    let ptr = unsafe {
        if old_len == 0 {
            if new_len == 0 {
                return align as *mut u8;
            }
            alloc::alloc::alloc(Layout::from_size_align_unchecked(new_len, align))
        } else {
            alloc::alloc::realloc(old, Layout::from_size_align_unchecked(old_len, align), new_len)
        }
    };
    if ptr.is_null() {
        // Out of memory (the host's cap): trap rather than hand back null.
        core::arch::wasm32::unreachable()
    }
    ptr
}

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

wit_bindgen::generate!({
    path: "../wit/0.3.0",
    world: "plugin",
    pub_export_macro: true,
    export_macro_name: "export",
    default_bindings_module: "jijiao_plugin_sdk",
});

pub use exports::jijiao::rules::province::Guest;
pub use jijiao::rules::types::*;

/// The API version this SDK implements; the identity [`plugin!`] builds reports it.
pub const API_VERSION: &str = "0.3.0";

/// A province's rules: what a plugin implements. Inputs are borrowed; [`plugin!`] connects these to the
/// interface's exports (and derives `year-status-batch` from [`Province::year_status`]).
pub trait Province {
    /// Activity types open for claims in `config.figures.year`.
    fn catalogue(config: &Config) -> Vec<Activity>;
    /// Hours granted for a claim, or the fields that are wrong.
    fn assess(claim: &Claim, config: &Config) -> Result<Vec<Grant>, Vec<FieldError>>;
    /// Ordered approval steps (empty: approved at once).
    fn route(request: &RouteRequest, config: &Config) -> Result<Vec<Step>, Vec<FieldError>>;
    /// The person's standing for `figures.year`.
    fn year_status(person: &Person, credits: &[Credit], figures: &Figures) -> Progress;
    /// Certificate eligibility; an unknown kind is a field error on "kind".
    fn certificate(kind: &str, person: &Person, credits: &[Credit], figures: &Figures) -> Result<Eligibility, Vec<FieldError>>;
}

/// Who a plugin is; [`plugin!`] implements it from the crate's Cargo.toml.
pub trait Identity {
    const NAME: &'static str;
    const VERSION: &'static str;
    /// Province code (`hunan`).
    const PROVINCE: &'static str;
    /// The params the plugin reads (see [`params!`]).
    const PARAMS: &'static [Param];
}

impl<T: Province + Identity> Guest for T {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: T::NAME.into(),
            version: T::VERSION.into(),
            api: API_VERSION.into(),
            province: T::PROVINCE.into(),
            params: T::PARAMS.iter().map(|p| ParamSpec { key: p.key.into(), default: p.default }).collect(),
        }
    }

    fn activity_catalogue(config: Config) -> Vec<Activity> {
        <T as Province>::catalogue(&config)
    }

    fn assess_activity(claim: Claim, config: Config) -> Result<Vec<Grant>, Vec<FieldError>> {
        <T as Province>::assess(&claim, &config)
    }

    fn route(request: RouteRequest, config: Config) -> Result<Vec<Step>, Vec<FieldError>> {
        <T as Province>::route(&request, &config)
    }

    fn year_status(person: Person, credits: Vec<Credit>, figures: Figures) -> Progress {
        <T as Province>::year_status(&person, &credits, &figures)
    }

    fn year_status_batch(items: Vec<PersonYear>, figures: Figures) -> Vec<Progress> {
        items.iter().map(|item| <T as Province>::year_status(&item.person, &item.credits, &figures)).collect()
    }

    fn certificate_check(kind: String, person: Person, credits: Vec<Credit>, figures: Figures) -> Result<Eligibility, Vec<FieldError>> {
        <T as Province>::certificate(&kind, &person, &credits, &figures)
    }
}

/// Declares a plugin: `jijiao_plugin_sdk::plugin!(Hunan, province = "hunan", params = PARAMS);` (params
/// optional). Its name and version come from the crate's Cargo.toml. In the component this also exports
/// the interface; natively (tests, the host's benchmark) the export names, which contain ":" and "@", would
/// not link into a shared library, and nothing needs them there.
#[macro_export]
macro_rules! plugin {
    ($ty:ident, province = $province:literal $(, params = $params:expr)? $(,)?) => {
        impl $crate::Identity for $ty {
            const NAME: &'static str = env!("CARGO_PKG_NAME");
            const VERSION: &'static str = env!("CARGO_PKG_VERSION");
            const PROVINCE: &'static str = $province;
            const PARAMS: &'static [$crate::Param] = $crate::plugin!(@params $($params)?);
        }

        #[cfg(target_arch = "wasm32")]
        $crate::export!($ty);
    };
    (@params) => { &[] };
    (@params $params:expr) => { $params };
}

/// A named integer setting a plugin reads from `params` in rules.toml, with its default (hundredths for
/// keys ending in `_hours`). Declare them with [`params!`]; read them with [`param`] and [`param_hours`].
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// Position in the plugin's declared list, which is where `figures.params` carries the value.
    pub index: usize,
    pub key: &'static str,
    pub default: i64,
}

/// Declares a plugin's params in order, one constant each, and `PARAMS`, the list [`plugin!`] reports:
///
/// ```ignore
/// jijiao_plugin_sdk::params! {
///     /// Seed 001: a pre-job certificate needs 40 h.
///     PRE_JOB_HOURS = "pre_job_hours", h(40);
///     REQUIRED_COURSES_BLOCK = "required_courses_block", 1;
/// }
/// ```
#[macro_export]
macro_rules! params {
    ($($(#[$meta:meta])* $name:ident = $key:literal, $default:expr;)+) => {
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        enum __ParamIndex { $($name),+ }
        $($(#[$meta])* #[allow(clippy::unnecessary_cast)] pub const $name: $crate::Param =
            $crate::Param { index: __ParamIndex::$name as usize, key: $key, default: ($default) as i64 };)+
        /// The params this plugin reads, in the order `figures.params` carries them.
        pub const PARAMS: &[$crate::Param] = &[$($name),+];
    };
}

/// Hours in hundredths.
pub const fn h(whole_hours: u32) -> Hours {
    whole_hours * 100
}

/// A param's value for the year: the tenant's, else the plugin's declared default.
pub fn param(figures: &Figures, param: Param) -> i64 {
    figures.params.get(param.index).copied().unwrap_or(param.default)
}

/// A param holding hours in hundredths, clamped into range.
pub fn param_hours(figures: &Figures, param: Param) -> Hours {
    Hours::try_from(self::param(figures, param).max(0)).unwrap_or(Hours::MAX)
}

/// The rate of `activity` (and `tier`, "" for the base value), if the tenant configured one.
pub fn rate<'a>(config: &'a Config, activity: &str, tier: &str) -> Option<&'a Rate> {
    config.rates.iter().find(|r| r.activity == activity && r.tier == tier)
}

/// The requirement row for the person's title level, else the default row; `None` when the tenant
/// configured neither.
pub fn requirement<'a>(figures: &'a Figures, person: &Person) -> Option<&'a Requirement> {
    let own = (person.title_level != 0).then(|| figures.requirements.iter().find(|r| r.title_level == person.title_level)).flatten();
    own.or_else(|| figures.requirements.iter().find(|r| r.title_level == 0))
}

impl From<&Requirement> for Totals {
    fn from(row: &Requirement) -> Totals {
        Totals { public: row.public, professional: row.professional, total: row.total }
    }
}

/// One approval step.
pub fn step(role: Role, level: OrgLevel) -> Step {
    Step { role, level }
}

pub fn totals(public: Hours, professional: Hours) -> Totals {
    Totals { public, professional, total: public.saturating_add(professional) }
}

/// Sums credits per subject, applying the tenant's caps per source and subject. Returns the counted
/// totals and a note for every cap that cut hours.
pub fn count(credits: &[Credit], caps: &[Cap]) -> (Totals, Vec<String>) {
    // Per (source, subject) sums; 4 sources × 2 subjects, indexed without allocation.
    let mut sums = [[0u32; 2]; 4];
    for credit in credits {
        let cell = &mut sums[source_index(credit.source)][subject_index(credit.subject)];
        *cell = cell.saturating_add(credit.hours);
    }
    let mut notes = Vec::new();
    for cap in caps {
        let cell = &mut sums[source_index(cap.source)][subject_index(cap.subject)];
        if *cell > cap.max {
            notes.push(format!(
                "{}{}学时超过上限 {}，按 {} 计入",
                source_label(cap.source),
                subject_label(cap.subject),
                decimal(*cell),
                decimal(cap.max)
            ));
            *cell = cap.max;
        }
    }
    let public = sums.iter().map(|s| s[0]).fold(0u32, u32::saturating_add);
    let professional = sums.iter().map(|s| s[1]).fold(0u32, u32::saturating_add);
    (totals(public, professional), notes)
}

/// Required minus counted, per subject and in total, never below zero.
pub fn shortfall(required: &Totals, counted: &Totals) -> Totals {
    Totals {
        public: required.public.saturating_sub(counted.public),
        professional: required.professional.saturating_sub(counted.professional),
        total: required.total.saturating_sub(counted.total),
    }
}

/// Builds a status from required and counted totals: met when nothing falls short and no blocking
/// note (such as a missing required course) was raised.
pub fn status(required: Totals, counted: Totals, notes: Vec<String>, blocked: bool) -> Progress {
    let shortfall = shortfall(&required, &counted);
    let met = !blocked && shortfall.public == 0 && shortfall.professional == 0 && shortfall.total == 0;
    Progress { met, required, counted, shortfall, notes }
}

/// A certificate that needs exactly "the year is met": eligible, or the shortfalls as reasons.
pub fn eligibility_when_met(year: u16, progress: Progress) -> Eligibility {
    let mut reasons = Vec::new();
    for (subject, short) in [(Subject::Public, progress.shortfall.public), (Subject::Professional, progress.shortfall.professional)] {
        if short > 0 {
            reasons.push(format!("{year}年度{}还差 {} 学时", subject_label(subject), decimal(short)));
        }
    }
    if progress.shortfall.total > 0 {
        reasons.push(format!("{year}年度总学时还差 {} 学时", decimal(progress.shortfall.total)));
    }
    if !progress.met && reasons.is_empty() {
        reasons.extend(progress.notes);
    }
    Eligibility { eligible: progress.met, reasons }
}

/// Names of the year's required courses that no credit covers.
pub fn missing_courses<'a>(credits: &[Credit], figures: &'a Figures) -> Vec<&'a str> {
    figures
        .required_courses
        .iter()
        .enumerate()
        .filter(|(i, _)| !credits.iter().any(|c| usize::from(c.course) == i + 1))
        .map(|(_, name)| name.as_str())
        .collect()
}

fn source_index(source: Source) -> usize {
    match source {
        Source::Online => 0,
        Source::Offline => 1,
        Source::Activity => 2,
        Source::Recognized => 3,
    }
}

fn subject_index(subject: Subject) -> usize {
    match subject {
        Subject::Public => 0,
        Subject::Professional => 1,
    }
}

pub fn subject_label(subject: Subject) -> &'static str {
    match subject {
        Subject::Public => "公需科目",
        Subject::Professional => "专业科目",
    }
}

fn source_label(source: Source) -> &'static str {
    match source {
        Source::Online => "网络培训",
        Source::Offline => "线下培训",
        Source::Activity => "活动",
        Source::Recognized => "互认",
    }
}

/// Hundredths as a short decimal for messages ("12.5", "90").
pub fn decimal(hours: Hours) -> String {
    let (whole, frac) = (hours / 100, hours % 100);
    match frac {
        0 => whole.to_string(),
        f if f % 10 == 0 => format!("{whole}.{}", f / 10),
        f => format!("{whole}.{f:02}"),
    }
}

/// Parses a decimal with at most two fractional digits into hundredths ("12.5" → 1250).
pub fn parse_hours(text: &str) -> Option<Hours> {
    let text = text.trim();
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || frac.len() > 2 || !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u32 = whole.parse().ok()?;
    let frac: u32 = if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse().ok()? };
    whole.checked_mul(100)?.checked_add(frac)
}

/// A YYYY-MM-DD date as a sortable number (20210514), if well formed.
pub fn parse_date(text: &str) -> Option<u32> {
    let parts: Vec<&str> = text.trim().split('-').collect();
    let [y, m, d] = parts.as_slice() else { return None };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (u32, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (1..=days).contains(&d).then_some(y * 10000 + m * 100 + d)
}

/// Field constructors, so catalogues read as a list of forms.
pub mod fields {
    use super::{Field, FieldKind};
    use crate::prelude::*;

    fn field(key: &str, label: &str, kind: FieldKind, required: bool, max: u32) -> Field {
        Field { key: key.into(), label: label.into(), kind, required, max, choices: Vec::new() }
    }
    pub fn text(key: &str, label: &str, max_chars: u32) -> Field {
        field(key, label, FieldKind::Text, true, max_chars)
    }
    pub fn optional_text(key: &str, label: &str, max_chars: u32) -> Field {
        field(key, label, FieldKind::Text, false, max_chars)
    }
    /// A number; `max` in hundredths (0 = no limit).
    pub fn number(key: &str, label: &str, max: u32) -> Field {
        field(key, label, FieldKind::Number, true, max)
    }
    pub fn date(key: &str, label: &str) -> Field {
        field(key, label, FieldKind::Date, true, 0)
    }
    pub fn file(key: &str, label: &str) -> Field {
        field(key, label, FieldKind::File, true, 0)
    }
    pub fn choice(key: &str, label: &str, choices: &[(&str, &str)]) -> Field {
        Field {
            choices: choices.iter().map(|(c, l)| ((*c).into(), (*l).into())).collect(),
            ..field(key, label, FieldKind::Choice, true, 0)
        }
    }
}

/// A claim's field values after validation against its activity's form.
pub struct Form<'a> {
    values: &'a [(String, String)],
}

impl<'a> Form<'a> {
    /// Checks every field of `activity` (required, length, number range, date, choice) and that the
    /// claim has no unknown fields; start/end dates, when both present, must be in order.
    pub fn validate(activity: &Activity, values: &'a [(String, String)]) -> Result<Form<'a>, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut error = |field: &str, message: String| errors.push(FieldError { field: field.into(), message });
        for (key, _) in values {
            if !activity.fields.iter().any(|f| &f.key == key) {
                error(key, format!("“{}”没有此字段", activity.name));
            }
        }
        for spec in &activity.fields {
            let value = values.iter().find(|(k, _)| *k == spec.key).map(|(_, v)| v.trim()).unwrap_or("");
            if value.is_empty() {
                if spec.required {
                    error(&spec.key, format!("请填写{}", spec.label));
                }
                continue;
            }
            match spec.kind {
                FieldKind::Text if spec.max > 0 && value.chars().count() > spec.max as usize => {
                    error(&spec.key, format!("{}不得超过 {} 字", spec.label, spec.max));
                }
                FieldKind::Number => match parse_hours(value) {
                    None => error(&spec.key, format!("{}须为最多两位小数的非负数", spec.label)),
                    Some(n) if spec.max > 0 && n > spec.max => {
                        error(&spec.key, format!("{}不得大于 {}", spec.label, decimal(spec.max)));
                    }
                    Some(_) => {}
                },
                FieldKind::Date if parse_date(value).is_none() => error(&spec.key, format!("{}须为 YYYY-MM-DD 格式的日期", spec.label)),
                FieldKind::Choice if !spec.choices.iter().any(|(code, _)| code == value) => {
                    error(&spec.key, format!("{}的取值无效", spec.label));
                }
                _ => {}
            }
        }
        let form = Form { values };
        if let (Some(start), Some(end)) = (form.get("start_date").and_then(parse_date), form.get("end_date").and_then(parse_date))
            && end < start
        {
            error("end_date", "结束日期不得早于开始日期".into());
        }
        if errors.is_empty() { Ok(form) } else { Err(errors) }
    }

    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.values.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }

    /// A validated number field in hundredths (0 when absent).
    pub fn hours(&self, key: &str) -> Hours {
        self.get(key).and_then(parse_hours).unwrap_or(0)
    }
}

/// One field error, for plugin logic beyond the form checks.
pub fn field_error(field: &str, message: impl Into<String>) -> Vec<FieldError> {
    vec![FieldError { field: field.into(), message: message.into() }]
}

/// Grants for the non-zero parts of a (public, professional) pair.
pub fn grants(public: Hours, professional: Hours) -> Vec<Grant> {
    let mut grants = Vec::with_capacity(2);
    if public > 0 {
        grants.push(Grant { subject: Subject::Public, hours: public });
    }
    if professional > 0 {
        grants.push(Grant { subject: Subject::Professional, hours: professional });
    }
    grants
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_parse_and_print_round_trip() {
        assert_eq!(parse_hours("12.5"), Some(1250));
        assert_eq!(parse_hours("0.05"), Some(5));
        assert_eq!(parse_hours("90"), Some(9000));
        assert_eq!(parse_hours("1.234"), None);
        assert_eq!(parse_hours("-1"), None);
        assert_eq!(decimal(1250), "12.5");
        assert_eq!(decimal(9000), "90");
        assert_eq!(decimal(5), "0.05");
    }

    #[test]
    fn dates_are_checked_for_real_days() {
        assert_eq!(parse_date("2024-02-29"), Some(20240229));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2023-13-01"), None);
    }

    #[test]
    fn caps_cut_hours_and_say_so() {
        let credits = [
            Credit { subject: Subject::Professional, hours: h(50), source: Source::Activity, course: 0 },
            Credit { subject: Subject::Professional, hours: h(20), source: Source::Online, course: 0 },
        ];
        let caps = [Cap { source: Source::Activity, subject: Subject::Professional, max: h(30) }];
        let (counted, notes) = count(&credits, &caps);
        assert_eq!(counted.professional, h(50));
        assert_eq!(notes.len(), 1);
    }
}
