//! Property tests: what our `Signer` signs, our `Verifier` accepts, and
//! any single change to a signed element makes it refuse; the aws-chunked
//! encoder and decoder round-trip, and a flipped byte never goes unnoticed.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use consign_sigv4::encoding::{Slash, uri_encode};
use consign_sigv4::{
    AmzDate, ChunkedDecoder, Credentials, Decoded, HttpRequest, MIN_SIGNED_CHUNK_SIZE, Payload, PayloadCheck, Signer,
    StreamingContext, StreamingMode, Verified, Verifier, VerifyError, sha256_hex,
};
use proptest::prelude::*;
use proptest::sample::Index;

const KEY_PIECES: &[&str] = &[
    "a", "b", "Z", "0", "9", "photos", "cat.png", " ", "  ", "+", "%", "%20", "%2F", "~", "=", "&", "😀", "é", "ሴ",
    "/", "//", "..", ".", "-", "_", "!", "*", "'", "(", ")", "?", "#", ":", "@", ",", ";", "$", "[", "]", "\"", "<",
    ">", "^", "|", "{", "}", "\\", "`", "\t",
];
const QUERY_NAMES: &[&str] = &[
    "uploads",
    "uploadId",
    "partNumber",
    "versionId",
    "prefix",
    "delimiter",
    "response-content-type",
    "a",
    "A",
    "é",
    "😀",
    " ",
    "+",
    "=",
    "&",
    "%",
    "/",
];
/// Header values may be any UTF-8 without CR, LF or NUL; runs of spaces
/// and tabs are trimmed and collapsed.
const VALUE_PIECES: &[&str] =
    &["a", "Z", "0", " ", "  ", "\t", "/", ";", "=", ",", "\"", "text/plain", "charset=utf-8", "é", "😀", "%20", "+"];
const HEADER_NAMES: &[&str] =
    &["content-type", "Content-Type", "cache-control", "Content-MD5", "content-length", "x-amz-storage-class", "range"];
const META_PIECES: &[&str] = &["a", "b", "z", "0", "-", "_", "author"];
const METHODS: &[&str] = &["GET", "PUT", "POST", "HEAD", "DELETE"];
const REGIONS: &[&str] = &["us-east-1", "eu-west-3", "ap-southeast-2"];
const HOSTS: &[&str] = &["examplebucket.s3.amazonaws.com", "127.0.0.1:9000", "localhost"];
const TIMES: &[u64] = &[1_440_938_160, 1_709_251_199, 946_684_800, 2_147_483_648];
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn text(pieces: &'static [&'static str], len: std::ops::Range<usize>) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(pieces), len).prop_map(|v| v.concat())
}

/// A request as the client has it: the decoded key and query, and the
/// headers it wants signed.
#[derive(Debug, Clone)]
struct Spec {
    method: &'static str,
    bucket: Option<&'static str>,
    key: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    unsigned_body: bool,
    region: &'static str,
    time: u64,
    token: Option<&'static str>,
    expires: u64,
}

fn spec_strategy() -> impl Strategy<Value = Spec> {
    let header = (
        prop_oneof![
            prop::sample::select(HEADER_NAMES).prop_map(str::to_owned),
            text(META_PIECES, 1..4).prop_map(|n| format!("x-amz-meta-{n}")),
        ],
        text(VALUE_PIECES, 0..8),
    );
    let query = prop::collection::vec(
        (prop_oneof![text(QUERY_NAMES, 1..3), text(KEY_PIECES, 1..4)], text(KEY_PIECES, 0..6)),
        0..4,
    );
    (
        (
            prop::sample::select(METHODS),
            prop::option::of(Just("examplebucket")),
            text(KEY_PIECES, 0..12),
            query,
            prop::sample::select(HOSTS),
            prop::collection::vec(header, 0..4),
        ),
        (
            prop::collection::vec(any::<u8>(), 0..32),
            any::<bool>(),
            prop::sample::select(REGIONS),
            prop::sample::select(TIMES),
            prop::option::of(Just("AQoDYXdzEJr//+=token")),
            prop_oneof![Just(1u64), Just(604_800u64), 2u64..604_800],
        ),
    )
        .prop_map(
            |((method, bucket, key, query, host, extra), (body, unsigned_body, region, time, token, expires))| {
                let mut headers = vec![("host".to_owned(), host.to_owned())];
                headers.extend(extra);
                Spec { method, bucket, key, query, headers, body, unsigned_body, region, time, token, expires }
            },
        )
}

