//! The application state every handler and worker shares: configuration, the database, tenants,
//! casbin, templates, blobs, mail and the rule plugins; and the request facts extracted from it (the
//! tenant, the client's address). It knows no domain: the job and request kinds are registries of their
//! own (`crate::kinds`).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::auth::rbac::Rbac;
use crate::config::Config;
use crate::db::Db;
use crate::error::AppError;
use crate::mail::Mailer;
use crate::storage::BlobStore;
use crate::tenancy::{TenantCtx, Tenants};
use crate::web::templates::Templates;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub db: Db,
    pub tenants: Tenants,
    pub rbac: Rbac,
    pub templates: Templates,
    pub blobs: Arc<dyn BlobStore>,
    pub mailer: Mailer,
    /// The province rule plugins (compiled once, instantiated per call).
    pub rules: crate::rules::Rules,
    /// Costly sums kept between requests under versioned keys.
    pub memo: crate::memo::Memo,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Loads everything requests need from a migrated database (start-up, in `crate::app`, does the
    /// migrating, syncing and registering first).
    pub async fn from_db(config: Config, db: Db) -> anyhow::Result<AppState> {
        let tenants = Tenants::load(&db).await?;
        let rbac = Rbac::load(tenants.all().iter().map(|t| t.policy.as_str()).collect::<Vec<_>>()).await?;
        let templates = Templates::load(&config.tenants_dir, &tenants)?;
        let blobs = crate::storage::from_config(&config).await?;
        let mailer = Mailer::from_config(&config)?;
        let host = crate::rules::Host::from_config(&config).map_err(|e| anyhow::anyhow!("{e}"))?;
        let rules = crate::rules::Rules::new(host, &config.tenants_dir, &config.plugins_dir);
        Ok(AppState(Arc::new(Inner { config, db, tenants, rbac, templates, blobs, mailer, rules, memo: Default::default() })))
    }
}

impl FromRequestParts<AppState> for TenantCtx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<TenantCtx>().cloned().ok_or_else(AppError::not_found)
    }
}

/// The client's address: the socket peer, or `X-Forwarded-For` when `trust_proxy` is set.
#[derive(Clone, Debug)]
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(state, &parts.headers, &parts.extensions)))
    }
}

pub fn client_ip(state: &AppState, headers: &axum::http::HeaderMap, extensions: &axum::http::Extensions) -> String {
    if state.config.trust_proxy
        && let Some(forwarded) = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok())
        && let Some(first) = forwarded.split(',').next()
    {
        return first.trim().to_owned();
    }
    let peer = extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
    peer.unwrap_or_else(|| "unknown".into())
}
