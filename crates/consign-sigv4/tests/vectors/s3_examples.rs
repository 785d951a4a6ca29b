//! The S3 documentation examples (`s3/*.json`): header auth, a presigned
//! GET, aws-chunked uploads (with and without trailer) and browser POST.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use consign_sigv4::encoding::{Slash, uri_encode};
use consign_sigv4::{
    AmzDate, ChunkedDecoder, CredentialScope, Credentials, Decoded, Endpoint, HttpRequest, ObjectRequest, Payload,
    PayloadCheck, PostAuth, SecretKey, Signer, SigningKey, StreamingMode, Verifier, VerifyError,
};
use libtest_mimic::{Failed, Trial};
use serde_json::Value;

use crate::stage;

pub fn trials(dir: &Path) -> Vec<Trial> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|e| e.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect())
        .unwrap_or_default();
    files.sort();
    files
        .into_iter()
        .map(|file| {
            let name = file.file_stem().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
            let run: fn(&Value) -> Result<(), Failed> = if name.starts_with("s3-header-") {
                header
            } else if name.starts_with("s3-presigned-") {
                presigned
            } else if name.starts_with("s3-streaming-") {
                streaming
            } else {
                post
            };
            Trial::test(format!("s3/{name}"), move || {
                let json: Value = serde_json::from_str(&std::fs::read_to_string(&file)?)?;
                run(&json)
            })
        })
        .collect()
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

fn signer(json: &Value) -> Signer {
    let creds = &json["credentials"];
    Signer::s3(
        Credentials::new(text(&creds["access_key_id"]), text(&creds["secret_access_key"])),
        text(&json["region"]),
    )
}

fn secret(json: &Value) -> SecretKey {
    SecretKey::new(text(&json["credentials"]["secret_access_key"]))
}

fn time(json: &Value) -> SystemTime {
    AmzDate::parse(text(&json["amz_date"])).expect("amz_date").to_system_time()
}

fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .map(|list| list.iter().map(|p| (text(&p[0]).to_owned(), text(&p[1]).to_owned())).collect())
        .unwrap_or_default()
}

fn wire_query(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(n, v)| format!("{}={}", uri_encode(n, Slash::Encode), uri_encode(v, Slash::Encode)))
        .collect::<Vec<_>>()
        .join("&")
}

/// AWS prints `,SignedHeaders=` where the suites print `, SignedHeaders=`.
fn without_spaces_after_commas(value: &str) -> String {
    value.replace(", ", ",")
}

fn header(json: &Value) -> Result<(), Failed> {
    let request = &json["request"];
    let expected = &json["expected"];
    let headers = pairs(&request["headers"]);
    let header_refs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let query = wire_query(&pairs(&request["query_params"]));
    let http = HttpRequest {
        method: text(&request["method"]),
        path: text(&request["path"]),
        query: &query,
        headers: &header_refs,
    };
    let body = text(&request["body"]).as_bytes();
    let signature = signer(json).sign_headers(&http, Payload::Bytes(body), time(json))?;
    stage("canonical request", text(&expected["canonical_request"]), signature.canonical_request.as_str())?;
    stage("string to sign", text(&expected["string_to_sign"]), signature.string_to_sign.as_str())?;
    stage("signature", text(&expected["signature"]), signature.signature.as_str())?;
    stage(
        "authorization",
        text(&expected["authorization_header"]),
        &without_spaces_after_commas(signature.authorization()),
    )?;

    // The documented request, with the documented Authorization header.
    let mut sent = header_refs.clone();
    sent.push(("Authorization", text(&expected["authorization_header"])));
    let http = HttpRequest { headers: &sent, ..http };
    let verifier = Verifier::s3(text(&json["region"]));
    let verified = verifier.verify(&http, &verifier.authenticate(&http)?, &secret(json), time(json))?;
    match verified.payload {
        PayloadCheck::Sha256(hash) => stage("payload hash to check", text(&request["body_sha256"]), &hash),
        other => Err(format!("expected a payload hash to check, got {other:?}").into()),
    }
}

