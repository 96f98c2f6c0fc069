#!/usr/bin/env bash
# tests/api/monitor.sh - monitoring and reconciliation against a real
# libvirtd (docs/MONITORING.md), as TAP:
#
#   discover   a libvirtd of our own (test driver, private unix socket) is
#              discovered by a test+unix:///<node file>?socket=<sock> URI;
#              the monitor fills runningDomains/memory figures and lists
#              the host's domains in foreignDomains, with a WARNING event
#   drop       libvirtd is killed (SIGKILL, by its PID): within 20 s the
#              server is UNKNOWN with an ERROR event server.unreachable
#   back-off   reconnection attempts 1 s, 2 s, 4 s apart show in the log
#   back       libvirtd restarted: RUNNING again with server.reachable
#   reconcile  ovmmd stopped; the host's domains change meanwhile; after
#              the restart foreignDomains shows the new set (nothing is
#              adopted) with events naming what appeared and went
#
# The libvirtd runs with its own config file, sockets, pid file, log and
# runtime directories under one temporary directory, no systemd, and
# LIBVIRT_DRIVER_DIR pointing at an empty directory: it loads no state
# driver (no QEMU, no network), and the test driver is built into
# libvirt itself. Only unix sockets and loopback; only processes started
# here are signalled, by PID.
#
# Environment: BUILD (default build), OVMMD (default $BUILD/ovmmd),
# LIBVIRTD (default: libvirtd on PATH or /usr/sbin/libvirtd), KEEP=1
# keeps the temporary directory, WAIT_S (default 30) bounds every wait.
set -u

cd "$(dirname "$0")/../.." || exit 2
BUILD=${BUILD:-build}
OVMMD=${OVMMD:-$BUILD/ovmmd}
WAIT_S=${WAIT_S:-30}
REST=/ovm/core/wsapi/rest
INTERVAL=2          # monitor_interval for this test, seconds

n=0
failed=0
PIDS=()

# shellcheck source=tests/api/tap.sh
. tests/api/tap.sh   # the cd above makes this path right

LIBVIRTD=${LIBVIRTD:-$(command -v libvirtd 2>/dev/null || echo /usr/sbin/libvirtd)}
if [ ! -x "$LIBVIRTD" ]; then
    # install-deps.sh test installs libvirt-daemon; say so plainly.
    echo "ok 1 - monitor: libvirtd # SKIP no libvirtd ('$LIBVIRTD'):" \
        "run scripts/install-deps.sh test (package libvirt-daemon)"
    exit 0
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/ovmm-monitor.XXXXXX") || exit 2
D=$T/data
LV=$T/lv
mkdir -p "$D" "$LV/run" "$LV/drivers" "$LV/xdg"
STARTS=0

forget() { # forget PID: reaped
    local p keep=()
    for p in "${PIDS[@]}"; do
        [ "$p" = "$1" ] || keep+=("$p")
    done
    PIDS=("${keep[@]}")
}

# stop_pid PID [SIG]: signal a process we started, bounded wait, reap.
stop_pid() {
    local pid=$1 sig=${2:-TERM} i
    kill -"$sig" "$pid" 2>/dev/null
    for i in $(seq 1 $((WAIT_S * 10))); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    forget "$pid"
}

cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        stop_pid "$p"
    done
    PIDS=()
    if [ "${KEEP:-0}" = 1 ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the host: a node file and a libvirtd of our own ----

domain() { # domain NAME UUID-SUFFIX [shutoff]
    local rs=''
    [ "${3:-}" = shutoff ] && rs='<test:runstate>5</test:runstate>'
    printf "  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>"
    printf "<name>%s</name><uuid>cccccccc-0000-4000-8000-%012d</uuid>" "$1" "$2"
    printf "<memory unit='MiB'>1024</memory><vcpu>1</vcpu><os><type>hvm</type></os>%s</domain>\n" "$rs"
}

write_node() { # write_node DOMAIN-LINES: the host's node file, atomically
    {
        echo "<node>"
        echo "  <cpu><mhz>2000</mhz><model>x86_64</model><active>8</active><nodes>1</nodes><sockets>1</sockets><cores>4</cores><threads>2</threads></cpu>"
        echo "  <memory>16777216</memory>"
        printf '%s' "$1"
        echo "</node>"
    } >"$T/host.xml.tmp" && mv "$T/host.xml.tmp" "$T/host.xml"
}

cat >"$LV/libvirtd.conf" <<EOF
unix_sock_dir = "$LV/run"
unix_sock_rw_perms = "0700"
unix_sock_ro_perms = "0700"
unix_sock_admin_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
listen_tls = 0
listen_tcp = 0
log_outputs = "3:file:$LV/libvirtd.log"
EOF
SOCK=$LV/run/libvirt-sock
LVPID=

# lv_start: start libvirtd in the foreground (we keep its PID), wait for
# its socket. Returns 1 when it does not come up.
lv_start() {
    local i
    rm -f "$SOCK" "$LV/run/libvirt-sock-ro" "$LV/run/libvirt-admin-sock"
    LIBVIRT_DRIVER_DIR=$LV/drivers XDG_RUNTIME_DIR=$LV/xdg \
        XDG_CONFIG_HOME=$LV/xdg XDG_CACHE_HOME=$LV/xdg \
        "$LIBVIRTD" -f "$LV/libvirtd.conf" -p "$LV/libvirtd.pid" \
        >>"$LV/stdout" 2>&1 &
    LVPID=$!
    PIDS+=("$LVPID")
    for i in $(seq 1 $((WAIT_S * 10))); do
        [ -S "$SOCK" ] && return 0
        kill -0 "$LVPID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

lv_diag() {
    echo "libvirtd stdout: $(tail -c 600 "$LV/stdout" 2>/dev/null)"
    echo "libvirtd log: $(tail -n 5 "$LV/libvirtd.log" 2>/dev/null)"
}

# ---- ovmmd ----

start() { # start ovmmd on $D; sets PID, BASE; 1 on failure
    STARTS=$((STARTS + 1))
    OUT=$T/stdout.$STARTS
    ERR=$T/stderr.$STARTS
    rm -f "$D/ovmmd.port"
    "$OVMMD" --foreground --data-dir "$D" --listen 127.0.0.1:0 \
        --set monitor_interval=$INTERVAL --set monitor_timeout=2 \
        >"$OUT" 2>"$ERR" &
    PID=$!
    PIDS+=("$PID")
    local i p port=
    for i in $(seq 1 $((WAIT_S * 10))); do
        if [ -s "$D/ovmmd.port" ]; then
            p=$(head -n 1 "$D/ovmmd.port")
            case $p in *[!0-9]* | '') ;; *) port=$p && break ;; esac
        fi
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$port" ] || return 1
    BASE=https://127.0.0.1:$port$REST
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
    echo "stderr: $(tail -c 600 "$ERR" 2>/dev/null)"
    echo "log: $(tail -n 8 "$D/logs/ovmmd.log" 2>/dev/null)"
}

# req METHOD PATH: as admin; sets ST and BODY.
req() {
    local f=$T/resp out
    rm -f "$f"
    if out=$(curl -sS --max-time 60 --cacert "$D/tls/server.crt" -o "$f" \
        -w '%{http_code}' -X "$1" -u "admin:$(head -n 1 "$D/admin-password")" \
        "$BASE$2" 2>"$T/curl.err"); then
        ST=$out
    else
        ST="curl-failed:$(cat "$T/curl.err")"
    fi
    BODY=$(cat "$f" 2>/dev/null)
}

# jfield NAME: the first "NAME" member's scalar value in $BODY.
jfield() {
    printf '%s' "$BODY" | tr -d '\n' |
        sed -n "s/.*\"$1\" *: *\"\{0,1\}\([^\",}]*\)\"\{0,1\}[,}].*/\1/p" |
        head -n 1
}

