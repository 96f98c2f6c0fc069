/*
 * monitor.c - monitoring and reconciliation of servers (see monitor.h and
 * docs/MONITORING.md).
 *
 * DESIGN
 *
 * Objects: `struct mon_server` per server in the inventory, in an array
 * sorted by id that only the coordinator (the thread running a cycle:
 * monitor_main() or a caller of monitor_cycle()) changes. A server is
 * handed to a visitor thread through a pool's queue; while `busy` the
 * visitor owns its `v` part (the connection-side state: the previous
 * sample for CPU deltas, the node's size) and fills `res`; it then sets
 * `done`. The coordinator takes the result back under `m->lock`, clears
 * `busy`, and only then applies it -- with no lock held but the database
 * writer's, inside db/ calls. So the hypervisor is only ever called by a
 * visitor and the database only ever written by the coordinator.
 *
 * Pools: POOL_POLL visits servers with an open connection; POOL_CONNECT
 * visits servers that need a connection attempt (libvirt's connect to a
 * black-holed host can hang for minutes: it must not hold up the polls).
 * A visit is: registry_acquire() (connects when needed; on a fresh
 * connection, node_facts() for the server's identity and size), one
 * domain_stats() bulk call, registry_release(), then the arithmetic.
 *
 * Time: a cycle waits for its visits up to timeout_ms. A visit still
 * running then is reported as "did not answer within N s" (once; the
 * server goes UNKNOWN) and the cycle ends without it; when the hung call
 * finally returns, its result is applied by a later cycle like any other
 * (an answer brings the server back). Between cycles the coordinator
 * wakes for the reconnection attempts the registry's back-off allows.
 *
 * Reconciliation: a visit on a fresh connection marks its result
 * `fresh`; applying a fresh result, or one whose domain set (uuid and
 * state) differs from the last one, opens one transaction that runs the
 * VMs (vms_reconcile()), records the foreign domains and
 * changes the state, each with its events. In the steady state (nothing
 * changed) a cycle writes only the batch of samples.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/db.h"
#include "events/events.h"
#include "hv/hv.h"
#include "model/model.h"
#include "policy/monitor.h"
#include "policy/registry.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"

LOG_MODULE("monitor");

#define POOL_POLL 0
#define POOL_CONNECT 1
#define NPOOLS 2

/* What one visit found; filled by the visitor, read by the coordinator. */
struct mon_result {
    bool ok;                   /* the server answered */
    bool fresh;                /* on a connection this visit opened */
    char error[512];           /* !ok: why */
    int64_t sampled_ms;        /* wall clock */
    struct hv_dom_stat *doms;  /* sorted by uuid; owned */
    size_t ndoms;
    int64_t cpu_pct;           /* -1: no previous sample yet */
    int64_t memory_pct;
    int64_t memory_used_mib;
    int64_t memory_free_mib;
    int64_t running;
};

/* Connection-side state of a server: the visitor's while busy. */
struct mon_conn_state {
    struct hv_dom_stat *prev;  /* last sample, sorted by uuid */
    size_t nprev;
    int64_t prev_mono_ms;      /* 0: none */
    unsigned cpus;             /* node facts at connect; 0: unknown */
    uint64_t memory_kib;
};

struct mon_server {
    char *id;                  /* immutable */
    /* The coordinator's: */
    char *name;
    char *db_state;            /* serverRunState as last read/written */
    char *foreign;             /* foreign_domains JSON as recorded */
    uint64_t dom_sig;          /* signature of the last domain set */
    bool have_sig;
    bool gone;                 /* deleted from the inventory */
    bool timed_out;            /* the running visit was reported late */
    int64_t dispatched_ms;     /* monotonic, of the running visit */
    int64_t db_cpus, db_memory_mib; /* fallbacks for the node's size */
    /* Hand-over, protected by m->lock: */
    bool busy;                 /* queued or being visited */
    bool done;                 /* the visit finished; res is ready */
    /* The visitor's while busy: */
    struct mon_conn_state v;
    struct mon_result res;
};

struct mon_pool {
    pthread_t *threads;        /* immutable after monitor_new() */
    int nthreads;
    struct mon_server **q;     /* FIFO; protected by m->lock */
    size_t qhead, qlen, qcap;
    pthread_cond_t cond;       /* work queued / stopping */
};

struct monitor {
    struct db *db;             /* immutable */
    const struct hv_driver *drv; /* immutable */
    int64_t interval_ms, timeout_ms; /* immutable */
    struct registry *reg;      /* thread-safe itself */

    pthread_mutex_t lock;
    pthread_cond_t done_cond;  /* a visit finished */
    pthread_cond_t wake;       /* stop requested */
    bool stop_visitors;        /* protected by ->lock */
    bool stop_coord;           /* protected by ->lock */
    bool coord_running;        /* protected by ->lock */
    struct mon_pool pools[NPOOLS];
    struct monitor_stats stats; /* protected by ->lock */

    /* The coordinator's: */
    pthread_t coord;
    struct mon_server **srv;   /* sorted by id */
    size_t nsrv;
    struct mon_server **zombies; /* gone while busy: freed when done */
    size_t nzombies;
};

static void
result_clear(struct mon_result *r)
{
    xfree(r->doms);
    memset(r, 0, sizeof(*r));
}

static void
server_free(struct mon_server *s)
{
    if (!s)
        return;
    xfree(s->id);
    xfree(s->name);
    xfree(s->db_state);
    xfree(s->foreign);
    xfree(s->v.prev);
    result_clear(&s->res);
    xfree(s);
}

/* ---- domains ---- */

static int
dom_cmp_uuid(const void *a, const void *b)
{
    return strcmp(((const struct hv_dom_stat *)a)->uuid,
                  ((const struct hv_dom_stat *)b)->uuid);
}

