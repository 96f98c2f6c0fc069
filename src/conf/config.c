/*
 * config.c - the configuration key table, the file parser and reload
 * (see config.h).
 *
 * DESIGN: `keys[]` is the single description of every setting: its name,
 * type, default (as text, exactly as it would be written in the file),
 * bounds, flags, where it lives in struct config (offsetof) and a help
 * paragraph. Defaults, parsing, copying, freeing, the sample file and the
 * docs all follow from that table, so adding a key is one row plus one
 * struct member. Checks that go beyond type and range (log_level,
 * password_strength) and the apply hooks of reloadable keys are in the
 * small `hooks[]` table, keyed by the same offset.
 *
 * Every change goes through a copy: config_load() parses into a copy of
 * the current config and swaps only when the whole file was good, so a
 * broken file never leaves a half-applied config behind. Values are
 * parsed from text by one function (conf_value_set) whether they come from
 * the defaults, the file or the command line.
 *
 * Threads: everything here runs on the main thread (start-up, SIGHUP).
 * No state of its own besides the immutable tables.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf/config.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/fetch.h"
#include "util/log.h"
#include "util/str.h"

LOG_MODULE("config");

/* Longest line accepted, without its newline. */
#define CONF_LINE_MAX 4096

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

#define KEY_STR(member, def, flags, help)                                     \
    { #member, CONF_STRING, def, 0, 0, flags,                                 \
      offsetof(struct config, member), help }
#define KEY_INT(member, def, min, max, flags, help)                           \
    { #member, CONF_INT, #def, min, max, flags,                               \
      offsetof(struct config, member), help }
#define KEY_BOOL(member, def, flags, help)                                    \
    { #member, CONF_BOOL, #def, 0, 0, flags,                                  \
      offsetof(struct config, member), help }

