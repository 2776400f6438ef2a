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
    API_VERSION, Activity, Claim, Config, Credit, Eligibility, FieldError, Form, Grant, Guest, OrgLevel, Person, PersonYear, PluginInfo,
    Progress, Role, RouteRequest, Step, SubjectGroup, Totals, count, eligibility_when_met, field_error, fields, grants, rate, requirement,
    status,
};

pub struct Hubei;

// Exported only in the component: natively (tests, benchmark) the export names, which contain ":" and
// "@", would not link into a shared library, and nothing needs them there.
#[cfg(target_arch = "wasm32")]
jijiao_plugin_sdk::export!(Hubei);

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

fn year_status(person: &Person, year: u16, credits: &[Credit], config: &Config) -> Progress {
    let mut notes = Vec::new();
    let required = match requirement(config, &person.title_level) {
        Some(row) => Totals { public: row.public, professional: row.professional, total: row.total },
        None => {
            notes.push(format!("{year}年度未配置学时要求，请联系管理员"));
            Totals { public: 0, professional: 0, total: 0 }
        }
    };
    let (counted, cap_notes) = count(credits, &config.caps);
    notes.extend(cap_notes);
    let unconfigured = required.total == 0;
    status(required, counted, notes, unconfigured)
}

impl Guest for Hubei {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "jijiao-plugin-hubei".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            api: API_VERSION.into(),
            province: "hubei".into(),
        }
    }

    fn activity_catalogue(_year: u16, config: Config) -> Vec<Activity> {
        catalogue(&config)
    }

    fn assess_activity(claim: Claim, config: Config) -> Result<Vec<Grant>, Vec<FieldError>> {
        let Some(activity) = catalogue(&config).into_iter().find(|a| a.code == claim.activity) else {
            return Err(field_error("activity", format!("{}年度未开放此学时类型", claim.year)));
        };
        let form = Form::validate(&activity, &claim.fields)?;
        let Some(limit) = rate(&config, &activity.code, "") else { return Err(field_error("activity", "未配置此学时类型")) };
        // Hours as declared, up to the type's per-claim limit for the subject.
        Ok(if form.get("subject") == Some("public") {
            grants(form.hours("hours").min(limit.public), 0)
        } else {
            grants(0, form.hours("hours").min(limit.professional))
        })
    }

    fn route(request: RouteRequest, _config: Config) -> Result<Vec<Step>, Vec<FieldError>> {
        // Seed 004 §5.1.3, §5.1.5, §5.2: every registration, plan, declaration and hour claim under a
        // supervising department is audited by it.
        let level: OrgLevel = request.applicant.level;
        Ok(vec![Step { role: Role::AuthorityAdmin, level }])
    }

    fn year_status(person: Person, year: u16, credits: Vec<Credit>, config: Config) -> Progress {
        year_status(&person, year, &credits, &config)
    }

    fn year_status_batch(items: Vec<PersonYear>, config: Config) -> Vec<Progress> {
        items.iter().map(|item| year_status(&item.person, item.year, &item.credits, &config)).collect()
    }

    fn certificate_check(
        kind: String,
        person: Person,
        year: u16,
        credits: Vec<Credit>,
        config: Config,
    ) -> Result<Eligibility, Vec<FieldError>> {
        if kind != "qualified" {
            return Err(field_error("kind", "不支持的证书类型（可选：qualified 电子证书）"));
        }
        Ok(eligibility_when_met(year, year_status(&person, year, &credits, &config)))
    }
}
