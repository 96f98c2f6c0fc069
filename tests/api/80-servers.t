# Servers: discovery of the simulated hosts sim-1..3 (run.sh starts the
# daemon with --simulate 3), their facts, ports, CPU compatibility groups,
# the management network, ownership, rediscovery, and the refusals.

=== the Manager id (the owner of servers discovered with ownership)
GET /Manager/id
auth ro
status 200
capture MGR [0].value

=== discover needs serverName
POST /Server/discover
body "agent-secret"
status 400
expect errorCode INVALID_INPUT
expect message ~serverName

=== a serverName with spaces never reaches a URI
POST /Server/discover?serverName=bad%20host
body "agent-secret"
status 400
expect errorCode INVALID_INPUT

=== a read-only user cannot discover
POST /Server/discover?serverName=sim-1
auth ro
body "agent-secret"
status 403

=== an operator cannot discover either (administrators only)
POST /Server/discover?serverName=sim-1
auth op
body "agent-secret"
status 403

=== takeOwnershipIfUnowned must be a boolean
POST /Server/discover?serverName=sim-1&takeOwnershipIfUnowned=maybe
body "agent-secret"
status 400

=== discover sim-1 with the password as a JSON string: answers with a Job
POST /Server/discover?serverName=sim-1&takeOwnershipIfUnowned=true
body "agent-secret"
status 200
expect id.type com.oracle.ovm.mgr.ws.model.Job
expect name "Discover Server: sim-1"
expect-header Location ~/Job/
capture D1 id.value

=== the discovery succeeds and names the server as its result
GET /Job/${D1}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.type com.oracle.ovm.mgr.ws.model.Server
expect resultId.name sim-1
capture S1 resultId.value

=== the server has its facts from its node file
GET /Server/${S1}
auth ro
status 200
expect name sim-1
expect hostname sim-1
expect ipAddress sim-1
expect serverRunState RUNNING
expect maintenanceMode false
expect managerUuid ${MGR}
expect serverPoolId null
expect agentLogin oracle
expect hypervisor.type test
expect-count ethernetPortIds 4
expect-exists cpuCompatibilityGroupId.value
expect-not memory 0
expect-not populatedProcessorSockets 0
expect libvirtUri ~test://
expect libvirtUri ~sim-1.xml
expect-count localDisks 1
expect localDisks[0].name local-sim-1
expect localDisks[0].type dir
capture G1 cpuCompatibilityGroupId.value

=== its id is the host UUID in Oracle VM's colon form
GET /Server/id
auth ro
status 200
expect-count 1
expect [0].value ~:

=== its Ethernet ports are a child collection
GET /Server/${S1}/EthernetPort
auth ro
status 200
expect-count 4
expect [0].serverId.value ${S1}
expect [0].portType PHYSICAL
expect [0].name ~on sim-1

=== discovery made the management network with the first port on it
GET /Network
auth ro
status 200
expect-count 1
expect [0].name management
expect [0].roles ["MANAGEMENT","LIVE_MIGRATE","CLUSTER_HEARTBEAT"]
expect-count [0].ethernetPortIds 1
capture NET [0].id.value

=== the discovery raised an event on the server
GET /Event?object=${S1}
auth ro
status 200
expect [0].type server.discovered
expect [0].severity INFORMATIONAL

=== discover sim-2 with an empty body and without taking ownership
POST /Server/discover?serverName=sim-2&takeOwnershipIfUnowned=false
status 200
capture D2 id.value

=== sim-2 is discovered unowned
GET /Job/${D2}?wait=30
status 200
expect jobRunState SUCCESS
capture S2 resultId.value

=== sim-2 has no owner and shares sim-1's CPU compatibility group
GET /Server/${S2}
auth ro
status 200
expect managerUuid null
expect cpuCompatibilityGroupId.value ${G1}

=== discover sim-3 with the bare password text Oracle's examples send
POST /Server/discover?serverName=sim-3
header Content-Type: application/json
body agent-secret
status 200
capture D3 id.value

=== sim-3 is discovered
GET /Job/${D3}?wait=30
status 200
expect jobRunState SUCCESS
capture S3 resultId.value

=== sim-3 has another CPU, so another group
GET /Server/${S3}
auth ro
status 200
expect-not cpuCompatibilityGroupId.value ${G1}

=== two CPU compatibility groups, each listing its servers
GET /CpuCompatibilityGroup
auth ro
status 200
expect-count 2

=== sim-1's group lists sim-1 and sim-2
GET /CpuCompatibilityGroup/${G1}
auth ro
status 200
expect-count serverIds 2
expect name ~Family:

=== still one management network, now with a port of each server
GET /Network/${NET}
auth ro
status 200
expect-count ethernetPortIds 3

=== rediscover sim-1: the same server, facts refreshed
POST /Server/discover?serverName=sim-1
body "agent-secret"
status 200
capture D4 id.value

=== the rediscovery succeeds on the same server
GET /Job/${D4}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.value ${S1}

=== still three servers
GET /Server
auth ro
status 200
expect-count 3

=== PUT /Server/{id}/rediscover uses what the server was discovered with
PUT /Server/${S2}/rediscover
status 200
expect name "Discover Server: sim-2"
capture D6 id.value

=== the rediscovery refreshes sim-2 and keeps it unowned
GET /Job/${D6}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.value ${S2}

=== sim-2 is still unowned after its rediscovery
GET /Server/${S2}
auth ro
status 200
expect managerUuid null
expect hostname sim-2

=== rediscovering an unknown server is 404
PUT /Server/03:aa:02:fc:04:14:05:e3:f5:06:de:07:00:08:00:09/rediscover
status 404
expect errorCode NOT_FOUND

=== a read-only user cannot rediscover
PUT /Server/${S1}/rediscover
auth ro
status 403

=== a libvirt URI that cannot be opened fails the job with libvirt's reason
POST /Server/discover?serverName=test:///nonexistent/no-such-node.xml
body "agent-secret"
status 200
capture D5 id.value

=== the failed discovery created nothing
GET /Job/${D5}?wait=30
status 200
expect jobRunState FAILURE
expect-exists error.message
expect error.type SERVER_UNREACHABLE

=== still three servers after the failure
GET /Server
auth ro
status 200
expect-count 3

=== a server's description is edited like any object
PUT /Server/${S1}
body {"description": "rack 4"}
status 200
capture E1 id.value

=== the edit succeeds
GET /Job/${E1}?wait=30
status 200
expect jobRunState SUCCESS

=== the description changed
GET /Server/${S1}
auth ro
status 200
expect description "rack 4"

=== unassigned servers are not in any pool
GET /ServerPool
auth ro
status 200
expect-count 0
