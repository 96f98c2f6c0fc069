/*
 * op_pool.c - server pool changes as job operations: create, edit, add
 * and remove a server, delete.
 *
 * DESIGN: all five are database-only (the pool's cluster configuration on
 * real hosts comes with pool file systems, a later issue). Each step --
 * run or undo -- opens job_txn_begin(), reads the pool and the server
 * again inside its transaction, applies the same rules the HTTP handler
 * applied (db_pool_check_*(), so the messages agree), makes its change,
 * raises its events and ends with job_txn_commit(): the change, its
 * events and the operation's DONE (or UNDONE) row with its undo data
 * commit together, so undo after a restart (undo_after_restart) finds
 * exactly what the DONE row says. A job that waited while another changed
 * the pool or the server therefore ends FAILURE with the rule's message
 * and changes nothing. Undo data are exact snapshots of the rows
 * (db_txn_pool_snapshot()), so an undone change leaves the objects as
 * they were, generation included. Steps run on job worker threads and
 * keep no state of their own.
 *
 * Operations (arguments -> undo data):
 *   pool.create         {id, name, description?, userData?, virtualIp?,
 *                       keymap, secureVmMigrate, vmStartPolicy, clustered}
 *                       -> {id}: the undo deletes the pool and its policy.
 *   pool.update         {id, generation?, name?, description?, userData?,
 *                       virtualIp? (null clears), keymap?,
 *                       secureVmMigrate?, vmStartPolicy?,
 *                       masterServerId?} -> {pool: snapshot}.
 *   pool.add_server     {pool, server, managerUuid} -> {pool: snapshot,
 *                       server: member snapshot}. The first server becomes
 *                       the master and gives the pool its agent password.
 *   pool.remove_server  {pool, server} -> as add_server. When the master
 *                       leaves, the next server (db_txn_pool_elect_master)
 *                       takes over, with a WARNING event; the last server
 *                       leaving clears the master and the agent password.
 *   pool.delete         {id} -> {pool: snapshot}: the undo re-creates the
 *                       pool and its policy with the same ids and rows.
 *
 * Events: INFORMATIONAL on the pool (pool.created, pool.updated,
 * pool.deleted, pool.server_added, pool.server_removed, pool.master) and on
 * the server (server.pool_joined, server.pool_left); WARNING
 * pool.master_elected when the master left and another server took over;
 * object.restored for every undo.
 */
#include <inttypes.h>
#include <string.h>

#include "db/db.h"
#include "events/events.h"
#include "jobs/jobs_int.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/json.h"
#include "util/log.h"

LOG_MODULE("jobs");

/* String member @key of @o into *out: 0, or -1 with ERR_INVALID naming
 * @what when absent or not a string. */
static int
need_str(json_object *o, const char *what, const char *key,
         const char **out)
{
    int rc = json_get_string(o, key, out);

    if (rc > 0)
        err_set(ERR_INVALID, "%s needs '%s'", what, key);
    return rc == 0 ? 0 : -1;
}

/* Member @key of @o (a snapshot part) or NULL. Borrowed. */
static json_object *
member(json_object *o, const char *key)
{
    json_object *v = NULL;

    if (!o || !json_object_object_get_ex(o, key, &v))
        return NULL;
    return v;
}

/* Commit @t with @undo, or roll it back when @rc < 0. 0 or -1. */
static int
finish(struct job_ctx *ctx, struct db_txn *t, int rc, json_object *undo)
{
    if (rc < 0) {
        db_txn_rollback(t);
        return -1;
    }
    /* job_txn_commit() rolls back itself when it fails. */
    return job_txn_commit(ctx, t, undo);
}

/* Bump the generation (and modified time) of object @id. */
static int
touch(struct db_txn *t, const char *id)
{
    return db_txn_object_set_common(t, id, NULL, NULL, NULL, -1);
}

/* Replace *slot (owned) with a copy of @s (NULL allowed). */
static void
set_str(char **slot, const char *s)
{
    xfree(*slot);
    *slot = s ? xstrdup(s) : NULL;
}

