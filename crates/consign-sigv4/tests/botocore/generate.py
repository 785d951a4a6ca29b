#!/usr/bin/env python3
"""Generates SigV4 test cases with botocore, for tests/botocore.rs.

    python3 generate.py --seed 1 --count 300 [--time 2026-01-02T03:04:05Z]

Prints one JSON document: {"botocore_version", "time", "endpoint",
"region", "access_key_id", "secret", "session_token", "cases": [...]}.
Each case holds the random inputs and what botocore made of them:

* "presign": a presigned URL from a botocore S3 client
  (generate_presigned_url, path style, http://127.0.0.1:9000) and the
  headers botocore signed into it (the client must send them);
* "header": a request signed with S3SigV4Auth on a hand-built AWSRequest
  (random query, headers, duplicate headers, body or UNSIGNED-PAYLOAD);
* "client": a request as a botocore S3 client really sends it (captured at
  before-send, never sent), with its body;
* "post": generate_presigned_post with random conditions, its fields and
  the conditions in a neutral form, to rebuild the same policy elsewhere.

The signing time is frozen by replacing get_current_datetime in
botocore.auth and botocore.signers, which is where botocore reads the
clock (botocore.compat.get_current_datetime).

Only botocore is needed: python3 -m pip install botocore
"""

import argparse
import base64
import datetime
import json
import random
import sys

import botocore
import botocore.auth
import botocore.session
import botocore.signers
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.utils import percent_encode

ENDPOINT = "http://127.0.0.1:9000"
HOST = "127.0.0.1:9000"
REGION = "us-east-1"
ACCESS_KEY = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "FQoGZXIvYXdzEXAMPLE//token+with/odd=chars"

KEY_CHARS = (
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    + list(" +%~/-_.=&?#!*'():@,;$[]^`{}|\"<>\\")
    + ["  ", "//", "😀", "é", "ü", "中文", "\u00a0", "👩‍💻", "%20", "%2F", "+ +"]
)
TEXT_CHARS = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.~!*'();:@&=+$,/?#[]%\"")
VALUE_CHARS = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~!*'();:@&=+$,/?#[]%\"<>")


