//! A tenant's rule setup, read from its folder: the plugin pins in `tenant.toml` (`[[rules]]`, one per
//! effective year range) and the operator-editable numbers in `rules.toml`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::RulesError;
use super::host::wit;
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
        .ok_or_else(|| RulesError::Config(format!("{} 没有适用于 {year} 年度的规则插件（[[rules]]）", path.display())))
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

#[derive(Debug, Clone, Deserialize)]
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

    /// The plugin's `config` for `year`.
    pub fn for_year(&self, year: u16) -> Result<wit::Config, RulesError> {
        let over = self.years.get(&year);
        let requirements = layered(over, &self.defaults, |t| &t.requirements);
        let caps = layered(over, &self.defaults, |t| &t.caps);
        let courses = layered(over, &self.defaults, |t| &t.required_courses);
        let rates = layered(over, &self.defaults, |t| &t.rates);
        let params = layered(over, &self.defaults, |t| &t.params);
        let params = params
            .into_iter()
            .flatten()
            .map(|(key, written)| {
                let value = if key.ends_with("_hours") {
                    Hours::from_decimal(*written).map(|h| i64::from(h.0))
                } else {
                    (written.fract() == 0.0).then_some(*written as i64)
                };
                value
                    .map(|value| wit::Param { key: key.clone(), value })
                    .ok_or_else(|| RulesError::Config(format!("params.{key} 的取值无效：{written}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(wit::Config {
            year,
            requirements: requirements
                .into_iter()
                .flatten()
                .map(|r| wit::Requirement {
                    title_level: r.title_level.clone(),
                    public: r.public.0,
                    professional: r.professional.0,
                    total: r.total.0,
                })
                .collect(),
            caps: caps
                .into_iter()
                .flatten()
                .map(|c| wit::Cap { source: c.source.into(), subject: c.subject.into(), max: c.max.0 })
                .collect(),
            required_courses: courses.cloned().unwrap_or_default(),
            rates: rates
                .into_iter()
                .flatten()
                .map(|r| wit::Rate {
                    activity: r.activity.clone(),
                    tier: r.tier.clone(),
                    public: r.public.0,
                    professional: r.professional.0,
                })
                .collect(),
            params,
        })
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