/* In the order of struct config, which is also the sample file's order. */
static const struct conf_key keys[] = {
    KEY_STR(data_dir, "./var", 0,
            "Directory for the inventory database, the TLS key and "
            "certificate, the logs and the lock file. Created at first "
            "start. Relative paths are relative to the directory ovmmd was "
            "started in."),
    KEY_STR(listen, "127.0.0.1:7002", 0,
            "Address and port of the HTTPS API and web console, as "
            "address:port. Use 0.0.0.0:7002 to accept connections on every "
            "interface."),
    KEY_STR(http_listen, "", 0,
            "Address and port of a plain HTTP listener that only redirects "
            "to HTTPS (for example 127.0.0.1:7001). Empty: no HTTP "
            "listener."),
    KEY_STR(tls_cert, "", 0,
            "PEM file with the server certificate (and chain). Empty: "
            "<data_dir>/tls/server.crt, a self-signed certificate made at "
            "first start."),
    KEY_STR(tls_key, "", 0,
            "PEM file with the private key of tls_cert. Empty: "
            "<data_dir>/tls/server.key, made at first start."),
    KEY_STR(log_file, "", 0,
            "Log file. Empty: <data_dir>/logs/ovmmd.log. \"-\" logs to "
            "standard error only."),
    KEY_STR(log_level, "info", CONF_RELOADABLE,
            "Least severe messages logged: debug, info, warn or error. "
            "Applied again on SIGHUP."),
    KEY_STR(web_root, "", 0,
            "Directory with the web console files. Empty: the console "
            "files installed with ovmmd."),
    KEY_STR(manager_name, "OVM Manager", 0,
            "Name of the Manager object, as clients see it."),
    KEY_INT(max_body_bytes, 1048576, 1024, 1073741824, 0,
            "Largest request body accepted, in bytes; larger requests are "
            "refused with 413."),
    KEY_INT(connection_timeout, 30, 1, 3600, 0,
            "Seconds an idle client connection is kept open."),
    KEY_INT(max_connections, 256, 1, 65535, 0,
            "Most client connections served at once."),
    KEY_INT(max_connections_per_ip, 64, 0, 65535, 0,
            "Most client connections from one IP address at once. 0: no "
            "limit."),
    KEY_INT(http_threads, 0, 0, 64, 0,
            "Threads serving HTTP requests, each with its own epoll loop. "
            "0: one per online CPU. More threads than cores only adds "
            "contention."),
    KEY_INT(list_limit_default, 100, 1, 1000000, 0,
            "Objects returned by a paged list when the client gives no "
            "limit (an extension; plain Oracle VM lists are not paged)."),
    KEY_INT(list_limit_max, 1000, 1, 1000000, 0,
            "Largest page a client may ask for."),
    KEY_INT(login_max_failures, 5, 1, 1000, 0,
            "Consecutive failed log-ins after which a user is locked out "
            "for login_lockout_seconds."),
    KEY_INT(login_lockout_seconds, 300, 1, 86400, 0,
            "Seconds a user stays locked out after login_max_failures "
            "failed log-ins."),
    KEY_INT(session_idle_timeout, 1800, 60, 604800, 0,
            "Seconds after which an unused web console session ends."),
    KEY_INT(session_lifetime, 43200, 60, 2592000, 0,
            "Seconds after which a web console session ends however much "
            "it is used."),
    KEY_STR(password_strength, "interactive", 0,
            "Cost of the Argon2id password hash: interactive, moderate or "
            "sensitive. Stronger settings take more time and memory for "
            "every password check that is not cached."),
    KEY_INT(startup_delay_ms, 0, 0, 600000, 0,
            "A testing aid: milliseconds the Manager stays in STARTING "
            "after its start-up work, so clients and tests can see "
            "requests refused with 503. Keep 0 in production."),
    KEY_INT(job_workers, 0, 0, 256, 0,
            "Threads running jobs. 0: one more than the online CPUs. Jobs "
            "spend most of their time waiting on hypervisors, so more "
            "workers than cores is normal."),
    KEY_INT(job_priority_workers, 1, 1, 16, 0,
            "Threads of the priority lane, which runs urgent jobs (VM kill "
            "and the like) so they never wait behind ordinary work."),
    KEY_INT(job_lock_timeout, 300, 1, 86400, 0,
            "Seconds a job may wait for the objects it needs while other "
            "jobs hold them; after that it ends FAILURE naming the job that "
            "held them."),
    KEY_INT(job_wait_max, 300, 1, 3600, 0,
            "Longest wait, in seconds, that GET /Job/{id}?wait=N may ask "
            "for."),
    KEY_INT(job_retention_days, 30, 1, 3650, 0,
            "Finished jobs older than this many days are deleted, with "
            "their operations (checked at start and hourly)."),
    KEY_INT(event_retention_days, 30, 1, 3650, 0,
            "Events older than this many days are deleted (checked at start "
            "and hourly)."),
    KEY_BOOL(job_diagnostics, false, 0,
            "Enables POST /Job/diagnostic, jobs of diagnostic operations "
            "(sleep, touch, fail) used by the tests and benchmarks. Keep "
            "false in production."),
    KEY_INT(simulate, 0, 0, 64, 0,
            "Simulated servers to provide, through libvirt's test driver: "
            "node files sim-1 .. sim-N are written into <data_dir>/sim at "
            "start and POST /Server/discover accepts the names sim-1 .. "
            "sim-N. make run uses 3. 0: none."),
    KEY_STR(hv_uri_template, "xen+tls://{host}/system", 0,
            "libvirt URI of a discovered server, with {host} replaced by "
            "the name or address given to discovery and {user} by "
            "agent_login; for example xen+ssh://{user}@{host}/system or "
            "qemu+tls://{host}/system. A serverName that already is a URI "
            "is used as it is."),
    KEY_STR(agent_login, "oracle", 0,
            "User name ovmm presents to servers' agents (libvirt "
            "authentication)."),
    KEY_STR(default_agent_password, "", 0,
            "Agent password used when a discovery request carries none "
            "(python-ovmclient sends an empty body). Empty: none."),
    KEY_INT(monitor_interval, 10, 0, 3600, 0,
            "Seconds between monitoring cycles: each polls every server "
            "with one bulk statistics call, updates its utilization and "
            "notices a server that stopped answering (docs/MONITORING.md). "
            "0: no monitoring."),
    KEY_INT(monitor_timeout, 5, 1, 300, 0,
            "Seconds a server may take to answer a monitoring poll before "
            "it is marked unreachable (serverRunState UNKNOWN)."),
    KEY_INT(monitor_threads, 4, 1, 64, 0,
            "Threads polling servers, and as many again for connection "
            "attempts, so a server that hangs never delays the others."),
    KEY_INT(ipmi_timeout, 30, 1, 600, 0,
            "Seconds one run of ipmitool (a power command or a power status "
            "query to a server's BMC) may take before it is killed and the "
            "power job fails."),
    KEY_INT(ipmi_cipher_suite, -1, -1, 17, 0,
            "IPMI 2.0 cipher suite given to ipmitool as -C. -1: let ipmitool "
            "choose, which asks the BMC first (slow with BMCs that do not "
            "answer that question); 3 (AES-128, HMAC-SHA1) works with "
            "nearly every BMC; 17 where the BMC supports it."),
    KEY_INT(power_confirm_timeout, 300, 1, 3600, 0,
            "Seconds a server power job waits for the BMC to report the new "
            "chassis power state (a soft stop lasts as long as the "
            "operating system's shutdown) before it fails."),
    KEY_STR(wol_address, "255.255.255.255", 0,
            "Numeric IPv4 or IPv6 address Wake-on-LAN packets are sent to "
            "when a server without IPMI is started: the limited broadcast "
            "by default, or a subnet's broadcast address."),
    KEY_INT(wol_port, 9, 1, 65535, 0,
            "UDP port of Wake-on-LAN packets (9, discard, by convention; "
            "some networks use 7)."),
    KEY_STR(import_allow, "", 0,
            "Addresses imports (importVirtualDisk, importTemplate, "
            "importAssembly, ...) may download from although they are not "
            "public: a comma-separated list of CIDRs, e.g. "
            "\"10.1.0.0/16,192.168.5.7/32\". Empty: loopback, private, "
            "link-local and other non-public addresses are refused "
            "(docs/STORAGE.md)."),
    KEY_INT(import_max_size, 68719476736, 1, 1125899906842624, 0,
            "Largest download of one import, in bytes (64 GiB; at most 1 PiB)."),
    KEY_INT(import_timeout, 21600, 1, 604800, 0,
            "Seconds one import download may take (6 hours)."),
};

