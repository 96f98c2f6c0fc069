# Repositories on a LUN (issue 5: "LUN repositories only for clustered
# pools"): an OCFS2 file system made on a storage element through the
# local file server of a server that reaches it (POST /FileServer/{id}/
# FileSystem), a repository on it, presented to the servers of its
# clustered pool only, and every rule with its refusal: the server in no
# pool, in an unclustered pool, without access to the LUN (access groups),
# a LUN that is not shareable or already holds a file system, a share
# path, presenting to a server of another pool, leaving the pool while a
# repository on the LUN is presented, deleting the pool or the array
# while the file system exists, deleting a file system that holds a
# repository or is no OCFS2 one. On disk (simulated storage): the LUN's
# file system is <data>/sim/iscsi/sim-iscsi/<iqn>/lun-1.ocfs2/, holding
# the repository's tree, and gone after the delete.
#
# Uses sim-2 (unowned and unassigned after 82-server-edit.t, or
# discovered so here when the file runs alone): takes it over, puts it in
# pools of its own, and leaves it unowned and unassigned again. Registers
# sim-iscsi through it and removes everything it made.

set IQN iqn.2026-01.test.sim:storage
set LUNDIR ${FIXTURE}/stat/data/sim/iscsi/sim-iscsi/${IQN}
set DEV1 /dev/disk/by-path/ip-sim-iscsi:3260-iscsi-${IQN}-lun-1
set PU lun-unclustered-${RAND}
set PC lun-clustered-${RAND}
set FSN ocfs2-${RAND}
set NOEL 0004fb00001800000000000000000000

# ---- set-up ------------------------------------------------------------------

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

=== take ownership of sim-2
PUT /Server/${S2}/takeOwnership
body "agent-secret"
status 200
capture O1 id.value

=== sim-2 is ours
GET /Job/${O1}?wait=30
status 200
expect jobRunState SUCCESS

=== an unclustered pool
POST /ServerPool
body {"name": "${PU}", "clustered": false}
status 200
capture J1 id.value

=== the unclustered pool is made
GET /Job/${J1}?wait=30
status 200
expect jobRunState SUCCESS
capture POOLU resultId.value

=== a clustered pool
POST /ServerPool
body {"name": "${PC}", "clustered": true}
status 200
capture J2 id.value

=== the clustered pool is made
GET /Job/${J2}?wait=30
status 200
expect jobRunState SUCCESS
capture POOLC resultId.value

=== register sim-iscsi through sim-2
POST /StorageArray
body {"name": "lun-san-${RAND}", "accessHosts": [{"accessHost": "sim-iscsi"}], "adminServerIds": ["${S2}"]}
status 200
capture J3 id.value

=== the array is registered
GET /Job/${J3}?wait=30
status 200
expect jobRunState SUCCESS
capture SA resultId.value

=== its two LUNs
GET /StorageArray/${SA}/StorageElement
auth ro
status 200
expect-count 2
expect [1].lun 1
capture E0 [0].id.value
capture E1 [1].id.value

=== sim-2's local file server
GET /FileServer?limit=100
auth ro
status 200
expect [1].name "Local FS sim-2"
capture LF2 [1].id.value

=== sim-2's iSCSI initiator
GET /Server/${S2}
auth ro
status 200
expect-count storageInitiatorIds 1
capture IN2 storageInitiatorIds[0].value

=== it belongs to sim-2
GET /StorageInitiator/${IN2}
auth ro
status 200
expect serverId.value ${S2}

# ---- POST /FileServer/{id}/FileSystem: refusals -------------------------------

=== no storage element
POST /FileServer/${LF2}/FileSystem
body {"name": "${FSN}"}
status 400
expect message ~storageElementId

=== a storage element SimpleId of another type
POST /FileServer/${LF2}/FileSystem
body {"name": "${FSN}", "storageElementId": {"type": "com.oracle.ovm.mgr.ws.model.Server", "value": "${E1}"}}
status 400

=== an unknown storage element
POST /FileServer/${LF2}/FileSystem
body {"name": "${FSN}", "storageElementId": "${NOEL}"}
status 404

