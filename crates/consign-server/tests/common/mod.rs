//! Starting `consign serve` in-process on loopback ports for a test, with
//! SQLite or a fresh PostgreSQL schema, and the embedded store or Garage.
#![allow(dead_code)]

pub mod garage;

use std::path::PathBuf;
use std::process::Command;

use consign_server::config::{ServerConfig, StorageConfig};
use consign_server::{Running, start};
use consign_testkit::peers::{TempDir, available, python, python_lacks};
use sqlx::Executor;

/// The API key the test servers accept.
pub const API_KEY: &str = "test-api-key";

/// Profiles every test server has.
pub const PROFILES: &str = r#"
[profiles.default]
content_types = ["*/*"]
max_size = "1 GiB"
metadata = ["alt"]
part_size = "5 MiB"
[profiles.images]
content_types = ["image/*"]
max_size = "10 MiB"
metadata = ["alt"]
[profiles.avatars]
content_types = ["image/png"]
max_size = "1 MiB"
methods = ["put"]
checksum = "required"
[profiles.forms]
content_types = ["image/*"]
max_size = "10 MiB"
methods = ["post"]
[profiles.brief]
content_types = ["*/*"]
max_size = "1 MiB"
grant_ttl_seconds = 1
pending_ttl_seconds = 1
"#;

/// Which database a test server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    /// SQLite in the test's directory.
    Sqlite,
    /// A fresh schema in the PostgreSQL at `$CONSIGN_TEST_POSTGRES`
    /// (default `postgres://postgres@127.0.0.1:5432/test`).
    Postgres,
}

/// A running test server and what it needs to be cleaned up.
pub struct TestServer {
    /// The service.
    pub running: Running,
    /// `http://127.0.0.1:port`.
    pub api: String,
    /// Its data directory.
    pub dir: TempDir,
    schema: Option<(String, String)>,
}

fn postgres_base() -> String {
    std::env::var("CONSIGN_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

const POSTGRES_HINT: &str = "start PostgreSQL on 127.0.0.1:5432 with trust auth and a database `test` (`.ci/run` \
                             installs it from Debian's packages), or set CONSIGN_TEST_POSTGRES";

/// A fresh schema for one test; `None` (skipped) when PostgreSQL is not there.
async fn postgres_schema(label: &str) -> Option<(String, String)> {
    sqlx::any::install_default_drivers();
    let base = postgres_base();
    let pool = match sqlx::AnyPool::connect(&base).await {
        Ok(pool) => pool,
        Err(e) => {
            available("PostgreSQL tests", Some(format!("cannot connect to {base}: {e}")), POSTGRES_HINT);
            return None;
        }
    };
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let schema = format!("consign_{}_{nanos}", label.replace('-', "_"));
    pool.execute(format!("CREATE SCHEMA {schema}").as_str()).await.expect("create a schema");
    let separator = if base.contains('?') { '&' } else { '?' };
    Some((schema.clone(), format!("{base}{separator}options=-c%20search_path%3D{schema}")))
}

impl TestServer {
    /// Starts a server with the test profiles, `db`, and `storage` (the
    /// embedded store when `None`); `None` when a component is missing
    /// outside CI.
    pub async fn start(label: &str, db: Db, storage: Option<StorageConfig>) -> Option<Self> {
        Self::start_with(label, db, storage, |_| {}).await
    }

    /// As [`Self::start`], changing the configuration with `adjust` first.
    pub async fn start_with(
        label: &str,
        db: Db,
        storage: Option<StorageConfig>,
        adjust: impl FnOnce(&mut ServerConfig),
    ) -> Option<Self> {
        let dir = TempDir::new(label);
        let schema = match db {
            Db::Sqlite => None,
            Db::Postgres => Some(postgres_schema(label).await?),
        };
        let mut config = ServerConfig::from_toml(&format!(
            "listen = \"127.0.0.1:0\"\nuppy_profile = \"default\"\ntoken_secret = \"test-token-secret\"\n[[api_keys]]\nname = \"test\"\nkey = \"{API_KEY}\"\n\
             [embedded_store]\nlisten = \"127.0.0.1:0\"\n{PROFILES}"
        ))
        .expect("the test configuration reads");
        config.data_dir = dir.0.clone();
        config.storage = storage;
        config.database_url = schema.as_ref().map(|(_, url)| url.clone());
        adjust(&mut config);
        let running = start(config).await.expect("the server starts");
        let api = format!("http://{}", running.api_address);
        Some(Self { running, api, dir, schema })
    }

    /// The database URL it uses (`None`: SQLite in its directory).
    pub fn database_url(&self) -> String {
        match &self.schema {
            Some((_, url)) => url.clone(),
            None => format!("sqlite://{}?mode=rwc", self.dir.0.join("consign.db").display()),
        }
    }

    /// Stops the server and drops its PostgreSQL schema.
    pub async fn stop(self) {
        self.running.stop().await.expect("the server stops cleanly");
        if let Some((schema, _)) = &self.schema {
            if let Ok(pool) = sqlx::AnyPool::connect(&postgres_base()).await {
                let _ = pool.execute(format!("DROP SCHEMA {schema} CASCADE").as_str()).await;
            }
        }
    }
}

/// The directory of the Python peer scripts.
pub fn peers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers")
}

/// Whether `requests` is there to run the peer scripts.
pub fn python_peers_available() -> bool {
    available(
        "the Python peer scripts",
        python_lacks("requests, boto3"),
        "install them with `python3 -m pip install -r .ci/requirements.txt`",
    )
}

/// Runs `script` with `args` and returns its standard output; panics with
/// its output when it fails.
pub async fn run_script(script: &str, args: Vec<String>) -> String {
    let path = peers_dir().join(script);
    let output = tokio::task::spawn_blocking(move || Command::new(python()).arg(&path).args(&args).output())
        .await
        .expect("the script task")
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{script} failed:\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
    stdout
}
