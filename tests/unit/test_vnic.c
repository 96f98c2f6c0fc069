/*
 * test_vnic.c - unit tests of VNICs and MAC ranges (src/jobs/op_vnic.c,
 * src/db/db_vnic.c; docs/NETWORKS.md, "VNICs and MAC ranges").
 *
 * DESIGN: the MAC text helpers are table-driven. The rules and the
 * allocation run on a fresh database per test (the migrations seed the
 * default range 02:21:f6:00:00:00-02:21:f6:ff:ff:ff) with VMs, networks
 * and VNICs inserted through the generic rows, read through the reader
 * and through a write transaction as the jobs do. The undo of every
 * operation is driven in the real engine with jobs of [operation,
 * diag.fail], as test_vdisk.c does (a one-operation job is never undone):
 * what the operation made must go, what it changed must come back
 * exactly (generation and times included).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tmpdir.h"
#include "db/db.h"
#include "jobs/jobs.h"
#include "jobs/network.h"
#include "jobs/storage.h"
#include "model/model.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"

#define WAIT_MS 15000
#define VM_HVM "0004fb0000060000aaaaaaaaaaaa0001"
#define VM_PVM "0004fb0000060000aaaaaaaaaaaa0002"
#define VM_SUSP "0004fb0000060000aaaaaaaaaaaa0003"
#define NET_VM "0004fb0000100000aaaaaaaaaaaa0001"
#define NET_ST "0004fb0000100000aaaaaaaaaaaa0002"
#define DEFAULT_RANGE "0004fb0000a10000000000000000d3f0"
#define DEF_START UINT64_C(0x0221f6000000)

struct fixture {
    char dir[64];
    char *path;
    struct db *db;
    bool engine;
};

static int
setup(void **state)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));

    if (tmpdir_make(fx->dir, sizeof(fx->dir), "vnic") < 0) {
        xfree(fx);
        return -1;
    }
    fx->path = xasprintf("%s/ovmm.db", fx->dir);
    fx->db = db_open(fx->path);
    if (!fx->db)
        return -1;
    err_clear();
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;

    if (fx->engine)
        jobs_stop(0);
    db_close(fx->db);
    tmpdir_remove(fx->dir);
    xfree(fx->path);
    xfree(fx);
    return 0;
}

/* ---- helpers ---- */

static const struct model_type *
ty(const char *name)
{
    const struct model_type *t = model_type_find(name);

    assert_non_null(t);
    return t;
}

static json_object *
J(const char *text)
{
    json_object *o = json_tokener_parse(text);

    assert_non_null(o);
    return o;
}

