/*
 * test_jobs.c - unit tests of src/jobs/: the lock table on its own, then
 * the engine end to end (success, failure with undo, abort while queued
 * and while running, lock timeout, submission order among conflicting
 * jobs, serial, parallel and nested children, aborting parents, the
 * priority lane, object.update, submission errors, stop and restart),
 * crash recovery, and retention.
 *
 * DESIGN: the lock table is pure data and is driven directly. Every
 * engine test gets a fresh directory from mkdtemp() and a real database
 * in it (setup); the engine runs its real worker threads on it and the
 * test watches the database the way a client of GET /Job would, by
 * polling db_job_get() with a generous deadline. The engine is one
 * process-wide instance, so a test that started it stops it (teardown
 * does so too when an assertion cut the test short) before the database
 * is closed. Recovery tests build the state a crash leaves with the same
 * db_txn_* calls the engine uses, then start the engine on it. Timing
 * assertions only ever bound from above, with a wide margin, so a loaded
 * machine makes a test slower, not wrong.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tmpdir.h"
#include "db/db.h"
#include "jobs/jobs.h"
#include "jobs/locks.h"
#include "model/model.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"

#define DAY_MS (24 * 3600 * 1000LL)
#define WAIT_MS 10000   /* how long a job may take before the test fails */
#define USER "alice"

struct fixture {
    char dir[64];   /* the test's own temporary directory */
    char *path;     /* <dir>/ovmm.db */
    struct db *db;
    char *manager;  /* the Manager's id */
    bool engine;    /* jobs_start() succeeded and jobs_stop() is due */
};

static int
setup(void **state)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));

    if (tmpdir_make(fx->dir, sizeof(fx->dir), "jobs") < 0) {
        xfree(fx);
        return -1;
    }
    fx->path = xasprintf("%s/ovmm.db", fx->dir);
    err_clear();
    *state = fx;
    fx->db = db_open(fx->path);
    if (!fx->db)
        return -1;
    fx->manager = db_manager_id(fx->db);
    if (!fx->manager)
        return -1;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;

    if (fx->engine)
        jobs_stop(0);
    db_close(fx->db);
    tmpdir_remove(fx->dir);
    xfree(fx->manager);
    xfree(fx->path);
    xfree(fx);
    return 0;
}

/* ---- engine helpers ---- */

/* jobs_init() + jobs_recover() + jobs_start() with 4 ordinary workers and
 * 1 priority worker. */
static void
engine_start(struct fixture *fx, int64_t lock_timeout_ms,
             int64_t retention_ms)
{
    struct jobs_conf c = {
        .db = fx->db,
        .workers = 4,
        .priority_workers = 1,
        .lock_timeout_ms = lock_timeout_ms,
        .retention_ms = retention_ms,
        .event_retention_ms = DAY_MS,
    };

    assert_int_equal(jobs_init(&c), 0);
    assert_int_equal(jobs_recover(), 0);
    assert_int_equal(jobs_start(), 0);
    fx->engine = true;
}

static void
engine_stop(struct fixture *fx, int64_t grace_ms)
{
    jobs_stop(grace_ms);
    fx->engine = false;
}

/* A job request under construction: fixed arrays the request points
 * into, and the JSON arguments it borrows. */
struct rb {
    struct job_req req;
    struct job_object_req objs[4];
    struct job_op_req ops[4];
    json_object *args[4];
};

static void
rb_init(struct rb *b, const char *name)
{
    memset(b, 0, sizeof(*b));
    b->req.name = name;
    b->req.description = "a test job";
    b->req.user = USER;
    b->req.objects = b->objs;
    b->req.ops = b->ops;
}

static void
rb_clear(struct rb *b)
{
    size_t i;

    for (i = 0; i < b->req.nops; i++)
        json_object_put(b->args[i]);
    b->req.nops = 0;
}

/* Declare object @id (a Manager when it is the Manager's id). */
static void
rb_object(struct rb *b, const char *id, bool exclusive)
{
    struct job_object_req *o = &b->objs[b->req.nobjects++];

    assert_true(b->req.nobjects <= 4);
    o->id = id;
    o->type = "Manager";
    o->name = id;
    o->exclusive = exclusive;
}

/* Add operation @op with the JSON arguments @args_json. */
static void
rb_op(struct rb *b, const char *op, const char *args_json)
{
    size_t i = b->req.nops++;

    assert_true(b->req.nops <= 4);
    b->args[i] = json_tokener_parse(args_json);
    assert_non_null(b->args[i]);
    b->ops[i].op = op;
    b->ops[i].description = op;
    b->ops[i].args = b->args[i];
}

static void
rb_touch(struct rb *b, const char *id)
{
    char *AUTOFREE a = xasprintf("{\"id\": \"%s\"}", id);

    rb_op(b, "diag.touch", a);
}

static void
rb_sleep(struct rb *b, int64_t ms)
{
    char a[64];

    snprintf(a, sizeof(a), "{\"ms\": %" PRId64 "}", ms);
    rb_op(b, "diag.sleep", a);
}

static int64_t
submit(const struct job_req *r)
{
    int64_t id = 0;

    if (jobs_submit(r, &id) < 0)
        fail_msg("cannot submit job '%s': %s", r->name, err_message());
    assert_true(id > 0);
    return id;
}

/* Submit a job of the operations in @b and free their arguments. */
static int64_t
rb_submit(struct rb *b)
{
    int64_t id = submit(&b->req);

    rb_clear(b);
    return id;
}

static struct db_job *
job_get(struct fixture *fx, int64_t id)
{
    struct db_job *j = db_job_get(fx->db, id);

    if (!j)
        fail_msg("job %" PRId64 ": %s", id, err_message());
    return j;
}

/* Wait until job @id is done; its row (caller frees). */
static struct db_job *
wait_done(struct fixture *fx, int64_t id)
{
    int64_t until = time_mono_ms() + WAIT_MS;

    for (;;) {
        struct db_job *j = job_get(fx, id);

        if (j->done)
            return j;
        db_job_free(j);
        if (time_mono_ms() > until)
            fail_msg("job %" PRId64 " not done after %d ms", id, WAIT_MS);
        usleep(2000);
    }
}

/* Job @id's row once done, or NULL when it is not done within @ms. */
static struct db_job *
done_within(struct fixture *fx, int64_t id, int64_t ms)
{
    int64_t until = time_mono_ms() + ms;

    for (;;) {
        struct db_job *j = job_get(fx, id);

        if (j->done)
            return j;
        db_job_free(j);
        if (time_mono_ms() > until)
            return NULL;
        usleep(2000);
    }
}

/* Wait until job @id is in @state (and not done unless @state is final). */
static void
wait_state(struct fixture *fx, int64_t id, enum db_job_state state)
{
    int64_t until = time_mono_ms() + WAIT_MS;

    for (;;) {
        AUTOPTR(db_job) struct db_job *j = job_get(fx, id);

        if (j->run_state == state)
            return;
        if (j->done)
            fail_msg("job %" PRId64 " ended %s while waiting for %s", id,
                     db_job_state_str(j->run_state), db_job_state_str(state));
        if (time_mono_ms() > until)
            fail_msg("job %" PRId64 " not %s after %d ms", id,
                     db_job_state_str(state), WAIT_MS);
        usleep(2000);
    }
}

/* The states of job @id's operations, comma-separated, into @out. */
static const char *
op_states(struct fixture *fx, int64_t id, char *out, size_t size)
{
    struct db_job_op *ops = NULL;
    size_t n = 0, i, len = 0;

    assert_int_equal(db_job_ops(fx->db, id, &ops, &n), 0);
    out[0] = '\0';
    for (i = 0; i < n; i++) {
        len += (size_t)snprintf(out + len, size - len, "%s%s", i ? "," : "",
                                ops[i].state);
        assert_true(len < size);
    }
    db_job_ops_free(ops, n);
    return out;
}

#define assert_ops(fx, id, want)                                              \
    do {                                                                      \
        char ops_buf_[256];                                                   \
        assert_string_equal(op_states((fx), (id), ops_buf_,                   \
                                      sizeof(ops_buf_)), (want));             \
    } while (0)

/* Wait until operation @seq of job @id is in @state. */
static void
wait_op(struct fixture *fx, int64_t id, int64_t seq, const char *state)
{
    int64_t until = time_mono_ms() + WAIT_MS;

    for (;;) {
        struct db_job_op *ops = NULL;
        size_t n = 0;
        bool ok;

        assert_int_equal(db_job_ops(fx->db, id, &ops, &n), 0);
        assert_true((size_t)seq < n);
        ok = strcmp(ops[seq].state, state) == 0;
        db_job_ops_free(ops, n);
        if (ok)
            return;
        if (time_mono_ms() > until)
            fail_msg("job %" PRId64 " operation %" PRId64 " not %s", id, seq,
                     state);
        usleep(2000);
    }
}

static struct model_obj *
manager_get(struct fixture *fx)
{
    struct model_obj *m = db_object_get(fx->db, model_type_find("Manager"),
                                        fx->manager);

    assert_non_null(m);
    return m;
}

/* No unreleased lock row and the Manager not marked locked. */
static void
assert_no_locks(struct fixture *fx)
{
    AUTOPTR(model_obj) struct model_obj *m = manager_get(fx);
    struct db_job_object *v = NULL;
    size_t n = 99;

    assert_int_equal(db_lock_list(fx->db, &v, &n), 0);
    if (n)
        fail_msg("%zu lock(s) left, the first of job %" PRId64 " on '%s'", n,
                 v[0].job_id, v[0].object_id);
    db_job_objects_free(v, n);
    assert_false(m->locked);
}

/* How many jobs the database holds. */
static int64_t
job_count(struct fixture *fx)
{
    struct db_job_filter f = { .state = -1, .parent_id = -1, .limit = -1 };
    struct db_job **v = NULL;
    size_t n = 0;
    int64_t total = -1;

    assert_int_equal(db_job_list(fx->db, &f, &v, &n, &total), 0);
    db_jobs_free(v, n);
    return total;
}

/* The number of events of @type and @severity that job @job raised on
 * the Manager. */
