//! Staff transfers (人员调转, seed 004 §5.1.6): 调出 — an admin of the person's unit (or of a department
//! above it) moves the person to another unit of the province, with a reason and a date; 调入审核 — the
//! receiving side confirms or refuses it in its approval queue (kind `transfer`; the tenant's rules plugin
//! names the route, resolved against the receiving unit); 调转记录 — both sides list transfers in and
//! out.
//!
//! On confirmation the person belongs to the new unit: the ledger, certificates, claims and yearly
//! statuses are the person's and go with them (claims still on a route keep it; drafts and returned
//! claims move), the old unit no longer sees the person, and approved transfers are the person's dated
//! membership history (`from_unit_id` until `effective_on`, `to_unit_id` from then on).

pub mod api;
pub mod pages;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::approvals::{self, Approval, Decided, NewApproval, Notice, RequestKind, RouteOrg, Trail};
use crate::auth::CurrentUser;
use crate::db::{Filters, Tx, q};
use crate::error::{AppError, FieldErrors, ResultExt};
use crate::orgs::{OrgKind, OrgStatus};
use crate::paging::{Paging, Search};
use crate::rules::model::RequestKind as RouteKind;
use crate::state::AppState;

/// The casbin object of transfers: `start` (调出) and `review` (调入审核).
pub(crate) const OBJECT: &str = "transfers";
crate::codes::code_enum! {
    /// Where a transfer stands.
    pub enum TransferStatus {
        Pending = ("pending", "待审核"),
        Approved = ("approved", "已调入"),
        Rejected = ("rejected", "未通过"),
        Withdrawn = ("withdrawn", "已撤回"),
    }
}

/// A transfer to start (`POST /api/v1/transfers`).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewTransfer {
    /// A person of a unit in the caller's scope
    pub person_id: i64,
    /// An active unit of the same province, other than the person's own
    pub to_unit_id: i64,
    /// 调转原因 (at most 500 characters)
    pub reason: String,
    /// 调转日期, YYYY-MM-DD (today in China when not given)
    #[serde(default)]
    pub effective_on: Option<String>,
}

/// A transfer as lists, details and the approver see it (the ID number masked).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Transfer {
    pub id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub id_number: String,
    pub from_unit_id: i64,
    pub from_unit_name: String,
    pub to_unit_id: i64,
    pub to_unit_name: String,
    pub reason: String,
    pub effective_on: NaiveDate,
    /// pending, approved, rejected or withdrawn
    pub status: TransferStatus,
    #[sqlx(default)]
    pub status_label: String,
    pub created_by_name: String,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

const SELECT: &str = "SELECT t.id, t.person_id, p.name AS person_name, p.id_number, t.from_unit_id, fu.name AS from_unit_name, \
     t.to_unit_id, tu.name AS to_unit_name, t.reason, t.effective_on, t.status, a.name AS created_by_name, t.created_at, t.decided_at";
const FROM: &str = "FROM transfers t JOIN people p ON p.tenant_id = t.tenant_id AND p.id = t.person_id \
     JOIN orgs fu ON fu.tenant_id = t.tenant_id AND fu.id = t.from_unit_id \
     JOIN orgs tu ON tu.tenant_id = t.tenant_id AND tu.id = t.to_unit_id \
     JOIN accounts a ON a.tenant_id = t.tenant_id AND a.id = t.created_by";
/// Either side of the transfer lies in the caller's scope (one `LIKE` pattern, bound once).
const EITHER_SIDE: &str = "(fu.path LIKE ? OR fu.supervisor_path LIKE ? OR tu.path LIKE ? OR tu.supervisor_path LIKE ?)";
const SENDING_SIDE: &str = "(fu.path LIKE ? OR fu.supervisor_path LIKE ?)";
const RECEIVING_SIDE: &str = "(tu.path LIKE ? OR tu.supervisor_path LIKE ?)";

impl Transfer {
    fn finish(mut self) -> Self {
        self.id_number = crate::ids::mask_id_number(&self.id_number);
        self.status_label = self.status.label().to_owned();
        self
    }
}

