/*
 * storage_template.c - a template's rows from its vm.cfg (storage.h,
 * "templates"): used by template imports, by templates made from an
 * assembly, and by the repository refresh, which finds
 * Templates/<id>.vm.cfg files that have no row.
 *
 * DESIGN: the vm.cfg is the template as the servers see it; the rows are
 * what the Manager shows. The function is the one mapping between the
 * two, so an imported template and the same template found again by a
 * refresh (after the database lost it) look alike. It reads the disk
 * rows of the repository inside the caller's transaction and inserts the
 * Vm and its mappings there; it never touches files. Values that do not
 * fit (a non-numeric memory, a domain type it does not know) fall back to
 * the defaults of the vms table rather than failing: a template whose
 * cfg the servers accept should not be refused for a detail.
 *
 * Thread-safety: reentrant; runs on job worker threads.
 */
#include <ctype.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/db.h"
#include "jobs/storage.h"
#include "jobs/vdisk_int.h"
#include "model/model.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"
#include "util/vmcfg.h"

LOG_MODULE("jobs");

/* Longest name made here, leaving room for a "-NNN" suffix within the
 * 200 characters a Vm name may have. */
#define NAME_MAX_VALID 190

char *
storage_vm_name_valid(const char *wanted)
{
    size_t i, n;
    char *s;

    if (!wanted || !*wanted)
        return xstrdup("template");
    n = strlen(wanted);
    if (n > NAME_MAX_VALID)
        n = NAME_MAX_VALID;
    s = xstrndup(wanted, n);
    for (i = 0; s[i]; i++) {
        unsigned char c = (unsigned char)s[i];

        if (!isalnum(c) && c != '_' && c != '-')
            s[i] = '_';
    }
    return s;
}

/* The names of every Vm, as @t sees them, into *names (*n strings; free
 * with db_ids_free()). 0 or -1. */
static int
vm_names(struct db_txn *t, char ***names, size_t *n)
{
    const struct model_type *vt = model_type_find("Vm");
    char **ids = NULL;
    size_t k;

    *names = NULL;
    *n = 0;
    if (db_txn_row_ids(t, vt, NULL, NULL, &ids, n) < 0)
        return -1;
    *names = xcalloc(*n ? *n : 1, sizeof(char *));
    for (k = 0; k < *n; k++) {
        json_object *r = db_txn_row_get(t, vt, ids[k]);

        (*names)[k] = xstrdup(r && json_str(r, "name") ? json_str(r, "name")
                                                      : "");
        if (!r)
            err_clear();
        json_object_put(r);
    }
    db_ids_free(ids, *n);
    return 0;
}

/* @base, or @base-2, -3 ... : the first no Vm has. Caller frees. */
static char *
name_unique(struct db_txn *t, const char *base)
{
    char **names = NULL;
    size_t n = 0, k;
    char *cand = xstrdup(base);
    int suffix = 1;
    bool taken = true;

    if (vm_names(t, &names, &n) < 0)
        return cand; /* not unique-checked; names need not be unique */
    while (taken && suffix < 10000) {
        taken = false;
        for (k = 0; k < n && !taken; k++)
            taken = strcmp(names[k], cand) == 0;
        if (taken) {
            xfree(cand);
            cand = xasprintf("%s-%d", base, ++suffix);
        }
    }
    db_ids_free(names, n);
    return cand;
}

/* Member @key of @cfg as an integer (an int, or a string of digits), or
 * @dflt. */
static int64_t
cfg_int(json_object *cfg, const char *key, int64_t dflt)
{
    json_object *v = NULL;
    int64_t x;

    if (!json_object_object_get_ex(cfg, key, &v) || !v)
        return dflt;
    if (json_object_is_type(v, json_type_int))
        return json_object_get_int64(v);
    if (json_object_is_type(v, json_type_string) &&
        str_to_int64(json_object_get_string(v), INT64_MIN, INT64_MAX, key,
                     &x) == 0)
        return x;
    err_clear();
    return dflt;
}

/* Member @key of @cfg as a boolean: True/False (Python constants), an
 * integer, or a string "true"/"yes"/"1" (any case); else @dflt. */
static bool
cfg_bool(json_object *cfg, const char *key, bool dflt)
{
    json_object *v = NULL;
    const char *s;

    if (!json_object_object_get_ex(cfg, key, &v) || !v)
        return dflt;
    if (json_object_is_type(v, json_type_boolean))
        return json_object_get_boolean(v);
    if (json_object_is_type(v, json_type_int))
        return json_object_get_int64(v) != 0;
    if (!json_object_is_type(v, json_type_string))
        return dflt;
    s = json_object_get_string(v);
    return strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 ||
           strcmp(s, "1") == 0;
}

/* Case-insensitive "contains". */
static bool
contains_ci(const char *s, const char *what)
{
    return s && strcasestr(s, what) != NULL;
}

