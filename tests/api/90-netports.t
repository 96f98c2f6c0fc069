# Ports, bonds, VLAN groups, VLAN segments and VLAN interfaces (issue 6;
# docs/NETWORKS.md, "IP configuration" and "Bonds and VLAN groups"):
# every refusal of POST /Server/{id}/BondPort (400/404/409 before any
# job), the IP configuration rules, edits of physical ports, VLAN groups
# (create, edit, ports in and out), VLAN segments (1 and 4094, 0 and
# 4095, duplicates, one untagged per group), the VLAN interfaces a tagged
# segment makes per port (rows, and on the simulated hosts' node files
# <data>/sim/sim-N.xml), their IP configuration, deletes, and what a
# network using a segment refuses; bonds over eth2 and eth3: made,
# edited (mode, ports), in a VLAN group and a network, deleted.
#
# sim-1 and sim-3 are (re)discovered with ownership, sim-2 without, so the
# file also runs alone; eth0 of each is its management port (on the
# management network), eth1..eth3 are free. It removes what it made.

set NOSRV 00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00
set NOPORT 0004fb00002000000000000000000000
set NODE ${FIXTURE}/text/data/sim
set G1 vg1-${RAND}

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

=== sim-2 is not ours
GET /Server/${S2}
auth ro
status 200
expect managerUuid null

=== sim-1's ports: eth0 on the management network, eth1 free
GET /Server/${S1}/EthernetPort
auth ro
status 200
expect [0].interfaceName eth0
expect [1].interfaceName eth1
expect [1].portType PHYSICAL
expect [1].networkId null
expect [1].bondPortId null
expect [1].vlanGroupId null
expect [1].addressType NONE
expect [1].ipAddress null
expect [2].interfaceName eth2
capture P10 [0].id.value
capture P11 [1].id.value
capture P12 [2].id.value
capture MGMT [0].networkId.value
capture MTU11 [1].mtu

=== sim-3's ports
GET /Server/${S3}/EthernetPort
auth ro
status 200
expect [0].interfaceName eth0
expect [1].interfaceName eth1
expect [1].vlanGroupId null
capture P30 [0].id.value
capture P31 [1].id.value

=== sim-2's ports
GET /Server/${S2}/EthernetPort
auth ro
status 200
expect [1].interfaceName eth1
capture P21 [1].id.value

=== the management network
GET /Network/${MGMT}
auth ro
status 200
expect roles ["MANAGEMENT","LIVE_MIGRATE","CLUSTER_HEARTBEAT"]

# ---- POST /Server/{id}/BondPort: refusals ------------------------------------

=== a read-only user cannot make a bond
POST /Server/${S1}/BondPort
auth ro
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": ["${P10}", "${P11}"]}
status 403

=== nor can an operator (network configuration is for administrators)
POST /Server/${S1}/BondPort
auth op
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": ["${P10}", "${P11}"]}
status 403

=== a bond on an unknown server
POST /Server/${NOSRV}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": ["${P10}", "${P11}"]}
status 404
expect errorCode NOT_FOUND

=== a bond needs a bondMode
POST /Server/${S1}/BondPort
body {"ethernetPortIds": ["${P10}", "${P11}"]}
status 400
expect errorCode INVALID_INPUT
expect message ~bondMode

=== a bond mode Oracle VM does not have
POST /Server/${S1}/BondPort
body {"bondMode": "ROUND_ROBIN", "ethernetPortIds": ["${P10}", "${P11}"]}
status 400
expect message ~LOAD_BALANCED

=== a bondMode that is no string
POST /Server/${S1}/BondPort
body {"bondMode": 1, "ethernetPortIds": ["${P10}", "${P11}"]}
status 400

=== a bond of one port
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": ["${P11}"]}
status 400
expect message ~exactly two ports

=== a bond of three ports
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": ["${P10}", "${P11}", "${P31}"]}
status 400
expect message ~exactly two ports

=== a bond without ports
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE"}
status 400
expect message ~exactly two ports

=== one port twice
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": ["${P11}", {"value": "${P11}"}]}
status 400
expect message ~twice

=== ethernetPortIds that is no array
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": "${P11}"}
status 400

=== a port reference of another type
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": [{"type": "com.oracle.ovm.mgr.ws.model.Server", "value": "${P10}"}, "${P11}"]}
status 400
expect message ~EthernetPort

=== an interfaceName that is no bond name
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "interfaceName": "eth7", "ethernetPortIds": ["${P10}", "${P11}"]}
status 400
expect message ~not a bond name

=== a bond name of four digits
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "interfaceName": "bond1234", "ethernetPortIds": ["${P10}", "${P11}"]}
status 400
expect message ~bond1234

=== an MTU below 1500
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "mtu": 1499, "ethernetPortIds": ["${P10}", "${P11}"]}
status 400
expect message ~1500..64000

=== an MTU above 64000
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "mtu": 64001, "ethernetPortIds": ["${P10}", "${P11}"]}
status 400
expect message ~mtu

