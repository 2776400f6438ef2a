//! Test harness: starts a real jijiao server on a random loopback port, on SQLite or on a fresh
//! PostgreSQL database, and gives tests an HTTP client with its own cookie jar.
//!
//! PostgreSQL comes from `JIJIAO_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`);
//! each test creates its own database and drops it afterwards.
//!
//! The server runs no background job workers: a test runs the queue when it wants its effects
//! (`drain_jobs`), so what it sees never depends on a worker's timing.

pub mod pdf;
pub mod province;
pub mod services;
pub mod training;

use std::path::PathBuf;

use jijiao::config::Config;
use jijiao::db::{Db, q};
use jijiao::jobs::Job;
use jijiao::state::AppState;
use reqwest::{Client, Response};
use serde_json::Value;

/// A client that does not follow redirects (tests look at them) and drops a pooled connection before the
/// server would: the server closes a connection idle for `header_timeout_secs` (20 s), and a request sent on
/// it just then is met with a reset instead of being retried.
pub fn client_builder() -> reqwest::ClientBuilder {
    Client::builder().redirect(reqwest::redirect::Policy::none()).pool_idle_timeout(std::time::Duration::from_secs(10))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestServer {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub db: Db,
    pub state: AppState,
    pub data_dir: PathBuf,
    _tmp: tempfile::TempDir,
    pg_database: Option<String>,
}

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is in the workspace").to_path_buf()
}

fn postgres_admin_url() -> String {
    std::env::var("JIJIAO_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The URL with another database; its parameters (`?sslmode=…`) are kept.
fn with_database(url: &str, name: &str) -> String {
    let (url, params) = url.split_once('?').map_or((url, String::new()), |(u, p)| (u, format!("?{p}")));
    let (base, _) = url.rsplit_once('/').expect("postgres URL has a database");
    format!("{base}/{name}{params}")
}

/// The role servers under test connect as on PostgreSQL: it owns its test database but is no superuser,
/// so the row-level security of migration 0026 binds it as it binds a production server. It logs in
/// the way the admin URL's user does (trust on a test machine).
pub const APP_ROLE: &str = "jijiao_app";
/// Creates the role once; tests starting at the same moment may race to create it.
const APP_ROLE_SQL: &str = "DO $$ BEGIN CREATE ROLE jijiao_app LOGIN NOSUPERUSER NOBYPASSRLS; \
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$";

/// The URL with another user (and no password).
fn with_user(url: &str, user: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("postgres URL has a scheme");
    let host = rest.split_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{user}@{host}")
}

async fn admin_exec(sql: &str) {
    let db = Db::connect(&postgres_admin_url())
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is needed for the Postgres half of the suite ({}): {e}", postgres_admin_url()));
    db.run(q(sql.to_owned())).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    db.close().await;
}

impl TestServer {
    pub async fn start(backend: Backend) -> TestServer {
        Self::start_with(backend, |_| {}).await
    }

    /// Starts a server on the named PostgreSQL database, creating it when missing, and leaves it in
    /// place afterwards (benchmarks that fill a database once and measure it many times).
    pub async fn start_on_kept_database(name: &str, adjust: impl FnOnce(&mut Config)) -> TestServer {
        let admin = Db::connect(&postgres_admin_url()).await.expect("PostgreSQL");
        let exists = admin.exists(q("SELECT 1 FROM pg_database WHERE datname = $1").bind(name)).await.expect("pg_database");
        admin.close().await;
        if !exists {
            admin_exec(&format!("CREATE DATABASE {name}")).await;
        }
        let url = with_database(&postgres_admin_url(), name);
        Self::start_with(Backend::Sqlite, |config| {
            config.database_url = url;
            adjust(config);
        })
        .await
    }

    /// Starts a server after letting the test adjust the configuration (mail, storage, limits).
    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestServer {
        install_crypto();
        // Server errors show in a failing test's output (RUST_LOG widens it).
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn,sqlx=error".into()))
            .with_test_writer()
            .try_init();
        let tmp = tempfile::tempdir().expect("temp dir");
        let mut config = Config {
            data_dir: tmp.path().to_path_buf(),
            tenants_dir: workspace_root().join("tenants"),
            plugins_dir: workspace_root().join("plugins/dist"),
            demo: true,
            ..Config::default()
        };
        let mut pg_database = None;
        match backend {
            Backend::Sqlite => {}
            Backend::Postgres => {
                let name = format!("jijiao_test_{}", rand::random::<u64>());
                admin_exec(APP_ROLE_SQL).await;
                admin_exec(&format!("CREATE DATABASE {name} OWNER {APP_ROLE}")).await;
                config.database_url = with_user(&with_database(&postgres_admin_url(), &name), APP_ROLE);
                pg_database = Some(name);
            }
        }
        adjust(&mut config);
        let state = jijiao::app::build_state(config).await.expect("server state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let db = state.db.clone();
        let data_dir = tmp.path().to_path_buf();
        tokio::spawn(jijiao::app::serve(state.clone(), listener));
        TestServer { base, db, state, data_dir, _tmp: tmp, pg_database }
    }

    pub fn url(&self, tenant: &str, path: &str) -> String {
        format!("{}/t/{tenant}{path}", self.base)
    }

    pub fn api(&self, tenant: &str, path: &str) -> String {
        format!("{}/t/{tenant}/api/v1{path}", self.base)
    }

    /// A client with its own cookie jar that does not follow redirects (tests look at them).
    pub fn client(&self) -> Client {
        client_builder().cookie_store(true).build().expect("client")
    }

    /// Logs in through the API and returns the client holding the session.
    pub async fn login(&self, tenant: &str, user_type: &str, id_number: &str, password: &str) -> Client {
        let client = self.client();
        let res = client
            .post(self.api(tenant, "/session"))
            .json(&serde_json::json!({"user_type": user_type, "id_number": id_number, "password": password}))
            .send()
            .await
            .expect("login request");
        assert_eq!(res.status(), 200, "login as {user_type} {id_number} in {tenant}: {}", res.text().await.unwrap_or_default());
        client
    }

    /// Logs in as a demo account (see README): `seq` 101/102 staff, 201/202 unit, 301 institution,
    /// 401 authority, 501 hr (capital city), 601 province, 701 system.
    pub async fn demo(&self, tenant: &str, user_type: &str, seq: u32) -> Client {
        self.login(tenant, user_type, &jijiao::demo::demo_id_number(tenant, seq), jijiao::demo::DEMO_PASSWORD).await
    }

    /// Logs in as a demo account through the API and returns its session cookie as sent back
    /// (`jijiao_session=…`), for requests made by hand or by other programs.
    pub async fn demo_session_cookie(&self, tenant: &str, user_type: &str, seq: u32) -> String {
        let login = self
            .client()
            .post(self.api(tenant, "/session"))
            .json(&serde_json::json!({"user_type": user_type, "id_number": jijiao::demo::demo_id_number(tenant, seq), "password": jijiao::demo::DEMO_PASSWORD}))
            .send()
            .await
            .expect("login request");
        login
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("jijiao_session="))
            .and_then(|c| c.split(';').next())
            .expect("a session cookie")
            .to_owned()
    }

    /// Runs every due background job (mail delivery…) in this process, as a worker would; returns how
    /// many ran. Failed jobs are queued again for later, so this always ends.
    /// Jobs queued by the jobs that ran (a certificate's PDF after its issue) run too.
    pub async fn drain_jobs(&self) -> usize {
        let mut ran = 0;
        loop {
            match self.run_jobs_at(chrono::Utc::now()).await {
                0 => return ran,
                n => ran += n,
            }
        }
    }

    /// Runs the jobs due at `now` (a later time makes retries due without waiting for them).
    pub async fn run_jobs_at(&self, now: chrono::DateTime<chrono::Utc>) -> usize {
        jijiao::jobs::run_due(&self.state, "test-worker", now).await.expect("the jobs queue is reachable")
    }

    /// Every job, oldest first.
    pub async fn jobs(&self) -> Vec<Job> {
        let mut jobs = jijiao::jobs::list(&self.db, None, None, 1000).await.expect("jobs");
        jobs.reverse();
        jobs
    }

    pub async fn count(&self, sql: &str) -> i64 {
        self.db.scalar(q(sql.to_owned())).await.expect(sql)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(name) = self.pg_database.take() {
            let db = self.db.clone();
            // Dropping happens outside async code: a small runtime of its own closes the pool and drops the database.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                rt.block_on(async move {
                    db.close().await;
                    admin_exec(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                });
            })
            .join();
        }
    }
}