static void
must_insert(struct db *db, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
must_insert(struct db *db, const char *type, const char *fmt, ...)
{
    struct db_txn *t = db_txn_begin(db, DB_SYNC_NORMAL);
    json_object *row;
    va_list ap;
    char *text;

    va_start(ap, fmt);
    text = xvasprintf(fmt, ap);
    va_end(ap);
    row = J(text);
    assert_non_null(t);
    if (db_txn_row_insert(t, ty(type), row) < 0)
        fail_msg("insert %s %s: %s", type, text, err_message());
    assert_int_equal(db_txn_commit(t), 0);
    json_object_put(row);
    xfree(text);
}

/* VNIC @id of VM @vm in slot @slot with address @mac. */
static void
add_nic(struct fixture *fx, const char *id, const char *vm, int slot,
        uint64_t mac)
{
    char text[18];

    net_mac_format(mac, text);
    must_insert(fx->db, "VirtualNic", "{\"id\": \"%s\", \"name\": \"%s\", "
                "\"vm_id\": \"%s\", \"network_id\": \"" NET_VM "\", "
                "\"mac_address\": \"%s\", \"mac_int\": %" PRIu64 ", "
                "\"slot\": %d}", id, id, vm, text, mac, slot);
}

/* Three VMs (XEN_HVM STOPPED, XEN_PVM STOPPED, XEN_HVM SUSPENDED) and two
 * networks (VIRTUAL_MACHINE, STORAGE). */
static void
world(struct fixture *fx)
{
    must_insert(fx->db, "Vm", "{\"id\": \"" VM_HVM "\", \"name\": \"hvm\", "
                "\"run_state\": \"STOPPED\", \"domain_type\": \"XEN_HVM\"}");
    must_insert(fx->db, "Vm", "{\"id\": \"" VM_PVM "\", \"name\": \"pvm\", "
                "\"run_state\": \"STOPPED\", \"domain_type\": \"XEN_PVM\"}");
    must_insert(fx->db, "Vm", "{\"id\": \"" VM_SUSP "\", \"name\": "
                "\"susp\", \"run_state\": \"SUSPENDED\", \"domain_type\": "
                "\"XEN_HVM\"}");
    must_insert(fx->db, "Network", "{\"id\": \"" NET_VM "\", \"name\": "
                "\"vmnet\", \"roles\": \"[\\\"VIRTUAL_MACHINE\\\"]\"}");
    must_insert(fx->db, "Network", "{\"id\": \"" NET_ST "\", \"name\": "
                "\"stnet\", \"roles\": \"[\\\"STORAGE\\\"]\"}");
}

/* The thread's error is @code with a message containing @part. */
static void
err_is(enum err_code code, const char *part)
{
    if (err_code() != code || !strstr(err_message(), part))
        fail_msg("expected %s '...%s...', got %s '%s'", err_code_str(code),
                 part, err_code_str(err_code()), err_message());
    err_clear();
}

/* Exact text of row @id of @type ("null" when absent). Caller frees. */
static char *
row_text(struct fixture *fx, const char *type, const char *id)
{
    json_object *r = db_row_get(fx->db, ty(type), id);
    char *s;

    if (!r)
        err_clear();
    s = xstrdup(r ? json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN)
                  : "null");
    json_object_put(r);
    return s;
}

/* ---- MAC text ---- */

static const struct {
    const char *text;
    uint64_t mac;        /* when ok */
    bool ok;
} mac_cases[] = {
    { "00:21:f6:0f:d6:2c", UINT64_C(0x0021f60fd62c), true },
    { "00:21:F6:0F:D6:2C", UINT64_C(0x0021f60fd62c), true },
    { "00-21-f6-0F-d6-2c", UINT64_C(0x0021f60fd62c), true },
    { "ff:ff:ff:ff:ff:ff", UINT64_C(0xffffffffffff), true },
    { "00:00:00:00:00:00", 0, true },
    { "02:21:f6:ff:ff:ff", UINT64_C(0x0221f6ffffff), true },
    { "", 0, false },
    { "00:21:f6:0f:d6", 0, false },              /* five octets */
    { "00:21:f6:0f:d6:2c:11", 0, false },        /* seven */
    { "00:21:f6:0f:d6:2", 0, false },            /* short last octet */
    { "0:21:f6:0f:d6:2c0", 0, false },           /* digits misplaced */
    { "00:21-f6:0f:d6:2c", 0, false },           /* mixed separators */
    { "00.21.f6.0f.d6.2c", 0, false },           /* other separator */
    { "0021f60fd62c", 0, false },                /* no separators */
    { "00:21:f6:0f:d6:2g", 0, false },           /* not hex */
    { "00:21:f6:0f:d6:2c ", 0, false },          /* trailing space */
    { " 00:21:f6:0f:d6:2c", 0, false },          /* leading space */
    { "00:21:f6:0f:d6:+c", 0, false },
    { "00::21:f6:0f:d6:2", 0, false },
};

