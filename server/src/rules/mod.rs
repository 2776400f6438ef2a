//! Province rules as sandboxed WebAssembly components (DESIGN.md, "Rules as WebAssembly components").
//!
//! A tenant pins its plugins per effective year range in `tenants/<code>/tenant.toml` and keeps its
//! numbers in `tenants/<code>/rules.toml`. The rest of the server asks
//! `rules.for_tenant_year("hunan", 2024)?` for a [`YearRules`] and calls `year_status`, `assess`, `route`,
//! … on it. Calls are synchronous and CPU-bound: from async code run them through
//! [`YearRules::blocking`] (a tokio blocking thread), never on the async executor.

pub mod cli;
pub mod host;
pub mod model;
pub mod tenant;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use host::wit;
pub use host::{API_VERSION, Host, Limits, Plugin};
use model::{Assessment, Certificate, ClaimInput, Description, PersonYear, PluginIdentity, Route, RouteInput, Step, YearStatus};
use tenant::RulesFile;

/// Why a rules call did not produce an answer. Messages are for the person who sees them (Chinese);
/// [`RulesError::code`] is for machines.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("规则插件运行出错（trap）：{0}")]
    Trap(String),
    #[error("规则插件超出计算预算")]
    FuelExhausted,
    #[error("规则插件超出运行时间上限")]
    DeadlineExceeded,
    #[error("规则插件超出内存上限（{limit_mb} MB）")]
    MemoryExhausted { limit_mb: usize },
    #[error("规则插件返回了无法识别的结果：{0}")]
    MalformedOutput(String),
    #[error("规则插件接口版本不符：主机支持 {expected}，插件为 {found}")]
    ApiMismatch { expected: String, found: String },
    #[error("规则插件 {plugin} 的 sha256 与租户配置不符：配置为 {expected}，实际为 {actual}")]
    ShaMismatch { plugin: String, expected: String, actual: String },
    #[error("无法加载规则插件：{0}")]
    Compile(String),
    #[error("规则服务繁忙，请稍后重试")]
    Busy,
    #[error("输入过大：{0}")]
    InputTooLarge(String),
    #[error("输入有误")]
    InvalidInput(std::collections::BTreeMap<String, String>),
    #[error("{0}")]
    Config(String),
    #[error("规则引擎初始化失败：{0}")]
    Setup(String),
}

impl RulesError {
    /// A stable machine code for APIs and the CLI.
    pub fn code(&self) -> &'static str {
        match self {
            RulesError::Trap(_) => "plugin_trap",
            RulesError::FuelExhausted => "plugin_fuel_exhausted",
            RulesError::DeadlineExceeded => "plugin_deadline",
            RulesError::MemoryExhausted { .. } => "plugin_memory",
            RulesError::MalformedOutput(_) => "plugin_malformed_output",
            RulesError::ApiMismatch { .. } => "plugin_api_mismatch",
            RulesError::ShaMismatch { .. } => "plugin_sha_mismatch",
            RulesError::Compile(_) => "plugin_invalid",
            RulesError::Busy => "rules_busy",
            RulesError::InputTooLarge(_) => "input_too_large",
            RulesError::InvalidInput(_) => "invalid_input",
            RulesError::Config(_) => "rules_config",
            RulesError::Setup(_) => "rules_setup",
        }
    }

    /// The plugin (not the request) is at fault: it trapped, ran out of budget or memory, answered
    /// nonsense, or was refused at load.
    pub fn is_plugin_failure(&self) -> bool {
        matches!(
            self,
            RulesError::Trap(_)
                | RulesError::FuelExhausted
                | RulesError::DeadlineExceeded
                | RulesError::MemoryExhausted { .. }
                | RulesError::MalformedOutput(_)
                | RulesError::ApiMismatch { .. }
                | RulesError::ShaMismatch { .. }
                | RulesError::Compile(_)
        )
    }
}

/// Every tenant's rules: where the tenant folders and plugin files are, and the shared host.
pub struct Rules {
    host: Arc<Host>,
    tenants_dir: PathBuf,
    plugins_dir: PathBuf,
    /// Parsed rules.toml per tenant (tests and `--config` runs bypass it with [`Rules::with_config`]).
    files: Mutex<HashMap<String, Arc<RulesFile>>>,
}