static int
manager_events(struct fixture *fx, int64_t job, const char *type, int sev)
{
    struct db_event_filter f = { .object_id = fx->manager,
                                 .min_severity = -1, .acknowledged = -1,
                                 .job_id = job, .limit = -1 };
    struct db_event **v = NULL;
    size_t n = 0, i;
    int64_t total = 0;
    int count = 0;

    assert_int_equal(db_event_list(fx->db, &f, &v, &n, &total), 0);
    for (i = 0; i < n; i++) {
        assert_string_equal(v[i]->object_id, fx->manager);
        if (strcmp(v[i]->type, type) == 0 && v[i]->severity == sev)
            count++;
    }
    db_events_free(v, n);
    return count;
}

/* ---- the lock table ---- */

static const struct lock_obj A_X[] = { { "a", true } };
static const struct lock_obj A_S[] = { { "a", false } };
static const struct lock_obj B_X[] = { { "b", true } };
static const struct lock_obj C_S[] = { { "c", false } };

static void
test_locks_disjoint(void **state)
{
    struct lock_table *lt = locks_new();
    static const struct lock_obj ab[] = { { "b", true }, { "a", false } };
    static const struct lock_obj cd[] = { { "d", true }, { "c", true } };

    (void)state;
    locks_add(lt, 1, false, ab, 2);
    locks_add(lt, 2, false, cd, 2);
    locks_add(lt, 3, false, NULL, 0);   /* needs nothing */
    assert_int_equal(locks_count(lt), 3);
    assert_true(locks_grantable(lt, 1));
    assert_true(locks_grantable(lt, 2));
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 1);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 2);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 3);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 0);
    /* Held requests are not "grantable" again. */
    assert_false(locks_grantable(lt, 1));
    assert_false(locks_grantable(lt, 42));
    assert_int_equal(locks_count(lt), 3);
    locks_remove(lt, 2);
    locks_remove(lt, 42);   /* unknown: nothing happens */
    assert_int_equal(locks_count(lt), 2);
    locks_free(lt);
    locks_free(NULL);
}

static void
test_locks_modes(void **state)
{
    struct lock_table *lt = locks_new();

    (void)state;
    /* exclusive vs exclusive */
    locks_add(lt, 1, false, A_X, 1);
    locks_add(lt, 2, false, A_X, 1);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 1);
    assert_false(locks_grantable(lt, 2));
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 0);
    locks_remove(lt, 1);
    assert_true(locks_grantable(lt, 2));
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 2);
    locks_remove(lt, 2);
    assert_int_equal(locks_count(lt), 0);

    /* shared + shared */
    locks_add(lt, 3, false, A_S, 1);
    locks_add(lt, 4, false, A_S, 1);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 3);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 4);
    /* exclusive behind two shared holders */
    locks_add(lt, 5, false, A_X, 1);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 0);
    locks_remove(lt, 3);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 0);
    locks_remove(lt, 4);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 5);
    /* shared behind an exclusive holder */
    locks_add(lt, 6, false, A_S, 1);
    assert_false(locks_grantable(lt, 6));
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 0);
    locks_remove(lt, 5);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 6);
    locks_free(lt);
}

static void
test_locks_fifo(void **state)
{
    struct lock_table *lt = locks_new();

    (void)state;
    /* A holds X, B waits for X, C wants S: C must not overtake B. */
    locks_add(lt, 1, false, A_X, 1);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 1);
    locks_add(lt, 2, false, A_X, 1);
    locks_add(lt, 3, false, A_S, 1);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 0);
    locks_remove(lt, 1);
    assert_false(locks_grantable(lt, 3));
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 2);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 0);
    locks_remove(lt, 2);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 3);
    locks_remove(lt, 3);

    /* A holds S, B waits for X, C wants S: compatible with the holder but
     * B reserved the object, so C still waits (no writer starvation). */
    locks_add(lt, 11, false, A_S, 1);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 11);
    locks_add(lt, 12, false, A_X, 1);
    locks_add(lt, 13, false, A_S, 1);
    assert_false(locks_grantable(lt, 13));
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 0);
    locks_remove(lt, 11);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 12);
    locks_remove(lt, 12);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 13);
    locks_free(lt);
}

static void
test_locks_skip_ahead(void **state)
{
    struct lock_table *lt = locks_new();
    static const struct lock_obj bc[] = { { "c", false }, { "b", true } };

    (void)state;
    /* 1 holds a; 2 waits for a; 3 needs only b: it goes at once. */
    locks_add(lt, 1, false, A_X, 1);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 1);
    locks_add(lt, 2, false, A_X, 1);
    locks_add(lt, 3, false, B_X, 1);
    assert_true(locks_grantable(lt, 3));
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 3);
    /* 4 needs b (held by 3) and c: waits; 5 needs c shared only: 4's
     * reservation of c is shared, so 5 is compatible and goes. */
    locks_add(lt, 4, false, bc, 2);
    locks_add(lt, 5, false, C_S, 1);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 5);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 0);
    locks_remove(lt, 3);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 4);
    locks_remove(lt, 1);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 2);
    locks_free(lt);
}

static void
test_locks_duplicates(void **state)
{
    struct lock_table *lt = locks_new();
    static const struct lock_obj dup[] = {
        { "a", false }, { "b", false }, { "a", true }, { "a", false },
    };
    static const struct lock_obj dup_s[] = { { "c", false }, { "c", false } };
    static const struct lock_obj b_s[] = { { "b", false } };
    const char *obj = NULL;

    (void)state;
    locks_add(lt, 1, false, dup, 4);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 1);
    /* "a" merged to exclusive: a shared request on it conflicts. */
    locks_add(lt, 2, false, A_S, 1);
    assert_false(locks_grantable(lt, 2));
    assert_int_equal(locks_blocker(lt, 2, &obj), 1);
    assert_string_equal(obj, "a");
    /* "b" stayed shared. */
    locks_add(lt, 3, false, b_s, 1);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 3);
    /* Two shared entries merge to one shared. */
    locks_add(lt, 4, false, dup_s, 2);
    locks_add(lt, 5, false, C_S, 1);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 4);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 5);
    assert_int_equal(locks_count(lt), 5);
    locks_free(lt);  /* held and waiting requests alike */
}

static void
test_locks_priority(void **state)
{
    struct lock_table *lt = locks_new();
    const char *obj = NULL;

    (void)state;
    /* Nothing held: the priority request is considered first. */
    locks_add(lt, 1, false, B_X, 1);
    locks_add(lt, 2, true, B_X, 1);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 2);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 0);
    locks_remove(lt, 2);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 1);
    locks_remove(lt, 1);

    /* 10 holds a; 11 (ordinary) waits; 12 and 13 (priority) come later:
     * never granted over the holder, then ahead of 11, in their order. */
    locks_add(lt, 10, false, A_X, 1);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 10);
    locks_add(lt, 11, false, A_X, 1);
    locks_add(lt, 12, true, A_X, 1);
    locks_add(lt, 13, true, A_X, 1);
    assert_false(locks_grantable(lt, 12));
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 0);
    assert_int_equal(locks_blocker(lt, 12, &obj), 10);
    assert_string_equal(obj, "a");
    locks_remove(lt, 10);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 12);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 0);
    locks_remove(lt, 12);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 13);
    locks_remove(lt, 13);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 11);

    /* A priority request for a held object waits even though it queues
     * ahead of the holder in the table. */
    locks_add(lt, 14, true, A_S, 1);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 0);
    locks_remove(lt, 11);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 14);
    locks_free(lt);
}

static void
test_locks_blocker(void **state)
{
    struct lock_table *lt = locks_new();
    static const struct lock_obj ab[] = { { "a", false }, { "b", true } };
    const char *obj = "x";

    (void)state;
    assert_int_equal(locks_blocker(lt, 7, &obj), 0);   /* unknown job */
    assert_null(obj);
    locks_add(lt, 1, false, ab, 2);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 1);
    locks_add(lt, 2, false, B_X, 1);
    assert_int_equal(locks_blocker(lt, 2, &obj), 1);
    assert_string_equal(obj, "b");
    /* 3 wants a exclusive: the holder's shared a blocks it. */
    locks_add(lt, 3, false, A_X, 1);
    assert_int_equal(locks_blocker(lt, 3, &obj), 1);
    assert_string_equal(obj, "a");
    /* 4 wants a shared: compatible with the holder, only queued behind
     * the waiter 3. */
    locks_add(lt, 4, false, A_S, 1);
    obj = "x";
    assert_int_equal(locks_blocker(lt, 4, &obj), 0);
    assert_null(obj);
    assert_false(locks_grantable(lt, 4));
    locks_free(lt);
}

static void
test_locks_remove_waiter(void **state)
{
    struct lock_table *lt = locks_new();

    (void)state;
    locks_add(lt, 1, false, A_S, 1);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 1);
    locks_add(lt, 2, false, A_X, 1);
    locks_add(lt, 3, false, A_S, 1);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 0);
    /* The waiter in the middle goes (aborted, timed out): 3 is free. */
    locks_remove(lt, 2);
    assert_true(locks_grantable(lt, 3));
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 3);
    assert_int_equal(locks_count(lt), 2);
    locks_free(lt);
}

static bool
accept_even(void *cls, int64_t job)
{
    int *calls = cls;

    (*calls)++;
    return job % 2 == 0;
}

static bool
accept_none(void *cls, int64_t job)
{
    (void)cls;
    (void)job;
    return false;
}

static void
test_locks_accept(void **state)
{
    struct lock_table *lt = locks_new();
    int calls = 0;

    (void)state;
    locks_add(lt, 1, false, A_X, 1);
    locks_add(lt, 2, false, B_X, 1);
    assert_int_equal(locks_grant_next(lt, accept_none, NULL), 0);
    assert_int_equal(locks_grant_next(lt, accept_even, &calls), 2);
    assert_true(calls >= 1);
    assert_int_equal(locks_grant_next(lt, accept_even, &calls), 0);
    /* A request no lane takes now still keeps its place: 4 conflicts with
     * the waiting 1 and is not granted, even to a lane that takes it. */
    locks_add(lt, 4, false, A_X, 1);
    assert_int_equal(locks_grant_next(lt, accept_even, &calls), 0);
    assert_int_equal(locks_grant_next(lt, NULL, NULL), 1);
    locks_remove(lt, 1);
    assert_int_equal(locks_grant_next(lt, accept_even, &calls), 4);
    locks_free(lt);
}

