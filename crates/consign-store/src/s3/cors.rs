//! CORS: per-bucket rules (PutBucketCors, GetBucketCors, DeleteBucketCors),
//! preflight `OPTIONS` answered from them, and the response headers of
//! cross-origin requests, so a web page can upload and read `ETag`.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html>

use axum::body::Body;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::error::S3Error;
use super::object::insert;
use super::request::S3Request;
use super::xml::{Element, XmlWriter};
use super::{read_xml_body, readable_bucket, writable_bucket, xml_response};
use crate::Store;

/// A bucket's CORS rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorsConfiguration {
    /// Tried in order; the first that matches answers.
    pub rules: Vec<CorsRule>,
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorsRule {
    /// An optional name.
    pub id: Option<String>,
    /// Origins, each with at most one `*`.
    pub allowed_origins: Vec<String>,
    /// `GET`, `PUT`, `POST`, `DELETE`, `HEAD`.
    pub allowed_methods: Vec<String>,
    /// Request headers a preflight may ask for (`*` wildcards allowed).
    pub allowed_headers: Vec<String>,
    /// Response headers the page may read, such as `ETag`.
    pub expose_headers: Vec<String>,
    /// How long a browser may cache the preflight answer.
    pub max_age_seconds: Option<u32>,
}

/// The most rules a configuration may hold (S3's limit).
const MAX_RULES: usize = 100;
const METHODS: [&str; 5] = ["GET", "PUT", "POST", "DELETE", "HEAD"];

/// The rules used for buckets without their own when the store runs in
/// development mode: any origin may upload and read, and the headers a
/// browser client needs are exposed.
pub fn development_default() -> CorsConfiguration {
    CorsConfiguration {
        rules: vec![CorsRule {
            id: Some("consign-development-default".to_owned()),
            allowed_origins: vec!["*".to_owned()],
            allowed_methods: METHODS.iter().map(|m| (*m).to_owned()).collect(),
            allowed_headers: vec!["*".to_owned()],
            expose_headers: [
                "ETag",
                "Content-Length",
                "Content-Range",
                "Location",
                "x-amz-request-id",
                "x-amz-checksum-crc32",
                "x-amz-checksum-crc32c",
                "x-amz-checksum-crc64nvme",
                "x-amz-checksum-sha1",
                "x-amz-checksum-sha256",
            ]
            .iter()
            .map(|h| (*h).to_owned())
            .collect(),
            max_age_seconds: Some(3000),
        }],
    }
}

/// `*` matches any run of characters, once.
fn wildcard_match(pattern: &str, value: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern.eq_ignore_ascii_case(value),
        // Bytes, not chars: a value is client input and may cut a
        // multi-byte character anywhere.
        Some((head, tail)) => {
            let value = value.as_bytes();
            value.len() >= head.len() + tail.len()
                && value[..head.len()].eq_ignore_ascii_case(head.as_bytes())
                && value[value.len() - tail.len()..].eq_ignore_ascii_case(tail.as_bytes())
        }
    }
}

impl CorsRule {
    fn matches(&self, origin: &str, method: &str, headers: &[&str]) -> bool {
        self.allowed_origins.iter().any(|o| wildcard_match(o, origin))
            && self.allowed_methods.iter().any(|m| m == method)
            && headers.iter().all(|h| self.allowed_headers.iter().any(|a| wildcard_match(a, h)))
    }
}

impl CorsConfiguration {
    /// The first rule allowing `origin` to use `method` with `headers`.
    pub fn find(&self, origin: &str, method: &str, headers: &[&str]) -> Option<&CorsRule> {
        self.rules.iter().find(|r| r.matches(origin, method, headers))
    }

