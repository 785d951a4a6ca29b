//! Object keys, always chosen by the server: a template such as
//! `{prefix}/{yyyy}/{mm}/{dd}/{uuid}/{safe-filename}`. The client's filename
//! only ever contributes a sanitised last segment.

use consign_sigv4::AmzDate;

/// A parsed key template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyTemplate {
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Prefix,
    Year,
    Month,
    Day,
    Uuid,
    SafeFilename,
    Extension,
    Subject,
}

/// What a key is made from.
#[derive(Debug, Clone, Copy)]
pub struct KeyInputs<'a> {
    /// The profile's prefix, joined with the caller's own prefix.
    pub prefix: &'a str,
    /// The upload's id.
    pub uuid: &'a str,
    /// The filename the client gave.
    pub filename: &'a str,
    /// Who uploads.
    pub subject: &'a str,
    /// When.
    pub now: &'a AmzDate,
}

impl KeyTemplate {
    /// Reads a template; `{uuid}` must appear so keys never collide.
    ///
    /// # Errors
    /// A message naming the unknown variable or the missing `{uuid}`.
    pub fn parse(template: &str) -> Result<Self, String> {
        let mut pieces = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                pieces.push(Piece::Text(rest[..open].to_owned()));
            }
            let close = rest[open..].find('}').ok_or_else(|| format!("key_template {template:?}: unclosed {{"))?;
            let name = &rest[open + 1..open + close];
            pieces.push(match name {
                "prefix" => Piece::Prefix,
                "yyyy" => Piece::Year,
                "mm" => Piece::Month,
                "dd" => Piece::Day,
                "uuid" => Piece::Uuid,
                "safe-filename" => Piece::SafeFilename,
                "ext" => Piece::Extension,
                "subject" => Piece::Subject,
                other => {
                    return Err(format!(
                        "key_template {template:?}: unknown variable {{{other}}} (known: prefix, yyyy, mm, dd, uuid, \
                         safe-filename, ext, subject)"
                    ));
                }
            });
            rest = &rest[open + close + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_owned()));
        }
        if !pieces.contains(&Piece::Uuid) {
            return Err(format!(
                "key_template {template:?} must contain {{uuid}}, so that two uploads never share a key"
            ));
        }
        Ok(Self { pieces })
    }

    /// The key for `inputs`, without empty segments.
    pub fn render(&self, inputs: &KeyInputs<'_>) -> String {
        let stamp = inputs.now.as_str();
        let mut key = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => key.push_str(text),
                Piece::Prefix => key.push_str(inputs.prefix),
                Piece::Year => key.push_str(&stamp[0..4]),
                Piece::Month => key.push_str(&stamp[4..6]),
                Piece::Day => key.push_str(&stamp[6..8]),
                Piece::Uuid => key.push_str(inputs.uuid),
                Piece::SafeFilename => key.push_str(&safe_filename(inputs.filename)),
                Piece::Extension => key.push_str(&extension(inputs.filename)),
                Piece::Subject => key.push_str(&safe_filename(inputs.subject)),
            }
        }
        key.split('/').filter(|s| !s.is_empty()).collect::<Vec<_>>().join("/")
    }
}

/// A filename reduced to letters, digits, `.`, `-` and `_` (other
/// characters become `-`), with no leading dot, at most 100 bytes: safe as
/// one key segment and in a `Content-Disposition` header.
pub fn safe_filename(filename: &str) -> String {
    let mut out = String::with_capacity(filename.len().min(100));
    for c in filename.chars() {
        let c = if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '-' };
        if c == '-' && out.ends_with('-') {
            continue;
        }
        if out.len() + c.len_utf8() > 100 {
            break;
        }
        out.push(c);
    }
    let trimmed = out.trim_start_matches(['.', '-']).trim_end_matches('-').replace("-.", ".");
    if trimmed.is_empty() { "file".to_owned() } else { trimmed }
}

fn extension(filename: &str) -> String {
    let safe = safe_filename(filename);
    match safe.rsplit_once('.') {
        Some((_, ext)) if !ext.is_empty() && ext.len() <= 10 => ext.to_ascii_lowercase(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_default_template() {
        let template = KeyTemplate::parse("{prefix}/{yyyy}/{mm}/{dd}/{uuid}/{safe-filename}").unwrap();
        let now = AmzDate::parse("20261125T141630Z").unwrap();
        let inputs =
            KeyInputs { prefix: "avatars/user-7", uuid: "u-1", filename: "my cat (1).PNG", subject: "7", now: &now };
        assert_eq!(template.render(&inputs), "avatars/user-7/2026/11/25/u-1/my-cat-1.PNG");
    }

    #[test]
    fn filenames_cannot_escape_their_segment() {
        assert_eq!(safe_filename("../../etc/passwd"), "etc-passwd");
        assert_eq!(safe_filename(".htaccess"), "htaccess");
        assert_eq!(safe_filename("\u{0}\u{7}"), "file");
        assert_eq!(safe_filename("résumé.pdf"), "résumé.pdf");
        assert!(safe_filename(&"a".repeat(10_000)).len() <= 100);
        assert_eq!(extension("photo.JPG"), "jpg");
    }

    #[test]
    fn templates_need_a_uuid_and_known_variables() {
        assert!(KeyTemplate::parse("{prefix}/{safe-filename}").unwrap_err().contains("{uuid}"));
        assert!(KeyTemplate::parse("{uuid}/{nope}").unwrap_err().contains("unknown variable {nope}"));
        assert!(KeyTemplate::parse("{uuid").is_err());
    }
}
