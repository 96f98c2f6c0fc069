/*
 * db_pool.c - server pools: their rows, their servers, their default
 * policy, exact snapshots for undo, and the membership rules.
 *
 * DESIGN: a pool is an `objects` row, a `server_pools` row and its policy
 * ("balancer_<pool id>": an `objects` row and a `server_pool_policies`
 * row), always made and deleted together. A server's membership is
 * servers.server_pool_id (and servers.policy_id, its participation in the
 * pool's policy). Reads come in two flavours on one code path: on the
 * reader connection for the HTTP handlers, which refuse what they can at
 * once, and inside a job's transaction (db_txn_*) for the operations,
 * which look again when they run. Changes run only inside the caller's
 * transaction, so they commit with the operation's DONE row.
 *
 * Undo must put things back exactly, generation and times included, so
 * the pool's rows are snapshotted as JSON objects keyed by column name
 * (SELECT *) and written back from them. The column names of the
 * statements that write them back come from the schema itself (a
 * prepared "SELECT * FROM <table>"), never from the stored JSON, which
 * only supplies bound values; the table names are literals here.
 *
 * The rules (db_pool_check_*) are pure functions over what the reads
 * return, shared by the handler (answering 409 before any job exists)
 * and the operation (failing the job when the world changed meanwhile),
 * so both say the same thing.
 */
#include <string.h>

#include "db/db_int.h"
#include "model/model.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/json.h"
#include "util/secret.h"
#include "util/str.h"

/* ---- reads ---- */

void
db_pool_free(struct db_pool *p)
{
    if (!p)
        return;
    xfree(p->id);
    xfree(p->name);
    xfree(p->description);
    xfree(p->user_data);
    xfree(p->virtual_ip);
    xfree(p->pool_fs_id);
    xfree(p->ocfs2_fs_name);
    xfree(p->keymap);
    xfree(p->vm_start_policy);
    xfree(p->master_server_id);
    xfree(p->master_name);
    xfree(p->agent_password);
    xfree(p->policy_id);
    xfree(p);
}

void
db_pool_member_free(struct db_pool_member *s)
{
    if (!s)
        return;
    xfree(s->id);
    xfree(s->name);
    xfree(s->pool_id);
    xfree(s->pool_name);
    xfree(s->manager_uuid);
    xfree(s->run_state);
    xfree(s->agent_password);
    xfree(s->policy_id);
    xfree(s->active_vm_name);
    xfree(s->ocfs2_repo_name);
    xfree(s);
}

static struct db_pool *
pool_get_on(struct db_conn *c, const char *id)
{
    sqlite3_stmt *st = db_stmt(c,
        "SELECT o.name, o.description, o.user_data, o.generation, "
        "p.virtual_ip, p.clustered, p.keymap, p.secure_vm_migrate, "
        "p.vm_start_policy, p.master_server_id, mo.name, p.agent_password, "
        "p.policy_id, (SELECT COUNT(*) FROM servers s "
        "WHERE s.server_pool_id = p.id), p.pool_file_system_id, "
        "(SELECT COUNT(*) FROM vms v WHERE v.server_pool_id = p.id AND "
        "v.run_state != 'TEMPLATE'), "
        "(SELECT fo.name FROM file_systems f JOIN objects fo ON fo.id = f.id "
        "WHERE f.server_pool_id = p.id ORDER BY fo.name LIMIT 1) "
        "FROM objects o JOIN server_pools p ON p.id = o.id "
        "LEFT JOIN objects mo ON mo.id = p.master_server_id "
        "WHERE o.id = ?1");
    struct db_pool *p = NULL;
    int rc;

    if (!st)
        return NULL;
    db_bind_text(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        p = xcalloc(1, sizeof(*p));
        p->id = xstrdup(id);
        p->name = db_col_strdup(st, 0);
        p->description = db_col_strdup(st, 1);
        p->user_data = db_col_strdup(st, 2);
        p->generation = sqlite3_column_int64(st, 3);
        p->virtual_ip = db_col_strdup(st, 4);
        p->clustered = sqlite3_column_int64(st, 5) != 0;
        p->keymap = db_col_strdup(st, 6);
        p->secure_vm_migrate = sqlite3_column_int64(st, 7) != 0;
        p->vm_start_policy = db_col_strdup(st, 8);
        p->master_server_id = db_col_strdup(st, 9);
        p->master_name = db_col_strdup(st, 10);
        p->agent_password = db_col_strdup(st, 11);
        p->policy_id = db_col_strdup(st, 12);
        p->nservers = sqlite3_column_int64(st, 13);
        p->pool_fs_id = db_col_strdup(st, 14);
        p->nvms = sqlite3_column_int64(st, 15);
        p->ocfs2_fs_name = db_col_strdup(st, 16);
    } else if (rc == SQLITE_DONE) {
        err_set(ERR_NOT_FOUND, "ServerPool '%s' not found", id);
    } else {
        db_err_set(c, "cannot read server pool '%s'", id);
    }
    db_stmt_release(st);
    return p;
}

