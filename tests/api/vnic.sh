#!/usr/bin/env bash
# tests/api/vnic.sh - VNICs and MAC ranges (docs/NETWORKS.md, "VNICs and
# MAC ranges"), as TAP. One ovmmd with --simulate 3 and diagnostic jobs on
# a temporary data directory. VMs cannot be made through the API yet
# (issue 7), so the script starts the daemon once (to create the
# database), stops it and writes VMs into the inventory with sqlite3, as
# tests/api/monitor.sh does, then restarts it:
#
#   pvm1..pvm4  XEN_PVM, STOPPED      hvm   XEN_HVM, STOPPED
#   susp        XEN_HVM, SUSPENDED    run   XEN_HVM, RUNNING (no server)
#
# plus one VNIC of susp (0e:00:00:00:00:01) to refuse removing. Networks
# come from POST /Network: vmnet and vmnet2 (VIRTUAL_MACHINE), stnet
# (STORAGE).
#
#   ranges      the default range; create (any case, '-' separators),
#               every 400 (text, multicast, null, order, first octet,
#               name), overlap 409 naming the range, edit, stale
#               generation, delete
#   refusals    VNIC creation: unknown VM and network (404), no
#               networkId, a bad or multicast macAddress, another VM's
#               vmId (400), a STORAGE network, a SUSPENDED VM (409)
#   create      the lowest free address (02:21:f6:00:00:00), name = MAC,
#               slot 0, interfaceName ""; an explicit address (any case)
#               outside every range (on the RUNNING VM: its network can
#               then be neither deleted nor lose VIRTUAL_MACHINE, 409); a
#               duplicate (409 naming the VNIC);
#               a gap refilled after a delete, with the lowest free slot
#   edit        name, description, network (VIRTUAL_MACHINE only), the GET
#               body back, fixed members (400), stale generation (409)
#   delete      both routes; another VM's path (404); SUSPENDED (409)
#   limits      8 VNICs on the XEN_HVM VM, 31 on a XEN_PVM VM (409 after)
#   parallel    50 creations at once over pvm2..pvm4 (different VMs run in
#               parallel): every job SUCCESS, 50 distinct addresses (read
#               through the API), slots 0..n-1 per VM
#   exhaustion  a 4-address range as the only range: 4 VNICs fill it, the
#               5th is refused (409 "no free MAC address ... (4 addresses
#               in 1 range, all in use)"); a creation accepted while one
#               address was left, whose job waited behind a diagnostic job
#               holding its VM while another VM took that address, ends
#               FAILURE with the same message; no range at all: 409, an
#               explicit address still works
#
# Only the daemon started here is signalled, by PID.
#
# Environment: BUILD (default build), OVMMD (default $BUILD/ovmmd), KEEP=1
# keeps the temporary directory, WAIT_S (default 30) bounds every wait.
set -u

cd "$(dirname "$0")/../.." || exit 2
BUILD=${BUILD:-build}
OVMMD=${OVMMD:-$BUILD/ovmmd}
WAIT_S=${WAIT_S:-30}
REST=/ovm/core/wsapi/rest
PARALLEL=50

n=0
failed=0
PID=

# shellcheck source=tests/api/tap.sh
. tests/api/tap.sh   # the cd above makes this path right

T=$(mktemp -d "${TMPDIR:-/tmp}/ovmm-vnic.XXXXXX") || exit 2
D=$T/data
mkdir -p "$D"

stop_daemon() { # signal the daemon started here, bounded wait; sets DST
    local i
    DST=
    [ -n "$PID" ] || return 0
    kill -TERM "$PID" 2>/dev/null
    for i in $(seq 1 $((WAIT_S * 10))); do
        if ! kill -0 "$PID" 2>/dev/null; then
            wait "$PID"
            DST=$?
            break
        fi
        sleep 0.1
    done
    if [ -z "$DST" ]; then
        kill -KILL "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
    fi
    PID=
}

