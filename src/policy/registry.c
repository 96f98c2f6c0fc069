/*
 * registry.c - the connection registry (see registry.h).
 *
 * DESIGN: the entries live in an array sorted by id (bsearch; servers are
 * hundreds, and the array changes only when the inventory does), under
 * `r->lock`, which is only ever held for bookkeeping, never across a
 * hypervisor call. Each entry has its own `use` mutex, held by the thread
 * that acquired the connection until it releases it; that thread alone
 * touches `conn`. Lock order: `use` before `r->lock` (acquire takes `use`
 * with `r->lock` dropped, then `r->lock` briefly inside it).
 *
 * Back-off: `backoff_ms` is 0 while the server answers. A failure (a
 * refused attempt, a connection found dead, a release marked broken)
 * sets it to backoff_min_ms the first time and doubles it on every
 * further failed attempt, capped at backoff_max_ms; `next_try_ms` is the
 * monotonic time before which acquire refuses to try again. A successful
 * connection clears both.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "hv/hv.h"
#include "policy/registry.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/log.h"
#include "util/secret.h"
#include "util/str.h"

LOG_MODULE("registry");

struct registry_lease {
    char *id;                  /* immutable */
    pthread_mutex_t use;       /* held from acquire to release */
    struct hv_conn *conn;      /* protected by ->use */
    atomic_bool connected;     /* conn != NULL; written under ->use */
    /* Protected by the registry's lock: */
    char *uri, *login, *password;
    bool changed;              /* connection settings changed */
    bool removed;              /* no longer in the array */
    int refs;                  /* the array's + one per acquirer */
    int64_t backoff_ms;        /* 0: none */
    int64_t next_try_ms;       /* monotonic; 0: now */
};

struct registry {
    const struct hv_driver *drv;   /* immutable */
    int64_t bmin, bmax;            /* immutable */
    pthread_mutex_t lock;
    struct registry_lease **v;     /* sorted by id; protected by ->lock */
    size_t n, cap;                 /* protected by ->lock */
};

struct registry *
registry_new(const struct registry_conf *conf)
{
    struct registry *r = xcalloc(1, sizeof(*r));

    r->drv = conf && conf->driver ? conf->driver : &hv_libvirt;
    r->bmin = conf && conf->backoff_min_ms > 0 ? conf->backoff_min_ms : 1000;
    r->bmax = conf && conf->backoff_max_ms > 0 ? conf->backoff_max_ms
                                               : 60000;
    if (r->bmax < r->bmin)
        r->bmax = r->bmin;
    pthread_mutex_init(&r->lock, NULL);
    return r;
}

static void
entry_wipe(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        xfree(s);
    }
}

/* Free @e and close its connection; no one may hold it. */
static void
entry_free(struct registry *r, struct registry_lease *e)
{
    if (e->conn)
        r->drv->close(e->conn);
    pthread_mutex_destroy(&e->use);
    xfree(e->id);
    xfree(e->uri);
    xfree(e->login);
    entry_wipe(e->password);
    xfree(e);
}

/* Drop one reference with r->lock held; true when it was the last, and
 * the caller must entry_free() it after dropping the lock (no one else
 * can reach it any more). */
static bool
entry_unref_locked(struct registry_lease *e)
{
    return --e->refs == 0;
}

void
registry_free(struct registry *r)
{
    size_t i;

    if (!r)
        return;
    for (i = 0; i < r->n; i++)
        entry_free(r, r->v[i]);
    xfree(r->v);
    pthread_mutex_destroy(&r->lock);
    xfree(r);
}

/* Index of @id in r->v, or -(insertion point) - 1. r->lock held. */
static ssize_t
find_locked(struct registry *r, const char *id)
{
    size_t lo = 0, hi = r->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(r->v[mid]->id, id);

        if (c == 0)
            return (ssize_t)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -(ssize_t)lo - 1;
}

/* Replace *@dst by a copy of @src; true when the value changed. */
static bool
set_str(char **dst, const char *src, bool secret)
{
    if ((!*dst && !src) || (*dst && src && strcmp(*dst, src) == 0))
        return false;
    if (secret)
        entry_wipe(*dst);
    else
        xfree(*dst);
    *dst = src ? xstrdup(src) : NULL;
    return true;
}

