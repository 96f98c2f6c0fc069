/*
 * log.h - leveled logging to a file and/or stderr.
 *
 * DESIGN: one process-wide sink protected by a mutex, so lines from
 * different threads never interleave and log_reopen() (SIGHUP, log
 * rotation) can swap the file under writers. The level is checked before
 * formatting. Each thread carries a context string ("req 42", "job 17")
 * that prefixes every line it logs, so every line about a request or job
 * carries its id without callers repeating it.
 *
 * Each .c file names its category once: LOG_MODULE("http");
 */
#ifndef OVMM_LOG_H
#define OVMM_LOG_H

#include <stdbool.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN,
                 LOG_LEVEL_ERROR };

#define LOG_MODULE(name) static const char *const log_module = (name)

/*
 * Start logging to @path (NULL: no file) and, when @to_stderr, to stderr.
 * Returns 0, or -1 with ERR_IO when the file cannot be opened.
 * Call once from the main thread before other threads start.
 */
int log_open(const char *path, bool to_stderr, enum log_level level);
/* Reopen the log file (after rotation). Any thread. 0 or -1 (ERR_IO). */
int log_reopen(void);
/* Close the sink; later lines go to stderr. */
void log_close(void);
/* Change the threshold at run time (atomic). */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parse "debug|info|warn|error"; -1 (ERR_INVALID) when unknown. */
int log_level_parse(const char *s, enum log_level *out);
const char *log_level_str(enum log_level level);

/*
 * Set this thread's context prefix ("req 42"); NULL clears it. The string
 * is copied into thread-local storage (truncated at 47 bytes).
 */
void log_set_context(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
void log_clear_context(void);

void log_write(enum log_level level, const char *module, bool with_errno,
               const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* log_warn/log_error append ": strerror(errno)"; the x variants do not. */
#define log_debug(...) log_write(LOG_LEVEL_DEBUG, log_module, false, __VA_ARGS__)
#define log_info(...) log_write(LOG_LEVEL_INFO, log_module, false, __VA_ARGS__)
#define log_warn(...) log_write(LOG_LEVEL_WARN, log_module, true, __VA_ARGS__)
#define log_warnx(...) log_write(LOG_LEVEL_WARN, log_module, false, __VA_ARGS__)
#define log_error(...) log_write(LOG_LEVEL_ERROR, log_module, true, __VA_ARGS__)
#define log_errorx(...) log_write(LOG_LEVEL_ERROR, log_module, false, __VA_ARGS__)

/* Log and exit(1): start-up failures and OOM only. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
