//! The store driven by the official AWS SDK for Rust (`aws-sdk-s3`) over
//! real TCP: every operation the store implements, with the SDK's default
//! behaviour (aws-chunked uploads with a checksum trailer, response
//! checksum validation), explicit digests, presigned URLs and the errors
//! the SDK must be able to parse.
//!
//! Each test starts its own store on `127.0.0.1:0` with a fresh data
//! directory and stops it at the end.

use std::fmt::Debug;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::interceptors::{BeforeTransmitInterceptorContextMut, BeforeTransmitInterceptorContextRef};
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::{
    BehaviorVersion, ConfigBag, Intercept, Region, RequestChecksumCalculation, RuntimeComponents,
};
use aws_sdk_s3::error::{BoxError, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::RequestId;
use aws_sdk_s3::presigning::{PresignedRequest, PresigningConfig};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLocationConstraint, ChecksumAlgorithm, ChecksumMode, CompletedMultipartUpload, CompletedPart,
    CorsConfiguration, CorsRule, CreateBucketConfiguration, Delete, MetadataDirective, ObjectIdentifier,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use consign_store::{AccessKey, Store, StoreConfig, serve};
use http_body_util::{BodyExt, Full};
use md5::Digest as _;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

const ACCESS_KEY: &str = "AKIACONSIGNSDKTEST01";
const SECRET: &str = "consign/sdk+test/secret/0123456789abcdef";
const REGION: &str = "us-east-1";
const MIB: usize = 1024 * 1024;
const STREAMING_SIGNED_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
const STREAMING_UNSIGNED_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

/// A store serving on a loopback port, stopped and deleted on drop.
struct Server {
    addr: SocketAddr,
    dir: PathBuf,
    /// Files the tests upload from (streaming bodies).
    scratch: PathBuf,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Server {
    async fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("consign-aws-sdk-{}", uuid::Uuid::new_v4().simple()));
        let config = StoreConfig::new(&dir, REGION).with_access_key(AccessKey::admin(ACCESS_KEY, SECRET));
        let store = Arc::new(Store::open(config).expect("the store opens its temporary data directory"));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port is free");
        let addr = listener.local_addr().expect("the listener has an address");
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let stop = async move {
                let _ = stopped.await;
            };
            serve(store, listener, stop).await.expect("the store serves until shutdown");
        });
        let scratch = dir.with_extension("scratch");
        std::fs::create_dir_all(&scratch).expect("the scratch directory is created");
        Self { addr, dir, scratch, shutdown: Some(shutdown) }
    }

    /// A streaming body (read from a file, its bytes never in memory as
    /// one piece): the SDK sends such bodies aws-chunked with a checksum
    /// trailer.
    async fn streaming(&self, name: &str, bytes: &[u8]) -> ByteStream {
        let path = self.scratch.join(name);
        std::fs::write(&path, bytes).expect("the scratch file is written");
        ByteStream::from_path(&path).await.expect("the scratch file opens as a ByteStream")
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A path-style client with the admin key.
    fn client(&self) -> Client {
        self.client_as(ACCESS_KEY, SECRET)
    }

    /// A path-style client signing with `id` and `secret`.
    fn client_as(&self, id: &str, secret: &str) -> Client {
        Client::from_conf(self.config(id, secret).build())
    }

    /// The configuration every client starts from: static credentials,
    /// plain HTTP, path style, no retries (an error must show at once).
    fn config(&self, id: &str, secret: &str) -> aws_sdk_s3::config::Builder {
        aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new(id, secret, None, None, "consign-test"))
            .endpoint_url(self.endpoint())
            .force_path_style(true)
            .retry_config(RetryConfig::disabled())
            .http_client(aws_smithy_http_client::Builder::new().build_http())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

/// The headers of one request, as sent.
type SentHeaders = Vec<(String, String)>;

/// Records the headers of every request the SDK sends.
#[derive(Debug, Clone, Default)]
struct Recorder(Arc<Mutex<Vec<SentHeaders>>>);

impl Recorder {
    /// The headers of the last request sent.
    fn last(&self) -> SentHeaders {
        self.0.lock().expect("the recorder lock").last().cloned().unwrap_or_default()
    }

    /// Header `name` of the last request sent.
    fn header(&self, name: &str) -> Option<String> {
        self.last().into_iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }
}

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "Recorder"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let headers = context.request().headers().iter().map(|(n, v)| (n.to_owned(), v.to_owned())).collect();
        self.0.lock().expect("the recorder lock").push(headers);
        Ok(())
    }
}

/// Sends requests to the store's address over plain HTTP, keeping the
/// signed `Host`: for virtual-hosted requests (`bucket.localhost:port`
/// does not resolve here) and for clients that believe they use https.
#[derive(Debug)]
struct ConnectTo(SocketAddr);

impl Intercept for ConnectTo {
    fn name(&self) -> &'static str {
        "ConnectTo"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        let uri: http::Uri = request.uri().parse()?;
        let host = uri.authority().ok_or("the request URI has no authority")?.as_str().to_owned();
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        request.set_uri(format!("http://{}{path}", self.0))?;
        request.headers_mut().insert("host", host);
        Ok(())
    }
}

/// The S3 error code of a failed call.
fn code<T: Debug, E: ProvideErrorMetadata + Debug>(result: Result<T, E>) -> String {
    let error = result.expect_err("the call should have failed");
    error.code().map(str::to_owned).unwrap_or_else(|| panic!("the error carries no S3 code: {error:?}"))
}

/// The HTTP status of a failed call.
fn status<T: Debug, E: Debug>(result: Result<T, SdkError<E, HttpResponse>>) -> u16 {
    let error = result.expect_err("the call should have failed");
    error.raw_response().unwrap_or_else(|| panic!("the error has no HTTP response: {error:?}")).status().as_u16()
}

/// `len` bytes that differ from one offset to the next.
fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ ((i >> 8) as u8)).collect()
}