=== an MTU that is no number
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "mtu": "9000", "ethernetPortIds": ["${P10}", "${P11}"]}
status 400

=== an unknown port
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": ["${P11}", "${NOPORT}"]}
status 404
expect errorCode NOT_FOUND

=== a port on a network (the management port)
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": ["${P11}", "${P10}"]}
status 409
expect message ~is in network 'management'
expect message ~eth0 on sim-1

=== a port of another server
POST /Server/${S1}/BondPort
body {"bondMode": "LINK_AGGREGATION", "ethernetPortIds": ["${P11}", "${P31}"]}
status 409
expect message ~is on server 'sim-3', not on server 'sim-1'

=== both ports of another server
POST /Server/${S1}/BondPort
body {"bondMode": "LOAD_BALANCED", "ethernetPortIds": ["${P31}", "${P30}"]}
status 409
expect message ~not on server 'sim-1'

=== a bond on a server this Manager does not own
POST /Server/${S2}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": ["${P21}", "${P11}"]}
status 409
expect message ~does not own server 'sim-2'

# ---- IP configuration (the body is checked before the ports) -----------------

=== an addressType that does not exist
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": ["${P10}", "${P11}"], "addressType": "BOOTP"}
status 400
expect message ~NONE, DHCP or STATIC

=== STATIC without an address
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": ["${P10}", "${P11}"], "addressType": "STATIC", "netmask": "255.255.255.0"}
status 400
expect message ~STATIC needs 'ipAddress' and 'netmask'

=== STATIC without a netmask
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": ["${P10}", "${P11}"], "addressType": "STATIC", "ipAddress": "10.1.2.3"}
status 400
expect message ~needs

=== DHCP with an address
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": ["${P10}", "${P11}"], "addressType": "DHCP", "ipAddress": "10.1.2.3"}
status 400
expect message ~DHCP takes no

=== NONE with a gateway
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": ["${P10}", "${P11}"], "gateway": "10.1.2.1"}
status 400
expect message ~NONE takes no

=== a bad address
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": ["${P10}", "${P11}"], "addressType": "STATIC", "ipAddress": "10.1.2.300", "netmask": "255.255.255.0"}
status 400
expect message ~not an IPv4 dotted quad

=== an address that is no dotted quad
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": ["${P10}", "${P11}"], "addressType": "STATIC", "ipAddress": "fe80::1", "netmask": "255.255.255.0"}
status 400
expect message ~dotted quad

=== a netmask that is not contiguous
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": ["${P10}", "${P11}"], "addressType": "STATIC", "ipAddress": "10.1.2.3", "netmask": "255.0.255.0"}
status 400
expect message ~not a contiguous mask

=== a netmask of no bits
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": ["${P10}", "${P11}"], "addressType": "STATIC", "ipAddress": "10.1.2.3", "netmask": "0.0.0.0"}
status 400
expect message ~contiguous

=== the network address of the subnet
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": ["${P10}", "${P11}"], "addressType": "STATIC", "ipAddress": "10.1.2.0", "netmask": "255.255.255.0"}
status 400
expect message ~network address of subnet 10.1.2.0/24

=== the broadcast address of the subnet
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": ["${P10}", "${P11}"], "addressType": "STATIC", "ipAddress": "10.1.2.255", "netmask": "255.255.255.0"}
status 400
expect message ~broadcast address of subnet 10.1.2.0/24

=== a multicast address
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": ["${P10}", "${P11}"], "addressType": "STATIC", "ipAddress": "224.0.0.5", "netmask": "255.255.255.0"}
status 400
expect message ~not a unicast host address

=== a gateway outside the subnet
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": ["${P10}", "${P11}"], "addressType": "STATIC", "ipAddress": "10.1.2.3", "netmask": "255.255.255.0", "gateway": "10.1.3.1"}
status 400
expect message ~gateway '10.1.3.1' is outside subnet 10.1.2.0/24

=== a gateway that is the address itself
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": ["${P10}", "${P11}"], "addressType": "STATIC", "ipAddress": "10.1.2.3", "netmask": "255.255.255.0", "gateway": "10.1.2.3"}
status 400
expect message ~the address itself

=== a gateway that is the broadcast address
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": ["${P10}", "${P11}"], "addressType": "STATIC", "ipAddress": "10.1.2.3", "netmask": "255.255.255.0", "gateway": "10.1.2.255"}
status 400
expect message ~gateway

=== an address that is no string
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": ["${P10}", "${P11}"], "addressType": "STATIC", "ipAddress": 167838211, "netmask": "255.255.255.0"}
status 400

=== a valid configuration gets as far as the ports (409: eth0 is in a network)
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": ["${P10}", "${P11}"], "addressType": "STATIC", "ipAddress": "10.1.2.3", "netmask": "255.255.255.0", "gateway": "10.1.2.1"}
status 409
expect message ~is in network

# ---- PUT /EthernetPort/{id}: physical ports -------------------------------------

