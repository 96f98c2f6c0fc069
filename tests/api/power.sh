#!/usr/bin/env bash
# tests/api/power.sh - server power control through the REST API, as TAP:
# PUT /Server/{id}/start, stop, restart and kill driving a real BMC
# simulator, Wake-on-LAN, and the child-process rules of src/util/ipmi.c.
#
#   ipmi      OpenIPMI's ipmi_sim (package openipmi) listening on
#             127.0.0.1 on a random UDP port, with a user and a password
#             and a chassis-control script keeping the power state in a
#             file. A discovered simulated server gets that BMC as its
#             ipmiAddress ("127.0.0.1:PORT"); stop, start, restart and kill
#             must end SUCCESS with serverRunState STOPPED/RUNNING and the
#             chassis power state that `ipmitool chassis power status`
#             reports against the same ipmi_sim. A wrong IPMI password
#             fails the job with ipmitool's message, puts the run state
#             back, and neither password appears in the job, its
#             transcript, the events, the logs or the database. Then
#             Wake-on-LAN: with no ipmiAddress, start sends the 102-byte
#             magic packet for the management port's MAC to wol_address
#             (127.0.0.1 here) and wol_port, where a UDP socket this script
#             bound receives it. Last, a server with no IPMI and no NIC
#             (a node file of our own, discovered as a test:/// URI) cannot
#             be started: 409 before any job.
#   fake      A fake `ipmitool` (a script placed first in the daemon's
#             PATH) for what a real BMC cannot be made to do on demand:
#             it records its argv and environment (exact argv, the
#             password only in IPMI_PASSWORD, no inherited database or
#             socket descriptor), hangs (the job fails TIMEOUT after
#             ipmi_timeout and the child's whole process group is killed;
#             an abort ends the job ABORTED at once), fails, and prints
#             the password in its error (masked in the job's message).
#             This group complements the ipmi group; it is not a fallback
#             for it.
#
# Each group runs its own daemon (loopback, random port) with monitoring
# off, so only the power jobs change run states. Only processes started
# here are signalled, by PID. Needs ipmitool, ipmi_sim (ipmi group), node
# (the Wake-on-LAN receiver and JSON reading), sqlite3 and curl:
# scripts/install-deps.sh test installs them.
#
# Environment: BUILD (default build), OVMMD (default $BUILD/ovmmd), KEEP=1
# keeps the temporary directories, WAIT_S (default 30) bounds every wait.
# Arguments: names of groups to run (default all).
set -u

cd "$(dirname "$0")/../.." || exit 2
BUILD=${BUILD:-build}
OVMMD=${OVMMD:-$BUILD/ovmmd}
WAIT_S=${WAIT_S:-30}
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
    T=$(mktemp -d "${TMPDIR:-/tmp}/ovmm-power.XXXXXX") || exit 2
    DIRS+=("$T")
    D=$T/data
    mkdir -p "$D"
    STARTS=0
}