fn md5_hex(bytes: &[u8]) -> String {
    md5::Md5::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The base64 checksum S3 gives `bytes` under `algorithm`.
fn checksum(algorithm: &ChecksumAlgorithm, bytes: &[u8]) -> String {
    let raw = match algorithm {
        ChecksumAlgorithm::Crc32 => crc32fast::hash(bytes).to_be_bytes().to_vec(),
        ChecksumAlgorithm::Crc32C => crc32c::crc32c(bytes).to_be_bytes().to_vec(),
        ChecksumAlgorithm::Crc64Nvme => {
            let mut digest = crc64fast_nvme::Digest::new();
            digest.write(bytes);
            digest.sum64().to_be_bytes().to_vec()
        }
        ChecksumAlgorithm::Sha1 => sha1::Sha1::digest(bytes).to_vec(),
        ChecksumAlgorithm::Sha256 => sha2::Sha256::digest(bytes).to_vec(),
        other => panic!("the store does not offer {other:?}"),
    };
    STANDARD.encode(raw)
}

/// The checksum of `algorithm` in a GetObject or PutObject answer.
macro_rules! checksum_of {
    ($output:expr, $algorithm:expr) => {
        match $algorithm {
            ChecksumAlgorithm::Crc32 => $output.checksum_crc32(),
            ChecksumAlgorithm::Crc32C => $output.checksum_crc32_c(),
            ChecksumAlgorithm::Crc64Nvme => $output.checksum_crc64_nvme(),
            ChecksumAlgorithm::Sha1 => $output.checksum_sha1(),
            ChecksumAlgorithm::Sha256 => $output.checksum_sha256(),
            _ => None,
        }
    };
}

const ALGORITHMS: [ChecksumAlgorithm; 5] = [
    ChecksumAlgorithm::Crc32,
    ChecksumAlgorithm::Crc32C,
    ChecksumAlgorithm::Crc64Nvme,
    ChecksumAlgorithm::Sha1,
    ChecksumAlgorithm::Sha256,
];

async fn create_bucket(client: &Client, name: &str) {
    client.create_bucket().bucket(name).send().await.unwrap_or_else(|e| panic!("CreateBucket {name}: {e:?}"));
}

async fn put(client: &Client, bucket: &str, key: &str, body: &[u8]) -> String {
    let output = client
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body.to_vec()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutObject {bucket}/{key}: {e:?}"));
    output.e_tag().expect("PutObject answers an ETag").to_owned()
}

async fn get_bytes(client: &Client, bucket: &str, key: &str) -> Vec<u8> {
    let output = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetObject {bucket}/{key}: {e:?}"));
    output.body.collect().await.expect("the object body arrives").into_bytes().to_vec()
}

/// Sends a presigned request with a plain HTTP client: status, headers,
/// body.
async fn send_presigned(request: PresignedRequest, body: Vec<u8>) -> (u16, http::HeaderMap, Bytes) {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let request = request.into_http_1x_request(Full::new(Bytes::from(body)));
    let response = client.request(request).await.expect("the presigned request gets an answer");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.expect("the answer's body arrives").to_bytes();
    (status, headers, body)
}

/// Puts a streaming body with the SDK's default checksum behaviour and
/// checks what the SDK sent (`mode` in `x-amz-content-sha256`, a checksum
/// trailer) and that the object, its checksum and its headers come back.
/// Returns the SDK's default algorithm.
async fn default_streaming_put(
    server: &Server,
    s3: &Client,
    recorder: &Recorder,
    key: &str,
    mode: &str,
) -> ChecksumAlgorithm {
    let body = data(300 * 1024, 7);
    let written = s3
        .put_object()
        .bucket("defaults")
        .key(key)
        .content_type("application/x-test")
        .cache_control("max-age=60")
        .content_disposition("inline")
        .metadata("owner", "ada")
        .metadata("purpose", "sdk test")
        .body(server.streaming("default.bin", &body).await)
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutObject with the SDK's default checksum behaviour ({mode}): {e:?}"));
    assert_eq!(recorder.header("x-amz-content-sha256").as_deref(), Some(mode));
    let trailer = recorder.header("x-amz-trailer").expect("the SDK announces a checksum trailer");
    let algorithm = match trailer.as_str() {
        "x-amz-checksum-crc32" => ChecksumAlgorithm::Crc32,
        "x-amz-checksum-crc64nvme" => ChecksumAlgorithm::Crc64Nvme,
        "x-amz-checksum-crc32c" => ChecksumAlgorithm::Crc32C,
        other => panic!("unexpected default trailer {other}"),
    };
    assert!(recorder.header("content-encoding").is_some_and(|e| e.contains("aws-chunked")));
    assert_eq!(recorder.header("x-amz-decoded-content-length"), Some(body.len().to_string()));
    assert_eq!(written.e_tag(), Some(format!("\"{}\"", md5_hex(&body)).as_str()));
    let expected = checksum(&algorithm, &body);
    assert_eq!(checksum_of!(written, algorithm), Some(expected.as_str()));

    let got = s3
        .get_object()
        .bucket("defaults")
        .key(key)
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .expect("GetObject with checksum mode");
    assert_eq!(checksum_of!(got, algorithm), Some(expected.as_str()));
    assert_eq!(got.content_length(), Some(body.len() as i64));
    assert_eq!(got.content_type(), Some("application/x-test"));
    assert_eq!(got.cache_control(), Some("max-age=60"));
    assert_eq!(got.content_disposition(), Some("inline"));
    assert_eq!(got.content_encoding(), None, "aws-chunked is not stored as a content encoding");
    let metadata = got.metadata().expect("user metadata comes back");
    assert_eq!(metadata.get("owner").map(String::as_str), Some("ada"));
    assert_eq!(metadata.get("purpose").map(String::as_str), Some("sdk test"));
    assert_eq!(got.body.collect().await.expect("the body").into_bytes().as_ref(), &body[..]);

    let head = s3.head_object().bucket("defaults").key(key).send().await.expect("HeadObject");
    assert_eq!(head.content_length(), Some(body.len() as i64));
    assert_eq!(head.e_tag(), written.e_tag());
    assert_eq!(head.content_type(), Some("application/x-test"));
    assert_eq!(head.metadata().and_then(|m| m.get("owner")).map(String::as_str), Some("ada"));
    assert!(head.last_modified().is_some());
    algorithm
}

#[tokio::test]
async fn buckets_are_created_listed_located_and_deleted() {
    let server = Server::start().await;
    let s3 = server.client();

    let listed = s3.list_buckets().send().await.expect("ListBuckets on an empty store");
    assert!(listed.buckets().is_empty());

    create_bucket(&s3, "alpha").await;
    create_bucket(&s3, "beta").await;
    assert_eq!(code(s3.create_bucket().bucket("alpha").send().await), "BucketAlreadyOwnedByYou");
    assert_eq!(code(s3.create_bucket().bucket("Not_Valid").send().await), "InvalidBucketName");
    let elsewhere = s3
        .create_bucket()
        .bucket("elsewhere")
        .create_bucket_configuration(
            CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::EuWest1).build(),
        )
        .send()
        .await;
    assert_eq!(code(elsewhere), "IllegalLocationConstraintException");

    let listed = s3.list_buckets().send().await.expect("ListBuckets");
    let names: Vec<&str> = listed.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, ["alpha", "beta"]);
    assert!(listed.buckets().iter().all(|b| b.creation_date().is_some()));

    let head = s3.head_bucket().bucket("alpha").send().await.expect("HeadBucket on an existing bucket");
    assert_eq!(head.bucket_region(), Some(REGION));
    let missing = s3.head_bucket().bucket("gamma").send().await;
    assert_eq!(status(missing), 404);

    let location = s3.get_bucket_location().bucket("alpha").send().await.expect("GetBucketLocation");
    assert!(location.location_constraint().is_none_or(|c| c.as_str().is_empty()), "{location:?}");
    assert_eq!(code(s3.get_bucket_location().bucket("gamma").send().await), "NoSuchBucket");

    put(&s3, "alpha", "keep", b"x").await;
    assert_eq!(code(s3.delete_bucket().bucket("alpha").send().await), "BucketNotEmpty");
    s3.delete_object().bucket("alpha").key("keep").send().await.expect("DeleteObject");
    s3.delete_bucket().bucket("alpha").send().await.expect("DeleteBucket on an empty bucket");
    assert_eq!(code(s3.delete_bucket().bucket("alpha").send().await), "NoSuchBucket");

    let listed = s3.list_buckets().send().await.expect("ListBuckets after a delete");
    let names: Vec<&str> = listed.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, ["beta"]);
}

#[tokio::test]
async fn put_object_with_the_sdk_defaults_streams_a_checksum_trailer() {
    let server = Server::start().await;
    let recorder = Recorder::default();
    let s3 = Client::from_conf(server.config(ACCESS_KEY, SECRET).interceptor(recorder.clone()).build());
    create_bucket(&s3, "defaults").await;

    // Over http the SDK signs every chunk and the trailer.
    let algorithm = default_streaming_put(&server, &s3, &recorder, "dir/over-http.bin", STREAMING_SIGNED_TRAILER).await;

    // Over https it sends unsigned chunks and an unsigned trailer. The
    // client believes it talks https; the bytes go over plain TCP.
    let tls_recorder = Recorder::default();
    let over_tls = Client::from_conf(
        server
            .config(ACCESS_KEY, SECRET)
            .endpoint_url(format!("https://{}", server.addr))
            .interceptor(ConnectTo(server.addr))
            .interceptor(tls_recorder.clone())
            .build(),
    );
    let same =
        default_streaming_put(&server, &over_tls, &tls_recorder, "dir/over-https.bin", STREAMING_UNSIGNED_TRAILER)
            .await;
    assert_eq!(same, algorithm);

    // An empty object goes through the same aws-chunked paths.
    for (client, recorder, mode) in
        [(&s3, &recorder, STREAMING_SIGNED_TRAILER), (&over_tls, &tls_recorder, STREAMING_UNSIGNED_TRAILER)]
    {
        client
            .put_object()
            .bucket("defaults")
            .key("empty")
            .body(server.streaming("empty", b"").await)
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutObject of an empty streaming body ({mode}): {e:?}"));
        assert_eq!(recorder.header("x-amz-content-sha256").as_deref(), Some(mode));
        assert!(get_bytes(client, "defaults", "empty").await.is_empty());
    }

    // A conditional write refuses to replace an object.
    let again = s3
        .put_object()
        .bucket("defaults")
        .key("empty")
        .if_none_match("*")
        .body(ByteStream::from(b"new".to_vec()))
        .send()
        .await;
    assert_eq!(code(again), "PreconditionFailed");
    assert!(get_bytes(&s3, "defaults", "empty").await.is_empty());
    s3.put_object()
        .bucket("defaults")
        .key("fresh")
        .if_none_match("*")
        .body(ByteStream::from(b"new".to_vec()))
        .send()
        .await
        .expect("a conditional write of a new key");

    // An in-memory body gets the default checksum as a header instead.
    let small = data(5000, 8);
    let written = s3
        .put_object()
        .bucket("defaults")
        .key("in-memory")
        .body(ByteStream::from(small.clone()))
        .send()
        .await
        .expect("PutObject of an in-memory body with the SDK defaults");
    assert_eq!(recorder.header("x-amz-trailer"), None);
    assert_eq!(
        recorder.header(&format!("x-amz-checksum-{}", algorithm.as_str().to_lowercase())).as_deref(),
        Some(checksum(&algorithm, &small).as_str())
    );
    assert_eq!(checksum_of!(written, algorithm), Some(checksum(&algorithm, &small).as_str()));
    // The SDK validates the response checksum on a plain GetObject too.
    assert_eq!(get_bytes(&s3, "defaults", "in-memory").await, small);
}

