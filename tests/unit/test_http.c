/*
 * test_http.c - http/: the err -> status table, TLS certificate files,
 * and a real server on loopback driven by libcurl with certificate
 * verification on: static files and their guards, body limits, routing,
 * error mapping end to end, the plain-HTTP redirector, long-polls and
 * streams (suspend/resume), and stopping with both open.
 *
 * DESIGN: api/ is written in parallel, so this file carries its own small
 * api_dispatch(): it echoes what http/ put into struct api_req as JSON,
 * and fails with chosen codes on chosen paths, so every field and the
 * error path can be checked from the client side. /Poll/<key> is a
 * long-poll that answers once the test "committed" <key> (poll_fire())
 * or at its deadline, and /Stream is an SSE-like stream of the items the
 * test produces (stream_produce()); both count what they did in atomics,
 * because they run on MHD threads while the test thread watches. The
 * server runs on its own single MHD thread (threads = 1), so a request
 * that held the thread while waiting would stall every other one. Tests
 * that need a client in flight run it on a thread (struct bg) and never
 * assert there. One server (HTTPS plus redirector) is shared by the group;
 * the stop tests start their own.
 */
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "api/api.h"
#include "http/http.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/json.h"
#include "util/log.h"
#include "util/notify.h"
#include "util/str.h"

#define MAX_BODY 1024

/* ---- stand-ins for api/ ---- */

const struct api_route api_routes[] = {
    { API_GET, "/Echo", NULL, PERM_PUBLIC, false, "echo" },
};
const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);

static bool
path_ends(const char *path, const char *suffix)
{
    size_t a = strlen(path), b = strlen(suffix);

    return a >= b && strcmp(path + a - b, suffix) == 0;
}

static json_object *
str_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

/* The value of query parameter @key as a number, or @def. */
static int64_t
query_int(const struct api_req *req, const char *key, int64_t def)
{
    int64_t v;
    size_t i;

    for (i = 0; i < req->nquery; i++) {
        if (strcmp(req->query[i].key, key) == 0 &&
            str_to_int64(req->query[i].value, 0, INT64_MAX, key, &v) == 0)
            return v;
    }
    return def;
}

/* What the long-poll stand-in did (written on MHD threads). */
static atomic_int poll_waits;      /* dispatches that asked to wait */
static atomic_int poll_nowait;     /* answers given because of no_wait */
/* The "database" of the long-poll: keys committed so far. */
static pthread_mutex_t fired_lock = PTHREAD_MUTEX_INITIALIZER;
static char fired[8][64];          /* protected by fired_lock */
static size_t nfired;              /* protected by fired_lock */

static bool
poll_fired(const char *key)
{
    bool found = false;
    size_t i;

    pthread_mutex_lock(&fired_lock);
    for (i = 0; i < nfired; i++) {
        if (strcmp(fired[i], key) == 0)
            found = true;
    }
    pthread_mutex_unlock(&fired_lock);
    return found;
}

/* Commit @key, then publish it, as jobs/ and events/ do. */
static void
poll_fire(const char *key)
{
    pthread_mutex_lock(&fired_lock);
    if (nfired < 8)
        str_copy(fired[nfired++], key, sizeof(fired[0]));
    pthread_mutex_unlock(&fired_lock);
    notify_publish(key);
}

/*
 * GET /Poll/<key>?timeout=ms: answers when <key> was committed (the empty
 * key: after any wake-up), when the deadline (arrival + timeout) passed,
 * or when told not to wait; otherwise waits for <key> until the deadline.
 * &past=1: the first dispatch asks to wait until a moment already gone,
 * as a handler that was slow might; &bad=1: it always does (a bug).
 */
static int
stand_in_poll(struct api_req *req, struct api_resp *resp, const char *key)
{
    int64_t deadline = req->arrival_ms + query_int(req, "timeout", 10000);
    int64_t now = time_mono_ms();
    bool fired_now = key[0] ? poll_fired(key) : req->resumed > 0;
    json_object *o;

    if (query_int(req, "bad", 0) ||
        (query_int(req, "past", 0) && req->resumed == 0)) {
        resp->wait_until_ms = now - 1;
        str_copy(resp->wait_key, key, sizeof(resp->wait_key));
        return 0;
    }

    if (!fired_now && !req->no_wait && now < deadline) {
        resp->wait_until_ms = deadline;
        str_copy(resp->wait_key, key, sizeof(resp->wait_key));
        atomic_fetch_add(&poll_waits, 1);
        return 0;
    }
    if (req->no_wait && !fired_now)
        atomic_fetch_add(&poll_nowait, 1);
    o = json_object_new_object();
    json_object_object_add(o, "key", json_object_new_string(key));
    json_object_object_add(o, "fired", json_object_new_boolean(fired_now));
    json_object_object_add(o, "timedOut",
                           json_object_new_boolean(now >= deadline));
    json_object_object_add(o, "noWait",
                           json_object_new_boolean(req->no_wait));
    json_object_object_add(o, "resumed",
                           json_object_new_int64(req->resumed));
    json_object_object_add(o, "arrivalMs",
                           json_object_new_int64(req->arrival_ms));
    json_object_object_add(o, "answeredMs", json_object_new_int64(now));
    resp->body = o;
    return 0;
}

/* What the stream stand-in did. */
static atomic_long stream_items;   /* produced by the test so far */
static atomic_int stream_frees;    /* free() calls */
static atomic_int stream_beats;    /* heartbeats written */

struct test_stream {
    long base;                     /* stream_items when it opened */
    long n;                        /* items to send, then end */
    long sent;
    bool opened;                   /* the ": open" comment went out */
};

static ssize_t
test_stream_put(char *buf, size_t max, const char *text)
{
    size_t n = strlen(text);

    if (n > max)
        return 0;
    memcpy(buf, text, n);
    return (ssize_t)n;
}

/* One item per call, so MHD has to come back for the next. */
static ssize_t
test_stream_read(void *cls, char *buf, size_t max, bool heartbeat)
{
    struct test_stream *ts = cls;
    char line[64];

    if (!ts->opened) {
        ts->opened = true;
        return test_stream_put(buf, max, ": open\n\n");
    }
    if (ts->sent >= ts->n)
        return -1;
    if (ts->base + ts->sent < atomic_load(&stream_items)) {
        ts->sent++;
        snprintf(line, sizeof(line), "data: item-%ld\n\n", ts->sent);
        return test_stream_put(buf, max, line);
    }
    if (heartbeat) {
        atomic_fetch_add(&stream_beats, 1);
        return test_stream_put(buf, max, ": hb\n\n");
    }
    return 0;
}

static void
test_stream_free(void *cls)
{
    atomic_fetch_add(&stream_frees, 1);
    xfree(cls);
}

/* The test produces one more item and publishes, as a commit would. */
static void
stream_produce(void)
{
    atomic_fetch_add(&stream_items, 1);
    notify_publish("event:1");
}

/* GET /Stream?n=items&hb=ms: ": open", then one "data: item-<i>" per
 * produced item until n, then the end; ": hb" when idle for hb ms. The
 * api_stream is a separate allocation, as api_event.c makes it. */
static int
stand_in_stream(struct api_req *req, struct api_resp *resp)
{
    struct test_stream *ts = xcalloc(1, sizeof(*ts));
    struct api_stream *st = xcalloc(1, sizeof(*st));

    ts->base = atomic_load(&stream_items);
    ts->n = query_int(req, "n", 3);
    st->read = test_stream_read;
    st->free = test_stream_free;
    st->cls = ts;
    st->heartbeat_ms = query_int(req, "hb", 60000);
    resp->stream = st;
    resp->stream_type = "text/event-stream";
    return 0;
}

