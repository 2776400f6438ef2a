//! casbin "RBAC with domains": (role, tenant, object, action). Policies of every tenant are loaded once
//! into one enforcer behind a lock; requests only read it.
//!
//! Each answer is remembered: an enforce evaluates the matcher over every policy line of every tenant,
//! and a page asks about 30 questions for its menu alone. The questions are few (roles × objects ×
//! actions), and they hold as long as the policy loaded at start does (whatever comes to change the
//! policy must clear them with it).

use casbin::prelude::*;
use tokio::sync::RwLock;

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
    answers: std::sync::RwLock<std::collections::HashMap<String, bool>>,
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

impl Rbac {
    pub async fn load<'a>(policies: impl IntoIterator<Item = &'a str>) -> anyhow::Result<Rbac> {
        let text: Vec<String> = policies.into_iter().map(rules_only).collect();
        let model = DefaultModel::from_str(MODEL).await?;
        let adapter = StringAdapter::new(text.join("\n"));
        let enforcer = Enforcer::new(model, adapter).await?;
        Ok(Rbac { enforcer: RwLock::new(enforcer), answers: Default::default() })
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