# foreign: the foreignDomains array of the Server in $BODY.
foreign() {
    printf '%s' "$BODY" | tr -d '\n' |
        sed -n 's/.*"foreignDomains" *: *\(\[[^]]*\]\).*/\1/p'
}

urlencode() {
    local s=$1 i c out=''
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        case $c in
        [a-zA-Z0-9.~_-]) out+=$c ;;
        *) out+=$(printf '%%%02X' "'$c") ;;
        esac
    done
    printf '%s' "$out"
}

server_state() { # sets STATE (and BODY) of server $SID
    req GET "/Server/$SID"
    STATE=$(jfield serverRunState)
}

# wait_state WANT SECONDS: poll until serverRunState is WANT; sets WAITED
# (seconds, one decimal). 1 on timeout.
wait_state() {
    local want=$1 limit=$2 t0 now
    t0=$(date +%s%N)
    while :; do
        server_state
        now=$(date +%s%N)
        WAITED=$(awk -v a="$t0" -v b="$now" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
        [ "$STATE" = "$want" ] && return 0
        awk -v w="$WAITED" -v l="$limit" 'BEGIN { exit !(w >= l) }' && return 1
        sleep 0.25
    done
}

# events TYPE: how many events of TYPE the server has; SEVERITY of the
# newest.
events() {
    req GET "/Event?object=$SID"
    local flat
    flat=$(printf '%s' "$BODY" | tr -d '\n' | sed 's/},{"id"/}\n{"id"/g')
    EVCOUNT=$(printf '%s\n' "$flat" | grep -c "\"type\" *: *\"$1\"")
    SEVERITY=$(printf '%s\n' "$flat" | grep "\"type\" *: *\"$1\"" | head -n 1 |
        sed -n 's/.*"severity" *: *"\([A-Z]*\)".*/\1/p')
    SUMMARY=$(printf '%s\n' "$flat" | grep "\"type\" *: *\"$1\"" | head -n 1 |
        sed -n 's/.*"summary" *: *"\([^"]*\)".*/\1/p')
}

# ---- the test ----

write_node "$(domain guest-a 1)
$(domain guest-b 2 shutoff)
"
if lv_start; then
    tap ok "libvirtd with the test driver runs on a private socket (pid $LVPID)"
else
    tap fail "libvirtd with the test driver runs on a private socket" "$(lv_diag)"
    echo "# libvirtd could not run here: see the diagnostics above"
    exit 1
fi
if ! start; then
    tap fail "ovmmd reaches RUNNING" "$(daemon_diag)"
    exit 1
fi
tap ok "ovmmd reaches RUNNING with monitor_interval=$INTERVAL"

URI="test+unix://$T/host.xml?socket=$SOCK"
req POST "/Server/discover?serverName=$(urlencode "$URI")"
JOB=$(printf '%s' "$BODY" | tr -d '\n' |
    sed -n 's/^{"id" *: *{[^}]*"value" *: *"\([0-9]*\)".*/\1/p')
SID=
if [ "$ST" = 200 ] && [ -n "$JOB" ]; then
    req GET "/Job/$JOB?wait=$WAIT_S"
    [ "$(jfield jobRunState)" = SUCCESS ] &&
        SID=$(printf '%s' "$BODY" | tr -d '\n' |
            sed -n 's/.*"resultId" *: *{[^}]*"value" *: *"\([^"]*\)".*/\1/p')
fi
if [ -n "$SID" ]; then
    tap ok "discover $URI"
else
    tap fail "discover $URI" "status $ST" "$BODY" "$(daemon_diag)"
    exit 1
fi

# The monitor's first visit: figures and the foreign domains.
ok=0
for i in $(seq 1 $((WAIT_S * 4))); do
    server_state
    [ "$(jfield runningDomains)" = 1 ] && ok=1 && break
    sleep 0.25
done
F=$(foreign)
if [ "$ok" = 1 ] && [ "$STATE" = RUNNING ] &&
    [ "$(jfield memoryUsed)" = 1024 ] &&
    [ "$(jfield memoryUtilization)" = 6 ] &&
    printf '%s' "$F" | grep -q '"name" *: *"guest-a".*"state" *: *"RUNNING"' &&
    printf '%s' "$F" | grep -q '"name" *: *"guest-b".*"state" *: *"STOPPED"'; then
    tap ok "monitor: runningDomains 1, memoryUsed 1024 (6 %), both domains in foreignDomains"
else
    tap fail "monitor: utilization and foreignDomains" "$BODY"
fi
events server.foreign_domains
if [ "$EVCOUNT" = 1 ] && [ "$SEVERITY" = WARNING ] &&
    printf '%s' "$SUMMARY" | grep -q 'guest-a, guest-b'; then
    tap ok "a WARNING event names the foreign domains: $SUMMARY"
else
    tap fail "a WARNING event names the foreign domains" "$BODY"
fi
sleep $((INTERVAL + 1))
server_state
if [ "$(jfield cpuUtilization)" != null ] && [ -n "$(jfield cpuUtilization)" ]; then
    tap ok "cpuUtilization from the second sample: $(jfield cpuUtilization) %"
else
    tap fail "cpuUtilization from the second sample" "$BODY"
fi

# The host goes away: kill -9 of libvirtd, by its PID.
stop_pid "$LVPID" KILL
if wait_state UNKNOWN 20; then
    tap ok "libvirtd killed: serverRunState UNKNOWN after ${WAITED} s (<= 20 s)"
else
    tap fail "libvirtd killed: serverRunState UNKNOWN within 20 s" \
        "state $STATE after $WAITED s" "$(daemon_diag)"
fi
if [ "$(jfield runningDomains)" = null ] &&
    [ -n "$(jfield unreachableReason)" ] && [ "$(jfield unreachableReason)" != null ]; then
    tap ok "unreachable: figures cleared, unreachableReason '$(jfield unreachableReason)'"
else
    tap fail "unreachable: figures cleared, unreachableReason set" "$BODY"
fi
events server.unreachable
if [ "$EVCOUNT" = 1 ] && [ "$SEVERITY" = ERROR ]; then
    tap ok "an ERROR event server.unreachable: $SUMMARY"
else
    tap fail "an ERROR event server.unreachable" "$BODY"
fi

# Back-off: attempts 1 s, 2 s, 4 s apart in the log.
ok=0
for i in $(seq 1 $((WAIT_S * 4))); do
    grep -q 'next attempt in 4000 ms' "$D/logs/ovmmd.log" 2>/dev/null && ok=1 && break
    sleep 0.25
done
if [ "$ok" = 1 ] && grep -q 'next attempt in 1000 ms' "$D/logs/ovmmd.log" &&
    grep -q 'next attempt in 2000 ms' "$D/logs/ovmmd.log"; then
    tap ok "reconnection backs off: 1000, 2000, 4000 ms in the log"
else
    tap fail "reconnection backs off: 1000, 2000, 4000 ms in the log" \
        "$(grep 'next attempt' "$D/logs/ovmmd.log" 2>/dev/null | tail -n 5)"
fi
grep 'next attempt in' "$D/logs/ovmmd.log" | sed 's/^/# log: /' | head -n 6

# The host comes back.
if lv_start && wait_state RUNNING 70; then
    tap ok "libvirtd restarted: serverRunState RUNNING after ${WAITED} s"
else
    tap fail "libvirtd restarted: serverRunState RUNNING" "state $STATE" \
        "$(lv_diag)" "$(daemon_diag)"
fi
events server.reachable
if [ "$EVCOUNT" = 1 ] && [ "$SEVERITY" = INFORMATIONAL ]; then
    tap ok "an event server.reachable: $SUMMARY"
else
    tap fail "an event server.reachable" "$BODY"
fi
if grep -q 'connected again after back-off' "$D/logs/ovmmd.log"; then
    tap ok "the log says: $(grep -o "server '[^']*': connected again after back-off of [0-9]* ms" "$D/logs/ovmmd.log" | tail -n 1)"
