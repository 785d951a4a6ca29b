//! What a store is configured with: where data lives, its region, who may
//! do what, and its limits.

use std::path::PathBuf;
use std::time::Duration;

use consign_sigv4::SecretKey;

/// One access key and the buckets it may use.
#[derive(Debug, Clone)]
pub struct AccessKey {
    /// The access key ID.
    pub id: String,
    /// Its secret.
    pub secret: SecretKey,
    /// What it may do, bucket by bucket.
    pub grants: Vec<BucketGrant>,
}

/// Permission on one bucket (or on every bucket, `*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketGrant {
    /// A bucket name, or `*` for all.
    pub bucket: String,
    /// May list and read objects.
    pub read: bool,
    /// May write and delete objects (and, with `*`, create and delete
    /// buckets).
    pub write: bool,
}

impl AccessKey {
    /// A key that may read and write every bucket and create buckets.
    pub fn admin(id: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            secret: SecretKey::new(secret),
            grants: vec![BucketGrant { bucket: "*".to_owned(), read: true, write: true }],
        }
    }

    fn grant(&self, bucket: &str) -> impl Iterator<Item = &BucketGrant> {
        self.grants.iter().filter(move |g| g.bucket == "*" || g.bucket == bucket)
    }

    /// Whether the key may read `bucket`.
    pub fn can_read(&self, bucket: &str) -> bool {
        self.grant(bucket).any(|g| g.read)
    }

    /// Whether the key may write `bucket`.
    pub fn can_write(&self, bucket: &str) -> bool {
        self.grant(bucket).any(|g| g.write)
    }

    /// Whether the key may create and delete buckets.
    pub fn can_manage_buckets(&self) -> bool {
        self.grants.iter().any(|g| g.bucket == "*" && g.write)
    }
}

/// Limits that keep one client from taking the store down.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The largest object accepted (S3: 5 GiB for one PUT).
    pub max_object_size: u64,
    /// The largest part accepted.
    pub max_part_size: u64,
    /// The largest request head (request line and headers) accepted.
    pub max_header_bytes: usize,
    /// The largest XML request body accepted.
    pub max_xml_body: usize,
    /// The largest POST form field other than the file.
    pub max_form_field_bytes: usize,
    /// A connection that sends nothing for this long is closed.
    pub idle_timeout: Duration,
    /// Requests per second allowed from one client address (0: no limit).
    pub requests_per_second: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_object_size: 5 * 1024 * 1024 * 1024,
            max_part_size: 5 * 1024 * 1024 * 1024,
            max_header_bytes: 16 * 1024,
            max_xml_body: 1024 * 1024,
            max_form_field_bytes: 20 * 1024,
            idle_timeout: Duration::from_secs(60),
            requests_per_second: 0,
        }
    }
}

/// How a store is set up.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Where buckets, objects and uploads live.
    pub data_dir: PathBuf,
    /// The region signatures must be scoped to.
    pub region: String,
    /// Who may use the store.
    pub access_keys: Vec<AccessKey>,
    /// Host names under which `bucket.<host>` addresses a bucket
    /// (virtual-hosted style), such as `localhost` or `s3.example.com`.
    pub virtual_host_suffixes: Vec<String>,
    /// When a bucket has no CORS configuration, answer every origin (for
    /// local development). Off: such buckets refuse cross-origin requests.
    pub permissive_cors_default: bool,
    /// Limits.
    pub limits: Limits,
}

impl StoreConfig {
    /// A configuration for `data_dir` in `region` with no access keys yet.
    pub fn new(data_dir: impl Into<PathBuf>, region: impl Into<String>) -> Self {
        Self {
            data_dir: data_dir.into(),
            region: region.into(),
            access_keys: Vec::new(),
            virtual_host_suffixes: vec!["localhost".to_owned()],
            permissive_cors_default: true,
            limits: Limits::default(),
        }
    }

    /// Adds an access key.
    pub fn with_access_key(mut self, key: AccessKey) -> Self {
        self.access_keys.push(key);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_are_per_bucket() {
        let key = AccessKey {
            id: "k".into(),
            secret: SecretKey::new("s"),
            grants: vec![
                BucketGrant { bucket: "uploads".into(), read: false, write: true },
                BucketGrant { bucket: "public".into(), read: true, write: false },
            ],
        };
        assert!(key.can_write("uploads") && !key.can_read("uploads"));
        assert!(key.can_read("public") && !key.can_write("public"));
        assert!(!key.can_read("other") && !key.can_manage_buckets());
        assert!(AccessKey::admin("a", "b").can_manage_buckets());
    }
}