=== an unknown file server
POST /FileServer/0004fb00000900000000000000000000/FileSystem
body {"name": "${FSN}", "storageElementId": "${E1}"}
status 404

=== read-only users cannot make file systems
POST /FileServer/${LF2}/FileSystem
auth ro
body {"name": "${FSN}", "storageElementId": "${E1}"}
status 403

=== a server in no pool: LUN repositories are for clustered pools only
POST /FileServer/${LF2}/FileSystem
body {"name": "${FSN}", "storageElementId": {"value": "${E1}"}}
status 409
expect message ~in no server pool

=== sim-2 joins the unclustered pool
PUT /ServerPool/${POOLU}/addServer
body {"value": "${S2}"}
status 200
capture J4 id.value

=== it joined
GET /Job/${J4}?wait=30
status 200
expect jobRunState SUCCESS

=== a server in an unclustered pool is refused too
POST /FileServer/${LF2}/FileSystem
body {"name": "${FSN}", "storageElementId": "${E1}"}
status 409
expect message ~which is not clustered

=== sim-2 enters maintenance mode
PUT /Server/${S2}
body {"maintenanceMode": true}
status 200
capture J5 id.value

=== in maintenance
GET /Job/${J5}?wait=30
status 200
expect jobRunState SUCCESS

=== sim-2 leaves the unclustered pool
PUT /ServerPool/${POOLU}/removeServer
body {"value": "${S2}"}
status 200
capture J6 id.value

=== it left
GET /Job/${J6}?wait=30
status 200
expect jobRunState SUCCESS

=== sim-2 joins the clustered pool
PUT /ServerPool/${POOLC}/addServer
body {"value": "${S2}"}
status 200
capture J7 id.value

=== it joined the clustered pool
GET /Job/${J7}?wait=30
status 200
expect jobRunState SUCCESS

=== sim-2 leaves maintenance mode
PUT /Server/${S2}
body {"maintenanceMode": false}
status 200
capture J8 id.value

=== out of maintenance
GET /Job/${J8}?wait=30
status 200
expect jobRunState SUCCESS

=== without access to the LUN
POST /FileServer/${LF2}/FileSystem
body {"name": "${FSN}", "storageElementId": "${E1}"}
status 409
expect message ~does not reach storage element

=== an access group with sim-2's initiator and LUN 0 only
POST /StorageArray/${SA}/AccessGroup
body {"name": "lun-group-${RAND}"}
status 200
capture J9 id.value

=== the group is made
GET /Job/${J9}?wait=30
status 200
expect jobRunState SUCCESS
capture AG resultId.value

=== add sim-2's initiator
PUT /AccessGroup/${AG}/addStorageInitiator
body "${IN2}"
status 200
capture J10 id.value

=== added
GET /Job/${J10}?wait=30
status 200
expect jobRunState SUCCESS

=== add LUN 0
PUT /AccessGroup/${AG}/addStorageElement
body "${E0}"
status 200
capture J11 id.value

=== LUN 0 added
GET /Job/${J11}?wait=30
status 200
expect jobRunState SUCCESS

=== the group lists LUN 0 only: LUN 1 is still out of reach
POST /FileServer/${LF2}/FileSystem
body {"name": "${FSN}", "storageElementId": "${E1}"}
status 409
expect message ~does not reach

=== add LUN 1
PUT /AccessGroup/${AG}/addStorageElement
body "${E1}"
status 200
capture J12 id.value

=== LUN 1 added
GET /Job/${J12}?wait=30
status 200
expect jobRunState SUCCESS

=== LUN 1 made not shareable
PUT /StorageElement/${E1}
body {"shareable": false}
status 200
capture J13 id.value

=== not shareable
GET /Job/${J13}?wait=30
status 200
expect jobRunState SUCCESS

=== a LUN that is not shareable holds no cluster file system
POST /FileServer/${LF2}/FileSystem
body {"name": "${FSN}", "storageElementId": "${E1}"}
status 409
expect message ~not shareable

=== LUN 1 shareable again
PUT /StorageElement/${E1}
body {"shareable": true}
status 200
capture J14 id.value

