//! Exemptions (免训证明, seed 001 §11): a unit admin files a person's exemption from a year's training
//! with the reason; the superior (the unit's supervising authority, else its HR bureau) approves it in
//! the approvals engine (kind `exemption`); the approval issues an exemption proof (a certificate of kind
//! [`super::EXEMPTION`]) that the person downloads from their certificates.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::approvals::{self, Approval, Decided, NewApproval, Notice, RequestKind, RouteOrg};
use crate::auth::CurrentUser;
use crate::db::{Filters, Tx, q};
use crate::error::{AppError, FieldErrors, ResultExt};
use crate::paging::Paging;
use crate::rules::model::{OrgLevel, Role, Step};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Filing {
    /// The person's full ID number (a person of the caller's unit)
    pub id_number: String,
    pub year: i64,
    /// Why the person is exempt (e.g. 长期病假、援外、脱产学习)
    pub reason: String,
}

crate::codes::code_enum! {
    /// Where an exemption filing stands.
    pub enum ExemptionStatus {
        Pending = ("pending", "审核中"),
        Approved = ("approved", "已通过"),
        Rejected = ("rejected", "未通过"),
    }
}

#[derive(Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Exemption {
    pub id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub year: i64,
    pub reason: String,
    pub status: ExemptionStatus,
    pub certificate_number: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

const SELECT: &str = "SELECT e.id, e.person_id, p.name AS person_name, e.year, e.reason, e.status, c.number AS certificate_number, \
     e.created_at, e.decided_at FROM exemptions e JOIN people p ON p.tenant_id = e.tenant_id AND p.id = e.person_id \
     JOIN orgs u ON u.tenant_id = e.tenant_id AND u.id = e.unit_id \
     LEFT JOIN certificates c ON c.tenant_id = e.tenant_id AND c.id = e.certificate_id";

/// An exemption as the API and pages show it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExemptionView {
    #[serde(flatten)]
    pub exemption: Exemption,
    pub status_label: &'static str,
}

impl Exemption {
    pub fn into_view(self) -> ExemptionView {
        ExemptionView { status_label: self.status.label(), exemption: self }
    }
}

fn offered(user: &CurrentUser) -> Result<(), AppError> {
    if user.tenant.tenant.settings.certificates.exemption_proof { Ok(()) } else { Err(AppError::not_found()) }
}

