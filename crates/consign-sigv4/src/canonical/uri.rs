//! The canonical URI: the second line of a canonical request.

use crate::encoding::{
    BadPercentEncoding, Slash, is_canonical_encoding, percent_decode, uri_encode_into, uri_encode_str_into,
};

/// How the path of a request becomes its canonical URI.
///
/// S3 and every other service disagree here, and getting it wrong is a
/// classic source of `SignatureDoesNotMatch` on keys with spaces or `%`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UriEncoding {
    /// S3: the path is decoded and encoded once with `UriEncode` (keeping
    /// `/`); `.` and `..` segments and `//` are kept as they are, because
    /// they are part of the object key.
    #[default]
    S3,
    /// Every other service: dot segments are resolved and repeated slashes
    /// merged, then the (already encoded) path is encoded a second time.
    Normalized,
}

/// Appends the canonical URI of an S3 object to `out`: `/bucket/key` for
/// path-style requests, `/key` for virtual-hosted ones.
pub fn push_object_path(out: &mut String, bucket_in_path: Option<&str>, key: &str) {
    out.push('/');
    if let Some(bucket) = bucket_in_path {
        uri_encode_str_into(out, bucket, Slash::Keep);
        if !key.is_empty() {
            out.push('/');
        }
    }
    uri_encode_str_into(out, key, Slash::Keep);
}

/// Appends the canonical URI of a path as it appeared on the wire.
///
/// # Errors
/// With [`UriEncoding::S3`], a path holding a `%` that is not an escape.
pub fn push_wire_path(out: &mut String, path: &str, encoding: UriEncoding) -> Result<(), BadPercentEncoding> {
    match encoding {
        // A path already in canonical form (what signers send) decodes and
        // encodes back to itself.
        UriEncoding::S3 if is_canonical_encoding(path, Slash::Keep) => {
            if !path.starts_with('/') {
                out.push('/');
            }
            out.push_str(path);
        }
        UriEncoding::S3 => {
            let decoded = percent_decode(path)?;
            if !decoded.starts_with(b"/") {
                out.push('/');
            }
            uri_encode_into(out, &decoded, Slash::Keep);
        }
        UriEncoding::Normalized => {
            let normalized = normalize_path(path);
            uri_encode_str_into(out, &normalized, Slash::Keep);
        }
    }
    Ok(())
}

/// Resolves `.` and `..` segments and merges repeated slashes (RFC 3986
/// section 5.2.4, as the generic SigV4 rules apply it). A trailing slash
/// is kept.
fn normalize_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    let trailing = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..");
    let mut out = String::with_capacity(path.len() + 1);
    for segment in &segments {
        out.push('/');
        out.push_str(segment);
    }
    if out.is_empty() || trailing {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(path: &str, encoding: UriEncoding) -> String {
        let mut out = String::new();
        push_wire_path(&mut out, path, encoding).unwrap();
        out
    }

    #[test]
    fn s3_paths_are_encoded_once_and_never_normalized() {
        assert_eq!(wire("/test$file.text", UriEncoding::S3), "/test%24file.text");
        assert_eq!(wire("/b/a%20b", UriEncoding::S3), "/b/a%20b");
        assert_eq!(wire("/b/a b", UriEncoding::S3), "/b/a%20b");
        assert_eq!(wire("/b/../x//y/./", UriEncoding::S3), "/b/../x//y/./");
        assert_eq!(wire("", UriEncoding::S3), "/");
    }

    #[test]
    fn generic_paths_are_normalized_and_encoded_twice() {
        assert_eq!(wire("/example/..", UriEncoding::Normalized), "/");
        assert_eq!(wire("//example//", UriEncoding::Normalized), "/example/");
        assert_eq!(wire("/./example", UriEncoding::Normalized), "/example");
        assert_eq!(wire("/a%20b", UriEncoding::Normalized), "/a%2520b");
    }

    #[test]
    fn object_paths_encode_every_byte_of_a_utf8_key() {
        let mut out = String::new();
        push_object_path(&mut out, Some("bucket"), "photos/été 😀/a+b.png");
        assert_eq!(out, "/bucket/photos/%C3%A9t%C3%A9%20%F0%9F%98%80/a%2Bb.png");
        out.clear();
        push_object_path(&mut out, None, "");
        assert_eq!(out, "/");
    }
}