struct db_pool *
db_pool_get(struct db *db, const char *id)
{
    struct db_conn *c = db_read_begin(db);
    struct db_pool *p;

    if (!c)
        return NULL;
    p = pool_get_on(c, id);
    db_read_end(db);
    return p;
}

struct db_pool *
db_txn_pool_get(struct db_txn *t, const char *id)
{
    return pool_get_on(db_txn_conn(t), id);
}

static struct db_pool_member *
member_get_on(struct db_conn *c, const char *id)
{
    sqlite3_stmt *st = db_stmt(c,
        "SELECT o.name, s.server_pool_id, po.name, s.manager_uuid, "
        "s.run_state, s.maintenance_mode, s.agent_password, s.policy_id, "
        DB_ACTIVE_VMS ", "
        "(SELECT ro.name FROM file_system_mounts m "
        "JOIN file_systems f ON f.id = m.file_system_id "
        "JOIN objects ro ON ro.id = m.repository_id "
        "WHERE m.server_id = s.id AND f.server_pool_id = s.server_pool_id "
        "ORDER BY ro.name LIMIT 1) "
        "FROM objects o JOIN servers s ON s.id = o.id "
        "LEFT JOIN objects po ON po.id = s.server_pool_id "
        "WHERE o.id = ?1");
    struct db_pool_member *s = NULL;
    int rc;

    if (!st)
        return NULL;
    db_bind_text(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        s = xcalloc(1, sizeof(*s));
        s->id = xstrdup(id);
        s->name = db_col_strdup(st, 0);
        s->pool_id = db_col_strdup(st, 1);
        s->pool_name = db_col_strdup(st, 2);
        s->manager_uuid = db_col_strdup(st, 3);
        s->run_state = db_col_strdup(st, 4);
        s->maintenance = sqlite3_column_int64(st, 5) != 0;
        s->agent_password = db_col_strdup(st, 6);
        s->policy_id = db_col_strdup(st, 7);
        s->active_vms = sqlite3_column_int64(st, 8);
        s->active_vm_name = db_col_strdup(st, 9);
        s->ocfs2_repo_name = db_col_strdup(st, 10);
    } else if (rc == SQLITE_DONE) {
        err_set(ERR_NOT_FOUND, "Server '%s' not found", id);
    } else {
        db_err_set(c, "cannot read server '%s'", id);
    }
    db_stmt_release(st);
    return s;
}

struct db_pool_member *
db_pool_member_get(struct db *db, const char *server_id)
{
    struct db_conn *c = db_read_begin(db);
    struct db_pool_member *s;

    if (!c)
        return NULL;
    s = member_get_on(c, server_id);
    db_read_end(db);
    return s;
}

struct db_pool_member *
db_txn_pool_member_get(struct db_txn *t, const char *server_id)
{
    return member_get_on(db_txn_conn(t), server_id);
}

/* The first column of the one row @sql gives for ?1 = @key, or NULL:
 * ERR_NOT_FOUND saying @what when there is no row. */
static char *
lookup_id(struct db_conn *c, const char *sql, const char *key,
          const char *what)
{
    sqlite3_stmt *st = db_stmt(c, sql);
    char *id = NULL;
    int rc;

    if (!st)
        return NULL;
    db_bind_text(st, 1, key);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        id = db_col_strdup(st, 0);
    else if (rc == SQLITE_DONE)
        err_set(ERR_NOT_FOUND, "no server pool has %s '%s'", what, key);
    else
        db_err_set(c, "cannot look up the server pool with %s '%s'", what,
                   key);
    db_stmt_release(st);
    return id;
}

