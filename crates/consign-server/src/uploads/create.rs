//! `POST /v1/uploads` (and the Uppy routes that start uploads): check a
//! request against its profile and the caller, choose the key and method,
//! grant, record.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use consign_sigv4::AmzDate;
use serde::Deserialize;

use super::grant::{self, Grant, GrantInputs};
use super::now_ms;
use crate::App;
use crate::api::ApiError;
use crate::auth::Caller;
use crate::config::{ByteSize, ChecksumPolicy, KeyInputs, Profile, UploadMethod, is_token, multipart_limits};
use crate::db::{UploadRecord, UploadState};
use crate::verification::ChecksumAlgorithm;

/// The longest filename accepted, in bytes.
pub const MAX_FILENAME_BYTES: usize = 255;
/// The most user metadata S3 stores, in bytes of names and values.
const MAX_METADATA_BYTES: usize = 2048;

/// What a client asks for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUpload {
    /// The profile to check against.
    pub profile: String,
    /// The file's name (display only; never a path).
    pub filename: String,
    /// Its declared type.
    pub content_type: String,
    /// Its size in bytes; `None` only from the Uppy POST route, where the
    /// profile's range is enforced instead.
    pub size: Option<u64>,
    /// A checksum the stored bytes must match.
    #[serde(default)]
    pub checksum: Option<ChecksumInput>,
    /// Metadata the profile allows.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// The preferred method.
    #[serde(default)]
    pub method: Option<UploadMethod>,
    /// Who the upload is for (the backend only; a token names its own subject).
    #[serde(default)]
    pub subject: Option<String>,
    /// Set by the Uppy routes: complete as soon as the object appears.
    #[serde(skip)]
    pub auto_complete: bool,
}

/// A declared checksum.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecksumInput {
    /// `md5`, `sha256` or `crc32c`.
    pub algorithm: String,
    /// The digest, base64.
    pub value: String,
}

/// A recorded upload and its grant.
#[derive(Debug, Clone)]
pub struct Created {
    /// The record.
    pub record: UploadRecord,
    /// The grant.
    pub grant: Grant,
}

