#!/usr/bin/env bash
# tests/api/jobs.sh - job engine tests that need processes, time or load,
# as TAP. tests/api/jobs.t covers the routes request by request; this file
# covers what a sequence of single requests cannot show:
#
#   parallel  200 diagnostic jobs on disjoint objects with job_workers=16:
#             all SUCCESS, and many ran at the same time
#   serial    jobs exclusive on one object run in submission order, one at
#             a time
#   crash     CRASH_ROUNDS (20) rounds of: a mixed workload, kill -9 of the
#             daemon after a random 0.2-1.5 s, PRAGMA integrity_check,
#             restart, then `jobload verify`: recovery left no job active,
#             no lock, no half-done job, and every job id ever answered
#   restart   kill -9 while a job that touched the Manager sleeps and
#             another waits for it: after the restart the first is FAILURE
#             (RESTARTED) with its touch undone, the second runs
#   longpoll  GET /Job/{id}?wait=N answers when the job ends or after N
#             seconds (capped by job_wait_max), without holding a thread
#   sse       GET /events/stream: a reader killed and resumed with
#             Last-Event-ID receives every feed sequence number exactly once
#   disabled  POST /Job/diagnostic is 404 without job_diagnostics
#
# Each group has its own temporary directory and daemon (loopback, random
# port). Only processes started here are ever signalled, by PID. The load
# and the checks after a crash are build/tests/jobload
# (tests/harness/jobload.c); each of its "ok - X" / "not ok - X" lines
# becomes a TAP test here.
#
# Environment: BUILD (default build), OVMMD (default $BUILD/ovmmd), JOBLOAD
# (default $BUILD/tests/jobload), CRASH_ROUNDS (default 20), KEEP=1 keeps
# the temporary directories, WAIT_S (default 30) bounds every wait.
# Arguments: names of groups to run (default all), e.g. `crash sse`.
set -u

cd "$(dirname "$0")/../.." || exit 2
BUILD=${BUILD:-build}
OVMMD=${OVMMD:-$BUILD/ovmmd}
JOBLOAD=${JOBLOAD:-$BUILD/tests/jobload}
WAIT_S=${WAIT_S:-30}
CRASH_ROUNDS=${CRASH_ROUNDS:-20}
REST=/ovm/core/wsapi/rest

n=0
failed=0
PIDS=()  # every process started here that may still run
DIRS=()  # every temporary directory made here

# shellcheck source=tests/api/tap.sh
. tests/api/tap.sh   # the cd above makes this path right

# check NAME DIAG command...: ok when the command succeeds.
check() {
    local name=$1 diag=$2
    shift 2
    if "$@"; then
        tap ok "$name"
    else
        tap fail "$name" "$diag"
    fi
}

forget() { # forget PID: reaped, so it may be reused by another process
    local p keep=()
    for p in "${PIDS[@]}"; do
        [ "$p" = "$1" ] || keep+=("$p")
    done
    PIDS=("${keep[@]}")
}

# stop_pid PID: SIGTERM a process we started, bounded wait (then SIGKILL),
# reap. Never in a subshell: only this shell can reap its children.
stop_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 $((WAIT_S * 10))); do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid" 2>/dev/null
            forget "$pid"
            return
        fi
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    forget "$pid"
}

cleanup() {
    local p d
    for p in "${PIDS[@]}"; do
        stop_pid "$p"
    done
    PIDS=()
    for d in "${DIRS[@]}"; do
        if [ "${KEEP:-0}" = 1 ]; then echo "# kept $d"; else rm -rf "$d"; fi
    done
    DIRS=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

new_dir() { # a new temporary directory $T with the data directory $D
    T=$(mktemp -d "${TMPDIR:-/tmp}/ovmm-jobs.XXXXXX") || exit 2
    DIRS+=("$T")
    D=$T/data
    mkdir -p "$D"
    STARTS=0
}

# start [ARGS...]: start ovmmd on $D; sets PID, PORT, BASE and waits
# (bounded) for the port file, then for RUNNING. Returns 1 on failure.
start() {
    STARTS=$((STARTS + 1))
    OUT=$T/stdout.$STARTS
    ERR=$T/stderr.$STARTS
    rm -f "$D/ovmmd.port" "$D/ovmmd.http-port"
    "$OVMMD" --foreground --data-dir "$D" --listen 127.0.0.1:0 "$@" \
        >"$OUT" 2>"$ERR" &
    PID=$!
    PIDS+=("$PID")
    PORT=
    local i p
    for i in $(seq 1 $((WAIT_S * 10))); do
        if [ -s "$D/ovmmd.port" ]; then
            p=$(head -n 1 "$D/ovmmd.port")
            case $p in *[!0-9]* | '') ;; *) PORT=$p && break ;; esac
        fi
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
    done
    BASE=https://127.0.0.1:$PORT$REST
    [ -n "$PORT" ] || return 1
    for i in $(seq 1 $((WAIT_S * 10))); do
        req GET /Manager
        [ "$ST" = 200 ] && printf '%s' "$BODY" |
            grep -Eq '"managerRunState" *: *"RUNNING"' && return 0
        kill -0 "$PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

