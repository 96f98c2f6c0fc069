/*
 * op_network.c - networks (issue 6; docs/NETWORKS.md): the shared helpers
 * of network.h, the network rules (net_check_*) and the operations
 * network.create, network.update, network.member (a port or a VLAN
 * segment in or out) and network.delete.
 *
 * DESIGN
 *
 * Members: a network reaches a server through one device there -- one of
 * its ports or bonds (ethernet_ports.network_id), the VLAN interface of
 * its VLAN segment on a port of the segment's group (a tagged segment),
 * the group's port itself (an untagged one), or nothing at all (an
 * intra-server network: its server). A `struct member` is one such
 * (server, device) pair; net_members() lists them for a network row as
 * it is, member_of_port()/members_of_segment() for what is being added.
 * A server takes part through one device only.
 *
 * Rules (docs/NETWORKS.md, "Roles and network types"), checked by the
 * handler and again inside the job's transaction through a storage_view:
 * roles, MANAGEMENT only on the management network and kept there, one
 * CLUSTER_HEARTBEAT and one LIVE_MIGRATE network per server, a port in
 * one network and in no bond or VLAN group, a segment in one network,
 * running VMs with VNICs on a VIRTUAL_MACHINE network keep it (and their
 * server's part of it).
 *
 * Hosts: a network with the VIRTUAL_MACHINE role has the bridge
 * net_bridge_name() on every member server, over the member's device
 * (hv.h, "host networking"). Operations change the hosts first, with no
 * transaction open, then commit; when a server fails, the bridges made
 * on the others are removed again and the job fails naming the server.
 * Removing a bridge from a server that is not running is skipped with a
 * WARNING event (the server keeps a stale bridge; the network goes).
 *
 * Undo data: the storage journal (storage_int.h: created objects, rows
 * as they were) plus host actions {"action": "bridge_define" |
 * "bridge_remove", server, bridge, device, ip...}, run first, newest
 * first (net_undo()).
 *
 * Threads: operations run on job workers; nothing here keeps state.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "db/db.h"
#include "events/events.h"
#include "hv/hv.h"
#include "jobs/jobs_int.h"
#include "jobs/network.h"
#include "jobs/storage.h"
#include "jobs/storage_int.h"
#include "model/model.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"

LOG_MODULE("jobs");

/* ---- shared helpers (network.h) ---- */

static const char *const roles[] = {
    "MANAGEMENT", "LIVE_MIGRATE", "CLUSTER_HEARTBEAT", "VIRTUAL_MACHINE",
    "STORAGE",
};

bool
net_role_valid(const char *role)
{
    size_t i;

    for (i = 0; role && i < sizeof(roles) / sizeof(roles[0]); i++) {
        if (strcmp(roles[i], role) == 0)
            return true;
    }
    return false;
}

/* True when the JSON array text @text holds the string @role. */
static bool
roles_has(const char *text, const char *role)
{
    json_object *a = text ? json_parse(text, strlen(text)) : NULL;
    bool found = false;
    size_t i;

    if (!a) {
        err_clear();
        return false;
    }
    for (i = 0; json_object_is_type(a, json_type_array) &&
                i < json_object_array_length(a) && !found; i++) {
        json_object *e = json_object_array_get_idx(a, i);

        found = json_object_is_type(e, json_type_string) &&
                strcmp(json_object_get_string(e), role) == 0;
    }
    json_object_put(a);
    return found;
}

bool
net_has_role(json_object *n, const char *role)
{
    return roles_has(json_str(n, "roles"), role);
}

bool
net_vm_active(const char *s)
{
    return str_eq(s, "RUNNING") || str_eq(s, "SUSPENDED") ||
           str_eq(s, "STARTING") || str_eq(s, "STOPPING");
}

char *
net_bridge_name(const char *network_id)
{
    size_t n = network_id ? strlen(network_id) : 0;

    return xasprintf("vb%s", n > 10 ? network_id + n - 10 : network_id);
}

int
net_roles_check(json_object *a, char **text)
{
    json_object *out;
    size_t i, k, n;

    *text = NULL;
    if (!a || !json_object_is_type(a, json_type_array)) {
        err_set(ERR_INVALID, "'roles' must be an array of role names "
                             "(MANAGEMENT, LIVE_MIGRATE, CLUSTER_HEARTBEAT, "
                             "VIRTUAL_MACHINE, STORAGE)");
        return -1;
    }
    n = json_object_array_length(a);
    out = json_object_new_array();
    for (i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(a, i);
        const char *r = json_object_is_type(e, json_type_string)
                            ? json_object_get_string(e) : NULL;

        if (!net_role_valid(r)) {
            err_set(ERR_INVALID, "'roles'[%zu] is not a network role "
                                 "(MANAGEMENT, LIVE_MIGRATE, "
                                 "CLUSTER_HEARTBEAT, VIRTUAL_MACHINE, "
                                 "STORAGE)", i);
            json_object_put(out);
            return -1;
        }
        for (k = 0; k < i; k++) {
            if (str_eq(json_object_get_string(json_object_array_get_idx(a, k)),
                       r)) {
                err_set(ERR_INVALID, "'roles' names %s twice", r);
                json_object_put(out);
                return -1;
            }
        }
        json_object_array_add(out, json_object_new_string(r));
    }
    *text = xstrdup(json_object_to_json_string_ext(out,
                                                   JSON_C_TO_STRING_PLAIN));
    json_object_put(out);
    return 0;
}

/* ---- members: how a network reaches its servers ---- */

struct member {
    char *server;          /* server id */
    char *device;          /* interface name there ("" for none) */
    char *port;            /* the EthernetPort (NULL: intra-server) */
    char *vlanif;          /* the VlanInterface (tagged segment), or NULL */
    bool untagged;         /* a port of an untagged segment's group: it
                              stays the group's, no network_id */
};

static void
members_free(struct member *m, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        xfree(m[i].server);
        xfree(m[i].device);
        xfree(m[i].port);
        xfree(m[i].vlanif);
    }
    xfree(m);
}

static void
member_push(struct member **m, size_t *n, const char *server,
            const char *device, const char *port, const char *vlanif)
{
    *m = xrealloc(*m, (*n + 1) * sizeof(**m));
    (*m)[*n].server = xstrdup(server ? server : "");
    (*m)[*n].device = xstrdup(device ? device : "");
    (*m)[*n].port = port ? xstrdup(port) : NULL;
    (*m)[*n].vlanif = vlanif ? xstrdup(vlanif) : NULL;
    (*m)[*n].untagged = false;
    (*n)++;
}