static int
dom_cmp_name(const void *a, const void *b)
{
    const struct hv_dom_stat *x = *(const struct hv_dom_stat *const *)a;
    const struct hv_dom_stat *y = *(const struct hv_dom_stat *const *)b;
    int c = strcmp(x->name, y->name);

    return c ? c : strcmp(x->uuid, y->uuid);
}

/* Active: holds memory and may use CPU. */
static bool
dom_active(enum hv_dom_state s)
{
    return s == HV_DOM_RUNNING || s == HV_DOM_BLOCKED || s == HV_DOM_PAUSED;
}

/* A domain state in Oracle VM's vmRunState words. */
static const char *
dom_state_str(enum hv_dom_state s)
{
    switch (s) {
    case HV_DOM_RUNNING:
    case HV_DOM_BLOCKED:
        return "RUNNING";
    case HV_DOM_PAUSED:
    case HV_DOM_PMSUSPENDED:
        return "SUSPENDED";
    case HV_DOM_SHUTDOWN:
        return "STOPPING";
    case HV_DOM_SHUTOFF:
        return "STOPPED";
    case HV_DOM_CRASHED:
        return "ERROR";
    default:
        return "UNKNOWN";
    }
}

/* Xen's control domain is the host itself, never a VM or a stranger. */
static bool
dom_is_host(const struct hv_dom_stat *d)
{
    return strcmp(d->name, "Domain-0") == 0;
}

/* FNV-1a over the uuid and state of every domain (sorted by uuid). */
static uint64_t
dom_signature(const struct hv_dom_stat *d, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    size_t i;

    for (i = 0; i < n; i++) {
        const unsigned char *p = (const unsigned char *)d[i].uuid;

        for (; *p; p++)
            h = (h ^ *p) * 1099511628211ULL;
        h = (h ^ (unsigned)d[i].state) * 1099511628211ULL;
        h = (h ^ 0xff) * 1099511628211ULL;
    }
    return h;
}

/* ---- the visit (visitor threads) ---- */

/* Only the hex digits of @s, lower case, into @out (at most 32). */
static void
hex_only(const char *s, char out[33])
{
    size_t n = 0;

    for (; *s && n < 32; s++) {
        char c = *s;

        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))
            out[n++] = c;
    }
    out[n] = '\0';
}

/*
 * The server at the other end is the one we think: its host UUID is the
 * server's id (discovery made the id from it). Ids that are no UUID
 * (none today) are not checked.
 */
static int
check_identity(const struct mon_server *s, const struct hv_node_facts *f)
{
    char a[33], b[33];

    hex_only(s->id, a);
    hex_only(f->uuid, b);
    if (strlen(a) != 32 || strlen(b) != 32 || strcmp(a, b) == 0)
        return 0;
    err_set(ERR_UNREACHABLE, "the host at the server's address reports host "
                             "UUID '%s', not this server's: another machine "
                             "answers there", f->uuid);
    return -1;
}

/* CPU use of the domains since the previous sample, percent of the
 * node's CPUs; -1 when there is no previous sample. */
static int64_t
cpu_percent(const struct mon_conn_state *v, const struct hv_dom_stat *d,
            size_t n, int64_t now_mono, unsigned cpus)
{
    uint64_t used = 0;
    size_t i = 0, j = 0;
    double pct, span_ns;

    if (!v->prev_mono_ms || now_mono <= v->prev_mono_ms || cpus == 0)
        return -1;
    /* Both sorted by uuid: a merge. Domains that came or went since the
     * previous sample have no delta and are left out. */
    while (i < n && j < v->nprev) {
        int c = strcmp(d[i].uuid, v->prev[j].uuid);

        if (c == 0) {
            /* Only domains that run: a shut-off one uses no CPU (the
             * test driver reports wall-clock time for every domain). */
            if (dom_active(d[i].state) &&
                d[i].cpu_time_ns > v->prev[j].cpu_time_ns)
                used += d[i].cpu_time_ns - v->prev[j].cpu_time_ns;
            i++;
            j++;
        } else if (c < 0) {
            i++;
        } else {
            j++;
        }
    }
    span_ns = (double)(now_mono - v->prev_mono_ms) * 1e6 * cpus;
    pct = (double)used * 100.0 / span_ns;
    if (pct > 100.0)
        pct = 100.0;
    return (int64_t)(pct + 0.5);
}

