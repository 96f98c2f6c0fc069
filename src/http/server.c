/*
 * server.c - start and stop the libmicrohttpd daemons: the HTTPS (or, for
 * tests, plain HTTP) server and the optional plain-HTTP redirector.
 *
 * DESIGN: each daemon runs one internal polling thread (epoll when the
 * library has it, poll otherwise); DESIGN.md measured one epoll thread as
 * the right size for this work, and long-polls and streams suspend their
 * connections (MHD_ALLOW_SUSPEND_RESUME, wait.c) instead of holding the
 * thread; MHD_USE_ITC lets a resume from another thread wake the polling
 * thread at once. MHD must not stop with a suspended connection, so
 * quiesce and stop first have wait.c resume them all (long-polls answer,
 * streams end) and stop gives them a moment to finish. The listen
 * address is parsed and resolved here and handed to MHD as a sockaddr, so
 * "host:port", "IPv4:port" and "[IPv6]:port" all work and port 0 lets the
 * kernel choose. The certificate and key are read into memory because MHD
 * takes them as PEM strings; the key copy is wiped when the server stops.
 * MHD reports why it could not start only through its logger, so the
 * logger keeps the last message in thread-local storage and
 * http_server_start(), which runs MHD_start_daemon() on its own thread,
 * uses it as the reason. The redirector answers every request with 301
 * to the same path and query on the HTTPS port. The server object is
 * immutable while the daemons run; quiesce and stop belong to the thread
 * that started the server.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/http_int.h"
#include "util/alloc.h"
#include "util/autoptr.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"

LOG_MODULE("http");

/* Used when the configuration says 0: a request body is never unbounded. */
#define HTTP_DEFAULT_MAX_BODY (1024 * 1024)
/* Largest certificate or key file we read into memory. */
#define HTTP_PEM_MAX (1024 * 1024)
/* Most options one daemon gets. */
#define HTTP_MAX_OPTIONS 16
/* How long stop waits for woken long-polls and streams to finish. */
#define HTTP_STOP_DRAIN_MS 5000

/* The last message libmicrohttpd logged on this thread. */
static _Thread_local char mhd_last_msg[256];

static void mhd_logger(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* MHD_OPTION_EXTERNAL_LOGGER: one warning line, kept for start errors. */
static void
mhd_logger(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    size_t n;

    (void)cls;
    vsnprintf(line, sizeof(line), fmt, ap);
    n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    str_copy(mhd_last_msg, line, sizeof(mhd_last_msg));
    log_warnx("libmicrohttpd: %s", line);
}

/*
 * Parse @listen ("1.2.3.4:7002", "[::1]:7002", "name:7002") and resolve
 * it into @ss. *@host receives the host part, IPv6 in brackets (caller
 * frees), *@portp the port. 0, or -1 with ERR_CONFIG.
 */
static int
parse_listen(const char *listen, struct sockaddr_storage *ss, char **host,
             uint16_t *portp)
{
    struct addrinfo hints, *res = NULL, *ai;
    AUTOFREE char *name = NULL;
    const char *colon, *port;
    int64_t portnum;
    int rc;

    if (!listen || !*listen)
        goto bad;
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');

        if (!close || close[1] != ':')
            goto bad;
        name = xstrndup(listen + 1, (size_t)(close - listen - 1));
        port = close + 2;
    } else {
        colon = strrchr(listen, ':');
        /* A bare IPv6 address is ambiguous: it needs brackets. */
        if (!colon || memchr(listen, ':', (size_t)(colon - listen)))
            goto bad;
        name = xstrndup(listen, (size_t)(colon - listen));
        port = colon + 1;
    }
    if (!*name || str_to_int64(port, 0, 65535, "port", &portnum) < 0)
        goto bad;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    rc = getaddrinfo(name, port, &hints, &res);
    if (rc != 0) {
        err_set(ERR_CONFIG, "invalid listen address '%s': %s", listen,
                gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
            break;
    }
    if (!ai) {
        freeaddrinfo(res);
        goto bad;
    }
    memset(ss, 0, sizeof(*ss));
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(res);
    *portp = (uint16_t)portnum;
    if (strchr(name, ':'))
        *host = xasprintf("[%s]", name);
    else
        *host = steal_ptr(&name);
    return 0;

 bad:
    err_set(ERR_CONFIG, "invalid listen address '%s'", listen ? listen : "");
    return -1;
}

/* Read the whole PEM file @path (what: "certificate"/"key"). Caller frees;
 * NULL with ERR_IO. */
static char *
read_pem(const char *path, const char *what)
{
    struct buf b;
    char chunk[4096];
    ssize_t n;
    int fd;

    if (!path || !*path) {
        err_set(ERR_CONFIG, "no TLS %s file configured", what);
        return NULL;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        err_set(ERR_IO, "cannot read TLS %s '%s': %s", what, path,
                strerror(errno));
        return NULL;
    }
    buf_init(&b, HTTP_PEM_MAX);
    for (;;) {
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err_set(ERR_IO, "cannot read TLS %s '%s': %s", what, path,
                    strerror(errno));
            goto fail;
        }
        if (n == 0)
            break;
        if (buf_append(&b, chunk, (size_t)n) < 0) {
            err_set(ERR_IO, "cannot read TLS %s '%s': larger than %d bytes",
                    what, path, HTTP_PEM_MAX);
            goto fail;
        }
    }
    explicit_bzero(chunk, sizeof(chunk));
    close(fd);
    return buf_steal(&b);

 fail:
    explicit_bzero(chunk, sizeof(chunk));
    if (b.data)
        explicit_bzero(b.data, b.cap);
    buf_release(&b);
    close(fd);
    return NULL;
}

