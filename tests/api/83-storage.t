# Storage (issue 5): file servers, file systems, repositories. The
# Storage Connect plug-ins; the local file server every discovered server
# gets; registering the simulated NFS server sim-nfs (exports
# /exports/repo1..3), editing, refreshing and deleting it; repositories
# on an export and on sim-1's local storage: create, present to two
# servers (FileSystemMount objects, presentedServerIds), unpresent, edit,
# refresh, release and take ownership, delete -- owned (the files go) and
# unowned (only the objects go: a refresh finds the repository again from
# its .ovsrepo); and every refusal: 400/403/404/409 before any job exists,
# and a job FAILURE when the world changed while the job waited (two
# presents of one repository to one server, queued behind a diagnostic
# job holding the repository; run.sh sets job_diagnostics on and a 2 s
# lock timeout, the hold below sleeps 1 s).
#
# What needs the files themselves (the tree on disk, a repository left by
# another Manager, a host that exports nothing, disks found by a refresh)
# is tests/api/storage.sh, with its own daemon.
#
# The servers are (re)discovered here so the file also runs alone: sim-1
# and sim-3 owned (agent password "agent-secret"), sim-2 unowned; after
# 81/82 sim-1 and sim-3 are in a pool, which changes nothing here. The
# file removes what it made: the NFS file server and its repositories.

set NFSPLUGIN oracle.generic.NFSPlugin.GenericNFSPlugin (1.1.0)
set NFSPLUGIN_URI oracle.generic.NFSPlugin.GenericNFSPlugin%20(1.1.0)
set OCFS2PLUGIN oracle.ocfs2.OCFS2.OCFS2Plugin (0.1.0-42.1)
set OCFS2PLUGIN_URI oracle.ocfs2.OCFS2.OCFS2Plugin%20(0.1.0-42.1)
set NFSNAME nfs-${RAND}
set RNAME repo-${RAND}
set NOFS 0004fb00000500000000000000000000
set NOREPO 0004fb00000300000000000000000000
set NOSRV 00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00

=== the Manager id
GET /Manager/id
auth ro
status 200
capture MGR [0].value

# ---- servers -----------------------------------------------------------------

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

=== discover sim-2 without ownership
POST /Server/discover?serverName=sim-2&takeOwnershipIfUnowned=false
status 200
capture D2 id.value

=== sim-2 is discovered
GET /Job/${D2}?wait=30
status 200
expect jobRunState SUCCESS
capture S2 resultId.value

=== discover sim-3 with ownership
POST /Server/discover?serverName=sim-3
body "agent-secret"
status 200
capture D3 id.value

=== sim-3 is discovered
GET /Job/${D3}?wait=30
status 200
expect jobRunState SUCCESS
capture S3 resultId.value

=== sim-2 is not owned by this Manager
GET /Server/${S2}
auth ro
status 200
expect managerUuid null

# ---- Storage Connect plug-ins ------------------------------------------------

=== the file server plug-ins Oracle VM ships
GET /FileServerPlugin
auth ro
status 200
expect-count 2

=== the generic NFS plug-in, its id percent-encoded in the URI
GET /FileServerPlugin/${NFSPLUGIN_URI}
auth ro
status 200
expect name "Oracle Generic Network File System"
expect pluginName "Oracle Generic Network File System"
expect genericPlugin true
expect fileServerType NETWORK
expect readOnly true
expect id.uri ~GenericNFSPlugin%20(1.1.0)

=== the storage array plug-in
GET /StorageArrayPlugin
auth ro
status 200
expect-count 1
expect [0].storageTypes ["FIBRECHANNEL","ISCSI"]

=== plug-ins are read-only facts: no edit
PUT /FileServerPlugin/${NFSPLUGIN_URI}
body {"name": "renamed", "description": "changed"}
status 409
expect message ~is read-only

=== the plug-in kept its name and says it is read-only
GET /FileServerPlugin/${NFSPLUGIN_URI}
auth ro
status 200
expect name "Oracle Generic Network File System"
expect readOnly true

# ---- local file servers ------------------------------------------------------

