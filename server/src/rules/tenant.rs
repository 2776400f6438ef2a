//! A tenant's rule setup, read from its folder: the plugin pins in `tenant.toml` (`[[rules]]`, one per
//! effective year range) and the operator-editable numbers in `rules.toml`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::RulesError;
use super::model::Hours;

/// One `[[rules]]` entry of tenant.toml: which plugin judges which years.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pin {
    /// First year judged by this plugin.
    pub from: u16,
    /// Last year judged by it (inclusive); open-ended when absent.
    #[serde(default)]
    pub until: Option<u16>,
    /// The component file, relative to the plugins directory.
    pub path: PathBuf,
    pub sha256: String,
}

#[derive(Deserialize)]
struct TenantFile {
    #[serde(default)]
    rules: Vec<Pin>,
}

/// The pin covering `year`; when ranges overlap, the one that starts latest wins.
pub fn pin_for_year(tenant_dir: &Path, year: u16) -> Result<Pin, RulesError> {
    let path = tenant_dir.join("tenant.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| RulesError::Config(format!("无法读取 {}：{e}", path.display())))?;
    let file: TenantFile = toml::from_str(&text).map_err(|e| RulesError::Config(format!("{} 格式错误：{e}", path.display())))?;
    file.rules
        .into_iter()
        .filter(|pin| pin.from <= year && pin.until.is_none_or(|until| year <= until))
        .max_by_key(|pin| pin.from)
        // A year the province has no rules for is the asker's mistake (a year picked by hand), not a fault.
        .ok_or_else(|| RulesError::InvalidInput([("year".to_owned(), format!("本省没有 {year} 年度的学时规则"))].into()))
}

/// `rules.toml`: `[defaults]` for every year, `[years.N]` replacing keys for year N.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesFile {
    #[serde(default)]
    pub defaults: YearTables,
    #[serde(default)]
    pub years: BTreeMap<u16, YearTables>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearTables {
    pub requirements: Option<Vec<RequirementRow>>,
    pub caps: Option<Vec<CapRow>>,
    pub required_courses: Option<Vec<String>>,
    pub rates: Option<Vec<RateRow>>,
    /// Named numbers; keys ending in `_hours` are hours (decimal here, hundredths for the plugin),
    /// others plain integers.
    pub params: Option<BTreeMap<String, f64>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RequirementRow {
    pub title_level: String,
    #[serde(default)]
    pub public: Hours,
    #[serde(default)]
    pub professional: Hours,
    pub total: Hours,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapRow {
    pub source: super::model::Source,
    pub subject: super::model::Subject,
    pub max: Hours,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateRow {
    pub activity: String,
    #[serde(default)]
    pub tier: String,
    #[serde(default)]
    pub public: Hours,
    #[serde(default)]
    pub professional: Hours,
}

impl RulesFile {
    /// Reads a rules file; `.json` files are JSON, anything else TOML (for `--config` what-if runs).
    pub fn read(path: &Path) -> Result<RulesFile, RulesError> {
        let text = std::fs::read_to_string(path).map_err(|e| RulesError::Config(format!("无法读取 {}：{e}", path.display())))?;
        let parsed = if path.extension().is_some_and(|ext| ext == "json") {
            serde_json::from_str(&text).map_err(|e| e.to_string())
        } else {
            toml::from_str(&text).map_err(|e| e.to_string())
        };
        parsed.map_err(|e| RulesError::Config(format!("{} 格式错误：{e}", path.display())))
    }

    /// The tables in force for `year`: each one from `[years.N]` when that sets it, else `[defaults]`.
    /// Each API version's adapter turns this into its interface's records.
    pub fn for_year(&self, year: u16) -> Result<YearConfig, RulesError> {
        let over = self.years.get(&year);
        let params = layered(over, &self.defaults, |t| &t.params)
            .into_iter()
            .flatten()
            .map(|(key, written)| {
                let value = if key.ends_with("_hours") {
                    Hours::from_decimal(*written).map(|h| i64::from(h.0))
                } else {
                    (written.fract() == 0.0).then_some(*written as i64)
                };
                value.map(|value| (key.clone(), value)).ok_or_else(|| RulesError::Config(format!("params.{key} 的取值无效：{written}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        fn table<T: Clone>(t: Option<&Vec<T>>) -> Vec<T> {
            t.cloned().unwrap_or_default()
        }
        Ok(YearConfig {
            year,
            requirements: table(layered(over, &self.defaults, |t| &t.requirements)),
            caps: table(layered(over, &self.defaults, |t| &t.caps)),
            required_courses: table(layered(over, &self.defaults, |t| &t.required_courses)),
            rates: table(layered(over, &self.defaults, |t| &t.rates)),
            params,
        })
    }
}

/// One year's tables, resolved from a [`RulesFile`]; params already in the plugin's units (hundredths for
/// keys ending in `_hours`).
#[derive(Debug, Clone, Default)]
pub struct YearConfig {
    pub year: u16,
    pub requirements: Vec<RequirementRow>,
    pub caps: Vec<CapRow>,
    pub required_courses: Vec<String>,
    pub rates: Vec<RateRow>,
    pub params: Vec<(String, i64)>,
}

impl YearConfig {
    /// Bytes of strings and rows a call carries, for the input-size cap.
    pub fn input_bytes(&self) -> usize {
        self.requirements.iter().map(|r| r.title_level.len() + 12).sum::<usize>()
            + self.required_courses.iter().map(String::len).sum::<usize>()
            + self.rates.iter().map(|r| r.activity.len() + r.tier.len() + 8).sum::<usize>()
            + self.params.iter().map(|(key, _)| key.len() + 8).sum::<usize>()
            + self.caps.len() * 8
    }

    /// 1-based index of a course name among the year's required courses, 0 when it is not one.
    pub fn course_index(&self, course: Option<&str>) -> u16 {
        course
            .and_then(|name| self.required_courses.iter().position(|r| r == name.trim()))
            .and_then(|i| u16::try_from(i + 1).ok())
            .unwrap_or(0)
    }
}

/// A year's table if the year sets it, else the default one.
fn layered<'a, T>(
    over: Option<&'a YearTables>,
    defaults: &'a YearTables,
    table: impl Fn(&'a YearTables) -> &'a Option<T>,
) -> Option<&'a T> {
    over.and_then(|o| table(o).as_ref()).or_else(|| table(defaults).as_ref())
}
