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

/* ---- storage: repositories and the files in them ----
 *
 * DESIGN (DESIGN.md sections 2 and 5, docs/STORAGE.md): a repository is a
 * directory tree on a file system -- an NFS export, or a directory on a
 * server's local disk -- with the layout
 *
 *   <root>/.ovsrepo                identity (written by the manager)
 *   <root>/{Templates,Assemblies,ISOs,VirtualDisks,VirtualMachines}/
 *
 * Files inside those directories have flat names (no '/'): volumes
 * "<id>.img", "<id>.iso", small files such as "<id>.vm.cfg". A host
 * reaches a repository once it is mounted there (repo_mount: "present"),
 * under a name derived from the repository id. On libvirt hosts a mount
 * is a storage pool for the root (netfs for NFS, dir for local) plus one
 * dir pool per subdirectory, named "ovmm-<repo id>" and
 * "ovmm-<repo id>-<Subdir>", mount point /OVS/Repositories/<repo id> for
 * NFS; files are volumes; upload is virStorageVolUpload.
 *
 * SIMULATED STORAGE (hv/simstore.c, reached only from test:/// hosts --
 * real hosts never take it): libvirt's test driver keeps pools and
 * volumes in memory per connection and touches no disk, and has no
 * upload, resize or download. So for a test:/// connection every storage
 * call below is served on real files under the node file's directory
 * <simdir> (the directory holding sim-N.xml):
 *   NFS server H, export /E   -> <simdir>/nfs/H/E   (exports of H: every
 *                                directory <simdir>/nfs/H/exports/<x>,
 *                                reported as "/exports/<x>")
 *   local directory /D of a sim host S -> <simdir>/local/S/D
 *   iSCSI portal H, target T, LUN file F -> <simdir>/iscsi/H/T/F
 * A mount is recorded as <simdir>/mounts/<S>/<repo id> (a file holding
 * the root's real path), so two simulated hosts mounting the same export
 * share its files, and mounts survive reconnection like real ones.
 *
 * All names are checked: a repository id or file name that is empty or
 * longer than 200 bytes, or has '/', "..", a leading '.' (except
 * ".ovsrepo" in HV_DIR_ROOT) or a control character is ERR_INVALID, so
 * nothing here can reach outside the repository.
 * Errors: ERR_NOT_FOUND (no such file / repository not mounted here /
 * export missing), ERR_EXISTS (file exists), ERR_STATE (repo_destroy:
 * not empty), ERR_UNSUPPORTED, ERR_UNREACHABLE, ERR_INVALID, ERR_ABORTED,
 * ERR_IO (a file operation failed on the server's file system),
 * ERR_INTERNAL.
 */

enum hv_repo_dir {
    HV_DIR_ROOT,
    HV_DIR_TEMPLATES,
    HV_DIR_ASSEMBLIES,
    HV_DIR_ISOS,
    HV_DIR_VIRTUAL_DISKS,
    HV_DIR_VIRTUAL_MACHINES,
    HV_DIR_COUNT
};
/* "" (root), "Templates", "Assemblies", "ISOs", "VirtualDisks",
 * "VirtualMachines". */
const char *hv_repo_dir_name(enum hv_repo_dir d);

/*
 * A file system as a host reaches it. Borrowed strings.
 *
 * "ocfs2": an OCFS2 file system on a LUN (a repository on a physical
 * disk; docs/STORAGE.md, "Repositories on a LUN"). @path is the LUN's
 * device as Linux names an iSCSI LUN, hv_lun_device():
 * "/dev/disk/by-path/ip-<host>:<port>-iscsi-<iqn>-lun-<n>"; @host is
 * unused. Real hosts log in to the target (an iscsi storage pool) and
 * mount it as an "fs" pool of format ocfs2; on simulated storage the LUN
 * is the file <simdir>/iscsi/<host>/<iqn>/lun-<n> and its file system
 * the directory next to it, "lun-<n>.ocfs2/", made by fs_make (mounting
 * never creates it). A repository on it has its root at the file
 * system's root (share ""). Its space: capacity the LUN's size,
 * available that minus what the tree allocates.
 */
