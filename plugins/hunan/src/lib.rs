//! Hunan's continuing-education rules (seeds 001 and 002): 湖南省事业单位工作人员培训管理平台.
//!
//! Logic lives here; numbers come from `tenants/hunan/rules.toml`. Params read (declared below with their
//! defaults, which `describe` reports to the host):
//! - `pre_job_hours` (40 h): public + professional hours for a pre-job certificate (seed 001: 40 学时);
//! - `in_service_public_hours` (30 h) / `in_service_professional_hours` (60 h): in-service certificate (seed 001);
//! - `posting_counts_full_year` (1): "both"-subject postings grant the year's whole requirement instead
//!   of their rate (RULES-NOTES: configurable, no public source gives a number);
//! - `required_courses_block` (1): a missing required public course keeps the year unmet (seed 002
//!   calls them 必修内容).

#![cfg_attr(target_arch = "wasm32", no_std)]

use jijiao_plugin_sdk::prelude::*;
use jijiao_plugin_sdk::{
    Activity, Claim, Config, Credit, Eligibility, FieldError, Figures, Grant, Person, Progress, Province, RequestKind, Role, RouteRequest,
    Step, Subject, SubjectGroup, Totals, count, field_error, fields, grants, h, param, param_hours, rate, requirement, status, step,
    totals,
};

pub struct Hunan;

jijiao_plugin_sdk::plugin!(Hunan, province = "hunan", params = PARAMS);

jijiao_plugin_sdk::params! {
    /// Seed 001: "岗前证书需满足公共科目+专业科目共 40 学时即可出证".
    PRE_JOB_HOURS = "pre_job_hours", h(40);
    /// Seed 001: "在岗证书需满足公共科目30学时+专业科目60学时".
    IN_SERVICE_PUBLIC_HOURS = "in_service_public_hours", h(30);
    IN_SERVICE_PROFESSIONAL_HOURS = "in_service_professional_hours", h(60);
    /// RULES-NOTES.md: postings may count as the full year (1) or their rate (0).
    POSTING_COUNTS_FULL_YEAR = "posting_counts_full_year", 1;
    /// Seed 002: a missing required public course keeps the year unmet (1) or only adds a note (0).
    REQUIRED_COURSES_BLOCK = "required_courses_block", 1;
}

/// How an activity type's hours are worked out.
#[derive(Clone, Copy)]
enum Valuation {
    /// The configured rate, whatever the claim says.
    Fixed,
    /// The hours on the claim's hour proof, up to the configured rate.
    Declared,
    /// A posting: the year's whole requirement, or the configured rate (`posting_counts_full_year`).
    Posting,
}

/// Seed 001 §9 "申请活动学时": the activity types and their subjects.
const TYPES: &[(&str, &str, SubjectGroup, Valuation)] = &[
    ("management_worker_training", "管理岗、工勤岗培训互认", SubjectGroup::Professional, Valuation::Declared),
    ("research_project", "课题研究与项目开发", SubjectGroup::Professional, Valuation::Fixed),
    ("provincial_award", "省部级科技（社科）奖项", SubjectGroup::Professional, Valuation::Fixed),
    ("prefecture_award", "地厅级科技（社科）奖项", SubjectGroup::Professional, Valuation::Fixed),
    ("patent", "发明专利", SubjectGroup::Professional, Valuation::Fixed),
    ("publication", "出版著作（译作）或教材", SubjectGroup::Professional, Valuation::Fixed),
    ("paper_lead_author", "发表论文（独立或第一作者、通讯作者）", SubjectGroup::Professional, Valuation::Fixed),
    ("paper_other_author", "发表论文（其他作者）", SubjectGroup::Professional, Valuation::Fixed),
    ("degree_education", "学历（学位）教育", SubjectGroup::Professional, Valuation::Fixed),
    ("qualification_exam", "职业资格考试", SubjectGroup::Professional, Valuation::Fixed),
    ("worker_skill_exam", "工勤技能岗位等级考试", SubjectGroup::Professional, Valuation::Fixed),
    ("vocational_training", "职业技能培训", SubjectGroup::Professional, Valuation::Declared),
    ("cadre_training", "干部教育培训", SubjectGroup::Public, Valuation::Declared),
    // Seed 001 lists 专业技术人员继续教育培训 (公共科目) and 专业技术人员继续教育 (专业科目+公共科目): the names
    // say which, so the two read apart wherever a claim is listed.
    ("staff_ce_training", "专业技术人员继续教育培训（公共科目）", SubjectGroup::Public, Valuation::Declared),
    ("three_aids", "三援（援藏、援疆、援外）", SubjectGroup::Both, Valuation::Posting),
    ("support_project", "支援省内或省外项目", SubjectGroup::Both, Valuation::Posting),
    ("east_west_cooperation", "东西部扶贫协作", SubjectGroup::Both, Valuation::Posting),
    ("village_posting", "驻村帮扶", SubjectGroup::Both, Valuation::Posting),
    ("visiting", "选派访问", SubjectGroup::Both, Valuation::Posting),
    ("business_leave", "离岗创办企业", SubjectGroup::Both, Valuation::Posting),
    ("pre_job_training", "岗前培训", SubjectGroup::Both, Valuation::Declared),
    ("staff_continuing_education", "专业技术人员继续教育（专业科目+公共科目）", SubjectGroup::Both, Valuation::Declared),
];

