//! The `Authorization` header of a header-signed request.

use super::credential::{Credential, truncate};
use super::signed_headers::SignedHeaders;
use crate::canonical::ALGORITHM;
use crate::error::{AuthLocation, VerifyError};

/// `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`, parsed.
///
/// It borrows the header value it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationHeader<'a> {
    /// Who signed, and for which scope.
    pub credential: Credential<'a>,
    /// The signed header names, lower case, in the order given.
    pub signed_headers: SignedHeaders<'a>,
    /// The signature as given.
    pub signature: &'a str,
}

impl<'a> AuthorizationHeader<'a> {
    /// Reads the header value.
    ///
    /// # Errors
    /// [`VerifyError::SignatureVersion2`] for `AWS AKID:sig`,
    /// [`VerifyError::UnsupportedAlgorithm`] for another algorithm, and
    /// [`VerifyError::Malformed`] naming the missing or repeated element.
    pub fn parse(value: &'a str) -> Result<Self, VerifyError> {
        let location = AuthLocation::Header;
        let value = value.trim();
        if value.starts_with("AWS ") {
            return Err(VerifyError::SignatureVersion2 { location });
        }
        let (algorithm, rest) = value.split_once(' ').unwrap_or((value, ""));
        if algorithm != ALGORITHM {
            return Err(VerifyError::UnsupportedAlgorithm { location, algorithm: truncate(algorithm) });
        }
        let (mut credential, mut signed_headers, mut signature) = (None, None, None);
        for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').ok_or_else(|| {
                VerifyError::malformed(location, format!("{:?} is not of the form Name=value", truncate(part)))
            })?;
            let slot = match name.trim() {
                "Credential" => &mut credential,
                "SignedHeaders" => &mut signed_headers,
                "Signature" => &mut signature,
                other => {
                    return Err(VerifyError::malformed(
                        location,
                        format!(
                            "unknown element {:?}; expected Credential, SignedHeaders and Signature",
                            truncate(other)
                        ),
                    ));
                }
            };
            if slot.replace(value.trim()).is_some() {
                return Err(VerifyError::malformed(location, format!("{name} is given twice")));
            }
        }
        let missing = |name: &str| VerifyError::malformed(location, format!("the {name}= element is missing"));
        let credential = Credential::parse(credential.ok_or_else(|| missing("Credential"))?, location)?;
        let signed_headers = SignedHeaders::parse(signed_headers.ok_or_else(|| missing("SignedHeaders"))?, location)?;
        let signature = signature.ok_or_else(|| missing("Signature"))?;
        Ok(Self { credential, signed_headers, signature })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_spacings() {
        for value in [
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc",
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-date,Signature=abc",
        ] {
            let parsed = AuthorizationHeader::parse(value).unwrap();
            assert_eq!(parsed.credential.access_key_id, "AKID");
            assert_eq!(parsed.signed_headers.iter().collect::<Vec<_>>(), ["host", "x-amz-date"]);
            assert_eq!(parsed.signature, "abc");
        }
    }

    #[test]
    fn names_what_is_wrong() {
        let cases = [
            ("AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=", "Signature Version 2"),
            ("AWS4-HMAC-SHA1 Credential=a/b/c/d/aws4_request", "only \"AWS4-HMAC-SHA256\""),
            ("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=abc", "Credential= element is missing"),
            ("AWS4-HMAC-SHA256 Credential=A/1/r/s/aws4_request, Signature=abc", "SignedHeaders= element is missing"),
            ("AWS4-HMAC-SHA256 Credential=A/1/r/s/aws4_request, SignedHeaders=host", "Signature= element is missing"),
            ("AWS4-HMAC-SHA256 Credential=A/1/r/s/aws4_request, SignedHeaders=Host, Signature=a", "lower case"),
            ("AWS4-HMAC-SHA256 Credential=A/1/r/s/aws4_request, SignedHeaders=host, Signature=a, Signature=b", "twice"),
            ("AWS4-HMAC-SHA256 Credential=A/1/r/s/aws4_request, SignedHeaders=host;;x, Signature=a", "empty name"),
            ("AWS4-HMAC-SHA256 Credential", "Name=value"),
        ];
        for (value, expected) in cases {
            let err = AuthorizationHeader::parse(value).unwrap_err();
            assert!(err.to_string().contains(expected), "{value:?} -> {err}");
        }
    }
}