void
registry_put(struct registry *r, const char *id, const char *uri,
             const char *login, const char *sealed_password)
{
    struct registry_lease *e;
    ssize_t at;
    bool changed;

    pthread_mutex_lock(&r->lock);
    at = find_locked(r, id);
    if (at >= 0) {
        e = r->v[at];
        changed = set_str(&e->uri, uri, false);
        changed = set_str(&e->login, login, false) || changed;
        changed = set_str(&e->password, sealed_password, true) || changed;
        if (changed) {
            /* New settings are tried at once. */
            e->changed = true;
            e->backoff_ms = 0;
            e->next_try_ms = 0;
            log_info("server '%s': connection settings changed", id);
        }
        pthread_mutex_unlock(&r->lock);
        return;
    }
    e = xcalloc(1, sizeof(*e));
    e->id = xstrdup(id);
    pthread_mutex_init(&e->use, NULL);
    atomic_init(&e->connected, false);
    e->uri = xstrdup(uri);
    e->login = login ? xstrdup(login) : NULL;
    e->password = sealed_password ? xstrdup(sealed_password) : NULL;
    e->refs = 1;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->v = xrealloc(r->v, r->cap * sizeof(*r->v));
    }
    at = -at - 1;
    memmove(&r->v[at + 1], &r->v[at], (r->n - (size_t)at) * sizeof(*r->v));
    r->v[at] = e;
    r->n++;
    pthread_mutex_unlock(&r->lock);
}

