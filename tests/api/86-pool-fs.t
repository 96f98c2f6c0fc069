# Pool file systems (issue 4's "pool file system reference", with the
# storage of issue 5): the extension member poolFileSystemId of a
# clustered ServerPool names the NFS export its cluster heartbeat lives
# on. The rules, each with its refusal: only clustered pools have one
# (400); the file system exists (404), is an NFS export (a local file
# system is not shared: 409), holds no repository and gets none while it
# is a pool's (one purpose per export: 409 both ways), belongs to one pool
# only (409); it can be set, changed and cleared while the pool has no
# servers; the file system lists its pool in serverPoolIds.
#
# run.sh makes a second simulated NFS server, nfs-pool, exporting
# /exports/pool1 and /exports/pool2, so this file does not depend on what
# 83-storage.t leaves of sim-nfs. sim-1 is (re)discovered here so the file
# also runs alone.

set PA pfs-a-${RAND}
set PB pfs-b-${RAND}
set PC pfs-c-${RAND}
set NOFS 0004fb00000500000000000000000000

=== discover sim-1 with ownership
POST /Server/discover?serverName=sim-1
body "agent-secret"
status 200
capture D1 id.value

=== sim-1 is discovered
GET /Job/${D1}?wait=30
status 200
expect jobRunState SUCCESS
capture S1 resultId.value

=== register the NFS server nfs-pool
POST /FileServer
body {"name": "nfs-pool-${RAND}", "accessHost": "nfs-pool", "fileServerType": "NETWORK", "adminServerIds": [{"value": "${S1}"}]}
status 200
capture J1 id.value

=== nfs-pool is registered with its two exports
GET /Job/${J1}?wait=30
status 200
expect jobRunState SUCCESS
capture FSRV resultId.value

=== its file systems, by name
GET /FileServer/${FSRV}/FileSystem
auth ro
status 200
expect-count 2
expect [0].name nfs:/exports/pool1
expect [1].name nfs:/exports/pool2
expect [0].serverPoolIds []
capture FS1 [0].id.value
capture FS2 [1].id.value

=== sim-1's local file system
GET /FileServer
auth ro
status 200
expect [0].name "Local FS sim-1"
capture LFSRV [0].id.value

=== its one file system
GET /FileServer/${LFSRV}/FileSystem
auth ro
status 200
capture LFS [0].id.value

# ---- refusals at creation ----------------------------------------------------

=== an unclustered pool has no pool file system
POST /ServerPool
body {"name": "${PA}", "clustered": false, "poolFileSystemId": {"value": "${FS1}"}}
status 400
expect errorCode INVALID_INPUT
expect message ~only a clustered server pool

=== an unknown file system
POST /ServerPool
body {"name": "${PA}", "clustered": true, "poolFileSystemId": "${NOFS}"}
status 404
expect message ~${NOFS}

=== a local file system is not shared
POST /ServerPool
body {"name": "${PA}", "clustered": true, "poolFileSystemId": "${LFS}"}
status 409
expect message ~must be shared

=== a SimpleId of another type
POST /ServerPool
body {"name": "${PA}", "clustered": true, "poolFileSystemId": {"type": "com.oracle.ovm.mgr.ws.model.Repository", "value": "${FS1}"}}
status 400
expect message ~FileSystem

# ---- a clustered pool on /exports/pool1 ----------------------------------------

=== create a clustered pool on /exports/pool1
POST /ServerPool
body {"name": "${PA}", "clustered": true, "poolFileSystemId": {"type": "com.oracle.ovm.mgr.ws.model.FileSystem", "value": "${FS1}"}}
status 200
capture J2 id.value

=== the pool is created
GET /Job/${J2}?wait=30
status 200
expect jobRunState SUCCESS
capture PAID resultId.value

=== the pool names its file system
GET /ServerPool/${PAID}
auth ro
status 200
expect clustered true
expect poolFileSystemId.value ${FS1}
expect poolFileSystemId.name nfs:/exports/pool1
capture GA generation

=== the file system names its pool
GET /FileSystem/${FS1}
auth ro
status 200
expect serverPoolIds[0].value ${PAID}

=== one pool per file system
POST /ServerPool
body {"name": "${PB}", "clustered": true, "poolFileSystemId": "${FS1}"}
status 409
expect message ~already the pool file system of server pool '${PA}'

=== no repository on a pool file system
POST /FileSystem/${FS1}/Repository
body {"name": "repo-on-pool-fs-${RAND}"}
status 409

# ---- a file system holding a repository ----------------------------------------

=== a repository on /exports/pool2
POST /FileSystem/${FS2}/Repository
body {"name": "pfs-repo-${RAND}"}
status 200
capture J3 id.value

=== the repository is created
GET /Job/${J3}?wait=30
status 200
expect jobRunState SUCCESS
capture REPO resultId.value

=== a file system holding a repository is no pool file system
POST /ServerPool
body {"name": "${PB}", "clustered": true, "poolFileSystemId": "${FS2}"}
status 409
expect message ~holds repository 'pfs-repo-${RAND}'

=== nor can an edit move a pool onto it
PUT /ServerPool/${PAID}
body {"poolFileSystemId": {"value": "${FS2}"}}
status 409
expect message ~holds repository

# ---- edits while the pool has no servers ---------------------------------------

=== clear the pool file system
PUT /ServerPool/${PAID}
body {"generation": ${GA}, "poolFileSystemId": null}
status 200
capture J4 id.value

=== the edit succeeds
GET /Job/${J4}?wait=30
status 200
expect jobRunState SUCCESS

=== the pool has none now, and the file system is free
GET /ServerPool/${PAID}
auth ro
status 200
expect poolFileSystemId null

=== the file system lists no pool
GET /FileSystem/${FS1}
auth ro
status 200
expect serverPoolIds []

=== another clustered pool takes it
POST /ServerPool
body {"name": "${PB}", "clustered": true, "poolFileSystemId": "${FS1}"}
status 200
capture J5 id.value

=== the second pool is created
GET /Job/${J5}?wait=30
status 200
expect jobRunState SUCCESS
capture PBID resultId.value

=== the first pool cannot take it back
PUT /ServerPool/${PAID}
body {"poolFileSystemId": "${FS1}"}
status 409
expect message ~'${PB}'

=== an unclustered pool cannot be given one by an edit
POST /ServerPool
body {"name": "${PC}"}
status 200
capture J6 id.value

=== the unclustered pool is created
GET /Job/${J6}?wait=30
status 200
expect jobRunState SUCCESS
capture PCID resultId.value

=== edit refused
PUT /ServerPool/${PCID}
body {"poolFileSystemId": "${FS2}"}
status 400
expect message ~only a clustered server pool

=== the file server cannot go while a file system is a pool's
DELETE /FileServer/${FSRV}
status 409

# ---- clean up ------------------------------------------------------------------

=== delete pool B
DELETE /ServerPool/${PBID}
status 200
capture J7 id.value

=== pool B is gone
GET /Job/${J7}?wait=30
status 200
expect jobRunState SUCCESS

=== /exports/pool1 names no pool any more
GET /FileSystem/${FS1}
auth ro
status 200
expect serverPoolIds []

=== delete pool A
DELETE /ServerPool/${PAID}
status 200

=== delete pool C
DELETE /ServerPool/${PCID}
status 200
capture J8 id.value

=== pool C is gone
GET /Job/${J8}?wait=30
status 200
expect jobRunState SUCCESS
