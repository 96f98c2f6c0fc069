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
