//! Writing one object: bytes stream into a temporary file while every
//! digest is computed, off the async threads; the object is published only
//! when the caller commits it, and deleted if it never is.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::object_file::{self, ObjectMeta};
use super::{Bucket, Storage, sync_dir};
use crate::body::checksum::{ChecksumAlgorithm, Checksummer, Md5};

/// Bytes gathered before one batch is handed to the blocking pool: large
/// enough that the hop is noise, small enough that memory stays flat.
const WRITE_BATCH: usize = 1024 * 1024;

/// The running digests of an upload.
struct Hashers {
    md5: Md5,
    sha256: Option<Sha256>,
    checksums: Vec<(ChecksumAlgorithm, Checksummer)>,
}

impl Hashers {
    fn update(&mut self, data: &[u8]) {
        self.md5.update(data);
        if let Some(sha) = self.sha256.as_mut() {
            sha.update(data);
        }
        for (_, checksum) in &mut self.checksums {
            checksum.update(data);
        }
    }
}

/// The digests of everything written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    /// Bytes written.
    pub size: u64,
    /// The MD5 (the ETag of a single-part object).
    pub md5: [u8; 16],
    /// Lower-case hex SHA-256, when asked for.
    pub sha256_hex: Option<String>,
    /// The additional checksums asked for, base64.
    pub checksums: Vec<(ChecksumAlgorithm, String)>,
}

type Task<T> = tokio::task::JoinHandle<io::Result<T>>;

/// One batch being written and hashed, by two blocking tasks at once (MD5
/// alone runs at about 400 MB/s, slower than many disks, so hashing and
/// writing must not wait for each other).
struct InFlight {
    write: Task<File>,
    hash: Task<Hashers>,
    batch: Arc<Vec<u8>>,
}

/// A temporary file being written. Dropping it deletes the file.
pub struct PendingObject {
    /// The file and digests while no batch is in flight.
    idle: Option<(File, Box<Hashers>)>,
    /// The batch in flight, whose tasks own the file and digests meanwhile.
    in_flight: Option<InFlight>,
    buffer: Vec<u8>,
    written: u64,
    temp: PathBuf,
}

impl PendingObject {
    /// Starts a temporary file in `storage`, computing MD5, the SHA-256 when
    /// `sha256` is set, and the listed checksums.
    ///
    /// # Errors
    /// I/O errors.
    pub fn create(storage: &Storage, sha256: bool, checksums: &[ChecksumAlgorithm]) -> io::Result<Self> {
        let temp = storage.temp_path();
        let file = File::create(&temp)?;
        let hashers = Hashers {
            md5: Md5::default(),
            sha256: sha256.then(Sha256::new),
            checksums: checksums.iter().map(|a| (*a, Checksummer::new(*a))).collect(),
        };
        Ok(Self {
            idle: Some((file, Box::new(hashers))),
            in_flight: None,
            buffer: Vec::with_capacity(WRITE_BATCH),
            written: 0,
            temp,
        })
    }

    /// Bytes accepted so far.
    pub fn len(&self) -> u64 {
        self.written
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.written == 0
    }

    /// Appends `data`.
    ///
    /// # Errors
    /// I/O errors.
    pub async fn write(&mut self, mut data: &[u8]) -> io::Result<()> {
        self.written += data.len() as u64;
        while !data.is_empty() {
            let room = WRITE_BATCH - self.buffer.len();
            let take = room.min(data.len());
            self.buffer.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buffer.len() == WRITE_BATCH {
                self.flush().await?;
            }
        }
        Ok(())
    }

    /// Hands the full buffer to the blocking pool and returns while it is
    /// written and hashed, so the next batch is received meanwhile. At most
    /// one batch is in flight: memory stays at two batches per upload.
    async fn flush(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let (mut file, mut hashers, spare) = self.settle().await?;
        let batch = Arc::new(std::mem::replace(&mut self.buffer, spare));
        let to_write = Arc::clone(&batch);
        let to_hash = Arc::clone(&batch);
        self.in_flight = Some(InFlight {
            write: tokio::task::spawn_blocking(move || file.write_all(&to_write).map(|()| file)),
            hash: tokio::task::spawn_blocking(move || {
                hashers.update(&to_hash);
                Ok(*hashers)
            }),
            batch,
        });
        Ok(())
    }

    /// Waits for the batch in flight, if any; returns the file, the
    /// digests, and an empty buffer to fill next.
    async fn settle(&mut self) -> io::Result<(File, Box<Hashers>, Vec<u8>)> {
        if let Some(InFlight { write, hash, batch }) = self.in_flight.take() {
            let file = write.await.map_err(io::Error::other)??;
            let hashers = hash.await.map_err(io::Error::other)??;
            let mut spare = Arc::try_unwrap(batch).unwrap_or_else(|_| Vec::with_capacity(WRITE_BATCH));
            spare.clear();
            return Ok((file, Box::new(hashers), spare));
        }
        let (file, hashers) = self.idle.take().ok_or_else(|| io::Error::other("an earlier write failed"))?;
        Ok((file, hashers, Vec::with_capacity(WRITE_BATCH)))
    }

