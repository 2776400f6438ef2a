//! `jijiao tenant sync`: reads each `tenants/<code>/` folder and makes the database match it, in one
//! transaction per tenant. Idempotent: running it twice changes nothing the second time.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, bail};
use chrono::Utc;
use serde::Deserialize;

use super::TenantSettings;
use crate::db::{Db, Tx, q};

#[derive(Debug, Deserialize)]
struct RegionRow {
    code: String,
    name: String,
    parent_code: String,
    level: String,
}

#[derive(Debug, Deserialize)]
struct AuthorityRow {
    key: String,
    name: String,
    level: String,
    region_code: String,
    industry: String,
}

#[derive(Debug, Deserialize)]
struct BasicItem {
    code: String,
    name: String,
}

/// What a sync did, for the CLI to print.
#[derive(Debug, Default)]
pub struct SyncReport {
    pub tenants: Vec<String>,
}

pub async fn sync_dir(db: &Db, dir: &Path) -> anyhow::Result<SyncReport> {
    let mut report = SyncReport::default();
    let mut folders: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read tenants folder {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("tenant.toml").is_file())
        .collect();
    folders.sort();
    if folders.is_empty() {
        bail!("no tenant folders (with tenant.toml) under {}", dir.display());
    }
    for folder in folders {
        let code = sync_tenant(db, &folder).await.with_context(|| format!("tenant folder {}", folder.display()))?;
        report.tenants.push(code);
    }
    Ok(report)
}

pub async fn sync_tenant(db: &Db, folder: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(folder.join("tenant.toml"))?;
    let settings: TenantSettings = toml::from_str(&text).context("tenant.toml")?;
    let folder_name = folder.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    if settings.code != folder_name {
        bail!("tenant.toml code {:?} does not match its folder name {folder_name:?}", settings.code);
    }
    if !settings.code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) {
        bail!("tenant code must be lowercase ASCII letters and digits: {:?}", settings.code);
    }
    let policy = std::fs::read_to_string(folder.join("policy.csv")).context("policy.csv")?;
    crate::auth::rbac::check_policy(&settings.code, &policy)?;
    let regions: Vec<RegionRow> = read_csv(&folder.join("data/regions.csv"))?;
    let authorities: Vec<AuthorityRow> = read_csv(&folder.join("data/authorities.csv"))?;
    let basic: BTreeMap<String, Vec<BasicItem>> =
        toml::from_str(&std::fs::read_to_string(folder.join("data/basic.toml")).context("data/basic.toml")?).context("data/basic.toml")?;

    let code = settings.code.clone();
    let now = Utc::now();
    let mut tx = db.begin().await?;
    let settings_json = serde_json::to_string(&settings)?;
    let hosts_json = serde_json::to_string(&settings.hosts)?;
    tx.run(
        q("INSERT INTO tenants (id, name, short_name, hosts, settings, policy, synced_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
           ON CONFLICT (id) DO UPDATE SET name = excluded.name, short_name = excluded.short_name, hosts = excluded.hosts, \
           settings = excluded.settings, policy = excluded.policy, synced_at = excluded.synced_at")
        .bind(&code)
        .bind(&settings.name)
        .bind(&settings.short_name)
        .bind(&hosts_json)
        .bind(&settings_json)
        .bind(&policy)
        .bind(now),
    )
    .await?;

    for (kind, items) in &basic {
        for (sort, item) in items.iter().enumerate() {
            upsert_basic(&mut tx, &code, kind, &item.code, &item.name, None, sort as i64).await?;
        }
    }

    // Regions become basic data and the HR bureau tree: province HR department → city → county bureaus.
    let mut sorted = regions;
    sorted.sort_by_key(|r| level_rank(&r.level));
    for (sort, region) in sorted.iter().enumerate() {
        if level_rank(&region.level) == 9 {
            bail!("regions.csv: unknown level {:?} for {}", region.level, region.code);
        }
        let parent = (!region.parent_code.is_empty()).then_some(region.parent_code.as_str());
        upsert_basic(&mut tx, &code, "region", &region.code, &region.name, parent, sort as i64).await?;
        let bureau_name = if region.level == "province" {
            format!("{}人力资源和社会保障厅", region.name)
        } else {
            format!("{}人力资源和社会保障局", region.name)
        };
        let parent_id = match parent {
            Some(p) => Some(
                org_by_key(&mut tx, &code, &format!("hr:{p}"))
                    .await?
                    .with_context(|| format!("regions.csv: parent {p} of {} is missing or listed later", region.code))?,
            ),
            None => None,
        };
        let kind = if region.level == "province" { "province" } else { "hr" };
        upsert_org(&mut tx, &code, &format!("hr:{}", region.code), kind, &bureau_name, &region.level, &region.code, parent_id, None)
            .await?;
    }

    for authority in &authorities {
        let bureau = org_by_key(&mut tx, &code, &format!("hr:{}", authority.region_code))
            .await?
            .with_context(|| format!("authorities.csv: region {} of {} is unknown", authority.region_code, authority.key))?;
        upsert_org(
            &mut tx,
            &code,
            &format!("authority:{}", authority.key),
            "authority",
            &authority.name,
            &authority.level,
            &authority.region_code,
            Some(bureau),
            Some(&authority.industry),
        )
        .await?;
    }
    settings.completions.check()?;
    crate::training::platforms::sync_tx(&mut tx, &code, &settings.platforms, now).await?;
    // New rules (rules.toml or plugin pins) queue a recompute of the stored yearly statuses.
    crate::hours::status::after_sync_tx(&mut tx, &code, folder).await?;
    tx.commit().await?;
    Ok(code)
}

