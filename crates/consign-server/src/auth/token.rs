//! Upload tokens: HS256 JSON Web Tokens that a backend mints (itself, with
//! the shared secret, or through `POST /v1/tokens`) and hands to a browser.
//! Only `alg: HS256` is accepted; `none` and every other algorithm are
//! refused, and the signature is compared in constant time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::config::Secret;

/// What a token grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    /// The user the uploads belong to.
    pub sub: String,
    /// Profiles it may use.
    pub profiles: Vec<String>,
    /// A key prefix all its uploads go under (`users/42`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Issued at, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Not before, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Bytes this subject may hold (pending and uploaded) at most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<u64>,
}

/// Why a token was refused; every message says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// Not three base64url parts, or not JSON.
    Malformed(&'static str),
    /// An algorithm other than HS256.
    Algorithm(String),
    /// The signature does not match.
    Signature,
    /// `exp` has passed.
    Expired {
        /// When it expired.
        at: i64,
    },
    /// `nbf` is in the future.
    NotYetValid,
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenError::Malformed(what) => write!(f, "the upload token is malformed: {what}"),
            TokenError::Algorithm(alg) => {
                write!(f, "the upload token uses algorithm {alg:?}; only HS256 is accepted")
            }
            TokenError::Signature => f.write_str(
                "the upload token's signature does not match: was it signed with this server's token secret?",
            ),
            TokenError::Expired { at } => {
                write!(f, "the upload token expired at Unix time {at}; ask the backend for a new one")
            }
            TokenError::NotYetValid => f.write_str("the upload token is not valid yet (nbf is in the future)"),
        }
    }
}

/// Clock difference tolerated between the minting backend and this server.
const LEEWAY_SECONDS: i64 = 30;

/// Signs `claims` into a compact JWT.
pub fn mint(claims: &TokenClaims, secret: &Secret) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signing_input = format!("{header}.{payload}");
    let signature = URL_SAFE_NO_PAD.encode(hmac(secret, signing_input.as_bytes()));
    format!("{signing_input}.{signature}")
}

/// Checks a compact JWT and returns its claims.
///
/// # Errors
/// [`TokenError`] saying what is wrong.
pub fn verify(token: &str, secret: &Secret, now: i64) -> Result<TokenClaims, TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed("expected three dot-separated parts"));
    };
    let header: serde_json::Value = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|h| serde_json::from_slice(&h).ok())
        .ok_or(TokenError::Malformed("the header is not base64url JSON"))?;
    match header.get("alg").and_then(|a| a.as_str()) {
        Some("HS256") => {}
        Some(other) => return Err(TokenError::Algorithm(other.to_owned())),
        None => return Err(TokenError::Malformed("the header has no alg")),
    }
    let signature =
        URL_SAFE_NO_PAD.decode(signature).map_err(|_| TokenError::Malformed("the signature is not base64url"))?;
    let signing_input = &token[..header_and_payload_len(token)];
    let expected = hmac(secret, signing_input.as_bytes());
    if !consign_sigv4::constant_time_eq(&expected, &signature) {
        return Err(TokenError::Signature);
    }
    let claims: TokenClaims = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|p| serde_json::from_slice(&p).ok())
        .ok_or(TokenError::Malformed("the claims are not base64url JSON with sub, profiles and exp"))?;
    if claims.exp + LEEWAY_SECONDS <= now {
        return Err(TokenError::Expired { at: claims.exp });
    }
    if claims.nbf.is_some_and(|nbf| nbf > now + LEEWAY_SECONDS) {
        return Err(TokenError::NotYetValid);
    }
    Ok(claims)
}

fn header_and_payload_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(token.len())
}

fn hmac(secret: &Secret, data: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(data);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> TokenClaims {
        TokenClaims {
            sub: "user-1".into(),
            profiles: vec!["images".into()],
            prefix: Some("users/1".into()),
            exp,
            iat: None,
            nbf: None,
            quota: Some(1000),
        }
    }

    #[test]
    fn round_trip_and_refusals() {
        let secret = Secret::new("s");
        let token = mint(&claims(2000), &secret);
        assert_eq!(verify(&token, &secret, 1000), Ok(claims(2000)));
        assert_eq!(verify(&token, &Secret::new("other"), 1000), Err(TokenError::Signature));
        assert_eq!(verify(&token, &secret, 3000), Err(TokenError::Expired { at: 2000 }));
        assert!(matches!(verify("a.b", &secret, 0), Err(TokenError::Malformed(_))));
        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(verify(&tampered, &secret, 1000), Err(TokenError::Signature));
    }

    #[test]
    fn alg_none_is_refused() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(2000)).unwrap());
        let token = format!("{header}.{payload}.");
        assert_eq!(verify(&token, &Secret::new("s"), 1000), Err(TokenError::Algorithm("none".into())));
    }

    /// A token made outside this crate (Python's `hmac` and `base64`, the
    /// way PyJWT builds one) verifies: the encoding is the standard one.
    #[test]
    fn a_token_signed_elsewhere_verifies() {
        // header {"alg":"HS256","typ":"JWT"}, claims {"sub":"u","profiles":["images"],"exp":4102444800}, secret "k"
        let token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1IiwicHJvZmlsZXMiOlsiaW1hZ2VzIl0sImV4cCI6NDEwMjQ0NDgwMH0.GvsNzDnNEaJiBr9tzeuS7632ZM0kkv7uImI-ki9jSE4";
        let claims = verify(token, &Secret::new("k"), 1_800_000_000).unwrap();
        assert_eq!((claims.sub.as_str(), claims.exp), ("u", 4_102_444_800));
    }
}
