//! The storage target's copy in parts (UploadPartCopy), which objects over
//! 5 GiB need, exercised with small limits against the embedded store and
//! against Garage: the copy is made of three parts and has the same bytes.

mod common;

use bytes::Bytes;
use common::garage::Garage;
use consign_server::config::{DEV_STORE_ACCESS_KEY, DEV_STORE_SECRET_KEY};
use consign_server::storage::{CopyLimits, StorageTarget};
use consign_sigv4::Credentials;
use consign_testkit::pattern;

const SMALL: CopyLimits = CopyLimits { single_max: 5 << 20, part_size: 5 << 20 };

async fn copies_in_parts(target: StorageTarget) {
    let size = 12 * 1024 * 1024 + 321;
    let data = pattern(3, 0, size);
    let id =
        target.create_multipart("copy/source.bin", &[("content-type", "image/png"), ("x-amz-meta-alt", "a cat")]).await;
    // The source goes in by multipart too, so the test needs no other client.
    let upload_id = id.expect("create");
    let (url, _) = consign_server::uploads::grant::part_url(
        &target,
        "copy/source.bin",
        &upload_id,
        1,
        std::time::Duration::from_secs(60),
        std::time::SystemTime::now(),
    )
    .expect("sign");
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<Bytes>>();
    let request = hyper::Request::put(url).body(http_body_util::Full::new(data.clone())).expect("request");
    let response = client.request(request).await.expect("part");
    assert_eq!(response.status(), 200);
    let etag = response.headers()["etag"].to_str().expect("etag").to_owned();
    target.complete_multipart("copy/source.bin", &upload_id, &[(1, etag)]).await.expect("complete");

    let headers = [("content-type", "image/png"), ("x-amz-meta-alt", "a cat")];
    target.copy_object("copy/source.bin", "copy/target.bin", size as u64, &headers).await.expect("copy in parts");
    let info = target.head_object("copy/target.bin").await.expect("head").expect("exists");
    assert_eq!(info.size, size as u64);
    assert!(info.etag.ends_with("-3\""), "three copied parts: {}", info.etag);
    let mut body = target.read_stream("copy/target.bin").await.expect("read");
    let mut copied = Vec::new();
    while let Some(frame) = http_body_util::BodyExt::frame(&mut body).await {
        if let Some(chunk) = frame.expect("frame").data_ref() {
            copied.extend_from_slice(chunk);
        }
    }
    assert!(copied == data, "the copy has the source's bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_in_parts_on_the_embedded_store() {
    let Some(server) = common::TestServer::start("copy-embedded", common::Db::Sqlite, None).await else { return };
    let endpoint = format!("http://{}", server.running.store_address.expect("store"));
    let credentials = Credentials::new(DEV_STORE_ACCESS_KEY, DEV_STORE_SECRET_KEY);
    let target = StorageTarget::new(&endpoint, None, None, "us-east-1", "uploads", credentials).expect("target");
    copies_in_parts(target.with_copy_limits(SMALL)).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_in_parts_on_garage() {
    let Some(garage) = Garage::start() else { return };
    let credentials = Credentials::new(common::garage::KEY_ID, common::garage::SECRET);
    let target =
        StorageTarget::new(&garage.endpoint, None, None, common::garage::REGION, common::garage::BUCKET, credentials)
            .expect("target");
    copies_in_parts(target.with_copy_limits(SMALL)).await;
}
