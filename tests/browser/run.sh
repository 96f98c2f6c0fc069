#!/usr/bin/env bash
# tests/browser/run.sh - the browser tier: a real ovmmd on a random
# loopback port and the console in headless Chromium (playwright-core
# from npm, Debian's chromium). Prints TAP.
# Env: BUILD (default build), OVMMD (default $BUILD/ovmmd).
set -u
cd "$(dirname "$0")/../.." || exit 2
BUILD=${BUILD:-build}
OVMMD=${OVMMD:-$BUILD/ovmmd}
WAIT_S=30

if [ ! -d tests/browser/node_modules/playwright-core ]; then
    (cd tests/browser && npm ci --no-audit --no-fund --silent) ||
        { echo "not ok 1 - browser: npm ci of playwright-core"; exit 1; }
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/ovmm-browser.XXXXXX") || exit 2
PID=
finish() {
    # Only the daemon this script started, by its PID.
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID"
        wait "$PID" 2>/dev/null
    fi
    rm -rf "$T"
}
trap finish EXIT

"$OVMMD" --foreground --data-dir "$T/data" --listen 127.0.0.1:0 \
    --set job_diagnostics=true \
    >"$T/out" 2>"$T/err" &
PID=$!
for _ in $(seq 1 $((WAIT_S * 10))); do
    [ -s "$T/data/ovmmd.port" ] && grep -q "is RUNNING" "$T/out" && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
done
if ! grep -q "is RUNNING" "$T/out"; then
    echo "not ok 1 - browser: ovmmd reaches RUNNING"
    sed 's/^/#   /' "$T/err" | tail -5
    exit 1
fi
OVMM_URL="https://127.0.0.1:$(head -n 1 "$T/data/ovmmd.port")" \
OVMM_PASSWORD="$(head -n 1 "$T/data/admin-password")" \
    node tests/browser/console.test.mjs
