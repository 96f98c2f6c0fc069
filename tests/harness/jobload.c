/*
 * jobload.c - load and consistency checks for the job engine of a running
 * ovmmd, used by tests/api/jobs.sh.
 *
 * Usage:
 *   jobload --data DIR [--user NAME:PASSWORD] COMMAND ARGS...
 *
 *   parallel N MIN [SLEEP_MS]
 *       Submit N diagnostic jobs, each locking an object of its own and
 *       sleeping SLEEP_MS (300), from 8 connections; wait for all. Checks:
 *       every submission answered 200, every job ended SUCCESS, and at
 *       least MIN jobs ran at the same time (the most [startTime, endTime]
 *       intervals that overlap). That is a concurrency check, not a timing
 *       one: serialized jobs never overlap however fast the machine is.
 *   serial N [SLEEP_MS]
 *       Submit N jobs, one after the other, all exclusive on one object,
 *       each sleeping SLEEP_MS (20). Checks: all SUCCESS, they started in
 *       submission order and no two overlapped.
 *   workload SECONDS OUTFILE
 *       A mixed workload from 6 threads for SECONDS or until killed:
 *       diagnostic jobs (sleep, touch, fail, shared and exclusive locks,
 *       priority), generic updates of users and of the Manager (some with
 *       a generation), aborts of earlier jobs, parents with serial or
 *       parallel children, user creation, event acknowledgement. Every job
 *       id answered with HTTP 200 is appended to OUTFILE, one per line,
 *       each line one write(2) on an O_APPEND descriptor (so a kill never
 *       leaves half a line). Connection failures are expected (the test
 *       kills the daemon) and only counted.
 *   verify IDFILE [TIMEOUT_S]
 *       After a restart: wait (up to TIMEOUT_S, 60) until no job is
 *       active, then check that every id in IDFILE exists, no job is
 *       CREATED, RUNNING or CHILD_*, GET /Lock is empty, no User and no
 *       Manager shows locked: true or keeps the description "touched by
 *       job N" of a job N that did not succeed, and every job that ended
 *       FAILURE because the manager restarted has no operation left DONE
 *       or RUNNING (its operations are UNDONE, FAILED, UNKNOWN, SKIPPED or
 *       PENDING; a DONE sleep is reported in a check of its own).
 *
 * Connection: DIR/ovmmd.port (the HTTPS port), DIR/tls/server.crt (the
 * self-signed certificate, verified), Basic auth as admin with the
 * password in DIR/admin-password unless --user is given.
 *
 * Output: one line per check, "ok - CHECK" or "not ok - CHECK" followed by
 * "#   detail" lines, and "# note" lines; jobs.sh turns each check into a
 * TAP test. Exit status 0 when every check passed, 1 when one failed, 2
 * for a usage or set-up error.
 *
 * DESIGN: plain threads, each with its own curl easy handle (connections
 * are kept alive per thread); state shared between threads is under one
 * mutex. Responses are read into buffers bounded by MAX_BODY.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

/* Largest response body read (a page of 1000 jobs is about 1 MiB). */
#define MAX_BODY (64 * 1024 * 1024)
/* Connections used to submit and to wait. */
#define PAR_THREADS 8
#define WORKLOAD_THREADS 6
/* How many failing details a check prints at most. */
#define MAX_DETAILS 10
/* Page size for listing every job (list_limit_max is 1000 by default). */
#define PAGE 1000

#define JOB_TYPE "com.oracle.ovm.mgr.ws.model.Job"

/* ---- small helpers ------------------------------------------------------ */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
                                                         noreturn));

/* Print "jobload: message" to stderr and exit 2 (set-up errors, OOM). */
static void
die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("jobload: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

/* realloc that dies on OOM. */
static void *
xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (!q)
        die("out of memory");
    return q;
}

static char *
xstrdup(const char *s)
{
    size_t n = strlen(s);
    char *p = xrealloc(NULL, n + 1);

    memcpy(p, s, n + 1);
    return p;
}

/* A growable NUL-terminated string. Zero-initialized is empty. */
struct sbuf {
    char *s;
    size_t len;
    size_t cap;
};

static void
sbuf_add(struct sbuf *b, const char *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;

        while (b->len + n + 1 > cap)
            cap *= 2;
        b->s = xrealloc(b->s, cap);
        b->cap = cap;
    }
    memcpy(b->s + b->len, data, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sbuf_addf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sbuf_addf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    char *tmp = NULL;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        die("out of memory");
    sbuf_add(b, tmp, (size_t)n);
    free(tmp);
}

static const char *
sbuf_str(const struct sbuf *b)
{
    return b->s ? b->s : "";
}

static void
sbuf_reset(struct sbuf *b)
{
    b->len = 0;
    if (b->s)
        b->s[0] = '\0';
}

static void
sbuf_release(struct sbuf *b)
{
    free(b->s);
    memset(b, 0, sizeof(*b));
}

/* Milliseconds on the monotonic clock. */
static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int64_t ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Parse a whole decimal number into *out; false when it is not one. */
static bool
parse_i64(const char *s, int64_t *out)
{
    char *end;
    long long v;

    if (!s || !*s)
        return false;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = (int64_t)v;
    return true;
}

