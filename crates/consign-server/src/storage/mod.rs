//! The storage target: any S3-compatible store, reached only through the
//! S3 protocol and signed with `consign-sigv4`. The embedded store and a
//! real S3 (AWS, Garage, MinIO, R2) take the same code path.
//!
//! Two endpoints: the one this server calls (`endpoint`) and the one
//! browsers send bytes to (`public_endpoint`, usually the same). A
//! presigned URL signs its host, so grants are signed for the public one.

mod client;

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use consign_sigv4::encoding::{Slash, uri_encode};
use consign_sigv4::{Addressing, Credentials, Endpoint, ObjectRequest, PostForm, PostPolicy, PresignedRequest, Signer};
use consign_store::s3::xml::XmlWriter;

pub use client::{BodyStream, StorageError};

use client::{Call, HttpClient};

/// How copies are made: one CopyObject up to `single_max` bytes (S3's
/// limit, 5 GiB), else UploadPartCopy in parts of `part_size` (1 GiB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyLimits {
    /// The largest object copied with one CopyObject.
    pub single_max: u64,
    /// The part size of a copy in parts.
    pub part_size: u64,
}

impl Default for CopyLimits {
    fn default() -> Self {
        Self { single_max: 5 << 30, part_size: 1 << 30 }
    }
}

/// A configured storage target.
#[derive(Debug)]
pub struct StorageTarget {
    endpoint: Endpoint,
    public_endpoint: Endpoint,
    bucket: String,
    signer: Signer,
    http: HttpClient,
    copy_limits: CopyLimits,
}

/// What `HEAD` tells about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Its size.
    pub size: u64,
    /// Its ETag, quoted as S3 sends it.
    pub etag: String,
    /// Full-object checksums storage reported: `(algorithm, base64)`,
    /// algorithm lower case (`sha256`, `crc32c`, …).
    pub checksums: Vec<(String, String)>,
}

/// One uploaded part, as `ListParts` reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PartInfo {
    /// 1..=10000.
    #[serde(rename = "PartNumber")]
    pub number: u32,
    /// Its ETag, quoted.
    #[serde(rename = "ETag")]
    pub etag: String,
    /// Its size.
    #[serde(rename = "Size")]
    pub size: u64,
    /// When it was uploaded (ISO 8601).
    #[serde(rename = "LastModified")]
    pub last_modified: String,
}

impl StorageTarget {
    /// A target at `endpoint` (and `public_endpoint` for browsers).
    ///
    /// # Errors
    /// When an endpoint is not `http(s)://host[:port]`.
    pub fn new(
        endpoint: &str,
        public_endpoint: Option<&str>,
        addressing: Option<Addressing>,
        region: &str,
        bucket: &str,
        credentials: Credentials,
    ) -> Result<Self, String> {
        let parse = |url: &str| {
            let endpoint = Endpoint::parse(url).map_err(|e| format!("storage endpoint: {e}"))?;
            Ok::<_, String>(match addressing {
                Some(addressing) => endpoint.with_addressing(addressing),
                None => endpoint,
            })
        };
        let endpoint_parsed = parse(endpoint)?;
        let public_endpoint = match public_endpoint {
            Some(url) => parse(url)?,
            None => endpoint_parsed.clone(),
        };
        Ok(Self {
            http: HttpClient::new(endpoint_parsed.scheme() == "https"),
            endpoint: endpoint_parsed,
            public_endpoint,
            bucket: bucket.to_owned(),
            signer: Signer::s3(credentials, region),
            copy_limits: CopyLimits::default(),
        })
    }