else
    tap fail "the log records the reconnection" "$(tail -n 8 "$D/logs/ovmmd.log")"
fi

# Reconciliation after ovmmd was down while the host's domains changed:
# guest-b gone, guest-c new (running). libvirtd reads the file again for
# every new connection, like a host that changed.
stop_pid "$PID"
write_node "$(domain guest-a 1)
$(domain guest-c 3)
"
if ! start; then
    tap fail "ovmmd restarts" "$(daemon_diag)"
    exit 1
fi
ok=0
for i in $(seq 1 $((WAIT_S * 4))); do
    server_state
    F=$(foreign)
    printf '%s' "$F" | grep -q '"guest-c"' && ok=1 && break
    sleep 0.25
done
if [ "$ok" = 1 ] && ! printf '%s' "$F" | grep -q '"guest-b"' &&
    printf '%s' "$F" | grep -q '"guest-a"' && [ "$STATE" = RUNNING ] &&
    [ "$(jfield runningDomains)" = 2 ]; then
    tap ok "after the restart foreignDomains is guest-a, guest-c (reconciled, not adopted)"
else
    tap fail "after the restart foreignDomains is guest-a, guest-c" "$BODY"
fi
events server.foreign_domains
flat=$(printf '%s' "$BODY" | tr -d '\n')
if [ "$EVCOUNT" = 3 ] &&
    printf '%s' "$flat" | grep -q 'domain(s) that are no VM of this Manager[^"]*: guest-c' &&
    printf '%s' "$flat" | grep -q 'no longer has 1 foreign domain(s): guest-b'; then
    tap ok "events name the domain that appeared (guest-c) and the one that went (guest-b)"
