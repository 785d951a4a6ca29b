//! Signing and verification throughput, beside `aws-sigv4` and the crypto
//! floor (one SHA-256 of the canonical request and one HMAC-SHA256 of the
//! string to sign, hex-encoded: what any SigV4 signer must compute).
//!
//! Run: `cargo bench -p consign-sigv4 --bench signing`. Results and the
//! project's goals are in `docs/benchmarks.md`.

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use consign_sigv4::{
    Credentials, Endpoint, HttpRequest, ObjectRequest, Payload, PostPolicy, SecretKey, Signer, Verifier,
};
use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

const ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const REGION: &str = "us-east-1";
const ENDPOINT: &str = "http://127.0.0.1:9000";
const BUCKET: &str = "uploads";
const KEY: &str = "photos/2024/cat.png";
const CONTENT_TYPE: &str = "image/png";
const CONTENT_LENGTH: &str = "1048576";
const EXPIRES: Duration = Duration::from_secs(300);

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_717_171_717)
}

fn put_request() -> ObjectRequest<'static> {
    ObjectRequest::put(BUCKET, KEY).header("content-type", CONTENT_TYPE).header("content-length", CONTENT_LENGTH)
}

fn signer() -> Signer {
    Signer::s3(Credentials::new(ACCESS_KEY_ID, SECRET), REGION)
}

/// `aws-sigv4` presigning the same PUT end to end: build the request,
/// sign into query parameters, apply them, print the URL.
mod aws {
    use super::*;
    use aws_sigv4::http_request::{
        PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
        UriPathNormalizationMode, sign,
    };
    use aws_sigv4::sign::v4;
    use aws_smithy_runtime_api::client::identity::Identity;

    pub fn identity() -> Identity {
        aws_credential_types::Credentials::new(ACCESS_KEY_ID, SECRET, None, None, "bench").into()
    }

    pub fn presign_put(identity: &Identity, time: SystemTime) -> String {
        let mut settings = SigningSettings::default();
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(EXPIRES);
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        let params = v4::SigningParams::builder()
            .identity(identity)
            .region(REGION)
            .name("s3")
            .time(time)
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let mut request = http::Request::builder()
            .method("PUT")
            .uri(format!("{ENDPOINT}/{BUCKET}/{KEY}"))
            .header("content-type", CONTENT_TYPE)
            .header("content-length", CONTENT_LENGTH)
            .body(())
            .unwrap();
        let signable = SignableRequest::new(
            request.method().as_str(),
            request.uri().to_string(),
            request.headers().iter().map(|(n, v)| (n.as_str(), v.to_str().unwrap())),
            SignableBody::UnsignedPayload,
        )
        .unwrap();
        let (instructions, _signature) = sign(signable, &params).unwrap().into_parts();
        instructions.apply_to_request_http1x(&mut request);
        request.uri().to_string()
    }
}

/// The least any signer computes: SHA-256 of the canonical request, then
/// HMAC-SHA256 of the string to sign under a 32-byte key, both as hex.
fn crypto_floor(key: &[u8; 32], canonical_request: &[u8], string_to_sign_head: &[u8]) -> [u8; 64] {
    let mut hash_hex = [0u8; 64];
    hex(&Sha256::digest(canonical_request), &mut hash_hex);
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(string_to_sign_head);
    mac.update(&hash_hex);
    let mut signature = [0u8; 64];
    hex(&mac.finalize().into_bytes(), &mut signature);
    signature
}

fn hex(bytes: &[u8], out: &mut [u8; 64]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = DIGITS[usize::from(b >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(b & 0x0f)];
    }
}

fn post_policy() -> PostPolicy {
    let expiration = consign_sigv4::AmzDate::from_system_time(now() + Duration::from_secs(3600));
    PostPolicy::new(expiration)
        .key_starts_with("user/42/")
        .content_type_starts_with("image/")
        .content_length_range(1, 10 * 1024 * 1024)
        .acl("private")
        .success_action_status(201)
}

