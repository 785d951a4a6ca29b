//! The `X-Amz-*` query parameters of a presigned URL.

use std::borrow::Cow;
use std::ops::Range;

use super::credential::{Credential, truncate};
use super::signed_headers::SignedHeaders;
use super::split::only_separator_escapes;
use super::usual;
use crate::canonical::{ALGORITHM, WireParam, WireParams};
use crate::error::{AuthLocation, VerifyError};
use crate::sign::MAX_EXPIRES_SECONDS;
use crate::time::AmzDate;

/// The authentication parameters of a presigned URL, parsed.
///
/// It borrows the query it was read from and keeps what its reading found
/// out about it, so that [`Verifier::verify`](crate::Verifier::verify) of
/// the same request does not split it again.
#[derive(Debug, Clone)]
pub struct PresignedQuery<'q> {
    /// Who signed, and for which scope.
    pub credential: Credential<'q>,
    /// `X-Amz-Date`.
    pub date: AmzDate,
    /// `X-Amz-Expires`, seconds.
    pub expires: u64,
    /// `X-Amz-SignedHeaders`.
    pub signed_headers: SignedHeaders<'q>,
    /// `X-Amz-Signature` as given.
    pub signature: Cow<'q, str>,
    /// `X-Amz-Security-Token`, for temporary credentials.
    pub session_token: Option<Cow<'q, str>>,
    /// The whole query string these were read from.
    query: &'q str,
    /// How `query` was read.
    split: QuerySplit<'q>,
}

/// How a presigned query was read, for verification to reuse.
#[derive(Debug, Clone)]
pub(crate) enum QuerySplit<'q> {
    /// In the usual layout (see [`usual`]): canonical and sorted as sent
    /// but for `X-Amz-Signature=…`, which is at `signature`.
    Usual { signature: Range<usize> },
    /// Split into its parameters.
    Params(WireParams<'q>),
}

/// Two parses are equal when their fields are; the split follows from the
/// query (either way of reading it), so comparing the query is enough for
/// it.
impl PartialEq for PresignedQuery<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.credential == other.credential
            && self.date == other.date
            && self.expires == other.expires
            && self.signed_headers == other.signed_headers
            && self.signature == other.signature
            && self.session_token == other.session_token
            && self.query == other.query
    }
}

impl Eq for PresignedQuery<'_> {}

/// The query parameters that mark a request as presigned.
pub(crate) const MARKERS: [&str; 3] = ["X-Amz-Algorithm", "X-Amz-Signature", "X-Amz-Credential"];

/// The value of `param` decoded, borrowed when it holds no escape.
fn decoded_value<'q>(param: &WireParam<'q>) -> Result<Cow<'q, str>, VerifyError> {
    let bytes = param.value().map_err(|e| VerifyError::malformed(AuthLocation::Query, e.to_string()))?;
    match bytes {
        Cow::Borrowed(_) => Ok(Cow::Borrowed(param.raw_value)),
        Cow::Owned(bytes) => String::from_utf8(bytes).map(Cow::Owned).map_err(|_| {
            VerifyError::malformed(
                AuthLocation::Query,
                format!("{:?} is not UTF-8 once decoded", truncate(param.raw_value)),
            )
        }),
    }
}

/// Where each authentication parameter goes in the parse, by name.
fn parameter_index(name: &str) -> Option<usize> {
    // A `match` compares lengths first, so most names fail on one compare.
    Some(match name {
        "X-Amz-Algorithm" => 0,
        "X-Amz-Credential" => 1,
        "X-Amz-Date" => 2,
        "X-Amz-Expires" => 3,
        "X-Amz-SignedHeaders" => 4,
        "X-Amz-Signature" => 5,
        "X-Amz-Security-Token" => 6,
        _ => return None,
    })
}

/// The decoded name of `param`, which must be UTF-8.
fn decoded_name<'q>(param: &WireParam<'q>) -> Result<Cow<'q, str>, VerifyError> {
    if let Some(name) = param.plain_name() {
        return Ok(Cow::Borrowed(name));
    }
    let bytes = param.name().map_err(|e| VerifyError::malformed(AuthLocation::Query, e.to_string()))?;
    String::from_utf8(bytes.into_owned()).map(Cow::Owned).map_err(|_| {
        VerifyError::malformed(AuthLocation::Query, format!("{:?} is not UTF-8 once decoded", truncate(param.raw_name)))
    })
}

/// Where `X-Amz-Credential` goes in the parse (see [`parameter_index`]).
const CREDENTIAL: usize = 1;
/// Where `X-Amz-SignedHeaders` goes in the parse.
const SIGNED_HEADERS: usize = 4;

impl<'q> PresignedQuery<'q> {
    /// Reads the `X-Amz-*` parameters of a query string as received.
    ///
    /// # Errors
    /// [`VerifyError::Malformed`] naming a missing, repeated or unreadable
    /// parameter; [`VerifyError::UnsupportedAlgorithm`];
    /// [`VerifyError::ExpiresOutOfRange`].
    pub fn parse(query: &'q str) -> Result<Self, VerifyError> {
        match Self::read_usual(query) {
            Some(parsed) => Ok(parsed),
            None => Self::from_params(query, WireParam::split_all(query)),
        }
    }