int
api_dispatch(struct api_req *req, struct api_resp *resp)
{
    json_object *o, *q;
    size_t i;

    if (req->accept && strstr(req->accept, "application/xml")) {
        err_set(ERR_NOT_ACCEPTABLE, "cannot produce '%s'", req->accept);
        return -1;
    }
    if (path_ends(req->path, "/auth")) {
        err_set(ERR_AUTH, "authentication required");
        return -1;
    }
    if (path_ends(req->path, "/starting")) {
        err_set(ERR_UNAVAILABLE, "the Manager is starting");
        return -1;
    }
    if (path_ends(req->path, "/boom")) {
        err_set(ERR_DB, "database is locked");
        return -1;
    }
    if (strstr(req->path, "/Poll/"))
        return stand_in_poll(req, resp, strstr(req->path, "/Poll/") + 6);
    if (path_ends(req->path, "/Stream"))
        return stand_in_stream(req, resp);
    if (path_ends(req->path, "/text")) {
        resp->text = xstrdup("plain words");
        resp->content_type = "text/plain";
        resp->status = 201;
        return 0;
    }
    str_copy(req->ident.name, "admin", sizeof(req->ident.name));
    o = json_object_new_object();
    json_object_object_add(o, "method",
                           json_object_new_string(req->method_str));
    json_object_object_add(o, "methodEnum", json_object_new_int(req->method));
    json_object_object_add(o, "path", json_object_new_string(req->path));
    json_object_object_add(o, "bodyLength",
                           json_object_new_int64((int64_t)req->body_len));
    json_object_object_add(o, "hasBody", json_object_new_boolean(!!req->body));
    json_object_object_add(o, "contentType", str_or_null(req->content_type));
    json_object_object_add(o, "accept", str_or_null(req->accept));
    json_object_object_add(o, "authorization",
                           str_or_null(req->authorization));
    json_object_object_add(o, "session", str_or_null(req->session));
    json_object_object_add(o, "csrf", str_or_null(req->csrf));
    json_object_object_add(o, "host", str_or_null(req->host));
    json_object_object_add(o, "remote", str_or_null(req->remote_addr));
    json_object_object_add(o, "tls", json_object_new_boolean(req->tls));
    json_object_object_add(o, "id", json_object_new_int64((int64_t)req->id));
    json_object_object_add(o, "lastEventId", str_or_null(req->last_event_id));
    json_object_object_add(o, "arrivalMs",
                           json_object_new_int64(req->arrival_ms));
    json_object_object_add(o, "resumed", json_object_new_int64(req->resumed));
    json_object_object_add(o, "noWait", json_object_new_boolean(req->no_wait));
    q = json_object_new_object();
    for (i = 0; i < req->nquery; i++)
        json_object_object_add(q, req->query[i].key,
                               json_object_new_string(req->query[i].value));
    json_object_object_add(o, "query", q);
    resp->body = o;
    resp->headers[0].name = xstrdup("X-Echo");
    resp->headers[0].value = xstrdup("yes");
    resp->nheaders = 1;
    return 0;
}

void
api_resp_release(struct api_resp *resp)
{
    size_t i;

    if (resp->body)
        json_object_put(resp->body);
    xfree(resp->text);
    for (i = 0; i < resp->nheaders; i++) {
        xfree(resp->headers[i].name);
        xfree(resp->headers[i].value);
    }
    memset(resp, 0, sizeof(*resp));
}

