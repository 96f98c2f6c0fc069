# Virtual disks (issue 5): create sparse and non-sparse, edit and resize,
# clone (THIN_CLONE, SPARSE_COPY, NON_SPARSE_COPY), delete, and every
# refusal -- 400/403/404/409 before any job, and a job that fails when the
# world changed while it waited. What the files look like on disk is read
# through the fixture server's /stat view of the daemon's data directory
# (${FIXTURE}, started by run.sh; simulated NFS exports live under
# sim/nfs/sim-nfs/exports/repoN).
#
# Set-up: sim-1 and sim-3 (re)discovered with ownership, sim-nfs
# registered, repositories A (exports/repo1, presented to sim-1 and
# sim-3), B (repo2, sim-1 only) and C (repo3, sim-3 only, presented half
# way through). The file removes everything it made at the end, as
# 83-storage.t does, so the files after it start from the same place.

set NFSPLUGIN oracle.generic.NFSPlugin.GenericNFSPlugin (1.1.0)
set NOREPO 0004fb00000300000000000000000000
set NOVD 0004fb00001200000000000000000000.img
set EXP ${FIXTURE}/stat/data/sim/nfs/sim-nfs/exports

# ---- set-up ---------------------------------------------------------------

=== discover sim-1 with ownership
POST /Server/discover?serverName=sim-1
body "agent-secret"
status 200
capture DJ1 id.value

=== sim-1 is there
GET /Job/${DJ1}?wait=30
status 200
expect jobRunState SUCCESS
capture S1 resultId.value

=== discover sim-3 with ownership
POST /Server/discover?serverName=sim-3
body "agent-secret"
status 200
capture DJ3 id.value

=== sim-3 is there
GET /Job/${DJ3}?wait=30
status 200
expect jobRunState SUCCESS
capture S3 resultId.value

=== register sim-nfs, administered by sim-1
POST /FileServer
body {"name": "vd-nfs-${RAND}", "accessHost": "sim-nfs", "fileServerType": "NETWORK", "fileServerPluginId": {"value": "${NFSPLUGIN}"}, "adminServerIds": [{"value": "${S1}"}], "refreshServerIds": [{"value": "${S3}"}]}
status 200
capture FJ id.value

=== the file server is registered
GET /Job/${FJ}?wait=30
status 200
expect jobRunState SUCCESS
capture NFS resultId.value

=== its file systems, one per export
GET /FileServer/${NFS}/FileSystem
auth ro
status 200
expect-count 3
expect [0].name nfs:/exports/repo1
capture FS1 [0].id.value
capture FS2 [1].id.value
capture FS3 [2].id.value

=== repository A on exports/repo1
POST /FileSystem/${FS1}/Repository
body {"name": "vd-a-${RAND}"}
status 200
capture RJ1 id.value

=== A is created
GET /Job/${RJ1}?wait=30
status 200
expect jobRunState SUCCESS
capture RA resultId.value

=== repository B on exports/repo2
POST /FileSystem/${FS2}/Repository
body {"name": "vd-b-${RAND}"}
status 200
capture RJ2 id.value

=== B is created
GET /Job/${RJ2}?wait=30
status 200
expect jobRunState SUCCESS
capture RB resultId.value

=== repository C on exports/repo3
POST /FileSystem/${FS3}/Repository
body {"name": "vd-c-${RAND}"}
status 200
capture RJ3 id.value

=== C is created
GET /Job/${RJ3}?wait=30
status 200
expect jobRunState SUCCESS
capture RC resultId.value

=== present A to sim-1
PUT /Repository/${RA}/present
body {"value": "${S1}"}
status 200
capture PJ1 id.value

=== presented
GET /Job/${PJ1}?wait=30
status 200
expect jobRunState SUCCESS

=== present A to sim-3
PUT /Repository/${RA}/present
body {"value": "${S3}"}
status 200
capture PJ2 id.value

=== presented too
GET /Job/${PJ2}?wait=30
status 200
expect jobRunState SUCCESS

=== present B to sim-1
PUT /Repository/${RB}/present
body {"value": "${S1}"}
status 200
capture PJ3 id.value

=== B is presented
GET /Job/${PJ3}?wait=30
status 200
expect jobRunState SUCCESS

=== A's VirtualDisks directory is empty
GET ${EXP}/repo1/VirtualDisks
schema none
status 200
expect type dir
expect entries []

# ---- POST /Repository/{id}/VirtualDisk: refusals ----------------------------

