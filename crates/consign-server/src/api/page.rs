//! The upload page at `/` and Uppy's at `/uppy`, built into the binary:
//! `consign serve` shows it on a machine without Node. The client bundle is
//! `clients/js/dist/consign.js`, built from its TypeScript sources; the
//! Uppy page is `clients/uppy-page` (Uppy's Dashboard and `@uppy/aws-s3`
//! bundled). CI rebuilds both and fails when a committed bundle differs.
//!
//! With the development token secret, `POST /v1/dev/token` hands the page
//! a short-lived token for the subject `demo`: anyone can mint such tokens
//! with that public secret anyway. With a configured secret it answers 404
//! and the page must be given `?token=`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{ApiError, AppState, Authenticated};
use crate::auth::{TokenClaims, token};
use crate::uploads::now_ms;

const INDEX: &str = include_str!("../../web/index.html");
const UPPY: &str = include_str!("../../../../clients/uppy-page/uppy.html");
const ASSETS: [(&str, &str, &str); 5] = [
    ("app.js", "text/javascript; charset=utf-8", include_str!("../../web/app.js")),
    ("app.css", "text/css; charset=utf-8", include_str!("../../web/app.css")),
    ("consign.js", "text/javascript; charset=utf-8", include_str!("../../../../clients/js/dist/consign.js")),
    ("uppy-page.js", "text/javascript; charset=utf-8", include_str!("../../../../clients/uppy-page/dist/uppy-page.js")),
    ("uppy-page.css", "text/css; charset=utf-8", include_str!("../../../../clients/uppy-page/dist/uppy-page.css")),
];
/// How long a demo token lives.
const DEMO_TOKEN_SECONDS: i64 = 3600;

fn html(page: &'static str) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], page).into_response()
}

/// `GET /`.
pub async fn index() -> Response {
    html(INDEX)
}

/// `GET /uppy`: Uppy's Dashboard with `@uppy/aws-s3` pointed at the `/s3` routes.
pub async fn uppy() -> Response {
    html(UPPY)
}

/// `GET /assets/{name}`.
pub async fn asset(Path(name): Path<String>) -> Result<Response, ApiError> {
    let (_, content_type, body) = ASSETS
        .iter()
        .find(|(asset, _, _)| *asset == name)
        .ok_or_else(|| ApiError::not_found(format!("no asset {name:?}")))?;
    Ok(([(header::CONTENT_TYPE, *content_type), (header::CACHE_CONTROL, "no-cache")], *body).into_response())
}

/// `POST /v1/dev/token`: a token for the demo page, only with the development secret.
pub async fn dev_token(State(app): AppState) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    if !app.dev_tokens {
        return Err(ApiError::not_found(
            "demo tokens are only handed out with the development token secret; pass ?token= to the page",
        ));
    }
    let now = now_ms() / 1000;
    let claims = TokenClaims {
        sub: "demo".to_owned(),
        profiles: app.profiles.keys().cloned().collect(),
        prefix: Some("demo".to_owned()),
        exp: now + DEMO_TOKEN_SECONDS,
        iat: Some(now),
        nbf: None,
        quota: None,
    };
    let token = token::mint(&claims, app.auth.token_secret());
    Ok((StatusCode::CREATED, Json(json!({ "token": token, "claims": claims }))))
}

/// `GET /v1/profiles`: the profiles the caller may use, with their limits.
pub async fn profiles(State(app): AppState, Authenticated(caller): Authenticated) -> Json<serde_json::Value> {
    let profiles: Vec<serde_json::Value> = app
        .profiles
        .values()
        .filter(|profile| caller.may_use_profile(&profile.name))
        .map(|profile| {
            json!({
                "name": profile.name,
                "content_types": profile.content_types.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "min_size": profile.min_size,
                "max_size": profile.max_size,
                "methods": profile.methods,
                "checksum_required": profile.checksum == crate::config::ChecksumPolicy::Required,
                "metadata": profile.metadata,
                "part_size": profile.part_size,
            })
        })
        .collect();
    Json(json!({ "profiles": profiles }))
}
