//! The credential scope: `date/region/service/aws4_request`.

use std::fmt;

/// Which date, region and service a signature is valid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialScope<'a> {
    /// `YYYYMMDD`, the UTC date of the request.
    pub date: &'a str,
    /// The region, such as `us-east-1`.
    pub region: &'a str,
    /// The service, `s3` for object storage.
    pub service: &'a str,
}

/// The fixed last element of every SigV4 credential scope.
pub const TERMINATOR: &str = "aws4_request";

impl fmt::Display for CredentialScope<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}/{TERMINATOR}", self.date, self.region, self.service)
    }
}

impl<'a> CredentialScope<'a> {
    /// Appends the scope to `out` without going through `fmt`.
    pub(crate) fn write_to(&self, out: &mut String) {
        for part in self.parts() {
            out.push_str(part);
        }
    }

    /// The pieces that, concatenated, make the scope.
    pub(crate) fn parts(&self) -> [&'a str; 7] {
        [self.date, "/", self.region, "/", self.service, "/", TERMINATOR]
    }
}