# start [ARGS...]: start ovmmd on $D with 2 simulated servers and
# monitoring off; sets PID, PORT, BASE and waits (bounded) for RUNNING.
# DAEMON_PATH, when set, is the daemon's PATH. Returns 1 on failure.
start() {
    local extra=()
    STARTS=$((STARTS + 1))
    OUT=$T/stdout.$STARTS
    ERR=$T/stderr.$STARTS
    rm -f "$D/ovmmd.port"
    # Monitoring would probe the simulated hosts (always reachable) and
    # could call a server we powered off RUNNING again.
    grep -q '^#monitor_interval' packaging/ovmmd.conf &&
        extra+=(--set monitor_interval=0)
    PATH=${DAEMON_PATH:-$PATH} "$OVMMD" --foreground --data-dir "$D" \
        --listen 127.0.0.1:0 --simulate 2 --set job_diagnostics=true \
        "${extra[@]}" "$@" >"$OUT" 2>"$ERR" &
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
        [ "$ST" = 200 ] && [ "$(jget 0.managerRunState)" = RUNNING ] &&
            return 0
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

# jget PATH: the member at PATH (dot-separated names and array indexes) of
# the JSON in $BODY: strings unquoted, objects and arrays as JSON, "" when
# absent, "null" for null.
jget() {
    printf '%s' "$BODY" | node -e '
        let s = "";
        process.stdin.on("data", d => s += d).on("end", () => {
            let v;
            try { v = JSON.parse(s); } catch (e) { return; }
            for (const k of process.argv[1].split(".").filter(x => x !== ""))
                v = v == null ? undefined : v[k];
            if (v === undefined) return;
            process.stdout.write(v !== null && typeof v === "object"
                                 ? JSON.stringify(v) : String(v));
        });' "$1"
}

# submit METHOD PATH [BODY]: a change that answers with a Job; JOB is its
# id ("" when refused).
submit() {
    req "$@"
    JOB=
    [ "$ST" = 200 ] && JOB=$(jget id.value)
}

# wait_job: GET /Job/$JOB?wait=N into $BODY; JSTATE its jobRunState.
wait_job() {
    req GET "/Job/$JOB?wait=$WAIT_S"
    JSTATE=$(jget jobRunState)
}

# run_job NAME METHOD PATH [BODY]: submit and wait; a TAP test that the
# job ends SUCCESS.
run_job() {
    local name=$1
    shift
    submit "$@"
    if [ -z "$JOB" ]; then
        tap fail "$name" "refused: status $ST, $BODY"
        return 1
    fi
    wait_job
    if [ "$JSTATE" = SUCCESS ]; then
        tap ok "$name"
        return 0
    fi
    tap fail "$name" "job $JOB is $JSTATE: $BODY"
    return 1
}

# discover HOST [QUERY]: discover with the agent password; S is the
# server's id.
discover() {
    S=
    submit POST "/Server/discover?serverName=$1${2-}" '"agent-secret"'
    [ -n "$JOB" ] || return 1
    wait_job
    [ "$JSTATE" = SUCCESS ] || return 1
    S=$(jget resultId.value)
}

# server_state ID: serverRunState of server ID.
server_state() {
    req GET "/Server/$1"
    jget serverRunState
}

# ---- the BMC simulator ------------------------------------------------------

# free_udp_port: a UDP port on 127.0.0.1 nobody listens on (best effort).
free_udp_port() {
    local p i
    for i in 1 2 3 4 5 6 7 8 9 10; do
        p=$((20000 + RANDOM % 40000))
        if ! command -v ss >/dev/null ||
            [ -z "$(ss -Hlun "sport = :$p" 2>/dev/null)" ]; then
            echo "$p"
            return
        fi
    done
    echo "$p"
}

# sim_start: ipmi_sim on 127.0.0.1:$BMC_PORT with user ovmm / $BMC_PW and
# the chassis-control script below; power starts on. Sets SIM_PID.
sim_start() {
    BMC_PORT=$(free_udp_port)
    BMC_PW="Bmc-$RANDOM-$RANDOM"
    mkdir -p "$T/sim/state"
    echo 1 >"$T/sim/power"
    : >"$T/sim/chassis.log"
    # ipmi_sim runs this for chassis control: `chassis.sh get power`,
    # `chassis.sh set power 0|1`, `set shutdown 1` (soft), `set reset 1`.
    cat >"$T/sim/chassis.sh" <<EOF
#!/bin/sh
state='$T/sim/power'
echo "\$*" >>'$T/sim/chassis.log'
op=\$1
shift
case \$op in
get)
	for p in "\$@"; do
		case \$p in
		power) echo "power:\$(cat "\$state")" ;;
		boot) echo "boot:default" ;;
		*) echo "Invalid parameter: \$p"; exit 1 ;;
		esac
	done ;;
set)
	while [ \$# -gt 0 ]; do
		case \$1 in
		power) echo "\$2" >"\$state" ;;
		shutdown) echo 0 >"\$state" ;;
		reset | boot | identify) ;;
		*) echo "Invalid parameter: \$1"; exit 1 ;;
		esac
		shift 2
	done ;;