/// Random choices for the mutations of one case.
#[derive(Debug, Clone)]
struct Picks {
    method: Index,
    key_char: Index,
    key_replacement: Index,
    query_param: Index,
    header: Index,
    date_shift: i64,
    region: Index,
    expires: Index,
    signature_char: Index,
    signature_replacement: Index,
}

fn picks_strategy() -> impl Strategy<Value = Picks> {
    (
        (any::<Index>(), any::<Index>(), any::<Index>(), any::<Index>(), any::<Index>()),
        prop_oneof![-600i64..=-1, 1i64..=600],
        (any::<Index>(), any::<Index>(), any::<Index>(), any::<Index>()),
    )
        .prop_map(
            |(
                (method, key_char, key_replacement, query_param, header),
                date_shift,
                (region, expires, signature_char, signature_replacement),
            )| Picks {
                method,
                key_char,
                key_replacement,
                query_param,
                header,
                date_shift,
                region,
                expires,
                signature_char,
                signature_replacement,
            },
        )
}

fn wire_path(bucket: Option<&str>, key: &str) -> String {
    let mut path = String::from("/");
    if let Some(bucket) = bucket {
        path.push_str(bucket);
        path.push('/');
    }
    path.push_str(&uri_encode(key, Slash::Keep));
    path
}

fn wire_query(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(n, v)| format!("{}={}", uri_encode(n, Slash::Encode), uri_encode(v, Slash::Encode)))
        .collect::<Vec<_>>()
        .join("&")
}

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

/// A request as the server receives it.
#[derive(Debug, Clone)]
struct Wire {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
}

impl Wire {
    fn verify(&self, region: &str, now: u64) -> Result<Verified, VerifyError> {
        let headers: Vec<(&str, &str)> = self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let request = HttpRequest { method: &self.method, path: &self.path, query: &self.query, headers: &headers };
        let verifier = Verifier::s3(region);
        let auth = verifier.authenticate(&request)?;
        verifier.verify(&request, &auth, Credentials::new("x", SECRET).secret(), at(now))
    }

    fn header_mut(&mut self, name: &str) -> &mut String {
        &mut self.headers.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(name)).expect("header present").1
    }

    /// Rewrites the query parameter `name` (decoded) with `change`.
    fn map_param(&mut self, name: &str, change: impl Fn(&str) -> String) {
        let mut pairs = common::decode_query(&self.query);
        let pair = pairs.iter_mut().find(|(n, _)| n == name).expect("parameter present");
        pair.1 = change(&pair.1);
        self.query = wire_query(&pairs);
    }
}

fn signer(spec: &Spec) -> Signer {
    let mut credentials = Credentials::new("AKIDEXAMPLE", SECRET);
    if let Some(token) = spec.token {
        credentials = credentials.with_session_token(token);
    }
    Signer::s3(credentials, spec.region)
}

fn other<'a>(all: &[&'a str], not: &str, pick: &Index) -> &'a str {
    let candidates: Vec<&str> = all.iter().copied().filter(|c| *c != not).collect();
    candidates[pick.index(candidates.len())]
}

/// One character of the key replaced by a different one (or one added to
/// an empty key); S3's encoding is injective, so the canonical URI changes.
fn mutate_key(spec: &Spec, picks: &Picks) -> String {
    const REPLACEMENTS: &[&str] = &["x", " ", "+", "%", "/", "é", "😀", ".", "~"];
    let chars: Vec<char> = spec.key.chars().collect();
    if chars.is_empty() {
        return wire_path(spec.bucket, REPLACEMENTS[picks.key_replacement.index(REPLACEMENTS.len())]);
    }
    let i = picks.key_char.index(chars.len());
    let mut replacement = REPLACEMENTS[picks.key_replacement.index(REPLACEMENTS.len())];
    if replacement.starts_with(chars[i]) {
        replacement = if chars[i] == 'x' { "y" } else { "x" };
    }
    let key: String = chars[..i].iter().collect::<String>() + replacement + &chars[i + 1..].iter().collect::<String>();
    assert_ne!(key, spec.key);
    wire_path(spec.bucket, &key)
}

