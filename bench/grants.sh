#!/usr/bin/env bash
# Grants per second, latency and resident memory of `consign serve`
# (POST /v1/uploads and GET /s3/params, every grant recorded in SQLite)
# beside Uppy Companion answering GET /s3/params with the same S3 settings,
# in the same run, at 16 and 64 connections. Needs wrk (Debian: apt-get
# install wrk) and Node.js with npm (Companion is installed into
# $COMPANION_DIR, default /tmp/consign-bench-companion).
#
#   bench/grants.sh [seconds per run, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
WORK=$(mktemp -d /tmp/consign-bench-XXXX)
COMPANION_DIR=${COMPANION_DIR:-/tmp/consign-bench-companion}
API=127.0.0.1:18181 STORE=127.0.0.1:19191 COMPANION=127.0.0.1:13020
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

command -v wrk >/dev/null || { echo "needs wrk: apt-get install wrk"; exit 1; }
cargo build --release -q -p consign
if [ ! -x "$COMPANION_DIR/node_modules/.bin/companion" ]; then
  mkdir -p "$COMPANION_DIR" && (cd "$COMPANION_DIR" && npm install --silent --no-audit --no-fund @uppy/companion@6.2.2)
fi

target/release/consign serve --data-dir "$WORK/consign" --listen $API --store-listen $STORE >"$WORK/consign.log" 2>&1 &
mkdir -p "$WORK/companion"
COMPANION_SECRET=bench COMPANION_DATADIR="$WORK/companion" COMPANION_DOMAIN=$COMPANION COMPANION_CLIENT_ORIGINS=true \
  COMPANION_AWS_KEY=consign-dev COMPANION_AWS_SECRET=consign-dev-secret-change-me COMPANION_AWS_BUCKET=uploads \
  COMPANION_AWS_REGION=us-east-1 COMPANION_AWS_ENDPOINT=http://$STORE COMPANION_AWS_FORCE_PATH_STYLE=true \
  COMPANION_PORT=${COMPANION##*:} "$COMPANION_DIR/node_modules/.bin/companion" >"$WORK/companion.log" 2>&1 &
for _ in $(seq 1 50); do
  curl -sf http://$API/healthz >/dev/null && curl -sf "http://$COMPANION/s3/params?filename=a&type=image/jpeg" >/dev/null && break
  sleep 0.2
done

cat >"$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"profile":"default","filename":"photo.jpg","content_type":"image/jpeg","size":123456}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer consign-dev-api-key"
LUA
cat >"$WORK/params.lua" <<'LUA'
wrk.headers["Authorization"] = "Bearer consign-dev-api-key"
LUA

rss() { ps -o rss= -p "$1" | awk '{printf "%.1f MiB", $1/1024}'; }
consign_pid=$(pgrep -f "consign serve --data-dir $WORK" | head -1)
companion_pid=$(pgrep -f "$COMPANION_DIR/node_modules/.bin/companion" | head -1)
run() { # name pid url [script]
  local name=$1 pid=$2 url=$3 script=${4:-}
  for c in 16 64; do
    out=$(wrk -t2 -c$c -d"${DURATION}"s --latency ${script:+-s "$script"} "$url")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out"); p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    errors=$(awk '/Non-2xx/ {print $5}' <<<"$out")
    printf '| %-28s | %3s | %9s | %8s | %8s | %9s | %s |\n' "$name" "$c" "$rps" "$p50" "$p99" "$(rss "$pid")" "${errors:-0}"
  done
}
echo "| server, route | conns | requests/s | p50 | p99 | RSS after | non-2xx |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
run "Companion GET /s3/params" "$companion_pid" "http://$COMPANION/s3/params?filename=photo.jpg&type=image/jpeg"
run "Consign GET /s3/params" "$consign_pid" "http://$API/s3/params?filename=photo.jpg&type=image/jpeg" "$WORK/params.lua"
run "Consign POST /v1/uploads" "$consign_pid" "http://$API/v1/uploads" "$WORK/post.lua"
echo "rows recorded: $(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from uploads').fetchone()[0])" "$WORK/consign/consign.db")"
