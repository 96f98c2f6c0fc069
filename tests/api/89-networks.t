# Networks (issue 6; docs/NETWORKS.md): the management network discovery
# makes and its rules (MANAGEMENT kept, management ports stay, deleted
# only without ports), creating networks of ports with roles, editing
# roles with the one-CLUSTER_HEARTBEAT/LIVE_MIGRATE-network-per-server
# rule, adding and removing ports, stale generations, deleting; and every
# refusal (400/404/409 before any job). Networks with the VIRTUAL_MACHINE
# role and their bridges on the hosts are tests/api/network.sh (it looks
# at the simulated hosts through virsh).
#
# sim-1 and sim-3 are (re)discovered with ownership, sim-2 without; each
# has eth0 (its management port) and eth1. The file removes what it made.

set NOPORT 0004fb00002000000000000000000000
set NOSEG 0004fb00003700000000000000000000
set NNAME net-${RAND}

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

=== sim-1's ports
GET /Server/${S1}/EthernetPort
auth ro
status 200
expect [0].interfaceName eth0
expect [1].interfaceName eth1
expect [1].networkId null
expect [1].addressType NONE
capture P10 [0].id.value
capture P11 [1].id.value

=== sim-3's ports
GET /Server/${S3}/EthernetPort
auth ro
status 200
expect [1].interfaceName eth1
capture P31 [1].id.value

=== sim-2's ports
GET /Server/${S2}/EthernetPort
auth ro
status 200
expect [1].interfaceName eth1
capture P21 [1].id.value

=== the management network holds the management ports
GET /EthernetPort/${P10}
auth ro
status 200
capture MGMT networkId.value

=== the management network
GET /Network/${MGMT}
auth ro
status 200
expect roles ["MANAGEMENT","LIVE_MIGRATE","CLUSTER_HEARTBEAT"]
expect serverLocal false
expect virtualNicIds []
expect vlanSegmentId null
capture GM generation

# ---- POST /Network: refusals ------------------------------------------------------

=== a network needs a name
POST /Network
body {"roles": ["STORAGE"]}
status 400
expect message ~name

=== an unknown role
POST /Network
body {"name": "${NNAME}", "roles": ["STORAGE", "BACKUP"]}
status 400
expect message ~not a network role

=== a role twice
POST /Network
body {"name": "${NNAME}", "roles": ["STORAGE", "STORAGE"]}
status 400
expect message ~twice

=== roles must be an array
POST /Network
body {"name": "${NNAME}", "roles": "STORAGE"}
status 400

=== MANAGEMENT belongs to the management network
POST /Network
body {"name": "${NNAME}", "roles": ["MANAGEMENT"]}
status 409
expect message ~belongs to the management network

=== an unknown port
POST /Network
body {"name": "${NNAME}", "roles": ["STORAGE"], "ethernetPortIds": ["${NOPORT}"]}
status 404

=== a port twice
POST /Network
body {"name": "${NNAME}", "roles": ["STORAGE"], "ethernetPortIds": ["${P11}", {"value": "${P11}"}]}
status 400
expect message ~twice

=== a port already in a network
POST /Network
body {"name": "${NNAME}", "roles": ["STORAGE"], "ethernetPortIds": ["${P10}"]}
status 409
expect message ~is already in network

=== a port of a server this Manager does not own
POST /Network
body {"name": "${NNAME}", "roles": ["STORAGE"], "ethernetPortIds": ["${P21}"]}
status 409
expect message ~does not own

=== an unknown VLAN segment
POST /Network
body {"name": "${NNAME}", "roles": ["STORAGE"], "vlanSegmentId": "${NOSEG}"}
status 404

=== a bad mtu
POST /Network
body {"name": "${NNAME}", "roles": ["STORAGE"], "mtu": 100}
status 400
expect message ~mtu

=== an intra-server network needs its server
POST /Network
body {"name": "${NNAME}", "serverLocal": true}
status 400
expect message ~serverId

=== an intra-server network has no ports
POST /Network
body {"name": "${NNAME}", "serverLocal": true, "serverId": "${S1}", "ethernetPortIds": ["${P11}"]}
status 400

=== an intra-server network is for VMs only
POST /Network
body {"name": "${NNAME}", "serverLocal": true, "serverId": {"value": "${S1}"}, "roles": ["STORAGE"]}
status 400
expect message ~VIRTUAL_MACHINE role only

=== serverId is for intra-server networks
POST /Network
body {"name": "${NNAME}", "serverId": "${S1}", "roles": ["STORAGE"]}
status 400

=== an intra-server network on a server this Manager does not own
POST /Network
body {"name": "${NNAME}", "serverLocal": true, "serverId": "${S2}"}
status 409
expect message ~does not own

=== a sim-1 port in a second LIVE_MIGRATE network
POST /Network
body {"name": "${NNAME}", "roles": ["LIVE_MIGRATE"], "ethernetPortIds": ["${P11}"]}
status 409
expect message ~already in LIVE_MIGRATE network

=== a second CLUSTER_HEARTBEAT network
POST /Network
body {"name": "${NNAME}", "roles": ["CLUSTER_HEARTBEAT", "STORAGE"], "ethernetPortIds": ["${P31}"]}
status 409
expect message ~already in CLUSTER_HEARTBEAT network

=== read-only users cannot create networks
POST /Network
auth ro
body {"name": "${NNAME}", "roles": ["STORAGE"]}
status 403

=== operators cannot either
POST /Network
auth op
body {"name": "${NNAME}", "roles": ["STORAGE"]}
status 403

# ---- a storage network on eth1 of sim-1 and sim-3 ------------------------------------

