/*
 * apitest.c - run REST API test data files against a running ovmmd.
 *
 * Usage:
 *   apitest --base https://127.0.0.1:PORT --cacert DIR/tls/server.crt
 *           --routes schema/api/routes.json --schemas schema/api/objects.json
 *           --user admin:PW [--user op:PW ...] [--coverage-out FILE]
 *           [--no-coverage] [--verbose] FILE.t...
 *
 * Output is TAP: one test per block, then one more test, "every route in
 * routes.json exercised", computed over all the files. Exit status 0 when
 * every test passed, 1 when one failed, 2 for a usage or set-up error.
 *
 * DATA FILE FORMAT (also in tests/api/README.md). Line oriented; a line
 * whose first non-blank character is '#' is a comment, blank lines are
 * ignored, there are no trailing comments. A file is a sequence of blocks;
 * each block is one request and one TAP test:
 *
 *   === list managers as read-only       starts a block, names the test
 *   GET /Manager?limit=10                 method and target (required)
 *   auth ro                               who is calling (default: 1st --user)
 *   status 200                            expected status(es) (required)
 *   expect [0].managerRunState RUNNING    ...then any checks, in order
 *
 * Target: a path under the REST base (the --base URL plus routes.json
 * "base"), or an absolute http(s) URL used as is.
 *
 * Request lines:
 *   auth none | bad | cookie | USER | NAME:PASSWORD
 *       none: no credentials; bad: the first --user's name with a wrong
 *       password; cookie: no Basic, send the cookie jar; USER: a --user;
 *       NAME:PASSWORD: Basic with exactly these.
 *   header Name: value        extra request header (Content-Type defaults to
 *                             application/json when there is a body)
 *   cookie NAME=VALUE         send this cookie (in addition to the jar when
 *                             auth is cookie)
 *   body TEXT                 request body; several body lines are joined
 *                             with newlines
 *   body-size N               a generated JSON body of exactly N bytes
 *   set VAR VALUE             define ${VAR} (also allowed before the first
 *                             block, for the whole file)
 *   retry SECONDS             (GET only) while a check fails, send the
 *                             request again every 0.1 s, for at most
 *                             SECONDS: for states reached asynchronously
 *                             (a job RUNNING, a lock held)
 *
 * Checks, run in order after the response arrives:
 *   status N [N...]           the status must be one of these
 *   schema NAME | NAME[] | none
 *                             validate a 2xx body against this schema instead
 *                             of the matched route's response schema
 *   expect PATH VALUE         the JSON value at PATH matches VALUE
 *   expect-not PATH VALUE     ...does not match VALUE (or is absent)
 *   expect-absent PATH        PATH does not exist
 *   expect-exists PATH        PATH exists (any value, null included)
 *   expect-count [PATH] N     the array (or object) at PATH has N members
 *   expect-header NAME VALUE  a response header NAME matches VALUE
 *   expect-no-header NAME     no response header NAME
 *   expect-body TEXT          the raw response body contains TEXT
 *   expect-routes PATH        the object at PATH (OpenAPI "paths") has an
 *                             entry with the right method for every route
 *   capture VAR PATH          ${VAR} = the value at PATH (strings unquoted,
 *                             anything else as JSON text)
 *   capture-header VAR NAME   ${VAR} = the response header's value
 *   capture-cookie VAR NAME   ${VAR} = the value of Set-Cookie NAME
 *   capture-count VAR [PATH]  ${VAR} = number of members at PATH
 *
 * PATH: "$" (or ".") is the whole body; then ".name" or "name" members and
 * "[N]" array elements, e.g. [0].id.value; ["/a/b"] quotes a member name.
 * VALUE: "~text" = a string containing text; "\"json string\"" = exactly
 * that string; otherwise compared by the actual value's type: a string must
 * equal VALUE as text, a number must equal VALUE as a number, true/false/
 * null must be that word, an object or array must equal VALUE parsed as
 * JSON. Header VALUEs are exact (trimmed) unless they start with "~".
 *
 * Variables: ${NAME} is replaced in targets, auth, headers, cookies,
 * bodies, expected values and set values; an undefined one fails the
 * block. Each file starts with: BASE (the REST base URL), ORIGIN (the
 * --base URL), RAND (random per run, for unique names), PASS_<user> for
 * every --user, and NAME for every environment variable APITEST_VAR_NAME
 * (tests/api/run.sh passes the fixture server's URL so). Captures and
 * sets last until the end of the file. The cookie jar (filled from every
 * Set-Cookie) lasts for the whole run.
 *
 * Every JSON response is validated: a non-2xx status against "Error"
 * (always), a 2xx against the schema line or else the response schema of
 * the route that the request matched in routes.json ("$type"/"$child"
 * name the schema after the {type}/{child} segment; "X[]" is an array of
 * X; null means no check). The schema language is the subset used by
 * objects.json: type, properties, required, additionalProperties, items,
 * enum and $ref "#/components/schemas/X".
 *
 * DESIGN: single-threaded and sequential; blocks run in file order because
 * later blocks use captures of earlier ones. One curl easy handle is reset
 * and reused so connections are kept. Responses are read into bounded
 * buffers (MAX_RESPONSE_BYTES, MAX_HEADERS); a bigger response fails its
 * block instead of exhausting memory. Route coverage matches each request
 * (method, path below the base) against the routes.json patterns: "{x}"
 * matches one non-empty segment and, when several match, the pattern whose
 * leading segments are literal wins (compared left to right), as in the
 * daemon's router.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

/* Largest response body we read; more fails the block. */
#define MAX_RESPONSE_BYTES (16 * 1024 * 1024)
/* Most response headers (and header bytes) we keep per response. */
#define MAX_HEADERS 64
#define MAX_HEADER_BYTES (64 * 1024)
/* Most accepted statuses on one status line. */
#define MAX_STATUSES 8
/* Deepest $ref / nesting the validator follows. */
#define MAX_SCHEMA_DEPTH 64
/* Most path segments in a route or request path. */
#define MAX_SEGMENTS 16
/* Per-request time limits, seconds. */
#define REQUEST_TIMEOUT_S 60
#define CONNECT_TIMEOUT_S 10
/* How much of a body a diagnostic shows. */
#define DIAG_BODY_MAX 1500

/* ---- small helpers ---------------------------------------------------- */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
                                                         noreturn));

/* Print "apitest: message" to stderr and exit 2 (set-up errors, OOM). */
static void
die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("apitest: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

/* realloc that dies on OOM; @n == 0 still returns a valid pointer. */
static void *
xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (!q)
        die("out of memory");
    return q;
}

static char *
xstrndup(const char *s, size_t n)
{
    char *p = xrealloc(NULL, n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static char *
xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

/* A growable NUL-terminated string. Zero-initialized is empty. */
struct sbuf {
    char *s;
    size_t len;
    size_t cap;
};

static void
sbuf_add(struct sbuf *b, const char *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;

        while (b->len + n + 1 > cap)
            cap *= 2;
        b->s = xrealloc(b->s, cap);
        b->cap = cap;
    }
    memcpy(b->s + b->len, data, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void
sbuf_adds(struct sbuf *b, const char *s)
{
    sbuf_add(b, s, strlen(s));
}

static void sbuf_addf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sbuf_addf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    char *tmp = NULL;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        die("out of memory");
    sbuf_add(b, tmp, (size_t)n);
    free(tmp);
}

/* The contents, never NULL (borrowed). */
static const char *
sbuf_str(const struct sbuf *b)
{
    return b->s ? b->s : "";
}

static void
sbuf_reset(struct sbuf *b)
{
    b->len = 0;
    if (b->s)
        b->s[0] = '\0';
}

static void
sbuf_release(struct sbuf *b)
{
    free(b->s);
    memset(b, 0, sizeof(*b));
}

/* An ordered list of owned key/value strings. */
struct kv {
    char *k;
    char *v;
};

struct kvlist {
    struct kv *v;
    size_t n;
    size_t cap;
};

static void
kv_add(struct kvlist *l, const char *k, const char *v)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n].k = xstrdup(k);
    l->v[l->n].v = xstrdup(v);
    l->n++;
}

/* Index of @k (case-insensitive when @icase), or -1. */
static ssize_t
kv_find(const struct kvlist *l, const char *k, bool icase)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        if (icase ? strcasecmp(l->v[i].k, k) == 0 : strcmp(l->v[i].k, k) == 0)
            return (ssize_t)i;
    }
    return -1;
}

static const char *
kv_get(const struct kvlist *l, const char *k, bool icase)
{
    ssize_t i = kv_find(l, k, icase);

    return i < 0 ? NULL : l->v[i].v;
}

/* Replace the value of @k, or append it. */
static void
kv_set(struct kvlist *l, const char *k, const char *v)
{
    ssize_t i = kv_find(l, k, false);

    if (i < 0) {
        kv_add(l, k, v);
        return;
    }
    free(l->v[i].v);
    l->v[i].v = xstrdup(v);
}

static void
kv_del(struct kvlist *l, const char *k)
{
    ssize_t i = kv_find(l, k, false);

    if (i < 0)
        return;
    free(l->v[i].k);
    free(l->v[i].v);
    memmove(&l->v[i], &l->v[i + 1], (l->n - (size_t)i - 1) * sizeof(*l->v));
    l->n--;
}

static void
kv_clear(struct kvlist *l)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        free(l->v[i].k);
        free(l->v[i].v);
    }
    l->n = 0;
}

