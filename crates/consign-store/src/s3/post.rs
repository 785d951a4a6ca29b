//! PostObject: browser uploads with an HTML form and a signed policy.
//!
//! The form is read as it streams: fields first (each capped), then the
//! file, whose size is held to the policy's `content-length-range` while
//! the bytes arrive. Nothing is stored unless the signature holds, every
//! policy condition holds, and the whole file arrived within the range.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html>

use std::time::SystemTime;

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use consign_sigv4::encoding::{Slash, uri_encode};
use consign_sigv4::{PayloadCheck, PostAuth};

use super::auth::unknown_access_key;
use super::error::S3Error;
use super::object::{STORED_HEADERS, UploadHeaders, insert};
use super::request::{MAX_KEY_BYTES, S3Request};
use super::xml::XmlWriter;
use super::{quoted, xml_response};
use crate::Store;
use crate::body::checksum::hex;
use crate::body::{Expectations, receive_stream};

/// Whether the request is a browser form upload.
pub fn is_form(request: &S3Request) -> bool {
    request
        .header("content-type")
        .is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"))
}

/// The most form fields accepted before the file.
const MAX_FIELDS: usize = 100;

fn too_much_form() -> S3Error {
    S3Error::new(
        "MaxPostPreDataLengthExceeded",
        StatusCode::BAD_REQUEST,
        "Your POST request fields preceding the upload file were too large.",
    )
}

