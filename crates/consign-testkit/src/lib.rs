//! Test and benchmark support: a small S3 client that signs with
//! `consign-sigv4` and talks HTTP/1.1 over real TCP, and a handle on a
//! running `consign store` process.
//!
//! It is deliberately minimal: the store's conformance is proven with
//! clients someone else wrote (the AWS SDK, botocore, the AWS CLI); this
//! client exists for what those cannot do — stream a body slowly so a
//! process can be killed mid-upload, or drive load with bounded memory.

pub mod peers;
mod process;

use std::net::SocketAddr;
use std::time::SystemTime;

use bytes::Bytes;
use consign_sigv4::encoding::{Slash, uri_encode};
use consign_sigv4::{Credentials, HttpRequest, Payload, Signer};
use futures_util::Stream;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

pub use process::StoreProcess;

/// The development credentials `consign store` starts with.
pub const DEV_ACCESS_KEY: &str = "consign-dev";
/// Their secret.
pub const DEV_SECRET_KEY: &str = "consign-dev-secret-change-me";

type Body = UnsyncBoxBody<Bytes, std::io::Error>;

/// A response, fully read.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A signing S3 client for one endpoint, path-style.
#[derive(Debug, Clone)]
pub struct S3Client {
    address: SocketAddr,
    signer: std::sync::Arc<Signer>,
    client: Client<HttpConnector, Body>,
}

impl S3Client {
    /// A client for the store at `address` with these credentials.
    pub fn new(address: SocketAddr, access_key: &str, secret: &str, region: &str) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(256).build(connector);
        Self { address, signer: std::sync::Arc::new(Signer::s3(Credentials::new(access_key, secret), region)), client }
    }

    /// A client with the development credentials, region `us-east-1`.
    pub fn dev(address: SocketAddr) -> Self {
        Self::new(address, DEV_ACCESS_KEY, DEV_SECRET_KEY, "us-east-1")
    }

    /// `/bucket/key`, encoded.
    pub fn path(bucket: &str, key: &str) -> String {
        if key.is_empty() {
            format!("/{}", uri_encode(bucket, Slash::Keep))
        } else {
            format!("/{}/{}", uri_encode(bucket, Slash::Keep), uri_encode(key, Slash::Keep))
        }
    }

    /// Sends a request signed with an `Authorization` header. The body is
    /// either in memory (its SHA-256 is signed) or a stream of `length`
    /// bytes (sent as `UNSIGNED-PAYLOAD`).
    ///
    /// # Errors
    /// Connection errors.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        query: &str,
        headers: &[(&str, &str)],
        body: RequestBody,
    ) -> Result<Response, Box<dyn std::error::Error + Send + Sync>> {
        let host = self.address.to_string();
        let length = body.len().to_string();
        let mut all: Vec<(&str, &str)> = vec![("host", &host), ("content-length", &length)];
        all.extend_from_slice(headers);
        let request = HttpRequest { method, path, query, headers: &all };
        let payload = match &body {
            RequestBody::Bytes(bytes) => Payload::Bytes(bytes),
            RequestBody::Stream { .. } => Payload::Unsigned,
        };
        let signed = self.signer.sign_headers(&request, payload, SystemTime::now())?;
        let uri =
            if query.is_empty() { format!("http://{host}{path}") } else { format!("http://{host}{path}?{query}") };
        let mut builder = hyper::Request::builder().method(method).uri(uri);
        for (name, value) in all.iter().filter(|(n, _)| *n != "host") {
            builder = builder.header(*name, *value);
        }
        for (name, value) in &signed.headers {
            builder = builder.header(*name, value.as_str());
        }
        let body: Body = match body {
            RequestBody::Bytes(bytes) => Full::new(bytes).map_err(|never| match never {}).boxed_unsync(),
            RequestBody::Stream { stream, .. } => StreamBody::new(stream).boxed_unsync(),
        };
        let response = self.client.request(builder.body(body)?).await?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let body = response.into_body().collect().await?.to_bytes().to_vec();
        Ok(Response { status, headers, body })
    }

    /// GET `bucket/key`, counting the body's bytes without keeping them.
    ///
    /// # Errors
    /// Connection errors.
    pub async fn get_discarding(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<(u16, u64), Box<dyn std::error::Error + Send + Sync>> {
        let host = self.address.to_string();
        let path = Self::path(bucket, key);
        let headers = [("host", host.as_str())];
        let request = HttpRequest { method: "GET", path: &path, query: "", headers: &headers };
        let signed = self.signer.sign_headers(&request, Payload::Bytes(b""), SystemTime::now())?;
        let mut builder = hyper::Request::builder().method("GET").uri(format!("http://{host}{path}"));
        for (name, value) in &signed.headers {
            builder = builder.header(*name, value.as_str());
        }
        let empty: Body = Full::new(Bytes::new()).map_err(|never| match never {}).boxed_unsync();
        let response = self.client.request(builder.body(empty)?).await?;
        let status = response.status().as_u16();
        let mut body = response.into_body();
        let mut total = 0u64;
        while let Some(frame) = body.frame().await {
            if let Some(data) = frame?.data_ref() {
                total += data.len() as u64;
            }
        }
        Ok((status, total))
    }

    /// PUT `data` as `bucket/key`.
    ///
    /// # Errors
    /// Connection errors.
    pub async fn put(
        &self,
        bucket: &str,
        key: &str,
        data: Bytes,
    ) -> Result<Response, Box<dyn std::error::Error + Send + Sync>> {
        self.send("PUT", &Self::path(bucket, key), "", &[], RequestBody::Bytes(data)).await
    }

    /// GET `bucket/key`.
    ///
    /// # Errors
    /// Connection errors.
    pub async fn get(&self, bucket: &str, key: &str) -> Result<Response, Box<dyn std::error::Error + Send + Sync>> {
        self.send("GET", &Self::path(bucket, key), "", &[], RequestBody::Bytes(Bytes::new())).await
    }
}