/* The member a port or bond row @p makes. */
static void
member_of_port(json_object *p, struct member **m, size_t *n)
{
    member_push(m, n, json_str(p, "server_id"), json_str(p, "interface_name"),
                json_str(p, "id"), NULL);
}

/* The members VLAN segment @seg makes: its VLAN interfaces (tagged) or
 * the ports of its group (untagged). */
static int
members_of_segment(const struct storage_view *v, const char *seg,
                   struct member **m, size_t *n)
{
    AUTOPTR(json_object) json_object *s = sto_sv_get(v, "VlanSegment", seg);
    char **ids = NULL;
    size_t k, nids = 0;
    bool tagged;

    if (!s)
        return -1;
    tagged = sto_jint(s, "tagged", 1) != 0;
    if (tagged ? sto_sv_ids(v, "VlanInterface", "vlan_segment_id", seg, &ids,
                            &nids) < 0
               : sto_sv_ids(v, "EthernetPort", "vlan_group_id",
                            json_str(s, "vlan_group_id"), &ids, &nids) < 0)
        return -1;
    for (k = 0; k < nids; k++) {
        AUTOPTR(json_object) json_object *r = NULL, *p = NULL;

        if (!(r = sto_sv_get(v, tagged ? "VlanInterface" : "EthernetPort",
                             ids[k])))
            goto fail;
        if (!tagged) {
            member_of_port(r, m, n);
            (*m)[*n - 1].untagged = true;
            continue;
        }
        if (!(p = sto_sv_get(v, "EthernetPort", json_str(r, "ethernet_port_id"))))
            goto fail;
        member_push(m, n, json_str(p, "server_id"),
                    json_str(r, "interface_name"), json_str(p, "id"), ids[k]);
    }
    sto_ids_free(ids, nids);
    return 0;
 fail:
    sto_ids_free(ids, nids);
    return -1;
}

/* Every member of network row @net as it is now. */
static int
net_members(const struct storage_view *v, json_object *net,
            struct member **m, size_t *n)
{
    char **ids = NULL;
    size_t k, nids = 0;

    *m = NULL;
    *n = 0;
    if (sto_jint(net, "server_local", 0)) {
        member_push(m, n, json_str(net, "server_id"), "", NULL, NULL);
        return 0;
    }
    if (sto_sv_ids(v, "EthernetPort", "network_id", json_str(net, "id"), &ids,
                   &nids) < 0)
        return -1;
    for (k = 0; k < nids; k++) {
        AUTOPTR(json_object) json_object *p = sto_sv_get(v, "EthernetPort",
                                                         ids[k]);

        if (!p) {
            sto_ids_free(ids, nids);
            return -1;
        }
        member_of_port(p, m, n);
    }
    sto_ids_free(ids, nids);
    if (json_str(net, "vlan_segment_id") &&
        members_of_segment(v, json_str(net, "vlan_segment_id"), m, n) < 0)
        return -1;
    return 0;
}

/* ---- rules ---- */

/* The networks other than @self that server @server takes part in (by a
 * port, or a VLAN interface or port of their segment). *ids: *n. */
static int
server_networks(const struct storage_view *v, const char *server,
                const char *self, char ***out, size_t *nout)
{
    char **nets = NULL;
    size_t nn = 0, i, k;

    *out = NULL;
    *nout = 0;
    if (sto_sv_ids(v, "Network", NULL, NULL, &nets, &nn) < 0)
        return -1;
    for (i = 0; i < nn; i++) {
        AUTOPTR(json_object) json_object *net = NULL;
        struct member *m = NULL;
        size_t nm = 0;
        bool in = false;

        if (str_eq(nets[i], self))
            continue;
        if (!(net = sto_sv_get(v, "Network", nets[i])) ||
            net_members(v, net, &m, &nm) < 0) {
            members_free(m, nm);
            sto_ids_free(nets, nn);
            sto_ids_free(*out, *nout);
            *out = NULL;
            *nout = 0;
            return -1;
        }
        for (k = 0; k < nm && !in; k++)
            in = str_eq(m[k].server, server);
        members_free(m, nm);
        if (in) {
            *out = xrealloc(*out, (*nout + 1) * sizeof(**out));
            (*out)[(*nout)++] = xstrdup(nets[i]);
        }
    }
    sto_ids_free(nets, nn);
    return 0;
}

/*
 * Server @server may take part in network @self (NULL: a new one) with
 * roles @roles_text: no other network of it has CLUSTER_HEARTBEAT or
 * LIVE_MIGRATE when @roles_text has it.
 */
static int
check_server_roles(const struct storage_view *v, const char *server,
                   const char *self, const char *roles_text)
{
    static const char *const once[] = { "CLUSTER_HEARTBEAT", "LIVE_MIGRATE" };
    char **nets = NULL, sname[256];
    size_t nn = 0, i, k;
    int rc = 0;

    if (!roles_has(roles_text, once[0]) && !roles_has(roles_text, once[1]))
        return 0;
    if (server_networks(v, server, self, &nets, &nn) < 0)
        return -1;
    for (i = 0; i < nn && rc == 0; i++) {
        AUTOPTR(json_object) json_object *o = sto_sv_get(v, "Network", nets[i]);

        if (!o) {
            rc = -1;
            break;
        }
        for (k = 0; k < 2 && rc == 0; k++) {
            if (roles_has(roles_text, once[k]) && net_has_role(o, once[k])) {
                err_set(ERR_STATE, "server '%s' is already in %s network "
                                   "'%s': a server takes part in one %s "
                                   "network only",
                        sto_sv_name(v, "Server", server, sname, sizeof(sname)),
                        once[k], sto_rname(o), once[k]);
                rc = -1;
            }
        }
    }
    sto_ids_free(nets, nn);
    return rc;
}

/* Port or bond @p may join a network: not in another network (@self
 * allowed), no bond member, in no VLAN group; its server owned. */
