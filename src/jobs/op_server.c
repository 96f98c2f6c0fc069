/*
 * op_server.c - server operations: discovery (and rediscovery).
 *
 * server.discover  args {host, uri, user, password (sealed or absent),
 *                  takeOwnership, managerUuid}. Connects to the host
 *                  through the hv layer, reads its facts, and in one
 *                  transaction with its DONE row creates or refreshes the
 *                  Server, its EthernetPorts, its CPU compatibility group
 *                  and, when none exists yet, the management network
 *                  (MANAGEMENT, LIVE_MIGRATE, CLUSTER_HEARTBEAT) with the
 *                  server's first port on it. Undo data names what was
 *                  created ({server, group, network}), and undo deletes
 *                  exactly that (a rediscovery creates nothing and has
 *                  nothing to undo).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "db/db.h"
#include "events/events.h"
#include "hv/hv.h"
#include "jobs/jobs_int.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/json.h"
#include "util/secret.h"
#include "util/str.h"

static const char *
jstr(json_object *o, const char *key)
{
    json_object *v;

    if (!o || !json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static bool
jbool(json_object *o, const char *key, bool def)
{
    json_object *v;

    if (!o || !json_object_object_get_ex(o, key, &v) || !v)
        return def;
    return json_object_get_boolean(v);
}

/* "0123456789abcdef..." (32 hex, dashes ignored) -> "01:23:45:..." */
static char *
colon_uuid(const char *uuid)
{
    char hex[33], *out;
    size_t n = 0, i;

    for (; *uuid && n < 32; uuid++) {
        if (*uuid != '-')
            hex[n++] = (char)(*uuid >= 'A' && *uuid <= 'F' ? *uuid + 32
                                                            : *uuid);
    }
    hex[n] = '\0';
    if (n != 32)
        return NULL;
    out = xmalloc(16 * 3);
    for (i = 0; i < 16; i++) {
        out[3 * i] = hex[2 * i];
        out[3 * i + 1] = hex[2 * i + 1];
        out[3 * i + 2] = i == 15 ? '\0' : ':';
    }
    return out;
}

/* Short vendor name for group ids: "Intel", "AMD", else the vendor. */
static const char *
vendor_short(const char *v)
{
    if (strstr(v, "Intel"))
        return "Intel";
    if (strstr(v, "AMD"))
        return "AMD";
    return v[0] ? v : "Unknown";
}

static json_object *
hypervisor_json(const struct hv_node_facts *f)
{
    json_object *h = json_object_new_object(), *caps = json_object_new_array();
    size_t i;

    for (i = 0; i < f->ncapabilities; i++)
        json_object_array_add(caps,
                              json_object_new_string(f->capabilities[i]));
    json_object_object_add(h, "capabilities", caps);
    json_object_object_add(h, "version", json_object_new_string(f->hv_version));
    json_object_object_add(h, "type", json_object_new_string(f->hv_type));
    return h;
}

