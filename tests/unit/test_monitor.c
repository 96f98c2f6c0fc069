/*
 * test_monitor.c - src/policy/: the connection registry (one connection
 * per server, reused; back-off) and the monitor (one bulk stats call per
 * server per cycle, utilization, reconciliation into foreignDomains,
 * RUNNING <-> UNKNOWN with events, a visit that hangs, servers added and
 * deleted while it runs, states owned by jobs left alone).
 *
 * DESIGN: every test gets a fresh directory and database (setup) and real
 * libvirt test-driver hosts in it: node files from hv_sim_generate(), and
 * a variant of one with domains (two running, one shut off). Servers are
 * written into the database with the same db/ call discovery uses. What
 * the in-process test driver cannot do -- lose a connection, hang -- is
 * a thin wrapper driver (`flaky`) around hv_libvirt that fails or sleeps
 * on demand; everything else is the production path. The API tier
 * (tests/api/monitor.sh) does the same against a real libvirtd that is
 * killed and restarted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tmpdir.h"
#include "db/db.h"
#include "hv/hv.h"
#include "policy/monitor.h"
#include "policy/registry.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"

#define DOMAINS_XML                                                          \
    "  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/"  \
    "test/1.0'><name>web-1</name>"                                          \
    "<uuid>aaaaaaaa-0000-4000-8000-000000000001</uuid>"                     \
    "<memory unit='MiB'>1024</memory><vcpu>2</vcpu>"                        \
    "<os><type>hvm</type></os></domain>\n"                                  \
    "  <domain type='test'><name>db-1</name>"                               \
    "<uuid>aaaaaaaa-0000-4000-8000-000000000002</uuid>"                     \
    "<memory unit='MiB'>2048</memory><vcpu>1</vcpu>"                        \
    "<os><type>hvm</type></os></domain>\n"                                  \
    "  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/"  \
    "test/1.0'><name>old-1</name>"                                          \
    "<uuid>aaaaaaaa-0000-4000-8000-000000000003</uuid>"                     \
    "<memory unit='MiB'>512</memory><vcpu>1</vcpu>"                         \
    "<os><type>hvm</type></os><test:runstate>5</test:runstate></domain>\n"

#define EXTRA_DOMAIN_XML                                                     \
    "  <domain type='test'><name>new-1</name>"                              \
    "<uuid>aaaaaaaa-0000-4000-8000-000000000004</uuid>"                     \
    "<memory unit='MiB'>256</memory><vcpu>1</vcpu>"                         \
    "<os><type>hvm</type></os></domain>\n"

/* ---- a driver that can lose its connections or hang ---- */

static atomic_bool flaky_down;      /* open fails, connections dead */
static atomic_int flaky_hang_ms;    /* domain_stats sleeps this long */
static atomic_int flaky_stats_calls;
static atomic_int flaky_opens;

static struct hv_conn *
flaky_open(const char *uri, const struct hv_auth *auth)
{
    if (atomic_load(&flaky_down)) {
        err_set(ERR_UNREACHABLE, "cannot connect to '%s': Connection "
                                 "refused (test)", uri);
        return NULL;
    }
    atomic_fetch_add(&flaky_opens, 1);
    return hv_libvirt.open(uri, auth);
}

static bool
flaky_alive(struct hv_conn *c)
{
    return !atomic_load(&flaky_down) && hv_libvirt.alive(c);
}

static int
flaky_stats(struct hv_conn *c, struct hv_dom_stat **out, size_t *n)
{
    int hang = atomic_load(&flaky_hang_ms);

    atomic_fetch_add(&flaky_stats_calls, 1);
    if (hang > 0)
        usleep((useconds_t)hang * 1000);
    if (atomic_load(&flaky_down)) {
        err_set(ERR_UNREACHABLE, "cannot get the domain statistics: end of "
                                 "file (test)");
        return -1;
    }
    return hv_libvirt.domain_stats(c, out, n);
}

