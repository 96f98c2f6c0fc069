/*
 * str.h - small string, number, time and randomness helpers.
 *
 * DESIGN: leaf functions with no state; all thread-safe. Number parsing
 * is strict (whole string, range-checked) because it meets untrusted
 * input: query strings, config files, command lines.
 */
#ifndef OVMM_STR_H
#define OVMM_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when @a and @b are equal; NULLs compare equal only to NULL. */
bool str_eq(const char *a, const char *b);
/* True when @s begins with @prefix. */
bool str_has_prefix(const char *s, const char *prefix);
/* Copy @src into @dst of @size bytes, always terminating; returns
 * strlen(src) (truncation when >= size), like strlcpy. */
size_t str_copy(char *dst, const char *src, size_t size);
/*
 * Parse a whole decimal integer in [@min, @max]. 0, or -1 with ERR_INVALID
 * and a message naming @what ("limit must be an integer").
 */
int str_to_int64(const char *s, int64_t min, int64_t max, const char *what,
                 int64_t *out);
/* Parse true/false/yes/no/on/off/1/0. 0 or -1 (ERR_INVALID). */
int str_to_bool(const char *s, const char *what, bool *out);
/* Constant-time comparison of two NUL-terminated secrets. */
bool str_secret_eq(const char *a, const char *b);

/* Wall-clock milliseconds since the epoch (Oracle's time format). */
int64_t time_now_ms(void);
/* Monotonic milliseconds, for timeouts and durations. */
int64_t time_mono_ms(void);

/* Fill @buf with @len cryptographically random bytes (getrandom). */
void rand_bytes(void *buf, size_t len);
/* Write 2*@nbytes random lower-case hex digits and a NUL into @out. */
void rand_hex(char *out, size_t nbytes);
/* Lower-case hex of @len bytes into @out (2*len+1 bytes). */
void hex_encode(const void *data, size_t len, char *out);

#endif
