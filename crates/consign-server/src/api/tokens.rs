//! `POST /v1/tokens`: the backend mints an upload token for a browser.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use super::json::JsonBody;
use super::{ApiError, AppState, Authenticated};
use crate::auth::{TokenClaims, token};
use crate::uploads::now_ms;

/// The longest a token may live.
const MAX_TTL_SECONDS: u64 = 24 * 3600;

/// What the backend asks for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MintRequest {
    subject: String,
    profiles: Vec<String>,
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    ttl_seconds: Option<u64>,
    #[serde(default)]
    quota_bytes: Option<u64>,
}

/// `POST /v1/tokens` (API key only).
pub async fn mint(
    State(app): AppState,
    Authenticated(caller): Authenticated,
    JsonBody(request): JsonBody<MintRequest>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    if !caller.is_backend() {
        return Err(ApiError::forbidden("backend_only", "only the backend (with an API key) may mint upload tokens"));
    }
    if request.subject.is_empty() || request.subject.len() > 200 || request.subject.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_subject",
            "subject must be 1 to 200 characters without control characters",
        ));
    }
    if request.profiles.is_empty() {
        return Err(ApiError::bad_request("invalid_profiles", "profiles must name at least one profile"));
    }
    for profile in &request.profiles {
        if !app.profiles.contains_key(profile) {
            return Err(ApiError::bad_request("unknown_profile", format!("profile {profile:?} does not exist")));
        }
    }
    if let Some(prefix) = &request.prefix {
        let bad = prefix.split('/').any(|s| s == ".." || s == ".")
            || prefix.chars().any(char::is_control)
            || prefix.len() > 200;
        if bad {
            return Err(ApiError::bad_request(
                "invalid_prefix",
                "prefix must be up to 200 characters, without control characters or . and .. segments",
            ));
        }
    }
    let ttl = request.ttl_seconds.unwrap_or(3600);
    if !(1..=MAX_TTL_SECONDS).contains(&ttl) {
        return Err(ApiError::bad_request("invalid_ttl", format!("ttl_seconds must be 1 to {MAX_TTL_SECONDS}")));
    }
    let now = now_ms() / 1000;
    let exp = now + i64::try_from(ttl).unwrap_or(3600);
    let claims = TokenClaims {
        sub: request.subject,
        profiles: request.profiles,
        prefix: request.prefix.map(|p| p.trim_matches('/').to_owned()).filter(|p| !p.is_empty()),
        exp,
        iat: Some(now),
        nbf: None,
        quota: request.quota_bytes,
    };
    let token = token::mint(&claims, app.auth.token_secret());
    let expires_at = consign_sigv4::AmzDate::from_unix(exp).to_iso8601();
    Ok((StatusCode::CREATED, Json(json!({ "token": token, "expires_at": expires_at, "claims": claims }))))
}