struct hv_fs {
    const char *kind;          /* "nfs", "local" or "ocfs2" */
    const char *host;          /* nfs: the file server's access host */
    const char *path;          /* nfs: export path; local: directory;
                                  ocfs2: the LUN's device path */
};

/* The device path of LUN @lun of iSCSI target @iqn at portal
 * @host:@port (see struct hv_fs, "ocfs2"). NULL with ERR_INVALID when
 * @host or @iqn is not a valid name. Caller frees. */
char *hv_lun_device(const char *host, unsigned port, const char *iqn,
                    unsigned lun);

struct hv_space {
    uint64_t capacity_bytes;
    uint64_t available_bytes;
};

struct hv_file {
    char name[256];
    char format[16];           /* "raw", "qcow2", "iso", "" (other) */
    uint64_t capacity_bytes;   /* virtual size */
    uint64_t allocation_bytes; /* on disk */
    char backing[256];         /* qcow2 overlay: backing file's name in the
                                  same directory, else "" */
};

/* A LUN of an iSCSI target (iscsi_luns). */
struct hv_lun {
    char page83[80];           /* page 83 id (hex), stable per LUN */
    char vendor[64];
    uint64_t size_bytes;
    unsigned lun;              /* LUN number */
};

/* An upload in progress (upload_begin); it borrows its connection, so
 * finish or cancel it before closing that. */
struct hv_upload;

