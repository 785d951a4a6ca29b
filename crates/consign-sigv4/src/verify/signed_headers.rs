//! The signed-header list, `host;x-amz-date;…`, as every SigV4 form
//! except POST carries it.

use std::borrow::Cow;
use std::fmt;

use super::credential::truncate;
use super::split::split_parts;
use crate::error::{AuthLocation, VerifyError};

/// The names of the signed headers: non-empty, lower case, in the order
/// given.
///
/// It borrows the text it was read from, which for a presigned URL is the
/// query value as sent, its `;` usually written `%3B`; it owns a decoded
/// copy only when that value held other escapes.
#[derive(Clone)]
pub struct SignedHeaders<'a> {
    text: Cow<'a, str>,
    /// Whether `text` is a query value whose separators may be escaped.
    escaped: bool,
}

impl<'a> SignedHeaders<'a> {
    /// Reads `host;x-amz-date;…`.
    ///
    /// # Errors
    /// [`VerifyError::Malformed`] for an empty or upper-case name.
    pub fn parse(value: &'a str, location: AuthLocation) -> Result<Self, VerifyError> {
        Self::checked(Cow::Borrowed(value), false, location)
    }

    /// Reads the value of `X-Amz-SignedHeaders` as sent, whose only escapes
    /// are those of `;` (see
    /// [`only_separator_escapes`](super::split::only_separator_escapes)),
    /// without decoding it.
    pub(crate) fn parse_escaped(raw: &'a str) -> Result<Self, VerifyError> {
        Self::checked(Cow::Borrowed(raw), true, AuthLocation::Query).or_else(|_| {
            // Say what is wrong in terms of the decoded text, as `parse` does.
            let decoded = raw.replace("%3B", ";").replace("%3b", ";");
            Self::checked(Cow::Owned(decoded), false, AuthLocation::Query)
        })
    }

    /// The value of `X-Amz-SignedHeaders` as sent, whose names the caller
    /// has found non-empty, lower case and separated only by `%3B`.
    pub(super) fn checked_escaped(raw: &'a str) -> Self {
        Self { text: Cow::Borrowed(raw), escaped: true }
    }

    /// Reads a decoded value that borrows nothing.
    pub(crate) fn parse_owned(value: String, location: AuthLocation) -> Result<Self, VerifyError> {
        Self::checked(Cow::Owned(value), false, location)
    }

    fn checked(text: Cow<'a, str>, escaped: bool, location: AuthLocation) -> Result<Self, VerifyError> {
        let names = Self { text, escaped };
        // One pass for both checks; an empty name is reported first.
        let (mut empty, mut upper) = (false, None);
        for name in names.iter() {
            empty |= name.is_empty();
            if upper.is_none() && name.bytes().fold(false, |any, b| any | b.is_ascii_uppercase()) {
                upper = Some(name);
            }
        }
        if empty {
            return Err(VerifyError::malformed(
                location,
                format!("SignedHeaders {:?} has an empty name", truncate(&names.text)),
            ));
        }
        if let Some(upper) = upper {
            return Err(VerifyError::malformed(
                location,
                format!("SignedHeaders must be lower case, but has {:?}", truncate(upper)),
            ));
        }
        Ok(names)
    }

    /// The names, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        split_parts(&self.text, b';', self.escaped)
    }
}

/// Two lists are equal when they name the same headers in the same order,
/// however their separators were written.
impl PartialEq for SignedHeaders<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for SignedHeaders<'_> {}

impl fmt::Debug for SignedHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_with_plain_or_escaped_separators() {
        let plain = SignedHeaders::parse("host;x-amz-date", AuthLocation::Header).unwrap();
        assert_eq!(plain.iter().collect::<Vec<_>>(), ["host", "x-amz-date"]);
        let escaped = SignedHeaders::parse_escaped("host%3Bx-amz-date").unwrap();
        assert_eq!(escaped, plain);
        // Decoded, `%3B` is part of a name, not a separator.
        let literal = SignedHeaders::parse("a%3bb", AuthLocation::Query).unwrap();
        assert_eq!(literal.iter().collect::<Vec<_>>(), ["a%3bb"]);
    }

    #[test]
    fn names_what_is_wrong_in_decoded_terms() {
        for (raw, decoded) in [("host%3B%3Bx", "host;;x"), ("host%3BX-Amz-Date", "host;X-Amz-Date"), ("", "")] {
            assert_eq!(
                SignedHeaders::parse_escaped(raw).unwrap_err(),
                SignedHeaders::parse(decoded, AuthLocation::Query).unwrap_err(),
                "{raw:?}"
            );
        }
    }
}
