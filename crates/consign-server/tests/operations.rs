//! Health, readiness, metrics, the OpenAPI document, CORS for the
//! configured origin only, no secrets in answers (`tests/peers/operations.py`).

mod common;

use common::{API_KEY, Db, TestServer, python_peers_available, run_script};

const ORIGIN: &str = "https://app.example.com";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_metrics_openapi_and_cors() {
    if !python_peers_available() {
        return;
    }
    let Some(server) =
        TestServer::start_with("operations", Db::Sqlite, None, |config| config.cors_origins = vec![ORIGIN.to_owned()])
            .await
    else {
        return;
    };
    let output = run_script("operations.py", vec![server.api.clone(), API_KEY.to_owned(), ORIGIN.to_owned()]).await;
    assert!(output.contains("operations ok"), "{output}");
    server.stop().await;
}