/*
 * Extra checks and apply hooks, keyed by a key's offset. @check sees the
 * parsed text and returns 0 or -1 with a message (any code); @apply runs
 * on reload when a RELOADABLE key changed.
 */
struct conf_hook {
    size_t offset;
    int (*check)(const char *value);
    void (*apply)(const struct config *c);
};

static int
check_log_level(const char *value)
{
    enum log_level level;

    return log_level_parse(value, &level);
}

static void
apply_log_level(const struct config *c)
{
    enum log_level level;

    /* Checked when parsed, so it cannot fail here. */
    if (log_level_parse(c->log_level, &level) == 0)
        log_set_level(level);
}

static int
check_password_strength(const char *value)
{
    static const char *const names[] = { "interactive", "moderate",
                                         "sensitive" };
    size_t i;

    for (i = 0; i < NELEMS(names); i++) {
        if (strcmp(value, names[i]) == 0)
            return 0;
    }
    err_set(ERR_INVALID,
            "unknown password strength '%s' (interactive, moderate, "
            "sensitive)", value);
    return -1;
}

static int
check_import_allow(const char *value)
{
    return fetch_allow_check(value);
}

static int
check_wol_address(const char *value)
{
    unsigned char addr[16];

    if (inet_pton(AF_INET, value, addr) == 1 ||
        inet_pton(AF_INET6, value, addr) == 1)
        return 0;
    err_set(ERR_INVALID, "wol_address '%s' is not a numeric IPv4 or IPv6 "
                         "address", value);
    return -1;
}

