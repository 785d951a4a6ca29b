//! Every way signing or verification can fail, and, in one place, the S3
//! error code and HTTP status a real S3 answers for each.

use std::fmt;

use crate::time::AmzDate;

/// Where the credentials of a request were found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthLocation {
    /// The `Authorization` header.
    Header,
    /// The query string of a presigned URL.
    Query,
    /// The fields of a browser POST form.
    Form,
}

impl AuthLocation {
    fn describe(self) -> &'static str {
        match self {
            AuthLocation::Header => "Authorization header",
            AuthLocation::Query => "presigned URL",
            AuthLocation::Form => "POST form",
        }
    }
}

/// Why a request, presigned URL, POST form or aws-chunked body was refused.
///
/// `Display` says what failed and what to do about it; [`Self::s3_code`]
/// and [`Self::http_status`] give what S3 would answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// No credentials at all.
    Anonymous,
    /// A Signature Version 2 request.
    SignatureVersion2 {
        /// Where the Version 2 credentials were.
        location: AuthLocation,
    },
    /// More than one of: `Authorization` header, presigned query, (POST has
    /// its own route).
    MultipleAuthMechanisms,
    /// The `Authorization` header, presigned query or POST form could not be
    /// read; `reason` names the element.
    Malformed {
        /// Where.
        location: AuthLocation,
        /// Which element is wrong and how.
        reason: String,
    },
    /// An algorithm other than `AWS4-HMAC-SHA256`.
    UnsupportedAlgorithm {
        /// Where.
        location: AuthLocation,
        /// The algorithm given.
        algorithm: String,
    },
    /// The credential scope names another region, service or date, or does
    /// not end in `aws4_request`.
    ScopeMismatch {
        /// Where.
        location: AuthLocation,
        /// `date`, `region`, `service` or `terminator`.
        element: &'static str,
        /// What was given.
        found: String,
        /// What this receiver expects.
        expected: String,
    },
    /// The request time is further from the receiver's clock than allowed.
    RequestTimeTooSkewed {
        /// The time the request says it was signed.
        request_time: AmzDate,
        /// The receiver's time.
        server_time: AmzDate,
        /// The allowed difference.
        max_skew_seconds: u32,
    },
    /// A presigned URL or POST policy used after its expiry.
    Expired {
        /// When it stopped being valid.
        expired_at: AmzDate,
        /// The receiver's time.
        now: AmzDate,
    },
    /// A presigned URL used before the time it was signed for.
    NotYetValid {
        /// When it becomes valid.
        valid_from: AmzDate,
        /// The receiver's time.
        now: AmzDate,
    },
    /// `X-Amz-Expires` outside 1..=604800 seconds.
    ExpiresOutOfRange {
        /// The value given.
        value: String,
    },
    /// A header that must be signed (`host`, any `x-amz-*`) was sent but is
    /// not in `SignedHeaders`.
    UnsignedHeader {
        /// The header name, lower case.
        name: String,
    },
    /// A header listed in `SignedHeaders` was not sent.
    SignedHeaderMissing {
        /// The header name, lower case.
        name: String,
    },
    /// A value given both in the query and in a header, differently.
    ConflictingValue {
        /// The parameter/header name.
        name: String,
    },
    /// `x-amz-content-sha256` is missing from a header-signed S3 request.
    MissingContentSha256,
    /// `x-amz-content-sha256` is neither a hex SHA-256 nor a known literal.
    InvalidContentSha256 {
        /// The value given.
        value: String,
    },
    /// The signature given is not 64 lower-case hex digits.
    MalformedSignature {
        /// Where.
        location: AuthLocation,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The signature does not match. Carries what the receiver computed, so
    /// the sender can compare it with their own canonical request.
    SignatureDoesNotMatch {
        /// The access key used.
        access_key_id: String,
        /// The canonical request the receiver built (empty for POST).
        canonical_request: String,
        /// The string to sign the receiver built.
        string_to_sign: String,
        /// The signature the sender gave.
        signature_provided: String,
    },
    /// The POST policy is not valid base64 JSON of the documented shape.
    InvalidPolicyDocument {
        /// What is wrong with it.
        reason: String,
    },
    /// The POST policy's `expiration` has passed.
    PolicyExpired {
        /// The policy's expiration.
        expiration: AmzDate,
        /// The receiver's time.
        now: AmzDate,
    },
    /// A POST form field does not meet a policy condition.
    PolicyConditionFailed {
        /// The condition, as it appears in the policy.
        condition: String,
        /// The value the form gave, if any.
        value: Option<String>,
    },
    /// A POST form field that no policy condition covers.
    ExtraFormField {
        /// The field name.
        name: String,
    },
    /// An aws-chunked body that is not well formed.
    MalformedChunk {
        /// What is wrong.
        reason: String,
    },
    /// A chunk larger than allowed, or a non-final chunk below 8 KiB.
    InvalidChunkSize {
        /// What is wrong.
        reason: String,
    },
    /// A chunk's (or the trailer's) signature does not match.
    ChunkSignatureDoesNotMatch {
        /// Which chunk, counting from 1; the trailer counts as the last.
        chunk: u64,
        /// The string to sign the receiver built.
        string_to_sign: String,
    },
    /// The trailer is missing, unexpected or not well formed.
    MalformedTrailer {
        /// What is wrong.
        reason: String,
    },
    /// The body ended before the final chunk, or the decoded length differs
    /// from `x-amz-decoded-content-length`.
    IncompleteBody {
        /// What is wrong.
        reason: String,
    },
}

