/*
 * fixtured - the HTTP server the import tests download from.
 *
 *   fixtured --root DIR --port-file FILE [--data DIR]
 *            [--trickle BYTES:MS] [--pid-file FILE]
 *
 * Listens on 127.0.0.1 with a port the kernel picks, writes that port to
 * --port-file once listening, and serves until SIGTERM/SIGINT:
 *
 *   GET /files/NAME            the file DIR/NAME with Content-Length
 *   GET /slow/NAME             the same, trickled: BYTES every MS ms
 *                              (default 4096:100), for abort and timeout
 *   GET /nolength/NAME         the file chunked, without Content-Length
 *   GET /redirect/NAME         302 to /files/NAME
 *   GET /redirect-private/X    302 to http://10.0.0.1/X (a forbidden target)
 *   GET /stat/data/PATH        JSON facts about --data/PATH (the daemon's
 *   GET /stat/files/PATH       data directory) or DIR/PATH, for checks on
 *                              disk from .t files: {"exists", "type"
 *                              ("file", "dir", "link", "other"), "size",
 *                              "allocated", "sha256" (files), "entries"
 *                              (directories: names, sorted, dot files
 *                              included)}
 *   GET /text/data/PATH        {"text": the file's content} for a small
 *                              (<= 64 KiB) text file under --data
 *   GET /count                 {"requests": N}: requests served so far
 *   anything else              404 with an Error-shaped JSON body
 *
 * Paths with a ".." component, or absolute ones, are refused (400). Links
 * are never followed: /stat reports them as "link", /files does not serve
 * them. Test harness only: it binds to loopback and serves what the test
 * generated.
 *
 * DESIGN: libmicrohttpd with a thread per connection, so the trickle
 * reader may simply sleep between chunks; a client that goes away (an
 * aborted import) makes MHD stop calling it. The request counter is
 * atomic. Exit status 0 on a signal, 2 on a usage or start-up error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static struct {
    const char *root;
    const char *data;
    size_t trickle_bytes;
    unsigned trickle_ms;
    atomic_ulong requests;
} g = { .trickle_bytes = 4096, .trickle_ms = 100 };

static void die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
static void
die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "fixtured: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

/* True when @rel is a relative path without "." or ".." components. */
static bool
path_ok(const char *rel)
{
    const char *p = rel;

    if (!*rel || *rel == '/')
        return false;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);

        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        p += n;
        if (*p == '/')
            p++;
    }
    return true;
}

/* Queue a JSON response @body with @status. */
static enum MHD_Result
reply_json(struct MHD_Connection *c, unsigned status, const char *body)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        strlen(body), (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;

    MHD_add_response_header(r, "Content-Type", "application/json");
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result
reply_error(struct MHD_Connection *c, unsigned status, const char *code,
            const char *msg)
{
    char body[1024];

    snprintf(body, sizeof(body), "{\"errorCode\": \"%s\", \"message\": "
             "\"%s\"}", code, msg);
    return reply_json(c, status, body);
}

static enum MHD_Result
reply_redirect(struct MHD_Connection *c, const char *location)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        0, (void *)(uintptr_t)"", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret;

    MHD_add_response_header(r, "Location", location);
    ret = MHD_queue_response(c, MHD_HTTP_FOUND, r);
    MHD_destroy_response(r);
    return ret;
}

/* Open DIR/@rel for reading, refusing links and non-files. -1 when not
 * servable. */
