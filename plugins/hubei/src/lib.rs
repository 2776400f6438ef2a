//! Hubei's continuing-education rules (seed 004): 湖北省专业技术人员继续教育公共服务平台.
//!
//! Seed 004 is the supervising department's manual: the supervising department (主管部门) approves staff
//! and unit registrations, audits hour claims and CE bases' declarations and plans. The yearly requirement
//! comes from `tenants/hubei/rules.toml`; its default is the national rule (≥ 90 h, professional ≥ two
//! thirds), as RULES-NOTES.md says no Hubei-specific source was found.
//!
//! Seed 004 names no activity types, so the catalogue is small and generic: declared training hours and
//! "other", each declared as public or professional. Certificates: `qualified` (电子证书) when the year is met.

#![cfg_attr(target_arch = "wasm32", no_std)]

use jijiao_plugin_sdk::prelude::*;
use jijiao_plugin_sdk::{
    Activity, Claim, Config, Credit, Eligibility, FieldError, Figures, Form, Grant, Person, Progress, Province, Role, RouteRequest, Step,
    SubjectGroup, Totals, count, eligibility_when_met, field_error, fields, grants, rate, requirement, status, step,
};

pub struct Hubei;

jijiao_plugin_sdk::plugin!(Hubei, province = "hubei");

const TYPES: &[(&str, &str)] = &[("training", "继续教育培训（线下）"), ("academic_exchange", "学术交流"), ("other", "其他")];

fn catalogue(config: &Config) -> Vec<Activity> {
    TYPES
        .iter()
        .filter(|(code, _)| rate(config, code, "").is_some())
        .map(|&(code, name)| Activity {
            code: code.into(),
            name: name.into(),
            subject: SubjectGroup::Either,
            fields: vec![
                fields::choice("subject", "科目类型", &[("public", "公需科目"), ("professional", "专业科目")]),
                fields::text("name", "名称", 100),
                fields::text("organiser", "主办单位", 100),
                fields::date("start_date", "开始日期"),
                fields::date("end_date", "结束日期"),
                fields::number("hours", "学时", 9000),
                fields::file("attachment", "证明材料"),
                fields::optional_text("remarks", "备注", 500),
            ],
        })
        .collect()
}

fn year_status(person: &Person, credits: &[Credit], figures: &Figures) -> Progress {
    let mut notes = Vec::new();
    let required = match requirement(figures, person) {
        Some(row) => Totals::from(row),
        None => {
            notes.push(format!("{}年度未配置学时要求，请联系管理员", figures.year));
            Totals { public: 0, professional: 0, total: 0 }
        }
    };
    let (counted, cap_notes) = count(credits, &figures.caps);
    notes.extend(cap_notes);
    let unconfigured = required.total == 0;
    status(required, counted, notes, unconfigured)
}

impl Province for Hubei {
    fn catalogue(config: &Config) -> Vec<Activity> {
        catalogue(config)
    }

    fn assess(claim: &Claim, config: &Config) -> Result<Vec<Grant>, Vec<FieldError>> {
        let Some(activity) = catalogue(config).into_iter().find(|a| a.code == claim.activity) else {
            return Err(field_error("activity", format!("{}年度未开放此学时类型", claim.year)));
        };
        let form = Form::validate(&activity, &claim.fields)?;
        let Some(limit) = rate(config, &activity.code, "") else { return Err(field_error("activity", "未配置此学时类型")) };
        // Hours as declared, up to the type's per-claim limit for the subject.
        Ok(if form.get("subject") == Some("public") {
            grants(form.hours("hours").min(limit.public), 0)
        } else {
            grants(0, form.hours("hours").min(limit.professional))
        })
    }

    fn route(request: &RouteRequest, _config: &Config) -> Result<Vec<Step>, Vec<FieldError>> {
        // Seed 004 §5.1.3–§5.1.6, §5.2: every registration, plan, declaration, hour claim, change and
        // transfer in (the receiving unit's) under a supervising department is audited by it.
        Ok(vec![step(Role::AuthorityAdmin, request.applicant.level)])
    }

    fn year_status(person: &Person, credits: &[Credit], figures: &Figures) -> Progress {
        year_status(person, credits, figures)
    }

    fn certificate(kind: &str, person: &Person, credits: &[Credit], figures: &Figures) -> Result<Eligibility, Vec<FieldError>> {
        if kind != "qualified" {
            return Err(field_error("kind", "不支持的证书类型（可选：qualified 电子证书）"));
        }
        Ok(eligibility_when_met(figures.year, year_status(person, credits, figures)))
    }
}
