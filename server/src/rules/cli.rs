//! `jijiao rules …`: run a tenant's plugin on JSON from stdin and print JSON on stdout — the contract
//! plugin authors and external checks rely on (plugins/README.md).
//!
//! Exit codes: 0 success, 2 bad input (`{"code","message"}` on stdout), 3 the plugin failed (trap,
//! budget, memory, malformed output, refused at load). `rules test DIR` prints `N passed, M failed`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::Datelike;
use clap::{Parser, Subcommand};
use serde_json::{Value, json};

use super::model::{ClaimInput, PersonYear, RouteInput};
use super::tenant::RulesFile;
use super::{Host, Rules, RulesError};
use crate::config::Config;

#[derive(Debug, Parser)]
#[command(name = "jijiao rules", about = "运行租户的规则插件：标准输入读 JSON，标准输出写 JSON")]
struct RulesCli {
    #[command(subcommand)]
    command: RulesCommand,
}

/// Options every command shares.
#[derive(Debug, clap::Args)]
struct Target {
    /// Tenant code (a folder under the tenants directory).
    #[arg(long)]
    tenant: String,
    /// A rules file (TOML, or JSON by extension) replacing the tenant's rules.toml, for what-if runs.
    #[arg(long)]
    config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum RulesCommand {
    /// The plugin's identity and the year's activity catalogue.
    Describe {
        #[command(flatten)]
        target: Target,
        /// Year of the catalogue (default: this year).
        #[arg(long)]
        year: Option<u16>,
    },
    /// Yearly status for `{"year","person","credits"}`.
    Status {
        #[command(flatten)]
        target: Target,
    },
    /// Certificate eligibility for the same input as `status`.
    Certificate {
        #[command(flatten)]
        target: Target,
        /// Certificate kind (Hunan: pre_job, in_service; Henan, Hubei: qualified).
        #[arg(long)]
        kind: String,
    },
    /// Hours granted for an activity claim `{"year","activity","fields","person"}`.
    Assess {
        #[command(flatten)]
        target: Target,
    },
    /// Approval steps for `{"kind","subject","applicant","choice"}` (optional "year", default this year).
    Route {
        #[command(flatten)]
        target: Target,
    },
    /// Run every case file (*.json) in DIR and print `N passed, M failed`.
    Test {
        dir: PathBuf,
        /// Tenant (default: the name of DIR's parent folder, as in tenants/<code>/cases).
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

/// One command's outcome: exit code and the JSON to print.
struct Outcome {
    exit: u8,
    body: Value,
}

impl Outcome {
    fn ok(body: impl serde::Serialize) -> Outcome {
        Outcome { exit: 0, body: serde_json::to_value(body).unwrap_or(Value::Null) }
    }

    fn bad_input(message: impl Into<String>) -> Outcome {
        Outcome { exit: 2, body: json!({ "code": "invalid_input", "message": message.into() }) }
    }

    fn error(error: &RulesError) -> Outcome {
        let mut body = json!({ "code": error.code(), "message": error.to_string() });
        if let RulesError::InvalidInput(errors) = error {
            body["errors"] = json!(errors);
        }
        Outcome { exit: if error.is_plugin_failure() { 3 } else { 2 }, body }
    }
}

/// Entry point from the main CLI; `args` are the words after `jijiao rules`.
pub fn run(config: &Config, args: Vec<String>) -> anyhow::Result<ExitCode> {
    let cli = match RulesCli::try_parse_from(std::iter::once("jijiao rules".to_owned()).chain(args)) {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() { 2 } else { 0 };
            err.print()?;
            return Ok(ExitCode::from(code));
        }
    };
    let rules = Rules::new(Host::from_config(config)?, &config.tenants_dir, &config.plugins_dir);
    if let RulesCommand::Test { dir, tenant, config } = &cli.command {
        return test_dir(&rules, dir, tenant.as_deref(), config.as_deref());
    }
    let mut input = String::new();
    let outcome = if matches!(cli.command, RulesCommand::Describe { .. }) || std::io::stdin().read_to_string(&mut input).is_ok() {
        execute(&rules, &cli.command, &input)
    } else {
        Outcome::bad_input("无法读取标准输入")
    };
    println!("{}", serde_json::to_string_pretty(&outcome.body)?);
    Ok(ExitCode::from(outcome.exit))
}

fn this_year() -> u16 {
    u16::try_from(chrono::Local::now().year()).unwrap_or(u16::MAX)
}

fn execute(rules: &Rules, command: &RulesCommand, input: &str) -> Outcome {
    match command {
        RulesCommand::Describe { target, year } => {
            with_rules(rules, target, year.unwrap_or_else(this_year), |r| r.describe().map(Outcome::ok))
        }
        RulesCommand::Status { target } => with_input::<PersonYear>(input, |person_year| {
            with_rules(rules, target, person_year.year, |r| r.year_status(&person_year).map(Outcome::ok))
        }),
        RulesCommand::Certificate { target, kind } => with_input::<PersonYear>(input, |person_year| {
            with_rules(rules, target, person_year.year, |r| r.certificate_check(kind, &person_year).map(Outcome::ok))
        }),
        RulesCommand::Assess { target } => {
            with_input::<ClaimInput>(input, |claim| with_rules(rules, target, claim.year, |r| r.assess(&claim).map(Outcome::ok)))
        }
        RulesCommand::Route { target } => with_input::<RouteInput>(input, |request| {
            with_rules(rules, target, request.year.unwrap_or_else(this_year), |r| r.route(&request).map(Outcome::ok))
        }),
        RulesCommand::Test { .. } => Outcome::bad_input("test 不读标准输入"),
    }
}

fn with_input<T: serde::de::DeserializeOwned>(input: &str, f: impl FnOnce(T) -> Outcome) -> Outcome {
    match serde_json::from_str::<T>(input) {
        Ok(value) => f(value),
        Err(err) => Outcome::bad_input(format!("输入 JSON 有误：{err}")),
    }
}

fn with_rules(rules: &Rules, target: &Target, year: u16, f: impl FnOnce(&super::YearRules) -> Result<Outcome, RulesError>) -> Outcome {
    let year_rules = match &target.config {
        Some(path) => RulesFile::read(path).and_then(|file| rules.with_config(&target.tenant, year, &file)),
        None => rules.for_tenant_year(&target.tenant, year),
    };
    match year_rules.and_then(|r| f(&r)) {
        Ok(outcome) => outcome,
        Err(err) => Outcome::error(&err),
    }
}

/// A case file: a command, its input and the expected output (a subset: every key given must match).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    #[serde(default)]
    name: String,
    /// describe, status, certificate, assess or route.
    command: String,
    /// Certificate kind, for `certificate`.
    #[serde(default)]
    kind: Option<String>,
    /// Year, for `describe`.
    #[serde(default)]
    year: Option<u16>,
    #[serde(default)]
    input: Value,
    expected: Value,
    #[serde(default)]
    exit: u8,
}

fn test_dir(rules: &Rules, dir: &Path, tenant: Option<&str>, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let tenant = match tenant {
        Some(t) => t.to_owned(),
        None => dir
            .canonicalize()?
            .parent()
            .and_then(Path::file_name)
            .and_then(|n| n.to_str())
            .map(str::to_owned)
            .ok_or_else(|| anyhow::anyhow!("无法从 {} 推断租户，请用 --tenant 指定", dir.display()))?,
    };
    let (passed, failures) = run_cases(rules, dir, &tenant, config)?;
    for failure in &failures {
        println!("FAIL {failure}");
    }
    println!("{passed} passed, {} failed", failures.len());
    Ok(if failures.is_empty() && passed > 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Runs every `*.json` case in `dir` (in name order): the number passed and a line per failure.
pub(super) fn run_cases(rules: &Rules, dir: &Path, tenant: &str, config: Option<&Path>) -> anyhow::Result<(usize, Vec<String>)> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir)?.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "json")).collect();
    files.sort();
    let mut passed = 0;
    let mut failures = Vec::new();
    for file in files {
        match run_case(rules, &file, tenant, config) {
            Ok(()) => passed += 1,
            Err(why) => failures.push(format!("{}: {why}", file.display())),
        }
    }
    Ok((passed, failures))
}

