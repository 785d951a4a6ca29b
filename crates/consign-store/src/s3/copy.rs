//! CopyObject and UploadPartCopy: the bytes of one object (or a range of
//! it) written as a new object or part, through the same atomic path as an
//! upload.

use std::io::{Seek, SeekFrom};

use axum::http::StatusCode;
use axum::response::Response;
use consign_sigv4::encoding::percent_decode;
use tokio::io::AsyncReadExt;

use super::auth::Caller;
use super::error::S3Error;
use super::multipart::{part_number, store_part};
use super::object::{UploadHeaders, precondition_failed};
use super::request::S3Request;
use super::xml::XmlWriter;
use super::{iso_date, now_ms, quoted, writable_bucket, xml_response};
use crate::Store;
use crate::body::checksum::{hex, md5_of_etag};
use crate::storage::writer::FinishedObject;
use crate::storage::{ObjectMeta, Storage};

/// The source named by `x-amz-copy-source`: bucket and key.
fn copy_source(request: &S3Request) -> Result<(String, String), S3Error> {
    let raw = request.header("x-amz-copy-source").unwrap_or_default();
    let invalid =
        |why: &str| S3Error::invalid_argument("x-amz-copy-source", raw, format!("Invalid copy source: {why}"));
    let without_version = raw.split_once("?versionId=").map_or(raw, |(s, _)| s);
    let decoded = percent_decode(without_version.trim()).map_err(|_| invalid("bad percent-encoding"))?;
    let decoded = String::from_utf8(decoded.into_owned()).map_err(|_| invalid("not UTF-8"))?;
    let path = decoded.strip_prefix('/').unwrap_or(&decoded);
    match path.split_once('/') {
        Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => Ok((bucket.to_owned(), key.to_owned())),
        _ => Err(invalid("it must be bucket/key, URL-encoded")),
    }
}

/// Opens the source for a caller who must be allowed to read it, checks
/// the `x-amz-copy-source-if-*` conditions, and returns the file and its
/// metadata.
async fn open_source(
    store: &Store,
    request: &S3Request,
    caller: &Caller<'_>,
) -> Result<(std::fs::File, ObjectMeta), S3Error> {
    let (bucket_name, key) = copy_source(request)?;
    if !caller.key.can_read(&bucket_name) {
        return Err(S3Error::access_denied(format!(
            "the access key {} may not read the bucket {bucket_name}",
            caller.key.id
        )));
    }
    let bucket = store.storage().bucket(&bucket_name).ok_or_else(|| S3Error::no_such_bucket(&bucket_name))?;
    let lookup = key.clone();
    let opened = tokio::task::spawn_blocking(move || bucket.open(&lookup))
        .await
        .map_err(|e| S3Error::internal(&e))?
        .map_err(|e| S3Error::internal(&e))?;
    let (file, meta) = opened.ok_or_else(|| S3Error::no_such_key(&key))?;
    let etag_matches =
        |list: &str| list.split(',').map(|t| t.trim().trim_matches('"')).any(|t| t == "*" || t == meta.etag);
    if request.header("x-amz-copy-source-if-match").is_some_and(|l| !etag_matches(l)) {
        return Err(precondition_failed("x-amz-copy-source-If-Match"));
    }
    if request.header("x-amz-copy-source-if-none-match").is_some_and(etag_matches) {
        return Err(precondition_failed("x-amz-copy-source-If-None-Match"));
    }
    Ok((file, meta))
}

/// Streams `length` bytes of `file` from `start` into a temporary file.
async fn copy_range(
    storage: &Storage,
    mut file: std::fs::File,
    start: u64,
    length: u64,
) -> Result<FinishedObject, S3Error> {
    file.seek(SeekFrom::Start(start)).map_err(|e| S3Error::internal(&e))?;
    let mut source = tokio::fs::File::from_std(file);
    let mut pending = crate::storage::PendingObject::create(storage, false, &[]).map_err(|e| S3Error::internal(&e))?;
    let mut buffer = vec![0u8; 1024 * 1024];
    let mut remaining = length;
    while remaining > 0 {
        let want = usize::try_from(remaining.min(buffer.len() as u64)).unwrap_or(buffer.len());
        source.read_exact(&mut buffer[..want]).await.map_err(|e| S3Error::internal(&e))?;
        pending.write(&buffer[..want]).await.map_err(|e| S3Error::internal(&e))?;
        remaining -= want as u64;
    }
    pending.finish().await.map_err(|e| S3Error::internal(&e))
}

