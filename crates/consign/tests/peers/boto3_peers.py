#!/usr/bin/env python3
"""boto3 and plain HTTP against a running `consign store`.

    python3 boto3_peers.py --endpoint http://127.0.0.1:PORT --bucket NAME

Checks that what boto3 signs works (presigned PUT and GET URLs, POST forms
from generate_presigned_post) and that every tampered, expired or
mis-signed variant is refused with S3's error code while nothing is
stored. The bucket must be empty at the start: at the end it must hold
exactly the objects of the checks that were meant to succeed.

Needs boto3; uses requests when installed, else urllib.
"""

import base64
import binascii
import hashlib
import json
import os
import time
import urllib.parse
import uuid

import boto3
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from common import Checks, arguments, credentials, expect_error, http

ARGS = arguments(__doc__)
ENDPOINT, BUCKET = ARGS.endpoint.rstrip("/"), ARGS.bucket
ACCESS_KEY, SECRET, REGION = credentials()
CONFIG = Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1})

# Keys that must exist at the end; every other key must not.
STORED = {}


def client(access_key=ACCESS_KEY, secret=SECRET):
    return boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret,
        config=CONFIG,
    )


S3 = client()


def keys_under(prefix):
    listed = S3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", [])]


def assert_absent(*keys):
    for key in keys:
        found = keys_under(key)
        assert not found, f"a refused upload was stored anyway: listing {key!r} gives {found}"


def unique(prefix):
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def content_of(key):
    return S3.get_object(Bucket=BUCKET, Key=key)["Body"].read()


# --- presigned URLs -------------------------------------------------------


def presign(operation, key, expires=300, s3=S3, **params):
    return s3.generate_presigned_url(operation, Params={"Bucket": BUCKET, "Key": key, **params}, ExpiresIn=expires)


def presigned_put_and_get():
    key = "presigned/data file+ü.bin"
    data = os.urandom(200_000)
    put = http("PUT", presign("put_object", key), body=data)
    assert put.status == 200, f"presigned PUT: {put.describe()}"
    assert put.headers.get("etag") == f'"{hashlib.md5(data).hexdigest()}"', f"presigned PUT ETag: {put.headers}"
    got = http("GET", presign("get_object", key))
    assert got.status == 200, f"presigned GET: {got.describe()}"
    assert got.body == data, "presigned GET returned other bytes than the presigned PUT stored"
    STORED[key] = data

    # A signed Content-Type must be sent as signed, and is stored.
    typed = "presigned/typed.json"
    url = presign("put_object", typed, ContentType="application/json")
    body = b'{"ok": true}'
    wrong = http("PUT", url, headers={"Content-Type": "text/plain"}, body=body)
    expect_error(wrong, 403, "SignatureDoesNotMatch", "presigned PUT with another Content-Type than signed")
    assert_absent(typed)
    put = http("PUT", url, headers={"Content-Type": "application/json"}, body=body)
    assert put.status == 200, f"presigned PUT with a signed Content-Type: {put.describe()}"
    assert S3.head_object(Bucket=BUCKET, Key=typed)["ContentType"] == "application/json"
    STORED[typed] = body

    # response-* overrides are signed query parameters.
    url = presign("get_object", key, ResponseContentDisposition='attachment; filename="x.bin"')
    got = http("GET", url)
    assert got.status == 200 and got.headers.get("content-disposition") == 'attachment; filename="x.bin"', got.describe()


def replace_param(url, name, new_value):
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    assert any(n == name for n, _ in query), f"{name} is not in {url}"
    query = [(n, new_value if n == name else v) for n, v in query]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query, quote_via=urllib.parse.quote)))


def flip_hex(signature):
    return ("0" if signature[0] != "0" else "1") + signature[1:]


def presigned_tampering(expired_url, expired_key):
    key = unique("tamper/url-")
    other = unique("tamper/other-")
    url = presign("put_object", key)
    signature = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["X-Amz-Signature"][0]
    cases = [
        ("another path", url.replace(urllib.parse.quote(key), urllib.parse.quote(other)), 403, "SignatureDoesNotMatch"),
        ("another X-Amz-Expires", replace_param(url, "X-Amz-Expires", "301"), 403, "SignatureDoesNotMatch"),
        ("another X-Amz-Date", replace_param(url, "X-Amz-Date", time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 60))), 403, "SignatureDoesNotMatch"),
        ("another signature", replace_param(url, "X-Amz-Signature", flip_hex(signature)), 403, "SignatureDoesNotMatch"),
        ("a signature of the wrong length", replace_param(url, "X-Amz-Signature", signature[:-2]), 403, "SignatureDoesNotMatch"),
        ("an extra query parameter", url + "&x-id=PutObject", 403, "SignatureDoesNotMatch"),
        ("the wrong secret", presign("put_object", key, s3=client(secret=SECRET + "x")), 403, "SignatureDoesNotMatch"),
        ("an unknown access key", presign("put_object", key, s3=client(access_key="AKIDUNKNOWN0000")), 403, "InvalidAccessKeyId"),
        ("an expired URL", expired_url, 403, "AccessDenied"),
    ]
    for what, tampered, status, code in cases:
        assert tampered != url or what == "an expired URL", f"{what}: the URL did not change"
        response = http("PUT", tampered, body=b"must not be stored")
        expect_error(response, status, code, f"presigned PUT with {what}")
    assert_absent(key, other, expired_key)

    # A GET with a tampered URL is refused too, and a good one still works.
    got = http("GET", replace_param(presign("get_object", "presigned/typed.json"), "X-Amz-Expires", "1000"))
    expect_error(got, 403, "SignatureDoesNotMatch", "presigned GET with another X-Amz-Expires")
    wrong_method = http("GET", url)  # a PUT URL used for a GET: the method is signed
    expect_error(wrong_method, 403, "SignatureDoesNotMatch", "presigned PUT URL used for a GET")


