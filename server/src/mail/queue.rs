//! Mail in the job queue: [`queue_tx`] enqueues a [`SendMail`] job in the transaction of the change it
//! reports, and a jobs worker delivers it through the configured [`Mailer`](super::Mailer) with retries.

use serde::{Deserialize, Serialize};

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
