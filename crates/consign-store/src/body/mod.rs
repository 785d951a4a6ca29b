//! Receiving a request body: decode aws-chunked framing (checking each
//! chunk's signature before its bytes are kept), enforce the size limit as
//! the bytes arrive, and check every digest the client declared before the
//! object can become visible.

pub mod checksum;

use std::time::Duration;

use axum::body::Body;
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use consign_sigv4::{ChunkedDecoder, Decoded, PayloadCheck, VerifyError};
use futures_util::StreamExt;

use crate::s3::error::S3Error;
use crate::s3::request::S3Request;
use crate::storage::Storage;
use crate::storage::writer::{FinishedObject, PendingObject};
use checksum::{ChecksumAlgorithm, is_base64_of_len};

/// Where the additional checksum of an upload comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeclaredChecksum {
    /// Given in a header; must match.
    Header(ChecksumAlgorithm, String),
    /// Announced in `x-amz-trailer`; must arrive in the trailer and match.
    Trailer(ChecksumAlgorithm),
    /// Asked for (`x-amz-checksum-algorithm`) without a value: computed and
    /// stored.
    Compute(ChecksumAlgorithm),
}

impl DeclaredChecksum {
    /// The algorithm.
    pub fn algorithm(&self) -> ChecksumAlgorithm {
        match self {
            Self::Header(a, _) | Self::Trailer(a) | Self::Compute(a) => *a,
        }
    }
}

/// What the body must satisfy.
#[derive(Debug)]
pub struct Expectations {
    /// What signature verification left to check.
    pub payload: PayloadCheck,
    /// `x-amz-decoded-content-length`, for aws-chunked bodies.
    pub decoded_length: Option<u64>,
    /// `Content-MD5`, decoded.
    pub content_md5: Option<[u8; 16]>,
    /// The additional checksum.
    pub checksum: Option<DeclaredChecksum>,
    /// Bytes allowed at most.
    pub max_size: u64,
    /// Bytes required at least (POST policies).
    pub min_size: u64,
    /// The longest wait for the next piece of the body.
    pub idle_timeout: Duration,
}

/// 400 `EntityTooLarge`.
pub fn too_large(max: u64) -> S3Error {
    S3Error::new("EntityTooLarge", StatusCode::BAD_REQUEST, "Your proposed upload exceeds the maximum allowed size")
        .with("MaxSizeAllowed", max.to_string())
}

