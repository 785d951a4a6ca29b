//! One condition of a POST policy.

use std::fmt;

/// A condition on one form field, or on the size of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// The field must equal the value (`{"acl": "private"}` or
    /// `["eq", "$acl", "private"]`).
    Eq {
        /// The field name, lower case, without `$`.
        field: String,
        /// The required value.
        value: String,
    },
    /// The field must start with the prefix; an empty prefix allows any
    /// value (`["starts-with", "$key", "user/"]`).
    StartsWith {
        /// The field name, lower case, without `$`.
        field: String,
        /// The required prefix.
        prefix: String,
    },
    /// The file's size in bytes must be within `min..=max`
    /// (`["content-length-range", 1, 1048576]`).
    ContentLengthRange {
        /// The smallest size allowed.
        min: u64,
        /// The largest size allowed.
        max: u64,
    },
}

impl Condition {
    /// The field the condition is about (`None` for the size range).
    pub fn field(&self) -> Option<&str> {
        match self {
            Condition::Eq { field, .. } | Condition::StartsWith { field, .. } => Some(field),
            Condition::ContentLengthRange { .. } => None,
        }
    }

    /// Appends the condition as policy JSON.
    pub(crate) fn write_json(&self, out: &mut String) {
        match self {
            Condition::Eq { field, value } => {
                out.push('{');
                write_json_string(out, field);
                out.push(':');
                write_json_string(out, value);
                out.push('}');
            }
            Condition::StartsWith { field, prefix } => {
                out.push_str("[\"starts-with\",\"$");
                write_json_string_body(out, field);
                out.push_str("\",");
                write_json_string(out, prefix);
                out.push(']');
            }
            Condition::ContentLengthRange { min, max } => {
                out.push_str("[\"content-length-range\",");
                let mut buf = [0u8; 20];
                out.push_str(crate::encoding::decimal(*min, &mut buf));
                out.push(',');
                out.push_str(crate::encoding::decimal(*max, &mut buf));
                out.push(']');
            }
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        match self {
            // S3 reports every condition in the array form.
            Condition::Eq { field, value } => {
                out.push_str("[\"eq\",\"$");
                write_json_string_body(&mut out, field);
                out.push_str("\",");
                write_json_string(&mut out, value);
                out.push(']');
            }
            other => other.write_json(&mut out),
        }
        f.write_str(&out)
    }
}

pub(crate) fn write_json_string(out: &mut String, value: &str) {
    out.push('"');
    write_json_string_body(out, value);
    out.push('"');
}

fn write_json_string_body(out: &mut String, value: &str) {
    // Field names, prefixes and the signed values need no escape at all:
    // one quick scan, then one copy. The scan does not stop early, so the
    // compiler checks many bytes per instruction.
    let plain = value.bytes().fold(true, |plain, b| plain & (b >= 0x20) & (b != b'"') & (b != b'\\'));
    if plain {
        out.push_str(value);
        return;
    }
    // Every character that needs an escape is ASCII, so the text between
    // two of them is copied whole.
    let mut start = 0;
    for (i, byte) in value.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(value.get(start..i).unwrap_or_default());
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(value.get(start..).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_policy_json_with_escapes() {
        let mut out = String::new();
        Condition::Eq { field: "x-amz-meta-note".into(), value: "a \"q\" \\ \n\u{1}".into() }.write_json(&mut out);
        assert_eq!(out, r#"{"x-amz-meta-note":"a \"q\" \\ \n\u0001"}"#);
        let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed["x-amz-meta-note"], "a \"q\" \\ \n\u{1}");
    }

    #[test]
    fn displays_conditions_as_s3_reports_them() {
        assert_eq!(Condition::Eq { field: "key".into(), value: "a".into() }.to_string(), r#"["eq","$key","a"]"#);
        assert_eq!(
            Condition::StartsWith { field: "key".into(), prefix: "u/".into() }.to_string(),
            r#"["starts-with","$key","u/"]"#
        );
        assert_eq!(Condition::ContentLengthRange { min: 1, max: 9 }.to_string(), r#"["content-length-range",1,9]"#);
    }
}
