#!/usr/bin/env bash
# Load figures of the HTTP server as ratios against a bare poem handler measured in the
# same run (wrk on loopback). Bounded: each scenario runs DURATION seconds, ROUNDS times,
# each round just after a BARE_DURATION-second round of the bare handler; a round's ratio
# is against that bare round, and the round with the median ratio is reported. About 14
# scenarios in all (the machines this ran on changed speed by a fifth within minutes, so a
# single bare measurement at the start could not be compared with a scenario minutes later).
#
#   benches/load.sh                      # builds the release server and measures it
#   MEDCONNECT_BIN=/tmp/old/medconnect LABEL=before benches/load.sh
#
# Environment: DURATION (10), BARE_DURATION (5), ROUNDS (3), CONNS (64), POOL (10, the server's pool size),
# DB_TRANSPORT (socket, as scripts/run connects, or tcp), CACHE (redis: a private Redis,
# as scripts/run starts; off: MEDCONNECT_CACHE=off; stopped: REDIS_URL pointing at a
# Redis that is down), MEDCONNECT_BIN (a server binary to measure instead of this
# checkout's), LABEL, KEEP_DB (1 keeps the run's database, dropped otherwise).
# Starts its own PostgreSQL (scripts/postgres.sh) and a fresh database per run; installs
# wrk from Debian if it is missing. Prints a Markdown table; raw wrk lines go to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh
source scripts/redis.sh
DURATION="${DURATION:-10}"
BARE_DURATION="${BARE_DURATION:-5}"
ROUNDS="${ROUNDS:-3}"
CONNS="${CONNS:-64}"
POOL="${POOL:-10}"
LABEL="${LABEL:-current}"
command -v wrk >/dev/null || { say "installing wrk"; apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }; }
command -v jq >/dev/null || apt-get install -y -qq jq >/dev/null

if [ -z "${MEDCONNECT_BIN:-}" ]; then
    say "building the release server and the bare poem handler"
    cargo build --release -p medconnect-http --bin medconnect --no-default-features
    cargo build --release -p medconnect-benches --bin bare-poem
    MEDCONNECT_BIN=target/release/medconnect
else
    cargo build --release -p medconnect-benches --bin bare-poem
fi
BARE_BIN=target/release/bare-poem
ensure_postgres
bin="$(pg_bindir)"
db="medconnect_load_$(echo "$LABEL" | tr -c 'a-z0-9\n' '_')"
"$bin/psql" "$MEDCONNECT_PG_URL" -qc "drop database if exists $db with (force)" -c "create database $db" >/dev/null
# Through the cluster's Unix socket, as scripts/run connects; DB_TRANSPORT=tcp for loopback TCP.
if [ "${DB_TRANSPORT:-socket}" = tcp ]; then
    export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/$db"
else
    DATABASE_URL="$(socket_url "$db")"
    export DATABASE_URL
fi
export MEDCONNECT_JWT_SECRET="$(head -c 48 /dev/urandom | base64 | tr -d '\n=')"
export MEDCONNECT_AUDIT_KEY="$(head -c 48 /dev/urandom | base64 | tr -d '\n=')"
case "${CACHE:-redis}" in
    redis)
        ensure_redis
        export REDIS_URL="$MEDCONNECT_REDIS_URL" MEDCONNECT_CACHE_NAMESPACE="load-$LABEL-$$"
        ;;
    off) export MEDCONNECT_CACHE=off; unset REDIS_URL ;;
    stopped) export REDIS_URL="redis://127.0.0.1:1/0" ;; # nothing listens there: refused at once
    *) say "CACHE must be redis, off or stopped"; exit 2 ;;
esac
# Sign-in limits are raised so that the sign-in scenario measures argon2 work, not the throttle.
export RUST_LOG=warn MEDCONNECT_DB_MAX_CONNECTIONS="$POOL" MEDCONNECT_LOGIN_MAX_FAILURES=1000 MEDCONNECT_ADDRESS_MAX_FAILURES=100000

