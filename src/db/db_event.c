/*
 * db_event.c - events on objects and the change feed behind the SSE
 * stream.
 *
 * DESIGN: an event is written inside the caller's write transaction
 * (struct db_txn) together with the change it reports, and with a `feed`
 * row, so the event, its feed row and the change commit together or not
 * at all; the notify key "event:<id>" is recorded on the transaction and
 * published by db_txn_commit() only after the commit. Acknowledging works
 * the same way. Reads use the reader connection inside one read
 * transaction, so a list and its total count see the same snapshot.
 *
 * Ids: an event's id is the insert time in ms, bumped past the highest id
 * when two events share a millisecond -- the shape of job ids. Unlike a
 * bare rowid it is never reused once the newest events were purged, so a
 * client holding an old id can never fetch a different event by it.
 *
 * The feed (`feed`, seq AUTOINCREMENT) gets one row per event insert and
 * per acknowledgement change; db_job.c adds the job rows. With one writer,
 * seq order is commit order, and a rolled-back transaction leaves neither
 * the row nor a gap, so a reader that has seen seq N has seen every row
 * below N that still exists.
 *
 * An object's eventSeverity is computed by db_object.c from `events`
 * (worst unacknowledged WARNING-or-worse); nothing here caches it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "db/db_int.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/str.h"

/* The columns read_event() reads, in order. */
#define EVENT_COLS                                                            \
    "id, time_ms, severity, type, summary, description, object_id, "        \
    "object_type, object_name, job_id, user_name, acknowledged, ack_user, " \
    "ack_ms"

/* Append a feed row for event ?2 at time ?1. */
#define FEED_EVENT_SQL                                                        \
    "INSERT INTO feed (time_ms, kind, ref) VALUES (?1, 'event', ?2)"

static const char *const severity_names[] = { "INFORMATIONAL", "WARNING",
                                              "ERROR", "CRITICAL" };

const char *
db_severity_str(int sev)
{
    if (sev < SEV_INFORMATIONAL || sev > SEV_CRITICAL)
        return "UNKNOWN";
    return severity_names[sev];
}

int
db_severity_parse(const char *s)
{
    int i;

    if (!s)
        return -1;
    for (i = SEV_INFORMATIONAL; i <= SEV_CRITICAL; i++) {
        if (strcmp(s, severity_names[i]) == 0)
            return i;
    }
    return -1;
}

void
db_event_free(struct db_event *e)
{
    if (!e)
        return;
    xfree(e->type);
    xfree(e->summary);
    xfree(e->description);
    xfree(e->object_id);
    xfree(e->object_type);
    xfree(e->object_name);
    xfree(e->user);
    xfree(e->ack_user);
    xfree(e);
}

void
db_events_free(struct db_event **v, size_t n)
{
    size_t i;

    if (!v)
        return;
    for (i = 0; i < n; i++)
        db_event_free(v[i]);
    xfree(v);
}

/* The current row of @st (selected with EVENT_COLS) as a new event. */
static struct db_event *
read_event(sqlite3_stmt *st)
{
    struct db_event *e = xcalloc(1, sizeof(*e));

    e->id = sqlite3_column_int64(st, 0);
    e->time_ms = sqlite3_column_int64(st, 1);
    e->severity = sqlite3_column_int(st, 2);
    e->type = db_col_strdup(st, 3);
    e->summary = db_col_strdup(st, 4);
    e->description = db_col_strdup(st, 5);
    e->object_id = db_col_strdup(st, 6);
    e->object_type = db_col_strdup(st, 7);
    e->object_name = db_col_strdup(st, 8);
    e->job_id = sqlite3_column_int64(st, 9); /* NULL -> 0: none */
    e->user = db_col_strdup(st, 10);
    e->acknowledged = sqlite3_column_int(st, 11) != 0;
    e->ack_user = db_col_strdup(st, 12);
    e->ack_ms = sqlite3_column_int64(st, 13);
    return e;
}

