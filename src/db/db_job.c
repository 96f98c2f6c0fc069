/*
 * db_job.c - jobs, their operations and declared objects (locks).
 *
 * DESIGN: the job engine (src/jobs/) writes every state change through
 * these functions inside its own transactions (struct db_txn,
 * DB_SYNC_FULL), so a job, its operations and its locks are on disk
 * before anything acts on them. Every job write adds a `feed` row and
 * records "job:<id>" to notify after commit (long-polls and the SSE
 * stream wake on it). Reads for the REST API go through the reader
 * connection. Job ids are the creation time in ms, bumped past the last
 * id, so they are unique, increasing and look like Oracle VM's.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "db/db_int.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/str.h"

static const char *const state_names[] = {
    [JOB_CREATED] = "CREATED",
    [JOB_RUNNING] = "RUNNING",
    [JOB_SUCCESS] = "SUCCESS",
    [JOB_FAILURE] = "FAILURE",
    [JOB_ABORTED] = "ABORTED",
    [JOB_CHILD_QUEUED] = "CHILD_QUEUED",
    [JOB_CHILD_RUNNING] = "CHILD_RUNNING",
};
#define NSTATES (sizeof(state_names) / sizeof(state_names[0]))

const char *
db_job_state_str(enum db_job_state s)
{
    return (size_t)s < NSTATES ? state_names[s] : "UNKNOWN";
}

int
db_job_state_parse(const char *s)
{
    size_t i;

    for (i = 0; s && i < NSTATES; i++) {
        if (strcmp(state_names[i], s) == 0)
            return (int)i;
    }
    return -1;
}

bool
db_job_state_final(enum db_job_state s)
{
    return s == JOB_SUCCESS || s == JOB_FAILURE || s == JOB_ABORTED;
}

void
db_job_free(struct db_job *j)
{
    if (!j)
        return;
    xfree(j->name);
    xfree(j->description);
    xfree(j->user);
    xfree(j->result_type);
    xfree(j->result_id);
    xfree(j->result_name);
    xfree(j->error_type);
    xfree(j->error_message);
    xfree(j->progress_message);
    xfree(j->latest_summary_progress);
    xfree(j->aborted_by);
    xfree(j->child_ids);
    xfree(j);
}

void
db_jobs_free(struct db_job **v, size_t n)
{
    size_t i;

    for (i = 0; v && i < n; i++)
        db_job_free(v[i]);
    xfree(v);
}

void
db_job_ops_free(struct db_job_op *v, size_t n)
{
    size_t i;

    for (i = 0; v && i < n; i++) {
        xfree(v[i].op);
        xfree(v[i].description);
        xfree(v[i].args);
        xfree(v[i].state);
        xfree(v[i].undo);
        xfree(v[i].message);
    }
    xfree(v);
}

void
db_job_objects_free(struct db_job_object *v, size_t n)
{
    size_t i;

    for (i = 0; v && i < n; i++) {
        xfree(v[i].object_id);
        xfree(v[i].object_type);
        xfree(v[i].object_name);
    }
    xfree(v);
}

/* ---- writes ---- */

/* A feed row for job @id, and the notify key. */
static int
feed_job(struct db_txn *t, int64_t id)
{
    struct db_conn *c = db_txn_conn(t);
    char key[48];

    if (db_run(c, "INSERT INTO feed (time_ms, kind, ref) VALUES (?1, 'job', ?2)",
               "ii", time_now_ms(), id) != SQLITE_DONE)
        return db_err_set(c, "cannot record a change of job %" PRId64, id);
    snprintf(key, sizeof(key), "job:%" PRId64, id);
    db_txn_notify(t, key);
    return 0;
}

/* The next job id: max(@created_ms, last id + 1). */
static int
next_id(struct db_conn *c, int64_t created_ms, int64_t *id)
{
    sqlite3_stmt *st = db_stmt(c, "SELECT max(id) FROM jobs");
    int64_t last = 0;

    if (!st)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        last = sqlite3_column_int64(st, 0);
    db_stmt_release(st);
    *id = created_ms > last ? created_ms : last + 1;
    return 0;
}