struct hv_storage_ops {
    /* NFS exports of @host as this server sees them (showmount; sim: see
     * above). *out: *n strings, free with hv_strv_free(). */
    int (*nfs_exports)(struct hv_conn *c, const char *host, char ***out,
                       size_t *n);
    /*
     * iSCSI targets (IQNs) the portal @host:@port offers to this server
     * (libvirt: virConnectFindStoragePoolSources("iscsi"); sim: the
     * directories <simdir>/iscsi/<host>/<iqn>/, @port ignored). A portal
     * that does not answer: ERR_UNREACHABLE. *iqns: *n strings, sorted,
     * free with hv_strv_free().
     */
    int (*iscsi_targets)(struct hv_conn *c, const char *host, unsigned port,
                         char ***iqns, size_t *n);
    /*
     * The LUNs of target @iqn at @host:@port (libvirt: a transient iscsi
     * pool's volumes, the pool destroyed afterwards; sim: the regular
     * files of <simdir>/iscsi/<host>/<iqn>/, size the file size, page 83
     * id a stable hex hash of host/iqn/file name, LUN number N of a
     * "lun-N" file name, else 0). Unknown target: ERR_NOT_FOUND. *out:
     * *n entries sorted by LUN number, xfree(); NULL when none.
     */
    int (*iscsi_luns)(struct hv_conn *c, const char *host, unsigned port,
                      const char *iqn, struct hv_lun **out, size_t *n);
    /*
     * Look at file system @fs from this server without keeping it
     * mounted: its space, and the text of "<root>/<share>/.ovsrepo" when
     * a repository is there (*ovsrepo NULL otherwise; caller frees;
     * at most 64 KiB). @share: "" or a relative subdirectory path.
     */
    int (*fs_probe)(struct hv_conn *c, const struct hv_fs *fs,
                    const char *share, struct hv_space *space,
                    char **ovsrepo);
    /*
     * Mount repository @repo_id (file system @fs, subdirectory @share) on
     * this server. @build: create the root (when missing) and the five
     * subdirectories first (a new repository). Idempotent: mounting a
     * mounted repository is 0 (ERR_STATE when it is mounted from another
     * file system). A root that does not exist and !@build is
     * ERR_NOT_FOUND.
     */
    int (*repo_mount)(struct hv_conn *c, const char *repo_id,
                      const struct hv_fs *fs, const char *share, bool build);
    /* Unmount; not mounted is 0. Files stay on the file system. */
    int (*repo_unmount)(struct hv_conn *c, const char *repo_id);
    /* 1 mounted, 0 not, -1 error. */
    int (*repo_mounted)(struct hv_conn *c, const char *repo_id);
    /* Space of a mounted repository's file system. */
    int (*repo_space)(struct hv_conn *c, const char *repo_id,
                      struct hv_space *out);
    /*
     * Remove the repository's tree from its file system (the five
     * subdirectories, which must be empty, and .ovsrepo; the root too on
     * simulated storage when it is empty and not the export or local
     * directory itself) and unmount it here. Mounted here. ERR_STATE
     * "repository not empty: <Subdir>/<file>" when a subdirectory holds
     * a file; then nothing was removed.
     */
    int (*repo_destroy)(struct hv_conn *c, const char *repo_id);
    /* Files of one directory (regular files with valid names; no
     * subdirectories, no hidden temporaries), sorted by name; *out freed
     * with xfree(), NULL when *n is 0. */
    int (*file_list)(struct hv_conn *c, const char *repo_id,
                     enum hv_repo_dir dir, struct hv_file **out, size_t *n);
    /* One file's facts. ERR_NOT_FOUND. */
    int (*file_info)(struct hv_conn *c, const char *repo_id,
                     enum hv_repo_dir dir, const char *name,
                     struct hv_file *out);
    /*
     * Create an empty volume of @capacity bytes: @format "raw" (@sparse:
     * allocate nothing; else allocate it all) or "qcow2" with @backing
     * (a file in the same directory) as its backing file (a thin clone).
     * ERR_EXISTS when the name is taken.
     */
    int (*file_create)(struct hv_conn *c, const char *repo_id,
                       enum hv_repo_dir dir, const char *name,
                       uint64_t capacity, bool sparse, const char *format,
                       const char *backing);
    /* Copy a file to another (possibly another repository mounted here;
     * ERR_EXISTS when the target name is taken): @sparse keeps holes,
     * else every byte is allocated. Abortable through @aborting(@opaque)
     * between chunks (may be NULL): then the target is removed and
     * ERR_ABORTED. (On libvirt hosts the copy is one server-side call:
     * @aborting is asked before and after it.) */
    int (*file_copy)(struct hv_conn *c, const char *src_repo,
                     enum hv_repo_dir src_dir, const char *src_name,
                     const char *dst_repo, enum hv_repo_dir dst_dir,
                     const char *dst_name, bool sparse,
                     bool (*aborting)(void *opaque), void *opaque);
    /* Grow a raw or qcow2 volume to @capacity (shrinking: ERR_INVALID). */
    int (*file_resize)(struct hv_conn *c, const char *repo_id,
                       enum hv_repo_dir dir, const char *name,
                       uint64_t capacity);
    /* Delete a file. ERR_NOT_FOUND when absent. */
    int (*file_delete)(struct hv_conn *c, const char *repo_id,
                       enum hv_repo_dir dir, const char *name);
    /* Read a small file whole (at most @max bytes, else ERR_INVALID). */
    int (*file_read)(struct hv_conn *c, const char *repo_id,
                     enum hv_repo_dir dir, const char *name, size_t max,
                     char **data, size_t *len);
    /* Write a small file whole, replacing it atomically (on libvirt
     * hosts, which cannot rename a volume: delete, then create). */
    int (*file_write)(struct hv_conn *c, const char *repo_id,
                      enum hv_repo_dir dir, const char *name,
                      const void *data, size_t len);
    /*
     * Stream a new file in: begin (ERR_EXISTS when the name is taken),
     * write chunks, then finish (the file appears complete under @name)
     * or cancel (nothing stays, not even a partial file). Until finish
     * the file is not visible under @name (on libvirt hosts, which cannot
     * rename a volume, it is written under @name and removed by cancel).
     * Exactly one of finish/cancel ends every upload (finish failing has
     * already cleaned up).
     */
    struct hv_upload *(*upload_begin)(struct hv_conn *c, const char *repo_id,
                                      enum hv_repo_dir dir,
                                      const char *name);
    int (*upload_write)(struct hv_upload *u, const void *buf, size_t len);
    int (*upload_finish)(struct hv_upload *u);
    void (*upload_cancel)(struct hv_upload *u);
    /*
     * Make an OCFS2 file system on the LUN of @fs (kind "ocfs2"), labelled
     * @label, for cluster @cluster (the server pool's id; recorded on
     * simulated storage, and given to mkfs where the host supports it).
     * ERR_EXISTS when the LUN already holds a file system (nothing is
     * overwritten); ERR_NOT_FOUND when this server cannot reach the LUN.
     * Real hosts: a transient fs pool built with NO_OVERWRITE (libvirt's
     * mkfs).
     */
    int (*fs_make)(struct hv_conn *c, const struct hv_fs *fs,
                   const char *label, const char *cluster);
    /*
     * Remove the file system of @fs (kind "ocfs2") and everything on it.
     * No repository may be mounted from it on this server (ERR_STATE).
     * A LUN without a file system is 0. NULL on drivers that cannot (real
     * hosts: the caller reports that the signature stays on the LUN).
     */
    int (*fs_wipe)(struct hv_conn *c, const struct hv_fs *fs);
};

