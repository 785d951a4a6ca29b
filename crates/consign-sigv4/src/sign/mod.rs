//! Signing: header authentication, presigned URLs, POST forms and
//! aws-chunked streams, all through one [`Signer`].

mod endpoint;
mod header;
mod object;
mod presign;

use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};
use std::time::{Duration, SystemTime};

pub use endpoint::{Addressing, Endpoint};
pub use header::HeaderSignature;
pub use object::{ObjectRequest, PresignedRequest};
pub use presign::QuerySignature;

use crate::canonical::{ALGORITHM, CanonicalRequest, StringToSign, UriEncoding};
use crate::credentials::Credentials;
use crate::crypto::{Hex64, PrimedKey, SigningKey};
use crate::error::SignError;
use crate::post_policy::write_signed_conditions;
use crate::scope::CredentialScope;
use crate::time::AmzDate;

/// The longest a presigned URL may live: 7 days.
pub const MAX_EXPIRES_SECONDS: u64 = 604_800;

/// Where the session token of temporary credentials goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SessionTokenPlacement {
    /// Sent and signed (S3 and most services).
    #[default]
    Signed,
    /// Sent but added after signing, for the few services that want it so.
    AddedAfterSigning,
}

/// How requests are signed beyond the credentials and scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SigningSettings {
    /// How the path becomes the canonical URI.
    pub uri_encoding: UriEncoding,
    /// Whether header-signed requests carry (and sign) `x-amz-content-sha256`.
    /// S3 requires it.
    pub content_sha256_header: bool,
    /// Where the session token goes.
    pub session_token: SessionTokenPlacement,
}

impl SigningSettings {
    /// S3's rules: the key encoded once, `x-amz-content-sha256` sent.
    pub fn s3() -> Self {
        Self {
            uri_encoding: UriEncoding::S3,
            content_sha256_header: true,
            session_token: SessionTokenPlacement::Signed,
        }
    }

    /// The generic rules of other AWS services: normalized, double-encoded
    /// paths and no `x-amz-content-sha256`.
    pub fn generic() -> Self {
        Self {
            uri_encoding: UriEncoding::Normalized,
            content_sha256_header: false,
            session_token: SessionTokenPlacement::Signed,
        }
    }

    /// These settings with `x-amz-content-sha256` sent or not.
    pub fn with_content_sha256_header(mut self, send: bool) -> Self {
        self.content_sha256_header = send;
        self
    }

    /// These settings with another path encoding.
    pub fn with_uri_encoding(mut self, encoding: UriEncoding) -> Self {
        self.uri_encoding = encoding;
        self
    }

    /// These settings with the session token placed differently.
    pub fn with_session_token(mut self, placement: SessionTokenPlacement) -> Self {
        self.session_token = placement;
        self
    }
}

/// Signs requests for one set of credentials, region and service.
///
/// The signing key is derived once per day and kept, so a busy server pays
/// for the four-HMAC derivation once, not per request. A `Signer` is
/// `Send + Sync`: share one across threads.
pub struct Signer {
    credentials: Credentials,
    region: String,
    service: String,
    settings: SigningSettings,
    /// The key and scope texts of the most recent date used.
    day: RwLock<Option<Arc<DayState>>>,
    /// The time and primed key of the most recent second used.
    second: RwLock<Option<Arc<SecondState>>>,
}

/// What a signer keeps for one date: everything that changes only daily.
pub(crate) struct DayState {
    /// `YYYYMMDD`.
    date: String,
    /// The first second of the date, from which the times of the day are
    /// formatted without the calendar arithmetic.
    midnight: AmzDate,
    pub(crate) key: SigningKey,
    /// `\ndate/region/service/aws4_request\n`: the scope line of a string to
    /// sign with the line breaks around it, so signing feeds it in one piece.
    scope_line: String,
    /// `AKID/date/region/service/aws4_request`, the value of a POST form's
    /// `x-amz-credential`.
    pub(crate) credential: Arc<str>,
    /// The same, percent-encoded as the value of `X-Amz-Credential`.
    encoded_credential: String,
}

impl DayState {
    fn new(signer: &Signer, time: &AmzDate) -> Self {
        let scope = signer.scope(time);
        let mut encoded_credential = String::with_capacity(96);
        let credential_parts = [signer.credentials.access_key_id(), "/"].into_iter().chain(scope.parts());
        for part in credential_parts {
            crate::encoding::uri_encode_str_into(&mut encoded_credential, part, crate::encoding::Slash::Encode);
        }
        let mut credential = String::with_capacity(96);
        signer.write_credential(&mut credential, time);
        Self {
            date: time.date_stamp().to_owned(),
            midnight: AmzDate::from_unix(time.unix() - time.unix().rem_euclid(86_400)),
            key: SigningKey::derive(signer.credentials.secret(), &scope),
            scope_line: format!("\n{scope}\n"),
            credential: credential.into(),
            encoded_credential,
        }
    }
}