/* The first line of FILE, without its newline, or NULL. Caller frees. */
static char *
read_first_line(const char *file)
{
    FILE *f = fopen(file, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    if (!f)
        return NULL;
    n = getline(&line, &cap, f);
    fclose(f);
    if (n <= 0) {
        free(line);
        return NULL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    return line;
}

/* ---- checks ------------------------------------------------------------- */

static unsigned nfailed;

/*
 * Report one check. @details: one detail per line (may be empty). Prints
 * "ok - name" or "not ok - name" with the details as "#   " lines.
 */
static void
check(bool ok, const char *name, const struct sbuf *details)
{
    const char *p = details ? sbuf_str(details) : "";

    printf("%s - %s\n", ok ? "ok" : "not ok", name);
    if (!ok)
        nfailed++;
    while (*p) {
        size_t n = strcspn(p, "\n");

        if (!ok)
            printf("#   %.*s\n", (int)n, p);
        p += n;
        if (*p == '\n')
            p++;
    }
    fflush(stdout);
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
note(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("# ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    fflush(stdout);
}

/* ---- HTTP --------------------------------------------------------------- */

static struct {
    char *base;    /* https://127.0.0.1:PORT/ovm/core/wsapi/rest */
    char *cacert;
    char *user;
    char *pass;
} g;

/* One connection: a curl easy handle and its last response. One thread. */
struct conn {
    CURL *curl;
    struct sbuf body;
    bool too_big;
    char errbuf[CURL_ERROR_SIZE];
};

static size_t
on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    struct conn *c = ud;
    size_t n = size * nmemb;

    if (c->body.len + n > MAX_BODY) {
        c->too_big = true;
        return 0;
    }
    sbuf_add(&c->body, data, n);
    return n;
}

static void
conn_init(struct conn *c)
{
    memset(c, 0, sizeof(*c));
    c->curl = curl_easy_init();
    if (!c->curl)
        die("curl_easy_init failed");
}

static void
conn_release(struct conn *c)
{
    curl_easy_cleanup(c->curl);
    sbuf_release(&c->body);
}

/*
 * Send @method base+@path (with @body as JSON when not NULL), waiting at
 * most @timeout_s. Returns the HTTP status, or -1 when the transfer failed
 * (c->errbuf says why). The raw body stays in c->body; when @out is not
 * NULL it receives the parsed JSON (NULL if the body is not JSON), a new
 * reference the caller puts.
 */
static long
http(struct conn *c, const char *method, const char *path, const char *body,
     json_object **out, long timeout_s)
{
    struct sbuf url = { 0 };
    struct curl_slist *hdrs = NULL;
    long status = -1;
    CURLcode rc;

    if (out)
        *out = NULL;
    sbuf_reset(&c->body);
    c->too_big = false;
    c->errbuf[0] = '\0';
    sbuf_addf(&url, "%s%s", g.base, path);
    curl_easy_reset(c->curl);
    curl_easy_setopt(c->curl, CURLOPT_URL, url.s);
    curl_easy_setopt(c->curl, CURLOPT_CAINFO, g.cacert);
    curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(c->curl, CURLOPT_USERNAME, g.user);
    curl_easy_setopt(c->curl, CURLOPT_PASSWORD, g.pass);
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    if (body) {
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)strlen(body));
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
        if (strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0) {
            curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, "");
            curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE,
                             (curl_off_t)0);
        }
    }
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
    rc = curl_easy_perform(c->curl);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
        if (out && c->body.len)
            *out = json_tokener_parse(c->body.s);
    } else if (!c->errbuf[0]) {
        snprintf(c->errbuf, sizeof(c->errbuf), "%s", curl_easy_strerror(rc));
    }
    curl_slist_free_all(hdrs);
    sbuf_release(&url);
    return status;
}

/* ---- JSON helpers ------------------------------------------------------- */

/* The member @key of object @o, or NULL. Borrowed. */
static json_object *
jget(json_object *o, const char *key)
{
    json_object *v = NULL;

    if (!o || !json_object_is_type(o, json_type_object) ||
        !json_object_object_get_ex(o, key, &v))
        return NULL;
    return v;
}

/* The string member @key of @o, or NULL (absent, null or not a string). */
static const char *
jstr(json_object *o, const char *key)
{
    json_object *v = jget(o, key);

    return v && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : NULL;
}

/* The integer member @key of @o, or @def (absent or null). */
static int64_t
jint(json_object *o, const char *key, int64_t def)
{
    json_object *v = jget(o, key);

    return v && json_object_is_type(v, json_type_int) ? json_object_get_int64(v)
                                                      : def;
}

static bool
jbool(json_object *o, const char *key)
{
    json_object *v = jget(o, key);

    return v && json_object_is_type(v, json_type_boolean) &&
           json_object_get_boolean(v);
}

/* The numeric value of the SimpleId member @key of @o, or 0. */
static int64_t
jid(json_object *o, const char *key)
{
    int64_t id = 0;

    if (!parse_i64(jstr(jget(o, key), "value"), &id))
        return 0;
    return id;
}

/* ---- jobs --------------------------------------------------------------- */

/* What a check needs to know about a job. */
struct jobinfo {
    int64_t id;
    char state[16];
    bool done;
    int64_t start;   /* -1: null */
    int64_t end;     /* -1: null */
    int64_t parent;  /* 0: none */
    char *error;     /* error.message or NULL; owned */
};

static void
jobinfo_from(struct jobinfo *ji, json_object *job)
{
    const char *st = jstr(job, "jobRunState");
    const char *msg = jstr(jget(job, "error"), "message");

    free(ji->error);
    memset(ji, 0, sizeof(*ji));
    ji->id = jid(job, "id");
    snprintf(ji->state, sizeof(ji->state), "%s", st ? st : "?");
    ji->done = jbool(job, "done");
    ji->start = jint(job, "startTime", -1);
    ji->end = jint(job, "endTime", -1);
    ji->parent = jid(job, "parentJobId");
    ji->error = msg ? xstrdup(msg) : NULL;
}

static bool
state_active(const char *st)
{
    return strcmp(st, "CREATED") == 0 || strcmp(st, "RUNNING") == 0 ||
           strncmp(st, "CHILD_", 6) == 0;
}

/*
 * Submit a diagnostic job with body @body. Returns its id, or 0 with
 * @why describing the failure (status and body, or the transfer error).
 */
static int64_t
submit(struct conn *c, const char *path, const char *method, const char *body,
       struct sbuf *why)
{
    json_object *j = NULL;
    long st = http(c, method, path, body, &j, 30);
    int64_t id = 0;

    if (st == 200)
        id = jid(j, "id");
    if (!id && why) {
        if (st < 0)
            sbuf_addf(why, "%s %s: transfer failed: %s", method, path,
                      c->errbuf);
        else
            sbuf_addf(why, "%s %s: %ld %.300s", method, path, st,
                      sbuf_str(&c->body));
    }
    json_object_put(j);
    return id;
}

/*
 * Wait until job @id is done (long-polls of 30 s, until @deadline on the
 * monotonic clock) and fill @ji. 0, or -1 with @why.
 */
static int
wait_job(struct conn *c, int64_t id, int64_t deadline, struct jobinfo *ji,
         struct sbuf *why)
{
    char path[96];

    snprintf(path, sizeof(path), "/Job/%" PRId64 "?wait=30", id);
    for (;;) {
        json_object *j = NULL;
        long st = http(c, "GET", path, NULL, &j, 60);

        if (st == 200) {
            jobinfo_from(ji, j);
            json_object_put(j);
            if (ji->done)
                return 0;
        } else {
            json_object_put(j);
            if (st < 0)
                sbuf_addf(why, "GET %s: %s", path, c->errbuf);
            else
                sbuf_addf(why, "GET %s: %ld %.300s", path, st,
                          sbuf_str(&c->body));
            return -1;
        }
        if (now_ms() > deadline) {
            sbuf_addf(why, "job %" PRId64 " still %s at the deadline", id,
                      ji->state);
            return -1;
        }
    }
}