/* True when the strings differ (NULL equals only NULL). */
static bool
differ(const char *a, const char *b)
{
    if (!a || !b)
        return a != b;
    return strcmp(a, b) != 0;
}

/* ---- pool.create ---- */

/* 0 when no pool other than @self_id is named @name, else -1 with
 * ERR_EXISTS (or the lookup's error). */
static int
name_free(struct db_txn *t, const char *name, const char *self_id)
{
    char *AUTOFREE other = db_txn_pool_by_name(t, name);

    if (!other) {
        if (err_code() != ERR_NOT_FOUND)
            return -1;
        err_clear();
        return 0;
    }
    if (self_id && strcmp(other, self_id) == 0)
        return 0;
    err_set(ERR_EXISTS, "a server pool named '%s' already exists", name);
    return -1;
}

/* The same for virtual IP address @vip (canonical text). */
static int
vip_free(struct db_txn *t, const char *vip, const char *self_id)
{
    char *AUTOFREE other = db_txn_pool_by_vip(t, vip);

    if (!other) {
        if (err_code() != ERR_NOT_FOUND)
            return -1;
        err_clear();
        return 0;
    }
    if (self_id && strcmp(other, self_id) == 0)
        return 0;
    err_set(ERR_EXISTS, "virtual IP address '%s' is already used by another "
                        "server pool", vip);
    return -1;
}

/* Copy string member @key of @o into *slot (absent or null: NULL).
 * 0, or -1 when it has another type. */
static int
copy_str(json_object *o, const char *key, char **slot)
{
    const char *s = NULL;

    if (json_get_string(o, key, &s) < 0)
        return -1;
    set_str(slot, s);
    return 0;
}

static int
create_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
            json_object **undo)
{
    AUTOPTR(db_pool) struct db_pool *p = xcalloc(1, sizeof(*p));
    const char *what = "pool.create";
    json_object *ud;
    bool b;

    if (copy_str(args, "id", &p->id) < 0 ||
        copy_str(args, "name", &p->name) < 0 ||
        copy_str(args, "description", &p->description) < 0 ||
        copy_str(args, "virtualIp", &p->virtual_ip) < 0 ||
        copy_str(args, "keymap", &p->keymap) < 0 ||
        copy_str(args, "vmStartPolicy", &p->vm_start_policy) < 0)
        return -1;
    if (!p->id || !p->name || !p->keymap || !p->vm_start_policy) {
        err_set(ERR_INVALID, "%s needs 'id', 'name', 'keymap' and "
                             "'vmStartPolicy'", what);
        return -1;
    }
    /* Taken since the handler looked: the job fails with the same 409. */
    if (name_free(t, p->name, NULL) < 0 ||
        (p->virtual_ip && vip_free(t, p->virtual_ip, NULL) < 0))
        return -1;
    if (json_get_bool(args, "secureVmMigrate", &b) == 0)
        p->secure_vm_migrate = b;
    if (json_get_bool(args, "clustered", &b) == 0)
        p->clustered = b;
    if (copy_str(args, "poolFileSystemId", &p->pool_fs_id) < 0 ||
        (p->pool_fs_id && db_txn_pool_check_fs(t, NULL, p->pool_fs_id) < 0))
        return -1;
    ud = member(args, "userData");
    if (ud)
        set_str(&p->user_data, json_to_text(ud));
    if (db_txn_pool_create(t, p) < 0)
        return -1;
    if (events_add(t, SEV_INFORMATIONAL, "pool.created", p->id, "ServerPool",
                   p->name, job_id(ctx), job_user(ctx), NULL,
                   "ServerPool '%s' created (%s%s%s)", p->name,
                   p->clustered ? "clustered" : "not clustered",
                   p->virtual_ip ? ", virtual IP " : "",
                   p->virtual_ip ? p->virtual_ip : "") < 0)
        return -1;
    job_set_result(ctx, "ServerPool", p->id, p->name);
    *undo = json_object_new_object();
    json_object_object_add(*undo, "id", json_object_new_string(p->id));
    return 0;
}