=== every discovered server has a local file server, sim-1's first by name
GET /FileServer
auth ro
status 200
expect [0].name "Local FS sim-1"
expect [0].fileServerType LOCAL
expect [0].serverId.value ${S1}
expect [0].adminServerIds[0].value ${S1}
expect [0].fileServerPluginId.value ${OCFS2PLUGIN}
expect [0].accessHost ""
expect [1].name "Local FS sim-2"
expect [2].name "Local FS sim-3"
capture LFS1 [0].id.value

=== its file system is sim-1's local storage directory
GET /FileServer/${LFS1}/FileSystem
auth ro
status 200
expect-count 1
expect [0].name local:/OVS/local-sim-1
expect [0].path /OVS/local-sim-1
expect [0].present true
expect [0].shared false
expect [0].fileServerId.value ${LFS1}
capture LFSYS1 [0].id.value

=== rediscover sim-1
PUT /Server/${S1}/rediscover
status 200
capture D4 id.value

=== the rediscovery succeeds
GET /Job/${D4}?wait=30
status 200
expect jobRunState SUCCESS

=== the local file server and its file system keep their ids
GET /FileServer/${LFS1}/FileSystem
auth ro
status 200
expect-count 1
expect [0].id.value ${LFSYS1}

=== the plug-in lists the local file servers
GET /FileServerPlugin/${OCFS2PLUGIN_URI}
auth ro
status 200
expect fileServerIds[0].name "Local FS sim-1"

# ---- POST /FileServer: refusals ----------------------------------------------

=== a read-only user cannot register a file server
POST /FileServer
auth ro
body {"name": "${NFSNAME}", "accessHost": "sim-nfs", "adminServerIds": ["${S1}"]}
status 403

=== an operator cannot register a file server (administrators only)
POST /FileServer
auth op
body {"name": "${NFSNAME}", "accessHost": "sim-nfs", "adminServerIds": ["${S1}"]}
status 403

=== a file server needs an access host
POST /FileServer
body {"name": "${NFSNAME}", "adminServerIds": ["${S1}"]}
status 400
expect errorCode INVALID_INPUT
expect message ~accessHost

=== the access host is a host name or address, not a path
POST /FileServer
body {"name": "${NFSNAME}", "accessHost": "sim-nfs:/exports", "adminServerIds": ["${S1}"]}
status 400
expect message ~not a host name or an IP address

=== local file servers come with server discovery
POST /FileServer
body {"name": "${NFSNAME}", "accessHost": "sim-nfs", "fileServerType": "LOCAL", "adminServerIds": ["${S1}"]}
status 400
expect message ~server discovery

=== a file server needs an admin server
POST /FileServer
body {"name": "${NFSNAME}", "accessHost": "sim-nfs", "adminServerIds": []}
status 400
expect message ~at least one admin server

=== no admin servers at all is the same
POST /FileServer
body {"name": "${NFSNAME}", "accessHost": "sim-nfs"}
status 400
expect message ~admin server

=== adminServerIds must be an array
POST /FileServer
body {"name": "${NFSNAME}", "accessHost": "sim-nfs", "adminServerIds": "${S1}"}
status 400

=== an admin server must be a Server
POST /FileServer
body {"name": "${NFSNAME}", "accessHost": "sim-nfs", "adminServerIds": [{"type": "com.oracle.ovm.mgr.ws.model.Vm", "value": "${S1}"}]}
status 400
expect message ~Server

=== an unknown admin server is 404
POST /FileServer
body {"name": "${NFSNAME}", "accessHost": "sim-nfs", "adminServerIds": ["${NOSRV}"]}
status 404

=== an admin server this Manager does not own is refused
POST /FileServer
body {"name": "${NFSNAME}", "accessHost": "sim-nfs", "adminServerIds": ["${S2}"]}
status 409
expect errorCode INVALID_STATE
expect message ~does not own

=== so is such a refresh server
POST /FileServer
body {"name": "${NFSNAME}", "accessHost": "sim-nfs", "adminServerIds": ["${S1}"], "refreshServerIds": ["${S2}"]}
status 409
expect message ~refresh server

=== an unknown plug-in is 404
POST /FileServer
body {"name": "${NFSNAME}", "accessHost": "sim-nfs", "fileServerPluginId": "no.such.plugin", "adminServerIds": ["${S1}"]}
status 404

