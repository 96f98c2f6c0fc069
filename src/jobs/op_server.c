/*
 * op_server.c - server operations: discovery (and rediscovery), edit,
 * ownership, delete, and power control.
 *
 * DESIGN: every operation but server.power is database-only: it opens
 * job_txn_begin(), reads the server again inside its transaction, applies
 * the rules the HTTP handler applied (db_server_check_*(), so the messages
 * agree: a job that waited while the world changed ends FAILURE and
 * changes nothing), makes its change, raises its events and ends with
 * job_txn_commit(), so change, events and the DONE row with its undo data
 * commit together and an undo after a restart finds exactly what the DONE
 * row says. Undo data record the old value of every column the operation
 * changed, the generation included, so an undone change leaves the
 * server exactly as it was. server.power talks to the server's BMC with
 * ipmitool (util/ipmi.h: an argv child, never a shell, the password in
 * its environment only) or sends a Wake-on-LAN packet, with no database
 * transaction open meanwhile; it commits the confirmed state at the end.
 *
 * Operations (arguments -> undo data):
 *   server.discover  {host, uri, user, password (sealed or absent),
 *                    takeOwnership, managerUuid}. Connects to the host
 *                    through the hv layer, reads its facts, and in one
 *                    transaction with its DONE row creates or refreshes
 *                    the Server, its EthernetPorts, its CPU compatibility
 *                    group and, when none exists yet, the management
 *                    network (MANAGEMENT, LIVE_MIGRATE, CLUSTER_HEARTBEAT)
 *                    with the server's first port on it. Undo data names
 *                    what was created ({server, group, network}), and undo
 *                    deletes exactly that (a rediscovery creates nothing
 *                    and has nothing to undo).
 *   server.update    {id, generation?, name?, description?, userData?,
 *                    columns? {roles, maintenance_mode,
 *                    inbound_migration_locked, ipmi_address, ipmi_user,
 *                    ipmi_password (sealed)}} -> {name, description,
 *                    userData, generation, columns: their old values,
 *                    master?: {pool, server, poolGeneration}}. Entering
 *                    maintenance mode as its pool's master hands the role
 *                    to another server of the pool (the master member of
 *                    the undo data puts it back).
 *   server.owner     {id, take, managerUuid, agentPassword? (sealed)} ->
 *                    {generation, ..., columns: {manager_uuid,
 *                    agent_password?}}.
 *   server.delete    {id} -> a snapshot of the server's rows
 *                    (db_txn_server_snapshot()) with, under "storage",
 *                    its local file server and file systems and the
 *                    admin lists it is on (storage_server_snapshot()):
 *                    the undo inserts them back, ids, generation and
 *                    times included. Refused while a repository is
 *                    presented to it or lives on its local storage.
 *   server.run_state {id, state, from: [states], action} -> {state,
 *                    generation}: STARTING or STOPPING while a power job
 *                    runs; the undo puts the old state back when the
 *                    power operation fails or is aborted.
 *   server.power     {id, action: on|soft|cycle|off|wol, expect: on|off,
 *                    state: RUNNING|STOPPED, timeoutMs, confirmTimeoutMs,
 *                    cipherSuite, wolAddress, wolPort} -> nothing (power
 *                    cannot be taken back). Runs `chassis power <action>`,
 *                    then polls `chassis power status` until it reports
 *                    @expect, and commits run state @state with
 *                    power_state. "wol" sends the magic packet to the
 *                    management port's MAC and leaves the server STARTING
 *                    (nothing can confirm it but the server answering).
 *
 * Events: server.discovered/rediscovered, object.updated,
 * server.maintenance (entered/left), pool.master (the role moved) or
 * pool.master_kept (WARNING: nobody could take it), server.ownership,
 * server.deleted, server.power, server.wake_on_lan, and object.restored
 * for every undo.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "db/db.h"
#include "events/events.h"
#include "hv/hv.h"
#include "jobs/jobs_int.h"
#include "jobs/storage.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/ipmi.h"
#include "util/json.h"
#include "util/secret.h"
#include "util/str.h"

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
local_disks_json(const struct hv_node_facts *f)
{
    json_object *a = json_object_new_array();
    size_t i;

    for (i = 0; i < f->ndisks; i++) {
        json_object *d = json_object_new_object();

        json_object_object_add(d, "name",
                               json_object_new_string(f->disks[i].name));
        json_object_object_add(d, "type",
                               json_object_new_string(f->disks[i].type));
        json_object_object_add(d, "path",
                               json_object_new_string(f->disks[i].path));
        json_object_object_add(d, "capacity", json_object_new_int64(
                                   (int64_t)f->disks[i].capacity_bytes));
        json_object_object_add(d, "allocation", json_object_new_int64(
                                   (int64_t)f->disks[i].allocation_bytes));
        json_object_array_add(a, d);
    }
    return a;
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
    const char *host = json_str(args, "host"), *uri = json_str(args, "uri");
    const char *sealed = json_str(args, "password");
    char *password = NULL, *id = NULL, *group_id = NULL, *group_name = NULL;
    char *net_id = NULL, *first_port = NULL;
    const char *first_name = NULL;
    struct hv_auth auth = { json_str(args, "user"), NULL };
    struct hv_node_facts f;
    struct db_server_facts sf;
    struct hv_conn *conn;
    struct db_txn *t = NULL;
    json_object *hvj = NULL, *disks = NULL, *u;
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
                          ? json_str(args, "managerUuid") : NULL;
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
    disks = local_disks_json(&f);
    sf.local_disks_json = json_object_to_json_string_ext(
        disks, JSON_C_TO_STRING_PLAIN);
    sf.cpu_group_id = group_id;

    t = job_txn_begin(ctx);
    if (!t)
        goto out;
    if (db_txn_cpu_group_ensure(t, group_id, group_name, f.cpu_vendor,
                                f.cpu_family, f.cpu_model, &gcreated) < 0 ||
        db_txn_server_put(t, &sf, &created) < 0)
        goto fail;
    /* The management port: the first by name (eth0 before eth1), whatever
     * order the host lists its interfaces in. */
    for (i = 0; i < f.nnics; i++) {
        char *pid = NULL;

        if (db_txn_port_put(t, id, sf.name, f.nics[i].name, f.nics[i].mac,
                            f.nics[i].mtu, f.nics[i].up, &pid) < 0)
            goto fail;
        if (!first_port || strcmp(f.nics[i].name, first_name) < 0) {
            xfree(first_port);
            first_port = pid;
            first_name = f.nics[i].name;
        } else {
            xfree(pid);
        }
    }
    if (created && db_txn_management_network(t, "management", &net_id,
                                             &ncreated) < 0)
        goto fail;
    if (created && first_port &&
        db_txn_port_set_network(t, first_port, net_id) < 0)
        goto fail;
    /* Its local storage: "Local FS <name>" and its file systems. */
    if (storage_local_sync(ctx, t, id, sf.name, &f) < 0)
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
    json_object_put(disks);
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
        const char *id = json_str(undo, keys[i]);

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

