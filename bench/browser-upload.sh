#!/usr/bin/env bash
# A 1 GiB multipart upload from Chromium to `consign serve` on loopback,
# beside curl uploading the same file to the same store (see
# crates/consign-server/tests/browser/bench-upload.mjs). Needs Debian's
# chromium and `npm ci` in crates/consign-server/tests/browser.
#
#   bench/browser-upload.sh [size in MiB, default 1024]
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-1024}
WORK=$(mktemp -d /tmp/consign-upload-bench-XXXX)
API=127.0.0.1:18383 STORE=127.0.0.1:19393
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
cargo build --release -q -p consign
(cd crates/consign-server/tests/browser && [ -d node_modules ] || npm ci --silent)
head -c $((SIZE * 1024 * 1024)) /dev/urandom > "$WORK/upload.bin"
target/release/consign serve --data-dir "$WORK/data" --listen $API --store-listen $STORE > "$WORK/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 50); do curl -sf http://$API/healthz >/dev/null && break; sleep 0.2; done
node crates/consign-server/tests/browser/bench-upload.mjs http://$API consign-dev-api-key "$WORK/upload.bin" $SERVER_PID
