/*
 * hv.h - the hypervisor layer: one driver table, implemented once over
 * libvirt (hv/libvirt.c, the only file that includes libvirt).
 *
 * DESIGN (DESIGN.md section 5): every server has a libvirt URI, made from
 * its address and agent credentials by a template (hv_uri_for()) or given
 * whole. Jobs and the monitor call the driver through `hv`, never libvirt
 * directly. A `struct hv_conn` is one open connection to one server, kept
 * by its owner (later: the server registry) and reused for everything,
 * with libvirt keepalive and a close callback that marks it dead.
 * Passwords reach libvirt through the auth callback only -- never in a URI,
 * an argv or a log line.
 *
 * Simulated hosts (the demo and the tests) are libvirt's test driver with
 * one node file per host, `<data>/sim/<name>.xml` (hv_sim_generate()).
 * hv_uri_for() maps the name of such a host to its `test:///` URI; after
 * that nothing knows the host is simulated, except that the test driver
 * reports the real machine's hostname and no host UUID for every file, so
 * hv/libvirt.c takes the identity of a test:/// host from its node file
 * (where hv_sim_generate() wrote it).
 *
 * Thread-safety: a struct hv_conn may be used by one thread at a time
 * (callers serialize per server); different connections are independent.
 * Errors: -1 / NULL with err_set(): ERR_UNREACHABLE (cannot connect / the
 * connection died), ERR_AUTH (credentials refused), ERR_UNSUPPORTED (the
 * hypervisor cannot do it), ERR_INVALID, ERR_INTERNAL.
 */
#ifndef OVMM_HV_H
#define OVMM_HV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hv_conn;

/* Credentials for the auth callback. Borrowed for the call. */
struct hv_auth {
    const char *username;      /* NULL: none */
    const char *password;      /* NULL: none */
};

struct hv_nic {
    char name[64];             /* "eth0" */
    char mac[32];              /* "aa:bb:cc:dd:ee:ff", "" if unknown */
    unsigned mtu;              /* 0 if unknown */
    bool up;
};

/* Local storage the host reports (libvirt storage pools, physical disks). */
struct hv_disk {
    char name[128];            /* pool or disk name */
    char path[512];            /* target path, "" if none */
    char type[32];             /* "dir", "fs", "disk", "logical", ... */
    uint64_t capacity_bytes;
    uint64_t allocation_bytes;
};

/* What discovery learns about a host. */
struct hv_node_facts {
    char hostname[256];
    char uuid[64];             /* host UUID; never empty (see DESIGN) */
    char cpu_vendor[64];       /* "GenuineIntel", "AuthenticAMD", ... */
    char cpu_model_name[128];  /* "Intel(R) Xeon(R) ..." or the libvirt model */
    int cpu_family;            /* -1 if unknown */
    int cpu_model;             /* -1 if unknown */
    int cpu_stepping;          /* -1 if unknown */
    char arch[32];             /* "x86_64" */
    unsigned sockets;
    unsigned cores_per_socket;
    unsigned threads_per_core;
    unsigned cpus;             /* online logical CPUs */
    unsigned mhz;
    uint64_t memory_kib;
    uint64_t free_memory_kib;
    char hv_type[32];          /* "xen", "kvm", "test" (virConnectGetType, lower) */
    char hv_version[32];       /* "4.17.0" */
    char **capabilities;       /* e.g. "XEN_3_0_PVM_x86_64", "HVM_x86_64"; owned */
    size_t ncapabilities;
    char bios_vendor[128];
    char bios_version[64];
    char bios_date[32];
    char manufacturer[128];
    char product[128];
    char serial[128];
    struct hv_nic *nics;       /* owned */
    size_t nnics;
    struct hv_disk *disks;     /* owned */
    size_t ndisks;
};
void hv_node_facts_release(struct hv_node_facts *f);

enum hv_dom_state {
    HV_DOM_NOSTATE, HV_DOM_RUNNING, HV_DOM_BLOCKED, HV_DOM_PAUSED,
    HV_DOM_SHUTDOWN, HV_DOM_SHUTOFF, HV_DOM_CRASHED, HV_DOM_PMSUSPENDED,
};

/* One domain as a bulk stats call reports it. */
struct hv_dom_stat {
    char uuid[40];
    char name[256];
    enum hv_dom_state state;
    unsigned vcpus;
    uint64_t memory_kib;       /* current balloon */
    uint64_t cpu_time_ns;
};

struct hv_driver {
    const char *name;
    /* Connect to @uri with @auth (may be NULL); keepalive and the close
     * callback are armed. NULL with err_set(). */
    struct hv_conn *(*open)(const char *uri, const struct hv_auth *auth);
    void (*close)(struct hv_conn *c);
    /* False once the connection died (close callback, keepalive). */
    bool (*alive)(struct hv_conn *c);
    int (*node_facts)(struct hv_conn *c, struct hv_node_facts *out);
    /* Every domain in one bulk call (virConnectGetAllDomainStats).
     * *out: an array of *n, caller frees with xfree() (NULL when 0). */
    int (*domain_stats)(struct hv_conn *c, struct hv_dom_stat **out,
                        size_t *n);
};

/* The libvirt driver (hv/libvirt.c). */
extern const struct hv_driver hv_libvirt;

/*
 * Stop the libvirt event thread (keepalive, close callbacks) that the
 * first open started; a later open starts it again. Call at teardown,
 * after every connection is closed, from one thread. Safe when nothing
 * was ever opened.
 */
void hv_shutdown(void);

/* ---- URIs and simulated hosts (hv/uri.c, hv/sim.c) ---- */

/*
 * The URI for server @host: when `<sim_dir>/<host>.xml` exists (sim_dir
 * may be NULL), "test://<abs path of that file>"; when @host already is a
 * URI (contains "://"), @host itself; else @template with "{host}"
 * replaced (and "{user}" with @user, "" when NULL), e.g.
 * "xen+tls://{host}/system". Host names are checked (letters, digits,
 * '.', '-', ':', '[', ']' only) so nothing can be smuggled into the URI.
 * Caller frees. NULL with ERR_INVALID.
 */
char *hv_uri_for(const char *host, const char *user, const char *tmpl,
                 const char *sim_dir);

/*
 * Write @n node files `<dir>/sim-1.xml` .. `sim-<n>.xml` (creating @dir,
 * replacing files a previous start wrote): each host with its own CPU
 * count, memory, two interfaces with distinct MACs, one local `dir`
 * storage pool, and its identity (hostname sim-<i>, a UUID derived from
 * @seed and i, so the same data directory keeps the same UUIDs). 0 or -1.
 */
int hv_sim_generate(const char *dir, unsigned n, const char *seed);

#endif
