//! Reading an aws-chunked body: a push decoder.
//!
//! Feed it bytes as they arrive; it answers with data, "need more", or the
//! end. In the signed modes a chunk's data is released only after its
//! signature has been checked, so nothing unverified reaches storage; memory
//! is bounded by one chunk ([`MAX_CHUNK_SIZE`]).

use super::{StreamingContext, StreamingMode};
use crate::crypto::{Hex64, PayloadHasher, constant_time_eq};
use crate::error::VerifyError;

/// The largest chunk accepted. SDKs send 64 KiB to 8 MiB.
pub const MAX_CHUNK_SIZE: usize = 16 * 1024 * 1024;
/// S3's minimum for every signed chunk but the last.
pub const MIN_SIGNED_CHUNK_SIZE: usize = 8 * 1024;
/// The longest chunk header or trailer line accepted.
const MAX_LINE: usize = 4096;
/// The most trailer lines accepted.
const MAX_TRAILERS: usize = 16;

/// What one call to [`ChunkedDecoder::decode`] produced.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// Verified body bytes, in order.
    Data(&'a [u8]),
    /// Every byte given was consumed; feed more.
    NeedMore,
    /// The body is complete and every signature held. Trailers are in
    /// [`ChunkedDecoder::trailers`].
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Header,
    Data { remaining: usize },
    DataEnd { seen: u8 },
    Trailer,
    FinalCrlf { seen: u8 },
    Done,
}

/// Decodes (and, in the signed modes, verifies) an aws-chunked body.
#[derive(Debug)]
pub struct ChunkedDecoder {
    context: StreamingContext,
    previous: Hex64,
    state: State,
    line: Vec<u8>,
    data: Vec<u8>,
    hasher: PayloadHasher,
    chunk_signature: Option<String>,
    chunks: u64,
    last_chunk_size: usize,
    decoded: u64,
    expected_length: Option<u64>,
    trailers: Vec<(String, String)>,
}

fn malformed(reason: impl Into<String>) -> VerifyError {
    VerifyError::MalformedChunk { reason: reason.into() }
}

impl ChunkedDecoder {
    /// A decoder for a body whose request verified with `context`.
    /// `decoded_length` is `x-amz-decoded-content-length`, when sent.
    pub fn new(context: StreamingContext, decoded_length: Option<u64>) -> Self {
        let previous = context.seed;
        Self {
            context,
            previous,
            state: State::Header,
            line: Vec::new(),
            data: Vec::new(),
            hasher: PayloadHasher::new(),
            chunk_signature: None,
            chunks: 0,
            last_chunk_size: usize::MAX,
            decoded: 0,
            expected_length: decoded_length,
            trailers: Vec::new(),
        }
    }

    /// The trailing headers (such as `x-amz-checksum-crc32c`), names in
    /// lower case; complete once [`Decoded::End`] was returned.
    pub fn trailers(&self) -> &[(String, String)] {
        &self.trailers
    }

    /// Decoded bytes released so far.
    pub fn decoded_len(&self) -> u64 {
        self.decoded
    }

    /// Whether the whole body has been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Call when the connection has no more bytes.
    ///
    /// # Errors
    /// [`VerifyError::IncompleteBody`] when the body ended early.
    pub fn finish(&self) -> Result<(), VerifyError> {
        if self.is_done() {
            Ok(())
        } else {
            Err(VerifyError::IncompleteBody {
                reason: "the body ended before the final (zero-length) chunk".to_owned(),
            })
        }
    }