impl Rules {
    pub fn new(host: Arc<Host>, tenants_dir: impl Into<PathBuf>, plugins_dir: impl Into<PathBuf>) -> Rules {
        Rules { host, tenants_dir: tenants_dir.into(), plugins_dir: plugins_dir.into(), files: Mutex::new(HashMap::new()) }
    }

    /// The plugin and numbers that judge `tenant`'s `year`.
    pub fn for_tenant_year(&self, tenant: &str, year: u16) -> Result<YearRules, RulesError> {
        let file = self.rules_file(tenant)?;
        self.with_config(tenant, year, &file)
    }

    /// Like [`Rules::for_tenant_year`] with another rules file (an author's what-if run).
    pub fn with_config(&self, tenant: &str, year: u16, file: &RulesFile) -> Result<YearRules, RulesError> {
        let dir = self.tenant_dir(tenant)?;
        let pin = tenant::pin_for_year(&dir, year)?;
        let path = self.plugins_dir.join(&pin.path);
        let bytes = std::fs::read(&path)
            .map_err(|e| RulesError::Config(format!("无法读取规则插件 {}：{e}（先运行 cargo xtask plugins 构建插件）", path.display())))?;
        let plugin = self.host.load(&bytes, Some(&pin.sha256), &pin.path.display().to_string())?;
        Ok(YearRules { tenant: tenant.into(), year, plugin, config: Arc::new(file.for_year(year)?) })
    }

    fn tenant_dir(&self, tenant: &str) -> Result<PathBuf, RulesError> {
        let valid = !tenant.is_empty() && tenant.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        let dir = self.tenants_dir.join(tenant);
        if valid && dir.join("tenant.toml").is_file() { Ok(dir) } else { Err(RulesError::Config(format!("未知租户：{tenant}"))) }
    }

    fn rules_file(&self, tenant: &str) -> Result<Arc<RulesFile>, RulesError> {
        let dir = self.tenant_dir(tenant)?;
        let mut files = self.files.lock().map_err(|_| RulesError::Setup("rules cache poisoned".into()))?;
        if let Some(file) = files.get(tenant) {
            return Ok(file.clone());
        }
        let file = Arc::new(RulesFile::read(&dir.join("rules.toml"))?);
        files.insert(tenant.into(), file.clone());
        Ok(file)
    }

    pub fn tenants_dir(&self) -> &Path {
        &self.tenants_dir
    }
}

/// One tenant's rules for one year: the pinned plugin and that year's numbers. Cheap to clone.
#[derive(Clone)]
pub struct YearRules {
    pub tenant: String,
    pub year: u16,
    plugin: Arc<Plugin>,
    config: Arc<wit::Config>,
}