/* ---- helpers ---- */

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void
rm_rf(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *
make_tmpdir(void)
{
    char *dir = xstrdup("/tmp/ovmm-test-http-XXXXXX");

    assert_non_null(mkdtemp(dir));
    return dir;
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void
write_big(const char *path, size_t size)
{
    char block[65536];
    FILE *f = fopen(path, "w");
    size_t i;

    assert_non_null(f);
    memset(block, 'z', sizeof(block));
    for (i = 0; i < size; i += sizeof(block))
        assert_int_equal(fwrite(block, sizeof(block), 1, f), 1);
    assert_int_equal(fclose(f), 0);
}

static bool
file_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* ---- the status table ---- */

static void
test_status_table(void **state)
{
    static const struct {
        enum err_code code;
        unsigned status;
    } want[] = {
        { ERR_INVALID, 400 }, { ERR_AUTH, 401 }, { ERR_ACCOUNT_LOCKED, 401 },
        { ERR_FORBIDDEN, 403 }, { ERR_CSRF, 403 }, { ERR_NOT_FOUND, 404 },
        { ERR_METHOD, 405 }, { ERR_NOT_ACCEPTABLE, 406 },
        { ERR_EXISTS, 409 }, { ERR_CONFLICT, 409 }, { ERR_STATE, 409 },
        { ERR_BUSY, 409 }, { ERR_TOO_LARGE, 413 },
        { ERR_UNSUPPORTED_TYPE, 415 }, { ERR_UNAVAILABLE, 503 },
        { ERR_TIMEOUT, 504 }, { ERR_UNSUPPORTED, 501 }, { ERR_IO, 500 },
        { ERR_DB, 500 }, { ERR_INTERNAL, 500 }, { ERR_CONFIG, 500 },
    };
    int c;
    size_t i;

    (void)state;
    for (c = 0; c < ERR__COUNT; c++) {
        unsigned st = http_status_for((enum err_code)c);

        assert_true(st >= 100 && st <= 599);
        if (c != ERR_OK)
            assert_true(st >= 400);
    }
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        assert_int_equal(http_status_for(want[i].code), want[i].status);
    /* Out-of-range codes never map to success. */
    assert_int_equal(http_status_for(ERR__COUNT), 500);
}

/* ---- certificates ---- */

static void
test_cert_create(void **state)
{
    char *dir = make_tmpdir();
    char *cert = xasprintf("%s/a/b/cert.pem", dir);
    char *key = xasprintf("%s/a/c/key.pem", dir);
    struct stat st;

    (void)state;
    assert_int_equal(http_cert_ensure(cert, key, "ovm.example.com"), 0);
    assert_int_equal(stat(key, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(stat(cert, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    /* No temporary file is left behind. */
    {
        char *tmp = xasprintf("%s.tmp", key);

        assert_false(file_exists(tmp));
        xfree(tmp);
        tmp = xasprintf("%s.tmp", cert);
        assert_false(file_exists(tmp));
        xfree(tmp);
    }
    /* The parent directories were made private. */
    {
        char *adir = xasprintf("%s/a", dir);

        assert_int_equal(stat(adir, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        xfree(adir);
    }
    /* A second call accepts the pair as it is. */
    assert_int_equal(http_cert_ensure(cert, key, "ovm.example.com"), 0);
    rm_rf(dir);
    xfree(cert);
    xfree(key);
    xfree(dir);
}

static void
test_cert_mismatch(void **state)
{
    char *d1 = make_tmpdir(), *d2 = make_tmpdir();
    char *c1 = xasprintf("%s/cert.pem", d1), *k1 = xasprintf("%s/key.pem", d1);
    char *c2 = xasprintf("%s/cert.pem", d2), *k2 = xasprintf("%s/key.pem", d2);
    char *want = xasprintf("TLS key '%s' does not match certificate '%s'",
                           k2, c1);

    (void)state;
    assert_int_equal(http_cert_ensure(c1, k1, "one"), 0);
    assert_int_equal(http_cert_ensure(c2, k2, "two"), 0);
    assert_int_equal(http_cert_ensure(c1, k2, "one"), -1);
    assert_int_equal(err_code(), ERR_CONFIG);
    assert_string_equal(err_message(), want);
    rm_rf(d1);
    rm_rf(d2);
    xfree(want);
    xfree(c1);
    xfree(k1);
    xfree(c2);
    xfree(k2);
    xfree(d1);
    xfree(d2);
}

static void
test_cert_lonely(void **state)
{
    char *dir = make_tmpdir();
    char *cert = xasprintf("%s/cert.pem", dir);
    char *key = xasprintf("%s/key.pem", dir);
    char *other = xasprintf("%s/other-key.pem", dir);

    (void)state;
    assert_int_equal(http_cert_ensure(cert, key, "127.0.0.1"), 0);
    /* A certificate without its key is refused, naming the missing key. */
    assert_int_equal(http_cert_ensure(cert, other, "x"), -1);
    assert_int_equal(err_code(), ERR_CONFIG);
    assert_non_null(strstr(err_message(), other));
    assert_false(file_exists(other));
    /* And a key without its certificate, naming the certificate. */
    assert_int_equal(unlink(cert), 0);
    assert_int_equal(http_cert_ensure(cert, key, "x"), -1);
    assert_int_equal(err_code(), ERR_CONFIG);
    assert_non_null(strstr(err_message(), cert));
    assert_false(file_exists(cert));
    /* Garbage in a certificate file is a configuration error. */
    write_file(cert, "not a certificate\n");
    assert_int_equal(http_cert_ensure(cert, key, "x"), -1);
    assert_int_equal(err_code(), ERR_CONFIG);
    rm_rf(dir);
    xfree(cert);
    xfree(key);
    xfree(other);
    xfree(dir);
}

/* ---- a real server ---- */

struct fixture {
    char *dir;
    char *cert;
    char *key;
    char *web;
    struct http_server *srv;
    uint16_t port;
    uint16_t rport;
    char resolve[64];
};

static struct fixture fx;

static int
server_setup(void **state)
{
    char *p;
    struct http_conf conf;

    (void)state;
    fx.dir = make_tmpdir();
    fx.cert = xasprintf("%s/tls/cert.pem", fx.dir);
    fx.key = xasprintf("%s/tls/key.pem", fx.dir);
    fx.web = xasprintf("%s/web", fx.dir);
    if (http_cert_ensure(fx.cert, fx.key, "localhost") < 0) {
        fprintf(stderr, "# cert: %s\n", err_message());
        return -1;
    }
    if (mkdir(fx.web, 0755) < 0)
        return -1;
    p = xasprintf("%s/index.html", fx.web);
    write_file(p, "<!doctype html><title>ovmm</title>\n");
    xfree(p);
    p = xasprintf("%s/app.js", fx.web);
    write_file(p, "console.log('ovmm');\n");
    xfree(p);
    p = xasprintf("%s/sub", fx.web);
    mkdir(p, 0755);
    xfree(p);
    p = xasprintf("%s/big.bin", fx.web);
    write_big(p, 8 << 20);
    xfree(p);
    p = xasprintf("%s/secret.txt", fx.dir);
    write_file(p, "outside the web root\n");
    xfree(p);
    /* A link pointing outside the root, and one that stays inside. */
    p = xasprintf("%s/leak.txt", fx.web);
    if (symlink("../secret.txt", p) < 0)
        return -1;
    xfree(p);
    p = xasprintf("%s/alias.html", fx.web);
    if (symlink("index.html", p) < 0)
        return -1;
    xfree(p);

    memset(&conf, 0, sizeof(conf));
    conf.listen = "127.0.0.1:0";
    conf.http_listen = "127.0.0.1:0";
    conf.cert_file = fx.cert;
    conf.key_file = fx.key;
    conf.tls = true;
    conf.max_body = MAX_BODY;
    conf.timeout_s = 10;
    conf.max_conns = 64;
    conf.max_conns_per_ip = 16;
    /* One thread: a wait that held it would stall every other request. */
    conf.threads = 1;
    conf.web_root = fx.web;
    fx.srv = http_server_start(&conf);
    if (!fx.srv) {
        fprintf(stderr, "# start: %s\n", err_message());
        return -1;
    }
    fx.port = http_server_port(fx.srv, false);
    fx.rport = http_server_port(fx.srv, true);
    if (!fx.port || !fx.rport || fx.port == fx.rport)
        return -1;
    snprintf(fx.resolve, sizeof(fx.resolve), "localhost:%u:127.0.0.1",
             (unsigned)fx.port);
    return 0;
}

static int
server_teardown(void **state)
{
    (void)state;
    http_server_quiesce(fx.srv);
    http_server_quiesce(fx.srv);
    http_server_stop(fx.srv);
    if (fx.dir)
        rm_rf(fx.dir);
    xfree(fx.dir);
    xfree(fx.cert);
    xfree(fx.key);
    xfree(fx.web);
    memset(&fx, 0, sizeof(fx));
    return 0;
}

struct result {
    long status;
    struct buf body;
    struct buf headers;
    json_object *json;
    CURLcode rc;
    char errbuf[CURL_ERROR_SIZE];
};

struct upload {
    const char *data;
    size_t len;
    size_t off;
};

static size_t
on_body(char *ptr, size_t size, size_t n, void *cls)
{
    struct buf *b = cls;

    if (buf_append(b, ptr, size * n) < 0)
        return 0;
    return size * n;
}

static size_t
on_read(char *ptr, size_t size, size_t n, void *cls)
{
    struct upload *u = cls;
    size_t want = size * n, left = u->len - u->off;

    if (want > left)
        want = left;
    /* Small pieces, so the body arrives in several calls. */
    if (want > 300)
        want = 300;
    memcpy(ptr, u->data + u->off, want);
    u->off += want;
    return want;
}

struct req_opts {
    const char *method;        /* NULL: GET, or POST with a body */
    const char *body;          /* sent with Content-Length */
    size_t body_len;
    bool chunked;              /* send body with Transfer-Encoding: chunked */
    bool raw_path;             /* keep "../" as written */
    bool head;
    const char *headers[8];    /* extra request headers */
};

/* Do one request; the result's buffers are freed by result_free(). */
static void
do_request(const char *url, const struct req_opts *o, struct result *r)
{
    static const struct req_opts none;
    CURL *h = curl_easy_init();
    struct curl_slist *hdrs = NULL, *res = NULL;
    struct upload up;
    size_t i;

    if (!o)
        o = &none;
    assert_non_null(h);
    memset(r, 0, sizeof(*r));
    buf_init(&r->body, 1 << 20);
    buf_init(&r->headers, 1 << 16);
    res = curl_slist_append(res, fx.resolve);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_RESOLVE, res);
    curl_easy_setopt(h, CURLOPT_CAINFO, fx.cert);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &r->headers);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->errbuf);
    if (o->raw_path)
        curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    if (o->head)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (o->body && !o->chunked) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, o->body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)o->body_len);
    } else if (o->body) {
        up.data = o->body;
        up.len = o->body_len;
        up.off = 0;
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, &up);
        hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
    }
    if (o->method)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, o->method);
    hdrs = curl_slist_append(hdrs, "Expect:");
    for (i = 0; i < 8 && o->headers[i]; i++)
        hdrs = curl_slist_append(hdrs, o->headers[i]);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    r->rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    if (r->body.len && r->body.data[0] == '{')
        r->json = json_parse(r->body.data, r->body.len);
    curl_slist_free_all(hdrs);
    curl_slist_free_all(res);
    curl_easy_cleanup(h);
    if (r->rc != CURLE_OK)
        fprintf(stderr, "# curl %s: %s\n", url, r->errbuf);
}

static void result_free(struct result *r);

static size_t
on_body_abort(char *ptr, size_t size, size_t n, void *cls)
{
    (void)ptr;
    (void)size;
    (void)n;
    (void)cls;
    return 0;
}

/* Start downloading @url and hang up after the first piece, several
 * times: the server then writes to a closed socket, which must cost it
 * nothing (no SIGPIPE death, no leak). Then check that it still answers. */
static void
hang_up_on(const char *url, const char *alive_url)
{
    struct result r;
    int i;

    for (i = 0; i < 3; i++) {
        CURL *h = curl_easy_init();
        struct curl_slist *res = curl_slist_append(NULL, fx.resolve);
        CURLcode rc;

        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_RESOLVE, res);
        curl_easy_setopt(h, CURLOPT_CAINFO, fx.cert);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body_abort);
        rc = curl_easy_perform(h);
        assert_int_equal(rc, CURLE_WRITE_ERROR);
        curl_slist_free_all(res);
        curl_easy_cleanup(h);
    }
    usleep(100 * 1000);
    do_request(alive_url, NULL, &r);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 200);
    result_free(&r);
}

static void
result_free(struct result *r)
{
    buf_release(&r->body);
    buf_release(&r->headers);
    if (r->json)
        json_object_put(r->json);
}

/* The value of response header @name (case-insensitive), copied into
 * @out; NULL when absent. */
