/*
 * http_int.h - what the files of http/ share with each other, and nobody
 * else: the server object, the per-request state and the response helpers.
 *
 * DESIGN: server.c owns the daemons and the copied configuration;
 * request.c assembles one request at a time per connection and routes it;
 * response.c is the only place that turns errors and api_resp into MHD
 * responses and adds the headers every response carries; static.c serves
 * web_root; wait.c keeps the suspended long-polls and streams and wakes
 * them. All request callbacks run on a libmicrohttpd internal thread;
 * the server object is immutable after http_server_start() returns, except
 * `quiesced`, which only the thread that calls quiesce/stop touches, and
 * the wait table, which has its own lock.
 */
#ifndef OVMM_HTTP_INT_H
#define OVMM_HTTP_INT_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "http/http.h"
#include "util/buf.h"
#include "util/err.h"

struct api_resp;
struct api_stream;
struct http_wait;
struct http_waits;
struct http_stream;

/* Path prefix of the browser console (static files). */
#define HTTP_CONSOLE_PATH "/ovm/console"

struct http_server {
    struct MHD_Daemon *daemon;   /* immutable after start */
    struct MHD_Daemon *redirect; /* plain-HTTP redirector, or NULL */
    uint16_t port;               /* bound port of daemon; immutable */
    uint16_t redirect_port;      /* bound port of redirect; immutable */
    bool tls;                    /* daemon speaks HTTPS; immutable */
    bool quiesced;               /* owner thread only */
    size_t max_body;             /* immutable */
    char *listen;                /* copied config strings; immutable */
    char *http_listen;
    char *web_root;              /* NULL: no console */
    char *listen_host;           /* host part of listen, IPv6 in brackets */
    char *cert_pem;              /* in-memory PEM for MHD; NULL without TLS */
    char *key_pem;
    struct http_waits *waits;    /* pointer immutable; the table locks */
};

/* Per-request state, the MHD `con_cls`. Owned by request.c. */
struct http_request {
    uint64_t id;                 /* process-unique, for log lines */
    int64_t start_ms;            /* monotonic start time */
    char *raw_uri;               /* request target as sent (owned) */
    char *method;                /* copied on the first call (owned) */
    char *path;                  /* decoded path, copied (owned) */
    bool started;                /* the access handler has seen it */
    bool too_large;              /* body passed max_body: discarding */
    bool answered;               /* a response was queued */
    size_t discarded;            /* body bytes dropped after too_large */
    unsigned status;             /* the status queued, 0 before */
    struct buf body;             /* bounded by max_body, kept across waits */
    char user[256];              /* authenticated user, "" if unknown */
    struct http_wait *wait;      /* long-poll entry (owned), or NULL */
    unsigned resumed;            /* dispatches after a wait so far */
    bool waiting;                /* suspended by the access handler */
};

/* --- request.c --- */

/* MHD_OPTION_URI_LOG_CALLBACK: allocate the request state (@cls unused). */
void *http_request_begin(void *cls, const char *uri, struct MHD_Connection *c);
/* MHD_OPTION_NOTIFY_COMPLETED: log the request and free its state. */
void http_request_completed(void *cls, struct MHD_Connection *c,
                            void **con_cls,
                            enum MHD_RequestTerminationCode toe);
/* The access handler of the main daemon; @cls is the struct http_server. */
enum MHD_Result http_request_handle(void *cls, struct MHD_Connection *c,
                                    const char *url, const char *method,
                                    const char *version,
                                    const char *upload_data,
                                    size_t *upload_data_size,
                                    void **con_cls);
/* True when @raw (a request target as sent) encodes a NUL in its path. */
bool http_uri_has_nul(const char *raw);

/* --- response.c --- */

/*
 * A JSON error response {"errorCode", "message"} for @code, with the
 * headers its status needs (WWW-Authenticate on 401, Retry-After on 503).
 * *@status receives the status. The caller queues it with
 * http_response_queue(). Never NULL (MHD failures are fatal: OOM).
 */
struct MHD_Response *http_response_error(enum err_code code,
                                         const char *message,
                                         unsigned *status);
/*
 * The response for api_dispatch() having returned @rc with @resp: the
 * thread's err_get() when @rc is -1, @resp otherwise. Always releases
 * @resp with api_resp_release(), and ends a stream left in it (its free
 * callback, then xfree): streams go through http_response_stream(). Logs
 * internal errors (500).
 */
struct MHD_Response *http_response_from_api(int rc, struct api_resp *resp,
                                            unsigned *status);