/// A copy of `query` (decoded pairs) with one of the request's own values
/// changed, or a parameter added when there is none.
fn mutate_own_query(query: &str, own: usize, picks: &Picks) -> String {
    let mut pairs = common::decode_query(query);
    let own_positions: Vec<usize> = (0..pairs.len()).filter(|&i| !pairs[i].0.starts_with("X-Amz-")).collect::<Vec<_>>();
    assert_eq!(own_positions.len(), own);
    if own == 0 {
        pairs.push(("added".to_owned(), "1".to_owned()));
    } else {
        let i = own_positions[picks.query_param.index(own)];
        pairs[i].1.push('x');
    }
    wire_query(&pairs)
}

/// The signature with one character changed: another lower-case hex digit,
/// or sometimes an upper-case or non-hex one.
fn mutate_signature(signature: &str, picks: &Picks) -> String {
    const REPLACEMENTS: &[u8] = b"0123456789abcdefABCDEFg";
    let mut bytes = signature.as_bytes().to_vec();
    let i = picks.signature_char.index(bytes.len());
    let candidates: Vec<u8> = REPLACEMENTS.iter().copied().filter(|c| *c != bytes[i]).collect();
    bytes[i] = candidates[picks.signature_replacement.index(candidates.len())];
    String::from_utf8(bytes).expect("ASCII")
}

fn shifted_date(time: u64, shift: i64) -> String {
    AmzDate::from_unix(i64::try_from(time).expect("time") + shift).to_string()
}

/// Asserts that every one of `mutants` fails verification.
fn assert_all_refused(mutants: Vec<(&str, Wire)>, region: &str, now: u64) {
    for (what, wire) in mutants {
        let result = wire.verify(region, now);
        assert!(result.is_err(), "changing {what} still verified: {wire:#?}");
    }
}

fn check_header_auth(spec: &Spec, picks: &Picks) {
    let path = wire_path(spec.bucket, &spec.key);
    let query = wire_query(&spec.query);
    let headers: Vec<(&str, &str)> = spec.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let request = HttpRequest { method: spec.method, path: &path, query: &query, headers: &headers };
    let payload = if spec.unsigned_body { Payload::Unsigned } else { Payload::Bytes(&spec.body) };
    let signed = signer(spec).sign_headers(&request, payload, at(spec.time)).expect("signs");

    let mut all_headers = spec.headers.clone();
    all_headers.extend(signed.headers.iter().map(|(n, v)| ((*n).to_owned(), v.clone())));
    let wire = Wire { method: spec.method.to_owned(), path: path.clone(), query: query.clone(), headers: all_headers };
    let verified = wire
        .verify(spec.region, spec.time)
        .unwrap_or_else(|e| panic!("header auth did not verify: {e}\n{spec:#?}\n{}", signed.canonical_request));
    assert_eq!(verified.access_key_id, "AKIDEXAMPLE");
    assert_eq!(verified.session_token.as_deref(), spec.token);
    match (&verified.payload, spec.unsigned_body) {
        (PayloadCheck::Unsigned, true) => {}
        (PayloadCheck::Sha256(hash), false) => assert_eq!(hash, sha256_hex(&spec.body).as_str()),
        (other, _) => panic!("unexpected payload check {other:?}"),
    }

    let mut mutants = Vec::new();
    let mut m = wire.clone();
    m.method = other(METHODS, spec.method, &picks.method).to_owned();
    mutants.push(("the method", m));

    let mut m = wire.clone();
    m.path = mutate_key(spec, picks);
    mutants.push(("the key", m));

    let mut m = wire.clone();
    m.query = mutate_own_query(&query, spec.query.len(), picks);
    mutants.push(("a query parameter", m));

    let mut m = wire.clone();
    let own = spec.headers.len();
    m.headers[picks.header.index(own)].1.push('Z');
    mutants.push(("a signed header", m));

    let mut m = wire.clone();
    *m.header_mut("x-amz-date") = shifted_date(spec.time, picks.date_shift);
    mutants.push(("x-amz-date", m));

    let credential_part = format!("/{}/s3/aws4_request", spec.region);
    let mut m = wire.clone();
    let new_region = other(REGIONS, spec.region, &picks.region);
    let auth = m.header_mut("authorization");
    assert!(auth.contains(&credential_part));
    *auth = auth.replace(&credential_part, &format!("/{new_region}/s3/aws4_request"));
    mutants.push(("the region of the scope", m));

    let mut m = wire.clone();
    let auth = m.header_mut("authorization");
    *auth = auth.replace("/s3/aws4_request", "/s4/aws4_request");
    mutants.push(("the service of the scope", m));

    let mut m = wire.clone();
    let auth = m.header_mut("authorization");
    let (head, signature) = auth.split_once("Signature=").expect("signature");
    *auth = format!("{head}Signature={}", mutate_signature(signature, picks));
    mutants.push(("the signature", m));

    if spec.token.is_some() {
        let mut m = wire.clone();
        m.header_mut("x-amz-security-token").push('x');
        mutants.push(("the session token", m));
    }
    // The verifier must reject these for the right reason, not for a
    // problem with the verification itself: the same verifier accepts
    // the unchanged request (checked above).
    assert_all_refused(mutants, spec.region, spec.time);
}

