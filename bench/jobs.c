/*
 * bench/jobs.c - durable job throughput of ovmmd against the raw SQLite
 * commit rate, measured in the same run (bench/README.md).
 *
 * Usage:
 *   jobs [--ovmmd PATH] [--seconds N] [--clients N] [--keep]
 *
 * 1. Starts its own ovmmd (--foreground, a temporary data directory,
 *    loopback with a random port, --set job_diagnostics=true) and waits
 *    until the Manager is RUNNING.
 * 2. REST: --clients connections (8) for --seconds (5) each loop on
 *    POST /Job/diagnostic {"operations": []} (a no-op job: persisted,
 *    scheduled, run and finished like any other) and GET /Job/{id}?wait=30
 *    until it is done; every job must end SUCCESS. Result: jobs per second,
 *    and the submit-to-done latency percentiles.
 * 3. Raw SQLite: one connection to a file in the same directory,
 *    journal_mode=WAL, synchronous=FULL, one small INSERT per transaction,
 *    for half of --seconds before the daemon starts and half after it
 *    stopped (so a disk that speeds up or slows down during the run moves
 *    both sides). Result: commits/second over both halves.
 * 4. Prints both and the ratio REST jobs/s / raw FULL commits/s: the
 *    figure to watch (it does not depend on the disk as much as either
 *    number alone).
 *
 * Exit status 0 when both measurements ran, 1 when one failed (a job that
 * did not succeed, a daemon that did not start), 2 for usage errors.
 *
 * DESIGN: a test-side tool, so it links libcurl and SQLite directly. One
 * thread per client, each with its own curl handle (keep-alive); the
 * daemon is a child process signalled by its pid only.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <sqlite3.h>

#define MAX_CLIENTS 64
#define MAX_BODY (1024 * 1024)
/* Latency samples kept per client (enough for minutes of jobs). */
#define MAX_SAMPLES 200000

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
                                                         noreturn));

static void
die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("bench/jobs: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static void *
xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (!q)
        die("out of memory");
    return q;
}

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* The first line of @file without its newline, in @out; false if none. */
static bool
first_line(const char *file, char *out, size_t n)
{
    FILE *f = fopen(file, "r");
    bool ok;

    if (!f)
        return false;
    ok = fgets(out, (int)n, f) != NULL;
    fclose(f);
    if (ok)
        out[strcspn(out, "\r\n")] = '\0';
    return ok && *out;
}

/* ---- the daemon --------------------------------------------------------- */

static struct {
    char tmp[256];       /* the temporary directory */
    char data[300];      /* its data/ */
    char base[128];      /* https://127.0.0.1:PORT/ovm/core/wsapi/rest */
    char cacert[320];
    char pass[256];
    pid_t pid;           /* the daemon we started, 0 when none */
} g;

static void
daemon_start(const char *ovmmd)
{
    char out[320], err[320];
    pid_t pid;

    snprintf(g.data, sizeof(g.data), "%s/data", g.tmp);
    if (mkdir(g.data, 0700) < 0)
        die("cannot make '%s': %s", g.data, strerror(errno));
    snprintf(out, sizeof(out), "%s/ovmmd.out", g.tmp);
    snprintf(err, sizeof(err), "%s/ovmmd.err", g.tmp);
    pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        if (fo >= 0)
            dup2(fo, 1);
        if (fe >= 0)
            dup2(fe, 2);
        execl(ovmmd, ovmmd, "--foreground", "--data-dir", g.data, "--listen",
              "127.0.0.1:0", "--set", "job_diagnostics=true", (char *)NULL);
        fprintf(stderr, "cannot run '%s': %s\n", ovmmd, strerror(errno));
        _exit(127);
    }
    g.pid = pid;
}