#define SQL_POOL_BY_NAME                                                      \
    "SELECT id FROM objects WHERE type = 'ServerPool' AND name = ?1"
#define SQL_POOL_BY_VIP "SELECT id FROM server_pools WHERE virtual_ip = ?1"

char *
db_pool_by_name(struct db *db, const char *name)
{
    struct db_conn *c = db_read_begin(db);
    char *id;

    if (!c)
        return NULL;
    id = lookup_id(c, SQL_POOL_BY_NAME, name, "the name");
    db_read_end(db);
    return id;
}

char *
db_txn_pool_by_name(struct db_txn *t, const char *name)
{
    return lookup_id(db_txn_conn(t), SQL_POOL_BY_NAME, name, "the name");
}

char *
db_pool_by_vip(struct db *db, const char *vip)
{
    struct db_conn *c = db_read_begin(db);
    char *id;

    if (!c)
        return NULL;
    id = lookup_id(c, SQL_POOL_BY_VIP, vip, "the virtual IP");
    db_read_end(db);
    return id;
}

char *
db_txn_pool_by_vip(struct db_txn *t, const char *vip)
{
    return lookup_id(db_txn_conn(t), SQL_POOL_BY_VIP, vip, "the virtual IP");
}

char *
db_txn_pool_elect_master(struct db_txn *t, const char *pool_id)
{
    struct db_conn *c = db_txn_conn(t);
    /* Servers that can do the job first (running, not in maintenance),
     * then by name; the id makes equal names deterministic. */
    sqlite3_stmt *st = db_stmt(c,
        "SELECT o.id FROM objects o JOIN servers s ON s.id = o.id "
        "WHERE s.server_pool_id = ?1 "
        "ORDER BY (s.run_state = 'RUNNING' AND s.maintenance_mode = 0) DESC, "
        "o.name, o.id LIMIT 1");
    char *id = NULL;
    int rc;

    if (!st)
        return NULL;
    db_bind_text(st, 1, pool_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        id = db_col_strdup(st, 0);
    else if (rc == SQLITE_DONE)
        err_set(ERR_NOT_FOUND, "server pool '%s' has no servers", pool_id);
    else
        db_err_set(c, "cannot elect a master for server pool '%s'", pool_id);
    db_stmt_release(st);
    return id;
}

/* ---- rules ---- */

/*
 * Do the sealed agent passwords @a and @b (either may be NULL: none)
 * hold the same password? 0 with *same, or -1 (ERR_STATE) when one does
 * not open with this Manager's key.
 */
static int
passwords_same(const char *a, const char *b, bool *same)
{
    char *pa, *pb;

    if (!a || !b) {
        *same = !a && !b;
        return 0;
    }
    if (strcmp(a, b) == 0) {
        *same = true;
        return 0;
    }
    pa = secret_open(a);
    pb = pa ? secret_open(b) : NULL;
    if (!pa || !pb) {
        err_set(ERR_STATE, "cannot compare agent passwords: a stored "
                           "password does not open with this Manager's key "
                           "(%s)", err_message());
        xfree(pa);
        return -1;
    }
    *same = strcmp(pa, pb) == 0;
    memset(pa, 0, strlen(pa));
    memset(pb, 0, strlen(pb));
    xfree(pa);
    xfree(pb);
    return 0;
}

int
db_pool_check_add(const struct db_pool *p, const struct db_pool_member *s,
                  const char *manager_uuid)
{
    bool same;

    if (s->pool_id && strcmp(s->pool_id, p->id) == 0) {
        err_set(ERR_STATE, "server '%s' is already in server pool '%s'",
                s->name, p->name);
        return -1;
    }
    if (s->pool_id) {
        err_set(ERR_STATE, "cannot add server '%s' to server pool '%s': it "
                           "is already in server pool '%s'; remove it from "
                           "there first", s->name, p->name,
                s->pool_name ? s->pool_name : s->pool_id);
        return -1;
    }
    if (!s->manager_uuid || !manager_uuid ||
        strcmp(s->manager_uuid, manager_uuid) != 0) {
        err_set(ERR_STATE, "cannot add server '%s' to server pool '%s': it "
                           "is not owned by this Manager; discover it with "
                           "takeOwnershipIfUnowned=true first", s->name,
                p->name);
        return -1;
    }
    if (!s->run_state || strcmp(s->run_state, "RUNNING") != 0) {
        err_set(ERR_STATE, "cannot add server '%s' to server pool '%s': it "
                           "is %s, and only a running server can be "
                           "configured for a pool", s->name, p->name,
                s->run_state ? s->run_state : "UNKNOWN");
        return -1;
    }
    /* The pool's password comes from its first server; an empty pool
     * takes the newcomer's. */
    if (p->nservers > 0) {
        if (passwords_same(p->agent_password, s->agent_password, &same) < 0)
            return -1;
        if (!same) {
            err_set(ERR_STATE, "cannot add server '%s' to server pool '%s': "
                               "its agent password differs from that of "
                               "the pool's servers, and all servers of a "
                               "pool must share one agent password",
                    s->name, p->name);
            return -1;
        }
    }
    return 0;
}

int
db_pool_check_remove(const struct db_pool *p, const struct db_pool_member *s)
{
    if (!s->pool_id || strcmp(s->pool_id, p->id) != 0) {
        err_set(ERR_STATE, "server '%s' is not in server pool '%s'", s->name,
                p->name);
        return -1;
    }
    if (!s->maintenance) {
        err_set(ERR_STATE, "cannot remove server '%s' from server pool '%s': "
                           "it is not in maintenance mode; put it in "
                           "maintenance mode first", s->name, p->name);
        return -1;
    }
    if (s->active_vms > 0) {
        err_set(ERR_STATE, "cannot remove server '%s' from server pool '%s': "
                           "it runs %lld VM%s ('%s'%s); migrate or stop "
                           "them first", s->name, p->name,
                (long long)s->active_vms, s->active_vms == 1 ? "" : "s",
                s->active_vm_name ? s->active_vm_name : "?",
                s->active_vms > 1 ? ", ..." : "");
        return -1;
    }
    if (s->ocfs2_repo_name) {
        err_set(ERR_STATE, "cannot remove server '%s' from server pool '%s': "
                           "repository '%s' on a LUN of the pool is "
                           "presented to it; unpresent it first", s->name,
                p->name, s->ocfs2_repo_name);
        return -1;
    }
    return 0;
}

int
db_pool_check_delete(const struct db_pool *p)
{
    if (p->nservers > 0) {
        err_set(ERR_STATE, "cannot delete server pool '%s': it still has "
                           "%lld server%s; remove %s first", p->name,
                (long long)p->nservers, p->nservers == 1 ? "" : "s",
                p->nservers == 1 ? "it" : "them");
        return -1;
    }
    if (p->nvms > 0) {
        err_set(ERR_STATE, "cannot delete server pool '%s': it still holds "
                           "%lld VM%s; move or delete %s first", p->name,
                (long long)p->nvms, p->nvms == 1 ? "" : "s",
                p->nvms == 1 ? "it" : "them");
        return -1;
    }
    if (p->ocfs2_fs_name) {
        err_set(ERR_STATE, "cannot delete server pool '%s': OCFS2 file "
                           "system '%s' on a LUN belongs to it; delete the "
                           "file system first", p->name, p->ocfs2_fs_name);
        return -1;
    }
    return 0;
}

/* ---- changes ---- */

int
db_txn_pool_create(struct db_txn *t, const struct db_pool *p)
{
    struct db_conn *c = db_txn_conn(t);
    int64_t now = time_now_ms();
    char *AUTOFREE policy = xasprintf("balancer_%s", p->id);

    if (db_run(c, "INSERT INTO objects (id, type, name, description, "
                  "user_data, created_ms, modified_ms) VALUES (?1, "
                  "'ServerPool', ?2, coalesce(?3, ''), coalesce(?4, '[]'), "
                  "?5, ?5)", "tttti", p->id, p->name, p->description,
               p->user_data, now) != SQLITE_DONE)
        return db_err_set(c, "cannot create server pool '%s'", p->name);
    if (db_run(c, "INSERT INTO server_pools (id, virtual_ip, clustered, "
                  "keymap, secure_vm_migrate, vm_start_policy, policy_id, "
                  "pool_file_system_id) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", "ttbtbttt", p->id,
               p->virtual_ip, p->clustered, p->keymap, p->secure_vm_migrate,
               p->vm_start_policy, policy, p->pool_fs_id) != SQLITE_DONE)
        return db_err_set(c, "cannot create server pool '%s'", p->name);
    if (db_run(c, "INSERT INTO objects (id, type, name, created_ms, "
                  "modified_ms) VALUES (?1, 'ServerPoolPolicy', '', ?2, ?2)",
               "ti", policy, now) != SQLITE_DONE ||
        db_run(c, "INSERT INTO server_pool_policies (id, server_pool_id) "
                  "VALUES (?1, ?2)", "tt", policy, p->id) != SQLITE_DONE)
        return db_err_set(c, "cannot create the policy of server pool '%s'",
                          p->name);
    return 0;
}

int
db_txn_pool_set(struct db_txn *t, const struct db_pool *p)
{
    struct db_conn *c = db_txn_conn(t);

    if (db_run(c, "UPDATE server_pools SET virtual_ip = ?2, keymap = ?3, "
                  "secure_vm_migrate = ?4, vm_start_policy = ?5, "
                  "master_server_id = ?6, agent_password = ?7, "
                  "pool_file_system_id = ?8 WHERE id = ?1",
               "tttbtttt", p->id, p->virtual_ip, p->keymap,
               p->secure_vm_migrate, p->vm_start_policy, p->master_server_id,
               p->agent_password, p->pool_fs_id) != SQLITE_DONE)
        return db_err_set(c, "cannot change server pool '%s'", p->name);
    if (sqlite3_changes(c->h) == 0) {
        err_set(ERR_NOT_FOUND, "ServerPool '%s' not found", p->id);
        return -1;
    }
    return 0;
}

int
db_txn_pool_member_set(struct db_txn *t, const char *server_id,
                       const char *pool_id, const char *policy_id)
{
    struct db_conn *c = db_txn_conn(t);

    if (db_run(c, "UPDATE servers SET server_pool_id = ?2, policy_id = ?3 "
                  "WHERE id = ?1", "ttt", server_id, pool_id, policy_id) !=
        SQLITE_DONE)
        return db_err_set(c, "cannot change the pool of server '%s'",
                          server_id);
    if (sqlite3_changes(c->h) == 0) {
        err_set(ERR_NOT_FOUND, "Server '%s' not found", server_id);
        return -1;
    }
    return 0;
}

int
db_txn_pool_delete(struct db_txn *t, const char *id)
{
    struct db_conn *c = db_txn_conn(t);

    /* The policy's type row would go by cascade, its objects row not. */
    if (db_run(c, "DELETE FROM objects WHERE id IN (SELECT id FROM "
                  "server_pool_policies WHERE server_pool_id = ?1)", "t",
               id) != SQLITE_DONE ||
        db_run(c, "DELETE FROM objects WHERE id = ?1 AND type = "
                  "'ServerPool'", "t", id) != SQLITE_DONE)
        return db_err_set(c, "cannot delete server pool '%s'", id);
    if (sqlite3_changes(c->h) == 0) {
        err_set(ERR_NOT_FOUND, "ServerPool '%s' not found", id);
        return -1;
    }
    return 0;
}

/* ---- snapshots ---- */

/* Column @i of the current row of @st as JSON; NULL for SQL NULL. */
static json_object *
col_json(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        return json_object_new_int64(sqlite3_column_int64(st, i));
    case SQLITE_FLOAT:
        return json_object_new_double(sqlite3_column_double(st, i));
    case SQLITE_TEXT:
        return json_object_new_string(
            (const char *)sqlite3_column_text(st, i));
    default:
        return NULL;
    }
}

