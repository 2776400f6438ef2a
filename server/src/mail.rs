//! Outgoing mail through lettre: a file outbox under the data dir by default, SMTP in production.
//!
//! Mail is never sent inside a request: [`queue_tx`] enqueues a [`SendMail`] job in the transaction of
//! the change it reports, and a jobs worker delivers it with retries, so a slow or unreachable mail
//! server neither delays nor fails the user's action.

use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::db::{DbResult, Tx, q};
use crate::jobs::{self, Job, JobKind};
use crate::state::AppState;

/// The job that delivers one mail. The sender is the tenant's, looked up when the mail goes out.
#[derive(Debug, Serialize, Deserialize)]
pub struct SendMail {
    to: String,
    subject: String,
    body: String,
}

impl JobKind for SendMail {
    const KIND: &'static str = "mail.send";
    const LABEL: &'static str = "邮件发送";

    /// Sends with the configured [`Mailer`] from the tenant's sender address.
    async fn run(self, state: &AppState, job: &Job) -> anyhow::Result<()> {
        let Some(tenant) = state.tenants.get(&job.tenant_id) else {
            anyhow::bail!("tenant {:?} is not loaded", job.tenant_id);
        };
        state.mailer.send(&tenant.settings.mail.sender, &self.to, &self.subject, &self.body).await
    }
}

/// Queues a mail to `to` in the caller's transaction.
pub async fn queue_tx(tx: &mut Tx, tenant: &str, to: &str, subject: &str, body: &str) -> DbResult<i64> {
    let mail = SendMail { to: to.to_owned(), subject: subject.to_owned(), body: body.to_owned() };
    jobs::enqueue_tx(tx, tenant, &mail).await
}

/// Queues a mail to an account's address on file; accounts without one get none.
pub async fn queue_to_account_tx(tx: &mut Tx, tenant: &str, account_id: i64, subject: &str, body: &str) -> DbResult<Option<i64>> {
    let email: Option<(Option<String>,)> =
        tx.opt(q("SELECT email FROM accounts WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(account_id)).await?;
    match email {
        Some((Some(to),)) if !to.trim().is_empty() => Ok(Some(queue_tx(tx, tenant, to.trim(), subject, body).await?)),
        _ => Ok(None),
    }
}

pub enum Mailer {
    File(AsyncFileTransport<Tokio1Executor>),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl Mailer {
    pub fn from_config(config: &Config) -> anyhow::Result<Mailer> {
        let mail = &config.mail;
        match mail.backend.as_str() {
            "file" => {
                let dir = config.outbox_dir();
                std::fs::create_dir_all(&dir)?;
                Ok(Mailer::File(AsyncFileTransport::new(dir)))
            }
            "smtp" => {
                let mut builder = match mail.smtp_tls.as_str() {
                    "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(&mail.smtp_host)?,
                    "starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&mail.smtp_host)?,
                    _ => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&mail.smtp_host),
                }
                .port(mail.smtp_port);
                if !mail.smtp_username.is_empty() {
                    builder = builder.credentials(Credentials::new(mail.smtp_username.clone(), mail.smtp_password.clone()));
                }
                Ok(Mailer::Smtp(builder.build()))
            }
            other => {
                anyhow::bail!("mail backend {other:?} is not available (use \"file\" or \"smtp\")")
            }
        }
    }

    pub async fn send(&self, from: &str, to: &str, subject: &str, body: &str) -> anyhow::Result<()> {
        let message = Message::builder()
            .from(from.parse()?)
            .to(to.parse()?)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())?;
        match self {
            Mailer::File(t) => {
                t.send(message).await?;
            }
            Mailer::Smtp(t) => {
                t.send(message).await?;
            }
        }
        Ok(())
    }
}
