#!/usr/bin/env bash
# The README's curl walk-through, runnable: an administrator registers a doctor, a patient
# signs up and grants the doctor care, the doctor records a blood pressure, and the
# patient reads it back. Needs curl and jq, and a running server (./scripts/run) with an
# administrator (create one with: ./scripts/run create-admin --email admin@example.org).
# The first step that fails stops the walk-through and shows the problem the server sent.
#
#   ADMIN_EMAIL=admin@example.org ADMIN_PASSWORD=... examples/walkthrough.sh
set -euo pipefail
BASE="${BASE:-http://localhost:8000}"
: "${ADMIN_EMAIL:?set ADMIN_EMAIL}" "${ADMIN_PASSWORD:?set ADMIN_PASSWORD}"
run="$(date +%s)-$$"
answer="$(mktemp)"
trap 'rm -f "$answer"' EXIT

# api METHOD PATH [TOKEN] [JSON]: prints the answer; on an error status, prints the
# problem body on stderr and stops here.
api() {
    local method=$1 path=$2 token=${3:-} body=${4:-} status
    local args=(-sS -X "$method" -o "$answer" -w '%{http_code}' -H 'content-type: application/json')
    [ -n "$token" ] && args+=(-H "authorization: Bearer $token")
    [ -n "$body" ] && args+=(-d "$body")
    status="$(curl "${args[@]}" "$BASE$path")"
    if [ "$status" -ge 400 ]; then
        printf 'step failed: %s %s answered %s\n%s\n' "$method" "$path" "$status" "$(cat "$answer")" >&2
        exit 1
    fi
    cat "$answer"
}

# 1. The administrator signs in.
ADMIN=$(api POST /login "" "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" | jq -r .access_token)

# 2. The administrator registers a doctor.
DOCTOR_ID=$(api POST /doctors "$ADMIN" "{
  \"email\": \"house-$run@example.org\", \"password\": \"vicodin and canes\",
  \"given_name\": \"Gregory\", \"family_name\": \"House\", \"specialty\": \"Diagnostics\",
  \"licence_number\": \"NJ-$run\"}" | jq -r .id)
DOCTOR=$(api POST /login "" "{\"email\":\"house-$run@example.org\",\"password\":\"vicodin and canes\"}" | jq -r .access_token)

# 3. A patient signs up, signs in and grants the doctor care.
PATIENT_ID=$(api POST /patients "" "{
  \"email\": \"ada-$run@example.org\", \"password\": \"analytical engine\",
  \"given_name\": \"Ada\", \"family_name\": \"Lovelace\", \"date_of_birth\": \"1985-12-10\", \"sex\": \"female\"}" | jq -r .id)
PATIENT=$(api POST /login "" "{\"email\":\"ada-$run@example.org\",\"password\":\"analytical engine\"}" | jq -r .access_token)
api POST "/patients/$PATIENT_ID/care-team/$DOCTOR_ID" "$PATIENT" >/dev/null

# 4. The doctor records a blood pressure (systolic 128 mmHg, LOINC 8480-6).
api POST /medical_data "$DOCTOR" "{
  \"patient_id\": \"$PATIENT_ID\",
  \"entry\": {\"kind\": \"observation\", \"code\": \"8480-6\", \"value\": 128, \"unit\": \"mm[Hg]\"}}" >/dev/null

# 5. The patient reads their record back.
api GET "/medical_data/$PATIENT_ID" "$PATIENT" | jq -e '.items[0].entry | select(.code == "8480-6" and .value == 128)'