/* Row @id of @table (a literal of this file) as {column: value}. NULL
 * with ERR_NOT_FOUND when there is none. */
static json_object *
row_get(struct db_conn *c, const char *table, const char *id)
{
    char *AUTOFREE sql = xasprintf("SELECT * FROM %s WHERE id = ?1", table);
    sqlite3_stmt *st = db_stmt(c, sql);
    json_object *row = NULL;
    int i, n, rc;

    if (!st)
        return NULL;
    db_bind_text(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        row = json_object_new_object();
        n = sqlite3_column_count(st);
        for (i = 0; i < n; i++)
            json_object_object_add(row, sqlite3_column_name(st, i),
                                   col_json(st, i));
    } else if (rc == SQLITE_DONE) {
        err_set(ERR_NOT_FOUND, "no row '%s' in %s", id, table);
    } else {
        db_err_set(c, "cannot read row '%s' of %s", id, table);
    }
    db_stmt_release(st);
    return row;
}

/* Bind JSON @v to parameter @i of @st. 0, or -1 (ERR_INVALID). */
static int
bind_json(sqlite3_stmt *st, int i, json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        return sqlite3_bind_null(st, i) == SQLITE_OK ? 0 : -1;
    case json_type_boolean:
        return sqlite3_bind_int64(st, i, json_object_get_boolean(v)) ==
                       SQLITE_OK ? 0 : -1;
    case json_type_int:
        return sqlite3_bind_int64(st, i, json_object_get_int64(v)) ==
                       SQLITE_OK ? 0 : -1;
    case json_type_double:
        return sqlite3_bind_double(st, i, json_object_get_double(v)) ==
                       SQLITE_OK ? 0 : -1;
    case json_type_string:
        return db_bind_text(st, i, json_object_get_string(v)) == SQLITE_OK
                   ? 0 : -1;
    default:
        err_set(ERR_INVALID, "a snapshot value is neither null, a number "
                             "nor a string");
        return -1;
    }
}

