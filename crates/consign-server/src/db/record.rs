//! An upload as the database keeps it.

use serde::Serialize;

/// Where an upload is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UploadState {
    /// Granted; bytes may be on their way.
    Pending,
    /// One server is checking the object (leased).
    Verifying,
    /// Verified and in its final place.
    Uploaded,
    /// Verification failed; the object was removed.
    Rejected,
    /// The client or backend gave up; what storage held was removed.
    Aborted,
    /// The grant ran out while pending; the reaper removed what storage held.
    Expired,
    /// It was uploaded, then deleted on request.
    Deleted,
}

impl UploadState {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            UploadState::Pending => "pending",
            UploadState::Verifying => "verifying",
            UploadState::Uploaded => "uploaded",
            UploadState::Rejected => "rejected",
            UploadState::Aborted => "aborted",
            UploadState::Expired => "expired",
            UploadState::Deleted => "deleted",
        }
    }

    /// Reads a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "pending" => UploadState::Pending,
            "verifying" => UploadState::Verifying,
            "uploaded" => UploadState::Uploaded,
            "rejected" => UploadState::Rejected,
            "aborted" => UploadState::Aborted,
            "expired" => UploadState::Expired,
            "deleted" => UploadState::Deleted,
            _ => return None,
        })
    }

    /// Whether nothing more will happen to the upload.
    pub fn is_final(self) -> bool {
        !matches!(self, UploadState::Pending | UploadState::Verifying)
    }
}

/// One upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRecord {
    /// A UUID.
    pub id: String,
    /// Who asked for it.
    pub subject: String,
    /// The profile it was checked against.
    pub profile: String,
    /// `put`, `post` or `multipart`.
    pub method: String,
    /// Its state.
    pub state: UploadState,
    /// The filename the client gave (for display only).
    pub filename: String,
    /// The declared content type.
    pub content_type: String,
    /// The declared size, when the client declared one.
    pub declared_size: Option<u64>,
    /// `md5`, `sha256` or `crc32c`, when a checksum was declared.
    pub checksum_algorithm: Option<String>,
    /// The declared checksum, base64.
    pub checksum: Option<String>,
    /// Metadata, a JSON object of strings.
    pub metadata: String,
    /// The bucket.
    pub bucket: String,
    /// Where the bytes are uploaded to.
    pub staging_key: String,
    /// Where they go once verified.
    pub final_key: String,
    /// The multipart upload id, for multipart uploads.
    pub multipart_upload_id: Option<String>,
    /// Part size of a multipart upload.
    pub part_size: Option<u64>,
    /// Part count of a multipart upload (when the size is known).
    pub part_count: Option<u64>,
    /// Unix milliseconds.
    pub created_at: i64,
    /// After this the reaper may clean up a pending upload.
    pub expires_at: i64,
    /// Last change.
    pub updated_at: i64,
    /// A verification or cleanup in progress holds the row until then.
    pub lease_until: Option<i64>,
    /// The size found in storage.
    pub stored_size: Option<u64>,
    /// The type the first bytes show.
    pub detected_type: Option<String>,
    /// The stored object's ETag.
    pub etag: Option<String>,
    /// Why it was rejected, for people.
    pub reason: Option<String>,
    /// Completed by the server once the object appears (clients that never
    /// call complete, such as Uppy's single-request uploads).
    pub auto_complete: bool,
}

impl UploadRecord {
    /// This record as [`super::Database::transition`] leaves it in `state`
    /// (no lease).
    pub fn moved(mut self, state: UploadState, now: i64) -> Self {
        self.state = state;
        self.lease_until = None;
        self.updated_at = now;
        self
    }

    /// This record as [`super::Database::finish`] leaves it.
    pub fn finished(self, state: UploadState, outcome: &super::Outcome<'_>, now: i64) -> Self {
        let mut record = self.moved(state, now);
        record.reason = outcome.reason.map(str::to_owned);
        record.stored_size = outcome.stored_size;
        record.detected_type = outcome.detected_type.map(str::to_owned);
        record.etag = outcome.etag.map(str::to_owned);
        record
    }

    /// The key the object has now: final once uploaded, staging before.
    pub fn current_key(&self) -> &str {
        if self.state == UploadState::Uploaded { &self.final_key } else { &self.staging_key }
    }
}
