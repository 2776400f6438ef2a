//! Henan's continuing-education rules (seed 003): 河南省专业技术人员继续教育信息管理系统.
//!
//! Logic lives here; numbers come from `tenants/henan/rules.toml`:
//! - the yearly requirement is the sysadmin's table per title level ("管理年度完成继续教育学时"), public
//!   and professional separately;
//! - the 15 "其它继续教育形式" types are declared as public or professional by the claimant (field
//!   `subject`); a rate's `public` column applies to public claims and `professional` to professional ones;
//! - tiered rates follow the conversion reference in RULES-NOTES.md (courses, meetings, projects).
//!
//! Certificates: `qualified` (继续教育合格证书) when the year is met.

#![cfg_attr(target_arch = "wasm32", no_std)]

use jijiao_plugin_sdk::prelude::*;
use jijiao_plugin_sdk::{
    Activity, Claim, Config, Credit, Eligibility, Field, FieldError, Figures, Form, Grant, Person, Progress, Province, Rate, RequestKind,
    Role, RouteRequest, Step, Subject, SubjectGroup, Totals, count, eligibility_when_met, field_error, fields, grants, rate, requirement,
    status, step, subject_label,
};

pub struct Henan;

jijiao_plugin_sdk::plugin!(Henan, province = "henan");

/// How a type's hours are worked out from its form.
#[derive(Clone, Copy)]
enum Valuation {
    /// The rate, per claim.
    Fixed,
    /// The rate's `per_course` tier times the number of courses passed.
    PerCourse,
    /// Academic meeting: the level's tier plus the paper's tier.
    Meeting,
    /// Research project: the level-and-rank tier times the project's years.
    Project,
    /// The hours on the claim, up to the rate.
    Declared,
}

/// Seed 003, "其它继续教育形式申报类型".
const TYPES: &[(&str, &str, Valuation)] = &[
    ("degree_education", "学历学位教育", Valuation::PerCourse),
    ("course_study", "课程进修", Valuation::PerCourse),
    ("academic_exchange", "学术交流", Valuation::Meeting),
    ("research_project", "课题研究", Valuation::Project),
    ("publication", "发行出版/译作", Valuation::Fixed),
    ("paper", "发表论文", Valuation::Fixed),
    ("patent", "专利", Valuation::Fixed),
    ("honour_award", "荣誉称号/奖项", Valuation::Fixed),
    ("survey_report", "专题调研", Valuation::Fixed),
    ("computer_exam", "计算机应用能力考试", Valuation::Fixed),
    ("foreign_language_exam", "专业技术职务外语考试", Valuation::Fixed),
    ("qualification", "获取专业技术资格（执行资质）", Valuation::Fixed),
    ("grassroots_service", "服务基层", Valuation::Fixed),
    ("frontier_support", "支援边疆", Valuation::Fixed),
    ("other", "其他", Valuation::Declared),
];

const LEVELS: &[(&str, &str)] = &[("national", "国家级"), ("provincial", "省级")];
const PAPERS: &[(&str, &str)] = &[("none", "无论文"), ("short", "论文 2000 字以内"), ("long", "论文超过 2000 字")];
const PROJECT_LEVELS: &[(&str, &str)] = &[
    ("national_main", "国家级主项目"),
    ("national_sub", "国家级子项目"),
    ("provincial_main", "省级主项目"),
    ("provincial_sub", "省级子项目"),
];

fn form(valuation: Valuation) -> Vec<Field> {
    let mut form = vec![
        fields::choice("subject", "科目类型", &[("public", "公需科目"), ("professional", "专业科目")]),
        fields::text("name", "名称", 100),
    ];
    match valuation {
        Valuation::PerCourse => {
            form.push(fields::text("institution", "学校或机构", 100));
            form.push(fields::number("courses", "通过课程门数", 2000));
        }
        Valuation::Meeting => {
            form.push(fields::choice("level", "会议级别", LEVELS));
            form.push(fields::choice("paper", "提交论文", PAPERS));
        }
        Valuation::Project => {
            form.push(fields::choice("level", "课题级别", PROJECT_LEVELS));
            form.push(fields::number("rank", "本人排名", 10000));
            form.push(fields::number("years", "项目年数", 1000));
        }
        Valuation::Declared => form.push(fields::number("hours", "学时", 9000)),
        Valuation::Fixed => {}
    }
    form.push(fields::date("start_date", "开始日期"));
    form.push(fields::date("end_date", "结束日期"));
    form.push(fields::file("attachment", "证明材料"));
    // Seed 003: "内容框中的文字不得超过 1000 字".
    form.push(fields::optional_text("remarks", "备注", 1000));
    form
}

