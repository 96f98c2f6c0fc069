/*
 * alloc.c - allocation wrappers that die on OOM.
 *
 * DESIGN: thread-safe (only calls the C library); the only file allowed
 * to call malloc(3) and friends directly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/log.h"

void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p)
        fatalx("out of memory allocating %zu bytes", n);
    return p;
}

void *
xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (!p)
        fatalx("out of memory allocating %zu x %zu bytes", n, size);
    return p;
}

void *
xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (!q)
        fatalx("out of memory reallocating %zu bytes", n);
    return q;
}

char *
xstrdup(const char *s)
{
    if (!s)
        return NULL;
    return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
    char *p;
    size_t len;

    if (!s)
        return NULL;
    len = strnlen(s, n);
    p = xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
    char *p = NULL;

    if (vasprintf(&p, fmt, ap) < 0)
        fatalx("out of memory formatting a string");
    return p;
}

char *
xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *p;

    va_start(ap, fmt);
    p = xvasprintf(fmt, ap);
    va_end(ap);
    return p;
}

void
xfree(void *p)
{
    free(p);
}
