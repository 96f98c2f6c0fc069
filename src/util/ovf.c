/*
 * ovf.c - see ovf.h: reading OVF descriptors with libxml2, with entities
 * refused before anything can expand or fetch them.
 *
 * DESIGN: the parse runs on a private parser context whose SAX handler
 * has entityDecl and unparsedEntityDecl replaced: the first entity
 * declaration in a DOCTYPE sets a flag and stops the parser at once, so
 * an entity is never stored, referenced, expanded or loaded, and a
 * "billion laughs" document costs no more than reading its first
 * declaration. The options leave out XML_PARSE_NOENT, XML_PARSE_DTDLOAD,
 * XML_PARSE_DTDATTR, XML_PARSE_XINCLUDE and XML_PARSE_HUGE, and add
 * XML_PARSE_NONET, so an external DTD is neither loaded nor fetched.
 * Errors are not printed (XML_PARSE_NOERROR); the first one is taken
 * from the context into our err. Nothing global of libxml2 is changed
 * (no entity loader, no error handler), since libvirt shares the library
 * in this process.
 *
 * The tree is then read in two passes: References and DiskSection first,
 * then VirtualSystems (also inside VirtualSystemCollections), so that
 * every reference can be checked against what exists: a disk's fileRef
 * must name a File, a system's disk a Disk. Identifiers that do not fit
 * their field are errors, not truncations, since a cut id could name
 * another object; free text (names, descriptions) is cut.
 */
#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "util/alloc.h"
#include "util/err.h"
#include "util/ovf.h"
#include "util/str.h"

/* Limits from ovf.h. */
#define OVF_MAX_XML (4u << 20)
#define OVF_MAX_FILES 64
#define OVF_MAX_DISKS 64
#define OVF_MAX_SYSTEMS 16
/* VirtualSystemCollections nest; this is deep enough for real ones. */
#define OVF_MAX_NESTING 8
/* CPUs a system may ask for. */
#define OVF_MAX_CPUS 4096

#define OVF_NS1 "http://schemas.dmtf.org/ovf/envelope/1"
#define OVF_NS2 "http://schemas.dmtf.org/ovf/envelope/2"

/* libxml2's BAD_CAST drops const; this cast keeps it. */
#define OVF_XC(s) ((const xmlChar *)(s))

/* What one parse carries between its steps. */
struct ovf_parse {
    struct ovf *out;
    const xmlChar *ns;       /* the envelope's namespace URI */
    bool entities;           /* the DOCTYPE declared an entity */
};

/* libxml2's one-time set-up, from the main thread before any parse. */
void
ovf_global_init(void)
{
    xmlInitParser();
}

/* Free what ovf_parse() filled in and zero @o; NULL and repeated calls
 * are fine. */
void
ovf_release(struct ovf *o)
{
    if (!o)
        return;
    xfree(o->files);
    xfree(o->disks);
    xfree(o->systems);
    memset(o, 0, sizeof(*o));
}

/* Linear search: at most OVF_MAX_FILES entries. Borrowed from @o. */
const struct ovf_file *
ovf_file_find(const struct ovf *o, const char *id)
{
    size_t i;

    for (i = 0; o && id && i < o->nfiles; i++)
        if (strcmp(o->files[i].id, id) == 0)
            return &o->files[i];
    return NULL;
}

/* Linear search: at most OVF_MAX_DISKS entries. Borrowed from @o. */
const struct ovf_disk *
ovf_disk_find(const struct ovf *o, const char *id)
{
    size_t i;

    for (i = 0; o && id && i < o->ndisks; i++)
        if (strcmp(o->disks[i].id, id) == 0)
            return &o->disks[i];
    return NULL;
}

/*
 * SAX entityDecl replacement: any entity declaration (general or
 * parameter, internal or external) ends the parse. @ctx is the parser
 * context; its _private points at our struct ovf_parse.
 */
static void
ovf_entity_decl(void *ctx, const xmlChar *name, int type,
                const xmlChar *public_id, const xmlChar *system_id,
                xmlChar *content)
{
    xmlParserCtxtPtr ctxt = ctx;
    struct ovf_parse *st = ctxt->_private;

    (void)name;
    (void)type;
    (void)public_id;
    (void)system_id;
    (void)content;
    if (st)
        st->entities = true;
    xmlStopParser(ctxt);
}

