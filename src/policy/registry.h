/*
 * registry.h - the connection registry: one hypervisor connection per
 * managed server, opened once, kept open and reused by everything that
 * talks to that server, with exponential back-off between attempts to
 * reach a server that does not answer.
 *
 * DESIGN: an entry per server id holds what is needed to connect (URI,
 * agent login, sealed agent password), the open struct hv_conn, and the
 * back-off state. registry_acquire() hands the connection to one thread at
 * a time (hv.h: a connection is used by one thread at a time; the entry's
 * mutex is held from acquire to release, never while the registry's own
 * mutex is), connecting first when there is no live connection and the
 * back-off allows an attempt. A failed attempt, or a release that reports
 * the connection broken, closes it and schedules the next attempt after
 * the back-off, which starts at `backoff_min_ms` and doubles up to
 * `backoff_max_ms` (1 s -> 60 s by default); a successful connection
 * resets it. Entries are reference-counted: registry_retain() may drop a
 * server (deleted from the inventory) while a thread still uses its
 * connection; the connection is closed when that thread releases it.
 *
 * The registry knows nothing of the database or of the monitor, so it can
 * move to jobs/ or hv/ when VM jobs (issue 7) use the same connections.
 *
 * Thread-safety: every function may be called from any thread.
 * registry_acquire() may block for as long as the connection attempt or
 * another thread's use of the same server takes: never call it with a
 * lock held that other work needs.
 */
#ifndef OVMM_POLICY_REGISTRY_H
#define OVMM_POLICY_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hv_conn;
struct hv_driver;
struct registry;

struct registry_conf {
    const struct hv_driver *driver; /* borrowed; NULL: hv_libvirt */
    int64_t backoff_min_ms;         /* first wait after a failure (1000) */
    int64_t backoff_max_ms;         /* longest wait (60000) */
};

/* A new, empty registry. Free with registry_free(). */
struct registry *registry_new(const struct registry_conf *conf);
/* Close every connection and free; accepts NULL. No thread may still use
 * the registry. */
void registry_free(struct registry *r);

/*
 * Add server @id or update it. When the URI, login or sealed password
 * changed, the open connection (if any) is closed at its next acquire and
 * the back-off starts again, so new credentials are tried at once.
 * Strings are copied; @sealed_password may be NULL.
 */
void registry_put(struct registry *r, const char *id, const char *uri,
                  const char *login, const char *sealed_password);
/* Drop every server whose id is not among the @n @ids (in any order). */
void registry_retain(struct registry *r, const char *const *ids, size_t n);
/* Drop server @id (no error when unknown). */
void registry_remove(struct registry *r, const char *id);

/* A server's connection held by one thread (registry_acquire()). */
struct registry_lease;

/*
 * The live connection of server @id, for the calling thread alone until
 * registry_release(@*lease). Connects first when needed: *fresh (may be
 * NULL) says whether this call opened it. NULL with err_set() and no
 * lease: ERR_NOT_FOUND (unknown id), ERR_UNREACHABLE (the attempt failed,
 * or the back-off forbids one now: "... next attempt in N ms"), ERR_AUTH.
 * Passwords are unsealed only for the attempt and wiped afterwards.
 */
struct hv_conn *registry_acquire(struct registry *r, const char *id,
                                 bool *fresh, struct registry_lease **lease);
/* Give the connection back; @broken closes it and starts the back-off
 * (the caller saw it fail). Accepts a NULL @lease. */
void registry_release(struct registry *r, struct registry_lease *lease,
                      bool broken);

/* True when server @id has a connection that is alive (no call made). */
bool registry_connected(struct registry *r, const char *id);
/* Monotonic time (time_mono_ms()) of the next allowed attempt for @id,
 * 0 when one may be made now or it is connected; -1 for an unknown id. */
int64_t registry_next_attempt(struct registry *r, const char *id);
/* The current back-off of @id in ms (0 when none), -1 when unknown. */
int64_t registry_backoff(struct registry *r, const char *id);
/* Number of servers. */
size_t registry_count(struct registry *r);

#endif