/* ---- the engine ---- */

static void
test_engine_touch(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(model_obj) struct model_obj *before = manager_get(fx);
    AUTOPTR(model_obj) struct model_obj *after = NULL;
    AUTOPTR(db_job) struct db_job *j = NULL;
    char *AUTOFREE want = NULL;
    struct db_job_object *objs = NULL;
    size_t n = 0;
    struct rb b;
    int64_t id;

    engine_start(fx, 500, DAY_MS);
    rb_init(&b, "Touch Manager");
    rb_object(&b, fx->manager, true);
    rb_touch(&b, fx->manager);
    id = rb_submit(&b);

    j = wait_done(fx, id);
    assert_int_equal(j->run_state, JOB_SUCCESS);
    assert_int_equal(j->summary_state, JOB_SUCCESS);
    assert_true(j->summary_done);
    assert_null(j->error_type);
    assert_string_equal(j->user, USER);
    assert_true(j->start_ms > 0 && j->end_ms >= j->start_ms);
    assert_true(j->start_ms >= j->created_ms);
    /* job_set_result() from the touch. */
    assert_string_equal(j->result_type, "Manager");
    assert_string_equal(j->result_id, fx->manager);
    assert_ops(fx, id, "DONE");

    after = manager_get(fx);
    want = xasprintf("touched by job %" PRId64, id);
    assert_string_equal(after->description, want);
    assert_int_equal(after->generation, before->generation + 1);
    assert_int_equal(manager_events(fx, id, "object.updated",
                                    SEV_INFORMATIONAL), 1);
    assert_int_equal(manager_events(fx, id, "job.failure", SEV_WARNING), 0);

    /* Locks: released, not deleted (GET /Job?object= still finds it), and
     * still marked granted, so the transcript shows the job held it. */
    assert_no_locks(fx);
    assert_int_equal(db_job_objects(fx->db, id, &objs, &n), 0);
    assert_int_equal(n, 1);
    assert_true(objs[0].released);
    assert_true(objs[0].granted);
    db_job_objects_free(objs, n);
    engine_stop(fx, 5000);
}

static void
test_engine_failure_undoes(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(model_obj) struct model_obj *before = manager_get(fx);
    AUTOPTR(model_obj) struct model_obj *after = NULL;
    AUTOPTR(db_job) struct db_job *j = NULL;
    struct db_job_op *ops = NULL;
    size_t n = 0;
    struct rb b;
    int64_t id;

    engine_start(fx, 500, DAY_MS);
    rb_init(&b, "Touch then fail");
    rb_object(&b, fx->manager, true);
    rb_touch(&b, fx->manager);
    rb_op(&b, "diag.fail", "{\"message\": \"boom\"}");
    rb_sleep(&b, 1);
    id = rb_submit(&b);

    j = wait_done(fx, id);
    assert_int_equal(j->run_state, JOB_FAILURE);
    assert_int_equal(j->summary_state, JOB_FAILURE);
    assert_string_equal(j->error_type, "INVALID_STATE");
    assert_string_equal(j->error_message, "injected failure: boom");
    assert_ops(fx, id, "UNDONE,FAILED,SKIPPED");
    assert_int_equal(db_job_ops(fx->db, id, &ops, &n), 0);
    assert_int_equal(n, 3);
    assert_non_null(ops[0].undo);       /* kept for the transcript */
    assert_true(ops[0].undo_ms > 0);
    assert_string_equal(ops[1].message, "injected failure: boom");
    db_job_ops_free(ops, n);

    after = manager_get(fx);
    assert_string_equal(after->description, before->description);
    assert_string_equal(after->name, before->name);
    assert_int_equal(after->generation, before->generation);
    assert_int_equal(manager_events(fx, id, "job.failure", SEV_WARNING), 1);
    assert_int_equal(after->event_severity, SEV_WARNING);
    assert_no_locks(fx);
    engine_stop(fx, 5000);
}

static void
test_engine_abort_queued(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(model_obj) struct model_obj *before = manager_get(fx);
    AUTOPTR(model_obj) struct model_obj *after = NULL;
    AUTOPTR(db_job) struct db_job *j = NULL;
    AUTOPTR(db_job) struct db_job *h = NULL;
    struct rb b;
    int64_t holder, id;

    engine_start(fx, 10000, DAY_MS);
    rb_init(&b, "Holder");
    rb_object(&b, fx->manager, true);
    rb_sleep(&b, 10000);
    holder = rb_submit(&b);
    wait_state(fx, holder, JOB_RUNNING);

    rb_init(&b, "Waiter");
    rb_object(&b, fx->manager, true);
    rb_touch(&b, fx->manager);
    rb_sleep(&b, 1);
    id = rb_submit(&b);
    usleep(50 * 1000);
    j = job_get(fx, id);
    assert_int_equal(j->run_state, JOB_CREATED);
    db_job_free(steal_ptr(&j));

    /* Only its owner or an administrator may abort it. */
    assert_int_equal(jobs_abort(id, "bob", false), -1);
    assert_int_equal(err_code(), ERR_FORBIDDEN);
    assert_int_equal(jobs_abort(12345, USER, false), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);

    assert_int_equal(jobs_abort(id, USER, false), 0);
    j = job_get(fx, id);     /* no waiting: it is ABORTED already */
    assert_int_equal(j->run_state, JOB_ABORTED);
    assert_true(j->done);
    assert_string_equal(j->aborted_by, USER);
    assert_string_equal(j->error_type, "ABORTED");
    assert_int_equal(j->start_ms, 0);
    assert_ops(fx, id, "SKIPPED,SKIPPED");
    assert_int_equal(manager_events(fx, id, "job.aborted",
                                    SEV_INFORMATIONAL), 1);
    assert_int_equal(jobs_abort(id, USER, false), -1);
    assert_int_equal(err_code(), ERR_STATE);

    /* The holder is untouched by that; an administrator ends it. */
    h = job_get(fx, holder);
    assert_int_equal(h->run_state, JOB_RUNNING);
    db_job_free(steal_ptr(&h));
    assert_int_equal(jobs_abort(holder, "admin", true), 0);
    h = wait_done(fx, holder);
    assert_int_equal(h->run_state, JOB_ABORTED);
    assert_string_equal(h->aborted_by, "admin");

    after = manager_get(fx);
    assert_string_equal(after->description, before->description);
    assert_int_equal(after->generation, before->generation);
    assert_no_locks(fx);
    engine_stop(fx, 5000);
}

static void
test_engine_abort_running(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(model_obj) struct model_obj *before = manager_get(fx);
    AUTOPTR(model_obj) struct model_obj *mid = NULL;
    AUTOPTR(model_obj) struct model_obj *after = NULL;
    AUTOPTR(db_job) struct db_job *j = NULL;
    char *AUTOFREE want = NULL;
    struct rb b;
    int64_t id, t0, took;

    engine_start(fx, 500, DAY_MS);
    rb_init(&b, "Touch and sleep");
    rb_object(&b, fx->manager, true);
    rb_touch(&b, fx->manager);
    rb_sleep(&b, 20000);
    rb_sleep(&b, 1);
    id = rb_submit(&b);
    wait_op(fx, id, 1, "RUNNING");
    mid = manager_get(fx);
    want = xasprintf("touched by job %" PRId64, id);
    assert_string_equal(mid->description, want);
    assert_true(mid->locked);

    t0 = time_mono_ms();
    assert_int_equal(jobs_abort(id, USER, false), 0);
    j = wait_done(fx, id);
    took = time_mono_ms() - t0;
    assert_true(took < 3000);   /* not the 20 s of the sleep */
    assert_int_equal(j->run_state, JOB_ABORTED);
    assert_string_equal(j->aborted_by, USER);
    assert_string_equal(j->error_type, "ABORTED");
    assert_non_null(strstr(j->error_message, USER));
    assert_ops(fx, id, "UNDONE,FAILED,SKIPPED");

    after = manager_get(fx);
    assert_string_equal(after->description, before->description);
    assert_int_equal(after->generation, before->generation);
    assert_int_equal(manager_events(fx, id, "job.aborted",
                                    SEV_INFORMATIONAL), 1);
    assert_no_locks(fx);
    engine_stop(fx, 5000);
}

static void
test_engine_lock_timeout(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(db_job) struct db_job *j = NULL;
    AUTOPTR(db_job) struct db_job *h = NULL;
    char *AUTOFREE holder_text = NULL;
    struct rb b;
    int64_t holder, id, t0, took;

    engine_start(fx, 500, DAY_MS);
    rb_init(&b, "Holder");
    rb_object(&b, fx->manager, true);
    rb_sleep(&b, 20000);
    holder = rb_submit(&b);
    wait_state(fx, holder, JOB_RUNNING);

    t0 = time_mono_ms();
    rb_init(&b, "Too late");
    rb_object(&b, fx->manager, false);   /* even shared */
    rb_touch(&b, fx->manager);
    id = rb_submit(&b);
    j = wait_done(fx, id);
    took = time_mono_ms() - t0;
    assert_true(took >= 400);
    assert_true(took < 5000);
    assert_int_equal(j->run_state, JOB_FAILURE);
    assert_string_equal(j->error_type, "TIMEOUT");
    holder_text = xasprintf("held by job %" PRId64, holder);
    if (!strstr(j->error_message, holder_text) ||
        !strstr(j->error_message, fx->manager))
        fail_msg("timeout message '%s' does not name the holder",
                 j->error_message);
    assert_ops(fx, id, "SKIPPED");
    assert_int_equal(manager_events(fx, id, "job.failure", SEV_WARNING), 1);

    /* The holder still runs, holding its lock. */
    h = job_get(fx, holder);
    assert_int_equal(h->run_state, JOB_RUNNING);
    db_job_free(steal_ptr(&h));
    assert_int_equal(jobs_abort(holder, USER, false), 0);
    h = wait_done(fx, holder);
    assert_int_equal(h->run_state, JOB_ABORTED);
    assert_no_locks(fx);
    engine_stop(fx, 5000);
}

