//! A single-node Garage (an independently written S3 store) on loopback
//! ports, with fixed test credentials and a bucket, for the tests that
//! check our grants with code we did not write.

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use consign_server::config::{Secret, StorageConfig};
use consign_testkit::peers::{TempDir, available};

/// Garage key ids are `GK` and 24 hex digits; secrets 64 hex digits.
pub const KEY_ID: &str = "GK0123456789abcdef01234567";
/// The secret of [`KEY_ID`].
pub const SECRET: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
/// The region Garage is configured with.
pub const REGION: &str = "us-east-1";
/// The bucket.
pub const BUCKET: &str = "uploads";

const HINT: &str = "install Garage with `cargo install garage --locked` (about 20 minutes; `.ci/run` does it once \
                    and reuses ~/.cargo/bin/garage), or set $GARAGE to its path";

/// A running Garage; killed on drop.
pub struct Garage {
    child: Child,
    binary: PathBuf,
    config: PathBuf,
    /// `http://127.0.0.1:port` of its S3 API.
    pub endpoint: String,
    _dir: TempDir,
}

fn binary() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("GARAGE") {
        return Some(PathBuf::from(path));
    }
    let home = std::env::var("HOME").ok()?;
    let cargo_bin = PathBuf::from(home).join(".cargo/bin/garage");
    if cargo_bin.exists() {
        return Some(cargo_bin);
    }
    Command::new("garage")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| PathBuf::from("garage"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

impl Garage {
    /// Starts Garage, lays out the single node, imports the key and creates
    /// the bucket; `None` (skipped) when Garage is not installed.
    pub fn start() -> Option<Self> {
        let missing = binary().is_none().then(|| "no garage binary".to_owned());
        if !available("the Garage tests", missing, HINT) {
            return None;
        }
        let binary = binary()?;
        let dir = TempDir::new("garage");
        let (s3, rpc) = (free_port(), free_port());
        let config = dir.0.join("garage.toml");
        let mut file = std::fs::File::create(&config).expect("write garage.toml");
        writeln!(
            file,
            "metadata_dir = \"{0}/meta\"\ndata_dir = \"{0}/data\"\ndb_engine = \"sqlite\"\nreplication_factor = 1\n\
             rpc_bind_addr = \"127.0.0.1:{rpc}\"\nrpc_public_addr = \"127.0.0.1:{rpc}\"\n\
             rpc_secret = \"{SECRET}\"\n[s3_api]\ns3_region = \"{REGION}\"\napi_bind_addr = \"127.0.0.1:{s3}\"\n\
             root_domain = \".s3.garage.localhost\"",
            dir.0.display()
        )
        .expect("write garage.toml");
        let log = std::fs::File::create(dir.0.join("garage.log")).expect("garage log");
        let child = Command::new(&binary)
            .arg("-c")
            .arg(&config)
            .arg("server")
            .env("RUST_LOG", "garage=warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("garage starts");
        let garage = Self { child, binary, config, endpoint: format!("http://127.0.0.1:{s3}"), _dir: dir };
        garage.set_up();
        Some(garage)
    }

    fn cli(&self, args: &[&str]) -> Result<String, String> {
        let output = Command::new(&self.binary)
            .arg("-c")
            .arg(&self.config)
            .args(args)
            .output()
            .map_err(|e| format!("garage {args:?}: {e}"))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(format!("garage {args:?}: {}", String::from_utf8_lossy(&output.stderr)))
        }
    }

    /// Runs the CLI until it succeeds: right after start the daemon may not
    /// answer RPC yet (`node id` reads a local file and answers earlier).
    fn cli_until_ok(&self, args: &[&str]) -> String {
        let started = Instant::now();
        loop {
            match self.cli(args) {
                Ok(out) => return out,
                Err(e) if started.elapsed() > Duration::from_secs(30) => panic!("garage did not get ready: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    fn set_up(&self) {
        let id = self.cli_until_ok(&["node", "id", "-q"]);
        let node = id.trim().split('@').next().unwrap_or_default().to_owned();
        self.cli_until_ok(&["status"]);
        self.cli_until_ok(&["layout", "assign", "-z", "dc1", "-c", "1G", &node]);
        self.cli_until_ok(&["layout", "apply", "--version", "1"]);
        self.cli_until_ok(&["key", "import", "--yes", "-n", "consign-test", KEY_ID, SECRET]);
        self.cli_until_ok(&["bucket", "create", BUCKET]);
        self.cli_until_ok(&["bucket", "allow", "--read", "--write", "--owner", BUCKET, "--key", KEY_ID]);
    }

    /// Consign's storage configuration for this Garage.
    pub fn storage_config(&self) -> StorageConfig {
        StorageConfig {
            endpoint: self.endpoint.clone(),
            public_endpoint: None,
            region: REGION.to_owned(),
            bucket: BUCKET.to_owned(),
            addressing: Some("path".to_owned()),
            access_key_id: KEY_ID.to_owned(),
            secret_access_key: Secret::new(SECRET),
        }
    }

    /// Garage's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.config.with_file_name("garage.log")).unwrap_or_default()
    }
}

impl Drop for Garage {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
