/*
 * db_server.c - what discovery writes: servers, their Ethernet ports, the
 * management network and CPU compatibility groups.
 *
 * DESIGN: every function runs inside the caller's struct db_txn (the
 * discover operation's), so a discovery commits with its DONE row or not
 * at all. Objects get their `objects` row and their type row together.
 */
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
    "cpu_compat_group_id = ?27, last_seen_ms = ?28, run_state = 'RUNNING'"

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
