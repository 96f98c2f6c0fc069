# Storage arrays (issue 5): the default arrays (undeletable), every
# server's iSCSI initiator, registering the simulated iSCSI server
# sim-iscsi (target iqn.2026-01.test.sim:storage, lun-0 1 GiB and lun-1
# 2 GiB) through sim-1, its volume group and storage elements, refresh,
# array edits (PUT /StorageArray/{id}: name, admin servers, access hosts,
# default arrays, a new portal that does not answer), storage element
# edits, access groups (elements and initiators added and removed) and
# delete; and every refusal (400/404/409 before any job).
# LUNs that appear and go are tests/api/storage.sh (it makes files).
#
# sim-1 and sim-3 are (re)discovered with ownership, sim-2 without, so
# the file also runs alone. It removes what it made.

set SCSIPLUGIN oracle.generic.SCSIPlugin.GenericPlugin (1.1.0)
set ANAME san-${RAND}
set NOSRV 00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00
set NOEL 0004fb00001800000000000000000000
set NOAG 0004fb00003400000000000000000000

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

=== discover sim-2 without ownership
POST /Server/discover?serverName=sim-2&takeOwnershipIfUnowned=false
status 200
capture D2 id.value

=== sim-2 is discovered
GET /Job/${D2}?wait=30
status 200
expect jobRunState SUCCESS
capture S2 resultId.value

# ---- defaults and initiators --------------------------------------------------

=== the default iSCSI array, as Oracle VM has it
GET /StorageArray/Unmanaged%20iSCSI%20Storage%20Array
auth ro
status 200
expect defaultArray true
expect storageType ISCSI
expect storageArrayPluginId.value ${SCSIPLUGIN}
expect-count adminServerIds 0
expect-count volumeGroupIds 1
expect volumeGroupIds[0].name "iSCSI Volume Group"

=== the default Fibre Channel array
GET /StorageArray/Unmanaged%20FibreChannel%20Storage%20Array
auth ro
status 200
expect defaultArray true
expect storageType FIBRECHANNEL

=== its volume group
GET /StorageArray/Unmanaged%20FibreChannel%20Storage%20Array/VolumeGroup
auth ro
status 200
expect-count 1
expect [0].nameOnArray Generic_SAN_Volume_Group

=== a default array cannot be deleted
DELETE /StorageArray/Unmanaged%20iSCSI%20Storage%20Array
status 409
expect message ~default array

=== nor refreshed (no admin server)
PUT /StorageArray/Unmanaged%20FibreChannel%20Storage%20Array/refresh
status 409
expect message ~default array

=== every discovered server has its iSCSI initiator
GET /Server/${S1}
auth ro
status 200

=== sim-1's initiator
GET /StorageInitiator?limit=100
auth ro
status 200

# ---- refusals of POST /StorageArray ------------------------------------------------

=== no access host
POST /StorageArray
body {"name": "${ANAME}", "storageType": "ISCSI", "adminServerIds": ["${S1}"]}
status 400
expect message ~accessHosts

=== an empty access host list
POST /StorageArray
body {"name": "${ANAME}", "accessHosts": [], "adminServerIds": ["${S1}"]}
status 400

=== a bad access host
POST /StorageArray
body {"name": "${ANAME}", "accessHosts": [{"accessHost": "bad host!"}], "adminServerIds": ["${S1}"]}
status 400

=== a bad port
POST /StorageArray
body {"name": "${ANAME}", "accessHosts": [{"accessHost": "sim-iscsi", "accessPort": 70000}], "adminServerIds": ["${S1}"]}
status 400
expect message ~port

=== Fibre Channel is the default array's
POST /StorageArray
body {"name": "${ANAME}", "storageType": "FIBRECHANNEL", "accessHosts": [{"accessHost": "sim-iscsi"}], "adminServerIds": ["${S1}"]}
status 400
expect message ~FibreChannel

=== an unknown plug-in
POST /StorageArray
body {"name": "${ANAME}", "storageArrayPluginId": "nosuch", "accessHosts": [{"accessHost": "sim-iscsi"}], "adminServerIds": ["${S1}"]}
status 404

