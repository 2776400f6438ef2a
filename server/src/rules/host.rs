//! The wasmtime host: one engine per process, components compiled once (and cached on disk by wasmtime,
//! keyed by the component's hash and the engine's settings), and a fresh store + instance from an
//! `InstancePre` for every call, bounded by fuel, an epoch deadline and a memory cap.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, ComponentExportIndex, ComponentNamedList, ComponentType, InstancePre, Lift, Linker, Lower};
use wasmtime::{Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ResourceLimiter, Store, Trap};

use super::RulesError;

/// Bindings for API version 0.1.0 (`plugins/wit/0.1.0`), kept so plugins built against it keep loading
/// and judging the years they are pinned to. Never edited: a published API version is frozen.
pub mod v0_1 {
    wasmtime::component::bindgen!({ path: "../plugins/wit/0.1.0", world: "plugin" });
}

/// Bindings for API version 0.2.0 (`plugins/wit/0.2.0`), frozen like 0.1.0.
pub mod v0_2 {
    wasmtime::component::bindgen!({ path: "../plugins/wit/0.2.0", world: "plugin" });
}

/// Bindings for API version 0.3.0 (`plugins/wit/0.3.0`), the current one. A new API version gets its own
/// module next to these, and `super::api` an adapter for it.
pub mod v0_3 {
    wasmtime::component::bindgen!({ path: "../plugins/wit/0.3.0", world: "plugin" });
}

/// The newest API version this host implements (what the SDK builds against).
pub const API_VERSION: &str = "0.3.0";
/// Every API version this host loads, newest first.
pub const API_VERSIONS: &[&str] = &["0.3.0", "0.2.0", "0.1.0"];
const EXPORT_PREFIX: &str = "jijiao:rules/province@";

/// How long one epoch tick is; deadlines are whole ticks.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Most bytes of each memory and table slot reset in place (dirty pages only) when an instance ends; a Rust
/// plugin's stack ends at 1 MiB and its data and heap follow.
const KEEP_RESIDENT: usize = 4 << 20;

/// Per-call bounds.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Fuel for one call (≈ wasm instructions), plus `fuel_per_item` for every person-year or credit.
    pub fuel: u64,
    pub fuel_per_item: u64,
    /// Wall-clock backstop for one call.
    pub deadline: Duration,
    /// Linear memory a call may grow to.
    pub memory_bytes: usize,
    /// Most person-years in one batch call, and most credits in one person-year.
    pub max_items: usize,
    /// Most bytes of strings in one call's input (claim fields, config tables).
    pub max_input_bytes: usize,
    /// Instances alive at once across the process (the pooling allocator's slots).
    pub concurrent_calls: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: 20_000_000,
            fuel_per_item: 20_000,
            deadline: Duration::from_secs(2),
            memory_bytes: 64 << 20,
            max_items: 200_000,
            max_input_bytes: 1 << 20,
            concurrent_calls: 64,
        }
    }
}

/// What a store carries: the memory cap, and whether it refused a growth (to tell memory exhaustion apart
/// from other traps, since a guest usually aborts when an allocation fails).
pub struct CallState {
    memory_bytes: usize,
    memory_refused: bool,
}

impl ResourceLimiter for CallState {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let allowed = desired <= self.memory_bytes;
        self.memory_refused |= !allowed;
        Ok(allowed)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// The process-wide engine and the compiled plugins, by sha256.
pub struct Host {
    engine: Engine,
    linker: Linker<CallState>,
    limits: Limits,
    compiled: Mutex<HashMap<String, Arc<Plugin>>>,
}

impl Host {
    /// The host a server or command uses: default limits and the compilation cache under the data
    /// directory (`<data_dir>/cache/wasmtime`, made absolute: wasmtime refuses a relative cache path, and
    /// the default data directory is relative). Without a writable cache directory it runs uncached.
    pub fn from_config(config: &crate::config::Config) -> Result<Arc<Host>, RulesError> {
        let dir = std::path::absolute(config.data_dir.join("cache").join("wasmtime")).ok();
        let cache = dir.filter(|d| std::fs::create_dir_all(d).is_ok());
        Host::new(Limits::default(), cache.as_deref())
    }

