//! The only module that touches SHA-256 and HMAC.
//!
//! Everything else asks for a hash, a signing key or a signature through the
//! functions here, so the choice of crypto library is made in one place.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::credentials::SecretKey;
use crate::scope::CredentialScope;

type HmacSha256 = Hmac<Sha256>;

/// SHA-256 of the empty string, the payload hash of a request without a body.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// A lower-case hex SHA-256 digest or HMAC-SHA256 signature: 64 ASCII bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Hex64([u8; 64]);

impl Hex64 {
    /// The digest as text.
    pub fn as_str(&self) -> &str {
        // Only ever filled by `encode_hex`, which writes ASCII.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// [`Self::as_str`] as bytes, without checking them again.
    pub(crate) fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }

    fn from_digest(bytes: &[u8]) -> Self {
        let mut out = [0u8; 64];
        encode_hex(bytes, &mut out);
        Self(out)
    }
}

impl std::fmt::Display for Hex64 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for Hex64 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The two lower-case hex digits of every byte value.
const HEX_PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut pairs = [[0u8; 2]; 256];
    let mut byte = 0;
    while byte < 256 {
        pairs[byte] = [DIGITS[byte >> 4], DIGITS[byte & 0x0f]];
        byte += 1;
    }
    pairs
};

/// Writes `bytes` as lower-case hex into `out`, two digits a byte: one
/// table load and one two-byte store each, about a third of the work of
/// looking up each digit (it is done twice per signature).
fn encode_hex(bytes: &[u8], out: &mut [u8]) {
    for (pair, byte) in out.chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&HEX_PAIRS[usize::from(*byte)]);
    }
}

/// Lower-case hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> Hex64 {
    Hex64::from_digest(&Sha256::digest(data))
}

/// An incremental SHA-256, for payloads that arrive in pieces.
#[derive(Clone, Default)]
pub struct PayloadHasher(Sha256);

impl std::fmt::Debug for PayloadHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PayloadHasher")
    }
}

impl PayloadHasher {
    /// A hasher with nothing fed yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds more bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The lower-case hex digest of everything fed.
    pub fn finish_hex(self) -> Hex64 {
        Hex64::from_digest(&self.0.finalize())
    }
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The derived key `kSigning` for one date, region and service.
///
/// It holds HMAC state already keyed with `kSigning`, so a signature costs
/// only the hashing of the string to sign. The state is zeroized on drop
/// and `Debug` never prints it.
#[derive(Clone)]
pub struct SigningKey {
    keyed: HmacSha256,
}

impl SigningKey {
    /// Derives `kSigning` = HMAC chain over the date, region, service and
    /// `aws4_request`, starting from `"AWS4" + secret`.
    pub fn derive(secret: &SecretKey, scope: &CredentialScope<'_>) -> Self {
        let mut prefixed = zeroize::Zeroizing::new(Vec::with_capacity(4 + secret.expose().len()));
        prefixed.extend_from_slice(b"AWS4");
        prefixed.extend_from_slice(secret.expose().as_bytes());
        let mut k = zeroize::Zeroizing::new(hmac(&prefixed, scope.date.as_bytes()));
        *k = hmac(&*k, scope.region.as_bytes());
        *k = hmac(&*k, scope.service.as_bytes());
        *k = hmac(&*k, b"aws4_request");
        Self::from_bytes(&k)
    }

    fn from_bytes(key: &[u8; 32]) -> Self {
        Self { keyed: HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!()) }
    }

    /// HMAC-SHA256 of `string_to_sign` under this key, as lower-case hex.
    pub fn sign(&self, string_to_sign: &[u8]) -> Hex64 {
        let mut mac = self.keyed.clone();
        mac.update(string_to_sign);
        Hex64::from_digest(&mac.finalize().into_bytes())
    }

    /// Signs a message given in pieces, as if they were concatenated.
    pub fn sign_parts<P: AsRef<[u8]>>(&self, parts: &[P]) -> Hex64 {
        let mut mac = self.keyed.clone();
        for part in parts {
            mac.update(part.as_ref());
        }
        Hex64::from_digest(&mac.finalize().into_bytes())
    }