static const struct hv_driver flaky = {
    .name = "flaky",
    .open = flaky_open,
    .close = NULL,      /* set in main(): hv_libvirt's */
    .alive = flaky_alive,
    .node_facts = NULL, /* set in main() */
    .domain_stats = flaky_stats,
};
static struct hv_driver flaky_drv;

/* ---- fixture ---- */

struct fixture {
    char dir[64];
    struct db *db;
    char *uri[3];       /* sim-1, sim-2, the file with domains */
    char *id[3];        /* their server ids (colon form of the UUID) */
    char *domfile;      /* the node file with domains */
};

/* The whole of @path. Caller frees. */
static char *
slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *data;
    long n;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    rewind(f);
    data = xmalloc((size_t)n + 1);
    assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
    data[n] = '\0';
    fclose(f);
    return data;
}

static void
spit(const char *path, const char *data)
{
    char *tmp = xasprintf("%s.tmp", path);
    FILE *f = fopen(tmp, "w");

    assert_non_null(f);
    assert_true(fputs(data, f) >= 0);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, path), 0);
    xfree(tmp);
}

/* Node file @src with @extra inserted before </node> and the identity
 * @uuid/@host instead of its own, written to @dst. */
static void
node_variant(const char *src, const char *dst, const char *extra,
             const char *uuid, const char *host)
{
    char *xml = slurp(src), *a, *b, *out;

    a = strstr(xml, "<ovmm:uuid>");
    b = a ? strstr(a, "</ovmm:uuid>") : NULL;
    assert_non_null(b);
    *a = '\0';
    out = xasprintf("%s<ovmm:uuid>%s%s", xml, uuid, b);
    xfree(xml);
    xml = out;
    a = strstr(xml, "<ovmm:hostname>");
    b = a ? strstr(a, "</ovmm:hostname>") : NULL;
    assert_non_null(b);
    *a = '\0';
    out = xasprintf("%s<ovmm:hostname>%s%s", xml, host, b);
    xfree(xml);
    xml = out;
    a = strstr(xml, "</node>");
    assert_non_null(a);
    *a = '\0';
    out = xasprintf("%s%s</node>\n", xml, extra);
    spit(dst, out);
    xfree(out);
    xfree(xml);
}

/* "01234567-89ab-..." -> "01:23:45:..." (discovery's server id). */
static char *
colon_id(const char *uuid)
{
    char hex[33], *out;
    size_t n = 0, i;

    for (; *uuid && n < 32; uuid++) {
        if (*uuid != '-')
            hex[n++] = *uuid;
    }
    hex[n] = '\0';
    assert_int_equal(n, 32);
    out = xmalloc(48);
    for (i = 0; i < 16; i++)
        snprintf(out + 3 * i, 4, "%c%c%s", hex[2 * i], hex[2 * i + 1],
                 i == 15 ? "" : ":");
    return out;
}

/* The <ovmm:uuid> of node file @path. Caller frees. */
static char *
file_uuid(const char *path)
{
    char *xml = slurp(path), *a, *b, *u;

    a = strstr(xml, "<ovmm:uuid>");
    assert_non_null(a);
    a += strlen("<ovmm:uuid>");
    b = strstr(a, "<");
    u = xstrndup(a, (size_t)(b - a));
    xfree(xml);
    return u;
}

/* Create server @name at @uri with id @id, as discovery would. */
static void
server_add(struct db *db, const char *id, const char *name, const char *uri,
           int64_t memory_mib, int64_t cpus)
{
    struct db_server_facts f;
    struct db_txn *t;
    bool created;

    memset(&f, 0, sizeof(f));
    f.id = id;
    f.name = name;
    f.ip_address = name;
    f.libvirt_uri = uri;
    f.hostname = name;
    f.memory_mib = memory_mib;
    f.enabled_cores = cpus;
    f.cpu_family = f.cpu_model = -1;
    t = db_txn_begin(db, DB_SYNC_NORMAL);
    assert_non_null(t);
    assert_int_equal(db_txn_server_put(t, &f, &created), 0);
    assert_true(created);
    assert_int_equal(db_txn_commit(t), 0);
}