=== no admin server
POST /StorageArray
body {"name": "${ANAME}", "accessHosts": [{"accessHost": "sim-iscsi"}], "adminServerIds": []}
status 400
expect message ~admin server

=== an unknown admin server
POST /StorageArray
body {"name": "${ANAME}", "accessHosts": [{"accessHost": "sim-iscsi"}], "adminServerIds": ["${NOSRV}"]}
status 404

=== an admin server this Manager does not own
POST /StorageArray
body {"name": "${ANAME}", "accessHosts": [{"accessHost": "sim-iscsi"}], "adminServerIds": ["${S2}"]}
status 409
expect message ~does not own

=== read-only users cannot register arrays
POST /StorageArray
auth ro
body {"name": "${ANAME}", "accessHosts": [{"accessHost": "sim-iscsi"}], "adminServerIds": ["${S1}"]}
status 403

# ---- POST /StorageArray ----------------------------------------------------------

=== register sim-iscsi through sim-1
POST /StorageArray
body {"name": "${ANAME}", "storageType": "ISCSI", "storageArrayPluginId": {"value": "${SCSIPLUGIN}"}, "accessHosts": [{"accessHost": "SIM-ISCSI", "accessPort": 3260}], "adminServerIds": [{"value": "${S1}"}]}
status 200
expect name "Create Storage Array: ${ANAME}"
capture C1 id.value

=== the registration succeeds
GET /Job/${C1}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.type com.oracle.ovm.mgr.ws.model.StorageArray
capture SA resultId.value

=== the array
GET /StorageArray/${SA}
auth ro
status 200
expect name ${ANAME}
expect storageType ISCSI
expect defaultArray false
expect accessHosts[0].accessHost sim-iscsi
expect accessHosts[0].accessPort 3260
expect adminServerIds[0].value ${S1}
expect-count volumeGroupIds 1
expect-count storageElementIds 2

=== a second array on the same portal is refused
POST /StorageArray
body {"name": "again", "accessHosts": [{"accessHost": "sim-iscsi"}], "adminServerIds": ["${S1}"]}
status 409
expect message ~already has access host

=== its elements: two LUNs with their sizes
GET /StorageArray/${SA}/StorageElement
auth ro
status 200
expect-count 2
expect [0].type LUN
expect [0].lun 0
expect [0].size 1073741824
expect [0].shareable true
expect [0].storageTargetName iqn.2026-01.test.sim:storage
expect [1].lun 1
expect [1].size 2147483648
capture E0 [0].id.value
capture E1 [1].id.value
capture P0 [0].page83Id

=== an element is named by its page 83 id
GET /StorageElement/${E0}
auth ro
status 200
expect name ${P0}
expect present true

=== its volume group lists them
GET /StorageArray/${SA}/VolumeGroup
auth ro
status 200
expect-count 1
expect-count [0].storageElementIds 2

=== a refresh finds the same LUNs
PUT /StorageArray/${SA}/refresh
status 200
capture R1 id.value

=== the refresh succeeds
GET /Job/${R1}?wait=30
status 200
expect jobRunState SUCCESS

=== still two elements, same ids
GET /StorageArray/${SA}/StorageElement
auth ro
status 200
expect-count 2
expect [0].id.value ${E0}

=== refresh of an unknown array
PUT /StorageArray/0004fb00003300000000000000000000/refresh
status 404

# ---- PUT /StorageArray/{id} -----------------------------------------------------------

=== read the array to edit it
GET /StorageArray/${SA}
auth ro
status 200
capture WHOLE $
capture GEN generation
capture AH accessHosts
capture AD adminServerIds
capture PL storageArrayPluginId

=== PUT the array exactly as GET returned it
PUT /StorageArray/${SA}
body ${WHOLE}
status 200
expect name "Edit Storage Array: ${ANAME}"
capture ED1 id.value

=== the edit changes nothing and succeeds
GET /Job/${ED1}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.value ${SA}

=== the array is as it was, its elements too (no rescan)
GET /StorageArray/${SA}
auth ro
status 200
expect name ${ANAME}
expect-count accessHosts 1
expect-count adminServerIds 1
expect-count storageElementIds 2
expect storageElementIds[0].value ${E0}
capture GEN generation