/* ---- edit, ownership, delete, power ---- */

/* Integer member @key of @o, or @def. */
static int64_t
jint(json_object *o, const char *key, int64_t def)
{
    json_object *v;

    if (!o || !json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_int))
        return def;
    return json_object_get_int64(v);
}

/* The object member @key of @o, or NULL. Borrowed. */
static json_object *
jobj(json_object *o, const char *key)
{
    json_object *v;

    if (!o || !json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_object))
        return NULL;
    return v;
}

/* Commit @t with @undo when @rc is 0, else roll it back. 0 or -1. */
static int
finish(struct job_ctx *ctx, struct db_txn *t, int rc, json_object *undo)
{
    if (rc < 0) {
        db_txn_rollback(t);
        return -1;
    }
    return job_txn_commit(ctx, t, undo);
}

/* Put back the common part and the columns an undo recorded, and raise
 * object.restored on the server. */
static int
restore_server(struct job_ctx *ctx, struct db_txn *t, const char *id,
               json_object *undo)
{
    json_object *cols = jobj(undo, "columns");
    struct db_common cur = { 0 };
    int rc;

    if ((cols && db_txn_server_set_columns(t, id, cols) < 0) ||
        db_txn_object_set_common(t, id, json_str(undo, "name"),
                                 json_str(undo, "description"),
                                 json_str(undo, "userData"),
                                 jint(undo, "generation", -1)) < 0 ||
        db_txn_object_common(t, id, &cur) < 0)
        return -1;
    rc = events_add(t, SEV_INFORMATIONAL, "object.restored", id, "Server",
                    cur.name, job_id(ctx), job_user(ctx), NULL,
                    "Server '%s' restored: the job's change was undone",
                    cur.name);
    db_common_clear(&cur);
    return rc;
}

