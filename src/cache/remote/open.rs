//! Building the object_store client for a parsed URL from the provider's
//! standard environment (object_store's `from_env` builders): for S3 that is
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
//! `AWS_REGION`, `AWS_ENDPOINT_URL` (MinIO, Ceph RGW, R2, Garage, moto) and
//! `AWS_ALLOW_HTTP=true` for a plain-HTTP endpoint.

use super::url::{Provider, RemoteUrl};
use super::RemoteMode;
use anyhow::{Context, Result};
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::local::LocalFileSystem;
use object_store::ObjectStore;
use std::sync::Arc;

/// The store `url` names, configured from the environment.
pub fn store(url: &RemoteUrl, mode: RemoteMode) -> Result<Arc<dyn ObjectStore>> {
    install_tls_provider();
    let cannot = || format!("cannot open the remote cache {}", url.text);
    Ok(match &url.provider {
        Provider::S3 { bucket } => {
            let mut b = AmazonS3Builder::from_env().with_bucket_name(bucket);
            // object_store reads `AWS_ENDPOINT`; the AWS SDKs' name is
            // `AWS_ENDPOINT_URL`, which from_env maps too — set it
            // explicitly so either spelling works whatever the version.
            if let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL") {
                if !endpoint.is_empty() {
                    b = b.with_endpoint(endpoint);
                }
            }
            if std::env::var("AWS_REGION").is_err() && std::env::var("AWS_DEFAULT_REGION").is_err()
            {
                b = b.with_region("us-east-1");
            }
            Arc::new(b.build().with_context(cannot)?)
        }
        Provider::Gcs { bucket } => Arc::new(
            GoogleCloudStorageBuilder::from_env()
                .with_bucket_name(bucket)
                .build()
                .with_context(cannot)?,
        ),
        Provider::Azure { container } => Arc::new(
            MicrosoftAzureBuilder::from_env()
                .with_container_name(container)
                .build()
                .with_context(cannot)?,
        ),
        Provider::File { root } => {
            if mode.writes() {
                std::fs::create_dir_all(root).with_context(|| {
                    format!("cannot create the remote cache folder {}", root.display())
                })?;
            } else if !root.is_dir() {
                anyhow::bail!(
                    "the remote cache folder {} does not exist (in read mode kerros creates nothing)",
                    root.display()
                );
            }
            Arc::new(LocalFileSystem::new_with_prefix(root).with_context(cannot)?)
        }
    })
}

/// Make ring the process's TLS crypto provider: reqwest is built without a
/// bundled one (see Cargo.toml), and rustls needs exactly one installed
/// before the first HTTPS connection.
fn install_tls_provider() {
    // An error only means a provider is already installed, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