/* SAX unparsedEntityDecl replacement (NDATA entities): as above. */
static void
ovf_unparsed_entity_decl(void *ctx, const xmlChar *name,
                         const xmlChar *public_id, const xmlChar *system_id,
                         const xmlChar *notation)
{
    (void)notation;
    ovf_entity_decl(ctx, name, 0, public_id, system_id, NULL);
}

/* True when @n is an element named @name in an OVF envelope namespace. */
static bool
ovf_is(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           (xmlStrEqual(n->ns->href, OVF_XC(OVF_NS1)) ||
            xmlStrEqual(n->ns->href, OVF_XC(OVF_NS2))) &&
           xmlStrEqual(n->name, OVF_XC(name));
}

/* True when @n is an element with local name @name, any namespace. */
static bool
ovf_is_local(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE &&
           xmlStrEqual(n->name, OVF_XC(name));
}

/* The first child element of @n named @name in the OVF namespace. */
static xmlNode *
ovf_child(const xmlNode *n, const char *name)
{
    xmlNode *c;

    for (c = n ? n->children : NULL; c; c = c->next)
        if (ovf_is(c, name))
            return c;
    return NULL;
}

/* The first child element of @n with local name @name, any namespace. */
static xmlNode *
ovf_child_local(const xmlNode *n, const char *name)
{
    xmlNode *c;

    for (c = n ? n->children : NULL; c; c = c->next)
        if (ovf_is_local(c, name))
            return c;
    return NULL;
}

/* Copy @s into @out (@size bytes) without surrounding white space.
 * Returns false when it does not fit. */
static bool
ovf_copy_trim(const char *s, char *out, size_t size)
{
    size_t len;

    while (*s && isspace((unsigned char)*s))
        s++;
    len = strlen(s);
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        len--;
    if (len >= size) {
        if (size) {
            /* Cut at a UTF-8 character boundary for free text. */
            size_t n = size - 1;

            while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
                n--;
            memcpy(out, s, n);
            out[n] = '\0';
        }
        return false;
    }
    memcpy(out, s, len);
    out[len] = '\0';
    return true;
}

/*
 * Attribute @name of @n into @out: in the envelope namespace (ovf:id),
 * or unqualified as some producers write it. 0 when present, 1 when
 * absent (@out ""), -1 with ERR_INVALID when longer than @size-1 (@what
 * names the element in the message).
 */
static int
ovf_attr(const struct ovf_parse *st, const xmlNode *n, const char *name,
         char *out, size_t size, const char *what)
{
    xmlChar *v = xmlGetNsProp(n, OVF_XC(name), st->ns);
    bool fits;

    if (!v)
        v = xmlGetNoNsProp(n, OVF_XC(name));
    out[0] = '\0';
    if (!v)
        return 1;
    fits = ovf_copy_trim((const char *)v, out, size);
    xmlFree(v);
    if (!fits) {
        err_set(ERR_INVALID, "OVF descriptor: %s attribute '%s' is longer "
                             "than %zu bytes", what, name, size - 1);
        return -1;
    }
    return 0;
}

/* A required attribute: as ovf_attr(), but absent or empty is an
 * error too ("OVF Disk has no 'diskId'"). 0 or -1. */
static int
ovf_attr_req(const struct ovf_parse *st, const xmlNode *n, const char *name,
             char *out, size_t size, const char *what)
{
    int rc = ovf_attr(st, n, name, out, size, what);

    if (rc < 0)
        return -1;
    if (rc > 0 || !out[0]) {
        err_set(ERR_INVALID, "OVF descriptor: a %s has no '%s'", what, name);
        return -1;
    }
    return 0;
}

/* The text of @n into @out (trimmed, cut to @size-1 bytes); "" when @n
 * is NULL. Returns false when it was cut. */
static bool
ovf_text(const xmlNode *n, char *out, size_t size)
{
    xmlChar *v;
    bool fits;

    out[0] = '\0';
    if (!n)
        return true;
    v = xmlNodeGetContent(n);
    if (!v)
        return true;
    fits = ovf_copy_trim((const char *)v, out, size);
    xmlFree(v);
    return fits;
}

/* Parse the whole decimal @s into *out (0 .. INT64_MAX). 0 or -1
 * (ERR_INVALID naming @what). */
