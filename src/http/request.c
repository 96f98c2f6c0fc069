/*
 * request.c - assemble one HTTP request and route it: the REST API, the
 * console's static files, the redirect at "/", or 404.
 *
 * DESIGN: libmicrohttpd calls us several times per request on its
 * internal thread: http_request_begin() (the URI log callback) allocates
 * a `struct http_request` with a fresh id before the headers are parsed;
 * the first access-handler call checks Content-Length against max_body
 * and answers 413 at once when it is larger, without reading the body;
 * the next calls append the body to a bounded `struct buf` (streamed or
 * chunked bodies that pass the limit are discarded and answered 413; a
 * client that keeps sending long after that has the connection closed);
 * the last call (no more data) routes the request. A response can only be
 * queued on the first or the last call, never between. When the handler
 * asks to wait (a long-poll), the last call queues nothing and suspends
 * the connection (wait.c); MHD calls the handler again with no data once
 * it is resumed, and the same request -- the body kept in its buffer, the
 * api_req rebuilt from the connection -- is dispatched again with
 * `resumed` one higher, until the handler answers. A stream is queued like
 * any response; its reader suspends by itself. The state lives until
 * http_request_completed(), which logs one line per request (a long-poll
 * is one request: its final status and total time) and frees it. Every
 * callback sets the thread's log context to "req <id>" and clears it
 * before returning, because one thread serves all connections. The request
 * counter is the only shared state here, and it is atomic.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "http/http_int.h"
#include "util/alloc.h"
#include "util/autoptr.h"
#include "util/log.h"
#include "util/str.h"

LOG_MODULE("http");

/* How many body bytes past max_body we read and drop to deliver the 413
 * before we give up on the client and close the connection. */
#define HTTP_DISCARD_MAX (1024 * 1024)
/* The header an SSE client sends when it reconnects. */
#define HTTP_LAST_EVENT_ID "Last-Event-ID"

static atomic_uint_fast64_t next_request_id = 1;

void *
http_request_begin(void *cls, const char *uri, struct MHD_Connection *c)
{
    const struct http_server *s = cls;
    struct http_request *req = xcalloc(1, sizeof(*req));

    (void)c;
    req->id = (uint64_t)atomic_fetch_add(&next_request_id, 1);
    req->start_ms = time_mono_ms();
    req->raw_uri = xstrdup(uri ? uri : "");
    buf_init(&req->body, s->max_body);
    return req;
}

/* Copy @s into @out for a log line, replacing control bytes with '?' so a
 * decoded path cannot forge log lines. */
static const char *
log_safe(const char *s, char *out, size_t size)
{
    size_t i;

    str_copy(out, s ? s : "-", size);
    for (i = 0; out[i]; i++) {
        if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
            out[i] = '?';
    }
    return out;
}

static const char *
termination_str(enum MHD_RequestTerminationCode toe)
{
    switch (toe) {
    case MHD_REQUEST_TERMINATED_COMPLETED_OK:
        return "completed";
    case MHD_REQUEST_TERMINATED_WITH_ERROR:
        return "error";
    case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
        return "timed out";
    case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
        return "server shut down";
    case MHD_REQUEST_TERMINATED_READ_ERROR:
        return "read error";
    case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
        return "client closed";
    default:
        return "aborted";
    }
}

void
http_request_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                       enum MHD_RequestTerminationCode toe)
{
    struct http_request *req = *con_cls;
    const union MHD_ConnectionInfo *ci;
    char method[16], path[256];
    AUTOFREE char *raw_path = NULL;
    long long ms;

    (void)cls;
    if (!req)
        return;
    if (!req->status) {
        /* MHD answered by itself (a malformed request, say). */
        ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS);
        if (ci)
            req->status = ci->http_status;
    }
    log_set_context("req %llu", (unsigned long long)req->id);
    ms = (long long)(time_mono_ms() - req->start_ms);
    log_safe(req->method, method, sizeof(method));
    /* The path as sent: shows what MHD's decoding would hide (%00). */
    raw_path = xstrndup(req->raw_uri, strcspn(req->raw_uri, "?"));
    log_safe(raw_path, path, sizeof(path));
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        log_info("%s %s %u %lld ms%s%s", method, path, req->status, ms,
                 req->user[0] ? " user " : "", req->user);
    else
        log_info("%s %s %u %lld ms%s%s (%s)", method, path, req->status, ms,
                 req->user[0] ? " user " : "", req->user,
                 termination_str(toe));
    log_clear_context();
    /* The connection is not suspended (MHD completes a request only
     * while it runs it), so the entry can go. */
    http_wait_free(req->wait);
    buf_release(&req->body);
    xfree(req->raw_uri);
    xfree(req->method);
    xfree(req->path);
    xfree(req);
    *con_cls = NULL;
}

