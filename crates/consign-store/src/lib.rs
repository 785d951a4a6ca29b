//! An embedded S3-compatible object store that verifies every SigV4
//! signature and enforces every policy.
//!
//! It is the receiving end of every grant Consign signs, and the store
//! people run offline instead of a cloud account: real S3 clients (the AWS
//! SDKs, botocore, the AWS CLI, browsers posting forms) work against it
//! unchanged.
//!
//! - [`storage`]: buckets and objects on disk, with atomic publication.
//! - [`s3`]: the S3 REST surface, one module per operation family.
//! - [`body`]: streaming request bodies, aws-chunked decoding and checksums.
//! - [`server`]: the HTTP listener, limits and graceful shutdown.

pub mod body;
pub mod config;
mod rate_limit;
pub mod s3;
pub mod server;
pub mod storage;

use std::collections::HashMap;
use std::io;
use std::sync::Arc;

use consign_sigv4::Verifier;

pub use config::{AccessKey, BucketGrant, Limits, StoreConfig};
pub use server::serve;

/// A store: its configuration, its data directory and its verifier.
#[derive(Debug)]
pub struct Store {
    config: StoreConfig,
    storage: Arc<storage::Storage>,
    verifier: Verifier,
    keys: HashMap<String, AccessKey>,
    rate_limit: rate_limit::RateLimiter,
}

impl Store {
    /// Opens the data directory of `config` (creating it, cleaning up what
    /// a crash left, indexing every object).
    ///
    /// # Errors
    /// I/O errors naming the path.
    pub fn open(config: StoreConfig) -> io::Result<Self> {
        let storage = Arc::new(storage::Storage::open(&config.data_dir)?);
        let keys = config.access_keys.iter().map(|k| (k.id.clone(), k.clone())).collect();
        Ok(Self {
            verifier: Verifier::s3(config.region.clone()),
            rate_limit: rate_limit::RateLimiter::new(config.limits.requests_per_second),
            config,
            storage,
            keys,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// The data directory.
    pub fn storage(&self) -> &Arc<storage::Storage> {
        &self.storage
    }

    /// The access key `id`, if configured.
    pub fn access_key(&self, id: &str) -> Option<&AccessKey> {
        self.keys.get(id)
    }
}
