//! Reading a POST policy: base64, then JSON of the documented shape.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::condition::Condition;
use crate::error::VerifyError;
use crate::time::AmzDate;

/// A policy as the browser sent it: when it expires and what it allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    /// After this instant the policy is refused.
    pub expiration: AmzDate,
    /// Every condition, in order.
    pub conditions: Vec<Condition>,
}

/// The largest policy accepted, base64 included (S3 caps form fields at
/// 20 KB too).
pub const MAX_POLICY_BYTES: usize = 20 * 1024;

fn invalid(reason: impl Into<String>) -> VerifyError {
    VerifyError::InvalidPolicyDocument { reason: reason.into() }
}

impl PolicyDocument {
    /// Decodes the `policy` form field.
    ///
    /// # Errors
    /// [`VerifyError::InvalidPolicyDocument`] naming what is wrong: not
    /// base64, not JSON, no `expiration`, a condition of unknown shape, …
    pub fn from_base64(policy: &str) -> Result<Self, VerifyError> {
        if policy.len() > MAX_POLICY_BYTES {
            return Err(invalid(format!(
                "the policy is {} bytes; at most {MAX_POLICY_BYTES} are accepted",
                policy.len()
            )));
        }
        let json = STANDARD
            .decode(policy.trim())
            .map_err(|e| invalid(format!("the policy field is not valid base64 ({e})")))?;
        Self::from_json(&json)
    }

    /// Reads the JSON text of a policy.
    ///
    /// # Errors
    /// As [`Self::from_base64`].
    pub fn from_json(json: &[u8]) -> Result<Self, VerifyError> {
        let value: Value =
            serde_json::from_slice(json).map_err(|e| invalid(format!("the policy is not valid JSON ({e})")))?;
        let object = value.as_object().ok_or_else(|| invalid("the policy must be a JSON object"))?;
        let expiration = match object.get("expiration") {
            Some(Value::String(text)) => {
                AmzDate::parse_iso8601(text).map_err(|e| invalid(format!("expiration: {e}")))?
            }
            Some(_) => {
                return Err(invalid("expiration must be a string such as \"2030-01-01T00:00:00.000Z\""));
            }
            None => return Err(invalid("Policy missing expiration")),
        };
        let conditions = match object.get("conditions") {
            Some(Value::Array(list)) => {
                list.iter().enumerate().map(|(i, c)| parse_condition(i, c)).collect::<Result<_, _>>()?
            }
            Some(_) => return Err(invalid("conditions must be an array")),
            None => return Err(invalid("Policy missing conditions")),
        };
        if let Some(other) = object.keys().find(|k| *k != "expiration" && *k != "conditions") {
            return Err(invalid(format!(
                "unexpected top-level element {other:?}; only expiration and conditions are allowed"
            )));
        }
        Ok(Self { expiration, conditions })
    }
}

fn field_name(i: usize, raw: &Value) -> Result<String, VerifyError> {
    match raw.as_str().and_then(|s| s.strip_prefix('$')) {
        Some(name) if !name.is_empty() => Ok(name.to_ascii_lowercase()),
        _ => Err(invalid(format!("condition {i}: the field must be a string starting with '$', such as \"$key\""))),
    }
}

fn size(i: usize, raw: &Value) -> Result<u64, VerifyError> {
    match raw {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| invalid(format!("condition {i}: content-length-range bounds must be whole numbers of bytes")))
}