=== a disk in an unknown repository is 404
POST /Repository/${NOREPO}/VirtualDisk
body {"name": "x", "size": 1048576}
status 404

=== a disk needs a name
POST /Repository/${RA}/VirtualDisk
body {"size": 1048576}
status 400
expect errorCode INVALID_INPUT
expect message ~name

=== a disk needs a size
POST /Repository/${RA}/VirtualDisk
body {"name": "nosize"}
status 400
expect message ~size

=== the size is above 0
POST /Repository/${RA}/VirtualDisk
body {"name": "zero", "size": 0}
status 400
expect message ~greater than 0

=== the size is a number of bytes
POST /Repository/${RA}/VirtualDisk
body {"name": "text", "size": "10G"}
status 400

=== an empty CD-ROM cannot be created
POST /Repository/${RA}/VirtualDisk
body {"name": "cd", "size": 1048576, "diskType": "VIRTUAL_CDROM"}
status 400
expect message ~empty CD-ROM cannot be created

=== nor any other disk type
POST /Repository/${RA}/VirtualDisk
body {"name": "pd", "size": 1048576, "diskType": "PHYSICAL_DISK"}
status 400

=== sparse is true or false
POST /Repository/${RA}/VirtualDisk?sparse=maybe
body {"name": "s", "size": 1048576}
status 400

=== a name with a control character is refused
POST /Repository/${RA}/VirtualDisk
body {"name": "a\u0001b", "size": 1048576}
status 400

=== the body is a JSON object
POST /Repository/${RA}/VirtualDisk
body "disk"
status 400

=== a read-only user cannot create disks
POST /Repository/${RA}/VirtualDisk
auth ro
body {"name": "ro", "size": 1048576}
status 403

=== a repository presented to no server cannot have new disks
POST /Repository/${RC}/VirtualDisk
body {"name": "nowhere", "size": 1048576}
status 409
expect errorCode INVALID_STATE
expect message ~not presented to any running server

=== no job was made by any refusal: A has no disk
GET /Repository/${RA}/VirtualDisk
auth ro
status 200
expect-count 0

# ---- create -----------------------------------------------------------------

=== create a sparse disk of 4 MiB
POST /Repository/${RA}/VirtualDisk?sparse=true
body {"name": "sparse-${RAND}", "size": 4194304, "description": "a sparse disk", "shareable": false, "userData": [{"key": "k", "value": "v"}]}
status 200
expect id.type com.oracle.ovm.mgr.ws.model.Job
expect name "Create Virtual Disk: sparse-${RAND}"
capture CJ1 id.value

=== the creation succeeds and names the disk
GET /Job/${CJ1}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.type com.oracle.ovm.mgr.ws.model.VirtualDisk
expect resultId.name sparse-${RAND}
capture VS resultId.value

=== the sparse disk has the Oracle VM shape
GET /VirtualDisk/${VS}
auth ro
status 200
expect id.value ~0004fb000012
expect id.value ~.img
expect name sparse-${RAND}
expect description "a sparse disk"
expect diskType VIRTUAL_DISK
expect size 4194304
expect onDiskSize 0
expect path /VirtualDisks/${VS}
expect shareable false
expect sparse true
expect format raw
expect importFileName null
expect vmDiskMappingIds []
expect repositoryId.value ${RA}
expect backingVirtualDiskId null
expect userData [{"key": "k", "value": "v"}]
capture GS generation

=== its file is there, 4 MiB long, nothing allocated
GET ${EXP}/repo1/VirtualDisks/${VS}
schema none
status 200
expect exists true
expect type file
expect size 4194304
expect allocated 0

=== an operator creates a non-sparse disk of 4 MiB
POST /Repository/${RA}/VirtualDisk?sparse=false
auth op
body {"name": "full-${RAND}", "size": 4194304}
status 200
capture CJ2 id.value

=== that creation succeeds
GET /Job/${CJ2}?wait=30
status 200
expect jobRunState SUCCESS
capture VN resultId.value

=== the non-sparse disk is allocated
GET /VirtualDisk/${VN}
auth ro
status 200
expect size 4194304
expect onDiskSize 4194304
expect sparse false

=== on disk too: every byte allocated, where the sparse one has none
GET ${EXP}/repo1/VirtualDisks/${VN}
schema none
status 200
expect size 4194304
expect allocated 4194304

=== the repository lists both
GET /Repository/${RA}/VirtualDisk
auth ro
status 200
expect-count 2