static int
setup(void **state)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));
    char *path;
    int i;

    if (tmpdir_make(fx->dir, sizeof(fx->dir), "monitor") < 0)
        return -1;
    *state = fx;
    err_clear();
    atomic_store(&flaky_down, false);
    atomic_store(&flaky_hang_ms, 0);
    atomic_store(&flaky_stats_calls, 0);
    atomic_store(&flaky_opens, 0);
    path = xasprintf("%s/ovmm.db", fx->dir);
    fx->db = db_open(path);
    xfree(path);
    if (!fx->db || hv_sim_generate(fx->dir, 2, "monitor-test") < 0)
        return -1;
    fx->domfile = xasprintf("%s/doms.xml", fx->dir);
    path = xasprintf("%s/sim-1.xml", fx->dir);
    node_variant(path, fx->domfile, DOMAINS_XML,
                 "bbbbbbbb-1111-4222-8333-444444444444", "doms");
    xfree(path);
    for (i = 0; i < 3; i++) {
        char *file = i < 2 ? xasprintf("%s/sim-%d.xml", fx->dir, i + 1)
                           : xstrdup(fx->domfile);
        char *uuid = file_uuid(file);

        fx->uri[i] = xasprintf("test://%s", file);
        fx->id[i] = colon_id(uuid);
        xfree(uuid);
        xfree(file);
    }
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;
    char *cmd;
    int i;

    db_close(fx->db);
    for (i = 0; i < 3; i++) {
        xfree(fx->uri[i]);
        xfree(fx->id[i]);
    }
    xfree(fx->domfile);
    cmd = xasprintf("rm -rf '%s'", fx->dir);
    assert_int_equal(system(cmd), 0);
    xfree(cmd);
    xfree(fx);
    return 0;
}

/* A monitor over the flaky driver with short back-off. */
static struct monitor *
monitor_for(struct fixture *fx, int64_t timeout_ms)
{
    struct monitor_conf c = {
        .db = fx->db,
        .driver = &flaky_drv,
        .interval_ms = 100,
        .timeout_ms = timeout_ms,
        .threads = 2,
        .backoff_min_ms = 50,
        .backoff_max_ms = 400,
    };
    struct monitor *m = monitor_new(&c);

    assert_non_null(m);
    return m;
}

static struct model_obj *
get_server(struct fixture *fx, const char *id)
{
    struct model_obj *o = db_object_get(fx->db, model_type_find("Server"),
                                        id);

    assert_non_null(o);
    return o;
}

/* Member @json of server @id rendered as JSON text (caller frees). */
static char *
member(struct fixture *fx, const char *id, const char *json)
{
    struct model_obj *o = get_server(fx, id);
    json_object *j = model_obj_to_json(o, "https://x/rest"), *v;
    char *s;

    assert_true(json_object_object_get_ex(j, json, &v));
    s = xstrdup(v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN)
                  : "null");
    json_object_put(j);
    model_obj_free(o);
    return s;
}

static void
assert_member(struct fixture *fx, const char *id, const char *json,
              const char *want)
{
    char *got = member(fx, id, json);

    if (strcmp(got, want) != 0)
        fail_msg("%s: got %s, want %s", json, got, want);
    xfree(got);
}

/* Events of type @type on @id, newest first; the count, and the newest
 * summary into @summary (may be NULL). */
static size_t
events_of(struct fixture *fx, const char *id, const char *type,
          int *severity, char *summary, size_t size)
{
    struct db_event_filter f;
    struct db_event **v = NULL;
    size_t n = 0, i, k = 0;
    int64_t total;

    memset(&f, 0, sizeof(f));
    f.object_id = id;
    f.min_severity = -1;
    f.acknowledged = -1;
    f.limit = -1;
    assert_int_equal(db_event_list(fx->db, &f, &v, &n, &total), 0);
    for (i = 0; i < n; i++) {
        if (strcmp(v[i]->type, type) != 0)
            continue;
        if (k++ == 0) {
            if (severity)
                *severity = v[i]->severity;
            if (summary)
                str_copy(summary, v[i]->summary, size);
        }
    }
    db_events_free(v, n);
    return k;
}

