//! DeleteObjects: `POST /bucket?delete` with up to 1000 keys.

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::auth::Caller;
use super::error::S3Error;
use super::request::{MAX_KEY_BYTES, S3Request};
use super::xml::XmlWriter;
use super::{parse_xml_body, read_small_body, writable_bucket, xml_response};
use crate::Store;
use crate::body::checksum::{ChecksumAlgorithm, Checksummer, Md5};

/// The most keys one request may delete.
pub const MAX_KEYS: usize = 1000;

/// Checks the body against `Content-MD5` or an `x-amz-checksum-*` header,
/// when given (the AWS SDKs always send one for this operation).
fn check_integrity(request: &S3Request, body: &[u8]) -> Result<(), S3Error> {
    let bad_digest = || {
        S3Error::new(
            "BadDigest",
            StatusCode::BAD_REQUEST,
            "The Content-MD5 or checksum you specified did not match what we received.",
        )
    };
    if let Some(md5) = request.header("content-md5") {
        let mut digest = Md5::default();
        digest.update(body);
        if STANDARD.encode(digest.finish()) != md5.trim() {
            return Err(bad_digest());
        }
    }
    for algorithm in ChecksumAlgorithm::ALL {
        if let Some(value) = request.header(algorithm.header()) {
            let mut checksum = Checksummer::new(algorithm);
            checksum.update(body);
            if checksum.finish() != value.trim() {
                return Err(bad_digest());
            }
        }
    }
    Ok(())
}

/// `POST /bucket?delete`.
pub async fn delete_objects(
    store: &Store,
    request: &S3Request,
    caller: &Caller<'_>,
    body: Body,
) -> Result<Response, S3Error> {
    let bucket = writable_bucket(store, request, caller)?;
    let bytes = read_small_body(body, store.config().limits.max_xml_body, &caller.verified.payload).await?;
    check_integrity(request, &bytes)?;
    let root = parse_xml_body(&bytes)?;
    if root.name != "Delete" {
        return Err(S3Error::malformed_xml(format!("the root element must be Delete, not {}", root.name)));
    }
    let quiet = root.child_text("Quiet").is_some_and(|q| q.trim().eq_ignore_ascii_case("true"));
    let keys: Vec<&str> = root.children_named("Object").map(|o| o.child_text("Key").unwrap_or("")).collect();
    if keys.is_empty() || keys.len() > MAX_KEYS {
        return Err(S3Error::malformed_xml(format!(
            "a Delete request names 1 to {MAX_KEYS} objects, not {}",
            keys.len()
        )));
    }
    let mut xml = XmlWriter::new();
    xml.root("DeleteResult");
    for key in keys {
        let outcome = if key.is_empty() || key.len() > MAX_KEY_BYTES {
            Err(("InvalidArgument", "The key is empty or longer than 1024 bytes".to_owned()))
        } else {
            bucket.delete(key).map_err(|e| {
                tracing::error!(error = %e, "deleting an object failed");
                ("InternalError", "We encountered an internal error. Please try again.".to_owned())
            })
        };
        match outcome {
            Ok(_) if quiet => {}
            Ok(_) => {
                xml.open("Deleted");
                xml.element("Key", key);
                xml.close("Deleted");
            }
            Err((code, message)) => {
                xml.open("Error");
                xml.element("Key", key);
                xml.element("Code", code);
                xml.element("Message", &message);
                xml.close("Error");
            }
        }
    }
    xml.close("DeleteResult");
    Ok(xml_response(StatusCode::OK, xml.finish()))
}
