/*
 * api_netport.c - bond, port, VLAN group, VLAN segment and VLAN
 * interface routes (issue 6; docs/NETWORKS.md, "Bonds and VLAN groups"
 * and "IP configuration"): make a bond on a server, edit and delete a
 * port or bond, create, edit and delete a VLAN group, add and remove its
 * ports, add and delete its VLAN segments, edit a VLAN interface. Reads
 * are the generic ones (GET /EthernetPort, /VlanGroup/{id}/VlanSegment,
 * /VlanInterface, ...).
 *
 * DESIGN: the mutating-handler skeleton of DESIGN section 3 (as
 * api_storage.c and api_network.c): the body checked (400), the objects
 * named found (404), the rules of jobs/network.h applied to the current
 * state (409) -- the operations of src/jobs/op_netport.c apply them again
 * when they run -- then one job of one operation, holding exclusively
 * what it changes and shared the servers it acts on, answered with the
 * Job. The handler turns the body into the operation's arguments with
 * every default filled in (the bond's interface name, mtu, the IP
 * configuration in canonical dotted quads), so the rules see the same
 * values here and in the job.
 *
 * Oracle VM 3.4 compatibility: PUT /EthernetPort/{id}, /VlanGroup/{id}
 * and /VlanInterface/{id} take the object as GET returns it; members that
 * cannot change (interfaceName) may come back equal, and members they do
 * not edit are ignored, as Oracle VM ignores them. Ports come as
 * SimpleIds, {"value": id} or id strings. IP configuration (addressType,
 * ipAddress, netmask, gateway) is an extension.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "db/db.h"
#include "jobs/jobs.h"
#include "jobs/network.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/json.h"
#include "util/str.h"

/* Most ports one VLAN group request names. */
#define MAX_PORTS 256

static struct storage_view
reader(void)
{
    struct storage_view v = { api_conf()->db, NULL };

    return v;
}

/* The body's 'mtu' into *mtu (absent or null: untouched, 0). 1 when
 * given, 0 when not, -1 (ERR_INVALID). */
static int
body_mtu(json_object *b, int64_t *mtu)
{
    json_object *v;

    if (!json_object_object_get_ex(b, "mtu", &v) || !v)
        return 0;
    if (!json_object_is_type(v, json_type_int) ||
        json_object_get_int64(v) < NET_PORT_MTU_MIN ||
        json_object_get_int64(v) > NET_PORT_MTU_MAX) {
        err_set(ERR_INVALID, "'mtu' must be an integer %d..%d",
                NET_PORT_MTU_MIN, NET_PORT_MTU_MAX);
        return -1;
    }
    *mtu = json_object_get_int64(v);
    return 1;
}

/*
 * Member @key of @b as a list of EthernetPort references (SimpleIds,
 * {"value": id} or id strings), at most MAX_PORTS, none twice, into *out:
 * a new JSON array of id strings. 1 when absent or null (*out NULL), 0,
 * -1 (ERR_INVALID).
 */
static int
body_ports(json_object *b, const char *key, json_object **out)
{
    json_object *a;
    size_t i, k, n;

    *out = NULL;
    if (!json_object_object_get_ex(b, key, &a) || !a)
        return 1;
    if (!json_object_is_type(a, json_type_array) ||
        (n = json_object_array_length(a)) > MAX_PORTS) {
        err_set(ERR_INVALID, "'%s' must be an array of at most %d "
                             "EthernetPort SimpleIds", key, MAX_PORTS);
        return -1;
    }
    *out = json_object_new_array();
    for (i = 0; i < n; i++) {
        char id[256], what[64];

        snprintf(what, sizeof(what), "'%s'[%zu]", key, i);
        if (api_ref_value(json_object_array_get_idx(a, i), "EthernetPort",
                          what, id, sizeof(id)) != 0) {
            if (err_code() == ERR_OK)
                err_set(ERR_INVALID, "%s must not be null", what);
            goto fail;
        }
        for (k = 0; k < i; k++) {
            if (str_eq(json_object_get_string(
                           json_object_array_get_idx(*out, k)), id)) {
                err_set(ERR_INVALID, "'%s' names port '%s' twice", key, id);
                goto fail;
            }
        }
        json_object_array_add(*out, json_object_new_string(id));
    }
    return 0;
 fail:
    json_object_put(*out);
    *out = NULL;
    return -1;
}