static void
kv_release(struct kvlist *l)
{
    kv_clear(l);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* Skip blanks. */
static const char *
skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* Strip trailing blanks and line ends in place. */
static void
rtrim(char *s)
{
    size_t n = strlen(s);

    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
                     s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
}

/*
 * Split "WORD rest" at the first run of blanks: *@word is a new string,
 * *@rest points into @s (possibly ""). 0, or -1 when @s is empty.
 */
static int
split_word(const char *s, char **word, const char **rest)
{
    const char *e;

    s = skip_ws(s);
    if (!*s)
        return -1;
    e = s;
    while (*e && *e != ' ' && *e != '\t')
        e++;
    *word = xstrndup(s, (size_t)(e - s));
    *rest = skip_ws(e);
    return 0;
}

/* Parse a whole decimal integer; false for anything else. */
static bool
parse_long(const char *s, long *out)
{
    char *end;
    long v;

    if (!*s)
        return false;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

/* ---- global state ----------------------------------------------------- */

struct route {
    char *method;
    char *path;
    char *response;            /* schema name; NULL when null */
    char *segs[MAX_SEGMENTS];
    size_t nsegs;
    unsigned long hits;
};

static struct {
    const char *origin;        /* --base, e.g. https://127.0.0.1:7002 */
    char *rest_base;           /* origin + routes.json "base" */
    const char *base_path;     /* routes.json "base" (borrowed from json) */
    const char *cacert;
    json_object *routes_json;
    struct route *routes;
    size_t nroutes;
    json_object *objects_json;
    json_object *schemas;      /* objects.json "schemas" (borrowed) */
    struct kvlist users;       /* name -> password, in command-line order */
    struct kvlist vars;        /* per file */
    struct kvlist jar;         /* cookie name -> value, whole run */
    CURL *curl;
    unsigned ntests;
    unsigned nfailed;
    bool verbose;
    char rand[24];
} g;

/* ---- TAP ---------------------------------------------------------------- */

/* Print one TAP result; @diag lines (if any) as "# " comments. */
static void
tap_result(bool ok, const char *name, const struct sbuf *diag)
{
    const char *p;
    struct sbuf clean = { 0 };

    g.ntests++;
    if (!ok)
        g.nfailed++;
    /* '#' in a test name would start a TAP directive. */
    for (p = name; *p; p++)
        sbuf_add(&clean, *p == '#' ? "_" : p, 1);
    printf("%sok %u - %s\n", ok ? "" : "not ", g.ntests, sbuf_str(&clean));
    sbuf_release(&clean);
    if (diag && diag->len && (!ok || g.verbose)) {
        p = diag->s;
        while (*p) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);

            printf("#   %.*s\n", (int)n, p);
            p += n;
            if (*p == '\n')
                p++;
        }
    }
    fflush(stdout);
}

/* ---- routes and coverage ---------------------------------------------- */

/* Split @path ("/a/b") into at most MAX_SEGMENTS new strings. -1: too many. */
static int
split_path(const char *path, char **segs, size_t *nsegs)
{
    const char *p = path;

    *nsegs = 0;
    if (*p == '/')
        p++;
    if (!*p)
        return 0;
    for (;;) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);

        if (*nsegs == MAX_SEGMENTS)
            return -1;
        segs[(*nsegs)++] = xstrndup(p, n);
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

static void
free_segs(char **segs, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(segs[i]);
}

static bool
is_param(const char *seg)
{
    size_t n = strlen(seg);

    return n >= 2 && seg[0] == '{' && seg[n - 1] == '}';
}

static void
load_routes(const char *file)
{
    json_object *arr, *base;
    size_t i, n;

    g.routes_json = json_object_from_file(file);
    if (!g.routes_json)
        die("cannot parse routes '%s': %s", file, json_util_get_last_err());
    if (!json_object_object_get_ex(g.routes_json, "base", &base) ||
        !json_object_is_type(base, json_type_string))
        die("routes '%s' has no string \"base\"", file);
    g.base_path = json_object_get_string(base);
    if (!json_object_object_get_ex(g.routes_json, "routes", &arr) ||
        !json_object_is_type(arr, json_type_array))
        die("routes '%s' has no array \"routes\"", file);
    n = json_object_array_length(arr);
    g.routes = xrealloc(NULL, n * sizeof(*g.routes));
    memset(g.routes, 0, n * sizeof(*g.routes));
    for (i = 0; i < n; i++) {
        json_object *r = json_object_array_get_idx(arr, i), *m, *p, *resp;
        struct route *rt = &g.routes[i];

        if (!json_object_object_get_ex(r, "method", &m) ||
            !json_object_object_get_ex(r, "path", &p) ||
            !json_object_is_type(m, json_type_string) ||
            !json_object_is_type(p, json_type_string))
            die("routes '%s': route %zu lacks method or path", file, i);
        rt->method = xstrdup(json_object_get_string(m));
        rt->path = xstrdup(json_object_get_string(p));
        if (json_object_object_get_ex(r, "response", &resp) && resp) {
            if (!json_object_is_type(resp, json_type_string))
                die("routes '%s': route %s %s: response is not a string",
                    file, rt->method, rt->path);
            rt->response = xstrdup(json_object_get_string(resp));
        }
        if (split_path(rt->path, rt->segs, &rt->nsegs) < 0)
            die("routes '%s': path '%s' has too many segments", file,
                rt->path);
    }
    g.nroutes = n;
}

/*
 * The route that (@method, @path below the base, no query) selects, or
 * NULL. Among matches, the one with a literal where the other has a
 * parameter at the leftmost difference wins.
 */
static struct route *
route_match(const char *method, const char *path)
{
    char *segs[MAX_SEGMENTS];
    size_t nsegs, i, j;
    struct route *best = NULL;

    if (split_path(path, segs, &nsegs) < 0)
        return NULL;
    for (i = 0; i < g.nroutes; i++) {
        struct route *r = &g.routes[i];
        bool ok = strcmp(r->method, method) == 0 && r->nsegs == nsegs;

        for (j = 0; ok && j < nsegs; j++) {
            if (is_param(r->segs[j]))
                ok = segs[j][0] != '\0';
            else
                ok = strcmp(r->segs[j], segs[j]) == 0;
        }
        if (!ok)
            continue;
        if (best) {
            bool better = false;

            for (j = 0; j < nsegs; j++) {
                bool a = !is_param(r->segs[j]), b = !is_param(best->segs[j]);

                if (a != b) {
                    better = a;
                    break;
                }
            }
            if (!better)
                continue;
        }
        best = r;
    }
    free_segs(segs, nsegs);
    return best;
}

/*
 * The path of @url below the REST base without query or fragment (new
 * string), or NULL when @url is not under the base.
 */
static char *
path_below_base(const char *url)
{
    size_t n = strlen(g.rest_base);
    const char *p;

    if (strncmp(url, g.rest_base, n) != 0)
        return NULL;
    p = url + n;
    if (*p && *p != '/' && *p != '?' && *p != '#')
        return NULL;
    return xstrndup(p, strcspn(p, "?#"));
}

/* Print the coverage test, and write @out when given. */
static void
coverage_report(const char *out)
{
    struct sbuf diag = { 0 };
    size_t i, missing = 0;

    for (i = 0; i < g.nroutes; i++) {
        if (!g.routes[i].hits) {
            sbuf_addf(&diag, "never exercised: %s %s\n", g.routes[i].method,
                      g.routes[i].path);
            missing++;
        }
    }
    if (missing)
        sbuf_addf(&diag, "%zu of %zu routes missing\n", missing, g.nroutes);
    tap_result(missing == 0, "every route in routes.json exercised", &diag);
    sbuf_release(&diag);
    if (out) {
        FILE *f = fopen(out, "w");

        if (!f) {
            fprintf(stderr, "apitest: cannot write '%s': %s\n", out,
                    strerror(errno));
            g.nfailed++;
            return;
        }
        for (i = 0; i < g.nroutes; i++)
            fprintf(f, "%lu %s %s\n", g.routes[i].hits, g.routes[i].method,
                    g.routes[i].path);
        if (fclose(f) != 0) {
            fprintf(stderr, "apitest: cannot write '%s': %s\n", out,
                    strerror(errno));
            g.nfailed++;
        }
    }
}

/* ---- JSON schema subset ----------------------------------------------- */

static const char *
jtype_name(json_object *v)
{
    if (!v)
        return "null";
    switch (json_object_get_type(v)) {
    case json_type_null:
        return "null";
    case json_type_boolean:
        return "boolean";
    case json_type_double:
        return "number";
    case json_type_int:
        return "integer";
    case json_type_object:
        return "object";
    case json_type_array:
        return "array";
    case json_type_string:
        return "string";
    }
    return "?";
}

static bool
type_matches(json_object *v, const char *want)
{
    const char *have = jtype_name(v);

    if (strcmp(want, "number") == 0)
        return strcmp(have, "number") == 0 || strcmp(have, "integer") == 0;
    return strcmp(have, want) == 0;
}

/* Keywords the validator understands; anything else is a set-up error. */
static const char *const schema_keywords[] = {
    "type", "properties", "required", "additionalProperties", "items",
    "enum", "$ref", "oneOf", "description", "comment", "title", NULL
};

