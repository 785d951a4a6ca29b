//! Who is calling: the application's backend with an API key, or a browser
//! with an upload token the backend minted. Both arrive as
//! `Authorization: Bearer …`; a value with two dots is a token.

pub mod token;

use axum::http::HeaderMap;

use crate::api::ApiError;
use crate::config::{ApiKeyConfig, Secret};

pub use token::{TokenClaims, TokenError};

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Whose uploads these are.
    pub subject: String,
    /// A backend (may do anything) or a token holder (limited by its claims).
    pub kind: CallerKind,
}

/// The two kinds of caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerKind {
    /// The application's backend, by API key name.
    Backend {
        /// The key's configured name.
        key_name: String,
    },
    /// A browser with an upload token.
    Token(TokenClaims),
}

impl Caller {
    /// Whether the caller may use `profile`.
    pub fn may_use_profile(&self, profile: &str) -> bool {
        match &self.kind {
            CallerKind::Backend { .. } => true,
            CallerKind::Token(claims) => claims.profiles.iter().any(|p| p == profile),
        }
    }

    /// Whether the caller may see and change an upload of `subject`.
    pub fn owns(&self, subject: &str) -> bool {
        matches!(self.kind, CallerKind::Backend { .. }) || self.subject == subject
    }

    /// Whether this is the backend.
    pub fn is_backend(&self) -> bool {
        matches!(self.kind, CallerKind::Backend { .. })
    }

    /// The token's key prefix, if any.
    pub fn prefix(&self) -> Option<&str> {
        match &self.kind {
            CallerKind::Token(claims) => claims.prefix.as_deref(),
            CallerKind::Backend { .. } => None,
        }
    }

    /// The token's byte quota, if any.
    pub fn quota(&self) -> Option<u64> {
        match &self.kind {
            CallerKind::Token(claims) => claims.quota,
            CallerKind::Backend { .. } => None,
        }
    }
}

/// Checks `Authorization` against the API keys and the token secret.
#[derive(Debug)]
pub struct Authenticator {
    api_keys: Vec<ApiKeyConfig>,
    token_secret: Secret,
}

impl Authenticator {
    /// Accepts these keys and tokens signed with `token_secret`.
    pub fn new(api_keys: Vec<ApiKeyConfig>, token_secret: Secret) -> Self {
        Self { api_keys, token_secret }
    }

    /// The secret tokens are signed with.
    pub fn token_secret(&self) -> &Secret {
        &self.token_secret
    }

    /// Who sent `headers`.
    ///
    /// # Errors
    /// 401 with what is missing or wrong.
    pub fn authenticate(&self, headers: &HeaderMap, now: i64) -> Result<Caller, ApiError> {
        let value = headers.get(axum::http::header::AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthorized(
                "missing Authorization header: send `Authorization: Bearer <API key or upload token>`",
            )
        })?;
        let value = value.to_str().map_err(|_| ApiError::unauthorized("the Authorization header is not ASCII"))?;
        let credential = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header must be `Bearer <API key or upload token>`")
            })?;
        if credential.matches('.').count() == 2 {
            let claims = token::verify(credential, &self.token_secret, now)
                .map_err(|e| ApiError::unauthorized(e.to_string()))?;
            return Ok(Caller { subject: claims.sub.clone(), kind: CallerKind::Token(claims) });
        }
        // Every key is compared, so the time taken does not tell which matched.
        let mut found = None;
        for key in &self.api_keys {
            if consign_sigv4::constant_time_eq(key.key.expose().as_bytes(), credential.as_bytes()) {
                found = Some(key);
            }
        }
        let key = found.ok_or_else(|| ApiError::unauthorized("unknown API key"))?;
        Ok(Caller {
            subject: format!("backend:{}", key.name),
            kind: CallerKind::Backend { key_name: key.name.clone() },
        })
    }
}
