//! Verification: the receiving end of every signed form.
//!
//! Verification is two steps, so that it never touches storage: first
//! [`Verifier::authenticate`] reads who claims to have signed (no secret
//! needed), then the caller looks up that access key's secret and calls
//! [`Verifier::verify`].

mod authorization;
mod credential;
mod post;
mod presigned;
mod signed_headers;
mod split;
mod usual;

use std::borrow::Cow;
use std::time::SystemTime;

pub use authorization::AuthorizationHeader;
pub use credential::Credential;
pub use post::PostAuth;
pub use presigned::PresignedQuery;
use presigned::QuerySplit;
pub use signed_headers::SignedHeaders;

use crate::canonical::{
    ALGORITHM, CanonicalHeaders, CanonicalQuery, CanonicalRequestBuilder, StringToSign, UriEncoding, WireParam,
    WireParams, is_canonical_as_sent, push_wire_path, write_as_sent, write_without,
};
use crate::chunked::{StreamingContext, StreamingMode};
use crate::credentials::SecretKey;
use crate::crypto::{Hex64, constant_time_eq, sha256_hex};
use crate::error::{AuthLocation, VerifyError};
use crate::key_cache::SigningKeyCache;
use crate::request::{
    HttpRequest, STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER, UNSIGNED_PAYLOAD,
    eq_ignore_case,
};
use crate::scope::TERMINATOR;
use crate::time::AmzDate;
use credential::truncate;

/// Checks SigV4 signatures for one region and service.
///
/// Holds a cache of signing keys, so share one verifier across requests.
#[derive(Debug)]
pub struct Verifier {
    region: String,
    service: String,
    /// `/region/service/aws4_request\n`: what follows the date in the
    /// string to sign of every request this verifier accepts (the scope
    /// check comes first), so the HMAC takes it in one piece.
    scope_tail: String,
    uri_encoding: UriEncoding,
    max_skew_seconds: u32,
    keys: SigningKeyCache,
}

/// The first line of a string to sign, with its line break.
const STRING_TO_SIGN_HEAD: &str = "AWS4-HMAC-SHA256\n";

/// The allowed difference between a header-signed request's time and the
/// receiver's clock, as S3 allows: 15 minutes.
pub const DEFAULT_MAX_SKEW_SECONDS: u32 = 15 * 60;

/// Who claims to have signed a request, and how.
///
/// A presigned one borrows the request's query (see [`PresignedQuery`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authentication<'q> {
    /// No credentials.
    Anonymous,
    /// An `Authorization` header.
    Header(AuthorizationHeader<'q>),
    /// A presigned URL.
    Presigned(PresignedQuery<'q>),
}

impl Authentication<'_> {
    /// The access key whose secret the caller must look up.
    pub fn access_key_id(&self) -> Option<&str> {
        match self {
            Authentication::Anonymous => None,
            Authentication::Header(h) => Some(&h.credential.access_key_id),
            Authentication::Presigned(q) => Some(&q.credential.access_key_id),
        }
    }
}

/// What a verified request still asks of the receiver about its body.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum PayloadCheck {
    /// `UNSIGNED-PAYLOAD`: nothing to check.
    Unsigned,
    /// The body's SHA-256 must equal this (lower-case hex); compare it once
    /// the body has arrived, before the object becomes visible.
    Sha256(String),
    /// An aws-chunked body: decode it with a
    /// [`ChunkedDecoder`](crate::ChunkedDecoder) built from this context.
    Streaming(Box<StreamingContext>),
}

/// A request whose signature holds.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The access key that signed.
    pub access_key_id: String,
    /// Where the signature was.
    pub location: AuthLocation,
    /// The session token sent with temporary credentials, for the caller to
    /// validate.
    pub session_token: Option<String>,
    /// What remains to check about the body.
    pub payload: PayloadCheck,
}

impl Verifier {
    /// A verifier for `service` in `region`; `s3` gets S3's path rules.
    pub fn new(region: impl Into<String>, service: impl Into<String>) -> Self {
        let (region, service) = (region.into(), service.into());
        let uri_encoding = if service == "s3" { UriEncoding::S3 } else { UriEncoding::Normalized };
        Self {
            scope_tail: format!("/{region}/{service}/{TERMINATOR}\n"),
            region,
            service,
            uri_encoding,
            max_skew_seconds: DEFAULT_MAX_SKEW_SECONDS,
            keys: SigningKeyCache::default(),
        }
    }

