/*
 * test_hv_net.c - hv/: host networking (bonds, VLAN devices, bridges)
 * through hv_libvirt.net, on simulated hosts (whose node files
 * hv/simnet.c edits) and on the real path (libvirt's interface API,
 * against test:///default, whose interfaces live in libvirt's memory).
 *
 * Every change on a simulated host is checked where it must land: in the
 * node file, and in what a NEW connection -- libvirt parsing that file
 * afresh -- reports; also after hv_sim_generate() rewrites the file (a
 * restart), and under concurrent edits of one host by two threads.
 *
 * Each test gets a fresh temporary directory with two simulated hosts;
 * sim-1 has the four ports every simulated host has, eth0..eth3, so
 * bonds can be made next to other devices.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hv/hv.h"
#include "tmpdir.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/log.h"
#include "util/str.h"

#define SEED "seed-net"

/* One test's world. */
struct fx {
    char dir[256];                 /* the simulated hosts' directory */
    char file[320];                /* sim-1's node file */
    struct hv_conn *c;             /* sim-1 */
    const struct hv_net_ops *ops;
};

static const struct hv_ipconf ip_none = { "NONE", NULL, NULL, NULL };
static const struct hv_ipconf ip_dhcp = { "DHCP", NULL, NULL, NULL };
static const struct hv_ipconf ip_static = { "STATIC", "10.1.2.3",
                                            "255.255.255.0", "10.1.2.1" };

/* The whole of @path. Caller frees. */
static char *
slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    char *data;
    long n;

    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    n = ftell(fp);
    rewind(fp);
    data = xmalloc((size_t)n + 1);
    assert_int_equal(fread(data, 1, (size_t)n, fp), (size_t)n);
    data[n] = '\0';
    fclose(fp);
    return data;
}

/* The node file @path, with libxml2's double quotes made single (the
 * file is rewritten by libxml2 at the first edit). Caller frees. */
static char *
slurp_node(const char *path)
{
    char *xml = slurp(path), *p;

    for (p = xml; *p; p++) {
        if (*p == '"')
            *p = '\'';
    }
    return xml;
}

/* Replace @path's content with @data. */
static void
spill(const char *path, const char *data)
{
    FILE *fp = fopen(path, "wb");

    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, strlen(data), fp), strlen(data));
    assert_int_equal(fclose(fp), 0);
}

/* How often @needle occurs in @hay. */
static int
count(const char *hay, const char *needle)
{
    int n = 0;

    for (hay = strstr(hay, needle); hay; hay = strstr(hay + 1, needle))
        n++;
    return n;
}

/* Open simulated host @name of @dir. */
static struct hv_conn *
open_sim(const char *dir, const char *name)
{
    char *uri = hv_uri_for(name, NULL, "xen+tls://{host}/system", dir);
    struct hv_conn *c;

    assert_non_null(uri);
    c = hv_libvirt.open(uri, NULL);
    if (!c)
        fail_msg("open %s: %s", uri, err_message());
    xfree(uri);
    return c;
}

/* Insert @text into node file @path before its <pool>. */
static void
node_insert(const char *path, const char *text)
{
    char *xml = slurp(path), *at = strstr(xml, "  <pool ");
    char *out;

    assert_non_null(at);
    out = xasprintf("%.*s%s%s", (int)(at - xml), xml, text, at);
    spill(path, out);
    xfree(out);
    xfree(xml);
}

static int
fx_setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof(*f));

    assert_int_equal(tmpdir_make(f->dir, sizeof(f->dir), "hvnet"), 0);
    assert_int_equal(hv_sim_generate(f->dir, 2, SEED), 0);
    snprintf(f->file, sizeof(f->file), "%s/sim-1.xml", f->dir);
    f->c = open_sim(f->dir, "sim-1");
    f->ops = hv_libvirt.net;
    assert_non_null(f->ops);
    *state = f;
    return 0;
}

static int
fx_teardown(void **state)
{
    struct fx *f = *state;
    char *cmd = xasprintf("rm -rf '%s'", f->dir);

    hv_libvirt.close(f->c);
    assert_int_equal(system(cmd), 0);
    xfree(cmd);
    xfree(f);
    return 0;
}

