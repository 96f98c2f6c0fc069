# Server pools: create, edit, addServer, removeServer, delete, the
# ServerPoolPolicy made with every pool, and every refusal: 400/403/404/409
# before any job exists, and a job FAILURE when the world changed while it
# waited (two addServer of one server, queued behind a diagnostic job that
# holds the server; two edits from one generation behind one holding the
# pool). run.sh starts the daemon with --simulate 3, job_diagnostics on
# and a 2 s lock timeout: the diagnostic jobs below sleep 1 s.
#
# The servers are (re)discovered here so the file also runs alone: sim-1
# and sim-3 owned with the agent password "agent-secret", sim-2 unowned.
# Maintenance mode comes from PUT /Server/{id}. The file leaves one pool
# with sim-1 (its master) and sim-3, neither in maintenance mode, and sim-2
# unassigned and unowned: 82-server-edit.t starts from that.

set P1 pool1-${RAND}
set P2 pool2_${RAND}
set NOPOOL 0004fb00000200000000000000000000

=== the Manager id
GET /Manager/id
auth ro
status 200
capture MGR [0].value

# ---- servers to work with ------------------------------------------------

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

=== sim-2 is not owned by this Manager
GET /Server/${S2}
auth ro
status 200
expect managerUuid null

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

# ---- POST /ServerPool: refusals -------------------------------------------

=== a read-only user cannot create a pool
POST /ServerPool
auth ro
body {"name": "${P1}"}
status 403

=== an operator cannot create a pool (administrators only)
POST /ServerPool
auth op
body {"name": "${P1}"}
status 403

=== a pool needs a name
POST /ServerPool
body {"description": "no name"}
status 400
expect errorCode INVALID_INPUT
expect message ~name

=== a pool name is letters, digits, '_' and '-'
POST /ServerPool
body {"name": "bad pool!"}
status 400
expect message ~may contain only

=== a pool name is at most 200 characters
POST /ServerPool
body {"name": "p123456789p123456789p123456789p123456789p123456789p123456789p123456789p123456789p123456789p123456789p123456789p123456789p123456789p123456789p123456789p123456789p123456789p123456789p123456789p1234567890"}
status 400
expect message ~longer than

=== the name must be a string
POST /ServerPool
body {"name": 42}
status 400

=== the virtual IP must be an IPv4 or IPv6 address
POST /ServerPool
body {"name": "${P1}", "virtualIp": "192.0.2.300"}
status 400
expect message ~not an IPv4 or IPv6 address

=== the keymap must be one Oracle VM knows
POST /ServerPool
body {"name": "${P1}", "keymap": "klingon"}
status 400
expect message ~keymap

=== vmStartPolicy must be BEST_SERVER, BALANCE_SERVER or CURRENT_SERVER
POST /ServerPool
body {"name": "${P1}", "vmStartPolicy": "ANYWHERE"}
status 400
expect message ~vmStartPolicy

=== secureVmMigrate must be a boolean
POST /ServerPool
body {"name": "${P1}", "secureVmMigrate": "yes"}
status 400

=== clusterId must be null (pool file systems come later)
POST /ServerPool
body {"name": "${P1}", "clusterId": {"type": "com.oracle.ovm.mgr.ws.model.Cluster", "value": "c1"}}
status 400
expect message ~clusterId

=== userData must be key/value pairs
POST /ServerPool
body {"name": "${P1}", "userData": [{"key": "a"}]}
status 400

=== the body must be a JSON object
POST /ServerPool
body ["${P1}"]
status 400

# ---- POST /ServerPool ------------------------------------------------------

=== create a clustered pool from an Oracle-style body: answers with a Job
POST /ServerPool
body {"id": null, "name": "${P1}", "description": "first pool", "virtualIp": "192.0.2.10", "keymap": "de", "clusterId": null, "clustered": true, "serverIds": [], "userData": [{"key": "site", "value": "lab"}]}
status 200
expect id.type com.oracle.ovm.mgr.ws.model.Job
expect name "Create Server Pool: ${P1}"
expect-header Location ~/Job/
capture C1 id.value

=== the creation succeeds and names the pool as its result
GET /Job/${C1}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.type com.oracle.ovm.mgr.ws.model.ServerPool
expect resultId.name ${P1}
capture POOL1 resultId.value