static int
check_port_free(const struct storage_view *v, json_object *p,
                const char *self, const char *mgr)
{
    AUTOPTR(json_object) json_object *s = sto_sv_get(v, "Server",
                                                     json_str(p, "server_id"));
    char nm[256];

    if (!s)
        return -1;
    if (!str_eq(json_str(s, "manager_uuid"), mgr)) {
        err_set(ERR_STATE, "port '%s': this Manager does not own server "
                           "'%s'", sto_rname(p), sto_rname(s));
        return -1;
    }
    if (json_str(p, "network_id") && !str_eq(json_str(p, "network_id"), self)) {
        err_set(ERR_STATE, "port '%s' is already in network '%s'",
                sto_rname(p), sto_sv_name(v, "Network", json_str(p, "network_id"),
                                          nm, sizeof(nm)));
        return -1;
    }
    if (json_str(p, "bond_port_id")) {
        err_set(ERR_STATE, "port '%s' is a member of bond '%s': use the bond",
                sto_rname(p), sto_sv_name(v, "EthernetPort",
                                          json_str(p, "bond_port_id"), nm,
                                          sizeof(nm)));
        return -1;
    }
    if (json_str(p, "vlan_group_id")) {
        err_set(ERR_STATE, "port '%s' is in VLAN group '%s': use a VLAN "
                           "segment of the group", sto_rname(p),
                sto_sv_name(v, "VlanGroup", json_str(p, "vlan_group_id"), nm,
                            sizeof(nm)));
        return -1;
    }
    return 0;
}

/* No two members of @m on one server (servers reach a network through
 * one device). */
static int
check_one_device(const struct storage_view *v, const struct member *m,
                 size_t n, const char *netname)
{
    size_t i, k;
    char sname[256];

    for (i = 0; i < n; i++) {
        for (k = 0; k < i; k++) {
            if (str_eq(m[i].server, m[k].server)) {
                err_set(ERR_STATE, "server '%s' would reach network '%s' "
                                   "through both '%s' and '%s': a server takes "
                                   "part through one port, bond or VLAN "
                                   "interface (bond the ports first)",
                        sto_sv_name(v, "Server", m[i].server, sname,
                                    sizeof(sname)),
                        netname, m[k].device, m[i].device);
                return -1;
            }
        }
    }
    return 0;
}

/*
 * A running VM (RUNNING, SUSPENDED, STARTING, STOPPING) with a VNIC on
 * network @net, on server @server (NULL: any): ERR_STATE naming it, and
 * what is refused (@what, e.g. "delete network 'x'").
 */
static int
check_vm_users(const struct storage_view *v, const char *net,
               const char *server, const char *what)
{
    char **nics = NULL;
    size_t n = 0, i;
    int rc = 0;

    if (sto_sv_ids(v, "VirtualNic", "network_id", net, &nics, &n) < 0)
        return -1;
    for (i = 0; i < n && rc == 0; i++) {
        AUTOPTR(json_object) json_object *nic = sto_sv_get(v, "VirtualNic",
                                                           nics[i]);
        AUTOPTR(json_object) json_object *vm = NULL;

        if (!nic || !(vm = sto_sv_get(v, "Vm", json_str(nic, "vm_id")))) {
            rc = -1;
            break;
        }
        if (net_vm_active(json_str(vm, "run_state")) &&
            (!server || str_eq(json_str(vm, "server_id"), server))) {
            err_set(ERR_STATE, "cannot %s: VM '%s' (%s) has VNIC '%s' on it",
                    what, sto_rname(vm), json_str(vm, "run_state"),
                    sto_rname(nic));
            rc = -1;
        }
    }
    sto_ids_free(nics, n);
    return rc;
}

/* A VLAN segment may be taken by network @self: exists, used by no other
 * network. */
static int
check_segment_free(const struct storage_view *v, const char *seg,
                   const char *self)
{
    char **ids = NULL, nm[256];
    size_t n = 0, i;

    if (sto_sv_exists(v, "VlanSegment", seg) <= 0) {
        if (err_code() == ERR_OK)
            err_set(ERR_NOT_FOUND, "VlanSegment '%s' not found", seg);
        return -1;
    }
    if (sto_sv_ids(v, "Network", "vlan_segment_id", seg, &ids, &n) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        if (!str_eq(ids[i], self)) {
            err_set(ERR_STATE, "VLAN segment '%s' is already used by network "
                               "'%s'", sto_sv_name(v, "VlanSegment", seg, nm,
                                                   sizeof(nm)), ids[i]);
            sto_ids_free(ids, n);
            return -1;
        }
    }
    sto_ids_free(ids, n);
    return 0;
}

json_object *
net_want_new(json_object *args)
{
    json_object *w = json_object_new_object(), *ports = NULL;

    sto_set_str(w, "id", json_str(args, "id"));
    sto_set_str(w, "name", json_str(args, "name"));
    sto_set_str(w, "roles", json_str(args, "roles"));
    json_object_object_add(w, "server_local", json_object_new_int(
                               sto_jint(args, "serverLocal", 0) ? 1 : 0));
    sto_set_str(w, "server_id", json_str(args, "serverId"));
    sto_set_str(w, "vlan_segment_id", json_str(args, "segment"));
    if (json_object_object_get_ex(args, "ports", &ports) && ports)
        json_object_object_add(w, "ports", json_object_get(ports));
    return w;
}