static int
create_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    AUTOPTR(json_object) json_object *u = NULL;
    struct db_txn *t = job_txn_begin(ctx);
    int rc;

    (void)undo; /* recorded by job_txn_commit() together with the change */
    if (!t)
        return -1;
    rc = create_step(ctx, t, args, &u);
    return finish(ctx, t, rc, u);
}

static int
create_undo_step(struct job_ctx *ctx, struct db_txn *t, json_object *undo)
{
    AUTOPTR(db_pool) struct db_pool *p = NULL;
    const char *id;

    if (need_str(undo, "the undo data of pool.create", "id", &id) < 0)
        return -1;
    p = db_txn_pool_get(t, id);
    if (!p) {
        if (err_code() != ERR_NOT_FOUND)
            return -1;
        log_info("job %" PRId64 ": nothing to undo for a pool creation: %s",
                 job_id(ctx), err_message());
        err_clear();
        return 0;
    }
    if (db_txn_pool_delete(t, id) < 0)
        return -1;
    return events_add(t, SEV_INFORMATIONAL, "pool.deleted", id, "ServerPool",
                      p->name, job_id(ctx), job_user(ctx), NULL,
                      "ServerPool '%s' deleted: its creation was undone",
                      p->name);
}

static int
create_undo(struct job_ctx *ctx, json_object *args, json_object *undo)
{
    struct db_txn *t = job_txn_begin(ctx);

    (void)args;
    if (!t)
        return -1;
    return finish(ctx, t, create_undo_step(ctx, t, undo), NULL);
}

const struct job_op_type job_op_pool_create = {
    "pool.create", create_run, create_undo, true,
};

/* ---- undo of update, add_server, remove_server and delete ---- */

/*
 * Put back the pool snapshot undo.pool (@create: re-create it) and, when
 * present, the member snapshot undo.server, then raise object.restored on
 * the pool (and the server).
 */
static int
restore_step(struct job_ctx *ctx, struct db_txn *t, json_object *undo,
             bool create)
{
    json_object *pool = member(undo, "pool"), *server = member(undo, "server");
    json_object *row = member(pool, "pool_object");
    AUTOPTR(db_pool_member) struct db_pool_member *s = NULL;
    const char *id = json_object_get_string(member(row, "id"));
    const char *name = json_object_get_string(member(row, "name"));

    if (!pool || !id || !name) {
        err_set(ERR_INVALID, "the undo data has no server pool snapshot");
        return -1;
    }
    if (db_txn_pool_restore(t, pool, create) < 0)
        return -1;
    if (server) {
        if (db_txn_pool_member_restore(t, server) < 0)
            return -1;
        s = db_txn_pool_member_get(t, json_object_get_string(
                                          member(server, "id")));
        if (!s)
            return -1;
        if (events_add(t, SEV_INFORMATIONAL, "object.restored", s->id,
                       "Server", s->name, job_id(ctx), job_user(ctx), NULL,
                       "Server '%s' restored: the job's change was undone",
                       s->name) < 0)
            return -1;
    }
    return events_add(t, SEV_INFORMATIONAL, "object.restored", id,
                      "ServerPool", name, job_id(ctx), job_user(ctx), NULL,
                      "ServerPool '%s' restored: the job's change was "
                      "undone", name);
}

static int
restore_undo(struct job_ctx *ctx, json_object *undo, bool create)
{
    struct db_txn *t = job_txn_begin(ctx);

    if (!t)
        return -1;
    return finish(ctx, t, restore_step(ctx, t, undo, create), NULL);
}

static int
restore_over(struct job_ctx *ctx, json_object *args, json_object *undo)
{
    (void)args;
    return restore_undo(ctx, undo, false);
}

static int
restore_create(struct job_ctx *ctx, json_object *args, json_object *undo)
{
    (void)args;
    return restore_undo(ctx, undo, true);
}

