//! Browser POST forms: the signature over the policy, then the policy.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-authentication-HTTPPOST.html>

use std::time::SystemTime;

use super::Verifier;
use super::check_signature_format;
use super::credential::{Credential, truncate};
use crate::canonical::ALGORITHM;
use crate::credentials::SecretKey;
use crate::crypto::constant_time_eq;
use crate::error::{AuthLocation, VerifyError};
use crate::post_policy::{PolicyDocument, PolicyOutcome};
use crate::time::AmzDate;

/// The authentication fields of a POST form, parsed; the credential
/// borrows its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostAuth<'a> {
    /// Who signed, and for which scope.
    pub credential: Credential<'a>,
    /// `x-amz-date`.
    pub date: AmzDate,
    /// The base64 `policy` field, exactly as sent (it is what was signed).
    pub policy: String,
    /// `x-amz-signature`.
    pub signature: String,
}

fn field<'a>(fields: &[(&str, &'a str)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
}

impl<'a> PostAuth<'a> {
    /// Reads the authentication fields of a form (names in any case).
    ///
    /// # Errors
    /// [`VerifyError::SignatureVersion2`] for `AWSAccessKeyId`/`signature`
    /// fields, [`VerifyError::Malformed`] naming a missing field, and
    /// [`VerifyError::UnsupportedAlgorithm`].
    pub fn parse(fields: &[(&str, &'a str)]) -> Result<Self, VerifyError> {
        let location = AuthLocation::Form;
        if field(fields, "AWSAccessKeyId").is_some() || field(fields, "signature").is_some() {
            return Err(VerifyError::SignatureVersion2 { location });
        }
        let require = |name: &str| {
            field(fields, name)
                .ok_or_else(|| VerifyError::malformed(location, format!("the form field {name} is missing")))
        };
        let algorithm = require("x-amz-algorithm")?;
        if algorithm != ALGORITHM {
            return Err(VerifyError::UnsupportedAlgorithm { location, algorithm: truncate(algorithm) });
        }
        let credential = Credential::parse(require("x-amz-credential")?, location)?;
        let date = AmzDate::parse(require("x-amz-date")?.trim())
            .map_err(|e| VerifyError::malformed(location, format!("x-amz-date: {e}")))?;
        Ok(Self {
            credential,
            date,
            policy: require("policy")?.to_owned(),
            signature: require("x-amz-signature")?.to_owned(),
        })
    }
}

impl Verifier {
    /// Verifies a POST form to `bucket` at `now`: the signature over the
    /// policy, then every condition of the policy against the `fields`.
    /// Returns the size range to enforce while the file streams in.
    ///
    /// # Errors
    /// Scope errors, [`VerifyError::SignatureDoesNotMatch`] (its string to
    /// sign is the policy), [`VerifyError::InvalidPolicyDocument`], and the
    /// policy's own errors.
    pub fn verify_post(
        &self,
        auth: &PostAuth<'_>,
        fields: &[(&str, &str)],
        bucket: &str,
        secret: &SecretKey,
        now: SystemTime,
    ) -> Result<PolicyOutcome, VerifyError> {
        let location = AuthLocation::Form;
        auth.credential.check_scope(auth.date.date_stamp(), &self.region, &self.service, location)?;
        check_signature_format(&auth.signature, location)?;
        let scope = auth.credential.scope();
        let expected =
            self.keys.get_shared(&auth.credential.access_key_id, secret, &scope).sign(auth.policy.as_bytes());
        if !constant_time_eq(expected.as_str().as_bytes(), auth.signature.as_bytes()) {
            return Err(VerifyError::SignatureDoesNotMatch {
                access_key_id: auth.credential.access_key_id.to_string(),
                canonical_request: String::new(),
                string_to_sign: auth.policy.clone(),
                signature_provided: auth.signature.clone(),
            });
        }
        PolicyDocument::from_base64(&auth.policy)?.evaluate(fields, bucket, AmzDate::from_system_time(now))
    }
}