fn presigned(json: &Value) -> Result<(), Failed> {
    let request = &json["request"];
    let expected = &json["expected"];
    // The example's host is the virtual-hosted bucket address.
    let host = text(&request["host"]);
    let (bucket, base) = host.split_once('.').ok_or("host without a bucket")?;
    let endpoint = Endpoint::parse(&format!("https://{base}"))?;
    let key = text(&request["path"]).trim_start_matches('/');
    let expires = Duration::from_secs(request["expires_seconds"].as_u64().unwrap_or(0));
    let signer = signer(json);
    let object = ObjectRequest::get(bucket, key);
    let grant = signer.presign_object(&endpoint, &object, expires, time(json))?;
    stage("presigned URL", text(&expected["presigned_url"]), &grant.url)?;

    let (path, query) = grant
        .url
        .trim_start_matches("https://")
        .split_once('/')
        .map(|(_, rest)| rest)
        .and_then(|rest| rest.split_once('?'))
        .ok_or("URL shape")?;
    let path = format!("/{path}");
    let headers = [("host", host)];
    let http = HttpRequest { method: "GET", path: &path, query, headers: &headers };
    let verifier = Verifier::s3(text(&json["region"]));
    let auth = verifier.authenticate(&http)?;
    verifier.verify(&http, &auth, &secret(json), time(json) + Duration::from_secs(60))?;
    match verifier.verify(&http, &auth, &secret(json), time(json) + expires) {
        Err(VerifyError::Expired { .. }) => Ok(()),
        other => Err(format!("an expired URL was not refused as expired: {other:?}").into()),
    }
}

fn streaming(json: &Value) -> Result<(), Failed> {
    let request = &json["request"];
    let expected = &json["expected"];
    let trailer = expected.get("trailer").filter(|t| t.is_object());
    let (mode, payload) = if trailer.is_some() {
        (StreamingMode::SignedWithTrailer, Payload::StreamingSignedTrailer)
    } else {
        (StreamingMode::Signed, Payload::StreamingSigned)
    };
    let headers = pairs(&request["headers"]);
    let header_refs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let http = HttpRequest {
        method: text(&request["method"]),
        path: text(&request["path"]),
        query: "",
        headers: &header_refs,
    };
    let signer = signer(json);
    let seed = signer.sign_headers(&http, payload, time(json))?;
    let seed_expected = &expected["seed"];
    stage("seed canonical request", text(&seed_expected["canonical_request"]), seed.canonical_request.as_str())?;
    stage("seed string to sign", text(&seed_expected["string_to_sign"]), seed.string_to_sign.as_str())?;
    stage("seed signature", text(&seed_expected["signature"]), seed.signature.as_str())?;

    // Encode the documented chunks and compare each chunk header line.
    let mut encoder = signer.chunk_encoder(&seed, mode);
    let mut body = Vec::new();
    let mut decoded = Vec::new();
    for chunk in expected["chunks"].as_array().ok_or("chunks")? {
        let size = usize::try_from(chunk["size"].as_u64().unwrap_or(0))?;
        let frame = if size == 0 {
            let trailers: Vec<(&str, &str)> = trailer
                .map(|t| {
                    t["lines_sent"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|l| text(l).split_once(':'))
                        .filter(|(n, _)| *n != "x-amz-trailer-signature")
                        .collect()
                })
                .unwrap_or_default();
            encoder.finish(&trailers)
        } else {
            decoded.extend(std::iter::repeat_n(b'a', size));
            encoder.chunk(&vec![b'a'; size])
        };
        let line = String::from_utf8_lossy(&frame).split("\r\n").next().unwrap_or_default().to_owned();
        stage(&format!("chunk header ({size} bytes)"), text(&chunk["chunk_header_line"]), &line)?;
        body.extend_from_slice(&frame);
    }
    if let Some(trailer) = trailer {
        let lines: Vec<&str> = trailer["lines_sent"].as_array().ok_or("lines_sent")?.iter().map(text).collect();
        let tail = String::from_utf8_lossy(&body[body.len() - 200..]).into_owned();
        for line in lines {
            if !tail.contains(&format!("{line}\r\n")) {
                return Err(format!("stage \"trailer\": {line:?} not sent; tail: {tail:?}").into());
            }
        }
    }
    let expected_length = json["derived"]["encoded_body_length"].as_u64().ok_or("encoded_body_length")?;
    stage("encoded body length", &expected_length.to_string(), &body.len().to_string())?;

    // Verify the documented request (its exact Authorization) and decode.
    let authorization = json["derived"]["authorization_header_consistent_with_canonical_request"]
        .as_str()
        .unwrap_or_else(|| text(&seed_expected["authorization_header"]));
    let mut sent = header_refs.clone();
    sent.push(("Authorization", authorization));
    let http = HttpRequest { headers: &sent, ..http };
    let verifier = Verifier::s3(text(&json["region"]));
    let verified = verifier.verify(&http, &verifier.authenticate(&http)?, &secret(json), time(json))?;
    let PayloadCheck::Streaming(context) = verified.payload else { return Err("expected a streaming payload".into()) };
    let decoded_length = Some(decoded.len() as u64);
    let out = decode_all(ChunkedDecoder::new((*context).clone(), decoded_length), &body, 1000)?;
    if out != decoded {
        return Err("stage \"decode\": the decoded body differs".into());
    }
    // One flipped byte anywhere in a chunk's data is refused.
    let mut tampered = body.clone();
    tampered[200] ^= 1;
    match decode_all(ChunkedDecoder::new(*context, decoded_length), &tampered, 4096) {
        Err(VerifyError::ChunkSignatureDoesNotMatch { chunk: 1, .. }) => Ok(()),
        other => Err(format!("a tampered chunk was not refused: {:?}", other.map(|d| d.len())).into()),
    }
}

