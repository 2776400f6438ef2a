//! Configuration: built-in defaults < `jijiao.toml` < `JIJIAO_*` environment variables.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Address the HTTP server listens on (`JIJIAO_BIND`).
    pub bind: SocketAddr,
    /// Directory for the SQLite file, blobs, the mail outbox and caches (`JIJIAO_DATA_DIR`).
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; empty means SQLite in the data dir (`JIJIAO_DATABASE_URL`).
    pub database_url: String,
    /// Where tenant folders live (`JIJIAO_TENANTS_DIR`).
    pub tenants_dir: PathBuf,
    /// Where rule plugin components live; tenant.toml pins are relative to it (`JIJIAO_PLUGINS_DIR`).
    pub plugins_dir: PathBuf,
    /// Sync tenants from `tenants_dir` at start (`JIJIAO_SYNC_TENANTS`).
    pub sync_tenants: bool,
    /// Load demo data at start when the database has no accounts (`JIJIAO_DEMO`).
    pub demo: bool,
    /// Public base URL used in mails and QR codes; empty means derived from the request.
    pub public_url: String,
    /// Trust `X-Forwarded-For` for client addresses (only behind a reverse proxy you run).
    pub trust_proxy: bool,
    /// Mark cookies `Secure` (set when served over HTTPS).
    pub secure_cookies: bool,
    /// Idle session lifetime in minutes.
    pub session_minutes: i64,
    /// Largest accepted upload, in megabytes.
    pub upload_limit_mb: u64,
    /// `text` (default) or `json`: one JSON object per log line, for log collectors (`JIJIAO_LOG_FORMAT`).
    pub log_format: String,
    /// Per-request timeout, in seconds.
    pub request_timeout_secs: u64,
    /// How long a connection may take to send a request's headers (and how long an idle keep-alive
    /// connection stays open), in seconds: slow or silent clients are disconnected.
    pub header_timeout_secs: u64,
    /// The CJK font certificates are set in (TrueType/OpenType, `.ttc` collections too); empty means the
    /// first of the known Debian paths that exists (`fonts-wqy-microhei`, `fonts-wqy-zenhei`,
    /// `fonts-noto-cjk`) (`JIJIAO_CERTIFICATE_FONT`).
    pub certificate_font: PathBuf,
    pub storage: StorageConfig,
    pub mail: MailConfig,
    pub jobs: JobsConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct StorageConfig {
    /// `local` (a directory under the data dir) or `s3`.
    pub backend: String,
    /// For `local`: the directory; empty means `<data_dir>/blobs`.
    pub dir: PathBuf,
    /// For `s3`: the service URL (`http://127.0.0.1:9000` for MinIO); empty means AWS itself.
    pub s3_endpoint: String,
    pub s3_region: String,
    pub s3_bucket: String,
    /// Static credentials; empty means the AWS default chain (environment, profile, instance role).
    pub s3_access_key: String,
    pub s3_secret_key: String,
    /// Address buckets as `endpoint/bucket` rather than `bucket.endpoint` (MinIO, Ceph and moto want it).
    pub s3_path_style: bool,
    /// Create the bucket at start when it does not exist.
    pub s3_create_bucket: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct JobsConfig {
    /// Background workers each `jijiao serve` process runs (`JIJIAO_JOBS__WORKERS`); 0 leaves the queue
    /// to other processes.
    pub workers: usize,
    /// Days a finished (`done`) job is kept for the jobs page before the first worker deletes it
    /// (`JIJIAO_JOBS__KEEP_DONE_DAYS`; 0 keeps them forever). Failed jobs stay until retried.
    pub keep_done_days: i64,
    /// Seconds a worker holds a job it took (`JIJIAO_JOBS__LEASE_SECS`): when its process dies, another
    /// takes the job up again after this long. Longer than the slowest job.
    pub lease_secs: i64,
    /// A tenant with at most this many people has a year's statistics summary built inside the first
    /// request that reads it (`JIJIAO_JOBS__INLINE_SUMMARY_PEOPLE`); a larger one's first build is a job,
    /// and pages ask the reader to come back meanwhile.
    pub inline_summary_people: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct MailConfig {
    /// `file` (an outbox directory under the data dir) or `smtp`.
    pub backend: String,
    /// For `file`: the directory; empty means `<data_dir>/outbox`.
    pub outbox_dir: PathBuf,
    pub smtp_host: String,
    pub smtp_port: u16,
    /// `none`, `starttls` or `tls`.
    pub smtp_tls: String,
    pub smtp_username: String,
    pub smtp_password: String,
    /// Admins get one digest mail of new items in their queue at most this many minutes after the first
    /// new item (items arriving meanwhile join the same mail).
    pub digest_minutes: i64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".parse().expect("static address"),
            data_dir: PathBuf::from("data"),
            database_url: String::new(),
            tenants_dir: PathBuf::from("tenants"),
            plugins_dir: PathBuf::from("plugins/dist"),
            sync_tenants: true,
            demo: false,
            public_url: String::new(),
            trust_proxy: false,
            secure_cookies: false,
            session_minutes: 120,
            upload_limit_mb: 20,
            request_timeout_secs: 30,
            log_format: "text".into(),
            header_timeout_secs: 20,
            certificate_font: PathBuf::new(),
            storage: StorageConfig::default(),
            mail: MailConfig::default(),
            jobs: JobsConfig::default(),
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            backend: "local".into(),
            dir: PathBuf::new(),
            s3_endpoint: String::new(),
            s3_region: "us-east-1".into(),
            s3_bucket: "jijiao".into(),
            s3_access_key: String::new(),
            s3_secret_key: String::new(),
            s3_path_style: true,
            s3_create_bucket: true,
        }
    }
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self { workers: 2, keep_done_days: 14, lease_secs: 600, inline_summary_people: 50_000 }
    }
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            backend: "file".into(),
            outbox_dir: PathBuf::new(),
            smtp_host: "127.0.0.1".into(),
            smtp_port: 25,
            smtp_tls: "none".into(),
            smtp_username: String::new(),
            smtp_password: String::new(),
            digest_minutes: 15,
        }
    }
}

impl Config {
    /// Layers defaults, the TOML file (if it exists) and `JIJIAO_*` variables; nested keys use `__`
    /// (`JIJIAO_STORAGE__BACKEND=s3`).
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let file = file.map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("jijiao.toml"));
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("JIJIAO_").split("__"))
            .extract()?;
        Ok(config)
    }

    pub fn database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}?mode=rwc", self.data_dir.join("jijiao.db").display())
        } else {
            self.database_url.clone()
        }
    }

    pub fn blob_dir(&self) -> PathBuf {
        if self.storage.dir.as_os_str().is_empty() { self.data_dir.join("blobs") } else { self.storage.dir.clone() }
    }

    pub fn outbox_dir(&self) -> PathBuf {
        if self.mail.outbox_dir.as_os_str().is_empty() { self.data_dir.join("outbox") } else { self.mail.outbox_dir.clone() }
    }
}
