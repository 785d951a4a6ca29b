//! The server's configuration: a TOML file, then environment variables,
//! then command-line flags (applied by the binary), each overriding the
//! one before.
//!
//! With no file at all the defaults run a complete development setup: the
//! embedded store, SQLite under `consign-data/`, development credentials
//! and two profiles (`default`: any type up to 5 GiB; `images`: images up
//! to 20 MiB).

mod key_template;
mod profile;
mod secret;
mod size;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use key_template::{KeyInputs, KeyTemplate, safe_filename};
pub use profile::{ChecksumPolicy, ContentTypePattern, Profile, ProfileFile, UploadMethod, is_token, multipart_limits};
pub use secret::Secret;
pub use size::ByteSize;

/// The development API key `consign serve` accepts when none is configured.
pub const DEV_API_KEY: &str = "consign-dev-api-key";
/// The development token-signing secret used when none is configured.
pub const DEV_TOKEN_SECRET: &str = "consign-dev-token-secret-change-me";
/// The embedded store's development access key.
pub const DEV_STORE_ACCESS_KEY: &str = "consign-dev";
/// Its secret.
pub const DEV_STORE_SECRET_KEY: &str = "consign-dev-secret-change-me";

/// Everything `consign serve` is configured with.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Where the API listens.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The URL browsers reach the API at (default: `http://<listen>`).
    #[serde(default)]
    pub public_url: Option<String>,
    /// Where local state (SQLite, the embedded store) lives.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// `sqlite://path` or `postgres://…` (default: SQLite in `data_dir`).
    #[serde(default)]
    pub database_url: Option<String>,
    /// Keys the application's backend calls the API with.
    #[serde(default)]
    pub api_keys: Vec<ApiKeyConfig>,
    /// The HS256 secret upload tokens are signed with.
    #[serde(default)]
    pub token_secret: Option<Secret>,
    /// Origins allowed to call the API from a browser (`*` for any).
    #[serde(default = "default_cors_origins")]
    pub cors_origins: Vec<String>,
    /// Pending uploads one subject may have at once.
    #[serde(default = "default_max_pending")]
    pub max_pending_per_subject: u64,
    /// The profile the Uppy routes (`/s3/…`) use when the caller's token
    /// names several.
    #[serde(default = "default_uppy_profile")]
    pub uppy_profile: String,
    /// An external S3-compatible storage target; without it, the embedded
    /// store runs.
    #[serde(default)]
    pub storage: Option<StorageConfig>,
    /// The embedded store, used when `storage` is absent.
    #[serde(default)]
    pub embedded_store: EmbeddedStoreConfig,
    /// Upload profiles by name.
    #[serde(default)]
    pub profiles: BTreeMap<String, ProfileFile>,
}

/// One API key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyConfig {
    /// A name for logs and records (`backend`, `ci`).
    pub name: String,
    /// The key itself.
    pub key: Secret,
}

/// An S3-compatible storage target.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// `https://s3.eu-west-1.amazonaws.com`, `http://127.0.0.1:3900`, …
    pub endpoint: String,
    /// The URL browsers send bytes to, when it differs from `endpoint`.
    #[serde(default)]
    pub public_endpoint: Option<String>,
    /// The region signatures are scoped to.
    pub region: String,
    /// The bucket uploads go to.
    pub bucket: String,
    /// `path` or `virtual` (default: virtual for AWS hosts, path otherwise).
    #[serde(default)]
    pub addressing: Option<String>,
    /// Access key ID.
    pub access_key_id: String,
    /// Its secret.
    pub secret_access_key: Secret,
}

/// The embedded store.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddedStoreConfig {
    /// Where it listens.
    #[serde(default = "default_store_listen")]
    pub listen: SocketAddr,
    /// The URL browsers reach it at (default: `http://<listen>`).
    #[serde(default)]
    pub public_url: Option<String>,
    /// Its region.
    #[serde(default = "default_region")]
    pub region: String,
    /// The bucket uploads go to.
    #[serde(default = "default_bucket")]
    pub bucket: String,
    /// Its access key.
    #[serde(default = "default_store_access_key")]
    pub access_key_id: String,
    /// Its secret.
    #[serde(default = "default_store_secret")]
    pub secret_access_key: Secret,
}

