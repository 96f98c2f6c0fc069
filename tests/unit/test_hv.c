/*
 * test_hv.c - hv/: simulated hosts (node files for libvirt's test
 * driver), URIs, and the libvirt driver itself, run in-process against
 * the real test driver (no daemon): discovery, identity, NICs, storage,
 * bulk domain stats, credentials and connection errors.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "hv/hv.h"
#include "tmpdir.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/log.h"
#include "util/str.h"

#define TEMPLATE "xen+tls://{host}/system"
/* hv.h: "cannot connect / the connection died" (LV_ERR_DOWN there). */
#define HV_ERR_DOWN ERR_UNREACHABLE

/* What hv/sim.c promises for hosts 1..3 (its profiles). */
static const struct {
    unsigned cpus, sockets, cores, threads, mhz;
    uint64_t memory_kib;
    const char *vendor;
    int family, model, stepping;
} expect[] = {
    { 32, 2, 8, 2, 2000, 64ULL << 20, "GenuineIntel", 6, 85, 4 },
    { 16, 1, 8, 2, 2000, 32ULL << 20, "GenuineIntel", 6, 85, 4 },
    { 8, 1, 4, 2, 3000, 16ULL << 20, "AuthenticAMD", 23, 49, 0 },
};

/* Remove @dir and everything under it. */
static void
rm_rf(const char *dir)
{
    char *cmd = xasprintf("rm -rf '%s'", dir);

    assert_int_equal(system(cmd), 0);
    xfree(cmd);
}

