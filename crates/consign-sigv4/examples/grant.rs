//! Prints the three kinds of upload grant Consign signs, for a local store:
//! a presigned PUT, a browser POST form and a presigned multipart part,
//! then checks each with the verifier, as the receiving store would.
//!
//! `cargo run -p consign-sigv4 --example grant -- [bucket] [key]`

use std::time::{Duration, SystemTime};

use consign_sigv4::{
    AmzDate, Credentials, Endpoint, HttpRequest, ObjectRequest, PostAuth, PostPolicy, SecretKey, Signer, Verifier,
};

const ACCESS_KEY: &str = "consign-dev";
const SECRET: &str = "consign-dev-secret-change-me";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let bucket = args.next().unwrap_or_else(|| "uploads".to_owned());
    let key = args.next().unwrap_or_else(|| "photos/2026/cat picture.png".to_owned());
    let now = SystemTime::now();
    let signer = Signer::s3(Credentials::new(ACCESS_KEY, SECRET), "us-east-1");
    let endpoint = Endpoint::parse("http://127.0.0.1:9000")?;
    let verifier = Verifier::s3("us-east-1");
    let secret = SecretKey::new(SECRET);

    let put = ObjectRequest::put(&bucket, &key).header("content-type", "image/png").header("content-length", "48213");
    let grant = signer.presign_object(&endpoint, &put, Duration::from_secs(900), now)?;
    println!("Presigned PUT (valid until {}):\n  {}", grant.expires_at, grant.url);
    for (name, value) in grant.headers() {
        println!("  send header  {name}: {value}");
    }
    let (path, query) = grant.url.trim_start_matches("http://127.0.0.1:9000").split_once('?').unwrap_or_default();
    let headers = [("host", "127.0.0.1:9000"), ("content-type", "image/png"), ("content-length", "48213")];
    let request = HttpRequest { method: "PUT", path, query, headers: &headers };
    let verified = verifier.verify(&request, &verifier.authenticate(&request)?, &secret, now)?;
    println!("  verified for access key {}\n", verified.access_key_id);

    let policy = PostPolicy::new(AmzDate::from_system_time(now).plus_seconds(900))
        .key_starts_with("photos/")
        .content_type_starts_with("image/")
        .content_length_range(1, 10 * 1024 * 1024)
        .success_action_status(201);
    let form = signer.sign_post_policy(&endpoint, &bucket, &policy, now)?;
    println!("Browser POST form to {}:", form.url);
    for (name, value) in form.fields() {
        println!("  field  {name} = {value}");
    }
    println!(
        "  field  Content-Type = <chosen by the browser, must start with image/>\n  field  file = <the file, last>"
    );
    println!("  policy: {}", form.policy_json);
    let mut fields: Vec<(&str, &str)> = form.fields().collect();
    fields.push(("Content-Type", "image/png"));
    let outcome = verifier.verify_post(&PostAuth::parse(&fields)?, &fields, &bucket, &secret, now)?;
    println!("  verified; the store must enforce sizes {:?} while the file streams in\n", outcome.content_length_range);

    let part = ObjectRequest::upload_part(&bucket, &key, "EXAMPLE-UPLOAD-ID", 1)?;
    let grant = signer.presign_object(&endpoint, &part, Duration::from_secs(3600), now)?;
    println!("Presigned multipart part 1:\n  {}", grant.url);
    Ok(())
}
