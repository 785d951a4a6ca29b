//! aws-chunked bodies: `STREAMING-*` uploads whose chunks (and trailer)
//! carry their own signatures, chained from the request's seed signature.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html>
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html>

mod decoder;
mod encoder;

pub use decoder::{ChunkedDecoder, Decoded, MAX_CHUNK_SIZE, MIN_SIGNED_CHUNK_SIZE};
pub use encoder::ChunkEncoder;

use crate::crypto::{EMPTY_SHA256, Hex64, SigningKey, sha256_hex};
use crate::scope::CredentialScope;
use crate::time::AmzDate;

/// Which `STREAMING-*` form a body uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamingMode {
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`.
    Signed,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`.
    SignedWithTrailer,
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`.
    UnsignedWithTrailer,
}

impl StreamingMode {
    fn signed(self) -> bool {
        matches!(self, StreamingMode::Signed | StreamingMode::SignedWithTrailer)
    }

    fn has_trailer(self) -> bool {
        matches!(self, StreamingMode::SignedWithTrailer | StreamingMode::UnsignedWithTrailer)
    }
}

/// What chunk signatures chain from: the signing key, time and scope of the
/// request, and its (seed) signature.
#[derive(Debug, Clone)]
pub struct StreamingContext {
    mode: StreamingMode,
    key: SigningKey,
    time: AmzDate,
    scope: String,
    seed: Hex64,
}

impl StreamingContext {
    /// The context of a request signed at `time` within `scope`, whose
    /// header signature was `seed`.
    pub fn new(mode: StreamingMode, key: SigningKey, time: AmzDate, scope: &CredentialScope<'_>, seed: Hex64) -> Self {
        Self { mode, key, time, scope: scope.to_string(), seed }
    }

    /// The form of the body.
    pub fn mode(&self) -> StreamingMode {
        self.mode
    }

    /// The signature of a chunk whose data hashes to `data_sha256`, after
    /// the signature `previous`.
    fn chunk_signature(&self, previous: &Hex64, data_sha256: &Hex64) -> (String, Hex64) {
        let string_to_sign = [
            "AWS4-HMAC-SHA256-PAYLOAD",
            self.time.as_str(),
            &self.scope,
            previous.as_str(),
            EMPTY_SHA256,
            data_sha256.as_str(),
        ]
        .join("\n");
        let signature = self.key.sign(string_to_sign.as_bytes());
        (string_to_sign, signature)
    }

    /// The signature of the trailer whose canonical form (`name:value\n`
    /// per header) is `canonical_trailer`.
    fn trailer_signature(&self, previous: &Hex64, canonical_trailer: &[u8]) -> (String, Hex64) {
        let string_to_sign = [
            "AWS4-HMAC-SHA256-TRAILER",
            self.time.as_str(),
            &self.scope,
            previous.as_str(),
            sha256_hex(canonical_trailer).as_str(),
        ]
        .join("\n");
        let signature = self.key.sign(string_to_sign.as_bytes());
        (string_to_sign, signature)
    }
}
