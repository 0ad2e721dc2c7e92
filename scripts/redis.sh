#!/usr/bin/env bash
# Provisions and starts a private Redis for MedConnect's cache under .local/redis
# (git-ignored), installing Debian's redis-server if missing. Source it (after
# scripts/postgres.sh, for `say`) and call `ensure_redis`: it exports MEDCONNECT_REDIS_URL
# and REDIS_URL if that is not set already.
#
# It listens on 127.0.0.1 only (port MEDCONNECT_REDIS_PORT, default 56379) and keeps
# nothing on disk: the cache holds only what can be lost.

REDIS_PORT="${MEDCONNECT_REDIS_PORT:-56379}"
REDIS_HOME="$MEDCONNECT_ROOT/.local/redis"

install_redis() {
    say "Redis not found: installing the Debian package (redis-server)…"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null 2>&1 || {
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null
    }
    # Debian starts a system Redis; ours is separate, so stop that one.
    $sudo service redis-server stop >/dev/null 2>&1 || true
}

ensure_redis() {
    command -v redis-server >/dev/null 2>&1 || install_redis
    mkdir -p "$REDIS_HOME"
    if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
        say "starting Redis on 127.0.0.1:$REDIS_PORT…"
        redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_HOME" --save "" --appendonly no \
            --daemonize yes --pidfile "$REDIS_HOME/redis.pid" --logfile "$REDIS_HOME/redis.log"
        for _ in $(seq 1 50); do
            redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
            sleep 0.1
        done
        redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 || {
            tail -n 5 "$REDIS_HOME/redis.log" >&2
            say "Redis did not start. If port $REDIS_PORT is taken, set MEDCONNECT_REDIS_PORT."
            return 1
        }
    fi
    export MEDCONNECT_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
    export REDIS_URL="${REDIS_URL:-$MEDCONNECT_REDIS_URL}"
}

stop_redis() {
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
}
