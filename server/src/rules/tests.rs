//! Host tests: deliberately bad components built here from WAT, the real plugins through `Rules`, the
//! tenants' case folders and the CLI contract through the built `jijiao` binary.
//!
//! The real plugins come from `plugins/dist/` (`cargo xtask plugins`; `cargo xtask test` builds them first).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::model::{Assessment, ClaimInput, Credit, Hours, OrgLevel, Person, PersonYear, Post, RequestKind, Source, Subject};
use super::{ApiVersion, Host, Limits, Rules, RulesError};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("server lives in the workspace").to_path_buf()
}

fn rules(limits: Limits) -> Rules {
    let dist = workspace().join("plugins/dist");
    assert!(dist.join("hunan-0.3.0.wasm").is_file(), "plugins not built: run `cargo xtask plugins` (or `cargo xtask test`)");
    Rules::new(Host::new(limits, None).expect("engine"), workspace().join("tenants"), dist)
}

/// A component exporting only `describe` (enough for the host's load-time identity check) whose core
/// function runs `body`; the record it returns, if it returns, is built in memory at offset 64.
fn describe_only(export_version: &str, body: &str) -> String {
    format!(
        r#"(component
  (core module $m
    (memory (export "memory") 1)
    (data (i32.const 16) "badjijiao0.1.0")
    (data (i32.const 32) "9.9.9")
    (global $heap (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (global.set $heap (i32.add (global.get $heap) (local.get 3))) (i32.sub (global.get $heap) (local.get 3)))
    (func (export "describe") (result i32) {body}))
  (core instance $i (instantiate $m))
  (type $info (record (field "name" string) (field "version" string) (field "api" string) (field "province" string)))
  (export $info-exported "types-plugin-info" (type $info))
  (type $describe (func (result $info-exported)))
  (func $describe (type $describe) (canon lift (core func $i "describe") (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
  (component $province
    (import "plugin-info" (type $info' (eq $info)))
    (import "describe" (func $d (result $info')))
    (export "plugin-info" (type $info'))
    (export "describe" (func $d)))
  (instance $p (instantiate $province (with "plugin-info" (type $info-exported)) (with "describe" (func $describe))))
  (export "jijiao:rules/province@{export_version}" (instance $p)))"#
    )
}

/// Returns a plugin-info built at 64: name "bad", version "0.1.0", api the `api_len` bytes at `api_at`.
fn returns_info(api_at: u32, api_len: u32) -> String {
    format!(
        "(i32.store (i32.const 64) (i32.const 16)) (i32.store (i32.const 68) (i32.const 3))
         (i32.store (i32.const 72) (i32.const 25)) (i32.store (i32.const 76) (i32.const 5))
         (i32.store (i32.const 80) (i32.const {api_at})) (i32.store (i32.const 84) (i32.const {api_len}))
         (i32.store (i32.const 88) (i32.const 16)) (i32.store (i32.const 92) (i32.const 3))
         (i32.const 64)"
    )
}

const INFINITE_LOOP: &str = "(loop $forever (br $forever)) (unreachable)";
const MEMORY_BOMB: &str =
    "(block $done (loop $grow (br_if $done (i32.eq (memory.grow (i32.const 16)) (i32.const -1))) (br $grow))) (unreachable)";
const TRAP: &str = "(unreachable)";

fn load(host: &Arc<Host>, wat: &str) -> Result<Arc<super::Plugin>, RulesError> {
    host.load(wat.as_bytes(), None, "test.wat")
}

fn small_limits() -> Limits {
    Limits { fuel: 5_000_000, deadline: Duration::from_secs(30), memory_bytes: 4 << 20, concurrent_calls: 8, ..Limits::default() }
}

#[test]
fn infinite_loop_runs_out_of_fuel() {
    let host = Host::new(small_limits(), None).unwrap();
    let err = load(&host, &describe_only("0.1.0", INFINITE_LOOP)).err().expect("refused");
    assert!(matches!(err, RulesError::FuelExhausted), "{err:?}");
    assert!(err.is_plugin_failure());
}

#[test]
fn infinite_loop_with_huge_fuel_hits_the_deadline() {
    let limits = Limits { fuel: u64::MAX / 4, deadline: Duration::from_millis(100), ..small_limits() };
    let host = Host::new(limits, None).unwrap();
    let err = load(&host, &describe_only("0.1.0", INFINITE_LOOP)).err().expect("refused");
    assert!(matches!(err, RulesError::DeadlineExceeded), "{err:?}");
}

#[test]
fn memory_bomb_hits_the_memory_cap() {
    let host = Host::new(small_limits(), None).unwrap();
    let err = load(&host, &describe_only("0.1.0", MEMORY_BOMB)).err().expect("refused");
    assert!(matches!(err, RulesError::MemoryExhausted { limit_mb: 4 }), "{err:?}");
}

#[test]
fn trap_is_a_trap_error() {
    let host = Host::new(small_limits(), None).unwrap();
    let err = load(&host, &describe_only("0.1.0", TRAP)).err().expect("refused");
    assert!(matches!(err, RulesError::Trap(_)), "{err:?}");
}

#[test]
fn wrong_api_version_is_refused() {
    let host = Host::new(small_limits(), None).unwrap();
    // Exported under an interface version the host does not know: refused before anything runs.
    let err = load(&host, &describe_only("0.9.0", &returns_info(25, 5))).err().expect("refused");
    assert!(matches!(&err, RulesError::ApiMismatch { found, .. } if found == "0.9.0"), "{err:?}");
    // Right export name, but `describe` reports another api version ("9.9.9" at offset 32).
    let err = load(&host, &describe_only("0.1.0", &returns_info(32, 5))).err().expect("refused");
    assert!(matches!(&err, RulesError::ApiMismatch { found, .. } if found == "9.9.9"), "{err:?}");
    // Right version and identity, but not the whole interface: refused too, never half-loaded.
    let err = load(&host, &describe_only("0.1.0", &returns_info(25, 5))).err().expect("refused");
    assert!(matches!(err, RulesError::ApiMismatch { .. }), "{err:?}");
}

#[test]
fn malformed_output_is_its_own_error() {
    let host = Host::new(small_limits(), None).unwrap();
    // A string pointer far outside memory.
    let err = load(&host, &describe_only("0.1.0", &returns_info(0x7fff_0000, 5))).err().expect("refused");
    assert!(matches!(err, RulesError::MalformedOutput(_)), "{err:?}");
}

#[test]
fn sha_pin_mismatch_is_refused() {
    let host = Host::new(small_limits(), None).unwrap();
    let bytes = std::fs::read(workspace().join("plugins/dist/hunan-0.3.0.wasm")).expect("run cargo xtask plugins");
    let err = host.load(&bytes, Some(&"0".repeat(64)), "hunan-0.3.0.wasm").err().expect("refused");
    assert!(matches!(err, RulesError::ShaMismatch { .. }), "{err:?}");
    assert!(err.to_string().contains("sha256"));
}

fn person_year(year: u16, credits: &[(Subject, u32)]) -> PersonYear {
    PersonYear {
        year,
        person: Person { post: Post::Technical, title_level: "intermediate".into() },
        credits: credits
            .iter()
            .map(|&(subject, hours)| Credit { subject, hours: Hours(hours * 100), source: Source::Online, course: None })
            .collect(),
    }
}

#[test]
fn other_requests_are_answered_while_a_plugin_loops() {
    let limits = Limits { fuel: u64::MAX / 4, deadline: Duration::from_secs(1), ..Limits::default() };
    let rules = rules(limits);
    let host = rules.host.clone();
    let looping = std::thread::spawn(move || load(&host, &describe_only("0.1.0", INFINITE_LOOP)).err());
    let hunan = rules.for_tenant_year("hunan", 2024).expect("hunan loads");
    for _ in 0..20 {
        let status = hunan.year_status(&person_year(2024, &[(Subject::Public, 30), (Subject::Professional, 60)])).unwrap();
        assert!(status.met);
    }
    assert!(!looping.is_finished(), "the looping call should still be running while others are answered");
    assert!(matches!(looping.join().unwrap(), Some(RulesError::DeadlineExceeded)));
}

#[test]
fn batch_matches_single_calls_and_old_years_keep_their_pin() {
    let rules = rules(Limits::default());
    let hunan = rules.for_tenant_year("hunan", 2021).unwrap();
    let inputs: Vec<PersonYear> = (0..50).map(|i| person_year(2021, &[(Subject::Public, i), (Subject::Professional, 2 * i)])).collect();
    let batch = hunan.year_status_batch(&inputs).unwrap();
    for (input, status) in inputs.iter().zip(&batch) {
        assert_eq!(&hunan.year_status(input).unwrap(), status);
    }
    // 2021 had required courses (seed 002), so nobody above met the year.
    assert!(batch.iter().all(|s| !s.met));
    assert_eq!(hunan.plugin().name, "jijiao-plugin-hunan");
}

#[test]
fn input_size_is_capped() {
    let rules = rules(Limits { max_items: 10, ..Limits::default() });
    let hunan = rules.for_tenant_year("hunan", 2024).unwrap();
    let big = person_year(2024, &[(Subject::Public, 1); 11]);
    assert!(matches!(hunan.year_status(&big), Err(RulesError::InputTooLarge(_))));
}

#[test]
fn every_tenant_case_folder_passes() {
    let rules = rules(Limits::default());
    for tenant in ["hunan", "henan", "hubei"] {
        let dir = workspace().join("tenants").join(tenant).join("cases");
        let count = std::fs::read_dir(&dir).unwrap().count();
        assert!(count >= 20, "{tenant} has only {count} cases");
        let (passed, failed) = super::cli::run_cases(&rules, &dir, tenant, None).unwrap();
        assert_eq!((passed, failed.len()), (count, 0), "{tenant}: {failed:#?}");
    }
}

#[test]
fn year_rules_are_resolved_once_per_tenant_and_year() {
    let rules = rules(Limits::default());
    let first = rules.for_tenant_year("hunan", 2024).unwrap();
    let again = rules.for_tenant_year("hunan", 2024).unwrap();
    assert!(Arc::ptr_eq(&first.prepared, &again.prepared), "the second call should come from the cache");
    let other = rules.for_tenant_year("hunan", 2021).unwrap();
    assert!(!Arc::ptr_eq(&first.prepared, &other.prepared));
    assert!(Arc::ptr_eq(&first.plugin, &other.plugin), "one compiled plugin serves both years");
    // What-if runs are never cached.
    let file = super::tenant::RulesFile::read(&workspace().join("tenants/hunan/rules.toml")).unwrap();
    let what_if = rules.with_config("hunan", 2024, &file).unwrap();
    assert!(!Arc::ptr_eq(&first.prepared, &what_if.prepared));
}

#[test]
fn declared_params_take_the_tenants_value_or_their_default() {
    let rules = rules(Limits::default());
    let hunan = rules.for_tenant_year("hunan", 2024).unwrap();
    assert_eq!(hunan.plugin().api, super::API_VERSION);
    let info = hunan.plugin.info();
    assert!(info.params.iter().any(|(key, default)| key == "pre_job_hours" && *default == 4000), "{:?}", info.params);
    let thirty_public = person_year(2024, &[(Subject::Public, 30), (Subject::Professional, 15)]);
    assert!(hunan.certificate_check("pre_job", &thirty_public).unwrap().eligible);
    // A what-if file that sets the param (and one no plugin declares, which is not passed on).
    let file: super::tenant::RulesFile = toml::from_str(
        "[defaults]\nrequirements = [{ title_level = \"*\", public = 30, professional = 60, total = 90 }]\n\
         [defaults.params]\npre_job_hours = 50\nunknown_param = 3\n",
    )
    .unwrap();
    let stricter = rules.with_config("hunan", 2024, &file).unwrap();
    let certificate = stricter.certificate_check("pre_job", &thirty_public).unwrap();
    assert!(!certificate.eligible);
    assert!(certificate.reasons[0].contains("50"), "{:?}", certificate.reasons);
}

/// The API 0.1.0 fixture: the hand-written core module spliced into its generated component wrapper.
fn legacy_plugin() -> String {
    let core = include_str!("fixtures/legacy-0.1.0.core.wat").replacen("(module", "(core module", 1);
    let wrapper = include_str!("fixtures/legacy-0.1.0.component.wat");
    let marker = ";; CORE MODULE: legacy-0.1.0.core.wat goes here (the test splices it in)";
    assert!(wrapper.contains(marker));
    wrapper.replace(marker, &core)
}

#[test]
fn plugins_built_against_api_0_1_still_load_and_answer() {
    use sha2::Digest;
    let root = std::env::temp_dir().join(format!("jijiao-legacy-{}-{}", std::process::id(), rand::random::<u32>()));
    let (tenants, dist) = (root.join("tenants"), root.join("dist"));
    std::fs::create_dir_all(tenants.join("legacy")).unwrap();
    std::fs::create_dir_all(&dist).unwrap();
    let component = legacy_plugin();
    std::fs::write(dist.join("legacy-0.1.0.wasm"), &component).unwrap();
    let sha = hex::encode(sha2::Sha256::digest(component.as_bytes()));
    std::fs::write(
        tenants.join("legacy/tenant.toml"),
        format!("[[rules]]\nfrom = 2015\npath = \"legacy-0.1.0.wasm\"\nsha256 = \"{sha}\"\n"),
    )
    .unwrap();
    std::fs::write(
        tenants.join("legacy/rules.toml"),
        "[defaults]\nrequirements = [{ title_level = \"*\", public = 24, professional = 60, total = 90 }]\n",
    )
    .unwrap();
    let host = Host::new(Limits::default(), None).unwrap();
    let legacy = Rules::new(host.clone(), &tenants, &dist).for_tenant_year("legacy", 2024).expect("a 0.1.0 plugin loads");
    assert_eq!(legacy.plugin.api_version(), ApiVersion::V0_1);
    let identity = legacy.plugin();
    assert_eq!((identity.name.as_str(), identity.api.as_str()), ("jijiao-plugin-legacy", "0.1.0"));

    // The requirement comes from the 0.1.0 config the host passed: 24 public, 60 professional, 90 in all.
    let met = person_year(2024, &[(Subject::Public, 24), (Subject::Professional, 66)]);
    let status = legacy.year_status(&met).unwrap();
    assert!(status.met, "{status:?}");
    assert_eq!((status.required.public, status.required.total), (Hours(2400), Hours(9000)));
    let short = person_year(2024, &[(Subject::Public, 20), (Subject::Professional, 60)]);
    let status = legacy.year_status(&short).unwrap();
    assert!(!status.met);
    assert_eq!((status.shortfall.public, status.shortfall.total), (Hours(400), Hours(1000)));

    let batch = legacy.year_status_batch(&[met.clone(), short.clone(), met.clone()]).unwrap();
    assert_eq!(batch.iter().map(|s| s.met).collect::<Vec<_>>(), [true, false, true]);
    assert_eq!(batch[1], legacy.year_status(&short).unwrap());
    assert!(legacy.certificate_check("any", &met).unwrap().eligible);
    assert!(!legacy.certificate_check("any", &short).unwrap().eligible);
    assert!(legacy.describe().unwrap().activities.is_empty());
    let claim: ClaimInput = serde_json::from_str(r#"{"year":2024,"activity":"x","fields":{"name":"n"}}"#).unwrap();
    assert!(matches!(legacy.assess(&claim).unwrap(), Assessment::Granted { grants, .. } if grants.is_empty()));
    let request = super::model::RouteInput {
        year: Some(2024),
        kind: RequestKind::ActivityClaim,
        subject: Some(Subject::Public),
        applicant: super::model::Applicant { level: OrgLevel::City },
        choice: None,
    };
    assert!(legacy.route(&request).unwrap().steps.is_empty());
    // A kind added after 0.1.0 is routed by the host: the receiving unit's own admin for a transfer.
    let transfer = super::model::RouteInput { kind: RequestKind::StaffTransfer, subject: None, ..request };
    let route = legacy.route(&transfer).unwrap();
    assert_eq!(route.steps, vec![super::model::Step { role: super::model::Role::UnitAdmin, level: OrgLevel::City }]);

    // The current plugins, loaded by the same host beside it, speak 0.3.0.
    let current = Rules::new(host, workspace().join("tenants"), workspace().join("plugins/dist"));
    let hunan = current.for_tenant_year("hunan", 2024).unwrap();
    assert_eq!(hunan.plugin.api_version(), ApiVersion::V0_3);
    std::fs::remove_dir_all(&root).ok();
}

/// Plugin outputs drawn at random: whatever record a plugin hands back (strings anywhere in or out of
/// its memory, of any length, holding any bytes) and however long it runs, loading it answers an error
/// the host classifies as the plugin's failure, never a panic, and the host keeps serving afterwards.
mod plugin_outputs {
    use proptest::prelude::*;

    use super::*;

    /// A plugin-info record at 64 whose four strings are the given (pointer, length) pairs, after
    /// `data` is placed at 128 and the function has looped `spins` times.
    fn describe_returning(strings: [(u32, u32); 4], data: &[u8], spins: u32) -> String {
        let escaped: String = data.iter().map(|byte| format!("\\{byte:02x}")).collect();
        let stores: String = strings
            .iter()
            .enumerate()
            .map(|(field, (at, len))| {
                let offset = 64 + field * 8;
                format!("(i32.store (i32.const {offset}) (i32.const {at})) (i32.store (i32.const {}) (i32.const {len})) ", offset + 4)
            })
            .collect();
        let body = format!(
            "(local $n i32) (local.set $n (i32.const {spins}))
             (block $done (loop $spin (br_if $done (i32.eqz (local.get $n)))
               (local.set $n (i32.sub (local.get $n) (i32.const 1))) (br $spin)))
             (memory.init 2 (i32.const 128) (i32.const 0) (i32.const {len}))
             {stores} (i32.const 64)",
            len = data.len()
        );
        // The passive segment (index 2, after `describe_only`'s two active ones) carries the drawn bytes.
        describe_only("0.1.0", &body).replacen("(global $heap", &format!("(data \"{escaped}\")\n    (global $heap"), 1)
    }

    fn string_at() -> impl Strategy<Value = (u32, u32)> {
        prop_oneof![
            (128u32..200, 0u32..80),      // in memory, maybe past the drawn bytes
            (0u32..65_536, 0u32..65_536), // anywhere in the one page, or across its end
            (any::<u32>(), any::<u32>()), // anywhere at all
            Just((16, 3)),                // a well-formed "bad"
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
        #[test]
        fn any_plugin_info_is_refused_as_the_plugins_failure(
            strings in [string_at(), string_at(), string_at(), string_at()],
            data in proptest::collection::vec(any::<u8>(), 0..64),
            spins in prop_oneof![0u32..1_000, 1_000_000u32..50_000_000],
        ) {
            let host = Host::new(small_limits(), None).unwrap();
            let wat = describe_returning(strings, &data, spins);
            // A record, even a readable one, never passes for a whole plugin: the module exports only
            // `describe`.
            let err = load(&host, &wat).err().expect("refused");
            prop_assert!(err.is_plugin_failure(), "{err:?}");
            // The host still answers after the failure.
            let err = load(&host, &describe_only("0.1.0", TRAP)).err().expect("refused");
            prop_assert!(matches!(err, RulesError::Trap(_)), "{err:?}");
        }
    }
}
