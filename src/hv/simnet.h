/*
 * simnet.h - host networking of simulated hosts (hv/simnet.c), and the
 * host-networking rules every path shares; private to hv/: included only
 * by hv/libvirt.c, hv/sim.c and hv/simnet.c.
 *
 * Two parts (hv.h, "host networking: bonds, VLAN devices, bridges"):
 *
 *  - Shared by real and simulated hosts, so both enforce the same rules
 *    and write the same XML: a request is checked and normalized
 *    (hv_net_req_*(): names, mode, tag, MTU, IP configuration), the
 *    interfaces a host reports are read from libvirt interface XML into
 *    struct hv_iface entries (struct hv_net_list), and hv_net_plan()
 *    checks the request against them and builds the interface XML to
 *    define.
 *
 *  - SIMULATED only (reached from test:/// connections): the edit of a
 *    node file <simdir>/sim-N.xml under the lock of its directory
 *    (hv_simnet_apply()), and what hv_sim_generate() keeps of it.
 *
 * This file includes no libvirt header (scripts/lint.sh); what needs
 * libvirt -- asking the test driver whether it accepts an edited file --
 * is a callback from hv/libvirt.c.
 *
 * Thread-safety: no state; every function may run in any thread. Edits
 * of one directory's node files are serialized by its lock, also across
 * processes.
 */
#ifndef OVMM_HV_SIMNET_H
#define OVMM_HV_SIMNET_H

#include <stdbool.h>
#include <stddef.h>

#include "hv/hv.h"
#include "util/buf.h"

/* Longest interface name (IFNAMSIZ less its NUL). */
#define HV_NET_NAME_MAX 15

enum hv_net_op { HV_NET_BOND, HV_NET_VLAN, HV_NET_BRIDGE, HV_NET_REMOVE };

/* A checked request (hv_net_req_*()); holds no borrowed pointer. */
struct hv_net_req {
    enum hv_net_op op;
    char name[HV_NET_NAME_MAX + 1];       /* the interface made or removed
                                             (vlan: "<parent>.<tag>") */
    char over[2][HV_NET_NAME_MAX + 1];    /* bond: ports; vlan: [0] parent;
                                             bridge: [0] device or "" */
    const char *mode;                     /* bond: libvirt's mode name */
    unsigned tag;                         /* vlan: 1..4094 */
    unsigned mtu;                         /* bond: 68..65535 */
    int ip;                               /* 0 none, 1 DHCP, 2 STATIC */
    char address[16];                     /* STATIC: dotted quad */
    unsigned prefix;                      /* STATIC: 1..32 */
    char gateway[16];                     /* STATIC: "" or dotted quad */
};

/* 0 when @name is a valid interface name (1..15 of [A-Za-z0-9_.-], not
 * starting with '.' or '-'), else -1 with ERR_INVALID naming @what. */
int hv_net_check_name(const char *what, const char *name);

/*
 * Check and fill @r for one operation (hv.h struct hv_net_ops: the
 * arguments of the slot of the same name). @ip may be NULL (type NONE);
 * its address fields are ignored unless the type is STATIC. 0, or -1
 * with ERR_INVALID and nothing on the host touched.
 */
int hv_net_req_bond(struct hv_net_req *r, const char *name, const char *mode,
                    const char *port1, const char *port2, unsigned mtu,
                    const struct hv_ipconf *ip);
int hv_net_req_vlan(struct hv_net_req *r, const char *parent, unsigned tag,
                    const struct hv_ipconf *ip);
int hv_net_req_bridge(struct hv_net_req *r, const char *name,
                      const char *over, const struct hv_ipconf *ip);
int hv_net_req_remove(struct hv_net_req *r, const char *name);

/* One interface read from libvirt XML, and how deep it was nested. */
struct hv_net_ent {
    struct hv_iface f;
    unsigned depth;            /* 0: a top-level definition */
};

