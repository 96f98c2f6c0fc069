/*
 * test_netport.c - unit tests of bonds, ports, VLAN groups, VLAN
 * segments and VLAN interfaces (src/jobs/op_netport.c; docs/NETWORKS.md,
 * "IP configuration" and "Bonds and VLAN groups").
 *
 * DESIGN: net_ipconf_check() is table-driven. The rules run on a fresh
 * database per test with servers, ports and a management network
 * inserted through the generic rows. The operations run in the real job
 * engine against two simulated hosts (hv_sim_generate(), with eth2 and
 * eth3 added to sim-1 when the generator does not make them), so their
 * host steps land in the node files; the undo of every operation is
 * driven with jobs of [operation, diag.fail], as test_vnic.c does (a
 * one-operation job is never undone): what the operation made must go,
 * on the host too, and what it changed must come back exactly
 * (generation and times included).
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
#include "hv/hv.h"
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
#define S1 "s1"
#define S2 "s2"
#define NET_M "0004fb0000100000aaaaaaaaaaaa0001"

struct fixture {
    char dir[64];
    char *path, *sim;
    struct db *db;
    bool engine;
};

static int
setup(void **state)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));

    if (tmpdir_make(fx->dir, sizeof(fx->dir), "netport") < 0) {
        xfree(fx);
        return -1;
    }
    fx->path = xasprintf("%s/ovmm.db", fx->dir);
    fx->sim = xasprintf("%s/sim", fx->dir);
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
    xfree(fx->sim);
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

/* The node file of simulated host @n. Caller frees. */
static char *
node(struct fixture *fx, int n)
{
    char *path = xasprintf("%s/sim-%d.xml", fx->sim, n);
    FILE *fp = fopen(path, "rb");
    char *data = xcalloc(1, 1 << 20);
    size_t len;

    assert_non_null(fp);
    len = fread(data, 1, (1 << 20) - 1, fp);
    data[len] = '\0';
    fclose(fp);
    xfree(path);
    return data;
}

/* Whether host @n has interface @name (a top-level or nested one). */
static bool
host_has(struct fixture *fx, int n, const char *name)
{
    char *text = node(fx, n), *needle = xasprintf("name=\"%s\"", name);
    char *alt = xasprintf("name='%s'", name);
    bool has = strstr(text, needle) || strstr(text, alt);

    xfree(text);
    xfree(needle);
    xfree(alt);
    return has;
}

/*
 * Two simulated hosts with their rows: servers s1 (sim-1, owned,
 * RUNNING: ports p10..p13 = eth0..eth3, eth0 on the management network)
 * and s2 (sim-2, owned, RUNNING: p20, p21 = eth0, eth1).
 */
static void
world(struct fixture *fx)
{
    char *mgr = db_manager_id(fx->db), *text, *uri;
    int s, k;

    assert_non_null(mgr);
    assert_int_equal(hv_sim_generate(fx->sim, 2, "netport"), 0);
    text = node(fx, 1);
    if (!strstr(text, "name=\"eth2\"") && !strstr(text, "name='eth2'")) {
        char *path = xasprintf("%s/sim-1.xml", fx->sim);
        char *pool = strstr(text, "  <pool ");
        FILE *fp;

        assert_non_null(pool);
        fp = fopen(path, "wb");
        assert_non_null(fp);
        fprintf(fp, "%.*s", (int)(pool - text), text);
        fprintf(fp, "  <interface type='ethernet' name='eth2'><start "
                    "mode='onboot'/><mac address='52:54:00:00:01:02'/>"
                    "<mtu size='1500'/></interface>\n"
                    "  <interface type='ethernet' name='eth3'><start "
                    "mode='onboot'/><mac address='52:54:00:00:01:03'/>"
                    "<mtu size='1500'/></interface>\n%s", pool);
        fclose(fp);
        xfree(path);
    }
    xfree(text);
    must_insert(fx->db, "Network", "{\"id\": \"" NET_M "\", \"name\": "
                "\"management\", \"roles\": \"[\\\"MANAGEMENT\\\"]\"}");
    for (s = 1; s <= 2; s++) {
        char name[16];

        snprintf(name, sizeof(name), "sim-%d", s);
        uri = hv_uri_for(name, NULL, "xen+tls://{host}/system", fx->sim);
        assert_non_null(uri);
        must_insert(fx->db, "Server", "{\"id\": \"s%d\", \"name\": \"%s\", "
                    "\"ip_address\": \"%s\", \"libvirt_uri\": \"%s\", "
                    "\"discovered_ms\": 1, \"manager_uuid\": \"%s\"}", s,
                    name, name, uri, mgr);
        xfree(uri);
        for (k = 0; k < (s == 1 ? 4 : 2); k++)
            must_insert(fx->db, "EthernetPort", "{\"id\": \"p%d%d\", "
                        "\"name\": \"eth%d on %s\", \"server_id\": \"s%d\", "
                        "\"interface_name\": \"eth%d\", \"mac_address\": "
                        "\"52:54:00:00:0%d:0%d\"%s}", s, k, k, name, s, k, s,
                        k, k == 0 ? ", \"network_id\": \"" NET_M "\"" : "");
    }
    xfree(mgr);
}

