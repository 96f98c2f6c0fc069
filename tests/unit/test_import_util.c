/*
 * test_import_util.c - the leaf helpers behind imports: util/fetch.c
 * against a real libmicrohttpd server on 127.0.0.1, util/archive.c on
 * archives written here with libarchive's write API, util/vmcfg.c and
 * util/ovf.c on realistic and hostile inputs.
 *
 * DESIGN: four cmocka groups, one per module. The fetch group starts one
 * server on 127.0.0.1 with a kernel-chosen port (thread per connection,
 * so a deliberately slow answer never holds up the next test) and counts
 * the requests it sees, so a test can prove that a refused download sent
 * nothing. Only loopback is ever contacted: every non-loopback address in
 * this file goes to fetch_url_check() alone, which makes no traffic.
 * The archive group runs every walk with the working directory set to an
 * empty directory and checks afterwards that it, the archive directory
 * and the targets the hostile entries name are untouched.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>
#include <archive.h>
#include <archive_entry.h>
#include <microhttpd.h>

#include "util/alloc.h"
#include "util/archive.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fetch.h"
#include "util/json.h"
#include "util/ovf.h"
#include "util/str.h"
#include "util/vmcfg.h"
#include "tmpdir.h"

/* ================================================================ */
/* fetch                                                            */
/* ================================================================ */

#define BODY_LEN 100000        /* /body */
#define BIG_LEN (1u << 20)     /* /big and /big-chunked */
#define SLOW_LEN 200           /* /slow: one byte every SLOW_MS */
#define SLOW_MS 50
#define STALL_MS 2000          /* /stall: headers after this long */

static struct MHD_Daemon *srv;
static unsigned srv_port;
static atomic_int srv_requests;
static char body[BODY_LEN];

/* The byte at offset @i of every generated body. */
static char
pattern_at(uint64_t i)
{
    return (char)((i * 7 + 3) & 0xff);
}

/* Content reader for /big and /big-chunked: the pattern up to BIG_LEN. */
static ssize_t
big_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    size_t i, n;

    (void)cls;
    if (pos >= BIG_LEN)
        return MHD_CONTENT_READER_END_OF_STREAM;
    n = BIG_LEN - pos < max ? (size_t)(BIG_LEN - pos) : max;
    for (i = 0; i < n; i++)
        buf[i] = pattern_at(pos + i);
    return (ssize_t)n;
}

/* Content reader for /slow: one byte every SLOW_MS. */
static ssize_t
slow_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)cls;
    if (pos >= SLOW_LEN || max == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    usleep(SLOW_MS * 1000);
    buf[0] = 's';
    return 1;
}

/* Queue a redirect to @location with status 302. */
static enum MHD_Result
srv_redirect(struct MHD_Connection *conn, const char *location)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret;

    MHD_add_response_header(r, "Location", location);
    ret = MHD_queue_response(conn, 302, r);
    MHD_destroy_response(r);
    return ret;
}

/* The test server: one route per behaviour fetch_url() must handle. */
static enum MHD_Result
srv_handler(void *cls, struct MHD_Connection *conn, const char *url,
            const char *method, const char *version, const char *upload,
            size_t *upload_size, void **con_cls)
{
    static int seen;
    struct MHD_Response *r = NULL;
    unsigned status = 200;
    char loc[128];
    enum MHD_Result ret;

    (void)cls;
    (void)method;
    (void)version;
    (void)upload;
    (void)upload_size;
    if (!*con_cls) {
        /* First call of a request: count it, answer on the next. */
        *con_cls = &seen;
        atomic_fetch_add(&srv_requests, 1);
        return MHD_YES;
    }
    if (strcmp(url, "/body") == 0) {
        r = MHD_create_response_from_buffer(sizeof(body), body,
                                            MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(r, "Content-Type", "application/octet-stream");
    } else if (strcmp(url, "/redirect") == 0) {
        return srv_redirect(conn, "/body");
    } else if (strcmp(url, "/redirect-ftp") == 0) {
        snprintf(loc, sizeof(loc), "ftp://127.0.0.1:%u/body", srv_port);
        return srv_redirect(conn, loc);
    } else if (strcmp(url, "/redirect-other") == 0) {
        snprintf(loc, sizeof(loc), "http://127.0.0.2:%u/body", srv_port);
        return srv_redirect(conn, loc);
    } else if (strcmp(url, "/redirect-loop") == 0) {
        return srv_redirect(conn, "/redirect-loop");
    } else if (strcmp(url, "/big") == 0) {
        r = MHD_create_response_from_callback(BIG_LEN, 16384, big_reader,
                                              NULL, NULL);
    } else if (strcmp(url, "/big-chunked") == 0) {
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384,
                                              big_reader, NULL, NULL);
    } else if (strcmp(url, "/slow") == 0) {
        r = MHD_create_response_from_callback(SLOW_LEN, 1, slow_reader,
                                              NULL, NULL);
    } else if (strcmp(url, "/stall") == 0) {
        usleep(STALL_MS * 1000);
        r = MHD_create_response_from_buffer(4, (void *)"late",
                                            MHD_RESPMEM_PERSISTENT);
    } else if (strcmp(url, "/error") == 0) {
        status = 500;
        r = MHD_create_response_from_buffer(4, (void *)"oops",
                                            MHD_RESPMEM_PERSISTENT);
    } else {
        status = 404;
        r = MHD_create_response_from_buffer(9, (void *)"not found",
                                            MHD_RESPMEM_PERSISTENT);
    }
    ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static int
fetch_setup(void **state)
{
    struct sockaddr_in sa;
    const union MHD_DaemonInfo *info;
    size_t i;

    (void)state;
    if (fetch_global_init() < 0)
        return -1;
    for (i = 0; i < sizeof(body); i++)
        body[i] = pattern_at(i);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = 0;   /* the kernel picks a free port */
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    srv = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
                               MHD_USE_THREAD_PER_CONNECTION,
                           0, NULL, NULL, srv_handler, NULL,
                           MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                           MHD_OPTION_END);
    if (!srv)
        return -1;
    info = MHD_get_daemon_info(srv, MHD_DAEMON_INFO_BIND_PORT);
    if (!info || info->port == 0)
        return -1;
    srv_port = info->port;
    return 0;
}

static int
fetch_teardown(void **state)
{
    (void)state;
    if (srv)
        MHD_stop_daemon(srv);
    srv = NULL;
    fetch_global_cleanup();
    return 0;
}

/* What a test's sink saw. */
struct sink_state {
    struct buf data;
    int progress_calls;
    int64_t progress_at[64];
    uint64_t last_done, last_total;
    int abort_after_progress;   /* abort once this many reports came */
    int64_t abort_at;           /* abort from this time_mono_ms() on */
    bool abort_flag;
    bool fail_write;
};

static int
sink_write(void *opaque, const void *buf, size_t len)
{
    struct sink_state *s = opaque;

    if (s->fail_write) {
        err_set(ERR_IO, "cannot write volume: disk full");
        return -1;
    }
    return buf_append(&s->data, buf, len);
}

static void
sink_progress(void *opaque, uint64_t done, uint64_t total)
{
    struct sink_state *s = opaque;

    if (s->progress_calls < 64)
        s->progress_at[s->progress_calls] = time_mono_ms();
    s->progress_calls++;
    s->last_done = done;
    s->last_total = total;
    if (s->abort_after_progress &&
        s->progress_calls >= s->abort_after_progress)
        s->abort_flag = true;
}

static bool
sink_aborting(void *opaque)
{
    struct sink_state *s = opaque;

    if (s->abort_at && time_mono_ms() >= s->abort_at)
        s->abort_flag = true;
    return s->abort_flag;
}

/* A sink over @s, with progress and abort polling. */
static struct fetch_sink
sink_of(struct sink_state *s)
{
    struct fetch_sink k = { sink_write, sink_progress, sink_aborting, s };

    memset(s, 0, sizeof(*s));
    buf_init(&s->data, 0);
    return k;
}

/* "http://127.0.0.1:<port><path>", into a static buffer. */
static const char *
url_of(const char *path)
{
    static char u[128];

    snprintf(u, sizeof(u), "http://127.0.0.1:%u%s", srv_port, path);
    return u;
}

static const struct fetch_policy loopback = { 0, 10000, "127.0.0.1/32" };

static void
test_fetch_body(void **state)
{
    struct sink_state s;
    struct fetch_sink k = sink_of(&s);
    struct fetch_result res;
    int before = atomic_load(&srv_requests);

    (void)state;
    assert_int_equal(fetch_url(url_of("/body"), &loopback, &k, &res), 0);
    assert_int_equal(s.data.len, BODY_LEN);
    assert_memory_equal(s.data.data, body, BODY_LEN);
    assert_int_equal(res.http_status, 200);
    assert_int_equal(res.bytes, BODY_LEN);
    assert_string_equal(res.content_type, "application/octet-stream");
    assert_string_equal(res.effective_url, url_of("/body"));
    assert_int_equal(atomic_load(&srv_requests), before + 1);
    buf_release(&s.data);

    /* @res may be NULL; a sink without progress or abort works. */
    {
        struct fetch_sink bare = { sink_write, NULL, NULL, &s };

        buf_init(&s.data, 0);
        assert_int_equal(fetch_url(url_of("/body"), &loopback, &bare, NULL),
                         0);
        assert_int_equal(s.data.len, BODY_LEN);
        buf_release(&s.data);
    }
}

static void
test_fetch_not_allowed(void **state)
{
    struct sink_state s;
    struct fetch_sink k = sink_of(&s);
    struct fetch_policy none = { 0, 10000, NULL };
    struct fetch_policy other = { 0, 10000, "127.0.0.2/32, ::1/128" };
    char u[128];
    int before = atomic_load(&srv_requests);

    (void)state;
    /* The server is there, but loopback is not in the allow list. */
    assert_int_equal(fetch_url(url_of("/body"), &none, &k, NULL), -1);
    assert_int_equal(err_code(), ERR_FORBIDDEN);
    assert_string_equal(err_message(),
                        "address 127.0.0.1 is loopback; not in import_allow");
    assert_int_equal(fetch_url(url_of("/body"), &other, &k, NULL), -1);
    assert_int_equal(err_code(), ERR_FORBIDDEN);
    /* A name is judged by what it resolves to, in the socket callback. */
    snprintf(u, sizeof(u), "http://localhost:%u/body", srv_port);
    assert_int_equal(fetch_url(u, &none, &k, NULL), -1);
    assert_int_equal(err_code(), ERR_FORBIDDEN);
    assert_non_null(strstr(err_message(), "is loopback"));
    /* The IPv4-mapped spelling of the same address. */
    snprintf(u, sizeof(u), "http://[::ffff:127.0.0.1]:%u/body", srv_port);
    assert_int_equal(fetch_url(u, &none, &k, NULL), -1);
    assert_int_equal(err_code(), ERR_FORBIDDEN);
    /* None of these reached the server, and the sink saw nothing. */
    assert_int_equal(atomic_load(&srv_requests), before);
    assert_int_equal(s.data.len, 0);
    /* And the name works when its address is allowed. */
    snprintf(u, sizeof(u), "http://localhost:%u/body", srv_port);
    {
        struct fetch_policy lo = { 0, 10000, "127.0.0.0/8,::1/128" };

        assert_int_equal(fetch_url(u, &lo, &k, NULL), 0);
        assert_int_equal(s.data.len, BODY_LEN);
    }
    buf_release(&s.data);
}