/* Interfaces read from libvirt XML, in the making (then sorted). */
struct hv_net_list {
    struct hv_net_ent *v;
    size_t n, cap;
};
void hv_net_list_init(struct hv_net_list *l);
void hv_net_list_release(struct hv_net_list *l);
/*
 * Add the interface described by @xml (libvirt's interface XML) and
 * every interface nested in it (a bond's ports, a bridge's device and
 * what that device is made of), each marked @active; @mac (may be NULL)
 * is the top-level interface's MAC when its XML has none. A definition
 * that cannot be read (no type or name, a name longer than 15), or a
 * nested reference without a type (a VLAN's parent), adds nothing. 0, or
 * -1 with ERR_INVALID when @xml is not XML.
 */
int hv_net_list_add_xml(struct hv_net_list *l, const char *xml, bool active,
                        const char *mac);
/*
 * Sort by name and keep one entry per name, a top-level one before a
 * nested one (on a netcf host a bridged bond is listed only inside its
 * bridge; on the test driver it is listed on its own too).
 */
void hv_net_list_finish(struct hv_net_list *l);
/* Hand the sorted entries over: *out (xfree(), NULL when none), *n. The
 * list is left empty. */
void hv_net_list_steal(struct hv_net_list *l, struct hv_iface **out,
                       size_t *n);

/*
 * Check @r against the host's interfaces @ifs (a finished list) -- the
 * rules of hv.h: ERR_EXISTS, ERR_NOT_FOUND, ERR_STATE, ERR_INVALID --
 * and, for a define, build the XML of the new interface into *xml
 * (caller frees; NULL for HV_NET_REMOVE). 0 or -1.
 */
int hv_net_plan(const struct hv_net_req *r, const struct hv_iface *ifs,
                size_t n, char **xml);
/*
 * The XML that defines @f (an entry of @ifs) again on its own, as
 * hv_net_plan() nests it into a bridge but with <start mode='onboot'/>:
 * what a netcf host needs back after the bond or bridge it was part of
 * is removed. Caller frees.
 */
char *hv_net_member_xml(const struct hv_iface *f, const struct hv_iface *ifs,
                        size_t n);

/* ---- SIMULATED hosts: node file edits (test:/// connections only) ---- */

/*
 * Asked by hv_simnet_apply() before an edited node file replaces the old
 * one: 0 when libvirt's test driver opens the node file @path and lists
 * interface @name exactly when @present; else -1 with err_set() (the
 * edit is then dropped). Runs with the directory lock held.
 */
typedef int (*hv_simnet_verify_fn)(const char *path, const char *name,
                                   bool present, void *opaque);

/*
 * Apply @r to the simulated host whose node file is @sim_path: under an
 * exclusive lock on the node file's directory, read the <interface>
 * elements of <node>, check @r against them (hv_net_plan()), add the new
 * element after the last <interface> (or remove the named one), write a
 * temporary file, have @verify accept it, fsync it, rename it over the
 * node file and fsync the directory. On any failure the node file is
 * unchanged. 0 or -1 (ERR_IO when the file cannot be read or written).
 */
int hv_simnet_apply(const char *sim_path, const struct hv_net_req *r,
                    hv_simnet_verify_fn verify, void *opaque);

/*
 * Lock @dir (the directory of node files) exclusively, for an edit or
 * for hv_sim_generate(): returns the descriptor to give to
 * hv_simnet_unlock(), or -1 with ERR_IO. Blocks until the lock is free.
 */
int hv_simnet_lock(const char *dir);
void hv_simnet_unlock(int fd);

/*
 * Append to @out the <interface> elements of node file @path that are
 * not named in @skip (@nskip names: the ones hv_sim_generate() writes
 * itself), each on its own line indented by two spaces, as they are in
 * the file. A missing file adds nothing (0); a file that is not a node
 * file adds nothing and is logged (0). Call with the directory locked.
 */
int hv_simnet_kept(const char *path, const char *const *skip, size_t nskip,
                   struct buf *out);

#endif
