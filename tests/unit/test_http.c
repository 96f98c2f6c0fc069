/*
 * test_http.c - http/: the err -> status table, TLS certificate files,
 * and a real server on loopback driven by libcurl with certificate
 * verification on: static files and their guards, body limits, routing,
 * error mapping end to end, and the plain-HTTP redirector.
 *
 * DESIGN: api/ is written in parallel, so this file carries its own small
 * api_dispatch(): it echoes what http/ put into struct api_req as JSON,
 * and fails with chosen codes on chosen paths, so every field and the
 * error path can be checked from the client side. The server runs on its
 * own MHD thread; the stand-in only reads its arguments, so it needs no
 * locking. One server (HTTPS plus redirector) is shared by the group.
 */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
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
header(const struct result *r, const char *name, char *out, size_t size)
{
    const char *p = r->headers.data;
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
json_str(const struct result *r, const char *key)
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
        assert_string_equal(json_str(&r, "errorCode"), code);
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
    assert_string_equal(json_str(&r, "errorCode"), "METHOD_NOT_ALLOWED");
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
    assert_string_equal(json_str(&r, "method"), "PUT");
    assert_int_equal(json_get_int64(r.json, "methodEnum", &n), 0);
    assert_int_equal(n, API_PUT);
    assert_string_equal(json_str(&r, "path"), API_BASE "/Vm/0004fb00");
    assert_int_equal(json_get_int64(r.json, "bodyLength", &n), 0);
    assert_int_equal(n, (int64_t)strlen(body));
    assert_string_equal(json_str(&r, "contentType"), "application/json");
    assert_string_equal(json_str(&r, "accept"), "application/json");
    assert_string_equal(json_str(&r, "authorization"),
                        "Basic YWRtaW46c2VjcmV0");
    assert_string_equal(json_str(&r, "session"), "tok123");
    assert_string_equal(json_str(&r, "csrf"), "csrf456");
    s = json_str(&r, "host");
    assert_true(str_has_prefix(s, "localhost:"));
    assert_string_equal(json_str(&r, "remote"), "127.0.0.1");
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
    assert_string_equal(json_str(&r, "errorCode"), "NOT_ACCEPTABLE");
    assert_string_equal(json_str(&r, "message"),
                        "cannot produce 'application/xml'");
    assert_non_null(header(&r, "Content-Type", h, sizeof(h)));
    assert_string_equal(h, "application/json");
    assert_non_null(header(&r, "Cache-Control", h, sizeof(h)));
    result_free(&r);
    xfree(url);

    url = url_for(API_BASE "/auth");
    do_request(url, NULL, &r);
    assert_int_equal(r.status, 401);
    assert_string_equal(json_str(&r, "errorCode"), "UNAUTHORIZED");
    assert_non_null(header(&r, "WWW-Authenticate", h, sizeof(h)));
    assert_string_equal(h, "Basic realm=\"ovmm\"");
    result_free(&r);
    xfree(url);

    url = url_for(API_BASE "/starting");
    do_request(url, NULL, &r);
    assert_int_equal(r.status, 503);
    assert_string_equal(json_str(&r, "errorCode"), "MANAGER_NOT_RUNNING");
    assert_non_null(header(&r, "Retry-After", h, sizeof(h)));
    assert_string_equal(h, "5");
    result_free(&r);
    xfree(url);

    url = url_for(API_BASE "/boom");
    do_request(url, NULL, &r);
    assert_int_equal(r.status, 500);
    assert_string_equal(json_str(&r, "errorCode"), "DATABASE_ERROR");
    assert_string_equal(json_str(&r, "message"), "database is locked");
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
    assert_string_equal(json_str(&r, "errorCode"), "INVALID_INPUT");
    assert_true(str_has_prefix(json_str(&r, "message"),
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
    assert_string_equal(json_str(&r, "errorCode"), "REQUEST_TOO_LARGE");
    result_free(&r);

    /* A chunked body that streams past the limit. */
    o.chunked = true;
    do_request(url, &o, &r);
    assert_int_equal(r.status, 413);
    assert_string_equal(json_str(&r, "errorCode"), "REQUEST_TOO_LARGE");
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
    assert_string_equal(json_str(&r, "location"), want);
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
