/*
 * sim.c - simulated servers: node files for libvirt's test driver
 * (hv_sim_generate(), see hv.h).
 *
 * DESIGN: a simulated server is `<dir>/sim-<i>.xml`, opened as
 * "test://<abs path>" (hv_uri_for()). Each connection to such a file gets
 * its own private state parsed from it, so N files are N independent
 * hosts in one process (reference/libvirt-lab.md section 1.2). The test
 * driver reads only what it knows from the file -- /node/cpu/{mhz,model,
 * active,nodes,sockets,cores,threads}, /node/memory, /node/domain,
 * /node/network, /node/interface, /node/pool, /node/device and
 * /node/auth -- each by an XPath of its own, and ignores every other
 * element. What it cannot report for itself is the host's identity: it
 * returns the real machine's hostname for every file, capabilities with
 * no host UUID and a fixed sysinfo sample.
 *
 * Where the identity lives: in one extra child element of <node> in a
 * namespace of ours,
 *
 *   <node>
 *     <ovmm:host xmlns:ovmm='urn:ovmm:sim:1'>
 *       <ovmm:hostname>sim-1</ovmm:hostname>
 *       <ovmm:uuid>6f1c...</ovmm:uuid>
 *       <ovmm:cpu vendor='GenuineIntel' family='6' model='85'
 *                 stepping='4'>Intel(R) Xeon(R) Gold 6138 ...</ovmm:cpu>
 *       <ovmm:bios vendor='...' version='...' date='...'/>
 *       <ovmm:system manufacturer='...' product='...' serial='...'/>
 *     </ovmm:host>
 *     <cpu>...</cpu> ...
 *
 * which hv/libvirt.c reads back (by the namespace URI, SIM_NS there) when
 * it discovers a test:/// host. Measured against libvirt 9.0.0's test
 * driver: an unknown element (with or without a namespace), an unknown
 * attribute on <node> or <cpu> and an XML comment are all accepted and
 * change nothing the driver reports. The namespaced element was chosen
 * because it is structured (no ad-hoc parsing of a comment), cannot
 * collide with an element a later libvirt may start to read, and keeps
 * the file a plain test-driver file that `virsh -c test:///...` opens.
 *
 * The identity is deterministic: the UUID is the SHA-256 (libsodium) of
 * "<seed>/sim-<i>" shaped as a version-4 UUID (so any UUID validator
 * accepts it), and the MACs and serial number are taken from it, so a
 * data directory keeps its hosts across restarts while another seed
 * (another data directory) gets other ones. Hosts cycle through three
 * hardware profiles: sim-1 and sim-2 share an Intel family 6 model 85 CPU
 * (one CPU compatibility group) with different socket counts and memory,
 * sim-3 has an AMD family 23 model 49 CPU. No domains: VMs are created
 * through the API.
 *
 * Files are written atomically (temporary file, fsync, rename) into a
 * directory made with mode 0700, so a test driver that opens a file while
 * it is being replaced sees the old or the new one, never half.
 *
 * Host networking survives a restart. The bonds, VLAN devices and bridges
 * ovmm makes on a simulated host are <interface> elements of its node
 * file (hv/simnet.c edits them in place; hv.h, "host networking"), as a
 * real host keeps its network configuration on disk. So when a node file
 * is rewritten here, every <interface> of the old file other than the
 * generated eth0..eth3 is copied, as it was, after them; the rest of
 * the file (identity, CPU, memory, pool) is generated afresh. The whole
 * rewrite holds the directory's lock (hv_simnet_lock()), the one node
 * file edits take, so an edit running meanwhile is never lost. No state;
 * thread-safe.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "hv/hv.h"
#include "hv/simnet.h"
#include "util/alloc.h"
#include "util/autoptr.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/str.h"

LOG_MODULE("hv");

/* The namespace of the identity element; hv/libvirt.c has the same. */
#define SIM_NS "urn:ovmm:sim:1"

/* One simulated hardware model. Strings must need no XML escaping. */
struct sim_profile {
    const char *cpu_vendor;
    int cpu_family;
    int cpu_model;
    int cpu_stepping;
    const char *cpu_model_name;
    unsigned mhz;
    unsigned sockets;
    unsigned cores;            /* per socket */
    unsigned threads;          /* per core */
    unsigned memory_gib;
    const char *product;
    const char *bios_version;
    const char *bios_date;
};

static const struct sim_profile sim_profiles[] = {
    { "GenuineIntel", 6, 85, 4, "Intel(R) Xeon(R) Gold 6138 CPU @ 2.00GHz",
      2000, 2, 8, 2, 64, "SimServer X7-2", "1.7.2", "05/23/2023" },
    { "GenuineIntel", 6, 85, 4, "Intel(R) Xeon(R) Gold 6138 CPU @ 2.00GHz",
      2000, 1, 8, 2, 32, "SimServer X7-1", "1.7.2", "05/23/2023" },
    { "AuthenticAMD", 23, 49, 0, "AMD EPYC 7302 16-Core Processor",
      3000, 1, 4, 2, 16, "SimServer E2-1", "2.1.0", "11/02/2023" },
};
#define SIM_NPROFILES (sizeof(sim_profiles) / sizeof(sim_profiles[0]))