/* SIGTERM our daemon and reap it (SIGKILL after 30 s). */
static void
daemon_stop(void)
{
    int i, st;

    if (!g.pid)
        return;
    kill(g.pid, SIGTERM);
    for (i = 0; i < 300; i++) {
        if (waitpid(g.pid, &st, WNOHANG) == g.pid) {
            g.pid = 0;
            return;
        }
        sleep_ms(100);
    }
    kill(g.pid, SIGKILL);
    waitpid(g.pid, &st, 0);
    g.pid = 0;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* ---- HTTP --------------------------------------------------------------- */

struct client {
    CURL *curl;
    char *body;
    size_t len;
    char errbuf[CURL_ERROR_SIZE];
    /* results */
    long jobs;
    long failures;
    char failure[512];
    double *lat;   /* submit-to-done seconds, up to MAX_SAMPLES */
    size_t nlat;
    double until;  /* stop time (monotonic) */
};

static size_t
on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    struct client *c = ud;
    size_t n = size * nmemb;

    if (c->len + n > MAX_BODY)
        return 0;
    c->body = xrealloc(c->body, c->len + n + 1);
    memcpy(c->body + c->len, data, n);
    c->len += n;
    c->body[c->len] = '\0';
    return n;
}

/* @method base+@path with an optional JSON @body. The status or -1; the
 * parsed answer in *out (caller puts; NULL when not JSON). */
static long
http(struct client *c, const char *method, const char *path,
     const char *body, json_object **out)
{
    char url[512];
    struct curl_slist *h = NULL;
    long st = -1;

    *out = NULL;
    c->len = 0;
    if (c->body)
        c->body[0] = '\0';
    snprintf(url, sizeof(url), "%s%s", g.base, path);
    curl_easy_reset(c->curl);
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_CAINFO, g.cacert);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(c->curl, CURLOPT_USERNAME, "admin");
    curl_easy_setopt(c->curl, CURLOPT_PASSWORD, g.pass);
    if (body) {
        h = curl_slist_append(h, "Content-Type: application/json");
        curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
    }
    if (curl_easy_perform(c->curl) == CURLE_OK) {
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &st);
        if (c->len)
            *out = json_tokener_parse(c->body);
    }
    curl_slist_free_all(h);
    return st;
}

static const char *
jpath_str(json_object *o, const char *a, const char *b)
{
    json_object *v = NULL;

    if (!o || !json_object_object_get_ex(o, a, &v))
        return NULL;
    if (b && (!v || !json_object_object_get_ex(v, b, &v)))
        return NULL;
    return v && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : NULL;
}

static bool
jdone(json_object *o)
{
    json_object *v = NULL;

    return o && json_object_object_get_ex(o, "done", &v) &&
           json_object_get_boolean(v);
}

static void
client_fail(struct client *c, const char *what, long st)
{
    if (!c->failures++)
        snprintf(c->failure, sizeof(c->failure), "%s: %ld %s%.300s", what, st,
                 st < 0 ? c->errbuf : "", c->body ? c->body : "");
}

/* One client: submit a no-op job, wait for it, until c->until. */
static void *
client_run(void *arg)
{
    struct client *c = arg;

    while (now_s() < c->until) {
        json_object *j = NULL;
        double t0 = now_s();
        char path[96];
        const char *id, *st;
        long code;

        code = http(c, "POST", "/Job/diagnostic",
                    "{\"name\": \"bench\", \"operations\": []}", &j);
        id = jpath_str(j, "id", "value");
        if (code != 200 || !id) {
            client_fail(c, "POST /Job/diagnostic", code);
            json_object_put(j);
            if (c->failures > 10)
                break;
            continue;
        }
        snprintf(path, sizeof(path), "/Job/%s?wait=30", id);
        while (!jdone(j)) {
            json_object_put(j);
            code = http(c, "GET", path, NULL, &j);
            if (code != 200)
                break;
        }
        st = jpath_str(j, "jobRunState", NULL);
        if (code != 200 || !st || strcmp(st, "SUCCESS") != 0) {
            client_fail(c, path, code);
        } else {
            c->jobs++;
            if (c->nlat < MAX_SAMPLES)
                c->lat[c->nlat++] = now_s() - t0;
        }
        json_object_put(j);
    }
    return NULL;
}