int
net_check_network(const struct storage_view *v, json_object *want,
                  const char *mgr)
{
    const char *self = json_str(want, "id"), *roles_text;
    const char *name = json_str(want, "name") ? json_str(want, "name") : "";
    AUTOPTR(json_object) json_object *cur = NULL;
    json_object *ports = NULL;
    struct member *m = NULL;
    size_t nm = 0, i;
    bool local = sto_jint(want, "server_local", 0) != 0;
    int rc = -1;

    roles_text = json_str(want, "roles") ? json_str(want, "roles") : "[]";
    if (self && sto_sv_exists(v, "Network", self) > 0)
        cur = sto_sv_get(v, "Network", self);
    err_clear();
    /* MANAGEMENT belongs to the management network made by discovery. */
    if (cur && net_has_role(cur, "MANAGEMENT") &&
        !roles_has(roles_text, "MANAGEMENT")) {
        err_set(ERR_STATE, "network '%s' is the management network: it keeps "
                           "the MANAGEMENT role", sto_rname(cur));
        return -1;
    }
    if ((!cur || !net_has_role(cur, "MANAGEMENT")) &&
        roles_has(roles_text, "MANAGEMENT")) {
        err_set(ERR_STATE, "the MANAGEMENT role belongs to the management "
                           "network that server discovery makes; network "
                           "'%s' cannot take it", name);
        return -1;
    }
    if (local) {
        AUTOPTR(json_object) json_object *s = NULL;

        if (!json_str(want, "server_id")) {
            err_set(ERR_INVALID, "an intra-server network needs 'serverId'");
            return -1;
        }
        if (!str_eq(roles_text, "[\"VIRTUAL_MACHINE\"]")) {
            err_set(ERR_INVALID, "an intra-server network has the "
                                 "VIRTUAL_MACHINE role only");
            return -1;
        }
        if (!(s = sto_sv_get(v, "Server", json_str(want, "server_id"))))
            return -1;
        if (!str_eq(json_str(s, "manager_uuid"), mgr)) {
            err_set(ERR_STATE, "this Manager does not own server '%s'",
                    sto_rname(s));
            return -1;
        }
        return 0;
    }
    /* Members: the ports asked for (a new network) or its own now, and
     * the segment. */
    if (json_object_object_get_ex(want, "ports", &ports) && ports) {
        for (i = 0; i < json_object_array_length(ports); i++) {
            const char *pid = json_object_get_string(
                json_object_array_get_idx(ports, i));
            AUTOPTR(json_object) json_object *p = sto_sv_get(v, "EthernetPort",
                                                             pid);

            if (!p)
                goto out;
            /* Ports already in it stay as they are. */
            if (!(self && str_eq(json_str(p, "network_id"), self)) &&
                check_port_free(v, p, self, mgr) < 0)
                goto out;
            member_of_port(p, &m, &nm);
        }
    } else if (cur) {
        char **ids = NULL;
        size_t n = 0;

        if (sto_sv_ids(v, "EthernetPort", "network_id", self, &ids, &n) < 0)
            goto out;
        for (i = 0; i < n; i++) {
            AUTOPTR(json_object) json_object *p = sto_sv_get(v, "EthernetPort",
                                                             ids[i]);

            if (!p) {
                sto_ids_free(ids, n);
                goto out;
            }
            member_of_port(p, &m, &nm);
        }
        sto_ids_free(ids, n);
    }
    if (json_str(want, "vlan_segment_id") &&
        (check_segment_free(v, json_str(want, "vlan_segment_id"), self) < 0 ||
         members_of_segment(v, json_str(want, "vlan_segment_id"), &m, &nm) < 0))
        goto out;
    if (check_one_device(v, m, nm, name) < 0)
        goto out;
    for (i = 0; i < nm; i++) {
        if (check_server_roles(v, m[i].server, self, roles_text) < 0)
            goto out;
    }
    /* Losing the VIRTUAL_MACHINE role while running VMs use it. */
    if (cur && net_has_role(cur, "VIRTUAL_MACHINE") &&
        !roles_has(roles_text, "VIRTUAL_MACHINE")) {
        char what[600];

        snprintf(what, sizeof(what), "remove the VIRTUAL_MACHINE role of "
                 "network '%s'", sto_rname(cur));
        if (check_vm_users(v, self, NULL, what) < 0)
            goto out;
    }
    rc = 0;
 out:
    members_free(m, nm);
    return rc;
}

int
net_check_member(const struct storage_view *v, const char *net_id,
                 const char *kind, const char *ref, bool add,
                 const char *mgr)
{
    AUTOPTR(json_object) json_object *net = sto_sv_get(v, "Network", net_id);
    AUTOPTR(json_object) json_object *want = NULL;
    bool port = str_eq(kind, "EthernetPort");
    char what[600];

    if (!net)
        return -1;
    if (sto_jint(net, "server_local", 0)) {
        err_set(ERR_STATE, "network '%s' is an intra-server network: it has "
                           "no ports or VLAN segments", sto_rname(net));
        return -1;
    }
    if (port) {
        AUTOPTR(json_object) json_object *p = sto_sv_get(v, "EthernetPort", ref);

        if (!p)
            return -1;
        if (!add) {
            if (!str_eq(json_str(p, "network_id"), net_id)) {
                err_set(ERR_STATE, "port '%s' is not in network '%s'",
                        sto_rname(p), sto_rname(net));
                return -1;
            }
            if (net_has_role(net, "MANAGEMENT")) {
                err_set(ERR_STATE, "port '%s' is the management port of its "
                                   "server: it stays on the management "
                                   "network", sto_rname(p));
                return -1;
            }
            snprintf(what, sizeof(what), "remove port '%s' from network '%s'",
                     sto_rname(p), sto_rname(net));
            return check_vm_users(v, net_id, json_str(p, "server_id"), what);
        }
        if (str_eq(json_str(p, "network_id"), net_id)) {
            err_set(ERR_EXISTS, "port '%s' is already in network '%s'",
                    sto_rname(p), sto_rname(net));
            return -1;
        }
    } else {
        if (sto_sv_exists(v, "VlanSegment", ref) <= 0) {
            if (err_code() == ERR_OK)
                err_set(ERR_NOT_FOUND, "VlanSegment '%s' not found", ref);
            return -1;
        }
        if (!add) {
            if (!str_eq(json_str(net, "vlan_segment_id"), ref)) {
                err_set(ERR_STATE, "network '%s' does not use VLAN segment "
                                   "'%s'", sto_rname(net), ref);
                return -1;
            }
            snprintf(what, sizeof(what), "remove the VLAN segment of network "
                     "'%s'", sto_rname(net));
            return check_vm_users(v, net_id, NULL, what);
        }
        if (json_str(net, "vlan_segment_id")) {
            err_set(ERR_STATE, "network '%s' already uses a VLAN segment "
                               "('%s'); remove it first", sto_rname(net),
                    json_str(net, "vlan_segment_id"));
            return -1;
        }
    }
    /* Adding: the network as it would be. */
    want = NULL;
    json_object_deep_copy(net, &want, NULL);
    if (port) {
        json_object *ports = json_object_new_array();
        char **ids = NULL;
        size_t n = 0, i;

        if (sto_sv_ids(v, "EthernetPort", "network_id", net_id, &ids, &n) < 0) {
            json_object_put(ports);
            return -1;
        }
        for (i = 0; i < n; i++)
            json_object_array_add(ports, json_object_new_string(ids[i]));
        json_object_array_add(ports, json_object_new_string(ref));
        sto_ids_free(ids, n);
        json_object_object_add(want, "ports", ports);
    } else {
        sto_set_str(want, "vlan_segment_id", ref);
    }
    return net_check_network(v, want, mgr);
}