/* The 16 identity bytes of host @i: SHA-256("<seed>/sim-<i>"), cut. */
static int
sim_identity_bytes(const char *seed, unsigned i, unsigned char out[16])
{
    char *AUTOFREE input = xasprintf("%s/sim-%u", seed, i);
    unsigned char md[crypto_hash_sha256_BYTES];

    if (crypto_hash_sha256(md, (const unsigned char *)input,
                           strlen(input)) != 0) {
        err_set(ERR_INTERNAL, "cannot hash the identity of simulated host "
                              "'sim-%u'", i);
        return -1;
    }
    memcpy(out, md, 16);
    /* Shape it as an RFC 4122 version-4, variant-1 UUID. */
    out[6] = (unsigned char)((out[6] & 0x0f) | 0x40);
    out[8] = (unsigned char)((out[8] & 0x3f) | 0x80);
    return 0;
}

/* Format @b as "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" into @out (37). */
static void
sim_uuid_format(const unsigned char b[16], char out[37])
{
    char hex[33];

    hex_encode(b, 16, hex);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
             hex + 16, hex + 20);
}

/*
 * A locally administered, unicast MAC for NIC @nic of the host with
 * identity @b: 02:<4 bytes of the identity>:<nic>. Distinct for the NICs
 * of one host; across hosts as distinct as 32 bits of a hash.
 */
static void
sim_mac_format(const unsigned char b[16], unsigned nic, char out[18])
{
    snprintf(out, 18, "02:%02x:%02x:%02x:%02x:%02x", b[12], b[13], b[14],
             b[15], nic & 0xff);
}

/* The interfaces every node file has; the others are kept (DESIGN). */
static const char *const sim_nics[] = { "eth0", "eth1", "eth2", "eth3" };

/* The node file of host @i (1-based) into @b, with @kept (the kept
 * <interface> lines, may be "") after the generated interfaces. */
static int
sim_node_xml(struct buf *b, const char *seed, unsigned i, const char *kept)
{
    const struct sim_profile *p = &sim_profiles[(i - 1) % SIM_NPROFILES];
    unsigned char id[16];
    char uuid[37], mac0[18], mac1[18], mac2[18], mac3[18], hex[33];
    char serial[16];

    if (sim_identity_bytes(seed, i, id) < 0)
        return -1;
    sim_uuid_format(id, uuid);
    sim_mac_format(id, 0, mac0);
    sim_mac_format(id, 1, mac1);
    sim_mac_format(id, 2, mac2);
    sim_mac_format(id, 3, mac3);
    hex_encode(id + 10, 5, hex);
    snprintf(serial, sizeof(serial), "SIM%.10s", hex);
    for (char *s = serial; *s; s++) {
        if (*s >= 'a' && *s <= 'f')
            *s = (char)(*s - 'a' + 'A');
    }

    buf_printf(b,
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        "<!-- sim-%u: a simulated server for libvirt's test driver,\n"
        "     written by ovmmd (hv_sim_generate) at every start. -->\n"
        "<node>\n"
        "  <ovmm:host xmlns:ovmm='" SIM_NS "'>\n"
        "    <ovmm:hostname>sim-%u</ovmm:hostname>\n"
        "    <ovmm:uuid>%s</ovmm:uuid>\n"
        "    <ovmm:cpu vendor='%s' family='%d' model='%d' stepping='%d'>"
        "%s</ovmm:cpu>\n"
        "    <ovmm:bios vendor='ovmm SimBIOS' version='%s' date='%s'/>\n"
        "    <ovmm:system manufacturer='ovmm' product='%s' serial='%s'/>\n"
        "  </ovmm:host>\n",
        i, i, uuid, p->cpu_vendor, p->cpu_family, p->cpu_model,
        p->cpu_stepping, p->cpu_model_name, p->bios_version, p->bios_date,
        p->product, serial);
    buf_printf(b,
        "  <cpu><mhz>%u</mhz><model>x86_64</model><active>%u</active>"
        "<nodes>1</nodes><sockets>%u</sockets><cores>%u</cores>"
        "<threads>%u</threads></cpu>\n"
        "  <memory>%llu</memory>\n",
        p->mhz, p->sockets * p->cores * p->threads, p->sockets, p->cores,
        p->threads, (unsigned long long)p->memory_gib * 1024 * 1024);
    buf_printf(b,
        "  <interface type='ethernet' name='eth0'><start mode='onboot'/>"
        "<mac address='%s'/><mtu size='1500'/></interface>\n"
        "  <interface type='ethernet' name='eth1'><start mode='onboot'/>"
        "<mac address='%s'/><mtu size='9000'/></interface>\n"
        "  <interface type='ethernet' name='eth2'><start mode='onboot'/>"
        "<mac address='%s'/><mtu size='1500'/></interface>\n"
        "  <interface type='ethernet' name='eth3'><start mode='onboot'/>"
        "<mac address='%s'/><mtu size='1500'/></interface>\n"
        "%s"
        "  <pool type='dir'><name>local-sim-%u</name>"
        "<target><path>/OVS/local-sim-%u</path></target></pool>\n"
        "</node>\n",
        mac0, mac1, mac2, mac3, kept, i, i);
    return 0;
}

