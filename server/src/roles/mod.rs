//! 角色管理 (seed 004 §5.1.1.3.1): an organisation's super admin names roles made of permissions its own
//! built-in role holds, and gives one or more of them to the organisation's other admins. An admin given
//! roles holds only what they grant (within its built-in role: never more) and still acts only within
//! its organisation's subtree; giving it its built-in role back restores everything. Roles are casbin
//! policy stored per tenant (`casbin_rules`, `auth::rbac`): every process enforces a change within a
//! second. Every change is audited.

pub mod api;
pub mod pages;

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::audit;
use crate::auth::rbac::{self, account_subject, role_subject};
use crate::auth::{CurrentUser, Role};
use crate::db::{Tx, q};
use crate::error::{AppError, FieldErrors};
use crate::state::AppState;

/// What each permission is called on pages; a permission a tenant's policy adds without a name here
/// shows as 其他权限.
const LABELS: &[(&str, &str)] = &[
    ("orgs:read", "查看组织机构"),
    ("orgs:manage", "组织机构管理"),
    ("accounts:manage", "管理员管理"),
    ("accounts:list", "用户管理"),
    ("audit:read", "操作日志"),
    ("registrations:review", "注册审核"),
    ("people:read", "人员学时查询"),
    ("credits:import", "学时导入"),
    ("claims:apply", "代为申报学时"),
    ("claims:review", "学时申报审核"),
    ("todos:manage", "待办事项"),
    ("certificates:print", "证书打印"),
    ("certificates:issue", "证书发放"),
    ("exemptions:file", "免修申请"),
    ("exemptions:review", "免修审核"),
    ("platforms:manage", "培训平台管理"),
    ("subjects:read", "查看培训科目"),
    ("subjects:manage", "培训科目管理"),
    ("plans:manage", "培训计划"),
    ("plans:review", "培训计划审核"),
    ("classes:manage", "培训班管理"),
    ("declarations:review", "培训班学时审核"),
    ("filings:file", "线下培训备案"),
    ("filings:review", "线下培训备案审核"),
    ("transfers:start", "人员调动"),
    ("transfers:review", "调动审核"),
    ("person_changes:review", "职称变更审核"),
    ("org_changes:apply", "单位信息变更"),
    ("org_changes:review", "单位信息变更审核"),
    ("stats:read", "综合统计"),
    ("annual_reports:file", "年度计划与总结报送"),
    ("annual_reports:review", "年度计划与总结审核"),
    ("work_materials:file", "年度工作材料报送"),
    ("work_materials:read", "查看下级年度工作材料"),
    ("feedback:file", "意见反馈"),
    ("feedback:handle", "意见反馈处理"),
    ("notices:send", "发布通知"),
];

fn label(code: &str) -> String {
    LABELS.iter().find(|(c, _)| *c == code).map_or_else(|| "其他权限".to_owned(), |(_, label)| (*label).to_owned())
}

/// One permission a role may hold: `object:action` and its name.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Permission {
    pub code: String,
    pub label: String,
}