/// An S3 error as it goes on the wire: the `<Code>` and HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct S3ErrorCode {
    /// The `<Code>` element, such as `SignatureDoesNotMatch`.
    pub code: &'static str,
    /// The HTTP status.
    pub status: u16,
}

impl VerifyError {
    /// The S3 error code and status that a real S3 returns for this failure.
    pub fn s3_code(&self) -> S3ErrorCode {
        use VerifyError::*;
        let (code, status) = match self {
            Anonymous | UnsignedHeader { .. } | Expired { .. } | NotYetValid { .. } | PolicyExpired { .. } => {
                ("AccessDenied", 403)
            }
            PolicyConditionFailed { .. } | ExtraFormField { .. } => ("AccessDenied", 403),
            SignatureVersion2 { .. } => ("InvalidRequest", 400),
            MultipleAuthMechanisms | ConflictingValue { .. } => ("InvalidArgument", 400),
            Malformed { location, .. } | UnsupportedAlgorithm { location, .. } | ScopeMismatch { location, .. } => {
                match location {
                    AuthLocation::Header => ("AuthorizationHeaderMalformed", 400),
                    AuthLocation::Query => ("AuthorizationQueryParametersError", 400),
                    AuthLocation::Form => ("InvalidArgument", 400),
                }
            }
            ExpiresOutOfRange { .. } => ("AuthorizationQueryParametersError", 400),
            RequestTimeTooSkewed { .. } => ("RequestTimeTooSkewed", 403),
            SignedHeaderMissing { .. }
            | MalformedSignature { .. }
            | SignatureDoesNotMatch { .. }
            | ChunkSignatureDoesNotMatch { .. } => ("SignatureDoesNotMatch", 403),
            MissingContentSha256 => ("InvalidRequest", 400),
            InvalidContentSha256 { .. } => ("InvalidArgument", 400),
            InvalidPolicyDocument { .. } => ("InvalidPolicyDocument", 400),
            MalformedChunk { .. } => ("InvalidRequest", 400),
            InvalidChunkSize { .. } => ("InvalidChunkSizeError", 403),
            MalformedTrailer { .. } => ("MalformedTrailerError", 400),
            IncompleteBody { .. } => ("IncompleteBody", 400),
        };
        S3ErrorCode { code, status }
    }

    /// The HTTP status, as [`Self::s3_code`] gives it.
    pub fn http_status(&self) -> u16 {
        self.s3_code().status
    }