impl Expectations {
    /// Reads the digest headers of `request`.
    ///
    /// # Errors
    /// `InvalidDigest` for a malformed `Content-MD5`; `InvalidRequest` for a
    /// malformed or repeated checksum; `EntityTooLarge` when the declared
    /// length already exceeds `max_size`.
    pub fn from_request(
        request: &S3Request,
        payload: PayloadCheck,
        max_size: u64,
        idle_timeout: Duration,
    ) -> Result<Self, S3Error> {
        let content_md5 = match request.header("content-md5") {
            None => None,
            Some(value) => {
                let raw = STANDARD.decode(value.trim()).ok().filter(|raw| raw.len() == 16).ok_or_else(|| {
                    S3Error::new("InvalidDigest", StatusCode::BAD_REQUEST, "The Content-MD5 you specified was invalid.")
                        .with("Content-MD5", value)
                })?;
                let mut md5 = [0u8; 16];
                md5.copy_from_slice(&raw);
                Some(md5)
            }
        };
        let mut checksum = None;
        for algorithm in ChecksumAlgorithm::ALL {
            if let Some(value) = request.header(algorithm.header()) {
                if checksum.is_some() {
                    return Err(S3Error::invalid_request(
                        "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
                    ));
                }
                if !is_base64_of_len(value, algorithm.digest_len()) {
                    return Err(S3Error::invalid_request(format!(
                        "Value for {} header is invalid: expected the base64 of {} bytes",
                        algorithm.header(),
                        algorithm.digest_len()
                    )));
                }
                checksum = Some(DeclaredChecksum::Header(algorithm, value.trim().to_owned()));
            }
        }
        if let Some(trailer) = request.header("x-amz-trailer") {
            let algorithm = ChecksumAlgorithm::from_header(trailer).ok_or_else(|| {
                S3Error::invalid_request(format!(
                    "x-amz-trailer names {trailer:?}; only x-amz-checksum-* trailers are supported"
                ))
            })?;
            if !matches!(payload, PayloadCheck::Streaming(_)) {
                return Err(S3Error::invalid_request(
                    "x-amz-trailer requires an aws-chunked body (a STREAMING-* x-amz-content-sha256)",
                ));
            }
            if checksum.is_some() {
                return Err(S3Error::invalid_request(
                    "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
                ));
            }
            checksum = Some(DeclaredChecksum::Trailer(algorithm));
        }
        if checksum.is_none() {
            let asked =
                request.header("x-amz-sdk-checksum-algorithm").or_else(|| request.header("x-amz-checksum-algorithm"));
            if let Some(name) = asked {
                let algorithm = ChecksumAlgorithm::from_name(name).ok_or_else(|| {
                    S3Error::invalid_argument("x-amz-checksum-algorithm", name, "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
                })?;
                checksum = Some(DeclaredChecksum::Compute(algorithm));
            }
        }
        let decoded_length = match request.header("x-amz-decoded-content-length") {
            None => None,
            Some(v) => Some(v.trim().parse::<u64>().map_err(|_| {
                S3Error::invalid_argument(
                    "x-amz-decoded-content-length",
                    v,
                    "x-amz-decoded-content-length must be a whole number of bytes",
                )
            })?),
        };
        let declared = match payload {
            PayloadCheck::Streaming(_) => decoded_length,
            _ => request.header("content-length").and_then(|v| v.trim().parse::<u64>().ok()),
        };
        if declared.is_some_and(|len| len > max_size) {
            return Err(too_large(max_size));
        }
        Ok(Self { payload, decoded_length, content_md5, checksum, max_size, min_size: 0, idle_timeout })
    }
}

/// A received body: the unpublished file, and the checksum to store.
pub struct Received {
    /// The written file with its digests.
    pub object: FinishedObject,
    /// The additional checksum, verified, to store with the object.
    pub checksum: Option<(ChecksumAlgorithm, String)>,
}

fn incomplete(error: impl std::fmt::Display) -> S3Error {
    S3Error::new(
        "IncompleteBody",
        StatusCode::BAD_REQUEST,
        format!("You did not provide the number of bytes specified by the Content-Length HTTP header ({error})"),
    )
}

/// Streams `body` into a temporary file in `storage`, checking everything
/// `expect` says. Nothing is visible until the caller commits the result.
///
/// # Errors
/// `IncompleteBody`, `EntityTooLarge`, `EntityTooSmall`, `BadDigest`,
/// `XAmzContentSHA256Mismatch`, and the aws-chunked errors.
pub async fn receive(body: Body, expect: Expectations, storage: &Storage) -> Result<Received, S3Error> {
    receive_stream(body.into_data_stream(), expect, storage).await
}

/// As [`receive`], from any stream of byte pieces (a POST form's file field).
///
/// # Errors
/// As [`receive`].
pub async fn receive_stream<E: std::fmt::Display>(
    stream: impl futures_util::Stream<Item = Result<bytes::Bytes, E>>,
    expect: Expectations,
    storage: &Storage,
) -> Result<Received, S3Error> {
    let checksum_algorithms: Vec<ChecksumAlgorithm> = expect.checksum.iter().map(DeclaredChecksum::algorithm).collect();
    let want_sha256 = matches!(expect.payload, PayloadCheck::Sha256(_));
    let mut pending =
        PendingObject::create(storage, want_sha256, &checksum_algorithms).map_err(|e| S3Error::internal(&e))?;
    let mut decoder = match &expect.payload {
        PayloadCheck::Streaming(context) => Some(ChunkedDecoder::new((**context).clone(), expect.decoded_length)),
        _ => None,
    };
    let mut stream = std::pin::pin!(stream);
    loop {
        let next = tokio::time::timeout(expect.idle_timeout, stream.next()).await.map_err(|_| {
            S3Error::new(
                "RequestTimeout",
                StatusCode::BAD_REQUEST,
                "Your socket connection to the server was not read from or written to within the timeout period.",
            )
        })?;
        let Some(frame) = next else { break };
        let bytes = frame.map_err(incomplete)?;
        match decoder.as_mut() {
            None => write_checked(&mut pending, &bytes, expect.max_size).await?,
            Some(decoder) => {
                let mut input = &bytes[..];
                loop {
                    let (used, event) = decoder.decode(input).map_err(S3Error::from)?;
                    let data = match event {
                        Decoded::Data(data) => data,
                        Decoded::NeedMore | Decoded::End => break,
                    };
                    write_checked(&mut pending, data, expect.max_size).await?;
                    input = &input[used..];
                }
            }
        }
    }
    let mut trailer_value = None;
    if let Some(decoder) = &decoder {
        decoder.finish().map_err(S3Error::from)?;
        if let Some(DeclaredChecksum::Trailer(algorithm)) = &expect.checksum {
            trailer_value = decoder.trailers().iter().find(|(n, _)| n == algorithm.header()).map(|(_, v)| v.clone());
            if trailer_value.is_none() {
                return Err(S3Error::from(VerifyError::MalformedTrailer {
                    reason: format!("x-amz-trailer announced {} but the trailer does not carry it", algorithm.header()),
                }));
            }
        }
    }
    if pending.len() < expect.min_size {
        return Err(S3Error::new(
            "EntityTooSmall",
            StatusCode::BAD_REQUEST,
            "Your proposed upload is smaller than the minimum allowed size",
        )
        .with("MinSizeAllowed", expect.min_size.to_string()));
    }
    let object = pending.finish().await.map_err(|e| S3Error::internal(&e))?;
    let digests = &object.digests;

    if let (PayloadCheck::Sha256(expected), Some(computed)) = (&expect.payload, &digests.sha256_hex) {
        if expected != computed {
            return Err(S3Error::new(
                "XAmzContentSHA256Mismatch",
                StatusCode::BAD_REQUEST,
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            )
            .with("ClientComputedContentSHA256", expected.clone())
            .with("S3ComputedContentSHA256", computed.clone()));
        }
    }
    if let Some(md5) = expect.content_md5 {
        if md5 != digests.md5 {
            return Err(S3Error::new(
                "BadDigest",
                StatusCode::BAD_REQUEST,
                "The Content-MD5 you specified did not match what we received.",
            )
            .with("ExpectedDigest", STANDARD.encode(md5))
            .with("CalculatedDigest", STANDARD.encode(digests.md5)));
        }
    }
    let mut checksum = None;
    if let Some(declared) = &expect.checksum {
        let algorithm = declared.algorithm();
        let computed =
            digests.checksums.iter().find(|(a, _)| *a == algorithm).map(|(_, v)| v.clone()).unwrap_or_default();
        let given = match declared {
            DeclaredChecksum::Header(_, value) => Some(value.clone()),
            DeclaredChecksum::Trailer(_) => trailer_value,
            DeclaredChecksum::Compute(_) => None,
        };
        if let Some(given) = given {
            if given.trim() != computed {
                return Err(S3Error::new(
                    "BadDigest",
                    StatusCode::BAD_REQUEST,
                    format!("The {} you specified did not match the calculated checksum.", algorithm.name()),
                ));
            }
        }
        checksum = Some((algorithm, computed));
    }
    Ok(Received { object, checksum })
}

async fn write_checked(pending: &mut PendingObject, data: &[u8], max: u64) -> Result<(), S3Error> {
    if pending.len() + data.len() as u64 > max {
        return Err(too_large(max));
    }
    pending.write(data).await.map_err(|e| S3Error::internal(&e))
}