else
    tap fail "events name guest-c (new) and guest-b (gone)" "$BODY"
fi
if grep -q "reconciled server '[^']*': 2 domain(s), 0 VM(s), 2 foreign" "$D/logs/ovmmd.log"; then
    tap ok "the start-up reconciliation is logged"
else
    tap fail "the start-up reconciliation is logged" "$(grep reconciled "$D/logs/ovmmd.log")"
fi

# ---- VMs (the vms table of the storage issue; VM jobs come later) ----
# While ovmmd is down, its inventory gains three VMs on this server, as a
# Manager that was running them would have recorded them: vm-a (the
# domain guest-a, recorded STOPPED), vm-c (guest-c, recorded on no
# server) and vm-d (RUNNING, no domain at all). A VM's domain UUID is its
# id in UUID form. After the restart the reconciliation must find vm-a
# and vm-c running here (guest-a and guest-c are no longer foreign) and
# stop vm-d; when the host then goes away, the VMs it ran go STOPPED with
# OFFLINE events.
VMA=cccccccc000040008000000000000001
VMC=cccccccc000040008000000000000003
VMD=dddddddd000040008000000000000004
stop_pid "$PID"
now=$(date +%s)000
sqlite3 "$D/ovmm.db" "
INSERT INTO objects (id, type, name, created_ms, modified_ms) VALUES
 ('$VMA', 'Vm', 'vm-a', $now, $now), ('$VMC', 'Vm', 'vm-c', $now, $now),
 ('$VMD', 'Vm', 'vm-d', $now, $now);
INSERT INTO vms (id, run_state, server_id) VALUES
 ('$VMA', 'STOPPED', '$SID'), ('$VMC', 'STOPPED', NULL),
 ('$VMD', 'RUNNING', '$SID');" 2>"$T/sqlite.err" ||
    tap fail "the VMs are written into the inventory" "$(cat "$T/sqlite.err")"
