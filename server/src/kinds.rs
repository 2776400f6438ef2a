//! The one place where every background job kind and every approvable request kind is registered. A
//! kind lives with its domain (which implements [`JobKind`](crate::jobs::JobKind) or
//! [`RequestKind`](crate::approvals::RequestKind)); the queue and the approval engine know none of
//! them and work with what these lists give them.

use crate::{approvals, jobs};

/// Lists the kinds of a registry once: the function that builds it, and the `Registered` marker that the
/// queue and the engine require of a kind before they accept one, so a kind missing here cannot be
/// enqueued or opened (a compile error, not a job failing at run time).
macro_rules! registry {
    ($(#[$doc:meta])* fn $name:ident() -> $registry:ty; $marker:path; [$($kind:ty),+ $(,)?]) => {
        $(impl $marker for $kind {})+
        $(#[$doc])*
        pub fn $name() -> $registry {
            let mut registry = <$registry>::default();
            $(registry.register::<$kind>();)+
            registry
        }
    };
}

registry! {
    /// Every job kind this server runs.
    fn jobs() -> jobs::Registry;
    jobs::Registered;
    [
        crate::mail::queue::SendMail,
        crate::approvals::Digest,
        crate::hours::status::RecomputePerson,
        crate::hours::status::RecomputeMany,
        crate::hours::status::RecomputeYear,
        crate::certificates::RenderPdf,
        crate::certificates::exemptions::IssueProof,
        crate::stats::summary::BuildSummary,
    ]
}

registry! {
    /// Every request kind the approval engine decides, in the order of the queue page's tabs (the first
    /// is the queue's default kind).
    fn requests() -> approvals::Registry;
    approvals::Registered;
    [
        crate::orgs::registration::Registrations,
        crate::claims::Claims,
        crate::certificates::exemptions::Exemptions,
        crate::training::plans::Plans,
        crate::training::declarations::Declarations,
        crate::training::filings::Filings,
        crate::training::filings::roster::FilingRosters,
        crate::transfers::Transfers,
        crate::changes::PersonChanges,
        crate::changes::OrgChanges,
        crate::changes::ParentChanges,
        crate::annual_reports::AnnualPlans,
        crate::annual_reports::AnnualSummaries,
    ]
}