/* The whole of @path as a string. Caller frees. */
static char *
slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *data;
    long n;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
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
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(data, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* Open simulated host @name of @dir through hv_uri_for() like the
 * daemon does. */
static struct hv_conn *
open_sim(const char *dir, const char *name)
{
    char *uri = hv_uri_for(name, NULL, TEMPLATE, dir);
    struct hv_conn *c;

    assert_non_null(uri);
    assert_true(str_has_prefix(uri, "test:///"));
    c = hv_libvirt.open(uri, NULL);
    if (!c)
        fprintf(stderr, "# open %s: %s\n", uri, err_message());
    assert_non_null(c);
    xfree(uri);
    return c;
}

/* The host UUID hv reports for sim-@i in @dir. */
static void
sim_uuid(const char *dir, unsigned i, char out[64])
{
    char name[16];
    struct hv_conn *c;
    struct hv_node_facts f;

    snprintf(name, sizeof(name), "sim-%u", i);
    c = open_sim(dir, name);
    assert_int_equal(hv_libvirt.node_facts(c, &f), 0);
    str_copy(out, f.uuid, 64);
    hv_node_facts_release(&f);
    hv_libvirt.close(c);
}

static void
test_sim_files(void **state)
{
    char tmp[256], dir[300], path[400];
    struct stat st;
    unsigned i;

    (void)state;
    assert_int_equal(tmpdir_make(tmp, sizeof(tmp), "hv"), 0);
    snprintf(dir, sizeof(dir), "%s/data/sim", tmp);
    assert_int_equal(hv_sim_generate(dir, 3, "seed-a"), 0);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    for (i = 1; i <= 3; i++) {
        char *xml, needle[64];

        snprintf(path, sizeof(path), "%s/sim-%u.xml", dir, i);
        xml = slurp(path);
        assert_non_null(strstr(xml, "<ovmm:host xmlns:ovmm="));
        snprintf(needle, sizeof(needle), "<ovmm:hostname>sim-%u<", i);
        assert_non_null(strstr(xml, needle));
        snprintf(needle, sizeof(needle), "<name>local-sim-%u</name>", i);
        assert_non_null(strstr(xml, needle));
        assert_non_null(strstr(xml, "<pool type='dir'>"));
        assert_non_null(strstr(strstr(xml, "<interface type='ethernet'") + 1,
                               "<interface type='ethernet'"));
        assert_null(strstr(xml, "<domain"));
        xfree(xml);
    }
    /* The simulated NFS server's exports (hv.h, HV_SIM_NFS_HOST). */
    for (i = 1; i <= 3; i++) {
        snprintf(path, sizeof(path), "%s/nfs/" HV_SIM_NFS_HOST
                 "/exports/repo%u", dir, i);
        assert_int_equal(stat(path, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
    }
    /* The simulated iSCSI server's LUNs (HV_SIM_ISCSI_HOST): sparse
     * files of 1 and 2 GiB. */
    for (i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/iscsi/" HV_SIM_ISCSI_HOST "/"
                 HV_SIM_ISCSI_IQN "/lun-%u", dir, i);
        assert_int_equal(stat(path, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_true(st.st_size == (off_t)(i + 1) << 30);
        assert_true(st.st_blocks * 512 < 1048576);
    }
    /* Nothing else: no temporary files left behind (3 files + nfs/ +
     * iscsi/). */
    snprintf(path, sizeof(path), "ls -A '%s' | wc -l | grep -qx 5", dir);
    assert_int_equal(system(path), 0);

    /* Fewer hosts on the next start: the extra file goes. */
    assert_int_equal(hv_sim_generate(dir, 2, "seed-a"), 0);
    snprintf(path, sizeof(path), "%s/sim-3.xml", dir);
    assert_int_equal(access(path, F_OK), -1);
    snprintf(path, sizeof(path), "%s/sim-2.xml", dir);
    assert_int_equal(access(path, F_OK), 0);

    assert_int_equal(hv_sim_generate(NULL, 1, "x"), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    rm_rf(tmp);
}

static void
test_sim_discovery(void **state)
{
    char tmp[256], path[400];
    char uuids[3][64], macs[12][32];
    unsigned i, j;

    (void)state;
    assert_int_equal(tmpdir_make(tmp, sizeof(tmp), "hv"), 0);
    assert_int_equal(hv_sim_generate(tmp, 3, "seed-a"), 0);
    for (i = 0; i < 3; i++) {
        struct hv_node_facts f;
        struct hv_dom_stat *stats = (struct hv_dom_stat *)1;
        size_t n = 99;
        char name[16], *xml;
        struct hv_conn *c;

        snprintf(name, sizeof(name), "sim-%u", i + 1);
        c = open_sim(tmp, name);
        assert_true(hv_libvirt.alive(c));
        assert_int_equal(hv_libvirt.node_facts(c, &f), 0);

        /* Hardware from the node file. */
        assert_int_equal(f.cpus, expect[i].cpus);
        assert_int_equal(f.sockets, expect[i].sockets);
        assert_int_equal(f.cores_per_socket, expect[i].cores);
        assert_int_equal(f.threads_per_core, expect[i].threads);
        assert_int_equal(f.mhz, expect[i].mhz);
        assert_int_equal(f.memory_kib, expect[i].memory_kib);
        /* No domains: all of it is free (the test-driver fallback). */
        assert_int_equal(f.free_memory_kib, expect[i].memory_kib);

        /* Identity from the <ovmm:host> element, not the test driver. */
        assert_string_equal(f.hostname, name);
        assert_int_equal(strlen(f.uuid), 36);
        str_copy(uuids[i], f.uuid, sizeof(uuids[i]));
        assert_string_equal(f.cpu_vendor, expect[i].vendor);
        assert_int_equal(f.cpu_family, expect[i].family);
        assert_int_equal(f.cpu_model, expect[i].model);
        assert_int_equal(f.cpu_stepping, expect[i].stepping);
        assert_non_null(strstr(f.cpu_model_name,
                               i < 2 ? "Intel(R) Xeon(R)" : "AMD EPYC"));
        assert_string_equal(f.bios_vendor, "ovmm SimBIOS");
        assert_true(f.bios_version[0] && f.bios_date[0]);
        assert_string_equal(f.manufacturer, "ovmm");
        assert_true(str_has_prefix(f.product, "SimServer "));
        assert_true(str_has_prefix(f.serial, "SIM"));
        assert_int_equal(strlen(f.serial), 13);

        /* What the test driver itself says. */
        assert_string_equal(f.hv_type, "test");
        assert_true(f.hv_version[0] != '\0');
        assert_true(f.arch[0] != '\0');
        assert_true(f.ncapabilities > 0);
        for (j = 0; j < f.ncapabilities; j++)
            assert_true(str_has_prefix(f.capabilities[j], "HVM_") ||
                        str_has_prefix(f.capabilities[j], "PVM_"));

        /* Four NICs with the MACs of the file, up, with their MTUs. */
        snprintf(path, sizeof(path), "%s/%s.xml", tmp, name);
        xml = slurp(path);
        assert_int_equal(f.nnics, 4);
        for (j = 0; j < 4; j++) {
            char needle[64];

            snprintf(needle, sizeof(needle), "<mac address='%s'/>",
                     f.nics[j].mac);
            assert_non_null(strstr(xml, needle));
            assert_true(str_has_prefix(f.nics[j].mac, "02:"));
            assert_true(f.nics[j].up);
            assert_int_equal(f.nics[j].mtu,
                             strcmp(f.nics[j].name, "eth1") == 0 ? 9000
                                                                 : 1500);
            str_copy(macs[i * 4 + j], f.nics[j].mac, sizeof(macs[0]));
        }
        xfree(xml);

        /* The local pool. */
        assert_int_equal(f.ndisks, 1);
        snprintf(path, sizeof(path), "local-%s", name);
        assert_string_equal(f.disks[0].name, path);
        assert_string_equal(f.disks[0].type, "dir");
        snprintf(path, sizeof(path), "/OVS/local-%s", name);
        assert_string_equal(f.disks[0].path, path);
        assert_true(f.disks[0].capacity_bytes > 0);
        hv_node_facts_release(&f);
        assert_null(f.nics);
        assert_int_equal(f.cpu_family, -1);

        /* No domains. */
        assert_int_equal(hv_libvirt.domain_stats(c, &stats, &n), 0);
        assert_int_equal(n, 0);
        assert_null(stats);
        hv_libvirt.close(c);
    }
    for (i = 0; i < 3; i++) {
        for (j = 0; j < i; j++)
            assert_string_not_equal(uuids[i], uuids[j]);
    }
    for (i = 0; i < 12; i++) {
        for (j = 0; j < i; j++)
            assert_string_not_equal(macs[i], macs[j]);
    }
    rm_rf(tmp);
}

static void
test_sim_uuid_stable(void **state)
{
    char a[256], b[256], u1[64], u2[64], u3[64];

    (void)state;
    assert_int_equal(tmpdir_make(a, sizeof(a), "hv"), 0);
    assert_int_equal(tmpdir_make(b, sizeof(b), "hv"), 0);
    assert_int_equal(hv_sim_generate(a, 2, "seed-a"), 0);
    sim_uuid(a, 2, u1);
    /* Regenerated (a restart), and in another directory: the same. */
    assert_int_equal(hv_sim_generate(a, 2, "seed-a"), 0);
    sim_uuid(a, 2, u2);
    assert_string_equal(u1, u2);
    assert_int_equal(hv_sim_generate(b, 2, "seed-a"), 0);
    sim_uuid(b, 2, u2);
    assert_string_equal(u1, u2);
    /* Another seed: another host. */
    assert_int_equal(hv_sim_generate(b, 2, "seed-b"), 0);
    sim_uuid(b, 2, u3);
    assert_string_not_equal(u1, u3);
    rm_rf(a);
    rm_rf(b);
}

static const char stats_xml[] =
    "<node>\n"
    "  <cpu><mhz>2000</mhz><model>x86_64</model><active>8</active>"
    "<nodes>1</nodes><sockets>1</sockets><cores>4</cores><threads>2</threads>"
    "</cpu>\n"
    "  <memory>16777216</memory>\n"
    "  <domain type='test'>\n"
    "    <name>vm1</name><uuid>11111111-2222-4333-8444-555555555555</uuid>\n"
    "    <memory unit='MiB'>1024</memory>"
    "<currentMemory unit='MiB'>768</currentMemory>\n"
    "    <vcpu current='2'>4</vcpu><os><type>hvm</type></os>\n"
    "  </domain>\n"
    "  <domain type='test' "
    "xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>\n"
    "    <name>vm2</name><uuid>11111111-2222-4333-8444-666666666666</uuid>\n"
    "    <memory unit='MiB'>512</memory><vcpu>1</vcpu>"
    "<os><type>hvm</type></os>\n"
    "    <test:runstate>5</test:runstate>\n"
    "  </domain>\n"
    "</node>\n";

static void
test_domain_stats(void **state)
{
    char tmp[256], path[400], *uri;
    struct hv_dom_stat *stats = NULL;
    struct hv_node_facts f;
    struct hv_conn *c;
    size_t n = 0, i;
    bool seen1 = false, seen2 = false;

    (void)state;
    assert_int_equal(tmpdir_make(tmp, sizeof(tmp), "hv"), 0);
    snprintf(path, sizeof(path), "%s/withvm.xml", tmp);
    spit(path, stats_xml);
    uri = hv_uri_for("withvm", NULL, TEMPLATE, tmp);
    assert_non_null(uri);
    c = hv_libvirt.open(uri, NULL);
    assert_non_null(c);
    assert_int_equal(hv_libvirt.domain_stats(c, &stats, &n), 0);
    assert_int_equal(n, 2);
    for (i = 0; i < n; i++) {
        if (strcmp(stats[i].name, "vm1") == 0) {
            seen1 = true;
            assert_string_equal(stats[i].uuid,
                                "11111111-2222-4333-8444-555555555555");
            assert_int_equal(stats[i].state, HV_DOM_RUNNING);
            assert_int_equal(stats[i].vcpus, 2);
            assert_int_equal(stats[i].memory_kib, 768 * 1024);
        } else {
            seen2 = true;
            assert_string_equal(stats[i].name, "vm2");
            assert_int_equal(stats[i].state, HV_DOM_SHUTOFF);
        }
    }
    assert_true(seen1 && seen2);
    xfree(stats);

    /* A hand-written file: no identity element, yet a stable UUID, and
     * the running domain's memory is not free. */
    assert_int_equal(hv_libvirt.node_facts(c, &f), 0);
    assert_int_equal(strlen(f.uuid), 36);
    assert_int_equal(f.memory_kib, 16777216);
    assert_int_equal(f.free_memory_kib, 16777216 - 768 * 1024);
    assert_int_equal(f.nnics, 0);
    assert_int_equal(f.ndisks, 0);
    hv_node_facts_release(&f);
    hv_libvirt.close(c);
    xfree(uri);
    rm_rf(tmp);
}

static void
test_auth(void **state)
{
    char tmp[256], path[400], *uri;
    struct hv_auth good = { "agent", "s3cret-pw" };
    struct hv_auth bad = { "agent", "wrong-pw" };
    struct hv_auth nopw = { "agent", NULL };
    struct hv_conn *c;

    (void)state;
    assert_int_equal(tmpdir_make(tmp, sizeof(tmp), "hv"), 0);
    snprintf(path, sizeof(path), "%s/locked.xml", tmp);
    spit(path, "<node><cpu><active>2</active></cpu><memory>1048576</memory>"
               "<auth><user password='s3cret-pw'>agent</user></auth></node>");
    uri = hv_uri_for("locked", NULL, TEMPLATE, tmp);
    assert_non_null(uri);

    c = hv_libvirt.open(uri, &good);
    assert_non_null(c);
    assert_true(hv_libvirt.alive(c));
    hv_libvirt.close(c);

    assert_null(hv_libvirt.open(uri, &bad));
    assert_int_equal(err_code(), ERR_AUTH);
    assert_null(strstr(err_message(), "wrong-pw"));
    assert_null(strstr(err_message(), "s3cret"));
    assert_null(hv_libvirt.open(uri, &nopw));
    assert_int_equal(err_code(), ERR_AUTH);
    assert_null(hv_libvirt.open(uri, NULL));
    assert_int_equal(err_code(), ERR_AUTH);
    /* The password never reaches the URI. */
    assert_null(strstr(uri, "s3cret"));
    xfree(uri);
    rm_rf(tmp);
}

static void
test_uri_for(void **state)
{
    static const char *const bad[] = {
        "", "a b", "a/b", "a@b", "a?b", "a#b", "a'b", "a\"b", "a\tb", "a\nb",
        "a\rb", "a\x7f" "b", "a%20b", "a;b", "a`b", "a\\b", "$(x)",
        "-oProxyCommand", "-Jevil.example", ".hidden", "a,b", "a=b",
    };
    char tmp[256], spaced[300], path[400], *uri;
    size_t i;

    (void)state;
    uri = hv_uri_for("xen1.example.com", NULL, TEMPLATE, NULL);
    assert_string_equal(uri, "xen+tls://xen1.example.com/system");
    xfree(uri);
    uri = hv_uri_for("10.0.0.5", "root", "xen+ssh://{user}@{host}/system"
                                         "?name={host}", NULL);
    assert_string_equal(uri, "xen+ssh://root@10.0.0.5/system?name=10.0.0.5");
    xfree(uri);
    uri = hv_uri_for("[fe80::1]", NULL, "qemu+tls://{host}/system", NULL);
    assert_string_equal(uri, "qemu+tls://[fe80::1]/system");
    xfree(uri);
    uri = hv_uri_for("h", NULL, "{user}x{host}", NULL);
    assert_string_equal(uri, "xh");
    xfree(uri);

    /* Whole URIs pass through. */
    uri = hv_uri_for("qemu+ssh://root@kvm1/system?keyfile=/k", "ignored",
                     TEMPLATE, NULL);
    assert_string_equal(uri, "qemu+ssh://root@kvm1/system?keyfile=/k");
    xfree(uri);
    uri = hv_uri_for("test:///default", NULL, NULL, NULL);
    assert_string_equal(uri, "test:///default");
    xfree(uri);
    /* ...but not with spaces or control characters. */
    assert_null(hv_uri_for("qemu:///system x", NULL, TEMPLATE, NULL));
    assert_int_equal(err_code(), ERR_INVALID);
    assert_null(hv_uri_for("qemu:///sys\ttem", NULL, TEMPLATE, NULL));
    assert_int_equal(err_code(), ERR_INVALID);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_clear();
        uri = hv_uri_for(bad[i], NULL, TEMPLATE, NULL);
        if (uri)
            fprintf(stderr, "# accepted '%s' as '%s'\n", bad[i], uri);
        assert_null(uri);
        assert_int_equal(err_code(), ERR_INVALID);
    }
    assert_null(hv_uri_for(NULL, NULL, TEMPLATE, NULL));
    assert_int_equal(err_code(), ERR_INVALID);
    /* Bad user names cannot smuggle anything in either. */
    assert_null(hv_uri_for("h", "a@b", "xen+ssh://{user}@{host}/", NULL));
    assert_int_equal(err_code(), ERR_INVALID);
    assert_null(hv_uri_for("h", "a b", "xen+ssh://{user}@{host}/", NULL));
    assert_int_equal(err_code(), ERR_INVALID);
    assert_null(hv_uri_for("h", "-l", "xen+ssh://{user}@{host}/", NULL));
    assert_int_equal(err_code(), ERR_INVALID);
    /* No template for a plain name. */
    assert_null(hv_uri_for("h", NULL, NULL, NULL));
    assert_int_equal(err_code(), ERR_INVALID);

    /* Simulated hosts: a file wins; no file falls through. */
    assert_int_equal(tmpdir_make(tmp, sizeof(tmp), "hv"), 0);
    assert_int_equal(hv_sim_generate(tmp, 1, "s"), 0);
    uri = hv_uri_for("sim-1", NULL, TEMPLATE, tmp);
    snprintf(path, sizeof(path), "test://%s/sim-1.xml", tmp);
    assert_string_equal(uri, path);
    xfree(uri);
    uri = hv_uri_for("sim-9", NULL, TEMPLATE, tmp);
    assert_string_equal(uri, "xen+tls://sim-9/system");
    xfree(uri);
    uri = hv_uri_for("sim-1", NULL, TEMPLATE, NULL);
    assert_string_equal(uri, "xen+tls://sim-1/system");
    xfree(uri);
    /* A directory, not a file, does not count. */
    snprintf(path, sizeof(path), "%s/d.xml", tmp);
    assert_int_equal(mkdir(path, 0700), 0);
    uri = hv_uri_for("d", NULL, TEMPLATE, tmp);
    assert_string_equal(uri, "xen+tls://d/system");
    xfree(uri);
    /* A relative or odd sim directory still gives an absolute URI that
     * libvirt opens. */
    snprintf(spaced, sizeof(spaced), "%s/with space%%", tmp);
    assert_int_equal(hv_sim_generate(spaced, 1, "s"), 0);
    uri = hv_uri_for("sim-1", NULL, TEMPLATE, spaced);
    assert_non_null(uri);
    assert_null(strchr(uri, ' '));
    assert_non_null(strstr(uri, "with%20space%25/sim-1.xml"));
    {
        struct hv_conn *c = hv_libvirt.open(uri, NULL);
        struct hv_node_facts f;

        assert_non_null(c);
        assert_int_equal(hv_libvirt.node_facts(c, &f), 0);
        assert_string_equal(f.hostname, "sim-1");
        hv_node_facts_release(&f);
        hv_libvirt.close(c);
    }
    xfree(uri);
    rm_rf(tmp);
}

/* Run hv_libvirt.open(@uri) with stderr captured; returns what was
 * printed (caller frees). */
static char *
open_quietly(const char *uri, struct hv_conn **out)
{
    char tmp[256], path[400], *printed;
    int saved, fd;

    assert_int_equal(tmpdir_make(tmp, sizeof(tmp), "hv"), 0);
    snprintf(path, sizeof(path), "%s/stderr", tmp);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    fflush(stderr);
    saved = dup(2);
    assert_true(saved >= 0);
    assert_int_equal(dup2(fd, 2), 2);
    *out = hv_libvirt.open(uri, NULL);
    fflush(stderr);
    assert_int_equal(dup2(saved, 2), 2);
    close(saved);
    close(fd);
    printed = slurp(path);
    rm_rf(tmp);
    return printed;
}

static void
test_bad_uri(void **state)
{
    struct hv_conn *c;
    char *printed;

    (void)state;
    printed = open_quietly("test:///nonexistent/ovmm-no-such-host.xml", &c);
    assert_null(c);
    assert_int_equal(err_code(), HV_ERR_DOWN);
    assert_non_null(strstr(err_message(), "cannot connect to "
                                          "'test:///nonexistent/"));
    /* libvirt's own words follow ours. */
    assert_non_null(strstr(err_message(), "failed to parse xml document"));
    assert_string_equal(printed, "");
    xfree(printed);

    printed = open_quietly("qemu+tcp://127.0.0.1:1/system", &c);
    assert_null(c);
    assert_int_equal(err_code(), HV_ERR_DOWN);
    assert_non_null(strstr(err_message(), "127.0.0.1"));
    assert_string_equal(printed, "");
    xfree(printed);

    assert_null(hv_libvirt.open("", NULL));
    assert_int_equal(err_code(), ERR_INVALID);
    assert_null(hv_libvirt.open(NULL, NULL));
    assert_int_equal(err_code(), ERR_INVALID);
}

static void
test_shutdown_restart(void **state)
{
    struct hv_conn *c;

    (void)state;
    hv_shutdown();
    hv_shutdown();      /* twice: harmless */
    c = hv_libvirt.open("test:///default", NULL);
    assert_non_null(c);
    assert_true(hv_libvirt.alive(c));
    hv_libvirt.close(c);
    hv_libvirt.close(NULL);
    assert_false(hv_libvirt.alive(NULL));
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
        cmocka_unit_test(test_sim_files),
        cmocka_unit_test(test_sim_discovery),
        cmocka_unit_test(test_sim_uuid_stable),
        cmocka_unit_test(test_domain_stats),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_uri_for),
        cmocka_unit_test(test_bad_uri),
        cmocka_unit_test(test_shutdown_restart),
    };

    /* hv logs a warning for the hand-written file without a UUID. */
    log_set_level(LOG_LEVEL_ERROR);
    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests_name("hv", tests, NULL, group_teardown);
}
