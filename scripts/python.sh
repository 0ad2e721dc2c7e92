#!/usr/bin/env bash
# Python for the contract checks: a project-local virtual environment (.venv, git-ignored)
# with the pinned tools of scripts/requirements-contract.txt, and Debian's Chromium and
# ChromeDriver for the browser test (no browser is ever downloaded at run time).
# Source it and call `ensure_venv` and `ensure_chromium`.

# ensure_requirements FILE WHAT: .venv exists and holds FILE's pinned packages (reinstalled
# only when FILE changes).
ensure_requirements() {
    local file=$1 what=$2 stamp sum
    stamp=".venv/.$(basename "$file" .txt).sha256"
    sum="$(sha256sum "$file" | cut -d' ' -f1)"
    if [ ! -x .venv/bin/python ]; then
        say "creating the Python virtual environment .venv"
        python3 -m venv .venv
    fi
    if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
        say "installing $what into .venv ($file)"
        .venv/bin/pip install -q --upgrade pip
        .venv/bin/pip install -q -r "$file"
        echo "$sum" >"$stamp"
    fi
}

# The contract checks' tools.
ensure_venv() {
    ensure_requirements scripts/requirements-contract.txt "the contract tools"
}

# The Python bindings' tools, in the same .venv.
ensure_py_tools() {
    ensure_requirements scripts/requirements-py.txt "the Python bindings' tools"
}

# Builds the bindings' abi3 wheel with maturin (PROFILE: dev by default, which shares the
# test build's dependencies; release for benchmarks) and installs it into .venv.
install_wheel() {
    local profile="${1:-dev}"
    ensure_py_tools
    rm -f target/wheels/medconnect-*.whl
    .venv/bin/maturin build -q -m medconnect-py/Cargo.toml --profile "$profile" -o target/wheels
    .venv/bin/pip install -q --force-reinstall --no-deps target/wheels/medconnect-*.whl
}

ensure_chromium() {
    if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
        return 0
    fi
    say "installing Debian's chromium and chromium-driver for the browser test"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 || {
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
    }
}