static const struct conf_hook hooks[] = {
    { offsetof(struct config, log_level), check_log_level, apply_log_level },
    { offsetof(struct config, import_allow), check_import_allow, NULL },
    { offsetof(struct config, password_strength), check_password_strength,
      NULL },
    { offsetof(struct config, wol_address), check_wol_address, NULL },
};

static const struct conf_hook *
conf_hook_find(const struct conf_key *k)
{
    size_t i;

    for (i = 0; i < NELEMS(hooks); i++) {
        if (hooks[i].offset == k->offset)
            return &hooks[i];
    }
    return NULL;
}

const struct conf_key *
config_keys(size_t *n)
{
    *n = NELEMS(keys);
    return keys;
}

static const struct conf_key *
conf_key_find(const char *name)
{
    size_t i;

    for (i = 0; i < NELEMS(keys); i++) {
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    }
    return NULL;
}

/* The member of @c that @k describes. */
static void *
conf_member(struct config *c, const struct conf_key *k)
{
    return (char *)c + k->offset;
}

static const void *
conf_member_const(const struct config *c, const struct conf_key *k)
{
    return (const char *)c + k->offset;
}

/*
 * Parse @value as key @k and store it in @c. On failure @c is unchanged
 * and the error (ERR_INVALID) names the key but not where it came from;
 * callers add that.
 */
static int
conf_value_set(struct config *c, const struct conf_key *k, const char *value)
{
    const struct conf_hook *hook = conf_hook_find(k);
    char what[80];
    int64_t i;
    bool b;

    snprintf(what, sizeof(what), "'%s'", k->name);
    switch (k->type) {
    case CONF_STRING:
        if (hook && hook->check && hook->check(value) < 0)
            return -1;
        xfree(*(char **)conf_member(c, k));
        *(char **)conf_member(c, k) = xstrdup(value);
        return 0;
    case CONF_INT:
        if (str_to_int64(value, k->min, k->max, what, &i) < 0)
            return -1;
        *(int64_t *)conf_member(c, k) = i;
        return 0;
    case CONF_BOOL:
        if (str_to_bool(value, what, &b) < 0)
            return -1;
        *(bool *)conf_member(c, k) = b;
        return 0;
    }
    err_set(ERR_INTERNAL, "config key '%s' has an unknown type", k->name);
    return -1;
}

/* Are the values of @k in @a and @b the same? */
static bool
conf_value_eq(const struct config *a, const struct config *b,
              const struct conf_key *k)
{
    switch (k->type) {
    case CONF_STRING:
        return str_eq(*(char *const *)conf_member_const(a, k),
                      *(char *const *)conf_member_const(b, k));
    case CONF_INT:
        return *(const int64_t *)conf_member_const(a, k) ==
               *(const int64_t *)conf_member_const(b, k);
    case CONF_BOOL:
        return *(const bool *)conf_member_const(a, k) ==
               *(const bool *)conf_member_const(b, k);
    }
    return false;
}

/* Copy the value of @k from @src into @dst (strings are duplicated). */
static void
conf_value_copy(struct config *dst, const struct config *src,
                const struct conf_key *k)
{
    switch (k->type) {
    case CONF_STRING:
        xfree(*(char **)conf_member(dst, k));
        *(char **)conf_member(dst, k) =
            xstrdup(*(char *const *)conf_member_const(src, k));
        break;
    case CONF_INT:
        *(int64_t *)conf_member(dst, k) =
            *(const int64_t *)conf_member_const(src, k);
        break;
    case CONF_BOOL:
        *(bool *)conf_member(dst, k) = *(const bool *)conf_member_const(src, k);
        break;
    }
}