/* Fill s->res from one visit. Runs on a visitor thread, no lock held. */
static void
visit(struct monitor *m, struct mon_server *s)
{
    struct mon_result *r = &s->res;
    struct mon_conn_state *v = &s->v;
    struct registry_lease *lease = NULL;
    struct hv_conn *c;
    uint64_t used_kib = 0, total_kib;
    int64_t now_mono;
    bool fresh = false;
    size_t i;

    result_clear(r);
    err_clear();
    c = registry_acquire(m->reg, s->id, &fresh, &lease);
    if (!c)
        goto fail;
    if (fresh) {
        struct hv_node_facts f;

        pthread_mutex_lock(&m->lock);
        m->stats.connects++;
        pthread_mutex_unlock(&m->lock);
        /* A new connection: the counters may have restarted (a host
         * reboot), and the node may have changed size. */
        xfree(v->prev);
        v->prev = NULL;
        v->nprev = 0;
        v->prev_mono_ms = 0;
        if (m->drv->node_facts(c, &f) < 0) {
            registry_release(m->reg, lease, true);
            goto fail;
        }
        if (check_identity(s, &f) < 0) {
            hv_node_facts_release(&f);
            registry_release(m->reg, lease, true);
            goto fail;
        }
        v->cpus = f.cpus;
        v->memory_kib = f.memory_kib;
        hv_node_facts_release(&f);
    }
    if (m->drv->domain_stats(c, &r->doms, &r->ndoms) < 0) {
        registry_release(m->reg, lease, true);
        goto fail;
    }
    registry_release(m->reg, lease, false);
    pthread_mutex_lock(&m->lock);
    m->stats.stats_calls++;
    pthread_mutex_unlock(&m->lock);

    now_mono = time_mono_ms();
    r->ok = true;
    r->fresh = fresh;
    r->sampled_ms = time_now_ms();
    if (r->ndoms)
        qsort(r->doms, r->ndoms, sizeof(*r->doms), dom_cmp_uuid);
    for (i = 0; i < r->ndoms; i++) {
        if (dom_active(r->doms[i].state)) {
            r->running++;
            used_kib += r->doms[i].memory_kib;
        }
    }
    r->cpu_pct = cpu_percent(v, r->doms, r->ndoms, now_mono,
                             v->cpus ? v->cpus : (unsigned)s->db_cpus);
    total_kib = v->memory_kib ? v->memory_kib
                              : (uint64_t)s->db_memory_mib * 1024;
    r->memory_used_mib = (int64_t)(used_kib / 1024);
    if (total_kib) {
        uint64_t pct = (used_kib * 100 + total_kib / 2) / total_kib;

        r->memory_pct = (int64_t)(pct > 100 ? 100 : pct);
        r->memory_free_mib = used_kib < total_kib
                                 ? (int64_t)((total_kib - used_kib) / 1024)
                                 : 0;
    }
    /* Keep this sample for the next CPU delta. */
    v->prev = xrealloc(v->prev, (r->ndoms ? r->ndoms : 1) * sizeof(*v->prev));
    if (r->ndoms)
        memcpy(v->prev, r->doms, r->ndoms * sizeof(*v->prev));
    v->nprev = r->ndoms;
    v->prev_mono_ms = now_mono;
    return;

 fail:
    r->ok = false;
    str_copy(r->error, err_code() != ERR_OK ? err_message()
                                            : "no answer from the server",
             sizeof(r->error));
    err_clear();
}

static void *
visitor_main(void *arg)
{
    struct monitor *m = ((void **)arg)[0];
    struct mon_pool *p = ((void **)arg)[1];
    struct mon_server *s;

    xfree(arg);
    pthread_mutex_lock(&m->lock);
    for (;;) {
        while (!m->stop_visitors && p->qlen == 0)
            pthread_cond_wait(&p->cond, &m->lock);
        if (m->stop_visitors)
            break;
        s = p->q[p->qhead];
        p->qhead = (p->qhead + 1) % p->qcap;
        p->qlen--;
        pthread_mutex_unlock(&m->lock);
        visit(m, s);
        pthread_mutex_lock(&m->lock);
        s->done = true;
        pthread_cond_broadcast(&m->done_cond);
    }
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

/* Queue @s on pool @p. m->lock held. */
static void
pool_push(struct mon_pool *p, struct mon_server *s)
{
    if (p->qlen == p->qcap) {
        size_t ncap = p->qcap ? p->qcap * 2 : 64, i;
        struct mon_server **nq = xcalloc(ncap, sizeof(*nq));

        for (i = 0; i < p->qlen; i++)
            nq[i] = p->q[(p->qhead + i) % p->qcap];
        xfree(p->q);
        p->q = nq;
        p->qcap = ncap;
        p->qhead = 0;
    }
    p->q[(p->qhead + p->qlen) % p->qcap] = s;
    p->qlen++;
    pthread_cond_signal(&p->cond);
}

/* ---- applying results (the coordinator) ---- */

/*
 * ---- VMs ----
 *
 * A VM of this Manager runs as the domain whose UUID is the VM's id (32
 * hex digits) in UUID form (DESIGN.md section 5; the VM issue defines
 * domains that way), so matching needs no call per VM.
 *
 * vms_reconcile(): inside @t, compare the @n domains of server @s with the
 * VMs the database knows, correct the VMs' states with events -- a VM
 * found running -> RUNNING, paused -> SUSPENDED, shut off or crashed ->
 * STOPPED; a VM recorded on another server is moved to this one; a VM
 * this server should run that is missing -> STOPPED with a WARNING -- and
 * set claimed[i] for every domain that is one of ours, so that only the
 * others are listed as foreign, never adopted. Templates are never
 * matched. Returns the number of VMs it matched, or -1.
 *
 * vms_offline(): inside @t, server @s became unreachable: its active VMs
 * (RUNNING, SUSPENDED, STARTING, STOPPING) go STOPPED, each with an
 * OFFLINE event (seeds: 001 section 7.8).
 */

/* The VM id of domain UUID @uuid ("8-4-4-4-12" -> 32 lower-case hex
 * digits) into @out[33]; false when @uuid is not a UUID. */
static bool
vm_id_of(const char *uuid, char out[33])
{
    size_t i, k = 0;

    for (i = 0; uuid[i] && k < 32; i++) {
        char ch = uuid[i];

        if (ch == '-')
            continue;
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
              (ch >= 'A' && ch <= 'F')))
            return false;
        out[k++] = (char)(ch >= 'A' && ch <= 'F' ? ch - 'A' + 'a' : ch);
    }
    out[k] = '\0';
    return k == 32 && uuid[i] == '\0';
}

/* The vmRunState a domain in state @st shows. */
static const char *
vm_state_of(enum hv_dom_state st)
{
    switch (st) {
    case HV_DOM_RUNNING:
    case HV_DOM_BLOCKED:
        return "RUNNING";
    case HV_DOM_PAUSED:
    case HV_DOM_PMSUSPENDED:
        return "SUSPENDED";
    default:
        return "STOPPED";
    }
}

/* Set VM @vm's run state (and server when @server_id is not NULL) with an
 * event of @sev and @type saying @why. 0 or -1. */