    /// Reads a query in the usual layout in place (see [`usual`]); `None`
    /// for any other, which [`Self::from_params`] reads.
    pub(crate) fn read_usual(query: &'q str) -> Option<Self> {
        let usual = usual::read(query)?;
        Some(Self {
            credential: usual.credential,
            date: usual.date,
            expires: usual.expires,
            signed_headers: usual.signed_headers,
            signature: Cow::Borrowed(usual.signature),
            session_token: usual.session_token,
            query,
            split: QuerySplit::Usual { signature: usual.signature_span },
        })
    }

    /// [`Self::parse`] over a query already split into parameters.
    pub(crate) fn from_params(query: &'q str, params: WireParams<'q>) -> Result<Self, VerifyError> {
        let location = AuthLocation::Query;
        let mut found: [Option<Cow<'q, str>>; 7] = Default::default();
        for param in &params {
            let name = decoded_name(param)?;
            if let Some(i) = parameter_index(&name) {
                // A credential or list whose only escapes are of its
                // separator is cut as sent, borrowed: decoding it would copy.
                let value = match i {
                    CREDENTIAL if only_separator_escapes(param.raw_value, b'/') => Cow::Borrowed(param.raw_value),
                    SIGNED_HEADERS if only_separator_escapes(param.raw_value, b';') => Cow::Borrowed(param.raw_value),
                    _ => decoded_value(param)?,
                };
                if found[i].replace(value).is_some() {
                    return Err(VerifyError::malformed(location, format!("{name} is given twice")));
                }
            }
        }
        let [algorithm, credential, date, expires, signed_headers, signature, session_token] = found;
        let require = |value: Option<Cow<'q, str>>, name: &str| {
            value.ok_or_else(|| VerifyError::malformed(location, format!("the query parameter {name} is missing")))
        };
        let algorithm = require(algorithm, "X-Amz-Algorithm")?;
        if algorithm != ALGORITHM {
            return Err(VerifyError::UnsupportedAlgorithm { location, algorithm: truncate(&algorithm) });
        }
        let credential = match require(credential, "X-Amz-Credential")? {
            Cow::Borrowed(raw) => Credential::parse_escaped(raw)?,
            Cow::Owned(decoded) => Credential::parse(&decoded, location)?.into_owned(),
        };
        let date_text = require(date, "X-Amz-Date")?;
        let date =
            AmzDate::parse(&date_text).map_err(|e| VerifyError::malformed(location, format!("X-Amz-Date: {e}")))?;
        let expires_text = require(expires, "X-Amz-Expires")?;
        let expires = expires_seconds(&expires_text)
            .ok_or_else(|| VerifyError::ExpiresOutOfRange { value: truncate(&expires_text) })?;
        let signed_headers = match require(signed_headers, "X-Amz-SignedHeaders")? {
            Cow::Borrowed(raw) => SignedHeaders::parse_escaped(raw)?,
            Cow::Owned(decoded) => SignedHeaders::parse_owned(decoded, location)?,
        };
        let signature = require(signature, "X-Amz-Signature")?;
        let split = QuerySplit::Params(params);
        Ok(Self { credential, date, expires, signed_headers, signature, session_token, query, split })
    }

    /// How `query` was read, when it is the query this was read from.
    pub(crate) fn split_of(&self, query: &str) -> Option<&QuerySplit<'q>> {
        (self.query == query).then_some(&self.split)
    }
}

/// The seconds of `X-Amz-Expires`: decimal digits only, from 1 to 7 days.
#[inline]
pub(super) fn expires_seconds(text: &str) -> Option<u64> {
    let seconds = text.bytes().try_fold(0u64, |seconds, b| {
        let digit = b.wrapping_sub(b'0');
        if digit < 10 { seconds.checked_mul(10)?.checked_add(u64::from(digit)) } else { None }
    })?;
    (1..=MAX_EXPIRES_SECONDS).contains(&seconds).then_some(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
        &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=abc";

    #[test]
    fn reads_the_parameters() {
        let q = PresignedQuery::parse(GOOD).unwrap();
        assert_eq!(q.credential.access_key_id, "AKID");
        assert_eq!(q.expires, 86_400);
        assert_eq!(q.signed_headers.iter().collect::<Vec<_>>(), ["host"]);
    }

    #[test]
    fn names_what_is_wrong() {
        let cases = [
            (GOOD.replace("X-Amz-Expires=86400", "X-Amz-Expires=604801"), "604800"),
            (GOOD.replace("X-Amz-Expires=86400", "X-Amz-Expires=0"), "604800"),
            (GOOD.replace("X-Amz-Expires=86400", "X-Amz-Expires=-5"), "604800"),
            (GOOD.replace("X-Amz-Expires=86400&", ""), "X-Amz-Expires is missing"),
            (GOOD.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1"), "only \"AWS4-HMAC-SHA256\""),
            (GOOD.replace("20130524T000000Z", "2013-05-24"), "X-Amz-Date"),
            (format!("{GOOD}&X-Amz-Signature=def"), "given twice"),
            (GOOD.replace("%2Fs3%2F", "%2Fs3%G2"), "'%'"),
        ];
        for (query, expected) in cases {
            let err = PresignedQuery::parse(&query).unwrap_err();
            assert!(err.to_string().contains(expected), "{query} -> {err}");
        }
    }
}
