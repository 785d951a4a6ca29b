//! Building and signing a POST policy into the fields of an HTML form.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-post-example.html>

use std::sync::Arc;
use std::time::SystemTime;

use super::condition::{Condition, write_json_string};
use crate::canonical::{ALGORITHM, push_object_path};
use crate::crypto::Hex64;
use crate::error::SignError;
use crate::sign::{Endpoint, Signer};
use crate::time::AmzDate;

/// What a browser POST may upload: a typed builder over every condition
/// S3 knows. Each `eq`-style method also adds the form field the browser
/// must send; `starts-with` conditions leave the value to the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostPolicy {
    expiration: AmzDate,
    conditions: Vec<Condition>,
    fields: Vec<(String, String)>,
}

impl PostPolicy {
    /// A policy that expires at `expiration`.
    pub fn new(expiration: AmzDate) -> Self {
        Self { expiration, conditions: Vec::new(), fields: Vec::new() }
    }

    /// The field must equal `value`; the field is sent with that value.
    pub fn eq(mut self, field: &str, value: &str) -> Self {
        self.conditions.push(Condition::Eq { field: field.to_ascii_lowercase(), value: value.to_owned() });
        self.fields.push((field.to_owned(), value.to_owned()));
        self
    }

    /// The field must start with `prefix` (any value when empty); the
    /// browser supplies the value.
    pub fn starts_with(mut self, field: &str, prefix: &str) -> Self {
        self.conditions.push(Condition::StartsWith { field: field.to_ascii_lowercase(), prefix: prefix.to_owned() });
        self
    }

    /// The object key is exactly `key`.
    pub fn key(self, key: &str) -> Self {
        self.eq("key", key)
    }

    /// The key starts with `prefix`; the form sends `prefix${filename}`,
    /// which S3 completes with the name of the chosen file.
    pub fn key_starts_with(mut self, prefix: &str) -> Self {
        self = self.starts_with("key", prefix);
        self.fields.push(("key".to_owned(), format!("{prefix}${{filename}}")));
        self
    }

    /// The `Content-Type` field (stored as the object's type) is exactly `value`.
    pub fn content_type(self, value: &str) -> Self {
        self.eq("Content-Type", value)
    }

    /// The `Content-Type` field starts with `prefix`, such as `image/`.
    pub fn content_type_starts_with(self, prefix: &str) -> Self {
        self.starts_with("Content-Type", prefix)
    }

    /// The file is between `min` and `max` bytes, inclusive.
    pub fn content_length_range(mut self, min: u64, max: u64) -> Self {
        self.conditions.push(Condition::ContentLengthRange { min, max });
        self
    }

    /// S3 answers a successful upload with this status: 200, 201 (with an
    /// XML body) or 204.
    pub fn success_action_status(self, status: u16) -> Self {
        self.eq("success_action_status", &status.to_string())
    }

    /// S3 redirects the browser here after a successful upload.
    pub fn success_action_redirect(self, url: &str) -> Self {
        self.eq("success_action_redirect", url)
    }

    /// The canned ACL, such as `private`.
    pub fn acl(self, acl: &str) -> Self {
        self.eq("acl", acl)
    }

    /// User metadata `x-amz-meta-{name}` is exactly `value`.
    pub fn metadata(self, name: &str, value: &str) -> Self {
        self.eq(&format!("x-amz-meta-{name}"), value)
    }

    /// The conditions so far (without the ones signing adds).
    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    /// The expiration.
    pub fn expiration(&self) -> AmzDate {
        self.expiration
    }
}

/// A signed POST policy: where to post and the fields to send before the
/// file (which goes last, as the field `file`).
///
/// It borrows the policy's own fields from the [`PostPolicy`] and keeps the
/// signed ones by value (the credential shared with the signer's cache), so
/// signing allocates only the URL, the JSON and its base64; [`Self::fields`]
/// lists them all in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostForm<'p> {
    /// The form's action URL.
    pub url: String,
    /// The policy's own fields (`key`, `acl`, …), in the order they were added.
    policy_fields: &'p [(String, String)],
    /// `x-amz-credential`, shared with the signer's state for the date.
    credential: Arc<str>,
    /// `x-amz-date`.
    date: AmzDate,
    /// `x-amz-security-token`, with temporary credentials.
    security_token: Option<String>,
    /// `policy`: the base64 of [`Self::policy_json`].
    policy: String,
    /// `x-amz-signature`.
    signature: Hex64,
    /// The policy JSON that was signed (before base64).
    pub policy_json: String,
    /// When the policy expires.
    pub expiration: AmzDate,
}

