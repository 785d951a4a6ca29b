//! A cache of derived signing keys.
//!
//! Deriving `kSigning` costs four HMACs. A busy signer or verifier sees the
//! same access key, date, region and service over and over, so it derives
//! each key once a day instead of once a request.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hasher};
use std::sync::{Arc, Mutex};

use crate::credentials::SecretKey;
use crate::crypto::{PrimedKey, SigningKey, constant_time_eq};
use crate::scope::CredentialScope;

/// Signing keys by access key ID and credential scope.
///
/// An entry also remembers the secret it was derived from, so a rotated
/// secret under the same access key ID is never served a stale key. A hit
/// allocates nothing.
pub struct SigningKeyCache {
    state: Mutex<State>,
    capacity: usize,
}

struct State {
    entries: HashMap<u64, Vec<Arc<Entry>>>,
    /// The entry served last. Requests come in runs of one access key and
    /// day, so it is checked first: comparing it costs a fraction of
    /// hashing the id for the map.
    last: Option<Arc<Entry>>,
    /// The last entry's key primed for the last second it signed, with
    /// that second's `X-Amz-Date`.
    primed: Option<([u8; 16], PrimedKey)>,
}

struct Entry {
    /// `access_key_id/date/region/service`.
    id: String,
    date: String,
    secret: SecretKey,
    key: Arc<SigningKey>,
}

impl Default for SigningKeyCache {
    fn default() -> Self {
        Self::new(1024)
    }
}

fn cache_id_parts<'a>(access_key_id: &'a str, scope: &CredentialScope<'a>) -> [&'a str; 7] {
    [access_key_id, "/", scope.date, "/", scope.region, "/", scope.service]
}

fn hash_parts(parts: &[&str]) -> u64 {
    let mut hasher = DefaultHasher::new();
    for part in parts {
        hasher.write(part.as_bytes());
    }
    hasher.finish()
}

impl Entry {
    /// Whether this is the key of the id made of `parts`, derived from `secret`.
    fn serves(&self, parts: &[&str], secret: &SecretKey) -> bool {
        same_id(&self.id, parts) && constant_time_eq(self.secret.expose().as_bytes(), secret.expose().as_bytes())
    }
}

