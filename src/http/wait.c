/*
 * wait.c - long-polls and streamed bodies without a thread each: the
 * table of suspended connections, its timer thread, and the content
 * reader of streamed (SSE) responses.
 *
 * DESIGN: a request that has to wait does not hold an HTTP thread: its
 * connection is suspended with MHD_suspend_connection() and remembered
 * here as a `struct http_wait` (key, deadline). notify_publish() (our
 * subscriber runs on the publisher's thread) and the timer thread resume
 * it with MHD_resume_connection(); libmicrohttpd then calls the access
 * handler, or the stream's content reader, again on a polling thread.
 *
 * One mutex per table (one table per server) protects every entry's
 * suspended flag, key and deadline. The connection's own thread suspends
 * while holding it, and the notifier, the timer and stop resume only an
 * entry whose flag says suspended, clearing the flag under the same lock;
 * so MHD never sees a resume of a connection that is not suspended, nor
 * of one that is gone (an entry is unlinked, under the lock, before its
 * connection is freed). A publish can arrive between "the handler asked
 * to wait" (or "read() had nothing") and the suspend: the table counts
 * publishes (`seq`), the caller samples the count before it dispatches or
 * reads, and http_wait_suspend() refuses to suspend when it has moved,
 * so the caller runs again at once instead of sleeping through it.
 *
 * The timer thread sleeps on a condition variable (CLOCK_MONOTONIC) until
 * the earliest deadline of a suspended entry; a suspend with an earlier
 * deadline than the one it sleeps towards wakes it. Stopping marks the
 * table, resumes everything and makes every later suspend fail, because
 * MHD_stop_daemon() must not meet a suspended connection; the long-polls
 * are then dispatched with no_wait and the streams end. Lock order: a
 * table lock is taken before MHD's internal locks (suspend/resume), never
 * the other way round, and never while calling notify_(un)subscribe().
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "http/http_int.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/notify.h"
#include "util/str.h"

LOG_MODULE("http");

/* One waiting request (long-poll) or stream, in its table's list. */
struct http_wait {
    struct http_waits *tab;        /* immutable */
    struct MHD_Connection *conn;   /* immutable */
    uint64_t req_id;               /* immutable, for log lines */
    bool any_key;                  /* immutable: streams wake on any key */
    char key[64];                  /* protected by tab->lock; "" = any */
    int64_t deadline_ms;           /* protected by tab->lock; 0 = none */
    bool suspended;                /* protected by tab->lock */
    bool timed_out;                /* protected by tab->lock: the last
                                      resume came from the deadline */
    struct http_wait *prev;        /* protected by tab->lock */
    struct http_wait *next;        /* protected by tab->lock */
};

struct http_waits {
    pthread_mutex_t lock;
    pthread_cond_t wake;           /* timer: earlier deadline, or exit */
    pthread_cond_t drained;        /* the list became empty */
    pthread_t timer;               /* immutable after http_waits_new() */
    atomic_uint_fast64_t seq;      /* publishes so far; written under lock */
    atomic_bool stopping;          /* written under lock */
    bool exit;                     /* protected by lock */
    int64_t next_wake_ms;          /* protected by lock: when the timer
                                      wakes; 0 = not before a signal */
    struct http_wait *head;        /* protected by lock */
    size_t count;                  /* protected by lock */
};

/* A streamed response: the MHD content reader's closure. */
struct http_stream {
    struct api_stream *api;        /* owned: its free callback, then
                                      xfree() */
    struct http_wait *wait;        /* our entry; any key wakes it */
    uint64_t req_id;               /* for log lines */
    int64_t last_tick_ms;          /* last data or heartbeat */
    bool waiting;                  /* we suspended from the reader */
};

/* Resume @w's connection. Call with the table lock held and only when
 * the flag says the connection is suspended. */
static void
wait_resume_locked(struct http_wait *w, bool timed_out)
{
    w->suspended = false;
    w->timed_out = timed_out;
    MHD_resume_connection(w->conn);
}

/* Does a publish of @key wake @w? */
static bool
wait_matches(const struct http_wait *w, const char *key)
{
    return w->any_key || !w->key[0] || strcmp(key, "*") == 0 ||
           strcmp(key, w->key) == 0;
}

/* notify_fn: runs on the publisher's thread, so it only flips flags and
 * pokes MHD's wake-up channel. */
static void
waits_on_notify(void *cls, const char *key)
{
    struct http_waits *t = cls;
    struct http_wait *w;

    if (!key)
        key = "*";
    pthread_mutex_lock(&t->lock);
    atomic_fetch_add(&t->seq, 1);
    for (w = t->head; w; w = w->next) {
        if (w->suspended && wait_matches(w, key))
            wait_resume_locked(w, false);
    }
    pthread_mutex_unlock(&t->lock);
}