impl YearRules {
    /// Runs `f` on a tokio blocking thread, for async callers.
    pub async fn blocking<R: Send + 'static>(
        self,
        f: impl FnOnce(&YearRules) -> Result<R, RulesError> + Send + 'static,
    ) -> Result<R, RulesError> {
        tokio::task::spawn_blocking(move || f(&self)).await.map_err(|e| RulesError::Setup(e.to_string()))?
    }

    pub fn plugin(&self) -> PluginIdentity {
        let info = self.plugin.info();
        PluginIdentity { name: info.name.clone(), version: info.version.clone(), api: info.api.clone(), sha256: self.plugin.sha256.clone() }
    }

    /// The plugin's identity and the year's activity catalogue.
    pub fn describe(&self) -> Result<Description, RulesError> {
        let activities = self.catalogue()?;
        Ok(Description { tenant: self.tenant.clone(), plugin: self.plugin(), activities })
    }

    pub fn catalogue(&self) -> Result<Vec<model::Activity>, RulesError> {
        self.check_config_size()?;
        let activities = self.plugin.call(0, |store, guest| guest.call_activity_catalogue(store, self.year, &self.config))?;
        Ok(activities.into_iter().map(Into::into).collect())
    }

    pub fn assess(&self, claim: &ClaimInput) -> Result<Assessment, RulesError> {
        self.check_year(claim.year)?;
        self.check_config_size()?;
        let claim = claim.to_wit();
        let size: usize = claim.fields.iter().map(|(k, v)| k.len() + v.len()).sum();
        if size > self.plugin_limits().max_input_bytes {
            return Err(RulesError::InputTooLarge(format!("表单内容共 {size} 字节")));
        }
        let result = self.plugin.call(claim.fields.len(), |store, guest| guest.call_assess_activity(store, &claim, &self.config))?;
        Ok(Assessment::from_wit(result))
    }

    pub fn route(&self, request: &RouteInput) -> Result<Route, RulesError> {
        let request = wit::RouteRequest::from(request);
        let steps = self.plugin.call(0, |store, guest| guest.call_route(store, &request, &self.config))?;
        match steps {
            Ok(steps) => Ok(Route { steps: steps.into_iter().map(|s| Step { role: s.role.into(), level: s.level.into() }).collect() }),
            Err(errors) => Err(RulesError::InvalidInput(model::field_errors(errors))),
        }
    }

    pub fn year_status(&self, input: &PersonYear) -> Result<YearStatus, RulesError> {
        self.check_year(input.year)?;
        self.check_config_size()?;
        let item = input.to_wit(&self.config.required_courses);
        let progress = self
            .plugin
            .call(item.credits.len(), |store, guest| guest.call_year_status(store, &item.person, item.year, &item.credits, &self.config))?;
        Ok(YearStatus::from_wit(input.year, progress))
    }

    /// Many person-years of this year in one call (a province-wide recompute).
    pub fn year_status_batch(&self, inputs: &[PersonYear]) -> Result<Vec<YearStatus>, RulesError> {
        let items = self.batch_items(inputs)?;
        let work = items.iter().map(|i| 1 + i.credits.len()).sum();
        let results = self.plugin.call(work, |store, guest| guest.call_year_status_batch(store, &items, &self.config))?;
        if results.len() != inputs.len() {
            return Err(RulesError::MalformedOutput(format!("批量计算应返回 {} 项，实际返回 {} 项", inputs.len(), results.len())));
        }
        Ok(results.into_iter().map(|p| YearStatus::from_wit(self.year, p)).collect())
    }

    /// The interface records for a batch, checked for year and size; exposed for the benchmark.
    pub fn batch_items(&self, inputs: &[PersonYear]) -> Result<Vec<wit::PersonYear>, RulesError> {
        self.check_config_size()?;
        inputs
            .iter()
            .map(|input| {
                self.check_year(input.year)?;
                Ok(input.to_wit(&self.config.required_courses))
            })
            .collect()
    }

    /// `year_status_batch` on records already in interface form (no conversion), for the benchmark.
    pub fn year_status_batch_raw(&self, items: &[wit::PersonYear]) -> Result<usize, RulesError> {
        let work = items.iter().map(|i| 1 + i.credits.len()).sum();
        let results = self.plugin.call(work, |store, guest| guest.call_year_status_batch(store, items, &self.config))?;
        Ok(results.len())
    }

    pub fn certificate_check(&self, kind: &str, input: &PersonYear) -> Result<Certificate, RulesError> {
        self.check_year(input.year)?;
        self.check_config_size()?;
        let item = input.to_wit(&self.config.required_courses);
        let result = self.plugin.call(item.credits.len(), |store, guest| {
            guest.call_certificate_check(store, kind, &item.person, item.year, &item.credits, &self.config)
        })?;
        match result {
            Ok(e) => Ok(Certificate { kind: kind.into(), eligible: e.eligible, reasons: e.reasons }),
            Err(errors) => Err(RulesError::InvalidInput(model::field_errors(errors))),
        }
    }

    fn plugin_limits(&self) -> &Limits {
        self.plugin.limits()
    }

    /// Judgements are per year: a person-year for another year must ask for that year's rules.
    fn check_year(&self, year: u16) -> Result<(), RulesError> {
        if year == self.year {
            Ok(())
        } else {
            Err(RulesError::InvalidInput([("year".to_owned(), format!("应为 {} 年度", self.year))].into()))
        }
    }

    fn check_config_size(&self) -> Result<(), RulesError> {
        let c = &self.config;
        let size = c.requirements.iter().map(|r| r.title_level.len() + 12).sum::<usize>()
            + c.required_courses.iter().map(String::len).sum::<usize>()
            + c.rates.iter().map(|r| r.activity.len() + r.tier.len() + 8).sum::<usize>()
            + c.params.iter().map(|p| p.key.len() + 8).sum::<usize>()
            + c.caps.len() * 8;
        if size > self.plugin_limits().max_input_bytes {
            return Err(RulesError::InputTooLarge(format!("规则配置共 {size} 字节")));
        }
        Ok(())
    }
}