fn run_case(rules: &Rules, file: &Path, tenant: &str, config: Option<&Path>) -> Result<(), String> {
    let text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
    let case: Case = serde_json::from_str(&text).map_err(|e| format!("case file: {e}"))?;
    let target = Target { tenant: tenant.to_owned(), config: config.map(Path::to_path_buf) };
    let command = match case.command.as_str() {
        "describe" => RulesCommand::Describe { target, year: case.year },
        "status" => RulesCommand::Status { target },
        "certificate" => RulesCommand::Certificate { target, kind: case.kind.clone().unwrap_or_default() },
        "assess" => RulesCommand::Assess { target },
        "route" => RulesCommand::Route { target },
        other => return Err(format!("unknown command {other}")),
    };
    let outcome = execute(rules, &command, &case.input.to_string());
    if outcome.exit != case.exit {
        return Err(format!("{}: exit {} (expected {}), output {}", case.name, outcome.exit, case.exit, outcome.body));
    }
    if !matches(&case.expected, &outcome.body) {
        return Err(format!("{}: expected {} got {}", case.name, case.expected, outcome.body));
    }
    Ok(())
}

/// `expected` matches `actual` when every key it gives matches (recursively); arrays match element-wise
/// and must have the same length; numbers compare as decimals.
fn matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e.iter().all(|(k, v)| a.get(k).is_some_and(|av| matches(v, av))),
        (Value::Array(e), Value::Array(a)) => e.len() == a.len() && e.iter().zip(a).all(|(ev, av)| matches(ev, av)),
        (Value::Number(e), Value::Number(a)) => e.as_f64().zip(a.as_f64()).is_some_and(|(e, a)| (e - a).abs() < 1e-9),
        _ => expected == actual,
    }
}