static void
wait_ms(int ms)
{
    usleep((useconds_t)ms * 1000);
}

/* ---- the registry ---- */

static void
test_registry_reuse_backoff(void **state)
{
    struct fixture *fx = *state;
    struct registry_conf rc = { &flaky_drv, 50, 200 };
    struct registry *r = registry_new(&rc);
    struct registry_lease *lease;
    struct hv_conn *c1, *c2;
    char *missing = xasprintf("test://%s/nope.xml", fx->dir);
    const char *keep[] = { "a" };
    bool fresh;

    registry_put(r, "a", fx->uri[0], NULL, NULL);
    registry_put(r, "b", missing, NULL, NULL);
    assert_int_equal(registry_count(r), 2);

    /* One connection, opened once, reused. */
    c1 = registry_acquire(r, "a", &fresh, &lease);
    assert_non_null(c1);
    assert_true(fresh);
    registry_release(r, lease, false);
    c2 = registry_acquire(r, "a", &fresh, &lease);
    assert_ptr_equal(c1, c2);
    assert_false(fresh);
    registry_release(r, lease, false);
    assert_int_equal(atomic_load(&flaky_opens), 1);
    assert_true(registry_connected(r, "a"));
    assert_int_equal(registry_next_attempt(r, "a"), 0);

    /* A host that does not answer: back-off 50, refused in between,
     * then 100, 200, 200 (the cap). */
    assert_null(registry_acquire(r, "b", &fresh, &lease));
    assert_int_equal(err_code(), ERR_UNREACHABLE);
    assert_null(lease);
    assert_int_equal(registry_backoff(r, "b"), 50);
    assert_null(registry_acquire(r, "b", &fresh, &lease));
    assert_non_null(strstr(err_message(), "next attempt in"));
    assert_int_equal(registry_backoff(r, "b"), 50);
    wait_ms(60);
    assert_null(registry_acquire(r, "b", &fresh, &lease));
    assert_int_equal(registry_backoff(r, "b"), 100);
    wait_ms(110);
    assert_null(registry_acquire(r, "b", &fresh, &lease));
    assert_int_equal(registry_backoff(r, "b"), 200);
    wait_ms(210);
    assert_null(registry_acquire(r, "b", &fresh, &lease));
    assert_int_equal(registry_backoff(r, "b"), 200);

    /* New settings are tried at once and clear the back-off. */
    registry_put(r, "b", fx->uri[1], NULL, NULL);
    assert_int_equal(registry_backoff(r, "b"), 0);
    assert_non_null(registry_acquire(r, "b", &fresh, &lease));
    assert_true(fresh);
    registry_release(r, lease, false);

    /* A connection reported broken is closed and waits out min. */
    assert_non_null(registry_acquire(r, "b", &fresh, &lease));
    registry_release(r, lease, true);
    assert_false(registry_connected(r, "b"));
    assert_int_equal(registry_backoff(r, "b"), 50);
    assert_null(registry_acquire(r, "b", &fresh, &lease));
    wait_ms(60);
    assert_non_null(registry_acquire(r, "b", &fresh, &lease));
    assert_true(fresh);
    assert_int_equal(registry_backoff(r, "b"), 0);

    /* Dropped while held: gone for others, closed on release. */
    registry_retain(r, keep, 1);
    assert_int_equal(registry_count(r), 1);
    assert_int_equal(registry_next_attempt(r, "b"), -1);
    registry_release(r, lease, false);
    assert_null(registry_acquire(r, "b", &fresh, &lease));
    assert_int_equal(err_code(), ERR_NOT_FOUND);

    registry_free(r);
    xfree(missing);
}

/* ---- the monitor ---- */

