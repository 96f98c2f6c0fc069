/*
 * str.c - string, number, time and randomness helpers (see str.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "util/err.h"
#include "util/log.h"
#include "util/str.h"

bool
str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

bool
str_has_prefix(const char *s, const char *prefix)
{
    return s && prefix && strncmp(s, prefix, strlen(prefix)) == 0;
}

size_t
str_copy(char *dst, const char *src, size_t size)
{
    size_t len = strlen(src);

    if (size) {
        size_t n = len >= size ? size - 1 : len;

        memcpy(dst, src, n);
        dst[n] = '\0';
    }
    return len;
}

int
str_to_int64(const char *s, int64_t min, int64_t max, const char *what,
             int64_t *out)
{
    char *end = NULL;
    long long v;

    if (!s || !*s) {
        err_set(ERR_INVALID, "%s must be an integer", what);
        return -1;
    }
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end || end == s) {
        err_set(ERR_INVALID, "%s must be an integer, not '%s'", what, s);
        return -1;
    }
    if (v < min || v > max) {
        err_set(ERR_INVALID, "%s must be between %lld and %lld, not %lld",
                what, (long long)min, (long long)max, v);
        return -1;
    }
    *out = v;
    return 0;
}

int
str_to_bool(const char *s, const char *what, bool *out)
{
    static const char *const yes[] = { "true", "yes", "on", "1" };
    static const char *const no[] = { "false", "no", "off", "0" };
    size_t i;

    for (i = 0; s && i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    err_set(ERR_INVALID, "%s must be true or false, not '%s'", what,
            s ? s : "");
    return -1;
}

bool
str_secret_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i;
    unsigned char d = (unsigned char)(la != lb);

    for (i = 0; i < la && i < lb; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

int64_t
time_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
time_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
rand_bytes(void *buf, size_t len)
{
    unsigned char *p = buf;
    ssize_t n;

    while (len) {
        n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fatal("getrandom");
        }
        p += n;
        len -= (size_t)n;
    }
}

void
hex_encode(const void *data, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *p = data;
    size_t i;

    for (i = 0; i < len; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * len] = '\0';
}

void
rand_hex(char *out, size_t nbytes)
{
    unsigned char raw[64];

    while (nbytes) {
        size_t n = nbytes > sizeof(raw) ? sizeof(raw) : nbytes;

        rand_bytes(raw, n);
        hex_encode(raw, n, out);
        out += 2 * n;
        nbytes -= n;
    }
}