    /// This target with other copy limits (tests use small ones to exercise
    /// the copy in parts without 5 GiB objects).
    pub fn with_copy_limits(mut self, limits: CopyLimits) -> Self {
        self.copy_limits = limits;
        self
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// `http(s)://host` browsers upload to.
    pub fn public_url(&self) -> String {
        format!("{}://{}", self.public_endpoint.scheme(), self.public_endpoint.host())
    }

    /// The public URL of `key` (what S3 calls `Location`).
    pub fn object_url(&self, key: &str) -> String {
        let host = self.public_endpoint.host_for(&self.bucket);
        format!("{}://{host}{}", self.public_endpoint.scheme(), self.path(&self.public_endpoint, key))
    }

    fn path(&self, endpoint: &Endpoint, key: &str) -> String {
        let key = uri_encode(key, Slash::Keep);
        match endpoint.bucket_in_path(&self.bucket) {
            Some(bucket) if key.is_empty() => format!("/{}", uri_encode(bucket, Slash::Keep)),
            Some(bucket) => format!("/{}/{key}", uri_encode(bucket, Slash::Keep)),
            None => format!("/{key}"),
        }
    }

    /// A presigned request for browsers (signed for the public endpoint).
    ///
    /// # Errors
    /// When the lifetime or a header cannot be signed.
    pub fn presign<'r>(
        &self,
        request: &'r ObjectRequest<'r>,
        ttl: Duration,
        now: SystemTime,
    ) -> Result<PresignedRequest<'r>, StorageError> {
        self.signer.presign_object(&self.public_endpoint, request, ttl, now).map_err(StorageError::signing)
    }

    /// A signed POST form for browsers.
    ///
    /// # Errors
    /// When the policy cannot be signed.
    pub fn sign_post<'p>(&self, policy: &'p PostPolicy, now: SystemTime) -> Result<PostForm<'p>, StorageError> {
        self.signer.sign_post_policy(&self.public_endpoint, &self.bucket, policy, now).map_err(StorageError::signing)
    }

    async fn call(
        &self,
        method: &str,
        key: &str,
        query: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<client::Response, StorageError> {
        let host = self.endpoint.host_for(&self.bucket);
        let path = self.path(&self.endpoint, key);
        let call = Call { scheme: self.endpoint.scheme(), host: &host, method, path: &path, query, headers };
        self.http.send(&self.signer, &call, body).await
    }

    /// Whether the bucket answers (for `/readyz` and `doctor`).
    ///
    /// # Errors
    /// What storage answered instead.
    pub async fn check_bucket(&self) -> Result<(), StorageError> {
        let response = self.call("HEAD", "", "", &[], Bytes::new()).await?;
        response.expect_success("HeadBucket").map(drop)
    }

    /// `HEAD key`, asking for stored checksums; `None` when there is no
    /// such object.
    ///
    /// # Errors
    /// When storage cannot be reached or refuses.
    pub async fn head_object(&self, key: &str) -> Result<Option<ObjectInfo>, StorageError> {
        let response = self.call("HEAD", key, "", &[("x-amz-checksum-mode", "ENABLED")], Bytes::new()).await?;
        if response.status == 404 {
            return Ok(None);
        }
        let response = response.expect_success("HeadObject")?;
        let size = response
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| StorageError::protocol("HeadObject", "no Content-Length"))?;
        let full_object = response.header("x-amz-checksum-type").is_none_or(|t| t.eq_ignore_ascii_case("FULL_OBJECT"));
        let checksums = response
            .headers
            .iter()
            .filter_map(|(name, value)| {
                let algorithm = name.strip_prefix("x-amz-checksum-")?;
                (algorithm != "type" && algorithm != "mode" && full_object && !value.contains('-'))
                    .then(|| (algorithm.to_owned(), value.clone()))
            })
            .collect();
        Ok(Some(ObjectInfo { size, etag: response.header("etag").unwrap_or_default().to_owned(), checksums }))
    }

    /// The first `length` bytes of `key` (fewer when it is shorter).
    ///
    /// # Errors
    /// When storage cannot be reached or refuses.
    pub async fn read_prefix(&self, key: &str, length: u64) -> Result<Bytes, StorageError> {
        let range = format!("bytes=0-{}", length.saturating_sub(1));
        let response = self.call("GET", key, "", &[("range", &range)], Bytes::new()).await?;
        if response.status == 416 {
            return Ok(Bytes::new());
        }
        Ok(response.expect_success("GetObject")?.body)
    }

    /// The whole of `key` as a stream of pieces, for hashing without
    /// holding the object in memory.
    ///
    /// # Errors
    /// When storage cannot be reached or refuses.
    pub async fn read_stream(&self, key: &str) -> Result<BodyStream, StorageError> {
        let host = self.endpoint.host_for(&self.bucket);
        let path = self.path(&self.endpoint, key);
        let call =
            Call { scheme: self.endpoint.scheme(), host: &host, method: "GET", path: &path, query: "", headers: &[] };
        self.http.stream(&self.signer, &call).await
    }

    /// Deletes `key` (absent is fine).
    ///
    /// # Errors
    /// When storage cannot be reached or refuses.
    pub async fn delete_object(&self, key: &str) -> Result<(), StorageError> {
        let response = self.call("DELETE", key, "", &[], Bytes::new()).await?;
        if response.status == 404 {
            return Ok(());
        }
        response.expect_success("DeleteObject").map(drop)
    }

    /// Copies `from` (of `size` bytes) to `to` in the bucket, keeping
    /// content type and metadata. Objects over 5 GiB, which one CopyObject
    /// cannot take, are copied in 1 GiB parts with UploadPartCopy;
    /// `headers` (content type, `x-amz-meta-*`) start that multipart upload.
    ///
    /// # Errors
    /// When storage cannot be reached or refuses.
    pub async fn copy_object(
        &self,
        from: &str,
        to: &str,
        size: u64,
        headers: &[(&str, &str)],
    ) -> Result<(), StorageError> {
        let source = format!("/{}/{}", self.bucket, uri_encode(from, Slash::Keep));
        if size <= self.copy_limits.single_max {
            let response = self.call("PUT", to, "", &[("x-amz-copy-source", &source)], Bytes::new()).await?;
            return response.xml("CopyObject").map(drop);
        }
        let upload_id = self.create_multipart(to, headers).await?;
        let result = self.copy_parts(&source, to, &upload_id, size).await;
        if result.is_err() {
            let _ = self.abort_multipart(to, &upload_id).await;
        }
        result
    }

    async fn copy_parts(&self, source: &str, to: &str, upload_id: &str, size: u64) -> Result<(), StorageError> {
        let mut parts = Vec::new();
        let part_size = self.copy_limits.part_size.max(1);
        for (index, start) in (0..size).step_by(usize::try_from(part_size).unwrap_or(usize::MAX)).enumerate() {
            let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
            let range = format!("bytes={start}-{}", (start + part_size).min(size) - 1);
            let query = format!("partNumber={number}&uploadId={}", uri_encode(upload_id, Slash::Encode));
            let headers = [("x-amz-copy-source", source), ("x-amz-copy-source-range", range.as_str())];
            let root = self.call("PUT", to, &query, &headers, Bytes::new()).await?.xml("UploadPartCopy")?;
            let etag = root.child_text("ETag").ok_or_else(|| StorageError::protocol("UploadPartCopy", "no ETag"))?;
            parts.push((number, etag.to_owned()));
        }
        self.complete_multipart(to, upload_id, &parts).await
    }

    /// Starts a multipart upload; answers its upload id.
    ///
    /// # Errors
    /// When storage cannot be reached or refuses.
    pub async fn create_multipart(&self, key: &str, headers: &[(&str, &str)]) -> Result<String, StorageError> {
        let response = self.call("POST", key, "uploads=", headers, Bytes::new()).await?;
        let root = response.xml("CreateMultipartUpload")?;
        root.child_text("UploadId")
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| StorageError::protocol("CreateMultipartUpload", "no UploadId in the answer"))
    }

    /// Every part storage holds for an upload; `None` when the upload does
    /// not exist (completed or aborted).
    ///
    /// # Errors
    /// When storage cannot be reached or refuses.
    pub async fn list_parts(&self, key: &str, upload_id: &str) -> Result<Option<Vec<PartInfo>>, StorageError> {
        let mut parts = Vec::new();
        let mut marker = 0u32;
        loop {
            let query = format!("part-number-marker={marker}&uploadId={}", uri_encode(upload_id, Slash::Encode));
            let response = self.call("GET", key, &query, &[], Bytes::new()).await?;
            if response.status == 404 {
                return Ok(None);
            }
            let root = response.xml("ListParts")?;
            for part in root.children_named("Part") {
                let field = |name: &str| part.child_text(name).unwrap_or_default();
                parts.push(PartInfo {
                    number: field("PartNumber")
                        .parse()
                        .map_err(|_| StorageError::protocol("ListParts", "bad PartNumber"))?,
                    etag: field("ETag").to_owned(),
                    size: field("Size").parse().map_err(|_| StorageError::protocol("ListParts", "bad Size"))?,
                    last_modified: field("LastModified").to_owned(),
                });
            }
            let truncated = root.child_text("IsTruncated") == Some("true");
            let next = root.child_text("NextPartNumberMarker").and_then(|m| m.parse().ok()).unwrap_or(0);
            if !truncated || next <= marker {
                return Ok(Some(parts));
            }
            marker = next;
        }
    }

    /// Completes a multipart upload from `(part number, ETag)` pairs.
    ///
    /// # Errors
    /// What storage refused (`InvalidPart`, `EntityTooSmall`, …).
    pub async fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[(u32, String)],
    ) -> Result<(), StorageError> {
        let mut xml = XmlWriter::new();
        xml.root("CompleteMultipartUpload");
        for (number, etag) in parts {
            xml.open("Part");
            xml.element("PartNumber", &number.to_string());
            xml.element("ETag", etag);
            xml.close("Part");
        }
        xml.close("CompleteMultipartUpload");
        let query = format!("uploadId={}", uri_encode(upload_id, Slash::Encode));
        let response = self.call("POST", key, &query, &[], Bytes::from(xml.finish())).await?;
        response.xml("CompleteMultipartUpload").map(drop)
    }

    /// Aborts a multipart upload (one already gone is fine).
    ///
    /// # Errors
    /// When storage cannot be reached or refuses.
    pub async fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<(), StorageError> {
        let query = format!("uploadId={}", uri_encode(upload_id, Slash::Encode));
        let response = self.call("DELETE", key, &query, &[], Bytes::new()).await?;
        if response.status == 404 {
            return Ok(());
        }
        response.expect_success("AbortMultipartUpload").map(drop)
    }
}
