//! Prometheus metrics: the process-wide recorder, the request middleware, and `/metrics`.
//!
//! Latencies are histograms with fixed buckets, not summaries: the quantiles of a summary cannot be
//! added up across server processes, bucket counts can. Requests are labelled by route template
//! (`/claims/{id}`, never the id itself, nor the tenant), method and status. Gauges that describe shared
//! state (the job queue, the database pool) are read when `/metrics` is scraped.

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// Seconds: from a cached page to a slow export.
const LATENCY_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
/// Fuel a rules call used (about one unit per wasm instruction; a call gets 20 million and more per item).
const FUEL_BUCKETS: &[f64] = &[1e4, 1e5, 1e6, 5e6, 1e7, 2e7, 5e7, 1e8, 1e9];

/// The process-wide Prometheus recorder (installed once, shared by every server in the process).
pub fn recorder() -> Option<&'static metrics_exporter_prometheus::PrometheusHandle> {
    static HANDLE: std::sync::OnceLock<Option<metrics_exporter_prometheus::PrometheusHandle>> = std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
            let builder = PrometheusBuilder::new()
                .set_buckets(LATENCY_BUCKETS)
                .ok()?
                .set_buckets_for_metric(Matcher::Full("rules_call_fuel".into()), FUEL_BUCKETS)
                .ok()?;
            builder.install_recorder().ok()
        })
        .as_ref()
}

/// The route template a request matched, carried out on the response for [`track`] (which runs before
/// routing and so cannot see it on the request).
#[derive(Clone)]
struct RouteTemplate(String);

/// Route layer: remembers the matched route's template on the response.
pub async fn remember_route(request: Request, next: Next) -> Response {
    let template = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let mut response = next.run(request).await;
    if let Some(template) = template {
        response.extensions_mut().insert(RouteTemplate(template));
    }
    response
}

/// Counts every request and records its latency, by route template, method and status.
pub async fn track(request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let route = response.extensions().get::<RouteTemplate>().map_or_else(|| "unmatched".to_owned(), |r| r.0.clone());
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status.clone()).increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route, "status" => status)
        .record(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`: the recorder's text, after reading the gauges of shared state.
pub async fn scrape(State(state): State<AppState>) -> Response {
    match crate::jobs::open_by_kind(&state.db).await {
        Ok(open) => {
            // Every registered kind is reported, at zero when nothing of it waits, so a drained queue
            // does not keep its last value.
            let now = chrono::Utc::now();
            for kind in crate::jobs::registry().kinds() {
                for job_state in ["queued", "running", "failed"] {
                    let found = open.iter().find(|o| o.kind == kind && o.state == job_state);
                    let age = found.map_or(0.0, |o| (now - o.oldest).num_milliseconds() as f64 / 1000.0);
                    metrics::gauge!("jobs_open", "kind" => kind, "state" => job_state).set(found.map_or(0.0, |o| o.count as f64));
                    metrics::gauge!("jobs_oldest_age_seconds", "kind" => kind, "state" => job_state).set(age);
                }
            }
        }
        Err(err) => tracing::warn!(error = %err, "job queue gauges not read"),
    }
    let (size, idle) = state.db.pool_use();
    metrics::gauge!("db_pool_connections").set(f64::from(size));
    metrics::gauge!("db_pool_idle_connections").set(idle as f64);
    let body = recorder().map(|h| h.render()).unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