#define JOB_INSERT_SQL                                                        \
    "INSERT INTO jobs (id, name, description, run_state, summary_state, "    \
    "done, summary_done, priority, parent_id, child_seq, parallel, "         \
    "user_name, result_type, result_id, result_name, created_ms, "           \
    "lock_deadline_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "    \
    "?11, ?12, ?13, ?14, ?15, ?16, ?17)"

int
db_txn_job_insert(struct db_txn *t, struct db_job *j,
                  const struct db_job_op *ops, size_t nops,
                  const struct db_job_object *objs, size_t nobjs)
{
    struct db_conn *c = db_txn_conn(t);
    sqlite3_stmt *st;
    size_t i;
    int rc;

    if (next_id(c, j->created_ms, &j->id) < 0)
        return -1;
    st = db_stmt(c, JOB_INSERT_SQL);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, j->id);
    db_bind_text(st, 2, j->name ? j->name : "");
    db_bind_text(st, 3, j->description ? j->description : "");
    db_bind_text(st, 4, db_job_state_str(j->run_state));
    db_bind_text(st, 5, db_job_state_str(j->summary_state));
    sqlite3_bind_int(st, 6, j->done);
    sqlite3_bind_int(st, 7, j->summary_done);
    sqlite3_bind_int(st, 8, j->priority);
    if (j->parent_id)
        sqlite3_bind_int64(st, 9, j->parent_id);
    else
        sqlite3_bind_null(st, 9);
    sqlite3_bind_int64(st, 10, j->child_seq);
    sqlite3_bind_int(st, 11, j->parallel);
    db_bind_text(st, 12, j->user ? j->user : "");
    db_bind_text(st, 13, j->result_type);
    db_bind_text(st, 14, j->result_id);
    db_bind_text(st, 15, j->result_name);
    sqlite3_bind_int64(st, 16, j->created_ms);
    sqlite3_bind_int64(st, 17, j->lock_deadline_ms);
    rc = sqlite3_step(st);
    db_stmt_release(st);
    if (rc != SQLITE_DONE)
        return db_err_set(c, "cannot create job '%s'", j->name);
    for (i = 0; i < nops; i++) {
        if (db_run(c, "INSERT INTO job_ops (job_id, seq, op, description, "
                      "args) VALUES (?1, ?2, ?3, ?4, ?5)", "iittt", j->id,
                   (int64_t)i, ops[i].op, ops[i].description ?
                   ops[i].description : "", ops[i].args ? ops[i].args : "{}")
            != SQLITE_DONE)
            return db_err_set(c, "cannot record operation %zu of job '%s'",
                              i, j->name);
    }
    for (i = 0; i < nobjs; i++) {
        rc = db_run(c, "INSERT INTO job_objects (job_id, object_id, "
                       "object_type, object_name, exclusive) VALUES "
                       "(?1, ?2, ?3, ?4, ?5) ON CONFLICT (job_id, object_id) "
                       "DO UPDATE SET exclusive = max(exclusive, "
                       "excluded.exclusive)", "itttb", j->id,
                    objs[i].object_id, objs[i].object_type,
                    objs[i].object_name, objs[i].exclusive);
        if (rc != SQLITE_DONE)
            return db_err_set(c, "cannot record object '%s' of job '%s'",
                              objs[i].object_id, j->name);
    }
    return feed_job(t, j->id);
}

#define JOB_UPDATE_SQL                                                        \
    "UPDATE jobs SET run_state = ?2, summary_state = ?3, done = ?4, "        \
    "summary_done = ?5, result_type = ?6, result_id = ?7, result_name = ?8, " \
    "error_type = ?9, error_message = ?10, progress_message = ?11, "         \
    "aborted_by = ?12, start_ms = ?13, end_ms = ?14, "                       \
    "generation = generation + 1 WHERE id = ?1"

static void
bind_ms(sqlite3_stmt *st, int i, int64_t ms)
{
    if (ms)
        sqlite3_bind_int64(st, i, ms);
    else
        sqlite3_bind_null(st, i);
}

