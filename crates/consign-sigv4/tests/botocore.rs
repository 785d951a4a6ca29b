//! Cross-check against botocore, the signer of the AWS CLI and boto3.
//!
//! `tests/botocore/generate.py` makes random requests and has botocore sign
//! them (presigned URLs, header-signed requests built by hand and as a real
//! botocore client sends them, and browser POST forms). This test checks
//! that our verifier accepts every one of them, that our signer produces
//! the very same signatures, and that POST forms, botocore's and ours,
//! meet the same fate when they are tampered with.
//!
//! Needs `python3` (or `$PYTHON`) with botocore: `python3 -m pip install
//! botocore`. Without it the test is skipped, except when `CI=true`, where
//! it fails. `BOTOCORE_SEED` and `BOTOCORE_COUNT` change the cases.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use consign_sigv4::{
    AmzDate, Authentication, Credentials, Endpoint, HttpRequest, ObjectRequest, Payload, PayloadCheck, PolicyDocument,
    PostAuth, PostPolicy, SecretKey, Signer, Verifier, VerifyError, sha256_hex,
};
use serde_json::Value;

/// Headers botocore never signs (`botocore.auth.SIGNED_HEADERS_BLACKLIST`).
const BOTOCORE_UNSIGNED: [&str; 11] = [
    "connection",
    "expect",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "x-amzn-trace-id",
];

const INSTALL: &str = "install it with `python3 -m pip install botocore` (or point $PYTHON at a Python that has it)";

/// The generated cases, or `None` when Python or botocore is missing and
/// the test may be skipped.
fn generate(seeds: &[u64], count: u64) -> Option<Vec<Value>> {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let probe =
        Command::new(&python).args(["-c", "import botocore"]).stdout(Stdio::null()).stderr(Stdio::piped()).output();
    let missing = match probe {
        Err(e) => Some(format!("cannot run {python:?} ({e})")),
        Ok(out) if !out.status.success() => {
            Some(format!("{python:?} cannot import botocore: {}", String::from_utf8_lossy(&out.stderr).trim()))
        }
        Ok(_) => None,
    };
    if let Some(why) = missing {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("the botocore cross-check cannot run in CI: {why}; {INSTALL}");
        }
        eprintln!("SKIPPED the botocore cross-check: {why}; {INSTALL}");
        return None;
    }

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/botocore/generate.py");
    // One process per seed, in parallel.
    let children: Vec<_> = seeds
        .iter()
        .map(|seed| {
            let child = Command::new(&python)
                .arg(&script)
                .args(["--seed", &seed.to_string(), "--count", &count.to_string(), "--time", "2026-01-02T03:04:05Z"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start generate.py");
            (seed, child)
        })
        .collect();
    let mut cases = Vec::new();
    for (seed, child) in children {
        let out = child.wait_with_output().expect("run generate.py");
        assert!(out.status.success(), "generate.py --seed {seed} failed:\n{}", String::from_utf8_lossy(&out.stderr));
        let doc: Value = serde_json::from_slice(&out.stdout).expect("generate.py prints JSON");
        assert_eq!(doc["time"], "2026-01-02T03:04:05Z");
        for mut case in doc["cases"].as_array().expect("cases").iter().cloned() {
            case["seed"] = Value::from(*seed);
            cases.push(case);
        }
    }
    Some(cases)
}

const ACCESS_KEY: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "FQoGZXIvYXdzEXAMPLE//token+with/odd=chars";
const ENDPOINT: &str = "http://127.0.0.1:9000";
const HOST: &str = "127.0.0.1:9000";

fn str_of<'v>(value: &'v Value, name: &str) -> &'v str {
    value[name].as_str().unwrap_or_else(|| panic!("{name} is not a string in {value}"))
}

fn pairs(value: &Value) -> Vec<(String, String)> {
    value
        .as_array()
        .expect("a list of pairs")
        .iter()
        .map(|p| (p[0].as_str().expect("name").to_owned(), p[1].as_str().expect("value").to_owned()))
        .collect()
}

fn borrowed(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect()
}