=== a static address for sim-1's eth1 (rows only)
PUT /EthernetPort/${P11}
body {"description": "storage side ${RAND}", "addressType": "STATIC", "ipAddress": "192.0.2.10", "netmask": "255.255.255.0", "gateway": "192.0.2.1"}
status 200
expect name "Edit Port: eth1 on sim-1"
capture J1 id.value

=== the edit succeeds
GET /Job/${J1}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.value ${P11}

=== eth1 has it
GET /EthernetPort/${P11}
auth ro
status 200
expect description storage side ${RAND}
expect addressType STATIC
expect ipAddress 192.0.2.10
expect netmask 255.255.255.0
expect gateway 192.0.2.1
expect portType PHYSICAL
expect interfaceName eth1
capture GEN11 generation

=== the edit raised an event
GET /Event?object=${P11}&limit=100
auth ro
status 200
expect-body ethernetport.updated
expect-body IP configuration

=== the same static address for another port
PUT /EthernetPort/${P31}
body {"addressType": "STATIC", "ipAddress": "192.0.2.10", "netmask": "255.255.0.0"}
status 409
expect message ~IP address '192.0.2.10' is already used by port 'eth1 on sim-1'

=== only the netmask: the rest of the configuration stays
PUT /EthernetPort/${P11}
body {"netmask": "255.255.0.0"}
status 200
capture J2 id.value

=== that edit succeeds too
GET /Job/${J2}?wait=30
status 200
expect jobRunState SUCCESS

=== eth1's address is now in a /16
GET /EthernetPort/${P11}
auth ro
status 200
expect addressType STATIC
expect ipAddress 192.0.2.10
expect netmask 255.255.0.0
expect gateway 192.0.2.1

=== an address alone that is the new subnet's network address
PUT /EthernetPort/${P11}
body {"ipAddress": "192.0.0.0"}
status 400
expect message ~network address of subnet 192.0.0.0/16

=== DHCP with the old address is refused
PUT /EthernetPort/${P11}
body {"addressType": "DHCP", "ipAddress": "192.0.2.10"}
status 400
expect message ~DHCP takes no

=== a stale generation
PUT /EthernetPort/${P11}
body {"generation": ${GEN11}, "description": "late"}
status 409
expect message ~generation

=== an interfaceName cannot change
PUT /EthernetPort/${P11}
body {"interfaceName": "eth9"}
status 400
expect message ~interfaceName

=== a physical port has no bond mode
PUT /EthernetPort/${P11}
body {"bondMode": "ACTIVE_PASSIVE"}
status 400
expect message ~physical port

=== nor member ports
PUT /EthernetPort/${P11}
body {"physicalPortIds": ["${P10}", "${P11}"]}
status 400
expect message ~only a bond

=== an MTU out of range
PUT /EthernetPort/${P11}
body {"mtu": 1000}
status 400
expect message ~1500..64000

=== a GET body back (null bond members, the same MTU and name) and DHCP
PUT /EthernetPort/${P11}
body {"id": {"value": "${P11}"}, "name": "eth1 on sim-1", "interfaceName": "eth1", "mtu": ${MTU11}, "bondMode": null, "physicalPortIds": [], "bondPortId": null, "addressType": "DHCP", "ipAddress": null, "netmask": null, "gateway": null}
status 200
capture J3 id.value

=== DHCP now
GET /Job/${J3}?wait=30
status 200
expect jobRunState SUCCESS

=== eth1 asks DHCP for its address
GET /EthernetPort/${P11}
auth ro
status 200
expect addressType DHCP
expect ipAddress null
expect netmask null
expect gateway null

=== a new MTU
PUT /EthernetPort/${P31}
body {"mtu": 9000, "addressType": "NONE"}
status 200
capture J4 id.value

=== the MTU is set
GET /Job/${J4}?wait=30
status 200
expect jobRunState SUCCESS

=== sim-3's eth1 has it
GET /EthernetPort/${P31}
auth ro
status 200
expect mtu 9000

=== an operator cannot edit a port
PUT /EthernetPort/${P11}
auth op
body {"description": "x"}
status 403

=== an unknown port
PUT /EthernetPort/${NOPORT}
body {"description": "x"}
status 404

=== a physical port cannot be deleted
DELETE /EthernetPort/${P11}
status 409
expect message ~ports come with discovery

=== nor the management port
DELETE /EthernetPort/${P10}
status 409
expect message ~physical port

=== deleting an unknown port
DELETE /EthernetPort/${NOPORT}
status 404

=== eth1 back to no address
PUT /EthernetPort/${P11}
body {"addressType": "NONE"}
status 200
capture J5 id.value

=== done
GET /Job/${J5}?wait=30
status 200
expect jobRunState SUCCESS

# ---- VLAN groups -------------------------------------------------------------

=== a VLAN group needs a name
POST /VlanGroup
body {"ethernetPortIds": ["${P11}"]}
status 400
expect message ~name

=== a read-only user cannot make one
POST /VlanGroup
auth ro
body {"name": "${G1}"}
status 403

