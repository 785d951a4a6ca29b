//! `AKID/YYYYMMDD/region/service/aws4_request`, as every SigV4 form
//! carries it.

use crate::error::{AuthLocation, VerifyError};
use crate::scope::{CredentialScope, TERMINATOR};

/// A parsed credential: the access key ID and the scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The access key ID.
    pub access_key_id: String,
    /// `YYYYMMDD`.
    pub date: String,
    /// The region.
    pub region: String,
    /// The service.
    pub service: String,
}

impl Credential {
    /// Reads a credential value.
    ///
    /// # Errors
    /// [`VerifyError::Malformed`] unless there are five `/`-separated
    /// non-empty parts, or [`VerifyError::ScopeMismatch`] when the last
    /// is not `aws4_request`.
    pub fn parse(value: &str, location: AuthLocation) -> Result<Self, VerifyError> {
        let mut parts = split_at_byte(value, b'/');
        let (Some(access_key_id), Some(date), Some(region), Some(service), Some(terminator), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(VerifyError::malformed(
                location,
                format!(
                    "the credential {:?} must have five parts, ACCESS_KEY_ID/YYYYMMDD/region/service/aws4_request",
                    truncate(value)
                ),
            ));
        };
        if [access_key_id, date, region, service].iter().any(|p| p.is_empty()) {
            return Err(VerifyError::malformed(
                location,
                format!("the credential {:?} has an empty part", truncate(value)),
            ));
        }
        if terminator != TERMINATOR {
            return Err(VerifyError::ScopeMismatch {
                location,
                element: "terminator",
                found: truncate(terminator),
                expected: TERMINATOR.to_owned(),
            });
        }
        Ok(Self {
            access_key_id: access_key_id.to_owned(),
            date: date.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
        })
    }

    /// The scope part.
    pub fn scope(&self) -> CredentialScope<'_> {
        CredentialScope { date: &self.date, region: &self.region, service: &self.service }
    }

    /// Checks the scope against the request date and the receiver's region
    /// and service.
    ///
    /// # Errors
    /// [`VerifyError::ScopeMismatch`] naming the element that differs.
    pub fn check_scope(
        &self,
        date_stamp: &str,
        region: &str,
        service: &str,
        location: AuthLocation,
    ) -> Result<(), VerifyError> {
        for (element, found, expected) in
            [("date", &self.date, date_stamp), ("region", &self.region, region), ("service", &self.service, service)]
        {
            if found != expected {
                return Err(VerifyError::ScopeMismatch {
                    location,
                    element,
                    found: truncate(found),
                    expected: expected.to_owned(),
                });
            }
        }
        Ok(())
    }
}

/// `value.split(separator)` for an ASCII separator, found by a plain byte
/// scan (`str::split` goes through a general `char` searcher, which costs
/// more than the scan on parts this short). An ASCII byte never falls
/// inside a multi-byte character, so every cut is on a boundary.
pub(crate) fn split_at_byte(value: &str, separator: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(value);
    std::iter::from_fn(move || {
        let text = rest?;
        match text.bytes().position(|b| b == separator) {
            Some(at) => {
                rest = text.get(at + 1..);
                text.get(..at)
            }
            None => {
                rest = None;
                Some(text)
            }
        }
    })
}

/// At most 128 characters of untrusted text, for error messages.
pub(crate) fn truncate(value: &str) -> String {
    value.chars().take(128).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_checks_a_credential() {
        let c = Credential::parse("AKID/20150830/us-east-1/s3/aws4_request", AuthLocation::Header).unwrap();
        assert_eq!(c.access_key_id, "AKID");
        assert!(c.check_scope("20150830", "us-east-1", "s3", AuthLocation::Header).is_ok());
        let err = c.check_scope("20150830", "eu-west-1", "s3", AuthLocation::Header).unwrap_err();
        assert_eq!(err.s3_code().code, "AuthorizationHeaderMalformed");
        assert!(err.to_string().contains("region is \"us-east-1\"; expecting \"eu-west-1\""), "{err}");
    }

    #[test]
    fn refuses_malformed_credentials() {
        for bad in ["", "AKID", "AKID/20150830/us-east-1/s3", "/20150830/us-east-1/s3/aws4_request", "A/B/C/D/E/F"] {
            assert!(Credential::parse(bad, AuthLocation::Query).is_err(), "{bad:?}");
        }
        let err = Credential::parse("AKID/20150830/us-east-1/s3/aws4", AuthLocation::Query).unwrap_err();
        assert!(matches!(err, VerifyError::ScopeMismatch { element: "terminator", .. }));
    }

    #[test]
    fn split_at_byte_matches_str_split() {
        for value in ["", "/", "a", "a/b", "/a/", "a//b", "é/ü/", "AKID/20130524/us-east-1/s3/aws4_request"] {
            assert_eq!(
                split_at_byte(value, b'/').collect::<Vec<_>>(),
                value.split('/').collect::<Vec<_>>(),
                "{value:?}"
            );
        }
    }
}
