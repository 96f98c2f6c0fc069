/*
 * notify.c - see notify.h. A fixed array under a read-write lock: publish
 * is frequent and concurrent, subscribe rare.
 */
#include <pthread.h>
#include <stddef.h>

#include "util/err.h"
#include "util/notify.h"

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static struct {
    notify_fn fn;
    void *cls;
} subs[NOTIFY_MAX_SUBSCRIBERS]; /* protected by lock */

int
notify_subscribe(notify_fn fn, void *cls)
{
    size_t i;
    int rc = -1;

    pthread_rwlock_wrlock(&lock);
    for (i = 0; i < NOTIFY_MAX_SUBSCRIBERS; i++) {
        if (!subs[i].fn) {
            subs[i].fn = fn;
            subs[i].cls = cls;
            rc = 0;
            break;
        }
    }
    pthread_rwlock_unlock(&lock);
    if (rc < 0)
        err_set(ERR_INTERNAL, "more than %d notification subscribers",
                NOTIFY_MAX_SUBSCRIBERS);
    return rc;
}

void
notify_unsubscribe(notify_fn fn, void *cls)
{
    size_t i;

    pthread_rwlock_wrlock(&lock);
    for (i = 0; i < NOTIFY_MAX_SUBSCRIBERS; i++) {
        if (subs[i].fn == fn && subs[i].cls == cls) {
            subs[i].fn = NULL;
            subs[i].cls = NULL;
        }
    }
    pthread_rwlock_unlock(&lock);
}

void
notify_publish(const char *key)
{
    size_t i;

    pthread_rwlock_rdlock(&lock);
    for (i = 0; i < NOTIFY_MAX_SUBSCRIBERS; i++) {
        if (subs[i].fn)
            subs[i].fn(subs[i].cls, key);
    }
    pthread_rwlock_unlock(&lock);
}
