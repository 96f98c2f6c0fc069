/*
 * op_user.c - the user changes of the REST API as job operations:
 * "user.create", "user.delete", "user.password" and "user.disabled".
 *
 * DESIGN: all four are database-only. Each step -- run or undo -- opens
 * job_txn_begin(), makes its change with the db_txn_user_*() functions,
 * raises an INFORMATIONAL event on the user and ends with
 * job_txn_commit(), so the change, its event, the sessions it ends and
 * the operation's DONE (or UNDONE) row with its undo data commit
 * together: the change is made or not, never half, and an undo after a
 * restart (undo_after_restart) finds exactly what the DONE row says.
 * Every step looks the user up again inside its transaction, so a user
 * deleted or created since the HTTP handler checked makes the job end
 * FAILURE with ERR_NOT_FOUND or ERR_EXISTS, never a crash. An undo that
 * finds the user gone has nothing left to put back and still commits,
 * so the operation is recorded UNDONE. Steps run on job worker threads
 * and keep no state of their own.
 *
 * Password hashes: the HTTP handler hashes the password (Argon2id,
 * auth/) before submitting, so a plain password never reaches the job
 * tables. The hash does: in job_ops.args ("passwordHash" of user.create
 * and user.password) and in job_ops.undo (the old hash of user.password,
 * the whole user of user.delete). That is as sensitive as users.password
 * _hash and lives in the same database file (mode 0600); the API never
 * renders job arguments or undo data (a transcript shows descriptions,
 * states and messages only), and messages here never include a hash.
 *
 * Operations (arguments -> undo data):
 *   user.create    {name, role, passwordHash, description?} -> {id}:
 *                  the undo deletes that user.
 *   user.delete    {name} -> {id, name, role, passwordHash, description,
 *                  userData, generation, disabled}: the undo re-creates
 *                  the user with the same id and all of that. Its
 *                  sessions are gone for good (they were ended with it),
 *                  as are its log-in counters and creation time.
 *   user.password  {name, passwordHash} -> {passwordHash: the old one}.
 *                  Ends the user's sessions (so does its undo).
 *   user.disabled  {name, disabled} -> {disabled: the old value}.
 *                  Locking ends the user's sessions.
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
 * @what (the operation, or its undo data) when absent or not a string. */
static int
need_str(json_object *o, const char *what, const char *key,
         const char **out)
{
    int rc = json_get_string(o, key, out);

    if (rc > 0)
        err_set(ERR_INVALID, "%s needs '%s'", what, key);
    return rc == 0 ? 0 : -1;
}

/* Boolean member @key of @o, as need_str(). */
static int
need_bool(json_object *o, const char *what, const char *key, bool *out)
{
    int rc = json_get_bool(o, key, out);

    if (rc > 0)
        err_set(ERR_INVALID, "%s needs '%s'", what, key);
    return rc == 0 ? 0 : -1;
}

/*
 * For an undo whose user lookup just failed: 0 (nothing left to put
 * back, the error cleared) when the user is gone, else -1.
 */
static int
undo_gone(struct job_ctx *ctx, const char *what)
{
    if (err_code() != ERR_NOT_FOUND)
        return -1;
    log_info("job %" PRId64 ": nothing to undo for %s: %s", job_id(ctx),
             what, err_message());
    err_clear();
    return 0;
}

/*
 * Refuse a change that would lock the job's own user out (@what: "delete",
 * "lock"). The HTTP handler checks this by id first; this is the same rule
 * at run time, by log-in name.
 */
static int
not_self(struct job_ctx *ctx, const char *name, const char *what)
{
    const char *user = job_user(ctx);

    if (user && strcmp(user, name) == 0) {
        err_set(ERR_STATE, "you cannot %s your own account", what);
        return -1;
    }
    return 0;
}

/* Commit @t with @undo, or roll it back when @rc < 0. Returns 0 or -1. */
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

/* ---- user.create ---- */

static int
create_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
            json_object **undo)
{
    const char *name, *role, *hash, *desc = NULL;
    char *AUTOFREE id = NULL;

    if (need_str(args, "user.create", "name", &name) < 0 ||
        need_str(args, "user.create", "role", &role) < 0 ||
        need_str(args, "user.create", "passwordHash", &hash) < 0 ||
        json_get_string(args, "description", &desc) < 0)
        return -1;
    /* ERR_EXISTS when the name was taken after the handler checked. */
    if (db_txn_user_create(t, NULL, name, role, hash, desc, &id) < 0)
        return -1;
    if (events_add(t, SEV_INFORMATIONAL, "user.created", id, "User", name,
                   job_id(ctx), job_user(ctx), NULL,
                   "User '%s' created with role %s", name, role) < 0)
        return -1;
    job_set_result(ctx, "User", id, name);
    *undo = json_object_new_object();
    json_object_object_add(*undo, "id", json_object_new_string(id));
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
    /* Two statements: @u must be read after the step filled it. */
    rc = create_step(ctx, t, args, &u);
    return finish(ctx, t, rc, u);
}