/* iface_list of @c, which must work. Caller frees. */
static struct hv_iface *
list(const struct fx *f, struct hv_conn *c, size_t *n)
{
    struct hv_iface *v = NULL;
    size_t i;

    if (f->ops->iface_list(c, &v, n) < 0)
        fail_msg("iface_list: %s", err_message());
    for (i = 1; i < *n; i++)
        assert_true(strcmp(v[i - 1].name, v[i].name) < 0);
    return v;
}

/* The entry @name of a listing, or NULL. */
static const struct hv_iface *
find(const struct hv_iface *v, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(v[i].name, name) == 0)
            return &v[i];
    }
    return NULL;
}

/* True when a listing of @c has @name. */
static bool
has(const struct fx *f, struct hv_conn *c, const char *name)
{
    size_t n;
    struct hv_iface *v = list(f, c, &n);
    bool yes = find(v, n, name) != NULL;

    xfree(v);
    return yes;
}

/* rc must be -1 with @code. */
static void
expect_fail_at(int rc, enum err_code code, int line)
{
    if (rc != -1)
        fail_msg("line %d: succeeded, expected %s", line,
                 err_code_str(code));
    if (err_code() != code)
        fail_msg("line %d: %s (%s), expected %s", line,
                 err_code_str(err_code()), err_message(),
                 err_code_str(code));
}
#define expect_fail(rc, code) expect_fail_at((rc), (code), __LINE__)

/* rc must be 0. */
static void
expect_ok_at(int rc, int line)
{
    if (rc != 0)
        fail_msg("line %d: %s (%s)", line, err_code_str(err_code()),
                 err_message());
}
#define expect_ok(rc) expect_ok_at((rc), __LINE__)

/* A bond made, listed as made, written into the node file, removed. */
static void
test_bond(void **state)
{
    struct fx *f = *state;
    const struct hv_iface *b;
    struct hv_iface *v;
    char *xml;
    size_t n;

    v = list(f, f->c, &n);
    assert_int_equal(n, 4);
    assert_string_equal(v[0].name, "eth0");
    assert_int_equal(v[0].type, HV_IF_ETHERNET);
    assert_true(v[0].active);
    assert_true(strlen(v[0].mac) == 17);
    assert_int_equal(v[0].mtu, 1500);
    assert_int_equal(v[1].mtu, 9000);
    xfree(v);

    expect_ok(f->ops->bond_define(f->c, "bond0", "ACTIVE_PASSIVE", "eth2",
                                  "eth3", 0, NULL));
    v = list(f, f->c, &n);
    assert_int_equal(n, 5);
    assert_string_equal(v[0].name, "bond0");
    b = &v[0];
    assert_int_equal(b->type, HV_IF_BOND);
    assert_string_equal(b->mode, "active-backup");
    assert_string_equal(b->over[0], "eth2");
    assert_string_equal(b->over[1], "eth3");
    assert_int_equal(b->mtu, 1500);
    assert_true(b->active);
    xfree(v);

    xml = slurp_node(f->file);
    assert_non_null(strstr(xml, "<interface type='bond' name='bond0'>"
                                "<start mode='onboot'/><mtu size='1500'/>"
                                "<bond mode='active-backup'>"
                                "<interface type='ethernet' name='eth2'>"
                                "<mac address='02:"));
    /* The rest of the file is as it was: identity, pool, comment. */
    assert_non_null(strstr(xml, "<ovmm:hostname>sim-1</ovmm:hostname>"));
    assert_non_null(strstr(xml, "<name>local-sim-1</name>"));
    assert_non_null(strstr(xml, "<!-- sim-1:"));
    xfree(xml);

    expect_ok(f->ops->iface_remove(f->c, "bond0"));
    v = list(f, f->c, &n);
    assert_int_equal(n, 4);
    assert_null(find(v, n, "bond0"));
    xfree(v);
    xml = slurp_node(f->file);
    assert_null(strstr(xml, "bond0"));
    xfree(xml);
    /* Nothing but the node files in the directory (no lock or temporary
     * files): sim-1.xml, sim-2.xml, nfs/, iscsi/. */
    xml = xasprintf("test \"$(ls -A '%s' | wc -l)\" -eq 4", f->dir);
    assert_int_equal(system(xml), 0);
    xfree(xml);
}