*) echo "Unknown operation: \$op"; exit 1 ;;
esac
EOF
    chmod 755 "$T/sim/chassis.sh"
    cat >"$T/sim/lan.conf" <<EOF
name "ovmmtest"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 $BMC_PORT
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  chassis_control "$T/sim/chassis.sh"
  user 1 true  ""     "test"     user  10 none md2 md5 straight
  user 2 true  "ovmm" "$BMC_PW"  admin 10 none md2 md5 straight
EOF
    cat >"$T/sim/emu.cmd" <<'EOF'
mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr
mc_enable 0x20
EOF
    ipmi_sim -c "$T/sim/lan.conf" -f "$T/sim/emu.cmd" -s "$T/sim/state" -n \
        >"$T/sim/out" 2>&1 </dev/null &
    SIM_PID=$!
    PIDS+=("$SIM_PID")
}

# bmc_status: what `ipmitool chassis power status` says against ipmi_sim
# ("on", "off", or the error).
bmc_status() {
    local out
    out=$(IPMI_PASSWORD=$BMC_PW timeout 20 ipmitool -I lanplus -C 3 \
        -H 127.0.0.1 -p "$BMC_PORT" -U ovmm -E chassis power status 2>&1)
    case $out in
    *"Power is on"*) echo on ;;
    *"Power is off"*) echo off ;;
    *) echo "error: $out" ;;
    esac
}

# wait_sim: until ipmi_sim answers (bounded). 0 when it does.
wait_sim() {
    local i
    for i in $(seq 1 "$WAIT_S"); do
        case $(bmc_status) in on | off) return 0 ;; esac
        kill -0 "$SIM_PID" 2>/dev/null || return 1
        sleep 1
    done
    return 1
}

# no_secret NAME SECRET...: a TAP test that none of the secrets appears in
# the daemon's logs and output, its database, or the $CAPTURED answers.
no_secret() {
    local name=$1 s hits=""
    shift
    sqlite3 "$D/ovmm.db" .dump >"$T/dump.sql" 2>&1
    for s in "$@"; do
        if printf '%s' "$CAPTURED" | grep -qF -- "$s"; then
            hits="$hits REST-answers"
        fi
        if grep -rqF -- "$s" "$D/logs" "$T"/stdout.* "$T"/stderr.* \
            "$T/dump.sql" 2>/dev/null; then
            hits="$hits $(grep -rlF -- "$s" "$D/logs" "$T"/stdout.* \
                "$T"/stderr.* "$T/dump.sql" 2>/dev/null | tr '\n' ' ')"
        fi
    done
    check "$name" "found in:$hits" test -z "$hits"
}

