/*
 * op_netport.c - bonds, ports, VLAN groups, VLAN segments and VLAN
 * interfaces (issue 6; docs/NETWORKS.md, "IP configuration" and "Bonds
 * and VLAN groups"): net_ipconf_check(), the rules of network.h's
 * op_netport.c section and the operations ethernetport.bond_create/
 * update/delete, vlangroup.create/update/port/delete, vlansegment.create/
 * delete and vlaninterface.update.
 *
 * DESIGN
 *
 * Rows and rules as every network operation (op_network.c): flat rows
 * read through a storage_view; each rule is applied by the handler
 * (src/api/api_netport.c) and again inside the job's transaction, so a
 * change made while the job waited for its locks ends it FAILURE with
 * the handler's message. The rules take the operation's arguments as the
 * handler built them (defaults filled in, IP configuration canonical),
 * so both check exactly the same thing.
 *
 * Hosts (hv.h, "host networking"): a bond is "bondN" over its two
 * physical ports on its server; a tagged VLAN segment has the VLAN
 * interface "<port>.<vlan id>" on every port or bond of its group, on
 * that port's server; an untagged segment has none (its traffic is the
 * port's own). An operation acts on the hosts first, with no transaction
 * open, and journals every step done at once as its inverse (a define as
 * an "iface_remove", a removal as the define that makes the device
 * again). When a later step, the check inside the transaction or the
 * commit fails, the inverses run newest first and the hosts are as they
 * were; the same inverses are the host half of the undo. Defining needs
 * the server RUNNING; removing from a server that is not running is
 * skipped with a WARNING event (the server keeps a stale device), as
 * op_network.c does for bridges, so a dead server never blocks a
 * delete. A bond's mode or ports change by removing it from its host and
 * defining it again, allowed only while nothing is over it (no network,
 * no VLAN group).
 *
 * IP configuration (addressType, ipAddress, netmask, gateway) is ovmm's
 * record for ports, bonds and VLAN interfaces: a bond is defined with
 * its own, and the network jobs give a bridge the configuration of the
 * device it stands on; editing it changes rows only.
 *
 * Undo data: the storage journal (storage_int.h) plus host actions in
 * "hv": {"action": "bond_define", server, serverName, name, mode, port1,
 * port2, mtu, addressType, ipAddress, netmask, gateway} | {"action":
 * "vlan_define", server, serverName, parent, tag, addressType, ...} |
 * {"action": "iface_remove", server, serverName, name}. np_undo() runs
 * them newest first, then in one transaction writes the journaled rows
 * back before sto_journal_apply() deletes what the operation created:
 * ports reference bonds and VLAN groups without ON DELETE, so those
 * references must be gone before the rows they name are. Operations
 * that act on hosts are not undone after a restart.
 *
 * Operations (arguments; the handlers fill in the defaults):
 *   ethernetport.bond_create {id, server, name, description?, userData?,
 *       interfaceName, bondMode, ports [2], mtu, addressType, ipAddress?,
 *       netmask?, gateway?}
 *   ethernetport.update {id, generation?, name?, description?,
 *       userData?, mtu?, addressType? (then ipAddress, netmask, gateway
 *       are the whole new configuration), bondMode?, ports?}
 *   ethernetport.delete {id}: a bond.
 *   vlangroup.create {id, name, description?, userData?, mtu, ports []}
 *   vlangroup.update {id, generation?, name?, description?, userData?,
 *       mtu?}
 *   vlangroup.port {id, port, add}
 *   vlangroup.delete {id}
 *   vlansegment.create {id, group, name, description?, vlanId, tagged}
 *   vlansegment.delete {id}
 *   vlaninterface.update {id, generation?, name?, description?,
 *       userData?, addressType? ...}
 * Events: ethernetport.created/updated/deleted, vlangroup.created/
 * updated/deleted/port_added/port_removed, vlansegment.created/deleted,
 * vlaninterface.updated, and the WARNING ethernetport.not_removed /
 * vlaninterface.not_removed for a device left on a server that is not
 * running.
 *
 * Threads: operations run on job workers; nothing here keeps state.
 */
#include <arpa/inet.h>
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

/* Longest interface name a host takes (IFNAMSIZ - 1). */
#define IFNAME_MAX 15

/* ---- IP configuration ---- */

static bool
present(const char *s)
{
    return s && *s;
}

/* Dotted quad @text (member @member of @what's configuration) as a
 * host-order value. ERR_INVALID. */
static int
ip4_parse(const char *what, const char *member, const char *text,
          uint32_t *out)
{
    struct in_addr a;

    if (!text || inet_pton(AF_INET, text, &a) != 1) {
        err_set(ERR_INVALID, "invalid IP configuration of %s: '%s' '%s' is "
                             "not an IPv4 dotted quad", what, member,
                text ? text : "");
        return -1;
    }
    *out = ntohl(a.s_addr);
    return 0;
}

/* @a as a dotted quad into @out (16 bytes). */
static void
ip4_format(uint32_t a, char *out)
{
    struct in_addr x;

    x.s_addr = htonl(a);
    if (!inet_ntop(AF_INET, &x, out, 16))
        out[0] = '\0';
}

/* Whether @a may be a host's address: not in 0.0.0.0/8, 127.0.0.0/8 or
 * 224.0.0.0/3 (multicast, reserved, broadcast). */
static bool
ip4_unicast(uint32_t a)
{
    unsigned first = a >> 24;

    return first != 0 && first != 127 && first < 224;
}

/*
 * Address @x (member @member) inside subnet @net/@mask of @what's
 * configuration: a unicast host address and, for subnets of more than
 * two addresses (prefix <= 30), neither their network nor their
 * broadcast address. ERR_INVALID.
 */
static int
ip4_host_check(const char *what, const char *member, const char *text,
               uint32_t x, uint32_t mask, int prefix)
{
    char net[16];
    uint32_t hostmask = (uint32_t)~mask;

    ip4_format(x & mask, net);
    if (!ip4_unicast(x)) {
        err_set(ERR_INVALID, "invalid IP configuration of %s: '%s' '%s' is "
                             "not a unicast host address", what, member, text);
        return -1;
    }
    if (prefix <= 30 && (x & hostmask) == 0) {
        err_set(ERR_INVALID, "invalid IP configuration of %s: '%s' '%s' is "
                             "the network address of subnet %s/%d", what,
                member, text, net, prefix);
        return -1;
    }
    if (prefix <= 30 && (x & hostmask) == hostmask) {
        err_set(ERR_INVALID, "invalid IP configuration of %s: '%s' '%s' is "
                             "the broadcast address of subnet %s/%d", what,
                member, text, net, prefix);
        return -1;
    }
    return 0;
}

int
net_ipconf_check(const char *what, const char *type, const char *addr,
                 const char *mask, const char *gw, char *out_addr,
                 char *out_mask, char *out_gw)
{
    uint32_t a, m, g, inv;
    char net[16];
    int prefix = 0, i;

    out_addr[0] = out_mask[0] = out_gw[0] = '\0';
    if (!type)
        type = "NONE";
    if (!str_eq(type, "NONE") && !str_eq(type, "DHCP") &&
        !str_eq(type, "STATIC")) {
        err_set(ERR_INVALID, "invalid IP configuration of %s: "
                             "'addressType' must be NONE, DHCP or STATIC, "
                             "not '%s'", what, type);
        return -1;
    }
    if (!str_eq(type, "STATIC")) {
        if (present(addr) || present(mask) || present(gw)) {
            err_set(ERR_INVALID, "invalid IP configuration of %s: "
                                 "addressType %s takes no 'ipAddress', "
                                 "'netmask' or 'gateway'", what, type);
            return -1;
        }
        return 0;
    }
    if (!present(addr) || !present(mask)) {
        err_set(ERR_INVALID, "invalid IP configuration of %s: addressType "
                             "STATIC needs 'ipAddress' and 'netmask'", what);
        return -1;
    }
    if (ip4_parse(what, "ipAddress", addr, &a) < 0 ||
        ip4_parse(what, "netmask", mask, &m) < 0)
        return -1;
    /* Contiguous: the host bits, plus one, are a power of two. */
    inv = (uint32_t)~m;
    if (m == 0 || (inv & (uint32_t)(inv + 1)) != 0) {
        err_set(ERR_INVALID, "invalid IP configuration of %s: netmask '%s' "
                             "is not a contiguous mask of 1 to 32 bits", what,
                mask);
        return -1;
    }
    for (i = 0; i < 32; i++)
        prefix += (m >> i) & 1;
    if (ip4_host_check(what, "ipAddress", addr, a, m, prefix) < 0)
        return -1;
    if (present(gw)) {
        if (ip4_parse(what, "gateway", gw, &g) < 0)
            return -1;
        ip4_format(a & m, net);
        if ((g & m) != (a & m)) {
            err_set(ERR_INVALID, "invalid IP configuration of %s: gateway "
                                 "'%s' is outside subnet %s/%d", what, gw, net,
                    prefix);
            return -1;
        }
        if (g == a) {
            err_set(ERR_INVALID, "invalid IP configuration of %s: gateway "
                                 "'%s' is the address itself", what, gw);
            return -1;
        }
        if (ip4_host_check(what, "gateway", gw, g, m, prefix) < 0)
            return -1;
        ip4_format(g, out_gw);
    }
    ip4_format(a, out_addr);
    ip4_format(m, out_mask);
    return 0;
}

/* ---- small helpers ---- */

bool
net_bond_mode_valid(const char *mode)
{
    return str_eq(mode, "ACTIVE_PASSIVE") ||
           str_eq(mode, "LINK_AGGREGATION") || str_eq(mode, "LOAD_BALANCED");
}

/* "bond" and one to three digits. */
static bool
bond_name_valid(const char *s)
{
    size_t n, i;

    if (!s || strncmp(s, "bond", 4) != 0)
        return false;
    n = strlen(s + 4);
    for (i = 0; i < n; i++) {
        if (s[4 + i] < '0' || s[4 + i] > '9')
            return false;
    }
    return n >= 1 && n <= 3;
}

/* The JSON array member @key of @o, or NULL. */
static json_object *
jarr(json_object *o, const char *key)
{
    json_object *a = NULL;

    if (!json_object_object_get_ex(o, key, &a) || !a ||
        !json_object_is_type(a, json_type_array))
        return NULL;
    return a;
}

/* Element @i of string array @a, or NULL. */
static const char *
jat(json_object *a, size_t i)
{
    json_object *e = a ? json_object_array_get_idx(a, i) : NULL;

    return e && json_object_is_type(e, json_type_string)
               ? json_object_get_string(e) : NULL;
}

static size_t
jlen(json_object *a)
{
    return a ? json_object_array_length(a) : 0;
}

/* The name of @type @id into @out (a "?" when gone). */
static const char *
nm(const struct storage_view *v, const char *type, const char *id, char *out,
   size_t size)
{
    return sto_sv_name(v, type, id, out, size);
}

/* The host networking ops of the hv driver, or NULL with
 * ERR_UNSUPPORTED. */
static const struct hv_net_ops *
np_ops(void)
{
    if (!storage_hv->net) {
        err_set(ERR_UNSUPPORTED, "the hypervisor driver has no host "
                                 "networking (bonds, VLAN interfaces)");
        return NULL;
    }
    return storage_hv->net;
}

/* A stale 'generation' in @args for row @row of @type: ERR_CONFLICT. */
static int
gen_check(json_object *row, const char *type, json_object *args)
{
    int64_t gen = sto_jint(args, "generation", -1);

    if (gen >= 0 && gen != sto_jint(row, "generation", 0)) {
        err_set(ERR_CONFLICT, "%s '%s' was changed by someone else: the "
                              "request was made from generation %" PRId64
                              " but it is at generation %" PRId64, type,
                sto_rname(row), gen, sto_jint(row, "generation", 0));
        return -1;
    }
    return 0;
}