/* The timer thread: resume entries whose deadline passed, then sleep
 * until the next one (or until signalled). */
static void *
waits_timer(void *cls)
{
    struct http_waits *t = cls;
    struct http_wait *w;
    struct timespec ts;
    int64_t now, next;

    pthread_mutex_lock(&t->lock);
    while (!t->exit) {
        now = time_mono_ms();
        next = 0;
        for (w = t->head; w; w = w->next) {
            if (!w->suspended || !w->deadline_ms)
                continue;
            if (w->deadline_ms <= now)
                wait_resume_locked(w, true);
            else if (!next || w->deadline_ms < next)
                next = w->deadline_ms;
        }
        t->next_wake_ms = next;
        if (!next) {
            pthread_cond_wait(&t->wake, &t->lock);
        } else {
            ts.tv_sec = (time_t)(next / 1000);
            ts.tv_nsec = (long)(next % 1000) * 1000000L;
            pthread_cond_timedwait(&t->wake, &t->lock, &ts);
        }
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

struct http_waits *
http_waits_new(void)
{
    struct http_waits *t = xcalloc(1, sizeof(*t));
    pthread_condattr_t ca;
    sigset_t all, old;
    int rc;

    pthread_mutex_init(&t->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&t->drained, NULL);
    atomic_init(&t->seq, 0);
    atomic_init(&t->stopping, false);

    /* Signals belong to the main thread's sigwait loop. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&t->timer, NULL, waits_timer, t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        fatalx("cannot start the long-poll timer thread: %s", strerror(rc));
    if (notify_subscribe(waits_on_notify, t) < 0) {
        http_waits_free(t);
        return NULL;
    }
    return t;
}

uint64_t
http_waits_seq(struct http_waits *t)
{
    return (uint64_t)atomic_load(&t->seq);
}

bool
http_waits_stopping(struct http_waits *t)
{
    return atomic_load(&t->stopping);
}

void
http_waits_stop(struct http_waits *t)
{
    struct http_wait *w;
    size_t n = 0;

    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    atomic_store(&t->stopping, true);
    for (w = t->head; w; w = w->next) {
        if (w->suspended) {
            wait_resume_locked(w, false);
            n++;
        }
    }
    pthread_mutex_unlock(&t->lock);
    if (n)
        log_info("stopping: woke %zu waiting request%s", n,
                 n == 1 ? "" : "s");
}

void
http_waits_drain(struct http_waits *t, int64_t timeout_ms)
{
    struct timespec ts;
    int rc = 0;

    if (!t)
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(timeout_ms / 1000);
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&t->lock);
    while (t->count > 0 && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&t->drained, &t->lock, &ts);
    if (t->count > 0)
        log_warnx("%zu long-poll%s or stream%s still open after %lld ms; "
                  "closing them", t->count, t->count == 1 ? "" : "s",
                  t->count == 1 ? "" : "s", (long long)timeout_ms);
    pthread_mutex_unlock(&t->lock);
}

void
http_waits_free(struct http_waits *t)
{
    if (!t)
        return;
    /* First, so no publisher is inside waits_on_notify() any more. */
    notify_unsubscribe(waits_on_notify, t);
    pthread_mutex_lock(&t->lock);
    t->exit = true;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->timer, NULL);
    /* MHD_stop_daemon() ended every request and response that had an
     * entry; one left over would point at a freed connection. */
    if (NEVER(t->count != 0))
        log_errorx("%zu waiting requests outlive their server (bug)",
                   t->count);
    pthread_cond_destroy(&t->drained);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
    xfree(t);
}

struct http_wait *
http_wait_new(struct http_waits *t, struct MHD_Connection *c, uint64_t id,
              bool any_key)
{
    struct http_wait *w = xcalloc(1, sizeof(*w));

    w->tab = t;
    w->conn = c;
    w->req_id = id;
    w->any_key = any_key;
    pthread_mutex_lock(&t->lock);
    w->next = t->head;
    if (t->head)
        t->head->prev = w;
    t->head = w;
    t->count++;
    pthread_mutex_unlock(&t->lock);
    return w;
}

void
http_wait_free(struct http_wait *w)
{
    struct http_waits *t;

    if (!w)
        return;
    t = w->tab;
    pthread_mutex_lock(&t->lock);
    /* MHD ends a suspended connection only inside MHD_stop_daemon(), and
     * http_waits_stop() resumed them all before that; but should MHD ever
     * have refused a suspend (a client that went away), the flag is stale
     * and only has to go. Not worth an abort: a client can cause it. */
    if (w->suspended) {
        log_debug("req %llu: ends while marked suspended",
                  (unsigned long long)w->req_id);
        w->suspended = false;
    }
    if (w->prev)
        w->prev->next = w->next;
    else
        t->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    if (--t->count == 0)
        pthread_cond_broadcast(&t->drained);
    pthread_mutex_unlock(&t->lock);
    xfree(w);
}

bool
http_wait_suspend(struct http_wait *w, const char *key, int64_t deadline_ms,
                  uint64_t seq)
{
    struct http_waits *t = w->tab;
    bool suspended = false;

    pthread_mutex_lock(&t->lock);
    assert(!w->suspended);
    if (atomic_load(&t->stopping) || (uint64_t)atomic_load(&t->seq) != seq)
        goto cleanup;
    if (deadline_ms && deadline_ms <= time_mono_ms())
        goto cleanup;
    str_copy(w->key, key ? key : "", sizeof(w->key));
    w->deadline_ms = deadline_ms;
    w->timed_out = false;
    w->suspended = true;
    MHD_suspend_connection(w->conn);
    if (deadline_ms && (!t->next_wake_ms || deadline_ms < t->next_wake_ms)) {
        t->next_wake_ms = deadline_ms;
        pthread_cond_signal(&t->wake);
    }
    suspended = true;

 cleanup:
    pthread_mutex_unlock(&t->lock);
    return suspended;
}

bool
http_wait_woken(struct http_wait *w)
{
    struct http_waits *t = w->tab;
    bool timed_out;

    pthread_mutex_lock(&t->lock);
    timed_out = w->timed_out;
    w->timed_out = false;
    /* MHD runs us, so the connection is not suspended, whatever the flag
     * says (MHD may refuse to suspend a connection the client closed):
     * a later resume must not reach it. */
    w->suspended = false;
    pthread_mutex_unlock(&t->lock);
    return timed_out;
}

/* ---- streamed bodies ---- */

struct http_stream *
http_stream_new(struct http_waits *t, struct MHD_Connection *c, uint64_t id,
                struct api_stream *api)
{
    struct http_stream *st = xcalloc(1, sizeof(*st));

    st->api = api;
    st->wait = http_wait_new(t, c, id, true);
    st->req_id = id;
    st->last_tick_ms = time_mono_ms();
    return st;
}

ssize_t
http_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct http_stream *st = cls;
    struct api_stream *api = st->api;
    struct http_waits *t = st->wait->tab;
    bool heartbeat = false;
    int64_t deadline;
    uint64_t seq;
    ssize_t n, ret;

    (void)pos;
    log_set_context("req %llu", (unsigned long long)st->req_id);
    if (st->waiting) {
        st->waiting = false;
        heartbeat = http_wait_woken(st->wait);
    }
    for (;;) {
        if (http_waits_stopping(t)) {
            ret = MHD_CONTENT_READER_END_OF_STREAM;
            break;
        }
        seq = http_waits_seq(t);
        n = api->read(api->cls, buf, max, heartbeat);
        if (heartbeat)
            st->last_tick_ms = time_mono_ms();
        if (n > 0 && (size_t)n <= max) {
            st->last_tick_ms = time_mono_ms();
            ret = n;
            break;
        }
        if (n == -1) {
            ret = MHD_CONTENT_READER_END_OF_STREAM;
            break;
        }
        if (n != 0) {
            log_errorx("stream read returned %zd for %zu bytes (bug in api/)",
                       n, max);
            ret = MHD_CONTENT_READER_END_WITH_ERROR;
            break;
        }
        /*
         * Nothing now: sleep until a publish or the heartbeat. MHD's
         * internal polling would call us again at once if we returned 0
         * without suspending, so when the suspend is refused (a publish
         * slipped in, the heartbeat is due, or we are stopping) we loop.
         */
        heartbeat = false;
        deadline = api->heartbeat_ms > 0
                       ? st->last_tick_ms + api->heartbeat_ms : 0;
        if (http_wait_suspend(st->wait, "", deadline, seq)) {
            st->waiting = true;
            ret = 0;
            break;
        }
        if (deadline && time_mono_ms() >= deadline)
            heartbeat = true;
    }
    log_clear_context();
    return ret;
}

void
http_stream_free(void *cls)
{
    struct http_stream *st = cls;
    void (*release)(void *);

    if (!st)
        return;
    http_wait_free(st->wait);
    /* The struct api_stream is ours too (api.h: taken over by http/);
     * its free callback releases only what cls points at. */
    release = st->api ? st->api->free : NULL;
    if (release)
        release(st->api->cls);
    xfree(st->api);
    xfree(st);
}
