/*
 * log.c - the process-wide log sink (see log.h).
 *
 * DESIGN: `sink_lock` protects `sink` and `sink_path`; the level is an
 * atomic read without the lock. A line is formatted into a stack buffer
 * first, then written with one fputs() under the lock and flushed, so a
 * crash loses at most the line being written.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "util/alloc.h"
#include "util/err.h"
#include "util/log.h"

static pthread_mutex_t sink_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *sink;             /* protected by sink_lock */
static char *sink_path;        /* protected by sink_lock */
static bool sink_stderr = true; /* protected by sink_lock */
static atomic_int log_level = LOG_LEVEL_INFO;
static _Thread_local char log_ctx[48];

static const char *const level_names[] = { "debug", "info", "warn", "error" };

int
log_open(const char *path, bool to_stderr, enum log_level level)
{
    FILE *f = NULL;

    if (path) {
        f = fopen(path, "ae");
        if (!f) {
            err_set(ERR_IO, "cannot open log file '%s': %s", path,
                    strerror(errno));
            return -1;
        }
        setvbuf(f, NULL, _IOLBF, 0);
    }
    pthread_mutex_lock(&sink_lock);
    if (sink)
        fclose(sink);
    sink = f;
    xfree(sink_path);
    sink_path = xstrdup(path);
    sink_stderr = to_stderr || !path;
    pthread_mutex_unlock(&sink_lock);
    atomic_store(&log_level, level);
    return 0;
}

int
log_reopen(void)
{
    int ret = 0;
    FILE *f;

    pthread_mutex_lock(&sink_lock);
    if (sink_path) {
        f = fopen(sink_path, "ae");
        if (!f) {
            err_set(ERR_IO, "cannot reopen log file '%s': %s", sink_path,
                    strerror(errno));
            ret = -1;
        } else {
            setvbuf(f, NULL, _IOLBF, 0);
            if (sink)
                fclose(sink);
            sink = f;
        }
    }
    pthread_mutex_unlock(&sink_lock);
    return ret;
}

void
log_close(void)
{
    pthread_mutex_lock(&sink_lock);
    if (sink)
        fclose(sink);
    sink = NULL;
    xfree(sink_path);
    sink_path = NULL;
    sink_stderr = true;
    pthread_mutex_unlock(&sink_lock);
}

void
log_set_level(enum log_level level)
{
    atomic_store(&log_level, level);
}

enum log_level
log_get_level(void)
{
    return atomic_load(&log_level);
}

int
log_level_parse(const char *s, enum log_level *out)
{
    size_t i;

    for (i = 0; s && i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    err_set(ERR_INVALID, "unknown log level '%s' (debug, info, warn, error)",
            s ? s : "");
    return -1;
}

const char *
log_level_str(enum log_level level)
{
    if ((unsigned)level > LOG_LEVEL_ERROR)
        return "?";
    return level_names[level];
}

void
log_set_context(const char *fmt, ...)
{
    va_list ap;

    if (!fmt) {
        log_ctx[0] = '\0';
        return;
    }
    va_start(ap, fmt);
    vsnprintf(log_ctx, sizeof(log_ctx), fmt, ap);
    va_end(ap);
}

void
log_clear_context(void)
{
    log_ctx[0] = '\0';
}

static void
log_vwrite(enum log_level level, const char *module, int errnum,
           const char *fmt, va_list ap)
{
    char line[2048], stamp[32];
    struct timeval tv;
    struct tm tm;
    size_t n;
    int r;

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    r = snprintf(line, sizeof(line), "%s.%03ldZ %-5s %s: %s%s%s", stamp,
                 (long)(tv.tv_usec / 1000), log_level_str(level),
                 module ? module : "-", log_ctx[0] ? "[" : "", log_ctx,
                 log_ctx[0] ? "] " : "");
    n = r < 0 ? 0 : ((size_t)r >= sizeof(line) ? sizeof(line) - 1 : (size_t)r);
    r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    n += r < 0 ? 0 : (size_t)r;
    if (n >= sizeof(line) - 1)
        n = sizeof(line) - 2;
    if (errnum)
        n += (size_t)snprintf(line + n, sizeof(line) - n, ": %s",
                              strerror(errnum));
    if (n >= sizeof(line) - 1)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    line[n] = '\0';

    pthread_mutex_lock(&sink_lock);
    if (sink)
        fputs(line, sink);
    if (sink_stderr || !sink)
        fputs(line, stderr);
    pthread_mutex_unlock(&sink_lock);
}

void
log_write(enum log_level level, const char *module, bool with_errno,
          const char *fmt, ...)
{
    int errnum = with_errno ? errno : 0;
    va_list ap;

    if ((int)level < atomic_load(&log_level))
        return;
    va_start(ap, fmt);
    log_vwrite(level, module, errnum, fmt, ap);
    va_end(ap);
}

void
fatal(const char *fmt, ...)
{
    int errnum = errno;
    va_list ap;

    va_start(ap, fmt);
    log_vwrite(LOG_LEVEL_ERROR, "fatal", errnum, fmt, ap);
    va_end(ap);
    exit(1);
}

void
fatalx(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vwrite(LOG_LEVEL_ERROR, "fatal", 0, fmt, ap);
    va_end(ap);
    exit(1);
}
