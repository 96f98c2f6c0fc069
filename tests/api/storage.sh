#!/usr/bin/env bash
# tests/api/storage.sh - storage on disk (docs/STORAGE.md), as TAP: what
# tests/api/83-storage.t cannot see from the REST API alone. One ovmmd
# with --simulate 3 on a temporary data directory; simulated storage is
# real files under <data>/sim (hv.h, "SIMULATED STORAGE"), which this
# script reads and writes as an NFS server's administrator would:
#
#   tree       a repository made on nfs:/exports/repo1 is a directory tree
#              <data>/sim/nfs/sim-nfs/exports/repo1/{.ovsrepo, Templates,
#              Assemblies, ISOs, VirtualDisks, VirtualMachines}, its
#              .ovsrepo naming its id, this Manager and its name
#   contents   presented to sim-1 (a mount record), files dropped into
#              VirtualDisks/, ISOs/ and Templates/ become VirtualDisks and
#              a template on refresh; removed ones go; rediscovery keeps
#              them
#   delete     deleting the (empty, owned) repository removes its tree
#   foreign    a .ovsrepo written by "another Manager" on repo2 is found
#              by a file server refresh as a repository that Manager owns;
#              it cannot be presented until taken over; takeOwnership and
#              releaseOwnership rewrite OVS_REPO_MGR_UUID; deleting the
#              unowned repository leaves every file
#   exports    a host that exports nothing fails registration; an export
#              that appears becomes a file system, one that goes is
#              deleted, or kept present=false while a repository is on it
#   local      a repository on sim-1's local storage lives under
#              <data>/sim/local/sim-1/OVS/local-sim-1/<share path>
#   arrays     LUN files that appear and go under <data>/sim/iscsi/
#              sim-iscsi/<iqn>/ become and stop being storage elements on
#              refresh; a portal that does not answer fails the refresh
#   arrayedit  a second portal sim-iscsi2 (<data>/sim/iscsi/sim-iscsi2/
#              <iqn>/lun-0, 1 GiB): an array edited from sim-iscsi to
#              sim-iscsi2 loses sim-iscsi's elements and gets the new
#              LUN's; another array cannot take sim-iscsi2 (409); new
#              admin servers scan it
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
. tests/api/tap.sh   # the cd above makes this path right

T=$(mktemp -d "${TMPDIR:-/tmp}/ovmm-storage.XXXXXX") || exit 2
D=$T/data
mkdir -p "$D"
SIM=$D/sim
EXPORTS=$SIM/nfs/sim-nfs/exports

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
trap 'exit 130' INT TERM

# shellcheck source=tests/api/daemon.sh
. tests/api/daemon.sh

# tree_ok DIR: the five directories and a .ovsrepo are there.
tree_ok() {
    local d
    [ -f "$1/.ovsrepo" ] || return 1
    for d in Templates Assemblies ISOs VirtualDisks VirtualMachines; do
        [ -d "$1/$d" ] || return 1
    done
}

# ---- set-up ----

if ! start; then
    tap fail "ovmmd reaches RUNNING" "$(daemon_diag)"
    echo "1..$n"
    exit 1
fi
tap ok "ovmmd reaches RUNNING with three simulated servers"
req GET /Manager
MGR=$(jfield managerUuid)

S1= S3=
run POST "/Server/discover?serverName=sim-1" '"agent-secret"' && S1=$RESULT
run POST "/Server/discover?serverName=sim-3" '"agent-secret"' && S3=$RESULT
if [ -n "$S1" ] && [ -n "$S3" ]; then
    tap ok "sim-1 and sim-3 discovered and owned"
else
    tap fail "sim-1 and sim-3 discovered" "$ST $JSTATE $JERROR" "$(daemon_diag)"
    echo "1..$n"
    exit 1
fi

NFS=
run POST /FileServer "{\"name\": \"filer\", \"accessHost\": \"sim-nfs\", \"adminServerIds\": [\"$S1\"]}" &&
    NFS=$RESULT
