//! Organisation registration: a unit, training institution or industry authority registers itself with
//! its first admin and a scanned licence; an HR bureau's admin registers for an existing bureau. Both
//! wait for the approver the province's rule names. Registrations of staff (`people`) and of
//! organisations and their admins are decided as one request kind, [`Registrations`].

use axum::extract::Multipart;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{NewOrg, Org, bureau_of_region, get};
use super::{OrgKind, OrgStatus};
use crate::approvals::{self, Approval, Decided, NewApproval, Notice, RequestKind, Reviewers};
use crate::auth::{self, AccountStatus, NewAccount, password};
use crate::db::{Tx, q};
use crate::error::{AppError, FieldErrors, ResultExt, field_error};
use crate::fields::{check_email, check_name, check_phone, required};
use crate::ids;
use crate::state::AppState;
use crate::storage::upload::Upload;
use crate::tenancy::TenantCtx;

/// The outcome of a registration.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Registered {
    pub account_id: i64,
    /// `active`, or `pending` while the registration waits for approval
    pub status: AccountStatus,
    /// The organisation that approves the registration, if one must
    pub approver: Option<String>,
    /// A rejected registration corrected and submitted again (same ID number and password).
    pub resubmitted: bool,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct OrgRegistration {
    /// unit, institution, authority (a new organisation) or hr (an admin for an existing HR bureau)
    pub kind: String,
    pub name: String,
    pub credit_code: String,
    /// Region code from the tenant's basic data (city or county)
    pub region_code: String,
    /// For hr: the existing bureau
    pub org_id: Option<i64>,
    /// For units and institutions: the supervising industry authority (optional)
    pub supervisor_id: Option<i64>,
    pub nature: Option<String>,
    pub affiliation: Option<String>,
    pub industry: Option<String>,
    pub contact_phone: String,
    pub address: String,
    pub admin_id_number: String,
    pub admin_name: String,
    pub admin_password: String,
    pub admin_phone: String,
    pub admin_email: String,
}

/// Reads the registration form (multipart: fields plus the `licence` file) and the CSRF field if any.
pub async fn read_multipart(multipart: Multipart) -> Result<(OrgRegistration, Option<Upload>, Option<String>), AppError> {
    let mut form = crate::storage::upload::read_multipart_form(multipart, "licence").await?;
    // The organisation pickers send ids; an empty choice is none.
    for key in ["org_id", "supervisor_id"] {
        match form.fields.remove(key).and_then(|v| v.as_str().and_then(|t| t.trim().parse::<i64>().ok())) {
            Some(id) => form.fields.insert(key.to_owned(), json!(id)),
            None => None,
        };
    }
    let input: OrgRegistration =
        serde_json::from_value(serde_json::Value::Object(form.fields)).map_err(|e| AppError::bad_request("bad_form", e.to_string()))?;
    Ok((input, form.file, form.csrf))
}

fn user_type_of(kind: &str) -> Option<&'static str> {
    match kind {
        "unit" => Some("unit"),
        "institution" => Some("institution"),
        "authority" => Some("authority"),
        "hr" => Some("hr"),
        _ => None,
    }
}

