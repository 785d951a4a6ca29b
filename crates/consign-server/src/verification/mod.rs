//! Verifying an uploaded object in storage before it is accepted: it
//! exists, its size is what was declared (or within the profile), its first
//! bytes show a type that agrees with the declared one and that the profile
//! allows, and its checksum matches when one was declared.

pub mod checksum;
pub mod sniff;

use crate::config::Profile;
use crate::db::UploadRecord;
use crate::storage::{StorageError, StorageTarget};

pub use checksum::ChecksumAlgorithm;

/// What verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing is stored under the key yet.
    Missing,
    /// The object is what was granted.
    Accepted(Findings),
    /// It is not.
    Rejected {
        /// Why.
        rejection: Rejection,
        /// What was found.
        findings: Findings,
    },
}

/// Why an object was refused: a stable kind (for metrics and clients) and
/// a reason for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// What kind of mismatch.
    pub kind: RejectionKind,
    /// What was found and what was expected.
    pub reason: String,
}

/// The kinds of rejection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RejectionKind {
    /// Not the declared size, or outside the profile's range.
    SizeMismatch,
    /// The content is another type than declared.
    TypeMismatch,
    /// The content's type is not allowed by the profile.
    TypeNotAllowed,
    /// The declared checksum does not match.
    ChecksumMismatch,
}

impl RejectionKind {
    /// The label used in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectionKind::SizeMismatch => "size_mismatch",
            RejectionKind::TypeMismatch => "type_mismatch",
            RejectionKind::TypeNotAllowed => "type_not_allowed",
            RejectionKind::ChecksumMismatch => "checksum_mismatch",
        }
    }
}

impl Rejection {
    /// A rejection of `kind` because of `reason`.
    pub fn new(kind: RejectionKind, reason: String) -> Self {
        Self { kind, reason }
    }
}

/// What was found about the object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    /// Its size.
    pub size: u64,
    /// Its ETag.
    pub etag: String,
    /// The type its first bytes show.
    pub detected_type: Option<String>,
}

/// Verifies the object at `record.staging_key`.
///
/// # Errors
/// When storage cannot be asked (a verdict needs an answer).
pub async fn verify(
    storage: &StorageTarget,
    record: &UploadRecord,
    profile: &Profile,
) -> Result<Verdict, StorageError> {
    let key = &record.staging_key;
    let Some(info) = storage.head_object(key).await? else {
        return Ok(Verdict::Missing);
    };
    let mut findings = Findings { size: info.size, etag: info.etag.clone(), detected_type: None };
    let reject = |rejection: Rejection, findings: Findings| Ok(Verdict::Rejected { rejection, findings });
    let size = |reason: String| Rejection::new(RejectionKind::SizeMismatch, reason);
    if let Some(declared) = record.declared_size {
        if info.size != declared {
            return reject(
                size(format!("the stored file is {} bytes, but {declared} were declared", info.size)),
                findings,
            );
        }
    } else if info.size < profile.min_size || info.size > profile.max_size {
        return reject(
            size(format!(
                "the stored file is {} bytes; this profile accepts {} to {} bytes",
                info.size, profile.min_size, profile.max_size
            )),
            findings,
        );
    }
    let prefix = storage.read_prefix(key, sniff::SNIFF_BYTES).await?;
    match sniff::check(&record.content_type, &prefix, profile) {
        Ok(detected) => findings.detected_type = detected.map(str::to_owned),
        Err(rejection) => return reject(rejection, findings),
    }
    if let (Some(algorithm), Some(expected)) = (&record.checksum_algorithm, &record.checksum) {
        let Some(algorithm) = ChecksumAlgorithm::parse(algorithm) else {
            let reason = format!("unknown checksum algorithm {algorithm:?}");
            return reject(Rejection::new(RejectionKind::ChecksumMismatch, reason), findings);
        };
        let actual = match algorithm.reported_by(&info) {
            Some(reported) => reported,
            None => algorithm.compute(storage.read_stream(key).await?).await?,
        };
        if &actual != expected {
            let reason =
                format!("the stored file's {} checksum is {actual}, but {expected} was declared", algorithm.name());
            return reject(Rejection::new(RejectionKind::ChecksumMismatch, reason), findings);
        }
    }
    Ok(Verdict::Accepted(findings))
}