=== the pool has the Oracle VM shape, no servers and no master yet
GET /ServerPool/${POOL1}
auth ro
status 200
expect name ${P1}
expect description "first pool"
expect virtualIp 192.0.2.10
expect keymap de
expect clustered true
expect secureVmMigrate false
expect vmStartPolicy BEST_SERVER
expect serverIds []
expect masterServerId null
expect userData [{"key":"site","value":"lab"}]
expect serverPoolPolicyId.type com.oracle.ovm.mgr.ws.model.ServerPoolPolicy
expect serverPoolPolicyId.value balancer_${POOL1}
expect locked false

=== a pool id is Oracle-style (type code 0002)
GET /ServerPool/id
auth ro
status 200
expect [0].value ~0004fb000002

=== its policy exists, OFF
GET /ServerPoolPolicy/balancer_${POOL1}
auth ro
status 200
expect mode OFF
expect cpuEnable false
expect periodMinutes 10
expect cpuThreshold 75
expect serverIds []
expect serverPoolNetworkPolicyIds []
expect serverPoolId.value ${POOL1}
expect serverPoolId.name ${P1}

=== the policy is a child collection of the pool
GET /ServerPool/${POOL1}/ServerPoolPolicy
auth ro
status 200
expect-count 1
expect [0].id.value balancer_${POOL1}

=== the creation raised an event on the pool
GET /Event?object=${POOL1}
auth ro
status 200
expect [0].type pool.created
expect [0].severity INFORMATIONAL

=== a second pool with the same name is refused at once
POST /ServerPool
body {"name": "${P1}"}
status 409
expect errorCode ALREADY_EXISTS
expect message ~already exists

=== a second pool with the same virtual IP is refused at once
POST /ServerPool
body {"name": "${P2}", "virtualIp": "192.0.2.10"}
status 409
expect message ~192.0.2.10

=== create an unclustered pool with an IPv6 virtual IP in a long spelling
POST /ServerPool
body {"name": "${P2}", "virtualIp": "2001:DB8:0::0:1"}
status 200
capture C2 id.value

=== the second pool is created
GET /Job/${C2}?wait=30
status 200
expect jobRunState SUCCESS
capture POOL2 resultId.value

=== its virtual IP is stored in canonical form, with the defaults
GET /ServerPool/${POOL2}
auth ro
status 200
expect virtualIp 2001:db8::1
expect keymap en-us
expect clustered false
expect description ""
expect serverPoolPolicyId.value balancer_${POOL2}

=== the same IPv6 address spelled otherwise is the same address
POST /ServerPool
body {"name": "other-${RAND}", "virtualIp": "2001:db8::0:0:1"}
status 409

=== two pools and two policies
GET /ServerPool
auth ro
status 200
expect-count 2

=== every policy is listed
GET /ServerPoolPolicy
auth ro
status 200
expect-count 2

=== policy ids
GET /ServerPoolPolicy/id
auth ro
status 200
expect-count 2

# ---- addServer: refusals ---------------------------------------------------

=== an operator cannot add a server
PUT /ServerPool/${POOL1}/addServer
auth op
body {"value": "${S1}"}
status 403

=== addServer to an unknown pool is 404
PUT /ServerPool/${NOPOOL}/addServer
body {"value": "${S1}"}
status 404

=== addServer needs a body naming the server
PUT /ServerPool/${POOL1}/addServer
status 400
expect message ~name the server

=== addServer of a number is 400
PUT /ServerPool/${POOL1}/addServer
body 42
status 400

=== addServer of a SimpleId of another type is 400
PUT /ServerPool/${POOL1}/addServer
body {"type": "com.oracle.ovm.mgr.ws.model.Vm", "value": "${S1}"}
status 400
expect message ~Server

=== addServer of an unknown server is 404
PUT /ServerPool/${POOL1}/addServer
body {"value": "no-such-server"}
status 404

=== a server this Manager does not own cannot join a pool
PUT /ServerPool/${POOL1}/addServer
body {"value": "${S2}"}
status 409
expect errorCode INVALID_STATE
expect message ~not owned by this Manager

=== no job was made by any refusal
GET /Job?object=${POOL1}
auth ro
status 200
expect-count 1

# ---- addServer -------------------------------------------------------------

=== add sim-1 with its SimpleId, as Oracle's examples do
PUT /ServerPool/${POOL1}/addServer
body {"type": "com.oracle.ovm.mgr.ws.model.Server", "value": "${S1}", "uri": "${BASE}/Server/${S1}", "name": "sim-1"}
status 200
expect name "Add Server: sim-1 to Server Pool: ${P1}"
expect resultId.value ${POOL1}
capture A1 id.value