int
net_check_delete(const struct storage_view *v, const char *net_id)
{
    AUTOPTR(json_object) json_object *net = sto_sv_get(v, "Network", net_id);
    char **ids = NULL, what[600];
    size_t n = 0;

    if (!net)
        return -1;
    if (net_has_role(net, "MANAGEMENT")) {
        if (sto_sv_ids(v, "EthernetPort", "network_id", net_id, &ids, &n) < 0)
            return -1;
        sto_ids_free(ids, n);
        if (n > 0) {
            err_set(ERR_STATE, "network '%s' is the management network of "
                               "%zu server port%s: it can be deleted only "
                               "when no server has a port on it",
                    sto_rname(net), n, n == 1 ? "" : "s");
            return -1;
        }
    }
    snprintf(what, sizeof(what), "delete network '%s'", sto_rname(net));
    return check_vm_users(v, net_id, NULL, what);
}

/* ---- the host side ---- */

/* The IP configuration of port or VLAN interface row @r. */
static struct hv_ipconf
ipconf_of(json_object *r)
{
    struct hv_ipconf ip = { "NONE", NULL, NULL, NULL };

    if (r && json_str(r, "address_type")) {
        ip.type = json_str(r, "address_type");
        ip.address = json_str(r, "ip_address");
        ip.netmask = json_str(r, "netmask");
        ip.gateway = json_str(r, "gateway");
    }
    return ip;
}

/* The host networking ops, or NULL with ERR_UNSUPPORTED. */
static const struct hv_net_ops *
net_ops(void)
{
    if (!storage_hv->net) {
        err_set(ERR_UNSUPPORTED, "the hypervisor driver has no host "
                                 "networking");
        return NULL;
    }
    return storage_hv->net;
}

/* Define (@define) or remove bridge @bridge on server @server over
 * @device ("" none), with the IP configuration of row @ipsrc (NULL:
 * none). A remove of a missing bridge is 0. */
static int
bridge_on(struct db *db, const char *server, const char *bridge,
          const char *device, json_object *ipsrc, bool define)
{
    const struct hv_net_ops *o = net_ops();
    struct hv_ipconf ip = ipconf_of(ipsrc);
    struct hv_conn *c;
    int rc;

    if (!o || !(c = storage_server_open(db, server)))
        return -1;
    rc = define ? o->bridge_define(c, bridge, device && *device ? device : NULL,
                                   &ip)
                : o->iface_remove(c, bridge);
    storage_hv->close(c);
    if (rc < 0 && !define && err_code() == ERR_NOT_FOUND) {
        err_clear();
        rc = 0;
    }
    return rc;
}

/* The row a member's IP configuration comes from. Caller puts it. */
static json_object *
member_ip_row(const struct storage_view *v, const struct member *m)
{
    json_object *r = NULL;

    if (m->vlanif)
        r = sto_sv_get(v, "VlanInterface", m->vlanif);
    else if (m->port)
        r = sto_sv_get(v, "EthernetPort", m->port);
    if (!r)
        err_clear();
    return r;
}

/*
 * Make bridge @bridge on every member of @m; on a failure remove what was
 * made and fail naming the server. Each made bridge is journaled in @u
 * as a "bridge_remove" host action for the undo.
 */
static int
bridges_make(struct job_ctx *ctx, const struct storage_view *v,
             const char *bridge, const struct member *m, size_t n,
             json_object *u)
{
    struct db *db = job_db(ctx);
    size_t i, k;
    char sname[256];

    for (i = 0; i < n; i++) {
        AUTOPTR(json_object) json_object *ipr = member_ip_row(v, &m[i]);
        json_object *h;

        sto_sv_name(v, "Server", m[i].server, sname, sizeof(sname));
        job_progress(ctx, "bridge %s on server %s over %s", bridge, sname,
                     m[i].device[0] ? m[i].device : "nothing");
        if (bridge_on(db, m[i].server, bridge, m[i].device, ipr, true) < 0) {
            struct err e = *err_get();
            char msg[512];

            snprintf(msg, sizeof(msg), "%s", e.message);
            for (k = i; k-- > 0;) {
                if (bridge_on(db, m[k].server, bridge, NULL, NULL, false) < 0)
                    log_warnx("job %" PRId64 ": cannot remove bridge %s from "
                              "server %s again: %s", job_id(ctx), bridge,
                              m[k].server, err_message());
            }
            err_set(e.code, "cannot make bridge %s on server '%s': %s; the "
                            "servers before it were put back", bridge, sname,
                    msg);
            return -1;
        }
        h = sto_jr_hv(u, "bridge_remove");
        sto_set_str(h, "server", m[i].server);
        sto_set_str(h, "bridge", bridge);
    }
    return 0;
}

/* True when server @id is RUNNING (errors count as no). */
static bool
running(const struct storage_view *v, const char *id)
{
    return sto_running(v, id);
}

/*
 * Remove bridge @bridge from every member of @m (a server that is not
 * running keeps it: a WARNING in *warn, which the caller raises). Each
 * removal is journaled as a "bridge_define" host action. On a failure the
 * bridges removed are made again.
 */
static int
bridges_remove(struct job_ctx *ctx, const struct storage_view *v,
               const char *bridge, const struct member *m, size_t n,
               json_object *u, json_object *skipped)
{
    struct db *db = job_db(ctx);
    size_t i, k;
    char sname[256];

    for (i = 0; i < n; i++) {
        json_object *h;

        sto_sv_name(v, "Server", m[i].server, sname, sizeof(sname));
        if (!running(v, m[i].server)) {
            json_object_array_add(skipped, json_object_new_string(sname));
            continue;
        }
        job_progress(ctx, "removing bridge %s from server %s", bridge, sname);
        if (bridge_on(db, m[i].server, bridge, NULL, NULL, false) < 0) {
            struct err e = *err_get();
            char msg[512];

            snprintf(msg, sizeof(msg), "%s", e.message);
            for (k = i; k-- > 0;) {
                AUTOPTR(json_object) json_object *ipr = member_ip_row(v, &m[k]);

                if (running(v, m[k].server) &&
                    bridge_on(db, m[k].server, bridge, m[k].device, ipr,
                              true) < 0)
                    log_warnx("job %" PRId64 ": cannot make bridge %s on "
                              "server %s again: %s", job_id(ctx), bridge,
                              m[k].server, err_message());
            }
            err_set(e.code, "cannot remove bridge %s from server '%s': %s",
                    bridge, sname, msg);
            return -1;
        }
        h = sto_jr_hv(u, "bridge_define");
        sto_set_str(h, "server", m[i].server);
        sto_set_str(h, "bridge", bridge);
        sto_set_str(h, "device", m[i].device);
        sto_set_str(h, "port", m[i].port);
        sto_set_str(h, "vlanif", m[i].vlanif);
    }
    return 0;
}