daemon_diag() {
    echo "stdout: $(tail -c 600 "$OUT" 2>/dev/null)"
    echo "stderr: $(tail -c 600 "$ERR" 2>/dev/null)"
    echo "log: $(tail -n 5 "$D/logs/ovmmd.log" 2>/dev/null)"
}

admin_pw() {
    head -n 1 "$D/admin-password" 2>/dev/null
}

# req METHOD PATH [BODY]: as admin; sets ST (status), BODY and SECS (time).
req() {
    local method=$1 path=$2 data=${3-} f=$T/resp out
    local args=(-sS --max-time 60 --cacert "$D/tls/server.crt" -o "$f"
        -w '%{http_code} %{time_total}' -X "$method" -u "admin:$(admin_pw)")
    [ -n "$data" ] && args+=(-H 'Content-Type: application/json' --data "$data")
    rm -f "$f"
    if out=$(curl "${args[@]}" "$BASE$path" 2>"$T/curl.err"); then
        ST=${out% *}
        SECS=${out#* }
    else
        ST="curl-failed:$(cat "$T/curl.err")"
        SECS=0
    fi
    BODY=$(cat "$f" 2>/dev/null)
}

# job_id: the id.value of the Job in $BODY.
job_id() {
    printf '%s' "$BODY" | tr -d '\n' |
        sed -n 's/^{"id" *: *{[^}]*"value" *: *"\([0-9]*\)".*/\1/p'
}

# jfield NAME: the value (a string unquoted) of the last "NAME" member in
# $BODY: for names that occur once, such as jobRunState or done.
jfield() {
    printf '%s' "$BODY" | tr -d '\n' |
        sed -n "s/.*\"$1\" *: *\"\{0,1\}\([^\",}]*\)\"\{0,1\}[,}].*/\1/p" |
        head -n 1
}

# error_type: the error.type of the Job in $BODY.
error_type() {
    printf '%s' "$BODY" | tr -d '\n' |
        sed -n 's/.*"error" *: *{[^}]*"type" *: *"\([^"]*\)".*/\1/p'
}

# diag_job BODY: submit a diagnostic job as admin; JOB is its id.
diag_job() {
    req POST /Job/diagnostic "$1"
    JOB=$(job_id)
    [ "$ST" = 200 ] && [ -n "$JOB" ]
}

# secs_between LOW HIGH: is $SECS (curl's time_total) within [LOW, HIGH]?
secs_between() {
    awk -v s="$SECS" -v lo="$1" -v hi="$2" 'BEGIN { exit !(s >= lo && s <= hi) }'
}

# jl ARGS...: run jobload against $D; each of its "ok - X" and
# "not ok - X" lines becomes a TAP test (its "#   " lines the diagnostics),
# its "# " notes pass through. A jobload that exits non-zero without a
# "not ok" line failed too. JL_OUT keeps the whole output.
jl() {
    local rc line name='' res='' diag=() bad=0
    JL_OUT=$("$JOBLOAD" --data "$D" "$@" 2>&1)
    rc=$?
    flush() {
        [ -n "$name" ] && tap "$res" "$name" "${diag[@]}"
        name=
        diag=()
    }
    while IFS= read -r line; do
        case $line in
        "ok - "*) flush; res=ok; name=${line#ok - } ;;
        "not ok - "*) flush; res=fail; bad=1; name=${line#not ok - } ;;
        "#   "*) diag+=("${line#\#   }") ;;
        *) flush; echo "$line" ;;
        esac
    done <<<"$JL_OUT"
    flush
    unset -f flush
    if [ "$rc" -ne 0 ] && [ "$bad" = 0 ]; then
        tap fail "jobload $1 ran (exit status $rc)" "$JL_OUT"
    fi
    return "$rc"
}

# ---- test groups ---------------------------------------------------------

