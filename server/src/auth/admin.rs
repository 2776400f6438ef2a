//! Operator bootstrap: `jijiao admin create` makes the first admins of a tenant.

use chrono::Utc;
use serde_json::json;

use super::{AccountStatus, NewAccount, Role, insert_account, password};
use crate::db::{Db, q};
use crate::ids;

pub async fn create(
    db: &Db,
    tenant: &str,
    org_id: i64,
    role: &str,
    id_number: &str,
    name: &str,
    password_text: &str,
) -> anyhow::Result<i64> {
    let role = Role::parse(role).ok_or_else(|| anyhow::anyhow!("unknown role {role:?}"))?;
    let user_type = role.user_type();
    if role == Role::Staff {
        anyhow::bail!("staff register themselves through the portal; create admins here");
    }
    let id_number = ids::check_id_number(id_number).map_err(|m| anyhow::anyhow!("id number: {m}"))?;
    password::check_policy(password_text, &id_number).map_err(|m| anyhow::anyhow!("password: {m}"))?;
    let org: Option<(String, String)> =
        db.opt(q("SELECT kind, status FROM orgs WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(org_id)).await?;
    let Some((kind, status)) = org else { anyhow::bail!("no organisation {org_id} in tenant {tenant}") };
    if status != "active" {
        anyhow::bail!("organisation {org_id} is not active");
    }
    let expected = role.org_kind().unwrap_or_default();
    if kind != expected {
        anyhow::bail!("role {role} belongs to a {expected} organisation, but {org_id} is a {kind}");
    }
    let hash = password::hash(password_text).await?;
    let mut tx = db.begin().await?;
    let id = insert_account(
        &mut tx,
        tenant,
        NewAccount {
            user_type,
            id_number: &id_number,
            name: name.trim(),
            phone: None,
            email: None,
            org_id: Some(org_id),
            person_id: None,
            role,
            status: AccountStatus::Active,
            password_hash: &hash,
            must_change_password: false,
        },
    )
    .await?;
    crate::audit::record_tx(
        &mut tx,
        tenant,
        None,
        "account.create",
        "account",
        Some(id),
        json!({"role": role, "via": "cli", "at": Utc::now()}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}