/// `(path, query)` of a URL under [`ENDPOINT`].
fn split_url(url: &str) -> (&str, &str) {
    let rest = url.strip_prefix(ENDPOINT).unwrap_or_else(|| panic!("{url} is not under {ENDPOINT}"));
    rest.split_once('?').unwrap_or((rest, ""))
}

fn param<'q>(query: &'q [(String, String)], name: &str) -> &'q str {
    query.iter().find(|(n, _)| n == name).map_or("", |(_, v)| v.as_str())
}

/// The name of a result's variant, to compare outcomes.
fn kind<T>(result: &Result<T, VerifyError>) -> &'static str {
    match result {
        Ok(_) => "Ok",
        Err(VerifyError::SignatureDoesNotMatch { .. }) => "SignatureDoesNotMatch",
        Err(VerifyError::PolicyConditionFailed { .. }) => "PolicyConditionFailed",
        Err(VerifyError::ExtraFormField { .. }) => "ExtraFormField",
        Err(VerifyError::PolicyExpired { .. }) => "PolicyExpired",
        Err(VerifyError::Expired { .. }) => "Expired",
        Err(VerifyError::UnsignedHeader { .. }) => "UnsignedHeader",
        Err(VerifyError::SignedHeaderMissing { .. }) => "SignedHeaderMissing",
        Err(_) => "other error",
    }
}

struct Ctx {
    signed_at: SystemTime,
    verifier: Verifier,
    secret: SecretKey,
    endpoint: Endpoint,
    plain: Signer,
    with_token: Signer,
    failures: Vec<String>,
    checks: usize,
}

impl Ctx {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        self.checks += 1;
        if !ok && self.failures.len() < 40 {
            self.failures.push(what());
        }
    }

    fn signer(&self, token: bool) -> &Signer {
        if token { &self.with_token } else { &self.plain }
    }
}

fn case_name(case: &Value, part: &str) -> String {
    format!("seed {} case {} ({part}, bucket {:?}, key {:?})", case["seed"], case["id"], case["bucket"], case["key"])
}

