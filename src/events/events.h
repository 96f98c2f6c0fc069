/*
 * events.h - events on objects: raised by jobs and background work,
 * acknowledged by users, shown as each object's worst severity.
 *
 * DESIGN: an event is a row written inside the transaction of the change
 * it reports (db_txn_event_insert), so it exists exactly when the change
 * does; db_txn_commit() publishes it (notify "event:<id>") only after the
 * commit, which wakes the SSE stream. Severities are INFORMATIONAL,
 * WARNING, ERROR and CRITICAL; an object's `eventSeverity` is the worst
 * of its unacknowledged WARNING-or-worse events (the console's grey,
 * yellow, red). Acknowledging is a job like every change (operation
 * "event.acknowledge" in jobs/ops.c, undone by clearing it).
 */
#ifndef OVMM_EVENTS_H
#define OVMM_EVENTS_H

#include <stdint.h>

struct db_txn;

/*
 * Add an event inside @t. @object_id/@object_type/@object_name may be NULL
 * (an event about the Manager as a whole); @job_id 0 when no job raised
 * it; @user NULL for background work. @summary is printf-formatted and
 * also the description when @description is NULL. 0 or -1.
 */
int events_add(struct db_txn *t, int severity, const char *type,
               const char *object_id, const char *object_type,
               const char *object_name, int64_t job_id, const char *user,
               const char *description, const char *summary, ...)
    __attribute__((format(printf, 10, 11)));

#endif