static void
test_cycle_utilization_foreign(void **state)
{
    struct fixture *fx = *state;
    struct monitor_stats st;
    struct monitor *m;
    char summary[512], *cpu;
    int sev = -1, i;
    int64_t pct;

    server_add(fx->db, fx->id[0], "sim-1", fx->uri[0], 65536, 32);
    server_add(fx->db, fx->id[2], "doms", fx->uri[2], 65536, 32);
    m = monitor_for(fx, 5000);

    /* First cycle: the reconciliation. One bulk call per server. */
    assert_int_equal(monitor_cycle(m), 0);
    monitor_get_stats(m, &st);
    assert_int_equal(st.cycles, 1);
    assert_int_equal(st.servers, 2);
    assert_int_equal(st.answered, 2);
    assert_int_equal(st.domains, 3);
    assert_int_equal(st.stats_calls, 2);
    assert_int_equal(st.reconciliations, 2);
    assert_int_equal(atomic_load(&flaky_stats_calls), 2);

    assert_member(fx, fx->id[2], "serverRunState", "\"RUNNING\"");
    assert_member(fx, fx->id[2], "runningDomains", "2");
    assert_member(fx, fx->id[2], "memoryUsed", "3072");
    /* 3 GiB of 64: 4.7 % */
    assert_member(fx, fx->id[2], "memoryUtilization", "5");
    assert_member(fx, fx->id[2], "usableMemory", "62464");
    assert_member(fx, fx->id[2], "cpuUtilization", "null");
    assert_member(fx, fx->id[2], "unreachableReason", "null");
    assert_member(fx, fx->id[2], "foreignDomains",
                  "[{\"name\":\"db-1\",\"uuid\":\"aaaaaaaa-0000-4000-8000-"
                  "000000000002\",\"state\":\"RUNNING\"},{\"name\":\"old-1\","
                  "\"uuid\":\"aaaaaaaa-0000-4000-8000-000000000003\",\"state\""
                  ":\"STOPPED\"},{\"name\":\"web-1\",\"uuid\":\"aaaaaaaa-0000-"
                  "4000-8000-000000000001\",\"state\":\"RUNNING\"}]");
    assert_int_equal(events_of(fx, fx->id[2], "server.foreign_domains", &sev,
                               summary, sizeof(summary)), 1);
    assert_int_equal(sev, SEV_WARNING);
    assert_non_null(strstr(summary, "3 domain(s)"));
    assert_non_null(strstr(summary, "db-1, old-1, web-1"));
    /* A server with no domains: nothing foreign, no event. */
    assert_member(fx, fx->id[0], "foreignDomains", "[]");
    assert_member(fx, fx->id[0], "runningDomains", "0");
    assert_member(fx, fx->id[0], "memoryUtilization", "0");
    assert_int_equal(events_of(fx, fx->id[0], "server.foreign_domains", NULL,
                               NULL, 0), 0);

    /* Later cycles: CPU from the deltas; nothing new to reconcile. */
    for (i = 0; i < 3; i++) {
        wait_ms(50);
        assert_int_equal(monitor_cycle(m), 0);
    }
    monitor_get_stats(m, &st);
    assert_int_equal(st.stats_calls, 8);
    assert_int_equal(st.reconciliations, 2);
    assert_int_equal(atomic_load(&flaky_opens), 2);
    /* The test driver's cpuTime runs with the wall clock: 2 running
     * domains on 32 CPUs are 6 %; the shut-off one counts nothing. */
    cpu = member(fx, fx->id[2], "cpuUtilization");
    assert_int_equal(str_to_int64(cpu, 0, 100, "cpu", &pct), 0);
    if (pct < 4 || pct > 9)
        fail_msg("cpuUtilization %s, want about 6", cpu);
    xfree(cpu);
    assert_member(fx, fx->id[0], "cpuUtilization", "0");
    assert_int_equal(events_of(fx, fx->id[2], "server.foreign_domains", NULL,
                               NULL, 0), 1);
    assert_int_equal(events_of(fx, fx->id[2], "server.unreachable", NULL,
                               NULL, 0), 0);
    monitor_free(m);
}