t_parallel() {
    new_dir
    if ! start --set job_diagnostics=true --set job_workers=16 \
        --set job_lock_timeout=60; then
        tap fail "parallel: daemon reaches RUNNING" "$(daemon_diag)"
        return
    fi
    # 200 jobs of 300 ms on 16 workers: serialized they would take 60 s.
    jl parallel 200 4 300
}

t_serial() {
    new_dir
    if ! start --set job_diagnostics=true --set job_workers=16 \
        --set job_lock_timeout=60; then
        tap fail "serial: daemon reaches RUNNING" "$(daemon_diag)"
        return
    fi
    jl serial 30 20
}

# One round of the crash test: the daemon runs; verify what the previous
# crash left (round > 1), run the workload, kill -9 the daemon after a
# random 0.2-1.5 s, check the database file, restart.
t_crash() {
    new_dir
    local ids=$T/ids round wl ms integ before after verified=0 waited
    local opts=(--set job_diagnostics=true --set job_workers=8
        --set job_lock_timeout=2)
    local restart_fail='' integ_fail='' verify_fail='' quiet_rounds=''
    : >"$ids"
    if ! start "${opts[@]}"; then
        tap fail "crash: daemon reaches RUNNING" "$(daemon_diag)"
        return
    fi
    # A second user, so that user updates and touches have a target that
    # is not the administrator.
    printf 'Crash-Passw0rd-1\n' |
        "$OVMMD" user add crashuser --role operator --data-dir "$D" \
            >/dev/null 2>&1
    for round in $(seq 1 "$CRASH_ROUNDS"); do
        if [ "$round" -gt 1 ]; then
            if ! jl_round verify "$ids" 60; then
                [ -n "$verify_fail" ] || verify_fail="round $round: $JL_FAILS"
            fi
            verified=$((verified + 1))
        fi
        before=$(wc -l <"$ids")
        "$JOBLOAD" --data "$D" workload 30 "$ids" >"$T/workload.$round" 2>&1 &
        wl=$!
        PIDS+=("$wl")
        ms=$((200 + RANDOM % 1301))
        sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
        # A slow build (SANITIZE=1) may not have answered a job yet: the
        # kill must land in the middle of work, so wait (up to 10 s) for
        # the first answer of this round.
        waited=0
        while [ "$(wc -l <"$ids")" -le "$before" ] && [ "$waited" -lt 100 ]; do
            sleep 0.1
            waited=$((waited + 1))
        done
        kill -KILL "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
        forget "$PID"
        stop_pid "$wl"
        after=$(wc -l <"$ids")
        [ "$after" -gt "$before" ] ||
            quiet_rounds="$quiet_rounds $round(${ms}ms)"
        integ=$(sqlite3 "$D/ovmm.db" 'PRAGMA integrity_check' 2>&1)
        if [ "$integ" != ok ] && [ -z "$integ_fail" ]; then
            integ_fail="round $round (killed after ${ms} ms): $integ"
        fi
        if ! start "${opts[@]}"; then
            restart_fail="round $round (killed after ${ms} ms): $(daemon_diag)"
            break
        fi
    done
    check "crash: ovmmd restarts after each of $CRASH_ROUNDS kill -9" \
        "$restart_fail" test -z "$restart_fail"
    check "crash: PRAGMA integrity_check is ok after every kill -9" \
        "$integ_fail" test -z "$integ_fail"
    check "crash: the workload had jobs answered before every kill" \
        "rounds without a job:$quiet_rounds" test -z "$quiet_rounds"
    echo "# crash: $(sort -u "$ids" | wc -l) job ids answered over $round rounds"
    if [ -z "$restart_fail" ]; then
        # The last restart: report every check of the final verify.
        jl verify "$ids" 60
        verified=$((verified + 1))
    fi
    check "crash: jobload verify passed after every earlier restart" \
        "$verify_fail" test -z "$verify_fail"
    echo "# crash: verified $verified restarts"
}

# jl_round ARGS...: jobload quietly; JL_FAILS lists the failed checks with
# their first diagnostics. Non-zero when anything failed.
jl_round() {
    local rc
    JL_OUT=$("$JOBLOAD" --data "$D" "$@" 2>&1)
    rc=$?
    JL_FAILS=$(printf '%s\n' "$JL_OUT" | grep -A 4 '^not ok - ')
    [ "$rc" -eq 0 ] || [ -n "$JL_FAILS" ] || JL_FAILS="exit $rc: $JL_OUT"
    return "$rc"
}