fn check_presigned(spec: &Spec, picks: &Picks) {
    let path = wire_path(spec.bucket, &spec.key);
    let query = wire_query(&spec.query);
    let headers: Vec<(&str, &str)> = spec.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let request = HttpRequest { method: spec.method, path: &path, query: &query, headers: &headers };
    let signed = signer(spec)
        .presign(&request, Payload::Unsigned, Duration::from_secs(spec.expires), at(spec.time))
        .expect("presigns");

    let wire = Wire {
        method: spec.method.to_owned(),
        path: path.clone(),
        query: signed.query.clone(),
        headers: spec.headers.clone(),
    };
    let verified = wire
        .verify(spec.region, spec.time)
        .unwrap_or_else(|e| panic!("presigned URL did not verify: {e}\n{spec:#?}\n{}", signed.canonical_request));
    assert!(matches!(verified.payload, PayloadCheck::Unsigned));
    assert_eq!(verified.session_token.as_deref(), spec.token);
    // Valid until the last second, refused from `expires_at` on.
    let last = spec.time + spec.expires - 1;
    assert!(wire.verify(spec.region, last).is_ok(), "refused at the last valid second");
    assert!(wire.verify(spec.region, last + 1).is_err(), "accepted after expiry");

    let mut mutants = Vec::new();
    let mut m = wire.clone();
    m.method = other(METHODS, spec.method, &picks.method).to_owned();
    mutants.push(("the method", m));

    let mut m = wire.clone();
    m.path = mutate_key(spec, picks);
    mutants.push(("the key", m));

    let mut m = wire.clone();
    m.query = mutate_own_query(&signed.query, spec.query.len(), picks);
    mutants.push(("a query parameter", m));

    let mut m = wire.clone();
    m.headers[picks.header.index(spec.headers.len())].1.push('Z');
    mutants.push(("a signed header", m));

    let mut m = wire.clone();
    m.map_param("X-Amz-Date", |_| shifted_date(spec.time, picks.date_shift));
    mutants.push(("X-Amz-Date", m));

    let mut m = wire.clone();
    let new_region = other(REGIONS, spec.region, &picks.region);
    m.map_param("X-Amz-Credential", |c| c.replace(&format!("/{}/", spec.region), &format!("/{new_region}/")));
    mutants.push(("the region of X-Amz-Credential", m));

    let mut m = wire.clone();
    let new_expires = {
        let candidate = 1 + picks.expires.index(604_800) as u64;
        if candidate == spec.expires { if candidate == 1 { 2 } else { candidate - 1 } } else { candidate }
    };
    m.map_param("X-Amz-Expires", |_| new_expires.to_string());
    mutants.push(("X-Amz-Expires", m));

    let mut m = wire.clone();
    m.map_param("X-Amz-Signature", |s| mutate_signature(s, picks));
    mutants.push(("X-Amz-Signature", m));

    let mut m = wire.clone();
    m.map_param("X-Amz-SignedHeaders", |s| s.replacen("host", "host;x-amz-meta-added", 1));
    m.headers.push(("x-amz-meta-added".to_owned(), "v".to_owned()));
    mutants.push(("X-Amz-SignedHeaders", m));

    if spec.token.is_some() {
        let mut m = wire.clone();
        m.map_param("X-Amz-Security-Token", |t| format!("{t}x"));
        mutants.push(("X-Amz-Security-Token", m));
    }
    assert_all_refused(mutants, spec.region, spec.time);
}

