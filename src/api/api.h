/*
 * api.h - transport-neutral REST handlers and the dispatcher.
 *
 * DESIGN: http/ turns an HTTP request into a `struct api_req` (no MHD
 * types cross this line), calls api_dispatch(), and turns the filled
 * `struct api_resp` -- or the thread's err_get() when it returns -1 --
 * into an HTTP response. api_dispatch() owns everything between: route
 * lookup (the table generated from schema/api/routes.json), content
 * negotiation, authentication, CSRF, the permission table, the
 * Manager-must-be-RUNNING rule for changes, then the handler. Handlers
 * read from db/ or (later) submit jobs; they never call a hypervisor and
 * never wait. Called from HTTP threads; all state here is either
 * immutable after api_init() or atomic.
 */
#ifndef OVMM_API_H
#define OVMM_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "auth/auth.h"
#include "util/json.h"

struct db;
struct api_route;

/* REST base path of the Oracle VM Web Services API. */
#define API_BASE "/ovm/core/wsapi/rest"
/* Name of the browser session cookie. */
#define API_SESSION_COOKIE "OVMSESSION"
/* Header carrying the CSRF token on cookie-authenticated changes. */
#define API_CSRF_HEADER "X-CSRF-Token"
/* Most query parameters / path parameters a request may carry. */
#define API_MAX_QUERY 32
#define API_MAX_PARAMS 4
#define API_MAX_HEADERS 4

enum api_method { API_GET, API_POST, API_PUT, API_DELETE, API_OTHER };

struct api_kv {
    const char *key;
    const char *value;
};

/* One request. All strings are borrowed from http/ for the call. */
struct api_req {
    uint64_t id;               /* request id, for logs */
    enum api_method method;
    const char *method_str;    /* as sent, for messages */
    const char *path;          /* URL-decoded path without the query */
    struct api_kv query[API_MAX_QUERY];
    size_t nquery;
    const char *body;          /* NUL-terminated; NULL when none */
    size_t body_len;
    const char *content_type;  /* NULL when absent */
    const char *accept;        /* NULL when absent */
    const char *authorization; /* raw Authorization header, or NULL */
    const char *session;       /* value of the session cookie, or NULL */
    const char *csrf;          /* X-CSRF-Token header, or NULL */
    const char *host;          /* Host header, or NULL */
    const char *remote_addr;   /* peer address as text */
    const char *last_event_id; /* Last-Event-ID header (SSE), or NULL */
    bool tls;                  /* arrived over HTTPS */
    int64_t arrival_ms;        /* CLOCK_MONOTONIC ms of first arrival; the
                                  same on every dispatch of one request */
    unsigned resumed;          /* times dispatched again after a wait */
    bool no_wait;              /* http/ is stopping: answer now, no wait */

    /* Filled by api_dispatch() for the handler. */
    const struct api_route *route;
    const char *params[API_MAX_PARAMS]; /* path parameters, in order */
    size_t nparams;
    struct auth_identity ident; /* valid unless the route is public */
    char base_uri[320];         /* "https://host:port/ovm/core/wsapi/rest" */
};

/*
 * A streamed body (SSE). http/ sends it chunked and calls read() for more
 * whenever the client can take it; read() returns the bytes written into
 * @buf (at most @max), 0 when it has nothing now -- http/ then suspends
 * the connection until notify_publish() or until heartbeat_ms passed, and
 * calls read() again with @heartbeat true in the latter case --, or -1 to
 * end the stream. When the request is over http/ calls free(cls) once and
 * then xfree()s the struct api_stream itself (allocate it with xcalloc).
 * read() runs on an HTTP thread, never concurrently for one stream.
 */
struct api_stream {
    ssize_t (*read)(void *cls, char *buf, size_t max, bool heartbeat);
    void (*free)(void *cls);
    void *cls;
    int64_t heartbeat_ms;
};

