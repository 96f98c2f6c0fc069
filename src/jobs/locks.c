/*
 * locks.c - see locks.h. Requests live in one array in queue order;
 * each keeps its objects sorted by id so two requests are compared with
 * one merge walk. Finding the next grantable request is a scan of the
 * queue against held and earlier waiting requests: O(requests^2) in the
 * worst case, which is fine for the hundreds of jobs a Manager has in
 * flight; an object->requests index is the next step if that changes.
 */
#include <stdlib.h>
#include <string.h>

#include "jobs/locks.h"
#include "util/alloc.h"

struct own_obj {
    char *id;
    bool exclusive;
};

struct lock_req {
    int64_t job;
    bool priority;
    bool held;
    uint64_t seq;             /* queue order: the job id */
    struct own_obj *objs;     /* sorted by id, ids owned */
    size_t n;
};

struct lock_table {
    struct lock_req *reqs;    /* priority first, then by seq */
    size_t n, cap;
};

struct lock_table *
locks_new(void)
{
    return xcalloc(1, sizeof(struct lock_table));
}

static void
req_release(struct lock_req *r)
{
    size_t i;

    for (i = 0; i < r->n; i++)
        xfree(r->objs[i].id);
    xfree(r->objs);
}

void
locks_free(struct lock_table *lt)
{
    size_t i;

    if (!lt)
        return;
    for (i = 0; i < lt->n; i++)
        req_release(&lt->reqs[i]);
    xfree(lt->reqs);
    xfree(lt);
}

static int
obj_cmp(const void *a, const void *b)
{
    return strcmp(((const struct own_obj *)a)->id,
                  ((const struct own_obj *)b)->id);
}

void
locks_add(struct lock_table *lt, int64_t job, bool priority,
          const struct lock_obj *objs, size_t n)
{
    struct lock_req r = { .job = job, .priority = priority,
                          .seq = (uint64_t)job };
    size_t i, at;

    r.objs = xcalloc(n ? n : 1, sizeof(*r.objs));
    for (i = 0; i < n; i++) {
        r.objs[i].id = xstrdup(objs[i].id);
        r.objs[i].exclusive = objs[i].exclusive;
    }
    qsort(r.objs, n, sizeof(*r.objs), obj_cmp);
    /* Merge duplicates: exclusive wins. */
    for (i = 0; i < n; i++) {
        if (r.n && strcmp(r.objs[r.n - 1].id, r.objs[i].id) == 0) {
            r.objs[r.n - 1].exclusive |= r.objs[i].exclusive;
            xfree(r.objs[i].id);
            continue;
        }
        r.objs[r.n++] = r.objs[i];
    }
    if (lt->n == lt->cap) {
        lt->cap = lt->cap ? lt->cap * 2 : 16;
        lt->reqs = xrealloc(lt->reqs, lt->cap * sizeof(*lt->reqs));
    }
    /* Queue order: priority requests first, then by job id (ids grow
     * with submission, so two submitters racing to queue still line up
     * in the order their jobs were committed). */
    for (at = lt->n; at > 0; at--) {
        const struct lock_req *q = &lt->reqs[at - 1];

        if (q->priority && !priority)
            break;
        if (q->priority == priority && q->seq < r.seq)
            break;
    }
    memmove(&lt->reqs[at + 1], &lt->reqs[at],
            (lt->n - at) * sizeof(*lt->reqs));
    lt->reqs[at] = r;
    lt->n++;
}

/* Do @a and @b want a common object with at least one exclusive?
 * *object receives it. */
static bool
conflict(const struct lock_req *a, const struct lock_req *b,
         const char **object)
{
    size_t i = 0, j = 0;

    while (i < a->n && j < b->n) {
        int c = strcmp(a->objs[i].id, b->objs[j].id);

        if (c == 0) {
            if (a->objs[i].exclusive || b->objs[j].exclusive) {
                if (object)
                    *object = a->objs[i].id;
                return true;
            }
            i++;
            j++;
        } else if (c < 0) {
            i++;
        } else {
            j++;
        }
    }
    return false;
}

/* Can request @k be granted: no conflict with any held request nor with
 * any waiting request ahead of it? */
static bool
can_grant(const struct lock_table *lt, size_t k)
{
    size_t i;

    for (i = 0; i < lt->n; i++) {
        if (i == k)
            continue;
        if (!lt->reqs[i].held && i > k)
            continue;
        if (conflict(&lt->reqs[k], &lt->reqs[i], NULL))
            return false;
    }
    return true;
}

static size_t
find(const struct lock_table *lt, int64_t job)
{
    size_t i;

    for (i = 0; i < lt->n; i++) {
        if (lt->reqs[i].job == job)
            return i;
    }
    return lt->n;
}

int64_t
locks_grant_next(struct lock_table *lt,
                 bool (*accept)(void *cls, int64_t job), void *cls)
{
    size_t k;

    for (k = 0; k < lt->n; k++) {
        if (lt->reqs[k].held)
            continue;
        if (accept && !accept(cls, lt->reqs[k].job))
            continue;
        if (can_grant(lt, k)) {
            lt->reqs[k].held = true;
            return lt->reqs[k].job;
        }
    }
    return 0;
}

bool
locks_grantable(struct lock_table *lt, int64_t job)
{
    size_t k = find(lt, job);

    return k < lt->n && !lt->reqs[k].held && can_grant(lt, k);
}

void
locks_remove(struct lock_table *lt, int64_t job)
{
    size_t k = find(lt, job);

    if (k == lt->n)
        return;
    req_release(&lt->reqs[k]);
    memmove(&lt->reqs[k], &lt->reqs[k + 1],
            (lt->n - k - 1) * sizeof(*lt->reqs));
    lt->n--;
}

int64_t
locks_blocker(struct lock_table *lt, int64_t job, const char **object)
{
    size_t k = find(lt, job), i;

    *object = NULL;
    if (k == lt->n)
        return 0;
    for (i = 0; i < lt->n; i++) {
        if (i != k && lt->reqs[i].held &&
            conflict(&lt->reqs[k], &lt->reqs[i], object))
            return lt->reqs[i].job;
    }
    return 0;
}

size_t
locks_count(const struct lock_table *lt)
{
    return lt->n;
}
