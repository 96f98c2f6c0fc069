/*
 * network.h - networks, ports, bonds, VLAN groups, VNICs and MAC ranges
 * (issue 6; docs/NETWORKS.md): the rules shared by the handlers
 * (src/api/api_network.c, api_netport.c, api_vnic.c) and the operations
 * (src/jobs/op_network.c, op_netport.c, op_vnic.c), which check them
 * again inside their transactions, as storage.h does for storage.
 *
 * Every rule reads through a struct storage_view (jobs/storage.h: the
 * reader, or a job's write transaction) and returns 0, or -1 with
 * err_set(): ERR_NOT_FOUND (404), ERR_INVALID (400), ERR_STATE or
 * ERR_EXISTS (409).
 */
#ifndef OVMM_NETWORK_H
#define OVMM_NETWORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jobs/storage.h"
#include "util/json.h"

/* ---- shared (op_network.c) ---- */

/* The five roles, and whether @role is one. */
bool net_role_valid(const char *role);
/* True when network row @n has role @role (its `roles` JSON text). */
bool net_has_role(json_object *n, const char *role);
/* States in which a VM occupies a server (RUNNING, SUSPENDED, STARTING,
 * STOPPING). */
bool net_vm_active(const char *run_state);

/* ---- networks (op_network.c) ---- */

/* @a (a JSON array) checked as roles (400: not a role, twice) and its
 * canonical JSON text in *text (caller frees). */
int net_roles_check(json_object *a, char **text);
/*
 * Network @want (a networks row as it is or would be: id, name, roles
 * (JSON text), server_local, server_id, vlan_segment_id, and for a new
 * one "ports": an array of port ids) satisfies the network rules:
 * MANAGEMENT only on and kept by the management network; an intra-server
 * network has a server this Manager owns and the VIRTUAL_MACHINE role
 * only; its ports are free (in no other network, bond or VLAN group, on
 * owned servers) and its segment is used by no other network; a server
 * reaches it through one device; one CLUSTER_HEARTBEAT and one
 * LIVE_MIGRATE network per server; no running VM on it when it loses
 * VIRTUAL_MACHINE.
 */
int net_check_network(const struct storage_view *v, json_object *want,
                      const char *mgr);
/* The @want of a network.create's arguments @args (id, name, roles,
 * ports, segment, serverLocal, serverId). Caller puts it. */
json_object *net_want_new(json_object *args);
/* Port or VLAN segment @ref (@kind "EthernetPort" / "VlanSegment") may be
 * added to (@add) or removed from network @net_id: as above, plus: a
 * management port stays; no running VM on that server (port) or on the
 * network (segment) uses it when removed. */
int net_check_member(const struct storage_view *v, const char *net_id,
                     const char *kind, const char *ref, bool add,
                     const char *mgr);
/* Network @net_id may be deleted: no server port on the management
 * network; no running VM with a VNIC on it. */
int net_check_delete(const struct storage_view *v, const char *net_id);

/* The bridge name of network @id on its servers: "vb" + the last 10 hex
 * digits of the id (15 characters at most). Caller frees. */
char *net_bridge_name(const char *network_id);

/* ---- ports, bonds, VLAN groups (op_netport.c) ---- */

/*
 * An IP configuration checked: @type NONE, DHCP or STATIC (NULL: NONE);
 * STATIC needs @addr and @mask (IPv4 dotted quads, a contiguous mask,
 * @addr neither the subnet's network nor broadcast address) and takes
 * an optional @gw inside the subnet; NONE and DHCP take none of them.
 * ERR_INVALID naming @what ("port 'eth1'"). Canonical forms are written
 * to @out_* (16 bytes each; "" when absent).
 */
int net_ipconf_check(const char *what, const char *type, const char *addr,
                     const char *mask, const char *gw, char *out_addr,
                     char *out_mask, char *out_gw);

/* The MTU range of bonds, ports and VLAN groups. */
#define NET_PORT_MTU_MIN 1500
#define NET_PORT_MTU_MAX 64000

/* Whether @mode is a bond mode: ACTIVE_PASSIVE, LINK_AGGREGATION,
 * LOAD_BALANCED. */
bool net_bond_mode_valid(const char *mode);
/* The lowest "bondN" (N from 0) no port or bond of server @server has,
 * into @out. ERR_STATE when bond0..bond999 are all taken. */
int net_bond_name_next(const struct storage_view *v, const char *server,
                       char *out, size_t size);

/*
 * The rules of the operations of op_netport.c, given their arguments
 * @args exactly as the handler builds them (op_netport.c's header lists
 * them; IP configurations already canonical), so the handler's refusal
 * and the job's FAILURE agree. @mgr: this Manager's uuid. Each rule
 * checks its 400s first, then what is named (404), then the state (409);
 * one that needs a host step also needs the hv driver's host networking
 * (ERR_UNSUPPORTED) and a RUNNING server (ERR_STATE).
 */