/* Copy the host of a Host header value into @out without its port; false
 * when the value is not a plausible host name or bracketed address, so a
 * client cannot put anything else into our Location header. */
static bool
host_without_port(const char *value, char *out, size_t size)
{
    size_t n, i;
    const char *end;

    if (!value || !*value)
        return false;
    if (value[0] == '[') {
        end = strchr(value, ']');
        if (!end)
            return false;
        n = (size_t)(end - value) + 1;
        for (i = 1; i < n - 1; i++) {
            if (!strchr("0123456789abcdefABCDEF:.", value[i]))
                return false;
        }
    } else {
        end = strchr(value, ':');
        n = end ? (size_t)(end - value) : strlen(value);
        for (i = 0; i < n; i++) {
            if (!strchr("abcdefghijklmnopqrstuvwxyz"
                        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-", value[i]))
                return false;
        }
    }
    if (n == 0 || n >= size)
        return false;
    memcpy(out, value, n);
    out[n] = '\0';
    return true;
}

/* The redirector's access handler: 301 to HTTPS on the first call. */
static enum MHD_Result
redirect_handle(void *cls, struct MHD_Connection *c, const char *url,
                const char *method, const char *version,
                const char *upload_data, size_t *upload_data_size,
                void **con_cls)
{
    const struct http_server *s = cls;
    struct http_request *req = *con_cls;
    AUTOPTR(json_object) json_object *o = NULL;
    AUTOFREE char *location = NULL;
    struct MHD_Response *r;
    const char *target, *text;
    char host[256];
    enum MHD_Result ret;

    (void)version;
    (void)upload_data;
    if (!req) {
        req = http_request_begin(cls, url, c);
        *con_cls = req;
    }
    if (req->started) {
        /* The answer went out on the first call; drop any body. */
        *upload_data_size = 0;
        return MHD_YES;
    }
    log_set_context("req %llu", (unsigned long long)req->id);
    req->started = true;
    req->method = xstrdup(method);
    req->path = xstrdup(url);
    if (!host_without_port(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                               MHD_HTTP_HEADER_HOST), host, sizeof(host)))
        str_copy(host, s->listen_host, sizeof(host));
    /* Keep path and query exactly as sent; anything but origin-form
     * (absolute URIs, "*") goes to the root. */
    target = req->raw_uri[0] == '/' ? req->raw_uri : "/";
    location = xasprintf("https://%s:%u%s", host, (unsigned)s->port, target);
    o = json_object_new_object();
    json_object_object_add(o, "message",
                           json_object_new_string("use HTTPS"));
    json_object_object_add(o, "location", json_object_new_string(location));
    text = json_to_text(o);
    r = http_response_buffer(text, strlen(text), "application/json");
    http_response_header(r, MHD_HTTP_HEADER_LOCATION, location);
    ret = http_response_queue(c, req, MHD_HTTP_MOVED_PERMANENTLY, r, false);
    log_clear_context();
    return ret;
}

struct option_list {
    struct MHD_OptionItem items[HTTP_MAX_OPTIONS];
    size_t n;
};

static void
option_add(struct option_list *ol, enum MHD_OPTION opt, intptr_t value,
           void *ptr)
{
    assert(ol->n + 1 < HTTP_MAX_OPTIONS);
    ol->items[ol->n].option = opt;
    ol->items[ol->n].value = value;
    ol->items[ol->n].ptr_value = ptr;
    ol->n++;
    ol->items[ol->n].option = MHD_OPTION_END;
    ol->items[ol->n].value = 0;
    ol->items[ol->n].ptr_value = NULL;
}

/* Start one daemon on @listen. *@port receives the bound port. */
static struct MHD_Daemon *
daemon_start(struct http_server *s, const struct http_conf *conf,
             const char *listen, bool tls, MHD_AccessHandlerCallback handler,
             uint16_t *port)
{
    struct sockaddr_storage ss;
    struct option_list ol;
    struct MHD_Daemon *d;
    const union MHD_DaemonInfo *info;
    AUTOFREE char *host = NULL;
    uint16_t want_port;
    unsigned flags;

    if (parse_listen(listen, &ss, &host, &want_port) < 0)
        return NULL;
    /* MHD_ALLOW_SUSPEND_RESUME implies MHD_USE_ITC in 0.9.75; both are
     * named so a resumed connection is processed at once. */
    flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
            MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC;
    if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES)
        flags |= MHD_USE_EPOLL;
    else if (MHD_is_feature_supported(MHD_FEATURE_POLL) == MHD_YES)
        flags |= MHD_USE_POLL;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (tls)
        flags |= MHD_USE_TLS;

    memset(&ol, 0, sizeof(ol));
    option_add(&ol, MHD_OPTION_SOCK_ADDR, 0, &ss);
    option_add(&ol, MHD_OPTION_URI_LOG_CALLBACK,
               (intptr_t)http_request_begin, s);
    option_add(&ol, MHD_OPTION_NOTIFY_COMPLETED,
               (intptr_t)http_request_completed, s);
    option_add(&ol, MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)conf->timeout_s,
               NULL);
    if (conf->max_conns)
        option_add(&ol, MHD_OPTION_CONNECTION_LIMIT,
                   (intptr_t)conf->max_conns, NULL);
    if (conf->max_conns_per_ip)
        option_add(&ol, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                   (intptr_t)conf->max_conns_per_ip, NULL);
    /*
     * The API daemon gets one epoll thread per core (conf->threads), so a
     * slow request -- a password hash on a cache miss costs ~0.1 s -- does
     * not stall every other client; never more threads than cores
     * (DESIGN §9). The redirector needs no pool.
     */
    if (handler == http_request_handle && conf->threads > 1)
        option_add(&ol, MHD_OPTION_THREAD_POOL_SIZE,
                   (intptr_t)conf->threads, NULL);
    if (tls) {
        option_add(&ol, MHD_OPTION_HTTPS_MEM_CERT, 0, s->cert_pem);
        option_add(&ol, MHD_OPTION_HTTPS_MEM_KEY, 0, s->key_pem);
    }

    mhd_last_msg[0] = '\0';
    /* The logger goes first so MHD never logs on its own; the port is
     * only used in MHD's messages (the address comes from SOCK_ADDR). */
    d = MHD_start_daemon(flags, want_port, NULL, NULL, handler, s,
                         MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
                         MHD_OPTION_ARRAY, ol.items, MHD_OPTION_END);
    if (!d && (flags & MHD_USE_EPOLL) && strstr(mhd_last_msg, "epoll")) {
        /* Built with epoll but not allowed to use it (seccomp, old
         * kernel): poll() serves the same connections. */
        log_warnx("epoll unavailable, falling back to poll()");
        flags = (flags & ~(unsigned)MHD_USE_EPOLL) | MHD_USE_POLL;
        mhd_last_msg[0] = '\0';
        d = MHD_start_daemon(flags, want_port, NULL, NULL, handler, s,
                             MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
                             MHD_OPTION_ARRAY, ol.items, MHD_OPTION_END);
    }
    if (!d) {
        err_set(ERR_IO, "cannot listen on '%s': %s", listen,
                mhd_last_msg[0] ? mhd_last_msg : "libmicrohttpd failed");
        return NULL;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    *port = info ? info->port : 0;
    if (!s->listen_host)
        s->listen_host = steal_ptr(&host);
    return d;
}

