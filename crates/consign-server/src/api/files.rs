//! `GET /v1/files/{id}/url`: a short-lived presigned GET for an uploaded
//! file, as an attachment by default (so a browser never renders an
//! uploaded HTML or SVG file inline on the storage origin).

use std::time::{Duration, SystemTime};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Uri;
use consign_sigv4::ObjectRequest;
use serde_json::json;

use super::{ApiError, AppState, Authenticated, query_pairs, query_value};
use crate::config::safe_filename;
use crate::db::UploadState;

/// Default lifetime of a download URL.
const DEFAULT_TTL_SECONDS: u64 = 300;
/// Longest lifetime asked for.
const MAX_TTL_SECONDS: u64 = 3600;

/// `GET /v1/files/{id}/url?disposition=attachment|inline&ttl=<seconds>`.
pub async fn download_url(
    State(app): AppState,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Json<serde_json::Value>, ApiError> {
    let query = query_pairs(uri.query())?;
    let record = app.owned_upload(&caller, &id).await?;
    if record.state != UploadState::Uploaded {
        return Err(ApiError::conflict(
            "not_uploaded",
            format!("upload {id} is {}; only verified uploads can be downloaded", record.state.as_str()),
        ));
    }
    let disposition = match query_value(&query, "disposition").unwrap_or("attachment") {
        kind @ ("attachment" | "inline") => kind,
        other => {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("disposition {other:?} must be attachment or inline"),
            ));
        }
    };
    let ttl = match query_value(&query, "ttl") {
        None => DEFAULT_TTL_SECONDS,
        Some(text) => text.parse::<u64>().ok().filter(|t| (1..=MAX_TTL_SECONDS).contains(t)).ok_or_else(|| {
            ApiError::bad_request("invalid_query", format!("ttl {text:?} must be 1 to {MAX_TTL_SECONDS} seconds"))
        })?,
    };
    // Markup shown inline would run on the storage origin: always an attachment.
    let content_type = record.detected_type.clone().unwrap_or_else(|| record.content_type.clone());
    let disposition = if content_type.contains("html") || content_type.contains("svg") || content_type.contains("xml") {
        "attachment"
    } else {
        disposition
    };
    let filename = safe_filename(&record.filename);
    let request = ObjectRequest::get(app.storage.bucket(), &record.final_key)
        .query("response-content-disposition", format!("{disposition}; filename=\"{filename}\""))
        .query("response-content-type", content_type);
    let signed = app.storage.presign(&request, Duration::from_secs(ttl), SystemTime::now())?;
    Ok(Json(json!({ "url": signed.url, "expires_at": signed.expires_at.to_iso8601() })))
}