    /// A verifier for S3 in `region`.
    pub fn s3(region: impl Into<String>) -> Self {
        Self::new(region, "s3")
    }

    /// This verifier with another allowed clock difference.
    pub fn with_max_skew_seconds(mut self, seconds: u32) -> Self {
        self.max_skew_seconds = seconds;
        self
    }

    /// This verifier with another path encoding (the default follows the
    /// service: S3's for `s3`, normalized for the others).
    pub fn with_uri_encoding(mut self, encoding: UriEncoding) -> Self {
        self.uri_encoding = encoding;
        self
    }

    /// The region expected in credential scopes.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Reads how `request` is authenticated, without checking anything
    /// that needs the secret.
    ///
    /// # Errors
    /// [`VerifyError::SignatureVersion2`], [`VerifyError::MultipleAuthMechanisms`],
    /// or a parse error naming the element at fault.
    pub fn authenticate<'q>(&self, request: &HttpRequest<'q>) -> Result<Authentication<'q>, VerifyError> {
        // A presigned query as signers send it is read in place; it holds
        // the presigned markers and no Version 2 parameter.
        if let Some(query) = PresignedQuery::read_usual(request.query) {
            return match request.header("authorization") {
                Some(_) => Err(VerifyError::MultipleAuthMechanisms),
                None => Ok(Authentication::Presigned(query)),
            };
        }
        self.authenticate_split(request)
    }

    /// [`Self::authenticate`] of any query: split once, the presigned
    /// parameters read from the same list.
    fn authenticate_split<'q>(&self, request: &HttpRequest<'q>) -> Result<Authentication<'q>, VerifyError> {
        let params: WireParams<'_> = WireParam::split_all(request.query);
        let mut presigned = false;
        for param in &params {
            let name = param.name().unwrap_or_default();
            if *name == *b"AWSAccessKeyId" || *name == *b"Signature" {
                return Err(VerifyError::SignatureVersion2 { location: AuthLocation::Query });
            }
            presigned |= presigned::MARKERS.iter().any(|m| m.as_bytes() == &*name);
        }
        match (presigned, request.header("authorization")) {
            (true, Some(_)) => Err(VerifyError::MultipleAuthMechanisms),
            (true, None) => Ok(Authentication::Presigned(PresignedQuery::from_params(request.query, params)?)),
            (false, Some(value)) => Ok(Authentication::Header(AuthorizationHeader::parse(value)?)),
            (false, None) => Ok(Authentication::Anonymous),
        }
    }

    /// Verifies `request`, authenticated as `auth`, with the `secret` the
    /// caller looked up for its access key, at `now`.
    ///
    /// # Errors
    /// Every [`VerifyError`] that applies: expiry, skew, scope, unsigned
    /// headers, conflicting values, and [`VerifyError::SignatureDoesNotMatch`]
    /// carrying the canonical request and string to sign computed here.
    pub fn verify(
        &self,
        request: &HttpRequest<'_>,
        auth: &Authentication<'_>,
        secret: &SecretKey,
        now: SystemTime,
    ) -> Result<Verified, VerifyError> {
        self.verify_inner(request, auth, secret, now, None)
    }

    /// Like [`Self::verify`], for services other than S3 whose requests
    /// carry no `x-amz-content-sha256`: the body is hashed here.
    ///
    /// # Errors
    /// As [`Self::verify`].
    pub fn verify_with_body(
        &self,
        request: &HttpRequest<'_>,
        auth: &Authentication<'_>,
        secret: &SecretKey,
        now: SystemTime,
        body: &[u8],
    ) -> Result<Verified, VerifyError> {
        self.verify_inner(request, auth, secret, now, Some(sha256_hex(body)))
    }

    fn verify_inner(
        &self,
        request: &HttpRequest<'_>,
        auth: &Authentication<'_>,
        secret: &SecretKey,
        now: SystemTime,
        body_hash: Option<Hex64>,
    ) -> Result<Verified, VerifyError> {
        // Seconds are enough to compare; `now` is formatted for an error only.
        let now = AmzDate::unix_of(now);
        let (location, credential, time, signed_headers, signature, session_token) = match auth {
            Authentication::Anonymous => return Err(VerifyError::Anonymous),
            Authentication::Header(h) => {
                let time = self.header_time(request, now)?;
                (
                    AuthLocation::Header,
                    &h.credential,
                    time,
                    &h.signed_headers,
                    h.signature,
                    request.header("x-amz-security-token"),
                )
            }
            Authentication::Presigned(q) => {
                self.check_window(q, now)?;
                (
                    AuthLocation::Query,
                    &q.credential,
                    q.date,
                    &q.signed_headers,
                    q.signature.as_ref(),
                    q.session_token.as_deref(),
                )
            }
        };
        credential.check_scope(time.date_stamp(), &self.region, &self.service, location)?;
        check_signature_format(signature, location)?;
        let headers = signed_header_values(request, signed_headers)?;
        // Split the query once, for the agreement check and the canonical
        // query; a presigned URL's was read by `authenticate` already.
        let reused = match auth {
            Authentication::Presigned(q) => q.split_of(request.query),
            _ => None,
        };
        let owned: QuerySplit<'_>;
        let split = match reused {
            Some(split) => split,
            None => {
                owned = QuerySplit::Params(WireParam::split_all(request.query));
                &owned
            }
        };
        if location == AuthLocation::Query {
            check_query_header_agreement(request, split)?;
        }

        let content_sha256 = request.header("x-amz-content-sha256").map(str::trim);
        let payload_line: std::borrow::Cow<'_, str> = match (content_sha256, &body_hash, location) {
            (Some(value), _, _) => {
                check_content_sha256(value)?;
                value.into()
            }
            (None, Some(hash), _) => hash.as_str().into(),
            (None, None, AuthLocation::Query) => UNSIGNED_PAYLOAD.into(),
            (None, None, _) => return Err(VerifyError::MissingContentSha256),
        };

        let mut builder = CanonicalRequestBuilder::new(request.method, 512);
        push_wire_path(builder.uri(), request.path, self.uri_encoding)
            .map_err(|e| VerifyError::malformed(location, format!("the path: {e}")))?;
        let skip_signature = |name: &[u8]| location == AuthLocation::Query && name == b"X-Amz-Signature";
        let skip_sent = |name: &str| skip_signature(name.as_bytes());
        // A query as signers send it (canonical and sorted) is copied as it is.
        let canonical_request = match split {
            QuerySplit::Usual { signature } => {
                builder.finish_with(|out| write_without(request.query, signature.clone(), out), &headers, &payload_line)
            }
            QuerySplit::Params(params) if is_canonical_as_sent(params, skip_sent) => {
                builder.finish_with(|out| write_as_sent(request.query, params, skip_sent, out), &headers, &payload_line)
            }
            QuerySplit::Params(params) => {
                let mut query = CanonicalQuery::from_wire_params(params, request.query.len(), skip_signature)
                    .map_err(|e| VerifyError::malformed(location, format!("the query: {e}")))?;
                builder.finish(&mut query, &headers, &payload_line)
            }
        };
        let scope = credential.scope();
        let hash = canonical_request.hash();
        // The string to sign goes into the HMAC in pieces; its text is only
        // needed to explain a mismatch. The scope was checked against this
        // verifier's, so its region and service are those of `scope_tail`:
        // the head is determined by the scope and the time, as the cache
        // requires.
        let head: [&[u8]; 5] =
            [STRING_TO_SIGN_HEAD.as_bytes(), time.as_bytes(), b"\n", scope.date.as_bytes(), self.scope_tail.as_bytes()];
        let key = self.keys.get_primed(&credential.access_key_id, secret, &scope, time.as_bytes(), &head);
        let expected = key.sign_hash(&hash);
        if !constant_time_eq(expected.as_str().as_bytes(), signature.as_bytes()) {
            return Err(VerifyError::SignatureDoesNotMatch {
                access_key_id: credential.access_key_id.to_string(),
                canonical_request: canonical_request.to_string(),
                string_to_sign: StringToSign::new(ALGORITHM, &time, &scope, &hash).to_string(),
                signature_provided: signature.to_owned(),
            });
        }

        let payload = match payload_line.as_ref() {
            UNSIGNED_PAYLOAD => PayloadCheck::Unsigned,
            STREAMING_SIGNED | STREAMING_SIGNED_TRAILER | STREAMING_UNSIGNED_TRAILER => {
                let mode = match payload_line.as_ref() {
                    STREAMING_SIGNED => StreamingMode::Signed,
                    STREAMING_SIGNED_TRAILER => StreamingMode::SignedWithTrailer,
                    _ => StreamingMode::UnsignedWithTrailer,
                };
                let key = self.keys.get(&credential.access_key_id, secret, &scope);
                PayloadCheck::Streaming(Box::new(StreamingContext::new(mode, key, time, &scope, expected)))
            }
            hash => PayloadCheck::Sha256(hash.to_owned()),
        };
        Ok(Verified {
            access_key_id: credential.access_key_id.to_string(),
            location,
            session_token: session_token.map(str::to_owned),
            payload,
        })
    }

    /// The `x-amz-date` of a header-signed request, within the allowed skew
    /// of `now` (seconds since 1970).
    fn header_time(&self, request: &HttpRequest<'_>, now: i64) -> Result<AmzDate, VerifyError> {
        let value = request.header("x-amz-date").ok_or_else(|| {
            VerifyError::malformed(
                AuthLocation::Header,
                "the x-amz-date header is missing (send the signing time as YYYYMMDDTHHMMSSZ)",
            )
        })?;
        let time = AmzDate::parse(value.trim())
            .map_err(|e| VerifyError::malformed(AuthLocation::Header, format!("x-amz-date: {e}")))?;
        if (time.unix() - now).unsigned_abs() > u64::from(self.max_skew_seconds) {
            return Err(VerifyError::RequestTimeTooSkewed {
                request_time: time,
                server_time: AmzDate::from_unix(now),
                max_skew_seconds: self.max_skew_seconds,
            });
        }
        Ok(time)
    }

    /// A presigned URL is valid from its date (allowing the clock skew,
    /// since the signer's clock is not the receiver's) until date + expires.
    fn check_window(&self, query: &PresignedQuery<'_>, now: i64) -> Result<(), VerifyError> {
        if query.date.unix() - now > i64::from(self.max_skew_seconds) {
            return Err(VerifyError::NotYetValid { valid_from: query.date, now: AmzDate::from_unix(now) });
        }
        let lifetime = i64::try_from(query.expires).unwrap_or(i64::MAX);
        // Compare seconds; the formatted instant is only needed for the error.
        if now >= query.date.unix_plus_seconds(lifetime) {
            return Err(VerifyError::Expired {
                expired_at: query.date.plus_seconds(lifetime),
                now: AmzDate::from_unix(now),
            });
        }
        Ok(())
    }
}