FS1=$(idof "/FileServer/$NFS/FileSystem" nfs:/exports/repo1)
FS2=$(idof "/FileServer/$NFS/FileSystem" nfs:/exports/repo2)
FS3=$(idof "/FileServer/$NFS/FileSystem" nfs:/exports/repo3)
if [ -n "$NFS" ] && [ -n "$FS1" ] && [ -n "$FS2" ] && [ -n "$FS3" ]; then
    tap ok "sim-nfs registered: nfs:/exports/repo1..3"
else
    tap fail "sim-nfs registered" "$JSTATE $JERROR" "$BODY"
    echo "1..$n"
    exit 1
fi

# ---- tree ----

R1=
run POST "/FileSystem/$FS1/Repository" '{"name": "tree-repo"}' && R1=$RESULT
if [ -n "$R1" ] && tree_ok "$EXPORTS/repo1"; then
    tap ok "tree: repo1 holds .ovsrepo and the five directories"
else
    tap fail "tree: repo1 holds .ovsrepo and the five directories" \
        "$JSTATE $JERROR" "$(ls -la "$EXPORTS/repo1" 2>&1)"
fi
O=$EXPORTS/repo1/.ovsrepo
if grep -qx "OVS_REPO_UUID=$R1" "$O" && grep -qx "OVS_REPO_MGR_UUID=$MGR" "$O" &&
    grep -qx "OVS_REPO_ALIAS=tree-repo" "$O" && grep -qx "OVS_REPO_VERSION=3.0" "$O"; then
    tap ok "tree: .ovsrepo names the repository, this Manager and the alias"
else
    tap fail "tree: .ovsrepo contents" "$(cat "$O" 2>&1)"
fi
if [ -z "$(ls -A "$EXPORTS/repo1/ISOs")" ] && [ ! -e "$SIM/mounts/sim-1/$R1" ]; then
    tap ok "tree: built through sim-1 and unmounted again"
else
    tap fail "tree: built and unmounted" "$(ls -R "$SIM/mounts" 2>&1)"
fi

# ---- contents ----

run PUT "/Repository/$R1/present" "\"$S1\""
if [ "$JSTATE" = SUCCESS ] && [ -f "$SIM/mounts/sim-1/$R1" ]; then
    tap ok "contents: presented to sim-1 (mount record sim/mounts/sim-1/$R1)"
else
    tap fail "contents: presented to sim-1" "$JSTATE $JERROR"
fi
truncate -s 8M "$EXPORTS/repo1/VirtualDisks/disk-a.img"
printf 'not really an ISO\n' >"$EXPORTS/repo1/ISOs/cd.iso"
cat >"$EXPORTS/repo1/Templates/0004fb00000600001111222233334444.vm.cfg" <<'EOF'
OVM_simple_name = 'found-template'
name = '0004fb00000600001111222233334444'
builder = 'hvm'
memory = 1024
vcpus = 1
disk = ['file:/OVS/Repositories/x/VirtualDisks/disk-a.img,xvda,w']
EOF
run PUT "/Repository/$R1/refresh"
req GET "/Repository/$R1/VirtualDisk"
ND=$(jcount diskType)
SIZE=$(printf '%s' "$BODY" | tr -d '\n' | sed 's/},{"id"/}\n{"id"/g' |
    grep '"name" *: *"disk-a.img"' | sed -n 's/.*"size" *: *\([0-9]*\).*/\1/p')
if [ "$JSTATE" = SUCCESS ] && [ "$ND" = 2 ] && [ "$SIZE" = 8388608 ] &&
    printf '%s' "$BODY" | grep -q '"diskType" *: *"VIRTUAL_CDROM"'; then
    tap ok "contents: refresh finds disk-a.img (8 MiB) and cd.iso (VIRTUAL_CDROM)"
else
    tap fail "contents: refresh finds the files" "$JSTATE $JERROR" "$BODY"
fi
req GET "/Repository/$R1/Vm"
if [ "$(jcount vmRunState)" = 1 ] && [ "$(jfield vmRunState)" = TEMPLATE ] &&
    printf '%s' "$BODY" | grep -q '"name" *: *"found-template"'; then
    tap ok "contents: the vm.cfg in Templates/ became template found-template"