impl Permission {
    fn of(code: String) -> Permission {
        Permission { label: label(&code), code }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CustomRole {
    pub id: i64,
    pub name: String,
    pub permissions: Vec<Permission>,
    /// Admins holding it
    pub holders: i64,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct RoleInput {
    pub name: String,
    /// `object:action` codes from `GET /permissions`
    #[serde(default)]
    pub permissions: Vec<String>,
}

/// The roles an admin holds: custom role ids, or the code of its built-in role (everything its
/// organisation's admins may do). An empty list leaves it only its own profile, password and messages.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct AssignInput {
    #[schema(value_type = Vec<String>)]
    pub roles: Vec<Value>,
}

/// One role an admin holds.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HeldRole {
    /// A custom role's id, or the built-in role's code
    pub code: String,
    pub name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountRoles {
    pub account_id: i64,
    pub name: String,
    /// Whether roles were given (otherwise it holds its built-in role)
    pub assigned: bool,
    pub roles: Vec<HeldRole>,
}

/// The organisation whose roles the caller manages and the built-in role of its admins: its own, as
/// its super admin (a system administrator: the province's, whose admins are province admins).
pub(crate) async fn managed(state: &AppState, user: &CurrentUser) -> Result<(i64, Role), AppError> {
    user.authorize(state, "accounts", "manage").await?;
    let system = user.account.role == Role::SystemAdmin;
    if !(user.account.super_admin || system) || user.account.roles_assigned {
        return Err(AppError::new(axum::http::StatusCode::FORBIDDEN, "super_admin_only", "只有本单位的超级管理员可以管理角色"));
    }
    let org = user.account.org_id.ok_or_else(AppError::forbidden)?;
    Ok((org, if system { Role::ProvinceAdmin } else { user.account.role }))
}

/// The permissions roles of this organisation may hold: its admins' built-in role's, less what every
/// account keeps anyway.
pub fn catalogue(state: &AppState, tenant: &str, builtin: Role) -> Vec<Permission> {
    let codes: BTreeSet<String> = state
        .rbac
        .permissions_of(builtin.as_str(), tenant)
        .into_iter()
        .filter(|(object, action)| !rbac::SELF_SERVICE.contains(&object.as_str()) && object != "*" && action != "*")
        .map(|(object, action)| format!("{object}:{action}"))
        .collect();
    let mut items: Vec<Permission> = codes.into_iter().map(Permission::of).collect();
    // In the order pages name them.
    items.sort_by_key(|p| LABELS.iter().position(|(c, _)| *c == p.code).unwrap_or(usize::MAX));
    items
}

pub async fn permissions(state: &AppState, user: &CurrentUser) -> Result<Vec<Permission>, AppError> {
    let (_, builtin) = managed(state, user).await?;
    Ok(catalogue(state, user.tenant_code(), builtin))
}

async fn role_permissions(state: &AppState, tenant: &str, id: i64) -> Result<Vec<Permission>, AppError> {
    let rows: Vec<(String, String)> = state
        .db
        .all(
            q("SELECT v2, v3 FROM casbin_rules WHERE tenant_id = $1 AND ptype = 'p' AND v0 = $2 ORDER BY id")
                .bind(tenant)
                .bind(role_subject(id)),
        )
        .await?;
    Ok(rows.into_iter().map(|(object, action)| Permission::of(format!("{object}:{action}"))).collect())
}

async fn holders(state: &AppState, tenant: &str, subject: &str) -> Result<Vec<i64>, AppError> {
    let rows: Vec<(String,)> = state
        .db
        .all(q("SELECT v0 FROM casbin_rules WHERE tenant_id = $1 AND ptype = 'g' AND v1 = $2 ORDER BY id").bind(tenant).bind(subject))
        .await?;
    Ok(rows.into_iter().filter_map(|(s,)| s.strip_prefix("account:").and_then(|id| id.parse().ok())).collect())
}

/// The organisation's roles, oldest first.
pub async fn list(state: &AppState, user: &CurrentUser) -> Result<Vec<CustomRole>, AppError> {
    let (org, _) = managed(state, user).await?;
    let tenant = user.tenant_code();
    let rows: Vec<(i64, String, DateTime<Utc>)> = state
        .db
        .all(q("SELECT id, name, updated_at FROM custom_roles WHERE tenant_id = $1 AND org_id = $2 ORDER BY id").bind(tenant).bind(org))
        .await?;
    let mut roles = Vec::with_capacity(rows.len());
    for (id, name, updated_at) in rows {
        let holders = holders(state, tenant, &role_subject(id)).await?.len() as i64;
        roles.push(CustomRole { id, name, permissions: role_permissions(state, tenant, id).await?, holders, updated_at });
    }
    Ok(roles)
}

/// One of the organisation's roles, or 404.
pub async fn get(state: &AppState, user: &CurrentUser, id: i64) -> Result<CustomRole, AppError> {
    let (org, _) = managed(state, user).await?;
    role_of(state, user.tenant_code(), org, id).await
}

async fn role_of(state: &AppState, tenant: &str, org: i64, id: i64) -> Result<CustomRole, AppError> {
    let (name, updated_at): (String, DateTime<Utc>) = state
        .db
        .opt(
            q("SELECT name, updated_at FROM custom_roles WHERE tenant_id = $1 AND org_id = $2 AND id = $3").bind(tenant).bind(org).bind(id),
        )
        .await?
        .ok_or_else(AppError::not_found)?;
    let holders = holders(state, tenant, &role_subject(id)).await?.len() as i64;
    Ok(CustomRole { id, name, permissions: role_permissions(state, tenant, id).await?, holders, updated_at })
}

/// Checks a role's name and permissions: (name, `(object, action)` pairs).
async fn validate(
    state: &AppState,
    user: &CurrentUser,
    org: i64,
    builtin: Role,
    own: Option<i64>,
    input: &RoleInput,
) -> Result<(String, Vec<(String, String)>), AppError> {
    let mut errors = FieldErrors::default();
    let name = input.name.trim();
    let len = name.chars().count();
    if len == 0 || len > 30 {
        errors.add("name", "角色名称应为 1 到 30 个字");
    } else {
        let same: Option<(i64,)> = state
            .db
            .opt(
                q("SELECT id FROM custom_roles WHERE tenant_id = $1 AND org_id = $2 AND name = $3")
                    .bind(user.tenant_code())
                    .bind(org)
                    .bind(name),
            )
            .await?;
        if same.is_some_and(|(id,)| Some(id) != own) {
            errors.add("name", "已有同名角色");
        }
    }
    let allowed: BTreeSet<String> = catalogue(state, user.tenant_code(), builtin).into_iter().map(|p| p.code).collect();
    let chosen: BTreeSet<&str> = input.permissions.iter().map(|p| p.trim()).filter(|p| !p.is_empty()).collect();
    let outside: Vec<&str> = chosen.iter().copied().filter(|p| !allowed.contains(*p)).collect();
    if chosen.is_empty() {
        errors.add("permissions", "请至少选择一项权限");
    } else if !outside.is_empty() {
        errors.add("permissions", format!("以下权限不在可分配的范围内：{}", outside.join("、")));
    }
    errors.finish()?;
    let pairs = chosen.into_iter().filter_map(|p| p.split_once(':')).map(|(o, a)| (o.to_owned(), a.to_owned())).collect();
    Ok((name.to_owned(), pairs))
}

async fn write_permissions_tx(tx: &mut Tx, tenant: &str, id: i64, pairs: &[(String, String)]) -> Result<(), AppError> {
    tx.run(q("DELETE FROM casbin_rules WHERE tenant_id = $1 AND ptype = 'p' AND v0 = $2").bind(tenant).bind(role_subject(id))).await?;
    for (object, action) in pairs {
        tx.run(
            q("INSERT INTO casbin_rules (tenant_id, ptype, v0, v1, v2, v3) VALUES ($1, 'p', $2, $1, $3, $4)")
                .bind(tenant)
                .bind(role_subject(id))
                .bind(object)
                .bind(action),
        )
        .await?;
    }
    Ok(())
}

/// Commits a policy change and applies it in this process at once (the others within a second).
async fn commit(state: &AppState, mut tx: Tx, tenant: &str) -> Result<(), AppError> {
    rbac::bump_tx(&mut tx, tenant).await?;
    tx.commit().await?;
    state.rbac.refresh(&state.db, Some(tenant)).await.map_err(AppError::internal)
}

pub async fn create(state: &AppState, user: &CurrentUser, input: &RoleInput) -> Result<i64, AppError> {
    let (org, builtin) = managed(state, user).await?;
    let tenant = user.tenant_code();
    let (name, pairs) = validate(state, user, org, builtin, None, input).await?;
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    let id = tx
        .scalar(
            q("INSERT INTO custom_roles (tenant_id, org_id, name, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id")
                .bind(tenant)
                .bind(org)
                .bind(&name)
                .bind(user.account.id)
                .bind(now),
        )
        .await?;
    write_permissions_tx(&mut tx, tenant, id, &pairs).await?;
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "role.create",
        "custom_role",
        Some(id),
        json!({"name": name, "permissions": codes(&pairs)}),
    )
    .await?;
    commit(state, tx, tenant).await?;
    Ok(id)
}

fn codes(pairs: &[(String, String)]) -> Vec<String> {
    pairs.iter().map(|(o, a)| format!("{o}:{a}")).collect()
}

pub async fn update(state: &AppState, user: &CurrentUser, id: i64, input: &RoleInput) -> Result<(), AppError> {
    let (org, builtin) = managed(state, user).await?;
    let tenant = user.tenant_code();
    let before = role_of(state, tenant, org, id).await?;
    let (name, pairs) = validate(state, user, org, builtin, Some(id), input).await?;
    let mut tx = state.db.begin().await?;
    tx.run(
        q("UPDATE custom_roles SET name = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .bind(&name)
            .bind(Utc::now()),
    )
    .await?;
    write_permissions_tx(&mut tx, tenant, id, &pairs).await?;
    let old: Vec<&str> = before.permissions.iter().map(|p| p.code.as_str()).collect();
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "role.update",
        "custom_role",
        Some(id),
        json!({"before": {"name": before.name, "permissions": old}, "after": {"name": name, "permissions": codes(&pairs)}}),
    )
    .await?;
    commit(state, tx, tenant).await
}

/// A role reference from a request: the casbin subject it stands for and its name.
async fn resolve(state: &AppState, tenant: &str, org: i64, builtin: Role, reference: &Value) -> Result<Option<HeldRole>, AppError> {
    let text = match reference {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        _ => return Ok(None),
    };
    if text == builtin.as_str() {
        return Ok(Some(HeldRole { code: text, name: builtin.label().to_owned() }));
    }
    let Ok(id) = text.parse::<i64>() else { return Ok(None) };
    let name: Option<(String,)> = state
        .db
        .opt(q("SELECT name FROM custom_roles WHERE tenant_id = $1 AND org_id = $2 AND id = $3").bind(tenant).bind(org).bind(id))
        .await?;
    Ok(name.map(|(name,)| HeldRole { code: id.to_string(), name }))
}

fn subject_of(held: &HeldRole) -> String {
    held.code.parse::<i64>().map_or_else(|_| held.code.clone(), role_subject)
}

/// Deletes a role; one still held is refused unless its holders are given `reassign` instead.
pub async fn delete(state: &AppState, user: &CurrentUser, id: i64, reassign: Option<&str>) -> Result<(), AppError> {
    let (org, builtin) = managed(state, user).await?;
    let tenant = user.tenant_code();
    let role = role_of(state, tenant, org, id).await?;
    let held_by = holders(state, tenant, &role_subject(id)).await?;
    let target = match reassign.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) if r == id.to_string() => return Err(crate::error::field_error("reassign", "不能改派给要删除的角色")),
        Some(r) => Some(
            resolve(state, tenant, org, builtin, &Value::String(r.to_owned()))
                .await?
                .ok_or_else(|| crate::error::field_error("reassign", "改派的角色不存在"))?,
        ),
        None => None,
    };
    if !held_by.is_empty() && target.is_none() {
        return Err(AppError::conflict("role_in_use", format!("仍有 {} 名管理员使用该角色，请先为他们改派角色", held_by.len())));
    }
    let mut tx = state.db.begin().await?;
    if let Some(target) = &target {
        let subject = subject_of(target);
        for account in &held_by {
            let holds: bool = tx
                .exists(
                    q("SELECT 1 FROM casbin_rules WHERE tenant_id = $1 AND ptype = 'g' AND v0 = $2 AND v1 = $3")
                        .bind(tenant)
                        .bind(account_subject(*account))
                        .bind(&subject),
                )
                .await?;
            if !holds {
                grant_tx(&mut tx, tenant, *account, &subject).await?;
            }
        }
    }
    tx.run(
        q("DELETE FROM casbin_rules WHERE tenant_id = $1 AND (v0 = $2 OR (ptype = 'g' AND v1 = $2))").bind(tenant).bind(role_subject(id)),
    )
    .await?;
    tx.run(q("DELETE FROM custom_roles WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(id)).await?;
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "role.delete",
        "custom_role",
        Some(id),
        json!({"name": role.name, "holders": held_by, "reassign": target.map(|t| t.code)}),
    )
    .await?;
    commit(state, tx, tenant).await
}