impl Default for EmbeddedStoreConfig {
    fn default() -> Self {
        Self {
            listen: default_store_listen(),
            public_url: None,
            region: default_region(),
            bucket: default_bucket(),
            access_key_id: default_store_access_key(),
            secret_access_key: default_store_secret(),
        }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn default_store_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9000))
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("consign-data")
}
fn default_cors_origins() -> Vec<String> {
    vec!["*".to_owned()]
}
fn default_max_pending() -> u64 {
    100
}
fn default_uppy_profile() -> String {
    "default".to_owned()
}
fn default_region() -> String {
    "us-east-1".to_owned()
}
fn default_bucket() -> String {
    "uploads".to_owned()
}
fn default_store_access_key() -> String {
    DEV_STORE_ACCESS_KEY.to_owned()
}
fn default_store_secret() -> Secret {
    Secret::new(DEV_STORE_SECRET_KEY)
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            public_url: None,
            data_dir: default_data_dir(),
            database_url: None,
            api_keys: Vec::new(),
            token_secret: None,
            cors_origins: default_cors_origins(),
            max_pending_per_subject: default_max_pending(),
            uppy_profile: default_uppy_profile(),
            storage: None,
            embedded_store: EmbeddedStoreConfig::default(),
            profiles: BTreeMap::new(),
        }
    }
}

impl ServerConfig {
    /// Reads a TOML file.
    ///
    /// # Errors
    /// The path and what is wrong in it (line, field).
    pub fn from_file(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Reads TOML text.
    ///
    /// # Errors
    /// What is wrong, with its place.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Applies the environment: `AWS_ENDPOINT_URL_S3` (or
    /// `AWS_ENDPOINT_URL`) with `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_REGION` and `CONSIGN_BUCKET` select an external store;
    /// `CONSIGN_DATABASE_URL`, `CONSIGN_API_KEY`, `CONSIGN_TOKEN_SECRET` and
    /// `CONSIGN_PUBLIC_URL` set what they name.
    ///
    /// # Errors
    /// When an external endpoint is given without the credentials or bucket it needs.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), String> {
        if let Some(url) = var("CONSIGN_DATABASE_URL") {
            self.database_url = Some(url);
        }
        if let Some(key) = var("CONSIGN_API_KEY") {
            self.api_keys = vec![ApiKeyConfig { name: "env".into(), key: Secret::new(key) }];
        }
        if let Some(secret) = var("CONSIGN_TOKEN_SECRET") {
            self.token_secret = Some(Secret::new(secret));
        }
        if let Some(url) = var("CONSIGN_PUBLIC_URL") {
            self.public_url = Some(url);
        }
        let endpoint = var("AWS_ENDPOINT_URL_S3").or_else(|| var("AWS_ENDPOINT_URL"));
        let region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION"));
        match (&mut self.storage, endpoint) {
            (Some(storage), endpoint) => {
                if let Some(endpoint) = endpoint {
                    storage.endpoint = endpoint;
                }
                if let Some(region) = region {
                    storage.region = region;
                }
                if let Some(id) = var("AWS_ACCESS_KEY_ID") {
                    storage.access_key_id = id;
                }
                if let Some(secret) = var("AWS_SECRET_ACCESS_KEY") {
                    storage.secret_access_key = Secret::new(secret);
                }
                if let Some(bucket) = var("CONSIGN_BUCKET") {
                    storage.bucket = bucket;
                }
            }
            (None, Some(endpoint)) => {
                let need = |name: &str| {
                    var(name).ok_or_else(|| format!("AWS_ENDPOINT_URL_S3 is set, so {name} must be set too"))
                };
                self.storage = Some(StorageConfig {
                    endpoint,
                    public_endpoint: None,
                    region: region.unwrap_or_else(default_region),
                    bucket: need("CONSIGN_BUCKET")?,
                    addressing: None,
                    access_key_id: need("AWS_ACCESS_KEY_ID")?,
                    secret_access_key: Secret::new(need("AWS_SECRET_ACCESS_KEY")?),
                });
            }
            (None, None) => {}
        }
        Ok(())
    }