=== a port on a network cannot join a VLAN group
POST /VlanGroup
body {"name": "${G1}", "ethernetPortIds": ["${P11}", "${P10}"]}
status 409
expect message ~port 'eth0 on sim-1' is in network 'management'

=== a port of a server this Manager does not own
POST /VlanGroup
body {"name": "${G1}", "ethernetPortIds": ["${P21}"]}
status 409
expect message ~does not own server 'sim-2'

=== an unknown port
POST /VlanGroup
body {"name": "${G1}", "ethernetPortIds": ["${NOPORT}"]}
status 404

=== one port twice
POST /VlanGroup
body {"name": "${G1}", "ethernetPortIds": ["${P11}", "${P11}"]}
status 400
expect message ~twice

=== a bad MTU
POST /VlanGroup
body {"name": "${G1}", "mtu": 70000}
status 400
expect message ~mtu

=== a VLAN group of sim-1's and sim-3's eth1
POST /VlanGroup
body {"name": "${G1}", "description": "two servers", "ethernetPortIds": ["${P11}", {"value": "${P31}"}]}
status 200
expect name "Create VLAN Group: ${G1}"
capture J10 id.value

=== the group is made
GET /Job/${J10}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.type com.oracle.ovm.mgr.ws.model.VlanGroup
capture VG1 resultId.value

=== the group lists its ports
GET /VlanGroup/${VG1}
auth ro
status 200
expect name ${G1}
expect description two servers
expect mtu 1500
expect-count ethernetPortIds 2
expect vlanSegmentIds []

=== the ports name their group
GET /EthernetPort/${P31}
auth ro
status 200
expect vlanGroupId.value ${VG1}

=== the group's ports as a child collection
GET /VlanGroup/${VG1}/EthernetPort
auth ro
status 200
expect-count 2

=== its creation is an event
GET /Event?object=${VG1}&limit=100
auth ro
status 200
expect-body vlangroup.created

=== a port in one VLAN group cannot join another
POST /VlanGroup
body {"name": "other-${RAND}", "ethernetPortIds": ["${P11}"]}
status 409
expect message ~is in VLAN group '${G1}'

=== nor be bonded
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": ["${P11}", "${P10}"]}
status 409
expect message ~is in VLAN group '${G1}'

=== nor join a network
POST /Network
body {"name": "net-${RAND}", "roles": ["STORAGE"], "ethernetPortIds": ["${P11}"]}
status 409
expect message ~VLAN group

=== edit the group
PUT /VlanGroup/${VG1}
body {"name": "${G1}-b", "description": "edited", "mtu": 9000, "ethernetPortIds": [], "vlanSegmentIds": []}
status 200
capture J11 id.value

=== the edit succeeds
GET /Job/${J11}?wait=30
status 200
expect jobRunState SUCCESS

=== the group is edited (its ports stay: they have calls of their own)
GET /VlanGroup/${VG1}
auth ro
status 200
expect name ${G1}-b
expect description edited
expect mtu 9000
expect-count ethernetPortIds 2
capture GENG generation

=== a stale generation
PUT /VlanGroup/${VG1}
body {"generation": 0, "mtu": 1500}
status 409
expect message ~generation

=== a bad MTU
PUT /VlanGroup/${VG1}
body {"mtu": 100}
status 400

=== an unknown group
PUT /VlanGroup/0004fb00003600000000000000000000
body {"mtu": 1500}
status 404

# ---- VLAN segments -------------------------------------------------------------

=== a segment needs a vlanId
POST /VlanGroup/${VG1}/VlanSegment
body {"name": "no-id"}
status 400
expect message ~vlanId

=== VLAN 0 does not exist
POST /VlanGroup/${VG1}/VlanSegment
body {"vlanId": 0}
status 400
expect message ~1..4094

=== nor VLAN 4095
POST /VlanGroup/${VG1}/VlanSegment
body {"vlanId": 4095}
status 400
expect message ~1..4094

=== a vlanId that is no number
POST /VlanGroup/${VG1}/VlanSegment
body {"vlanId": "7"}
status 400

=== tagged must be a boolean
POST /VlanGroup/${VG1}/VlanSegment
body {"vlanId": 7, "tagged": "yes"}
status 400

=== a segment of an unknown group
POST /VlanGroup/0004fb00003600000000000000000000/VlanSegment
body {"vlanId": 7}
status 404

=== an untagged segment, VLAN 1
POST /VlanGroup/${VG1}/VlanSegment
body {"vlanId": 1, "tagged": false, "name": "native-${RAND}"}
status 200
capture J12 id.value

=== it is made (no VLAN interface: the ports carry it untagged)
GET /Job/${J12}?wait=30
status 200
expect jobRunState SUCCESS
capture SEG1 resultId.value

=== the untagged segment
GET /VlanSegment/${SEG1}
auth ro
status 200
expect name native-${RAND}
expect vlanId 1
expect tagged false
expect vlanGroupId.value ${VG1}
expect vlanInterfaceIds []
expect networkIds []

=== a second untagged segment
POST /VlanGroup/${VG1}/VlanSegment
body {"vlanId": 2, "tagged": false}
status 409
expect message ~already has an untagged segment ('native-${RAND}')