    /// An engine with fuel, epoch interruption and the pooling allocator; `cache_dir` enables wasmtime's
    /// on-disk compilation cache there.
    pub fn new(limits: Limits, cache_dir: Option<&Path>) -> Result<Arc<Host>, RulesError> {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(limits.concurrent_calls)
            .total_core_instances(limits.concurrent_calls * 2)
            .total_memories(limits.concurrent_calls * 2)
            .total_tables(limits.concurrent_calls * 2)
            .max_memory_size(limits.memory_bytes);
        // A call dirties a few pages (stack top, data, a small heap). Where Linux can tell which
        // (PAGEMAP_SCAN, 6.7+), reset just those with memset and keep them mapped, rather than madvise the
        // slot and take fresh page faults on the next call. Without it keeping pages resident would memset
        // the whole amount on every call, so the default (madvise) stays.
        if PoolingAllocationConfig::is_pagemap_scan_available() {
            pool.pagemap_scan(wasmtime::Enabled::Yes).linear_memory_keep_resident(KEEP_RESIDENT).table_keep_resident(KEEP_RESIDENT);
        }
        let mut config = wasmtime::Config::new();
        config.consume_fuel(true).epoch_interruption(true).allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        if let Some(dir) = cache_dir {
            let mut cache = wasmtime::CacheConfig::new();
            cache.with_directory(dir);
            config.cache(Some(wasmtime::Cache::new(cache).map_err(|e| RulesError::Setup(e.to_string()))?));
        }
        let engine = Engine::new(&config).map_err(|e| RulesError::Setup(e.to_string()))?;
        start_epoch_ticker(&engine);
        // Plugins import nothing, so the linker stays empty: a component that imports anything fails to
        // pre-instantiate and is refused.
        let linker = Linker::new(&engine);
        Ok(Arc::new(Host { engine, linker, limits, compiled: Mutex::new(HashMap::new()) }))
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Compiles (or reuses) a plugin from its bytes. `expected_sha256` is the tenant's pin; the api
    /// version is read from the component's exports before anything runs, then checked against
    /// `describe`, then the whole interface of that version is type-checked.
    pub fn load(self: &Arc<Self>, bytes: &[u8], expected_sha256: Option<&str>, origin: &str) -> Result<Arc<Plugin>, RulesError> {
        let sha256 = hex::encode(Sha256::digest(bytes));
        if let Some(expected) = expected_sha256
            && !expected.eq_ignore_ascii_case(&sha256)
        {
            return Err(RulesError::ShaMismatch { plugin: origin.into(), expected: expected.into(), actual: sha256 });
        }
        if let Some(plugin) = self.compiled.lock().map_err(|_| RulesError::Setup("plugin cache poisoned".into()))?.get(&sha256) {
            return Ok(plugin.clone());
        }
        let component = Component::new(&self.engine, bytes).map_err(|e| RulesError::Compile(format!("{origin}: {e:#}")))?;
        let api = exported_api_version(&self.engine, &component)?;
        let pre = self.linker.instantiate_pre(&component).map_err(|e| RulesError::Compile(format!("{origin}: {e:#}")))?;
        // Identity first, through the export alone: a plugin that reports another API version is refused
        // with that version named, before the full interface is type-checked.
        let info: PluginInfo = match api {
            "0.1.0" => self.describe::<v0_1::jijiao::rules::types::PluginInfo>(&pre, api)?.into(),
            "0.2.0" => self.describe::<v0_2::jijiao::rules::types::PluginInfo>(&pre, api)?.into(),
            _ => self.describe::<v0_3::jijiao::rules::types::PluginInfo>(&pre, api)?.into(),
        };
        if info.api != api {
            return Err(RulesError::ApiMismatch { expected: api.into(), found: info.api });
        }
        let mismatch = |e: wasmtime::Error| RulesError::ApiMismatch { expected: api.into(), found: format!("{e:#}") };
        let pre = match api {
            "0.1.0" => Pre::V0_1(v0_1::PluginPre::new(pre).map_err(mismatch)?),
            "0.2.0" => {
                let hot = HotExports::new(&component, api).map_err(mismatch)?;
                Pre::V0_2(v0_2::PluginPre::new(pre).map_err(mismatch)?, hot)
            }
            _ => {
                let hot = HotExports::new(&component, api).map_err(mismatch)?;
                Pre::V0_3(v0_3::PluginPre::new(pre).map_err(mismatch)?, hot)
            }
        };
        // Type-check every export once now (bindgen's instantiate does), so a plugin whose interface does
        // not match is refused at load rather than on its first call.
        self.run(0, |store| match &pre {
            Pre::V0_1(pre) => pre.instantiate(store).map(drop),
            Pre::V0_2(pre, _) => pre.instantiate(store).map(drop),
            Pre::V0_3(pre, _) => pre.instantiate(store).map(drop),
        })
        .map_err(|e| match e {
            // Not a trap: an export's type differs from the interface's.
            RulesError::MalformedOutput(why) => RulesError::ApiMismatch { expected: api.into(), found: why },
            other => other,
        })?;
        let plugin = Arc::new(Plugin { host: self.clone(), pre, sha256: sha256.clone(), info });
        self.compiled.lock().map_err(|_| RulesError::Setup("plugin cache poisoned".into()))?.insert(sha256, plugin.clone());
        Ok(plugin)
    }

    /// Runs the `describe` export of API version `api` with its `plugin-info` type `T`.
    fn describe<T: ComponentType + Lift + Send + Sync + 'static>(&self, pre: &InstancePre<CallState>, api: &str) -> Result<T, RulesError> {
        self.run(0, |store| {
            let instance = pre.instantiate(&mut *store)?;
            let province = instance
                .get_export_index(&mut *store, None, &format!("{EXPORT_PREFIX}{api}"))
                .ok_or_else(|| wasmtime::format_err!("no rules export"))?;
            let describe = instance
                .get_export_index(&mut *store, Some(&province), "describe")
                .ok_or_else(|| wasmtime::format_err!("no describe export"))?;
            let describe = instance.get_typed_func::<(), (T,)>(&mut *store, &describe)?;
            Ok(describe.call(&mut *store, ())?.0)
        })
    }
}

/// A plugin's identity as its `describe` reported it, in the host's own terms (any API version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginInfo {
    pub name: String,
    pub version: String,
    pub api: String,
    pub province: String,
    /// The params the plugin declared (API 0.2 on), with their defaults; values are passed in this order.
    pub params: Vec<(String, i64)>,
}