int
db_txn_job_update(struct db_txn *t, const struct db_job *j)
{
    struct db_conn *c = db_txn_conn(t);
    sqlite3_stmt *st = db_stmt(c, JOB_UPDATE_SQL);
    int rc;

    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, j->id);
    db_bind_text(st, 2, db_job_state_str(j->run_state));
    db_bind_text(st, 3, db_job_state_str(j->summary_state));
    sqlite3_bind_int(st, 4, j->done);
    sqlite3_bind_int(st, 5, j->summary_done);
    db_bind_text(st, 6, j->result_type);
    db_bind_text(st, 7, j->result_id);
    db_bind_text(st, 8, j->result_name);
    db_bind_text(st, 9, j->error_type);
    db_bind_text(st, 10, j->error_message);
    db_bind_text(st, 11, j->progress_message);
    db_bind_text(st, 12, j->aborted_by);
    bind_ms(st, 13, j->start_ms);
    bind_ms(st, 14, j->end_ms);
    rc = sqlite3_step(st);
    db_stmt_release(st);
    if (rc != SQLITE_DONE)
        return db_err_set(c, "cannot update job %" PRId64, j->id);
    if (sqlite3_changes(c->h) == 0) {
        err_set(ERR_NOT_FOUND, "Job '%" PRId64 "' not found", j->id);
        return -1;
    }
    return feed_job(t, j->id);
}

int
db_txn_job_op_update(struct db_txn *t, int64_t job_id, int64_t seq,
                     const char *state, const char *undo,
                     const char *message, int64_t start_ms, int64_t end_ms,
                     int64_t undo_ms)
{
    struct db_conn *c = db_txn_conn(t);
    sqlite3_stmt *st = db_stmt(c,
        "UPDATE job_ops SET state = coalesce(?3, state), "
        "undo = coalesce(?4, undo), message = coalesce(?5, message), "
        "start_ms = coalesce(?6, start_ms), end_ms = coalesce(?7, end_ms), "
        "undo_ms = coalesce(?8, undo_ms) WHERE job_id = ?1 AND seq = ?2");
    int rc;

    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, job_id);
    sqlite3_bind_int64(st, 2, seq);
    db_bind_text(st, 3, state);
    db_bind_text(st, 4, undo);
    db_bind_text(st, 5, message);
    bind_ms(st, 6, start_ms);
    bind_ms(st, 7, end_ms);
    bind_ms(st, 8, undo_ms);
    rc = sqlite3_step(st);
    db_stmt_release(st);
    if (rc != SQLITE_DONE)
        return db_err_set(c, "cannot update operation %" PRId64 " of job %"
                          PRId64, seq, job_id);
    return feed_job(t, job_id);
}

int
db_txn_job_grant(struct db_txn *t, int64_t job_id)
{
    struct db_conn *c = db_txn_conn(t);

    if (db_run(c, "UPDATE job_objects SET granted = 1 WHERE job_id = ?1",
               "i", job_id) != SQLITE_DONE ||
        db_run(c, "UPDATE objects SET locked = 1 WHERE locked = 0 AND id IN "
                  "(SELECT object_id FROM job_objects WHERE job_id = ?1)",
               "i", job_id) != SQLITE_DONE)
        return db_err_set(c, "cannot record the locks of job %" PRId64,
                          job_id);
    return 0;
}

int
db_txn_job_release(struct db_txn *t, int64_t job_id)
{
    struct db_conn *c = db_txn_conn(t);

    /* `granted` stays: the transcript shows the job did hold it. */
    if (db_run(c, "UPDATE job_objects SET released = 1 "
                  "WHERE job_id = ?1", "i", job_id) != SQLITE_DONE ||
        db_run(c, "UPDATE objects SET locked = 0 WHERE locked = 1 AND id IN "
                  "(SELECT object_id FROM job_objects WHERE job_id = ?1) "
                  "AND NOT EXISTS (SELECT 1 FROM job_objects h WHERE "
                  "h.object_id = objects.id AND h.granted = 1 AND h.released = 0)",
               "i", job_id) != SQLITE_DONE)
        return db_err_set(c, "cannot release the locks of job %" PRId64,
                          job_id);
    return 0;
}