/* ---- parallel and serial ------------------------------------------------ */

struct batch {
    int n;
    int sleep_ms;
    char tag[48];
    int64_t *ids;          /* [n], 0 when the submission failed */
    struct jobinfo *info;  /* [n] */
    int next;              /* protected by lock */
    int failures;          /* protected by lock */
    struct sbuf errors;    /* protected by lock: first MAX_DETAILS */
    int64_t deadline;
    pthread_mutex_t lock;
};

static void
batch_error(struct batch *b, const struct sbuf *why)
{
    pthread_mutex_lock(&b->lock);
    if (b->failures++ < MAX_DETAILS)
        sbuf_addf(&b->errors, "%s\n", sbuf_str(why));
    pthread_mutex_unlock(&b->lock);
}

static int
batch_take(struct batch *b)
{
    int i;

    pthread_mutex_lock(&b->lock);
    i = b->next < b->n ? b->next++ : -1;
    pthread_mutex_unlock(&b->lock);
    return i;
}

static void *
par_submit_thread(void *arg)
{
    struct batch *b = arg;
    struct conn c;
    struct sbuf body = { 0 }, why = { 0 };
    int i;

    conn_init(&c);
    while ((i = batch_take(b)) >= 0) {
        sbuf_reset(&body);
        sbuf_reset(&why);
        sbuf_addf(&body,
                  "{\"name\": \"parallel %s %d\", \"objects\": [{\"id\": "
                  "\"par-%s-%d\"}], \"operations\": [{\"op\": \"sleep\", "
                  "\"ms\": %d}]}",
                  b->tag, i, b->tag, i, b->sleep_ms);
        b->ids[i] = submit(&c, "/Job/diagnostic", "POST", body.s, &why);
        if (!b->ids[i])
            batch_error(b, &why);
    }
    conn_release(&c);
    sbuf_release(&body);
    sbuf_release(&why);
    return NULL;
}

static void *
wait_thread(void *arg)
{
    struct batch *b = arg;
    struct conn c;
    struct sbuf why = { 0 };
    int i;

    conn_init(&c);
    while ((i = batch_take(b)) >= 0) {
        if (!b->ids[i])
            continue;
        sbuf_reset(&why);
        if (wait_job(&c, b->ids[i], b->deadline, &b->info[i], &why) < 0)
            batch_error(b, &why);
    }
    conn_release(&c);
    sbuf_release(&why);
    return NULL;
}

static void
run_threads(void *(*fn)(void *), struct batch *b, int nthreads)
{
    pthread_t th[PAR_THREADS];
    int i;

    b->next = 0;
    if (nthreads > PAR_THREADS)
        nthreads = PAR_THREADS;
    for (i = 0; i < nthreads; i++) {
        if (pthread_create(&th[i], NULL, fn, b) != 0)
            die("pthread_create failed");
    }
    for (i = 0; i < nthreads; i++)
        pthread_join(th[i], NULL);
}

static void
batch_init(struct batch *b, int n, int sleep_ms)
{
    memset(b, 0, sizeof(*b));
    b->n = n;
    b->sleep_ms = sleep_ms;
    snprintf(b->tag, sizeof(b->tag), "%ld-%lld", (long)getpid(),
             (long long)now_ms());
    b->ids = xrealloc(NULL, (size_t)n * sizeof(*b->ids));
    b->info = xrealloc(NULL, (size_t)n * sizeof(*b->info));
    memset(b->ids, 0, (size_t)n * sizeof(*b->ids));
    memset(b->info, 0, (size_t)n * sizeof(*b->info));
    pthread_mutex_init(&b->lock, NULL);
}

static void
batch_release(struct batch *b)
{
    int i;

    for (i = 0; i < b->n; i++)
        free(b->info[i].error);
    free(b->ids);
    free(b->info);
    sbuf_release(&b->errors);
    pthread_mutex_destroy(&b->lock);
}

/* Checks common to both batches: submitted, done, all SUCCESS. */
static int
batch_check_success(struct batch *b, const char *what)
{
    struct sbuf d = { 0 }, name = { 0 };
    int i, bad = 0, submitted = 0;

    for (i = 0; i < b->n; i++)
        submitted += b->ids[i] != 0;
    sbuf_addf(&name, "%s: all %d jobs submitted and waited for", what, b->n);
    sbuf_addf(&d, "%d of %d submitted; %d errors\n%s", submitted, b->n,
              b->failures, sbuf_str(&b->errors));
    check(b->failures == 0 && submitted == b->n, name.s, &d);
    sbuf_reset(&d);
    sbuf_reset(&name);
    for (i = 0; i < b->n; i++) {
        if (b->ids[i] && strcmp(b->info[i].state, "SUCCESS") != 0) {
            if (bad++ < MAX_DETAILS)
                sbuf_addf(&d, "job %" PRId64 ": %s %s\n", b->ids[i],
                          b->info[i].state,
                          b->info[i].error ? b->info[i].error : "");
        }
    }
    sbuf_addf(&name, "%s: every job ended SUCCESS", what);
    check(bad == 0, name.s, &d);
    sbuf_release(&d);
    sbuf_release(&name);
    return bad || b->failures ? -1 : 0;
}

struct edge {
    int64_t t;
    int delta;  /* +1 start, -1 end */
};

static int
edge_cmp(const void *a, const void *b)
{
    const struct edge *x = a, *y = b;

    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->delta - y->delta; /* ends before starts: touching is not overlap */
}

/* The most jobs of @b whose [start, end] intervals overlap. */
static int
max_overlap(const struct batch *b)
{
    struct edge *e = xrealloc(NULL, (size_t)b->n * 2 * sizeof(*e));
    int i, k = 0, cur = 0, best = 0;

    for (i = 0; i < b->n; i++) {
        if (b->info[i].start < 0 || b->info[i].end < 0)
            continue;
        e[k].t = b->info[i].start;
        e[k++].delta = 1;
        e[k].t = b->info[i].end;
        e[k++].delta = -1;
    }
    qsort(e, (size_t)k, sizeof(*e), edge_cmp);
    for (i = 0; i < k; i++) {
        cur += e[i].delta;
        if (cur > best)
            best = cur;
    }
    free(e);
    return best;
}

