//! Attachments and scanned licences through a `BlobStore`: a local directory by default, or an
//! S3-compatible object store (MinIO, Ceph, OSS, COS, AWS) that several server processes can share.
//! Uploads are size-limited and their type is sniffed from the bytes, never trusted from the client.

mod local;
mod s3;
pub mod upload;

pub use local::LocalDir;
pub use s3::S3Bucket;

use std::sync::Arc;

use async_trait::async_trait;

use crate::config::Config;

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

/// File kinds accepted for scans (licences): sniffed MIME type and the name users know it by.
pub const DOCUMENT_TYPES: &[(&str, &str)] =
    &[("application/pdf", "PDF"), ("image/jpeg", "JPG"), ("image/png", "PNG"), ("application/zip", "ZIP")];

/// File kinds accepted as proof of an activity: scans plus office documents.
pub const ATTACHMENT_TYPES: &[(&str, &str)] = &[
    ("application/pdf", "PDF"),
    ("image/jpeg", "JPG"),
    ("image/png", "PNG"),
    ("application/zip", "ZIP"),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "DOCX"),
    ("application/msword", "DOC"),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX"),
    ("application/vnd.ms-excel", "XLS"),
];
