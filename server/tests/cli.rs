//! The built `jijiao` binary as a process: the `jijiao rules` command-line contract (issue 3 §4), stdin
//! JSON → stdout JSON, exit 0 / 2 (bad input) / 3 (plugin failure); `jijiao serve` under hostile
//! uploads (`cli/process.rs`); two `jijiao serve` processes on one PostgreSQL (`cli/many.rs`). Needs the plugins built (`cargo xtask plugins`, which `cargo xtask test`
//! runs first).

// The server crate's rule against plain `tokio::spawn` (server/clippy.toml) guards tenant work; these
// tests drive processes from outside any tenant.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[path = "cli/many.rs"]
mod many;
#[path = "cli/process.rs"]
mod process;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The `jijiao` binary cargo built for this test run (same features as the tests: no second build).
fn jijiao_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_jijiao"))
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
    assert_eq!(out["plugin"]["api"], "0.3.0");
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
    assert!(stdout.trim_end().ends_with("24 passed, 0 failed"), "{stdout}");
}

/// The default data directory is relative (`data`, as `cargo xtask run` uses it): the wasmtime cache
/// under it must still work (wasmtime itself refuses a relative cache path).
#[test]
fn relative_data_dir_is_fine_for_the_rules_cache() {
    let cwd = tempdir();
    let out = Command::new(jijiao_binary())
        .args(["rules", "describe", "--tenant", "henan", "--year", "2024"])
        .current_dir(&cwd)
        .env("JIJIAO_DATA_DIR", "data")
        .env("JIJIAO_TENANTS_DIR", workspace().join("tenants"))
        .env("JIJIAO_PLUGINS_DIR", workspace().join("plugins/dist"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(cwd.join("data/cache/wasmtime").is_dir());
}
