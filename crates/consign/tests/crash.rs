//! The store's durability promises, tested on the real binary:
//! - `kill -9` during uploads (single PUTs and multipart), then a restart:
//!   every acknowledged object is intact, nothing partial is visible, and
//!   the leftovers are cleaned up;
//! - concurrent writers to one key: one complete winner.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use consign_testkit::{RequestBody, S3Client, StoreProcess, pattern};

const BUCKET: &str = "uploads";
const MIB: u64 = 1024 * 1024;

fn temp_dir(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("consign-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

/// What one upload attempt wrote: its content is `pattern(seed, 0, size)`.
#[derive(Debug, Clone, Copy)]
struct Attempt {
    seed: u64,
    size: u64,
}

type Ledger = Arc<Mutex<HashMap<String, (Attempt, bool)>>>;

fn record(ledger: &Ledger, key: &str, attempt: Attempt) {
    ledger.lock().expect("ledger").insert(key.to_owned(), (attempt, false));
}

fn acknowledge(ledger: &Ledger, key: &str) {
    if let Some(entry) = ledger.lock().expect("ledger").get_mut(key) {
        entry.1 = true;
    }
}

/// A PUT streamed in 64 KiB pieces with a pause between them, so a kill
/// lands in the middle.
async fn slow_put(client: S3Client, ledger: Ledger, key: String, attempt: Attempt) {
    record(&ledger, &key, attempt);
    let body = RequestBody::generated(attempt.size, 64 * 1024, Duration::from_millis(2), move |offset, len| {
        pattern(attempt.seed, offset, len)
    });
    if let Ok(response) = client.send("PUT", &S3Client::path(BUCKET, &key), "", &[], body).await {
        if response.status == 200 {
            acknowledge(&ledger, &key);
        }
    }
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)? + start;
    Some(&text[start..end])
}

/// A multipart upload of two 5 MiB parts and a small last part, sent slowly.
async fn slow_multipart(client: S3Client, ledger: Ledger, key: String, attempt: Attempt) {
    record(&ledger, &key, attempt);
    let path = S3Client::path(BUCKET, &key);
    let Ok(created) = client.send("POST", &path, "uploads=", &[], RequestBody::Bytes(Bytes::new())).await else {
        return;
    };
    let Some(upload_id) = between(&created.text(), "<UploadId>", "</UploadId>").map(str::to_owned) else { return };
    let sizes = [5 * MIB, 5 * MIB, attempt.size - 10 * MIB];
    let mut offset = 0;
    let mut completion = String::from("<CompleteMultipartUpload>");
    for (i, size) in sizes.into_iter().enumerate() {
        let number = i + 1;
        let start = offset;
        let body = RequestBody::generated(size, 256 * 1024, Duration::from_millis(3), move |o, len| {
            pattern(attempt.seed, start + o, len)
        });
        let query = format!("partNumber={number}&uploadId={upload_id}");
        let Ok(part) = client.send("PUT", &path, &query, &[], body).await else { return };
        let Some(etag) = part.header("etag").map(str::to_owned) else { return };
        completion.push_str(&format!("<Part><PartNumber>{number}</PartNumber><ETag>{etag}</ETag></Part>"));
        offset += size;
    }
    completion.push_str("</CompleteMultipartUpload>");
    let query = format!("uploadId={upload_id}");
    if let Ok(done) = client.send("POST", &path, &query, &[], RequestBody::Bytes(Bytes::from(completion))).await {
        if done.status == 200 && done.text().contains("<ETag>") {
            acknowledge(&ledger, &key);
        }
    }
}

/// Every key the bucket lists, following continuation tokens.
async fn list_keys(client: &S3Client) -> Vec<String> {
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let query = match &token {
            Some(t) => format!(
                "continuation-token={}&list-type=2",
                consign_sigv4::encoding::uri_encode(t, consign_sigv4::encoding::Slash::Encode)
            ),
            None => "list-type=2".to_owned(),
        };
        let listing = client
            .send("GET", &S3Client::path(BUCKET, ""), &query, &[], RequestBody::Bytes(Bytes::new()))
            .await
            .expect("list");
        assert_eq!(listing.status, 200, "{}", listing.text());
        let text = listing.text();
        let mut rest = text.as_str();
        while let Some(key) = between(rest, "<Key>", "</Key>") {
            keys.push(key.replace("&amp;", "&"));
            rest = &rest[rest.find("</Key>").unwrap_or(0) + 6..];
        }
        token = between(&text, "<NextContinuationToken>", "</NextContinuationToken>").map(str::to_owned);
        if token.is_none() {
            return keys;
        }
    }
}