fn form(group: SubjectGroup, valuation: Valuation) -> Vec<jijiao_plugin_sdk::Field> {
    let mut form = vec![
        fields::text("name", "活动名称", 100),
        fields::optional_text("form", "活动形式", 50),
        fields::date("start_date", "开始日期"),
        fields::date("end_date", "结束日期"),
    ];
    match (valuation, group) {
        (Valuation::Declared, SubjectGroup::Both) => {
            form.push(fields::number("public_hours", "公共科目学时", 9000));
            form.push(fields::number("professional_hours", "专业科目学时", 9000));
            form.push(fields::file("hour_proof", "学时证明"));
        }
        (Valuation::Declared, _) => {
            form.push(fields::number("hours", "学时", 9000));
            form.push(fields::file("hour_proof", "学时证明"));
        }
        (Valuation::Posting, _) => form.push(fields::text("place", "派驻地或项目", 100)),
        (Valuation::Fixed, _) => {}
    }
    form.push(fields::file("attachment", "材料附件"));
    form.push(fields::optional_text("remarks", "备注", 1000));
    form
}

/// The activity types the tenant has a rate for this year (removing a rate closes the type).
fn catalogue(config: &Config) -> Vec<(Activity, Valuation)> {
    TYPES
        .iter()
        .filter(|(code, ..)| rate(config, code, "").is_some())
        .map(|&(code, name, group, valuation)| {
            (Activity { code: code.into(), name: name.into(), subject: group, fields: form(group, valuation) }, valuation)
        })
        .collect()
}

/// The year's requirement for the person: the title level's row, else the default row.
fn required(figures: &Figures, person: &Person) -> (Totals, Vec<String>) {
    match requirement(figures, person) {
        Some(row) => (row.into(), Vec::new()),
        None => (totals(0, 0), vec![format!("{}年度未配置学时要求，请联系管理员", figures.year)]),
    }
}

/// Names of the year's required courses no credit covers, when that keeps the year unmet (the note
/// is raised either way).
fn missing_courses(credits: &[Credit], figures: &Figures) -> (Option<String>, bool) {
    let missing = jijiao_plugin_sdk::missing_courses(credits, figures);
    if missing.is_empty() {
        return (None, false);
    }
    let note = format!("未完成{}年度公共科目必修内容：{}", figures.year, missing.join("、"));
    (Some(note), param(figures, REQUIRED_COURSES_BLOCK) != 0)
}

impl Province for Hunan {
    fn catalogue(config: &Config) -> Vec<Activity> {
        catalogue(config).into_iter().map(|(activity, _)| activity).collect()
    }

    fn assess(claim: &Claim, config: &Config) -> Result<Vec<Grant>, Vec<FieldError>> {
        let Some((activity, valuation)) = catalogue(config).into_iter().find(|(a, _)| a.code == claim.activity) else {
            return Err(field_error("activity", format!("{}年度未开放此活动类型", claim.year)));
        };
        let form = jijiao_plugin_sdk::Form::validate(&activity, &claim.fields)?;
        let Some(value) = rate(config, &activity.code, "") else {
            return Err(field_error("activity", "未配置此活动类型的学时"));
        };
        let (public, professional) = match valuation {
            Valuation::Fixed => (value.public, value.professional),
            Valuation::Declared => match activity.subject {
                SubjectGroup::Public => (form.hours("hours").min(value.public), 0),
                SubjectGroup::Both => {
                    (form.hours("public_hours").min(value.public), form.hours("professional_hours").min(value.professional))
                }
                _ => (0, form.hours("hours").min(value.professional)),
            },
            Valuation::Posting if param(&config.figures, POSTING_COUNTS_FULL_YEAR) != 0 => {
                let (year, _) = required(&config.figures, &claim.person);
                // The whole year: its public part, and the rest of the total as professional.
                (year.public, year.total.saturating_sub(year.public).max(year.professional))
            }
            Valuation::Posting => (value.public, value.professional),
        };
        if public == 0 && professional == 0 {
            let field = if matches!(activity.subject, SubjectGroup::Both) { "public_hours" } else { "hours" };
            return Err(field_error(field, "可认定学时为 0，请核对学时证明"));
        }
        Ok(grants(public, professional))
    }

