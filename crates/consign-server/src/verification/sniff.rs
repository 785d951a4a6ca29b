//! What the first bytes of a file say it is (magic numbers), and whether
//! that agrees with what the client declared.

use super::{Rejection, RejectionKind};
use crate::config::Profile;

/// How many leading bytes are read to decide.
pub const SNIFF_BYTES: u64 = 4096;

/// The type the first bytes show, if they show one.
pub fn detect(prefix: &[u8]) -> Option<&'static str> {
    if let Some(kind) = infer::get(prefix) {
        return Some(kind.mime_type());
    }
    markup(prefix)
}

/// HTML and SVG that `infer` misses (leading whitespace, a BOM, upper case).
fn markup(prefix: &[u8]) -> Option<&'static str> {
    let text = prefix.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(prefix);
    let start = text.iter().position(|b| !b.is_ascii_whitespace())?;
    let head: Vec<u8> = text[start..].iter().take(512).map(u8::to_ascii_lowercase).collect();
    const HTML: [&[u8]; 8] =
        [b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<iframe", b"<meta", b"<!--"];
    if HTML.iter().any(|tag| head.starts_with(tag)) {
        return Some("text/html");
    }
    if head.starts_with(b"<svg") || (head.starts_with(b"<?xml") && head.windows(4).any(|w| w == b"<svg")) {
        return Some("image/svg+xml");
    }
    None
}

/// The canonical name of a type that has several.
fn canonical(content_type: &str) -> &str {
    match content_type {
        "image/jpg" | "image/pjpeg" => "image/jpeg",
        "image/x-png" => "image/png",
        "image/x-icon" => "image/vnd.microsoft.icon",
        "audio/mp3" | "audio/x-mpeg" => "audio/mpeg",
        "audio/wav" | "audio/wave" => "audio/x-wav",
        "audio/flac" => "audio/x-flac",
        "application/x-zip-compressed" | "application/x-zip" => "application/zip",
        "application/xml" => "text/xml",
        "application/x-gzip" => "application/gzip",
        "video/x-matroska" | "video/mkv" => "video/x-matroska",
        other => other,
    }
}

/// Formats that are zip archives inside (`infer` may see either).
fn is_zip_container(content_type: &str) -> bool {
    content_type.contains("openxmlformats")
        || content_type.contains("opendocument")
        || content_type.ends_with("+zip")
        || content_type == "application/java-archive"
}

/// Checks `prefix` against the declared type and the profile; returns the
/// detected type, or a reason for people.
///
/// # Errors
/// Why the content is refused: it is another type than declared, a type
/// the profile does not allow, or not the declared type at all.
pub fn check(declared: &str, prefix: &[u8], profile: &Profile) -> Result<Option<&'static str>, Rejection> {
    let mismatch = |reason: String| Rejection::new(RejectionKind::TypeMismatch, reason);
    let detected = detect(prefix);
    let declared_canonical = canonical(declared);
    match detected {
        Some(found) => {
            let agrees = declared == "application/octet-stream"
                || canonical(found) == declared_canonical
                || (found == "application/zip" && is_zip_container(declared))
                || (found == "text/xml" && declared_canonical == "image/svg+xml");
            if !agrees {
                return Err(mismatch(format!("the file was declared as {declared} but its content is {found}")));
            }
            if !profile.allows_type(found) && !profile.allows_type(declared) {
                let reason = format!("{found} is not allowed here: expected {}", profile.allowed_types());
                return Err(Rejection::new(RejectionKind::TypeNotAllowed, reason));
            }
            Ok(Some(found))
        }
        None if infer::is_mime_supported(declared_canonical) && declared_canonical != "application/octet-stream" => {
            Err(mismatch(format!(
                "the file was declared as {declared} but its first bytes are not those of a {declared} file"
            )))
        }
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ProfileFile;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0\0\x10JFIF\0";

    fn images() -> Profile {
        ProfileFile::new(&["image/*"], 1 << 20).build("images").unwrap()
    }

    #[test]
    fn agreeing_types_pass() {
        assert_eq!(check("image/png", PNG, &images()), Ok(Some("image/png")));
        assert_eq!(check("image/jpg", JPEG, &images()), Ok(Some("image/jpeg")));
    }

    #[test]
    fn html_declared_as_png_is_refused() {
        let error = check("image/png", b"  <!DOCTYPE html><script>alert(1)</script>", &images()).unwrap_err().reason;
        assert_eq!(error, "the file was declared as image/png but its content is text/html");
        let error = check("image/png", b"just some text", &images()).unwrap_err().reason;
        assert!(error.contains("first bytes are not those of a image/png"), "{error}");
        let error = check("image/jpeg", PNG, &images()).unwrap_err().reason;
        assert!(error.contains("its content is image/png"), "{error}");
    }

    #[test]
    fn types_without_magic_pass_unless_they_look_like_markup() {
        let any = ProfileFile::new(&["*/*"], 1 << 20).build("any").unwrap();
        assert_eq!(check("text/plain", b"hello", &any), Ok(None));
        assert_eq!(check("text/csv", b"a,b\n1,2", &any), Ok(None));
        assert!(check("text/plain", b"<html><body>", &any).is_err());
    }
}