=== shareable
GET /Job/${J14}?wait=30
status 200
expect jobRunState SUCCESS

=== LUN 1 has no file system on disk yet
GET ${LUNDIR}/lun-1.ocfs2
schema none
status 200
expect exists false

# ---- an OCFS2 file system on LUN 1 ----------------------------------------------

=== make the file system
POST /FileServer/${LF2}/FileSystem
body {"name": "${FSN}", "description": "cluster storage", "storageElementId": {"type": "com.oracle.ovm.mgr.ws.model.StorageElement", "value": "${E1}"}}
status 200
expect name ~Create File System: ${FSN} on
capture J15 id.value

=== it is made
GET /Job/${J15}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.type com.oracle.ovm.mgr.ws.model.FileSystem
capture FS resultId.value

=== the file system
GET /FileSystem/${FS}
auth ro
status 200
expect name ${FSN}
expect description "cluster storage"
expect path ${DEV1}
expect size 2147483648
expect shared true
expect present true
expect storageElementId.value ${E1}
expect clusterServerPoolId.value ${POOLC}
expect fileServerId.value ${LF2}
expect repositoryIds []

=== the LUN lists it
GET /StorageElement/${E1}
auth ro
status 200
expect fileSystemIds[0].value ${FS}

=== on disk: the LUN's file system
GET ${LUNDIR}/lun-1.ocfs2
schema none
status 200
expect exists true
expect type dir

=== the creation raised an event
GET /Event?object=${FS}
auth ro
status 200
expect [0].type filesystem.created

=== a LUN holds one file system
POST /FileServer/${LF2}/FileSystem
body {"name": "again", "storageElementId": "${E1}"}
status 409
expect message ~already holds file system '${FSN}'

=== the array cannot go while its LUN holds a file system
DELETE /StorageArray/${SA}
status 409
expect message ~used by file system

=== a refresh of the file system probes it again
PUT /FileSystem/${FS}/refresh
status 200
capture J16 id.value

=== refreshed
GET /Job/${J16}?wait=30
status 200
expect jobRunState SUCCESS

=== still there
GET /FileSystem/${FS}
auth ro
status 200
expect present true
expect size 2147483648

=== a rediscovery of sim-2 keeps it
POST /Server/discover?serverName=sim-2
body "agent-secret"
status 200
capture J17 id.value

=== rediscovered
GET /Job/${J17}?wait=30
status 200
expect jobRunState SUCCESS

=== kept
GET /FileSystem/${FS}
auth ro
status 200
expect path ${DEV1}

# ---- a repository on it ------------------------------------------------------------

=== a repository on a LUN takes the whole file system
POST /FileSystem/${FS}/Repository
body {"name": "lunrepo-${RAND}", "sharePath": "sub"}
status 400
expect message ~must be empty

=== the repository
POST /FileSystem/${FS}/Repository
body {"name": "lunrepo-${RAND}"}
status 200
capture J18 id.value

=== it is made
GET /Job/${J18}?wait=30
status 200
expect jobRunState SUCCESS
capture REPO resultId.value

=== its tree is on the LUN's file system
GET ${LUNDIR}/lun-1.ocfs2/VirtualDisks
schema none
status 200
expect type dir

=== and its .ovsrepo
GET ${FIXTURE}/text/data/sim/iscsi/sim-iscsi/${IQN}/lun-1.ocfs2/.ovsrepo
schema none
status 200
expect text ~OVS_REPO_UUID=${REPO}

=== one repository per LUN file system
POST /FileSystem/${FS}/Repository
body {"name": "second-${RAND}"}
status 409

=== present it to sim-2
PUT /Repository/${REPO}/present
body "${S2}"
status 200
capture J19 id.value

=== presented
GET /Job/${J19}?wait=30
status 200
expect jobRunState SUCCESS

=== not to a server outside the file system's pool
PUT /Repository/${REPO}/present
body "${S1}"
status 409
expect message ~only that pool's servers mount it

=== a disk in it
POST /Repository/${REPO}/VirtualDisk?sparse=false
body {"name": "lundisk-${RAND}", "size": 1048576}
status 200
capture J20 id.value