else
    tap fail "contents: the vm.cfg became a template" "$BODY"
fi
run PUT /Server/"$S1"/rediscover
req GET "/Repository/$R1/VirtualDisk"
if [ "$JSTATE" = SUCCESS ] && [ "$(jcount diskType)" = 2 ]; then
    tap ok "contents: rediscovery of sim-1 keeps the repository's contents"
else
    tap fail "contents: rediscovery keeps the contents" "$JSTATE $JERROR" "$BODY"
fi
rm -f "$EXPORTS/repo1/ISOs/cd.iso" \
    "$EXPORTS/repo1/Templates/0004fb00000600001111222233334444.vm.cfg"
run PUT "/Repository/$R1/refresh"
req GET "/Repository/$R1/VirtualDisk"
ND=$(jcount diskType)
req GET "/Repository/$R1/Vm"
if [ "$JSTATE" = SUCCESS ] && [ "$ND" = 1 ] && [ "$(jcount vmRunState)" = 0 ]; then
    tap ok "contents: the ISO and the template whose files went are removed"
else
    tap fail "contents: removed files" "$JSTATE $JERROR ($ND disks)" "$BODY"
fi
run DELETE "/Repository/$R1"
if [ "$ST" = 409 ] && printf '%s' "$BODY" | grep -q 'presented to server'; then
    tap ok "contents: no delete while presented (409)"
else
    tap fail "contents: no delete while presented" "$ST $BODY"
fi
run PUT "/Repository/$R1/unpresent" "\"$S1\""
run DELETE "/Repository/$R1"
if [ "$ST" = 409 ] && printf '%s' "$BODY" | grep -q "virtual disk or ISO 'disk-a.img'"; then
    tap ok "contents: no delete of a repository with a disk (409 naming it)"
else
    tap fail "contents: no delete with a disk" "$ST $BODY"
fi
rm -f "$EXPORTS/repo1/VirtualDisks/disk-a.img"
run PUT "/Repository/$R1/present" "\"$S1\"" &&
    run PUT "/Repository/$R1/refresh" &&
    run PUT "/Repository/$R1/unpresent" "\"$S1\""
req GET "/Repository/$R1/VirtualDisk"
if [ "$JSTATE" = SUCCESS ] && [ "$(jcount diskType)" = 0 ] &&
    [ ! -e "$SIM/mounts/sim-1/$R1" ]; then
    tap ok "contents: the disk whose file went is removed; unpresented"
else
    tap fail "contents: emptied and unpresented" "$JSTATE $JERROR" "$BODY"
fi

# ---- delete ----

run DELETE "/Repository/$R1"
if [ "$JSTATE" = SUCCESS ] && [ -d "$EXPORTS/repo1" ] &&
    [ -z "$(ls -A "$EXPORTS/repo1")" ]; then
    tap ok "delete: the owned repository's tree is gone, the export stays"
else
    tap fail "delete: the tree is gone" "$JSTATE $JERROR" \
        "$(ls -la "$EXPORTS/repo1" 2>&1)"
fi

# ---- foreign ----

OTHER=0004fb0000010000feedfacecafe0001
FR=0004fb0000030000feedfacecafe0002
mkdir -p "$EXPORTS/repo2"/{Templates,Assemblies,ISOs,VirtualDisks,VirtualMachines}
printf 'OVS_REPO_UUID=%s\nOVS_REPO_VERSION=3.0\nOVS_REPO_MGR_UUID=%s\nOVS_REPO_ALIAS=left behind\n' \
    "$FR" "$OTHER" >"$EXPORTS/repo2/.ovsrepo"
printf 'data\n' >"$EXPORTS/repo2/ISOs/keep.iso"
run PUT "/FileServer/$NFS/refresh"
req GET "/Repository/$FR"
if [ "$JSTATE" = SUCCESS ] && [ "$ST" = 200 ] &&
    [ "$(jfield managerUuid)" = "$OTHER" ] &&
    printf '%s' "$BODY" | grep -q '"name" *: *"left behind"'; then
    tap ok "foreign: refresh finds repository 'left behind', owned by the other Manager"
