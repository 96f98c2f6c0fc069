/*
 * alloc.h - allocation wrappers that never return NULL.
 *
 * DESIGN: out of memory is not a recoverable condition for ovmmd; every
 * wrapper calls fatalx() instead of returning NULL, so callers never check.
 * Raw malloc/free/strdup/sprintf are rejected by `make lint`.
 */
#ifndef OVMM_ALLOC_H
#define OVMM_ALLOC_H

#include <stdarg.h>
#include <stddef.h>

/* Allocate @n bytes; never NULL. Caller frees with xfree(). */
void *xmalloc(size_t n);
/* Allocate @n zeroed objects of @size bytes; never NULL. */
void *xcalloc(size_t n, size_t size);
/* Resize @p to @n bytes; never NULL. */
void *xrealloc(void *p, size_t n);
/* Copy @s (NULL gives NULL). Caller frees with xfree(). */
char *xstrdup(const char *s);
/* Copy at most @n bytes of @s and terminate. Caller frees. */
char *xstrndup(const char *s, size_t n);
/* Format into a new string. Caller frees with xfree(). */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));
/* Free @p; accepts NULL. */
void xfree(void *p);

#endif
