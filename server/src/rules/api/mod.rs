//! One adapter per API version the host supports. Each turns a tenant's tables for a year into its
//! version's records once (when the [`super::YearRules`] is built, then cached) and the model's inputs into
//! its records per call, calls the plugin, and turns the answers back into the model.

mod figures;
pub(super) mod v0_1;

pub(super) use figures::{v0_2, v0_3};

use super::RulesError;
use super::host::{ApiVersion, Plugin};
use super::model::{Certificate, Route, Step, field_errors};
use super::tenant::YearConfig;

/// A year's tables prepared for the API version the year's plugin speaks.
pub(super) enum Prepared {
    V0_1(v0_1::Prepared),
    V0_2(v0_2::Prepared),
    V0_3(v0_3::Prepared),
}

impl Prepared {
    pub(super) fn new(plugin: &Plugin, tables: YearConfig) -> Prepared {
        match plugin.api_version() {
            ApiVersion::V0_1 => Prepared::V0_1(v0_1::Prepared::new(tables)),
            ApiVersion::V0_2 => Prepared::V0_2(v0_2::Prepared::new(tables, &plugin.info().params)),
            ApiVersion::V0_3 => Prepared::V0_3(v0_3::Prepared::new(tables, &plugin.info().params)),
        }
    }
}

/// Person-years already in the interface's records, for [`super::YearRules::year_status_batch_raw`]
/// (the benchmark measures the plugin call without the conversion).
pub struct Batch(pub(super) BatchItems);

pub(super) enum BatchItems {
    V0_1(Vec<v0_1::PersonYear>),
    V0_2(Vec<v0_2::PersonYear>),
    V0_3(Vec<v0_3::PersonYear>),
}

impl Batch {
    pub fn len(&self) -> usize {
        match &self.0 {
            BatchItems::V0_1(items) => items.len(),
            BatchItems::V0_2(items) => items.len(),
            BatchItems::V0_3(items) => items.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Units of work for the fuel budget: one per person-year and one per credit.
    pub(super) fn work(&self) -> usize {
        match &self.0 {
            BatchItems::V0_1(items) => items.iter().map(|i| 1 + i.credits.len()).sum(),
            BatchItems::V0_2(items) => items.iter().map(|i| 1 + i.credits.len()).sum(),
            BatchItems::V0_3(items) => items.iter().map(|i| 1 + i.credits.len()).sum(),
        }
    }
}

/// A plugin's answer to `route` (any API version) in the model's terms.
pub(super) fn route<S: Into<Step>, E: Into<(String, String)>>(answer: Result<Vec<S>, Vec<E>>) -> Result<Route, RulesError> {
    match answer {
        Ok(steps) => Ok(Route { steps: steps.into_iter().map(Into::into).collect() }),
        Err(errors) => Err(RulesError::InvalidInput(field_errors(errors))),
    }
}

/// A plugin's answer to `certificate-check` (any API version) in the model's terms.
pub(super) fn certificate<C: Into<(bool, Vec<String>)>, E: Into<(String, String)>>(
    kind: &str,
    answer: Result<C, Vec<E>>,
) -> Result<Certificate, RulesError> {
    match answer {
        Ok(eligibility) => {
            let (eligible, reasons) = eligibility.into();
            Ok(Certificate { kind: kind.into(), eligible, reasons })
        }
        Err(errors) => Err(RulesError::InvalidInput(field_errors(errors))),
    }
}
