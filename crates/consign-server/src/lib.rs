//! The Consign grant service.
//!
//! An application's frontend asks for permission to upload; Consign checks
//! the request against an upload profile, signs a grant (a presigned PUT, a
//! POST form or multipart part URLs) for the storage target, records the
//! upload, and once the bytes are in storage verifies them (size, checksum,
//! magic-number type) before moving them to their final key.
//!
//! - [`config`]: the TOML configuration and upload profiles.
//! - [`storage`]: the storage target, an S3 client signed with `consign-sigv4`.
//! - [`db`]: the uploads database (SQLite or PostgreSQL through `sqlx`).
//! - [`auth`]: API keys and upload tokens.
//! - [`uploads`]: create, sign parts, complete, abort: shared by every route.
//! - [`verification`]: what an uploaded object must be to be accepted.
//! - [`api`]: the HTTP routes (`/v1`, the Uppy-compatible `/s3`, health, metrics).
//! - [`reaper`]: cleans up uploads whose grants expired.
//! - [`server`]: starts all of it, with the embedded store when no external one is configured.

pub mod api;
pub mod auth;
pub mod auto_complete;
pub mod config;
pub mod db;
pub mod metrics;
mod periodic;
pub mod reaper;
pub mod server;
pub mod storage;
pub mod uploads;
pub mod verification;

use std::collections::BTreeMap;

pub use server::{Running, start};

/// Everything a request handler needs: shared by all routes, immutable but
/// for the database and the metrics.
#[derive(Debug)]
pub struct App {
    /// Upload profiles by name.
    pub profiles: BTreeMap<String, config::Profile>,
    /// Where bytes go.
    pub storage: storage::StorageTarget,
    /// The uploads database.
    pub db: db::Database,
    /// API keys and the token secret.
    pub auth: auth::Authenticator,
    /// Counters and histograms.
    pub metrics: metrics::Metrics,
    /// Pending uploads one subject may have.
    pub max_pending_per_subject: u64,
    /// The profile of the Uppy routes.
    pub uppy_profile: String,
    /// Origins allowed to call the API from browsers.
    pub cors_origins: Vec<String>,
    /// Whether `POST /v1/dev/token` hands out demo tokens (only with the
    /// development token secret, which anyone can sign with anyway).
    pub dev_tokens: bool,
}
