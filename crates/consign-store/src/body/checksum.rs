//! The integrity checks S3 offers: `Content-MD5` and the additional
//! checksums `x-amz-checksum-{crc32,crc32c,crc64nvme,sha1,sha256}`.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html>

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use md5::Digest as _;
use serde::{Deserialize, Serialize};

/// An additional checksum algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "UPPERCASE")]
pub enum ChecksumAlgorithm {
    /// CRC-32 (IEEE).
    Crc32,
    /// CRC-32C (Castagnoli).
    Crc32c,
    /// CRC-64/NVME.
    Crc64Nvme,
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
}

impl ChecksumAlgorithm {
    /// Every algorithm.
    pub const ALL: [ChecksumAlgorithm; 5] = [Self::Crc32, Self::Crc32c, Self::Crc64Nvme, Self::Sha1, Self::Sha256];

    /// The header that carries it: `x-amz-checksum-crc32`, …
    pub fn header(self) -> &'static str {
        match self {
            Self::Crc32 => "x-amz-checksum-crc32",
            Self::Crc32c => "x-amz-checksum-crc32c",
            Self::Crc64Nvme => "x-amz-checksum-crc64nvme",
            Self::Sha1 => "x-amz-checksum-sha1",
            Self::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// The name S3 uses in XML and in `x-amz-sdk-checksum-algorithm`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Crc32 => "CRC32",
            Self::Crc32c => "CRC32C",
            Self::Crc64Nvme => "CRC64NVME",
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
        }
    }

    /// The XML element of responses: `ChecksumCRC32`, …
    pub fn xml_element(self) -> &'static str {
        match self {
            Self::Crc32 => "ChecksumCRC32",
            Self::Crc32c => "ChecksumCRC32C",
            Self::Crc64Nvme => "ChecksumCRC64NVME",
            Self::Sha1 => "ChecksumSHA1",
            Self::Sha256 => "ChecksumSHA256",
        }
    }

    /// Reads `CRC32`, `crc32c`, … as in `x-amz-checksum-algorithm`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name().eq_ignore_ascii_case(name.trim()))
    }

    /// Reads a header name `x-amz-checksum-…`.
    pub fn from_header(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.header().eq_ignore_ascii_case(name.trim()))
    }

    /// Length of the raw digest in bytes, to check a base64 value's shape.
    pub fn digest_len(self) -> usize {
        match self {
            Self::Crc32 | Self::Crc32c => 4,
            Self::Crc64Nvme => 8,
            Self::Sha1 => 20,
            Self::Sha256 => 32,
        }
    }
}

/// A running checksum of one algorithm.
#[derive(Clone)]
pub enum Checksummer {
    /// CRC-32.
    Crc32(crc32fast::Hasher),
    /// CRC-32C.
    Crc32c(u32),
    /// CRC-64/NVME.
    Crc64Nvme(crc64fast_nvme::Digest),
    /// SHA-1.
    Sha1(sha1::Sha1),
    /// SHA-256.
    Sha256(sha2::Sha256),
}

impl Checksummer {
    /// A checksum of nothing yet.
    pub fn new(algorithm: ChecksumAlgorithm) -> Self {
        match algorithm {
            ChecksumAlgorithm::Crc32 => Self::Crc32(crc32fast::Hasher::new()),
            ChecksumAlgorithm::Crc32c => Self::Crc32c(0),
            ChecksumAlgorithm::Crc64Nvme => Self::Crc64Nvme(crc64fast_nvme::Digest::new()),
            ChecksumAlgorithm::Sha1 => Self::Sha1(sha1::Sha1::new()),
            ChecksumAlgorithm::Sha256 => Self::Sha256(sha2::Sha256::new()),
        }
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Self::Crc32(h) => h.update(data),
            Self::Crc32c(crc) => *crc = crc32c::crc32c_append(*crc, data),
            Self::Crc64Nvme(h) => h.write(data),
            Self::Sha1(h) => h.update(data),
            Self::Sha256(h) => h.update(data),
        }
    }

    /// The raw digest, big-endian for the CRCs.
    pub fn finish_bytes(self) -> Vec<u8> {
        match self {
            Self::Crc32(h) => h.finalize().to_be_bytes().to_vec(),
            Self::Crc32c(crc) => crc.to_be_bytes().to_vec(),
            Self::Crc64Nvme(h) => h.sum64().to_be_bytes().to_vec(),
            Self::Sha1(h) => h.finalize().to_vec(),
            Self::Sha256(h) => h.finalize().to_vec(),
        }
    }

    /// The digest in base64, as S3 prints it.
    pub fn finish(self) -> String {
        STANDARD.encode(self.finish_bytes())
    }
}