/* The body's string-or-null member @key: 1 when present (*out NULL for
 * null), 0 when absent, -1 (ERR_INVALID). */
static int
body_opt_str(json_object *b, const char *key, const char **out)
{
    json_object *v;

    *out = NULL;
    if (!json_object_object_get_ex(b, key, &v))
        return 0;
    if (v && !json_object_is_type(v, json_type_string)) {
        err_set(ERR_INVALID, "'%s' must be a string or null", key);
        return -1;
    }
    *out = v ? json_object_get_string(v) : NULL;
    return 1;
}

/* Put a checked IP configuration into @args. */
static void
args_ip(json_object *args, const char *type, const char *a, const char *m,
        const char *g)
{
    json_object_object_add(args, "addressType",
                           json_object_new_string(type ? type : "NONE"));
    json_object_object_add(args, "ipAddress", json_str_or_null(*a ? a : NULL));
    json_object_object_add(args, "netmask", json_str_or_null(*m ? m : NULL));
    json_object_object_add(args, "gateway", json_str_or_null(*g ? g : NULL));
}

/*
 * The IP configuration of body @b for @what into @args, checked and
 * canonical. @row NULL (a new bond): NONE unless the body says. @row an
 * edited port or interface: addressType given makes ipAddress, netmask
 * and gateway the whole new configuration (absent ones none); without
 * it, the address members given replace the row's and the rest stay; no
 * member at all leaves the configuration alone (nothing added).
 */
static int
body_ipconf(json_object *b, json_object *row, const char *what,
            json_object *args)
{
    static const char *const keys[][2] = {
        { "addressType", "address_type" }, { "ipAddress", "ip_address" },
        { "netmask", "netmask" }, { "gateway", "gateway" },
    };
    const char *val[4];
    char a[16], m[16], g[16];
    int given[4], any = 0, i;

    for (i = 0; i < 4; i++) {
        if ((given[i] = body_opt_str(b, keys[i][0], &val[i])) < 0)
            return -1;
        any += given[i];
    }
    if (row && !any)
        return 0;
    if (row && !(given[0] && val[0])) {
        /* No new addressType: the row's, with the members given. */
        for (i = 0; i < 4; i++) {
            if (!given[i] || i == 0)
                val[i] = json_str(row, keys[i][1]);
        }
    }
    if (net_ipconf_check(what, val[0], val[1], val[2], val[3], a, m, g) < 0)
        return -1;
    args_ip(args, val[0], a, m, g);
    return 0;
}

/* Add name, description and userData (when given) to @args. */
static void
args_common(json_object *args, const char *name, const char *desc,
            json_object *ud)
{
    if (name)
        json_object_object_add(args, "name", json_object_new_string(name));
    if (desc)
        json_object_object_add(args, "description",
                               json_object_new_string(desc));
    if (ud)
        json_object_object_add(args, "userData", json_object_get(ud));
}

/* Lock the ports of @ports (an array of ids) exclusively and their
 * servers shared. */
static int
lock_ports(struct api_locks *l, json_object *ports)
{
    size_t i;

    for (i = 0; ports && i < json_object_array_length(ports); i++) {
        AUTOPTR(json_object) json_object *p = api_row_get(
            "EthernetPort",
            json_object_get_string(json_object_array_get_idx(ports, i)));

        if (!p)
            return -1;
        api_lock_add(l, "EthernetPort", json_str(p, "id"), json_str(p, "name"),
                     true);
        api_lock_add(l, "Server", json_str(p, "server_id"), NULL, false);
    }
    return 0;
}

/* Lock the rows of @type whose @column is @value (exclusive or shared),
 * and for ports their servers shared. */
