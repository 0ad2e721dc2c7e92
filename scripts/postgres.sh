#!/usr/bin/env bash
# Provisions and starts a private PostgreSQL cluster for MedConnect under .local/pg
# (git-ignored), installing the PostgreSQL server binaries from Debian if missing.
# Source it and call `ensure_postgres`: it exports MEDCONNECT_PG_URL, a TCP URL of the
# cluster's maintenance database, and DATABASE_URL (through the cluster's Unix socket) if
# that is not set already.
#
# The cluster listens on 127.0.0.1 only (port MEDCONNECT_PG_PORT, default 54329)
# and trusts local connections: it is for development and tests on this machine.

set -euo pipefail

MEDCONNECT_ROOT="${MEDCONNECT_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
PG_PORT="${MEDCONNECT_PG_PORT:-54329}"
PG_HOME="$MEDCONNECT_ROOT/.local/pg"
PG_DATA="$PG_HOME/data"
PG_RUN="$PG_HOME/run"
PG_LOG="$PG_HOME/postgres.log"

say() { printf '[medconnect] %s\n' "$*" >&2; }

pg_bindir() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
    done
    command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
    return 1
}

install_postgres() {
    say "PostgreSQL server binaries not found: installing the Debian package (postgresql)…"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
    # Debian starts a system cluster; ours is separate, so stop that one to save memory.
    $sudo service postgresql stop >/dev/null 2>&1 || true
}

# Runs a PostgreSQL binary as the cluster owner: initdb refuses to run as root.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

ensure_postgres() {
    local bin
    bin="$(pg_bindir)" || { install_postgres; bin="$(pg_bindir)"; }
    mkdir -p "$PG_HOME" "$PG_RUN"
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir "$PG_HOME" postgres
        chown postgres "$PG_HOME" "$PG_RUN"
    fi
    if [ ! -f "$PG_DATA/PG_VERSION" ]; then
        say "creating a private PostgreSQL cluster in .local/pg/data…"
        as_owner "$bin/initdb" -D "$PG_DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if as_owner "$bin/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
        # Running already: on the port asked for? (postmaster.pid's fourth line is its port.)
        local running
        running="$(sed -n 4p "$PG_DATA/postmaster.pid" 2>/dev/null || true)"
        if [ -n "$running" ] && [ "$running" != "$PG_PORT" ]; then
            say "the private PostgreSQL cluster is already running on port $running, not $PG_PORT (MEDCONNECT_PG_PORT):"
            say "stop it with ./scripts/run stop, then start again with the new port"
            return 1
        fi
    else
        say "starting PostgreSQL on 127.0.0.1:$PG_PORT…"
        if ! as_owner "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 \
            -o "-p $PG_PORT -k $PG_RUN -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=on" start >/dev/null; then
            tail -n 5 "$PG_LOG" >&2
            say "PostgreSQL did not start. If port $PG_PORT is taken (another checkout's cluster?), set MEDCONNECT_PG_PORT."
            return 1
        fi
    fi
    export MEDCONNECT_PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
    if ! "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "select 1 from pg_database where datname = 'medconnect'" | grep -q 1; then
        "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "create database medconnect" >/dev/null
    fi
    # The server reaches its private cluster through the Unix socket: on one machine it costs
    # far less per query than TCP on loopback (see benches/README.md).
    export DATABASE_URL="${DATABASE_URL:-$(socket_url medconnect)}"
}

# socket_url DATABASE: a URL of a database of the private cluster through its Unix socket.
socket_url() {
    echo "postgres://postgres@localhost/$1?host=$PG_RUN&port=$PG_PORT"
}

stop_postgres() {
    local bin
    bin="$(pg_bindir)" || return 0
    [ -f "$PG_DATA/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$PG_DATA" -m fast stop >/dev/null 2>&1 || true
}