/*
 * Write @row back into @table: a new row (@insert) or over the row with
 * the row's id. Only the table's own columns (read from the schema) that
 * @row has are written; `locked` never is (locks belong to the engine)
 * and neither are an update's `id` and `type`.
 */
static int
row_put(struct db_conn *c, const char *table, json_object *row, bool insert)
{
    char *AUTOFREE probe = xasprintf("SELECT * FROM %s WHERE 0", table);
    char *AUTOFREE sql = NULL;
    char **cols = NULL;
    json_object *idv = NULL, *v;
    sqlite3_stmt *st;
    struct buf b;
    int i, n, k = 0, rc = -1;

    if (!json_object_object_get_ex(row, "id", &idv) ||
        !json_object_is_type(idv, json_type_string)) {
        err_set(ERR_INVALID, "a snapshot of %s has no id", table);
        return -1;
    }
    st = db_stmt(c, probe);
    if (!st)
        return -1;
    n = sqlite3_column_count(st);
    cols = xcalloc((size_t)n + 1, sizeof(*cols));
    for (i = 0; i < n; i++) {
        const char *name = sqlite3_column_name(st, i);

        if (strcmp(name, "locked") == 0 ||
            (!insert && (strcmp(name, "id") == 0 ||
                         strcmp(name, "type") == 0)) ||
            !json_object_object_get_ex(row, name, NULL))
            continue;
        cols[k++] = xstrdup(name);
    }
    db_stmt_release(st);
    if (k == 0) {
        err_set(ERR_INVALID, "a snapshot of %s has no column to write",
                table);
        goto out;
    }
    buf_init(&b, 0);
    if (insert) {
        buf_printf(&b, "INSERT INTO %s (", table);
        for (i = 0; i < k; i++)
            buf_printf(&b, "%s\"%s\"", i ? ", " : "", cols[i]);
        buf_puts(&b, ") VALUES (");
        for (i = 0; i < k; i++)
            buf_printf(&b, "%s?%d", i ? ", " : "", i + 1);
        buf_puts(&b, ")");
    } else {
        buf_printf(&b, "UPDATE %s SET ", table);
        for (i = 0; i < k; i++)
            buf_printf(&b, "%s\"%s\" = ?%d", i ? ", " : "", cols[i], i + 1);
        buf_printf(&b, " WHERE id = ?%d", k + 1);
    }
    sql = buf_steal(&b);
    buf_release(&b);
    st = db_stmt(c, sql);
    if (!st)
        goto out;
    for (i = 0; i < k; i++) {
        json_object_object_get_ex(row, cols[i], &v);
        if (bind_json(st, i + 1, v) < 0) {
            db_stmt_release(st);
            goto out;
        }
    }
    if (!insert)
        db_bind_text(st, k + 1, json_object_get_string(idv));
    if (sqlite3_step(st) != SQLITE_DONE) {
        db_err_set(c, "cannot restore row '%s' of %s",
                   json_object_get_string(idv), table);
        db_stmt_release(st);
        goto out;
    }
    db_stmt_release(st);
    if (!insert && sqlite3_changes(c->h) == 0) {
        err_set(ERR_NOT_FOUND, "no row '%s' in %s to restore",
                json_object_get_string(idv), table);
        goto out;
    }
    rc = 0;
 out:
    for (i = 0; i < k; i++)
        xfree(cols[i]);
    xfree(cols);
    return rc;
}