    /// The database URL: as configured, or SQLite in the data directory.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", self.data_dir.join("consign.db").display()))
    }

    /// The URL browsers reach the API at.
    pub fn public_url(&self) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{}", self.listen)).trim_end_matches('/').to_owned()
    }

    /// The profiles, checked; the two development profiles when none is configured.
    ///
    /// # Errors
    /// The first profile that is wrong, and why.
    pub fn build_profiles(&self) -> Result<BTreeMap<String, Profile>, String> {
        let mut files = self.profiles.clone();
        if files.is_empty() {
            files.insert("default".into(), ProfileFile::new(&["*/*"], 5 << 30));
            files.insert("images".into(), ProfileFile::new(&["image/*"], 20 << 20));
        }
        let profiles: BTreeMap<String, Profile> =
            files.into_iter().map(|(name, file)| file.build(&name).map(|p| (name, p))).collect::<Result<_, _>>()?;
        if !profiles.contains_key(&self.uppy_profile) {
            return Err(format!("uppy_profile {:?} is not a configured profile", self.uppy_profile));
        }
        Ok(profiles)
    }

    /// The API keys, or the development key when none is configured.
    pub fn api_keys_or_dev(&self) -> Vec<ApiKeyConfig> {
        if self.api_keys.is_empty() {
            vec![ApiKeyConfig { name: "dev".into(), key: Secret::new(DEV_API_KEY) }]
        } else {
            self.api_keys.clone()
        }
    }

    /// The token secret, or the development secret.
    pub fn token_secret_or_dev(&self) -> Secret {
        self.token_secret.clone().unwrap_or_else(|| Secret::new(DEV_TOKEN_SECRET))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_file_reads_and_builds() {
        let config = ServerConfig::from_toml(
            r#"
            listen = "127.0.0.1:8081"
            database_url = "postgres://127.0.0.1/test"
            token_secret = "s3cret"
            [[api_keys]]
            name = "backend"
            key = "k"
            [storage]
            endpoint = "http://127.0.0.1:3900"
            region = "garage"
            bucket = "uploads"
            access_key_id = "GK1"
            secret_access_key = "abc"
            [profiles.default]
            content_types = ["*/*"]
            max_size = "1 GiB"
            [profiles.avatars]
            content_types = ["image/png", "image/jpeg"]
            max_size = "2 MiB"
            methods = ["put"]
            checksum = "required"
            metadata = ["alt"]
            "#,
        )
        .unwrap();
        let profiles = config.build_profiles().unwrap();
        assert_eq!(profiles["avatars"].max_size, 2 << 20);
        assert_eq!(profiles["avatars"].methods, [UploadMethod::Put]);
        assert!(!format!("{config:?}").contains("s3cret"));
        assert!(!format!("{config:?}").contains("\"abc\""));
    }

    #[test]
    fn unknown_fields_are_named() {
        let error = ServerConfig::from_toml("listne = \"x\"").unwrap_err();
        assert!(error.contains("listne"), "{error}");
    }

    #[test]
    fn the_environment_selects_an_external_store() {
        let env = |name: &str| match name {
            "AWS_ENDPOINT_URL_S3" => Some("http://127.0.0.1:3900".to_owned()),
            "AWS_ACCESS_KEY_ID" => Some("GK1".to_owned()),
            "AWS_SECRET_ACCESS_KEY" => Some("secret".to_owned()),
            "AWS_REGION" => Some("garage".to_owned()),
            "CONSIGN_BUCKET" => Some("b".to_owned()),
            _ => None,
        };
        let mut config = ServerConfig::default();
        config.apply_env(env).unwrap();
        let storage = config.storage.unwrap();
        assert_eq!((storage.region.as_str(), storage.bucket.as_str()), ("garage", "b"));
        let mut config = ServerConfig::default();
        let error = config.apply_env(|n| (n == "AWS_ENDPOINT_URL_S3").then(|| "http://x".to_owned())).unwrap_err();
        assert!(error.contains("CONSIGN_BUCKET"), "{error}");
    }
}

#[cfg(test)]
mod documentation {
    use super::*;

    /// The example in `docs/configuration.md` reads and builds.
    #[test]
    fn the_documented_example_is_valid() {
        let doc = include_str!("../../../../docs/configuration.md");
        let start = doc.find("```toml\n").expect("a toml block") + "```toml\n".len();
        let end = start + doc[start..].find("```").expect("its end");
        let config = ServerConfig::from_toml(&doc[start..end]).expect("the example reads");
        let profiles = config.build_profiles().expect("its profiles build");
        assert_eq!(profiles["images"].max_size, 10 << 20);
        assert_eq!(config.storage.expect("storage").bucket, "my-uploads");
    }
}