static struct storage_view
reader(struct fixture *fx)
{
    struct storage_view v = { fx->db, NULL };

    return v;
}

/* ---- IP configuration ---- */

static void
test_ipconf(void **state)
{
    static const struct {
        const char *type, *addr, *mask, *gw;
        const char *err;     /* NULL: valid */
        const char *out_addr, *out_mask, *out_gw;
    } t[] = {
        { NULL, NULL, NULL, NULL, NULL, "", "", "" },
        { "NONE", "", "", "", NULL, "", "", "" },
        { "DHCP", NULL, NULL, NULL, NULL, "", "", "" },
        { "STATIC", "10.1.2.3", "255.255.255.0", NULL, NULL, "10.1.2.3",
          "255.255.255.0", "" },
        { "STATIC", "10.1.2.3", "255.255.255.0", "10.1.2.1", NULL,
          "10.1.2.3", "255.255.255.0", "10.1.2.1" },
        { "STATIC", "172.16.5.1", "255.240.0.0", "172.31.255.254", NULL,
          "172.16.5.1", "255.240.0.0", "172.31.255.254" },
        /* /31 and /32: no network or broadcast address to refuse */
        { "STATIC", "10.0.0.0", "255.255.255.254", "10.0.0.1", NULL,
          "10.0.0.0", "255.255.255.254", "10.0.0.1" },
        { "STATIC", "10.9.9.9", "255.255.255.255", NULL, NULL, "10.9.9.9",
          "255.255.255.255", "" },
        { "BOOTP", NULL, NULL, NULL, "NONE, DHCP or STATIC", NULL, NULL,
          NULL },
        { "static", "10.1.2.3", "255.0.0.0", NULL, "not 'static'", NULL,
          NULL, NULL },
        { "NONE", "10.1.2.3", NULL, NULL, "NONE takes no", NULL, NULL, NULL },
        { "DHCP", NULL, "255.0.0.0", NULL, "DHCP takes no", NULL, NULL,
          NULL },
        { "DHCP", NULL, NULL, "10.0.0.1", "takes no", NULL, NULL, NULL },
        { "STATIC", NULL, "255.0.0.0", NULL, "needs 'ipAddress'", NULL, NULL,
          NULL },
        { "STATIC", "10.1.2.3", "", NULL, "needs", NULL, NULL, NULL },
        { "STATIC", "10.1.2.256", "255.0.0.0", NULL, "dotted quad", NULL,
          NULL, NULL },
        { "STATIC", "10.1.2", "255.0.0.0", NULL, "dotted quad", NULL, NULL,
          NULL },
        { "STATIC", "10.01.2.3", "255.0.0.0", NULL, "dotted quad", NULL,
          NULL, NULL },
        { "STATIC", " 10.1.2.3", "255.0.0.0", NULL, "dotted quad", NULL,
          NULL, NULL },
        { "STATIC", "10.1.2.3", "255.0.0.256", NULL, "'netmask'", NULL,
          NULL, NULL },
        { "STATIC", "10.1.2.3", "255.0.255.0", NULL, "not a contiguous",
          NULL, NULL, NULL },
        { "STATIC", "10.1.2.3", "0.255.255.255", NULL, "contiguous", NULL,
          NULL, NULL },
        { "STATIC", "10.1.2.3", "0.0.0.0", NULL, "contiguous", NULL, NULL,
          NULL },
        { "STATIC", "10.1.2.0", "255.255.255.0", NULL,
          "network address of subnet 10.1.2.0/24", NULL, NULL, NULL },
        { "STATIC", "10.1.255.255", "255.255.0.0", NULL,
          "broadcast address of subnet 10.1.0.0/16", NULL, NULL, NULL },
        { "STATIC", "0.1.2.3", "255.0.0.0", NULL, "not a unicast", NULL,
          NULL, NULL },
        { "STATIC", "127.0.0.1", "255.0.0.0", NULL, "unicast", NULL, NULL,
          NULL },
        { "STATIC", "239.1.1.1", "255.255.255.0", NULL, "unicast", NULL,
          NULL, NULL },
        { "STATIC", "240.1.1.1", "255.255.255.0", NULL, "unicast", NULL,
          NULL, NULL },
        { "STATIC", "10.1.2.3", "255.255.255.0", "10.1.3.1",
          "gateway '10.1.3.1' is outside subnet 10.1.2.0/24", NULL, NULL,
          NULL },
        { "STATIC", "10.1.2.3", "255.255.255.0", "10.1.2.3",
          "the address itself", NULL, NULL, NULL },
        { "STATIC", "10.1.2.3", "255.255.255.0", "10.1.2.0",
          "'gateway' '10.1.2.0' is the network address", NULL, NULL, NULL },
        { "STATIC", "10.1.2.3", "255.255.255.0", "10.1.2.255",
          "'gateway' '10.1.2.255' is the broadcast", NULL, NULL, NULL },
        { "STATIC", "10.1.2.3", "255.255.255.0", "gw", "dotted quad", NULL,
          NULL, NULL },
        { "STATIC", "10.9.9.9", "255.255.255.255", "10.9.9.8", "outside",
          NULL, NULL, NULL },
    };
    char a[16], m[16], g[16];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        int rc = net_ipconf_check("port 'x'", t[i].type, t[i].addr,
                                  t[i].mask, t[i].gw, a, m, g);

        if (!t[i].err) {
            if (rc != 0)
                fail_msg("case %zu: %s", i, err_message());
            assert_string_equal(a, t[i].out_addr);
            assert_string_equal(m, t[i].out_mask);
            assert_string_equal(g, t[i].out_gw);
            continue;
        }
        if (rc != -1)
            fail_msg("case %zu accepted", i);
        if (!strstr(err_message(), "port 'x'"))
            fail_msg("case %zu: '%s' does not name the port", i,
                     err_message());
        err_is(ERR_INVALID, t[i].err);
    }
}

