//! `ChunkedDecoder` fed arbitrary bytes split at arbitrary points, in each
//! `StreamingMode`; and a round trip through `ChunkEncoder`, which must
//! give back exactly the data, however the encoded body is split.
#![no_main]

use consign_sigv4::{
    AmzDate, ChunkEncoder, ChunkedDecoder, CredentialScope, Decoded, SecretKey, SigningKey, StreamingContext,
    StreamingMode, sha256_hex,
};
use libfuzzer_sys::fuzz_target;

const MODES: [StreamingMode; 3] =
    [StreamingMode::Signed, StreamingMode::SignedWithTrailer, StreamingMode::UnsignedWithTrailer];

fn context(mode: StreamingMode) -> StreamingContext {
    let time = AmzDate::parse("20240531T160837Z").unwrap_or_else(|_| unreachable!());
    let scope = CredentialScope { date: "20240531", region: "us-east-1", service: "s3" };
    let key = SigningKey::derive(&SecretKey::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), &scope);
    StreamingContext::new(mode, key, time, &scope, sha256_hex(b"seed signature"))
}

/// Feeds `body` in pieces whose sizes come from `splits`; returns the data
/// released, or `None` on the first error.
fn decode(decoder: &mut ChunkedDecoder, body: &[u8], splits: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = body;
    let mut split = splits.iter().cycle();
    while !rest.is_empty() {
        let size = split.next().map_or(rest.len(), |s| usize::from(*s) % 97 + 1).min(rest.len());
        let (mut piece, tail) = rest.split_at(size);
        rest = tail;
        // Each call either consumes bytes, or answers NeedMore/End.
        for _ in 0..=piece.len() + 1 {
            let (used, decoded) = decoder.decode(piece).ok()?;
            assert!(used <= piece.len());
            match decoded {
                Decoded::Data(data) => out.extend_from_slice(data),
                Decoded::NeedMore => assert_eq!(used, piece.len(), "NeedMore with bytes left"),
                Decoded::End => {}
            }
            piece = &piece[used..];
            if piece.is_empty() || matches!(decoded, Decoded::End) {
                break;
            }
            assert!(used > 0, "no progress");
        }
    }
    decoder.finish().ok()?;
    Some(out)
}

fuzz_target!(|input: &[u8]| {
    let Some((&control, rest)) = input.split_first() else { return };
    let mode = MODES[usize::from(control % 3)];
    let (splits, body) = rest.split_at(rest.len().min(usize::from(control >> 2) % 8));

    // Arbitrary bytes: errors are fine, panics are not.
    let declared = (control & 0x80 != 0).then_some(body.len() as u64 / 2);
    let _ = decode(&mut ChunkedDecoder::new(context(mode), declared), body, splits);

    // A body our encoder wrote must decode to exactly its data.
    let mut encoder = ChunkEncoder::new(context(mode));
    let mut encoded = Vec::new();
    if !body.is_empty() {
        encoded.extend_from_slice(&encoder.chunk(body));
    }
    encoded.extend_from_slice(&encoder.finish(&[("x-amz-checksum-crc32c", "sOO8/Q==")]));
    let decoded = decode(&mut ChunkedDecoder::new(context(mode), Some(body.len() as u64)), &encoded, splits);
    assert_eq!(decoded.as_deref(), Some(body), "round trip failed in {mode:?}");
});
