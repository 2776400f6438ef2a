//! Attachments and scanned licences through a `BlobStore`: a local directory by default, or an
//! S3-compatible object store (MinIO, Ceph, OSS, COS, AWS) that several server processes can share.
//! Uploads are size-limited and their type is sniffed from the bytes, never trusted from the client.

mod local;
mod s3;

pub use local::LocalDir;
pub use s3::S3Bucket;

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

pub async fn from_config(config: &Config) -> anyhow::Result<Arc<dyn BlobStore>> {
    match config.storage.backend.as_str() {
        "local" => Ok(Arc::new(LocalDir::new(config.blob_dir())?)),
        "s3" => Ok(Arc::new(S3Bucket::connect(&config.storage).await?)),
        other => anyhow::bail!("storage backend {other:?} is not available (use \"local\" or \"s3\")"),
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