/* Each Oracle VM bond mode, an MTU and each kind of IP configuration. */
static void
test_bond_modes(void **state)
{
    static const struct {
        const char *ovm, *libvirt;
        const struct hv_ipconf *ip;
        const char *ipxml;
    } t[] = {
        { "ACTIVE_PASSIVE", "active-backup", &ip_none, NULL },
        { "LINK_AGGREGATION", "802.3ad", &ip_dhcp,
          "<protocol family='ipv4'><dhcp/></protocol>" },
        { "LOAD_BALANCED", "balance-alb", &ip_static,
          "<protocol family='ipv4'><ip address='10.1.2.3' prefix='24'/>"
          "<route gateway='10.1.2.1'/></protocol>" },
    };
    struct fx *f = *state;
    size_t i, n;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct hv_iface *v;
        const struct hv_iface *b;
        char *xml;

        expect_ok(f->ops->bond_define(f->c, "bond1", t[i].ovm, "eth3",
                                      "eth2", 9000, t[i].ip));
        v = list(f, f->c, &n);
        b = find(v, n, "bond1");
        assert_non_null(b);
        assert_string_equal(b->mode, t[i].libvirt);
        assert_int_equal(b->mtu, 9000);
        assert_string_equal(b->over[0], "eth3");
        xfree(v);
        xml = slurp_node(f->file);
        if (t[i].ipxml)
            assert_non_null(strstr(xml, t[i].ipxml));
        else
            assert_null(strstr(xml, "<protocol"));
        xfree(xml);
        expect_ok(f->ops->iface_remove(f->c, "bond1"));
    }
    /* A static address without a gateway. */
    {
        struct hv_ipconf ip = { "STATIC", "192.168.7.9", "255.255.0.0",
                                NULL };
        char *xml;

        expect_ok(f->ops->bridge_define(f->c, "vb1", NULL, &ip));
        xml = slurp_node(f->file);
        assert_non_null(strstr(xml, "<protocol family='ipv4'><ip address="
                                    "'192.168.7.9' prefix='16'/></protocol>"
                                    "<bridge stp='off'/>"));
        xfree(xml);
    }
}

/* Bad modes, names, tags, MTUs and IP configurations: ERR_INVALID, and
 * the node file untouched. */
