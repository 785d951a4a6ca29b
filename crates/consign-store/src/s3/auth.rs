//! Who is calling: the request's SigV4 signature checked with
//! `consign-sigv4`, against the secret of a configured access key.

use std::time::SystemTime;

use axum::http::StatusCode;
use axum::http::request::Parts;
use consign_sigv4::{HttpRequest, Verified, VerifyError};

use super::error::S3Error;
use crate::Store;
use crate::config::AccessKey;

/// A caller whose signature holds.
#[derive(Debug)]
pub struct Caller<'s> {
    /// The access key that signed.
    pub key: &'s AccessKey,
    /// What the verification left to check about the body.
    pub verified: Verified,
}

/// 403 `InvalidAccessKeyId`.
pub fn unknown_access_key(id: &str) -> S3Error {
    S3Error::new(
        "InvalidAccessKeyId",
        StatusCode::FORBIDDEN,
        "The AWS Access Key Id you provided does not exist in our records.",
    )
    .with("AWSAccessKeyId", id.chars().take(128).collect::<String>())
}

/// Verifies the signature of a request.
///
/// # Errors
/// `AccessDenied` for anonymous requests, `InvalidAccessKeyId`, and every
/// verification failure with its S3 code.
pub fn authenticate<'s>(store: &'s Store, parts: &Parts, now: SystemTime) -> Result<Caller<'s>, S3Error> {
    let mut headers = Vec::with_capacity(parts.headers.len());
    for (name, value) in &parts.headers {
        let value = std::str::from_utf8(value.as_bytes()).map_err(|_| {
            S3Error::invalid_argument(name.as_str(), "", format!("the value of the header {name} is not UTF-8"))
        })?;
        headers.push((name.as_str(), value));
    }
    let request = HttpRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &headers,
    };
    let auth = store.verifier.authenticate(&request)?;
    let id = auth.access_key_id().ok_or(VerifyError::Anonymous)?;
    let key = store.access_key(id).ok_or_else(|| unknown_access_key(id))?;
    let verified = store.verifier.verify(&request, &auth, &key.secret, now)?;
    Ok(Caller { key, verified })
}
