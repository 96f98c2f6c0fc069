/*
 * test_events.c - unit tests of events: severities, events_add(), the
 * event rows and their filters, acknowledging, purging, the change feed
 * (commit order, rollback, bounds), notifications only after commit, and
 * an object's eventSeverity.
 *
 * DESIGN: every test gets a fresh directory from mkdtemp() and a real
 * database in it (setup), which teardown closes and removes, so tests
 * share nothing and run in any order. Events are written the way jobs
 * write them: inside db_txn_begin() ... db_txn_commit(). Notifications
 * are observed with a notify_subscribe() callback that records the keys
 * it hears; it is registered for the one test that needs it only.
 * The operation "event.acknowledge" is run by the real job engine, with
 * the engine's diagnostic "diag.fail" to make its undo run.
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
#include "events/events.h"
#include "jobs/jobs.h"
#include "model/model.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/notify.h"
#include "util/str.h"

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

    if (tmpdir_make(fx->dir, sizeof(fx->dir), "events") < 0) {
        xfree(fx);
        return -1;
    }
    fx->path = xasprintf("%s/ovmm.db", fx->dir);
    err_clear();
    fx->db = db_open(fx->path);
    if (!fx->db)
        return -1;
    fx->manager = db_manager_id(fx->db);
    if (!fx->manager)
        return -1;
    *state = fx;
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

/* ---- helpers ---- */

/* A filter that filters nothing. */
static struct db_event_filter
no_filter(void)
{
    struct db_event_filter f;

    memset(&f, 0, sizeof(f));
    f.min_severity = -1;
    f.acknowledged = -1;
    f.limit = -1;
    return f;
}

/*
 * Insert one event in its own committed transaction; returns its id.
 * @object_id may be NULL; @time_ms 0 means now.
 */
static int64_t
add_event(struct db *db, int64_t time_ms, int sev, const char *type,
          const char *object_id, const char *object_type, int64_t job_id)
{
    struct db_event e;
    struct db_txn *t;

    memset(&e, 0, sizeof(e));
    e.time_ms = time_ms;
    e.severity = sev;
    e.type = (char *)(uintptr_t)type;
    e.summary = (char *)(uintptr_t)"summary";
    e.object_id = (char *)(uintptr_t)object_id;
    e.object_type = (char *)(uintptr_t)object_type;
    e.job_id = job_id;
    t = db_txn_begin(db, DB_SYNC_NORMAL);
    assert_non_null(t);
    assert_int_equal(db_txn_event_insert(t, &e), 0);
    assert_int_equal(db_txn_commit(t), 0);
    assert_true(e.id > 0);
    if (time_ms)
        assert_int_equal(e.time_ms, time_ms);
    else
        assert_true(e.time_ms > 0);
    return e.id;
}

/* Set or clear the acknowledgement of @id in its own transaction. */
static int
ack_event(struct db *db, int64_t id, bool ack, bool *was)
{
    struct db_txn *t = db_txn_begin(db, DB_SYNC_NORMAL);
    int rc;

    assert_non_null(t);
    rc = db_txn_event_acknowledge(t, id, ack, "admin", 77, was);
    if (rc < 0) {
        db_txn_rollback(t);
        return -1;
    }
    return db_txn_commit(t);
}

/* List with @f and check the ids, newest first, and the total. */
static void
check_list(struct db *db, const struct db_event_filter *f,
           const int64_t *want, size_t nwant, int64_t want_total)
{
    struct db_event **v = NULL;
    int64_t total = -1;
    size_t n = 0, i;

    assert_int_equal(db_event_list(db, f, &v, &n, &total), 0);
    assert_int_equal(total, want_total);
    assert_int_equal(n, nwant);
    for (i = 0; i < n; i++)
        assert_int_equal(v[i]->id, want[i]);
    db_events_free(v, n);
}