static int
cmd_parallel(int argc, char **argv)
{
    struct batch b;
    int64_t n, min, sl = 300, t0, t1, t2;
    int overlap;
    struct sbuf d = { 0 }, name = { 0 };

    if (argc < 2 || !parse_i64(argv[0], &n) || n < 1 || n > 100000 ||
        !parse_i64(argv[1], &min) || min < 1 ||
        (argc > 2 && (!parse_i64(argv[2], &sl) || sl < 0 || sl > 600000)))
        die("usage: parallel N MIN [SLEEP_MS]");
    batch_init(&b, (int)n, (int)sl);
    t0 = now_ms();
    run_threads(par_submit_thread, &b, PAR_THREADS);
    t1 = now_ms();
    b.deadline = t1 + 120000 + n * sl;
    run_threads(wait_thread, &b, PAR_THREADS);
    t2 = now_ms();
    note("parallel: %d jobs submitted in %.2f s, all done %.2f s later",
         b.n, (double)(t1 - t0) / 1000, (double)(t2 - t1) / 1000);
    batch_check_success(&b, "parallel");
    overlap = max_overlap(&b);
    note("parallel: at most %d of %d jobs ran at the same time", overlap, b.n);
    sbuf_addf(&name, "parallel: at least %" PRId64 " jobs ran at once "
              "(%d did)", min, overlap);
    sbuf_addf(&d, "the most overlapping [startTime, endTime] intervals: %d",
              overlap);
    check(overlap >= min, name.s, &d);
    sbuf_release(&d);
    sbuf_release(&name);
    batch_release(&b);
    return 0;
}

static int
cmd_serial(int argc, char **argv)
{
    struct batch b;
    int64_t n, sl = 20;
    struct conn c;
    struct sbuf d = { 0 }, body = { 0 }, why = { 0 };
    int i, bad = 0;

    if (argc < 1 || !parse_i64(argv[0], &n) || n < 2 || n > 10000 ||
        (argc > 1 && (!parse_i64(argv[1], &sl) || sl < 0 || sl > 600000)))
        die("usage: serial N [SLEEP_MS]");
    batch_init(&b, (int)n, (int)sl);
    conn_init(&c);
    /* One connection, one after the other: the submission order is the
     * order of the answers. */
    for (i = 0; i < b.n; i++) {
        sbuf_reset(&body);
        sbuf_reset(&why);
        sbuf_addf(&body,
                  "{\"name\": \"serial %s %d\", \"objects\": [{\"id\": "
                  "\"ser-%s\"}], \"operations\": [{\"op\": \"sleep\", "
                  "\"ms\": %d}]}",
                  b.tag, i, b.tag, b.sleep_ms);
        b.ids[i] = submit(&c, "/Job/diagnostic", "POST", body.s, &why);
        if (!b.ids[i])
            batch_error(&b, &why);
    }
    conn_release(&c);
    b.deadline = now_ms() + 120000 + n * sl;
    run_threads(wait_thread, &b, PAR_THREADS);
    batch_check_success(&b, "serial");
    for (i = 0; i + 1 < b.n; i++) {
        const struct jobinfo *x = &b.info[i], *y = &b.info[i + 1];

        if (!b.ids[i] || !b.ids[i + 1])
            continue;
        if (x->start < 0 || y->start < 0 || x->end < 0 ||
            y->start < x->start || y->start < x->end) {
            if (bad++ < MAX_DETAILS)
                sbuf_addf(&d, "job %" PRId64 " (submitted #%d) ran "
                          "%" PRId64 "..%" PRId64 ", job %" PRId64
                          " (#%d) ran %" PRId64 "..%" PRId64 "\n",
                          b.ids[i], i, x->start, x->end, b.ids[i + 1], i + 1,
                          y->start, y->end);
        }
    }
    check(bad == 0, "serial: conflicting jobs ran in submission order, "
          "one at a time", &d);
    sbuf_release(&d);
    sbuf_release(&body);
    sbuf_release(&why);
    batch_release(&b);
    return 0;
}

/* ---- workload ----------------------------------------------------------- */

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
    (void)sig;
    stopping = 1;
}

struct wl_user {
    char *id;
    char *name;
};

static struct {
    int fd;                 /* OUTFILE, O_APPEND; immutable after setup */
    int64_t deadline;       /* immutable after setup */
    char tag[48];           /* immutable after setup */
    char *mgr_id;           /* immutable after setup */
    char *mgr_name;         /* immutable after setup */
    struct wl_user *users;  /* immutable after setup */
    size_t nusers;
    pthread_mutex_t lock;   /* protects what follows */
    int64_t *ids;           /* every job answered */
    size_t nids, capids;
    unsigned long requests, jobs, refused, transfer_errors, seq;
} wl = { .fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER };

/* Record a job id answered with 200: in memory and, as one write, in the
 * file. */
static void
wl_record(int64_t id)
{
    char line[32];
    int n = snprintf(line, sizeof(line), "%" PRId64 "\n", id);

    pthread_mutex_lock(&wl.lock);
    if (wl.nids == wl.capids) {
        wl.capids = wl.capids ? wl.capids * 2 : 256;
        wl.ids = xrealloc(wl.ids, wl.capids * sizeof(*wl.ids));
    }
    wl.ids[wl.nids++] = id;
    wl.jobs++;
    if (write(wl.fd, line, (size_t)n) != n)
        die("cannot write the id file: %s", strerror(errno));
    pthread_mutex_unlock(&wl.lock);
}

/* A job id answered earlier (0 when none yet). */
static int64_t
wl_random_id(unsigned *seed)
{
    int64_t id = 0;

    pthread_mutex_lock(&wl.lock);
    if (wl.nids)
        id = wl.ids[(size_t)rand_r(seed) % wl.nids];
    pthread_mutex_unlock(&wl.lock);
    return id;
}

static unsigned long
wl_next_seq(void)
{
    unsigned long s;

    pthread_mutex_lock(&wl.lock);
    s = ++wl.seq;
    pthread_mutex_unlock(&wl.lock);
    return s;
}

/* Set when a request of this thread failed to connect or transfer. */
static __thread bool wl_conn_failed;

