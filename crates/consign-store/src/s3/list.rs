//! ListObjectsV2 (and the original ListObjects): prefix, delimiter,
//! max-keys, continuation token or marker, start-after, encoding-type.

use std::ops::Bound;

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use consign_sigv4::encoding::{Slash, uri_encode};

use super::auth::Caller;
use super::error::S3Error;
use super::request::S3Request;
use super::xml::XmlWriter;
use super::{iso_date, quoted, readable_bucket, xml_response};
use crate::Store;
use crate::storage::ObjectSummary;

/// The most keys one listing returns.
pub const MAX_KEYS: usize = 1000;

/// One entry of a listing page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// An object.
    Object(String, ObjectSummary),
    /// Keys rolled up under a common prefix (ending in the delimiter).
    CommonPrefix(String),
}

/// Where a page resumes: after a key, or after every key under a common
/// prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resume {
    /// Keys greater than this one.
    AfterKey(String),
    /// Keys greater than this one that do not start with it.
    AfterPrefix(String),
}

/// One page of a listing.
#[derive(Debug, Default)]
pub struct Page {
    /// Objects and common prefixes, in key order.
    pub entries: Vec<Entry>,
    /// Where the next page starts, when there is one.
    pub next: Option<Resume>,
}

/// Walks `index` as S3 lists: keys under `prefix`, rolled up at the first
/// `delimiter` after the prefix, at most `max_keys` entries, from `resume`.
pub fn page<'a>(
    index: impl Iterator<Item = (&'a String, &'a ObjectSummary)>,
    prefix: &str,
    delimiter: Option<&str>,
    max_keys: usize,
    resume: Option<&Resume>,
) -> Page {
    let mut page = Page::default();
    for (key, summary) in index {
        if !key.starts_with(prefix) {
            if key.as_str() > prefix {
                break;
            }
            continue;
        }
        match resume {
            Some(Resume::AfterKey(after)) if key <= after => continue,
            Some(Resume::AfterPrefix(after)) if key <= after || key.starts_with(after.as_str()) => continue,
            _ => {}
        }
        let rolled_up = delimiter
            .filter(|d| !d.is_empty())
            .and_then(|d| key[prefix.len()..].find(d).map(|at| key[..prefix.len() + at + d.len()].to_owned()));
        if let Some(common) = &rolled_up {
            if matches!(page.entries.last(), Some(Entry::CommonPrefix(last)) if last == common) {
                continue;
            }
        }
        if page.entries.len() == max_keys {
            page.next = page.entries.last().map(|last| match last {
                Entry::Object(key, _) => Resume::AfterKey(key.clone()),
                Entry::CommonPrefix(p) => Resume::AfterPrefix(p.clone()),
            });
            break;
        }
        page.entries.push(match rolled_up {
            Some(common) => Entry::CommonPrefix(common),
            None => Entry::Object(key.clone(), summary.clone()),
        });
    }
    page
}

fn encode_token(resume: &Resume) -> String {
    let (tag, value) = match resume {
        Resume::AfterKey(k) => ('k', k),
        Resume::AfterPrefix(p) => ('p', p),
    };
    URL_SAFE_NO_PAD.encode(format!("{tag}{value}"))
}

fn decode_token(token: &str) -> Result<Resume, S3Error> {
    let invalid =
        || S3Error::invalid_argument("continuation-token", token, "The continuation token provided is incorrect");
    let raw = URL_SAFE_NO_PAD.decode(token.trim()).map_err(|_| invalid())?;
    let text = String::from_utf8(raw).map_err(|_| invalid())?;
    let mut chars = text.chars();
    match chars.next() {
        Some('k') => Ok(Resume::AfterKey(chars.as_str().to_owned())),
        Some('p') => Ok(Resume::AfterPrefix(chars.as_str().to_owned())),
        _ => Err(invalid()),
    }
}

fn max_keys(request: &S3Request) -> Result<usize, S3Error> {
    match request.param("max-keys") {
        None => Ok(MAX_KEYS),
        Some(value) => value.trim().parse::<usize>().map(|n| n.min(MAX_KEYS)).map_err(|_| {
            S3Error::invalid_argument("max-keys", value, "Provided max-keys not an integer or within integer range")
        }),
    }
}

