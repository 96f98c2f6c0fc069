/*
 * engine.c - the job engine: submission, scheduling, workers, operations
 * with undo, abort, parents and children, recovery, retention.
 *
 * DESIGN: see jobs.h. In memory the engine keeps one `struct ejob` per
 * job that is not done, in `g.jobs`, and the lock table (locks.c); both
 * are rebuilt from the database at start. One mutex (g.mu) protects them
 * and is never held across I/O: a worker takes a grantable job under the
 * mutex, drops it, writes and runs, and takes it again to finish.
 *
 * States: a leaf job is CREATED while queued (its lock request is in the
 * table), RUNNING from the moment a worker took it (locks granted, both
 * committed in one transaction), then SUCCESS/FAILURE/ABORTED. A parent
 * never runs on a worker: it is CHILD_QUEUED until a child runs,
 * CHILD_RUNNING while one does, and finishes when its last child did
 * (parent_advance()).
 *
 * Every job, operation and state write is a DB_SYNC_FULL transaction
 * committed before the engine acts on it; the op's own database change
 * commits with its DONE row (job_txn_commit()).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db/db.h"
#include "events/events.h"
#include "jobs/jobs.h"
#include "jobs/jobs_int.h"
#include "jobs/locks.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/log.h"
#include "util/str.h"

#define MAX_WORKERS 256
#define MAX_DEPTH 3
#define MAX_OPS 1000
#define MAX_CHILDREN 10000
#define MAX_OBJECTS 1000
#define PURGE_PERIOD_MS (3600 * 1000)
LOG_MODULE("jobs");

#define RESTART_MESSAGE "manager restarted before the job finished"

/* One job that is not done. */
struct ejob {
    int64_t id;
    int64_t parent;          /* 0: top level */
    bool priority;
    bool is_parent;
    bool parallel;           /* parent: children at once */
    bool queued;             /* leaf: its lock request is in the table */
    bool running;            /* leaf: a worker has it */
    bool abort;              /* abort requested */
    char *aborted_by;
    char *user;
    int64_t deadline_ms;     /* leaf waiting: lock timeout (monotonic) */
    char **obj_ids;          /* leaf: the objects it declared (owned) */
    bool *obj_excl;          /* and their modes */
    size_t nobjs;
    /* parent: */
    int64_t *children;       /* in child_seq order */
    size_t nchildren;
    size_t next_child;       /* serial: next to queue */
    size_t children_done;
    bool child_failed;       /* a child ended FAILURE */
    bool child_aborted;      /* a child ended ABORTED */
    bool child_started;      /* CHILD_RUNNING was written */
    struct ejob *next;       /* g.jobs list */
};

/* What an operation sees (jobs.h). */
struct job_ctx {
    struct ejob *ej;
    struct db_job *row;      /* the job's row; the worker's copy */
    int64_t seq;             /* operation being run or undone */
    bool undoing;
    bool committed;          /* run()/undo() used job_txn_commit() */
    char *undo_text;         /* the undo data job_txn_commit() recorded */
};

static struct {
    struct jobs_conf conf;
    pthread_mutex_t mu;
    pthread_cond_t work;     /* a job may be grantable, or stopping */
    pthread_cond_t wake;     /* aborts and the scheduler's timers */
    struct ejob *jobs;       /* protected by mu */
    struct lock_table *locks;/* protected by mu */
    bool started;
    bool stopping;           /* protected by mu */
    int running;             /* leaf jobs on workers; protected by mu */
    pthread_t threads[MAX_WORKERS + 16];
    int nthreads;
    pthread_t sched;
    bool sched_started;
} g = {
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .work = PTHREAD_COND_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
};

/* ---- small helpers ---- */

static struct ejob *
ejob_find(int64_t id)
{
    struct ejob *e;

    for (e = g.jobs; e; e = e->next) {
        if (e->id == id)
            return e;
    }
    return NULL;
}

static void
ejob_unlink(struct ejob *ej)
{
    struct ejob **p;

    for (p = &g.jobs; *p; p = &(*p)->next) {
        if (*p == ej) {
            *p = ej->next;
            return;
        }
    }
}

static void
ejob_free(struct ejob *ej)
{
    size_t i;

    if (!ej)
        return;
    for (i = 0; i < ej->nobjs; i++)
        xfree(ej->obj_ids[i]);
    xfree(ej->obj_ids);
    xfree(ej->obj_excl);
    xfree(ej->aborted_by);
    xfree(ej->user);
    xfree(ej->children);
    xfree(ej);
}

/* Remember @n declared objects of @ej (copied). */
static void
ejob_add_object(struct ejob *ej, const char *id, bool exclusive)
{
    ej->obj_ids = xrealloc(ej->obj_ids, (ej->nobjs + 1) * sizeof(char *));
    ej->obj_excl = xrealloc(ej->obj_excl, (ej->nobjs + 1) * sizeof(bool));
    ej->obj_ids[ej->nobjs] = xstrdup(id);
    ej->obj_excl[ej->nobjs] = exclusive;
    ej->nobjs++;
}

static int64_t
lock_timeout_deadline(void)
{
    return time_mono_ms() + g.conf.lock_timeout_ms;
}

/* ---- the operation table ---- */

const struct job_op_type *
job_op_find(const char *name)
{
    /* jobs_int.h: the main table, then each module's own. */
    const struct job_op_type *const *const tables[] = {
        job_op_table, job_ops_storage, job_ops_vdisk, job_ops_net,
        job_ops_netport, job_ops_vnic,
    };
    size_t i, k;

    for (k = 0; name && k < sizeof(tables) / sizeof(tables[0]); k++) {
        for (i = 0; tables[k][i]; i++) {
            if (strcmp(tables[k][i]->name, name) == 0)
                return tables[k][i];
        }
    }
    return NULL;
}

/* ---- what operations see ---- */

struct db *
job_db(struct job_ctx *ctx)
{
    (void)ctx;
    return g.conf.db;
}

int64_t
job_id(const struct job_ctx *ctx)
{
    return ctx->row->id;
}

const char *
job_user(const struct job_ctx *ctx)
{
    return ctx->row->user;
}