/* Undo the host actions of @u (after a failed commit: every one). */
static void
hv_actions_undo(struct db *db, json_object *u)
{
    json_object *hv = NULL;
    size_t i;

    if (!json_object_object_get_ex(u, "hv", &hv) || !hv)
        return;
    for (i = json_object_array_length(hv); i-- > 0;) {
        json_object *a = json_object_array_get_idx(hv, i);
        const char *action = json_str(a, "action");
        struct storage_view v = { db, NULL };
        char *AUTOFREE port = json_str(a, "port") ? xstrdup(json_str(a, "port"))
                                                  : NULL;
        char *AUTOFREE vlanif = json_str(a, "vlanif")
                                    ? xstrdup(json_str(a, "vlanif")) : NULL;
        struct member m = { NULL, NULL, port, vlanif, false };
        AUTOPTR(json_object) json_object *ipr = NULL;
        int rc;

        ipr = member_ip_row(&v, &m);
        rc = bridge_on(db, json_str(a, "server"), json_str(a, "bridge"),
                       json_str(a, "device"), ipr,
                       str_eq(action, "bridge_define"));
        if (rc < 0)
            log_warnx("cannot put back bridge %s on server %s: %s",
                      json_str(a, "bridge"), json_str(a, "server"),
                      err_message());
    }
}

/* The undo of every operation here: host actions, then the journal. */
static int
net_undo(struct job_ctx *ctx, json_object *args, json_object *undo)
{
    struct db_txn *t;

    (void)args;
    hv_actions_undo(job_db(ctx), undo);
    if (!(t = job_txn_begin(ctx)))
        return -1;
    if (sto_journal_apply(ctx, t, undo) < 0) {
        db_txn_rollback(t);
        return -1;
    }
    return job_txn_commit(ctx, t, NULL);
}

/*
 * Commit @t (rc 0) with @u as undo data; when the commit or @rc fails,
 * roll back and undo the host actions journaled in @u, keeping the
 * error.
 */
static int
net_finish(struct job_ctx *ctx, struct db_txn *t, int rc, json_object *u)
{
    if (rc == 0 && sto_finish(ctx, t, 0, u) == 0)
        return 0;
    if (rc < 0)
        db_txn_rollback(t);
    {
        struct err e = *err_get();

        hv_actions_undo(job_db(ctx), u);
        sto_err_keep(&e);
    }
    return -1;
}

/* ---- the operations ---- */

/* Set network_id of every member row of @m to @net (NULL: none),
 * journaling them. */
static int
members_attach(struct db_txn *t, json_object *u, const struct member *m,
               size_t n, const char *net)
{
    size_t i;

    for (i = 0; i < n; i++) {
        AUTOPTR(json_object) json_object *cols = json_object_new_object();
        const char *type = m[i].vlanif ? "VlanInterface" : "EthernetPort";
        const char *id = m[i].vlanif ? m[i].vlanif : m[i].port;

        /* An untagged segment's ports stay their group's, no network. */
        if (!id || m[i].untagged)
            continue;
        sto_set_str(cols, "network_id", net);
        if (sto_jr_row(t, u, type, id) < 0 ||
            db_txn_row_update(t, sto_mt(type), id, cols, true) < 0)
            return -1;
    }
    return 0;
}

static int
net_create_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    struct db *db = job_db(ctx);
    struct storage_view rv = { db, NULL }, tv = { NULL, NULL };
    const char *id = json_str(args, "id"), *name = json_str(args, "name");
    AUTOPTR(json_object) json_object *want = NULL, *row = NULL;
    AUTOPTR(json_object) json_object *u = sto_undo_new();
    char *AUTOFREE mgr = NULL, *AUTOFREE bridge = NULL;
    struct member *m = NULL;
    size_t nm = 0;
    struct db_txn *t = NULL;
    json_object *ud = NULL;
    bool vm;
    int rc = -1;

    (void)undo;
    if (!id || !name) {
        err_set(ERR_INVALID, "network.create needs 'id' and 'name'");
        return -1;
    }
    want = net_want_new(args);
    if (!(mgr = sto_manager_uuid(db)) || net_check_network(&rv, want, mgr) < 0)
        return -1;
    vm = roles_has(json_str(args, "roles"), "VIRTUAL_MACHINE");
    row = json_object_new_object();
    sto_set_str(row, "id", id);
    sto_set_str(row, "name", name);
    if (json_str(args, "description"))
        sto_set_str(row, "description", json_str(args, "description"));
    if (json_object_object_get_ex(args, "userData", &ud) && ud)
        sto_set_str(row, "user_data", json_to_text(ud));
    sto_set_str(row, "roles", json_str(args, "roles"));
    json_object_object_add(row, "mtu", json_object_new_int(
                               (int)sto_jint(args, "mtu", 1500)));
    json_object_object_add(row, "server_local", json_object_new_int(
                               sto_jint(args, "serverLocal", 0) ? 1 : 0));
    sto_set_str(row, "server_id", json_str(args, "serverId"));
    sto_set_str(row, "vlan_segment_id", json_str(args, "segment"));
    if (vm) {
        bridge = net_bridge_name(id);
        sto_set_str(row, "bridge_name", bridge);
    }
    /* The members it will have, through the row as it will be. */
    {
        json_object *ports = NULL;
        size_t i;

        if (sto_jint(row, "server_local", 0)) {
            member_push(&m, &nm, json_str(row, "server_id"), "", NULL, NULL);
        } else {
            if (json_object_object_get_ex(args, "ports", &ports) && ports) {
                for (i = 0; i < json_object_array_length(ports); i++) {
                    AUTOPTR(json_object) json_object *p = sto_sv_get(
                        &rv, "EthernetPort", json_object_get_string(
                                                 json_object_array_get_idx(ports,
                                                                           i)));

                    if (!p)
                        goto out;
                    member_of_port(p, &m, &nm);
                }
            }
            if (json_str(args, "segment") &&
                members_of_segment(&rv, json_str(args, "segment"), &m, &nm) < 0)
                goto out;
        }
    }
    if (vm && bridges_make(ctx, &rv, bridge, m, nm, u) < 0)
        goto out;

    if (!(t = job_txn_begin(ctx))) {
        rc = net_finish(ctx, NULL, -1, u);
        goto out;
    }
    tv.t = t;
    if (net_check_network(&tv, want, mgr) < 0 ||
        db_txn_row_insert(t, sto_mt("Network"), row) < 0) {
        rc = net_finish(ctx, t, -1, u);
        goto out;
    }
    sto_jr_created(u, "Network", id);
    rc = members_attach(t, u, m, nm, id);
    if (rc == 0)
        rc = sto_ev(ctx, t, SEV_INFORMATIONAL, "network.created", "Network",
                    id, name, "network '%s' created with roles %s on %zu "
                    "server%s%s%s", name, json_str(args, "roles"), nm,
                    nm == 1 ? "" : "s", vm ? ", bridge " : "",
                    vm ? bridge : "");
    if (rc == 0)
        job_set_result(ctx, "Network", id, name);
    rc = net_finish(ctx, t, rc, u);
 out:
    members_free(m, nm);
    return rc;
}