bool
http_uri_has_nul(const char *raw)
{
    const char *p;

    for (p = raw; *p && *p != '?'; p++) {
        if (p[0] == '%' && p[1] == '0' && p[2] == '0')
            return true;
    }
    return false;
}

/* True when @path is @prefix or lies under it ("/a" matches "/a", "/a/b"
 * but not "/ab"). */
static bool
path_under(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);

    return strncmp(path, prefix, n) == 0 &&
           (path[n] == '\0' || path[n] == '/');
}

static enum MHD_Result
answer_error(struct MHD_Connection *c, struct http_request *req, bool tls,
             enum err_code code, const char *message)
{
    unsigned status;
    struct MHD_Response *r = http_response_error(code, message, &status);

    return http_response_queue(c, req, status, r, tls);
}

static enum MHD_Result
answer_too_large(struct MHD_Connection *c, struct http_request *req,
                 bool tls, size_t max)
{
    AUTOFREE char *msg = xasprintf("request body exceeds the limit of %zu "
                                   "bytes", max);

    return answer_error(c, req, tls, ERR_TOO_LARGE, msg);
}

static enum api_method
method_from_str(const char *m)
{
    if (strcmp(m, MHD_HTTP_METHOD_GET) == 0)
        return API_GET;
    if (strcmp(m, MHD_HTTP_METHOD_POST) == 0)
        return API_POST;
    if (strcmp(m, MHD_HTTP_METHOD_PUT) == 0)
        return API_PUT;
    if (strcmp(m, MHD_HTTP_METHOD_DELETE) == 0)
        return API_DELETE;
    return API_OTHER;
}

struct query_fill {
    struct api_req *ar;
    size_t count;               /* all arguments seen, even past the cap */
};

static enum MHD_Result
query_iter(void *cls, enum MHD_ValueKind kind, const char *key,
           const char *value)
{
    struct query_fill *qf = cls;

    (void)kind;
    if (qf->count < API_MAX_QUERY) {
        qf->ar->query[qf->count].key = key;
        /* "?flag" has no value; handlers see it as empty. */
        qf->ar->query[qf->count].value = value ? value : "";
        qf->ar->nquery = qf->count + 1;
    }
    qf->count++;
    return MHD_YES;
}

/* The peer's address as text into @out ("?" when unknown). */
static void
remote_addr(struct MHD_Connection *c, char *out, size_t size)
{
    const union MHD_ConnectionInfo *ci;
    const struct sockaddr *sa;
    socklen_t len;

    str_copy(out, "?", size);
    ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return;
    sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        len = sizeof(struct sockaddr_in);
    else if (sa->sa_family == AF_INET6)
        len = sizeof(struct sockaddr_in6);
    else
        return;
    if (getnameinfo(sa, len, out, (socklen_t)size, NULL, 0, NI_NUMERICHOST))
        str_copy(out, "?", size);
}

/*
 * Fill @ar from the connection and the request state, as on every
 * dispatch of the request: the strings are borrowed from MHD and @req
 * (@addr receives the peer address). -1 when the query has more than
 * API_MAX_QUERY parameters; *@nquery receives their number.
 */