static int
ovf_number(const char *s, const char *what, uint64_t *out)
{
    int64_t v;

    if (str_to_int64(s, 0, INT64_MAX, what, &v) < 0) {
        err_set(ERR_INVALID, "OVF descriptor: %s '%s' is not a whole "
                             "number", what, s);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

/* *acc *= @f, false on overflow. */
static bool
ovf_mul(uint64_t *acc, uint64_t f)
{
    if (f && *acc > UINT64_MAX / f)
        return false;
    *acc *= f;
    return true;
}

/*
 * Turn allocation units @u into bytes per unit in *mult: the DMTF
 * programmatic form ("byte", "byte * 2^30", "byte*10^9", "byte * 1024")
 * or the common names ("KB", "MegaBytes", "GigaBytes", ...). 0 or -1
 * (ERR_INVALID naming @what).
 */
static int
ovf_units(const char *u, const char *what, uint64_t *mult)
{
    static const struct {
        const char *name;
        unsigned shift;
    } names[] = {
        { "byte", 0 },      { "bytes", 0 },      { "b", 0 },
        { "kilobyte", 10 }, { "kilobytes", 10 }, { "kb", 10 },
        { "kib", 10 },      { "megabyte", 20 },  { "megabytes", 20 },
        { "mb", 20 },       { "mib", 20 },       { "gigabyte", 30 },
        { "gigabytes", 30 }, { "gb", 30 },       { "gib", 30 },
        { "terabyte", 40 }, { "terabytes", 40 }, { "tb", 40 },
        { "tib", 40 },
    };
    const char *p = u;
    uint64_t acc = 1;
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(u, names[i].name) == 0) {
            *mult = (uint64_t)1 << names[i].shift;
            return 0;
        }
    }
    if (strncasecmp(p, "byte", 4) != 0)
        goto bad;
    p += 4;
    for (;;) {
        uint64_t base = 0, exp = 0, k;

        while (*p == ' ')
            p++;
        if (*p == '\0')
            break;
        if (*p != '*')
            goto bad;
        p++;
        while (*p == ' ')
            p++;
        if (*p < '0' || *p > '9')
            goto bad;
        while (*p >= '0' && *p <= '9') {
            if (base > UINT64_MAX / 10)
                goto bad;
            base = base * 10 + (uint64_t)(*p++ - '0');
        }
        if (*p == '^') {
            p++;
            if (*p < '0' || *p > '9')
                goto bad;
            while (*p >= '0' && *p <= '9' && exp < 1000)
                exp = exp * 10 + (uint64_t)(*p++ - '0');
            for (k = 0; k < exp; k++)
                if (!ovf_mul(&acc, base))
                    goto bad;
        } else if (!ovf_mul(&acc, base)) {
            goto bad;
        }
    }
    if (acc == 0)
        goto bad;
    *mult = acc;
    return 0;
 bad:
    err_set(ERR_INVALID, "OVF descriptor: %s units '%s' are not supported",
            what, u);
    return -1;
}

/* Read References/File elements into st->out->files. 0 or -1. */
static int
ovf_read_files(struct ovf_parse *st, const xmlNode *refs)
{
    const xmlNode *n;
    struct ovf *o = st->out;

    for (n = refs ? refs->children : NULL; n; n = n->next) {
        struct ovf_file f;
        char size[32], extra[64];
        const char *h;

        if (!ovf_is(n, "File"))
            continue;
        if (o->nfiles >= OVF_MAX_FILES) {
            err_set(ERR_INVALID, "OVF descriptor: more than %d files",
                    OVF_MAX_FILES);
            return -1;
        }
        memset(&f, 0, sizeof(f));
        if (ovf_attr_req(st, n, "id", f.id, sizeof(f.id), "File") < 0 ||
            ovf_attr_req(st, n, "href", f.href, sizeof(f.href), "File") < 0)
            return -1;
        /* The href names a member of the archive, nothing else: no
         * directories, no way up, no URL. */
        for (h = f.href; *h; h++)
            if ((unsigned char)*h < 0x20 || *h == '\\' || *h == '/')
                break;
        if (*h || strstr(f.href, "..") || strcmp(f.href, ".") == 0) {
            err_set(ERR_INVALID, "OVF file '%s': href '%s' is not a plain "
                                 "file name", f.id, f.href);
            return -1;
        }
        if (ovf_file_find(o, f.id)) {
            err_set(ERR_INVALID, "OVF descriptor: file id '%s' is used "
                                 "twice", f.id);
            return -1;
        }
        if (ovf_attr(st, n, "size", size, sizeof(size), "File") < 0)
            return -1;
        if (size[0] && ovf_number(size, "file size", &f.size) < 0)
            return -1;
        /* Chunked or compressed members would need unpacking steps the
         * importer does not have: refuse rather than misread them. */
        if (ovf_attr(st, n, "chunkSize", extra, sizeof(extra), "File") == 0) {
            err_set(ERR_INVALID, "OVF file '%s': chunked files are not "
                                 "supported", f.id);
            return -1;
        }
        if (ovf_attr(st, n, "compression", extra, sizeof(extra),
                     "File") == 0 && extra[0] &&
            strcmp(extra, "identity") != 0) {
            err_set(ERR_INVALID, "OVF file '%s': compression '%s' is not "
                                 "supported", f.id, extra);
            return -1;
        }
        o->files = xrealloc(o->files, (o->nfiles + 1) * sizeof(*o->files));
        o->files[o->nfiles++] = f;
    }
    return 0;
}