static void
test_mac_parse(void **state)
{
    size_t i;
    uint64_t v;
    char out[18];

    (void)state;
    for (i = 0; i < sizeof(mac_cases) / sizeof(mac_cases[0]); i++) {
        v = 12345;
        err_clear();
        if (mac_cases[i].ok) {
            if (net_mac_parse("'m'", mac_cases[i].text, &v) != 0)
                fail_msg("'%s' refused: %s", mac_cases[i].text,
                         err_message());
            assert_true(v == mac_cases[i].mac);
        } else {
            if (net_mac_parse("'m'", mac_cases[i].text, &v) != -1)
                fail_msg("'%s' accepted", mac_cases[i].text);
            assert_int_equal(err_code(), ERR_INVALID);
            assert_non_null(strstr(err_message(), "'m' is not a MAC "
                                                  "address"));
            assert_true(v == 12345);   /* untouched */
        }
    }
    assert_int_equal(net_mac_parse("'m'", NULL, &v), -1);
    err_is(ERR_INVALID, "not a MAC address");
    /* A long text is cut in the message. */
    assert_int_equal(net_mac_parse("'m'", "0123456789012345678901234567890"
                                          "123456789012345678901234567890",
                                   &v), -1);
    assert_true(strlen(err_message()) < 200);
    err_clear();

    /* format: lower case, zero-padded, 17 characters, round trip */
    net_mac_format(UINT64_C(0x0021f60fd62c), out);
    assert_string_equal(out, "00:21:f6:0f:d6:2c");
    net_mac_format(0, out);
    assert_string_equal(out, "00:00:00:00:00:00");
    net_mac_format(UINT64_C(0xffffffffffff), out);
    assert_string_equal(out, "ff:ff:ff:ff:ff:ff");
    /* bits above 48 are not an address's */
    net_mac_format(UINT64_C(0x1230a0b0c0d0e0f), out);
    assert_string_equal(out, "0a:0b:0c:0d:0e:0f");
    for (i = 0; i < sizeof(mac_cases) / sizeof(mac_cases[0]); i++) {
        if (!mac_cases[i].ok)
            continue;
        net_mac_format(mac_cases[i].mac, out);
        assert_int_equal(net_mac_parse("'m'", out, &v), 0);
        assert_true(v == mac_cases[i].mac);
    }
}

static void
test_mac_unicast(void **state)
{
    (void)state;
    assert_int_equal(net_mac_check_unicast("'m'", UINT64_C(0x0021f60fd62c)),
                     0);
    assert_int_equal(net_mac_check_unicast("'m'", UINT64_C(0xfeffffffffff)),
                     0);
    assert_int_equal(net_mac_check_unicast("'m'", UINT64_C(0x01005e000001)),
                     -1);
    err_is(ERR_INVALID, "'m' '01:00:5e:00:00:01' is a multicast address");
    assert_int_equal(net_mac_check_unicast("'m'", UINT64_C(0xffffffffffff)),
                     -1);
    err_is(ERR_INVALID, "multicast");
    assert_int_equal(net_mac_check_unicast("'m'", 0), -1);
    err_is(ERR_INVALID, "null address");
    assert_int_equal(net_vnic_limit("XEN_PVM"), 31);
    assert_int_equal(net_vnic_limit("XEN_HVM"), 8);
    assert_int_equal(net_vnic_limit("XEN_HVM_PV_DRIVERS"), 8);
    assert_int_equal(net_vnic_limit("KVM"), 8);
    assert_int_equal(net_vnic_limit(NULL), 8);
}

/* ---- rules and allocation ---- */

/* The allocation through the reader and through a transaction agree;
 * the address, or -1 with the error kept. */
static int64_t
alloc_both(struct fixture *fx)
{
    struct storage_view rv = { fx->db, NULL }, tv = { NULL, NULL };
    struct db_txn *t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    uint64_t a = 0, b = 0;
    int ra, rb;
    struct err e;

    assert_non_null(t);
    tv.t = t;
    rb = net_mac_alloc(&tv, &b);
    e = *err_get();
    db_txn_rollback(t);
    err_clear();
    ra = net_mac_alloc(&rv, &a);
    assert_int_equal(ra, rb);
    if (ra < 0) {
        assert_string_equal(err_message(), e.message);
        return -1;
    }
    assert_true(a == b);
    return (int64_t)a;
}

