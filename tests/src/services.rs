//! Real services on loopback for the tests that touch them: an SMTP server (aiosmtpd) and an
//! S3-compatible object store (moto's server), both from PyPI (`.ci/run` installs them). Each test starts
//! its own on a free port; dropping the handle stops it.
//!
//! They run as `python3 -m …` so that no console script needs to be on PATH; `JIJIAO_TEST_PYTHON`
//! names another interpreter.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use jijiao::config::Config;

/// A child process stopped (killed and reaped) when dropped.
struct Service {
    name: &'static str,
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Service {
    /// Starts `python3 -m <module> <args>` and waits until it accepts connections on `port`.
    async fn start(name: &'static str, module: &str, args: &[&str], port: u16, dir: tempfile::TempDir) -> Service {
        let python = std::env::var("JIJIAO_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let log = dir.path().join(format!("{name}.log"));
        let log_file = std::fs::File::create(&log).expect("service log");
        let child = Command::new(&python)
            .arg("-m")
            .arg(module)
            .args(args)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log handle"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} with {python} -m {module} (see .ci/run): {e}"));
        let mut service = Service { name, child, log, _dir: dir };
        service.wait_for(port).await;
        service
    }

    /// Waits until the port accepts connections. The deadline only turns a service that never comes up
    /// into a clear failure instead of a hung test; it asserts nothing about speed.
    async fn wait_for(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited ({status}) before listening on {port}:\n{}", self.name, self.log_text());
            }
            assert!(Instant::now() < deadline, "{} is not listening on {port}:\n{}", self.name, self.log_text());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on right now (the OS picks it; the service binds it a moment later).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

/// aiosmtpd storing every message it accepts in a maildir.
pub struct SmtpServer {
    pub port: u16,
    maildir: PathBuf,
    _service: Service,
}

impl SmtpServer {
    pub async fn start() -> SmtpServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let maildir = dir.path().join("maildir");
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let args = ["-n", "-l", listen.as_str(), "-c", "aiosmtpd.handlers.Mailbox", maildir.to_str().expect("utf-8 path")];
        let service = Service::start("aiosmtpd", "aiosmtpd", &args, port, dir).await;
        SmtpServer { port, maildir, _service: service }
    }

    /// Sends the server's mail here (plain SMTP on loopback).
    pub fn configure(&self, config: &mut Config) {
        config.mail.backend = "smtp".into();
        config.mail.smtp_host = "127.0.0.1".into();
        config.mail.smtp_port = self.port;
        config.mail.smtp_tls = "none".into();
    }

    /// Every delivered message, raw.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        ["new", "cur"].iter().flat_map(|sub| read_files(&self.maildir.join(sub))).collect()
    }
}

fn read_files(dir: &Path) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries.filter_map(Result::ok).filter_map(|e| std::fs::read(e.path()).ok()).collect()
}

/// moto's S3-compatible server.
pub struct S3Server {
    pub endpoint: String,
    _service: Service,
}

pub const S3_ACCESS_KEY: &str = "test-access-key";
pub const S3_SECRET_KEY: &str = "test-secret-key";
pub const S3_REGION: &str = "us-east-1";

impl S3Server {
    pub async fn start() -> S3Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let port_arg = port.to_string();
        let service = Service::start("moto", "moto.server", &["-H", "127.0.0.1", "-p", port_arg.as_str()], port, dir).await;
        S3Server { endpoint: format!("http://127.0.0.1:{port}"), _service: service }
    }

    /// Stores the server's blobs in `bucket` here (created at start).
    pub fn configure(&self, config: &mut Config, bucket: &str) {
        let storage = &mut config.storage;
        storage.backend = "s3".into();
        storage.s3_endpoint = self.endpoint.clone();
        storage.s3_region = S3_REGION.into();
        storage.s3_bucket = bucket.into();
        storage.s3_access_key = S3_ACCESS_KEY.into();
        storage.s3_secret_key = S3_SECRET_KEY.into();
        storage.s3_path_style = true;
        storage.s3_create_bucket = true;
    }

    /// A client of the test's own, to look into the bucket independently of the server.
    pub fn client(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .endpoint_url(&self.endpoint)
            .region(aws_sdk_s3::config::Region::new(S3_REGION))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(S3_ACCESS_KEY, S3_SECRET_KEY, None, None, "test"))
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }
}