/// The stream type of [`RequestBody::Stream`].
pub type FrameStream = std::pin::Pin<Box<dyn Stream<Item = Result<Frame<Bytes>, std::io::Error>> + Send>>;

/// A request body.
pub enum RequestBody {
    /// In memory; its hash is signed.
    Bytes(Bytes),
    /// Streamed, `length` bytes in all; sent unsigned.
    Stream {
        /// The total length, sent as `Content-Length`.
        length: u64,
        /// The pieces.
        stream: FrameStream,
    },
}

impl RequestBody {
    fn len(&self) -> u64 {
        match self {
            RequestBody::Bytes(b) => b.len() as u64,
            RequestBody::Stream { length, .. } => *length,
        }
    }

    /// `length` bytes produced by `piece(offset, len)` in pieces of `piece_size`,
    /// waiting `pause` between pieces.
    pub fn generated(
        length: u64,
        piece_size: usize,
        pause: std::time::Duration,
        piece: impl Fn(u64, usize) -> Bytes + Send + 'static,
    ) -> Self {
        let stream = futures_util::stream::unfold(0u64, move |offset| {
            let len = usize::try_from((length - offset.min(length)).min(piece_size as u64)).unwrap_or(0);
            let next = (len > 0).then(|| piece(offset, len));
            async move {
                let bytes = next?;
                if !pause.is_zero() {
                    tokio::time::sleep(pause).await;
                }
                Some((Ok(Frame::data(bytes)), offset + len as u64))
            }
        });
        RequestBody::Stream { length, stream: Box::pin(stream) }
    }
}

/// Deterministic bytes for `(seed, offset)`: what a generated upload holds,
/// so a reader can check it without keeping a copy.
pub fn pattern(seed: u64, offset: u64, len: usize) -> Bytes {
    let mut out = Vec::with_capacity(len);
    let mut position = offset;
    while out.len() < len {
        let word = splitmix(seed ^ (position / 8));
        let bytes = word.to_le_bytes();
        let start = usize::try_from(position % 8).unwrap_or(0);
        let take = (8 - start).min(len - out.len());
        out.extend_from_slice(&bytes[start..start + take]);
        position += take as u64;
    }
    Bytes::from(out)
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_pieces_join_into_the_whole() {
        let whole = pattern(7, 0, 100);
        let mut joined = Vec::new();
        for (offset, len) in [(0u64, 3usize), (3, 13), (16, 84)] {
            joined.extend_from_slice(&pattern(7, offset, len));
        }
        assert_eq!(whole.as_ref(), joined.as_slice());
        assert_ne!(pattern(8, 0, 100), whole);
    }
}
