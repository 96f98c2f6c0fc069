# Servers, the rest of issue 4: PUT /Server/{id} with every field (name,
# description, userData, serverRoles, maintenanceMode, and the extensions
# inboundMigrationLocked, ipmiAddress, ipmiUser and the write-only
# ipmiPassword), takeOwnership/releaseOwnership, DELETE, and the refusals
# of start/stop/restart/kill that need no BMC; and every refusal: 400 for
# bad input, 403 per role, 404 for an unknown server, 409 for a stale
# generation or a rule of the seeds (7.8) -- before any job exists -- and
# a job FAILURE when the world changed while the job waited (behind a
# diagnostic job holding the server; run.sh sets job_diagnostics on and a
# 2 s lock timeout, the holds below sleep 1 s).
#
# The power jobs themselves (ipmitool against OpenIPMI's ipmi_sim,
# Wake-on-LAN, a server with neither) are tests/api/power.sh, which runs
# its own daemons.
#
# This file runs after 81-pools.t in the suite and uses the pool that
# file leaves: sim-1 and sim-3 in it, sim-2 unassigned and unowned. The
# blocks under "what 81-pools.t left" check that first, so a change there
# fails here with a clear message. It leaves sim-2 as it found it.

set NOSRV 00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00
set NEWNAME sim-2-edited-${RAND}

=== the Manager id
GET /Manager/id
auth ro
status 200
capture MGR [0].value

# ---- the servers (rediscovery answers with the same ids) ------------------

=== rediscover sim-1
POST /Server/discover?serverName=sim-1
body "agent-secret"
status 200
capture D1 id.value

=== sim-1 is there
GET /Job/${D1}?wait=30
status 200
expect jobRunState SUCCESS
capture S1 resultId.value

=== rediscover sim-2 without taking ownership
POST /Server/discover?serverName=sim-2&takeOwnershipIfUnowned=false
status 200
capture D2 id.value

=== sim-2 is there
GET /Job/${D2}?wait=30
status 200
expect jobRunState SUCCESS
capture S2 resultId.value

=== rediscover sim-3
POST /Server/discover?serverName=sim-3
body "agent-secret"
status 200
capture D3 id.value

=== sim-3 is there
GET /Job/${D3}?wait=30
status 200
expect jobRunState SUCCESS
capture S3 resultId.value

# ---- what 81-pools.t left -------------------------------------------------

=== sim-1 is in a pool
GET /Server/${S1}
auth ro
status 200
expect-exists serverPoolId.value
capture PL serverPoolId.value

=== sim-3 is in the same pool
GET /Server/${S3}
auth ro
status 200
expect serverPoolId.value ${PL}

=== the pool has a master
GET /ServerPool/${PL}
auth ro
status 200
expect-exists masterServerId.value
capture M masterServerId.value

=== sim-2 is unassigned and unowned, RUNNING, with its defaults
GET /Server/${S2}
auth ro
status 200
expect serverPoolId null
expect managerUuid null
expect serverRunState RUNNING
expect maintenanceMode false
expect inboundMigrationLocked false
expect serverRoles ["VM","UTILITY"]
expect ipmiAddress null
expect-absent ipmiPassword
capture G0 generation

# ---- edit: refused before any job -----------------------------------------

=== jobs on sim-2 so far
GET /Job?object=${S2}
auth ro
status 200
capture-count NJOBS

=== a read-only user cannot edit a server
PUT /Server/${S2}
auth ro
body {"description": "ro"}
status 403

=== an operator cannot edit a server (administrators only)
PUT /Server/${S2}
auth op
body {"description": "op"}
status 403

=== edit of an unknown server is 404
PUT /Server/${NOSRV}
body {"description": "x"}
status 404
expect errorCode NOT_FOUND

=== the body must be a JSON object
PUT /Server/${S2}
body ["sim-2"]
status 400
expect errorCode INVALID_INPUT

=== the body's id must be the server of the path
PUT /Server/${S2}
body {"id": {"type": "com.oracle.ovm.mgr.ws.model.Server", "value": "${S1}"}, "description": "x"}
status 400
expect message ~is not the server in the path