/// Status and JSON body of a response, for assertions with context.
pub async fn json_of(res: Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// Runs an async test body on each backend, as `name::sqlite` and `name::postgres`:
/// `both!(name, body)` hands the body a started [`TestServer`]; `both!(name, body, backend)` hands it the
/// [`Backend`], for tests that start their own servers (configured for S3, SMTP …).
#[macro_export]
macro_rules! both {
    ($name:ident, $body:ident) => {
        $crate::both!(@tests $name, |backend| super::$body($crate::TestServer::start(backend).await));
    };
    ($name:ident, $body:ident, backend) => {
        $crate::both!(@tests $name, |backend| super::$body(backend));
    };
    (@tests $name:ident, |$backend:ident| $call:expr) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $backend = $crate::Backend::Sqlite;
                $call.await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let $backend = $crate::Backend::Postgres;
                $call.await
            }
        }
    };
}

/// A valid resident ID number for tests: region, birth date and sequence, with its check digit.
pub fn id_number(region: &str, birth: &str, seq: u32) -> String {
    jijiao::ids::id_number_with_check(&format!("{region}{birth}{seq:03}"))
}

/// The plain-text body of a raw RFC 5322 message (whatever its transfer encoding).
pub fn mail_text(raw: &[u8]) -> String {
    let message = mail_parser::MessageParser::default().parse(raw).expect("a parsable mail");
    message.body_text(0).map(|b| b.into_owned()).unwrap_or_default()
}

/// The test binary links two rustls crypto backends (through reqwest and fantoccini); pick one.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
