/*
 * err.c - thread-local last error (see err.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/err.h"

static _Thread_local struct err last_err;

static const char *const err_names[ERR__COUNT] = {
    [ERR_OK] = "OK",
    [ERR_INTERNAL] = "INTERNAL_ERROR",
    [ERR_INVALID] = "INVALID_INPUT",
    [ERR_NOT_FOUND] = "NOT_FOUND",
    [ERR_EXISTS] = "ALREADY_EXISTS",
    [ERR_CONFLICT] = "CONFLICT",
    [ERR_STATE] = "INVALID_STATE",
    [ERR_AUTH] = "UNAUTHORIZED",
    [ERR_ACCOUNT_LOCKED] = "ACCOUNT_LOCKED",
    [ERR_FORBIDDEN] = "FORBIDDEN",
    [ERR_CSRF] = "CSRF_TOKEN_INVALID",
    [ERR_METHOD] = "METHOD_NOT_ALLOWED",
    [ERR_TOO_LARGE] = "REQUEST_TOO_LARGE",
    [ERR_NOT_ACCEPTABLE] = "NOT_ACCEPTABLE",
    [ERR_UNSUPPORTED_TYPE] = "UNSUPPORTED_MEDIA_TYPE",
    [ERR_UNAVAILABLE] = "MANAGER_NOT_RUNNING",
    [ERR_UNSUPPORTED] = "UNSUPPORTED",
    [ERR_TIMEOUT] = "TIMEOUT",
    [ERR_IO] = "IO_ERROR",
    [ERR_DB] = "DATABASE_ERROR",
    [ERR_CONFIG] = "CONFIG_ERROR",
    [ERR_BUSY] = "BUSY",
    [ERR_ABORTED] = "ABORTED",
    [ERR_UNREACHABLE] = "SERVER_UNREACHABLE",
};

void
err_set_full(enum err_code code, const char *file, const char *func, int line,
             const char *fmt, ...)
{
    va_list ap;

    last_err.code = code;
    last_err.file = file;
    last_err.func = func;
    last_err.line = line;
    va_start(ap, fmt);
    vsnprintf(last_err.message, sizeof(last_err.message), fmt, ap);
    va_end(ap);
}

const struct err *
err_get(void)
{
    return &last_err;
}

enum err_code
err_code(void)
{
    return last_err.code;
}

const char *
err_message(void)
{
    return last_err.code == ERR_OK ? "" : last_err.message;
}

void
err_clear(void)
{
    memset(&last_err, 0, sizeof(last_err));
}

const char *
err_code_str(enum err_code code)
{
    if ((unsigned)code >= ERR__COUNT || !err_names[code])
        return "UNKNOWN_ERROR";
    return err_names[code];
}
