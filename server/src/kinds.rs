//! The one place where every background job kind and every approvable request kind is registered. A
//! kind lives with its domain (which implements [`JobKind`](crate::jobs::JobKind) or
//! [`RequestKind`](crate::approvals::RequestKind)); the queue and the approval engine know none of
//! them and work with what these lists give them.

use crate::{approvals, jobs};

/// Every job kind this server runs. A kind that is enqueued but missing here fails its runs (and is
/// retried) with "unknown job kind"; `every_enqueued_kind_is_registered` below guards the list.
pub fn jobs() -> jobs::Registry {
    let mut registry = jobs::Registry::default();
    registry
        .register::<crate::mail::SendMail>()
        .register::<crate::approvals::Digest>()
        .register::<crate::hours::status::RecomputePerson>()
        .register::<crate::hours::status::RecomputeMany>()
        .register::<crate::hours::status::RecomputeYear>()
        .register::<crate::certificates::RenderPdf>()
        .register::<crate::certificates::exemptions::IssueProof>();
    registry
}

/// Every request kind the approval engine decides, in the order of the queue page's tabs (the first is
/// the queue's default kind).
pub fn requests() -> approvals::Registry {
    let mut registry = approvals::Registry::default();
    registry
        .register::<crate::orgs::registration::Registrations>()
        .register::<crate::claims::Claims>()
        .register::<crate::certificates::exemptions::Exemptions>()
        .register::<crate::training::plans::Plans>()
        .register::<crate::training::declarations::Declarations>()
        .register::<crate::training::filings::Filings>();
    registry
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The names of the types that implement `trait_name` anywhere in the server's sources.
    fn implementors(trait_name: &str) -> Vec<String> {
        fn walk(dir: &Path, found: &mut Vec<String>, needle: &str) {
            for entry in std::fs::read_dir(dir).expect("source dir").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, found, needle);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).expect("source file");
                    for line in text.lines().map(str::trim).filter(|l| l.starts_with("impl")) {
                        if let Some((_, rest)) = line.split_once(needle) {
                            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                            found.push(name);
                        }
                    }
                }
            }
        }
        let mut found = Vec::new();
        walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut found, &format!("{trait_name} for "));
        found.sort();
        found
    }

    /// A job kind can only be enqueued through its type; this makes sure every such type is also in
    /// the list the workers run, so none is queued to fail with "unknown job kind".
    #[test]
    fn every_job_kind_is_registered() {
        let listed = include_str!("kinds.rs");
        let kinds = implementors("JobKind");
        for kind in &kinds {
            assert!(listed.contains(&format!("::{kind}>()")), "job kind {kind} is not registered in kinds::jobs");
        }
        assert_eq!(super::jobs().kinds().count(), kinds.len(), "{kinds:?}");
    }

    /// The same for request kinds: a kind's rows are opened through its type, so every type must be
    /// one the engine can decide.
    #[test]
    fn every_request_kind_is_registered() {
        let listed = include_str!("kinds.rs");
        let kinds = implementors("RequestKind");
        for kind in &kinds {
            assert!(listed.contains(&format!("::{kind}>()")), "request kind {kind} is not registered in kinds::requests");
        }
        assert_eq!(super::requests().codes().count(), kinds.len(), "{kinds:?}");
    }
}