# The deterministic companion of the crash rounds: one job RUNNING (a
# touch done, a long sleep) and one CREATED behind it when kill -9 comes.
t_restart() {
    new_dir
    local opts=(--set job_diagnostics=true --set job_lock_timeout=60)
    local mgr desc0 j1 j2 i ok=no
    if ! start "${opts[@]}"; then
        tap fail "restart: daemon reaches RUNNING" "$(daemon_diag)"
        return
    fi
    req GET /Manager
    mgr=$(printf '%s' "$BODY" | sed -n 's/^\[{"id" *: *{[^}]*"value" *: *"\([^"]*\)".*/\1/p')
    req GET "/Manager/$mgr"
    desc0=$(jfield description)
    diag_job "{\"objects\": [{\"id\": \"$mgr\"}], \"operations\": [{\"op\": \"touch\", \"id\": \"$mgr\"}, {\"op\": \"sleep\", \"ms\": 60000}]}" ||
        { tap fail "restart: submit the touching job" "$ST $BODY"; return; }
    j1=$JOB
    diag_job "{\"objects\": [{\"id\": \"$mgr\"}], \"operations\": [{\"op\": \"sleep\", \"ms\": 10}]}" ||
        { tap fail "restart: submit the waiting job" "$ST $BODY"; return; }
    j2=$JOB
    for i in $(seq 1 50); do
        req GET "/Manager/$mgr"
        [ "$(jfield description)" = "touched by job $j1" ] && ok=yes && break
        sleep 0.1
    done
    check "restart: the first job touched the Manager and sleeps" \
        "description '$(jfield description)'" test "$ok" = yes
    kill -KILL "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
    forget "$PID"
    if ! start "${opts[@]}"; then
        tap fail "restart: ovmmd restarts after kill -9" "$(daemon_diag)"
        return
    fi
    req GET "/Job/$j1"
    check "restart: the running job ended FAILURE, RESTARTED" \
        "status $ST, $BODY" \
        sh -c '[ "$1" = FAILURE ] && [ "$2" = RESTARTED ] &&
               printf "%s" "$3" | grep -q "manager restarted"' sh \
        "$(jfield jobRunState)" "$(error_type)" "$BODY"
    req GET "/Job/$j1/transcript"
    check "restart: its touch is UNDONE, its sleep FAILED" "$BODY" \
        sh -c 'printf "%s" "$1" | tr -d "\n" | grep -Eq \
            "\"seq\": *0,[^}]*\"state\": *\"UNDONE\".*\"seq\": *1,[^}]*\"state\": *\"FAILED\""' \
        sh "$BODY"
    req GET "/Manager/$mgr"
    check "restart: the Manager's description is back as it was" \
        "'$(jfield description)', was '$desc0'" \
        test "$(jfield description)" = "$desc0"
    req GET "/Job/$j2?wait=10"
    check "restart: the job still CREATED at the crash ran after the restart" \
        "status $ST, $BODY" test "$(jfield jobRunState)" = SUCCESS
    req GET /Lock
    check "restart: no lock is left" "status $ST, $BODY" \
        sh -c '[ "$1" = 200 ] && [ "$2" = "[]" ]' sh "$ST" "$BODY"
    req GET "/Manager/$mgr"
    check "restart: the Manager is not locked" "$BODY" \
        test "$(jfield locked)" = false
}

