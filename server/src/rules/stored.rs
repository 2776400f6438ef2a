//! Requirement tables stored by administrators (seed 003 "管理年度完成继续教育学时", table
//! `year_requirements`): for the year each covers it replaces the rules file's `requirements`, so the
//! change reaches the plugin through that year's config only. Every server process keeps a copy,
//! refreshed from the database each second and before every recompute, so a table saved through one
//! process judges the year the same way in all of them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};

use super::model::Hours;
use super::tenant::RequirementRow;
use super::{Rules, RulesError};
use crate::db::{Db, DbResult, Tx, q};

/// One tenant's stored tables by year.
pub type TenantTables = BTreeMap<u16, Vec<RequirementRow>>;

#[derive(sqlx::FromRow)]
struct StoredRow {
    tenant_id: String,
    year: i64,
    title_level: String,
    public_hours: i64,
    professional_hours: i64,
    total_hours: i64,
}

const COLUMNS: &str = "SELECT tenant_id, year, title_level, public_hours, professional_hours, total_hours FROM year_requirements";

fn hours(hundredths: i64) -> Hours {
    Hours(u32::try_from(hundredths).unwrap_or(0))
}

impl From<StoredRow> for RequirementRow {
    fn from(row: StoredRow) -> RequirementRow {
        RequirementRow {
            title_level: row.title_level,
            public: hours(row.public_hours),
            professional: hours(row.professional_hours),
            total: hours(row.total_hours),
        }
    }
}

/// The table stored for `tenant`'s `year` and when it was saved, straight from the database.
pub async fn read(db: &Db, tenant: &str, year: u16) -> DbResult<Option<(Vec<RequirementRow>, DateTime<Utc>)>> {
    let rows: Vec<StoredRow> =
        db.all(q(format!("{COLUMNS} WHERE tenant_id = $1 AND year = $2 ORDER BY title_level")).bind(tenant).bind(i64::from(year))).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    // A save writes every row with one time.
    let saved: Option<(DateTime<Utc>,)> = db
        .opt(q("SELECT updated_at FROM year_requirements WHERE tenant_id = $1 AND year = $2 LIMIT 1").bind(tenant).bind(i64::from(year)))
        .await?;
    Ok(Some((rows.into_iter().map(RequirementRow::from).collect(), saved.map_or_else(Utc::now, |s| s.0))))
}

/// Replaces the table stored for `tenant`'s `year`, in the caller's transaction.
pub async fn replace_tx(tx: &mut Tx, tenant: &str, year: u16, rows: &[RequirementRow], by: i64, at: DateTime<Utc>) -> DbResult<()> {
    tx.run(q("DELETE FROM year_requirements WHERE tenant_id = $1 AND year = $2").bind(tenant).bind(i64::from(year))).await?;
    for row in rows {
        tx.run(
            q("INSERT INTO year_requirements (tenant_id, year, title_level, public_hours, professional_hours, total_hours, updated_by, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(tenant)
            .bind(i64::from(year))
            .bind(&row.title_level)
            .bind(i64::from(row.public.0))
            .bind(i64::from(row.professional.0))
            .bind(i64::from(row.total.0))
            .bind(by)
            .bind(at),
        )
        .await?;
    }
    Ok(())
}

impl Rules {
    /// Reads the stored tables of `tenant` (of every tenant when `None`) and forgets the resolved years
    /// whose table changed, so their next use resolves them again.
    pub async fn refresh_stored(&self, db: &Db, tenant: Option<&str>) -> DbResult<()> {
        let rows: Vec<StoredRow> = match tenant {
            Some(tenant) => db.all(q(format!("{COLUMNS} WHERE tenant_id = $1 ORDER BY year, title_level")).bind(tenant)).await?,
            None => db.all(q(format!("{COLUMNS} ORDER BY tenant_id, year, title_level"))).await?,
        };
        let mut fresh: HashMap<String, TenantTables> = HashMap::new();
        for row in rows {
            let Ok(year) = u16::try_from(row.year) else { continue };
            fresh.entry(row.tenant_id.clone()).or_default().entry(year).or_default().push(row.into());
        }
        self.replace_stored(tenant, fresh);
        Ok(())
    }

    fn replace_stored(&self, only: Option<&str>, mut fresh: HashMap<String, TenantTables>) {
        let Ok(mut stored) = self.stored.lock() else { return };
        let tenants: BTreeSet<String> = match only {
            Some(tenant) => BTreeSet::from([tenant.to_owned()]),
            None => stored.keys().chain(fresh.keys()).cloned().collect(),
        };
        let mut changed = Vec::new();
        for tenant in tenants {
            let new = fresh.remove(&tenant).unwrap_or_default();
            let old = stored.remove(&tenant).unwrap_or_default();
            let years: BTreeSet<u16> = old.keys().chain(new.keys()).copied().collect();
            changed.extend(years.into_iter().filter(|year| old.get(year) != new.get(year)).map(|year| (tenant.clone(), year)));
            if !new.is_empty() {
                stored.insert(tenant, new);
            }
        }
        if changed.is_empty() {
            return;
        }
        // A resolve that read the old table before this point must not cache what it built.
        self.generation.fetch_add(1, Ordering::SeqCst);
        drop(stored);
        if let Ok(mut years) = self.years.lock() {
            for (tenant, year) in changed {
                if let Some(resolved) = years.get_mut(&tenant) {
                    resolved.remove(&year);
                }
            }
        }
    }

    /// The rules file's table for `tenant`'s `year` (what applies while none is stored).
    pub fn file_requirements(&self, tenant: &str, year: u16) -> Result<Vec<RequirementRow>, RulesError> {
        Ok(self.rules_file(tenant)?.for_year(year)?.requirements)
    }

    /// The table stored for `tenant`'s `year`, as this process last read it; `None` when the rules file's
    /// table applies.
    pub fn stored_requirements(&self, tenant: &str, year: u16) -> Option<Vec<RequirementRow>> {
        self.stored.lock().ok()?.get(tenant)?.get(&year).cloned()
    }
}
