#!/usr/bin/env bash
# tests/api/run.sh - the API test tier.
#
# Starts one ovmmd on a temporary data directory (loopback, random port)
# with diagnostic jobs on, a 2 s lock timeout and 2 job workers (jobs.t
# depends on these), waits until it is RUNNING, adds an operator and a
# read-only user with `ovmmd user add`, runs build/tests/apitest over
# tests/api/*.t, stops the daemon with SIGTERM and checks that it exited 0;
# then runs tests/api/lifecycle.sh. For the import tests (84-vdisks.t,
# 85-imports.t) it generates fixtures (tests/api/fixtures.sh) and serves
# them with build/tests/fixtured on 127.0.0.1, a random port, passing its
# URL to apitest as ${FIXTURE} (environment APITEST_VAR_FIXTURE); the
# daemon runs with import_allow=127.0.0.1/32, import_max_size=16 MiB and
# import_timeout=8 s, which those files rely on. Output is TAP (each part numbers its
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
FIXTURED=${FIXTURED:-$BUILD/tests/fixtured}
WAIT_S=${WAIT_S:-30}

n=0
failed=0
api_rc=0
PID=
DIR=
FPID=

# shellcheck source=tests/api/tap.sh
. tests/api/tap.sh   # the cd above makes this path right

cleanup() {
    if [ -n "$FPID" ] && kill -0 "$FPID" 2>/dev/null; then
        kill -TERM "$FPID" 2>/dev/null
        wait "$FPID" 2>/dev/null
    fi
    FPID=
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
    [ -x "$FIXTURED" ] || missing="$missing $FIXTURED"
    if [ -n "$missing" ]; then
        tap fail "API tier: binaries built" "missing:$missing (run make all)"
        return
    fi

    DIR=$(mktemp -d "${TMPDIR:-/tmp}/ovmm-api.XXXXXX") || {
        tap fail "API tier: temporary directory"
        return
    }
    # A second simulated NFS server for 86-pool-fs.t (hv.h, "SIMULATED
    # STORAGE"): its exports are the directories under exports/.
    mkdir -p "$DIR/sim/nfs/nfs-pool/exports/pool1" \
        "$DIR/sim/nfs/nfs-pool/exports/pool2"
    "$OVMMD" --foreground --data-dir "$DIR" --listen 127.0.0.1:0 \
        --set job_diagnostics=true --set job_lock_timeout=2 \
        --set job_workers=2 --set import_allow=127.0.0.1/32 \
        --set import_max_size=16777216 --set import_timeout=8 \
        --simulate 3 >"$DIR/stdout" 2>"$DIR/stderr" &
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

    # The fixture server of the import tests: files generated here, its
    # /stat view on the daemon's data directory.
    local fport= err2
    if ! err2=$(bash tests/api/fixtures.sh "$DIR/fixtures" 2>&1); then
        tap fail "import fixtures generated" "$err2"
        return
    fi
    "$FIXTURED" --root "$DIR/fixtures" --data "$DIR" \
        --port-file "$DIR/fixtured.port" 2>"$DIR/fixtured.stderr" &
    FPID=$!
    for i in $(seq 1 $((WAIT_S * 10))); do
        [ -s "$DIR/fixtured.port" ] && fport=$(head -n 1 "$DIR/fixtured.port")
        [ -n "$fport" ] && break
        kill -0 "$FPID" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$fport" ]; then
        tap fail "fixtured starts and writes its port" \
            "$(cat "$DIR/fixtured.stderr" 2>/dev/null)"
        return
    fi
    tap ok "fixtured serves the import fixtures"
    export APITEST_VAR_FIXTURE="http://127.0.0.1:$fport"
    export APITEST_VAR_FIXTURE_PORT="$fport"

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
