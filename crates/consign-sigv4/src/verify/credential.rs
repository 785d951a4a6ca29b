//! `AKID/YYYYMMDD/region/service/aws4_request`, as every SigV4 form
//! carries it.

use std::borrow::Cow;

use super::split::split_parts;
use crate::error::{AuthLocation, VerifyError};
use crate::scope::{CredentialScope, TERMINATOR};

/// A parsed credential: the access key ID and the scope.
///
/// The parts borrow the text they were read from; they are owned only when
/// that text had to be decoded first (a query value with escapes other than
/// `%2F`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential<'a> {
    /// The access key ID.
    pub access_key_id: Cow<'a, str>,
    /// `YYYYMMDD`.
    pub date: Cow<'a, str>,
    /// The region.
    pub region: Cow<'a, str>,
    /// The service.
    pub service: Cow<'a, str>,
}

impl<'a> Credential<'a> {
    /// Reads a credential value.
    ///
    /// # Errors
    /// [`VerifyError::Malformed`] unless there are five `/`-separated
    /// non-empty parts, or [`VerifyError::ScopeMismatch`] when the last
    /// is not `aws4_request`.
    pub fn parse(value: &'a str, location: AuthLocation) -> Result<Self, VerifyError> {
        Self::from_parts(split_parts(value, b'/', false), value, location)
    }

    /// Reads the value of `X-Amz-Credential` as sent, whose only escapes
    /// are those of `/` (see
    /// [`only_separator_escapes`](super::split::only_separator_escapes)),
    /// without decoding it: the parts are slices of `raw`.
    pub(crate) fn parse_escaped(raw: &'a str) -> Result<Self, VerifyError> {
        match Self::from_parts(split_parts(raw, b'/', true), raw, AuthLocation::Query) {
            Ok(credential) => Ok(credential),
            // Say what is wrong in terms of the decoded text, as `parse` does.
            Err(_) => {
                let decoded = raw.replace("%2F", "/").replace("%2f", "/");
                Credential::parse(&decoded, AuthLocation::Query).map(Credential::into_owned)
            }
        }
    }

    fn from_parts(
        mut parts: impl Iterator<Item = &'a str>,
        value: &str,
        location: AuthLocation,
    ) -> Result<Self, VerifyError> {
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
            access_key_id: access_key_id.into(),
            date: date.into(),
            region: region.into(),
            service: service.into(),
        })
    }

    /// The same credential, owning its parts.
    pub fn into_owned(self) -> Credential<'static> {
        Credential {
            access_key_id: self.access_key_id.into_owned().into(),
            date: self.date.into_owned().into(),
            region: self.region.into_owned().into(),
            service: self.service.into_owned().into(),
        }
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
    fn reads_an_escaped_credential_as_its_decoding() {
        let raw = "AKID%2F20150830%2fus-east-1/s3%2Faws4_request";
        let decoded = Credential::parse("AKID/20150830/us-east-1/s3/aws4_request", AuthLocation::Query).unwrap();
        let escaped = Credential::parse_escaped(raw).unwrap();
        assert_eq!(escaped, decoded);
        assert!(matches!(escaped.access_key_id, Cow::Borrowed(_)));
        for bad in ["AKID%2F2015%2Fus-east-1", "AKID%2F%2Fr%2Fs%2Faws4_request", "A%2FB%2FC%2FD%2Faws4"] {
            let decoded = bad.replace("%2F", "/");
            assert_eq!(
                Credential::parse_escaped(bad).unwrap_err(),
                Credential::parse(&decoded, AuthLocation::Query).unwrap_err(),
                "{bad:?}"
            );
        }
    }
}
