//! The adapter for API 0.1.0, kept so plugins built against it keep loading and judging the years they
//! are pinned to: every call carries the year's whole `config` (strings included), title levels as codes
//! and params by name.

use crate::rules::RulesError;
use crate::rules::host::Plugin;
use crate::rules::host::v0_1::jijiao::rules::types as w;
use crate::rules::model::{Assessment, Certificate, ClaimInput, Credit, Person, Route, RouteInput, YearStatus};
use crate::rules::tenant::YearConfig;

pub(crate) use w::PersonYear;

pub(crate) struct Prepared {
    tables: YearConfig,
    config: w::Config,
}

impl Prepared {
    pub(crate) fn new(tables: YearConfig) -> Prepared {
        let config = w::Config {
            year: tables.year,
            requirements: tables
                .requirements
                .iter()
                .map(|r| w::Requirement {
                    title_level: r.title_level.clone(),
                    public: r.public.0,
                    professional: r.professional.0,
                    total: r.total.0,
                })
                .collect(),
            caps: tables.caps.iter().map(|c| w::Cap { source: c.source.into(), subject: c.subject.into(), max: c.max.0 }).collect(),
            required_courses: tables.required_courses.clone(),
            rates: tables
                .rates
                .iter()
                .map(|r| w::Rate { activity: r.activity.clone(), tier: r.tier.clone(), public: r.public.0, professional: r.professional.0 })
                .collect(),
            params: tables.params.iter().map(|(key, value)| w::Param { key: key.clone(), value: *value }).collect(),
        };
        Prepared { tables, config }
    }

    fn person(person: &Person) -> w::Person {
        w::Person { post: person.post.into(), title_level: person.title_level.clone() }
    }

    fn credits(&self, credits: &[Credit]) -> Vec<w::Credit> {
        credits.iter().map(|c| w::Credit::from_model(c, self.tables.course_index(c.course.as_deref()))).collect()
    }

    pub(crate) fn person_year(&self, input: &crate::rules::model::PersonYear) -> w::PersonYear {
        w::PersonYear { person: Self::person(&input.person), year: input.year, credits: self.credits(&input.credits) }
    }

    pub(crate) fn catalogue(&self, plugin: &Plugin) -> Result<Vec<crate::rules::model::Activity>, RulesError> {
        let activities = plugin.call_v0_1(0, |store, guest| guest.call_activity_catalogue(store, self.config.year, &self.config))?;
        Ok(activities.into_iter().map(Into::into).collect())
    }

    pub(crate) fn assess(&self, plugin: &Plugin, claim: &ClaimInput, fields: Vec<(String, String)>) -> Result<Assessment, RulesError> {
        let claim = w::Claim { year: claim.year, activity: claim.activity.clone(), fields, person: Self::person(&claim.person) };
        let result = plugin.call_v0_1(claim.fields.len(), |store, guest| guest.call_assess_activity(store, &claim, &self.config))?;
        Ok(result.into())
    }

    pub(crate) fn route(&self, plugin: &Plugin, request: &RouteInput) -> Result<Route, RulesError> {
        let Some(kind) = w::RequestKind::from_model(request.kind) else { return Ok(request.kind.host_route(request.applicant)) };
        let request = w::RouteRequest::with_kind(request, kind);
        super::route(plugin.call_v0_1(0, |store, guest| guest.call_route(store, &request, &self.config))?)
    }

    pub(crate) fn year_status(&self, plugin: &Plugin, input: &crate::rules::model::PersonYear) -> Result<YearStatus, RulesError> {
        let item = self.person_year(input);
        let progress = plugin.call_v0_1(item.credits.len(), |store, guest| {
            guest.call_year_status(store, &item.person, item.year, &item.credits, &self.config)
        })?;
        Ok((input.year, progress).into())
    }

    pub(crate) fn year_status_batch(&self, plugin: &Plugin, items: &[w::PersonYear], work: usize) -> Result<Vec<YearStatus>, RulesError> {
        let results = plugin.call_v0_1(work, |store, guest| guest.call_year_status_batch(store, items, &self.config))?;
        Ok(results.into_iter().map(|p| (self.tables.year, p).into()).collect())
    }

    pub(crate) fn certificate_check(
        &self,
        plugin: &Plugin,
        kind: &str,
        input: &crate::rules::model::PersonYear,
    ) -> Result<Certificate, RulesError> {
        let item = self.person_year(input);
        let result = plugin.call_v0_1(item.credits.len(), |store, guest| {
            guest.call_certificate_check(store, kind, &item.person, item.year, &item.credits, &self.config)
        })?;
        super::certificate(kind, result)
    }
}
