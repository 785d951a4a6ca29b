//! Operations: liveness, readiness (database and storage answer), metrics,
//! the OpenAPI document, and JSON answers for unknown routes.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::json;

use super::{ApiError, AppState};

/// The OpenAPI 3.1 description of the API.
const OPENAPI: &str = include_str!("openapi.json");

/// `GET /healthz`: the process answers.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the database and the storage bucket answer.
pub async fn readyz(State(app): AppState) -> (StatusCode, Json<serde_json::Value>) {
    let database = app.db.ping().await.map_err(|e| e.to_string());
    let storage = app.storage.check_bucket().await.map_err(|e| e.to_string());
    let status = if database.is_ok() && storage.is_ok() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let show = |result: &Result<(), String>| match result {
        Ok(()) => "ok".to_owned(),
        Err(why) => why.clone(),
    };
    (status, Json(json!({ "database": show(&database), "storage": show(&storage) })))
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(app): AppState) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], app.metrics.render())
}

/// `GET /v1/openapi.json`.
pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

/// Unknown routes.
pub async fn not_found() -> ApiError {
    ApiError::not_found("no such route; the API is described at /v1/openapi.json")
}

/// Known routes, wrong method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method; see /v1/openapi.json",
    )
}