bool
job_aborting(struct job_ctx *ctx)
{
    bool a;

    pthread_mutex_lock(&g.mu);
    a = ctx->ej->abort;
    pthread_mutex_unlock(&g.mu);
    return a;
}

int
job_abort_error(struct job_ctx *ctx)
{
    const char *by;

    pthread_mutex_lock(&g.mu);
    by = ctx->ej->aborted_by ? ctx->ej->aborted_by : "the Manager";
    err_set(ERR_ABORTED, "aborted by %s", by);
    pthread_mutex_unlock(&g.mu);
    return -1;
}

bool
job_sleep(struct job_ctx *ctx, int64_t ms)
{
    struct timespec ts;
    int64_t until = time_now_ms() + ms;
    bool aborted;

    pthread_mutex_lock(&g.mu);
    while (!(aborted = ctx->ej->abort)) {
        int64_t now = time_now_ms();

        if (now >= until)
            break;
        ts.tv_sec = until / 1000;
        ts.tv_nsec = (until % 1000) * 1000000;
        pthread_cond_timedwait(&g.wake, &g.mu, &ts);
    }
    pthread_mutex_unlock(&g.mu);
    return aborted;
}

void
job_progress(struct job_ctx *ctx, const char *fmt, ...)
{
    struct db_txn *t;
    va_list ap;

    va_start(ap, fmt);
    xfree(ctx->row->progress_message);
    ctx->row->progress_message = xvasprintf(fmt, ap);
    va_end(ap);
    t = db_txn_begin(g.conf.db, DB_SYNC_NORMAL);
    if (!t || db_txn_job_update(t, ctx->row) < 0 || db_txn_commit(t) < 0) {
        log_warnx("job %" PRId64 ": cannot record progress: %s",
                 ctx->row->id, err_message());
        db_txn_rollback(t);
    }
}

void
job_set_result(struct job_ctx *ctx, const char *type, const char *id,
               const char *name)
{
    xfree(ctx->row->result_type);
    xfree(ctx->row->result_id);
    xfree(ctx->row->result_name);
    ctx->row->result_type = type ? xstrdup(type) : NULL;
    ctx->row->result_id = id ? xstrdup(id) : NULL;
    ctx->row->result_name = name ? xstrdup(name) : NULL;
}

struct db_txn *
job_txn_begin(struct job_ctx *ctx)
{
    (void)ctx;
    return db_txn_begin(g.conf.db, DB_SYNC_FULL);
}

int
job_txn_commit(struct job_ctx *ctx, struct db_txn *t, json_object *undo)
{
    int64_t now = time_now_ms();
    int rc;

    if (ctx->undoing)
        rc = db_txn_job_op_update(t, ctx->row->id, ctx->seq, "UNDONE", NULL,
                                  NULL, 0, 0, now);
    else
        rc = db_txn_job_op_update(t, ctx->row->id, ctx->seq, "DONE",
                                  undo ? json_object_to_json_string_ext(
                                             undo, JSON_C_TO_STRING_PLAIN)
                                       : NULL,
                                  NULL, 0, now, 0);
    if (rc < 0) {
        db_txn_rollback(t);
        return -1;
    }
    if (db_txn_commit(t) < 0)
        return -1;
    ctx->committed = true;
    if (!ctx->undoing && undo) {
        xfree(ctx->undo_text);
        ctx->undo_text = xstrdup(json_object_to_json_string_ext(
            undo, JSON_C_TO_STRING_PLAIN));
    }
    return 0;
}

/* ---- writing job state ---- */

/* Write @row (already changed by the caller) in its own transaction. */
static int
write_row(struct db_job *row)
{
    struct db_txn *t = db_txn_begin(g.conf.db, DB_SYNC_FULL);

    if (!t)
        return -1;
    if (db_txn_job_update(t, row) < 0) {
        db_txn_rollback(t);
        return -1;
    }
    return db_txn_commit(t);
}

/* One operation's row; logs instead of failing (the job goes on). */
static void
write_op(int64_t job, int64_t seq, const char *state, const char *undo,
         const char *message, int64_t start, int64_t end, int64_t undo_ms)
{
    struct db_txn *t = db_txn_begin(g.conf.db, DB_SYNC_FULL);

    if (!t || db_txn_job_op_update(t, job, seq, state, undo, message, start,
                                   end, undo_ms) < 0 ||
        db_txn_commit(t) < 0) {
        log_errorx("job %" PRId64 ": cannot record operation %" PRId64
                  " %s: %s", job, seq, state, err_message());
        db_txn_rollback(t);
    }
}

/* Events for a job that did not succeed, one per declared object, inside
 * @t. */
static int
failure_events(struct db_txn *t, const struct db_job *row)
{
    struct db_job_object *objs = NULL;
    size_t n = 0, i;
    int sev = row->run_state == JOB_ABORTED ? SEV_INFORMATIONAL : SEV_WARNING;
    const char *what = row->run_state == JOB_ABORTED ? "aborted" : "failed";

    if (db_job_objects(g.conf.db, row->id, &objs, &n) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        if (events_add(t, sev, row->run_state == JOB_ABORTED ? "job.aborted"
                                                              : "job.failure",
                       objs[i].object_id, objs[i].object_type,
                       objs[i].object_name, row->id, row->user,
                       row->error_message, "Job '%s' %s: %s", row->name, what,
                       row->error_message ? row->error_message : "") < 0) {
            db_job_objects_free(objs, n);
            return -1;
        }
    }
    db_job_objects_free(objs, n);
    return 0;
}

/*
 * Write the final state of @row (run_state, error, ... set by the caller):
 * done, end time, locks released, events, in one transaction. Retries a
 * failing commit a few times: a job must not stay RUNNING in the
 * database while the engine forgot it.
 */
