//! The routes Uppy's `@uppy/aws-s3` plugin calls when given an `endpoint`,
//! answering with exactly the shapes Uppy Companion does. Unlike
//! Companion, every route is bound to the server's record and the caller:
//! an upload id that is not the caller's, or a key that is not that
//! upload's, is refused. Uploads started here are recorded and verified
//! like any other (single-request ones by [`crate::auto_complete`], since
//! Uppy never calls complete for them).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::json::JsonBody;
use super::upload_routes::completed_response;
use super::{ApiError, AppState, Authenticated, query_pairs, query_value};
use crate::App;
use crate::auth::Caller;
use crate::config::{Profile, UploadMethod};
use crate::db::{UploadRecord, UploadState};
use crate::uploads::create::CreateUpload;
use crate::uploads::grant::Grant;

/// The profile for an Uppy upload: the one named in the metadata
/// (`profile`), else the token's only profile, else the configured Uppy profile.
fn uppy_profile<'a>(
    app: &'a App,
    caller: &Caller,
    metadata: &BTreeMap<String, String>,
) -> Result<&'a Profile, ApiError> {
    let name = match (metadata.get("profile"), &caller.kind) {
        (Some(name), _) => name.clone(),
        (None, crate::auth::CallerKind::Token(claims)) if claims.profiles.len() == 1 => claims.profiles[0].clone(),
        (None, _) => app.uppy_profile.clone(),
    };
    app.profile_for(&name, caller)
}

/// Uppy sends every field of the file's meta (`name`, `type`, …); like
/// Companion's `allowedMetaFields`, only those the profile allows are kept,
/// and values S3 metadata cannot carry (not printable ASCII, such as a
/// non-ASCII file name) are left out rather than failing the upload.
fn allowed_metadata(profile: &Profile, metadata: BTreeMap<String, String>) -> BTreeMap<String, String> {
    metadata
        .into_iter()
        .filter(|(name, value)| {
            profile.metadata.contains(&name.to_ascii_lowercase()) && value.bytes().all(|b| (0x20..0x7f).contains(&b))
        })
        .collect()
}

/// `GET /s3/params?filename=&type=&metadata[name]=value`: a single-request upload.
pub async fn params(
    State(app): AppState,
    Authenticated(caller): Authenticated,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let query = query_pairs(uri.query())?;
    let filename = query_value(&query, "filename")
        .ok_or_else(|| ApiError::bad_request("missing_filename", "the query must name the file: ?filename=&type="))?;
    let content_type = query_value(&query, "type").ok_or_else(|| {
        ApiError::bad_request("missing_type", "the query must give the file's type: ?filename=&type=")
    })?;
    let metadata: BTreeMap<String, String> = query
        .iter()
        .filter_map(|(name, value)| {
            let inner = name.strip_prefix("metadata[")?.strip_suffix(']')?;
            Some((inner.to_owned(), value.clone()))
        })
        .collect();
    let profile = uppy_profile(&app, &caller, &metadata)?;
    // POST when allowed: its policy enforces the size range, which an
    // unsized PUT cannot.
    let method = if profile.methods.contains(&UploadMethod::Post) { UploadMethod::Post } else { UploadMethod::Put };
    let request = CreateUpload {
        profile: profile.name.clone(),
        filename: filename.to_owned(),
        content_type: content_type.to_owned(),
        size: None,
        checksum: None,
        metadata: allowed_metadata(profile, metadata),
        method: Some(method),
        subject: None,
        auto_complete: true,
    };
    let ttl = profile.grant_ttl.as_secs();
    let created = app.create_upload(&caller, request).await?;
    Ok(Json(match created.grant {
        Grant::Post { url, fields, .. } => json!({ "method": "POST", "url": url, "fields": fields, "expires": ttl }),
        Grant::Put { url, headers, .. } => json!({ "method": "PUT", "url": url, "headers": headers, "expires": ttl }),
        Grant::Multipart { .. } => return Err(ApiError::internal(&"a single-request grant came back as multipart")),
    }))
}

/// Body of `POST /s3/multipart`.
#[derive(Debug, Deserialize)]
pub struct CreateMultipart {
    filename: String,
    #[serde(rename = "type")]
    content_type: String,
    #[serde(default)]
    metadata: BTreeMap<String, Value>,
}

/// `POST /s3/multipart {filename, type, metadata}` → `{key, uploadId, bucket}`.
pub async fn create_multipart(
    State(app): AppState,
    Authenticated(caller): Authenticated,
    JsonBody(body): JsonBody<CreateMultipart>,
) -> Result<Json<Value>, ApiError> {
    let metadata: BTreeMap<String, String> = body
        .metadata
        .into_iter()
        .filter_map(|(name, value)| match value {
            Value::String(text) => Some((name, text)),
            Value::Number(number) => Some((name, number.to_string())),
            Value::Bool(flag) => Some((name, flag.to_string())),
            _ => None,
        })
        .collect();
    let profile = uppy_profile(&app, &caller, &metadata)?;
    let request = CreateUpload {
        profile: profile.name.clone(),
        filename: body.filename,
        content_type: body.content_type,
        size: None,
        checksum: None,
        metadata: allowed_metadata(profile, metadata),
        method: Some(UploadMethod::Multipart),
        subject: None,
        auto_complete: false,
    };
    let created = app.create_upload(&caller, request).await?;
    let Grant::Multipart { upload_id, .. } = created.grant else {
        return Err(ApiError::internal(&"a multipart grant came back as a single request"));
    };
    Ok(Json(json!({ "key": created.record.staging_key, "uploadId": upload_id, "bucket": created.record.bucket })))
}

