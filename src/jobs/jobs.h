/*
 * jobs.h - the job engine: every change is a persisted, lockable,
 * abortable job made of operations with undo.
 *
 * DESIGN (DESIGN.md section 4, the seeds' Appendix B.1):
 * - A job is an ordered list of operations. Each operation names an entry
 *   of the operation table (struct job_op_type, listed in ops.c) and
 *   carries JSON arguments, so a job is data: it is committed (with
 *   synchronous=FULL) before the HTTP answer, and after a restart the
 *   engine knows what each job was doing from the database alone.
 * - A job declares the objects it needs, exclusive or shared. The lock
 *   table (locks.c) grants all of a job's locks at once or none, in
 *   submission order among jobs that conflict, so conflicting jobs run in
 *   the order they were submitted and jobs on disjoint objects run in
 *   parallel. A job waits in CREATED until granted or until its lock
 *   deadline (job_lock_timeout), when it ends FAILURE saying who held
 *   what.
 * - Workers (job_workers threads) run granted jobs; priority jobs (VM
 *   kill and the like) run on a separate lane (job_priority_workers) that
 *   ordinary work never occupies.
 * - Running an operation: its row goes RUNNING (committed), then its
 *   run() acts; a database-only operation commits its change together
 *   with its DONE row through job_txn_begin()/job_txn_commit(), so it is
 *   done or not, never half. When run() fails or the job is aborted, the
 *   completed operations are undone in reverse, each undo committed with
 *   its UNDONE row; the job ends FAILURE (or ABORTED), locks released in
 *   the same transaction as the final state.
 * - Parents and children: a job may have child jobs instead of
 *   operations, run one after another (serial; the first failure ends
 *   the rest ABORTED) or all at once (parallel). The parent shows
 *   CHILD_QUEUED while no child runs yet and CHILD_RUNNING while one
 *   does, and ends SUCCESS when all children succeeded, else FAILURE.
 * - Recovery (jobs_recover(), before the Manager goes RUNNING): jobs left
 *   RUNNING have their DONE operations undone where the operation says
 *   that is safe after a restart and end FAILURE "manager restarted
 *   before the job finished"; no lock survives; CREATED jobs are queued
 *   again in id order by jobs_start().
 *
 * Thread-safety: everything here may be called from any thread after
 * jobs_init(); the engine's state is under one mutex, never held across
 * I/O. Operation callbacks run on worker threads.
 */
#ifndef OVMM_JOBS_H
#define OVMM_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/json.h"

struct db;
struct db_txn;
struct job_ctx;

/* ---- operations ---- */

struct job_op_type {
    const char *name;  /* stored in job_ops.op, e.g. "object.update" */
    /*
     * Do the work described by @args. A database-only operation opens
     * job_txn_begin(), changes what it changes and ends with
     * job_txn_commit(ctx, t, undo): the change, the DONE row and the undo
     * data commit together. Other operations act and return; the engine
     * then records DONE with *undo (new reference or NULL). 0, or -1 with
     * err_set() (ERR_CONFLICT, ERR_STATE, ... become the job's error).
     * Long operations call job_aborting() at safe points and then return
     * job_abort_error().
     */
    int (*run)(struct job_ctx *ctx, json_object *args, json_object **undo);
    /*
     * Put back what run() did, given its @undo data (never NULL here: an
     * operation that recorded no undo data is not undone). Database-only
     * undos use job_txn_begin()/job_txn_commit(ctx, t, NULL). 0 or -1.
     */
    int (*undo)(struct job_ctx *ctx, json_object *args, json_object *undo);
    /* The undo may run at start-up for a job the restart interrupted
     * (true for database-only operations). */
    bool undo_after_restart;
};

/* The registered operation called @name, or NULL. */
const struct job_op_type *job_op_find(const char *name);