/* The answer. Released with api_resp_release(). */
struct api_resp {
    int status;                /* 200 unless the handler says otherwise */
    json_object *body;         /* JSON body (owned), or NULL */
    char *text;                /* a non-JSON body (owned), or NULL */
    const char *content_type;  /* for text; static string */
    struct {
        char *name;            /* owned */
        char *value;           /* owned */
    } headers[API_MAX_HEADERS];
    size_t nheaders;
    /*
     * Long-poll: when wait_until_ms (CLOCK_MONOTONIC ms) is non-zero and
     * there is no body, http/ answers nothing yet: it suspends the
     * connection (no thread is held) and dispatches the same request
     * again (req->resumed + 1) when notify_publish() names wait_key (any
     * key when wait_key is empty) or when wait_until_ms passes. The
     * handler decides again each time, so it must set a wait only while
     * the deadline is still ahead.
     */
    int64_t wait_until_ms;
    char wait_key[64];
    /* Streamed body instead of body/text (taken over by http/). */
    struct api_stream *stream;
    const char *stream_type;   /* Content-Type of the stream; static */
};

/* A handler. 0 with @resp filled, or -1 with err_set(). */
typedef int (*api_handler_fn)(struct api_req *req, struct api_resp *resp);

struct api_route {
    enum api_method method;
    const char *path;          /* pattern, "{x}" matches one segment */
    api_handler_fn handler;
    enum auth_perm perm;
    bool change;               /* changes state: 503 unless RUNNING, CSRF */
    const char *name;          /* handler name, for logs and openapi */
};

/* Generated from schema/api/routes.json (build/gen/routes.c). */
extern const struct api_route api_routes[];
extern const size_t api_nroutes;

struct api_conf {
    struct db *db;             /* borrowed; outlives api */
    const char *default_host;  /* host:port for uris when Host is absent */
    int64_t session_lifetime_s; /* cookie Max-Age */
    int64_t max_list_limit;    /* largest ?limit= (1000) */
    int64_t default_list_limit;/* default page for extension lists (100) */
    int64_t job_wait_max;      /* longest ?wait= on GET /Job/{id}, seconds */
    bool job_diagnostics;      /* POST /Job/diagnostic enabled */
    const char *hv_uri_template; /* hv_uri_template: "xen+tls://{host}/system" */
    const char *sim_dir;       /* <data>/sim when simulating, else NULL */
    const char *agent_login;   /* agent_login: user name for agents */
    const char *default_agent_password; /* "" : none */
    /* Server power jobs (copied into each job's arguments). */
    int64_t ipmi_timeout_ms;   /* one ipmitool run */
    int ipmi_cipher_suite;     /* ipmitool -C; -1: ipmitool's choice */
    int64_t power_confirm_ms;  /* wait for the new chassis power state */
    const char *wol_address;   /* Wake-on-LAN target address */
    int wol_port;              /* Wake-on-LAN UDP port */
    /* Imports (docs/STORAGE.md), copied into each import job's args. */
    const char *import_allow;  /* CIDR allow-list, "" none */
    int64_t import_max_bytes;
    int64_t import_timeout_ms;
    const char *tmp_dir;       /* <data>/tmp: downloads being unpacked */
};

/* Remember @conf (copied; strings must outlive api). Main thread. */
int api_init(const struct api_conf *conf);
void api_shutdown(void);

/* Manager run states. */
enum api_run_state { RUN_STARTING, RUN_RUNNING, RUN_STOPPING };
/* Change the Manager's run state: written to the database, then to the
 * atomic that api_dispatch() checks. 0 or -1. */
int api_set_run_state(enum api_run_state state);
enum api_run_state api_get_run_state(void);

/*
 * Handle one request. 0: @resp is the answer. -1: the thread's error
 * (err_get()) is the answer; http/ maps its code to a status. Either way
 * the caller calls api_resp_release(@resp) afterwards.
 */
int api_dispatch(struct api_req *req, struct api_resp *resp);
void api_resp_release(struct api_resp *resp);
/* Add a response header (copied). At most API_MAX_HEADERS. */
void api_resp_header(struct api_resp *resp, const char *name,
                     const char *value);
/* The value of query parameter @key, or NULL. */
const char *api_query(const struct api_req *req, const char *key);

#endif