static const char *
header_in(const struct buf *headers, const char *name, char *out,
          size_t size)
{
    const char *p = headers->data;
    size_t n = strlen(name);

    while (p && *p) {
        const char *eol = strstr(p, "\r\n");
        size_t len = eol ? (size_t)(eol - p) : strlen(p);

        if (len > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;

            while (*v == ' ')
                v++;
            len -= (size_t)(v - p);
            if (len >= size)
                len = size - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            return out;
        }
        if (!eol)
            break;
        p = eol + 2;
    }
    return NULL;
}

static const char *
header(const struct result *r, const char *name, char *out, size_t size)
{
    return header_in(&r->headers, name, out, size);
}

static const char *
result_str(const struct result *r, const char *key)
{
    const char *v = NULL;

    assert_non_null(r->json);
    assert_int_equal(json_get_string(r->json, key, &v), 0);
    return v;
}

static char *
url_for(const char *path)
{
    return xasprintf("https://localhost:%u%s", (unsigned)fx.port, path);
}

/* GET @path; check the status and, for errors, the JSON errorCode. */
static void
check_get(const char *path, bool raw, long status, const char *code)
{
    struct req_opts o;
    struct result r;
    char *url = url_for(path);

    memset(&o, 0, sizeof(o));
    o.raw_path = raw;
    do_request(url, &o, &r);
    assert_int_equal(r.rc, CURLE_OK);
    if (r.status != status)
        fprintf(stderr, "# %s: %ld %s\n", path, r.status,
                r.body.data ? r.body.data : "");
    assert_int_equal(r.status, status);
    if (code)
        assert_string_equal(result_str(&r, "errorCode"), code);
    result_free(&r);
    xfree(url);
}

static void
test_tls_index(void **state)
{
    struct result r;
    char v[256];
    char *url = url_for("/ovm/console/");

    (void)state;
    do_request(url, NULL, &r);
    /* The handshake verified the certificate made by http_cert_ensure. */
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body.data, "<!doctype html><title>ovmm</title>\n");
    assert_non_null(header(&r, "Content-Type", v, sizeof(v)));
    assert_true(str_has_prefix(v, "text/html"));
    assert_non_null(header(&r, "Content-Security-Policy", v, sizeof(v)));
    assert_string_equal(v, "default-src 'self'; frame-ancestors 'none'");
    assert_non_null(header(&r, "Cache-Control", v, sizeof(v)));
    assert_string_equal(v, "no-store");
    assert_non_null(header(&r, "X-Content-Type-Options", v, sizeof(v)));
    assert_string_equal(v, "nosniff");
    assert_non_null(header(&r, "X-Frame-Options", v, sizeof(v)));
    assert_string_equal(v, "DENY");
    assert_non_null(header(&r, "Strict-Transport-Security", v, sizeof(v)));
    assert_string_equal(v, "max-age=31536000");
    result_free(&r);
    xfree(url);

    /* Without the trailing slash too, and by IP address (IP SAN). */
    check_get("/ovm/console", false, 200, NULL);
    url = xasprintf("https://127.0.0.1:%u/ovm/console/app.js",
                    (unsigned)fx.port);
    do_request(url, NULL, &r);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_non_null(header(&r, "Content-Type", v, sizeof(v)));
    assert_true(str_has_prefix(v, "text/javascript"));
    assert_null(header(&r, "Content-Security-Policy", v, sizeof(v)));
    result_free(&r);
    xfree(url);
}

static void
test_static_guards(void **state)
{
    struct req_opts o;
    struct result r;
    char v[256];
    char *url;

    (void)state;
    check_get("/ovm/console/../secret.txt", true, 404, "NOT_FOUND");
    check_get("/ovm/console/sub/../../secret.txt", true, 404, "NOT_FOUND");
    check_get("/ovm/console/%2e%2e/secret.txt", true, 404, "NOT_FOUND");
    check_get("/ovm/console/sub/..%2f..%2fsecret.txt", true, 404,
              "NOT_FOUND");
    check_get("/ovm/console/..%5csecret.txt", true, 404, "NOT_FOUND");
    check_get("/ovm/console/index.html%00.png", true, 404, "NOT_FOUND");
    /* A link inside the root that points outside it. */
    check_get("/ovm/console/leak.txt", false, 404, "NOT_FOUND");
    /* A link that stays inside is fine. */
    check_get("/ovm/console/alias.html", false, 200, NULL);
    /* Directories and missing files. */
    check_get("/ovm/console/sub", false, 404, "NOT_FOUND");
    check_get("/ovm/console/nope.css", false, 404, "NOT_FOUND");
    check_get("/ovm/consolex", false, 404, "NOT_FOUND");

    /* HEAD works, other methods do not. */
    memset(&o, 0, sizeof(o));
    o.head = true;
    url = url_for("/ovm/console/index.html");
    do_request(url, &o, &r);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.len, 0);
    result_free(&r);
    memset(&o, 0, sizeof(o));
    o.body = "x";
    o.body_len = 1;
    do_request(url, &o, &r);
    assert_int_equal(r.status, 405);
    assert_string_equal(result_str(&r, "errorCode"), "METHOD_NOT_ALLOWED");
    assert_non_null(header(&r, "Allow", v, sizeof(v)));
    assert_string_equal(v, "GET, HEAD");
    result_free(&r);
    xfree(url);
}

static void
test_hang_up(void **state)
{
    char *big = url_for("/ovm/console/big.bin");
    char *index = url_for("/ovm/console/");

    (void)state;
    hang_up_on(big, index);
    xfree(big);
    xfree(index);
}

static void
test_routing(void **state)
{
    struct result r;
    char v[256];
    char *url;

    (void)state;
    check_get("/nothing/here", false, 404, "NOT_FOUND");
    check_get("/ovm/core/wsapi/restless", false, 404, "NOT_FOUND");
    check_get(API_BASE "/Vm%00x", true, 400, "INVALID_INPUT");

    url = url_for("/");
    do_request(url, NULL, &r);
    assert_int_equal(r.status, 302);
    assert_non_null(header(&r, "Location", v, sizeof(v)));
    assert_string_equal(v, "/ovm/console/");
    result_free(&r);
    xfree(url);
}

static void
test_api_echo(void **state)
{
    static const char body[] = "{\"name\":\"vm1\"}";
    struct req_opts o;
    struct result r;
    json_object *q, *v;
    const char *s;
    bool b;
    int64_t n;
    char h[256];
    char *url = url_for(API_BASE "/Vm/0004fb00?a=1&b=two%20words&flag");

    (void)state;
    memset(&o, 0, sizeof(o));
    o.method = "PUT";
    o.body = body;
    o.body_len = strlen(body);
    o.headers[0] = "Content-Type: application/json";
    o.headers[1] = "Accept: application/json";
    o.headers[2] = "Authorization: Basic YWRtaW46c2VjcmV0";
    o.headers[3] = "Cookie: other=1; " API_SESSION_COOKIE "=tok123";
    o.headers[4] = API_CSRF_HEADER ": csrf456";
    do_request(url, &o, &r);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(result_str(&r, "method"), "PUT");
    assert_int_equal(json_get_int64(r.json, "methodEnum", &n), 0);
    assert_int_equal(n, API_PUT);
    assert_string_equal(result_str(&r, "path"), API_BASE "/Vm/0004fb00");
    assert_int_equal(json_get_int64(r.json, "bodyLength", &n), 0);
    assert_int_equal(n, (int64_t)strlen(body));
    assert_string_equal(result_str(&r, "contentType"), "application/json");
    assert_string_equal(result_str(&r, "accept"), "application/json");
    assert_string_equal(result_str(&r, "authorization"),
                        "Basic YWRtaW46c2VjcmV0");
    assert_string_equal(result_str(&r, "session"), "tok123");
    assert_string_equal(result_str(&r, "csrf"), "csrf456");
    s = result_str(&r, "host");
    assert_true(str_has_prefix(s, "localhost:"));
    assert_string_equal(result_str(&r, "remote"), "127.0.0.1");
    assert_int_equal(json_get_bool(r.json, "tls", &b), 0);
    assert_true(b);
    assert_true(json_object_object_get_ex(r.json, "query", &q));
    assert_int_equal(json_object_object_length(q), 3);
    assert_true(json_object_object_get_ex(q, "b", &v));
    assert_string_equal(json_object_get_string(v), "two words");
    assert_true(json_object_object_get_ex(q, "flag", &v));
    assert_string_equal(json_object_get_string(v), "");
    assert_non_null(header(&r, "Content-Type", h, sizeof(h)));
    assert_string_equal(h, "application/json");
    assert_non_null(header(&r, "X-Echo", h, sizeof(h)));
    assert_string_equal(h, "yes");
    assert_non_null(header(&r, "Strict-Transport-Security", h, sizeof(h)));
    result_free(&r);
    xfree(url);

    /* A GET has no body: NULL, not "". */
    url = url_for(API_BASE "/Vm");
    do_request(url, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_get_bool(r.json, "hasBody", &b), 0);
    assert_false(b);
    assert_int_equal(json_get_int64(r.json, "methodEnum", &n), 0);
    assert_int_equal(n, API_GET);
    result_free(&r);
    xfree(url);

    /* Unknown methods reach api/ as API_OTHER. */
    memset(&o, 0, sizeof(o));
    o.method = "PATCH";
    url = url_for(API_BASE "/Vm");
    do_request(url, &o, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_get_int64(r.json, "methodEnum", &n), 0);
    assert_int_equal(n, API_OTHER);
    result_free(&r);
    xfree(url);

    /* A text answer keeps its status and type. */
    url = url_for(API_BASE "/text");
    do_request(url, NULL, &r);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.body.data, "plain words");
    assert_non_null(header(&r, "Content-Type", h, sizeof(h)));
    assert_string_equal(h, "text/plain");
    result_free(&r);
    xfree(url);
}