/* The common part of server @id as undo data, plus @cols (taken). */
static json_object *
undo_of(const struct db_common *cur, json_object *cols)
{
    json_object *u = json_object_new_object();

    json_object_object_add(u, "name", json_object_new_string(cur->name));
    json_object_object_add(u, "description",
                           json_object_new_string(cur->description));
    json_object_object_add(u, "userData",
                           json_object_new_string(cur->user_data));
    json_object_object_add(u, "generation",
                           json_object_new_int64(cur->generation));
    if (cols)
        json_object_object_add(u, "columns", cols);
    return u;
}

/*
 * Entering maintenance mode as the master of a pool hands the master role
 * to another server of the pool, if one can take it (seeds 7.8.9). Adds
 * {"master": {pool, server, poolGeneration}} to @u when it did.
 */
static int
handover_master(struct job_ctx *ctx, struct db_txn *t,
                const struct db_server *s, json_object *u)
{
    char *AUTOFREE succ = NULL;
    struct db_common pool = { 0 };
    json_object *m;
    int rc;

    if (!s->server_pool_id || !str_eq(s->pool_master_id, s->id))
        return 0;
    succ = db_txn_server_master_successor(t, s->id);
    if (!succ) {
        if (err_code() != ERR_NOT_FOUND)
            return -1;
        /* Alone in its pool, or all others in maintenance: the role
         * stays ("if available"). */
        return events_add(t, SEV_WARNING, "pool.master_kept",
                          s->server_pool_id, "ServerPool", s->pool_name,
                          job_id(ctx), job_user(ctx), NULL,
                          "Server '%s' stays master of pool '%s' in "
                          "maintenance mode: no other server can take the "
                          "role", s->name, s->pool_name);
    }
    if (db_txn_object_common(t, s->server_pool_id, &pool) < 0)
        return -1;
    m = json_object_new_object();
    json_object_object_add(m, "pool",
                           json_object_new_string(s->server_pool_id));
    json_object_object_add(m, "server", json_object_new_string(s->id));
    json_object_object_add(m, "poolGeneration",
                           json_object_new_int64(pool.generation));
    json_object_object_add(u, "master", m);
    rc = db_txn_server_pool_set_master(t, s->server_pool_id, succ);
    if (rc == 0)
        rc = db_txn_object_set_common(t, s->server_pool_id, NULL, NULL, NULL,
                                      -1);
    if (rc == 0)
        rc = events_add(t, SEV_INFORMATIONAL, "pool.master",
                        s->server_pool_id, "ServerPool", pool.name,
                        job_id(ctx), job_user(ctx), NULL,
                        "Server '%s' entered maintenance mode: the master "
                        "role of pool '%s' moved to server '%s'", s->name,
                        pool.name, succ);
    db_common_clear(&pool);
    return rc;
}