/* Check that every schema in objects.json uses only known keywords. */
static void
check_schema_keywords(json_object *s, const char *where, int depth)
{
    if (depth > MAX_SCHEMA_DEPTH)
        die("schema '%s' nests too deep", where);
    if (!json_object_is_type(s, json_type_object))
        die("schema '%s' is not an object", where);
    json_object_object_foreach(s, key, val) {
        size_t i;
        bool known = false;

        for (i = 0; schema_keywords[i]; i++)
            known = known || strcmp(key, schema_keywords[i]) == 0;
        if (!known)
            die("schema '%s' uses unsupported keyword '%s'", where, key);
        if (strcmp(key, "items") == 0)
            check_schema_keywords(val, where, depth + 1);
        if (strcmp(key, "oneOf") == 0) {
            size_t j;

            if (!json_object_is_type(val, json_type_array))
                die("schema '%s': oneOf is not an array", where);
            for (j = 0; j < json_object_array_length(val); j++)
                check_schema_keywords(json_object_array_get_idx(val, j),
                                      where, depth + 1);
        }
        if (strcmp(key, "additionalProperties") == 0 &&
            json_object_is_type(val, json_type_object))
            check_schema_keywords(val, where, depth + 1);
        if (strcmp(key, "properties") == 0) {
            if (!json_object_is_type(val, json_type_object))
                die("schema '%s': properties is not an object", where);
            json_object_object_foreach(val, pk, pv) {
                (void)pk;
                check_schema_keywords(pv, where, depth + 1);
            }
        }
    }
}

static void
load_schemas(const char *file)
{
    g.objects_json = json_object_from_file(file);
    if (!g.objects_json)
        die("cannot parse schemas '%s': %s", file, json_util_get_last_err());
    if (!json_object_object_get_ex(g.objects_json, "schemas", &g.schemas) ||
        !json_object_is_type(g.schemas, json_type_object))
        die("schemas '%s' has no object \"schemas\"", file);
    json_object_object_foreach(g.schemas, name, s) {
        check_schema_keywords(s, name, 0);
    }
    if (!json_object_object_get_ex(g.schemas, "Error", NULL))
        die("schemas '%s' has no \"Error\" schema", file);
}

static json_object *
schema_lookup(const char *name)
{
    json_object *s;

    if (!json_object_object_get_ex(g.schemas, name, &s))
        return NULL;
    return s;
}

/*
 * Validate @v against @schema. @path is the JSON path of @v (appended to
 * and restored). 0, or -1 with the first violation in @err.
 */
static int
validate(json_object *v, json_object *schema, struct sbuf *path,
         struct sbuf *err, int depth)
{
    json_object *kw;
    size_t mark = path->len;

    if (depth > MAX_SCHEMA_DEPTH) {
        sbuf_addf(err, "%s: nesting deeper than %d", sbuf_str(path),
                  MAX_SCHEMA_DEPTH);
        return -1;
    }
    if (json_object_object_get_ex(schema, "$ref", &kw)) {
        const char *ref = json_object_get_string(kw);
        const char *prefix = "#/components/schemas/";
        json_object *target = NULL;

        if (strncmp(ref, prefix, strlen(prefix)) == 0)
            target = schema_lookup(ref + strlen(prefix));
        if (!target) {
            sbuf_addf(err, "%s: schema has unresolvable $ref '%s'",
                      sbuf_str(path), ref);
            return -1;
        }
        if (validate(v, target, path, err, depth + 1) < 0)
            return -1;
    }
    if (json_object_object_get_ex(schema, "oneOf", &kw)) {
        size_t i, n = json_object_array_length(kw), matched = 0;

        for (i = 0; i < n; i++) {
            struct sbuf e = { 0 };

            if (validate(v, json_object_array_get_idx(kw, i), path, &e,
                         depth + 1) == 0)
                matched++;
            sbuf_release(&e);
        }
        if (matched != 1) {
            sbuf_addf(err, "%s: value %s matches %zu of the oneOf schemas, "
                      "not exactly one", sbuf_str(path),
                      json_object_to_json_string(v), matched);
            return -1;
        }
    }
    if (json_object_object_get_ex(schema, "type", &kw)) {
        bool ok = false;
        struct sbuf want = { 0 };

        if (json_object_is_type(kw, json_type_array)) {
            size_t i, n = json_object_array_length(kw);

            for (i = 0; i < n; i++) {
                const char *t =
                    json_object_get_string(json_object_array_get_idx(kw, i));

                ok = ok || type_matches(v, t);
                sbuf_addf(&want, "%s%s", i ? " or " : "", t);
            }
        } else {
            ok = type_matches(v, json_object_get_string(kw));
            sbuf_adds(&want, json_object_get_string(kw));
        }
        if (!ok) {
            sbuf_addf(err, "%s: expected type %s, got %s", sbuf_str(path),
                      sbuf_str(&want), jtype_name(v));
            sbuf_release(&want);
            return -1;
        }
        sbuf_release(&want);
    }
    if (json_object_object_get_ex(schema, "enum", &kw)) {
        size_t i, n = json_object_array_length(kw);
        bool ok = false;

        for (i = 0; i < n && !ok; i++)
            ok = json_object_equal(v, json_object_array_get_idx(kw, i));
        if (!ok) {
            sbuf_addf(err, "%s: value %s not in enum %s", sbuf_str(path),
                      json_object_to_json_string(v),
                      json_object_to_json_string(kw));
            return -1;
        }
    }
    if (v && json_object_is_type(v, json_type_object)) {
        json_object *props = NULL, *addl = NULL;

        json_object_object_get_ex(schema, "properties", &props);
        json_object_object_get_ex(schema, "additionalProperties", &addl);
        if (json_object_object_get_ex(schema, "required", &kw)) {
            size_t i, n = json_object_array_length(kw);

            for (i = 0; i < n; i++) {
                const char *name =
                    json_object_get_string(json_object_array_get_idx(kw, i));

                if (!json_object_object_get_ex(v, name, NULL)) {
                    sbuf_addf(err, "%s: required property '%s' missing",
                              sbuf_str(path), name);
                    return -1;
                }
            }
        }
        json_object_object_foreach(v, key, val) {
            json_object *ps = NULL;
            int rc = 0;

            if (props)
                json_object_object_get_ex(props, key, &ps);
            sbuf_addf(path, ".%s", key);
            if (ps) {
                rc = validate(val, ps, path, err, depth + 1);
            } else if (addl && json_object_is_type(addl, json_type_boolean) &&
                       !json_object_get_boolean(addl)) {
                sbuf_addf(err, "%s: property not allowed by the schema",
                          sbuf_str(path));
                rc = -1;
            } else if (addl && json_object_is_type(addl, json_type_object)) {
                rc = validate(val, addl, path, err, depth + 1);
            }
            path->len = mark;
            path->s[mark] = '\0';
            if (rc < 0)
                return -1;
        }
    }
    if (v && json_object_is_type(v, json_type_array) &&
        json_object_object_get_ex(schema, "items", &kw)) {
        size_t i, n = json_object_array_length(v);

        for (i = 0; i < n; i++) {
            int rc;

            sbuf_addf(path, "[%zu]", i);
            rc = validate(json_object_array_get_idx(v, i), kw, path, err,
                          depth + 1);
            path->len = mark;
            path->s[mark] = '\0';
            if (rc < 0)
                return -1;
        }
    }
    return 0;
}

/*
 * Validate @v against the schema called @name ("X" or "X[]"). 0, or -1
 * with the reason in @err.
 */
static int
validate_named(json_object *v, const char *name, struct sbuf *err)
{
    struct sbuf path = { 0 };
    size_t n = strlen(name);
    bool array = n > 2 && strcmp(name + n - 2, "[]") == 0;
    char *base = xstrndup(name, array ? n - 2 : n);
    json_object *schema = schema_lookup(base);
    int rc = 0;

    sbuf_adds(&path, "$");
    if (!schema) {
        sbuf_addf(err, "no schema named '%s' in objects.json", base);
        rc = -1;
    } else if (array) {
        size_t i, len;

        if (!v || !json_object_is_type(v, json_type_array)) {
            sbuf_addf(err, "$: expected an array of %s, got %s", base,
                      jtype_name(v));
            rc = -1;
        } else {
            len = json_object_array_length(v);
            for (i = 0; i < len && rc == 0; i++) {
                sbuf_reset(&path);
                sbuf_addf(&path, "$[%zu]", i);
                rc = validate(json_object_array_get_idx(v, i), schema, &path,
                              err, 0);
            }
        }
    } else {
        rc = validate(v, schema, &path, err, 0);
    }
    sbuf_release(&path);
    free(base);
    return rc;
}

/*
 * The response schema for a 2xx answer to a request on @r with path
 * segments @segs: a new string, or NULL when the route says null.
 */
static char *
route_schema(const struct route *r, char **segs, size_t nsegs)
{
    const char *resp = r->response;
    const char *suffix;
    const char *param = NULL;
    size_t i;

    if (!resp)
        return NULL;
    if (strncmp(resp, "$type", 5) == 0)
        param = "{type}";
    else if (strncmp(resp, "$child", 6) == 0)
        param = "{child}";
    if (!param)
        return xstrdup(resp);
    suffix = resp + (param[1] == 't' ? 5 : 6);
    for (i = 0; i < r->nsegs && i < nsegs; i++) {
        if (strcmp(r->segs[i], param) == 0) {
            struct sbuf b = { 0 };

            sbuf_adds(&b, segs[i]);
            sbuf_adds(&b, suffix);
            return b.s;
        }
    }
    return xstrdup(resp); /* no such segment: lookup fails, reported */
}

/* ---- JSON paths and values --------------------------------------------- */

/*
 * Find @path in @root. Returns 1 when found (*@out may be NULL for a JSON
 * null), 0 when absent, -1 for a malformed path (reason in @err).
 */