# --- POST forms -----------------------------------------------------------

FORM_PREFIX = "forms/"


def form_body(fields, filename, content, content_type="application/octet-stream"):
    """multipart/form-data with the fields in order, then the file."""
    boundary = "----consign" + uuid.uuid4().hex
    out = []
    for name, value in fields.items():
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    out.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
    )
    out.append(content)
    out.append(f"\r\n--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(out)


def post_form(post, filename, content, fields=None):
    content_type, body = form_body(fields if fields is not None else post["fields"], filename, content)
    return http("POST", post["url"], headers={"Content-Type": content_type}, body=body)


def presigned_post(expires=300, status="204"):
    conditions = [
        ["starts-with", "$key", FORM_PREFIX],
        ["content-length-range", 1, 4096],
        ["starts-with", "$Content-Type", "text/"],
        {"success_action_status": status},
    ]
    fields = {"Content-Type": "text/plain; charset=utf-8", "success_action_status": status}
    return S3.generate_presigned_post(
        BUCKET, FORM_PREFIX + "${filename}", Fields=fields, Conditions=conditions, ExpiresIn=expires
    )


def post_success():
    for status in ("204", "201"):
        post = presigned_post(status=status)
        filename = f"hello-{status}.txt"
        content = f"hello through a form ({status})\n".encode()
        response = post_form(post, filename, content)
        assert response.status == int(status), f"POST with success_action_status {status}: {response.describe()}"
        key = FORM_PREFIX + filename
        assert response.headers.get("etag") == f'"{hashlib.md5(content).hexdigest()}"', response.headers
        if status == "201":
            assert f"<Key>{key}</Key>".encode() in response.body, response.describe()
        head = S3.head_object(Bucket=BUCKET, Key=key)
        assert head["ContentType"] == "text/plain; charset=utf-8", f"stored Content-Type: {head['ContentType']}"
        assert content_of(key) == content
        STORED[key] = content


def edit_policy(policy_b64):
    policy = json.loads(base64.b64decode(policy_b64))
    for condition in policy["conditions"]:
        if isinstance(condition, list) and condition[0] == "content-length-range":
            condition[2] = 10 * 1024 * 1024
    return base64.b64encode(json.dumps(policy).encode()).decode()


def post_refusals(expired_post):
    post = presigned_post()
    fields = post["fields"]
    small = b"small enough\n"
    big = os.urandom(8192)
    cases = [
        ("an oversize file", "big.txt", big, dict(fields), 400, "EntityTooLarge", [FORM_PREFIX + "big.txt"]),
        ("an empty file", "empty.txt", b"", dict(fields), 400, "EntityTooSmall", [FORM_PREFIX + "empty.txt"]),
        (
            "a key outside the policy's prefix",
            "outside.txt",
            small,
            {**fields, "key": "elsewhere/${filename}"},
            403,
            "AccessDenied",
            ["elsewhere/", FORM_PREFIX + "outside.txt"],
        ),
        (
            "a Content-Type the policy does not allow",
            "typed.txt",
            small,
            {**fields, "Content-Type": "image/png"},
            403,
            "AccessDenied",
            [FORM_PREFIX + "typed.txt"],
        ),
        (
            "an edited policy",
            "edited.txt",
            big,
            {**fields, "policy": edit_policy(fields["policy"])},
            403,
            "SignatureDoesNotMatch",
            [FORM_PREFIX + "edited.txt"],
        ),
        (
            "a changed signature",
            "resigned.txt",
            small,
            {**fields, "x-amz-signature": flip_hex(fields["x-amz-signature"])},
            403,
            "SignatureDoesNotMatch",
            [FORM_PREFIX + "resigned.txt"],
        ),
        ("an expired policy", "late.txt", small, dict(expired_post["fields"]), 403, "AccessDenied", [FORM_PREFIX + "late.txt"]),
    ]
    for what, filename, content, form, status, code, keys in cases:
        response = post_form(post, filename, content, fields=form)
        expect_error(response, status, code, f"POST with {what}")
        assert_absent(*keys)
    # The same form, untouched, still works.
    response = post_form(post, "after.txt", small)
    assert response.status == 204, f"POST after the refusals: {response.describe()}"
    STORED[FORM_PREFIX + "after.txt"] = small


# --- header-signed PUTs with bad digests ----------------------------------


def signed_put(key, signed_body, sent_body, headers=None):
    """A PUT signed by botocore for `signed_body`, sending `sent_body`."""
    url = f"{ENDPOINT}/{BUCKET}/{urllib.parse.quote(key)}"
    request = AWSRequest(method="PUT", url=url, data=signed_body, headers=dict(headers or {}))
    botocore.auth.S3SigV4Auth(Credentials(ACCESS_KEY, SECRET), "s3", REGION).add_auth(request)
    sent = {k: v for k, v in request.headers.items()}
    return http("PUT", url, headers=sent, body=sent_body)


def b64(raw):
    return base64.b64encode(raw).decode()


def crc32_b64(data):
    return b64(binascii.crc32(data).to_bytes(4, "big"))


def digest_refusals():
    data = b"the bytes that were signed\n"
    other = b"the bytes that were sent!!\n"
    assert len(data) == len(other)

    key = unique("digests/good-")
    ok = signed_put(key, data, data, {"Content-MD5": b64(hashlib.md5(data).digest()), "x-amz-checksum-crc32": crc32_b64(data)})
    assert ok.status == 200, f"a header-signed PUT with good digests: {ok.describe()}"
    assert ok.headers.get("x-amz-checksum-crc32") == crc32_b64(data), ok.headers
    STORED[key] = data

    cases = [
        ("a body that does not match x-amz-content-sha256", data, other, {}, "XAmzContentSHA256Mismatch"),
        ("a wrong Content-MD5", data, data, {"Content-MD5": b64(hashlib.md5(other).digest())}, "BadDigest"),
        ("a wrong x-amz-checksum-crc32", data, data, {"x-amz-checksum-crc32": crc32_b64(other)}, "BadDigest"),
    ]
    for what, signed_body, sent_body, headers, code in cases:
        key = unique("digests/bad-")
        response = signed_put(key, signed_body, sent_body, headers)
        expect_error(response, 400, code, f"a header-signed PUT with {what}")
        assert_absent(key)

    # The same through the boto3 client: its own signing, our wrong digests.
    for what, params, code in [
        ("ContentMD5", {"ContentMD5": b64(hashlib.md5(other).digest())}, "BadDigest"),
        ("ChecksumCRC32", {"ChecksumCRC32": crc32_b64(other)}, "BadDigest"),
    ]:
        key = unique("digests/client-")
        try:
            S3.put_object(Bucket=BUCKET, Key=key, Body=data, **params)
        except ClientError as e:
            got = e.response["Error"]["Code"]
            assert got == code, f"boto3 put_object with a wrong {what}: expected {code}, got {got}: {e}"
        else:
            raise AssertionError(f"boto3 put_object with a wrong {what} was accepted")
        assert_absent(key)

    # And boto3's default put_object (its default checksum) is accepted.
    key = unique("digests/client-ok-")
    S3.put_object(Bucket=BUCKET, Key=key, Body=data)
    assert content_of(key) == data
    STORED[key] = data


def final_listing():
    listed = {}
    token = None
    while True:
        page = S3.list_objects_v2(Bucket=BUCKET, **({"ContinuationToken": token} if token else {}))
        listed.update({o["Key"]: o["Size"] for o in page.get("Contents", [])})
        if not page.get("IsTruncated"):
            break
        token = page["NextContinuationToken"]
    expected = {key: len(data) for key, data in STORED.items()}
    assert listed == expected, f"the bucket holds {sorted(listed)}; expected exactly {sorted(expected)}"


def main():
    checks = Checks("boto3")
    assert not keys_under(""), f"the bucket {BUCKET} is not empty at the start"
    # Made first and used last, so one short wait covers both.
    expired_key = unique("tamper/expired-")
    expired_url = presign("put_object", expired_key, expires=1)
    expired_post = presigned_post(expires=1)
    made = time.monotonic()

    checks.run("presigned PUT and GET URLs", presigned_put_and_get)
    checks.run("POST forms that must succeed", post_success)
    checks.run("header-signed PUTs with wrong digests", digest_refusals)
    time.sleep(max(0.0, made + 2.1 - time.monotonic()))
    checks.run("tampered and expired presigned URLs", presigned_tampering, expired_url, expired_key)
    checks.run("POST forms that must fail", post_refusals, expired_post)
    checks.run("nothing else was stored", final_listing)
    checks.done()


if __name__ == "__main__":
    main()