proptest! {
    #![proptest_config(common::proptest_config(2000, 0x0c0f_f1e5))]

    #[test]
    fn signed_requests_verify_and_any_change_is_refused(spec in spec_strategy(), picks in picks_strategy()) {
        check_header_auth(&spec, &picks);
        check_presigned(&spec, &picks);
    }
}

// ---------------------------------------------------------------- aws-chunked

/// A small deterministic generator for bulk bytes and sizes, so that
/// proptest does not have to build (and shrink) tens of kilobytes per case.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform enough in `low..=high`.
    fn between(&mut self, low: usize, high: usize) -> usize {
        low + (self.next() % (high - low + 1) as u64) as usize
    }
}

/// What each byte of an encoded body is, to tell which flips are
/// equivalent spellings rather than changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// The hex chunk size, read without regard to case.
    Size,
    /// A trailer name, read without regard to case.
    TrailerName,
    /// Chunk data.
    Data,
    /// Everything else: `;chunk-signature=…`, CRLFs, trailer values.
    Framing,
}

struct Encoded {
    body: Vec<u8>,
    parts: Vec<Part>,
}

fn classify_header(out: &[u8], parts: &mut Vec<Part>) {
    let size_len = out.iter().position(|b| *b == b';' || *b == b'\r').expect("chunk header");
    parts.extend(std::iter::repeat_n(Part::Size, size_len));
}

fn encode(
    signer: &Signer,
    seed: &consign_sigv4::HeaderSignature,
    mode: StreamingMode,
    data: &[u8],
    sizes: &[usize],
    trailers: &[(&str, &str)],
) -> Encoded {
    let mut encoder = signer.chunk_encoder(seed, mode);
    let mut body = Vec::new();
    let mut parts = Vec::new();
    let mut rest = data;
    for &size in sizes {
        let (chunk, tail) = rest.split_at(size);
        rest = tail;
        let out = encoder.chunk(chunk);
        let header_len = out.len() - chunk.len() - 2;
        classify_header(&out, &mut parts);
        parts.extend(std::iter::repeat_n(Part::Framing, header_len - (parts.len() - body.len())));
        parts.extend(std::iter::repeat_n(Part::Data, chunk.len()));
        parts.extend([Part::Framing; 2]);
        body.extend_from_slice(&out);
    }
    assert!(rest.is_empty());
    let out = encoder.finish(trailers);
    let start = body.len();
    classify_header(&out, &mut parts);
    let first_line_end = out.windows(2).position(|w| w == b"\r\n").expect("final chunk") + 2;
    parts.extend(std::iter::repeat_n(Part::Framing, start + first_line_end - parts.len()));
    let mut line_start = first_line_end;
    while let Some(line_len) = out[line_start..].windows(2).position(|w| w == b"\r\n") {
        let line = &out[line_start..line_start + line_len];
        let name_len = line.iter().position(|b| *b == b':').unwrap_or(0);
        parts.extend(std::iter::repeat_n(Part::TrailerName, name_len));
        parts.extend(std::iter::repeat_n(Part::Framing, line_len - name_len + 2));
        line_start += line_len + 2;
    }
    body.extend_from_slice(&out);
    assert_eq!(parts.len(), body.len(), "classification covers every byte");
    Encoded { body, parts }
}