static void
lock_rows(struct api_locks *l, const char *type, const char *column,
          const char *value, bool exclusive)
{
    char **ids = NULL;
    size_t n = 0, i;

    if (db_row_ids(api_conf()->db, model_type_find(type), column, value, &ids,
                   &n) < 0) {
        err_clear();
        return;
    }
    for (i = 0; i < n; i++) {
        json_object *r = api_row_get(type, ids[i]);

        if (r) {
            api_lock_add(l, type, ids[i], json_str(r, "name"), exclusive);
            if (json_str(r, "server_id"))
                api_lock_add(l, "Server", json_str(r, "server_id"), NULL,
                             false);
        }
        err_clear();
        json_object_put(r);
    }
    db_ids_free(ids, n);
}

/* ---- POST /Server/{id}/BondPort ---- */

int
api_netport_bond_create(struct api_req *req, struct api_resp *resp)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *s = NULL, *b = NULL, *args = NULL;
    AUTOPTR(json_object) json_object *ports = NULL;
    const char *name = NULL, *desc = NULL, *ifname = NULL, *mode = NULL;
    char server[256], ifbuf[16], jname[600], what[64], lockid[300];
    char *AUTOFREE mgr = NULL, *AUTOFREE id = NULL, *AUTOFREE dflt = NULL;
    json_object *ud = NULL;
    int64_t mtu = 1500;
    API_LOCKS(l);

    if (!(s = api_target(req, "Server", server, sizeof(server))) ||
        !(b = api_body_object(req)))
        return -1;
    if (api_common_members(b, model_type_find("EthernetPort"), &name, &desc,
                           &ud) < 0 ||
        api_body_str(b, "interfaceName", &ifname) < 0 ||
        api_body_str(b, "bondMode", &mode) < 0 || body_mtu(b, &mtu) < 0 ||
        body_ports(b, "ethernetPortIds", &ports) < 0)
        return -1;
    if (!net_bond_mode_valid(mode)) {
        err_set(ERR_INVALID, "a bond needs a 'bondMode': ACTIVE_PASSIVE, "
                             "LINK_AGGREGATION or LOAD_BALANCED");
        return -1;
    }
    if (!ports || json_object_array_length(ports) != 2) {
        err_set(ERR_INVALID, "a bond is made of exactly two ports "
                             "('ethernetPortIds'), not %zu",
                ports ? json_object_array_length(ports) : 0);
        return -1;
    }
    if (!ifname) {
        if (net_bond_name_next(&v, server, ifbuf, sizeof(ifbuf)) < 0)
            return -1;
        ifname = ifbuf;
    }
    /* Named as discovery names ports and Oracle VM names bonds. */
    if (!name)
        name = dflt = xasprintf("%s on %s", ifname, json_str(s, "name"));
    args = json_object_new_object();
    snprintf(what, sizeof(what), "bond '%.20s'", ifname);
    if (body_ipconf(b, NULL, what, args) < 0)
        return -1;
    id = model_id_new(model_type_find("EthernetPort"));
    json_object_object_add(args, "id", json_object_new_string(id));
    json_object_object_add(args, "server", json_object_new_string(server));
    args_common(args, name, desc, ud);
    json_object_object_add(args, "interfaceName",
                           json_object_new_string(ifname));
    json_object_object_add(args, "bondMode", json_object_new_string(mode));
    json_object_object_add(args, "ports", json_object_get(ports));
    json_object_object_add(args, "mtu", json_object_new_int64(mtu));
    if (!(mgr = db_manager_id(api_conf()->db)) ||
        net_check_bond_create(&v, args, mgr) < 0 || lock_ports(&l, ports) < 0)
        return -1;
    /* Two bonds made at once on one server would pick one name. */
    snprintf(lockid, sizeof(lockid), "%s/%s", server, ifname);
    api_lock_add(&l, "EthernetPort", lockid, ifname, true);
    api_lock_add(&l, "EthernetPort", id, name, true);
    api_lock_add(&l, "Server", server, json_str(s, "name"), false);
    snprintf(jname, sizeof(jname), "Create Bond: %s on %s", ifname,
             json_str(s, "name"));
    return api_submit(req, resp, jname, &l, "ethernetport.bond_create", args,
                      NULL, NULL, NULL);
}

/* ---- PUT /EthernetPort/{id} ---- */