/// Feeds `body` in pieces of `step` bytes and collects the data.
fn decode_all(mut decoder: ChunkedDecoder, body: &[u8], step: usize) -> Result<Vec<u8>, VerifyError> {
    let mut out = Vec::new();
    for piece in body.chunks(step) {
        let mut input = piece;
        loop {
            let (used, event) = decoder.decode(input)?;
            let event_done = match event {
                Decoded::Data(data) => {
                    out.extend_from_slice(data);
                    false
                }
                Decoded::NeedMore | Decoded::End => true,
            };
            input = &input[used..];
            if event_done {
                break;
            }
        }
    }
    decoder.finish()?;
    Ok(out)
}

fn post(json: &Value) -> Result<(), Failed> {
    let expected = &json["expected"];
    let policy = text(&expected["policy_base64"]);
    let scope = CredentialScope { date: text(&json["date"]), region: text(&json["region"]), service: "s3" };
    let signature = SigningKey::derive(&secret(json), &scope).sign(policy.as_bytes());
    stage("signature", text(&expected["signature"]), signature.as_str())?;
    let Some(form) = json.get("form") else { return Ok(()) };
    let fields = pairs(&form["fields_in_document_order"]);
    let fields: Vec<(&str, &str)> =
        fields.iter().filter(|(n, _)| n != "file").map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let bucket = text(&form["action"]).trim_start_matches("http://").split('.').next().unwrap_or_default();
    let verifier = Verifier::s3(text(&json["region"]));
    let auth = PostAuth::parse(&fields)?;
    let outcome = verifier.verify_post(&auth, &fields, bucket, &secret(json), time(json))?;
    if outcome.content_length_range.is_some() {
        return Err("the example sets no size range".into());
    }
    // A key outside `user/user1/` breaks the policy.
    let moved: Vec<(&str, &str)> =
        fields.iter().map(|&(n, v)| if n == "key" { (n, "user/user2/x") } else { (n, v) }).collect();
    match verifier.verify_post(&auth, &moved, bucket, &secret(json), time(json)) {
        Err(VerifyError::PolicyConditionFailed { .. }) => Ok(()),
        other => Err(format!("a key outside the policy was accepted: {other:?}").into()),
    }
}