=== VLAN 1 again, tagged
POST /VlanGroup/${VG1}/VlanSegment
body {"vlanId": 1}
status 409
expect message ~already has VLAN 1

=== a tagged segment, VLAN 4094
POST /VlanGroup/${VG1}/VlanSegment
body {"vlanId": 4094, "description": "the last VLAN"}
status 200
expect name "Create VLAN Segment: VLAN 4094 in ${G1}-b"
capture J13 id.value

=== it is made, with its VLAN interfaces on both servers
GET /Job/${J13}?wait=30
status 200
expect jobRunState SUCCESS
capture SEG2 resultId.value

=== the tagged segment has one VLAN interface per port of the group
GET /VlanSegment/${SEG2}
auth ro
status 200
expect name VLAN 4094
expect description the last VLAN
expect tagged true
expect-count vlanInterfaceIds 2

=== sim-1's eth1 has its VLAN interface
GET /EthernetPort/${P11}
auth ro
status 200
expect-count vlanInterfaceIds 1
capture VIF1 vlanInterfaceIds[0].value

=== the VLAN interface on sim-1
GET /VlanInterface/${VIF1}
auth ro
status 200
expect name eth1.4094 on sim-1
expect interfaceName eth1.4094
expect vlanId 4094
expect ethernetPortId.value ${P11}
expect vlanSegmentId.value ${SEG2}
expect networkId null
expect addressType NONE

=== sim-1 has the VLAN device
GET ${NODE}/sim-1.xml
schema none
status 200
expect text ~type="vlan" name="eth1.4094"

=== and so has sim-3
GET ${NODE}/sim-3.xml
schema none
status 200
expect text ~type="vlan" name="eth1.4094"

=== VLAN 4094 again
POST /VlanGroup/${VG1}/VlanSegment
body {"vlanId": 4094, "tagged": false}
status 409
expect message ~already has VLAN 4094

=== the segments of the group
GET /VlanGroup/${VG1}/VlanSegment
auth ro
status 200
expect-count 2

# ---- VLAN interfaces ---------------------------------------------------------

=== a static address for the VLAN interface
PUT /VlanInterface/${VIF1}
body {"addressType": "STATIC", "ipAddress": "198.51.100.5", "netmask": "255.255.255.0", "gateway": "198.51.100.1"}
status 200
expect name "Edit VLAN Interface: eth1.4094 on sim-1"
capture J14 id.value

=== the edit succeeds
GET /Job/${J14}?wait=30
status 200
expect jobRunState SUCCESS

=== the VLAN interface has it
GET /VlanInterface/${VIF1}
auth ro
status 200
expect addressType STATIC
expect ipAddress 198.51.100.5
expect netmask 255.255.255.0
expect gateway 198.51.100.1

=== its edit is an event
GET /Event?object=${VIF1}&limit=100
auth ro
status 200
expect-body vlaninterface.updated

=== a port cannot take the VLAN interface's address
PUT /EthernetPort/${P10}
body {"addressType": "STATIC", "ipAddress": "198.51.100.5", "netmask": "255.255.0.0"}
status 409
expect message ~already used by VLAN interface 'eth1.4094 on sim-1'

=== a bad netmask for a VLAN interface
PUT /VlanInterface/${VIF1}
body {"netmask": "255.255.255.1"}
status 400
expect message ~contiguous

=== a VLAN interface keeps its name
PUT /VlanInterface/${VIF1}
body {"interfaceName": "eth1.7"}
status 400

=== a stale generation
PUT /VlanInterface/${VIF1}
body {"generation": 0, "addressType": "NONE"}
status 409

=== an unknown VLAN interface
PUT /VlanInterface/0004fb00003800000000000000000000
body {"addressType": "NONE"}
status 404

# ---- ports in and out ----------------------------------------------------------

=== the management port cannot join the group
PUT /VlanGroup/${VG1}/addEthernetPort
body {"value": "${P10}"}
status 409
expect message ~is in network

=== nor a port of a server this Manager does not own
PUT /VlanGroup/${VG1}/addEthernetPort
body "${P21}"
status 409
expect message ~does not own

=== a port already in the group
PUT /VlanGroup/${VG1}/addEthernetPort
body "${P11}"
status 409
expect message ~already in VLAN group

=== the body must name a port
PUT /VlanGroup/${VG1}/addEthernetPort
body {}
status 400

=== an unknown port
PUT /VlanGroup/${VG1}/addEthernetPort
body "${NOPORT}"
status 404

=== take sim-3's eth1 out of the group
PUT /VlanGroup/${VG1}/removeEthernetPort
body {"value": "${P31}"}
status 200
capture J15 id.value

=== out
GET /Job/${J15}?wait=30
status 200
expect jobRunState SUCCESS

=== sim-3's eth1 is free, without VLAN interfaces
GET /EthernetPort/${P31}
auth ro
status 200
expect vlanGroupId null
expect vlanInterfaceIds []