else
    tap fail "foreign: refresh finds the repository" "$JSTATE $JERROR" "$ST $BODY"
fi
run PUT "/Repository/$FR/present" "\"$S1\""
if [ "$ST" = 409 ] && printf '%s' "$BODY" | grep -q 'take ownership first'; then
    tap ok "foreign: it cannot be presented before it is taken over (409)"
else
    tap fail "foreign: no present before take-over" "$ST $BODY"
fi
run PUT "/Repository/$FR/takeOwnership"
req GET "/Repository/$FR"
if [ "$JSTATE" = SUCCESS ] && [ "$(jfield managerUuid)" = "$MGR" ] &&
    grep -qx "OVS_REPO_MGR_UUID=$MGR" "$EXPORTS/repo2/.ovsrepo" &&
    grep -qx "OVS_REPO_ALIAS=left behind" "$EXPORTS/repo2/.ovsrepo"; then
    tap ok "foreign: takeOwnership rewrites OVS_REPO_MGR_UUID (other lines kept)"
else
    tap fail "foreign: takeOwnership" "$JSTATE $JERROR" "$(cat "$EXPORTS/repo2/.ovsrepo")"
fi
run PUT "/Repository/$FR/present" "\"$S1\"" && run PUT "/Repository/$FR/refresh"
req GET "/Repository/$FR/VirtualDisk"
if [ "$JSTATE" = SUCCESS ] && [ "$(jcount diskType)" = 1 ]; then
    tap ok "foreign: taken over, presented and refreshed: keep.iso is listed"
else
    tap fail "foreign: present and refresh" "$JSTATE $JERROR" "$BODY"
fi
run PUT "/Repository/$FR/unpresent" "\"$S1\"" &&
    run PUT "/Repository/$FR/releaseOwnership"
req GET "/Repository/$FR"
if [ "$JSTATE" = SUCCESS ] && [ "$(jfield managerUuid)" = null ] &&
    grep -qx "OVS_REPO_MGR_UUID=" "$EXPORTS/repo2/.ovsrepo"; then
    tap ok "foreign: releaseOwnership empties OVS_REPO_MGR_UUID"
else
    tap fail "foreign: releaseOwnership" "$JSTATE $JERROR" "$(cat "$EXPORTS/repo2/.ovsrepo")"
fi
run DELETE "/Repository/$FR"
req GET "/Repository/$FR"
R404=$ST
req GET /VirtualDisk/keep.iso
if [ "$JSTATE" = SUCCESS ] && [ "$R404" = 404 ] && [ "$ST" = 404 ] &&
    tree_ok "$EXPORTS/repo2" && [ -f "$EXPORTS/repo2/ISOs/keep.iso" ]; then
    tap ok "foreign: deleting the unowned repository removes its objects, not its files"
else
    tap fail "foreign: unowned delete keeps the files" "$JSTATE $JERROR $R404 $ST" \
        "$(ls -laR "$EXPORTS/repo2" 2>&1)"
fi
run PUT "/FileSystem/$FS2/refresh"
req GET "/Repository/$FR"
if [ "$ST" = 200 ] && [ "$(jfield managerUuid)" = null ]; then
    tap ok "foreign: a file system refresh finds it again, unowned"
else
    tap fail "foreign: found again" "$JSTATE $JERROR" "$ST $BODY"
fi

# ---- exports ----

mkdir -p "$SIM/nfs/empty-nfs"
run POST /FileServer "{\"accessHost\": \"empty-nfs\", \"adminServerIds\": [\"$S1\"]}"
if [ "$JSTATE" = FAILURE ] && printf '%s' "$JERROR" | grep -q 'exports no file systems' &&
    [ "$(jfield type)" = NOT_FOUND ]; then
    tap ok "exports: a host that exports nothing fails registration (NOT_FOUND)"
else
    tap fail "exports: a host that exports nothing" "$JSTATE $JERROR" "$BODY"
fi
req GET /FileServer/id
if [ "$(jcount value)" = 3 ]; then
    tap ok "exports: nothing was made (two local file servers and sim-nfs)"
else
    tap fail "exports: nothing was made" "$BODY"