#[tokio::test]
async fn put_object_checks_content_md5() {
    let server = Server::start().await;
    let recorder = Recorder::default();
    let s3 = Client::from_conf(
        server
            .config(ACCESS_KEY, SECRET)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .interceptor(recorder.clone())
            .build(),
    );
    create_bucket(&s3, "md5").await;
    let body = data(70_000, 3);
    let md5 = STANDARD.encode(md5::Md5::digest(&body));
    let put = s3
        .put_object()
        .bucket("md5")
        .key("k")
        .content_md5(&md5)
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .expect("PutObject with a correct Content-MD5");
    assert_eq!(recorder.header("content-md5").as_deref(), Some(md5.as_str()));
    assert_eq!(recorder.header("x-amz-trailer"), None);
    assert_eq!(put.e_tag(), Some(format!("\"{}\"", md5_hex(&body)).as_str()));
    assert_eq!(get_bytes(&s3, "md5", "k").await, body);

    let wrong = STANDARD.encode(md5::Md5::digest(b"something else"));
    let result =
        s3.put_object().bucket("md5").key("bad").content_md5(wrong).body(ByteStream::from(body.clone())).send().await;
    assert_eq!(code(result), "BadDigest");
    let result =
        s3.put_object().bucket("md5").key("bad").content_md5("not base64!").body(ByteStream::from(body)).send().await;
    assert_eq!(code(result), "InvalidDigest");
    assert_eq!(code(s3.head_object().bucket("md5").key("bad").send().await), "NotFound");
}

