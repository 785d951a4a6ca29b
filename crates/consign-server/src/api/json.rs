//! Reading JSON request bodies with errors that name the field: the body
//! is capped, must be JSON, and every type error says where it is
//! (`size: invalid type: string "ten", expected u64`).

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::ApiError;

/// The largest JSON body accepted.
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// A JSON body of type `T`.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, ApiError> {
        let bytes = read_capped(request.into_body()).await?;
        parse(&bytes).map(JsonBody)
    }
}

/// Reads at most [`MAX_JSON_BODY`] bytes.
///
/// # Errors
/// 413 for a larger body, 400 when it cannot be read.
pub async fn read_capped(body: Body) -> Result<bytes::Bytes, ApiError> {
    axum::body::to_bytes(body, MAX_JSON_BODY).await.map_err(|e| {
        let e = e.into_inner();
        if e.is::<http_body_util::LengthLimitError>() {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("the request body is larger than {MAX_JSON_BODY} bytes"),
            )
        } else {
            ApiError::bad_request("bad_body", format!("the request body could not be read: {e}"))
        }
    })
}

/// Parses `bytes` as `T` (an empty body reads as `{}`).
///
/// # Errors
/// 400 naming the field and what was expected.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { bytes };
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = if inner.is_syntax() || inner.is_eof() {
            format!("the body is not valid JSON: {inner}")
        } else if path == "." {
            format!("{inner}")
        } else {
            format!("{path}: {inner}")
        };
        ApiError::bad_request("invalid_json", message)
    })?;
    deserializer
        .end()
        .map_err(|e| ApiError::bad_request("invalid_json", format!("the body has trailing data: {e}")))?;
    Ok(value)
}