/* The vmDomainType the cfg describes (storage.h). */
static const char *
domain_type(json_object *cfg)
{
    const char *d = json_str(cfg, "OVM_domain_type");
    const char *os = json_str(cfg, "OVM_os_type");
    const char *builder = json_str(cfg, "builder");

    if (d) {
        if (strcasecmp(d, "xen_pvm") == 0)
            return "XEN_PVM";
        if (strcasecmp(d, "xen_hvm") == 0)
            return "XEN_HVM";
        if (strcasecmp(d, "xen_hvm_pv_drivers") == 0)
            return "XEN_HVM_PV_DRIVERS";
        if (strcasecmp(d, "kvm") == 0)
            return "KVM";
    }
    if (builder && strcmp(builder, "hvm") == 0) {
        if (contains_ci(os, "PVHVM") || cfg_int(cfg, "xen_platform_pci", 0)
                == 1)
            return "XEN_HVM_PV_DRIVERS";
        return "XEN_HVM";
    }
    /* bootloader / kernel, or xm's default builder 'linux': PV. */
    return "XEN_PVM";
}

/* bootOrder from xm's boot = 'cdn' letters, as JSON text. */
static char *
boot_order(json_object *cfg)
{
    const char *b = json_str(cfg, "boot");
    json_object *a = json_object_new_array();
    char *out;

    for (; b && *b; b++) {
        const char *dev = *b == 'c' ? "DISK" : *b == 'd' ? "CDROM"
                          : *b == 'n' ? "PXE" : NULL;

        if (dev)
            json_object_array_add(a, json_object_new_string(dev));
    }
    if (json_object_array_length(a) == 0)
        json_object_array_add(a, json_object_new_string("DISK"));
    out = xstrdup(json_to_text(a));
    json_object_put(a);
    return out;
}

/* Append {"type", "id"} to @rows (may be NULL). */
static void
note_row(json_object *rows, const char *type, const char *id)
{
    json_object *r;

    if (!rows)
        return;
    r = json_object_new_object();
    json_object_object_add(r, "type", json_object_new_string(type));
    json_object_object_add(r, "id", json_object_new_string(id));
    json_object_array_add(rows, r);
}