int
db_txn_event_insert(struct db_txn *t, struct db_event *e)
{
    struct db_conn *c = db_txn_conn(t);
    int64_t now = time_now_ms();
    char key[48];

    if (!e->type || !*e->type || !e->summary) {
        err_set(ERR_INVALID, "cannot add an event: type and summary are "
                             "required");
        return -1;
    }
    if (e->severity < SEV_INFORMATIONAL || e->severity > SEV_CRITICAL) {
        err_set(ERR_INVALID, "cannot add event '%s': severity %d is out of "
                             "range", e->type, e->severity);
        return -1;
    }
    if (e->time_ms == 0)
        e->time_ms = now;
    /*
     * ?1 = now: the id (see DESIGN). The object's type and name, when the
     * caller left them out, come from the object itself, so an event
     * always renders with a complete SimpleId while its object exists.
     * A job_id of 0 ("none") is stored as NULL.
     */
    if (db_run(c, "INSERT INTO events (id, time_ms, severity, type, summary, "
                  "description, object_id, object_type, object_name, job_id, "
                  "user_name) VALUES ("
                  "max(?1, coalesce((SELECT max(id) FROM events), 0) + 1), "
                  "?2, ?3, ?4, ?5, ?6, ?7, "
                  "coalesce(?8, (SELECT type FROM objects WHERE id = ?7)), "
                  "coalesce(?9, (SELECT name FROM objects WHERE id = ?7)), "
                  "nullif(?10, 0), ?11)",
               "iiittttttit", now, e->time_ms, (int64_t)e->severity, e->type,
               e->summary, e->description ? e->description : "",
               e->object_id, e->object_type, e->object_name,
               e->job_id, e->user) !=
        SQLITE_DONE)
        return db_err_set(c, "cannot add event '%s'", e->type);
    e->id = sqlite3_last_insert_rowid(c->h);
    if (db_run(c, FEED_EVENT_SQL, "ii", now, e->id) != SQLITE_DONE)
        return db_err_set(c, "cannot add event '%s' to the feed", e->type);
    snprintf(key, sizeof(key), "event:%" PRId64, e->id);
    db_txn_notify(t, key);
    return 0;
}