static int
create_undo_step(struct job_ctx *ctx, struct db_txn *t, json_object *undo)
{
    AUTOPTR(db_user) struct db_user *u = NULL;
    const char *id;

    if (need_str(undo, "the undo data of user.create", "id", &id) < 0)
        return -1;
    u = db_txn_user_get_by_id(t, id);
    if (!u)
        return undo_gone(ctx, "a user creation");
    if (db_txn_user_delete(t, u->name) < 0)
        return -1;
    return events_add(t, SEV_INFORMATIONAL, "user.deleted", u->id, "User",
                      u->name, job_id(ctx), job_user(ctx), NULL,
                      "User '%s' deleted: its creation was undone",
                      u->name);
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

const struct job_op_type job_op_user_create = {
    "user.create", create_run, create_undo, true,
};

/* ---- user.delete ---- */

static int
delete_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
            json_object **undo)
{
    AUTOPTR(db_user) struct db_user *u = NULL;
    struct db_common cur;
    const char *name;
    json_object *o;

    if (need_str(args, "user.delete", "name", &name) < 0 ||
        not_self(ctx, name, "delete") < 0)
        return -1;
    u = db_txn_user_get_by_name(t, name);
    if (!u)
        return -1;
    /* Description, userData and generation, for an exact re-creation. */
    if (db_txn_object_common(t, u->id, &cur) < 0)
        return -1;
    o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(u->id));
    json_object_object_add(o, "name", json_object_new_string(name));
    json_object_object_add(o, "role", json_object_new_string(u->role));
    json_object_object_add(o, "passwordHash",
                           json_object_new_string(u->password_hash));
    json_object_object_add(o, "description",
                           json_object_new_string(cur.description));
    json_object_object_add(o, "userData",
                           json_object_new_string(cur.user_data));
    json_object_object_add(o, "generation",
                           json_object_new_int64(cur.generation));
    json_object_object_add(o, "disabled",
                           json_object_new_boolean(u->disabled));
    db_common_clear(&cur);
    *undo = o;
    /* The users row and the sessions go by ON DELETE CASCADE. */
    if (db_txn_user_delete(t, name) < 0)
        return -1;
    if (events_add(t, SEV_INFORMATIONAL, "user.deleted", u->id, "User", name,
                   job_id(ctx), job_user(ctx), NULL, "User '%s' deleted",
                   name) < 0)
        return -1;
    job_set_result(ctx, "User", u->id, name);
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
    /* Two statements: @u must be read after the step filled it. */
    rc = delete_step(ctx, t, args, &u);
    return finish(ctx, t, rc, u);
}

/*
 * Put the deleted user back: same id, name, role, hash, description,
 * userData, lock and generation. Its sessions are not restored (they
 * were ended with it: whoever used them logs in again), nor its log-in
 * counters or creation time. ERR_EXISTS when the name (or id) was taken
 * since, which leaves the operation UNDO_FAILED.
 */
static int
delete_undo_step(struct job_ctx *ctx, struct db_txn *t, json_object *undo)
{
    const char *what = "the undo data of user.delete";
    const char *id, *name, *role, *hash, *desc = NULL, *ud = NULL;
    int64_t gen = -1;
    bool disabled = false;

    if (need_str(undo, what, "id", &id) < 0 ||
        need_str(undo, what, "name", &name) < 0 ||
        need_str(undo, what, "role", &role) < 0 ||
        need_str(undo, what, "passwordHash", &hash) < 0 ||
        json_get_string(undo, "description", &desc) < 0 ||
        json_get_string(undo, "userData", &ud) < 0 ||
        json_get_int64(undo, "generation", &gen) < 0 ||
        json_get_bool(undo, "disabled", &disabled) < 0)
        return -1;
    if (db_txn_user_create(t, id, name, role, hash, desc, NULL) < 0)
        return -1;
    if (disabled && db_txn_user_set_disabled(t, name, true) < 0)
        return -1;
    /* Last, so the generation is the recorded one, not bumped by the
     * lock above. */
    if (db_txn_object_set_common(t, id, NULL, NULL, ud, gen) < 0)
        return -1;
    return events_add(t, SEV_INFORMATIONAL, "user.created", id, "User", name,
                      job_id(ctx), job_user(ctx), NULL,
                      "User '%s' re-created: its deletion was undone", name);
}

static int
delete_undo(struct job_ctx *ctx, json_object *args, json_object *undo)
{
    struct db_txn *t = job_txn_begin(ctx);

    (void)args;
    if (!t)
        return -1;
    return finish(ctx, t, delete_undo_step(ctx, t, undo), NULL);
}

const struct job_op_type job_op_user_delete = {
    "user.delete", delete_run, delete_undo, true,
};

/* ---- user.password ---- */