=== sim-1 joins the pool
GET /Job/${A1}?wait=30
status 200
expect jobRunState SUCCESS

=== the first server is the master
GET /ServerPool/${POOL1}
auth ro
status 200
expect-count serverIds 1
expect serverIds[0].value ${S1}
expect serverIds[0].name sim-1
expect masterServerId.value ${S1}
expect masterServerId.type com.oracle.ovm.mgr.ws.model.Server

=== sim-1 names its pool
GET /Server/${S1}
auth ro
status 200
expect serverPoolId.value ${POOL1}
expect serverPoolId.name ${P1}

=== the pool's servers are a child collection
GET /ServerPool/${POOL1}/Server
auth ro
status 200
expect-count 1
expect [0].id.value ${S1}
expect [0].serverPoolId.value ${POOL1}

=== the other pool has none
GET /ServerPool/${POOL2}/Server
auth ro
status 200
expect-count 0

=== the server got an event
GET /Event?object=${S1}
auth ro
status 200
expect [0].type server.pool_joined

=== the pool got events for the server and its master
GET /Event?object=${POOL1}&limit=2
auth ro
status 200
expect [0].type pool.server_added
expect [1].type pool.master

=== sim-1 cannot be added again
PUT /ServerPool/${POOL1}/addServer
body {"value": "${S1}"}
status 409
expect message ~already in server pool '${P1}'

=== sim-1 cannot join a second pool
PUT /ServerPool/${POOL2}/addServer
body "${S1}"
status 409
expect message ~already in server pool '${P1}'

=== rediscover sim-3 with another agent password
POST /Server/discover?serverName=sim-3
body "other-secret"
status 200
capture D4 id.value

=== the rediscovery stores the new password
GET /Job/${D4}?wait=30
status 200
expect jobRunState SUCCESS

=== all servers of a pool share one agent password
PUT /ServerPool/${POOL1}/addServer
body {"value": "${S3}"}
status 409
expect message ~agent password

=== rediscover sim-3 with the pool's agent password
POST /Server/discover?serverName=sim-3
body "agent-secret"
status 200
capture D5 id.value

=== sim-3 has the pool's password again
GET /Job/${D5}?wait=30
status 200
expect jobRunState SUCCESS

# Two addServer of sim-3, to two pools, both accepted while sim-3 is
# unassigned, wait behind a diagnostic job holding sim-3: the first adds
# it, the second finds it taken when it runs and fails, changing nothing.

=== a diagnostic job holds sim-3 for a second
POST /Job/diagnostic
body {"name": "hold sim-3 ${RAND}", "objects": [{"id": "${S3}"}], "operations": [{"op": "sleep", "ms": 1000}]}
status 200
capture H1 id.value

=== the diagnostic job is running, holding sim-3
GET /Job/${H1}
status 200
retry 10
expect jobRunState RUNNING

=== add sim-3 to the first pool: accepted, queued
PUT /ServerPool/${POOL1}/addServer
body {"value": "${S3}"}
status 200
expect done false
capture R1 id.value

=== add sim-3 to the second pool: accepted too, queued behind
PUT /ServerPool/${POOL2}/addServer
body {"type": "Server", "value": "${S3}"}
status 200
expect done false
capture R2 id.value

=== the first addServer succeeds
GET /Job/${R1}?wait=30
status 200
expect jobRunState SUCCESS

=== the second fails when it runs: sim-3 is taken by then
GET /Job/${R2}?wait=30
status 200
expect jobRunState FAILURE
expect error.type INVALID_STATE
expect error.message ~already in server pool '${P1}'

=== the diagnostic job ended first
GET /Job/${H1}?wait=30
status 200
expect jobRunState SUCCESS

=== sim-3 is in the first pool, and sim-1 stays master
GET /ServerPool/${POOL1}
auth ro
status 200
expect-count serverIds 2
expect masterServerId.value ${S1}
capture G1 generation

=== the second pool is untouched
GET /ServerPool/${POOL2}
auth ro
status 200
expect serverIds []
expect masterServerId null
expect generation 0

# ---- PUT /ServerPool/{id}: refusals ----------------------------------------

