//! The reaper: uploads whose time ran out while pending get their
//! multipart upload aborted and any stray object deleted, then are marked
//! `expired`. Verifications whose server died (lease run out) are taken
//! over. Safe with several servers on one database: every row is claimed
//! with a compare-and-set before anything is removed.

use std::sync::Arc;
use std::time::Duration;

use crate::App;
use crate::db::{Outcome, UploadRecord, UploadState};
use crate::uploads::now_ms;

/// Rows looked at per pass.
const BATCH: u32 = 100;

/// Runs [`reap_once`] every `interval` until `shutdown` resolves.
pub async fn run(app: Arc<App>, interval: Duration, shutdown: impl Future<Output = ()>) {
    crate::periodic::every(interval, shutdown, || async {
        match reap_once(&app).await {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "reaper cleaned up expired uploads"),
            Err(error) => tracing::warn!(%error, "reaper pass failed; retrying next time"),
        }
    })
    .await;
}

/// One pass: cleans up what is due; answers how many uploads it finished.
///
/// # Errors
/// A database failure (storage failures skip the row, which stays due).
pub async fn reap_once(app: &App) -> Result<usize, crate::db::DbError> {
    let now = now_ms();
    let mut finished = 0;
    for record in app.db.reapable(now, BATCH).await? {
        let claimed = match record.state {
            UploadState::Pending => app.db.lease(&record.id, now).await?,
            UploadState::Verifying => app.db.take_expired_lease(&record.id, now).await?,
            _ => false,
        };
        if !claimed {
            continue; // another server has it
        }
        if record.expires_at >= now {
            // A verification whose server died, with time left: hand it back.
            app.db.transition(&record.id, UploadState::Verifying, UploadState::Pending, None, now).await?;
            continue;
        }
        if expire(app, &record).await? {
            finished += 1;
        }
    }
    Ok(finished)
}

async fn expire(app: &App, record: &UploadRecord) -> Result<bool, crate::db::DbError> {
    if let Err(error) = app.remove_staged(record).await {
        tracing::warn!(id = %record.id, %error, "reaper could not clean up; the lease will run out and it retries");
        return Ok(false);
    }
    let reason = "the grant expired before the upload was completed";
    let done = app
        .db
        .finish(&record.id, UploadState::Expired, &Outcome { reason: Some(reason), ..Outcome::default() }, now_ms())
        .await?;
    if done {
        app.metrics.reaped();
        tracing::info!(id = %record.id, "expired upload cleaned up");
    }
    Ok(done)
}
