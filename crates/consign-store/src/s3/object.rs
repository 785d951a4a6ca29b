//! PutObject, GetObject, HeadObject, DeleteObject, and the headers they
//! share.

use std::io::{Read, Seek, SeekFrom};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use super::auth::Caller;
use super::error::S3Error;
use super::request::S3Request;
use super::{http_date, now_ms, quoted, readable_bucket, writable_bucket};
use crate::Store;
use crate::body::checksum::hex;
use crate::body::{Expectations, receive};
use crate::storage::ObjectMeta;

/// Headers stored with an object and returned on GET and HEAD.
pub const STORED_HEADERS: [&str; 5] =
    ["cache-control", "content-disposition", "content-encoding", "content-language", "expires"];

/// S3's limit on the size of user metadata (`x-amz-meta-*` names and values).
pub const MAX_USER_METADATA_BYTES: usize = 2 * 1024;

/// The type S3 gives an object uploaded without one.
pub const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";

/// What an upload says about the object besides its bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadHeaders {
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// The [`STORED_HEADERS`] given.
    pub headers: Vec<(String, String)>,
    /// `x-amz-meta-*`, names in lower case without the prefix.
    pub user_metadata: Vec<(String, String)>,
}

impl UploadHeaders {
    /// Reads them from request headers (`aws-chunked` is a transfer detail
    /// and is not stored as a content encoding).
    ///
    /// # Errors
    /// `MetadataTooLarge`.
    pub fn from_headers(headers: &HeaderMap) -> Result<Self, S3Error> {
        let text = |v: &HeaderValue| std::str::from_utf8(v.as_bytes()).ok().map(str::to_owned);
        let content_type = headers.get(header::CONTENT_TYPE).and_then(text);
        let mut stored = Vec::new();
        for name in STORED_HEADERS {
            let Some(value) = headers.get(name).and_then(text) else { continue };
            if name == "content-encoding" {
                let kept: Vec<&str> = value
                    .split(',')
                    .map(str::trim)
                    .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("aws-chunked"))
                    .collect();
                if !kept.is_empty() {
                    stored.push((name.to_owned(), kept.join(",")));
                }
                continue;
            }
            stored.push((name.to_owned(), value));
        }
        let mut user_metadata = Vec::new();
        for (name, value) in headers {
            if let Some(meta) = name.as_str().strip_prefix("x-amz-meta-") {
                user_metadata.push((meta.to_owned(), text(value).unwrap_or_default()));
            }
        }
        Self::from_parts(content_type, stored, user_metadata)
    }

    /// Builds them from already separated values (POST forms).
    ///
    /// # Errors
    /// `MetadataTooLarge`.
    pub fn from_parts(
        content_type: Option<String>,
        headers: Vec<(String, String)>,
        user_metadata: Vec<(String, String)>,
    ) -> Result<Self, S3Error> {
        let size: usize = user_metadata.iter().map(|(n, v)| n.len() + v.len()).sum();
        if size > MAX_USER_METADATA_BYTES {
            return Err(S3Error::new(
                "MetadataTooLarge",
                StatusCode::BAD_REQUEST,
                format!(
                    "Your metadata headers exceed the maximum allowed metadata size: {size} bytes; the limit is {MAX_USER_METADATA_BYTES}"
                ),
            ));
        }
        Ok(Self { content_type, headers, user_metadata })
    }

    /// The metadata of a new object `key` with these headers.
    pub fn into_meta(self, key: &str) -> ObjectMeta {
        ObjectMeta {
            key: key.to_owned(),
            size: 0,
            etag: String::new(),
            last_modified_ms: now_ms(),
            content_type: self.content_type,
            headers: self.headers,
            user_metadata: self.user_metadata,
            checksums: Vec::new(),
            checksum_type: None,
            parts: None,
        }
    }
}

fn key_of(request: &S3Request) -> Result<&str, S3Error> {
    request.key.as_deref().ok_or_else(|| S3Error::invalid_request("this operation needs an object key"))
}

/// 412 `PreconditionFailed`.
pub fn precondition_failed(condition: &str) -> S3Error {
    S3Error::new(
        "PreconditionFailed",
        StatusCode::PRECONDITION_FAILED,
        "At least one of the pre-conditions you specified did not hold",
    )
    .with("Condition", condition)
}