fi
mkdir -p "$EXPORTS/repo4"
run PUT "/FileServer/$NFS/refresh"
FS4=$(idof "/FileServer/$NFS/FileSystem" nfs:/exports/repo4)
if [ "$JSTATE" = SUCCESS ] && [ -n "$FS4" ]; then
    tap ok "exports: a new export becomes file system nfs:/exports/repo4"
else
    tap fail "exports: a new export" "$JSTATE $JERROR" "$BODY"
fi
rmdir "$EXPORTS/repo4"
run PUT "/FileServer/$NFS/refresh"
req GET "/FileSystem/$FS4"
if [ "$JSTATE" = SUCCESS ] && [ "$ST" = 404 ]; then
    tap ok "exports: an unused file system no longer exported is deleted"
else
    tap fail "exports: unused file system deleted" "$JSTATE $JERROR" "$ST"
fi
R3=
run POST "/FileSystem/$FS3/Repository" '{"name": "on-repo3"}' && R3=$RESULT
mv "$EXPORTS/repo3" "$T/repo3.away"
run PUT "/FileServer/$NFS/refresh"
req GET "/FileSystem/$FS3"
if [ "$JSTATE" = SUCCESS ] && [ "$ST" = 200 ] && [ "$(jfield present)" = false ]; then
    tap ok "exports: a file system with a repository that goes is kept, present=false"
else
    tap fail "exports: kept present=false" "$JSTATE $JERROR" "$ST $BODY"
fi
req GET "/Event?object=$FS3&severity=WARNING"
if printf '%s' "$BODY" | grep -q '"type" *: *"filesystem.missing"'; then
    tap ok "exports: with a WARNING event filesystem.missing"
else
    tap fail "exports: WARNING event" "$BODY"
fi
run PUT "/Repository/$R3/present" "\"$S1\""
if [ "$ST" = 409 ] && printf '%s' "$BODY" | grep -q 'no longer offered'; then
    tap ok "exports: its repository cannot be presented meanwhile (409)"
else
    tap fail "exports: no present on a missing file system" "$ST $BODY"
fi
mv "$T/repo3.away" "$EXPORTS/repo3"
run PUT "/FileSystem/$FS3/refresh"
req GET "/FileSystem/$FS3"
if [ "$JSTATE" = SUCCESS ] && [ "$(jfield present)" = true ]; then
    tap ok "exports: back again, present=true"
else
    tap fail "exports: back again" "$JSTATE $JERROR" "$BODY"
fi
run DELETE "/Repository/$R3"
if [ "$JSTATE" = SUCCESS ] && [ -z "$(ls -A "$EXPORTS/repo3")" ]; then
    tap ok "exports: its repository deleted with its tree"
else
    tap fail "exports: repository deleted" "$JSTATE $JERROR"
fi

# ---- local ----

LFS=$(idof /FileSystem local:/OVS/local-sim-1)
RL=
run POST "/FileSystem/$LFS/Repository" '{"name": "local-repo", "sharePath": "repos/a"}' &&
    RL=$RESULT
L=$SIM/local/sim-1/OVS/local-sim-1/repos/a
if [ -n "$RL" ] && tree_ok "$L" && grep -qx "OVS_REPO_SHARE_PATH=repos/a" "$L/.ovsrepo"; then
    tap ok "local: the repository is under sim/local/sim-1/OVS/local-sim-1/repos/a"
else
    tap fail "local: the repository's tree" "$JSTATE $JERROR" "$(find "$SIM/local" 2>&1)"
fi
run DELETE "/Server/$S1"
if [ "$ST" = 409 ] && printf '%s' "$BODY" | grep -q 'on its local storage'; then
    tap ok "local: sim-1 cannot be deleted while the repository is on it (409)"
else
    tap fail "local: no server delete" "$ST $BODY"
fi
run DELETE "/Repository/$RL"
if [ "$JSTATE" = SUCCESS ] && [ ! -e "$L/.ovsrepo" ] && [ ! -e "$L/ISOs" ]; then
    tap ok "local: deleted with its tree"
else
    tap fail "local: deleted" "$JSTATE $JERROR" "$(find "$SIM/local" 2>&1)"