static int
discover_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    const char *host = jstr(args, "host"), *uri = jstr(args, "uri");
    const char *sealed = jstr(args, "password");
    char *password = NULL, *id = NULL, *group_id = NULL, *group_name = NULL;
    char *net_id = NULL, *first_port = NULL;
    struct hv_auth auth = { jstr(args, "user"), NULL };
    struct hv_node_facts f;
    struct db_server_facts sf;
    struct hv_conn *conn;
    struct db_txn *t = NULL;
    json_object *hvj = NULL, *u;
    bool created = false, gcreated = false, ncreated = false;
    size_t i;
    int ret = -1;

    memset(&f, 0, sizeof(f));
    if (!host || !uri) {
        err_set(ERR_INVALID, "server.discover: host and uri are required");
        return -1;
    }
    if (sealed && !(password = secret_open(sealed)))
        return -1;
    auth.password = password;
    job_progress(ctx, "connecting to %s", host);
    conn = hv_libvirt.open(uri, &auth);
    if (password) {
        memset(password, 0, strlen(password));
        xfree(password);
    }
    if (!conn)
        return -1;
    if (hv_libvirt.node_facts(conn, &f) < 0) {
        hv_libvirt.close(conn);
        return -1;
    }
    hv_libvirt.close(conn);
    id = colon_uuid(f.uuid);
    if (!id) {
        err_set(ERR_INVALID, "server '%s' reports no usable host UUID ('%s')",
                host, f.uuid);
        goto out;
    }
    group_id = xasprintf("Default_%s_F%d_M%d", vendor_short(f.cpu_vendor),
                         f.cpu_family, f.cpu_model);
    group_name = xasprintf("Default_%s_Family:%d_Model:%d",
                           vendor_short(f.cpu_vendor), f.cpu_family,
                           f.cpu_model);
    hvj = hypervisor_json(&f);
    memset(&sf, 0, sizeof(sf));
    sf.id = id;
    sf.name = f.hostname[0] ? f.hostname : host;
    sf.ip_address = host;
    sf.agent_login = auth.username ? auth.username : "oracle";
    sf.agent_password = sealed;
    sf.libvirt_uri = uri;
    sf.manager_uuid = jbool(args, "takeOwnership", true)
                          ? jstr(args, "managerUuid") : NULL;
    sf.hostname = f.hostname;
    sf.bios_vendor = f.bios_vendor;
    sf.bios_version = f.bios_version;
    sf.bios_release_date = f.bios_date;
    sf.processor_type = f.arch[0] ? f.arch : "x86_64";
    sf.processor_speed_khz = (int64_t)f.mhz * 1000;
    sf.sockets = f.sockets;
    sf.threads_per_core = f.threads_per_core;
    sf.cores_per_socket = f.cores_per_socket;
    sf.total_cores = (int64_t)f.sockets * f.cores_per_socket;
    sf.enabled_cores = f.cpus;
    sf.memory_mib = (int64_t)(f.memory_kib / 1024);
    sf.usable_memory_mib = (int64_t)(f.free_memory_kib / 1024);
    sf.manufacturer = f.manufacturer;
    sf.product_name = f.product;
    sf.serial_number = f.serial;
    sf.cpu_vendor = f.cpu_vendor;
    sf.cpu_model_name = f.cpu_model_name;
    sf.cpu_family = f.cpu_family;
    sf.cpu_model = f.cpu_model;
    sf.hypervisor_json = json_object_to_json_string_ext(hvj,
                                                        JSON_C_TO_STRING_PLAIN);
    sf.cpu_group_id = group_id;

    t = job_txn_begin(ctx);
    if (!t)
        goto out;
    if (db_txn_cpu_group_ensure(t, group_id, group_name, f.cpu_vendor,
                                f.cpu_family, f.cpu_model, &gcreated) < 0 ||
        db_txn_server_put(t, &sf, &created) < 0)
        goto fail;
    for (i = 0; i < f.nnics; i++) {
        char *pid = NULL;

        if (db_txn_port_put(t, id, sf.name, f.nics[i].name, f.nics[i].mac,
                            f.nics[i].mtu, f.nics[i].up, &pid) < 0)
            goto fail;
        if (!first_port)
            first_port = pid;
        else
            xfree(pid);
    }
    if (created && db_txn_management_network(t, "management", &net_id,
                                             &ncreated) < 0)
        goto fail;
    if (created && first_port &&
        db_txn_port_set_network(t, first_port, net_id) < 0)
        goto fail;
    if (events_add(t, SEV_INFORMATIONAL,
                   created ? "server.discovered" : "server.rediscovered", id,
                   "Server", sf.name, job_id(ctx), job_user(ctx), NULL,
                   "Server '%s' %s at %s", sf.name,
                   created ? "discovered" : "rediscovered", host) < 0)
        goto fail;
    job_set_result(ctx, "Server", id, sf.name);
    u = NULL;
    if (created) {
        u = json_object_new_object();
        json_object_object_add(u, "server", json_object_new_string(id));
        if (gcreated)
            json_object_object_add(u, "group",
                                   json_object_new_string(group_id));
        if (ncreated)
            json_object_object_add(u, "network",
                                   json_object_new_string(net_id));
    }
    ret = job_txn_commit(ctx, t, u);
    json_object_put(u);
    t = NULL;
    *undo = NULL;
    goto out;

 fail:
    db_txn_rollback(t);
 out:
    hv_node_facts_release(&f);
    json_object_put(hvj);
    xfree(id);
    xfree(group_id);
    xfree(group_name);
    xfree(net_id);
    xfree(first_port);
    return ret;
}

static int
discover_undo(struct job_ctx *ctx, json_object *args, json_object *undo)
{
    const char *keys[] = { "server", "network", "group" };
    struct db_txn *t = job_txn_begin(ctx);
    size_t i;

    (void)args;
    if (!t)
        return -1;
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *id = jstr(undo, keys[i]);

        if (id && db_txn_object_delete(t, id) < 0 &&
            err_code() != ERR_NOT_FOUND) {
            db_txn_rollback(t);
            return -1;
        }
    }
    return job_txn_commit(ctx, t, NULL);
}

const struct job_op_type job_op_server_discover = {
    "server.discover", discover_run, discover_undo, true,
};
