/*
 * api_network.c - network routes (issue 6; docs/NETWORKS.md): create,
 * edit, add and remove ports and VLAN segments, delete. Reads are the
 * generic ones (GET /Network, /Network/{id}, /Network/{id}/EthernetPort).
 *
 * DESIGN: the mutating-handler skeleton of DESIGN section 3 (as
 * api_storage.c): the body checked (400), the objects named found (404),
 * the rules of jobs/network.h applied to the current state (409) -- the
 * operations of src/jobs/op_network.c apply them again when they run --
 * then one job of one operation holding the network and what it takes
 * exclusively and the servers shared, answered with the Job.
 *
 * Oracle VM 3.4 compatibility: POST /Network takes a Network as Oracle's
 * examples send it (name, description, roles); ports come as
 * ethernetPortIds (SimpleIds or id strings), a VLAN segment as the
 * extension vlanSegmentId, an intra-server network as serverLocal true
 * with serverId. PUT /Network/{id} takes the object as GET returns it;
 * members it does not edit (ethernetPortIds, vlanInterfaceIds, ...) are
 * ignored, as Oracle VM ignores them.
 */
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

#define MAX_PORTS 256

static struct storage_view
reader(void)
{
    struct storage_view v = { api_conf()->db, NULL };

    return v;
}

/* The body's 'mtu' (absent: *mtu untouched): 0 (the default) or
 * 576..65535. */
static int
body_mtu(json_object *b, int64_t *mtu)
{
    json_object *v;

    if (!json_object_object_get_ex(b, "mtu", &v) || !v)
        return 0;
    if (!json_object_is_type(v, json_type_int) ||
        (json_object_get_int64(v) != 0 &&
         (json_object_get_int64(v) < 576 || json_object_get_int64(v) > 65535))) {
        err_set(ERR_INVALID, "'mtu' must be 0 (the default) or 576..65535");
        return -1;
    }
    *mtu = json_object_get_int64(v) ? json_object_get_int64(v) : 1500;
    return 0;
}

/* The body's 'roles' checked into *text (canonical JSON; absent: NULL). */
static int
body_roles(json_object *b, char **text)
{
    json_object *v;

    *text = NULL;
    if (!json_object_object_get_ex(b, "roles", &v) || !v)
        return 0;
    return net_roles_check(v, text);
}

/* Member @key of @b as a reference to an object of @type, copied into
 * @out; 1 when absent or null, 0, -1 (400, or 404 unknown). */
static int
body_ref(json_object *b, const char *key, const char *type, char *out,
         size_t size)
{
    json_object *v;
    char what[80];
    int rc;

    if (!json_object_object_get_ex(b, key, &v) || !v)
        return 1;
    snprintf(what, sizeof(what), "'%s'", key);
    if ((rc = api_ref_value(v, type, what, out, size)) != 0)
        return rc;
    {
        json_object *row = api_row_get(type, out);

        if (!row)
            return -1;
        json_object_put(row);
    }
    return 0;
}

/* Lock the ports of @ports exclusively and their servers shared. */
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

/* The servers the network row @net reaches now, shared (bridges). */
static void
lock_network_servers(struct api_locks *l, json_object *net)
{
    char **ids = NULL;
    size_t n = 0, i;

    if (json_str(net, "server_id"))
        api_lock_add(l, "Server", json_str(net, "server_id"), NULL, false);
    if (db_row_ids(api_conf()->db, model_type_find("EthernetPort"),
                   "network_id", json_str(net, "id"), &ids, &n) < 0) {
        err_clear();
        return;
    }
    for (i = 0; i < n; i++) {
        json_object *p = api_row_get("EthernetPort", ids[i]);

        if (p) {
            api_lock_add(l, "EthernetPort", ids[i], json_str(p, "name"), true);
            api_lock_add(l, "Server", json_str(p, "server_id"), NULL, false);
        }
        err_clear();
        json_object_put(p);
    }
    db_ids_free(ids, n);
}

/* ---- POST /Network ---- */

