//! Several servers on one PostgreSQL database and one store, as at scale:
//! the reaper cleans each expired upload exactly once (its multipart upload
//! aborted, its stray object deleted), and two servers completing the same
//! upload at once verify it once.

mod common;

use bytes::Bytes;
use common::{Db, TestServer};
use consign_server::auth::{Caller, CallerKind};
use consign_server::config::{DEV_STORE_ACCESS_KEY, DEV_STORE_SECRET_KEY, Secret, StorageConfig, UploadMethod};
use consign_server::db::UploadState;
use consign_server::uploads::create::CreateUpload;
use consign_testkit::{RequestBody, S3Client};

fn backend() -> Caller {
    Caller { subject: "backend:test".into(), kind: CallerKind::Backend { key_name: "test".into() } }
}

fn request(profile: &str, method: UploadMethod, size: u64) -> CreateUpload {
    CreateUpload {
        profile: profile.into(),
        filename: "data.bin".into(),
        content_type: "application/octet-stream".into(),
        size: Some(size),
        checksum: None,
        metadata: Default::default(),
        method: Some(method),
        subject: None,
        auto_complete: false,
    }
}

/// A second server on the first one's database and embedded store.
async fn second_server(first: &TestServer) -> Option<TestServer> {
    let store = first.running.store_address.expect("the embedded store runs");
    let storage = StorageConfig {
        endpoint: format!("http://{store}"),
        public_endpoint: None,
        region: "us-east-1".into(),
        bucket: "uploads".into(),
        addressing: Some("path".into()),
        access_key_id: DEV_STORE_ACCESS_KEY.into(),
        secret_access_key: Secret::new(DEV_STORE_SECRET_KEY),
    };
    let url = first.database_url();
    TestServer::start_with("shared-b", Db::Sqlite, Some(storage), move |config| config.database_url = Some(url)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_reapers_clean_each_expired_upload_once() {
    let Some(a) = TestServer::start("shared-a", Db::Postgres, None).await else { return };
    let Some(b) = second_server(&a).await else { return };
    let store = S3Client::dev(a.running.store_address.expect("store"));
    let app = &a.running.app;
    let mut ids = Vec::new();
    for i in 0..12u64 {
        let method = if i % 2 == 0 { UploadMethod::Multipart } else { UploadMethod::Put };
        let created = app.create_upload(&backend(), request("brief", method, 1000)).await.expect("granted");
        let record = created.record;
        match &record.multipart_upload_id {
            Some(upload_id) => {
                let query = format!("partNumber=1&uploadId={upload_id}");
                let path = S3Client::path("uploads", &record.staging_key);
                let part =
                    store.send("PUT", &path, &query, &[], RequestBody::Bytes(Bytes::from(vec![7u8; 1000]))).await;
                assert_eq!(part.expect("part").status, 200);
            }
            None => {
                let put = store.put("uploads", &record.staging_key, Bytes::from(vec![1u8; 1000])).await.expect("put");
                assert_eq!(put.status, 200);
            }
        }
        ids.push(record.id);
    }
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (reaped_a, reaped_b) = tokio::join!(
        consign_server::reaper::reap_once(&a.running.app),
        consign_server::reaper::reap_once(&b.running.app)
    );
    let (reaped_a, reaped_b) = (reaped_a.expect("reaper a"), reaped_b.expect("reaper b"));
    assert_eq!(reaped_a + reaped_b, ids.len(), "each upload reaped exactly once ({reaped_a} + {reaped_b})");
    for id in &ids {
        let record = app.db.get(id).await.expect("read").expect("exists");
        assert_eq!(record.state, UploadState::Expired, "{id}");
    }
    let listing =
        store.send("GET", "/uploads", "list-type=2", &[], RequestBody::Bytes(Bytes::new())).await.expect("list");
    assert!(!listing.text().contains("<Key>"), "objects left behind: {}", listing.text());
    let uploads = store.send("GET", "/uploads", "uploads=", &[], RequestBody::Bytes(Bytes::new())).await.expect("list");
    assert!(!uploads.text().contains("<UploadId>"), "multipart uploads left behind: {}", uploads.text());
    assert_eq!(consign_server::reaper::reap_once(&a.running.app).await.expect("again"), 0);
    b.stop().await;
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_completing_at_once_verify_once() {
    let Some(a) = TestServer::start("race-a", Db::Postgres, None).await else { return };
    let Some(b) = second_server(&a).await else { return };
    let store = S3Client::dev(a.running.store_address.expect("store"));
    for _ in 0..5 {
        let created = a.running.app.create_upload(&backend(), request("default", UploadMethod::Put, 4096)).await;
        let record = created.expect("granted").record;
        let put = store.put("uploads", &record.staging_key, Bytes::from(vec![9u8; 4096])).await.expect("put");
        assert_eq!(put.status, 200);
        let (first, second) = tokio::join!(
            a.running.app.complete_record(record.clone(), None),
            b.running.app.complete_record(record.clone(), None)
        );
        let outcomes = [&first, &second];
        assert!(outcomes.iter().any(|o| o.as_ref().is_ok_and(|r| r.state == UploadState::Uploaded)), "{outcomes:?}");
        for outcome in outcomes {
            match outcome {
                Ok(record) => assert_eq!(record.state, UploadState::Uploaded),
                Err(error) => assert_eq!(error.code, "being_verified", "{error}"),
            }
        }
        let stored = store.get("uploads", &record.final_key).await.expect("get");
        assert_eq!((stored.status, stored.body.len()), (200, 4096));
        assert_eq!(store.get("uploads", &record.staging_key).await.expect("get").status, 404);
    }
    b.stop().await;
    a.stop().await;
}
