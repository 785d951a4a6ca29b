//! Every published SigV4 vector in `tests/vectors/`, stage by stage.
//!
//! The trials are generated from the files: one per case and mode, named
//! `suite/case/mode`, each checking the canonical request, the string to
//! sign, the signature and the signed request in that order and naming the
//! first stage that differs; plus one `…/verify` trial per signed request,
//! which feeds the published (not our) signed request to our verifier.

#[path = "../common/mod.rs"]
mod common;
mod crt_suite;
mod legacy_suite;
mod request_file;
mod s3_examples;

use std::path::PathBuf;

use libtest_mimic::{Arguments, Failed, Trial};

/// `tests/vectors` at the workspace root, or `$CONSIGN_VECTORS_DIR`.
fn vectors_dir() -> PathBuf {
    std::env::var_os("CONSIGN_VECTORS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors"))
}

/// Compares one stage of one case; the error names both and shows the texts.
pub fn stage(stage: &str, expected: &str, actual: &str) -> Result<(), Failed> {
    if expected == actual {
        return Ok(());
    }
    Err(format!("stage {stage:?} differs\n--- expected ---\n{expected}\n--- actual ---\n{actual}\n----------------")
        .into())
}

fn main() {
    let args = Arguments::from_args();
    let dir = vectors_dir();
    let mut trials: Vec<Trial> = Vec::new();
    trials.extend(legacy_suite::trials(&dir.join("aws-sig-v4-test-suite")));
    trials.extend(crt_suite::trials(&dir.join("aws-signing-test-suite-v4")));
    trials.extend(s3_examples::trials(&dir.join("s3")));
    // 31 + 38 cases in two suites and 9 S3 examples: a missing folder must
    // fail loudly, not pass with nothing run.
    assert!(trials.len() >= 31 * 2 + 38 * 4 + 9, "only {} vector trials found under {}", trials.len(), dir.display());
    libtest_mimic::run(&args, trials).exit();
}
