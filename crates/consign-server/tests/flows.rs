//! Every upload method end to end over real TCP: a grant from the API, the
//! bytes sent by Python's `requests` exactly as granted (as a browser
//! would), completion, verification, and the bytes read back; plus the Uppy
//! routes and tokens. On SQLite and on PostgreSQL, against the embedded
//! store (`garage.rs` runs the same script against Garage).

mod common;

use common::{API_KEY, Db, TestServer, python_peers_available, run_script};

async fn flows(db: Db, label: &str) {
    if !python_peers_available() {
        return;
    }
    let Some(server) = TestServer::start(label, db, None).await else { return };
    let output = run_script("flows.py", vec![server.api.clone(), API_KEY.to_owned()]).await;
    assert!(output.contains("\"uppy_multipart\""), "{output}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_method_on_sqlite() {
    flows(Db::Sqlite, "flows-sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_method_on_postgres() {
    flows(Db::Postgres, "flows-postgres").await;
}