static void
test_invalid(void **state)
{
    static const char *const bad_modes[] = {
        "", "active-backup", "802.3ad", "ACTIVE_PASSIVE ", "active_passive",
        "BALANCE_RR",
    };
    static const char *const bad_names[] = {
        "", "sixteen-chars-xx", ".bond", "-bond", "bo nd", "bo'nd",
        "bo<nd", "bo/nd", "bo\"nd", "bo&nd", "b\n", "bönd",
    };
    static const struct hv_ipconf bad_ips[] = {
        { "FOO", NULL, NULL, NULL },
        { "static", "10.0.0.1", "255.0.0.0", NULL },
        { "STATIC", NULL, "255.0.0.0", NULL },
        { "STATIC", "10.0.0.1", NULL, NULL },
        { "STATIC", "10.0.0", "255.0.0.0", NULL },
        { "STATIC", "300.0.0.1", "255.0.0.0", NULL },
        { "STATIC", "10.0.0.1'/><x", "255.0.0.0", NULL },
        { "STATIC", "::1", "255.0.0.0", NULL },
        { "STATIC", "10.0.0.1", "255.0.255.0", NULL },
        { "STATIC", "10.0.0.1", "0.0.0.0", NULL },
        { "STATIC", "10.0.0.1", "255.0.0.0", "gw" },
    };
    struct fx *f = *state;
    char *before = slurp_node(f->file), *after;
    size_t i;

    for (i = 0; i < sizeof(bad_modes) / sizeof(bad_modes[0]); i++)
        expect_fail(f->ops->bond_define(f->c, "bond0", bad_modes[i], "eth2",
                                        "eth3", 0, NULL), ERR_INVALID);
    expect_fail(f->ops->bond_define(f->c, "bond0", NULL, "eth2", "eth3", 0,
                                    NULL), ERR_INVALID);
    for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
        const char *b = bad_names[i];

        expect_fail(f->ops->bond_define(f->c, b, "ACTIVE_PASSIVE", "eth2",
                                        "eth3", 0, NULL), ERR_INVALID);
        expect_fail(f->ops->bond_define(f->c, "bond0", "ACTIVE_PASSIVE", b,
                                        "eth3", 0, NULL), ERR_INVALID);
        expect_fail(f->ops->vlan_define(f->c, b, 5, NULL), ERR_INVALID);
        expect_fail(f->ops->bridge_define(f->c, b, NULL, NULL), ERR_INVALID);
        if (*b)                 /* "": a bridge over nothing */
            expect_fail(f->ops->bridge_define(f->c, "vb1", b, NULL),
                        ERR_INVALID);
        expect_fail(f->ops->iface_remove(f->c, b), ERR_INVALID);
    }
    expect_fail(f->ops->bond_define(f->c, NULL, "ACTIVE_PASSIVE", "eth2",
                                    "eth3", 0, NULL), ERR_INVALID);
    expect_fail(f->ops->iface_remove(f->c, NULL), ERR_INVALID);
    /* The same port twice; MTUs out of range. */
    expect_fail(f->ops->bond_define(f->c, "bond0", "ACTIVE_PASSIVE", "eth2",
                                    "eth2", 0, NULL), ERR_INVALID);
    expect_fail(f->ops->bond_define(f->c, "bond0", "ACTIVE_PASSIVE", "eth2",
                                    "eth3", 67, NULL), ERR_INVALID);
    expect_fail(f->ops->bond_define(f->c, "bond0", "ACTIVE_PASSIVE", "eth2",
                                    "eth3", 65536, NULL), ERR_INVALID);
    /* Tags; a VLAN device name longer than 15. */
    expect_fail(f->ops->vlan_define(f->c, "eth2", 0, NULL), ERR_INVALID);
    expect_fail(f->ops->vlan_define(f->c, "eth2", 4095, NULL), ERR_INVALID);
    expect_fail(f->ops->vlan_define(f->c, "abcdefghijklm", 10, NULL),
                ERR_INVALID);
    for (i = 0; i < sizeof(bad_ips) / sizeof(bad_ips[0]); i++) {
        expect_fail(f->ops->bond_define(f->c, "bond0", "ACTIVE_PASSIVE",
                                        "eth2", "eth3", 0, &bad_ips[i]),
                    ERR_INVALID);
        expect_fail(f->ops->vlan_define(f->c, "eth2", 5, &bad_ips[i]),
                    ERR_INVALID);
        expect_fail(f->ops->bridge_define(f->c, "vb1", NULL, &bad_ips[i]),
                    ERR_INVALID);
    }
    after = slurp_node(f->file);
    assert_string_equal(before, after);
    xfree(before);
    xfree(after);
    /* NONE and DHCP ignore address fields; 15 characters is fine. */
    {
        struct hv_ipconf ip = { "DHCP", "junk", "junk", "junk" };

        expect_ok(f->ops->bridge_define(f->c, "vb0123456789abc", NULL, &ip));
        expect_ok(f->ops->vlan_define(f->c, "eth2", 4094, NULL));
        expect_ok(f->ops->vlan_define(f->c, "eth2", 1, NULL));
        assert_true(has(f, f->c, "eth2.4094"));
    }
}

/* A VLAN device on a bond, a bridge on the VLAN device, a bridge on
 * nothing, a bridge on the bond; removal only from the top down. */