/// The caller's record of multipart upload `upload_id`, checked against
/// `?key=` of `query`.
async fn bound_upload(
    app: &App,
    caller: &Caller,
    upload_id: &str,
    query: &[(String, String)],
) -> Result<UploadRecord, ApiError> {
    let key = query_value(query, "key")
        .ok_or_else(|| ApiError::bad_request("missing_key", "the query must give the upload's key: ?key="))?;
    let record = app
        .db
        .get_by_multipart_id(upload_id)
        .await?
        .filter(|record| caller.owns(&record.subject))
        .ok_or_else(|| ApiError::not_found(format!("no multipart upload {upload_id:?}")))?;
    if record.staging_key != key {
        return Err(ApiError::forbidden("key_mismatch", "this key does not belong to that upload"));
    }
    Ok(record)
}

/// `GET /s3/multipart/:uploadId?key=` → `[{PartNumber, ETag, Size, LastModified}]`.
pub async fn list_parts(
    State(app): AppState,
    Authenticated(caller): Authenticated,
    Path(upload_id): Path<String>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let record = bound_upload(&app, &caller, &upload_id, &query_pairs(uri.query())?).await?;
    let parts = app.stored_parts(&record).await?;
    Ok(Json(json!(parts)))
}

/// `GET /s3/multipart/:uploadId/:partNumber?key=` → `{url, expires}`.
pub async fn sign_part(
    State(app): AppState,
    Authenticated(caller): Authenticated,
    Path((upload_id, part_number)): Path<(String, String)>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let record = bound_upload(&app, &caller, &upload_id, &query_pairs(uri.query())?).await?;
    let mut urls = app.sign_parts_of(&record, &[part_number_of(&part_number)?])?;
    let ttl = app.profiles.get(&record.profile).map_or(900, |p| p.grant_ttl.as_secs());
    let url = urls.pop().map(|u| u.url).unwrap_or_default();
    Ok(Json(json!({ "url": url, "expires": ttl })))
}

/// A part number as Uppy sends it (range checked when signing).
fn part_number_of(text: &str) -> Result<i64, ApiError> {
    text.trim().parse().map_err(|_| {
        ApiError::bad_request("invalid_part_number", format!("part number {text:?} is not a number from 1 to 10000"))
    })
}

/// `GET /s3/multipart/:uploadId/batch?key=&partNumbers=1,2` → `{presignedUrls: {"1": url}}`.
pub async fn sign_batch(
    State(app): AppState,
    Authenticated(caller): Authenticated,
    Path(upload_id): Path<String>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let query = query_pairs(uri.query())?;
    let record = bound_upload(&app, &caller, &upload_id, &query).await?;
    let numbers = query_value(&query, "partNumbers")
        .ok_or_else(|| ApiError::bad_request("missing_part_numbers", "the query must list ?partNumbers=1,2,3"))?
        .split(',')
        .map(part_number_of)
        .collect::<Result<Vec<_>, _>>()?;
    let urls = app.sign_parts_of(&record, &numbers)?;
    let presigned: BTreeMap<String, String> = urls.into_iter().map(|u| (u.part_number.to_string(), u.url)).collect();
    Ok(Json(json!({ "presignedUrls": presigned })))
}

/// Body of the Uppy complete call.
#[derive(Debug, Deserialize)]
pub struct CompleteMultipart {
    parts: Vec<UppyPart>,
}

/// A part as Uppy names it.
#[derive(Debug, Deserialize)]
pub struct UppyPart {
    #[serde(rename = "PartNumber")]
    part_number: u32,
    #[serde(rename = "ETag")]
    etag: String,
}

/// `POST /s3/multipart/:uploadId/complete?key= {parts}` → `{location, key, bucket}`.
pub async fn complete(
    State(app): AppState,
    Authenticated(caller): Authenticated,
    Path(upload_id): Path<String>,
    uri: Uri,
    JsonBody(body): JsonBody<CompleteMultipart>,
) -> Result<Response, ApiError> {
    let record = bound_upload(&app, &caller, &upload_id, &query_pairs(uri.query())?).await?;
    let parts = body.parts.into_iter().map(|p| (p.part_number, p.etag)).collect();
    let record = app.complete_record(record, Some(parts)).await?;
    if record.state != UploadState::Uploaded {
        return Ok(completed_response(&record));
    }
    let location = app.storage.object_url(&record.final_key);
    Ok(Json(json!({ "location": location, "key": record.final_key, "bucket": record.bucket })).into_response())
}

/// `DELETE /s3/multipart/:uploadId?key=` → `{}`.
pub async fn abort(
    State(app): AppState,
    Authenticated(caller): Authenticated,
    Path(upload_id): Path<String>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let record = bound_upload(&app, &caller, &upload_id, &query_pairs(uri.query())?).await?;
    app.abort_record(record).await?;
    Ok(Json(json!({})))
}
