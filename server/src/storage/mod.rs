//! Attachments and scanned licences through a `BlobStore`: a local directory by default. Uploads are
//! size-limited and their type is sniffed from the bytes, never trusted from the client.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{Datelike, Utc};
use sha2::Digest;

use crate::config::Config;
use crate::db::{Tx, q};
use crate::error::AppError;

#[async_trait]
pub trait BlobStore: Send + Sync {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> anyhow::Result<()>;
    async fn get(&self, key: &str) -> anyhow::Result<Vec<u8>>;
    async fn delete(&self, key: &str) -> anyhow::Result<()>;
}

pub struct LocalDir {
    root: PathBuf,
}

impl LocalDir {
    pub fn new(root: PathBuf) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&root)?;
        Ok(LocalDir { root })
    }

    fn path(&self, key: &str) -> anyhow::Result<PathBuf> {
        if key.split('/').any(|part| part.is_empty() || part == "." || part == "..") {
            anyhow::bail!("invalid blob key {key:?}");
        }
        Ok(self.root.join(key))
    }
}

#[async_trait]
impl BlobStore for LocalDir {
    async fn put(&self, key: &str, bytes: Vec<u8>, _content_type: &str) -> anyhow::Result<()> {
        let path = self.path(key)?;
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        // Write then rename, so a crash never leaves half a file under the final name.
        let tmp = path.with_extension("part");
        tokio::fs::write(&tmp, bytes).await?;
        tokio::fs::rename(&tmp, &path).await?;
        Ok(())
    }

    async fn get(&self, key: &str) -> anyhow::Result<Vec<u8>> {
        Ok(tokio::fs::read(self.path(key)?).await?)
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}

pub async fn from_config(config: &Config) -> anyhow::Result<Arc<dyn BlobStore>> {
    match config.storage.backend.as_str() {
        "local" => Ok(Arc::new(LocalDir::new(config.blob_dir())?)),
        other => anyhow::bail!("storage backend {other:?} is not available (use \"local\")"),
    }
}

/// File kinds accepted for scans and proofs.
pub const DOCUMENT_TYPES: &[&str] = &["application/pdf", "image/jpeg", "image/png", "application/zip"];

/// Sniffs, stores and records an upload; returns the blob id. The row is written in `tx`, the bytes
/// before it: if the transaction rolls back, an unreferenced file is left for cleanup, never a row
/// without its file.
pub async fn store_upload(
    blobs: &dyn BlobStore,
    tx: &mut Tx,
    tenant: &str,
    filename: &str,
    bytes: Vec<u8>,
    allowed: &[&str],
    limit_mb: u64,
) -> Result<i64, AppError> {
    if bytes.is_empty() {
        return Err(AppError::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, "empty_file", "上传的文件是空的"));
    }
    if bytes.len() as u64 > limit_mb * 1024 * 1024 {
        return Err(AppError::new(axum::http::StatusCode::PAYLOAD_TOO_LARGE, "too_large", format!("文件不能超过 {limit_mb} MB")));
    }
    let content_type = infer::get(&bytes).map(|t| t.mime_type()).unwrap_or("application/octet-stream");
    if !allowed.contains(&content_type) {
        return Err(AppError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "bad_file_type",
            "文件类型不受支持，请上传 PDF、JPG、PNG 或 ZIP 文件",
        ));
    }
    let sha = hex::encode(sha2::Sha256::digest(&bytes));
    let now = Utc::now();
    let (token, _) = crate::auth::password::new_token();
    let key = format!("{tenant}/{}/{:02}/{token}", now.year(), now.month());
    let size = bytes.len() as i64;
    blobs.put(&key, bytes, content_type).await?;
    let name: String = filename.chars().filter(|c| !c.is_control() && *c != '/' && *c != '\\').take(200).collect();
    let id = tx
        .scalar(
            q("INSERT INTO blobs (tenant_id, storage_key, filename, content_type, size, sha256, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
            .bind(tenant)
            .bind(key)
            .bind(if name.is_empty() { "file".to_owned() } else { name })
            .bind(content_type)
            .bind(size)
            .bind(sha)
            .bind(now),
        )
        .await?;
    Ok(id)
}