static void
test_engine_order(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(model_obj) struct model_obj *after = NULL;
    char *AUTOFREE want = NULL;
    int64_t ids[6];
    struct db_job *rows[6];
    struct rb b;
    size_t i;

    engine_start(fx, 10000, DAY_MS);
    /* Exclusive, then shared ones, then exclusive again: with 4 workers
     * free, only the locks serialize them. */
    for (i = 0; i < 6; i++) {
        char name[32];

        snprintf(name, sizeof(name), "Ordered %zu", i);
        rb_init(&b, name);
        rb_object(&b, fx->manager, i == 0 || i == 5);
        if (i == 0 || i == 5)
            rb_touch(&b, fx->manager);
        rb_sleep(&b, i == 0 || i == 5 ? 30 : 150);
        ids[i] = rb_submit(&b);
        if (i)
            assert_true(ids[i] > ids[i - 1]);
    }
    for (i = 0; i < 6; i++) {
        rows[i] = wait_done(fx, ids[i]);
        assert_int_equal(rows[i]->run_state, JOB_SUCCESS);
    }
    /* The exclusive jobs ran alone; the shared ones in between ran after
     * the first and before the last, together. */
    for (i = 1; i < 5; i++) {
        assert_true(rows[i]->start_ms >= rows[0]->end_ms);
        assert_true(rows[i]->end_ms <= rows[5]->start_ms);
        assert_true(rows[i]->start_ms < rows[1]->end_ms);
    }
    for (i = 0; i < 6; i++)
        db_job_free(rows[i]);
    after = manager_get(fx);
    want = xasprintf("touched by job %" PRId64, ids[5]);
    assert_string_equal(after->description, want);
    assert_no_locks(fx);
    engine_stop(fx, 5000);
}

static void
test_engine_serial_order(void **state)
{
    struct fixture *fx = *state;
    int64_t ids[5];
    struct rb b;
    size_t i;

    engine_start(fx, 10000, DAY_MS);
    for (i = 0; i < 5; i++) {
        rb_init(&b, "Exclusive");
        rb_object(&b, fx->manager, true);
        rb_touch(&b, fx->manager);
        rb_sleep(&b, 30);
        ids[i] = rb_submit(&b);
    }
    for (i = 0; i < 5; i++) {
        AUTOPTR(db_job) struct db_job *j = wait_done(fx, ids[i]);
        AUTOPTR(db_job) struct db_job *prev = NULL;

        assert_int_equal(j->run_state, JOB_SUCCESS);
        if (i) {
            prev = job_get(fx, ids[i - 1]);
            /* In submission order, one after the other. */
            assert_true(j->start_ms >= prev->end_ms);
        }
    }
    assert_no_locks(fx);
    engine_stop(fx, 5000);
}

static void
test_engine_disjoint_parallel(void **state)
{
    struct fixture *fx = *state;
    static const char *const objs[] = { "obj-1", "obj-2", "obj-3" };
    struct db_job *rows[3];
    int64_t ids[3], latest_start = 0, earliest_end = INT64_MAX;
    struct rb b;
    size_t i;

    engine_start(fx, 500, DAY_MS);
    for (i = 0; i < 3; i++) {
        rb_init(&b, "Disjoint");
        rb_object(&b, objs[i], true);
        rb_sleep(&b, 400);
        ids[i] = rb_submit(&b);
    }
    for (i = 0; i < 3; i++) {
        rows[i] = wait_done(fx, ids[i]);
        assert_int_equal(rows[i]->run_state, JOB_SUCCESS);
        if (rows[i]->start_ms > latest_start)
            latest_start = rows[i]->start_ms;
        if (rows[i]->end_ms < earliest_end)
            earliest_end = rows[i]->end_ms;
    }
    /* They overlapped instead of running one after the other. */
    assert_true(latest_start < earliest_end);
    for (i = 0; i < 3; i++)
        db_job_free(rows[i]);
    engine_stop(fx, 5000);
}

static void
test_engine_serial_children(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(db_job) struct db_job *p = NULL;
    AUTOPTR(model_obj) struct model_obj *after = NULL;
    char *AUTOFREE want = NULL;
    struct rb kid[3], parent;
    struct job_req kids[3];
    static const char *const names[] = { "child 0", "child 1", "child 2" };
    static const enum db_job_state states[] = { JOB_SUCCESS, JOB_FAILURE,
                                                JOB_ABORTED };
    static const char *const ops[] = { "DONE", "UNDONE,FAILED",
                                       "SKIPPED" };
    int64_t id;
    size_t i;

    engine_start(fx, 10000, DAY_MS);
    for (i = 0; i < 3; i++) {
        rb_init(&kid[i], names[i]);
        rb_object(&kid[i], fx->manager, true);
        rb_touch(&kid[i], fx->manager);
        if (i == 1)
            rb_op(&kid[i], "diag.fail", "{}");
        kids[i] = kid[i].req;
    }
    rb_init(&parent, "Serial parent");
    parent.req.children = kids;
    parent.req.nchildren = 3;
    id = submit(&parent.req);
    for (i = 0; i < 3; i++)
        rb_clear(&kid[i]);

    p = wait_done(fx, id);
    assert_int_equal(p->run_state, JOB_FAILURE);
    assert_string_equal(p->error_type, "CHILD_FAILED");
    assert_int_equal(p->nchildren, 3);
    for (i = 0; i < 3; i++) {
        AUTOPTR(db_job) struct db_job *c = wait_done(fx, p->child_ids[i]);

        if (i)
            assert_true(p->child_ids[i] > p->child_ids[i - 1]);
        assert_string_equal(c->name, names[i]);
        assert_int_equal(c->child_seq, (int64_t)i);
        assert_int_equal(c->parent_id, id);
        assert_string_equal(c->user, USER);
        assert_int_equal(c->run_state, states[i]);
        assert_ops(fx, c->id, ops[i]);
    }
    /* Child 0's touch stays; child 1's was undone; child 2 never ran. */
    after = manager_get(fx);
    want = xasprintf("touched by job %" PRId64, p->child_ids[0]);
    assert_string_equal(after->description, want);
    assert_no_locks(fx);
    engine_stop(fx, 5000);
}

static void
test_engine_parallel_children(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(db_job) struct db_job *p = NULL;
    static const char *const objs[] = { "par-1", "par-2", "par-3" };
    struct rb kid[3], parent;
    struct job_req kids[3];
    bool saw_queued_or_running = false, saw_running = false;
    int64_t id, until, latest_start = 0, earliest_end = INT64_MAX;
    size_t i;

    engine_start(fx, 10000, DAY_MS);
    for (i = 0; i < 3; i++) {
        rb_init(&kid[i], objs[i]);
        rb_object(&kid[i], objs[i], true);
        rb_sleep(&kid[i], 300);
        kids[i] = kid[i].req;
    }
    rb_init(&parent, "Parallel parent");
    parent.req.children = kids;
    parent.req.nchildren = 3;
    parent.req.parallel = true;
    id = submit(&parent.req);
    for (i = 0; i < 3; i++)
        rb_clear(&kid[i]);

    /* Watch the parent go CHILD_QUEUED/CHILD_RUNNING -> SUCCESS. */
    until = time_mono_ms() + WAIT_MS;
    for (;;) {
        AUTOPTR(db_job) struct db_job *j = job_get(fx, id);

        if (j->done)
            break;
        assert_true(j->run_state == JOB_CHILD_QUEUED ||
                    j->run_state == JOB_CHILD_RUNNING);
        saw_queued_or_running = true;
        if (j->run_state == JOB_CHILD_RUNNING) {
            saw_running = true;
            assert_int_equal(j->summary_state, JOB_CHILD_RUNNING);
            assert_true(j->start_ms > 0);
        }
        assert_true(time_mono_ms() < until);
        usleep(1000);
    }
    assert_true(saw_queued_or_running);
    assert_true(saw_running);
    p = job_get(fx, id);
    assert_int_equal(p->run_state, JOB_SUCCESS);
    assert_int_equal(p->summary_state, JOB_SUCCESS);
    assert_null(p->error_type);
    assert_int_equal(p->nchildren, 3);
    for (i = 0; i < 3; i++) {
        AUTOPTR(db_job) struct db_job *c = job_get(fx, p->child_ids[i]);

        assert_int_equal(c->run_state, JOB_SUCCESS);
        assert_true(c->end_ms <= p->end_ms);
        if (c->start_ms > latest_start)
            latest_start = c->start_ms;
        if (c->end_ms < earliest_end)
            earliest_end = c->end_ms;
    }
    assert_true(latest_start < earliest_end);   /* all at once */
    assert_no_locks(fx);
    engine_stop(fx, 5000);
}

/* A serial parent whose child failed: the children after it end ABORTED
 * at once, even when the objects they would need are held by another
 * job -- an aborted job has nothing to wait for. */
static void
test_engine_serial_rest_not_waiting(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(db_job) struct db_job *p = NULL;
    AUTOPTR(db_job) struct db_job *c1 = NULL;
    struct rb b, kid[2], parent;
    struct job_req kids[2];
    int64_t holder, pid;

    engine_start(fx, 10000, DAY_MS);
    rb_init(&b, "Unrelated holder");
    rb_object(&b, fx->manager, true);
    rb_sleep(&b, 20000);
    holder = rb_submit(&b);
    wait_state(fx, holder, JOB_RUNNING);

    rb_init(&kid[0], "Failing child");
    rb_object(&kid[0], "rest-0", true);
    rb_op(&kid[0], "diag.fail", "{}");
    rb_init(&kid[1], "Child needing the held object");
    rb_object(&kid[1], fx->manager, true);
    rb_touch(&kid[1], fx->manager);
    kids[0] = kid[0].req;
    kids[1] = kid[1].req;
    rb_init(&parent, "Serial parent");
    parent.req.children = kids;
    parent.req.nchildren = 2;
    pid = submit(&parent.req);
    rb_clear(&kid[0]);
    rb_clear(&kid[1]);

    p = done_within(fx, pid, 2000);
    if (!p) {
        p = job_get(fx, pid);
        c1 = job_get(fx, p->child_ids[1]);
        fail_msg("parent still %s 2 s after its first child failed: child "
                 "1 is %s, waiting for the lock held by job %" PRId64,
                 db_job_state_str(p->run_state),
                 db_job_state_str(c1->run_state), holder);
    }
    assert_int_equal(p->run_state, JOB_FAILURE);
    c1 = job_get(fx, p->child_ids[1]);
    assert_int_equal(c1->run_state, JOB_ABORTED);
    assert_ops(fx, c1->id, "SKIPPED");
    assert_int_equal(jobs_abort(holder, USER, false), 0);
    db_job_free(wait_done(fx, holder));
    assert_no_locks(fx);
    engine_stop(fx, 5000);
}