int
api_netport_update(struct api_req *req, struct api_resp *resp)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *p = NULL, *b = NULL, *args = NULL;
    AUTOPTR(json_object) json_object *ports = NULL;
    const char *name = NULL, *desc = NULL, *ifname = NULL, *mode = NULL;
    char id[256], jname[600], what[300];
    char *AUTOFREE mgr = NULL;
    json_object *ud = NULL;
    int64_t gen, mtu = 0;
    bool bond;
    int rm;
    API_LOCKS(l);

    if (!(p = api_target(req, "EthernetPort", id, sizeof(id))) ||
        !(b = api_body_object(req)))
        return -1;
    bond = str_eq(json_str(p, "port_type"), "BOND");
    if (api_body_id_check(b, "EthernetPort", id) < 0 ||
        api_common_members(b, model_type_find("EthernetPort"), &name, &desc,
                           &ud) < 0 ||
        api_generation_check(b, p, "EthernetPort", &gen) < 0 ||
        api_body_str(b, "interfaceName", &ifname) < 0 ||
        body_opt_str(b, "bondMode", &mode) < 0 ||
        body_ports(b, "physicalPortIds", &ports) < 0)
        return -1;
    if (ifname && !str_eq(ifname, json_str(p, "interface_name"))) {
        err_set(ERR_INVALID, "the 'interfaceName' of port '%s' cannot change",
                json_str(p, "name"));
        return -1;
    }
    /* A GET body back: an equal mtu is no change (and may be outside the
     * range a new value must be in). */
    {
        json_object *mv = NULL;
        int64_t cur = 0;

        json_get_int64(p, "mtu", &cur);
        if (json_object_object_get_ex(b, "mtu", &mv) && mv &&
            json_object_is_type(mv, json_type_int) &&
            json_object_get_int64(mv) == cur)
            json_object_object_del(b, "mtu");
    }
    if ((rm = body_mtu(b, &mtu)) < 0)
        return -1;
    if (!bond && (mode || (ports && json_object_array_length(ports) > 0))) {
        err_set(ERR_INVALID, "port '%s' is a physical port: only a bond has "
                             "a 'bondMode' and 'physicalPortIds'",
                json_str(p, "name"));
        return -1;
    }
    if (bond && mode && !net_bond_mode_valid(mode)) {
        err_set(ERR_INVALID, "'bondMode' must be ACTIVE_PASSIVE, "
                             "LINK_AGGREGATION or LOAD_BALANCED");
        return -1;
    }
    if (bond && ports && json_object_array_length(ports) != 2) {
        err_set(ERR_INVALID, "a bond is made of exactly two ports "
                             "('physicalPortIds'), not %zu",
                json_object_array_length(ports));
        return -1;
    }
    args = json_object_new_object();
    snprintf(what, sizeof(what), "%s '%.200s'", bond ? "bond" : "port",
             json_str(p, "name"));
    if (body_ipconf(b, p, what, args) < 0)
        return -1;
    json_object_object_add(args, "id", json_object_new_string(id));
    if (gen >= 0)
        json_object_object_add(args, "generation", json_object_new_int64(gen));
    args_common(args, name, desc, ud);
    if (rm > 0)
        json_object_object_add(args, "mtu", json_object_new_int64(mtu));
    if (bond && mode)
        json_object_object_add(args, "bondMode", json_object_new_string(mode));
    if (bond && ports)
        json_object_object_add(args, "ports", json_object_get(ports));
    if (!(mgr = db_manager_id(api_conf()->db)) ||
        net_check_port_update(&v, args, mgr) < 0)
        return -1;
    api_lock_add(&l, "EthernetPort", id, json_str(p, "name"), true);
    api_lock_add(&l, "Server", json_str(p, "server_id"), NULL, false);
    if (bond) {
        lock_rows(&l, "EthernetPort", "bond_port_id", id, true);
        if (lock_ports(&l, ports) < 0)
            return -1;
    }
    snprintf(jname, sizeof(jname), "Edit %s: %s", bond ? "Bond" : "Port",
             json_str(p, "name"));
    return api_submit(req, resp, jname, &l, "ethernetport.update", args,
                      "EthernetPort", id, json_str(p, "name"));
}

/* ---- DELETE /EthernetPort/{id} ---- */

