/*
 * simnet.c - host networking of simulated hosts, on their node files
 * (simnet.h), and the rules and interface XML every host shares (hv.h,
 * "host networking: bonds, VLAN devices, bridges").
 *
 * DESIGN
 *
 * One set of rules. A request is checked and normalized once
 * (hv_net_req_*()); the interfaces a host has are read from libvirt
 * interface XML into a flat list (struct hv_net_list), whether that XML
 * came from virInterfaceGetXMLDesc() on a real host or from the
 * <interface> elements of a simulated host's node file; hv_net_plan()
 * checks the request against that list and writes the XML to define. So
 * a real host and a simulated one refuse the same things with the same
 * codes and are given the same XML:
 *
 *   bond    <interface type='bond' name='bond0'><start mode='onboot'/>
 *             <mtu size='1500'/>[ip]<bond mode='active-backup'>
 *             <interface type='ethernet' name='eth1'><mac .../></interface>
 *             <interface type='ethernet' name='eth2'>...</interface>
 *           </bond></interface>
 *   vlan    <interface type='vlan' name='eth1.5'><start mode='onboot'/>
 *             [ip]<vlan tag='5'><interface name='eth1'/></vlan></interface>
 *   bridge  <interface type='bridge' name='vb0123456789'>
 *             <start mode='onboot'/>[ip]<bridge stp='off'>[the device's
 *             own definition, nested]</bridge></interface>
 *   [ip]    <protocol family='ipv4'><dhcp/></protocol>, or
 *           <protocol family='ipv4'><ip address='A' prefix='P'/>
 *             <route gateway='G'/></protocol>, or nothing (NONE)
 *
 * A bridge nests the whole definition of its device (a bond with its
 * ports and mode, a VLAN with its parent), because that is what libvirt's
 * interface XML is: one tree per top-level interface. Reading a host
 * therefore flattens the trees: every nested definition is an entry too,
 * and where a name is both top level and nested (the test driver keeps a
 * bridged bond on its own as well) the top-level one is kept. The
 * relations the rules need ("what is over what") are the entries' `over`
 * names: a bond's ports, a VLAN's parent, a bridge's device.
 *
 * Every name is checked (1..15 of [A-Za-z0-9_.-], no leading '.' or '-')
 * and every address parsed with inet_pton() and written back with
 * inet_ntop(), so nothing can reach the XML but what was meant; the
 * values are XML-escaped all the same.
 *
 * SIMULATED hosts. libvirt's test driver parses a node file when a
 * connection is opened and never writes it back, and keeps what is
 * defined through a connection in that connection only. So an operation
 * on a simulated host edits its node file: hv_simnet_apply() takes an
 * exclusive flock(2) on the directory of the node files (not on the file,
 * which every edit replaces by a rename; not on a lock file, so the
 * directory holds nothing but what hv_sim_generate() makes), reads the
 * file with libxml2 (comments and layout kept), applies the rules to its
 * <interface> elements, adds or removes one element, writes a temporary
 * file next to it, lets hv/libvirt.c check that the test driver opens it
 * and lists (or no longer lists) the interface -- a node file the test
 * driver cannot parse would take the whole host down -- then fsyncs it,
 * renames it over the node file and fsyncs the directory. Two jobs on
 * one host, or on two hosts of one directory, wait for each other, so no
 * edit is lost; a reader (a new connection) sees the old file or the new
 * one, never half of it. hv_sim_generate() takes the same lock and keeps
 * the interfaces (hv_simnet_kept()).
 *
 * Threads: no state of its own; libxml2 is thread-safe once initialized
 * (hv/libvirt.c's first open does; hv_simnet_kept(), which runs at start
 * before any, initializes it too).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "hv/hv.h"
#include "hv/simnet.h"
#include "util/alloc.h"
#include "util/autoptr.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"
#include "util/str.h"

LOG_MODULE("hv");

DEFINE_AUTOPTR(xmlDoc, xmlFreeDoc)

/* Parse without network access and without printing anything; blanks
 * are kept, so an edited node file keeps its layout. */
#define NET_XML_OPTS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
/* Deepest nesting of interface definitions read or written (a bridge
 * over a VLAN over a bond over ports is 3). */
#define NET_DEPTH_MAX 8

/* Oracle VM's bond modes and libvirt's names for them (hv.h). */
static const struct {
    const char *ovm;
    const char *libvirt;
} net_modes[] = {
    { "ACTIVE_PASSIVE", "active-backup" },
    { "LINK_AGGREGATION", "802.3ad" },
    { "LOAD_BALANCED", "balance-alb" },
};

/* ---- names and requests ---- */

/* True when @name is a valid interface name (simnet.h). */
static bool
net_name_ok(const char *name)
{
    size_t i, len = strlen(name);

    if (len == 0 || len > HV_NET_NAME_MAX || name[0] == '.' ||
        name[0] == '-')
        return false;
    for (i = 0; i < len; i++) {
        char ch = name[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
              ch == '-'))
            return false;
    }
    return true;
}