static void
test_fetch_redirect(void **state)
{
    struct sink_state s;
    struct fetch_sink k = sink_of(&s);
    struct fetch_result res;
    int before = atomic_load(&srv_requests);

    (void)state;
    assert_int_equal(fetch_url(url_of("/redirect"), &loopback, &k, &res), 0);
    assert_int_equal(s.data.len, BODY_LEN);
    assert_memory_equal(s.data.data, body, BODY_LEN);
    assert_string_equal(res.effective_url, url_of("/body"));
    assert_int_equal(atomic_load(&srv_requests), before + 2);
    buf_release(&s.data);
}

static void
test_fetch_redirect_refused(void **state)
{
    struct sink_state s;
    struct fetch_sink k = sink_of(&s);
    int before = atomic_load(&srv_requests);

    (void)state;
    /* To another scheme: libcurl's redirect protocols refuse it. */
    assert_int_equal(fetch_url(url_of("/redirect-ftp"), &loopback, &k, NULL),
                     -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_non_null(strstr(err_message(), "URL scheme 'ftp' is not allowed: "
                                          "only http and https"));
    assert_int_equal(atomic_load(&srv_requests), before + 1);
    /* To an address outside the allow list (loopback, so even a broken
     * policy would send nothing past this machine): refused before the
     * connection. The server only listens on 127.0.0.1, so had a
     * connection been tried the error would be ERR_IO instead. */
    assert_int_equal(fetch_url(url_of("/redirect-other"), &loopback, &k,
                               NULL), -1);
    assert_int_equal(err_code(), ERR_FORBIDDEN);
    assert_string_equal(err_message(),
                        "address 127.0.0.2 is loopback; not in import_allow");
    assert_int_equal(atomic_load(&srv_requests), before + 2);
    /* More than 5 redirects. */
    assert_int_equal(fetch_url(url_of("/redirect-loop"), &loopback, &k,
                               NULL), -1);
    assert_int_equal(err_code(), ERR_IO);
    assert_non_null(strstr(err_message(), "more than 5 redirects"));
    assert_int_equal(atomic_load(&srv_requests), before + 2 + 6);
    assert_int_equal(s.data.len, 0);
    buf_release(&s.data);
}

static void
test_fetch_status(void **state)
{
    struct sink_state s;
    struct fetch_sink k = sink_of(&s);

    (void)state;
    assert_int_equal(fetch_url(url_of("/missing"), &loopback, &k, NULL), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_non_null(strstr(err_message(), "HTTP 404"));
    assert_int_equal(fetch_url(url_of("/error"), &loopback, &k, NULL), -1);
    assert_int_equal(err_code(), ERR_IO);
    assert_non_null(strstr(err_message(), "HTTP 500"));
    /* An error page is never handed to the sink as the file. */
    assert_int_equal(s.data.len, 0);
    buf_release(&s.data);
}

static void
test_fetch_too_large(void **state)
{
    struct sink_state s;
    struct fetch_sink k = sink_of(&s);
    struct fetch_policy p = { 65536, 10000, "127.0.0.1/32" };

    (void)state;
    /* With Content-Length: refused before any byte reaches the sink. */
    assert_int_equal(fetch_url(url_of("/big"), &p, &k, NULL), -1);
    assert_int_equal(err_code(), ERR_TOO_LARGE);
    assert_non_null(strstr(err_message(), "65536 bytes"));
    assert_int_equal(s.data.len, 0);
    /* Without (chunked): stopped at the limit. */
    assert_int_equal(fetch_url(url_of("/big-chunked"), &p, &k, NULL), -1);
    assert_int_equal(err_code(), ERR_TOO_LARGE);
    assert_true(s.data.len <= 65536);
    buf_clear(&s.data);
    /* Exactly at the limit is fine; one byte less is not. */
    p.max_bytes = BODY_LEN;
    assert_int_equal(fetch_url(url_of("/body"), &p, &k, NULL), 0);
    assert_int_equal(s.data.len, BODY_LEN);
    buf_clear(&s.data);
    p.max_bytes = BODY_LEN - 1;
    assert_int_equal(fetch_url(url_of("/body"), &p, &k, NULL), -1);
    assert_int_equal(err_code(), ERR_TOO_LARGE);
    /* The whole big body without a limit, chunked, arrives intact. */
    buf_clear(&s.data);
    p.max_bytes = 0;
    assert_int_equal(fetch_url(url_of("/big-chunked"), &p, &k, NULL), 0);
    assert_int_equal(s.data.len, BIG_LEN);
    for (size_t i = 0; i < BIG_LEN; i += 4099)
        assert_int_equal(s.data.data[i], pattern_at(i));
    buf_release(&s.data);
}

static void
test_fetch_timeout(void **state)
{
    struct sink_state s;
    struct fetch_sink k = sink_of(&s);
    struct fetch_policy p = { 0, 600, "127.0.0.1/32" };
    int64_t t0 = time_mono_ms();

    (void)state;
    assert_int_equal(fetch_url(url_of("/slow"), &p, &k, NULL), -1);
    assert_int_equal(err_code(), ERR_TIMEOUT);
    assert_true(time_mono_ms() - t0 >= 500);
    assert_true(time_mono_ms() - t0 < 3000);
    assert_true(s.data.len < SLOW_LEN);
    buf_release(&s.data);
}

static void
test_fetch_progress_abort(void **state)
{
    struct sink_state s;
    struct fetch_sink k = sink_of(&s);
    struct fetch_policy p = { 0, 0, "127.0.0.1/32" };
    int i;

    (void)state;
    /* The progress callback asks for the abort at its third report. */
    s.abort_after_progress = 3;
    assert_int_equal(fetch_url(url_of("/slow"), &p, &k, NULL), -1);
    assert_int_equal(err_code(), ERR_ABORTED);
    assert_int_equal(s.progress_calls, 3);
    for (i = 1; i < s.progress_calls; i++)
        assert_true(s.progress_at[i] - s.progress_at[i - 1] >= 245);
    assert_true(s.last_done > 0 && s.last_done < SLOW_LEN);
    assert_int_equal(s.last_total, SLOW_LEN);
    assert_true(s.data.len < SLOW_LEN);
    buf_release(&s.data);
}

static void
test_fetch_abort_waiting(void **state)
{
    struct sink_state s;
    struct fetch_sink k = sink_of(&s);
    struct fetch_policy p = { 0, 0, "127.0.0.1/32" };
    int64_t t0 = time_mono_ms();

    (void)state;
    /* No byte comes for STALL_MS; the abort must not wait for one. */
    s.abort_at = t0 + 200;
    assert_int_equal(fetch_url(url_of("/stall"), &p, &k, NULL), -1);
    assert_int_equal(err_code(), ERR_ABORTED);
    assert_true(time_mono_ms() - t0 < STALL_MS - 200);
    buf_release(&s.data);
}

static void
test_fetch_sink_error(void **state)
{
    struct sink_state s;
    struct fetch_sink k = sink_of(&s);

    (void)state;
    s.fail_write = true;
    assert_int_equal(fetch_url(url_of("/body"), &loopback, &k, NULL), -1);
    assert_int_equal(err_code(), ERR_IO);
    assert_string_equal(err_message(), "cannot write volume: disk full");
    buf_release(&s.data);
}

/* fetch_url_check(): no traffic at all, so any address may appear. */
static void
test_fetch_url_check(void **state)
{
    static const struct {
        const char *url;
        const char *allow;
        enum err_code code;
        const char *msg;      /* substring of the message, or NULL */
    } cases[] = {
        { "http://example.com/a.iso", NULL, ERR_OK, NULL },
        { "https://example.com:8443/x/a.iso?x=1", NULL, ERR_OK, NULL },
        { "HTTP://EXAMPLE.COM/", NULL, ERR_OK, NULL },
        { "ftp://example.com/a.iso", NULL, ERR_INVALID,
          "URL scheme 'ftp' is not allowed: only http and https" },
        { "file:///etc/passwd", NULL, ERR_INVALID, "scheme 'file'" },
        { "gopher://example.com/", NULL, ERR_INVALID, "scheme 'gopher'" },
        { "garbage", NULL, ERR_INVALID, NULL },
        { "", NULL, ERR_INVALID, NULL },
        { "http://", NULL, ERR_INVALID, NULL },
        { "http://exa mple.com/", NULL, ERR_INVALID, NULL },
        { "http://10.1.2.3/", NULL, ERR_FORBIDDEN,
          "address 10.1.2.3 is private; not in import_allow" },
        { "http://127.0.0.1:8080/", NULL, ERR_FORBIDDEN, "loopback" },
        { "http://127.255.0.9/", NULL, ERR_FORBIDDEN, "loopback" },
        { "http://169.254.169.254/latest/meta-data/", NULL, ERR_FORBIDDEN,
          "link-local" },
        { "http://100.64.0.1/", NULL, ERR_FORBIDDEN, "CGNAT" },
        { "http://100.127.255.255/", NULL, ERR_FORBIDDEN, "CGNAT" },
        { "http://172.16.0.1/", NULL, ERR_FORBIDDEN, "private" },
        { "http://172.31.255.255/", NULL, ERR_FORBIDDEN, "private" },
        { "http://192.168.1.1/", NULL, ERR_FORBIDDEN, "private" },
        { "http://0.0.0.0/", NULL, ERR_FORBIDDEN, "unspecified" },
        { "http://0.1.2.3/", NULL, ERR_FORBIDDEN, "unspecified" },
        { "http://255.255.255.255/", NULL, ERR_FORBIDDEN, "broadcast" },
        { "http://224.0.0.1/", NULL, ERR_FORBIDDEN, "multicast" },
        { "http://239.255.255.250/", NULL, ERR_FORBIDDEN, "multicast" },
        { "http://240.0.0.1/", NULL, ERR_FORBIDDEN, "reserved" },
        { "http://192.0.0.8/", NULL, ERR_FORBIDDEN, "IETF" },
        { "http://198.18.0.1/", NULL, ERR_FORBIDDEN, "benchmarking" },
        { "http://198.19.255.1/", NULL, ERR_FORBIDDEN, "benchmarking" },
        { "http://192.0.2.1/", NULL, ERR_FORBIDDEN, "documentation" },
        { "http://198.51.100.7/", NULL, ERR_FORBIDDEN, "documentation" },
        { "http://203.0.113.9/", NULL, ERR_FORBIDDEN, "documentation" },
        /* Other spellings of IPv4 addresses, as libcurl reads them. */
        { "http://2130706433/", NULL, ERR_FORBIDDEN, "127.0.0.1 is loopback" },
        { "http://0x7f.1/", NULL, ERR_FORBIDDEN, "127.0.0.1 is loopback" },
        { "http://012.1.2.3/", NULL, ERR_FORBIDDEN, "10.1.2.3 is private" },
        { "http://10.1/", NULL, ERR_FORBIDDEN, "10.0.0.1 is private" },
        /* Public neighbours of the ranges above. */
        { "http://172.32.0.1/", NULL, ERR_OK, NULL },
        { "http://100.128.0.1/", NULL, ERR_OK, NULL },
        { "http://198.20.0.1/", NULL, ERR_OK, NULL },
        { "http://8.8.8.8/", NULL, ERR_OK, NULL },
        { "http://11.0.0.1/", NULL, ERR_OK, NULL },
        /* IPv6. */
        { "https://[::1]/", NULL, ERR_FORBIDDEN,
          "address ::1 is loopback; not in import_allow" },
        { "http://[::]/", NULL, ERR_FORBIDDEN, "unspecified" },
        { "http://[fe80::1]/", NULL, ERR_FORBIDDEN, "link-local" },
        { "http://[febf::1]/", NULL, ERR_FORBIDDEN, "link-local" },
        { "http://[fc00::1]/", NULL, ERR_FORBIDDEN, "unique-local" },
        { "http://[fd12:3456::1]/", NULL, ERR_FORBIDDEN, "unique-local" },
        { "http://[ff02::1]/", NULL, ERR_FORBIDDEN, "multicast" },
        { "http://[2001:db8::1]/", NULL, ERR_FORBIDDEN, "documentation" },
        { "http://[::ffff:127.0.0.1]/", NULL, ERR_FORBIDDEN,
          "address 127.0.0.1 is loopback" },
        { "http://[::ffff:10.0.0.1]/", NULL, ERR_FORBIDDEN, "private" },
        { "http://[::ffff:a9fe:a9fe]/", NULL, ERR_FORBIDDEN, "link-local" },
        { "http://[::127.0.0.1]/", NULL, ERR_FORBIDDEN, "IPv4-compatible" },
        { "http://[64:ff9b::a00:1]/", NULL, ERR_FORBIDDEN, "private" },
        { "http://[2002:a00:1::]/", NULL, ERR_FORBIDDEN, "private" },
        { "http://[2002:7f00:1::]/", NULL, ERR_FORBIDDEN, "loopback" },
        { "http://[2606:4700::1111]/", NULL, ERR_OK, NULL },
        { "http://[2002:808:808::]/", NULL, ERR_OK, NULL },
        { "http://[::ffff:8.8.8.8]/", NULL, ERR_OK, NULL },
        /* The allow list. */
        { "https://[::1]/", "::1/128", ERR_OK, NULL },
        { "https://[::1]:8443/a", "10.0.0.0/8, ::1/128", ERR_OK, NULL },
        { "http://10.1.2.3/", "10.0.0.0/8", ERR_OK, NULL },
        { "http://10.1.2.3/", "10.1.2.3", ERR_OK, NULL },
        { "http://[::ffff:10.1.2.3]/", "10.0.0.0/8", ERR_OK, NULL },
        { "http://10.1.2.3/", "::ffff:10.0.0.0/104", ERR_OK, NULL },
        { "http://11.1.2.3/", "10.0.0.0/8", ERR_OK, NULL },
        { "http://127.0.0.2/", "127.0.0.1/32", ERR_FORBIDDEN, "127.0.0.2" },
        { "http://[fd00::5]/", "fd00::/8", ERR_OK, NULL },
        { "http://[fe80::5]/", "fd00::/8", ERR_FORBIDDEN, "link-local" },
        { "http://example.com/", "10.0.0.0/99", ERR_INVALID,
          "import_allow entry '10.0.0.0/99'" },
    };
    struct fetch_policy p = { 0, 0, NULL };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc;

        err_clear();
        p.allow = cases[i].allow;
        rc = fetch_url_check(cases[i].url, &p);
        if (rc != (cases[i].code == ERR_OK ? 0 : -1) ||
            err_code() != cases[i].code ||
            (cases[i].msg && !strstr(err_message(), cases[i].msg)))
            fail_msg("'%s' allow '%s': rc %d, %s: %s", cases[i].url,
                     cases[i].allow ? cases[i].allow : "",
                     rc, err_code_str(err_code()), err_message());
    }
    /* A NULL policy is "no allow list, no limits". */
    assert_int_equal(fetch_url_check("http://8.8.8.8/", NULL), 0);
    assert_int_equal(fetch_url_check("http://10.0.0.1/", NULL), -1);
    assert_int_equal(err_code(), ERR_FORBIDDEN);
    /* fetch_url() starts with the same check: refused, nothing sent. */
    {
        struct sink_state s;
        struct fetch_sink k = sink_of(&s);

        assert_int_equal(fetch_url("ftp://127.0.0.1/x", &loopback, &k, NULL),
                         -1);
        assert_int_equal(err_code(), ERR_INVALID);
        assert_int_equal(fetch_url("http://[::1]/x", &loopback, &k, NULL),
                         -1);
        assert_int_equal(err_code(), ERR_FORBIDDEN);
        buf_release(&s.data);
    }
}

static void
test_fetch_allow_check(void **state)
{
    static const char *good[] = {
        "", "  ", "127.0.0.1/32", "10.0.0.0/8, ::1/128,192.168.0.0/16",
        "192.168.1.7", "fd00::/8", "0.0.0.0/0", "::/0", " 10.0.0.0/8 ",
    };
    static const char *bad[] = {
        "10.0.0.0/33", "abc", "10.0.0.1/8", ",", "10.0.0.0/8,", "::1/129",
        "10.0.0.0/-1", "10.0.0.0/", "1.2.3.4/8x", "10.0.0.0/8,,::1/128",
        "10.0.0/8", "fe80::1/10", "[::1]/128", "10.0.0.0/8;127.0.0.1/32",
    };
    size_t i;

    (void)state;
    assert_int_equal(fetch_allow_check(NULL), 0);
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (fetch_allow_check(good[i]) != 0)
            fail_msg("'%s' refused: %s", good[i], err_message());
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_clear();
        if (fetch_allow_check(bad[i]) != -1 || err_code() != ERR_INVALID)
            fail_msg("'%s' accepted", bad[i]);
        assert_non_null(strstr(err_message(), "import_allow"));
    }
    assert_int_equal(fetch_allow_check("10.0.0.0/8, bogus"), -1);
    assert_non_null(strstr(err_message(), "'bogus'"));
}

