/*
 * http.h - the HTTP(S) front end: the only user of <microhttpd.h>.
 *
 * DESIGN: one libmicrohttpd daemon with internal epoll threads (a pool of
 * `threads`, one per core by default) serves
 * HTTPS (GnuTLS inside libmicrohttpd, with the PEM certificate and key
 * given here); an optional second daemon serves plain HTTP and answers
 * every request with a redirect to the HTTPS port. Request bodies are read
 * into a bounded `struct buf` (413 past max_body), then the request is
 * handed to api_dispatch(), or for paths under /ovm/console to the static
 * file server rooted at web_root. Every error leaves as JSON
 * {"errorCode", "message"} with the status from the one err -> status
 * table in response.c. Each request gets an id that prefixes its log lines.
 * A request the handler makes wait (long-poll, api_resp.wait_until_ms)
 * or answers with a stream holds no thread while idle: its connection is
 * suspended until notify_publish() or a deadline wakes it (wait.c).
 */
#ifndef OVMM_HTTP_H
#define OVMM_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct http_server;

struct http_conf {
    const char *listen;        /* "127.0.0.1:7002", "[::1]:7002"; port 0 = any */
    const char *http_listen;   /* plain HTTP redirector, NULL or "" = off */
    const char *cert_file;     /* PEM certificate (chain) for HTTPS */
    const char *key_file;      /* PEM private key */
    bool tls;                  /* false: serve plain HTTP on `listen` (tests of
                                  the redirector only; never the default) */
    size_t max_body;           /* request body limit in bytes */
    unsigned timeout_s;        /* idle connection timeout */
    unsigned max_conns;        /* total connection limit */
    unsigned max_conns_per_ip; /* per-peer limit, 0 = none */
    unsigned threads;          /* epoll threads serving the API (>= 1) */
    const char *web_root;      /* directory served at /ovm/console */
};

/* Start serving. NULL with err set (ERR_IO: cannot bind, bad cert...;
 * ERR_INTERNAL: no notification subscriber slot left). */
struct http_server *http_server_start(const struct http_conf *conf);
/* The port actually bound (useful with port 0); @redirect selects the
 * plain-HTTP redirector. 0 when not listening. */
uint16_t http_server_port(struct http_server *s, bool redirect);
/* Stop accepting new connections; in-flight requests go on, except that
 * waiting long-polls are dispatched again at once with no_wait (and so
 * is every later one), and streams end. Main thread. */
void http_server_quiesce(struct http_server *s);
/* Stop: ends long-polls and streams as quiesce does and gives them a few
 * seconds to finish, waits for in-flight requests, then frees. Main
 * thread. Accepts NULL. */
void http_server_stop(struct http_server *s);

/* The HTTP status for an error code (the one table). */
unsigned http_status_for(enum err_code code);

/*
 * Make sure a TLS certificate and key exist at @cert_file/@key_file: when
 * both exist they are checked to load and match; when neither exists a
 * self-signed P-256 certificate for @cn (subjectAltName localhost,
 * 127.0.0.1, ::1 and @cn), valid 10 years, is written, the key 0600.
 * 0 or -1 (ERR_IO / ERR_CONFIG with a message naming the file).
 */
int http_cert_ensure(const char *cert_file, const char *key_file,
                     const char *cn);

#endif