/// The scope of an admin who may start or review transfers; 403 for everyone else.
async fn transfer_scope(state: &AppState, user: &CurrentUser) -> Result<String, AppError> {
    if !(user.can(state, OBJECT, "start").await || user.can(state, OBJECT, "review").await) {
        return Err(AppError::forbidden());
    }
    user.scope_pattern().ok_or_else(AppError::forbidden)
}

/// Today's date in China, the default transfer date.
pub(crate) fn today() -> NaiveDate {
    crate::china_time::day(Utc::now())
}

/// Starts a transfer of a person in the caller's scope to another unit and opens the receiving side's
/// route; a route the plugin leaves empty applies it at once. Returns the transfer's id and status.
pub async fn start(state: &AppState, user: &CurrentUser, input: &NewTransfer) -> Result<(i64, &'static str), AppError> {
    user.authorize(state, OBJECT, "start").await?;
    let tenant = user.tenant_code();
    let scope = user.scope_pattern().ok_or_else(AppError::forbidden)?;
    // Someone outside the caller's scope is indistinguishable from nobody.
    let person = crate::people::profile_in_scope(&state.db, tenant, &scope, input.person_id).await?.ok_or_else(AppError::not_found)?;
    let (from_unit_id, from_unit_name, name) = (person.unit_id, person.unit_name, person.name);
    let mut errors = FieldErrors::default();
    let reason = input.reason.trim();
    if reason.is_empty() {
        errors.add("reason", "请填写调转原因");
    } else if reason.chars().count() > 500 {
        errors.add("reason", "调转原因不能超过 500 字");
    }
    let today = today();
    let effective_on = match input.effective_on.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => Some(today),
        Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .filter(|d| *d >= NaiveDate::from_ymd_opt(1990, 1, 1).expect("valid") && *d <= today + chrono::Days::new(366)),
    };
    if effective_on.is_none() {
        errors.add("effective_on", "请填写有效的调转日期（年-月-日，不晚于一年以后）");
    }
    let to =
        crate::orgs::get(&state.db, tenant, input.to_unit_id).await?.filter(|o| o.kind == OrgKind::Unit && o.status == OrgStatus::Active);
    match &to {
        None => errors.add("to_unit_id", "找不到调入单位：须为本省已审核通过的用人单位"),
        Some(to) if to.id == from_unit_id => errors.add("to_unit_id", "调入单位与人员当前所在单位相同"),
        Some(_) => {}
    }
    errors.finish()?;
    let (to, effective_on) = (to.expect("checked above"), effective_on.expect("checked above"));
    let year = u16::try_from(chrono::Datelike::year(&today)).unwrap_or(2026);
    let steps = approvals::route_for(state, tenant, &RouteOrg::from(&to), year, RouteKind::StaffTransfer, None, None).await?;
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    let id = tx
        .scalar(
            q("INSERT INTO transfers (tenant_id, person_id, from_unit_id, to_unit_id, reason, effective_on, status, created_by, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8) RETURNING id")
            .bind(tenant)
            .bind(input.person_id)
            .bind(from_unit_id)
            .bind(to.id)
            .bind(reason)
            .bind(effective_on)
            .bind(user.account.id)
            .bind(now),
        )
        .await
        .on_duplicate(|| AppError::conflict("transfer_pending", format!("{name} 已有待审核的调转申请，请等待处理或撤回后再提交")))?;
    crate::audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "transfer.started",
        "transfer",
        Some(id),
        json!({"person_id": input.person_id, "from_unit_id": from_unit_id, "to_unit_id": to.id, "route": approvals::route_json(&steps)}),
    )
    .await?;
    let status = if steps.is_empty() {
        apply_tx(&mut tx, tenant, id, Some(user.account.id)).await?;
        "approved"
    } else {
        let template = NewApproval {
            subject_type: "transfer",
            subject_id: id,
            summary: format!("{name} 由 {from_unit_name} 调入 {}", to.name),
            applicant_account_id: Some(user.account.id),
            declaring_org_id: Some(from_unit_id),
            ..NewApproval::default()
        };
        approvals::open_route_tx::<Transfers>(&mut tx, &state.config, tenant, &steps, template).await?;
        "pending"
    };
    tx.commit().await?;
    Ok((id, status))
}