static void
test_stack(void **state)
{
    struct fx *f = *state;
    const struct hv_iface *e;
    struct hv_iface *v;
    char *xml;
    size_t n;

    expect_ok(f->ops->bond_define(f->c, "bond0", "LINK_AGGREGATION", "eth2",
                                  "eth3", 0, &ip_static));
    expect_ok(f->ops->vlan_define(f->c, "bond0", 5, NULL));
    expect_ok(f->ops->bridge_define(f->c, "vb00000000a1", "bond0.5",
                                    &ip_dhcp));
    expect_ok(f->ops->bridge_define(f->c, "vb00000000a2", NULL, NULL));
    expect_ok(f->ops->bridge_define(f->c, "vb00000000a3", "bond0",
                                    &ip_none));
    v = list(f, f->c, &n);
    assert_int_equal(n, 4 + 5);
    e = find(v, n, "bond0.5");
    assert_non_null(e);
    assert_int_equal(e->type, HV_IF_VLAN);
    assert_int_equal(e->tag, 5);
    assert_string_equal(e->over[0], "bond0");
    e = find(v, n, "vb00000000a1");
    assert_non_null(e);
    assert_int_equal(e->type, HV_IF_BRIDGE);
    assert_string_equal(e->over[0], "bond0.5");
    e = find(v, n, "vb00000000a2");
    assert_int_equal(e->type, HV_IF_BRIDGE);
    assert_string_equal(e->over[0], "");
    e = find(v, n, "vb00000000a3");
    assert_string_equal(e->over[0], "bond0");
    /* The bond is listed once, as defined on its own (with its MTU). */
    e = find(v, n, "bond0");
    assert_int_equal(e->mtu, 1500);
    assert_string_equal(e->mode, "802.3ad");
    xfree(v);
    /* A bridge nests its device's whole definition. */
    xml = slurp_node(f->file);
    assert_non_null(strstr(xml,
        "<interface type='bridge' name='vb00000000a1'><start mode='onboot'/>"
        "<protocol family='ipv4'><dhcp/></protocol><bridge stp='off'>"
        "<interface type='vlan' name='bond0.5'><vlan tag='5'>"
        "<interface name='bond0'/></vlan></interface></bridge></interface>"));
    assert_non_null(strstr(xml,
        "<interface type='bridge' name='vb00000000a3'><start mode='onboot'/>"
        "<bridge stp='off'><interface type='bond' name='bond0'>"
        "<mtu size='1500'/><bond mode='802.3ad'>"
        "<interface type='ethernet' name='eth2'>"));
    xfree(xml);

    /* Removal order: what something is over stays. */
    expect_fail(f->ops->iface_remove(f->c, "bond0"), ERR_STATE);
    expect_fail(f->ops->iface_remove(f->c, "bond0.5"), ERR_STATE);
    expect_ok(f->ops->iface_remove(f->c, "vb00000000a1"));
    expect_ok(f->ops->iface_remove(f->c, "bond0.5"));
    expect_fail(f->ops->iface_remove(f->c, "bond0"), ERR_STATE);
    expect_ok(f->ops->iface_remove(f->c, "vb00000000a3"));
    expect_ok(f->ops->iface_remove(f->c, "bond0"));
    expect_ok(f->ops->iface_remove(f->c, "vb00000000a2"));
    v = list(f, f->c, &n);
    assert_int_equal(n, 4);
    xfree(v);
    /* The ports are free again. */
    expect_ok(f->ops->bond_define(f->c, "bond0", "LOAD_BALANCED", "eth3",
                                  "eth2", 0, NULL));
}