=== an operator cannot edit a pool
PUT /ServerPool/${POOL1}
auth op
body {"description": "op"}
status 403

=== edit of an unknown pool is 404
PUT /ServerPool/${NOPOOL}
body {"description": "x"}
status 404

=== the master must be a server of the pool
PUT /ServerPool/${POOL1}
body {"masterServerId": {"type": "com.oracle.ovm.mgr.ws.model.Server", "value": "${S2}"}}
status 409
expect message ~not in that pool

=== the master must exist
PUT /ServerPool/${POOL1}
body {"masterServerId": {"value": "no-such-server"}}
status 404

=== a pool with servers keeps a master
PUT /ServerPool/${POOL1}
body {"masterServerId": null}
status 409
expect message ~must have a master

=== the virtual IP cannot change while the pool has servers
PUT /ServerPool/${POOL1}
body {"virtualIp": "192.0.2.11"}
status 409
expect message ~virtual IP

=== a clustered pool cannot become unclustered
PUT /ServerPool/${POOL1}
body {"clustered": false}
status 409
expect message ~clustered

=== the keymap is checked on edit too
PUT /ServerPool/${POOL1}
body {"keymap": "xx"}
status 400

=== a rename to a taken name is 409
PUT /ServerPool/${POOL1}
body {"name": "${P2}"}
status 409
expect message ~already exists

=== a rename to a bad name is 400
PUT /ServerPool/${POOL1}
body {"name": "no spaces"}
status 400

=== the body's id must be the pool of the path
PUT /ServerPool/${POOL1}
body {"id": {"type": "com.oracle.ovm.mgr.ws.model.ServerPool", "value": "${POOL2}"}}
status 400

=== a stale generation is refused at once
PUT /ServerPool/${POOL1}
body {"generation": 0, "description": "stale"}
status 409
expect errorCode CONFLICT
expect message ~generation

# ---- PUT /ServerPool/{id} ----------------------------------------------------

=== edit the pool as read: description, keymap, migration, start policy, master
PUT /ServerPool/${POOL1}
body {"id": {"type": "com.oracle.ovm.mgr.ws.model.ServerPool", "value": "${POOL1}"}, "name": "${P1}", "generation": ${G1}, "description": "edited", "keymap": "fr", "secureVmMigrate": true, "vmStartPolicy": "CURRENT_SERVER", "virtualIp": "192.0.2.10", "clustered": true, "masterServerId": {"type": "com.oracle.ovm.mgr.ws.model.Server", "value": "${S3}"}, "serverIds": []}
status 200
expect name "Edit Server Pool: ${P1}"
capture E1 id.value

=== the edit succeeds
GET /Job/${E1}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.value ${POOL1}

=== the pool shows the edit, sim-3 is master, the servers are unchanged
GET /ServerPool/${POOL1}
auth ro
status 200
expect description edited
expect keymap fr
expect secureVmMigrate true
expect vmStartPolicy CURRENT_SERVER
expect masterServerId.value ${S3}
expect virtualIp 192.0.2.10
expect-count serverIds 2
expect-not generation ${G1}
capture G2 generation

=== the master change raised an event
GET /Event?object=${POOL1}&limit=2
auth ro
status 200
expect [0].type pool.updated
expect [1].type pool.master

=== an empty pool may change its virtual IP, and rename
PUT /ServerPool/${POOL2}
body {"name": "${P2}-b", "virtualIp": "192.0.2.20"}
status 200
capture E2 id.value

=== the edit of the empty pool succeeds
GET /Job/${E2}?wait=30
status 200
expect jobRunState SUCCESS

=== the empty pool has its new name and address
GET /ServerPool/${POOL2}
auth ro
status 200
expect name ${P2}-b
expect virtualIp 192.0.2.20

=== the old name is free again
GET /ServerPool/id
auth ro
status 200
expect-not [0].name ${P2}
expect-not [1].name ${P2}

# Two edits from the same generation, both accepted, wait behind a
# diagnostic job holding the pool: the first wins, the second fails with a
# conflict when it runs.

=== a diagnostic job holds the pool for a second
POST /Job/diagnostic
body {"name": "hold pool ${RAND}", "objects": [{"id": "${POOL1}"}], "operations": [{"op": "sleep", "ms": 1000}]}
status 200
capture H2 id.value

=== the pool shows locked while held
GET /ServerPool/${POOL1}
auth ro
status 200
retry 10
expect locked true

