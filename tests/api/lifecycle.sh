#!/usr/bin/env bash
# tests/api/lifecycle.sh - process-level tests of ovmmd, as TAP.
#
# Each test group makes its own temporary directory and starts its own
# daemon(s) on loopback with a random port: first start and the admin
# password, TLS, restart persistence, the data-directory lock, STARTING ->
# RUNNING, log-in lock-out, backup/restore, the user admin commands while
# running, SIGHUP, the HTTP redirector, a busy listen port, request ids in
# the log. Only processes started here are ever signalled, by PID.
#
# Environment: BUILD (default build), OVMMD (default $BUILD/ovmmd), KEEP=1
# keeps the temporary directories, WAIT_S (default 30) bounds every wait.
# Arguments: names of test groups to run (default all), e.g. `tls backup`.
set -u

cd "$(dirname "$0")/../.." || exit 2
BUILD=${BUILD:-build}
OVMMD=${OVMMD:-$BUILD/ovmmd}
WAIT_S=${WAIT_S:-30}
REST=/ovm/core/wsapi/rest

n=0
failed=0
PIDS=()  # every daemon started here
DIRS=()  # every temporary directory made here

# shellcheck source=tests/api/tap.sh
. tests/api/tap.sh   # the cd above makes this path right

not() { # not command...: succeeds when the command fails
    ! "$@"
}

# check NAME DIAG command...: ok when the command succeeds. DIAG "@" means
# the last request's status and body, taken after the command ran.
check() {
    local name=$1 diag=$2
    shift 2
    if "$@"; then
        tap ok "$name"
    else
        [ "$diag" = @ ] && diag="status ${ST-}, body ${BODY-}"
        tap fail "$name" "$diag"
    fi
}

# forget PID: it was reaped, so it may be reused by an unrelated process.
forget() {
    local p keep=()
    for p in "${PIDS[@]}"; do
        [ "$p" = "$1" ] || keep+=("$p")
    done
    PIDS=("${keep[@]}")
}

# Stop one daemon we started: SIGTERM, bounded wait, reap. Sets STOP_ST to
# its exit status ("timeout" when it needed SIGKILL). Never call this in a
# subshell: only this shell can reap its children.
stop_pid() {
    local pid=$1 i
    STOP_ST=timeout
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 $((WAIT_S * 10))); do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid" 2>/dev/null
            STOP_ST=$?
            forget "$pid"
            return
        fi
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    forget "$pid"
}

# exit_within PID TENTHS: wait up to TENTHS tenths of a second for a
# daemon we started to exit by itself; reap it and set EXIT_ST to its
# status, or leave EXIT_ST empty when it is still running.
exit_within() {
    local pid=$1 i
    EXIT_ST=
    for i in $(seq 1 "$2"); do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid"
            EXIT_ST=$?
            forget "$pid"
            return
        fi
        sleep 0.1
    done
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

new_dir() { # a new temporary directory in $T, data dir $D = $T/data
    T=$(mktemp -d "${TMPDIR:-/tmp}/ovmm-life.XXXXXX") || exit 2
    DIRS+=("$T")
    D=$T/data
    mkdir -p "$D"
    STARTS=0
}

# start [ARGS...]: start ovmmd on $D; sets PID, PORT, BASE, OUT, ERR and
# waits (bounded) for the port file. Returns 1 when it never appeared.
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
    [ -n "$PORT" ]
}

# stop: SIGTERM the current daemon; its exit status goes to STOP_ST.
stop() {
    stop_pid "$PID"
}

daemon_diag() {
    echo "stdout: $(tail -c 600 "$OUT" 2>/dev/null)"
    echo "stderr: $(tail -c 600 "$ERR" 2>/dev/null)"
    echo "log: $(tail -n 5 "$D/logs/ovmmd.log" 2>/dev/null)"
}

admin_pw() {
    head -n 1 "$D/admin-password" 2>/dev/null
}

# req METHOD PATH USER:PASS [BODY]: sets ST (status) and BODY (response).
req() {
    local method=$1 path=$2 cred=$3 data=${4-} f=$T/resp
    local args=(-sS --max-time 20 --cacert "$D/tls/server.crt" -o "$f"
        -w '%{http_code}' -X "$method")
    [ -n "$cred" ] && args+=(-u "$cred")
    [ -n "$data" ] && args+=(-H 'Content-Type: application/json' --data "$data")
    ST=$(curl "${args[@]}" "$BASE$path" 2>"$T/curl.err") || ST="curl-failed:$(cat "$T/curl.err")"
    BODY=$(cat "$f" 2>/dev/null)
}