int
api_netport_delete(struct api_req *req, struct api_resp *resp)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *p = NULL, *args = NULL;
    char id[256], jname[600];
    API_LOCKS(l);

    if (!(p = api_target(req, "EthernetPort", id, sizeof(id))) ||
        net_check_port_delete(&v, id) < 0)
        return -1;
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    api_lock_add(&l, "EthernetPort", id, json_str(p, "name"), true);
    api_lock_add(&l, "Server", json_str(p, "server_id"), NULL, false);
    lock_rows(&l, "EthernetPort", "bond_port_id", id, true);
    snprintf(jname, sizeof(jname), "Delete Bond: %s", json_str(p, "name"));
    return api_submit(req, resp, jname, &l, "ethernetport.delete", args,
                      "EthernetPort", id, json_str(p, "name"));
}

/* ---- POST /VlanGroup ---- */

int
api_vlangroup_create(struct api_req *req, struct api_resp *resp)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *b = api_body_object(req);
    AUTOPTR(json_object) json_object *args = NULL, *ports = NULL;
    const char *name = NULL, *desc = NULL;
    char jname[600];
    char *AUTOFREE mgr = NULL, *AUTOFREE id = NULL;
    json_object *ud = NULL;
    int64_t mtu = 1500;
    API_LOCKS(l);

    if (!b)
        return -1;
    if (api_common_members(b, model_type_find("VlanGroup"), &name, &desc,
                           &ud) < 0 ||
        body_mtu(b, &mtu) < 0 || body_ports(b, "ethernetPortIds", &ports) < 0)
        return -1;
    if (!name) {
        err_set(ERR_INVALID, "a new VLAN group needs a 'name'");
        return -1;
    }
    if (!ports)
        ports = json_object_new_array();
    id = model_id_new(model_type_find("VlanGroup"));
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    args_common(args, name, desc, ud);
    json_object_object_add(args, "mtu", json_object_new_int64(mtu));
    json_object_object_add(args, "ports", json_object_get(ports));
    if (!(mgr = db_manager_id(api_conf()->db)) ||
        net_check_vlangroup_create(&v, args, mgr) < 0 ||
        lock_ports(&l, ports) < 0)
        return -1;
    api_lock_add(&l, "VlanGroup", id, name, true);
    snprintf(jname, sizeof(jname), "Create VLAN Group: %s", name);
    return api_submit(req, resp, jname, &l, "vlangroup.create", args, NULL,
                      NULL, NULL);
}

/* ---- PUT /VlanGroup/{id} ---- */

int
api_vlangroup_update(struct api_req *req, struct api_resp *resp)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *g = NULL, *b = NULL, *args = NULL;
    const char *name = NULL, *desc = NULL;
    char id[256], jname[600];
    json_object *ud = NULL;
    int64_t gen, mtu = 0;
    int rm;
    API_LOCKS(l);

    if (!(g = api_target(req, "VlanGroup", id, sizeof(id))) ||
        !(b = api_body_object(req)))
        return -1;
    if (api_body_id_check(b, "VlanGroup", id) < 0 ||
        api_common_members(b, model_type_find("VlanGroup"), &name, &desc,
                           &ud) < 0 ||
        api_generation_check(b, g, "VlanGroup", &gen) < 0 ||
        (rm = body_mtu(b, &mtu)) < 0)
        return -1;
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    if (gen >= 0)
        json_object_object_add(args, "generation", json_object_new_int64(gen));
    args_common(args, name, desc, ud);
    if (rm > 0)
        json_object_object_add(args, "mtu", json_object_new_int64(mtu));
    if (net_check_vlangroup_update(&v, args) < 0)
        return -1;
    api_lock_add(&l, "VlanGroup", id, json_str(g, "name"), true);
    snprintf(jname, sizeof(jname), "Edit VLAN Group: %s", json_str(g, "name"));
    return api_submit(req, resp, jname, &l, "vlangroup.update", args,
                      "VlanGroup", id, json_str(g, "name"));
}

/* ---- PUT /VlanGroup/{id}/addEthernetPort, /removeEthernetPort ---- */