fn same_id(id: &str, parts: &[&str]) -> bool {
    let mut rest = id;
    for part in parts {
        match rest.strip_prefix(part) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    rest.is_empty()
}

impl SigningKeyCache {
    /// A cache that holds at most `capacity` keys.
    pub fn new(capacity: usize) -> Self {
        Self {
            state: Mutex::new(State { entries: HashMap::new(), last: None, primed: None }),
            capacity: capacity.max(1),
        }
    }

    /// The signing key for `access_key_id` and `secret` within `scope`,
    /// derived on first use.
    pub fn get(&self, access_key_id: &str, secret: &SecretKey, scope: &CredentialScope<'_>) -> SigningKey {
        SigningKey::clone(&self.get_shared(access_key_id, secret, scope))
    }

    /// [`Self::get`] without copying the key out of the cache.
    pub(crate) fn get_shared(
        &self,
        access_key_id: &str,
        secret: &SecretKey,
        scope: &CredentialScope<'_>,
    ) -> Arc<SigningKey> {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Self::find(&mut state, self.capacity, &cache_id_parts(access_key_id, scope), secret, scope)
    }

    /// The signing key for `access_key_id` and `secret` within `scope`,
    /// primed with `head`: the string to sign up to the canonical
    /// request's hash, which must be determined by `scope` and `amz_date`.
    ///
    /// Requests come in runs of one key and second, so the primed key of
    /// the last entry and second is kept and the head hashed once for all.
    pub(crate) fn get_primed(
        &self,
        access_key_id: &str,
        secret: &SecretKey,
        scope: &CredentialScope<'_>,
        amz_date: &[u8; 16],
        head: &[&[u8]],
    ) -> PrimedKey {
        let parts = cache_id_parts(access_key_id, scope);
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, primed)) = state.primed.as_ref().filter(|(second, _)| second == amz_date) {
            if state.last.as_ref().is_some_and(|last| last.serves(&parts, secret)) {
                return primed.clone();
            }
        }
        let key = Self::find(&mut state, self.capacity, &parts, secret, scope);
        let primed = key.primed(head);
        state.primed = Some((*amz_date, primed.clone()));
        primed
    }

    /// The entry of `parts` and `secret`, derived and added when missing;
    /// it becomes the last entry served.
    fn find(
        state: &mut State,
        capacity: usize,
        parts: &[&str; 7],
        secret: &SecretKey,
        scope: &CredentialScope<'_>,
    ) -> Arc<SigningKey> {
        if let Some(last) = state.last.as_ref().filter(|last| last.serves(parts, secret)) {
            return Arc::clone(&last.key);
        }
        // The primed key belongs to the last entry, which is about to change.
        state.primed = None;
        let State { entries, last, .. } = state;
        let hash = hash_parts(parts);
        if let Some(bucket) = entries.get_mut(&hash) {
            if let Some(entry) = bucket.iter().find(|e| e.serves(parts, secret)) {
                *last = Some(Arc::clone(entry));
                return Arc::clone(&entry.key);
            }
            bucket.retain(|e| !same_id(&e.id, parts));
        }
        let key = Arc::new(SigningKey::derive(secret, scope));
        if entries.values().map(Vec::len).sum::<usize>() >= capacity {
            // Keys of other days are the first to go; if that is not
            // enough, start afresh rather than track recency.
            for bucket in entries.values_mut() {
                bucket.retain(|e| e.date == scope.date);
            }
            entries.retain(|_, bucket| !bucket.is_empty());
            if entries.values().map(Vec::len).sum::<usize>() >= capacity {
                entries.clear();
            }
        }
        let entry = Arc::new(Entry {
            id: parts.concat(),
            date: scope.date.to_owned(),
            secret: secret.clone(),
            key: Arc::clone(&key),
        });
        entries.entry(hash).or_default().push(Arc::clone(&entry));
        *last = Some(entry);
        key
    }

    /// Number of keys held.
    pub fn len(&self) -> usize {
        self.state.lock().map(|s| s.entries.values().map(Vec::len).sum()).unwrap_or(0)
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Debug for SigningKeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyCache").field("len", &self.len()).field("capacity", &self.capacity).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(date: &str) -> CredentialScope<'_> {
        CredentialScope { date, region: "us-east-1", service: "s3" }
    }

    #[test]
    fn derives_once_per_scope_and_notices_a_rotated_secret() {
        let cache = SigningKeyCache::new(8);
        let old = SecretKey::new("old");
        let new = SecretKey::new("new");
        let a = cache.get("AK", &old, &scope("20240101"));
        let b = cache.get("AK", &old, &scope("20240101"));
        assert_eq!(a.sign(b"x"), b.sign(b"x"));
        assert_eq!(cache.len(), 1);
        let rotated = cache.get("AK", &new, &scope("20240101"));
        assert_eq!(rotated.sign(b"x"), SigningKey::derive(&new, &scope("20240101")).sign(b"x"));
    }

    #[test]
    fn serves_each_of_two_alternating_keys_its_own() {
        let cache = SigningKeyCache::new(8);
        let (one, two) = (SecretKey::new("one"), SecretKey::new("two"));
        for _ in 0..3 {
            for (id, secret, day) in [("A", &one, "20240101"), ("B", &two, "20240101"), ("A", &one, "20240102")] {
                let expected = SigningKey::derive(secret, &scope(day)).sign(b"x");
                assert_eq!(cache.get(id, secret, &scope(day)).sign(b"x"), expected, "{id} {day}");
            }
        }
        assert_eq!(cache.len(), 3);
    }

    #[test]
    fn a_primed_key_follows_the_key_the_secret_and_the_second() {
        let cache = SigningKeyCache::new(8);
        let (one, two) = (SecretKey::new("one"), SecretKey::new("two"));
        let hash = crate::crypto::sha256_hex(b"request");
        // Runs of one key and second, then a change of each in turn: a
        // rotated secret, another access key, another second, another day.
        let calls = [
            ("A", &one, "20240101", b"20240101T000000Z"),
            ("A", &one, "20240101", b"20240101T000000Z"),
            ("A", &two, "20240101", b"20240101T000000Z"),
            ("B", &two, "20240101", b"20240101T000000Z"),
            ("B", &two, "20240101", b"20240101T000001Z"),
            ("B", &two, "20240102", b"20240102T000001Z"),
            ("A", &one, "20240101", b"20240101T000000Z"),
        ];
        for (id, secret, day, amz_date) in calls {
            let head: [&[u8]; 2] = [amz_date, day.as_bytes()];
            let primed = cache.get_primed(id, secret, &scope(day), amz_date, &head);
            let whole = [head.concat(), hash.as_bytes().to_vec()].concat();
            let expected = SigningKey::derive(secret, &scope(day)).sign(&whole);
            assert_eq!(primed.sign_hash(&hash), expected, "{id} {day} {amz_date:?}");
        }
    }

    #[test]
    fn stays_within_capacity() {
        let cache = SigningKeyCache::new(2);
        let secret = SecretKey::new("s");
        for day in ["20240101", "20240102", "20240103", "20240104"] {
            cache.get("AK", &secret, &scope(day));
            assert!(cache.len() <= 2);
        }
    }
}
