//! Routes and rounds: the tenant's rules plugin names the steps of a request's route, each step is
//! resolved to the organisation that takes it, and every step of a round is a queue row (the first
//! pending, the rest waiting until the step before them approves). A resubmission after a return or an
//! edit opens a new round.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use super::{Approval, Registered, schedule_digest_tx};
use crate::config::Config;
use crate::db::{Db, Tx, q};
use crate::error::AppError;
use crate::rules::model::{Applicant, OrgLevel, RequestKind as RouteKind, Role, RouteInput, Step, Subject};
use crate::state::AppState;

/// An organisation as routing sees it: the applicant's, or the one that takes a step.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RouteOrg {
    pub id: i64,
    pub name: String,
    /// province, city or county
    pub level: String,
    /// The materialised path in the regional tree (`/1/4/9/`).
    pub path: String,
    pub supervisor_id: Option<i64>,
    pub hr_bureau_id: Option<i64>,
}

/// A route resolved to organisations, in step order.
pub type Steps = Vec<(Role, RouteOrg)>;

async fn route_org(db: &Db, tenant: &str, id: i64) -> Result<Option<RouteOrg>, sqlx::Error> {
    db.opt(q("SELECT id, name, level, path, supervisor_id, hr_bureau_id FROM orgs WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(id))
        .await
}

crate::codes::code_enum! {
    /// Where one step of a route stands.
    pub enum StepStatus {
        /// Behind an earlier step of the round.
        Waiting = ("waiting", "等待上一级"),
        Pending = ("pending", "待审核"),
        Approved = ("approved", "通过"),
        Rejected = ("rejected", "不通过"),
        Returned = ("returned", "退回修改"),
        Withdrawn = ("withdrawn", "已撤回"),
        /// Closed because an earlier step rejected or returned the item.
        Cancelled = ("cancelled", "已取消"),
    }
}

/// A queue row to open (its kind is the [`RequestKind`] it is opened for). A route's first step is
/// `pending`; later steps of a multi-step route are opened `waiting` and become pending when the step
/// before them approves.
#[derive(Default, Clone)]
pub struct NewApproval<'a> {
    /// What the row is about (`account`, `claim`, `training_plan` …): the kind's detail view reads it.
    pub subject_type: &'a str,
    pub subject_id: i64,
    pub summary: String,
    pub applicant_account_id: Option<i64>,
    pub approver_org_id: i64,
    /// Resubmissions after a return start a new round (1 when not given).
    pub round: i64,
    /// Position on the route (1 when not given).
    pub step_no: i64,
    /// The role the route named (`unit_admin`, `authority_admin`, …).
    pub step_role: Option<&'a str>,
    /// The organisation the item comes from; reviewers' queues group by it.
    pub declaring_org_id: Option<i64>,
    pub waiting: bool,
}

/// The number of a subject's latest round (0 before its first): a resubmission opens the next.
pub fn latest_round(tenant: &str, subject_type: &str, subject_id: i64) -> crate::db::Query {
    q("SELECT COALESCE(MAX(round), 0) FROM approvals WHERE tenant_id = $1 AND subject_type = $2 AND subject_id = $3")
        .bind(tenant)
        .bind(subject_type)
        .bind(subject_id)
}

/// Opens one queue row of kind `K`. Only a registered kind's rows can be decided: `K` must be one of
/// the kinds in `crate::kinds::requests`, the only list that implements `Registered`.
pub async fn open_tx<K: Registered>(tx: &mut Tx, tenant: &str, a: NewApproval<'_>) -> Result<i64, sqlx::Error> {
    tx.scalar(
        q("INSERT INTO approvals (tenant_id, kind, subject_type, subject_id, summary, applicant_account_id, approver_org_id, status, created_at, \
           round, step_no, step_role, declaring_org_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id")
        .bind(tenant)
        .bind(K::CODE)
        .bind(a.subject_type)
        .bind(a.subject_id)
        .bind(a.summary)
        .bind(a.applicant_account_id)
        .bind(a.approver_org_id)
        .bind(if a.waiting { StepStatus::Waiting } else { StepStatus::Pending })
        .bind(Utc::now())
        .bind(a.round.max(1))
        .bind(a.step_no.max(1))
        .bind(a.step_role.map(str::to_owned))
        .bind(a.declaring_org_id),
    )
    .await
}

/// Asks the tenant's rules plugin for the route of a request from `unit` and resolves every step to the
/// organisation that takes it. Plugin answers such as "choose the deciding department" come back as
/// field errors (422).
pub async fn route_for(
    state: &AppState,
    tenant: &str,
    unit: &RouteOrg,
    year: u16,
    kind: RouteKind,
    subject: Option<Subject>,
    choice: Option<String>,
) -> Result<Steps, AppError> {
    let rules = state.rules.for_tenant_year(tenant, year)?;
    let request = RouteInput { year: Some(year), kind, subject, applicant: Applicant { level: org_level(&unit.level) }, choice };
    let route = rules.blocking(move |r| r.route(&request)).await?;
    let mut steps = Vec::new();
    for step in &route.steps {
        steps.push((step.role, resolve_step(&state.db, tenant, unit, step).await?));
    }
    Ok(steps)
}

/// Whether the tenant's route for `kind` on `subject` in `year` asks the applicant to choose the deciding
/// department (Henan's professional subjects): forms show the choice only then.
pub async fn route_asks_choice(state: &AppState, tenant: &str, year: i64, level: &str, kind: RouteKind, subject: Subject) -> bool {
    // A year outside the ledger's range (1990–2100) asks the rules of a known year instead.
    let year = u16::try_from(year).ok().filter(|y| (1990..=2100).contains(y)).unwrap_or(2024);
    let Ok(rules) = state.rules.for_tenant_year(tenant, year) else { return false };
    let request = RouteInput { year: None, kind, subject: Some(subject), applicant: Applicant { level: org_level(level) }, choice: None };
    matches!(rules.blocking(move |r| r.route(&request)).await, Err(crate::rules::RulesError::InvalidInput(f)) if f.contains_key("choice"))
}

/// A route's steps as the audit trail records them: role and organisation name.
pub fn route_json(steps: &[(Role, RouteOrg)]) -> serde_json::Value {
    steps.iter().map(|(role, org)| json!({"role": role_code(*role), "org": org.name})).collect::<Vec<_>>().into()
}

/// Opens every step of a route as queue rows (the first pending, the rest waiting), from `template`
/// (its step fields are filled in here), and schedules the first approver's digest mail.
pub async fn open_route_tx<K: Registered>(
    tx: &mut Tx,
    config: &Config,
    tenant: &str,
    steps: &[(Role, RouteOrg)],
    template: NewApproval<'_>,
) -> Result<(), sqlx::Error> {
    for (index, (role, org)) in steps.iter().enumerate() {
        open_tx::<K>(
            tx,
            tenant,
            NewApproval {
                summary: template.summary.clone(),
                approver_org_id: org.id,
                step_no: index as i64 + 1,
                step_role: Some(role_code(*role)),
                waiting: index > 0,
                ..template.clone()
            },
        )
        .await?;
    }
    if let Some((_, first)) = steps.first() {
        schedule_digest_tx(tx, config, tenant, first.id).await?;
    }
    Ok(())
}

/// After `item`'s step approved: makes the next step of its round pending and returns the name of the
/// organisation that takes it, or `None` when `item` was the last step.
pub(super) async fn advance_tx(tx: &mut Tx, config: &Config, tenant: &str, item: &Approval) -> Result<Option<String>, sqlx::Error> {
    let next: Option<(i64, i64, String)> = tx
        .opt(
            q("SELECT p.id, p.approver_org_id, o.name FROM approvals p JOIN orgs o ON o.tenant_id = p.tenant_id AND o.id = p.approver_org_id \
               WHERE p.tenant_id = $1 AND p.subject_type = $2 AND p.subject_id = $3 AND p.round = $4 AND p.step_no = $5 AND p.status = 'waiting'")
            .bind(tenant)
            .bind(item.subject_type.as_str())
            .bind(item.subject_id)
            .bind(item.round)
            .bind(item.step_no + 1),
        )
        .await?;
    let Some((next_id, next_org, org_name)) = next else { return Ok(None) };
    schedule_digest_tx(tx, config, tenant, next_org).await?;
    tx.run(
        q("UPDATE approvals SET status = 'pending', created_at = $3 WHERE tenant_id = $1 AND id = $2 AND status = 'waiting'")
            .bind(tenant)
            .bind(next_id)
            .bind(Utc::now()),
    )
    .await?;
    Ok(Some(org_name))
}

/// Closes the steps of a subject's round that are still open (`statuses`, e.g. waiting steps after a
/// rejection, or the pending one too when the applicant withdraws or edits); returns how many closed.
pub async fn close_open_steps_tx(
    tx: &mut Tx,
    tenant: &str,
    subject_type: &str,
    subject_id: i64,
    round: i64,
    statuses: &[StepStatus],
    status: StepStatus,
) -> Result<u64, sqlx::Error> {
    let listed = statuses.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(", ");
    tx.run(
        q(format!(
            "UPDATE approvals SET status = $5 WHERE tenant_id = $1 AND subject_type = $2 AND subject_id = $3 AND round = $4 AND status IN ({listed})"
        ))
        .bind(tenant)
        .bind(subject_type)
        .bind(subject_id)
        .bind(round)
        .bind(status),
    )
    .await
}

pub fn role_code(role: Role) -> &'static str {
    match role {
        Role::UnitAdmin => "unit_admin",
        Role::InstitutionAdmin => "institution_admin",
        Role::AuthorityAdmin => "authority_admin",
        Role::HrAdmin => "hr_admin",
        Role::ProvinceAdmin => "province_admin",
    }
}

