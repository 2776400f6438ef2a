//! Demo data for all tenants: a few organisations and one account per role with documented credentials
//! (see README). Idempotent: everything is keyed, so running it twice adds nothing.

use chrono::Utc;
use serde::Serialize;

use crate::auth::{NewAccount, insert_account, password};
use crate::db::{Db, Tx, q};
use crate::ids::{credit_code_with_check, id_number_with_check};
use crate::orgs::{NewOrg, insert_org};
use crate::tenancy::Words;

/// The demo password of every demo account. Demo only: never used outside `jijiao demo`.
pub const DEMO_PASSWORD: &str = "Demo2026jj";

#[derive(Debug, Serialize)]
pub struct DemoAccount {
    pub tenant: String,
    pub user_type: &'static str,
    pub id_number: String,
    pub name: String,
    pub org: String,
}

/// The tenant's words as synced (the demo runs before any server has loaded the tenants).
async fn words(tx: &mut Tx, tenant: &str) -> anyhow::Result<Words> {
    let (settings,): (String,) = tx.one(q("SELECT settings FROM tenants WHERE id = $1").bind(tenant)).await?;
    Ok(serde_json::from_str::<crate::tenancy::TenantSettings>(&settings)?.words)
}

/// Capital district code and the surname used for demo names, per tenant.
fn tenant_prefix(tenant: &str) -> (&'static str, &'static str) {
    match tenant {
        "hunan" => ("430102", "湘"),
        "henan" => ("410102", "豫"),
        "hubei" => ("420102", "鄂"),
        _ => ("110101", "京"),
    }
}

/// The deterministic demo ID number for a tenant and a sequence (documented in README).
pub fn demo_id_number(tenant: &str, seq: u32) -> String {
    let (prefix, _) = tenant_prefix(tenant);
    id_number_with_check(&format!("{prefix}19800101{seq:03}"))
}

pub async fn load_if_empty(db: &Db) -> anyhow::Result<()> {
    if db.scalar(q("SELECT COUNT(*) FROM accounts")).await? == 0 {
        load(db).await?;
    }
    Ok(())
}

pub async fn load(db: &Db) -> anyhow::Result<Vec<DemoAccount>> {
    let tenants: Vec<(String,)> = db.all(q("SELECT id FROM tenants ORDER BY id")).await?;
    let hash = password::hash(DEMO_PASSWORD).await?;
    let mut out = Vec::new();
    for (tenant,) in tenants {
        let mut tx = db.begin().await?;
        out.extend(load_tenant(&mut tx, &tenant, &hash).await?);
        tx.commit().await?;
    }
    Ok(out)
}

async fn org_by_key(tx: &mut Tx, tenant: &str, key: &str) -> anyhow::Result<Option<i64>> {
    Ok(tx.opt::<(i64,)>(q("SELECT id FROM orgs WHERE tenant_id = $1 AND ext_key = $2").bind(tenant).bind(key)).await?.map(|r| r.0))
}

async fn first_org(tx: &mut Tx, tenant: &str, sql: &'static str) -> anyhow::Result<(i64, String, String)> {
    Ok(tx.one::<(i64, String, String)>(q(sql).bind(tenant)).await?)
}

async fn ensure_org(tx: &mut Tx, tenant: &str, key: &str, org: NewOrg) -> anyhow::Result<i64> {
    if let Some(id) = org_by_key(tx, tenant, key).await? {
        return Ok(id);
    }
    Ok(insert_org(tx, tenant, NewOrg { ext_key: Some(key.to_owned()), status: "active".into(), ..org }, Utc::now()).await?)
}

