/*
 * bench/monitor.c - one monitoring cycle of ovmm over many simulated
 * servers against the raw bulk statistics loop underneath it, measured in
 * the same run (bench/README.md).
 *
 * Usage:
 *   monitor [--servers N] [--domains M] [--cycles K] [--threads T] [--keep]
 *
 * 1. Writes N node files for libvirt's test driver (hv_sim_generate(),
 *    then M running domains added to each: 200 x 50 by default) and an
 *    inventory database with the N servers in it, as discovery would
 *    leave them (test:///<file> URIs).
 * 2. ovmm: a monitor (src/policy/monitor.c, T visitor threads per pool,
 *    default 4) runs a first cycle -- connections opened, node facts read,
 *    every server reconciled (its 50 domains recorded as foreign, with an
 *    event) -- then K (5) steady cycles: per server one bulk domain_stats
 *    call through the registry's open connection, the utilization
 *    arithmetic, and one transaction with all samples. Wall time and CPU
 *    time (getrusage, all threads) per cycle.
 * 3. Raw: N connections of its own to the same node files (the test driver
 *    gives each connection a private copy of its file: the same hosts),
 *    then K loops of virConnectGetAllDomainStats with the flags hv uses,
 *    one call per server, one after another: the building block. Because
 *    the test driver reports only state.* in bulk, hv/libvirt.c also asks
 *    virDomainGetInfo for each domain (its documented test-driver
 *    fallback; real hosts never take it) and formats each domain's UUID:
 *    a second raw loop does that too, so the ratio against it shows what
 *    ovmm itself adds.
 * 4. Prints all three and the ratios ovmm / raw, wall and CPU.
 *
 * Exit status 0 when everything ran (every server answered every cycle),
 * 1 otherwise, 2 for usage errors.
 *
 * DESIGN: a test-side tool: it links libovmm.a (db/, policy/, hv/) and
 * libvirt directly. Everything happens in this process, in-process test
 * driver, no daemon.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "db/db.h"
#include "hv/hv.h"
#include "policy/monitor.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"
#include "util/str.h"

#define STATS_FLAGS                                                          \
    (VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL |                   \
     VIR_DOMAIN_STATS_BALLOON | VIR_DOMAIN_STATS_VCPU)

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
                                                         noreturn));

static void
die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("bench/monitor: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* Wall and CPU time, in ms. */
struct stamp {
    double wall, cpu;
};