/* Read DiskSection/Disk elements into st->out->disks. 0 or -1. */
static int
ovf_read_disks(struct ovf_parse *st, const xmlNode *sec)
{
    const xmlNode *n;
    struct ovf *o = st->out;

    for (n = sec ? sec->children : NULL; n; n = n->next) {
        struct ovf_disk d;
        char cap[32], units[64];
        uint64_t mult = 1;

        if (!ovf_is(n, "Disk"))
            continue;
        if (o->ndisks >= OVF_MAX_DISKS) {
            err_set(ERR_INVALID, "OVF descriptor: more than %d disks",
                    OVF_MAX_DISKS);
            return -1;
        }
        memset(&d, 0, sizeof(d));
        if (ovf_attr_req(st, n, "diskId", d.id, sizeof(d.id), "Disk") < 0)
            return -1;
        if (ovf_disk_find(o, d.id)) {
            err_set(ERR_INVALID, "OVF descriptor: disk id '%s' is used "
                                 "twice", d.id);
            return -1;
        }
        if (ovf_attr(st, n, "fileRef", d.file_ref, sizeof(d.file_ref),
                     "Disk") < 0 ||
            ovf_attr(st, n, "format", d.format, sizeof(d.format),
                     "Disk") < 0 ||
            ovf_attr(st, n, "capacityAllocationUnits", units, sizeof(units),
                     "Disk") < 0)
            return -1;
        if (d.file_ref[0] && !ovf_file_find(o, d.file_ref)) {
            err_set(ERR_INVALID, "OVF disk '%s': fileRef '%s' names no "
                                 "File", d.id, d.file_ref);
            return -1;
        }
        if (ovf_attr_req(st, n, "capacity", cap, sizeof(cap), "Disk") < 0 ||
            ovf_number(cap, "disk capacity", &d.capacity_bytes) < 0 ||
            (units[0] && ovf_units(units, "capacity", &mult) < 0))
            return -1;
        if (!ovf_mul(&d.capacity_bytes, mult)) {
            err_set(ERR_INVALID, "OVF disk '%s': capacity too large", d.id);
            return -1;
        }
        o->disks = xrealloc(o->disks, (o->ndisks + 1) * sizeof(*o->disks));
        o->disks[o->ndisks++] = d;
    }
    return 0;
}

/* Read one RASD Item @item into @sys. 0 or -1. */
static int
ovf_read_item(struct ovf_parse *st, const xmlNode *item,
              struct ovf_system *sys)
{
    char type[16], qty[32], units[64], host[192], conn[256];
    uint64_t rtype, q, mult;