static int
json_path_get(json_object *root, const char *path, json_object **out,
              struct sbuf *err)
{
    const char *p = path;
    json_object *cur = root;

    if (*p == '$')
        p++;
    if (*p == '.' && p[1] == '\0')
        p++;
    while (*p) {
        if (*p == '[' && p[1] == '"') {
            const char *e = strstr(p + 2, "\"]");
            char *key;
            bool ok;

            if (!e) {
                sbuf_addf(err, "bad path '%s': unterminated [\"", path);
                return -1;
            }
            key = xstrndup(p + 2, (size_t)(e - p - 2));
            ok = cur && json_object_is_type(cur, json_type_object) &&
                 json_object_object_get_ex(cur, key, &cur);
            free(key);
            if (!ok)
                return 0;
            p = e + 2;
        } else if (*p == '[') {
            char *end;
            long idx;

            errno = 0;
            idx = strtol(p + 1, &end, 10);
            if (errno || end == p + 1 || *end != ']' || idx < 0) {
                sbuf_addf(err, "bad path '%s': bad index", path);
                return -1;
            }
            if (!cur || !json_object_is_type(cur, json_type_array) ||
                (size_t)idx >= json_object_array_length(cur))
                return 0;
            cur = json_object_array_get_idx(cur, (size_t)idx);
            p = end + 1;
        } else {
            const char *s = *p == '.' ? p + 1 : p;
            size_t n = strcspn(s, ".[");
            char *key;
            bool ok;

            if (n == 0) {
                sbuf_addf(err, "bad path '%s': empty member name", path);
                return -1;
            }
            key = xstrndup(s, n);
            ok = cur && json_object_is_type(cur, json_type_object) &&
                 json_object_object_get_ex(cur, key, &cur);
            free(key);
            if (!ok)
                return 0;
            p = s + n;
        }
    }
    *out = cur;
    return 1;
}

/* JSON text of @v (borrowed until @v changes); "null" for NULL. */
static const char *
json_text(json_object *v)
{
    return v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
                                                     JSON_C_TO_STRING_NOSLASHESCAPE)
             : "null";
}

/* Does @v match the expectation text @want (see the file comment)? */
static bool
value_matches(json_object *v, const char *want)
{
    enum json_type t = v ? json_object_get_type(v) : json_type_null;

    if (want[0] == '~')
        return t == json_type_string &&
               strstr(json_object_get_string(v), want + 1) != NULL;
    if (want[0] == '"') {
        json_object *w = json_tokener_parse(want);
        bool ok = w && json_object_is_type(w, json_type_string) &&
                  t == json_type_string &&
                  strcmp(json_object_get_string(w),
                         json_object_get_string(v)) == 0;

        json_object_put(w);
        return ok;
    }
    switch (t) {
    case json_type_null:
        return strcmp(want, "null") == 0;
    case json_type_boolean:
        return strcmp(want, json_object_get_boolean(v) ? "true" : "false") ==
               0;
    case json_type_string:
        return strcmp(want, json_object_get_string(v)) == 0;
    case json_type_int: {
        char *end;
        long long w;

        errno = 0;
        w = strtoll(want, &end, 10);
        if (!errno && *want && !*end)
            return w == (long long)json_object_get_int64(v);
        /* "1.0" and the like */
        return *want && strtod(want, &end) == json_object_get_double(v) &&
               !*end;
    }
    case json_type_double: {
        char *end;
        double w = strtod(want, &end);

        return *want && !*end && w == json_object_get_double(v);
    }
    case json_type_object:
    case json_type_array: {
        json_object *w = json_tokener_parse(want);
        bool ok = w && json_object_equal(w, v);

        json_object_put(w);
        return ok;
    }
    }
    return false;
}

/* ---- variables ------------------------------------------------------------ */

/*
 * Replace ${NAME} in @in, appending to @out. 0, or -1 with the undefined
 * variable named in @err.
 */
static int
subst(const char *in, struct sbuf *out, struct sbuf *err)
{
    const char *p = in;

    while (*p) {
        const char *d = strstr(p, "${");
        const char *e;
        char *name;
        const char *val;

        if (!d) {
            sbuf_adds(out, p);
            break;
        }
        sbuf_add(out, p, (size_t)(d - p));
        e = strchr(d + 2, '}');
        if (!e) {
            sbuf_adds(out, d);
            break;
        }
        name = xstrndup(d + 2, (size_t)(e - d - 2));
        val = kv_get(&g.vars, name, false);
        if (!val) {
            sbuf_addf(err, "undefined variable ${%s}", name);
            free(name);
            return -1;
        }
        sbuf_adds(out, val);
        free(name);
        p = e + 1;
    }
    return 0;
}

/* subst() into a new string, or NULL with @err set. */
static char *
subst_dup(const char *in, struct sbuf *err)
{
    struct sbuf b = { 0 };

    if (subst(in, &b, err) < 0) {
        sbuf_release(&b);
        return NULL;
    }
    if (!b.s)
        return xstrdup("");
    return b.s;
}

static bool
valid_var_name(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++) {
        if (!isalnum((unsigned char)*s) && *s != '_')
            return false;
    }
    return true;
}

/* Reset the variables to the predefined ones (start of each file). */
static void
vars_reset(void)
{
    size_t i;

    kv_clear(&g.vars);
    kv_set(&g.vars, "BASE", g.rest_base);
    kv_set(&g.vars, "ORIGIN", g.origin);
    kv_set(&g.vars, "RAND", g.rand);
    for (i = 0; i < g.users.n; i++) {
        struct sbuf n = { 0 };

        sbuf_addf(&n, "PASS_%s", g.users.v[i].k);
        kv_set(&g.vars, n.s, g.users.v[i].v);
        sbuf_release(&n);
    }
    /* APITEST_VAR_NAME=value in the environment defines ${NAME} (e.g. the
     * fixture server's URL, from tests/api/run.sh). */
    for (i = 0; environ[i]; i++) {
        const char *e = environ[i], *eq = strchr(e, '=');
        static const char pfx[] = "APITEST_VAR_";
        char *name;

        if (!eq || strncmp(e, pfx, sizeof(pfx) - 1) != 0 ||
            eq == e + sizeof(pfx) - 1)
            continue;
        name = xstrndup(e + sizeof(pfx) - 1,
                        (size_t)(eq - e) - (sizeof(pfx) - 1));
        if (valid_var_name(name))
            kv_set(&g.vars, name, eq + 1);
        free(name);
    }
}

/* ---- blocks --------------------------------------------------------------- */

enum step_kind {
    ST_EXPECT,
    ST_EXPECT_NOT,
    ST_ABSENT,
    ST_EXISTS,
    ST_COUNT,
    ST_HEADER,
    ST_NO_HEADER,
    ST_BODY,
    ST_ROUTES,
    ST_CAPTURE,
    ST_CAPTURE_HEADER,
    ST_CAPTURE_COOKIE,
    ST_CAPTURE_COUNT,
};

/* One check or capture; @a and @b are raw (substituted when run). */
struct step {
    enum step_kind kind;
    char *a;
    char *b;
    int line;
};

struct block {
    char *name;
    const char *file;
    int line;
    char *method;
    char *target;
    char *auth;                /* NULL: the first --user */
    struct kvlist sets;
    struct kvlist headers;     /* name -> value */
    struct kvlist cookies;     /* name -> value */
    struct sbuf body;
    bool has_body;
    long body_size;            /* -1 unless body-size */
    int status[MAX_STATUSES];
    size_t nstatus;
    char *schema;
    long retry_s;              /* retry: repeat until the checks pass */
    struct step *steps;
    size_t nsteps;
    size_t capsteps;
    struct sbuf perr;          /* parse errors */
};

static void
block_init(struct block *b, const char *file, int line, const char *name)
{
    memset(b, 0, sizeof(*b));
    b->file = file;
    b->line = line;
    b->name = xstrdup(name);
    b->body_size = -1;
}

static void
block_release(struct block *b)
{
    size_t i;

    free(b->name);
    free(b->method);
    free(b->target);
    free(b->auth);
    kv_release(&b->sets);
    kv_release(&b->headers);
    kv_release(&b->cookies);
    sbuf_release(&b->body);
    free(b->schema);
    for (i = 0; i < b->nsteps; i++) {
        free(b->steps[i].a);
        free(b->steps[i].b);
    }
    free(b->steps);
    sbuf_release(&b->perr);
    memset(b, 0, sizeof(*b));
}

static void
block_step(struct block *b, enum step_kind kind, const char *a, const char *bb,
           int line)
{
    struct step *s;

    if (b->nsteps == b->capsteps) {
        b->capsteps = b->capsteps ? b->capsteps * 2 : 8;
        b->steps = xrealloc(b->steps, b->capsteps * sizeof(*b->steps));
    }
    s = &b->steps[b->nsteps++];
    s->kind = kind;
    s->a = a ? xstrdup(a) : NULL;
    s->b = bb ? xstrdup(bb) : NULL;
    s->line = line;
}

static bool
is_method(const char *w)
{
    const char *p;

    if (!*w)
        return false;
    for (p = w; *p; p++) {
        if (!isupper((unsigned char)*p))
            return false;
    }
    return true;
}

/*
 * Parse one directive line (keyword @kw, argument @arg) into @b. Problems
 * go to b->perr (the block then fails without sending anything).
 */
