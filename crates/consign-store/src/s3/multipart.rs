//! Multipart uploads: CreateMultipartUpload, UploadPart, ListParts,
//! CompleteMultipartUpload, AbortMultipartUpload, ListMultipartUploads.
//! (UploadPartCopy is with the other copies, in `copy`.)

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::auth::Caller;
use super::error::S3Error;
use super::object::{UploadHeaders, insert};
use super::request::S3Request;
use super::xml::XmlWriter;
use super::{iso_date, now_ms, quoted, read_xml_body, readable_bucket, writable_bucket, xml_response};
use crate::Store;
use crate::body::checksum::{ChecksumAlgorithm, Checksummer, hex};
use crate::body::{Expectations, receive};
use crate::storage::ObjectMeta;
use crate::storage::multipart::{MultipartUpload, PartInfo};
use crate::storage::writer::FinishedObject;

/// Every part but the last must be at least this large.
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// The highest part number.
pub const MAX_PART_NUMBER: u32 = 10_000;

/// The upload named by `uploadId`, which must belong to the request's
/// bucket and key.
fn upload_of(store: &Store, request: &S3Request) -> Result<MultipartUpload, S3Error> {
    let id = request.param("uploadId").unwrap_or_default();
    let upload = store.storage().upload(id).map_err(|e| S3Error::internal(&e))?;
    match upload {
        Some(u)
            if Some(u.bucket.as_str()) == request.bucket.as_deref()
                && Some(u.key.as_str()) == request.key.as_deref() =>
        {
            Ok(u)
        }
        _ => Err(S3Error::no_such_upload(id)),
    }
}

/// Reads `partNumber`.
///
/// # Errors
/// `InvalidArgument` outside 1..=10000.
pub fn part_number(request: &S3Request) -> Result<u32, S3Error> {
    let value = request.param("partNumber").unwrap_or_default();
    value.trim().parse::<u32>().ok().filter(|n| (1..=MAX_PART_NUMBER).contains(n)).ok_or_else(|| {
        S3Error::invalid_argument("partNumber", value, "Part number must be an integer between 1 and 10000, inclusive")
    })
}

/// `POST /bucket/key?uploads`.
pub fn create(store: &Store, request: &S3Request, caller: &Caller<'_>) -> Result<Response, S3Error> {
    let bucket = writable_bucket(store, request, caller)?;
    let key = request.key.clone().unwrap_or_default();
    let headers = UploadHeaders::from_headers(&request.headers)?;
    let checksum_algorithm = match request.header("x-amz-checksum-algorithm") {
        None => None,
        Some(name) => Some(ChecksumAlgorithm::from_name(name).ok_or_else(|| {
            S3Error::invalid_argument("x-amz-checksum-algorithm", name, "Checksum algorithm provided is unsupported")
        })?),
    };
    let upload = MultipartUpload {
        upload_id: crate::storage::Storage::new_upload_id(),
        bucket: bucket.name().to_owned(),
        key: key.clone(),
        initiated_ms: now_ms(),
        content_type: headers.content_type,
        headers: headers.headers,
        user_metadata: headers.user_metadata,
        checksum_algorithm,
    };
    store.storage().create_upload(&upload).map_err(|e| S3Error::internal(&e))?;
    let mut xml = XmlWriter::new();
    xml.root("InitiateMultipartUploadResult");
    xml.element("Bucket", bucket.name());
    xml.element("Key", &key);
    xml.element("UploadId", &upload.upload_id);
    xml.close("InitiateMultipartUploadResult");
    let mut response = xml_response(StatusCode::OK, xml.finish());
    if let Some(algorithm) = checksum_algorithm {
        insert(response.headers_mut(), "x-amz-checksum-algorithm", algorithm.name());
    }
    Ok(response)
}