static void
test_alloc(void **state)
{
    struct fixture *fx = *state;
    struct storage_view v = { fx->db, NULL };

    world(fx);
    /* empty: the default range's start */
    assert_true(alloc_both(fx) == (int64_t)DEF_START);
    /* start taken: the next; a gap is found before the end */
    add_nic(fx, "n0", VM_PVM, 0, DEF_START);
    add_nic(fx, "n1", VM_PVM, 1, DEF_START + 1);
    add_nic(fx, "n3", VM_PVM, 2, DEF_START + 3);
    assert_true(alloc_both(fx) == (int64_t)(DEF_START + 2));
    add_nic(fx, "n2", VM_PVM, 3, DEF_START + 2);
    assert_true(alloc_both(fx) == (int64_t)(DEF_START + 4));
    /* an address outside every range changes nothing */
    add_nic(fx, "x1", VM_PVM, 4, UINT64_C(0x525400123456));
    assert_true(alloc_both(fx) == (int64_t)(DEF_START + 4));

    /* a lower range comes first; full ranges are skipped */
    must_insert(fx->db, "MacRange", "{\"id\": \"low\", \"name\": \"low\", "
                "\"start_mac\": 2, \"end_mac\": 3, \"start_address\": "
                "\"00:00:00:00:00:02\", \"end_address\": "
                "\"00:00:00:00:00:03\"}");
    assert_int_equal(alloc_both(fx), 2);
    add_nic(fx, "l2", VM_PVM, 5, 2);
    assert_int_equal(alloc_both(fx), 3);
    add_nic(fx, "l3", VM_PVM, 6, 3);
    assert_true(alloc_both(fx) == (int64_t)(DEF_START + 4));

    /* the last address of a range, then none */
    {
        struct db_txn *t = db_txn_begin(fx->db, DB_SYNC_NORMAL);

        assert_non_null(t);
        assert_int_equal(db_txn_row_delete(t, ty("MacRange"), DEFAULT_RANGE),
                         0);
        assert_int_equal(db_txn_commit(t), 0);
    }
    must_insert(fx->db, "MacRange", "{\"id\": \"top\", \"name\": \"top\", "
                "\"start_mac\": 281474976710650, \"end_mac\": "
                "281474976710651, \"start_address\": \"ff:ff:ff:ff:ff:fa\", "
                "\"end_address\": \"ff:ff:ff:ff:ff:fb\"}");
    add_nic(fx, "t0", VM_HVM, 0, UINT64_C(281474976710650));
    assert_true(alloc_both(fx) == (int64_t)UINT64_C(281474976710651));
    add_nic(fx, "t1", VM_HVM, 1, UINT64_C(281474976710651));
    assert_int_equal(alloc_both(fx), -1);
    err_is(ERR_STATE, "no free MAC address in the MAC ranges (4 addresses "
                      "in 2 ranges, all in use)");
    {
        struct db_txn *t = db_txn_begin(fx->db, DB_SYNC_NORMAL);

        assert_non_null(t);
        assert_int_equal(db_txn_row_delete(t, ty("MacRange"), "top"), 0);
        assert_int_equal(db_txn_row_delete(t, ty("MacRange"), "low"), 0);
        assert_int_equal(db_txn_commit(t), 0);
    }
    assert_int_equal(alloc_both(fx), -1);
    err_is(ERR_STATE, "there is no MAC range");
    (void)v;
}