=== edit name and description with a GET body (identity members equal)
PUT /StorageArray/${SA}
body {"id": {"value": "${SA}"}, "name": "${ANAME}-ed", "description": "edited", "generation": ${GEN}, "storageType": "ISCSI", "storageArrayPluginId": ${PL}, "defaultArray": false, "useChap": false, "validated": true, "accessHosts": ${AH}, "adminServerIds": ${AD}}
status 200
expect name "Edit Storage Array: ${ANAME}"
capture ED2 id.value

=== the rename succeeds, under the new name
GET /Job/${ED2}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.name ${ANAME}-ed

=== renamed
GET /StorageArray/${SA}
auth ro
status 200
expect name ${ANAME}-ed
expect description edited
expect accessHosts[0].accessHost sim-iscsi
expect-count storageElementIds 2

=== the event names what changed
GET /Event?object=${SA}&limit=100
auth ro
status 200
expect-body storagearray.updated
expect-body name (was '${ANAME}')

=== admin servers sim-1 and sim-3
PUT /StorageArray/${SA}
body {"adminServerIds": [{"value": "${S1}"}, "${S3}"]}
status 200
capture ED3 id.value

=== the admin servers change
GET /Job/${ED3}?wait=30
status 200
expect jobRunState SUCCESS

=== GET shows both
GET /StorageArray/${SA}
auth ro
status 200
expect-count adminServerIds 2
expect-body "${S1}"
expect-body "${S3}"
capture GEN generation

=== an array keeps at least one admin server
PUT /StorageArray/${SA}
body {"adminServerIds": []}
status 400
expect message ~at least one admin server

=== an unknown admin server
PUT /StorageArray/${SA}
body {"adminServerIds": ["${S1}", "${NOSRV}"]}
status 404
expect message ~not found

=== an admin server this Manager does not own
PUT /StorageArray/${SA}
body {"adminServerIds": ["${S1}", "${S2}"]}
status 409
expect message ~does not own

=== the access hosts cannot be emptied
PUT /StorageArray/${SA}
body {"accessHosts": []}
status 400
expect message ~accessHosts

=== a bad access host
PUT /StorageArray/${SA}
body {"accessHosts": [{"accessHost": "bad host!"}]}
status 400

=== the storage type cannot change
PUT /StorageArray/${SA}
body {"storageType": "FIBRECHANNEL"}
status 400
expect message ~'storageType' of storage array '${ANAME}-ed' cannot change

=== nor the plug-in
PUT /StorageArray/${SA}
body {"storageArrayPluginId": {"value": "oracle.other.plugin"}}
status 400
expect message ~cannot change

=== nor defaultArray
PUT /StorageArray/${SA}
body {"defaultArray": true}
status 400
expect message ~'defaultArray'

=== a body naming another array
PUT /StorageArray/${SA}
body {"id": {"value": "Unmanaged iSCSI Storage Array"}, "name": "x"}
status 400

=== a stale generation
PUT /StorageArray/${SA}
body {"name": "stale", "generation": 0}
status 409
expect message ~generation

=== read-only users cannot edit arrays
PUT /StorageArray/${SA}
auth ro
body {"name": "ro"}
status 403

=== operators neither
PUT /StorageArray/${SA}
auth op
body {"name": "op"}
status 403

=== an unknown array
PUT /StorageArray/0004fb00003300000000000000000000
body {"name": "x"}
status 404

=== access hosts on a portal that does not answer
PUT /StorageArray/${SA}
body {"accessHosts": [{"accessHost": "nosuch-iscsi"}]}
status 200
expect name "Edit Storage Array: ${ANAME}-ed"
capture ED4 id.value

=== the job fails: the new portal is scanned first
GET /Job/${ED4}?wait=30
status 200
expect jobRunState FAILURE
expect error.type SERVER_UNREACHABLE
expect error.message ~nosuch-iscsi