#[tokio::test]
async fn put_object_with_each_checksum_algorithm() {
    let server = Server::start().await;
    let recorder = Recorder::default();
    let s3 = Client::from_conf(server.config(ACCESS_KEY, SECRET).interceptor(recorder.clone()).build());
    create_bucket(&s3, "sums").await;
    let body = data(100_000, 11);
    for algorithm in ALGORITHMS {
        let expected = checksum(&algorithm, &body);

        // Computed by the SDK and sent in the aws-chunked trailer.
        let key = format!("trailer-{}", algorithm.as_str());
        let put = s3
            .put_object()
            .bucket("sums")
            .key(&key)
            .checksum_algorithm(algorithm.clone())
            .body(server.streaming(&key, &body).await)
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutObject with a {algorithm:?} trailer: {e:?}"));
        assert_eq!(
            recorder.header("x-amz-trailer").as_deref(),
            Some(format!("x-amz-checksum-{}", algorithm.as_str().to_lowercase()).as_str())
        );
        assert_eq!(checksum_of!(put, algorithm), Some(expected.as_str()), "{algorithm:?}");
        let got = s3
            .get_object()
            .bucket("sums")
            .key(&key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .expect("GetObject");
        assert_eq!(checksum_of!(got, algorithm), Some(expected.as_str()), "{algorithm:?}");
        assert_eq!(got.body.collect().await.expect("the body").into_bytes().as_ref(), &body[..]);

        // Given by the caller, sent as a header.
        let key = format!("header-{}", algorithm.as_str());
        let request = s3.put_object().bucket("sums").key(&key).body(ByteStream::from(body.clone()));
        let with_value =
            |r: aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder, value: String| match algorithm {
                ChecksumAlgorithm::Crc32 => r.checksum_crc32(value),
                ChecksumAlgorithm::Crc32C => r.checksum_crc32_c(value),
                ChecksumAlgorithm::Crc64Nvme => r.checksum_crc64_nvme(value),
                ChecksumAlgorithm::Sha1 => r.checksum_sha1(value),
                _ => r.checksum_sha256(value),
            };
        let put = with_value(request, expected.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutObject with a {algorithm:?} header: {e:?}"));
        assert_eq!(checksum_of!(put, algorithm), Some(expected.as_str()), "{algorithm:?}");
        let head = s3
            .head_object()
            .bucket("sums")
            .key(&key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .expect("HeadObject");
        assert_eq!(checksum_of!(head, algorithm), Some(expected.as_str()), "{algorithm:?}");

        // A checksum of other bytes is refused and nothing is stored.
        let wrong = checksum(&algorithm, b"other bytes");
        let request = s3.put_object().bucket("sums").key("wrong").body(ByteStream::from(body.clone()));
        assert_eq!(code(with_value(request, wrong).send().await), "BadDigest", "{algorithm:?}");
        assert_eq!(status(s3.head_object().bucket("sums").key("wrong").send().await), 404);
    }
}

#[tokio::test]
async fn get_object_honours_ranges_and_conditions() {
    let server = Server::start().await;
    let s3 = server.client();
    create_bucket(&s3, "reads").await;
    let body = data(1000, 5);
    let etag = put(&s3, "reads", "obj", &body).await;

    let ranged = s3.get_object().bucket("reads").key("obj").range("bytes=100-199").send().await.expect("a ranged GET");
    assert_eq!(ranged.content_range(), Some("bytes 100-199/1000"));
    assert_eq!(ranged.content_length(), Some(100));
    assert_eq!(ranged.body.collect().await.expect("the range").into_bytes().as_ref(), &body[100..200]);
    let suffix = s3.get_object().bucket("reads").key("obj").range("bytes=-10").send().await.expect("a suffix range");
    assert_eq!(suffix.body.collect().await.expect("the range").into_bytes().as_ref(), &body[990..]);
    let open = s3.get_object().bucket("reads").key("obj").range("bytes=995-").send().await.expect("an open range");
    assert_eq!(open.content_range(), Some("bytes 995-999/1000"));
    assert_eq!(code(s3.get_object().bucket("reads").key("obj").range("bytes=1000-").send().await), "InvalidRange");

    let matched = s3.get_object().bucket("reads").key("obj").if_match(&etag).send().await.expect("If-Match that holds");
    assert_eq!(matched.e_tag(), Some(etag.as_str()));
    let failed =
        s3.get_object().bucket("reads").key("obj").if_match("\"0123456789abcdef0123456789abcdef\"").send().await;
    let error = failed.expect_err("If-Match with another ETag fails");
    assert_eq!(error.raw_response().map(|r| r.status().as_u16()), Some(412));
    assert_eq!(error.code(), Some("PreconditionFailed"));

    let not_modified = s3.get_object().bucket("reads").key("obj").if_none_match(&etag).send().await;
    assert_eq!(status(not_modified), 304);
    let modified = s3.get_object().bucket("reads").key("obj").if_none_match("\"other\"").send().await;
    assert_eq!(modified.expect("If-None-Match with another ETag reads").content_length(), Some(1000));
    let head = s3.head_object().bucket("reads").key("obj").if_none_match(&etag).send().await;
    assert_eq!(status(head), 304);
    let head = s3.head_object().bucket("reads").key("obj").if_match("\"nope\"").send().await;
    assert_eq!(status(head), 412);
    let past = aws_sdk_s3::primitives::DateTime::from_secs(1_000_000_000);
    let unmodified = s3.get_object().bucket("reads").key("obj").if_unmodified_since(past).send().await;
    assert_eq!(code(unmodified), "PreconditionFailed");
    let since = s3.get_object().bucket("reads").key("obj").if_modified_since(past).send().await;
    assert!(since.is_ok(), "modified since 2001: {since:?}");

    let missing = s3.get_object().bucket("reads").key("missing").send().await;
    let error = missing.expect_err("GetObject of a missing key fails").into_service_error();
    assert!(error.is_no_such_key(), "{error:?}");
    assert_eq!(status(s3.head_object().bucket("reads").key("missing").send().await), 404);
    assert_eq!(code(s3.get_object().bucket("nowhere").key("obj").send().await), "NoSuchBucket");
}

#[tokio::test]
async fn objects_are_deleted_one_by_one_and_in_batches() {
    let server = Server::start().await;
    let s3 = server.client();
    create_bucket(&s3, "deletes").await;
    for key in ["a", "b", "c", "d/e"] {
        put(&s3, "deletes", key, key.as_bytes()).await;
    }
    s3.delete_object().bucket("deletes").key("a").send().await.expect("DeleteObject");
    assert_eq!(status(s3.head_object().bucket("deletes").key("a").send().await), 404);
    s3.delete_object().bucket("deletes").key("a").send().await.expect("DeleteObject of a missing key succeeds");

    let ids = ["b", "d/e", "never-was"].map(|k| ObjectIdentifier::builder().key(k).build().expect("an object id"));
    let deleted = s3
        .delete_objects()
        .bucket("deletes")
        .delete(Delete::builder().set_objects(Some(ids.to_vec())).build().expect("a Delete"))
        .send()
        .await
        .expect("DeleteObjects");
    let mut keys: Vec<&str> = deleted.deleted().iter().filter_map(|d| d.key()).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["b", "d/e", "never-was"]);
    assert!(deleted.errors().is_empty());

    let quiet = s3
        .delete_objects()
        .bucket("deletes")
        .delete(
            Delete::builder()
                .objects(ObjectIdentifier::builder().key("c").build().expect("an object id"))
                .quiet(true)
                .build()
                .expect("a Delete"),
        )
        .send()
        .await
        .expect("a quiet DeleteObjects");
    assert!(quiet.deleted().is_empty() && quiet.errors().is_empty());
    let listed = s3.list_objects_v2().bucket("deletes").send().await.expect("ListObjectsV2");
    assert_eq!(listed.key_count(), Some(0));
}

#[tokio::test]
async fn copy_object_copies_or_replaces_metadata() {
    let server = Server::start().await;
    let s3 = server.client();
    create_bucket(&s3, "src").await;
    create_bucket(&s3, "dst").await;
    let body = data(50_000, 9);
    let key = "dir/naïve name+1.txt";
    s3.put_object()
        .bucket("src")
        .key(key)
        .content_type("text/plain")
        .metadata("colour", "blue")
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .expect("PutObject of the source");
    let source = format!("src/{}", consign_sigv4::encoding::uri_encode(key, consign_sigv4::encoding::Slash::Keep));

    let copied =
        s3.copy_object().bucket("dst").key("copy").copy_source(&source).send().await.expect("CopyObject (COPY)");
    let result = copied.copy_object_result().expect("a CopyObjectResult");
    assert_eq!(result.e_tag(), Some(format!("\"{}\"", md5_hex(&body)).as_str()));
    assert!(result.last_modified().is_some());
    let got =
        s3.get_object().bucket("dst").key("copy").checksum_mode(ChecksumMode::Enabled).send().await.expect("GetObject");
    assert_eq!(got.content_type(), Some("text/plain"));
    assert_eq!(got.metadata().and_then(|m| m.get("colour")).map(String::as_str), Some("blue"));
    assert_eq!(got.checksum_sha256(), Some(checksum(&ChecksumAlgorithm::Sha256, &body).as_str()));
    assert_eq!(got.body.collect().await.expect("the body").into_bytes().as_ref(), &body[..]);

    s3.copy_object()
        .bucket("dst")
        .key("replaced")
        .copy_source(&source)
        .metadata_directive(MetadataDirective::Replace)
        .content_type("application/json")
        .metadata("colour", "red")
        .send()
        .await
        .expect("CopyObject (REPLACE)");
    let head = s3.head_object().bucket("dst").key("replaced").send().await.expect("HeadObject");
    assert_eq!(head.content_type(), Some("application/json"));
    assert_eq!(head.metadata().and_then(|m| m.get("colour")).map(String::as_str), Some("red"));
    assert_eq!(head.content_length(), Some(body.len() as i64));

    // Onto itself only with REPLACE.
    let to_itself = s3.copy_object().bucket("src").key(key).copy_source(&source).send().await;
    assert_eq!(code(to_itself), "InvalidRequest");
    s3.copy_object()
        .bucket("src")
        .key(key)
        .copy_source(&source)
        .metadata_directive(MetadataDirective::Replace)
        .metadata("colour", "green")
        .send()
        .await
        .expect("CopyObject onto itself with REPLACE");
    let head = s3.head_object().bucket("src").key(key).send().await.expect("HeadObject");
    assert_eq!(head.metadata().and_then(|m| m.get("colour")).map(String::as_str), Some("green"));

    assert_eq!(code(s3.copy_object().bucket("dst").key("x").copy_source("src/missing").send().await), "NoSuchKey");
}

#[tokio::test]
async fn list_objects_v2_pages_and_rolls_up() {
    let server = Server::start().await;
    let s3 = server.client();
    create_bucket(&s3, "listing").await;
    let keys = ["a.txt", "b/1", "b/2", "b/3", "c/x/1", "c/y", "d", "e f", "é"];
    for key in keys {
        put(&s3, "listing", key, key.as_bytes()).await;
    }

    let all = s3.list_objects_v2().bucket("listing").send().await.expect("ListObjectsV2");
    let listed: Vec<&str> = all.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(listed, keys);
    assert_eq!(all.key_count(), Some(keys.len() as i32));
    assert_eq!(all.is_truncated(), Some(false));
    let owned = s3.list_objects_v2().bucket("listing").max_keys(1).fetch_owner(true).send().await.expect("fetch-owner");
    assert_eq!(owned.contents()[0].owner().and_then(|o| o.id()), Some(ACCESS_KEY));
    assert!(all.contents()[0].owner().is_none());
    let first = &all.contents()[0];
    assert_eq!(first.size(), Some(5));
    assert_eq!(first.e_tag(), Some(format!("\"{}\"", md5_hex(b"a.txt")).as_str()));

    let under_b =
        s3.list_objects_v2().bucket("listing").prefix("b/").send().await.expect("ListObjectsV2 with a prefix");
    let listed: Vec<&str> = under_b.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(listed, ["b/1", "b/2", "b/3"]);

    let rolled =
        s3.list_objects_v2().bucket("listing").delimiter("/").send().await.expect("ListObjectsV2 with a delimiter");
    let objects: Vec<&str> = rolled.contents().iter().filter_map(|o| o.key()).collect();
    let prefixes: Vec<&str> = rolled.common_prefixes().iter().filter_map(|p| p.prefix()).collect();
    assert_eq!(objects, ["a.txt", "d", "e f", "é"]);
    assert_eq!(prefixes, ["b/", "c/"]);
    let under_c =
        s3.list_objects_v2().bucket("listing").prefix("c/").delimiter("/").send().await.expect("prefix and delimiter");
    assert_eq!(under_c.common_prefixes().iter().filter_map(|p| p.prefix()).collect::<Vec<_>>(), ["c/x/"]);
    assert_eq!(under_c.contents().iter().filter_map(|o| o.key()).collect::<Vec<_>>(), ["c/y"]);

    // Two at a time, by continuation token, with and without a delimiter.
    for delimiter in [None, Some("/")] {
        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        let mut pages = 0;
        loop {
            let page = s3
                .list_objects_v2()
                .bucket("listing")
                .max_keys(2)
                .set_delimiter(delimiter.map(str::to_owned))
                .set_continuation_token(token.clone())
                .send()
                .await
                .expect("a page of ListObjectsV2");
            pages += 1;
            assert!(page.key_count().is_some_and(|n| n <= 2));
            assert_eq!(page.continuation_token(), token.as_deref());
            seen.extend(page.contents().iter().filter_map(|o| o.key()).map(str::to_owned));
            seen.extend(page.common_prefixes().iter().filter_map(|p| p.prefix()).map(str::to_owned));
            if page.is_truncated() != Some(true) {
                assert!(page.next_continuation_token().is_none());
                break;
            }
            token = Some(page.next_continuation_token().expect("a truncated page has a next token").to_owned());
            assert!(pages < 20, "the listing does not end");
        }
        seen.sort();
        let expected: Vec<&str> = match delimiter {
            None => keys.to_vec(),
            Some(_) => vec!["a.txt", "b/", "c/", "d", "e f", "é"],
        };
        assert_eq!(seen, expected, "paging with delimiter {delimiter:?}");
        assert_eq!(pages, expected.len().div_ceil(2), "pages with delimiter {delimiter:?}");
    }

    let mut paginator = s3.list_objects_v2().bucket("listing").max_keys(3).into_paginator().send();
    let mut paginated = Vec::new();
    while let Some(page) = paginator.next().await {
        let page = page.expect("a page from the SDK paginator");
        paginated.extend(page.contents().iter().filter_map(|o| o.key()).map(str::to_owned));
    }
    assert_eq!(paginated, keys);

    let after = s3.list_objects_v2().bucket("listing").start_after("c/y").send().await.expect("start-after");
    assert_eq!(after.contents().iter().filter_map(|o| o.key()).collect::<Vec<_>>(), ["d", "e f", "é"]);
    assert_eq!(after.start_after(), Some("c/y"));

    let v1 = s3.list_objects().bucket("listing").marker("d").send().await.expect("ListObjects (v1)");
    assert_eq!(v1.contents().iter().filter_map(|o| o.key()).collect::<Vec<_>>(), ["e f", "é"]);

    assert_eq!(code(s3.list_objects_v2().bucket("nowhere").send().await), "NoSuchBucket");
}

#[tokio::test]
async fn multipart_uploads_complete_list_and_abort() {
    let server = Server::start().await;
    let s3 = server.client();
    create_bucket(&s3, "multi").await;
    let source = data(3 * MIB, 21);
    put(&s3, "multi", "copy-source", &source).await;

    let created = s3
        .create_multipart_upload()
        .bucket("multi")
        .key("big/object")
        .content_type("video/mp4")
        .metadata("take", "3")
        .send()
        .await
        .expect("CreateMultipartUpload");
    let upload_id = created.upload_id().expect("an upload ID").to_owned();
    assert_eq!(created.key(), Some("big/object"));
    assert_eq!(created.bucket(), Some("multi"));

    let part1 = data(5 * MIB, 1);
    let etag1 = s3
        .upload_part()
        .bucket("multi")
        .key("big/object")
        .upload_id(&upload_id)
        .part_number(1)
        .body(server.streaming("part1", &part1).await)
        .send()
        .await
        .expect("UploadPart 1")
        .e_tag()
        .expect("an ETag")
        .to_owned();
    assert_eq!(etag1, format!("\"{}\"", md5_hex(&part1)));

    // Part 2: a copy of a range of another object (5 MiB+ of it).
    let copy_source = data(6 * MIB, 22);
    put(&s3, "multi", "big-source", &copy_source).await;
    let copied = s3
        .upload_part_copy()
        .bucket("multi")
        .key("big/object")
        .upload_id(&upload_id)
        .part_number(2)
        .copy_source("multi/big-source")
        .copy_source_range(format!("bytes=1-{}", 5 * MIB + 10))
        .send()
        .await
        .expect("UploadPartCopy");
    let part2 = copy_source[1..=5 * MIB + 10].to_vec();
    let etag2 = copied.copy_part_result().and_then(|r| r.e_tag()).expect("a CopyPartResult ETag").to_owned();
    assert_eq!(etag2, format!("\"{}\"", md5_hex(&part2)));

    let part3 = b"the short last part".to_vec();
    let etag3 = s3
        .upload_part()
        .bucket("multi")
        .key("big/object")
        .upload_id(&upload_id)
        .part_number(3)
        .body(ByteStream::from(part3.clone()))
        .send()
        .await
        .expect("UploadPart 3")
        .e_tag()
        .expect("an ETag")
        .to_owned();

    let parts =
        s3.list_parts().bucket("multi").key("big/object").upload_id(&upload_id).send().await.expect("ListParts");
    let listed: Vec<(i32, i64, &str)> = parts
        .parts()
        .iter()
        .map(|p| (p.part_number().unwrap_or(0), p.size().unwrap_or(0), p.e_tag().unwrap_or("")))
        .collect();
    assert_eq!(
        listed,
        [
            (1, part1.len() as i64, etag1.as_str()),
            (2, part2.len() as i64, etag2.as_str()),
            (3, part3.len() as i64, etag3.as_str())
        ]
    );
    let page = s3
        .list_parts()
        .bucket("multi")
        .key("big/object")
        .upload_id(&upload_id)
        .max_parts(2)
        .send()
        .await
        .expect("ListParts, one page");
    assert_eq!(page.parts().len(), 2);
    assert_eq!(page.is_truncated(), Some(true));
    assert_eq!(page.next_part_number_marker(), Some("2"));

    let uploads = s3.list_multipart_uploads().bucket("multi").send().await.expect("ListMultipartUploads");
    let listed: Vec<(&str, &str)> =
        uploads.uploads().iter().map(|u| (u.key().unwrap_or(""), u.upload_id().unwrap_or(""))).collect();
    assert_eq!(listed, [("big/object", upload_id.as_str())]);
    assert_eq!(code(s3.delete_bucket().bucket("multi").send().await), "BucketNotEmpty");

    let part = |n: i32, etag: &str| CompletedPart::builder().part_number(n).e_tag(etag).build();
    let complete = |parts: Vec<CompletedPart>| {
        s3.complete_multipart_upload()
            .bucket("multi")
            .key("big/object")
            .upload_id(&upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
    };
    let wrong = complete(vec![part(1, &etag1), part(2, "\"00000000000000000000000000000000\""), part(3, &etag3)]).await;
    assert_eq!(code(wrong), "InvalidPart");
    let unknown = complete(vec![part(1, &etag1), part(4, &etag3)]).await;
    assert_eq!(code(unknown), "InvalidPart");
    let disordered = complete(vec![part(2, &etag2), part(1, &etag1), part(3, &etag3)]).await;
    assert_eq!(code(disordered), "InvalidPartOrder");

    let done =
        complete(vec![part(1, &etag1), part(2, &etag2), part(3, &etag3)]).await.expect("CompleteMultipartUpload");
    let mut md5s = Vec::new();
    for p in [&part1, &part2, &part3] {
        md5s.extend_from_slice(&md5::Md5::digest(p));
    }
    let expected_etag = format!("\"{}-3\"", md5_hex(&md5s));
    assert_eq!(done.e_tag(), Some(expected_etag.as_str()));
    assert_eq!(done.key(), Some("big/object"));
    assert_eq!(done.bucket(), Some("multi"));

    let got =
        s3.get_object().bucket("multi").key("big/object").send().await.expect("GetObject of the completed upload");
    assert_eq!(got.e_tag(), Some(expected_etag.as_str()));
    assert_eq!(got.content_type(), Some("video/mp4"));
    assert_eq!(got.metadata().and_then(|m| m.get("take")).map(String::as_str), Some("3"));
    assert_eq!(got.parts_count(), Some(3));
    let bytes = got.body.collect().await.expect("the body").into_bytes();
    assert_eq!(bytes.len(), part1.len() + part2.len() + part3.len());
    assert!(bytes[..part1.len()] == part1[..], "part 1 differs");
    assert!(bytes[part1.len()..part1.len() + part2.len()] == part2[..], "part 2 differs");
    assert!(bytes[part1.len() + part2.len()..] == part3[..], "part 3 differs");

    // A copy is a single-part object: its ETag is the MD5 of all the bytes
    // (hashed while copying; the source's ETag is not one).
    let copied = s3
        .copy_object()
        .bucket("multi")
        .key("big/copy")
        .copy_source("multi/big/object")
        .send()
        .await
        .expect("CopyObject of a multipart object");
    let whole_md5 = format!("\"{}\"", md5_hex(&bytes));
    assert_eq!(copied.copy_object_result().and_then(|r| r.e_tag()), Some(whole_md5.as_str()));
    let copy = s3.get_object().bucket("multi").key("big/copy").send().await.expect("GetObject of the copy");
    assert_eq!(copy.parts_count(), None);
    assert_eq!(copy.body.collect().await.expect("the copy's body").into_bytes(), bytes);

    let uploads = s3.list_multipart_uploads().bucket("multi").send().await.expect("ListMultipartUploads");
    assert!(uploads.uploads().is_empty());
    let again = complete(vec![part(1, &etag1)]).await;
    assert_eq!(code(again), "NoSuchUpload");
}

#[tokio::test]
async fn multipart_refuses_small_parts_and_aborts() {
    let server = Server::start().await;
    let s3 = server.client();
    create_bucket(&s3, "small").await;
    let id = s3
        .create_multipart_upload()
        .bucket("small")
        .key("k")
        .send()
        .await
        .expect("CreateMultipartUpload")
        .upload_id()
        .expect("an upload ID")
        .to_owned();
    let mut parts = Vec::new();
    for n in 1..=2 {
        let etag = s3
            .upload_part()
            .bucket("small")
            .key("k")
            .upload_id(&id)
            .part_number(n)
            .body(ByteStream::from(data(1024, n as u8)))
            .send()
            .await
            .expect("UploadPart")
            .e_tag()
            .expect("an ETag")
            .to_owned();
        parts.push(CompletedPart::builder().part_number(n).e_tag(etag).build());
    }
    let too_small = s3
        .complete_multipart_upload()
        .bucket("small")
        .key("k")
        .upload_id(&id)
        .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts.clone())).build())
        .send()
        .await;
    assert_eq!(code(too_small), "EntityTooSmall");
    // A single small part is a valid (last) part.
    let one = s3
        .complete_multipart_upload()
        .bucket("small")
        .key("k")
        .upload_id(&id)
        .multipart_upload(CompletedMultipartUpload::builder().parts(parts[0].clone()).build())
        .send()
        .await
        .expect("CompleteMultipartUpload with one small part");
    assert!(one.e_tag().is_some_and(|e| e.ends_with("-1\"")));
    assert_eq!(get_bytes(&s3, "small", "k").await, data(1024, 1));

    let id = s3
        .create_multipart_upload()
        .bucket("small")
        .key("aborted")
        .send()
        .await
        .expect("CreateMultipartUpload")
        .upload_id()
        .expect("an upload ID")
        .to_owned();
    s3.upload_part()
        .bucket("small")
        .key("aborted")
        .upload_id(&id)
        .part_number(1)
        .body(ByteStream::from(b"x".to_vec()))
        .send()
        .await
        .expect("UploadPart");
    s3.abort_multipart_upload()
        .bucket("small")
        .key("aborted")
        .upload_id(&id)
        .send()
        .await
        .expect("AbortMultipartUpload");
    assert_eq!(code(s3.list_parts().bucket("small").key("aborted").upload_id(&id).send().await), "NoSuchUpload");
    assert_eq!(
        code(s3.abort_multipart_upload().bucket("small").key("aborted").upload_id(&id).send().await),
        "NoSuchUpload"
    );
    let uploads = s3.list_multipart_uploads().bucket("small").send().await.expect("ListMultipartUploads");
    assert!(uploads.uploads().is_empty());
    let stray = s3
        .upload_part()
        .bucket("small")
        .key("aborted")
        .upload_id(&id)
        .part_number(2)
        .body(ByteStream::from(b"y".to_vec()))
        .send()
        .await;
    assert_eq!(code(stray), "NoSuchUpload");
    let bad_number = s3
        .upload_part()
        .bucket("small")
        .key("k")
        .upload_id(&id)
        .part_number(10_001)
        .body(ByteStream::from(b"y".to_vec()))
        .send()
        .await;
    assert_eq!(code(bad_number), "InvalidArgument");
}