pids=()
# The database is dropped at the end (KEEP_DB=1 keeps it): a run leaves millions of audit
# rows, 1-2 GB, and a few runs filled this machine's disk.
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ "${KEEP_DB:-0}" = 1 ] || "$bin/psql" "$MEDCONNECT_PG_URL" -qc "drop database if exists $db with (force)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# start_server PORT: runs an instance on PORT, prints its pid.
start_server() {
    MEDCONNECT_BIND="127.0.0.1:$1" "$MEDCONNECT_BIN" serve >"/tmp/medconnect-load-$1.log" 2>&1 &
    local pid=$!
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$1/ready" >/dev/null 2>&1 && { echo "$pid"; return 0; }
        sleep 0.2
    done
    cat "/tmp/medconnect-load-$1.log" >&2
    return 1
}

A=18201; B=18202; BARE=18999
pid_a=$(start_server $A); pids+=("$pid_a")
pid_b=$(start_server $B); pids+=("$pid_b")
"$BARE_BIN" "127.0.0.1:$BARE" & pids+=("$!")
sleep 0.5

# Seed: an administrator, a doctor with a patient in care (20 entries), a doctor without.
run="$(date +%s)"
echo "load-admin-passphrase-$run" | "$MEDCONNECT_BIN" create-admin --email "admin-$run@example.org" >/dev/null 2>&1
api() { curl -sS --fail-with-body -H 'content-type: application/json' "$@"; }
login() { api "http://127.0.0.1:$A/login" -d "{\"email\":\"$1\",\"password\":\"$2\"}" | jq -r .access_token; }
ADMIN=$(login "admin-$run@example.org" "load-admin-passphrase-$run")
for who in in-care stranger; do
    api "http://127.0.0.1:$A/doctors" -H "authorization: Bearer $ADMIN" -d "{\"email\":\"dr-$who-$run@example.org\",\"password\":\"load doctor passphrase\",\"given_name\":\"Load\",\"family_name\":\"$who\",\"specialty\":\"cardiology\",\"licence_number\":\"LOAD-$who-$run\"}" >/dev/null
done
DOCTOR=$(login "dr-in-care-$run@example.org" "load doctor passphrase")
STRANGER=$(login "dr-stranger-$run@example.org" "load doctor passphrase")
PATIENT=$(api "http://127.0.0.1:$A/patients" -H "authorization: Bearer $DOCTOR" -d '{"given_name":"Ada","family_name":"Lovelace","date_of_birth":"1960-01-01","sex":"female"}' | jq -r .id)
ENTRY="{\"patient_id\":\"$PATIENT\",\"entry\":{\"kind\":\"observation\",\"code\":\"8480-6\",\"value\":128,\"unit\":\"mm[Hg]\"}}"
for _ in $(seq 1 20); do api "http://127.0.0.1:$A/medical_data" -H "authorization: Bearer $DOCTOR" -d "$ENTRY" >/dev/null; done
LOGIN_BODY="{\"email\":\"dr-in-care-$run@example.org\",\"password\":\"load doctor passphrase\"}"
CHECK='{"drugs":["warfarin","aspirin","ibuprofen","simvastatin","clarithromycin","amlodipine","metformin","paracetamol","omeprazole","amiodarone"]}'
# The check's answer size: the bare handler answers as many bytes in the bare-same-size row.
CHECK_BYTES=$(api "http://127.0.0.1:$A/interactions/check" -H "authorization: Bearer $DOCTOR" -d "$CHECK" | wc -c)

# wrk_one PORT PATH CONNS [VAR=value...]: one wrk run; prints its RESULT line.
wrk_one() {
    local port=$1 path=$2 conns=$3; shift 3
    local threads=$((conns < 2 ? 1 : 2))
    env "$@" wrk -t"$threads" -c"$conns" -d"${DURATION}s" --timeout 10s -s benches/load/request.lua "http://127.0.0.1:$port$path" \
        | tee -a "$WRK_LOG" | grep '^RESULT'
}
WRK_LOG="/tmp/medconnect-load-wrk-$LABEL.log"
: >"$WRK_LOG"
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }

# idle_jiffies: the machine's idle CPU time so far (all CPUs), from /proc/stat.
idle_jiffies() { awk '/^cpu / { print $5 + $6 }' /proc/stat; }
total_jiffies() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t }' /proc/stat; }

# lock_waiters SECONDS: samples, twice a second, how many PostgreSQL sessions wait on a lock;
# prints the mean.
lock_waiters() {
    local n=$(( $1 * 2 )) sum=0
    for _ in $(seq 1 "$n"); do
        sum=$((sum + $("$bin/psql" "$MEDCONNECT_PG_URL" -tAc "select count(*) from pg_stat_activity where wait_event_type = 'Lock'")))
        sleep 0.5
    done
    awk -v s="$sum" -v n="$n" 'BEGIN { printf "%.1f", s / n }'
}

# scenario NAME INSTANCES PATH [VAR=value...]: runs ROUNDS rounds, each after a round of
# the bare handler; prints the round with the median ratio to its bare round:
# "name rps p50 p99 c500 c503 c429 idle% ratio bare_rps" (idle%: the machine's CPU left idle
# during the round).
scenario() {
    local name=$1 instances=$2 path=$3; shift 3
    local rounds=() bare_round=""
    for _ in $(seq 1 "$ROUNDS"); do
        [ "$name" = bare ] || bare_round=$(DURATION=$BARE_DURATION wrk_one $BARE / "$CONNS" | field rps)
        local idle0 total0
        idle0=$(idle_jiffies); total0=$(total_jiffies)
        if [ "$instances" = 2 ]; then
            local half=$((CONNS / 2))
            wrk_one $A "$path" $half "$@" >/tmp/load-a &
            local wa=$!
            wrk_one $B "$path" $half "$@" >/tmp/load-b
            wait $wa
            local ra rb
            ra=$(cat /tmp/load-a); rb=$(cat /tmp/load-b)
            rounds+=("$(awk -v a="$ra" -v b="$rb" 'BEGIN {
                split(a, x, /[ =]/); split(b, y, /[ =]/);
                printf "%.1f %.2f %.2f %d %d %d\n", x[3] + y[3], (x[5] > y[5] ? x[5] : y[5]), (x[7] > y[7] ? x[7] : y[7]), x[15] + y[15], x[17] + y[17], x[13] + y[13] }')")
        else
            local r
            r=$(wrk_one "$instances" "$path" "$CONNS" "$@")
            rounds+=("$(echo "$r" | field rps) $(echo "$r" | field p50_ms) $(echo "$r" | field p99_ms) $(echo "$r" | field c500) $(echo "$r" | field c503) $(echo "$r" | field c429)")
        fi
        local idle_pct
        idle_pct=$(awk -v i=$(( $(idle_jiffies) - idle0 )) -v t=$(( $(total_jiffies) - total0 )) 'BEGIN { printf "%.0f", 100 * i / t }')
        rounds[-1]="$(echo "${rounds[-1]} $idle_pct" | awk -v bare="${bare_round:-}" '{
            b = (bare == "" ? $1 : bare); printf "%s %.4f %.1f\n", $0, $1 / b, b }')"
    done
    printf '%s\n' "${rounds[@]}" | sort -g -k8 | sed -n "$(((ROUNDS + 1) / 2))p" | sed "s/^/$name /"
}

results=()
say "bare poem handler"
results+=("$(scenario bare $BARE /)")
results+=("$(scenario health $A /health)")
(sleep $((BARE_DURATION + 2)); lock_waiters $((DURATION - 4)) >/tmp/load-lock-waiters) &
waiters=$!
results+=("$(scenario patient-1 $A "/patients/$PATIENT" TOKEN="$DOCTOR")")
wait $waiters
results+=("$(scenario patient-2 2 "/patients/$PATIENT" TOKEN="$DOCTOR")")
results+=("$(scenario records-1 $A "/medical_data/$PATIENT?limit=20" TOKEN="$DOCTOR")")
results+=("$(scenario records-2 2 "/medical_data/$PATIENT?limit=20" TOKEN="$DOCTOR")")
results+=("$(scenario add-entry-1 $A /medical_data TOKEN="$DOCTOR" METHOD=POST BODY="$ENTRY")")
results+=("$(scenario add-entry-2 2 /medical_data TOKEN="$DOCTOR" METHOD=POST BODY="$ENTRY")")

