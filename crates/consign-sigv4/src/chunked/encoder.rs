//! Writing an aws-chunked body: what a client sends.

use super::{StreamingContext, StreamingMode};
use crate::crypto::{Hex64, sha256_hex};
use crate::sign::{HeaderSignature, Signer};

/// Frames data as aws-chunked, signing each chunk when the mode asks.
#[derive(Debug, Clone)]
pub struct ChunkEncoder {
    context: StreamingContext,
    previous: Hex64,
}

impl ChunkEncoder {
    /// An encoder chaining from the context's seed signature.
    pub fn new(context: StreamingContext) -> Self {
        let previous = context.seed;
        Self { context, previous }
    }

    /// The signature of the last chunk written (the seed before any).
    pub fn previous_signature(&self) -> &Hex64 {
        &self.previous
    }

    /// One chunk: `hex-size[;chunk-signature=…]\r\n data \r\n`. Pass the
    /// final (empty) chunk through [`Self::finish`] instead.
    pub fn chunk(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() + 100);
        self.write_header(&mut out, data);
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
        out
    }

    fn write_header(&mut self, out: &mut Vec<u8>, data: &[u8]) {
        out.extend_from_slice(format!("{:x}", data.len()).as_bytes());
        if self.context.mode.signed() {
            let (_, signature) = self.context.chunk_signature(&self.previous, &sha256_hex(data));
            out.extend_from_slice(b";chunk-signature=");
            out.extend_from_slice(signature.as_str().as_bytes());
            self.previous = signature;
        }
        out.extend_from_slice(b"\r\n");
    }

    /// The final empty chunk, then the `trailers` (such as
    /// `x-amz-checksum-crc32c`) and their signature when the mode has them.
    pub fn finish(&mut self, trailers: &[(&str, &str)]) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        self.write_header(&mut out, b"");
        if !self.context.mode.has_trailer() {
            out.extend_from_slice(b"\r\n");
            return out;
        }
        let mut canonical = Vec::new();
        for (name, value) in trailers {
            out.extend_from_slice(format!("{name}:{value}\r\n").as_bytes());
            canonical.extend_from_slice(format!("{}:{}\n", name.to_ascii_lowercase(), value.trim()).as_bytes());
        }
        if self.context.mode == StreamingMode::SignedWithTrailer {
            let (_, signature) = self.context.trailer_signature(&self.previous, &canonical);
            out.extend_from_slice(b"x-amz-trailer-signature:");
            out.extend_from_slice(signature.as_str().as_bytes());
            out.extend_from_slice(b"\r\n");
            self.previous = signature;
        }
        out.extend_from_slice(b"\r\n");
        out
    }
}

impl Signer {
    /// An encoder for the body of a request header-signed as `seed`, whose
    /// payload was one of the `STREAMING-*` values.
    pub fn chunk_encoder(&self, seed: &HeaderSignature, mode: StreamingMode) -> ChunkEncoder {
        let scope = self.scope(&seed.time);
        ChunkEncoder::new(StreamingContext::new(mode, self.signing_key(&seed.time), seed.time, &scope, seed.signature))
    }
}