static void
write_final(struct db_job *row)
{
    int attempt;

    row->done = true;
    row->summary_done = true;
    if (!row->end_ms)
        row->end_ms = time_now_ms();
    if (row->run_state != JOB_CHILD_QUEUED &&
        row->run_state != JOB_CHILD_RUNNING)
        row->summary_state = row->run_state;
    for (attempt = 0; attempt < 5; attempt++) {
        struct db_txn *t = db_txn_begin(g.conf.db, DB_SYNC_FULL);

        if (t && db_txn_job_update(t, row) == 0 &&
            db_txn_job_release(t, row->id) == 0 &&
            (row->run_state == JOB_SUCCESS || failure_events(t, row) == 0) &&
            db_txn_commit(t) == 0)
            return;
        db_txn_rollback(t);
        log_errorx("job %" PRId64 ": cannot record its end (%s): %s", row->id,
                  db_job_state_str(row->run_state), err_message());
        usleep(100 * 1000);
    }
}

static void
set_error(struct db_job *row, const char *type, const char *message)
{
    xfree(row->error_type);
    xfree(row->error_message);
    row->error_type = type ? xstrdup(type) : NULL;
    row->error_message = message ? xstrdup(message) : NULL;
}

/* ---- parents ---- */

static void queue_leaf(struct ejob *ej);
static void finish_parent(struct ejob *p);
static void end_queued_ex(struct ejob *ej, enum db_job_state state,
                          const char *type, const char *message,
                          bool advance);

/*
 * Called under g.mu when child @child of @p finished with @state, or with
 * @child NULL to start @p: queue what comes next, finish @p when all its
 * children are done. May drop and retake g.mu (it writes).
 */
static void
parent_advance(struct ejob *p, struct ejob *child, enum db_job_state state)
{
    if (child) {
        p->children_done++;
        if (state == JOB_FAILURE)
            p->child_failed = true;
        if (state == JOB_ABORTED)
            p->child_aborted = true;
    }
    if (p->children_done == p->nchildren) {
        finish_parent(p);
        return;
    }
    if (p->parallel) {
        if (!child) {
            size_t i;

            for (i = 0; i < p->nchildren; i++) {
                struct ejob *c = ejob_find(p->children[i]);

                if (!c || c->queued || c->running)
                    continue;
                if (p->abort && !c->abort) {
                    c->abort = true;
                    c->aborted_by = xstrdup(p->aborted_by ? p->aborted_by
                                                          : "@ovmm");
                }
                if (c->abort && !c->is_parent) {
                    /* An aborted parent starts none of its children. */
                    end_queued_ex(c, JOB_ABORTED, "ABORTED",
                                  "not run: the parent job was aborted",
                                  false);
                    p->children_done++;
                    p->child_aborted = true;
                    if (p->children_done == p->nchildren) {
                        finish_parent(p);
                        return;
                    }
                    continue;
                }
                queue_leaf(c);
            }
        }
        return;
    }
    /* Serial: after a failure or abort the rest end ABORTED. */
    while (p->next_child < p->nchildren) {
        struct ejob *c = ejob_find(p->children[p->next_child]);

        if (!c) {   /* already done (recovery) */
            p->next_child++;
            continue;
        }
        if (c->queued || c->running)
            return;
        if (p->child_failed || p->child_aborted || p->abort) {
            if (!c->abort) {
                c->abort = true;
                c->aborted_by = xstrdup(p->aborted_by ? p->aborted_by
                                                      : "@ovmm");
            }
            if (!c->is_parent) {
                /* End it here, without recursion: a parent may have
                 * thousands of children left. */
                p->next_child++;
                end_queued_ex(c, JOB_ABORTED, "ABORTED",
                              "not run: an earlier child job failed or the "
                              "job was aborted", false);
                p->children_done++;
                p->child_aborted = true;
                if (p->children_done == p->nchildren) {
                    finish_parent(p);
                    return;
                }
                continue;
            }
        }
        p->next_child++;
        queue_leaf(c);
        return;
    }
}

static void
finish_parent(struct ejob *p)
{
    AUTOPTR(db_job) struct db_job *row = NULL;
    struct ejob *gp;

    ejob_unlink(p);
    pthread_mutex_unlock(&g.mu);
    row = db_job_get(g.conf.db, p->id);
    if (row) {
        if (p->abort && (p->child_aborted || p->child_failed)) {
            /* Aborted while children still had work: ABORTED. An abort
             * that came after every child succeeded changed nothing. */
            row->run_state = JOB_ABORTED;
            xfree(row->aborted_by);
            row->aborted_by = xstrdup(p->aborted_by ? p->aborted_by : "");
            set_error(row, "ABORTED", "aborted");
        } else if (p->child_failed || p->child_aborted) {
            row->run_state = JOB_FAILURE;
            set_error(row, "CHILD_FAILED",
                      p->child_failed ? "a child job failed"
                                      : "a child job was aborted");
        } else {
            row->run_state = JOB_SUCCESS;
        }
        write_final(row);
    } else {
        log_errorx("parent job %" PRId64 ": %s", p->id, err_message());
    }
    pthread_mutex_lock(&g.mu);
    gp = p->parent ? ejob_find(p->parent) : NULL;
    if (gp)
        parent_advance(gp, p, row ? row->run_state : JOB_FAILURE);
    ejob_free(p);
    pthread_cond_broadcast(&g.work);
}

/* The parent of @ej saw its first child start: CHILD_RUNNING. */
static void
parent_started(struct ejob *ej)
{
    struct ejob *p = ej->parent ? ejob_find(ej->parent) : NULL;
    AUTOPTR(db_job) struct db_job *row = NULL;
    int64_t id;

    if (!p || p->child_started)
        return;
    p->child_started = true;
    id = p->id;
    pthread_mutex_unlock(&g.mu);
    row = db_job_get(g.conf.db, id);
    if (row && !row->done) {
        row->run_state = JOB_CHILD_RUNNING;
        row->summary_state = JOB_CHILD_RUNNING;
        if (!row->start_ms)
            row->start_ms = time_now_ms();
        if (write_row(row) < 0)
            log_errorx("job %" PRId64 ": %s", id, err_message());
    }
    pthread_mutex_lock(&g.mu);
    /* The grandparent too. */
    p = ejob_find(id);
    if (p)
        parent_started(p);
}

/* ---- leaves ---- */