fn level_rank(level: &str) -> u8 {
    match level {
        "province" => 0,
        "city" => 1,
        "county" => 2,
        _ => 9,
    }
}

fn read_csv<T: for<'de> Deserialize<'de>>(path: &Path) -> anyhow::Result<Vec<T>> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut rows = Vec::new();
    for (i, row) in reader.deserialize().enumerate() {
        rows.push(row.with_context(|| format!("{} line {}", path.display(), i + 2))?);
    }
    Ok(rows)
}

/// The file wins for the items it lists (name, parent, order); `enabled` stays as administrators set it.
async fn upsert_basic(
    tx: &mut Tx,
    tenant: &str,
    kind: &str,
    code: &str,
    name: &str,
    parent: Option<&str>,
    sort: i64,
) -> anyhow::Result<()> {
    tx.run(
        q("INSERT INTO basic_data (tenant_id, kind, code, name, parent_code, sort, enabled) VALUES ($1, $2, $3, $4, $5, $6, $7) \
           ON CONFLICT (tenant_id, kind, code) DO UPDATE SET name = excluded.name, parent_code = excluded.parent_code, sort = excluded.sort")
        .bind(tenant)
        .bind(kind)
        .bind(code)
        .bind(name)
        .bind(parent.map(str::to_owned))
        .bind(sort)
        .bind(true),
    )
    .await?;
    Ok(())
}

async fn org_by_key(tx: &mut Tx, tenant: &str, key: &str) -> anyhow::Result<Option<i64>> {
    Ok(tx.opt::<(i64,)>(q("SELECT id FROM orgs WHERE tenant_id = $1 AND ext_key = $2").bind(tenant).bind(key)).await?.map(|r| r.0))
}

async fn upsert_org(
    tx: &mut Tx,
    tenant: &str,
    key: &str,
    kind: &str,
    name: &str,
    level: &str,
    region: &str,
    parent_id: Option<i64>,
    industry: Option<&str>,
) -> anyhow::Result<i64> {
    let now = Utc::now();
    let industry = industry.map(str::to_owned);
    if let Some(id) = org_by_key(tx, tenant, key).await? {
        tx.run(
            q("UPDATE orgs SET name = $3, level = $4, region_code = $5, industry = $6 WHERE tenant_id = $1 AND id = $2")
                .bind(tenant)
                .bind(id)
                .bind(name)
                .bind(level)
                .bind(region)
                .bind(industry),
        )
        .await?;
        return Ok(id);
    }
    let id = crate::orgs::insert_org(
        tx,
        tenant,
        crate::orgs::NewOrg {
            ext_key: Some(key.to_owned()),
            kind: kind.to_owned(),
            name: name.to_owned(),
            level: level.to_owned(),
            region_code: Some(region.to_owned()),
            parent_id,
            industry,
            status: "active".into(),
            ..Default::default()
        },
        now,
    )
    .await?;
    Ok(id)
}