/// `GET /bucket?list-type=2` (ListObjectsV2) or `GET /bucket` (ListObjects).
pub fn list_objects(store: &Store, request: &S3Request, caller: &Caller<'_>) -> Result<Response, S3Error> {
    let bucket = readable_bucket(store, request, caller)?;
    let v2 = match request.param("list-type") {
        None => false,
        Some("2") => true,
        Some(other) => return Err(S3Error::invalid_argument("list-type", other, "list-type must be 2")),
    };
    let url_encoding = match request.param("encoding-type") {
        None => false,
        Some(e) if e.eq_ignore_ascii_case("url") => true,
        Some(other) => {
            return Err(S3Error::invalid_argument(
                "encoding-type",
                other,
                "Invalid Encoding Method specified in Request",
            ));
        }
    };
    let show = |text: &str| if url_encoding { uri_encode(text, Slash::Keep).into_owned() } else { text.to_owned() };
    let prefix = request.param("prefix").unwrap_or("");
    let delimiter = request.param("delimiter").filter(|d| !d.is_empty());
    let max = max_keys(request)?;
    let token = request.param("continuation-token");
    let start_after = request.param(if v2 { "start-after" } else { "marker" }).filter(|s| !s.is_empty());
    let resume = match (v2, token) {
        (true, Some(token)) => Some(decode_token(token)?),
        _ => start_after.map(|s| Resume::AfterKey(s.to_owned())),
    };
    let start = match &resume {
        Some(Resume::AfterKey(k) | Resume::AfterPrefix(k)) if k.as_str() > prefix => Bound::Included(k.clone()),
        _ => Bound::Included(prefix.to_owned()),
    };
    let page = bucket
        .with_index(|index| page(index.range((start, Bound::Unbounded)), prefix, delimiter, max, resume.as_ref()));

    let mut xml = XmlWriter::new();
    xml.root("ListBucketResult");
    xml.element("Name", bucket.name());
    xml.element("Prefix", &show(prefix));
    if let Some(d) = delimiter {
        xml.element("Delimiter", &show(d));
    }
    xml.element("MaxKeys", &max.to_string());
    if url_encoding {
        xml.element("EncodingType", "url");
    }
    xml.element("IsTruncated", if page.next.is_some() { "true" } else { "false" });
    if v2 {
        xml.element("KeyCount", &page.entries.len().to_string());
        if let Some(token) = token {
            xml.element("ContinuationToken", token);
        }
        if let Some(next) = &page.next {
            xml.element("NextContinuationToken", &encode_token(next));
        }
        if let Some(after) = start_after {
            xml.element("StartAfter", &show(after));
        }
    } else {
        xml.element("Marker", &show(start_after.unwrap_or("")));
        if let (Some(next), Some(_)) = (&page.next, delimiter) {
            let (Resume::AfterKey(marker) | Resume::AfterPrefix(marker)) = next;
            xml.element("NextMarker", &show(marker));
        }
    }
    for entry in &page.entries {
        match entry {
            Entry::Object(key, summary) => {
                xml.open("Contents");
                xml.element("Key", &show(key));
                xml.element("LastModified", &iso_date(summary.last_modified_ms));
                xml.element("ETag", &quoted(&summary.etag));
                xml.element("Size", &summary.size.to_string());
                xml.element("StorageClass", "STANDARD");
                if !v2 || request.param("fetch-owner") == Some("true") {
                    xml.person("Owner", &caller.key.id);
                }
                xml.close("Contents");
            }
            Entry::CommonPrefix(prefix) => {
                xml.open("CommonPrefixes");
                xml.element("Prefix", &show(prefix));
                xml.close("CommonPrefixes");
            }
        }
    }
    xml.close("ListBucketResult");
    Ok(xml_response(StatusCode::OK, xml.finish()))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn index(keys: &[&str]) -> BTreeMap<String, ObjectSummary> {
        keys.iter()
            .map(|k| ((*k).to_owned(), ObjectSummary { size: 1, etag: "e".into(), last_modified_ms: 0 }))
            .collect()
    }

    fn names(page: &Page) -> Vec<String> {
        page.entries
            .iter()
            .map(|e| match e {
                Entry::Object(k, _) => k.clone(),
                Entry::CommonPrefix(p) => format!("{p}*"),
            })
            .collect()
    }

    #[test]
    fn rolls_up_common_prefixes_and_pages_through_them() {
        let idx = index(&["a", "b/1", "b/2", "b/3", "c/x/1", "c/y", "d"]);
        let all = page(idx.iter(), "", Some("/"), 1000, None);
        assert_eq!(names(&all), ["a", "b/*", "c/*", "d"]);
        let first = page(idx.iter(), "", Some("/"), 2, None);
        assert_eq!(names(&first), ["a", "b/*"]);
        let second = page(idx.iter(), "", Some("/"), 2, first.next.as_ref());
        assert_eq!(names(&second), ["c/*", "d"]);
        assert!(second.next.is_none());
        let under_c = page(idx.iter(), "c/", Some("/"), 1000, None);
        assert_eq!(names(&under_c), ["c/x/*", "c/y"]);
    }

    #[test]
    fn honours_prefix_and_start_after() {
        let idx = index(&["a/1", "a/2", "ab", "b"]);
        let p = page(idx.iter(), "a/", None, 1000, Some(&Resume::AfterKey("a/1".into())));
        assert_eq!(names(&p), ["a/2"]);
        let p = page(idx.iter(), "", None, 0, None);
        assert!(p.entries.is_empty());
    }

    #[test]
    fn continuation_tokens_round_trip_and_reject_garbage() {
        for resume in [Resume::AfterKey("k/é".into()), Resume::AfterPrefix("p/".into())] {
            assert_eq!(decode_token(&encode_token(&resume)).unwrap(), resume);
        }
        assert_eq!(decode_token("!!").unwrap_err().code, "InvalidArgument");
        assert_eq!(decode_token(&URL_SAFE_NO_PAD.encode("x")).unwrap_err().code, "InvalidArgument");
    }
}
