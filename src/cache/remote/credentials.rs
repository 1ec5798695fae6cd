//! Checking, before any request, that the provider's environment names some
//! credentials: without any, object_store would fall back to a cloud VM's
//! metadata service, which on a laptop or CI runner only times out after a
//! long wait. Only variable *names* are ever reported, never their values.

use super::url::Provider;
use anyhow::{bail, Result};

/// Set to `true` to let a remote cache on a cloud VM use the instance's own
/// identity (EC2 instance profile, GCE service account, Azure managed
/// identity) through the metadata service.
pub const INSTANCE_CREDENTIALS_ENV: &str = "KERROS_REMOTE_CACHE_INSTANCE_CREDENTIALS";

/// Ways to authenticate to one provider, each a set of variables that must
/// all be set (non-empty).
fn accepted(provider: &Provider) -> &'static [&'static [&'static str]] {
    match provider {
        Provider::S3 { .. } => &[
            &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
            &["AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"],
            &["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"],
            &["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
            &["AWS_SKIP_SIGNATURE"],
        ],
        Provider::Gcs { .. } => &[
            &["GOOGLE_SERVICE_ACCOUNT"],
            &["GOOGLE_SERVICE_ACCOUNT_PATH"],
            &["GOOGLE_SERVICE_ACCOUNT_KEY"],
            &["GOOGLE_APPLICATION_CREDENTIALS"],
            &["GOOGLE_SKIP_SIGNATURE"],
        ],
        Provider::Azure { .. } => &[
            &["AZURE_STORAGE_ACCOUNT_NAME", "AZURE_STORAGE_ACCOUNT_KEY"],
            &["AZURE_STORAGE_ACCOUNT_NAME", "AZURE_STORAGE_ACCESS_KEY"],
            &["AZURE_STORAGE_ACCOUNT_NAME", "AZURE_STORAGE_SAS_KEY"],
            &["AZURE_STORAGE_ACCOUNT_NAME", "AZURE_STORAGE_TOKEN"],
            &[
                "AZURE_STORAGE_ACCOUNT_NAME",
                "AZURE_CLIENT_ID",
                "AZURE_CLIENT_SECRET",
                "AZURE_TENANT_ID",
            ],
            &["AZURE_STORAGE_ACCOUNT_NAME", "AZURE_FEDERATED_TOKEN_FILE"],
            &["AZURE_STORAGE_USE_EMULATOR"],
            &["AZURE_STORAGE_ACCOUNT_NAME", "AZURE_SKIP_SIGNATURE"],
        ],
        Provider::File { .. } => &[],
    }
}

fn is_set(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty())
}

/// Google's application default credentials written by
/// `gcloud auth application-default login`.
fn gcloud_default_credentials() -> bool {
    dirs::config_dir()
        .map(|d| d.join("gcloud/application_default_credentials.json"))
        .is_some_and(|p| p.is_file())
}

/// Ok when `provider` needs no credentials or its environment holds a
/// complete set; otherwise an error listing the variables to set.
pub fn check(provider: &Provider, url: &str) -> Result<()> {
    let ways = accepted(provider);
    if ways.is_empty()
        || is_set(INSTANCE_CREDENTIALS_ENV)
        || ways.iter().any(|vars| vars.iter().all(|v| is_set(v)))
        || (matches!(provider, Provider::Gcs { .. }) && gcloud_default_credentials())
    {
        return Ok(());
    }
    let options: Vec<String> = ways.iter().map(|vars| vars.join(" + ")).collect();
    bail!(
        "no credentials for the remote cache {url}: set one of: {}; on a cloud VM with its own identity, set {INSTANCE_CREDENTIALS_ENV}=true instead",
        options.join("; ")
    )
}