/// What every request signed in the same second shares (header signatures,
/// presigned URLs, POST policies): the day, the time, and the key primed
/// with the string to sign's head.
pub(crate) struct SecondState {
    pub(crate) day: Arc<DayState>,
    pub(crate) time: AmzDate,
    /// The first parameters of a presigned query, in their sorted order:
    /// `X-Amz-Algorithm`, `X-Amz-Credential` and `X-Amz-Date`.
    pub(crate) query_head: String,
    /// The conditions a POST policy signed now gets from the signer
    /// (algorithm, credential, date, session token), as policy JSON.
    pub(crate) post_conditions: String,
    primed: PrimedKey,
}

impl SecondState {
    fn new(day: Arc<DayState>, time: AmzDate, security_token: Option<&str>) -> Self {
        // Bytes, not `&str`: each `as_str` would check UTF-8 again.
        let primed = day.key.primed(&[ALGORITHM.as_bytes(), b"\n", time.as_bytes(), day.scope_line.as_bytes()]);
        let query_head = ["X-Amz-Algorithm=", ALGORITHM, "&X-Amz-Credential=", &day.encoded_credential, "&X-Amz-Date="]
            .into_iter()
            .chain([time.as_str()])
            .collect();
        let mut post_conditions = String::with_capacity(192);
        write_signed_conditions(&mut post_conditions, &day.credential, &time, security_token);
        Self { day, time, query_head, post_conditions, primed }
    }

    /// Signs the string to sign of a canonical request that hashes to
    /// `hash`, at this second.
    pub(crate) fn sign_hash(&self, hash: &Hex64) -> Hex64 {
        self.primed.sign_hash(hash)
    }

    /// Hashes `canonical` into the string to sign of this second under
    /// `scope` (the signer's) and signs it; the text is for the caller.
    fn sign_canonical(&self, canonical: &CanonicalRequest, scope: &CredentialScope<'_>) -> (StringToSign, Hex64) {
        let hash = canonical.hash();
        (StringToSign::new(ALGORITHM, &self.time, scope, &hash), self.sign_hash(&hash))
    }
}

/// A [`SecondState`] as [`Signer::second_at`] gives it: borrowed under the
/// cache's read lock while it is current, which spares the two atomic
/// reference-count updates of a shared copy, or just built.
///
/// Hold one at a time: a thread that asked for another second while
/// holding a cached one would wait for its own read lock.
pub(crate) enum SecondRef<'a> {
    /// The cached second; the lock holds a `Some`.
    Cached(RwLockReadGuard<'a, Option<Arc<SecondState>>>),
    Fresh(Arc<SecondState>),
}

impl std::ops::Deref for SecondRef<'_> {
    type Target = SecondState;

    fn deref(&self) -> &SecondState {
        match self {
            Self::Cached(guard) => guard.as_deref().unwrap_or_else(|| unreachable!("a second is cached")),
            Self::Fresh(second) => second,
        }
    }
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("credentials", &self.credentials)
            .field("region", &self.region)
            .field("service", &self.service)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A signer for `service` in `region`. The service `s3` gets S3's
    /// rules ([`SigningSettings::s3`]); any other gets the generic ones.
    pub fn new(credentials: Credentials, region: impl Into<String>, service: impl Into<String>) -> Self {
        let service = service.into();
        let settings = if service == "s3" { SigningSettings::s3() } else { SigningSettings::generic() };
        Self {
            credentials,
            region: region.into(),
            service,
            settings,
            day: RwLock::new(None),
            second: RwLock::new(None),
        }
    }

    /// A signer for S3 in `region`.
    pub fn s3(credentials: Credentials, region: impl Into<String>) -> Self {
        Self::new(credentials, region, "s3")
    }

    /// This signer with other settings.
    pub fn with_settings(mut self, settings: SigningSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The region signed for.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The service signed for.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The settings in force.
    pub fn settings(&self) -> &SigningSettings {
        &self.settings
    }

    /// The credential scope for `time`.
    pub fn scope<'a>(&'a self, time: &'a AmzDate) -> CredentialScope<'a> {
        CredentialScope { date: time.date_stamp(), region: &self.region, service: &self.service }
    }

    /// The signing key for the date of `time`, derived at most once a day.
    pub fn signing_key(&self, time: &AmzDate) -> SigningKey {
        self.day(time).key.clone()
    }

    /// The state of the date of `time`, built at most once a day. Readers
    /// share a read lock and take an `Arc`, so concurrent signers neither
    /// wait on each other nor copy the key.
    fn day(&self, time: &AmzDate) -> Arc<DayState> {
        let cached = self.day.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(day) = cached.as_ref().filter(|d| d.date == time.date_stamp()) {
            return Arc::clone(day);
        }
        drop(cached);
        let day = Arc::new(DayState::new(self, time));
        *self.day.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&day));
        day
    }

    /// The time `now` and the state of its date; on a date already cached,
    /// only the time of day is formatted.
    pub(crate) fn day_at(&self, now: SystemTime) -> (Arc<DayState>, AmzDate) {
        let unix = AmzDate::unix_of(now);
        let cached = self.day.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(day) = cached.as_ref().filter(|d| d.midnight.unix() == unix - unix.rem_euclid(86_400)) {
            return (Arc::clone(day), day.midnight.plus_seconds(unix - day.midnight.unix()));
        }
        drop(cached);
        let time = AmzDate::from_unix(unix);
        (self.day(&time), time)
    }

    /// The state of the second of `now`, built at most once a second: a
    /// busy signer formats no time and hashes no string-to-sign head.
    pub(crate) fn second_at(&self, now: SystemTime) -> SecondRef<'_> {
        let unix = AmzDate::unix_of(now);
        let cached = self.second.read().unwrap_or_else(PoisonError::into_inner);
        if cached.as_ref().is_some_and(|s| s.time.unix() == unix) {
            return SecondRef::Cached(cached);
        }
        drop(cached);
        let (day, time) = self.day_at(now);
        let second = Arc::new(SecondState::new(day, time, self.credentials.session_token()));
        *self.second.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&second));
        SecondRef::Fresh(second)
    }

    /// Appends `AKID/date/region/service/aws4_request`.
    pub(crate) fn write_credential(&self, out: &mut String, time: &AmzDate) {
        out.push_str(self.credentials.access_key_id());
        out.push('/');
        self.scope(time).write_to(out);
    }
}