=== first edit from generation G2: accepted
PUT /ServerPool/${POOL1}
body {"generation": ${G2}, "description": "first"}
status 200
capture W1 id.value

=== second edit from the same generation: accepted too
PUT /ServerPool/${POOL1}
body {"generation": ${G2}, "description": "second"}
status 200
capture W2 id.value

=== the first edit succeeds
GET /Job/${W1}?wait=30
status 200
expect jobRunState SUCCESS

=== the second fails when it runs: the pool moved on
GET /Job/${W2}?wait=30
status 200
expect jobRunState FAILURE
expect error.type CONFLICT

=== the first edit is the one that stayed
GET /ServerPool/${POOL1}
auth ro
status 200
expect description first
expect locked false

# ---- removeServer ------------------------------------------------------------

=== an operator cannot remove a server
PUT /ServerPool/${POOL1}/removeServer
auth op
body {"value": "${S1}"}
status 403

=== removeServer from an unknown pool is 404
PUT /ServerPool/${NOPOOL}/removeServer
body {"value": "${S1}"}
status 404

=== removeServer of an unknown server is 404
PUT /ServerPool/${POOL1}/removeServer
body {"value": "no-such-server"}
status 404

=== a server that is not in the pool cannot be removed from it
PUT /ServerPool/${POOL1}/removeServer
body {"value": "${S2}"}
status 409
expect message ~not in server pool

=== a server of another pool cannot be removed from this one
PUT /ServerPool/${POOL2}/removeServer
body {"value": "${S1}"}
status 409
expect message ~not in server pool

=== a server leaves its pool only in maintenance mode
PUT /ServerPool/${POOL1}/removeServer
body {"value": "${S3}"}
status 409
expect errorCode INVALID_STATE
expect message ~maintenance mode

# Maintenance mode is PUT /Server/{id} (82-server-edit.t tests it; entering
# it as a pool's master hands the role to a server not in maintenance, when
# there is one). sim-3 is the master now.

=== sim-1 enters maintenance mode
PUT /Server/${S1}
body {"maintenanceMode": true}
status 200
capture M1 id.value

=== sim-1 is in maintenance mode
GET /Job/${M1}?wait=30
status 200
expect jobRunState SUCCESS

=== remove sim-1, which is not the master
PUT /ServerPool/${POOL1}/removeServer
body {"type": "com.oracle.ovm.mgr.ws.model.Server", "value": "${S1}"}
status 200
expect name "Remove Server: sim-1 from Server Pool: ${P1}"
capture RM1 id.value

=== sim-1 leaves the pool
GET /Job/${RM1}?wait=30
status 200
expect jobRunState SUCCESS

=== one server left, the master unchanged
GET /ServerPool/${POOL1}
auth ro
status 200
expect-count serverIds 1
expect serverIds[0].value ${S3}
expect masterServerId.value ${S3}

=== sim-1 is unassigned again
GET /Server/${S1}
auth ro
status 200
expect serverPoolId null

=== sim-1 got an event
GET /Event?object=${S1}
auth ro
status 200
expect [0].type server.pool_left

=== a server in maintenance mode may join a pool
PUT /ServerPool/${POOL1}/addServer
body {"value": "${S1}"}
status 200
capture AM1 id.value

=== sim-1 is back in the pool
GET /Job/${AM1}?wait=30
status 200
expect jobRunState SUCCESS

=== the master enters maintenance mode: no other server can take the role
PUT /Server/${S3}
body {"maintenanceMode": true}
status 200
capture M3 id.value

=== sim-3 is in maintenance mode
GET /Job/${M3}?wait=30
status 200
expect jobRunState SUCCESS

=== sim-3 stays master, as sim-1 is in maintenance mode too
GET /ServerPool/${POOL1}
auth ro
status 200
expect masterServerId.value ${S3}

=== remove the master while another server remains
PUT /ServerPool/${POOL1}/removeServer
body {"value": "${S3}"}
status 200
capture RM3 id.value

=== the master leaves the pool
GET /Job/${RM3}?wait=30
status 200
expect jobRunState SUCCESS

=== the remaining server was elected master
GET /ServerPool/${POOL1}
auth ro
status 200
expect-count serverIds 1
expect serverIds[0].value ${S1}
expect masterServerId.value ${S1}