static void
server_free(struct http_server *s)
{
    if (s->key_pem) {
        explicit_bzero(s->key_pem, strlen(s->key_pem));
        xfree(s->key_pem);
    }
    xfree(s->cert_pem);
    xfree(s->listen);
    xfree(s->http_listen);
    xfree(s->web_root);
    xfree(s->listen_host);
    xfree(s);
}

struct http_server *
http_server_start(const struct http_conf *conf)
{
    struct http_server *s = xcalloc(1, sizeof(*s));

    s->listen = xstrdup(conf->listen);
    s->http_listen = conf->http_listen && *conf->http_listen
                         ? xstrdup(conf->http_listen) : NULL;
    s->web_root = conf->web_root && *conf->web_root
                      ? xstrdup(conf->web_root) : NULL;
    s->tls = conf->tls;
    s->max_body = conf->max_body ? conf->max_body : HTTP_DEFAULT_MAX_BODY;

    /* MHD suppresses SIGPIPE itself where the platform allows; where it
     * cannot, a write to a closed socket must still not kill us. */
    if (MHD_is_feature_supported(MHD_FEATURE_AUTOSUPPRESS_SIGPIPE) != MHD_YES)
        signal(SIGPIPE, SIG_IGN);

    if (s->tls) {
        s->cert_pem = read_pem(conf->cert_file, "certificate");
        if (!s->cert_pem)
            goto fail;
        s->key_pem = read_pem(conf->key_file, "key");
        if (!s->key_pem)
            goto fail;
    }
    /* Before the daemon: its first request may wait already. */
    s->waits = http_waits_new();
    if (!s->waits)
        goto fail;
    s->daemon = daemon_start(s, conf, s->listen, s->tls, http_request_handle,
                             &s->port);
    if (!s->daemon)
        goto fail;
    if (s->http_listen) {
        s->redirect = daemon_start(s, conf, s->http_listen, false,
                                   redirect_handle, &s->redirect_port);
        if (!s->redirect)
            goto fail;
    }
    log_info("serving %s on '%s' (port %u)", s->tls ? "HTTPS" : "HTTP",
             s->listen, (unsigned)s->port);
    if (s->redirect)
        log_info("redirecting plain HTTP on '%s' (port %u) to HTTPS",
                 s->http_listen, (unsigned)s->redirect_port);
    return s;

 fail:
    if (s->daemon) {
        http_waits_stop(s->waits);
        http_waits_drain(s->waits, HTTP_STOP_DRAIN_MS);
        MHD_stop_daemon(s->daemon);
    }
    http_waits_free(s->waits);
    server_free(s);
    return NULL;
}