/* @s, at most 40 bytes of it, with anything unprintable as '?', into
 * @out: untrusted text for a message. */
static void
net_show(const char *s, char out[44])
{
    size_t i;

    for (i = 0; s[i] && i < 40; i++)
        out[i] = (s[i] > 0x20 && s[i] < 0x7f) ? s[i] : '?';
    if (s[i]) {
        str_copy(out + i, "...", 4);
        return;
    }
    out[i] = '\0';
}

/* See simnet.h. */
int
hv_net_check_name(const char *what, const char *name)
{
    char shown[44];

    if (!name || !*name) {
        err_set(ERR_INVALID, "invalid %s: no name", what);
        return -1;
    }
    if (!net_name_ok(name)) {
        net_show(name, shown);
        err_set(ERR_INVALID, "invalid %s '%s': a name is 1 to %d letters, "
                "digits, '_', '.' or '-', not starting with '.' or '-'",
                what, shown, HV_NET_NAME_MAX);
        return -1;
    }
    return 0;
}

/* Parse dotted quad @s (named @what) into @a. 0 or -1 (ERR_INVALID). */
static int
net_ipv4(const char *what, const char *s, struct in_addr *a)
{
    char shown[44];

    if (!s || !*s) {
        err_set(ERR_INVALID, "invalid IP configuration: no %s", what);
        return -1;
    }
    if (inet_pton(AF_INET, s, a) != 1) {
        net_show(s, shown);
        err_set(ERR_INVALID, "invalid %s '%s': not an IPv4 address", what,
                shown);
        return -1;
    }
    return 0;
}

/* The IP configuration @ip into @r (simnet.h). */
static int
net_req_ip(struct hv_net_req *r, const struct hv_ipconf *ip)
{
    struct in_addr a, m, g;
    uint32_t mask, inv;
    char shown[44];

    r->ip = 0;
    if (!ip || !ip->type || strcmp(ip->type, "NONE") == 0)
        return 0;
    if (strcmp(ip->type, "DHCP") == 0) {
        r->ip = 1;
        return 0;
    }
    if (strcmp(ip->type, "STATIC") != 0) {
        net_show(ip->type, shown);
        err_set(ERR_INVALID, "invalid IP configuration type '%s': not NONE, "
                "DHCP or STATIC", shown);
        return -1;
    }
    if (net_ipv4("address", ip->address, &a) < 0 ||
        net_ipv4("netmask", ip->netmask, &m) < 0)
        return -1;
    mask = ntohl(m.s_addr);
    inv = ~mask;
    /* Contiguous: the inverted mask is 2^k - 1; a /0 is no subnet. */
    if (mask == 0 || (inv & (inv + 1)) != 0) {
        err_set(ERR_INVALID, "invalid netmask '%s': not a contiguous mask",
                ip->netmask);
        return -1;
    }
    r->prefix = (unsigned)__builtin_popcount(mask);
    inet_ntop(AF_INET, &a, r->address, sizeof(r->address));
    r->gateway[0] = '\0';
    if (ip->gateway && *ip->gateway) {
        if (net_ipv4("gateway", ip->gateway, &g) < 0)
            return -1;
        inet_ntop(AF_INET, &g, r->gateway, sizeof(r->gateway));
    }
    r->ip = 2;
    return 0;
}

/* See simnet.h. */
int
hv_net_req_bond(struct hv_net_req *r, const char *name, const char *mode,
                const char *port1, const char *port2, unsigned mtu,
                const struct hv_ipconf *ip)
{
    char shown[44];
    size_t i;

    memset(r, 0, sizeof(*r));
    r->op = HV_NET_BOND;
    if (hv_net_check_name("bond", name) < 0 ||
        hv_net_check_name("bond port", port1) < 0 ||
        hv_net_check_name("bond port", port2) < 0)
        return -1;
    if (strcmp(port1, port2) == 0) {
        err_set(ERR_INVALID, "cannot make bond '%s': port '%s' given twice",
                name, port1);
        return -1;
    }
    for (i = 0; mode && i < sizeof(net_modes) / sizeof(net_modes[0]); i++) {
        if (strcmp(mode, net_modes[i].ovm) == 0)
            r->mode = net_modes[i].libvirt;
    }
    if (!r->mode) {
        net_show(mode ? mode : "", shown);
        err_set(ERR_INVALID, "invalid bond mode '%s': not ACTIVE_PASSIVE, "
                "LINK_AGGREGATION or LOAD_BALANCED", shown);
        return -1;
    }
    if (mtu != 0 && (mtu < 68 || mtu > 65535)) {
        err_set(ERR_INVALID, "invalid MTU %u: not between 68 and 65535",
                mtu);
        return -1;
    }
    r->mtu = mtu ? mtu : 1500;
    str_copy(r->name, name, sizeof(r->name));
    str_copy(r->over[0], port1, sizeof(r->over[0]));
    str_copy(r->over[1], port2, sizeof(r->over[1]));
    return net_req_ip(r, ip);
}