static int
vm_set(struct db_txn *t, json_object *vm, const char *state,
       const char *server_id, int sev, const char *type, const char *why)
{
    const struct model_type *vt = model_type_find("Vm");
    json_object *cols = json_object_new_object();
    const char *id = NULL, *name = NULL, *was = NULL;
    int rc;

    json_get_string(vm, "id", &id);
    json_get_string(vm, "name", &name);
    json_get_string(vm, "run_state", &was);
    json_object_object_add(cols, "run_state", json_object_new_string(state));
    if (server_id)
        json_object_object_add(cols, "server_id",
                               json_object_new_string(server_id));
    rc = db_txn_row_update(t, vt, id, cols, true);
    json_object_put(cols);
    if (rc < 0)
        return -1;
    return events_add(t, sev, type, id, "Vm", name, 0, NULL, NULL,
                      "Vm '%s': %s -> %s: %s", name ? name : id,
                      was ? was : "?", state, why);
}

/* True for the states of a VM that a server is running. */
static bool
vm_active(const char *state)
{
    return state && (str_eq(state, "RUNNING") || str_eq(state, "SUSPENDED") ||
                     str_eq(state, "STARTING") || str_eq(state, "STOPPING"));
}

static int
vms_reconcile(struct db_txn *t, const struct mon_server *s,
              const struct hv_dom_stat *doms, size_t n, bool *claimed)
{
    const struct model_type *vt = model_type_find("Vm");
    char **ids = NULL;
    size_t nids = 0, i, k;
    int matched = 0, ret = -1;

    memset(claimed, 0, n * sizeof(*claimed));
    for (i = 0; i < n; i++) {
        json_object *vm;
        const char *state = NULL, *srv = NULL, *want;
        char vid[33];

        if (!vm_id_of(doms[i].uuid, vid))
            continue;
        vm = db_txn_row_get(t, vt, vid);
        if (!vm) {
            if (err_code() != ERR_NOT_FOUND)
                goto cleanup;
            err_clear();
            continue;
        }
        json_get_string(vm, "run_state", &state);
        json_get_string(vm, "server_id", &srv);
        if (state && str_eq(state, "TEMPLATE")) {
            json_object_put(vm);
            continue;
        }
        claimed[i] = true;
        matched++;
        want = vm_state_of(doms[i].state);
        if (!srv || !str_eq(srv, s->id)) {
            if (vm_set(t, vm, want, s->id, SEV_WARNING, "vm.moved",
                       "found on another server than recorded") < 0) {
                json_object_put(vm);
                goto cleanup;
            }
        } else if (!state || !str_eq(state, want)) {
            if (vm_set(t, vm, want, NULL, SEV_INFORMATIONAL,
                       "vm.reconciled", "as the server reports it") < 0) {
                json_object_put(vm);
                goto cleanup;
            }
        }
        json_object_put(vm);
    }
    /* VMs this server should be running that it does not report. */
    if (db_txn_row_ids(t, vt, "server_id", s->id, &ids, &nids) < 0)
        goto cleanup;
    for (k = 0; k < nids; k++) {
        json_object *vm = db_txn_row_get(t, vt, ids[k]);
        const char *state = NULL;
        bool seen = false;

        if (!vm)
            goto cleanup;
        json_get_string(vm, "run_state", &state);
        for (i = 0; i < n && !seen; i++) {
            char vid[33];

            seen = claimed[i] && vm_id_of(doms[i].uuid, vid) &&
                   str_eq(vid, ids[k]);
        }
        if (!seen && vm_active(state) &&
            vm_set(t, vm, "STOPPED", NULL, SEV_WARNING, "vm.missing",
                   "the server does not run it") < 0) {
            json_object_put(vm);
            goto cleanup;
        }
        json_object_put(vm);
    }
    ret = matched;
 cleanup:
    db_ids_free(ids, nids);
    return ret;
}

static int
vms_offline(struct db_txn *t, const struct mon_server *s)
{
    const struct model_type *vt = model_type_find("Vm");
    char **ids = NULL;
    size_t n = 0, k;
    int ret = -1;

    if (db_txn_row_ids(t, vt, "server_id", s->id, &ids, &n) < 0)
        return -1;
    for (k = 0; k < n; k++) {
        json_object *vm = db_txn_row_get(t, vt, ids[k]);
        const char *state = NULL;
        int rc = 0;

        if (!vm)
            goto cleanup;
        json_get_string(vm, "run_state", &state);
        if (vm_active(state))
            rc = vm_set(t, vm, "STOPPED", NULL, SEV_WARNING, "vm.offline",
                        "OFFLINE: its server cannot be reached");
        json_object_put(vm);
        if (rc < 0)
            goto cleanup;
    }
    ret = 0;
 cleanup:
    db_ids_free(ids, n);
    return ret;
}

/* The domains of @r that are neither claimed nor the host itself, as
 * foreignDomains JSON text sorted by name; *count receives how many.
 * Caller frees. */
static char *
foreign_json(const struct mon_result *r, const bool *claimed, size_t *count)
{
    const struct hv_dom_stat **v;
    json_object *arr = json_object_new_array();
    char *text;
    size_t i, n = 0;

    v = xcalloc(r->ndoms ? r->ndoms : 1, sizeof(*v));
    for (i = 0; i < r->ndoms; i++) {
        if (!claimed[i] && !dom_is_host(&r->doms[i]))
            v[n++] = &r->doms[i];
    }
    if (n)
        qsort(v, n, sizeof(*v), dom_cmp_name);
    for (i = 0; i < n; i++) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "name", json_object_new_string(v[i]->name));
        json_object_object_add(o, "uuid", json_object_new_string(v[i]->uuid));
        json_object_object_add(o, "state",
                               json_object_new_string(
                                   dom_state_str(v[i]->state)));
        json_object_array_add(arr, o);
    }
    text = xstrdup(json_object_to_json_string_ext(arr,
                                                  JSON_C_TO_STRING_PLAIN));
    json_object_put(arr);
    xfree(v);
    *count = n;
    return text;
}

