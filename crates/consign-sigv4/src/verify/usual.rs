//! A presigned query in the layout every signer sends, read in place.
//!
//! Signers write the authentication parameters sorted and in canonical
//! encoding, with `X-Amz-Signature` (which is not signed) last or where it
//! sorts: `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=…&X-Amz-Date=…`
//! `&X-Amz-Expires=…[&X-Amz-Security-Token=…]&X-Amz-SignedHeaders=…&X-Amz-Signature=…`,
//! the request's own parameters sorted among them. [`read`] goes from one
//! parameter to the next expecting that order: it compares the expected
//! name as a literal and checks each value as it cuts it (the credential
//! and the header list at their escaped separators), where the general
//! parse splits the whole query at every `&`, `=` and `%`, then looks each
//! name up and cuts the credential and the list again.
//!
//! It gives up on anything else: every malformed query, and every unusual
//! one (a lower-case `%2f`, a `+`, an escaped name, a repeated or missing
//! parameter, another order). The general parse then reads it and reports
//! any error as always. Where it succeeds, its parse is the one the general
//! parse gives, and the query is canonical and sorted as sent (but for
//! `X-Amz-Signature`), so verification copies it without the signature.

use std::borrow::Cow;
use std::ops::Range;

use super::credential::Credential;
use super::is_lower_hex;
use super::presigned::expires_seconds;
use super::signed_headers::SignedHeaders;
use crate::canonical::ALGORITHM;
use crate::encoding::{Slash, is_canonical_encoding, query_decode};
use crate::scan::{all_bytes, find_any};
use crate::scope::TERMINATOR;
use crate::time::AmzDate;

/// The authentication parameters of a presigned query read by [`read`].
pub(super) struct Usual<'q> {
    pub credential: Credential<'q>,
    pub date: AmzDate,
    pub expires: u64,
    pub signed_headers: SignedHeaders<'q>,
    pub signature: &'q str,
    pub session_token: Option<Cow<'q, str>>,
    /// Where `X-Amz-Signature=…` is in the query.
    pub signature_span: Range<usize>,
}

/// An authentication parameter.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Known {
    Algorithm,
    Credential,
    Date,
    Expires,
    SecurityToken,
    SignedHeaders,
    Signature,
}

/// The signed authentication parameters in the order signers send them
/// (sorted). Only the session token may be left out. `X-Amz-Signature`,
/// which is not signed, may come anywhere: last, or where it sorts.
const ORDER: [Known; 6] =
    [Known::Algorithm, Known::Credential, Known::Date, Known::Expires, Known::SecurityToken, Known::SignedHeaders];

impl Known {
    /// The length of this parameter's name and `=` when `rest` starts with
    /// them. Each arm compares with a literal as a fixed-size array, which
    /// the compiler does with a few word compares in place of a `memcmp`.
    fn name_len_at(self, rest: &[u8]) -> Option<usize> {
        fn is<const N: usize>(rest: &[u8], name_eq: &[u8; N]) -> Option<usize> {
            (rest.first_chunk::<N>() == Some(name_eq)).then_some(N)
        }
        match self {
            Known::Algorithm => is(rest, b"X-Amz-Algorithm="),
            Known::Credential => is(rest, b"X-Amz-Credential="),
            Known::Date => is(rest, b"X-Amz-Date="),
            Known::Expires => is(rest, b"X-Amz-Expires="),
            Known::SecurityToken => is(rest, b"X-Amz-Security-Token="),
            Known::SignedHeaders => is(rest, b"X-Amz-SignedHeaders="),
            Known::Signature => is(rest, b"X-Amz-Signature="),
        }
    }
}

/// Names that the request's own parameters may not have here: the
/// authentication parameters (out of their place or repeated) and those of
/// Version 2, which the general parse refuses.
const RESERVED: [&str; 9] = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-Security-Token",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "AWSAccessKeyId",
    "Signature",
];

/// The values read so far.
#[derive(Default)]
struct Values<'q> {
    credential: Option<Credential<'q>>,
    date: Option<AmzDate>,
    expires: Option<u64>,
    signed_headers: Option<SignedHeaders<'q>>,
    signature: Option<&'q str>,
    session_token: Option<Cow<'q, str>>,
}

