//! Deciding whether a POST form meets its policy.

use super::condition::Condition;
use super::document::PolicyDocument;
use crate::error::VerifyError;
use crate::time::AmzDate;

/// What an accepted policy still asks of the receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyOutcome {
    /// The allowed file size, `min..=max` bytes, to be enforced while the
    /// file streams in. `None` when the policy sets no range.
    pub content_length_range: Option<(u64, u64)>,
    /// When the policy expires.
    pub expiration: AmzDate,
}

/// Whether a form field needs no policy condition: `file`, `policy`,
/// `x-amz-signature` and `x-ignore-*` (name in lower case).
pub fn is_exempt_field(lower_name: &str) -> bool {
    matches!(lower_name, "file" | "policy" | "x-amz-signature") || lower_name.starts_with("x-ignore-")
}

impl PolicyDocument {
    /// Checks the form `fields` (names in any case) of a POST to `bucket`
    /// at `now`: the policy has not expired, every condition holds, and
    /// every field is covered by a condition.
    ///
    /// # Errors
    /// [`VerifyError::PolicyExpired`], [`VerifyError::PolicyConditionFailed`]
    /// naming the condition, or [`VerifyError::ExtraFormField`].
    pub fn evaluate(&self, fields: &[(&str, &str)], bucket: &str, now: AmzDate) -> Result<PolicyOutcome, VerifyError> {
        if now >= self.expiration {
            return Err(VerifyError::PolicyExpired { expiration: self.expiration, now });
        }
        let lookup = |field: &str| -> Option<&str> {
            if field == "bucket" {
                return Some(bucket);
            }
            fields.iter().find(|(n, _)| n.eq_ignore_ascii_case(field)).map(|(_, v)| *v)
        };
        let mut range: Option<(u64, u64)> = None;
        for condition in &self.conditions {
            let holds = match condition {
                Condition::Eq { field, value } => lookup(field) == Some(value.as_str()),
                Condition::StartsWith { field, prefix } => {
                    let given = lookup(field).unwrap_or("");
                    if field == "content-type" {
                        // Each of several comma-separated types must match.
                        given.split(',').all(|t| t.trim_start().starts_with(prefix.as_str()))
                    } else {
                        given.starts_with(prefix.as_str())
                    }
                }
                Condition::ContentLengthRange { min, max } => {
                    let (lo, hi) = range.unwrap_or((0, u64::MAX));
                    range = Some((lo.max(*min), hi.min(*max)));
                    true
                }
            };
            if !holds {
                let value = condition.field().and_then(lookup).map(str::to_owned);
                return Err(VerifyError::PolicyConditionFailed { condition: condition.to_string(), value });
            }
        }
        for (name, _) in fields {
            let lower = name.to_ascii_lowercase();
            if !is_exempt_field(&lower) && !self.conditions.iter().any(|c| c.field() == Some(lower.as_str())) {
                return Err(VerifyError::ExtraFormField { name: (*name).to_owned() });
            }
        }
        Ok(PolicyOutcome { content_length_range: range, expiration: self.expiration })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(conditions: Vec<Condition>) -> PolicyDocument {
        PolicyDocument { expiration: AmzDate::parse("20300101T000000Z").unwrap(), conditions }
    }

    fn now() -> AmzDate {
        AmzDate::parse("20291231T000000Z").unwrap()
    }

    #[test]
    fn accepts_a_form_that_meets_every_condition_and_returns_the_size_range() {
        let policy = doc(vec![
            Condition::Eq { field: "bucket".into(), value: "b".into() },
            Condition::StartsWith { field: "key".into(), prefix: "u/".into() },
            Condition::StartsWith { field: "content-type".into(), prefix: "image/".into() },
            Condition::ContentLengthRange { min: 1, max: 100 },
            Condition::ContentLengthRange { min: 10, max: 1000 },
        ]);
        let fields =
            [("Key", "u/a.png"), ("Content-Type", "image/png"), ("policy", "x"), ("x-ignore-me", "1"), ("file", "")];
        let outcome = policy.evaluate(&fields, "b", now()).unwrap();
        assert_eq!(outcome.content_length_range, Some((10, 100)));
    }

    #[test]
    fn refuses_each_kind_of_violation_with_its_reason() {
        let policy = doc(vec![
            Condition::Eq { field: "bucket".into(), value: "b".into() },
            Condition::StartsWith { field: "key".into(), prefix: "u/".into() },
            Condition::StartsWith { field: "content-type".into(), prefix: "image/".into() },
        ]);
        let ok = [("key", "u/a"), ("content-type", "image/png")];
        assert!(policy.evaluate(&ok, "b", now()).is_ok());
        let err = policy.evaluate(&ok, "other", now()).unwrap_err();
        assert_eq!(
            err,
            VerifyError::PolicyConditionFailed {
                condition: r#"["eq","$bucket","b"]"#.into(),
                value: Some("other".into())
            }
        );
        let err = policy.evaluate(&[("key", "x/a"), ("content-type", "image/png")], "b", now()).unwrap_err();
        assert!(err.to_string().contains(r#"["starts-with","$key","u/"]"#), "{err}");
        let err = policy.evaluate(&[("key", "u/a"), ("content-type", "image/png,text/html")], "b", now()).unwrap_err();
        assert_eq!(err.s3_code().code, "AccessDenied");
        let err = policy
            .evaluate(&[("key", "u/a"), ("content-type", "image/png"), ("acl", "public-read")], "b", now())
            .unwrap_err();
        assert_eq!(err, VerifyError::ExtraFormField { name: "acl".into() });
        let err = policy.evaluate(&ok, "b", AmzDate::parse("20300101T000000Z").unwrap()).unwrap_err();
        assert!(matches!(err, VerifyError::PolicyExpired { .. }));
        let err = policy.evaluate(&[("content-type", "image/png")], "b", now()).unwrap_err();
        assert!(err.to_string().contains("no such field"), "{err}");
    }
}