/// Validates, then writes org (if new), admin account, licence and approval request in one transaction.
pub async fn register_org(
    state: &AppState,
    tenant: &TenantCtx,
    input: &OrgRegistration,
    licence: Option<Upload>,
) -> Result<Registered, AppError> {
    let code = tenant.code();
    let db = &state.db;
    let mut errors = FieldErrors::default();
    let Some(user_type) = user_type_of(&input.kind) else {
        errors.add("kind", "请选择注册类型");
        return Err(errors.finish().unwrap_err());
    };
    let new_org = input.kind != "hr";
    // A rejected registration is corrected and submitted again under the same admin ID number, proven by
    // the password it was registered with.
    let rejected = match ids::check_id_number(&input.admin_id_number) {
        Ok(id) => rejected_registration(db, code, user_type, &id).await?,
        Err(_) => None,
    };
    let resubmission = match &rejected {
        Some(r) if password::verify(&input.admin_password, Some(&r.password_hash)).await => Some(r),
        Some(_) => {
            errors.add("admin_password", "该管理员身份证号码的注册未通过审核：请填写注册时设置的密码，修改信息后重新提交");
            None
        }
        None => None,
    };
    // The org a resubmission corrects (none for an HR bureau's admin).
    let own_org = resubmission.filter(|_| new_org).map(|r| r.org_id);
    let mut credit_code = None;
    let mut region = None;
    let mut existing: Option<Org> = None;
    if new_org {
        required(&mut errors, "name", &input.name, "单位名称", 100);
        match ids::check_credit_code(&input.credit_code) {
            Ok(c) => {
                if db
                    .exists(
                        q("SELECT 1 FROM orgs WHERE tenant_id = $1 AND credit_code = $2 AND id <> $3")
                            .bind(code)
                            .bind(&c)
                            .bind(own_org.unwrap_or(0)),
                    )
                    .await?
                {
                    errors.add("credit_code", "该统一社会信用代码已注册");
                }
                credit_code = Some(c);
            }
            Err(msg) => errors.add("credit_code", if input.credit_code.trim().is_empty() { "请填写统一社会信用代码" } else { msg }),
        }
        region = bureau_of_region(db, code, &input.region_code).await?;
        if region.is_none() {
            errors.add("region_code", "请选择所属区域");
        }
        // A resubmission keeps the licence it was registered with unless another is uploaded.
        if licence.is_none() && resubmission.is_none_or(|r| r.licence_blob_id.is_none()) {
            errors.add("licence", "请上传营业执照或事业单位法人证书扫描件");
        }
        check_phone(&mut errors, &input.contact_phone);
        required(&mut errors, "address", &input.address, "单位地址", 200);
    } else {
        existing = match input.org_id {
            Some(id) => get(db, code, id).await?.filter(|o| o.kind == OrgKind::Hr && o.status == OrgStatus::Active),
            None => None,
        };
        if existing.is_none() {
            errors.add("org_id", "请选择所属人社局");
        }
    }
    let supervisor = match (input.supervisor_id, input.kind.as_str()) {
        (Some(id), "unit" | "institution") => {
            let s = get(db, code, id).await?.filter(|o| o.kind == OrgKind::Authority && o.status == OrgStatus::Active);
            if s.is_none() {
                errors.add("supervisor_id", "主管部门无效");
            }
            s
        }
        _ => None,
    };
    if tenant.tenant.settings.registration.org_approval == "supervisor" && input.kind == "unit" && supervisor.is_none() {
        errors.add("supervisor_id", "请选择主管部门");
    }
    check_name(&mut errors, "admin_name", &input.admin_name);
    let admin_id = match ids::check_id_number(&input.admin_id_number) {
        Ok(id) => Some(id),
        Err(msg) => {
            errors.add("admin_id_number", msg);
            None
        }
    };
    if let Err(msg) = password::check_policy(&input.admin_password, admin_id.as_deref().unwrap_or("")) {
        errors.add("admin_password", msg);
    }
    let mut contact = FieldErrors::default();
    check_phone(&mut contact, &input.admin_phone);
    check_email(&mut contact, &input.admin_email);
    for (field, msg) in contact.0 {
        errors.add(&format!("admin_{field}"), msg);
    }
    if rejected.is_none()
        && let Some(id) = &admin_id
        && db
            .exists(
                q("SELECT 1 FROM accounts WHERE tenant_id = $1 AND user_type = $2 AND id_number = $3").bind(code).bind(user_type).bind(id),
            )
            .await?
    {
        errors.add("admin_id_number", "该身份证号码已注册为此类管理员");
    }
    errors.finish()?;
    let admin_id = admin_id.unwrap_or_default();

    // The approver and the new org's place in the tree.
    let rule = tenant.tenant.settings.registration.org_approval.as_str();
    let approver_id = match (&existing, &region) {
        (Some(bureau), _) => bureau.parent_id.ok_or_else(|| AppError::bad_request("no_approver", "省级人社部门管理员由系统管理员创建"))?,
        (None, Some(bureau)) => match (&supervisor, rule) {
            (Some(s), "supervisor") => s.id,
            _ => bureau.id,
        },
        (None, None) => unreachable!("validated above"),
    };
    let hash = password::hash(&input.admin_password).await?;
    let mut tx = db.begin().await?;
    let account_id = write(
        state,
        &mut tx,
        code,
        input,
        user_type,
        &admin_id,
        &hash,
        credit_code,
        region.as_ref(),
        supervisor.as_ref(),
        existing.as_ref(),
        approver_id,
        licence,
        resubmission,
    )
    .await?;
    tx.commit().await?;
    let approver = get(db, code, approver_id).await?.map(|o| o.name);
    Ok(Registered { account_id, status: crate::auth::AccountStatus::Pending, approver, resubmitted: resubmission.is_some() })
}

