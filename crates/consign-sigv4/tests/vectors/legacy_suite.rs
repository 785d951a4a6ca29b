//! The 2015 "Signature Version 4 Test Suite" (`aws-sig-v4-test-suite/`):
//! header signing for service `service`, generic (normalized) paths.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use consign_sigv4::{
    AmzDate, Credentials, HttpRequest, Payload, SecretKey, SessionTokenPlacement, Signer, SigningSettings, Verifier,
    VerifyError,
};
use libtest_mimic::{Failed, Trial};

use crate::request_file::{Folding, RequestFile};
use crate::stage;

const ACCESS_KEY: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn now() -> SystemTime {
    AmzDate::parse("20150830T123600Z").expect("valid").to_system_time()
}

/// Every folder holding `NAME/NAME.req`, at any depth.
fn case_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        if path.join(format!("{name}.req")).exists() {
            found.push(path.clone());
        }
        found.extend(case_dirs(&path));
    }
    found.sort();
    found
}

pub fn trials(dir: &Path) -> Vec<Trial> {
    let mut trials = Vec::new();
    for case in case_dirs(dir) {
        let name = case.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        let label = format!("aws-sig-v4-test-suite/{name}");
        let sign_case = case.clone();
        trials.push(Trial::test(format!("{label}/header"), move || sign(&sign_case)));
        trials.push(Trial::test(format!("{label}/verify"), move || verify(&case)));
    }
    trials
}

fn read(case: &Path, ext: &str) -> String {
    let name = case.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    std::fs::read_to_string(case.join(format!("{name}.{ext}"))).unwrap_or_else(|e| panic!("{}: {e}", case.display()))
}

/// The token is added after signing only in `post-sts-header-after`.
fn token_after_signing(case: &Path) -> bool {
    case.ends_with("post-sts-header-after")
}

fn sign(case: &Path) -> Result<(), Failed> {
    let request = RequestFile::parse(&read(case, "req"), Folding::SeparateValue);
    let signed_request = RequestFile::parse(&read(case, "sreq"), Folding::SeparateValue);
    let token = signed_request.header("X-Amz-Security-Token");
    let mut credentials = Credentials::new(ACCESS_KEY, SECRET);
    if let Some(token) = token {
        credentials = credentials.with_session_token(token);
    }
    let placement = if token_after_signing(case) {
        SessionTokenPlacement::AddedAfterSigning
    } else {
        SessionTokenPlacement::Signed
    };
    let signer = Signer::new(credentials, "us-east-1", "service")
        .with_settings(SigningSettings::generic().with_session_token(placement));
    let headers = request.header_pairs();
    let http = HttpRequest { method: &request.method, path: &request.path, query: &request.query, headers: &headers };
    let signature = signer.sign_headers(&http, Payload::Bytes(&request.body), now())?;
    stage("canonical request", &read(case, "creq"), signature.canonical_request.as_str())?;
    stage("string to sign", &read(case, "sts"), signature.string_to_sign.as_str())?;
    stage("authorization", &read(case, "authz"), signature.authorization())?;
    // The signed request carries our Authorization and any token header.
    for (name, value) in &signature.headers {
        stage(
            &format!("signed request header {name}"),
            value,
            signed_request.header(name).map_or("<absent>", str::trim),
        )?;
    }
    Ok(())
}

fn verify(case: &Path) -> Result<(), Failed> {
    let signed = RequestFile::parse(&read(case, "sreq"), Folding::SeparateValue);
    let headers = signed.header_pairs();
    let http = HttpRequest { method: &signed.method, path: &signed.path, query: &signed.query, headers: &headers };
    let verifier = Verifier::new("us-east-1", "service");
    let auth = verifier.authenticate(&http)?;
    let result = verifier.verify_with_body(&http, &auth, &SecretKey::new(SECRET), now(), &signed.body);
    if token_after_signing(case) {
        // A token added after signing is an unsigned x-amz-* header, which
        // a receiver must refuse.
        return match result {
            Err(VerifyError::UnsignedHeader { name }) if name == "x-amz-security-token" => Ok(()),
            other => Err(format!("expected the unsigned token to be refused, got {other:?}").into()),
        };
    }
    result?;
    // The same request with a wrong secret must fail.
    match verifier.verify_with_body(&http, &auth, &SecretKey::new("wrong"), now(), &signed.body) {
        Err(VerifyError::SignatureDoesNotMatch { canonical_request, .. }) => {
            stage("canonical request in the mismatch error", &read(case, "creq"), &canonical_request)
        }
        other => Err(format!("a wrong secret was not refused: {other:?}").into()),
    }
}