static void
test_unreachable_and_back(void **state)
{
    struct fixture *fx = *state;
    struct monitor *m;
    struct model_obj *o;
    char summary[512];
    int64_t gen;
    int sev = -1, tries;

    server_add(fx->db, fx->id[2], "doms", fx->uri[2], 65536, 32);
    m = monitor_for(fx, 5000);
    assert_int_equal(monitor_cycle(m), 0);
    o = get_server(fx, fx->id[2]);
    gen = o->generation;
    model_obj_free(o);

    /* The connection drops: UNKNOWN with an ERROR event, figures gone. */
    atomic_store(&flaky_down, true);
    assert_int_equal(monitor_cycle(m), 0);
    assert_member(fx, fx->id[2], "serverRunState", "\"UNKNOWN\"");
    assert_member(fx, fx->id[2], "runningDomains", "null");
    assert_member(fx, fx->id[2], "memoryUtilization", "null");
    assert_int_equal(events_of(fx, fx->id[2], "server.unreachable", &sev,
                               summary, sizeof(summary)), 1);
    assert_int_equal(sev, SEV_ERROR);
    assert_non_null(strstr(summary, "Server 'doms' is unreachable"));
    o = get_server(fx, fx->id[2]);
    assert_int_equal(o->generation, gen + 1);
    assert_true(o->event_severity == SEV_ERROR);
    model_obj_free(o);
    {
        char *why = member(fx, fx->id[2], "unreachableReason");

        assert_non_null(strstr(why, "lost"));
        xfree(why);
    }

    /* Still down: attempts back off (50, 100, 200, 400, 400 ms), no
     * second event. */
    for (tries = 0; tries < 6; tries++) {
        wait_ms(120);
        assert_int_equal(monitor_cycle(m), 0);
    }
    assert_int_equal(events_of(fx, fx->id[2], "server.unreachable", NULL,
                               NULL, 0), 1);

    /* Back: RUNNING with an event, reconciled again (no new foreign
     * event: the same domains). */
    atomic_store(&flaky_down, false);
    for (tries = 0; tries < 20; tries++) {
        wait_ms(50);
        assert_int_equal(monitor_cycle(m), 0);
        if (events_of(fx, fx->id[2], "server.reachable", NULL, NULL, 0))
            break;
    }
    assert_int_equal(events_of(fx, fx->id[2], "server.reachable", &sev, NULL,
                               0), 1);
    assert_int_equal(sev, SEV_INFORMATIONAL);
    assert_member(fx, fx->id[2], "serverRunState", "\"RUNNING\"");
    assert_member(fx, fx->id[2], "runningDomains", "2");
    assert_member(fx, fx->id[2], "unreachableReason", "null");
    assert_int_equal(events_of(fx, fx->id[2], "server.foreign_domains", NULL,
                               NULL, 0), 1);
    monitor_free(m);
}

static void
test_job_states_left_alone(void **state)
{
    struct fixture *fx = *state;
    struct monitor_stats st;
    struct monitor *m;
    struct db_txn *t;

    server_add(fx->db, fx->id[0], "sim-1", fx->uri[0], 65536, 32);
    m = monitor_for(fx, 5000);
    assert_int_equal(monitor_cycle(m), 0);

    /* A power job stopped it: no polls, and a drop is no news. */
    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    assert_non_null(t);
    assert_int_equal(db_txn_server_set_run_state(t, fx->id[0], "STOPPED",
                                                 NULL), 0);
    assert_int_equal(db_txn_commit(t), 0);
    atomic_store(&flaky_down, true);
    assert_int_equal(monitor_cycle(m), 0);
    monitor_get_stats(m, &st);
    assert_int_equal(st.servers, 0);
    assert_int_equal(st.stats_calls, 1);
    assert_member(fx, fx->id[0], "serverRunState", "\"STOPPED\"");
    assert_int_equal(events_of(fx, fx->id[0], "server.unreachable", NULL,
                               NULL, 0), 0);

    /* Reachable again while STARTING (a start job runs): still the
     * job's; the monitor never writes RUNNING over it. */
    atomic_store(&flaky_down, false);
    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    assert_int_equal(db_txn_server_set_run_state(t, fx->id[0], "STARTING",
                                                 NULL), 0);
    assert_int_equal(db_txn_commit(t), 0);
    assert_int_equal(monitor_cycle(m), 0);
    assert_member(fx, fx->id[0], "serverRunState", "\"STARTING\"");
    assert_int_equal(events_of(fx, fx->id[0], "server.reachable", NULL, NULL,
                               0), 0);
    monitor_free(m);
}