/* Append @item to the list of what changed in @what ("a, b"). */
static void
what_add(char *what, size_t size, const char *item)
{
    size_t len = strlen(what);

    if (len + 1 < size)
        snprintf(what + len, size - len, "%s%s", len ? ", " : "", item);
}

/* ---- rules ---- */

/*
 * Server @id exists, is owned by @mgr (NULL: any owner) and, with
 * @running, is RUNNING; for @what ("make bond 'bond0'"). ERR_NOT_FOUND,
 * ERR_STATE.
 */
static int
server_ok(const struct storage_view *v, const char *id, const char *mgr,
          bool running, const char *what)
{
    AUTOPTR(json_object) json_object *s = sto_sv_get(v, "Server", id);

    if (!s)
        return -1;
    if (mgr && !str_eq(json_str(s, "manager_uuid"), mgr)) {
        err_set(ERR_STATE, "cannot %s: this Manager does not own server "
                           "'%s'", what, sto_rname(s));
        return -1;
    }
    if (running && !str_eq(json_str(s, "run_state"), "RUNNING")) {
        const char *st = json_str(s, "run_state");

        err_set(ERR_STATE, "cannot %s: server '%s' is not running (%s)", what,
                sto_rname(s), st ? st : "?");
        return -1;
    }
    return 0;
}

/*
 * Port or bond row @p is free for @what: in no network, no bond other
 * than @bond (NULL: none), no VLAN group other than @group (NULL: none).
 * ERR_STATE naming what uses it.
 */
static int
port_free(const struct storage_view *v, json_object *p, const char *bond,
          const char *group, const char *what)
{
    const char *net = json_str(p, "network_id");
    const char *b = json_str(p, "bond_port_id");
    const char *g = json_str(p, "vlan_group_id");
    char n[256];

    if (net) {
        err_set(ERR_STATE, "cannot %s: port '%s' is in network '%s'", what,
                sto_rname(p), nm(v, "Network", net, n, sizeof(n)));
        return -1;
    }
    if (b && !str_eq(b, bond)) {
        err_set(ERR_STATE, "cannot %s: port '%s' is a member of bond '%s'",
                what, sto_rname(p), nm(v, "EthernetPort", b, n, sizeof(n)));
        return -1;
    }
    if (g && !str_eq(g, group)) {
        err_set(ERR_STATE, "cannot %s: port '%s' is in VLAN group '%s'", what,
                sto_rname(p), nm(v, "VlanGroup", g, n, sizeof(n)));
        return -1;
    }
    return 0;
}

/* Whether server @server has a port or bond called @ifname: 1, 0, -1. */
static int
ifname_taken(const struct storage_view *v, const char *server,
             const char *ifname)
{
    char **ids = NULL;
    size_t n = 0, i;
    int rc = 0;

    if (sto_sv_ids(v, "EthernetPort", "server_id", server, &ids, &n) < 0)
        return -1;
    for (i = 0; i < n && rc == 0; i++) {
        AUTOPTR(json_object) json_object *p = sto_sv_get(v, "EthernetPort",
                                                         ids[i]);

        if (!p)
            rc = -1;
        else if (str_eq(json_str(p, "interface_name"), ifname))
            rc = 1;
    }
    sto_ids_free(ids, n);
    return rc;
}

int
net_bond_name_next(const struct storage_view *v, const char *server,
                   char *out, size_t size)
{
    char name[16];
    int i, r;

    for (i = 0; i < 1000; i++) {
        snprintf(name, sizeof(name), "bond%d", i);
        if ((r = ifname_taken(v, server, name)) < 0)
            return -1;
        if (r == 0) {
            str_copy(out, name, size);
            return 0;
        }
    }
    err_set(ERR_STATE, "server '%s' has no free bond name left", server);
    return -1;
}

static int
mtu_check(int64_t mtu)
{
    if (mtu < NET_PORT_MTU_MIN || mtu > NET_PORT_MTU_MAX) {
        err_set(ERR_INVALID, "'mtu' must be %d..%d, not %" PRId64,
                NET_PORT_MTU_MIN, NET_PORT_MTU_MAX, mtu);
        return -1;
    }
    return 0;
}

/* A STATIC address @addr is used by no port or VLAN interface but @self
 * (may be NULL). ERR_EXISTS naming the user. */
static int
static_free(const struct storage_view *v, const char *addr, const char *self)
{
    static const char *const types[] = { "EthernetPort", "VlanInterface" };
    size_t t, i, n = 0;
    char **ids = NULL, name[256];

    for (t = 0; t < 2; t++) {
        if (sto_sv_ids(v, types[t], "ip_address", addr, &ids, &n) < 0)
            return -1;
        for (i = 0; i < n; i++) {
            if (!str_eq(ids[i], self)) {
                err_set(ERR_EXISTS, "IP address '%s' is already used by %s "
                                    "'%s'", addr,
                        t == 0 ? "port" : "VLAN interface",
                        nm(v, types[t], ids[i], name, sizeof(name)));
                sto_ids_free(ids, n);
                return -1;
            }
        }
        sto_ids_free(ids, n);
    }
    return 0;
}

/* The IP configuration in @args (when it has an addressType) for @what:
 * valid (ERR_INVALID), and a STATIC address free (ERR_EXISTS). */
static int
ipconf_args_check(const struct storage_view *v, json_object *args,
                  const char *what, const char *self)
{
    char a[16], m[16], g[16];

    if (!json_str(args, "addressType"))
        return 0;
    if (net_ipconf_check(what, json_str(args, "addressType"),
                         json_str(args, "ipAddress"), json_str(args, "netmask"),
                         json_str(args, "gateway"), a, m, g) < 0)
        return -1;
    return a[0] ? static_free(v, a, self) : 0;
}

/*
 * The two ports @ports (ids) of a bond of server @server for @what:
 * exactly two (ERR_INVALID), distinct, known (ERR_NOT_FOUND), PHYSICAL,
 * of that server, free but for bond @bond (NULL: a new bond) (ERR_STATE).
 */
static int
bond_ports_check(const struct storage_view *v, json_object *ports,
                 const char *server, const char *bond, const char *what)
{
    char sn[256], pn[256];
    size_t i;

    if (jlen(ports) != 2 || !jat(ports, 0) || !jat(ports, 1)) {
        err_set(ERR_INVALID, "cannot %s: a bond is made of exactly two ports "
                             "('ethernetPortIds'), not %zu", what,
                jlen(ports));
        return -1;
    }
    if (str_eq(jat(ports, 0), jat(ports, 1))) {
        err_set(ERR_INVALID, "cannot %s: 'ethernetPortIds' names port '%s' "
                             "twice", what, jat(ports, 0));
        return -1;
    }
    for (i = 0; i < 2; i++) {
        AUTOPTR(json_object) json_object *p = sto_sv_get(v, "EthernetPort",
                                                         jat(ports, i));

        if (!p)
            return -1;
        if (!str_eq(json_str(p, "port_type"), "PHYSICAL")) {
            err_set(ERR_STATE, "cannot %s: port '%s' is a %s, and a bond is "
                               "made of physical ports", what, sto_rname(p),
                    str_eq(json_str(p, "port_type"), "BOND") ? "bond"
                                                             : "virtual port");
            return -1;
        }
        if (!str_eq(json_str(p, "server_id"), server)) {
            err_set(ERR_STATE, "cannot %s: port '%s' is on server '%s', not "
                               "on server '%s'", what, sto_rname(p),
                    nm(v, "Server", json_str(p, "server_id"), pn, sizeof(pn)),
                    nm(v, "Server", server, sn, sizeof(sn)));
            return -1;
        }
        if (port_free(v, p, bond, NULL, what) < 0)
            return -1;
    }
    return 0;
}

int
net_check_bond_create(const struct storage_view *v, json_object *args,
                      const char *mgr)
{
    const char *server = json_str(args, "server");
    const char *ifname = json_str(args, "interfaceName");
    const char *mode = json_str(args, "bondMode");
    char what[96], bwhat[96], sn[256];
    int r;

    snprintf(what, sizeof(what), "make bond '%s'", ifname ? ifname : "?");
    snprintf(bwhat, sizeof(bwhat), "bond '%s'", ifname ? ifname : "?");
    if (!net_bond_mode_valid(mode)) {
        err_set(ERR_INVALID, "'bondMode' must be ACTIVE_PASSIVE, "
                             "LINK_AGGREGATION or LOAD_BALANCED");
        return -1;
    }
    if (!bond_name_valid(ifname)) {
        err_set(ERR_INVALID, "'interfaceName' '%s' is not a bond name: "
                             "bond and 1 to 3 digits (bond0)",
                ifname ? ifname : "");
        return -1;
    }
    if (mtu_check(sto_jint(args, "mtu", 1500)) < 0)
        return -1;
    if (server_ok(v, server, mgr, true, what) < 0)
        return -1;
    if ((r = ifname_taken(v, server, ifname)) != 0) {
        if (r > 0)
            err_set(ERR_EXISTS, "cannot %s: server '%s' already has an "
                                "interface '%s'", what,
                    nm(v, "Server", server, sn, sizeof(sn)), ifname);
        return -1;
    }
    if (bond_ports_check(v, jarr(args, "ports"), server, NULL, what) < 0 ||
        ipconf_args_check(v, args, bwhat, NULL) < 0)
        return -1;
    return np_ops() ? 0 : -1;
}

/* The ids of the members of bond @bond, by name. */
static int
bond_members(const struct storage_view *v, const char *bond, char ***ids,
             size_t *n)
{
    return sto_sv_ids(v, "EthernetPort", "bond_port_id", bond, ids, n);
}

/*
 * What ethernetport.update @args changes on the host of bond row @p:
 * *mode (the bond mode) and *ports (the member set). 0 or -1.
 */
static int
bond_change(const struct storage_view *v, json_object *p, json_object *args,
            bool *mode, bool *ports)
{
    json_object *want = jarr(args, "ports");
    char **ids = NULL;
    size_t n = 0, i, k;

    *mode = json_str(args, "bondMode") &&
            !str_eq(json_str(args, "bondMode"), json_str(p, "bond_mode"));
    *ports = false;
    if (!want)
        return 0;
    if (bond_members(v, json_str(p, "id"), &ids, &n) < 0)
        return -1;
    *ports = n != jlen(want);
    for (i = 0; i < jlen(want) && !*ports; i++) {
        bool in = false;

        for (k = 0; k < n; k++)
            in = in || str_eq(ids[k], jat(want, i));
        *ports = !in;
    }
    sto_ids_free(ids, n);
    return 0;
}