/* Count one request by its answer; record the job of a 200. */
static void
wl_count(struct conn *c, long st, bool job)
{
    json_object *j = NULL;
    int64_t id = 0;

    if (st == 200 && job && c->body.len) {
        const char *type;

        j = json_tokener_parse(c->body.s);
        type = jstr(jget(j, "id"), "type");
        if (type && strcmp(type, JOB_TYPE) == 0)
            id = jid(j, "id");
        json_object_put(j);
    }
    if (st < 0)
        wl_conn_failed = true;
    if (id)
        wl_record(id);
    pthread_mutex_lock(&wl.lock);
    wl.requests++;
    if (st < 0)
        wl.transfer_errors++;
    else if (st != 200)
        wl.refused++;
    pthread_mutex_unlock(&wl.lock);
}

/* Objects diagnostic jobs lock: a few shared names and the real objects. */
static const char *
wl_object(unsigned *seed, bool *real)
{
    static const char *const names[] = { "wl-a", "wl-b", "wl-c", "wl-d" };
    unsigned r = (unsigned)rand_r(seed) % (4 + 1 + (unsigned)wl.nusers);

    *real = r >= 4;
    if (r < 4)
        return names[r];
    if (r == 4)
        return wl.mgr_id;
    return wl.users[r - 5].id;
}

/* Append a diagnostic job (no surrounding braces) to @b. */
static void
wl_diag_body(struct sbuf *b, unsigned *seed, bool may_fail)
{
    bool real1, real2, touch;
    const char *o1 = wl_object(seed, &real1);
    const char *o2 = wl_object(seed, &real2);
    int nobj = (rand_r(seed) % 3 == 0 && strcmp(o1, o2) != 0) ? 2 : 1;
    bool shared2 = rand_r(seed) % 2 == 0;

    touch = real1 && rand_r(seed) % 2 == 0;
    sbuf_addf(b, "\"name\": \"workload %s %lu\", ", wl.tag, wl_next_seq());
    if (rand_r(seed) % 10 == 0)
        sbuf_addf(b, "\"priority\": true, ");
    sbuf_addf(b, "\"objects\": [{\"id\": \"%s\"}", o1);
    if (nobj == 2)
        sbuf_addf(b, ", {\"id\": \"%s\", \"exclusive\": %s}", o2,
                  shared2 ? "false" : "true");
    sbuf_addf(b, "], \"operations\": [");
    if (touch)
        sbuf_addf(b, "{\"op\": \"touch\", \"id\": \"%s\"}, ", o1);
    sbuf_addf(b, "{\"op\": \"sleep\", \"ms\": %d}", rand_r(seed) % 200);
    if (touch && rand_r(seed) % 2 == 0)
        sbuf_addf(b, ", {\"op\": \"touch\", \"id\": \"%s\"}", o1);
    if (may_fail && rand_r(seed) % 6 == 0)
        sbuf_addf(b, ", {\"op\": \"fail\", \"message\": \"workload "
                  "failure\"}");
    sbuf_addf(b, "]");
}

static void
wl_step(struct conn *c, unsigned *seed)
{
    struct sbuf body = { 0 }, path = { 0 };
    unsigned r = (unsigned)rand_r(seed) % 100;
    long st;

    if (r < 35) {
        /* A diagnostic job. */
        sbuf_addf(&body, "{");
        wl_diag_body(&body, seed, true);
        sbuf_addf(&body, "}");
        st = http(c, "POST", "/Job/diagnostic", body.s, NULL, 10);
        wl_count(c, st, true);
    } else if (r < 50 && wl.nusers) {
        /* A user's description; sometimes with its current generation. */
        const struct wl_user *u = &wl.users[(size_t)rand_r(seed) % wl.nusers];
        int64_t gen = -1;

        sbuf_addf(&path, "/User/%s", u->id);
        if (rand_r(seed) % 3 == 0) {
            json_object *j = NULL;

            st = http(c, "GET", path.s, NULL, &j, 10);
            wl_count(c, st, false);
            gen = jint(j, "generation", -1);
            json_object_put(j);
        }
        sbuf_addf(&body, "{\"name\": \"%s\", \"description\": \"workload "
                  "%s %lu\"", u->name, wl.tag, wl_next_seq());
        if (gen >= 0)
            sbuf_addf(&body, ", \"generation\": %" PRId64, gen);
        sbuf_addf(&body, "}");
        st = http(c, "PUT", path.s, body.s, NULL, 10);
        wl_count(c, st, true);
    } else if (r < 58) {
        /* The Manager's description. */
        sbuf_addf(&path, "/Manager/%s", wl.mgr_id);
        sbuf_addf(&body, "{\"name\": \"%s\", \"description\": \"workload "
                  "%s %lu\"}", wl.mgr_name, wl.tag, wl_next_seq());
        st = http(c, "PUT", path.s, body.s, NULL, 10);
        wl_count(c, st, true);
    } else if (r < 72) {
        /* Abort some earlier job: 200, or 409 when it is done. */
        int64_t id = wl_random_id(seed);

        if (id) {
            sbuf_addf(&path, "/Job/%" PRId64 "/abort", id);
            st = http(c, "PUT", path.s, NULL, NULL, 10);
            wl_count(c, st, false);
        }
    } else if (r < 90) {
        /* A parent with 2 or 3 children, serial or parallel. */
        int i, n = 2 + rand_r(seed) % 2;

        sbuf_addf(&body, "{\"name\": \"workload parent %s %lu\", "
                  "\"parallel\": %s, \"children\": [", wl.tag, wl_next_seq(),
                  rand_r(seed) % 2 ? "true" : "false");
        for (i = 0; i < n; i++) {
            sbuf_addf(&body, "%s{", i ? ", " : "");
            wl_diag_body(&body, seed, true);
            sbuf_addf(&body, "}");
        }
        sbuf_addf(&body, "]}");
        st = http(c, "POST", "/Job/diagnostic", body.s, NULL, 10);
        wl_count(c, st, true);
    } else if (r < 94) {
        /* A new user (the hash makes this the slowest request). */
        unsigned long s = wl_next_seq();

        sbuf_addf(&body, "{\"name\": \"wl%s%lu\", \"password\": "
                  "\"Workload-Passw0rd-%lu\", \"role\": \"read-only\"}",
                  wl.tag, s, s);
        st = http(c, "POST", "/User", body.s, NULL, 10);
        wl_count(c, st, true);
    } else {
        /* Acknowledge the newest unacknowledged event, if any. */
        json_object *j = NULL;
        int64_t ev;

        st = http(c, "GET", "/Event?acknowledged=false&limit=5", NULL, &j,
                  10);
        wl_count(c, st, false);
        if (j && json_object_is_type(j, json_type_array) &&
            json_object_array_length(j) > 0) {
            ev = jid(json_object_array_get_idx(
                         j, (size_t)rand_r(seed) % json_object_array_length(j)),
                     "id");
            if (ev) {
                sbuf_addf(&path, "/Event/%" PRId64 "/acknowledge", ev);
                st = http(c, "PUT", path.s, NULL, NULL, 10);
                wl_count(c, st, true);
            }
        }
        json_object_put(j);
    }
    sbuf_release(&body);
    sbuf_release(&path);
}

