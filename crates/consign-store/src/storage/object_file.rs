//! The on-disk form of one object (or multipart part): the data, then its
//! metadata as JSON, then the metadata's length and a magic number.
//!
//! Keeping data and metadata in one file means one `rename` publishes both
//! at once: an object is either absent or complete with its metadata.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::body::checksum::ChecksumAlgorithm;

const MAGIC: &[u8; 4] = b"CSO1";
/// Metadata larger than this is refused on write and treated as damage on read.
pub const MAX_META_BYTES: usize = 64 * 1024;

/// What is stored about an object besides its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectMeta {
    /// The object key.
    pub key: String,
    /// Bytes of data.
    pub size: u64,
    /// The ETag without quotes: hex MD5, or `hex-N` for multipart objects.
    pub etag: String,
    /// Milliseconds since the Unix epoch.
    pub last_modified_ms: i64,
    /// `Content-Type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// `Content-Disposition`, `Content-Encoding`, `Cache-Control`,
    /// `Content-Language` and `Expires`, as given on upload.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    /// `x-amz-meta-*` without the prefix, names in lower case.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_metadata: Vec<(String, String)>,
    /// Additional checksums, base64 as S3 prints them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checksums: Vec<(ChecksumAlgorithm, String)>,
    /// The checksum type for multipart objects (`COMPOSITE` or `FULL_OBJECT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<String>,
    /// Number of parts, for multipart objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<u32>,
}

/// Appends the metadata trailer to a file that holds exactly the data.
///
/// # Errors
/// I/O errors, and `InvalidInput` for metadata over [`MAX_META_BYTES`].
pub fn write_trailer(file: &mut File, meta: &ObjectMeta) -> io::Result<()> {
    let json = serde_json::to_vec(meta).map_err(io::Error::other)?;
    if json.len() > MAX_META_BYTES {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "object metadata exceeds 64 KiB"));
    }
    file.write_all(&json)?;
    file.write_all(&u32::try_from(json.len()).unwrap_or(u32::MAX).to_le_bytes())?;
    file.write_all(MAGIC)
}

/// Reads the metadata of an object file, leaving the cursor anywhere.
///
/// # Errors
/// I/O errors; `InvalidData` for a file that is not a complete object.
pub fn read_meta(file: &mut File) -> io::Result<ObjectMeta> {
    let damaged = |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("damaged object file: {what}"));
    let len = file.metadata()?.len();
    if len < 8 {
        return Err(damaged("too short"));
    }
    file.seek(SeekFrom::Start(len - 8))?;
    let mut tail = [0u8; 8];
    file.read_exact(&mut tail)?;
    if &tail[4..] != MAGIC {
        return Err(damaged("no trailer"));
    }
    let meta_len = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    if meta_len as usize > MAX_META_BYTES || meta_len + 8 > len {
        return Err(damaged("bad metadata length"));
    }
    file.seek(SeekFrom::Start(len - 8 - meta_len))?;
    let mut json = vec![0u8; meta_len as usize];
    file.read_exact(&mut json)?;
    let meta: ObjectMeta = serde_json::from_slice(&json).map_err(|_| damaged("unreadable metadata"))?;
    if meta.size + meta_len + 8 != len {
        return Err(damaged("size does not match"));
    }
    Ok(meta)
}

/// Opens an object file and reads its metadata.
///
/// # Errors
/// As [`read_meta`]; `NotFound` when there is no such file.
pub fn open(path: &Path) -> io::Result<(File, ObjectMeta)> {
    let mut file = File::open(path)?;
    let meta = read_meta(&mut file)?;
    Ok((file, meta))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(size: u64) -> ObjectMeta {
        ObjectMeta {
            key: "a/b".into(),
            size,
            etag: "d41d8cd98f00b204e9800998ecf8427e".into(),
            last_modified_ms: 1,
            content_type: Some("text/plain".into()),
            headers: vec![],
            user_metadata: vec![("k".into(), "v".into())],
            checksums: vec![],
            checksum_type: None,
            parts: None,
        }
    }

    #[test]
    fn metadata_round_trips_behind_the_data() {
        let dir = std::env::temp_dir().join(format!("consign-of-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("obj");
        let mut file = File::create(&path).unwrap();
        file.write_all(b"hello").unwrap();
        write_trailer(&mut file, &meta(5)).unwrap();
        drop(file);
        let (_, read) = open(&path).unwrap();
        assert_eq!(read, meta(5));
        // A truncated file is damage, never a shorter object.
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        assert_eq!(open(&path).unwrap_err().kind(), io::ErrorKind::InvalidData);
        std::fs::write(&path, &bytes[1..]).unwrap();
        assert_eq!(open(&path).unwrap_err().kind(), io::ErrorKind::InvalidData);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