static int
dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* Wait for the port file, the password and RUNNING. 0 or -1. */
static int
daemon_ready(void)
{
    char file[400], port[32];
    struct client c;
    double until = now_s() + 60;
    int rc = -1;

    memset(&c, 0, sizeof(c));
    c.curl = curl_easy_init();
    snprintf(file, sizeof(file), "%s/ovmmd.port", g.data);
    while (!first_line(file, port, sizeof(port))) {
        if (now_s() > until || waitpid(g.pid, NULL, WNOHANG) == g.pid)
            goto done;
        sleep_ms(50);
    }
    snprintf(g.base, sizeof(g.base),
             "https://127.0.0.1:%s/ovm/core/wsapi/rest", port);
    snprintf(g.cacert, sizeof(g.cacert), "%s/tls/server.crt", g.data);
    snprintf(file, sizeof(file), "%s/admin-password", g.data);
    while (!first_line(file, g.pass, sizeof(g.pass))) {
        if (now_s() > until)
            goto done;
        sleep_ms(50);
    }
    while (now_s() < until) {
        json_object *j = NULL;
        long st = http(&c, "GET", "/Manager", NULL, &j);

        if (st == 200 && c.body && strstr(c.body, "\"RUNNING\"")) {
            json_object_put(j);
            rc = 0;
            break;
        }
        json_object_put(j);
        sleep_ms(100);
    }
 done:
    curl_easy_cleanup(c.curl);
    free(c.body);
    return rc;
}

/* ---- raw SQLite --------------------------------------------------------- */

/* One small INSERT per transaction, WAL + synchronous=FULL, for
 * @seconds: adds the commits to *commits and the time to *spent. 0, or
 * -1 on an SQLite error. */
static int
sqlite_full_run(double seconds, long *commits, double *spent)
{
    char file[300];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    double t0, t1;
    long n = 0;
    int rc = -1;

    snprintf(file, sizeof(file), "%s/raw.db", g.tmp);
    if (sqlite3_open(file, &db) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                     "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, "
                     "v TEXT NOT NULL)",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO t (v) VALUES (?1)", -1, &st,
                           NULL) != SQLITE_OK) {
        fprintf(stderr, "bench/jobs: sqlite: %s\n", sqlite3_errmsg(db));
        goto done;
    }
    t0 = now_s();
    do {
        sqlite3_bind_text(st, 1, "a small row, like a job state change", -1,
                          SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            fprintf(stderr, "bench/jobs: sqlite: %s\n", sqlite3_errmsg(db));
            goto done;
        }
        sqlite3_reset(st);
        n++;
        t1 = now_s();
    } while (t1 - t0 < seconds);
    *commits += n;
    *spent += t1 - t0;
    rc = 0;
 done:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

/* ---- main --------------------------------------------------------------- */

