//! Multipart uploads on disk: `multipart/<upload id>/upload.json` and one
//! object file per part; completion concatenates the parts into a
//! temporary file (copied by the kernel, file to file) and publishes it like
//! any other object.

use std::io::{self, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;

use md5::Digest as _;
use serde::{Deserialize, Serialize};

use super::object_file::{self, ObjectMeta};
use super::{Bucket, Storage, write_json_atomically};
use crate::body::checksum::{ChecksumAlgorithm, md5_of_etag};

/// An upload in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MultipartUpload {
    /// 32 lower-case hex digits.
    pub upload_id: String,
    /// The bucket.
    pub bucket: String,
    /// The key the object will have.
    pub key: String,
    /// Milliseconds since the Unix epoch.
    pub initiated_ms: i64,
    /// `Content-Type` for the object.
    #[serde(default)]
    pub content_type: Option<String>,
    /// Other stored headers for the object.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// `x-amz-meta-*` for the object.
    #[serde(default)]
    pub user_metadata: Vec<(String, String)>,
    /// The additional checksum every part must carry, if chosen.
    #[serde(default)]
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
}

/// One uploaded part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartInfo {
    /// 1..=10000.
    pub number: u32,
    /// Bytes.
    pub size: u64,
    /// Hex MD5, without quotes.
    pub etag: String,
    /// Milliseconds since the Unix epoch.
    pub last_modified_ms: i64,
    /// The part's additional checksums, base64.
    pub checksums: Vec<(ChecksumAlgorithm, String)>,
}