static void
test_fetch_basename(void **state)
{
    static const struct {
        const char *url;
        size_t size;
        const char *want;
    } cases[] = {
        { "http://h/x/a.iso?q=1", 64, "a.iso" },
        { "http://h/x/a.iso#frag", 64, "a.iso" },
        { "https://h:8443/x/y/OVM_OL7U9.tgz", 64, "OVM_OL7U9.tgz" },
        { "http://h/x/a%20b.iso", 64, "a b.iso" },
        { "http://h/", 64, "" },
        { "http://h", 64, "" },
        { "http://h?x=/a.iso", 64, "" },
        { "http://h/x/", 64, "" },
        { "http://h/x/..%2F..%2Fetc%2Fpasswd", 64, ".._.._etc_passwd" },
        { "http://h/%2e%2e", 64, "" },
        { "http://h/.", 64, "" },
        { "http://h/a%00b", 64, "a_b" },
        { "http://h/a%5cb", 64, "a_b" },
        { "http://h/x/%zz.iso", 64, "%zz.iso" },
        { "http://h/x/50%", 64, "50%" },
        { "http://h/abcdef", 4, "abc" },
        { "http://h/d%C3%A9j%C3%A0.iso", 64, "d\xc3\xa9j\xc3\xa0.iso" },
        { "http://h/d%C3%A9j", 3, "d" },
        { "http://h/d%C3%A9j", 4, "d\xc3\xa9" },
        { "http://user:pw@h/z.img", 64, "z.img" },
    };
    char buf[64];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(buf, 'X', sizeof(buf));
        fetch_url_basename(cases[i].url, buf, cases[i].size);
        if (strcmp(buf, cases[i].want) != 0)
            fail_msg("'%s' (size %zu): got '%s', want '%s'", cases[i].url,
                     cases[i].size, buf, cases[i].want);
        assert_null(strchr(buf, '/'));
    }
    buf[0] = 'X';
    fetch_url_basename("http://h/a.iso", buf, 0);
    assert_int_equal(buf[0], 'X');
}

/* ================================================================ */
/* archive                                                          */
/* ================================================================ */

static char arc_dir[256];      /* the archives */
static char arc_cwd[300];      /* an empty working directory for walks */
static char arc_oldcwd[4096];

/* One entry to write. */
struct ent {
    const char *path;
    unsigned type;             /* AE_IFREG, AE_IFDIR, ... */
    const char *data;          /* regular files: contents (or NULL) */
    size_t len;
    const char *link;          /* symlink target / hardlink source */
    bool hard;
};

enum arc_fmt { ARC_PAX, ARC_USTAR, ARC_GNU, ARC_ZIP };

/* Write @n entries into @dir/@name as @fmt, gzipped when @gzip. Returns
 * the path (static buffer). */
static const char *
arc_write(const char *name, enum arc_fmt fmt, bool gzip,
          const struct ent *ents, size_t n)
{
    static char path[512];
    struct archive *a = archive_write_new();
    size_t i;

    snprintf(path, sizeof(path), "%s/%s", arc_dir, name);
    assert_non_null(a);
    if (gzip)
        assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
    switch (fmt) {
    case ARC_PAX:
        archive_write_set_format_pax_restricted(a);
        break;
    case ARC_USTAR:
        archive_write_set_format_ustar(a);
        break;
    case ARC_GNU:
        archive_write_set_format_gnutar(a);
        break;
    case ARC_ZIP:
        archive_write_set_format_zip(a);
        break;
    }
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();

        archive_entry_set_pathname(e, ents[i].path);
        archive_entry_set_filetype(e, ents[i].type);
        archive_entry_set_perm(e, ents[i].type == AE_IFDIR ? 0755 : 0644);
        archive_entry_set_mtime(e, 1700000000, 0);
        if (ents[i].type == AE_IFREG && !ents[i].hard)
            archive_entry_set_size(e, (la_int64_t)ents[i].len);
        else
            archive_entry_set_size(e, 0);
        if (ents[i].type == AE_IFLNK)
            archive_entry_set_symlink(e, ents[i].link);
        if (ents[i].hard)
            archive_entry_set_hardlink(e, ents[i].link);
        if (ents[i].type == AE_IFCHR || ents[i].type == AE_IFBLK)
            archive_entry_set_rdev(e, makedev(1, 3));
        if (archive_write_header(a, e) != ARCHIVE_OK)
            fail_msg("write header '%s': %s", ents[i].path,
                     archive_error_string(a));
        if (ents[i].data && ents[i].len && !ents[i].hard)
            assert_int_equal(archive_write_data(a, ents[i].data, ents[i].len),
                             (la_ssize_t)ents[i].len);
        archive_entry_free(e);
    }
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    return path;
}

/* Write @len raw bytes as @dir/@name. Returns the path (static). */
static const char *
arc_write_raw(const char *name, const void *data, size_t len)
{
    static char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", arc_dir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    if (len)
        assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
    return path;
}

/* What a walk reported. */
struct seen {
    int n;
    char path[8][128];
    uint64_t size[8];
    struct buf data[8];
    int stop_after;            /* return 1 after this many (0: never) */
    size_t read_max;           /* read at most this much (0: all) */
};

static int
seen_cb(void *opaque, const char *path, uint64_t size,
        struct archive_reader *r)
{
    struct seen *s = opaque;
    char chunk[4096];
    ssize_t n;
    int i = s->n;

    if (i >= 8)
        return -1;
    str_copy(s->path[i], path, sizeof(s->path[i]));
    s->size[i] = size;
    buf_init(&s->data[i], 0);
    while ((n = archive_reader_read(r, chunk, sizeof(chunk))) > 0) {
        buf_append(&s->data[i], chunk, (size_t)n);
        if (s->read_max && s->data[i].len >= s->read_max)
            break;
    }
    s->n++;
    if (n < 0)
        return -1;
    return s->stop_after && s->n >= s->stop_after ? 1 : 0;
}

static void
seen_release(struct seen *s)
{
    for (int i = 0; i < s->n; i++)
        buf_release(&s->data[i]);
    memset(s, 0, sizeof(*s));
}

