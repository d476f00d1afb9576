#!/usr/bin/env bash
# The project's test command (README, CI): formatting, lints, Rust unit and integration tests,
# then the official OpenAI Python SDK driving the real binaries against the mock provider, then
# the web console in a real browser (Debian's chromium, installed when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "PostgreSQL at 127.0.0.1:5432 (the request log's store tests)"
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    # Started the way the machine starts it (see the env notes); a running one is left alone.
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
    for _ in $(seq 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
fi
pg_isready -h 127.0.0.1 -p 5432

step "Redis at 127.0.0.1:6379 (the limits' and the cache's shared store tests)"
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    # Started the way the machine starts it (see the env notes); a running one is left alone.
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log
    for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.2; done
fi
redis-cli -h 127.0.0.1 -p 6379 ping

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy (warnings denied)"
cargo clippy --workspace --all-targets --locked -- -D warnings
step "cargo test"
cargo test --workspace --locked
step "build the binaries the SDK tests drive"
cargo build --workspace --locked --bins
step "SDK tests (official openai Python SDK)"
SWITCHYARD_BIN="$PWD/target/debug/switchyard" \
SWITCHYARD_MOCK_BIN="$PWD/target/debug/switchyard-mock" \
  scripts/sdk-tests.sh
step "browser tests (the console in Debian's chromium, Playwright)"
SWITCHYARD_BIN="$PWD/target/debug/switchyard" \
SWITCHYARD_MOCK_BIN="$PWD/target/debug/switchyard-mock" \
  scripts/browser-tests.sh