/* See simnet.h. */
int
hv_net_req_vlan(struct hv_net_req *r, const char *parent, unsigned tag,
                const struct hv_ipconf *ip)
{
    memset(r, 0, sizeof(*r));
    r->op = HV_NET_VLAN;
    if (hv_net_check_name("VLAN parent", parent) < 0)
        return -1;
    if (tag < 1 || tag > 4094) {
        err_set(ERR_INVALID, "invalid VLAN id %u: not between 1 and 4094",
                tag);
        return -1;
    }
    if ((size_t)snprintf(r->name, sizeof(r->name), "%s.%u", parent, tag) >=
        sizeof(r->name)) {
        err_set(ERR_INVALID, "invalid VLAN device '%s.%u': longer than %d "
                "characters", parent, tag, HV_NET_NAME_MAX);
        return -1;
    }
    r->tag = tag;
    str_copy(r->over[0], parent, sizeof(r->over[0]));
    return net_req_ip(r, ip);
}

/* See simnet.h. */
int
hv_net_req_bridge(struct hv_net_req *r, const char *name, const char *over,
                  const struct hv_ipconf *ip)
{
    memset(r, 0, sizeof(*r));
    r->op = HV_NET_BRIDGE;
    if (hv_net_check_name("bridge", name) < 0)
        return -1;
    if (over && *over && hv_net_check_name("bridged device", over) < 0)
        return -1;
    str_copy(r->name, name, sizeof(r->name));
    if (over)
        str_copy(r->over[0], over, sizeof(r->over[0]));
    return net_req_ip(r, ip);
}

/* See simnet.h. */
int
hv_net_req_remove(struct hv_net_req *r, const char *name)
{
    memset(r, 0, sizeof(*r));
    r->op = HV_NET_REMOVE;
    if (hv_net_check_name("interface", name) < 0)
        return -1;
    str_copy(r->name, name, sizeof(r->name));
    return 0;
}

/* ---- reading interface XML into a list ---- */

/* See simnet.h. */
void
hv_net_list_init(struct hv_net_list *l)
{
    memset(l, 0, sizeof(*l));
}

/* See simnet.h. */
void
hv_net_list_release(struct hv_net_list *l)
{
    if (!l)
        return;
    xfree(l->v);
    memset(l, 0, sizeof(*l));
}

/* Attribute @attr of @e into @out (@size bytes); "" when absent. */
static void
net_prop(xmlNode *e, const char *attr, char *out, size_t size)
{
    xmlChar *v = xmlGetProp(e, (const xmlChar *)attr);

    out[0] = '\0';
    if (v)
        str_copy(out, (const char *)v, size);
    xmlFree(v);
}

/* True when @n is an element named @name. */
static bool
net_is(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE &&
           strcmp((const char *)n->name, name) == 0;
}

/* A whole decimal number up to 65535 from @s; 0 when it is none. */
static unsigned
net_num(const char *s)
{
    char *end;
    unsigned long v;

    if (!*s)
        return 0;
    v = strtoul(s, &end, 10);
    return (*end == '\0' && v <= 65535) ? (unsigned)v : 0;
}

/*
 * Add interface element @e and what is nested in it (simnet.h,
 * hv_net_list_add_xml()) at nesting @depth.
 */