/// Reads `query` when it is in the usual layout; `None` for anything else
/// (see the module's documentation).
pub(super) fn read(query: &str) -> Option<Usual<'_>> {
    let bytes = query.as_bytes();
    // It starts with `X-Amz-Algorithm=` or a name that sorts before it: a
    // query of the usual lower-case parameters is given up at once.
    if bytes.first().is_none_or(|&first| first > b'X') {
        return None;
    }
    let mut values = Values::default();
    // The index in `ORDER` of the next authentication parameter.
    let mut next = 0;
    // Where the name and the value of the last parameter but the signature
    // are, and whether it was one of the request's own: only those need
    // their order checked (authentication parameters come in order).
    let mut previous = (0..0, 0..0);
    let mut previous_own = false;
    let pair_at =
        |(name, value): &(Range<usize>, Range<usize>)| Some((query.get(name.clone())?, query.get(value.clone())?));
    let mut signature_span = 0..0;
    let mut at = 0;
    loop {
        let end = match expected_at(bytes.get(at..)?, next, values.signature.is_some()) {
            Some((known, after, name_len)) => {
                next = after;
                let value_at = at + name_len;
                let end = read_value(known, query, value_at, &mut values)?;
                if known == Known::Signature {
                    signature_span = at..end;
                } else {
                    let current = (at..value_at - 1, value_at..end);
                    if previous_own && pair_at(&previous)? > pair_at(&current)? {
                        return None;
                    }
                    (previous, previous_own) = (current, false);
                }
                end
            }
            None => {
                let current = own_parameter_at(query, at, next)?;
                if pair_at(&previous)? > pair_at(&current)? {
                    return None;
                }
                let end = current.1.end;
                (previous, previous_own) = (current, true);
                end
            }
        };
        if end == bytes.len() {
            break;
        }
        // `end` is at a `&`; an empty parameter after it is not usual.
        at = end + 1;
        if matches!(bytes.get(at), None | Some(b'&')) {
            return None;
        }
    }
    let Values { credential, date, expires, signed_headers, signature, session_token } = values;
    Some(Usual {
        credential: credential?,
        date: date?,
        expires: expires?,
        signed_headers: signed_headers?,
        signature: signature?,
        session_token,
        signature_span,
    })
}

/// The authentication parameter that `rest` starts with, the index in
/// `ORDER` of the one expected after it, and the length of its name and
/// `=`: the next one expected (or the one after an absent session token),
/// or the signature if it has not come yet.
fn expected_at(rest: &[u8], next: usize, signature_read: bool) -> Option<(Known, usize, usize)> {
    if let Some(&known) = ORDER.get(next) {
        if let Some(len) = known.name_len_at(rest) {
            return Some((known, next + 1, len));
        }
        if let Some(&after) = ORDER.get(next + 1).filter(|_| known == Known::SecurityToken) {
            if let Some(len) = after.name_len_at(rest) {
                return Some((after, next + 2, len));
            }
        }
    }
    let len = Known::Signature.name_len_at(rest).filter(|_| !signature_read)?;
    Some((Known::Signature, next, len))
}