if ! start; then
    tap fail "ovmmd restarts with VMs" "$(daemon_diag)"
    exit 1
fi
vm_state() { # vm_state ID: sets VMSTATE, VMSERVER (and BODY)
    req GET "/Vm/$1"
    VMSTATE=$(jfield vmRunState)
    VMSERVER=$(printf '%s' "$BODY" | tr -d '\n' |
        sed -n 's/.*"serverId" *: *{[^}]*"value" *: *"\([^"]*\)".*/\1/p')
}
ok=0
for i in $(seq 1 $((WAIT_S * 4))); do
    vm_state "$VMA"
    [ "$VMSTATE" = RUNNING ] && ok=1 && break
    sleep 0.25
done
if [ "$ok" = 1 ]; then
    tap ok "reconciliation: vm-a, recorded STOPPED, found running: RUNNING"
else
    tap fail "reconciliation: vm-a found running" "$BODY"
fi
vm_state "$VMC"
if [ "$VMSTATE" = RUNNING ] && [ "$VMSERVER" = "$SID" ]; then
    tap ok "reconciliation: vm-c, recorded on no server, moved here: RUNNING"
else
    tap fail "reconciliation: vm-c moved here and RUNNING" "$BODY"
fi
vm_state "$VMD"
if [ "$VMSTATE" = STOPPED ]; then
    tap ok "reconciliation: vm-d, recorded RUNNING but missing: STOPPED"
else
    tap fail "reconciliation: vm-d missing -> STOPPED" "$BODY"
fi
req GET "/Event?object=$VMD"
if printf '%s' "$BODY" | tr -d '\n' | grep -q '"type" *: *"vm.missing".*"severity" *: *"WARNING"\|"severity" *: *"WARNING".*"type" *: *"vm.missing"'; then
    tap ok "vm-d has a WARNING event vm.missing"
else
    tap fail "vm-d has a WARNING event vm.missing" "$BODY"
fi
server_state
F=$(foreign)
if [ "$F" = "[ ]" ] || [ "$F" = "[]" ]; then
    tap ok "guest-a and guest-c are VMs now, not foreign domains"
else
    tap fail "no foreign domains left" "$F"
fi
if grep -q "reconciled server '[^']*': 2 domain(s), 2 VM(s), 0 foreign" "$D/logs/ovmmd.log"; then
    tap ok "the log: 2 domain(s), 2 VM(s), 0 foreign"
else
    tap fail "the log: 2 domain(s), 2 VM(s), 0 foreign" "$(grep reconciled "$D/logs/ovmmd.log")"
fi

# The host goes away again: its VMs go STOPPED with OFFLINE events.
stop_pid "$LVPID" KILL
if wait_state UNKNOWN 20; then
    tap ok "libvirtd killed again: UNKNOWN after ${WAITED} s"
else
    tap fail "libvirtd killed again: UNKNOWN within 20 s" "state $STATE"
fi
vm_state "$VMA"
a=$VMSTATE
vm_state "$VMC"
if [ "$a" = STOPPED ] && [ "$VMSTATE" = STOPPED ]; then
    tap ok "the unreachable server's VMs vm-a and vm-c are STOPPED"
else
    tap fail "vm-a and vm-c STOPPED" "vm-a $a, vm-c $VMSTATE"
fi
req GET "/Event?object=$VMA"
if printf '%s' "$BODY" | tr -d '\n' | grep -q '"type" *: *"vm.offline"' &&
    printf '%s' "$BODY" | grep -q 'OFFLINE'; then
    tap ok "vm-a has an OFFLINE event (vm.offline)"
else
    tap fail "vm-a has an OFFLINE event" "$BODY"
fi

stop_pid "$PID"
echo "1..$n"
[ "$failed" -eq 0 ]
