//! Province rules as sandboxed WebAssembly components (DESIGN.md, "Rules as WebAssembly components").
//!
//! A tenant pins its plugins per effective year range in `tenants/<code>/tenant.toml` and keeps its
//! numbers in `tenants/<code>/rules.toml`. The rest of the server asks
//! `rules.for_tenant_year("hunan", 2024)?` for a [`YearRules`] and calls `year_status`, `assess`, `route`,
//! … on it. Calls are synchronous and CPU-bound: from async code run them through
//! [`YearRules::blocking`] (a tokio blocking thread), never on the async executor.

mod api;
pub mod cli;
pub mod host;
pub mod model;
pub mod stored;
pub mod tenant;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use api::Batch;
use api::{BatchItems, Prepared};
pub use host::{API_VERSION, API_VERSIONS, ApiVersion, Host, Limits, Plugin};
use model::{Assessment, Certificate, ClaimInput, Description, PersonYear, PluginIdentity, Route, RouteInput, YearStatus};
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
    /// Resolved rules per tenant and year: the pin read, the plugin file hashed and loaded, the year's tables
    /// prepared for the plugin's API version — once per process, so hot paths pay a map look-up. Like
    /// rules.toml, tenant.toml pins and plugin files are read once: a change takes a restart.
    years: Mutex<HashMap<String, HashMap<u16, YearRules>>>,
    /// Requirement tables administrators stored per tenant and year ([`stored`]): each replaces the rules
    /// file's `requirements` for its year only.
    stored: Mutex<HashMap<String, stored::TenantTables>>,
    /// Bumped whenever a stored table changes.
    generation: std::sync::atomic::AtomicU64,
}

impl Rules {
    pub fn new(host: Arc<Host>, tenants_dir: impl Into<PathBuf>, plugins_dir: impl Into<PathBuf>) -> Rules {
        Rules {
            host,
            tenants_dir: tenants_dir.into(),
            plugins_dir: plugins_dir.into(),
            files: Mutex::new(HashMap::new()),
            years: Mutex::new(HashMap::new()),
            stored: Mutex::new(HashMap::new()),
            generation: Default::default(),
        }
    }

    /// The plugin and numbers that judge `tenant`'s `year` (cached after the first call).
    pub fn for_tenant_year(&self, tenant: &str, year: u16) -> Result<YearRules, RulesError> {
        let poisoned = || RulesError::Setup("rules cache poisoned".into());
        if let Some(rules) = self.years.lock().map_err(|_| poisoned())?.get(tenant).and_then(|years| years.get(&year)) {
            return Ok(rules.clone());
        }
        // Resolved outside the lock (file reads, maybe a compile); two threads racing here build the same
        // thing and the second insert wins.
        let file = self.rules_file(tenant)?;
        let generation = self.generation.load(std::sync::atomic::Ordering::SeqCst);
        let rules = self.resolve(tenant, year, &file, self.stored_requirements(tenant, year))?;
        let mut years = self.years.lock().map_err(|_| poisoned())?;
        // Built from a stored table that has since changed: good for this call, not for the cache.
        if generation == self.generation.load(std::sync::atomic::Ordering::SeqCst) {
            years.entry(tenant.to_owned()).or_default().insert(year, rules.clone());
        }
        Ok(rules)
    }

    /// Like [`Rules::for_tenant_year`] with another rules file (an author's what-if run); never cached.
    pub fn with_config(&self, tenant: &str, year: u16, file: &RulesFile) -> Result<YearRules, RulesError> {
        self.resolve(tenant, year, file, None)
    }