/* The "name" members of JSON array text @a that are not in @b, joined
 * with ", " (at most a few hundred bytes); "" when none. Caller frees. */
static char *
names_added(const char *a, const char *b, size_t *n_out)
{
    json_object *ja = json_parse(a, strlen(a)), *jb = NULL;
    char buf[400] = "";
    size_t i, j, na, nb, n = 0, len = 0;

    err_clear();
    if (b)
        jb = json_parse(b, strlen(b));
    err_clear();
    na = ja && json_object_is_type(ja, json_type_array)
             ? json_object_array_length(ja) : 0;
    nb = jb && json_object_is_type(jb, json_type_array)
             ? json_object_array_length(jb) : 0;
    for (i = 0; i < na; i++) {
        json_object *x = json_object_array_get_idx(ja, i), *u, *nm;
        const char *uuid, *name;
        bool found = false;

        if (!json_object_object_get_ex(x, "uuid", &u) ||
            !json_object_object_get_ex(x, "name", &nm))
            continue;
        uuid = json_object_get_string(u);
        name = json_object_get_string(nm);
        for (j = 0; j < nb && !found; j++) {
            json_object *y = json_object_array_get_idx(jb, j), *w;

            found = json_object_object_get_ex(y, "uuid", &w) &&
                    strcmp(json_object_get_string(w), uuid) == 0;
        }
        if (found)
            continue;
        n++;
        if (len + strlen(name) + 8 < sizeof(buf)) {
            len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
                                    len ? ", " : "", name);
        } else if (len + 5 < sizeof(buf) && !strstr(buf, ", ...")) {
            len += (size_t)snprintf(buf + len, sizeof(buf) - len, ", ...");
        }
    }
    json_object_put(ja);
    json_object_put(jb);
    *n_out = n;
    return xstrdup(buf);
}

/* Record a new foreign list @json (different from s->foreign) with its
 * events inside @t. */
static int
apply_foreign(struct db_txn *t, struct mon_server *s, const char *json)
{
    const char *old = s->foreign ? s->foreign : "[]";
    char *AUTOFREE added = NULL;
    char *AUTOFREE removed = NULL;
    size_t nadd, nrem;

    added = names_added(json, old, &nadd);
    removed = names_added(old, json, &nrem);
    if (db_txn_server_set_foreign(t, s->id, json) < 0)
        return -1;
    if (nadd && events_add(t, SEV_WARNING, "server.foreign_domains", s->id,
                           "Server", s->name, 0, NULL, NULL,
                           "Server '%s' runs %zu domain(s) that are no VM of "
                           "this Manager (listed in foreignDomains, not "
                           "adopted): %s", s->name, nadd, added) < 0)
        return -1;
    if (nrem && events_add(t, SEV_INFORMATIONAL, "server.foreign_domains",
                           s->id, "Server", s->name, 0, NULL, NULL,
                           "Server '%s' no longer has %zu foreign "
                           "domain(s): %s", s->name, nrem, removed) < 0)
        return -1;
    return 0;
}

/* A server answered: reconcile (when needed) and queue its sample. */
static void
apply_ok(struct monitor *m, struct mon_server *s, struct mon_result *r,
         struct db_monitor_sample *sample, bool *have_sample)
{
    uint64_t sig = dom_signature(r->doms, r->ndoms);
    bool *claimed = NULL;
    char *AUTOFREE json = NULL;
    char *AUTOFREE state = NULL;
    char *AUTOFREE name = NULL;
    struct db_txn *t = NULL;
    size_t nforeign = 0;
    int nvms = 0;
    bool foreign_changed, back;

    *have_sample = false;
    claimed = xcalloc(r->ndoms ? r->ndoms : 1, sizeof(*claimed));
    /* Cheap test first: nothing changed since the last answer. */
    if (!r->fresh && s->have_sig && sig == s->dom_sig &&
        str_eq(s->db_state, "RUNNING"))
        goto sample;

    t = db_txn_begin(m->db, DB_SYNC_FULL);
    if (!t)
        goto fail;
    /* The foreign list as recorded: read once per server (the monitor
     * keeps it afterwards), not on every cycle -- it is large. */
    if (db_txn_server_run_state(t, s->id, &state, &name,
                                s->foreign ? NULL : &s->foreign) < 0)
        goto fail;
    xfree(s->name);
    s->name = steal_ptr(&name);
    nvms = vms_reconcile(t, s, r->doms, r->ndoms, claimed);
    if (nvms < 0)
        goto fail;
    json = foreign_json(r, claimed, &nforeign);
    foreign_changed = !s->foreign || strcmp(json, s->foreign) != 0;
    if (foreign_changed && apply_foreign(t, s, json) < 0)
        goto fail;
    /* Only the state the monitor owns: UNKNOWN -> RUNNING. */
    back = str_eq(state, "UNKNOWN");
    if (back) {
        if (db_txn_server_set_run_state(t, s->id, "RUNNING", NULL) < 0 ||
            events_add(t, SEV_INFORMATIONAL, "server.reachable", s->id,
                       "Server", s->name, 0, NULL, NULL,
                       "Server '%s' is reachable again", s->name) < 0)
            goto fail;
    } else if (r->fresh && db_txn_server_set_monitor_error(t, s->id,
                                                           NULL) < 0) {
        goto fail;
    }
    if (db_txn_commit(t) < 0) {
        t = NULL;
        goto fail;
    }
    t = NULL;
    if (back) {
        xfree(state);
        state = xstrdup("RUNNING");
        log_info("server '%s' is reachable again: RUNNING", s->name);
    }
    xfree(s->db_state);
    s->db_state = steal_ptr(&state);
    if (foreign_changed) {
        xfree(s->foreign);
        s->foreign = steal_ptr(&json);
    }
    s->dom_sig = sig;
    s->have_sig = true;
    if (r->fresh) {
        pthread_mutex_lock(&m->lock);
        m->stats.reconciliations++;
        pthread_mutex_unlock(&m->lock);
        log_info("reconciled server '%s': %zu domain(s), %d VM(s), %zu "
                 "foreign", s->name, r->ndoms, nvms, nforeign);
    }