    fn route(request: &RouteRequest, _config: &Config) -> Result<Vec<Step>, Vec<FieldError>> {
        let level = request.applicant.level;
        match request.kind {
            // Seed 001: staff register under their unit and log in at once.
            RequestKind::StaffRegistration => Ok(Vec::new()),
            RequestKind::OrgRegistration => Ok(vec![step(Role::HrAdmin, level)]),
            // Seed 001 §9: "待单位管理员审核无误提交到主管部门审核".
            RequestKind::ActivityClaim => Ok(vec![step(Role::UnitAdmin, level), step(Role::AuthorityAdmin, level)]),
            // Seed 002 (offline filing): professional to the supervising department, public to the HR
            // department at the same level.
            RequestKind::TrainingPlan | RequestKind::ClassDeclaration => match request.subject {
                Some(Subject::Professional) => Ok(vec![step(Role::AuthorityAdmin, level)]),
                Some(Subject::Public) => Ok(vec![step(Role::HrAdmin, level)]),
                None => Err(field_error("subject", "请选择培训科目：公共科目或专业科目")),
            },
            // The receiving unit's admin confirms a transfer in; title changes are the unit's.
            RequestKind::StaffTransfer | RequestKind::PersonChange => Ok(vec![step(Role::UnitAdmin, level)]),
            RequestKind::OrgChange => Ok(vec![step(Role::HrAdmin, level)]),
            // Asked under the old parent and under the new one: both supervising departments approve.
            RequestKind::ParentChange => Ok(vec![step(Role::AuthorityAdmin, level)]),
            RequestKind::WorkMaterials | RequestKind::InstitutionAnnualPlan | RequestKind::InstitutionAnnualSummary => {
                Ok(vec![step(Role::AuthorityAdmin, level)])
            }
        }
    }

    fn year_status(person: &Person, credits: &[Credit], figures: &Figures) -> Progress {
        let (required, mut notes) = required(figures, person);
        let (counted, cap_notes) = count(credits, &figures.caps);
        notes.extend(cap_notes);
        let (missing, blocked) = missing_courses(credits, figures);
        notes.extend(missing);
        status(required, counted, notes, blocked)
    }

    fn certificate(kind: &str, _person: &Person, credits: &[Credit], figures: &Figures) -> Result<Eligibility, Vec<FieldError>> {
        let year = figures.year;
        let (counted, _) = count(credits, &figures.caps);
        let mut reasons = Vec::new();
        let hours = jijiao_plugin_sdk::decimal;
        match kind {
            // Seed 001: "岗前证书需满足公共科目+专业科目共 40 学时即可出证".
            "pre_job" => {
                let need = param_hours(figures, PRE_JOB_HOURS);
                if counted.total < need {
                    reasons.push(format!(
                        "岗前证书需公共科目与专业科目合计满 {} 学时，{year}年度已有 {} 学时",
                        hours(need),
                        hours(counted.total)
                    ));
                }
            }
            // Seed 001: "在岗证书需满足公共科目30学时+专业科目60学时，共90学时方可出证".
            "in_service" => {
                let public = param_hours(figures, IN_SERVICE_PUBLIC_HOURS);
                let professional = param_hours(figures, IN_SERVICE_PROFESSIONAL_HOURS);
                if counted.public < public {
                    reasons.push(format!("在岗证书需公共科目满 {} 学时，{year}年度已有 {} 学时", hours(public), hours(counted.public)));
                }
                if counted.professional < professional {
                    reasons.push(format!(
                        "在岗证书需专业科目满 {} 学时，{year}年度已有 {} 学时",
                        hours(professional),
                        hours(counted.professional)
                    ));
                }
                if let (Some(missing), true) = missing_courses(credits, figures) {
                    reasons.push(missing);
                }
            }
            _ => return Err(field_error("kind", "不支持的证书类型（可选：pre_job 岗前证书、in_service 在岗证书）")),
        }
        Ok(Eligibility { eligible: reasons.is_empty(), reasons })
    }
}