    /// Reads a `CORSConfiguration` document.
    ///
    /// # Errors
    /// `MalformedXML` naming the rule and what is wrong with it.
    pub fn from_xml(root: &Element) -> Result<Self, S3Error> {
        if root.name != "CORSConfiguration" {
            return Err(S3Error::malformed_xml(format!(
                "the root element must be CORSConfiguration, not {}",
                root.name
            )));
        }
        let mut rules = Vec::new();
        for (i, rule) in root.children_named("CORSRule").enumerate() {
            let texts = |name: &str| rule.children_named(name).map(|c| c.text.trim().to_owned()).collect::<Vec<_>>();
            let parsed = CorsRule {
                id: rule.child_text("ID").map(str::to_owned),
                allowed_origins: texts("AllowedOrigin"),
                allowed_methods: texts("AllowedMethod"),
                allowed_headers: texts("AllowedHeader"),
                expose_headers: texts("ExposeHeader"),
                max_age_seconds: match rule.child_text("MaxAgeSeconds") {
                    None => None,
                    Some(v) => Some(v.trim().parse().map_err(|_| {
                        S3Error::malformed_xml(format!("CORSRule {}: MaxAgeSeconds must be a whole number", i + 1))
                    })?),
                },
            };
            if parsed.allowed_origins.is_empty() || parsed.allowed_methods.is_empty() {
                return Err(S3Error::malformed_xml(format!(
                    "CORSRule {} needs at least one AllowedOrigin and one AllowedMethod",
                    i + 1
                )));
            }
            if let Some(bad) = parsed.allowed_methods.iter().find(|m| !METHODS.contains(&m.as_str())) {
                return Err(S3Error::invalid_request(format!(
                    "Found unsupported HTTP method in CORS config. Unsupported method is {bad}"
                )));
            }
            if let Some(bad) =
                parsed.allowed_origins.iter().chain(&parsed.allowed_headers).find(|o| o.matches('*').count() > 1)
            {
                return Err(S3Error::invalid_request(format!("{bad:?} can not have more than one wildcard.")));
            }
            rules.push(parsed);
        }
        if rules.is_empty() || rules.len() > MAX_RULES {
            return Err(S3Error::malformed_xml(format!(
                "a CORS configuration holds 1 to {MAX_RULES} CORSRule elements"
            )));
        }
        Ok(Self { rules })
    }

    fn to_xml(&self) -> String {
        let mut xml = XmlWriter::new();
        xml.root("CORSConfiguration");
        for rule in &self.rules {
            xml.open("CORSRule");
            if let Some(id) = &rule.id {
                xml.element("ID", id);
            }
            for (name, values) in [
                ("AllowedHeader", &rule.allowed_headers),
                ("AllowedMethod", &rule.allowed_methods),
                ("AllowedOrigin", &rule.allowed_origins),
                ("ExposeHeader", &rule.expose_headers),
            ] {
                for value in values {
                    xml.element(name, value);
                }
            }
            if let Some(age) = rule.max_age_seconds {
                xml.element("MaxAgeSeconds", &age.to_string());
            }
            xml.close("CORSRule");
        }
        xml.close("CORSConfiguration");
        xml.finish()
    }
}

/// The rules in force for `bucket`: its own, or the development default
/// when the store allows it (also for buckets that do not exist, so a page
/// can read the error).
fn rules_for(store: &Store, bucket: Option<&str>) -> Option<CorsConfiguration> {
    let own = bucket.and_then(|b| store.storage().bucket(b)).and_then(|b| b.config().cors);
    own.or_else(|| store.config().permissive_cors_default.then(development_default))
}

fn allow_origin(rule: &CorsRule, origin: &str) -> String {
    if rule.allowed_origins.iter().any(|o| o == "*") { "*".to_owned() } else { origin.to_owned() }
}

/// Answers a preflight `OPTIONS` request from the bucket's rules.
///
/// # Errors
/// 400 when `Origin` or `Access-Control-Request-Method` is missing; 403
/// `AccessForbidden` when no rule allows the request.
pub fn preflight(store: &Store, request: &S3Request) -> Result<Response, S3Error> {
    let (Some(origin), Some(method)) = (request.header("origin"), request.header("access-control-request-method"))
    else {
        return Err(S3Error::new(
            "BadRequest",
            StatusCode::BAD_REQUEST,
            "Insufficient information. Origin request header and Access-Control-Request-Method are needed.",
        ));
    };
    let requested: Vec<&str> = request
        .header("access-control-request-headers")
        .map(|h| h.split(',').map(str::trim).filter(|h| !h.is_empty()).collect())
        .unwrap_or_default();
    let forbidden = || {
        S3Error::new(
            "AccessForbidden",
            StatusCode::FORBIDDEN,
            format!(
                "CORSResponse: This CORS request is not allowed: no CORS rule of this bucket allows origin {origin:?} \
                 with method {method:?} and headers {requested:?}"
            ),
        )
    };
    let rules = rules_for(store, request.bucket.as_deref()).ok_or_else(forbidden)?;
    let rule = rules.find(origin, method.trim(), &requested).ok_or_else(forbidden)?;
    let mut response = StatusCode::OK.into_response();
    let headers = response.headers_mut();
    insert(headers, "access-control-allow-origin", &allow_origin(rule, origin));
    insert(headers, "access-control-allow-methods", &rule.allowed_methods.join(", "));
    if !requested.is_empty() {
        insert(headers, "access-control-allow-headers", &requested.join(", "));
    }
    if !rule.expose_headers.is_empty() {
        insert(headers, "access-control-expose-headers", &rule.expose_headers.join(", "));
    }
    if let Some(age) = rule.max_age_seconds {
        insert(headers, "access-control-max-age", &age.to_string());
    }
    insert(headers, "vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method");
    Ok(response)
}

