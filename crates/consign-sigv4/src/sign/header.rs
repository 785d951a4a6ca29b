//! Header authentication: the `Authorization` header.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html>

use std::time::SystemTime;

use super::{SessionTokenPlacement, Signer, check_header};
use crate::canonical::{
    ALGORITHM, CanonicalHeaders, CanonicalQuery, CanonicalRequest, CanonicalRequestBuilder, StringToSign,
    push_wire_path,
};
use crate::crypto::Hex64;
use crate::error::SignError;
use crate::request::{HttpRequest, Payload};
use crate::time::AmzDate;

/// The result of header-signing a request.
#[derive(Debug, Clone)]
pub struct HeaderSignature {
    /// The headers to add to the request, `authorization` last.
    pub headers: Vec<(&'static str, String)>,
    /// What was signed.
    pub canonical_request: CanonicalRequest,
    /// What the HMAC covered.
    pub string_to_sign: StringToSign,
    /// The signature, lower-case hex.
    pub signature: Hex64,
    /// The time signed for (`x-amz-date`).
    pub time: AmzDate,
}

impl HeaderSignature {
    /// The `Authorization` header value.
    pub fn authorization(&self) -> &str {
        self.headers.iter().find(|(n, _)| *n == "authorization").map_or("", |(_, v)| v.as_str())
    }
}

/// Headers that signing sets itself; copies in the request are replaced.
fn set_by_signer(name: &str) -> bool {
    ["authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"]
        .iter()
        .any(|n| name.eq_ignore_ascii_case(n))
}

impl Signer {
    /// Signs `request` with an `Authorization` header at `now`.
    ///
    /// Every header of `request` is signed (it must include `host`), plus
    /// `x-amz-date`, `x-amz-content-sha256` when the settings ask for it,
    /// and `x-amz-security-token` for temporary credentials.
    ///
    /// # Errors
    /// [`SignError::MissingHost`], [`SignError::InvalidHeader`], or
    /// [`SignError::BadPercentEncoding`] for an S3 path with a stray `%`.
    pub fn sign_headers(
        &self,
        request: &HttpRequest<'_>,
        payload: Payload<'_>,
        now: SystemTime,
    ) -> Result<HeaderSignature, SignError> {
        let second = self.second_at(now);
        let time = second.time;
        let payload_line = payload.line();
        let mut headers = CanonicalHeaders::new(request.headers.iter().copied().filter(|(n, _)| !set_by_signer(n)));
        for (name, value) in request.headers {
            check_header(name, value)?;
        }
        if !headers.contains("host") {
            return Err(SignError::MissingHost);
        }
        headers.insert("x-amz-date", time.as_str());
        if self.settings.content_sha256_header {
            headers.insert("x-amz-content-sha256", &payload_line);
        }
        let token = self.credentials.session_token();
        if let (Some(token), SessionTokenPlacement::Signed) = (token, self.settings.session_token) {
            headers.insert("x-amz-security-token", token);
        }

        let mut builder = CanonicalRequestBuilder::new(request.method, 256 + request.path.len() + request.query.len());
        push_wire_path(builder.uri(), request.path, self.settings.uri_encoding)?;
        let mut query = CanonicalQuery::from_wire(request.query, |_| false)?;
        let canonical_request = builder.finish(&mut query, &headers, &payload_line);
        // `headers` borrows `payload_line` (and is invariant in that
        // borrow), so it must go before `payload_line` is moved below.
        drop(headers);
        let (string_to_sign, signature) = second.sign_canonical(&canonical_request, &self.scope(&time));

        let mut authorization = String::with_capacity(200);
        authorization.push_str(ALGORITHM);
        authorization.push_str(" Credential=");
        authorization.push_str(&second.day.credential);
        authorization.push_str(", SignedHeaders=");
        authorization.push_str(canonical_request.signed_headers());
        authorization.push_str(", Signature=");
        authorization.push_str(signature.as_str());

        let mut added = vec![("x-amz-date", time.as_str().to_owned())];
        if self.settings.content_sha256_header {
            added.push(("x-amz-content-sha256", payload_line.into_owned()));
        }
        if let Some(token) = token {
            added.push(("x-amz-security-token", token.to_owned()));
        }
        added.push(("authorization", authorization));
        Ok(HeaderSignature { headers: added, canonical_request, string_to_sign, signature, time })
    }
}
