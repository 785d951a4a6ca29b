"""Operations and browser plumbing: /healthz, /readyz, /metrics counting what
happened, the OpenAPI document, CORS for the configured origin only, and
secrets never in answers.

Usage: operations.py API_URL API_KEY ALLOWED_ORIGIN
"""

import sys

import requests

API, KEY, ORIGIN = sys.argv[1:4]
AUTH = {"authorization": f"Bearer {KEY}"}


def check(condition, message, *context):
    if not condition:
        raise SystemExit(f"FAILED: {message}: " + " | ".join(str(c)[:1500] for c in context))


health = requests.get(API + "/healthz", timeout=10)
check(health.status_code == 200 and health.json() == {"status": "ok"}, "healthz", health.text)
ready = requests.get(API + "/readyz", timeout=10)
check(ready.status_code == 200 and ready.json() == {"database": "ok", "storage": "ok"}, "readyz", ready.text)

openapi = requests.get(API + "/v1/openapi.json", timeout=10)
check(openapi.status_code == 200 and openapi.json()["openapi"] == "3.1.0", "openapi", openapi.text[:200])
check("/v1/uploads/{id}/complete" in openapi.json()["paths"], "openapi paths", list(openapi.json()["paths"]))

body = {"profile": "images", "filename": "a.png", "content_type": "image/png", "size": 100}
for _ in range(3):
    check(requests.post(API + "/v1/uploads", json=body, headers=AUTH, timeout=10).status_code == 201, "grant")
refused = requests.post(API + "/v1/uploads", json=dict(body, content_type="text/html"), headers=AUTH, timeout=10)
check(refused.status_code == 400, "refused grant", refused.text)
metrics = requests.get(API + "/metrics", timeout=10)
check(metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain"), "metrics", metrics.headers)
text = metrics.text
check('consign_grants_total{method="put"} 3' in text, "grants counted", text)
check('consign_request_seconds_count{route="grant"} 4' in text, "grant latency observed", text)
check("consign_verify_seconds_bucket" in text, "verify histogram", text)

preflight = requests.options(API + "/v1/uploads", headers={
    "origin": ORIGIN, "access-control-request-method": "POST",
    "access-control-request-headers": "authorization,content-type"}, timeout=10)
check(preflight.status_code == 200, "preflight", preflight.status_code, preflight.headers)
check(preflight.headers.get("access-control-allow-origin") == ORIGIN, "allowed origin", preflight.headers)
check("authorization" in preflight.headers.get("access-control-allow-headers", "").lower(), "allowed headers",
      preflight.headers)
stranger = requests.options(API + "/v1/uploads", headers={
    "origin": "https://evil.example", "access-control-request-method": "POST"}, timeout=10)
check("access-control-allow-origin" not in stranger.headers, "another origin gets no CORS grant", stranger.headers)
simple = requests.get(API + "/v1/uploads", headers=dict(AUTH, origin=ORIGIN), timeout=10)
check(simple.headers.get("access-control-allow-origin") == ORIGIN, "CORS on answers", simple.headers)

for response in (health, ready, openapi, metrics, refused, simple):
    check(KEY not in response.text and "test-token-secret" not in response.text, "a secret in an answer", response.text)
print("operations ok")
