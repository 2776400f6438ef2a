//! casbin "RBAC with domains": (role, tenant, object, action). Policies of every tenant are loaded once
//! into one enforcer behind a lock; requests only read it.
//!
//! Built-in roles come from each tenant's `policy.csv`; custom roles (角色管理) from the database table
//! `casbin_rules`, per tenant (`p, role:<id>, tenant, object, action` and `g, account:<id>, role, tenant`).
//! Every process polls `policy_versions` and rebuilds its enforcer when a tenant's stored policy
//! changed, so a role saved through one server is enforced by all within a second.
//!
//! Each answer is remembered: an enforce evaluates the matcher over every policy line of every tenant,
//! and a page asks about 30 questions for its menu alone. The questions are few (subjects × objects ×
//! actions), and they hold until the policy is rebuilt, which clears them.

use std::collections::HashMap;

use casbin::prelude::*;
use tokio::sync::RwLock;

use crate::db::{Db, DbResult, Tx, q};

/// Objects every signed-in account keeps whatever roles it was given: its own profile, password and
/// messages. Custom roles are made of the other permissions.
pub const SELF_SERVICE: &[&str] = &["profile", "password", "messages"];

/// The casbin subject of an account given custom roles.
pub fn account_subject(account: i64) -> String {
    format!("account:{account}")
}

/// The casbin subject of a custom role.
pub fn role_subject(role: i64) -> String {
    format!("role:{role}")
}

const MODEL: &str = r#"
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && (p.obj == "*" || r.obj == p.obj) && (p.act == "*" || r.act == p.act)
"#;

pub struct Rbac {
    enforcer: RwLock<Enforcer>,
    answers: std::sync::RwLock<HashMap<String, bool>>,
    /// The tenants' policy.csv rules, as loaded at start.
    files: Vec<String>,
    /// The stored rules per tenant and the version they were read at.
    stored: tokio::sync::Mutex<HashMap<String, (i64, Vec<String>)>>,
}

/// One stored casbin rule.
#[derive(sqlx::FromRow)]
struct StoredRule {
    ptype: String,
    v0: String,
    v1: String,
    v2: String,
    v3: String,
}

impl StoredRule {
    fn line(&self) -> String {
        match self.ptype.as_str() {
            "p" => format!("p, {}, {}, {}, {}", self.v0, self.v1, self.v2, self.v3),
            _ => format!("g, {}, {}, {}", self.v0, self.v1, self.v2),
        }
    }
}

/// Marks a tenant's stored policy changed, in the transaction that changed it.
pub async fn bump_tx(tx: &mut Tx, tenant: &str) -> DbResult<()> {
    tx.run(
        q("INSERT INTO policy_versions (tenant_id, version) VALUES ($1, 1) \
           ON CONFLICT (tenant_id) DO UPDATE SET version = policy_versions.version + 1")
        .bind(tenant),
    )
    .await?;
    Ok(())
}

/// Strips comments and blank lines so casbin's CSV reader sees only rules.
fn rules_only(policy: &str) -> String {
    policy.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect::<Vec<_>>().join("\n")
}

/// Refuses a tenant policy whose rules name another tenant's domain or are malformed.
pub fn check_policy(tenant: &str, policy: &str) -> anyhow::Result<()> {
    for (i, line) in rules_only(policy).lines().enumerate() {
        let cols: Vec<&str> = line.split(',').map(str::trim).collect();
        let ok = match cols.first().copied() {
            Some("p") => cols.len() == 5 && cols[2] == tenant,
            Some("g") => cols.len() == 4 && cols[3] == tenant,
            _ => false,
        };
        if !ok {
            anyhow::bail!("policy.csv rule {} is malformed or not for tenant {tenant}: {line}", i + 1);
        }
    }
    Ok(())
}

async fn enforcer(policy: &str) -> anyhow::Result<Enforcer> {
    let model = DefaultModel::from_str(MODEL).await?;
    Ok(Enforcer::new(model, StringAdapter::new(policy.to_owned())).await?)
}

impl Rbac {
    pub async fn load<'a>(policies: impl IntoIterator<Item = &'a str>) -> anyhow::Result<Rbac> {
        let files: Vec<String> = policies.into_iter().map(rules_only).collect();
        let enforcer = enforcer(&files.join("\n")).await?;
        Ok(Rbac { enforcer: RwLock::new(enforcer), answers: Default::default(), files, stored: Default::default() })
    }

    /// Reads the stored policy of `tenant` (of every tenant when `None`) when its version moved, and
    /// rebuilds the enforcer with it.
    pub async fn refresh(&self, db: &Db, tenant: Option<&str>) -> anyhow::Result<()> {
        let versions: Vec<(String, i64)> = match tenant {
            Some(tenant) => db.all(q("SELECT tenant_id, version FROM policy_versions WHERE tenant_id = $1").bind(tenant)).await?,
            None => db.all(q("SELECT tenant_id, version FROM policy_versions")).await?,
        };
        let mut stored = self.stored.lock().await;
        let moved: Vec<(String, i64)> = versions.into_iter().filter(|(t, v)| stored.get(t).is_none_or(|(known, _)| known != v)).collect();
        if moved.is_empty() {
            return Ok(());
        }
        for (tenant, version) in moved {
            let rules: Vec<StoredRule> =
                db.all(q("SELECT ptype, v0, v1, v2, v3 FROM casbin_rules WHERE tenant_id = $1 ORDER BY id").bind(&tenant)).await?;
            let lines = rules.iter().map(StoredRule::line).collect();
            stored.insert(tenant, (version, lines));
        }
        let text: Vec<&str> =
            self.files.iter().map(String::as_str).chain(stored.values().flat_map(|(_, lines)| lines.iter().map(String::as_str))).collect();
        let rebuilt = enforcer(&text.join("\n")).await?;
        *self.enforcer.write().await = rebuilt;
        if let Ok(mut answers) = self.answers.write() {
            answers.clear();
        }
        Ok(())
    }

    /// What a built-in role may do in a tenant, as its policy.csv says: `(object, action)` pairs.
    pub fn permissions_of(&self, role: &str, tenant: &str) -> Vec<(String, String)> {
        self.files
            .iter()
            .flat_map(|file| file.lines())
            .filter_map(|line| {
                let cols: Vec<&str> = line.split(',').map(str::trim).collect();
                (cols.len() == 5 && cols[0] == "p" && cols[1] == role && cols[2] == tenant)
                    .then(|| (cols[3].to_owned(), cols[4].to_owned()))
            })
            .collect()
    }

    pub async fn allows(&self, role: &str, tenant: &str, object: &str, action: &str) -> bool {
        let key = format!("{role}\0{tenant}\0{object}\0{action}");
        if let Some(known) = self.answers.read().ok().and_then(|answers| answers.get(&key).copied()) {
            return known;
        }
        let allowed = self.enforcer.read().await.enforce((role, tenant, object, action)).unwrap_or(false);
        if let Ok(mut answers) = self.answers.write() {
            answers.insert(key, allowed);
        }
        allowed
    }
}