/// `PUT /bucket/key?partNumber=N&uploadId=…`.
pub async fn upload_part(
    store: &Store,
    request: &S3Request,
    caller: Caller<'_>,
    body: Body,
) -> Result<Response, S3Error> {
    writable_bucket(store, request, &caller)?;
    let number = part_number(request)?;
    let upload = upload_of(store, request)?;
    let limits = &store.config().limits;
    let expect =
        Expectations::from_request(request, caller.verified.payload, limits.max_part_size, limits.idle_timeout)?;
    let received = receive(body, expect, store.storage()).await?;
    let checksums = received.checksum.iter().cloned().collect();
    let (etag, _) = store_part(store, &upload, number, received.object, checksums).await?;
    let mut response = StatusCode::OK.into_response();
    insert(response.headers_mut(), "etag", &quoted(&etag));
    if let Some((algorithm, value)) = &received.checksum {
        insert(response.headers_mut(), algorithm.header(), value);
    }
    Ok(response)
}

/// Publishes a received (or copied) part as part `number` of `upload`;
/// returns its ETag and modification time.
///
/// # Errors
/// `NoSuchUpload` when the upload was aborted while the part arrived.
pub async fn store_part(
    store: &Store,
    upload: &MultipartUpload,
    number: u32,
    object: FinishedObject,
    checksums: Vec<(ChecksumAlgorithm, String)>,
) -> Result<(String, i64), S3Error> {
    let meta = ObjectMeta {
        key: format!("{}#{number}", upload.key),
        size: object.digests.size,
        etag: hex(&object.digests.md5),
        last_modified_ms: now_ms(),
        content_type: None,
        headers: Vec::new(),
        user_metadata: Vec::new(),
        checksums,
        checksum_type: None,
        parts: None,
    };
    let stored = (meta.etag.clone(), meta.last_modified_ms);
    object.commit_to(store.storage().part_path(&upload.upload_id, number), meta).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            S3Error::no_such_upload(&upload.upload_id)
        } else {
            S3Error::internal(&e)
        }
    })?;
    Ok(stored)
}

/// `GET /bucket/key?uploadId=…`: ListParts.
pub fn list_parts(store: &Store, request: &S3Request, caller: &Caller<'_>) -> Result<Response, S3Error> {
    readable_bucket(store, request, caller)?;
    let upload = upload_of(store, request)?;
    let number_param = |name: &str, default: u32| -> Result<u32, S3Error> {
        match request.param(name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| S3Error::invalid_argument(name, v, format!("{name} must be a whole number"))),
        }
    };
    let max_parts = number_param("max-parts", 1000)?.min(1000) as usize;
    let marker = number_param("part-number-marker", 0)?;
    let parts = store.storage().parts(&upload.upload_id).map_err(|e| S3Error::internal(&e))?;
    let after: Vec<&PartInfo> = parts.iter().filter(|p| p.number > marker).collect();
    let page = &after[..after.len().min(max_parts)];
    let truncated = after.len() > page.len();

    let mut xml = XmlWriter::new();
    xml.root("ListPartsResult");
    xml.element("Bucket", &upload.bucket);
    xml.element("Key", &upload.key);
    xml.element("UploadId", &upload.upload_id);
    xml.element("PartNumberMarker", &marker.to_string());
    if let Some(last) = page.last() {
        xml.element("NextPartNumberMarker", &last.number.to_string());
    }
    xml.element("MaxParts", &max_parts.to_string());
    xml.element("IsTruncated", if truncated { "true" } else { "false" });
    for part in page {
        xml.open("Part");
        xml.element("PartNumber", &part.number.to_string());
        xml.element("LastModified", &iso_date(part.last_modified_ms));
        xml.element("ETag", &quoted(&part.etag));
        xml.element("Size", &part.size.to_string());
        for (algorithm, value) in &part.checksums {
            xml.element(algorithm.xml_element(), value);
        }
        xml.close("Part");
    }
    xml.person("Initiator", &caller.key.id);
    xml.person("Owner", &caller.key.id);
    xml.element("StorageClass", "STANDARD");
    if let Some(algorithm) = upload.checksum_algorithm {
        xml.element("ChecksumAlgorithm", algorithm.name());
    }
    xml.close("ListPartsResult");
    Ok(xml_response(StatusCode::OK, xml.finish()))
}