=== and its virtualDiskIds names them
GET /Repository/${RA}
auth ro
status 200
expect-count virtualDiskIds 2

=== the creation raised an event on the disk
GET /Event?object=${VS}
auth ro
status 200
expect [0].type vdisk.created
expect [0].summary ~sparse

# ---- PUT /VirtualDisk/{id} ----------------------------------------------------

=== edit an unknown disk: 404
PUT /VirtualDisk/${NOVD}
body {"name": "x"}
status 404

=== the body's id must be the disk's
PUT /VirtualDisk/${VS}
body {"id": {"value": "${VN}"}, "name": "x"}
status 400
expect message ~is not the object in the path

=== a stale generation is refused
PUT /VirtualDisk/${VS}
body {"name": "stale", "generation": 99}
status 409
expect errorCode CONFLICT

=== virtual disks cannot shrink
PUT /VirtualDisk/${VS}
body {"size": 1048576}
status 400
expect message ~cannot shrink

=== a read-only user cannot edit
PUT /VirtualDisk/${VS}
auth ro
body {"name": "ro"}
status 403

=== rename, describe, make shareable and grow to 8 MiB, with the generation read
PUT /VirtualDisk/${VS}
body {"id": {"type": "com.oracle.ovm.mgr.ws.model.VirtualDisk", "value": "${VS}"}, "name": "grown-${RAND}", "description": "grown", "shareable": true, "size": 8388608, "generation": ${GS}, "diskType": "VIRTUAL_DISK"}
status 200
expect name "Edit Virtual Disk: sparse-${RAND}"
capture EJ id.value

=== the edit succeeds
GET /Job/${EJ}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.value ${VS}

=== the disk is renamed, shareable and 8 MiB
GET /VirtualDisk/${VS}
auth ro
status 200
expect name grown-${RAND}
expect description grown
expect shareable true
expect size 8388608
expect-not generation ${GS}

=== its file grew
GET ${EXP}/repo1/VirtualDisks/${VS}
schema none
status 200
expect size 8388608

=== the resize raised an event
GET /Event?object=${VS}
auth ro
status 200
expect [1].type vdisk.resized

=== the same size is no resize: a plain edit
PUT /VirtualDisk/${VS}
body {"size": 8388608, "description": "same size"}
status 200
capture EJ2 id.value

=== that edit succeeds
GET /Job/${EJ2}?wait=30
status 200
expect jobRunState SUCCESS

# ---- PUT /VirtualDisk/{id}/clone ------------------------------------------------

=== a clone type must be known
PUT /VirtualDisk/${VS}/clone?cloneType=DEEP_COPY
status 400
expect message ~cloneType

=== a clone of an unknown disk is 404
PUT /VirtualDisk/${NOVD}/clone?cloneType=SPARSE_COPY
status 404

=== a clone into an unknown repository is 404
PUT /VirtualDisk/${VS}/clone?cloneType=SPARSE_COPY&targetRepositoryId=${NOREPO}
status 404

=== a thin clone stays in its base's repository
PUT /VirtualDisk/${VS}/clone?cloneType=THIN_CLONE&targetRepositoryId=${RB}
status 409
expect errorCode INVALID_STATE
expect message ~thin clone stays in the repository of its base

=== a copy needs a server where both repositories are presented
PUT /VirtualDisk/${VS}/clone?cloneType=SPARSE_COPY&targetRepositoryId=${RC}
status 409
expect message ~not presented together

=== a read-only user cannot clone
PUT /VirtualDisk/${VS}/clone?cloneType=SPARSE_COPY
auth ro
status 403

=== thin-clone the grown disk in A
PUT /VirtualDisk/${VS}/clone?cloneType=THIN_CLONE&name=thin-${RAND}
status 200
expect name "Clone Virtual Disk: grown-${RAND} to thin-${RAND}"
capture TJ id.value

=== the thin clone is made
GET /Job/${TJ}?wait=30
status 200
expect jobRunState SUCCESS
capture VT resultId.value

=== the thin clone is a qcow2 overlay on its base
GET /VirtualDisk/${VT}
auth ro
status 200
expect name thin-${RAND}
expect format qcow2
expect size 8388608
expect backingVirtualDiskId.value ${VS}
expect repositoryId.value ${RA}

=== its file is small: an overlay
GET ${EXP}/repo1/VirtualDisks/${VT}
schema none
status 200
expect exists true
expect type file