# gone PID: the process is dead -- no longer there, or a zombie nobody has
# reaped yet (killed children of a killed process wait for init) -- within
# 2 s.
gone() {
    local i
    for i in $(seq 1 20); do
        [ -e "/proc/$1" ] || return 0
        grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# has_event TYPE: one of the events in $BODY (a list) is of TYPE.
has_event() {
    printf '%s' "$BODY" | node -e '
        let s = "";
        process.stdin.on("data", d => s += d).on("end", () =>
            process.exit(JSON.parse(s).some(e => e.type === process.argv[1])
                         ? 0 : 1));' "$1"
}

# ---- the Wake-on-LAN receiver -----------------------------------------------

# wol_listen: a UDP socket on 127.0.0.1 (port chosen by the system) that
# writes the first datagram it receives, in hex, to $T/wol.hex. Sets
# WOL_PORT and WOL_PID.
wol_listen() {
    rm -f "$T/wol.port" "$T/wol.hex"
    node -e '
        const fs = require("fs"), [port, hex] = process.argv.slice(1);
        const s = require("dgram").createSocket("udp4");
        s.on("message", m => {
            fs.writeFileSync(hex, m.toString("hex"));
            s.close();
        });
        s.bind(0, "127.0.0.1", () =>
            fs.writeFileSync(port, String(s.address().port)));
        setTimeout(() => process.exit(2), 120000).unref();
    ' "$T/wol.port" "$T/wol.hex" &
    WOL_PID=$!
    PIDS+=("$WOL_PID")
    local i
    for i in $(seq 1 $((WAIT_S * 10))); do
        [ -s "$T/wol.port" ] && break
        sleep 0.1
    done
    WOL_PORT=$(cat "$T/wol.port" 2>/dev/null)
}

# ---- groups -------------------------------------------------------------------

t_ipmi() {
    local missing="" st mac want got
    command -v ipmi_sim >/dev/null || missing="$missing ipmi_sim"
    command -v ipmitool >/dev/null || missing="$missing ipmitool"
    if [ -n "$missing" ]; then
        tap fail "ipmi: the BMC simulator and ipmitool are installed" \
            "missing:$missing (scripts/install-deps.sh test installs openipmi and ipmitool)"
        return
    fi
    new_dir
    sim_start
    if ! wait_sim; then
        tap fail "ipmi: ipmi_sim answers chassis power status on 127.0.0.1:$BMC_PORT" \
            "$(bmc_status)" "ipmi_sim: $(tail -c 600 "$T/sim/out")"
        return
    fi
    tap ok "ipmi: ipmi_sim answers chassis power status on 127.0.0.1:$BMC_PORT"
    wol_listen
    if [ -z "$WOL_PORT" ]; then
        tap fail "ipmi: a UDP socket for Wake-on-LAN is bound"
        return
    fi
    # ipmi_sim does not answer "Get Channel Cipher Suites", so ipmitool's
    # own negotiation would spend 10 s per call: suite 3, as configured.
    if ! start --set ipmi_cipher_suite=3 --set ipmi_timeout=15 \
        --set power_confirm_timeout=20 --set wol_address=127.0.0.1 \
        --set wol_port="$WOL_PORT"; then
        tap fail "ipmi: daemon reaches RUNNING" "$(daemon_diag)"
        return
    fi
    if ! discover sim-1; then
        tap fail "ipmi: sim-1 is discovered" "status $ST, $BODY"
        return
    fi
    local S1=$S
    run_job "ipmi: sim-1 gets ipmi_sim as its BMC" PUT "/Server/$S1" \
        "{\"ipmiAddress\": \"127.0.0.1:$BMC_PORT\", \"ipmiUser\": \"ovmm\", \"ipmiPassword\": \"$BMC_PW\"}"
    CAPTURED=$BODY

    # stop: chassis power soft, confirmed off
    run_job "ipmi: stop ends SUCCESS" PUT "/Server/$S1/stop"
    CAPTURED="$CAPTURED$BODY"
    local J=$JOB
    st=$(server_state "$S1")
    check "ipmi: after stop sim-1 is STOPPED" "serverRunState $st" \
        test "$st" = STOPPED
    st=$(bmc_status)
    check "ipmi: after stop the BMC reports power off" "$st" test "$st" = off
    check "ipmi: stop sent a soft shutdown" "$(cat "$T/sim/chassis.log")" \
        grep -q '^set shutdown 1' "$T/sim/chassis.log"
    req GET "/Job/$J/transcript"
    CAPTURED="$CAPTURED$BODY"
    got="$(jget operations.0.operation) $(jget operations.0.state) $(jget operations.1.operation) $(jget operations.1.state)"
    check "ipmi: the stop job was server.run_state then server.power, both DONE" \
        "$got" test "$got" = "server.run_state DONE server.power DONE"
    req GET "/Event?object=$S1"
    check "ipmi: the stop raised server.power" "$(jget 0.summary)" \
        test "$(jget 0.type)" = server.power

    # start: chassis power on, confirmed on
    run_job "ipmi: start ends SUCCESS" PUT "/Server/$S1/start"
    st=$(server_state "$S1")
    check "ipmi: after start sim-1 is RUNNING" "serverRunState $st" \
        test "$st" = RUNNING
    st=$(bmc_status)
    check "ipmi: after start the BMC reports power on" "$st" test "$st" = on

    # restart: chassis power cycle (off, then on again)
    : >"$T/sim/chassis.log"
    run_job "ipmi: restart ends SUCCESS" PUT "/Server/$S1/restart"
    st=$(server_state "$S1")
    check "ipmi: after restart sim-1 is RUNNING" "serverRunState $st" \
        test "$st" = RUNNING
    st=$(bmc_status)
    check "ipmi: after restart the BMC reports power on" "$st" test "$st" = on
    got=$(grep '^set power' "$T/sim/chassis.log" | tr '\n' ' ')
    check "ipmi: restart powered off, then on" "$got" \
        test "$got" = "set power 0 set power 1 "

    # kill: chassis power off, confirmed off
    run_job "ipmi: kill ends SUCCESS" PUT "/Server/$S1/kill"
    st=$(server_state "$S1")
    check "ipmi: after kill sim-1 is STOPPED" "serverRunState $st" \
        test "$st" = STOPPED
    st=$(bmc_status)
    check "ipmi: after kill the BMC reports power off" "$st" test "$st" = off

    # refusals that depend on the state
    req PUT "/Server/$S1/stop"
    check "ipmi: a stopped server cannot be stopped (409)" "status $ST, $BODY" \
        test "$ST" = 409
    req PUT "/Server/$S1/restart"
    check "ipmi: a stopped server cannot be restarted (409)" \
        "status $ST, $BODY" test "$ST" = 409

    # a wrong IPMI password
    local WRONG="Wrong-$RANDOM-$RANDOM"
    run_job "ipmi: a wrong IPMI password is accepted as a setting" \
        PUT "/Server/$S1" "{\"ipmiPassword\": \"$WRONG\"}"
    CAPTURED="$CAPTURED$BODY"
    submit PUT "/Server/$S1/start"
    wait_job
    CAPTURED="$CAPTURED$BODY"
    check "ipmi: start with a wrong password ends FAILURE" \
        "job $JOB: $BODY" test "$JSTATE" = FAILURE
    check "ipmi: the failure is SERVER_UNREACHABLE" "$BODY" \
        test "$(jget error.type)" = SERVER_UNREACHABLE
    got=$(jget error.message)
    check "ipmi: the failure quotes ipmitool's message" "$got" \
        eval 'case $got in *"ipmitool exit status"*RMCP*) true ;; *) false ;; esac'
    J=$JOB
    st=$(server_state "$S1")
    check "ipmi: the failed start put serverRunState back to STOPPED" \
        "serverRunState $st" test "$st" = STOPPED
    req GET "/Job/$J/transcript"
    CAPTURED="$CAPTURED$BODY"
    got="$(jget operations.0.state) $(jget operations.1.state)"
    check "ipmi: the run-state change was undone, the power step FAILED" \
        "$got" test "$got" = "UNDONE FAILED"
    req GET "/Event?object=$S1"
    CAPTURED="$CAPTURED$BODY"
    check "ipmi: the undo raised object.restored" "$BODY" \
        has_event object.restored
    req GET "/Job?object=$S1"
    CAPTURED="$CAPTURED$BODY"
    req GET "/Server/$S1"
    CAPTURED="$CAPTURED$BODY"
    st=$(bmc_status)
    check "ipmi: the BMC still reports power off" "$st" test "$st" = off
    no_secret "ipmi: neither IPMI password is in a job, transcript, event, log or the database" \
        "$BMC_PW" "$WRONG"

    # the right password again
    run_job "ipmi: the right IPMI password is set again" PUT "/Server/$S1" \
        "{\"ipmiPassword\": \"$BMC_PW\"}"
    run_job "ipmi: start with the right password ends SUCCESS" \
        PUT "/Server/$S1/start"
    st=$(bmc_status)
    check "ipmi: the BMC reports power on" "$st" test "$st" = on
    run_job "ipmi: kill for the Wake-on-LAN test" PUT "/Server/$S1/kill"

    # Wake-on-LAN: no IPMI any more, a MAC on the management port
    run_job "ipmi: sim-1's IPMI is removed" PUT "/Server/$S1" \
        '{"ipmiAddress": null, "ipmiUser": null, "ipmiPassword": ""}'
    req GET "/Server/$S1/EthernetPort"
    mac=$(printf '%s' "$BODY" | node -e '
        let s = "";
        process.stdin.on("data", d => s += d).on("end", () => {
            const p = JSON.parse(s).find(x => x.networkId);
            if (p) process.stdout.write(p.macAddress);
        });')
    run_job "ipmi: start without IPMI sends Wake-on-LAN and ends SUCCESS" \
        PUT "/Server/$S1/start"
    local i
    for i in $(seq 1 50); do
        [ -s "$T/wol.hex" ] && break
        sleep 0.1
    done
    want=ffffffffffff
    for i in $(seq 1 16); do
        want="$want${mac//:/}"
    done
    got=$(cat "$T/wol.hex" 2>/dev/null)
    check "ipmi: the magic packet (102 bytes: 6 x ff, 16 x $mac) arrived on 127.0.0.1:$WOL_PORT" \
        "got '$got' (${#got} hex digits), wanted '$want'" \
        test -n "$mac" -a "$got" = "$want" -a "${#got}" = 204
    st=$(server_state "$S1")
    check "ipmi: after Wake-on-LAN sim-1 is STARTING (until it answers)" \
        "serverRunState $st" test "$st" = STARTING
    req GET "/Event?object=$S1"
    check "ipmi: the packet raised server.wake_on_lan" "$(jget 0.summary)" \
        test "$(jget 0.type)" = server.wake_on_lan

    # neither IPMI nor a MAC: a node file with no NIC
    sed -e '/<interface /d' -e 's|<ovmm:hostname>[^<]*<|<ovmm:hostname>bare-1<|' \
        -e 's|<ovmm:uuid>[^<]*<|<ovmm:uuid>0badc0de-0000-4000-8000-000000000001<|' \
        "$D/sim/sim-2.xml" >"$T/bare.xml"
    if ! discover "test://$T/bare.xml"; then
        tap fail "ipmi: a server without NICs is discovered" "status $ST, $BODY"
        return
    fi
    local SB=$S
    req GET "/Server/$SB/EthernetPort"
    check "ipmi: it has no Ethernet port" "$BODY" test "$BODY" = "[]"
    run_job "ipmi: it gets ipmi_sim as its BMC" PUT "/Server/$SB" \
        "{\"ipmiAddress\": \"127.0.0.1:$BMC_PORT\", \"ipmiUser\": \"ovmm\", \"ipmiPassword\": \"$BMC_PW\"}"
    run_job "ipmi: it is killed" PUT "/Server/$SB/kill"
    run_job "ipmi: its IPMI is removed" PUT "/Server/$SB" \
        '{"ipmiAddress": null}'
    req GET "/Job?object=$SB"
    local before
    before=$(printf '%s' "$BODY" | node -e '
        let s = ""; process.stdin.on("data", d => s += d)
            .on("end", () => process.stdout.write(String(JSON.parse(s).length)));')
    req PUT "/Server/$SB/start"
    check "ipmi: start with neither IPMI nor Wake-on-LAN is 409" \
        "status $ST, $BODY" test "$ST" = 409
    got=$(jget message)
    check "ipmi: the refusal says why" "$got" \
        eval 'case $got in *"no IPMI"*"Wake-on-LAN"*) true ;; *) false ;; esac'
    req GET "/Job?object=$SB"
    got=$(printf '%s' "$BODY" | node -e '
        let s = ""; process.stdin.on("data", d => s += d)
            .on("end", () => process.stdout.write(String(JSON.parse(s).length)));')
    check "ipmi: the refusal made no job" "$before jobs before, $got after" \
        test "$before" = "$got"
    stop_pid "$PID"
}

# The fake ipmitool: records its argv (one word per line) in
# $FAKE/argv.N, the password it was given in $FAKE/password.N, its open
# descriptors in $FAKE/fds.N, and behaves as $FAKE/mode says.
fake_install() {
    FAKE=$T/fake
    mkdir -p "$FAKE/bin"
    echo off >"$FAKE/power"
    echo ok >"$FAKE/mode"
    cat >"$FAKE/bin/ipmitool" <<EOF
#!/bin/sh
# A stand-in for ipmitool (tests/api/power.sh, group fake).
F='$FAKE'
k=\$(ls "\$F" | grep -c '^argv\.')
for a in "\$@"; do echo "\$a"; done >"\$F/argv.\$k"
printf '%s' "\${IPMI_PASSWORD-<unset>}" >"\$F/password.\$k"
ls -l /proc/\$\$/fd >"\$F/fds.\$k" 2>&1
mode=\$(cat "\$F/mode")
case \$mode in
hang)
	sleep 300 &
	echo \$! >"\$F/child"
	wait
	exit 0 ;;
fail)
	echo "Error: the fake BMC refused" >&2
	exit 1 ;;
leak)
	echo "Error: bad password '\$IPMI_PASSWORD' for user" >&2
	exit 1 ;;
esac
for last; do :; done
case \$last in
on) echo 1 >"\$F/power"; echo "Chassis Power Control: Up/On" ;;
soft | off) echo 0 >"\$F/power"; echo "Chassis Power Control: Down/Off" ;;
cycle) echo 1 >"\$F/power"; echo "Chassis Power Control: Cycle" ;;
status)
	if [ "\$(cat "\$F/power")" = 1 ]; then echo "Chassis Power is on"
	else echo "Chassis Power is off"; fi ;;