static void
net_add_node(struct hv_net_list *l, xmlNode *e, unsigned depth, bool active,
             const char *mac)
{
    char type[16], name[64], tmp[32];
    struct hv_net_ent ent;
    struct hv_iface *f = &ent.f;
    xmlNode *c, *k;
    unsigned nover = 0;

    if (depth > NET_DEPTH_MAX)
        return;
    net_prop(e, "type", type, sizeof(type));
    net_prop(e, "name", name, sizeof(name));
    if (!net_name_ok(name))
        return;
    memset(&ent, 0, sizeof(ent));
    ent.depth = depth;
    if (strcmp(type, "ethernet") == 0)
        f->type = HV_IF_ETHERNET;
    else if (strcmp(type, "bond") == 0)
        f->type = HV_IF_BOND;
    else if (strcmp(type, "vlan") == 0)
        f->type = HV_IF_VLAN;
    else if (strcmp(type, "bridge") == 0)
        f->type = HV_IF_BRIDGE;
    else
        return;
    str_copy(f->name, name, sizeof(f->name));
    f->active = active;
    for (c = e->children; c; c = c->next) {
        if (net_is(c, "mac")) {
            net_prop(c, "address", f->mac, sizeof(f->mac));
        } else if (net_is(c, "mtu")) {
            net_prop(c, "size", tmp, sizeof(tmp));
            f->mtu = net_num(tmp);
        } else if (f->type == HV_IF_BOND && net_is(c, "bond")) {
            net_prop(c, "mode", f->mode, sizeof(f->mode));
            for (k = c->children; k; k = k->next) {
                if (net_is(k, "interface") && nover < 2) {
                    net_prop(k, "name", name, sizeof(name));
                    if (net_name_ok(name))
                        str_copy(f->over[nover++], name, sizeof(f->over[0]));
                }
            }
        } else if (f->type == HV_IF_VLAN && net_is(c, "vlan")) {
            net_prop(c, "tag", tmp, sizeof(tmp));
            f->tag = net_num(tmp);
            for (k = c->children; k; k = k->next) {
                if (net_is(k, "interface")) {
                    net_prop(k, "name", name, sizeof(name));
                    if (net_name_ok(name))
                        str_copy(f->over[0], name, sizeof(f->over[0]));
                    break;
                }
            }
        } else if (f->type == HV_IF_BRIDGE && net_is(c, "bridge")) {
            for (k = c->children; k; k = k->next) {
                if (net_is(k, "interface")) {
                    net_prop(k, "name", name, sizeof(name));
                    if (net_name_ok(name))
                        str_copy(f->over[0], name, sizeof(f->over[0]));
                    break;
                }
            }
        }
    }
    if (!f->mac[0] && mac)
        str_copy(f->mac, mac, sizeof(f->mac));
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = ent;
    /* What a bond or a bridge is made of is defined inside it (a VLAN
     * only names its parent, which is defined elsewhere). */
    for (c = e->children; c; c = c->next) {
        if ((f->type == HV_IF_BOND && net_is(c, "bond")) ||
            (f->type == HV_IF_BRIDGE && net_is(c, "bridge"))) {
            for (k = c->children; k; k = k->next) {
                if (net_is(k, "interface"))
                    net_add_node(l, k, depth + 1, active, NULL);
            }
        }
    }
}

/* See simnet.h. */
int
hv_net_list_add_xml(struct hv_net_list *l, const char *xml, bool active,
                    const char *mac)
{
    AUTOPTR(xmlDoc) xmlDoc *doc = NULL;
    xmlNode *root;

    doc = xmlReadMemory(xml, (int)strlen(xml), "interface.xml", NULL,
                        NET_XML_OPTS);
    if (!doc || !(root = xmlDocGetRootElement(doc))) {
        err_set(ERR_INVALID, "cannot read an interface definition: not XML");
        return -1;
    }
    if (net_is(root, "interface"))
        net_add_node(l, root, 0, active, mac && *mac ? mac : NULL);
    return 0;
}

/* By name, then top level first. */
static int
net_ent_cmp(const void *a, const void *b)
{
    const struct hv_net_ent *x = a, *y = b;
    int c = strcmp(x->f.name, y->f.name);

    if (c)
        return c;
    return (x->depth > y->depth) - (x->depth < y->depth);
}

/* See simnet.h. */
void
hv_net_list_finish(struct hv_net_list *l)
{
    size_t i, o = 0;

    if (l->n == 0)
        return;
    qsort(l->v, l->n, sizeof(*l->v), net_ent_cmp);
    for (i = 0; i < l->n; i++) {
        if (o > 0 && strcmp(l->v[o - 1].f.name, l->v[i].f.name) == 0)
            continue;
        l->v[o++] = l->v[i];
    }
    l->n = o;
}

/* See simnet.h. */
void
hv_net_list_steal(struct hv_net_list *l, struct hv_iface **out, size_t *n)
{
    size_t i;

    *out = NULL;
    *n = 0;
    if (l->n > 0) {
        *out = xcalloc(l->n, sizeof(**out));
        for (i = 0; i < l->n; i++)
            (*out)[i] = l->v[i].f;
        *n = l->n;
    }
    hv_net_list_release(l);
}

/* ---- the rules and the XML ---- */

/* The entry of @ifs named @name, or NULL. */
static const struct hv_iface *
net_find(const struct hv_iface *ifs, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(ifs[i].name, name) == 0)
            return &ifs[i];
    }
    return NULL;
}

/* The first entry of a type in @types (a mask of 1 << HV_IF_*) that is
 * over @name: a bond with it as a port, a VLAN or bridge on it. */
static const struct hv_iface *
net_user(const struct hv_iface *ifs, size_t n, const char *name,
         unsigned types)
{
    size_t i;

    for (i = 0; i < n; i++) {
        const struct hv_iface *f = &ifs[i];

        if (!(types & (1u << f->type)))
            continue;
        if (strcmp(f->over[0], name) == 0 ||
            (f->type == HV_IF_BOND && strcmp(f->over[1], name) == 0))
            return f;
    }
    return NULL;
}

#define NET_ANY ((1u << HV_IF_BOND) | (1u << HV_IF_VLAN) | (1u << HV_IF_BRIDGE))

