#!/usr/bin/env bash
# tests/api/network.sh - networks on the hosts (docs/NETWORKS.md, "On the
# hosts"), as TAP: what tests/api/89-networks.t cannot see from the REST
# API alone. One ovmmd with --simulate 3 on a temporary data directory;
# the simulated hosts keep their network devices in their node files
# (<data>/sim/sim-N.xml), which this script reads through libvirt itself
# (virsh -c test:///...):
#
#   bridges    a VIRTUAL_MACHINE network on eth1 of sim-1..3 has its
#              bridge on each host over eth1; removing sim-3's port removes
#              its bridge there; the delete removes them all
#   roles      a STORAGE network gains VIRTUAL_MACHINE: bridges appear;
#              loses it: they go
#   intra      an intra-server network has a bridge over nothing on its
#              server only
#   rollback   eth1 of sim-3 already bridged by someone else: the create
#              fails naming sim-3, and sim-1 and sim-2 have no bridge left;
#              no network, the ports free
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

n=0
failed=0
PID=

# shellcheck source=tests/api/tap.sh
. tests/api/tap.sh

T=$(mktemp -d "${TMPDIR:-/tmp}/ovmm-network.XXXXXX") || exit 2
D=$T/data
mkdir -p "$D"
SIM=$D/sim

cleanup() {
    local i
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID" 2>/dev/null
        for i in $(seq 1 $((WAIT_S * 10))); do
            kill -0 "$PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$PID" 2>/dev/null && kill -KILL "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
    fi
    PID=
    if [ "${KEEP:-0}" = 1 ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

# shellcheck source=tests/api/daemon.sh
. tests/api/daemon.sh

check() { # check NAME COMMAND...: one TAP line
    local name=$1
    shift
    if "$@"; then tap ok "$name"; else tap fail "$name" "$(daemon_diag)"; fi
}

# ifaces HOST: the interfaces libvirt lists for sim host HOST ("name
# state" lines), read from its node file by a fresh test driver.
ifaces() {
    virsh -q -c "test://$SIM/$1.xml" iface-list --all 2>"$T/virsh.err" |
        awk '{print $1}'
}
has_iface() { ifaces "$1" | grep -qx "$2"; }
no_iface() { ! ifaces "$1" | grep -qx "$2"; }
# bridged HOST BRIDGE DEV: BRIDGE bridges DEV on HOST, as libvirt reads it.
bridged() {
    virsh -c "test://$SIM/$1.xml" iface-dumpxml "$2" 2>/dev/null |
        tr -d '\n' | grep -q "<bridge[^>]*>.*name=['\"]$3['\"]"
}

if ! command -v virsh >/dev/null; then
    echo "1..1"
    tap fail "virsh is installed (libvirt-clients; scripts/install-deps.sh test)"
    exit 1
fi
if ! start; then
    tap fail "ovmmd starts" "$(daemon_diag)"
    exit 1
fi
tap ok "ovmmd starts with three simulated hosts"

S=()
for h in 1 2 3; do
    run POST "/Server/discover?serverName=sim-$h" '"agent-secret"'
    S[$h]=$RESULT
done
check "sim-1..3 are discovered" test -n "${S[1]}" -a -n "${S[2]}" -a -n "${S[3]}"
P=()
for h in 1 2 3; do
    req GET "/Server/${S[$h]}/EthernetPort"
    P[$h]=$(printf '%s' "$BODY" | tr -d '\n' | sed 's/},{"id"/}\n{"id"/g' |
        grep '"interfaceName" *: *"eth1"' | head -n 1 |
        sed -n 's/^.*{"id" *: *{[^}]*"value" *: *"\([^"]*\)".*/\1/p')
done
check "each host has its eth1 port" test -n "${P[1]}" -a -n "${P[2]}" -a -n "${P[3]}"

# ---- bridges -------------------------------------------------------------------
run POST /Network "{\"name\": \"vmnet\", \"roles\": [\"VIRTUAL_MACHINE\"], \"ethernetPortIds\": [\"${P[1]}\", \"${P[2]}\", \"${P[3]}\"]}"
check "bridges: a VM network on eth1 of sim-1..3 is created ($JSTATE $JERROR)" test "$JSTATE" = SUCCESS
NET=$RESULT
req GET "/Network/$NET"
BR=$(jfield bridgeName)
check "bridges: the network names its bridge ($BR)" test -n "$BR"
for h in 1 2 3; do
    check "bridges: sim-$h lists $BR through libvirt" has_iface "sim-$h" "$BR"
    check "bridges: on sim-$h it bridges eth1" bridged "sim-$h" "$BR" eth1
done
run PUT "/Network/$NET/removeEthernetPort" "\"${P[3]}\""
check "bridges: sim-3's port leaves the network" test "$JSTATE" = SUCCESS
check "bridges: sim-3's bridge is gone" no_iface sim-3 "$BR"
check "bridges: sim-1 keeps its bridge" has_iface sim-1 "$BR"
run DELETE "/Network/$NET"
check "bridges: the network is deleted" test "$JSTATE" = SUCCESS
for h in 1 2 3; do
    check "bridges: sim-$h has no $BR after the delete" no_iface "sim-$h" "$BR"
done

# ---- roles ---------------------------------------------------------------------
run POST /Network "{\"name\": \"stornet\", \"roles\": [\"STORAGE\"], \"ethernetPortIds\": [\"${P[1]}\", \"${P[2]}\"]}"
check "roles: a storage network is created" test "$JSTATE" = SUCCESS
NET=$RESULT
check "roles: a storage network has no bridge" test -z "$(ifaces sim-1 | grep '^vb')"
run PUT "/Network/$NET" '{"roles": ["STORAGE", "VIRTUAL_MACHINE"]}'
check "roles: gaining VIRTUAL_MACHINE succeeds" test "$JSTATE" = SUCCESS
req GET "/Network/$NET"
BR=$(jfield bridgeName)
check "roles: sim-1 has the bridge $BR now" has_iface sim-1 "$BR"
check "roles: sim-2 too" has_iface sim-2 "$BR"
run PUT "/Network/$NET" '{"roles": ["STORAGE"]}'
check "roles: losing VIRTUAL_MACHINE succeeds" test "$JSTATE" = SUCCESS
check "roles: the bridges are gone" no_iface sim-1 "$BR"
run DELETE "/Network/$NET"
check "roles: the storage network is deleted" test "$JSTATE" = SUCCESS

# ---- intra ---------------------------------------------------------------------
run POST /Network "{\"name\": \"local\", \"serverLocal\": true, \"serverId\": \"${S[2]}\"}"
check "intra: an intra-server network on sim-2 is created" test "$JSTATE" = SUCCESS
NET=$RESULT
req GET "/Network/$NET"
BR=$(jfield bridgeName)
check "intra: sim-2 has its bridge $BR" has_iface sim-2 "$BR"
check "intra: sim-1 has none" no_iface sim-1 "$BR"
run DELETE "/Network/$NET"
check "intra: deleted, and the bridge is gone" no_iface sim-2 "$BR"

# ---- rollback ------------------------------------------------------------------
# Someone bridged eth1 on sim-3 behind the Manager's back.
sed -i "s#</node>#<interface type='bridge' name='brx'><start mode='onboot'/><bridge stp='off'><interface type='ethernet' name='eth1'/></bridge></interface></node>#" "$SIM/sim-3.xml"
check "rollback: sim-3 shows the foreign bridge brx" has_iface sim-3 brx
run POST /Network "{\"name\": \"doomed\", \"roles\": [\"VIRTUAL_MACHINE\"], \"ethernetPortIds\": [\"${P[1]}\", \"${P[2]}\", \"${P[3]}\"]}"
check "rollback: the create fails ($JSTATE)" test "$JSTATE" = FAILURE
check "rollback: the error names sim-3 ($JERROR)" eval 'printf "%s" "$JERROR" | grep -q sim-3'
check "rollback: sim-1 has no bridge left" test -z "$(ifaces sim-1 | grep '^vb')"
check "rollback: sim-2 has no bridge left" test -z "$(ifaces sim-2 | grep '^vb')"
req GET "/Network"
check "rollback: no network 'doomed'" eval '! printf "%s" "$BODY" | grep -q "\"doomed\""'
req GET "/EthernetPort/${P[1]}"
check "rollback: sim-1's eth1 is free" eval 'printf "%s" "$BODY" | tr -d "\n" | grep -q "\"networkId\" *: *null"'

echo "1..$n"
[ "$failed" -eq 0 ]