static void *
wl_thread(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg ^ (unsigned)now_ms() ^
                    ((unsigned)getpid() << 8);
    struct conn c;

    conn_init(&c);
    while (!stopping && now_ms() < wl.deadline) {
        wl_conn_failed = false;
        wl_step(&c, &seed);
        /* The daemon is gone or restarting: do not spin. */
        if (wl_conn_failed)
            sleep_ms(50);
    }
    conn_release(&c);
    return NULL;
}

/* Read the Manager and the users once. 0, or -1 (the daemon is not up). */
static int
wl_setup(struct conn *c)
{
    json_object *j = NULL, *m;
    size_t i, n;

    if (http(c, "GET", "/Manager", NULL, &j, 10) != 200 ||
        !json_object_is_type(j, json_type_array) ||
        json_object_array_length(j) < 1) {
        json_object_put(j);
        return -1;
    }
    m = json_object_array_get_idx(j, 0);
    wl.mgr_id = xstrdup(jstr(jget(m, "id"), "value") ? jstr(jget(m, "id"),
                                                            "value")
                                                      : "");
    wl.mgr_name = xstrdup(jstr(m, "name") ? jstr(m, "name") : "");
    json_object_put(j);
    if (http(c, "GET", "/User?limit=1000", NULL, &j, 10) != 200 ||
        !json_object_is_type(j, json_type_array)) {
        json_object_put(j);
        return -1;
    }
    n = json_object_array_length(j);
    /* At most 4 users, so that the shared objects stay contended. */
    wl.users = xrealloc(NULL, (n < 4 ? n : 4) * sizeof(*wl.users));
    for (i = 0; i < n && wl.nusers < 4; i++) {
        json_object *u = json_object_array_get_idx(j, i);
        const char *id = jstr(jget(u, "id"), "value");
        const char *name = jstr(u, "name");

        if (!id || !name || strncmp(name, "wl", 2) == 0)
            continue;
        wl.users[wl.nusers].id = xstrdup(id);
        wl.users[wl.nusers].name = xstrdup(name);
        wl.nusers++;
    }
    json_object_put(j);
    return 0;
}

static int
cmd_workload(int argc, char **argv)
{
    int64_t secs;
    pthread_t th[WORKLOAD_THREADS];
    struct conn c;
    struct sigaction sa;
    int i;
    size_t k;

    if (argc < 2 || !parse_i64(argv[0], &secs) || secs < 1 || secs > 86400)
        die("usage: workload SECONDS OUTFILE");
    wl.fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (wl.fd < 0)
        die("cannot open '%s': %s", argv[1], strerror(errno));
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    wl.deadline = now_ms() + secs * 1000;
    snprintf(wl.tag, sizeof(wl.tag), "%ld%lld", (long)getpid() % 100000,
             (long long)now_ms() % 100000);
    conn_init(&c);
    while (wl_setup(&c) < 0) {
        if (stopping || now_ms() > wl.deadline) {
            note("workload: the daemon never answered: %s", c.errbuf);
            conn_release(&c);
            close(wl.fd);
            return 0;
        }
        sleep_ms(100);
    }
    conn_release(&c);
    for (i = 0; i < WORKLOAD_THREADS; i++) {
        if (pthread_create(&th[i], NULL, wl_thread, (void *)(uintptr_t)i) != 0)
            die("pthread_create failed");
    }
    for (i = 0; i < WORKLOAD_THREADS; i++)
        pthread_join(th[i], NULL);
    note("workload: %lu requests, %lu jobs answered, %lu refused, %lu "
         "transfer errors", wl.requests, wl.jobs, wl.refused,
         wl.transfer_errors);
    close(wl.fd);
    for (k = 0; k < wl.nusers; k++) {
        free(wl.users[k].id);
        free(wl.users[k].name);
    }
    free(wl.users);
    free(wl.ids);
    free(wl.mgr_id);
    free(wl.mgr_name);
    return 0;
}

/* ---- verify ------------------------------------------------------------- */

static int
i64_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

static int
jobinfo_cmp(const void *a, const void *b)
{
    return i64_cmp(&((const struct jobinfo *)a)->id,
                   &((const struct jobinfo *)b)->id);
}

/* Every job, paged; sorted by id. -1 with @why on an HTTP failure. */
static int
list_jobs(struct conn *c, struct jobinfo **out, size_t *n, struct sbuf *why)
{
    size_t cap = 0, len = 0, i, got;
    struct jobinfo *v = NULL;
    char path[96];
    int64_t offset = 0;

    for (;;) {
        json_object *j = NULL;
        long st;

        snprintf(path, sizeof(path), "/Job?limit=%d&offset=%" PRId64, PAGE,
                 offset);
        st = http(c, "GET", path, NULL, &j, 60);
        if (st != 200 || !j || !json_object_is_type(j, json_type_array)) {
            sbuf_addf(why, "GET %s: %ld %s%.300s", path, st,
                      st < 0 ? c->errbuf : "", sbuf_str(&c->body));
            json_object_put(j);
            for (i = 0; i < len; i++)
                free(v[i].error);
            free(v);
            return -1;
        }
        got = json_object_array_length(j);
        for (i = 0; i < got; i++) {
            if (len == cap) {
                cap = cap ? cap * 2 : 1024;
                v = xrealloc(v, cap * sizeof(*v));
            }
            memset(&v[len], 0, sizeof(v[len]));
            jobinfo_from(&v[len], json_object_array_get_idx(j, i));
            len++;
        }
        json_object_put(j);
        if (got < PAGE)
            break;
        offset += (int64_t)got;
    }
    qsort(v, len, sizeof(*v), jobinfo_cmp);
    *out = v;
    *n = len;
    return 0;
}

