//! Completing an upload: finish the multipart upload if there is one,
//! verify the object, then promote it to its final key (`uploaded`) or
//! remove it (`rejected`, with a reason). Idempotent: completing again
//! answers the same record.
//!
//! One server at a time verifies an upload: it moves the row from
//! `pending` to `verifying` with a lease (compare-and-set), and a server
//! that dies mid-way lets the lease run out, after which any server (or the
//! reaper) takes over.

use super::now_ms;
use crate::App;
use crate::api::ApiError;
use crate::auth::Caller;
use crate::db::{Outcome, UploadRecord, UploadState};
use crate::verification::{self, Verdict};

impl App {
    /// Completes upload `id` for `caller`. `parts` are the `(number, ETag)`
    /// pairs of a multipart upload when the client gives them; without
    /// them every part storage holds is used.
    ///
    /// # Errors
    /// 404 unknown; 409 not uploaded yet, parts missing, being verified,
    /// aborted; 400 when storage refuses the parts; 502 storage failures.
    pub async fn complete_upload(
        &self,
        caller: &Caller,
        id: &str,
        parts: Option<Vec<(u32, String)>>,
    ) -> Result<UploadRecord, ApiError> {
        let record = self.owned_upload(caller, id).await?;
        self.complete_record(record, parts).await
    }

    /// Completes `record` (already checked to belong to the caller).
    ///
    /// # Errors
    /// As [`Self::complete_upload`].
    pub async fn complete_record(
        &self,
        record: UploadRecord,
        parts: Option<Vec<(u32, String)>>,
    ) -> Result<UploadRecord, ApiError> {
        let now = now_ms();
        match record.state {
            UploadState::Uploaded | UploadState::Rejected => return Ok(record),
            UploadState::Aborted | UploadState::Expired | UploadState::Deleted => {
                return Err(ApiError::conflict(
                    "not_pending",
                    format!("upload {} is {}; it cannot be completed", record.id, record.state.as_str()),
                ));
            }
            UploadState::Verifying => {
                let lease_ran_out = record.lease_until.is_some_and(|until| until < now);
                if !lease_ran_out || !self.db.take_expired_lease(&record.id, now).await? {
                    return Err(ApiError::conflict(
                        "being_verified",
                        format!("upload {} is being verified; ask again in a moment", record.id),
                    ));
                }
            }
            UploadState::Pending => {
                if !self.db.lease(&record.id, now).await? {
                    // Someone else moved it first: answer what they made of it.
                    let current =
                        self.db.get(&record.id).await?.ok_or_else(|| ApiError::not_found("no such upload"))?;
                    if current.state.is_final() {
                        return Box::pin(self.complete_record(current, parts)).await;
                    }
                    return Err(ApiError::conflict(
                        "being_verified",
                        format!("upload {} is being verified; ask again in a moment", record.id),
                    ));
                }
            }
        }
        match self.verify_leased(&record, parts).await {
            Ok(record) => Ok(record),
            Err(error) => {
                // Hand the upload back so the client can finish sending and try again.
                if let Err(db) =
                    self.db.transition(&record.id, UploadState::Verifying, UploadState::Pending, None, now_ms()).await
                {
                    tracing::error!(id = %record.id, %db, "could not release a verification");
                }
                Err(error)
            }
        }
    }