cleanup() {
    stop_daemon
    if [ "${KEEP:-0}" = 1 ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

daemon_diag() {
    echo "stderr: $(tail -c 600 "$T/stderr" 2>/dev/null)"
    echo "log: $(tail -n 8 "$D/logs/ovmmd.log" 2>/dev/null)"
}

# req METHOD PATH [BODY]: as admin, through the session login() opened
# (a cookie and the CSRF token: Basic authentication hashes the password
# on every request, which would make the hundreds here slow); sets ST and
# BODY. The helpers below parse with bash's own regular expressions:
# hundreds of sed and grep processes would take longer than the daemon.
req() {
    local f=$T/resp data=()
    rm -f "$f"
    [ $# -ge 3 ] && data=(-H 'Content-Type: application/json' --data "$3")
    if curl -sS --max-time 60 --cacert "$D/tls/server.crt" -o "$f" \
        -w '%{http_code}' -X "$1" -b "$T/cookies" -H "X-CSRF-Token: $CSRF" \
        "${data[@]}" "$BASE$2" >"$T/status" 2>"$T/curl.err"; then
        read -r ST <"$T/status"
    else
        ST="curl-failed:$(cat "$T/curl.err")"
    fi
    BODY=
    [ -f "$f" ] && IFS= read -r -d '' BODY <"$f"
    BODY=${BODY//$'\n'/}
}

# jfield NAME: the scalar member NAME of $BODY, outside its SimpleIds
# (whose names would match "name" too); the first one.
jfield() {
    local s=$BODY re='\{"type" *:[^{}]*\}' e='{}'
    while [[ $s =~ $re ]]; do
        s=${s/"${BASH_REMATCH[0]}"/$e}
    done
    re="\"$1\" *: *\"?([^\",}]*)\"?[,}]"
    [[ $s =~ $re ]] && printf '%s\n' "${BASH_REMATCH[1]}"
}

# jref NAME: the "value" of the first SimpleId member NAME in $BODY.
jref() {
    local re="\"$1\" *: *\\{[^}]*\"value\" *: *\"([^\"]*)\""
    [[ $BODY =~ $re ]] && printf '%s\n' "${BASH_REMATCH[1]}"
}

# msg: the error message of $BODY.
msg() {
    local re='"message" *: *"([^"]*)"'
    [[ $BODY =~ $re ]] && printf '%s\n' "${BASH_REMATCH[1]}"
}

# job_id: the id of the Job in $BODY.
job_id() {
    local re='^\{"id" *: *\{[^}]*"value" *: *"([0-9]*)"'
    [[ $BODY =~ $re ]] && printf '%s\n' "${BASH_REMATCH[1]}"
}

# wait_job ID: waits for job ID; sets BODY (the Job), JSTATE, JERROR,
# RESULT (the resultId value).
wait_job() {
    local re='"error" *: *\{"message" *: *"([^"]*)"'
    req GET "/Job/$1?wait=$WAIT_S"
    JSTATE=$(jfield jobRunState)
    JERROR=
    [[ $BODY =~ $re ]] && JERROR=${BASH_REMATCH[1]}
    RESULT=$(jref resultId)
}

# run METHOD PATH [BODY]: a change; waits for its job. Sets ST, BODY (the
# finished Job), JSTATE, JERROR, RESULT.
run() {
    local job
    req "$@"
    JSTATE= JERROR= RESULT=
    [ "$ST" = 200 ] || return 1
    job=$(job_id)
    [ -n "$job" ] || return 1
    wait_job "$job"
    [ "$JSTATE" = SUCCESS ]
}

# refused NAME STATUS PATTERN METHOD PATH [BODY]: the request is answered
# STATUS with a message matching PATTERN (grep -E), with no job.
refused() {
    local name=$1 status=$2 pat=$3
    shift 3
    req "$@"
    if [ "$ST" = "$status" ] && [[ $(msg) =~ $pat ]]; then
        tap ok "$name ($status)"
    else
        tap fail "$name ($status, /$pat/)" "$ST $BODY"
    fi
}

login() { # log in as admin: the cookie jar $T/cookies and CSRF; 1 on failure
    local pw
    pw=$(head -n 1 "$D/admin-password" 2>/dev/null) || return 1
    BODY=$(curl -sS --max-time 60 --cacert "$D/tls/server.crt" \
        -c "$T/cookies" -H 'Content-Type: application/json' \
        --data "{\"username\": \"admin\", \"password\": \"$pw\"}" \
        "$BASE/login" 2>"$T/curl.err") || return 1
    CSRF=$(jfield csrfToken)
    [ -n "$CSRF" ]
}

start() { # start ovmmd on $D; sets PID, BASE; 1 on failure
    rm -f "$D/ovmmd.port"
    "$OVMMD" --foreground --data-dir "$D" --listen 127.0.0.1:0 --simulate 3 \
        --set job_diagnostics=true >"$T/stdout" 2>"$T/stderr" &
    PID=$!
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
        login && req GET /Manager
        [ "$ST" = 200 ] && printf '%s' "$BODY" |
            grep -Eq '"managerRunState" *: *"RUNNING"' && return 0
        kill -0 "$PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# vnic_add VM BODY: POST /Vm/VM/VirtualNic and wait; sets what run sets
# and MAC, SLOT, NAME of the new VNIC (empty when it failed).
vnic_add() {
    MAC= SLOT= NAME=
    run POST "/Vm/$1/VirtualNic" "$2" || return 1
    req GET "/VirtualNic/$RESULT"
    MAC=$(jfield macAddress)
    SLOT=$(jfield slot)
    NAME=$(jfield name)
    JSTATE=SUCCESS
}

# macs: every VNIC address, one per line (GET /VirtualNic).
macs() {
    req GET /VirtualNic
    printf '%s' "$BODY" | grep -o '"macAddress" *: *"[^"]*"' |
        sed 's/.*: *"\([^"]*\)"/\1/'
}

# count_vnics VM: how many VNICs VM VM has (its virtualNicIds).
count_vnics() {
    local re='"virtualNicIds" *: *\[([^]]*)\]' a b
    req GET "/Vm/$1"
    if [[ $BODY =~ $re ]]; then
        a=${BASH_REMATCH[1]}
        b=${a//\"value\"/}
        echo $(((${#a} - ${#b}) / 7))
    else
        echo none
    fi
}

# ---- set-up ----

if ! start; then
    tap fail "ovmmd reaches RUNNING" "$(daemon_diag)"
    echo "1..$n"
    exit 1
fi
tap ok "ovmmd reaches RUNNING"

VMNET= VMNET2= STNET=
run POST /Network '{"name": "vmnet", "roles": ["VIRTUAL_MACHINE"]}' &&
    VMNET=$RESULT
run POST /Network '{"name": "vmnet2", "roles": ["VIRTUAL_MACHINE", "STORAGE"]}' &&
    VMNET2=$RESULT
run POST /Network '{"name": "stnet", "roles": ["STORAGE"]}' && STNET=$RESULT
if [ -n "$VMNET" ] && [ -n "$VMNET2" ] && [ -n "$STNET" ]; then
    tap ok "networks vmnet, vmnet2 (VIRTUAL_MACHINE) and stnet (STORAGE) made"
else
    tap fail "networks made" "$ST $JSTATE $JERROR" "$BODY"
    echo "1..$n"
    exit 1
fi

P=0004fb0000060000aaaaaaaaaaaa
PVM1=${P}0001 PVM2=${P}0002 PVM3=${P}0003 PVM4=${P}0004
HVM=${P}0011 SUSP=${P}0012 RUN=${P}0013
SNIC=0004fb0000070000aaaaaaaaaaaa0100
stop_daemon
now=$(date +%s)000
if sqlite3 "$D/ovmm.db" "
PRAGMA foreign_keys = ON;
INSERT INTO objects (id, type, name, created_ms, modified_ms) VALUES
 ('$PVM1', 'Vm', 'pvm1', $now, $now), ('$PVM2', 'Vm', 'pvm2', $now, $now),
 ('$PVM3', 'Vm', 'pvm3', $now, $now), ('$PVM4', 'Vm', 'pvm4', $now, $now),
 ('$HVM', 'Vm', 'hvm', $now, $now), ('$SUSP', 'Vm', 'susp', $now, $now),
 ('$RUN', 'Vm', 'run', $now, $now),
 ('$SNIC', 'VirtualNic', 'susp-nic', $now, $now);
INSERT INTO vms (id, run_state, domain_type) VALUES
 ('$PVM1', 'STOPPED', 'XEN_PVM'), ('$PVM2', 'STOPPED', 'XEN_PVM'),
 ('$PVM3', 'STOPPED', 'XEN_PVM'), ('$PVM4', 'STOPPED', 'XEN_PVM'),
 ('$HVM', 'STOPPED', 'XEN_HVM'), ('$SUSP', 'SUSPENDED', 'XEN_HVM'),
 ('$RUN', 'RUNNING', 'XEN_HVM');
INSERT INTO virtual_nics (id, vm_id, network_id, mac_address, mac_int, slot)
VALUES ('$SNIC', '$SUSP', '$VMNET', '0e:00:00:00:00:01', 15393162788865, 0);
" 2>"$T/sqlite.err"; then
    tap ok "seven VMs and a VNIC of the SUSPENDED one written into the inventory"
else
    tap fail "VMs written into the inventory" "$(cat "$T/sqlite.err")"
fi
if ! start; then
    tap fail "ovmmd restarts with the VMs" "$(daemon_diag)"
    echo "1..$n"
    exit 1
fi
req GET "/Vm/$SUSP"
s1=$(jfield vmRunState)
req GET "/Vm/$RUN"
if [ "$s1" = SUSPENDED ] && [ "$(jfield vmRunState)" = RUNNING ] &&
    [ "$(count_vnics "$SUSP")" = 1 ]; then
    tap ok "ovmmd restarts: susp SUSPENDED with its VNIC, run RUNNING"
else
    tap fail "the VMs as written" "$s1 $BODY"
fi

# ---- ranges ----

req GET /MacRange
DEF=$(jref id)
if [ "$ST" = 200 ] && [ "$(printf '%s' "$BODY" | grep -o '"startMacAddress"' | wc -l)" = 1 ] &&
    [ "$(jfield name)" = Default ] &&
    [ "$(jfield startMacAddress)" = 02:21:f6:00:00:00 ] &&
    [ "$(jfield endMacAddress)" = 02:21:f6:ff:ff:ff ]; then
    tap ok "ranges: the default range 02:21:f6:00:00:00-02:21:f6:ff:ff:ff is the only one"
else
    tap fail "ranges: the default range" "$ST $BODY"
fi

rng() { # rng NAME START END: a MacRange body
    printf '{"name": "%s", "startMacAddress": "%s", "endMacAddress": "%s"}' "$1" "$2" "$3"
}
refused "ranges: a name is required" 400 "needs a 'name'" \
    POST /MacRange '{"startMacAddress": "0a:00:00:00:00:00", "endMacAddress": "0a:00:00:00:00:ff"}'
refused "ranges: both ends are required" 400 "needs 'startMacAddress' and 'endMacAddress'" \
    POST /MacRange '{"name": "x", "startMacAddress": "0a:00:00:00:00:00"}'
for bad in 0a:00:00:00:00 0a:00:00:00:00:0g 0a-00:00:00:00:00 a:00:00:00:00:00:0 \
    '0a:00:00:00:00:00 ' 0a.00.00.00.00.00 0a:00:00:00:00:000; do
    refused "ranges: '$bad' is not a MAC address" 400 \
        "'startMacAddress' is not a MAC address" \
        POST /MacRange "$(rng x "$bad" 0a:00:00:00:00:ff)"
done
refused "ranges: a non-string address" 400 "startMacAddress" \
    POST /MacRange '{"name": "x", "startMacAddress": 12, "endMacAddress": "0a:00:00:00:00:ff"}'
refused "ranges: a multicast end" 400 "'endMacAddress' '0b:00:00:00:00:00' is a multicast address" \
    POST /MacRange "$(rng x 0a:00:00:00:00:00 0b:00:00:00:00:00)"
refused "ranges: the null address" 400 "is the null address" \
    POST /MacRange "$(rng x 00:00:00:00:00:00 00:00:00:00:00:ff)"
refused "ranges: start after end" 400 "'0a:00:00:00:01:00' comes after 'endMacAddress' '0a:00:00:00:00:ff'" \
    POST /MacRange "$(rng x 0a:00:00:00:01:00 0a:00:00:00:00:ff)"
refused "ranges: one first octet" 400 "spans more than one first octet" \
    POST /MacRange "$(rng x 0a:00:00:00:00:00 0c:00:00:00:00:00)"
refused "ranges: overlapping the default range" 409 \
    "overlaps MAC range 'Default' \\(02:21:f6:00:00:00-02:21:f6:ff:ff:ff\\)" \
    POST /MacRange "$(rng x 02:21:f5:ff:ff:00 02:21:f6:00:00:00)"

LAB=
run POST /MacRange '{"name": "lab", "description": "test", "startMacAddress": "0A-00-00-00-00-00", "endMacAddress": "0a-00-00-00-00-FF"}' &&
    LAB=$RESULT
req GET "/MacRange/$LAB"
if [ -n "$LAB" ] && [ "$(jfield startMacAddress)" = 0a:00:00:00:00:00 ] &&
    [ "$(jfield endMacAddress)" = 0a:00:00:00:00:ff ] &&
    [ "$(jfield description)" = test ]; then
    tap ok "ranges: 'lab' created from '0A-00-00-00-00-00', stored as 0a:00:00:00:00:00-0a:00:00:00:00:ff"
else
    tap fail "ranges: 'lab' created" "$JSTATE $JERROR" "$BODY"
fi
LAB2=
run POST /MacRange "$(rng lab2 0a:00:00:01:00:00 0a:00:00:01:00:ff)" && LAB2=$RESULT
refused "ranges: an edit overlapping another range" 409 \
    "overlaps MAC range 'lab' \\(0a:00:00:00:00:00-0a:00:00:00:00:ff\\)" \
    PUT "/MacRange/$LAB2" '{"startMacAddress": "0a:00:00:00:00:80"}'
refused "ranges: an edit with a stale generation" 409 "generation" \
    PUT "/MacRange/$LAB2" '{"name": "lab3", "generation": 7}'
run PUT "/MacRange/$LAB2" '{"name": "lab3", "startMacAddress": "0a:00:00:00:01:00", "endMacAddress": "0a:00:00:00:01:ff", "generation": 0}'
req GET "/MacRange/$LAB2"
if [ "$(jfield name)" = lab3 ] && [ "$(jfield startMacAddress)" = 0a:00:00:00:01:00 ] &&
    [ "$(jfield endMacAddress)" = 0a:00:00:00:01:ff ] && [ "$(jfield generation)" = 1 ]; then
    tap ok "ranges: edited to 'lab3', 0a:00:00:00:01:00-0a:00:00:00:01:ff (adjacent to lab: no overlap)"
else
    tap fail "ranges: edit" "$JSTATE $JERROR" "$BODY"
fi
req GET "/Event?object=$LAB2"
if printf '%s' "$BODY" | grep -q '"macrange.updated"' &&
    printf '%s' "$BODY" | grep -q 'addresses 0a:00:00:00:01:00-0a:00:00:00:01:ff (were 0a:00:00:01:00:00-0a:00:00:01:00:ff)'; then
    tap ok "ranges: macrange.updated says what changed"
else
    tap fail "ranges: macrange.updated event" "$BODY"
fi
run DELETE "/MacRange/$LAB2"
req GET "/MacRange/$LAB2"
if [ "$JSTATE" = SUCCESS ] && [ "$ST" = 404 ]; then
    tap ok "ranges: 'lab3' deleted"
else
    tap fail "ranges: delete" "$JSTATE $JERROR" "$ST"
fi

# ---- VNIC refusals ----

vn() { # vn NETWORK [MEMBERS]: a VirtualNic body
    printf '{"networkId": {"type": "com.oracle.ovm.mgr.ws.model.Network", "value": "%s"}%s}' "$1" "${2:+, $2}"
}
refused "create: unknown VM" 404 "not found" \
    POST "/Vm/${P}9999/VirtualNic" "$(vn "$VMNET")"
refused "create: a networkId is required" 400 "needs a 'networkId'" \
    POST "/Vm/$HVM/VirtualNic" '{"name": "x"}'
refused "create: unknown network" 404 "not found" \
    POST "/Vm/$HVM/VirtualNic" "$(vn 0004fb0000100000ffffffffffffffff)"
refused "create: a network without VIRTUAL_MACHINE" 409 \
    "network 'stnet' does not have the VIRTUAL_MACHINE role" \
    POST "/Vm/$HVM/VirtualNic" "$(vn "$STNET")"
refused "create: a bad macAddress" 400 "'macAddress' is not a MAC address" \
    POST "/Vm/$HVM/VirtualNic" "$(vn "$VMNET" '"macAddress": "00:21:f6:00:00"')"
refused "create: a multicast macAddress" 400 "'macAddress' '01:00:5e:00:00:01' is a multicast address" \
    POST "/Vm/$HVM/VirtualNic" "$(vn "$VMNET" '"macAddress": "01:00:5E:00:00:01"')"
refused "create: the broadcast address" 400 "multicast" \
    POST "/Vm/$HVM/VirtualNic" "$(vn "$VMNET" '"macAddress": "ff:ff:ff:ff:ff:ff"')"
refused "create: another VM's vmId in the body" 400 "is not the VM in the path" \
    POST "/Vm/$HVM/VirtualNic" "$(vn "$VMNET" "\"vmId\": \"$RUN\"")"
refused "create: a SUSPENDED VM" 409 "cannot add a VNIC to VM 'susp' while it is SUSPENDED" \
    POST "/Vm/$SUSP/VirtualNic" "$(vn "$VMNET")"

# ---- create ----

N1=
vnic_add "$HVM" "$(vn "$VMNET")" && N1=$RESULT
req GET "/VirtualNic/$N1"
if [ -n "$N1" ] && [ "$(jfield macAddress)" = 02:21:f6:00:00:00 ] &&
    [ "$(jfield name)" = 02:21:f6:00:00:00 ] && [ "$(jfield slot)" = 0 ] &&
    [ "$(jfield interfaceName)" = "" ] && [ "$(jref vmId)" = "$HVM" ] &&
    [ "$(jref networkId)" = "$VMNET" ]; then
    tap ok "create: hvm's first VNIC takes 02:21:f6:00:00:00 (the lowest free), named by it, slot 0"
else
    tap fail "create: the first VNIC" "$JSTATE $JERROR" "$BODY"
fi
req GET "/Vm/$HVM"
if [ "$(count_vnics "$HVM")" = 1 ] && [ "$(jfield generation)" = 1 ]; then
    tap ok "create: the VM lists it in virtualNicIds and its generation went up"
else
    tap fail "create: the VM lists it" "$BODY"
fi
req GET "/Network/$VMNET/VirtualNic"
if printf '%s' "$BODY" | grep -q "\"value\" *: *\"$N1\""; then
    tap ok "create: GET /Network/{id}/VirtualNic lists it"
else
    tap fail "create: the network lists it" "$BODY"
fi
req GET "/Event?object=$N1"
if printf '%s' "$BODY" | grep -q '"virtualnic.created"' &&
    printf '%s' "$BODY" | grep -q "VNIC '02:21:f6:00:00:00' (MAC 02:21:f6:00:00:00, from the MAC ranges, slot 0) added to VM 'hvm' on network 'vmnet'"; then
    tap ok "create: event virtualnic.created"
else
    tap fail "create: event virtualnic.created" "$BODY"
fi

NX=
vnic_add "$RUN" "$(vn "$VMNET" '"macAddress": "0A-00-00-00-00-05", "name": "explicit"')" &&
    NX=$RESULT
if [ -n "$NX" ] && [ "$MAC" = 0a:00:00:00:00:05 ] && [ "$NAME" = explicit ] &&
    [ "$SLOT" = 0 ]; then
    tap ok "create: an explicit address (0A-00-00-00-00-05) on the RUNNING VM, stored as 0a:00:00:00:00:05"
else
    tap fail "create: explicit address" "$JSTATE $JERROR" "$MAC $NAME $SLOT"
fi
# A running VM's VNIC keeps its network (docs/NETWORKS.md, "Roles and
# network types").
refused "networks: a network a RUNNING VM has a VNIC on cannot be deleted" 409 \
    "cannot delete network 'vmnet': VM 'run' \\(RUNNING\\) has VNIC 'explicit' on it" \
    DELETE "/Network/$VMNET"
refused "networks: nor lose its VIRTUAL_MACHINE role" 409 \
    "cannot remove the VIRTUAL_MACHINE role of network 'vmnet': VM 'run'" \
    PUT "/Network/$VMNET" '{"roles": ["STORAGE"]}'
refused "create: an address another VNIC has" 409 \
    "MAC address '0a:00:00:00:00:05' is used by VNIC 'explicit' of VM 'run'" \
    POST "/Vm/$PVM1/VirtualNic" "$(vn "$VMNET" '"macAddress": "0a:00:00:00:00:05"')"
vnic_add "$RUN" "$(vn "$VMNET2" '"macAddress": "52:54:00:12:34:56"')"
if [ "$MAC" = 52:54:00:12:34:56 ] && [ "$SLOT" = 1 ]; then
    tap ok "create: an explicit address outside every range (52:54:00:12:34:56), slot 1"
else
    tap fail "create: address outside the ranges" "$JSTATE $JERROR" "$MAC $SLOT"
fi
N2=
vnic_add "$HVM" "$(vn "$VMNET" '"name": "second", "description": "d"')" && N2=$RESULT
if [ "$MAC" = 02:21:f6:00:00:01 ] && [ "$SLOT" = 1 ] && [ "$NAME" = second ]; then
    tap ok "create: the next one takes 02:21:f6:00:00:01, slot 1, its own name"
else
    tap fail "create: the next address" "$JSTATE $JERROR" "$MAC $SLOT $NAME"
fi
run DELETE "/VirtualNic/$N1"
req GET "/VirtualNic/$N1"
if [ "$JSTATE" = SUCCESS ] && [ "$ST" = 404 ] && [ "$(count_vnics "$HVM")" = 1 ]; then
    tap ok "delete: DELETE /VirtualNic/{id} removes it from the VM"
else
    tap fail "delete: DELETE /VirtualNic/{id}" "$JSTATE $JERROR" "$ST"
fi
vnic_add "$HVM" "$(vn "$VMNET")"
if [ "$MAC" = 02:21:f6:00:00:00 ] && [ "$SLOT" = 0 ]; then
    tap ok "create: the freed address and slot are taken again (02:21:f6:00:00:00, slot 0)"
else
    tap fail "create: the gap is refilled" "$JSTATE $JERROR" "$MAC $SLOT"
fi
N1=$RESULT

# ---- edit ----

run PUT "/VirtualNic/$N2" "{\"name\": \"renamed\", \"description\": \"eth1\", \"networkId\": \"$VMNET2\"}"
req GET "/VirtualNic/$N2"
if [ "$JSTATE" = SUCCESS ] && [ "$(jfield name)" = renamed ] &&
    [ "$(jfield description)" = eth1 ] && [ "$(jref networkId)" = "$VMNET2" ] &&
    [ "$(jfield macAddress)" = 02:21:f6:00:00:01 ]; then
    tap ok "edit: name, description and network (vmnet2) changed, the address kept"
else
    tap fail "edit: name, description, network" "$JSTATE $JERROR" "$BODY"
fi
req GET "/Event?object=$N2"
if printf '%s' "$BODY" | grep -q "VNIC 'renamed' updated: network 'vmnet2', name (was 'second'), description"; then
    tap ok "edit: event virtualnic.updated says what changed"
else
    tap fail "edit: event" "$BODY"
fi
req GET "/VirtualNic/$N2"
GETBODY=$BODY
run PUT "/VirtualNic/$N2" "$GETBODY"
if [ "$JSTATE" = SUCCESS ]; then
    tap ok "edit: the GET body back is accepted"
else
    tap fail "edit: the GET body back" "$ST $JSTATE $JERROR" "$BODY"
fi
refused "edit: the same body again, now stale" 409 "generation" \
    PUT "/VirtualNic/$N2" "$GETBODY"
refused "edit: a STORAGE network" 409 "network 'stnet' does not have the VIRTUAL_MACHINE role" \
    PUT "/VirtualNic/$N2" "{\"networkId\": \"$STNET\"}"
refused "edit: an unknown network" 404 "not found" \
    PUT "/VirtualNic/$N2" '{"networkId": "0004fb0000100000ffffffffffffffff"}'
refused "edit: the address cannot change" 400 "'macAddress' of VNIC 'renamed' cannot change" \
    PUT "/VirtualNic/$N2" '{"macAddress": "02:21:f6:00:00:09"}'
refused "edit: the VM cannot change" 400 "cannot move to another VM" \
    PUT "/VirtualNic/$N2" "{\"vmId\": \"$RUN\"}"
refused "edit: the slot cannot change" 400 "'slot' of VNIC 'renamed' cannot change" \
    PUT "/VirtualNic/$N2" '{"slot": 5}'
refused "edit: an empty name" 400 "name" \
    PUT "/VirtualNic/$N2" '{"name": ""}'
run PUT "/VirtualNic/$N2" '{"macAddress": "02-21-F6-00-00-01", "interfaceName": "vif9.0"}'
req GET "/VirtualNic/$N2"
if [ "$JSTATE" = SUCCESS ] && [ "$(jfield interfaceName)" = "" ]; then
    tap ok "edit: the same address in another spelling is accepted, interfaceName ignored"
else
    tap fail "edit: same address, interfaceName" "$JSTATE $JERROR" "$BODY"
fi

# ---- delete ----

refused "delete: a SUSPENDED VM's VNIC" 409 "cannot remove VNIC 'susp-nic' from VM 'susp' while it is SUSPENDED" \
    DELETE "/VirtualNic/$SNIC"
refused "delete: through the SUSPENDED VM too" 409 "SUSPENDED" \
    DELETE "/Vm/$SUSP/VirtualNic/$SNIC"
refused "delete: through another VM's path" 404 "not found in VM 'run'" \
    DELETE "/Vm/$RUN/VirtualNic/$N2"
refused "delete: an unknown VNIC" 404 "not found" \
    DELETE "/VirtualNic/0004fb0000070000ffffffffffffffff"
run DELETE "/Vm/$HVM/VirtualNic/$N2"
req GET "/VirtualNic/$N2"
if [ "$JSTATE" = SUCCESS ] && [ "$ST" = 404 ]; then
    tap ok "delete: DELETE /Vm/{id}/VirtualNic/{vnicId}"
else
    tap fail "delete: through the VM" "$JSTATE $JERROR" "$ST"
fi
req GET "/Event?object=$N2"
if printf '%s' "$BODY" | grep -q '"virtualnic.deleted"' &&
    printf '%s' "$BODY" | grep -q "VNIC 'renamed' (MAC 02:21:f6:00:00:01, slot 1) removed from VM 'hvm'"; then
    tap ok "delete: event virtualnic.deleted"
else
    tap fail "delete: event" "$BODY"
fi

# ---- limits ----

ok=1
for i in $(seq 2 8); do
    vnic_add "$HVM" "$(vn "$VMNET")" || { ok=0; break; }
done
if [ "$ok" = 1 ] && [ "$(count_vnics "$HVM")" = 8 ]; then
    tap ok "limits: the XEN_HVM VM gets 8 VNICs"
else
    tap fail "limits: 8 VNICs on hvm" "$ST $JSTATE $JERROR" "$(count_vnics "$HVM")"
fi
refused "limits: not a 9th on the XEN_HVM VM" 409 "VM 'hvm' has 8 VNICs already, the most a XEN_HVM VM can have" \
    POST "/Vm/$HVM/VirtualNic" "$(vn "$VMNET")"
ok=1
for i in $(seq 1 31); do
    vnic_add "$PVM1" "$(vn "$VMNET")" || { ok=0; break; }
done
if [ "$ok" = 1 ] && [ "$(count_vnics "$PVM1")" = 31 ] && [ "$SLOT" = 30 ]; then
    tap ok "limits: the XEN_PVM VM gets 31 VNICs (slots 0..30)"
else
    tap fail "limits: 31 VNICs on pvm1" "$ST $JSTATE $JERROR" "$(count_vnics "$PVM1") $SLOT"
fi
refused "limits: not a 32nd on the XEN_PVM VM" 409 "VM 'pvm1' has 31 VNICs already, the most a XEN_PVM VM can have" \
    POST "/Vm/$PVM1/VirtualNic" "$(vn "$VMNET")"

# ---- parallel ----

PAR=$T/par
mkdir -p "$PAR"
pids=()
for i in $(seq 1 $PARALLEL); do
    case $((i % 3)) in 0) vm=$PVM2 ;; 1) vm=$PVM3 ;; *) vm=$PVM4 ;; esac
    curl -sS --max-time 60 --cacert "$D/tls/server.crt" -b "$T/cookies" \
        -H "X-CSRF-Token: $CSRF" \
        -H 'Content-Type: application/json' --data "$(vn "$VMNET")" \
        -o "$PAR/$i" -w '%{http_code}' -X POST "$BASE/Vm/$vm/VirtualNic" \
        >"$PAR/$i.status" 2>"$PAR/$i.err" &
    pids+=($!)
done
for p in "${pids[@]}"; do
    wait "$p"
done
accepted=0 succeeded=0 bad=
for i in $(seq 1 $PARALLEL); do
    BODY=$(cat "$PAR/$i" 2>/dev/null)
    if [ "$(cat "$PAR/$i.status" 2>/dev/null)" = 200 ] && job=$(job_id) && [ -n "$job" ]; then
        accepted=$((accepted + 1))
        wait_job "$job"
        if [ "$JSTATE" = SUCCESS ]; then
            succeeded=$((succeeded + 1))
        else
            bad="$bad job $job: $JSTATE $JERROR;"
        fi
    else
        bad="$bad request $i: $(cat "$PAR/$i.status" 2>/dev/null) $BODY;"
    fi
done
if [ "$accepted" = $PARALLEL ] && [ "$succeeded" = $PARALLEL ]; then
    tap ok "parallel: $PARALLEL concurrent creations over pvm2..pvm4, every job SUCCESS"
else
    tap fail "parallel: $PARALLEL concurrent creations" \
        "$accepted accepted, $succeeded succeeded" "$bad"
fi
all=$(macs)
total=$(printf '%s\n' "$all" | grep -c .)
distinct=$(printf '%s\n' "$all" | sort -u | grep -c .)
pv=$(( $(count_vnics "$PVM2") + $(count_vnics "$PVM3") + $(count_vnics "$PVM4") ))
if [ "$pv" = $PARALLEL ] && [ "$total" = "$distinct" ]; then
    tap ok "parallel: $PARALLEL new VNICs, all $total addresses distinct (GET /VirtualNic)"
else
    tap fail "parallel: distinct addresses" "$pv VNICs on pvm2..4; $total addresses, $distinct distinct" \
        "$(printf '%s\n' "$all" | sort | uniq -d)"
fi
# Nothing was freed in between: the ranges are filled from the bottom, so
# the default range's addresses in use are exactly 02:21:f6:00:00:00 up to
# the highest, without a gap.
inrange=$(printf '%s\n' "$all" | grep -c '^02:21:f6:')
want=$(printf '02:21:f6:00:%02x:%02x' $(((inrange - 1) / 256)) $(((inrange - 1) % 256)))
if [ "$(printf '%s\n' "$all" | grep '^02:21:f6:' | sort | tail -n 1)" = "$want" ]; then
    tap ok "parallel: the default range is used without a gap ($inrange addresses, up to $want)"
else
    tap fail "parallel: no gap" "$inrange in range, highest $(printf '%s\n' "$all" | grep '^02:21:f6:' | sort | tail -n 1), want $want"
fi
slots_ok=1
for vm in "$PVM2" "$PVM3" "$PVM4"; do
    req GET "/Vm/$vm/VirtualNic"
    [ "$ST" = 200 ] || req GET /VirtualNic
    s=$(printf '%s' "$BODY" | tr -d '\n' | sed 's/},{"id"/}\n{"id"/g' |
        grep "\"value\" *: *\"$vm\"" | grep -o '"slot" *: *[0-9]*' |
        sed 's/.*: *//' | sort -n | tr '\n' ' ')
    c=$(count_vnics "$vm")
    [ "$s" = "$(seq 0 $((c - 1)) | tr '\n' ' ')" ] || slots_ok=0
done
if [ "$slots_ok" = 1 ]; then
    tap ok "parallel: each VM's slots are 0..n-1"
else
    tap fail "parallel: slots" "$s"
fi
cnt=$(sqlite3 "$D/ovmm.db" "SELECT COUNT(*), COUNT(DISTINCT mac_int) FROM virtual_nics" 2>&1)
if [ "$cnt" = "$total|$total" ]; then
    tap ok "parallel: the database agrees ($total VNICs, $total distinct mac_int)"
else
    tap fail "parallel: the database" "$cnt (want $total|$total)"
fi

# ---- exhaustion ----

TINY=
run POST /MacRange "$(rng tiny 0c:00:00:00:00:00 0c:00:00:00:00:03)" && TINY=$RESULT
run DELETE "/MacRange/$DEF" && run DELETE "/MacRange/$LAB"
req GET /MacRange
if [ -n "$TINY" ] && [ "$(printf '%s' "$BODY" | grep -o '"startMacAddress"' | wc -l)" = 1 ] &&
    [ "$(jfield name)" = tiny ]; then
    tap ok "exhaustion: 'tiny' (4 addresses) is the only range; VNICs keep their addresses"
else
    tap fail "exhaustion: only 'tiny'" "$JSTATE $JERROR" "$BODY"
fi
got=
for i in 1 2 3; do
    vnic_add "$PVM4" "$(vn "$VMNET")" && got="$got $MAC"
done
if [ "$got" = " 0c:00:00:00:00:00 0c:00:00:00:00:01 0c:00:00:00:00:02" ]; then
    tap ok "exhaustion: three VNICs take 0c:00:00:00:00:00..02"
else
    tap fail "exhaustion: three VNICs" "$got" "$JSTATE $JERROR"
fi
# One address left. A diagnostic job holds pvm3 for a while; a creation
# on pvm3 is accepted (an address is free) and waits for its lock; pvm2
# takes the last address meanwhile; the pvm3 job then finds none.
req POST /Job/diagnostic "{\"name\": \"hold pvm3\", \"objects\": [{\"id\": \"$PVM3\"}], \"operations\": [{\"op\": \"sleep\", \"ms\": 1500}]}"
HOLD=$(job_id)
req POST "/Vm/$PVM3/VirtualNic" "$(vn "$VMNET")"
LATE=$(job_id)
st_late=$ST
vnic_add "$PVM2" "$(vn "$VMNET")"
last=$MAC
wait_job "$LATE"
if [ -n "$HOLD" ] && [ "$st_late" = 200 ] && [ "$last" = 0c:00:00:00:00:03 ] &&
    [ "$JSTATE" = FAILURE ] &&
    printf '%s' "$JERROR" | grep -q 'no free MAC address in the MAC ranges (4 addresses in 1 range, all in use)'; then
    tap ok "exhaustion: pvm2 takes the last address; pvm3's waiting job ends FAILURE: $JERROR"
else
    tap fail "exhaustion: the waiting job fails" "hold=$HOLD late=$st_late last=$last $JSTATE" "$JERROR"
fi
refused "exhaustion: a 5th creation is refused" 409 \
    "no free MAC address in the MAC ranges \\(4 addresses in 1 range, all in use\\)" \
    POST "/Vm/$PVM4/VirtualNic" "$(vn "$VMNET")"
run DELETE "/MacRange/$TINY"
req GET "/Event?object=$TINY"
if [ "$JSTATE" = SUCCESS ] && printf '%s' "$BODY" | grep -q '"WARNING"' &&
    printf '%s' "$BODY" | grep -q 'no MAC range is left'; then
    tap ok "exhaustion: the last range can be deleted, with a WARNING event"
else
    tap fail "exhaustion: delete the last range" "$JSTATE $JERROR" "$BODY"
fi
refused "exhaustion: with no range, a creation without macAddress is refused" 409 \
    "no free MAC address: there is no MAC range" \
    POST "/Vm/$PVM4/VirtualNic" "$(vn "$VMNET")"
vnic_add "$PVM4" "$(vn "$VMNET" '"macAddress": "0c:00:00:00:00:10"')"
if [ "$MAC" = 0c:00:00:00:00:10 ]; then
    tap ok "exhaustion: with no range, an explicit address still works"
else
    tap fail "exhaustion: explicit address without ranges" "$JSTATE $JERROR"
fi

# ---- the end ----

stop_daemon
if [ "$DST" = 0 ]; then
    tap ok "ovmmd exits 0 on SIGTERM"
else
    tap fail "ovmmd exits 0 on SIGTERM" "status ${DST:-none}" "$(daemon_diag)"
fi
echo "1..$n"
[ "$failed" -eq 0 ]
