//! Outgoing mail through lettre: a file outbox under the data dir by default, SMTP in production.
//!
//! Mail is never sent inside a request: [`queue::queue_tx`] enqueues a job in the transaction of the
//! change it reports, and a jobs worker delivers it with retries, so a slow or unreachable mail server
//! neither delays nor fails the user's action.

pub mod queue;

use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Config;

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