=== the OCFS2 plug-in serves local file systems, not file servers
POST /FileServer
body {"name": "${NFSNAME}", "accessHost": "sim-nfs", "fileServerPluginId": {"type": "com.oracle.ovm.mgr.ws.model.FileServerPlugin", "value": "${OCFS2PLUGIN}"}, "adminServerIds": ["${S1}"]}
status 400
expect message ~local file systems

=== the name is checked
POST /FileServer
body {"name": 7, "accessHost": "sim-nfs", "adminServerIds": ["${S1}"]}
status 400

=== no job was made by any refusal
GET /FileServer
auth ro
status 200
expect-count 3

# ---- POST /FileServer ---------------------------------------------------------

=== register sim-nfs as Oracle's examples do: answers with a Job
POST /FileServer
body {"name": "${NFSNAME}", "accessHost": "SIM-NFS", "fileServerType": "NETWORK", "fileServerPluginId": {"type": "com.oracle.ovm.mgr.ws.model.FileServerPlugin", "value": "${NFSPLUGIN}", "uri": "${BASE}/FileServerPlugin/${NFSPLUGIN_URI}", "name": "Oracle Generic Network File System"}, "adminServerIds": [{"type": "com.oracle.ovm.mgr.ws.model.Server", "value": "${S1}"}], "refreshServerIds": ["${S3}"], "uniformExports": true}
status 200
expect id.type com.oracle.ovm.mgr.ws.model.Job
expect name "Create File Server: ${NFSNAME}"
capture C1 id.value

=== the registration succeeds and names the file server
GET /Job/${C1}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.type com.oracle.ovm.mgr.ws.model.FileServer
expect resultId.name ${NFSNAME}
capture NFS resultId.value

=== the file server has the Oracle VM shape
GET /FileServer/${NFS}
auth ro
status 200
expect name ${NFSNAME}
expect fileServerType NETWORK
expect accessHost sim-nfs
expect fileServerPluginId.value ${NFSPLUGIN}
expect fileServerPluginId.name "Oracle Generic Network File System"
expect adminServerIds[0].value ${S1}
expect refreshServerIds[0].value ${S3}
expect serverId null
expect uniformExports true
expect-count fileSystemIds 3
expect-exists lastRefreshed
capture G0 generation

=== a file server id is Oracle-style (type code 0009)
GET /FileServer/id
auth ro
status 200
expect [3].value ~0004fb000009

=== one file system per export, named nfs:<export>
GET /FileServer/${NFS}/FileSystem
auth ro
status 200
expect-count 3
expect [0].name nfs:/exports/repo1
expect [0].path /exports/repo1
expect [0].present true
expect [0].refreshed true
expect [0].shared true
expect [0].fileServerId.value ${NFS}
expect [0].fileServerIds[0].value ${NFS}
expect [0].repositoryIds []
expect [1].name nfs:/exports/repo2
expect [2].name nfs:/exports/repo3
capture FS1 [0].id.value
capture FS2 [1].id.value
capture FS3 [2].id.value

=== a file system has its size from the probe
GET /FileSystem/${FS1}
auth ro
status 200
expect-not size 0
expect-exists freeSize
expect serverPoolIds []

=== the registration raised events
GET /Event?object=${NFS}
auth ro
status 200
expect [0].type fileserver.created

=== the file systems too
GET /Event?object=${FS1}
auth ro
status 200
expect [0].type filesystem.created

=== one NETWORK file server per access host, however it is spelled
POST /FileServer
body {"name": "other-${RAND}", "accessHost": "Sim-Nfs", "adminServerIds": ["${S1}"]}
status 409
expect errorCode ALREADY_EXISTS
expect message ~sim-nfs

=== a host that does not answer: accepted, the job fails
POST /FileServer
body {"accessHost": "no-such-nfs-${RAND}", "adminServerIds": ["${S1}"]}
status 200
expect name "Create File Server: no-such-nfs-${RAND}"
capture C2 id.value

=== the job fails and makes nothing
GET /Job/${C2}?wait=30
status 200
expect jobRunState FAILURE
expect error.type SERVER_UNREACHABLE
expect error.message ~no-such-nfs

=== still four file servers
GET /FileServer/id
auth ro
status 200
expect-count 4

# ---- PUT /FileServer/{id} -----------------------------------------------------

=== edit of an unknown file server is 404
PUT /FileServer/${NOREPO}
body {"description": "x"}
status 404