#[tokio::test]
async fn bucket_cors_is_put_read_and_deleted() {
    let server = Server::start().await;
    let s3 = server.client();
    create_bucket(&s3, "cors").await;
    assert_eq!(code(s3.get_bucket_cors().bucket("cors").send().await), "NoSuchCORSConfiguration");

    let rule = CorsRule::builder()
        .id("uploads")
        .allowed_origins("https://app.example")
        .allowed_methods("PUT")
        .allowed_methods("GET")
        .allowed_headers("*")
        .expose_headers("ETag")
        .max_age_seconds(600)
        .build()
        .expect("a CORS rule");
    s3.put_bucket_cors()
        .bucket("cors")
        .cors_configuration(
            CorsConfiguration::builder().cors_rules(rule.clone()).build().expect("a CORS configuration"),
        )
        .send()
        .await
        .expect("PutBucketCors");
    let got = s3.get_bucket_cors().bucket("cors").send().await.expect("GetBucketCors");
    assert_eq!(got.cors_rules(), [rule]);

    let bad = CorsRule::builder().allowed_origins("*").allowed_methods("PATCH").build().expect("a CORS rule");
    let refused = s3
        .put_bucket_cors()
        .bucket("cors")
        .cors_configuration(CorsConfiguration::builder().cors_rules(bad).build().expect("a CORS configuration"))
        .send()
        .await;
    assert_eq!(code(refused), "InvalidRequest");

    s3.delete_bucket_cors().bucket("cors").send().await.expect("DeleteBucketCors");
    assert_eq!(code(s3.get_bucket_cors().bucket("cors").send().await), "NoSuchCORSConfiguration");
}