t_longpoll() {
    new_dir
    if ! start --set job_diagnostics=true --set job_wait_max=5; then
        tap fail "longpoll: daemon reaches RUNNING" "$(daemon_diag)"
        return
    fi
    local long i pids=() slow=
    # A job that ends after about a second: ?wait=30 answers when it ends.
    diag_job '{"operations": [{"op": "sleep", "ms": 1000}]}' ||
        { tap fail "longpoll: submit a 1 s job" "$ST $BODY"; return; }
    req GET "/Job/$JOB?wait=5"
    check "longpoll: ?wait=5 on a 1 s job answers with it done" \
        "status $ST, $BODY" \
        sh -c '[ "$1" = 200 ] && [ "$2" = true ] && [ "$3" = SUCCESS ]' sh \
        "$ST" "$(jfield "done")" "$(jfield jobRunState)"
    check "longpoll: ... when it ends, not at once nor at the timeout" \
        "answered after $SECS s" secs_between 0.5 5
    # A job of a minute: ?wait=1 answers after a second, not done.
    diag_job '{"operations": [{"op": "sleep", "ms": 60000}]}' ||
        { tap fail "longpoll: submit a long job" "$ST $BODY"; return; }
    long=$JOB
    req GET "/Job/$long?wait=1"
    check "longpoll: ?wait=1 on a long job answers with it not done" \
        "status $ST, $BODY" \
        sh -c '[ "$1" = 200 ] && [ "$2" = false ]' sh "$ST" "$(jfield "done")"
    check "longpoll: ... after about one second" "answered after $SECS s" \
        secs_between 0.9 3
    # A wait past job_wait_max (5) is refused at once or cut to it (the
    # route says "at most job_wait_max"; CONFIG.md "may ask for").
    req GET "/Job/$long?wait=30"
    check "longpoll: ?wait=30 past job_wait_max=5 is refused or capped" \
        "status $ST after $SECS s, $BODY" \
        sh -c '[ "$1" = 400 ] && [ "$2" = INVALID_INPUT ] ||
               { [ "$1" = 200 ] && [ "$3" = false ] &&
                 awk -v s="$4" "BEGIN { exit !(s >= 4.8 && s <= 8) }"; }' sh \
        "$ST" "$(jfield errorCode)" "$(jfield "done")" "$SECS"
    # Waiting clients hold no server thread: 40 long-polls at once, and a
    # plain request still answers at once.
    for i in $(seq 1 40); do
        curl -sS --max-time 20 --cacert "$D/tls/server.crt" \
            -u "admin:$(admin_pw)" -o /dev/null "$BASE/Job/$long?wait=3" \
            2>/dev/null &
        pids+=($!)
    done
    sleep 0.5
    req GET /Manager
    check "longpoll: 40 waiting long-polls leave the server responsive" \
        "GET /Manager: status $ST after $SECS s" \
        sh -c '[ "$1" = 200 ] && awk -v s="$2" "BEGIN { exit !(s < 1) }"' sh \
        "$ST" "$SECS"
    # Abort wakes the waiters: ?wait answers as soon as the job ends.
    ( sleep 0.5 && curl -sS --max-time 20 --cacert "$D/tls/server.crt" \
        -u "admin:$(admin_pw)" -X PUT -o /dev/null "$BASE/Job/$long/abort" ) &
    slow=$!
    req GET "/Job/$long?wait=3"
    wait "$slow"
    check "longpoll: a wait answers when an abort ends the job" \
        "status $ST after $SECS s, $BODY" \
        sh -c '[ "$1" = ABORTED ] && awk -v s="$2" "BEGIN { exit !(s < 2.5) }"' \
        sh "$(jfield jobRunState)" "$SECS"
    for i in "${pids[@]}"; do
        wait "$i" 2>/dev/null
    done
}

# sse_seqs FILE: the ids of the complete events (ended by a blank line) in
# an SSE capture, one per line.
sse_seqs() {
    tr -d '\r' <"$1" | awk '
        /^id:/ { sub(/^id: ?/, ""); id = $0; next }
        /^$/ { if (id != "") print id; id = ""; next }'
}

# sse_kinds FILE: the distinct event types of complete events.
sse_kinds() {
    tr -d '\r' <"$1" | awk '
        /^event:/ { sub(/^event: ?/, ""); ev = $0; next }
        /^$/ { if (ev != "") print ev; ev = ""; next }' | sort -u | tr '\n' ' '
}

# wait_quiet FILE: until FILE has not grown for a second (bounded).
wait_quiet() {
    local i last=-1 size
    for i in $(seq 1 $((WAIT_S * 2))); do
        size=$(stat -c %s "$1" 2>/dev/null || echo 0)
        [ "$size" = "$last" ] && return 0
        last=$size
        sleep 1
    done
}

# sse_jobs N: N short jobs, one failing (an event), waited for.
sse_jobs() {
    local i last=
    for i in $(seq 1 "$1"); do
        if [ "$i" = 1 ]; then
            diag_job '{"objects": [{"id": "sse-obj"}], "operations": [{"op": "fail", "message": "for the stream"}]}'
        else
            diag_job "{\"objects\": [{\"id\": \"sse-$i\"}], \"operations\": [{\"op\": \"sleep\", \"ms\": $((RANDOM % 50))}]}"
        fi
        last=$JOB
    done
    [ -n "$last" ] && req GET "/Job/$last?wait=10"
}