/* The number of entries in directory @dir (without . and ..). */
static int
dir_count(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    assert_non_null(d);
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static int
archive_setup(void **state)
{
    (void)state;
    if (tmpdir_make(arc_dir, sizeof(arc_dir), "archive") < 0)
        return -1;
    snprintf(arc_cwd, sizeof(arc_cwd), "%s/cwd", arc_dir);
    if (mkdir(arc_cwd, 0700) < 0 || !getcwd(arc_oldcwd, sizeof(arc_oldcwd)))
        return -1;
    /* Every walk runs from an empty directory: a relative write by an
     * entry's path would land here. */
    return chdir(arc_cwd);
}

static int
archive_teardown(void **state)
{
    (void)state;
    if (chdir(arc_oldcwd) < 0)
        return -1;
    rmdir(arc_cwd);
    tmpdir_remove(arc_dir);
    return 0;
}

/* A System.img-like payload: 200 KiB of the pattern. */
#define IMG_LEN (200 * 1024)

static void
test_archive_good(void **state)
{
    static const char cfg[] = "name = 'OVM_OL7U9'\nmemory = 2048\n";
    char *img = xmalloc(IMG_LEN);
    struct ent ents[] = {
        { "./", AE_IFDIR, NULL, 0, NULL, false },
        { "./OVM_OL7U9/", AE_IFDIR, NULL, 0, NULL, false },
        { "./OVM_OL7U9/vm.cfg", AE_IFREG, cfg, sizeof(cfg) - 1, NULL, false },
        { "./OVM_OL7U9/System.img", AE_IFREG, img, IMG_LEN, NULL, false },
        { "./OVM_OL7U9/empty", AE_IFREG, NULL, 0, NULL, false },
    };
    static const enum arc_fmt fmts[] = { ARC_PAX, ARC_USTAR, ARC_GNU };
    struct seen s;
    size_t nfiles, f;
    const char *path;

    (void)state;
    for (size_t i = 0; i < IMG_LEN; i++)
        img[i] = pattern_at(i);
    for (f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
        for (int gz = 0; gz < 2; gz++) {
            path = arc_write(gz ? "good.tgz" : "good.tar", fmts[f], gz, ents,
                             sizeof(ents) / sizeof(ents[0]));
            memset(&s, 0, sizeof(s));
            if (archive_walk(path, seen_cb, &s) != 0)
                fail_msg("format %zu gzip %d: %s", f, gz, err_message());
            assert_int_equal(s.n, 3);
            assert_string_equal(s.path[0], "OVM_OL7U9/vm.cfg");
            assert_int_equal(s.size[0], sizeof(cfg) - 1);
            assert_int_equal(s.data[0].len, sizeof(cfg) - 1);
            assert_memory_equal(s.data[0].data, cfg, sizeof(cfg) - 1);
            assert_string_equal(s.path[1], "OVM_OL7U9/System.img");
            assert_int_equal(s.size[1], IMG_LEN);
            assert_int_equal(s.data[1].len, IMG_LEN);
            assert_memory_equal(s.data[1].data, img, IMG_LEN);
            assert_string_equal(s.path[2], "OVM_OL7U9/empty");
            assert_int_equal(s.size[2], 0);
            seen_release(&s);
            assert_int_equal(archive_check(path, &nfiles), 0);
            assert_int_equal(nfiles, 3);
            assert_int_equal(archive_check(path, NULL), 0);
        }
    }

    /* Stopping early (callback returns 1) is a success. */
    path = arc_write("good.tgz", ARC_PAX, true, ents,
                     sizeof(ents) / sizeof(ents[0]));
    memset(&s, 0, sizeof(s));
    s.stop_after = 1;
    assert_int_equal(archive_walk(path, seen_cb, &s), 0);
    assert_int_equal(s.n, 1);
    seen_release(&s);
    /* Data left unread is skipped: the next entry is still right. */
    memset(&s, 0, sizeof(s));
    s.read_max = 1;
    assert_int_equal(archive_walk(path, seen_cb, &s), 0);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.path[2], "OVM_OL7U9/empty");
    seen_release(&s);
    xfree(img);
}

static void
test_archive_normalize(void **state)
{
    struct ent ents[] = {
        { "./a//b", AE_IFREG, "ab", 2, NULL, false },
        { "x/./y/", AE_IFDIR, NULL, 0, NULL, false },
        { "x/./y//z.", AE_IFREG, "z", 1, NULL, false },
        { "dots..name", AE_IFREG, "d", 1, NULL, false },
        { ".hidden/..x", AE_IFREG, "h", 1, NULL, false },
    };
    struct seen s;
    const char *path = arc_write("norm.tar", ARC_PAX, false, ents,
                                 sizeof(ents) / sizeof(ents[0]));

    (void)state;
    memset(&s, 0, sizeof(s));
    assert_int_equal(archive_walk(path, seen_cb, &s), 0);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.path[0], "a/b");
    assert_string_equal(s.path[1], "x/y/z.");
    assert_string_equal(s.path[2], "dots..name");
    assert_string_equal(s.path[3], ".hidden/..x");
    seen_release(&s);
}

static int
fail_cb(void *opaque, const char *path, uint64_t size,
        struct archive_reader *r)
{
    (void)opaque;
    (void)size;
    (void)r;
    err_set(ERR_IO, "cannot store '%s'", path);
    return -1;
}

static void
test_archive_hostile(void **state)
{
    static const char cfg[] = "name = 'x'\n";
    static const struct {
        const char *name;
        enum arc_fmt fmt;
        struct ent bad;
        const char *msg;
    } cases[] = {
        { "dotdot.tgz", ARC_PAX, { "../evil", AE_IFREG, "x", 1, NULL, false },
          "archive entry '../evil': path leaves the archive" },
        { "dotdot2.tgz", ARC_USTAR,
          { "a/../../evil", AE_IFREG, "x", 1, NULL, false },
          "archive entry 'a/../../evil': path leaves the archive" },
        { "dotdotdir.tgz", ARC_PAX, { "..", AE_IFDIR, NULL, 0, NULL, false },
          "archive entry '../': path leaves the archive" },
        { "abs.tgz", ARC_PAX, { "/etc/evil", AE_IFREG, "x", 1, NULL, false },
          "archive entry '/etc/evil': absolute path" },
        { "abs-gnu.tgz", ARC_GNU,
          { "/tmp/evil", AE_IFREG, "x", 1, NULL, false },
          "archive entry '/tmp/evil': absolute path" },
        { "symlink.tgz", ARC_PAX,
          { "link", AE_IFLNK, NULL, 0, "../../../etc/passwd", false },
          "archive entry 'link': symbolic links are not allowed" },
        { "hardlink.tgz", ARC_PAX,
          { "hard", AE_IFREG, NULL, 0, "vm.cfg", true },
          "archive entry 'hard': hard links are not allowed" },
        { "chardev.tgz", ARC_USTAR, { "dev", AE_IFCHR, NULL, 0, NULL, false },
          "archive entry 'dev': device files are not allowed" },
        { "blockdev.tgz", ARC_PAX, { "blk", AE_IFBLK, NULL, 0, NULL, false },
          "archive entry 'blk': device files are not allowed" },
        { "fifo.tgz", ARC_PAX, { "fifo", AE_IFIFO, NULL, 0, NULL, false },
          "archive entry 'fifo': FIFOs are not allowed" },
    };
    char paths[sizeof(cases) / sizeof(cases[0])][512];
    size_t i, nfiles;
    struct stat st;
    int before;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ent ents[2] = {
            { "vm.cfg", AE_IFREG, cfg, sizeof(cfg) - 1, NULL, false },
            cases[i].bad,
        };

        str_copy(paths[i], arc_write(cases[i].name, cases[i].fmt, true,
                                     ents, 2), sizeof(paths[i]));
    }
    before = dir_count(arc_dir);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct seen s;

        memset(&s, 0, sizeof(s));
        err_clear();
        if (archive_walk(paths[i], seen_cb, &s) != -1 ||
            err_code() != ERR_INVALID ||
            strcmp(err_message(), cases[i].msg) != 0)
            fail_msg("%s: %s: %s", cases[i].name, err_code_str(err_code()),
                     err_message());
        /* The good entry before it was visited; the bad one never. */
        assert_int_equal(s.n, 1);
        seen_release(&s);
        err_clear();
        assert_int_equal(archive_check(paths[i], &nfiles), -1);
        assert_int_equal(err_code(), ERR_INVALID);
        assert_string_equal(err_message(), cases[i].msg);
    }
    /* The walks wrote nothing, anywhere an entry pointed. */
    assert_int_equal(dir_count(arc_cwd), 0);
    assert_int_equal(dir_count(arc_dir), before);
    assert_int_equal(stat("/etc/evil", &st), -1);
    assert_int_equal(stat("/tmp/evil", &st), -1);
    {
        char p[600];

        snprintf(p, sizeof(p), "%s/../evil", arc_dir);
        assert_int_equal(stat(p, &st), -1);
        snprintf(p, sizeof(p), "%s/../evil", arc_cwd);
        assert_int_equal(stat(p, &st), -1);
    }
}

