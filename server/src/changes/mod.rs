//! Change audits (变更审核管理, seed 004 §5.1.4). A person's professional title — title, title level,
//! title series, title date — changes only when the route the tenant's rules plugin names for a
//! `person-change` (against the person's unit: Hubei its supervising department, Hunan and Henan the
//! unit's admin) approves it; until then the profile shows the pending change and the reviewer sees old →
//! new for each field. Approval writes the fields and has this year's status judged again when the title
//! level changed (the yearly requirement may depend on it).

pub mod api;
pub mod pages;

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::approvals::{self, Approval, Decided, NewApproval, Notice, RequestKind, RouteOrg, Trail};
use crate::auth::CurrentUser;
use crate::db::{Db, Tx, q};
use crate::error::{AppError, FieldErrors, ResultExt};
use crate::paging::Paging;
use crate::rules::model::RequestKind as RouteKind;
use crate::state::AppState;

/// The casbin object: staff `apply`, reviewers `review`.
pub(crate) const OBJECT: &str = "person_changes";
const STATUSES: &[(&str, &str)] = &[("pending", "待审核"), ("approved", "已生效"), ("rejected", "未通过"), ("withdrawn", "已撤回")];

/// The fields a person may ask to change, with their Chinese names, in display order.
pub const FIELDS: &[(&str, &str)] =
    &[("title", "职称"), ("title_level", "职称等级"), ("title_series", "职称系列"), ("title_date", "职称获取时间")];

/// A change to ask for (`POST /api/v1/me/changes`): the new values of some of [`FIELDS`].
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewChange {
    /// `{"title": "…", "title_level": "senior", "title_series": "health", "title_date": "2026-06-30"}`: any
    /// of them; codes from the tenant's basic data
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
}

/// One field's change as asked.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldChange {
    pub field: String,
    pub label: String,
    pub old: Option<String>,
    pub new: String,
    /// The values as people read them (a code's name from basic data)
    pub old_text: String,
    pub new_text: String,
}

/// A change request as its pages and the reviewer see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonChange {
    pub id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub unit_name: String,
    pub changes: Vec<FieldChange>,
    /// pending, approved, rejected or withdrawn
    pub status: String,
    pub status_label: String,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    person_id: i64,
    person_name: String,
    unit_name: String,
    changes: String,
    status: String,
    created_at: DateTime<Utc>,
    decided_at: Option<DateTime<Utc>>,
}

const SELECT: &str = "SELECT c.id, c.person_id, p.name AS person_name, u.name AS unit_name, c.changes, c.status, c.created_at, c.decided_at \
     FROM person_changes c JOIN people p ON p.tenant_id = c.tenant_id AND p.id = c.person_id \
     JOIN orgs u ON u.tenant_id = c.tenant_id AND u.id = c.unit_id";

impl From<Row> for PersonChange {
    fn from(row: Row) -> Self {
        let changes = serde_json::from_str(&row.changes).unwrap_or_default();
        let status_label = STATUSES.iter().find(|(code, _)| *code == row.status).map_or("", |(_, label)| label).to_owned();
        PersonChange {
            id: row.id,
            person_id: row.person_id,
            person_name: row.person_name,
            unit_name: row.unit_name,
            changes,
            status: row.status,
            status_label,
            created_at: row.created_at,
            decided_at: row.decided_at,
        }
    }
}

/// A code's name in the tenant's basic data of `kind`, if the code is an enabled one.
async fn code_name(db: &Db, tenant: &str, kind: &str, code: &str) -> Result<Option<String>, AppError> {
    Ok(crate::tenancy::basic_data(db, tenant, kind).await?.into_iter().find(|item| item.code == code).map(|item| item.name))
}

/// The text a field's value reads as: the name of a coded value, the value itself otherwise.
async fn value_text(db: &Db, tenant: &str, field: &str, value: Option<&str>) -> Result<String, AppError> {
    let Some(value) = value.filter(|v| !v.is_empty()) else { return Ok("—".into()) };
    Ok(match field {
        "title_level" | "title_series" => code_name(db, tenant, field, value).await?.unwrap_or_else(|| value.to_owned()),
        _ => value.to_owned(),
    })
}