/* Put @ej's lock request in the table (under g.mu). */
static void
queue_leaf(struct ejob *ej)
{
    struct lock_obj *lo;
    size_t i;

    if (ej->is_parent) {
        parent_advance(ej, NULL, JOB_CREATED);
        return;
    }
    lo = xcalloc(ej->nobjs ? ej->nobjs : 1, sizeof(*lo));
    for (i = 0; i < ej->nobjs; i++) {
        lo[i].id = ej->obj_ids[i];
        lo[i].exclusive = ej->obj_excl[i];
    }
    locks_add(g.locks, ej->id, ej->priority, lo, ej->nobjs);
    xfree(lo);
    ej->queued = true;
    ej->deadline_ms = lock_timeout_deadline();
    pthread_cond_broadcast(&g.work);
    pthread_cond_broadcast(&g.wake);
}

/*
 * Undo the DONE operations of @ops before index @upto in reverse.
 * @restart: at start-up, only operations that allow it.
 */
static void
undo_ops(struct job_ctx *ctx, struct db_job_op *ops, size_t upto,
         bool restart)
{
    size_t k;

    ctx->undoing = true;
    for (k = upto; k-- > 0;) {
        const struct job_op_type *ot = job_op_find(ops[k].op);
        json_object *args = NULL, *undo = NULL;
        int rc;

        if (strcmp(ops[k].state, "DONE") != 0 || !ops[k].undo)
            continue;
        if (!ot || (restart && !ot->undo_after_restart) || !ot->undo) {
            write_op(ctx->row->id, ops[k].seq, NULL, NULL,
                     "not undone: the operation cannot be undone here", 0, 0,
                     0);
            continue;
        }
        args = json_tokener_parse(ops[k].args ? ops[k].args : "{}");
        undo = json_tokener_parse(ops[k].undo);
        ctx->seq = ops[k].seq;
        ctx->committed = false;
        err_clear();
        rc = ot->undo(ctx, args, undo);
        if (rc < 0)
            write_op(ctx->row->id, ops[k].seq, "UNDO_FAILED", NULL,
                     err_message(), 0, 0, time_now_ms());
        else if (!ctx->committed)
            write_op(ctx->row->id, ops[k].seq, "UNDONE", NULL, NULL, 0, 0,
                     time_now_ms());
        json_object_put(args);
        json_object_put(undo);
    }
    ctx->undoing = false;
}

/* Run leaf job @ej on this worker: g.mu is NOT held. Returns the final
 * state written. */
static enum db_job_state
run_leaf(struct ejob *ej)
{
    struct job_ctx ctx = { .ej = ej };
    AUTOPTR(db_job) struct db_job *row = NULL;
    struct db_job_op *ops = NULL;
    size_t nops = 0, k;
    struct db_txn *t;
    bool failed = false, aborted = false, op_failed = false;
    enum db_job_state final;

    row = db_job_get(g.conf.db, ej->id);
    if (!row) {
        log_errorx("job %" PRId64 " vanished: %s", ej->id, err_message());
        return JOB_FAILURE;
    }
    ctx.row = row;
    /* Locks and RUNNING, together. */
    row->run_state = JOB_RUNNING;
    row->summary_state = JOB_RUNNING;
    row->start_ms = time_now_ms();
    t = db_txn_begin(g.conf.db, DB_SYNC_FULL);
    if (!t || db_txn_job_grant(t, row->id) < 0 ||
        db_txn_job_update(t, row) < 0 || db_txn_commit(t) < 0) {
        db_txn_rollback(t);
        row->run_state = JOB_FAILURE;
        set_error(row, err_code_str(err_code()), err_message());
        write_final(row);
        return JOB_FAILURE;
    }
    if (db_job_ops(g.conf.db, row->id, &ops, &nops) < 0) {
        row->run_state = JOB_FAILURE;
        set_error(row, err_code_str(err_code()), err_message());
        write_final(row);
        return JOB_FAILURE;
    }
    for (k = 0; k < nops; k++) {
        const struct job_op_type *ot = job_op_find(ops[k].op);
        json_object *args = NULL, *undo = NULL;
        int64_t start;
        int rc;

        if (job_aborting(&ctx)) {
            aborted = true;
            break;
        }
        start = time_now_ms();
        write_op(row->id, ops[k].seq, "RUNNING", NULL, NULL, start, 0, 0);
        ctx.seq = ops[k].seq;
        ctx.committed = false;
        err_clear();
        if (!ot) {
            err_set(ERR_INTERNAL, "unknown operation '%s'", ops[k].op);
            rc = -1;
        } else {
            args = json_tokener_parse(ops[k].args ? ops[k].args : "{}");
            rc = ot->run(&ctx, args, &undo);
        }
        if (rc < 0) {
            enum err_code code = err_code() ? err_code() : ERR_INTERNAL;
            const char *msg = err_message()[0] ? err_message()
                                               : "operation failed";

            write_op(row->id, ops[k].seq, "FAILED", NULL, msg, 0,
                     time_now_ms(), 0);
            op_failed = true;
            if (code == ERR_ABORTED) {
                aborted = true;
            } else {
                failed = true;
                set_error(row, err_code_str(code), msg);
            }
            json_object_put(args);
            json_object_put(undo);
            break;
        }
        if (!ctx.committed)
            write_op(row->id, ops[k].seq, "DONE",
                     undo ? json_object_to_json_string_ext(
                                undo, JSON_C_TO_STRING_PLAIN) : NULL,
                     NULL, 0, time_now_ms(), 0);
        /* Keep our copy in step for the undo pass. */
        xfree(ops[k].state);
        ops[k].state = xstrdup("DONE");
        if (ctx.committed && ctx.undo_text) {
            xfree(ops[k].undo);
            ops[k].undo = ctx.undo_text;
            ctx.undo_text = NULL;
        } else if (undo) {
            xfree(ops[k].undo);
            ops[k].undo = xstrdup(json_object_to_json_string_ext(
                undo, JSON_C_TO_STRING_PLAIN));
        }
        json_object_put(args);
        json_object_put(undo);
    }
    if (!failed && !aborted && job_aborting(&ctx))
        aborted = k < nops; /* aborted after the last op: it succeeded */
    if (failed || aborted) {
        undo_ops(&ctx, ops, k, false);
        if (op_failed)
            k++;    /* recorded FAILED already */
        for (; k < nops; k++) {
            if (strcmp(ops[k].state, "PENDING") == 0)
                write_op(row->id, ops[k].seq, "SKIPPED", NULL, NULL, 0, 0, 0);
        }
    }
    db_job_ops_free(ops, nops);
    xfree(ctx.undo_text);
    if (aborted) {
        row->run_state = JOB_ABORTED;
        pthread_mutex_lock(&g.mu);
        xfree(row->aborted_by);
        row->aborted_by = xstrdup(ej->aborted_by ? ej->aborted_by : "");
        pthread_mutex_unlock(&g.mu);
        if (!row->error_message) {
            char *m = xasprintf("aborted by %s", row->aborted_by);

            set_error(row, "ABORTED", m);
            xfree(m);
        }
    } else if (failed) {
        row->run_state = JOB_FAILURE;
    } else {
        row->run_state = JOB_SUCCESS;
    }
    final = row->run_state;
    write_final(row);
    return final;
}