static int
group_port(struct api_req *req, struct api_resp *resp, bool add)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *g = NULL, *b = NULL, *p = NULL;
    AUTOPTR(json_object) json_object *args = NULL;
    char id[256], port[256], jname[800];
    char *AUTOFREE mgr = NULL;
    API_LOCKS(l);

    if (!(g = api_target(req, "VlanGroup", id, sizeof(id))))
        return -1;
    if (!req->body || !req->body_len) {
        err_set(ERR_INVALID, "the body must name the EthernetPort: its "
                             "SimpleId, {\"value\": id} or the id as a JSON "
                             "string");
        return -1;
    }
    if (!(b = json_parse(req->body, req->body_len)))
        return -1;
    if (api_ref_value(b, "EthernetPort", "the body", port, sizeof(port)) != 0) {
        if (err_code() == ERR_OK)
            err_set(ERR_INVALID, "the body must name the EthernetPort");
        return -1;
    }
    if (!(p = api_row_get("EthernetPort", port)) ||
        !(mgr = db_manager_id(api_conf()->db)) ||
        net_check_vlangroup_port(&v, id, port, add, mgr) < 0)
        return -1;
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    json_object_object_add(args, "port", json_object_new_string(port));
    json_object_object_add(args, "add", json_object_new_int(add ? 1 : 0));
    api_lock_add(&l, "VlanGroup", id, json_str(g, "name"), true);
    api_lock_add(&l, "EthernetPort", port, json_str(p, "name"), true);
    api_lock_add(&l, "Server", json_str(p, "server_id"), NULL, false);
    /* Network jobs take the segments: their use of the group is read. */
    lock_rows(&l, "VlanSegment", "vlan_group_id", id, false);
    snprintf(jname, sizeof(jname), "%s Port: %s %s VLAN Group: %s",
             add ? "Add" : "Remove", json_str(p, "name"), add ? "to" : "from",
             json_str(g, "name"));
    return api_submit(req, resp, jname, &l, "vlangroup.port", args,
                      "VlanGroup", id, json_str(g, "name"));
}

int
api_vlangroup_add_port(struct api_req *req, struct api_resp *resp)
{
    return group_port(req, resp, true);
}

int
api_vlangroup_remove_port(struct api_req *req, struct api_resp *resp)
{
    return group_port(req, resp, false);
}

/* ---- DELETE /VlanGroup/{id} ---- */

int
api_vlangroup_delete(struct api_req *req, struct api_resp *resp)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *g = NULL, *args = NULL;
    char id[256], jname[600];
    API_LOCKS(l);

    if (!(g = api_target(req, "VlanGroup", id, sizeof(id))) ||
        net_check_vlangroup_delete(&v, id) < 0)
        return -1;
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    api_lock_add(&l, "VlanGroup", id, json_str(g, "name"), true);
    lock_rows(&l, "VlanSegment", "vlan_group_id", id, true);
    lock_rows(&l, "EthernetPort", "vlan_group_id", id, true);
    snprintf(jname, sizeof(jname), "Delete VLAN Group: %s",
             json_str(g, "name"));
    return api_submit(req, resp, jname, &l, "vlangroup.delete", args,
                      "VlanGroup", id, json_str(g, "name"));
}

/* ---- POST /VlanGroup/{id}/VlanSegment ---- */

