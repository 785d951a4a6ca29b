//! Pure, sans-IO AWS Signature Version 4.
//!
//! Signs and verifies every form S3 knows: header authentication,
//! presigned URLs, browser POST policies and aws-chunked streams. Nothing
//! here does I/O, reads a clock or spawns a task: every function that
//! needs the time takes `now`, and verification takes the secret the
//! caller looked up.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use consign_sigv4::{Credentials, Endpoint, ObjectRequest, Signer};
//!
//! let signer = Signer::s3(Credentials::new("AKIDEXAMPLE", "secret"), "us-east-1");
//! let endpoint = Endpoint::parse("http://127.0.0.1:9000")?;
//! let put = ObjectRequest::put("uploads", "photos/cat.png")
//!     .header("content-type", "image/png")
//!     .header("content-length", "1024");
//! let grant = signer.presign_object(&endpoint, &put, Duration::from_secs(300), SystemTime::now())?;
//! assert!(grant.url.starts_with("http://127.0.0.1:9000/uploads/photos/cat.png?X-Amz-Algorithm=AWS4-HMAC-SHA256"));
//! let headers: Vec<_> = grant.headers().collect();
//! assert_eq!(headers, [("content-type".into(), "image/png"), ("content-length".into(), "1024")]);
//! # Ok::<(), consign_sigv4::SignError>(())
//! ```

pub mod canonical;
mod chunked;
mod credentials;
mod crypto;
pub mod encoding;
mod error;
mod key_cache;
pub mod post_policy;
mod request;
mod scan;
mod scope;
mod sign;
mod time;
mod verify;

pub use canonical::{CanonicalRequest, StringToSign, UriEncoding};
pub use chunked::{
    ChunkEncoder, ChunkedDecoder, Decoded, MAX_CHUNK_SIZE, MIN_SIGNED_CHUNK_SIZE, StreamingContext, StreamingMode,
};
pub use credentials::{Credentials, SecretKey};
pub use crypto::{EMPTY_SHA256, Hex64, PayloadHasher, SigningKey, constant_time_eq, sha256_hex};
pub use error::{AuthLocation, S3ErrorCode, SignError, VerifyError};
pub use key_cache::SigningKeyCache;
pub use post_policy::{PolicyDocument, PolicyOutcome, PostForm, PostPolicy};
pub use request::{
    HttpRequest, Payload, STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER, UNSIGNED_PAYLOAD,
};
pub use scope::CredentialScope;
pub use sign::{
    Addressing, Endpoint, HeaderSignature, MAX_EXPIRES_SECONDS, ObjectRequest, PresignedRequest, QuerySignature,
    SessionTokenPlacement, Signer, SigningSettings,
};
pub use time::{AmzDate, BadTimestamp};
pub use verify::{
    Authentication, AuthorizationHeader, Credential, DEFAULT_MAX_SKEW_SECONDS, PayloadCheck, PostAuth, PresignedQuery,
    SignedHeaders, Verified, Verifier,
};