/* End a queued (never run) leaf job @ej with @state and @message, under
 * g.mu (dropped for the write). Removes it from the engine. */
static void
end_queued_ex(struct ejob *ej, enum db_job_state state, const char *type,
              const char *message, bool advance)
{
    AUTOPTR(db_job) struct db_job *row = NULL;
    struct db_job_op *ops = NULL;
    size_t nops = 0, k;
    struct ejob *p;
    int64_t id = ej->id;

    locks_remove(g.locks, ej->id);
    ej->queued = false;
    ejob_unlink(ej);
    pthread_mutex_unlock(&g.mu);
    row = db_job_get(g.conf.db, id);
    if (row) {
        row->run_state = state;
        if (state == JOB_ABORTED) {
            xfree(row->aborted_by);
            row->aborted_by = xstrdup(ej->aborted_by ? ej->aborted_by : "");
        }
        set_error(row, type, message);
        if (db_job_ops(g.conf.db, id, &ops, &nops) == 0) {
            for (k = 0; k < nops; k++)
                write_op(id, ops[k].seq, "SKIPPED", NULL, NULL, 0, 0, 0);
            db_job_ops_free(ops, nops);
        }
        write_final(row);
    }
    pthread_mutex_lock(&g.mu);
    p = advance && ej->parent ? ejob_find(ej->parent) : NULL;
    if (p)
        parent_advance(p, ej, state);
    ejob_free(ej);
    pthread_cond_broadcast(&g.work);
}

static void
end_queued(struct ejob *ej, enum db_job_state state, const char *type,
           const char *message)
{
    end_queued_ex(ej, state, type, message, true);
}

/* ---- workers ---- */

struct lane {
    bool priority;
};

static bool
lane_accepts(void *cls, int64_t job)
{
    const struct lane *l = cls;
    struct ejob *ej = ejob_find(job);

    if (!ej)
        return false;
    return l->priority ? ej->priority : true;
}

static void *
worker_main(void *arg)
{
    struct lane *lane = arg;

    pthread_mutex_lock(&g.mu);
    while (!g.stopping) {
        int64_t id = locks_grant_next(g.locks, lane_accepts, lane);
        struct ejob *ej, *p;
        enum db_job_state st;

        if (!id) {
            pthread_cond_wait(&g.work, &g.mu);
            continue;
        }
        ej = ejob_find(id);
        if (NEVER(!ej)) {
            locks_remove(g.locks, id);
            continue;
        }
        if (ej->abort) {    /* aborted while queued behind others */
            end_queued(ej, JOB_ABORTED, "ABORTED", "aborted before it ran");
            continue;
        }
        ej->queued = false;
        ej->running = true;
        g.running++;
        parent_started(ej);
        pthread_mutex_unlock(&g.mu);
        st = run_leaf(ej);
        pthread_mutex_lock(&g.mu);
        g.running--;
        locks_remove(g.locks, ej->id);
        ejob_unlink(ej);
        p = ej->parent ? ejob_find(ej->parent) : NULL;
        if (p)
            parent_advance(p, ej, st);
        ejob_free(ej);
        pthread_cond_broadcast(&g.work);
        pthread_cond_broadcast(&g.wake);
    }
    pthread_mutex_unlock(&g.mu);
    return NULL;
}

/* The scheduler: lock timeouts and retention. */
static void *
sched_main(void *arg)
{
    int64_t next_purge = 0;

    (void)arg;
    pthread_mutex_lock(&g.mu);
    while (!g.stopping) {
        int64_t now = time_mono_ms(), next = now + 1000;
        struct ejob *ej;
        struct timespec ts;

        if (now >= next_purge) {
            pthread_mutex_unlock(&g.mu);
            jobs_purge();
            pthread_mutex_lock(&g.mu);
            next_purge = time_mono_ms() + PURGE_PERIOD_MS;
            continue;
        }
        for (ej = g.jobs; ej; ej = ej->next) {
            if (!ej->queued || ej->running)
                continue;
            if (now < ej->deadline_ms) {
                if (ej->deadline_ms < next)
                    next = ej->deadline_ms;
                continue;
            }
            if (locks_grantable(g.locks, ej->id)) {
                /* Only waiting for a worker: not a lock timeout. */
                ej->deadline_ms = now + 1000;
                continue;
            }
            {
                const char *obj = NULL;
                int64_t holder = locks_blocker(g.locks, ej->id, &obj);
                char *msg;

                if (holder)
                    msg = xasprintf("timed out after %" PRId64 " s waiting "
                                    "for object '%s' held by job %" PRId64,
                                    g.conf.lock_timeout_ms / 1000, obj,
                                    holder);
                else
                    msg = xasprintf("timed out after %" PRId64 " s waiting "
                                    "behind earlier jobs for its objects",
                                    g.conf.lock_timeout_ms / 1000);
                log_info("job %" PRId64 ": %s", ej->id, msg);
                end_queued(ej, JOB_FAILURE, "TIMEOUT", msg);
                xfree(msg);
            }
            break;  /* the list changed: scan again */
        }
        if (ej)
            continue;
        ts.tv_sec = 0;
        ts.tv_nsec = 0;
        {
            /* Convert the monotonic deadline into a CLOCK_REALTIME one. */
            int64_t wait_ms = next - time_mono_ms();
            int64_t until = time_now_ms() + (wait_ms > 0 ? wait_ms : 0);

            ts.tv_sec = until / 1000;
            ts.tv_nsec = (until % 1000) * 1000000;
        }
        pthread_cond_timedwait(&g.wake, &g.mu, &ts);
    }
    pthread_mutex_unlock(&g.mu);
    return NULL;
}

