//! The S3 REST surface: one module per operation family, dispatched here.
//!
//! Every request is authenticated (a SigV4 header, a presigned URL, or, for
//! POST uploads, a signed policy) before anything is read or written; every
//! failure becomes S3's XML error with S3's code and status.

pub mod auth;
pub mod bucket;
pub mod copy;
pub mod cors;
pub mod delete_objects;
pub mod error;
pub mod list;
pub mod multipart;
pub mod object;
pub mod post;
pub mod request;
pub mod xml;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::Store;
use crate::storage::Bucket;
use auth::Caller;
use error::S3Error;
use request::S3Request;

/// Subresources this store does not implement: refused with
/// `NotImplemented` rather than mistaken for a plain GET or PUT.
const UNSUPPORTED_SUBRESOURCES: &[&str] = &[
    "acl",
    "accelerate",
    "analytics",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "legal-hold",
    "lifecycle",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "policy",
    "policyStatus",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "restore",
    "retention",
    "select",
    "tagging",
    "torrent",
    "versioning",
    "versions",
    "website",
];

/// Answers one HTTP request.
pub async fn handle(store: Arc<Store>, request: Request<Body>, peer: SocketAddr) -> Response {
    let request_id = uuid::Uuid::new_v4().simple().to_string()[..16].to_uppercase();
    let head = request.method() == Method::HEAD;
    let (parts, body) = request.into_parts();
    let bucket_name = || {
        S3Request::from_parts(&parts, &store.config().virtual_host_suffixes, String::new()).ok().and_then(|r| r.bucket)
    };
    let origin = parts.headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()).map(str::to_owned);
    let result = dispatch(&store, &parts, body, peer, request_id.clone()).await;
    let mut response = result.unwrap_or_else(|e| e.into_response_with_id(&request_id, head));
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-amz-request-id", id);
    }
    if let Some(origin) = origin {
        if parts.method != Method::OPTIONS {
            cors::apply(&store, bucket_name().as_deref(), &origin, &parts.method, response.headers_mut());
        }
    }
    response
}

async fn dispatch(
    store: &Store,
    parts: &axum::http::request::Parts,
    body: Body,
    peer: SocketAddr,
    request_id: String,
) -> Result<Response, S3Error> {
    if !store.rate_limit.allow(peer.ip(), Instant::now()) {
        return Err(S3Error::new("SlowDown", StatusCode::SERVICE_UNAVAILABLE, "Please reduce your request rate."));
    }
    let head_bytes: usize =
        parts.headers.iter().map(|(n, v)| n.as_str().len() + v.len() + 4).sum::<usize>() + parts.uri.to_string().len();
    let max_head = store.config().limits.max_header_bytes;
    if head_bytes > max_head {
        return Err(S3Error::new(
            "RequestHeaderSectionTooLarge",
            StatusCode::BAD_REQUEST,
            format!(
                "Your request header section exceeds the maximum allowed size: {head_bytes} bytes; the limit is {max_head}"
            ),
        ));
    }
    let request = S3Request::from_parts(parts, &store.config().virtual_host_suffixes, request_id)?;
    if let Some(name) = UNSUPPORTED_SUBRESOURCES.iter().find(|name| request.has_param(name)) {
        return Err(S3Error::not_implemented(&format!("the ?{name} subresource")));
    }
    if request.method == Method::OPTIONS {
        return cors::preflight(store, &request);
    }
    if request.method == Method::POST && request.key.is_none() && request.bucket.is_some() && post::is_form(&request) {
        return post::post_object(store, &request, body).await;
    }
    let caller = auth::authenticate(store, parts, SystemTime::now())?;
    route(store, request, caller, body).await
}

async fn route(store: &Store, request: S3Request, caller: Caller<'_>, body: Body) -> Result<Response, S3Error> {
    let Some(_) = request.bucket.as_deref() else {
        return match request.method {
            Method::GET => bucket::list_buckets(store, &caller),
            _ => Err(method_not_allowed(&request.method)),
        };
    };
    let object = request.key.is_some();
    let method = request.method.clone();
    match (method, object) {
        (Method::GET, false) if request.has_param("cors") => cors::get_bucket_cors(store, &request, &caller),
        (Method::GET, false) if request.has_param("location") => bucket::get_location(store, &request, &caller),
        (Method::GET, false) if request.has_param("uploads") => multipart::list_uploads(store, &request, &caller),
        (Method::GET, false) => list::list_objects(store, &request, &caller),
        (Method::PUT, false) if request.has_param("cors") => {
            cors::put_bucket_cors(store, &request, &caller, body).await
        }
        (Method::PUT, false) => bucket::create_bucket(store, &request, &caller, body).await,
        (Method::HEAD, false) => bucket::head_bucket(store, &request, &caller),
        (Method::DELETE, false) if request.has_param("cors") => cors::delete_bucket_cors(store, &request, &caller),
        (Method::DELETE, false) => bucket::delete_bucket(store, &request, &caller),
        (Method::POST, false) if request.has_param("delete") => {
            delete_objects::delete_objects(store, &request, &caller, body).await
        }
        (Method::PUT, true) if request.has_param("uploadId") => {
            if request.header("x-amz-copy-source").is_some() {
                copy::upload_part_copy(store, &request, &caller).await
            } else {
                multipart::upload_part(store, &request, caller, body).await
            }
        }
        (Method::PUT, true) if request.header("x-amz-copy-source").is_some() => {
            copy::copy_object(store, &request, &caller).await
        }
        (Method::PUT, true) => object::put_object(store, &request, caller, body).await,
        (Method::GET, true) if request.has_param("uploadId") => multipart::list_parts(store, &request, &caller),
        (Method::GET, true) => object::get_object(store, &request, &caller).await,
        (Method::HEAD, true) => object::head_object(store, &request, &caller).await,
        (Method::DELETE, true) if request.has_param("uploadId") => multipart::abort(store, &request, &caller),
        (Method::DELETE, true) => object::delete_object(store, &request, &caller),
        (Method::POST, true) if request.has_param("uploads") => multipart::create(store, &request, &caller),
        (Method::POST, true) if request.has_param("uploadId") => {
            multipart::complete(store, &request, &caller, body).await
        }
        (method, _) => Err(method_not_allowed(&method)),
    }
}