fn benches(c: &mut Criterion) {
    let endpoint = Endpoint::parse(ENDPOINT).unwrap();
    let request = put_request();
    let signer = signer();
    let identity = aws::identity();

    // Both libraries must produce the same URL, or the comparison is void.
    let ours = signer.presign_object(&endpoint, &request, EXPIRES, now()).unwrap();
    let theirs = aws::presign_put(&identity, now());
    assert_eq!(ours.url, theirs, "consign and aws-sigv4 presign different URLs");

    // The exact canonical request and string to sign of that URL, for the floor.
    let headers = [("host", "127.0.0.1:9000"), ("content-type", CONTENT_TYPE), ("content-length", CONTENT_LENGTH)];
    let path = format!("/{BUCKET}/{KEY}");
    let unsigned = HttpRequest { method: "PUT", path: &path, query: "", headers: &headers };
    let parts = signer.presign(&unsigned, Payload::Unsigned, EXPIRES, now()).unwrap();
    assert!(ours.url.ends_with(&parts.query));
    let canonical_request = parts.canonical_request.as_str().as_bytes().to_vec();
    let sts = parts.string_to_sign.as_str();
    let string_to_sign_head = sts.as_bytes()[..sts.len() - 64].to_vec();
    let floor_key = [0x5au8; 32];

    // The presigned request as a receiver sees it.
    let (path_and_query, query) = ours.url.strip_prefix(ENDPOINT).unwrap().split_once('?').unwrap();
    let verifier = Verifier::s3(REGION);
    let secret = SecretKey::new(SECRET);
    let received = HttpRequest { method: "PUT", path: path_and_query, query, headers: &headers };
    let auth = verifier.authenticate(&received).unwrap();
    verifier.verify(&received, &auth, &secret, now()).unwrap();

    let policy = post_policy();
    let form = signer.sign_post_policy(&endpoint, BUCKET, &policy, now()).unwrap();
    let encoded_policy = form.field("policy").unwrap().as_bytes().to_vec();

    let get = [("host", "127.0.0.1:9000"), ("x-amz-meta-owner", "42"), ("range", "bytes=0-1023")];
    let get_request = HttpRequest { method: "GET", path: &path, query: "versionId=3", headers: &get };

    let mut group = c.benchmark_group("sigv4");
    group.bench_function("floor/sha256+hmac", |b| {
        b.iter(|| crypto_floor(black_box(&floor_key), black_box(&canonical_request), black_box(&string_to_sign_head)))
    });
    group.bench_function("floor/hmac_policy", |b| {
        b.iter(|| {
            let mut mac = Hmac::<Sha256>::new_from_slice(black_box(&floor_key)).unwrap();
            mac.update(black_box(&encoded_policy));
            let mut signature = [0u8; 64];
            hex(&mac.finalize().into_bytes(), &mut signature);
            signature
        })
    });
    group.bench_function("consign/presign_put_url", |b| {
        b.iter(|| signer.presign_object(black_box(&endpoint), black_box(&request), EXPIRES, now()).unwrap().url)
    });
    group.bench_function("aws-sigv4/presign_put_url", |b| b.iter(|| aws::presign_put(black_box(&identity), now())));
    group.bench_function("consign/sign_headers", |b| {
        b.iter(|| signer.sign_headers(black_box(&get_request), Payload::Unsigned, now()).unwrap())
    });
    group.bench_function("consign/sign_post_policy", |b| {
        b.iter(|| signer.sign_post_policy(black_box(&endpoint), BUCKET, black_box(&policy), now()).unwrap())
    });
    group.bench_function("consign/verify_presigned", |b| {
        b.iter(|| {
            let auth = verifier.authenticate(black_box(&received)).unwrap();
            verifier.verify(black_box(&received), &auth, &secret, now()).unwrap()
        })
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
        .configure_from_args()
}

criterion_group! { name = signing; config = config(); targets = benches }
criterion_main!(signing);