/// Moves the person of a pending transfer to the receiving unit (the transfer becomes approved); 409 when
/// it was decided or withdrawn meanwhile.
async fn apply_tx(tx: &mut Tx, tenant: &str, id: i64, actor: Option<i64>) -> Result<(), AppError> {
    let now = Utc::now();
    let row: Option<(i64, i64, i64, String)> = tx
        .opt(
            q("SELECT t.person_id, t.from_unit_id, t.to_unit_id, o.name FROM transfers t JOIN orgs o ON o.tenant_id = t.tenant_id AND o.id = t.to_unit_id \
               WHERE t.tenant_id = $1 AND t.id = $2 AND t.status = 'pending'")
            .bind(tenant)
            .bind(id),
        )
        .await?;
    let Some((person_id, from_unit_id, to_unit_id, to_name)) = row else {
        return Err(AppError::conflict("already_decided", "该调转申请已被处理"));
    };
    set_status_tx(tx, tenant, id, "approved").await?;
    let moved = tx
        .run(
            q("UPDATE people SET unit_id = $4, department_id = NULL, updated_at = $5 WHERE tenant_id = $1 AND id = $2 AND unit_id = $3")
                .bind(tenant)
                .bind(person_id)
                .bind(from_unit_id)
                .bind(to_unit_id)
                .bind(now),
        )
        .await?;
    if moved != 1 {
        return Err(AppError::conflict("person_moved", "该人员已不在调出单位，调转未执行"));
    }
    tx.run(
        q("UPDATE accounts SET org_id = $3 WHERE tenant_id = $1 AND person_id = $2 AND user_type = 'staff'")
            .bind(tenant)
            .bind(person_id)
            .bind(to_unit_id),
    )
    .await?;
    // Claims not on a route go with the person; those on a route keep it (their approvers stay).
    tx.run(
        q("UPDATE claims SET unit_id = $3, updated_at = $4 WHERE tenant_id = $1 AND person_id = $2 AND status IN ('draft', 'returned')")
            .bind(tenant)
            .bind(person_id)
            .bind(to_unit_id)
            .bind(now),
    )
    .await?;
    crate::audit::record_tx(
        tx,
        tenant,
        actor,
        "transfer.applied",
        "person",
        Some(person_id),
        json!({"transfer_id": id, "from_unit_id": from_unit_id, "to_unit_id": to_unit_id}),
    )
    .await?;
    let account: Option<(i64,)> = tx
        .opt(q("SELECT id FROM accounts WHERE tenant_id = $1 AND person_id = $2 AND user_type = 'staff'").bind(tenant).bind(person_id))
        .await?;
    if let Some((account,)) = account {
        crate::messages::send_tx(
            tx,
            tenant,
            account,
            "人员调转已完成",
            &format!("你已调入 {to_name}，学时、证书和申报记录随你转入新单位。"),
        )
        .await?;
    }
    Ok(())
}

/// Sets a pending transfer's outcome; 409 when it is no longer pending.
async fn set_status_tx(tx: &mut Tx, tenant: &str, id: i64, status: &str) -> Result<(), AppError> {
    approvals::settle_subject_tx(tx, "transfers", tenant, id, status).await
}

crate::paging::list_query! {
    /// `GET /api/v1/transfers`: transfers out of and into the caller's scope.
    #[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct TransferQuery {
        /// `out` (调出: from a unit in scope), `in` (调入: to a unit in scope); both when not given
        #[param(pattern = "^(out|in)?$")]
        pub direction: Option<String>,
        /// pending, approved, rejected or withdrawn
        #[param(pattern = "^\\s*(pending|approved|rejected|withdrawn)?\\s*$")]
        pub status: Option<String>,
        /// Part of the person's name or ID number
        pub q: Option<String>,
    }
}