static void
test_hung_visit(void **state)
{
    struct fixture *fx = *state;
    struct monitor *m;
    int64_t t0, took;
    char *why;
    int tries;

    server_add(fx->db, fx->id[0], "sim-1", fx->uri[0], 65536, 32);
    server_add(fx->db, fx->id[1], "sim-2", fx->uri[1], 32768, 16);
    m = monitor_for(fx, 300);
    assert_int_equal(monitor_cycle(m), 0);

    /* Every stats call now takes 1.2 s: the cycle gives up after 300 ms
     * and both servers are unreachable. */
    atomic_store(&flaky_hang_ms, 1200);
    t0 = time_mono_ms();
    assert_int_equal(monitor_cycle(m), 0);
    took = time_mono_ms() - t0;
    assert_true(took >= 250 && took < 1100);
    assert_member(fx, fx->id[0], "serverRunState", "\"UNKNOWN\"");
    assert_member(fx, fx->id[1], "serverRunState", "\"UNKNOWN\"");
    why = member(fx, fx->id[0], "unreachableReason");
    assert_non_null(strstr(why, "no answer within"));
    xfree(why);

    /* The hung calls end and answer: RUNNING again. */
    atomic_store(&flaky_hang_ms, 0);
    for (tries = 0; tries < 30; tries++) {
        wait_ms(100);
        assert_int_equal(monitor_cycle(m), 0);
        if (events_of(fx, fx->id[0], "server.reachable", NULL, NULL, 0) &&
            events_of(fx, fx->id[1], "server.reachable", NULL, NULL, 0))
            break;
    }
    assert_member(fx, fx->id[0], "serverRunState", "\"RUNNING\"");
    assert_member(fx, fx->id[1], "serverRunState", "\"RUNNING\"");
    assert_int_equal(events_of(fx, fx->id[0], "server.unreachable", NULL,
                               NULL, 0), 1);
    monitor_free(m);
}

static void
test_thread_add_delete(void **state)
{
    struct fixture *fx = *state;
    struct monitor_stats st;
    struct monitor *m;
    struct db_txn *t;
    int tries;

    server_add(fx->db, fx->id[0], "sim-1", fx->uri[0], 65536, 32);
    m = monitor_for(fx, 2000);
    assert_int_equal(monitor_start(m), 0);
    assert_int_equal(monitor_start(m), -1);
    assert_int_equal(monitor_cycle(m), -1);
    assert_int_equal(err_code(), ERR_STATE);

    /* Discovered while running: picked up by a later cycle. */
    server_add(fx->db, fx->id[2], "doms", fx->uri[2], 65536, 32);
    for (tries = 0; tries < 50; tries++) {
        wait_ms(100);
        if (events_of(fx, fx->id[2], "server.foreign_domains", NULL, NULL, 0))
            break;
    }
    assert_int_equal(events_of(fx, fx->id[2], "server.foreign_domains", NULL,
                               NULL, 0), 1);
    assert_member(fx, fx->id[2], "runningDomains", "2");

    /* Deleted: dropped, nothing written for it any more. */
    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    assert_int_equal(db_txn_object_delete(t, fx->id[2]), 0);
    assert_int_equal(db_txn_commit(t), 0);
    for (tries = 0; tries < 50; tries++) {
        wait_ms(100);
        monitor_get_stats(m, &st);
        if (st.servers == 1 && st.domains == 0)
            break;
    }
    assert_int_equal(st.servers, 1);
    assert_int_equal(st.answered, 1);
    monitor_stop(m);
    monitor_free(m);
}