uint16_t
http_server_port(struct http_server *s, bool redirect)
{
    if (!s)
        return 0;
    if (redirect)
        return s->redirect ? s->redirect_port : 0;
    return s->daemon ? s->port : 0;
}

/* Stop accepting on @d; MHD hands the listen socket back to us. */
static void
daemon_quiesce(struct MHD_Daemon *d)
{
    MHD_socket fd;

    if (!d)
        return;
    fd = MHD_quiesce_daemon(d);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
}

void
http_server_quiesce(struct http_server *s)
{
    if (!s || s->quiesced)
        return;
    /* Waiting long-polls answer now (no_wait) and streams end: nothing
     * in flight goes on waiting for a publish or a deadline. */
    http_waits_stop(s->waits);
    daemon_quiesce(s->redirect);
    daemon_quiesce(s->daemon);
    s->quiesced = true;
    log_info("no longer accepting connections");
}

void
http_server_stop(struct http_server *s)
{
    if (!s)
        return;
    /* MHD_stop_daemon() must not find a suspended connection: resume the
     * long-polls and streams (they cannot suspend again) and let them
     * send their last bytes, for a bounded time. */
    http_waits_stop(s->waits);
    http_waits_drain(s->waits, HTTP_STOP_DRAIN_MS);
    /* MHD_stop_daemon() joins the polling thread, so the request being
     * handled finishes first; idle connections are closed. */
    if (s->redirect)
        MHD_stop_daemon(s->redirect);
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    /* After the daemon: its last responses still unlink their entries. */
    http_waits_free(s->waits);
    server_free(s);
}
