/*
 * buf.h - growable byte buffers with a hard upper bound.
 *
 * DESIGN: every buffer that holds untrusted input (request bodies, query
 * strings) has a `max`; growing past it fails with ERR_TOO_LARGE instead
 * of allocating, so a client can never make us allocate without bound.
 * The data is always NUL-terminated (the NUL is not counted in len).
 * Not thread-safe: a buffer belongs to one request or one thread.
 */
#ifndef OVMM_BUF_H
#define OVMM_BUF_H

#include <stddef.h>

struct buf {
    char *data;   /* NUL-terminated; NULL until the first append */
    size_t len;   /* bytes used, without the NUL */
    size_t cap;   /* bytes allocated */
    size_t max;   /* hard limit on len; 0 means unbounded (trusted data) */
};

/* Set up an empty buffer that may hold at most @max bytes (0: no limit). */
void buf_init(struct buf *b, size_t max);
/* Free the contents; the buffer may be reused after buf_init(). */
void buf_release(struct buf *b);
/* Empty the buffer, keeping its allocation and limit. */
void buf_clear(struct buf *b);
/* Append @len bytes. 0, or -1 with ERR_TOO_LARGE (nothing appended). */
int buf_append(struct buf *b, const void *data, size_t len);
/* Append a C string. */
int buf_puts(struct buf *b, const char *s);
/* Append formatted text. */
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Take the data (never NULL: "" when empty); the buffer is left empty. */
char *buf_steal(struct buf *b);

#endif