pub fn org_level(level: &str) -> OrgLevel {
    match level {
        "province" => OrgLevel::Province,
        "county" => OrgLevel::County,
        _ => OrgLevel::City,
    }
}

fn level_code(level: OrgLevel) -> &'static str {
    match level {
        OrgLevel::Province => "province",
        OrgLevel::City => "city",
        OrgLevel::County => "county",
    }
}

/// Which organisation takes a route step for an applicant's unit: the unit itself, its supervising
/// authority (its HR bureau when it has none), the HR bureau of the step's level on the unit's regional path (the unit's own bureau when
/// the path has none of that level), or the provincial department.
pub async fn resolve_step(db: &Db, tenant: &str, unit: &RouteOrg, step: &Step) -> Result<RouteOrg, AppError> {
    let unresolved = |message: &str| AppError::invalid([("route".to_owned(), message.to_owned())].into());
    let id = match step.role {
        Role::UnitAdmin => Some(unit.id),
        // A unit without a supervising authority answers to its HR bureau.
        Role::AuthorityAdmin => unit.supervisor_id.or(unit.hr_bureau_id),
        Role::HrAdmin => {
            let ancestors: Vec<i64> = unit.path.split('/').filter_map(|p| p.parse().ok()).collect();
            let mut found = None;
            for ancestor in ancestors.iter().rev() {
                let row: Option<(i64,)> = db
                    .opt(
                        q("SELECT id FROM orgs WHERE tenant_id = $1 AND id = $2 AND kind IN ('hr', 'province') AND level = $3")
                            .bind(tenant)
                            .bind(*ancestor)
                            .bind(level_code(step.level)),
                    )
                    .await?;
                if let Some((id,)) = row {
                    found = Some(id);
                    break;
                }
            }
            found.or(unit.hr_bureau_id)
        }
        Role::ProvinceAdmin => {
            let row: Option<(i64,)> =
                db.opt(q("SELECT id FROM orgs WHERE tenant_id = $1 AND kind = 'province' ORDER BY id LIMIT 1").bind(tenant)).await?;
            row.map(|r| r.0)
        }
        Role::InstitutionAdmin => return Err(unresolved("活动学时申报不经过施教机构审核")),
    };
    let Some(id) = id else { return Err(unresolved("找不到审核部门，请联系管理员")) };
    route_org(db, tenant, id).await?.ok_or_else(|| unresolved("找不到审核部门，请联系管理员"))
}

