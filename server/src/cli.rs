//! The `jijiao` command line: serve, migrate, tenants, demo data, admin bootstrap, jobs.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::db::{Db, q};

#[derive(Debug, Parser)]
#[command(name = "jijiao", version, about = "继教 — multi-tenant continuing-education hour management")]
pub struct Cli {
    /// Configuration file (TOML); JIJIAO_* environment variables override it.
    #[arg(long, global = true, env = "JIJIAO_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (migrates and, by default, syncs tenants first).
    Serve {
        /// Load demo data when the database has no accounts yet.
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage tenants.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Load the demo data for every tenant (idempotent) and print the demo accounts.
    Demo,
    /// Import data from a province's old system.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Manage accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Run a tenant's rule plugin on JSON (describe, status, certificate, assess, route, test); see
    /// `jijiao rules --help`. Its own `--config FILE` is a rules file, so put the global one before `rules`.
    #[command(disable_help_flag = true)]
    Rules {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
        args: Vec<String>,
    },
    /// Inspect and retry background jobs (mail delivery and other work `serve` runs in workers).
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Stored yearly status (each person-year as the tenant's rules plugin judged it).
    Status {
        #[command(subcommand)]
        command: StatusCommand,
    },
    /// Certificates: check signatures, print and rotate the signing keys.
    Cert {
        #[command(subcommand)]
        command: CertCommand,
    },
    /// Online training platforms (configured in tenant.toml [[platforms]]): list them, issue API keys.
    Platform {
        #[command(subcommand)]
        command: PlatformCommand,
    },
    /// The OpenID Connect provider of the training platforms (single sign-on).
    Oidc {
        #[command(subcommand)]
        command: OidcCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum OidcCommand {
    /// Start signing a tenant's ID tokens with a new RS256 key; earlier keys stay in the JWK set.
    RotateKey { tenant: String },
}

#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Check a certificate's signature. With `--keys` offline: INPUT is a certificate PDF, the URL of
    /// its QR code or the bare proof, checked against a JWK set (from `jijiao cert public-key` or
    /// `GET /t/<code>/api/v1/keys`). With `--tenant` instead: INPUT is a certificate number, checked
    /// against the database (its record, status and stored signature). Exit 1 when not valid.
    Verify {
        input: String,
        /// A JWK set file with the tenant's public keys (offline check)
        #[arg(long, conflicts_with = "tenant")]
        keys: Option<std::path::PathBuf>,
        /// The tenant whose database record to check the number against
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Print a tenant's certificate signing keys (public halves) as a JWK set.
    PublicKey { tenant: String },
    /// Start signing a tenant's certificates with a new key; earlier keys stay published for checking.
    RotateKey { tenant: String },
}

#[derive(Debug, Subcommand)]
pub enum PlatformCommand {
    /// List a tenant's platforms with their recognised years and current key id.
    List {
        #[arg(long)]
        tenant: String,
    },
    /// Issue a platform's API credentials and print the key id and secret (shown this once only).
    Credentials {
        #[arg(long)]
        tenant: String,
        /// The platform's code in tenant.toml.
        #[arg(long)]
        platform: String,
        /// Replace the current key (it stops working at once); without this a platform that has a key is refused.
        #[arg(long)]
        rotate: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum StatusCommand {
    /// Judge every person of a tenant again, in batches, and store the results (after changing rules
    /// outside `tenant sync`, or to fill the table after an upgrade). Runs here, not in the workers.
    Recompute {
        #[arg(long)]
        tenant: String,
        /// Only this year (default: every year with a stored status or a credit, and this year).
        #[arg(long)]
        year: Option<i64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// List jobs, newest first.
    List {
        /// Only jobs in this state: queued, running, done or failed.
        #[arg(long)]
        state: Option<String>,
        /// Only jobs of this tenant.
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Make a failed (or waiting) job due now, with a fresh set of attempts.
    Retry { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Make the database match the tenant folders (idempotent).
    Sync {
        /// Folder holding one sub-folder per tenant (default: the configured tenants_dir).
        dir: Option<PathBuf>,
    },
    /// List the tenants in the database.
    List,
    /// Scaffold a new province: its tenant folder and its rule plugin's crate, from templates.
    New {
        /// Lower-case ASCII letters and digits (the folder, host and plugin name)
        code: String,
        /// The portal's name, e.g. 河北省专业技术人员继续教育信息管理系统
        #[arg(long)]
        name: String,
        /// The province, e.g. 河北省
        #[arg(long)]
        province: String,
        /// The first two digits of the province's region codes, e.g. 13
        #[arg(long)]
        region: String,
        /// Where tenant folders live (default: the configured tenants_dir)
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Where plugin crates live
        #[arg(long, default_value = "plugins")]
        plugins: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import credit history from CSV or xlsx (columns: id_number, name, year, subject, hours, source,
    /// reference). Rows are independent and idempotent by reference; exits 1 when any row failed.
    Credits {
        #[arg(long)]
        tenant: String,
        file: PathBuf,
        /// Write the per-row report here as CSV.
        #[arg(long)]
        report: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an admin account; the password is read from standard input.
    Create {
        #[arg(long)]
        tenant: String,
        /// The organisation the admin belongs to.
        #[arg(long)]
        org: i64,
        /// staff, unit_admin, institution_admin, authority_admin, hr_admin, province_admin or system_admin
        #[arg(long)]
        role: String,
        #[arg(long)]
        id_number: String,
        #[arg(long)]
        name: String,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn".into()))
        .with_writer(std::io::stderr);
    // The configuration is read again by the command; here only to know how to log.
    if Config::load(cli.config.as_deref()).is_ok_and(|c| c.log_format == "json") {
        logs.json().init();
    } else {
        logs.init();
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn connect(config: &Config) -> anyhow::Result<Db> {
    std::fs::create_dir_all(&config.data_dir)?;
    let db = Db::connect(&config.database_url()).await?;
    db.migrate().await?;
    Ok(db)
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Rules { args } => return tokio::task::block_in_place(|| crate::rules::cli::run(&config, args)),
        Command::Serve { demo } => {
            config.demo |= demo;
            let bind = config.bind;
            let state = crate::app::build_state(config).await?;
            let listener = tokio::net::TcpListener::bind(bind).await?;
            tracing::info!("jijiao listening on http://{bind}");
            for tenant in state.tenants.all() {
                tracing::info!(
                    "  {} — http://{bind}/t/{}/  (or http://{}.localhost:{}/)",
                    tenant.settings.name,
                    tenant.code(),
                    tenant.code(),
                    bind.port()
                );
            }
            crate::stats::summary::prepare(&state).await?;
            crate::jobs::spawn_workers(&state);
            crate::app::serve(state, listener).await?;
        }
        Command::Migrate => {
            connect(&config).await?;
            println!("migrations applied");
        }
        Command::Tenant { command: TenantCommand::Sync { dir } } => {
            let db = connect(&config).await?;
            let dir = dir.unwrap_or(config.tenants_dir.clone());
            let report = crate::tenancy::sync::sync_dir(&db, &dir).await?;
            println!("synced tenants: {}", report.tenants.join(", "));
        }
        Command::Tenant { command: TenantCommand::New { code, name, province, region, dir, plugins } } => {
            let dir = dir.unwrap_or(config.tenants_dir.clone());
            let new = crate::tenancy::scaffold::NewProvince { code: &code, name: &name, province: &province, region: &region };
            for path in crate::tenancy::scaffold::create(&new, &dir, &plugins)? {
                println!("wrote {}", path.display());
            }
            println!("{}", crate::tenancy::scaffold::next_steps(&code, &dir, &plugins));
        }
        Command::Tenant { command: TenantCommand::List } => {
            let db = connect(&config).await?;
            let rows: Vec<(String, String, String)> = db.all(q("SELECT id, name, hosts FROM tenants ORDER BY id")).await?;
            for (code, name, hosts) in rows {
                println!("{code}\t{name}\t{hosts}");
            }
        }
        Command::Demo => {
            let db = connect(&config).await?;
            crate::tenancy::sync::sync_dir(&db, &config.tenants_dir).await?;
            let accounts = crate::demo::load(&db).await?;
            println!("demo password for every account: {}", crate::demo::DEMO_PASSWORD);
            for a in accounts {
                println!("{}\t{}\t{}\t{}\t{}", a.tenant, a.user_type, a.id_number, a.name, a.org);
            }
            // Demo platforms get API keys too; a secret is shown once, so only keys issued now are printed.
            let keyless: Vec<(String, String)> = db
                .all(
                    q("SELECT p.tenant_id, p.code FROM platforms p WHERE p.enabled = $1 AND NOT EXISTS (SELECT 1 FROM platform_keys k \
                        WHERE k.tenant_id = p.tenant_id AND k.platform_id = p.id AND k.revoked_at IS NULL) ORDER BY p.tenant_id, p.id")
                    .bind(true),
                )
                .await?;
            if !keyless.is_empty() {
                println!("platform API keys issued now (key id, secret; shown this once):");
            }
            for (tenant, code) in keyless {
                let issued = crate::training::platforms::issue(&db, &tenant, &code, false, None)
                    .await
                    .map_err(|e| anyhow::anyhow!("{} ({})", e.message, e.code))?;
                println!("{tenant}\t{code}\t{}\t{}", issued.key_id, issued.secret);
            }
        }
        Command::Import { command: ImportCommand::Credits { tenant, file, report } } => {
            let db = connect(&config).await?;
            if !db.exists(q("SELECT 1 FROM tenants WHERE id = $1").bind(&tenant)).await? {
                anyhow::bail!("unknown tenant {tenant:?} (run `jijiao tenant sync` first)");
            }
            let rows = crate::hours::import::read_file(&file)?;
            let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                indicatif::ProgressBar::new(rows.len() as u64)
            } else {
                indicatif::ProgressBar::hidden()
            };
            let result = crate::hours::import::import_rows(&db, &tenant, &rows, |done| bar.set_position(done as u64)).await?;
            bar.finish_and_clear();
            if let Some(path) = report {
                let mut writer = csv::Writer::from_path(&path)?;
                for row in &result.rows {
                    writer.serialize(row)?;
                }
                writer.flush()?;
            }
            for row in result.rows.iter().filter(|r| r.status == crate::hours::import::RowStatus::Error) {
                eprintln!("row {}: {} {}", row.row, row.code, row.message);
            }
            println!("{} imported, {} duplicate, {} failed", result.imported, result.duplicates, result.errors);
            if result.errors > 0 {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Admin { command: AdminCommand::Create { tenant, org, role, id_number, name } } => {
            let db = connect(&config).await?;
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']);
            let id = crate::auth::admin::create(&db, &tenant, org, &role, &id_number, &name, password).await?;
            println!("created account {id}");
        }
        Command::Jobs { command: JobsCommand::List { state, tenant, limit } } => {
            let db = connect(&config).await?;
            let jobs = crate::jobs::list(&db, state.as_deref(), tenant.as_deref(), limit).await?;
            println!("id\tstate\tkind\ttenant\tattempts\trun_after\tlast_error");
            for job in jobs {
                println!("{}", crate::jobs::describe(&job));
            }
        }
        Command::Status { command: StatusCommand::Recompute { tenant, year } } => {
            let db = connect(&config).await?;
            if !db.exists(q("SELECT 1 FROM tenants WHERE id = $1").bind(&tenant)).await? {
                anyhow::bail!("unknown tenant {tenant:?} (run `jijiao tenant sync` first)");
            }
            let host = crate::rules::Host::from_config(&config).map_err(|e| anyhow::anyhow!("{e}"))?;
            let rules = crate::rules::Rules::new(host, &config.tenants_dir, &config.plugins_dir);
            let years = match year {
                Some(y) => vec![y],
                None => crate::hours::status::tenant_years(&db, &tenant).await?,
            };
            let people = db.scalar(q("SELECT COUNT(*) FROM people WHERE tenant_id = $1").bind(&tenant)).await?;
            for year in years {
                let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                    indicatif::ProgressBar::new(people.max(0) as u64)
                } else {
                    indicatif::ProgressBar::hidden()
                };
                let n = crate::hours::status::recompute_year(&db, &rules, &tenant, year, |done| bar.set_position(done as u64))
                    .await
                    .map_err(|e| anyhow::anyhow!("{year}: {} ({})", e.message, e.code))?;
                bar.finish_and_clear();
                println!("{tenant} {year}: {n} person-years stored");
            }
        }
        Command::Cert { command: CertCommand::Verify { input, keys, tenant } } => {
            let valid = match (keys, tenant) {
                (Some(keys), _) => crate::certificates::cli::verify_offline(&input, &keys)?,
                (None, Some(tenant)) => crate::certificates::cli::verify_number(&connect(&config).await?, &tenant, &input).await?,
                (None, None) => anyhow::bail!("give --keys FILE (offline) or --tenant CODE (against the database)"),
            };
            return Ok(if valid { ExitCode::SUCCESS } else { ExitCode::FAILURE });
        }
        Command::Cert { command: CertCommand::PublicKey { tenant } } => {
            let db = connect(&config).await?;
            crate::keys::current(&db, &tenant, crate::keys::CERTIFICATES).await?;
            println!("{}", serde_json::to_string_pretty(&crate::keys::jwks(&db, &tenant, crate::keys::CERTIFICATES).await?)?);
        }
        Command::Oidc { command: OidcCommand::RotateKey { tenant } } => {
            let db = connect(&config).await?;
            let kid = crate::keys::rsa::rotate(&db, &tenant, crate::keys::rsa::OIDC).await?;
            println!("{tenant}: ID tokens are now signed with key {kid}");
        }
        Command::Cert { command: CertCommand::RotateKey { tenant } } => {
            let db = connect(&config).await?;
            let kid = crate::keys::rotate(&db, &tenant, crate::keys::CERTIFICATES).await?;
            println!("{tenant}: certificates are now signed with key {kid}");
        }
        Command::Platform { command: PlatformCommand::List { tenant } } => {
            let db = connect(&config).await?;
            let keys: Vec<(i64, String)> = db
                .all(q("SELECT platform_id, key_id FROM platform_keys WHERE tenant_id = $1 AND revoked_at IS NULL").bind(&tenant))
                .await?;
            println!("code\tname\tsite\tphone\tyears\tkey_id");
            for p in crate::training::platforms::list(&db, &tenant).await? {
                let key = keys.iter().find(|k| k.0 == p.id).map_or("-", |k| k.1.as_str());
                let years = if p.enabled { p.years_text() } else { "disabled".into() };
                println!("{}\t{}\t{}\t{}\t{years}\t{key}", p.code, p.name, p.site, p.phone);
            }
        }
        Command::Platform { command: PlatformCommand::Credentials { tenant, platform, rotate } } => {
            let db = connect(&config).await?;
            let issued = crate::training::platforms::issue(&db, &tenant, &platform, rotate, None)
                .await
                .map_err(|e| anyhow::anyhow!("{} ({})", e.message, e.code))?;
            println!("platform: {}/{}", tenant, issued.platform);
            println!("key id:   {}", issued.key_id);
            println!("secret:   {}", issued.secret);
            eprintln!("The secret is shown only this once: hand it to the platform over a safe channel.");
        }
        Command::Jobs { command: JobsCommand::Retry { id } } => {
            let db = connect(&config).await?;
            let job = crate::jobs::retry(&db, id).await?;
            println!("job {} queued again", job.id);
        }
    }
    Ok(ExitCode::SUCCESS)
}