    /// The verification proper, with the lease held.
    async fn verify_leased(
        &self,
        record: &UploadRecord,
        parts: Option<Vec<(u32, String)>>,
    ) -> Result<UploadRecord, ApiError> {
        let profile = self
            .profiles
            .get(&record.profile)
            .ok_or_else(|| ApiError::internal(&format!("profile {:?} is no longer configured", record.profile)))?;
        if let Some(upload_id) = &record.multipart_upload_id {
            self.finish_multipart(record, upload_id, parts).await?;
        }
        let started = std::time::Instant::now();
        let verdict = verification::verify(&self.storage, record, profile).await?;
        let now = now_ms();
        let (state, outcome) = match &verdict {
            Verdict::Missing => {
                return Err(ApiError::conflict(
                    "not_uploaded",
                    "the object has not been uploaded yet: send the file to the granted URL first, then complete",
                ));
            }
            Verdict::Accepted(findings) => {
                if record.staging_key != record.final_key {
                    let metadata: std::collections::BTreeMap<String, String> =
                        serde_json::from_str(&record.metadata).unwrap_or_default();
                    let names: Vec<String> = metadata.keys().map(|n| format!("x-amz-meta-{n}")).collect();
                    let mut headers = vec![("content-type", record.content_type.as_str())];
                    headers.extend(names.iter().map(String::as_str).zip(metadata.values().map(String::as_str)));
                    self.storage.copy_object(&record.staging_key, &record.final_key, findings.size, &headers).await?;
                    self.storage.delete_object(&record.staging_key).await?;
                }
                let outcome = Outcome {
                    reason: None,
                    stored_size: Some(findings.size),
                    detected_type: findings.detected_type.as_deref(),
                    etag: Some(findings.etag.as_str()),
                };
                (UploadState::Uploaded, outcome)
            }
            Verdict::Rejected { rejection, findings } => {
                self.storage.delete_object(&record.staging_key).await?;
                let outcome = Outcome {
                    reason: Some(rejection.reason.as_str()),
                    stored_size: Some(findings.size),
                    detected_type: findings.detected_type.as_deref(),
                    etag: Some(findings.etag.as_str()),
                };
                (UploadState::Rejected, outcome)
            }
        };
        if !self.db.finish(&record.id, state, &outcome, now).await? {
            return Err(ApiError::conflict("being_verified", "another server took over this verification; ask again"));
        }
        let rejected = match &verdict {
            Verdict::Rejected { rejection, .. } => Some(rejection.kind),
            _ => None,
        };
        self.metrics.verified(state, rejected, outcome.stored_size.unwrap_or(0), started.elapsed());
        tracing::info!(id = %record.id, state = state.as_str(), reason = outcome.reason.unwrap_or(""), "upload verified");
        Ok(record.clone().finished(state, &outcome, now))
    }

    /// Completes the multipart upload in storage (a retry after a completed
    /// but unrecorded attempt finds it gone and goes on to verification).
    async fn finish_multipart(
        &self,
        record: &UploadRecord,
        upload_id: &str,
        parts: Option<Vec<(u32, String)>>,
    ) -> Result<(), ApiError> {
        let Some(stored) = self.storage.list_parts(&record.staging_key, upload_id).await? else {
            return Ok(());
        };
        let parts = match parts {
            Some(parts) => parts,
            None => stored.iter().map(|p| (p.number, p.etag.clone())).collect(),
        };
        if parts.is_empty() {
            return Err(ApiError::conflict(
                "not_uploaded",
                "no part has been uploaded yet: send the parts, then complete",
            ));
        }
        if let Some(count) = record.part_count.filter(|c| *c > 0) {
            let missing: Vec<String> = (1..=count)
                .filter(|n| !parts.iter().any(|(p, _)| u64::from(*p) == *n))
                .take(20)
                .map(|n| n.to_string())
                .collect();
            if !missing.is_empty() {
                return Err(ApiError::conflict(
                    "parts_missing",
                    format!("parts {} of {count} have not been uploaded yet", missing.join(", ")),
                ));
            }
        }
        self.storage.complete_multipart(&record.staging_key, upload_id, &parts).await.map_err(|error| {
            match error.code() {
                Some(code @ ("InvalidPart" | "InvalidPartOrder" | "EntityTooSmall" | "MalformedXML")) => {
                    ApiError::bad_request("invalid_parts", format!("storage refused the parts ({code}): {error}"))
                }
                _ => ApiError::storage(&error),
            }
        })
    }
}