    (void)st;
    if (!ovf_text(ovf_child_local(item, "ResourceType"), type, sizeof(type)) ||
        !type[0])
        return 0;   /* not a resource we read; OVF allows others */
    if (ovf_number(type, "ResourceType", &rtype) < 0)
        return -1;
    switch (rtype) {
    case 3: /* processors */
        ovf_text(ovf_child_local(item, "VirtualQuantity"), qty, sizeof(qty));
        if (ovf_number(qty, "CPU count", &q) < 0)
            return -1;
        if (q < 1 || q > OVF_MAX_CPUS) {
            err_set(ERR_INVALID, "OVF system '%s': %llu CPUs is not 1 to %d",
                    sys->id, (unsigned long long)q, OVF_MAX_CPUS);
            return -1;
        }
        sys->cpus = (unsigned)q;
        break;
    case 4: /* memory */
        ovf_text(ovf_child_local(item, "VirtualQuantity"), qty, sizeof(qty));
        if (!ovf_text(ovf_child_local(item, "AllocationUnits"), units,
                      sizeof(units))) {
            err_set(ERR_INVALID, "OVF system '%s': memory AllocationUnits "
                                 "too long", sys->id);
            return -1;
        }
        if (ovf_number(qty, "memory size", &q) < 0)
            return -1;
        if (!units[0]) {
            sys->memory_mib = q;   /* OVF's usual unit for memory */
            break;
        }
        if (ovf_units(units, "memory", &mult) < 0)
            return -1;
        if (!ovf_mul(&q, mult)) {
            err_set(ERR_INVALID, "OVF system '%s': memory too large",
                    sys->id);
            return -1;
        }
        sys->memory_mib = (q >> 20) + ((q & 0xfffff) ? 1 : 0);
        break;
    case 17: /* disk drive */
        if (!ovf_text(ovf_child_local(item, "HostResource"), host,
                      sizeof(host))) {
            err_set(ERR_INVALID, "OVF system '%s': disk HostResource too "
                                 "long", sys->id);
            return -1;
        }
        if (!host[0])
            break;   /* an empty drive */
        {
            const char *id = str_has_prefix(host, "ovf:/disk/") ? host + 10
                             : str_has_prefix(host, "/disk/") ? host + 6
                             : NULL;

            if (!id || !id[0]) {
                err_set(ERR_INVALID, "OVF system '%s': disk HostResource "
                                     "'%s' is not 'ovf:/disk/<id>'",
                        sys->id, host);
                return -1;
            }
            if (!ovf_disk_find(st->out, id)) {
                err_set(ERR_INVALID, "OVF system '%s': disk '%s' is not in "
                                     "the DiskSection", sys->id, id);
                return -1;
            }
            if (sys->ndisks >= sizeof(sys->disk_ids) /
                                   sizeof(sys->disk_ids[0])) {
                err_set(ERR_INVALID, "OVF system '%s': more than %zu disks",
                        sys->id, sizeof(sys->disk_ids) /
                                     sizeof(sys->disk_ids[0]));
                return -1;
            }
            str_copy(sys->disk_ids[sys->ndisks++], id,
                     sizeof(sys->disk_ids[0]));
        }
        break;
    case 15: /* CD drive */
    case 16: /* DVD drive */
        sys->cdroms++;
        break;
    case 10: /* Ethernet adapter */
        if (sys->nnics >= sizeof(sys->nics) / sizeof(sys->nics[0])) {
            err_set(ERR_INVALID, "OVF system '%s': more than %zu NICs",
                    sys->id, sizeof(sys->nics) / sizeof(sys->nics[0]));
            return -1;
        }
        if (!ovf_text(ovf_child_local(item, "Connection"), conn,
                      sizeof(conn)) ||
            strlen(conn) >= sizeof(sys->nics[0])) {
            err_set(ERR_INVALID, "OVF system '%s': NIC network name too "
                                 "long", sys->id);
            return -1;
        }
        str_copy(sys->nics[sys->nnics++], conn, sizeof(sys->nics[0]));
        break;
    default:
        break;
    }
    return 0;
}

/* Read the VirtualSystem @vs into a new entry of st->out->systems. */
static int
ovf_read_system(struct ovf_parse *st, const xmlNode *vs)
{
    struct ovf *o = st->out;
    struct ovf_system sys;
    const xmlNode *hw, *n;

    if (o->nsystems >= OVF_MAX_SYSTEMS) {
        err_set(ERR_INVALID, "OVF descriptor: more than %d virtual systems",
                OVF_MAX_SYSTEMS);
        return -1;
    }
    memset(&sys, 0, sizeof(sys));
    sys.cpus = 1;
    if (ovf_attr_req(st, vs, "id", sys.id, sizeof(sys.id),
                     "VirtualSystem") < 0)
        return -1;
    ovf_text(ovf_child(vs, "Name"), sys.name, sizeof(sys.name));
    if (!sys.name[0])
        str_copy(sys.name, sys.id, sizeof(sys.name));
    ovf_text(ovf_child_local(ovf_child(vs, "OperatingSystemSection"),
                             "Description"), sys.os, sizeof(sys.os));
    /* OVF allows one hardware section per virtualization type; they
     * describe the same machine, so the first one is read. */
    hw = ovf_child(vs, "VirtualHardwareSection");
    for (n = hw ? hw->children : NULL; n; n = n->next) {
        if (!ovf_is(n, "Item") && !ovf_is(n, "StorageItem") &&
            !ovf_is(n, "EthernetPortItem"))
            continue;
        if (ovf_read_item(st, n, &sys) < 0)
            return -1;
    }
    o->systems = xrealloc(o->systems, (o->nsystems + 1) * sizeof(*o->systems));
    o->systems[o->nsystems++] = sys;
    return 0;
}