int
api_vlansegment_create(struct api_req *req, struct api_resp *resp)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *g = NULL, *b = NULL, *args = NULL;
    const char *name = NULL, *desc = NULL;
    char group[256], jname[600], dflt[64];
    char *AUTOFREE id = NULL;
    json_object *ud = NULL, *vv = NULL;
    bool tagged = true;
    int64_t tag;
    API_LOCKS(l);

    if (!(g = api_target(req, "VlanGroup", group, sizeof(group))) ||
        !(b = api_body_object(req)))
        return -1;
    if (api_common_members(b, model_type_find("VlanSegment"), &name, &desc,
                           &ud) < 0 ||
        json_get_bool(b, "tagged", &tagged) < 0)
        return -1;
    if (!json_object_object_get_ex(b, "vlanId", &vv) || !vv ||
        !json_object_is_type(vv, json_type_int) ||
        (tag = json_object_get_int64(vv)) < 1 || tag > 4094) {
        err_set(ERR_INVALID, "a VLAN segment needs a 'vlanId' 1..4094");
        return -1;
    }
    if (!name) {
        snprintf(dflt, sizeof(dflt), "VLAN %" PRId64, tag);
        name = dflt;
    }
    id = model_id_new(model_type_find("VlanSegment"));
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    json_object_object_add(args, "group", json_object_new_string(group));
    args_common(args, name, desc, NULL);
    json_object_object_add(args, "vlanId", json_object_new_int64(tag));
    json_object_object_add(args, "tagged", json_object_new_boolean(tagged));
    if (net_check_vlansegment_create(&v, args) < 0)
        return -1;
    api_lock_add(&l, "VlanGroup", group, json_str(g, "name"), true);
    api_lock_add(&l, "VlanSegment", id, name, true);
    lock_rows(&l, "EthernetPort", "vlan_group_id", group, false);
    snprintf(jname, sizeof(jname), "Create VLAN Segment: %s in %s", name,
             json_str(g, "name"));
    return api_submit(req, resp, jname, &l, "vlansegment.create", args, NULL,
                      NULL, NULL);
}

/* ---- DELETE /VlanSegment/{id} ---- */

int
api_vlansegment_delete(struct api_req *req, struct api_resp *resp)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *s = NULL, *args = NULL;
    char id[256], jname[600];
    API_LOCKS(l);

    if (!(s = api_target(req, "VlanSegment", id, sizeof(id))) ||
        net_check_vlansegment_delete(&v, id) < 0)
        return -1;
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    api_lock_add(&l, "VlanSegment", id, json_str(s, "name"), true);
    api_lock_add(&l, "VlanGroup", json_str(s, "vlan_group_id"), NULL, true);
    lock_rows(&l, "EthernetPort", "vlan_group_id", json_str(s, "vlan_group_id"),
              false);
    snprintf(jname, sizeof(jname), "Delete VLAN Segment: %s",
             json_str(s, "name"));
    return api_submit(req, resp, jname, &l, "vlansegment.delete", args,
                      "VlanSegment", id, json_str(s, "name"));
}

/* ---- PUT /VlanInterface/{id} ---- */

int
api_vlaninterface_update(struct api_req *req, struct api_resp *resp)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *f = NULL, *b = NULL, *args = NULL;
    const char *name = NULL, *desc = NULL, *ifname = NULL;
    char id[256], jname[600], what[300];
    json_object *ud = NULL;
    int64_t gen;
    API_LOCKS(l);

    if (!(f = api_target(req, "VlanInterface", id, sizeof(id))) ||
        !(b = api_body_object(req)))
        return -1;
    if (api_body_id_check(b, "VlanInterface", id) < 0 ||
        api_common_members(b, model_type_find("VlanInterface"), &name, &desc,
                           &ud) < 0 ||
        api_generation_check(b, f, "VlanInterface", &gen) < 0 ||
        api_body_str(b, "interfaceName", &ifname) < 0)
        return -1;
    if (ifname && !str_eq(ifname, json_str(f, "interface_name"))) {
        err_set(ERR_INVALID, "the 'interfaceName' of VLAN interface '%s' "
                             "cannot change", json_str(f, "name"));
        return -1;
    }
    args = json_object_new_object();
    snprintf(what, sizeof(what), "VLAN interface '%.200s'",
             json_str(f, "name"));
    if (body_ipconf(b, f, what, args) < 0)
        return -1;
    json_object_object_add(args, "id", json_object_new_string(id));
    if (gen >= 0)
        json_object_object_add(args, "generation", json_object_new_int64(gen));
    args_common(args, name, desc, ud);
    if (net_check_vlaninterface_update(&v, args) < 0)
        return -1;
    api_lock_add(&l, "VlanInterface", id, json_str(f, "name"), true);
    snprintf(jname, sizeof(jname), "Edit VLAN Interface: %s",
             json_str(f, "name"));
    return api_submit(req, resp, jname, &l, "vlaninterface.update", args,
                      "VlanInterface", id, json_str(f, "name"));
}