/// Reads the value of `known` at `at` into `values`; returns where it ends
/// (a `&` or the end of the query).
fn read_value<'q>(known: Known, query: &'q str, at: usize, values: &mut Values<'q>) -> Option<usize> {
    let bytes = query.as_bytes();
    let ends_at = |end: usize| matches!(bytes.get(end), None | Some(b'&')).then_some(end);
    match known {
        Known::Algorithm => {
            let end = ends_at(at + ALGORITHM.len())?;
            (bytes.get(at..end)? == ALGORITHM.as_bytes()).then_some(end)
        }
        Known::Credential => {
            let (credential, end) = read_credential(query, at)?;
            values.credential = Some(credential);
            Some(end)
        }
        Known::Date => {
            // `AmzDate::parse` accepts digits, `T` and `Z` only.
            let end = ends_at(at + 16)?;
            values.date = Some(AmzDate::parse(query.get(at..end)?).ok()?);
            Some(end)
        }
        Known::Expires => {
            // Accepted seconds are digits only.
            let end = find_any(bytes, at, [b'&']);
            values.expires = Some(expires_seconds(query.get(at..end)?)?);
            Some(end)
        }
        Known::SecurityToken => {
            let end = find_any(bytes, at, [b'&']);
            let raw = query.get(at..end)?;
            if !is_canonical_encoding(raw, Slash::Encode) {
                return None;
            }
            let token = match query_decode(raw).ok()? {
                Cow::Borrowed(_) => Cow::Borrowed(raw),
                Cow::Owned(decoded) => Cow::Owned(String::from_utf8(decoded).ok()?),
            };
            values.session_token = Some(token);
            Some(end)
        }
        Known::SignedHeaders => {
            let (names, end) = read_signed_headers(query, at)?;
            values.signed_headers = Some(names);
            Some(end)
        }
        Known::Signature => {
            // 64 lower-case hex digits, the only signature that verifies.
            let end = ends_at(at + 64)?;
            let signature = query.get(at..end)?;
            if !is_lower_hex(signature) {
                return None;
            }
            values.signature = Some(signature);
            Some(end)
        }
    }
}

/// `X-Amz-Credential`'s value at `at`: four non-empty parts, each followed
/// by `%2F`, then `aws4_request`; all unreserved. Returns where it ends.
fn read_credential(query: &str, at: usize) -> Option<(Credential<'_>, usize)> {
    let bytes = query.as_bytes();
    let mut parts = [""; 4];
    let mut start = at;
    for part in &mut parts {
        // A `%` found past the value's end leaves a `&` in the part, which
        // the byte check below refuses.
        let cut = find_any(bytes, start, [b'%']);
        if cut == start || bytes.get(cut..cut + 3) != Some(b"%2F") {
            return None;
        }
        *part = query.get(start..cut)?;
        start = cut + 3;
    }
    let end = start + TERMINATOR.len();
    let terminated =
        bytes.get(start..end) == Some(TERMINATOR.as_bytes()) && matches!(bytes.get(end), None | Some(b'&'));
    if !terminated || !is_unreserved_or_percent(bytes.get(at..start)?) {
        return None;
    }
    let [access_key_id, date, region, service] = parts;
    let credential = Credential {
        access_key_id: access_key_id.into(),
        date: date.into(),
        region: region.into(),
        service: service.into(),
    };
    Some((credential, end))
}

/// `X-Amz-SignedHeaders`' value at `at`: non-empty lower-case unreserved
/// names separated by `%3B`. Returns where it ends.
fn read_signed_headers(query: &str, at: usize) -> Option<(SignedHeaders<'_>, usize)> {
    let bytes = query.as_bytes();
    let mut start = at;
    // The only upper-case letter of such a list is the `B` of each `%3B`,
    // which the cut steps over: it stops at any other `B`, so that the
    // bytes are checked in one pass over the whole list below.
    let end = loop {
        let cut = find_any(bytes, start, [b'%', b'&', b'B']);
        if cut == start {
            return None;
        }
        match bytes.get(cut..cut + 3) {
            Some(b"%3B") => start = cut + 3,
            _ if matches!(bytes.get(cut), Some(b'%' | b'B')) => return None,
            _ => break cut,
        }
    };
    let list = query.get(at..end)?;
    let lower_names = all_bytes(list.as_bytes(), |b| {
        let lower = b.wrapping_sub(b'a') < 26;
        let digit = b.wrapping_sub(b'0') < 10;
        // `-` and `.` are neighbours.
        let dash_dot = b.wrapping_sub(b'-') < 2;
        lower | digit | dash_dot | (b == b'_') | (b == b'~') | (b == b'%') | (b == b'B')
    });
    lower_names.then(|| (SignedHeaders::checked_escaped(list), end))
}

