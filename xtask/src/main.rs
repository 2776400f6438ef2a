//! Developer commands, run as `cargo xtask <command>`:
//!
//! - `cargo xtask run`  — build everything (plugins included) and start the platform on SQLite with demo data;
//! - `cargo xtask test` — run every test, on SQLite and on PostgreSQL;
//! - `cargo xtask plugins` — build the rule plugins into `plugins/dist/` (sha256 with `sha256sum plugins/dist/*`).

use std::path::PathBuf;
use std::process::{Command, ExitCode};

/// The workspace of the checkout being worked on. `cargo run` sets `CARGO_MANIFEST_DIR` for the process;
/// the path baked in at compile time is only the fallback, since a build cache shared between checkouts
/// may run an xtask binary compiled in another one.
fn root() -> PathBuf {
    let manifest_dir =
        std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir.parent().expect("xtask lives in the workspace").to_path_buf()
}

/// A cargo command with the environment a plain `cargo` in a shell would have. `cargo run` gives the xtask
/// process the variables of a running package (`CARGO_MANIFEST_DIR`, `CARGO_PKG_*`, …); build scripts such
/// as ring's track some of them, so passing them on would make every switch between `cargo xtask …` and a
/// plain `cargo build`/`clippy`/`test` rebuild half the dependency tree.
fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        if is_run_variable(name) {
            cmd.env_remove(name);
        }
    }
    cmd
}

/// Variables cargo sets for a binary it runs, as opposed to configuration a user sets.
fn is_run_variable(name: &str) -> bool {
    matches!(name, "CARGO_MANIFEST_DIR" | "CARGO_MANIFEST_PATH" | "CARGO_CRATE_NAME" | "CARGO_BIN_NAME" | "CARGO_PRIMARY_PACKAGE")
        || name.starts_with("CARGO_PKG_")
        || name.starts_with("CARGO_BIN_EXE_")
}

fn status(mut cmd: Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    match cmd.status() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("{shown} failed with {s}")),
        Err(e) => Err(format!("{shown} could not start: {e}")),
    }
}

/// The cargo target directory (`CARGO_TARGET_DIR` or `<root>/target`).
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"))
}

/// `version = "…"` of a plugin's Cargo.toml.
fn package_version(manifest: &std::path::Path) -> Result<String, String> {
    let text = std::fs::read_to_string(manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    text.lines()
        .find_map(|line| line.strip_prefix("version = \"").and_then(|rest| rest.strip_suffix('"')))
        .map(str::to_owned)
        .ok_or_else(|| format!("{}: no version", manifest.display()))
}

/// Builds the province rule plugins for `wasm32-wasip2` and copies each to `plugins/dist/<name>-<version>.wasm`,
/// the file tenant.toml pins by sha256.
///
/// The build is reproducible across checkouts: paths of the workspace and of cargo's home are remapped and
/// debug info is left out, so a clean clone elsewhere (CI) produces the same bytes with the same toolchain
/// and Cargo.lock.
fn build_plugins() -> Result<(), String> {
    let plugins = root().join("plugins");
    let mut names: Vec<String> = std::fs::read_dir(&plugins)
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter(|e| e.path().join("Cargo.toml").is_file() && e.file_name() != "sdk")
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    if names.is_empty() {
        return Ok(());
    }
    let mut rustup = Command::new("rustup");
    rustup.args(["target", "add", "wasm32-wasip2"]);
    status(rustup)?;
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .unwrap_or_default();
    let mut cmd = cargo();
    cmd.args(["build", "--release", "--target", "wasm32-wasip2"])
        .env(
            "CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS",
            format!("--remap-path-prefix={}=/jijiao --remap-path-prefix={}=/cargo", root().display(), cargo_home.display()),
        )
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_STRIP", "true");
    for name in &names {
        cmd.args(["-p", &format!("jijiao-plugin-{name}")]);
    }
    status(cmd)?;
    let dist = plugins.join("dist");
    std::fs::create_dir_all(&dist).map_err(|e| format!("{}: {e}", dist.display()))?;
    for name in &names {
        let built = target_dir().join("wasm32-wasip2/release").join(format!("jijiao_plugin_{name}.wasm"));
        let version = package_version(&plugins.join(name).join("Cargo.toml"))?;
        let copy = dist.join(format!("{name}-{version}.wasm"));
        std::fs::copy(&built, &copy).map_err(|e| format!("{} → {}: {e}", built.display(), copy.display()))?;
        println!("plugin {}", copy.display());
    }
    Ok(())
}

fn run(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("plugins") => build_plugins(),
        Some("run") => {
            build_plugins()?;
            let mut cmd = cargo();
            cmd.args(["run", "--release", "-p", "jijiao", "--", "serve", "--demo"]);
            cmd.args(&args[1..]);
            status(cmd)
        }
        Some("test") => {
            build_plugins()?;
            let mut cmd = cargo();
            cmd.args(["test", "--workspace", "--exclude", "xtask"]);
            cmd.args(&args[1..]);
            status(cmd)
        }
        _ => Err("usage: cargo xtask <run|test|plugins> [extra args]".into()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}
