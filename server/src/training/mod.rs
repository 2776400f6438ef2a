//! Training (DESIGN: plans, classes, scores, platform ingest). So far the online training platforms
//! (网络培训机构): their configuration and credentials (`platforms`), the signed completions API that
//! turns completed courses into ledger credits (`completions`), purchases shown to staff (`orders`), and
//! the per-day reconciliation for platforms and operators (`reconciliation`); offline training filings
//! by units and authorities (`filings`, seed 002 备案表). For training institutions (施教机构): the subject
//! catalogues kept by the province HR department and the industry authorities (`subjects`), the
//! institutions' training plans routed for approval (`plans`), classes and scores (`classes`), and the
//! declarations audited per student (`declarations`), with their pages (`classes::pages`).

pub mod classes;
pub mod completions;
pub mod declarations;
pub mod filings;
pub mod orders;
pub mod plans;
pub mod platforms;
pub mod reconciliation;
pub mod roster;
pub mod subjects;

use axum::Router;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// The answer to a batch delete: how many records went (all that were listed).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct DeletedCount {
    pub deleted: usize,
}

/// A form's optional text: trimmed, and `None` when blank.
pub(crate) fn optional_text(text: Option<&str>) -> Option<String> {
    text.map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned)
}

pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(platforms::api_routes())
        .merge(completions::api_routes())
        .merge(orders::api_routes())
        .merge(reconciliation::api_routes())
        .merge(classes::api::routes())
        .merge(declarations::api_routes())
        .merge(subjects::api::routes())
        .merge(plans::api::routes())
        .merge(filings::api::routes())
}

pub fn page_routes() -> Router<AppState> {
    Router::new()
        .merge(platforms::page_routes())
        .merge(orders::page_routes())
        .merge(reconciliation::page_routes())
        .merge(classes::pages::routes())
        .merge(subjects::pages::routes())
        .merge(plans::pages::routes())
        .merge(filings::pages::routes())
}
