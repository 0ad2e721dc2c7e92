#!/usr/bin/env bash
# End-to-end latency of POST /predict (cardiovascular_risk): reading the record, the
# prediction, storing it and auditing, over HTTP on loopback, sequential requests.
# Needs curl and jq. Usage: benches/predict_e2e.sh [requests]   (default 200)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-200}"
port="${E2E_PORT:-18100}"
export MEDCONNECT_BIND="127.0.0.1:$port" RUST_LOG=warn
B="http://127.0.0.1:$port"
./scripts/run >/tmp/medconnect-e2e.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do curl -sf "$B/ready" >/dev/null 2>&1 && break; sleep 1; done
run="$(date +%s)-$$"
echo "e2e-admin-passphrase-$run" | ./scripts/run create-admin --email "e2e-admin-$run@example.org" >/dev/null 2>&1
json() { curl -sS --fail-with-body -H 'content-type: application/json' "$@"; }
ADMIN=$(json "$B/login" -d "{\"email\":\"e2e-admin-$run@example.org\",\"password\":\"e2e-admin-passphrase-$run\"}" | jq -r .access_token)
DOCTOR_ID=$(json "$B/doctors" -H "authorization: Bearer $ADMIN" -d "{\"email\":\"dr-$run@example.org\",\"password\":\"e2e doctor passphrase\",\"given_name\":\"E\",\"family_name\":\"E\",\"specialty\":\"cardiology\",\"licence_number\":\"E2E-$run\"}" | jq -r .id)
DOCTOR=$(json "$B/login" -d "{\"email\":\"dr-$run@example.org\",\"password\":\"e2e doctor passphrase\"}" | jq -r .access_token)
PATIENT=$(json "$B/patients" -H "authorization: Bearer $DOCTOR" -d '{"given_name":"E","family_name":"E","date_of_birth":"1960-01-01","sex":"male"}' | jq -r .id)
for entry in '{"kind":"observation","code":"8480-6","value":150,"unit":"mm[Hg]"}' '{"kind":"lab_result","code":"2093-3","value":6.5,"unit":"mmol/L"}' '{"kind":"observation","code":"8867-4","value":72,"unit":"/min"}' '{"kind":"diagnosis","code":"I10"}'; do
    json "$B/medical_data" -H "authorization: Bearer $DOCTOR" -d "{\"patient_id\":\"$PATIENT\",\"entry\":$entry}" >/dev/null
done
times=$(for _ in $(seq 1 "$n"); do
    curl -s -o /dev/null -w '%{time_total}\n' -H 'content-type: application/json' -H "authorization: Bearer $DOCTOR" \
        "$B/predict" -d "{\"patient_id\":\"$PATIENT\",\"kind\":\"cardiovascular_risk\"}"
done | sort -n)
median=$(echo "$times" | awk -v n="$n" 'NR == int((n + 1) / 2) { printf "%.2f", $1 * 1000 }')
p95=$(echo "$times" | awk -v n="$n" 'NR == int(n * 0.95) { printf "%.2f", $1 * 1000 }')
echo "POST /predict cardiovascular_risk, $n sequential requests: median ${median} ms, p95 ${p95} ms"