/* The same through a short lock timeout: the child the failure aborted
 * must end ABORTED, not FAILURE "TIMEOUT". */
static void
test_engine_serial_rest_timeout(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(db_job) struct db_job *p = NULL;
    AUTOPTR(db_job) struct db_job *c1 = NULL;
    struct rb b, kid[2], parent;
    struct job_req kids[2];
    int64_t holder, pid;

    engine_start(fx, 300, DAY_MS);
    rb_init(&b, "Unrelated holder");
    rb_object(&b, fx->manager, true);
    rb_sleep(&b, 20000);
    holder = rb_submit(&b);
    wait_state(fx, holder, JOB_RUNNING);

    rb_init(&kid[0], "Failing child");
    rb_object(&kid[0], "rest-0", true);
    rb_op(&kid[0], "diag.fail", "{}");
    rb_init(&kid[1], "Child needing the held object");
    rb_object(&kid[1], fx->manager, true);
    rb_touch(&kid[1], fx->manager);
    kids[0] = kid[0].req;
    kids[1] = kid[1].req;
    rb_init(&parent, "Serial parent");
    parent.req.children = kids;
    parent.req.nchildren = 2;
    pid = submit(&parent.req);
    rb_clear(&kid[0]);
    rb_clear(&kid[1]);

    p = wait_done(fx, pid);
    assert_int_equal(p->run_state, JOB_FAILURE);
    c1 = job_get(fx, p->child_ids[1]);
    if (c1->run_state != JOB_ABORTED)
        fail_msg("child after the failed one ended %s (%s: %s), not "
                 "ABORTED", db_job_state_str(c1->run_state),
                 c1->error_type ? c1->error_type : "",
                 c1->error_message ? c1->error_message : "");
    assert_int_equal(jobs_abort(holder, USER, false), 0);
    db_job_free(wait_done(fx, holder));
    assert_no_locks(fx);
    engine_stop(fx, 5000);
}

/* A serial parent whose first child fails and whose second child is
 * itself a parallel parent: "the first failure ends the rest ABORTED",
 * so none of the grandchildren may run. */
static void
test_engine_serial_rest_nested(void **state)
{
    struct fixture *fx = *state;
    struct rb leaf, gkid[2], inner, outer;
    struct job_req kids[2], gkids[2];
    enum db_job_state p_state, mid_state, g_state[2];
    char g_ops[2][64];
    bool unchanged;
    int64_t pid;
    size_t i;

    engine_start(fx, 10000, DAY_MS);
    rb_init(&leaf, "Failing child");
    rb_object(&leaf, "nest-0", true);
    rb_op(&leaf, "diag.fail", "{}");
    for (i = 0; i < 2; i++) {
        rb_init(&gkid[i], "Grandchild");
        rb_object(&gkid[i], i ? "nest-1" : fx->manager, true);
        rb_touch(&gkid[i], i ? "nest-1" : fx->manager);
        gkids[i] = gkid[i].req;
    }
    rb_init(&inner, "Parallel child");
    inner.req.children = gkids;
    inner.req.nchildren = 2;
    inner.req.parallel = true;
    kids[0] = leaf.req;
    kids[1] = inner.req;
    rb_init(&outer, "Serial parent");
    outer.req.children = kids;
    outer.req.nchildren = 2;
    {
        AUTOPTR(model_obj) struct model_obj *before = manager_get(fx);
        AUTOPTR(model_obj) struct model_obj *after = NULL;
        AUTOPTR(db_job) struct db_job *p = NULL;
        AUTOPTR(db_job) struct db_job *mid = NULL;

        pid = submit(&outer.req);
        rb_clear(&leaf);
        rb_clear(&gkid[0]);
        rb_clear(&gkid[1]);
        p = wait_done(fx, pid);
        p_state = p->run_state;
        mid = wait_done(fx, p->child_ids[1]);
        mid_state = mid->run_state;
        assert_int_equal(mid->nchildren, 2);
        for (i = 0; i < 2; i++) {
            AUTOPTR(db_job) struct db_job *g =
                wait_done(fx, mid->child_ids[i]);

            g_state[i] = g->run_state;
            op_states(fx, g->id, g_ops[i], sizeof(g_ops[i]));
        }
        after = manager_get(fx);
        unchanged = strcmp(after->description, before->description) == 0 &&
                    after->generation == before->generation;
    }
    assert_no_locks(fx);
    engine_stop(fx, 5000);

    /* Checked last, with nothing left to free, so that a failure here
     * does not also show up as a leak under ASan. */
    assert_int_equal(p_state, JOB_FAILURE);
    for (i = 0; i < 2; i++) {
        if (g_state[i] != JOB_ABORTED)
            fail_msg("grandchild %zu under the aborted parallel child ended "
                     "%s with operations %s: it ran after its serial "
                     "grandparent's first child failed", i,
                     db_job_state_str(g_state[i]), g_ops[i]);
        assert_string_equal(g_ops[i], "SKIPPED");
    }
    assert_int_equal(mid_state, JOB_ABORTED);
    assert_true(unchanged);
}

/* Aborting a serial parent: the running child is interrupted, the next
 * one never runs, and nothing waits for locks held elsewhere. */
static void
test_engine_abort_parent(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(db_job) struct db_job *p = NULL;
    AUTOPTR(db_job) struct db_job *c0 = NULL;
    AUTOPTR(db_job) struct db_job *c1 = NULL;
    struct rb b, kid[2], parent;
    struct job_req kids[2];
    int64_t holder, pid;

    engine_start(fx, 10000, DAY_MS);
    rb_init(&b, "Unrelated holder");
    rb_object(&b, fx->manager, true);
    rb_sleep(&b, 20000);
    holder = rb_submit(&b);
    wait_state(fx, holder, JOB_RUNNING);

    rb_init(&kid[0], "Sleeping child");
    rb_object(&kid[0], "abort-0", true);
    rb_sleep(&kid[0], 20000);
    rb_init(&kid[1], "Child needing the held object");
    rb_object(&kid[1], fx->manager, true);
    rb_touch(&kid[1], fx->manager);
    kids[0] = kid[0].req;
    kids[1] = kid[1].req;
    rb_init(&parent, "Serial parent");
    parent.req.children = kids;
    parent.req.nchildren = 2;
    pid = submit(&parent.req);
    rb_clear(&kid[0]);
    rb_clear(&kid[1]);
    p = job_get(fx, pid);
    wait_state(fx, p->child_ids[0], JOB_RUNNING);
    wait_state(fx, pid, JOB_CHILD_RUNNING);
    db_job_free(steal_ptr(&p));

    assert_int_equal(jobs_abort(pid, USER, false), 0);
    p = done_within(fx, pid, 2000);
    if (!p) {
        p = job_get(fx, pid);
        c1 = job_get(fx, p->child_ids[1]);
        fail_msg("aborted parent still %s after 2 s: child 1 is %s, "
                 "waiting for the lock held by job %" PRId64,
                 db_job_state_str(p->run_state),
                 db_job_state_str(c1->run_state), holder);
    }
    assert_int_equal(p->run_state, JOB_ABORTED);
    assert_string_equal(p->aborted_by, USER);
    c0 = job_get(fx, p->child_ids[0]);
    c1 = job_get(fx, p->child_ids[1]);
    assert_int_equal(c0->run_state, JOB_ABORTED);
    assert_int_equal(c1->run_state, JOB_ABORTED);
    assert_ops(fx, c1->id, "SKIPPED");
    assert_int_equal(jobs_abort(holder, USER, false), 0);
    db_job_free(wait_done(fx, holder));
    assert_no_locks(fx);
    engine_stop(fx, 5000);
}

/* Aborting a parallel parent whose children all wait for a held lock. */
static void
test_engine_abort_parallel_queued(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(db_job) struct db_job *p = NULL;
    struct rb b, kid[2], parent;
    struct job_req kids[2];
    int64_t holder, pid;
    size_t i;

    engine_start(fx, 10000, DAY_MS);
    rb_init(&b, "Unrelated holder");
    rb_object(&b, fx->manager, true);
    rb_sleep(&b, 20000);
    holder = rb_submit(&b);
    wait_state(fx, holder, JOB_RUNNING);

    for (i = 0; i < 2; i++) {
        rb_init(&kid[i], "Waiting child");
        rb_object(&kid[i], fx->manager, false);
        rb_touch(&kid[i], fx->manager);
        kids[i] = kid[i].req;
    }
    rb_init(&parent, "Parallel parent");
    parent.req.children = kids;
    parent.req.nchildren = 2;
    parent.req.parallel = true;
    pid = submit(&parent.req);
    rb_clear(&kid[0]);
    rb_clear(&kid[1]);
    usleep(50 * 1000);
    p = job_get(fx, pid);
    assert_int_equal(p->run_state, JOB_CHILD_QUEUED);
    db_job_free(steal_ptr(&p));

    /* Queued all the way down: done when jobs_abort() returns. */
    assert_int_equal(jobs_abort(pid, USER, false), 0);
    p = job_get(fx, pid);
    assert_true(p->done);
    assert_int_equal(p->run_state, JOB_ABORTED);
    for (i = 0; i < 2; i++) {
        AUTOPTR(db_job) struct db_job *c = job_get(fx, p->child_ids[i]);

        assert_int_equal(c->run_state, JOB_ABORTED);
        assert_ops(fx, c->id, "SKIPPED");
    }
    assert_int_equal(jobs_abort(holder, USER, false), 0);
    db_job_free(wait_done(fx, holder));
    assert_no_locks(fx);
    engine_stop(fx, 5000);
}