/// `POST /bucket` with `multipart/form-data`.
pub async fn post_object(store: &Store, request: &S3Request, body: Body) -> Result<Response, S3Error> {
    let bucket_name = request.require_bucket()?.to_owned();
    let content_type = request.header("content-type").unwrap_or_default();
    let boundary = multer::parse_boundary(content_type).map_err(|_| {
        S3Error::new(
            "MalformedPOSTRequest",
            StatusCode::BAD_REQUEST,
            "The body of your POST request is not well-formed multipart/form-data: the Content-Type has no boundary.",
        )
    })?;
    let malformed = |e: multer::Error| {
        S3Error::new(
            "MalformedPOSTRequest",
            StatusCode::BAD_REQUEST,
            format!("The body of your POST request is not well-formed multipart/form-data: {e}"),
        )
    };
    let mut form = multer::Multipart::new(body.into_data_stream(), boundary);
    let limit = store.config().limits.max_form_field_bytes;

    // Fields up to the file; S3 ignores whatever follows it.
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut total = 0usize;
    let (file, filename) = loop {
        let Some(mut field) = form.next_field().await.map_err(malformed)? else {
            return Err(S3Error::invalid_argument(
                "file",
                "",
                "POST requires exactly one file upload per request: the form has no field named file.",
            ));
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name.eq_ignore_ascii_case("file") {
            let filename = field.file_name().unwrap_or_default().to_owned();
            break (field, filename);
        }
        if fields.len() == MAX_FIELDS {
            return Err(too_much_form());
        }
        let mut value = Vec::new();
        while let Some(piece) = field.chunk().await.map_err(malformed)? {
            total += piece.len();
            if value.len() + piece.len() > limit || total > limit * 4 {
                return Err(too_much_form());
            }
            value.extend_from_slice(&piece);
        }
        let value = String::from_utf8(value)
            .map_err(|_| S3Error::invalid_argument(&name, "", format!("the form field {name} is not UTF-8")))?;
        fields.push((name, value));
    };
    let field_refs: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let field = |name: &str| field_refs.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v);

    // Who signed, and whether the policy allows this form.
    if field("policy").is_none() && field("x-amz-signature").is_none() && field("signature").is_none() {
        return Err(S3Error::access_denied(
            "anonymous POST uploads are not allowed: the form needs a signed policy (policy, x-amz-credential, x-amz-date, x-amz-algorithm, x-amz-signature)",
        ));
    }
    let auth = PostAuth::parse(&field_refs)?;
    let key = store
        .access_key(&auth.credential.access_key_id)
        .ok_or_else(|| unknown_access_key(&auth.credential.access_key_id))?;
    if !key.can_write(&bucket_name) {
        return Err(S3Error::access_denied(format!(
            "the access key {} may not write to the bucket {bucket_name}",
            key.id
        )));
    }
    let outcome = store.verifier.verify_post(&auth, &field_refs, &bucket_name, &key.secret, SystemTime::now())?;
    let bucket = store.storage().bucket(&bucket_name).ok_or_else(|| S3Error::no_such_bucket(&bucket_name))?;

    let key_template = field("key").ok_or_else(|| {
        S3Error::invalid_argument(
            "key",
            "",
            "Bucket POST must contain a field named 'key'. If it is specified, please check the order of the fields.",
        )
    })?;
    let object_key = key_template.replace("${filename}", &filename);
    if object_key.is_empty() || object_key.len() > MAX_KEY_BYTES {
        return Err(S3Error::new(
            "KeyTooLongError",
            StatusCode::BAD_REQUEST,
            format!("the object key must be 1 to {MAX_KEY_BYTES} bytes"),
        ));
    }

    let stored_headers =
        STORED_HEADERS.iter().filter_map(|h| field(h).map(|v| ((*h).to_owned(), v.to_owned()))).collect();
    let user_metadata = field_refs
        .iter()
        .filter_map(|(n, v)| {
            let lower = n.to_ascii_lowercase();
            lower.strip_prefix("x-amz-meta-").map(|m| (m.to_owned(), (*v).to_owned()))
        })
        .collect();
    let upload = UploadHeaders::from_parts(field("content-type").map(str::to_owned), stored_headers, user_metadata)?;

    let (min_size, max_size) = outcome.content_length_range.unwrap_or((0, u64::MAX));
    let limit = store.config().limits.max_object_size;
    let expect = Expectations {
        payload: PayloadCheck::Unsigned,
        decoded_length: None,
        content_md5: None,
        checksum: None,
        max_size: max_size.min(limit),
        min_size,
        idle_timeout: store.config().limits.idle_timeout,
    };
    let received = receive_stream(file, expect, store.storage()).await?;
    let mut meta = upload.into_meta(&object_key);
    meta.size = received.object.digests.size;
    meta.etag = hex(&received.object.digests.md5);
    let etag = meta.etag.clone();
    received.object.commit(bucket, meta).await.map_err(|e| S3Error::internal(&e))?;

    let host = request.header("host").unwrap_or("localhost");
    let location = format!("http://{host}/{bucket_name}/{}", uri_encode(&object_key, Slash::Keep));
    if let Some(redirect) = field("success_action_redirect").or_else(|| field("redirect")).filter(|r| !r.is_empty()) {
        let separator = if redirect.contains('?') { '&' } else { '?' };
        let target = format!(
            "{redirect}{separator}bucket={}&key={}&etag={}",
            uri_encode(&bucket_name, Slash::Encode),
            uri_encode(&object_key, Slash::Encode),
            uri_encode(&quoted(&etag), Slash::Encode)
        );
        let mut response = StatusCode::SEE_OTHER.into_response();
        insert(response.headers_mut(), header::LOCATION.as_str(), &target);
        insert(response.headers_mut(), "etag", &quoted(&etag));
        return Ok(response);
    }
    let mut response = match field("success_action_status").map(str::trim) {
        Some("200") => StatusCode::OK.into_response(),
        Some("201") => {
            let mut xml = XmlWriter::new();
            xml.root("PostResponse");
            xml.element("Location", &location);
            xml.element("Bucket", &bucket_name);
            xml.element("Key", &object_key);
            xml.element("ETag", &quoted(&etag));
            xml.close("PostResponse");
            xml_response(StatusCode::CREATED, xml.finish())
        }
        _ => StatusCode::NO_CONTENT.into_response(),
    };
    insert(response.headers_mut(), "etag", &quoted(&etag));
    insert(response.headers_mut(), "location", &location);
    Ok(response)
}