=== the access host cannot change
PUT /FileServer/${NFS}
body {"accessHost": "other-host"}
status 400
expect message ~accessHost

=== the same access host spelled otherwise is no change
PUT /FileServer/${NFS}
body {"accessHost": "SIM-NFS", "adminServerIds": []}
status 400
expect message ~at least one admin server

=== the type cannot change
PUT /FileServer/${NFS}
body {"fileServerType": "LOCAL"}
status 400
expect message ~fileServerType

=== admin servers must be owned
PUT /FileServer/${NFS}
body {"adminServerIds": ["${S2}"]}
status 409
expect message ~does not own

=== a stale generation is refused at once
PUT /FileServer/${NFS}
body {"generation": 999, "description": "stale"}
status 409
expect errorCode CONFLICT

=== a local file server's admin server is its server
PUT /FileServer/${LFS1}
body {"adminServerIds": ["${S3}"]}
status 400
expect message ~own server

=== an operator cannot edit a file server
PUT /FileServer/${NFS}
auth op
body {"description": "op"}
status 403

=== edit the file server as read: name, description, admin and refresh servers
PUT /FileServer/${NFS}
body {"id": {"type": "com.oracle.ovm.mgr.ws.model.FileServer", "value": "${NFS}"}, "name": "${NFSNAME}-b", "description": "edited", "generation": ${G0}, "accessHost": "sim-nfs", "fileServerType": "NETWORK", "fileServerPluginId": {"value": "${NFSPLUGIN}"}, "adminServerIds": [{"value": "${S1}"}, {"value": "${S3}"}], "refreshServerIds": [], "uniformExports": false}
status 200
expect name "Edit File Server: ${NFSNAME}"
capture E1 id.value

=== the edit succeeds
GET /Job/${E1}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.value ${NFS}

=== the file server shows the edit
GET /FileServer/${NFS}
auth ro
status 200
expect name ${NFSNAME}-b
expect description edited
expect-count adminServerIds 2
expect refreshServerIds []
expect uniformExports false
expect-not generation ${G0}

=== a local file server's description may change
PUT /FileServer/${LFS1}
body {"description": "sim-1 disks"}
status 200
capture E2 id.value

=== that edit succeeds too
GET /Job/${E2}?wait=30
status 200
expect jobRunState SUCCESS

# ---- refresh ------------------------------------------------------------------

=== refresh of an unknown file server is 404
PUT /FileServer/${NOREPO}/refresh
status 404

=== refresh the NFS file server
PUT /FileServer/${NFS}/refresh
status 200
expect name "Refresh File Server: ${NFSNAME}-b"
capture F1 id.value

=== the refresh succeeds; the same three file systems
GET /Job/${F1}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.value ${NFS}

=== nothing changed but the sizes
GET /FileServer/${NFS}/FileSystem
auth ro
status 200
expect-count 3
expect [0].id.value ${FS1}
expect [2].id.value ${FS3}

=== the refresh raised an event
GET /Event?object=${NFS}
auth ro
status 200
expect [0].type fileserver.refreshed

=== refresh one file system
PUT /FileSystem/${FS1}/refresh
status 200
capture F2 id.value

=== the file system refresh succeeds
GET /Job/${F2}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.value ${FS1}

=== refresh sim-1's local file server
PUT /FileServer/${LFS1}/refresh
status 200
capture F3 id.value

=== its local directory stays
GET /Job/${F3}?wait=30
status 200
expect jobRunState SUCCESS

=== the local file system is still there
GET /FileSystem/${LFSYS1}
auth ro
status 200
expect present true

=== refresh of an unknown file system is 404
PUT /FileSystem/${NOFS}/refresh
status 404

# ---- POST /FileSystem/{id}/Repository: refusals --------------------------------

=== a repository on an unknown file system is 404
POST /FileSystem/${NOFS}/Repository
body {"name": "${RNAME}"}
status 404

=== a repository needs a name
POST /FileSystem/${FS1}/Repository
body {"description": "no name"}
status 400
expect message ~name

=== the share path is relative
POST /FileSystem/${FS1}/Repository
body {"name": "${RNAME}", "sharePath": "/abs"}
status 400
expect message ~relative