static void
usage(void)
{
    fprintf(stderr, "usage: jobs [--ovmmd PATH] [--seconds N] [--clients N] "
            "[--keep]\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    const char *ovmmd = "build/ovmmd", *tmpdir = getenv("TMPDIR");
    double seconds = 5, t0, elapsed, rest_rate, raw_rate = -1, raw_s = 0;
    int nclients = 8, i, rc = 0;
    bool keep = false;
    struct client *cl;
    pthread_t th[MAX_CLIENTS];
    long jobs = 0, failures = 0, commits = 0;
    int raw_rc;
    double *all;
    size_t nall = 0;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--ovmmd") == 0 && i + 1 < argc)
            ovmmd = argv[++i];
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = strtod(argv[++i], NULL);
        else if (strcmp(argv[i], "--clients") == 0 && i + 1 < argc)
            nclients = (int)strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--keep") == 0)
            keep = true;
        else
            usage();
    }
    if (seconds <= 0 || seconds > 3600 || nclients < 1 ||
        nclients > MAX_CLIENTS)
        usage();
    if (access(ovmmd, X_OK) != 0)
        die("'%s' is not executable (make all)", ovmmd);
    signal(SIGPIPE, SIG_IGN);
    snprintf(g.tmp, sizeof(g.tmp), "%s/ovmm-bench.XXXXXX",
             tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(g.tmp))
        die("mkdtemp: %s", strerror(errno));
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        die("curl_global_init failed");

    /* Raw SQLite, first half: before the daemon runs. */
    raw_rc = sqlite_full_run(seconds / 2, &commits, &raw_s);

    daemon_start(ovmmd);
    if (daemon_ready() < 0) {
        fprintf(stderr, "bench/jobs: ovmmd did not reach RUNNING; see %s\n",
                g.tmp);
        daemon_stop();
        return 1;
    }

    /* REST: durable no-op jobs, each waited for. */
    cl = xrealloc(NULL, (size_t)nclients * sizeof(*cl));
    memset(cl, 0, (size_t)nclients * sizeof(*cl));
    t0 = now_s();
    for (i = 0; i < nclients; i++) {
        cl[i].curl = curl_easy_init();
        cl[i].lat = xrealloc(NULL, MAX_SAMPLES * sizeof(double));
        cl[i].until = t0 + seconds;
        if (!cl[i].curl || pthread_create(&th[i], NULL, client_run, &cl[i]))
            die("cannot start client %d", i);
    }
    for (i = 0; i < nclients; i++)
        pthread_join(th[i], NULL);
    elapsed = now_s() - t0;
    daemon_stop();

    all = xrealloc(NULL, (size_t)nclients * MAX_SAMPLES * sizeof(double));
    for (i = 0; i < nclients; i++) {
        jobs += cl[i].jobs;
        failures += cl[i].failures;
        if (cl[i].failures)
            fprintf(stderr, "bench/jobs: client %d: %ld failures, first: %s\n",
                    i, cl[i].failures, cl[i].failure);
        memcpy(all + nall, cl[i].lat, cl[i].nlat * sizeof(double));
        nall += cl[i].nlat;
        curl_easy_cleanup(cl[i].curl);
        free(cl[i].body);
        free(cl[i].lat);
    }
    free(cl);
    qsort(all, nall, sizeof(double), dbl_cmp);
    rest_rate = (double)jobs / elapsed;

    /* Raw SQLite, second half: the daemon stopped. */
    if (raw_rc == 0)
        raw_rc = sqlite_full_run(seconds / 2, &commits, &raw_s);
    if (raw_rc == 0 && raw_s > 0)
        raw_rate = (double)commits / raw_s;

    printf("REST durable no-op jobs:  %8.1f jobs/s   (%d clients, %.1f s, "
           "%ld jobs, submit-to-done p50 %.2f ms, p99 %.2f ms)\n",
           rest_rate, nclients, elapsed, jobs,
           nall ? all[nall / 2] * 1000 : 0.0,
           nall ? all[(nall * 99) / 100] * 1000 : 0.0);
    printf("SQLite WAL FULL commits:  %8.1f commits/s (one small INSERT per "
           "transaction, %.1f s around the REST run, %ld commits)\n",
           raw_rate, raw_s, commits);
    if (raw_rate > 0)
        printf("ratio REST jobs/s / raw FULL commits/s: %.3f\n",
               rest_rate / raw_rate);
    free(all);
    if (failures || jobs == 0 || raw_rate <= 0) {
        fprintf(stderr, "bench/jobs: %ld failed jobs%s\n", failures,
                raw_rate <= 0 ? ", SQLite measurement failed" : "");
        rc = 1;
    }
    curl_global_cleanup();
    if (keep || rc)
        fprintf(stderr, "bench/jobs: kept %s\n", g.tmp);
    else
        nftw(g.tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}