/* The ids in @file (one per line; others ignored), sorted, unique. */
static int64_t *
read_ids(const char *file, size_t *n)
{
    FILE *f = fopen(file, "r");
    char *line = NULL;
    size_t cap = 0, len = 0, capv = 0, i, k;
    int64_t *v = NULL;
    ssize_t r;

    if (!f)
        die("cannot open '%s': %s", file, strerror(errno));
    while ((r = getline(&line, &cap, f)) >= 0) {
        int64_t id;

        while (r > 0 && (line[r - 1] == '\n' || line[r - 1] == '\r'))
            line[--r] = '\0';
        if (!parse_i64(line, &id) || id <= 0)
            continue;
        if (len == capv) {
            capv = capv ? capv * 2 : 1024;
            v = xrealloc(v, capv * sizeof(*v));
        }
        v[len++] = id;
    }
    free(line);
    fclose(f);
    qsort(v, len, sizeof(*v), i64_cmp);
    for (i = 0, k = 0; i < len; i++) {
        if (k == 0 || v[k - 1] != v[i])
            v[k++] = v[i];
    }
    *n = k;
    return v;
}

/*
 * Check every object of @type (a list route): locked: true goes to @d; a
 * description "touched by job N" where job N (in @jobs) did not end
 * SUCCESS -- a touch that was never undone -- goes to @touched. Returns
 * the number of problems of both kinds.
 */
static int
check_objects(struct conn *c, const char *type, const struct jobinfo *jobs,
              size_t njobs, struct sbuf *d, struct sbuf *touched)
{
    json_object *j = NULL;
    char path[64];
    long st;
    size_t i;
    int bad = 0;

    snprintf(path, sizeof(path), "/%s?limit=1000", type);
    st = http(c, "GET", path, NULL, &j, 30);
    if (st != 200 || !json_object_is_type(j, json_type_array)) {
        sbuf_addf(d, "GET %s: %ld %s\n", path, st, st < 0 ? c->errbuf : "");
        json_object_put(j);
        return 1;
    }
    for (i = 0; i < json_object_array_length(j); i++) {
        json_object *o = json_object_array_get_idx(j, i);

        const char *desc = jstr(o, "description");
        int64_t by;

        if (jbool(o, "locked")) {
            if (bad++ < MAX_DETAILS)
                sbuf_addf(d, "%s %s (%s) is locked\n", type,
                          jstr(jget(o, "id"), "value"), jstr(o, "name"));
        }
        if (desc && strncmp(desc, "touched by job ", 15) == 0 &&
            parse_i64(desc + 15, &by)) {
            struct jobinfo key = { .id = by };
            const struct jobinfo *ji = bsearch(&key, jobs, njobs,
                                               sizeof(*jobs), jobinfo_cmp);

            if (!ji || strcmp(ji->state, "SUCCESS") != 0) {
                bad++;
                sbuf_addf(touched, "%s %s (%s) says '%s' but that job is "
                          "%s%s%s\n", type, jstr(jget(o, "id"), "value"),
                          jstr(o, "name"), desc, ji ? ji->state : "missing",
                          ji && ji->error ? ": " : "",
                          ji && ji->error ? ji->error : "");
            }
        }
    }
    json_object_put(j);
    return bad;
}