static void
test_bond_modes(void **state)
{
    (void)state;
    assert_true(net_bond_mode_valid("ACTIVE_PASSIVE"));
    assert_true(net_bond_mode_valid("LINK_AGGREGATION"));
    assert_true(net_bond_mode_valid("LOAD_BALANCED"));
    assert_false(net_bond_mode_valid("active_passive"));
    assert_false(net_bond_mode_valid("802.3ad"));
    assert_false(net_bond_mode_valid(""));
    assert_false(net_bond_mode_valid(NULL));
}

/* ---- rules ---- */

static void
test_rules(void **state)
{
    struct fixture *fx = *state;
    struct storage_view v;
    char *mgr, name[16];
    json_object *a;

    world(fx);
    v = reader(fx);
    mgr = db_manager_id(fx->db);
    assert_int_equal(net_bond_name_next(&v, S1, name, sizeof(name)), 0);
    assert_string_equal(name, "bond0");
    must_insert(fx->db, "EthernetPort", "{\"id\": \"b0\", \"name\": \"b0\", "
                "\"server_id\": \"" S1 "\", \"interface_name\": \"bond0\", "
                "\"port_type\": \"BOND\", \"bond_mode\": \"ACTIVE_PASSIVE\"}");
    must_insert(fx->db, "EthernetPort", "{\"id\": \"b2\", \"name\": \"b2\", "
                "\"server_id\": \"" S1 "\", \"interface_name\": \"bond2\", "
                "\"port_type\": \"BOND\", \"bond_mode\": \"ACTIVE_PASSIVE\"}");
    assert_int_equal(net_bond_name_next(&v, S1, name, sizeof(name)), 0);
    assert_string_equal(name, "bond1");
    assert_int_equal(net_bond_name_next(&v, S2, name, sizeof(name)), 0);
    assert_string_equal(name, "bond0");

    /* bonds */
    a = J("{\"server\": \"" S1 "\", \"interfaceName\": \"bond1\", "
          "\"bondMode\": \"ACTIVE_PASSIVE\", \"ports\": [\"p12\", \"p13\"], "
          "\"mtu\": 1500, \"addressType\": \"NONE\"}");
    assert_int_equal(net_check_bond_create(&v, a, mgr), 0);
    json_object_put(a);
    a = J("{\"server\": \"" S1 "\", \"interfaceName\": \"bond0\", "
          "\"bondMode\": \"ACTIVE_PASSIVE\", \"ports\": [\"p12\", \"p13\"]}");
    assert_int_equal(net_check_bond_create(&v, a, mgr), -1);
    err_is(ERR_EXISTS, "server 'sim-1' already has an interface 'bond0'");
    json_object_put(a);
    a = J("{\"server\": \"" S1 "\", \"interfaceName\": \"bond1\", "
          "\"bondMode\": \"ACTIVE_PASSIVE\", \"ports\": [\"p12\", \"p10\"]}");
    assert_int_equal(net_check_bond_create(&v, a, mgr), -1);
    err_is(ERR_STATE, "port 'eth0 on sim-1' is in network 'management'");
    json_object_put(a);
    a = J("{\"server\": \"" S1 "\", \"interfaceName\": \"bond1\", "
          "\"bondMode\": \"ACTIVE_PASSIVE\", \"ports\": [\"p12\", \"p21\"]}");
    assert_int_equal(net_check_bond_create(&v, a, mgr), -1);
    err_is(ERR_STATE, "port 'eth1 on sim-2' is on server 'sim-2', not on "
                      "server 'sim-1'");
    json_object_put(a);
    a = J("{\"server\": \"" S1 "\", \"interfaceName\": \"bond1\", "
          "\"bondMode\": \"ACTIVE_PASSIVE\", \"ports\": [\"p12\", \"b0\"]}");
    assert_int_equal(net_check_bond_create(&v, a, mgr), -1);
    err_is(ERR_STATE, "port 'b0' is a bond");
    json_object_put(a);
    a = J("{\"server\": \"" S1 "\", \"interfaceName\": \"bond1\", "
          "\"bondMode\": \"ACTIVE_PASSIVE\", \"ports\": [\"p12\"]}");
    assert_int_equal(net_check_bond_create(&v, a, mgr), -1);
    err_is(ERR_INVALID, "exactly two ports");
    json_object_put(a);
    a = J("{\"server\": \"" S1 "\", \"interfaceName\": \"bond1\", "
          "\"bondMode\": \"ACTIVE_PASSIVE\", \"ports\": [\"p12\", \"p12\"]}");
    assert_int_equal(net_check_bond_create(&v, a, mgr), -1);
    err_is(ERR_INVALID, "twice");
    json_object_put(a);
    a = J("{\"server\": \"" S1 "\", \"interfaceName\": \"bond01a\", "
          "\"bondMode\": \"ACTIVE_PASSIVE\", \"ports\": [\"p12\", \"p13\"]}");
    assert_int_equal(net_check_bond_create(&v, a, mgr), -1);
    err_is(ERR_INVALID, "not a bond name");
    json_object_put(a);
    a = J("{\"server\": \"" S1 "\", \"interfaceName\": \"bond1\", "
          "\"bondMode\": \"ACTIVE_PASSIVE\", \"ports\": [\"p12\", \"p13\"], "
          "\"mtu\": 64001}");
    assert_int_equal(net_check_bond_create(&v, a, mgr), -1);
    err_is(ERR_INVALID, "1500..64000");
    json_object_put(a);
    a = J("{\"server\": \"" S1 "\", \"interfaceName\": \"bond1\", "
          "\"bondMode\": \"ACTIVE_PASSIVE\", \"ports\": [\"p12\", \"p13\"]}");
    assert_int_equal(net_check_bond_create(&v, a, "another-manager"), -1);
    err_is(ERR_STATE, "does not own server 'sim-1'");
    json_object_put(a);

    /* static addresses: one owner each */
    must_insert(fx->db, "EthernetPort", "{\"id\": \"px\", \"name\": \"px\", "
                "\"server_id\": \"" S2 "\", \"interface_name\": \"eth9\", "
                "\"address_type\": \"STATIC\", \"ip_address\": \"10.1.2.3\", "
                "\"netmask\": \"255.255.255.0\"}");
    a = J("{\"id\": \"p11\", \"addressType\": \"STATIC\", \"ipAddress\": "
          "\"10.1.2.3\", \"netmask\": \"255.255.0.0\"}");
    assert_int_equal(net_check_port_update(&v, a, mgr), -1);
    err_is(ERR_EXISTS, "IP address '10.1.2.3' is already used by port 'px'");
    json_object_put(a);
    a = J("{\"id\": \"px\", \"addressType\": \"STATIC\", \"ipAddress\": "
          "\"10.1.2.3\", \"netmask\": \"255.255.0.0\"}");
    assert_int_equal(net_check_port_update(&v, a, mgr), 0);
    json_object_put(a);
    a = J("{\"id\": \"p11\", \"bondMode\": \"LOAD_BALANCED\"}");
    assert_int_equal(net_check_port_update(&v, a, mgr), -1);
    err_is(ERR_INVALID, "only a bond");
    json_object_put(a);

    /* a bond on the management network keeps its mode */
    must_insert(fx->db, "EthernetPort", "{\"id\": \"bm\", \"name\": \"bm\", "
                "\"server_id\": \"" S2 "\", \"interface_name\": \"bond0\", "
                "\"port_type\": \"BOND\", \"bond_mode\": \"ACTIVE_PASSIVE\", "
                "\"network_id\": \"" NET_M "\"}");
    a = J("{\"id\": \"bm\", \"bondMode\": \"LOAD_BALANCED\"}");
    assert_int_equal(net_check_port_update(&v, a, mgr), -1);
    err_is(ERR_STATE, "the bond mode of bond 'bm' cannot change: it is on "
                      "management network 'management'");
    json_object_put(a);
    a = J("{\"id\": \"bm\", \"bondMode\": \"ACTIVE_PASSIVE\", "
          "\"mtu\": 9000}");
    assert_int_equal(net_check_port_update(&v, a, mgr), 0);
    json_object_put(a);
    a = J("{\"id\": \"bm\", \"ports\": [\"p20\", \"p21\"]}");
    assert_int_equal(net_check_port_update(&v, a, mgr), -1);
    err_is(ERR_STATE, "remove it from network 'management' first");
    json_object_put(a);
    assert_int_equal(net_check_port_delete(&v, "bm"), -1);
    err_is(ERR_STATE, "is in network 'management'");
    assert_int_equal(net_check_port_delete(&v, "p11"), -1);
    err_is(ERR_STATE, "ports come with discovery");
    assert_int_equal(net_check_port_delete(&v, "b0"), 0);
    assert_int_equal(net_check_port_delete(&v, "nope"), -1);
    err_is(ERR_NOT_FOUND, "nope");

    /* VLAN groups and segments */
    a = J("{\"name\": \"g\", \"ports\": [\"p11\", \"p10\"]}");
    assert_int_equal(net_check_vlangroup_create(&v, a, mgr), -1);
    err_is(ERR_STATE, "port 'eth0 on sim-1' is in network 'management'");
    json_object_put(a);
    a = J("{\"name\": \"g\", \"ports\": [\"p11\", \"p11\"]}");
    assert_int_equal(net_check_vlangroup_create(&v, a, mgr), -1);
    err_is(ERR_INVALID, "twice");
    json_object_put(a);
    a = J("{\"ports\": []}");
    assert_int_equal(net_check_vlangroup_create(&v, a, mgr), -1);
    err_is(ERR_INVALID, "'name'");
    json_object_put(a);
    must_insert(fx->db, "VlanGroup", "{\"id\": \"g1\", \"name\": \"g1\"}");
    must_insert(fx->db, "VlanSegment", "{\"id\": \"v5\", \"name\": \"v5\", "
                "\"vlan_group_id\": \"g1\", \"vlan_id\": 5, \"tagged\": 0}");
    a = J("{\"group\": \"g1\", \"name\": \"x\", \"vlanId\": 5}");
    assert_int_equal(net_check_vlansegment_create(&v, a), -1);
    err_is(ERR_EXISTS, "VLAN group 'g1' already has VLAN 5 (segment 'v5')");
    json_object_put(a);
    a = J("{\"group\": \"g1\", \"name\": \"x\", \"vlanId\": 6, "
          "\"tagged\": false}");
    assert_int_equal(net_check_vlansegment_create(&v, a), -1);
    err_is(ERR_EXISTS, "already has an untagged segment ('v5')");
    json_object_put(a);
    a = J("{\"group\": \"g1\", \"name\": \"x\", \"vlanId\": 4095}");
    assert_int_equal(net_check_vlansegment_create(&v, a), -1);
    err_is(ERR_INVALID, "1..4094");
    json_object_put(a);
    a = J("{\"group\": \"g1\", \"name\": \"x\", \"vlanId\": 4094}");
    assert_int_equal(net_check_vlansegment_create(&v, a), 0);
    json_object_put(a);
    must_insert(fx->db, "Network", "{\"id\": \"n2\", \"name\": \"vmnet\", "
                "\"roles\": \"[\\\"VIRTUAL_MACHINE\\\"]\", "
                "\"vlan_segment_id\": \"v5\"}");
    assert_int_equal(net_check_vlansegment_delete(&v, "v5"), -1);
    err_is(ERR_STATE, "VLAN segment 'v5' is used by network 'vmnet'");
    assert_int_equal(net_check_vlangroup_delete(&v, "g1"), -1);
    err_is(ERR_STATE, "its VLAN segment 'v5' is used by network 'vmnet'");
    assert_int_equal(net_check_vlangroup_port(&v, "g1", "p11", true, mgr), -1);
    err_is(ERR_STATE, "remove the segment from the network first");
    xfree(mgr);
}