    /// The year's rules from `file`, its requirement table replaced by a stored one when there is one.
    fn resolve(
        &self,
        tenant: &str,
        year: u16,
        file: &RulesFile,
        requirements: Option<Vec<tenant::RequirementRow>>,
    ) -> Result<YearRules, RulesError> {
        let dir = self.tenant_dir(tenant)?;
        let pin = tenant::pin_for_year(&dir, year)?;
        let path = self.plugins_dir.join(&pin.path);
        let bytes = std::fs::read(&path)
            .map_err(|e| RulesError::Config(format!("无法读取规则插件 {}：{e}（先运行 cargo xtask plugins 构建插件）", path.display())))?;
        let plugin = self.host.load(&bytes, Some(&pin.sha256), &pin.path.display().to_string())?;
        let mut tables = file.for_year(year)?;
        if let Some(requirements) = requirements {
            tables.requirements = requirements;
        }
        let input_bytes = tables.input_bytes();
        let prepared = Arc::new(Prepared::new(&plugin, tables));
        Ok(YearRules { tenant: tenant.into(), year, plugin, prepared, input_bytes })
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

/// One tenant's rules for one year: the pinned plugin and that year's numbers, prepared for the plugin's
/// API version. Cheap to clone.
#[derive(Clone)]
pub struct YearRules {
    pub tenant: String,
    pub year: u16,
    plugin: Arc<Plugin>,
    prepared: Arc<Prepared>,
    /// Bytes of strings and rows the year's tables put in every call, for the input-size cap.
    input_bytes: usize,
}

/// Calls the adapter of the plugin's API version: `dispatch!(self, p => p.method(args))`.
macro_rules! dispatch {
    ($self:ident, $p:ident => $call:expr) => {
        match &*$self.prepared {
            Prepared::V0_1($p) => $call,
            Prepared::V0_2($p) => $call,
            Prepared::V0_3($p) => $call,
        }
    };
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
        dispatch!(self, p => p.catalogue(&self.plugin))
    }

    pub fn assess(&self, claim: &ClaimInput) -> Result<Assessment, RulesError> {
        self.check_year(claim.year)?;
        self.check_config_size()?;
        let fields = claim.field_texts();
        let size: usize = fields.iter().map(|(k, v)| k.len() + v.len()).sum();
        if size > self.plugin_limits().max_input_bytes {
            return Err(RulesError::InputTooLarge(format!("表单内容共 {size} 字节")));
        }
        dispatch!(self, p => p.assess(&self.plugin, claim, fields))
    }

    pub fn route(&self, request: &RouteInput) -> Result<Route, RulesError> {
        dispatch!(self, p => p.route(&self.plugin, request))
    }

    pub fn year_status(&self, input: &PersonYear) -> Result<YearStatus, RulesError> {
        self.check_year(input.year)?;
        self.check_config_size()?;
        dispatch!(self, p => p.year_status(&self.plugin, input))
    }

    /// Many person-years of this year in one call (a province-wide recompute).
    pub fn year_status_batch(&self, inputs: &[PersonYear]) -> Result<Vec<YearStatus>, RulesError> {
        let batch = self.batch_items(inputs)?;
        let results = self.run_batch(&batch)?;
        if results.len() != inputs.len() {
            return Err(RulesError::MalformedOutput(format!("批量计算应返回 {} 项，实际返回 {} 项", inputs.len(), results.len())));
        }
        Ok(results)
    }

    /// The interface records for a batch, checked for year and size; exposed for the benchmark.
    pub fn batch_items(&self, inputs: &[PersonYear]) -> Result<Batch, RulesError> {
        self.check_config_size()?;
        for input in inputs {
            self.check_year(input.year)?;
        }
        Ok(Batch(match &*self.prepared {
            Prepared::V0_1(p) => BatchItems::V0_1(inputs.iter().map(|i| p.person_year(i)).collect()),
            Prepared::V0_2(p) => BatchItems::V0_2(inputs.iter().map(|i| p.person_year(i)).collect()),
            Prepared::V0_3(p) => BatchItems::V0_3(inputs.iter().map(|i| p.person_year(i)).collect()),
        }))
    }

    /// `year_status_batch` on records already in interface form (no input conversion), for the benchmark;
    /// the number of results.
    pub fn year_status_batch_raw(&self, batch: &Batch) -> Result<usize, RulesError> {
        Ok(self.run_batch(batch)?.len())
    }

    fn run_batch(&self, batch: &Batch) -> Result<Vec<YearStatus>, RulesError> {
        let work = batch.work();
        match (&*self.prepared, &batch.0) {
            (Prepared::V0_1(p), BatchItems::V0_1(items)) => p.year_status_batch(&self.plugin, items, work),
            (Prepared::V0_2(p), BatchItems::V0_2(items)) => p.year_status_batch(&self.plugin, items, work),
            (Prepared::V0_3(p), BatchItems::V0_3(items)) => p.year_status_batch(&self.plugin, items, work),
            _ => Err(RulesError::Setup("batch prepared for another API version".into())),
        }
    }

    pub fn certificate_check(&self, kind: &str, input: &PersonYear) -> Result<Certificate, RulesError> {
        self.check_year(input.year)?;
        self.check_config_size()?;
        dispatch!(self, p => p.certificate_check(&self.plugin, kind, input))
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
        let size = self.input_bytes;
        if size > self.plugin_limits().max_input_bytes {
            return Err(RulesError::InputTooLarge(format!("规则配置共 {size} 字节")));
        }
        Ok(())
    }
}