static void
test_api_errors(void **state)
{
    struct req_opts o;
    struct result r;
    char h[256];
    char *url;

    (void)state;
    memset(&o, 0, sizeof(o));
    o.headers[0] = "Accept: application/xml";
    url = url_for(API_BASE "/Vm");
    do_request(url, &o, &r);
    assert_int_equal(r.status, 406);
    assert_string_equal(result_str(&r, "errorCode"), "NOT_ACCEPTABLE");
    assert_string_equal(result_str(&r, "message"),
                        "cannot produce 'application/xml'");
    assert_non_null(header(&r, "Content-Type", h, sizeof(h)));
    assert_string_equal(h, "application/json");
    assert_non_null(header(&r, "Cache-Control", h, sizeof(h)));
    result_free(&r);
    xfree(url);

    url = url_for(API_BASE "/auth");
    do_request(url, NULL, &r);
    assert_int_equal(r.status, 401);
    assert_string_equal(result_str(&r, "errorCode"), "UNAUTHORIZED");
    assert_non_null(header(&r, "WWW-Authenticate", h, sizeof(h)));
    assert_string_equal(h, "Basic realm=\"ovmm\"");
    result_free(&r);
    xfree(url);

    url = url_for(API_BASE "/starting");
    do_request(url, NULL, &r);
    assert_int_equal(r.status, 503);
    assert_string_equal(result_str(&r, "errorCode"), "MANAGER_NOT_RUNNING");
    assert_non_null(header(&r, "Retry-After", h, sizeof(h)));
    assert_string_equal(h, "5");
    result_free(&r);
    xfree(url);

    url = url_for(API_BASE "/boom");
    do_request(url, NULL, &r);
    assert_int_equal(r.status, 500);
    assert_string_equal(result_str(&r, "errorCode"), "DATABASE_ERROR");
    assert_string_equal(result_str(&r, "message"), "database is locked");
    result_free(&r);
    xfree(url);
}

static void
test_too_many_query(void **state)
{
    struct buf b;
    struct result r;
    char *url;
    int i;

    (void)state;
    buf_init(&b, 0);
    buf_puts(&b, API_BASE "/Vm?");
    for (i = 0; i < API_MAX_QUERY; i++)
        buf_printf(&b, "%sk%d=%d", i ? "&" : "", i, i);
    url = url_for(b.data);
    do_request(url, NULL, &r);
    assert_int_equal(r.status, 200);
    result_free(&r);
    xfree(url);

    buf_printf(&b, "&one=more");
    url = url_for(b.data);
    do_request(url, NULL, &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(result_str(&r, "errorCode"), "INVALID_INPUT");
    assert_true(str_has_prefix(result_str(&r, "message"),
                               "too many query parameters"));
    result_free(&r);
    xfree(url);
    buf_release(&b);
}

static void
test_body_limit(void **state)
{
    struct req_opts o;
    struct result r;
    char big[MAX_BODY + 200];
    char *url = url_for(API_BASE "/Vm");
    int64_t n;

    (void)state;
    memset(big, 'a', sizeof(big));

    /* Exactly at the limit is fine, in one piece or chunked. */
    memset(&o, 0, sizeof(o));
    o.body = big;
    o.body_len = MAX_BODY;
    do_request(url, &o, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_get_int64(r.json, "bodyLength", &n), 0);
    assert_int_equal(n, MAX_BODY);
    result_free(&r);
    o.chunked = true;
    do_request(url, &o, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_get_int64(r.json, "bodyLength", &n), 0);
    assert_int_equal(n, MAX_BODY);
    result_free(&r);

    /* Content-Length over the limit: refused before the body is read. */
    memset(&o, 0, sizeof(o));
    o.body = big;
    o.body_len = sizeof(big);
    do_request(url, &o, &r);
    assert_int_equal(r.status, 413);
    assert_string_equal(result_str(&r, "errorCode"), "REQUEST_TOO_LARGE");
    result_free(&r);

    /* A chunked body that streams past the limit. */
    o.chunked = true;
    do_request(url, &o, &r);
    assert_int_equal(r.status, 413);
    assert_string_equal(result_str(&r, "errorCode"), "REQUEST_TOO_LARGE");
    result_free(&r);
    xfree(url);
}

static void
test_redirector(void **state)
{
    struct req_opts o;
    struct result r;
    char h[512], *url, *want;

    (void)state;
    url = xasprintf("http://127.0.0.1:%u" API_BASE "/Vm?a=1&b=%%20x",
                    (unsigned)fx.rport);
    memset(&o, 0, sizeof(o));
    o.headers[0] = "Host: ovm.example.com:7001";
    do_request(url, &o, &r);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 301);
    want = xasprintf("https://ovm.example.com:%u" API_BASE "/Vm?a=1&b=%%20x",
                     (unsigned)fx.port);
    assert_non_null(header(&r, "Location", h, sizeof(h)));
    assert_string_equal(h, want);
    assert_string_equal(result_str(&r, "location"), want);
    assert_null(header(&r, "Strict-Transport-Security", h, sizeof(h)));
    result_free(&r);
    xfree(want);

    /* A Host we do not trust falls back to the listen address; a body
     * and another method change nothing. */
    memset(&o, 0, sizeof(o));
    o.headers[0] = "Host: evil\"name";
    o.body = "{}";
    o.body_len = 2;
    do_request(url, &o, &r);
    assert_int_equal(r.status, 301);
    want = xasprintf("https://127.0.0.1:%u" API_BASE "/Vm?a=1&b=%%20x",
                     (unsigned)fx.port);
    assert_non_null(header(&r, "Location", h, sizeof(h)));
    assert_string_equal(h, want);
    result_free(&r);
    xfree(want);
    xfree(url);

    /* IPv6 literal Host headers keep their brackets. */
    url = xasprintf("http://127.0.0.1:%u/", (unsigned)fx.rport);
    memset(&o, 0, sizeof(o));
    o.headers[0] = "Host: [fe80::1]:7001";
    do_request(url, &o, &r);
    assert_int_equal(r.status, 301);
    want = xasprintf("https://[fe80::1]:%u/", (unsigned)fx.port);
    assert_non_null(header(&r, "Location", h, sizeof(h)));
    assert_string_equal(h, want);
    result_free(&r);
    xfree(want);
    xfree(url);
}

