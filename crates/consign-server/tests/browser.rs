//! The pages `consign serve` shows, in Debian's Chromium driven by
//! playwright-core: `/` (`tests/browser/page.mjs`: PUT, POST form, 120 MiB
//! multipart with monotonic progress, a refused file with its reason, resume
//! after a reload, cancel) and `/uppy` (`tests/browser/uppy.mjs`: Uppy's own
//! code, single-request and multipart). Screenshots land in
//! `target/browser-artifacts/`.
//!
//! Needs Node.js, `npm ci` in `tests/browser` and `/usr/bin/chromium`
//! (`apt-get install chromium`); `.ci/run` installs them.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{API_KEY, Db, TestServer};
use consign_testkit::peers::available;
use consign_testkit::{RequestBody, S3Client};

fn missing() -> Option<String> {
    let browser_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    if Command::new("node").arg("--version").output().map(|o| !o.status.success()).unwrap_or(true) {
        return Some("node is not installed".into());
    }
    if !browser_dir.join("node_modules/playwright-core").exists() {
        return Some("playwright-core is not installed (run `npm ci` in crates/consign-server/tests/browser)".into());
    }
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !PathBuf::from(&chromium).exists() {
        return Some(format!("{chromium} does not exist (apt-get install chromium)"));
    }
    None
}

/// Runs `script` (in `tests/browser`) against a fresh server; its output.
async fn run_page_script(label: &str, script: &str, done: &str) {
    if !available(
        "the browser tests",
        missing(),
        "install Node.js, `apt-get install chromium` and run `npm ci` in tests/browser",
    ) {
        return;
    }
    // The development token secret, so the page gets a demo token as it does under `consign serve`.
    let Some(server) = TestServer::start_with(label, Db::Sqlite, None, |config| config.token_secret = None).await
    else {
        return;
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let artifacts = root.join("../../target/browser-artifacts");
    let script = root.join("tests/browser").join(script);
    let api = server.api.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node").arg(script).arg(api).arg(API_KEY).arg(artifacts).output()
    })
    .await
    .expect("the browser task")
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the browser script failed:\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
    eprintln!("{stdout}");
    assert!(stdout.contains(done), "{stdout}");
    nothing_left_in_staging(&server).await;
    server.stop().await;
}

/// Every upload ended verified, refused before a grant, or cancelled: the
/// store holds no multipart upload and nothing in the staging area.
async fn nothing_left_in_staging(server: &TestServer) {
    let store = S3Client::dev(server.running.store_address.expect("the embedded store runs"));
    let empty = || RequestBody::Bytes(bytes::Bytes::new());
    let uploads = store.send("GET", "/uploads", "uploads=", &[], empty()).await.expect("list multipart uploads");
    assert!(!uploads.text().contains("<UploadId>"), "multipart uploads left behind: {}", uploads.text());
    let staged = store.send("GET", "/uploads", "list-type=2&prefix=staging%2F", &[], empty()).await.expect("list");
    assert!(!staged.text().contains("<Key>"), "objects left in staging: {}", staged.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_uploads_in_a_real_browser() {
    run_page_script("browser-page", "page.mjs", "page ok").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uppy_uploads_through_the_s3_routes() {
    run_page_script("browser-uppy", "uppy.mjs", "uppy ok").await;
}