/// Adds the CORS headers to the response of a cross-origin request.
pub fn apply(store: &Store, bucket: Option<&str>, origin: &str, method: &Method, headers: &mut HeaderMap) {
    let Some(rules) = rules_for(store, bucket) else { return };
    let Some(rule) = rules.find(origin, method.as_str(), &[]) else { return };
    insert(headers, "access-control-allow-origin", &allow_origin(rule, origin));
    if !rule.expose_headers.is_empty() {
        insert(headers, "access-control-expose-headers", &rule.expose_headers.join(", "));
    }
    insert(headers, "vary", "Origin");
}

/// `PUT /bucket?cors`.
pub async fn put_bucket_cors(
    store: &Store,
    request: &S3Request,
    caller: &Caller<'_>,
    body: Body,
) -> Result<Response, S3Error> {
    let bucket = writable_bucket(store, request, caller)?;
    let config = CorsConfiguration::from_xml(
        &read_xml_body(body, store.config().limits.max_xml_body, &caller.verified.payload).await?,
    )?;
    bucket.update_config(|c| c.cors = Some(config)).map_err(|e| S3Error::internal(&e))?;
    Ok(StatusCode::OK.into_response())
}

/// `GET /bucket?cors`.
pub fn get_bucket_cors(store: &Store, request: &S3Request, caller: &Caller<'_>) -> Result<Response, S3Error> {
    let bucket = readable_bucket(store, request, caller)?;
    let config = bucket.config().cors.ok_or_else(|| {
        S3Error::new("NoSuchCORSConfiguration", StatusCode::NOT_FOUND, "The CORS configuration does not exist")
            .with("BucketName", bucket.name())
    })?;
    Ok(xml_response(StatusCode::OK, config.to_xml()))
}

/// `DELETE /bucket?cors`.
pub fn delete_bucket_cors(store: &Store, request: &S3Request, caller: &Caller<'_>) -> Result<Response, S3Error> {
    let bucket = writable_bucket(store, request, caller)?;
    bucket.update_config(|c| c.cors = None).map_err(|e| S3Error::internal(&e))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::xml::parse;

    #[test]
    fn matches_origins_methods_and_headers() {
        let config = CorsConfiguration::from_xml(
            &parse(
                br#"<CORSConfiguration><CORSRule><AllowedOrigin>https://*.example.com</AllowedOrigin>
                <AllowedMethod>PUT</AllowedMethod><AllowedHeader>x-amz-*</AllowedHeader><AllowedHeader>content-type</AllowedHeader>
                <ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>60</MaxAgeSeconds></CORSRule></CORSConfiguration>"#,
            )
            .unwrap(),
        )
        .unwrap();
        assert!(config.find("https://app.example.com", "PUT", &["Content-Type", "x-amz-meta-a"]).is_some());
        assert!(config.find("https://app.example.com", "GET", &[]).is_none());
        assert!(config.find("https://evil.com", "PUT", &[]).is_none());
        assert!(config.find("https://app.example.com", "PUT", &["authorization"]).is_none());
        // Multi-byte characters where the pattern's prefix ends never panic.
        assert!(config.find("https://app.example.com", "PUT", &["x-amzé"]).is_none());
        assert!(config.find("https:/é.example.com", "PUT", &[]).is_none());
        let round_trip = CorsConfiguration::from_xml(&parse(config.to_xml().as_bytes()).unwrap()).unwrap();
        assert_eq!(round_trip, config);
    }

    #[test]
    fn refuses_invalid_rules() {
        for (body, code) in [
            (&b"<CORSConfiguration></CORSConfiguration>"[..], "MalformedXML"),
            (b"<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>", "MalformedXML"),
            (
                b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>",
                "InvalidRequest",
            ),
            (
                b"<CORSConfiguration><CORSRule><AllowedOrigin>*.*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>",
                "InvalidRequest",
            ),
            (b"<Other/>", "MalformedXML"),
        ] {
            assert_eq!(CorsConfiguration::from_xml(&parse(body).unwrap()).unwrap_err().code, code);
        }
    }
}