static const char *
net_type_name(enum hv_iface_type t)
{
    switch (t) {
    case HV_IF_ETHERNET: return "port";
    case HV_IF_BOND: return "bond";
    case HV_IF_VLAN: return "VLAN device";
    case HV_IF_BRIDGE: return "bridge";
    }
    return "interface";
}

/* Append @s XML-escaped (attribute values and text). */
static void
net_esc(struct buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': buf_puts(b, "&amp;"); break;
        case '<': buf_puts(b, "&lt;"); break;
        case '>': buf_puts(b, "&gt;"); break;
        case '\'': buf_puts(b, "&apos;"); break;
        case '"': buf_puts(b, "&quot;"); break;
        default: buf_append(b, s, 1); break;
        }
    }
}

/* Append " @attr='@v'", @v escaped. */
static void
net_attr(struct buf *b, const char *attr, const char *v)
{
    buf_printf(b, " %s='", attr);
    net_esc(b, v);
    buf_puts(b, "'");
}

/* The <protocol> of @r, if any. */
static void
net_xml_ip(struct buf *b, const struct hv_net_req *r)
{
    if (r->ip == 1) {
        buf_puts(b, "<protocol family='ipv4'><dhcp/></protocol>");
    } else if (r->ip == 2) {
        buf_puts(b, "<protocol family='ipv4'><ip");
        net_attr(b, "address", r->address);
        buf_printf(b, " prefix='%u'/>", r->prefix);
        if (r->gateway[0]) {
            buf_puts(b, "<route");
            net_attr(b, "gateway", r->gateway);
            buf_puts(b, "/>");
        }
        buf_puts(b, "</protocol>");
    }
}

/* "<interface type='@type' name='@name'>" and, when @top, the start. */
static void
net_xml_open(struct buf *b, const char *type, const char *name, bool top)
{
    buf_puts(b, "<interface");
    net_attr(b, "type", type);
    net_attr(b, "name", name);
    buf_puts(b, top ? "><start mode='onboot'/>" : ">");
}

/* A bond port @name as a bond nests it: type ethernet, its MAC. */
static void
net_xml_port(struct buf *b, const struct hv_iface *ifs, size_t n,
             const char *name)
{
    const struct hv_iface *p = net_find(ifs, n, name);

    net_xml_open(b, "ethernet", name, false);
    if (p && p->mac[0]) {
        buf_puts(b, "<mac");
        net_attr(b, "address", p->mac);
        buf_puts(b, "/>");
    }
    buf_puts(b, "</interface>");
}

/*
 * The definition of @f (an entry of @ifs) as a bridge nests it (@top
 * false) or as it is defined on its own (@top: with its start mode, and
 * an ethernet port's MTU). Nested definitions are written from the
 * list, so a bridge over a bond carries the bond's mode and ports.
 */
static void
net_xml_member(struct buf *b, const struct hv_iface *f,
               const struct hv_iface *ifs, size_t n, bool top,
               unsigned depth)
{
    const struct hv_iface *d;
    unsigned i;

    switch (f->type) {
    case HV_IF_ETHERNET:
        net_xml_open(b, "ethernet", f->name, top);
        if (f->mac[0]) {
            buf_puts(b, "<mac");
            net_attr(b, "address", f->mac);
            buf_puts(b, "/>");
        }
        if (top && f->mtu)
            buf_printf(b, "<mtu size='%u'/>", f->mtu);
        break;
    case HV_IF_BOND:
        net_xml_open(b, "bond", f->name, top);
        if (f->mtu)
            buf_printf(b, "<mtu size='%u'/>", f->mtu);
        buf_puts(b, "<bond");
        if (f->mode[0])
            net_attr(b, "mode", f->mode);
        buf_puts(b, ">");
        for (i = 0; i < 2; i++) {
            if (f->over[i][0])
                net_xml_port(b, ifs, n, f->over[i]);
        }
        buf_puts(b, "</bond>");
        break;
    case HV_IF_VLAN:
        net_xml_open(b, "vlan", f->name, top);
        if (f->mtu)
            buf_printf(b, "<mtu size='%u'/>", f->mtu);
        buf_printf(b, "<vlan tag='%u'><interface", f->tag);
        net_attr(b, "name", f->over[0]);
        buf_puts(b, "/></vlan>");
        break;
    case HV_IF_BRIDGE:
        net_xml_open(b, "bridge", f->name, top);
        d = f->over[0][0] ? net_find(ifs, n, f->over[0]) : NULL;
        if (d && d->type != HV_IF_BRIDGE && depth < NET_DEPTH_MAX) {
            buf_puts(b, "<bridge stp='off'>");
            net_xml_member(b, d, ifs, n, false, depth + 1);
            buf_puts(b, "</bridge>");
        } else {
            buf_puts(b, "<bridge stp='off'/>");
        }
        break;
    }
    buf_puts(b, "</interface>");
}