static void
test_restart_reconciliation(void **state)
{
    struct fixture *fx = *state;
    struct monitor *m;
    char summary[512], *text, *at;
    int sev = -1;

    server_add(fx->db, fx->id[2], "doms", fx->uri[2], 65536, 32);
    m = monitor_for(fx, 5000);
    assert_int_equal(monitor_cycle(m), 0);
    monitor_free(m);
    assert_int_equal(events_of(fx, fx->id[2], "server.foreign_domains", NULL,
                               NULL, 0), 1);

    /* "ovmmd restarts" with nothing changed: no new event. */
    m = monitor_for(fx, 5000);
    assert_int_equal(monitor_cycle(m), 0);
    monitor_free(m);
    assert_int_equal(events_of(fx, fx->id[2], "server.foreign_domains", NULL,
                               NULL, 0), 1);

    /* While it was down, a domain appeared and one went away. */
    text = slurp(fx->domfile);
    at = strstr(text, "</node>");
    *at = '\0';
    {
        char *out = xasprintf("%s%s</node>\n", text, EXTRA_DOMAIN_XML);
        char *web = strstr(out, "<name>web-1</name>");

        /* Rename web-1's domain so it is another one (new name+uuid). */
        assert_non_null(web);
        memcpy(strstr(web, "000000000001"), "000000000009", 12);
        memcpy(web + 6, "wex", 3);
        spit(fx->domfile, out);
        xfree(out);
    }
    xfree(text);
    m = monitor_for(fx, 5000);
    assert_int_equal(monitor_cycle(m), 0);
    monitor_free(m);
    assert_int_equal(events_of(fx, fx->id[2], "server.foreign_domains", &sev,
                               summary, sizeof(summary)), 3);
    text = member(fx, fx->id[2], "foreignDomains");
    assert_non_null(strstr(text, "\"new-1\""));
    assert_non_null(strstr(text, "\"wex-1\""));
    assert_null(strstr(text, "\"web-1\""));
    assert_non_null(strstr(text, "\"db-1\""));
    xfree(text);
    assert_member(fx, fx->id[2], "runningDomains", "3");
}

static void
test_identity_mismatch(void **state)
{
    struct fixture *fx = *state;
    struct monitor *m;
    char *why;

    /* Server sim-2's record, but sim-1 answers at its address. */
    server_add(fx->db, fx->id[1], "sim-2", fx->uri[0], 32768, 16);
    {
        struct db_txn *t = db_txn_begin(fx->db, DB_SYNC_NORMAL);

        assert_int_equal(db_txn_server_set_run_state(t, fx->id[1], "RUNNING",
                                                     NULL), 0);
        assert_int_equal(db_txn_commit(t), 0);
    }
    m = monitor_for(fx, 5000);
    assert_int_equal(monitor_cycle(m), 0);
    assert_member(fx, fx->id[1], "serverRunState", "\"UNKNOWN\"");
    why = member(fx, fx->id[1], "unreachableReason");
    assert_non_null(strstr(why, "another machine"));
    xfree(why);
    monitor_free(m);
}

static int
group_teardown(void **state)
{
    (void)state;
    hv_shutdown();
    return 0;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_registry_reuse_backoff),
        T(test_cycle_utilization_foreign),
        T(test_unreachable_and_back),
        T(test_job_states_left_alone),
        T(test_hung_visit),
        T(test_thread_add_delete),
        T(test_restart_reconciliation),
        T(test_identity_mismatch),
    };

    flaky_drv = flaky;
    flaky_drv.close = hv_libvirt.close;
    flaky_drv.node_facts = hv_libvirt.node_facts;
    log_set_level(LOG_LEVEL_ERROR);
    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests_name("monitor", tests, NULL,
                                       group_teardown);
}