#[tokio::test]
async fn presigned_urls_work_with_a_plain_http_client() {
    let server = Server::start().await;
    let s3 = server.client();
    create_bucket(&s3, "shared").await;
    let presign = || PresigningConfig::expires_in(Duration::from_secs(300)).expect("a presigning config");

    let body = data(40_000, 17);
    let put = s3
        .put_object()
        .bucket("shared")
        .key("via url/file.bin")
        .content_type("application/octet-stream")
        .presigned(presign())
        .await
        .expect("presign PutObject");
    assert_eq!(put.method(), "PUT");
    assert!(put.uri().contains("X-Amz-Signature="), "{}", put.uri());
    let (status, headers, answer) = send_presigned(put, body.clone()).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    let etag = format!("\"{}\"", md5_hex(&body));
    assert_eq!(headers.get("etag").and_then(|v| v.to_str().ok()), Some(etag.as_str()));
    assert_eq!(get_bytes(&s3, "shared", "via url/file.bin").await, body);

    let get = s3
        .get_object()
        .bucket("shared")
        .key("via url/file.bin")
        .response_content_disposition("attachment; filename=\"file.bin\"")
        .response_content_type("application/x-download")
        .presigned(presign())
        .await
        .expect("presign GetObject");
    assert!(get.uri().contains("response-content-disposition="), "{}", get.uri());
    let (status, headers, answer) = send_presigned(get, Vec::new()).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    assert_eq!(
        headers.get("content-disposition").and_then(|v| v.to_str().ok()),
        Some("attachment; filename=\"file.bin\"")
    );
    assert_eq!(headers.get("content-type").and_then(|v| v.to_str().ok()), Some("application/x-download"));
    assert_eq!(answer.as_ref(), &body[..]);

    // A URL signed with another secret, and one whose time is up.
    let forged = server
        .client_as(ACCESS_KEY, "not-the-secret")
        .get_object()
        .bucket("shared")
        .key("via url/file.bin")
        .presigned(presign())
        .await
        .expect("presign GetObject");
    let (status, _, answer) = send_presigned(forged, Vec::new()).await;
    assert_eq!(status, 403);
    assert!(String::from_utf8_lossy(&answer).contains("<Code>SignatureDoesNotMatch</Code>"));
    let expired = PresigningConfig::builder()
        .start_time(SystemTime::now() - Duration::from_secs(3600))
        .expires_in(Duration::from_secs(60))
        .build()
        .expect("a presigning config");
    let stale =
        s3.get_object().bucket("shared").key("via url/file.bin").presigned(expired).await.expect("presign GetObject");
    let (status, _, answer) = send_presigned(stale, Vec::new()).await;
    assert_eq!(status, 403);
    assert!(
        String::from_utf8_lossy(&answer).contains("<Code>AccessDenied</Code>"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

#[tokio::test]
async fn bad_credentials_are_refused_with_s3_errors() {
    let server = Server::start().await;
    create_bucket(&server.client(), "guarded").await;

    let wrong_secret = server.client_as(ACCESS_KEY, "not-the-secret");
    assert_eq!(code(wrong_secret.list_buckets().send().await), "SignatureDoesNotMatch");
    let put =
        wrong_secret.put_object().bucket("guarded").key("k").body(ByteStream::from(b"data".to_vec())).send().await;
    let error = put.expect_err("PutObject with a wrong secret fails");
    assert_eq!(error.code(), Some("SignatureDoesNotMatch"));
    assert!(error.message().is_some_and(|m| !m.is_empty()));
    assert_eq!(error.raw_response().map(|r| r.status().as_u16()), Some(403));
    assert!(error.request_id().is_some_and(|id| !id.is_empty()), "the SDK reads x-amz-request-id: {error:?}");

    let wrong_region = Client::from_conf(server.config(ACCESS_KEY, SECRET).region(Region::new("eu-west-1")).build());
    assert_eq!(code(wrong_region.list_buckets().send().await), "AuthorizationHeaderMalformed");

    let unknown = server.client_as("AKIAUNKNOWNKEY000000", SECRET);
    assert_eq!(code(unknown.list_buckets().send().await), "InvalidAccessKeyId");
    assert_eq!(code(unknown.get_object().bucket("guarded").key("k").send().await), "InvalidAccessKeyId");
    assert_eq!(status(unknown.head_bucket().bucket("guarded").send().await), 403);
    assert_eq!(status(server.client().head_object().bucket("guarded").key("k").send().await), 404);
}

#[tokio::test]
async fn virtual_hosted_style_addresses_the_bucket_in_the_host() {
    let server = Server::start().await;
    create_bucket(&server.client(), "hosted").await;
    let recorder = Recorder::default();
    let s3 = Client::from_conf(
        server
            .config(ACCESS_KEY, SECRET)
            .endpoint_url(format!("http://localhost:{}", server.addr.port()))
            .force_path_style(false)
            .interceptor(ConnectTo(server.addr))
            .interceptor(recorder.clone())
            .build(),
    );
    let body = data(10_000, 4);
    s3.put_object()
        .bucket("hosted")
        .key("v/h.bin")
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .expect("PutObject, virtual-hosted");
    assert_eq!(recorder.header("host"), Some(format!("hosted.localhost:{}", server.addr.port())));
    assert_eq!(get_bytes(&s3, "hosted", "v/h.bin").await, body);
    let listed = s3.list_objects_v2().bucket("hosted").send().await.expect("ListObjectsV2, virtual-hosted");
    assert_eq!(listed.contents().iter().filter_map(|o| o.key()).collect::<Vec<_>>(), ["v/h.bin"]);
    assert_eq!(get_bytes(&server.client(), "hosted", "v/h.bin").await, body);

    s3.create_bucket().bucket("made-by-host").send().await.expect("CreateBucket, virtual-hosted");
    assert_eq!(recorder.header("host"), Some(format!("made-by-host.localhost:{}", server.addr.port())));
    s3.head_bucket().bucket("made-by-host").send().await.expect("HeadBucket, virtual-hosted");
    let location =
        s3.get_bucket_location().bucket("made-by-host").send().await.expect("GetBucketLocation, virtual-hosted");
    assert!(location.location_constraint().is_none_or(|c| c.as_str().is_empty()));
    let deleted = s3
        .delete_objects()
        .bucket("hosted")
        .delete(
            Delete::builder()
                .objects(ObjectIdentifier::builder().key("v/h.bin").build().expect("an object id"))
                .build()
                .expect("a Delete"),
        )
        .send()
        .await
        .expect("DeleteObjects, virtual-hosted");
    assert_eq!(deleted.deleted().len(), 1);
    s3.delete_bucket().bucket("hosted").send().await.expect("DeleteBucket, virtual-hosted");
    let names: Vec<String> = s3
        .list_buckets()
        .send()
        .await
        .expect("ListBuckets against the bare host")
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_owned))
        .collect();
    assert_eq!(names, ["made-by-host"]);
}

#[tokio::test]
async fn keys_with_awkward_characters_round_trip() {
    let server = Server::start().await;
    let s3 = server.client();
    create_bucket(&s3, "awkward").await;
    let mut keys = vec![
        "a b",
        "a+b",
        "tilde~under_score-dash.dot",
        "per%cent%20",
        "q?x=1&y=2",
        "hash#frag",
        "unicode/日本語/ü/😀",
        "double//slash",
        "dot/./x",
        "dotdot/../y",
        "star*(paren)'!",
        "colon:semi;at@comma,dollar$",
        "brackets[]{}<>|^`\"\\",
        "trailing/",
        "/leading",
        "space at end ",
        "equals=and&amp",
        " leading space",
        "inner & spaced &amp; ampersands",
        "tab\tand\nnewline",
    ];
    keys.sort_unstable();
    for (i, key) in keys.iter().enumerate() {
        let body = format!("body of {key}");
        let etag = put(&s3, "awkward", key, body.as_bytes()).await;
        assert_eq!(etag, format!("\"{}\"", md5_hex(body.as_bytes())), "{key}");
        assert_eq!(get_bytes(&s3, "awkward", key).await, body.as_bytes(), "{key}");
        let head = s3.head_object().bucket("awkward").key(*key).send().await;
        assert_eq!(
            head.unwrap_or_else(|e| panic!("HeadObject {key:?}: {e:?}")).content_length(),
            Some(body.len() as i64)
        );
        let source =
            format!("awkward/{}", consign_sigv4::encoding::uri_encode(key, consign_sigv4::encoding::Slash::Keep));
        s3.copy_object()
            .bucket("awkward")
            .key(format!("zz-copy-{i}"))
            .copy_source(source)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CopyObject from {key:?}: {e:?}"));
        assert_eq!(get_bytes(&s3, "awkward", &format!("zz-copy-{i}")).await, body.as_bytes(), "{key}");
    }
    let listed = s3.list_objects_v2().bucket("awkward").max_keys(1000).send().await.expect("ListObjectsV2");
    let names: Vec<&str> =
        listed.contents().iter().filter_map(|o| o.key()).filter(|k| !k.starts_with("zz-copy-")).collect();
    assert_eq!(names, keys);
    for key in &keys {
        let listed =
            s3.list_objects_v2().bucket("awkward").prefix(*key).send().await.expect("ListObjectsV2 with a prefix");
        assert!(listed.contents().iter().any(|o| o.key() == Some(key)), "prefix {key:?}: {listed:?}");
    }
    // The longest key S3 allows, and one byte more.
    let longest = "k".repeat(1024);
    put(&s3, "awkward", &longest, b"long").await;
    assert_eq!(get_bytes(&s3, "awkward", &longest).await, b"long");
    s3.delete_object().bucket("awkward").key(&longest).send().await.expect("DeleteObject of a 1024-byte key");
    let too_long =
        s3.put_object().bucket("awkward").key("k".repeat(1025)).body(ByteStream::from(b"x".to_vec())).send().await;
    assert_eq!(code(too_long), "KeyTooLongError");
    let too_much = s3
        .put_object()
        .bucket("awkward")
        .key("meta")
        .metadata("big", "m".repeat(2100))
        .body(ByteStream::from(b"x".to_vec()))
        .send()
        .await;
    assert_eq!(code(too_much), "MetadataTooLarge");

    // Multipart under an awkward key.
    let key = "multi part/ü?&=+#";
    let id = s3
        .create_multipart_upload()
        .bucket("awkward")
        .key(key)
        .send()
        .await
        .expect("CreateMultipartUpload")
        .upload_id()
        .expect("an upload ID")
        .to_owned();
    let etag = s3
        .upload_part()
        .bucket("awkward")
        .key(key)
        .upload_id(&id)
        .part_number(1)
        .body(ByteStream::from(b"only part".to_vec()))
        .send()
        .await
        .expect("UploadPart")
        .e_tag()
        .expect("an ETag")
        .to_owned();
    let uploads = s3.list_multipart_uploads().bucket("awkward").send().await.expect("ListMultipartUploads");
    assert_eq!(uploads.uploads().iter().filter_map(|u| u.key()).collect::<Vec<_>>(), [key]);
    let done = s3
        .complete_multipart_upload()
        .bucket("awkward")
        .key(key)
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(CompletedPart::builder().part_number(1).e_tag(etag).build())
                .build(),
        )
        .send()
        .await
        .expect("CompleteMultipartUpload");
    assert_eq!(done.key(), Some(key));
    assert_eq!(get_bytes(&s3, "awkward", key).await, b"only part");

    let ids: Vec<ObjectIdentifier> =
        keys.iter().map(|k| ObjectIdentifier::builder().key(*k).build().expect("an object id")).collect();
    let deleted = s3
        .delete_objects()
        .bucket("awkward")
        .delete(Delete::builder().set_objects(Some(ids)).build().expect("a Delete"))
        .send()
        .await
        .expect("DeleteObjects of awkward keys");
    let mut gone: Vec<&str> = deleted.deleted().iter().filter_map(|d| d.key()).collect();
    gone.sort_unstable();
    assert_eq!(gone, keys);
    for key in &keys {
        assert_eq!(status(s3.head_object().bucket("awkward").key(*key).send().await), 404, "{key}");
    }
}