int
net_check_port_update(const struct storage_view *v, json_object *args,
                      const char *mgr)
{
    const char *id = json_str(args, "id");
    AUTOPTR(json_object) json_object *p = sto_sv_get(v, "EthernetPort", id);
    AUTOPTR(json_object) json_object *net = NULL;
    char what[400], pwhat[300], n[256];
    bool bond, mc, pc;

    if (!p)
        return -1;
    bond = str_eq(json_str(p, "port_type"), "BOND");
    snprintf(pwhat, sizeof(pwhat), "%s '%s'", bond ? "bond" : "port",
             sto_rname(p));
    snprintf(what, sizeof(what), "change %s", pwhat);
    if (json_object_object_get_ex(args, "mtu", NULL) &&
        mtu_check(sto_jint(args, "mtu", 0)) < 0)
        return -1;
    if (!bond && (json_str(args, "bondMode") || jarr(args, "ports"))) {
        err_set(ERR_INVALID, "port '%s' is a physical port: only a bond has "
                             "a 'bondMode' and 'physicalPortIds'",
                sto_rname(p));
        return -1;
    }
    if (json_str(args, "bondMode") &&
        !net_bond_mode_valid(json_str(args, "bondMode"))) {
        err_set(ERR_INVALID, "'bondMode' must be ACTIVE_PASSIVE, "
                             "LINK_AGGREGATION or LOAD_BALANCED");
        return -1;
    }
    if (jarr(args, "ports") && jlen(jarr(args, "ports")) != 2) {
        err_set(ERR_INVALID, "cannot %s: a bond is made of exactly two ports "
                             "('physicalPortIds'), not %zu", what,
                jlen(jarr(args, "ports")));
        return -1;
    }
    if (ipconf_args_check(v, args, pwhat, id) < 0)
        return -1;
    if (!bond)
        return 0;
    if (bond_change(v, p, args, &mc, &pc) < 0)
        return -1;
    if (!mc && !pc)
        return 0;
    if (json_str(p, "network_id")) {
        if (!(net = sto_sv_get(v, "Network", json_str(p, "network_id"))))
            return -1;
        if (mc && net_has_role(net, "MANAGEMENT")) {
            err_set(ERR_STATE, "the bond mode of bond '%s' cannot change: it "
                               "is on management network '%s'", sto_rname(p),
                    sto_rname(net));
            return -1;
        }
        err_set(ERR_STATE, "cannot change the %s of bond '%s' while it is in "
                           "network '%s': remove it from network '%s' first",
                mc ? "bond mode" : "ports", sto_rname(p), sto_rname(net),
                sto_rname(net));
        return -1;
    }
    if (json_str(p, "vlan_group_id")) {
        nm(v, "VlanGroup", json_str(p, "vlan_group_id"), n, sizeof(n));
        err_set(ERR_STATE, "cannot change the %s of bond '%s' while it is in "
                           "VLAN group '%s': remove it from VLAN group '%s' "
                           "first", mc ? "bond mode" : "ports", sto_rname(p),
                n, n);
        return -1;
    }
    if (server_ok(v, json_str(p, "server_id"), mgr, true, what) < 0)
        return -1;
    if (pc && bond_ports_check(v, jarr(args, "ports"),
                               json_str(p, "server_id"), id, what) < 0)
        return -1;
    return np_ops() ? 0 : -1;
}

int
net_check_port_delete(const struct storage_view *v, const char *id)
{
    AUTOPTR(json_object) json_object *p = sto_sv_get(v, "EthernetPort", id);
    char n[256];

    if (!p)
        return -1;
    if (!str_eq(json_str(p, "port_type"), "BOND")) {
        err_set(ERR_STATE, "port '%s' is a physical port and cannot be "
                           "deleted: ports come with discovery",
                sto_rname(p));
        return -1;
    }
    if (json_str(p, "network_id")) {
        nm(v, "Network", json_str(p, "network_id"), n, sizeof(n));
        err_set(ERR_STATE, "cannot delete bond '%s': it is in network '%s'; "
                           "remove it from network '%s' first", sto_rname(p),
                n, n);
        return -1;
    }
    if (json_str(p, "vlan_group_id")) {
        nm(v, "VlanGroup", json_str(p, "vlan_group_id"), n, sizeof(n));
        err_set(ERR_STATE, "cannot delete bond '%s': it is in VLAN group "
                           "'%s'; remove it from VLAN group '%s' first",
                sto_rname(p), n, n);
        return -1;
    }
    return np_ops() ? 0 : -1;
}

/* The network using VLAN segment @seg: 1 with its name in @out, 0 when
 * none, -1. */
static int
segment_network(const struct storage_view *v, const char *seg, char *out,
                size_t size)
{
    char **ids = NULL;
    size_t n = 0;

    if (sto_sv_ids(v, "Network", "vlan_segment_id", seg, &ids, &n) < 0)
        return -1;
    if (n > 0)
        nm(v, "Network", ids[0], out, size);
    sto_ids_free(ids, n);
    return n > 0;
}

/* The VLAN interface name of VLAN @tag over @parent, checked against
 * IFNAMSIZ. ERR_INVALID. */
static int
vlan_ifname(const char *parent, int64_t tag, char *out, size_t size)
{
    int len = snprintf(out, size, "%s.%" PRId64, parent ? parent : "", tag);

    if (len < 0 || len > IFNAME_MAX || (size_t)len >= size) {
        err_set(ERR_INVALID, "VLAN interface '%s.%" PRId64 "' would have a "
                             "name longer than %d characters",
                parent ? parent : "", tag, IFNAME_MAX);
        return -1;
    }
    return 0;
}

/*
 * Ports @ids may carry tagged VLAN @tags (@ntags of them): their servers
 * RUNNING, and every VLAN interface name short enough, for @what.
 */
static int
ports_vlan_ready(const struct storage_view *v, const char *const *ids, size_t n,
                 const int64_t *tags, size_t ntags, const char *what)
{
    size_t i, k;
    char ifn[64];

    if (n == 0 || ntags == 0)
        return 0;
    for (i = 0; i < n; i++) {
        AUTOPTR(json_object) json_object *p = sto_sv_get(v, "EthernetPort",
                                                         ids[i]);

        if (!p || server_ok(v, json_str(p, "server_id"), NULL, true, what) < 0)
            return -1;
        for (k = 0; k < ntags; k++) {
            if (vlan_ifname(json_str(p, "interface_name"), tags[k], ifn,
                            sizeof(ifn)) < 0)
                return -1;
        }
    }
    return np_ops() ? 0 : -1;
}

/* The VLAN ids of the tagged segments of group @group: *tags (xfree()),
 * *n. */
static int
group_tags(const struct storage_view *v, const char *group, int64_t **tags,
           size_t *n)
{
    char **segs = NULL;
    size_t ns = 0, i;

    *tags = NULL;
    *n = 0;
    if (sto_sv_ids(v, "VlanSegment", "vlan_group_id", group, &segs, &ns) < 0)
        return -1;
    *tags = xcalloc(ns + 1, sizeof(**tags));
    for (i = 0; i < ns; i++) {
        AUTOPTR(json_object) json_object *s = sto_sv_get(v, "VlanSegment",
                                                         segs[i]);

        if (!s) {
            sto_ids_free(segs, ns);
            return -1;
        }
        if (sto_jint(s, "tagged", 1))
            (*tags)[(*n)++] = sto_jint(s, "vlan_id", 0);
    }
    sto_ids_free(segs, ns);
    return 0;
}

int
net_check_vlangroup_create(const struct storage_view *v, json_object *args,
                           const char *mgr)
{
    json_object *ports = jarr(args, "ports");
    char what[400];
    size_t i, k;

    if (!present(json_str(args, "name"))) {
        err_set(ERR_INVALID, "a new VLAN group needs a 'name'");
        return -1;
    }
    if (mtu_check(sto_jint(args, "mtu", 1500)) < 0)
        return -1;
    snprintf(what, sizeof(what), "make VLAN group '%s'",
             json_str(args, "name"));
    for (i = 0; i < jlen(ports); i++) {
        for (k = 0; k < i; k++) {
            if (str_eq(jat(ports, i), jat(ports, k))) {
                err_set(ERR_INVALID, "'ethernetPortIds' names port '%s' "
                                     "twice", jat(ports, i));
                return -1;
            }
        }
    }
    for (i = 0; i < jlen(ports); i++) {
        AUTOPTR(json_object) json_object *p = sto_sv_get(v, "EthernetPort",
                                                         jat(ports, i));

        if (!p || server_ok(v, json_str(p, "server_id"), mgr, false,
                            what) < 0 ||
            port_free(v, p, NULL, NULL, what) < 0)
            return -1;
    }
    return 0;
}

int
net_check_vlangroup_update(const struct storage_view *v, json_object *args)
{
    AUTOPTR(json_object) json_object *g = sto_sv_get(v, "VlanGroup",
                                                     json_str(args, "id"));

    if (!g)
        return -1;
    if (json_object_object_get_ex(args, "mtu", NULL) &&
        mtu_check(sto_jint(args, "mtu", 0)) < 0)
        return -1;
    return 0;
}

/* The first segment of group @group used by a network: 1 with the
 * segment's and the network's names, 0, -1. */
static int
group_used(const struct storage_view *v, const char *group, char *seg,
           char *net, size_t size, bool *tagged)
{
    char **segs = NULL;
    size_t ns = 0, i;
    int rc = 0;

    if (sto_sv_ids(v, "VlanSegment", "vlan_group_id", group, &segs, &ns) < 0)
        return -1;
    for (i = 0; i < ns && rc == 0; i++) {
        if ((rc = segment_network(v, segs[i], net, size)) > 0) {
            AUTOPTR(json_object) json_object *s = sto_sv_get(v, "VlanSegment",
                                                             segs[i]);

            str_copy(seg, s ? sto_rname(s) : "?", size);
            if (tagged)
                *tagged = sto_jint(s, "tagged", 1) != 0;
            err_clear();
        }
    }
    sto_ids_free(segs, ns);
    return rc;
}

int
net_check_vlangroup_port(const struct storage_view *v, const char *group,
                         const char *port, bool add, const char *mgr)
{
    AUTOPTR(json_object) json_object *g = sto_sv_get(v, "VlanGroup", group);
    AUTOPTR(json_object) json_object *p = NULL;
    char what[600], seg[256], net[256];
    const char *one[1] = { port };
    int64_t *tags = NULL;
    size_t ntags = 0;
    bool tagged = true;
    int rc = -1, u;

    if (!g || !(p = sto_sv_get(v, "EthernetPort", port)))
        return -1;
    snprintf(what, sizeof(what), "%s port '%s' %s VLAN group '%s'",
             add ? "add" : "remove", sto_rname(p), add ? "to" : "from",
             sto_rname(g));
    if (!add) {
        if (!str_eq(json_str(p, "vlan_group_id"), group)) {
            err_set(ERR_STATE, "port '%s' is not in VLAN group '%s'",
                    sto_rname(p), sto_rname(g));
            return -1;
        }
        /* A network over a segment of the group uses every port of the
         * group: through its VLAN interface there (tagged) or the port
         * itself (untagged). */
        if ((u = group_used(v, group, seg, net, sizeof(seg), &tagged)) != 0) {
            if (u > 0)
                err_set(ERR_STATE, "cannot %s: network '%s' uses it through "
                                   "%s VLAN segment '%s'; remove the segment "
                                   "from network '%s' first", what, net,
                        tagged ? "the VLAN interface of" : "untagged", seg,
                        net);
            return -1;
        }
        return 0;
    }
    if (str_eq(json_str(p, "vlan_group_id"), group)) {
        err_set(ERR_EXISTS, "port '%s' is already in VLAN group '%s'",
                sto_rname(p), sto_rname(g));
        return -1;
    }
    if (server_ok(v, json_str(p, "server_id"), mgr, false, what) < 0 ||
        port_free(v, p, NULL, NULL, what) < 0)
        return -1;
    if ((u = group_used(v, group, seg, net, sizeof(seg), NULL)) != 0) {
        if (u > 0)
            err_set(ERR_STATE, "cannot %s: its VLAN segment '%s' is used by "
                               "network '%s'; remove the segment from the "
                               "network first", what, seg, net);
        return -1;
    }
    if (group_tags(v, group, &tags, &ntags) < 0)
        goto out;
    rc = ports_vlan_ready(v, one, 1, tags, ntags, what);
 out:
    xfree(tags);
    return rc;
}

