//! The bad-input catalogue (`tests/peers/bad_inputs.py` lists every case
//! it tries, about 70): each answered with a 4xx JSON error saying what to
//! fix, never a 5xx, and nothing lost or left behind in storage.

mod common;

use common::{API_KEY, Db, TestServer, python_peers_available, run_script};
use consign_server::config::{DEV_STORE_ACCESS_KEY, DEV_STORE_SECRET_KEY};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_gets_a_clear_4xx_and_nothing_is_left_behind() {
    if !python_peers_available() {
        return;
    }
    let Some(server) = TestServer::start("bad-inputs", Db::Sqlite, None).await else { return };
    let store = format!("http://{}", server.running.store_address.expect("the embedded store runs"));
    let args = [server.api.as_str(), API_KEY, &store, DEV_STORE_ACCESS_KEY, DEV_STORE_SECRET_KEY, "test-token-secret"];
    let output = run_script("bad_inputs.py", args.iter().map(|a| (*a).to_owned()).collect()).await;
    eprintln!("{output}");
    assert!(output.contains("nothing left behind"), "{output}");
    server.stop().await;
}