    /// Consumes bytes from `input`; returns how many were consumed and what
    /// they produced. Call again with the rest of `input` until it answers
    /// [`Decoded::NeedMore`] (all consumed) or [`Decoded::End`].
    ///
    /// # Errors
    /// [`VerifyError::MalformedChunk`], [`VerifyError::InvalidChunkSize`],
    /// [`VerifyError::ChunkSignatureDoesNotMatch`],
    /// [`VerifyError::MalformedTrailer`], [`VerifyError::IncompleteBody`].
    /// After an error the decoder must be dropped.
    pub fn decode<'a>(&'a mut self, input: &'a [u8]) -> Result<(usize, Decoded<'a>), VerifyError> {
        let mut pos = 0;
        loop {
            match self.state {
                State::Done => return Ok((pos, Decoded::End)),
                State::Header | State::Trailer => {
                    let Some(line) = self.take_line(input, &mut pos)? else {
                        return Ok((pos, Decoded::NeedMore));
                    };
                    if self.state == State::Header {
                        self.start_chunk(&line)?;
                    } else {
                        self.trailer_line(&line)?;
                    }
                }
                State::Data { remaining } => {
                    if pos == input.len() {
                        return Ok((pos, Decoded::NeedMore));
                    }
                    let take = remaining.min(input.len() - pos);
                    let piece = &input[pos..pos + take];
                    pos += take;
                    let remaining = remaining - take;
                    self.state = if remaining == 0 { State::DataEnd { seen: 0 } } else { State::Data { remaining } };
                    if !self.context.mode.signed() {
                        return Ok((pos, Decoded::Data(piece)));
                    }
                    self.hasher.update(piece);
                    self.data.extend_from_slice(piece);
                    if remaining == 0 {
                        self.check_chunk_signature()?;
                        return Ok((pos, Decoded::Data(&self.data)));
                    }
                }
                State::DataEnd { seen } | State::FinalCrlf { seen } => {
                    let Some(&byte) = input.get(pos) else {
                        return Ok((pos, Decoded::NeedMore));
                    };
                    let expected = if seen == 0 { b'\r' } else { b'\n' };
                    if byte != expected {
                        return Err(malformed("chunk data must be followed by CRLF"));
                    }
                    pos += 1;
                    let done = seen == 1;
                    self.state = match (self.state, done) {
                        (State::DataEnd { .. }, true) => State::Header,
                        (State::DataEnd { .. }, false) => State::DataEnd { seen: 1 },
                        (_, true) => State::Done,
                        (_, false) => State::FinalCrlf { seen: 1 },
                    };
                }
            }
        }
    }

    /// Reads up to a CRLF, buffering partial lines across calls.
    fn take_line(&mut self, input: &[u8], pos: &mut usize) -> Result<Option<Vec<u8>>, VerifyError> {
        let rest = &input[*pos..];
        let newline = rest.iter().position(|b| *b == b'\n');
        let piece = &rest[..newline.map_or(rest.len(), |i| i + 1)];
        if self.line.len() + piece.len() > MAX_LINE {
            return Err(malformed(format!("a chunk header or trailer line is longer than {MAX_LINE} bytes")));
        }
        self.line.extend_from_slice(piece);
        *pos += piece.len();
        if newline.is_none() {
            return Ok(None);
        }
        let mut line = std::mem::take(&mut self.line);
        if !line.ends_with(b"\r\n") {
            return Err(malformed("lines must end with CRLF"));
        }
        line.truncate(line.len() - 2);
        Ok(Some(line))
    }

    fn start_chunk(&mut self, line: &[u8]) -> Result<(), VerifyError> {
        let line = std::str::from_utf8(line).map_err(|_| malformed("a chunk header is not ASCII"))?;
        let (size_text, extension) = line.split_once(';').unwrap_or((line, ""));
        let size = usize::from_str_radix(size_text, 16)
            .ok()
            .filter(|_| {
                !size_text.is_empty() && size_text.len() <= 16 && size_text.bytes().all(|b| b.is_ascii_hexdigit())
            })
            .ok_or_else(|| {
                malformed(format!("{:?} is not a hex chunk size", size_text.chars().take(32).collect::<String>()))
            })?;
        if size > MAX_CHUNK_SIZE {
            return Err(VerifyError::InvalidChunkSize {
                reason: format!("a chunk of {size} bytes exceeds the limit of {MAX_CHUNK_SIZE}"),
            });
        }
        if self.context.mode.signed() {
            if size > 0 && self.last_chunk_size < MIN_SIGNED_CHUNK_SIZE {
                return Err(VerifyError::InvalidChunkSize {
                    reason: format!(
                        "Only the last chunk is allowed to have a size less than {MIN_SIGNED_CHUNK_SIZE} bytes"
                    ),
                });
            }
            let signature = extension
                .strip_prefix("chunk-signature=")
                .ok_or_else(|| malformed("a signed chunk header must be 'hex-size;chunk-signature=<64 hex>'"))?;
            self.chunk_signature = Some(signature.to_owned());
        } else if !extension.is_empty() {
            return Err(malformed("chunks of STREAMING-UNSIGNED-PAYLOAD-TRAILER carry no signature"));
        }
        self.chunks += 1;
        self.last_chunk_size = size;
        self.decoded += size as u64;
        if let Some(expected) = self.expected_length {
            if self.decoded > expected {
                return Err(VerifyError::IncompleteBody {
                    reason: format!("the body holds more than x-amz-decoded-content-length ({expected}) bytes"),
                });
            }
        }
        if size > 0 {
            self.data.clear();
            self.data.reserve(size);
            self.state = State::Data { remaining: size };
            return Ok(());
        }
        // The final chunk.
        if self.context.mode.signed() {
            self.check_chunk_signature()?;
        }
        if let Some(expected) = self.expected_length {
            if self.decoded != expected {
                return Err(VerifyError::IncompleteBody {
                    reason: format!(
                        "the body holds {} bytes; x-amz-decoded-content-length says {expected}",
                        self.decoded
                    ),
                });
            }
        }
        self.state = if self.context.mode.has_trailer() { State::Trailer } else { State::FinalCrlf { seen: 0 } };
        Ok(())
    }

    fn check_chunk_signature(&mut self) -> Result<(), VerifyError> {
        let hash = std::mem::take(&mut self.hasher).finish_hex();
        let (string_to_sign, expected) = self.context.chunk_signature(&self.previous, &hash);
        let given = self.chunk_signature.take().unwrap_or_default();
        if !constant_time_eq(expected.as_str().as_bytes(), given.as_bytes()) {
            return Err(VerifyError::ChunkSignatureDoesNotMatch { chunk: self.chunks, string_to_sign });
        }
        self.previous = expected;
        Ok(())
    }

    fn trailer_line(&mut self, line: &[u8]) -> Result<(), VerifyError> {
        let bad = |reason: &str| VerifyError::MalformedTrailer { reason: reason.to_owned() };
        if line.is_empty() {
            if self.context.mode == StreamingMode::SignedWithTrailer {
                return Err(bad("the trailer has no x-amz-trailer-signature"));
            }
            self.state = State::Done;
            return Ok(());
        }
        let line = std::str::from_utf8(line).map_err(|_| bad("a trailer line is not UTF-8"))?;
        let (name, value) = line.split_once(':').ok_or_else(|| bad("trailer lines must be 'name:value'"))?;
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim().to_owned();
        if name != "x-amz-trailer-signature" {
            if self.trailers.len() == MAX_TRAILERS {
                return Err(bad("too many trailer lines"));
            }
            self.trailers.push((name, value));
            return Ok(());
        }
        if self.context.mode != StreamingMode::SignedWithTrailer {
            return Err(bad("x-amz-trailer-signature is only allowed with STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"));
        }
        let canonical: String = self.trailers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
        let (string_to_sign, expected) = self.context.trailer_signature(&self.previous, canonical.as_bytes());
        if !constant_time_eq(expected.as_str().as_bytes(), value.as_bytes()) {
            return Err(VerifyError::ChunkSignatureDoesNotMatch { chunk: self.chunks + 1, string_to_sign });
        }
        self.previous = expected;
        self.state = State::FinalCrlf { seen: 0 };
        Ok(())
    }
}