/* The Manager's eventSeverity as db_object_get() reads it. */
static int
manager_severity(struct fixture *fx)
{
    AUTOPTR(model_obj) struct model_obj *o =
        db_object_get(fx->db, model_type_find("Manager"), fx->manager);

    assert_non_null(o);
    return o->event_severity;
}

/* The feed after @after, as "e<ref>" / "j<ref>" words, e.g. "e5 e6". */
static char *
feed_text(struct db *db, int64_t after)
{
    struct db_feed_item *v = NULL;
    char out[512] = "";
    size_t n = 0, i, len = 0;

    assert_int_equal(db_feed_after(db, after, 100, &v, &n), 0);
    for (i = 0; i < n; i++) {
        if (i > 0)
            assert_true(v[i].seq > v[i - 1].seq);
        assert_true(v[i].seq > after);
        len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%c%" PRId64,
                                i ? " " : "", v[i].is_job ? 'j' : 'e',
                                v[i].ref);
        assert_true(len < sizeof(out));
    }
    xfree(v);
    return xstrdup(out);
}

/* ---- tests ---- */

static void
test_severity(void **state)
{
    static const char *const names[] = { "INFORMATIONAL", "WARNING", "ERROR",
                                         "CRITICAL" };
    int i;

    (void)state;
    for (i = 0; i < 4; i++) {
        assert_string_equal(db_severity_str(i), names[i]);
        assert_int_equal(db_severity_parse(names[i]), i);
    }
    assert_int_equal(SEV_INFORMATIONAL, 0);
    assert_int_equal(SEV_CRITICAL, 3);
    assert_int_equal(db_severity_parse("warning"), -1);
    assert_int_equal(db_severity_parse("FATAL"), -1);
    assert_int_equal(db_severity_parse(""), -1);
    assert_int_equal(db_severity_parse(NULL), -1);
    assert_string_equal(db_severity_str(-1), "UNKNOWN");
    assert_string_equal(db_severity_str(4), "UNKNOWN");
}