=== and nothing changed: hosts, elements, generation
GET /StorageArray/${SA}
auth ro
status 200
expect generation ${GEN}
expect-count accessHosts 1
expect accessHosts[0].accessHost sim-iscsi
expect-count storageElementIds 2
expect storageElementIds[0].value ${E0}
expect storageElementIds[1].value ${E1}

=== a second access host: the first portal is scanned again
PUT /StorageArray/${SA}
body {"generation": ${GEN}, "accessHosts": [{"accessHost": "SIM-ISCSI"}, {"accessHost": "extra-${RAND}", "accessPort": 3261}]}
status 200
capture ED5 id.value

=== the hosts change
GET /Job/${ED5}?wait=30
status 200
expect jobRunState SUCCESS

=== both hosts; the same LUNs keep their elements
GET /StorageArray/${SA}
auth ro
status 200
expect-count accessHosts 2
expect accessHosts[0].accessHost sim-iscsi
expect accessHosts[1].accessHost extra-${RAND}
expect accessHosts[1].accessPort 3261
expect-count storageElementIds 2
expect storageElementIds[0].value ${E0}
expect storageElementIds[1].value ${E1}

=== no new array may use the added host
POST /StorageArray
body {"name": "again", "accessHosts": [{"accessHost": "extra-${RAND}"}], "adminServerIds": ["${S1}"]}
status 409
expect message ~already has access host 'extra-${RAND}'

=== a default array takes no admin servers
PUT /StorageArray/Unmanaged%20iSCSI%20Storage%20Array
body {"adminServerIds": ["${S1}"]}
status 409
expect message "storage array 'Unmanaged iSCSI Storage Array' is a default array: it has no admin servers or access hosts"

=== nor access hosts
PUT /StorageArray/Unmanaged%20FibreChannel%20Storage%20Array
body {"accessHosts": [{"accessHost": "sim-iscsi"}]}
status 409
expect message ~is a default array

=== read the default array
GET /StorageArray/Unmanaged%20iSCSI%20Storage%20Array
auth ro
status 200
capture DGEN generation

=== a default array may be renamed (its GET members unchanged)
PUT /StorageArray/Unmanaged%20iSCSI%20Storage%20Array
body {"name": "iSCSI LUNs ${RAND}", "generation": ${DGEN}, "storageType": "ISCSI", "defaultArray": true, "accessHosts": [], "adminServerIds": [], "storageArrayPluginId": {"value": "${SCSIPLUGIN}"}}
status 200
expect name "Edit Storage Array: Unmanaged iSCSI Storage Array"
capture ED6 id.value

=== renamed
GET /Job/${ED6}?wait=30
status 200
expect jobRunState SUCCESS

=== under its new name
GET /StorageArray/Unmanaged%20iSCSI%20Storage%20Array
auth ro
status 200
expect name "iSCSI LUNs ${RAND}"
expect defaultArray true
expect-count adminServerIds 0

=== and back
PUT /StorageArray/Unmanaged%20iSCSI%20Storage%20Array
body {"name": "Unmanaged iSCSI Storage Array"}
status 200
capture ED7 id.value

=== renamed back
GET /Job/${ED7}?wait=30
status 200
expect jobRunState SUCCESS

=== as Oracle VM names it
GET /StorageArray/Unmanaged%20iSCSI%20Storage%20Array
auth ro
status 200
expect name "Unmanaged iSCSI Storage Array"

# ---- PUT /StorageElement/{id} -------------------------------------------------------

=== edit an element
PUT /StorageElement/${E1}
body {"name": "data-lun", "description": "two GiB", "shareable": false}
status 200
capture U1 id.value

=== the edit succeeds
GET /Job/${U1}?wait=30
status 200
expect jobRunState SUCCESS

=== the element changed
GET /StorageElement/${E1}
auth ro
status 200
expect name data-lun
expect shareable false

=== a bad shareable
PUT /StorageElement/${E1}
body {"shareable": "yes"}
status 400

=== a stale generation
PUT /StorageElement/${E1}
body {"name": "x", "generation": 0}
status 409

# ---- access groups -------------------------------------------------------------------

=== an access group needs a name
POST /StorageArray/${SA}/AccessGroup
body {"description": "x"}
status 400