fi

# ---- arrays ----

TGT="$SIM/iscsi/sim-iscsi/iqn.2026-01.test.sim:storage"
SA=
run POST /StorageArray "{\"name\": \"san\", \"accessHosts\": [{\"accessHost\": \"sim-iscsi\"}], \"adminServerIds\": [\"$S1\"]}" &&
    SA=$RESULT
req GET "/StorageArray/$SA/StorageElement"
if [ -n "$SA" ] && [ "$(jcount page83Id)" = 2 ]; then
    tap ok "arrays: sim-iscsi registered with lun-0 and lun-1"
else
    tap fail "arrays: sim-iscsi registered" "$JSTATE $JERROR" "$BODY"
fi
truncate -s 3M "$TGT/lun-7"
run PUT "/StorageArray/$SA/refresh"
req GET "/StorageArray/$SA/StorageElement"
if [ "$JSTATE" = SUCCESS ] && [ "$(jcount page83Id)" = 3 ] &&
    printf '%s' "$BODY" | grep -q '"size" *: *3145728'; then
    tap ok "arrays: a new LUN file becomes a storage element on refresh"
else
    tap fail "arrays: a new LUN" "$JSTATE $JERROR" "$BODY"
fi
rm -f "$TGT/lun-7"
run PUT "/StorageArray/$SA/refresh"
req GET "/StorageArray/$SA/StorageElement"
if [ "$JSTATE" = SUCCESS ] && [ "$(jcount page83Id)" = 2 ]; then
    tap ok "arrays: an unused LUN that goes is deleted on refresh"
else
    tap fail "arrays: a LUN that goes" "$JSTATE $JERROR" "$BODY"
fi
mv "$SIM/iscsi/sim-iscsi" "$T/iscsi.away"
run PUT "/StorageArray/$SA/refresh"
if [ "$JSTATE" = FAILURE ] && [ "$(jfield type)" = SERVER_UNREACHABLE ]; then
    tap ok "arrays: a portal that does not answer fails the refresh"
else
    tap fail "arrays: portal gone" "$JSTATE $JERROR" "$BODY"
fi
mv "$T/iscsi.away" "$SIM/iscsi/sim-iscsi"
run DELETE "/StorageArray/$SA"
req GET "/StorageArray/$SA"
if [ "$JSTATE" = SUCCESS ] && [ "$ST" = 404 ] && [ -f "$TGT/lun-0" ]; then
    tap ok "arrays: deleting the array leaves the LUN files"
else
    tap fail "arrays: delete" "$JSTATE $JERROR" "$ST"
fi

# ---- arrayedit ----

# A second simulated portal, sim-iscsi2, with one target and one 1 GiB LUN.
TGT2="$SIM/iscsi/sim-iscsi2/iqn.2026-01.test.sim:other"
mkdir -p "$TGT2" && truncate -s 1G "$TGT2/lun-0"
SB=
run POST /StorageArray "{\"name\": \"san-edit\", \"accessHosts\": [{\"accessHost\": \"sim-iscsi\"}], \"adminServerIds\": [\"$S1\"]}" &&
    SB=$RESULT
req GET "/StorageArray/$SB/StorageElement"
OLDEL=$(printf '%s' "$BODY" | tr -d '\n' | sed 's/},{"id"/}\n{"id"/g' |
    sed -n 's/^.*{"id" *: *{[^}]*"value" *: *"\([^"]*\)".*/\1/p')
if [ -n "$SB" ] && [ "$(printf '%s\n' "$OLDEL" | grep -c .)" = 2 ]; then
    tap ok "arrayedit: san-edit registered on sim-iscsi (two elements)"
else
    tap fail "arrayedit: san-edit registered" "$JSTATE $JERROR" "$BODY"
