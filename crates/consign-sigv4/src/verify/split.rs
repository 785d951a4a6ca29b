//! Cutting a credential or a signed-header list at its separator: in its
//! decoded text, or straight in the query value as sent, where the
//! separator usually arrives escaped (`%2F`, `%3B`).

use crate::scan::find_any;

/// The two hex digits of `separator`'s escape, upper case.
fn escape_digits(separator: u8) -> [u8; 2] {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    [HEX[usize::from(separator >> 4)], HEX[usize::from(separator & 0x0f)]]
}

/// Whether `raw`, a query value as sent, decodes only by turning escapes
/// of the ASCII `separator` (`%2F` or `%2f` for `/`) into the separator:
/// it holds no `+` and no other `%`. Such a value is cut by
/// [`split_parts`] without being decoded.
pub(crate) fn only_separator_escapes(raw: &str, separator: u8) -> bool {
    let [hi, lo] = escape_digits(separator);
    let bytes = raw.as_bytes();
    let mut at = 0;
    loop {
        at = find_any(bytes, at, [b'%', b'+']);
        match bytes.get(at..) {
            None | Some([]) => return true,
            Some([b'%', h, l, ..]) if *h == hi && l.eq_ignore_ascii_case(&lo) => at += 3,
            Some(_) => return false,
        }
    }
}

/// The parts of `text` between separators: `text.split(separator)`
/// for an ASCII separator, found a word at a time (`str::split` goes
/// through a general `char` searcher, which costs more on parts this
/// short). With `escaped`, a `%` also starts a separator, written
/// as its three-byte escape: for a query value of which
/// [`only_separator_escapes`] holds, this gives the parts of its decoding,
/// as slices of the value as sent. An ASCII byte never falls inside a
/// multi-byte character, so every cut is on a boundary.
pub(crate) fn split_parts(text: &str, separator: u8, escaped: bool) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let text = rest?;
        let bytes = text.as_bytes();
        let at = if escaped { find_any(bytes, 0, [separator, b'%']) } else { find_any(bytes, 0, [separator]) };
        match bytes.get(at) {
            Some(&byte) => {
                let width = if byte == b'%' { 3 } else { 1 };
                rest = text.get(at + width..);
                text.get(..at)
            }
            None => {
                rest = None;
                Some(text)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::query_decode;

    const VALUES: [&str; 10] = [
        "",
        "/",
        "a",
        "a/b",
        "/a/",
        "a//b",
        "é/ü/",
        "AKID/20130524/us-east-1/s3/aws4_request",
        "AKID%2F20130524%2fus-east-1/s3%2Faws4_request",
        "%2F%2F",
    ];

    #[test]
    fn split_parts_matches_str_split() {
        for value in VALUES.iter().filter(|v| !v.contains('%')) {
            assert_eq!(
                split_parts(value, b'/', false).collect::<Vec<_>>(),
                value.split('/').collect::<Vec<_>>(),
                "{value:?}"
            );
        }
    }

    #[test]
    fn split_escaped_matches_splitting_the_decoding() {
        for value in VALUES {
            assert!(only_separator_escapes(value, b'/'), "{value:?}");
            let decoded = String::from_utf8(query_decode(value).unwrap().into_owned()).unwrap();
            assert_eq!(
                split_parts(value, b'/', true).collect::<Vec<_>>(),
                decoded.split('/').collect::<Vec<_>>(),
                "{value:?}"
            );
        }
        assert_eq!(
            split_parts("host%3bx-amz-date;range", b';', true).collect::<Vec<_>>(),
            ["host", "x-amz-date", "range"]
        );
    }

    #[test]
    fn other_escapes_and_plus_need_decoding() {
        for value in ["a+b", "a%20b", "a%2", "a%", "%2G", "a%3B"] {
            assert!(!only_separator_escapes(value, b'/'), "{value:?}");
        }
        assert!(only_separator_escapes("a%3Bb%3b", b';'));
    }
}