/// One page of the transfers either side of which lies in the caller's scope, newest first.
pub async fn list(state: &AppState, user: &CurrentUser, query: &TransferQuery) -> Result<(Vec<Transfer>, i64), AppError> {
    let scope = transfer_scope(state, user).await?;
    let mut f = Filters::tenant("t.tenant_id", user.tenant_code());
    let side = match query.direction.as_deref().unwrap_or("") {
        "" => EITHER_SIDE,
        "out" => SENDING_SIDE,
        "in" => RECEIVING_SIDE,
        _ => return Err(crate::error::field_error("direction", "方向须为 out（调出）或 in（调入）")),
    };
    f.and_same(side, scope);
    if let Some(status) = crate::codes::filter::<TransferStatus>(query.status.as_deref(), "status", "状态")? {
        f.and("t.status = ?", status);
    }
    if let Some(text) = query.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        f.contains(&["p.name", "p.id_number"], text);
    }
    let paging: Paging = query.paging();
    let total = state.db.scalar(f.count(FROM)).await?;
    let rows: Vec<Transfer> =
        state.db.all(f.page(&format!("{SELECT} {FROM}"), "t.created_at DESC, t.id DESC", paging.page, paging.per_page)).await?;
    Ok((rows.into_iter().map(Transfer::finish).collect(), total))
}

/// One transfer, without a scope check.
async fn load(state: &AppState, tenant: &str, id: i64) -> Result<Option<Transfer>, AppError> {
    let row: Option<Transfer> =
        state.db.opt(q(format!("{SELECT} {FROM} WHERE t.tenant_id = $1 AND t.id = $2")).bind(tenant).bind(id)).await?;
    Ok(row.map(Transfer::finish))
}

/// Whether the caller's scope holds the sending side, the receiving side (both may).
pub struct Sides {
    pub sending: bool,
    pub receiving: bool,
}

/// A transfer either side of which lies in the caller's scope (else 404), with which sides those are.
pub async fn get(state: &AppState, user: &CurrentUser, id: i64) -> Result<(Transfer, Sides), AppError> {
    let scope = transfer_scope(state, user).await?;
    let tenant = user.tenant_code();
    let prefix = scope.trim_end_matches('%');
    let within =
        |org: &crate::orgs::Org| org.path.starts_with(prefix) || org.supervisor_path.as_deref().is_some_and(|p| p.starts_with(prefix));
    let transfer = load(state, tenant, id).await?.ok_or_else(AppError::not_found)?;
    let from = crate::orgs::get(&state.db, tenant, transfer.from_unit_id).await?.ok_or_else(AppError::not_found)?;
    let to = crate::orgs::get(&state.db, tenant, transfer.to_unit_id).await?.ok_or_else(AppError::not_found)?;
    let sides = Sides { sending: within(&from), receiving: within(&to) };
    if !(sides.sending || sides.receiving) {
        return Err(AppError::not_found());
    }
    Ok((transfer, sides))
}

/// A transfer with its route, trail and person, as its page, the approver and the API show it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TransferDetail {
    pub transfer: Transfer,
    /// The latest round's steps in order
    pub steps: Vec<approvals::StepView>,
    /// The audit trail, oldest first
    pub trail: Vec<approvals::TrailEntry>,
    /// The person transferred (ID number masked)
    pub person: Option<crate::people::Profile>,
}

/// The transfer with its route and trail, as its page and the approver show it.
pub async fn detail(state: &AppState, tenant: &str, transfer: Transfer) -> Result<TransferDetail, AppError> {
    let round = state.db.scalar(approvals::latest_round(tenant, "transfer", transfer.id)).await?.max(1);
    let steps = approvals::steps(&state.db, tenant, "transfer", transfer.id, round).await?;
    let trail = approvals::subject_trail(
        &state.db,
        tenant,
        "transfer",
        transfer.id,
        &[("transfer.started", "发起调出"), ("transfer.withdrawn", "撤回调转")],
        Transfers::TRAIL,
    )
    .await?;
    let person = crate::people::masked_profile(&state.db, tenant, transfer.person_id).await?;
    Ok(TransferDetail { transfer, steps, trail, person })
}