/* Take entry @i out of the array; returns it when it must be freed. */
static struct registry_lease *
remove_at_locked(struct registry *r, size_t i)
{
    struct registry_lease *e = r->v[i];

    memmove(&r->v[i], &r->v[i + 1], (r->n - i - 1) * sizeof(*r->v));
    r->n--;
    e->removed = true;
    log_info("server '%s': dropped from the registry", e->id);
    return entry_unref_locked(e) ? e : NULL;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void
registry_retain(struct registry *r, const char *const *ids, size_t n)
{
    const char **sorted = n ? xcalloc(n, sizeof(*sorted)) : NULL;
    struct registry_lease **dead = NULL;
    size_t i, ndead = 0;

    if (n)
        memcpy(sorted, ids, n * sizeof(*sorted));
    if (n)
        qsort(sorted, n, sizeof(*sorted), cmp_str);
    pthread_mutex_lock(&r->lock);
    for (i = r->n; i-- > 0;) {
        const char *key = r->v[i]->id;
        struct registry_lease *e;

        if (n && bsearch(&key, sorted, n, sizeof(*sorted), cmp_str))
            continue;
        e = remove_at_locked(r, i);
        if (e) {
            dead = xrealloc(dead, (ndead + 1) * sizeof(*dead));
            dead[ndead++] = e;
        }
    }
    pthread_mutex_unlock(&r->lock);
    /* Closing may talk to the server: outside the lock. */
    for (i = 0; i < ndead; i++)
        entry_free(r, dead[i]);
    xfree(dead);
    xfree(sorted);
}

void
registry_remove(struct registry *r, const char *id)
{
    struct registry_lease *e = NULL;
    ssize_t at;

    pthread_mutex_lock(&r->lock);
    at = find_locked(r, id);
    if (at >= 0)
        e = remove_at_locked(r, (size_t)at);
    pthread_mutex_unlock(&r->lock);
    if (e)
        entry_free(r, e);
}

/* A failure on @e now: start or double the back-off. r->lock held. */
static void
backoff_locked(struct registry *r, struct registry_lease *e, bool attempt)
{
    if (!attempt || e->backoff_ms == 0)
        e->backoff_ms = r->bmin;
    else
        e->backoff_ms = e->backoff_ms * 2 > r->bmax ? r->bmax
                                                    : e->backoff_ms * 2;
    e->next_try_ms = time_mono_ms() + e->backoff_ms;
}

/* Close @e's connection (e->use held). */
static void
drop_conn(struct registry *r, struct registry_lease *e)
{
    if (e->conn) {
        r->drv->close(e->conn);
        e->conn = NULL;
        atomic_store(&e->connected, false);
    }
}

/* End an acquire that failed: unlock, unref (free at zero). */
static void
give_back(struct registry *r, struct registry_lease *e)
{
    bool last;

    pthread_mutex_unlock(&e->use);
    pthread_mutex_lock(&r->lock);
    last = entry_unref_locked(e);
    pthread_mutex_unlock(&r->lock);
    if (last)
        entry_free(r, e);
}

/* Open @e's connection with the settings copied out under the lock. */
static struct hv_conn *
connect_entry(struct registry *r, struct registry_lease *e, const char *uri,
              const char *login, const char *sealed)
{
    struct hv_auth auth = { login, NULL };
    char *password = NULL;
    struct hv_conn *c;

    if (sealed && !(password = secret_open(sealed)))
        return NULL;
    auth.password = password;
    c = r->drv->open(uri, &auth);
    entry_wipe(password);
    if (!c)
        log_debug("server '%s': cannot connect: %s", e->id, err_message());
    return c;
}

struct hv_conn *
registry_acquire(struct registry *r, const char *id, bool *fresh,
                 struct registry_lease **lease)
{
    struct registry_lease *e;
    char *uri = NULL, *login = NULL, *sealed = NULL;
    int64_t now, wait_ms = 0;
    bool changed, removed, due;
    struct hv_conn *c;
    ssize_t at;

    *lease = NULL;
    if (fresh)
        *fresh = false;
    pthread_mutex_lock(&r->lock);
    at = find_locked(r, id);
    if (at < 0) {
        pthread_mutex_unlock(&r->lock);
        err_set(ERR_NOT_FOUND, "server '%s' is not in the registry", id);
        return NULL;
    }
    e = r->v[at];
    e->refs++;
    pthread_mutex_unlock(&r->lock);

    pthread_mutex_lock(&e->use);
    pthread_mutex_lock(&r->lock);
    changed = e->changed;
    e->changed = false;
    removed = e->removed;
    pthread_mutex_unlock(&r->lock);
    if (removed) {
        give_back(r, e);
        err_set(ERR_NOT_FOUND, "server '%s' is not in the registry", id);
        return NULL;
    }
    if (e->conn && changed)
        drop_conn(r, e);
    if (e->conn && !r->drv->alive(e->conn)) {
        drop_conn(r, e);
        pthread_mutex_lock(&r->lock);
        backoff_locked(r, e, false);
        wait_ms = e->backoff_ms;
        uri = xstrdup(e->uri);
        pthread_mutex_unlock(&r->lock);
        log_warnx("server '%s': connection lost; next attempt in %lld ms",
                  id, (long long)wait_ms);
        give_back(r, e);
        err_set(ERR_UNREACHABLE, "the connection to '%s' was lost", uri);
        xfree(uri);
        return NULL;
    }
    if (!e->conn) {
        now = time_mono_ms();
        pthread_mutex_lock(&r->lock);
        due = now >= e->next_try_ms;
        wait_ms = e->next_try_ms - now;
        if (due) {
            uri = xstrdup(e->uri);
            login = e->login ? xstrdup(e->login) : NULL;
            sealed = e->password ? xstrdup(e->password) : NULL;
        }
        pthread_mutex_unlock(&r->lock);
        if (!due) {
            give_back(r, e);
            err_set(ERR_UNREACHABLE, "server '%s' did not answer; next "
                                     "attempt in %lld ms", id,
                    (long long)wait_ms);
            return NULL;
        }
        c = connect_entry(r, e, uri, login, sealed);
        xfree(uri);
        xfree(login);
        entry_wipe(sealed);
        pthread_mutex_lock(&r->lock);
        if (c) {
            if (e->backoff_ms)
                log_info("server '%s': connected again after back-off of "
                         "%lld ms", id, (long long)e->backoff_ms);
            e->backoff_ms = 0;
            e->next_try_ms = 0;
        } else {
            backoff_locked(r, e, true);
            wait_ms = e->backoff_ms;
        }
        pthread_mutex_unlock(&r->lock);
        if (!c) {
            /* Keep the hv error: the caller reports it. */
            struct err saved = *err_get();

            log_info("server '%s': connection attempt failed; next attempt "
                     "in %lld ms (back-off)", id, (long long)wait_ms);
            give_back(r, e);
            if (saved.code == ERR_OK)
                err_set(ERR_UNREACHABLE, "cannot connect to server '%s'",
                        id);
            else
                err_set_full(saved.code, saved.file, saved.func, saved.line,
                             "%s", saved.message);
            return NULL;
        }
        e->conn = c;
        atomic_store(&e->connected, true);
        if (fresh)
            *fresh = true;
    }
    *lease = e;
    return e->conn;
}

void
registry_release(struct registry *r, struct registry_lease *e, bool broken)
{
    if (!e)
        return;
    if (broken) {
        drop_conn(r, e);
        pthread_mutex_lock(&r->lock);
        backoff_locked(r, e, false);
        log_info("server '%s': connection closed after a failure; next "
                 "attempt in %lld ms", e->id, (long long)e->backoff_ms);
        pthread_mutex_unlock(&r->lock);
    }
    give_back(r, e);
}

bool
registry_connected(struct registry *r, const char *id)
{
    bool c = false;
    ssize_t at;

    pthread_mutex_lock(&r->lock);
    at = find_locked(r, id);
    if (at >= 0)
        c = atomic_load(&r->v[at]->connected);
    pthread_mutex_unlock(&r->lock);
    return c;
}

int64_t
registry_next_attempt(struct registry *r, const char *id)
{
    int64_t t = -1;
    ssize_t at;

    pthread_mutex_lock(&r->lock);
    at = find_locked(r, id);
    if (at >= 0)
        t = atomic_load(&r->v[at]->connected) ? 0 : r->v[at]->next_try_ms;
    pthread_mutex_unlock(&r->lock);
    return t;
}

int64_t
registry_backoff(struct registry *r, const char *id)
{
    int64_t b = -1;
    ssize_t at;

    pthread_mutex_lock(&r->lock);
    at = find_locked(r, id);
    if (at >= 0)
        b = r->v[at]->backoff_ms;
    pthread_mutex_unlock(&r->lock);
    return b;
}

size_t
registry_count(struct registry *r)
{
    size_t n;

    pthread_mutex_lock(&r->lock);
    n = r->n;
    pthread_mutex_unlock(&r->lock);
    return n;
}