/// `PUT /bucket/key` with `x-amz-copy-source`.
pub async fn copy_object(store: &Store, request: &S3Request, caller: &Caller<'_>) -> Result<Response, S3Error> {
    let bucket = writable_bucket(store, request, caller)?;
    let key = request.key.clone().unwrap_or_default();
    let replace = match request.header("x-amz-metadata-directive").map(str::trim) {
        None | Some("COPY") => false,
        Some("REPLACE") => true,
        Some(other) => {
            return Err(S3Error::invalid_argument(
                "x-amz-metadata-directive",
                other,
                "Unknown metadata directive; use COPY or REPLACE",
            ));
        }
    };
    let (file, source) = open_source(store, request, caller).await?;
    if !replace && source.key == key && copy_source(request)?.0 == bucket.name() {
        return Err(S3Error::invalid_request(
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        ));
    }
    if source.size > store.config().limits.max_object_size {
        return Err(crate::body::too_large(store.config().limits.max_object_size));
    }
    // A single-part source's ETag is the MD5 of the bytes, which is also the
    // copy's ETag: the kernel can copy them without their being hashed again.
    let copied = match md5_of_etag(&source.etag) {
        Some(md5) => FinishedObject::copy_with_known_md5(store.storage(), file, 0, source.size, md5)
            .await
            .map_err(|e| S3Error::internal(&e))?,
        None => copy_range(store.storage(), file, 0, source.size).await?,
    };
    let mut meta = if replace {
        UploadHeaders::from_headers(&request.headers)?.into_meta(&key)
    } else {
        ObjectMeta { key: key.clone(), last_modified_ms: now_ms(), parts: None, ..source.clone() }
    };
    meta.size = copied.digests.size;
    meta.etag = hex(&copied.digests.md5);
    meta.checksums = if replace { Vec::new() } else { source.checksums.clone() };
    if meta.checksums.iter().any(|(_, v)| v.contains('-')) {
        // A composite checksum describes the parts of the source, which
        // the copy does not have.
        meta.checksums.clear();
        meta.checksum_type = None;
    }
    let (etag, modified) = (meta.etag.clone(), meta.last_modified_ms);
    copied.commit(bucket, meta).await.map_err(|e| S3Error::internal(&e))?;
    let mut xml = XmlWriter::new();
    xml.root("CopyObjectResult");
    xml.element("LastModified", &iso_date(modified));
    xml.element("ETag", &quoted(&etag));
    xml.close("CopyObjectResult");
    Ok(xml_response(StatusCode::OK, xml.finish()))
}

/// `PUT /bucket/key?partNumber=N&uploadId=…` with `x-amz-copy-source` and
/// an optional `x-amz-copy-source-range: bytes=first-last`.
pub async fn upload_part_copy(store: &Store, request: &S3Request, caller: &Caller<'_>) -> Result<Response, S3Error> {
    writable_bucket(store, request, caller)?;
    let number = part_number(request)?;
    let upload_id = request.param("uploadId").unwrap_or_default();
    let upload = store
        .storage()
        .upload(upload_id)
        .map_err(|e| S3Error::internal(&e))?
        .filter(|u| {
            Some(u.bucket.as_str()) == request.bucket.as_deref() && Some(u.key.as_str()) == request.key.as_deref()
        })
        .ok_or_else(|| S3Error::no_such_upload(upload_id))?;
    let (file, source) = open_source(store, request, caller).await?;
    let (start, length) = match request.header("x-amz-copy-source-range") {
        None => (0, source.size),
        Some(range) => {
            let bad = || {
                S3Error::invalid_argument(
                    "x-amz-copy-source-range",
                    range,
                    format!(
                        "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy, within the object's {} bytes",
                        source.size
                    ),
                )
            };
            let (first, last) = range.trim().strip_prefix("bytes=").and_then(|r| r.split_once('-')).ok_or_else(bad)?;
            let (first, last) = (first.parse::<u64>().map_err(|_| bad())?, last.parse::<u64>().map_err(|_| bad())?);
            if first > last || last >= source.size {
                return Err(bad());
            }
            (first, last - first + 1)
        }
    };
    if length > store.config().limits.max_part_size {
        return Err(crate::body::too_large(store.config().limits.max_part_size));
    }
    let copied = copy_range(store.storage(), file, start, length).await?;
    let (etag, modified) = store_part(store, &upload, number, copied, Vec::new()).await?;
    let mut xml = XmlWriter::new();
    xml.root("CopyPartResult");
    xml.element("LastModified", &iso_date(modified));
    xml.element("ETag", &quoted(&etag));
    xml.close("CopyPartResult");
    Ok(xml_response(StatusCode::OK, xml.finish()))
}