=== the segment has one VLAN interface left
GET /VlanSegment/${SEG2}
auth ro
status 200
expect-count vlanInterfaceIds 1

=== sim-3 no longer has the VLAN device
GET ${NODE}/sim-3.xml
schema none
status 200
expect-not text ~name="eth1.4094"

=== the removal is an event of the group
GET /Event?object=${VG1}&limit=100
auth ro
status 200
expect-body vlangroup.port_removed

=== a port that is not in the group
PUT /VlanGroup/${VG1}/removeEthernetPort
body "${P31}"
status 409
expect message ~is not in VLAN group

=== put it back
PUT /VlanGroup/${VG1}/addEthernetPort
body "${P31}"
status 200
capture J16 id.value

=== in again
GET /Job/${J16}?wait=30
status 200
expect jobRunState SUCCESS

=== it has its VLAN interface again
GET /EthernetPort/${P31}
auth ro
status 200
expect vlanGroupId.value ${VG1}
expect-count vlanInterfaceIds 1

=== on sim-3 too
GET ${NODE}/sim-3.xml
schema none
status 200
expect text ~type="vlan" name="eth1.4094"

=== the addition is an event
GET /Event?object=${VG1}&limit=100
auth ro
status 200
expect-body vlangroup.port_added

# ---- a network on the segments -------------------------------------------------

=== a network on the untagged segment
POST /Network
body {"name": "vlan-net-${RAND}", "roles": ["VIRTUAL_MACHINE"], "vlanSegmentId": "${SEG1}"}
status 200
capture J20 id.value

=== the network is made
GET /Job/${J20}?wait=30
status 200
expect jobRunState SUCCESS
capture NET1 resultId.value

=== a segment used by a network cannot be deleted
DELETE /VlanSegment/${SEG1}
status 409
expect message ~is used by network 'vlan-net-${RAND}'

=== nor its group
DELETE /VlanGroup/${VG1}
status 409
expect message ~used by network 'vlan-net-${RAND}'

=== nor can a port leave the group: the network uses it untagged
PUT /VlanGroup/${VG1}/removeEthernetPort
body "${P31}"
status 409
expect message ~network 'vlan-net-${RAND}' uses it through untagged VLAN segment

=== the network lets go of the segment
DELETE /Network/${NET1}
status 200
capture J21 id.value

=== the network is deleted
GET /Job/${J21}?wait=30
status 200
expect jobRunState SUCCESS

=== a network on the tagged segment
POST /Network
body {"name": "vlan-net2-${RAND}", "roles": ["VIRTUAL_MACHINE"], "vlanSegmentId": "${SEG2}"}
status 200
capture J22 id.value

=== that network is made
GET /Job/${J22}?wait=30
status 200
expect jobRunState SUCCESS
capture NET2 resultId.value

=== a port carrying it through a VLAN interface cannot leave the group
PUT /VlanGroup/${VG1}/removeEthernetPort
body "${P11}"
status 409
expect message ~uses it through the VLAN interface of VLAN segment 'VLAN 4094'

=== nor can a port join the group while a network uses its segment
PUT /VlanGroup/${VG1}/addEthernetPort
body "${P12}"
status 409
expect message ~its VLAN segment 'VLAN 4094' is used by network 'vlan-net2-${RAND}'

=== the tagged segment cannot be deleted
DELETE /VlanSegment/${SEG2}
status 409
expect message ~vlan-net2-${RAND}

=== delete that network too
DELETE /Network/${NET2}
status 200
capture J23 id.value

=== deleted
GET /Job/${J23}?wait=30
status 200
expect jobRunState SUCCESS

# ---- deletes -------------------------------------------------------------------

=== a read-only user cannot delete a segment
DELETE /VlanSegment/${SEG2}
auth ro
status 403

=== delete the tagged segment
DELETE /VlanSegment/${SEG2}
status 200
capture J24 id.value

=== the segment goes
GET /Job/${J24}?wait=30
status 200
expect jobRunState SUCCESS

=== with its VLAN interfaces
GET /VlanInterface/${VIF1}
auth ro
status 404

=== the ports have none left
GET /EthernetPort/${P11}
auth ro
status 200
expect vlanInterfaceIds []

=== and neither has sim-1
GET ${NODE}/sim-1.xml
schema none
status 200
expect-not text ~name="eth1.4094"

=== the delete is an event
GET /Event?object=${SEG2}&limit=100
auth ro
status 200
expect-body vlansegment.deleted

=== an unknown segment
DELETE /VlanSegment/${SEG2}
status 404

=== a second tagged segment, VLAN 100
POST /VlanGroup/${VG1}/VlanSegment
body {"vlanId": 100}
status 200
capture J25 id.value

=== made
GET /Job/${J25}?wait=30
status 200
expect jobRunState SUCCESS
capture SEG3 resultId.value

=== its VLAN interfaces
GET /VlanSegment/${SEG3}
auth ro
status 200
expect-count vlanInterfaceIds 2
capture VIF3 vlanInterfaceIds[0].value