=== and never climbs out
POST /FileSystem/${FS1}/Repository
body {"name": "${RNAME}", "sharePath": "a/../b"}
status 400
expect message ~sharePath

=== a read-only user cannot create a repository
POST /FileSystem/${FS1}/Repository
auth ro
body {"name": "${RNAME}"}
status 403

=== the body must be a JSON object
POST /FileSystem/${FS1}/Repository
body "${RNAME}"
status 400

# ---- POST /FileSystem/{id}/Repository ------------------------------------------

=== create a repository on nfs:/exports/repo1
POST /FileSystem/${FS1}/Repository
body {"id": null, "name": "${RNAME}", "description": "first", "sharePath": "", "userData": [{"key": "tier", "value": "gold"}]}
status 200
expect name "Create Repository: ${RNAME}"
capture R1J id.value

=== the creation succeeds and names the repository
GET /Job/${R1J}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.type com.oracle.ovm.mgr.ws.model.Repository
capture R1 resultId.value

=== the repository has the Oracle VM shape, owned by this Manager
GET /Repository/${R1}
auth ro
status 200
expect name ${RNAME}
expect description first
expect managerUuid ${MGR}
expect sharePath ""
expect refreshed true
expect fileSystemId.value ${FS1}
expect fileSystemId.name nfs:/exports/repo1
expect presentedServerIds []
expect virtualDiskIds []
expect vmIds []
expect assemblyIds []
expect userData [{"key":"tier","value":"gold"}]
expect id.value ~0004fb000003

=== the file system lists it
GET /FileSystem/${FS1}
auth ro
status 200
expect repositoryIds[0].value ${R1}

=== and so does its child collection
GET /FileSystem/${FS1}/Repository
auth ro
status 200
expect-count 1
expect [0].id.value ${R1}

=== the creation raised an event
GET /Event?object=${R1}
auth ro
status 200
expect [0].type repository.created

=== one repository per place
POST /FileSystem/${FS1}/Repository
body {"name": "again-${RAND}"}
status 409
expect errorCode ALREADY_EXISTS
expect message ~already has repository '${RNAME}'

=== and none inside another
POST /FileSystem/${FS1}/Repository
body {"name": "nested-${RAND}", "sharePath": "sub/dir"}
status 409
expect message ~nest

=== a second repository on nfs:/exports/repo2
POST /FileSystem/${FS2}/Repository
body {"name": "${RNAME}-2"}
status 200
capture R2J id.value

=== the second repository is created
GET /Job/${R2J}?wait=30
status 200
expect jobRunState SUCCESS
capture R2 resultId.value

=== a repository on sim-1's local storage, in a subdirectory
POST /FileSystem/${LFSYS1}/Repository
body {"name": "${RNAME}-local", "sharePath": "repos/r1"}
status 200
capture RLJ id.value

=== the local repository is created
GET /Job/${RLJ}?wait=30
status 200
expect jobRunState SUCCESS
capture RL resultId.value

=== it shows its share path
GET /Repository/${RL}
auth ro
status 200
expect sharePath repos/r1
expect fileSystemId.value ${LFSYS1}

=== a file server with repositories cannot be deleted
DELETE /FileServer/${NFS}
status 409
expect errorCode INVALID_STATE
expect message ~has repository

=== a local file server cannot be deleted
DELETE /FileServer/${LFS1}
status 409
expect message ~goes with its server

=== deleting an unknown file server is 404
DELETE /FileServer/${NOREPO}
status 404

# ---- present: refusals ---------------------------------------------------------------

=== present needs a body naming the server
PUT /Repository/${R1}/present
status 400
expect message ~name the server

=== the body must name a Server
PUT /Repository/${R1}/present
body {"type": "com.oracle.ovm.mgr.ws.model.Vm", "value": "${S1}"}
status 400

=== presenting to an unknown server is 404
PUT /Repository/${R1}/present
body {"value": "${NOSRV}"}
status 404

=== presenting an unknown repository is 404
PUT /Repository/${NOREPO}/present
body {"value": "${S1}"}
status 404

=== a server this Manager does not own cannot have it
PUT /Repository/${R1}/present
body {"value": "${S2}"}
status 409
expect message ~does not own the server

=== an operator cannot present
PUT /Repository/${R1}/present
auth op
body {"value": "${S1}"}
status 403