/// The types the tenant has any rate for this year.
fn catalogue(config: &Config) -> Vec<(Activity, Valuation)> {
    TYPES
        .iter()
        .filter(|(code, ..)| config.rates.iter().any(|r| r.activity == *code))
        .map(|&(code, name, valuation)| {
            (Activity { code: code.into(), name: name.into(), subject: SubjectGroup::Either, fields: form(valuation) }, valuation)
        })
        .collect()
}

fn value(rate: &Rate, subject: Subject) -> u32 {
    match subject {
        Subject::Public => rate.public,
        Subject::Professional => rate.professional,
    }
}

/// A whole-number field (`courses`, `rank`, `years`), already validated as a number.
fn whole(form: &Form, key: &str, label: &str) -> Result<u32, Vec<FieldError>> {
    let hundredths = form.hours(key);
    if hundredths == 0 || !hundredths.is_multiple_of(100) {
        return Err(field_error(key, format!("{label}须为正整数")));
    }
    Ok(hundredths / 100)
}

fn tier<'a>(config: &'a Config, activity: &str, tier: &str, field: &str) -> Result<&'a Rate, Vec<FieldError>> {
    rate(config, activity, tier).ok_or_else(|| field_error(field, "该情形未配置可认定学时"))
}

fn hours(valuation: Valuation, code: &str, form: &Form, subject: Subject, config: &Config) -> Result<u32, Vec<FieldError>> {
    match valuation {
        Valuation::Fixed => Ok(value(tier(config, code, "", "activity")?, subject)),
        Valuation::Declared => Ok(form.hours("hours").min(value(tier(config, code, "", "activity")?, subject))),
        Valuation::PerCourse => {
            let courses = whole(form, "courses", "通过课程门数")?;
            Ok(courses.saturating_mul(value(tier(config, code, "per_course", "courses")?, subject)))
        }
        Valuation::Meeting => {
            let level = form.get("level").unwrap_or_default();
            let base = value(tier(config, code, level, "level")?, subject);
            let paper = match form.get("paper").unwrap_or("none") {
                "none" => 0,
                paper => value(tier(config, code, &format!("{level}_paper_{paper}"), "paper")?, subject),
            };
            Ok(base + paper)
        }
        Valuation::Project => {
            let level = form.get("level").unwrap_or_default();
            let rank = whole(form, "rank", "本人排名")?;
            let years = whole(form, "years", "项目年数")?;
            let per_year = rate(config, code, &format!("{level}_{rank}"))
                .ok_or_else(|| field_error("rank", format!("该级别课题第 {rank} 名不计学时")))?;
            Ok(years.saturating_mul(value(per_year, subject)))
        }
    }
}

fn year_status(person: &Person, credits: &[Credit], figures: &Figures) -> Progress {
    let year = figures.year;
    let mut notes = Vec::new();
    let required = match requirement(figures, person) {
        Some(row) => {
            if let Some(level) = &person.unlisted_title_level {
                notes.push(format!("{year}年度未配置职称等级“{level}”的学时要求，按默认要求计算"));
            }
            Totals::from(row)
        }
        None => {
            notes.push(format!("{year}年度未配置学时要求，请联系系统管理员"));
            Totals { public: 0, professional: 0, total: 0 }
        }
    };
    let (counted, cap_notes) = count(credits, &figures.caps);
    notes.extend(cap_notes);
    let unconfigured = required.total == 0 && required.public == 0 && required.professional == 0;
    status(required, counted, notes, unconfigured)
}