/* ERR_EXISTS, ERR_NOT_FOUND, ERR_INVALID and ERR_STATE, each rule. */
static void
test_rules(void **state)
{
    struct fx *f = *state;
    char *before, *after;

    expect_ok(f->ops->bond_define(f->c, "bond0", "ACTIVE_PASSIVE", "eth0",
                                  "eth1", 0, NULL));
    expect_ok(f->ops->bridge_define(f->c, "vbA", "eth2", NULL));
    expect_ok(f->ops->vlan_define(f->c, "eth3", 7, NULL));
    expect_ok(f->ops->vlan_define(f->c, "bond0", 8, NULL));
    before = slurp_node(f->file);

    /* Names taken, by any kind of interface. */
    expect_fail(f->ops->bond_define(f->c, "eth0", "ACTIVE_PASSIVE", "eth2",
                                    "eth3", 0, NULL), ERR_EXISTS);
    expect_fail(f->ops->bond_define(f->c, "vbA", "ACTIVE_PASSIVE", "eth2",
                                    "eth3", 0, NULL), ERR_EXISTS);
    expect_fail(f->ops->vlan_define(f->c, "eth3", 7, NULL), ERR_EXISTS);
    expect_fail(f->ops->bridge_define(f->c, "bond0", NULL, NULL),
                ERR_EXISTS);
    expect_fail(f->ops->bridge_define(f->c, "vbA", NULL, NULL), ERR_EXISTS);
    /* What it would be over does not exist. */
    expect_fail(f->ops->bond_define(f->c, "bond1", "ACTIVE_PASSIVE", "eth2",
                                    "eth9", 0, NULL), ERR_NOT_FOUND);
    expect_fail(f->ops->vlan_define(f->c, "eth9", 5, NULL), ERR_NOT_FOUND);
    expect_fail(f->ops->bridge_define(f->c, "vbB", "eth9", NULL),
                ERR_NOT_FOUND);
    expect_fail(f->ops->bridge_define(f->c, "vbB", "bond0.9", NULL),
                ERR_NOT_FOUND);
    /* Missing ports come first, whatever the other port is. */
    expect_fail(f->ops->bond_define(f->c, "bond1", "ACTIVE_PASSIVE", "eth0",
                                    "eth9", 0, NULL), ERR_NOT_FOUND);
    /* A bond port already in a bond, bridged, or carrying a VLAN. */
    expect_fail(f->ops->bond_define(f->c, "bond1", "ACTIVE_PASSIVE", "eth0",
                                    "eth3", 0, NULL), ERR_EXISTS);
    assert_non_null(strstr(err_message(), "'eth0' is used by bond 'bond0'"));
    expect_fail(f->ops->bond_define(f->c, "bond1", "ACTIVE_PASSIVE", "eth2",
                                    "eth3", 0, NULL), ERR_EXISTS);
    assert_non_null(strstr(err_message(), "'eth2' is used by bridge 'vbA'"));
    expect_fail(f->ops->bond_define(f->c, "bond1", "ACTIVE_PASSIVE", "eth3",
                                    "eth2", 0, NULL), ERR_EXISTS);
    assert_non_null(strstr(err_message(),
                           "'eth3' is used by VLAN device 'eth3.7'"));
    /* Bond ports are physical ports. */
    expect_fail(f->ops->bond_define(f->c, "bond1", "ACTIVE_PASSIVE",
                                    "bond0", "eth2", 0, NULL), ERR_INVALID);
    expect_fail(f->ops->bond_define(f->c, "bond1", "ACTIVE_PASSIVE",
                                    "eth3.7", "eth2", 0, NULL), ERR_INVALID);
    expect_fail(f->ops->bond_define(f->c, "bond1", "ACTIVE_PASSIVE", "vbA",
                                    "eth2", 0, NULL), ERR_INVALID);
    /* A VLAN on a bond's port, on a bridge, on a VLAN. */
    expect_fail(f->ops->vlan_define(f->c, "eth0", 5, NULL), ERR_EXISTS);
    expect_fail(f->ops->vlan_define(f->c, "vbA", 5, NULL), ERR_INVALID);
    expect_fail(f->ops->vlan_define(f->c, "eth3.7", 5, NULL), ERR_INVALID);
    /* A bridge over a bond's port, over a bridged device, over a bridge. */
    expect_fail(f->ops->bridge_define(f->c, "vbB", "eth1", NULL),
                ERR_EXISTS);
    expect_fail(f->ops->bridge_define(f->c, "vbB", "eth2", NULL),
                ERR_EXISTS);
    expect_fail(f->ops->bridge_define(f->c, "vbB", "vbA", NULL),
                ERR_INVALID);
    /* Removal: a port, nothing, something with a device over it. */
    expect_fail(f->ops->iface_remove(f->c, "eth0"), ERR_INVALID);
    expect_fail(f->ops->iface_remove(f->c, "eth2"), ERR_INVALID);
    expect_fail(f->ops->iface_remove(f->c, "nothing"), ERR_NOT_FOUND);
    expect_fail(f->ops->iface_remove(f->c, "bond0"), ERR_STATE);
    after = slurp_node(f->file);
    assert_string_equal(before, after);
    xfree(before);
    xfree(after);

    /* Allowed: a VLAN on a bridged port (an untagged segment's bridge
     * next to tagged ones), a bridge over a port that carries VLANs,
     * a bridge over a VLAN on a bond. */
    expect_ok(f->ops->vlan_define(f->c, "eth2", 9, NULL));
    expect_ok(f->ops->bridge_define(f->c, "vbB", "eth3", NULL));
    expect_ok(f->ops->bridge_define(f->c, "vbC", "bond0.8", NULL));
    expect_fail(f->ops->iface_remove(f->c, "bond0.8"), ERR_STATE);
}

/* What a NEW connection to the node file reports -- libvirt's own
 * parse, not ours -- and what survives hv_sim_generate() (a restart). */