/* ---- host networking: bonds, VLAN devices, bridges ----
 *
 * DESIGN (docs/NETWORKS.md, "On the hosts"): the network devices ovmm
 * makes on a server are libvirt host interfaces (virInterfaceDefineXML +
 * virInterfaceCreate; removal virInterfaceDestroy + virInterfaceUndefine):
 *   bond    "bondN" over two physical ports, mode ACTIVE_PASSIVE
 *           (active-backup), LINK_AGGREGATION (802.3ad) or LOAD_BALANCED
 *           (balance-alb)
 *   vlan    "<dev>.<tag>" over a port or bond
 *   bridge  named by the network (docs/NETWORKS.md), over a port, bond or
 *           VLAN device, or over nothing (an intra-server network), with
 *           the IP configuration of what it replaces
 * Names: 1..15 characters of [A-Za-z0-9_.-] (IFNAMSIZ), not starting
 * with '.' or '-', else ERR_INVALID; so are a bad mode, a tag outside
 * 1..4094, an MTU outside 68..65535 and a bad IP configuration (type
 * other than NONE/DHCP/STATIC; STATIC without an IPv4 address and a
 * contiguous netmask, or with a gateway that is not an IPv4 address).
 *
 * Rules, the same on every host (checked against iface_list before
 * anything is changed):
 *   - a new name must be free (ERR_EXISTS);
 *   - a bond's ports, a VLAN's parent and a bridge's device must exist
 *     (ERR_NOT_FOUND); a bond's ports are two distinct physical
 *     (ethernet) ports, a VLAN's parent a port or bond, a bridge's device
 *     anything but a bridge (ERR_INVALID);
 *   - a bond's port must be used by nothing (no bond, bridge or VLAN
 *     over it); a VLAN's parent and a bridge's device must not be a
 *     bond's port; a device is bridged once (all ERR_EXISTS). A VLAN may
 *     be made on a bridged port and a port with VLANs may be bridged
 *     (an untagged segment's bridge next to tagged ones);
 *   - iface_remove: a physical port is ERR_INVALID, a device something
 *     is over (a bridge over a bond, a VLAN on it) ERR_STATE.
 * Every define is one libvirt interface change (virInterfaceChangeBegin
 * .. Commit, Rollback on failure where the host supports it), so a
 * failure leaves nothing behind.
 *
 * SIMULATED HOSTS (test:/// connections): the test driver keeps
 * interfaces per connection, so a define would vanish with it. On a
 * simulated host these calls edit the host's node file instead (the
 * <interface> elements of <simdir>/sim-N.xml, written atomically under a
 * lock), exactly as a real host keeps its network configuration on disk;
 * every later connection -- ovmmd's, or `virsh -c test:///...` -- then
 * lists them through virConnectListAllInterfaces. iface_list of a
 * simulated host therefore opens a fresh connection to the node file
 * (the one given may predate the last edit). hv_sim_generate() keeps
 * such interfaces when it rewrites a node file at start.
 */

enum hv_iface_type { HV_IF_ETHERNET, HV_IF_BOND, HV_IF_VLAN, HV_IF_BRIDGE };