/* Add row @id of @table to @snap under @key; 0 or -1. */
static int
snap_add(struct db_conn *c, json_object *snap, const char *key,
         const char *table, const char *id)
{
    json_object *row = row_get(c, table, id);

    if (!row)
        return -1;
    json_object_object_add(snap, key, row);
    return 0;
}

json_object *
db_txn_pool_snapshot(struct db_txn *t, const char *id)
{
    struct db_conn *c = db_txn_conn(t);
    json_object *snap = json_object_new_object(), *v;
    const char *policy;

    if (snap_add(c, snap, "pool_object", "objects", id) < 0 ||
        snap_add(c, snap, "pool", "server_pools", id) < 0)
        goto fail;
    if (json_object_object_get_ex(json_object_object_get(snap, "pool"),
                                  "policy_id", &v) &&
        json_object_is_type(v, json_type_string)) {
        policy = json_object_get_string(v);
        if (snap_add(c, snap, "policy_object", "objects", policy) < 0 ||
            snap_add(c, snap, "policy", "server_pool_policies", policy) < 0)
            goto fail;
    }
    return snap;
 fail:
    json_object_put(snap);
    return NULL;
}

int
db_txn_pool_restore(struct db_txn *t, json_object *snap, bool create)
{
    struct db_conn *c = db_txn_conn(t);
    static const struct {
        const char *key, *table;
        bool create_only;
    } parts[] = {
        /* Parents first: the policy row references the pool row. */
        { "pool_object", "objects", false },
        { "pool", "server_pools", false },
        { "policy_object", "objects", true },
        { "policy", "server_pool_policies", true },
    };
    json_object *row;
    size_t i;

    for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        if (parts[i].create_only && !create)
            continue;
        if (!json_object_object_get_ex(snap, parts[i].key, &row) ||
            !json_object_is_type(row, json_type_object)) {
            if (parts[i].create_only)
                continue;   /* a pool without a policy row */
            err_set(ERR_INVALID, "a server pool snapshot has no '%s'",
                    parts[i].key);
            return -1;
        }
        if (row_put(c, parts[i].table, row, create) < 0)
            return -1;
    }
    return 0;
}