#[test]
fn acknowledged_uploads_survive_kill_9_and_nothing_partial_is_ever_visible() {
    let dir = temp_dir("crash");
    let mut store = StoreProcess::start(env!("CARGO_BIN_EXE_consign").as_ref(), &dir).expect("the store starts");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let ledger: Ledger = Arc::default();
    let mut acknowledged_total = 0;
    for round in 0..3u64 {
        let client = S3Client::dev(store.address);
        runtime.block_on(async {
            let mut tasks = Vec::new();
            for i in 0..10u64 {
                let seed = round * 1000 + i;
                // Small ones finish before the kill; large ones are cut off.
                let size = if i < 4 { 100 * 1024 + i } else { 2 * MIB + i * 700 * 1024 };
                let key = format!("round-{round}/single-{i}");
                tasks.push(tokio::spawn(slow_put(client.clone(), ledger.clone(), key, Attempt { seed, size })));
            }
            for i in 0..2u64 {
                let seed = round * 1000 + 500 + i;
                let key = format!("round-{round}/multipart-{i}");
                tasks.push(tokio::spawn(slow_multipart(
                    client.clone(),
                    ledger.clone(),
                    key,
                    Attempt { seed, size: 10 * MIB + 1234 },
                )));
            }
            tokio::time::sleep(Duration::from_millis(250 + round * 350)).await;
            store.kill().expect("kill -9");
            for task in tasks {
                let _ = task.await;
            }
        });
        store.restart().expect("the store restarts");

        // The temporary files of cut-off uploads are gone.
        let leftovers: Vec<_> = std::fs::read_dir(dir.join("tmp")).expect("tmp").collect();
        assert!(leftovers.is_empty(), "round {round}: temporary files survived a restart: {leftovers:?}");

        let client = S3Client::dev(store.address);
        runtime.block_on(async {
            let ledger = ledger.lock().expect("ledger").clone();
            let listed = list_keys(&client).await;
            for (key, (_, acknowledged)) in &ledger {
                if *acknowledged {
                    assert!(listed.contains(key), "round {round}: acknowledged {key} is not listed");
                }
            }
            // Every visible object, acknowledged or cut off just after its
            // rename, is complete and exactly what was sent.
            for key in &listed {
                let (attempt, _) = ledger.get(key).unwrap_or_else(|| panic!("{key} was never written"));
                let object = client.get(BUCKET, key).await.expect("get");
                assert_eq!(object.status, 200, "{key}: {}", object.text());
                assert_eq!(object.body.len() as u64, attempt.size, "{key} is partial");
                assert!(object.body == pattern(attempt.seed, 0, object.body.len()), "{key} holds other bytes");
            }
        });
        acknowledged_total = ledger.lock().expect("ledger").values().filter(|(_, a)| *a).count();
    }
    // The test only proves something if some uploads finished and some were cut.
    let attempts = ledger.lock().expect("ledger").len();
    assert!(acknowledged_total > 0 && acknowledged_total < attempts, "{acknowledged_total} of {attempts} acknowledged");
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn concurrent_writers_to_one_key_leave_one_complete_winner() {
    let dir = temp_dir("race");
    let store = StoreProcess::start(env!("CARGO_BIN_EXE_consign").as_ref(), &dir).expect("the store starts");
    let client = S3Client::dev(store.address);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let sizes: Vec<u64> = (0..16).map(|i| 300 * 1024 + i * 4099).collect();
        let mut tasks = Vec::new();
        for (seed, size) in sizes.iter().copied().enumerate() {
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                let data = pattern(seed as u64, 0, usize::try_from(size).unwrap_or(0));
                client.put(BUCKET, "contended", data).await.map(|r| r.status)
            }));
        }
        for task in tasks {
            assert_eq!(task.await.expect("task").expect("put"), 200);
        }
        let object = client.get(BUCKET, "contended").await.expect("get");
        let winner = sizes.iter().enumerate().find(|(seed, size)| {
            **size == object.body.len() as u64 && object.body == pattern(*seed as u64, 0, object.body.len())
        });
        assert!(winner.is_some(), "the object is not exactly one writer's bytes ({} bytes)", object.body.len());
        assert_eq!(list_keys(&client).await, ["contended"]);
    });
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
