#!/usr/bin/env bash
# Run a command (default: pytest) against a throwaway PostgreSQL/PostGIS server.
#
#   scripts/test-postgres.sh .venv/bin/pytest -q
#
# Initialises a cluster in a temporary folder, starts it on a Unix socket inside that folder
# (no TCP port, so it never clashes with another server), creates the database with the
# postgis extension, exports BIOSTRESSTEST_TEST_DATABASE_URL and BIOSTRESSTEST_REQUIRE_POSTGIS=1
# (the PostGIS contract tests then run, and fail rather than skip without a server), runs the
# command, and stops and removes the server whatever the command's outcome. initdb refuses to
# run as root, so as root the server runs as the `postgres` user (Debian's package creates it).
# Needs postgresql-15 and postgresql-15-postgis-3 (scripts/install-system-deps.sh).
set -euo pipefail
[ $# -gt 0 ] || set -- pytest
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$PG_BIN/initdb" ]; then
  echo "no PostgreSQL server at $PG_BIN; run scripts/install-system-deps.sh" >&2
  exit 1
fi
as_server=()
if [ "$(id -u)" -eq 0 ]; then as_server=(runuser -u postgres --); fi

started=$(date +%s.%N)
dir=$(mktemp -d /tmp/bst-pg.XXXXXX)
data="$dir/data"
port=5432  # only names the socket file inside $dir
stop() {
  if [ -f "$data/postmaster.pid" ]; then
    "${as_server[@]}" "$PG_BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}
trap stop EXIT
if [ ${#as_server[@]} -gt 0 ]; then chown postgres: "$dir"; fi
"${as_server[@]}" "$PG_BIN/initdb" -D "$data" -A trust -U postgres -E UTF8 --no-sync \
  >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
"${as_server[@]}" "$PG_BIN/pg_ctl" -D "$data" -l "$dir/server.log" -w -o \
  "-c listen_addresses='' -p $port -k $dir -c fsync=off -c synchronous_commit=off \
   -c full_page_writes=off -c max_connections=100" start >/dev/null \
  || { cat "$dir/server.log" >&2; exit 1; }
"$PG_BIN/psql" -X -q -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
  -c "CREATE DATABASE biostresstest_test" >/dev/null
"$PG_BIN/psql" -X -q -h "$dir" -p "$port" -U postgres -d biostresstest_test -v ON_ERROR_STOP=1 \
  -c "CREATE EXTENSION postgis" >/dev/null
ready=$(date +%s.%N)
awk -v a="$started" -v b="$ready" -v d="$dir" 'BEGIN { printf "PostGIS test server ready in %.1f s (socket %s)\n", b - a, d }'

export BIOSTRESSTEST_TEST_DATABASE_URL="postgresql://postgres@/biostresstest_test?host=$dir&port=$port"
export BIOSTRESSTEST_REQUIRE_POSTGIS=1
set +e
"$@"
status=$?
set -e
exit $status