    pub(crate) fn malformed(location: AuthLocation, reason: impl Into<String>) -> Self {
        Self::Malformed { location, reason: reason.into() }
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use VerifyError::*;
        match self {
            Anonymous => f.write_str(
                "anonymous requests are not allowed: sign the request with AWS Signature Version 4 \
                 (an Authorization header or a presigned URL)",
            ),
            SignatureVersion2 { location } => {
                let expected = match location {
                    AuthLocation::Header => {
                        "an Authorization header of the form 'AWS4-HMAC-SHA256 Credential=AKID/YYYYMMDD/region/s3/aws4_request, \
                         SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=<64 hex>' instead of 'AWS AKID:signature'"
                    }
                    AuthLocation::Query => {
                        "the query parameters X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires, \
                         X-Amz-SignedHeaders and X-Amz-Signature instead of AWSAccessKeyId, Expires and Signature"
                    }
                    AuthLocation::Form => {
                        "the form fields x-amz-algorithm, x-amz-credential, x-amz-date and x-amz-signature \
                         instead of AWSAccessKeyId and signature"
                    }
                };
                write!(f, "this {} uses Signature Version 2, which is not supported; Signature Version 4 expects {expected}", location.describe())
            }
            MultipleAuthMechanisms => f.write_str(
                "only one auth mechanism allowed: send either an Authorization header or presigned X-Amz-* query parameters, not both",
            ),
            Malformed { location, reason } => write!(f, "the {} is malformed: {reason}", location.describe()),
            UnsupportedAlgorithm { location, algorithm } => write!(
                f,
                "the {} names the algorithm {algorithm:?}; only \"AWS4-HMAC-SHA256\" is supported",
                location.describe()
            ),
            ScopeMismatch { location, element, found, expected } => write!(
                f,
                "the credential scope of the {} is wrong: the {element} is {found:?}; expecting {expected:?}",
                location.describe()
            ),
            RequestTimeTooSkewed { request_time, server_time, max_skew_seconds } => write!(
                f,
                "the difference between the request time ({request_time}) and the server's time ({server_time}) \
                 is more than {max_skew_seconds} seconds: check the client's clock"
            ),
            Expired { expired_at, now } => {
                write!(f, "Request has expired: it was valid until {expired_at}, and it is now {now}")
            }
            NotYetValid { valid_from, now } => {
                write!(f, "Request is not valid yet: it is valid from {valid_from}, and it is now {now}")
            }
            ExpiresOutOfRange { value } => write!(
                f,
                "X-Amz-Expires is {value:?}; it must be a whole number of seconds from 1 to 604800 (7 days)"
            ),
            UnsignedHeader { name } => write!(
                f,
                "There were headers present in the request which were not signed: {name} (host and every x-amz-* header must be listed in SignedHeaders)"
            ),
            SignedHeaderMissing { name } => {
                write!(f, "the header {name:?} is listed in SignedHeaders but was not sent with the request")
            }
            ConflictingValue { name } => {
                write!(f, "{name} is given both as a query parameter and as a header, with different values")
            }
            MissingContentSha256 => f.write_str(
                "Missing required header for this request: x-amz-content-sha256 (the hex SHA-256 of the body, \
                 UNSIGNED-PAYLOAD, or a STREAMING-* value)",
            ),
            InvalidContentSha256 { value } => write!(
                f,
                "x-amz-content-sha256 is {value:?}; it must be 64 lower-case hex digits, UNSIGNED-PAYLOAD, \
                 STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or STREAMING-UNSIGNED-PAYLOAD-TRAILER"
            ),
            MalformedSignature { location, reason } => {
                write!(f, "the signature in the {} is malformed: {reason}", location.describe())
            }
            SignatureDoesNotMatch { .. } => f.write_str(
                "The request signature we calculated does not match the signature you provided. Check your key and \
                 signing method; compare your canonical request and string to sign with the ones in this error",
            ),
            InvalidPolicyDocument { reason } => write!(f, "Invalid Policy: {reason}"),
            PolicyExpired { expiration, now } => write!(
                f,
                "Invalid according to Policy: Policy expired. It expired at {}, and it is now {}",
                expiration.to_iso8601(),
                now.to_iso8601()
            ),
            PolicyConditionFailed { condition, value } => match value {
                Some(value) => write!(f, "Invalid according to Policy: Policy Condition failed: {condition} (the form gave {value:?})"),
                None => write!(f, "Invalid according to Policy: Policy Condition failed: {condition} (the form has no such field)"),
            },
            ExtraFormField { name } => write!(
                f,
                "Invalid according to Policy: Extra input fields: {name} (every form field except file, policy, \
                 x-amz-signature and x-ignore-* must be covered by a policy condition)"
            ),
            MalformedChunk { reason } => write!(f, "the aws-chunked body is malformed: {reason}"),
            InvalidChunkSize { reason } => write!(f, "invalid chunk size: {reason}"),
            ChunkSignatureDoesNotMatch { chunk, .. } => {
                write!(f, "the signature of chunk {chunk} of the aws-chunked body does not match")
            }
            MalformedTrailer { reason } => write!(f, "the trailer of the aws-chunked body is malformed: {reason}"),
            IncompleteBody { reason } => write!(f, "the body is incomplete: {reason}"),
        }
    }
}

impl std::error::Error for VerifyError {}

/// Why a request, URL, policy or chunk could not be signed: a problem with
/// what the caller asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignError {
    /// A presigned URL's lifetime outside 1 s ..= 7 days.
    ExpiresOutOfRange {
        /// The lifetime asked for, in seconds.
        seconds: u64,
    },
    /// The request has no `host` header.
    MissingHost,
    /// A path or query with a `%` that is not an escape.
    BadPercentEncoding {
        /// The text that held it.
        input: String,
    },
    /// A header name that is not a token, or a value with a line break.
    InvalidHeader {
        /// The header name.
        name: String,
    },
    /// An endpoint URL that is not `http(s)://host[:port]`.
    InvalidEndpoint {
        /// What is wrong.
        reason: String,
    },
    /// A multipart part number outside 1..=10000.
    PartNumberOutOfRange {
        /// The number given.
        part_number: u32,
    },
    /// A POST policy condition that cannot be expressed.
    InvalidPolicy {
        /// What is wrong.
        reason: String,
    },
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use SignError::*;
        match self {
            ExpiresOutOfRange { seconds } => write!(
                f,
                "a presigned URL may live from 1 second to 604800 seconds (7 days); {seconds} seconds was asked for"
            ),
            MissingHost => f.write_str("the request has no host header, which SigV4 always signs"),
            BadPercentEncoding { input } => write!(f, "{input:?} has a '%' that is not followed by two hex digits"),
            InvalidHeader { name } => write!(
                f,
                "the header {name:?} cannot be signed: names must be HTTP tokens and values must not contain line breaks"
            ),
            InvalidEndpoint { reason } => write!(f, "invalid endpoint: {reason}"),
            PartNumberOutOfRange { part_number } => {
                write!(f, "part number {part_number} is outside 1..=10000")
            }
            InvalidPolicy { reason } => write!(f, "invalid POST policy: {reason}"),
        }
    }
}

impl std::error::Error for SignError {}

impl From<crate::encoding::BadPercentEncoding> for SignError {
    fn from(e: crate::encoding::BadPercentEncoding) -> Self {
        SignError::BadPercentEncoding { input: e.input }
    }
}