json_object *
db_txn_pool_member_snapshot(struct db_txn *t, const char *server_id)
{
    struct db_conn *c = db_txn_conn(t);
    sqlite3_stmt *st = db_stmt(c,
        "SELECT o.generation, o.modified_ms, s.server_pool_id, s.policy_id "
        "FROM objects o JOIN servers s ON s.id = o.id WHERE o.id = ?1");
    json_object *snap = NULL;
    int rc;

    if (!st)
        return NULL;
    db_bind_text(st, 1, server_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        snap = json_object_new_object();
        json_object_object_add(snap, "id", json_object_new_string(server_id));
        json_object_object_add(snap, "generation", col_json(st, 0));
        json_object_object_add(snap, "modified_ms", col_json(st, 1));
        json_object_object_add(snap, "server_pool_id", col_json(st, 2));
        json_object_object_add(snap, "policy_id", col_json(st, 3));
    } else if (rc == SQLITE_DONE) {
        err_set(ERR_NOT_FOUND, "Server '%s' not found", server_id);
    } else {
        db_err_set(c, "cannot read server '%s'", server_id);
    }
    db_stmt_release(st);
    return snap;
}

int
db_txn_pool_member_restore(struct db_txn *t, json_object *snap)
{
    struct db_conn *c = db_txn_conn(t);
    json_object *obj = json_object_new_object(), *srv, *v;
    static const char *const obj_cols[] = { "generation", "modified_ms" };
    static const char *const srv_cols[] = { "server_pool_id", "policy_id" };
    size_t i;
    int rc = -1;

    srv = json_object_new_object();
    if (!json_object_object_get_ex(snap, "id", &v)) {
        err_set(ERR_INVALID, "a server snapshot has no id");
        goto out;
    }
    json_object_object_add(obj, "id", json_object_get(v));
    json_object_object_add(srv, "id", json_object_get(v));
    for (i = 0; i < 2; i++) {
        if (!json_object_object_get_ex(snap, obj_cols[i], &v) ||
            !json_object_object_get_ex(snap, srv_cols[i], NULL)) {
            err_set(ERR_INVALID, "a server snapshot is incomplete");
            goto out;
        }
        json_object_object_add(obj, obj_cols[i], json_object_get(v));
        json_object_object_get_ex(snap, srv_cols[i], &v);
        json_object_object_add(srv, srv_cols[i], json_object_get(v));
    }
    if (row_put(c, "objects", obj, false) < 0 ||
        row_put(c, "servers", srv, false) < 0)
        goto out;
    rc = 0;
 out:
    json_object_put(obj);
    json_object_put(srv);
    return rc;
}

