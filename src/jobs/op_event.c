/*
 * op_event.c - the operation "event.acknowledge": set or clear an event's
 * acknowledgement, as a job step with undo.
 *
 * DESIGN: a database-only operation. run() changes the event inside
 * job_txn_begin() and ends with job_txn_commit(), so the change, its feed
 * row and the operation's DONE row (with the undo data {"was": bool})
 * commit together; the stream hears of it only after that commit. undo()
 * puts the previous state back the same way. Both are safe to run again
 * after a restart: they set a state, they do not toggle it. Runs on a job
 * worker thread; no state of its own.
 *
 * Args: {"id": <event id, a number>, "acknowledge": true|false} (the
 * latter optional, default true).
 */
#include "db/db.h"
#include "jobs/jobs_int.h"
#include "util/err.h"
#include "util/str.h"

/* Read the operation's arguments. 0 or -1 with ERR_INVALID. */
static int
event_args(json_object *args, int64_t *id, bool *ack)
{
    int rc;

    *ack = true;
    rc = json_get_int64(args, "id", id);
    if (rc != 0) {
        if (rc > 0)
            err_set(ERR_INVALID, "event.acknowledge needs 'id'");
        return -1;
    }
    if (json_get_bool(args, "acknowledge", ack) < 0)
        return -1;
    return 0;
}

/*
 * Set event @id's acknowledgement to @ack inside the job's transaction and
 * commit it with the operation's DONE row and the undo data {"was": the
 * previous state} -- or, when @undoing, with its UNDONE row. An undo that
 * finds the event purged has nothing left to restore: it still commits,
 * so the operation is recorded UNDONE.
 */
static int
event_set(struct job_ctx *ctx, int64_t id, bool ack, bool undoing)
{
    AUTOPTR(json_object) json_object *undo = NULL;
    struct db_txn *t;
    bool was = false;

    t = job_txn_begin(ctx);
    if (!t)
        return -1;
    if (db_txn_event_acknowledge(t, id, ack, job_user(ctx), time_now_ms(),
                                 &was) < 0) {
        if (!undoing || err_code() != ERR_NOT_FOUND) {
            db_txn_rollback(t);
            return -1;
        }
        err_clear();
    }
    if (!undoing) {
        undo = json_object_new_object();
        json_object_object_add(undo, "was", json_object_new_boolean(was));
    }
    /* job_txn_commit() stores a copy of @undo; ours is put at return. */
    return job_txn_commit(ctx, t, undo);
}

static int
event_ack_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    int64_t id = 0;
    bool ack;

    (void)undo; /* recorded by job_txn_commit() together with the change */
    if (event_args(args, &id, &ack) < 0)
        return -1;
    return event_set(ctx, id, ack, false);
}

static int
event_ack_undo(struct job_ctx *ctx, json_object *args, json_object *undo)
{
    int64_t id = 0;
    bool ack, was;
    int rc;

    if (event_args(args, &id, &ack) < 0)
        return -1;
    rc = json_get_bool(undo, "was", &was);
    if (rc != 0) {
        if (rc > 0)
            err_set(ERR_INVALID, "the undo data of event.acknowledge "
                                 "needs 'was'");
        return -1;
    }
    return event_set(ctx, id, was, true);
}

const struct job_op_type job_op_event_acknowledge = {
    "event.acknowledge", event_ack_run, event_ack_undo, true,
};