int
db_txn_locks_reset(struct db_txn *t)
{
    struct db_conn *c = db_txn_conn(t);

    if (db_run(c, "UPDATE job_objects SET granted = 0, released = 1 "
                  "WHERE released = 0 AND job_id IN (SELECT id FROM jobs "
                  "WHERE done = 1)", "") != SQLITE_DONE ||
        db_run(c, "UPDATE job_objects SET granted = 0 WHERE granted = 1 "
                  "AND released = 0", "")
            != SQLITE_DONE ||
        db_run(c, "UPDATE objects SET locked = 0 WHERE locked = 1", "") !=
            SQLITE_DONE)
        return db_err_set(c, "cannot clear the locks left by a restart");
    return 0;
}

/* ---- reads ---- */

#define JOB_COLS                                                              \
    "j.id, j.name, j.description, j.run_state, j.summary_state, j.done, "    \
    "j.summary_done, j.priority, coalesce(j.parent_id, 0), j.child_seq, "    \
    "j.parallel, j.user_name, j.result_type, j.result_id, j.result_name, "   \
    "j.error_type, j.error_message, j.progress_message, j.aborted_by, "      \
    "j.created_ms, coalesce(j.start_ms, 0), coalesce(j.end_ms, 0), "         \
    "j.lock_deadline_ms, j.generation, "                                     \
    "(SELECT c.progress_message FROM jobs c WHERE c.parent_id = j.id AND "   \
    "c.progress_message IS NOT NULL ORDER BY coalesce(c.end_ms, c.start_ms, " \
    "c.created_ms) DESC LIMIT 1)"

static struct db_job *
row_to_job(sqlite3_stmt *st)
{
    struct db_job *j = xcalloc(1, sizeof(*j));
    int s;

    j->id = sqlite3_column_int64(st, 0);
    j->name = db_col_strdup(st, 1);
    j->description = db_col_strdup(st, 2);
    s = db_job_state_parse((const char *)sqlite3_column_text(st, 3));
    j->run_state = s < 0 ? JOB_FAILURE : (enum db_job_state)s;
    s = db_job_state_parse((const char *)sqlite3_column_text(st, 4));
    j->summary_state = s < 0 ? JOB_FAILURE : (enum db_job_state)s;
    j->done = sqlite3_column_int(st, 5) != 0;
    j->summary_done = sqlite3_column_int(st, 6) != 0;
    j->priority = sqlite3_column_int(st, 7) != 0;
    j->parent_id = sqlite3_column_int64(st, 8);
    j->child_seq = sqlite3_column_int64(st, 9);
    j->parallel = sqlite3_column_int(st, 10) != 0;
    j->user = db_col_strdup(st, 11);
    j->result_type = db_col_strdup(st, 12);
    j->result_id = db_col_strdup(st, 13);
    j->result_name = db_col_strdup(st, 14);
    j->error_type = db_col_strdup(st, 15);
    j->error_message = db_col_strdup(st, 16);
    j->progress_message = db_col_strdup(st, 17);
    j->aborted_by = db_col_strdup(st, 18);
    j->created_ms = sqlite3_column_int64(st, 19);
    j->start_ms = sqlite3_column_int64(st, 20);
    j->end_ms = sqlite3_column_int64(st, 21);
    j->lock_deadline_ms = sqlite3_column_int64(st, 22);
    j->generation = sqlite3_column_int64(st, 23);
    j->latest_summary_progress = db_col_strdup(st, 24);
    if (!j->latest_summary_progress && j->progress_message)
        j->latest_summary_progress = xstrdup(j->progress_message);
    return j;
}

