/*
 * notify.h - process-wide "something changed" signal, after commit.
 *
 * DESIGN: jobs/ and events/ publish a key ("job:<id>", "event:<id>") once
 * the change is committed; http/ subscribes to wake suspended long-polls
 * and SSE streams, which then read the database again (the database is
 * the truth; a notification carries no data). Subscribers' callbacks run
 * synchronously on the publisher's thread, so they must be quick, must
 * not block and must not publish. Subscribing and unsubscribing happen at
 * start and stop on the main thread; publishing is thread-safe.
 */
#ifndef OVMM_NOTIFY_H
#define OVMM_NOTIFY_H

#define NOTIFY_MAX_SUBSCRIBERS 8

typedef void (*notify_fn)(void *cls, const char *key);

/* 0, or -1 with ERR_INTERNAL when NOTIFY_MAX_SUBSCRIBERS are taken. */
int notify_subscribe(notify_fn fn, void *cls);
void notify_unsubscribe(notify_fn fn, void *cls);
/* Call every subscriber with @key. */
void notify_publish(const char *key);

#endif