void
config_init(struct config *c)
{
    size_t i;

    memset(c, 0, sizeof(*c));
    for (i = 0; i < NELEMS(keys); i++) {
        /* The defaults are ours: one that does not parse is a bug. */
        if (conf_value_set(c, &keys[i], keys[i].def) < 0)
            fatalx("bad default for config key '%s': %s", keys[i].name,
                   err_message());
    }
}

void
config_release(struct config *c)
{
    size_t i;

    for (i = 0; i < NELEMS(keys); i++) {
        if (keys[i].type == CONF_STRING) {
            xfree(*(char **)conf_member(c, &keys[i]));
            *(char **)conf_member(c, &keys[i]) = NULL;
        }
    }
}

/* A deep copy of @src into the uninitialized @dst. */
static void
config_copy(struct config *dst, const struct config *src)
{
    size_t i;

    memset(dst, 0, sizeof(*dst));
    for (i = 0; i < NELEMS(keys); i++)
        conf_value_copy(dst, src, &keys[i]);
}

/*
 * Read one line of @f into @line (CONF_LINE_MAX + 1 bytes), without its
 * newline. Returns 1 for a line, 0 at the end of the file, -1 with the
 * problem in @why (a line too long, a NUL byte) or a read error (errno).
 */
static int
conf_read_line(FILE *f, char *line, const char **why)
{
    size_t len = 0;
    int ch;

    *why = NULL;
    for (;;) {
        ch = getc(f);
        if (ch == EOF) {
            if (ferror(f))
                return -1;
            line[len] = '\0';
            return len > 0 ? 1 : 0;
        }
        if (ch == '\n')
            break;
        if (ch == '\0') {
            *why = "line contains a NUL byte";
            return -1;
        }
        if (len == CONF_LINE_MAX) {
            *why = "line is longer than 4096 bytes";
            return -1;
        }
        line[len++] = (char)ch;
    }
    /* Tolerate CRLF files written on Windows. */
    if (len > 0 && line[len - 1] == '\r')
        len--;
    line[len] = '\0';
    return 1;
}

static bool
conf_is_space(char ch)
{
    return ch == ' ' || ch == '\t';
}

/*
 * Split @line (modified in place) into *key and *value, unquoting and
 * dropping comments. Returns 1 for a key, 0 for a blank or comment line,
 * -1 with the problem in @why.
 */
static int
conf_parse_line(char *line, char **key, char **value, const char **why)
{
    char *p = line, *out, *end;

    while (conf_is_space(*p))
        p++;
    if (*p == '\0' || *p == '#')
        return 0;
    *key = p;
    while (isalnum((unsigned char)*p) || *p == '_')
        p++;
    if (p == *key) {
        *why = "expected a key name";
        return -1;
    }
    end = p;
    while (conf_is_space(*p))
        p++;
    if (*p != '=') {
        *why = "missing '='";
        return -1;
    }
    *end = '\0';
    p++;
    while (conf_is_space(*p))
        p++;

    if (*p == '"') {
        /* Quoted: \" and \\ are the only escapes; unquote in place. */
        out = *value = ++p;
        for (;;) {
            if (*p == '\0') {
                *why = "missing closing '\"'";
                return -1;
            }
            if (*p == '"')
                break;
            if (*p == '\\') {
                p++;
                if (*p != '"' && *p != '\\') {
                    *why = "unknown escape in string (only \\\" and \\\\)";
                    return -1;
                }
            }
            *out++ = *p++;
        }
        *out = '\0';
        p++;
        while (conf_is_space(*p))
            p++;
        if (*p != '\0' && *p != '#') {
            *why = "unexpected text after the closing '\"'";
            return -1;
        }
        return 1;
    }

    /* Bare: up to a '#' that follows whitespace, trailing blanks cut. */
    *value = p;
    for (; *p; p++) {
        if (*p == '#' && conf_is_space(p[-1])) {
            *p = '\0';
            break;
        }
    }
    end = *value + strlen(*value);
    while (end > *value && conf_is_space(end[-1]))
        *--end = '\0';
    return 1;
}