/* ---- the operations and their undo ---- */

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
    struct job_object_req obj = { S1, "Server", "sim-1", true };
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

/* Assert row @id of @type is @want (xfree()d). */
static void
row_is(struct fixture *fx, const char *type, const char *id, char *want)
{
    char *now = row_text(fx, type, id);

    assert_string_equal(now, want);
    xfree(now);
    xfree(want);
}

#define BOND_ARGS                                                          \
    "{\"id\": \"bond\", \"server\": \"" S1 "\", \"name\": \"bond0 on "     \
    "sim-1\", \"interfaceName\": \"bond0\", \"bondMode\": "                \
    "\"ACTIVE_PASSIVE\", \"ports\": [\"p12\", \"p13\"], \"mtu\": 1500, "   \
    "\"addressType\": \"STATIC\", \"ipAddress\": \"10.1.2.3\", "           \
    "\"netmask\": \"255.255.255.0\", \"gateway\": null}"

static void
test_bond_undo(void **state)
{
    struct fixture *fx = *state;
    char *bond, *p12;

    world(fx);
    engine(fx);
    /* a creation undone: no row, the ports as they were, no host bond */
    p12 = row_text(fx, "EthernetPort", "p12");
    assert_int_equal(run_job(fx, "ethernetport.bond_create", J(BOND_ARGS),
                             true), JOB_FAILURE);
    row_is(fx, "EthernetPort", "bond", xstrdup("null"));
    row_is(fx, "EthernetPort", "p12", xstrdup(p12));
    assert_false(host_has(fx, 1, "bond0"));
    /* the creation */
    assert_int_equal(run_job(fx, "ethernetport.bond_create", J(BOND_ARGS),
                             false), JOB_SUCCESS);
    assert_true(host_has(fx, 1, "bond0"));
    bond = row_text(fx, "EthernetPort", "bond");
    assert_non_null(strstr(bond, "\"port_type\":\"BOND\""));
    assert_non_null(strstr(bond, "\"mac_address\":\"52:54:00:00:01:02\""));
    assert_non_null(strstr(bond, "\"ip_address\":\"10.1.2.3\""));
    xfree(p12);
    p12 = row_text(fx, "EthernetPort", "p12");
    assert_non_null(strstr(p12, "\"bond_port_id\":\"bond\""));
    /* a bond already there on the host: the job fails, nothing changes */
    assert_int_equal(run_job(fx, "ethernetport.bond_create",
                             J("{\"id\": \"bond9\", \"server\": \"" S1 "\", "
                               "\"name\": \"x\", \"interfaceName\": "
                               "\"bond0\", \"bondMode\": \"ACTIVE_PASSIVE\", "
                               "\"ports\": [\"p11\", \"p12\"]}"), true),
                     JOB_FAILURE);
    row_is(fx, "EthernetPort", "bond", xstrdup(bond));
    /* an edit of mode and ports undone: rows and host as they were */
    assert_int_equal(run_job(fx, "ethernetport.update",
                             J("{\"id\": \"bond\", \"bondMode\": "
                               "\"LOAD_BALANCED\", \"ports\": [\"p11\", "
                               "\"p12\"]}"), true), JOB_FAILURE);
    row_is(fx, "EthernetPort", "bond", xstrdup(bond));
    row_is(fx, "EthernetPort", "p12", xstrdup(p12));
    {
        char *text = node(fx, 1);

        assert_non_null(strstr(text, "active-backup"));
        assert_null(strstr(text, "balance-alb"));
        xfree(text);
    }
    /* the edit itself */
    assert_int_equal(run_job(fx, "ethernetport.update",
                             J("{\"id\": \"bond\", \"bondMode\": "
                               "\"LOAD_BALANCED\", \"ports\": [\"p11\", "
                               "\"p12\"]}"), false), JOB_SUCCESS);
    {
        char *text = node(fx, 1), *p13 = row_text(fx, "EthernetPort", "p13");

        assert_non_null(strstr(text, "balance-alb"));
        assert_non_null(strstr(p13, "\"bond_port_id\":null"));
        xfree(p13);
        xfree(text);
    }
    xfree(bond);
    bond = row_text(fx, "EthernetPort", "bond");
    /* a delete undone: the bond back on the host and in the rows */
    assert_int_equal(run_job(fx, "ethernetport.delete",
                             J("{\"id\": \"bond\"}"), true), JOB_FAILURE);
    row_is(fx, "EthernetPort", "bond", xstrdup(bond));
    assert_true(host_has(fx, 1, "bond0"));
    {
        char *p11 = row_text(fx, "EthernetPort", "p11");

        assert_non_null(strstr(p11, "\"bond_port_id\":\"bond\""));
        xfree(p11);
    }
    /* the delete */
    assert_int_equal(run_job(fx, "ethernetport.delete",
                             J("{\"id\": \"bond\"}"), false), JOB_SUCCESS);
    row_is(fx, "EthernetPort", "bond", xstrdup("null"));
    assert_false(host_has(fx, 1, "bond0"));
    xfree(bond);
    xfree(p12);
}