static void
test_range_rules(void **state)
{
    struct fixture *fx = *state;
    struct storage_view v = { fx->db, NULL };

    /* inside and around the default range */
    assert_int_equal(net_check_macrange(&v, NULL, DEF_START - 256,
                                        DEF_START - 1), 0);
    assert_int_equal(net_check_macrange(&v, NULL, DEF_START + 0xffffff + 1,
                                        DEF_START + 0xffffff + 10), 0);
    assert_int_equal(net_check_macrange(&v, NULL, DEF_START - 1, DEF_START),
                     -1);
    err_is(ERR_EXISTS, "overlaps MAC range 'Default' (02:21:f6:00:00:00-"
                       "02:21:f6:ff:ff:ff)");
    assert_int_equal(net_check_macrange(&v, NULL, DEF_START + 0xffffff,
                                        DEF_START + 0xffffff + 1), -1);
    err_is(ERR_EXISTS, "overlaps");
    assert_int_equal(net_check_macrange(&v, NULL, DEF_START + 5,
                                        DEF_START + 6), -1);
    err_is(ERR_EXISTS, "overlaps");
    /* a range never overlaps itself */
    assert_int_equal(net_check_macrange(&v, DEFAULT_RANGE, DEF_START,
                                        DEF_START + 10), 0);
    /* one address is a range */
    assert_int_equal(net_check_macrange(&v, NULL, 2, 2), 0);
    assert_int_equal(net_check_macrange(&v, NULL, 3, 2), -1);
    err_is(ERR_INVALID, "comes after");
    assert_int_equal(net_check_macrange(&v, NULL, 0, 2), -1);
    err_is(ERR_INVALID, "null address");
    assert_int_equal(net_check_macrange(&v, NULL, UINT64_C(0x0100000000),
                                        UINT64_C(0x010000000000)), -1);
    err_is(ERR_INVALID, "'endMacAddress' '01:00:00:00:00:00' is a multicast");
    assert_int_equal(net_check_macrange(&v, NULL, UINT64_C(0x02ffffffff00),
                                        UINT64_C(0x040000000000)), -1);
    err_is(ERR_INVALID, "spans more than one first octet");
}

static void
test_vnic_rules(void **state)
{
    struct fixture *fx = *state;
    struct storage_view v = { fx->db, NULL };
    char id[16];
    int i;

    world(fx);
    assert_int_equal(net_check_vnic_network(&v, NET_VM), 0);
    assert_int_equal(net_check_vnic_network(&v, NET_ST), -1);
    err_is(ERR_STATE, "network 'stnet' does not have the VIRTUAL_MACHINE");
    assert_int_equal(net_check_vnic_network(&v, "nope"), -1);
    err_is(ERR_NOT_FOUND, "nope");
    assert_int_equal(net_check_vnic_add(&v, "nope", NET_VM, false, 0), -1);
    err_is(ERR_NOT_FOUND, "nope");
    assert_int_equal(net_check_vnic_add(&v, VM_SUSP, NET_VM, false, 0), -1);
    err_is(ERR_STATE, "cannot add a VNIC to VM 'susp' while it is "
                      "SUSPENDED");
    assert_int_equal(net_check_vnic_add(&v, VM_HVM, NET_ST, false, 0), -1);
    err_is(ERR_STATE, "VIRTUAL_MACHINE");

    /* eight on the HVM guest, then no more */
    for (i = 0; i < 8; i++) {
        assert_int_equal(net_check_vnic_add(&v, VM_HVM, NET_VM, false, 0),
                         0);
        snprintf(id, sizeof(id), "h%d", i);
        add_nic(fx, id, VM_HVM, i, DEF_START + (uint64_t)i);
    }
    assert_int_equal(net_check_vnic_add(&v, VM_HVM, NET_VM, false, 0), -1);
    err_is(ERR_STATE, "VM 'hvm' has 8 VNICs already, the most a XEN_HVM VM "
                      "can have");
    /* thirty-one on the PVM guest */
    for (i = 0; i < 31; i++) {
        assert_int_equal(net_check_vnic_add(&v, VM_PVM, NET_VM, false, 0),
                         0);
        snprintf(id, sizeof(id), "p%d", i);
        add_nic(fx, id, VM_PVM, i, DEF_START + 100 + (uint64_t)i);
    }
    assert_int_equal(net_check_vnic_add(&v, VM_PVM, NET_VM, false, 0), -1);
    err_is(ERR_STATE, "the most a XEN_PVM VM can have");

    /* an explicit address another VNIC has */
    must_insert(fx->db, "Vm", "{\"id\": \"vm4\", \"name\": \"four\"}");
    assert_int_equal(net_check_vnic_add(&v, "vm4", NET_VM, true,
                                        DEF_START + 3), -1);
    err_is(ERR_EXISTS, "MAC address '02:21:f6:00:00:03' is used by VNIC "
                       "'h3' of VM 'hvm'");
    assert_int_equal(net_check_vnic_add(&v, "vm4", NET_VM, true,
                                        DEF_START + 50), 0);

    /* removal */
    add_nic(fx, "s0", VM_SUSP, 0, UINT64_C(0x0e0000000001));
    assert_int_equal(net_check_vnic_remove(&v, "s0"), -1);
    err_is(ERR_STATE, "cannot remove VNIC 's0' from VM 'susp' while it is "
                      "SUSPENDED");
    assert_int_equal(net_check_vnic_remove(&v, "h0"), 0);
    assert_int_equal(net_check_vnic_remove(&v, "nope"), -1);
    err_is(ERR_NOT_FOUND, "nope");
}