/* ethernetport.bond_create: bondMode, interfaceName bond[0-9]{1,3} free
 * on the server, mtu, the server owned and RUNNING, two distinct
 * PHYSICAL ports of it in no network, bond or VLAN group, a STATIC
 * address no other port or VLAN interface has (ERR_EXISTS). */
int net_check_bond_create(const struct storage_view *v, json_object *args,
                          const char *mgr);
/* ethernetport.update: mtu, IP configuration; bondMode and ports only
 * for a bond; a change of either needs the bond in no network or VLAN
 * group (a bond on the management network never changes its mode), its
 * server owned and RUNNING, and new ports as for a new bond. */
int net_check_port_update(const struct storage_view *v, json_object *args,
                          const char *mgr);
/* ethernetport.delete: a BOND (physical ports come with discovery), in
 * no network or VLAN group. */
int net_check_port_delete(const struct storage_view *v, const char *id);
/* vlangroup.create: name, mtu, ports (bonds too) of owned servers in no
 * network, bond or VLAN group. */
int net_check_vlangroup_create(const struct storage_view *v,
                               json_object *args, const char *mgr);
/* vlangroup.update: the group exists, mtu. */
int net_check_vlangroup_update(const struct storage_view *v,
                               json_object *args);
/* vlangroup.port: port @port into (@add) or out of group @group. In: free
 * as above, no segment of the group used by a network, a RUNNING server
 * when the group has tagged segments. Out: in the group, no network
 * using the port through a segment of the group. */
int net_check_vlangroup_port(const struct storage_view *v, const char *group,
                             const char *port, bool add, const char *mgr);
/* vlangroup.delete: no segment of the group used by a network. */
int net_check_vlangroup_delete(const struct storage_view *v, const char *id);
/* vlansegment.create: vlanId 1..4094 unique in the group, one untagged
 * segment per group, tagged: every port's server RUNNING. */
int net_check_vlansegment_create(const struct storage_view *v,
                                 json_object *args);
/* vlansegment.delete: used by no network. */
int net_check_vlansegment_delete(const struct storage_view *v,
                                 const char *id);
/* vlaninterface.update: the IP configuration, as for ports. */
int net_check_vlaninterface_update(const struct storage_view *v,
                                   json_object *args);

/* ---- VNICs and MAC ranges (op_vnic.c) ---- */

/* "xx:xx:xx:xx:xx:xx" (any case, ':' or '-') as a 48-bit value. 0, or -1
 * (ERR_INVALID naming @what). */
int net_mac_parse(const char *what, const char *text, uint64_t *out);
/* @mac as "xx:xx:xx:xx:xx:xx" (lower case) into @out (18 bytes). */
void net_mac_format(uint64_t mac, char *out);
/* @mac may be a VNIC's or a range's address: unicast (the low bit of the
 * first octet clear) and not 00:00:00:00:00:00. ERR_INVALID naming
 * @what. */
int net_mac_check_unicast(const char *what, uint64_t mac);
/* The most VNICs a VM of @domain_type may have: 31 for XEN_PVM, 8 for
 * the others (XEN_HVM, XEN_HVM_PV_DRIVERS, KVM). */
int net_vnic_limit(const char *domain_type);
/*
 * MAC range @start - @end for range @id (NULL: a new range): both ends
 * unicast, @start <= @end, one first octet for both (so every address
 * between is unicast) -- ERR_INVALID --, and no address shared with
 * another range (ERR_EXISTS naming it).
 */
int net_check_macrange(const struct storage_view *v, const char *id,
                       uint64_t start, uint64_t end);
/* Network @id may carry VNICs: it exists (ERR_NOT_FOUND) and has the
 * VIRTUAL_MACHINE role (ERR_STATE). */
int net_check_vnic_network(const struct storage_view *v, const char *id);
/*
 * A VNIC may be added to VM @vm_id on network @network_id: the VM exists
 * (ERR_NOT_FOUND), is not SUSPENDED and has fewer VNICs than its limit
 * (ERR_STATE), the network qualifies (net_check_vnic_network()), and an
 * explicit address (@has_mac) is used by no VNIC (ERR_EXISTS naming it).
 * Without one, see net_mac_alloc().
 */
int net_check_vnic_add(const struct storage_view *v, const char *vm_id,
                       const char *network_id, bool has_mac, uint64_t mac);
/* VNIC @id may be removed from its VM: it exists (ERR_NOT_FOUND) and its
 * VM is not SUSPENDED (ERR_STATE). */
int net_check_vnic_remove(const struct storage_view *v, const char *id);
/*
 * The lowest address of the MAC ranges (by start) no VNIC has, into
 * *mac; through a job's transaction it is the VNIC's for good. ERR_STATE
 * "no free MAC address in the MAC ranges (...)" when all are taken or
 * there is no range.
 */
int net_mac_alloc(const struct storage_view *v, uint64_t *mac);

#endif