/* Fill @j->child_ids on @c. */
static int
read_children(struct db_conn *c, struct db_job *j)
{
    sqlite3_stmt *st = db_stmt(c, "SELECT id FROM jobs WHERE parent_id = ?1 "
                                  "ORDER BY child_seq, id");
    size_t cap = 0;
    int rc;

    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, j->id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (j->nchildren == cap) {
            cap = cap ? cap * 2 : 8;
            j->child_ids = xrealloc(j->child_ids,
                                    cap * sizeof(*j->child_ids));
        }
        j->child_ids[j->nchildren++] = sqlite3_column_int64(st, 0);
    }
    db_stmt_release(st);
    if (rc != SQLITE_DONE)
        return db_err_set(c, "cannot read the children of job %" PRId64,
                          j->id);
    return 0;
}

static struct db_job *
job_get_on(struct db_conn *c, int64_t id)
{
    sqlite3_stmt *st = db_stmt(c, "SELECT " JOB_COLS " FROM jobs j "
                                  "WHERE j.id = ?1");
    struct db_job *j = NULL;
    int rc;

    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        j = row_to_job(st);
    else if (rc == SQLITE_DONE)
        err_set(ERR_NOT_FOUND, "Job '%" PRId64 "' not found", id);
    else
        db_err_set(c, "cannot read job %" PRId64, id);
    db_stmt_release(st);
    if (j && read_children(c, j) < 0) {
        db_job_free(j);
        return NULL;
    }
    return j;
}

struct db_job *
db_job_get(struct db *db, int64_t id)
{
    struct db_conn *c = db_read_begin(db);
    struct db_job *j;

    if (!c)
        return NULL;
    j = job_get_on(c, id);
    db_read_end(db);
    return j;
}

struct db_job *
db_txn_job_get(struct db_txn *t, int64_t id)
{
    return job_get_on(db_txn_conn(t), id);
}

static int
job_ops_on(struct db_conn *c, int64_t id, struct db_job_op **out, size_t *n)
{
    sqlite3_stmt *st = db_stmt(c,
        "SELECT seq, op, description, args, state, undo, message, "
        "coalesce(start_ms, 0), coalesce(end_ms, 0), coalesce(undo_ms, 0) "
        "FROM job_ops WHERE job_id = ?1 ORDER BY seq");
    struct db_job_op *v = NULL;
    size_t cap = 0, len = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_job_op *o;

        if (len == cap) {
            cap = cap ? cap * 2 : 8;
            v = xrealloc(v, (cap) * sizeof(*v));
        }
        o = &v[len++];
        memset(o, 0, sizeof(*o));
        o->seq = sqlite3_column_int64(st, 0);
        o->op = db_col_strdup(st, 1);
        o->description = db_col_strdup(st, 2);
        o->args = db_col_strdup(st, 3);
        o->state = db_col_strdup(st, 4);
        o->undo = db_col_strdup(st, 5);
        o->message = db_col_strdup(st, 6);
        o->start_ms = sqlite3_column_int64(st, 7);
        o->end_ms = sqlite3_column_int64(st, 8);
        o->undo_ms = sqlite3_column_int64(st, 9);
    }
    db_stmt_release(st);
    if (rc != SQLITE_DONE) {
        db_job_ops_free(v, len);
        return db_err_set(c, "cannot read the operations of job %" PRId64,
                          id);
    }
    *out = v;
    *n = len;
    return 0;
}

int
db_job_ops(struct db *db, int64_t id, struct db_job_op **out, size_t *n)
{
    struct db_conn *c = db_read_begin(db);
    int rc;

    if (!c)
        return -1;
    rc = job_ops_on(c, id, out, n);
    db_read_end(db);
    return rc;
}

int
db_txn_job_ops(struct db_txn *t, int64_t id, struct db_job_op **out,
               size_t *n)
{
    return job_ops_on(db_txn_conn(t), id, out, n);
}