=== the name must be a string
PUT /Server/${S2}
body {"name": 42}
status 400

=== the name must not be empty
PUT /Server/${S2}
body {"name": ""}
status 400
expect message ~must not be empty

=== userData must be key/value pairs
PUT /Server/${S2}
body {"userData": [{"key": "a"}]}
status 400

=== serverRoles must be an array
PUT /Server/${S2}
body {"serverRoles": "VM"}
status 400
expect message ~serverRoles

=== serverRoles are VM and UTILITY only
PUT /Server/${S2}
body {"serverRoles": ["VM", "MASTER"]}
status 400
expect message ~serverRoles[1]

=== serverRoles name each role once
PUT /Server/${S2}
body {"serverRoles": ["VM", "VM"]}
status 400
expect message ~twice

=== a server keeps at least one role
PUT /Server/${S2}
body {"serverRoles": []}
status 400
expect message ~at least one role

=== maintenanceMode must be a boolean
PUT /Server/${S2}
body {"maintenanceMode": "yes"}
status 400
expect message ~maintenanceMode

=== inboundMigrationLocked must be a boolean
PUT /Server/${S2}
body {"inboundMigrationLocked": 1}
status 400

=== an IPMI address never looks like an option
PUT /Server/${S2}
body {"ipmiAddress": "-oProxyCommand=x"}
status 400
expect message ~must start with a letter or a digit

=== an IPMI address is a host, not a phrase
PUT /Server/${S2}
body {"ipmiAddress": "bmc host"}
status 400

=== an IPMI port is 1..65535
PUT /Server/${S2}
body {"ipmiAddress": "bmc-1:70000"}
status 400

=== an IPMI port is a number
PUT /Server/${S2}
body {"ipmiAddress": "bmc-1:ipmi"}
status 400

=== an IPv6 IPMI address with a port is bracketed
PUT /Server/${S2}
body {"ipmiAddress": "[::1:623"}
status 400

=== ipmiAddress must be a string or null
PUT /Server/${S2}
body {"ipmiAddress": 42}
status 400

=== an IPMI user name has at most 16 characters
PUT /Server/${S2}
body {"ipmiUser": "a-very-long-ipmi-user"}
status 400

=== an IPMI user name does not start with '-'
PUT /Server/${S2}
body {"ipmiUser": "-U"}
status 400

=== an IPMI password has at most 20 characters (IPMI 2.0)
PUT /Server/${S2}
body {"ipmiPassword": "123456789012345678901"}
status 400
expect message ~at most 20

=== ipmiPassword must be a string
PUT /Server/${S2}
body {"ipmiPassword": 1234}
status 400

=== a stale generation is refused at once
PUT /Server/${S2}
body {"generation": 999999, "description": "stale"}
status 409
expect errorCode CONFLICT

=== no job was made by any refusal
GET /Job?object=${S2}
auth ro
status 200
expect-count ${NJOBS}

# ---- edit: every field ----------------------------------------------------

=== edit sim-2 with the object as read plus every editable member
PUT /Server/${S2}
body {"id": {"type": "com.oracle.ovm.mgr.ws.model.Server", "value": "${S2}"}, "generation": ${G0}, "name": "${NEWNAME}", "description": "rack 7", "userData": [{"key": "site", "value": "lab"}], "serverRoles": ["UTILITY"], "maintenanceMode": true, "inboundMigrationLocked": true, "ipmiAddress": "[::1]:6230", "ipmiUser": "ovmm", "ipmiPassword": "Ipmi-${RAND}", "agentLogin": "ignored", "memory": 1, "serverRunState": "STOPPED"}
status 200
expect name "Edit Server: sim-2"
expect resultId.value ${S2}
capture E1 id.value

=== the edit succeeds
GET /Job/${E1}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.name ${NEWNAME}

