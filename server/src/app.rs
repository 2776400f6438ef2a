//! The router (every domain's routes merged behind the shared middleware) and the server.

use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware;
use axum::response::IntoResponse;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::error::AppError;
use crate::state::AppState;

pub mod routes;

/// Start-up: registers the job and request kinds, connects and migrates, syncs tenants if configured,
/// loads the demo data if asked, and loads the state every request shares.
pub async fn build_state(config: crate::config::Config) -> anyhow::Result<AppState> {
    crate::jobs::install(crate::kinds::jobs);
    crate::approvals::install(crate::kinds::requests);
    crate::web::install_header_counts(routes::header_counts);
    crate::hours::install_hooks(crate::certificates::year_hooks());
    crate::observability::recorder();
    std::fs::create_dir_all(&config.data_dir)?;
    let db = crate::db::Db::connect(&config.database_url()).await?;
    db.migrate().await?;
    if db.bypasses_row_security().await? {
        tracing::warn!(
            "the database role is a superuser or has BYPASSRLS, so row-level security does not apply to it: \
             connect as a role that owns the tables instead (deploy/README.md, \"Row-level security\")"
        );
    }
    if config.sync_tenants {
        crate::tenancy::sync::sync_dir(&db, &config.tenants_dir).await?;
    }
    if config.demo {
        crate::demo::load_if_empty(&db).await?;
    }
    let state = AppState::from_db(config, db).await?;
    state.rules.refresh_stored(&state.db, None).await?;
    state.rbac.refresh(&state.db, None).await?;
    if let Some((code, template)) = crate::approvals::registry().detail_templates().find(|(_, t)| !state.templates.has(t)) {
        anyhow::bail!("request kind {code:?} shows its subject with {template:?}, which is not among the templates");
    }
    Ok(state)
}

/// Every route: global ones, the JSON API and the pages, behind the shared middleware.
pub fn router(state: AppState) -> Router {
    let limit = (state.config.upload_limit_mb as usize + 1) * 1024 * 1024;
    let timeout = Duration::from_secs(state.config.request_timeout_secs);
    let request_id = HeaderName::from_static("x-request-id");
    let (api, document) = routes::api(&state);
    Router::new()
        .merge(routes::global_routes(&document))
        .nest("/api/v1", api)
        .merge(routes::page_routes(state.clone()))
        .layer(middleware::from_fn_with_state(state.clone(), crate::auth::csrf::ensure_cookie))
        .route_layer(middleware::from_fn(crate::observability::remember_route))
        .layer(middleware::from_fn(crate::observability::track))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                // Every log line of a request carries its id (also sent back as `x-request-id` and shown on
                // error pages), so a person's report can be found in the logs.
                .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
                    let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
                    tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id = %id)
                }))
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(CompressionLayer::new())
                .layer(RequestBodyLimitLayer::new(limit))
                .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, timeout))
                .layer(security_header("x-content-type-options", "nosniff"))
                .layer(security_header("x-frame-options", "DENY"))
                .layer(security_header("referrer-policy", "same-origin"))
                .layer(security_header(
                    "content-security-policy",
                    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'",
                )),
        )
        .with_state(state)
}

fn security_header(name: &'static str, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(HeaderName::from_static(name), HeaderValue::from_static(value))
}

/// Serves HTTP/1.1 on the listener until Ctrl-C, then lets open requests finish.
///
/// The accept loop is ours rather than `axum::serve`'s because it must set hyper's header read timeout
/// (with a timer): without one, a connection that never finishes its headers stays open for ever, and a
/// few thousand of them exhaust the server.
/// Keeps what other server processes may change in the shared database current in this one: stored
/// requirement tables and custom roles, read again each second.
async fn keep_fresh(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(err) = state.rules.refresh_stored(&state.db, None).await {
            tracing::warn!(error = %err, "could not refresh the stored requirement tables");
        }
        if let Err(err) = state.rbac.refresh(&state.db, None).await {
            tracing::warn!(error = %err, "could not refresh the stored roles");
        }
    }
}

pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> anyhow::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(Duration::from_secs(state.config.header_timeout_secs.max(1)));
    let fresh = crate::db::spawn(keep_fresh(state.clone()));
    let app = app(state);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown_signal());
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                Err(err) => {
                    // Out of file descriptors and the like: wait a moment instead of spinning.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            let mut request = request.map(axum::body::Body::new);
            request.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(request)
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        crate::db::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "connection ended with an error");
            }
        });
    }
    if tokio::time::timeout(Duration::from_secs(30), graceful.shutdown()).await.is_err() {
        tracing::warn!("connections still open after 30 s; stopping anyway");
    }
    fresh.abort();
    Ok(())
}

/// The router behind tenant resolution. Resolution must run before routing (it rewrites `/t/<code>/…`),
/// so the routed app is the fallback service of an outer router whose layer resolves the tenant.
pub fn app(state: AppState) -> Router {
    let inner = router(state.clone());
    Router::new().fallback_service(inner).layer(middleware::from_fn_with_state(state, resolve_tenant))
}

async fn resolve_tenant(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: Request,
    next: middleware::Next,
) -> axum::response::Response {
    let api = request.uri().path().contains("/api/");
    match crate::tenancy::resolve(&state.tenants, request) {
        // A tenant's request runs behind its row-level wall (PostgreSQL).
        Some(request) => match request.extensions().get::<crate::tenancy::TenantCtx>().map(|ctx| ctx.tenant.code().to_owned()) {
            Some(code) => crate::db::within_tenant(&code, next.run(request)).await,
            None => next.run(request).await,
        },
        // An unknown portal: the API answers JSON, a browser the platform's page of portals.
        None if api => AppError::not_found().into_response(),
        None => crate::web::platform_page(&state, axum::http::StatusCode::NOT_FOUND).unwrap_or_else(IntoResponse::into_response),
    }
}

/// Ctrl-C, or SIGTERM: what systemd, Docker and Kubernetes send to stop a service.
async fn shutdown_signal() {
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