/// A running MD5, for ETags and `Content-MD5`.
#[derive(Clone, Default)]
pub struct Md5(md5::Md5);

impl Md5 {
    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The raw 16-byte digest.
    pub fn finish(self) -> [u8; 16] {
        self.0.finalize().into()
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The MD5 an ETag is the hex of: `Some` only for a single-part object's
/// ETag (32 hex digits), never for a multipart one (`hex-N`).
pub fn md5_of_etag(etag: &str) -> Option<[u8; 16]> {
    let hex = etag.as_bytes();
    // `from_str_radix` alone would take a sign ("+f").
    if hex.len() != 32 || !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let mut md5 = [0u8; 16];
    for (byte, pair) in md5.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(md5)
}

/// Whether `value` is the base64 of exactly `len` bytes.
pub fn is_base64_of_len(value: &str, len: usize) -> bool {
    STANDARD.decode(value.trim()).is_ok_and(|raw| raw.len() == len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_of_etag_reads_single_part_etags_only() {
        let md5 = Md5::default().finish();
        assert_eq!(md5_of_etag(&hex(&md5)), Some(md5));
        for not_md5 in [
            "d41d8cd98f00b204e9800998ecf8427e-2",
            "d41d8cd98f00b204e9800998ecf8427",
            "z41d8cd98f00b204e9800998ecf8427e",
            "+41d8cd98f00b204e9800998ecf8427e",
            "",
        ] {
            assert_eq!(md5_of_etag(not_md5), None, "{not_md5}");
        }
    }

    fn digest(algorithm: ChecksumAlgorithm, data: &[u8]) -> String {
        let mut c = Checksummer::new(algorithm);
        c.update(data);
        c.finish()
    }

    #[test]
    fn matches_the_values_s3_documents() {
        // The aws-chunked trailer example: 66560 bytes of 'a' have CRC32C sOO8/Q==.
        assert_eq!(digest(ChecksumAlgorithm::Crc32c, &vec![b'a'; 66_560]), "sOO8/Q==");
        // Check values of the CRC catalogue for "123456789".
        assert_eq!(
            STANDARD.decode(digest(ChecksumAlgorithm::Crc32, b"123456789")).unwrap(),
            0xCBF4_3926u32.to_be_bytes()
        );
        assert_eq!(
            STANDARD.decode(digest(ChecksumAlgorithm::Crc32c, b"123456789")).unwrap(),
            0xE306_9283u32.to_be_bytes()
        );
        assert_eq!(
            STANDARD.decode(digest(ChecksumAlgorithm::Crc64Nvme, b"123456789")).unwrap(),
            0xAE8B_1486_0A79_9888u64.to_be_bytes()
        );
        assert_eq!(digest(ChecksumAlgorithm::Sha256, b""), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    }

    #[test]
    fn names_round_trip() {
        for a in ChecksumAlgorithm::ALL {
            assert_eq!(ChecksumAlgorithm::from_name(a.name()), Some(a));
            assert_eq!(ChecksumAlgorithm::from_header(a.header()), Some(a));
            assert!(is_base64_of_len(&digest(a, b"x"), a.digest_len()));
        }
    }
}