fn check_presign(ctx: &mut Ctx, case: &Value) {
    let p = &case["presign"];
    let name = case_name(case, &format!("presign {}", str_of(p, "operation")));
    let (method, url) = (str_of(p, "method"), str_of(p, "url"));
    let (path, query) = split_url(url);
    let signed = pairs(&p["headers"]);
    let mut sent = vec![("host".to_owned(), HOST.to_owned())];
    sent.extend(signed.iter().cloned());
    let headers = borrowed(&sent);
    let request = HttpRequest { method, path, query, headers: &headers };
    let token = case["session_token"].as_bool().unwrap_or(false);
    let expires = case["expires"].as_u64().expect("expires");

    // Our verifier accepts botocore's URL within its lifetime, not after.
    let auth = ctx.verifier.authenticate(&request);
    ctx.check(matches!(auth, Ok(Authentication::Presigned(_))), || format!("{name}: authenticate: {auth:?}"));
    let Ok(auth) = auth else { return };
    let verified = ctx.verifier.verify(&request, &auth, &ctx.secret, ctx.signed_at + Duration::from_secs(expires - 1));
    ctx.check(verified.is_ok(), || format!("{name}: botocore's URL {url} refused: {verified:?}"));
    if let Ok(v) = &verified {
        ctx.check(v.session_token.as_deref() == token.then_some(TOKEN), || format!("{name}: token {v:?}"));
        ctx.check(matches!(v.payload, PayloadCheck::Unsigned), || format!("{name}: payload {:?}", v.payload));
    }
    let late = ctx.verifier.verify(&request, &auth, &ctx.secret, ctx.signed_at + Duration::from_secs(expires));
    ctx.check(kind(&late) == "Expired", || format!("{name}: used at expiry: {late:?}"));
    // A changed signed header, or path, breaks the signature.
    let mut tampered_headers = sent.clone();
    if let Some(signed_header) = tampered_headers.get_mut(1) {
        signed_header.1.push('x');
    }
    let tampered_refs = borrowed(&tampered_headers);
    let tampered_path = format!("{path}x");
    let tampered = if sent.len() > 1 {
        HttpRequest { headers: &tampered_refs, ..request }
    } else {
        HttpRequest { path: &tampered_path, ..request }
    };
    let tampered = ctx.verifier.verify(&tampered, &auth, &ctx.secret, ctx.signed_at);
    ctx.check(kind(&tampered) == "SignatureDoesNotMatch", || format!("{name}: tampered: {tampered:?}"));

    // Our signer makes the same URL from the same inputs.
    let botocore_query = common::query_multiset(query);
    let own_query: Vec<(String, String)> =
        botocore_query.iter().filter(|(n, _)| !n.starts_with("X-Amz-")).cloned().collect();
    let (bucket, key) = (str_of(case, "bucket"), str_of(case, "key"));
    let mut object = ObjectRequest::new(method, bucket, key);
    for (n, v) in &own_query {
        object = object.query(n, v.as_str());
    }
    for (n, v) in &signed {
        object = object.header(n, v);
    }
    let ours = ctx.signer(token).presign_object(&ctx.endpoint, &object, Duration::from_secs(expires), ctx.signed_at);
    let Ok(ours) = ours else {
        ctx.check(false, || format!("{name}: presign_object: {ours:?}"));
        return;
    };
    let (our_path, our_query) = split_url(&ours.url);
    let our_params = common::query_multiset(our_query);
    ctx.check(our_path == path, || format!("{name}: path: ours {our_path} botocore {path}"));
    ctx.check(our_params == botocore_query, || {
        format!("{name}: query params differ:\n ours     {our_params:?}\n botocore {botocore_query:?}")
    });
    ctx.check(param(&our_params, "X-Amz-Signature") == param(&botocore_query, "X-Amz-Signature"), || {
        format!("{name}: signature differs: ours {} botocore {url}", ours.url)
    });
    let mut want: Vec<(String, String)> = signed.iter().map(|(n, v)| (n.to_ascii_lowercase(), v.clone())).collect();
    let mut got: Vec<(String, String)> = ours.headers().map(|(n, v)| (n.into_owned(), v.to_owned())).collect();
    want.sort();
    got.sort();
    ctx.check(got == want, || format!("{name}: headers to send: ours {got:?} botocore {want:?}"));
    // And our own URL passes our verifier.
    let (path, query) = split_url(&ours.url);
    let request = HttpRequest { method, path, query, headers: &headers };
    let result =
        ctx.verifier.authenticate(&request).and_then(|a| ctx.verifier.verify(&request, &a, &ctx.secret, ctx.signed_at));
    ctx.check(result.is_ok(), || format!("{name}: our own URL refused: {result:?}"));
}