/* Read the VirtualSystems under @n (itself one, or a collection, nested
 * at most OVF_MAX_NESTING deep). 0 or -1. */
static int
ovf_read_systems(struct ovf_parse *st, const xmlNode *n, int depth)
{
    const xmlNode *c;

    if (depth > OVF_MAX_NESTING) {
        err_set(ERR_INVALID, "OVF descriptor: VirtualSystemCollections "
                             "nested more than %d deep", OVF_MAX_NESTING);
        return -1;
    }
    for (c = n->children; c; c = c->next) {
        if (ovf_is(c, "VirtualSystem")) {
            if (ovf_read_system(st, c) < 0)
                return -1;
        } else if (ovf_is(c, "VirtualSystemCollection")) {
            if (ovf_read_systems(st, c, depth + 1) < 0)
                return -1;
        }
    }
    return 0;
}

/* Set the error for a document libxml2 did not accept. */
static void
ovf_xml_error(xmlParserCtxtPtr ctxt)
{
    const xmlError *e = xmlCtxtGetLastError(ctxt);
    char msg[256];
    size_t len;

    if (!e || !e->message) {
        err_set(ERR_INVALID, "OVF descriptor is not well-formed XML");
        return;
    }
    str_copy(msg, e->message, sizeof(msg));
    len = strlen(msg);
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
        msg[--len] = '\0';
    err_set(ERR_INVALID, "OVF descriptor is not well-formed XML: line %d: "
                         "%s", e->line, msg);
}

/*
 * Parse a descriptor (ovf.h): size limit, libxml2 with entities refused
 * (see DESIGN), the root check, then the two passes. On failure @out is
 * released and zeroed.
 */
int
ovf_parse(const char *xml, size_t len, struct ovf *out)
{
    xmlParserCtxtPtr ctxt = NULL;
    xmlDocPtr doc = NULL;
    xmlNode *root;
    struct ovf_parse st;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    memset(&st, 0, sizeof(st));
    st.out = out;
    if (!xml || len == 0) {
        err_set(ERR_INVALID, "OVF descriptor is empty");
        return -1;
    }
    if (len > OVF_MAX_XML) {
        err_set(ERR_INVALID, "OVF descriptor is larger than %u bytes",
                OVF_MAX_XML);
        return -1;
    }
    ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        err_set(ERR_INTERNAL, "cannot create an XML parser");
        return -1;
    }
    ctxt->sax->entityDecl = ovf_entity_decl;
    ctxt->sax->unparsedEntityDecl = ovf_unparsed_entity_decl;
    ctxt->_private = &st;
    doc = xmlCtxtReadMemory(ctxt, xml, (int)len, "descriptor.ovf", NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR |
                                XML_PARSE_NOWARNING);
    if (st.entities ||
        (doc && doc->intSubset && (doc->intSubset->entities ||
                                   doc->intSubset->pentities))) {
        err_set(ERR_INVALID, "OVF descriptor declares entities");
        goto cleanup;
    }
    if (!doc || !ctxt->wellFormed) {
        ovf_xml_error(ctxt);
        goto cleanup;
    }
    root = xmlDocGetRootElement(doc);
    if (!ovf_is(root, "Envelope")) {
        err_set(ERR_INVALID, "OVF descriptor: the root is not an OVF "
                             "Envelope (%s or %s)", OVF_NS1, OVF_NS2);
        goto cleanup;
    }
    st.ns = root->ns->href;
    if (ovf_read_files(&st, ovf_child(root, "References")) < 0 ||
        ovf_read_disks(&st, ovf_child(root, "DiskSection")) < 0 ||
        ovf_read_systems(&st, root, 0) < 0)
        goto cleanup;
    if (out->nsystems == 0) {
        err_set(ERR_INVALID, "OVF descriptor has no VirtualSystem");
        goto cleanup;
    }
    rc = 0;
 cleanup:
    if (rc < 0)
        ovf_release(out);
    if (doc)
        xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return rc;
}