=== the disk is made
GET /Job/${J20}?wait=30
status 200
expect jobRunState SUCCESS
capture VD resultId.value

=== on the LUN's file system, every byte allocated
GET ${LUNDIR}/lun-1.ocfs2/VirtualDisks/${VD}
schema none
status 200
expect exists true
expect size 1048576

=== sim-2 cannot leave the pool while the repository is presented to it
PUT /Server/${S2}
body {"maintenanceMode": true}
status 200
capture J21 id.value

=== in maintenance again
GET /Job/${J21}?wait=30
status 200
expect jobRunState SUCCESS

=== removeServer is refused
PUT /ServerPool/${POOLC}/removeServer
body {"value": "${S2}"}
status 409
expect message ~on a LUN of the pool is presented to it

=== a file system holding a repository cannot be deleted
DELETE /FileSystem/${FS}
status 409
expect message ~holds repository 'lunrepo-${RAND}'

=== a local file system is no OCFS2 one
GET /FileServer/${LF2}/FileSystem
auth ro
status 200
expect-count 2
capture LFS [0].id.value

=== and cannot be deleted
DELETE /FileSystem/${LFS}
status 409
expect message ~not an OCFS2 file system

=== an unknown file system
DELETE /FileSystem/0004fb00000500000000000000000000
status 404

# ---- taking it all down -------------------------------------------------------------

=== delete the disk
DELETE /VirtualDisk/${VD}
status 200
capture J22 id.value

=== the disk is gone
GET /Job/${J22}?wait=30
status 200
expect jobRunState SUCCESS

=== unpresent the repository
PUT /Repository/${REPO}/unpresent
body "${S2}"
status 200
capture J23 id.value

=== unpresented
GET /Job/${J23}?wait=30
status 200
expect jobRunState SUCCESS

=== delete the repository
DELETE /Repository/${REPO}
status 200
capture J24 id.value

=== the repository is gone
GET /Job/${J24}?wait=30
status 200
expect jobRunState SUCCESS

=== sim-2 leaves the clustered pool
PUT /ServerPool/${POOLC}/removeServer
body {"value": "${S2}"}
status 200
capture J25 id.value

=== it left the clustered pool
GET /Job/${J25}?wait=30
status 200
expect jobRunState SUCCESS

=== the pool cannot go while the file system belongs to it
DELETE /ServerPool/${POOLC}
status 409
expect message ~OCFS2 file system '${FSN}'

=== delete the file system
DELETE /FileSystem/${FS}
status 200
expect name "Delete File System: ${FSN}"
capture J26 id.value

=== the file system is deleted
GET /Job/${J26}?wait=30
status 200
expect jobRunState SUCCESS

=== gone from the API
GET /FileSystem/${FS}
auth ro
status 404

=== and from the LUN
GET ${LUNDIR}/lun-1.ocfs2
schema none
status 200
expect exists false

=== the LUN is free again
GET /StorageElement/${E1}
auth ro
status 200
expect fileSystemIds []

=== the clustered pool goes now
DELETE /ServerPool/${POOLC}
status 200
capture J27 id.value

=== deleted
GET /Job/${J27}?wait=30
status 200
expect jobRunState SUCCESS

=== the unclustered pool goes too
DELETE /ServerPool/${POOLU}
status 200
capture J28 id.value

=== deleted too
GET /Job/${J28}?wait=30
status 200
expect jobRunState SUCCESS

=== the array goes (its access group with it)
DELETE /StorageArray/${SA}
status 200
capture J29 id.value

=== the array is gone
GET /Job/${J29}?wait=30
status 200
expect jobRunState SUCCESS

=== sim-2 leaves maintenance mode
PUT /Server/${S2}
body {"maintenanceMode": false}
status 200
capture J30 id.value

=== out of maintenance again
GET /Job/${J30}?wait=30
status 200
expect jobRunState SUCCESS

=== release sim-2, as it was found
PUT /Server/${S2}/releaseOwnership
status 200
capture J31 id.value

=== released
GET /Job/${J31}?wait=30
status 200
expect jobRunState SUCCESS