def parse_time(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


def freeze(now):
    fixed = lambda *args, **kwargs: now  # noqa: E731
    botocore.auth.get_current_datetime = fixed
    botocore.signers.get_current_datetime = fixed


def rand_key(rng):
    parts = [rng.choice(KEY_CHARS) for _ in range(rng.randint(1, 24))]
    key = "".join(parts)
    return key


def rand_bucket(rng):
    alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
    inner = alnum + "-."
    n = rng.randint(3, 40)
    name = rng.choice(alnum) + "".join(rng.choice(inner) for _ in range(n - 2)) + rng.choice(alnum)
    while ".." in name:
        name = name.replace("..", ".a")
    return name


def rand_text(rng, lo=0, hi=16, chars=TEXT_CHARS):
    return "".join(rng.choice(chars) for _ in range(rng.randint(lo, hi)))


def rand_header_value(rng):
    """Printable ASCII with runs of spaces and tabs, leading and trailing."""
    words = [rand_text(rng, 1, 8, VALUE_CHARS) for _ in range(rng.randint(1, 4))]
    seps = [" ", "  ", "   ", "\t", " \t "]
    value = words[0]
    for w in words[1:]:
        value += rng.choice(seps) + w
    if rng.random() < 0.3:
        value = rng.choice(seps) + value
    if rng.random() < 0.3:
        value += rng.choice(seps)
    return value


def rand_unicode(rng, lo=0, hi=12):
    pool = TEXT_CHARS + ["é", "😀", "中", "\u00a0", "ß"]
    return "".join(rng.choice(pool) for _ in range(rng.randint(lo, hi)))


def meta_name(rng):
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789-") for _ in range(rng.randint(1, 10))).strip("-") or "m"


def header_items(headers):
    out = []
    for name, value in headers.items():
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        out.append([name, value])
    return out


class Captured(Exception):
    pass


def make_client(session, token):
    return session.create_client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET,
        aws_session_token=token,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


def install_presign_capture(sink):
    """Records the headers S3SigV4QueryAuth signed into each presigned URL."""
    original = botocore.auth.S3SigV4QueryAuth._inject_signature_to_request

    def inject(self, request, signature):
        sink["headers"] = header_items(request.headers)
        return original(self, request, signature)

    botocore.auth.S3SigV4QueryAuth._inject_signature_to_request = inject


def presign_case(rng, client, sink, bucket, key, expires):
    op = rng.choice(["get_object", "put_object", "head_object", "delete_object", "upload_part"])
    params = {"Bucket": bucket, "Key": key}
    if op == "get_object":
        for name in ["ResponseContentType", "ResponseContentDisposition", "ResponseCacheControl", "VersionId"]:
            if rng.random() < 0.35:
                params[name] = rand_unicode(rng, 1, 12)
        if rng.random() < 0.3:
            params["Range"] = f"bytes={rng.randint(0, 99)}-{rng.randint(100, 999)}"
        if rng.random() < 0.3:
            params["IfMatch"] = '"' + rand_text(rng, 1, 10, list("0123456789abcdef")) + '"'
    elif op == "put_object":
        if rng.random() < 0.6:
            params["ContentType"] = rand_header_value(rng)
        if rng.random() < 0.6:
            params["Metadata"] = {meta_name(rng): rand_header_value(rng) for _ in range(rng.randint(1, 3))}
        if rng.random() < 0.3:
            params["CacheControl"] = rand_header_value(rng)
        if rng.random() < 0.3:
            params["ContentDisposition"] = rand_header_value(rng)
        if rng.random() < 0.2:
            params["ACL"] = rng.choice(["private", "public-read", "bucket-owner-full-control"])
        if rng.random() < 0.2:
            params["ContentLength"] = rng.randint(0, 10**9)
    elif op == "head_object":
        if rng.random() < 0.4:
            params["VersionId"] = rand_unicode(rng, 1, 12)
        if rng.random() < 0.3:
            params["Range"] = f"bytes=0-{rng.randint(1, 999)}"
    elif op == "delete_object":
        if rng.random() < 0.5:
            params["VersionId"] = rand_unicode(rng, 1, 12)
    else:
        params["PartNumber"] = rng.randint(1, 10000)
        params["UploadId"] = rand_unicode(rng, 1, 20)
    sink.clear()
    url = client.generate_presigned_url(op, Params=params, ExpiresIn=expires)
    method = {"get_object": "GET", "put_object": "PUT", "head_object": "HEAD", "delete_object": "DELETE",
              "upload_part": "PUT"}[op]
    return {"operation": op, "method": method, "url": url, "headers": sink.get("headers", [])}


BLACKLISTED = ["User-Agent", "Expect", "Connection", "Transfer-Encoding", "X-Amzn-Trace-Id"]


def header_case(rng, creds, bucket, key):
    method = rng.choice(["GET", "PUT", "POST", "DELETE", "HEAD"])
    path = "/" + percent_encode(bucket, safe="/~") + "/" + percent_encode(key, safe="/~")
    pairs = []
    for _ in range(rng.choice([0, 0, 1, 2, 3, 5])):
        name = rng.choice(["prefix", "uploads", "versionId", "list-type", "a b", "é", "x+y", "delimiter",
                           rand_unicode(rng, 1, 6)])
        if rng.random() < 0.15:
            pairs.append(percent_encode(name, safe="-_.~"))  # a parameter without "="
        else:
            pairs.append(percent_encode(name, safe="-_.~") + "=" + percent_encode(rand_unicode(rng), safe="-_.~"))
    url = ENDPOINT + path + ("?" + "&".join(pairs) if pairs else "")
    body = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64))) if method in ("PUT", "POST") else b""
    request = AWSRequest(method=method, url=url, data=body)
    if rng.random() < 0.5:
        request.headers["Content-Type"] = rand_header_value(rng)
    for _ in range(rng.randint(0, 3)):
        request.headers["x-amz-meta-" + meta_name(rng)] = rand_header_value(rng)
    if rng.random() < 0.3:
        request.headers["X-Custom-Header"] = rand_header_value(rng)
    if rng.random() < 0.25:
        # HTTPHeaders keeps both values: signed as "first,second".
        request.headers["x-amz-meta-twice"] = rand_header_value(rng)
        request.headers["X-Amz-Meta-Twice"] = rand_header_value(rng)
    if rng.random() < 0.3:
        request.headers[rng.choice(BLACKLISTED)] = rand_text(rng, 1, 12, VALUE_CHARS)
    if rng.random() < 0.2:
        request.headers["Range"] = f"bytes=0-{rng.randint(1, 999)}"
    unsigned = rng.random() < 0.3
    if unsigned:
        request.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    botocore.auth.S3SigV4Auth(creds, "s3", REGION).add_auth(request)
    return {
        "method": method,
        "url": request.url,
        "headers": header_items(request.headers),
        "host": HOST,
        "body_hex": body.hex(),
        "unsigned_payload": unsigned,
    }


def client_case(rng, client, sink, bucket, key):
    op = rng.choice(["put_object", "get_object", "list_objects_v2", "delete_object", "head_object"])
    params = {"Bucket": bucket}
    if op != "list_objects_v2":
        params["Key"] = key
    if op == "put_object":
        params["Body"] = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 200)))
        if rng.random() < 0.6:
            params["ContentType"] = rand_header_value(rng)
        if rng.random() < 0.6:
            params["Metadata"] = {meta_name(rng): rand_header_value(rng) for _ in range(rng.randint(1, 3))}
    elif op == "get_object":
        if rng.random() < 0.5:
            params["ResponseContentDisposition"] = rand_unicode(rng, 1, 12)
        if rng.random() < 0.4:
            params["Range"] = f"bytes=0-{rng.randint(1, 999)}"
    elif op == "list_objects_v2":
        params["Prefix"] = key
        if rng.random() < 0.5:
            params["Delimiter"] = rng.choice(["/", "+", " ", "é"])
        if rng.random() < 0.3:
            params["StartAfter"] = rand_unicode(rng, 1, 10)
    sink.clear()
    try:
        getattr(client, op)(**params)
    except Captured:
        pass
    method, url, headers, body = sink["request"]
    if body is None:
        body = b""
    elif hasattr(body, "read"):
        position = body.tell()
        data = body.read()
        body.seek(position)
        body = data
    elif isinstance(body, str):
        body = body.encode("utf-8")
    return {"operation": op, "method": method, "url": url, "headers": header_items(headers), "host": HOST,
            "body_hex": bytes(body).hex()}


