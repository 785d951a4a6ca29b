"""Grant -> upload -> complete -> verified, for every method, the way a
browser would send the bytes: Python's `requests` (written by others) sends
exactly the URL, headers and form fields Consign granted, straight to the
storage target (the embedded store, or Garage). Then the bytes are read
back through a download URL and compared.

Usage: flows.py API_URL API_KEY
Exits non-zero with a message on the first failure; prints one line per flow.
"""

import base64
import hashlib
import json
import os
import re
import sys
import time

import requests

API, KEY = sys.argv[1], sys.argv[2]
BACKEND = {"authorization": f"Bearer {KEY}"}


def png(size):
    header = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    return header + os.urandom(size - len(header))


def jpeg(size):
    header = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
    return header + os.urandom(size - len(header))


def check(condition, message, *context):
    if not condition:
        raise SystemExit(f"FAILED: {message}: " + " | ".join(str(c)[:2000] for c in context))


def api(method, path, token=None, **kwargs):
    headers = {"authorization": f"Bearer {token}"} if token else BACKEND
    return requests.request(method, API + path, headers=headers, timeout=60, **kwargs)


def create(body, token=None):
    response = api("POST", "/v1/uploads", token, json=body)
    check(response.status_code == 201, "create upload", body, response.status_code, response.text)
    return response.json()


def complete(upload_id, token=None, body=None):
    response = api("POST", f"/v1/uploads/{upload_id}/complete", token, json=body or {})
    check(response.status_code == 200, "complete", response.status_code, response.text)
    record = response.json()
    check(record["state"] == "uploaded", "state after complete", record)
    return record


def downloaded(upload_id, token=None):
    response = api("GET", f"/v1/files/{upload_id}/url", token)
    check(response.status_code == 200, "download url", response.text)
    got = requests.get(response.json()["url"], timeout=60)
    check(got.status_code == 200, "download", got.status_code, got.text[:500])
    check("attachment" in got.headers.get("content-disposition", ""), "attachment disposition", got.headers)
    return got.content


def flow_put():
    data = png(70_000)
    sha = base64.b64encode(hashlib.sha256(data).digest()).decode()
    created = create({
        "profile": "images", "filename": "cat picture.png", "content_type": "image/png", "size": len(data),
        "method": "put", "checksum": {"algorithm": "sha256", "value": sha}, "metadata": {"alt": "a cat"},
    })
    grant = created["grant"]
    check(grant["method"] == "PUT", "PUT grant", grant)
    check(grant["headers"].get("x-amz-checksum-sha256") == sha, "checksum bound in the grant", grant)
    response = requests.put(grant["url"], data=data, headers=grant["headers"], timeout=60)
    check(response.status_code == 200, "PUT to storage", response.status_code, response.text)
    record = complete(created["upload"]["id"])
    check(record["detected_type"] == "image/png" and record["stored_size"] == len(data), "record", record)
    check(record["key"].startswith("files/images/"), "final key", record)
    check(downloaded(record["id"]) == data, "bytes read back equal the file")
    return record


def flow_post():
    data = jpeg(50_000)
    created = create({"profile": "images", "filename": "photo.jpg", "content_type": "image/jpeg",
                      "size": len(data), "method": "post"})
    grant = created["grant"]
    check(grant["method"] == "POST", "POST grant", grant)
    files = {"file": ("photo.jpg", data, "image/jpeg")}
    response = requests.post(grant["url"], data=grant["fields"], files=files, timeout=60)
    check(response.status_code == 201, "POST form to storage", response.status_code, response.text)
    record = complete(created["upload"]["id"])
    check(record["detected_type"] == "image/jpeg", "detected type", record)
    check(downloaded(record["id"]) == data, "bytes read back equal the file")
    return record


