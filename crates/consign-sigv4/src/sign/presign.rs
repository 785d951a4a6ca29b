//! Presigned URLs: the signature travels in the query string.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>

use std::time::{Duration, SystemTime};

use super::{SessionTokenPlacement, Signer, check_header, expires_seconds, now_as_amz};
use crate::canonical::{
    ALGORITHM, CanonicalHeaders, CanonicalQuery, CanonicalRequest, CanonicalRequestBuilder, StringToSign,
    push_wire_path,
};
use crate::crypto::Hex64;
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

/// The parts of a request that a presigned canonical request is built from.
pub(super) struct PresignInput<'a, 'h> {
    pub method: &'a str,
    /// Writes the canonical URI.
    pub write_uri: &'a dyn Fn(&mut String) -> Result<(), SignError>,
    /// The request's own query parameters, already canonical-encoded.
    pub query: CanonicalQuery,
    /// The headers to sign, `host` among them.
    pub headers: CanonicalHeaders<'h>,
    pub payload: Payload<'a>,
    pub expires_in: Duration,
    pub now: SystemTime,
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
        let encoding = self.settings.uri_encoding;
        let path = request.path;
        self.presign_parts(PresignInput {
            method: request.method,
            write_uri: &|out| Ok(push_wire_path(out, path, encoding)?),
            query: CanonicalQuery::from_wire(request.query, |_| false)?,
            headers: CanonicalHeaders::new(request.headers.iter().copied()),
            payload,
            expires_in,
            now,
        })
    }

    pub(super) fn presign_parts(&self, input: PresignInput<'_, '_>) -> Result<QuerySignature, SignError> {
        let PresignInput { method, write_uri, mut query, headers, payload, expires_in, now } = input;
        let expires = expires_seconds(expires_in)?;
        if !headers.contains("host") {
            return Err(SignError::MissingHost);
        }
        let time = now_as_amz(now);

        let mut expires_buf = [0u8; 20];
        let expires_text = crate::encoding::decimal(expires, &mut expires_buf);
        // The algorithm, date and expiry are unreserved text; the
        // credential and header names are encoded straight into the query.
        query.push_unreserved("X-Amz-Algorithm", ALGORITHM);
        let scope = self.scope(&time);
        let access_key_id = self.credentials.access_key_id();
        query.push_parts("X-Amz-Credential", [access_key_id, "/"].into_iter().chain(scope.parts()));
        query.push_unreserved("X-Amz-Date", time.as_str());
        query.push_unreserved("X-Amz-Expires", expires_text);
        if let (Some(token), SessionTokenPlacement::Signed) =
            (self.credentials.session_token(), self.settings.session_token)
        {
            query.push("X-Amz-Security-Token", token);
        }
        let separated_names = headers.names().enumerate().flat_map(|(i, name)| [if i == 0 { "" } else { ";" }, name]);
        query.push_parts("X-Amz-SignedHeaders", separated_names);

        let mut builder = CanonicalRequestBuilder::new(method, 512);
        write_uri(builder.uri())?;
        let payload_line = payload.line();
        let canonical_request = builder.finish(&mut query, &headers, &payload_line);
        let (string_to_sign, signature) = self.sign_canonical(&canonical_request, &time);

        let canonical_query = canonical_request.canonical_query();
        let mut url_query = String::with_capacity(canonical_query.len() + 96);
        url_query.push_str(canonical_query);
        if let (Some(token), SessionTokenPlacement::AddedAfterSigning) =
            (self.credentials.session_token(), self.settings.session_token)
        {
            url_query.push_str("&X-Amz-Security-Token=");
            crate::encoding::uri_encode_str_into(&mut url_query, token, crate::encoding::Slash::Encode);
        }
        url_query.push_str("&X-Amz-Signature=");
        url_query.push_str(signature.as_str());
        let expires_at = time.plus_seconds(i64::try_from(expires).unwrap_or(i64::MAX));
        Ok(QuerySignature { query: url_query, canonical_request, string_to_sign, signature, time, expires_at })
    }
}
