//! Blobs as objects in one bucket of an S3-compatible store, shared by every server process.

use async_trait::async_trait;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::Client;
use aws_sdk_s3::config::Credentials;
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

use super::BlobStore;
use crate::config::StorageConfig;

pub struct S3Bucket {
    client: Client,
    bucket: String,
}

impl S3Bucket {
    /// Builds the client from the `storage.s3_*` keys and, if configured, creates the bucket.
    pub async fn connect(config: &StorageConfig) -> anyhow::Result<S3Bucket> {
        anyhow::ensure!(!config.s3_bucket.is_empty(), "storage.s3_bucket is empty");
        // Ring, like every other TLS client in the server: one rustls crypto provider per process.
        let http = aws_smithy_http_client::Builder::new().tls_provider(tls::Provider::Rustls(CryptoMode::Ring)).build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http).region(Region::new(config.s3_region.clone()));
        if !config.s3_access_key.is_empty() {
            loader = loader.credentials_provider(Credentials::new(
                config.s3_access_key.clone(),
                config.s3_secret_key.clone(),
                None,
                None,
                "jijiao-config",
            ));
        }
        if !config.s3_endpoint.is_empty() {
            loader = loader.endpoint_url(&config.s3_endpoint);
        }
        let shared = loader.load().await;
        let s3_config = aws_sdk_s3::config::Builder::from(&shared).force_path_style(config.s3_path_style).build();
        let store = S3Bucket { client: Client::from_conf(s3_config), bucket: config.s3_bucket.clone() };
        if config.s3_create_bucket {
            store.ensure_bucket(&config.s3_region).await?;
        }
        Ok(store)
    }

    async fn ensure_bucket(&self, region: &str) -> anyhow::Result<()> {
        let head = self.client.head_bucket().bucket(&self.bucket).send().await;
        match head {
            Ok(_) => return Ok(()),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => {}
            Err(err) => anyhow::bail!("S3 bucket {:?} is not reachable: {}", self.bucket, DisplayErrorContext(&err)),
        }
        let mut create = self.client.create_bucket().bucket(&self.bucket);
        // us-east-1 is the one region that refuses an explicit location constraint.
        if region != "us-east-1" {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::from(region)).build(),
            );
        }
        match create.send().await {
            Ok(_) => {
                tracing::info!(bucket = %self.bucket, "created S3 bucket");
                Ok(())
            }
            // Another server process starting at the same time created it first.
            Err(err) if err.as_service_error().is_some_and(|e| e.is_bucket_already_owned_by_you()) => Ok(()),
            Err(err) => anyhow::bail!("cannot create S3 bucket {:?}: {}", self.bucket, DisplayErrorContext(&err)),
        }
    }
}

#[async_trait]
impl BlobStore for S3Bucket {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> anyhow::Result<()> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|err| anyhow::anyhow!("S3 put {key}: {}", DisplayErrorContext(&err)))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> anyhow::Result<Vec<u8>> {
        let object = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|err| anyhow::anyhow!("S3 get {key}: {}", DisplayErrorContext(&err)))?;
        Ok(object.body.collect().await?.into_bytes().to_vec())
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|err| anyhow::anyhow!("S3 delete {key}: {}", DisplayErrorContext(&err)))?;
        Ok(())
    }
}