/// `PUT /bucket/key`.
pub async fn put_object(
    store: &Store,
    request: &S3Request,
    caller: Caller<'_>,
    body: Body,
) -> Result<Response, S3Error> {
    let bucket = writable_bucket(store, request, &caller)?;
    let key = key_of(request)?;
    let upload = UploadHeaders::from_headers(&request.headers)?;
    // `If-None-Match: *` is checked early to spare a doomed upload, and again
    // at publication, where it decides between racing writers.
    let if_absent = request.header("if-none-match").is_some_and(|v| v.trim() == "*");
    if if_absent && bucket.with_index(|i| i.contains_key(key)) {
        return Err(precondition_failed("If-None-Match"));
    }
    let limits = &store.config().limits;
    let expect =
        Expectations::from_request(request, caller.verified.payload, limits.max_object_size, limits.idle_timeout)?;
    let received = receive(body, expect, store.storage()).await?;
    let mut meta = upload.into_meta(key);
    meta.size = received.object.digests.size;
    meta.etag = hex(&received.object.digests.md5);
    meta.checksums = received.checksum.iter().cloned().collect();
    meta.checksum_type = received.checksum.as_ref().map(|_| "FULL_OBJECT".to_owned());
    let etag = meta.etag.clone();
    let committed = if if_absent {
        received.object.commit_if_absent(bucket, meta).await
    } else {
        received.object.commit(bucket, meta).await
    };
    committed.map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => precondition_failed("If-None-Match"),
        _ => S3Error::internal(&e),
    })?;
    let mut response = StatusCode::OK.into_response();
    let headers = response.headers_mut();
    insert(headers, "etag", &quoted(&etag));
    if let Some((algorithm, value)) = &received.checksum {
        insert(headers, algorithm.header(), value);
    }
    Ok(response)
}