static int
api_req_fill(const struct http_server *s, struct http_request *req,
             struct MHD_Connection *c, struct api_req *ar, char *addr,
             size_t addr_size, size_t *nquery)
{
    struct query_fill qf;

    memset(ar, 0, sizeof(*ar));
    qf.ar = ar;
    qf.count = 0;
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, query_iter, &qf);
    *nquery = qf.count;
    if (qf.count > API_MAX_QUERY)
        return -1;
    remote_addr(c, addr, addr_size);
    ar->id = req->id;
    ar->method = method_from_str(req->method);
    ar->method_str = req->method;
    ar->path = req->path;
    ar->body = req->body.data;
    ar->body_len = req->body.len;
    ar->content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                           MHD_HTTP_HEADER_CONTENT_TYPE);
    ar->accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                             MHD_HTTP_HEADER_ACCEPT);
    ar->authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                            MHD_HTTP_HEADER_AUTHORIZATION);
    ar->csrf = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                           API_CSRF_HEADER);
    ar->host = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                           MHD_HTTP_HEADER_HOST);
    ar->session = MHD_lookup_connection_value(c, MHD_COOKIE_KIND,
                                              API_SESSION_COOKIE);
    ar->last_event_id = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                    HTTP_LAST_EVENT_ID);
    ar->remote_addr = addr;
    ar->tls = s->tls;
    ar->arrival_ms = req->start_ms;
    ar->resumed = req->resumed;
    ar->no_wait = http_waits_stopping(s->waits);
    return 0;
}

/*
 * Hand a request under API_BASE to api_dispatch(), on the last call and
 * again on every call after a wait. The answer is queued, or -- a
 * long-poll -- the connection is suspended and MHD_YES returned with
 * nothing queued; MHD calls us again once wait.c resumes it.
 */
static enum MHD_Result
answer_api(const struct http_server *s, struct http_request *req,
           struct MHD_Connection *c)
{
    struct api_req ar;
    struct api_resp resp;
    struct MHD_Response *r;
    char addr[INET6_ADDRSTRLEN + 1];
    char key[sizeof(resp.wait_key)];
    bool late = false;
    int64_t deadline;
    uint64_t seq;
    unsigned status;
    size_t nquery;
    int rc;

    if (req->waiting) {
        /* Resumed: by a publish, the deadline, or the server stopping. */
        req->waiting = false;
        req->resumed++;
        http_wait_woken(req->wait);
    }
    for (;;) {
        if (api_req_fill(s, req, c, &ar, addr, sizeof(addr), &nquery) < 0) {
            AUTOFREE char *msg = xasprintf("too many query parameters (%zu, "
                                           "at most %d)", nquery,
                                           API_MAX_QUERY);

            return answer_error(c, req, s->tls, ERR_INVALID, msg);
        }
        memset(&resp, 0, sizeof(resp));
        resp.status = MHD_HTTP_OK;
        /* Sampled before the handler looks at the database, so a publish
         * during the dispatch stops the suspend below. */
        seq = http_waits_seq(s->waits);
        err_clear();
        rc = api_dispatch(&ar, &resp);
        if (ar.ident.name[0])
            str_copy(req->user, ar.ident.name, sizeof(req->user));
        if (rc == 0 && resp.stream) {
            struct http_stream *st;

            st = http_stream_new(s->waits, c, req->id, resp.stream);
            resp.stream = NULL;
            r = http_response_stream(st, &resp, &status);
            return http_response_queue(c, req, status, r, s->tls);
        }
        if (rc < 0 || !resp.wait_until_ms || resp.body || resp.text)
            break;

        /* A long-poll: the handler has nothing to say yet. */
        deadline = resp.wait_until_ms;
        str_copy(key, resp.wait_key, sizeof(key));
        api_resp_release(&resp);
        if (ar.no_wait) {
            log_errorx("handler waits although told not to (bug in api/)");
            return answer_error(c, req, s->tls, ERR_UNAVAILABLE,
                                "the Manager is stopping");
        }
        if (deadline <= time_mono_ms()) {
            /* The deadline passed while the handler ran: once more, so it
             * sees that and answers; a second past deadline in a row is
             * a bug (it would spin). */
            if (late) {
                log_errorx("handler waits past its deadline (bug in api/)");
                return answer_error(c, req, s->tls, ERR_INTERNAL,
                                    "internal error");
            }
            late = true;
            req->resumed++;
            continue;
        }
        late = false;
        if (!req->wait)
            req->wait = http_wait_new(s->waits, c, req->id, false);
        if (http_wait_suspend(req->wait, key, deadline, seq)) {
            log_debug("waiting for '%s' until +%lld ms", key[0] ? key : "*",
                      (long long)(deadline - time_mono_ms()));
            req->waiting = true;
            return MHD_YES;
        }
        /* A publish came during the dispatch, the deadline came since the
         * check above, or we are stopping: dispatch again at once. */
        req->resumed++;
    }
    r = http_response_from_api(rc, &resp, &status);
    return http_response_queue(c, req, status, r, s->tls);
}