/* Append a sentence to *notes (created on first use). */
static void
add_note(json_object **notes, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
add_note(json_object **notes, const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = xvasprintf(fmt, ap);
    va_end(ap);
    if (notes) {
        if (!*notes)
            *notes = json_object_new_array();
        json_object_array_add(*notes, json_object_new_string(s));
    }
    xfree(s);
}

/*
 * The mapping of entry @k (text @spec) of the disk list, inserted as
 * diskTarget *target (incremented when one is made).
 */
static int
map_disk(struct db_txn *t, const char *repo_id, const char *vm_id,
         const char *spec, size_t *target, json_object *rows,
         json_object **notes)
{
    const struct model_type *mt = model_type_find("VmDiskMapping");
    const struct model_type *dt = model_type_find("VirtualDisk");
    AUTOPTR(json_object) json_object *d = vmcfg_disk_parse(spec);
    AUTOPTR(json_object) json_object *row = NULL;
    AUTOPTR(json_object) json_object *disk = NULL;
    const char *path, *base, *tgt, *mode;
    char *AUTOFREE id = NULL, *AUTOFREE mname = NULL;
    bool cdrom = false;
    json_object *v;

    if (!d)
        return -1;
    path = json_str(d, "path");
    tgt = json_str(d, "target");
    mode = json_str(d, "mode");
    if (json_object_object_get_ex(d, "cdrom", &v))
        cdrom = json_object_get_boolean(v);
    base = path ? strrchr(path, '/') : NULL;
    base = base ? base + 1 : path;
    if (base && *base) {
        disk = db_txn_row_get(t, dt, base);
        if (!disk) {
            if (err_code() != ERR_NOT_FOUND)
                return -1;
            err_clear();
        } else if (!str_eq(json_str(disk, "repository_id"), repo_id)) {
            json_object_put(steal_ptr(&disk));
        }
        if (!disk && !cdrom) {
            add_note(notes, "disk '%s' (%s) is not in the repository: left "
                            "out", base, tgt ? tgt : "?");
            return 0;
        }
        if (!disk)
            add_note(notes, "CD-ROM '%s' (%s) is not in the repository: "
                            "mapped as an empty CD-ROM drive", base,
                     tgt ? tgt : "?");
    } else if (!cdrom) {
        add_note(notes, "disk entry '%s' names no file: left out", spec);
        return 0;
    }
    id = model_id_new(mt);
    mname = disk ? xasprintf("Mapping for disk Id (%s)", base)
                 : xstrdup("Mapping for empty CD-ROM");
    row = json_object_new_object();
    json_object_object_add(row, "id", json_object_new_string(id));
    json_object_object_add(row, "name", json_object_new_string(mname));
    json_object_object_add(row, "vm_id", json_object_new_string(vm_id));
    json_object_object_add(row, "virtual_disk_id",
                           disk ? json_object_new_string(base) : NULL);
    json_object_object_add(row, "disk_target",
                           json_object_new_int64((int64_t)*target));
    json_object_object_add(row, "emulated_block_device",
                           json_object_new_int(tgt && str_has_prefix(tgt,
                                                                     "hd")));
    json_object_object_add(row, "disk_write_mode",
                           json_object_new_string(
                               cdrom || (mode && mode[0] == 'r')
                                   ? "READ_ONLY" : "READ_WRITE"));
    if (db_txn_row_insert(t, mt, row) < 0)
        return -1;
    note_row(rows, "VmDiskMapping", id);
    (*target)++;
    return 0;
}

int
storage_template_from_cfg(struct db_txn *t, const char *repo_id,
                          const char *vm_id, const char *cfg_text,
                          size_t len, const char *name, const char *origin,
                          json_object *rows, char **vm_name,
                          json_object **notes)
{
    const struct model_type *vt = model_type_find("Vm");
    AUTOPTR(json_object) json_object *cfg = NULL;
    AUTOPTR(json_object) json_object *row = NULL;
    char *AUTOFREE valid = NULL, *AUTOFREE final = NULL;
    char *AUTOFREE boot = NULL, *AUTOFREE cfg_file = NULL;
    const char *wanted, *os;
    int64_t mem, maxmem, vcpus, maxvcpus;
    json_object *disks = NULL;
    size_t k, target = 0;

    if (vm_name)
        *vm_name = NULL;
    if (notes)
        *notes = NULL;
    cfg = vmcfg_parse(cfg_text, len);
    if (!cfg)
        return -1;
    wanted = name ? name : json_str(cfg, "OVM_simple_name");
    if (!wanted)
        wanted = json_str(cfg, "name");
    valid = storage_vm_name_valid(wanted);
    final = name_unique(t, valid);
    mem = cfg_int(cfg, "memory", 512);
    if (mem < 1)
        mem = 512;
    maxmem = cfg_int(cfg, "maxmem", mem);
    if (maxmem < mem)
        maxmem = mem;
    vcpus = cfg_int(cfg, "vcpus", 1);
    if (vcpus < 1)
        vcpus = 1;
    maxvcpus = cfg_int(cfg, "maxvcpus", vcpus);
    if (maxvcpus < vcpus)
        maxvcpus = vcpus;
    os = json_str(cfg, "OVM_os_type");
    boot = boot_order(cfg);
    cfg_file = xasprintf("%s%s", vm_id, STORAGE_TEMPLATE_SUFFIX);

    row = json_object_new_object();
    json_object_object_add(row, "id", json_object_new_string(vm_id));
    json_object_object_add(row, "name", json_object_new_string(final));
    json_object_object_add(row, "run_state",
                           json_object_new_string("TEMPLATE"));
    json_object_object_add(row, "domain_type",
                           json_object_new_string(domain_type(cfg)));
    json_object_object_add(row, "cpu_count", json_object_new_int64(vcpus));
    json_object_object_add(row, "cpu_count_limit",
                           json_object_new_int64(maxvcpus));
    json_object_object_add(row, "memory", json_object_new_int64(mem));
    json_object_object_add(row, "memory_limit",
                           json_object_new_int64(maxmem));
    json_object_object_add(row, "high_availability",
                           json_object_new_int64(
                               cfg_bool(cfg, "OVM_high_availability", false)));
    if (os && *os)
        json_object_object_add(row, "os_type", json_object_new_string(os));
    json_object_object_add(row, "boot_order", json_object_new_string(boot));
    json_object_object_add(row, "repository_id",
                           json_object_new_string(repo_id));
    json_object_object_add(row, "config_file",
                           json_object_new_string(cfg_file));
    json_object_object_add(row, "config",
                           json_object_new_string(json_to_text(cfg)));
    json_object_object_add(row, "origin",
                           json_object_new_string(origin ? origin : ""));
    if (db_txn_row_insert(t, vt, row) < 0)
        return -1;
    note_row(rows, "Vm", vm_id);

    if (json_object_object_get_ex(cfg, "disk", &disks) && disks) {
        if (json_object_is_type(disks, json_type_string)) {
            if (map_disk(t, repo_id, vm_id, json_object_get_string(disks),
                         &target, rows, notes) < 0)
                return -1;
        } else if (json_object_is_type(disks, json_type_array)) {
            for (k = 0; k < json_object_array_length(disks); k++) {
                json_object *e = json_object_array_get_idx(disks, k);

                if (!json_object_is_type(e, json_type_string)) {
                    add_note(notes, "disk entry %zu is not a string: left "
                                    "out", k);
                    continue;
                }
                if (map_disk(t, repo_id, vm_id, json_object_get_string(e),
                             &target, rows, notes) < 0)
                    return -1;
            }
        }
    }
    log_debug("template '%s' (%s): %zu disk mappings", final, vm_id, target);
    if (vm_name)
        *vm_name = steal_ptr(&final);
    return 0;
}