    /// This key, fed `head` (the string to sign up to the canonical
    /// request's hash), for the signatures of one second.
    pub(crate) fn primed(&self, head: &[&[u8]]) -> PrimedKey {
        let mut mac = self.keyed.clone();
        for part in head {
            mac.update(part);
        }
        PrimedKey { mac }
    }

    /// The raw key bytes, for comparison with published vectors in tests.
    #[cfg(test)]
    pub(crate) fn test_only_from_hex(hex: &str) -> Self {
        let mut key = [0u8; 32];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or(0);
        }
        Self::from_bytes(&key)
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

/// A signing key already fed the head of a string to sign: the algorithm
/// line, the time and the scope, all but the canonical request's hash.
///
/// The head is the same for every request signed in the same second under
/// the same scope, and it is longer than a SHA-256 block, so keeping the
/// state after it spares each signature one block of hashing.
#[derive(Clone)]
pub(crate) struct PrimedKey {
    mac: HmacSha256,
}

impl PrimedKey {
    /// The signature of the string to sign that ends with `hash`.
    pub fn sign_hash(&self, hash: &Hex64) -> Hex64 {
        let mut mac = self.mac.clone();
        mac.update(hash.as_bytes());
        Hex64::from_digest(&mac.finalize().into_bytes())
    }
}

impl std::fmt::Debug for PrimedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrimedKey(<redacted>)")
    }
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    // Eight bytes at a time: `subtle` hides every comparison from the
    // optimizer, which costs the same per word as per byte.
    let (a_words, b_words) = (a.chunks_exact(8), b.chunks_exact(8));
    let tails_equal = a_words.remainder().ct_eq(b_words.remainder());
    let word = |chunk: &[u8]| u64::from_le_bytes(chunk.try_into().unwrap_or_default());
    let equal = a_words.zip(b_words).fold(tails_equal, |equal, (x, y)| equal & word(x).ct_eq(&word(y)));
    bool::from(equal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_the_signing_key_of_the_s3_documentation_examples() {
        let secret = SecretKey::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        let scope = CredentialScope { date: "20130524", region: "us-east-1", service: "s3" };
        let derived = SigningKey::derive(&secret, &scope);
        let published =
            SigningKey::test_only_from_hex("dbb893acc010964918f1fd433add87c70e8b0db6be30c1fbeafefa5ec6ba8378");
        assert_eq!(derived.sign(b"probe"), published.sign(b"probe"));
    }

    #[test]
    fn sign_parts_equals_sign_of_the_concatenation() {
        let key = SigningKey::test_only_from_hex(&"ab".repeat(32));
        assert_eq!(key.sign(b"hello world"), key.sign_parts(&["hello", " ", "world"]));
    }

    #[test]
    fn a_primed_key_signs_as_the_whole_string_to_sign() {
        let key = SigningKey::test_only_from_hex(&"cd".repeat(32));
        let hash = sha256_hex(b"canonical request");
        let head: [&[u8]; 3] = [b"AWS4-HMAC-SHA256\n20240101T000000Z\n", b"20240101/us-east-1/s3/aws4_request", b"\n"];
        let whole = [head.concat(), hash.as_bytes().to_vec()].concat();
        assert_eq!(key.primed(&head).sign_hash(&hash), key.sign(&whole));
        assert_eq!(format!("{:?}", key.primed(&head)), "PrimedKey(<redacted>)");
    }

    #[test]
    fn signing_key_debug_hides_the_key() {
        let key = SigningKey::test_only_from_hex(&"ab".repeat(32));
        assert_eq!(format!("{key:?}"), "SigningKey(<redacted>)");
    }

    #[test]
    fn hex_has_two_lower_case_digits_for_every_byte() {
        let every_byte: Vec<u8> = (0..=255).collect();
        let mut out = vec![0u8; 512];
        encode_hex(&every_byte, &mut out);
        let expected: String = every_byte.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn empty_sha256_constant_is_the_hash_of_nothing() {
        assert_eq!(sha256_hex(b"").as_str(), EMPTY_SHA256);
    }

    #[test]
    fn constant_time_eq_checks_length_and_content() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
