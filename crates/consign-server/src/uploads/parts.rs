//! Part URLs for multipart uploads, always signed from the server's own
//! record of key and upload id, never from what the client sends.

use std::time::SystemTime;

use serde::Serialize;

use super::grant;
use crate::App;
use crate::api::ApiError;
use crate::auth::Caller;
use crate::db::{UploadRecord, UploadState};
use crate::storage::PartInfo;

/// Most part URLs signed in one request.
pub const MAX_PARTS_PER_REQUEST: usize = 1000;

/// One signed part URL.
#[derive(Debug, Clone, Serialize)]
pub struct PartUrl {
    /// The part number.
    pub part_number: u32,
    /// Where to `PUT` the part.
    pub url: String,
    /// When the URL expires (ISO 8601).
    pub expires_at: String,
}

impl App {
    /// The upload `id`, if `caller` may see it.
    ///
    /// # Errors
    /// 404 when there is no such upload or it belongs to someone else (the
    /// two are not told apart).
    pub async fn owned_upload(&self, caller: &Caller, id: &str) -> Result<UploadRecord, ApiError> {
        let not_found = || ApiError::not_found(format!("no upload {id:?}"));
        if uuid::Uuid::try_parse(id).is_err() {
            return Err(not_found());
        }
        let record = self.db.get(id).await?.ok_or_else(not_found)?;
        if !caller.owns(&record.subject) {
            return Err(not_found());
        }
        Ok(record)
    }

    /// The record of a pending multipart upload, with its upload id.
    ///
    /// # Errors
    /// 409 when the upload is not multipart or no longer pending.
    pub fn pending_multipart(record: &UploadRecord) -> Result<&str, ApiError> {
        let upload_id = record.multipart_upload_id.as_deref().ok_or_else(|| {
            ApiError::conflict(
                "not_multipart",
                format!("upload {} is a {} upload, not multipart", record.id, record.method),
            )
        })?;
        if record.state != UploadState::Pending {
            return Err(ApiError::conflict(
                "not_pending",
                format!(
                    "upload {} is {}; parts can only be sent while it is pending",
                    record.id,
                    record.state.as_str()
                ),
            ));
        }
        Ok(upload_id)
    }

    /// Signs URLs for `numbers` of a pending multipart upload.
    ///
    /// # Errors
    /// 400 for part numbers outside 1..=10000 or beyond the upload's part
    /// count, or too many at once; 404/409 as [`Self::owned_upload`] and
    /// [`Self::pending_multipart`].
    pub async fn sign_parts(&self, caller: &Caller, id: &str, numbers: &[i64]) -> Result<Vec<PartUrl>, ApiError> {
        let record = self.owned_upload(caller, id).await?;
        self.sign_parts_of(&record, numbers)
    }

    /// Signs URLs for `numbers` of `record`'s multipart upload.
    ///
    /// # Errors
    /// 409 when the upload is not a pending multipart upload; 400 for bad
    /// part numbers.
    pub fn sign_parts_of(&self, record: &UploadRecord, numbers: &[i64]) -> Result<Vec<PartUrl>, ApiError> {
        let upload_id = Self::pending_multipart(record)?;
        if numbers.is_empty() {
            return Err(ApiError::bad_request("invalid_part_number", "name at least one part number"));
        }
        if numbers.len() > MAX_PARTS_PER_REQUEST {
            return Err(ApiError::bad_request(
                "too_many_parts",
                format!("at most {MAX_PARTS_PER_REQUEST} part URLs per request; ask in batches"),
            ));
        }
        let profile = self
            .profiles
            .get(&record.profile)
            .ok_or_else(|| ApiError::internal(&"the upload's profile is no longer configured"))?;
        let now = SystemTime::now();
        let mut urls = Vec::with_capacity(numbers.len());
        for &number in numbers {
            let part_number = u32::try_from(number).ok().filter(|n| (1..=10_000).contains(n)).ok_or_else(|| {
                ApiError::bad_request("invalid_part_number", format!("part number {number} is outside 1..10000"))
            })?;
            if let Some(count) = record.part_count.filter(|c| *c > 0) {
                if u64::from(part_number) > count {
                    return Err(ApiError::bad_request(
                        "invalid_part_number",
                        format!("part {part_number} is beyond this upload's {count} parts"),
                    ));
                }
            }
            let (url, expires_at) =
                grant::part_url(&self.storage, &record.staging_key, upload_id, part_number, profile.grant_ttl, now)?;
            urls.push(PartUrl { part_number, url, expires_at });
        }
        Ok(urls)
    }

    /// The parts storage already holds for a pending multipart upload (for resuming).
    ///
    /// # Errors
    /// 404/409 as [`Self::owned_upload`] and [`Self::pending_multipart`].
    pub async fn stored_parts(&self, record: &UploadRecord) -> Result<Vec<PartInfo>, ApiError> {
        let upload_id = Self::pending_multipart(record)?;
        let parts = self.storage.list_parts(&record.staging_key, upload_id).await?;
        parts.ok_or_else(|| ApiError::conflict("no_such_upload", "storage no longer holds this multipart upload"))
    }
}