esac
exit 0
EOF
    chmod 755 "$FAKE/bin/ipmitool"
}

t_fake() {
    local S1 st got want J pw
    new_dir
    fake_install
    echo 1 >"$FAKE/power"
    if ! DAEMON_PATH="$FAKE/bin:$PATH" start --set ipmi_cipher_suite=3 \
        --set ipmi_timeout=4 --set power_confirm_timeout=5; then
        tap fail "fake: daemon reaches RUNNING" "$(daemon_diag)"
        return
    fi
    if ! discover sim-1; then
        tap fail "fake: sim-1 is discovered" "status $ST, $BODY"
        return
    fi
    S1=$S
    pw="Fake-$RANDOM-$RANDOM"
    run_job "fake: sim-1 gets a (fake) BMC" PUT "/Server/$S1" \
        "{\"ipmiAddress\": \"bmc-1.example:6230\", \"ipmiUser\": \"ovmm\", \"ipmiPassword\": \"$pw\"}"
    rm -f "$FAKE"/argv.* "$FAKE"/password.* "$FAKE"/fds.*

    run_job "fake: stop through the fake ipmitool ends SUCCESS" \
        PUT "/Server/$S1/stop"
    got=$(tr '\n' ' ' <"$FAKE/argv.0" 2>/dev/null)
    want="-I lanplus -H bmc-1.example -p 6230 -U ovmm -C 3 -E chassis power soft "
    check "fake: ipmitool got exactly the expected argv" \
        "got '$got', wanted '$want'" test "$got" = "$want"
    got=$(tr '\n' ' ' <"$FAKE/argv.1" 2>/dev/null)
    check "fake: then chassis power status" "$got" \
        eval 'case $got in *"-E chassis power status ") true ;; *) false ;; esac'
    check "fake: the password is in no argv" "$(cat "$FAKE"/argv.*)" \
        eval '! grep -qF -- "$pw" "$FAKE"/argv.*'
    got=$(cat "$FAKE/password.0" 2>/dev/null)
    check "fake: the password came in IPMI_PASSWORD" "got '$got'" \
        test "$got" = "$pw"
    got=$(grep -E 'ovmm\.db|socket:|\.key|\.crt' "$FAKE/fds.0")
    check "fake: no database, key or socket descriptor leaked into ipmitool" \
        "$got" test -z "$got"
    check "fake: stdin is /dev/null" "$(cat "$FAKE/fds.0")" \
        grep -q ' 0 -> /dev/null' "$FAKE/fds.0"
    st=$(server_state "$S1")
    check "fake: sim-1 is STOPPED" "serverRunState $st" test "$st" = STOPPED

    # a hanging ipmitool is killed at ipmi_timeout, its children with it
    echo hang >"$FAKE/mode"
    rm -f "$FAKE/child"
    submit PUT "/Server/$S1/start"
    wait_job
    check "fake: a hanging ipmitool fails the job TIMEOUT" "$BODY" \
        test "$JSTATE/$(jget error.type)" = FAILURE/TIMEOUT
    got=$(( $(jget endTime) - $(jget startTime) ))
    check "fake: ... after ipmi_timeout (4 s), not later" "${got} ms" \
        test "$got" -ge 3500 -a "$got" -lt 10000
    local child
    child=$(cat "$FAKE/child" 2>/dev/null)
    check "fake: the hanging ipmitool's own child was killed too" \
        "child '$child'" eval '[ -n "$child" ] && gone "$child"'
    st=$(server_state "$S1")
    check "fake: the timed-out start put sim-1 back to STOPPED" \
        "serverRunState $st" test "$st" = STOPPED

    # an abort stops a hanging ipmitool at once
    rm -f "$FAKE/child"
    submit PUT "/Server/$S1/start"
    J=$JOB
    local i
    for i in $(seq 1 50); do
        [ -s "$FAKE/child" ] && break
        sleep 0.1
    done
    req PUT "/Job/$J/abort"
    check "fake: the running power job can be aborted" "status $ST, $BODY" \
        test "$ST" = 200
    JOB=$J
    wait_job
    check "fake: the aborted job ends ABORTED" "$BODY" test "$JSTATE" = ABORTED
    got=$(( $(jget endTime) - $(jget startTime) ))
    check "fake: ... well before ipmi_timeout" "${got} ms" test "$got" -lt 3500
    child=$(cat "$FAKE/child" 2>/dev/null)
    check "fake: the aborted ipmitool's child was killed" "child '$child'" \
        eval '[ -n "$child" ] && gone "$child"'
    st=$(server_state "$S1")
    check "fake: the aborted start put sim-1 back to STOPPED" \
        "serverRunState $st" test "$st" = STOPPED

    # a failing ipmitool: its message is the job's
    echo fail >"$FAKE/mode"
    submit PUT "/Server/$S1/start"
    wait_job
    got=$(jget error.message)
    check "fake: a failing ipmitool fails the job with its message" "$got" \
        eval 'case $got in *"the fake BMC refused"*) true ;; *) false ;; esac'

    # an ipmitool that prints the password: masked
    echo leak >"$FAKE/mode"
    submit PUT "/Server/$S1/start"
    wait_job
    got=$(jget error.message)
    check "fake: a password ipmitool prints is masked in the job's message" \
        "$got" eval 'case $got in *"bad password '"'"'****'"'"'"*) true ;; *) false ;; esac'
    CAPTURED=$BODY
    req GET "/Job/$JOB/transcript"
    CAPTURED="$CAPTURED$BODY"
    no_secret "fake: the password is in no job, log or database row" "$pw"
    stop_pid "$PID"
}

# ---- main ---------------------------------------------------------------------

ALL="ipmi fake"
missing=
[ -x "$OVMMD" ] || missing="$missing $OVMMD"
for c in curl node sqlite3; do
    command -v "$c" >/dev/null || missing="$missing $c"
done
if [ -n "$missing" ]; then
    tap fail "power: what the tests need is there" \
        "missing:$missing (make all; scripts/install-deps.sh test)"
    echo "1..$n"
    exit 1
fi
for t in ${*:-$ALL}; do
    if ! declare -F "t_$t" >/dev/null; then
        tap fail "power: unknown test group '$t'" "groups: $ALL"
        continue
    fi
    echo "# power: $t"
    group_start=$SECONDS
    "t_$t"
    cleanup
    echo "# power: $t took $((SECONDS - group_start)) s"
done
echo "1..$n"
[ "$failed" -eq 0 ]
