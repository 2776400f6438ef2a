//! 示例省's continuing-education rules as a jijiao rule plugin. Made by `jijiao tenant new shili`
//! as a starting point: every request is reviewed by the applicant's supervising industry authority,
//! the yearly requirement and the per-claim limits come from `tenants/shili/rules.toml`, and the one
//! certificate (`qualified`) is granted when the year is met. Change what the province's rules say
//! (plugins/README.md), add cases under `tenants/shili/cases/`, and pin the built file in tenant.toml.

#![cfg_attr(target_arch = "wasm32", no_std)]

use jijiao_plugin_sdk::prelude::*;
use jijiao_plugin_sdk::{
    Activity, Claim, Config, Credit, Eligibility, FieldError, Figures, Form, Grant, Person, Progress, Province, Role, RouteRequest, Step,
    SubjectGroup, Totals, count, eligibility_when_met, field_error, fields, grants, rate, requirement, status, step,
};

pub struct Shili;

jijiao_plugin_sdk::plugin!(Shili, province = "shili");

const TYPES: &[(&str, &str)] = &[("training", "继续教育培训"), ("other", "其他")];

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

impl Province for Shili {
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
        // Every registration, plan, declaration, hour claim, change and transfer in is audited by the
        // applicant's (the receiving unit's) supervising department: replace with the province's routes.
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