/* Send @raw to 127.0.0.1:@port and return the status of the answer. */
static int
raw_exchange(uint16_t port, const char *raw)
{
    struct sockaddr_in sin;
    char reply[512];
    ssize_t n;
    int fd, status = -1;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(write(fd, raw, strlen(raw)), (ssize_t)strlen(raw));
    n = read(fd, reply, sizeof(reply) - 1);
    if (n > 0) {
        reply[n] = '\0';
        if (sscanf(reply, "HTTP/1.%*d %d", &status) != 1)
            status = -1;
    }
    close(fd);
    return status;
}

static void
test_malformed(void **state)
{
    (void)state;
    /* MHD answers these itself; our request state must still be freed
     * (the leak checker watches) and the server must go on. */
    assert_int_equal(raw_exchange(fx.rport, "GET /x HTTP/1.1\r\n"
                                  "Host: a\r\nno colon here\r\n\r\n"), 400);
    assert_int_equal(raw_exchange(fx.rport, "GET /x HTTP/1.1\r\n"
                                  "Host: a\r\nContent-Length: zz\r\n\r\n"),
                     400);
    assert_int_equal(raw_exchange(fx.rport, "GET /x HTTP/1.1\r\n"
                                  "Host: a\r\n\r\n"), 301);
}

/* ---- start-up errors and plain HTTP ---- */

static void
test_listen_errors(void **state)
{
    static const char *const bad[] = {
        "nonsense", "1.2.3.4", "[::1", "[::1]7002", "::1:7002",
        "127.0.0.1:99999", "127.0.0.1:x", ":7002", "127.0.0.1:",
        "no-such-host.invalid:7002",
    };
    struct http_conf conf;
    char *want, *listen;
    size_t i;

    (void)state;
    memset(&conf, 0, sizeof(conf));
    conf.max_body = MAX_BODY;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        conf.listen = bad[i];
        err_clear();
        assert_null(http_server_start(&conf));
        assert_int_equal(err_code(), ERR_CONFIG);
        want = xasprintf("invalid listen address '%s'", bad[i]);
        assert_true(str_has_prefix(err_message(), want));
        xfree(want);
    }
    /* A port somebody else holds. */
    listen = xasprintf("127.0.0.1:%u", (unsigned)fx.port);
    conf.listen = listen;
    assert_null(http_server_start(&conf));
    assert_int_equal(err_code(), ERR_IO);
    want = xasprintf("cannot listen on '%s': ", listen);
    assert_true(str_has_prefix(err_message(), want));
    xfree(want);
    /* A bad redirector address stops the whole start. */
    conf.listen = "127.0.0.1:0";
    conf.http_listen = listen;
    assert_null(http_server_start(&conf));
    assert_int_equal(err_code(), ERR_IO);
    /* TLS without readable files. */
    conf.http_listen = NULL;
    conf.tls = true;
    conf.cert_file = "/nonexistent/cert.pem";
    conf.key_file = "/nonexistent/key.pem";
    assert_null(http_server_start(&conf));
    assert_int_equal(err_code(), ERR_IO);
    assert_non_null(strstr(err_message(), "'/nonexistent/cert.pem'"));
    xfree(listen);
}

static void
test_plain_ipv6(void **state)
{
    struct http_conf conf;
    struct http_server *s;
    struct result r;
    char *url;
    bool b;

    (void)state;
    memset(&conf, 0, sizeof(conf));
    conf.listen = "[::1]:0";
    conf.max_body = MAX_BODY;
    conf.timeout_s = 5;
    conf.web_root = fx.web;
    s = http_server_start(&conf);
    if (!s) {
        /* No IPv6 loopback in this sandbox: try plain HTTP on IPv4. */
        fprintf(stderr, "# no IPv6: %s\n", err_message());
        conf.listen = "localhost:0";
        s = http_server_start(&conf);
        assert_non_null(s);
        url = xasprintf("http://127.0.0.1:%u" API_BASE "/Vm",
                        (unsigned)http_server_port(s, false));
    } else {
        url = xasprintf("http://[::1]:%u" API_BASE "/Vm",
                        (unsigned)http_server_port(s, false));
    }
    assert_int_equal(http_server_port(s, true), 0);
    {
        char *big = xasprintf("%.*s/ovm/console/big.bin",
                              (int)(strstr(url, API_BASE) - url), url);

        hang_up_on(big, url);
        xfree(big);
    }
    do_request(url, NULL, &r);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_get_bool(r.json, "tls", &b), 0);
    assert_false(b);
    result_free(&r);
    xfree(url);
    http_server_stop(s);
    http_server_stop(NULL);
    assert_int_equal(http_server_port(NULL, false), 0);
}

/* ---- long-polls and streams ---- */

/* A request in flight on its own thread; the test thread watches it. */
struct bg {
    pthread_t thread;
    char *url;
    const char *headers[4];
    const char *abort_on;      /* hang up once the body contains this */
    long timeout_s;            /* curl's limit */
    pthread_mutex_t lock;
    struct buf body;           /* protected by lock */
    struct buf hdrs;           /* written by the thread before done */
    long status;               /* written by the thread before done */
    CURLcode rc;               /* written by the thread before done */
    atomic_bool done;
    int64_t done_ms;           /* when curl returned */
};

static size_t
bg_on_body(char *ptr, size_t size, size_t n, void *cls)
{
    struct bg *b = cls;
    bool stop;

    pthread_mutex_lock(&b->lock);
    if (buf_append(&b->body, ptr, size * n) < 0) {
        pthread_mutex_unlock(&b->lock);
        return 0;
    }
    stop = b->abort_on && strstr(b->body.data, b->abort_on);
    pthread_mutex_unlock(&b->lock);
    return stop ? 0 : size * n;
}

static size_t
bg_on_header(char *ptr, size_t size, size_t n, void *cls)
{
    struct bg *b = cls;

    if (buf_append(&b->hdrs, ptr, size * n) < 0)
        return 0;
    return size * n;
}

/* The thread: no cmocka assertions here, they would jump across threads. */
static void *
bg_main(void *cls)
{
    struct bg *b = cls;
    CURL *h = curl_easy_init();
    struct curl_slist *hdrs = NULL, *res = NULL;
    size_t i;

    res = curl_slist_append(res, fx.resolve);
    curl_easy_setopt(h, CURLOPT_URL, b->url);
    curl_easy_setopt(h, CURLOPT_RESOLVE, res);
    curl_easy_setopt(h, CURLOPT_CAINFO, fx.cert);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, b->timeout_s);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, bg_on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, bg_on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, b);
    for (i = 0; i < 4 && b->headers[i]; i++)
        hdrs = curl_slist_append(hdrs, b->headers[i]);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    b->rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &b->status);
    curl_slist_free_all(hdrs);
    curl_slist_free_all(res);
    curl_easy_cleanup(h);
    b->done_ms = time_mono_ms();
    atomic_store(&b->done, true);
    return NULL;
}

/* Start GET @url (owned by @b from here) on a thread. */
static void
bg_start(struct bg *b, char *url, const char *abort_on)
{
    memset(b, 0, sizeof(*b));
    b->url = url;
    b->abort_on = abort_on;
    b->timeout_s = 30;
    pthread_mutex_init(&b->lock, NULL);
    buf_init(&b->body, 1 << 20);
    buf_init(&b->hdrs, 1 << 16);
    atomic_init(&b->done, false);
    assert_int_equal(pthread_create(&b->thread, NULL, bg_main, b), 0);
}

/* Wait for the thread; the body is then parsed as JSON when it is. */
static json_object *
bg_join(struct bg *b)
{
    assert_int_equal(pthread_join(b->thread, NULL), 0);
    if (b->rc != CURLE_OK)
        fprintf(stderr, "# curl %s: %s\n", b->url, curl_easy_strerror(b->rc));
    if (b->body.len && b->body.data[0] == '{')
        return json_parse(b->body.data, b->body.len);
    return NULL;
}

static void
bg_free(struct bg *b)
{
    buf_release(&b->body);
    buf_release(&b->hdrs);
    pthread_mutex_destroy(&b->lock);
    xfree(b->url);
}