=== delete the group with its segments
DELETE /VlanGroup/${VG1}
status 200
expect name "Delete VLAN Group: ${G1}-b"
capture J26 id.value

=== the group goes
GET /Job/${J26}?wait=30
status 200
expect jobRunState SUCCESS

=== the group is gone
GET /VlanGroup/${VG1}
auth ro
status 404

=== its segments
GET /VlanSegment/${SEG1}
auth ro
status 404

=== and VLAN interfaces
GET /VlanInterface/${VIF3}
auth ro
status 404

=== off the hosts too
GET ${NODE}/sim-3.xml
schema none
status 200
expect-not text ~name="eth1.100"

=== the ports are free again
GET /EthernetPort/${P11}
auth ro
status 200
expect vlanGroupId null
expect vlanInterfaceIds []

=== sim-3's too
GET /EthernetPort/${P31}
auth ro
status 200
expect vlanGroupId null

=== deleting it twice
DELETE /VlanGroup/${VG1}
status 404

# ---- bonds -------------------------------------------------------------------
#
# A bond needs two free physical ports of one server: the simulated hosts'
# eth2 and eth3.

=== sim-1's eth2 and eth3
GET /Server/${S1}/EthernetPort
auth ro
status 200
expect-count 4
expect [2].interfaceName eth2
expect [3].interfaceName eth3
expect [2].networkId null
expect [3].networkId null
capture P12 [2].id.value
capture P13 [3].id.value
capture MAC12 [2].macAddress

=== bond eth2 and eth3 of sim-1 (interfaceName bond0, name 'bond0 on sim-1', mtu 1500 by default)
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": ["${P12}", {"value": "${P13}"}], "addressType": "STATIC", "ipAddress": "203.0.113.7", "netmask": "255.255.255.0", "gateway": "203.0.113.1"}
status 200
expect name "Create Bond: bond0 on sim-1"
capture J30 id.value

=== the bond is made
GET /Job/${J30}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.type com.oracle.ovm.mgr.ws.model.EthernetPort
expect resultId.name bond0 on sim-1
capture BOND resultId.value

=== the bond
GET /EthernetPort/${BOND}
auth ro
status 200
expect name bond0 on sim-1
expect interfaceName bond0
expect portType BOND
expect bondMode ACTIVE_PASSIVE
expect macAddress ${MAC12}
expect mtu 1500
expect serverId.value ${S1}
expect networkId null
expect addressType STATIC
expect ipAddress 203.0.113.7
expect-count physicalPortIds 2

=== its ports name it
GET /EthernetPort/${P13}
auth ro
status 200
expect bondPortId.value ${BOND}

=== sim-1 has the bond
GET ${NODE}/sim-1.xml
schema none
status 200
expect text ~type="bond" name="bond0"

=== the bond's creation is an event
GET /Event?object=${BOND}&limit=100
auth ro
status 200
expect-body ethernetport.created

=== a second bond0
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "interfaceName": "bond0", "ethernetPortIds": ["${P12}", "${P13}"]}
status 409
expect message ~already has an interface 'bond0'

=== a bonded port in another bond
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": ["${P11}", "${P12}"]}
status 409
expect message ~is a member of bond 'bond0 on sim-1'

=== a bond of a bond
POST /Server/${S1}/BondPort
body {"bondMode": "ACTIVE_PASSIVE", "ethernetPortIds": ["${BOND}", "${P11}"]}
status 409
expect message ~is a bond

=== a bonded port cannot join a VLAN group
POST /VlanGroup
body {"name": "bonded-${RAND}", "ethernetPortIds": ["${P12}"]}
status 409
expect message ~member of bond

=== the bond's address is taken
PUT /EthernetPort/${P11}
body {"addressType": "STATIC", "ipAddress": "203.0.113.7", "netmask": "255.255.255.0"}
status 409
expect message ~already used by port 'bond0 on sim-1'

=== another bond mode (the bond is defined again on sim-1)
PUT /EthernetPort/${BOND}
body {"bondMode": "LOAD_BALANCED", "mtu": 9000}
status 200
expect name "Edit Bond: bond0 on sim-1"
capture J31 id.value

=== the mode changes
GET /Job/${J31}?wait=30
status 200
expect jobRunState SUCCESS

=== the bond balances now
GET /EthernetPort/${BOND}
auth ro
status 200
expect bondMode LOAD_BALANCED
expect mtu 9000

=== other ports: eth1 and eth2
PUT /EthernetPort/${BOND}
body {"physicalPortIds": ["${P11}", "${P12}"]}
status 200
capture J32 id.value

=== the ports change
GET /Job/${J32}?wait=30
status 200
expect jobRunState SUCCESS

=== eth3 is free, eth1 bonded
GET /EthernetPort/${P13}
auth ro
status 200
expect bondPortId null

=== eth1 is in the bond
GET /EthernetPort/${P11}
auth ro
status 200
expect bondPortId.value ${BOND}

=== a bond of one port
PUT /EthernetPort/${BOND}
body {"physicalPortIds": ["${P12}"]}
status 400
expect message ~exactly two ports