static int
update_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    const char *id = json_str(args, "id");
    json_object *cols = jobj(args, "columns"), *old = NULL, *u = NULL, *ud;
    AUTOPTR(db_server) struct db_server *s = NULL;
    const char *ud_text = NULL;
    int64_t gen = jint(args, "generation", -1);
    struct db_common cur = { 0 };
    struct db_txn *t;
    bool entering, leaving;
    int rc = -1;

    if (!id) {
        err_set(ERR_INVALID, "server.update: no server id");
        return -1;
    }
    if (json_object_object_get_ex(args, "userData", &ud) && ud)
        ud_text = json_object_to_json_string_ext(ud, JSON_C_TO_STRING_PLAIN);
    t = job_txn_begin(ctx);
    if (!t)
        return -1;
    s = db_txn_server_get(t, id);
    if (!s || db_txn_object_common(t, id, &cur) < 0)
        goto out;
    if (gen >= 0 && gen != cur.generation) {
        err_set(ERR_CONFLICT, "Server '%s' was changed by someone else: the "
                              "request was made from generation %" PRId64
                              " but it is at generation %" PRId64,
                cur.name, gen, cur.generation);
        goto out;
    }
    entering = jint(cols, "maintenance_mode", -1) == 1 && !s->maintenance_mode;
    leaving = jint(cols, "maintenance_mode", -1) == 0 && s->maintenance_mode;
    if (cols) {
        old = db_txn_server_columns(t, id, cols);
        if (!old)
            goto out;
    }
    u = undo_of(&cur, old);
    old = NULL;
    /*
     * Entering maintenance mode: the master role moves now. The server's
     * running VMs are migrated to other servers of the pool, or stopped,
     * by operations that issue 7 adds after this one in the same job
     * (api_server.c builds the job), so a failed migration undoes this
     * edit too.
     */
    if (entering && handover_master(ctx, t, s, u) < 0)
        goto out;
    if ((cols && db_txn_server_set_columns(t, id, cols) < 0) ||
        db_txn_object_set_common(t, id, json_str(args, "name"),
                                 json_str(args, "description"), ud_text,
                                 -1) < 0)
        goto out;
    rc = events_add(t, SEV_INFORMATIONAL, "object.updated", id, "Server",
                    json_str(args, "name") ? json_str(args, "name") : cur.name,
                    job_id(ctx), job_user(ctx), NULL, "Server '%s' updated",
                    json_str(args, "name") ? json_str(args, "name") : cur.name);
    if (rc == 0 && (entering || leaving))
        rc = events_add(t, SEV_INFORMATIONAL, "server.maintenance", id,
                        "Server", cur.name, job_id(ctx), job_user(ctx), NULL,
                        "Server '%s' %s maintenance mode", cur.name,
                        entering ? "entered" : "left");
    job_set_result(ctx, "Server", id,
                   json_str(args, "name") ? json_str(args, "name") : cur.name);
 out:
    db_common_clear(&cur);
    rc = finish(ctx, t, rc, u);
    json_object_put(u);
    json_object_put(old);
    *undo = NULL;   /* recorded with the DONE row already */
    return rc;
}

static int
update_undo(struct job_ctx *ctx, json_object *args, json_object *undo)
{
    const char *id = json_str(args, "id");
    json_object *m = jobj(undo, "master");
    struct db_txn *t;
    int rc = 0;

    if (!id) {
        err_set(ERR_INTERNAL, "server.update undo: no server id");
        return -1;
    }
    t = job_txn_begin(ctx);
    if (!t)
        return -1;
    if (m && (db_txn_server_pool_set_master(t, json_str(m, "pool"),
                                            json_str(m, "server")) < 0 ||
              db_txn_object_set_common(t, json_str(m, "pool"), NULL, NULL, NULL,
                                       jint(m, "poolGeneration", -1)) < 0))
        rc = -1;
    if (rc == 0)
        rc = restore_server(ctx, t, id, undo);
    return finish(ctx, t, rc, NULL);
}

const struct job_op_type job_op_server_update = {
    "server.update", update_run, update_undo, true,
};

static int
owner_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    const char *id = json_str(args, "id"), *mgr = json_str(args, "managerUuid");
    const char *pw = json_str(args, "agentPassword");
    bool take = jbool(args, "take", true);
    AUTOPTR(db_server) struct db_server *s = NULL;
    json_object *cols = json_object_new_object(), *old = NULL, *u = NULL;
    struct db_common cur = { 0 };
    struct db_txn *t;
    int rc = -1;

    if (!id || !mgr) {
        json_object_put(cols);
        err_set(ERR_INVALID, "server.owner: id and managerUuid are required");
        return -1;
    }
    json_object_object_add(cols, "manager_uuid",
                           take ? json_object_new_string(mgr) : NULL);
    if (take && pw)
        json_object_object_add(cols, "agent_password",
                               json_object_new_string(pw));
    t = job_txn_begin(ctx);
    if (!t) {
        json_object_put(cols);
        return -1;
    }
    s = db_txn_server_get(t, id);
    if (!s || db_server_check_ownership(s, take, mgr) < 0 ||
        db_txn_object_common(t, id, &cur) < 0)
        goto out;
    old = db_txn_server_columns(t, id, cols);
    if (!old)
        goto out;
    u = undo_of(&cur, old);
    if (db_txn_server_set_columns(t, id, cols) < 0 ||
        db_txn_object_set_common(t, id, NULL, NULL, NULL, -1) < 0)
        goto out;
    rc = events_add(t, SEV_INFORMATIONAL, "server.ownership", id, "Server",
                    cur.name, job_id(ctx), job_user(ctx), NULL,
                    take ? "Server '%s' is now owned by this Manager"
                         : "Server '%s' was released by this Manager",
                    cur.name);
    job_set_result(ctx, "Server", id, cur.name);
 out:
    db_common_clear(&cur);
    rc = finish(ctx, t, rc, u);
    json_object_put(u);
    json_object_put(cols);
    *undo = NULL;
    return rc;
}