async fn grant_tx(tx: &mut Tx, tenant: &str, account: i64, subject: &str) -> Result<(), AppError> {
    tx.run(
        q("INSERT INTO casbin_rules (tenant_id, ptype, v0, v1, v2, v3) VALUES ($1, 'g', $2, $3, $1, '')")
            .bind(tenant)
            .bind(account_subject(account))
            .bind(subject),
    )
    .await?;
    Ok(())
}

/// An admin of the caller's organisation whose roles the caller may set: (name, built-in role, roles given).
async fn managed_admin(state: &AppState, user: &CurrentUser, account: i64) -> Result<(i64, Role, String, bool, bool), AppError> {
    let (org, builtin) = managed(state, user).await?;
    let row: Option<(String, Role, bool, bool)> = state
        .db
        .opt(
            q("SELECT name, role, super_admin, roles_assigned FROM accounts WHERE tenant_id = $1 AND id = $2 AND org_id = $3 AND role <> 'staff' \
               AND status IN ('active', 'disabled')")
            .bind(user.tenant_code())
            .bind(account)
            .bind(org),
        )
        .await?;
    let (name, role, super_admin, assigned) = row.ok_or_else(AppError::not_found)?;
    // A system administrator of the province's department is not one of its admins.
    if role != builtin {
        return Err(AppError::not_found());
    }
    Ok((org, role, name, super_admin, assigned))
}

