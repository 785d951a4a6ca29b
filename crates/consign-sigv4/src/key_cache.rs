//! A cache of derived signing keys.
//!
//! Deriving `kSigning` costs four HMACs. A busy signer or verifier sees the
//! same access key, date, region and service over and over, so it derives
//! each key once a day instead of once a request.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hasher};
use std::sync::{Arc, Mutex};

use crate::credentials::SecretKey;
use crate::crypto::{SigningKey, constant_time_eq};
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
        Self { state: Mutex::new(State { entries: HashMap::new(), last: None }), capacity: capacity.max(1) }
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
        let parts = cache_id_parts(access_key_id, scope);
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(last) = state.last.as_ref().filter(|last| last.serves(&parts, secret)) {
            return Arc::clone(&last.key);
        }
        let State { entries, last } = &mut *state;
        let hash = hash_parts(&parts);
        if let Some(bucket) = entries.get_mut(&hash) {
            if let Some(entry) = bucket.iter().find(|e| e.serves(&parts, secret)) {
                *last = Some(Arc::clone(entry));
                return Arc::clone(&entry.key);
            }
            bucket.retain(|e| !same_id(&e.id, &parts));
        }
        let key = Arc::new(SigningKey::derive(secret, scope));
        if entries.values().map(Vec::len).sum::<usize>() >= self.capacity {
            // Keys of other days are the first to go; if that is not
            // enough, start afresh rather than track recency.
            for bucket in entries.values_mut() {
                bucket.retain(|e| e.date == scope.date);
            }
            entries.retain(|_, bucket| !bucket.is_empty());
            if entries.values().map(Vec::len).sum::<usize>() >= self.capacity {
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
    fn stays_within_capacity() {
        let cache = SigningKeyCache::new(2);
        let secret = SecretKey::new("s");
        for day in ["20240101", "20240102", "20240103", "20240104"] {
            cache.get("AK", &secret, &scope(day));
            assert!(cache.len() <= 2);
        }
    }
}