/* ---- undo ---- */

static void
engine(struct fixture *fx)
{
    struct jobs_conf c;

    memset(&c, 0, sizeof(c));
    c.db = fx->db;
    c.workers = 2;
    c.priority_workers = 1;
    c.lock_timeout_ms = 5000;
    c.retention_ms = 86400000;
    c.event_retention_ms = 86400000;
    assert_int_equal(jobs_init(&c), 0);
    assert_int_equal(jobs_recover(), 0);
    assert_int_equal(jobs_start(), 0);
    fx->engine = true;
}

/* Run [@op with @args (taken), then diag.fail when @fail]; the finished
 * job's state. */
static enum db_job_state
run_job(struct fixture *fx, const char *op, json_object *args, bool fail)
{
    struct job_object_req obj = { VM_HVM, "Vm", "hvm", true };
    struct job_op_req ops[2];
    json_object *fargs = J("{\"message\": \"after the operation\"}");
    struct job_req r;
    int64_t id, until = time_mono_ms() + WAIT_MS;
    size_t n = 0;

    memset(ops, 0, sizeof(ops));
    ops[n].op = op;
    ops[n].description = op;
    ops[n++].args = args;
    if (fail) {
        ops[n].op = "diag.fail";
        ops[n].description = "fail";
        ops[n++].args = fargs;
    }
    memset(&r, 0, sizeof(r));
    r.name = op;
    r.user = "unit";
    r.objects = &obj;
    r.nobjects = 1;
    r.ops = ops;
    r.nops = n;
    assert_int_equal(jobs_submit(&r, &id), 0);
    json_object_put(args);
    json_object_put(fargs);
    for (;;) {
        struct db_job *j = db_job_get(fx->db, id);
        enum db_job_state s;

        assert_non_null(j);
        if (j->done) {
            s = j->run_state;
            if (s != JOB_SUCCESS && !fail)
                fail_msg("%s: %s", op, j->error_message);
            db_job_free(j);
            return s;
        }
        db_job_free(j);
        if (time_mono_ms() > until)
            fail_msg("job %" PRId64 " not done after %d ms", id, WAIT_MS);
        usleep(2000);
    }
}