=== every field changed, the read-only members did not
GET /Server/${S2}
auth ro
status 200
expect name ${NEWNAME}
expect description "rack 7"
expect userData [{"key":"site","value":"lab"}]
expect serverRoles ["UTILITY"]
expect maintenanceMode true
expect inboundMigrationLocked true
expect ipmiAddress [::1]:6230
expect ipmiUser ovmm
expect agentLogin oracle
expect serverRunState RUNNING
expect-not memory 1
expect-not generation ${G0}
expect-absent ipmiPassword

=== the IPMI password is write-only: no list renders it either
GET /Server
auth ro
status 200
expect-absent [0].ipmiPassword
expect-absent [1].ipmiPassword
expect-absent [2].ipmiPassword

=== the job was one operation, done
GET /Job/${E1}/transcript
auth ro
status 200
expect-count operations 1
expect operations[0].operation server.update
expect operations[0].state DONE

=== entering maintenance mode raised an event
GET /Event?object=${S2}
auth ro
status 200
expect [0].type server.maintenance
expect [0].summary ~entered maintenance mode

=== roles are stored in one order whatever order they came in
PUT /Server/${S2}
body {"serverRoles": ["UTILITY", "VM"], "ipmiAddress": "bmc-7.example.com:623"}
status 200
capture E2 id.value

=== the second edit succeeds
GET /Job/${E2}?wait=30
status 200
expect jobRunState SUCCESS

=== both roles, the new address, the user kept
GET /Server/${S2}
auth ro
status 200
expect serverRoles ["VM","UTILITY"]
expect ipmiAddress bmc-7.example.com:623
expect ipmiUser ovmm

=== null and empty strings clear the IPMI settings; put the rest back
PUT /Server/${S2}
body {"name": "sim-2", "description": "", "userData": [], "maintenanceMode": false, "inboundMigrationLocked": false, "ipmiAddress": null, "ipmiUser": "", "ipmiPassword": ""}
status 200
capture E3 id.value

=== the third edit succeeds
GET /Job/${E3}?wait=30
status 200
expect jobRunState SUCCESS

=== sim-2 is as it was, IPMI cleared
GET /Server/${S2}
auth ro
status 200
expect name sim-2
expect description ""
expect userData []
expect maintenanceMode false
expect inboundMigrationLocked false
expect ipmiAddress null
expect ipmiUser null
capture G1 generation

=== leaving maintenance mode raised an event
GET /Event?object=${S2}
auth ro
status 200
expect [0].type server.maintenance
expect [0].summary ~left maintenance mode

# ---- edit: the job checks the generation again when it runs --------------

=== a diagnostic job holds sim-2 for a second
POST /Job/diagnostic
body {"name": "hold sim-2 ${RAND}", "objects": [{"id": "${S2}"}], "operations": [{"op": "sleep", "ms": 1000}]}
status 200
capture H1 id.value

=== the hold is running
GET /Job/${H1}
status 200
retry 10
expect jobRunState RUNNING

=== first edit from generation G1: accepted, queued
PUT /Server/${S2}
body {"generation": ${G1}, "description": "first"}
status 200
capture E4 id.value

=== second edit from the same generation: accepted too, queued behind
PUT /Server/${S2}
body {"generation": ${G1}, "description": "second"}
status 200
capture E5 id.value

=== the first edit succeeds
GET /Job/${E4}?wait=30
status 200
expect jobRunState SUCCESS

=== the second fails when it runs: the server moved on
GET /Job/${E5}?wait=30
status 200
expect jobRunState FAILURE
expect error.type CONFLICT
expect error.message ~changed by someone else

=== the first edit is the one that stayed
GET /Server/${S2}
auth ro
status 200
expect description first

# ---- ownership ------------------------------------------------------------

=== a read-only user cannot take ownership
PUT /Server/${S2}/takeOwnership
auth ro
status 403

=== an operator cannot take ownership (administrators only)
PUT /Server/${S2}/takeOwnership
auth op
status 403

=== an operator cannot release ownership
PUT /Server/${S1}/releaseOwnership
auth op
status 403

=== take ownership of an unknown server is 404
PUT /Server/${NOSRV}/takeOwnership
status 404