/* {"pool": snapshot of @pool_id[, "server": member snapshot]}, or NULL. */
static json_object *
snapshot(struct db_txn *t, const char *pool_id, const char *server_id)
{
    json_object *u = json_object_new_object(), *s;

    s = db_txn_pool_snapshot(t, pool_id);
    if (!s)
        goto fail;
    json_object_object_add(u, "pool", s);
    if (server_id) {
        s = db_txn_pool_member_snapshot(t, server_id);
        if (!s)
            goto fail;
        json_object_object_add(u, "server", s);
    }
    return u;
 fail:
    json_object_put(u);
    return NULL;
}

/* ---- pool.update ---- */

/* The master change of pool.update: @sid must be one of @p's servers. */
static int
update_master(struct job_ctx *ctx, struct db_txn *t, struct db_pool *p,
              const char *sid)
{
    AUTOPTR(db_pool_member) struct db_pool_member *s = NULL;

    if (!sid) {
        if (p->nservers > 0) {
            err_set(ERR_STATE, "server pool '%s' has servers, so it must "
                               "have a master", p->name);
            return -1;
        }
        return 0;
    }
    s = db_txn_pool_member_get(t, sid);
    if (!s)
        return -1;
    if (differ(s->pool_id, p->id)) {
        err_set(ERR_STATE, "cannot make server '%s' the master of server "
                           "pool '%s': it is not in that pool", s->name,
                p->name);
        return -1;
    }
    if (!differ(p->master_server_id, sid))
        return 0;
    set_str(&p->master_server_id, sid);
    if (events_add(t, SEV_INFORMATIONAL, "pool.master", p->id, "ServerPool",
                   p->name, job_id(ctx), job_user(ctx), NULL,
                   "Server '%s' is now the master of server pool '%s'",
                   s->name, p->name) < 0)
        return -1;
    return 0;
}

static int
update_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
            json_object **undo)
{
    AUTOPTR(db_pool) struct db_pool *p = NULL;
    const char *id, *name = NULL, *desc = NULL, *s = NULL, *ud_text = NULL;
    json_object *v;
    int64_t gen = -1;
    bool b;

    if (need_str(args, "pool.update", "id", &id) < 0 ||
        json_get_string(args, "name", &name) < 0 ||
        json_get_string(args, "description", &desc) < 0 ||
        json_get_int64(args, "generation", &gen) < 0)
        return -1;
    p = db_txn_pool_get(t, id);
    if (!p)
        return -1;
    if (gen >= 0 && gen != p->generation) {
        err_set(ERR_CONFLICT, "ServerPool '%s' was changed by someone else: "
                              "the request was made from generation %" PRId64
                              " but it is at generation %" PRId64,
                p->name, gen, p->generation);
        return -1;
    }
    *undo = snapshot(t, id, NULL);
    if (!*undo)
        return -1;
    if (name && name_free(t, name, id) < 0)
        return -1;
    if (json_object_object_get_ex(args, "virtualIp", &v)) {
        s = v ? json_object_get_string(v) : NULL;
        if (differ(s, p->virtual_ip)) {
            if (p->nservers > 0) {
                err_set(ERR_STATE, "cannot change the virtual IP address of "
                                   "server pool '%s' while it has servers",
                        p->name);
                return -1;
            }
            if (s && vip_free(t, s, id) < 0)
                return -1;
            set_str(&p->virtual_ip, s);
        }
    }
    if (json_object_object_get_ex(args, "poolFileSystemId", &v)) {
        s = v ? json_object_get_string(v) : NULL;
        if (differ(s, p->pool_fs_id)) {
            if (p->nservers > 0) {
                err_set(ERR_STATE, "cannot change the pool file system of "
                                   "server pool '%s' while it has servers",
                        p->name);
                return -1;
            }
            if (s && db_txn_pool_check_fs(t, id, s) < 0)
                return -1;
            set_str(&p->pool_fs_id, s);
        }
    }
    if (json_get_string(args, "keymap", &s) == 0)
        set_str(&p->keymap, s);
    if (json_get_string(args, "vmStartPolicy", &s) == 0)
        set_str(&p->vm_start_policy, s);
    if (json_get_bool(args, "secureVmMigrate", &b) == 0)
        p->secure_vm_migrate = b;
    if (json_object_object_get_ex(args, "masterServerId", &v) &&
        update_master(ctx, t, p, v ? json_object_get_string(v) : NULL) < 0)
        return -1;
    v = member(args, "userData");
    if (v)
        ud_text = json_to_text(v);
    if (db_txn_object_set_common(t, id, name, desc, ud_text, -1) < 0 ||
        db_txn_pool_set(t, p) < 0)
        return -1;
    name = name ? name : p->name;
    if (events_add(t, SEV_INFORMATIONAL, "pool.updated", id, "ServerPool",
                   name, job_id(ctx), job_user(ctx), NULL,
                   "ServerPool '%s' updated", name) < 0)
        return -1;
    job_set_result(ctx, "ServerPool", id, name);
    return 0;
}

