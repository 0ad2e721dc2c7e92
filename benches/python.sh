#!/usr/bin/env bash
# Python-visible cost of an interaction check and a risk prediction through the bindings
# (release wheel), the same through the HTTP API from Python (httpx against the release
# server on loopback), and pddiansm's check if it installs. Prints a Markdown table.
#
#   benches/python.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh
source scripts/python.sh
command -v jq >/dev/null || apt-get install -y -qq jq >/dev/null
say "building the release wheel and the release server"
install_wheel release
cargo build --release -p medconnect-http --bin medconnect --no-default-features
ensure_postgres
bin="$(pg_bindir)"
db=medconnect_python_bench
"$bin/psql" "$MEDCONNECT_PG_URL" -qc "drop database if exists $db with (force)" -c "create database $db" >/dev/null
DATABASE_URL="$(socket_url "$db")"
export DATABASE_URL RUST_LOG=warn MEDCONNECT_CACHE=off
export MEDCONNECT_JWT_SECRET="$(head -c 48 /dev/urandom | base64 | tr -d '\n=')"
export MEDCONNECT_AUDIT_KEY="$(head -c 48 /dev/urandom | base64 | tr -d '\n=')"
port=18301
MEDCONNECT_BIND="127.0.0.1:$port" target/release/medconnect serve >/tmp/medconnect-python-bench.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.2; done
B="http://127.0.0.1:$port"
api() { curl -sS --fail-with-body -H 'content-type: application/json' "$@"; }
echo "bench-admin-passphrase" | target/release/medconnect create-admin --email admin@example.org >/dev/null 2>&1
ADMIN=$(api "$B/login" -d '{"email":"admin@example.org","password":"bench-admin-passphrase"}' | jq -r .access_token)
api "$B/doctors" -H "authorization: Bearer $ADMIN" -d '{"email":"dr@example.org","password":"bench doctor passphrase","given_name":"Bench","family_name":"Doctor","specialty":"cardiology","licence_number":"BENCH-1"}' >/dev/null
TOKEN=$(api "$B/login" -d '{"email":"dr@example.org","password":"bench doctor passphrase"}' | jq -r .access_token)
PATIENT=$(api "$B/patients" -H "authorization: Bearer $TOKEN" -d '{"given_name":"Ada","family_name":"Lovelace","date_of_birth":"1960-01-01","sex":"female"}' | jq -r .id)

echo "Python bindings vs HTTP, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, $(.venv/bin/python --version)"
echo
echo "| measured | per call |"
echo "|---|---|"
BASE="$B" TOKEN="$TOKEN" PATIENT="$PATIENT" .venv/bin/python benches/python_bench.py
if [ ! -x .venv-pddiansm/bin/python ]; then
    python3 -m venv .venv-pddiansm && .venv-pddiansm/bin/pip install -q pddiansm==0.2.0 >/dev/null 2>&1 || true
fi
if .venv-pddiansm/bin/python -c 'import pddiansm' 2>/dev/null; then
    .venv-pddiansm/bin/python benches/pddiansm_bench.py
else
    echo "| pddiansm | did not install |"
fi
