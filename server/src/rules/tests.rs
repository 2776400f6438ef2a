//! Host tests: deliberately bad components built here from WAT, the real plugins through `Rules`, the
//! tenants' case folders and the CLI contract through the built `jijiao` binary.
//!
//! The real plugins come from `plugins/dist/` (`cargo xtask plugins`; `cargo xtask test` builds them first).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use super::model::{Credit, Hours, Person, PersonYear, Post, Source, Subject};
use super::{Host, Limits, Rules, RulesError};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("server lives in the workspace").to_path_buf()
}

fn rules(limits: Limits) -> Rules {
    let dist = workspace().join("plugins/dist");
    assert!(dist.join("hunan-0.1.0.wasm").is_file(), "plugins not built: run `cargo xtask plugins` (or `cargo xtask test`)");
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
    // Exported under another interface version: refused before anything runs.
    let err = load(&host, &describe_only("0.2.0", &returns_info(25, 5))).err().expect("refused");
    assert!(matches!(&err, RulesError::ApiMismatch { found, .. } if found == "0.2.0"), "{err:?}");
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
    let bytes = std::fs::read(workspace().join("plugins/dist/hunan-0.1.0.wasm")).expect("run cargo xtask plugins");
    let err = host.load(&bytes, Some(&"0".repeat(64)), "hunan-0.1.0.wasm").err().expect("refused");
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

/// The `jijiao` binary next to this test binary, (re)built so that it matches the code under test
/// (unit tests do not build the binary themselves; a no-op when it is fresh).
fn jijiao_binary() -> PathBuf {
    static BUILT: std::sync::Once = std::sync::Once::new();
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().and_then(Path::parent).unwrap().join("jijiao");
    BUILT.call_once(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status =
            Command::new(cargo).args(["build", "-q", "-p", "jijiao", "--bin", "jijiao"]).current_dir(workspace()).status().unwrap();
        assert!(status.success());
    });
    bin
}

fn jijiao(args: &[&str], stdin: &str) -> (i32, serde_json::Value, String) {
    use std::io::Write;
    let data = tempdir();
    let mut child = Command::new(jijiao_binary())
        .args(args)
        .current_dir(workspace())
        .env("JIJIAO_DATA_DIR", &data)
        .env("JIJIAO_TENANTS_DIR", workspace().join("tenants"))
        .env("JIJIAO_PLUGINS_DIR", workspace().join("plugins/dist"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let json = serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), json, stdout)
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("jijiao-rules-{}-{}", std::process::id(), rand::random::<u32>()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn cli_contract_end_to_end() {
    let input = r#"{"year":2024,"person":{"post":"technical","title_level":"intermediate"},
        "credits":[{"subject":"public","hours":12.5,"source":"online","course":"x"},{"subject":"professional","hours":60,"source":"activity"}]}"#;
    let (code, out, _) = jijiao(&["rules", "status", "--tenant", "hunan"], input);
    assert_eq!(code, 0);
    assert_eq!(out["met"], false);
    assert_eq!(out["counted"]["public"], 12.5);
    assert_eq!(out["shortfall"]["public"], 17.5);
    assert_eq!(out["required"]["total"], 90);

    let (code, out, _) = jijiao(&["rules", "certificate", "--tenant", "hunan", "--kind", "pre_job"], input);
    assert_eq!((code, &out["eligible"]), (0, &serde_json::json!(true)));

    let (code, out, _) = jijiao(&["rules", "describe", "--tenant", "henan", "--year", "2024"], "");
    assert_eq!(code, 0);
    assert_eq!(out["plugin"]["api"], "0.1.0");
    assert_eq!(out["plugin"]["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(out["activities"].as_array().map(Vec::len), Some(15));

    let claim = r#"{"year":2024,"activity":"paper","fields":{"subject":"professional"},"person":{}}"#;
    let (code, out, _) = jijiao(&["rules", "assess", "--tenant", "henan"], claim);
    assert_eq!((code, &out["ok"]), (0, &serde_json::json!(false)));
    assert!(out["errors"]["name"].is_string());

    let route = r#"{"kind":"activity_claim","subject":"professional","applicant":{"level":"city"},"choice":"authority"}"#;
    let (code, out, _) = jijiao(&["rules", "route", "--tenant", "henan"], route);
    assert_eq!(code, 0);
    assert_eq!(out["steps"][1], serde_json::json!({"role":"authority_admin","level":"city"}));

    // Bad input: exit 2 with a machine code and a message.
    let (code, out, _) = jijiao(&["rules", "status", "--tenant", "hunan"], "{not json");
    assert_eq!((code, out["code"].as_str()), (2, Some("invalid_input")));
    assert!(out["message"].is_string());

    // `--config` what-if: a rules file requiring 100 public hours.
    let what_if = tempdir().join("what-if.toml");
    std::fs::write(&what_if, "[defaults]\nrequirements = [{ title_level = \"*\", public = 100, professional = 0, total = 100 }]\n")
        .unwrap();
    let (code, out, _) = jijiao(&["rules", "status", "--tenant", "hunan", "--config", what_if.to_str().unwrap()], input);
    assert_eq!((code, &out["required"]["public"]), (0, &serde_json::json!(100)));

    // A pin that does not match: the plugin fails to load, exit 3.
    let tenants = tempdir();
    let bad = tenants.join("hunan");
    std::fs::create_dir_all(&bad).unwrap();
    let toml = std::fs::read_to_string(workspace().join("tenants/hunan/tenant.toml")).unwrap();
    let pinned = toml.lines().find(|l| l.starts_with("sha256")).unwrap();
    std::fs::write(bad.join("tenant.toml"), toml.replace(pinned, &format!("sha256 = \"{}\"", "0".repeat(64)))).unwrap();
    std::fs::copy(workspace().join("tenants/hunan/rules.toml"), bad.join("rules.toml")).unwrap();
    let mut child = Command::new(jijiao_binary())
        .args(["rules", "status", "--tenant", "hunan"])
        .env("JIJIAO_DATA_DIR", tempdir())
        .env("JIJIAO_TENANTS_DIR", &tenants)
        .env("JIJIAO_PLUGINS_DIR", workspace().join("plugins/dist"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((out.status.code(), json["code"].as_str()), (Some(3), Some("plugin_sha_mismatch")));

    // `rules test` prints the summary and fails when a case fails.
    let (code, _, stdout) = jijiao(&["rules", "test", "tenants/hubei/cases"], "");
    assert_eq!(code, 0);
    assert!(stdout.trim_end().ends_with("21 passed, 0 failed"), "{stdout}");
}