int
net_check_vlangroup_delete(const struct storage_view *v, const char *id)
{
    AUTOPTR(json_object) json_object *g = sto_sv_get(v, "VlanGroup", id);
    char seg[256], net[256];
    int u;

    if (!g)
        return -1;
    if ((u = group_used(v, id, seg, net, sizeof(seg), NULL)) != 0) {
        if (u > 0)
            err_set(ERR_STATE, "cannot delete VLAN group '%s': its VLAN "
                               "segment '%s' is used by network '%s'; remove "
                               "the segment from network '%s' first",
                    sto_rname(g), seg, net, net);
        return -1;
    }
    return 0;
}

int
net_check_vlansegment_create(const struct storage_view *v, json_object *args)
{
    const char *group = json_str(args, "group");
    int64_t tag = sto_jint(args, "vlanId", 0);
    bool tagged = sto_jint(args, "tagged", 1) != 0;
    AUTOPTR(json_object) json_object *g = NULL;
    char **segs = NULL, **ports = NULL, what[400];
    size_t ns = 0, np = 0, i;
    int rc = -1;

    if (tag < 1 || tag > 4094) {
        err_set(ERR_INVALID, "'vlanId' must be 1..4094, not %" PRId64, tag);
        return -1;
    }
    if (!present(json_str(args, "name"))) {
        err_set(ERR_INVALID, "a VLAN segment needs a 'name'");
        return -1;
    }
    if (!(g = sto_sv_get(v, "VlanGroup", group)))
        return -1;
    snprintf(what, sizeof(what), "add VLAN %" PRId64 " to VLAN group '%s'",
             tag, sto_rname(g));
    if (sto_sv_ids(v, "VlanSegment", "vlan_group_id", group, &segs, &ns) < 0)
        return -1;
    for (i = 0; i < ns; i++) {
        AUTOPTR(json_object) json_object *s = sto_sv_get(v, "VlanSegment",
                                                         segs[i]);

        if (!s)
            goto out;
        if (sto_jint(s, "vlan_id", 0) == tag) {
            err_set(ERR_EXISTS, "VLAN group '%s' already has VLAN %" PRId64
                                " (segment '%s')", sto_rname(g), tag,
                    sto_rname(s));
            goto out;
        }
        if (!tagged && !sto_jint(s, "tagged", 1)) {
            err_set(ERR_EXISTS, "VLAN group '%s' already has an untagged "
                                "segment ('%s'): a group has one at most",
                    sto_rname(g), sto_rname(s));
            goto out;
        }
    }
    if (tagged) {
        if (sto_sv_ids(v, "EthernetPort", "vlan_group_id", group, &ports,
                       &np) < 0 ||
            ports_vlan_ready(v, (const char *const *)ports, np, &tag, 1,
                             what) < 0)
            goto out;
    }
    rc = 0;
 out:
    sto_ids_free(segs, ns);
    sto_ids_free(ports, np);
    return rc;
}

int
net_check_vlansegment_delete(const struct storage_view *v, const char *id)
{
    AUTOPTR(json_object) json_object *s = sto_sv_get(v, "VlanSegment", id);
    char net[256];
    int u;

    if (!s)
        return -1;
    if ((u = segment_network(v, id, net, sizeof(net))) != 0) {
        if (u > 0)
            err_set(ERR_STATE, "VLAN segment '%s' is used by network '%s': "
                               "remove it from network '%s' first",
                    sto_rname(s), net, net);
        return -1;
    }
    return 0;
}

int
net_check_vlaninterface_update(const struct storage_view *v,
                               json_object *args)
{
    const char *id = json_str(args, "id");
    AUTOPTR(json_object) json_object *f = sto_sv_get(v, "VlanInterface", id);
    char what[300];

    if (!f)
        return -1;
    snprintf(what, sizeof(what), "VLAN interface '%s'", sto_rname(f));
    return ipconf_args_check(v, args, what, id);
}

/* ---- the host side ---- */

/* A host action for server @server (@sv: its name, for messages). */
static json_object *
act_new(const char *action, const char *server, const char *sname)
{
    json_object *a = json_object_new_object();

    sto_set_str(a, "action", action);
    sto_set_str(a, "server", server);
    sto_set_str(a, "serverName", sname);
    return a;
}

/* Set the IP configuration of action @a (NULL @type: NONE). */
static void
act_ip(json_object *a, const char *type, const char *addr, const char *mask,
       const char *gw)
{
    sto_set_str(a, "addressType", type ? type : "NONE");
    sto_set_str(a, "ipAddress", present(addr) ? addr : NULL);
    sto_set_str(a, "netmask", present(mask) ? mask : NULL);
    sto_set_str(a, "gateway", present(gw) ? gw : NULL);
}

/* The IP configuration of row @r (port, bond or VLAN interface) into
 * action @a. */
static void
act_ip_row(json_object *a, json_object *r)
{
    act_ip(a, json_str(r, "address_type"), json_str(r, "ip_address"),
           json_str(r, "netmask"), json_str(r, "gateway"));
}

static json_object *
act_remove(const char *server, const char *sname, const char *name)
{
    json_object *a = act_new("iface_remove", server, sname);

    sto_set_str(a, "name", name);
    return a;
}

static json_object *
act_bond(const char *server, const char *sname, const char *name,
         const char *mode, const char *port1, const char *port2, int64_t mtu)
{
    json_object *a = act_new("bond_define", server, sname);

    sto_set_str(a, "name", name);
    sto_set_str(a, "mode", mode);
    sto_set_str(a, "port1", port1);
    sto_set_str(a, "port2", port2);
    json_object_object_add(a, "mtu", json_object_new_int64(mtu));
    return a;
}

static json_object *
act_vlan(const char *server, const char *sname, const char *parent,
         int64_t tag)
{
    json_object *a = act_new("vlan_define", server, sname);

    sto_set_str(a, "parent", parent);
    json_object_object_add(a, "tag", json_object_new_int64(tag));
    return a;
}

/* What host action @a does, as text ("define bond0", "remove eth1.5"),
 * into @out. */
static const char *
act_text(json_object *a, char *out, size_t size)
{
    const char *action = json_str(a, "action");

    if (str_eq(action, "vlan_define"))
        snprintf(out, size, "define VLAN interface %s.%" PRId64,
                 json_str(a, "parent") ? json_str(a, "parent") : "",
                 sto_jint(a, "tag", 0));
    else
        snprintf(out, size, "%s %s",
                 str_eq(action, "iface_remove") ? "remove" : "define bond",
                 json_str(a, "name") ? json_str(a, "name") : "?");
    return out;
}

/*
 * Run host action @a. @lenient (putting things back): a define of a
 * device that exists counts as done. A removal of a device the host
 * does not have always counts as done. 0, or -1 naming the server.
 */
static int
hv_run(struct db *db, json_object *a, bool lenient)
{
    const struct hv_net_ops *o = np_ops();
    const char *action = json_str(a, "action"), *name = json_str(a, "name");
    const char *sname = json_str(a, "serverName");
    struct hv_ipconf ip;
    struct hv_conn *c = NULL;
    char text[128], msg[512];
    int rc = -1;

    ip.type = json_str(a, "addressType") ? json_str(a, "addressType") : "NONE";
    ip.address = json_str(a, "ipAddress");
    ip.netmask = json_str(a, "netmask");
    ip.gateway = json_str(a, "gateway");
    if (!o || !(c = storage_server_open(db, json_str(a, "server"))))
        goto out;
    if (str_eq(action, "bond_define") && o->bond_define)
        rc = o->bond_define(c, name, json_str(a, "mode"), json_str(a, "port1"),
                            json_str(a, "port2"),
                            (unsigned)sto_jint(a, "mtu", 1500), &ip);
    else if (str_eq(action, "vlan_define") && o->vlan_define)
        rc = o->vlan_define(c, json_str(a, "parent"),
                            (unsigned)sto_jint(a, "tag", 0), &ip);
    else if (str_eq(action, "iface_remove") && o->iface_remove)
        rc = o->iface_remove(c, name);
    else
        err_set(ERR_UNSUPPORTED, "host action '%s' is not supported",
                action ? action : "?");
    if (rc < 0 && ((str_eq(action, "iface_remove") &&
                    err_code() == ERR_NOT_FOUND) ||
                   (lenient && !str_eq(action, "iface_remove") &&
                    err_code() == ERR_EXISTS))) {
        err_clear();
        rc = 0;
    }
 out:
    if (c)
        storage_hv->close(c);
    if (rc < 0) {
        struct err e = *err_get();

        snprintf(msg, sizeof(msg), "%s", e.message);
        err_set(e.code, "cannot %s on server '%s': %s",
                act_text(a, text, sizeof(text)), sname ? sname : "?", msg);
    }
    return rc;
}

/* The "hv" array of undo data @u. */
static json_object *
hv_of(json_object *u)
{
    json_object *hv = NULL;

    json_object_object_get_ex(u, "hv", &hv);
    return hv;
}

/*
 * Run the host actions of @u newest first: @strict (an undo): stop at
 * the first failure with -1; else (putting back after a failure) log
 * failures and go on.
 */
static int
hv_rollback(struct job_ctx *ctx, json_object *u, bool strict)
{
    json_object *hv = hv_of(u);
    size_t i;

    for (i = jlen(hv); i-- > 0;) {
        json_object *a = json_object_array_get_idx(hv, i);
        char text[128];

        job_progress(ctx, "putting back: %s on server %s",
                     act_text(a, text, sizeof(text)),
                     json_str(a, "serverName"));
        if (hv_run(job_db(ctx), a, true) < 0) {
            if (strict)
                return -1;
            log_warnx("job %" PRId64 ": %s", job_id(ctx), err_message());
            err_clear();
        }
    }
    return 0;
}

/* A failure after host steps: put them back, keep the error, -1. */
static int
np_fail(struct job_ctx *ctx, json_object *u)
{
    struct err e = *err_get();

    hv_rollback(ctx, u, false);
    json_object_object_add(u, "hv", json_object_new_array());
    sto_err_keep(&e);
    return -1;
}

/* Do host action @fwd, journaling its inverse @inv in @u (both taken). */
static int
hv_step(struct job_ctx *ctx, json_object *u, json_object *fwd,
        json_object *inv)
{
    char text[128];
    int rc;

    job_progress(ctx, "%s on server %s", act_text(fwd, text, sizeof(text)),
                 json_str(fwd, "serverName"));
    rc = hv_run(job_db(ctx), fwd, false);
    json_object_put(fwd);
    if (rc < 0) {
        json_object_put(inv);
        return -1;
    }
    json_object_array_add(hv_of(u), inv);
    return 0;
}

/*
 * Remove device @dev of port row @p's server (@inv: its define, taken);
 * a server that is not running is skipped, its name added to @skipped.
 */
static int
hv_remove_step(struct job_ctx *ctx, const struct storage_view *v,
               json_object *u, json_object *p, const char *dev,
               json_object *inv, json_object *skipped)
{
    const char *server = json_str(p, "server_id");
    char sn[256];

    nm(v, "Server", server, sn, sizeof(sn));
    if (!sto_running(v, server)) {
        json_object_array_add(skipped, json_object_new_string(sn));
        json_object_put(inv);
        return 0;
    }
    return hv_step(ctx, u, act_remove(server, sn, dev), inv);
}

