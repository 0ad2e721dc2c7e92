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

# 6. The patient asks a cardiologist (not in their care) for a consultation, sharing the
#    reading; the cardiologist sees the request in their inbox, accepts it with a time,
#    which gives them care of the patient until the consultation ends plus 7 days, then
#    documents and completes it.
CARDIO_ID=$(api POST /doctors "$ADMIN" "{
  \"email\": \"cameron-$run@example.org\", \"password\": \"immunology first\",
  \"given_name\": \"Allison\", \"family_name\": \"Cameron\", \"specialty\": \"Cardiology\",
  \"licence_number\": \"NJ-C-$run\"}" | jq -r .id)
CARDIO=$(api POST /login "" "{\"email\":\"cameron-$run@example.org\",\"password\":\"immunology first\"}" | jq -r .access_token)
READING=$(api GET "/medical_data/$PATIENT_ID" "$PATIENT" | jq -r '.items[0].id')
CONSULTATION=$(api POST /consultations "$PATIENT" "{\"doctor_id\": \"$CARDIO_ID\",
  \"reason\": \"Chest tightness on the stairs\", \"mode\": \"video\", \"shared_entries\": [\"$READING\"]}" | jq -r .id)
api GET "/consultations?status=requested" "$CARDIO" | jq -e --arg id "$CONSULTATION" '.items[] | select(.id == $id)' >/dev/null
api GET "/consultations/$CONSULTATION" "$CARDIO" | jq -e '.shared_entries | length == 1' >/dev/null
api POST "/consultations/$CONSULTATION/accept" "$CARDIO" "{\"scheduled_for\": \"$(date -u -d '+2 days' +%Y-%m-%dT%H:%M:%SZ)\"}" >/dev/null
api GET "/medical_data/$PATIENT_ID" "$CARDIO" >/dev/null   # care through the consultation
api POST /medical_data "$CARDIO" "{\"patient_id\": \"$PATIENT_ID\", \"consultation_id\": \"$CONSULTATION\",
  \"entry\": {\"kind\": \"note\", \"text\": \"Exertional angina suspected; stress test booked.\"}}" >/dev/null
api POST "/consultations/$CONSULTATION/complete" "$CARDIO" '{"note": "Seen by video; stress test booked."}' | jq -e '.status == "completed" and .care_until != null' >/dev/null
api GET "/consultations/$CONSULTATION" "$PATIENT" | jq -e '.documented_entries | length == 1' >/dev/null
echo "walk-through done"