/// Files an exemption for a person of the caller's unit and routes it to the superior. One open or
/// approved exemption per person and year (409 `already_filed`).
pub async fn file(state: &AppState, user: &CurrentUser, input: &Filing) -> Result<i64, AppError> {
    offered(user)?;
    user.authorize(state, "exemptions", "file").await?;
    let tenant = user.tenant_code();
    let scope = user.scope_pattern().ok_or_else(AppError::forbidden)?;
    let mut errors = FieldErrors::default();
    let reason = input.reason.trim();
    if reason.is_empty() {
        errors.add("reason", "请填写免训事由");
    } else if reason.chars().count() > 500 {
        errors.add("reason", "免训事由不能超过 500 字");
    }
    if crate::hours::check_year(input.year).is_err() {
        errors.add("year", "请选择有效的年度");
    }
    let person: Option<(i64, i64, String)> = match crate::ids::check_id_number(input.id_number.trim()) {
        Ok(id_number) => {
            state
                .db
                .opt(
                    q(format!(
                        "SELECT p.id, p.unit_id, p.name FROM people p JOIN orgs u ON u.tenant_id = p.tenant_id AND u.id = p.unit_id \
                         WHERE p.tenant_id = $1 AND p.id_number = $2 AND {}",
                        crate::orgs::in_scope("u", 3)
                    ))
                    .bind(tenant)
                    .bind(id_number)
                    .bind(scope),
                )
                .await?
        }
        Err(_) => None,
    };
    if person.is_none() {
        errors.add("id_number", "本单位没有这个身份证号的人员");
    }
    errors.finish()?;
    let (person_id, unit_id, name) = person.expect("checked above");
    let unit = crate::orgs::get(&state.db, tenant, unit_id).await?.ok_or_else(AppError::not_found)?;
    // Seed 001 §11: the superior approves — the supervising authority, else the unit's HR bureau.
    let step = Step { role: Role::AuthorityAdmin, level: OrgLevel::City };
    let approver = approvals::resolve_step(&state.db, tenant, &RouteOrg::from(&unit), &step).await?;
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    let id = tx
        .scalar(
            q("INSERT INTO exemptions (tenant_id, person_id, unit_id, year, reason, status, filed_by, created_at) \
               VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7) RETURNING id")
            .bind(tenant)
            .bind(person_id)
            .bind(unit_id)
            .bind(input.year)
            .bind(reason)
            .bind(user.account.id)
            .bind(now),
        )
        .await
        .on_duplicate(|| AppError::conflict("already_filed", format!("{name} 的 {} 年度免训申请已提交过", input.year)))?;
    approvals::open_tx::<Exemptions>(
        &mut tx,
        tenant,
        NewApproval {
            subject_type: "exemption",
            subject_id: id,
            summary: format!("{name} {} 年度免训申请", input.year),
            applicant_account_id: Some(user.account.id),
            approver_org_id: approver.id,
            step_role: Some("authority_admin"),
            declaring_org_id: Some(unit_id),
            ..NewApproval::default()
        },
    )
    .await?;
    approvals::schedule_digest_tx(&mut tx, &state.config, tenant, approver.id).await?;
    crate::audit::record_tx(
        &mut tx,
        tenant,
        Some(user.account.id),
        "exemption.filed",
        "person",
        Some(person_id),
        json!({"year": input.year}),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The exemptions filed for people in the caller's scope (unit admins: their unit).
pub async fn list(state: &AppState, user: &CurrentUser, paging: Paging) -> Result<(Vec<Exemption>, i64), AppError> {
    offered(user)?;
    user.authorize(state, "exemptions", "file").await?;
    let scope = user.scope_pattern().ok_or_else(AppError::forbidden)?;
    let mut f = Filters::tenant("e.tenant_id", user.tenant_code());
    f.and_same("(u.path LIKE ? OR u.supervisor_path LIKE ?)", scope);
    let from = "FROM exemptions e JOIN orgs u ON u.tenant_id = e.tenant_id AND u.id = e.unit_id";
    let total = state.db.scalar(f.count(from)).await?;
    let rows = state.db.all(f.page(SELECT, "e.created_at DESC, e.id DESC", paging.page, paging.per_page)).await?;
    Ok((rows, total))
}

/// What the approver sees of an exemption: it and the person's profile.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExemptionSubject {
    #[serde(flatten)]
    pub exemption: ExemptionView,
    /// The exempt person's profile (ID number masked); null when the person is gone
    pub person: Option<crate::people::Profile>,
}

/// What the approver sees of an exemption.
pub async fn subject(state: &AppState, tenant: &str, id: i64) -> Result<ExemptionSubject, AppError> {
    let row: Exemption = state
        .db
        .opt(q(format!("{SELECT} WHERE e.tenant_id = $1 AND e.id = $2")).bind(tenant).bind(id))
        .await?
        .ok_or_else(AppError::not_found)?;
    let person = crate::people::masked_profile(&state.db, tenant, row.person_id).await?;
    Ok(ExemptionSubject { exemption: row.into_view(), person })
}

/// Exemptions in the approval queue (one step: the superior): an approval gets the proof issued by a
/// job.
#[derive(Default)]
pub struct Exemptions;

/// Sets the exemption's outcome, unless it was decided meanwhile (then 409).
async fn set_decided(tx: &mut Tx, d: &Decided<'_>, status: ExemptionStatus) -> Result<(), AppError> {
    approvals::settle_subject_tx(tx, "exemptions", d.tenant, d.item.subject_id, status.as_str()).await
}

impl RequestKind for Exemptions {
    const CODE: &'static str = "exemption";
    const LABEL: &'static str = "免训审核";
    const NOUN: &'static str = "免训申请";
    const OBJECT: &'static str = "exemptions";
    const DETAIL_TEMPLATE: &'static str = "approval_exemption.html";

    fn offered(tenant: &crate::tenancy::TenantSettings) -> bool {
        tenant.certificates.exemption_proof
    }

    async fn approved(&self, tx: &mut Tx, d: &Decided<'_>) -> Result<Notice, AppError> {
        set_decided(tx, d, ExemptionStatus::Approved).await?;
        crate::jobs::enqueue_tx(tx, d.tenant, &IssueProof { exemption_id: d.item.subject_id }).await?;
        Ok(Notice {
            title: "免训申请已通过".into(),
            body: format!("{}已审核通过，免训证明可在“我的证书”中下载。", d.item.summary),
            mail: true,
        })
    }

    async fn rejected(&self, tx: &mut Tx, d: &Decided<'_>) -> Result<Notice, AppError> {
        set_decided(tx, d, ExemptionStatus::Rejected).await?;
        Ok(Notice {
            title: "免训申请未通过".into(), body: format!("{}未通过审核。原因：{}", d.item.summary, d.reason_text()), mail: true
        })
    }

    type Detail = ExemptionSubject;

    async fn detail(&self, state: &AppState, tenant: &str, item: &Approval) -> Result<ExemptionSubject, AppError> {
        subject(state, tenant, item.subject_id).await
    }
}

/// The job that issues the proof of an approved exemption (it needs the signing key and the tenant's
/// settings, which the deciding transaction does not have).
#[derive(Debug, Serialize, Deserialize)]
pub struct IssueProof {
    exemption_id: i64,
}

impl crate::jobs::JobKind for IssueProof {
    const KIND: &'static str = "exemptions.issue";
    const LABEL: &'static str = "免训证明开具";

    async fn run(self, state: &AppState, job: &crate::jobs::Job) -> anyhow::Result<()> {
        issue_proof(state, job, self).await
    }
}

/// Issues the proof of an approved exemption (once: the exemption remembers its certificate).
async fn issue_proof(state: &AppState, job: &crate::jobs::Job, payload: IssueProof) -> anyhow::Result<()> {
    let tenant = job.tenant_id.as_str();
    let row: Option<(i64, i64, String, Option<i64>, ExemptionStatus)> = state
        .db
        .opt(
            q("SELECT person_id, year, reason, certificate_id, status FROM exemptions WHERE tenant_id = $1 AND id = $2")
                .bind(tenant)
                .bind(payload.exemption_id),
        )
        .await?;
    let Some((person_id, year, reason, certificate, status)) = row else { anyhow::bail!("no exemption {}", payload.exemption_id) };
    if certificate.is_some() || status != ExemptionStatus::Approved {
        return Ok(());
    }
    let t = state.tenants.get(tenant).ok_or_else(|| anyhow::anyhow!("unknown tenant {tenant}"))?;
    let new = super::NewCertificate {
        person_id,
        kind: super::EXEMPTION,
        year,
        public_hours: 0,
        professional_hours: 0,
        plugin_sha256: String::new(),
        issued_by: None,
        detail: Some(json!({"reason": reason, "exemption_id": payload.exemption_id})),
        supersede: true,
    };
    let certificate = super::issue(state, &t.settings, &super::default_origin(state, &t.settings), new)
        .await?
        .ok_or_else(|| anyhow::anyhow!("a simultaneous exemption proof was issued"))?;
    state
        .db
        .run(
            q("UPDATE exemptions SET certificate_id = $3 WHERE tenant_id = $1 AND id = $2 AND certificate_id IS NULL")
                .bind(tenant)
                .bind(payload.exemption_id)
                .bind(certificate.id),
        )
        .await?;
    Ok(())
}