/// A header-signed request: `part` is `header` (S3SigV4Auth on an
/// AWSRequest) or `client` (a real botocore client's request).
fn check_header_signed(ctx: &mut Ctx, case: &Value, part: &str) {
    let h = &case[part];
    let name = case_name(case, &format!("{part} {}", h["operation"].as_str().unwrap_or("")));
    let (method, url) = (str_of(h, "method"), str_of(h, "url"));
    let (path, query) = split_url(url);
    let body = (0..str_of(h, "body_hex").len() / 2)
        .map(|i| u8::from_str_radix(&str_of(h, "body_hex")[2 * i..2 * i + 2], 16).expect("hex"))
        .collect::<Vec<u8>>();
    let mut sent = pairs(&h["headers"]);
    if !sent.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        sent.push(("Host".to_owned(), HOST.to_owned()));
    }
    let headers = borrowed(&sent);
    let request = HttpRequest { method, path, query, headers: &headers };
    let token = case["session_token"].as_bool().unwrap_or(false);
    let authorization = request.header("authorization").unwrap_or("").to_owned();
    let content_sha256 = request.header("x-amz-content-sha256").unwrap_or("").to_owned();

    let auth = ctx.verifier.authenticate(&request);
    ctx.check(matches!(auth, Ok(Authentication::Header(_))), || format!("{name}: authenticate: {auth:?}"));
    let Ok(auth) = auth else { return };
    let verified = ctx.verifier.verify(&request, &auth, &ctx.secret, ctx.signed_at + Duration::from_secs(1));
    ctx.check(verified.is_ok(), || format!("{name}: botocore's request refused: {verified:?}\n{url}\n{sent:?}"));
    if let Ok(v) = &verified {
        let payload_ok = match &v.payload {
            PayloadCheck::Unsigned => content_sha256 == "UNSIGNED-PAYLOAD",
            PayloadCheck::Sha256(hash) => *hash == content_sha256 && hash == sha256_hex(&body).as_str(),
            PayloadCheck::Streaming(_) => content_sha256.starts_with("STREAMING-"),
            _ => false,
        };
        ctx.check(payload_ok, || format!("{name}: payload check {:?} for {content_sha256}", v.payload));
        ctx.check(v.session_token.as_deref() == token.then_some(TOKEN), || format!("{name}: token {v:?}"));
    }
    // An x-amz-* header that is not signed, and a signed one that is gone.
    let mut extra = sent.clone();
    extra.push(("x-amz-meta-unsigned".to_owned(), "1".to_owned()));
    let r =
        ctx.verifier.verify(&HttpRequest { headers: &borrowed(&extra), ..request }, &auth, &ctx.secret, ctx.signed_at);
    ctx.check(kind(&r) == "UnsignedHeader", || format!("{name}: extra x-amz header: {r:?}"));
    let without_sha256: Vec<_> =
        sent.iter().filter(|(n, _)| !n.eq_ignore_ascii_case("x-amz-content-sha256")).cloned().collect();
    let r = ctx.verifier.verify(
        &HttpRequest { headers: &borrowed(&without_sha256), ..request },
        &auth,
        &ctx.secret,
        ctx.signed_at,
    );
    ctx.check(kind(&r) == "SignedHeaderMissing", || format!("{name}: x-amz-content-sha256 removed: {r:?}"));

    // Our signer, given what botocore signed, writes the same header.
    // botocore signs every header the request has when it signs, except
    // its blacklist; a client adds more (amz-sdk-*, content-length) after.
    let botocore_signed: Vec<String> = match &auth {
        Authentication::Header(h) => h.signed_headers.iter().map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    let to_sign: Vec<(String, String)> =
        sent.iter().filter(|(n, _)| botocore_signed.contains(&n.to_ascii_lowercase())).cloned().collect();
    if part == "header" {
        let unsigned: Vec<&str> = sent
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| !botocore_signed.contains(&n.to_ascii_lowercase()) && !n.eq_ignore_ascii_case("authorization"))
            .collect();
        ctx.check(unsigned.iter().all(|n| BOTOCORE_UNSIGNED.contains(&n.to_ascii_lowercase().as_str())), || {
            format!("{name}: botocore left unsigned {unsigned:?}")
        });
    }
    let to_sign = borrowed(&to_sign);
    let payload = match content_sha256.as_str() {
        "UNSIGNED-PAYLOAD" => Payload::Unsigned,
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER" => Payload::StreamingUnsignedTrailer,
        _ => Payload::Bytes(&body),
    };
    let ours = ctx.signer(token).sign_headers(&HttpRequest { headers: &to_sign, ..request }, payload, ctx.signed_at);
    match ours {
        Ok(ours) => {
            ctx.check(ours.authorization() == authorization, || {
                format!(
                    "{name}: Authorization differs:\n ours     {}\n botocore {authorization}\ncanonical request:\n{}",
                    ours.authorization(),
                    ours.canonical_request
                )
            });
            let ours_sha = ours.headers.iter().find(|(n, _)| *n == "x-amz-content-sha256").map(|(_, v)| v.as_str());
            ctx.check(ours_sha == Some(content_sha256.as_str()), || {
                format!("{name}: x-amz-content-sha256 {ours_sha:?}")
            });
        }
        Err(e) => ctx.check(false, || format!("{name}: sign_headers: {e}")),
    }
}

/// Form fields or headers, owned.
type Fields = Vec<(String, String)>;

/// The conditions of a POST policy, in a neutral order.
fn sorted_conditions(policy: &str) -> Result<Vec<String>, VerifyError> {
    let mut conditions: Vec<String> =
        PolicyDocument::from_base64(policy)?.conditions.iter().map(|c| format!("{c:?}")).collect();
    conditions.sort();
    Ok(conditions)
}

