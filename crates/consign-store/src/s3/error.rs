//! S3 errors: the code, status and message S3 uses, written as S3's XML.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html>

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use consign_sigv4::VerifyError;

use super::xml::XmlWriter;

/// One S3 error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Error {
    /// `NoSuchKey`, `SignatureDoesNotMatch`, …
    pub code: &'static str,
    /// What went wrong, for a person.
    pub message: String,
    /// The HTTP status.
    pub status: StatusCode,
    /// Extra elements S3 includes for this code (`Key`, `BucketName`,
    /// `StringToSign`, `CanonicalRequest`, …).
    pub details: Vec<(&'static str, String)>,
}

impl S3Error {
    /// An error with a code, status and message.
    pub fn new(code: &'static str, status: StatusCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), status, details: Vec::new() }
    }

    /// Adds an element to the XML body.
    pub fn with(mut self, element: &'static str, value: impl Into<String>) -> Self {
        self.details.push((element, value.into()));
        self
    }

    /// 404 `NoSuchBucket`.
    pub fn no_such_bucket(bucket: &str) -> Self {
        Self::new("NoSuchBucket", StatusCode::NOT_FOUND, "The specified bucket does not exist")
            .with("BucketName", bucket)
    }

    /// 404 `NoSuchKey`.
    pub fn no_such_key(key: &str) -> Self {
        Self::new("NoSuchKey", StatusCode::NOT_FOUND, "The specified key does not exist.").with("Key", key)
    }

    /// 404 `NoSuchUpload`.
    pub fn no_such_upload(upload_id: &str) -> Self {
        Self::new(
            "NoSuchUpload",
            StatusCode::NOT_FOUND,
            "The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
        )
        .with("UploadId", upload_id)
    }

    /// 400 `InvalidArgument`, naming the argument.
    pub fn invalid_argument(name: &str, value: &str, message: impl Into<String>) -> Self {
        Self::new("InvalidArgument", StatusCode::BAD_REQUEST, message)
            .with("ArgumentName", name)
            .with("ArgumentValue", value.chars().take(256).collect::<String>())
    }

    /// 400 `InvalidRequest`.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new("InvalidRequest", StatusCode::BAD_REQUEST, message)
    }

    /// 403 `AccessDenied`.
    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::new("AccessDenied", StatusCode::FORBIDDEN, message)
    }

    /// 400 `MalformedXML`.
    pub fn malformed_xml(message: impl Into<String>) -> Self {
        Self::new("MalformedXML", StatusCode::BAD_REQUEST, message)
    }

    /// 500 `InternalError`. The cause is logged, never sent.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            "InternalError",
            StatusCode::INTERNAL_SERVER_ERROR,
            "We encountered an internal error. Please try again.",
        )
    }

    /// 501 `NotImplemented`.
    pub fn not_implemented(what: &str) -> Self {
        Self::new(
            "NotImplemented",
            StatusCode::NOT_IMPLEMENTED,
            format!("A header or query you provided implies functionality that is not implemented: {what}"),
        )
    }

    /// The XML body.
    pub fn to_xml(&self, request_id: &str) -> String {
        let mut xml = XmlWriter::new();
        xml.open("Error");
        xml.element("Code", self.code);
        xml.element("Message", &self.message);
        for (name, value) in &self.details {
            xml.element(name, value);
        }
        xml.element("RequestId", request_id);
        xml.close("Error");
        xml.finish()
    }

    /// The response, with `x-amz-request-id`.
    pub fn into_response_with_id(self, request_id: &str, head: bool) -> Response {
        let body = if head { String::new() } else { self.to_xml(request_id) };
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
        if let Ok(id) = HeaderValue::from_str(request_id) {
            headers.insert("x-amz-request-id", id);
        }
        response
    }
}

impl std::fmt::Display for S3Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl From<VerifyError> for S3Error {
    fn from(error: VerifyError) -> Self {
        let code = error.s3_code();
        let status = StatusCode::from_u16(code.status).unwrap_or(StatusCode::FORBIDDEN);
        let mut s3 = S3Error::new(code.code, status, error.to_string());
        match error {
            VerifyError::SignatureDoesNotMatch {
                access_key_id,
                canonical_request,
                string_to_sign,
                signature_provided,
            } => {
                s3 = s3
                    .with("AWSAccessKeyId", access_key_id)
                    .with("StringToSign", string_to_sign)
                    .with("SignatureProvided", signature_provided);
                if !canonical_request.is_empty() {
                    s3 = s3.with("CanonicalRequest", canonical_request);
                }
            }
            VerifyError::ChunkSignatureDoesNotMatch { string_to_sign, .. } => {
                s3 = s3.with("StringToSign", string_to_sign)
            }
            VerifyError::RequestTimeTooSkewed { request_time, server_time, max_skew_seconds } => {
                s3 = s3
                    .with("RequestTime", request_time.to_string())
                    .with("ServerTime", server_time.to_iso8601())
                    .with("MaxAllowedSkewMilliseconds", (u64::from(max_skew_seconds) * 1000).to_string());
            }
            VerifyError::Expired { expired_at, now } => {
                s3 = s3.with("Expires", expired_at.to_iso8601()).with("ServerTime", now.to_iso8601());
            }
            _ => {}
        }
        s3
    }
}