/* A response with a copy of @len bytes of @body and @content_type. */
struct MHD_Response *http_response_buffer(const char *body, size_t len,
                                          const char *content_type);
/* Add a header; aborts on failure (only OOM or a bad name can fail). */
void http_response_header(struct MHD_Response *r, const char *name,
                          const char *value);
/*
 * Add the headers every response carries (no-store, nosniff, DENY; HSTS
 * when @tls), queue @r with @status on @c and drop our reference.
 * Records the status in @req (may be NULL). MHD_YES or MHD_NO.
 */
enum MHD_Result http_response_queue(struct MHD_Connection *c,
                                    struct http_request *req,
                                    unsigned status, struct MHD_Response *r,
                                    bool tls);

/*
 * The response for a handler's stream @st (made by http_stream_new()):
 * chunked, of unknown length, with resp->stream_type, X-Accel-Buffering
 * off and resp's status and headers. Releases @resp (whose stream was
 * already taken); the response owns @st from here on.
 */
struct MHD_Response *http_response_stream(struct http_stream *st,
                                          struct api_resp *resp,
                                          unsigned *status);

/* --- wait.c --- */

/*
 * The table of suspended long-polls and streams of one server, with its
 * timer thread, subscribed to notify_publish(). NULL with err set when no
 * notification subscriber slot is free. Main thread; free with
 * http_waits_free() after the daemon stopped.
 */
struct http_waits *http_waits_new(void);
/* Publishes seen so far: sample it before dispatching or reading and hand
 * it to http_wait_suspend(). Any thread. */
uint64_t http_waits_seq(struct http_waits *t);
/* True once http_waits_stop() ran: nothing may wait any more. */
bool http_waits_stopping(struct http_waits *t);
/* Mark the table stopping and resume every suspended connection. Any
 * thread; idempotent; accepts NULL. */
void http_waits_stop(struct http_waits *t);
/* Wait until no long-poll or stream is left, at most @timeout_ms. Call
 * after http_waits_stop(), never on an MHD thread. Accepts NULL. */
void http_waits_drain(struct http_waits *t, int64_t timeout_ms);
/* Unsubscribe, stop the timer and free. Call after MHD_stop_daemon().
 * Accepts NULL. */
void http_waits_free(struct http_waits *t);

/*
 * A table entry for the request on @c (@id for logs); @any_key: every
 * publish wakes it (streams). Caller frees it with http_wait_free() before
 * the connection goes away (NOTIFY_COMPLETED, or the response's end).
 */
struct http_wait *http_wait_new(struct http_waits *t,
                                struct MHD_Connection *c, uint64_t id,
                                bool any_key);
void http_wait_free(struct http_wait *w);
/*
 * Suspend @w's connection until notify_publish() names @key (any key when
 * "" or for streams) or until @deadline_ms (CLOCK_MONOTONIC ms, 0 = none)
 * passes. Refused -- false, the caller runs again at once -- when a publish
 * came after @seq was sampled, when the deadline already passed or when
 * the table is stopping. Call on the connection's thread, from the access
 * handler or the content reader, and return from it without queueing.
 */
bool http_wait_suspend(struct http_wait *w, const char *key,
                       int64_t deadline_ms, uint64_t seq);
/* MHD runs the request again after a suspend: true when the deadline
 * woke it (not a publish or stop). Connection's thread. */
bool http_wait_woken(struct http_wait *w);

/* The reader state for @api on @c. @api (an xmalloc'd struct) is taken
 * over: http_stream_free() runs its free callback on its cls once, then
 * xfree()s @api. */
struct http_stream *http_stream_new(struct http_waits *t,
                                    struct MHD_Connection *c, uint64_t id,
                                    struct api_stream *api);
/* MHD_ContentReaderCallback of a stream (@cls: struct http_stream). */
ssize_t http_stream_read(void *cls, uint64_t pos, char *buf, size_t max);
/* MHD_ContentReaderFreeCallback: ends the stream, frees @cls. */
void http_stream_free(void *cls);

/* --- static.c --- */

/*
 * The response for a request under HTTP_CONSOLE_PATH: the file, or a JSON
 * error (404 for anything outside web_root or not a regular file, 405 for
 * methods other than GET and HEAD). *@status receives the status.
 */
struct MHD_Response *http_static_response(const struct http_server *s,
                                          const char *method,
                                          const char *path, bool has_nul,
                                          unsigned *status);

#endif