=== local storage is for its own server only
PUT /Repository/${RL}/present
body "${S3}"
status 409
expect message ~local storage of server 'sim-1'

# ---- present ------------------------------------------------------------------

=== present to sim-1 with its SimpleId
PUT /Repository/${R1}/present
body {"type": "com.oracle.ovm.mgr.ws.model.Server", "value": "${S1}", "uri": "${BASE}/Server/${S1}", "name": "sim-1"}
status 200
expect name "Present Repository: ${RNAME} to Server: sim-1"
expect resultId.value ${R1}
capture P1 id.value

=== presented to sim-1
GET /Job/${P1}?wait=30
status 200
expect jobRunState SUCCESS

=== present to sim-3 with the bare id
PUT /Repository/${R1}/present
body "${S3}"
status 200
capture P2 id.value

=== presented to sim-3
GET /Job/${P2}?wait=30
status 200
expect jobRunState SUCCESS

=== the repository is presented to both
GET /Repository/${R1}
auth ro
status 200
expect-count presentedServerIds 2
capture G1 generation

=== each presentation is a FileSystemMount
GET /FileSystemMount/${S1}_mount_${R1}
auth ro
status 200
expect name sim-1_/OVS/Repositories/${R1}
expect absolutePath /OVS/Repositories/${R1}
expect sharePath ""
expect serverId.value ${S1}
expect fileSystemId.value ${FS1}
expect repositoryId.value ${R1}

=== the repository's mounts
GET /Repository/${R1}/FileSystemMount
auth ro
status 200
expect-count 2

=== the file system's mounts
GET /FileSystem/${FS1}
auth ro
status 200
expect-count fileSystemMountIds 2

=== the presentation raised an event
GET /Event?object=${R1}
auth ro
status 200
expect [0].type repository.presented

=== presenting twice is refused
PUT /Repository/${R1}/present
body {"value": "${S1}"}
status 409
expect message ~already presented to server 'sim-1'

=== the local repository to sim-1
PUT /Repository/${RL}/present
body "${S1}"
status 200
capture P3 id.value

=== presented to its server
GET /Job/${P3}?wait=30
status 200
expect jobRunState SUCCESS

=== a server with a repository presented cannot be deleted
DELETE /Server/${S1}
status 409
expect message ~unpresent repository

# Two presents of R2 to sim-3, both accepted while it is presented nowhere,
# wait behind a diagnostic job holding R2: the first presents it, the
# second finds it presented when it runs and fails, changing nothing.

=== a diagnostic job holds the second repository for a second
POST /Job/diagnostic
body {"name": "hold repo ${RAND}", "objects": [{"id": "${R2}"}], "operations": [{"op": "sleep", "ms": 1000}]}
status 200
capture H1 id.value

=== the diagnostic job is running
GET /Job/${H1}
status 200
retry 10
expect jobRunState RUNNING

=== present it to sim-3: accepted, queued
PUT /Repository/${R2}/present
body "${S3}"
status 200
expect done false
capture Q1 id.value

=== present it to sim-3 again: accepted too, queued behind
PUT /Repository/${R2}/present
body {"value": "${S3}"}
status 200
expect done false
capture Q2 id.value

=== the first present succeeds
GET /Job/${Q1}?wait=30
status 200
expect jobRunState SUCCESS

=== the second fails when it runs: presented by then
GET /Job/${Q2}?wait=30
status 200
expect jobRunState FAILURE
expect error.type INVALID_STATE
expect error.message ~already presented to server 'sim-3'

=== one mount
GET /Repository/${R2}/FileSystemMount
auth ro
status 200
expect-count 1

# ---- PUT /Repository/{id} --------------------------------------------------------

=== a stale generation is refused
PUT /Repository/${R1}
body {"generation": 0, "name": "stale"}
status 409
expect errorCode CONFLICT

=== an operator cannot edit a repository
PUT /Repository/${R1}
auth op
body {"description": "op"}
status 403

=== edit the repository as read
PUT /Repository/${R1}
body {"id": {"type": "com.oracle.ovm.mgr.ws.model.Repository", "value": "${R1}"}, "name": "${RNAME}-b", "description": "renamed", "generation": ${G1}, "managerUuid": "${MGR}", "sharePath": ""}
status 200
capture U1 id.value

=== the edit succeeds
GET /Job/${U1}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.value ${R1}