pub async fn account_roles(state: &AppState, user: &CurrentUser, account: i64) -> Result<AccountRoles, AppError> {
    let (org, role, name, _, assigned) = managed_admin(state, user, account).await?;
    let tenant = user.tenant_code();
    let subjects: Vec<(String,)> = state
        .db
        .all(
            q("SELECT v1 FROM casbin_rules WHERE tenant_id = $1 AND ptype = 'g' AND v0 = $2 ORDER BY id")
                .bind(tenant)
                .bind(account_subject(account)),
        )
        .await?;
    let mut roles = Vec::new();
    for (subject,) in subjects {
        let reference = Value::String(subject.strip_prefix("role:").unwrap_or(&subject).to_owned());
        if let Some(held) = resolve(state, tenant, org, role, &reference).await? {
            roles.push(held);
        }
    }
    if !assigned {
        roles = vec![HeldRole { code: role.as_str().to_owned(), name: role.label().to_owned() }];
    }
    Ok(AccountRoles { account_id: account, name, assigned, roles })
}

/// Gives an admin of the caller's organisation exactly these roles.
pub async fn assign(state: &AppState, user: &CurrentUser, account: i64, input: &AssignInput) -> Result<(), AppError> {
    let (org, role, _, super_admin, _) = managed_admin(state, user, account).await?;
    if super_admin || account == user.account.id {
        return Err(AppError::conflict("super_admin_roles", "超级管理员拥有本单位管理员的全部权限，不能分配角色"));
    }
    let tenant = user.tenant_code();
    let mut held = Vec::new();
    for reference in &input.roles {
        match resolve(state, tenant, org, role, reference).await? {
            Some(role) if !held.iter().any(|h: &HeldRole| h.code == role.code) => held.push(role),
            Some(_) => {}
            None => return Err(crate::error::field_error("roles", format!("角色不存在：{reference}"))),
        }
    }
    let before = account_roles(state, user, account).await?;
    let mut tx = state.db.begin().await?;
    tx.run(q("DELETE FROM casbin_rules WHERE tenant_id = $1 AND ptype = 'g' AND v0 = $2").bind(tenant).bind(account_subject(account)))
        .await?;
    for role in &held {
        grant_tx(&mut tx, tenant, account, &subject_of(role)).await?;
    }
    tx.run(q("UPDATE accounts SET roles_assigned = $3 WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(account).bind(true)).await?;
    let codes = |roles: &[HeldRole]| roles.iter().map(|r| r.code.clone()).collect::<Vec<_>>();
    audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "account.roles",
        "account",
        Some(account),
        json!({"before": codes(&before.roles), "after": codes(&held)}),
    )
    .await?;
    commit(state, tx, tenant).await
}

/// The organisation's admins other than the caller, with their roles (the roles page).
pub async fn admins(state: &AppState, user: &CurrentUser) -> Result<Vec<(AccountRoles, bool)>, AppError> {
    let (org, builtin) = managed(state, user).await?;
    let rows: Vec<(i64, bool)> = state
        .db
        .all(
            q("SELECT id, super_admin FROM accounts WHERE tenant_id = $1 AND org_id = $2 AND role = $3 AND status IN ('active', 'disabled') ORDER BY id")
                .bind(user.tenant_code())
                .bind(org)
                .bind(builtin.as_str()),
        )
        .await?;
    let mut out = Vec::new();
    for (id, super_admin) in rows {
        out.push((account_roles(state, user, id).await?, super_admin));
    }
    Ok(out)
}
