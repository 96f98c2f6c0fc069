/*
 * events.c - raising events on objects from jobs and background work.
 *
 * DESIGN: events_add() only formats and validates; the row, its feed row
 * and the "event:<id>" notification are db/'s (db_txn_event_insert), all
 * inside the caller's transaction, so an event exists exactly when the
 * change it reports was committed and subscribers (the SSE stream) hear
 * of it only after that commit. Nothing here holds state or locks: it is
 * called from job workers and background threads alike, with the
 * transaction (and so the database writer lock) held by the caller --
 * which is why it must stay quick and never wait.
 */
#include <inttypes.h>
#include <stdarg.h>

#include "db/db.h"
#include "events/events.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/log.h"

LOG_MODULE("events");

int
events_add(struct db_txn *t, int severity, const char *type,
           const char *object_id, const char *object_type,
           const char *object_name, int64_t job_id, const char *user,
           const char *description, const char *summary, ...)
{
    AUTOPTR(db_event) struct db_event *e = NULL;
    va_list ap;

    if (severity < SEV_INFORMATIONAL || severity > SEV_CRITICAL) {
        err_set(ERR_INVALID, "cannot add event '%s': severity %d is not "
                             "one of 0 (INFORMATIONAL) to 3 (CRITICAL)",
                type ? type : "", severity);
        return -1;
    }
    if (!type || !*type || !summary) {
        err_set(ERR_INVALID, "cannot add an event: type and summary are "
                             "required");
        return -1;
    }
    /* Copies, so the row is built from one owned struct; events are rare
     * next to everything else a transaction writes. */
    e = xcalloc(1, sizeof(*e));
    va_start(ap, summary);
    e->summary = xvasprintf(summary, ap);
    va_end(ap);
    e->severity = severity;
    e->type = xstrdup(type);
    e->description = xstrdup(description ? description : e->summary);
    e->object_id = xstrdup(object_id);
    e->object_type = xstrdup(object_type);
    e->object_name = xstrdup(object_name);
    e->job_id = job_id;
    e->user = xstrdup(user);
    if (db_txn_event_insert(t, e) < 0)
        return -1;
    log_debug("event %" PRId64 " %s '%s' on '%s' (job %" PRId64 "): %s",
              e->id, db_severity_str(severity), type,
              object_id ? object_id : "-", job_id, e->summary);
    return 0;
}
