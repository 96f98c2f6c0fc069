/*
 * response.c - the one err -> HTTP status table, and every MHD response
 * this server sends goes out through http_response_queue().
 *
 * DESIGN: errors leave as JSON {"errorCode": err_code_str(), "message"}
 * with the status from status_table[], so a client sees the same stable
 * code whatever layer detected the problem. http_response_queue() is the
 * single exit: it adds the headers every response carries (no-store,
 * nosniff, DENY, and HSTS over TLS) so no path can forget them, streams
 * included. The functions here keep no state and run on MHD's internal
 * thread; a stream's reader state lives in wait.c and belongs to its MHD
 * response. The only failure MHD reports when building a response is out
 * of memory, which is fatal like every other OOM in ovmmd.
 */
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "http/http_int.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"

LOG_MODULE("http");

/* Most bytes a stream's read() is asked for at once. */
#define HTTP_STREAM_BLOCK (16 * 1024)

/*
 * The one table. Every code has an entry; the unit test checks that none
 * is left at 0. Codes a client can fix come out as 4xx, the Manager's own
 * trouble as 5xx.
 */
static const unsigned status_table[ERR__COUNT] = {
    [ERR_OK] = MHD_HTTP_OK,
    [ERR_INTERNAL] = MHD_HTTP_INTERNAL_SERVER_ERROR,
    [ERR_INVALID] = MHD_HTTP_BAD_REQUEST,
    [ERR_NOT_FOUND] = MHD_HTTP_NOT_FOUND,
    [ERR_EXISTS] = MHD_HTTP_CONFLICT,
    [ERR_CONFLICT] = MHD_HTTP_CONFLICT,
    [ERR_STATE] = MHD_HTTP_CONFLICT,
    [ERR_AUTH] = MHD_HTTP_UNAUTHORIZED,
    [ERR_ACCOUNT_LOCKED] = MHD_HTTP_UNAUTHORIZED,
    [ERR_FORBIDDEN] = MHD_HTTP_FORBIDDEN,
    [ERR_CSRF] = MHD_HTTP_FORBIDDEN,
    [ERR_METHOD] = MHD_HTTP_METHOD_NOT_ALLOWED,
    [ERR_TOO_LARGE] = MHD_HTTP_CONTENT_TOO_LARGE,
    [ERR_NOT_ACCEPTABLE] = MHD_HTTP_NOT_ACCEPTABLE,
    [ERR_UNSUPPORTED_TYPE] = MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
    [ERR_UNAVAILABLE] = MHD_HTTP_SERVICE_UNAVAILABLE,
    [ERR_UNSUPPORTED] = MHD_HTTP_NOT_IMPLEMENTED,
    [ERR_TIMEOUT] = MHD_HTTP_GATEWAY_TIMEOUT,
    [ERR_IO] = MHD_HTTP_INTERNAL_SERVER_ERROR,
    [ERR_DB] = MHD_HTTP_INTERNAL_SERVER_ERROR,
    [ERR_CONFIG] = MHD_HTTP_INTERNAL_SERVER_ERROR,
    [ERR_BUSY] = MHD_HTTP_CONFLICT,
    [ERR_ABORTED] = MHD_HTTP_CONFLICT,
    [ERR_UNREACHABLE] = MHD_HTTP_BAD_GATEWAY,
};

unsigned
http_status_for(enum err_code code)
{
    if ((unsigned)code >= ERR__COUNT || status_table[code] == 0)
        return MHD_HTTP_INTERNAL_SERVER_ERROR;
    return status_table[code];
}

void
http_response_header(struct MHD_Response *r, const char *name,
                     const char *value)
{
    /* MHD refuses only names or values with CR/LF/NUL, and OOM. Ours come
     * from code or from api/, which never copies raw input into them. */
    if (MHD_add_response_header(r, name, value) != MHD_YES)
        log_warnx("cannot add response header '%s'", name);
}

struct MHD_Response *
http_response_buffer(const char *body, size_t len, const char *content_type)
{
    struct MHD_Response *r;

    r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
                                        MHD_RESPMEM_MUST_COPY);
    if (!r)
        fatalx("out of memory creating an HTTP response");
    if (content_type)
        http_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    return r;
}

static struct MHD_Response *
response_json(json_object *body)
{
    const char *text = json_to_text(body);

    return http_response_buffer(text, strlen(text), "application/json");
}

struct MHD_Response *
http_response_error(enum err_code code, const char *message, unsigned *status)
{
    AUTOPTR(json_object) json_object *o = json_object_new_object();
    struct MHD_Response *r;

    json_object_object_add(o, "errorCode",
                           json_object_new_string(err_code_str(code)));
    json_object_object_add(o, "message",
                           json_object_new_string(message ? message : ""));
    r = response_json(o);
    *status = http_status_for(code);
    if (*status == MHD_HTTP_UNAUTHORIZED)
        http_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                             "Basic realm=\"ovmm\"");
    else if (*status == MHD_HTTP_SERVICE_UNAVAILABLE)
        http_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "5");
    return r;
}

/* The response for api_dispatch() returning -1: the thread's error. */
static struct MHD_Response *
response_from_err(unsigned *status)
{
    const struct err *e = err_get();

    if (e->code == ERR_OK) {
        /* A handler failed without saying why: a bug in api/. */
        log_errorx("request failed without an error (bug in api/)");
        return http_response_error(ERR_INTERNAL, "internal error", status);
    }
    /* 500s are our own failures: keep where they were detected. */
    if (http_status_for(e->code) == MHD_HTTP_INTERNAL_SERVER_ERROR)
        log_errorx("%s (%s at %s:%d in %s)", e->message, err_code_str(e->code),
                   e->file ? e->file : "?", e->line, e->func ? e->func : "?");
    return http_response_error(e->code, e->message, status);
}

