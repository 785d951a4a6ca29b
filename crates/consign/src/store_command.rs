//! `consign store`: the embedded store on its own listener.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use consign_store::{AccessKey, Store, StoreConfig};

/// Options of `consign store`.
#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    /// Where buckets and objects are kept.
    #[arg(long, env = "CONSIGN_STORE_DIR", default_value = "consign-data/store")]
    data_dir: PathBuf,
    /// Address to listen on.
    #[arg(long, env = "CONSIGN_STORE_LISTEN", default_value = "127.0.0.1:9000")]
    listen: SocketAddr,
    /// The region signatures must be scoped to.
    #[arg(long, env = "CONSIGN_REGION", default_value = "us-east-1")]
    region: String,
    /// Access key ID of the (single, all-powerful) development key.
    #[arg(long, env = "CONSIGN_STORE_ACCESS_KEY", default_value = "consign-dev")]
    access_key: String,
    /// Its secret. Change it for anything but local development.
    #[arg(
        long,
        env = "CONSIGN_STORE_SECRET_KEY",
        default_value = "consign-dev-secret-change-me",
        hide_default_value = true
    )]
    secret_key: String,
    /// Buckets to create at start if missing.
    #[arg(long = "bucket", default_value = "uploads")]
    buckets: Vec<String>,
    /// Requests per second allowed per client address (0: unlimited).
    #[arg(long, default_value_t = 0)]
    rate_limit: u32,
}

/// Runs the store until Ctrl-C or SIGTERM.
///
/// # Errors
/// A message saying what failed: the data directory, the address, a bucket name.
pub fn run(args: StoreArgs) -> Result<(), String> {
    let mut config = StoreConfig::new(&args.data_dir, &args.region)
        .with_access_key(AccessKey::admin(&args.access_key, &args.secret_key));
    config.limits.requests_per_second = args.rate_limit;
    let store =
        Store::open(config).map_err(|e| format!("cannot open the data directory {}: {e}", args.data_dir.display()))?;
    for bucket in &args.buckets {
        consign_store::s3::request::validate_bucket_name(bucket)
            .map_err(|e| format!("--bucket {bucket}: {}", e.message))?;
        store
            .storage()
            .create_bucket(bucket, consign_store::s3::now_ms())
            .map_err(|e| format!("cannot create the bucket {bucket}: {e}"))?;
    }
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
        let address = listener.local_addr().map_err(|e| e.to_string())?;
        println!("consign store listening on http://{address}");
        println!("  region {}, access key {}, data in {}", args.region, args.access_key, args.data_dir.display());
        println!("  buckets: {}", args.buckets.join(", "));
        consign_store::serve(Arc::new(store), listener, shutdown_signal()).await.map_err(|e| e.to_string())
    })
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down; waiting for requests in flight");
}