/* A host interface as the host reports it (iface_list). */
struct hv_iface {
    char name[16];
    enum hv_iface_type type;
    char mac[32];              /* "" when none */
    bool active;
    char over[2][16];          /* bond: its two ports; vlan: [0] the
                                  parent; bridge: [0] the device it
                                  bridges ("" for none) */
    unsigned tag;              /* vlan: the VLAN id */
    char mode[32];             /* bond: "active-backup", "802.3ad",
                                  "balance-alb" */
    unsigned mtu;              /* configured MTU, 0 when none is */
};

/* The IP configuration of a bridge or device (borrowed strings). */
struct hv_ipconf {
    const char *type;          /* "NONE", "DHCP", "STATIC" */
    const char *address;       /* STATIC: dotted quad */
    const char *netmask;       /* STATIC: dotted quad */
    const char *gateway;       /* STATIC: dotted quad or NULL */
};

struct hv_net_ops {
    /* Every interface, sorted by name, one entry per name: the
     * top-level definitions and what is nested in them (on a netcf host
     * a bridged bond is listed only inside its bridge). *out: *n
     * entries, xfree(); NULL when none. */
    int (*iface_list)(struct hv_conn *c, struct hv_iface **out, size_t *n);
    /* Define and start a bond @name over @port1 and @port2 with @mode
     * (see above: the Oracle VM mode name) and @mtu (0: 1500).
     * ERR_EXISTS when @name exists; ERR_NOT_FOUND when a port does not. */
    int (*bond_define)(struct hv_conn *c, const char *name,
                       const char *mode, const char *port1,
                       const char *port2, unsigned mtu,
                       const struct hv_ipconf *ip);
    /* Define and start VLAN device "<parent>.<tag>" (tag 1..4094).
     * ERR_EXISTS, ERR_NOT_FOUND (no parent). */
    int (*vlan_define)(struct hv_conn *c, const char *parent, unsigned tag,
                       const struct hv_ipconf *ip);
    /* Define and start bridge @name over device @over (NULL or "":
     * none).
     * ERR_EXISTS when @name exists or @over is already bridged;
     * ERR_NOT_FOUND when @over does not exist. */
    int (*bridge_define)(struct hv_conn *c, const char *name,
                         const char *over, const struct hv_ipconf *ip);
    /* Stop and remove interface @name. ERR_NOT_FOUND when absent;
     * ERR_STATE when another device is over it (a bridge over a bond, a
     * VLAN on it). Physical ports are never removed (ERR_INVALID). A
     * bridge's device and a bond's ports stay (on a netcf host, which
     * drops them with the bridge or bond, they are defined again on their
     * own, without IP configuration). */
    int (*iface_remove)(struct hv_conn *c, const char *name);
};

/* Free @n strings and the array; accepts NULL. */
void hv_strv_free(char **v, size_t n);

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
    /* Repositories and their files (see above). */
    const struct hv_storage_ops *storage;
    /* Host networking (see above). */
    const struct hv_net_ops *net;
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
 * count, memory, four interfaces (eth0..eth3) with distinct MACs, one local `dir`
 * storage pool, and its identity (hostname sim-<i>, a UUID derived from
 * @seed and i, so the same data directory keeps the same UUIDs). The
 * other interfaces of a file it replaces (bonds, VLAN devices, bridges
 * made through hv_net_ops) are kept, as a real host keeps its network
 * configuration across a restart. 0 or -1.
 */
int hv_sim_generate(const char *dir, unsigned n, const char *seed);
/* The access host of the simulated NFS server hv_sim_generate() makes
 * (when n > 0): its exports /exports/repo1 .. /exports/repo3 are the
 * directories <dir>/nfs/sim-nfs/exports/repo1 .. repo3. */
#define HV_SIM_NFS_HOST "sim-nfs"
/* The portal of the simulated iSCSI server hv_sim_generate() makes (when
 * n > 0): target HV_SIM_ISCSI_IQN with lun-0 (1 GiB) and lun-1 (2 GiB),
 * sparse files <dir>/iscsi/sim-iscsi/<iqn>/lun-N. */
#define HV_SIM_ISCSI_HOST "sim-iscsi"
#define HV_SIM_ISCSI_IQN "iqn.2026-01.test.sim:storage"

#endif
