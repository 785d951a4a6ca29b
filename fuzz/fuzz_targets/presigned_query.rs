//! `PresignedQuery::parse` and `Verifier::authenticate` (then `verify`) on
//! arbitrary query strings.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use consign_sigv4::{PresignedQuery, SecretKey, Verifier};
use consign_sigv4::{Authentication, HttpRequest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|query: &str| {
    let _ = PresignedQuery::parse(query);

    let verifier = Verifier::s3("us-east-1");
    let headers = [("host", "127.0.0.1:9000"), ("content-type", "image/png")];
    let request = HttpRequest { method: "PUT", path: "/bucket/a%20key", query, headers: &headers };
    if let Ok(auth) = verifier.authenticate(&request) {
        if let Authentication::Presigned(presigned) = &auth {
            // Verify at the URL's own date, so the time window passes and
            // the canonical request is built and compared.
            let now = UNIX_EPOCH + Duration::from_secs(presigned.date.unix().unsigned_abs());
            let _ = verifier.verify(&request, &auth, &SecretKey::new("secret"), now);
        }
    }
});