def put_parts(upload_id, data, part_size, token=None, numbers=None):
    count = -(-len(data) // part_size)
    numbers = numbers or list(range(1, count + 1))
    response = api("POST", f"/v1/uploads/{upload_id}/parts", token, json={"part_numbers": numbers})
    check(response.status_code == 200, "sign parts", response.text)
    etags = []
    for part in response.json()["parts"]:
        n = part["part_number"]
        chunk = data[(n - 1) * part_size: n * part_size]
        put = requests.put(part["url"], data=chunk, timeout=120)
        check(put.status_code == 200, f"PUT part {n}", put.status_code, put.text)
        etags.append((n, put.headers["etag"]))
    return etags


def flow_multipart():
    data = os.urandom(12 * 1024 * 1024 + 12345)
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    created = create({"profile": "default", "filename": "archive.bin", "content_type": "application/octet-stream",
                      "size": len(data), "method": "multipart", "checksum": {"algorithm": "md5", "value": md5}})
    grant = created["grant"]
    check(grant["method"] == "MULTIPART" and grant["part_count"] == 3, "multipart grant", grant)
    upload_id = created["upload"]["id"]
    # Send part 1, then ask what storage holds (as a resumed client would), then the rest.
    put_parts(upload_id, data, grant["part_size"], numbers=[1])
    held = api("GET", f"/v1/uploads/{upload_id}/parts").json()["parts"]
    check([p["PartNumber"] for p in held] == [1], "stored parts after one", held)
    early = api("POST", f"/v1/uploads/{upload_id}/complete", json={})
    check(early.status_code == 409 and "parts 2, 3 of 3" in early.json()["error"], "complete too early", early.text)
    put_parts(upload_id, data, grant["part_size"], numbers=[2, 3])
    record = complete(upload_id)
    check(record["stored_size"] == len(data), "size", record)
    got = downloaded(upload_id)
    check(hashlib.sha256(got).digest() == hashlib.sha256(data).digest(), "bytes read back equal the file")
    return record


def wait_uploaded(upload_id, token=None):
    for _ in range(100):
        record = api("GET", f"/v1/uploads/{upload_id}", token).json()
        if record["state"] not in ("pending", "verifying"):
            return record
        time.sleep(0.2)
    raise SystemExit(f"FAILED: upload {upload_id} was never completed automatically")


def upload_id_of(key):
    match = re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", key)
    check(match, "an upload id in the key", key)
    return match.group(0)


def flow_uppy_single(token):
    data = png(30_000)
    response = requests.get(API + "/s3/params", params={"filename": "drop.png", "type": "image/png",
                            "metadata[name]": "drop.png", "metadata[type]": "image/png"},
                            headers={"authorization": f"Bearer {token}"}, timeout=30)
    check(response.status_code == 200, "/s3/params", response.status_code, response.text)
    params = response.json()
    check(params["method"] == "POST" and set(params) == {"method", "url", "fields", "expires"}, "params shape", params)
    posted = requests.post(params["url"], data=params["fields"], files={"file": ("drop.png", data, "image/png")}, timeout=60)
    check(posted.status_code in (200, 201, 204), "Uppy-style POST", posted.status_code, posted.text)
    record = wait_uploaded(upload_id_of(params["fields"]["key"]), token)
    check(record["state"] == "uploaded" and record["detected_type"] == "image/png", "auto-completed record", record)
    return record


def flow_uppy_multipart(token):
    auth = {"authorization": f"Bearer {token}"}
    data = png(6 * 1024 * 1024 + 777)
    created = requests.post(API + "/s3/multipart", json={"filename": "big.png", "type": "image/png",
                            "metadata": {"name": "big.png"}}, headers=auth, timeout=30)
    check(created.status_code == 200, "/s3/multipart", created.status_code, created.text)
    body = created.json()
    check(set(body) == {"key", "uploadId", "bucket"}, "create shape", body)
    upload_id, key = body["uploadId"], body["key"]
    wrong = requests.get(f"{API}/s3/multipart/{upload_id}/1", params={"key": key + "x"}, headers=auth, timeout=30)
    check(wrong.status_code == 403 and "error" in wrong.json(), "a key not of this upload is refused", wrong.text)
    part_size = 5 * 1024 * 1024
    parts = []
    for n, offset in ((1, 0), (2, part_size)):
        signed = requests.get(f"{API}/s3/multipart/{upload_id}/{n}", params={"key": key}, headers=auth, timeout=30)
        check(signed.status_code == 200 and set(signed.json()) == {"url", "expires"}, "sign part", signed.text)
        put = requests.put(signed.json()["url"], data=data[offset: offset + part_size], timeout=60)
        check(put.status_code == 200, "PUT part", put.status_code, put.text)
        parts.append({"PartNumber": n, "ETag": put.headers["etag"]})
    batch = requests.get(f"{API}/s3/multipart/{upload_id}/batch", params={"key": key, "partNumbers": "1,2"},
                         headers=auth, timeout=30)
    check(batch.status_code == 200 and set(batch.json()["presignedUrls"]) == {"1", "2"}, "batch", batch.text)
    listed = requests.get(f"{API}/s3/multipart/{upload_id}", params={"key": key}, headers=auth, timeout=30).json()
    check([p["PartNumber"] for p in listed] == [1, 2] and {"PartNumber", "ETag", "Size", "LastModified"} <= set(listed[0]),
          "list parts shape", listed)
    done = requests.post(f"{API}/s3/multipart/{upload_id}/complete", params={"key": key}, json={"parts": parts},
                         headers=auth, timeout=60)
    check(done.status_code == 200 and set(done.json()) == {"location", "key", "bucket"}, "complete shape", done.text)
    record = api("GET", f"/v1/uploads/{upload_id_of(key)}", token).json()
    check(record["state"] == "uploaded" and record["stored_size"] == len(data), "recorded and verified", record)
    return record


def flow_token_and_abort():
    minted = api("POST", "/v1/tokens", json={"subject": "user-42", "profiles": ["images"], "prefix": "users/42",
                                             "ttl_seconds": 600, "quota_bytes": 50 * 1024 * 1024})
    check(minted.status_code == 201, "mint token", minted.text)
    token = minted.json()["token"]
    created = create({"profile": "images", "filename": "a.png", "content_type": "image/png", "size": 1000}, token)
    check("/users/42/" in created["upload"]["key"], "token prefix in the key", created)
    other = api("POST", "/v1/uploads", token, json={"profile": "default", "filename": "a.bin",
                                                    "content_type": "application/octet-stream", "size": 10})
    check(other.status_code == 403, "a profile the token does not grant", other.text)
    aborted = api("DELETE", f"/v1/uploads/{created['upload']['id']}", token)
    check(aborted.status_code == 200 and aborted.json()["state"] == "aborted", "abort", aborted.text)
    return token


def main():
    results = {}
    results["put"] = flow_put()["id"]
    results["post"] = flow_post()["id"]
    results["multipart"] = flow_multipart()["id"]
    token = flow_token_and_abort()
    results["uppy_single"] = flow_uppy_single(token)["id"]
    results["uppy_multipart"] = flow_uppy_multipart(token)["id"]
    print(json.dumps(results))


main()
