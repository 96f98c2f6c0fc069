/*
 * locks.h - the object lock table of the job engine (private to jobs/).
 *
 * DESIGN: a request is the whole set of objects one job needs, each
 * exclusive or shared, sorted by id. A request is granted all at once or
 * not at all, so no job ever holds some of its locks while waiting for
 * the rest (no deadlock). Fairness: requests are considered in queue
 * order (priority requests first, then by job id, which grows with
 * submission) and a waiting
 * request reserves its objects against every request behind it, so
 * conflicting jobs are granted in the order they were submitted, while a
 * request that conflicts with nothing ahead of it goes at once. Not
 * thread-safe: the engine calls it under its own mutex. Pure data, no
 * I/O, unit-tested on its own.
 */
#ifndef OVMM_JOBS_LOCKS_H
#define OVMM_JOBS_LOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lock_table;

struct lock_obj {
    const char *id;   /* copied by locks_add() */
    bool exclusive;
};

struct lock_table *locks_new(void);
void locks_free(struct lock_table *lt);

/* Queue job @job's request for @objs (duplicates merge, exclusive wins).
 * @priority requests queue ahead of ordinary ones; within each, requests
 * line up by job id (ids grow with submission). */
void locks_add(struct lock_table *lt, int64_t job, bool priority,
               const struct lock_obj *objs, size_t n);
/*
 * The first waiting request, in queue order, that can be granted now and
 * whose job @accept(@cls, job) agrees to take (e.g. the lane of the
 * asking worker); it is marked held and its job returned. 0 when none.
 */
int64_t locks_grant_next(struct lock_table *lt,
                         bool (*accept)(void *cls, int64_t job), void *cls);
/* Can @job's waiting request be granted now (ignoring lanes)? */
bool locks_grantable(struct lock_table *lt, int64_t job);
/* Drop @job's request, held or waiting. */
void locks_remove(struct lock_table *lt, int64_t job);
/*
 * For a waiting @job: the first held request that conflicts with it, as
 * the holder's job id and the contested object id (borrowed until the
 * table changes); 0 when it is only queued behind other waiters.
 */
int64_t locks_blocker(struct lock_table *lt, int64_t job,
                      const char **object);
/* Number of requests (held + waiting). */
size_t locks_count(const struct lock_table *lt);

#endif
