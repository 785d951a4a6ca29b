//! The aws-c-auth signing suite (`aws-signing-test-suite-v4/`): header and
//! presigned (query) modes, each stage compared.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use consign_sigv4::{
    AmzDate, Credentials, HttpRequest, Payload, SecretKey, SessionTokenPlacement, Signer, SigningSettings, UriEncoding,
    Verifier, VerifyError,
};
use libtest_mimic::{Failed, Trial};
use serde_json::Value;

use crate::common::query_multiset;
use crate::request_file::{Folding, RequestFile};
use crate::stage;

struct Context {
    signer: Signer,
    secret: SecretKey,
    region: String,
    service: String,
    encoding: UriEncoding,
    now: SystemTime,
    expires: u64,
    omit_token: bool,
}

fn context(case: &Path) -> Context {
    let json: Value = serde_json::from_str(&read(case, "context.json")).expect("context.json");
    let text = |v: &Value| v.as_str().expect("a string").to_owned();
    let creds = &json["credentials"];
    let secret = text(&creds["secret_access_key"]);
    let mut credentials = Credentials::new(text(&creds["access_key_id"]), secret.clone());
    if let Some(token) = creds["token"].as_str() {
        credentials = credentials.with_session_token(token);
    }
    let omit_token = json["omit_session_token"].as_bool().unwrap_or(false);
    let encoding = if json["normalize"].as_bool().unwrap_or(true) { UriEncoding::Normalized } else { UriEncoding::S3 };
    let settings = SigningSettings::generic()
        .with_uri_encoding(encoding)
        .with_content_sha256_header(json["sign_body"].as_bool().unwrap_or(false))
        .with_session_token(if omit_token {
            SessionTokenPlacement::AddedAfterSigning
        } else {
            SessionTokenPlacement::Signed
        });
    let (region, service) = (text(&json["region"]), text(&json["service"]));
    Context {
        signer: Signer::new(credentials, region.clone(), service.clone()).with_settings(settings),
        secret: SecretKey::new(secret),
        region,
        service,
        encoding,
        now: AmzDate::parse_iso8601(&text(&json["timestamp"])).expect("timestamp").to_system_time(),
        expires: json["expiration_in_seconds"].as_u64().unwrap_or(3600),
        omit_token,
    }
}

fn read(case: &Path, file: &str) -> String {
    std::fs::read_to_string(case.join(file)).unwrap_or_else(|e| panic!("{}/{file}: {e}", case.display()))
}

pub fn trials(dir: &Path) -> Vec<Trial> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).filter(|p| p.join("context.json").exists()).collect())
        .unwrap_or_default();
    cases.sort();
    let mut trials = Vec::new();
    for case in cases {
        let label =
            format!("aws-signing-test-suite-v4/{}", case.file_name().and_then(|n| n.to_str()).unwrap_or_default());
        for (mode, run) in [
            ("header", sign_header as fn(&Path) -> Result<(), Failed>),
            ("query", sign_query),
            ("header/verify", |c: &Path| verify(c, "header")),
            ("query/verify", |c: &Path| verify(c, "query")),
        ] {
            let case = case.clone();
            trials.push(Trial::test(format!("{label}/{mode}"), move || run(&case)));
        }
    }
    trials
}

fn sign_header(case: &Path) -> Result<(), Failed> {
    let ctx = context(case);
    let request = RequestFile::parse(&read(case, "request.txt"), Folding::Continuation);
    let headers = request.header_pairs();
    let http = HttpRequest { method: &request.method, path: &request.path, query: &request.query, headers: &headers };
    let signature = ctx.signer.sign_headers(&http, Payload::Bytes(&request.body), ctx.now)?;
    stage("canonical request", &read(case, "header-canonical-request.txt"), signature.canonical_request.as_str())?;
    stage("string to sign", &read(case, "header-string-to-sign.txt"), signature.string_to_sign.as_str())?;
    stage("signature", &read(case, "header-signature.txt"), signature.signature.as_str())?;
    let signed = RequestFile::parse(&read(case, "header-signed-request.txt"), Folding::Continuation);
    for (name, value) in &signature.headers {
        stage(&format!("signed request header {name}"), value, signed.header(name).map_or("<absent>", str::trim))?;
    }
    Ok(())
}

fn sign_query(case: &Path) -> Result<(), Failed> {
    let ctx = context(case);
    let request = RequestFile::parse(&read(case, "request.txt"), Folding::Continuation);
    let headers = request.header_pairs();
    let http = HttpRequest { method: &request.method, path: &request.path, query: &request.query, headers: &headers };
    let signature =
        ctx.signer.presign(&http, Payload::Bytes(&request.body), Duration::from_secs(ctx.expires), ctx.now)?;
    stage("canonical request", &read(case, "query-canonical-request.txt"), signature.canonical_request.as_str())?;
    stage("string to sign", &read(case, "query-string-to-sign.txt"), signature.string_to_sign.as_str())?;
    stage("signature", &read(case, "query-signature.txt"), signature.signature.as_str())?;
    let signed = RequestFile::parse(&read(case, "query-signed-request.txt"), Folding::Continuation);
    stage(
        "signed request query (decoded, sorted)",
        &format!("{:?}", query_multiset(&signed.query)),
        &format!("{:?}", query_multiset(&signature.query)),
    )
}

fn verify(case: &Path, mode: &str) -> Result<(), Failed> {
    let ctx = context(case);
    let signed = RequestFile::parse(&read(case, &format!("{mode}-signed-request.txt")), Folding::Continuation);
    let headers = signed.header_pairs();
    let http = HttpRequest { method: &signed.method, path: &signed.path, query: &signed.query, headers: &headers };
    let verifier = Verifier::new(ctx.region.clone(), ctx.service.clone()).with_uri_encoding(ctx.encoding);
    let auth = verifier.authenticate(&http)?;
    let result = verifier.verify_with_body(&http, &auth, &ctx.secret, ctx.now, &signed.body);
    let token_sent = signed.header("x-amz-security-token").is_some() || signed.query.contains("X-Amz-Security-Token");
    if ctx.omit_token && token_sent {
        // Added after signing: a receiver must not accept it as signed.
        return match result {
            Err(VerifyError::UnsignedHeader { .. } | VerifyError::SignatureDoesNotMatch { .. }) => Ok(()),
            other => Err(format!("a token added after signing was accepted: {other:?}").into()),
        };
    }
    result?;
    let expected = read(case, &format!("{mode}-canonical-request.txt"));
    match verifier.verify_with_body(&http, &auth, &SecretKey::new("wrong"), ctx.now, &signed.body) {
        Err(VerifyError::SignatureDoesNotMatch { canonical_request, .. }) => {
            stage("canonical request in the mismatch error", &expected, &canonical_request)
        }
        other => Err(format!("a wrong secret was not refused: {other:?}").into()),
    }
}