static void
test_engine_object_update(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(model_obj) struct model_obj *before = manager_get(fx);
    AUTOPTR(model_obj) struct model_obj *after = NULL;
    AUTOPTR(model_obj) struct model_obj *last = NULL;
    AUTOPTR(db_job) struct db_job *j = NULL;
    AUTOPTR(db_job) struct db_job *k = NULL;
    char *AUTOFREE args = NULL;
    struct rb b;
    int64_t id;

    engine_start(fx, 500, DAY_MS);
    args = xasprintf("{\"id\": \"%s\", \"type\": \"Manager\", "
                     "\"generation\": %" PRId64 ", \"description\": "
                     "\"edited\", \"userData\": [\"k=v\"]}", fx->manager,
                     before->generation);
    rb_init(&b, "Edit Manager");
    rb_object(&b, fx->manager, true);
    rb_op(&b, "object.update", args);
    id = rb_submit(&b);
    j = wait_done(fx, id);
    assert_int_equal(j->run_state, JOB_SUCCESS);
    after = manager_get(fx);
    assert_string_equal(after->description, "edited");
    assert_string_equal(after->user_data, "[\"k=v\"]");
    assert_string_equal(after->name, before->name);
    assert_int_equal(after->generation, before->generation + 1);

    /* The same request again is stale now: CONFLICT, nothing changes. */
    rb_init(&b, "Stale edit");
    rb_object(&b, fx->manager, true);
    rb_op(&b, "object.update", args);
    id = rb_submit(&b);
    k = wait_done(fx, id);
    assert_int_equal(k->run_state, JOB_FAILURE);
    assert_string_equal(k->error_type, "CONFLICT");
    assert_ops(fx, id, "FAILED");
    last = manager_get(fx);
    assert_string_equal(last->description, "edited");
    assert_int_equal(last->generation, after->generation);
    assert_no_locks(fx);
    engine_stop(fx, 5000);
}

/* Many jobs on a few objects, random modes: every two that conflict ran
 * one after the other, in submission order; all succeed. */
static void
test_engine_stress_order(void **state)
{
    struct fixture *fx = *state;
    enum { NJOBS = 40, NOBJ = 3 };
    static const char *const objs[NOBJ] = { "s-0", "s-1", "s-2" };
    /* per job and object: 0 not declared, 1 shared, 2 exclusive */
    int mode[NJOBS][NOBJ];
    struct db_job *rows[NJOBS];
    int64_t ids[NJOBS];
    uint32_t seed = 12345;
    struct rb b;
    size_t i, k, o;

    engine_start(fx, 10000, DAY_MS);
    for (i = 0; i < NJOBS; i++) {
        bool any = false;

        rb_init(&b, "Stress");
        for (o = 0; o < NOBJ; o++) {
            seed = seed * 1103515245u + 12345u;
            mode[i][o] = (int)((seed >> 16) % 3);
            if (o == NOBJ - 1 && !any && !mode[i][o])
                mode[i][o] = 2;
            if (mode[i][o]) {
                rb_object(&b, objs[o], mode[i][o] == 2);
                any = true;
            }
        }
        rb_sleep(&b, 3);
        ids[i] = rb_submit(&b);
    }
    for (i = 0; i < NJOBS; i++) {
        rows[i] = wait_done(fx, ids[i]);
        assert_int_equal(rows[i]->run_state, JOB_SUCCESS);
    }
    for (i = 0; i < NJOBS; i++) {
        for (k = i + 1; k < NJOBS; k++) {
            bool conflict = false;

            for (o = 0; o < NOBJ; o++) {
                if (mode[i][o] && mode[k][o] &&
                    (mode[i][o] == 2 || mode[k][o] == 2))
                    conflict = true;
            }
            if (conflict && rows[k]->start_ms < rows[i]->end_ms)
                fail_msg("job %zu started at %" PRId64 " before job %zu, "
                         "which conflicts with it and was submitted "
                         "earlier, ended at %" PRId64, k, rows[k]->start_ms,
                         i, rows[i]->end_ms);
        }
    }
    for (i = 0; i < NJOBS; i++)
        db_job_free(rows[i]);
    assert_no_locks(fx);
    engine_stop(fx, 5000);
}

static void
test_engine_priority(void **state)
{
    struct fixture *fx = *state;
    static const char *const objs[] = { "busy-0", "busy-1", "busy-2",
                                        "busy-3" };
    AUTOPTR(db_job) struct db_job *pj = NULL;
    AUTOPTR(db_job) struct db_job *extra = NULL;
    int64_t busy[4], prio, ord;
    struct rb b;
    size_t i;

    /* A short lock timeout: a job waiting for a *worker* must not time
     * out (it waits longer than that here). */
    engine_start(fx, 500, DAY_MS);
    for (i = 0; i < 4; i++) {
        rb_init(&b, objs[i]);
        rb_object(&b, objs[i], true);
        rb_sleep(&b, 1500);
        busy[i] = rb_submit(&b);
    }
    for (i = 0; i < 4; i++)
        wait_state(fx, busy[i], JOB_RUNNING);

    rb_init(&b, "Ordinary, no worker free");
    rb_object(&b, "extra", true);
    rb_sleep(&b, 1);
    ord = rb_submit(&b);
    rb_init(&b, "Priority touch");
    b.req.priority = true;
    rb_object(&b, fx->manager, true);
    rb_touch(&b, fx->manager);
    prio = rb_submit(&b);

    pj = wait_done(fx, prio);
    assert_int_equal(pj->run_state, JOB_SUCCESS);
    assert_true(pj->priority);
    /* ... while every ordinary worker still sleeps, and the priority
     * lane did not take the ordinary job. */
    for (i = 0; i < 4; i++) {
        AUTOPTR(db_job) struct db_job *j = job_get(fx, busy[i]);

        assert_int_equal(j->run_state, JOB_RUNNING);
    }
    extra = job_get(fx, ord);
    assert_int_equal(extra->run_state, JOB_CREATED);
    db_job_free(steal_ptr(&extra));

    for (i = 0; i < 4; i++) {
        AUTOPTR(db_job) struct db_job *j = wait_done(fx, busy[i]);

        assert_int_equal(j->run_state, JOB_SUCCESS);
        assert_true(pj->end_ms < j->end_ms);
    }
    extra = wait_done(fx, ord);
    if (extra->run_state != JOB_SUCCESS)
        fail_msg("ordinary job waiting for a worker ended %s: %s",
                 db_job_state_str(extra->run_state),
                 extra->error_message ? extra->error_message : "");
    assert_no_locks(fx);
    engine_stop(fx, 5000);
}