static void
block_parse_line(struct block *b, int line, const char *kw, const char *arg)
{
    char *w1 = NULL;
    const char *rest = "";
    bool has2 = split_word(arg, &w1, &rest) == 0 && *rest;

#define PERR(...)                                                             \
    do {                                                                      \
        sbuf_addf(&b->perr, "%s:%d: ", b->file, line);                        \
        sbuf_addf(&b->perr, __VA_ARGS__);                                     \
        sbuf_adds(&b->perr, "\n");                                            \
    } while (0)

    if (is_method(kw)) {
        if (b->method)
            PERR("a second request line in one block");
        else if (!*arg || strchr(arg, ' '))
            PERR("request line needs exactly one target: %s %s", kw, arg);
        else {
            b->method = xstrdup(kw);
            b->target = xstrdup(arg);
        }
    } else if (strcmp(kw, "auth") == 0) {
        if (!*arg || strchr(arg, ' '))
            PERR("auth needs one word: none, bad, cookie, USER or USER:PASS");
        else {
            free(b->auth);
            b->auth = xstrdup(arg);
        }
    } else if (strcmp(kw, "header") == 0) {
        const char *c = strchr(arg, ':');

        if (!c || c == arg)
            PERR("header needs 'Name: value'");
        else {
            char *name = xstrndup(arg, (size_t)(c - arg));

            rtrim(name);
            kv_add(&b->headers, name, skip_ws(c + 1));
            free(name);
        }
    } else if (strcmp(kw, "cookie") == 0) {
        const char *e = strchr(arg, '=');

        if (!e || e == arg)
            PERR("cookie needs NAME=VALUE");
        else {
            char *name = xstrndup(arg, (size_t)(e - arg));

            kv_add(&b->cookies, name, e + 1);
            free(name);
        }
    } else if (strcmp(kw, "body") == 0) {
        if (b->body_size >= 0)
            PERR("body and body-size in one block");
        if (b->has_body)
            sbuf_adds(&b->body, "\n");
        sbuf_adds(&b->body, arg);
        b->has_body = true;
    } else if (strcmp(kw, "body-size") == 0) {
        long n;

        if (!parse_long(arg, &n) || n < 12 || n > 256L * 1024 * 1024)
            PERR("body-size needs a number from 12 to 268435456");
        else if (b->has_body)
            PERR("body and body-size in one block");
        else
            b->body_size = n;
    } else if (strcmp(kw, "set") == 0) {
        if (!w1 || !valid_var_name(w1))
            PERR("set needs a variable name ([A-Za-z0-9_]+) and a value");
        else
            kv_add(&b->sets, w1, rest);
    } else if (strcmp(kw, "status") == 0) {
        const char *p = arg;

        b->nstatus = 0;
        while (*p) {
            char *w;
            long st;

            if (split_word(p, &w, &p) < 0)
                break;
            if (!parse_long(w, &st) || st < 100 || st > 599 ||
                b->nstatus == MAX_STATUSES)
                PERR("bad status '%s'", w);
            else
                b->status[b->nstatus++] = (int)st;
            free(w);
        }
        if (!b->nstatus)
            PERR("status needs at least one HTTP status");
    } else if (strcmp(kw, "retry") == 0) {
        long n;

        if (!parse_long(arg, &n) || n < 1 || n > REQUEST_TIMEOUT_S)
            PERR("retry needs a number of seconds from 1 to %d",
                 REQUEST_TIMEOUT_S);
        else
            b->retry_s = n;
    } else if (strcmp(kw, "schema") == 0) {
        if (!*arg || strchr(arg, ' '))
            PERR("schema needs one name (or none)");
        else {
            free(b->schema);
            b->schema = xstrdup(arg);
        }
    } else if (strcmp(kw, "expect") == 0 || strcmp(kw, "expect-not") == 0) {
        if (!has2)
            PERR("%s needs PATH VALUE", kw);
        else
            block_step(b, kw[6] ? ST_EXPECT_NOT : ST_EXPECT, w1, rest, line);
    } else if (strcmp(kw, "expect-absent") == 0 ||
               strcmp(kw, "expect-exists") == 0 ||
               strcmp(kw, "expect-routes") == 0) {
        if (!w1 || *rest) {
            PERR("%s needs one PATH", kw);
        } else {
            block_step(b, kw[7] == 'a' ? ST_ABSENT
                              : kw[7] == 'e' ? ST_EXISTS : ST_ROUTES,
                       w1, NULL, line);
        }
    } else if (strcmp(kw, "expect-count") == 0) {
        long n;

        if (w1 && !*rest && parse_long(w1, &n) && n >= 0)
            block_step(b, ST_COUNT, "$", w1, line);
        else if (has2 && parse_long(rest, &n) && n >= 0)
            block_step(b, ST_COUNT, w1, rest, line);
        else if (has2 && strstr(rest, "${"))
            block_step(b, ST_COUNT, w1, rest, line);
        else if (w1 && !*rest && strstr(w1, "${"))
            block_step(b, ST_COUNT, "$", w1, line);
        else
            PERR("expect-count needs [PATH] N");
    } else if (strcmp(kw, "expect-header") == 0) {
        if (!has2)
            PERR("expect-header needs NAME VALUE");
        else
            block_step(b, ST_HEADER, w1, rest, line);
    } else if (strcmp(kw, "expect-no-header") == 0) {
        if (!w1 || *rest)
            PERR("expect-no-header needs one NAME");
        else
            block_step(b, ST_NO_HEADER, w1, NULL, line);
    } else if (strcmp(kw, "expect-body") == 0) {
        if (!*arg)
            PERR("expect-body needs TEXT");
        else
            block_step(b, ST_BODY, arg, NULL, line);
    } else if (strcmp(kw, "capture") == 0 ||
               strcmp(kw, "capture-header") == 0 ||
               strcmp(kw, "capture-cookie") == 0) {
        if (!has2 || !valid_var_name(w1) || strchr(rest, ' ')) {
            PERR("%s needs VAR and one PATH or NAME", kw);
        } else {
            block_step(b, kw[7] == '\0' ? ST_CAPTURE
                              : kw[8] == 'h' ? ST_CAPTURE_HEADER
                                             : ST_CAPTURE_COOKIE,
                       w1, rest, line);
        }
    } else if (strcmp(kw, "capture-count") == 0) {
        if (!w1 || !valid_var_name(w1) || strchr(rest, ' '))
            PERR("capture-count needs VAR [PATH]");
        else
            block_step(b, ST_CAPTURE_COUNT, w1, *rest ? rest : "$", line);
    } else {
        PERR("unknown directive '%s'", kw);
    }
    free(w1);
#undef PERR
}

/* ---- HTTP ----------------------------------------------------------------- */

struct response {
    long status;
    struct sbuf body;
    bool too_big;
    struct kvlist headers;
    size_t header_bytes;
    bool headers_dropped;
    CURLcode rc;
    char errbuf[CURL_ERROR_SIZE];
    double seconds;
};

static size_t
on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    struct response *r = ud;
    size_t n = size * nmemb;
    char *line, *colon, *name;

    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        /* A new response (after 100 Continue): forget the old headers. */
        kv_clear(&r->headers);
        r->header_bytes = 0;
        return n;
    }
    r->header_bytes += n;
    if (r->header_bytes > MAX_HEADER_BYTES || r->headers.n >= MAX_HEADERS) {
        r->headers_dropped = true;
        return n;
    }
    line = xstrndup(data, n);
    rtrim(line);
    colon = strchr(line, ':');
    if (colon && colon != line) {
        name = xstrndup(line, (size_t)(colon - line));
        kv_add(&r->headers, name, skip_ws(colon + 1));
        free(name);
    }
    free(line);
    return n;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    struct response *r = ud;
    size_t n = size * nmemb;

    if (r->body.len + n > MAX_RESPONSE_BYTES) {
        r->too_big = true;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    sbuf_add(&r->body, data, n);
    return n;
}

static void
response_release(struct response *r)
{
    sbuf_release(&r->body);
    kv_release(&r->headers);
}

