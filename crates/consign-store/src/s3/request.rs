//! Which bucket and key a request names, path-style or virtual-hosted, and
//! its decoded query parameters.

use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use consign_sigv4::encoding::{percent_decode, query_decode};

use super::error::S3Error;

/// The longest key S3 accepts, in bytes of UTF-8.
pub const MAX_KEY_BYTES: usize = 1024;

/// A request as the operations see it.
#[derive(Debug)]
pub struct S3Request {
    /// The method.
    pub method: Method,
    /// The bucket, if the request names one.
    pub bucket: Option<String>,
    /// The key, if the request names an object.
    pub key: Option<String>,
    /// Query parameters, decoded, in the order sent.
    pub query: Vec<(String, String)>,
    /// The headers.
    pub headers: HeaderMap,
    /// The ID sent back as `x-amz-request-id` and in error bodies.
    pub request_id: String,
}

impl S3Request {
    /// Reads the target of `parts`. Hosts ending in one of
    /// `virtual_host_suffixes` name the bucket in the host.
    ///
    /// # Errors
    /// `InvalidURI` for undecodable paths or queries, `KeyTooLongError`.
    pub fn from_parts(parts: &Parts, virtual_host_suffixes: &[String], request_id: String) -> Result<Self, S3Error> {
        let invalid_uri = |what: &str| {
            S3Error::new(
                "InvalidURI",
                axum::http::StatusCode::BAD_REQUEST,
                format!("Couldn't parse the specified URI: {what}"),
            )
        };
        let path = parts.uri.path();
        let decoded = percent_decode(path).map_err(|e| invalid_uri(&e.to_string()))?;
        let decoded = String::from_utf8(decoded.into_owned()).map_err(|_| invalid_uri("the path is not UTF-8"))?;
        let path = decoded.strip_prefix('/').unwrap_or(&decoded);

        let host_bucket = parts
            .headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .and_then(|host| virtual_host_bucket(host, virtual_host_suffixes));
        let (bucket, key) = match host_bucket {
            Some(bucket) => (Some(bucket), path),
            None => match path.split_once('/') {
                Some((bucket, key)) => (Some(bucket.to_owned()), key),
                None if path.is_empty() => (None, ""),
                None => (Some(path.to_owned()), ""),
            },
        };
        if key.len() > MAX_KEY_BYTES {
            return Err(S3Error::new(
                "KeyTooLongError",
                axum::http::StatusCode::BAD_REQUEST,
                format!("Your key is too long: {} bytes; the limit is {MAX_KEY_BYTES}", key.len()),
            ));
        }
        let key = (!key.is_empty()).then(|| key.to_owned());

        let mut query = Vec::new();
        for param in parts.uri.query().unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (name, value) = param.split_once('=').unwrap_or((param, ""));
            let decode = |s: &str| {
                query_decode(s)
                    .map_err(|e| invalid_uri(&e.to_string()))
                    .and_then(|b| String::from_utf8(b.into_owned()).map_err(|_| invalid_uri("the query is not UTF-8")))
            };
            query.push((decode(name)?, decode(value)?));
        }
        Ok(Self { method: parts.method.clone(), bucket, key, query, headers: parts.headers.clone(), request_id })
    }

    /// The value of query parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Whether the query has parameter `name` (with or without a value).
    pub fn has_param(&self, name: &str) -> bool {
        self.query.iter().any(|(n, _)| n == name)
    }

    /// The header `name` as text, if present and readable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
    }

    /// The bucket, or `InvalidRequest` for a request that needs one.
    ///
    /// # Errors
    /// When the request names no bucket.
    pub fn require_bucket(&self) -> Result<&str, S3Error> {
        self.bucket.as_deref().ok_or_else(|| S3Error::invalid_request("this operation needs a bucket"))
    }
}

/// `bucket` when `host` (with or without port) is `bucket.<suffix>`.
fn virtual_host_bucket(host: &str, suffixes: &[String]) -> Option<String> {
    let host =
        host.rsplit_once(':').filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit())).map_or(host, |(h, _)| h);
    suffixes.iter().find_map(|suffix| {
        host.strip_suffix(suffix.as_str())
            .and_then(|rest| rest.strip_suffix('.'))
            .filter(|bucket| !bucket.is_empty())
            .map(str::to_owned)
    })
}

/// Checks a name for CreateBucket against S3's rules.
///
/// # Errors
/// `InvalidBucketName` saying which rule is broken.
pub fn validate_bucket_name(name: &str) -> Result<(), S3Error> {
    let fail = |rule: &str| {
        Err(S3Error::new(
            "InvalidBucketName",
            axum::http::StatusCode::BAD_REQUEST,
            format!("The specified bucket is not valid: {rule}"),
        )
        .with("BucketName", name.chars().take(128).collect::<String>()))
    };
    if !(3..=63).contains(&name.len()) {
        return fail("bucket names are 3 to 63 characters long");
    }
    if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.') {
        return fail("bucket names use only lower-case letters, digits, '-' and '.'");
    }
    let first_last = [name.as_bytes()[0], name.as_bytes()[name.len() - 1]];
    if !first_last.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
        return fail("bucket names begin and end with a letter or digit");
    }
    if name.contains("..") {
        return fail("bucket names have no two adjacent periods");
    }
    if name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok()) {
        return fail("bucket names are not IP addresses");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(host: &str, target: &str) -> Result<S3Request, S3Error> {
        let (parts, ()) =
            axum::http::Request::builder().uri(target).header("host", host).body(()).unwrap().into_parts();
        S3Request::from_parts(&parts, &["localhost".to_owned()], "id".to_owned())
    }

    #[test]
    fn reads_path_style_and_virtual_hosted_targets() {
        let r = request("127.0.0.1:9000", "/b/a%20b/../c%2F?list-type=2&prefix=x+y&uploads").unwrap();
        assert_eq!((r.bucket.as_deref(), r.key.as_deref()), (Some("b"), Some("a b/../c/")));
        assert_eq!(r.param("prefix"), Some("x y"));
        assert!(r.has_param("uploads"));
        let r = request("b.localhost:9000", "/k").unwrap();
        assert_eq!((r.bucket.as_deref(), r.key.as_deref()), (Some("b"), Some("k")));
        let r = request("127.0.0.1", "/").unwrap();
        assert_eq!((r.bucket, r.key), (None, None));
        let r = request("127.0.0.1", "/b/").unwrap();
        assert_eq!((r.bucket.as_deref(), r.key), (Some("b"), None));
    }

    #[test]
    fn refuses_bad_targets() {
        assert_eq!(request("h", "/b/%zz").unwrap_err().code, "InvalidURI");
        assert_eq!(request("h", "/b/%ff").unwrap_err().code, "InvalidURI");
        assert_eq!(request("h", &format!("/b/{}", "k".repeat(1025))).unwrap_err().code, "KeyTooLongError");
        assert!(request("h", &format!("/b/{}", "k".repeat(1024))).is_ok());
    }

    #[test]
    fn bucket_names_follow_s3_rules() {
        for good in ["abc", "my-bucket.2", "a".repeat(63).as_str()] {
            assert!(validate_bucket_name(good).is_ok(), "{good}");
        }
        for bad in ["ab", "Abc", "a_b", "-ab", "ab-", "a..b", "192.168.1.1", &"a".repeat(64), "a b"] {
            assert_eq!(validate_bucket_name(bad).unwrap_err().code, "InvalidBucketName", "{bad}");
        }
    }
}