/// Withdraws a round that nobody has decided yet: its first step (still pending) and the waiting ones
/// after it. Returns false, changing nothing, once the first step is decided; the row lock makes a
/// concurrent decision and the withdrawal exclude each other.
pub async fn withdraw_undecided_tx(
    tx: &mut Tx,
    tenant: &str,
    subject_type: &str,
    subject_id: i64,
    round: i64,
    actor: i64,
) -> Result<bool, sqlx::Error> {
    let first = tx
        .run(
            q("UPDATE approvals SET status = 'withdrawn', decided_by = $5, decided_at = $6 WHERE tenant_id = $1 AND subject_type = $2 \
               AND subject_id = $3 AND round = $4 AND step_no = 1 AND status = 'pending'")
            .bind(tenant)
            .bind(subject_type)
            .bind(subject_id)
            .bind(round)
            .bind(actor)
            .bind(Utc::now()),
        )
        .await?;
    if first != 1 {
        return Ok(false);
    }
    close_open_steps_tx(tx, tenant, subject_type, subject_id, round, &[StepStatus::Waiting], StepStatus::Withdrawn).await?;
    Ok(true)
}

/// A route step as the pages of the request show it.
#[derive(Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StepView {
    pub approval_id: i64,
    pub step_no: i64,
    pub step_role: Option<String>,
    pub org_name: String,
    pub status: StepStatus,
    pub reason: Option<String>,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// The steps of one round of a subject's route, in order.
