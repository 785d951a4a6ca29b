//! The store over real TCP (in-process, port 0), for what the peer suites
//! do not reach:
//! - awkward keys map to storage safely and nothing lands outside the data
//!   directory;
//! - every limit answers with its S3 error (head size, request rate, idle
//!   body, form field size);
//! - tampering with a header-signed request or an aws-chunked body is
//!   refused with the S3 code and leaves nothing behind;
//! - CORS preflights and responses follow the bucket's rules;
//! - access keys reach only their buckets; anonymous requests are refused.
//!
//! Requests are signed by `consign-sigv4` (through `consign-testkit`); that
//! our verifier accepts what others sign is proven by the aws-sdk-s3,
//! botocore and AWS CLI suites.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use consign_sigv4::{Credentials, HttpRequest, Payload, Signer, StreamingMode};
use consign_store::{AccessKey, Store, StoreConfig};
use consign_testkit::{DEV_ACCESS_KEY, DEV_SECRET_KEY, RequestBody, S3Client};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Running {
    address: SocketAddr,
    dir: PathBuf,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

async fn start(configure: impl FnOnce(&mut StoreConfig)) -> Running {
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("consign-store-test-{}-{nanos}", std::process::id()));
    let mut config =
        StoreConfig::new(&dir, "us-east-1").with_access_key(AccessKey::admin(DEV_ACCESS_KEY, DEV_SECRET_KEY));
    configure(&mut config);
    let store = Store::open(config).expect("the store opens");
    store.storage().create_bucket("b", 0).expect("a bucket");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let address = listener.local_addr().expect("an address");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(consign_store::serve(Arc::new(store), listener, async {
        let _ = rx.await;
    }));
    Running { address, dir, _shutdown: tx }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// A raw HTTP/1.1 exchange, for requests no client library will send.
async fn raw(address: SocketAddr, request: &[u8]) -> String {
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect");
    stream.write_all(request).await.expect("write");
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response)).await;
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test]
async fn awkward_keys_round_trip_and_stay_inside_the_data_directory() {
    let store = start(|_| {}).await;
    let client = S3Client::dev(store.address);
    let long_emoji = "😀".repeat(256); // 1024 bytes
    let keys = [
        "../escape",
        "../../../../../../tmp/consign-escape",
        "a//b",
        "trailing/",
        "/leading",
        "with space",
        "per%cent%2F",
        "plus+sign",
        "ünïcödé/日本語",
        long_emoji.as_str(),
        "prefix",
        "prefix/child",
        ".",
        "..",
        "tab\there",
    ];
    for (i, key) in keys.iter().enumerate() {
        let body = Bytes::from(format!("object {i}"));
        let put = client.put("b", key, body.clone()).await.expect("put");
        assert_eq!(put.status, 200, "{key:?}: {}", put.text());
        let got = client.get("b", key).await.expect("get");
        assert_eq!((got.status, got.body.as_slice()), (200, body.as_ref()), "{key:?}");
    }
    let too_long = "k".repeat(1025);
    let refused = client.put("b", &too_long, Bytes::from_static(b"x")).await.expect("put");
    assert!(refused.status == 400 && refused.text().contains("KeyTooLongError"), "{}", refused.text());

    let files = files_under(&store.dir);
    assert!(files.iter().all(|f| f.starts_with(&store.dir)));
    let objects = files.iter().filter(|f| f.components().any(|c| c.as_os_str() == "objects")).count();
    assert_eq!(objects, keys.len(), "one file per object: {files:?}");
    assert!(!Path::new("/tmp/consign-escape").exists());
    let _ = std::fs::remove_dir_all(&store.dir);
}

