//! The HTTP side of the storage target: signed requests over HTTP/1.1,
//! plain or TLS (rustls with the Mozilla roots), and the errors storage
//! answers.

use std::time::SystemTime;

use bytes::Bytes;
use consign_sigv4::{HttpRequest, Payload, Signer};
use consign_store::s3::xml::{Element, parse};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// What went wrong talking to storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageError {
    /// The request could not be sent or its answer read.
    Unreachable(String),
    /// Storage answered with an error.
    Refused {
        /// The operation (`CompleteMultipartUpload`).
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// S3's error code (`InvalidPart`), or empty.
        code: String,
        /// S3's message.
        message: String,
    },
    /// The answer was not what S3 sends.
    Protocol(String),
}

impl StorageError {
    pub(crate) fn signing(error: consign_sigv4::SignError) -> Self {
        StorageError::Protocol(format!("cannot sign: {error}"))
    }

    pub(super) fn protocol(operation: &str, what: &str) -> Self {
        StorageError::Protocol(format!("{operation}: unexpected answer from storage: {what}"))
    }

    fn from_error_element(operation: &'static str, status: u16, root: &Element) -> Self {
        StorageError::Refused {
            operation,
            status,
            code: root.child_text("Code").unwrap_or_default().to_owned(),
            message: root.child_text("Message").unwrap_or_default().to_owned(),
        }
    }

    /// S3's error code, when storage refused.
    pub fn code(&self) -> Option<&str> {
        match self {
            StorageError::Refused { code, .. } => Some(code),
            _ => None,
        }
    }
}

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StorageError::Unreachable(why) => write!(f, "storage cannot be reached: {why}"),
            StorageError::Refused { operation, status, code, message } => {
                write!(f, "storage refused {operation}: {status} {code}: {message}")
            }
            StorageError::Protocol(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for StorageError {}

/// A fully read answer.
#[derive(Debug)]
pub(super) struct Response {
    pub status: u16,
    /// Names lower case.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The XML document of a 2xx answer. CopyObject, UploadPartCopy and
    /// CompleteMultipartUpload can fail after answering 200: an `Error`
    /// document is a refusal whatever the status.
    pub fn xml(self, operation: &'static str) -> Result<Element, StorageError> {
        let response = self.expect_success(operation)?;
        let root = parse(&response.body).map_err(|e| StorageError::protocol(operation, &e))?;
        if root.name == "Error" {
            return Err(StorageError::from_error_element(operation, response.status, &root));
        }
        Ok(root)
    }

    /// `self` when 2xx, else the S3 error it carries.
    pub fn expect_success(self, operation: &'static str) -> Result<Self, StorageError> {
        if (200..300).contains(&self.status) {
            return Ok(self);
        }
        Err(refusal(operation, self.status, &self.body))
    }
}

/// The error a non-2xx answer carries in its XML body (HEAD answers have none).
fn refusal(operation: &'static str, status: u16, body: &[u8]) -> StorageError {
    match parse(body) {
        Ok(root) => StorageError::from_error_element(operation, status, &root),
        Err(_) => StorageError::Refused { operation, status, code: String::new(), message: String::new() },
    }
}

/// A streamed object body.
pub type BodyStream = Incoming;

/// One request to storage, before signing.
#[derive(Debug, Clone, Copy)]
pub(super) struct Call<'a> {
    pub scheme: &'a str,
    pub host: &'a str,
    pub method: &'a str,
    /// Encoded, with the bucket when path-style.
    pub path: &'a str,
    /// Encoded.
    pub query: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
}

/// A pooled HTTP/1.1 client.
#[derive(Debug)]
pub(super) struct HttpClient {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl HttpClient {
    pub fn new(tls: bool) -> Self {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.enforce_http(false);
        let builder = hyper_rustls::HttpsConnectorBuilder::new().with_webpki_roots();
        let builder = if tls { builder.https_only() } else { builder.https_or_http() };
        let connector = builder.enable_http1().wrap_connector(http);
        Self { client: Client::builder(TokioExecutor::new()).pool_max_idle_per_host(64).build(connector) }
    }

    fn request(signer: &Signer, call: &Call<'_>, body: Bytes) -> Result<hyper::Request<Full<Bytes>>, StorageError> {
        let Call { scheme, host, method, path, query, headers } = *call;
        let length = body.len().to_string();
        let mut all: Vec<(&str, &str)> = vec![("host", host)];
        if !body.is_empty() || matches!(method, "PUT" | "POST") {
            all.push(("content-length", &length));
        }
        all.extend_from_slice(headers);
        let request = HttpRequest { method, path, query, headers: &all };
        let signed =
            signer.sign_headers(&request, Payload::Bytes(&body), SystemTime::now()).map_err(StorageError::signing)?;
        let uri = if query.is_empty() {
            format!("{scheme}://{host}{path}")
        } else {
            format!("{scheme}://{host}{path}?{query}")
        };
        let mut builder = hyper::Request::builder().method(method).uri(uri);
        for (name, value) in all.iter().filter(|(n, _)| *n != "host") {
            builder = builder.header(*name, *value);
        }
        for (name, value) in &signed.headers {
            builder = builder.header(*name, value.as_str());
        }
        builder.body(Full::new(body)).map_err(|e| StorageError::Protocol(format!("cannot build a request: {e}")))
    }

    pub async fn send(&self, signer: &Signer, call: &Call<'_>, body: Bytes) -> Result<Response, StorageError> {
        let request = Self::request(signer, call, body)?;
        let response = self.client.request(request).await.map_err(|e| StorageError::Unreachable(error_chain(&e)))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let body = response.into_body().collect().await.map_err(|e| StorageError::Unreachable(error_chain(&e)))?;
        Ok(Response { status, headers, body: body.to_bytes() })
    }

    pub async fn stream(&self, signer: &Signer, call: &Call<'_>) -> Result<Incoming, StorageError> {
        let request = Self::request(signer, call, Bytes::new())?;
        let response = self.client.request(request).await.map_err(|e| StorageError::Unreachable(error_chain(&e)))?;
        if !response.status().is_success() {
            let status = response.status().as_u16();
            let body = response.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            return Err(refusal("GetObject", status, &body));
        }
        Ok(response.into_body())
    }
}

/// An error and its causes, `a: b: c`.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
