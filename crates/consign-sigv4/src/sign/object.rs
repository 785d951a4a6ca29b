//! Presigned S3 object requests: PUT, GET, HEAD, DELETE and multipart
//! parts, with the exact headers the client must send.

use std::time::{Duration, SystemTime};

use super::presign::PresignInput;
use super::{Endpoint, Signer, check_header};
use crate::canonical::{CanonicalHeaders, CanonicalQuery, push_object_path};
use crate::error::SignError;
use crate::request::Payload;
use crate::time::AmzDate;

/// One S3 object operation to presign.
#[derive(Debug, Clone)]
pub struct ObjectRequest<'a> {
    method: &'a str,
    bucket: &'a str,
    key: &'a str,
    query: Vec<(&'a str, String)>,
    headers: Vec<(&'a str, &'a str)>,
}

impl<'a> ObjectRequest<'a> {
    /// `method` on the object `key` (not percent-encoded) in `bucket`.
    pub fn new(method: &'a str, bucket: &'a str, key: &'a str) -> Self {
        Self { method, bucket, key, query: Vec::new(), headers: Vec::new() }
    }

    /// PutObject.
    pub fn put(bucket: &'a str, key: &'a str) -> Self {
        Self::new("PUT", bucket, key)
    }

    /// GetObject.
    pub fn get(bucket: &'a str, key: &'a str) -> Self {
        Self::new("GET", bucket, key)
    }

    /// HeadObject.
    pub fn head(bucket: &'a str, key: &'a str) -> Self {
        Self::new("HEAD", bucket, key)
    }

    /// DeleteObject.
    pub fn delete(bucket: &'a str, key: &'a str) -> Self {
        Self::new("DELETE", bucket, key)
    }

    /// UploadPart `part_number` (1..=10000) of the multipart upload
    /// `upload_id`.
    ///
    /// # Errors
    /// [`SignError::PartNumberOutOfRange`].
    pub fn upload_part(bucket: &'a str, key: &'a str, upload_id: &'a str, part_number: u32) -> Result<Self, SignError> {
        if !(1..=10_000).contains(&part_number) {
            return Err(SignError::PartNumberOutOfRange { part_number });
        }
        Ok(Self::put(bucket, key).query("partNumber", part_number.to_string()).query("uploadId", upload_id))
    }

    /// Adds a query parameter (decoded form), such as
    /// `response-content-disposition` on a GET.
    pub fn query(mut self, name: &'a str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    /// Adds a header that is signed and that the client must then send
    /// with exactly this value: `content-type`, `content-length`,
    /// `content-md5`, `x-amz-checksum-sha256`, `x-amz-meta-*`, …
    pub fn header(mut self, name: &'a str, value: &'a str) -> Self {
        self.headers.push((name, value));
        self
    }
}

/// A presigned request: what a client needs to perform it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedRequest {
    /// The HTTP method.
    pub method: String,
    /// The complete URL.
    pub url: String,
    /// The headers the client must send, with these exact values (`host`
    /// is implied by the URL and not listed).
    pub headers: Vec<(String, String)>,
    /// The first instant at which the URL is refused.
    pub expires_at: AmzDate,
}

impl Signer {
    /// Presigns one object operation against `endpoint`.
    ///
    /// # Errors
    /// [`SignError::ExpiresOutOfRange`] outside 1 s ..= 7 days, and
    /// [`SignError::InvalidHeader`] for a header that cannot be sent.
    pub fn presign_object(
        &self,
        endpoint: &Endpoint,
        request: &ObjectRequest<'_>,
        expires_in: Duration,
        now: SystemTime,
    ) -> Result<PresignedRequest, SignError> {
        for (name, value) in &request.headers {
            check_header(name, value)?;
        }
        let host = endpoint.host_for(request.bucket);
        let mut headers = CanonicalHeaders::new(request.headers.iter().copied());
        headers.insert("host", &host);
        let mut query = CanonicalQuery::with_capacity(request.query.len() + 6, 256);
        for (name, value) in &request.query {
            query.push(name, value);
        }
        let bucket_in_path = endpoint.bucket_in_path(request.bucket);
        let key = request.key;
        let signed = self.presign_parts(PresignInput {
            method: request.method,
            write_uri: &|out| {
                push_object_path(out, bucket_in_path, key);
                Ok(())
            },
            query,
            headers,
            payload: Payload::Unsigned,
            expires_in,
            now,
        })?;

        let uri = signed.canonical_request.canonical_uri();
        let mut url =
            String::with_capacity(endpoint.scheme().len() + 3 + host.len() + uri.len() + 1 + signed.query.len());
        url.push_str(endpoint.scheme());
        url.push_str("://");
        url.push_str(&host);
        url.push_str(uri);
        url.push('?');
        url.push_str(&signed.query);
        let headers = request
            .headers
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("host"))
            .map(|(n, v)| (n.to_ascii_lowercase(), (*v).to_owned()))
            .collect();
        Ok(PresignedRequest { method: request.method.to_owned(), url, headers, expires_at: signed.expires_at })
    }
}