static void
test_engine_submit_errors(void **state)
{
    struct fixture *fx = *state;
    struct rb b, kid, deep[5];
    struct job_req kids[1];
    int64_t id = 0, before;
    size_t i;

    /* Not started yet. */
    rb_init(&b, "Early");
    rb_sleep(&b, 1);
    assert_int_equal(jobs_submit(&b.req, &id), -1);
    assert_int_equal(err_code(), ERR_UNAVAILABLE);
    rb_clear(&b);

    engine_start(fx, 500, DAY_MS);
    before = job_count(fx);

    rb_init(&b, "Unknown op");
    rb_sleep(&b, 1);
    rb_op(&b, "no.such.op", "{}");
    assert_int_equal(jobs_submit(&b.req, &id), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_non_null(strstr(err_message(), "no.such.op"));
    rb_clear(&b);

    rb_init(&kid, "Kid");
    rb_sleep(&kid, 1);
    kids[0] = kid.req;
    rb_init(&b, "Ops and children");
    rb_sleep(&b, 1);
    b.req.children = kids;
    b.req.nchildren = 1;
    assert_int_equal(jobs_submit(&b.req, &id), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    rb_clear(&b);

    /* Children and declared objects. */
    rb_init(&b, "Objects and children");
    rb_object(&b, fx->manager, true);
    b.req.children = kids;
    b.req.nchildren = 1;
    assert_int_equal(jobs_submit(&b.req, &id), -1);
    assert_int_equal(err_code(), ERR_INVALID);

    /* A child with an unknown operation spoils the whole submission. */
    rb_clear(&kid);
    rb_op(&kid, "diag.sleep", "{\"ms\": 1}");
    rb_op(&kid, "bogus", "{}");
    kids[0] = kid.req;
    rb_init(&b, "Bad child");
    b.req.children = kids;
    b.req.nchildren = 1;
    assert_int_equal(jobs_submit(&b.req, &id), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    rb_clear(&kid);

    rb_init(&b, "");
    rb_sleep(&b, 1);
    assert_int_equal(jobs_submit(&b.req, &id), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    rb_clear(&b);

    rb_init(&b, "Object without id");
    rb_object(&b, "", true);
    rb_sleep(&b, 1);
    assert_int_equal(jobs_submit(&b.req, &id), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    rb_clear(&b);

    /* Nested deeper than allowed. */
    for (i = 0; i < 5; i++) {
        rb_init(&deep[i], "Deep");
        if (i + 1 < 5) {
            deep[i].req.children = &deep[i + 1].req;
            deep[i].req.nchildren = 1;
        } else {
            rb_sleep(&deep[i], 1);
        }
    }
    assert_int_equal(jobs_submit(&deep[0].req, &id), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    rb_clear(&deep[4]);

    assert_int_equal(job_count(fx), before);

    /* After jobs_stop(): refused, nothing written. */
    engine_stop(fx, 5000);
    rb_init(&b, "Late");
    rb_sleep(&b, 1);
    assert_int_equal(jobs_submit(&b.req, &id), -1);
    assert_int_equal(err_code(), ERR_UNAVAILABLE);
    rb_clear(&b);
    assert_int_equal(job_count(fx), before);
}

static void
test_engine_stop_restart(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(db_job) struct db_job *a = NULL;
    AUTOPTR(db_job) struct db_job *w = NULL;
    AUTOPTR(db_job) struct db_job *c = NULL;
    struct rb b;
    int64_t first, waiter, last, t0;

    engine_start(fx, 10000, DAY_MS);
    rb_init(&b, "Finishes within the grace");
    rb_object(&b, fx->manager, true);
    rb_sleep(&b, 300);
    first = rb_submit(&b);
    wait_state(fx, first, JOB_RUNNING);
    rb_init(&b, "Waits across the restart");
    rb_object(&b, fx->manager, true);
    rb_touch(&b, fx->manager);
    waiter = rb_submit(&b);

    engine_stop(fx, 5000);
    a = job_get(fx, first);
    assert_int_equal(a->run_state, JOB_SUCCESS);
    w = job_get(fx, waiter);
    assert_int_equal(w->run_state, JOB_CREATED);
    assert_false(w->done);
    db_job_free(steal_ptr(&w));

    /* The next start runs it. */
    engine_start(fx, 10000, DAY_MS);
    w = wait_done(fx, waiter);
    assert_int_equal(w->run_state, JOB_SUCCESS);

    /* A stop without grace aborts what runs, quickly. */
    rb_init(&b, "Cut short by the stop");
    rb_object(&b, fx->manager, true);
    rb_sleep(&b, 20000);
    last = rb_submit(&b);
    wait_state(fx, last, JOB_RUNNING);
    t0 = time_mono_ms();
    engine_stop(fx, 0);
    assert_true(time_mono_ms() - t0 < 3000);
    c = job_get(fx, last);
    assert_int_equal(c->run_state, JOB_ABORTED);
    assert_true(c->done);
    assert_non_null(c->aborted_by);
    assert_non_null(strstr(c->aborted_by, "@ovmm"));
    assert_no_locks(fx);
}

/* ---- recovery ---- */

/* Insert a job as jobs_submit() would, in its own transaction. */
static int64_t
raw_insert(struct fixture *fx, const char *name, int64_t parent,
           int64_t seq, bool parallel, const struct db_job_op *ops,
           size_t nops, const char *object)
{
    struct db_job j = { 0 };
    struct db_job_object o = { 0 };
    struct db_txn *t = db_txn_begin(fx->db, DB_SYNC_FULL);

    assert_non_null(t);
    j.name = (char *)(uintptr_t)name;
    j.run_state = nops ? JOB_CREATED : JOB_CHILD_QUEUED;
    j.summary_state = j.run_state;
    j.parent_id = parent;
    j.child_seq = seq;
    j.parallel = parallel;
    j.user = (char *)(uintptr_t)USER;
    j.created_ms = time_now_ms();
    j.lock_deadline_ms = j.created_ms + 1000;
    o.object_id = (char *)(uintptr_t)object;
    o.object_type = (char *)(uintptr_t)"Manager";
    o.exclusive = true;
    assert_int_equal(db_txn_job_insert(t, &j, ops, nops, &o, object ? 1 : 0),
                     0);
    assert_int_equal(db_txn_commit(t), 0);
    return j.id;
}

/* Do what the engine does when a worker takes job @id: RUNNING and its
 * locks granted, in one transaction. */
static void
raw_start(struct fixture *fx, int64_t id, enum db_job_state state)
{
    AUTOPTR(db_job) struct db_job *j = job_get(fx, id);
    struct db_txn *t = db_txn_begin(fx->db, DB_SYNC_FULL);

    assert_non_null(t);
    j->run_state = state;
    j->summary_state = state;
    j->start_ms = time_now_ms();
    assert_int_equal(db_txn_job_update(t, j), 0);
    if (state == JOB_RUNNING)
        assert_int_equal(db_txn_job_grant(t, id), 0);
    assert_int_equal(db_txn_commit(t), 0);
}

static void
raw_op(struct fixture *fx, int64_t id, int64_t seq, const char *state,
       const char *undo)
{
    struct db_txn *t = db_txn_begin(fx->db, DB_SYNC_FULL);

    assert_non_null(t);
    assert_int_equal(db_txn_job_op_update(t, id, seq, state, undo, NULL,
                                          time_now_ms(), 0, 0), 0);
    assert_int_equal(db_txn_commit(t), 0);
}

/* Run operation @seq of job @id, a diag.touch of the Manager, the way
 * ops.c does: the change and the DONE row with the undo data in one
 * transaction. */
static void
raw_touch(struct fixture *fx, int64_t id, int64_t seq)
{
    AUTOPTR(json_object) json_object *u = json_object_new_object();
    struct db_txn *t;
    struct db_common cur = { 0 };
    char desc[64];

    raw_op(fx, id, seq, "RUNNING", NULL);
    t = db_txn_begin(fx->db, DB_SYNC_FULL);
    assert_non_null(t);
    assert_int_equal(db_txn_object_common(t, fx->manager, &cur), 0);
    snprintf(desc, sizeof(desc), "touched by job %" PRId64, id);
    assert_int_equal(db_txn_object_set_common(t, fx->manager, NULL, desc,
                                              NULL, -1), 0);
    json_object_object_add(u, "name", json_object_new_string(cur.name));
    json_object_object_add(u, "description",
                           json_object_new_string(cur.description));
    json_object_object_add(u, "userData",
                           json_object_new_string(cur.user_data));
    json_object_object_add(u, "generation",
                           json_object_new_int64(cur.generation));
    db_common_clear(&cur);
    assert_int_equal(db_txn_job_op_update(
                         t, id, seq, "DONE",
                         json_object_to_json_string_ext(
                             u, JSON_C_TO_STRING_PLAIN),
                         NULL, 0, time_now_ms(), 0), 0);
    assert_int_equal(db_txn_commit(t), 0);
}

static void
recover_only(struct fixture *fx)
{
    struct jobs_conf c = {
        .db = fx->db, .workers = 4, .priority_workers = 1,
        .lock_timeout_ms = 10000, .retention_ms = DAY_MS,
        .event_retention_ms = DAY_MS,
    };

    assert_int_equal(jobs_init(&c), 0);
    assert_int_equal(jobs_recover(), 0);
}

static void
test_recover(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(model_obj) struct model_obj *before = manager_get(fx);
    AUTOPTR(model_obj) struct model_obj *crashed = NULL;
    AUTOPTR(model_obj) struct model_obj *after = NULL;
    AUTOPTR(db_job) struct db_job *j = NULL;
    AUTOPTR(db_job) struct db_job *x = NULL;
    AUTOPTR(db_job) struct db_job *q = NULL;
    char *AUTOFREE touch_args = xasprintf("{\"id\": \"%s\"}", fx->manager);
    char *AUTOFREE want = NULL;
    struct db_job_op ops[3] = {
        { .op = (char *)(uintptr_t)"diag.touch", .args = touch_args },
        { .op = (char *)(uintptr_t)"diag.sleep",
          .args = (char *)(uintptr_t)"{\"ms\": 60000}" },
        { .op = (char *)(uintptr_t)"diag.sleep",
          .args = (char *)(uintptr_t)"{\"ms\": 1}" },
    };
    struct db_job_op ext[2] = {
        { .op = (char *)(uintptr_t)"test.external",
          .args = (char *)(uintptr_t)"{}" },
        { .op = (char *)(uintptr_t)"test.external",
          .args = (char *)(uintptr_t)"{}" },
    };
    struct db_job_op *v = NULL;
    struct db_job_object *locks = NULL;
    size_t n = 0;
    int64_t crash, queued, external;

    /* The crashed job: touch done, sleep running, one more pending,
     * Manager locked. */
    crash = raw_insert(fx, "Crashed", 0, 0, false, ops, 3, fx->manager);
    raw_start(fx, crash, JOB_RUNNING);
    raw_touch(fx, crash, 0);
    raw_op(fx, crash, 1, "RUNNING", NULL);
    /* One the restart found queued behind it. */
    queued = raw_insert(fx, "Queued", 0, 0, false, ops, 1, fx->manager);
    /* One whose operations the engine does not know (a driver call it
     * cannot redo or undo): left as they are, marked UNKNOWN. */
    external = raw_insert(fx, "External", 0, 0, false, ext, 2, "ext-obj");
    raw_start(fx, external, JOB_RUNNING);
    raw_op(fx, external, 0, "RUNNING", NULL);
    raw_op(fx, external, 0, "DONE", "{\"was\": 1}");
    raw_op(fx, external, 1, "RUNNING", NULL);

    crashed = manager_get(fx);
    assert_true(crashed->locked);
    assert_int_equal(crashed->generation, before->generation + 1);

    recover_only(fx);
    fx->engine = true;    /* jobs_stop() frees what jobs_init() made */

    j = job_get(fx, crash);
    assert_int_equal(j->run_state, JOB_FAILURE);
    assert_true(j->done);
    assert_string_equal(j->error_message,
                        "manager restarted before the job finished");
    assert_ops(fx, crash, "UNDONE,FAILED,SKIPPED");
    assert_string_equal(j->error_type, "RESTARTED");
    assert_int_equal(db_job_ops(fx->db, crash, &v, &n), 0);
    assert_string_equal(v[1].message,
                        "manager restarted before the job finished");
    db_job_ops_free(v, n);
    after = manager_get(fx);
    assert_string_equal(after->description, before->description);
    assert_int_equal(after->generation, before->generation);
    assert_false(after->locked);
    assert_int_equal(manager_events(fx, crash, "job.failure", SEV_WARNING),
                     1);

    x = job_get(fx, external);
    assert_int_equal(x->run_state, JOB_FAILURE);
    assert_ops(fx, external, "DONE,UNKNOWN");
    assert_int_equal(db_job_ops(fx->db, external, &v, &n), 0);
    assert_non_null(v[0].message);
    assert_non_null(strstr(v[0].message, "not undone"));
    db_job_ops_free(v, n);

    /* Only the queued job's request is left, not granted. */
    assert_int_equal(db_lock_list(fx->db, &locks, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(locks[0].job_id, queued);
    assert_false(locks[0].granted);
    db_job_objects_free(locks, n);
    q = job_get(fx, queued);
    assert_int_equal(q->run_state, JOB_CREATED);
    db_job_free(steal_ptr(&q));

    assert_int_equal(jobs_start(), 0);
    q = wait_done(fx, queued);
    assert_int_equal(q->run_state, JOB_SUCCESS);
    {
        AUTOPTR(model_obj) struct model_obj *m = manager_get(fx);

        want = xasprintf("touched by job %" PRId64, queued);
        assert_string_equal(m->description, want);
        assert_int_equal(m->generation, before->generation + 1);
    }
    assert_no_locks(fx);
    engine_stop(fx, 5000);
}

static void
test_recover_children(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(model_obj) struct model_obj *before = manager_get(fx);
    AUTOPTR(model_obj) struct model_obj *after = NULL;
    AUTOPTR(db_job) struct db_job *p = NULL;
    char *AUTOFREE touch_args = xasprintf("{\"id\": \"%s\"}", fx->manager);
    struct db_job_op ops[1] = {
        { .op = (char *)(uintptr_t)"diag.touch", .args = touch_args },
    };
    int64_t parent, c0, c1;

    /* A serial parent whose first child was running at the crash. */
    parent = raw_insert(fx, "Parent", 0, 0, false, NULL, 0, NULL);
    c0 = raw_insert(fx, "Child 0", parent, 0, false, ops, 1, fx->manager);
    c1 = raw_insert(fx, "Child 1", parent, 1, false, ops, 1, fx->manager);
    raw_start(fx, parent, JOB_CHILD_RUNNING);
    raw_start(fx, c0, JOB_RUNNING);
    raw_touch(fx, c0, 0);

    engine_start(fx, 10000, DAY_MS);
    p = wait_done(fx, parent);
    assert_int_equal(p->run_state, JOB_FAILURE);
    assert_int_equal(p->nchildren, 2);
    {
        AUTOPTR(db_job) struct db_job *j0 = job_get(fx, c0);
        AUTOPTR(db_job) struct db_job *j1 = wait_done(fx, c1);

        assert_int_equal(j0->run_state, JOB_FAILURE);
        assert_string_equal(j0->error_message,
                            "manager restarted before the job finished");
        assert_ops(fx, c0, "UNDONE");
        /* Serial: after a failed child the rest end ABORTED. */
        assert_int_equal(j1->run_state, JOB_ABORTED);
        assert_ops(fx, c1, "SKIPPED");
    }
    after = manager_get(fx);
    assert_string_equal(after->description, before->description);
    assert_int_equal(after->generation, before->generation);
    assert_no_locks(fx);
    engine_stop(fx, 5000);
}

/* Write job @id's final @state as write_final() does (no locks held). */
static void
raw_final(struct fixture *fx, int64_t id, enum db_job_state state)
{
    AUTOPTR(db_job) struct db_job *j = job_get(fx, id);
    struct db_txn *t = db_txn_begin(fx->db, DB_SYNC_FULL);

    assert_non_null(t);
    j->run_state = state;
    j->summary_state = state;
    j->done = true;
    j->summary_done = true;
    if (!j->start_ms)
        j->start_ms = time_now_ms();
    j->end_ms = time_now_ms();
    assert_int_equal(db_txn_job_update(t, j), 0);
    assert_int_equal(db_txn_job_release(t, id), 0);
    assert_int_equal(db_txn_commit(t), 0);
}

/* The crash came after the last child ended but before its parent did:
 * the parent ends at start, from its children's states. Also an undo
 * that cannot be done at recovery (its object is gone): UNDO_FAILED, the
 * job still ends FAILURE. */
static void
test_recover_edges(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(db_job) struct db_job *p = NULL;
    AUTOPTR(db_job) struct db_job *u = NULL;
    struct db_job_op ops[1] = {
        { .op = (char *)(uintptr_t)"diag.sleep",
          .args = (char *)(uintptr_t)"{\"ms\": 1}" },
    };
    struct db_job_op gone[1] = {
        { .op = (char *)(uintptr_t)"diag.touch",
          .args = (char *)(uintptr_t)"{\"id\": \"no-such-object\"}" },
    };
    struct db_job_op *v = NULL;
    size_t n = 0;
    int64_t parent, c0, c1, undo;

    parent = raw_insert(fx, "Parent", 0, 0, true, NULL, 0, NULL);
    c0 = raw_insert(fx, "Child 0", parent, 0, false, ops, 1, "edge-0");
    c1 = raw_insert(fx, "Child 1", parent, 1, false, ops, 1, "edge-1");
    raw_start(fx, parent, JOB_CHILD_RUNNING);
    raw_start(fx, c0, JOB_RUNNING);
    raw_op(fx, c0, 0, "DONE", NULL);
    raw_final(fx, c0, JOB_SUCCESS);
    raw_start(fx, c1, JOB_RUNNING);
    raw_op(fx, c1, 0, "DONE", NULL);
    raw_final(fx, c1, JOB_SUCCESS);

    undo = raw_insert(fx, "Undo fails", 0, 0, false, gone, 1, "edge-2");
    raw_start(fx, undo, JOB_RUNNING);
    raw_op(fx, undo, 0, "RUNNING", NULL);
    raw_op(fx, undo, 0, "DONE", "{\"name\": \"x\", \"description\": "
                                "\"\", \"userData\": \"[]\", "
                                "\"generation\": 1}");

    engine_start(fx, 10000, DAY_MS);
    p = wait_done(fx, parent);
    assert_int_equal(p->run_state, JOB_SUCCESS);
    assert_int_equal(p->summary_state, JOB_SUCCESS);

    u = job_get(fx, undo);
    assert_int_equal(u->run_state, JOB_FAILURE);
    assert_string_equal(u->error_type, "RESTARTED");
    assert_ops(fx, undo, "UNDO_FAILED");
    assert_int_equal(db_job_ops(fx->db, undo, &v, &n), 0);
    assert_non_null(v[0].message);
    assert_non_null(strstr(v[0].message, "no-such-object"));
    db_job_ops_free(v, n);
    assert_no_locks(fx);
    engine_stop(fx, 5000);
}

/* ---- retention ---- */

static void
test_purge(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(db_job) struct db_job *p = NULL;
    struct rb b, kid[2], parent;
    struct job_req kids[2];
    struct db_job_op *ops = NULL;
    struct db_job_object *objs = NULL;
    size_t n = 0, i;
    int64_t done1, done2, pid, holder, waiter;

    engine_start(fx, 10000, 1);
    rb_init(&b, "Done");
    rb_object(&b, fx->manager, true);
    rb_touch(&b, fx->manager);
    done1 = rb_submit(&b);
    rb_init(&b, "Failed");
    rb_object(&b, "purge-obj", true);
    rb_op(&b, "diag.fail", "{}");
    done2 = rb_submit(&b);
    db_job_free(wait_done(fx, done1));
    db_job_free(wait_done(fx, done2));

    /* A parent whose first child is done and second still runs. */
    rb_init(&kid[0], "Quick child");
    rb_object(&kid[0], "purge-kid", true);
    rb_sleep(&kid[0], 1);
    rb_init(&kid[1], "Slow child");
    rb_object(&kid[1], "purge-kid", true);
    rb_sleep(&kid[1], 20000);
    kids[0] = kid[0].req;
    kids[1] = kid[1].req;
    rb_init(&parent, "Unfinished parent");
    parent.req.children = kids;
    parent.req.nchildren = 2;
    pid = submit(&parent.req);
    rb_clear(&kid[0]);
    rb_clear(&kid[1]);
    p = job_get(fx, pid);
    assert_int_equal(p->nchildren, 2);
    db_job_free(wait_done(fx, p->child_ids[0]));
    wait_state(fx, p->child_ids[1], JOB_RUNNING);

    /* A running job and one queued behind it. */
    rb_init(&b, "Holder");
    rb_object(&b, fx->manager, true);
    rb_sleep(&b, 20000);
    holder = rb_submit(&b);
    wait_state(fx, holder, JOB_RUNNING);
    rb_init(&b, "Waiter");
    rb_object(&b, fx->manager, true);
    rb_touch(&b, fx->manager);
    waiter = rb_submit(&b);

    usleep(20 * 1000);   /* past the 1 ms retention */
    assert_int_equal(jobs_purge(), 0);

    for (i = 0; i < 2; i++) {
        int64_t id = i ? done2 : done1;

        assert_null(db_job_get(fx->db, id));
        assert_int_equal(err_code(), ERR_NOT_FOUND);
        assert_int_equal(db_job_ops(fx->db, id, &ops, &n), 0);
        assert_int_equal(n, 0);
        db_job_ops_free(ops, n);
        assert_int_equal(db_job_objects(fx->db, id, &objs, &n), 0);
        assert_int_equal(n, 0);
        db_job_objects_free(objs, n);
    }
    /* Nothing unfinished went, nor a done child of an unfinished
     * parent. */
    db_job_free(job_get(fx, pid));
    db_job_free(job_get(fx, p->child_ids[0]));
    db_job_free(job_get(fx, p->child_ids[1]));
    db_job_free(job_get(fx, holder));
    db_job_free(job_get(fx, waiter));
    assert_ops(fx, waiter, "PENDING");
    assert_int_equal(job_count(fx), 5);

    /* Let them end, then they go too, children with their parent. */
    assert_int_equal(jobs_abort(pid, USER, false), 0);
    assert_int_equal(jobs_abort(holder, USER, false), 0);
    db_job_free(wait_done(fx, pid));
    db_job_free(wait_done(fx, waiter));
    usleep(20 * 1000);
    assert_int_equal(jobs_purge(), 0);
    assert_int_equal(job_count(fx), 0);
    assert_int_equal(db_job_ops(fx->db, p->child_ids[1], &ops, &n), 0);
    assert_int_equal(n, 0);
    db_job_ops_free(ops, n);
    assert_no_locks(fx);
    engine_stop(fx, 5000);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_locks_disjoint),
        cmocka_unit_test(test_locks_modes),
        cmocka_unit_test(test_locks_fifo),
        cmocka_unit_test(test_locks_skip_ahead),
        cmocka_unit_test(test_locks_duplicates),
        cmocka_unit_test(test_locks_priority),
        cmocka_unit_test(test_locks_blocker),
        cmocka_unit_test(test_locks_remove_waiter),
        cmocka_unit_test(test_locks_accept),
        T(test_engine_touch),
        T(test_engine_failure_undoes),
        T(test_engine_abort_queued),
        T(test_engine_abort_running),
        T(test_engine_lock_timeout),
        T(test_engine_order),
        T(test_engine_serial_order),
        T(test_engine_disjoint_parallel),
        T(test_engine_serial_children),
        T(test_engine_parallel_children),
        T(test_engine_serial_rest_not_waiting),
        T(test_engine_serial_rest_timeout),
        T(test_engine_serial_rest_nested),
        T(test_engine_abort_parent),
        T(test_engine_abort_parallel_queued),
        T(test_engine_priority),
        T(test_engine_object_update),
        T(test_engine_stress_order),
        T(test_engine_submit_errors),
        T(test_engine_stop_restart),
        T(test_recover),
        T(test_recover_children),
        T(test_recover_edges),
        T(test_purge),
    };

    log_set_level(getenv("TEST_JOBS_VERBOSE") ? LOG_LEVEL_DEBUG
                                              : LOG_LEVEL_ERROR);
    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests_name("jobs", tests, NULL, NULL);
}