/* WARNING events for the devices @skipped kept (one per server). */
static int
skipped_events(struct job_ctx *ctx, struct db_txn *t, json_object *skipped,
               const char *etype, const char *otype, const char *id,
               const char *name, const char *what)
{
    size_t i;

    for (i = 0; i < jlen(skipped); i++) {
        if (sto_ev(ctx, t, SEV_WARNING, etype, otype, id, name,
                   "%s stays on server '%s', which is not running: remove "
                   "it there by hand", what, jat(skipped, i)) < 0)
            return -1;
    }
    return 0;
}

/*
 * Commit @t (when @rc is 0) with undo data @u; when @rc or the commit
 * fails, roll back and put the host steps of @u back, keeping the error.
 */
static int
np_finish(struct job_ctx *ctx, struct db_txn *t, int rc, json_object *u)
{
    if (rc == 0 && sto_finish(ctx, t, 0, u) == 0)
        return 0;
    if (rc < 0)
        db_txn_rollback(t);
    return np_fail(ctx, u);
}

/* Write every row journaled in @u back (before the journal deletes what
 * was created: see DESIGN). */
static int
rows_restore(struct db_txn *t, json_object *u)
{
    json_object *steps = NULL;
    size_t i;

    json_object_object_get_ex(u, "steps", &steps);
    for (i = 0; i < jlen(steps); i++) {
        json_object *s = json_object_array_get_idx(steps, i), *row = NULL;
        const char *type = json_str(s, "type");

        if (!type || !json_object_object_get_ex(s, "row", &row) ||
            !model_type_find(type))
            continue;
        if (db_txn_row_restore(t, sto_mt(type), row) < 0)
            return -1;
    }
    return 0;
}

/* The undo of every operation here: the host actions, newest first, then
 * the rows. */
static int
np_undo(struct job_ctx *ctx, json_object *args, json_object *undo)
{
    struct db_txn *t;

    (void)args;
    if (hv_rollback(ctx, undo, true) < 0 || !(t = job_txn_begin(ctx)))
        return -1;
    if (rows_restore(t, undo) < 0 || sto_journal_apply(ctx, t, undo) < 0) {
        db_txn_rollback(t);
        return -1;
    }
    return job_txn_commit(ctx, t, NULL);
}

/* ---- rows ---- */

/* Copy the common members of @args (name, description, userData) into
 * columns @cols; "what changed" into @what. */
static void
common_cols(json_object *args, json_object *row, json_object *cols,
            char *what, size_t size)
{
    json_object *ud = NULL;
    const char *name = json_str(args, "name");
    const char *desc = json_str(args, "description");

    if (name && !str_eq(name, sto_rname(row))) {
        sto_set_str(cols, "name", name);
        what_add(what, size, "name");
    }
    if (desc && !str_eq(desc, json_str(row, "description")
                                  ? json_str(row, "description") : "")) {
        sto_set_str(cols, "description", desc);
        what_add(what, size, "description");
    }
    if (json_object_object_get_ex(args, "userData", &ud) && ud) {
        sto_set_str(cols, "user_data", json_to_text(ud));
        what_add(what, size, "userData");
    }
}

/* The IP configuration of @args (when it has one) into columns @cols. */
static void
ip_cols(json_object *args, json_object *row, json_object *cols, char *what,
        size_t size)
{
    static const char *const keys[][2] = {
        { "addressType", "address_type" }, { "ipAddress", "ip_address" },
        { "netmask", "netmask" }, { "gateway", "gateway" },
    };
    bool changed = false;
    size_t i;

    if (!json_str(args, "addressType"))
        return;
    for (i = 0; i < 4; i++) {
        const char *val = json_str(args, keys[i][0]);

        if (!present(val))
            val = NULL;
        changed = changed || !str_eq(val, json_str(row, keys[i][1]));
        sto_set_str(cols, keys[i][1], val);
    }
    if (changed)
        what_add(what, size, "IP configuration");
}

/* Insert a VLAN interface of segment @seg (VLAN @tag) on port row @p. */
static int
vlanif_insert(const struct storage_view *v, json_object *u, const char *seg,
              int64_t tag, json_object *p)
{
    AUTOPTR(json_object) json_object *row = json_object_new_object();
    char *AUTOFREE id = model_id_new(sto_mt("VlanInterface"));
    char *AUTOFREE name = NULL;
    char ifn[64], sn[256];

    if (vlan_ifname(json_str(p, "interface_name"), tag, ifn, sizeof(ifn)) < 0)
        return -1;
    name = xasprintf("%s on %s", ifn,
                     nm(v, "Server", json_str(p, "server_id"), sn,
                        sizeof(sn)));
    sto_set_str(row, "id", id);
    sto_set_str(row, "name", name);
    sto_set_str(row, "vlan_segment_id", seg);
    sto_set_str(row, "ethernet_port_id", json_str(p, "id"));
    json_object_object_add(row, "vlan_id", json_object_new_int64(tag));
    sto_set_str(row, "interface_name", ifn);
    if (db_txn_row_insert(v->t, sto_mt("VlanInterface"), row) < 0)
        return -1;
    sto_jr_created(u, "VlanInterface", id);
    return 0;
}

/* Define VLAN @tag on port row @p's server (its inverse journaled). */
static int
vlan_define_on(struct job_ctx *ctx, const struct storage_view *v,
               json_object *u, json_object *p, int64_t tag)
{
    const char *server = json_str(p, "server_id");
    const char *parent = json_str(p, "interface_name");
    char sn[256], ifn[64];
    json_object *fwd;

    if (vlan_ifname(parent, tag, ifn, sizeof(ifn)) < 0)
        return -1;
    nm(v, "Server", server, sn, sizeof(sn));
    fwd = act_vlan(server, sn, parent, tag);
    act_ip(fwd, NULL, NULL, NULL, NULL);
    return hv_step(ctx, u, fwd, act_remove(server, sn, ifn));
}

/* Remove VLAN interface row @f from its port's server (journaling its
 * define); a server not running goes into @skipped. */
static int
vlan_remove_on(struct job_ctx *ctx, const struct storage_view *v,
               json_object *u, json_object *f, json_object *skipped)
{
    AUTOPTR(json_object) json_object *p = sto_sv_get(
        v, "EthernetPort", json_str(f, "ethernet_port_id"));
    char sn[256];
    json_object *inv;

    if (!p)
        return -1;
    nm(v, "Server", json_str(p, "server_id"), sn, sizeof(sn));
    inv = act_vlan(json_str(p, "server_id"), sn, json_str(p, "interface_name"),
                   sto_jint(f, "vlan_id", 0));
    act_ip_row(inv, f);
    return hv_remove_step(ctx, v, u, p, json_str(f, "interface_name"), inv,
                          skipped);
}

/* The VLAN interfaces of segments @segs (@ns): ids appended to *ids. */
static int
segments_vlanifs(const struct storage_view *v, char *const *segs, size_t ns,
                 char ***ids, size_t *n)
{
    size_t i, k;

    for (i = 0; i < ns; i++) {
        char **f = NULL;
        size_t nf = 0;

        if (sto_sv_ids(v, "VlanInterface", "vlan_segment_id", segs[i], &f,
                       &nf) < 0)
            return -1;
        *ids = xrealloc(*ids, (*n + nf + 1) * sizeof(**ids));
        for (k = 0; k < nf; k++)
            (*ids)[(*n)++] = f[k];
        xfree(f);
    }
    return 0;
}

/* Remove the VLAN interfaces @ids (@n) from their hosts. */
static int
vlanifs_remove(struct job_ctx *ctx, const struct storage_view *v,
               json_object *u, char *const *ids, size_t n,
               json_object *skipped)
{
    size_t i;

    for (i = 0; i < n; i++) {
        AUTOPTR(json_object) json_object *f = sto_sv_get(v, "VlanInterface",
                                                         ids[i]);

        if (!f || vlan_remove_on(ctx, v, u, f, skipped) < 0)
            return -1;
    }
    return 0;
}

/* Journal and delete the rows of @type @ids (@n) in @t. */
static int
rows_delete(struct db_txn *t, json_object *u, const char *type,
            char *const *ids, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (sto_jr_row(t, u, type, ids[i]) < 0 ||
            db_txn_row_delete(t, sto_mt(type), ids[i]) < 0)
            return -1;
    }
    return 0;
}

/* Journal port @id and set its column @col to @val. */
static int
port_set(struct db_txn *t, json_object *u, const char *id, const char *col,
         const char *val)
{
    AUTOPTR(json_object) json_object *cols = json_object_new_object();

    sto_set_str(cols, col, val);
    if (sto_jr_row(t, u, "EthernetPort", id) < 0)
        return -1;
    return db_txn_row_update(t, sto_mt("EthernetPort"), id, cols, true);
}

/* ---- ethernetport.bond_create ---- */

static int
bond_create_step(struct job_ctx *ctx, const struct storage_view *tv,
                 json_object *args, const char *mgr, json_object *u)
{
    const char *id = json_str(args, "id"), *name = json_str(args, "name");
    const char *server = json_str(args, "server");
    json_object *ports = jarr(args, "ports"), *ud = NULL;
    AUTOPTR(json_object) json_object *row = json_object_new_object();
    AUTOPTR(json_object) json_object *p1 = NULL, *p2 = NULL;
    char sn[256];

    if (net_check_bond_create(tv, args, mgr) < 0 ||
        !(p1 = sto_sv_get(tv, "EthernetPort", jat(ports, 0))) ||
        !(p2 = sto_sv_get(tv, "EthernetPort", jat(ports, 1))))
        return -1;
    sto_set_str(row, "id", id);
    sto_set_str(row, "name", name);
    if (json_str(args, "description"))
        sto_set_str(row, "description", json_str(args, "description"));
    if (json_object_object_get_ex(args, "userData", &ud) && ud)
        sto_set_str(row, "user_data", json_to_text(ud));
    sto_set_str(row, "server_id", server);
    sto_set_str(row, "interface_name", json_str(args, "interfaceName"));
    sto_set_str(row, "mac_address", json_str(p1, "mac_address"));
    json_object_object_add(row, "mtu", json_object_new_int64(
                                           sto_jint(args, "mtu", 1500)));
    sto_set_str(row, "port_type", "BOND");
    sto_set_str(row, "port_state", "PORT_UP");
    sto_set_str(row, "bond_mode", json_str(args, "bondMode"));
    sto_set_str(row, "address_type", json_str(args, "addressType")
                                         ? json_str(args, "addressType")
                                         : "NONE");
    sto_set_str(row, "ip_address", json_str(args, "ipAddress"));
    sto_set_str(row, "netmask", json_str(args, "netmask"));
    sto_set_str(row, "gateway", json_str(args, "gateway"));
    if (db_txn_row_insert(tv->t, sto_mt("EthernetPort"), row) < 0)
        return -1;
    sto_jr_created(u, "EthernetPort", id);
    if (port_set(tv->t, u, jat(ports, 0), "bond_port_id", id) < 0 ||
        port_set(tv->t, u, jat(ports, 1), "bond_port_id", id) < 0)
        return -1;
    if (sto_ev(ctx, tv->t, SEV_INFORMATIONAL, "ethernetport.created",
               "EthernetPort", id, name, "bond '%s' (%s, %s) made on server "
               "'%s' over ports '%s' and '%s'", name,
               json_str(args, "interfaceName"), json_str(args, "bondMode"),
               nm(tv, "Server", server, sn, sizeof(sn)), sto_rname(p1),
               sto_rname(p2)) < 0)
        return -1;
    job_set_result(ctx, "EthernetPort", id, name);
    return 0;
}