=== release ownership of an unknown server is 404
PUT /Server/${NOSRV}/releaseOwnership
status 404

=== an unowned server cannot be released
PUT /Server/${S2}/releaseOwnership
status 409
expect errorCode INVALID_STATE
expect message ~no Manager owns it

=== a server in a pool cannot be released (seeds 7.8)
PUT /Server/${S1}/releaseOwnership
status 409
expect errorCode INVALID_STATE
expect message ~remove it from the pool first

=== nor can its ownership be taken while in a pool
PUT /Server/${S3}/takeOwnership
status 409
expect message ~remove it from the pool first

=== power of a server this Manager does not own is refused
PUT /Server/${S2}/start
status 409
expect message ~take ownership first

=== take ownership of sim-2, giving its agent password
PUT /Server/${S2}/takeOwnership
body "agent-secret"
status 200
expect name "Take Ownership of Server: sim-2"
capture O1 id.value

=== taking ownership succeeds
GET /Job/${O1}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.value ${S2}

=== sim-2 is owned by this Manager
GET /Server/${S2}
auth ro
status 200
expect managerUuid ${MGR}

=== taking it again is refused
PUT /Server/${S2}/takeOwnership
status 409
expect message ~owns it already

=== release sim-2
PUT /Server/${S2}/releaseOwnership
status 200
expect name "Release Ownership of Server: sim-2"
capture O2 id.value

=== releasing succeeds
GET /Job/${O2}?wait=30
status 200
expect jobRunState SUCCESS

=== sim-2 is unowned again, with an event
GET /Event?object=${S2}
auth ro
status 200
expect [0].type server.ownership
expect [0].summary ~released

=== sim-2 has no owner
GET /Server/${S2}
auth ro
status 200
expect managerUuid null

=== take ownership of sim-2 again, password as {"password": ...}
PUT /Server/${S2}/takeOwnership
body {"password": "agent-secret"}
status 200
capture O3 id.value

=== taken again
GET /Job/${O3}?wait=30
status 200
expect jobRunState SUCCESS

# ---- power: what needs no BMC to refuse -----------------------------------

=== a read-only user cannot start a server
PUT /Server/${S2}/start
auth ro
status 403

=== a read-only user cannot stop a server
PUT /Server/${S2}/stop
auth ro
status 403

=== a read-only user cannot restart a server
PUT /Server/${S2}/restart
auth ro
status 403

=== a read-only user cannot kill a server
PUT /Server/${S2}/kill
auth ro
status 403

=== start of an unknown server is 404
PUT /Server/${NOSRV}/start
status 404

=== stop of an unknown server is 404
PUT /Server/${NOSRV}/stop
status 404

=== restart of an unknown server is 404
PUT /Server/${NOSRV}/restart
status 404

=== kill of an unknown server is 404
PUT /Server/${NOSRV}/kill
status 404

=== a running server cannot be started
PUT /Server/${S2}/start
auth op
status 409
expect errorCode INVALID_STATE
expect message ~it is RUNNING

=== stop needs IPMI: 409 with no ipmiAddress
PUT /Server/${S2}/stop
auth op
status 409
expect message ~set its ipmiAddress

=== restart needs IPMI too
PUT /Server/${S2}/restart
status 409
expect message ~set its ipmiAddress

=== kill needs IPMI too
PUT /Server/${S2}/kill
status 409
expect message ~set its ipmiAddress

# ---- delete ---------------------------------------------------------------

=== a read-only user cannot delete a server
DELETE /Server/${S2}
auth ro
status 403

=== an operator cannot delete a server (administrators only)
DELETE /Server/${S2}
auth op
status 403

=== delete of an unknown server is 404
DELETE /Server/${NOSRV}
status 404

=== a server in a pool cannot be deleted (seeds 7.8)
DELETE /Server/${S1}
status 409
expect errorCode INVALID_STATE
expect message ~Unassigned Servers