static int
update_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    AUTOPTR(json_object) json_object *u = NULL;
    struct db_txn *t = job_txn_begin(ctx);
    int rc;

    (void)undo;
    if (!t)
        return -1;
    rc = update_step(ctx, t, args, &u);
    return finish(ctx, t, rc, u);
}

const struct job_op_type job_op_pool_update = {
    "pool.update", update_run, restore_over, true,
};

/* ---- pool.add_server ---- */

static int
add_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
         json_object **undo)
{
    const char *what = "pool.add_server", *pid, *sid, *mgr;
    AUTOPTR(db_pool) struct db_pool *p = NULL;
    AUTOPTR(db_pool_member) struct db_pool_member *s = NULL;

    if (need_str(args, what, "pool", &pid) < 0 ||
        need_str(args, what, "server", &sid) < 0 ||
        need_str(args, what, "managerUuid", &mgr) < 0)
        return -1;
    p = db_txn_pool_get(t, pid);
    if (!p)
        return -1;
    s = db_txn_pool_member_get(t, sid);
    if (!s || db_pool_check_add(p, s, mgr) < 0)
        return -1;
    *undo = snapshot(t, pid, sid);
    if (!*undo)
        return -1;
    /* Policy participation is the policy's to set (a later issue). */
    if (db_txn_pool_member_set(t, sid, pid, NULL) < 0 || touch(t, sid) < 0)
        return -1;
    if (p->nservers == 0)
        set_str(&p->agent_password, s->agent_password);
    if (!p->master_server_id) {
        set_str(&p->master_server_id, sid);
        if (events_add(t, SEV_INFORMATIONAL, "pool.master", pid,
                       "ServerPool", p->name, job_id(ctx), job_user(ctx),
                       NULL, "Server '%s' is now the master of server pool "
                             "'%s'", s->name, p->name) < 0)
            return -1;
    }
    if (db_txn_pool_set(t, p) < 0 || touch(t, pid) < 0)
        return -1;
    if (events_add(t, SEV_INFORMATIONAL, "pool.server_added", pid,
                   "ServerPool", p->name, job_id(ctx), job_user(ctx), NULL,
                   "Server '%s' added to server pool '%s'", s->name,
                   p->name) < 0 ||
        events_add(t, SEV_INFORMATIONAL, "server.pool_joined", sid, "Server",
                   s->name, job_id(ctx), job_user(ctx), NULL,
                   "Server '%s' joined server pool '%s'", s->name,
                   p->name) < 0)
        return -1;
    job_set_result(ctx, "ServerPool", pid, p->name);
    return 0;
}

static int
add_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    AUTOPTR(json_object) json_object *u = NULL;
    struct db_txn *t = job_txn_begin(ctx);
    int rc;

    (void)undo;
    if (!t)
        return -1;
    rc = add_step(ctx, t, args, &u);
    return finish(ctx, t, rc, u);
}

const struct job_op_type job_op_pool_add_server = {
    "pool.add_server", add_run, restore_over, true,
};

/* ---- pool.remove_server ---- */