/* What an operation sees. */
struct db *job_db(struct job_ctx *ctx);
int64_t job_id(const struct job_ctx *ctx);
const char *job_user(const struct job_ctx *ctx);
/* True once the job was asked to abort: stop at the next safe point. */
bool job_aborting(struct job_ctx *ctx);
/* Record "aborted by <user>" as the thread's error (ERR_ABORTED) and
 * return -1, for run() to return. */
int job_abort_error(struct job_ctx *ctx);
/* Sleep up to @ms, waking early on abort. true when aborted. */
bool job_sleep(struct job_ctx *ctx, int64_t ms);
/* Set the job's progressMessage (committed at once). */
void job_progress(struct job_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Set the job's resultId (recorded with the job's final state). */
void job_set_result(struct job_ctx *ctx, const char *type, const char *id,
                    const char *name);
/*
 * A write transaction for a database-only operation (DB_SYNC_FULL). End
 * it with job_txn_commit() -- which also writes the operation's DONE row
 * (run) or UNDONE row (undo) with @undo -- or db_txn_rollback().
 */
struct db_txn *job_txn_begin(struct job_ctx *ctx);
int job_txn_commit(struct job_ctx *ctx, struct db_txn *t, json_object *undo);

/* ---- submitting ---- */

struct job_object_req {
    const char *id;
    const char *type;       /* type name, for GET /Lock and events */
    const char *name;
    bool exclusive;         /* false: shared (read) */
};

struct job_op_req {
    const char *op;          /* a registered operation */
    const char *description; /* shown in the transcript */
    json_object *args;       /* borrowed; stored as text */
};

struct job_req {
    const char *name;        /* e.g. "Edit Vm: web-1" */
    const char *description;
    const char *user;        /* who asked ("@ovmm" for background work) */
    bool priority;           /* run in the priority lane */
    const struct job_object_req *objects;
    size_t nobjects;
    const struct job_op_req *ops;
    size_t nops;
    /* resultId known up front (an update's object); NULL: none yet. */
    const char *result_type, *result_id, *result_name;
    /* Children instead of operations (nops must be 0). */
    const struct job_req *children;
    size_t nchildren;
    bool parallel;
};

struct jobs_conf {
    struct db *db;            /* borrowed; outlives the engine */
    int workers;              /* >= 1 */
    int priority_workers;     /* >= 1 */
    int64_t lock_timeout_ms;  /* time a job may wait for its locks */
    int64_t retention_ms;     /* finished jobs older than this: purged */
    int64_t event_retention_ms; /* events older than this: purged */
};

/* Remember @conf. No threads yet. 0 or -1. */
int jobs_init(const struct jobs_conf *conf);
/* Crash recovery (see above); main thread, before jobs_start(). */
int jobs_recover(void);
/* Start the workers and the scheduler; queue CREATED jobs. 0 or -1. */
int jobs_start(void);
/*
 * Stop taking jobs, let running ones finish (up to @grace_ms, then ask
 * them to abort), join the threads. Jobs still CREATED stay CREATED and
 * run at the next start.
 */
void jobs_stop(int64_t grace_ms);

/*
 * Validate, persist (one DB_SYNC_FULL transaction: the job, its
 * operations, its objects, its children) and queue a job. *id receives
 * its id. 0, or -1 with ERR_INVALID for an unknown operation or an
 * ill-formed request, ERR_UNAVAILABLE when the engine is stopping.
 */
int jobs_submit(const struct job_req *req, int64_t *id);
/*
 * Abort job @id on behalf of @user (@admin: may abort anyone's). A job
 * still CREATED ends ABORTED before this returns; a running one is
 * flagged and ends ABORTED once its operation stops and the undo ran;
 * a parent aborts its unfinished children. ERR_NOT_FOUND, ERR_FORBIDDEN
 * (another user's job), ERR_STATE (already done).
 */
int jobs_abort(int64_t id, const char *user, bool admin);

/* Purge finished jobs and events past retention now (also hourly). */
int jobs_purge(void);

#endif