 sample:
    xfree(claimed);
    if (!str_eq(s->db_state, "RUNNING"))
        return;
    sample->id = s->id;
    sample->cpu_pct = r->cpu_pct;
    sample->memory_pct = r->memory_pct;
    sample->memory_used_mib = r->memory_used_mib;
    sample->memory_free_mib = r->memory_free_mib;
    sample->running = r->running;
    sample->sampled_ms = r->sampled_ms;
    *have_sample = true;
    return;

 fail:
    log_warnx("cannot reconcile server '%s': %s", s->name, err_message());
    db_txn_rollback(t);
    err_clear();
    /* Try again on the next answer. */
    s->have_sig = false;
    xfree(claimed);
}

/* A server did not answer: RUNNING -> UNKNOWN with an event. */
static void
apply_fail(struct monitor *m, struct mon_server *s, const char *why)
{
    char *AUTOFREE state = NULL;
    char *AUTOFREE name = NULL;
    struct db_txn *t;

    s->have_sig = false;   /* the next answer reconciles */
    if (!str_eq(s->db_state, "RUNNING")) {
        log_debug("server '%s' still unreachable: %s", s->name, why);
        return;
    }
    t = db_txn_begin(m->db, DB_SYNC_FULL);
    if (!t)
        goto fail;
    if (db_txn_server_run_state(t, s->id, &state, &name, NULL) < 0)
        goto fail;
    xfree(s->name);
    s->name = steal_ptr(&name);
    if (!str_eq(state, "RUNNING")) {
        /* A job changed it meanwhile: its state stands. */
        db_txn_rollback(t);
        xfree(s->db_state);
        s->db_state = steal_ptr(&state);
        return;
    }
    if (db_txn_server_set_run_state(t, s->id, "UNKNOWN", why) < 0 ||
        vms_offline(t, s) < 0 ||
        events_add(t, SEV_ERROR, "server.unreachable", s->id, "Server",
                   s->name, 0, NULL, NULL, "Server '%s' is unreachable: %s",
                   s->name, why) < 0)
        goto fail;
    if (db_txn_commit(t) < 0)
        goto fail_committed;
    xfree(s->db_state);
    s->db_state = xstrdup("UNKNOWN");
    log_warnx("server '%s' is unreachable: %s", s->name, why);
    return;

 fail:
    db_txn_rollback(t);
 fail_committed:
    log_warnx("cannot record that server '%s' is unreachable: %s", s->name,
              err_message());
    err_clear();
}

/* ---- cycles (the coordinator) ---- */

