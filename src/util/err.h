/*
 * err.h - the one error enum and the thread-local "last error".
 *
 * DESIGN: the function that detects a problem calls err_set() with a code
 * and a message; callers just return -1 (or NULL) and the outermost layer
 * (http/response.c) turns err_get() into a status and a JSON body. The
 * record is thread-local, so no locking; each err_set() replaces the last.
 * Codes are stable: they appear in API responses as "errorCode".
 */
#ifndef OVMM_ERR_H
#define OVMM_ERR_H

#include <assert.h>

enum err_code {
    ERR_OK = 0,          /* no error */
    ERR_INTERNAL,        /* a bug or an unexpected library failure */
    ERR_INVALID,         /* bad input: malformed JSON, bad value, bad name */
    ERR_NOT_FOUND,       /* no such object, route or file */
    ERR_EXISTS,          /* an object with that identity already exists */
    ERR_CONFLICT,        /* stale generation or concurrent change */
    ERR_STATE,           /* the object's state forbids the action */
    ERR_AUTH,            /* missing or wrong credentials */
    ERR_ACCOUNT_LOCKED,  /* too many failed log-ins; locked for a while */
    ERR_FORBIDDEN,       /* authenticated, but the role may not do this */
    ERR_CSRF,            /* cookie-authenticated change without CSRF token */
    ERR_METHOD,          /* the path exists, the method does not */
    ERR_TOO_LARGE,       /* a bounded input exceeded its limit */
    ERR_NOT_ACCEPTABLE,  /* the client accepts no type we produce (XML) */
    ERR_UNSUPPORTED_TYPE,/* the request body is not JSON */
    ERR_UNAVAILABLE,     /* the Manager is not RUNNING (starting, stopping) */
    ERR_UNSUPPORTED,     /* the operation is not supported by this backend */
    ERR_TIMEOUT,         /* an operation or wait ran out of time */
    ERR_IO,              /* a file or socket operation failed */
    ERR_DB,              /* the database reported an error */
    ERR_CONFIG,          /* bad configuration */
    ERR_BUSY,            /* a resource is held by someone else (data dir) */
    ERR_ABORTED,         /* a job was aborted by a user */
    ERR_UNREACHABLE,     /* a managed server (hypervisor) cannot be reached */
    ERR__COUNT
};

struct err {
    enum err_code code;
    char message[512];
    const char *file;
    const char *func;
    int line;
};

/*
 * Defensive checks for conditions that "cannot happen" (SQLite's idiom):
 * they assert in debug builds and evaluate to the condition in release
 * builds, so the code after them still handles the impossible case.
 */
#ifdef NDEBUG
#define ALWAYS(x) (x)
#define NEVER(x) (x)
#else
#define ALWAYS(x) ((x) ? 1 : (assert(0), 0))
#define NEVER(x) ((x) ? (assert(0), 1) : 0)
#endif

/* Record an error for this thread. Use the err_set() macro. */
void err_set_full(enum err_code code, const char *file, const char *func,
                  int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
#define err_set(code, ...)                                                    \
    err_set_full((code), __FILE__, __func__, __LINE__, __VA_ARGS__)

/* The thread's last error (code ERR_OK when none). Borrowed, thread-local. */
const struct err *err_get(void);
/* Shortcuts for err_get()->code and ->message. */
enum err_code err_code(void);
const char *err_message(void);
/* Forget the thread's last error. */
void err_clear(void);
/* Stable upper-case name of @code, e.g. "NOT_FOUND". Never NULL. */
const char *err_code_str(enum err_code code);

#endif