/* See simnet.h. */
char *
hv_net_member_xml(const struct hv_iface *f, const struct hv_iface *ifs,
                  size_t n)
{
    struct buf b;

    buf_init(&b, 0);
    net_xml_member(&b, f, ifs, n, true, 0);
    return buf_steal(&b);
}

/* The rules for a new bond (hv.h). */
static int
net_plan_bond(const struct hv_net_req *r, const struct hv_iface *ifs,
              size_t n)
{
    const struct hv_iface *p, *u;
    unsigned i;

    /* Missing ports first, so the answer does not depend on their
     * order. */
    for (i = 0; i < 2; i++) {
        if (!net_find(ifs, n, r->over[i])) {
            err_set(ERR_NOT_FOUND, "cannot make bond '%s': port '%s' not "
                    "found", r->name, r->over[i]);
            return -1;
        }
    }
    for (i = 0; i < 2; i++) {
        p = net_find(ifs, n, r->over[i]);
        if (p->type != HV_IF_ETHERNET) {
            err_set(ERR_INVALID, "cannot make bond '%s': '%s' is a %s, not "
                    "a physical port", r->name, p->name,
                    net_type_name(p->type));
            return -1;
        }
        if ((u = net_user(ifs, n, p->name, NET_ANY))) {
            err_set(ERR_EXISTS, "cannot make bond '%s': port '%s' is used by "
                    "%s '%s'", r->name, p->name, net_type_name(u->type),
                    u->name);
            return -1;
        }
    }
    return 0;
}

/* The rules for a new VLAN device (hv.h). */
static int
net_plan_vlan(const struct hv_net_req *r, const struct hv_iface *ifs,
              size_t n)
{
    const struct hv_iface *p, *u;

    if (!(p = net_find(ifs, n, r->over[0]))) {
        err_set(ERR_NOT_FOUND, "cannot make VLAN device '%s': '%s' not found",
                r->name, r->over[0]);
        return -1;
    }
    if (p->type != HV_IF_ETHERNET && p->type != HV_IF_BOND) {
        err_set(ERR_INVALID, "cannot make VLAN device '%s': '%s' is a %s, "
                "not a port or bond", r->name, p->name,
                net_type_name(p->type));
        return -1;
    }
    if ((u = net_user(ifs, n, p->name, 1u << HV_IF_BOND))) {
        err_set(ERR_EXISTS, "cannot make VLAN device '%s': '%s' is a port of "
                "bond '%s'", r->name, p->name, u->name);
        return -1;
    }
    return 0;
}

/* The rules for a new bridge (hv.h). */
static int
net_plan_bridge(const struct hv_net_req *r, const struct hv_iface *ifs,
                size_t n, const struct hv_iface **dev)
{
    const struct hv_iface *p, *u;

    *dev = NULL;
    if (!r->over[0][0])
        return 0;
    if (!(p = net_find(ifs, n, r->over[0]))) {
        err_set(ERR_NOT_FOUND, "cannot make bridge '%s': '%s' not found",
                r->name, r->over[0]);
        return -1;
    }
    if (p->type == HV_IF_BRIDGE) {
        err_set(ERR_INVALID, "cannot make bridge '%s': '%s' is a bridge",
                r->name, p->name);
        return -1;
    }
    if ((u = net_user(ifs, n, p->name,
                      (1u << HV_IF_BOND) | (1u << HV_IF_BRIDGE)))) {
        err_set(ERR_EXISTS, "cannot make bridge '%s': '%s' is %s '%s'",
                r->name, p->name,
                u->type == HV_IF_BOND ? "a port of bond" : "bridged by",
                u->name);
        return -1;
    }
    *dev = p;
    return 0;
}