static int
bond_create_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    struct db *db = job_db(ctx);
    struct storage_view rv = { db, NULL }, tv = { NULL, NULL };
    const char *server = json_str(args, "server");
    const char *ifname = json_str(args, "interfaceName");
    json_object *ports = jarr(args, "ports"), *fwd;
    AUTOPTR(json_object) json_object *u = sto_undo_new();
    AUTOPTR(json_object) json_object *p1 = NULL, *p2 = NULL;
    char *AUTOFREE mgr = NULL;
    char sn[256];
    struct db_txn *t;

    (void)undo;
    if (!json_str(args, "id") || !json_str(args, "name") || !server ||
        !ifname || !ports) {
        err_set(ERR_INVALID, "ethernetport.bond_create needs 'id', 'name', "
                             "'server', 'interfaceName' and 'ports'");
        return -1;
    }
    if (!(mgr = sto_manager_uuid(db)) ||
        net_check_bond_create(&rv, args, mgr) < 0 ||
        !(p1 = sto_sv_get(&rv, "EthernetPort", jat(ports, 0))) ||
        !(p2 = sto_sv_get(&rv, "EthernetPort", jat(ports, 1))))
        return -1;
    nm(&rv, "Server", server, sn, sizeof(sn));
    fwd = act_bond(server, sn, ifname, json_str(args, "bondMode"),
                   json_str(p1, "interface_name"),
                   json_str(p2, "interface_name"),
                   sto_jint(args, "mtu", 1500));
    act_ip(fwd, json_str(args, "addressType"), json_str(args, "ipAddress"),
           json_str(args, "netmask"), json_str(args, "gateway"));
    if (hv_step(ctx, u, fwd, act_remove(server, sn, ifname)) < 0)
        return -1;
    if (!(t = job_txn_begin(ctx)))
        return np_fail(ctx, u);
    tv.t = t;
    return np_finish(ctx, t, bond_create_step(ctx, &tv, args, mgr, u), u);
}

/* ---- ethernetport.update ---- */

/* The interface names of ports @ids (two) into @if1/@if2 (16 bytes). */
static int
port_ifnames(const struct storage_view *v, const char *id1, const char *id2,
             char *if1, char *if2)
{
    AUTOPTR(json_object) json_object *a = sto_sv_get(v, "EthernetPort", id1);
    AUTOPTR(json_object) json_object *b = NULL;

    if (!a || !(b = sto_sv_get(v, "EthernetPort", id2)))
        return -1;
    str_copy(if1, json_str(a, "interface_name"), 16);
    str_copy(if2, json_str(b, "interface_name"), 16);
    return 0;
}

static int
port_update_step(struct job_ctx *ctx, const struct storage_view *tv,
                 json_object *args, const char *mgr, json_object *u)
{
    const char *id = json_str(args, "id");
    AUTOPTR(json_object) json_object *p = NULL, *cols = NULL;
    json_object *ports = jarr(args, "ports");
    char **old = NULL, what[600];
    size_t nold = 0, i, k;
    bool mc, pc;
    int rc = -1;

    if (net_check_port_update(tv, args, mgr) < 0 ||
        !(p = sto_sv_get(tv, "EthernetPort", id)) ||
        gen_check(p, "EthernetPort", args) < 0 ||
        bond_change(tv, p, args, &mc, &pc) < 0 ||
        sto_jr_row(tv->t, u, "EthernetPort", id) < 0)
        return -1;
    what[0] = '\0';
    cols = json_object_new_object();
    common_cols(args, p, cols, what, sizeof(what));
    if (json_object_object_get_ex(args, "mtu", NULL) &&
        sto_jint(args, "mtu", 0) != sto_jint(p, "mtu", 0)) {
        json_object_object_add(cols, "mtu", json_object_new_int64(
                                                sto_jint(args, "mtu", 0)));
        what_add(what, sizeof(what), "mtu");
    }
    ip_cols(args, p, cols, what, sizeof(what));
    if (mc) {
        sto_set_str(cols, "bond_mode", json_str(args, "bondMode"));
        what_add(what, sizeof(what), "bond mode");
    }
    if (pc) {
        AUTOPTR(json_object) json_object *first = sto_sv_get(
            tv, "EthernetPort", jat(ports, 0));

        if (!first || bond_members(tv, id, &old, &nold) < 0)
            goto out;
        sto_set_str(cols, "mac_address", json_str(first, "mac_address"));
        for (i = 0; i < nold; i++) {
            bool keep = false;

            for (k = 0; k < jlen(ports); k++)
                keep = keep || str_eq(old[i], jat(ports, k));
            if (!keep && port_set(tv->t, u, old[i], "bond_port_id", NULL) < 0)
                goto out;
        }
        for (k = 0; k < jlen(ports); k++) {
            bool had = false;

            for (i = 0; i < nold; i++)
                had = had || str_eq(old[i], jat(ports, k));
            if (!had && port_set(tv->t, u, jat(ports, k), "bond_port_id",
                                 id) < 0)
                goto out;
        }
        what_add(what, sizeof(what), "ports");
    }
    if (db_txn_row_update(tv->t, sto_mt("EthernetPort"), id, cols, true) < 0)
        goto out;
    json_object_put(p);
    if (!(p = sto_sv_get(tv, "EthernetPort", id)) ||
        sto_ev(ctx, tv->t, SEV_INFORMATIONAL, "ethernetport.updated",
               "EthernetPort", id, sto_rname(p), "%s '%s' updated: %s",
               str_eq(json_str(p, "port_type"), "BOND") ? "bond" : "port",
               sto_rname(p), what[0] ? what : "no member changed") < 0)
        goto out;
    job_set_result(ctx, "EthernetPort", id, sto_rname(p));
    rc = 0;
 out:
    sto_ids_free(old, nold);
    return rc;
}

static int
port_update_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    struct db *db = job_db(ctx);
    struct storage_view rv = { db, NULL }, tv = { NULL, NULL };
    const char *id = json_str(args, "id");
    AUTOPTR(json_object) json_object *u = sto_undo_new(), *p = NULL;
    char *AUTOFREE mgr = NULL;
    char **old = NULL, sn[256], o1[16], o2[16], n1[16], n2[16];
    const char *server, *ifname, *mode;
    json_object *ports = jarr(args, "ports"), *a;
    size_t nold = 0;
    struct db_txn *t;
    bool mc, pc;
    int rc = -1;

    (void)undo;
    if (!id) {
        err_set(ERR_INVALID, "ethernetport.update needs 'id'");
        return -1;
    }
    if (!(mgr = sto_manager_uuid(db)) ||
        net_check_port_update(&rv, args, mgr) < 0 ||
        !(p = sto_sv_get(&rv, "EthernetPort", id)) ||
        gen_check(p, "EthernetPort", args) < 0 ||
        bond_change(&rv, p, args, &mc, &pc) < 0)
        return -1;
    if (mc || pc) {
        /* The bond again, as it will be: removed, then defined anew. */
        server = json_str(p, "server_id");
        ifname = json_str(p, "interface_name");
        mode = mc ? json_str(args, "bondMode") : json_str(p, "bond_mode");
        nm(&rv, "Server", server, sn, sizeof(sn));
        if (bond_members(&rv, id, &old, &nold) < 0)
            return -1;
        if (nold != 2) {
            err_set(ERR_STATE, "bond '%s' has %zu member ports, not two: "
                               "delete it and make it again", sto_rname(p),
                    nold);
            goto out;
        }
        if (port_ifnames(&rv, old[0], old[1], o1, o2) < 0 ||
            port_ifnames(&rv, pc ? jat(ports, 0) : old[0],
                         pc ? jat(ports, 1) : old[1], n1, n2) < 0)
            goto out;
        a = act_bond(server, sn, ifname, json_str(p, "bond_mode"), o1, o2,
                     sto_jint(p, "mtu", 1500));
        act_ip_row(a, p);
        if (hv_step(ctx, u, act_remove(server, sn, ifname), a) < 0)
            goto out;
        a = act_bond(server, sn, ifname, mode, n1, n2,
                     json_object_object_get_ex(args, "mtu", NULL)
                         ? sto_jint(args, "mtu", 1500)
                         : sto_jint(p, "mtu", 1500));
        if (json_str(args, "addressType"))
            act_ip(a, json_str(args, "addressType"),
                   json_str(args, "ipAddress"), json_str(args, "netmask"),
                   json_str(args, "gateway"));
        else
            act_ip_row(a, p);
        if (hv_step(ctx, u, a, act_remove(server, sn, ifname)) < 0) {
            rc = np_fail(ctx, u);
            goto out;
        }
    }
    if (!(t = job_txn_begin(ctx))) {
        rc = np_fail(ctx, u);
        goto out;
    }
    tv.t = t;
    rc = np_finish(ctx, t, port_update_step(ctx, &tv, args, mgr, u), u);
 out:
    sto_ids_free(old, nold);
    return rc;
}

/* ---- ethernetport.delete ---- */

static int
port_delete_step(struct job_ctx *ctx, const struct storage_view *tv,
                 json_object *args, json_object *u, json_object *skipped)
{
    const char *id = json_str(args, "id");
    AUTOPTR(json_object) json_object *p = NULL;
    char **mem = NULL, sn[256], what[400];
    size_t n = 0, i;
    int rc = -1;

    if (net_check_port_delete(tv, id) < 0 ||
        !(p = sto_sv_get(tv, "EthernetPort", id)) ||
        sto_jr_row(tv->t, u, "EthernetPort", id) < 0 ||
        bond_members(tv, id, &mem, &n) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        if (port_set(tv->t, u, mem[i], "bond_port_id", NULL) < 0)
            goto out;
    }
    nm(tv, "Server", json_str(p, "server_id"), sn, sizeof(sn));
    snprintf(what, sizeof(what), "bond %s", json_str(p, "interface_name"));
    if (db_txn_row_delete(tv->t, sto_mt("EthernetPort"), id) < 0 ||
        sto_ev(ctx, tv->t, SEV_INFORMATIONAL, "ethernetport.deleted",
               "EthernetPort", id, sto_rname(p), "bond '%s' (%s) removed from "
               "server '%s'; its %zu ports are free", sto_rname(p),
               json_str(p, "interface_name"), sn, n) < 0 ||
        skipped_events(ctx, tv->t, skipped, "ethernetport.not_removed",
                       "EthernetPort", id, sto_rname(p), what) < 0)
        goto out;
    job_set_result(ctx, "EthernetPort", id, sto_rname(p));
    rc = 0;
 out:
    sto_ids_free(mem, n);
    return rc;
}

static int
port_delete_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    struct db *db = job_db(ctx);
    struct storage_view rv = { db, NULL }, tv = { NULL, NULL };
    const char *id = json_str(args, "id");
    AUTOPTR(json_object) json_object *u = sto_undo_new(), *p = NULL;
    AUTOPTR(json_object) json_object *skipped = json_object_new_array();
    char **mem = NULL, sn[256], if1[16] = "", if2[16] = "";
    size_t n = 0;
    struct db_txn *t;
    json_object *inv;
    int rc = -1;

    (void)undo;
    if (!id) {
        err_set(ERR_INVALID, "ethernetport.delete needs 'id'");
        return -1;
    }
    if (net_check_port_delete(&rv, id) < 0 ||
        !(p = sto_sv_get(&rv, "EthernetPort", id)) ||
        bond_members(&rv, id, &mem, &n) < 0)
        return -1;
    if (n == 2 && port_ifnames(&rv, mem[0], mem[1], if1, if2) < 0)
        goto out;
    nm(&rv, "Server", json_str(p, "server_id"), sn, sizeof(sn));
    inv = act_bond(json_str(p, "server_id"), sn, json_str(p, "interface_name"),
                   json_str(p, "bond_mode"), if1, if2,
                   sto_jint(p, "mtu", 1500));
    act_ip_row(inv, p);
    if (hv_remove_step(ctx, &rv, u, p, json_str(p, "interface_name"), inv,
                       skipped) < 0)
        goto out;
    if (!(t = job_txn_begin(ctx))) {
        rc = np_fail(ctx, u);
        goto out;
    }
    tv.t = t;
    rc = np_finish(ctx, t, port_delete_step(ctx, &tv, args, u, skipped), u);
 out:
    sto_ids_free(mem, n);
    return rc;
}