=== a thin clone is copied only within its repository
PUT /VirtualDisk/${VT}/clone?cloneType=SPARSE_COPY&targetRepositoryId=${RB}
status 409
expect message ~is a thin clone of

=== sparse-copy the grown disk into B (sim-1 has both)
PUT /VirtualDisk/${VS}/clone?cloneType=SPARSE_COPY&targetRepositoryId=${RB}&name=copy-${RAND}
status 200
capture SJ id.value

=== the sparse copy is made
GET /Job/${SJ}?wait=30
status 200
expect jobRunState SUCCESS
capture VC resultId.value

=== the copy is in B, sparse, with the source's size
GET /VirtualDisk/${VC}
auth ro
status 200
expect repositoryId.value ${RB}
expect size 8388608
expect onDiskSize 0
expect sparse true
expect format raw
expect backingVirtualDiskId null

=== its file is in B's VirtualDisks
GET ${EXP}/repo2/VirtualDisks/${VC}
schema none
status 200
expect size 8388608
expect allocated 0

=== non-sparse-copy it within A, default name
PUT /VirtualDisk/${VS}/clone?cloneType=NON_SPARSE_COPY
auth op
status 200
capture NJ id.value

=== the non-sparse copy is made
GET /Job/${NJ}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.name "grown-${RAND} (clone)"
capture VNC resultId.value

=== the non-sparse copy is allocated
GET ${EXP}/repo1/VirtualDisks/${VNC}
schema none
status 200
expect size 8388608
expect allocated 8388608

=== present C to sim-3 only
PUT /Repository/${RC}/present
body {"value": "${S3}"}
status 200
capture PJ4 id.value

=== C is presented
GET /Job/${PJ4}?wait=30
status 200
expect jobRunState SUCCESS

=== B (sim-1) and C (sim-3) share no server: 409
PUT /VirtualDisk/${VC}/clone?cloneType=SPARSE_COPY&targetRepositoryId=${RC}
status 409
expect message ~not presented together

=== A (sim-1, sim-3) and C (sim-3) share sim-3: the copy works
PUT /VirtualDisk/${VN}/clone?cloneType=SPARSE_COPY&targetRepositoryId=${RC}&name=in-c-${RAND}
status 200
capture CJ3 id.value

=== the copy into C is made
GET /Job/${CJ3}?wait=30
status 200
expect jobRunState SUCCESS
capture VCC resultId.value

=== its content came along: the same bytes as the source
GET ${EXP}/repo1/VirtualDisks/${VN}
schema none
status 200
capture SHA_VN sha256

=== the copy in C has them
GET ${EXP}/repo3/VirtualDisks/${VCC}
schema none
status 200
expect sha256 ${SHA_VN}
expect size 4194304

# ---- DELETE: refusals ---------------------------------------------------------

=== a thin clone's base cannot be deleted
DELETE /VirtualDisk/${VS}
status 409
expect errorCode INVALID_STATE
expect message ~base of thin clone 'thin-${RAND}'

=== a disk is deleted through its own repository only
DELETE /Repository/${RB}/VirtualDisk/${VN}
status 404

=== delete of an unknown disk is 404
DELETE /VirtualDisk/${NOVD}
status 404

=== a read-only user cannot delete
DELETE /VirtualDisk/${VN}
auth ro
status 403

# ---- a job checks again when it runs ------------------------------------------

=== hold the non-sparse copy for a second
POST /Job/diagnostic
body {"name": "hold disk ${RAND}", "objects": [{"id": "${VNC}"}], "operations": [{"op": "sleep", "ms": 1000}]}
status 200
capture H1 id.value

=== the hold is running
GET /Job/${H1}
status 200
retry 10
expect jobRunState RUNNING

=== thin-clone it: accepted, queued behind the hold
PUT /VirtualDisk/${VNC}/clone?cloneType=THIN_CLONE&name=late-${RAND}
status 200
capture LJ id.value

=== delete it: accepted now (no clone exists yet), queued behind the clone
DELETE /VirtualDisk/${VNC}
status 200
capture DJ id.value

=== the clone runs first and succeeds
GET /Job/${LJ}?wait=30
status 200
expect jobRunState SUCCESS
capture VL resultId.value

=== the delete fails when it runs: the disk is a thin clone's base by then
GET /Job/${DJ}?wait=30
status 200
expect jobRunState FAILURE
expect error.message ~base of thin clone 'late-${RAND}'

