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

/* ---- VNICs and MAC ranges (op_vnic.c) ---- */

/* "xx:xx:xx:xx:xx:xx" (any case, ':' or '-') as a 48-bit value. 0, or -1
 * (ERR_INVALID naming @what). */
int net_mac_parse(const char *what, const char *text, uint64_t *out);
/* @mac as "xx:xx:xx:xx:xx:xx" (lower case) into @out (18 bytes). */
void net_mac_format(uint64_t mac, char *out);

#endif
