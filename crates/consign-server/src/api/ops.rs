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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    use super::OPENAPI;

    /// Every route `api::router` registers, in OpenAPI path syntax.
    const ROUTES: &[(&str, &str)] = &[
        ("/v1/uploads", "post"),
        ("/v1/uploads", "get"),
        ("/v1/uploads/{id}", "get"),
        ("/v1/uploads/{id}", "delete"),
        ("/v1/uploads/{id}/parts", "post"),
        ("/v1/uploads/{id}/parts", "get"),
        ("/v1/uploads/{id}/complete", "post"),
        ("/v1/files/{id}/url", "get"),
        ("/v1/tokens", "post"),
        ("/v1/profiles", "get"),
        ("/v1/dev/token", "post"),
        ("/", "get"),
        ("/uppy", "get"),
        ("/assets/{name}", "get"),
        ("/v1/openapi.json", "get"),
        ("/s3/params", "get"),
        ("/s3/multipart", "post"),
        ("/s3/multipart/{uploadId}", "get"),
        ("/s3/multipart/{uploadId}", "delete"),
        ("/s3/multipart/{uploadId}/batch", "get"),
        ("/s3/multipart/{uploadId}/complete", "post"),
        ("/s3/multipart/{uploadId}/{partNumber}", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
    ];

    const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];

    fn document() -> Value {
        serde_json::from_str(OPENAPI).expect("openapi.json is valid JSON")
    }

    #[test]
    fn is_openapi_3_1() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["info"]["title"], "Consign");
        assert_eq!(doc["info"]["version"], "0.1.0");
    }

    #[test]
    fn documents_exactly_the_routes() {
        let doc = document();
        let paths = doc["paths"].as_object().expect("paths is an object");
        let documented: BTreeSet<(String, String)> = paths
            .iter()
            .flat_map(|(path, item)| {
                let item = item.as_object().expect("a path item is an object");
                item.keys()
                    .filter(|key| METHODS.contains(&key.as_str()))
                    .map(move |method| (path.clone(), method.clone()))
            })
            .collect();
        let expected: BTreeSet<(String, String)> =
            ROUTES.iter().map(|(path, method)| ((*path).to_owned(), (*method).to_owned())).collect();
        assert_eq!(ROUTES.len(), expected.len(), "ROUTES lists a route twice");
        let missing: Vec<_> = expected.difference(&documented).collect();
        let extra: Vec<_> = documented.difference(&expected).collect();
        assert!(missing.is_empty() && extra.is_empty(), "undocumented routes: {missing:?}; unknown routes: {extra:?}");
    }

    fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    match (key.as_str(), inner) {
                        ("$ref", Value::String(target)) => out.push(target),
                        _ => refs(inner, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| refs(item, out)),
            _ => {}
        }
    }

    #[test]
    fn every_ref_resolves() {
        let doc = document();
        let schemas = doc["components"]["schemas"].as_object().expect("components/schemas is an object");
        let mut found = Vec::new();
        refs(&doc, &mut found);
        // Discriminator mappings name schemas too.
        let mut mapped = Vec::new();
        for schema in schemas.values() {
            if let Some(mapping) = schema["discriminator"]["mapping"].as_object() {
                mapped.extend(mapping.values().filter_map(Value::as_str));
            }
        }
        assert!(!found.is_empty(), "the document uses no $ref");
        for target in found.into_iter().chain(mapped) {
            let name = target
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("{target} does not point into #/components/schemas"));
            assert!(schemas.contains_key(name), "{target} names no schema");
        }
    }
}
