//! Buckets and objects on the local file system.
//!
//! # Guarantees
//! - **Atomic put.** An object is written to a temporary file in the data
//!   directory, synced, then renamed over its final name, and the directory
//!   is synced. Readers see the old object or the new one, never a part.
//!   Data and metadata live in one file (see [`object_file`]), so they are
//!   published together.
//! - **Nothing partial survives.** A write that is abandoned (client gone,
//!   checksum wrong, too large) deletes its temporary file; a crash leaves
//!   temporary files that [`Storage::open`] deletes.
//! - **Concurrent writers to one key** each write their own temporary file;
//!   the last rename wins, and the winner is complete.
//! - **Any key is safe.** A key never becomes a path: objects are named by
//!   the SHA-256 of their key, so `../`, `//`, `%` or 1024 bytes of emoji
//!   cannot reach outside the data directory.

pub mod multipart;
pub mod object_file;
pub mod writer;

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use object_file::ObjectMeta;
pub use writer::PendingObject;

use crate::s3::cors::CorsConfiguration;

/// What a listing shows of an object, kept in memory per bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectSummary {
    /// Bytes.
    pub size: u64,
    /// The ETag without quotes.
    pub etag: String,
    /// Milliseconds since the Unix epoch.
    pub last_modified_ms: i64,
}

/// The persistent description of a bucket.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BucketConfig {
    /// Milliseconds since the Unix epoch.
    pub created_ms: i64,
    /// The bucket's CORS rules, if set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors: Option<CorsConfiguration>,
}

/// One bucket: its configuration and an index of its keys for listing.
#[derive(Debug)]
pub struct Bucket {
    name: String,
    dir: PathBuf,
    config: RwLock<BucketConfig>,
    /// The keys, for listing. Its write lock also orders publishing against
    /// deleting the bucket.
    index: RwLock<BTreeMap<String, ObjectSummary>>,
    /// Set, under the index lock, once the bucket is being deleted: nothing
    /// may be published into it after that.
    deleted: std::sync::atomic::AtomicBool,
}