fn check_signature_format(signature: &str, location: AuthLocation) -> Result<(), VerifyError> {
    let reason = if signature.len() != 64 {
        "it must be 64 hex digits"
    } else if is_lower_hex(signature) {
        return Ok(());
    } else if signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        "it is upper-case hex; SigV4 signatures are lower-case hex"
    } else {
        "it must contain only the hex digits 0-9 and a-f"
    };
    Err(VerifyError::MalformedSignature { location, reason })
}

/// Whether `text` is all lower-case hex digits. A fold without early exit,
/// which the compiler vectorizes: 64 digits are checked in a few steps.
fn is_lower_hex(text: &str) -> bool {
    text.bytes().fold(true, |ok, b| ok & ((b.wrapping_sub(b'0') < 10) | (b.wrapping_sub(b'a') < 6)))
}

fn check_content_sha256(value: &str) -> Result<(), VerifyError> {
    let literal =
        [UNSIGNED_PAYLOAD, STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER].contains(&value);
    let hash = value.len() == 64 && is_lower_hex(value);
    if literal || hash { Ok(()) } else { Err(VerifyError::InvalidContentSha256 { value: truncate(value) }) }
}

/// The canonical headers named by `signed`, after checking that `host` and
/// every `x-amz-*` header sent are signed and every signed header was sent.
fn signed_header_values<'a>(
    request: &HttpRequest<'a>,
    signed: &'a SignedHeaders<'_>,
) -> Result<CanonicalHeaders<'a>, VerifyError> {
    // One pass over the list gathers the headers and notes what the checks
    // need; the checks follow, in the order they are reported.
    let mut headers = CanonicalHeaders::default();
    let (mut host_signed, mut missing) = (false, None);
    for name in signed.iter() {
        host_signed |= name == "host";
        let mut any = false;
        // The signed name is the sent one in lower case already (the list
        // was checked for upper case when it was read).
        for (_, value) in request.headers.iter().filter(|(n, _)| eq_ignore_case(n, name)) {
            headers.insert_lower(name, value);
            any = true;
        }
        if !any && missing.is_none() {
            missing = Some(name);
        }
    }
    if !host_signed {
        return Err(VerifyError::UnsignedHeader { name: "host".to_owned() });
    }
    for (name, _) in request.headers {
        // A header sent and signed is among those gathered.
        let must_sign = eq_ignore_case(name, "host") || name.len() > 6 && has_amz_prefix(name.as_bytes());
        if must_sign && !headers.contains_ignore_case(name) {
            return Err(VerifyError::UnsignedHeader { name: name.to_ascii_lowercase() });
        }
    }
    match missing {
        Some(name) => Err(VerifyError::SignedHeaderMissing { name: truncate(name) }),
        None => Ok(headers),
    }
}

