//! `PolicyDocument::from_base64` and `from_json`, then `evaluate` against a
//! few form fields.
#![no_main]

use consign_sigv4::{AmzDate, PolicyDocument};
use libfuzzer_sys::fuzz_target;

fn evaluate(document: &PolicyDocument) {
    let fields = [
        ("key", "user/42/cat.png"),
        ("Content-Type", "image/png, image/jpeg"),
        ("acl", "private"),
        ("success_action_status", "201"),
        ("x-amz-meta-note", "h\u{e9}llo"),
        ("policy", "ignored"),
        ("file", ""),
    ];
    for now in [AmzDate::from_unix(0), AmzDate::from_unix(1_717_171_717), AmzDate::from_unix(i64::MAX)] {
        if let Ok(outcome) = document.evaluate(&fields, "bucket", now) {
            if let Some((min, max)) = outcome.content_length_range {
                assert!(min <= max, "an accepted range must not be empty");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(document) = PolicyDocument::from_json(data) {
        evaluate(&document);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(document) = PolicyDocument::from_base64(text) {
            evaluate(&document);
        }
    }
});
