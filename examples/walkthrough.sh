#!/usr/bin/env bash
# The README's curl walk-through, runnable: an administrator registers a doctor, a patient
# signs up and grants the doctor care, the doctor records a blood pressure, and the
# patient reads it back. Needs curl and jq, and a running server (./scripts/run) with an
# administrator (create one with: ./scripts/run create-admin --email admin@example.org).
#
#   ADMIN_EMAIL=admin@example.org ADMIN_PASSWORD=... examples/walkthrough.sh
set -euo pipefail
BASE="${BASE:-http://localhost:8000}"
: "${ADMIN_EMAIL:?set ADMIN_EMAIL}" "${ADMIN_PASSWORD:?set ADMIN_PASSWORD}"
run="$(date +%s)-$$"
json() { curl -sS --fail-with-body -H 'content-type: application/json' "$@"; }

# 1. The administrator signs in.
ADMIN=$(json "$BASE/login" -d "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" | jq -r .access_token)

# 2. The administrator registers a doctor.
DOCTOR_ID=$(json "$BASE/doctors" -H "authorization: Bearer $ADMIN" -d "{
  \"email\": \"house-$run@example.org\", \"password\": \"vicodin and canes\",
  \"given_name\": \"Gregory\", \"family_name\": \"House\", \"specialty\": \"Diagnostics\",
  \"licence_number\": \"NJ-$run\"}" | jq -r .id)
DOCTOR=$(json "$BASE/login" -d "{\"email\":\"house-$run@example.org\",\"password\":\"vicodin and canes\"}" | jq -r .access_token)

# 3. A patient signs up, signs in and grants the doctor care.
PATIENT_ID=$(json "$BASE/patients" -d "{
  \"email\": \"ada-$run@example.org\", \"password\": \"analytical engine\",
  \"given_name\": \"Ada\", \"family_name\": \"Lovelace\", \"date_of_birth\": \"1985-12-10\", \"sex\": \"female\"}" | jq -r .id)
PATIENT=$(json "$BASE/login" -d "{\"email\":\"ada-$run@example.org\",\"password\":\"analytical engine\"}" | jq -r .access_token)
json -X POST "$BASE/patients/$PATIENT_ID/care-team/$DOCTOR_ID" -H "authorization: Bearer $PATIENT" >/dev/null

# 4. The doctor records a blood pressure (systolic 128 mmHg, LOINC 8480-6).
json "$BASE/medical_data" -H "authorization: Bearer $DOCTOR" -d "{
  \"patient_id\": \"$PATIENT_ID\",
  \"entry\": {\"kind\": \"observation\", \"code\": \"8480-6\", \"value\": 128, \"unit\": \"mm[Hg]\"}}" >/dev/null

# 5. The patient reads their record back.
json "$BASE/medical_data/$PATIENT_ID" -H "authorization: Bearer $PATIENT" | jq -e '.items[0].entry | select(.code == "8480-6" and .value == 128)'