#[tokio::test]
async fn multipart_uploads_with_a_checksum_algorithm_get_a_composite_checksum() {
    let server = Server::start().await;
    let s3 = server.client();
    create_bucket(&s3, "composite").await;
    for algorithm in [ChecksumAlgorithm::Crc32, ChecksumAlgorithm::Sha256] {
        let key = format!("composite-{}", algorithm.as_str());
        let id = s3
            .create_multipart_upload()
            .bucket("composite")
            .key(&key)
            .checksum_algorithm(algorithm.clone())
            .send()
            .await
            .expect("CreateMultipartUpload with a checksum algorithm")
            .upload_id()
            .expect("an upload ID")
            .to_owned();
        let bodies = [data(5 * MIB, 31), data(1000, 32)];
        let mut parts = Vec::new();
        let mut raw_checksums = Vec::new();
        for (i, body) in bodies.iter().enumerate() {
            let number = i as i32 + 1;
            let streaming = server.streaming(&format!("{key}-{number}"), body).await;
            let output = s3
                .upload_part()
                .bucket("composite")
                .key(&key)
                .upload_id(&id)
                .part_number(number)
                .checksum_algorithm(algorithm.clone())
                .body(streaming)
                .send()
                .await
                .unwrap_or_else(|e| panic!("UploadPart {number} with {algorithm:?}: {e:?}"));
            let value = checksum(&algorithm, body);
            assert_eq!(checksum_of!(output, algorithm), Some(value.as_str()));
            raw_checksums.extend(STANDARD.decode(&value).expect("base64"));
            let part = CompletedPart::builder().part_number(number).e_tag(output.e_tag().expect("an ETag"));
            parts.push(
                match algorithm {
                    ChecksumAlgorithm::Crc32 => part.checksum_crc32(value),
                    _ => part.checksum_sha256(value),
                }
                .build(),
            );
        }
        let listed = s3.list_parts().bucket("composite").key(&key).upload_id(&id).send().await.expect("ListParts");
        assert_eq!(listed.checksum_algorithm(), Some(&algorithm));
        for (part, body) in listed.parts().iter().zip(&bodies) {
            assert_eq!(checksum_of!(part, algorithm), Some(checksum(&algorithm, body).as_str()));
        }
        let done = s3
            .complete_multipart_upload()
            .bucket("composite")
            .key(&key)
            .upload_id(&id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
            .await
            .expect("CompleteMultipartUpload with checksums");
        let composite = format!("{}-2", checksum(&algorithm, &raw_checksums));
        assert_eq!(checksum_of!(done, algorithm), Some(composite.as_str()));
        let got = s3
            .get_object()
            .bucket("composite")
            .key(&key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .expect("GetObject of a composite-checksum object");
        assert_eq!(checksum_of!(got, algorithm), Some(composite.as_str()));
        assert_eq!(got.checksum_type().map(|t| t.as_str()), Some("COMPOSITE"));
        let bytes = got.body.collect().await.expect("the body").into_bytes();
        assert_eq!(bytes.len(), bodies[0].len() + bodies[1].len());
        assert!(bytes[..bodies[0].len()] == bodies[0][..] && bytes[bodies[0].len()..] == bodies[1][..]);
    }
}

#[tokio::test]
async fn list_multipart_uploads_pages_through_uploads_of_one_key() {
    let server = Server::start().await;
    let s3 = server.client();
    create_bucket(&s3, "pending").await;
    let mut expected = Vec::new();
    for key in ["a", "b", "b", "b", "c/d", "c/e"] {
        let id = s3
            .create_multipart_upload()
            .bucket("pending")
            .key(key)
            .send()
            .await
            .expect("CreateMultipartUpload")
            .upload_id()
            .expect("an upload ID")
            .to_owned();
        expected.push((key.to_owned(), id));
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let all = s3.list_multipart_uploads().bucket("pending").send().await.expect("ListMultipartUploads");
    let listed: Vec<(String, String)> = all
        .uploads()
        .iter()
        .map(|u| (u.key().unwrap_or("").to_owned(), u.upload_id().unwrap_or("").to_owned()))
        .collect();
    assert_eq!(listed, expected);

    let mut seen = Vec::new();
    let (mut key_marker, mut id_marker): (Option<String>, Option<String>) = (None, None);
    for _ in 0..10 {
        let page = s3
            .list_multipart_uploads()
            .bucket("pending")
            .max_uploads(2)
            .set_key_marker(key_marker.clone())
            .set_upload_id_marker(id_marker.clone())
            .send()
            .await
            .expect("a page of ListMultipartUploads");
        seen.extend(
            page.uploads().iter().map(|u| (u.key().unwrap_or("").to_owned(), u.upload_id().unwrap_or("").to_owned())),
        );
        if page.is_truncated() != Some(true) {
            break;
        }
        key_marker = page.next_key_marker().map(str::to_owned);
        id_marker = page.next_upload_id_marker().map(str::to_owned);
    }
    assert_eq!(seen, expected);

    let under_c = s3.list_multipart_uploads().bucket("pending").prefix("c/").send().await.expect("with a prefix");
    assert_eq!(under_c.uploads().iter().filter_map(|u| u.key()).collect::<Vec<_>>(), ["c/d", "c/e"]);
    let after_b =
        s3.list_multipart_uploads().bucket("pending").key_marker("b").send().await.expect("with a key marker");
    assert_eq!(after_b.uploads().iter().filter_map(|u| u.key()).collect::<Vec<_>>(), ["c/d", "c/e"]);
}

#[tokio::test]
async fn copy_object_honours_source_conditions() {
    let server = Server::start().await;
    let s3 = server.client();
    create_bucket(&s3, "cond").await;
    let etag = put(&s3, "cond", "src", b"conditional").await;
    s3.copy_object()
        .bucket("cond")
        .key("ok")
        .copy_source("cond/src")
        .copy_source_if_match(&etag)
        .send()
        .await
        .expect("CopyObject with a source If-Match that holds");
    let failed = s3
        .copy_object()
        .bucket("cond")
        .key("no")
        .copy_source("cond/src")
        .copy_source_if_match("\"other\"")
        .send()
        .await;
    assert_eq!(code(failed), "PreconditionFailed");
    let failed =
        s3.copy_object().bucket("cond").key("no").copy_source("cond/src").copy_source_if_none_match(&etag).send().await;
    assert_eq!(code(failed), "PreconditionFailed");
    assert_eq!(status(s3.head_object().bucket("cond").key("no").send().await), 404);
    assert_eq!(code(s3.copy_object().bucket("cond").key("x").copy_source("nowhere/src").send().await), "NoSuchBucket");
}