/// A rejected admin registration of this login type and ID number: the account, its org (the new
/// org, or the HR bureau) and what proves the owner.
#[derive(Debug, sqlx::FromRow)]
struct Rejected {
    account_id: i64,
    org_id: i64,
    password_hash: String,
    licence_blob_id: Option<i64>,
}

async fn rejected_registration(
    db: &crate::db::Db,
    tenant: &str,
    user_type: &str,
    id_number: &str,
) -> Result<Option<Rejected>, sqlx::Error> {
    db.opt(
        q("SELECT a.id AS account_id, o.id AS org_id, a.password_hash, o.licence_blob_id FROM accounts a \
           JOIN orgs o ON o.tenant_id = a.tenant_id AND o.id = a.org_id \
           WHERE a.tenant_id = $1 AND a.user_type = $2 AND a.id_number = $3 AND a.status = 'rejected'")
        .bind(tenant)
        .bind(user_type)
        .bind(id_number),
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn write(
    state: &AppState,
    tx: &mut Tx,
    code: &str,
    input: &OrgRegistration,
    user_type: &str,
    admin_id: &str,
    hash: &str,
    credit_code: Option<String>,
    region: Option<&Org>,
    supervisor: Option<&Org>,
    existing: Option<&Org>,
    approver_id: i64,
    licence: Option<Upload>,
    resubmission: Option<&Rejected>,
) -> Result<i64, AppError> {
    let now = Utc::now();
    let org_id = match existing {
        Some(org) => org.id,
        None => {
            let bureau = region.ok_or_else(|| AppError::internal("region checked"))?;
            let licence_id = match licence {
                Some(upload) => Some(
                    crate::storage::upload::store_upload(
                        state.blobs.as_ref(),
                        tx,
                        code,
                        &upload.filename,
                        upload.bytes,
                        crate::storage::DOCUMENT_TYPES,
                        state.config.upload_limit_mb,
                    )
                    .await?,
                ),
                None => None,
            };
            let level = match bureau.level.as_str() {
                "province" => "province",
                "city" => "city",
                _ => "county",
            };
            let org = NewOrg {
                kind: input.kind.clone(),
                name: input.name.trim().to_owned(),
                credit_code,
                level: level.to_owned(),
                region_code: Some(input.region_code.clone()),
                parent_id: Some(bureau.id),
                hr_bureau_id: Some(bureau.id),
                supervisor_id: supervisor.map(|s| s.id),
                nature: input.nature.clone().filter(|s| !s.is_empty()),
                affiliation: input.affiliation.clone().filter(|s| !s.is_empty()),
                industry: input.industry.clone().filter(|s| !s.is_empty()),
                contact_name: Some(input.admin_name.trim().to_owned()),
                contact_phone: Some(input.contact_phone.trim().to_owned()),
                address: Some(input.address.trim().to_owned()),
                licence_blob_id: licence_id,
                status: "pending".into(),
                ext_key: None,
            };
            match resubmission {
                Some(rejected) => correct_org(tx, code, rejected, org, now).await?,
                None => super::insert_org(tx, code, org, now).await.on_duplicate(duplicate)?,
            }
        }
    };
    let role = crate::auth::Role::for_user_type(user_type).unwrap_or(crate::auth::Role::Staff);
    let account_id = match resubmission {
        Some(rejected) => {
            let changed = tx
                .run(
                    q("UPDATE accounts SET name = $3, phone = $4, email = $5, org_id = $6, status = 'pending' \
                       WHERE tenant_id = $1 AND id = $2 AND status = 'rejected'")
                    .bind(code)
                    .bind(rejected.account_id)
                    .bind(input.admin_name.trim())
                    .bind(input.admin_phone.trim())
                    .bind(input.admin_email.trim())
                    .bind(org_id),
                )
                .await?;
            if changed != 1 {
                return Err(AppError::conflict("already_resubmitted", "该注册已重新提交，请等待审核"));
            }
            auth::settle_super_admin_tx(tx, code, org_id).await?;
            rejected.account_id
        }
        None => auth::insert_account(
            tx,
            code,
            NewAccount {
                user_type,
                id_number: admin_id,
                name: input.admin_name.trim(),
                phone: Some(input.admin_phone.trim()),
                email: Some(input.admin_email.trim()),
                org_id: Some(org_id),
                person_id: None,
                role,
                status: crate::auth::AccountStatus::Pending,
                password_hash: hash,
                must_change_password: false,
            },
        )
        .await
        .on_duplicate(duplicate)?,
    };
    let org_name = existing.map_or_else(|| input.name.trim().to_owned(), |o| o.name.clone());
    let (subject_type, subject_id, mut summary) = if existing.is_some() {
        ("account", account_id, format!("{}管理员 {} {}", org_name, input.admin_name.trim(), ids::mask_id_number(admin_id)))
    } else {
        ("org", org_id, format!("{}注册：{}（管理员 {}）", super::kind_label(&input.kind), org_name, input.admin_name.trim()))
    };
    // A resubmission opens the next round of the same subject's approval.
    let round = if resubmission.is_some() {
        summary.push_str("（重新提交）");
        tx.scalar(approvals::latest_round(code, subject_type, subject_id)).await? + 1
    } else {
        NewApproval::default().round
    };
    approvals::schedule_digest_tx(tx, &state.config, code, approver_id).await?;
    approvals::open_tx::<Registrations>(
        tx,
        code,
        NewApproval {
            subject_type,
            subject_id,
            summary,
            applicant_account_id: Some(account_id),
            approver_org_id: approver_id,
            round,
            ..Default::default()
        },
    )
    .await?;
    let action = if resubmission.is_some() { "registration.resubmitted" } else { "registration.org" };
    crate::audit::record_tx(tx, code, Some(account_id), action, "org", Some(org_id), json!({"kind": input.kind})).await?;
    Ok(account_id)
}

/// Writes a corrected registration over the rejected org (a new licence if one was uploaded) and
/// places it under its possibly new parent; 409 if it was resubmitted meanwhile.
async fn correct_org(tx: &mut Tx, code: &str, rejected: &Rejected, org: NewOrg, now: chrono::DateTime<Utc>) -> Result<i64, AppError> {
    let changed = tx
        .run(
            q("UPDATE orgs SET name = $3, credit_code = $4, level = $5, region_code = $6, parent_id = $7, nature = $8, affiliation = $9, \
               industry = $10, contact_name = $11, contact_phone = $12, address = $13, licence_blob_id = COALESCE($14, licence_blob_id), \
               status = 'pending', updated_at = $15 WHERE tenant_id = $1 AND id = $2 AND status = 'rejected'")
            .bind(code)
            .bind(rejected.org_id)
            .bind(&org.name)
            .bind(org.credit_code.clone())
            .bind(&org.level)
            .bind(org.region_code.clone())
            .bind(org.parent_id)
            .bind(org.nature.clone())
            .bind(org.affiliation.clone())
            .bind(org.industry.clone())
            .bind(org.contact_name.clone())
            .bind(org.contact_phone.clone())
            .bind(org.address.clone())
            .bind(org.licence_blob_id)
            .bind(now),
        )
        .await
        .on_duplicate(duplicate)?;
    if changed != 1 {
        return Err(AppError::conflict("already_resubmitted", "该注册已重新提交，请等待审核"));
    }
    super::place_tx(tx, code, rejected.org_id, &org.kind, org.parent_id, org.hr_bureau_id, org.supervisor_id).await?;
    Ok(rejected.org_id)
}

fn duplicate() -> AppError {
    field_error("credit_code", "该单位或管理员已注册")
}

/// Registrations in the approval queue: a staff member's or an admin's account (subject `account`) or a
/// new organisation with its first admin (subject `org`). An approval activates them, a rejection
/// marks them rejected; either way the applicant gets a message and a mail.
#[derive(Default)]
pub struct Registrations;

/// Sets the registering account, or the organisation and its first admin, to `status`.
async fn set_registered(tx: &mut Tx, d: &Decided<'_>, status: &str) -> Result<(), sqlx::Error> {
    let item = d.item;
    if item.subject_type == "org" {
        tx.run(
            q("UPDATE orgs SET status = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2 AND status = 'pending'")
                .bind(d.tenant)
                .bind(item.subject_id)
                .bind(status)
                .bind(Utc::now()),
        )
        .await?;
    }
    let account = if item.subject_type == "org" { item.applicant_account_id } else { Some(item.subject_id) };
    if let Some(account) = account {
        // A rejected registrant holds no title; the organisation's super admin is settled again.
        tx.run(
            q("UPDATE accounts SET status = $3, super_admin = (super_admin AND $3 <> 'rejected') \
               WHERE tenant_id = $1 AND id = $2 AND status = 'pending'")
            .bind(d.tenant)
            .bind(account)
            .bind(status),
        )
        .await?;
        let org: Option<(Option<i64>,)> = tx
            .opt(q("SELECT org_id FROM accounts WHERE tenant_id = $1 AND id = $2 AND role <> 'staff'").bind(d.tenant).bind(account))
            .await?;
        if let Some((Some(org_id),)) = org {
            auth::settle_super_admin_tx(tx, d.tenant, org_id).await?;
        }
    }
    Ok(())
}

impl RequestKind for Registrations {
    const CODE: &'static str = "registration";
    const LABEL: &'static str = "注册审核";
    const NOUN: &'static str = "注册申请";
    const OBJECT: &'static str = "registrations";
    const DETAIL_TEMPLATE: &'static str = "approval_registration.html";
    const REVIEWERS: Reviewers = Reviewers::Subtree;

    async fn approved(&self, tx: &mut Tx, d: &Decided<'_>) -> Result<Notice, AppError> {
        set_registered(tx, d, "active").await?;
        Ok(Notice {
            title: "注册审核已通过".to_owned(),
            body: format!("您的注册申请（{}）已审核通过，现在可以登录了。", d.item.summary),
            mail: true,
        })
    }

    async fn rejected(&self, tx: &mut Tx, d: &Decided<'_>) -> Result<Notice, AppError> {
        set_registered(tx, d, "rejected").await?;
        Ok(Notice {
            title: "注册审核未通过".to_owned(),
            body: format!(
                "您的注册申请（{}）未通过审核。原因：{}。可在注册页面用原身份证号和密码修改信息后重新提交。",
                d.item.summary,
                d.reason_text()
            ),
            mail: true,
        })
    }

    type Detail = RegistrationSubject;

    /// The registering organisation, or the registering person's profile (ID number masked), or the
    /// account of an admin who has no person.
    async fn detail(&self, state: &AppState, tenant: &str, item: &Approval) -> Result<RegistrationSubject, AppError> {
        if item.subject_type == "org" {
            return Ok(get(&state.db, tenant, item.subject_id).await?.map_or(RegistrationSubject::Gone, RegistrationSubject::Org));
        }
        let person: Option<(Option<i64>,)> =
            state.db.opt(q("SELECT person_id FROM accounts WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(item.subject_id)).await?;
        Ok(match person.and_then(|p| p.0) {
            Some(person_id) => crate::people::masked_profile(&state.db, tenant, person_id)
                .await?
                .map_or(RegistrationSubject::Gone, RegistrationSubject::Person),
            None => auth::account_by_id(&state.db, tenant, item.subject_id)
                .await?
                .map_or(RegistrationSubject::Gone, |a| RegistrationSubject::Account(auth::AccountView::from(&a))),
        })
    }
}

/// What the reviewer of a registration sees, by what registers (the item's `subject_type`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum RegistrationSubject {
    /// An organisation registering (`subject_type` org)
    Org(Org),
    /// A person registering: their profile, ID number masked
    Person(crate::people::Profile),
    /// An admin's account that has no person profile
    Account(auth::AccountView),
    /// The subject no longer exists (null)
    Gone,
}