/*
 * Set @name's password hash to @hash inside @t and raise the event
 * (@undoing: the undo's wording); *old (may be NULL) receives the
 * previous hash. Ends the user's sessions (db_txn_user_set_password()).
 */
static int
password_set(struct job_ctx *ctx, struct db_txn *t, const char *name,
             const char *hash, char **old, bool undoing)
{
    AUTOPTR(db_user) struct db_user *u = db_txn_user_get_by_name(t, name);

    if (!u)
        return -1;
    if (db_txn_user_set_password(t, name, hash) < 0)
        return -1;
    if (events_add(t, SEV_INFORMATIONAL, "user.password", u->id, "User",
                   name, job_id(ctx), job_user(ctx), NULL,
                   "Password of User '%s' %s", name,
                   undoing ? "put back: the change was undone"
                           : "changed; its sessions ended") < 0)
        return -1;
    job_set_result(ctx, "User", u->id, name);
    if (old)
        *old = steal_ptr(&u->password_hash);
    return 0;
}

static int
password_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    AUTOPTR(json_object) json_object *u = NULL;
    char *AUTOFREE old = NULL;
    const char *name, *hash;
    struct db_txn *t;
    int rc;

    (void)undo;
    if (need_str(args, "user.password", "name", &name) < 0 ||
        need_str(args, "user.password", "passwordHash", &hash) < 0)
        return -1;
    t = job_txn_begin(ctx);
    if (!t)
        return -1;
    rc = password_set(ctx, t, name, hash, &old, false);
    if (rc == 0) {
        u = json_object_new_object();
        json_object_object_add(u, "passwordHash",
                               json_object_new_string(old));
    }
    return finish(ctx, t, rc, u);
}

static int
password_undo(struct job_ctx *ctx, json_object *args, json_object *undo)
{
    const char *name, *hash;
    struct db_txn *t;
    int rc;

    if (need_str(args, "user.password", "name", &name) < 0 ||
        need_str(undo, "the undo data of user.password", "passwordHash",
                 &hash) < 0)
        return -1;
    t = job_txn_begin(ctx);
    if (!t)
        return -1;
    rc = password_set(ctx, t, name, hash, NULL, true);
    if (rc < 0)
        rc = undo_gone(ctx, "a password change");
    return finish(ctx, t, rc, NULL);
}

const struct job_op_type job_op_user_password = {
    "user.password", password_run, password_undo, true,
};

/* ---- user.disabled ---- */

/* Lock (@disabled) or unlock @name inside @t and raise the event; *was
 * (may be NULL) receives the previous state. */
static int
disabled_set(struct job_ctx *ctx, struct db_txn *t, const char *name,
             bool disabled, bool *was, const char *why)
{
    AUTOPTR(db_user) struct db_user *u = db_txn_user_get_by_name(t, name);

    if (!u)
        return -1;
    if (db_txn_user_set_disabled(t, name, disabled) < 0)
        return -1;
    if (events_add(t, SEV_INFORMATIONAL,
                   disabled ? "user.locked" : "user.unlocked", u->id, "User",
                   name, job_id(ctx), job_user(ctx), NULL, "User '%s' %s%s",
                   name, disabled ? "locked; its sessions ended" : "unlocked",
                   why) < 0)
        return -1;
    job_set_result(ctx, "User", u->id, name);
    if (was)
        *was = u->disabled;
    return 0;
}

static int
disabled_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    AUTOPTR(json_object) json_object *u = NULL;
    const char *name;
    bool disabled, was = false;
    struct db_txn *t;
    int rc;

    (void)undo;
    if (need_str(args, "user.disabled", "name", &name) < 0 ||
        need_bool(args, "user.disabled", "disabled", &disabled) < 0)
        return -1;
    if (disabled && not_self(ctx, name, "lock") < 0)
        return -1;
    t = job_txn_begin(ctx);
    if (!t)
        return -1;
    rc = disabled_set(ctx, t, name, disabled, &was, "");
    if (rc == 0) {
        u = json_object_new_object();
        json_object_object_add(u, "disabled", json_object_new_boolean(was));
    }
    return finish(ctx, t, rc, u);
}

static int
disabled_undo(struct job_ctx *ctx, json_object *args, json_object *undo)
{
    const char *name;
    bool was;
    struct db_txn *t;
    int rc;

    if (need_str(args, "user.disabled", "name", &name) < 0 ||
        need_bool(undo, "the undo data of user.disabled", "disabled",
                  &was) < 0)
        return -1;
    t = job_txn_begin(ctx);
    if (!t)
        return -1;
    rc = disabled_set(ctx, t, name, was, NULL, ": the change was undone");
    if (rc < 0)
        rc = undo_gone(ctx, "a lock change");
    return finish(ctx, t, rc, NULL);
}

const struct job_op_type job_op_user_disabled = {
    "user.disabled", disabled_run, disabled_undo, true,
};