/* Add the handler's headers of @resp to @r, and the Basic challenge a
 * 401 needs when the handler gave none. */
static void
response_add_headers(struct MHD_Response *r, const struct api_resp *resp,
                     unsigned status)
{
    bool has_auth_header = false;
    size_t i;

    for (i = 0; i < resp->nheaders && i < API_MAX_HEADERS; i++) {
        if (!resp->headers[i].name || !resp->headers[i].value)
            continue;
        if (strcasecmp(resp->headers[i].name,
                       MHD_HTTP_HEADER_WWW_AUTHENTICATE) == 0)
            has_auth_header = true;
        http_response_header(r, resp->headers[i].name,
                             resp->headers[i].value);
    }
    /* Oracle VM clients expect a Basic challenge on every 401. */
    if (status == MHD_HTTP_UNAUTHORIZED && !has_auth_header)
        http_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                             "Basic realm=\"ovmm\"");
}

/* A stream left in @resp that will not be sent (an error, a bug in api/)
 * is still ours to end: http/ takes every stream over. */
static void
response_drop_stream(struct api_resp *resp)
{
    struct api_stream *st = resp->stream;
    void (*release)(void *cls);

    resp->stream = NULL;
    if (!st)
        return;
    release = st->free;
    if (release)
        release(st->cls);
    xfree(st);
}

static bool
status_valid(int status)
{
    if (status >= 100 && status <= 599)
        return true;
    log_errorx("handler answered with invalid status %d (bug in api/)",
               status);
    return false;
}

struct MHD_Response *
http_response_from_api(int rc, struct api_resp *resp, unsigned *status)
{
    struct MHD_Response *r;

    response_drop_stream(resp);
    if (rc < 0) {
        r = response_from_err(status);
        goto cleanup;
    }
    if (!status_valid(resp->status)) {
        r = http_response_error(ERR_INTERNAL, "internal error", status);
        goto cleanup;
    }
    if (resp->body)
        r = response_json(resp->body);
    else if (resp->text)
        r = http_response_buffer(resp->text, strlen(resp->text),
                                 resp->content_type ? resp->content_type
                                     : "text/plain; charset=utf-8");
    else
        r = http_response_buffer("", 0, NULL);
    *status = (unsigned)resp->status;
    response_add_headers(r, resp, *status);

 cleanup:
    api_resp_release(resp);
    return r;
}

struct MHD_Response *
http_response_stream(struct http_stream *st, struct api_resp *resp,
                     unsigned *status)
{
    struct MHD_Response *r;

    response_drop_stream(resp);
    if (!status_valid(resp->status)) {
        http_stream_free(st);
        r = http_response_error(ERR_INTERNAL, "internal error", status);
        goto cleanup;
    }
    /* Unknown size: MHD sends it chunked (HTTP/1.1) and calls the reader
     * whenever the socket can take more. From here the response owns @st;
     * MHD runs http_stream_free() once, when it drops the response. */
    r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN,
                                          HTTP_STREAM_BLOCK,
                                          http_stream_read, st,
                                          http_stream_free);
    if (!r)
        fatalx("out of memory creating an HTTP response");
    http_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                         resp->stream_type ? resp->stream_type
                                           : "text/event-stream");
    /* A reverse proxy (nginx) must pass events on as they come. */
    http_response_header(r, "X-Accel-Buffering", "no");
    *status = (unsigned)resp->status;
    response_add_headers(r, resp, *status);

 cleanup:
    api_resp_release(resp);
    return r;
}

/* Does the request come from the console (no Basic challenge wanted)? */
static bool
from_browser(struct MHD_Connection *c)
{
    const char *accept;

    if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Requested-With"))
        return true;
    if (MHD_lookup_connection_value(c, MHD_COOKIE_KIND, API_SESSION_COOKIE))
        return true;
    accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                         MHD_HTTP_HEADER_ACCEPT);
    return accept && strstr(accept, "text/event-stream");
}

enum MHD_Result
http_response_queue(struct MHD_Connection *c, struct http_request *req,
                    unsigned status, struct MHD_Response *r, bool tls)
{
    enum MHD_Result ret;

    http_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    http_response_header(r, "X-Content-Type-Options", "nosniff");
    http_response_header(r, "X-Frame-Options", "DENY");
    if (tls)
        http_response_header(r, MHD_HTTP_HEADER_STRICT_TRANSPORT_SECURITY,
                             "max-age=31536000");
    /*
     * A script's 401 carries the Basic challenge Oracle VM clients expect.
     * The console's requests drop it, so the browser shows our log-in
     * page instead of its own password dialog: its fetch() calls say
     * X-Requested-With, and its EventSource (which cannot set headers)
     * asks for text/event-stream and sends the session cookie.
     */
    if (status == MHD_HTTP_UNAUTHORIZED && from_browser(c))
        MHD_del_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Basic realm=\"ovmm\"");
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    if (req) {
        req->answered = true;
        req->status = status;
    }
    if (ret != MHD_YES)
        log_warnx("cannot queue a %u response", status);
    return ret;
}
