//! Where a bucket lives: scheme, host and addressing style.

use std::borrow::Cow;

use crate::error::SignError;

/// How the bucket is named in a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressing {
    /// `https://host/bucket/key`: works with every S3-compatible store.
    Path,
    /// `https://bucket.host/key`: AWS's default. Buckets whose names are
    /// not valid DNS labels fall back to path style, as the AWS SDKs do.
    VirtualHosted,
}

/// An S3 endpoint such as `https://s3.eu-west-1.amazonaws.com` or
/// `http://127.0.0.1:9000`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    scheme: &'static str,
    /// Host, with the port when it is not the scheme's default.
    host: String,
    addressing: Addressing,
}

impl Endpoint {
    /// Reads `http(s)://host[:port][/]`. Hosts under `amazonaws.com` get
    /// virtual-hosted addressing; any other host gets path style, which is
    /// what local and self-hosted stores expect. [`Self::with_addressing`]
    /// changes that.
    ///
    /// # Errors
    /// [`SignError::InvalidEndpoint`] for another scheme, a path, a query,
    /// user information or an empty host.
    pub fn parse(url: &str) -> Result<Self, SignError> {
        let bad = |reason: &str| SignError::InvalidEndpoint { reason: format!("{url:?}: {reason}") };
        let (scheme, rest) = if let Some(rest) = url.strip_prefix("https://") {
            ("https", rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            ("http", rest)
        } else {
            return Err(bad("must start with http:// or https://"));
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.is_empty() {
            return Err(bad("has no host"));
        }
        if authority.contains(['/', '?', '#', '@'])
            || authority.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        {
            return Err(bad("must be only scheme, host and port (no path, query or user)"));
        }
        let default_port = if scheme == "https" { ":443" } else { ":80" };
        let host = authority.strip_suffix(default_port).unwrap_or(authority).to_ascii_lowercase();
        let addressing = if host.ends_with(".amazonaws.com") { Addressing::VirtualHosted } else { Addressing::Path };
        Ok(Self { scheme, host, addressing })
    }

    /// This endpoint with another addressing style.
    pub fn with_addressing(mut self, addressing: Addressing) -> Self {
        self.addressing = addressing;
        self
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &'static str {
        self.scheme
    }

    /// The host (and non-default port).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The addressing style asked for.
    pub fn addressing(&self) -> Addressing {
        self.addressing
    }

    fn virtual_hosted(&self, bucket: &str) -> bool {
        self.addressing == Addressing::VirtualHosted && is_dns_compatible(bucket)
    }

    /// The `host` header for a request to `bucket`.
    pub fn host_for(&self, bucket: &str) -> Cow<'_, str> {
        if self.virtual_hosted(bucket) {
            Cow::Owned(format!("{bucket}.{}", self.host))
        } else {
            Cow::Borrowed(&self.host)
        }
    }

    /// The bucket when it goes in the path, `None` when it is in the host.
    pub fn bucket_in_path<'b>(&self, bucket: &'b str) -> Option<&'b str> {
        (!self.virtual_hosted(bucket)).then_some(bucket)
    }
}

/// Whether `bucket` can be a DNS label of a virtual host (and of a TLS
/// wildcard certificate: no dots).
fn is_dns_compatible(bucket: &str) -> bool {
    (3..=63).contains(&bucket.len())
        && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !bucket.starts_with('-')
        && !bucket.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_endpoints_and_drops_default_ports() {
        let e = Endpoint::parse("https://s3.eu-west-1.amazonaws.com:443/").unwrap();
        assert_eq!(
            (e.scheme(), e.host(), e.addressing()),
            ("https", "s3.eu-west-1.amazonaws.com", Addressing::VirtualHosted)
        );
        let e = Endpoint::parse("http://127.0.0.1:9000").unwrap();
        assert_eq!((e.host(), e.addressing()), ("127.0.0.1:9000", Addressing::Path));
    }

    #[test]
    fn rejects_what_is_not_an_endpoint() {
        for bad in ["ftp://x", "https://", "http://h/path", "http://u@h", "h:9000", "http://h?x", "http://a b"] {
            assert!(Endpoint::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn virtual_hosting_falls_back_to_path_style_for_non_dns_buckets() {
        let e = Endpoint::parse("https://s3.amazonaws.com").unwrap();
        assert_eq!(e.host_for("my-bucket"), "my-bucket.s3.amazonaws.com");
        assert_eq!(e.bucket_in_path("my-bucket"), None);
        assert_eq!(e.host_for("My_Bucket"), "s3.amazonaws.com");
        assert_eq!(e.bucket_in_path("my.bucket"), Some("my.bucket"));
    }
}