/// Seed 003: public items go to the same-level HR bureau only; professional ones to the industry
/// authority or the HR bureau, as the unit chooses ("行业主管" or "同级人社部门").
fn decider(request: &RouteRequest) -> Result<Step, Vec<FieldError>> {
    let level = request.applicant.level;
    match (request.subject, request.choice.as_deref()) {
        (None, _) => Err(field_error("subject", "请选择科目类型：公需科目或专业科目")),
        (Some(Subject::Public), None | Some("hr_bureau")) => Ok(step(Role::HrAdmin, level)),
        (Some(Subject::Public), Some(_)) => Err(field_error("choice", "公需科目只能送往同级人社部门审批")),
        (Some(Subject::Professional), Some("authority")) => Ok(step(Role::AuthorityAdmin, level)),
        (Some(Subject::Professional), Some("hr_bureau")) => Ok(step(Role::HrAdmin, level)),
        (Some(Subject::Professional), _) => Err(field_error("choice", "请选择审批部门：行业主管部门或同级人社部门")),
    }
}

impl Province for Henan {
    fn catalogue(config: &Config) -> Vec<Activity> {
        catalogue(config).into_iter().map(|(activity, _)| activity).collect()
    }

    fn assess(claim: &Claim, config: &Config) -> Result<Vec<Grant>, Vec<FieldError>> {
        let Some((activity, valuation)) = catalogue(config).into_iter().find(|(a, _)| a.code == claim.activity) else {
            return Err(field_error("activity", format!("{}年度未开放此继续教育类型", claim.year)));
        };
        let form = Form::validate(&activity, &claim.fields)?;
        let subject = if form.get("subject") == Some("public") { Subject::Public } else { Subject::Professional };
        let granted = hours(valuation, &activity.code, &form, subject, config)?;
        if granted == 0 {
            return Err(field_error("activity", format!("此类型的{}可认定学时为 0", subject_label(subject))));
        }
        Ok(match subject {
            Subject::Public => grants(granted, 0),
            Subject::Professional => grants(0, granted),
        })
    }

    fn route(request: &RouteRequest, _config: &Config) -> Result<Vec<Step>, Vec<FieldError>> {
        let level = request.applicant.level;
        match request.kind {
            // Seed 003: "请耐心等待所属单位审批".
            RequestKind::StaffRegistration => Ok(vec![step(Role::UnitAdmin, level)]),
            // Seed 003: units, institutions and authorities "等待所属人社部门审批".
            RequestKind::OrgRegistration => Ok(vec![step(Role::HrAdmin, level)]),
            // The unit reviews and declares, then the chosen department approves.
            RequestKind::ActivityClaim => Ok(vec![step(Role::UnitAdmin, level), decider(request)?]),
            RequestKind::TrainingPlan | RequestKind::ClassDeclaration => Ok(vec![decider(request)?]),
            // Seed 003 人员调转: the receiving unit confirms a transfer in; a title change is the unit's.
            RequestKind::StaffTransfer | RequestKind::PersonChange => Ok(vec![step(Role::UnitAdmin, level)]),
            // A new supervising department: the host asks once under the old parent and once under the
            // new, so both approve.
            RequestKind::ParentChange => Ok(vec![step(Role::AuthorityAdmin, level)]),
            // Organisations answer to the HR department that approved their registration.
            RequestKind::OrgChange
            | RequestKind::WorkMaterials
            | RequestKind::InstitutionAnnualPlan
            | RequestKind::InstitutionAnnualSummary => Ok(vec![step(Role::HrAdmin, level)]),
        }
    }

    fn year_status(person: &Person, credits: &[Credit], figures: &Figures) -> Progress {
        year_status(person, credits, figures)
    }

    fn certificate(kind: &str, person: &Person, credits: &[Credit], figures: &Figures) -> Result<Eligibility, Vec<FieldError>> {
        if kind != "qualified" {
            return Err(field_error("kind", "不支持的证书类型（可选：qualified 继续教育合格证书）"));
        }
        Ok(eligibility_when_met(figures.year, year_status(person, credits, figures)))
    }
}