=== the election raised a WARNING on the pool
GET /Event?object=${POOL1}&severity=WARNING&limit=1
auth ro
status 200
expect [0].type pool.master_elected
expect [0].severity WARNING
expect [0].summary ~is the new master

=== the pool shows the warning
GET /ServerPool/${POOL1}
auth ro
status 200
expect eventSeverity WARNING

=== remove the last server
PUT /ServerPool/${POOL1}/removeServer
body "${S1}"
status 200
capture RM4 id.value

=== the last server leaves the pool
GET /Job/${RM4}?wait=30
status 200
expect jobRunState SUCCESS

=== an empty pool has no master
GET /ServerPool/${POOL1}
auth ro
status 200
expect serverIds []
expect masterServerId null

=== an empty pool may drop its virtual IP ("" counts as null)
PUT /ServerPool/${POOL1}
body {"virtualIp": ""}
status 200
capture V1 id.value

=== the virtual IP is dropped
GET /Job/${V1}?wait=30
status 200
expect jobRunState SUCCESS

=== the pool has no virtual IP now
GET /ServerPool/${POOL1}
auth ro
status 200
expect virtualIp null

=== and gets it back
PUT /ServerPool/${POOL1}
body {"virtualIp": "192.0.2.10"}
status 200
capture V2 id.value

=== the virtual IP is back
GET /Job/${V2}?wait=30
status 200
expect jobRunState SUCCESS

=== sim-1 leaves maintenance mode
PUT /Server/${S1}
body {"maintenanceMode": false}
status 200
capture M4 id.value

=== sim-1 is out of maintenance mode
GET /Job/${M4}?wait=30
status 200
expect jobRunState SUCCESS

=== sim-3 leaves maintenance mode
PUT /Server/${S3}
body {"maintenanceMode": false}
status 200
capture M5 id.value

=== sim-3 is out of maintenance mode
GET /Job/${M5}?wait=30
status 200
expect jobRunState SUCCESS

# The pool is left with sim-1 (master) and sim-3: 82-server-edit.t, which
# runs next in the suite, starts from that.

=== sim-1 joins again and is master of the empty pool
PUT /ServerPool/${POOL1}/addServer
body {"value": "${S1}"}
status 200
capture AM2 id.value

=== sim-1 joined
GET /Job/${AM2}?wait=30
status 200
expect jobRunState SUCCESS

=== sim-3 joins again
PUT /ServerPool/${POOL1}/addServer
body {"value": "${S3}"}
status 200
capture AM3 id.value

=== sim-3 joined
GET /Job/${AM3}?wait=30
status 200
expect jobRunState SUCCESS

=== both servers are back, sim-1 is master
GET /ServerPool/${POOL1}
auth ro
status 200
expect-count serverIds 2
expect masterServerId.value ${S1}

# ---- DELETE /ServerPool/{id} -------------------------------------------------

=== an operator cannot delete a pool
DELETE /ServerPool/${POOL2}
auth op
status 403

=== delete of an unknown pool is 404
DELETE /ServerPool/${NOPOOL}
status 404

=== a pool with servers cannot be deleted
DELETE /ServerPool/${POOL1}
status 409
expect errorCode INVALID_STATE
expect message ~still has 2 servers

=== delete the empty pool
DELETE /ServerPool/${POOL2}
status 200
expect name "Delete Server Pool: ${P2}-b"
capture X1 id.value

=== the delete succeeds
GET /Job/${X1}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.value ${POOL2}

=== the pool is gone
GET /ServerPool/${POOL2}
auth ro
status 404

=== and so is its policy
GET /ServerPoolPolicy/balancer_${POOL2}
auth ro
status 404

=== one pool and one policy remain
GET /ServerPoolPolicy
auth ro
status 200
expect-count 1

=== the delete raised an event on the pool
GET /Event?object=${POOL2}
auth ro
status 200
expect [0].type pool.deleted

=== its name and virtual IP can be used again
POST /ServerPool
body {"name": "${P2}-b", "virtualIp": "192.0.2.20"}
status 200
capture C3 id.value

=== the new pool is created
GET /Job/${C3}?wait=30
status 200
expect jobRunState SUCCESS
capture POOL3 resultId.value

=== delete it again
DELETE /ServerPool/${POOL3}
status 200
capture X2 id.value

=== the second delete succeeds
GET /Job/${X2}?wait=30
status 200
expect jobRunState SUCCESS

=== deleting it twice is 404
DELETE /ServerPool/${POOL3}
status 404