static int
cmd_verify(int argc, char **argv)
{
    struct conn c;
    int64_t timeout = 60, deadline, *ids, t0;
    size_t nids, njobs = 0, i, missing = 0, active = 0, restarted = 0;
    size_t nodo;
    struct jobinfo *jobs = NULL;
    struct sbuf d = { 0 }, why = { 0 };
    json_object *j = NULL;
    long st;
    bool idle = false;
    int bad;

    if (argc < 1 ||
        (argc > 1 && (!parse_i64(argv[1], &timeout) || timeout < 1)))
        die("usage: verify IDFILE [TIMEOUT_S]");
    ids = read_ids(argv[0], &nids);
    conn_init(&c);
    t0 = now_ms();
    deadline = t0 + timeout * 1000;

    /* 1. Recovery ran and queued jobs finish: nothing stays active. */
    for (;;) {
        st = http(&c, "GET", "/Job?active=true&limit=20", NULL, &j, 30);
        if (st == 200 && json_object_is_type(j, json_type_array) &&
            json_object_array_length(j) == 0) {
            idle = true;
            break;
        }
        if (now_ms() > deadline)
            break;
        json_object_put(j);
        j = NULL;
        sleep_ms(200);
    }
    sbuf_reset(&d);
    if (!idle)
        sbuf_addf(&d, "still active after %" PRId64 " s: %ld %.1500s",
                  timeout, st, st < 0 ? c.errbuf : sbuf_str(&c.body));
    json_object_put(j);
    j = NULL;
    check(idle, "verify: no job is active after the restart", &d);
    note("verify: idle %.2f s after the daemon was up",
         (double)(now_ms() - t0) / 1000);

    /* 2. Every job listed; every answered id among them. */
    sbuf_reset(&d);
    if (list_jobs(&c, &jobs, &njobs, &why) < 0) {
        check(false, "verify: GET /Job lists every job", &why);
        goto cleanup;
    }
    note("verify: %zu jobs in the database, %zu ids answered before", njobs,
         nids);
    for (i = 0; i < nids; i++) {
        struct jobinfo key = { .id = ids[i] };

        if (!bsearch(&key, jobs, njobs, sizeof(*jobs), jobinfo_cmp)) {
            char path[64];

            missing++;
            snprintf(path, sizeof(path), "/Job/%" PRId64, ids[i]);
            st = http(&c, "GET", path, NULL, NULL, 30);
            if (missing <= MAX_DETAILS)
                sbuf_addf(&d, "job %" PRId64 " answered with 200 is not "
                          "listed; GET %s: %ld\n", ids[i], path, st);
        }
    }
    check(missing == 0, "verify: every job id ever answered still exists",
          &d);

    /* 3. No job left in a non-final state. */
    sbuf_reset(&d);
    for (i = 0; i < njobs; i++) {
        if (state_active(jobs[i].state) || !jobs[i].done) {
            if (active++ < MAX_DETAILS)
                sbuf_addf(&d, "job %" PRId64 ": %s done=%d\n", jobs[i].id,
                          jobs[i].state, jobs[i].done);
        }
    }
    check(active == 0, "verify: no job is CREATED, RUNNING or CHILD_*", &d);

    /* 4. No lock survives. */
    sbuf_reset(&d);
    st = http(&c, "GET", "/Lock", NULL, &j, 30);
    bad = st != 200 || !json_object_is_type(j, json_type_array) ||
          json_object_array_length(j) != 0;
    if (bad)
        sbuf_addf(&d, "GET /Lock: %ld %.1500s", st,
                  st < 0 ? c.errbuf : sbuf_str(&c.body));
    json_object_put(j);
    j = NULL;
    check(!bad, "verify: GET /Lock is empty", &d);

    /* 5. No object shows locked: true, none keeps a touch that should
     * have been undone. */
    sbuf_reset(&d);
    sbuf_reset(&why);
    check_objects(&c, "User", jobs, njobs, &d, &why);
    check_objects(&c, "Manager", jobs, njobs, &d, &why);
    check(d.len == 0, "verify: no User or Manager shows locked: true", &d);
    check(why.len == 0, "verify: no User or Manager keeps the touch of a job "
          "that failed or was aborted", &why);

    /*
     * 6. Jobs the restart failed left no operation done: none DONE or
     * RUNNING, only UNDONE, FAILED, UNKNOWN, SKIPPED or PENDING. Reported
     * in two checks: operations that changed something (those with undo
     * data, e.g. touch) and the others (e.g. sleep, which has nothing to
     * undo), so that the first, a lost undo, stands out.
     */
    sbuf_reset(&d);
    sbuf_reset(&why);
    bad = 0;
    nodo = 0;
    for (i = 0; i < njobs; i++) {
        char path[96];
        json_object *ops;
        size_t k;

        if (strcmp(jobs[i].state, "FAILURE") != 0 || !jobs[i].error ||
            !strstr(jobs[i].error, "manager restarted"))
            continue;
        restarted++;
        snprintf(path, sizeof(path), "/Job/%" PRId64 "/transcript",
                 jobs[i].id);
        st = http(&c, "GET", path, NULL, &j, 30);
        ops = jget(j, "operations");
        if (st != 200 || !ops || !json_object_is_type(ops, json_type_array)) {
            if (bad++ < MAX_DETAILS)
                sbuf_addf(&d, "GET %s: %ld\n", path, st);
            json_object_put(j);
            j = NULL;
            continue;
        }
        for (k = 0; k < json_object_array_length(ops); k++) {
            json_object *op = json_object_array_get_idx(ops, k);
            const char *s = jstr(op, "state");

            const char *name = jstr(op, "operation");
            bool harmless;

            if (s && (strcmp(s, "UNDONE") == 0 || strcmp(s, "FAILED") == 0 ||
                      strcmp(s, "UNKNOWN") == 0 ||
                      strcmp(s, "SKIPPED") == 0 || strcmp(s, "PENDING") == 0))
                continue;
            /* Diagnostic sleeps change nothing; everything else does. */
            harmless = s && strcmp(s, "DONE") == 0 && name &&
                       strstr(name, "sleep");
            if (harmless ? nodo++ < MAX_DETAILS : bad++ < MAX_DETAILS)
                sbuf_addf(harmless ? &why : &d, "job %" PRId64 " operation "
                          "%" PRId64 " (%s) is %s after the restart\n",
                          jobs[i].id, jint(op, "seq", -1),
                          name ? name : "?", s ? s : "?");
        }
        json_object_put(j);
        j = NULL;
    }
    note("verify: %zu jobs ended FAILURE because the manager restarted",
         restarted);
    check(bad == 0, "verify: jobs failed by the restart have no operation "
          "that changed something left DONE or RUNNING", &d);
    /* A finished sleep changed nothing, so it has nothing to undo and
     * stays DONE in the transcript: that is the truth, not a leak. */
    note("verify: %zu completed sleep(s) in restarted jobs stay DONE "
         "(nothing to undo)", nodo);
    (void)why;

 cleanup:
    for (i = 0; i < njobs; i++)
        free(jobs[i].error);
    free(jobs);
    free(ids);
    conn_release(&c);
    sbuf_release(&d);
    sbuf_release(&why);
    return 0;
}

/* ---- main --------------------------------------------------------------- */

static void usage(void) __attribute__((noreturn));

static void
usage(void)
{
    fprintf(stderr,
            "usage: jobload --data DIR [--user NAME:PASSWORD] COMMAND ARGS\n"
            "  parallel N MIN [SLEEP_MS]   N jobs on disjoint objects; at "
            "least MIN at once\n"
            "  serial N [SLEEP_MS]         N jobs on one object, in order\n"
            "  workload SECONDS OUTFILE    mixed load; job ids to OUTFILE\n"
            "  verify IDFILE [TIMEOUT_S]   consistency after a restart\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    const char *data = NULL, *user = NULL, *cmd;
    char *port, *pw = NULL;
    struct sbuf s = { 0 };
    int i, rc;

    signal(SIGPIPE, SIG_IGN);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data = argv[++i];
        else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc)
            user = argv[++i];
        else if (argv[i][0] == '-')
            usage();
        else
            break;
    }
    if (!data || i >= argc)
        usage();
    cmd = argv[i++];

    sbuf_addf(&s, "%s/ovmmd.port", data);
    port = read_first_line(s.s);
    if (!port || !*port || strspn(port, "0123456789") != strlen(port))
        die("no port in '%s'", s.s);
    sbuf_reset(&s);
    sbuf_addf(&s, "https://127.0.0.1:%s/ovm/core/wsapi/rest", port);
    g.base = xstrdup(s.s);
    sbuf_reset(&s);
    sbuf_addf(&s, "%s/tls/server.crt", data);
    g.cacert = xstrdup(s.s);
    if (user) {
        const char *colon = strchr(user, ':');

        if (!colon)
            die("--user needs NAME:PASSWORD");
        g.user = xstrdup(user);
        g.user[colon - user] = '\0';
        g.pass = xstrdup(colon + 1);
    } else {
        sbuf_reset(&s);
        sbuf_addf(&s, "%s/admin-password", data);
        pw = read_first_line(s.s);
        if (!pw)
            die("cannot read '%s'", s.s);
        g.user = xstrdup("admin");
        g.pass = pw;
    }
    sbuf_release(&s);
    free(port);

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        die("curl_global_init failed");
    if (strcmp(cmd, "parallel") == 0)
        rc = cmd_parallel(argc - i, argv + i);
    else if (strcmp(cmd, "serial") == 0)
        rc = cmd_serial(argc - i, argv + i);
    else if (strcmp(cmd, "workload") == 0)
        rc = cmd_workload(argc - i, argv + i);
    else if (strcmp(cmd, "verify") == 0)
        rc = cmd_verify(argc - i, argv + i);
    else
        usage();
    curl_global_cleanup();
    free(g.base);
    free(g.cacert);
    free(g.user);
    free(g.pass);
    if (rc)
        return rc;
    return nfailed ? 1 : 0;
}