/// `DELETE /bucket/key`: succeeds whether or not the key exists.
pub fn delete_object(store: &Store, request: &S3Request, caller: &Caller<'_>) -> Result<Response, S3Error> {
    let bucket = writable_bucket(store, request, caller)?;
    bucket.delete(key_of(request)?).map_err(|e| S3Error::internal(&e))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /bucket/key`.
pub async fn get_object(store: &Store, request: &S3Request, caller: &Caller<'_>) -> Result<Response, S3Error> {
    read_object(store, request, caller, true).await
}

/// `HEAD /bucket/key`.
pub async fn head_object(store: &Store, request: &S3Request, caller: &Caller<'_>) -> Result<Response, S3Error> {
    read_object(store, request, caller, false).await
}

async fn read_object(
    store: &Store,
    request: &S3Request,
    caller: &Caller<'_>,
    with_body: bool,
) -> Result<Response, S3Error> {
    let bucket = readable_bucket(store, request, caller)?;
    let key = key_of(request)?.to_owned();
    if request.has_param("partNumber") {
        return Err(S3Error::not_implemented("GetObject with partNumber"));
    }
    let opened = tokio::task::spawn_blocking(move || bucket.open(&key).map(|o| (o, key)))
        .await
        .map_err(|e| S3Error::internal(&e))?
        .map_err(|e| S3Error::internal(&e))?;
    let (Some((mut file, meta)), key) = opened else {
        let key = request.key.clone().unwrap_or_default();
        return Err(S3Error::no_such_key(&key));
    };
    let _ = key;

    if let Some(status) = check_conditions(request, &meta)? {
        let mut response = status.into_response();
        insert(response.headers_mut(), "etag", &quoted(&meta.etag));
        insert(response.headers_mut(), "last-modified", &http_date(meta.last_modified_ms));
        return Ok(response);
    }

    let range = match request.header("range") {
        Some(value) => parse_range(value, meta.size)?,
        None => None,
    };
    let (start, length) = range.unwrap_or((0, meta.size));
    let mut response = if with_body {
        file.seek(SeekFrom::Start(start)).map_err(|e| S3Error::internal(&e))?;
        Response::new(file_body(file, length))
    } else {
        Response::new(Body::empty())
    };
    *response.status_mut() = if range.is_some() { StatusCode::PARTIAL_CONTENT } else { StatusCode::OK };
    let headers = response.headers_mut();
    insert(headers, "content-length", &length.to_string());
    if range.is_some() {
        insert(headers, "content-range", &format!("bytes {start}-{}/{}", start + length - 1, meta.size));
    }
    insert(headers, "accept-ranges", "bytes");
    insert(headers, "etag", &quoted(&meta.etag));
    insert(headers, "last-modified", &http_date(meta.last_modified_ms));
    insert(headers, "content-type", meta.content_type.as_deref().unwrap_or(DEFAULT_CONTENT_TYPE));
    for (name, value) in &meta.headers {
        insert(headers, name, value);
    }
    for (name, value) in &meta.user_metadata {
        insert(headers, &format!("x-amz-meta-{name}"), value);
    }
    if let Some(parts) = meta.parts {
        insert(headers, "x-amz-mp-parts-count", &parts.to_string());
    }
    if request.header("x-amz-checksum-mode").is_some_and(|m| m.eq_ignore_ascii_case("ENABLED")) && range.is_none() {
        for (algorithm, value) in &meta.checksums {
            insert(headers, algorithm.header(), value);
        }
        if let Some(kind) = &meta.checksum_type {
            insert(headers, "x-amz-checksum-type", kind);
        }
    }
    // Overrides a presigned GET may ask for.
    for (param, name) in [
        ("response-content-type", "content-type"),
        ("response-content-disposition", "content-disposition"),
        ("response-content-encoding", "content-encoding"),
        ("response-content-language", "content-language"),
        ("response-cache-control", "cache-control"),
        ("response-expires", "expires"),
    ] {
        if let Some(value) = request.param(param) {
            if HeaderValue::from_str(value).is_err() {
                return Err(S3Error::invalid_argument(param, value, format!("{param} must be a valid header value")));
            }
            insert(headers, name, value);
        }
    }
    Ok(response)
}

/// Applies `If-Match`, `If-Unmodified-Since` (412) and `If-None-Match`,
/// `If-Modified-Since` (304) in the order RFC 9110 gives.
fn check_conditions(request: &S3Request, meta: &ObjectMeta) -> Result<Option<StatusCode>, S3Error> {
    let etag_matches = |list: &str| {
        list.split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.trim_start_matches("W/").trim_matches('"') == meta.etag)
    };
    let modified =
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(meta.last_modified_ms).unwrap_or(0));
    // HTTP dates have one-second resolution.
    let modified_secs = httpdate::parse_http_date(&http_date(meta.last_modified_ms)).unwrap_or(modified);
    let date = |name: &str| request.header(name).and_then(|v| httpdate::parse_http_date(v.trim()).ok());
    if let Some(list) = request.header("if-match") {
        if !etag_matches(list) {
            return Err(precondition_failed("If-Match"));
        }
    } else if let Some(since) = date("if-unmodified-since") {
        if modified_secs > since {
            return Err(precondition_failed("If-Unmodified-Since"));
        }
    }
    if let Some(list) = request.header("if-none-match") {
        if etag_matches(list) {
            return Ok(Some(StatusCode::NOT_MODIFIED));
        }
    } else if let Some(since) = date("if-modified-since") {
        if modified_secs <= since {
            return Ok(Some(StatusCode::NOT_MODIFIED));
        }
    }
    Ok(None)
}

/// Reads a single `bytes=` range of an object of `size` bytes as (start,
/// length). Forms S3 ignores (several ranges, other units, garbage) serve
/// the whole object.
///
/// # Errors
/// `InvalidRange` when the range starts past the end.
pub fn parse_range(value: &str, size: u64) -> Result<Option<(u64, u64)>, S3Error> {
    let Some(spec) = value.trim().strip_prefix("bytes=") else { return Ok(None) };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((first, last)) = spec.split_once('-') else { return Ok(None) };
    let (first, last) = (first.trim(), last.trim());
    let unsatisfiable = || {
        S3Error::new("InvalidRange", StatusCode::RANGE_NOT_SATISFIABLE, "The requested range is not satisfiable")
            .with("RangeRequested", value)
            .with("ActualObjectSize", size.to_string())
    };
    let range = match (first.parse::<u64>(), last.parse::<u64>()) {
        (Ok(start), Ok(end)) if start <= end => {
            if start >= size {
                return Err(unsatisfiable());
            }
            (start, end.min(size - 1) - start + 1)
        }
        (Ok(start), Err(_)) if last.is_empty() => {
            if start >= size {
                return Err(unsatisfiable());
            }
            (start, size - start)
        }
        (Err(_), Ok(suffix)) if first.is_empty() => {
            if suffix == 0 {
                return Err(unsatisfiable());
            }
            let length = suffix.min(size);
            (size - length, length)
        }
        _ => return Ok(None),
    };
    if size == 0 {
        return Err(unsatisfiable());
    }
    Ok(Some(range))
}

/// The size of one piece of a download.
const PIECE: u64 = 512 * 1024;

type PieceRead = tokio::task::JoinHandle<std::io::Result<(std::fs::File, Bytes)>>;

/// Reads the next `want` bytes of `file` on the blocking pool.
fn read_piece(mut file: std::fs::File, want: u64) -> PieceRead {
    tokio::task::spawn_blocking(move || {
        let mut piece = Vec::with_capacity(usize::try_from(want).unwrap_or(0));
        (&mut file).take(want).read_to_end(&mut piece)?;
        if (piece.len() as u64) < want {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the object file ended early"));
        }
        Ok((file, Bytes::from(piece)))
    })
}

/// The next `length` bytes of `file`, streamed in pieces of 512 KiB. The
/// next piece is read from disk while the current one is sent, and no more
/// than that: memory per download stays flat whatever the object's size.
pub fn file_body(file: std::fs::File, length: u64) -> Body {
    let first = (length > 0).then(|| read_piece(file, length.min(PIECE)));
    let state = (first, length.saturating_sub(PIECE));
    let stream = futures_util::stream::unfold(state, |(reading, remaining)| async move {
        let piece = reading?.await.map_err(std::io::Error::other).and_then(|r| r);
        match piece {
            Ok((file, bytes)) => {
                let next = (remaining > 0).then(|| read_piece(file, remaining.min(PIECE)));
                Some((Ok(bytes), (next, remaining.saturating_sub(PIECE))))
            }
            Err(e) => Some((Err(e), (None, 0))),
        }
    });
    Body::from_stream(stream)
}

/// Sets a header, skipping values that cannot be sent (they were checked
/// on the way in, so this only guards against damage).
pub fn insert(headers: &mut HeaderMap, name: &str, value: &str) {
    if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
        headers.insert(name, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_http_and_s3() {
        assert_eq!(parse_range("bytes=0-9", 100).unwrap(), Some((0, 10)));
        assert_eq!(parse_range("bytes=90-200", 100).unwrap(), Some((90, 10)));
        assert_eq!(parse_range("bytes=95-", 100).unwrap(), Some((95, 5)));
        assert_eq!(parse_range("bytes=-10", 100).unwrap(), Some((90, 10)));
        assert_eq!(parse_range("bytes=-500", 100).unwrap(), Some((0, 100)));
        assert_eq!(parse_range("bytes=0-1,5-6", 100).unwrap(), None);
        assert_eq!(parse_range("items=0-1", 100).unwrap(), None);
        assert_eq!(parse_range("bytes=9-1", 100).unwrap(), None);
        assert_eq!(parse_range("bytes=100-", 100).unwrap_err().code, "InvalidRange");
        assert_eq!(parse_range("bytes=0-0", 0).unwrap_err().code, "InvalidRange");
        assert_eq!(parse_range("bytes=-0", 100).unwrap_err().code, "InvalidRange");
    }

    #[test]
    fn upload_headers_drop_aws_chunked_and_limit_metadata() {
        let mut headers = HeaderMap::new();
        headers.insert("content-encoding", HeaderValue::from_static("aws-chunked"));
        headers.insert("x-amz-meta-Owner", HeaderValue::from_static("ada"));
        let upload = UploadHeaders::from_headers(&headers).unwrap();
        assert!(upload.headers.is_empty());
        assert_eq!(upload.user_metadata, [("owner".to_owned(), "ada".to_owned())]);
        headers.insert("x-amz-meta-big", HeaderValue::from_str(&"x".repeat(3000)).unwrap());
        assert_eq!(UploadHeaders::from_headers(&headers).unwrap_err().code, "MetadataTooLarge");
    }
}