/// Decoded data and trailers.
type DecodedBody = (Vec<u8>, Vec<(String, String)>);

/// Feeds `body` to a fresh decoder in pieces of the given sizes; returns
/// the data and trailers, or why it was refused. Bytes left after the end
/// of the body count as a refusal (the caller knows the body's length).
fn decode(
    context: &StreamingContext,
    length: Option<u64>,
    body: &[u8],
    feed: &mut XorShift,
    max_feed: usize,
) -> Result<DecodedBody, String> {
    let mut decoder = ChunkedDecoder::new(context.clone(), length);
    let mut out = Vec::new();
    let mut rest = body;
    let mut ended = false;
    while !rest.is_empty() {
        let take = feed.between(1, max_feed).min(rest.len());
        let (mut piece, tail) = rest.split_at(take);
        rest = tail;
        while !piece.is_empty() {
            if ended {
                return Err(format!("{} bytes after the end of the body", piece.len() + rest.len()));
            }
            let (consumed, decoded) = decoder.decode(piece).map_err(|e| e.to_string())?;
            match decoded {
                Decoded::Data(data) => out.extend_from_slice(data),
                Decoded::NeedMore => assert_eq!(consumed, piece.len(), "NeedMore consumes everything"),
                Decoded::End => ended = true,
            }
            piece = &piece[consumed..];
        }
    }
    if !ended {
        // A last call with no input lets a decoder that has everything say so.
        let (_, decoded) = decoder.decode(&[]).map_err(|e| e.to_string())?;
        ended = decoded == Decoded::End;
    }
    decoder.finish().map_err(|e| e.to_string())?;
    assert!(ended, "finish() accepted a body that never ended");
    Ok((out, decoder.trailers().to_vec()))
}

#[derive(Debug, Clone)]
struct ChunkCase {
    mode: StreamingMode,
    length: usize,
    seed: u64,
    max_feed: usize,
    send_length: bool,
    trailers: usize,
    flips: Vec<(bool, Index, u8)>,
}

fn chunk_case_strategy() -> impl Strategy<Value = ChunkCase> {
    (
        prop_oneof![
            Just(StreamingMode::Signed),
            Just(StreamingMode::SignedWithTrailer),
            Just(StreamingMode::UnsignedWithTrailer),
        ],
        prop_oneof![Just(0usize), 1usize..=MIN_SIGNED_CHUNK_SIZE, 1usize..=40_000],
        any::<u64>().prop_map(|s| s | 1),
        prop_oneof![Just(1usize), 1usize..=64, 1usize..=20_000],
        any::<bool>(),
        0usize..=2,
        prop::collection::vec((any::<bool>(), any::<Index>(), 1u8..=255), 8),
    )
        .prop_map(|(mode, length, seed, max_feed, send_length, trailers, flips)| ChunkCase {
            mode,
            length,
            seed,
            max_feed,
            send_length,
            trailers,
            flips,
        })
}

