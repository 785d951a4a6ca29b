//! The flows of `flows.rs` with Garage as the storage target: Garage
//! checks our presigned URLs, our POST policies and our multipart calls
//! with code we did not write.

mod common;

use common::garage::Garage;
use common::{API_KEY, Db, TestServer, python_peers_available, run_script};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_method_against_garage() {
    if !python_peers_available() {
        return;
    }
    let Some(garage) = Garage::start() else { return };
    let Some(server) = TestServer::start("flows-garage", Db::Sqlite, Some(garage.storage_config())).await else {
        return;
    };
    let api = server.api.clone();
    let result = tokio::spawn(async move { run_script("flows.py", vec![api, API_KEY.to_owned()]).await }).await;
    if let Err(panic) = result {
        panic!("{panic:?}\n--- garage log\n{}", garage.log());
    }
    server.stop().await;
}
