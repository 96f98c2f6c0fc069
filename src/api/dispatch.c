/*
 * dispatch.c - route lookup, negotiation, authentication, authorization.
 *
 * DESIGN: api_dispatch() is the single gate every REST request passes:
 *   route (404/405) -> Accept (406) -> credentials (401) -> CSRF and the
 *   permission table (403) -> Manager RUNNING for changes (503) ->
 *   Content-Type of bodies (415) -> handler.
 * The order matters: nothing about an object is revealed before the
 * caller is authenticated, and a change is refused before any handler
 * code runs. Runs on HTTP threads; `run_state` is atomic and `conf` is
 * immutable after api_init(), so no locks are needed here.
 */
#include <sodium.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>

#include "api/api_int.h"
#include "db/db.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/log.h"
#include "util/str.h"

LOG_MODULE("api");

/* Most path segments a route or request may have. */
#define API_MAX_SEGMENTS 8

static struct api_conf conf;           /* immutable after api_init() */
static atomic_int run_state = RUN_STARTING;

static const char *const run_state_names[] = { "STARTING", "RUNNING",
                                               "STOPPING" };
static const char *const method_names[] = { "GET", "POST", "PUT", "DELETE",
                                            "?" };

int
api_init(const struct api_conf *c)
{
    conf = *c;
    if (conf.max_list_limit <= 0)
        conf.max_list_limit = 1000;
    if (conf.default_list_limit <= 0)
        conf.default_list_limit = 100;
    return 0;
}

void
api_shutdown(void)
{
    memset(&conf, 0, sizeof(conf));
}

const struct api_conf *
api_conf(void)
{
    return &conf;
}

int
api_set_run_state(enum api_run_state state)
{
    if (conf.db && db_manager_set_state(conf.db, run_state_names[state]) < 0)
        return -1;
    atomic_store(&run_state, state);
    log_info("Manager is %s", run_state_names[state]);
    return 0;
}

enum api_run_state
api_get_run_state(void)
{
    return atomic_load(&run_state);
}

const char *
api_query(const struct api_req *req, const char *key)
{
    size_t i;

    for (i = 0; i < req->nquery; i++) {
        if (strcmp(req->query[i].key, key) == 0)
            return req->query[i].value;
    }
    return NULL;
}

void
api_resp_header(struct api_resp *resp, const char *name, const char *value)
{
    if (NEVER(resp->nheaders >= API_MAX_HEADERS))
        return;
    resp->headers[resp->nheaders].name = xstrdup(name);
    resp->headers[resp->nheaders].value = xstrdup(value);
    resp->nheaders++;
}

void
api_resp_release(struct api_resp *resp)
{
    size_t i;

    json_object_put(resp->body);
    resp->body = NULL;
    xfree(resp->text);
    resp->text = NULL;
    for (i = 0; i < resp->nheaders; i++) {
        xfree(resp->headers[i].name);
        xfree(resp->headers[i].value);
    }
    resp->nheaders = 0;
}

void
api_reply(struct api_resp *resp, json_object *body)
{
    json_object_put(resp->body);
    resp->body = body;
    resp->status = 200;
}

/* Split @path (after the base) into at most API_MAX_SEGMENTS segments,
 * pointing into @copy. Returns the count, or -1 when there are too many
 * or an empty segment (a double slash). A trailing slash is ignored. */
static int
split_path(char *copy, const char *segs[API_MAX_SEGMENTS])
{
    int n = 0;
    char *p = copy;

    if (*p == '/')
        p++;
    if (!*p)
        return 0;
    for (;;) {
        char *slash = strchr(p, '/');

        if (n == API_MAX_SEGMENTS || (slash == p))
            return -1;
        segs[n++] = p;
        if (!slash)
            break;
        *slash = '\0';
        p = slash + 1;
        if (!*p)
            break;
    }
    return n;
}

int
api_segment(const struct api_req *req, size_t i, char *out, size_t size)
{
    const char *p = req->path + strlen(API_BASE);
    size_t k, len;

    for (k = 0;; k++) {
        const char *end;

        if (*p == '/')
            p++;
        if (!*p)
            break;
        end = strchr(p, '/');
        len = end ? (size_t)(end - p) : strlen(p);
        if (k == i) {
            if (len >= size) {
                err_set(ERR_NOT_FOUND, "path segment too long");
                return -1;
            }
            memcpy(out, p, len);
            out[len] = '\0';
            return 0;
        }
        if (!end)
            break;
        p = end;
    }
    err_set(ERR_NOT_FOUND, "no path segment %zu", i);
    return -1;
}