/* Rows of job_objects for @sql (?1 bound to @id when @id >= 0). */
static int
objects_query(struct db_conn *c, const char *sql, int64_t id,
              struct db_job_object **out, size_t *n)
{
    sqlite3_stmt *st = db_stmt(c, sql);
    struct db_job_object *v = NULL;
    size_t cap = 0, len = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (!st)
        return -1;
    if (id >= 0)
        sqlite3_bind_int64(st, 1, id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_job_object *o;

        if (len == cap) {
            cap = cap ? cap * 2 : 8;
            v = xrealloc(v, (cap) * sizeof(*v));
        }
        o = &v[len++];
        o->job_id = sqlite3_column_int64(st, 0);
        o->object_id = db_col_strdup(st, 1);
        o->object_type = db_col_strdup(st, 2);
        o->object_name = db_col_strdup(st, 3);
        o->exclusive = sqlite3_column_int(st, 4) != 0;
        o->granted = sqlite3_column_int(st, 5) != 0;
        o->released = sqlite3_column_int(st, 6) != 0;
    }
    db_stmt_release(st);
    if (rc != SQLITE_DONE) {
        db_job_objects_free(v, len);
        return db_err_set(c, "cannot read job locks");
    }
    *out = v;
    *n = len;
    return 0;
}

#define OBJ_COLS                                                              \
    "jo.job_id, jo.object_id, coalesce(o.type, jo.object_type), "            \
    "coalesce(o.name, jo.object_name), jo.exclusive, jo.granted, "           \
    "jo.released"

int
db_job_objects(struct db *db, int64_t id, struct db_job_object **out,
               size_t *n)
{
    struct db_conn *c = db_read_begin(db);
    int rc;

    if (!c)
        return -1;
    rc = objects_query(c, "SELECT " OBJ_COLS " FROM job_objects jo "
                          "LEFT JOIN objects o ON o.id = jo.object_id "
                          "WHERE jo.job_id = ?1 ORDER BY jo.object_id",
                       id, out, n);
    db_read_end(db);
    return rc;
}

int
db_lock_list(struct db *db, struct db_job_object **out, size_t *n)
{
    struct db_conn *c = db_read_begin(db);
    int rc;

    if (!c)
        return -1;
    rc = objects_query(c, "SELECT " OBJ_COLS " FROM job_objects jo "
                          "LEFT JOIN objects o ON o.id = jo.object_id "
                          "WHERE jo.released = 0 "
                          "ORDER BY jo.object_id, jo.job_id", -1, out, n);
    db_read_end(db);
    return rc;
}

/* Build the WHERE clause of @f into @w, binding later in the same order. */
static void
filter_sql(const struct db_job_filter *f, struct buf *w)
{
    buf_puts(w, " WHERE 1");
    if (f->state >= 0)
        buf_puts(w, " AND j.run_state = ?1");
    if (f->active)
        buf_puts(w, " AND j.done = 0");
    if (f->user)
        buf_puts(w, " AND j.user_name = ?2");
    if (f->object_id)
        buf_puts(w, " AND j.id IN (SELECT job_id FROM job_objects WHERE "
                    "object_id = ?3)");
    if (f->since_ms)
        buf_puts(w, " AND j.created_ms >= ?4");
    if (f->until_ms)
        buf_puts(w, " AND j.created_ms < ?5");
    if (f->parent_id == 0)
        buf_puts(w, " AND j.parent_id IS NULL");
    else if (f->parent_id > 0)
        buf_puts(w, " AND j.parent_id = ?6");
}

static void
filter_bind(const struct db_job_filter *f, sqlite3_stmt *st)
{
    if (f->state >= 0)
        db_bind_text(st, 1, db_job_state_str((enum db_job_state)f->state));
    if (f->user)
        db_bind_text(st, 2, f->user);
    if (f->object_id)
        db_bind_text(st, 3, f->object_id);
    if (f->since_ms)
        sqlite3_bind_int64(st, 4, f->since_ms);
    if (f->until_ms)
        sqlite3_bind_int64(st, 5, f->until_ms);
    if (f->parent_id > 0)
        sqlite3_bind_int64(st, 6, f->parent_id);
}

int
db_job_list(struct db *db, const struct db_job_filter *f,
            struct db_job ***out, size_t *n, int64_t *total)
{
    struct buf where = { 0 }, sql = { 0 }, csql = { 0 };
    struct db_conn *c;
    sqlite3_stmt *st = NULL;
    struct db_job **v = NULL;
    size_t cap = 0, len = 0, i;
    int rc, ret = -1;