static void
test_persistence(void **state)
{
    struct fx *f = *state;
    struct hv_node_facts facts;
    struct hv_conn *c2;
    struct hv_iface *v;
    char *xml, *xml2;
    size_t i, n;
    bool seen = false;

    expect_ok(f->ops->bond_define(f->c, "bond0", "ACTIVE_PASSIVE", "eth2",
                                  "eth3", 0, NULL));
    expect_ok(f->ops->vlan_define(f->c, "bond0", 12, NULL));
    expect_ok(f->ops->bridge_define(f->c, "vb0004fb0001", "bond0.12",
                                    &ip_static));

    /* A new connection lists the bridge (libvirt's own parse of the
     * file); its node facts, which discovery turns into ports, keep the
     * physical ports, also the bonded ones, and never the bond, the VLAN
     * device or the bridge. */
    c2 = open_sim(f->dir, "sim-1");
    assert_int_equal(f->ops->iface_list(c2, &v, &n), 0);
    for (i = 0; i < n; i++) {
        if (strcmp(v[i].name, "vb0004fb0001") == 0)
            seen = true;
    }
    assert_true(seen);
    xfree(v);
    assert_int_equal(hv_libvirt.node_facts(c2, &facts), 0);
    seen = false;
    for (i = 0; i < facts.nnics; i++) {
        assert_string_not_equal(facts.nics[i].name, "vb0004fb0001");
        assert_string_not_equal(facts.nics[i].name, "bond0");
        assert_string_not_equal(facts.nics[i].name, "bond0.12");
        if (strcmp(facts.nics[i].name, "eth2") == 0)
            seen = true;
    }
    assert_true(seen);
    hv_node_facts_release(&facts);
    hv_libvirt.close(c2);

    /* A restart: the node file is generated again, the networking kept,
     * and kept once (a second restart adds nothing). */
    xml = slurp_node(f->file);
    assert_int_equal(hv_sim_generate(f->dir, 2, SEED), 0);
    assert_int_equal(hv_sim_generate(f->dir, 2, SEED), 0);
    xml2 = slurp_node(f->file);
    assert_int_equal(count(xml2, "<interface type='ethernet' name='eth0'>"),
                     1);
    assert_int_equal(count(xml2, " name='vb0004fb0001'"), 1);
    assert_int_equal(count(xml2, " name='bond0.12'"),
                     count(xml, " name='bond0.12'"));
    assert_int_equal(count(xml2, "<interface"), count(xml, "<interface"));
    xfree(xml);
    xfree(xml2);
    c2 = open_sim(f->dir, "sim-1");
    v = list(f, c2, &n);
    assert_int_equal(n, 4 + 3);
    assert_non_null(find(v, n, "vb0004fb0001"));
    assert_string_equal(find(v, n, "vb0004fb0001")->over[0], "bond0.12");
    assert_string_equal(find(v, n, "bond0")->over[1], "eth3");
    xfree(v);
    /* And it can be taken apart after the restart. */
    expect_ok(f->ops->iface_remove(c2, "vb0004fb0001"));
    expect_ok(f->ops->iface_remove(c2, "bond0.12"));
    expect_ok(f->ops->iface_remove(c2, "bond0"));
    hv_libvirt.close(c2);
    /* The other host never changed. */
    {
        struct hv_conn *c3 = open_sim(f->dir, "sim-2");

        v = list(f, c3, &n);
        assert_int_equal(n, 4);
        xfree(v);
        hv_libvirt.close(c3);
    }
}

/* Two threads, each with its own connection to one host, each defining
 * 20 bridges: every edit lands (the directory lock serializes them). */
struct racer {
    const struct fx *f;
    unsigned id;
    int failures;
    char msg[256];
};

static void *
race_main(void *arg)
{
    struct racer *r = arg;
    struct hv_conn *c = open_sim(r->f->dir, "sim-1");
    unsigned i;

    for (i = 0; i < 20; i++) {
        char name[16];

        snprintf(name, sizeof(name), "vbt%u-%02u", r->id, i);
        if (r->f->ops->bridge_define(c, name, NULL, &ip_dhcp) < 0) {
            r->failures++;
            str_copy(r->msg, err_message(), sizeof(r->msg));
        }
    }
    hv_libvirt.close(c);
    return NULL;
}

static void
test_concurrent(void **state)
{
    struct fx *f = *state;
    struct racer r[2];
    pthread_t t[2];
    struct hv_iface *v;
    size_t n;
    unsigned i, k;

    for (i = 0; i < 2; i++) {
        memset(&r[i], 0, sizeof(r[i]));
        r[i].f = f;
        r[i].id = i;
        assert_int_equal(pthread_create(&t[i], NULL, race_main, &r[i]), 0);
    }
    for (i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        if (r[i].failures)
            fail_msg("thread %u: %d failures, last: %s", i, r[i].failures,
                     r[i].msg);
    }
    v = list(f, f->c, &n);
    assert_int_equal(n, 4 + 40);
    for (i = 0; i < 2; i++) {
        for (k = 0; k < 20; k++) {
            char name[16];

            snprintf(name, sizeof(name), "vbt%u-%02u", i, k);
            assert_non_null(find(v, n, name));
        }
    }
    xfree(v);
}