impl From<v0_1::jijiao::rules::types::PluginInfo> for PluginInfo {
    fn from(i: v0_1::jijiao::rules::types::PluginInfo) -> Self {
        PluginInfo { name: i.name, version: i.version, api: i.api, province: i.province, params: Vec::new() }
    }
}

/// `plugin-info` of the API versions that declare params (0.2 on).
macro_rules! plugin_info_with_params {
    ($($w:ident),+) => {$(
        impl From<$w::jijiao::rules::types::PluginInfo> for PluginInfo {
            fn from(i: $w::jijiao::rules::types::PluginInfo) -> Self {
                let params = i.params.into_iter().map(|p| (p.key, p.default)).collect();
                PluginInfo { name: i.name, version: i.version, api: i.api, province: i.province, params }
            }
        }
    )+};
}

plugin_info_with_params!(v0_2, v0_3);

/// Advances the engine's epoch every tick for as long as the engine lives, so deadlines are wall-clock.
fn start_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("rules-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .ok();
}

/// The API version of the component's rules export, if the host supports it; otherwise refuses the
/// component, naming what it exports.
fn exported_api_version(engine: &Engine, component: &Component) -> Result<&'static str, RulesError> {
    let ty = component.component_type();
    let found: Vec<String> = ty.exports(engine).filter_map(|(name, _)| name.strip_prefix(EXPORT_PREFIX).map(str::to_owned)).collect();
    let supported = || API_VERSIONS.join("、");
    match found.as_slice() {
        [version] => API_VERSIONS
            .iter()
            .find(|v| *v == version)
            .copied()
            .ok_or_else(|| RulesError::ApiMismatch { expected: supported(), found: version.clone() }),
        [] => Err(RulesError::ApiMismatch { expected: supported(), found: "（未导出 jijiao:rules/province）".into() }),
        versions => Err(RulesError::ApiMismatch { expected: supported(), found: versions.join(", ") }),
    }
}

