//! What clients see of an upload record.

use std::collections::BTreeMap;

use consign_sigv4::AmzDate;
use serde::Serialize;

use crate::db::{UploadRecord, UploadState};

/// The JSON shape of an upload.
#[derive(Debug, Clone, Serialize)]
pub struct UploadView {
    /// Its id.
    pub id: String,
    /// `pending`, `verifying`, `uploaded`, `rejected`, `aborted`, `expired`, `deleted`.
    pub state: UploadState,
    /// Why it was rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The profile.
    pub profile: String,
    /// `put`, `post` or `multipart`.
    pub method: String,
    /// Who it belongs to.
    pub subject: String,
    /// The filename the client gave.
    pub filename: String,
    /// The declared type.
    pub content_type: String,
    /// The type its content shows, once verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detected_type: Option<String>,
    /// Declared size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Size in storage, once verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored_size: Option<u64>,
    /// The bucket.
    pub bucket: String,
    /// Where the object is now (staging until verified, then final).
    pub key: String,
    /// The declared checksum.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum: Option<ChecksumView>,
    /// Metadata.
    pub metadata: BTreeMap<String, String>,
    /// Multipart details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multipart: Option<MultipartView>,
    /// ISO 8601.
    pub created_at: String,
    /// ISO 8601.
    pub updated_at: String,
    /// When a pending upload is cleaned up (ISO 8601).
    pub expires_at: String,
}

/// A declared checksum.
#[derive(Debug, Clone, Serialize)]
pub struct ChecksumView {
    /// `md5`, `sha256` or `crc32c`.
    pub algorithm: String,
    /// Base64.
    pub value: String,
}

/// Multipart details.
#[derive(Debug, Clone, Serialize)]
pub struct MultipartView {
    /// Storage's upload id.
    pub upload_id: String,
    /// Every part but the last has this size.
    pub part_size: u64,
    /// How many parts (0 when the size was not declared).
    pub part_count: u64,
}

fn iso(ms: i64) -> String {
    AmzDate::from_unix(ms.div_euclid(1000)).to_iso8601()
}

impl From<&UploadRecord> for UploadView {
    fn from(record: &UploadRecord) -> Self {
        Self {
            id: record.id.clone(),
            state: record.state,
            reason: record.reason.clone(),
            profile: record.profile.clone(),
            method: record.method.clone(),
            subject: record.subject.clone(),
            filename: record.filename.clone(),
            content_type: record.content_type.clone(),
            detected_type: record.detected_type.clone(),
            size: record.declared_size,
            stored_size: record.stored_size,
            bucket: record.bucket.clone(),
            key: record.current_key().to_owned(),
            checksum: record
                .checksum_algorithm
                .clone()
                .zip(record.checksum.clone())
                .map(|(algorithm, value)| ChecksumView { algorithm, value }),
            metadata: serde_json::from_str(&record.metadata).unwrap_or_default(),
            multipart: record.multipart_upload_id.clone().map(|upload_id| MultipartView {
                upload_id,
                part_size: record.part_size.unwrap_or(0),
                part_count: record.part_count.unwrap_or(0),
            }),
            created_at: iso(record.created_at),
            updated_at: iso(record.updated_at),
            expires_at: iso(record.expires_at),
        }
    }
}