/// Withdraws a pending transfer nobody has decided yet (the sending side only); 409 once a step decided.
pub async fn withdraw(state: &AppState, user: &CurrentUser, id: i64) -> Result<(), AppError> {
    user.authorize(state, OBJECT, "start").await?;
    let (transfer, sides) = get(state, user, id).await?;
    if !sides.sending {
        return Err(AppError::forbidden());
    }
    if transfer.status != TransferStatus::Pending {
        return Err(AppError::conflict("already_decided", "该调转申请已被处理，不能撤回"));
    }
    let tenant = user.tenant_code();
    let mut tx = state.db.begin().await?;
    let round = tx.scalar(approvals::latest_round(tenant, "transfer", id)).await?.max(1);
    if !approvals::withdraw_undecided_tx(&mut tx, tenant, "transfer", id, round, user.account.id).await? {
        return Err(AppError::conflict("already_decided", "接收方已开始审核，不能撤回"));
    }
    set_status_tx(&mut tx, tenant, id, "withdrawn").await?;
    crate::audit::record_tx(&mut tx, tenant, Some(user.account.id), "transfer.withdrawn", "transfer", Some(id), json!({})).await?;
    tx.commit().await?;
    Ok(())
}

/// Transfers in the approval queue: the receiving side's steps decide 调入审核.
#[derive(Default)]
pub struct Transfers;

impl RequestKind for Transfers {
    const CODE: &'static str = "transfer";
    const LABEL: &'static str = "调入审核";
    const NOUN: &'static str = "调入申请";
    const OBJECT: &'static str = OBJECT;
    const DETAIL_TEMPLATE: &'static str = "approval_transfer.html";
    const TRAIL: Option<Trail> = Some(Trail {
        forwarded: "transfer.forwarded",
        approved: ("transfer.approved", "同意调入"),
        rejected: "transfer.rejected",
        returned: None,
    });

    async fn approved(&self, tx: &mut Tx, d: &Decided<'_>) -> Result<Notice, AppError> {
        apply_tx(tx, d.tenant, d.item.subject_id, Some(d.actor)).await?;
        Ok(Notice {
            title: "调转已确认".into(), body: format!("{}：接收方已同意调入，人员已转入新单位。", d.item.summary), mail: true
        })
    }

    async fn rejected(&self, tx: &mut Tx, d: &Decided<'_>) -> Result<Notice, AppError> {
        set_status_tx(tx, d.tenant, d.item.subject_id, "rejected").await?;
        Ok(Notice {
            title: "调转未通过".into(),
            body: format!("{}：接收方不同意调入。原因：{}", d.item.summary, d.reason_text()),
            mail: true,
        })
    }

    type Detail = TransferDetail;

    async fn detail(&self, state: &AppState, tenant: &str, item: &Approval) -> Result<TransferDetail, AppError> {
        let transfer = load(state, tenant, item.subject_id).await?.ok_or_else(AppError::not_found)?;
        detail(state, tenant, transfer).await
    }
}

/// The active unit of the tenant named by its full name or its unified social credit code, for forms
/// where the admin types the receiving unit (422 on `to_unit_id` when none or several match).
pub async fn find_unit(state: &AppState, tenant: &str, text: &str) -> Result<i64, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(crate::error::field_error("to_unit_id", "请填写调入单位的全称或统一社会信用代码"));
    }
    let ids: Vec<(i64,)> = state
        .db
        .all(
            q("SELECT id FROM orgs WHERE tenant_id = $1 AND kind = 'unit' AND status = 'active' AND (name = $2 OR credit_code = $2) ORDER BY id LIMIT 2")
                .bind(tenant)
                .bind(text.to_owned()),
        )
        .await?;
    match ids.as_slice() {
        [(id,)] => Ok(*id),
        [] => Err(crate::error::field_error("to_unit_id", "找不到该单位：请填写本省已审核通过的用人单位全称或统一社会信用代码")),
        _ => Err(crate::error::field_error("to_unit_id", "有多个同名单位，请填写统一社会信用代码")),
    }
}

/// The person a transfer form is for (name, unit, masked ID), if in the caller's scope.
pub async fn form_person(state: &AppState, user: &CurrentUser, person_id: i64) -> Result<Value, AppError> {
    user.authorize(state, OBJECT, "start").await?;
    let scope = user.scope_pattern().ok_or_else(AppError::forbidden)?;
    let mut person =
        crate::people::profile_in_scope(&state.db, user.tenant_code(), &scope, person_id).await?.ok_or_else(AppError::not_found)?;
    person.id_number = crate::ids::mask_id_number(&person.id_number);
    serde_json::to_value(person).map_err(AppError::internal)
}
