/*
 * db_server.c - servers: what discovery writes (servers, their Ethernet
 * ports, the management network and CPU compatibility groups), what the
 * server jobs read and change (edit, ownership, delete, power), and the
 * rules of the seeds (7.8) those jobs and their handlers share.
 *
 * DESIGN: every writing function runs inside the caller's struct db_txn
 * (a job operation's), so a change commits with its DONE row or not at
 * all; none commits or rolls back itself. Objects get their `objects` row
 * and their type row together. Column names that are not fixed SQL text
 * -- the columns a server operation sets by name, the columns of a row put
 * back from a snapshot -- come only from an allow-list here or from the
 * table itself (pragma_table_info); values are always bound. Snapshots
 * copy rows with `SELECT *`, so a column a later migration adds is kept
 * by an undone delete without a change here.
 */
#include <stdio.h>
#include <string.h>

#include "db/db_int.h"
#include "model/model.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/str.h"

/* Insert the common row of a new object. */
static int
object_insert(struct db_conn *c, const char *id, const char *type,
              const char *name)
{
    int64_t now = time_now_ms();

    if (db_run(c, "INSERT INTO objects (id, type, name, created_ms, "
                  "modified_ms) VALUES (?1, ?2, ?3, ?4, ?4)", "ttti", id,
               type, name, now) != SQLITE_DONE)
        return db_err_set(c, "cannot create %s '%s'", type, name);
    return 0;
}

/* Bump generation and modified_ms of @id. */
static int
object_touch(struct db_conn *c, const char *id)
{
    if (db_run(c, "UPDATE objects SET generation = generation + 1, "
                  "modified_ms = ?2 WHERE id = ?1", "ti", id, time_now_ms())
        != SQLITE_DONE)
        return db_err_set(c, "cannot update object '%s'", id);
    return 0;
}