static bool
bg_has(struct bg *b, const char *needle)
{
    bool found;

    pthread_mutex_lock(&b->lock);
    found = b->body.data && strstr(b->body.data, needle);
    pthread_mutex_unlock(&b->lock);
    return found;
}

/* Poll @cond(@cls) every 10 ms for at most 10 s: never a tight bound. */
static bool
eventually(bool (*cond)(void *), void *cls)
{
    int64_t end = time_mono_ms() + 10000;

    while (!cond(cls)) {
        if (time_mono_ms() > end)
            return false;
        usleep(10 * 1000);
    }
    return true;
}

struct count_at_least {
    atomic_int *counter;
    int want;
};

static bool
cond_count(void *cls)
{
    struct count_at_least *c = cls;

    return atomic_load(c->counter) >= c->want;
}

struct body_has {
    struct bg *b;
    const char *needle;
};

static bool
cond_body(void *cls)
{
    struct body_has *c = cls;

    return bg_has(c->b, c->needle);
}

static bool
cond_done(void *cls)
{
    struct bg *b = cls;

    return atomic_load(&b->done);
}

/* Wait until the long-poll stand-in has asked to wait @n times in all. */
static void
wait_for_waits(int n)
{
    struct count_at_least c = { &poll_waits, n };

    assert_true(eventually(cond_count, &c));
}

static void
wait_for_body(struct bg *b, const char *needle)
{
    struct body_has c = { b, needle };

    if (!eventually(cond_body, &c))
        fprintf(stderr, "# no '%s' in '%s'\n", needle,
                b->body.data ? b->body.data : "");
    assert_true(bg_has(b, needle));
}

static void
wait_for_frees(int n)
{
    struct count_at_least c = { &stream_frees, n };

    assert_true(eventually(cond_count, &c));
}

static int64_t
get_int(json_object *o, const char *key)
{
    int64_t v = -1;

    assert_non_null(o);
    assert_int_equal(json_get_int64(o, key, &v), 0);
    return v;
}

static bool
get_bool(json_object *o, const char *key)
{
    bool v = false;

    assert_non_null(o);
    assert_int_equal(json_get_bool(o, key, &v), 0);
    return v;
}