/// Where the name and the value of the request's own parameter at `at`
/// are, when it is usual: `name=value`, a name of unreserved bytes that is
/// not [`RESERVED`] (and, before the algorithm, sorts before it), a value
/// in canonical encoding. Kept out of line: most presigned queries have
/// none, and [`read`] is cheaper without it.
#[inline(never)]
fn own_parameter_at(query: &str, at: usize, next: usize) -> Option<(Range<usize>, Range<usize>)> {
    let bytes = query.as_bytes();
    let end = find_any(bytes, at, [b'&']);
    let equals = find_any(bytes.get(..end)?, at, [b'=']);
    let (name, value) = (query.get(at..equals)?, query.get(equals + 1..end)?);
    // Before the algorithm, only a name that sorts before it is usual.
    let in_order = next > 0 || name < "X-Amz-Algorithm";
    let usual = in_order
        && !name.is_empty()
        && is_unreserved_or_percent(name.as_bytes())
        && !name.contains('%')
        && !RESERVED.contains(&name)
        && is_canonical_encoding(value, Slash::Encode);
    usual.then_some((at..equals, equals + 1..end))
}

/// Whether every byte is unreserved (`A-Z a-z 0-9 - . _ ~`) or `%`.
fn is_unreserved_or_percent(bytes: &[u8]) -> bool {
    all_bytes(bytes, |b| {
        let letter = (b | 0x20).wrapping_sub(b'a') < 26;
        let digit = b.wrapping_sub(b'0') < 10;
        // `-` and `.` are neighbours.
        let dash_dot = b.wrapping_sub(b'-') < 2;
        letter | digit | dash_dot | (b == b'_') | (b == b'~') | (b == b'%')
    })
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use crate::sign::{SessionTokenPlacement, SigningSettings};
    use crate::verify::presigned::PresignedQuery;
    use crate::{Credentials, HttpRequest, Payload, SecretKey, Signer, Verifier};

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const HEADERS: [(&str, &str); 3] =
        [("host", "127.0.0.1:9000"), ("content-type", "image/png"), ("x-amz-meta-a", "1")];

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_717_171_717)
    }

    /// A presigned PUT as our signer writes it, with `own` as the request's
    /// own query and `token` as the session token.
    fn presigned(own: &str, token: Option<(&str, SessionTokenPlacement)>) -> String {
        let mut credentials = Credentials::new("AKIAIOSFODNN7EXAMPLE", SECRET);
        let mut settings = SigningSettings::s3();
        if let Some((token, placement)) = token {
            credentials = credentials.with_session_token(token);
            settings = settings.with_session_token(placement);
        }
        let signer = Signer::s3(credentials, "us-east-1").with_settings(settings);
        let request = HttpRequest { method: "PUT", path: "/uploads/cat.png", query: own, headers: &HEADERS };
        signer.presign(&request, Payload::Unsigned, Duration::from_secs(300), now()).unwrap().query
    }

    /// Reads `query` both ways, through `authenticate` (which tries the
    /// usual layout first) and through the general split alone, and checks
    /// that they agree: the same parse or the same error, then the same
    /// verification (with the right secret and a wrong one, whose error
    /// carries the canonical request). Returns whether the usual reader
    /// took it.
    fn agrees(query: &str) -> bool {
        let verifier = Verifier::s3("us-east-1");
        let request = HttpRequest { method: "PUT", path: "/uploads/cat.png", query, headers: &HEADERS };
        let usual = verifier.authenticate(&request);
        let split = verifier.authenticate_split(&request);
        assert_eq!(usual, split, "{query:?}");
        if let (Ok(usual), Ok(split)) = (&usual, &split) {
            for secret in [SECRET, "another secret"] {
                let secret = SecretKey::new(secret);
                assert_eq!(
                    format!("{:?}", verifier.verify(&request, usual, &secret, now())),
                    format!("{:?}", verifier.verify(&request, split, &secret, now())),
                    "{query:?}"
                );
            }
        }
        PresignedQuery::read_usual(query).is_some()
    }

    /// What a signer sends, and what the reader must take.
    fn usual_queries() -> Vec<String> {
        let good = presigned("", None);
        let (unsigned, signature) = good.rsplit_once("&X-Amz-Signature=").unwrap();
        let sorted =
            unsigned.replace("&X-Amz-SignedHeaders", &format!("&X-Amz-Signature={signature}&X-Amz-SignedHeaders"));
        vec![
            format!("X-Amz-Signature={signature}&{unsigned}"),
            sorted,
            presigned("", None),
            presigned("partNumber=1&uploadId=a%2Fb~c", None),
            presigned("Content-Disposition=inline&x-id=PutObject", None),
            presigned("", Some(("FwoGZXIvYXdzEJr//////////wEaDM+token=", SessionTokenPlacement::Signed))),
            presigned("X-Amz-Foo=1&X-Amz-Tagging=a%3Db", Some(("token", SessionTokenPlacement::Signed))),
        ]
    }

    #[test]
    fn signers_queries_are_read_in_place_and_verify() {
        let verifier = Verifier::s3("us-east-1");
        let secret = SecretKey::new(SECRET);
        for query in usual_queries() {
            assert!(agrees(&query), "{query:?} is not read in place");
            let request = HttpRequest { method: "PUT", path: "/uploads/cat.png", query: &query, headers: &HEADERS };
            let auth = verifier.authenticate(&request).unwrap();
            verifier.verify(&request, &auth, &secret, now()).unwrap();
        }
        // A token added after signing comes after the signed list: not usual.
        assert!(!agrees(&presigned("", Some(("token", SessionTokenPlacement::AddedAfterSigning)))));
    }

    #[test]
    fn odd_queries_are_left_to_the_general_parse() {
        let good = presigned("", None);
        let signature = good.rsplit_once("&X-Amz-Signature=").unwrap().1;
        let cases = [
            good.replace("%2F", "%2f"),
            good.replace("%3B", "%3b"),
            good.replace("%2Fs3%2F", "/s3/"),
            good.replace("%3Bhost", ";host"),
            good.replace("X-Amz-Date", "X-Amz-%44ate"),
            good.replace("X-Amz-Expires=300", "X-Amz-Expires=+300"),
            good.replace("X-Amz-Expires=300", "X-Amz-Expires=3%300"),
            good.replace("X-Amz-Expires=300", "X-Amz-Expires=0"),
            good.replace("X-Amz-Expires=300&", ""),
            good.replace("content-type", "Content-Type"),
            good.replace("content-type", "content+type"),
            good.replace("content-type", "content-typeB"),
            good.replace("us-east-1", "us east 1"),
            good.replace("aws4_request", "aws4_request%2Fx"),
            good.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1"),
            good.replace(signature, &signature.to_uppercase()),
            good.replace(&signature[..2], "%61"),
            format!("{good}&X-Amz-Signature={signature}"),
            format!("{good}&X-Amz-Date=20240531T160837Z"),
            format!("{good}&Signature=abc"),
            format!("AWSAccessKeyId=AKID&{good}"),
            format!("{good}&"),
            format!("&{good}"),
            good.replace("&X-Amz-Date", "&&X-Amz-Date"),
            format!("{good}&uploads"),
            format!("{good}&a=1&a=0"),
            format!("{good}&a=%2f"),
            format!("{good}&%61=1"),
            format!("{good}&a=1+2"),
            format!("{good}&a=b=c"),
            format!("b=1&{good}"),
            good.replace("X-Amz-Credential", "X-Amz-credential"),
            good.replace("X-Amz-Algorithm=AWS4-HMAC-SHA256&", ""),
            good.replace("X-Amz-SignedHeaders", "X-Amz-Signedheaders"),
            presigned("", Some(("%FF", SessionTokenPlacement::Signed))).replace("%25FF", "%FF"),
            String::new(),
            "uploads".to_owned(),
            "versionId=3&x-id=GetObject".to_owned(),
            "A=1&B=2".to_owned(),
        ];
        for query in cases {
            assert!(!agrees(&query), "{query:?} was read in place");
        }
    }

    #[test]
    fn any_single_change_is_read_alike() {
        let replacements = ["", "%", "+", "&", "=", "B", "b", "/", ";", "Z", "2", "f", "3", " ", "é", "%2F", "%3B"];
        for good in usual_queries() {
            for at in 0..good.len() {
                for with in replacements {
                    agrees(&format!("{}{with}{}", &good[..at], &good[at + 1..]));
                    agrees(&format!("{}{with}{}", &good[..at], &good[at..]));
                }
            }
        }
    }
}