impl PostForm<'_> {
    /// Every field, in order: the policy's own, then `x-amz-algorithm`,
    /// `x-amz-credential`, `x-amz-date`, `x-amz-security-token` (with
    /// temporary credentials), `policy` and `x-amz-signature`.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        let own = self.policy_fields.iter().map(|(name, value)| (name.as_str(), value.as_str()));
        let signed = self.signed_fields();
        let last = [("policy", self.policy.as_str()), ("x-amz-signature", self.signature.as_str())];
        own.chain(signed).chain(last)
    }

    fn signed_fields(&self) -> impl Iterator<Item = (&str, &str)> {
        signed_fields(&self.credential, &self.date, self.security_token.as_deref())
    }

    /// The value of the field `name` (compared without case).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }
}

/// The fields that signing adds, to the form and to the policy's conditions.
fn signed_fields<'a>(
    credential: &'a str,
    date: &'a AmzDate,
    security_token: Option<&'a str>,
) -> impl Iterator<Item = (&'a str, &'a str)> {
    let fields = [("x-amz-algorithm", ALGORITHM), ("x-amz-credential", credential), ("x-amz-date", date.as_str())];
    fields.into_iter().chain(security_token.map(|token| ("x-amz-security-token", token)))
}

/// Appends the conditions of [`signed_fields`] to a policy's JSON, each
/// after a comma. They change once a second, so a signer writes them once
/// a second (`SecondState`), not once a policy.
pub(crate) fn write_signed_conditions(
    json: &mut String,
    credential: &str,
    date: &AmzDate,
    security_token: Option<&str>,
) {
    for (name, value) in signed_fields(credential, date, security_token) {
        json.push_str(",{\"");
        json.push_str(name);
        json.push_str("\":");
        write_json_string(json, value);
        json.push('}');
    }
}

impl Signer {
    /// Signs `policy` for a browser POST to `bucket` at `endpoint`.
    ///
    /// The bucket, algorithm, credential, date and session token are added
    /// to the conditions, so the browser cannot swap any of them.
    ///
    /// # Errors
    /// [`SignError::InvalidPolicy`] for a policy that expires before `now`
    /// or a size range whose minimum exceeds its maximum.
    pub fn sign_post_policy<'p>(
        &self,
        endpoint: &Endpoint,
        bucket: &str,
        policy: &'p PostPolicy,
        now: SystemTime,
    ) -> Result<PostForm<'p>, SignError> {
        let second = self.second_at(now);
        let (day, time) = (&second.day, second.time);
        if policy.expiration <= time {
            return Err(SignError::InvalidPolicy {
                reason: format!("it expires at {} which is not after now ({time})", policy.expiration.to_iso8601()),
            });
        }
        for condition in &policy.conditions {
            if let Condition::ContentLengthRange { min, max } = condition {
                if min > max {
                    return Err(SignError::InvalidPolicy {
                        reason: format!("content-length-range minimum {min} exceeds maximum {max}"),
                    });
                }
            }
        }
        let credential = Arc::clone(&day.credential);
        let host = endpoint.host_for(bucket);
        let mut url = String::with_capacity(endpoint.scheme().len() + 3 + host.len() + 1 + bucket.len());
        url.push_str(endpoint.scheme());
        url.push_str("://");
        url.push_str(&host);
        push_object_path(&mut url, endpoint.bucket_in_path(bucket), "");
        let security_token = self.credentials().session_token();

        let mut json = String::with_capacity(256 + 64 * policy.conditions.len());
        json.push_str("{\"expiration\":\"");
        policy.expiration.write_iso8601(&mut json);
        json.push_str("\",\"conditions\":[{\"bucket\":");
        write_json_string(&mut json, bucket);
        json.push('}');
        for condition in &policy.conditions {
            json.push(',');
            condition.write_json(&mut json);
        }
        json.push_str(&second.post_conditions);
        json.push_str("]}");

        let encoded = crate::encoding::base64(json.as_bytes());
        let signature = day.key.sign(encoded.as_bytes());
        Ok(PostForm {
            url,
            policy_fields: &policy.fields,
            credential,
            date: time,
            security_token: security_token.map(str::to_owned),
            policy: encoded,
            signature,
            policy_json: json,
            expiration: policy.expiration,
        })
    }
}