const struct model_type *
api_req_type(const struct api_req *req)
{
    const struct model_type *t;
    char name[128];

    if (api_segment(req, 0, name, sizeof(name)) < 0)
        return NULL;
    t = model_type_find(name);
    if (!t)
        err_set(ERR_NOT_FOUND, "unknown object type '%s'", name);
    return t;
}

json_object *
api_body_object(const struct api_req *req)
{
    json_object *o = json_parse(req->body, req->body_len);

    if (!o)
        return NULL;
    if (!json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        err_set(ERR_INVALID, "the request body must be a JSON object");
        return NULL;
    }
    return o;
}

/*
 * Find the route for @req. Among the routes with the request's method
 * whose pattern matches the path, the most specific shape wins: literal
 * segments beat parameters, comparing left to right (so PUT /Manager/{id}
 * does not hide GET /{type}/{id}). When the path matches only routes of
 * other methods, the answer is 405 naming them.
 */
static const struct api_route *
route_find(struct api_req *req, const char *const segs[], int n)
{
    const struct api_route *hit = NULL;
    const char *psegs[API_MAX_SEGMENTS];
    char allow[64] = "";
    unsigned hit_score = 0, seen = 0;
    bool any = false;
    size_t i;
    int pn, k;

    for (i = 0; i < api_nroutes; i++) {
        const struct api_route *r = &api_routes[i];
        char *AUTOFREE pcopy = xstrdup(r->path);
        unsigned score = 0;
        bool match = true;

        pn = split_path(pcopy, psegs);
        if (pn != n)
            continue;
        for (k = 0; k < n && match; k++) {
            if (psegs[k][0] == '{')
                continue;
            if (strcmp(psegs[k], segs[k]) == 0)
                score |= 1u << (API_MAX_SEGMENTS - 1 - k);
            else
                match = false;
        }
        if (!match)
            continue;
        any = true;
        if (!(seen & (1u << r->method))) {
            seen |= 1u << r->method;
            if (allow[0])
                strncat(allow, ", ", sizeof(allow) - strlen(allow) - 1);
            strncat(allow, method_names[r->method],
                    sizeof(allow) - strlen(allow) - 1);
        }
        if (r->method != req->method || (hit && score <= hit_score))
            continue;
        hit = r;
        hit_score = score;
        /* The chosen route's parameters point into the caller's copy. */
        req->nparams = 0;
        for (k = 0; k < n; k++) {
            if (psegs[k][0] == '{' && req->nparams < API_MAX_PARAMS)
                req->params[req->nparams++] = segs[k];
        }
    }
    if (!any) {
        err_set(ERR_NOT_FOUND, "no such resource '%s'", req->path);
        return NULL;
    }
    if (!hit) {
        err_set(ERR_METHOD, "method %s is not allowed on '%s' (allowed: %s)",
                req->method_str ? req->method_str : "?", req->path, allow);
        return NULL;
    }
    return hit;
}

/* Is media range @p (@len bytes) one that covers @type ("a/b")? */
static bool
range_covers(const char *p, size_t len, const char *type)
{
    size_t tl = strlen(type), major = strcspn(type, "/");

    if (len == tl && strncasecmp(p, type, tl) == 0)
        return true;
    if (len == major + 2 && strncasecmp(p, type, major + 1) == 0 &&
        p[major + 1] == '*')
        return true;
    return len == 3 && strncmp(p, "*/*", 3) == 0;
}

/* Does the Accept header allow an answer of @type? Absent means yes. */
static bool
accepts(const char *accept, const char *type)
{
    const char *p = accept;

    if (!accept || !*accept)
        return true;
    while (*p) {
        size_t len;

        while (*p == ' ' || *p == ',')
            p++;
        len = strcspn(p, ";,");
        if (range_covers(p, len, type))
            return true;
        p += strcspn(p, ",");
    }
    return false;
}

/* The media type @route answers with: the SSE stream is the only route
 * that is not JSON (its errors still are). */
static const char *
route_media_type(const struct api_route *route)
{
    return route->handler == api_event_stream ? "text/event-stream"
                                              : "application/json";
}