fn str_of_index(value: &Value, i: usize) -> String {
    value[i].as_str().unwrap_or_else(|| panic!("item {i} of {value} is not a string")).to_owned()
}

fn field_value<'f>(fields: &'f [(String, String)], name: &str) -> &'f str {
    fields.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map_or("", |(_, v)| v.as_str())
}

/// `policy` with another expiration, base64 again (not re-signed).
fn extend_policy(policy: &str) -> String {
    let json = STANDARD.decode(policy).expect("base64");
    let mut doc: Value = serde_json::from_slice(&json).expect("JSON");
    doc["expiration"] = Value::from("2099-01-01T00:00:00Z");
    STANDARD.encode(serde_json::to_vec(&doc).expect("JSON"))
}

fn flip_last_hex(signature: &str) -> String {
    let mut s = signature.to_owned();
    let last = s.pop().unwrap_or('0');
    s.push(if last == '0' { '1' } else { '0' });
    s
}

fn check_post(ctx: &mut Ctx, case: &Value) {
    let p = &case["post"];
    let name = case_name(case, "post");
    let bucket = str_of(case, "bucket");
    let token = case["session_token"].as_bool().unwrap_or(false);
    let expiration = AmzDate::parse_iso8601(str_of(p, "expiration")).expect("expiration");
    let botocore_fields = pairs(&p["fields"]);
    let conditions = p["conditions"].as_array().expect("conditions");

    // botocore's form, as botocore returns it, passes.
    let fields = borrowed(&botocore_fields);
    let auth = PostAuth::parse(&fields);
    let Ok(auth) = auth else {
        ctx.check(false, || format!("{name}: PostAuth::parse: {auth:?}"));
        return;
    };
    let outcome = ctx.verifier.verify_post(&auth, &fields, bucket, &ctx.secret, ctx.signed_at);
    ctx.check(outcome.is_ok(), || {
        format!("{name}: botocore's form refused: {outcome:?}\n{}", str_of(p, "policy_json"))
    });
    let mut range: Option<(u64, u64)> = None;
    for c in conditions {
        if c[0] == "range" {
            let (lo, hi) = range.unwrap_or((0, u64::MAX));
            range = Some((lo.max(c[1].as_u64().expect("min")), hi.min(c[2].as_u64().expect("max"))));
        }
    }
    if let Ok(outcome) = &outcome {
        ctx.check(outcome.content_length_range == range && outcome.expiration == expiration, || {
            format!("{name}: outcome {outcome:?}, expected range {range:?} until {expiration}")
        });
    }

    // The same policy, built and signed by us.
    let mut policy = PostPolicy::new(expiration);
    for c in conditions {
        let (op, field) = (c[0].as_str().expect("op"), c[1].as_str().unwrap_or(""));
        policy = match op {
            "eq" => policy.eq(field, c[2].as_str().expect("value")),
            "starts-with" => policy.starts_with(field, c[2].as_str().expect("prefix")),
            "key-starts-with" => policy.key_starts_with(c[2].as_str().expect("prefix")),
            "range" => policy.content_length_range(c[1].as_u64().expect("min"), c[2].as_u64().expect("max")),
            other => panic!("unknown condition {other}"),
        };
    }
    let form = match ctx.signer(token).sign_post_policy(&ctx.endpoint, bucket, &policy, ctx.signed_at) {
        Ok(form) => form,
        Err(e) => return ctx.check(false, || format!("{name}: sign_post_policy: {e}")),
    };
    ctx.check(form.url == str_of(p, "url"), || format!("{name}: url ours {} botocore {}", form.url, str_of(p, "url")));
    // Our builder adds no field for a starts-with condition (the browser
    // fills it in); botocore's form carries the value the generator picked.
    let mut our_fields: Vec<(String, String)> = form.fields().map(|(n, v)| (n.to_owned(), v.to_owned())).collect();
    for c in conditions.iter().filter(|c| c[0] == "starts-with") {
        our_fields.push((str_of_index(c, 1), str_of_index(c, 3)));
    }
    let mut ours_sorted = our_fields.clone();
    let mut theirs_sorted = botocore_fields.clone();
    for list in [&mut ours_sorted, &mut theirs_sorted] {
        list.retain(|(n, _)| n != "policy" && n != "x-amz-signature");
        list.sort();
    }
    ctx.check(ours_sorted == theirs_sorted, || {
        format!("{name}: fields ours {ours_sorted:?} botocore {theirs_sorted:?}")
    });
    let (ours_conditions, theirs_conditions) =
        (sorted_conditions(form.field("policy").unwrap_or_default()), sorted_conditions(&auth.policy));
    ctx.check(ours_conditions.is_ok() && ours_conditions == theirs_conditions, || {
        format!("{name}: policy conditions ours {ours_conditions:?} botocore {theirs_conditions:?}")
    });

    // A form that meets every condition, then ways to break it.
    let key_prefix = p["key_prefix"].as_str();
    let mut valid: Vec<(String, String)> = Vec::new();
    let mut content_type: Option<(&str, &str)> = None; // (op, value)
    for c in conditions {
        let (op, field) = (c[0].as_str().expect("op"), c[1].as_str().unwrap_or(""));
        match op {
            "eq" => valid.push((field.to_owned(), c[2].as_str().expect("value").to_owned())),
            "key-starts-with" => valid.push(("key".to_owned(), format!("{}photo 1.png", c[2].as_str().expect("p")))),
            "starts-with" => valid.push((field.to_owned(), format!("{}png", c[2].as_str().expect("p")))),
            _ => {}
        }
        if field.eq_ignore_ascii_case("content-type") {
            content_type = Some((op, c[2].as_str().expect("value")));
        }
    }
    let with = |mut fields: Vec<(String, String)>, name: &str, value: &str| {
        match fields.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            Some(slot) => slot.1 = value.to_owned(),
            None => fields.push((name.to_owned(), value.to_owned())),
        }
        fields
    };
    let key_out = "outside/photo.png";
    let key_fails = match key_prefix {
        Some(prefix) => !key_out.starts_with(prefix),
        None => key_out != str_of(case, "key"),
    };
    let (ct_value, ct_expect) = match content_type {
        Some(("eq", v)) => (format!("{v}x"), "PolicyConditionFailed"),
        Some((_, prefix)) => {
            let v = "zz/other";
            (v.to_owned(), if v.starts_with(prefix) { "Ok" } else { "PolicyConditionFailed" })
        }
        None => ("text/html".to_owned(), "ExtraFormField"),
    };
    let first_eq = conditions.iter().find(|c| c[0] == "eq").and_then(|c| c[1].as_str());
    let mut mutations: Vec<(&str, Fields, &str)> = vec![
        ("valid", valid.clone(), "Ok"),
        ("valid with file and x-ignore-*", with(with(valid.clone(), "x-ignore-note", "n"), "file", ""), "Ok"),
        ("key outside", with(valid.clone(), "key", key_out), if key_fails { "PolicyConditionFailed" } else { "Ok" }),
        ("content-type", with(valid.clone(), "Content-Type", &ct_value), ct_expect),
        ("extra field", with(valid.clone(), "x-amz-meta-not-in-policy", "1"), "ExtraFormField"),
        ("upper-case names", valid.iter().map(|(n, v)| (n.to_ascii_uppercase(), v.clone())).collect(), "Ok"),
    ];
    if let Some(first) = first_eq {
        let without: Vec<_> = valid.iter().filter(|(n, _)| !n.eq_ignore_ascii_case(first)).cloned().collect();
        mutations.push(("missing eq field", without, "PolicyConditionFailed"));
    }

    // Each side's signed fields, possibly tampered with.
    let sides = [("botocore", botocore_fields.clone()), ("ours", our_fields)];
    let signed_part = |fields: &[(String, String)]| -> Vec<(String, String)> {
        fields
            .iter()
            .filter(|(n, _)| n.starts_with("x-amz-") && !n.starts_with("x-amz-meta-") || n == "policy")
            .cloned()
            .collect()
    };
    for (label, user, expect) in &mutations {
        let mut decisions = Vec::new();
        for (side, fields) in &sides {
            let mut all = user.clone();
            all.extend(signed_part(fields));
            let all = borrowed(&all);
            let result = PostAuth::parse(&all)
                .and_then(|auth| ctx.verifier.verify_post(&auth, &all, bucket, &ctx.secret, ctx.signed_at));
            decisions.push((side, kind(&result), result.err()));
        }
        let same = decisions.iter().all(|(_, k, _)| k == expect);
        ctx.check(same, || format!("{name}: {label}: expected {expect}, got {decisions:?}"));
    }
    for (side, fields) in &sides {
        let signed_at = ctx.signed_at;
        let run = |ctx: &Ctx, fields: &[(String, String)], bucket: &str, now: SystemTime| {
            let all = borrowed(fields);
            PostAuth::parse(&all).and_then(|auth| ctx.verifier.verify_post(&auth, &all, bucket, &ctx.secret, now))
        };
        let policy = field_value(fields, "policy");
        let signature = field_value(fields, "x-amz-signature");
        let cases: [(&str, Fields, &str, SystemTime, &str); 5] = [
            (
                "edited policy",
                with(fields.clone(), "policy", &extend_policy(policy)),
                bucket,
                signed_at,
                "SignatureDoesNotMatch",
            ),
            (
                "changed signature",
                with(fields.clone(), "x-amz-signature", &flip_last_hex(signature)),
                bucket,
                signed_at,
                "SignatureDoesNotMatch",
            ),
            ("at expiry", fields.clone(), bucket, expiration.to_system_time(), "PolicyExpired"),
            ("just before expiry", fields.clone(), bucket, expiration.plus_seconds(-1).to_system_time(), "Ok"),
            ("other bucket", fields.clone(), "other-bucket", signed_at, "PolicyConditionFailed"),
        ];
        for (label, fields, bucket, now, expect) in cases {
            let result = run(ctx, &fields, bucket, now);
            let code_ok = match &result {
                Ok(_) => true,
                Err(e) => {
                    e.s3_code().status == 403 && ["AccessDenied", "SignatureDoesNotMatch"].contains(&e.s3_code().code)
                }
            };
            ctx.check(kind(&result) == expect && code_ok, || {
                format!("{name}: {side} {label}: expected {expect}, got {result:?}")
            });
        }
    }
}

