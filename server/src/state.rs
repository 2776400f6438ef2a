//! The application state every handler and worker shares: configuration, the database, tenants,
//! casbin, templates, blobs, mail, the rule plugins and the registered job and request kinds; and the
//! request facts extracted from it (the tenant, the client's address).

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
use crate::web::Templates;

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
    /// The background job kinds the workers run (`crate::kinds`).
    pub job_kinds: crate::jobs::Registry,
    /// The request kinds the approval engine decides (`crate::kinds`).
    pub request_kinds: crate::approvals::Registry,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Connects, migrates, syncs tenants if configured and loads everything requests need.
    pub async fn build(config: Config) -> anyhow::Result<AppState> {
        std::fs::create_dir_all(&config.data_dir)?;
        let db = Db::connect(&config.database_url()).await?;
        db.migrate().await?;
        if config.sync_tenants {
            crate::tenancy::sync::sync_dir(&db, &config.tenants_dir).await?;
        }
        if config.demo {
            crate::demo::load_if_empty(&db).await?;
        }
        Self::from_db(config, db).await
    }

    pub async fn from_db(config: Config, db: Db) -> anyhow::Result<AppState> {
        crate::observability::recorder();
        let tenants = Tenants::load(&db).await?;
        let rbac = Rbac::load(tenants.all().iter().map(|t| t.policy.as_str()).collect::<Vec<_>>()).await?;
        let templates = Templates::load(&config.tenants_dir, &tenants)?;
        let blobs = crate::storage::from_config(&config).await?;
        let mailer = Mailer::from_config(&config)?;
        let host = crate::rules::Host::from_config(&config).map_err(|e| anyhow::anyhow!("{e}"))?;
        let rules = crate::rules::Rules::new(host, &config.tenants_dir, &config.plugins_dir);
        Ok(AppState(Arc::new(Inner {
            config,
            db,
            tenants,
            rbac,
            templates,
            blobs,
            mailer,
            rules,
            job_kinds: crate::kinds::jobs(),
            request_kinds: crate::kinds::requests(),
        })))
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
