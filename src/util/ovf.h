/*
 * ovf.h - OVF descriptors (.ovf, inside .ova assemblies), read with
 * libxml2.
 *
 * DESIGN: the parser never touches the network and never expands
 * entities: XML_PARSE_NONET, no XML_PARSE_NOENT, no XML_PARSE_DTDLOAD, and
 * a document with a DOCTYPE that declares entities is refused
 * (ERR_INVALID "OVF descriptor declares entities"), so neither external
 * entities nor entity expansion bombs can reach anything. Elements are
 * matched by local name and the OVF envelope namespace
 * (http://schemas.dmtf.org/ovf/envelope/1 or /2), RASD items by local
 * name. Limits: 4 MiB of XML, 64 files, 64 disks, 16 virtual systems.
 *
 * What is read:
 *   References/File          id, href, size
 *   DiskSection/Disk         diskId, fileRef, capacity (with
 *                            capacityAllocationUnits "byte * 2^30" etc.),
 *                            format URI
 *   VirtualSystem            id, Name (or id), OperatingSystemSection
 *                            Description, and from VirtualHardwareSection
 *                            the Items: ResourceType 3 (CPUs:
 *                            VirtualQuantity), 4 (memory: VirtualQuantity
 *                            with AllocationUnits, in MiB), 17 disks
 *                            (HostResource "ovf:/disk/<diskId>"), 15/16
 *                            CD/DVD, 10 NICs (Connection network name).
 *
 * Thread-safety: reentrant (libxml2 initialised once by ovf_global_init
 * from the main thread).
 */
#ifndef OVMM_UTIL_OVF_H
#define OVMM_UTIL_OVF_H

#include <stddef.h>
#include <stdint.h>

struct ovf_file {
    char id[128];
    char href[256];            /* a file name in the archive; never
                                  contains "/" or ".." (else the parse
                                  fails: ERR_INVALID) */
    uint64_t size;             /* 0 when not given */
};

struct ovf_disk {
    char id[128];              /* diskId */
    char file_ref[128];        /* "" for a blank disk */
    uint64_t capacity_bytes;
    char format[256];          /* format URI, "" when none */
};

struct ovf_system {
    char id[128];
    char name[256];
    char os[256];              /* OperatingSystemSection Description */
    unsigned cpus;             /* 1 when not given */
    uint64_t memory_mib;       /* 0 when not given */
    char disk_ids[16][128];    /* its disks, in item order */
    size_t ndisks;
    unsigned cdroms;
    char nics[8][128];         /* network names of its NICs */
    size_t nnics;
};

struct ovf {
    struct ovf_file *files;    size_t nfiles;
    struct ovf_disk *disks;    size_t ndisks;
    struct ovf_system *systems; size_t nsystems;
};

void ovf_global_init(void);
/* Parse @len bytes of @xml into @out (zeroed first). 0, or -1 with
 * ERR_INVALID naming the problem. Release with ovf_release(). */
int ovf_parse(const char *xml, size_t len, struct ovf *out);
void ovf_release(struct ovf *o);
/* The file / disk with that id, or NULL. */
const struct ovf_file *ovf_file_find(const struct ovf *o, const char *id);
const struct ovf_disk *ovf_disk_find(const struct ovf *o, const char *id);

#endif