int
api_network_create(struct api_req *req, struct api_resp *resp)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *b = api_body_object(req);
    AUTOPTR(json_object) json_object *args = NULL, *ports = NULL;
    const char *name = NULL, *desc = NULL;
    char seg[256], server[256], jname[600];
    char *AUTOFREE roles = NULL, *AUTOFREE mgr = NULL, *AUTOFREE id = NULL;
    json_object *ud = NULL, *pv = NULL;
    int64_t mtu = 1500;
    bool local = false;
    int rs, rv, rl;
    API_LOCKS(l);

    if (!b)
        return -1;
    if (api_common_members(b, model_type_find("Network"), &name, &desc,
                           &ud) < 0 ||
        body_roles(b, &roles) < 0 || body_mtu(b, &mtu) < 0)
        return -1;
    if (!name) {
        err_set(ERR_INVALID, "a new network needs a 'name'");
        return -1;
    }
    if ((rl = json_get_bool(b, "serverLocal", &local)) < 0)
        return -1;
    if ((rs = body_ref(b, "vlanSegmentId", "VlanSegment", seg,
                       sizeof(seg))) < 0 ||
        (rv = body_ref(b, "serverId", "Server", server, sizeof(server))) < 0)
        return -1;
    ports = json_object_new_array();
    if (json_object_object_get_ex(b, "ethernetPortIds", &pv) && pv) {
        size_t i, n;

        if (!json_object_is_type(pv, json_type_array) ||
            (n = json_object_array_length(pv)) > MAX_PORTS) {
            err_set(ERR_INVALID, "'ethernetPortIds' must be an array of at "
                                 "most %d EthernetPort SimpleIds", MAX_PORTS);
            return -1;
        }
        for (i = 0; i < n; i++) {
            char pid[256], what[64];
            json_object *row;
            size_t k;

            snprintf(what, sizeof(what), "'ethernetPortIds'[%zu]", i);
            if (api_ref_value(json_object_array_get_idx(pv, i), "EthernetPort",
                              what, pid, sizeof(pid)) != 0) {
                if (err_code() == ERR_OK)
                    err_set(ERR_INVALID, "%s must not be null", what);
                return -1;
            }
            if (!(row = api_row_get("EthernetPort", pid)))
                return -1;
            json_object_put(row);
            for (k = 0; k < json_object_array_length(ports); k++) {
                if (str_eq(json_object_get_string(
                               json_object_array_get_idx(ports, k)), pid)) {
                    err_set(ERR_INVALID, "%s names port '%s' twice", what, pid);
                    return -1;
                }
            }
            json_object_array_add(ports, json_object_new_string(pid));
        }
    }
    if (rl == 0 && local) {
        if (!roles)
            roles = xstrdup("[\"VIRTUAL_MACHINE\"]");
        if (rv != 0 || json_object_array_length(ports) > 0 || rs == 0) {
            err_set(ERR_INVALID, "an intra-server network (serverLocal true) "
                                 "takes a 'serverId' and no ports or VLAN "
                                 "segment");
            return -1;
        }
    } else if (rv == 0) {
        err_set(ERR_INVALID, "'serverId' is only for an intra-server network "
                             "(serverLocal true)");
        return -1;
    }
    if (!roles)
        roles = xstrdup("[]");
    id = model_id_new(model_type_find("Network"));
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    json_object_object_add(args, "name", json_object_new_string(name));
    if (desc)
        json_object_object_add(args, "description",
                               json_object_new_string(desc));
    if (ud)
        json_object_object_add(args, "userData", json_object_get(ud));
    json_object_object_add(args, "roles", json_object_new_string(roles));
    json_object_object_add(args, "mtu", json_object_new_int64(mtu));
    json_object_object_add(args, "ports", json_object_get(ports));
    if (rs == 0)
        json_object_object_add(args, "segment", json_object_new_string(seg));
    if (local) {
        json_object_object_add(args, "serverLocal", json_object_new_int(1));
        json_object_object_add(args, "serverId",
                               json_object_new_string(server));
    }
    {
        AUTOPTR(json_object) json_object *want = net_want_new(args);

        if (!(mgr = db_manager_id(api_conf()->db)) ||
            net_check_network(&v, want, mgr) < 0)
            return -1;
    }
    snprintf(jname, sizeof(jname), "Create Network: %s", name);
    api_lock_add(&l, "Network", id, name, true);
    if (lock_ports(&l, ports) < 0)
        return -1;
    if (rs == 0)
        api_lock_add(&l, "VlanSegment", seg, NULL, true);
    if (local)
        api_lock_add(&l, "Server", server, NULL, false);
    return api_submit(req, resp, jname, &l, "network.create", args,
                      "Network", id, name);
}

/* ---- PUT /Network/{id} ---- */