results+=("$(scenario bare-same-size $BARE "/bytes/$CHECK_BYTES" METHOD=POST BODY="$CHECK")")
results+=("$(scenario interactions-1 $A /interactions/check TOKEN="$DOCTOR" METHOD=POST BODY="$CHECK")")
results+=("$(scenario interactions-2 2 /interactions/check TOKEN="$DOCTOR" METHOD=POST BODY="$CHECK")")
# Another list each request: the check's own cost, without the answers it keeps.
results+=("$(scenario interactions-varied-1 $A /interactions/check TOKEN="$DOCTOR" METHOD=POST BODY="$CHECK" VARY_DRUGS=1)")

say "reads while 20 sign-ins per second run beside them"
signins_log=$(mktemp)
# Two connections, each pausing 70 ms after an answer that takes about 30 ms: about 20/s.
(DURATION=$(((DURATION + BARE_DURATION) * ROUNDS + 2)) wrk_one $B /login 2 METHOD=POST BODY="$LOGIN_BODY" PACE_MS=70 >"$signins_log" 2>/dev/null) &
signins=$!
sleep 1
results+=("$(scenario patient-1-with-sign-ins $A "/patients/$PATIENT" TOKEN="$DOCTOR")")
wait $signins
signed_in=$(cat "$signins_log")

say "reads while 50 refused requests per second arrive"
refusals_log=$(mktemp)
(DURATION=$(((DURATION + BARE_DURATION) * ROUNDS + 2)) wrk_one $A "/patients/$PATIENT" 1 TOKEN="$STRANGER" PACE_MS=20 >"$refusals_log" 2>/dev/null) &
refusals=$!
sleep 1
results+=("$(scenario patient-1-with-refusals $A "/patients/$PATIENT" TOKEN="$DOCTOR")")
wait $refusals
refused=$(cat "$refusals_log")

say "sign-in load"
results+=("$(scenario login-1 $A /login METHOD=POST BODY="$LOGIN_BODY")")
rss_a=$(awk '/VmHWM/ { print $2 }' "/proc/$pid_a/status")
rss_b=$(awk '/VmHWM/ { print $2 }' "/proc/$pid_b/status")

echo
echo "Load run '$LABEL' $(date -u +%Y-%m-%dT%H:%MZ): $CONNS connections, ${DURATION}s x $ROUNDS rounds (the median ratio), each after ${BARE_DURATION}s of the bare handler, pool $POOL, database over ${DB_TRANSPORT:-socket}, cache ${CACHE:-redis}, $(nproc) CPUs"
echo
echo "| scenario | req/s | × bare | bare just before, req/s | p50 ms | p99 ms | 500s | 503s | 429s | CPU idle |"
echo "|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${results[@]}" | awk '{ printf "| %s | %.0f | %.3f | %.0f | %s | %s | %s | %s | %s | %s %% |\n", $1, $2, $9, $10, $3, $4, $5, $6, $7, $8 }'
echo
echo "Sign-ins alongside patient-1-with-sign-ins: $(echo "$signed_in" | field rps) per second, $(echo "$signed_in" | field ok) signed in, 503 $(echo "$signed_in" | field c503)"
echo "Refused requests alongside patient-1-with-refusals: $(echo "$refused" | field rps) req/s, 4xx $(echo "$refused" | field c4xx), 500 $(echo "$refused" | field c500), 503 $(echo "$refused" | field c503)"
echo "bare-same-size: the bare handler answering $CHECK_BYTES bytes, the size of the interaction check's answer"
echo "Peak RSS through the whole run: instance A $((rss_a / 1024)) MiB, instance B $((rss_b / 1024)) MiB"
echo "PostgreSQL sessions waiting on a lock during patient-1 (mean of samples twice a second, first round): $(cat /tmp/load-lock-waiters)"