#[tokio::test]
async fn limits_answer_with_s3_errors() {
    let store = start(|config| {
        config.limits.max_header_bytes = 4 * 1024;
        config.limits.idle_timeout = Duration::from_millis(300);
        config.limits.max_form_field_bytes = 1024;
    })
    .await;
    let client = S3Client::dev(store.address);

    let big = "x".repeat(5000);
    let response = client
        .send("PUT", "/b/k", "", &[("x-amz-meta-big", &big)], RequestBody::Bytes(Bytes::new()))
        .await
        .expect("send");
    assert!(response.status == 400 && response.text().contains("RequestHeaderSectionTooLarge"), "{}", response.text());

    // A body that stops arriving: the store gives up with RequestTimeout.
    let host = store.address.to_string();
    let headers = [("host", host.as_str()), ("content-length", "100")];
    let signer = Signer::s3(Credentials::new(DEV_ACCESS_KEY, DEV_SECRET_KEY), "us-east-1");
    let request = HttpRequest { method: "PUT", path: "/b/stalled", query: "", headers: &headers };
    let signed = signer.sign_headers(&request, Payload::Unsigned, SystemTime::now()).expect("sign");
    let mut head = format!("PUT /b/stalled HTTP/1.1\r\nhost: {host}\r\ncontent-length: 100\r\n");
    for (name, value) in &signed.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\nonly ten b");
    let answer = raw(store.address, head.as_bytes()).await;
    assert!(answer.contains("RequestTimeout"), "{answer}");
    assert!(client.get("b", "stalled").await.expect("get").status == 404);

    // A form field over the limit, before any signature is looked at.
    let boundary = "XyZ";
    let form = format!(
        "--{boundary}\r\ncontent-disposition: form-data; name=\"key\"\r\n\r\n{}\r\n--{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nx\r\n--{boundary}--\r\n",
        "k".repeat(2000)
    );
    let request = format!(
        "POST /b HTTP/1.1\r\nhost: {host}\r\ncontent-type: multipart/form-data; boundary={boundary}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{form}",
        form.len()
    );
    let answer = raw(store.address, request.as_bytes()).await;
    assert!(answer.contains("MaxPostPreDataLengthExceeded"), "{answer}");
    let _ = std::fs::remove_dir_all(&store.dir);
}

#[tokio::test]
async fn request_rate_limit_answers_slow_down() {
    let store = start(|config| config.limits.requests_per_second = 5).await;
    let client = S3Client::dev(store.address);
    let mut statuses = Vec::new();
    for _ in 0..20 {
        let response = client.get("b", "missing").await.expect("get");
        if response.status == 503 {
            assert!(response.text().contains("SlowDown"), "{}", response.text());
        }
        statuses.push(response.status);
    }
    assert!(statuses.contains(&404) && statuses.contains(&503), "{statuses:?}");
    let _ = std::fs::remove_dir_all(&store.dir);
}

/// One changed element: what, the path, the headers, the body, and the
/// S3 code expected.
struct Tampered(&'static str, String, Vec<(String, String)>, Vec<u8>, &'static str);