/*
 * Parse the file @path into @c, which the caller has filled (defaults or
 * a copy of the current config). @seen, when not NULL, has one entry per
 * key and is set for every key the file sets. On failure @c may be
 * partly changed: callers parse into a scratch copy.
 */
static int
config_parse_file(struct config *c, const char *path, bool *seen)
{
    char line[CONF_LINE_MAX + 1], msg[sizeof(((struct err *)0)->message)];
    const struct conf_key *k;
    const char *why;
    char *key, *value;
    int lineno = 0, r, ret = -1;
    FILE *f;

    f = fopen(path, "re");
    if (!f) {
        err_set(ERR_IO, "cannot read config file '%s': %s", path,
                strerror(errno));
        return -1;
    }
    for (;;) {
        lineno++;
        r = conf_read_line(f, line, &why);
        if (r == 0)
            break;
        if (r < 0) {
            if (why)
                err_set(ERR_CONFIG, "%s:%d: %s", path, lineno, why);
            else
                err_set(ERR_IO, "cannot read config file '%s': %s", path,
                        strerror(errno));
            goto cleanup;
        }
        r = conf_parse_line(line, &key, &value, &why);
        if (r == 0)
            continue;
        if (r < 0) {
            err_set(ERR_CONFIG, "%s:%d: %s", path, lineno, why);
            goto cleanup;
        }
        k = conf_key_find(key);
        if (!k) {
            err_set(ERR_CONFIG, "%s:%d: unknown key '%s'", path, lineno, key);
            goto cleanup;
        }
        if (conf_value_set(c, k, value) < 0) {
            /* err_message() is the buffer err_set() writes: copy first. */
            str_copy(msg, err_message(), sizeof(msg));
            err_set(ERR_CONFIG, "%s:%d: %s", path, lineno, msg);
            goto cleanup;
        }
        if (seen)
            seen[k - keys] = true;
    }
    ret = 0;
 cleanup:
    fclose(f);
    return ret;
}

int
config_load(struct config *c, const char *path)
{
    struct config tmp;

    config_copy(&tmp, c);
    if (config_parse_file(&tmp, path, NULL) < 0) {
        config_release(&tmp);
        return -1;
    }
    config_release(c);
    *c = tmp;
    return 0;
}

int
config_set(struct config *c, const char *key, const char *value)
{
    char msg[sizeof(((struct err *)0)->message)];
    const struct conf_key *k = conf_key_find(key);

    if (!k) {
        err_set(ERR_CONFIG, "unknown config key '%s'", key);
        return -1;
    }
    if (conf_value_set(c, k, value) < 0) {
        str_copy(msg, err_message(), sizeof(msg));
        err_set(ERR_CONFIG, "%s", msg);
        return -1;
    }
    return 0;
}

/*
 * Reload compares the new file with the running values only for keys the
 * file sets: a key that is absent (and so possibly set by a command-line
 * flag) keeps its value silently, instead of being "changed" back to its
 * default on every SIGHUP.
 */
int
config_reload(struct config *c, const char *path)
{
    const struct conf_hook *hook;
    bool seen[NELEMS(keys)] = { false };
    struct config tmp;
    size_t i;

    config_copy(&tmp, c);
    if (config_parse_file(&tmp, path, seen) < 0) {
        config_release(&tmp);
        return -1;
    }
    for (i = 0; i < NELEMS(keys); i++) {
        if (!seen[i] || conf_value_eq(c, &tmp, &keys[i]))
            continue;
        if (!(keys[i].flags & CONF_RELOADABLE)) {
            log_warnx("config key '%s' changed in '%s' but needs a restart",
                      keys[i].name, path);
            continue;
        }
        conf_value_copy(c, &tmp, &keys[i]);
        hook = conf_hook_find(&keys[i]);
        if (hook && hook->apply)
            hook->apply(c);
        log_info("config key '%s' reloaded from '%s'", keys[i].name, path);
    }
    config_release(&tmp);
    return 0;
}