/* Undo of an operation that recorded undo_of() data only. */
static int
columns_undo(struct job_ctx *ctx, json_object *args, json_object *undo)
{
    const char *id = json_str(args, "id");
    struct db_txn *t;

    if (!id) {
        err_set(ERR_INTERNAL, "undo: no server id");
        return -1;
    }
    t = job_txn_begin(ctx);
    if (!t)
        return -1;
    return finish(ctx, t, restore_server(ctx, t, id, undo), NULL);
}

const struct job_op_type job_op_server_owner = {
    "server.owner", owner_run, columns_undo, true,
};

static int
delete_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    const char *id = json_str(args, "id");
    AUTOPTR(db_server) struct db_server *s = NULL;
    json_object *snap = NULL;
    struct db_txn *t;
    int rc = -1;

    if (!id) {
        err_set(ERR_INVALID, "server.delete: no server id");
        return -1;
    }
    t = job_txn_begin(ctx);
    if (!t)
        return -1;
    s = db_txn_server_get(t, id);
    if (!s ||
        storage_check_server_delete(&(struct storage_view){ NULL, t },
                                    id) < 0 ||
        db_server_check_delete(s) < 0)
        goto out;
    snap = db_txn_server_snapshot(t, id);
    /* Its local file server and its place on admin lists go with it. */
    if (snap) {
        json_object *st = storage_server_snapshot(t, id);

        if (!st)
            goto out;
        json_object_object_add(snap, "storage", st);
    }
    if (!snap || db_txn_server_delete(t, id) < 0)
        goto out;
    rc = events_add(t, SEV_INFORMATIONAL, "server.deleted", id, "Server",
                    s->name, job_id(ctx), job_user(ctx), NULL,
                    "Server '%s' deleted: it is no longer managed by this "
                    "Manager (nothing was done to the server itself)",
                    s->name);
 out:
    rc = finish(ctx, t, rc, snap);
    json_object_put(snap);
    *undo = NULL;
    return rc;
}

static int
delete_undo(struct job_ctx *ctx, json_object *args, json_object *undo)
{
    const char *id = json_str(args, "id");
    struct db_common cur = { 0 };
    struct db_txn *t;
    int rc;

    if (!id) {
        err_set(ERR_INTERNAL, "server.delete undo: no server id");
        return -1;
    }
    t = job_txn_begin(ctx);
    if (!t)
        return -1;
    rc = db_txn_server_restore(t, undo);
    if (rc == 0)
        rc = storage_server_restore(t, json_object_object_get(undo,
                                                              "storage"));
    if (rc == 0)
        rc = db_txn_object_common(t, id, &cur);
    if (rc == 0)
        rc = events_add(t, SEV_INFORMATIONAL, "object.restored", id,
                        "Server", cur.name, job_id(ctx), job_user(ctx), NULL,
                        "Server '%s' restored: the job's delete was undone",
                        cur.name);
    db_common_clear(&cur);
    return finish(ctx, t, rc, NULL);
}

const struct job_op_type job_op_server_delete = {
    "server.delete", delete_run, delete_undo, true,
};

/* Is @state one of the strings of the JSON array @arr? */
static bool
state_allowed(json_object *arr, const char *state)
{
    size_t i, n;

    if (!arr || !json_object_is_type(arr, json_type_array))
        return true;
    n = json_object_array_length(arr);
    for (i = 0; i < n; i++) {
        if (str_eq(json_object_get_string(json_object_array_get_idx(arr, i)),
                   state))
            return true;
    }
    return false;
}