/* ---- pool file systems ---- */

/* db_pool_check_fs() on connection @c (inside a transaction). */
static int
check_fs_on(struct db_conn *c, const char *pool_id, const char *fs_id)
{
    sqlite3_stmt *st = db_stmt(c,
        "SELECT fo.name, fs.present, srv.file_server_type, "
        "(SELECT ro.name FROM repositories r JOIN objects ro ON ro.id = r.id "
        " WHERE r.file_system_id = fs.id ORDER BY ro.name LIMIT 1), "
        "(SELECT p.id FROM server_pools p WHERE p.pool_file_system_id = fs.id "
        " AND p.id IS NOT ?2 LIMIT 1), "
        "(SELECT po.name FROM server_pools p JOIN objects po ON po.id = p.id "
        " WHERE p.pool_file_system_id = fs.id AND p.id IS NOT ?2 LIMIT 1) "
        "FROM file_systems fs JOIN objects fo ON fo.id = fs.id "
        "JOIN file_servers srv ON srv.id = fs.file_server_id "
        "WHERE fs.id = ?1");
    const char *name, *type, *repo, *other;
    int rc, ret = -1;

    if (!st)
        return -1;
    db_bind_text(st, 1, fs_id);
    db_bind_text(st, 2, pool_id);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        if (rc == SQLITE_DONE)
            err_set(ERR_NOT_FOUND, "FileSystem '%s' not found", fs_id);
        else
            db_err_set(c, "cannot read file system '%s'", fs_id);
        goto cleanup;
    }
    name = (const char *)sqlite3_column_text(st, 0);
    type = (const char *)sqlite3_column_text(st, 2);
    repo = (const char *)sqlite3_column_text(st, 3);
    other = (const char *)sqlite3_column_text(st, 5);
    if (strcmp(type, "NETWORK") != 0) {
        err_set(ERR_STATE, "file system '%s' is local to one server; a pool "
                           "file system must be shared (NFS)", name);
    } else if (sqlite3_column_int(st, 1) == 0) {
        err_set(ERR_STATE, "file system '%s' is no longer exported by its "
                           "file server", name);
    } else if (repo) {
        err_set(ERR_STATE, "file system '%s' holds repository '%s': a pool "
                           "file system needs an export of its own", name,
                repo);
    } else if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
        err_set(ERR_EXISTS, "file system '%s' is already the pool file "
                            "system of server pool '%s'", name,
                other ? other : "");
    } else {
        ret = 0;
    }
 cleanup:
    db_stmt_release(st);
    return ret;
}

int
db_pool_check_fs(struct db *db, const char *pool_id, const char *fs_id)
{
    struct db_conn *c = db_read_begin(db);
    int ret;

    if (!c)
        return -1;
    ret = check_fs_on(c, pool_id, fs_id);
    db_read_end(db);
    return ret;
}

int
db_txn_pool_check_fs(struct db_txn *t, const char *pool_id,
                     const char *fs_id)
{
    return check_fs_on(db_txn_conn(t), pool_id, fs_id);
}