static void
test_archive_not_tar(void **state)
{
    struct ent one[] = { { "vm.cfg", AE_IFREG, "x", 1, NULL, false } };
    static const char text[] = "name = 'not an archive'\n";
    char tgz[512], *half;
    const char *path;
    struct seen s;
    struct stat st;
    int fd;
    ssize_t n;

    (void)state;
    /* A zip holding a perfectly good file: not a tar. */
    path = arc_write("t.zip", ARC_ZIP, false, one, 1);
    assert_int_equal(archive_check(path, NULL), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_non_null(strstr(err_message(), "not a tar archive"));
    assert_non_null(strstr(err_message(), "t.zip"));
    /* A gzipped zip too. */
    path = arc_write("t.zip.gz", ARC_ZIP, true, one, 1);
    assert_int_equal(archive_check(path, NULL), -1);
    assert_non_null(strstr(err_message(), "not a tar archive"));
    /* Plain text. */
    path = arc_write_raw("t.txt", text, sizeof(text) - 1);
    memset(&s, 0, sizeof(s));
    assert_int_equal(archive_walk(path, seen_cb, &s), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_non_null(strstr(err_message(), "not a tar archive"));
    assert_int_equal(s.n, 0);
    /* An archive with no entries, and an empty file. */
    path = arc_write("empty.tgz", ARC_PAX, true, NULL, 0);
    assert_int_equal(archive_walk(path, seen_cb, &s), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_non_null(strstr(err_message(), "empty archive"));
    path = arc_write_raw("empty.tar", "", 0);
    assert_int_equal(archive_check(path, NULL), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_non_null(strstr(err_message(), "empty archive"));
    /* Missing file. */
    assert_int_equal(archive_check("/nonexistent/ovmm.tgz", NULL), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    /* A truncated .tgz: corrupt, ERR_INVALID, never a crash. */
    {
        char *img = xcalloc(1, IMG_LEN);
        struct ent big[] = {
            { "a", AE_IFREG, "a", 1, NULL, false },
            { "System.img", AE_IFREG, img, IMG_LEN, NULL, false },
        };

        for (size_t i = 0; i < IMG_LEN; i++)
            img[i] = (char)(rand() & 0xff);   /* does not compress */
        path = arc_write("trunc.tgz", ARC_PAX, true, big, 2);
        str_copy(tgz, path, sizeof(tgz));
        assert_int_equal(stat(tgz, &st), 0);
        half = xmalloc((size_t)st.st_size);
        fd = open(tgz, O_RDONLY);
        n = read(fd, half, (size_t)st.st_size);
        close(fd);
        assert_int_equal(n, st.st_size);
        path = arc_write_raw("trunc.tgz", half, (size_t)st.st_size / 2);
        memset(&s, 0, sizeof(s));
        assert_int_equal(archive_walk(path, seen_cb, &s), -1);
        assert_int_equal(err_code(), ERR_INVALID);
        seen_release(&s);
        assert_int_equal(archive_check(path, NULL), -1);
        assert_int_equal(err_code(), ERR_INVALID);
        xfree(half);
        xfree(img);
    }
    /* The callback's own error stands. */
    path = arc_write("one.tar", ARC_PAX, false, one, 1);
    assert_int_equal(archive_walk(path, fail_cb, NULL), -1);
    assert_int_equal(err_code(), ERR_IO);
    assert_string_equal(err_message(), "cannot store 'vm.cfg'");
    assert_int_equal(dir_count(arc_cwd), 0);
}

/* ================================================================ */
/* vmcfg                                                            */
/* ================================================================ */

static const char template_cfg[] =
    "# Oracle VM template configuration, as shipped\n"
    "name = 'OVM_OL7U9_x86_64_PVHVM'\n"
    "uuid = '0004fb00-0006-0000-5ee2-cfb4a8a5b1a2'   # the VM's UUID\n"
    "memory = 2048\n"
    "maxmem = 4096\n"
    "vcpus = 2\n"
    "\n"
    "OVM_simple_name = \"Oracle Linux 7 Update 9\"\n"
    "OVM_os_type = 'Oracle Linux 7'\n"
    "OVM_description = \"Template with \\\"quotes\\\", 'single' and a "
    "\\\\backslash\"\n"
    "OVM_high_availability = 'false'\n"
    "disk = ['file:/OVS/Repositories/0004fb0000030000/VirtualDisks/"
    "0004fb0000120000a.img,xvda,w',\n"
    "        'file:/OVS/Repositories/0004fb0000030000/ISOs/ol7.iso,"
    "hdc:cdrom,r', ]  # trailing comma\n"
    "vif = ['mac=00:21:f6:00:00:01,bridge=xenbr0', ]\n"
    "vfb = ['type=vnc,vncunused=1,vnclisten=127.0.0.1,keymap=en-us']\n"
    "builder = 'hvm'\n"
    "bootloader = '/usr/bin/pygrub'\n"
    "on_crash = 'restart'\n"
    "timer_mode = -1\n"
    "guest_os_type = 'linux'\n"
    "extra = 'console=hvc0\\tx\\n'\r\n"
    "cpu_weight = 27500\n"
    "empty = ''\n"
    "memory = 3072\n";

static void
test_vmcfg_template(void **state)
{
    AUTOPTR(json_object) json_object *cfg = NULL;
    AUTOPTR(json_object) json_object *again = NULL;
    static const char *order[] = {
        "name", "uuid", "memory", "maxmem", "vcpus", "OVM_simple_name",
        "OVM_os_type", "OVM_description", "OVM_high_availability", "disk",
        "vif", "vfb", "builder", "bootloader", "on_crash", "timer_mode",
        "guest_os_type", "extra", "cpu_weight", "empty",
    };
    json_object *v;
    char *text;
    size_t i = 0;

    (void)state;
    cfg = vmcfg_parse(template_cfg, sizeof(template_cfg) - 1);
    if (!cfg)
        fail_msg("%s", err_message());
    /* Keys in file order; the later "memory" replaced the value in
     * place. */
    assert_int_equal(json_object_object_length(cfg),
                     sizeof(order) / sizeof(order[0]));
    json_object_object_foreach(cfg, key, val) {
        (void)val;
        assert_string_equal(key, order[i]);
        i++;
    }
    assert_true(json_object_object_get_ex(cfg, "name", &v));
    assert_string_equal(json_object_get_string(v), "OVM_OL7U9_x86_64_PVHVM");
    assert_true(json_object_object_get_ex(cfg, "memory", &v));
    assert_true(json_object_is_type(v, json_type_int));
    assert_int_equal(json_object_get_int64(v), 3072);
    assert_true(json_object_object_get_ex(cfg, "timer_mode", &v));
    assert_int_equal(json_object_get_int64(v), -1);
    assert_true(json_object_object_get_ex(cfg, "OVM_description", &v));
    assert_string_equal(json_object_get_string(v),
                        "Template with \"quotes\", 'single' and a "
                        "\\backslash");
    assert_true(json_object_object_get_ex(cfg, "extra", &v));
    assert_string_equal(json_object_get_string(v), "console=hvc0\tx\n");
    assert_true(json_object_object_get_ex(cfg, "empty", &v));
    assert_string_equal(json_object_get_string(v), "");
    assert_true(json_object_object_get_ex(cfg, "disk", &v));
    assert_true(json_object_is_type(v, json_type_array));
    assert_int_equal(json_object_array_length(v), 2);
    assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 1)),
                        "file:/OVS/Repositories/0004fb0000030000/ISOs/"
                        "ol7.iso,hdc:cdrom,r");
    assert_true(json_object_object_get_ex(cfg, "vif", &v));
    assert_int_equal(json_object_array_length(v), 1);

    /* Round trip: format, parse, equal; and format is stable. */
    text = vmcfg_format(cfg);
    assert_non_null(text);
    again = vmcfg_parse(text, strlen(text));
    if (!again)
        fail_msg("%s\n%s", err_message(), text);
    assert_true(json_object_equal(cfg, again));
    {
        char *text2 = vmcfg_format(again);

        assert_string_equal(text, text2);
        xfree(text2);
    }
    /* Strings single-quoted with escapes; the long list on lines. */
    assert_non_null(strstr(text, "name = 'OVM_OL7U9_x86_64_PVHVM'\n"));
    assert_non_null(strstr(text, "memory = 3072\n"));
    assert_non_null(strstr(text, "OVM_description = 'Template with \"quotes"
                                 "\", \\'single\\' and a \\\\backslash'\n"));
    assert_non_null(strstr(text, "extra = 'console=hvc0\\tx\\n'\n"));
    assert_non_null(strstr(text, "disk = [\n    'file:/OVS/"));
    assert_non_null(strstr(text, "vif = ['mac=00:21:f6:00:00:01,"
                                 "bridge=xenbr0']\n"));
    xfree(text);
}

/* Python's constants, as Oracle VM templates write them
 * (OVM_high_availability = False): booleans and null, in lists too,
 * written back the same way. */
static void
test_vmcfg_constants(void **state)
{
    static const char text[] =
        "OVM_high_availability = False\n"
        "acpi = True\n"
        "cpus = None\n"
        "flags = [True, None, 'x', 0]\n";
    AUTOPTR(json_object) json_object *cfg = NULL;
    AUTOPTR(json_object) json_object *again = NULL;
    json_object *v;
    char *out;

    (void)state;
    cfg = vmcfg_parse(text, sizeof(text) - 1);
    if (!cfg)
        fail_msg("%s", err_message());
    assert_true(json_object_object_get_ex(cfg, "OVM_high_availability", &v));
    assert_true(json_object_is_type(v, json_type_boolean));
    assert_false(json_object_get_boolean(v));
    assert_true(json_object_object_get_ex(cfg, "acpi", &v));
    assert_true(json_object_get_boolean(v));
    assert_true(json_object_object_get_ex(cfg, "cpus", &v));
    assert_null(v);
    assert_true(json_object_object_get_ex(cfg, "flags", &v));
    assert_int_equal(json_object_array_length(v), 4);
    assert_true(json_object_get_boolean(json_object_array_get_idx(v, 0)));
    assert_null(json_object_array_get_idx(v, 1));
    out = vmcfg_format(cfg);
    assert_non_null(out);
    assert_string_equal(out, text);
    again = vmcfg_parse(out, strlen(out));
    assert_non_null(again);
    assert_true(json_object_equal(cfg, again));
    xfree(out);
}

static void
test_vmcfg_errors(void **state)
{
    static const struct {
        const char *text;
        const char *msg;    /* the whole message */
    } cases[] = {
        { "name = 'abc\nmemory = 1\n", "vm.cfg line 1: unterminated string" },
        { "a = 1\nname = \"abc\n", "vm.cfg line 2: unterminated string" },
        { "a = 'x'\nb = {'x': 1}\n",
          "vm.cfg line 2: dicts are not supported (value of 'b')" },
        { "a = 1 + 2\n", "vm.cfg line 1: unexpected '+' after the value of "
                         "'a' (expressions are not supported)" },
        { "name =\n", "vm.cfg line 1: missing value for 'name'" },
        { "name = # nothing\n", "vm.cfg line 1: missing value for 'name'" },
        { "name =", "vm.cfg line 1: missing value for 'name'" },
        { "\n\n# c\nname\n",
          "vm.cfg line 4: expected '=' after 'name', found the end of the "
          "line" },
        { "x == 1\n", "vm.cfg line 1: expected '=' after 'x', found '='" },
        { "x = [1, 2,\n 3\n", "vm.cfg line 1: list 'x' is not closed" },
        { "x = [1, 2\n\ny = 3]\n",
          "vm.cfg line 3: expected ',' or ']' in list 'x', found 'y'" },
        { "x = [[1]]\n", "vm.cfg line 1: nested lists are not supported "
                         "(in 'x')" },
        { "x = (1, 2)\n", "vm.cfg line 1: tuples are not supported (value "
                          "of 'x')" },
        { "x = Truth\n", "vm.cfg line 1: value of 'x' must be a string, an "
                         "integer, True, False, None or a list, not 'T'" },
        { "x = 'a' 'b'\n", "vm.cfg line 1: unexpected ''' after the value of "
                           "'x' (expressions are not supported)" },
        { "x = 1.5\n", "vm.cfg line 1: '1.' is not a decimal integer" },
        { "x = 0x10\n", "vm.cfg line 1: '0x' is not a decimal integer" },
        { "x = -\n", "vm.cfg line 1: a sign must be followed by digits" },
        { "x = 99999999999999999999\n",
          "vm.cfg line 1: integer '99999999999999999999' out of range" },
        { "x = 'a\\qb'\n", "vm.cfg line 1: unsupported escape '\\' followed "
                           "by 'q' (only \\\\ \\' \\\" \\n \\t)" },
        { "1x = 2\n", "vm.cfg line 1: '1x' is not a valid key" },
        { "x = 1; y = 2\n", "vm.cfg line 1: unexpected ';' after the value "
                            "of 'x' (expressions are not supported)" },
        { "x = '\x01'\n", "vm.cfg line 1: control character 0x01 in a "
                          "string" },
        { "x = 'caf\xe9'\n", "vm.cfg line 1: string is not valid UTF-8" },
        { "= 3\n", "vm.cfg line 1: expected a key, found '='" },
        { "x = 1 \\\n + 2\n", "vm.cfg line 1: unexpected '\\' after the "
                              "value of 'x' (expressions are not "
                              "supported)" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_object *o;

        err_clear();
        o = vmcfg_parse(cases[i].text, strlen(cases[i].text));
        if (o || err_code() != ERR_INVALID ||
            strcmp(err_message(), cases[i].msg) != 0)
            fail_msg("case %zu: got %s '%s', want '%s'", i,
                     err_code_str(err_code()), err_message(), cases[i].msg);
    }
    /* A NUL byte, on line 2. */
    assert_null(vmcfg_parse("a = 1\nb = 'x\0y'\n", 14));
    assert_string_equal(err_message(), "vm.cfg line 2: NUL byte");
    /* Empty text is an empty config; so are comments alone. */
    {
        json_object *o = vmcfg_parse("", 0);

        assert_non_null(o);
        assert_int_equal(json_object_object_length(o), 0);
        json_object_put(o);
        o = vmcfg_parse("# nothing\n\n   # here\n", 21);
        assert_non_null(o);
        assert_int_equal(json_object_object_length(o), 0);
        json_object_put(o);
        o = vmcfg_parse("\xef\xbb\xbfx = 1", 8);
        assert_non_null(o);
        json_object_put(o);
    }
}

static void
test_vmcfg_limits(void **state)
{
    struct buf b;
    json_object *o;
    int i;

    (void)state;
    /* 256 keys fine, 257 not; reassigning one key is not more keys. */
    buf_init(&b, 0);
    for (i = 0; i < 256; i++)
        buf_printf(&b, "k%d = %d\n", i, i);
    o = vmcfg_parse(b.data, b.len);
    assert_non_null(o);
    json_object_put(o);
    buf_puts(&b, "k0 = 'again'\n");
    o = vmcfg_parse(b.data, b.len);
    assert_non_null(o);
    json_object_put(o);
    buf_puts(&b, "one_more = 1\n");
    assert_null(vmcfg_parse(b.data, b.len));
    assert_string_equal(err_message(), "vm.cfg line 258: more than 256 keys");
    buf_release(&b);

    /* 64 list items fine, 65 not. */
    buf_init(&b, 0);
    buf_puts(&b, "x = [");
    for (i = 0; i < 64; i++)
        buf_printf(&b, "%d,\n", i);
    o = vmcfg_parse(b.data, b.len + 0);
    assert_null(o);   /* not closed yet */
    buf_puts(&b, "]\n");
    o = vmcfg_parse(b.data, b.len);
    assert_non_null(o);
    json_object_put(o);
    buf_clear(&b);
    buf_puts(&b, "x = [");
    for (i = 0; i < 65; i++)
        buf_printf(&b, "%d, ", i);
    buf_puts(&b, "]\n");
    assert_null(vmcfg_parse(b.data, b.len));
    assert_string_equal(err_message(),
                        "vm.cfg line 1: list 'x' has more than 64 items");
    buf_release(&b);

    /* A string of 4096 bytes fine, 4097 not. */
    buf_init(&b, 0);
    buf_puts(&b, "s = '");
    for (i = 0; i < 4096; i++)
        buf_puts(&b, "a");
    buf_puts(&b, "'\n");
    o = vmcfg_parse(b.data, b.len);
    assert_non_null(o);
    json_object_put(o);
    buf_clear(&b);
    buf_puts(&b, "s = '");
    for (i = 0; i < 4097; i++)
        buf_puts(&b, "a");
    buf_puts(&b, "'\n");
    assert_null(vmcfg_parse(b.data, b.len));
    assert_string_equal(err_message(),
                        "vm.cfg line 1: string longer than 4096 bytes");
    buf_release(&b);

    /* 64 KiB of text fine, one byte more not. */
    {
        char *big = xmalloc(65537);

        memset(big, '#', 65537);
        big[0] = '\n';
        o = vmcfg_parse(big, 65536);
        assert_non_null(o);
        json_object_put(o);
        assert_null(vmcfg_parse(big, 65537));
        assert_int_equal(err_code(), ERR_INVALID);
        assert_string_equal(err_message(),
                            "vm.cfg is larger than 65536 bytes");
        xfree(big);
    }
}

static void
test_vmcfg_format_errors(void **state)
{
    static const char *bad[] = {
        "{\"a\": 1.5}", "{\"a\": {}}",
        "{\"a\": [[1]]}", "{\"a\": [{}]}", "{\"a-b\": 1}", "{\"\": 1}",
        "{\"1a\": 1}", "{\"a\": \"x\\u0001y\"}", "{\"a\": \"x\\ry\"}",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_object *o = json_parse(bad[i], strlen(bad[i]));
        char *t;

        assert_non_null(o);
        err_clear();
        t = vmcfg_format(o);
        if (t || err_code() != ERR_INVALID)
            fail_msg("'%s' formatted: %s", bad[i], t ? t : "");
        json_object_put(o);
    }
    {
        json_object *arr = json_object_new_array();

        assert_null(vmcfg_format(arr));
        assert_int_equal(err_code(), ERR_INVALID);
        json_object_put(arr);
        assert_null(vmcfg_format(NULL));
    }
    /* What it does write always parses back equal. */
    {
        const char *js = "{\"a\": \"it's \\\\ \\\"q\\\" \\t \\n é\", "
                         "\"b\": [], \"c\": [-5, \"x\"], \"d\": 0}";
        AUTOPTR(json_object) json_object *o = json_parse(js, strlen(js));
        AUTOPTR(json_object) json_object *back = NULL;
        char *t = vmcfg_format(o);

        assert_non_null(t);
        back = vmcfg_parse(t, strlen(t));
        assert_non_null(back);
        assert_true(json_object_equal(o, back));
        xfree(t);
    }
}

/* Check one disk spec's parts. */
static void
disk_expect(const char *spec, const char *path, const char *proto,
            const char *target, bool cdrom, const char *mode)
{
    AUTOPTR(json_object) json_object *d = vmcfg_disk_parse(spec);
    const char *s;
    bool b;

    if (!d)
        fail_msg("'%s': %s", spec, err_message());
    assert_int_equal(json_get_string(d, "path", &s), 0);
    assert_string_equal(s, path);
    assert_int_equal(json_get_string(d, "proto", &s), 0);
    assert_string_equal(s, proto);
    assert_int_equal(json_get_string(d, "target", &s), 0);
    assert_string_equal(s, target);
    assert_int_equal(json_get_bool(d, "cdrom", &b), 0);
    assert_int_equal(b, cdrom);
    assert_int_equal(json_get_string(d, "mode", &s), 0);
    assert_string_equal(s, mode);
}

static void
test_vmcfg_disk_vif(void **state)
{
    static const char *bad_disks[] = {
        "file:/p/a.img,xvda", "file:/p/a.img,xvda,x", ",xvda,w",
        "file:/p/a.img,xv da,w", "file:/p/a.iso,hdc:floppy,r", "a,b,c,d",
        "file:/p/a.img,,w", "", "file:/p/a.img,xvda,",
    };
    static const char *bad_vifs[] = { "mac", "=x", "a b=c", "bridge" };
    AUTOPTR(json_object) json_object *v = NULL;
    const char *s;
    size_t i;

    (void)state;
    disk_expect("file:/OVS/Repositories/r/VirtualDisks/a.img,xvda,w",
                "/OVS/Repositories/r/VirtualDisks/a.img", "file", "xvda",
                false, "w");
    disk_expect("file:/p/b.iso,hdc:cdrom,r", "/p/b.iso", "file", "hdc", true,
                "r");
    disk_expect(",hdc:cdrom,r", "", "", "hdc", true, "r");
    disk_expect("phy:/dev/mapper/3600a0b8,xvdb,w!", "/dev/mapper/3600a0b8",
                "phy", "xvdb", false, "w!");
    disk_expect("tap:aio:/p/c.img,xvdc,w", "/p/c.img", "tap:aio", "xvdc",
                false, "w");
    disk_expect("file:/p/d.img,ioemu:hda,w", "/p/d.img", "file", "hda",
                false, "w");
    disk_expect("file:/p/a:b.img,hda:disk,w", "/p/a:b.img", "file", "hda",
                false, "w");
    disk_expect("phy:sdb,xvdb,r", "sdb", "phy", "xvdb", false, "r");
    for (i = 0; i < sizeof(bad_disks) / sizeof(bad_disks[0]); i++) {
        json_object *d = vmcfg_disk_parse(bad_disks[i]);

        if (d || err_code() != ERR_INVALID)
            fail_msg("disk '%s' accepted", bad_disks[i]);
    }
    assert_null(vmcfg_disk_parse(NULL));

    v = vmcfg_vif_parse("mac=00:16:3e:00:00:01,bridge=xenbr0");
    assert_non_null(v);
    assert_int_equal(json_object_object_length(v), 2);
    assert_int_equal(json_get_string(v, "mac", &s), 0);
    assert_string_equal(s, "00:16:3e:00:00:01");
    assert_int_equal(json_get_string(v, "bridge", &s), 0);
    assert_string_equal(s, "xenbr0");
    json_object_put(steal_ptr(&v));
    v = vmcfg_vif_parse(" mac=00:21:f6:00:00:01, bridge=xenbr0 ,type=netfront,");
    assert_non_null(v);
    assert_int_equal(json_object_object_length(v), 3);
    assert_int_equal(json_get_string(v, "type", &s), 0);
    assert_string_equal(s, "netfront");
    json_object_put(steal_ptr(&v));
    v = vmcfg_vif_parse("");
    assert_non_null(v);
    assert_int_equal(json_object_object_length(v), 0);
    for (i = 0; i < sizeof(bad_vifs) / sizeof(bad_vifs[0]); i++) {
        json_object *o = vmcfg_vif_parse(bad_vifs[i]);

        if (o || err_code() != ERR_INVALID)
            fail_msg("vif '%s' accepted", bad_vifs[i]);
    }
}

/* ================================================================ */
/* ovf                                                              */
/* ================================================================ */

#define OVF_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define OVF_ENV_OPEN                                                          \
    "<Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\"\n"            \
    "  xmlns:ovf=\"http://schemas.dmtf.org/ovf/envelope/1\"\n"                \
    "  xmlns:rasd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"       \
    "CIM_ResourceAllocationSettingData\"\n"                                   \
    "  xmlns:vssd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"       \
    "CIM_VirtualSystemSettingData\"\n"                                        \
    "  xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"

#define OVF_REFS                                                              \
    "  <References>\n"                                                        \
    "    <File ovf:id=\"file1\" ovf:href=\"System.img\" "                     \
    "ovf:size=\"10737418240\"/>\n"                                            \
    "    <File ovf:id=\"file2\" ovf:href=\"u01.img\" ovf:size=\"5368709120\"/>\n" \
    "  </References>\n"

#define OVF_DISKS                                                             \
    "  <DiskSection>\n"                                                       \
    "    <Info>Virtual disk information</Info>\n"                             \
    "    <Disk ovf:diskId=\"vmdisk1\" ovf:fileRef=\"file1\" "                 \
    "ovf:capacity=\"20\" ovf:capacityAllocationUnits=\"byte * 2^30\" "        \
    "ovf:format=\"http://www.vmware.com/interfaces/specifications/"           \
    "vmdk.html#streamOptimized\"/>\n"                                         \
    "    <Disk ovf:diskId=\"vmdisk2\" ovf:fileRef=\"file2\" "                 \
    "ovf:capacity=\"10737418240\" ovf:format=\"http://www.gnome.org/~markmc/" \
    "qcow-image-format.html\"/>\n"                                            \
    "  </DiskSection>\n"                                                      \
    "  <NetworkSection>\n"                                                    \
    "    <Info>The list of logical networks</Info>\n"                         \
    "    <Network ovf:name=\"VM Network\">\n"                                 \
    "      <Description>The VM Network network</Description>\n"               \
    "    </Network>\n"                                                        \
    "  </NetworkSection>\n"

#define OVF_ITEM(type, extra)                                                 \
    "      <Item>\n"                                                          \
    "        <rasd:InstanceID>" #type "</rasd:InstanceID>\n"                  \
    "        <rasd:ResourceType>" #type "</rasd:ResourceType>\n"              \
    extra "      </Item>\n"

#define OVF_SYSTEM(name_el, mem_units, mem_qty)                               \
    "  <VirtualSystem ovf:id=\"OVM_OL7U9\">\n"                                \
    "    <Info>A virtual machine</Info>\n"                                    \
    name_el                                                                   \
    "    <OperatingSystemSection ovf:id=\"109\">\n"                           \
    "      <Info>The kind of installed guest operating system</Info>\n"       \
    "      <Description>Oracle Linux 7 (64-bit)</Description>\n"              \
    "    </OperatingSystemSection>\n"                                         \
    "    <VirtualHardwareSection>\n"                                          \
    "      <Info>Virtual hardware requirements</Info>\n"                      \
    "      <System>\n"                                                        \
    "        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>\n"  \
    "        <vssd:InstanceID>0</vssd:InstanceID>\n"                          \
    "        <vssd:VirtualSystemType>xen-3</vssd:VirtualSystemType>\n"        \
    "      </System>\n"                                                       \
    OVF_ITEM(3, "        <rasd:AllocationUnits>hertz * 10^6"                  \
                "</rasd:AllocationUnits>\n"                                   \
                "        <rasd:ElementName>2 virtual CPU(s)"                  \
                "</rasd:ElementName>\n"                                       \
                "        <rasd:VirtualQuantity>2</rasd:VirtualQuantity>\n")   \
    OVF_ITEM(4, mem_units                                                     \
                "        <rasd:ElementName>memory</rasd:ElementName>\n"       \
                "        <rasd:VirtualQuantity>" mem_qty                      \
                "</rasd:VirtualQuantity>\n")                                  \
    OVF_ITEM(6, "        <rasd:ElementName>SCSI Controller 0"                 \
                "</rasd:ElementName>\n")                                      \
    OVF_ITEM(17, "        <rasd:ElementName>Hard disk 1</rasd:ElementName>\n" \
                 "        <rasd:HostResource>ovf:/disk/vmdisk1"               \
                 "</rasd:HostResource>\n"                                     \
                 "        <rasd:Parent>6</rasd:Parent>\n")                    \
    OVF_ITEM(17, "        <rasd:ElementName>Hard disk 2</rasd:ElementName>\n" \
                 "        <rasd:HostResource>ovf:/disk/vmdisk2"               \
                 "</rasd:HostResource>\n")                                    \
    OVF_ITEM(15, "        <rasd:ElementName>CD-ROM 1</rasd:ElementName>\n")   \
    OVF_ITEM(10, "        <rasd:AutomaticAllocation>true"                     \
                 "</rasd:AutomaticAllocation>\n"                              \
                 "        <rasd:Connection>VM Network</rasd:Connection>\n"    \
                 "        <rasd:ElementName>Ethernet 1</rasd:ElementName>\n") \
    "    </VirtualHardwareSection>\n"                                         \
    "  </VirtualSystem>\n"

#define OVF_NAME "    <Name>OVM_OL7U9_x86_64_PVHVM</Name>\n"
#define OVF_MIB "        <rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>\n"

static const char ovf_good[] =
    OVF_HEAD OVF_ENV_OPEN OVF_REFS OVF_DISKS
    OVF_SYSTEM(OVF_NAME, OVF_MIB, "2048") "</Envelope>\n";

/* ovf_parse() on a NUL-terminated @xml. */
static int
ovf_parse_str(const char *xml, struct ovf *o)
{
    return ovf_parse(xml, strlen(xml), o);
}

static void
test_ovf_good(void **state)
{
    struct ovf o;
    const struct ovf_system *vs;

    (void)state;
    if (ovf_parse(ovf_good, sizeof(ovf_good) - 1, &o) != 0)
        fail_msg("%s", err_message());
    assert_int_equal(o.nfiles, 2);
    assert_string_equal(o.files[0].id, "file1");
    assert_string_equal(o.files[0].href, "System.img");
    assert_int_equal(o.files[0].size, 10737418240ULL);
    assert_string_equal(o.files[1].href, "u01.img");
    assert_int_equal(o.files[1].size, 5368709120ULL);
    assert_int_equal(o.ndisks, 2);
    assert_string_equal(o.disks[0].id, "vmdisk1");
    assert_string_equal(o.disks[0].file_ref, "file1");
    assert_int_equal(o.disks[0].capacity_bytes, 20ULL << 30);
    assert_string_equal(o.disks[0].format,
                        "http://www.vmware.com/interfaces/specifications/"
                        "vmdk.html#streamOptimized");
    assert_int_equal(o.disks[1].capacity_bytes, 10737418240ULL);
    assert_int_equal(o.nsystems, 1);
    vs = &o.systems[0];
    assert_string_equal(vs->id, "OVM_OL7U9");
    assert_string_equal(vs->name, "OVM_OL7U9_x86_64_PVHVM");
    assert_string_equal(vs->os, "Oracle Linux 7 (64-bit)");
    assert_int_equal(vs->cpus, 2);
    assert_int_equal(vs->memory_mib, 2048);
    assert_int_equal(vs->ndisks, 2);
    assert_string_equal(vs->disk_ids[0], "vmdisk1");
    assert_string_equal(vs->disk_ids[1], "vmdisk2");
    assert_int_equal(vs->cdroms, 1);
    assert_int_equal(vs->nnics, 1);
    assert_string_equal(vs->nics[0], "VM Network");
    assert_ptr_equal(ovf_file_find(&o, "file2"), &o.files[1]);
    assert_null(ovf_file_find(&o, "file3"));
    assert_ptr_equal(ovf_disk_find(&o, "vmdisk1"), &o.disks[0]);
    assert_null(ovf_disk_find(&o, "nope"));
    ovf_release(&o);
    assert_int_equal(o.nfiles, 0);
    assert_null(o.files);
    ovf_release(&o);   /* twice is fine */
    ovf_release(NULL);
}

static void
test_ovf_variants(void **state)
{
    struct ovf o;
    static const struct {
        const char *units;
        const char *qty;
        uint64_t mib;
    } mem[] = {
        { "        <rasd:AllocationUnits>byte * 2^30</rasd:AllocationUnits>\n",
          "4", 4096 },
        { "        <rasd:AllocationUnits>MegaBytes</rasd:AllocationUnits>\n",
          "512", 512 },
        { "        <rasd:AllocationUnits>byte*2^20</rasd:AllocationUnits>\n",
          "768", 768 },
        { "", "1024", 1024 },
        { "        <rasd:AllocationUnits>byte</rasd:AllocationUnits>\n",
          "1048577", 2 },
    };
    char *xml;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(mem) / sizeof(mem[0]); i++) {
        /* A minimal system with these memory units. */
        {
            char sys[8192];

            snprintf(sys, sizeof(sys),
                     "  <VirtualSystem ovf:id=\"vm\">\n"
                     "    <Info>x</Info>\n"
                     "    <VirtualHardwareSection><Info>h</Info>\n"
                     "      <Item>\n"
                     "%s"
                     "        <rasd:ResourceType>4</rasd:ResourceType>\n"
                     "        <rasd:VirtualQuantity>%s</rasd:VirtualQuantity>\n"
                     "      </Item>\n"
                     "    </VirtualHardwareSection>\n"
                     "  </VirtualSystem>\n", mem[i].units, mem[i].qty);
            xml = xasprintf(OVF_HEAD OVF_ENV_OPEN OVF_REFS OVF_DISKS
                            "%s</Envelope>\n", sys);
        }
        if (ovf_parse_str(xml, &o) != 0)
            fail_msg("case %zu: %s", i, err_message());
        assert_int_equal(o.systems[0].memory_mib, mem[i].mib);
        /* No Name: the id; no CPU item: 1. */
        assert_string_equal(o.systems[0].name, "vm");
        assert_int_equal(o.systems[0].cpus, 1);
        assert_string_equal(o.systems[0].os, "");
        ovf_release(&o);
        xfree(xml);
    }

    /* OVF 2 namespace, a collection of two systems, a harmless DOCTYPE
     * and an external DTD that is neither loaded nor fetched. */
    xml = xasprintf(OVF_HEAD "<!DOCTYPE Envelope SYSTEM "
                    "\"file:///nonexistent/ovf.dtd\">\n"
                    "<Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/2\" "
                    "xmlns:ovf=\"http://schemas.dmtf.org/ovf/envelope/2\">\n"
                    "  <References><File ovf:id=\"f\" ovf:href=\"a.img\"/>"
                    "</References>\n"
                    "  <DiskSection><Info>d</Info><Disk ovf:diskId=\"d1\" "
                    "ovf:fileRef=\"f\" ovf:capacity=\"1\" "
                    "ovf:capacityAllocationUnits=\"GigaBytes\"/>"
                    "<Disk ovf:diskId=\"blank\" ovf:capacity=\"1048576\"/>"
                    "</DiskSection>\n"
                    "  <VirtualSystemCollection ovf:id=\"app\">\n"
                    "    <VirtualSystem ovf:id=\"web\"><Name>web</Name>"
                    "</VirtualSystem>\n"
                    "    <VirtualSystem ovf:id=\"db\"><Name>db</Name>"
                    "</VirtualSystem>\n"
                    "  </VirtualSystemCollection>\n"
                    "</Envelope>\n");
    if (ovf_parse_str(xml, &o) != 0)
        fail_msg("%s", err_message());
    assert_int_equal(o.nsystems, 2);
    assert_string_equal(o.systems[1].name, "db");
    assert_int_equal(o.disks[0].capacity_bytes, 1ULL << 30);
    assert_string_equal(o.disks[1].file_ref, "");
    assert_int_equal(o.files[0].size, 0);
    ovf_release(&o);
    xfree(xml);
}

static void
test_ovf_entities(void **state)
{
    struct ovf o;
    char *xml;
    int64_t t0;
    struct buf b;
    int i;

    (void)state;
    /* An internal entity, used in the Name. */
    xml = xasprintf(OVF_HEAD "<!DOCTYPE Envelope [\n"
                    "  <!ENTITY vmname \"expanded\">\n]>\n"
                    OVF_ENV_OPEN OVF_REFS OVF_DISKS
                    "%s</Envelope>\n",
                    "  <VirtualSystem ovf:id=\"vm\"><Name>&vmname;</Name>"
                    "</VirtualSystem>\n");
    assert_int_equal(ovf_parse_str(xml, &o), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_string_equal(err_message(), "OVF descriptor declares entities");
    assert_int_equal(o.nsystems, 0);
    xfree(xml);

    /* An external entity pointing at /etc/passwd. */
    xml = xasprintf(OVF_HEAD "<!DOCTYPE Envelope [\n"
                    "  <!ENTITY xxe SYSTEM \"file:///etc/passwd\">\n]>\n"
                    OVF_ENV_OPEN OVF_REFS OVF_DISKS
                    "%s</Envelope>\n",
                    "  <VirtualSystem ovf:id=\"vm\"><Name>&xxe;</Name>"
                    "<OperatingSystemSection><Description>&xxe;</Description>"
                    "</OperatingSystemSection></VirtualSystem>\n");
    memset(&o, 0x5a, sizeof(o));
    assert_int_equal(ovf_parse_str(xml, &o), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_string_equal(err_message(), "OVF descriptor declares entities");
    assert_null(strstr(err_message(), "root:"));
    assert_int_equal(o.nsystems, 0);
    assert_null(o.systems);
    xfree(xml);

    /* A parameter entity fetching a DTD, and an unparsed entity. */
    xml = xasprintf(OVF_HEAD "<!DOCTYPE Envelope [\n"
                    "  <!ENTITY %% p SYSTEM \"file:///etc/passwd\">\n  %%p;\n"
                    "]>\n" OVF_ENV_OPEN "</Envelope>\n");
    assert_int_equal(ovf_parse_str(xml, &o), -1);
    assert_string_equal(err_message(), "OVF descriptor declares entities");
    xfree(xml);
    xml = xasprintf(OVF_HEAD "<!DOCTYPE Envelope [\n"
                    "  <!NOTATION gif SYSTEM \"image/gif\">\n"
                    "  <!ENTITY pic SYSTEM \"file:///etc/passwd\" NDATA gif>\n"
                    "]>\n" OVF_ENV_OPEN "</Envelope>\n");
    assert_int_equal(ovf_parse_str(xml, &o), -1);
    assert_string_equal(err_message(), "OVF descriptor declares entities");
    xfree(xml);

    /* Billion laughs: ten levels of ten; refused at the first
     * declaration, so in no time. */
    buf_init(&b, 0);
    buf_puts(&b, OVF_HEAD "<!DOCTYPE Envelope [\n"
                 "  <!ENTITY lol0 \"lol\">\n");
    for (i = 1; i <= 10; i++) {
        buf_printf(&b, "  <!ENTITY lol%d \"", i);
        for (int j = 0; j < 10; j++)
            buf_printf(&b, "&lol%d;", i - 1);
        buf_puts(&b, "\">\n");
    }
    buf_puts(&b, "]>\n" OVF_ENV_OPEN
                 "  <VirtualSystem ovf:id=\"vm\"><Name>&lol10;</Name>"
                 "</VirtualSystem>\n</Envelope>\n");
    t0 = time_mono_ms();
    assert_int_equal(ovf_parse(b.data, b.len, &o), -1);
    assert_string_equal(err_message(), "OVF descriptor declares entities");
    assert_true(time_mono_ms() - t0 < 500);
    buf_release(&b);
}

static void
test_ovf_errors(void **state)
{
    static const struct {
        const char *xml;
        const char *msg;   /* substring */
    } cases[] = {
        { "<Envelope", "not well-formed XML" },
        { "<?xml version=\"1.0\"?><a><b></a>", "not well-formed XML" },
        { "<foo/>", "not an OVF Envelope" },
        { "<Envelope xmlns=\"urn:other\"/>", "not an OVF Envelope" },
        { OVF_HEAD OVF_ENV_OPEN "</Envelope>", "no VirtualSystem" },
        /* hrefs that are not plain file names. */
        { OVF_HEAD OVF_ENV_OPEN "<References><File ovf:id=\"f\" "
          "ovf:href=\"../evil.img\"/></References></Envelope>",
          "OVF file 'f': href '../evil.img' is not a plain file name" },
        { OVF_HEAD OVF_ENV_OPEN "<References><File ovf:id=\"f\" "
          "ovf:href=\"dir/System.img\"/></References></Envelope>",
          "href 'dir/System.img' is not a plain file name" },
        { OVF_HEAD OVF_ENV_OPEN "<References><File ovf:id=\"f\" "
          "ovf:href=\"/etc/passwd\"/></References></Envelope>",
          "is not a plain file name" },
        { OVF_HEAD OVF_ENV_OPEN "<References><File ovf:id=\"f\" "
          "ovf:href=\"http://example.com/a.img\"/></References></Envelope>",
          "is not a plain file name" },
        { OVF_HEAD OVF_ENV_OPEN "<References><File ovf:id=\"f\" "
          "ovf:href=\"..\"/></References></Envelope>",
          "is not a plain file name" },
        { OVF_HEAD OVF_ENV_OPEN "<References><File ovf:id=\"f\"/>"
          "</References></Envelope>", "a File has no 'href'" },
        { OVF_HEAD OVF_ENV_OPEN "<References><File ovf:id=\"f\" ovf:href=\"a\"/>"
          "<File ovf:id=\"f\" ovf:href=\"b\"/></References></Envelope>",
          "file id 'f' is used twice" },
        { OVF_HEAD OVF_ENV_OPEN "<References><File ovf:id=\"f\" ovf:href=\"a\" "
          "ovf:size=\"big\"/></References></Envelope>",
          "file size 'big' is not a whole number" },
        { OVF_HEAD OVF_ENV_OPEN "<References><File ovf:id=\"f\" ovf:href=\"a\" "
          "ovf:compression=\"gzip\"/></References></Envelope>",
          "compression 'gzip' is not supported" },
        { OVF_HEAD OVF_ENV_OPEN "<DiskSection><Disk ovf:diskId=\"d\" "
          "ovf:fileRef=\"nofile\" ovf:capacity=\"1\"/></DiskSection>"
          "</Envelope>", "OVF disk 'd': fileRef 'nofile' names no File" },
        { OVF_HEAD OVF_ENV_OPEN "<DiskSection><Disk ovf:diskId=\"d\" "
          "ovf:capacity=\"1\" ovf:capacityAllocationUnits=\"furlongs\"/>"
          "</DiskSection></Envelope>",
          "capacity units 'furlongs' are not supported" },
        { OVF_HEAD OVF_ENV_OPEN "<DiskSection><Disk ovf:diskId=\"d\" "
          "ovf:capacity=\"${size}\"/></DiskSection></Envelope>",
          "disk capacity '${size}' is not a whole number" },
        { OVF_HEAD OVF_ENV_OPEN "<DiskSection><Disk ovf:diskId=\"d\" "
          "ovf:capacity=\"9999999999\" "
          "ovf:capacityAllocationUnits=\"byte * 2^40\"/></DiskSection>"
          "</Envelope>", "capacity too large" },
        { OVF_HEAD OVF_ENV_OPEN "<DiskSection><Disk ovf:diskId=\"d\"/>"
          "</DiskSection></Envelope>", "a Disk has no 'capacity'" },
        { OVF_HEAD OVF_ENV_OPEN "<VirtualSystem ovf:id=\"vm\">"
          "<VirtualHardwareSection><Item><rasd:ResourceType>17"
          "</rasd:ResourceType><rasd:HostResource>ovf:/disk/ghost"
          "</rasd:HostResource></Item></VirtualHardwareSection>"
          "</VirtualSystem></Envelope>",
          "OVF system 'vm': disk 'ghost' is not in the DiskSection" },
        { OVF_HEAD OVF_ENV_OPEN "<VirtualSystem ovf:id=\"vm\">"
          "<VirtualHardwareSection><Item><rasd:ResourceType>3"
          "</rasd:ResourceType><rasd:VirtualQuantity>0"
          "</rasd:VirtualQuantity></Item></VirtualHardwareSection>"
          "</VirtualSystem></Envelope>", "0 CPUs is not 1 to 4096" },
        { OVF_HEAD OVF_ENV_OPEN "<VirtualSystem><Name>x</Name>"
          "</VirtualSystem></Envelope>", "a VirtualSystem has no 'id'" },
    };
    struct ovf o;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err_clear();
        if (ovf_parse_str(cases[i].xml, &o) != -1 ||
            err_code() != ERR_INVALID ||
            !strstr(err_message(), cases[i].msg))
            fail_msg("case %zu: %s: %s (want '%s')", i,
                     err_code_str(err_code()), err_message(), cases[i].msg);
        assert_int_equal(o.nfiles + o.ndisks + o.nsystems, 0);
    }
    assert_int_equal(ovf_parse("", 0, &o), -1);
    assert_int_equal(ovf_parse(NULL, 10, &o), -1);

    /* 64 files fine, 65 not; 4 MiB of XML at most. */
    {
        struct buf b;

        buf_init(&b, 0);
        buf_puts(&b, OVF_HEAD OVF_ENV_OPEN "<References>");
        for (i = 0; i < 64; i++)
            buf_printf(&b, "<File ovf:id=\"f%zu\" ovf:href=\"f%zu.img\"/>",
                       i, i);
        buf_puts(&b, "</References><VirtualSystem ovf:id=\"v\"/>"
                     "</Envelope>");
        assert_int_equal(ovf_parse(b.data, b.len, &o), 0);
        assert_int_equal(o.nfiles, 64);
        ovf_release(&o);
        buf_clear(&b);
        buf_puts(&b, OVF_HEAD OVF_ENV_OPEN "<References>");
        for (i = 0; i < 65; i++)
            buf_printf(&b, "<File ovf:id=\"f%zu\" ovf:href=\"f%zu.img\"/>",
                       i, i);
        buf_puts(&b, "</References><VirtualSystem ovf:id=\"v\"/>"
                     "</Envelope>");
        assert_int_equal(ovf_parse(b.data, b.len, &o), -1);
        assert_non_null(strstr(err_message(), "more than 64 files"));
        buf_release(&b);

        buf_init(&b, 0);
        buf_puts(&b, OVF_HEAD OVF_ENV_OPEN "<!--");
        while (b.len <= (4u << 20))
            buf_puts(&b, "padding padding padding padding padding padding\n");
        buf_puts(&b, "--></Envelope>");
        assert_int_equal(ovf_parse(b.data, b.len, &o), -1);
        assert_non_null(strstr(err_message(), "larger than"));
        buf_release(&b);
    }
    /* 17 virtual systems: over the limit of 16. */
    {
        struct buf b;

        buf_init(&b, 0);
        buf_puts(&b, OVF_HEAD OVF_ENV_OPEN);
        for (i = 0; i < 17; i++)
            buf_printf(&b, "<VirtualSystem ovf:id=\"v%zu\"/>", i);
        buf_puts(&b, "</Envelope>");
        assert_int_equal(ovf_parse(b.data, b.len, &o), -1);
        assert_non_null(strstr(err_message(), "more than 16 virtual systems"));
        buf_release(&b);
    }
}

/* ================================================================ */

int
main(void)
{
    const struct CMUnitTest fetch_tests[] = {
        cmocka_unit_test(test_fetch_body),
        cmocka_unit_test(test_fetch_not_allowed),
        cmocka_unit_test(test_fetch_redirect),
        cmocka_unit_test(test_fetch_redirect_refused),
        cmocka_unit_test(test_fetch_status),
        cmocka_unit_test(test_fetch_too_large),
        cmocka_unit_test(test_fetch_timeout),
        cmocka_unit_test(test_fetch_progress_abort),
        cmocka_unit_test(test_fetch_abort_waiting),
        cmocka_unit_test(test_fetch_sink_error),
        cmocka_unit_test(test_fetch_url_check),
        cmocka_unit_test(test_fetch_allow_check),
        cmocka_unit_test(test_fetch_basename),
    };
    const struct CMUnitTest archive_tests[] = {
        cmocka_unit_test(test_archive_good),
        cmocka_unit_test(test_archive_normalize),
        cmocka_unit_test(test_archive_hostile),
        cmocka_unit_test(test_archive_not_tar),
    };
    const struct CMUnitTest vmcfg_tests[] = {
        cmocka_unit_test(test_vmcfg_template),
        cmocka_unit_test(test_vmcfg_constants),
        cmocka_unit_test(test_vmcfg_errors),
        cmocka_unit_test(test_vmcfg_limits),
        cmocka_unit_test(test_vmcfg_format_errors),
        cmocka_unit_test(test_vmcfg_disk_vif),
    };
    const struct CMUnitTest ovf_tests[] = {
        cmocka_unit_test(test_ovf_good),
        cmocka_unit_test(test_ovf_variants),
        cmocka_unit_test(test_ovf_entities),
        cmocka_unit_test(test_ovf_errors),
    };
    int fails = 0;

    cmocka_set_message_output(CM_OUTPUT_TAP);
    ovf_global_init();
    fails += cmocka_run_group_tests_name("fetch", fetch_tests, fetch_setup,
                                         fetch_teardown);
    fails += cmocka_run_group_tests_name("archive", archive_tests,
                                         archive_setup, archive_teardown);
    fails += cmocka_run_group_tests_name("vmcfg", vmcfg_tests, NULL, NULL);
    fails += cmocka_run_group_tests_name("ovf", ovf_tests, NULL, NULL);
    return fails ? 1 : 0;
}