# field NAME: the top-level string field NAME of $BODY (first match).
field() {
    printf '%s' "$BODY" | tr -d '\n' |
        sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\([^\"]*\)\".*/\1/p"
}

# wait_running USER:PASS: poll GET /Manager until RUNNING (bounded).
wait_running() {
    local i
    for i in $(seq 1 $((WAIT_S * 10))); do
        req GET /Manager "$1"
        [ "$ST" = 200 ] && [ "$(field managerRunState)" = RUNNING ] && return 0
        kill -0 "$PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# start_ready [ARGS...]: start and wait for RUNNING with the admin password.
start_ready() {
    start "$@" || return 1
    wait_running "admin:$(admin_pw)"
}

# has_user NAME: GET /User as admin lists a user called NAME.
has_user() {
    req GET /User "admin:$(admin_pw)"
    [ "$ST" = 200 ] && printf '%s' "$BODY" |
        grep -Eq "\"name\"[[:space:]]*:[[:space:]]*\"$1\""
}

create_user() { # create_user NAME PASSWORD ROLE via REST as admin
    req POST /User "admin:$(admin_pw)" \
        "{\"name\": \"$1\", \"password\": \"$2\", \"role\": \"$3\"}"
    [ "$ST" = 200 ]
}

# ---- test groups ---------------------------------------------------------

t_first_start() {
    new_dir
    if ! start_ready; then
        tap fail "first start: daemon reaches RUNNING" "$(daemon_diag)"
        return
    fi
    local pw
    pw=$(admin_pw)
    check "first start writes DIR/admin-password (password + newline)" \
        "$(od -c "$D/admin-password" 2>&1 | head -3)" \
        test -n "$pw" -a "$(wc -l <"$D/admin-password")" = 1
    check "DIR/admin-password is mode 0600" \
        "mode $(stat -c %a "$D/admin-password")" \
        test "$(stat -c %a "$D/admin-password")" = 600
    # The password must reach stdout while the daemon runs (a pipe or the
    # journal must see it), so poll instead of reading after exit.
    local i seen=no
    for i in $(seq 1 50); do
        grep -qF -- "$pw" "$OUT" && seen=yes && break
        sleep 0.1
    done
    check "first start prints the admin password on stdout" \
        "stdout: $(head -c 500 "$OUT")" test "$seen" = yes
    req GET /Manager "admin:$pw"
    check "the printed admin password authenticates" @ \
        test "$ST" = 200
    req GET /Manager "admin:x$pw"
    check "a different password is refused (401 UNAUTHORIZED)" @ \
        test "$ST" = 401 -a "$(field errorCode)" = UNAUTHORIZED
    check "the database is DIR/ovmm.db" "$(ls -la "$D")" test -s "$D/ovmm.db"
    local st
    stop
    st=$STOP_ST
    check "SIGTERM stops the daemon with exit status 0" \
        "status $st; $(daemon_diag)" test "$st" = 0
}

t_tls() {
    new_dir
    if ! start_ready; then
        tap fail "tls: daemon reaches RUNNING" "$(daemon_diag)"
        return
    fi
    local crt=$D/tls/server.crt out rc
    check "the key file DIR/tls/server.key is mode 0600" \
        "mode $(stat -c %a "$D/tls/server.key" 2>&1)" \
        test "$(stat -c %a "$D/tls/server.key" 2>/dev/null)" = 600
    out=$(openssl x509 -in "$crt" -noout -ext subjectAltName 2>&1)
    check "the certificate names localhost, 127.0.0.1 and ::1" "$out" \
        sh -c 'printf "%s" "$1" | grep -q "DNS:localhost" &&
               printf "%s" "$1" | grep -q "IP Address:127.0.0.1" &&
               printf "%s" "$1" | grep -Eq "IP Address:(0:0:0:0:0:0:0:1|::1)"' \
        sh "$out"
    out=$(timeout 20 openssl s_client -connect "127.0.0.1:$PORT" \
        -servername localhost -verify_return_error -CAfile "$crt" \
        </dev/null 2>&1)
    rc=$?
    check "openssl s_client verifies the handshake with the generated certificate" \
        "exit $rc: $(printf '%s' "$out" | grep -E 'erify|error' | head -5)" \
        sh -c '[ "$1" = 0 ] && printf "%s" "$2" | grep -q "Verify return code: 0 (ok)"' \
        sh "$rc" "$out"
    out=$(timeout 20 openssl s_client -connect "127.0.0.1:$PORT" \
        -verify_return_error -verify_ip 127.0.0.1 -CAfile "$crt" \
        </dev/null 2>&1)
    check "openssl s_client verifies the IP address SAN 127.0.0.1" \
        "$(printf '%s' "$out" | grep -E 'erify|error' | head -5)" \
        sh -c 'printf "%s" "$1" | grep -q "Verify return code: 0 (ok)"' \
        sh "$out"
    req GET /Manager "admin:$(admin_pw)"
    check "curl --cacert verifies https://127.0.0.1:PORT" @ \
        test "$ST" = 200
    ST=$(curl -sS --max-time 20 --cacert "$crt" -o /dev/null -w '%{http_code}' \
        --resolve "localhost:$PORT:127.0.0.1" -u "admin:$(admin_pw)" \
        "https://localhost:$PORT$REST/Manager" 2>&1)
    check "curl --cacert verifies https://localhost:PORT" @ \
        test "$ST" = 200
    curl -sS --max-time 20 -o /dev/null "https://127.0.0.1:$PORT$REST/Manager" \
        >/dev/null 2>&1
    rc=$?
    check "without --cacert the self-signed certificate is not trusted" \
        "curl exit $rc (60 expected)" test "$rc" = 60
    ST=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' \
        "http://127.0.0.1:$PORT$REST/Manager" 2>/dev/null)
    check "plain HTTP on the HTTPS port gets no API answer" "status $ST" \
        test "$ST" != 200
}

t_restart() {
    new_dir
    if ! start_ready; then
        tap fail "restart: daemon reaches RUNNING" "$(daemon_diag)"
        return
    fi
    local pw st first_out
    pw=$(admin_pw)
    check "create user 'keeper' over REST" @ \
        create_user keeper Keeper-Passw0rd-1 operator
    first_out=$OUT
    stop
    st=$STOP_ST
    check "SIGTERM exits 0 before the restart" "status $st" test "$st" = 0
    if ! start_ready; then
        tap fail "the daemon restarts on the same data directory" \
            "$(daemon_diag)"
        return
    fi
    tap ok "the daemon restarts on the same data directory"
    check "the user 'keeper' survives the restart" @ \
        has_user keeper
    req GET /Manager "keeper:Keeper-Passw0rd-1"
    check "keeper's password still works after the restart" @ \
        test "$ST" = 200
    check "admin-password is unchanged after the restart" \
        "before '$pw' after '$(admin_pw)'" test "$(admin_pw)" = "$pw"
    req GET /Manager "admin:$pw"
    check "the admin password still works after the restart" @ \
        test "$ST" = 200
    check "the first start did print the password" "$(head -c 300 "$first_out")" \
        grep -qF -- "$pw" "$first_out"
    check "the second start does not print the admin password again" \
        "stdout: $(head -c 300 "$OUT")" sh -c '! grep -qF -- "$1" "$2"' sh "$pw" "$OUT"
}

t_second_instance() {
    new_dir
    if ! start_ready; then
        tap fail "lock: first daemon reaches RUNNING" "$(daemon_diag)"
        return
    fi
    local pid2 st port1=$PORT
    "$OVMMD" --foreground --data-dir "$D" --listen 127.0.0.1:0 \
        >"$T/second.out" 2>"$T/second.err" &
    pid2=$!
    PIDS+=("$pid2")
    exit_within "$pid2" 50
    st=$EXIT_ST
    if [ -z "$st" ]; then
        stop_pid "$pid2"
        tap fail "a second ovmmd on the same data directory exits within 5 s" \
            "still running after 5 s"
    else
        tap ok "a second ovmmd on the same data directory exits within 5 s"
        check "the second ovmmd exits with status 1" "status $st" \
            test "$st" = 1
        check "the second ovmmd says the data directory is in use" \
            "stderr: $(cat "$T/second.err") stdout: $(cat "$T/second.out")" \
            grep -qi "in use" "$T/second.err" "$T/second.out"
    fi
    req GET /Manager "admin:$(admin_pw)"
    check "the first daemon keeps serving" @ test "$ST" = 200
    check "the first daemon's ovmmd.port is untouched" \
        "$(cat "$D/ovmmd.port")" test "$(head -n 1 "$D/ovmmd.port")" = "$port1"
}

t_starting() {
    new_dir
    if ! start --set startup_delay_ms=4000; then
        tap fail "starting: daemon listens" "$(daemon_diag)"
        return
    fi
    local pw
    pw=$(admin_pw)
    req GET /Manager "admin:$pw"
    check "GET /Manager works while STARTING and shows STARTING" @ \
        test "$ST" = 200 -a "$(field managerRunState)" = STARTING
    req POST /User "admin:$pw" \
        '{"name": "early", "password": "Early-Passw0rd-1", "role": "read-only"}'
    check "POST /User while STARTING is 503 MANAGER_NOT_RUNNING" @ \
        test "$ST" = 503 -a "$(field errorCode)" = MANAGER_NOT_RUNNING
    if wait_running "admin:$pw"; then
        tap ok "the Manager goes RUNNING after the start-up delay"
    else
        tap fail "the Manager goes RUNNING after the start-up delay" \
            @ "$(daemon_diag)"
        return
    fi
    check "POST /User works once RUNNING" @ \
        create_user early Early-Passw0rd-1 read-only
}

t_lockout() {
    new_dir
    if ! start_ready --set login_lockout_seconds=3; then
        tap fail "lock-out: daemon reaches RUNNING" "$(daemon_diag)"
        return
    fi
    local i ok=yes diag=
    if ! create_user lo Lockout-Passw0rd-1 read-only; then
        tap fail "lock-out: create user 'lo'" "$ST $BODY"
        return
    fi
    for i in 1 2 3 4 5; do
        req GET /Manager "lo:Wrong-Passw0rd-$i"
        if [ "$ST" != 401 ] || [ "$(field errorCode)" != UNAUTHORIZED ]; then
            ok=no
            diag="$diag attempt $i: $ST $BODY;"
        fi
    done
    check "5 wrong passwords are each 401 UNAUTHORIZED" "$diag" test $ok = yes
    req GET /Manager "lo:Lockout-Passw0rd-1"
    check "then the right password is 401 ACCOUNT_LOCKED" @ \
        test "$ST" = 401 -a "$(field errorCode)" = ACCOUNT_LOCKED
    req GET /Manager "admin:$(admin_pw)"
    check "other users are not locked out" @ test "$ST" = 200
    # The lock-out is time based (3 s): waiting is the point here.
    sleep 4
    req GET /Manager "lo:Lockout-Passw0rd-1"
    check "after the lock-out expires the right password works" @ \
        test "$ST" = 200
}

t_backup() {
    new_dir
    if ! start_ready; then
        tap fail "backup: daemon reaches RUNNING" "$(daemon_diag)"
        return
    fi
    local out rc st
    check "create user 'before_backup'" @ \
        create_user before_backup Before-Passw0rd-1 read-only
    out=$("$OVMMD" backup "$T/backup.db" --data-dir "$D" 2>&1)
    rc=$?
    check "ovmmd backup while the daemon runs exits 0 and writes the file" \
        "exit $rc: $out" test "$rc" = 0 -a -s "$T/backup.db"
    check "create user 'after_backup'" @ \
        create_user after_backup After-Passw0rd-1 read-only
    out=$("$OVMMD" restore "$T/backup.db" --data-dir "$D" 2>&1)
    rc=$?
    check "ovmmd restore while the daemon runs is refused (exit 1, 'in use')" \
        "exit $rc: $out" \
        sh -c '[ "$1" = 1 ] && printf "%s" "$2" | grep -qi "in use"' sh "$rc" "$out"
    check "the refused restore changed nothing" @ has_user after_backup
    stop
    st=$STOP_ST
    check "SIGTERM exits 0 before the restore" "status $st" test "$st" = 0
    out=$("$OVMMD" restore "$T/backup.db" --data-dir "$D" 2>&1)
    rc=$?
    check "ovmmd restore with the daemon stopped exits 0" "exit $rc: $out" \
        test "$rc" = 0
    if ! start_ready; then
        tap fail "the daemon starts on the restored data" "$(daemon_diag)"
        return
    fi
    check "after the restore 'before_backup' exists" @ \
        has_user before_backup
    check "after the restore 'after_backup' does not exist" @ \
        not has_user after_backup
    stop
    st=$STOP_ST
    head -c 4096 /dev/urandom >"$T/garbage.db"
    out=$("$OVMMD" restore "$T/garbage.db" --data-dir "$D" 2>&1)
    rc=$?
    check "restoring a garbage file fails with a message" "exit $rc: $out" \
        test "$rc" != 0 -a -n "$out"
    out=$("$OVMMD" restore "$T/no-such-file.db" --data-dir "$D" 2>&1)
    rc=$?
    check "restoring a missing file fails" "exit $rc: $out" test "$rc" != 0
    if ! start_ready; then
        tap fail "the daemon starts after the failed restores" "$(daemon_diag)"
        return
    fi
    check "the data is intact after the failed restores" @ \
        has_user before_backup
}

t_cli_users() {
    new_dir
    if ! start_ready; then
        tap fail "cli: daemon reaches RUNNING" "$(daemon_diag)"
        return
    fi
    local out rc
    out=$(printf 'Cli-Passw0rd-1\n' |
        "$OVMMD" user add cli --role operator --data-dir "$D" 2>&1)
    rc=$?
    check "ovmmd user add while the daemon runs exits 0" "exit $rc: $out" \
        test "$rc" = 0
    req GET /session "cli:Cli-Passw0rd-1"
    check "the added user authenticates with its role" @ \
        test "$ST" = 200 -a "$(field role)" = operator
    out=$(printf 'Other-Passw0rd-1\n' |
        "$OVMMD" user add cli --role operator --data-dir "$D" 2>&1)
    rc=$?
    check "ovmmd user add of an existing name fails with a message" \
        "exit $rc: $out" test "$rc" != 0 -a -n "$out"
    out=$(printf 'Other-Passw0rd-1\n' |
        "$OVMMD" user add cli2 --role superuser --data-dir "$D" 2>&1)
    rc=$?
    check "ovmmd user add with an unknown role fails" "exit $rc: $out" \
        test "$rc" != 0
    out=$("$OVMMD" user lock cli --data-dir "$D" 2>&1)
    rc=$?
    check "ovmmd user lock while the daemon runs exits 0" "exit $rc: $out" \
        test "$rc" = 0
    req GET /Manager "cli:Cli-Passw0rd-1"
    check "a user locked from the command line gets 401 ACCOUNT_LOCKED" \
        @ test "$ST" = 401 -a "$(field errorCode)" = ACCOUNT_LOCKED
    out=$("$OVMMD" user unlock cli --data-dir "$D" 2>&1)
    rc=$?
    req GET /Manager "cli:Cli-Passw0rd-1"
    check "ovmmd user unlock lets the user in again" \
        "exit $rc: $out; $ST $BODY" test "$rc" = 0 -a "$ST" = 200
    out=$(printf 'Cli-New-Passw0rd-2\n' |
        "$OVMMD" user passwd cli --data-dir "$D" 2>&1)
    rc=$?
    check "ovmmd user passwd while the daemon runs exits 0" "exit $rc: $out" \
        test "$rc" = 0
    req GET /Manager "cli:Cli-Passw0rd-1"
    check "after ovmmd user passwd the old password is refused" \
        @ test "$ST" = 401
    req GET /Manager "cli:Cli-New-Passw0rd-2"
    check "after ovmmd user passwd the new password works" @ \
        test "$ST" = 200
    out=$("$OVMMD" user lock nosuchuser --data-dir "$D" 2>&1)
    rc=$?
    check "ovmmd user lock of an unknown user fails with a message" \
        "exit $rc: $out" test "$rc" != 0 -a -n "$out"
}

t_sighup() {
    new_dir
    if ! start_ready; then
        tap fail "sighup: daemon reaches RUNNING" "$(daemon_diag)"
        return
    fi
    local log=$D/logs/ovmmd.log i reopened=no
    mv "$log" "$log.1" 2>/dev/null
    kill -HUP "$PID"
    for i in $(seq 1 $((WAIT_S * 10))); do
        req GET /Manager "admin:$(admin_pw)"
        if [ -s "$log" ] && grep -Eq '\[req [0-9]+\]' "$log"; then
            reopened=yes
            break
        fi
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
    done
    check "SIGHUP keeps the daemon running" "$(daemon_diag)" \
        kill -0 "$PID"
    req GET /Manager "admin:$(admin_pw)"
    check "after SIGHUP the daemon still serves" @ test "$ST" = 200
    check "SIGHUP reopens the log file (new request lines in a new file)" \
        "$(ls -la "$D/logs" 2>&1)" test "$reopened" = yes
}

t_redirect() {
    new_dir
    if ! start_ready --set http_listen=127.0.0.1:0; then
        tap fail "redirect: daemon reaches RUNNING" "$(daemon_diag)"
        return
    fi
    local i hp= out code loc
    for i in $(seq 1 $((WAIT_S * 10))); do
        if [ -s "$D/ovmmd.http-port" ]; then
            hp=$(head -n 1 "$D/ovmmd.http-port")
            case $hp in *[!0-9]* | '') hp= ;; *) break ;; esac
        fi
        sleep 0.1
    done
    if [ -z "$hp" ]; then
        tap fail "the redirector writes DIR/ovmmd.http-port" "$(daemon_diag)"
        return
    fi
    tap ok "the redirector writes DIR/ovmmd.http-port"
    out=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code} %{redirect_url}' \
        "http://127.0.0.1:$hp$REST/Manager?limit=1" 2>&1)
    code=${out%% *}
    loc=${out#* }
    check "the HTTP port answers 301" "$out" test "$code" = 301
    check "the Location is https on the HTTPS port" "$out" \
        sh -c 'case $1 in https://*:"$2"/*) exit 0 ;; esac; exit 1' sh "$loc" "$PORT"
    check "the Location keeps the path and query" "$out" \
        sh -c 'case $1 in *"$2") exit 0 ;; esac; exit 1' sh "$loc" "$REST/Manager?limit=1"
    ST=$(curl -sS --max-time 10 --cacert "$D/tls/server.crt" -o /dev/null \
        -w '%{http_code}' -u "admin:$(admin_pw)" "$loc" 2>&1)
    check "the Location URL serves the API" "$loc: $ST" test "$ST" = 200
}

t_port_in_use() {
    new_dir
    if ! start_ready; then
        tap fail "port in use: first daemon reaches RUNNING" "$(daemon_diag)"
        return
    fi
    local d2=$T/data2 pid2 st
    mkdir -p "$d2"
    "$OVMMD" --foreground --data-dir "$d2" --listen "127.0.0.1:$PORT" \
        >"$T/busy.out" 2>"$T/busy.err" &
    pid2=$!
    PIDS+=("$pid2")
    exit_within "$pid2" $((WAIT_S * 10))
    st=$EXIT_ST
    if [ -z "$st" ]; then
        stop_pid "$pid2"
        tap fail "--listen on a port in use fails" "still running"
        return
    fi
    check "--listen on a port in use exits non-zero" "status $st" \
        test "$st" != 0
    check "--listen on a port in use says why" \
        "stderr: $(cat "$T/busy.err") stdout: $(cat "$T/busy.out")" \
        grep -Eqi "in use|bind|listen|address" "$T/busy.err"
    req GET /Manager "admin:$(admin_pw)"
    check "the daemon holding the port keeps serving" @ test "$ST" = 200
}

t_log() {
    new_dir
    if ! start_ready; then
        tap fail "log: daemon reaches RUNNING" "$(daemon_diag)"
        return
    fi
    local log=$D/logs/ovmmd.log i found=no ids
    req GET /NoSuchType "admin:$(admin_pw)"
    for i in $(seq 1 $((WAIT_S * 10))); do
        req GET /Manager/id "admin:$(admin_pw)"
        if grep -E '\[req [0-9]+\]' "$log" 2>/dev/null | grep -q "Manager/id"; then
            found=yes
            break
        fi
        sleep 0.1
    done
    check "the log has request lines with [req N] naming the path" \
        "$(tail -n 5 "$log" 2>&1)" test "$found" = yes
    ids=$(grep -Eo '\[req [0-9]+\]' "$log" 2>/dev/null | sort -u | wc -l)
    check "different requests carry different request ids" "distinct ids: $ids" \
        test "$ids" -ge 2
}

# connection_timeout closes idle connections; max_connections refuses
# connections past the limit and serves again once they close.
t_limits() {
    new_dir
    if ! start_ready --set connection_timeout=1; then
        tap fail "limits: daemon reaches RUNNING" "$(daemon_diag)"
        return
    fi
    local st
    # An idle TCP connection (no TLS handshake) is closed by the server:
    # reading it ends well before the 8 s guard.
    timeout 8 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT; cat <&3 >/dev/null"
    st=$?
    check "an idle connection is closed after connection_timeout" \
        "exit $st (124 = still open after 8 s)" test "$st" != 124
    stop
    # The default timeout (30 s) keeps idle connections for the rest.
    if ! start_ready --set max_connections=2; then
        tap fail "limits: daemon with max_connections=2 reaches RUNNING" \
            "$(daemon_diag)"
        return
    fi
    # Hold more idle connections than the limit: libmicrohttpd stops
    # accepting, so a request waits in the backlog and times out.
    exec 4<>"/dev/tcp/127.0.0.1/$PORT" 5<>"/dev/tcp/127.0.0.1/$PORT" \
        6<>"/dev/tcp/127.0.0.1/$PORT" 7<>"/dev/tcp/127.0.0.1/$PORT"
    sleep 0.2
    st=$(curl -s -m 3 -o /dev/null -w '%{http_code}' --cacert "$D/tls/server.crt" \
        -u "admin:$(admin_pw)" "$BASE/Manager")
    check "a connection past max_connections is not served" "status $st" \
        test "$st" != 200
    exec 4<&- 5<&- 6<&- 7<&-
    sleep 0.3
    req GET /Manager "admin:$(admin_pw)"
    check "once connections close the daemon serves again" @ test "$ST" = 200
}

# Without --foreground ovmmd detaches: the command returns once the
# Manager is RUNNING, with its start-up output, and the daemon (whose pid
# is in DIR/ovmmd.lock) serves on; a failed start returns non-zero.
t_detach() {
    new_dir
    local st dpid i gone=no
    "$OVMMD" --data-dir "$D" --listen 127.0.0.1:0 >"$T/detach.out" \
        2>"$T/detach.err"
    st=$?
    check "a detached start returns 0" "status $st, $(cat "$T/detach.err")" \
        test "$st" = 0
    check "a detached start prints the password and the RUNNING line" \
        "$(cat "$T/detach.out")" \
        sh -c "grep -q 'password: ' '$T/detach.out' && grep -q 'is RUNNING' '$T/detach.out'"
    dpid=$(head -n 1 "$D/ovmmd.lock" 2>/dev/null)
    case $dpid in *[!0-9]* | '') tap fail "the lock file holds the daemon's pid" "'$dpid'"; return ;; esac
    PORT=$(head -n 1 "$D/ovmmd.port" 2>/dev/null)
    BASE=https://127.0.0.1:$PORT$REST
    req GET /Manager "admin:$(admin_pw)"
    check "the detached daemon serves RUNNING" @ \
        sh -c "test '$ST' = 200 && test '$(field managerRunState)' = RUNNING"
    # It is ours (started above): stop it by the pid it recorded.
    kill -TERM "$dpid" 2>/dev/null
    for i in $(seq 1 $((WAIT_S * 10))); do
        kill -0 "$dpid" 2>/dev/null || { gone=yes; break; }
        sleep 0.1
    done
    [ "$gone" = yes ] || kill -KILL "$dpid" 2>/dev/null
    check "the detached daemon stops on SIGTERM" "pid $dpid" test "$gone" = yes
    "$OVMMD" --data-dir "$D" --listen 256.0.0.1:1 >"$T/bad.out" 2>"$T/bad.err"
    st=$?
    check "a detached start that fails returns non-zero and says why" \
        "status $st, out: $(cat "$T/bad.out") err: $(cat "$T/bad.err")" \
        sh -c "test '$st' != 0 && grep -qi 'listen' '$T/bad.out' '$T/bad.err'"
}

# ---- main ------------------------------------------------------------------

ALL="first_start tls restart second_instance starting lockout backup cli_users sighup redirect port_in_use log detach limits"
if [ ! -x "$OVMMD" ]; then
    tap fail "lifecycle: $OVMMD is built" "run make all"
    echo "1..$n"
    exit 1
fi
for t in ${*:-$ALL}; do
    if ! declare -F "t_$t" >/dev/null; then
        tap fail "lifecycle: unknown test group '$t'" "groups: $ALL"
        continue
    fi
    echo "# lifecycle: $t"
    "t_$t"
    cleanup
done
echo "1..$n"
[ "$failed" -eq 0 ]