static struct stamp
now(void)
{
    struct timespec ts;
    struct rusage ru;
    struct stamp s;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    getrusage(RUSAGE_SELF, &ru);
    s.wall = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
    s.cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
            (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
    return s;
}

static struct stamp
since(struct stamp a)
{
    struct stamp b = now(), d;

    d.wall = b.wall - a.wall;
    d.cpu = b.cpu - a.cpu;
    return d;
}

static char *
slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *data;
    long n;

    if (!f)
        die("cannot read '%s'", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    data = xmalloc((size_t)n + 1);
    if (fread(data, 1, (size_t)n, f) != (size_t)n)
        die("cannot read '%s'", path);
    data[n] = '\0';
    fclose(f);
    return data;
}

/* Add @m running domains to node file @path of server @i; *uuid gets the
 * host UUID written there (caller frees). */
static void
add_domains(const char *path, unsigned i, unsigned m, char **uuid)
{
    char *xml = slurp(path), *end, *a, *b;
    struct buf out;
    unsigned j;
    FILE *f;

    a = strstr(xml, "<ovmm:uuid>");
    b = a ? strstr(a, "</ovmm:uuid>") : NULL;
    end = strstr(xml, "</node>");
    if (!b || !end)
        die("unexpected node file '%s'", path);
    a += strlen("<ovmm:uuid>");
    *uuid = xstrndup(a, (size_t)(b - a));
    buf_init(&out, 0);
    buf_append(&out, xml, (size_t)(end - xml));
    for (j = 0; j < m; j++)
        buf_printf(&out,
                   "  <domain type='test'><name>vm-%u-%u</name>"
                   "<uuid>dddddddd-%04x-4000-8000-%012x</uuid>"
                   "<memory unit='MiB'>256</memory><vcpu>1</vcpu>"
                   "<os><type>hvm</type></os></domain>\n",
                   i, j, i, j);
    buf_puts(&out, "</node>\n");
    f = fopen(path, "w");
    if (!f || fwrite(out.data, 1, out.len, f) != out.len || fclose(f) != 0)
        die("cannot write '%s'", path);
    buf_release(&out);
    xfree(xml);
}

/* Discovery's id: "0123...-..." -> "01:23:...". Caller frees. */
static char *
colon_id(const char *uuid)
{
    char hex[33], *out = xmalloc(48);
    size_t n = 0, i;

    for (; *uuid && n < 32; uuid++) {
        if (*uuid != '-')
            hex[n++] = *uuid;
    }
    hex[n] = '\0';
    for (i = 0; i < 16 && 2 * i + 1 < n; i++)
        snprintf(out + 3 * i, 4, "%c%c%s", hex[2 * i], hex[2 * i + 1],
                 i == 15 ? "" : ":");
    return out;
}

static void
quiet(void *opaque, virErrorPtr e)
{
    (void)opaque;
    (void)e;
}

/* One raw loop: one bulk call per connection; with @per_domain also what
 * hv/libvirt.c does with each record (its UUID string and name, the typed
 * parameters, and the test driver's virDomainGetInfo fallback). Returns
 * the number of domains seen. */
static size_t
raw_loop(virConnectPtr *conns, unsigned n, bool per_domain)
{
    size_t total = 0;
    unsigned i;
    int k, got;

    for (i = 0; i < n; i++) {
        virDomainStatsRecordPtr *recs = NULL;

        got = virConnectGetAllDomainStats(conns[i], STATS_FLAGS, &recs, 0);
        if (got < 0)
            die("virConnectGetAllDomainStats failed on connection %u", i);
        for (k = 0; per_domain && k < got; k++) {
            virDomainStatsRecordPtr r = recs[k];
            char uuid[VIR_UUID_STRING_BUFLEN];
            unsigned long long v = 0;
            virDomainInfo info;
            int state = 0;

            virDomainGetUUIDString(r->dom, uuid);
            if (!virDomainGetName(r->dom))
                die("a domain without a name");
            virTypedParamsGetInt(r->params, r->nparams, "state.state", &state);
            virTypedParamsGetULLong(r->params, r->nparams, "cpu.time", &v);
            virDomainGetInfo(r->dom, &info);
        }
        total += (size_t)got;
        virDomainStatsRecordListFree(recs);
    }
    return total;
}

static void
usage(void)
{
    fprintf(stderr, "usage: monitor [--servers N] [--domains M] [--cycles K] "
                    "[--threads T] [--keep]\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    unsigned nserv = 200, ndom = 50, ncycles = 5, threads = 4, i, k;
    bool keep = false, ok = true;
    char tmpl[] = "/tmp/ovmm-bench-monitor.XXXXXX", *dir, *path;
    struct monitor_conf mc;
    struct monitor_stats st;
    struct monitor *m;
    struct db *db;
    struct db_txn *t;
    struct stamp s, first, cyc = { 0, 0 }, raw = { 0, 0 }, rawi = { 0, 0 };
    struct stamp open_raw;
    char **uris, **ids;
    virConnectPtr *conns;
    size_t doms = 0;

    for (i = 1; i < (unsigned)argc; i++) {
        if (strcmp(argv[i], "--keep") == 0) {
            keep = true;
        } else if (i + 1 < (unsigned)argc &&
                   (strcmp(argv[i], "--servers") == 0 ||
                    strcmp(argv[i], "--domains") == 0 ||
                    strcmp(argv[i], "--cycles") == 0 ||
                    strcmp(argv[i], "--threads") == 0)) {
            int64_t v;

            if (str_to_int64(argv[i + 1], 1, 100000, argv[i], &v) < 0)
                usage();
            if (strcmp(argv[i], "--servers") == 0)
                nserv = (unsigned)v;
            else if (strcmp(argv[i], "--domains") == 0)
                ndom = (unsigned)v;
            else if (strcmp(argv[i], "--cycles") == 0)
                ncycles = (unsigned)v;
            else
                threads = (unsigned)v;
            i++;
        } else {
            usage();
        }
    }
    log_set_level(LOG_LEVEL_ERROR);
    dir = mkdtemp(tmpl);
    if (!dir)
        die("cannot make a temporary directory");

    /* 1. Hosts and inventory. */
    if (hv_sim_generate(dir, nserv, "bench-monitor") < 0)
        die("%s", err_message());
    uris = xcalloc(nserv, sizeof(*uris));
    ids = xcalloc(nserv, sizeof(*ids));
    for (i = 0; i < nserv; i++) {
        char *uuid;

        path = xasprintf("%s/sim-%u.xml", dir, i + 1);
        add_domains(path, i + 1, ndom, &uuid);
        uris[i] = xasprintf("test://%s", path);
        ids[i] = colon_id(uuid);
        xfree(uuid);
        xfree(path);
    }
    path = xasprintf("%s/ovmm.db", dir);
    db = db_open(path);
    xfree(path);
    if (!db)
        die("%s", err_message());
    t = db_txn_begin(db, DB_SYNC_NORMAL);
    for (i = 0; t && i < nserv; i++) {
        struct db_server_facts f;
        char name[32];
        bool created;

        memset(&f, 0, sizeof(f));
        snprintf(name, sizeof(name), "sim-%u", i + 1);
        f.id = ids[i];
        f.name = name;
        f.ip_address = name;
        f.libvirt_uri = uris[i];
        f.cpu_family = f.cpu_model = -1;
        if (db_txn_server_put(t, &f, &created) < 0)
            die("%s", err_message());
    }
    if (!t || db_txn_commit(t) < 0)
        die("%s", err_message());

    /* 2. ovmm. */
    memset(&mc, 0, sizeof(mc));
    mc.db = db;
    mc.interval_ms = 10000;
    mc.timeout_ms = 120000;
    mc.threads = (int)threads;
    m = monitor_new(&mc);
    if (!m)
        die("%s", err_message());
    s = now();
    if (monitor_cycle(m) < 0)
        die("%s", err_message());
    first = since(s);
    monitor_get_stats(m, &st);
    if (st.answered != nserv || st.domains != (size_t)nserv * ndom) {
        fprintf(stderr, "first cycle: %zu of %u servers answered, %zu "
                        "domains\n", st.answered, nserv, st.domains);
        ok = false;
    }
    for (k = 0; k < ncycles; k++) {
        struct stamp d;

        s = now();
        if (monitor_cycle(m) < 0)
            die("%s", err_message());
        d = since(s);
        cyc.wall += d.wall;
        cyc.cpu += d.cpu;
        monitor_get_stats(m, &st);
        if (st.answered != nserv || st.domains != (size_t)nserv * ndom)
            ok = false;
    }
    cyc.wall /= ncycles;
    cyc.cpu /= ncycles;
    monitor_get_stats(m, &st);

    /* 3. Raw. */
    virSetErrorFunc(NULL, quiet);
    conns = xcalloc(nserv, sizeof(*conns));
    s = now();
    for (i = 0; i < nserv; i++) {
        conns[i] = virConnectOpen(uris[i]);
        if (!conns[i])
            die("cannot open '%s'", uris[i]);
    }
    open_raw = since(s);
    for (k = 0; k < ncycles; k++) {
        struct stamp d;

        s = now();
        doms = raw_loop(conns, nserv, false);
        d = since(s);
        raw.wall += d.wall;
        raw.cpu += d.cpu;
        s = now();
        raw_loop(conns, nserv, true);
        d = since(s);
        rawi.wall += d.wall;
        rawi.cpu += d.cpu;
    }
    raw.wall /= ncycles;
    raw.cpu /= ncycles;
    rawi.wall /= ncycles;
    rawi.cpu /= ncycles;
    if (doms != (size_t)nserv * ndom)
        ok = false;

    /* 4. Report. */
    printf("monitoring %u servers x %u domains, %u steady cycles, %u "
           "visitor threads per pool, %ld online CPUs\n", nserv, ndom,
           ncycles, threads, sysconf(_SC_NPROCESSORS_ONLN));
    printf("ovmm first cycle (connect, node facts, reconcile): %8.1f ms wall "
           "%8.1f ms CPU\n", first.wall, first.cpu);
    printf("ovmm monitoring cycle:                             %8.1f ms wall "
           "%8.1f ms CPU  (%" PRIu64 " bulk calls in all, %zu domains per "
           "cycle)\n", cyc.wall, cyc.cpu, st.stats_calls, st.domains);
    printf("raw virConnectGetAllDomainStats loop:              %8.1f ms wall "
           "%8.1f ms CPU  (%u calls, %zu domains; opening %u connections: "
           "%.1f ms)\n", raw.wall, raw.cpu, nserv, doms, nserv,
           open_raw.wall);
    printf("raw loop + hv's per-domain work:                   %8.1f ms wall "
           "%8.1f ms CPU  (UUID string, test-driver GetInfo fallback)\n",
           rawi.wall, rawi.cpu);
    printf("ratio ovmm cycle / raw bulk loop:    wall %.2f  CPU %.2f\n",
           cyc.wall / raw.wall, raw.cpu > 0 ? cyc.cpu / raw.cpu : 0.0);
    printf("ratio ovmm cycle / raw + per-domain: wall %.2f  CPU %.2f\n",
           cyc.wall / rawi.wall, rawi.cpu > 0 ? cyc.cpu / rawi.cpu : 0.0);

    for (i = 0; i < nserv; i++) {
        virConnectClose(conns[i]);
        xfree(uris[i]);
        xfree(ids[i]);
    }
    xfree(conns);
    xfree(uris);
    xfree(ids);
    monitor_free(m);
    db_close(db);
    hv_shutdown();
    if (keep || !ok) {
        printf("kept %s\n", dir);
    } else {
        path = xasprintf("rm -rf '%s'", dir);
        if (system(path) != 0)
            fprintf(stderr, "cannot remove '%s'\n", dir);
        xfree(path);
    }
    if (!ok)
        fprintf(stderr, "bench/monitor: not every server answered\n");
    return ok ? 0 : 1;
}