=== the repository shows it
GET /Repository/${R1}
auth ro
status 200
expect name ${RNAME}-b
expect description renamed

# ---- refresh ---------------------------------------------------------------------

=== refresh the repository through a server it is presented to
PUT /Repository/${R1}/refresh
status 200
expect name "Refresh Repository: ${RNAME}-b"
capture RF1 id.value

=== the refresh succeeds: an empty repository
GET /Job/${RF1}?wait=30
status 200
expect jobRunState SUCCESS

=== nothing in it
GET /Repository/${R1}
auth ro
status 200
expect virtualDiskIds []
expect refreshed true
expect-exists lastRefreshed

=== refresh of an unknown repository is 404
PUT /Repository/${NOREPO}/refresh
status 404

# ---- ownership, while presented ---------------------------------------------------

=== this Manager owns it already
PUT /Repository/${R1}/takeOwnership
status 409
expect message ~owns it already

=== no release while presented
PUT /Repository/${R1}/releaseOwnership
status 409
expect message ~presented to server

=== no delete while presented
DELETE /Repository/${R1}
status 409
expect message ~unpresent it first

# ---- unpresent -------------------------------------------------------------------

=== not presented to sim-2
PUT /Repository/${R1}/unpresent
body "${S2}"
status 409
expect message ~not presented to server 'sim-2'

=== unpresent needs a body
PUT /Repository/${R1}/unpresent
status 400

=== unpresent from sim-3
PUT /Repository/${R1}/unpresent
body {"value": "${S3}"}
status 200
expect name "Unpresent Repository: ${RNAME}-b from Server: sim-3"
capture UP1 id.value

=== unpresented from sim-3
GET /Job/${UP1}?wait=30
status 200
expect jobRunState SUCCESS

=== the mount is gone
GET /FileSystemMount/${S3}_mount_${R1}
auth ro
status 404

=== unpresent from sim-1
PUT /Repository/${R1}/unpresent
body "${S1}"
status 200
capture UP2 id.value

=== unpresented from sim-1
GET /Job/${UP2}?wait=30
status 200
expect jobRunState SUCCESS

=== presented nowhere
GET /Repository/${R1}
auth ro
status 200
expect presentedServerIds []

=== the unpresentation raised an event
GET /Event?object=${R1}
auth ro
status 200
expect [0].type repository.unpresented

=== a repository presented nowhere cannot be refreshed
PUT /Repository/${R1}/refresh
status 409
expect message ~not presented to any running server

# ---- ownership ---------------------------------------------------------------------

=== release ownership
PUT /Repository/${R1}/releaseOwnership
status 200
expect name "Release Ownership of Repository: ${RNAME}-b"
capture O1 id.value

=== released
GET /Job/${O1}?wait=30
status 200
expect jobRunState SUCCESS

=== no Manager owns it
GET /Repository/${R1}
auth ro
status 200
expect managerUuid null

=== a repository this Manager does not own cannot be presented
PUT /Repository/${R1}/present
body "${S1}"
status 409
expect message ~take ownership first

=== nor released again
PUT /Repository/${R1}/releaseOwnership
status 409
expect message ~does not own it

=== take ownership again
PUT /Repository/${R1}/takeOwnership
status 200
expect name "Take Ownership of Repository: ${RNAME}-b"
capture O2 id.value

=== taken
GET /Job/${O2}?wait=30
status 200
expect jobRunState SUCCESS

=== owned by this Manager again
GET /Repository/${R1}
auth ro
status 200
expect managerUuid ${MGR}

=== the ownership changes raised events
GET /Event?object=${R1}&limit=2
auth ro
status 200
expect [0].type repository.taken
expect [1].type repository.released

# ---- delete ------------------------------------------------------------------------

=== deleting an unknown repository is 404
DELETE /Repository/${NOREPO}
status 404

=== the second repository is still presented
DELETE /Repository/${R2}
status 409
expect message ~presented to server 'sim-3'

=== unpresent it
PUT /Repository/${R2}/unpresent
body "${S3}"
status 200
capture UP3 id.value

=== it is unpresented
GET /Job/${UP3}?wait=30
status 200
expect jobRunState SUCCESS

=== an operator cannot delete a repository
DELETE /Repository/${R2}
auth op
status 403

