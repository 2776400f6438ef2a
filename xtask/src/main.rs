//! Developer commands, run as `cargo xtask <command>`:
//!
//! - `cargo xtask run`  — build everything (plugins included) and start the platform on SQLite with demo data;
//! - `cargo xtask test` — run every test, on SQLite and on PostgreSQL.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

fn status(mut cmd: Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    match cmd.status() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("{shown} failed with {s}")),
        Err(e) => Err(format!("{shown} could not start: {e}")),
    }
}

/// Builds the province rule plugins for `wasm32-wasip2` when there are any.
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
    let mut cmd = cargo();
    cmd.args(["build", "--release", "--target", "wasm32-wasip2"]);
    for name in &names {
        cmd.args(["-p", &format!("jijiao-plugin-{name}")]);
    }
    status(cmd)
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
