#!/usr/bin/env bash
# Makes sure a PostgreSQL answers on 127.0.0.1:5432 with trust auth and a
# database `test` (what the test suite expects). On a machine without one,
# installs Debian's package and starts its cluster; where a server answers
# but the client is missing, installs only the client (psql).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

answers() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
apt_install() { apt-get update -qq && apt-get install -y -qq "$@" >/dev/null; }

if ! answers; then
  if ! command -v pg_ctlcluster >/dev/null; then
    echo "installing PostgreSQL from Debian's packages"
    apt_install postgresql
  fi
  version=$(ls /etc/postgresql | sort -V | tail -1)
  hba=/etc/postgresql/$version/main/pg_hba.conf
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    printf 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n' > "$hba"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" main start ||
    pg_ctlcluster --skip-systemctl-redirect "$version" main restart
  for _ in $(seq 1 30); do answers && break; sleep 1; done
  answers || { echo "PostgreSQL did not start on 127.0.0.1:5432"; exit 1; }
fi
command -v psql >/dev/null || apt_install postgresql-client

for _ in $(seq 1 30); do psql -h 127.0.0.1 -U postgres -tAc "SELECT 1" >/dev/null 2>&1 && break; sleep 1; done
if ! psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1; then
  psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE test" >/dev/null
fi
echo "PostgreSQL ready on 127.0.0.1:5432 (database test)"