fn check_chunked(case: &ChunkCase) {
    let mut rng = XorShift(case.seed);
    let data: Vec<u8> = (0..case.length).map(|_| rng.next() as u8).collect();
    // Signed chunks but the last must hold at least 8 KiB; unsigned ones
    // may be any size.
    let (low, high) = if case.mode == StreamingMode::UnsignedWithTrailer {
        (1, 3000)
    } else {
        (MIN_SIGNED_CHUNK_SIZE, MIN_SIGNED_CHUNK_SIZE + 4096)
    };
    let mut sizes = Vec::new();
    let mut left = data.len();
    while left > 0 {
        let size = rng.between(low, high).min(left);
        sizes.push(size);
        left -= size;
    }
    let checksums = [
        ("x-amz-checksum-crc32c", "sOO8/Q=="),
        ("X-Amz-Checksum-SHA256", "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="),
    ];
    // Plain STREAMING-AWS4-HMAC-SHA256-PAYLOAD has no trailer.
    let trailers = if case.mode == StreamingMode::Signed { &[][..] } else { &checksums[..case.trailers] };

    let payload = match case.mode {
        StreamingMode::Signed => Payload::StreamingSigned,
        StreamingMode::SignedWithTrailer => Payload::StreamingSignedTrailer,
        _ => Payload::StreamingUnsignedTrailer,
    };
    let length_text = data.len().to_string();
    let mut headers = vec![
        ("host", "examplebucket.s3.amazonaws.com"),
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", length_text.as_str()),
    ];
    if let Some((name, _)) = trailers.first() {
        headers.push(("x-amz-trailer", *name));
    }
    let signer = Signer::s3(Credentials::new("AKIDEXAMPLE", SECRET), "us-east-1");
    let request = HttpRequest { method: "PUT", path: "/examplebucket/chunked", query: "", headers: &headers };
    let seed = signer.sign_headers(&request, payload, at(TIMES[0])).expect("signs");

    // The server verifies the seed request and gets the streaming context.
    let mut wire = Wire {
        method: "PUT".to_owned(),
        path: "/examplebucket/chunked".to_owned(),
        query: String::new(),
        headers: headers.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect(),
    };
    wire.headers.extend(seed.headers.iter().map(|(n, v)| ((*n).to_owned(), v.clone())));
    let context = match wire.verify("us-east-1", TIMES[0]).expect("seed verifies").payload {
        PayloadCheck::Streaming(context) => context,
        other => panic!("expected a streaming body, got {other:?}"),
    };
    assert_eq!(context.mode(), case.mode);

    let encoded = encode(&signer, &seed, case.mode, &data, &sizes, trailers);
    let length = case.send_length.then_some(data.len() as u64);
    let mut feed = XorShift(case.seed.rotate_left(17) | 1);
    let (decoded, decoded_trailers) = decode(&context, length, &encoded.body, &mut feed, case.max_feed)
        .unwrap_or_else(|e| panic!("round trip failed: {e} ({case:?}, sizes {sizes:?})"));
    assert!(decoded == data, "round trip changed the data ({case:?})");
    let expected_trailers: Vec<(String, String)> =
        trailers.iter().map(|(n, v)| (n.to_ascii_lowercase(), (*v).to_owned())).collect();
    assert_eq!(decoded_trailers, expected_trailers);

    let framing: Vec<usize> = (0..encoded.parts.len()).filter(|&i| encoded.parts[i] != Part::Data).collect();
    for (anywhere, position, mask) in &case.flips {
        let at = if *anywhere || framing.is_empty() {
            position.index(encoded.body.len())
        } else {
            framing[position.index(framing.len())]
        };
        let mut flipped = encoded.body.clone();
        let original = flipped[at];
        flipped[at] ^= mask;
        let result = decode(&context, length, &flipped, &mut feed, case.max_feed);
        // Hex sizes and trailer names are read without regard to case, so
        // changing the case of a letter there is the same body spelled
        // differently (chunk sizes are not covered by any signature).
        let same_spelling = *mask == 0x20
            && original.is_ascii_alphabetic()
            && matches!(encoded.parts[at], Part::Size | Part::TrailerName);
        if same_spelling {
            continue;
        }
        if let Ok((data_after, trailers_after)) = result {
            assert!(
                data_after != data || trailers_after != decoded_trailers,
                "flipping byte {at} ({:?}, {:?} ^ {mask:#04x}) of a {:?} body went unnoticed",
                encoded.parts[at],
                original as char,
                case.mode,
            );
            // Only unsigned chunks can change without an error.
            assert_eq!(
                case.mode,
                StreamingMode::UnsignedWithTrailer,
                "a signed body changed without an error at byte {at}"
            );
        }
    }
}

proptest! {
    #![proptest_config(common::proptest_config(400, 0x0c0f_f1e5))]

    #[test]
    fn aws_chunked_round_trips_and_detects_flipped_bytes(case in chunk_case_strategy()) {
        check_chunked(&case);
    }
}
