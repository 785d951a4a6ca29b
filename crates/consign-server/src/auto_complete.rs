//! Completing uploads whose client never calls complete: Uppy's
//! single-request uploads (`GET /s3/params`) end when storage answers the
//! browser. The server looks for their objects every few seconds and, once
//! one appears, verifies and records it like any other.

use std::sync::Arc;
use std::time::Duration;

use crate::App;

/// Rows looked at per pass.
const BATCH: u32 = 200;

/// Runs [`complete_once`] every `interval` until `shutdown` resolves.
pub async fn run(app: Arc<App>, interval: Duration, shutdown: impl Future<Output = ()>) {
    crate::periodic::every(interval, shutdown, || async {
        if let Err(error) = complete_once(&app).await {
            tracing::warn!(%error, "auto-complete pass failed; retrying next time");
        }
    })
    .await;
}

/// One pass: completes every waiting upload whose object is in storage;
/// answers how many it completed.
///
/// # Errors
/// A database failure.
pub async fn complete_once(app: &App) -> Result<usize, crate::db::DbError> {
    let mut completed = 0;
    for record in app.db.auto_completable(BATCH).await? {
        match app.storage.head_object(&record.staging_key).await {
            Ok(Some(_)) => {}
            Ok(None) => continue,
            Err(error) => {
                tracing::warn!(id = %record.id, %error, "auto-complete could not look at storage");
                continue;
            }
        }
        match app.complete_record(record, None).await {
            Ok(_) => completed += 1,
            Err(error) => tracing::debug!(%error, "auto-complete deferred"),
        }
    }
    Ok(completed)
}
