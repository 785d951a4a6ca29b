"""The bad-input catalogue: every case gets a 4xx JSON error that says what
to fix (never a 5xx), and nothing is lost or left behind: rejected objects
are removed from storage, pending uploads stay pending, and at the end no
object remains in the staging area.

Usage: bad_inputs.py API_URL API_KEY STORE_URL STORE_ACCESS_KEY STORE_SECRET TOKEN_SECRET
Prints one line per case; exits non-zero on the first surprise.
"""

import base64
import hashlib
import hmac
import json
import sys
import time

import boto3
import requests
from botocore.config import Config

API, KEY, STORE, STORE_KEY, STORE_SECRET, TOKEN_SECRET = sys.argv[1:7]
BACKEND = {"authorization": f"Bearer {KEY}"}
s3 = boto3.client("s3", endpoint_url=STORE, aws_access_key_id=STORE_KEY, aws_secret_access_key=STORE_SECRET,
                  region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
CASES = []


def fail(message, *context):
    raise SystemExit("FAILED: " + message + ": " + " | ".join(str(c)[:1500] for c in context))


def expect(name, response, status, fragment):
    """`response` must have `status`, a JSON body whose `error` contains `fragment`."""
    if response.status_code >= 500:
        fail(f"{name}: a server error for a client's mistake", response.status_code, response.text)
    try:
        body = response.json()
    except ValueError:
        fail(f"{name}: not JSON", response.status_code, response.text)
    if response.status_code != status or fragment.lower() not in body.get("error", "").lower():
        fail(f"{name}: expected {status} with {fragment!r}", response.status_code, body)
    CASES.append(name)
    print(f"{name:55} {response.status_code} {body['error'][:90]}")
    return body


def call(method, path, headers=BACKEND, **kwargs):
    return requests.request(method, API + path, headers=headers, timeout=30, **kwargs)


def create(body, headers=BACKEND):
    return call("POST", "/v1/uploads", headers, json=body)


def token(claims, secret=TOKEN_SECRET):
    enc = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    signing_input = enc(b'{"alg":"HS256","typ":"JWT"}') + "." + enc(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + enc(signature)


def good(**changes):
    body = {"profile": "images", "filename": "cat.png", "content_type": "image/png", "size": len(PNG)}
    body.update(changes)
    return body


def request_shape():
    expect("missing fields", create({}), 400, "missing field `profile`")
    expect("missing size", create({k: v for k, v in good().items() if k != "size"}), 400, "size is required")
    expect("wrong type: size as text", create(good(size="ten")), 400, "size: invalid type")
    expect("wrong type: metadata as a list", create(good(metadata=["a"])), 400, "metadata: invalid type")
    expect("unknown field", create(good(colour="red")), 400, "unknown field `colour`")
    expect("malformed JSON", call("POST", "/v1/uploads", data=b'{"profile": "images",'), 400, "not valid JSON")
    expect("trailing garbage after JSON", call("POST", "/v1/uploads", data=json.dumps(good()) + "}"), 400, "trailing")
    expect("huge body (1 MiB)", call("POST", "/v1/uploads", data=b" " * (1 << 20)), 413, "larger than")
    expect("unknown profile", create(good(profile="nope")), 400, 'profile "nope" does not exist')
    expect("10 kB filename", create(good(filename="a" * 10_000 + ".png")), 400, "at most 255")
    expect("../ in the filename", create(good(filename="../../etc/passwd")), 400, "plain file name")
    expect("backslash path in the filename", create(good(filename="..\\boot.ini")), 400, "plain file name")
    expect("NUL in the filename", create(good(filename="a\u0000b.png")), 400, "control characters")
    expect("newline in the filename", create(good(filename="a\nb.png")), 400, "control characters")
    expect("empty filename", create(good(filename="")), 400, "must not be empty")
    expect("disallowed type", create(good(content_type="text/html")), 400, "text/html is not allowed here: expected image/*")
    expect("malformed content type", create(good(content_type="png")), 400, "must be a media type")
    expect("content type with parameters", create(good(content_type="image/png; x=1")), 400, "must be a media type")
    expect("size 0", create(good(size=0)), 400, "the file is empty")
    expect("negative size", create(good(size=-5)), 400, "size: invalid value: integer `-5`")
    expect("over-limit size", create(good(size=12_400_000)), 413, "file is 12.4 MB, the limit is 10.5 MB")
    expect("size beyond u64", create(good(size=2**70)), 400, "size")
    expect("checksum: unknown algorithm", create(good(checksum={"algorithm": "sha1", "value": "AAAA"})), 400,
           "not one of md5, sha256, crc32c")
    expect("checksum: hex instead of base64", create(good(checksum={"algorithm": "sha256", "value": "ab" * 32})), 400,
           "base64 of the 32-byte sha256")
    expect("checksum: wrong length", create(good(checksum={"algorithm": "md5", "value": "AAAA"})), 400, "16-byte md5")
    expect("checksum required by the profile", create(good(profile="avatars")), 400, "requires a checksum")
    expect("method the profile does not allow", create(good(profile="avatars", method="post",
           checksum={"algorithm": "md5", "value": base64.b64encode(hashlib.md5(PNG).digest()).decode()})), 400,
           "does not allow post")
    expect("unknown method", create(good(method="ftp")), 400, "method: unknown variant `ftp`")
    expect("metadata the profile does not allow", create(good(metadata={"owner": "x"})), 400, '"owner" is not allowed')
    expect("non-ASCII metadata value", create(good(metadata={"alt": "café"})), 400, "printable ASCII")
    expect("unknown route", call("GET", "/v1/nothing"), 404, "no such route")
    expect("wrong method", call("PUT", "/v1/uploads"), 405, "does not take that method")
    expect("bad limit in a listing", call("GET", "/v1/uploads?limit=abc"), 400, "limit")


def credentials():
    expect("missing Authorization", create(good(), headers={}), 401, "missing Authorization")
    expect("not Bearer", create(good(), headers={"authorization": "Basic abc"}), 401, "Bearer")
    expect("unknown API key", create(good(), headers={"authorization": "Bearer nope"}), 401, "unknown API key")
    expect("garbage token", create(good(), headers={"authorization": "Bearer a.b.c"}), 401, "malformed")
    now = int(time.time())
    claims = {"sub": "u1", "profiles": ["images"], "exp": now + 600}
    expect("token signed with another secret", create(good(), headers={"authorization": "Bearer " + token(claims, "x")}),
           401, "signature does not match")
    expired = dict(claims, exp=now - 120)
    expect("expired token", create(good(), headers={"authorization": "Bearer " + token(expired)}), 401, "expired")
    alg_none = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode() + "." + token(claims).split(".")[1] + "."
    expect("alg none token", create(good(), headers={"authorization": "Bearer " + alg_none}), 401, "only HS256")
    user = {"authorization": "Bearer " + token(claims)}
    expect("token for another profile", create(good(profile="default"), headers=user), 403, "does not grant the profile")
    expect("token naming a subject", create(good(subject="someone-else"), headers=user), 403, "only the backend")
    expect("token minting tokens", call("POST", "/v1/tokens", user, json={"subject": "x", "profiles": ["images"]}), 403,
           "only the backend")
    quota = {"authorization": "Bearer " + token(dict(claims, sub="u-quota", quota=100))}
    expect("over the byte quota", create(good(), headers=quota), 403, "quota")
    return user


def parts_and_states(user):
    multipart = create(good(profile="default", content_type="application/octet-stream", method="multipart",
                            size=12 * 1024 * 1024)).json()
    upload_id = multipart["upload"]["id"]
    for number in (0, 10001, -1, 4):
        expect(f"part number {number}", call("POST", f"/v1/uploads/{upload_id}/parts", json={"part_numbers": [number]}),
               400, "part")
    expect("no part numbers", call("POST", f"/v1/uploads/{upload_id}/parts", json={"part_numbers": []}), 400, "at least one")
    expect("part numbers as text", call("POST", f"/v1/uploads/{upload_id}/parts", json={"part_numbers": ["x"]}), 400,
           "part_numbers")
    expect("complete a multipart upload with no parts", call("POST", f"/v1/uploads/{upload_id}/complete"), 409,
           "no part has been uploaded")
    expect("another caller's upload", call("GET", f"/v1/uploads/{upload_id}", user), 404, "no upload")
    expect("not an upload id", call("GET", "/v1/uploads/../../etc"), 404, "")
    expect("Uppy route without key", call("GET", f"/s3/multipart/{multipart['grant']['upload_id']}/1"), 400, "?key=")
    expect("Uppy route, unknown upload id", call("GET", "/s3/multipart/nope/1?key=x"), 404, "no multipart upload")
    expect("Uppy route, part number text", call(
        "GET", f"/s3/multipart/{multipart['grant']['upload_id']}/x?key={multipart['upload']['key']}"), 400, "not a number")
    expect("Uppy params without filename", call("GET", "/s3/params?type=image/png"), 400, "?filename=")
    aborted = call("DELETE", f"/v1/uploads/{upload_id}")
    if aborted.status_code != 200 or aborted.json()["state"] != "aborted":
        fail("abort", aborted.text)
    expect("parts after abort", call("POST", f"/v1/uploads/{upload_id}/parts", json={"part_numbers": [1]}), 409, "aborted")
    expect("complete after abort", call("POST", f"/v1/uploads/{upload_id}/complete"), 409, "aborted")

    single = create(good(method="put")).json()
    sid = single["upload"]["id"]
    expect("parts of a PUT upload", call("POST", f"/v1/uploads/{sid}/parts", json={"part_numbers": [1]}), 409,
           "not multipart")
    expect("complete before upload", call("POST", f"/v1/uploads/{sid}/complete"), 409, "has not been uploaded yet")
    state = call("GET", f"/v1/uploads/{sid}").json()["state"]
    if state != "pending":
        fail("an early complete must leave the upload pending", state)
    expect("download URL of a pending upload", call("GET", f"/v1/files/{sid}/url"), 409, "only verified uploads")
    put = requests.put(single["grant"]["url"], data=PNG, headers=single["grant"]["headers"], timeout=30)
    if put.status_code != 200:
        fail("PUT", put.text)
    first = call("POST", f"/v1/uploads/{sid}/complete")
    second = call("POST", f"/v1/uploads/{sid}/complete")
    if first.status_code != 200 or second.json() != first.json():
        fail("complete twice must answer the same record", first.text, second.text)
    CASES.append("complete twice (idempotent: 200, same record)")
    print(f"{'complete twice (idempotent: 200, same record)':55} 200")
    expect("download disposition", call("GET", f"/v1/files/{sid}/url?disposition=evil"), 400, "attachment or inline")
    return single["upload"]


def rejected_after_upload():
    def gone(key):
        try:
            s3.head_object(Bucket="uploads", Key=key)
        except s3.exceptions.ClientError:
            return True
        return False

    # Larger than granted, uploaded by another route (straight to storage with the store's own key).
    small = create(good(method="put", size=1000)).json()
    s3.put_object(Bucket="uploads", Key=small["upload"]["key"], Body=PNG + b"x" * 2000, ContentType="image/png")
    body = expect("object larger than granted", call("POST", f"/v1/uploads/{small['upload']['id']}/complete"), 422,
                  "but 1000 were declared")
    if body["upload"]["state"] != "rejected" or not gone(small["upload"]["key"]):
        fail("a rejected object must be removed", body)

    # Wrong checksum: a POST form does not bind the checksum, so completion must catch it.
    digest = base64.b64encode(hashlib.sha256(b"something else").digest()).decode()
    posted = create(good(method="post", checksum={"algorithm": "sha256", "value": digest})).json()
    form = requests.post(posted["grant"]["url"], data=posted["grant"]["fields"],
                         files={"file": ("cat.png", PNG, "image/png")}, timeout=30)
    if form.status_code != 201:
        fail("POST", form.text)
    body = expect("wrong checksum", call("POST", f"/v1/uploads/{posted['upload']['id']}/complete"), 422,
                  "sha256 checksum is")
    if not gone(posted["upload"]["key"]):
        fail("the object with the wrong checksum must be removed")

    # HTML declared as image/png: the signature allows it (the type header matches), the content does not.
    html = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"
    fake = create(good(method="put", size=len(html))).json()
    put = requests.put(fake["grant"]["url"], data=html, headers=fake["grant"]["headers"], timeout=30)
    if put.status_code != 200:
        fail("PUT", put.text)
    body = expect("HTML declared as image/png", call("POST", f"/v1/uploads/{fake['upload']['id']}/complete"), 422,
                  "declared as image/png but its content is text/html")
    if not gone(fake["upload"]["key"]):
        fail("the HTML object must be removed")
    expect("complete a rejected upload again", call("POST", f"/v1/uploads/{fake['upload']['id']}/complete"), 422,
           "declared as image/png")

    # A tampered grant: the PUT with another type than signed is refused by storage itself.
    tampered = create(good(method="put")).json()
    headers = dict(tampered["grant"]["headers"], **{"content-type": "text/html"})
    refused = requests.put(tampered["grant"]["url"], data=PNG, headers=headers, timeout=30)
    if refused.status_code != 403 or b"SignatureDoesNotMatch" not in refused.content:
        fail("a PUT with another content type than granted must be refused by storage", refused.status_code, refused.text)
    CASES.append("PUT with another content type than granted (storage: 403 SignatureDoesNotMatch)")


def nothing_left_behind(kept):
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="uploads").get("Contents", [])]
    staging = [k for k in keys if k.startswith("staging/")]
    if staging:
        fail("objects left in staging", staging)
    if keys != [kept["key"].replace("staging/", "files/", 1)]:
        fail("exactly the one verified upload must be in storage", keys)
    uploads = s3.list_multipart_uploads(Bucket="uploads").get("Uploads", [])
    if uploads:
        fail("multipart uploads left behind", uploads)
    print(f"{'nothing left behind':55} only {keys[0]}")


def main():
    request_shape()
    user = credentials()
    kept = parts_and_states(user)
    rejected_after_upload()
    nothing_left_behind(kept)
    print(f"{len(CASES)} cases")


main()