/* The server with @id in the sorted array, or NULL. */
static struct mon_server *
find_server(struct monitor *m, const char *id)
{
    size_t lo = 0, hi = m->nsrv;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(m->srv[mid]->id, id);

        if (c == 0)
            return m->srv[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Re-read the server list: add new servers, update known ones, drop
 * deleted ones (kept as zombies while a visit runs). */
static int
sync_servers(struct monitor *m)
{
    struct db_monitor_server *rows = NULL;
    struct mon_server **nv;
    const char **ids;
    size_t n = 0, i, j;

    if (db_monitor_servers(m->db, &rows, &n) < 0)
        return -1;
    nv = xcalloc(n ? n : 1, sizeof(*nv));
    ids = xcalloc(n ? n : 1, sizeof(*ids));
    for (i = 0; i < n; i++) {
        struct mon_server *s = find_server(m, rows[i].id);

        if (!s) {
            s = xcalloc(1, sizeof(*s));
            s->id = xstrdup(rows[i].id);
            log_info("watching server '%s' (%s)", rows[i].name,
                     rows[i].uri);
        }
        xfree(s->name);
        s->name = xstrdup(rows[i].name);
        xfree(s->db_state);
        s->db_state = xstrdup(rows[i].run_state);
        s->db_cpus = rows[i].cpus;
        s->db_memory_mib = rows[i].memory_mib;
        registry_put(m->reg, rows[i].id, rows[i].uri, rows[i].login,
                     rows[i].password);
        nv[i] = s;
        ids[i] = nv[i]->id;
    }
    /* Rows are ordered by id, like m->srv: one merge finds the gone. */
    for (i = 0, j = 0; i < m->nsrv; i++) {
        struct mon_server *s = m->srv[i];

        while (j < n && strcmp(nv[j]->id, s->id) < 0)
            j++;
        if (j < n && nv[j] == s)
            continue;
        log_info("no longer watching server '%s': deleted", s->name);
        pthread_mutex_lock(&m->lock);
        if (s->busy) {
            s->gone = true;
            m->zombies = xrealloc(m->zombies,
                                  (m->nzombies + 1) * sizeof(*m->zombies));
            m->zombies[m->nzombies++] = s;
            s = NULL;
        }
        pthread_mutex_unlock(&m->lock);
        server_free(s);
    }
    registry_retain(m->reg, ids, n);
    xfree(ids);
    xfree(m->srv);
    m->srv = nv;
    m->nsrv = n;
    db_monitor_servers_free(rows, n);
    return 0;
}

/* Does the monitor watch a server in this state? */
static bool
watched(const struct mon_server *s)
{
    return str_eq(s->db_state, "RUNNING") || str_eq(s->db_state, "UNKNOWN");
}

/*
 * One round: visit the servers (all watched ones when @full, else only
 * those due for a reconnection attempt), wait for their answers up to
 * timeout_ms, apply every result that is ready. Coordinator only.
 */
static void
run_round(struct monitor *m, bool full)
{
    struct db_monitor_sample *samples;
    struct mon_server **mine, **ready;
    size_t i, nmine = 0, nready = 0, nsamples = 0, answered = 0, ndoms = 0;
    int64_t now = time_mono_ms(), start = now, deadline;

    mine = xcalloc(m->nsrv ? m->nsrv : 1, sizeof(*mine));
    pthread_mutex_lock(&m->lock);
    for (i = 0; i < m->nsrv; i++) {
        struct mon_server *s = m->srv[i];
        bool conn;
        int64_t next;

        if (s->busy || !watched(s))
            continue;
        conn = registry_connected(m->reg, s->id);
        if (!full && conn)
            continue;
        next = registry_next_attempt(m->reg, s->id);
        if (!conn && next > now)
            continue;
        s->busy = true;
        s->done = false;
        s->timed_out = false;
        s->dispatched_ms = now;
        pool_push(&m->pools[conn ? POOL_POLL : POOL_CONNECT], s);
        mine[nmine++] = s;
    }
    /* Wait for this round's visits, up to timeout_ms. */
    deadline = now + m->timeout_ms;
    for (;;) {
        size_t left = 0;
        struct timespec ts;
        int64_t wall;

        for (i = 0; i < nmine; i++)
            left += !mine[i]->done;
        if (left == 0 || m->stop_visitors ||
            (m->coord_running && m->stop_coord))
            break;
        now = time_mono_ms();
        if (now >= deadline)
            break;
        /* done_cond waits on CLOCK_REALTIME (default); convert. */
        wall = time_now_ms() + (deadline - now);
        ts.tv_sec = (time_t)(wall / 1000);
        ts.tv_nsec = (long)(wall % 1000) * 1000000L;
        pthread_cond_timedwait(&m->done_cond, &m->lock, &ts);
    }
    /* Take every finished visit (this round's and late ones). */
    ready = xcalloc(m->nsrv + m->nzombies + 1, sizeof(*ready));
    for (i = 0; i < m->nsrv; i++) {
        struct mon_server *s = m->srv[i];

        if (s->busy && s->done) {
            s->busy = false;
            s->done = false;
            ready[nready++] = s;
        }
    }
    for (i = 0; i < m->nzombies;) {
        struct mon_server *s = m->zombies[i];

        if (s->done) {
            m->zombies[i] = m->zombies[--m->nzombies];
            server_free(s);
        } else {
            i++;
        }
    }
    pthread_mutex_unlock(&m->lock);

    samples = xcalloc(nready + 1, sizeof(*samples));
    for (i = 0; i < nready; i++) {
        struct mon_server *s = ready[i];
        bool have = false;

        if (s->res.ok) {
            answered++;
            ndoms += s->res.ndoms;
            apply_ok(m, s, &s->res, &samples[nsamples], &have);
            nsamples += have;
        } else {
            apply_fail(m, s, s->res.error);
        }
    }
    if (db_monitor_put_samples(m->db, samples, nsamples) < 0) {
        log_warnx("cannot record utilization: %s", err_message());
        err_clear();
    }
    for (i = 0; i < nready; i++) {
        xfree(ready[i]->res.doms);
        ready[i]->res.doms = NULL;
        ready[i]->res.ndoms = 0;
    }
    /* Visits still running past the deadline: the server did not answer
     * in time (reported once per visit). */
    now = time_mono_ms();
    for (i = 0; i < m->nsrv; i++) {
        struct mon_server *s = m->srv[i];
        bool late;
        char why[128];

        pthread_mutex_lock(&m->lock);
        late = s->busy && !s->done && !s->timed_out &&
               now - s->dispatched_ms >= m->timeout_ms;
        if (late)
            s->timed_out = true;
        pthread_mutex_unlock(&m->lock);
        if (!late)
            continue;
        snprintf(why, sizeof(why), "no answer within %lld s",
                 (long long)(m->timeout_ms / 1000 ? m->timeout_ms / 1000
                                                  : 1));
        apply_fail(m, s, why);
    }
    if (full) {
        size_t watched_n = 0;

        for (i = 0; i < m->nsrv; i++)
            watched_n += watched(m->srv[i]);
        pthread_mutex_lock(&m->lock);
        m->stats.cycles++;
        m->stats.servers = watched_n;
        m->stats.answered = answered;
        m->stats.unreachable = watched_n - answered;
        m->stats.domains = ndoms;
        m->stats.last_cycle_ms = time_mono_ms() - start;
        pthread_mutex_unlock(&m->lock);
    }
    xfree(samples);
    xfree(ready);
    xfree(mine);
}

/* Earliest monotonic time a reconnection attempt is due, or INT64_MAX. */
static int64_t
next_attempt(struct monitor *m)
{
    int64_t best = INT64_MAX;
    size_t i;

    for (i = 0; i < m->nsrv; i++) {
        struct mon_server *s = m->srv[i];
        int64_t t;
        bool busy;

        pthread_mutex_lock(&m->lock);
        busy = s->busy;
        pthread_mutex_unlock(&m->lock);
        if (busy || !watched(s) || registry_connected(m->reg, s->id))
            continue;
        t = registry_next_attempt(m->reg, s->id);
        if (t >= 0 && t < best)
            best = t;
    }
    return best;
}

static int
cycle(struct monitor *m)
{
    if (sync_servers(m) < 0) {
        log_warnx("monitoring cycle skipped: %s", err_message());
        return -1;
    }
    run_round(m, true);
    return 0;
}

static void *
monitor_main(void *arg)
{
    struct monitor *m = arg;
    int64_t next_cycle = 0, now, wake;
    struct timespec ts;

    log_info("monitor started: every %lld ms, timeout %lld ms",
             (long long)m->interval_ms, (long long)m->timeout_ms);
    for (;;) {
        pthread_mutex_lock(&m->lock);
        if (m->stop_coord) {
            pthread_mutex_unlock(&m->lock);
            break;
        }
        pthread_mutex_unlock(&m->lock);
        now = time_mono_ms();
        if (now >= next_cycle) {
            next_cycle = now + m->interval_ms;
            if (cycle(m) < 0)
                err_clear();
        } else {
            run_round(m, false);
        }
        wake = next_attempt(m);
        if (wake > next_cycle)
            wake = next_cycle;
        now = time_mono_ms();
        pthread_mutex_lock(&m->lock);
        if (!m->stop_coord && wake > now) {
            int64_t wall = time_now_ms() + (wake - now);

            ts.tv_sec = (time_t)(wall / 1000);
            ts.tv_nsec = (long)(wall % 1000) * 1000000L;
            pthread_cond_timedwait(&m->wake, &m->lock, &ts);
        }
        pthread_mutex_unlock(&m->lock);
    }
    log_info("monitor stopped");
    return NULL;
}

/* ---- lifecycle ---- */

struct monitor *
monitor_new(const struct monitor_conf *conf)
{
    struct registry_conf rc = {
        .driver = conf->driver,
        .backoff_min_ms = conf->backoff_min_ms,
        .backoff_max_ms = conf->backoff_max_ms,
    };
    struct monitor *m = xcalloc(1, sizeof(*m));
    int p, i, e;

    m->db = conf->db;
    m->drv = conf->driver ? conf->driver : &hv_libvirt;
    m->interval_ms = conf->interval_ms > 0 ? conf->interval_ms : 10000;
    m->timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms : 5000;
    m->reg = registry_new(&rc);
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->done_cond, NULL);
    pthread_cond_init(&m->wake, NULL);
    for (p = 0; p < NPOOLS; p++) {
        struct mon_pool *pool = &m->pools[p];

        pthread_cond_init(&pool->cond, NULL);
        pool->nthreads = conf->threads > 0 ? conf->threads : 4;
        pool->threads = xcalloc((size_t)pool->nthreads,
                                sizeof(*pool->threads));
    }
    for (p = 0; p < NPOOLS; p++) {
        struct mon_pool *pool = &m->pools[p];

        for (i = 0; i < pool->nthreads; i++) {
            void **arg = xcalloc(2, sizeof(*arg));

            arg[0] = m;
            arg[1] = pool;
            e = pthread_create(&pool->threads[i], NULL, visitor_main, arg);
            if (e != 0) {
                xfree(arg);
                pool->nthreads = i;
                err_set(ERR_INTERNAL, "cannot start a monitor thread: %s",
                        strerror(e));
                monitor_free(m);
                return NULL;
            }
        }
    }
    return m;
}

int
monitor_start(struct monitor *m)
{
    int e;

    pthread_mutex_lock(&m->lock);
    if (m->coord_running) {
        pthread_mutex_unlock(&m->lock);
        err_set(ERR_STATE, "the monitor is already running");
        return -1;
    }
    m->stop_coord = false;
    m->coord_running = true;
    pthread_mutex_unlock(&m->lock);
    e = pthread_create(&m->coord, NULL, monitor_main, m);
    if (e != 0) {
        pthread_mutex_lock(&m->lock);
        m->coord_running = false;
        pthread_mutex_unlock(&m->lock);
        err_set(ERR_INTERNAL, "cannot start the monitor: %s", strerror(e));
        return -1;
    }
    return 0;
}

void
monitor_stop(struct monitor *m)
{
    bool running;

    if (!m)
        return;
    pthread_mutex_lock(&m->lock);
    running = m->coord_running;
    m->stop_coord = true;
    pthread_cond_broadcast(&m->wake);
    pthread_cond_broadcast(&m->done_cond);
    pthread_mutex_unlock(&m->lock);
    if (!running)
        return;
    pthread_join(m->coord, NULL);
    pthread_mutex_lock(&m->lock);
    m->coord_running = false;
    pthread_mutex_unlock(&m->lock);
}

void
monitor_free(struct monitor *m)
{
    size_t i;
    int p, t;

    if (!m)
        return;
    monitor_stop(m);
    pthread_mutex_lock(&m->lock);
    m->stop_visitors = true;
    for (p = 0; p < NPOOLS; p++)
        pthread_cond_broadcast(&m->pools[p].cond);
    pthread_mutex_unlock(&m->lock);
    /* A visit in progress finishes first (a hung call ends when libvirt's
     * keepalive gives up on the connection). */
    for (p = 0; p < NPOOLS; p++) {
        for (t = 0; t < m->pools[p].nthreads; t++)
            pthread_join(m->pools[p].threads[t], NULL);
        xfree(m->pools[p].threads);
        xfree(m->pools[p].q);
        pthread_cond_destroy(&m->pools[p].cond);
    }
    for (i = 0; i < m->nsrv; i++)
        server_free(m->srv[i]);
    for (i = 0; i < m->nzombies; i++)
        server_free(m->zombies[i]);
    xfree(m->srv);
    xfree(m->zombies);
    registry_free(m->reg);
    pthread_cond_destroy(&m->wake);
    pthread_cond_destroy(&m->done_cond);
    pthread_mutex_destroy(&m->lock);
    xfree(m);
}

int
monitor_cycle(struct monitor *m)
{
    bool running;

    pthread_mutex_lock(&m->lock);
    running = m->coord_running;
    pthread_mutex_unlock(&m->lock);
    if (running) {
        err_set(ERR_STATE, "the monitor runs its own cycles");
        return -1;
    }
    return cycle(m);
}

void
monitor_get_stats(struct monitor *m, struct monitor_stats *out)
{
    pthread_mutex_lock(&m->lock);
    *out = m->stats;
    pthread_mutex_unlock(&m->lock);
}