pub async fn steps(db: &Db, tenant: &str, subject_type: &str, subject_id: i64, round: i64) -> Result<Vec<StepView>, sqlx::Error> {
    db.all(
        q("SELECT p.id AS approval_id, p.step_no, p.step_role, o.name AS org_name, p.status, p.reason, x.name AS decided_by_name, p.decided_at \
           FROM approvals p JOIN orgs o ON o.tenant_id = p.tenant_id AND o.id = p.approver_org_id \
           LEFT JOIN accounts x ON x.tenant_id = p.tenant_id AND x.id = p.decided_by \
           WHERE p.tenant_id = $1 AND p.subject_type = $2 AND p.subject_id = $3 AND p.round = $4 ORDER BY p.step_no")
        .bind(tenant)
        .bind(subject_type)
        .bind(subject_id)
        .bind(round),
    )
    .await
}

/// Where an organisation stands on a subject's route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seat {
    /// Its step that is still pending (it may act on the subject now), if any.
    pub pending: Option<i64>,
}

/// The organisation's seat on the subject's route, if a step of it is the organisation's and has been
/// opened: a reviewer may see what they decide and what they decided, never what has not reached them.
pub async fn seat(db: &Db, tenant: &str, subject_type: &str, subject_id: i64, org: i64) -> Result<Option<Seat>, sqlx::Error> {
    let steps: Vec<(i64, StepStatus)> = db
        .all(
            q("SELECT id, status FROM approvals WHERE tenant_id = $1 AND subject_type = $2 AND subject_id = $3 AND approver_org_id = $4 \
               AND status <> 'waiting' ORDER BY id")
            .bind(tenant)
            .bind(subject_type)
            .bind(subject_id)
            .bind(org),
        )
        .await?;
    if steps.is_empty() {
        return Ok(None);
    }
    Ok(Some(Seat { pending: steps.iter().find(|(_, status)| *status == StepStatus::Pending).map(|(id, _)| *id) }))
}

/// Whether the organisation has a seat on the subject's route (see [`seat`]).
pub async fn on_route(db: &Db, tenant: &str, subject_type: &str, subject_id: i64, org: i64) -> Result<bool, sqlx::Error> {
    Ok(seat(db, tenant, subject_type, subject_id, org).await?.is_some())
}

/// Holds a pending step for the caller's transaction (a row lock): a decision of the step waits for
/// the caller to commit, and `false` says it has been decided already. Work a reviewer does on the
/// subject while their step is pending (marking students) takes it, so it cannot land after the
/// decision.
pub async fn hold_pending_tx(tx: &mut Tx, tenant: &str, approval_id: i64) -> Result<bool, sqlx::Error> {
    let held = tx
        .run(
            q("UPDATE approvals SET status = 'pending' WHERE tenant_id = $1 AND id = $2 AND status = 'pending'")
                .bind(tenant)
                .bind(approval_id),
        )
        .await?;
    Ok(held == 1)
}