fn method_not_allowed(method: &Method) -> S3Error {
    S3Error::new(
        "MethodNotAllowed",
        StatusCode::METHOD_NOT_ALLOWED,
        format!("The specified method ({method}) is not allowed against this resource."),
    )
}

/// The bucket named by `request`, if the caller may read it.
///
/// # Errors
/// `AccessDenied` before `NoSuchBucket`, so a key without rights learns
/// nothing about which buckets exist.
pub fn readable_bucket(store: &Store, request: &S3Request, caller: &Caller<'_>) -> Result<Arc<Bucket>, S3Error> {
    let name = request.require_bucket()?;
    if !caller.key.can_read(name) {
        return Err(S3Error::access_denied(format!("the access key {} may not read the bucket {name}", caller.key.id)));
    }
    store.storage().bucket(name).ok_or_else(|| S3Error::no_such_bucket(name))
}

/// The bucket named by `request`, if the caller may write to it.
///
/// # Errors
/// As [`readable_bucket`].
pub fn writable_bucket(store: &Store, request: &S3Request, caller: &Caller<'_>) -> Result<Arc<Bucket>, S3Error> {
    let name = request.require_bucket()?;
    if !caller.key.can_write(name) {
        return Err(S3Error::access_denied(format!(
            "the access key {} may not write to the bucket {name}",
            caller.key.id
        )));
    }
    store.storage().bucket(name).ok_or_else(|| S3Error::no_such_bucket(name))
}

/// A `200 OK` (or other status) with an XML body.
pub fn xml_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    response
}

/// Reads a small request body (an XML document), at most `limit` bytes,
/// and checks it against the signed `x-amz-content-sha256`.
///
/// # Errors
/// `MaxMessageLengthExceeded`, `IncompleteBody`, `XAmzContentSHA256Mismatch`,
/// and `InvalidRequest` for an aws-chunked body.
pub async fn read_small_body(
    body: Body,
    limit: usize,
    payload: &consign_sigv4::PayloadCheck,
) -> Result<bytes::Bytes, S3Error> {
    if matches!(payload, consign_sigv4::PayloadCheck::Streaming(_)) {
        return Err(S3Error::invalid_request("this operation takes a plain body, not an aws-chunked one"));
    }
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| {
        if std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>()) {
            S3Error::new(
                "MaxMessageLengthExceeded",
                StatusCode::BAD_REQUEST,
                format!("Your request was too big: the limit is {limit} bytes"),
            )
        } else {
            S3Error::new("IncompleteBody", StatusCode::BAD_REQUEST, format!("the request body could not be read: {e}"))
        }
    })?;
    // The signature covers the body only through x-amz-content-sha256.
    if let consign_sigv4::PayloadCheck::Sha256(expected) = payload {
        let computed = consign_sigv4::sha256_hex(&bytes);
        if computed.as_str() != expected {
            return Err(S3Error::new(
                "XAmzContentSHA256Mismatch",
                StatusCode::BAD_REQUEST,
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            )
            .with("ClientComputedContentSHA256", expected.clone())
            .with("S3ComputedContentSHA256", computed.as_str()));
        }
    }
    Ok(bytes)
}

/// Parses an XML request body.
///
/// # Errors
/// `MalformedXML` saying what is wrong.
pub fn parse_xml_body(bytes: &[u8]) -> Result<xml::Element, S3Error> {
    xml::parse(bytes).map_err(|reason| {
        S3Error::malformed_xml(format!(
            "The XML you provided was not well-formed or did not validate against our published schema: {reason}"
        ))
    })
}

/// Reads and parses a small XML request body.
///
/// # Errors
/// As [`read_small_body`] and [`parse_xml_body`].
pub async fn read_xml_body(
    body: Body,
    limit: usize,
    payload: &consign_sigv4::PayloadCheck,
) -> Result<xml::Element, S3Error> {
    parse_xml_body(&read_small_body(body, limit, payload).await?)
}

/// `Last-Modified` and friends: an HTTP date.
pub fn http_date(ms: i64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    httpdate::fmt_http_date(time)
}

/// `2006-02-03T16:45:09.000Z`, as listings write times.
pub fn iso_date(ms: i64) -> String {
    let date = consign_sigv4::AmzDate::from_unix(ms.div_euclid(1000));
    let text = date.to_iso8601();
    format!("{}{:03}Z", &text[..text.len() - 4], ms.rem_euclid(1000))
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `"etag"`: S3 quotes ETags in headers and XML.
pub fn quoted(etag: &str) -> String {
    format!("\"{etag}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_dates_as_s3_does() {
        assert_eq!(iso_date(1_440_938_160_123), "2015-08-30T12:36:00.123Z");
        assert_eq!(http_date(1_440_938_160_123), "Sun, 30 Aug 2015 12:36:00 GMT");
    }
}
