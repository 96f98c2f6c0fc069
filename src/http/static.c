/*
 * static.c - the browser console's files, served from web_root at
 * /ovm/console.
 *
 * DESIGN: the request path is untrusted, so a file is served only when
 * every check passes: no ".." segment, no backslash, no NUL (request.c
 * tells us when the raw path encoded one, because MHD's decoding would
 * cut the string there); realpath() of the result must lie under the
 * realpath() of web_root, so a symbolic link cannot lead outside; it must
 * be a regular file, opened with O_NOFOLLOW so a link swapped in after the
 * check is refused. Every refusal is a plain 404, so a client learns
 * nothing about what exists outside web_root. The file descriptor is
 * handed to MHD, which reads it on its own thread and closes it when the
 * response is freed. No state: web_root is resolved on every request, so
 * a console redeployed under a running daemon is picked up.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/http_int.h"
#include "util/alloc.h"
#include "util/autoptr.h"
#include "util/log.h"
#include "util/str.h"

LOG_MODULE("http");

struct mime_type {
    const char *ext;
    const char *type;
};

static const struct mime_type mime_types[] = {
    { "html", "text/html; charset=utf-8" },
    { "js", "text/javascript; charset=utf-8" },
    { "mjs", "text/javascript; charset=utf-8" },
    { "css", "text/css; charset=utf-8" },
    { "svg", "image/svg+xml" },
    { "png", "image/png" },
    { "ico", "image/x-icon" },
    { "json", "application/json" },
    { "woff2", "font/woff2" },
    { "txt", "text/plain; charset=utf-8" },
};

/* The Content-Type for @path by its extension (case-insensitive). */
static const char *
mime_type_for(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    size_t i;

    if (!dot || (slash && dot < slash))
        return "application/octet-stream";
    for (i = 0; i < sizeof(mime_types) / sizeof(mime_types[0]); i++) {
        if (strcasecmp(dot + 1, mime_types[i].ext) == 0)
            return mime_types[i].type;
    }
    return "application/octet-stream";
}

/* True when @rel (starting with '/') is safe to join to the root: no ".."
 * segment and no backslash (which some clients treat as a separator). */
static bool
rel_path_ok(const char *rel)
{
    const char *p = rel;

    if (strchr(rel, '\\'))
        return false;
    while (*p) {
        const char *seg = p + 1;
        const char *end = strchr(seg, '/');
        size_t len = end ? (size_t)(end - seg) : strlen(seg);

        if (len == 2 && seg[0] == '.' && seg[1] == '.')
            return false;
        if (!end)
            break;
        p = end;
    }
    return true;
}

static struct MHD_Response *
not_found(const char *path, unsigned *status)
{
    AUTOFREE char *msg = xasprintf("file '%s' not found", path);

    return http_response_error(ERR_NOT_FOUND, msg, status);
}

struct MHD_Response *
http_static_response(const struct http_server *s, const char *method,
                     const char *path, bool has_nul, unsigned *status)
{
    AUTOFREE char *root = NULL;
    AUTOFREE char *joined = NULL;
    AUTOFREE char *real = NULL;
    struct MHD_Response *r;
    const char *rel;
    struct stat st;
    size_t rootlen;
    int fd = -1;

    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
        strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        AUTOFREE char *msg = xasprintf("method '%s' not allowed on '%s'",
                                       method, path);

        r = http_response_error(ERR_METHOD, msg, status);
        http_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        return r;
    }
    rel = path + strlen(HTTP_CONSOLE_PATH);
    if (*rel == '\0' || strcmp(rel, "/") == 0)
        rel = "/index.html";
    if (has_nul || *rel != '/' || !rel_path_ok(rel) || !s->web_root)
        return not_found(path, status);

    root = realpath(s->web_root, NULL);
    if (!root) {
        log_warn("cannot resolve web_root '%s'", s->web_root);
        return not_found(path, status);
    }
    joined = xasprintf("%s%s", root, rel);
    if (strlen(joined) >= PATH_MAX)
        return not_found(path, status);
    real = realpath(joined, NULL);
    rootlen = strlen(root);
    /* The root itself is no file; "/" as root allows any absolute path. */
    if (!real || strncmp(real, root, rootlen) != 0 ||
        (real[rootlen] != '/' && strcmp(root, "/") != 0))
        return not_found(path, status);

    fd = open(real, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return not_found(path, status);
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return not_found(path, status);
    }
    /* MHD owns @fd once the response exists and closes it when done. */
    r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!r) {
        AUTOFREE char *msg = xasprintf("cannot serve file '%s'", path);

        close(fd);
        log_warnx("cannot create a response for '%s'", real);
        return http_response_error(ERR_INTERNAL, msg, status);
    }
    http_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, mime_type_for(real));
    if (str_has_prefix(mime_type_for(real), "text/html"))
        http_response_header(r, MHD_HTTP_HEADER_CONTENT_SECURITY_POLICY,
                             "default-src 'self'; frame-ancestors 'none'");
    *status = MHD_HTTP_OK;
    return r;
}