/* ---- vlangroup.create / update (rows only) ---- */

static int
group_create_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
                  json_object *u)
{
    struct storage_view tv = { NULL, t };
    const char *id = json_str(args, "id"), *name = json_str(args, "name");
    json_object *ports = jarr(args, "ports"), *ud = NULL;
    AUTOPTR(json_object) json_object *row = json_object_new_object();
    char *AUTOFREE mgr = NULL;
    size_t i;

    if (!id) {
        err_set(ERR_INVALID, "vlangroup.create needs 'id'");
        return -1;
    }
    if (!(mgr = sto_manager_uuid(job_db(ctx))) ||
        net_check_vlangroup_create(&tv, args, mgr) < 0)
        return -1;
    sto_set_str(row, "id", id);
    sto_set_str(row, "name", name);
    if (json_str(args, "description"))
        sto_set_str(row, "description", json_str(args, "description"));
    if (json_object_object_get_ex(args, "userData", &ud) && ud)
        sto_set_str(row, "user_data", json_to_text(ud));
    json_object_object_add(row, "mtu", json_object_new_int64(
                                           sto_jint(args, "mtu", 1500)));
    if (db_txn_row_insert(t, sto_mt("VlanGroup"), row) < 0)
        return -1;
    sto_jr_created(u, "VlanGroup", id);
    for (i = 0; i < jlen(ports); i++) {
        if (port_set(t, u, jat(ports, i), "vlan_group_id", id) < 0)
            return -1;
    }
    if (sto_ev(ctx, t, SEV_INFORMATIONAL, "vlangroup.created", "VlanGroup",
               id, name, "VLAN group '%s' created with %zu port%s", name,
               jlen(ports), jlen(ports) == 1 ? "" : "s") < 0)
        return -1;
    job_set_result(ctx, "VlanGroup", id, name);
    return 0;
}

static int
group_update_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
                  json_object *u)
{
    struct storage_view tv = { NULL, t };
    const char *id = json_str(args, "id");
    AUTOPTR(json_object) json_object *g = NULL, *cols = NULL;
    char what[400];

    if (!id) {
        err_set(ERR_INVALID, "vlangroup.update needs 'id'");
        return -1;
    }
    if (net_check_vlangroup_update(&tv, args) < 0 ||
        !(g = sto_sv_get(&tv, "VlanGroup", id)) ||
        gen_check(g, "VlanGroup", args) < 0 ||
        sto_jr_row(t, u, "VlanGroup", id) < 0)
        return -1;
    what[0] = '\0';
    cols = json_object_new_object();
    common_cols(args, g, cols, what, sizeof(what));
    if (json_object_object_get_ex(args, "mtu", NULL) &&
        sto_jint(args, "mtu", 0) != sto_jint(g, "mtu", 0)) {
        json_object_object_add(cols, "mtu", json_object_new_int64(
                                                sto_jint(args, "mtu", 0)));
        what_add(what, sizeof(what), "mtu");
    }
    if (db_txn_row_update(t, sto_mt("VlanGroup"), id, cols, true) < 0)
        return -1;
    json_object_put(g);
    if (!(g = sto_sv_get(&tv, "VlanGroup", id)) ||
        sto_ev(ctx, t, SEV_INFORMATIONAL, "vlangroup.updated", "VlanGroup", id,
               sto_rname(g), "VLAN group '%s' updated: %s", sto_rname(g),
               what[0] ? what : "no member changed") < 0)
        return -1;
    job_set_result(ctx, "VlanGroup", id, sto_rname(g));
    return 0;
}

static int
vlanif_update_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
                   json_object *u)
{
    struct storage_view tv = { NULL, t };
    const char *id = json_str(args, "id");
    AUTOPTR(json_object) json_object *f = NULL, *cols = NULL;
    char what[400];

    if (!id) {
        err_set(ERR_INVALID, "vlaninterface.update needs 'id'");
        return -1;
    }
    if (net_check_vlaninterface_update(&tv, args) < 0 ||
        !(f = sto_sv_get(&tv, "VlanInterface", id)) ||
        gen_check(f, "VlanInterface", args) < 0 ||
        sto_jr_row(t, u, "VlanInterface", id) < 0)
        return -1;
    what[0] = '\0';
    cols = json_object_new_object();
    common_cols(args, f, cols, what, sizeof(what));
    ip_cols(args, f, cols, what, sizeof(what));
    if (db_txn_row_update(t, sto_mt("VlanInterface"), id, cols, true) < 0)
        return -1;
    json_object_put(f);
    if (!(f = sto_sv_get(&tv, "VlanInterface", id)) ||
        sto_ev(ctx, t, SEV_INFORMATIONAL, "vlaninterface.updated",
               "VlanInterface", id, sto_rname(f), "VLAN interface '%s' "
               "updated: %s", sto_rname(f),
               what[0] ? what : "no member changed") < 0)
        return -1;
    job_set_result(ctx, "VlanInterface", id, sto_rname(f));
    return 0;
}

#define ONE_TXN_RUN(fn, step)                                             \
    static int fn(struct job_ctx *ctx, json_object *args,                  \
                  json_object **undo)                                      \
    {                                                                      \
        AUTOPTR(json_object) json_object *u = sto_undo_new();              \
        struct db_txn *t = job_txn_begin(ctx);                             \
                                                                           \
        (void)undo;                                                        \
        if (!t)                                                            \
            return -1;                                                     \
        return sto_finish(ctx, t, step(ctx, t, args, u), u);               \
    }

ONE_TXN_RUN(group_create_run, group_create_step)
ONE_TXN_RUN(group_update_run, group_update_step)
ONE_TXN_RUN(vlanif_update_run, vlanif_update_step)

/* ---- vlangroup.port ---- */

static int
group_port_step(struct job_ctx *ctx, const struct storage_view *tv,
                json_object *args, const char *mgr, json_object *u,
                json_object *skipped)
{
    const char *id = json_str(args, "id"), *port = json_str(args, "port");
    bool add = sto_jint(args, "add", 0) != 0;
    AUTOPTR(json_object) json_object *g = NULL, *p = NULL;
    char **segs = NULL, **fs = NULL, what[400];
    size_t ns = 0, nf = 0, i;
    int rc = -1;

    if (net_check_vlangroup_port(tv, id, port, add, mgr) < 0 ||
        !(g = sto_sv_get(tv, "VlanGroup", id)) ||
        !(p = sto_sv_get(tv, "EthernetPort", port)) ||
        sto_jr_row(tv->t, u, "VlanGroup", id) < 0 ||
        port_set(tv->t, u, port, "vlan_group_id", add ? id : NULL) < 0)
        return -1;
    if (add) {
        if (sto_sv_ids(tv, "VlanSegment", "vlan_group_id", id, &segs, &ns) < 0)
            goto out;
        for (i = 0; i < ns; i++) {
            AUTOPTR(json_object) json_object *s = sto_sv_get(tv, "VlanSegment",
                                                             segs[i]);

            if (!s || (sto_jint(s, "tagged", 1) &&
                       vlanif_insert(tv, u, segs[i],
                                     sto_jint(s, "vlan_id", 0), p) < 0))
                goto out;
        }
    } else {
        if (sto_sv_ids(tv, "VlanInterface", "ethernet_port_id", port, &fs,
                       &nf) < 0 ||
            rows_delete(tv->t, u, "VlanInterface", fs, nf) < 0)
            goto out;
    }
    /* The group's generation moves with its port list. */
    {
        AUTOPTR(json_object) json_object *none = json_object_new_object();

        if (db_txn_row_update(tv->t, sto_mt("VlanGroup"), id, none, true) < 0)
            goto out;
    }
    snprintf(what, sizeof(what), "the VLAN interfaces of port '%s'",
             sto_rname(p));
    if (sto_ev(ctx, tv->t, SEV_INFORMATIONAL,
               add ? "vlangroup.port_added" : "vlangroup.port_removed",
               "VlanGroup", id, sto_rname(g), "port '%s' %s VLAN group '%s'",
               sto_rname(p), add ? "added to" : "removed from",
               sto_rname(g)) < 0 ||
        skipped_events(ctx, tv->t, skipped, "vlaninterface.not_removed",
                       "VlanGroup", id, sto_rname(g), what) < 0)
        goto out;
    job_set_result(ctx, "VlanGroup", id, sto_rname(g));
    rc = 0;
 out:
    sto_ids_free(segs, ns);
    sto_ids_free(fs, nf);
    return rc;
}

static int
group_port_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    struct db *db = job_db(ctx);
    struct storage_view rv = { db, NULL }, tv = { NULL, NULL };
    const char *id = json_str(args, "id"), *port = json_str(args, "port");
    bool add = sto_jint(args, "add", 0) != 0;
    AUTOPTR(json_object) json_object *u = sto_undo_new(), *p = NULL;
    AUTOPTR(json_object) json_object *skipped = json_object_new_array();
    char *AUTOFREE mgr = NULL;
    int64_t *tags = NULL;
    char **fs = NULL;
    size_t ntags = 0, nf = 0, i;
    struct db_txn *t;
    int rc = -1;

    (void)undo;
    if (!id || !port) {
        err_set(ERR_INVALID, "vlangroup.port needs 'id' and 'port'");
        return -1;
    }
    if (!(mgr = sto_manager_uuid(db)) ||
        net_check_vlangroup_port(&rv, id, port, add, mgr) < 0 ||
        !(p = sto_sv_get(&rv, "EthernetPort", port)))
        return -1;
    if (add) {
        if (group_tags(&rv, id, &tags, &ntags) < 0)
            goto out;
        for (i = 0; i < ntags; i++) {
            if (vlan_define_on(ctx, &rv, u, p, tags[i]) < 0) {
                rc = np_fail(ctx, u);
                goto out;
            }
        }
    } else {
        if (sto_sv_ids(&rv, "VlanInterface", "ethernet_port_id", port, &fs,
                       &nf) < 0)
            goto out;
        if (vlanifs_remove(ctx, &rv, u, fs, nf, skipped) < 0) {
            rc = np_fail(ctx, u);
            goto out;
        }
    }
    if (!(t = job_txn_begin(ctx))) {
        rc = np_fail(ctx, u);
        goto out;
    }
    tv.t = t;
    rc = np_finish(ctx, t, group_port_step(ctx, &tv, args, mgr, u, skipped),
                   u);
 out:
    xfree(tags);
    sto_ids_free(fs, nf);
    return rc;
}

/* ---- vlangroup.delete ---- */

