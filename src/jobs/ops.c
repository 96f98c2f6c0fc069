/*
 * ops.c - the operation table, the generic object update, and the
 * diagnostic operations.
 *
 * DESIGN: an operation is data (a name and JSON arguments in job_ops),
 * so the table below is how the engine finds its code, at run time and at
 * recovery. Database-only operations commit their change together with
 * their DONE row (job_txn_commit()), which is what makes them safe to undo
 * after a restart (undo_after_restart).
 *
 * object.update  args {id, type, generation?, name?, description?,
 *                userData? (array)}; undo {name, description, userData,
 *                generation}: the object exactly as it was.
 * diag.sleep     args {ms}: sleeps, waking on abort. Nothing to undo.
 * diag.touch     args {id}: description := "touched by job <id>"; undo as
 *                object.update.
 * diag.fail      args {message}: fails with ERR_STATE.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "db/db.h"
#include "events/events.h"
#include "jobs/jobs_int.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/json.h"
#include "util/str.h"

const struct job_op_type *const job_op_table[] = {
    &job_op_object_update,
    &job_op_diag_sleep,
    &job_op_diag_touch,
    &job_op_diag_fail,
    &job_op_event_acknowledge,
    &job_op_user_create,
    &job_op_user_delete,
    &job_op_user_password,
    &job_op_user_disabled,
    &job_op_server_discover,
    &job_op_server_update,
    &job_op_server_owner,
    &job_op_server_delete,
    &job_op_server_run_state,
    &job_op_server_power,
    &job_op_pool_create,
    &job_op_pool_update,
    &job_op_pool_add_server,
    &job_op_pool_remove_server,
    &job_op_pool_delete,
    NULL,
};

/* String member @key of @o, or NULL. */
static const char *
member_str(json_object *o, const char *key)
{
    json_object *v;

    if (!o || !json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static int64_t
member_int(json_object *o, const char *key, int64_t def)
{
    json_object *v;

    if (!o || !json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_int))
        return def;
    return json_object_get_int64(v);
}

/* Change the common part of object @id inside a job transaction; *undo
 * receives the previous values. */
static int
update_common(struct job_ctx *ctx, const char *id, int64_t generation,
              const char *name, const char *description,
              const char *user_data, const char *event_what,
              json_object **undo)
{
    struct db_txn *t = job_txn_begin(ctx);
    struct db_common cur;
    json_object *u;

    if (!t)
        return -1;
    if (db_txn_object_common(t, id, &cur) < 0) {
        db_txn_rollback(t);
        return -1;
    }
    if (generation >= 0 && generation != cur.generation) {
        err_set(ERR_CONFLICT, "%s '%s' was changed by someone else: the "
                              "request was made from generation %" PRId64
                              " but it is at generation %" PRId64,
                cur.type, cur.name, generation, cur.generation);
        goto fail;
    }
    if (db_txn_object_set_common(t, id, name, description, user_data, -1) < 0)
        goto fail;
    if (events_add(t, SEV_INFORMATIONAL, "object.updated", id, cur.type,
                   name ? name : cur.name, job_id(ctx), job_user(ctx), NULL,
                   "%s '%s' %s", cur.type, name ? name : cur.name,
                   event_what) < 0)
        goto fail;
    u = json_object_new_object();
    json_object_object_add(u, "name", json_object_new_string(cur.name));
    json_object_object_add(u, "description",
                           json_object_new_string(cur.description));
    json_object_object_add(u, "userData",
                           json_object_new_string(cur.user_data));
    json_object_object_add(u, "generation",
                           json_object_new_int64(cur.generation));
    job_set_result(ctx, cur.type, id, name ? name : cur.name);
    db_common_clear(&cur);
    if (job_txn_commit(ctx, t, u) < 0) {
        json_object_put(u);
        return -1;
    }
    json_object_put(u);
    *undo = NULL;   /* recorded with the DONE row already */
    return 0;

 fail:
    db_common_clear(&cur);
    db_txn_rollback(t);
    return -1;
}

/* Put back the values update_common() recorded. */
static int
undo_common(struct job_ctx *ctx, json_object *args, json_object *undo)
{
    const char *id = member_str(args, "id");
    struct db_common cur = { 0 };
    struct db_txn *t;

    if (!id) {
        err_set(ERR_INTERNAL, "undo: no object id");
        return -1;
    }
    t = job_txn_begin(ctx);
    if (!t)
        return -1;
    if (db_txn_object_set_common(t, id, member_str(undo, "name"),
                                 member_str(undo, "description"),
                                 member_str(undo, "userData"),
                                 member_int(undo, "generation", -1)) < 0 ||
        db_txn_object_common(t, id, &cur) < 0 ||
        events_add(t, SEV_INFORMATIONAL, "object.restored", id, cur.type,
                   cur.name, job_id(ctx), job_user(ctx), NULL,
                   "%s '%s' restored: the job's change was undone",
                   cur.type, cur.name) < 0) {
        db_common_clear(&cur);
        db_txn_rollback(t);
        return -1;
    }
    db_common_clear(&cur);
    return job_txn_commit(ctx, t, NULL);
}

static int
update_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    const char *id = member_str(args, "id");
    json_object *ud = NULL;
    const char *ud_text = NULL;

    if (!id) {
        err_set(ERR_INVALID, "object.update: no object id");
        return -1;
    }
    if (json_object_object_get_ex(args, "userData", &ud) && ud)
        ud_text = json_object_to_json_string_ext(ud, JSON_C_TO_STRING_PLAIN);
    return update_common(ctx, id, member_int(args, "generation", -1),
                         member_str(args, "name"),
                         member_str(args, "description"), ud_text, "updated",
                         undo);
}

const struct job_op_type job_op_object_update = {
    "object.update", update_run, undo_common, true,
};

static int
sleep_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    (void)undo;
    if (job_sleep(ctx, member_int(args, "ms", 0)))
        return job_abort_error(ctx);
    return 0;
}

const struct job_op_type job_op_diag_sleep = {
    "diag.sleep", sleep_run, NULL, true,
};

static int
touch_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    const char *id = member_str(args, "id");
    char desc[64];

    if (!id) {
        err_set(ERR_INVALID, "diag.touch: no object id");
        return -1;
    }
    snprintf(desc, sizeof(desc), "touched by job %" PRId64, job_id(ctx));
    return update_common(ctx, id, -1, NULL, desc, NULL, "touched", undo);
}

const struct job_op_type job_op_diag_touch = {
    "diag.touch", touch_run, undo_common, true,
};

static int
fail_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    const char *m = member_str(args, "message");

    (void)ctx;
    (void)undo;
    err_set(ERR_STATE, "injected failure: %s", m ? m : "diag.fail");
    return -1;
}

const struct job_op_type job_op_diag_fail = {
    "diag.fail", fail_run, NULL, true,
};
