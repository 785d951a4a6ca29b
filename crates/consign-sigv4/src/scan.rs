//! Finding the first of a few ASCII bytes in a text, eight bytes at a time.
//!
//! Query strings, credentials and header lists are cut at a handful of
//! bytes (`&`, `=`, `%`, `/`, `;`); testing a word at a time costs a third of
//! a byte-by-byte scan on the texts SigV4 reads.

/// The index of the first byte of `bytes` at or after `from` that is one of
/// `targets`, or `bytes.len()` when there is none. A byte of a word equals
/// `c` when that byte of `word ^ c…c` is zero, and the classic zero-byte
/// test finds the lowest such byte exactly.
pub(crate) fn find_any<const N: usize>(bytes: &[u8], from: usize, targets: [u8; N]) -> usize {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_bytes = |x: u64| x.wrapping_sub(LOW) & !x & HIGH;
    let mut at = from;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let hits = targets.iter().fold(0, |hits, &c| hits | zero_bytes(word ^ (LOW * u64::from(c))));
        if hits != 0 {
            return at + (hits.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while bytes.get(at).is_some_and(|b| !targets.contains(b)) {
        at += 1;
    }
    at
}

/// Whether `class` holds for every byte of `bytes`, tested sixteen at a
/// time: each block is a fixed-size fold, which the compiler turns into a
/// few vector instructions. The last partial block is tested as the last
/// sixteen bytes, or in a text of 8 to 15 bytes as its first and last
/// eight, all read in place (copying them into a block first costs a
/// stalled load); only a text of fewer than eight bytes is tested byte by
/// byte. (The loop over blocks stops at the first failing one; without that
/// exit the compiler vectorizes it across blocks instead, byte by byte.)
pub(crate) fn all_bytes(bytes: &[u8], class: impl Fn(u8) -> bool + Copy) -> bool {
    let holds = |block: &[u8]| block.iter().fold(true, |all, &b| all & class(b));
    let mut blocks = bytes.chunks_exact(16);
    for block in &mut blocks {
        if !block.first_chunk::<16>().is_some_and(|block| holds(block)) {
            return false;
        }
    }
    let rest = blocks.remainder();
    if rest.is_empty() {
        return true;
    }
    if let Some(last) = bytes.last_chunk::<16>() {
        return holds(last);
    }
    match (rest.first_chunk::<8>(), rest.last_chunk::<8>()) {
        (Some(first), Some(last)) => holds(first) & holds(last),
        _ => holds(rest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_target_at_every_position() {
        let plain = "abcdefghijklmnopqrstuvwxyz0123456789";
        for special in ['&', '=', '%', '+'] {
            for at in 0..plain.len() {
                let mut text = plain.to_owned();
                text.insert(at, special);
                text.push('&');
                for from in 0..=at {
                    assert_eq!(find_any(text.as_bytes(), from, [b'&', b'=', b'%', b'+']), at, "{text:?} from {from}");
                }
            }
        }
        assert_eq!(find_any(plain.as_bytes(), 3, [b'&']), plain.len());
        assert_eq!(find_any("é/ü".as_bytes(), 0, [b'/']), 2);
    }

    #[test]
    fn all_bytes_tests_every_byte_of_every_length() {
        let digit = |b: u8| b.is_ascii_digit();
        for len in 0..50 {
            let text = vec![b'7'; len];
            assert!(all_bytes(&text, digit), "{len}");
            for at in 0..len {
                let mut text = text.clone();
                text[at] = b'x';
                assert!(!all_bytes(&text, digit), "{len} {at}");
            }
        }
    }
}