impl App {
    /// The profile `name`, if the caller may use it.
    ///
    /// # Errors
    /// 400 for an unknown profile (naming the known ones), 403 for one the
    /// caller's token does not grant.
    pub fn profile_for(&self, name: &str, caller: &Caller) -> Result<&Profile, ApiError> {
        let profile = self.profiles.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.profiles.keys().map(String::as_str).collect();
            ApiError::bad_request(
                "unknown_profile",
                format!("profile {name:?} does not exist; known profiles: {}", known.join(", ")),
            )
        })?;
        if !caller.may_use_profile(name) {
            return Err(ApiError::forbidden(
                "profile_not_granted",
                format!("this upload token does not grant the profile {name:?}"),
            ));
        }
        Ok(profile)
    }

    /// Checks, grants and records an upload.
    ///
    /// # Errors
    /// A 4xx saying what to fix; 5xx when storage or the database fail.
    pub async fn create_upload(&self, caller: &Caller, request: CreateUpload) -> Result<Created, ApiError> {
        let profile = self.profile_for(&request.profile, caller)?;
        check_filename(&request.filename)?;
        let content_type = check_content_type(&request.content_type, profile)?;
        if let Some(size) = request.size {
            check_size(size, profile)?;
        }
        let method = choose_method(request.method, request.size, profile)?;
        let checksum = check_checksum(request.checksum.as_ref(), profile)?;
        let metadata = check_metadata(&request.metadata, profile)?;
        let subject = match (&request.subject, caller.is_backend()) {
            (Some(subject), true) => check_subject(subject)?,
            (Some(_), false) => {
                return Err(ApiError::forbidden(
                    "subject_not_allowed",
                    "only the backend may name the subject; a token names its own",
                ));
            }
            (None, _) => caller.subject.clone(),
        };
        self.check_limits(caller, &subject, request.size).await?;

        let now = SystemTime::now();
        let now_ms = now_ms();
        // Time-ordered (v7): new rows append to the id index instead of dirtying a random page each.
        let id = uuid::Uuid::now_v7().to_string();
        let prefix = [profile.prefix.as_str(), caller.prefix().unwrap_or_default().trim_matches('/')]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("/");
        let stamp = AmzDate::from_system_time(now);
        let relative = profile.key_template.render(&KeyInputs {
            prefix: &prefix,
            uuid: &id,
            filename: &request.filename,
            subject: &subject,
            now: &stamp,
        });
        let join = |base: &str| if base.is_empty() { relative.clone() } else { format!("{base}/{relative}") };
        let staging_key = join(&profile.staging_prefix);
        let final_key = join(&profile.final_prefix);

        let inputs = GrantInputs {
            key: &staging_key,
            content_type: &content_type,
            size: request.size,
            size_range: (profile.min_size, profile.max_size),
            checksum: checksum.as_ref().filter(|_| method == UploadMethod::Put).map(|(a, v)| (a.header(), v.as_str())),
            metadata: &metadata,
            ttl: profile.grant_ttl,
        };
        let (grant, upload_id, part_size, part_count) = match method {
            UploadMethod::Put => (grant::put(&self.storage, &inputs, now)?, None, None, None),
            UploadMethod::Post => (grant::post(&self.storage, &inputs, now)?, None, None, None),
            UploadMethod::Multipart => {
                let meta_headers: Vec<(String, &str)> =
                    metadata.iter().map(|(n, v)| (format!("x-amz-meta-{n}"), v.as_str())).collect();
                let mut headers: Vec<(&str, &str)> = vec![("content-type", &content_type)];
                headers.extend(meta_headers.iter().map(|(n, v)| (n.as_str(), *v)));
                let upload_id = self.storage.create_multipart(&staging_key, &headers).await?;
                let part_size = profile.part_size_for(request.size.unwrap_or(profile.max_size));
                let part_count = request.size.map(|s| s.div_ceil(part_size).max(1));
                let grant =
                    Grant::Multipart { upload_id: upload_id.clone(), part_size, part_count: part_count.unwrap_or(0) };
                (grant, Some(upload_id), Some(part_size), part_count)
            }
        };
        let ttl_ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        let record = UploadRecord {
            id,
            subject,
            profile: profile.name.clone(),
            method: method.as_str().to_owned(),
            state: UploadState::Pending,
            filename: request.filename,
            content_type,
            declared_size: request.size,
            checksum_algorithm: checksum.as_ref().map(|(a, _)| a.name().to_owned()),
            checksum: checksum.map(|(_, v)| v),
            metadata: serde_json::to_string(&metadata).unwrap_or_else(|_| "{}".into()),
            bucket: self.storage.bucket().to_owned(),
            staging_key,
            final_key,
            multipart_upload_id: upload_id.clone(),
            part_size,
            part_count,
            created_at: now_ms,
            expires_at: now_ms.saturating_add(ttl_ms(profile.pending_ttl)),
            updated_at: now_ms,
            lease_until: None,
            stored_size: None,
            detected_type: None,
            etag: None,
            reason: None,
            auto_complete: request.auto_complete,
        };
        if let Err(error) = self.db.insert(&record).await {
            if let Some(upload_id) = &upload_id {
                // Nothing records this multipart upload: do not leave it behind.
                let _ = self.storage.abort_multipart(&record.staging_key, upload_id).await;
            }
            return Err(error.into());
        }
        self.metrics.grant(method);
        tracing::debug!(id = %record.id, profile = %record.profile, method = method.as_str(), subject = %record.subject, "upload granted");
        Ok(Created { record, grant })
    }

    /// Per-subject limits apply to token holders (browsers); the backend
    /// is trusted to limit its own users.
    async fn check_limits(&self, caller: &Caller, subject: &str, size: Option<u64>) -> Result<(), ApiError> {
        if caller.is_backend() {
            return Ok(());
        }
        let usage = self.db.usage(subject, caller.quota().is_some()).await?;
        if usage.pending >= self.max_pending_per_subject {
            return Err(ApiError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "too_many_pending",
                format!(
                    "{subject} already has {} uploads pending (the limit is {}); complete or abort some first",
                    usage.pending, self.max_pending_per_subject
                ),
            ));
        }
        if let Some(quota) = caller.quota() {
            let wanted = usage.bytes.saturating_add(size.unwrap_or(0));
            if wanted > quota {
                return Err(ApiError::forbidden(
                    "quota_exceeded",
                    format!("this upload would bring {subject} to {} of a {} quota", ByteSize(wanted), ByteSize(quota)),
                ));
            }
        }
        Ok(())
    }
}

fn check_filename(filename: &str) -> Result<(), ApiError> {
    let bad = |why: String| Err(ApiError::bad_request("invalid_filename", why));
    if filename.is_empty() {
        return bad("filename must not be empty".into());
    }
    if filename.len() > MAX_FILENAME_BYTES {
        return bad(format!("filename is {} bytes; at most {MAX_FILENAME_BYTES} are accepted", filename.len()));
    }
    if filename.chars().any(char::is_control) {
        return bad("filename must not contain control characters".into());
    }
    if filename.contains(['/', '\\']) || filename == "." || filename == ".." {
        return bad("filename must be a plain file name, without / or \\ or a .. path".into());
    }
    Ok(())
}

/// The declared type, lower case, checked against the profile.
fn check_content_type(declared: &str, profile: &Profile) -> Result<String, ApiError> {
    let lower = declared.trim().to_ascii_lowercase();
    let valid = lower.split_once('/').is_some_and(|(kind, subtype)| is_token(kind) && is_token(subtype));
    if !valid {
        return Err(ApiError::bad_request(
            "invalid_content_type",
            format!("content_type {declared:?} must be a media type such as image/png, without parameters"),
        ));
    }
    if !profile.allows_type(&lower) {
        return Err(ApiError::bad_request(
            "type_not_allowed",
            format!("{lower} is not allowed here: expected {}", profile.allowed_types()),
        ));
    }
    Ok(lower)
}