/* See simnet.h. */
int
hv_net_plan(const struct hv_net_req *r, const struct hv_iface *ifs, size_t n,
            char **xml)
{
    const struct hv_iface *f, *u, *dev = NULL;
    struct buf b;

    *xml = NULL;
    f = net_find(ifs, n, r->name);
    if (r->op == HV_NET_REMOVE) {
        if (!f) {
            err_set(ERR_NOT_FOUND, "cannot remove interface '%s': not found",
                    r->name);
            return -1;
        }
        if (f->type == HV_IF_ETHERNET) {
            err_set(ERR_INVALID, "cannot remove interface '%s': it is a "
                    "physical port", r->name);
            return -1;
        }
        if ((u = net_user(ifs, n, r->name, NET_ANY))) {
            err_set(ERR_STATE, "cannot remove %s '%s': %s '%s' is over it",
                    net_type_name(f->type), r->name, net_type_name(u->type),
                    u->name);
            return -1;
        }
        return 0;
    }
    if (f) {
        err_set(ERR_EXISTS, "cannot make %s '%s': %s '%s' exists",
                r->op == HV_NET_BOND ? "bond" :
                r->op == HV_NET_VLAN ? "VLAN device" : "bridge",
                r->name, net_type_name(f->type), f->name);
        return -1;
    }
    if ((r->op == HV_NET_BOND && net_plan_bond(r, ifs, n) < 0) ||
        (r->op == HV_NET_VLAN && net_plan_vlan(r, ifs, n) < 0) ||
        (r->op == HV_NET_BRIDGE && net_plan_bridge(r, ifs, n, &dev) < 0))
        return -1;

    buf_init(&b, 0);
    switch (r->op) {
    case HV_NET_BOND:
        net_xml_open(&b, "bond", r->name, true);
        buf_printf(&b, "<mtu size='%u'/>", r->mtu);
        net_xml_ip(&b, r);
        buf_puts(&b, "<bond");
        net_attr(&b, "mode", r->mode);
        buf_puts(&b, ">");
        net_xml_port(&b, ifs, n, r->over[0]);
        net_xml_port(&b, ifs, n, r->over[1]);
        buf_puts(&b, "</bond></interface>");
        break;
    case HV_NET_VLAN:
        net_xml_open(&b, "vlan", r->name, true);
        net_xml_ip(&b, r);
        buf_printf(&b, "<vlan tag='%u'><interface", r->tag);
        net_attr(&b, "name", r->over[0]);
        buf_puts(&b, "/></vlan></interface>");
        break;
    case HV_NET_BRIDGE:
        net_xml_open(&b, "bridge", r->name, true);
        net_xml_ip(&b, r);
        if (dev) {
            buf_puts(&b, "<bridge stp='off'>");
            net_xml_member(&b, dev, ifs, n, false, 1);
            buf_puts(&b, "</bridge>");
        } else {
            buf_puts(&b, "<bridge stp='off'/>");
        }
        buf_puts(&b, "</interface>");
        break;
    case HV_NET_REMOVE:
        break;
    }
    *xml = buf_steal(&b);
    return 0;
}

/* ---- SIMULATED hosts: the node file ---- */

/* See simnet.h. */
int
hv_simnet_lock(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0) {
        err_set(ERR_IO, "cannot open simulated host directory '%s': %s", dir,
                strerror(errno));
        return -1;
    }
retry:
    if (flock(fd, LOCK_EX) < 0) {
        if (errno == EINTR)
            goto retry;
        err_set(ERR_IO, "cannot lock simulated host directory '%s': %s", dir,
                strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* See simnet.h. */
void
hv_simnet_unlock(int fd)
{
    if (fd >= 0)
        close(fd);              /* releases the flock */
}

/* The directory of @path ("." for a bare name). Caller frees. */
static char *
net_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (!slash)
        return xstrdup(".");
    if (slash == path)
        return xstrdup("/");
    return xstrndup(path, (size_t)(slash - path));
}

/* The <node> root of node file @doc read from @path, or NULL (ERR_IO). */
static xmlNode *
net_node_root(xmlDoc *doc, const char *path)
{
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;

    if (!root || !net_is(root, "node")) {
        err_set(ERR_IO, "cannot read simulated host file '%s': not a node "
                "file", path);
        return NULL;
    }
    return root;
}

/* True when text node @n holds nothing but white space. */
static bool
net_blank(const xmlNode *n)
{
    const xmlChar *s;

    if (n->type != XML_TEXT_NODE)
        return false;
    for (s = n->content; s && *s; s++) {
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    }
    return true;
}

/*
 * Write @len bytes of @data as a temporary file next to @path, have
 * @verify accept it, then rename it over @path and fsync @dirfd. 0 or -1;
 * the temporary file never stays.
 */
static int
net_replace(const char *path, int dirfd, const char *data, size_t len,
            const struct hv_net_req *r, hv_simnet_verify_fn verify,
            void *opaque)
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
        ssize_t w = write(fd, data + off, len - off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            goto fail_io;
        off += (size_t)w;
    }
    if (fsync(fd) < 0)
        goto fail_io;
    if (close(fd) < 0) {
        fd = -1;
        goto fail_io;
    }
    fd = -1;
    if (verify && verify(tmp, r->name, r->op != HV_NET_REMOVE, opaque) < 0)
        goto fail;
    if (rename(tmp, path) < 0)
        goto fail_io;
    if (fsync(dirfd) < 0)
        log_warn("cannot fsync the directory of '%s'", path);
    return 0;

 fail_io:
    err_set(ERR_IO, "cannot write simulated host file '%s': %s", path,
            strerror(errno));
 fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return -1;
}