struct db_event *
db_event_get(struct db *db, int64_t id)
{
    struct db_conn *c;
    sqlite3_stmt *st = NULL;
    struct db_event *e = NULL;
    int rc;

    c = db_read_begin(db);
    if (!c)
        return NULL;
    st = db_stmt(c, "SELECT " EVENT_COLS " FROM events WHERE id = ?1");
    if (!st)
        goto cleanup;
    rc = sqlite3_bind_int64(st, 1, id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        e = read_event(st);
    else if (rc == SQLITE_DONE)
        err_set(ERR_NOT_FOUND, "Event '%" PRId64 "' not found", id);
    else
        db_err_set(c, "cannot read Event '%" PRId64 "'", id);

 cleanup:
    db_stmt_release(st);
    db_read_end(db);
    return e;
}

/*
 * The WHERE clause for @f into @b, from fixed fragments only (values are
 * bound by bind_filter() to the same fixed parameter numbers), so each
 * combination of filters is one cached statement that can use the
 * indexes, instead of one statement full of "?n IS NULL OR ...".
 */
static void
filter_sql(struct buf *b, const struct db_event_filter *f)
{
    const char *sep = " WHERE ";

    if (f->object_id) {
        buf_printf(b, "%sobject_id = ?1", sep);
        sep = " AND ";
    }
    if (f->min_severity >= 0) {
        buf_printf(b, "%sseverity >= ?2", sep);
        sep = " AND ";
    }
    if (f->acknowledged >= 0) {
        buf_printf(b, "%sacknowledged = ?3", sep);
        sep = " AND ";
    }
    if (f->since_ms > 0) {
        buf_printf(b, "%stime_ms >= ?4", sep);
        sep = " AND ";
    }
    if (f->until_ms > 0) {
        buf_printf(b, "%stime_ms < ?5", sep);
        sep = " AND ";
    }
    if (f->job_id > 0)
        buf_printf(b, "%sjob_id = ?6", sep);
}

/* Bind what filter_sql() referenced, plus ?7 limit and ?8 offset when
 * @paging. Returns the SQLite result code. */
static int
bind_filter(sqlite3_stmt *st, const struct db_event_filter *f, bool paging)
{
    int rc = SQLITE_OK;

    if (f->object_id)
        rc = db_bind_text(st, 1, f->object_id);
    if (rc == SQLITE_OK && f->min_severity >= 0)
        rc = sqlite3_bind_int(st, 2, f->min_severity);
    if (rc == SQLITE_OK && f->acknowledged >= 0)
        rc = sqlite3_bind_int(st, 3, f->acknowledged ? 1 : 0);
    if (rc == SQLITE_OK && f->since_ms > 0)
        rc = sqlite3_bind_int64(st, 4, f->since_ms);
    if (rc == SQLITE_OK && f->until_ms > 0)
        rc = sqlite3_bind_int64(st, 5, f->until_ms);
    if (rc == SQLITE_OK && f->job_id > 0)
        rc = sqlite3_bind_int64(st, 6, f->job_id);
    if (rc == SQLITE_OK && paging)
        rc = sqlite3_bind_int64(st, 7, f->limit);
    if (rc == SQLITE_OK && paging)
        rc = sqlite3_bind_int64(st, 8, f->offset > 0 ? f->offset : 0);
    return rc;
}

int
db_event_list(struct db *db, const struct db_event_filter *f,
              struct db_event ***out, size_t *n, int64_t *total)
{
    struct db_conn *c;
    sqlite3_stmt *st = NULL;
    struct db_event **v = NULL;
    char *AUTOFREE where = NULL;
    char *AUTOFREE list_sql = NULL;
    char *AUTOFREE count_sql = NULL;
    struct buf b;
    size_t cnt = 0, cap = 0;
    int rc, ret = -1;

    *out = NULL;
    *n = 0;
    buf_init(&b, 0);
    filter_sql(&b, f);
    where = buf_steal(&b);
    buf_release(&b);
    /* id breaks ties between events of one millisecond: newer id, newer. */
    list_sql = xasprintf("SELECT " EVENT_COLS " FROM events%s ORDER BY "
                         "time_ms DESC, id DESC LIMIT ?7 OFFSET ?8", where);
    count_sql = xasprintf("SELECT count(*) FROM events%s", where);

    c = db_read_begin(db);
    if (!c)
        return -1;
    if (total) {
        st = db_stmt(c, count_sql);
        if (!st)
            goto cleanup;
        rc = bind_filter(st, f, false);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(st);
        if (rc != SQLITE_ROW) {
            db_err_set(c, "cannot count events");
            goto cleanup;
        }
        *total = sqlite3_column_int64(st, 0);
        db_stmt_release(st);
    }
    st = db_stmt(c, list_sql);
    if (!st)
        goto cleanup;
    rc = bind_filter(st, f, true);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (cnt == cap) {
            cap = cap ? 2 * cap : 16;
            v = xrealloc(v, cap * sizeof(*v));
        }
        v[cnt++] = read_event(st);
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE) {
        db_err_set(c, "cannot list events");
        goto cleanup;
    }
    *out = steal_ptr(&v);
    *n = cnt;
    ret = 0;

 cleanup:
    db_stmt_release(st);
    db_read_end(db);
    db_events_free(v, cnt);
    return ret;
}

int
db_txn_event_acknowledge(struct db_txn *t, int64_t id, bool ack,
                         const char *user, int64_t now_ms, bool *was)
{
    struct db_conn *c = db_txn_conn(t);
    sqlite3_stmt *st;
    bool prev;
    char key[48];
    int rc;

    st = db_stmt(c, "SELECT acknowledged FROM events WHERE id = ?1");
    if (!st)
        return -1;
    rc = sqlite3_bind_int64(st, 1, id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        db_stmt_release(st);
        err_set(ERR_NOT_FOUND, "Event '%" PRId64 "' not found", id);
        return -1;
    }
    if (rc != SQLITE_ROW) {
        db_err_set(c, "cannot read Event '%" PRId64 "'", id);
        db_stmt_release(st);
        return -1;
    }
    prev = sqlite3_column_int(st, 0) != 0;
    db_stmt_release(st);
    if (was)
        *was = prev;
    /*
     * Already in the asked-for state: keep who acknowledged it and when,
     * and write nothing, so repeating an acknowledgement (or undoing one
     * that changed nothing) is a no-op that wakes no stream.
     */
    if (prev == ack)
        return 0;
    if (db_run(c, "UPDATE events SET acknowledged = ?2, "
                  "ack_user = CASE WHEN ?2 THEN ?3 END, "
                  "ack_ms = CASE WHEN ?2 THEN ?4 END WHERE id = ?1",
               "ibti", id, ack, user, now_ms) != SQLITE_DONE)
        return db_err_set(c, "cannot %s Event '%" PRId64 "'",
                          ack ? "acknowledge" : "unacknowledge", id);
    if (db_run(c, FEED_EVENT_SQL, "ii", now_ms, id) != SQLITE_DONE)
        return db_err_set(c, "cannot add Event '%" PRId64 "' to the feed",
                          id);
    snprintf(key, sizeof(key), "event:%" PRId64, id);
    db_txn_notify(t, key);
    return 0;
}

