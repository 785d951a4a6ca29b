//! Aborting a pending upload (its multipart upload is aborted, a stray
//! object deleted) and deleting an uploaded one. Cleanup holds a lease like
//! verification does, so a failure half-way is retried by the reaper.

use super::now_ms;
use crate::App;
use crate::api::ApiError;
use crate::auth::Caller;
use crate::db::{Outcome, UploadRecord, UploadState};
use crate::storage::StorageError;

impl App {
    /// Aborts (pending) or deletes (uploaded) upload `id`.
    ///
    /// # Errors
    /// 404 unknown; 409 while it is being verified; 502 storage failures.
    pub async fn abort_upload(&self, caller: &Caller, id: &str) -> Result<UploadRecord, ApiError> {
        let record = self.owned_upload(caller, id).await?;
        self.abort_record(record).await
    }

    /// Aborts or deletes `record` (already checked to belong to the caller).
    ///
    /// # Errors
    /// As [`Self::abort_upload`].
    pub async fn abort_record(&self, record: UploadRecord) -> Result<UploadRecord, ApiError> {
        let now = now_ms();
        let updated = match record.state {
            UploadState::Pending => {
                if !self.db.lease(&record.id, now).await? {
                    return Err(ApiError::conflict("being_verified", "the upload changed meanwhile; ask again"));
                }
                // On failure the lease runs out and the reaper finishes the cleanup.
                self.remove_staged(&record).await?;
                let now = now_ms();
                if !self.db.finish(&record.id, UploadState::Aborted, &Outcome::default(), now).await? {
                    return Err(ApiError::conflict("state_changed", "the upload changed meanwhile; ask again"));
                }
                record.finished(UploadState::Aborted, &Outcome::default(), now)
            }
            UploadState::Uploaded => {
                // Deleting twice is harmless, so no lease: delete, then record.
                self.storage.delete_object(&record.final_key).await?;
                if !self.db.transition(&record.id, UploadState::Uploaded, UploadState::Deleted, None, now).await? {
                    return Err(ApiError::conflict("state_changed", "the upload changed meanwhile; ask again"));
                }
                record.moved(UploadState::Deleted, now)
            }
            UploadState::Verifying => {
                return Err(ApiError::conflict(
                    "being_verified",
                    "the upload is being verified; ask again in a moment",
                ));
            }
            UploadState::Rejected | UploadState::Aborted | UploadState::Expired | UploadState::Deleted => {
                return Ok(record);
            }
        };
        self.metrics.finished(updated.state);
        tracing::info!(id = %updated.id, state = updated.state.as_str(), "upload removed");
        Ok(updated)
    }

    /// Removes what storage holds for an upload that never finished: its
    /// multipart upload and its staging object.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn remove_staged(&self, record: &UploadRecord) -> Result<(), StorageError> {
        if let Some(upload_id) = &record.multipart_upload_id {
            self.storage.abort_multipart(&record.staging_key, upload_id).await?;
        }
        self.storage.delete_object(&record.staging_key).await
    }
}
