//! Presigned S3 object requests: PUT, GET, HEAD, DELETE and multipart
//! parts, with the exact headers the client must send.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use super::presign::{PresignParams, Validity};
use super::{Endpoint, Signer, check_header};
use crate::canonical::{CanonicalHeaders, CanonicalQuery, push_object_path, write_canonical_tail};
use crate::crypto::PayloadHasher;
use crate::error::SignError;
use crate::request::UNSIGNED_PAYLOAD;
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
///
/// It borrows the method and the headers from the [`ObjectRequest`] it was
/// made from, so presigning allocates only the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedRequest<'r> {
    /// The HTTP method.
    pub method: &'r str,
    /// The complete URL.
    pub url: String,
    /// The headers of the request, as given (see [`Self::headers`]).
    request_headers: &'r [(&'r str, &'r str)],
    /// The first instant at which the URL is refused.
    pub expires_at: AmzDate,
}

impl<'r> PresignedRequest<'r> {
    /// The headers the client must send, with these exact values: names
    /// lower-cased, in the order they were added (`host` is implied by the
    /// URL and not listed).
    pub fn headers(&self) -> impl Iterator<Item = (Cow<'r, str>, &'r str)> + use<'r> {
        self.request_headers.iter().filter(|(n, _)| !n.eq_ignore_ascii_case("host")).map(|&(name, value)| {
            let name = if name.bytes().any(|b| b.is_ascii_uppercase()) {
                Cow::Owned(name.to_ascii_lowercase())
            } else {
                Cow::Borrowed(name)
            };
            (name, value)
        })
    }
}

impl Signer {
    /// Presigns one object operation against `endpoint`.
    ///
    /// The URL is written once: its path and query are the canonical URI
    /// and query, so the canonical request is hashed from slices of the URL.
    ///
    /// # Errors
    /// [`SignError::ExpiresOutOfRange`] outside 1 s ..= 7 days, and
    /// [`SignError::InvalidHeader`] for a header that cannot be sent.
    pub fn presign_object<'r>(
        &self,
        endpoint: &Endpoint,
        request: &'r ObjectRequest<'_>,
        expires_in: Duration,
        now: SystemTime,
    ) -> Result<PresignedRequest<'r>, SignError> {
        for (name, value) in &request.headers {
            check_header(name, value)?;
        }
        let host = endpoint.host_for(request.bucket);
        let mut headers = CanonicalHeaders::default();
        for &(name, value) in &request.headers {
            headers.insert(name, value);
        }
        headers.insert("host", &host);
        let mut query = CanonicalQuery::with_capacity(request.query.len(), 0);
        for (name, value) in &request.query {
            query.push(name, value);
        }
        let second = self.second_at(now);
        // `host` was just added, so unlike `presign` this need not look for it.
        let validity = Validity::check(expires_in, second.time)?;
        let mut expires_buf = [0u8; 20];
        let params = PresignParams::new(self, &second, &validity, &mut expires_buf, &headers);

        let scheme = endpoint.scheme();
        let mut url = String::with_capacity(scheme.len() + host.len() + 3 * request.key.len() + 512);
        url.push_str(scheme);
        url.push_str("://");
        url.push_str(&host);
        let uri_start = url.len();
        push_object_path(&mut url, endpoint.bucket_in_path(request.bucket), request.key);
        let uri = uri_start..url.len();
        url.push('?');
        let query_start = url.len();
        params.write_query(&mut query, &mut url);
        let query_end = url.len();

        // Lines four to six of the canonical request follow the query for a
        // moment, so the whole request hashes from five slices; they are cut
        // off again before the signature goes on.
        url.push('\n');
        write_canonical_tail(&mut url, &headers, UNSIGNED_PAYLOAD);
        let mut hasher = PayloadHasher::new();
        for part in [request.method, "\n", &url[uri], "\n", &url[query_start..]] {
            hasher.update(part.as_bytes());
        }
        url.truncate(query_end);
        let signature = second.sign_hash(&hasher.finish_hex());
        self.finish_url_query(&mut url, &signature);

        Ok(PresignedRequest {
            method: request.method,
            url,
            request_headers: &request.headers,
            expires_at: validity.expires_at(),
        })
    }
}