/* Does a row with ?1 exist for @sql? -1 on error. */
static int
exists(struct db_conn *c, const char *sql, const char *key)
{
    sqlite3_stmt *st = db_stmt(c, sql);
    int rc;

    if (!st)
        return -1;
    db_bind_text(st, 1, key);
    rc = sqlite3_step(st);
    db_stmt_release(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return db_err_set(c, "cannot look up '%s'", key);
}

#define SERVER_FACTS_SET                                                      \
    "ip_address = ?2, agent_login = ?3, "                                   \
    "agent_password = coalesce(?4, agent_password), libvirt_uri = ?5, "      \
    "hostname = ?6, bios_vendor = ?7, bios_version = ?8, "                   \
    "bios_release_date = ?9, processor_type = ?10, processor_speed = ?11, "  \
    "sockets = ?12, threads_per_core = ?13, cores_per_socket = ?14, "        \
    "total_cores = ?15, enabled_cores = ?16, memory_mib = ?17, "             \
    "usable_memory_mib = ?18, manufacturer = ?19, product_name = ?20, "      \
    "serial_number = ?21, cpu_vendor = ?22, cpu_model_name = ?23, "          \
    "cpu_family = ?24, cpu_model = ?25, hypervisor = ?26, "                  \
    "cpu_compat_group_id = ?27, last_seen_ms = ?28, run_state = 'RUNNING', " \
    "local_disks = ?29"

static void
bind_facts(sqlite3_stmt *st, const struct db_server_facts *f, int64_t now)
{
    db_bind_text(st, 1, f->id);
    db_bind_text(st, 2, f->ip_address);
    db_bind_text(st, 3, f->agent_login ? f->agent_login : "oracle");
    db_bind_text(st, 4, f->agent_password);
    db_bind_text(st, 5, f->libvirt_uri);
    db_bind_text(st, 6, f->hostname);
    db_bind_text(st, 7, f->bios_vendor);
    db_bind_text(st, 8, f->bios_version);
    db_bind_text(st, 9, f->bios_release_date);
    db_bind_text(st, 10, f->processor_type);
    sqlite3_bind_int64(st, 11, f->processor_speed_khz);
    sqlite3_bind_int64(st, 12, f->sockets);
    sqlite3_bind_int64(st, 13, f->threads_per_core);
    sqlite3_bind_int64(st, 14, f->cores_per_socket);
    sqlite3_bind_int64(st, 15, f->total_cores);
    sqlite3_bind_int64(st, 16, f->enabled_cores);
    sqlite3_bind_int64(st, 17, f->memory_mib);
    sqlite3_bind_int64(st, 18, f->usable_memory_mib);
    db_bind_text(st, 19, f->manufacturer);
    db_bind_text(st, 20, f->product_name);
    db_bind_text(st, 21, f->serial_number);
    db_bind_text(st, 22, f->cpu_vendor);
    db_bind_text(st, 23, f->cpu_model_name);
    if (f->cpu_family >= 0)
        sqlite3_bind_int64(st, 24, f->cpu_family);
    else
        sqlite3_bind_null(st, 24);
    if (f->cpu_model >= 0)
        sqlite3_bind_int64(st, 25, f->cpu_model);
    else
        sqlite3_bind_null(st, 25);
    db_bind_text(st, 26, f->hypervisor_json ? f->hypervisor_json : "{}");
    db_bind_text(st, 27, f->cpu_group_id);
    sqlite3_bind_int64(st, 28, now);
    db_bind_text(st, 29, f->local_disks_json ? f->local_disks_json : "[]");
}

int
db_txn_server_put(struct db_txn *t, const struct db_server_facts *f,
                  bool *created)
{
    struct db_conn *c = db_txn_conn(t);
    int64_t now = time_now_ms();
    sqlite3_stmt *st;
    int ex, rc;

    ex = exists(c, "SELECT 1 FROM servers WHERE id = ?1", f->id);
    if (ex < 0)
        return -1;
    *created = ex == 0;
    if (*created) {
        if (object_insert(c, f->id, "Server", f->name) < 0)
            return -1;
        st = db_stmt(c, "INSERT INTO servers (id, manager_uuid, "
                        "discovered_ms, ip_address, libvirt_uri) "
                        "VALUES (?1, ?2, ?3, ?4, ?5)");
        if (!st)
            return -1;
        db_bind_text(st, 1, f->id);
        db_bind_text(st, 2, f->manager_uuid);
        sqlite3_bind_int64(st, 3, now);
        db_bind_text(st, 4, f->ip_address);
        db_bind_text(st, 5, f->libvirt_uri);
        rc = sqlite3_step(st);
        db_stmt_release(st);
        if (rc != SQLITE_DONE)
            return db_err_set(c, "cannot create server '%s'", f->name);
    } else if (object_touch(c, f->id) < 0) {
        return -1;
    }
    st = db_stmt(c, "UPDATE servers SET " SERVER_FACTS_SET " WHERE id = ?1");
    if (!st)
        return -1;
    bind_facts(st, f, now);
    rc = sqlite3_step(st);
    db_stmt_release(st);
    if (rc != SQLITE_DONE)
        return db_err_set(c, "cannot record the facts of server '%s'",
                          f->name);
    return 0;
}

char *
db_txn_server_by_address(struct db_txn *t, const char *address)
{
    struct db_conn *c = db_txn_conn(t);
    sqlite3_stmt *st = db_stmt(c, "SELECT id FROM servers "
                                  "WHERE ip_address = ?1");
    char *id = NULL;
    int rc;

    if (!st)
        return NULL;
    db_bind_text(st, 1, address);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        id = db_col_strdup(st, 0);
    else if (rc == SQLITE_DONE)
        err_set(ERR_NOT_FOUND, "no server was discovered as '%s'", address);
    else
        db_err_set(c, "cannot look up server '%s'", address);
    db_stmt_release(st);
    return id;
}

int
db_txn_cpu_group_ensure(struct db_txn *t, const char *id, const char *name,
                        const char *vendor, int64_t family, int64_t model,
                        bool *created)
{
    struct db_conn *c = db_txn_conn(t);
    int ex = exists(c, "SELECT 1 FROM cpu_compat_groups WHERE id = ?1", id);

    if (ex < 0)
        return -1;
    *created = ex == 0;
    if (!*created)
        return 0;
    if (object_insert(c, id, "CpuCompatibilityGroup", name) < 0)
        return -1;
    if (db_run(c, "INSERT INTO cpu_compat_groups (id, vendor, family, "
                  "model) VALUES (?1, ?2, ?3, ?4)", "ttii", id, vendor,
               family, model) != SQLITE_DONE)
        return db_err_set(c, "cannot create CPU compatibility group '%s'",
                          name);
    return 0;
}

int
db_txn_port_put(struct db_txn *t, const char *server_id,
                const char *server_name, const char *ifname,
                const char *mac, int64_t mtu, bool up, char **id_out)
{
    struct db_conn *c = db_txn_conn(t);
    sqlite3_stmt *st = db_stmt(c, "SELECT id FROM ethernet_ports WHERE "
                                  "server_id = ?1 AND interface_name = ?2");
    char *id = NULL, *name;
    int rc;

    if (!st)
        return -1;
    db_bind_text(st, 1, server_id);
    db_bind_text(st, 2, ifname);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        id = db_col_strdup(st, 0);
    db_stmt_release(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_err_set(c, "cannot look up port '%s'", ifname);
    if (!id) {
        id = model_id_new(model_type_find("EthernetPort"));
        name = xasprintf("%s on %s", ifname, server_name);
        rc = object_insert(c, id, "EthernetPort", name);
        xfree(name);
        if (rc < 0 ||
            db_run(c, "INSERT INTO ethernet_ports (id, server_id, "
                      "interface_name) VALUES (?1, ?2, ?3)", "ttt", id,
                   server_id, ifname) != SQLITE_DONE) {
            if (rc == 0)
                db_err_set(c, "cannot create port '%s'", ifname);
            xfree(id);
            return -1;
        }
    }
    if (db_run(c, "UPDATE ethernet_ports SET mac_address = ?2, mtu = ?3, "
                  "port_state = ?4 WHERE id = ?1", "ttit", id, mac,
               mtu > 0 ? mtu : 1500, up ? "PORT_UP" : "PORT_DOWN")
        != SQLITE_DONE) {
        xfree(id);
        return db_err_set(c, "cannot update port '%s'", ifname);
    }
    *id_out = id;
    return 0;
}

int
db_txn_management_network(struct db_txn *t, const char *name,
                          char **id_out, bool *created)
{
    struct db_conn *c = db_txn_conn(t);
    sqlite3_stmt *st = db_stmt(c, "SELECT n.id FROM networks n, "
                                  "json_each(n.roles) r WHERE r.value = "
                                  "'MANAGEMENT' ORDER BY n.id LIMIT 1");
    int rc;

    *id_out = NULL;
    *created = false;
    if (!st)
        return -1;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id_out = db_col_strdup(st, 0);
    db_stmt_release(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_err_set(c, "cannot look up the management network");
    if (*id_out)
        return 0;
    *id_out = model_id_new(model_type_find("Network"));
    if (object_insert(c, *id_out, "Network", name) < 0 ||
        db_run(c, "INSERT INTO networks (id, roles) VALUES (?1, "
                  "'[\"MANAGEMENT\",\"LIVE_MIGRATE\",\"CLUSTER_HEARTBEAT\"]')",
               "t", *id_out) != SQLITE_DONE) {
        db_err_set(c, "cannot create the management network");
        xfree(*id_out);
        *id_out = NULL;
        return -1;
    }
    *created = true;
    return 0;
}

int
db_txn_port_set_network(struct db_txn *t, const char *port_id,
                        const char *network_id)
{
    struct db_conn *c = db_txn_conn(t);

    if (db_run(c, "UPDATE ethernet_ports SET network_id = ?2 WHERE id = ?1",
               "tt", port_id, network_id) != SQLITE_DONE)
        return db_err_set(c, "cannot put port '%s' on a network", port_id);
    return 0;
}

int
db_txn_object_delete(struct db_txn *t, const char *id)
{
    struct db_conn *c = db_txn_conn(t);

    if (db_run(c, "DELETE FROM objects WHERE id IN (SELECT id FROM "
                  "ethernet_ports WHERE server_id = ?1)", "t", id) !=
            SQLITE_DONE ||
        db_run(c, "DELETE FROM objects WHERE id = ?1", "t", id) !=
            SQLITE_DONE)
        return db_err_set(c, "cannot delete object '%s'", id);
    if (sqlite3_changes(c->h) == 0) {
        err_set(ERR_NOT_FOUND, "object '%s' not found", id);
        return -1;
    }
    return 0;
}

/* ---- edits, ownership, deletion and power (the server jobs) ---- */

void
db_server_free(struct db_server *s)
{
    if (!s)
        return;
    xfree(s->id);
    xfree(s->name);
    xfree(s->run_state);
    xfree(s->roles);
    xfree(s->ipmi_address);
    xfree(s->ipmi_user);
    xfree(s->ipmi_password);
    xfree(s->manager_uuid);
    xfree(s->agent_password);
    xfree(s->server_pool_id);
    xfree(s->pool_name);
    xfree(s->pool_master_id);
    xfree(s->mgmt_mac);
    xfree(s->ip_address);
    xfree(s->libvirt_uri);
    xfree(s->agent_login);
    xfree(s->active_vm_name);
    xfree(s);
}

/* The management port's MAC: the port on a network with the MANAGEMENT
 * role (the first by interface name), when it has a MAC. */
#define SERVER_MGMT_MAC                                                       \
    "(SELECT p.mac_address FROM ethernet_ports p, networks n, "               \
    "json_each(n.roles) r WHERE p.server_id = s.id AND n.id = p.network_id "  \
    "AND r.value = 'MANAGEMENT' AND p.mac_address IS NOT NULL AND "           \
    "p.mac_address != '' ORDER BY p.interface_name LIMIT 1)"

/* Read server @id on @c (the caller holds its lock). */
static struct db_server *
server_get_on(struct db_conn *c, const char *id)
{
    sqlite3_stmt *st = db_stmt(c,
        "SELECT s.id, o.name, o.generation, s.run_state, s.roles, "
        "s.maintenance_mode, s.inbound_migration_locked, s.ipmi_address, "
        "s.ipmi_user, s.ipmi_password, s.manager_uuid, s.agent_password, "
        "s.server_pool_id, po.name, p.master_server_id, "
        SERVER_MGMT_MAC ", s.ip_address, s.libvirt_uri, s.agent_login, "
        DB_ACTIVE_VMS " "
        "FROM servers s JOIN objects o ON o.id = s.id "
        "LEFT JOIN server_pools p ON p.id = s.server_pool_id "
        "LEFT JOIN objects po ON po.id = s.server_pool_id "
        "WHERE s.id = ?1");
    struct db_server *s = NULL;
    int rc;

    if (!st)
        return NULL;
    db_bind_text(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        s = xcalloc(1, sizeof(*s));
        s->id = db_col_strdup(st, 0);
        s->name = db_col_strdup(st, 1);
        s->generation = sqlite3_column_int64(st, 2);
        s->run_state = db_col_strdup(st, 3);
        s->roles = db_col_strdup(st, 4);
        s->maintenance_mode = sqlite3_column_int(st, 5) != 0;
        s->inbound_migration_locked = sqlite3_column_int(st, 6) != 0;
        s->ipmi_address = db_col_strdup(st, 7);
        s->ipmi_user = db_col_strdup(st, 8);
        s->ipmi_password = db_col_strdup(st, 9);
        s->manager_uuid = db_col_strdup(st, 10);
        s->agent_password = db_col_strdup(st, 11);
        s->server_pool_id = db_col_strdup(st, 12);
        s->pool_name = db_col_strdup(st, 13);
        s->pool_master_id = db_col_strdup(st, 14);
        s->mgmt_mac = db_col_strdup(st, 15);
        s->ip_address = db_col_strdup(st, 16);
        s->libvirt_uri = db_col_strdup(st, 17);
        s->agent_login = db_col_strdup(st, 18);
        s->active_vms = sqlite3_column_int64(st, 19);
        s->active_vm_name = db_col_strdup(st, 20);
    } else if (rc == SQLITE_DONE) {
        err_set(ERR_NOT_FOUND, "Server '%s' not found", id);
    } else {
        db_err_set(c, "cannot read server '%s'", id);
    }
    db_stmt_release(st);
    return s;
}

struct db_server *
db_server_get(struct db *db, const char *id)
{
    struct db_conn *c = db_read_begin(db);
    struct db_server *s;

    if (!c)
        return NULL;
    s = server_get_on(c, id);
    db_read_end(db);
    return s;
}

struct db_server *
db_txn_server_get(struct db_txn *t, const char *id)
{
    return server_get_on(db_txn_conn(t), id);
}

/*
 * The columns of `servers` the server operations read and write by name.
 * This list is the only source of the identifiers put into the SQL below;
 * values are always bound.
 */
static const struct {
    const char *name;
    bool integer;   /* INTEGER column (else TEXT) */
} settable[] = {
    { "roles", false },
    { "maintenance_mode", true },
    { "inbound_migration_locked", true },
    { "ipmi_address", false },
    { "ipmi_user", false },
    { "ipmi_password", false },
    { "manager_uuid", false },
    { "agent_password", false },
    { "power_state", false },
    { "power_checked_ms", true },
};

static int
settable_index(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(settable) / sizeof(settable[0]); i++) {
        if (strcmp(settable[i].name, name) == 0)
            return (int)i;
    }
    err_set(ERR_INVALID, "'%s' is not a server column the server "
                         "operations may change", name);
    return -1;
}

json_object *
db_txn_server_columns(struct db_txn *t, const char *id, json_object *names)
{
    struct db_conn *c = db_txn_conn(t);
    json_object *out = json_object_new_object();

    json_object_object_foreach(names, key, val) {
        sqlite3_stmt *st;
        char *sql;
        int k = settable_index(key), rc;

        (void)val;
        if (k < 0)
            goto fail;
        sql = xasprintf("SELECT %s FROM servers WHERE id = ?1",
                        settable[k].name);
        st = db_stmt(c, sql);
        xfree(sql);
        if (!st)
            goto fail;
        db_bind_text(st, 1, id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            if (sqlite3_column_type(st, 0) == SQLITE_NULL)
                json_object_object_add(out, key, NULL);
            else if (settable[k].integer)
                json_object_object_add(
                    out, key,
                    json_object_new_int64(sqlite3_column_int64(st, 0)));
            else
                json_object_object_add(
                    out, key,
                    json_object_new_string(
                        (const char *)sqlite3_column_text(st, 0)));
        }
        db_stmt_release(st);
        if (rc == SQLITE_DONE) {
            err_set(ERR_NOT_FOUND, "Server '%s' not found", id);
            goto fail;
        }
        if (rc != SQLITE_ROW) {
            db_err_set(c, "cannot read server '%s'", id);
            goto fail;
        }
    }
    return out;

 fail:
    json_object_put(out);
    return NULL;
}

int
db_txn_server_set_columns(struct db_txn *t, const char *id,
                          json_object *values)
{
    struct db_conn *c = db_txn_conn(t);

    json_object_object_foreach(values, key, val) {
        sqlite3_stmt *st;
        char *sql;
        int k = settable_index(key), rc;

        if (k < 0)
            return -1;
        sql = xasprintf("UPDATE servers SET %s = ?2 WHERE id = ?1",
                        settable[k].name);
        st = db_stmt(c, sql);
        xfree(sql);
        if (!st)
            return -1;
        db_bind_text(st, 1, id);
        if (!val)
            sqlite3_bind_null(st, 2);
        else if (json_object_is_type(val, json_type_string))
            db_bind_text(st, 2, json_object_get_string(val));
        else
            sqlite3_bind_int64(st, 2, json_object_get_int64(val));
        rc = sqlite3_step(st);
        db_stmt_release(st);
        if (rc != SQLITE_DONE)
            return db_err_set(c, "cannot change %s of server '%s'", key, id);
        if (sqlite3_changes(c->h) == 0) {
            err_set(ERR_NOT_FOUND, "Server '%s' not found", id);
            return -1;
        }
    }
    return 0;
}

char *
db_txn_server_master_successor(struct db_txn *t, const char *server_id)
{
    struct db_conn *c = db_txn_conn(t);
    sqlite3_stmt *st = db_stmt(c,
        "SELECT s.id FROM servers s JOIN objects o ON o.id = s.id "
        "WHERE s.server_pool_id = (SELECT server_pool_id FROM servers "
        "WHERE id = ?1) AND s.id != ?1 AND s.maintenance_mode = 0 "
        "ORDER BY s.run_state = 'RUNNING' DESC, o.name, s.id LIMIT 1");
    char *id = NULL;
    int rc;

    if (!st)
        return NULL;
    db_bind_text(st, 1, server_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        id = db_col_strdup(st, 0);
    else if (rc == SQLITE_DONE)
        err_set(ERR_NOT_FOUND, "no other server of the pool of '%s' can "
                               "be its master", server_id);
    else
        db_err_set(c, "cannot look for a master to succeed '%s'",
                   server_id);
    db_stmt_release(st);
    return id;
}

int
db_txn_server_pool_set_master(struct db_txn *t, const char *pool_id,
                              const char *master_id)
{
    struct db_conn *c = db_txn_conn(t);

    if (db_run(c, "UPDATE server_pools SET master_server_id = ?2 "
                  "WHERE id = ?1", "tt", pool_id, master_id) != SQLITE_DONE)
        return db_err_set(c, "cannot change the master of pool '%s'",
                          pool_id);
    if (sqlite3_changes(c->h) == 0) {
        err_set(ERR_NOT_FOUND, "ServerPool '%s' not found", pool_id);
        return -1;
    }
    return 0;
}

/* ---- exact snapshots of a server's rows (the undo of a delete) ---- */

/* The tables of a server snapshot, in the order rows are put back. */
static const struct {
    const char *table;
    const char *select;   /* ?1 = the server's id */
} snap_tables[] = {
    { "objects", "SELECT * FROM objects WHERE id = ?1 OR id IN "
                 "(SELECT id FROM ethernet_ports WHERE server_id = ?1) OR "
                 "id IN (SELECT id FROM networks WHERE server_id = ?1) "
                 "ORDER BY id" },
    { "servers", "SELECT * FROM servers WHERE id = ?1" },
    { "networks", "SELECT * FROM networks WHERE server_id = ?1 ORDER BY id" },
    { "ethernet_ports", "SELECT * FROM ethernet_ports WHERE server_id = ?1 "
                        "ORDER BY id" },
};

/* Column @i of the current row as JSON (NULL for SQL NULL). */
static json_object *
col_json(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        return json_object_new_int64(sqlite3_column_int64(st, i));
    case SQLITE_FLOAT:
        return json_object_new_double(sqlite3_column_double(st, i));
    case SQLITE_NULL:
        return NULL;
    default:
        return json_object_new_string((const char *)
                                          sqlite3_column_text(st, i));
    }
}

json_object *
db_txn_server_snapshot(struct db_txn *t, const char *id)
{
    struct db_conn *c = db_txn_conn(t);
    json_object *snap = json_object_new_object();
    size_t k;

    for (k = 0; k < sizeof(snap_tables) / sizeof(snap_tables[0]); k++) {
        sqlite3_stmt *st = db_stmt(c, snap_tables[k].select);
        json_object *rows = json_object_new_array();
        int rc, i, n;

        json_object_object_add(snap, snap_tables[k].table, rows);
        if (!st)
            goto fail;
        db_bind_text(st, 1, id);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            json_object *row = json_object_new_object();

            n = sqlite3_column_count(st);
            for (i = 0; i < n; i++)
                json_object_object_add(row, sqlite3_column_name(st, i),
                                       col_json(st, i));
            json_object_array_add(rows, row);
        }
        db_stmt_release(st);
        if (rc != SQLITE_DONE) {
            db_err_set(c, "cannot read server '%s'", id);
            goto fail;
        }
    }
    if (json_object_array_length(json_object_object_get(snap, "servers"))
        == 0) {
        err_set(ERR_NOT_FOUND, "Server '%s' not found", id);
        goto fail;
    }
    return snap;

 fail:
    json_object_put(snap);
    return NULL;
}

/* Is @col a column of @table? -1 on error. */
static int
has_column(struct db_conn *c, const char *table, const char *col)
{
    sqlite3_stmt *st = db_stmt(c, "SELECT 1 FROM pragma_table_info(?1) "
                                  "WHERE name = ?2");
    int rc;

    if (!st)
        return -1;
    db_bind_text(st, 1, table);
    db_bind_text(st, 2, col);
    rc = sqlite3_step(st);
    db_stmt_release(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return db_err_set(c, "cannot read the columns of '%s'", table);
}

/* Append @piece to the growing string *@s of *@len bytes. */
static void
append(char **s, size_t *len, const char *piece)
{
    size_t plen = strlen(piece);

    *s = xrealloc(*s, *len + plen + 1);
    memcpy(*s + *len, piece, plen + 1);
    *len += plen;
}

/* INSERT one snapshot row @row into @table (from snap_tables). */
static int
row_insert(struct db_conn *c, const char *table, json_object *row)
{
    char *cols = NULL, *vals = NULL, *sql = NULL, num[16];
    size_t clen = 0, vlen = 0;
    sqlite3_stmt *st = NULL;
    int n = 0, rc, ret = -1;

    json_object_object_foreach(row, key, val) {
        int has = has_column(c, table, key);

        (void)val;
        if (has < 0)
            goto out;
        if (!has) {
            err_set(ERR_INVALID, "a snapshot of '%s' names the unknown "
                                 "column '%s'", table, key);
            goto out;
        }
        /* Column names come from the table itself (checked above). */
        append(&cols, &clen, n ? ", \"" : "\"");
        append(&cols, &clen, key);
        append(&cols, &clen, "\"");
        snprintf(num, sizeof(num), "%s?%d", n ? ", " : "", n + 1);
        append(&vals, &vlen, num);
        n++;
    }
    if (n == 0) {
        err_set(ERR_INVALID, "an empty snapshot row of '%s'", table);
        goto out;
    }
    sql = xasprintf("INSERT INTO %s (%s) VALUES (%s)", table, cols, vals);
    /* Not cached: a snapshot's column list is not a fixed text. */
    if (sqlite3_prepare_v2(c->h, sql, -1, &st, NULL) != SQLITE_OK) {
        db_err_set(c, "cannot put back a row of '%s'", table);
        goto out;
    }
    n = 0;
    json_object_object_foreach(row, key2, v) {
        (void)key2;
        n++;
        if (!v)
            sqlite3_bind_null(st, n);
        else if (json_object_is_type(v, json_type_int))
            sqlite3_bind_int64(st, n, json_object_get_int64(v));
        else if (json_object_is_type(v, json_type_double))
            sqlite3_bind_double(st, n, json_object_get_double(v));
        else
            sqlite3_bind_text(st, n, json_object_get_string(v), -1,
                              SQLITE_TRANSIENT);
    }
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        db_err_set(c, "cannot put back a row of '%s'", table);
    else
        ret = 0;
 out:
    sqlite3_finalize(st);
    xfree(sql);
    xfree(cols);
    xfree(vals);
    return ret;
}

int
db_txn_server_restore(struct db_txn *t, json_object *snap)
{
    struct db_conn *c = db_txn_conn(t);
    size_t k, i, n;

    for (k = 0; k < sizeof(snap_tables) / sizeof(snap_tables[0]); k++) {
        json_object *rows;

        if (!json_object_object_get_ex(snap, snap_tables[k].table, &rows) ||
            !json_object_is_type(rows, json_type_array)) {
            err_set(ERR_INVALID, "a server snapshot lacks its '%s' rows",
                    snap_tables[k].table);
            return -1;
        }
        n = json_object_array_length(rows);
        for (i = 0; i < n; i++) {
            if (row_insert(c, snap_tables[k].table,
                           json_object_array_get_idx(rows, i)) < 0)
                return -1;
        }
    }
    return 0;
}

int
db_txn_server_delete(struct db_txn *t, const char *id)
{
    struct db_conn *c = db_txn_conn(t);

    /* Ports and intra-server networks first: their objects rows do not go
     * by cascade from the server's. */
    if (db_run(c, "DELETE FROM objects WHERE id IN (SELECT id FROM "
                  "ethernet_ports WHERE server_id = ?1) OR id IN (SELECT id "
                  "FROM networks WHERE server_id = ?1)", "t", id) !=
            SQLITE_DONE ||
        db_run(c, "DELETE FROM objects WHERE id = ?1 AND type = 'Server'",
               "t", id) != SQLITE_DONE)
        return db_err_set(c, "cannot delete server '%s'", id);
    if (sqlite3_changes(c->h) == 0) {
        err_set(ERR_NOT_FOUND, "Server '%s' not found", id);
        return -1;
    }
    return 0;
}

/* ---- the rules of the seeds (7.8), shared by handlers and jobs ---- */

int
db_server_check_ownership(const struct db_server *s, bool take,
                          const char *manager_uuid)
{
    const char *what = take ? "take" : "release";

    if (s->server_pool_id) {
        err_set(ERR_STATE, "cannot %s ownership of server '%s': it is in "
                           "server pool '%s'; remove it from the pool first",
                what, s->name, s->pool_name ? s->pool_name : "?");
        return -1;
    }
    if (take && str_eq(s->manager_uuid, manager_uuid)) {
        err_set(ERR_STATE, "cannot take ownership of server '%s': this "
                           "Manager owns it already", s->name);
        return -1;
    }
    if (s->manager_uuid && !str_eq(s->manager_uuid, manager_uuid)) {
        err_set(ERR_STATE, "cannot %s ownership of server '%s': it is owned "
                           "by another Manager ('%s'), which must release "
                           "it first", what, s->name, s->manager_uuid);
        return -1;
    }
    if (!take && !s->manager_uuid) {
        err_set(ERR_STATE, "cannot release ownership of server '%s': no "
                           "Manager owns it", s->name);
        return -1;
    }
    return 0;
}

int
db_server_check_delete(const struct db_server *s)
{
    if (s->server_pool_id) {
        err_set(ERR_STATE, "cannot delete server '%s': it is in server pool "
                           "'%s'; remove it from the pool first, so that it "
                           "is in Unassigned Servers", s->name,
                s->pool_name ? s->pool_name : "?");
        return -1;
    }
    /* Its pool was left in maintenance mode with no running VM, but VMs
     * may have been recorded on it since (the monitor's reconciliation
     * moves a VM found running to the server that runs it). */
    if (s->active_vms > 0) {
        err_set(ERR_STATE, "cannot delete server '%s': it runs %lld VM%s "
                           "('%s'%s); migrate or stop them first", s->name,
                (long long)s->active_vms, s->active_vms == 1 ? "" : "s",
                s->active_vm_name ? s->active_vm_name : "?",
                s->active_vms > 1 ? ", ..." : "");
        return -1;
    }
    return 0;
}

/* Is @state one of the NULL-terminated @states? */
static bool
state_in(const char *state, const char *const *states)
{
    for (; *states; states++) {
        if (str_eq(state, *states))
            return true;
    }
    return false;
}

int
db_server_check_power(const struct db_server *s, enum db_power_action a,
                      const char *manager_uuid, bool *wol)
{
    static const char *const from_start[] = { "STOPPED", "UNKNOWN",
                                              "STARTING", NULL };
    static const char *const from_stop[] = { "RUNNING", "UNKNOWN", NULL };
    static const char *const verbs[] = { "start", "stop", "restart",
                                         "kill" };
    const char *verb = verbs[a];

    *wol = false;
    if (!str_eq(s->manager_uuid, manager_uuid)) {
        err_set(ERR_STATE, "cannot %s server '%s': this Manager does not "
                           "own it; take ownership first", verb, s->name);
        return -1;
    }
    if ((a == DB_POWER_START && !state_in(s->run_state, from_start)) ||
        ((a == DB_POWER_STOP || a == DB_POWER_RESTART) &&
         !state_in(s->run_state, from_stop))) {
        err_set(ERR_STATE, "cannot %s server '%s': it is %s", verb, s->name,
                s->run_state);
        return -1;
    }
    /* Seeds 7.8: "you must stop any running virtual machines" first
     * (maintenance mode migrates or stops them). */
    if (a != DB_POWER_START && s->active_vms > 0) {
        err_set(ERR_STATE, "cannot %s server '%s': it runs %lld VM%s "
                           "('%s'%s); migrate or stop them first, or put "
                           "the server in maintenance mode", verb, s->name,
                (long long)s->active_vms, s->active_vms == 1 ? "" : "s",
                s->active_vm_name ? s->active_vm_name : "?",
                s->active_vms > 1 ? ", ..." : "");
        return -1;
    }
    if (s->ipmi_address && *s->ipmi_address)
        return 0;
    if (a == DB_POWER_START && s->mgmt_mac) {
        *wol = true;
        return 0;
    }
    if (a == DB_POWER_START)
        err_set(ERR_STATE, "cannot start server '%s': it has no IPMI "
                           "(ipmiAddress) and no MAC address on its "
                           "management port for Wake-on-LAN; configure IPMI "
                           "or power it on by hand", s->name);
    else
        err_set(ERR_STATE, "cannot %s server '%s': ovmm does that through "
                           "IPMI and the server has none; set its "
                           "ipmiAddress first", verb, s->name);
    return -1;
}