int
db_event_purge(struct db *db, int64_t before_ms, int64_t *deleted)
{
    struct db_conn *c;
    int64_t count;

    c = db_write_begin(db);
    if (!c)
        return -1;
    /*
     * The feed rows first, while the events still say which ids go. The
     * feed has no index on ref; this runs hourly, and a scan of the
     * retained feed is cheap next to keeping an index on every insert.
     */
    if (db_run(c, "DELETE FROM feed WHERE kind = 'event' AND ref IN "
                  "(SELECT id FROM events WHERE time_ms < ?1)",
               "i", before_ms) != SQLITE_DONE) {
        db_err_set(c, "cannot purge the feed rows of old events");
        goto fail;
    }
    if (db_run(c, "DELETE FROM events WHERE time_ms < ?1", "i", before_ms) !=
        SQLITE_DONE) {
        db_err_set(c, "cannot purge old events");
        goto fail;
    }
    count = sqlite3_changes(c->h);
    if (db_write_commit(db) < 0)
        return -1;
    if (deleted)
        *deleted = count;
    return 0;

 fail:
    db_write_rollback(db);
    return -1;
}

int
db_feed_after(struct db *db, int64_t after, int64_t limit,
              struct db_feed_item **out, size_t *n)
{
    struct db_conn *c;
    sqlite3_stmt *st = NULL;
    struct db_feed_item *v = NULL;
    size_t cnt = 0, cap = 0;
    int rc, ret = -1;

    *out = NULL;
    *n = 0;
    c = db_read_begin(db);
    if (!c)
        return -1;
    st = db_stmt(c, "SELECT seq, time_ms, kind, ref FROM feed WHERE seq > ?1 "
                    "ORDER BY seq LIMIT ?2");
    if (!st)
        goto cleanup;
    rc = sqlite3_bind_int64(st, 1, after);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, limit);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *kind = sqlite3_column_text(st, 2);

        if (cnt == cap) {
            cap = cap ? 2 * cap : 16;
            v = xrealloc(v, cap * sizeof(*v));
        }
        v[cnt].seq = sqlite3_column_int64(st, 0);
        v[cnt].time_ms = sqlite3_column_int64(st, 1);
        v[cnt].is_job = kind && strcmp((const char *)kind, "job") == 0;
        v[cnt].ref = sqlite3_column_int64(st, 3);
        cnt++;
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE) {
        db_err_set(c, "cannot read the feed after %" PRId64, after);
        goto cleanup;
    }
    *out = steal_ptr(&v);
    *n = cnt;
    ret = 0;

 cleanup:
    db_stmt_release(st);
    db_read_end(db);
    xfree(v);
    return ret;
}

int
db_feed_bounds(struct db *db, int64_t *first, int64_t *last)
{
    struct db_conn *c;
    sqlite3_stmt *st = NULL;
    int ret = -1;

    c = db_read_begin(db);
    if (!c)
        return -1;
    st = db_stmt(c, "SELECT coalesce(min(seq), 0), coalesce(max(seq), 0) "
                    "FROM feed");
    if (!st)
        goto cleanup;
    if (sqlite3_step(st) != SQLITE_ROW) {
        db_err_set(c, "cannot read the bounds of the feed");
        goto cleanup;
    }
    *first = sqlite3_column_int64(st, 0);
    *last = sqlite3_column_int64(st, 1);
    ret = 0;

 cleanup:
    db_stmt_release(st);
    db_read_end(db);
    return ret;
}