static void
test_api_req_fields(void **state)
{
    struct req_opts o;
    struct result r;
    int64_t before, after, arrival;
    bool b;
    char *url = url_for(API_BASE "/Vm");

    (void)state;
    memset(&o, 0, sizeof(o));
    o.headers[0] = "Last-Event-ID: 42";
    before = time_mono_ms();
    do_request(url, &o, &r);
    after = time_mono_ms();
    assert_int_equal(r.status, 200);
    assert_string_equal(result_str(&r, "lastEventId"), "42");
    arrival = get_int(r.json, "arrivalMs");
    assert_true(arrival >= before && arrival <= after);
    assert_int_equal(get_int(r.json, "resumed"), 0);
    assert_int_equal(json_get_bool(r.json, "noWait", &b), 0);
    assert_false(b);
    result_free(&r);

    /* Absent, it is NULL. */
    do_request(url, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_true(json_object_object_get_ex(r.json, "lastEventId", NULL));
    assert_null(json_object_object_get(r.json, "lastEventId"));
    result_free(&r);
    xfree(url);
}

static void
test_poll_publish(void **state)
{
    struct bg b;
    json_object *o;
    int64_t published;
    int waits = atomic_load(&poll_waits);

    (void)state;
    bg_start(&b, url_for(API_BASE "/Poll/job:7?timeout=10000"), NULL);
    wait_for_waits(waits + 1);
    /* Another key wakes nothing: the request stays open. */
    notify_publish("job:8");
    usleep(200 * 1000);
    assert_false(atomic_load(&b.done));
    published = time_mono_ms();
    poll_fire("job:7");
    o = bg_join(&b);
    assert_int_equal(b.rc, CURLE_OK);
    assert_int_equal(b.status, 200);
    assert_true(get_bool(o, "fired"));
    assert_false(get_bool(o, "timedOut"));
    assert_false(get_bool(o, "noWait"));
    assert_true(get_int(o, "resumed") >= 1);
    /* Answered after the publish, from a request that arrived before it
     * (arrival_ms is the first arrival, not the re-dispatch), well before
     * the 10 s deadline. */
    assert_true(get_int(o, "answeredMs") >= published);
    assert_true(get_int(o, "arrivalMs") <= published);
    assert_true(b.done_ms < get_int(o, "arrivalMs") + 10000);
    json_object_put(o);
    bg_free(&b);

    /* An empty wait key: any publish wakes it. */
    waits = atomic_load(&poll_waits);
    bg_start(&b, url_for(API_BASE "/Poll/?timeout=10000"), NULL);
    wait_for_waits(waits + 1);
    notify_publish("anything:1");
    o = bg_join(&b);
    assert_int_equal(b.status, 200);
    assert_true(get_bool(o, "fired"));
    assert_false(get_bool(o, "timedOut"));
    assert_true(get_int(o, "resumed") >= 1);
    json_object_put(o);
    bg_free(&b);

    /* "*" wakes every key. */
    waits = atomic_load(&poll_waits);
    bg_start(&b, url_for(API_BASE "/Poll/job:9?timeout=10000"), NULL);
    wait_for_waits(waits + 1);
    poll_fire("job:9-other");
    pthread_mutex_lock(&fired_lock);
    str_copy(fired[nfired++], "job:9", sizeof(fired[0]));
    pthread_mutex_unlock(&fired_lock);
    notify_publish("*");
    o = bg_join(&b);
    assert_int_equal(b.status, 200);
    assert_true(get_bool(o, "fired"));
    json_object_put(o);
    bg_free(&b);
}

static void
test_poll_deadline(void **state)
{
    struct bg b;
    json_object *o;
    int64_t arrival;

    (void)state;
    bg_start(&b, url_for(API_BASE "/Poll/never?timeout=700"), NULL);
    o = bg_join(&b);
    assert_int_equal(b.rc, CURLE_OK);
    assert_int_equal(b.status, 200);
    assert_false(get_bool(o, "fired"));
    assert_true(get_bool(o, "timedOut"));
    assert_true(get_int(o, "resumed") >= 1);
    arrival = get_int(o, "arrivalMs");
    /* At the deadline, not before it, and not at curl's 30 s limit. */
    assert_true(get_int(o, "answeredMs") >= arrival + 700);
    assert_true(b.done_ms < arrival + 10000);
    json_object_put(o);
    bg_free(&b);

    /* A deadline gone by the time http/ looks is dispatched again at once;
     * the future deadline the handler gives then is kept. */
    bg_start(&b, url_for(API_BASE "/Poll/never?timeout=500&past=1"), NULL);
    o = bg_join(&b);
    assert_int_equal(b.status, 200);
    assert_true(get_bool(o, "timedOut"));
    assert_true(get_int(o, "resumed") >= 2);
    assert_true(get_int(o, "answeredMs") >= get_int(o, "arrivalMs") + 500);
    json_object_put(o);
    bg_free(&b);

    /* A handler that keeps waiting past its deadline gets a 500, not a
     * spinning thread. */
    check_get(API_BASE "/Poll/never?bad=1", false, 500, "INTERNAL_ERROR");
}

static void
test_poll_frees_thread(void **state)
{
    struct bg b;
    struct result r;
    json_object *o;
    char *url = url_for(API_BASE "/Vm");
    int waits = atomic_load(&poll_waits);

    (void)state;
    bg_start(&b, url_for(API_BASE "/Poll/job:one?timeout=10000"), NULL);
    wait_for_waits(waits + 1);
    /* The server's only thread is free while the long-poll waits. */
    do_request(url, NULL, &r);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_false(atomic_load(&b.done));
    result_free(&r);
    check_get("/ovm/console/", false, 200, NULL);
    assert_false(atomic_load(&b.done));
    poll_fire("job:one");
    o = bg_join(&b);
    assert_int_equal(b.status, 200);
    assert_true(get_bool(o, "fired"));
    json_object_put(o);
    bg_free(&b);
    xfree(url);
}

/* The "data:" lines of @body, in order, as "item-1,item-2,...". */
static void
stream_items_of(const char *body, char *out, size_t size)
{
    const char *p = body;
    size_t len = 0;

    out[0] = '\0';
    while (p && (p = strstr(p, "data: ")) != NULL) {
        const char *eol = strchr(p, '\n');
        int n = eol ? (int)(eol - p - 6) : (int)strlen(p + 6);

        len += (size_t)snprintf(out + len, size - len, "%s%.*s",
                                len ? "," : "", n, p + 6);
        if (len >= size)
            break;
        p += 6;
    }
}

static void
test_stream(void **state)
{
    struct bg b;
    char v[256], items[256];
    int frees = atomic_load(&stream_frees);
    int beats = atomic_load(&stream_beats);

    (void)state;
    bg_start(&b, url_for(API_BASE "/Stream?n=3&hb=300"), NULL);
    wait_for_body(&b, ": open\n\n");
    /* An idle stream holds no thread either. */
    check_get(API_BASE "/Vm", false, 200, NULL);
    assert_false(atomic_load(&b.done));
    stream_produce();
    wait_for_body(&b, "data: item-1\n\n");
    /* Idle: a heartbeat comment comes after hb ms without data. */
    wait_for_body(&b, ": hb\n\n");
    assert_true(atomic_load(&stream_beats) > beats);
    assert_false(bg_has(&b, "item-2"));
    stream_produce();
    stream_produce();
    /* A fourth item is past n: the stream has ended by then. */
    stream_produce();
    assert_null(bg_join(&b));
    assert_int_equal(b.rc, CURLE_OK);
    assert_int_equal(b.status, 200);
    stream_items_of(b.body.data, items, sizeof(items));
    assert_string_equal(items, "item-1,item-2,item-3");
    assert_non_null(header_in(&b.hdrs, "Content-Type", v, sizeof(v)));
    assert_string_equal(v, "text/event-stream");
    assert_non_null(header_in(&b.hdrs, "Cache-Control", v, sizeof(v)));
    assert_string_equal(v, "no-store");
    assert_non_null(header_in(&b.hdrs, "X-Accel-Buffering", v, sizeof(v)));
    assert_string_equal(v, "no");
    assert_non_null(header_in(&b.hdrs, "Transfer-Encoding", v, sizeof(v)));
    assert_string_equal(v, "chunked");
    assert_non_null(header_in(&b.hdrs, "Strict-Transport-Security", v,
                              sizeof(v)));
    /* free() ran once, and only once. */
    wait_for_frees(frees + 1);
    usleep(100 * 1000);
    assert_int_equal(atomic_load(&stream_frees), frees + 1);
    bg_free(&b);
}

static void
test_stream_hang_up(void **state)
{
    struct bg b;
    int frees = atomic_load(&stream_frees);

    (void)state;
    /* The client hangs up after the first item; the stream is idle then
     * (suspended, where MHD does not see a disconnect), so it is the
     * heartbeat write that notices and ends the request. */
    bg_start(&b, url_for(API_BASE "/Stream?n=100&hb=200"), "item-1");
    wait_for_body(&b, ": open\n\n");
    stream_produce();
    assert_null(bg_join(&b));
    assert_int_equal(b.rc, CURLE_WRITE_ERROR);
    wait_for_frees(frees + 1);
    usleep(300 * 1000);
    assert_int_equal(atomic_load(&stream_frees), frees + 1);
    bg_free(&b);
    /* The server goes on. */
    check_get(API_BASE "/Vm", false, 200, NULL);
}

/* A plain-HTTP server of one thread for the stop tests; *@port. */
static struct http_server *
stop_server_start(uint16_t *port)
{
    struct http_conf conf;
    struct http_server *s;

    memset(&conf, 0, sizeof(conf));
    conf.listen = "127.0.0.1:0";
    conf.max_body = MAX_BODY;
    conf.timeout_s = 10;
    conf.threads = 1;
    s = http_server_start(&conf);
    assert_non_null(s);
    *port = http_server_port(s, false);
    return s;
}

static void
test_stop_wakes(void **state)
{
    struct http_server *s;
    struct bg poll, stream;
    json_object *o;
    char items[64];
    uint16_t port;
    int64_t t0, took;
    int waits = atomic_load(&poll_waits);
    int nowait = atomic_load(&poll_nowait);
    int frees = atomic_load(&stream_frees);

    (void)state;
    s = stop_server_start(&port);
    /* A long-poll and a stream, both suspended, deadlines far away. */
    bg_start(&poll, xasprintf("http://127.0.0.1:%u" API_BASE
                              "/Poll/job:stop?timeout=60000", port), NULL);
    bg_start(&stream, xasprintf("http://127.0.0.1:%u" API_BASE
                                "/Stream?n=5&hb=60000", port), NULL);
    wait_for_waits(waits + 1);
    wait_for_body(&stream, ": open\n\n");
    t0 = time_mono_ms();
    http_server_stop(s);
    took = time_mono_ms() - t0;
    /* Promptly: far from the 60 s deadline and heartbeat. */
    assert_true(took < 20000);
    o = bg_join(&poll);
    assert_int_equal(poll.rc, CURLE_OK);
    assert_int_equal(poll.status, 200);
    assert_true(get_bool(o, "noWait"));
    assert_false(get_bool(o, "fired"));
    assert_true(atomic_load(&poll_nowait) > nowait);
    json_object_put(o);
    /* The stream ended cleanly (the last chunk arrived), with no item. */
    assert_null(bg_join(&stream));
    assert_int_equal(stream.rc, CURLE_OK);
    assert_int_equal(stream.status, 200);
    stream_items_of(stream.body.data, items, sizeof(items));
    assert_string_equal(items, "");
    assert_int_equal(atomic_load(&stream_frees), frees + 1);
    bg_free(&poll);
    bg_free(&stream);

    /* Quiesce alone already answers a waiting long-poll. */
    waits = atomic_load(&poll_waits);
    s = stop_server_start(&port);
    bg_start(&poll, xasprintf("http://127.0.0.1:%u" API_BASE
                              "/Poll/job:quiesce?timeout=60000", port), NULL);
    wait_for_waits(waits + 1);
    http_server_quiesce(s);
    assert_true(eventually(cond_done, &poll));
    o = bg_join(&poll);
    assert_int_equal(poll.status, 200);
    assert_true(get_bool(o, "noWait"));
    json_object_put(o);
    bg_free(&poll);
    http_server_stop(s);
}

int
main(void)
{
    const struct CMUnitTest unit[] = {
        cmocka_unit_test(test_status_table),
        cmocka_unit_test(test_cert_create),
        cmocka_unit_test(test_cert_mismatch),
        cmocka_unit_test(test_cert_lonely),
    };
    const struct CMUnitTest server[] = {
        cmocka_unit_test(test_tls_index),
        cmocka_unit_test(test_static_guards),
        cmocka_unit_test(test_hang_up),
        cmocka_unit_test(test_routing),
        cmocka_unit_test(test_api_echo),
        cmocka_unit_test(test_api_errors),
        cmocka_unit_test(test_too_many_query),
        cmocka_unit_test(test_body_limit),
        cmocka_unit_test(test_redirector),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_api_req_fields),
        cmocka_unit_test(test_poll_publish),
        cmocka_unit_test(test_poll_deadline),
        cmocka_unit_test(test_poll_frees_thread),
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_stream_hang_up),
        cmocka_unit_test(test_stop_wakes),
        cmocka_unit_test(test_listen_errors),
        cmocka_unit_test(test_plain_ipv6),
    };
    int rc;

    cmocka_set_message_output(CM_OUTPUT_TAP);
    log_set_level(getenv("TEST_HTTP_VERBOSE") ? LOG_LEVEL_DEBUG
                                              : LOG_LEVEL_ERROR);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests_name("http", unit, NULL, NULL);
    rc += cmocka_run_group_tests_name("http_server", server, server_setup,
                                      server_teardown);
    curl_global_cleanup();
    return rc ? 1 : 0;
}