impl Bucket {
    /// The bucket name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A copy of the configuration.
    pub fn config(&self) -> BucketConfig {
        self.config.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// The path that holds (or would hold) `key`.
    pub fn object_path(&self, key: &str) -> PathBuf {
        let digest = Sha256::digest(key.as_bytes());
        let name: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join("objects").join(&name[..2]).join(name)
    }

    /// Runs `f` over the index (read-locked).
    pub fn with_index<T>(&self, f: impl FnOnce(&BTreeMap<String, ObjectSummary>) -> T) -> T {
        f(&self.index.read().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Whether the bucket holds no object.
    pub fn is_empty(&self) -> bool {
        self.with_index(BTreeMap::is_empty)
    }

    /// Replaces the configuration on disk, then in memory.
    ///
    /// # Errors
    /// I/O errors.
    pub fn update_config(&self, f: impl FnOnce(&mut BucketConfig)) -> io::Result<()> {
        let mut config = self.config.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut next = config.clone();
        f(&mut next);
        write_json_atomically(&self.dir.join("bucket.json"), &next, &self.dir)?;
        *config = next;
        Ok(())
    }

    /// Deletes `key`. Deleting a missing key succeeds, as in S3.
    ///
    /// # Errors
    /// I/O errors other than "not found".
    pub fn delete(&self, key: &str) -> io::Result<bool> {
        let mut index = self.index.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let existed = index.remove(key).is_some();
        match std::fs::remove_file(self.object_path(key)) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(existed),
            Err(e) => Err(e),
        }
    }

    /// Opens `key` for reading: the file positioned anywhere and its
    /// metadata. `None` when there is no such object.
    ///
    /// # Errors
    /// I/O errors and damaged files.
    pub fn open(&self, key: &str) -> io::Result<Option<(std::fs::File, ObjectMeta)>> {
        match object_file::open(&self.object_path(key)) {
            Ok((file, meta)) if meta.key == key => Ok(Some((file, meta))),
            // A different key with the same SHA-256 cannot happen in practice;
            // treat it as absent rather than serve the wrong bytes.
            Ok(_) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Publishes a finished temporary file as `meta.key` (see the module
    /// guarantees), replacing any previous object.
    ///
    /// With `if_absent`, publishing fails with `AlreadyExists` when the key
    /// exists at that moment (checked under the index lock, so of several
    /// racing conditional writers exactly one wins).
    fn publish(&self, temp: &Path, meta: &ObjectMeta, if_absent: bool) -> io::Result<()> {
        let path = self.object_path(&meta.key);
        let parent = path.parent().unwrap_or(&self.dir);
        let mut index = self.index.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.deleted.load(std::sync::atomic::Ordering::Acquire) {
            return Err(io::Error::new(io::ErrorKind::NotFound, format!("the bucket {} was deleted", self.name)));
        }
        if if_absent && index.contains_key(&meta.key) {
            return Err(io::Error::new(io::ErrorKind::AlreadyExists, format!("{} exists", meta.key)));
        }
        std::fs::create_dir_all(parent)?;
        std::fs::rename(temp, &path)?;
        sync_dir(parent)?;
        index.insert(
            meta.key.clone(),
            ObjectSummary { size: meta.size, etag: meta.etag.clone(), last_modified_ms: meta.last_modified_ms },
        );
        Ok(())
    }
}

/// The data directory: buckets, objects, multipart uploads, temporary files.
#[derive(Debug)]
pub struct Storage {
    root: PathBuf,
    buckets: RwLock<HashMap<String, Arc<Bucket>>>,
}

impl Storage {
    /// Opens (creating if needed) the data directory at `root`: deletes the
    /// temporary files a crash may have left and indexes every object.
    ///
    /// # Errors
    /// I/O errors, naming the path.
    pub fn open(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        for dir in ["buckets", "multipart", "tmp"] {
            std::fs::create_dir_all(root.join(dir)).map_err(|e| with_path(e, &root.join(dir)))?;
        }
        let tmp = root.join("tmp");
        for entry in std::fs::read_dir(&tmp)? {
            let path = entry?.path();
            let removed = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
            removed.map_err(|e| with_path(e, &path))?;
        }
        // A crash between an abort's two steps leaves a multipart folder
        // without its description: nothing can reach it any more.
        for entry in std::fs::read_dir(root.join("multipart"))? {
            let path = entry?.path();
            if path.is_dir() && !path.join("upload.json").exists() {
                std::fs::remove_dir_all(&path).map_err(|e| with_path(e, &path))?;
            }
        }
        let mut buckets = HashMap::new();
        for entry in std::fs::read_dir(root.join("buckets"))? {
            let dir = entry?.path();
            let Some(name) = dir.file_name().and_then(|n| n.to_str()).map(str::to_owned) else { continue };
            let config: BucketConfig = match std::fs::read(dir.join("bucket.json")) {
                Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| with_path(io::Error::other(e), &dir))?,
                // A bucket folder without its description was never created.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(with_path(e, &dir)),
            };
            let index = index_objects(&dir.join("objects"))?;
            buckets.insert(
                name.clone(),
                Arc::new(Bucket {
                    name,
                    dir,
                    config: RwLock::new(config),
                    index: RwLock::new(index),
                    deleted: Default::default(),
                }),
            );
        }
        Ok(Self { root, buckets: RwLock::new(buckets) })
    }

    /// The data directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The bucket `name`, if it exists.
    pub fn bucket(&self, name: &str) -> Option<Arc<Bucket>> {
        self.buckets.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(name).cloned()
    }

    /// Every bucket, sorted by name.
    pub fn buckets(&self) -> Vec<Arc<Bucket>> {
        let mut all: Vec<_> =
            self.buckets.read().unwrap_or_else(std::sync::PoisonError::into_inner).values().cloned().collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }

    /// Creates the bucket `name` (already validated). `Ok(false)` when it
    /// exists.
    ///
    /// # Errors
    /// I/O errors.
    pub fn create_bucket(&self, name: &str, created_ms: i64) -> io::Result<bool> {
        let mut buckets = self.buckets.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.contains_key(name) {
            return Ok(false);
        }
        let dir = self.root.join("buckets").join(name);
        std::fs::create_dir_all(dir.join("objects"))?;
        let config = BucketConfig { created_ms, cors: None };
        write_json_atomically(&dir.join("bucket.json"), &config, &dir)?;
        sync_dir(&self.root.join("buckets"))?;
        let bucket = Bucket {
            name: name.to_owned(),
            dir,
            config: RwLock::new(config),
            index: RwLock::new(BTreeMap::new()),
            deleted: Default::default(),
        };
        buckets.insert(name.to_owned(), Arc::new(bucket));
        Ok(true)
    }

    /// Deletes the bucket `name` if it holds no object. `Ok(false)` when it
    /// is not empty.
    ///
    /// # Errors
    /// I/O errors.
    pub fn delete_bucket(&self, name: &str) -> io::Result<bool> {
        let mut buckets = self.buckets.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(bucket) = buckets.get(name) else { return Ok(true) };
        let index = bucket.index.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !index.is_empty() {
            return Ok(false);
        }
        // From here no upload can publish into it (see `publish`).
        bucket.deleted.store(true, std::sync::atomic::Ordering::Release);
        let dir = bucket.dir.clone();
        drop(index);
        buckets.remove(name);
        // Remove the description first: a crash after it leaves a folder
        // that `open` ignores.
        std::fs::remove_file(dir.join("bucket.json"))?;
        std::fs::remove_dir_all(&dir)?;
        Ok(true)
    }

    /// A fresh temporary path in the data directory's `tmp/`.
    pub fn temp_path(&self) -> PathBuf {
        self.root.join("tmp").join(uuid::Uuid::new_v4().simple().to_string())
    }
}

fn index_objects(objects: &Path) -> io::Result<BTreeMap<String, ObjectSummary>> {
    let mut index = BTreeMap::new();
    let Ok(shards) = std::fs::read_dir(objects) else { return Ok(index) };
    for shard in shards {
        let shard = shard?.path();
        for entry in std::fs::read_dir(&shard)? {
            let path = entry?.path();
            match object_file::open(&path) {
                Ok((_, meta)) => {
                    index.insert(
                        meta.key,
                        ObjectSummary { size: meta.size, etag: meta.etag, last_modified_ms: meta.last_modified_ms },
                    );
                }
                Err(e) => tracing::warn!(path = %path.display(), error = %e, "skipping an unreadable object file"),
            }
        }
    }
    Ok(index)
}

fn with_path(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// Syncs a directory, so that a rename into it survives a crash.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Writes `value` as JSON to `path` through a temporary file and rename.
pub(crate) fn write_json_atomically<T: Serialize>(path: &Path, value: &T, dir: &Path) -> io::Result<()> {
    let temp = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
    {
        use std::io::Write;
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&temp, path)?;
    sync_dir(dir)
}