/// An API version the host speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    V0_1,
    V0_2,
    V0_3,
}

/// The pre-linked component, typed by the API version it exports.
enum Pre {
    V0_1(v0_1::PluginPre<CallState>),
    V0_2(v0_2::PluginPre<CallState>, HotExports),
    V0_3(v0_3::PluginPre<CallState>, HotExports),
}

/// Where an API 0.2 or later plugin's per-person functions are. Bindgen's `instantiate` type-checks all seven
/// exports on every new instance; calling these through their index type-checks only the one called.
pub(super) struct HotExports {
    pub(super) year_status: ComponentExportIndex,
    pub(super) year_status_batch: ComponentExportIndex,
    pub(super) certificate_check: ComponentExportIndex,
}

impl HotExports {
    fn new(component: &Component, api: &str) -> wasmtime::Result<HotExports> {
        let province =
            component.get_export_index(None, format!("{EXPORT_PREFIX}{api}")).ok_or_else(|| wasmtime::format_err!("no rules export"))?;
        let func = |name: &str| component.get_export_index(Some(&province), name).ok_or_else(|| wasmtime::format_err!("no export {name}"));
        Ok(HotExports {
            year_status: func("year-status")?,
            year_status_batch: func("year-status-batch")?,
            certificate_check: func("certificate-check")?,
        })
    }
}

