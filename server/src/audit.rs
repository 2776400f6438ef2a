//! The audit trail: every approval, role change, account change and data export is recorded.

use chrono::Utc;
use serde_json::Value;

use crate::db::{Db, Tx, q};

fn insert(tenant: &str, actor: Option<i64>, action: &str, object_type: &str, object_id: Option<i64>, detail: &Value) -> crate::db::Query {
    q("INSERT INTO audit_log (tenant_id, actor_id, action, object_type, object_id, detail, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(tenant)
        .bind(actor)
        .bind(action)
        .bind(object_type)
        .bind(object_id)
        .bind(detail.to_string())
        .bind(Utc::now())
}

pub async fn record(
    db: &Db,
    tenant: &str,
    actor: Option<i64>,
    action: &str,
    object_type: &str,
    object_id: Option<i64>,
    detail: Value,
) -> Result<(), sqlx::Error> {
    db.run(insert(tenant, actor, action, object_type, object_id, &detail)).await?;
    Ok(())
}

/// The same inside a transaction, so the record commits or rolls back with the change it describes.
pub async fn record_tx(
    tx: &mut Tx,
    tenant: &str,
    actor: Option<i64>,
    action: &str,
    object_type: &str,
    object_id: Option<i64>,
    detail: Value,
) -> Result<(), sqlx::Error> {
    tx.run(insert(tenant, actor, action, object_type, object_id, &detail)).await?;
    Ok(())
}

/// One recorded action on an object.
#[derive(Debug, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    /// The account that acted; none for the system
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    /// What was done, e.g. `approval.approved`
    pub action: String,
    /// The action's detail as JSON text (e.g. `{"step":1,"reason":"…"}`)
    pub detail: String,
    pub created_at: chrono::DateTime<Utc>,
}

/// The trail of one object, oldest first.
pub async fn trail(db: &Db, tenant: &str, object_type: &str, object_id: i64) -> Result<Vec<AuditEntry>, sqlx::Error> {
    db.all(
        q("SELECT l.id, l.actor_id, a.name AS actor_name, l.action, l.detail, l.created_at FROM audit_log l \
           LEFT JOIN accounts a ON a.tenant_id = l.tenant_id AND a.id = l.actor_id \
           WHERE l.tenant_id = $1 AND l.object_type = $2 AND l.object_id = $3 ORDER BY l.id")
        .bind(tenant)
        .bind(object_type)
        .bind(object_id),
    )
    .await
}