static int
open_file(const char *rel, struct stat *st)
{
    char path[4096];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", g.root, rel);
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* A trickled or chunked file being sent. */
struct stream {
    int fd;
    bool trickle;
};

static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *s = cls;
    ssize_t n;

    if (s->trickle) {
        struct timespec ts = { (time_t)(g.trickle_ms / 1000),
                               (long)(g.trickle_ms % 1000) * 1000000L };

        nanosleep(&ts, NULL);
        if (max > g.trickle_bytes)
            max = g.trickle_bytes;
    }
    n = pread(s->fd, buf, max, (off_t)pos);
    if (n == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (n < 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    return n;
}

static void
stream_free(void *cls)
{
    struct stream *s = cls;

    close(s->fd);
    free(s);
}

/* /files, /slow, /nolength. */
static enum MHD_Result
serve(struct MHD_Connection *c, const char *rel, bool trickle, bool length)
{
    struct MHD_Response *r;
    struct stream *s;
    struct stat st;
    enum MHD_Result ret;
    int fd;

    if (!path_ok(rel))
        return reply_error(c, 400, "INVALID", "bad path");
    fd = open_file(rel, &st);
    if (fd < 0)
        return reply_error(c, 404, "NOT_FOUND", "no such fixture");
    if (!trickle && length) {
        r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    } else {
        s = calloc(1, sizeof(*s));
        if (!s) {
            close(fd);
            return MHD_NO;
        }
        s->fd = fd;
        s->trickle = trickle;
        r = MHD_create_response_from_callback(
            length ? (uint64_t)st.st_size : MHD_SIZE_UNKNOWN,
            trickle ? g.trickle_bytes : 64 * 1024, stream_read, s,
            stream_free);
    }
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/octet-stream");
    ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Append @s as a JSON string to @out (bounded). */
static void
json_str(char *out, size_t size, const char *s)
{
    size_t n = strlen(out);

    if (n + 2 >= size)
        return;
    out[n++] = '"';
    for (; *s && n + 8 < size; s++) {
        unsigned char ch = (unsigned char)*s;

        if (ch == '"' || ch == '\\') {
            out[n++] = '\\';
            out[n++] = (char)ch;
        } else if (ch < 0x20) {
            n += (size_t)snprintf(out + n, size - n, "\\u%04x", ch);
        } else {
            out[n++] = (char)ch;
        }
    }
    out[n++] = '"';
    out[n] = '\0';
}

/* Hex SHA-256 of the file @fd into @hex (65 bytes). -1 on read error. */
static int
sha256_fd(int fd, char *hex)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
    unsigned len = 0, i;
    ssize_t n;

    EVP_DigestInit_ex(m, EVP_sha256(), NULL);
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        EVP_DigestUpdate(m, buf, (size_t)n);
    EVP_DigestFinal_ex(m, md, &len);
    EVP_MD_CTX_free(m);
    if (n < 0)
        return -1;
    for (i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return 0;
}

/* /stat/data/PATH and /stat/files/PATH. */
static enum MHD_Result
stat_path(struct MHD_Connection *c, const char *base, const char *rel)
{
    static const size_t max = 256 * 1024;
    char path[4096], hex[65] = "";
    char *out;
    struct stat st;
    enum MHD_Result ret;
    const char *type;

    if (!base)
        return reply_error(c, 404, "NOT_FOUND", "no --data directory");
    if (*rel && !path_ok(rel))
        return reply_error(c, 400, "INVALID", "bad path");
    snprintf(path, sizeof(path), "%s/%s", base, rel);
    if (lstat(path, &st) < 0)
        return reply_json(c, 200, "{\"exists\": false}");
    out = malloc(max);
    if (!out)
        return MHD_NO;
    type = S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "dir"
           : S_ISLNK(st.st_mode) ? "link" : "other";
    if (S_ISREG(st.st_mode)) {
        int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

        if (fd >= 0) {
            if (sha256_fd(fd, hex) < 0)
                hex[0] = '\0';
            close(fd);
        }
    }
    snprintf(out, max, "{\"exists\": true, \"type\": \"%s\", \"size\": %lld,"
             " \"allocated\": %lld, \"sha256\": \"%s\"", type,
             (long long)st.st_size, (long long)st.st_blocks * 512, hex);
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        char **names = NULL;
        size_t n = 0, cap = 0, i;

        while (d && (e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            if (n == cap) {
                char **nn = realloc(names, (cap = cap ? 2 * cap : 16) *
                                               sizeof(char *));

                if (!nn)
                    break;
                names = nn;
            }
            names[n++] = strdup(e->d_name);
        }
        if (d)
            closedir(d);
        if (n > 1)
            qsort(names, n, sizeof(char *), cmp_names);
        strncat(out, ", \"entries\": [", max - strlen(out) - 1);
        for (i = 0; i < n; i++) {
            if (i)
                strncat(out, ", ", max - strlen(out) - 1);
            json_str(out, max, names[i] ? names[i] : "");
            free(names[i]);
        }
        free(names);
        strncat(out, "]", max - strlen(out) - 1);
    }
    strncat(out, "}", max - strlen(out) - 1);
    ret = reply_json(c, 200, out);
    free(out);
    return ret;
}

/* /text/data/PATH: a small file's content as a JSON string. */
static enum MHD_Result
text_path(struct MHD_Connection *c, const char *base, const char *rel)
{
    static const size_t max = 64 * 1024;
    char path[4096], *data, *out;
    enum MHD_Result ret;
    ssize_t n;
    int fd;

    if (!base)
        return reply_error(c, 404, "NOT_FOUND", "no --data directory");
    if (!path_ok(rel))
        return reply_error(c, 400, "INVALID", "bad path");
    snprintf(path, sizeof(path), "%s/%s", base, rel);
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return reply_error(c, 404, "NOT_FOUND", "no such file");
    data = calloc(1, max + 1);
    out = malloc(8 * max + 32);
    if (!data || !out) {
        close(fd);
        free(data);
        free(out);
        return MHD_NO;
    }
    n = read(fd, data, max);
    close(fd);
    data[n > 0 ? n : 0] = '\0';
    snprintf(out, 8 * max + 32, "{\"text\": ");
    json_str(out, 8 * max + 32, data);
    strncat(out, "}", 8 * max + 31 - strlen(out));
    ret = reply_json(c, 200, out);
    free(data);
    free(out);
    return ret;
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url,
        const char *method, const char *version, const char *upload,
        size_t *upload_size, void **con_cls)
{
    static int first;
    char buf[4200];

    (void)cls;
    (void)version;
    (void)upload;
    (void)upload_size;
    if (*con_cls == NULL) {
        *con_cls = &first;
        return MHD_YES;
    }
    atomic_fetch_add(&g.requests, 1);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply_error(c, 405, "METHOD", "GET only");
    if (strncmp(url, "/files/", 7) == 0)
        return serve(c, url + 7, false, true);
    if (strncmp(url, "/slow/", 6) == 0)
        return serve(c, url + 6, true, true);
    if (strncmp(url, "/nolength/", 10) == 0)
        return serve(c, url + 10, false, false);
    if (strncmp(url, "/redirect/", 10) == 0) {
        snprintf(buf, sizeof(buf), "/files/%s", url + 10);
        return reply_redirect(c, buf);
    }
    if (strncmp(url, "/redirect-private/", 18) == 0) {
        snprintf(buf, sizeof(buf), "http://10.0.0.1/%s", url + 18);
        return reply_redirect(c, buf);
    }
    if (strncmp(url, "/stat/data/", 11) == 0)
        return stat_path(c, g.data, url + 11);
    if (strncmp(url, "/stat/files/", 12) == 0)
        return stat_path(c, g.root, url + 12);
    if (strncmp(url, "/text/data/", 11) == 0)
        return text_path(c, g.data, url + 11);
    if (strcmp(url, "/count") == 0) {
        snprintf(buf, sizeof(buf), "{\"requests\": %lu}",
                 (unsigned long)atomic_load(&g.requests));
        return reply_json(c, 200, buf);
    }
    return reply_error(c, 404, "NOT_FOUND", "no such fixture");
}

int
main(int argc, char **argv)
{
    const char *port_file = NULL, *pid_file = NULL;
    struct MHD_Daemon *d;
    const union MHD_DaemonInfo *info;
    struct sockaddr_in sa;
    sigset_t set;
    FILE *f;
    int i, sig;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--root") == 0 && i + 1 < argc) {
            g.root = argv[++i];
        } else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
            g.data = argv[++i];
        } else if (strcmp(argv[i], "--port-file") == 0 && i + 1 < argc) {
            port_file = argv[++i];
        } else if (strcmp(argv[i], "--pid-file") == 0 && i + 1 < argc) {
            pid_file = argv[++i];
        } else if (strcmp(argv[i], "--trickle") == 0 && i + 1 < argc) {
            unsigned long b = 0, ms = 0;

            if (sscanf(argv[++i], "%lu:%lu", &b, &ms) != 2 || b == 0)
                die("bad --trickle '%s' (BYTES:MS)", argv[i]);
            g.trickle_bytes = b;
            g.trickle_ms = (unsigned)ms;
        } else {
            die("unknown argument '%s' (see the source for usage)", argv[i]);
        }
    }
    if (!g.root || !port_file)
        die("%s", "usage: fixtured --root DIR --port-file FILE [--data DIR] "
                  "[--trickle BYTES:MS] [--pid-file FILE]");
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = 0;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
                             MHD_USE_THREAD_PER_CONNECTION,
                         0, NULL, NULL, handler, NULL,
                         MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
                         MHD_OPTION_END);
    if (!d)
        die("%s", "cannot start the HTTP daemon on 127.0.0.1");
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (!info || info->port == 0)
        die("%s", "cannot learn the port");
    if (pid_file && (f = fopen(pid_file, "w"))) {
        fprintf(f, "%ld\n", (long)getpid());
        fclose(f);
    }
    /* Write the port atomically: the test polls for a complete file. */
    {
        char tmp[4096];

        snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
        f = fopen(tmp, "w");
        if (!f || fprintf(f, "%u\n", (unsigned)info->port) < 0 ||
            fclose(f) != 0 || rename(tmp, port_file) != 0)
            die("cannot write '%s'", port_file);
    }
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    return 0;
}
