"""Helpers shared by the peer scripts: arguments, HTTP, S3 error bodies.

The scripts are run by tests/python_peers.rs against a running
`consign store`; each takes `--endpoint URL --bucket NAME` and reads the
credentials and region from the standard AWS environment variables.
"""

import argparse
import os
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

try:
    import requests  # optional: urllib does the same job
except ImportError:  # pragma: no cover - depends on the machine
    requests = None


def arguments(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--endpoint", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--bucket", required=True, help="a bucket the credentials may write to")
    return parser.parse_args()


def credentials():
    """(access key id, secret, region) from the environment."""
    return (
        os.environ["AWS_ACCESS_KEY_ID"],
        os.environ["AWS_SECRET_ACCESS_KEY"],
        os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    )


class Response:
    """What came back: status, headers (lower-case names) and body."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.body = body

    def error_code(self):
        """The <Code> of an S3 XML error body, or None."""
        if not self.body:
            return None
        try:
            return ET.fromstring(self.body).findtext("Code")
        except ET.ParseError:
            return None

    def describe(self):
        return f"HTTP {self.status}: {self.body[:600]!r}"


def http(method, url, headers=None, body=b""):
    """Sends one request, with requests if installed, else urllib."""
    headers = dict(headers or {})
    if requests is not None:
        r = requests.request(method, url, headers=headers, data=body, timeout=60, allow_redirects=False)
        return Response(r.status_code, r.headers, r.content)
    request = urllib.request.Request(url, data=body if method not in ("GET", "HEAD") else None, method=method)
    for name, value in headers.items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return Response(r.status, dict(r.headers), r.read())
    except urllib.error.HTTPError as e:
        return Response(e.code, dict(e.headers), e.read())


def expect_error(response, status, code, what):
    """Asserts that `response` is the S3 error `code` with `status`."""
    assert response.status == status and response.error_code() == code, (
        f"{what}: expected HTTP {status} {code}, got {response.describe()}"
    )


class Checks:
    """Counts checks and prints each one, so a failure shows its context."""

    def __init__(self, name):
        self.name = name
        self.count = 0
        self.started = time.monotonic()

    def run(self, title, function, *args):
        print(f"[{self.name}] {title} ...", flush=True)
        function(*args)
        self.count += 1

    def done(self):
        elapsed = time.monotonic() - self.started
        print(f"[{self.name}] all {self.count} checks passed in {elapsed:.1f}s", flush=True)


def fail(message):
    print(message, file=sys.stderr, flush=True)
    sys.exit(1)