=== a diagnostic job holds sim-2 for a second
POST /Job/diagnostic
body {"name": "hold sim-2 again ${RAND}", "objects": [{"id": "${S2}"}], "operations": [{"op": "sleep", "ms": 1000}]}
status 200
capture H2 id.value

=== the second hold is running
GET /Job/${H2}
status 200
retry 10
expect jobRunState RUNNING

=== add sim-2 to the pool: accepted, queued
PUT /ServerPool/${PL}/addServer
body {"value": "${S2}"}
status 200
capture A1 id.value

=== delete sim-2: accepted (it is unassigned now), queued behind
DELETE /Server/${S2}
status 200
expect name "Delete Server: sim-2"
capture X1 id.value

=== sim-2 joins the pool
GET /Job/${A1}?wait=30
status 200
expect jobRunState SUCCESS

=== the delete fails when it runs: sim-2 is in a pool by then
GET /Job/${X1}?wait=30
status 200
expect jobRunState FAILURE
expect error.type INVALID_STATE
expect error.message ~remove it from the pool first

=== sim-2 is still there, in the pool
GET /Server/${S2}
auth ro
status 200
expect serverPoolId.value ${PL}

# ---- maintenance mode moves the master role -------------------------------

=== the pool's master enters maintenance mode
PUT /Server/${M}
body {"maintenanceMode": true}
status 200
capture MM1 id.value

=== entering maintenance succeeds
GET /Job/${MM1}?wait=30
status 200
expect jobRunState SUCCESS

=== the job held the pool too
GET /Job/${MM1}/transcript
auth ro
status 200
expect-count locks 2

=== another server of the pool is master now
GET /ServerPool/${PL}
auth ro
status 200
expect-exists masterServerId.value
expect-not masterServerId.value ${M}

=== the pool got an event for it
GET /Event?object=${PL}
auth ro
status 200
expect [0].type pool.master
expect [0].summary ~entered maintenance mode

=== the former master leaves maintenance mode
PUT /Server/${M}
body {"maintenanceMode": false}
status 200
capture MM2 id.value

=== leaving maintenance succeeds
GET /Job/${MM2}?wait=30
status 200
expect jobRunState SUCCESS

=== the former master is out of maintenance mode
GET /Server/${M}
auth ro
status 200
expect maintenanceMode false

# ---- delete, for real -----------------------------------------------------

=== sim-2 enters maintenance mode to leave the pool
PUT /Server/${S2}
body {"maintenanceMode": true}
status 200
capture MM3 id.value

=== sim-2 is in maintenance
GET /Job/${MM3}?wait=30
status 200
expect jobRunState SUCCESS

=== remove sim-2 from the pool
PUT /ServerPool/${PL}/removeServer
body {"value": "${S2}"}
status 200
capture R1 id.value

=== sim-2 left the pool
GET /Job/${R1}?wait=30
status 200
expect jobRunState SUCCESS

=== one of sim-2's ports
GET /Server/${S2}/EthernetPort
auth ro
status 200
expect-count 4
capture PORT [0].id.value

=== delete sim-2
DELETE /Server/${S2}
status 200
capture X2 id.value

=== the delete succeeds
GET /Job/${X2}?wait=30
status 200
expect jobRunState SUCCESS

=== sim-2 is gone
GET /Server/${S2}
auth ro
status 404

=== and so are its ports
GET /EthernetPort/${PORT}
auth ro
status 404

=== the delete raised an event on the server
GET /Event?object=${S2}
auth ro
status 200
expect [0].type server.deleted

=== deleting it twice is 404
DELETE /Server/${S2}
status 404

=== discover sim-2 again, unowned as 81-pools.t left it
POST /Server/discover?serverName=sim-2&takeOwnershipIfUnowned=false
status 200
capture D4 id.value

=== sim-2 is back with the same id
GET /Job/${D4}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.value ${S2}

=== sim-2 is back as discovered: unassigned, unowned, not in maintenance
GET /Server/${S2}
auth ro
status 200
expect serverPoolId null
expect managerUuid null
expect maintenanceMode false
expect-count ethernetPortIds 4