/* ---- public API ---- */

int
jobs_init(const struct jobs_conf *conf)
{
    if (!conf->db || conf->workers < 1 || conf->workers > MAX_WORKERS ||
        conf->priority_workers < 1 || conf->priority_workers > 16) {
        err_set(ERR_CONFIG, "job engine: bad configuration (workers %d, "
                            "priority workers %d)", conf->workers,
                conf->priority_workers);
        return -1;
    }
    g.conf = *conf;
    g.locks = locks_new();
    g.stopping = false;
    return 0;
}

/* Recover one job left RUNNING: undo what is safe, FAILURE. */
static void
recover_running(int64_t id)
{
    AUTOPTR(db_job) struct db_job *row = db_job_get(g.conf.db, id);
    struct ejob ej = { .id = id };
    struct job_ctx ctx = { .ej = &ej };
    struct db_job_op *ops = NULL;
    size_t nops = 0, k;

    if (!row)
        return;
    ctx.row = row;
    if (db_job_ops(g.conf.db, id, &ops, &nops) == 0) {
        for (k = 0; k < nops; k++) {
            const struct job_op_type *ot = job_op_find(ops[k].op);

            if (strcmp(ops[k].state, "RUNNING") == 0) {
                /* A database-only operation commits with its DONE row:
                 * RUNNING means it never happened. Others may have. */
                bool db_only = ot && ot->undo_after_restart;

                write_op(id, ops[k].seq, db_only ? "FAILED" : "UNKNOWN",
                         NULL, RESTART_MESSAGE, 0, time_now_ms(), 0);
            } else if (strcmp(ops[k].state, "PENDING") == 0) {
                write_op(id, ops[k].seq, "SKIPPED", NULL, NULL, 0, 0, 0);
            }
        }
        undo_ops(&ctx, ops, nops, true);
        db_job_ops_free(ops, nops);
    }
    row->run_state = JOB_FAILURE;
    set_error(row, "RESTARTED", RESTART_MESSAGE);
    write_final(row);
    log_warnx("job %" PRId64 " '%s': %s", id, row->name, RESTART_MESSAGE);
}

int
jobs_recover(void)
{
    struct db_txn *t;
    int64_t *ids = NULL;
    size_t n = 0, i;

    t = db_txn_begin(g.conf.db, DB_SYNC_FULL);
    if (!t)
        return -1;
    if (db_txn_job_ids_in_state(t, JOB_RUNNING, &ids, &n) < 0) {
        db_txn_rollback(t);
        return -1;
    }
    db_txn_rollback(t);
    for (i = 0; i < n; i++)
        recover_running(ids[i]);
    xfree(ids);
    t = db_txn_begin(g.conf.db, DB_SYNC_FULL);
    if (!t || db_txn_locks_reset(t) < 0 || db_txn_commit(t) < 0) {
        db_txn_rollback(t);
        return -1;
    }
    if (n)
        log_info("recovery: %zu job(s) interrupted by the restart ended "
                 "FAILURE", n);
    return 0;
}

/* Build the in-memory engine state for job @row (not done), reading its
 * declared objects: call without g.mu. */
static struct ejob *
ejob_from_row(const struct db_job *row)
{
    struct ejob *ej = xcalloc(1, sizeof(*ej));
    struct db_job_object *objs = NULL;
    size_t nobjs = 0, i;

    if (db_job_objects(g.conf.db, row->id, &objs, &nobjs) < 0)
        log_errorx("job %" PRId64 ": cannot read its objects: %s", row->id,
                   err_message());
    for (i = 0; i < nobjs; i++)
        ejob_add_object(ej, objs[i].object_id, objs[i].exclusive);
    db_job_objects_free(objs, nobjs);

    ej->id = row->id;
    ej->parent = row->parent_id;
    ej->priority = row->priority;
    ej->parallel = row->parallel;
    ej->user = xstrdup(row->user ? row->user : "");
    ej->is_parent = row->nchildren > 0;
    if (ej->is_parent) {
        ej->children = xcalloc(row->nchildren, sizeof(*ej->children));
        memcpy(ej->children, row->child_ids,
               row->nchildren * sizeof(*ej->children));
        ej->nchildren = row->nchildren;
        ej->child_started = row->run_state == JOB_CHILD_RUNNING;
    }
    return ej;
}