async fn load_tenant(tx: &mut Tx, tenant: &str, hash: &str) -> anyhow::Result<Vec<DemoAccount>> {
    let (prefix, surname) = tenant_prefix(tenant);
    let province = first_org(
        tx,
        tenant,
        "SELECT id, name, COALESCE(region_code, '') FROM orgs WHERE tenant_id = $1 AND kind = 'province' ORDER BY id LIMIT 1",
    )
    .await?;
    // The capital is the first city in the regions file.
    let city = first_org(tx, tenant, "SELECT id, name, COALESCE(region_code, '') FROM orgs WHERE tenant_id = $1 AND kind = 'hr' AND level = 'city' ORDER BY region_code LIMIT 1").await?;
    let authority = first_org(tx, tenant, "SELECT id, name, COALESCE(region_code, '') FROM orgs WHERE tenant_id = $1 AND kind = 'authority' AND level = 'province' ORDER BY id LIMIT 1").await?;
    let city_name = city.1.trim_end_matches("人力资源和社会保障局").to_owned();
    let unit_base = |name: String, supervisor: Option<i64>, code17: &str| NewOrg {
        kind: "unit".into(),
        name,
        credit_code: Some(credit_code_with_check(code17)),
        level: "city".into(),
        region_code: Some(city.2.clone()),
        parent_id: Some(city.0),
        supervisor_id: supervisor,
        hr_bureau_id: Some(city.0),
        nature: Some("public_institution".into()),
        affiliation: Some("city".into()),
        industry: Some("education".into()),
        contact_phone: Some("13800000000".into()),
        address: Some(format!("{city_name}人民路 1 号")),
        ..Default::default()
    };
    let school = ensure_org(
        tx,
        tenant,
        "demo:unit:school",
        unit_base(format!("{city_name}第一中学"), Some(authority.0), &format!("12{prefix}MB1000001")),
    )
    .await?;
    let hospital = ensure_org(
        tx,
        tenant,
        "demo:unit:hospital",
        NewOrg { industry: Some("health".into()), ..unit_base(format!("{city_name}中心医院"), None, &format!("12{prefix}MB2000002")) },
    )
    .await?;
    let teaching = ensure_org(
        tx,
        tenant,
        "demo:dept:teaching",
        NewOrg {
            kind: "department".into(),
            name: "教务处".into(),
            level: "city".into(),
            region_code: Some(city.2.clone()),
            parent_id: Some(school),
            ..Default::default()
        },
    )
    .await?;
    ensure_org(
        tx,
        tenant,
        "demo:dept:office",
        NewOrg {
            kind: "department".into(),
            name: "办公室".into(),
            level: "city".into(),
            region_code: Some(city.2.clone()),
            parent_id: Some(school),
            ..Default::default()
        },
    )
    .await?;
    let institution = ensure_org(
        tx,
        tenant,
        "demo:institution",
        NewOrg {
            kind: "institution".into(),
            name: format!("{}继续教育培训中心", city_name),
            credit_code: Some(credit_code_with_check(&format!("52{prefix}MJ3000003"))),
            level: "city".into(),
            region_code: Some(city.2.clone()),
            parent_id: Some(city.0),
            supervisor_id: Some(authority.0),
            hr_bureau_id: Some(city.0),
            ..Default::default()
        },
    )
    .await?;
    let platforms: &[&str] = match tenant {
        // Seed 002 names Hunan's three recognised online training institutions.
        "hunan" => &["北京思想天下教育科技有限公司", "北京网梯科技发展有限公司", "湖南开放大学"],
        _ => &["在线学习平台一", "在线学习平台二", "在线学习平台三"],
    };
    for (i, name) in platforms.iter().enumerate() {
        ensure_org(
            tx,
            tenant,
            &format!("demo:platform:{i}"),
            NewOrg {
                kind: "platform".into(),
                name: (*name).into(),
                level: "province".into(),
                region_code: Some(province.2.clone()),
                parent_id: Some(province.0),
                ..Default::default()
            },
        )
        .await?;
    }

    let accounts: [(&str, u32, &str, i64, &str); 10] = [
        ("staff", 101, "一", school, "male"),
        ("staff", 102, "二", hospital, "female"),
        ("unit", 201, "单位", school, ""),
        ("unit", 202, "医院", hospital, ""),
        ("institution", 301, "机构", institution, ""),
        ("authority", 401, "主管", authority.0, ""),
        // A second admin of the authority: 管理员管理 has someone to manage.
        ("authority", 402, "主管副", authority.0, ""),
        ("hr", 501, "人社", city.0, ""),
        ("province", 601, "省厅", province.0, ""),
        ("system", 701, "系统", province.0, ""),
    ];
    let mut out = Vec::new();
    for (user_type, seq, label, org_id, _) in accounts {
        let id_number = demo_id_number(tenant, seq);
        let name = format!("{surname}{label}");
        let org_name: (String,) = tx.one(q("SELECT name FROM orgs WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(org_id)).await?;
        out.push(DemoAccount { tenant: tenant.to_owned(), user_type, id_number: id_number.clone(), name: name.clone(), org: org_name.0 });
        if tx
            .exists(
                q("SELECT 1 FROM accounts WHERE tenant_id = $1 AND user_type = $2 AND id_number = $3")
                    .bind(tenant)
                    .bind(user_type)
                    .bind(&id_number),
            )
            .await?
        {
            continue;
        }
        let person_id = if user_type == "staff" {
            let gender = crate::ids::gender_of(&id_number);
            Some(
                tx.scalar(
                    q("INSERT INTO people (tenant_id, id_number, name, gender, ethnicity, phone, email, native_place, education, major, school, \
                       graduated_on, unit_id, department_id, title, title_level, title_date, post, title_series, created_at, updated_at) \
                       VALUES ($1, $2, $3, $4, '01', '13900000000', $5, $6, 'bachelor', '教育学', '师范大学', $7, $8, $9, '中学一级教师', 'intermediate', $10, 'technical', $12, $11, $11) RETURNING id")
                    .bind(tenant)
                    .bind(&id_number)
                    .bind(&name)
                    .bind(gender)
                    .bind(format!("staff{seq}@{tenant}.demo.jijiao.local"))
                    .bind(surname.to_string())
                    .bind(chrono::NaiveDate::from_ymd_opt(2002, 7, 1))
                    .bind(org_id)
                    .bind((org_id == school).then_some(teaching))
                    .bind(chrono::NaiveDate::from_ymd_opt(2015, 9, 1))
                    .bind(Utc::now())
                    // The hospital's staff member has a title series for 职称系列分布 to show; the
                    // school's is left for the title change demo.
                    .bind((org_id == hospital).then_some("health")),
                )
                .await?,
            )
        } else {
            None
        };
        let role = crate::auth::Role::for_user_type(user_type).unwrap_or(crate::auth::Role::Staff);
        insert_account(
            tx,
            tenant,
            NewAccount {
                user_type,
                id_number: &id_number,
                name: &name,
                phone: Some("13900000000"),
                email: Some(&format!("{user_type}{seq}@{tenant}.demo.jijiao.local")),
                org_id: Some(org_id),
                person_id,
                role,
                status: crate::auth::AccountStatus::Active,
                password_hash: hash,
                must_change_password: false,
            },
        )
        .await?;
    }
    training_demo(tx, tenant, province.0, authority.0, institution).await?;
    transfers_demo(tx, tenant, school, hospital).await?;
    notices_demo(tx, tenant, province.0, city.0).await?;
    filing_demo(tx, tenant, hospital, city.0).await?;
    roles_demo(tx, tenant, hospital).await?;
    Ok(out)
}

/// 角色管理: the hospital's super admin has defined a role for staff-record clerks (held by nobody yet).
async fn roles_demo(tx: &mut Tx, tenant: &str, hospital: i64) -> anyhow::Result<()> {
    const NAME: &str = "人员学时查询员";
    // Loading the demo again changes nothing.
    if tx
        .exists(q("SELECT 1 FROM custom_roles WHERE tenant_id = $1 AND org_id = $2 AND name = $3").bind(tenant).bind(hospital).bind(NAME))
        .await?
    {
        return Ok(());
    }
    let admin = demo_account(tx, tenant, "unit", 202).await?;
    let now = Utc::now();
    let role = tx
        .scalar(
            q("INSERT INTO custom_roles (tenant_id, org_id, name, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id")
                .bind(tenant)
                .bind(hospital)
                .bind(NAME)
                .bind(admin)
                .bind(now),
        )
        .await?;
    tx.run(
        q("INSERT INTO casbin_rules (tenant_id, ptype, v0, v1, v2, v3) VALUES ($1, 'p', $2, $1, 'people', 'read')")
            .bind(tenant)
            .bind(crate::auth::rbac::role_subject(role)),
    )
    .await?;
    crate::auth::rbac::bump_tx(tx, tenant).await?;
    Ok(())
}

/// Two notices in 站内消息: the province's to everyone, and the capital's HR bureau's to the staff below it.
async fn notices_demo(tx: &mut Tx, tenant: &str, province: i64, city: i64) -> anyhow::Result<()> {
    if tx.exists(q("SELECT 1 FROM notices WHERE tenant_id = $1").bind(tenant)).await? {
        return Ok(());
    }
    let this = crate::hours::this_year();
    let Words { public, professional, .. } = words(tx, tenant).await?;
    let notices = [
        (
            "province",
            601,
            province,
            "all",
            format!("关于做好 {this} 年度专业技术人员继续教育工作的通知"),
            format!(
                "各市州人社局、各有关单位：\n{this} 年度继续教育学时应于 12 月 31 日前完成，{public}与{professional}学时分别计算。\n请各单位督促本单位专业技术人员及时参加培训、申报学时，并于年底前完成学时审核。"
            ),
        ),
        (
            "hr",
            501,
            city,
            "staff",
            format!("{public}线上学习提醒"),
            format!("本市专业技术人员可登录培训平台参加{public}线上学习，学习记录将自动计入本人学时。"),
        ),
    ];
    let start = Utc::now() - chrono::Duration::days(3);
    for (i, (user_type, seq, org, audience, title, body)) in notices.into_iter().enumerate() {
        let sender = demo_account(tx, tenant, user_type, seq).await?;
        tx.run(
            q("INSERT INTO notices (tenant_id, sender_account_id, sender_org_id, target_org_id, audience, title, body, created_at) \
               VALUES ($1, $2, $3, $3, $4, $5, $6, $7)")
            .bind(tenant)
            .bind(sender)
            .bind(org)
            .bind(audience)
            .bind(title)
            .bind(body)
            .bind(start + chrono::Duration::days(i as i64)),
        )
        .await?;
    }
    Ok(())
}

/// An offline training of the hospital, accepted by the capital's HR bureau, whose participants' hours
/// are still to be uploaded (参训人员学时 on its page) and then confirmed by the bureau.
async fn filing_demo(tx: &mut Tx, tenant: &str, hospital: i64, city: i64) -> anyhow::Result<()> {
    if tx.exists(q("SELECT 1 FROM training_filings WHERE tenant_id = $1").bind(tenant)).await? {
        return Ok(());
    }
    let this = crate::hours::this_year();
    let hospital_admin = demo_account(tx, tenant, "unit", 202).await?;
    let bureau_admin = demo_account(tx, tenant, "hr", 501).await?;
    let filed = chrono::NaiveDate::from_ymd_opt(i32::try_from(this)?, 6, 1)
        .expect("valid date")
        .and_hms_opt(2, 0, 0)
        .expect("valid time")
        .and_utc();
    let accepted = filed + chrono::Duration::days(2);
    let public = words(tx, tenant).await?.public;
    let name = format!("{this} 年度医德医风{public}集中培训");
    let id = tx
        .scalar(
            q("INSERT INTO training_filings (tenant_id, org_id, subject, institution, institution_address, postcode, email, leader_name, \
               leader_title, leader_phone, contact_name, contact_title, contact_phone, name, start_date, end_date, year, place, scope, \
               participants, plan, route_choice, status, round, created_by, created_at, updated_at, decided_at) \
               VALUES ($1, $2, 'public', '本院', '医院行政楼', '410005', NULL, '李明', '副院长', '0731-82821099', '王芳', '科教科干事', \
               '13812345678', $3, $4, $5, $6, '医院学术报告厅', '全院医务人员', 60, '第一天：医德医风专题讲座；第二天：案例研讨与考核。', NULL, \
               'accepted', 1, $7, $8, $9, $9) RETURNING id")
            .bind(tenant)
            .bind(hospital)
            .bind(&name)
            .bind(format!("{this}-07-06"))
            .bind(format!("{this}-07-07"))
            .bind(this)
            .bind(hospital_admin)
            .bind(filed)
            .bind(accepted),
        )
        .await?;
    tx.run(
        q("INSERT INTO approvals (tenant_id, kind, subject_type, subject_id, summary, applicant_account_id, approver_org_id, status, created_at, \
           round, step_no, step_role, declaring_org_id, decided_by, decided_at) \
           VALUES ($1, 'filing', 'filing', $2, $3, $4, $5, 'approved', $6, 1, 1, 'hr_admin', $7, $8, $9)")
        .bind(tenant)
        .bind(id)
        .bind(format!("{name}（{public}，60 人）"))
        .bind(hospital_admin)
        .bind(city)
        .bind(filed)
        .bind(hospital)
        .bind(bureau_admin)
        .bind(accepted),
    )
    .await?;
    Ok(())
}

/// One confirmed transfer in 调转记录: the hospital's demo staff member came from the school in
/// September 2025 (their current unit is the hospital already).
async fn transfers_demo(tx: &mut Tx, tenant: &str, school: i64, hospital: i64) -> anyhow::Result<()> {
    if tx.exists(q("SELECT 1 FROM transfers WHERE tenant_id = $1").bind(tenant)).await? {
        return Ok(());
    }
    let person: i64 = tx
        .scalar(q("SELECT id FROM people WHERE tenant_id = $1 AND id_number = $2").bind(tenant).bind(demo_id_number(tenant, 102)))
        .await?;
    let school_admin = demo_account(tx, tenant, "unit", 201).await?;
    let at = chrono::NaiveDate::from_ymd_opt(2025, 9, 1).expect("valid date");
    let created = at.and_hms_opt(1, 0, 0).expect("valid time").and_utc();
    tx.run(
        q("INSERT INTO transfers (tenant_id, person_id, from_unit_id, to_unit_id, reason, effective_on, status, created_by, created_at, decided_at) \
           VALUES ($1, $2, $3, $4, '工作调动（演示数据）', $5, 'approved', $6, $7, $8)")
        .bind(tenant)
        .bind(person)
        .bind(school)
        .bind(hospital)
        .bind(at)
        .bind(school_admin)
        .bind(created)
        .bind(created + chrono::Duration::days(3)),
    )
    .await?;
    Ok(())
}

/// The demo account of a user type and sequence (created above).
async fn demo_account(tx: &mut Tx, tenant: &str, user_type: &str, seq: u32) -> anyhow::Result<i64> {
    Ok(tx
        .scalar(
            q("SELECT id FROM accounts WHERE tenant_id = $1 AND user_type = $2 AND id_number = $3")
                .bind(tenant)
                .bind(user_type)
                .bind(demo_id_number(tenant, seq)),
        )
        .await?)
}

/// Subject catalogues for this year and last (public ones kept by the province, professional ones by
/// the demo authority) and one approved plan of the demo institution, so classes can be run at once.
async fn training_demo(tx: &mut Tx, tenant: &str, province: i64, authority: i64, institution: i64) -> anyhow::Result<()> {
    let this = crate::hours::this_year();
    let now = Utc::now();
    let province_admin = demo_account(tx, tenant, "province", 601).await?;
    let authority_admin = demo_account(tx, tenant, "authority", 401).await?;
    let institution_admin = demo_account(tx, tenant, "institution", 301).await?;
    let public = ["专业技术人员职业道德", "法治建设与依法行政", "数字经济与创新驱动"];
    let professional = [("新课程标准与课堂教学", "教育"), ("信息技术与学科教学融合", "教育")];
    for year in [this - 1, this] {
        let rows = public
            .iter()
            .map(|name| (province, province_admin, "public", *name, None))
            .chain(professional.iter().map(|(name, major)| (authority, authority_admin, "professional", *name, Some(*major))));
        for (owner, creator, kind, name, major) in rows {
            tx.run(
                q("INSERT INTO training_subjects (tenant_id, owner_org_id, kind, name, year, major, suggestion, enabled, created_by, created_at, updated_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8, $9, $9) ON CONFLICT (tenant_id, owner_org_id, year, kind, name) DO NOTHING")
                .bind(tenant)
                .bind(owner)
                .bind(kind)
                .bind(name)
                .bind(year)
                .bind(major)
                .bind(true)
                .bind(creator)
                .bind(now),
            )
            .await?;
        }
    }
    let plan_name = format!("{this} 年度专业技术人员职业道德培训");
    if tx
        .exists(
            q("SELECT 1 FROM training_plans WHERE tenant_id = $1 AND institution_id = $2 AND name = $3")
                .bind(tenant)
                .bind(institution)
                .bind(&plan_name),
        )
        .await?
    {
        return Ok(());
    }
    let subject = tx
        .scalar(
            q("SELECT id FROM training_subjects WHERE tenant_id = $1 AND owner_org_id = $2 AND kind = 'public' AND year = $3 AND name = $4")
                .bind(tenant)
                .bind(province)
                .bind(this)
                .bind(public[0]),
        )
        .await?;
    let plan = tx.scalar(
        q("INSERT INTO training_plans (tenant_id, institution_id, name, subject_kind, subject_id, year, credit_year, mode, planned_count, hours, \
           start_date, end_date, place, remark, route_choice, status, round, created_by, created_at, updated_at, decided_at) \
           VALUES ($1, $2, $3, 'public', $4, $5, $5, 'face_to_face', 100, 1200, $6, $7, '培训中心一号教室', NULL, NULL, 'approved', 1, $8, $9, $9, $9) \
           RETURNING id")
        .bind(tenant)
        .bind(institution)
        .bind(&plan_name)
        .bind(subject)
        .bind(this)
        .bind(format!("{this}-03-01"))
        .bind(format!("{this}-12-31"))
        .bind(institution_admin)
        .bind(now),
    )
    .await?;
    // A class under it with the two demo staff's scores, not yet declared: the roster and the declaration
    // can be tried at once.
    let class = tx
        .scalar(
            q("INSERT INTO training_classes (tenant_id, plan_id, institution_id, name, capacity, start_date, end_date, place, teacher, created_by, \
               created_at, updated_at) VALUES ($1, $2, $3, $4, 50, $5, $6, '培训中心一号教室', NULL, $7, $8, $8) RETURNING id")
            .bind(tenant)
            .bind(plan)
            .bind(institution)
            .bind(format!("{this} 年度职业道德培训第一期"))
            .bind(format!("{this}-04-10"))
            .bind(format!("{this}-04-12"))
            .bind(institution_admin)
            .bind(now),
        )
        .await?;
    for (seq, score) in [(101, 9_200), (102, 5_500)] {
        tx.run(
            q("INSERT INTO class_scores (tenant_id, class_id, person_id, score, passed, remark, created_by, created_at, updated_at) \
               SELECT $1, $2, id, $3, $4, NULL, $5, $6, $6 FROM people WHERE tenant_id = $1 AND id_number = $7")
            .bind(tenant)
            .bind(class)
            .bind(score)
            .bind(score >= crate::training::classes::PASS_MARK)
            .bind(institution_admin)
            .bind(now)
            .bind(demo_id_number(tenant, seq)),
        )
        .await?;
    }
    Ok(())
}