=== and the disk is still there, with its file
GET ${EXP}/repo1/VirtualDisks/${VNC}
schema none
status 200
expect exists true

# ---- DELETE ---------------------------------------------------------------------

=== delete the late thin clone
DELETE /VirtualDisk/${VL}
status 200
capture XJ1 id.value

=== deleted
GET /Job/${XJ1}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.value ${VL}

=== delete the first thin clone through its repository
DELETE /Repository/${RA}/VirtualDisk/${VT}
status 200
expect name "Delete Virtual Disk: thin-${RAND}"
capture XJ2 id.value

=== deleted too
GET /Job/${XJ2}?wait=30
status 200
expect jobRunState SUCCESS

=== the thin clone's file is gone
GET ${EXP}/repo1/VirtualDisks/${VT}
schema none
status 200
expect exists false

=== the clone is gone from the API
GET /VirtualDisk/${VT}
auth ro
status 404

=== now its base can go: an operator deletes it
DELETE /VirtualDisk/${VS}
auth op
status 200
capture XJ3 id.value

=== the base is deleted
GET /Job/${XJ3}?wait=30
status 200
expect jobRunState SUCCESS

=== the delete raised an event
GET /Event?object=${VS}
auth ro
status 200
expect [0].type vdisk.deleted

=== delete the rest: the non-sparse disk
DELETE /VirtualDisk/${VN}
status 200
capture XJ4 id.value

=== gone
GET /Job/${XJ4}?wait=30
status 200
expect jobRunState SUCCESS

=== the non-sparse copy
DELETE /VirtualDisk/${VNC}
status 200
capture XJ5 id.value

=== gone too
GET /Job/${XJ5}?wait=30
status 200
expect jobRunState SUCCESS

=== the copy in B
DELETE /Repository/${RB}/VirtualDisk/${VC}
status 200
capture XJ6 id.value

=== B's copy is gone
GET /Job/${XJ6}?wait=30
status 200
expect jobRunState SUCCESS

=== the copy in C
DELETE /VirtualDisk/${VCC}
status 200
capture XJ7 id.value

=== C's copy is gone
GET /Job/${XJ7}?wait=30
status 200
expect jobRunState SUCCESS

=== A's VirtualDisks directory is empty again: no file left behind
GET ${EXP}/repo1/VirtualDisks
schema none
status 200
expect entries []

=== and so are B's and C's
GET ${EXP}/repo2/VirtualDisks
schema none
status 200
expect entries []

=== C's
GET ${EXP}/repo3/VirtualDisks
schema none
status 200
expect entries []

=== no virtual disk is left
GET /VirtualDisk
auth ro
status 200
expect-count 0

# ---- clean-up: repositories and the file server --------------------------------

=== unpresent A from sim-1
PUT /Repository/${RA}/unpresent
body {"value": "${S1}"}
status 200
capture U1 id.value

=== done
GET /Job/${U1}?wait=30
status 200
expect jobRunState SUCCESS

=== unpresent A from sim-3
PUT /Repository/${RA}/unpresent
body {"value": "${S3}"}
status 200
capture U2 id.value

=== done too
GET /Job/${U2}?wait=30
status 200
expect jobRunState SUCCESS

=== unpresent B
PUT /Repository/${RB}/unpresent
body {"value": "${S1}"}
status 200
capture U3 id.value

=== B unpresented
GET /Job/${U3}?wait=30
status 200
expect jobRunState SUCCESS

=== unpresent C
PUT /Repository/${RC}/unpresent
body {"value": "${S3}"}
status 200
capture U4 id.value

=== C unpresented
GET /Job/${U4}?wait=30
status 200
expect jobRunState SUCCESS

=== delete A
DELETE /Repository/${RA}
status 200
capture Y1 id.value

=== A deleted
GET /Job/${Y1}?wait=30
status 200
expect jobRunState SUCCESS

=== delete B
DELETE /Repository/${RB}
status 200
capture Y2 id.value

=== B deleted
GET /Job/${Y2}?wait=30
status 200
expect jobRunState SUCCESS

=== delete C
DELETE /Repository/${RC}
status 200
capture Y3 id.value

=== C deleted
GET /Job/${Y3}?wait=30
status 200
expect jobRunState SUCCESS

=== delete the file server
DELETE /FileServer/${NFS}
status 200
capture Y4 id.value

=== the file server is deleted
GET /Job/${Y4}?wait=30
status 200
expect jobRunState SUCCESS