static void
test_undo(void **state)
{
    struct fixture *fx = *state;
    char *vm0, *vm1, *nic, *rng, *after;

    world(fx);
    engine(fx);
    vm0 = row_text(fx, "Vm", VM_HVM);
    /* a creation undone: no VNIC, the VM exactly as it was */
    assert_int_equal(run_job(fx, "vnic.create", J("{\"id\": \"u1\", \"vm\": "
                                                  "\"" VM_HVM "\", "
                                                  "\"network\": \"" NET_VM
                                                  "\"}"), true),
                     JOB_FAILURE);
    after = row_text(fx, "VirtualNic", "u1");
    assert_string_equal(after, "null");
    xfree(after);
    after = row_text(fx, "Vm", VM_HVM);
    assert_string_equal(after, vm0);
    xfree(after);
    /* the creation itself: the lowest address, slot 0, the VM bumped */
    assert_int_equal(run_job(fx, "vnic.create", J("{\"id\": \"c1\", \"vm\": "
                                                  "\"" VM_HVM "\", "
                                                  "\"network\": \"" NET_VM
                                                  "\"}"), false),
                     JOB_SUCCESS);
    nic = row_text(fx, "VirtualNic", "c1");
    assert_non_null(strstr(nic, "\"mac_address\":\"02:21:f6:00:00:00\""));
    assert_non_null(strstr(nic, "\"name\":\"02:21:f6:00:00:00\""));
    assert_non_null(strstr(nic, "\"slot\":0"));
    vm1 = row_text(fx, "Vm", VM_HVM);
    assert_string_not_equal(vm1, vm0);
    /* an edit undone, a delete undone: both rows exactly as they were */
    assert_int_equal(run_job(fx, "vnic.update", J("{\"id\": \"c1\", "
                                                  "\"name\": \"eth0\"}"),
                             true), JOB_FAILURE);
    after = row_text(fx, "VirtualNic", "c1");
    assert_string_equal(after, nic);
    xfree(after);
    assert_int_equal(run_job(fx, "vnic.delete", J("{\"id\": \"c1\"}"), true),
                     JOB_FAILURE);
    after = row_text(fx, "VirtualNic", "c1");
    assert_string_equal(after, nic);
    xfree(after);
    after = row_text(fx, "Vm", VM_HVM);
    assert_string_equal(after, vm1);
    xfree(after);

    /* ranges: an edit, a delete and a creation, each undone */
    rng = row_text(fx, "MacRange", DEFAULT_RANGE);
    assert_int_equal(run_job(fx, "macrange.update",
                             J("{\"id\": \"" DEFAULT_RANGE "\", \"name\": "
                               "\"x\", \"end\": \"02:21:f6:00:00:ff\"}"),
                             true), JOB_FAILURE);
    after = row_text(fx, "MacRange", DEFAULT_RANGE);
    assert_string_equal(after, rng);
    xfree(after);
    assert_int_equal(run_job(fx, "macrange.delete",
                             J("{\"id\": \"" DEFAULT_RANGE "\"}"), true),
                     JOB_FAILURE);
    after = row_text(fx, "MacRange", DEFAULT_RANGE);
    assert_string_equal(after, rng);
    xfree(after);
    assert_int_equal(run_job(fx, "macrange.create",
                             J("{\"id\": \"r2\", \"name\": \"r2\", \"start\": "
                               "\"0a:00:00:00:00:00\", \"end\": "
                               "\"0a:00:00:00:00:ff\"}"), true), JOB_FAILURE);
    after = row_text(fx, "MacRange", "r2");
    assert_string_equal(after, "null");
    xfree(after);
    /* an edit that shrinks the range keeps the VNIC's address */
    assert_int_equal(run_job(fx, "macrange.update",
                             J("{\"id\": \"" DEFAULT_RANGE "\", \"start\": "
                               "\"02:21:f6:00:01:00\"}"), false),
                     JOB_SUCCESS);
    after = row_text(fx, "VirtualNic", "c1");
    assert_string_equal(after, nic);
    xfree(after);
    /* the delete itself: gone, the VM bumped again */
    assert_int_equal(run_job(fx, "vnic.delete", J("{\"id\": \"c1\"}"), false),
                     JOB_SUCCESS);
    after = row_text(fx, "VirtualNic", "c1");
    assert_string_equal(after, "null");
    xfree(after);
    xfree(vm0);
    xfree(vm1);
    xfree(nic);
    xfree(rng);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mac_parse),
        cmocka_unit_test(test_mac_unicast),
        cmocka_unit_test_setup_teardown(test_alloc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_range_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vnic_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_undo, setup, teardown),
    };

    log_set_level(LOG_LEVEL_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