/// Checks the asked fields against the person's current values: unknown fields, bad values and values
/// that change nothing are field errors. Returns the changes in [`FIELDS`] order.
async fn check(db: &Db, tenant: &str, current: &crate::people::Profile, asked: &Map<String, Value>) -> Result<Vec<FieldChange>, AppError> {
    let mut errors = FieldErrors::default();
    for key in asked.keys() {
        if !FIELDS.iter().any(|(field, _)| field == key) {
            errors.add(key, "不能申请变更此项（可变更：职称、职称等级、职称系列、职称获取时间）");
        }
    }
    let old: BTreeMap<&str, Option<String>> = BTreeMap::from([
        ("title", current.title.clone()),
        ("title_level", Some(current.title_level.clone())),
        ("title_series", current.title_series.clone()),
        ("title_date", current.title_date.map(|d| d.to_string())),
    ]);
    let mut changes = Vec::new();
    for (field, label) in FIELDS {
        let Some(value) = asked.get(*field) else { continue };
        let Some(new) = value.as_str().map(str::trim).filter(|v| !v.is_empty()) else {
            errors.add(field, format!("请填写新的{label}"));
            continue;
        };
        let valid = match *field {
            "title" => {
                if new.chars().count() > 50 || new.starts_with(['=', '+', '-', '@']) {
                    errors.add(field, "职称不能超过 50 个字，且不能以 =、+、-、@ 开头");
                }
                true
            }
            "title_level" | "title_series" => code_name(db, tenant, field, new).await?.is_some(),
            _ => NaiveDate::parse_from_str(new, "%Y-%m-%d").is_ok_and(|d| d <= Utc::now().date_naive() && d.year() >= 1950),
        };
        if !valid {
            errors.add(field, format!("{label}无效，请从列表中选择或按 年-月-日 填写"));
            continue;
        }
        let old = old.get(field).cloned().flatten();
        if old.as_deref() == Some(new) {
            errors.add(field, format!("{label}与当前信息相同"));
            continue;
        }
        changes.push(FieldChange {
            field: (*field).to_owned(),
            label: (*label).to_owned(),
            old_text: value_text(db, tenant, field, old.as_deref()).await?,
            new_text: value_text(db, tenant, field, Some(new)).await?,
            old,
            new: new.to_owned(),
        });
    }
    if asked.is_empty() {
        errors.add("fields", "请至少填写一项要变更的职称信息");
    }
    errors.finish()?;
    Ok(changes)
}

/// Files a change of the caller's own title and opens its route; a route the plugin leaves empty applies
/// it at once. Returns the id and the status.
pub async fn file(state: &AppState, user: &CurrentUser, input: &NewChange) -> Result<(i64, &'static str), AppError> {
    user.authorize(state, OBJECT, "apply").await?;
    let tenant = user.tenant_code();
    let person_id = user.account.person_id.ok_or_else(|| AppError::bad_request("no_profile", "管理员账号没有个人档案"))?;
    let current = crate::people::profile(&state.db, tenant, person_id).await?.ok_or_else(AppError::not_found)?;
    let changes = check(&state.db, tenant, &current, &input.fields).await?;
    let unit = crate::orgs::get(&state.db, tenant, current.unit_id).await?.ok_or_else(AppError::not_found)?;
    let year = u16::try_from(crate::hours::this_year()).unwrap_or(2026);
    let steps = approvals::route_for(state, tenant, &RouteOrg::from(&unit), year, RouteKind::PersonChange, None, None).await?;
    let mut tx = state.db.begin().await?;
    let id = tx
        .scalar(
            q("INSERT INTO person_changes (tenant_id, person_id, unit_id, changes, status, created_by, created_at) \
               VALUES ($1, $2, $3, $4, 'pending', $5, $6) RETURNING id")
            .bind(tenant)
            .bind(person_id)
            .bind(unit.id)
            .bind(serde_json::to_string(&changes).map_err(AppError::internal)?)
            .bind(user.account.id)
            .bind(Utc::now()),
        )
        .await
        .on_duplicate(|| AppError::conflict("change_pending", "已有待审核的职称变更申请，请等待审核或撤回后再提交"))?;
    crate::audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "person_change.filed",
        "person_change",
        Some(id),
        json!({"route": approvals::route_json(&steps)}),
    )
    .await?;
    let status = if steps.is_empty() {
        apply_tx(&mut tx, tenant, id, Some(user.account.id)).await?;
        "approved"
    } else {
        let summary = format!("{} 的职称变更（{}）", current.name, changes.iter().map(|c| c.label.as_str()).collect::<Vec<_>>().join("、"));
        let template = NewApproval {
            subject_type: "person_change",
            subject_id: id,
            summary,
            applicant_account_id: Some(user.account.id),
            declaring_org_id: Some(unit.id),
            ..NewApproval::default()
        };
        approvals::open_route_tx::<PersonChanges>(&mut tx, &state.config, tenant, &steps, template).await?;
        "pending"
    };
    tx.commit().await?;
    Ok((id, status))
}

/// Writes an approved change's fields to the person and has this year judged again when the title level
/// changed; 409 when the change is no longer pending.
async fn apply_tx(tx: &mut Tx, tenant: &str, id: i64, actor: Option<i64>) -> Result<(), AppError> {
    let row: Option<(i64, String)> = tx
        .opt(
            q("SELECT person_id, changes FROM person_changes WHERE tenant_id = $1 AND id = $2 AND status = 'pending'")
                .bind(tenant)
                .bind(id),
        )
        .await?;
    let Some((person_id, changes)) = row else { return Err(AppError::conflict("already_decided", "该变更申请已被处理")) };
    set_status_tx(tx, tenant, id, "approved").await?;
    let changes: Vec<FieldChange> = serde_json::from_str(&changes).map_err(AppError::internal)?;
    for change in &changes {
        // The column name comes from FIELDS (checked when filed), never from the request.
        let Some((column, _)) = FIELDS.iter().find(|(field, _)| *field == change.field) else { continue };
        let sql = format!("UPDATE people SET {column} = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2");
        let query = q(sql).bind(tenant).bind(person_id);
        let query = if *column == "title_date" {
            query.bind(NaiveDate::parse_from_str(&change.new, "%Y-%m-%d").map_err(AppError::internal)?)
        } else {
            query.bind(change.new.clone())
        };
        tx.run(query.bind(Utc::now())).await?;
    }
    if changes.iter().any(|c| c.field == "title_level") {
        crate::hours::status::mark_tx(tx, tenant, person_id, crate::hours::this_year()).await?;
    }
    crate::audit::record_tx(tx, tenant, actor, "profile.title_changed", "person", Some(person_id), json!({"change_id": id})).await?;
    Ok(())
}

