//! `AuthorizationHeader::parse` on arbitrary UTF-8: it must return, never panic.
#![no_main]

use consign_sigv4::AuthorizationHeader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|value: &str| {
    if let Ok(parsed) = AuthorizationHeader::parse(value) {
        assert!(!parsed.credential.access_key_id.is_empty());
        assert!(parsed.signed_headers.iter().all(|n| !n.is_empty()));
    }
});