/* Authenticate with the HTTP Basic header @hdr. */
static int
auth_basic(const char *hdr, struct auth_identity *ident)
{
    unsigned char raw[1024];
    size_t rawlen = 0;
    const char *b64 = hdr + 6;
    char *colon;

    while (*b64 == ' ')
        b64++;
    if (strlen(b64) > 1300 ||
        sodium_base642bin(raw, sizeof(raw) - 1, b64, strlen(b64), " \t", &rawlen,
                          NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
        err_set(ERR_AUTH, "malformed HTTP Basic credentials");
        return -1;
    }
    raw[rawlen] = '\0';
    if (memchr(raw, '\0', rawlen) || !(colon = strchr((char *)raw, ':'))) {
        sodium_memzero(raw, sizeof(raw));
        err_set(ERR_AUTH, "malformed HTTP Basic credentials");
        return -1;
    }
    *colon = '\0';
    if (auth_login((char *)raw, colon + 1, ident) < 0) {
        sodium_memzero(raw, sizeof(raw));
        return -1;
    }
    sodium_memzero(raw, sizeof(raw));
    return 0;
}

static int
authenticate(struct api_req *req)
{
    if (req->authorization && strncasecmp(req->authorization, "Basic ", 6) == 0)
        return auth_basic(req->authorization, &req->ident);
    if (req->authorization) {
        err_set(ERR_AUTH, "unsupported authorization scheme; use HTTP Basic "
                          "or a session cookie");
        return -1;
    }
    if (req->session && *req->session)
        return auth_session_check(req->session, &req->ident);
    err_set(ERR_AUTH, "authentication required");
    return -1;
}

/* Build "https://host/ovm/core/wsapi/rest" for absolute uris. */
static void
set_base_uri(struct api_req *req)
{
    const char *host = req->host;
    size_t i;

    if (host) {
        for (i = 0; host[i]; i++) {
            char c = host[i];

            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || strchr(".-:[]", c)))
                break;
        }
        if (host[i] || i == 0 || i > 255)
            host = NULL;
    }
    if (!host)
        host = conf.default_host ? conf.default_host : "localhost";
    snprintf(req->base_uri, sizeof(req->base_uri), "%s://%s%s",
             req->tls ? "https" : "http", host, API_BASE);
}

int
api_dispatch(struct api_req *req, struct api_resp *resp)
{
    const struct api_route *r;
    const char *p;
    char *AUTOFREE copy = NULL;
    const char *segs[API_MAX_SEGMENTS];
    int n;

    resp->status = 200;
    if (!str_has_prefix(req->path, API_BASE)) {
        err_set(ERR_NOT_FOUND, "no such resource '%s'", req->path);
        return -1;
    }
    p = req->path + strlen(API_BASE);
    if (*p && *p != '/') {
        err_set(ERR_NOT_FOUND, "no such resource '%s'", req->path);
        return -1;
    }
    /* The split copy lives until the handler returns: params point in. */
    copy = xstrdup(p);
    n = split_path(copy, segs);
    if (n < 0) {
        err_set(ERR_NOT_FOUND, "no such resource '%s'", req->path);
        return -1;
    }
    r = route_find(req, segs, n);
    if (!r)
        return -1;
    req->route = r;

    if (!accepts(req->accept, route_media_type(r)) &&
        !accepts(req->accept, "application/json")) {
        err_set(ERR_NOT_ACCEPTABLE, "this resource answers only in %s; "
                                    "send 'Accept: %s' (got '%s')",
                route_media_type(r), route_media_type(r),
                req->accept);
        return -1;
    }
    set_base_uri(req);
    if (r->perm != PERM_PUBLIC) {
        if (authenticate(req) < 0)
            return -1;
        if (r->change && req->ident.via_session &&
            (!req->csrf || !str_secret_eq(req->csrf, req->ident.csrf))) {
            err_set(ERR_CSRF, "a change made with a session cookie needs the "
                              "session's token in the " API_CSRF_HEADER
                              " header");
            return -1;
        }
        if (!auth_allowed(req->ident.role, r->perm)) {
            err_set(ERR_FORBIDDEN, "user '%s' (role %s) may not %s '%s'",
                    req->ident.name, auth_role_str(req->ident.role),
                    method_names[req->method], req->path);
            return -1;
        }
    }
    if (r->change && atomic_load(&run_state) != RUN_RUNNING) {
        err_set(ERR_UNAVAILABLE, "the Manager is %s; changes are refused "
                                 "until it is RUNNING",
                run_state_names[atomic_load(&run_state)]);
        return -1;
    }
    if (req->body_len > 0 && req->content_type &&
        strncasecmp(req->content_type, "application/json", 16) != 0) {
        err_set(ERR_UNSUPPORTED_TYPE, "request bodies must be "
                                      "application/json, not '%s'",
                req->content_type);
        return -1;
    }
    return r->handler(req, resp);
}