fi
run PUT "/StorageArray/$SB" '{"accessHosts": [{"accessHost": "sim-iscsi2", "accessPort": 3260}]}'
req GET "/StorageArray/$SB/StorageElement"
if [ "$JSTATE" = SUCCESS ] && [ "$(jcount page83Id)" = 1 ] &&
    printf '%s' "$BODY" | grep -q '"size" *: *1073741824' &&
    printf '%s' "$BODY" | grep -q '"storageTargetName" *: *"iqn.2026-01.test.sim:other"'; then
    tap ok "arrayedit: moved to sim-iscsi2: one element, 1 GiB, target iqn.2026-01.test.sim:other"
else
    tap fail "arrayedit: moved to sim-iscsi2" "$JSTATE $JERROR" "$BODY"
fi
GONE=0
for e in $OLDEL; do
    req GET "/StorageElement/$e"
    [ "$ST" = 404 ] && GONE=$((GONE + 1))
done
req GET "/StorageArray/$SB"
if [ "$GONE" = 2 ] && printf '%s' "$BODY" | grep -q '"accessHost" *: *"sim-iscsi2"' &&
    ! printf '%s' "$BODY" | grep -q '"accessHost" *: *"sim-iscsi"'; then
    tap ok "arrayedit: the LUNs of sim-iscsi are gone; the array's host is sim-iscsi2"
else
    tap fail "arrayedit: old LUNs gone" "$GONE of 2 gone" "$BODY"
fi
req GET "/Event?object=$SB&limit=100"
if printf '%s' "$BODY" | grep -q '"type" *: *"storagearray.updated"' &&
    printf '%s' "$BODY" | grep -q 'access hosts (sim-iscsi2:3260: 1 LUN, 1 new, 2 gone)'; then
    tap ok "arrayedit: event storagearray.updated names the new portal and the LUN counts"
else
    tap fail "arrayedit: storagearray.updated event" "$BODY"
fi
SC=
run POST /StorageArray "{\"name\": \"san-other\", \"accessHosts\": [{\"accessHost\": \"sim-iscsi\"}], \"adminServerIds\": [\"$S3\"]}" &&
    SC=$RESULT
run PUT "/StorageArray/$SC" '{"accessHosts": [{"accessHost": "sim-iscsi2"}]}'
if [ -n "$SC" ] && [ "$ST" = 409 ] &&
    printf '%s' "$BODY" | grep -q "storage array 'san-edit' already has access host 'sim-iscsi2'"; then
    tap ok "arrayedit: sim-iscsi is free again; a second array cannot take sim-iscsi2 (409)"
else
    tap fail "arrayedit: access host already used" "$JSTATE $JERROR" "$ST $BODY"
fi
truncate -s 2M "$TGT2/lun-3"
run PUT "/StorageArray/$SB" "{\"adminServerIds\": [\"$S3\"], \"accessHosts\": [{\"accessHost\": \"sim-iscsi2\"}, {\"accessHost\": \"sim-iscsi2-alt\"}]}"
req GET "/StorageArray/$SB/StorageElement"
if [ "$JSTATE" = SUCCESS ] && [ "$(jcount page83Id)" = 2 ] &&
    printf '%s' "$BODY" | grep -q '"size" *: *2097152'; then
    tap ok "arrayedit: new admin server and a second host: sim-iscsi2 scanned through sim-3, its new LUN found"
else
    tap fail "arrayedit: rescan through the new admin server" "$JSTATE $JERROR" "$BODY"
fi
run DELETE "/StorageArray/$SB" && run DELETE "/StorageArray/$SC"
if [ "$JSTATE" = SUCCESS ] && [ -f "$TGT2/lun-0" ]; then
    tap ok "arrayedit: both arrays deleted, the LUN files stay"
else
    tap fail "arrayedit: delete" "$JSTATE $JERROR"
fi

# ---- the end ----

kill -TERM "$PID" 2>/dev/null
st=
for i in $(seq 1 $((WAIT_S * 10))); do
    if ! kill -0 "$PID" 2>/dev/null; then
        wait "$PID"
        st=$?
        break
    fi
    sleep 0.1
done
PID=
if [ "$st" = 0 ]; then
    tap ok "ovmmd exits 0 on SIGTERM"
else
    tap fail "ovmmd exits 0 on SIGTERM" "status ${st:-none}" "$(daemon_diag)"
fi
echo "1..$n"
[ "$failed" -eq 0 ]