/// Checks a presigned lifetime against SigV4's 1 s ..= 7 days.
fn expires_seconds(expires_in: Duration) -> Result<u64, SignError> {
    let seconds = expires_in.as_secs();
    if seconds == 0 || seconds > MAX_EXPIRES_SECONDS {
        return Err(SignError::ExpiresOutOfRange { seconds });
    }
    Ok(seconds)
}

/// The bytes of an HTTP token (RFC 9110 `tchar`).
const TOKEN_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(c, b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+')
            || matches!(c, b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~');
        b += 1;
    }
    table
};

fn is_token(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| TOKEN_BYTES[usize::from(b)])
}

/// Refuses header names that are not HTTP tokens and values that could
/// smuggle another header in.
fn check_header(name: &str, value: &str) -> Result<(), SignError> {
    if !is_token(name) || value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(SignError::InvalidHeader { name: name.chars().take(64).collect() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_must_be_within_one_second_and_seven_days() {
        assert!(expires_seconds(Duration::from_secs(1)).is_ok());
        assert!(expires_seconds(Duration::from_secs(604_800)).is_ok());
        assert_eq!(expires_seconds(Duration::ZERO), Err(SignError::ExpiresOutOfRange { seconds: 0 }));
        assert_eq!(expires_seconds(Duration::from_millis(999)), Err(SignError::ExpiresOutOfRange { seconds: 0 }));
        assert_eq!(
            expires_seconds(Duration::from_secs(604_801)),
            Err(SignError::ExpiresOutOfRange { seconds: 604_801 })
        );
    }

    #[test]
    fn one_signer_presigns_across_seconds_and_days_as_a_fresh_one() {
        let signer = || Signer::s3(Credentials::new("AKID", "secret"), "us-east-1");
        let (shared, endpoint) = (signer(), Endpoint::parse("http://127.0.0.1:9000").unwrap());
        let request = ObjectRequest::put("uploads", "a.png").header("content-type", "image/png");
        let t = 1_709_251_199; // one second before a midnight
        for unix in [t, t, t + 1, t + 1, t, t - 86_400, t + 86_401, t] {
            let at = std::time::UNIX_EPOCH + Duration::from_secs(unix);
            let presign = |s: &Signer| s.presign_object(&endpoint, &request, Duration::from_secs(60), at).unwrap().url;
            assert_eq!(presign(&shared), presign(&signer()), "at {unix}");
        }
    }

    #[test]
    fn threads_sharing_a_signer_across_seconds_get_a_fresh_signers_urls() {
        let signer = || Signer::s3(Credentials::new("AKID", "secret"), "us-east-1");
        let (shared, endpoint) = (signer(), Endpoint::parse("http://127.0.0.1:9000").unwrap());
        let request = ObjectRequest::put("uploads", "a.png");
        let at = |i: u64| std::time::UNIX_EPOCH + Duration::from_secs(1_709_251_198 + i % 3);
        let presign =
            |s: &Signer, i| s.presign_object(&endpoint, &request, Duration::from_secs(60), at(i)).unwrap().url;
        let expected: Vec<String> = (0..3).map(|i| presign(&signer(), i)).collect();
        std::thread::scope(|scope| {
            for thread in 0..4 {
                let (shared, expected, presign) = (&shared, &expected, &presign);
                scope.spawn(move || {
                    for i in thread..thread + 300 {
                        assert_eq!(presign(shared, i), expected[(i % 3) as usize], "thread {thread}, call {i}");
                    }
                });
            }
        });
    }

    #[test]
    fn signer_debug_hides_the_secret() {
        let signer = Signer::s3(Credentials::new("AKID", "very-secret-value"), "us-east-1");
        let shown = format!("{signer:?}");
        assert!(shown.contains("AKID") && !shown.contains("very-secret-value"), "{shown}");
    }
}