    /// Writes what is buffered and returns the digests; the file is kept
    /// until [`FinishedObject::commit`] or drop.
    ///
    /// # Errors
    /// I/O errors.
    pub async fn finish(mut self) -> io::Result<FinishedObject> {
        self.flush().await?;
        let (file, hashers, _) = self.settle().await?;
        let Hashers { md5, sha256, checksums } = *hashers;
        let digests = Digests {
            size: self.written,
            md5: md5.finish(),
            sha256_hex: sha256.map(|s| s.finalize().iter().map(|b| format!("{b:02x}")).collect()),
            checksums: checksums.into_iter().map(|(a, c)| (a, c.finish())).collect(),
        };
        let temp = std::mem::take(&mut self.temp);
        Ok(FinishedObject { file: Some(file), temp, digests })
    }
}

impl Drop for PendingObject {
    fn drop(&mut self) {
        if !self.temp.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// A fully written temporary file with its digests, not yet visible.
/// Dropping it deletes the file.
pub struct FinishedObject {
    file: Option<File>,
    temp: PathBuf,
    /// What was written.
    pub digests: Digests,
}

impl FinishedObject {
    /// A temporary copy of `length` bytes of `source` from `start`, whose MD5
    /// is already known: the kernel copies the bytes file to file
    /// (`copy_file_range`), nothing passes through here and nothing is hashed.
    ///
    /// # Errors
    /// I/O errors, and `UnexpectedEof` when `source` ends early; the
    /// temporary file is deleted.
    pub async fn copy_with_known_md5(
        storage: &Storage,
        mut source: File,
        start: u64,
        length: u64,
        md5: [u8; 16],
    ) -> io::Result<Self> {
        let temp = storage.temp_path();
        let path = temp.clone();
        let copied = tokio::task::spawn_blocking(move || {
            let mut out = File::create(&path)?;
            source.seek(SeekFrom::Start(start))?;
            let copied = io::copy(&mut source.take(length), &mut out)?;
            if copied != length {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the source object is shorter than it says"));
            }
            Ok(out)
        })
        .await
        .unwrap_or_else(|panicked| Err(io::Error::other(panicked)));
        match copied {
            Ok(file) => Ok(Self {
                file: Some(file),
                temp,
                digests: Digests { size: length, md5, sha256_hex: None, checksums: Vec::new() },
            }),
            Err(error) => {
                let _ = std::fs::remove_file(&temp);
                Err(error)
            }
        }
    }

    /// Appends `meta`, syncs, and publishes the object in `bucket`.
    ///
    /// # Errors
    /// I/O errors; the temporary file is deleted.
    pub async fn commit(self, bucket: std::sync::Arc<Bucket>, meta: ObjectMeta) -> io::Result<()> {
        self.commit_with(bucket, meta, false).await
    }

    /// As [`Self::commit`], only if no object has the key when it is
    /// published (`If-None-Match: *`).
    ///
    /// # Errors
    /// `AlreadyExists` when it has; I/O errors. The temporary file is deleted.
    pub async fn commit_if_absent(self, bucket: std::sync::Arc<Bucket>, meta: ObjectMeta) -> io::Result<()> {
        self.commit_with(bucket, meta, true).await
    }

    async fn commit_with(
        mut self,
        bucket: std::sync::Arc<Bucket>,
        meta: ObjectMeta,
        if_absent: bool,
    ) -> io::Result<()> {
        let file = self.file.take();
        let temp = std::mem::take(&mut self.temp);
        tokio::task::spawn_blocking(move || {
            let result = seal(file, &temp, &meta).and_then(|()| bucket.publish(&temp, &meta, if_absent));
            if result.is_err() {
                let _ = std::fs::remove_file(&temp);
            }
            result
        })
        .await
        .map_err(io::Error::other)?
    }

    /// Appends `meta`, syncs, and renames the file to `path` (a multipart
    /// part).
    ///
    /// # Errors
    /// I/O errors; the temporary file is deleted.
    pub async fn commit_to(mut self, path: PathBuf, meta: ObjectMeta) -> io::Result<()> {
        let file = self.file.take();
        let temp = std::mem::take(&mut self.temp);
        tokio::task::spawn_blocking(move || {
            let result = seal(file, &temp, &meta).and_then(|()| {
                std::fs::rename(&temp, &path)?;
                sync_dir(path.parent().unwrap_or(Path::new(".")))
            });
            if result.is_err() {
                let _ = std::fs::remove_file(&temp);
            }
            result
        })
        .await
        .map_err(io::Error::other)?
    }
}

fn seal(file: Option<File>, temp: &Path, meta: &ObjectMeta) -> io::Result<()> {
    let mut file = match file {
        Some(file) => file,
        None => std::fs::OpenOptions::new().append(true).open(temp)?,
    };
    object_file::write_trailer(&mut file, meta)?;
    file.sync_all()
}

impl Drop for FinishedObject {
    fn drop(&mut self) {
        if !self.temp.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}