/// `DELETE /bucket/key?uploadId=…`.
pub fn abort(store: &Store, request: &S3Request, caller: &Caller<'_>) -> Result<Response, S3Error> {
    writable_bucket(store, request, caller)?;
    let upload = upload_of(store, request)?;
    if !store.storage().abort_upload(&upload.upload_id).map_err(|e| S3Error::internal(&e))? {
        return Err(S3Error::no_such_upload(&upload.upload_id));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /bucket/key?uploadId=…`: CompleteMultipartUpload.
pub async fn complete(
    store: &Store,
    request: &S3Request,
    caller: &Caller<'_>,
    body: Body,
) -> Result<Response, S3Error> {
    let bucket = writable_bucket(store, request, caller)?;
    let upload = upload_of(store, request)?;
    let root = read_xml_body(body, store.config().limits.max_xml_body, &caller.verified.payload).await?;
    if root.name != "CompleteMultipartUpload" {
        return Err(S3Error::malformed_xml(format!(
            "the root element must be CompleteMultipartUpload, not {}",
            root.name
        )));
    }
    let mut requested: Vec<(u32, String)> = Vec::new();
    for part in root.children_named("Part") {
        let number = part
            .child_text("PartNumber")
            .and_then(|n| n.trim().parse::<u32>().ok())
            .ok_or_else(|| S3Error::malformed_xml("every Part needs a PartNumber between 1 and 10000"))?;
        let etag = part.child_text("ETag").ok_or_else(|| S3Error::malformed_xml("every Part needs an ETag"))?;
        requested.push((number, etag.trim().trim_matches('"').to_owned()));
    }
    if requested.is_empty() {
        return Err(S3Error::malformed_xml("You must specify at least one part"));
    }
    if requested.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err(S3Error::new(
            "InvalidPartOrder",
            StatusCode::BAD_REQUEST,
            "The list of parts was not in ascending order. The parts list must be specified in order by part number.",
        ));
    }
    let stored = store.storage().parts(&upload.upload_id).map_err(|e| S3Error::internal(&e))?;
    let mut chosen = Vec::with_capacity(requested.len());
    for (i, (number, etag)) in requested.iter().enumerate() {
        let part = stored.iter().find(|p| p.number == *number && p.etag == *etag).ok_or_else(|| {
            S3Error::new(
                "InvalidPart",
                StatusCode::BAD_REQUEST,
                "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not have matched the part's entity tag.",
            )
            .with("PartNumber", number.to_string())
            .with("ETag", etag.clone())
        })?;
        if i + 1 < requested.len() && part.size < MIN_PART_SIZE {
            return Err(S3Error::new(
                "EntityTooSmall",
                StatusCode::BAD_REQUEST,
                "Your proposed upload is smaller than the minimum allowed object size.",
            )
            .with("ProposedSize", part.size.to_string())
            .with("MinSizeAllowed", MIN_PART_SIZE.to_string())
            .with("PartNumber", number.to_string()));
        }
        chosen.push(part.clone());
    }
    let mut meta = UploadHeaders {
        content_type: upload.content_type.clone(),
        headers: upload.headers.clone(),
        user_metadata: upload.user_metadata.clone(),
    }
    .into_meta(&upload.key);
    if let Some(algorithm) = upload.checksum_algorithm {
        if let Some(composite) = composite_checksum(algorithm, &chosen) {
            meta.checksums = vec![(algorithm, composite)];
            meta.checksum_type = Some("COMPOSITE".to_owned());
        }
    }
    let meta = store
        .storage()
        .complete_upload(bucket, upload.upload_id.clone(), chosen, meta)
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidInput => S3Error::new(
                "InvalidPart",
                StatusCode::BAD_REQUEST,
                format!("A part was uploaded again while the upload was being completed ({e}); complete it again with the new ETag."),
            ),
            std::io::ErrorKind::NotFound => S3Error::no_such_upload(&upload.upload_id),
            _ => S3Error::internal(&e),
        })?;

    let host = request.header("host").unwrap_or("localhost");
    let mut xml = XmlWriter::new();
    xml.root("CompleteMultipartUploadResult");
    xml.element(
        "Location",
        &format!(
            "http://{host}/{}/{}",
            upload.bucket,
            consign_sigv4::encoding::uri_encode(&upload.key, consign_sigv4::encoding::Slash::Keep)
        ),
    );
    xml.element("Bucket", &upload.bucket);
    xml.element("Key", &upload.key);
    xml.element("ETag", &quoted(&meta.etag));
    for (algorithm, value) in &meta.checksums {
        xml.element(algorithm.xml_element(), value);
    }
    xml.close("CompleteMultipartUploadResult");
    Ok(xml_response(StatusCode::OK, xml.finish()))
}

/// S3's composite checksum: the checksum of the parts' raw checksums, with
/// `-N`. `None` when a part has no checksum of that algorithm.
fn composite_checksum(algorithm: ChecksumAlgorithm, parts: &[PartInfo]) -> Option<String> {
    let mut outer = Checksummer::new(algorithm);
    for part in parts {
        let value = part.checksums.iter().find(|(a, _)| *a == algorithm)?;
        outer.update(&STANDARD.decode(&value.1).ok()?);
    }
    Some(format!("{}-{}", outer.finish(), parts.len()))
}

/// The uploads (sorted by key, then initiation) that a page starting at
/// `key_marker` and `upload_id_marker` lists: those of later keys and, with
/// an upload ID marker, those of `key_marker` listed after that upload (or,
/// when it is gone, with a greater upload ID, as S3 documents).
fn uploads_after<'u>(
    uploads: &'u [MultipartUpload],
    key_marker: &str,
    upload_id_marker: &str,
) -> Vec<&'u MultipartUpload> {
    if !upload_id_marker.is_empty() {
        if let Some(at) = uploads.iter().position(|u| u.key == key_marker && u.upload_id == upload_id_marker) {
            return uploads[at + 1..].iter().collect();
        }
    }
    let same_key_after = |u: &MultipartUpload| {
        !upload_id_marker.is_empty() && u.key == key_marker && u.upload_id.as_str() > upload_id_marker
    };
    uploads.iter().filter(|u| u.key.as_str() > key_marker || same_key_after(u)).collect()
}

/// `GET /bucket?uploads`: ListMultipartUploads.
pub fn list_uploads(store: &Store, request: &S3Request, caller: &Caller<'_>) -> Result<Response, S3Error> {
    let bucket = readable_bucket(store, request, caller)?;
    let prefix = request.param("prefix").unwrap_or("");
    let max = match request.param("max-uploads") {
        None => 1000,
        Some(v) => v
            .trim()
            .parse::<usize>()
            .map_err(|_| S3Error::invalid_argument("max-uploads", v, "max-uploads must be a whole number"))?
            .min(1000),
    };
    let key_marker = request.param("key-marker").unwrap_or("");
    // S3 ignores upload-id-marker without key-marker.
    let upload_id_marker = request.param("upload-id-marker").filter(|_| !key_marker.is_empty()).unwrap_or("");
    let uploads = store.storage().uploads(bucket.name()).map_err(|e| S3Error::internal(&e))?;
    let matching: Vec<&MultipartUpload> = uploads_after(&uploads, key_marker, upload_id_marker)
        .into_iter()
        .filter(|u| u.key.starts_with(prefix))
        .collect();
    let page = &matching[..matching.len().min(max)];
    let mut xml = XmlWriter::new();
    xml.root("ListMultipartUploadsResult");
    xml.element("Bucket", bucket.name());
    xml.element("KeyMarker", key_marker);
    xml.element("UploadIdMarker", upload_id_marker);
    if let (Some(last), true) = (page.last(), matching.len() > page.len()) {
        xml.element("NextKeyMarker", &last.key);
        xml.element("NextUploadIdMarker", &last.upload_id);
    }
    xml.element("Prefix", prefix);
    xml.element("MaxUploads", &max.to_string());
    xml.element("IsTruncated", if matching.len() > page.len() { "true" } else { "false" });
    for upload in page {
        xml.open("Upload");
        xml.element("Key", &upload.key);
        xml.element("UploadId", &upload.upload_id);
        xml.person("Initiator", &caller.key.id);
        xml.person("Owner", &caller.key.id);
        xml.element("StorageClass", "STANDARD");
        xml.element("Initiated", &iso_date(upload.initiated_ms));
        xml.close("Upload");
    }
    xml.close("ListMultipartUploadsResult");
    Ok(xml_response(StatusCode::OK, xml.finish()))
}