t_sse() {
    new_dir
    if ! start --set job_diagnostics=true --set job_workers=4; then
        tap fail "sse: daemon reaches RUNNING" "$(daemon_diag)"
        return
    fi
    local c1 c2 i last s1 s2 all dups gaps first2
    local curl_args=(-sS -N --max-time 120 --cacert "$D/tls/server.crt"
        -u "admin:$(admin_pw)")
    curl "${curl_args[@]}" -D "$T/sse1.h" -o "$T/sse1" "$BASE/events/stream" \
        2>"$T/sse1.err" &
    c1=$!
    PIDS+=("$c1")
    for i in $(seq 1 50); do
        [ -s "$T/sse1.h" ] && break
        sleep 0.1
    done
    check "sse: the stream answers 200 text/event-stream" \
        "$(cat "$T/sse1.h" "$T/sse1.err" 2>/dev/null)" \
        sh -c 'grep -q "^HTTP/[0-9.]* 200" "$1" &&
               grep -qi "^content-type: *text/event-stream" "$1"' sh "$T/sse1.h"
    sse_jobs 10
    wait_quiet "$T/sse1"
    stop_pid "$c1"
    s1=$(sse_seqs "$T/sse1")
    last=$(printf '%s\n' "$s1" | tail -n 1)
    check "sse: the first reader received events" \
        "$(head -c 1000 "$T/sse1")" test -n "$last"
    check "sse: job changes and events both come as their own event types" \
        "event types: $(sse_kinds "$T/sse1")" \
        sh -c 'case "$1" in *event*job* | *job*event*) exit 0 ;; esac; exit 1' \
        sh "$(sse_kinds "$T/sse1")"
    # Changes while nobody listens, then resume after the last id seen.
    sse_jobs 10
    curl "${curl_args[@]}" -H "Last-Event-ID: $last" -o "$T/sse2" \
        "$BASE/events/stream" 2>"$T/sse2.err" &
    c2=$!
    PIDS+=("$c2")
    sleep 0.5
    sse_jobs 5
    wait_quiet "$T/sse2"
    stop_pid "$c2"
    s2=$(sse_seqs "$T/sse2")
    first2=$(printf '%s\n' "$s2" | head -n 1)
    check "sse: the resumed stream starts right after Last-Event-ID" \
        "last seen $last, resumed at '${first2}'" \
        test "$first2" = "$((last + 1))"
    all=$(printf '%s\n%s\n' "$s1" "$s2" | sed '/^$/d')
    dups=$(printf '%s\n' "$all" | sort -n | uniq -d | head -n 5 | tr '\n' ' ')
    gaps=$(printf '%s\n' "$all" | sort -n -u |
        awk 'NR > 1 && $1 != prev + 1 { printf "%d..%d ", prev, $1 } { prev = $1 }')
    check "sse: no sequence number came twice across both connections" \
        "duplicates: $dups" test -z "$dups"
    check "sse: the sequence numbers across both connections have no gap" \
        "gaps: $gaps (first reader $(printf '%s\n' "$s1" | head -n 1)..$last, second ${first2}..$(printf '%s\n' "$s2" | tail -n 1))" \
        test -z "$gaps"
    echo "# sse: $(printf '%s\n' "$all" | wc -l) events, seqs" \
        "$(printf '%s\n' "$all" | sort -n | head -n 1)..$(printf '%s\n' "$all" | sort -n | tail -n 1)"
}

t_disabled() {
    new_dir
    if ! start; then
        tap fail "disabled: daemon reaches RUNNING" "$(daemon_diag)"
        return
    fi
    req POST /Job/diagnostic '{"operations": []}'
    check "disabled: POST /Job/diagnostic is 404 without job_diagnostics" \
        "status $ST, $BODY" test "$ST" = 404
    req GET /Job
    check "disabled: GET /Job still answers" "status $ST, $BODY" \
        test "$ST" = 200
}

# ---- main ------------------------------------------------------------------

ALL="parallel serial crash restart longpoll sse disabled"
missing=
[ -x "$OVMMD" ] || missing="$missing $OVMMD"
[ -x "$JOBLOAD" ] || missing="$missing $JOBLOAD"
command -v sqlite3 >/dev/null || missing="$missing sqlite3"
if [ -n "$missing" ]; then
    tap fail "jobs: binaries built" "missing:$missing (make all build/tests/jobload)"
    echo "1..$n"
    exit 1
fi
for t in ${*:-$ALL}; do
    if ! declare -F "t_$t" >/dev/null; then
        tap fail "jobs: unknown test group '$t'" "groups: $ALL"
        continue
    fi
    echo "# jobs: $t"
    group_start=$SECONDS
    "t_$t"
    cleanup
    echo "# jobs: $t took $((SECONDS - group_start)) s"
done
echo "1..$n"
[ "$failed" -eq 0 ]