int
jobs_start(void)
{
    struct db_job_filter f = { .state = -1, .active = true, .parent_id = -1,
                               .limit = -1 };
    struct db_job **rows = NULL;
    size_t n = 0, i;
    int k;
    static struct lane normal = { false }, prio = { true };

    struct ejob *built = NULL;

    if (db_job_list(g.conf.db, &f, &rows, &n, NULL) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        struct ejob *ej = ejob_from_row(rows[i]);

        ej->next = built;
        built = ej;
    }
    pthread_mutex_lock(&g.mu);
    while (built) {
        struct ejob *ej = built;

        built = ej->next;
        ej->next = g.jobs;
        g.jobs = ej;
    }
    /* Parents: count the children already done. */
    for (i = 0; i < n; i++) {
        struct ejob *p = ejob_find(rows[i]->id);
        size_t c;

        if (!p->is_parent)
            continue;
        for (c = 0; c < p->nchildren; c++) {
            if (!ejob_find(p->children[c])) {
                AUTOPTR(db_job) struct db_job *cr =
                    db_job_get(g.conf.db, p->children[c]);

                p->children_done++;
                if (cr && cr->run_state == JOB_FAILURE)
                    p->child_failed = true;
                if (cr && cr->run_state == JOB_ABORTED)
                    p->child_aborted = true;
                if (!p->parallel && p->next_child == c)
                    p->next_child = c + 1;
            }
        }
    }
    /* Queue top-level jobs in id order; parents queue their children. */
    for (i = 0; i < n; i++) {
        struct ejob *ej = ejob_find(rows[i]->id);

        if (ej && !ej->parent && !ej->queued)
            queue_leaf(ej);
    }
    pthread_mutex_unlock(&g.mu);
    db_jobs_free(rows, n);

    g.nthreads = 0;
    for (k = 0; k < g.conf.workers + g.conf.priority_workers; k++) {
        struct lane *l = k < g.conf.workers ? &normal : &prio;

        if (pthread_create(&g.threads[g.nthreads], NULL, worker_main, l)
            != 0) {
            err_set(ERR_INTERNAL, "cannot start job worker threads");
            jobs_stop(0);
            return -1;
        }
        g.nthreads++;
    }
    if (pthread_create(&g.sched, NULL, sched_main, NULL) != 0) {
        err_set(ERR_INTERNAL, "cannot start the job scheduler thread");
        jobs_stop(0);
        return -1;
    }
    g.sched_started = true;
    g.started = true;
    if (n)
        log_info("jobs: %zu unfinished job(s) queued again", n);
    return 0;
}

void
jobs_stop(int64_t grace_ms)
{
    int64_t until = time_mono_ms() + grace_ms;
    struct ejob *ej;
    int k;

    pthread_mutex_lock(&g.mu);
    g.stopping = true;
    pthread_cond_broadcast(&g.work);
    pthread_cond_broadcast(&g.wake);
    while (g.running > 0 && time_mono_ms() < until) {
        pthread_mutex_unlock(&g.mu);
        usleep(20 * 1000);
        pthread_mutex_lock(&g.mu);
    }
    for (ej = g.jobs; ej; ej = ej->next) {
        if (ej->running && !ej->abort) {
            ej->abort = true;
            ej->aborted_by = xstrdup("@ovmm (the Manager is stopping)");
        }
    }
    pthread_cond_broadcast(&g.wake);
    pthread_mutex_unlock(&g.mu);
    for (k = 0; k < g.nthreads; k++)
        pthread_join(g.threads[k], NULL);
    g.nthreads = 0;
    if (g.sched_started)
        pthread_join(g.sched, NULL);
    g.sched_started = false;
    pthread_mutex_lock(&g.mu);
    while ((ej = g.jobs)) {
        g.jobs = ej->next;
        ejob_free(ej);
    }
    locks_free(g.locks);
    g.locks = NULL;
    g.started = false;
    pthread_mutex_unlock(&g.mu);
}

/* ---- submission ---- */

static int
validate(const struct job_req *r, int depth, size_t *total)
{
    size_t i;

    if (depth > MAX_DEPTH) {
        err_set(ERR_INVALID, "child jobs nest deeper than %d", MAX_DEPTH);
        return -1;
    }
    if (!r->name || !r->name[0]) {
        err_set(ERR_INVALID, "a job needs a name");
        return -1;
    }
    if (r->nops && r->nchildren) {
        err_set(ERR_INVALID, "job '%s' has both operations and child jobs",
                r->name);
        return -1;
    }
    if (r->nchildren && r->nobjects) {
        err_set(ERR_INVALID, "job '%s' has child jobs, which declare the "
                             "objects, so it cannot declare any", r->name);
        return -1;
    }
    if (r->nops > MAX_OPS || r->nobjects > MAX_OBJECTS) {
        err_set(ERR_INVALID, "job '%s' has more than %d operations or %d "
                             "objects", r->name, MAX_OPS, MAX_OBJECTS);
        return -1;
    }
    for (i = 0; i < r->nops; i++) {
        if (!job_op_find(r->ops[i].op)) {
            err_set(ERR_INVALID, "job '%s': unknown operation '%s'", r->name,
                    r->ops[i].op ? r->ops[i].op : "");
            return -1;
        }
    }
    for (i = 0; i < r->nobjects; i++) {
        if (!r->objects[i].id || !r->objects[i].id[0]) {
            err_set(ERR_INVALID, "job '%s': object %zu has no id", r->name,
                    i);
            return -1;
        }
    }
    *total += 1 + r->nchildren;
    if (*total > MAX_CHILDREN) {
        err_set(ERR_INVALID, "more than %d jobs in one submission",
                MAX_CHILDREN);
        return -1;
    }
    for (i = 0; i < r->nchildren; i++) {
        if (validate(&r->children[i], depth + 1, total) < 0)
            return -1;
    }
    return 0;
}

/* Insert @r (and its children) inside @t; *id receives its id. The
 * engine state of each job inserted is pushed on *@chain. */