=== create a storage network
POST /Network
body {"name": "${NNAME}", "description": "iSCSI", "roles": ["STORAGE"], "mtu": 9000, "ethernetPortIds": [{"type": "com.oracle.ovm.mgr.ws.model.EthernetPort", "value": "${P11}"}, "${P31}"]}
status 200
expect name "Create Network: ${NNAME}"
capture J1 id.value

=== it is created
GET /Job/${J1}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.type com.oracle.ovm.mgr.ws.model.Network
capture NET resultId.value

=== the network
GET /Network/${NET}
auth ro
status 200
expect name ${NNAME}
expect description iSCSI
expect roles ["STORAGE"]
expect mtu 9000
expect-count ethernetPortIds 2
expect bridgeName null
capture GN generation

=== the port names its network
GET /EthernetPort/${P11}
auth ro
status 200
expect networkId.value ${NET}

=== its ports are a child collection
GET /Network/${NET}/EthernetPort
auth ro
status 200
expect-count 2

=== the creation raised an event
GET /Event?object=${NET}
auth ro
status 200
expect [0].type network.created

=== a port in one network only
PUT /Network/${MGMT}/addEthernetPort
body "${P11}"
status 409
expect message ~already in network '${NNAME}'

# ---- roles -------------------------------------------------------------------------

=== the storage network cannot take LIVE_MIGRATE: its servers have one
PUT /Network/${NET}
body {"roles": ["STORAGE", "LIVE_MIGRATE"]}
status 409
expect message ~already in LIVE_MIGRATE network

=== the management network keeps MANAGEMENT
PUT /Network/${MGMT}
body {"roles": ["LIVE_MIGRATE", "CLUSTER_HEARTBEAT"]}
status 409
expect message ~keeps the MANAGEMENT role

=== the management network gives up LIVE_MIGRATE
PUT /Network/${MGMT}
body {"generation": ${GM}, "roles": ["MANAGEMENT", "CLUSTER_HEARTBEAT"]}
status 200
capture J2 id.value

=== given up
GET /Job/${J2}?wait=30
status 200
expect jobRunState SUCCESS

=== now the storage network takes it
PUT /Network/${NET}
body {"generation": ${GN}, "roles": ["STORAGE", "LIVE_MIGRATE"], "name": "${NNAME}-lm"}
status 200
capture J3 id.value

=== taken
GET /Job/${J3}?wait=30
status 200
expect jobRunState SUCCESS

=== the edit shows
GET /Network/${NET}
auth ro
status 200
expect name ${NNAME}-lm
expect roles ["STORAGE","LIVE_MIGRATE"]

=== and the management network cannot take it back
PUT /Network/${MGMT}
body {"roles": ["MANAGEMENT", "CLUSTER_HEARTBEAT", "LIVE_MIGRATE"]}
status 409
expect message ~already in LIVE_MIGRATE network '${NNAME}-lm'

=== a stale generation
PUT /Network/${NET}
body {"generation": ${GN}, "description": "x"}
status 409

=== a bad role in an edit
PUT /Network/${NET}
body {"roles": ["NOPE"]}
status 400

=== serverLocal cannot change
PUT /Network/${NET}
body {"serverLocal": true}
status 400

# ---- ports in and out ----------------------------------------------------------------

=== the management port stays on the management network
PUT /Network/${MGMT}/removeEthernetPort
body "${P10}"
status 409
expect message ~management port

=== a port that is not in the network
PUT /Network/${NET}/removeEthernetPort
body "${P10}"
status 409
expect message ~is not in network

=== an unknown port
PUT /Network/${NET}/removeEthernetPort
body "${NOPORT}"
status 404

=== no body
PUT /Network/${NET}/addEthernetPort
status 400

=== remove sim-3's port
PUT /Network/${NET}/removeEthernetPort
body {"value": "${P31}"}
status 200
capture J4 id.value

=== removed
GET /Job/${J4}?wait=30
status 200
expect jobRunState SUCCESS

=== the port is free
GET /EthernetPort/${P31}
auth ro
status 200
expect networkId null

=== one port left
GET /Network/${NET}
auth ro
status 200
expect-count ethernetPortIds 1

=== add it back
PUT /Network/${NET}/addEthernetPort
body "${P31}"
status 200
capture J5 id.value

=== added
GET /Job/${J5}?wait=30
status 200
expect jobRunState SUCCESS

=== twice is refused
PUT /Network/${NET}/addEthernetPort
body "${P31}"
status 409
expect message ~already in network

=== an unknown VLAN segment
PUT /Network/${NET}/addVlanSegment
body "${NOSEG}"
status 404

=== removing a segment the network does not use
PUT /Network/${NET}/removeVlanSegment
body "${NOSEG}"
status 404

# ---- deletes -------------------------------------------------------------------------

=== the management network cannot go while servers have ports on it
DELETE /Network/${MGMT}
status 409
expect message ~no server has a port on it

=== delete the storage network
DELETE /Network/${NET}
status 200
capture J6 id.value

=== deleted
GET /Job/${J6}?wait=30
status 200
expect jobRunState SUCCESS

=== gone
GET /Network/${NET}
auth ro
status 404

=== its ports are free again
GET /EthernetPort/${P11}
auth ro
status 200
expect networkId null

=== twice is 404
DELETE /Network/${NET}
status 404

=== the management network takes LIVE_MIGRATE back
PUT /Network/${MGMT}
body {"roles": ["MANAGEMENT", "LIVE_MIGRATE", "CLUSTER_HEARTBEAT"]}
status 200
capture J7 id.value

=== back as discovery made it
GET /Job/${J7}?wait=30
status 200
expect jobRunState SUCCESS