=== delete the empty, owned repository: its files go too
DELETE /Repository/${R2}
status 200
expect name "Delete Repository: ${RNAME}-2"
capture X1 id.value

=== the delete succeeds
GET /Job/${X1}?wait=30
status 200
expect jobRunState SUCCESS

=== the repository is gone
GET /Repository/${R2}
auth ro
status 404

=== its file system has none
GET /FileSystem/${FS2}
auth ro
status 200
expect repositoryIds []

=== a refresh of that file system finds nothing: the tree is gone
PUT /FileSystem/${FS2}/refresh
status 200
capture F4 id.value

=== that refresh succeeds
GET /Job/${F4}?wait=30
status 200
expect jobRunState SUCCESS

=== still no repository there
GET /FileSystem/${FS2}/Repository
auth ro
status 200
expect-count 0

# An unowned repository's delete removes the objects only: release R1,
# delete it, and a refresh of its file system finds it again from its
# .ovsrepo, unowned, under its original name (the alias written when it
# was made).

=== release the first repository
PUT /Repository/${R1}/releaseOwnership
status 200
capture O3 id.value

=== released again
GET /Job/${O3}?wait=30
status 200
expect jobRunState SUCCESS

=== delete the unowned repository: objects only
DELETE /Repository/${R1}
status 200
capture X2 id.value

=== that delete succeeds
GET /Job/${X2}?wait=30
status 200
expect jobRunState SUCCESS

=== the repository object is gone
GET /Repository/${R1}
auth ro
status 404

=== refresh its file system
PUT /FileSystem/${FS1}/refresh
status 200
capture F5 id.value

=== the refresh succeeds
GET /Job/${F5}?wait=30
status 200
expect jobRunState SUCCESS

=== the repository is found again, with its id, unowned
GET /Repository/${R1}
auth ro
status 200
expect name ${RNAME}
expect managerUuid null
expect fileSystemId.value ${FS1}

=== the refresh raised an event for it
GET /Event?object=${R1}
auth ro
status 200
expect [0].type repository.discovered
expect [0].summary ~owned by no Manager

=== take it over
PUT /Repository/${R1}/takeOwnership
status 200
capture O4 id.value

=== taken over
GET /Job/${O4}?wait=30
status 200
expect jobRunState SUCCESS

=== delete it for good: owned, its files go
DELETE /Repository/${R1}
status 200
capture X3 id.value

=== deleted
GET /Job/${X3}?wait=30
status 200
expect jobRunState SUCCESS

=== a refresh finds nothing any more
PUT /FileSystem/${FS1}/refresh
status 200
capture F6 id.value

=== that refresh succeeds too
GET /Job/${F6}?wait=30
status 200
expect jobRunState SUCCESS

=== no repository on the file system
GET /FileSystem/${FS1}/Repository
auth ro
status 200
expect-count 0

# ---- the local repository and its server ---------------------------------------------

=== unpresent the local repository
PUT /Repository/${RL}/unpresent
body "${S1}"
status 200
capture UP4 id.value

=== unpresented
GET /Job/${UP4}?wait=30
status 200
expect jobRunState SUCCESS

=== a server with a repository on its local storage cannot be deleted
DELETE /Server/${S1}
status 409
expect message ~on its local storage

=== delete the local repository
DELETE /Repository/${RL}
status 200
capture X4 id.value

=== the local repository is deleted
GET /Job/${X4}?wait=30
status 200
expect jobRunState SUCCESS

# ---- DELETE /FileServer/{id} -----------------------------------------------------------

=== an operator cannot delete a file server
DELETE /FileServer/${NFS}
auth op
status 403

=== delete the NFS file server
DELETE /FileServer/${NFS}
status 200
expect name "Delete File Server: ${NFSNAME}-b"
capture X5 id.value

=== the file server delete succeeds
GET /Job/${X5}?wait=30
status 200
expect jobRunState SUCCESS

=== the file server is gone
GET /FileServer/${NFS}
auth ro
status 404

=== and so are its file systems
GET /FileSystem/${FS1}
auth ro
status 404

=== the delete raised an event
GET /Event?object=${NFS}
auth ro
status 200
expect [0].type fileserver.deleted

=== the local file servers remain
GET /FileServer
auth ro
status 200
expect-count 3