static int
insert(struct db_txn *t, const struct job_req *r, int64_t parent,
       int64_t seq, const char *user, int64_t *id, struct ejob **chain)
{
    struct ejob *ej;
    struct db_job j = { 0 };
    struct db_job_op *ops = NULL;
    struct db_job_object *objs = NULL;
    size_t i;
    int rc;

    j.name = (char *)(uintptr_t)r->name;
    j.description = (char *)(uintptr_t)(r->description ? r->description
                                                       : "");
    j.run_state = r->nchildren ? JOB_CHILD_QUEUED : JOB_CREATED;
    j.summary_state = j.run_state;
    j.priority = r->priority;
    j.parent_id = parent;
    j.child_seq = seq;
    j.parallel = r->parallel;
    j.user = (char *)(uintptr_t)user;
    j.result_type = (char *)(uintptr_t)r->result_type;
    j.result_id = (char *)(uintptr_t)r->result_id;
    j.result_name = (char *)(uintptr_t)r->result_name;
    j.created_ms = time_now_ms();
    j.lock_deadline_ms = j.created_ms + g.conf.lock_timeout_ms;
    ops = xcalloc(r->nops ? r->nops : 1, sizeof(*ops));
    for (i = 0; i < r->nops; i++) {
        ops[i].op = (char *)(uintptr_t)r->ops[i].op;
        ops[i].description = (char *)(uintptr_t)(r->ops[i].description
                                                 ? r->ops[i].description
                                                 : r->ops[i].op);
        ops[i].args = r->ops[i].args
            ? (char *)(uintptr_t)json_object_to_json_string_ext(
                  r->ops[i].args, JSON_C_TO_STRING_PLAIN)
            : NULL;
    }
    objs = xcalloc(r->nobjects ? r->nobjects : 1, sizeof(*objs));
    for (i = 0; i < r->nobjects; i++) {
        objs[i].object_id = (char *)(uintptr_t)r->objects[i].id;
        objs[i].object_type = (char *)(uintptr_t)r->objects[i].type;
        objs[i].object_name = (char *)(uintptr_t)r->objects[i].name;
        objs[i].exclusive = r->objects[i].exclusive;
    }
    rc = db_txn_job_insert(t, &j, ops, r->nops, objs, r->nobjects);
    xfree(ops);
    xfree(objs);
    if (rc < 0)
        return -1;
    *id = j.id;
    ej = xcalloc(1, sizeof(*ej));
    ej->id = j.id;
    ej->parent = parent;
    ej->priority = r->priority;
    ej->parallel = r->parallel;
    ej->user = xstrdup(user);
    for (i = 0; i < r->nobjects; i++)
        ejob_add_object(ej, r->objects[i].id, r->objects[i].exclusive);
    ej->next = *chain;
    *chain = ej;
    if (r->nchildren) {
        ej->is_parent = true;
        ej->children = xcalloc(r->nchildren, sizeof(*ej->children));
        ej->nchildren = r->nchildren;
    }
    for (i = 0; i < r->nchildren; i++) {
        const char *cu = r->children[i].user ? r->children[i].user : user;

        if (insert(t, &r->children[i], j.id, (int64_t)i, cu,
                   &ej->children[i], chain) < 0)
            return -1;
    }
    return 0;
}

int
jobs_submit(const struct job_req *req, int64_t *id)
{
    struct db_txn *t;
    struct ejob *chain = NULL, *top = NULL;
    size_t total = 0;

    if (validate(req, 0, &total) < 0)
        return -1;
    pthread_mutex_lock(&g.mu);
    if (g.stopping || !g.started) {
        pthread_mutex_unlock(&g.mu);
        err_set(ERR_UNAVAILABLE, "the job engine is not running");
        return -1;
    }
    pthread_mutex_unlock(&g.mu);
    t = db_txn_begin(g.conf.db, DB_SYNC_FULL);
    if (!t)
        return -1;
    if (insert(t, req, 0, 0, req->user ? req->user : "@ovmm", id, &chain)
        < 0) {
        db_txn_rollback(t);
        goto fail;
    }
    if (db_txn_commit(t) < 0)
        goto fail;
    pthread_mutex_lock(&g.mu);
    while (chain) {
        struct ejob *ej = chain;

        chain = ej->next;
        ej->next = g.jobs;
        g.jobs = ej;
        if (ej->id == *id)
            top = ej;
    }
    if (NEVER(!top))
        log_errorx("job %" PRId64 ": lost after commit", *id);
    else
        queue_leaf(top);
    pthread_mutex_unlock(&g.mu);
    return 0;

 fail:
    while (chain) {
        struct ejob *ej = chain;

        chain = ej->next;
        ejob_free(ej);
    }
    return -1;
}

/* Abort @ej (under g.mu): queued leaves end now, running ones are
 * flagged, parents abort their children. */
static void
abort_locked(struct ejob *ej, const char *user)
{
    size_t i;

    if (!ej->abort) {
        ej->abort = true;
        xfree(ej->aborted_by);
        ej->aborted_by = xstrdup(user);
    }
    if (ej->is_parent) {
        int64_t *kids = xcalloc(ej->nchildren ? ej->nchildren : 1,
                                sizeof(*kids));
        size_t n = ej->nchildren;
        int64_t pid = ej->id;

        memcpy(kids, ej->children, n * sizeof(*kids));
        for (i = 0; i < n; i++) {
            struct ejob *c = ejob_find(kids[i]);

            if (c)
                abort_locked(c, user);
            /* The parent may have finished meanwhile. */
            if (!ejob_find(pid))
                break;
        }
        xfree(kids);
        return;
    }
    if (ej->queued && !ej->running)
        end_queued(ej, JOB_ABORTED, "ABORTED", "aborted before it ran");
    pthread_cond_broadcast(&g.wake);
}

int
jobs_abort(int64_t id, const char *user, bool admin)
{
    struct ejob *ej;

    pthread_mutex_lock(&g.mu);
    ej = ejob_find(id);
    if (!ej) {
        AUTOPTR(db_job) struct db_job *row = NULL;

        pthread_mutex_unlock(&g.mu);
        row = db_job_get(g.conf.db, id);
        if (!row)
            return -1;
        if (!row->done)
            err_set(ERR_UNAVAILABLE, "job %" PRId64 " is not in the job "
                                     "engine yet; try again", id);
        else
            err_set(ERR_STATE, "job %" PRId64 " is already done (%s)", id,
                    db_job_state_str(row->run_state));
        return -1;
    }
    if (!admin && strcmp(ej->user, user) != 0) {
        pthread_mutex_unlock(&g.mu);
        err_set(ERR_FORBIDDEN, "job %" PRId64 " belongs to '%s': only "
                               "administrators abort other users' jobs",
                id, ej->user);
        return -1;
    }
    abort_locked(ej, user);
    pthread_mutex_unlock(&g.mu);
    return 0;
}

int
jobs_purge(void)
{
    int64_t now = time_now_ms(), jobs = 0, events = 0;

    if (db_job_purge(g.conf.db, now - g.conf.retention_ms, &jobs) < 0 ||
        db_event_purge(g.conf.db, now - g.conf.event_retention_ms, &events)
            < 0) {
        log_warnx("retention: %s", err_message());
        return -1;
    }
    if (jobs || events)
        log_info("retention: purged %" PRId64 " job(s) and %" PRId64
                 " event(s)", jobs, events);
    return 0;
}