/* Write @len bytes of @data to @path atomically (temp + fsync + rename). */
static int
sim_write_file(const char *path, const char *data, size_t len)
{
    char *AUTOFREE tmp = xasprintf("%s.tmp.XXXXXX", path);
    size_t off = 0;
    int fd;

    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        err_set(ERR_IO, "cannot create '%s': %s", tmp, strerror(errno));
        return -1;
    }
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto fail;
        off += (size_t)n;
    }
    if (fsync(fd) < 0)
        goto fail;
    if (close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) < 0)
        goto fail;
    return 0;

 fail:
    err_set(ERR_IO, "cannot write '%s': %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return -1;
}

int
hv_sim_generate(const char *dir, unsigned n, const char *seed)
{
    unsigned i;
    int lockfd;

    if (!dir || !*dir) {
        err_set(ERR_INVALID, "cannot generate simulated hosts: no directory");
        return -1;
    }
    if (!seed)
        seed = "";
    if (fs_mkdir_p(dir, 0700) < 0)
        return -1;
    if ((lockfd = hv_simnet_lock(dir)) < 0)
        return -1;
    for (i = 1; i <= n; i++) {
        char *AUTOFREE path = xasprintf("%s/sim-%u.xml", dir, i);
        struct buf b, kept;
        int rc;

        buf_init(&b, 0);
        buf_init(&kept, 0);
        rc = hv_simnet_kept(path, sim_nics,
                            sizeof(sim_nics) / sizeof(sim_nics[0]), &kept);
        if (rc == 0)
            rc = sim_node_xml(&b, seed, i, kept.data ? kept.data : "");
        if (rc == 0)
            rc = sim_write_file(path, b.data, b.len);
        buf_release(&kept);
        buf_release(&b);
        if (rc < 0) {
            hv_simnet_unlock(lockfd);
            return -1;
        }
    }
    /* A previous start with more hosts left files that would still be
     * found by hv_uri_for(): remove them, so there are exactly @n. */
    for (i = n + 1;; i++) {
        char *AUTOFREE path = xasprintf("%s/sim-%u.xml", dir, i);

        if (unlink(path) < 0)
            break;
        log_info("removed simulated host file '%s'", path);
    }
    hv_simnet_unlock(lockfd);
    /* One simulated NFS server for them (hv.h, "SIMULATED STORAGE"):
     * access host "sim-nfs" exporting /exports/repo1 .. repo3. Existing
     * exports and their files are kept. */
    if (n > 0) {
        for (i = 1; i <= 3; i++) {
            char *AUTOFREE exp = xasprintf("%s/nfs/" HV_SIM_NFS_HOST
                                           "/exports/repo%u", dir, i);

            if (fs_mkdir_p(exp, 0700) < 0)
                return -1;
        }
        /* And one simulated iSCSI server: target HV_SIM_ISCSI_IQN with
         * lun-0 (1 GiB) and lun-1 (2 GiB), sparse. Existing LUN files
         * are kept as they are. */
        {
            char *AUTOFREE tgt = xasprintf("%s/iscsi/" HV_SIM_ISCSI_HOST
                                           "/" HV_SIM_ISCSI_IQN, dir);

            if (fs_mkdir_p(tgt, 0700) < 0)
                return -1;
            for (i = 0; i < 2; i++) {
                char *AUTOFREE lun = xasprintf("%s/lun-%u", tgt, i);
                int fd = open(lun, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                              0600);

                if (fd < 0) {
                    if (errno == EEXIST)
                        continue;
                    err_set(ERR_IO, "cannot create '%s': %s", lun,
                            strerror(errno));
                    return -1;
                }
                if (ftruncate(fd, (off_t)(i + 1) << 30) < 0) {
                    err_set(ERR_IO, "cannot size '%s': %s", lun,
                            strerror(errno));
                    close(fd);
                    return -1;
                }
                close(fd);
            }
        }
    }
    log_debug("wrote %u simulated host(s) into '%s'", n, dir);
    return 0;
}