/* The last call: the whole body is in. Route the request. */
static enum MHD_Result
request_finish(const struct http_server *s, struct http_request *req,
               struct MHD_Connection *c)
{
    struct MHD_Response *r;
    unsigned status;
    bool has_nul = http_uri_has_nul(req->raw_uri);

    if (req->too_large)
        return answer_too_large(c, req, s->tls, s->max_body);
    if (path_under(req->path, HTTP_CONSOLE_PATH)) {
        r = http_static_response(s, req->method, req->path, has_nul, &status);
        return http_response_queue(c, req, status, r, s->tls);
    }
    if (has_nul)
        return answer_error(c, req, s->tls, ERR_INVALID,
                            "request path contains a NUL byte");
    if (path_under(req->path, API_BASE))
        return answer_api(s, req, c);
    if (strcmp(req->path, "/") == 0) {
        static const char body[] = "{\"location\":\"" HTTP_CONSOLE_PATH
                                   "/\"}";

        r = http_response_buffer(body, sizeof(body) - 1, "application/json");
        http_response_header(r, MHD_HTTP_HEADER_LOCATION,
                             HTTP_CONSOLE_PATH "/");
        return http_response_queue(c, req, MHD_HTTP_FOUND, r, s->tls);
    }
    {
        AUTOFREE char *msg = xasprintf("no such path '%s'", req->path);

        return answer_error(c, req, s->tls, ERR_NOT_FOUND, msg);
    }
}

/* The first call: headers are in, the body is not. */
static enum MHD_Result
request_start(const struct http_server *s, struct http_request *req,
              struct MHD_Connection *c, const char *url, const char *method)
{
    const char *cl;
    unsigned long long len;
    char *end = NULL;

    req->started = true;
    req->method = xstrdup(method);
    req->path = xstrdup(url);
    cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        errno = 0;
        len = strtoull(cl, &end, 10);
        /* MHD has validated the header; refuse what we cannot read. */
        if (errno || end == cl || len > s->max_body)
            return answer_too_large(c, req, s->tls, s->max_body);
    }
    return MHD_YES;
}

/* A piece of the body. */
static enum MHD_Result
request_body(struct http_request *req, const char *data, size_t *size)
{
    size_t n = *size;

    *size = 0;
    if (req->answered)
        return MHD_YES;
    if (req->too_large) {
        req->discarded += n;
        if (req->discarded > HTTP_DISCARD_MAX) {
            log_warnx("closing connection: request body keeps coming after "
                      "exceeding the limit of %zu bytes", req->body.max);
            return MHD_NO;
        }
        return MHD_YES;
    }
    if (buf_append(&req->body, data, n) < 0) {
        req->too_large = true;
        req->discarded = n;
        buf_release(&req->body);
        err_clear();
    }
    return MHD_YES;
}

enum MHD_Result
http_request_handle(void *cls, struct MHD_Connection *c, const char *url,
                    const char *method, const char *version,
                    const char *upload_data, size_t *upload_data_size,
                    void **con_cls)
{
    const struct http_server *s = cls;
    struct http_request *req = *con_cls;
    enum MHD_Result ret;

    (void)version;
    if (!req) {
        /* MHD always calls the URI log callback first; stay safe anyway. */
        req = http_request_begin(cls, url, c);
        *con_cls = req;
    }
    log_set_context("req %llu", (unsigned long long)req->id);
    if (!req->started)
        ret = request_start(s, req, c, url, method);
    else if (*upload_data_size)
        ret = request_body(req, upload_data, upload_data_size);
    else if (req->answered)
        ret = MHD_YES;
    else
        ret = request_finish(s, req, c);
    log_clear_context();
    return ret;
}
