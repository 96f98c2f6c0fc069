# MAC ranges and VNICs (issue 6; docs/NETWORKS.md, "VNICs and MAC
# ranges"): the default range, a range created, edited and deleted, every
# 400 and 409 of a range, permissions; the VNIC routes' refusals before
# any job (404, 400, 403). VMs cannot be made through the API yet and the
# templates of 85-imports.t are gone by now, so VNICs that are actually
# made -- allocation, limits, SUSPENDED VMs, 50 at once, exhaustion -- are
# tests/api/vnic.sh, which writes VMs into its own daemon's inventory.
# The file removes what it made.

set NOVM 0004fb0000060000ffffffffffffffff
set NONIC 0004fb0000070000ffffffffffffffff
set NORANGE 0004fb0000a10000ffffffffffffffff

# ---- the default range ---------------------------------------------------------------

=== the default range is there for everyone to read
GET /MacRange
auth ro
status 200
expect-count 1
expect [0].name Default
expect [0].startMacAddress 02:21:f6:00:00:00
expect [0].endMacAddress 02:21:f6:ff:ff:ff
capture DEF [0].id.value

=== one range by id
GET /MacRange/${DEF}
auth ro
status 200
expect id.type com.oracle.ovm.mgr.ws.model.MacRange
expect description "locally administered addresses of this Manager"

=== an unknown range
GET /MacRange/${NORANGE}
status 404

# ---- refusals --------------------------------------------------------------------------

=== read-only users cannot make ranges
POST /MacRange
auth ro
body {"name": "r-${RAND}", "startMacAddress": "0a:00:00:00:00:00", "endMacAddress": "0a:00:00:00:00:ff"}
status 403

=== operators cannot either
POST /MacRange
auth op
body {"name": "r-${RAND}", "startMacAddress": "0a:00:00:00:00:00", "endMacAddress": "0a:00:00:00:00:ff"}
status 403

=== a range needs a name
POST /MacRange
body {"startMacAddress": "0a:00:00:00:00:00", "endMacAddress": "0a:00:00:00:00:ff"}
status 400
expect message ~needs a 'name'

=== a range needs both ends
POST /MacRange
body {"name": "r-${RAND}", "endMacAddress": "0a:00:00:00:00:ff"}
status 400
expect message ~needs 'startMacAddress' and 'endMacAddress'

=== five octets are no MAC address
POST /MacRange
body {"name": "r-${RAND}", "startMacAddress": "0a:00:00:00:00", "endMacAddress": "0a:00:00:00:00:ff"}
status 400
expect message ~'startMacAddress' is not a MAC address

=== mixed separators are refused
POST /MacRange
body {"name": "r-${RAND}", "startMacAddress": "0a:00:00:00:00:00", "endMacAddress": "0a-00-00:00-00-ff"}
status 400
expect message ~'endMacAddress' is not a MAC address

=== a multicast range
POST /MacRange
body {"name": "r-${RAND}", "startMacAddress": "01:00:5e:00:00:00", "endMacAddress": "01:00:5e:00:00:ff"}
status 400
expect message ~multicast

=== start after end
POST /MacRange
body {"name": "r-${RAND}", "startMacAddress": "0a:00:00:00:01:00", "endMacAddress": "0a:00:00:00:00:ff"}
status 400
expect message ~comes after

=== a range over two first octets
POST /MacRange
body {"name": "r-${RAND}", "startMacAddress": "0a:ff:ff:ff:ff:00", "endMacAddress": "0c:00:00:00:00:ff"}
status 400
expect message ~more than one first octet

=== a range overlapping the default one
POST /MacRange
body {"name": "r-${RAND}", "startMacAddress": "02:21:f6:ff:ff:00", "endMacAddress": "02:21:f7:00:00:ff"}
status 409
expect errorCode ALREADY_EXISTS
expect message ~overlaps MAC range 'Default'

# ---- create, edit, delete ----------------------------------------------------------------

=== create a range (upper case, '-' separators)
POST /MacRange
body {"name": "r-${RAND}", "description": "lab", "startMacAddress": "0A-00-00-00-00-00", "endMacAddress": "0a-00-00-00-00-FF"}
status 200
expect name "Create MAC Range: r-${RAND}"
capture J1 id.value

=== it is created
GET /Job/${J1}?wait=30
status 200
expect jobRunState SUCCESS
expect resultId.type com.oracle.ovm.mgr.ws.model.MacRange
capture R resultId.value

=== the range, canonical
GET /MacRange/${R}
auth ro
status 200
expect name r-${RAND}
expect description lab
expect startMacAddress 0a:00:00:00:00:00
expect endMacAddress 0a:00:00:00:00:ff
capture GR generation

=== there are two ranges now
GET /MacRange
status 200
expect-count 2

=== its creation is an event
GET /Event?object=${R}
status 200
expect [0].type macrange.created

=== operators cannot edit a range
PUT /MacRange/${R}
auth op
body {"name": "x"}
status 403

=== an edit into the default range
PUT /MacRange/${R}
body {"startMacAddress": "02:21:f6:00:00:00", "endMacAddress": "02:21:f6:00:00:ff"}
status 409
expect message ~overlaps MAC range 'Default'

=== an edit with another id in the body
PUT /MacRange/${R}
body {"id": "${DEF}", "name": "x"}
status 400

=== an edit with a stale generation
PUT /MacRange/${R}
body {"name": "x", "generation": 99}
status 409
expect message ~generation

=== edit the range: name and end
PUT /MacRange/${R}
body {"name": "r2-${RAND}", "endMacAddress": "0a:00:00:00:01:ff", "generation": ${GR}}
status 200
capture J2 id.value

=== it is edited
GET /Job/${J2}?wait=30
status 200
expect jobRunState SUCCESS

=== the edited range
GET /MacRange/${R}
status 200
expect name r2-${RAND}
expect startMacAddress 0a:00:00:00:00:00
expect endMacAddress 0a:00:00:00:01:ff

# ---- VNIC routes: refusals before any job --------------------------------------------------

=== no VNICs yet
GET /VirtualNic
auth ro
status 200
expect-count 0

=== read-only users cannot add VNICs
POST /Vm/${NOVM}/VirtualNic
auth ro
body {"networkId": "x"}
status 403

=== a VNIC of an unknown VM
POST /Vm/${NOVM}/VirtualNic
auth op
body {"networkId": "x"}
status 404

=== read-only users cannot edit VNICs
PUT /VirtualNic/${NONIC}
auth ro
body {"name": "x"}
status 403

=== an unknown VNIC cannot be edited
PUT /VirtualNic/${NONIC}
auth op
body {"name": "x"}
status 404

=== an unknown VNIC cannot be deleted
DELETE /VirtualNic/${NONIC}
auth op
status 404

=== nor through an unknown VM
DELETE /Vm/${NOVM}/VirtualNic/${NONIC}
auth op
status 404

=== read-only users cannot delete VNICs
DELETE /Vm/${NOVM}/VirtualNic/${NONIC}
auth ro
status 403

# ---- delete ------------------------------------------------------------------------------------

=== operators cannot delete a range
DELETE /MacRange/${R}
auth op
status 403

=== delete the range
DELETE /MacRange/${R}
status 200
capture J3 id.value

=== it is deleted
GET /Job/${J3}?wait=30
status 200
expect jobRunState SUCCESS

=== it is gone, the default range stays
GET /MacRange
status 200
expect-count 1
expect [0].name Default