/// Whether `name` starts with `x-amz-` in any case; checked for the two
/// usual spellings first, which is a plain comparison.
fn has_amz_prefix(name: &[u8]) -> bool {
    match name.get(..6) {
        Some(prefix) => prefix == b"X-Amz-" || prefix == b"x-amz-" || prefix.eq_ignore_ascii_case(b"x-amz-"),
        None => false,
    }
}

/// A presigned URL's `X-Amz-*` parameters and the request's headers must
/// not say different things.
fn check_query_header_agreement(request: &HttpRequest<'_>, split: &QuerySplit<'_>) -> Result<(), VerifyError> {
    // Only an `x-amz-*` header can share a parameter's name; a presigned
    // request usually sends none, and then there is nothing to compare.
    if !request.headers.iter().any(|(name, _)| name.len() > 6 && has_amz_prefix(name.as_bytes())) {
        return Ok(());
    }
    // A query read in place is split here, the one time it is needed.
    let resplit: WireParams<'_>;
    let params = match split {
        QuerySplit::Params(params) => params,
        QuerySplit::Usual { .. } => {
            resplit = WireParam::split_all(request.query);
            &resplit
        }
    };
    for param in params {
        // Parameters that do not decode are reported by the canonical query.
        let Ok(name) = param.name() else {
            continue;
        };
        if name.len() <= 6
            || !has_amz_prefix(&name)
            || &*name == b"X-Amz-Signature"
            || name.eq_ignore_ascii_case(b"x-amz-signature")
        {
            continue;
        }
        // A name without escapes is already a `&str`; only a decoded one
        // needs its UTF-8 checked.
        let name = match param.plain_name() {
            Some(plain) => Cow::Borrowed(plain),
            None => Cow::Owned(String::from_utf8_lossy(&name).into_owned()),
        };
        let mut sent = request.header_values(&name).peekable();
        // Decode the value only when there is a header to compare it with.
        if sent.peek().is_none() {
            continue;
        }
        let Ok(value) = param.value() else {
            continue;
        };
        if sent.any(|header_value| header_value.trim().as_bytes() != value.as_ref()) {
            return Err(VerifyError::ConflictingValue { name: truncate(&name) });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_presigned_parameter_and_a_header_of_its_name_must_agree() {
        use crate::{Credentials, Payload, Signer};
        use std::time::{Duration, UNIX_EPOCH};
        let now = UNIX_EPOCH + Duration::from_secs(1_717_171_717);
        let signer = Signer::s3(Credentials::new("AKID", "secret"), "us-east-1");
        // `x-amz-expires` is signed as a header and is also a parameter.
        let signed_headers = [("host", "example.com"), ("x-amz-expires", "60")];
        let unsigned = HttpRequest { method: "GET", path: "/b/k", query: "", headers: &signed_headers };
        let signed = signer.presign(&unsigned, Payload::Unsigned, Duration::from_secs(60), now).unwrap();
        let verifier = Verifier::s3("us-east-1");
        let secret = SecretKey::new("secret");
        let verify = |headers: &[(&str, &str)]| {
            let request = HttpRequest { method: "GET", path: "/b/k", query: &signed.query, headers };
            verifier.verify(&request, &verifier.authenticate(&request)?, &secret, now)
        };
        assert!(verify(&signed_headers).is_ok());
        let err = verify(&[("host", "example.com"), ("X-Amz-Expires", "1")]).unwrap_err();
        assert!(matches!(err, VerifyError::ConflictingValue { .. }), "{err}");
    }

    #[test]
    fn the_string_to_sign_head_is_the_algorithm_line() {
        assert_eq!(STRING_TO_SIGN_HEAD, format!("{ALGORITHM}\n"));
    }
}