/* See simnet.h. */
int
hv_simnet_apply(const char *sim_path, const struct hv_net_req *r,
                hv_simnet_verify_fn verify, void *opaque)
{
    AUTOPTR(xmlDoc) xmlDoc *doc = NULL;
    AUTOPTR(xmlDoc) xmlDoc *add = NULL;
    char *AUTOFREE dir = net_dirname(sim_path);
    char *AUTOFREE xml = NULL;
    struct hv_iface *AUTOFREE ifs = NULL;
    struct hv_net_list l;
    xmlNode *root, *c, *last = NULL, *found = NULL, *copy;
    xmlChar *mem = NULL;
    int lockfd, memlen = 0, rc = -1;
    size_t n;

    hv_net_list_init(&l);
    if ((lockfd = hv_simnet_lock(dir)) < 0)
        return -1;
    doc = xmlReadFile(sim_path, NULL, NET_XML_OPTS);
    if (!doc) {
        err_set(ERR_IO, "cannot read simulated host file '%s'", sim_path);
        goto cleanup;
    }
    if (!(root = net_node_root(doc, sim_path)))
        goto cleanup;
    for (c = root->children; c; c = c->next) {
        char name[64];

        if (!net_is(c, "interface"))
            continue;
        last = c;
        net_prop(c, "name", name, sizeof(name));
        if (strcmp(name, r->name) == 0)
            found = c;
        net_add_node(&l, c, 0, true, NULL);
    }
    hv_net_list_finish(&l);
    hv_net_list_steal(&l, &ifs, &n);
    if (hv_net_plan(r, ifs, n, &xml) < 0)
        goto cleanup;

    if (r->op == HV_NET_REMOVE) {
        if (NEVER(!found)) {
            err_set(ERR_INTERNAL, "cannot remove interface '%s' from '%s': "
                    "element not found", r->name, sim_path);
            goto cleanup;
        }
        if (found->prev && net_blank(found->prev)) {
            xmlNode *ws = found->prev;

            xmlUnlinkNode(ws);
            xmlFreeNode(ws);
        }
        xmlUnlinkNode(found);
        xmlFreeNode(found);
    } else {
        add = xmlReadMemory(xml, (int)strlen(xml), "interface.xml", NULL,
                            NET_XML_OPTS);
        if (!add || !xmlDocGetRootElement(add)) {
            err_set(ERR_INTERNAL, "cannot parse the definition of '%s'",
                    r->name);
            goto cleanup;
        }
        copy = xmlDocCopyNode(xmlDocGetRootElement(add), doc, 1);
        if (!copy) {
            err_set(ERR_INTERNAL, "cannot copy the definition of '%s'",
                    r->name);
            goto cleanup;
        }
        if (last) {
            /* After the last interface, on a line of its own: the text
             * node goes between two elements, so libxml2 merges it with
             * nothing. */
            xmlAddNextSibling(last, copy);
            xmlAddPrevSibling(copy, xmlNewDocText(doc,
                                                  (const xmlChar *)"\n  "));
        } else {
            xmlAddChild(root, copy);
        }
    }
    xmlDocDumpMemory(doc, &mem, &memlen);
    if (!mem || memlen <= 0) {
        err_set(ERR_INTERNAL, "cannot write the XML of '%s'", sim_path);
        goto cleanup;
    }
    if (net_replace(sim_path, lockfd, (const char *)mem, (size_t)memlen, r,
                    verify, opaque) < 0)
        goto cleanup;
    log_info("simulated host '%s': %s '%s'", sim_path,
             r->op == HV_NET_REMOVE ? "removed" : "defined", r->name);
    rc = 0;

 cleanup:
    xmlFree(mem);
    hv_net_list_release(&l);
    hv_simnet_unlock(lockfd);
    return rc;
}

/* See simnet.h. */
int
hv_simnet_kept(const char *path, const char *const *skip, size_t nskip,
               struct buf *out)
{
    AUTOPTR(xmlDoc) xmlDoc *doc = NULL;
    xmlNode *root, *c;
    size_t i;

    if (access(path, F_OK) < 0)
        return 0;
    xmlInitParser();
    doc = xmlReadFile(path, NULL, NET_XML_OPTS);
    if (!doc || !(root = net_node_root(doc, path))) {
        log_warnx("keeping no interfaces of '%s': not a node file", path);
        err_clear();
        return 0;
    }
    for (c = root->children; c; c = c->next) {
        char name[64];
        xmlBuffer *xb;

        if (!net_is(c, "interface"))
            continue;
        net_prop(c, "name", name, sizeof(name));
        for (i = 0; i < nskip; i++) {
            if (strcmp(name, skip[i]) == 0)
                break;
        }
        if (i < nskip)
            continue;
        xb = xmlBufferCreate();
        if (!xb || xmlNodeDump(xb, doc, c, 1, 0) < 0) {
            xmlBufferFree(xb);
            err_set(ERR_INTERNAL, "cannot keep interface '%s' of '%s'", name,
                    path);
            return -1;
        }
        buf_puts(out, "  ");
        buf_puts(out, (const char *)xmlBufferContent(xb));
        buf_puts(out, "\n");
        xmlBufferFree(xb);
    }
    return 0;
}
