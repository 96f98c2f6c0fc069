/*
 * uri.c - the libvirt URI of a server (hv_uri_for(), see hv.h).
 *
 * DESIGN: a server is named by an address typed by a user or read from
 * the database, and the URI made from it goes to libvirt, which hands its
 * parts to ssh, TLS and the remote driver. So nothing is escaped: instead
 * a host name may only hold the characters a DNS name or an IP literal
 * needs (letters, digits, '.', '-', ':', '[', ']'; not starting with '-'
 * or '.'), and an agent user name only letters, digits, '.', '-' and '_'
 * (not starting with '-'). Anything else ('/', '@',
 * '?', '#', quotes, spaces, control characters, '%') is refused with
 * ERR_INVALID, so a name can never add a path, a query (libvirt reads
 * options such as `?command=` or `?socket=` from it) or a second host.
 *
 * Three kinds of names, tried in this order:
 *   1. a simulated host: `<sim_dir>/<host>.xml` is a regular file; the
 *      URI is "test://" + its absolute path (realpath(3), so libvirt's
 *      test driver gets the absolute path it requires). The path is ours,
 *      not the user's, but may still hold characters a URI cannot carry
 *      as they are: those bytes are percent-encoded, and hv/libvirt.c
 *      decodes them again when it reads the file's identity.
 *   2. a whole URI (contains "://"): passed through unchanged. It comes
 *      from an administrator, and libvirt parses and checks it; we still
 *      refuse spaces and control characters, which no valid URI holds
 *      and which would end up in logs.
 *   3. anything else: the template with "{host}" and "{user}" replaced.
 *
 * No state; thread-safe.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hv/hv.h"
#include "util/alloc.h"
#include "util/autoptr.h"
#include "util/buf.h"
#include "util/err.h"

/* Longest host name or URI we accept (a DNS name is at most 253). */
#define URI_HOST_MAX 255
#define URI_MAX 2048

/* True when @s holds only the characters of a host name or IP literal. */
static bool
uri_host_valid(const char *s)
{
    size_t n = strlen(s);

    /* No DNS name or IP literal starts with '-' or '.'; refusing them
     * also keeps a name from reading as an option to ssh. */
    if (n == 0 || n > URI_HOST_MAX || s[0] == '-' || s[0] == '.')
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyz"
                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789.-:[]") == n;
}

/* True when @s is a user name that can stand before an '@' as it is. */
static bool
uri_user_valid(const char *s)
{
    size_t n = strlen(s);

    if (n > 64 || s[0] == '-')
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyz"
                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789.-_") == n;
}

/* True when @s has a space, a control character or DEL. */
static bool
uri_has_unsafe_bytes(const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;

        if (ch <= 0x20 || ch == 0x7f)
            return true;
    }
    return false;
}

/*
 * "test://" + @path with every byte outside the URI path characters we
 * keep as they are percent-encoded. Caller frees.
 */
static char *
uri_test_from_path(const char *path)
{
    static const char keep[] = "abcdefghijklmnopqrstuvwxyz"
                               "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "0123456789/._-~+";
    struct buf b;
    const char *p;

    buf_init(&b, 0);
    buf_puts(&b, "test://");
    for (p = path; *p; p++) {
        if (strchr(keep, *p))
            buf_append(&b, p, 1);
        else
            buf_printf(&b, "%%%02X", (unsigned)(unsigned char)*p);
    }
    return buf_steal(&b);
}

/*
 * The test:/// URI of `<sim_dir>/<host>.xml` when that is a regular file;
 * NULL when it is not (no error: the name is then a real server's).
 */
static char *
uri_sim(const char *host, const char *sim_dir)
{
    char *AUTOFREE path = xasprintf("%s/%s.xml", sim_dir, host);
    char *AUTOFREE abs = NULL; /* realpath(3) mallocs; xfree() is free(3) */
    struct stat st;

    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
        return NULL;
    abs = realpath(path, NULL);
    if (!abs)
        return NULL;
    return uri_test_from_path(abs);
}

/* @tmpl with every "{host}" and "{user}" replaced. Caller frees. */
static char *
uri_expand(const char *tmpl, const char *host, const char *user)
{
    struct buf b;
    const char *p = tmpl;

    buf_init(&b, 0);
    while (*p) {
        if (strncmp(p, "{host}", 6) == 0) {
            buf_puts(&b, host);
            p += 6;
        } else if (strncmp(p, "{user}", 6) == 0) {
            buf_puts(&b, user);
            p += 6;
        } else {
            buf_append(&b, p, 1);
            p++;
        }
    }
    return buf_steal(&b);
}

char *
hv_uri_for(const char *host, const char *user, const char *tmpl,
           const char *sim_dir)
{
    char *uri;

    if (!host || !*host) {
        err_set(ERR_INVALID, "cannot make a hypervisor URI: empty host name");
        return NULL;
    }
    if (uri_has_unsafe_bytes(host) || strlen(host) > URI_MAX) {
        err_set(ERR_INVALID, "cannot make a hypervisor URI: host name "
                             "holds spaces or control characters or is too "
                             "long");
        return NULL;
    }
    if (uri_host_valid(host)) {
        if (sim_dir && *sim_dir && (uri = uri_sim(host, sim_dir)))
            return uri;
    } else if (strstr(host, "://")) {
        return xstrdup(host);
    } else {
        err_set(ERR_INVALID, "cannot make a hypervisor URI for '%s': a host "
                             "name may hold only letters, digits, '.', '-', "
                             "':', '[' and ']'", host);
        return NULL;
    }

    if (!user)
        user = "";
    if (!uri_user_valid(user)) {
        err_set(ERR_INVALID, "cannot make a hypervisor URI for '%s': the "
                             "user name may hold only letters, digits, '.', "
                             "'-' and '_'", host);
        return NULL;
    }
    if (!tmpl || !*tmpl) {
        err_set(ERR_INVALID, "cannot make a hypervisor URI for '%s': no URI "
                             "template", host);
        return NULL;
    }
    return uri_expand(tmpl, host, user);
}