/// Whether `id` has the shape of an upload ID this store issues, so it can
/// never name a path outside `multipart/`.
pub fn is_upload_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Storage {
    fn upload_dir(&self, upload_id: &str) -> PathBuf {
        self.root.join("multipart").join(upload_id)
    }

    /// A fresh upload ID.
    pub fn new_upload_id() -> String {
        uuid::Uuid::new_v4().simple().to_string()
    }

    /// Records a new upload.
    ///
    /// # Errors
    /// I/O errors.
    pub fn create_upload(&self, upload: &MultipartUpload) -> io::Result<()> {
        let dir = self.upload_dir(&upload.upload_id);
        std::fs::create_dir_all(&dir)?;
        write_json_atomically(&dir.join("upload.json"), upload, &dir)
    }

    /// The upload `upload_id`, if it exists.
    ///
    /// # Errors
    /// I/O errors.
    pub fn upload(&self, upload_id: &str) -> io::Result<Option<MultipartUpload>> {
        if !is_upload_id(upload_id) {
            return Ok(None);
        }
        match std::fs::read(self.upload_dir(upload_id).join("upload.json")) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(io::Error::other),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Where part `number` of `upload_id` is stored.
    pub fn part_path(&self, upload_id: &str, number: u32) -> PathBuf {
        self.upload_dir(upload_id).join(format!("part-{number:05}"))
    }

    /// The uploaded parts, by part number.
    ///
    /// # Errors
    /// I/O errors.
    pub fn parts(&self, upload_id: &str) -> io::Result<Vec<PartInfo>> {
        let mut parts = Vec::new();
        for entry in std::fs::read_dir(self.upload_dir(upload_id))? {
            let path = entry?.path();
            let Some(number) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix("part-"))
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let (_, meta) = object_file::open(&path)?;
            parts.push(PartInfo {
                number,
                size: meta.size,
                etag: meta.etag,
                last_modified_ms: meta.last_modified_ms,
                checksums: meta.checksums,
            });
        }
        parts.sort_by_key(|p| p.number);
        Ok(parts)
    }

    /// Every upload in progress in `bucket`, by key then initiation (then
    /// upload ID, so that pages are stable).
    ///
    /// # Errors
    /// I/O errors.
    pub fn uploads(&self, bucket: &str) -> io::Result<Vec<MultipartUpload>> {
        let mut uploads = Vec::new();
        for entry in std::fs::read_dir(self.root.join("multipart"))? {
            let id = entry?.file_name().to_string_lossy().into_owned();
            if let Some(upload) = self.upload(&id)? {
                if upload.bucket == bucket {
                    uploads.push(upload);
                }
            }
        }
        uploads.sort_by(|a, b| {
            a.key.cmp(&b.key).then(a.initiated_ms.cmp(&b.initiated_ms)).then_with(|| a.upload_id.cmp(&b.upload_id))
        });
        Ok(uploads)
    }

    /// Deletes an upload and its parts. `Ok(false)` when there is none.
    ///
    /// # Errors
    /// I/O errors.
    pub fn abort_upload(&self, upload_id: &str) -> io::Result<bool> {
        if !is_upload_id(upload_id) {
            return Ok(false);
        }
        let dir = self.upload_dir(upload_id);
        // Removing the description first makes the upload disappear at once.
        match std::fs::remove_file(dir.join("upload.json")) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        }
        // Then the folder moves out of the way in one step, so a part still
        // being published cannot land in a folder half deleted (its rename
        // fails instead); what is left in tmp/ is swept at the next start.
        let removed = self.temp_path();
        std::fs::rename(&dir, &removed)?;
        if let Err(error) = std::fs::remove_dir_all(&removed) {
            tracing::warn!(%error, path = %removed.display(), "an aborted upload's parts stay in tmp/ until restart");
        }
        Ok(true)
    }

    /// Concatenates the chosen `parts` (already checked against the client's
    /// list) into one object, publishes it in `bucket` with `meta` (whose
    /// size and ETag are filled in here), and deletes the upload.
    ///
    /// # Errors
    /// I/O errors; nothing is published then. `InvalidInput` when a part was
    /// replaced after the list was checked.
    pub async fn complete_upload(
        self: &Arc<Self>,
        bucket: Arc<Bucket>,
        upload_id: String,
        parts: Vec<PartInfo>,
        mut meta: ObjectMeta,
    ) -> io::Result<ObjectMeta> {
        let storage = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let temp = storage.temp_path();
            let result = (|| {
                let mut out = std::fs::File::create(&temp)?;
                let mut etags = md5::Md5::new();
                let mut size = 0;
                for part in &parts {
                    let (mut file, part_meta) = object_file::open(&storage.part_path(&upload_id, part.number))?;
                    // A retried UploadPart may have replaced the part since the
                    // client's list was checked: never publish bytes it did not name.
                    if part_meta.etag != part.etag {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidInput,
                            format!("part {} changed", part.number),
                        ));
                    }
                    size += part_meta.size;
                    file.seek(SeekFrom::Start(0))?;
                    // File to file: `io::copy` lets the kernel copy the bytes
                    // (copy_file_range), without passing them through here.
                    let copied = io::copy(&mut (&mut file).take(part_meta.size), &mut out)?;
                    if copied != part_meta.size {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            format!("part {} is shorter than its metadata says", part.number),
                        ));
                    }
                    let md5 = md5_of_etag(&part_meta.etag).ok_or_else(|| {
                        io::Error::new(io::ErrorKind::InvalidData, format!("part {} has no MD5 ETag", part.number))
                    })?;
                    etags.update(md5);
                }
                meta.size = size;
                let digest: [u8; 16] = etags.finalize().into();
                meta.etag = format!("{}-{}", crate::body::checksum::hex(&digest), parts.len());
                meta.parts = Some(u32::try_from(parts.len()).unwrap_or(u32::MAX));
                object_file::write_trailer(&mut out, &meta)?;
                out.sync_all()?;
                bucket.publish(&temp, &meta, false)?;
                Ok(meta)
            })();
            if result.is_err() {
                let _ = std::fs::remove_file(&temp);
            } else {
                let _ = storage.abort_upload(&upload_id);
            }
            result
        })
        .await
        .map_err(io::Error::other)?
    }
}
