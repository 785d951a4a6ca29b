//! `/v1/uploads`: create, read, list, sign parts, complete, abort.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::json::JsonBody;
use super::{ApiError, AppState, Authenticated, query_pairs, query_value};
use crate::db::UploadState;
use crate::uploads::create::CreateUpload;
use crate::uploads::view::UploadView;

/// `POST /v1/uploads`.
pub async fn create(
    State(app): AppState,
    Authenticated(caller): Authenticated,
    JsonBody(request): JsonBody<CreateUpload>,
) -> Result<Response, ApiError> {
    if request.size.is_none() {
        return Err(ApiError::bad_request("missing_size", "size is required: the file's size in bytes"));
    }
    let created = app.create_upload(&caller, request).await?;
    let body = json!({ "upload": UploadView::from(&created.record), "grant": created.grant });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /v1/uploads`: the caller's uploads, newest first (the backend may name a `subject`).
pub async fn list(
    State(app): AppState,
    Authenticated(caller): Authenticated,
    uri: Uri,
) -> Result<Json<serde_json::Value>, ApiError> {
    let query = query_pairs(uri.query())?;
    let limit = match query_value(&query, "limit") {
        None => 50,
        Some(text) => text.parse::<u32>().map_err(|_| {
            ApiError::bad_request("invalid_query", format!("limit {text:?} must be a number from 1 to 500"))
        })?,
    };
    let subject = match (query_value(&query, "subject"), caller.is_backend()) {
        (Some(subject), true) => subject.to_owned(),
        (Some(_), false) => {
            return Err(ApiError::forbidden(
                "subject_not_allowed",
                "only the backend may list another subject's uploads",
            ));
        }
        (None, _) => caller.subject.clone(),
    };
    let records = app.db.list_for_subject(&subject, limit).await?;
    let uploads: Vec<UploadView> = records.iter().map(UploadView::from).collect();
    Ok(Json(json!({ "uploads": uploads })))
}

/// `GET /v1/uploads/{id}`.
pub async fn show(
    State(app): AppState,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<UploadView>, ApiError> {
    let record = app.owned_upload(&caller, &id).await?;
    Ok(Json(UploadView::from(&record)))
}

/// `DELETE /v1/uploads/{id}`.
pub async fn abort(
    State(app): AppState,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<UploadView>, ApiError> {
    let record = app.abort_upload(&caller, &id).await?;
    Ok(Json(UploadView::from(&record)))
}

/// Body of `POST /v1/uploads/{id}/parts`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignPartsRequest {
    part_numbers: Vec<i64>,
}

/// `POST /v1/uploads/{id}/parts`: URLs for the given part numbers.
pub async fn sign_parts(
    State(app): AppState,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<SignPartsRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let parts = app.sign_parts(&caller, &id, &request.part_numbers).await?;
    Ok(Json(json!({ "parts": parts })))
}

/// `GET /v1/uploads/{id}/parts`: the parts storage already holds (for resuming).
pub async fn stored_parts(
    State(app): AppState,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let record = app.owned_upload(&caller, &id).await?;
    let parts = app.stored_parts(&record).await?;
    Ok(Json(json!({ "parts": parts })))
}

/// Body of `POST /v1/uploads/{id}/complete`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteRequest {
    #[serde(default)]
    parts: Option<Vec<CompletedPart>>,
}

/// A part the client sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompletedPart {
    part_number: u32,
    etag: String,
}

/// `POST /v1/uploads/{id}/complete`: 200 with the record when verified,
/// 422 with the reason (and the record) when rejected.
pub async fn complete(
    State(app): AppState,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<CompleteRequest>,
) -> Result<Response, ApiError> {
    let parts = request.parts.map(|parts| parts.into_iter().map(|p| (p.part_number, p.etag)).collect());
    let record = app.complete_upload(&caller, &id, parts).await?;
    Ok(completed_response(&record))
}

/// The answer to a completion: 200, or 422 with the rejection's reason.
pub fn completed_response(record: &crate::db::UploadRecord) -> Response {
    let view = UploadView::from(record);
    if record.state == UploadState::Rejected {
        let reason = record.reason.clone().unwrap_or_default();
        let body = json!({ "error": reason, "code": "rejected", "message": reason, "upload": view });
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response();
    }
    Json(view).into_response()
}
