//! The adapters for API 0.2.0 and 0.3.0, which differ only in the request kinds `route` knows: the
//! judgement functions get `figures`, the year's numbers pre-indexed once (title levels as small integers,
//! params as values in the plugin's declared order), so a call marshals little more than the person and
//! the credits.

/// One adapter module's body for the bindings of `$version` (called through `Plugin::$call`); `$kind` spells a
/// model request kind in the version, `None` when the version predates it (the host routes it then).
macro_rules! figures_adapter {
    ($version:ident, $call:ident, $kind:expr) => {
        use crate::rules::RulesError;
        use crate::rules::host::Plugin;
        use crate::rules::host::$version::jijiao::rules::types as w;
        use crate::rules::model::{Assessment, Certificate, ClaimInput, Credit, Person, RequestKind, Route, RouteInput, YearStatus};
        use crate::rules::tenant::YearConfig;

        pub(crate) use w::PersonYear;

        pub(crate) struct Prepared {
            tables: YearConfig,
            config: w::Config,
        }

        impl Prepared {
            /// `declared` is the plugin's params with their defaults (its `describe`), in the order it reads them.
            pub(crate) fn new(tables: YearConfig, declared: &[(String, i64)]) -> Prepared {
                // Title levels the requirement table names, in order; "*" is the default row, level 0.
                let mut levels: Vec<String> = Vec::new();
                for row in &tables.requirements {
                    if row.title_level != "*" && !levels.contains(&row.title_level) {
                        levels.push(row.title_level.clone());
                    }
                }
                let requirements = tables
                    .requirements
                    .iter()
                    .map(|r| w::Requirement {
                        title_level: level_index(&levels, &r.title_level),
                        public: r.public.0,
                        professional: r.professional.0,
                        total: r.total.0,
                    })
                    .collect();
                // Keys the plugin does not declare are not passed: another plugin version may read them.
                let params = declared
                    .iter()
                    .map(|(key, default)| tables.params.iter().find(|(k, _)| k == key).map_or(*default, |(_, value)| *value))
                    .collect();
                let figures = w::Figures {
                    year: tables.year,
                    requirements,
                    caps: tables.caps.iter().map(|c| w::Cap { source: c.source.into(), subject: c.subject.into(), max: c.max.0 }).collect(),
                    required_courses: tables.required_courses.clone(),
                    params,
                };
                let rates = tables
                    .rates
                    .iter()
                    .map(|r| w::Rate {
                        activity: r.activity.clone(),
                        tier: r.tier.clone(),
                        public: r.public.0,
                        professional: r.professional.0,
                    })
                    .collect();
                Prepared { config: w::Config { figures, title_levels: levels, rates }, tables }
            }

            fn figures(&self) -> &w::Figures {
                &self.config.figures
            }

            fn person(&self, person: &Person) -> w::Person {
                let title_level = level_index(&self.config.title_levels, &person.title_level);
                let unlisted = title_level == 0 && person.title_level != "*";
                w::Person { post: person.post.into(), title_level, unlisted_title_level: unlisted.then(|| person.title_level.clone()) }
            }

            fn credits(&self, credits: &[Credit]) -> Vec<w::Credit> {
                credits.iter().map(|c| w::Credit::from_model(c, self.tables.course_index(c.course.as_deref()))).collect()
            }

            pub(crate) fn person_year(&self, input: &crate::rules::model::PersonYear) -> w::PersonYear {
                w::PersonYear { person: self.person(&input.person), credits: self.credits(&input.credits) }
            }

            pub(crate) fn catalogue(&self, plugin: &Plugin) -> Result<Vec<crate::rules::model::Activity>, RulesError> {
                let activities = plugin.$call(0, |store, guest| guest.call_activity_catalogue(store, &self.config))?;
                Ok(activities.into_iter().map(Into::into).collect())
            }

            pub(crate) fn assess(
                &self,
                plugin: &Plugin,
                claim: &ClaimInput,
                fields: Vec<(String, String)>,
            ) -> Result<Assessment, RulesError> {
                let claim = w::Claim { year: claim.year, activity: claim.activity.clone(), fields, person: self.person(&claim.person) };
                let result = plugin.$call(claim.fields.len(), |store, guest| guest.call_assess_activity(store, &claim, &self.config))?;
                Ok(result.into())
            }

            pub(crate) fn route(&self, plugin: &Plugin, request: &RouteInput) -> Result<Route, RulesError> {
                let kind: fn(RequestKind) -> Option<w::RequestKind> = $kind;
                let Some(kind) = kind(request.kind) else { return Ok(request.kind.host_route(request.applicant)) };
                let request = w::RouteRequest::with_kind(request, kind);
                crate::rules::api::route(plugin.$call(0, |store, guest| guest.call_route(store, &request, &self.config))?)
            }

            pub(crate) fn year_status(&self, plugin: &Plugin, input: &crate::rules::model::PersonYear) -> Result<YearStatus, RulesError> {
                let person = self.person(&input.person);
                let credits = self.credits(&input.credits);
                let (progress,): (w::Progress,) =
                    plugin.call_hot(credits.len(), |hot| &hot.year_status, (&person, credits.as_slice(), self.figures()))?;
                Ok((input.year, progress).into())
            }

            pub(crate) fn year_status_batch(
                &self,
                plugin: &Plugin,
                items: &[w::PersonYear],
                work: usize,
            ) -> Result<Vec<YearStatus>, RulesError> {
                let (results,): (Vec<w::Progress>,) = plugin.call_hot(work, |hot| &hot.year_status_batch, (items, self.figures()))?;
                Ok(results.into_iter().map(|p| (self.tables.year, p).into()).collect())
            }

            pub(crate) fn certificate_check(
                &self,
                plugin: &Plugin,
                kind: &str,
                input: &crate::rules::model::PersonYear,
            ) -> Result<Certificate, RulesError> {
                let person = self.person(&input.person);
                let credits = self.credits(&input.credits);
                let (result,): (Result<w::Eligibility, Vec<w::FieldError>>,) =
                    plugin.call_hot(credits.len(), |hot| &hot.certificate_check, (kind, &person, credits.as_slice(), self.figures()))?;
                crate::rules::api::certificate(kind, result)
            }
        }

        /// A title level's index among `levels` (1-based); 0 for "*", for a level without a row, and (never in
        /// practice) past u16.
        fn level_index(levels: &[String], code: &str) -> u16 {
            levels.iter().position(|l| l == code).and_then(|i| u16::try_from(i + 1).ok()).unwrap_or(0)
        }
    };
}

/// API 0.2.0: frozen; kinds added in 0.3.0 are routed by the host.
pub(crate) mod v0_2 {
    figures_adapter!(v0_2, call_v0_2, w::RequestKind::from_model);
}

/// API 0.3.0, the current one.
pub(crate) mod v0_3 {
    figures_adapter!(v0_3, call_v0_3, |kind| Some(kind.into()));
}
