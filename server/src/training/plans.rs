//! STUB until the plans branch lands (interface only).
use serde::Serialize;
use serde_json::{Value, json};

use crate::db::{Db, q};

pub const MODES: &[(&str, &str)] = &[("face_to_face", "面授"), ("online", "网络"), ("blended", "混合")];

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Plan {
    pub id: i64,
    pub institution_id: i64,
    pub institution_name: String,
    pub name: String,
    pub subject_kind: String,
    pub subject_id: i64,
    pub subject_name: String,
    pub year: i64,
    pub credit_year: i64,
    pub mode: String,
    pub planned_count: i64,
    pub hours: i64,
    pub start_date: String,
    pub end_date: String,
    pub place: Option<String>,
    pub status: String,
    pub round: i64,
}

const SELECT: &str = "SELECT p.id, p.institution_id, i.name AS institution_name, p.name, p.subject_kind, p.subject_id, s.name AS subject_name, \
     p.year, p.credit_year, p.mode, p.planned_count, p.hours, p.start_date, p.end_date, p.place, p.status, p.round FROM training_plans p \
     JOIN orgs i ON i.tenant_id = p.tenant_id AND i.id = p.institution_id JOIN training_subjects s ON s.tenant_id = p.tenant_id AND s.id = p.subject_id";

impl Plan {
    pub fn to_json(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        v["hours"] = crate::hours::hours_json(self.hours);
        v["mode_label"] = json!(MODES.iter().find(|(k, _)| *k == self.mode).map_or("", |(_, l)| l));
        v
    }
}

pub async fn get(db: &Db, tenant: &str, id: i64) -> Result<Option<Plan>, sqlx::Error> {
    db.opt(q(format!("{SELECT} WHERE p.tenant_id = $1 AND p.id = $2")).bind(tenant).bind(id)).await
}

pub async fn approved_for(db: &Db, tenant: &str, institution_id: i64) -> Result<Vec<Plan>, sqlx::Error> {
    db.all(
        q(format!("{SELECT} WHERE p.tenant_id = $1 AND p.institution_id = $2 AND p.status = 'approved' ORDER BY p.id DESC"))
            .bind(tenant)
            .bind(institution_id),
    )
    .await
}