=== of an unknown array
POST /StorageArray/0004fb00003300000000000000000000/AccessGroup
body {"name": "g"}
status 404

=== create an access group
POST /StorageArray/${SA}/AccessGroup
body {"name": "group-${RAND}"}
status 200
capture G1 id.value

=== it is created
GET /Job/${G1}?wait=30
status 200
expect jobRunState SUCCESS
capture AG resultId.value

=== add an element
PUT /AccessGroup/${AG}/addStorageElement
body {"value": "${E0}"}
status 200
capture A1 id.value

=== added
GET /Job/${A1}?wait=30
status 200
expect jobRunState SUCCESS

=== twice is refused
PUT /AccessGroup/${AG}/addStorageElement
body "${E0}"
status 409
expect message ~already in

=== an unknown element
PUT /AccessGroup/${AG}/addStorageElement
body "${NOEL}"
status 404

=== no body
PUT /AccessGroup/${AG}/addStorageElement
status 400

=== an element of another array is refused
POST /StorageArray/Unmanaged%20iSCSI%20Storage%20Array/AccessGroup
body {"name": "other-${RAND}"}
status 200
capture G2 id.value

=== the other group
GET /Job/${G2}?wait=30
status 200
expect jobRunState SUCCESS
capture AG2 resultId.value

=== element of another array
PUT /AccessGroup/${AG2}/addStorageElement
body "${E0}"
status 409
expect message ~not of the storage array

=== delete the other group
DELETE /AccessGroup/${AG2}
status 200
capture G3 id.value

=== deleted
GET /Job/${G3}?wait=30
status 200
expect jobRunState SUCCESS

=== the group lists the element
GET /AccessGroup/${AG}
auth ro
status 200
expect-count storageElementIds 1
expect storageElementIds[0].value ${E0}

=== and the element its group
GET /StorageElement/${E0}
auth ro
status 200
expect accessGroupIds[0].value ${AG}

=== the array's access groups
GET /StorageArray/${SA}/AccessGroup
auth ro
status 200
expect-count 1

=== find sim-1's initiator
GET /StorageInitiator?limit=100
auth ro
status 200
capture IN [0].id.value

=== add an initiator
PUT /AccessGroup/${AG}/addStorageInitiator
body "${IN}"
status 200
capture A2 id.value

=== added too
GET /Job/${A2}?wait=30
status 200
expect jobRunState SUCCESS

=== the initiator lists the group
GET /StorageInitiator/${IN}
auth ro
status 200
expect initiatorType ISCSI
expect accessGroupIds[0].value ${AG}

=== twice is refused
PUT /AccessGroup/${AG}/addStorageInitiator
body "${IN}"
status 409

=== an unknown initiator
PUT /AccessGroup/${AG}/addStorageInitiator
body "iqn.nosuch:x"
status 404

=== remove the initiator
PUT /AccessGroup/${AG}/removeStorageInitiator
body "${IN}"
status 200
capture A3 id.value

=== removed
GET /Job/${A3}?wait=30
status 200
expect jobRunState SUCCESS

=== removing it again is refused
PUT /AccessGroup/${AG}/removeStorageInitiator
body "${IN}"
status 409
expect message ~is not in

=== remove the element
PUT /AccessGroup/${AG}/removeStorageElement
body "${E0}"
status 200
capture A4 id.value

=== removed as well
GET /Job/${A4}?wait=30
status 200
expect jobRunState SUCCESS

=== removing it again is refused
PUT /AccessGroup/${AG}/removeStorageElement
body "${E0}"
status 409

=== an unknown access group
DELETE /AccessGroup/${NOAG}
status 404

# ---- DELETE /StorageArray -------------------------------------------------------------

=== delete the array (its access group goes with it)
DELETE /StorageArray/${SA}
status 200
capture X1 id.value

=== deleted
GET /Job/${X1}?wait=30
status 200
expect jobRunState SUCCESS

=== gone with its elements and groups
GET /StorageElement/${E0}
auth ro
status 404

=== the group too
GET /AccessGroup/${AG}
auth ro
status 404

=== an unknown array
DELETE /StorageArray/0004fb00003300000000000000000000
status 404