/* Remember cookies from every Set-Cookie; an empty or expired one is gone. */
static void
jar_update(const struct response *r)
{
    size_t i;

    for (i = 0; i < r->headers.n; i++) {
        const char *v = r->headers.v[i].v;
        const char *eq, *semi;
        char *name, *value, *attrs;
        bool expired;

        if (strcasecmp(r->headers.v[i].k, "Set-Cookie") != 0)
            continue;
        eq = strchr(v, '=');
        semi = strchr(v, ';');
        if (!eq || (semi && semi < eq))
            continue;
        name = xstrndup(v, (size_t)(eq - v));
        value = xstrndup(eq + 1, semi ? (size_t)(semi - eq - 1)
                                      : strlen(eq + 1));
        attrs = xstrdup(semi ? semi : "");
        {
            char *p;

            for (p = attrs; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        }
        expired = !*value || strstr(attrs, "max-age=0") ||
                  strstr(attrs, "max-age=-") ||
                  strstr(attrs, "expires=thu, 01 jan 1970");
        if (expired)
            kv_del(&g.jar, name);
        else
            kv_set(&g.jar, name, value);
        free(name);
        free(value);
        free(attrs);
    }
}

/* The value of Set-Cookie @name in @r (new string), or NULL. */
static char *
response_cookie(const struct response *r, const char *name)
{
    size_t i, n = strlen(name);

    for (i = 0; i < r->headers.n; i++) {
        const char *v = r->headers.v[i].v;

        if (strcasecmp(r->headers.v[i].k, "Set-Cookie") == 0 &&
            strncmp(v, name, n) == 0 && v[n] == '=')
            return xstrndup(v + n + 1, strcspn(v + n + 1, ";"));
    }
    return NULL;
}

/* A generated JSON body of exactly @n bytes (n >= 12). */
static void
make_body(struct sbuf *b, long n)
{
    static const char head[] = "{\"name\":\"";
    static const char tail[] = "\"}";
    long fill = n - (long)(sizeof(head) - 1) - (long)(sizeof(tail) - 1);
    char chunk[4096];

    memset(chunk, 'a', sizeof(chunk));
    sbuf_adds(b, head);
    while (fill > 0) {
        size_t k = fill > (long)sizeof(chunk) ? sizeof(chunk) : (size_t)fill;

        sbuf_add(b, chunk, k);
        fill -= (long)k;
    }
    sbuf_adds(b, tail);
}

/* Append @s to @diag, cut to DIAG_BODY_MAX bytes. */
static void
diag_text(struct sbuf *diag, const char *label, const char *s, size_t len)
{
    if (len <= DIAG_BODY_MAX) {
        sbuf_addf(diag, "%s: %.*s\n", label, (int)len, s);
    } else {
        sbuf_addf(diag, "%s (%zu bytes, first %d): %.*s\n", label, len,
                  DIAG_BODY_MAX, DIAG_BODY_MAX, s);
    }
}

/* ---- running a block ---------------------------------------------------- */

/*
 * Run one parsed block: send the request, check the answer, print its TAP
 * line. Diagnostics show credentials and cookies as sent: they are test
 * credentials of a throw-away daemon.
 */
static void
run_block(struct block *b)
{
    struct sbuf diag = { 0 }, err = { 0 }, url = { 0 }, body = { 0 };
    struct sbuf cookie = { 0 }, tname = { 0 };
    struct curl_slist *hdrs = NULL;
    struct response r;
    char *target = NULL, *auth = NULL, *path = NULL, *schema = NULL;
    char *segs[MAX_SEGMENTS];
    size_t nsegs = 0, i;
    struct route *route = NULL;
    json_object *json = NULL;
    bool ok = true, have_ctype = false, is_json = false;
    const char *user = NULL, *pass = NULL;
    struct timespec t0, t1, first;
    size_t diag_base;
    unsigned attempts = 0;

    memset(&r, 0, sizeof(r));
    sbuf_addf(&tname, "%s: %s", b->file, b->name);
    sbuf_addf(&diag, "at %s:%d\n", b->file, b->line);
    if (!b->method)
        sbuf_addf(&b->perr, "%s:%d: block has no request line\n", b->file,
                  b->line);
    if (!b->nstatus)
        sbuf_addf(&b->perr, "%s:%d: block has no status line\n", b->file,
                  b->line);
    if (b->retry_s && b->method && strcmp(b->method, "GET") != 0)
        sbuf_addf(&b->perr, "%s:%d: retry is for GET requests only\n",
                  b->file, b->line);
    if (b->perr.len) {
        sbuf_adds(&diag, sbuf_str(&b->perr));
        ok = false;
        goto done;
    }

    /* Block-level sets, then substitution of everything sent. */
    for (i = 0; i < b->sets.n; i++) {
        char *v = subst_dup(b->sets.v[i].v, &err);

        if (!v)
            goto fail_subst;
        kv_set(&g.vars, b->sets.v[i].k, v);
        free(v);
    }
    target = subst_dup(b->target, &err);
    if (!target)
        goto fail_subst;
    if (b->auth) {
        auth = subst_dup(b->auth, &err);
        if (!auth)
            goto fail_subst;
    }
    if (b->has_body && subst(sbuf_str(&b->body), &body, &err) < 0)
        goto fail_subst;
    if (b->body_size >= 0)
        make_body(&body, b->body_size);

    if (strncmp(target, "https://", 8) == 0 ||
        strncmp(target, "http://", 7) == 0) {
        sbuf_adds(&url, target);
    } else if (target[0] == '/') {
        sbuf_addf(&url, "%s%s", g.rest_base, target);
    } else {
        sbuf_addf(&diag, "target '%s' is neither /path nor a URL\n", target);
        ok = false;
        goto done;
    }

    /* Credentials. */
    if (!auth) {
        user = g.users.v[0].k;
        pass = g.users.v[0].v;
    } else if (strcmp(auth, "none") == 0 || strcmp(auth, "cookie") == 0) {
        /* nothing */
    } else if (strcmp(auth, "bad") == 0) {
        user = g.users.v[0].k;
        pass = "wrong-password-from-apitest";
    } else if (strchr(auth, ':')) {
        char *c = strchr(auth, ':');

        *c = '\0';
        user = auth;
        pass = c + 1;
    } else if (kv_get(&g.users, auth, false)) {
        user = auth;
        pass = kv_get(&g.users, auth, false);
    } else {
        sbuf_addf(&diag, "auth '%s': no such --user\n", auth);
        ok = false;
        goto done;
    }

    /* Headers and cookies. */
    for (i = 0; i < b->headers.n; i++) {
        char *v = subst_dup(b->headers.v[i].v, &err);
        struct sbuf h = { 0 };

        if (!v)
            goto fail_subst;
        if (*v)
            sbuf_addf(&h, "%s: %s", b->headers.v[i].k, v);
        else
            sbuf_addf(&h, "%s;", b->headers.v[i].k); /* curl: empty value */
        hdrs = curl_slist_append(hdrs, h.s);
        if (strcasecmp(b->headers.v[i].k, "Content-Type") == 0)
            have_ctype = true;
        sbuf_release(&h);
        free(v);
    }
    if (auth && strcmp(auth, "cookie") == 0) {
        for (i = 0; i < g.jar.n; i++)
            sbuf_addf(&cookie, "%s%s=%s", cookie.len ? "; " : "",
                      g.jar.v[i].k, g.jar.v[i].v);
    }
    for (i = 0; i < b->cookies.n; i++) {
        char *v = subst_dup(b->cookies.v[i].v, &err);

        if (!v)
            goto fail_subst;
        sbuf_addf(&cookie, "%s%s=%s", cookie.len ? "; " : "",
                  b->cookies.v[i].k, v);
        free(v);
    }
    if (cookie.len) {
        struct sbuf h = { 0 };

        sbuf_addf(&h, "Cookie: %s", cookie.s);
        hdrs = curl_slist_append(hdrs, h.s);
        sbuf_release(&h);
    }
    if (!have_ctype) {
        hdrs = curl_slist_append(hdrs, (b->has_body || b->body_size >= 0)
                                           ? "Content-Type: application/json"
                                           : "Content-Type:");
    }

    sbuf_addf(&diag, "request: %s %s (auth %s)%s%s\n", b->method, url.s,
              auth ? b->auth : g.users.v[0].k, cookie.len ? " cookie: " : "",
              sbuf_str(&cookie));
    for (i = 0; i < b->headers.n; i++)
        sbuf_addf(&diag, "request header: %s: %s\n", b->headers.v[i].k,
                  b->headers.v[i].v);
    if (b->has_body || b->body_size >= 0)
        diag_text(&diag, "request body", sbuf_str(&body), body.len);

    /* Send it (again, for retry, until the checks pass or time is up). */
    diag_base = diag.len;
    clock_gettime(CLOCK_MONOTONIC, &first);
 again:
    attempts++;
    curl_easy_reset(g.curl);
    curl_easy_setopt(g.curl, CURLOPT_URL, url.s);
    curl_easy_setopt(g.curl, CURLOPT_CAINFO, g.cacert);
    curl_easy_setopt(g.curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(g.curl, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(g.curl, CURLOPT_TIMEOUT, (long)REQUEST_TIMEOUT_S);
    curl_easy_setopt(g.curl, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
    curl_easy_setopt(g.curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(g.curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(g.curl, CURLOPT_ERRORBUFFER, r.errbuf);
    curl_easy_setopt(g.curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(g.curl, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(g.curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(g.curl, CURLOPT_WRITEDATA, &r);
    if (user) {
        curl_easy_setopt(g.curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(g.curl, CURLOPT_USERNAME, user);
        curl_easy_setopt(g.curl, CURLOPT_PASSWORD, pass);
    }
    if (strcmp(b->method, "GET") == 0 && !b->has_body && b->body_size < 0) {
        curl_easy_setopt(g.curl, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(b->method, "HEAD") == 0) {
        curl_easy_setopt(g.curl, CURLOPT_NOBODY, 1L);
    } else {
        if (strcmp(b->method, "POST") != 0)
            curl_easy_setopt(g.curl, CURLOPT_CUSTOMREQUEST, b->method);
        if (strcmp(b->method, "DELETE") != 0 || body.len) {
            curl_easy_setopt(g.curl, CURLOPT_POSTFIELDS, sbuf_str(&body));
            curl_easy_setopt(g.curl, CURLOPT_POSTFIELDSIZE_LARGE,
                             (curl_off_t)body.len);
        }
    }
    curl_easy_setopt(g.curl, CURLOPT_HTTPHEADER, hdrs);

    clock_gettime(CLOCK_MONOTONIC, &t0);
    r.rc = curl_easy_perform(g.curl);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r.seconds = (double)(t1.tv_sec - t0.tv_sec) +
                (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    curl_easy_getinfo(g.curl, CURLINFO_RESPONSE_CODE, &r.status);
    jar_update(&r);

    /* Coverage: every request that selects a route counts. */
    path = path_below_base(url.s);
    if (path) {
        route = route_match(b->method, path);
        if (route)
            route->hits++;
        if (split_path(path, segs, &nsegs) < 0)
            nsegs = 0;
    }

    if (r.too_big) {
        sbuf_addf(&diag, "response body larger than %d bytes\n",
                  MAX_RESPONSE_BYTES);
        ok = false;
        goto checked;
    }
    if (r.rc != CURLE_OK) {
        sbuf_addf(&diag, "transfer failed: %s: %s\n", curl_easy_strerror(r.rc),
                  r.errbuf[0] ? r.errbuf : "(no detail)");
        ok = false;
        goto checked;
    }
    sbuf_addf(&diag, "response: %ld in %.3f s\n", r.status, r.seconds);

    /* Status. */
    {
        bool st_ok = false;

        for (i = 0; i < b->nstatus; i++)
            st_ok = st_ok || r.status == b->status[i];
        if (!st_ok) {
            sbuf_adds(&diag, "FAIL status: expected");
            for (i = 0; i < b->nstatus; i++)
                sbuf_addf(&diag, " %d", b->status[i]);
            sbuf_addf(&diag, ", got %ld\n", r.status);
            ok = false;
        }
    }

    /* Body: JSON when there is one. */
    if (r.body.len) {
        struct json_tokener *tok = json_tokener_new();
        const char *ctype = kv_get(&r.headers, "Content-Type", true);

        json = json_tokener_parse_ex(tok, r.body.s, (int)r.body.len);
        if (json_tokener_get_error(tok) != json_tokener_success ||
            json_tokener_get_parse_end(tok) != r.body.len) {
            bool trailing_ws = json_tokener_get_error(tok) ==
                               json_tokener_success;
            size_t k;

            for (k = json_tokener_get_parse_end(tok); trailing_ws && k < r.body.len;
                 k++)
                trailing_ws = isspace((unsigned char)r.body.s[k]) != 0;
            if (!trailing_ws) {
                json_object_put(json);
                json = NULL;
            }
        }
        json_tokener_free(tok);
        is_json = json != NULL || (r.body.len == 4 &&
                                   memcmp(r.body.s, "null", 4) == 0);
        if (is_json && (!ctype || strncasecmp(ctype, "application/json",
                                              16) != 0)) {
            sbuf_addf(&diag, "FAIL Content-Type: expected application/json, "
                      "got %s\n", ctype ? ctype : "(none)");
            ok = false;
        }
    }

    /* Schema: errors are always Error; 2xx per the schema line or route. */
    if (r.status < 200 || r.status > 299) {
        if (r.status >= 400) {
            schema = xstrdup("Error");
        }
    } else if (b->schema) {
        schema = strcmp(b->schema, "none") == 0 ? NULL : xstrdup(b->schema);
    } else if (route) {
        schema = route_schema(route, segs, nsegs);
    } else {
        sbuf_addf(&diag, "FAIL schema: no route in routes.json matches %s %s "
                  "and the block names no schema\n", b->method,
                  path ? path : url.s);
        ok = false;
    }
    if (schema) {
        struct sbuf verr = { 0 };

        if (!is_json) {
            sbuf_addf(&diag, "FAIL schema %s: the body is not JSON\n", schema);
            ok = false;
        } else if (validate_named(json, schema, &verr) < 0) {
            sbuf_addf(&diag, "FAIL schema %s: %s\n", schema, verr.s);
            ok = false;
        }
        sbuf_release(&verr);
    }

    /* Checks and captures, in order. */
    for (i = 0; i < b->nsteps; i++) {
        struct step *s = &b->steps[i];
        char *a = NULL, *v = NULL;
        json_object *found = NULL;
        int rc = 0;

        sbuf_reset(&err);
        a = subst_dup(s->a, &err);
        if (a && s->b)
            v = subst_dup(s->b, &err);
        if (!a || (s->b && !v)) {
            sbuf_addf(&diag, "FAIL line %d: %s\n", s->line, err.s);
            ok = false;
            free(a);
            continue;
        }
        switch (s->kind) {
        case ST_EXPECT:
        case ST_EXPECT_NOT:
        case ST_ABSENT:
        case ST_EXISTS:
        case ST_COUNT:
        case ST_ROUTES:
        case ST_CAPTURE:
        case ST_CAPTURE_COUNT: {
            const char *p = s->kind == ST_CAPTURE ||
                            s->kind == ST_CAPTURE_COUNT ? v : a;

            if (!is_json) {
                sbuf_addf(&diag, "FAIL line %d: body is not JSON, cannot "
                          "look up '%s'\n", s->line, p);
                ok = false;
                break;
            }
            rc = json_path_get(json, p, &found, &err);
            if (rc < 0) {
                sbuf_addf(&diag, "FAIL line %d: %s\n", s->line, err.s);
                ok = false;
                break;
            }
            if (s->kind == ST_EXPECT) {
                if (!rc) {
                    sbuf_addf(&diag, "FAIL line %d: expect %s %s: path not "
                              "found\n", s->line, a, v);
                    ok = false;
                } else if (!value_matches(found, v)) {
                    sbuf_addf(&diag, "FAIL line %d: expect %s: wanted %s, "
                              "got %s\n", s->line, a, v, json_text(found));
                    ok = false;
                }
            } else if (s->kind == ST_EXPECT_NOT) {
                if (rc && value_matches(found, v)) {
                    sbuf_addf(&diag, "FAIL line %d: expect-not %s: got %s\n",
                              s->line, a, json_text(found));
                    ok = false;
                }
            } else if (s->kind == ST_ABSENT) {
                if (rc) {
                    sbuf_addf(&diag, "FAIL line %d: expect-absent %s: present "
                              "as %s\n", s->line, a, json_text(found));
                    ok = false;
                }
            } else if (s->kind == ST_EXISTS) {
                if (!rc) {
                    sbuf_addf(&diag, "FAIL line %d: expect-exists %s: absent\n",
                              s->line, a);
                    ok = false;
                }
            } else if (s->kind == ST_COUNT || s->kind == ST_CAPTURE_COUNT) {
                long want = -1;
                size_t have = 0;
                bool countable = rc && found &&
                    (json_object_is_type(found, json_type_array) ||
                     json_object_is_type(found, json_type_object));

                if (countable)
                    have = json_object_is_type(found, json_type_array)
                               ? json_object_array_length(found)
                               : (size_t)json_object_object_length(found);
                if (!countable) {
                    sbuf_addf(&diag, "FAIL line %d: %s is not an array or "
                              "object\n", s->line, p);
                    ok = false;
                } else if (s->kind == ST_CAPTURE_COUNT) {
                    struct sbuf n = { 0 };

                    sbuf_addf(&n, "%zu", have);
                    kv_set(&g.vars, a, n.s);
                    sbuf_release(&n);
                } else if (!parse_long(v, &want) || (size_t)want != have) {
                    sbuf_addf(&diag, "FAIL line %d: expect-count %s: wanted "
                              "%s, got %zu\n", s->line, a, v, have);
                    ok = false;
                }
            } else if (s->kind == ST_ROUTES) {
                size_t k, missing = 0;

                if (!rc || !found ||
                    !json_object_is_type(found, json_type_object)) {
                    sbuf_addf(&diag, "FAIL line %d: expect-routes %s: not an "
                              "object\n", s->line, a);
                    ok = false;
                    break;
                }
                for (k = 0; k < g.nroutes; k++) {
                    struct sbuf full = { 0 }, m = { 0 };
                    json_object *item = NULL;
                    const char *c;

                    sbuf_addf(&full, "%s%s", g.base_path, g.routes[k].path);
                    for (c = g.routes[k].method; *c; c++) {
                        char lc = (char)tolower((unsigned char)*c);

                        sbuf_add(&m, &lc, 1);
                    }
                    if (!json_object_object_get_ex(found, g.routes[k].path,
                                                   &item))
                        json_object_object_get_ex(found, full.s, &item);
                    if (!item || !json_object_is_type(item, json_type_object) ||
                        !json_object_object_get_ex(item, m.s, NULL)) {
                        sbuf_addf(&diag, "FAIL line %d: %s has no \"%s\" "
                                  "under \"%s\" (or \"%s\")\n", s->line, a,
                                  m.s, g.routes[k].path, full.s);
                        missing++;
                    }
                    sbuf_release(&full);
                    sbuf_release(&m);
                }
                if (missing)
                    ok = false;
            } else { /* ST_CAPTURE */
                if (!rc) {
                    sbuf_addf(&diag, "FAIL line %d: capture %s: path %s not "
                              "found\n", s->line, a, v);
                    ok = false;
                } else {
                    kv_set(&g.vars, a,
                           found && json_object_is_type(found,
                                                        json_type_string)
                               ? json_object_get_string(found)
                               : json_text(found));
                }
            }
            break;
        }
        case ST_HEADER: {
            size_t k;
            bool seen = false, matched = false;

            for (k = 0; k < r.headers.n; k++) {
                const char *hv = r.headers.v[k].v;

                if (strcasecmp(r.headers.v[k].k, a) != 0)
                    continue;
                seen = true;
                if (v[0] == '~' ? strstr(hv, v + 1) != NULL
                                : strcmp(hv, v) == 0)
                    matched = true;
            }
            if (!matched) {
                sbuf_addf(&diag, "FAIL line %d: expect-header %s %s: %s\n",
                          s->line, a, v,
                          seen ? "no value matches" : "header absent");
                for (k = 0; k < r.headers.n; k++) {
                    if (strcasecmp(r.headers.v[k].k, a) == 0)
                        sbuf_addf(&diag, "  got %s: %s\n", r.headers.v[k].k,
                                  r.headers.v[k].v);
                }
                ok = false;
            }
            break;
        }
        case ST_NO_HEADER: {
            const char *hv = kv_get(&r.headers, a, true);

            if (hv) {
                sbuf_addf(&diag, "FAIL line %d: expect-no-header %s: got %s\n",
                          s->line, a, hv);
                ok = false;
            }
            break;
        }
        case ST_BODY:
            if (!strstr(sbuf_str(&r.body), a)) {
                sbuf_addf(&diag, "FAIL line %d: expect-body: no '%s' in the "
                          "body\n", s->line, a);
                ok = false;
            }
            break;
        case ST_CAPTURE_HEADER: {
            const char *hv = kv_get(&r.headers, v, true);

            if (!hv) {
                sbuf_addf(&diag, "FAIL line %d: capture-header %s: no header "
                          "%s\n", s->line, a, v);
                ok = false;
            } else {
                kv_set(&g.vars, a, hv);
            }
            break;
        }
        case ST_CAPTURE_COOKIE: {
            char *cv = response_cookie(&r, v);

            if (!cv) {
                sbuf_addf(&diag, "FAIL line %d: capture-cookie %s: no "
                          "Set-Cookie %s\n", s->line, a, v);
                ok = false;
            } else {
                kv_set(&g.vars, a, cv);
            }
            free(cv);
            break;
        }
        }
        free(a);
        free(v);
    }

 checked:
    if (!ok && b->retry_s) {
        double spent = (double)(t1.tv_sec - first.tv_sec) +
                       (double)(t1.tv_nsec - first.tv_nsec) / 1e9;

        if (spent < (double)b->retry_s) {
            /* Forget this attempt entirely and ask again in 0.1 s. */
            struct timespec pause = { 0, 100 * 1000 * 1000 };

            json_object_put(json);
            json = NULL;
            free(schema);
            schema = NULL;
            free(path);
            path = NULL;
            free_segs(segs, nsegs);
            nsegs = 0;
            route = NULL;
            response_release(&r);
            memset(&r, 0, sizeof(r));
            diag.len = diag_base;
            diag.s[diag.len] = '\0';
            ok = true;
            is_json = false;
            nanosleep(&pause, NULL);
            goto again;
        }
        sbuf_addf(&diag, "(still failing after %u attempts in %.1f s)\n",
                  attempts, spent);
    }
    if (!ok || g.verbose) {
        for (i = 0; i < r.headers.n; i++)
            sbuf_addf(&diag, "response header: %s: %s\n", r.headers.v[i].k,
                      r.headers.v[i].v);
        if (r.headers_dropped)
            sbuf_adds(&diag, "(more response headers not kept)\n");
        diag_text(&diag, "response body", sbuf_str(&r.body), r.body.len);
    }
    goto done;

 fail_subst:
    sbuf_addf(&diag, "FAIL %s\n", err.s);
    ok = false;
 done:
    tap_result(ok, tname.s, &diag);
    json_object_put(json);
    curl_slist_free_all(hdrs);
    free_segs(segs, nsegs);
    response_release(&r);
    sbuf_release(&diag);
    sbuf_release(&err);
    sbuf_release(&url);
    sbuf_release(&body);
    sbuf_release(&cookie);
    sbuf_release(&tname);
    free(target);
    free(auth);
    free(path);
    free(schema);
}

/* ---- files ---------------------------------------------------------------- */

/* Run every block of @file in order. */
static void
run_file(const char *file)
{
    FILE *f = fopen(file, "r");
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0;
    struct block b;
    bool in_block = false;
    struct sbuf top = { 0 };

    vars_reset();
    if (!f) {
        struct sbuf diag = { 0 };

        sbuf_addf(&diag, "cannot open '%s': %s\n", file, strerror(errno));
        tap_result(false, file, &diag);
        sbuf_release(&diag);
        return;
    }
    while (getline(&line, &cap, f) >= 0) {
        const char *p;
        char *kw = NULL;
        const char *arg;

        lineno++;
        rtrim(line);
        p = skip_ws(line);
        if (!*p || *p == '#')
            continue;
        if (strncmp(p, "===", 3) == 0) {
            if (in_block) {
                run_block(&b);
                block_release(&b);
            }
            block_init(&b, file, lineno, skip_ws(p + 3));
            if (!*b.name)
                sbuf_addf(&b.perr, "%s:%d: block without a name\n", file,
                          lineno);
            in_block = true;
            continue;
        }
        if (split_word(p, &kw, &arg) < 0)
            continue;
        if (in_block) {
            block_parse_line(&b, lineno, kw, arg);
        } else if (strcmp(kw, "set") == 0) {
            char *name = NULL, *v = NULL;
            const char *rest = "";

            if (split_word(arg, &name, &rest) == 0 && valid_var_name(name)) {
                v = subst_dup(rest, &top);
            } else {
                sbuf_addf(&top, "%s:%d: set needs a variable name and a "
                          "value\n", file, lineno);
            }
            if (v) {
                kv_set(&g.vars, name, v);
                free(v);
            } else if (name && valid_var_name(name)) {
                sbuf_addf(&top, " (%s:%d)\n", file, lineno);
            }
            free(name);
        } else {
            sbuf_addf(&top, "%s:%d: '%s' outside a block (start one with "
                      "=== name)\n", file, lineno, kw);
        }
        free(kw);
    }
    if (ferror(f))
        sbuf_addf(&top, "%s: read error: %s\n", file, strerror(errno));
    if (in_block) {
        run_block(&b);
        block_release(&b);
    }
    if (top.len) {
        struct sbuf name = { 0 };

        sbuf_addf(&name, "%s: file-level lines", file);
        tap_result(false, name.s, &top);
        sbuf_release(&name);
    }
    sbuf_release(&top);
    free(line);
    fclose(f);
}

static void
usage(void)
{
    fprintf(stderr,
            "usage: apitest --base https://HOST:PORT --cacert FILE "
            "--routes routes.json\n"
            "               --schemas objects.json --user NAME:PASSWORD... "
            "[--coverage-out FILE]\n"
            "               [--no-coverage] [--verbose] FILE.t...\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    const char *routes = NULL, *schemas = NULL, *cov_out = NULL;
    bool coverage = true;
    int i, nfiles = 0;
    struct sbuf rest = { 0 };
    unsigned seed;

    signal(SIGPIPE, SIG_IGN);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--base") == 0 && i + 1 < argc) {
            g.origin = argv[++i];
        } else if (strcmp(a, "--cacert") == 0 && i + 1 < argc) {
            g.cacert = argv[++i];
        } else if (strcmp(a, "--routes") == 0 && i + 1 < argc) {
            routes = argv[++i];
        } else if (strcmp(a, "--schemas") == 0 && i + 1 < argc) {
            schemas = argv[++i];
        } else if (strcmp(a, "--coverage-out") == 0 && i + 1 < argc) {
            cov_out = argv[++i];
        } else if (strcmp(a, "--user") == 0 && i + 1 < argc) {
            const char *u = argv[++i];
            const char *c = strchr(u, ':');
            char *name;

            if (!c || c == u)
                die("--user needs NAME:PASSWORD, got '%s'", u);
            name = xstrndup(u, (size_t)(c - u));
            if (!valid_var_name(name) ||
                kv_find(&g.users, name, false) >= 0)
                die("--user '%s': bad or repeated name", name);
            kv_add(&g.users, name, c + 1);
            free(name);
        } else if (strcmp(a, "--no-coverage") == 0) {
            coverage = false;
        } else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
            g.verbose = true;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "apitest: unknown option '%s'\n", a);
            usage();
        } else {
            argv[nfiles++] = argv[i]; /* compact the file list in place */
        }
    }
    if (!g.origin || !g.cacert || !routes || !schemas || !g.users.n ||
        !nfiles)
        usage();
    {
        size_t n = strlen(g.origin);

        while (n > 0 && g.origin[n - 1] == '/')
            n--;
        g.origin = xstrndup(g.origin, n);
    }
    if (access(g.cacert, R_OK) != 0)
        die("cannot read CA certificate '%s': %s", g.cacert, strerror(errno));
    load_routes(routes);
    load_schemas(schemas);
    sbuf_addf(&rest, "%s%s", g.origin, g.base_path);
    g.rest_base = rest.s;
    seed = (unsigned)time(NULL) ^ ((unsigned)getpid() << 16);
    snprintf(g.rand, sizeof(g.rand), "%u%04u", (unsigned)getpid() % 100000,
             (unsigned)(rand_r(&seed) % 10000));

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        die("curl_global_init failed");
    g.curl = curl_easy_init();
    if (!g.curl)
        die("curl_easy_init failed");

    for (i = 0; i < nfiles; i++)
        run_file(argv[i]);
    if (coverage)
        coverage_report(cov_out);
    printf("1..%u\n", g.ntests);
    if (g.nfailed)
        printf("# %u of %u failed\n", g.nfailed, g.ntests);
    fflush(stdout);

    curl_easy_cleanup(g.curl);
    curl_global_cleanup();
    kv_release(&g.users);
    kv_release(&g.vars);
    kv_release(&g.jar);
    for (i = 0; i < (int)g.nroutes; i++) {
        free(g.routes[i].method);
        free(g.routes[i].path);
        free(g.routes[i].response);
        free_segs(g.routes[i].segs, g.routes[i].nsegs);
    }
    free(g.routes);
    json_object_put(g.routes_json);
    json_object_put(g.objects_json);
    free(g.rest_base);
    return g.nfailed ? 1 : 0;
}