/// The `call_v…` methods: one per API version, each running an export through that version's bindings.
macro_rules! call_through_bindings {
    ($($(#[$doc:meta])* fn $name:ident($variant:ident($pre:ident $(, $hot:pat)?)) -> $w:ident;)+) => {$(
        $(#[$doc])*
        pub(super) fn $name<R>(
            &self,
            items: usize,
            f: impl FnOnce(&mut Store<CallState>, &$w::exports::jijiao::rules::province::Guest) -> wasmtime::Result<R>,
        ) -> Result<R, RulesError> {
            let Pre::$variant($pre $(, $hot)?) = &self.pre else { return Err(self.wrong_api()) };
            self.host.run(items, |store| {
                let instance = $pre.instantiate(&mut *store)?;
                f(store, instance.jijiao_rules_province())
            })
        }
    )+};
}

/// A compiled, pre-linked plugin. Every call gets a fresh store and instance: nothing leaks between calls
/// or tenants, and a trapped instance is simply dropped.
pub struct Plugin {
    host: Arc<Host>,
    pre: Pre,
    pub sha256: String,
    info: PluginInfo,
}

impl Plugin {
    pub fn limits(&self) -> &Limits {
        &self.host.limits
    }

    /// The plugin's `describe`, recorded at load.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// The API version the plugin exports (and its `describe` reports).
    pub fn api_version(&self) -> ApiVersion {
        match self.pre {
            Pre::V0_1(_) => ApiVersion::V0_1,
            Pre::V0_2(..) => ApiVersion::V0_2,
            Pre::V0_3(..) => ApiVersion::V0_3,
        }
    }

    /// An adapter called a plugin through another API version than it speaks (a host bug).
    fn wrong_api(&self) -> RulesError {
        RulesError::Setup(format!("rules plugin {} speaks API {}, called through another", self.info.name, self.info.api))
    }

    call_through_bindings! {
        /// Runs one export of an API 0.1 plugin in a fresh instance with fuel for `items` extra units of work.
        fn call_v0_1(V0_1(pre)) -> v0_1;
        /// Runs one export of an API 0.2 plugin in a fresh instance with fuel for `items` extra units of work.
        fn call_v0_2(V0_2(pre, _)) -> v0_2;
        /// Runs one export of an API 0.3 plugin in a fresh instance with fuel for `items` extra units of work.
        fn call_v0_3(V0_3(pre, _)) -> v0_3;
    }

    /// Calls one of an API 0.2 or later plugin's per-person exports (`pick` chooses which) in a fresh instance, with
    /// fuel for `items` extra units of work, type-checking only that function.
    pub(super) fn call_hot<P, R>(&self, items: usize, pick: fn(&HotExports) -> &ComponentExportIndex, params: P) -> Result<R, RulesError>
    where
        P: ComponentNamedList + Lower + Send + Sync,
        R: ComponentNamedList + Lift + Send + Sync + 'static,
    {
        let (pre, hot) = match &self.pre {
            Pre::V0_2(pre, hot) => (pre.instance_pre(), hot),
            Pre::V0_3(pre, hot) => (pre.instance_pre(), hot),
            Pre::V0_1(_) => return Err(self.wrong_api()),
        };
        self.host.run(items, |store| {
            let instance = pre.instantiate(&mut *store)?;
            let func = instance.get_typed_func::<P, R>(&mut *store, pick(hot))?;
            // No post-return: the instance is dropped with the store.
            func.call(&mut *store, params)
        })
    }
}

impl Host {
    /// Runs `f` in a fresh store bounded by fuel (plus `items` units of work), the epoch deadline and the
    /// memory cap; the store is dropped afterwards, trapped or not.
    fn run<R>(&self, items: usize, f: impl FnOnce(&mut Store<CallState>) -> wasmtime::Result<R>) -> Result<R, RulesError> {
        let limits = &self.limits;
        if items > limits.max_items {
            return Err(RulesError::InputTooLarge(format!("一次最多 {} 项，收到 {items} 项", limits.max_items)));
        }
        let mut store = Store::new(&self.engine, CallState { memory_bytes: limits.memory_bytes, memory_refused: false });
        store.limiter(|state| state);
        let fuel = limits.fuel.saturating_add(limits.fuel_per_item.saturating_mul(items as u64));
        let ticks = (limits.deadline.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64;
        let started = std::time::Instant::now();
        let outcome = store.set_fuel(fuel).and_then(|()| {
            store.set_epoch_deadline(ticks);
            f(&mut store)
        });
        let used = fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        let outcome = outcome.map_err(|error| classify(&error, store.data()));
        let result = match &outcome {
            Ok(_) => "ok",
            Err(err) => err.code(),
        };
        metrics::histogram!("rules_call_seconds", "result" => result).record(started.elapsed().as_secs_f64());
        metrics::histogram!("rules_call_fuel", "result" => result).record(used as f64);
        outcome
    }
}

/// Turns a wasmtime failure into the error the caller can act on.
fn classify(error: &wasmtime::Error, state: &CallState) -> RulesError {
    if state.memory_refused {
        return RulesError::MemoryExhausted { limit_mb: state.memory_bytes >> 20 };
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => RulesError::FuelExhausted,
        Some(Trap::Interrupt) => RulesError::DeadlineExceeded,
        Some(trap) => RulesError::Trap(trap.to_string()),
        // Not a trap: the canonical ABI could not read what the plugin returned (bad pointer, invalid
        // UTF-8 or discriminant) or the pooling allocator is out of slots.
        None if format!("{error:#}").contains("maximum concurrent") => RulesError::Busy,
        None => RulesError::MalformedOutput(format!("{error:#}")),
    }
}
