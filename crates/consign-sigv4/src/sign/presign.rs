//! Presigned URLs: the signature travels in the query string.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>

use std::time::{Duration, SystemTime};

use super::{SecondState, SessionTokenPlacement, Signer, check_header, expires_seconds};
use crate::canonical::{
    ALGORITHM, CanonicalHeaders, CanonicalQuery, CanonicalRequest, CanonicalRequestBuilder, StringToSign,
    push_wire_path,
};
use crate::crypto::Hex64;
use crate::encoding::{Slash, decimal, uri_encode_str_into};
use crate::error::SignError;
use crate::request::{HttpRequest, Payload};
use crate::time::AmzDate;

/// The result of presigning a request.
#[derive(Debug, Clone)]
pub struct QuerySignature {
    /// The complete query string to send (without `?`): the request's own
    /// parameters and the `X-Amz-*` ones, `X-Amz-Signature` last.
    pub query: String,
    /// What was signed.
    pub canonical_request: CanonicalRequest,
    /// What the HMAC covered.
    pub string_to_sign: StringToSign,
    /// The signature, lower-case hex.
    pub signature: Hex64,
    /// The time signed for (`X-Amz-Date`).
    pub time: AmzDate,
    /// The first instant at which the URL is no longer accepted.
    pub expires_at: AmzDate,
}

/// The time and lifetime of a presigned request, once checked.
pub(super) struct Validity {
    /// `X-Amz-Date`.
    pub time: AmzDate,
    /// `X-Amz-Expires`, seconds.
    pub expires: u64,
}

impl Validity {
    /// Checks the lifetime (1 s to 7 days) of a request signed at `time`.
    /// (Its caller checks that `host` is signed, unless it added it.)
    pub fn check(expires_in: Duration, time: AmzDate) -> Result<Self, SignError> {
        Ok(Self { time, expires: expires_seconds(expires_in)? })
    }

    /// The first instant at which the URL is refused.
    pub fn expires_at(&self) -> AmzDate {
        self.time.plus_seconds(i64::try_from(self.expires).unwrap_or(i64::MAX))
    }
}

/// The signed `X-Amz-*` parameters of a presigned URL (all but the
/// signature), ready to be written into a canonical query.
pub(super) struct PresignParams<'a, 'h> {
    /// The second signed for, with `X-Amz-Credential` already encoded.
    second: &'a SecondState,
    expires: &'a str,
    /// `X-Amz-Security-Token` (decoded) when it is signed.
    token: Option<&'a str>,
    /// (A lifetime of its own: `CanonicalHeaders` is invariant in it.)
    headers: &'a CanonicalHeaders<'h>,
}

impl<'a, 'h> PresignParams<'a, 'h> {
    pub fn new(
        signer: &'a Signer,
        second: &'a SecondState,
        validity: &'a Validity,
        expires_buf: &'a mut [u8; 20],
        headers: &'a CanonicalHeaders<'h>,
    ) -> Self {
        let token = match signer.settings.session_token {
            SessionTokenPlacement::Signed => signer.credentials.session_token(),
            SessionTokenPlacement::AddedAfterSigning => None,
        };
        Self { second, expires: decimal(validity.expires, expires_buf), token, headers }
    }

    /// Writes the canonical query: `own` (the request's own parameters)
    /// and these, sorted.
    pub fn write_query(&self, own: &mut CanonicalQuery, out: &mut String) {
        if own.is_empty() {
            self.write_in_order(out);
        } else {
            self.push_into(own);
            own.write_sorted(out);
        }
    }

    /// Writes these parameters alone. Their names are listed here in
    /// sorted order, so this is their canonical query, without sorting.
    fn write_in_order(&self, out: &mut String) {
        for part in [&self.second.query_head, "&X-Amz-Expires=", self.expires] {
            out.push_str(part);
        }
        if let Some(token) = self.token {
            out.push_str("&X-Amz-Security-Token=");
            uri_encode_str_into(out, token, Slash::Encode);
        }
        out.push_str("&X-Amz-SignedHeaders=");
        self.write_signed_headers(out);
    }

    /// Adds these parameters to `query`, to be sorted among its own.
    fn push_into(&self, query: &mut CanonicalQuery) {
        query.push_unreserved("X-Amz-Algorithm", ALGORITHM);
        query.push_encoded("X-Amz-Credential", &self.second.day.encoded_credential);
        query.push_unreserved("X-Amz-Date", self.second.time.as_str());
        query.push_unreserved("X-Amz-Expires", self.expires);
        if let Some(token) = self.token {
            query.push("X-Amz-Security-Token", token);
        }
        let mut names = String::with_capacity(64);
        self.write_signed_headers(&mut names);
        query.push_encoded("X-Amz-SignedHeaders", &names);
    }

    /// The signed header names, `;`-separated and encoded.
    fn write_signed_headers(&self, out: &mut String) {
        for (i, name) in self.headers.names().enumerate() {
            if i > 0 {
                out.push_str("%3B");
            }
            uri_encode_str_into(out, name, Slash::Encode);
        }
    }
}

impl Signer {
    /// Presigns `request` at `now`, valid for `expires_in` (1 s to 7 days).
    ///
    /// Every header of `request` is signed and must be sent with the URL;
    /// it must include `host`. The payload is usually [`Payload::Unsigned`].
    ///
    /// # Errors
    /// [`SignError::ExpiresOutOfRange`], [`SignError::MissingHost`],
    /// [`SignError::InvalidHeader`], [`SignError::BadPercentEncoding`].
    pub fn presign(
        &self,
        request: &HttpRequest<'_>,
        payload: Payload<'_>,
        expires_in: Duration,
        now: SystemTime,
    ) -> Result<QuerySignature, SignError> {
        for (name, value) in request.headers {
            check_header(name, value)?;
        }
        let mut query = CanonicalQuery::from_wire(request.query, |_| false)?;
        let headers = CanonicalHeaders::new(request.headers.iter().copied());
        let second = self.second_at(now);
        let time = second.time;
        let validity = Validity::check(expires_in, time)?;
        if !headers.contains("host") {
            return Err(SignError::MissingHost);
        }
        let mut expires_buf = [0u8; 20];
        let params = PresignParams::new(self, &second, &validity, &mut expires_buf, &headers);

        let mut builder = CanonicalRequestBuilder::new(request.method, 512);
        push_wire_path(builder.uri(), request.path, self.settings.uri_encoding)?;
        let payload_line = payload.line();
        let canonical_request = builder.finish_with(|out| params.write_query(&mut query, out), &headers, &payload_line);
        let (string_to_sign, signature) = second.sign_canonical(&canonical_request, &self.scope(&time));

        let canonical_query = canonical_request.canonical_query();
        let mut url_query = String::with_capacity(canonical_query.len() + 96);
        url_query.push_str(canonical_query);
        self.finish_url_query(&mut url_query, &signature);
        let expires_at = validity.expires_at();
        Ok(QuerySignature { query: url_query, canonical_request, string_to_sign, signature, time, expires_at })
    }

    /// Appends what follows the signed query in the URL: the session token
    /// when it is added after signing, then `X-Amz-Signature`.
    pub(super) fn finish_url_query(&self, url: &mut String, signature: &Hex64) {
        if let (Some(token), SessionTokenPlacement::AddedAfterSigning) =
            (self.credentials.session_token(), self.settings.session_token)
        {
            url.push_str("&X-Amz-Security-Token=");
            uri_encode_str_into(url, token, Slash::Encode);
        }
        url.push_str("&X-Amz-Signature=");
        url.push_str(signature.as_str());
    }
}