static void
test_vlan_undo(void **state)
{
    struct fixture *fx = *state;
    char *p11, *p21, *g, *seg, *f11, **ids = NULL;
    size_t n = 0;

    world(fx);
    engine(fx);
    p11 = row_text(fx, "EthernetPort", "p11");
    p21 = row_text(fx, "EthernetPort", "p21");
    /* a group creation undone */
    assert_int_equal(run_job(fx, "vlangroup.create",
                             J("{\"id\": \"g\", \"name\": \"g\", \"mtu\": "
                               "1500, \"ports\": [\"p11\", \"p21\"]}"),
                             true), JOB_FAILURE);
    row_is(fx, "VlanGroup", "g", xstrdup("null"));
    row_is(fx, "EthernetPort", "p11", xstrdup(p11));
    assert_int_equal(run_job(fx, "vlangroup.create",
                             J("{\"id\": \"g\", \"name\": \"g\", \"mtu\": "
                               "1500, \"ports\": [\"p11\", \"p21\"]}"),
                             false), JOB_SUCCESS);
    xfree(p11);
    p11 = row_text(fx, "EthernetPort", "p11");
    g = row_text(fx, "VlanGroup", "g");
    /* a tagged segment undone: no rows, no VLAN devices on either host */
    assert_int_equal(run_job(fx, "vlansegment.create",
                             J("{\"id\": \"seg\", \"group\": \"g\", \"name\": "
                               "\"VLAN 42\", \"vlanId\": 42, \"tagged\": "
                               "true}"), true), JOB_FAILURE);
    row_is(fx, "VlanSegment", "seg", xstrdup("null"));
    assert_false(host_has(fx, 1, "eth1.42"));
    assert_false(host_has(fx, 2, "eth1.42"));
    assert_int_equal(run_job(fx, "vlansegment.create",
                             J("{\"id\": \"seg\", \"group\": \"g\", \"name\": "
                               "\"VLAN 42\", \"vlanId\": 42, \"tagged\": "
                               "true}"), false), JOB_SUCCESS);
    assert_true(host_has(fx, 1, "eth1.42"));
    assert_true(host_has(fx, 2, "eth1.42"));
    assert_int_equal(db_row_ids(fx->db, ty("VlanInterface"), "ethernet_port_id",
                                "p11", &ids, &n), 0);
    assert_int_equal(n, 1);
    f11 = row_text(fx, "VlanInterface", ids[0]);
    seg = row_text(fx, "VlanSegment", "seg");
    xfree(g);
    g = row_text(fx, "VlanGroup", "g");
    /* a port's removal undone: back in the group, its VLAN device too */
    assert_int_equal(run_job(fx, "vlangroup.port",
                             J("{\"id\": \"g\", \"port\": \"p11\", \"add\": "
                               "0}"), true), JOB_FAILURE);
    row_is(fx, "EthernetPort", "p11", xstrdup(p11));
    row_is(fx, "VlanInterface", ids[0], xstrdup(f11));
    row_is(fx, "VlanGroup", "g", xstrdup(g));
    assert_true(host_has(fx, 1, "eth1.42"));
    /* a port added: its VLAN device made; undone: gone again */
    assert_int_equal(run_job(fx, "vlangroup.port",
                             J("{\"id\": \"g\", \"port\": \"p12\", \"add\": "
                               "1}"), true), JOB_FAILURE);
    assert_false(host_has(fx, 1, "eth2.42"));
    row_is(fx, "VlanGroup", "g", xstrdup(g));
    assert_int_equal(run_job(fx, "vlangroup.port",
                             J("{\"id\": \"g\", \"port\": \"p12\", \"add\": "
                               "1}"), false), JOB_SUCCESS);
    assert_true(host_has(fx, 1, "eth2.42"));
    /* a segment's delete undone: rows and devices back */
    assert_int_equal(run_job(fx, "vlansegment.delete",
                             J("{\"id\": \"seg\"}"), true), JOB_FAILURE);
    row_is(fx, "VlanSegment", "seg", xstrdup(seg));
    row_is(fx, "VlanInterface", ids[0], xstrdup(f11));
    assert_true(host_has(fx, 2, "eth1.42"));
    /* the group's delete undone: group, segment, interfaces, ports */
    xfree(g);
    g = row_text(fx, "VlanGroup", "g");
    assert_int_equal(run_job(fx, "vlangroup.delete", J("{\"id\": \"g\"}"),
                             true), JOB_FAILURE);
    row_is(fx, "VlanGroup", "g", xstrdup(g));
    row_is(fx, "VlanSegment", "seg", xstrdup(seg));
    row_is(fx, "VlanInterface", ids[0], xstrdup(f11));
    row_is(fx, "EthernetPort", "p11", xstrdup(p11));
    assert_true(host_has(fx, 1, "eth2.42"));
    assert_true(host_has(fx, 2, "eth1.42"));
    /* an interface's IP configuration undone */
    {
        char *text = xasprintf("{\"id\": \"%s\", \"addressType\": "
                               "\"DHCP\"}", ids[0]);

        assert_int_equal(run_job(fx, "vlaninterface.update", J(text), true),
                         JOB_FAILURE);
        row_is(fx, "VlanInterface", ids[0], xstrdup(f11));
        assert_int_equal(run_job(fx, "vlaninterface.update", J(text), false),
                         JOB_SUCCESS);
        xfree(text);
    }
    /* the group's delete */
    assert_int_equal(run_job(fx, "vlangroup.delete", J("{\"id\": \"g\"}"),
                             false), JOB_SUCCESS);
    row_is(fx, "VlanGroup", "g", xstrdup("null"));
    row_is(fx, "VlanSegment", "seg", xstrdup("null"));
    row_is(fx, "VlanInterface", ids[0], xstrdup("null"));
    xfree(p21);
    p21 = row_text(fx, "EthernetPort", "p21");
    assert_non_null(strstr(p21, "\"vlan_group_id\":null"));
    assert_false(host_has(fx, 1, "eth1.42"));
    assert_false(host_has(fx, 1, "eth2.42"));
    assert_false(host_has(fx, 2, "eth1.42"));
    db_ids_free(ids, n);
    xfree(p11);
    xfree(p21);
    xfree(g);
    xfree(seg);
    xfree(f11);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipconf),
        cmocka_unit_test(test_bond_modes),
        cmocka_unit_test_setup_teardown(test_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bond_undo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vlan_undo, setup, teardown),
    };

    log_set_level(LOG_LEVEL_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