#[tokio::test]
async fn tampered_header_signed_requests_are_refused_and_store_nothing() {
    let store = start(|_| {}).await;
    let host = store.address.to_string();
    let signer = Signer::s3(Credentials::new(DEV_ACCESS_KEY, DEV_SECRET_KEY), "us-east-1");
    let body = b"the real body";
    let headers =
        [("host", host.as_str()), ("content-length", "13"), ("content-type", "text/plain"), ("x-amz-meta-a", "1")];
    let request = HttpRequest { method: "PUT", path: "/b/target", query: "", headers: &headers };
    let signed = signer.sign_headers(&request, Payload::Bytes(body), SystemTime::now()).expect("sign");
    let mut all: Vec<(String, String)> = headers.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect();
    all.extend(signed.headers.iter().map(|(n, v)| ((*n).to_owned(), v.clone())));

    let send = |path: &str, headers: &[(String, String)], body: &[u8]| {
        let mut text = format!("PUT {path} HTTP/1.1\r\nconnection: close\r\n");
        for (name, value) in headers {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        text.push_str("\r\n");
        let mut bytes = text.into_bytes();
        bytes.extend_from_slice(body);
        bytes
    };
    let replace = |name: &str, value: &str| -> Vec<(String, String)> {
        all.iter()
            .map(|(n, v)| if n == name { (n.clone(), value.to_owned()) } else { (n.clone(), v.clone()) })
            .collect()
    };
    let authorization = all.iter().find(|(n, _)| n == "authorization").map(|(_, v)| v.clone()).unwrap_or_default();
    let flipped = {
        let mut a = authorization.clone();
        let last = a.pop().unwrap_or('0');
        a.push(if last == '0' { '1' } else { '0' });
        a
    };
    let cases: Vec<Tampered> = vec![
        Tampered("another path", "/b/elsewhere".into(), all.clone(), body.to_vec(), "SignatureDoesNotMatch"),
        Tampered(
            "a signed header",
            "/b/target".into(),
            replace("content-type", "text/html"),
            body.to_vec(),
            "SignatureDoesNotMatch",
        ),
        Tampered(
            "user metadata",
            "/b/target".into(),
            replace("x-amz-meta-a", "2"),
            body.to_vec(),
            "SignatureDoesNotMatch",
        ),
        Tampered(
            "the date",
            "/b/target".into(),
            replace("x-amz-date", "20200101T000000Z"),
            body.to_vec(),
            "RequestTimeTooSkewed",
        ),
        Tampered(
            "the signature",
            "/b/target".into(),
            replace("authorization", &flipped),
            body.to_vec(),
            "SignatureDoesNotMatch",
        ),
        Tampered(
            "the scope's region",
            "/b/target".into(),
            replace("authorization", &authorization.replace("/us-east-1/", "/eu-west-1/")),
            body.to_vec(),
            "AuthorizationHeaderMalformed",
        ),
        Tampered(
            "an unknown key",
            "/b/target".into(),
            replace("authorization", &authorization.replace(DEV_ACCESS_KEY, "nobody")),
            body.to_vec(),
            "InvalidAccessKeyId",
        ),
        Tampered("the body", "/b/target".into(), all.clone(), b"the fake body".to_vec(), "XAmzContentSHA256Mismatch"),
        Tampered(
            "an added unsigned x-amz header",
            "/b/target".into(),
            [all.clone(), vec![("x-amz-acl".into(), "public-read".into())]].concat(),
            body.to_vec(),
            "AccessDenied",
        ),
    ];
    for Tampered(what, path, headers, body, code) in cases {
        let answer = raw(store.address, &send(&path, &headers, &body)).await;
        assert!(answer.contains(&format!("<Code>{code}</Code>")), "changing {what}: {answer}");
    }
    let client = S3Client::dev(store.address);
    for key in ["target", "elsewhere"] {
        assert_eq!(client.get("b", key).await.expect("get").status, 404, "{key} was stored");
    }
    // And the untouched request is accepted.
    let answer = raw(store.address, &send("/b/target", &all, body)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(files_under(&store.dir.join("tmp")).is_empty());
    let _ = std::fs::remove_dir_all(&store.dir);
}

#[tokio::test]
async fn tampered_signed_chunks_are_refused_and_store_nothing() {
    let store = start(|_| {}).await;
    let host = store.address.to_string();
    let signer = Signer::s3(Credentials::new(DEV_ACCESS_KEY, DEV_SECRET_KEY), "us-east-1");
    let data = vec![b'z'; 20_000];
    let mut encoded_len_probe = signer.chunk_encoder(
        &signer
            .sign_headers(
                &HttpRequest { method: "PUT", path: "/", query: "", headers: &[("host", "x")] },
                Payload::StreamingSigned,
                SystemTime::now(),
            )
            .expect("sign"),
        StreamingMode::Signed,
    );
    let encoded_len = encoded_len_probe.chunk(&data[..10_000]).len() * 2 + encoded_len_probe.finish(&[]).len();

    for tamper in [None, Some(150usize), Some(10_100), Some(encoded_len - 10)] {
        let key = format!("chunked-{}", tamper.map_or("clean".to_owned(), |t| t.to_string()));
        let path = format!("/b/{key}");
        let length = encoded_len.to_string();
        let headers = [
            ("host", host.as_str()),
            ("content-encoding", "aws-chunked"),
            ("content-length", length.as_str()),
            ("x-amz-decoded-content-length", "20000"),
        ];
        let request = HttpRequest { method: "PUT", path: &path, query: "", headers: &headers };
        let seed = signer.sign_headers(&request, Payload::StreamingSigned, SystemTime::now()).expect("sign");
        let mut encoder = signer.chunk_encoder(&seed, StreamingMode::Signed);
        let mut body = encoder.chunk(&data[..10_000]);
        body.extend(encoder.chunk(&data[10_000..]));
        body.extend(encoder.finish(&[]));
        assert_eq!(body.len(), encoded_len);
        if let Some(at) = tamper {
            body[at] ^= 0x01;
        }
        let mut text = format!("PUT {path} HTTP/1.1\r\nconnection: close\r\n");
        for (name, value) in headers.iter().copied().chain(seed.headers.iter().map(|(n, v)| (*n, v.as_str()))) {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        text.push_str("\r\n");
        let mut bytes = text.into_bytes();
        bytes.extend_from_slice(&body);
        let answer = raw(store.address, &bytes).await;
        let client = S3Client::dev(store.address);
        let stored = client.get("b", &key).await.expect("get");
        match tamper {
            None => {
                assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
                assert_eq!(stored.body, data);
            }
            Some(at) => {
                assert!(answer.starts_with("HTTP/1.1 4") || answer.starts_with("HTTP/1.1 403"), "byte {at}: {answer}");
                assert_eq!(stored.status, 404, "a tampered upload (byte {at}) was stored");
            }
        }
    }
    assert!(files_under(&store.dir.join("tmp")).is_empty());
    let _ = std::fs::remove_dir_all(&store.dir);
}

#[tokio::test]
async fn cors_preflight_and_responses_follow_the_bucket_rules() {
    let store = start(|_| {}).await;
    let host = store.address.to_string();
    let preflight = |origin: &str, method: &str| {
        format!(
            "OPTIONS /b/photo.png HTTP/1.1\r\nhost: {host}\r\norigin: {origin}\r\naccess-control-request-method: {method}\r\n\
             access-control-request-headers: content-type, x-amz-date\r\nconnection: close\r\n\r\n"
        )
    };
    // Development default: any origin may upload, and ETag is readable.
    let answer = raw(store.address, preflight("http://localhost:3000", "PUT").as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let lower = answer.to_ascii_lowercase();
    assert!(lower.contains("access-control-allow-origin: *"), "{answer}");
    assert!(lower.contains("access-control-expose-headers: etag"), "{answer}");

    // A bucket's own rules replace the default.
    let client = S3Client::dev(store.address);
    let rules = "<CORSConfiguration><CORSRule><AllowedOrigin>https://app.example.com</AllowedOrigin>\
        <AllowedMethod>PUT</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader>\
        </CORSRule></CORSConfiguration>";
    let put = client.send("PUT", "/b", "cors=", &[], RequestBody::Bytes(Bytes::from(rules))).await.expect("put cors");
    assert_eq!(put.status, 200, "{}", put.text());
    let answer = raw(store.address, preflight("https://app.example.com", "PUT").as_bytes()).await;
    assert!(answer.to_ascii_lowercase().contains("access-control-allow-origin: https://app.example.com"), "{answer}");
    for (origin, method) in [("https://evil.example.com", "PUT"), ("https://app.example.com", "DELETE")] {
        let answer = raw(store.address, preflight(origin, method).as_bytes()).await;
        assert!(
            answer.starts_with("HTTP/1.1 403") && answer.contains("AccessForbidden"),
            "{origin} {method}: {answer}"
        );
    }
    // The response to the real request carries the CORS headers too.
    let put = client
        .send(
            "PUT",
            "/b/photo.png",
            "",
            &[("origin", "https://app.example.com")],
            RequestBody::Bytes(Bytes::from_static(b"png")),
        )
        .await
        .expect("put");
    assert_eq!(put.header("access-control-allow-origin"), Some("https://app.example.com"));
    assert!(put.header("access-control-expose-headers").is_some_and(|h| h.contains("ETag")));
    let _ = std::fs::remove_dir_all(&store.dir);
}

#[tokio::test]
async fn access_keys_are_limited_to_their_buckets_and_anonymous_requests_are_refused() {
    let store = start(|config| {
        config.access_keys.push(AccessKey {
            id: "writer".into(),
            secret: consign_sigv4::SecretKey::new("writer-secret"),
            grants: vec![consign_store::BucketGrant { bucket: "b".into(), read: false, write: true }],
        });
    })
    .await;
    let writer = S3Client::new(store.address, "writer", "writer-secret", "us-east-1");
    assert_eq!(writer.put("b", "k", Bytes::from_static(b"v")).await.expect("put").status, 200);
    for (what, response) in [
        ("read", writer.get("b", "k").await.expect("get")),
        ("list", writer.send("GET", "/b", "list-type=2", &[], RequestBody::Bytes(Bytes::new())).await.expect("list")),
        (
            "create a bucket",
            writer.send("PUT", "/other", "", &[], RequestBody::Bytes(Bytes::new())).await.expect("create"),
        ),
    ] {
        assert!(response.status == 403 && response.text().contains("AccessDenied"), "{what}: {}", response.text());
    }
    let host = store.address.to_string();
    let answer =
        raw(store.address, format!("GET /b/k HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n").as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 403") && answer.contains("<Code>AccessDenied</Code>"), "{answer}");
    let _ = std::fs::remove_dir_all(&store.dir);
}

#[tokio::test]
async fn xml_bodies_must_match_their_signed_hash() {
    let store = start(|_| {}).await;
    let host = store.address.to_string();
    let signer = Signer::s3(Credentials::new(DEV_ACCESS_KEY, DEV_SECRET_KEY), "us-east-1");
    let signed_body = "<CORSConfiguration><CORSRule><AllowedOrigin>https://app.example.com</AllowedOrigin>\
        <AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>";
    let swapped_body = signed_body.replace("https://app.example.com", "*");
    for (query, body) in
        [("cors=", swapped_body.as_str()), ("delete=", "<Delete><Object><Key>k</Key></Object></Delete>")]
    {
        let length = body.len().to_string();
        let headers = [("host", host.as_str()), ("content-length", length.as_str())];
        let request =
            HttpRequest { method: if query == "cors=" { "PUT" } else { "POST" }, path: "/b", query, headers: &headers };
        let signed =
            signer.sign_headers(&request, Payload::Bytes(signed_body.as_bytes()), SystemTime::now()).expect("sign");
        let mut text = format!("{} /b?{query} HTTP/1.1\r\nconnection: close\r\n", request.method);
        for (name, value) in headers.iter().copied().chain(signed.headers.iter().map(|(n, v)| (*n, v.as_str()))) {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        text.push_str("\r\n");
        text.push_str(body);
        let answer = raw(store.address, text.as_bytes()).await;
        assert!(answer.contains("<Code>XAmzContentSHA256Mismatch</Code>"), "{query}: {answer}");
    }
    let client = S3Client::dev(store.address);
    let cors = client.send("GET", "/b", "cors=", &[], RequestBody::Bytes(Bytes::new())).await.expect("get cors");
    assert_eq!(cors.status, 404, "a CORS configuration was stored from a body nobody signed: {}", cors.text());
    let _ = std::fs::remove_dir_all(&store.dir);
}

#[tokio::test]
async fn of_racing_conditional_puts_exactly_one_wins() {
    let store = start(|_| {}).await;
    let client = S3Client::dev(store.address);
    let mut tasks = Vec::new();
    for i in 0..12u8 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let body = RequestBody::Bytes(Bytes::from(vec![i; 256 * 1024]));
            client.send("PUT", "/b/once", "", &[("if-none-match", "*")], body).await.map(|r| r.status)
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("task").expect("put"));
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 412), "{statuses:?}");
    let _ = std::fs::remove_dir_all(&store.dir);
}