static int
group_delete_step(struct job_ctx *ctx, const struct storage_view *tv,
                  json_object *args, json_object *u, json_object *skipped)
{
    const char *id = json_str(args, "id");
    AUTOPTR(json_object) json_object *g = NULL;
    char **segs = NULL, **fs = NULL, **ports = NULL;
    size_t ns = 0, nf = 0, np = 0, i;
    int rc = -1;

    if (net_check_vlangroup_delete(tv, id) < 0 ||
        !(g = sto_sv_get(tv, "VlanGroup", id)) ||
        sto_jr_row(tv->t, u, "VlanGroup", id) < 0 ||
        sto_sv_ids(tv, "VlanSegment", "vlan_group_id", id, &segs, &ns) < 0 ||
        sto_sv_ids(tv, "EthernetPort", "vlan_group_id", id, &ports, &np) < 0)
        goto out;
    for (i = 0; i < ns; i++) {
        if (sto_jr_row(tv->t, u, "VlanSegment", segs[i]) < 0)
            goto out;
    }
    if (segments_vlanifs(tv, segs, ns, &fs, &nf) < 0 ||
        rows_delete(tv->t, u, "VlanInterface", fs, nf) < 0)
        goto out;
    for (i = 0; i < np; i++) {
        if (port_set(tv->t, u, ports[i], "vlan_group_id", NULL) < 0)
            goto out;
    }
    if (rows_delete(tv->t, u, "VlanSegment", segs, ns) < 0 ||
        db_txn_row_delete(tv->t, sto_mt("VlanGroup"), id) < 0 ||
        sto_ev(ctx, tv->t, SEV_INFORMATIONAL, "vlangroup.deleted", "VlanGroup",
               id, sto_rname(g), "VLAN group '%s' deleted with its %zu VLAN "
               "segment%s and %zu VLAN interface%s; %zu port%s free",
               sto_rname(g), ns, ns == 1 ? "" : "s", nf, nf == 1 ? "" : "s",
               np, np == 1 ? " is" : "s are") < 0 ||
        skipped_events(ctx, tv->t, skipped, "vlaninterface.not_removed",
                       "VlanGroup", id, sto_rname(g),
                       "a VLAN interface of the group") < 0)
        goto out;
    job_set_result(ctx, "VlanGroup", id, sto_rname(g));
    rc = 0;
 out:
    sto_ids_free(segs, ns);
    sto_ids_free(fs, nf);
    sto_ids_free(ports, np);
    return rc;
}

static int
group_delete_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    struct db *db = job_db(ctx);
    struct storage_view rv = { db, NULL }, tv = { NULL, NULL };
    const char *id = json_str(args, "id");
    AUTOPTR(json_object) json_object *u = sto_undo_new();
    AUTOPTR(json_object) json_object *skipped = json_object_new_array();
    char **segs = NULL, **fs = NULL;
    size_t ns = 0, nf = 0;
    struct db_txn *t;
    int rc = -1;

    (void)undo;
    if (!id) {
        err_set(ERR_INVALID, "vlangroup.delete needs 'id'");
        return -1;
    }
    if (net_check_vlangroup_delete(&rv, id) < 0 ||
        sto_sv_ids(&rv, "VlanSegment", "vlan_group_id", id, &segs, &ns) < 0 ||
        segments_vlanifs(&rv, segs, ns, &fs, &nf) < 0)
        goto out;
    if (vlanifs_remove(ctx, &rv, u, fs, nf, skipped) < 0) {
        rc = np_fail(ctx, u);
        goto out;
    }
    if (!(t = job_txn_begin(ctx))) {
        rc = np_fail(ctx, u);
        goto out;
    }
    tv.t = t;
    rc = np_finish(ctx, t, group_delete_step(ctx, &tv, args, u, skipped), u);
 out:
    sto_ids_free(segs, ns);
    sto_ids_free(fs, nf);
    return rc;
}

/* ---- vlansegment.create ---- */

static int
segment_create_step(struct job_ctx *ctx, const struct storage_view *tv,
                    json_object *args, json_object *u)
{
    const char *id = json_str(args, "id"), *name = json_str(args, "name");
    const char *group = json_str(args, "group");
    int64_t tag = sto_jint(args, "vlanId", 0);
    bool tagged = sto_jint(args, "tagged", 1) != 0;
    AUTOPTR(json_object) json_object *row = json_object_new_object();
    AUTOPTR(json_object) json_object *g = NULL;
    char **ports = NULL;
    size_t np = 0, i;
    int rc = -1;

    if (net_check_vlansegment_create(tv, args) < 0 ||
        !(g = sto_sv_get(tv, "VlanGroup", group)))
        return -1;
    sto_set_str(row, "id", id);
    sto_set_str(row, "name", name);
    if (json_str(args, "description"))
        sto_set_str(row, "description", json_str(args, "description"));
    sto_set_str(row, "vlan_group_id", group);
    json_object_object_add(row, "vlan_id", json_object_new_int64(tag));
    json_object_object_add(row, "tagged", json_object_new_int(tagged ? 1 : 0));
    if (db_txn_row_insert(tv->t, sto_mt("VlanSegment"), row) < 0)
        return -1;
    sto_jr_created(u, "VlanSegment", id);
    if (tagged) {
        if (sto_sv_ids(tv, "EthernetPort", "vlan_group_id", group, &ports,
                       &np) < 0)
            return -1;
        for (i = 0; i < np; i++) {
            AUTOPTR(json_object) json_object *p = sto_sv_get(tv, "EthernetPort",
                                                             ports[i]);

            if (!p || vlanif_insert(tv, u, id, tag, p) < 0)
                goto out;
        }
    }
    if (sto_ev(ctx, tv->t, SEV_INFORMATIONAL, "vlansegment.created",
               "VlanSegment", id, name, "VLAN segment '%s' (VLAN %" PRId64
               ", %s) of VLAN group '%s' created with %zu VLAN interface%s",
               name, tag, tagged ? "tagged" : "untagged", sto_rname(g),
               tagged ? np : 0, (tagged ? np : 0) == 1 ? "" : "s") < 0)
        goto out;
    job_set_result(ctx, "VlanSegment", id, name);
    rc = 0;
 out:
    sto_ids_free(ports, np);
    return rc;
}

static int
segment_create_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    struct db *db = job_db(ctx);
    struct storage_view rv = { db, NULL }, tv = { NULL, NULL };
    const char *group = json_str(args, "group");
    AUTOPTR(json_object) json_object *u = sto_undo_new();
    char **ports = NULL;
    size_t np = 0, i;
    struct db_txn *t;
    int rc = -1;

    (void)undo;
    if (!json_str(args, "id") || !group) {
        err_set(ERR_INVALID, "vlansegment.create needs 'id' and 'group'");
        return -1;
    }
    if (net_check_vlansegment_create(&rv, args) < 0)
        return -1;
    if (sto_jint(args, "tagged", 1)) {
        if (sto_sv_ids(&rv, "EthernetPort", "vlan_group_id", group, &ports,
                       &np) < 0)
            return -1;
        /* Every server first; one failing puts the others back. */
        for (i = 0; i < np; i++) {
            AUTOPTR(json_object) json_object *p = NULL;

            p = sto_sv_get(&rv, "EthernetPort", ports[i]);
            if (!p || vlan_define_on(ctx, &rv, u, p,
                                     sto_jint(args, "vlanId", 0)) < 0) {
                rc = np_fail(ctx, u);
                goto out;
            }
        }
    }
    if (!(t = job_txn_begin(ctx))) {
        rc = np_fail(ctx, u);
        goto out;
    }
    tv.t = t;
    rc = np_finish(ctx, t, segment_create_step(ctx, &tv, args, u), u);
 out:
    sto_ids_free(ports, np);
    return rc;
}

/* ---- vlansegment.delete ---- */

static int
segment_delete_step(struct job_ctx *ctx, const struct storage_view *tv,
                    json_object *args, json_object *u, json_object *skipped)
{
    const char *id = json_str(args, "id");
    AUTOPTR(json_object) json_object *s = NULL;
    char **fs = NULL, gn[256];
    size_t nf = 0;
    int rc = -1;

    if (net_check_vlansegment_delete(tv, id) < 0 ||
        !(s = sto_sv_get(tv, "VlanSegment", id)) ||
        sto_jr_row(tv->t, u, "VlanSegment", id) < 0 ||
        sto_sv_ids(tv, "VlanInterface", "vlan_segment_id", id, &fs, &nf) < 0)
        goto out;
    nm(tv, "VlanGroup", json_str(s, "vlan_group_id"), gn, sizeof(gn));
    if (rows_delete(tv->t, u, "VlanInterface", fs, nf) < 0 ||
        db_txn_row_delete(tv->t, sto_mt("VlanSegment"), id) < 0 ||
        sto_ev(ctx, tv->t, SEV_INFORMATIONAL, "vlansegment.deleted",
               "VlanSegment", id, sto_rname(s), "VLAN segment '%s' (VLAN %"
               PRId64 ") of VLAN group '%s' deleted with %zu VLAN "
               "interface%s", sto_rname(s), sto_jint(s, "vlan_id", 0), gn, nf,
               nf == 1 ? "" : "s") < 0 ||
        skipped_events(ctx, tv->t, skipped, "vlaninterface.not_removed",
                       "VlanSegment", id, sto_rname(s),
                       "a VLAN interface of the segment") < 0)
        goto out;
    job_set_result(ctx, "VlanSegment", id, sto_rname(s));
    rc = 0;
 out:
    sto_ids_free(fs, nf);
    return rc;
}

static int
segment_delete_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    struct db *db = job_db(ctx);
    struct storage_view rv = { db, NULL }, tv = { NULL, NULL };
    const char *id = json_str(args, "id");
    AUTOPTR(json_object) json_object *u = sto_undo_new();
    AUTOPTR(json_object) json_object *skipped = json_object_new_array();
    char **fs = NULL;
    size_t nf = 0;
    struct db_txn *t;
    int rc = -1;

    (void)undo;
    if (!id) {
        err_set(ERR_INVALID, "vlansegment.delete needs 'id'");
        return -1;
    }
    if (net_check_vlansegment_delete(&rv, id) < 0 ||
        sto_sv_ids(&rv, "VlanInterface", "vlan_segment_id", id, &fs, &nf) < 0)
        goto out;
    if (vlanifs_remove(ctx, &rv, u, fs, nf, skipped) < 0) {
        rc = np_fail(ctx, u);
        goto out;
    }
    if (!(t = job_txn_begin(ctx))) {
        rc = np_fail(ctx, u);
        goto out;
    }
    tv.t = t;
    rc = np_finish(ctx, t, segment_delete_step(ctx, &tv, args, u, skipped), u);
 out:
    sto_ids_free(fs, nf);
    return rc;
}

/* ---- the operations (engine.c searches job_ops_netport[]) ---- */

static const struct job_op_type op_np_bond_create = {
    "ethernetport.bond_create", bond_create_run, np_undo, false,
};
static const struct job_op_type op_np_port_update = {
    "ethernetport.update", port_update_run, np_undo, false,
};
static const struct job_op_type op_np_port_delete = {
    "ethernetport.delete", port_delete_run, np_undo, false,
};
static const struct job_op_type op_np_group_create = {
    "vlangroup.create", group_create_run, np_undo, true,
};
static const struct job_op_type op_np_group_update = {
    "vlangroup.update", group_update_run, np_undo, true,
};
static const struct job_op_type op_np_group_port = {
    "vlangroup.port", group_port_run, np_undo, false,
};
static const struct job_op_type op_np_group_delete = {
    "vlangroup.delete", group_delete_run, np_undo, false,
};
static const struct job_op_type op_np_segment_create = {
    "vlansegment.create", segment_create_run, np_undo, false,
};
static const struct job_op_type op_np_segment_delete = {
    "vlansegment.delete", segment_delete_run, np_undo, false,
};
static const struct job_op_type op_np_vlanif_update = {
    "vlaninterface.update", vlanif_update_run, np_undo, true,
};

const struct job_op_type *const job_ops_netport[] = {
    &op_np_bond_create, &op_np_port_update, &op_np_port_delete,
    &op_np_group_create, &op_np_group_update, &op_np_group_port,
    &op_np_group_delete, &op_np_segment_create, &op_np_segment_delete,
    &op_np_vlanif_update, NULL,
};