int
api_network_update(struct api_req *req, struct api_resp *resp)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *n = NULL, *b = NULL, *args = NULL;
    AUTOPTR(json_object) json_object *want = NULL;
    const char *name = NULL, *desc = NULL;
    char id[256], jname[600];
    char *AUTOFREE roles = NULL, *AUTOFREE mgr = NULL;
    json_object *ud = NULL;
    int64_t gen, mtu = -1;
    bool local;
    int rl;
    API_LOCKS(l);

    if (!(n = api_target(req, "Network", id, sizeof(id))) ||
        !(b = api_body_object(req)))
        return -1;
    if (api_body_id_check(b, "Network", id) < 0 ||
        api_common_members(b, model_type_find("Network"), &name, &desc,
                           &ud) < 0 ||
        api_generation_check(b, n, "Network", &gen) < 0 ||
        body_roles(b, &roles) < 0 || body_mtu(b, &mtu) < 0)
        return -1;
    if ((rl = json_get_bool(b, "serverLocal", &local)) < 0)
        return -1;
    if (rl == 0 && local != (json_object_get_int64(
                                 json_object_object_get(n, "server_local")) != 0)) {
        err_set(ERR_INVALID, "'serverLocal' of network '%s' cannot change",
                json_str(n, "name"));
        return -1;
    }
    want = NULL;
    json_object_deep_copy(n, &want, NULL);
    if (roles)
        json_object_object_add(want, "roles", json_object_new_string(roles));
    if (name)
        json_object_object_add(want, "name", json_object_new_string(name));
    if (!(mgr = db_manager_id(api_conf()->db)) ||
        net_check_network(&v, want, mgr) < 0)
        return -1;
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    if (gen >= 0)
        json_object_object_add(args, "generation", json_object_new_int64(gen));
    if (name)
        json_object_object_add(args, "name", json_object_new_string(name));
    if (desc)
        json_object_object_add(args, "description",
                               json_object_new_string(desc));
    if (ud)
        json_object_object_add(args, "userData", json_object_get(ud));
    if (roles)
        json_object_object_add(args, "roles", json_object_new_string(roles));
    if (mtu >= 0)
        json_object_object_add(args, "mtu", json_object_new_int64(mtu));
    snprintf(jname, sizeof(jname), "Edit Network: %s", json_str(n, "name"));
    api_lock_add(&l, "Network", id, json_str(n, "name"), true);
    lock_network_servers(&l, n);
    return api_submit(req, resp, jname, &l, "network.update", args,
                      "Network", id, name ? name : json_str(n, "name"));
}

/* ---- PUT /Network/{id}/addEthernetPort, ... ---- */

static int
member(struct api_req *req, struct api_resp *resp, const char *kind,
       bool add)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *n = NULL, *b = NULL, *r = NULL;
    AUTOPTR(json_object) json_object *args = NULL;
    char id[256], ref[256], jname[800], what[64];
    char *AUTOFREE mgr = NULL;
    API_LOCKS(l);

    if (!(n = api_target(req, "Network", id, sizeof(id))))
        return -1;
    snprintf(what, sizeof(what), "the %s", kind);
    if (!req->body || !req->body_len) {
        err_set(ERR_INVALID, "the body must name the %s: its SimpleId, "
                             "{\"value\": id} or the id as a JSON string", kind);
        return -1;
    }
    if (!(b = json_parse(req->body, req->body_len)))
        return -1;
    if (api_ref_value(b, kind, what, ref, sizeof(ref)) != 0) {
        if (err_code() == ERR_OK)
            err_set(ERR_INVALID, "the body must name the %s", kind);
        return -1;
    }
    if (!(r = api_row_get(kind, ref)) ||
        !(mgr = db_manager_id(api_conf()->db)) ||
        net_check_member(&v, id, kind, ref, add, mgr) < 0)
        return -1;
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    json_object_object_add(args, "kind", json_object_new_string(kind));
    json_object_object_add(args, "ref", json_object_new_string(ref));
    json_object_object_add(args, "add", json_object_new_int(add ? 1 : 0));
    snprintf(jname, sizeof(jname), "%s %s: %s %s Network: %s",
             add ? "Add" : "Remove",
             str_eq(kind, "EthernetPort") ? "Port" : "VLAN Segment",
             json_str(r, "name"), add ? "to" : "from", json_str(n, "name"));
    api_lock_add(&l, "Network", id, json_str(n, "name"), true);
    api_lock_add(&l, kind, ref, json_str(r, "name"), true);
    if (json_str(r, "server_id"))
        api_lock_add(&l, "Server", json_str(r, "server_id"), NULL, false);
    lock_network_servers(&l, n);
    return api_submit(req, resp, jname, &l, "network.member", args,
                      "Network", id, json_str(n, "name"));
}

int
api_network_add_port(struct api_req *req, struct api_resp *resp)
{
    return member(req, resp, "EthernetPort", true);
}

int
api_network_remove_port(struct api_req *req, struct api_resp *resp)
{
    return member(req, resp, "EthernetPort", false);
}

int
api_network_add_segment(struct api_req *req, struct api_resp *resp)
{
    return member(req, resp, "VlanSegment", true);
}

int
api_network_remove_segment(struct api_req *req, struct api_resp *resp)
{
    return member(req, resp, "VlanSegment", false);
}

/* ---- DELETE /Network/{id} ---- */

int
api_network_delete(struct api_req *req, struct api_resp *resp)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *n = NULL, *args = NULL;
    char id[256], jname[600];
    API_LOCKS(l);

    if (!(n = api_target(req, "Network", id, sizeof(id))) ||
        net_check_delete(&v, id) < 0)
        return -1;
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    snprintf(jname, sizeof(jname), "Delete Network: %s", json_str(n, "name"));
    api_lock_add(&l, "Network", id, json_str(n, "name"), true);
    if (json_str(n, "vlan_segment_id"))
        api_lock_add(&l, "VlanSegment", json_str(n, "vlan_segment_id"), NULL,
                     true);
    lock_network_servers(&l, n);
    return api_submit(req, resp, jname, &l, "network.delete", args,
                      "Network", id, json_str(n, "name"));
}