=== a bond mode that does not exist
PUT /EthernetPort/${BOND}
body {"bondMode": "XOR"}
status 400

=== back to eth2 and eth3
PUT /EthernetPort/${BOND}
body {"physicalPortIds": ["${P12}", "${P13}"], "bondMode": "LINK_AGGREGATION"}
status 200
capture J33 id.value

=== back
GET /Job/${J33}?wait=30
status 200
expect jobRunState SUCCESS

=== the bond in a VLAN group
POST /VlanGroup
body {"name": "bonds-${RAND}", "ethernetPortIds": ["${BOND}"]}
status 200
capture J34 id.value

=== in the group
GET /Job/${J34}?wait=30
status 200
expect jobRunState SUCCESS
capture VG2 resultId.value

=== a tagged segment over the bond
POST /VlanGroup/${VG2}/VlanSegment
body {"vlanId": 7}
status 200
capture J35 id.value

=== made over the bond
GET /Job/${J35}?wait=30
status 200
expect jobRunState SUCCESS

=== the bond's VLAN interface
GET /EthernetPort/${BOND}
auth ro
status 200
expect-count vlanInterfaceIds 1
capture VIFB vlanInterfaceIds[0].value

=== bond0.7
GET /VlanInterface/${VIFB}
auth ro
status 200
expect interfaceName bond0.7

=== a bond in a VLAN group keeps its mode
PUT /EthernetPort/${BOND}
body {"bondMode": "ACTIVE_PASSIVE"}
status 409
expect message ~remove it from VLAN group 'bonds-${RAND}' first

=== and cannot be deleted
DELETE /EthernetPort/${BOND}
status 409
expect message ~is in VLAN group

=== its name and address may change (rows only)
PUT /EthernetPort/${BOND}
body {"name": "uplink0-${RAND}", "addressType": "DHCP"}
status 200
capture J36 id.value

=== renamed
GET /Job/${J36}?wait=30
status 200
expect jobRunState SUCCESS

=== the group goes (with bond0.7)
DELETE /VlanGroup/${VG2}
status 200
capture J37 id.value

=== gone
GET /Job/${J37}?wait=30
status 200
expect jobRunState SUCCESS

=== sim-1 has no bond0.7
GET ${NODE}/sim-1.xml
schema none
status 200
expect-not text ~name="bond0.7"

=== the bond on a network
POST /Network
body {"name": "bond-net-${RAND}", "roles": ["STORAGE"], "ethernetPortIds": ["${BOND}"]}
status 200
capture J38 id.value

=== on it
GET /Job/${J38}?wait=30
status 200
expect jobRunState SUCCESS
capture NET3 resultId.value

=== a bond on a network keeps its ports
PUT /EthernetPort/${BOND}
body {"physicalPortIds": ["${P11}", "${P12}"]}
status 409
expect message ~remove it from network 'bond-net-${RAND}' first

=== and cannot be deleted
DELETE /EthernetPort/${BOND}
status 409
expect message ~is in network 'bond-net-${RAND}'

=== the network goes
DELETE /Network/${NET3}
status 200
capture J39 id.value

=== gone too
GET /Job/${J39}?wait=30
status 200
expect jobRunState SUCCESS

=== an operator cannot delete a bond
DELETE /EthernetPort/${BOND}
auth op
status 403

=== delete the bond
DELETE /EthernetPort/${BOND}
status 200
expect name "Delete Bond: uplink0-${RAND}"
capture J40 id.value

=== the bond goes
GET /Job/${J40}?wait=30
status 200
expect jobRunState SUCCESS

=== it is gone
GET /EthernetPort/${BOND}
auth ro
status 404

=== its ports are free
GET /EthernetPort/${P12}
auth ro
status 200
expect bondPortId null

=== off sim-1 too
GET ${NODE}/sim-1.xml
schema none
status 200
expect-not text ~name="bond0"

=== the delete is an event
GET /Event?object=${BOND}&limit=100
auth ro
status 200
expect-body ethernetport.deleted

=== a named bond, bond12, on sim-3
GET /Server/${S3}/EthernetPort
auth ro
status 200
capture P32 [2].id.value
capture P33 [3].id.value

=== bond12 of sim-3's eth2 and eth3
POST /Server/${S3}/BondPort
body {"bondMode": "LINK_AGGREGATION", "interfaceName": "bond12", "name": "uplink-${RAND}", "mtu": 9000, "ethernetPortIds": ["${P33}", "${P32}"]}
status 200
capture J41 id.value

=== made
GET /Job/${J41}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.name uplink-${RAND}
capture BOND2 resultId.value

=== bond12
GET /EthernetPort/${BOND2}
auth ro
status 200
expect interfaceName bond12
expect mtu 9000
expect addressType NONE

=== delete bond12
DELETE /EthernetPort/${BOND2}
status 200
capture J42 id.value

=== bond12 goes
GET /Job/${J42}?wait=30
status 200
expect jobRunState SUCCESS
