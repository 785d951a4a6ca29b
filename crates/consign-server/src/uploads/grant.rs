//! Grants: what a client needs to send the bytes straight to storage. A
//! presigned PUT binds type, exact length, checksum and metadata into the
//! signature; a POST form's policy pins key, type, size range, metadata
//! and the success status; a multipart upload is created in storage and
//! its parts signed on request.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use consign_sigv4::{AmzDate, ObjectRequest, PostPolicy};
use serde::Serialize;

use crate::storage::{StorageError, StorageTarget};

/// A grant, as sent to clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "method")]
pub enum Grant {
    /// Send the file as the body of one `PUT` to `url`, with exactly these headers.
    #[serde(rename = "PUT")]
    Put {
        /// The presigned URL.
        url: String,
        /// Headers to send, exactly.
        headers: BTreeMap<String, String>,
        /// When the URL stops working (ISO 8601).
        expires_at: String,
    },
    /// Post a `multipart/form-data` form to `url`: these fields, then the file as `file`.
    #[serde(rename = "POST")]
    Post {
        /// The form's action.
        url: String,
        /// Fields to send before the file, in this order.
        fields: BTreeMap<String, String>,
        /// When the policy expires (ISO 8601).
        expires_at: String,
    },
    /// Send parts of `part_size` bytes (the last may be smaller) to URLs from
    /// `POST /v1/uploads/{id}/parts`, then complete.
    #[serde(rename = "MULTIPART")]
    Multipart {
        /// Storage's multipart upload id.
        upload_id: String,
        /// Every part but the last has this size.
        part_size: u64,
        /// How many parts the file makes.
        part_count: u64,
    },
}

/// What goes into a PUT or POST grant.
#[derive(Debug, Clone, Copy)]
pub struct GrantInputs<'a> {
    /// The key to upload to.
    pub key: &'a str,
    /// The declared content type.
    pub content_type: &'a str,
    /// The exact size, when declared.
    pub size: Option<u64>,
    /// The size range when no size was declared.
    pub size_range: (u64, u64),
    /// `(header, base64 value)` of a declared checksum.
    pub checksum: Option<(&'a str, &'a str)>,
    /// Metadata, names lower case.
    pub metadata: &'a BTreeMap<String, String>,
    /// How long the grant lives.
    pub ttl: Duration,
}

/// A presigned PUT.
///
/// # Errors
/// When signing fails (a header value S3 cannot carry).
pub fn put(storage: &StorageTarget, inputs: &GrantInputs<'_>, now: SystemTime) -> Result<Grant, StorageError> {
    let length = inputs.size.map(|s| s.to_string());
    let meta_names: Vec<String> = inputs.metadata.keys().map(|name| format!("x-amz-meta-{name}")).collect();
    let mut request = ObjectRequest::put(storage.bucket(), inputs.key).header("content-type", inputs.content_type);
    if let Some(length) = &length {
        request = request.header("content-length", length);
    }
    if let Some((header, value)) = inputs.checksum {
        request = request.header(header, value);
    }
    for (name, value) in meta_names.iter().zip(inputs.metadata.values()) {
        request = request.header(name, value);
    }
    let signed = storage.presign(&request, inputs.ttl, now)?;
    Ok(Grant::Put {
        headers: signed.headers().map(|(name, value)| (name.into_owned(), value.to_owned())).collect(),
        url: signed.url,
        expires_at: signed.expires_at.to_iso8601(),
    })
}

/// A signed POST form.
///
/// # Errors
/// When signing fails.
pub fn post(storage: &StorageTarget, inputs: &GrantInputs<'_>, now: SystemTime) -> Result<Grant, StorageError> {
    let expiration = AmzDate::from_system_time(now).plus_seconds(i64::try_from(inputs.ttl.as_secs()).unwrap_or(900));
    let (min, max) = inputs.size.map_or(inputs.size_range, |size| (size, size));
    let mut policy = PostPolicy::new(expiration)
        .key(inputs.key)
        .content_type(inputs.content_type)
        .success_action_status(201)
        .content_length_range(min, max);
    for (name, value) in inputs.metadata {
        policy = policy.metadata(name, value);
    }
    let form = storage.sign_post(&policy, now)?;
    Ok(Grant::Post {
        url: form.url.clone(),
        fields: form.fields().map(|(n, v)| (n.to_owned(), v.to_owned())).collect(),
        expires_at: form.expiration.to_iso8601(),
    })
}

/// A presigned URL for part `number` of a multipart upload.
///
/// # Errors
/// When the part number is outside 1..=10000 or signing fails.
pub fn part_url(
    storage: &StorageTarget,
    key: &str,
    upload_id: &str,
    number: u32,
    ttl: Duration,
    now: SystemTime,
) -> Result<(String, String), StorageError> {
    let request =
        ObjectRequest::upload_part(storage.bucket(), key, upload_id, number).map_err(StorageError::signing)?;
    let signed = storage.presign(&request, ttl, now)?;
    Ok((signed.url, signed.expires_at.to_iso8601()))
}