static int
net_update_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    struct db *db = job_db(ctx);
    struct storage_view rv = { db, NULL }, tv = { NULL, NULL };
    const char *id = json_str(args, "id");
    AUTOPTR(json_object) json_object *net = NULL, *want = NULL, *cols = NULL;
    AUTOPTR(json_object) json_object *u = sto_undo_new(), *skipped = NULL;
    char *AUTOFREE mgr = NULL, *AUTOFREE bridge = NULL;
    const char *roles_text;
    struct member *m = NULL;
    size_t nm = 0;
    struct db_txn *t = NULL;
    json_object *ud = NULL;
    int64_t gen = sto_jint(args, "generation", -1);
    bool was_vm, vm;
    int rc = -1;

    (void)undo;
    if (!id || !(net = sto_sv_get(&rv, "Network", id)))
        return -1;
    if (gen >= 0 && gen != sto_jint(net, "generation", 0)) {
        err_set(ERR_CONFLICT, "Network '%s' was changed by someone else: the "
                              "request was made from generation %" PRId64
                              " but it is at generation %" PRId64,
                sto_rname(net), gen, sto_jint(net, "generation", 0));
        return -1;
    }
    roles_text = json_str(args, "roles") ? json_str(args, "roles")
                                         : json_str(net, "roles");
    want = NULL;
    json_object_deep_copy(net, &want, NULL);
    sto_set_str(want, "roles", roles_text);
    if (json_str(args, "name"))
        sto_set_str(want, "name", json_str(args, "name"));
    if (!(mgr = sto_manager_uuid(db)) || net_check_network(&rv, want, mgr) < 0)
        return -1;
    was_vm = net_has_role(net, "VIRTUAL_MACHINE");
    vm = roles_has(roles_text, "VIRTUAL_MACHINE");
    bridge = json_str(net, "bridge_name") ? xstrdup(json_str(net, "bridge_name"))
                                          : net_bridge_name(id);
    skipped = json_object_new_array();
    if (was_vm != vm) {
        if (net_members(&rv, net, &m, &nm) < 0)
            goto out;
        if (vm ? bridges_make(ctx, &rv, bridge, m, nm, u) < 0
               : bridges_remove(ctx, &rv, bridge, m, nm, u, skipped) < 0)
            goto out;
    }
    if (!(t = job_txn_begin(ctx))) {
        rc = net_finish(ctx, NULL, -1, u);
        goto out;
    }
    tv.t = t;
    cols = json_object_new_object();
    if (json_str(args, "name"))
        sto_set_str(cols, "name", json_str(args, "name"));
    if (json_str(args, "description"))
        sto_set_str(cols, "description", json_str(args, "description"));
    if (json_object_object_get_ex(args, "userData", &ud) && ud)
        sto_set_str(cols, "user_data", json_to_text(ud));
    sto_set_str(cols, "roles", roles_text);
    if (json_object_object_get_ex(args, "mtu", NULL))
        json_object_object_add(cols, "mtu", json_object_new_int(
                                   (int)sto_jint(args, "mtu", 1500)));
    sto_set_str(cols, "bridge_name", vm ? bridge : NULL);
    rc = net_check_network(&tv, want, mgr);
    if (rc == 0)
        rc = sto_jr_row(t, u, "Network", id);
    if (rc == 0)
        rc = db_txn_row_update(t, sto_mt("Network"), id, cols, true);
    if (rc == 0)
        rc = sto_ev(ctx, t, SEV_INFORMATIONAL, "network.updated", "Network",
                    id, sto_rname(want), "network '%s' updated: roles %s",
                    sto_rname(want), roles_text);
    if (rc == 0 && json_object_array_length(skipped) > 0)
        rc = sto_ev(ctx, t, SEV_WARNING, "network.bridge_left", "Network",
                    id, sto_rname(want), "bridge %s stays on server(s) %s, "
                    "which are not running", bridge,
                    json_object_to_json_string_ext(skipped,
                                                   JSON_C_TO_STRING_PLAIN));
    if (rc == 0)
        job_set_result(ctx, "Network", id, sto_rname(want));
    rc = net_finish(ctx, t, rc, u);
 out:
    members_free(m, nm);
    return rc;
}