#[test]
fn botocore_agrees() {
    let started = std::time::Instant::now();
    let seeds: Vec<u64> = match std::env::var("BOTOCORE_SEED") {
        Ok(seed) => vec![seed.parse().expect("BOTOCORE_SEED is a number")],
        Err(_) => vec![1, 2],
    };
    let count: u64 = std::env::var("BOTOCORE_COUNT").ok().and_then(|c| c.parse().ok()).unwrap_or(200);
    let Some(cases) = generate(&seeds, count) else { return };
    let generated = started.elapsed();

    let signed_at = AmzDate::parse("20260102T030405Z").expect("time").to_system_time();
    let credentials = Credentials::new(ACCESS_KEY, SECRET);
    let mut ctx = Ctx {
        signed_at,
        verifier: Verifier::s3("us-east-1"),
        secret: SecretKey::new(SECRET),
        endpoint: Endpoint::parse(ENDPOINT).expect("endpoint"),
        plain: Signer::s3(credentials.clone(), "us-east-1"),
        with_token: Signer::s3(credentials.with_session_token(TOKEN), "us-east-1"),
        failures: Vec::new(),
        checks: 0,
    };
    let mut operations: BTreeMap<String, usize> = BTreeMap::new();
    for case in &cases {
        for part in ["presign", "client"] {
            *operations.entry(format!("{part} {}", str_of(&case[part], "operation"))).or_default() += 1;
        }
        check_presign(&mut ctx, case);
        check_header_signed(&mut ctx, case, "header");
        check_header_signed(&mut ctx, case, "client");
        check_post(&mut ctx, case);
    }
    eprintln!(
        "botocore cross-check: {} cases (seeds {seeds:?}), {} checks, {operations:?}; generated in {generated:?}, total {:?}",
        cases.len(),
        ctx.checks,
        started.elapsed()
    );
    assert!(
        ctx.failures.is_empty(),
        "{} disagreements with botocore (first {} shown; rerun one with BOTOCORE_SEED=n):\n\n{}",
        ctx.failures.len(),
        ctx.failures.len().min(40),
        ctx.failures.join("\n\n")
    );
}