static int
run_state_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    const char *id = json_str(args, "id"), *state = json_str(args, "state");
    const char *verb = json_str(args, "action");
    AUTOPTR(db_server) struct db_server *s = NULL;
    json_object *from = NULL, *u = NULL;
    struct db_txn *t;
    int rc = -1;

    if (!id || !state) {
        err_set(ERR_INVALID, "server.run_state: id and state are required");
        return -1;
    }
    json_object_object_get_ex(args, "from", &from);
    t = job_txn_begin(ctx);
    if (!t)
        return -1;
    s = db_txn_server_get(t, id);
    if (!s)
        goto out;
    if (!state_allowed(from, s->run_state)) {
        err_set(ERR_STATE, "cannot %s server '%s': it is %s",
                verb ? verb : "change", s->name, s->run_state);
        goto out;
    }
    u = json_object_new_object();
    json_object_object_add(u, "state", json_object_new_string(s->run_state));
    json_object_object_add(u, "generation",
                           json_object_new_int64(s->generation));
    rc = db_txn_server_set_run_state(t, id, state, NULL);
 out:
    rc = finish(ctx, t, rc, u);
    json_object_put(u);
    *undo = NULL;
    return rc;
}

static int
run_state_undo(struct job_ctx *ctx, json_object *args, json_object *undo)
{
    const char *id = json_str(args, "id"), *state = json_str(undo, "state");
    struct db_common cur = { 0 };
    struct db_txn *t;
    int rc;

    if (!id || !state) {
        err_set(ERR_INTERNAL, "server.run_state undo: no id or state");
        return -1;
    }
    t = job_txn_begin(ctx);
    if (!t)
        return -1;
    rc = db_txn_server_set_run_state(t, id, state, NULL);
    if (rc == 0)
        rc = db_txn_object_set_common(t, id, NULL, NULL, NULL,
                                      jint(undo, "generation", -1));
    if (rc == 0)
        rc = db_txn_object_common(t, id, &cur);
    if (rc == 0)
        rc = events_add(t, SEV_INFORMATIONAL, "object.restored", id,
                        "Server", cur.name, job_id(ctx), job_user(ctx), NULL,
                        "Server '%s' is %s again: the power job did not "
                        "complete", cur.name, state);
    db_common_clear(&cur);
    return finish(ctx, t, rc, NULL);
}

const struct job_op_type job_op_server_run_state = {
    "server.run_state", run_state_run, run_state_undo, true,
};

static bool
power_cancel(void *cls)
{
    return job_aborting(cls);
}

/* Poll `chassis power status` until it says @want, the deadline passes
 * (ERR_TIMEOUT) or the job is aborted. */
static int
power_confirm(struct job_ctx *ctx, const struct ipmi_target *tg,
              const char *name, bool want, int64_t settle_ms,
              int64_t timeout_ms)
{
    int64_t deadline = time_mono_ms() + timeout_ms;
    bool on = !want;

    if (settle_ms > 0 && job_sleep(ctx, settle_ms))
        return job_abort_error(ctx);
    for (;;) {
        if (ipmi_power_status(tg, &on) < 0)
            return -1;
        if (on == want)
            return 0;
        if (time_mono_ms() >= deadline)
            break;
        job_progress(ctx, "waiting for server '%s' to power %s", name,
                     want ? "on" : "off");
        if (job_sleep(ctx, 1000))
            return job_abort_error(ctx);
    }
    err_set(ERR_TIMEOUT, "server '%s' did not power %s within %" PRId64
                         " s: IPMI still reports power %s", name,
            want ? "on" : "off", timeout_ms / 1000, on ? "on" : "off");
    return -1;
}

/* Send the Wake-on-LAN packet for @s and record it. */
static int
power_wol(struct job_ctx *ctx, json_object *args, const struct db_server *s)
{
    const char *addr = json_str(args, "wolAddress");
    int64_t port = jint(args, "wolPort", 9);
    struct db_txn *t;
    int rc;

    if (!s->mgmt_mac) {
        err_set(ERR_STATE, "cannot start server '%s' with Wake-on-LAN: its "
                           "management port has no MAC address", s->name);
        return -1;
    }
    job_progress(ctx, "sending Wake-on-LAN to %s", s->mgmt_mac);
    if (ipmi_wol_send(s->mgmt_mac, addr ? addr : "255.255.255.255",
                      (int)port) < 0)
        return -1;
    t = job_txn_begin(ctx);
    if (!t)
        return -1;
    rc = events_add(t, SEV_INFORMATIONAL, "server.wake_on_lan", s->id,
                    "Server", s->name, job_id(ctx), job_user(ctx), NULL,
                    "Wake-on-LAN packet sent for server '%s' (%s); it is "
                    "STARTING until it answers", s->name, s->mgmt_mac);
    job_set_result(ctx, "Server", s->id, s->name);
    return finish(ctx, t, rc, NULL);
}