fn parse_condition(i: usize, raw: &Value) -> Result<Condition, VerifyError> {
    match raw {
        Value::Object(map) => {
            let mut entries = map.iter();
            match (entries.next(), entries.next()) {
                (Some((field, Value::String(value))), None) => Ok(Condition::Eq {
                    field: field.trim_start_matches('$').to_ascii_lowercase(),
                    value: value.clone(),
                }),
                (Some((field, _)), None) => {
                    Err(invalid(format!("condition {i}: the value of {field:?} must be a string")))
                }
                _ => Err(invalid(format!("condition {i}: an object condition must have exactly one field"))),
            }
        }
        Value::Array(items) => {
            let op = items.first().and_then(Value::as_str).map(str::to_ascii_lowercase);
            match (op.as_deref(), items.len()) {
                (Some("eq"), 3) | (Some("starts-with"), 3) => {
                    let field = field_name(i, &items[1])?;
                    let value = items[2]
                        .as_str()
                        .ok_or_else(|| invalid(format!("condition {i}: the value must be a string")))?
                        .to_owned();
                    Ok(if op.as_deref() == Some("eq") {
                        Condition::Eq { field, value }
                    } else {
                        Condition::StartsWith { field, prefix: value }
                    })
                }
                (Some("content-length-range"), 3) => {
                    let (min, max) = (size(i, &items[1])?, size(i, &items[2])?);
                    if min > max {
                        return Err(invalid(format!(
                            "condition {i}: content-length-range minimum {min} exceeds maximum {max}"
                        )));
                    }
                    Ok(Condition::ContentLengthRange { min, max })
                }
                (Some(op @ ("eq" | "starts-with" | "content-length-range")), n) => Err(invalid(format!(
                    "condition {i}: {op:?} takes exactly 2 arguments, not {}",
                    n.saturating_sub(1)
                ))),
                (Some(op), _) => Err(invalid(format!(
                    "condition {i}: unknown operator {op:?}; use \"eq\", \"starts-with\" or \"content-length-range\""
                ))),
                (None, _) => Err(invalid(format!("condition {i}: an array condition must start with its operator"))),
            }
        }
        _ => Err(invalid(format!("condition {i} must be an object or an array"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_condition_form() {
        let doc = PolicyDocument::from_json(
            br#"{"expiration":"2030-01-01T00:00:00.000Z","conditions":[{"bucket":"b"},["eq","$Key","k"],
            ["starts-with","$Content-Type","image/"],["content-length-range",1,"1048576"]]}"#,
        )
        .unwrap();
        assert_eq!(
            doc.conditions,
            [
                Condition::Eq { field: "bucket".into(), value: "b".into() },
                Condition::Eq { field: "key".into(), value: "k".into() },
                Condition::StartsWith { field: "content-type".into(), prefix: "image/".into() },
                Condition::ContentLengthRange { min: 1, max: 1_048_576 },
            ]
        );
    }

    #[test]
    fn says_what_is_wrong_with_a_bad_policy() {
        let cases: [(&[u8], &str); 9] = [
            (b"not json", "not valid JSON"),
            (b"[]", "must be a JSON object"),
            (br#"{"conditions":[]}"#, "missing expiration"),
            (br#"{"expiration":"tomorrow","conditions":[]}"#, "expiration"),
            (br#"{"expiration":"2030-01-01T00:00:00Z"}"#, "missing conditions"),
            (br#"{"expiration":"2030-01-01T00:00:00Z","conditions":[["in","$key","a"]]}"#, "unknown operator"),
            (br#"{"expiration":"2030-01-01T00:00:00Z","conditions":[["eq","key","a"]]}"#, "starting with '$'"),
            (
                br#"{"expiration":"2030-01-01T00:00:00Z","conditions":[["content-length-range",9,1]]}"#,
                "exceeds maximum",
            ),
            (br#"{"expiration":"2030-01-01T00:00:00Z","conditions":[{"a":"1","b":"2"}]}"#, "exactly one field"),
        ];
        for (json, expected) in cases {
            let err = PolicyDocument::from_json(json).unwrap_err();
            assert!(err.to_string().contains(expected), "{} -> {err}", String::from_utf8_lossy(json));
            assert_eq!(err.s3_code().code, "InvalidPolicyDocument");
        }
        assert!(PolicyDocument::from_base64("***").unwrap_err().to_string().contains("base64"));
    }
}