/* @p's master @s left: elect the next one (or none) into @p. */
static int
elect(struct job_ctx *ctx, struct db_txn *t, struct db_pool *p,
      const struct db_pool_member *s)
{
    AUTOPTR(db_pool_member) struct db_pool_member *m = NULL;
    char *AUTOFREE next = db_txn_pool_elect_master(t, p->id);

    if (!next) {
        if (err_code() != ERR_NOT_FOUND)
            return -1;
        err_clear();
        set_str(&p->master_server_id, NULL);
        return 0;
    }
    m = db_txn_pool_member_get(t, next);
    if (!m)
        return -1;
    set_str(&p->master_server_id, next);
    return events_add(t, SEV_WARNING, "pool.master_elected", p->id,
                      "ServerPool", p->name, job_id(ctx), job_user(ctx),
                      NULL, "Master server '%s' left server pool '%s'; "
                            "server '%s' is the new master", s->name,
                      p->name, m->name);
}

static int
remove_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
            json_object **undo)
{
    const char *what = "pool.remove_server", *pid, *sid;
    AUTOPTR(db_pool) struct db_pool *p = NULL;
    AUTOPTR(db_pool_member) struct db_pool_member *s = NULL;

    if (need_str(args, what, "pool", &pid) < 0 ||
        need_str(args, what, "server", &sid) < 0)
        return -1;
    p = db_txn_pool_get(t, pid);
    if (!p)
        return -1;
    s = db_txn_pool_member_get(t, sid);
    if (!s || db_pool_check_remove(p, s) < 0)
        return -1;
    *undo = snapshot(t, pid, sid);
    if (!*undo)
        return -1;
    if (db_txn_pool_member_set(t, sid, NULL, NULL) < 0 || touch(t, sid) < 0)
        return -1;
    if (p->nservers <= 1)
        set_str(&p->agent_password, NULL);
    if (!differ(p->master_server_id, sid) && elect(ctx, t, p, s) < 0)
        return -1;
    if (db_txn_pool_set(t, p) < 0 || touch(t, pid) < 0)
        return -1;
    if (events_add(t, SEV_INFORMATIONAL, "pool.server_removed", pid,
                   "ServerPool", p->name, job_id(ctx), job_user(ctx), NULL,
                   "Server '%s' removed from server pool '%s'", s->name,
                   p->name) < 0 ||
        events_add(t, SEV_INFORMATIONAL, "server.pool_left", sid, "Server",
                   s->name, job_id(ctx), job_user(ctx), NULL,
                   "Server '%s' left server pool '%s' and is unassigned",
                   s->name, p->name) < 0)
        return -1;
    job_set_result(ctx, "ServerPool", pid, p->name);
    return 0;
}

static int
remove_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    AUTOPTR(json_object) json_object *u = NULL;
    struct db_txn *t = job_txn_begin(ctx);
    int rc;

    (void)undo;
    if (!t)
        return -1;
    rc = remove_step(ctx, t, args, &u);
    return finish(ctx, t, rc, u);
}

const struct job_op_type job_op_pool_remove_server = {
    "pool.remove_server", remove_run, restore_over, true,
};

/* ---- pool.delete ---- */

static int
delete_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
            json_object **undo)
{
    AUTOPTR(db_pool) struct db_pool *p = NULL;
    const char *id;

    if (need_str(args, "pool.delete", "id", &id) < 0)
        return -1;
    p = db_txn_pool_get(t, id);
    if (!p || db_pool_check_delete(p) < 0)
        return -1;
    *undo = snapshot(t, id, NULL);
    if (!*undo)
        return -1;
    if (db_txn_pool_delete(t, id) < 0)
        return -1;
    if (events_add(t, SEV_INFORMATIONAL, "pool.deleted", id, "ServerPool",
                   p->name, job_id(ctx), job_user(ctx), NULL,
                   "ServerPool '%s' deleted", p->name) < 0)
        return -1;
    job_set_result(ctx, "ServerPool", id, p->name);
    return 0;
}

static int
delete_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    AUTOPTR(json_object) json_object *u = NULL;
    struct db_txn *t = job_txn_begin(ctx);
    int rc;

    (void)undo;
    if (!t)
        return -1;
    rc = delete_step(ctx, t, args, &u);
    return finish(ctx, t, rc, u);
}

const struct job_op_type job_op_pool_delete = {
    "pool.delete", delete_run, restore_create, true,
};