static int
power_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    static const struct {
        const char *word;
        enum ipmi_power_action a;
        const char *done;
    } actions[] = {
        { "on", IPMI_POWER_ON, "powered on" },
        { "soft", IPMI_POWER_SOFT, "shut down" },
        { "cycle", IPMI_POWER_CYCLE, "power-cycled" },
        { "off", IPMI_POWER_OFF, "powered off" },
    };
    const char *id = json_str(args, "id"), *action = json_str(args, "action");
    const char *expect = json_str(args, "expect"), *final = json_str(args, "state");
    AUTOPTR(db_server) struct db_server *s = NULL;
    char host[IPMI_HOST_MAX + 1];
    char *password = NULL;
    struct ipmi_target tg;
    json_object *cols = NULL;
    struct db_txn *t;
    size_t k;
    int port, rc = -1;

    (void)undo;   /* a power action cannot be taken back */
    if (!id || !action) {
        err_set(ERR_INVALID, "server.power: id and action are required");
        return -1;
    }
    s = db_server_get(job_db(ctx), id);
    if (!s)
        return -1;
    if (str_eq(action, "wol"))
        return power_wol(ctx, args, s);
    for (k = 0; k < sizeof(actions) / sizeof(actions[0]); k++) {
        if (str_eq(actions[k].word, action))
            break;
    }
    if (k == sizeof(actions) / sizeof(actions[0])) {
        err_set(ERR_INVALID, "server.power: unknown action '%s'", action);
        return -1;
    }
    /* Read now, not at submission: an edit queued before this job may
     * have changed the IPMI settings. */
    if (!s->ipmi_address || !*s->ipmi_address) {
        err_set(ERR_STATE, "cannot power server '%s' through IPMI: it has "
                           "no ipmiAddress any more", s->name);
        return -1;
    }
    if (ipmi_address_parse(s->ipmi_address, host, sizeof(host), &port) < 0)
        return -1;
    if (s->ipmi_password && !(password = secret_open(s->ipmi_password)))
        return -1;
    memset(&tg, 0, sizeof(tg));
    tg.host = host;
    tg.port = port;
    tg.user = s->ipmi_user;
    tg.password = password;
    tg.cipher_suite = (int)jint(args, "cipherSuite", -1);
    tg.timeout_ms = jint(args, "timeoutMs", 30000);
    tg.cancel = power_cancel;
    tg.cancel_cls = ctx;
    job_progress(ctx, "IPMI chassis power %s on %s", action, s->ipmi_address);
    if (ipmi_power(&tg, actions[k].a) < 0)
        goto out;
    if (expect &&
        power_confirm(ctx, &tg, s->name, str_eq(expect, "on"),
                      actions[k].a == IPMI_POWER_CYCLE ? 2000 : 0,
                      jint(args, "confirmTimeoutMs", 300000)) < 0)
        goto out;
    t = job_txn_begin(ctx);
    if (!t)
        goto out;
    cols = json_object_new_object();
    json_object_object_add(cols, "power_state",
                           expect ? json_object_new_string(expect) : NULL);
    json_object_object_add(cols, "power_checked_ms",
                           json_object_new_int64(time_now_ms()));
    rc = db_txn_server_set_columns(t, id, cols);
    if (rc == 0 && final)
        rc = db_txn_server_set_run_state(t, id, final, NULL);
    if (rc == 0)
        rc = events_add(t, SEV_INFORMATIONAL, "server.power", id, "Server",
                        s->name, job_id(ctx), job_user(ctx), NULL,
                        "Server '%s' %s through IPMI%s%s", s->name,
                        actions[k].done, final ? ": " : "",
                        final ? final : "");
    job_set_result(ctx, "Server", id, s->name);
    rc = finish(ctx, t, rc, NULL);
 out:
    if (password) {
        memset(password, 0, strlen(password));
        xfree(password);
    }
    json_object_put(cols);
    return rc;
}

const struct job_op_type job_op_server_power = {
    "server.power", power_run, NULL, false,
};