    *out = NULL;
    *n = 0;
    filter_sql(f, &where);
    buf_printf(&sql, "SELECT " JOB_COLS " FROM jobs j%s ORDER BY j.id %s "
             "LIMIT ?7 OFFSET ?8", (where.data ? where.data : ""),
             f->newest_first ? "DESC" : "ASC");
    buf_printf(&csql, "SELECT count(*) FROM jobs j%s", (where.data ? where.data : ""));
    c = db_read_begin(db);
    if (!c)
        goto out;
    if (total) {
        st = db_stmt(c, csql.data);
        if (!st)
            goto end;
        filter_bind(f, st);
        if (sqlite3_step(st) != SQLITE_ROW) {
            db_err_set(c, "cannot count jobs");
            goto end;
        }
        *total = sqlite3_column_int64(st, 0);
        db_stmt_release(st);
    }
    st = db_stmt(c, sql.data);
    if (!st)
        goto end;
    filter_bind(f, st);
    sqlite3_bind_int64(st, 7, f->limit < 0 ? -1 : f->limit);
    sqlite3_bind_int64(st, 8, f->offset);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            cap = cap ? cap * 2 : 16;
            v = xrealloc(v, (cap) * sizeof(*v));
        }
        v[len++] = row_to_job(st);
    }
    if (rc != SQLITE_DONE) {
        db_err_set(c, "cannot list jobs");
        goto end;
    }
    db_stmt_release(st);
    st = NULL;
    for (i = 0; i < len; i++) {
        if (read_children(c, v[i]) < 0)
            goto end;
    }
    *out = v;
    *n = len;
    v = NULL;
    len = 0;
    ret = 0;
 end:
    db_stmt_release(st);
    db_read_end(db);
 out:
    db_jobs_free(v, len);
    buf_release(&where);
    buf_release(&sql);
    buf_release(&csql);
    return ret;
}

int
db_txn_job_ids_in_state(struct db_txn *t, enum db_job_state state,
                        int64_t **out, size_t *n)
{
    struct db_conn *c = db_txn_conn(t);
    sqlite3_stmt *st = db_stmt(c, "SELECT id FROM jobs WHERE run_state = ?1 "
                                  "ORDER BY id");
    int64_t *v = NULL;
    size_t cap = 0, len = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (!st)
        return -1;
    db_bind_text(st, 1, db_job_state_str(state));
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            cap = cap ? cap * 2 : 16;
            v = xrealloc(v, (cap) * sizeof(*v));
        }
        v[len++] = sqlite3_column_int64(st, 0);
    }
    db_stmt_release(st);
    if (rc != SQLITE_DONE) {
        xfree(v);
        return db_err_set(c, "cannot list %s jobs", db_job_state_str(state));
    }
    *out = v;
    *n = len;
    return 0;
}

int
db_job_purge(struct db *db, int64_t before_ms, int64_t *deleted)
{
    struct db_txn *t = db_txn_begin(db, DB_SYNC_NORMAL);
    struct db_conn *c;

    *deleted = 0;
    if (!t)
        return -1;
    c = db_txn_conn(t);
    /* Top-level jobs done before the cut-off go with their children
     * (ON DELETE CASCADE); children are never purged on their own. */
    if (db_run(c, "DELETE FROM feed WHERE kind = 'job' AND ref IN (SELECT "
                  "id FROM jobs WHERE done = 1 AND end_ms < ?1)", "i",
               before_ms) != SQLITE_DONE ||
        db_run(c, "DELETE FROM jobs WHERE parent_id IS NULL AND done = 1 "
                  "AND end_ms < ?1", "i", before_ms) != SQLITE_DONE) {
        db_err_set(c, "cannot purge old jobs");
        db_txn_rollback(t);
        return -1;
    }
    *deleted = sqlite3_changes(c->h);
    return db_txn_commit(t);
}