fn check_size(size: u64, profile: &Profile) -> Result<(), ApiError> {
    if size < profile.min_size {
        return Err(ApiError::bad_request(
            "file_too_small",
            if size == 0 {
                "the file is empty; this profile needs at least 1 byte".to_owned()
            } else {
                format!("file is {}, the minimum is {}", ByteSize(size), ByteSize(profile.min_size))
            },
        ));
    }
    if size > profile.max_size {
        return Err(ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "file_too_large",
            format!("file is {}, the limit is {}", ByteSize(size), ByteSize(profile.max_size)),
        ));
    }
    Ok(())
}

/// The method: the one asked for if the profile allows it; otherwise
/// multipart for large files, else the profile's first single-request method.
fn choose_method(wanted: Option<UploadMethod>, size: Option<u64>, profile: &Profile) -> Result<UploadMethod, ApiError> {
    let single_request_fits = size.is_none_or(|s| s <= multipart_limits::MAX_PART_SIZE);
    if let Some(method) = wanted {
        if !profile.methods.contains(&method) {
            let allowed: Vec<&str> = profile.methods.iter().map(|m| m.as_str()).collect();
            return Err(ApiError::bad_request(
                "method_not_allowed",
                format!(
                    "profile {:?} does not allow {}; it allows {}",
                    profile.name,
                    method.as_str(),
                    allowed.join(", ")
                ),
            ));
        }
        if method != UploadMethod::Multipart && !single_request_fits {
            return Err(ApiError::bad_request(
                "method_not_allowed",
                format!("a file over 5 GiB cannot be sent with one {} request; use multipart", method.as_str()),
            ));
        }
        return Ok(method);
    }
    let large = size.is_some_and(|s| s >= profile.multipart_threshold) || !single_request_fits;
    if large && profile.methods.contains(&UploadMethod::Multipart) {
        return Ok(UploadMethod::Multipart);
    }
    profile
        .methods
        .iter()
        .copied()
        .find(|m| *m != UploadMethod::Multipart && single_request_fits)
        .or_else(|| profile.methods.iter().copied().find(|m| *m == UploadMethod::Multipart))
        .ok_or_else(|| {
            ApiError::bad_request(
                "method_not_allowed",
                "a file over 5 GiB needs multipart, which this profile does not allow",
            )
        })
}

fn check_checksum(
    checksum: Option<&ChecksumInput>,
    profile: &Profile,
) -> Result<Option<(ChecksumAlgorithm, String)>, ApiError> {
    let Some(checksum) = checksum else {
        if profile.checksum == ChecksumPolicy::Required {
            return Err(ApiError::bad_request(
                "checksum_required",
                format!(
                    "profile {:?} requires a checksum: send checksum {{algorithm: md5|sha256|crc32c, value: base64}}",
                    profile.name
                ),
            ));
        }
        return Ok(None);
    };
    let algorithm = ChecksumAlgorithm::parse(&checksum.algorithm).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_checksum",
            format!("checksum.algorithm {:?} is not one of md5, sha256, crc32c", checksum.algorithm),
        )
    })?;
    algorithm
        .validate(&checksum.value)
        .map_err(|why| ApiError::bad_request("invalid_checksum", format!("checksum.value: {why}")))?;
    Ok(Some((algorithm, checksum.value.clone())))
}

fn check_metadata(
    metadata: &BTreeMap<String, String>,
    profile: &Profile,
) -> Result<BTreeMap<String, String>, ApiError> {
    let mut out = BTreeMap::new();
    let mut total = 0;
    for (name, value) in metadata {
        let lower = name.to_ascii_lowercase();
        if !profile.metadata.contains(&lower) {
            let allowed = if profile.metadata.is_empty() { "none".to_owned() } else { profile.metadata.join(", ") };
            return Err(ApiError::bad_request(
                "metadata_not_allowed",
                format!("metadata {name:?} is not allowed by profile {:?} (allowed: {allowed})", profile.name),
            ));
        }
        if !value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return Err(ApiError::bad_request(
                "invalid_metadata",
                format!("metadata {name:?} must be printable ASCII (encode other text, e.g. percent-encoding)"),
            ));
        }
        total += lower.len() + value.len();
        out.insert(lower, value.trim().to_owned());
    }
    if total > MAX_METADATA_BYTES {
        return Err(ApiError::bad_request(
            "invalid_metadata",
            format!("metadata is {total} bytes; S3 stores at most {MAX_METADATA_BYTES}"),
        ));
    }
    Ok(out)
}

fn check_subject(subject: &str) -> Result<String, ApiError> {
    if subject.is_empty() || subject.len() > 200 || subject.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_subject",
            "subject must be 1 to 200 characters without control characters",
        ));
    }
    Ok(subject.to_owned())
}