def post_case(rng, client, bucket, key, now):
    expires = rng.randint(1, 604800)
    fields = {}
    conditions = []
    neutral = []  # the same conditions, as ["eq"|"starts-with", field, value] or ["range", min, max]

    key_prefix = None
    if rng.random() < 0.5:
        key_prefix = key[: rng.randint(0, len(key))]
        post_key = key_prefix + "${filename}"
        neutral.append(["key-starts-with", "key", key_prefix])
    else:
        post_key = key
        neutral.append(["eq", "key", key])

    ct_mode = rng.choice(["none", "dict", "eq", "starts-with"])
    if ct_mode in ("dict", "eq"):
        value = rng.choice(["image/png", "text/plain; charset=utf-8", "application/octet-stream", rand_unicode(rng, 1, 10)])
        fields["Content-Type"] = value
        conditions.append({"Content-Type": value} if ct_mode == "dict" else ["eq", "$Content-Type", value])
        neutral.append(["eq", "Content-Type", value])
    elif ct_mode == "starts-with":
        prefix = rng.choice(["image/", "text/", "", "application/x-"])
        # A starts-with condition adds no field: the browser picks the
        # value. Pick one here, so that the form as returned passes.
        fields["Content-Type"] = prefix + "png"
        conditions.append(["starts-with", "$Content-Type", prefix])
        neutral.append(["starts-with", "Content-Type", prefix, prefix + "png"])
    for _ in range(rng.randint(0, 2)):
        name = "x-amz-meta-" + meta_name(rng) + rng.choice(["", "é"])
        if any(n[1].lower() == name.lower() for n in neutral):
            continue
        value = rand_unicode(rng, 0, 12)
        fields[name] = value
        conditions.append({name: value})
        neutral.append(["eq", name, value])
    if rng.random() < 0.3:
        fields["acl"] = "private"
        conditions.append({"acl": "private"})
        neutral.append(["eq", "acl", "private"])
    if rng.random() < 0.3:
        fields["success_action_status"] = "201"
        conditions.append({"success_action_status": "201"})
        neutral.append(["eq", "success_action_status", "201"])
    if rng.random() < 0.7:
        lo = rng.randint(0, 1000)
        hi = lo + rng.randint(0, 10**7)
        conditions.append(["content-length-range", lo, hi])
        neutral.append(["range", lo, hi])

    form = client.generate_presigned_post(bucket, post_key, Fields=dict(fields), Conditions=list(conditions),
                                          ExpiresIn=expires)
    expiration = (now + datetime.timedelta(seconds=expires)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "url": form["url"],
        "fields": [[n, v] for n, v in form["fields"].items()],
        "conditions": neutral,
        "key_prefix": key_prefix,
        "expires": expires,
        "expiration": expiration,
        "policy_json": base64.b64decode(form["fields"]["policy"]).decode("utf-8"),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--time", default="2026-01-02T03:04:05Z", help="the frozen signing time, UTC")
    args = parser.parse_args()

    now = parse_time(args.time)
    freeze(now)
    rng = random.Random(args.seed)
    session = botocore.session.get_session()
    clients = {False: make_client(session, None), True: make_client(session, TOKEN)}
    presign_sink = {}
    install_presign_capture(presign_sink)
    send_sink = {}

    def before_send(request, **kwargs):
        send_sink["request"] = (request.method, request.url, request.headers, request.body)
        raise Captured()

    for c in clients.values():
        c.meta.events.register("before-send.s3", before_send)
    creds = {False: Credentials(ACCESS_KEY, SECRET), True: Credentials(ACCESS_KEY, SECRET, TOKEN)}

    cases = []
    for i in range(args.count):
        token = rng.random() < 0.15
        bucket = rand_bucket(rng)
        key = rand_key(rng)
        expires = rng.choice([1, 60, 3600, 604800, rng.randint(1, 604800)])
        client = clients[token]
        cases.append({
            "id": i,
            "session_token": token,
            "bucket": bucket,
            "key": key,
            "expires": expires,
            "presign": presign_case(rng, client, presign_sink, bucket, key, expires),
            "header": header_case(rng, creds[token], bucket, key),
            "client": client_case(rng, client, send_sink, bucket, key),
            "post": post_case(rng, client, bucket, key, now),
        })
    json.dump({
        "botocore_version": botocore.__version__,
        "time": args.time,
        "endpoint": ENDPOINT,
        "region": REGION,
        "access_key_id": ACCESS_KEY,
        "secret": SECRET,
        "session_token": TOKEN,
        "cases": cases,
    }, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