async fn set_status_tx(tx: &mut Tx, tenant: &str, id: i64, status: &str) -> Result<(), AppError> {
    approvals::settle_subject_tx(tx, "person_changes", tenant, id, status).await
}

/// The caller's own change requests, newest first.
pub async fn mine(state: &AppState, user: &CurrentUser, paging: Paging) -> Result<(Vec<PersonChange>, i64), AppError> {
    user.authorize(state, OBJECT, "apply").await?;
    let tenant = user.tenant_code();
    let Some(person_id) = user.account.person_id else { return Ok((Vec::new(), 0)) };
    let total = state
        .db
        .scalar(q("SELECT COUNT(*) FROM person_changes WHERE tenant_id = $1 AND person_id = $2").bind(tenant).bind(person_id))
        .await?;
    let rows: Vec<Row> = state
        .db
        .all(
            q(format!("{SELECT} WHERE c.tenant_id = $1 AND c.person_id = $2 ORDER BY c.created_at DESC, c.id DESC LIMIT $3 OFFSET $4"))
                .bind(tenant)
                .bind(person_id)
                .bind(paging.per_page)
                .bind(paging.offset()),
        )
        .await?;
    Ok((rows.into_iter().map(Into::into).collect(), total))
}

async fn load(db: &Db, tenant: &str, id: i64) -> Result<Option<PersonChange>, AppError> {
    let row: Option<Row> = db.opt(q(format!("{SELECT} WHERE c.tenant_id = $1 AND c.id = $2")).bind(tenant).bind(id)).await?;
    Ok(row.map(Into::into))
}

/// Withdraws the caller's own pending change before anyone decided it.
pub async fn withdraw(state: &AppState, user: &CurrentUser, id: i64) -> Result<(), AppError> {
    user.authorize(state, OBJECT, "apply").await?;
    let tenant = user.tenant_code();
    let change =
        load(&state.db, tenant, id).await?.filter(|c| Some(c.person_id) == user.account.person_id).ok_or_else(AppError::not_found)?;
    if change.status != "pending" {
        return Err(AppError::conflict("already_decided", "该变更申请已被处理，不能撤回"));
    }
    let mut tx = state.db.begin().await?;
    if !approvals::withdraw_undecided_tx(&mut tx, tenant, "person_change", id, 1, user.account.id).await? {
        return Err(AppError::conflict("already_decided", "审核已开始，不能撤回"));
    }
    set_status_tx(&mut tx, tenant, id, "withdrawn").await?;
    crate::audit::record_tx(&mut tx, tenant, Some(user.account.id), "person_change.withdrawn", "person_change", Some(id), json!({}))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Title changes in the approval queue.
#[derive(Default)]
pub struct PersonChanges;

impl RequestKind for PersonChanges {
    const CODE: &'static str = "person_change";
    const LABEL: &'static str = "职称变更审核";
    const NOUN: &'static str = "职称变更申请";
    const OBJECT: &'static str = OBJECT;
    const TRAIL: Option<Trail> = Some(Trail {
        forwarded: "person_change.forwarded",
        approved: ("person_change.approved", "审核通过，变更生效"),
        rejected: "person_change.rejected",
        returned: None,
    });

    async fn approved(&self, tx: &mut Tx, d: &Decided<'_>) -> Result<Notice, AppError> {
        apply_tx(tx, d.tenant, d.item.subject_id, Some(d.actor)).await?;
        Ok(Notice {
            title: "职称变更已通过".into(), body: format!("{}已审核通过，新的职称信息已生效。", d.item.summary), mail: true
        })
    }

    async fn rejected(&self, tx: &mut Tx, d: &Decided<'_>) -> Result<Notice, AppError> {
        set_status_tx(tx, d.tenant, d.item.subject_id, "rejected").await?;
        Ok(Notice {
            title: "职称变更未通过".into(), body: format!("{}未通过审核。原因：{}", d.item.summary, d.reason_text()), mail: true
        })
    }

    async fn detail(&self, state: &AppState, tenant: &str, item: &Approval) -> Result<Value, AppError> {
        let change = load(&state.db, tenant, item.subject_id).await?.ok_or_else(AppError::not_found)?;
        let trail =
            approvals::trail_json(&state.db, tenant, "person_change", change.id, &[("person_change.filed", "提交变更申请")], Self::TRAIL)
                .await?;
        Ok(json!({"change": change, "trail": trail, "person": crate::people::profile_json(&state.db, tenant, change.person_id).await?}))
    }
}