/* An edit the test driver would not load is never installed: a node
 * file with a definition libvirt refuses (an unknown bond mode) stays
 * as it is, and the edit fails. */
static void
test_verify(void **state)
{
    struct fx *f = *state;
    char *before, *after;

    node_insert(f->file, "  <interface type='bond' name='bondX'><bond "
                         "mode='bogus'><interface type='ethernet' "
                         "name='eth9'/></bond></interface>\n");
    before = slurp_node(f->file);
    expect_fail(f->ops->bridge_define(f->c, "vbX", NULL, NULL),
                ERR_INTERNAL);
    assert_non_null(strstr(err_message(), "does not load"));
    after = slurp_node(f->file);
    assert_string_equal(before, after);
    xfree(before);
    xfree(after);
    /* Listing fails the way reaching a broken host does. */
    {
        struct hv_iface *v = NULL;
        size_t n = 0;

        expect_fail(f->ops->iface_list(f->c, &v, &n), ERR_UNREACHABLE);
        assert_null(v);
    }
}

/* The real-host path (libvirt's interface API, transactions) against
 * test:///default, whose one port is eth1. */
static void
test_real_path(void **state)
{
    const struct hv_net_ops *ops = hv_libvirt.net;
    struct hv_conn *c;
    const struct hv_iface *e;
    struct hv_iface *v = NULL;
    size_t n;

    (void)state;
    c = hv_libvirt.open("test:///default", NULL);
    assert_non_null(c);
    if (ops->iface_list(c, &v, &n) < 0)
        fail_msg("iface_list: %s", err_message());
    assert_int_equal(n, 1);
    assert_string_equal(v[0].name, "eth1");
    assert_string_equal(v[0].mac, "aa:bb:cc:dd:ee:ff");
    xfree(v);

    expect_ok(ops->vlan_define(c, "eth1", 5, NULL));
    expect_ok(ops->bridge_define(c, "vbR1", "eth1.5", &ip_static));
    expect_ok(ops->bridge_define(c, "vbR2", NULL, &ip_dhcp));
    expect_fail(ops->bridge_define(c, "vbR3", "eth1.5", NULL), ERR_EXISTS);
    expect_fail(ops->vlan_define(c, "eth1", 5, NULL), ERR_EXISTS);
    expect_fail(ops->vlan_define(c, "eth7", 5, NULL), ERR_NOT_FOUND);
    expect_fail(ops->bond_define(c, "bond0", "ACTIVE_PASSIVE", "eth1",
                                 "eth2", 0, NULL), ERR_NOT_FOUND);
    expect_fail(ops->bond_define(c, "bond0", "FAST", "eth1", "eth2", 0,
                                 NULL), ERR_INVALID);
    assert_int_equal(ops->iface_list(c, &v, &n), 0);
    assert_int_equal(n, 4);
    e = find(v, n, "vbR1");
    assert_non_null(e);
    assert_int_equal(e->type, HV_IF_BRIDGE);
    assert_true(e->active);
    assert_string_equal(e->over[0], "eth1.5");
    e = find(v, n, "eth1.5");
    assert_int_equal(e->type, HV_IF_VLAN);
    assert_int_equal(e->tag, 5);
    xfree(v);

    expect_fail(ops->iface_remove(c, "eth1.5"), ERR_STATE);
    expect_fail(ops->iface_remove(c, "eth1"), ERR_INVALID);
    expect_fail(ops->iface_remove(c, "vbR9"), ERR_NOT_FOUND);
    expect_ok(ops->iface_remove(c, "vbR1"));
    expect_ok(ops->iface_remove(c, "eth1.5"));
    expect_ok(ops->iface_remove(c, "vbR2"));
    assert_int_equal(ops->iface_list(c, &v, &n), 0);
    assert_int_equal(n, 1);
    xfree(v);
    hv_libvirt.close(c);
}

static int
group_teardown(void **state)
{
    (void)state;
    hv_shutdown();
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bond, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_bond_modes, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_invalid, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_stack, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_rules, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_persistence, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_concurrent, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_verify, fx_setup, fx_teardown),
        cmocka_unit_test(test_real_path),
    };

    log_set_level(getenv("NETDEBUG") ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests_name("hv_net", tests, NULL,
                                       group_teardown);
}
