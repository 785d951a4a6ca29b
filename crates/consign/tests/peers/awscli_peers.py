#!/usr/bin/env python3
"""The AWS CLI (v1, `python3 -m awscli`) against a running `consign store`.

    python3 awscli_peers.py --endpoint http://127.0.0.1:PORT --bucket NAME

`aws s3 cp` of a 100 MiB random file up (multipart) and back down, `aws s3
sync` of a small tree (then of one changed file), and `aws s3api
list-objects-v2`, `head-object` and `delete-object`. The CLI runs with a
temporary HOME and config, so nothing from the machine leaks in, and with
its default checksum behaviour.

Needs awscli: python3 -m pip install awscli
"""

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time

from common import Checks, arguments, credentials

ARGS = arguments(__doc__)
ENDPOINT, BUCKET = ARGS.endpoint.rstrip("/"), ARGS.bucket
ACCESS_KEY, SECRET, REGION = credentials()
BIG = 100 * 1024 * 1024
WORK = tempfile.TemporaryDirectory(prefix="consign-awscli-")
ROOT = WORK.name


def cli_environment():
    """The environment without the machine's AWS settings, in a fresh HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    home = os.path.join(ROOT, "home")
    os.makedirs(os.path.join(home, ".aws"))
    config = os.path.join(home, ".aws", "config")
    with open(config, "w") as f:
        f.write(f"[default]\nregion = {REGION}\ns3 =\n    addressing_style = path\n")
    credentials_file = os.path.join(home, ".aws", "credentials")
    open(credentials_file, "w").close()
    env.update(
        {
            "HOME": home,
            "AWS_CONFIG_FILE": config,
            "AWS_SHARED_CREDENTIALS_FILE": credentials_file,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_PAGER": "",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
    )
    return env


ENV = cli_environment()


def aws(*args, check=True):
    """Runs `aws --endpoint-url ENDPOINT args...`; returns the completed process."""
    command = [sys.executable, "-m", "awscli", "--endpoint-url", ENDPOINT, *args]
    done = subprocess.run(command, env=ENV, cwd=ROOT, capture_output=True, timeout=120)
    if check and done.returncode != 0:
        raise AssertionError(
            f"`aws {' '.join(args)}` exited with {done.returncode}:\n"
            f"stdout: {done.stdout.decode(errors='replace')}\nstderr: {done.stderr.decode(errors='replace')}"
        )
    return done


def api_json(*args):
    out = aws("s3api", *args, "--output", "json").stdout
    return json.loads(out) if out.strip() else {}


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for piece in iter(lambda: f.read(1 << 20), b""):
            digest.update(piece)
    return digest.hexdigest()


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def big_copy():
    up = os.path.join(ROOT, "big-up.bin")
    down = os.path.join(ROOT, "big-down.bin")
    write(up, os.urandom(BIG))
    key = "big/random.bin"
    started = time.monotonic()
    aws("s3", "cp", up, f"s3://{BUCKET}/{key}", "--no-progress")
    uploaded = time.monotonic()
    aws("s3", "cp", f"s3://{BUCKET}/{key}", down, "--no-progress")
    print(f"  100 MiB up in {uploaded - started:.1f}s, down in {time.monotonic() - uploaded:.1f}s", flush=True)
    assert os.path.getsize(down) == BIG, f"downloaded {os.path.getsize(down)} bytes, uploaded {BIG}"
    assert sha256_file(down) == sha256_file(up), "the downloaded file differs from the uploaded one"

    head = api_json("head-object", "--bucket", BUCKET, "--key", key)
    assert head["ContentLength"] == BIG, head
    # The CLI uploads files over 8 MiB in 8 MiB parts: a multipart ETag.
    etag = head["ETag"].strip('"')
    assert etag.endswith("-13"), f"expected the ETag of a 13-part upload, got {head['ETag']}"
    # By default the CLI sends a CRC32 of every part: the object keeps their
    # composite checksum.
    head = api_json("head-object", "--bucket", BUCKET, "--key", key, "--checksum-mode", "ENABLED")
    assert head.get("ChecksumType") == "COMPOSITE" and head.get("ChecksumCRC32", "").endswith("-13"), head
    os.remove(up)
    os.remove(down)


TREE = {
    "a.txt": b"alpha\n",
    "empty.txt": b"",
    "sub/b.txt": b"bravo\n",
    "sub/with space & plus+.txt": b"charlie\n",
    "sub/deeper/c.bin": os.urandom(70_000),
    "sub/deeper/\u00fcml\u00e4ut.txt": "d\u00e9lta\n".encode(),
}


def listed(prefix):
    out = api_json("list-objects-v2", "--bucket", BUCKET, "--prefix", prefix)
    return {o["Key"]: o["Size"] for o in out.get("Contents", [])}


def assert_same_tree(local, expected):
    found = {}
    for directory, _, files in os.walk(local):
        for name in files:
            path = os.path.join(directory, name)
            with open(path, "rb") as f:
                found[os.path.relpath(path, local).replace(os.sep, "/")] = f.read()
    assert found == expected, f"the synced tree differs: {sorted(found)} vs {sorted(expected)}"


def sync_tree():
    local = os.path.join(ROOT, "tree")
    for name, data in TREE.items():
        write(os.path.join(local, name), data)
    target = f"s3://{BUCKET}/tree/"
    aws("s3", "sync", local, target, "--no-progress")
    expected = {f"tree/{name}": len(data) for name, data in TREE.items()}
    assert listed("tree/") == expected, f"after the first sync: {listed('tree/')}"

    # Change one file (size and time): the second sync uploads only it.
    changed = dict(TREE, **{"sub/b.txt": b"bravo, changed and longer\n"})
    path = os.path.join(local, "sub/b.txt")
    write(path, changed["sub/b.txt"])
    later = time.time() + 5
    os.utime(path, (later, later))
    out = aws("s3", "sync", local, target, "--no-progress").stdout.decode()
    uploads = [line for line in out.splitlines() if line.startswith("upload:")]
    assert len(uploads) == 1 and "sub/b.txt" in uploads[0], f"the second sync should upload sub/b.txt only:\n{out}"
    expected["tree/sub/b.txt"] = len(changed["sub/b.txt"])
    assert listed("tree/") == expected, f"after the second sync: {listed('tree/')}"

    # Back down into an empty directory: the same bytes.
    back = os.path.join(ROOT, "tree-back")
    aws("s3", "sync", target, back, "--no-progress")
    assert_same_tree(back, changed)
    streamed = aws("s3", "cp", f"{target}sub/b.txt", "-").stdout
    assert streamed == changed["sub/b.txt"], f"aws s3 cp to stdout gave {streamed!r}"


def s3api_calls():
    listing = api_json("list-objects-v2", "--bucket", BUCKET, "--prefix", "tree/sub/", "--delimiter", "/")
    assert [p["Prefix"] for p in listing.get("CommonPrefixes", [])] == ["tree/sub/deeper/"], listing
    assert sorted(o["Key"] for o in listing["Contents"]) == ["tree/sub/b.txt", "tree/sub/with space & plus+.txt"], listing

    # A paginated listing: the CLI follows the continuation tokens itself.
    paged = api_json("list-objects-v2", "--bucket", BUCKET, "--page-size", "2")
    assert len(paged["Contents"]) == len(TREE) + 1, paged

    head = api_json("head-object", "--bucket", BUCKET, "--key", "tree/sub/deeper/c.bin")
    assert head["ContentLength"] == len(TREE["sub/deeper/c.bin"]), head
    assert head["ETag"] == f'"{hashlib.md5(TREE["sub/deeper/c.bin"]).hexdigest()}"', head

    aws("s3api", "delete-object", "--bucket", BUCKET, "--key", "tree/a.txt")
    gone = aws("s3api", "head-object", "--bucket", BUCKET, "--key", "tree/a.txt", check=False)
    assert gone.returncode != 0 and b"404" in gone.stderr, f"head-object after delete-object: {gone.stderr!r}"
    assert "tree/a.txt" not in listed("tree/")
    # Deleting again succeeds, as in S3.
    aws("s3api", "delete-object", "--bucket", BUCKET, "--key", "tree/a.txt")


def main():
    checks = Checks("awscli")
    version = aws("--version").stdout.decode() + aws("--version").stderr.decode()
    print(f"[awscli] {version.strip()}", flush=True)
    checks.run("aws s3 cp of 100 MiB up and down", big_copy)
    checks.run("aws s3 sync of a tree, twice, and back", sync_tree)
    checks.run("aws s3api list-objects-v2, head-object, delete-object", s3api_calls)
    checks.done()


if __name__ == "__main__":
    try:
        main()
    finally:
        WORK.cleanup()