static void
test_events_add(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(db_event) struct db_event *e = NULL;
    struct db_event **v = NULL;
    struct db_event_filter f = no_filter();
    struct db_txn *t;
    size_t n = 0;
    int64_t total = 0;

    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    assert_non_null(t);
    /* Out of range severities and a missing type are refused. */
    assert_int_equal(events_add(t, -1, "x.y", NULL, NULL, NULL, 0, NULL, NULL,
                                "s"), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_int_equal(events_add(t, 4, "x.y", NULL, NULL, NULL, 0, NULL, NULL,
                                "s"), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_int_equal(events_add(t, SEV_ERROR, "", NULL, NULL, NULL, 0, NULL,
                                NULL, "s"), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    /* The summary is formatted and doubles as the description. Type and
     * name of a known object are filled in from the object. */
    assert_int_equal(events_add(t, SEV_ERROR, "vm.start.failure", fx->manager,
                                NULL, NULL, 42, "alice", NULL,
                                "cannot start vm '%s': code %d", "web-1", 7),
                     0);
    assert_int_equal(events_add(t, SEV_INFORMATIONAL, "manager.started", NULL,
                                NULL, NULL, 0, NULL, "a longer text",
                                "Manager started"), 0);
    assert_int_equal(db_txn_commit(t), 0);

    assert_int_equal(db_event_list(fx->db, &f, &v, &n, &total), 0);
    assert_int_equal(n, 2);
    assert_int_equal(total, 2);
    /* Same millisecond or not: the later insert lists first. */
    assert_string_equal(v[0]->type, "manager.started");
    assert_string_equal(v[0]->summary, "Manager started");
    assert_string_equal(v[0]->description, "a longer text");
    assert_null(v[0]->object_id);
    assert_null(v[0]->object_type);
    assert_int_equal(v[0]->job_id, 0);
    assert_null(v[0]->user);
    assert_int_equal(v[0]->severity, SEV_INFORMATIONAL);
    assert_true(v[0]->id > v[1]->id);

    e = db_event_get(fx->db, v[1]->id);
    assert_non_null(e);
    assert_string_equal(e->summary, "cannot start vm 'web-1': code 7");
    assert_string_equal(e->description, e->summary);
    assert_string_equal(e->object_id, fx->manager);
    assert_string_equal(e->object_type, "Manager");
    assert_non_null(e->object_name);
    assert_int_equal(e->job_id, 42);
    assert_string_equal(e->user, "alice");
    assert_int_equal(e->severity, SEV_ERROR);
    assert_false(e->acknowledged);
    assert_null(e->ack_user);
    assert_int_equal(e->ack_ms, 0);
    assert_true(e->time_ms > 1000000000000LL);
    db_events_free(v, n);

    /* db/ itself refuses a bad severity too (no CHECK error text). */
    {
        struct db_event bad;

        memset(&bad, 0, sizeof(bad));
        bad.severity = 9;
        bad.type = (char *)(uintptr_t)"x";
        bad.summary = (char *)(uintptr_t)"x";
        t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
        assert_non_null(t);
        assert_int_equal(db_txn_event_insert(t, &bad), -1);
        assert_int_equal(err_code(), ERR_INVALID);
        db_txn_rollback(t);
    }
}

static void
test_get_not_found(void **state)
{
    struct fixture *fx = *state;

    assert_null(db_event_get(fx->db, 12345));
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_string_equal(err_message(), "Event '12345' not found");
}

static void
test_list_filters(void **state)
{
    struct fixture *fx = *state;
    struct db_event_filter f;
    int64_t e1, e2, e3, e4, e5;

    e1 = add_event(fx->db, 1000, SEV_INFORMATIONAL, "a", fx->manager, NULL, 0);
    e2 = add_event(fx->db, 2000, SEV_WARNING, "b", fx->manager, NULL, 11);
    e3 = add_event(fx->db, 3000, SEV_ERROR, "c", "vm-1", "Vm", 11);
    e4 = add_event(fx->db, 4000, SEV_CRITICAL, "d", NULL, NULL, 12);
    e5 = add_event(fx->db, 5000, SEV_WARNING, "e", fx->manager, NULL, 0);
    assert_int_equal(ack_event(fx->db, e5, true, NULL), 0);

    f = no_filter();
    check_list(fx->db, &f, (int64_t[]){ e5, e4, e3, e2, e1 }, 5, 5);

    f = no_filter();
    f.object_id = fx->manager;
    check_list(fx->db, &f, (int64_t[]){ e5, e2, e1 }, 3, 3);
    f.object_id = "nothing";
    check_list(fx->db, &f, NULL, 0, 0);

    f = no_filter();
    f.min_severity = SEV_WARNING;
    check_list(fx->db, &f, (int64_t[]){ e5, e4, e3, e2 }, 4, 4);
    f.min_severity = SEV_ERROR;
    check_list(fx->db, &f, (int64_t[]){ e4, e3 }, 2, 2);
    f.min_severity = SEV_CRITICAL;
    check_list(fx->db, &f, (int64_t[]){ e4 }, 1, 1);
    f.min_severity = SEV_INFORMATIONAL;
    check_list(fx->db, &f, (int64_t[]){ e5, e4, e3, e2, e1 }, 5, 5);

    f = no_filter();
    f.acknowledged = 1;
    check_list(fx->db, &f, (int64_t[]){ e5 }, 1, 1);
    f.acknowledged = 0;
    check_list(fx->db, &f, (int64_t[]){ e4, e3, e2, e1 }, 4, 4);

    /* since is inclusive, until exclusive. */
    f = no_filter();
    f.since_ms = 2000;
    f.until_ms = 4000;
    check_list(fx->db, &f, (int64_t[]){ e3, e2 }, 2, 2);
    f.until_ms = 0;
    check_list(fx->db, &f, (int64_t[]){ e5, e4, e3, e2 }, 4, 4);
    f.since_ms = 0;
    f.until_ms = 2001;
    check_list(fx->db, &f, (int64_t[]){ e2, e1 }, 2, 2);

    f = no_filter();
    f.job_id = 11;
    check_list(fx->db, &f, (int64_t[]){ e3, e2 }, 2, 2);
    f.job_id = 99;
    check_list(fx->db, &f, NULL, 0, 0);

    /* Paging: the total is the count before paging. */
    f = no_filter();
    f.limit = 2;
    f.offset = 1;
    check_list(fx->db, &f, (int64_t[]){ e4, e3 }, 2, 5);
    f.offset = 4;
    check_list(fx->db, &f, (int64_t[]){ e1 }, 1, 5);
    f.offset = 10;
    check_list(fx->db, &f, NULL, 0, 5);
    f.limit = 0;
    f.offset = 0;
    check_list(fx->db, &f, NULL, 0, 5);

    /* Filters combine. */
    f = no_filter();
    f.object_id = fx->manager;
    f.min_severity = SEV_WARNING;
    f.acknowledged = 0;
    check_list(fx->db, &f, (int64_t[]){ e2 }, 1, 1);
    f.acknowledged = -1;
    f.limit = 1;
    check_list(fx->db, &f, (int64_t[]){ e5 }, 1, 2);

    /* No total asked for. */
    {
        struct db_event **v = NULL;
        size_t n = 0;

        f = no_filter();
        assert_int_equal(db_event_list(fx->db, &f, &v, &n, NULL), 0);
        assert_int_equal(n, 5);
        db_events_free(v, n);
    }
}

static void
test_acknowledge(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(db_event) struct db_event *e = NULL;
    int64_t id, first, last, before;
    bool was = true;
    char *AUTOFREE feed = NULL;
    char want[64];

    id = add_event(fx->db, 0, SEV_WARNING, "w", fx->manager, NULL, 0);
    assert_int_equal(db_feed_bounds(fx->db, &first, &before), 0);

    assert_int_equal(ack_event(fx->db, id, true, &was), 0);
    assert_false(was);
    e = db_event_get(fx->db, id);
    assert_non_null(e);
    assert_true(e->acknowledged);
    assert_string_equal(e->ack_user, "admin");
    assert_int_equal(e->ack_ms, 77);
    db_event_free(e);
    e = NULL;
    /* The change is a feed row. */
    feed = feed_text(fx->db, before);
    snprintf(want, sizeof(want), "e%" PRId64, id);
    assert_string_equal(feed, want);
    xfree(feed);
    feed = NULL;

    /* Again: nothing changes, no feed row; was says it already was. */
    assert_int_equal(db_feed_bounds(fx->db, &first, &last), 0);
    assert_int_equal(last, before + 1);
    assert_int_equal(ack_event(fx->db, id, true, &was), 0);
    assert_true(was);
    assert_int_equal(db_feed_bounds(fx->db, &first, &last), 0);
    assert_int_equal(last, before + 1);

    /* Clearing forgets who and when. */
    assert_int_equal(ack_event(fx->db, id, false, &was), 0);
    assert_true(was);
    e = db_event_get(fx->db, id);
    assert_non_null(e);
    assert_false(e->acknowledged);
    assert_null(e->ack_user);
    assert_int_equal(e->ack_ms, 0);
    assert_int_equal(db_feed_bounds(fx->db, &first, &last), 0);
    assert_int_equal(last, before + 2);

    /* was may be NULL. */
    assert_int_equal(ack_event(fx->db, id, true, NULL), 0);

    assert_int_equal(ack_event(fx->db, id + 1000, true, &was), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    snprintf(want, sizeof(want), "Event '%" PRId64 "' not found", id + 1000);
    assert_string_equal(err_message(), want);
}

static void
test_purge(void **state)
{
    struct fixture *fx = *state;
    struct db_event_filter f = no_filter();
    int64_t e1, e2, e3, now, deleted = -1;
    char *AUTOFREE feed = NULL;
    char want[128];

    e1 = add_event(fx->db, 1000, SEV_WARNING, "a", fx->manager, NULL, 0);
    e2 = add_event(fx->db, 2000, SEV_WARNING, "b", fx->manager, NULL, 0);
    e3 = add_event(fx->db, 3000, SEV_WARNING, "c", fx->manager, NULL, 0);
    assert_int_equal(ack_event(fx->db, e1, true, NULL), 0);

    assert_int_equal(db_event_purge(fx->db, 2500, &deleted), 0);
    assert_int_equal(deleted, 2);
    check_list(fx->db, &f, (int64_t[]){ e3 }, 1, 1);
    assert_null(db_event_get(fx->db, e1));
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_null(db_event_get(fx->db, e2));
    /* Their feed rows (the insert and the acknowledgement) went too. */
    feed = feed_text(fx->db, 0);
    snprintf(want, sizeof(want), "e%" PRId64, e3);
    assert_string_equal(feed, want);

    /* Nothing old left; deleted may be NULL. */
    assert_int_equal(db_event_purge(fx->db, 2500, &deleted), 0);
    assert_int_equal(deleted, 0);
    assert_int_equal(db_event_purge(fx->db, 2500, NULL), 0);

    /*
     * Ids follow the clock (at least the insert time in ms), so purging
     * every event does not restart them: an id is not reused once its
     * millisecond has passed, which retention guarantees.
     */
    assert_int_equal(db_event_purge(fx->db, INT64_MAX, &deleted), 0);
    assert_int_equal(deleted, 1);
    now = time_now_ms();
    assert_true(add_event(fx->db, 0, SEV_WARNING, "d", NULL, NULL, 0) >= now);
}

static void
test_feed(void **state)
{
    struct fixture *fx = *state;
    struct db_event a, b;
    struct db_txn *t;
    int64_t first = -1, last = -1, last2, e1, e2, e3;
    char *AUTOFREE feed = NULL;
    char want[256];

    /* The first migration writes no feed rows. */
    assert_int_equal(db_feed_bounds(fx->db, &first, &last), 0);
    assert_int_equal(first, 0);
    assert_int_equal(last, 0);
    feed = feed_text(fx->db, 0);
    assert_string_equal(feed, "");
    xfree(feed);

    e1 = add_event(fx->db, 0, SEV_INFORMATIONAL, "one", NULL, NULL, 0);
    /* Two inserts and an acknowledgement in one transaction. */
    memset(&a, 0, sizeof(a));
    a.type = (char *)(uintptr_t)"two";
    a.summary = (char *)(uintptr_t)"s";
    b = a;
    b.type = (char *)(uintptr_t)"three";
    t = db_txn_begin(fx->db, DB_SYNC_FULL);
    assert_non_null(t);
    assert_int_equal(db_txn_event_insert(t, &a), 0);
    assert_int_equal(db_txn_event_insert(t, &b), 0);
    assert_int_equal(db_txn_event_acknowledge(t, e1, true, "u", 5, NULL), 0);
    assert_int_equal(db_txn_commit(t), 0);
    e2 = a.id;
    e3 = b.id;
    assert_true(e1 < e2 && e2 < e3);

    feed = feed_text(fx->db, 0);
    snprintf(want, sizeof(want), "e%" PRId64 " e%" PRId64 " e%" PRId64
             " e%" PRId64, e1, e2, e3, e1);
    assert_string_equal(feed, want);
    xfree(feed);
    assert_int_equal(db_feed_bounds(fx->db, &first, &last), 0);
    assert_int_equal(last - first, 3);

    /* A rolled-back insert leaves neither the event nor a feed row. */
    memset(&a, 0, sizeof(a));
    a.type = (char *)(uintptr_t)"gone";
    a.summary = (char *)(uintptr_t)"s";
    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    assert_non_null(t);
    assert_int_equal(db_txn_event_insert(t, &a), 0);
    assert_int_equal(db_txn_event_acknowledge(t, e2, true, "u", 5, NULL), 0);
    db_txn_rollback(t);
    assert_null(db_event_get(fx->db, a.id));
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    feed = feed_text(fx->db, last);
    assert_string_equal(feed, "");
    xfree(feed);
    assert_int_equal(db_feed_bounds(fx->db, &first, &last2), 0);
    assert_int_equal(last2, last);
    {
        AUTOPTR(db_event) struct db_event *e = db_event_get(fx->db, e2);

        assert_non_null(e);
        assert_false(e->acknowledged);
    }

    /* The next commit continues right after, without a gap. */
    e3 = add_event(fx->db, 0, SEV_WARNING, "four", NULL, NULL, 0);
    assert_int_equal(db_feed_bounds(fx->db, &first, &last2), 0);
    assert_int_equal(last2, last + 1);
    feed = feed_text(fx->db, last);
    snprintf(want, sizeof(want), "e%" PRId64, e3);
    assert_string_equal(feed, want);
    xfree(feed);

    /* after and limit. */
    {
        struct db_feed_item *v = NULL;
        size_t n = 0;

        assert_int_equal(db_feed_after(fx->db, first, 2, &v, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(v[0].seq, first + 1);
        assert_int_equal(v[1].seq, first + 2);
        assert_false(v[0].is_job);
        assert_true(v[0].time_ms > 0);
        xfree(v);
        assert_int_equal(db_feed_after(fx->db, last2, 10, &v, &n), 0);
        assert_int_equal(n, 0);
        xfree(v);
    }
    feed = NULL;
}

/* ---- notifications ---- */

struct heard {
    char keys[16][48];
    size_t n;
};

static void
on_notify(void *cls, const char *key)
{
    struct heard *h = cls;

    if (h->n < 16)
        str_copy(h->keys[h->n], key, sizeof(h->keys[0]));
    h->n++;
}

static void
test_notify_after_commit(void **state)
{
    struct fixture *fx = *state;
    struct heard h;
    struct db_event e;
    struct db_txn *t;
    char key[48];
    int64_t id;

    memset(&h, 0, sizeof(h));
    assert_int_equal(notify_subscribe(on_notify, &h), 0);

    memset(&e, 0, sizeof(e));
    e.type = (char *)(uintptr_t)"n";
    e.summary = (char *)(uintptr_t)"s";
    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    assert_non_null(t);
    assert_int_equal(db_txn_event_insert(t, &e), 0);
    assert_int_equal(h.n, 0);       /* nothing while the txn is open */
    assert_int_equal(db_txn_commit(t), 0);
    assert_int_equal(h.n, 1);
    snprintf(key, sizeof(key), "event:%" PRId64, e.id);
    assert_string_equal(h.keys[0], key);
    id = e.id;

    /* A rollback publishes nothing. */
    memset(&e, 0, sizeof(e));
    e.type = (char *)(uintptr_t)"n";
    e.summary = (char *)(uintptr_t)"s";
    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    assert_non_null(t);
    assert_int_equal(db_txn_event_insert(t, &e), 0);
    assert_int_equal(db_txn_event_acknowledge(t, id, true, "u", 1, NULL), 0);
    db_txn_rollback(t);
    assert_int_equal(h.n, 1);

    /* An acknowledgement publishes its event's key, after commit. */
    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    assert_non_null(t);
    assert_int_equal(db_txn_event_acknowledge(t, id, true, "u", 1, NULL), 0);
    assert_int_equal(h.n, 1);
    assert_int_equal(db_txn_commit(t), 0);
    assert_int_equal(h.n, 2);
    assert_string_equal(h.keys[1], key);

    /* A no-op acknowledgement publishes nothing. */
    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    assert_non_null(t);
    assert_int_equal(db_txn_event_acknowledge(t, id, true, "u", 1, NULL), 0);
    assert_int_equal(db_txn_commit(t), 0);
    assert_int_equal(h.n, 2);

    notify_unsubscribe(on_notify, &h);
}

/* ---- eventSeverity ---- */

static void
test_event_severity(void **state)
{
    struct fixture *fx = *state;
    int64_t info, warn, crit;

    assert_int_equal(manager_severity(fx), -1);
    info = add_event(fx->db, 0, SEV_INFORMATIONAL, "i", fx->manager, NULL, 0);
    assert_int_equal(manager_severity(fx), -1);  /* never coloured by INFO */
    /* Other objects' events do not count. */
    add_event(fx->db, 0, SEV_CRITICAL, "other", "vm-1", "Vm", 0);
    add_event(fx->db, 0, SEV_CRITICAL, "global", NULL, NULL, 0);
    assert_int_equal(manager_severity(fx), -1);

    warn = add_event(fx->db, 0, SEV_WARNING, "w", fx->manager, NULL, 0);
    assert_int_equal(manager_severity(fx), SEV_WARNING);
    crit = add_event(fx->db, 0, SEV_CRITICAL, "c", fx->manager, NULL, 0);
    assert_int_equal(manager_severity(fx), SEV_CRITICAL);

    assert_int_equal(ack_event(fx->db, crit, true, NULL), 0);
    assert_int_equal(manager_severity(fx), SEV_WARNING);
    assert_int_equal(ack_event(fx->db, warn, true, NULL), 0);
    assert_int_equal(manager_severity(fx), -1);
    assert_int_equal(ack_event(fx->db, info, true, NULL), 0);
    assert_int_equal(manager_severity(fx), -1);
    /* Clearing an acknowledgement colours the object again. */
    assert_int_equal(ack_event(fx->db, crit, false, NULL), 0);
    assert_int_equal(manager_severity(fx), SEV_CRITICAL);
}

/* ---- the operation event.acknowledge, run by the job engine ---- */

#define WAIT_MS 10000 /* how long a job may take before the test fails */

/* Submit a job of @nops operations on the Manager (shared); its id. */
static int64_t
submit(struct fixture *fx, const char *name, const struct job_op_req *ops,
       size_t nops)
{
    struct job_object_req obj = { fx->manager, "Manager", NULL, false };
    struct job_req r;
    int64_t id = 0;

    memset(&r, 0, sizeof(r));
    r.name = name;
    r.user = "alice";
    r.objects = &obj;
    r.nobjects = 1;
    r.ops = ops;
    r.nops = nops;
    if (jobs_submit(&r, &id) < 0)
        fail_msg("cannot submit '%s': %s", name, err_message());
    return id;
}

/* Wait until job @id is done; its row (caller frees). */
static struct db_job *
wait_done(struct fixture *fx, int64_t id)
{
    int64_t until = time_mono_ms() + WAIT_MS;

    for (;;) {
        struct db_job *j = db_job_get(fx->db, id);

        if (!j)
            fail_msg("job %" PRId64 ": %s", id, err_message());
        if (j->done)
            return j;
        db_job_free(j);
        if (time_mono_ms() > until)
            fail_msg("job %" PRId64 " not done after %d ms", id, WAIT_MS);
        usleep(2000);
    }
}

/* Operation @seq of job @id: its state and undo text into the buffers. */
static void
job_op(struct fixture *fx, int64_t id, int64_t seq, char *state,
       char *undo, size_t size)
{
    struct db_job_op *ops = NULL;
    size_t n = 0;

    assert_int_equal(db_job_ops(fx->db, id, &ops, &n), 0);
    assert_true((size_t)seq < n);
    str_copy(state, ops[seq].state, size);
    str_copy(undo, ops[seq].undo ? ops[seq].undo : "", size);
    db_job_ops_free(ops, n);
}

static void
test_acknowledge_job(void **state)
{
    struct fixture *fx = *state;
    struct jobs_conf c = {
        .db = fx->db, .workers = 2, .priority_workers = 1,
        .lock_timeout_ms = 5000, .retention_ms = 86400000LL,
        .event_retention_ms = 86400000LL,
    };
    AUTOPTR(json_object) json_object *ack = json_object_new_object();
    AUTOPTR(json_object) json_object *unack = json_object_new_object();
    AUTOPTR(json_object) json_object *missing = json_object_new_object();
    AUTOPTR(json_object) json_object *fail = json_object_new_object();
    struct job_op_req ops[2];
    struct db_job *j;
    struct db_event *e;
    char st[64], undo[64];
    int64_t ev, id;

    assert_int_equal(jobs_init(&c), 0);
    assert_int_equal(jobs_recover(), 0);
    assert_int_equal(jobs_start(), 0);
    fx->engine = true;
    ev = add_event(fx->db, 0, SEV_WARNING, "w", fx->manager, NULL, 0);
    assert_int_equal(manager_severity(fx), SEV_WARNING);
    json_object_object_add(ack, "id", json_object_new_int64(ev));
    json_object_object_add(unack, "id", json_object_new_int64(ev));
    json_object_object_add(unack, "acknowledge", json_object_new_boolean(0));
    json_object_object_add(missing, "id", json_object_new_int64(ev + 999));
    json_object_object_add(fail, "message", json_object_new_string("no"));
    memset(ops, 0, sizeof(ops));

    /* Acknowledge: done by the job's user, undo data the old state. */
    ops[0].op = "event.acknowledge";
    ops[0].args = ack;
    id = submit(fx, "ack", ops, 1);
    j = wait_done(fx, id);
    assert_int_equal(j->run_state, JOB_SUCCESS);
    db_job_free(j);
    e = db_event_get(fx->db, ev);
    assert_non_null(e);
    assert_true(e->acknowledged);
    assert_string_equal(e->ack_user, "alice");
    assert_true(e->ack_ms > 0);
    db_event_free(e);
    assert_int_equal(manager_severity(fx), -1);
    job_op(fx, id, 0, st, undo, sizeof(st));
    assert_string_equal(st, "DONE");
    assert_string_equal(undo, "{\"was\":false}");

    /* Clear it, then fail: the undo puts the acknowledgement back. */
    ops[0].args = unack;
    ops[1].op = "diag.fail";
    ops[1].args = fail;
    id = submit(fx, "unack then fail", ops, 2);
    j = wait_done(fx, id);
    assert_int_equal(j->run_state, JOB_FAILURE);
    db_job_free(j);
    job_op(fx, id, 0, st, undo, sizeof(st));
    assert_string_equal(st, "UNDONE");
    assert_string_equal(undo, "{\"was\":true}");
    e = db_event_get(fx->db, ev);
    assert_non_null(e);
    assert_true(e->acknowledged);
    db_event_free(e);

    /* An event that does not exist fails the job, saying so. */
    ops[0].args = missing;
    id = submit(fx, "missing", ops, 1);
    j = wait_done(fx, id);
    assert_int_equal(j->run_state, JOB_FAILURE);
    assert_non_null(j->error_message);
    assert_non_null(strstr(j->error_message, "not found"));
    db_job_free(j);

    jobs_stop(1000);
    fx->engine = false;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_severity),
        T(test_events_add),
        T(test_get_not_found),
        T(test_list_filters),
        T(test_acknowledge),
        T(test_purge),
        T(test_feed),
        T(test_notify_after_commit),
        T(test_event_severity),
        T(test_acknowledge_job),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests_name("events", tests, NULL, NULL);
}