static int
net_member_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    struct db *db = job_db(ctx);
    struct storage_view rv = { db, NULL }, tv = { NULL, NULL };
    const char *id = json_str(args, "id"), *kind = json_str(args, "kind");
    const char *ref = json_str(args, "ref");
    bool add = sto_jint(args, "add", 0) != 0;
    bool port = str_eq(kind, "EthernetPort");
    AUTOPTR(json_object) json_object *net = NULL, *none = NULL;
    AUTOPTR(json_object) json_object *u = sto_undo_new(), *skipped = NULL;
    char *AUTOFREE mgr = NULL;
    struct member *m = NULL;
    size_t nm = 0;
    struct db_txn *t = NULL;
    char refname[256];
    int rc = -1;

    (void)undo;
    if (!id || !ref || (!port && !str_eq(kind, "VlanSegment"))) {
        err_set(ERR_INVALID, "network.member needs 'id', 'kind' and 'ref'");
        return -1;
    }
    if (!(mgr = sto_manager_uuid(db)) ||
        net_check_member(&rv, id, kind, ref, add, mgr) < 0 ||
        !(net = sto_sv_get(&rv, "Network", id)))
        return -1;
    if (port) {
        AUTOPTR(json_object) json_object *p = sto_sv_get(&rv, "EthernetPort",
                                                         ref);

        if (!p)
            return -1;
        member_of_port(p, &m, &nm);
    } else if (members_of_segment(&rv, ref, &m, &nm) < 0) {
        goto out;
    }
    sto_sv_name(&rv, kind, ref, refname, sizeof(refname));
    skipped = json_object_new_array();
    if (net_has_role(net, "VIRTUAL_MACHINE") && json_str(net, "bridge_name") &&
        (add ? bridges_make(ctx, &rv, json_str(net, "bridge_name"), m, nm, u)
             : bridges_remove(ctx, &rv, json_str(net, "bridge_name"), m, nm, u,
                              skipped)) < 0)
        goto out;
    if (!(t = job_txn_begin(ctx))) {
        rc = net_finish(ctx, NULL, -1, u);
        goto out;
    }
    tv.t = t;
    none = json_object_new_object();
    rc = net_check_member(&tv, id, kind, ref, add, mgr);
    if (rc == 0)
        rc = sto_jr_row(t, u, "Network", id);
    if (rc == 0 && !port) {
        AUTOPTR(json_object) json_object *cols = json_object_new_object();

        sto_set_str(cols, "vlan_segment_id", add ? ref : NULL);
        rc = db_txn_row_update(t, sto_mt("Network"), id, cols, true);
    } else if (rc == 0) {
        rc = db_txn_row_update(t, sto_mt("Network"), id, none, true);
    }
    if (rc == 0)
        rc = members_attach(t, u, m, nm, add ? id : NULL);
    if (rc == 0)
        rc = sto_ev(ctx, t, SEV_INFORMATIONAL,
                    add ? "network.port_added" : "network.port_removed",
                    "Network", id, sto_rname(net), "%s '%s' %s network '%s'",
                    port ? "port" : "VLAN segment", refname,
                    add ? "added to" : "removed from", sto_rname(net));
    if (rc == 0 && json_object_array_length(skipped) > 0)
        rc = sto_ev(ctx, t, SEV_WARNING, "network.bridge_left", "Network", id,
                    sto_rname(net), "bridge %s stays on server(s) %s, which "
                    "are not running", json_str(net, "bridge_name"),
                    json_object_to_json_string_ext(skipped,
                                                   JSON_C_TO_STRING_PLAIN));
    if (rc == 0)
        job_set_result(ctx, "Network", id, sto_rname(net));
    rc = net_finish(ctx, t, rc, u);
 out:
    members_free(m, nm);
    return rc;
}

static int
net_delete_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    struct db *db = job_db(ctx);
    struct storage_view rv = { db, NULL }, tv = { NULL, NULL };
    const char *id = json_str(args, "id");
    AUTOPTR(json_object) json_object *net = NULL;
    AUTOPTR(json_object) json_object *u = sto_undo_new(), *skipped = NULL;
    struct member *m = NULL;
    char **nics = NULL;
    size_t nm = 0, nn = 0, i;
    struct db_txn *t = NULL;
    int rc = -1;

    (void)undo;
    if (!id || net_check_delete(&rv, id) < 0 ||
        !(net = sto_sv_get(&rv, "Network", id)) ||
        net_members(&rv, net, &m, &nm) < 0)
        goto out;
    skipped = json_object_new_array();
    if (net_has_role(net, "VIRTUAL_MACHINE") && json_str(net, "bridge_name") &&
        bridges_remove(ctx, &rv, json_str(net, "bridge_name"), m, nm, u,
                       skipped) < 0)
        goto out;
    if (!(t = job_txn_begin(ctx))) {
        rc = net_finish(ctx, NULL, -1, u);
        goto out;
    }
    tv.t = t;
    rc = net_check_delete(&tv, id);
    /* The network row first, so the undo writes it back before the rows
     * that point at it. */
    if (rc == 0)
        rc = sto_jr_row(t, u, "Network", id);
    if (rc == 0)
        rc = members_attach(t, u, m, nm, NULL);
    if (rc == 0)
        rc = sto_sv_ids(&tv, "VirtualNic", "network_id", id, &nics, &nn);
    for (i = 0; rc == 0 && i < nn; i++)
        rc = sto_jr_row(t, u, "VirtualNic", nics[i]);
    if (rc == 0)
        rc = db_txn_row_delete(t, sto_mt("Network"), id);
    if (rc == 0)
        rc = sto_ev(ctx, t, SEV_INFORMATIONAL, "network.deleted", "Network",
                    id, sto_rname(net), "network '%s' deleted (%zu VNIC%s "
                    "left without a network)", sto_rname(net), nn,
                    nn == 1 ? "" : "s");
    if (rc == 0 && json_object_array_length(skipped) > 0)
        rc = sto_ev(ctx, t, SEV_WARNING, "network.bridge_left", "Network", id,
                    sto_rname(net), "bridge %s stays on server(s) %s, which "
                    "are not running", json_str(net, "bridge_name"),
                    json_object_to_json_string_ext(skipped,
                                                   JSON_C_TO_STRING_PLAIN));
    if (rc == 0)
        job_set_result(ctx, "Network", id, sto_rname(net));
    rc = net_finish(ctx, t, rc, u);
 out:
    sto_ids_free(nics, nn);
    members_free(m, nm);
    return rc;
}

static const struct job_op_type op_net_create = {
    "network.create", net_create_run, net_undo, false,
};
static const struct job_op_type op_net_update = {
    "network.update", net_update_run, net_undo, false,
};
static const struct job_op_type op_net_member = {
    "network.member", net_member_run, net_undo, false,
};
static const struct job_op_type op_net_delete = {
    "network.delete", net_delete_run, net_undo, false,
};

/* The network operations (engine.c searches this table). */
const struct job_op_type *const job_ops_net[] = {
    &op_net_create, &op_net_update, &op_net_member, &op_net_delete,
    NULL,
};
