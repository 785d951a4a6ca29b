//! The HTTP surface: JSON under `/v1`, the Uppy-compatible `/s3` routes,
//! `/healthz`, `/readyz`, `/metrics` and the OpenAPI document. Every error
//! is JSON with a 4xx that says what to fix (or a 5xx that says it is ours).

mod error;
mod files;
pub mod json;
mod ops;
mod page;
mod tokens;
mod upload_routes;
mod uppy;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use tower_http::cors::{AllowOrigin, CorsLayer};

pub use error::ApiError;

use crate::App;

/// Shared state of the handlers.
pub type AppState = State<Arc<App>>;

/// Every route.
pub fn router(app: Arc<App>) -> Router {
    let api = Router::new()
        .route("/v1/uploads", post(upload_routes::create).get(upload_routes::list))
        .route("/v1/uploads/{id}", get(upload_routes::show).delete(upload_routes::abort))
        .route("/v1/uploads/{id}/parts", post(upload_routes::sign_parts).get(upload_routes::stored_parts))
        .route("/v1/uploads/{id}/complete", post(upload_routes::complete))
        .route("/v1/files/{id}/url", get(files::download_url))
        .route("/v1/tokens", post(tokens::mint))
        .route("/v1/profiles", get(page::profiles))
        .route("/v1/dev/token", post(page::dev_token))
        .route("/v1/openapi.json", get(ops::openapi))
        .route("/s3/params", get(uppy::params))
        .route("/s3/multipart", post(uppy::create_multipart))
        .route("/s3/multipart/{upload_id}", get(uppy::list_parts).delete(uppy::abort))
        .route("/s3/multipart/{upload_id}/batch", get(uppy::sign_batch))
        .route("/s3/multipart/{upload_id}/complete", post(uppy::complete))
        .route("/s3/multipart/{upload_id}/{part_number}", get(uppy::sign_part))
        .layer(axum::middleware::from_fn_with_state(Arc::clone(&app), timed));
    // Outermost, so a preflight is answered before routing looks at its method.
    let cors = cors(&app.cors_origins);
    Router::new()
        .merge(api)
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/", get(page::index))
        .route("/uppy", get(page::uppy))
        .route("/assets/{name}", get(page::asset))
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed)
        .with_state(app)
        .layer(cors)
}

/// CORS for browsers calling the API: the configured origins (`*`: any),
/// `Authorization` and `Content-Type` allowed, no cookies.
fn cors(origins: &[String]) -> CorsLayer {
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .max_age(std::time::Duration::from_secs(600))
}

/// Records request latency by route family.
async fn timed(State(app): AppState, request: Request, next: Next) -> Response {
    let is_grant = matches!(
        (request.method(), request.uri().path()),
        (&Method::POST, "/v1/uploads" | "/s3/multipart") | (&Method::GET, "/s3/params")
    );
    let started = Instant::now();
    let response = next.run(request).await;
    let histogram = if is_grant { &app.metrics.request_seconds.grant } else { &app.metrics.request_seconds.other };
    histogram.observe(started.elapsed());
    response
}

/// The authenticated caller of a request. As an extractor it runs before
/// the body is read, so a request without valid credentials gets 401
/// whatever its body.
#[derive(Debug)]
pub struct Authenticated(pub crate::auth::Caller);

impl axum::extract::FromRequestParts<Arc<App>> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        app.auth.authenticate(&parts.headers, crate::uploads::now_ms() / 1000).map(Authenticated)
    }
}

/// The decoded `name=value` pairs of a query string (`+` is a space).
///
/// # Errors
/// 400 for bad percent-encoding or text that is not UTF-8.
fn query_pairs(query: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    let decode = |text: &str| {
        consign_sigv4::encoding::query_decode(text)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes.into_owned()).ok())
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_query",
                    format!("the query parameter {text:?} is not valid percent-encoded UTF-8"),
                )
            })
    };
    query
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(name)?, decode(value)?))
        })
        .collect()
}

/// The first value of `name` in `pairs`.
fn query_value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}
