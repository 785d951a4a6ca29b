//! Starting the service: the database, the storage target (the embedded
//! store on its own listener unless an external one is configured), the
//! API listener and the reaper, all stopped together.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use consign_sigv4::{Addressing, Credentials};
use consign_store::{AccessKey, Store, StoreConfig};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::App;
use crate::auth::Authenticator;
use crate::config::ServerConfig;
use crate::db::Database;
use crate::storage::StorageTarget;

/// How often the reaper looks for expired uploads.
const REAPER_INTERVAL: Duration = Duration::from_secs(30);
/// How often objects of uploads the server completes itself are looked for.
const AUTO_COMPLETE_INTERVAL: Duration = Duration::from_secs(2);

/// A running service.
#[derive(Debug)]
pub struct Running {
    /// Where the API listens.
    pub api_address: SocketAddr,
    /// Where the embedded store listens, when it runs.
    pub store_address: Option<SocketAddr>,
    /// The shared state (for tests and the reaper).
    pub app: Arc<App>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<Result<(), String>>>,
}

impl Running {
    /// Stops accepting, lets requests in flight finish, and waits.
    ///
    /// # Errors
    /// The first task that failed.
    pub async fn stop(self) -> Result<(), String> {
        let _ = self.stop.send(true);
        self.wait().await
    }

    /// Waits until every task ends (after a stop).
    ///
    /// # Errors
    /// The first task that failed.
    pub async fn wait(self) -> Result<(), String> {
        for task in self.tasks {
            task.await.map_err(|e| format!("a server task panicked: {e}"))??;
        }
        Ok(())
    }

    /// Stops everything (as [`Self::stop`] does) when `signal` resolves.
    pub fn stop_on(&self, signal: impl Future<Output = ()> + Send + 'static) {
        let stop = self.stop.clone();
        tokio::spawn(async move {
            signal.await;
            let _ = stop.send(true);
        });
    }
}

async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Starts everything `config` describes.
///
/// # Errors
/// A message saying what could not start: a profile, the database, a
/// listener, the data directory.
pub async fn start(config: ServerConfig) -> Result<Running, String> {
    let profiles = config.build_profiles()?;
    let (stop, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();

    let (storage, store_address) = match &config.storage {
        Some(external) => {
            let addressing = match external.addressing.as_deref() {
                None => None,
                Some("path") => Some(Addressing::Path),
                Some("virtual") => Some(Addressing::VirtualHosted),
                Some(other) => return Err(format!("storage.addressing {other:?} must be \"path\" or \"virtual\"")),
            };
            let credentials = Credentials::new(&external.access_key_id, external.secret_access_key.expose());
            let target = StorageTarget::new(
                &external.endpoint,
                external.public_endpoint.as_deref(),
                addressing,
                &external.region,
                &external.bucket,
                credentials,
            )?;
            (target, None)
        }
        None => {
            let embedded = &config.embedded_store;
            let data_dir = config.data_dir.join("store");
            let store_config = StoreConfig::new(&data_dir, &embedded.region)
                .with_access_key(AccessKey::admin(&embedded.access_key_id, embedded.secret_access_key.expose()));
            let store = Store::open(store_config).map_err(|e| format!("cannot open {}: {e}", data_dir.display()))?;
            consign_store::s3::request::validate_bucket_name(&embedded.bucket)
                .map_err(|e| format!("embedded_store.bucket {:?}: {}", embedded.bucket, e.message))?;
            store
                .storage()
                .create_bucket(&embedded.bucket, consign_store::s3::now_ms())
                .map_err(|e| format!("cannot create the bucket {}: {e}", embedded.bucket))?;
            let listener = TcpListener::bind(embedded.listen)
                .await
                .map_err(|e| format!("the embedded store cannot listen on {}: {e}", embedded.listen))?;
            let address = listener.local_addr().map_err(|e| e.to_string())?;
            let internal = format!("http://{address}");
            let public = embedded.public_url.clone();
            let credentials = Credentials::new(&embedded.access_key_id, embedded.secret_access_key.expose());
            let target = StorageTarget::new(
                &internal,
                public.as_deref(),
                None,
                &embedded.region,
                &embedded.bucket,
                credentials,
            )?;
            let shutdown = stopped(stop_rx.clone());
            tasks.push(tokio::spawn(async move {
                consign_store::serve(Arc::new(store), listener, shutdown)
                    .await
                    .map_err(|e| format!("embedded store: {e}"))
            }));
            (target, Some(address))
        }
    };

    let db = Database::connect(&config.database_url()).await?;
    let app = Arc::new(App {
        profiles,
        storage,
        db,
        auth: Authenticator::new(config.api_keys_or_dev(), config.token_secret_or_dev()),
        metrics: crate::metrics::Metrics::default(),
        max_pending_per_subject: config.max_pending_per_subject,
        uppy_profile: config.uppy_profile.clone(),
        cors_origins: config.cors_origins.clone(),
        dev_tokens: config.token_secret.is_none(),
    });

    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("the API cannot listen on {}: {e}", config.listen))?;
    let api_address = listener.local_addr().map_err(|e| e.to_string())?;
    let router = crate::api::router(Arc::clone(&app));
    let shutdown = stopped(stop_rx.clone());
    tasks.push(tokio::spawn(async move {
        axum::serve(listener, router).with_graceful_shutdown(shutdown).await.map_err(|e| format!("API server: {e}"))
    }));
    let completer_app = Arc::clone(&app);
    let shutdown = stopped(stop_rx.clone());
    tasks.push(tokio::spawn(async move {
        crate::auto_complete::run(completer_app, AUTO_COMPLETE_INTERVAL, shutdown).await;
        Ok(())
    }));
    let reaper_app = Arc::clone(&app);
    let shutdown = stopped(stop_rx);
    tasks.push(tokio::spawn(async move {
        crate::reaper::run(reaper_app, REAPER_INTERVAL, shutdown).await;
        Ok(())
    }));
    Ok(Running { api_address, store_address, app, stop, tasks })
}
