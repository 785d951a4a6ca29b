//! The checksums a client may declare, in the base64 form S3 uses, and how
//! to get one for a stored object: from what storage reports, or by
//! reading the object through once.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http_body_util::BodyExt;
use md5::Digest;

use crate::storage::{BodyStream, ObjectInfo, StorageError};

/// A checksum algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumAlgorithm {
    /// MD5 (`Content-MD5`).
    Md5,
    /// SHA-256 (`x-amz-checksum-sha256`).
    Sha256,
    /// CRC32C (`x-amz-checksum-crc32c`).
    Crc32c,
}

impl ChecksumAlgorithm {
    /// Reads `md5`, `sha256` or `crc32c` (any case).
    pub fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "md5" => Some(ChecksumAlgorithm::Md5),
            "sha256" | "sha-256" => Some(ChecksumAlgorithm::Sha256),
            "crc32c" => Some(ChecksumAlgorithm::Crc32c),
            _ => None,
        }
    }

    /// The stored name.
    pub fn name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Md5 => "md5",
            ChecksumAlgorithm::Sha256 => "sha256",
            ChecksumAlgorithm::Crc32c => "crc32c",
        }
    }

    /// The length of the digest in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            ChecksumAlgorithm::Md5 => 16,
            ChecksumAlgorithm::Sha256 => 32,
            ChecksumAlgorithm::Crc32c => 4,
        }
    }

    /// The request header that makes storage check it on upload.
    pub fn header(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Md5 => "content-md5",
            ChecksumAlgorithm::Sha256 => "x-amz-checksum-sha256",
            ChecksumAlgorithm::Crc32c => "x-amz-checksum-crc32c",
        }
    }

    /// Checks a declared value: base64 of a digest of the right length.
    ///
    /// # Errors
    /// What is wrong, with the expected form.
    pub fn validate(self, value: &str) -> Result<(), String> {
        match STANDARD.decode(value) {
            Ok(bytes) if bytes.len() == self.digest_len() => Ok(()),
            _ => Err(format!(
                "checksum must be the base64 of the {}-byte {} digest (for example {})",
                self.digest_len(),
                self.name(),
                STANDARD.encode(vec![0u8; self.digest_len()])
            )),
        }
    }

    /// The full-object value storage reported, if it did.
    pub fn reported_by(self, info: &ObjectInfo) -> Option<String> {
        if self == ChecksumAlgorithm::Md5 {
            // A single-part ETag is the hex MD5 (multipart ETags have a `-`).
            let hex = info.etag.trim_matches('"');
            if hex.len() != 32 || hex.contains('-') {
                return None;
            }
            let bytes: Option<Vec<u8>> =
                (0..16).map(|i| u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()).collect();
            return bytes.map(|b| STANDARD.encode(b));
        }
        info.checksums.iter().find(|(name, _)| name == self.name()).map(|(_, value)| value.clone())
    }

    /// Reads `body` through and returns its checksum, base64.
    ///
    /// # Errors
    /// When the body cannot be read.
    pub async fn compute(self, mut body: BodyStream) -> Result<String, StorageError> {
        let mut state = Hasher::new(self);
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| StorageError::Unreachable(format!("reading the object: {e}")))?;
            if let Some(data) = frame.data_ref() {
                state.update(data);
            }
        }
        Ok(state.finish())
    }
}

/// A running digest of one of the algorithms.
#[derive(Debug)]
pub enum Hasher {
    /// MD5.
    Md5(md5::Md5),
    /// SHA-256.
    Sha256(sha2::Sha256),
    /// CRC32C.
    Crc32c(u32),
}

impl Hasher {
    /// A new digest.
    pub fn new(algorithm: ChecksumAlgorithm) -> Self {
        match algorithm {
            ChecksumAlgorithm::Md5 => Hasher::Md5(md5::Md5::new()),
            ChecksumAlgorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            ChecksumAlgorithm::Crc32c => Hasher::Crc32c(0),
        }
    }

    /// Adds bytes.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Md5(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            Hasher::Crc32c(crc) => *crc = crc32c::crc32c_append(*crc, data),
        }
    }

    /// The digest, base64.
    pub fn finish(self) -> String {
        match self {
            Hasher::Md5(h) => STANDARD.encode(h.finalize()),
            Hasher::Sha256(h) => STANDARD.encode(h.finalize()),
            Hasher::Crc32c(crc) => STANDARD.encode(crc.to_be_bytes()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        let digest = |algorithm| {
            let mut h = Hasher::new(algorithm);
            h.update(b"hello ");
            h.update(b"world");
            h.finish()
        };
        // Published values: `printf 'hello world' | openssl dgst -md5 -binary | base64`, and CRC32C of
        // "hello world" = 0xc99465aa.
        assert_eq!(digest(ChecksumAlgorithm::Md5), "XrY7u+Ae7tCTyyK7j1rNww==");
        assert_eq!(digest(ChecksumAlgorithm::Sha256), "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=");
        assert_eq!(digest(ChecksumAlgorithm::Crc32c), STANDARD.encode(0xc994_65aa_u32.to_be_bytes()));
    }

    #[test]
    fn declared_values_are_checked_for_shape() {
        assert!(ChecksumAlgorithm::Sha256.validate("uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=").is_ok());
        let error = ChecksumAlgorithm::Sha256.validate("b94d27b9934d3e08").unwrap_err();
        assert!(error.contains("base64 of the 32-byte sha256"), "{error}");
        assert!(ChecksumAlgorithm::Md5.validate("not base64!").is_err());
    }

    #[test]
    fn a_single_part_etag_is_the_md5() {
        let info = ObjectInfo { size: 11, etag: "\"5eb63bbbe01eeed093cb22bb8f5acdc3\"".into(), checksums: vec![] };
        assert_eq!(ChecksumAlgorithm::Md5.reported_by(&info).as_deref(), Some("XrY7u+Ae7tCTyyK7j1rNww=="));
        let multipart = ObjectInfo { etag: "\"abc-2\"".into(), ..info };
        assert_eq!(ChecksumAlgorithm::Md5.reported_by(&multipart), None);
    }
}
