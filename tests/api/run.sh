#!/usr/bin/env bash
# tests/api/run.sh - the API test tier.
#
# Starts one ovmmd on a temporary data directory (loopback, random port)
# with diagnostic jobs on, a 2 s lock timeout and 2 job workers (jobs.t
# depends on these), waits until it is RUNNING, adds an operator and a
# read-only user with `ovmmd user add`, runs build/tests/apitest over
# tests/api/*.t, stops the daemon with SIGTERM and checks that it exited 0;
# then runs tests/api/lifecycle.sh. Output is TAP (each part numbers its
# own tests). tests/api/jobs.sh (job load, crashes, streaming) is separate:
# tests/run.sh runs it after this script.
#
# Environment: BUILD (default build), OVMMD (default $BUILD/ovmmd), APITEST
# (default $BUILD/tests/apitest), KEEP=1 keeps the temporary directory,
# APITEST_ARGS adds options (e.g. --verbose). Arguments, if any, are the .t
# files to run (default tests/api/*.t); LIFECYCLE=0 skips lifecycle.sh.
set -u

cd "$(dirname "$0")/../.." || exit 2
BUILD=${BUILD:-build}
OVMMD=${OVMMD:-$BUILD/ovmmd}
APITEST=${APITEST:-$BUILD/tests/apitest}
WAIT_S=${WAIT_S:-30}

n=0
failed=0
api_rc=0
PID=
DIR=

# shellcheck source=tests/api/tap.sh
. tests/api/tap.sh   # the cd above makes this path right

cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID" 2>/dev/null
        local i
        for i in $(seq 1 100); do
            kill -0 "$PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$PID" 2>/dev/null && kill -KILL "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
    fi
    PID=
    if [ -n "$DIR" ] && [ "${KEEP:-0}" != 1 ]; then
        rm -rf "$DIR"
    elif [ -n "$DIR" ]; then
        echo "# kept $DIR"
    fi
    DIR=
}
trap cleanup EXIT
trap 'exit 130' INT TERM

daemon_log() { # the daemon's stdout/stderr tail, for diagnostics
    tail -n 20 "$DIR/stdout" "$DIR/stderr" "$DIR/logs/ovmmd.log" 2>/dev/null
}

run_api() {
    local missing=
    [ -x "$OVMMD" ] || missing="$missing $OVMMD"
    [ -x "$APITEST" ] || missing="$missing $APITEST"
    if [ -n "$missing" ]; then
        tap fail "API tier: binaries built" "missing:$missing (run make all)"
        return
    fi

    DIR=$(mktemp -d "${TMPDIR:-/tmp}/ovmm-api.XXXXXX") || {
        tap fail "API tier: temporary directory"
        return
    }
    "$OVMMD" --foreground --data-dir "$DIR" --listen 127.0.0.1:0 \
        --set job_diagnostics=true --set job_lock_timeout=2 \
        --set job_workers=2 --simulate 3 >"$DIR/stdout" 2>"$DIR/stderr" &
    PID=$!

    # Bounded wait for the port file (the daemon writes it once listening).
    local i port=
    for i in $(seq 1 $((WAIT_S * 10))); do
        if [ -s "$DIR/ovmmd.port" ]; then
            port=$(head -n 1 "$DIR/ovmmd.port")
            case $port in *[!0-9]* | '') port= ;; *) break ;; esac
        fi
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$port" ]; then
        tap fail "ovmmd starts and writes ovmmd.port within ${WAIT_S}s" \
            "$(daemon_log)"
        return
    fi
    tap ok "ovmmd starts and writes ovmmd.port"

    local pw=
    [ -s "$DIR/admin-password" ] && pw=$(head -n 1 "$DIR/admin-password")
    if [ -z "$pw" ]; then
        tap fail "first start writes admin-password" "$(daemon_log)"
        return
    fi

    local base="https://127.0.0.1:$port/ovm/core/wsapi/rest" out=
    for i in $(seq 1 $((WAIT_S * 10))); do
        out=$(curl -sS --max-time 5 --cacert "$DIR/tls/server.crt" \
            -u "admin:$pw" "$base/Manager" 2>&1)
        if printf '%s' "$out" | grep -Eq '"managerRunState" *: *"RUNNING"'; then
            break
        fi
        out="not RUNNING: $out"
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
    done
    case $out in
    "not RUNNING"*)
        tap fail "GET /Manager shows RUNNING within ${WAIT_S}s" "$out" \
            "$(daemon_log)"
        return
        ;;
    esac
    tap ok "GET /Manager shows RUNNING"

    # Users for the role tests; the passwords are per run.
    local oppw="Op-Passw0rd-$$-$RANDOM" ropw="Ro-Passw0rd-$$-$RANDOM" err
    if err=$(printf '%s\n' "$oppw" |
        "$OVMMD" user add op --role operator --data-dir "$DIR" 2>&1) &&
        err=$(printf '%s\n' "$ropw" |
            "$OVMMD" user add ro --role read-only --data-dir "$DIR" 2>&1); then
        tap ok "ovmmd user add op and ro while the daemon runs"
    else
        tap fail "ovmmd user add op and ro while the daemon runs" "$err"
        return
    fi

    local files=("$@")
    [ ${#files[@]} -gt 0 ] || files=(tests/api/*.t)
    # shellcheck disable=SC2086
    "$APITEST" --base "https://127.0.0.1:$port" \
        --cacert "$DIR/tls/server.crt" \
        --routes schema/api/routes.json --schemas schema/api/objects.json \
        --user "admin:$pw" --user "op:$oppw" --user "ro:$ropw" \
        --coverage-out "$BUILD/api-coverage.txt" ${APITEST_ARGS:-} \
        "${files[@]}"
    local rc=$?
    [ "$rc" -eq 0 ] || api_rc=$rc
    if [ "$rc" -ne 0 ]; then
        echo "# apitest exited with status $rc"
        # A crash without a "not ok" line must still count as a failure.
        [ "$rc" -gt 1 ] && tap fail "apitest ran to completion (status $rc)"
    fi

    kill -TERM "$PID" 2>/dev/null
    local st=
    for i in $(seq 1 $((WAIT_S * 10))); do
        if ! kill -0 "$PID" 2>/dev/null; then
            wait "$PID"
            st=$?
            break
        fi
        sleep 0.1
    done
    if [ -z "$st" ]; then
        tap fail "ovmmd stops within ${WAIT_S}s of SIGTERM" "$(daemon_log)"
        return
    fi
    PID=
    if [ "$st" -eq 0 ]; then
        tap ok "ovmmd exits 0 on SIGTERM"
    else
        tap fail "ovmmd exits 0 on SIGTERM" "exit status $st" "$(daemon_log)"
    fi
}

run_api "$@"
cleanup
echo "1..$n"

status=0
[ "$failed" -eq 0 ] && [ "$api_rc" -eq 0 ] || status=1
if [ "${LIFECYCLE:-1}" != 0 ]; then
    bash tests/api/lifecycle.sh || status=1
fi
exit $status
