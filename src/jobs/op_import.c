/*
 * op_import.c - what comes into a repository from outside, as job
 * operations: virtual disks and ISOs from a URL, templates (a .tgz/.tar
 * package, possibly split in parts), assemblies (.ova, or .ovf with its
 * disk files); templates made from an assembly's VM; and the row parts of
 * deleting a template or an assembly.
 *
 * DESIGN (docs/STORAGE.md "Imports", "Templates", "Assemblies"):
 * - The URL was checked when the request arrived (fetch_url_check);
 *   fetch_url() checks it again, and every address it connects to, with
 *   the policy the handler copied into the job's arguments (allow list,
 *   size and time limits), so a configuration change never reaches a job
 *   already queued.
 * - A disk or ISO streams from the download straight into a hv upload:
 *   nothing is visible in the repository until upload_finish(), and
 *   upload_cancel() leaves nothing, so an aborted or failed download
 *   leaves no file (not even a partial one) and no row.
 * - A package is downloaded to one temporary file under tmp_dir (the
 *   parts of a split package appended in order), checked whole
 *   (archive_check: no absolute path, no "..", no link or device), then
 *   walked once: its files are uploaded under new names chosen here
 *   (disk ids), never by their paths, so nothing in an archive can name a
 *   place to write. The temporary file is unlinked as soon as it is open
 *   (it is read through /proc/self/fd), so no exit path -- not even a
 *   crash -- leaves it behind; where /proc is missing it is unlinked when
 *   the operation ends.
 * - Everything is abortable: the download polls job_aborting(), the
 *   archive walk checks it between chunks, copies between files.
 * - Files first, then all rows in one transaction committed with the DONE
 *   row; on any failure before that commit the files made are deleted
 *   (vdisk_int.h).
 *
 * Operations (arguments -> undo data):
 *   import.disk          {id, repository, name, url, dir ("VirtualDisks"
 *                        or "ISOs"), allow, maxBytes, timeoutMs} -> made
 *   import.template      {vm, repository, urls: [...], name?, allow,
 *                        maxBytes, timeoutMs, tmpDir} -> made
 *   import.assembly      {id, repository, url, name, allow, maxBytes,
 *                        timeoutMs, tmpDir} -> made
 *   assembly.create_vm   {assemblyVm, vm, repository} -> made
 *   template.delete_rows {vm, deleteDisks, disks: [ids]} -> {rows}
 *   assembly.delete_rows {id} -> {rows}
 * (template and assembly deletes end with vdisk.delete_files.)
 *
 * Events: INFORMATIONAL vdisk.imported, template.imported,
 * template.created, template.deleted, assembly.imported, assembly.deleted.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db/db.h"
#include "events/events.h"
#include "jobs/storage.h"
#include "jobs/vdisk.h"
#include "jobs/vdisk_int.h"
#include "model/model.h"
#include "util/alloc.h"
#include "util/archive.h"
#include "util/err.h"
#include "util/fetch.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/ovf.h"
#include "util/str.h"
#include "util/vmcfg.h"

LOG_MODULE("jobs");

/* Chunk size of archive entries copied into uploads. */
#define CHUNK (1024 * 1024)
/* Largest vm.cfg (util/vmcfg.h) and OVF descriptor (util/ovf.h). */
#define VMCFG_MAX (64 * 1024)
#define OVF_MAX (4 * 1024 * 1024)

#define ST() (storage_hv->storage)

/* ---- progress ---- */

/* "1.5 MiB" style, into @buf. */
static const char *
human(uint64_t n, char *buf, size_t size)
{
    if (n >= 1024ULL * 1024 * 1024)
        snprintf(buf, size, "%.1f GiB", (double)n / (1024.0 * 1024 * 1024));
    else if (n >= 1024ULL * 1024)
        snprintf(buf, size, "%.1f MiB", (double)n / (1024.0 * 1024));
    else if (n >= 1024)
        snprintf(buf, size, "%.1f KiB", (double)n / 1024.0);
    else
        snprintf(buf, size, "%" PRIu64 " bytes", n);
    return buf;
}

/* Report @done of @total (0: unknown) bytes as "<label>: ...". */
static void
progress(struct job_ctx *ctx, const char *label, uint64_t done,
         uint64_t total)
{
    char a[32], b[32];

    if (total > 0)
        job_progress(ctx, "%s: %s of %s (%d%%); %" PRIu64 " of %" PRIu64
                          " bytes", label, human(done, a, sizeof(a)),
                     human(total, b, sizeof(b)), (int)(done * 100 / total),
                     done, total);
    else
        job_progress(ctx, "%s: %s; %" PRIu64 " bytes", label,
                     human(done, a, sizeof(a)), done);
}

/* After a failed step: an abort becomes the job's abort error ("aborted
 * by <user>"), anything else stays. -1. */
static int
failed(struct job_ctx *ctx)
{
    if (err_code() == ERR_ABORTED || job_aborting(ctx))
        return job_abort_error(ctx);
    return -1;
}

/*
 * The thread's error with every @from in its message replaced by @to:
 * the archive functions name the file they read, /proc/self/fd/N, which
 * says nothing to the user; the package's name does.
 */
static void
err_rename(const char *from, const char *to)
{
    const struct err *e = err_get();
    char out[sizeof(e->message)];
    const char *p = e->message, *hit;
    size_t n = 0, fl = strlen(from);

    if (!fl || !strstr(p, from))
        return;
    while ((hit = strstr(p, from)) && n < sizeof(out) - 1) {
        n += (size_t)snprintf(out + n, sizeof(out) - n, "%.*s%s",
                              (int)(hit - p), p, to);
        p = hit + fl;
    }
    if (n < sizeof(out) - 1)
        snprintf(out + n, sizeof(out) - n, "%s", p);
    out[sizeof(out) - 1] = '\0';
    err_set_full(e->code, e->file, e->func, e->line, "%s", out);
}

/* ---- downloads into uploads ---- */

struct up_sink {
    struct job_ctx *ctx;
    struct hv_upload *u;
    const char *what;
};

static int
up_write(void *opaque, const void *buf, size_t len)
{
    struct up_sink *s = opaque;

    return ST()->upload_write(s->u, buf, len);
}

static void
up_progress(void *opaque, uint64_t done, uint64_t total)
{
    struct up_sink *s = opaque;
    char *AUTOFREE label = xasprintf("downloading '%s'", s->what);

    progress(s->ctx, label, done, total);
}

static bool
up_aborting(void *opaque)
{
    struct up_sink *s = opaque;

    return job_aborting(s->ctx);
}

/*
 * Download @url into the new file @dir/@name of @repo through @c. On
 * failure nothing stays (upload_cancel). 0 or -1.
 */
static int
fetch_to_upload(struct job_ctx *ctx, struct hv_conn *c, const char *repo,
                enum hv_repo_dir dir, const char *name, const char *url,
                const struct fetch_policy *p, const char *what)
{
    struct up_sink s = { ctx, NULL, what };
    struct fetch_sink sink = { up_write, up_progress, up_aborting, &s };
    struct fetch_result res;

    s.u = ST()->upload_begin(c, repo, dir, name);
    if (!s.u)
        return -1;
    if (fetch_url(url, p, &sink, &res) < 0) {
        struct err saved = *err_get();

        ST()->upload_cancel(s.u);
        err_set_full(saved.code, saved.file, saved.func, saved.line, "%s",
                     saved.message);
        return failed(ctx);
    }
    if (job_aborting(ctx)) {
        ST()->upload_cancel(s.u);
        return job_abort_error(ctx);
    }
    /* finish cleans up itself when it fails */
    return ST()->upload_finish(s.u);
}

/* ---- downloads into a temporary file ---- */

struct tmp_file {
    int fd;
    char *path;       /* still linked (no /proc), else NULL */
    char *read_path;  /* what archive_walk opens */
};

/* Create the temporary file of job @ctx in @dir (made 0700 when
 * missing). 0 or -1. */
static int
tmp_open(struct job_ctx *ctx, const char *dir, struct tmp_file *tf)
{
    char *path;
    char proc[64];

    memset(tf, 0, sizeof(*tf));
    tf->fd = -1;
    if (!dir || !*dir) {
        err_set(ERR_INVALID, "no temporary directory for imports");
        return -1;
    }
    if (fs_mkdir_p(dir, 0700) < 0)
        return -1;
    path = xasprintf("%s/import-%" PRId64 "-XXXXXX", dir, job_id(ctx));
    tf->fd = mkostemp(path, O_CLOEXEC);
    if (tf->fd < 0) {
        err_set(ERR_IO, "cannot create a temporary file in '%s': %s", dir,
                strerror(errno));
        xfree(path);
        return -1;
    }
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", tf->fd);
    if (access(proc, R_OK) == 0 && unlink(path) == 0) {
        tf->read_path = xstrdup(proc);
        xfree(path);
    } else {
        tf->path = path;
        tf->read_path = xstrdup(path);
    }
    return 0;
}

static void
tmp_close(struct tmp_file *tf)
{
    if (tf->fd >= 0)
        close(tf->fd);
    if (tf->path)
        unlink(tf->path);
    xfree(tf->path);
    xfree(tf->read_path);
    memset(tf, 0, sizeof(*tf));
    tf->fd = -1;
}

struct file_sink {
    struct job_ctx *ctx;
    int fd;
    const char *what;
    uint64_t before;   /* bytes of earlier parts */
    int part, nparts;
};

static int
tmp_write(void *opaque, const void *buf, size_t len)
{
    struct file_sink *s = opaque;
    const char *p = buf;

    while (len > 0) {
        ssize_t w = write(s->fd, p, len);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            err_set(ERR_IO, "cannot write the temporary file of an import: "
                            "%s", strerror(errno));
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static void
file_progress(void *opaque, uint64_t done, uint64_t total)
{
    struct file_sink *s = opaque;
    char *AUTOFREE label = NULL;

    if (s->nparts > 1)
        label = xasprintf("downloading '%s' (part %d of %d)", s->what,
                          s->part, s->nparts);
    else
        label = xasprintf("downloading '%s'", s->what);
    progress(s->ctx, label, s->before + done,
             total ? s->before + total : 0);
}

static bool
file_aborting(void *opaque)
{
    struct file_sink *s = opaque;

    return job_aborting(s->ctx);
}

/*
 * Download the @n URLs of @urls one after another into @tf (a split
 * package: its parts in order). The size and time limits of @p hold for
 * the whole. 0 or -1.
 */
static int
fetch_to_file(struct job_ctx *ctx, json_object *urls,
              const struct fetch_policy *p, struct tmp_file *tf,
              const char *what)
{
    struct file_sink s = { ctx, tf->fd, what, 0, 0, 0 };
    struct fetch_sink sink = { tmp_write, file_progress, file_aborting, &s };
    int64_t start = time_mono_ms();
    size_t i, n = json_object_array_length(urls);

    s.nparts = (int)n;
    for (i = 0; i < n; i++) {
        struct fetch_policy q = *p;
        struct fetch_result res;
        const char *url = json_object_get_string(
            json_object_array_get_idx(urls, i));

        s.part = (int)i + 1;
        if (p->max_bytes) {
            if (s.before >= p->max_bytes) {
                err_set(ERR_TOO_LARGE, "the package is larger than the "
                                       "limit of %" PRIu64 " bytes "
                                       "(import_max_size)", p->max_bytes);
                return -1;
            }
            q.max_bytes = p->max_bytes - s.before;
        }
        if (p->timeout_ms) {
            q.timeout_ms = p->timeout_ms - (time_mono_ms() - start);
            if (q.timeout_ms <= 0) {
                err_set(ERR_TIMEOUT, "the package did not arrive within "
                                     "%" PRId64 " s (import_timeout)",
                        p->timeout_ms / 1000);
                return -1;
            }
        }
        if (fetch_url(url, &q, &sink, &res) < 0)
            return failed(ctx);
        s.before += res.bytes;
    }
    return 0;
}

/* Read all of the current archive entry (at most @max bytes, else
 * ERR_INVALID naming @path) into a new NUL-terminated buffer. */
static char *
entry_read(struct archive_reader *r, const char *path, uint64_t size,
           size_t max, size_t *len)
{
    char *buf;
    size_t got = 0;
    ssize_t k;

    if (size > max) {
        err_set(ERR_INVALID, "'%s' is larger than %zu bytes", path, max);
        return NULL;
    }
    buf = xmalloc((size_t)size + 1);
    while (got < size) {
        k = archive_reader_read(r, buf + got, (size_t)size - got);
        if (k < 0) {
            xfree(buf);
            return NULL;
        }
        if (k == 0)
            break;
        got += (size_t)k;
    }
    buf[got] = '\0';
    *len = got;
    return buf;
}

/*
 * Copy the current archive entry (@path, @size bytes) into the new file
 * @dir/@name of @repo. Abortable between chunks; nothing stays on
 * failure. 0 or -1.
 */
static int
entry_upload(struct job_ctx *ctx, struct hv_conn *c, const char *repo,
             enum hv_repo_dir dir, const char *name,
             struct archive_reader *r, const char *path, uint64_t size)
{
    char *AUTOFREE buf = xmalloc(CHUNK);
    struct hv_upload *u = ST()->upload_begin(c, repo, dir, name);
    uint64_t done = 0;
    int64_t last = 0;
    ssize_t k;

    if (!u)
        return -1;
    for (;;) {
        if (job_aborting(ctx)) {
            ST()->upload_cancel(u);
            return job_abort_error(ctx);
        }
        k = archive_reader_read(r, buf, CHUNK);
        if (k < 0 || (k > 0 && ST()->upload_write(u, buf, (size_t)k) < 0)) {
            struct err saved = *err_get();

            ST()->upload_cancel(u);
            err_set_full(saved.code, saved.file, saved.func, saved.line,
                         "%s", saved.message);
            return -1;
        }
        if (k == 0)
            break;
        done += (uint64_t)k;
        if (time_mono_ms() - last >= 250) {
            char *AUTOFREE label = xasprintf("unpacking '%s'", path);

            last = time_mono_ms();
            progress(ctx, label, done, size);
        }
    }
    return ST()->upload_finish(u);
}

/* The last component of @path. */
static const char *
base_of(const char *path)
{
    const char *s = strrchr(path, '/');

    return s ? s + 1 : path;
}

/* True when @s ends with @suffix, ignoring case. */
static bool
ends_ci(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);

    return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

/* ---- import.disk ---- */

static int
disk_rows(struct job_ctx *ctx, struct db_txn *t, json_object *args,
          enum hv_repo_dir dir, const struct hv_file *f, json_object *made)
{
    const char *id = json_str(args, "id"), *repo = json_str(args, "repository");
    const char *name = json_str(args, "name"), *url = json_str(args, "url");
    AUTOPTR(json_object) json_object *extra = json_object_new_object();
    json_object *r;
    char base[256];

    r = db_txn_row_get(t, model_type_find("Repository"), repo);
    if (!r)
        return -1;
    json_object_put(r);
    fetch_url_basename(url, base, sizeof(base));
    json_object_object_add(extra, "import_file_name",
                           json_object_new_string(base));
    json_object_object_add(extra, "import_url", json_object_new_string(url));
    if (vd_txn_disk_insert(t, id, name, repo, dir, f, extra) < 0)
        return -1;
    vd_made_row(made, "VirtualDisk", id);
    if (events_add(t, SEV_INFORMATIONAL, "vdisk.imported", id, "VirtualDisk",
                   name, job_id(ctx), job_user(ctx), NULL,
                   "%s '%s' imported from '%s' (%" PRIu64 " bytes)",
                   dir == HV_DIR_ISOS ? "ISO" : "VirtualDisk", name, url,
                   f->capacity_bytes) < 0)
        return -1;
    job_set_result(ctx, "VirtualDisk", id, name);
    return 0;
}

static int
disk_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    const char *id = json_str(args, "id"), *repo = json_str(args, "repository");
    const char *url = json_str(args, "url"), *name = json_str(args, "name");
    AUTOPTR(json_object) json_object *made = NULL;
    struct fetch_policy p;
    enum hv_repo_dir dir;
    struct hv_conn *c;
    struct hv_file f;
    struct db_txn *t;
    int rc = -1;

    (void)undo;
    if (!id || !repo || !url || !name ||
        vd_dir_parse(json_str(args, "dir"), &dir) < 0) {
        err_set(ERR_INVALID, "import.disk needs 'id', 'repository', 'url', "
                             "'name' and 'dir'");
        return -1;
    }
    vd_fetch_policy(args, &p);
    c = vd_repo_conn(job_db(ctx), repo, NULL, NULL);
    if (!c)
        return -1;
    made = vd_made_new(repo);
    job_progress(ctx, "downloading '%s'", url);
    if (fetch_to_upload(ctx, c, repo, dir, id, url, &p, url) < 0)
        goto cleanup;
    vd_made_file(made, dir, id);
    if (job_aborting(ctx)) {
        job_abort_error(ctx);
        goto fail;
    }
    if (ST()->file_info(c, repo, dir, id, &f) < 0)
        goto fail;
    t = job_txn_begin(ctx);
    if (!t)
        goto fail;
    if (vd_finish(ctx, t, disk_rows(ctx, t, args, dir, &f, made), made) < 0)
        goto fail;
    rc = 0;
    goto cleanup;
 fail:
    vd_made_cleanup(c, made);
 cleanup:
    storage_hv->close(c);
    return rc;
}

const struct job_op_type job_op_import_disk = {
    "import.disk", disk_run, vd_undo_created, true,
};

/* ---- import.template ---- */

struct tpl_walk {
    struct job_ctx *ctx;
    struct hv_conn *c;
    const char *repo;
    json_object *made;
    json_object *images;   /* {base name: disk id} */
    json_object *order;    /* base names in archive order */
    char *cfg;             /* the vm.cfg text */
    size_t cfg_len;
    char cfg_path[512];
    char *summary;         /* the final progress message */
};

static int
tpl_entry(void *opaque, const char *path, uint64_t size,
          struct archive_reader *r)
{
    struct tpl_walk *w = opaque;
    const char *base = base_of(path);
    char *AUTOFREE id = NULL;
    json_object *cfg;

    if (job_aborting(w->ctx))
        return job_abort_error(w->ctx);
    if (strcmp(base, "vm.cfg") == 0) {
        if (w->cfg) {
            err_set(ERR_INVALID, "the template package holds more than one "
                                 "vm.cfg ('%s' and '%s')", w->cfg_path,
                    path);
            return -1;
        }
        str_copy(w->cfg_path, path, sizeof(w->cfg_path));
        w->cfg = entry_read(r, path, size, VMCFG_MAX, &w->cfg_len);
        if (!w->cfg)
            return -1;
        /* Refuse a bad vm.cfg before any disk is unpacked after it. */
        cfg = vmcfg_parse(w->cfg, w->cfg_len);
        if (!cfg)
            return -1;
        json_object_put(cfg);
        return 0;
    }
    if (!ends_ci(base, ".img"))
        return 0;   /* README, checksums ...: not part of the template */
    if (json_object_object_get_ex(w->images, base, NULL)) {
        err_set(ERR_INVALID, "the template package holds two disk images "
                             "named '%s'", base);
        return -1;
    }
    id = vdisk_id_new(false);
    if (entry_upload(w->ctx, w->c, w->repo, HV_DIR_VIRTUAL_DISKS, id, r,
                     path, size) < 0)
        return -1;
    vd_made_file(w->made, HV_DIR_VIRTUAL_DISKS, id);
    json_object_object_add(w->images, base, json_object_new_string(id));
    json_object_array_add(w->order, json_object_new_string(base));
    return 0;
}

/* A UUID text from a 32-hex-digit id: 8-4-4-4-12. */
static char *
uuid_of(const char *id)
{
    return xasprintf("%.8s-%.4s-%.4s-%.4s-%.12s", id, id + 8, id + 12,
                     id + 16, id + 20);
}

/*
 * Rewrite the disk list of @cfg for repository @repo: files of the
 * package (@images: base name -> disk id) get their new paths, CD-ROM
 * entries naming what is not in the package become empty drives; a disk
 * not in the package fails (ERR_INVALID). Notes go to @notes.
 */
static int
tpl_rewrite_disks(json_object *cfg, const char *repo, json_object *images,
                  json_object *notes)
{
    json_object *disks = NULL, *out;
    size_t i, n;

    if (!json_object_object_get_ex(cfg, "disk", &disks) || !disks)
        return 0;
    if (json_object_is_type(disks, json_type_string)) {
        json_object *a = json_object_new_array();

        json_object_array_add(a, json_object_get(disks));
        json_object_object_add(cfg, "disk", a);
        disks = a;
    }
    if (!json_object_is_type(disks, json_type_array)) {
        err_set(ERR_INVALID, "vm.cfg 'disk' is not a list");
        return -1;
    }
    out = json_object_new_array();
    n = json_object_array_length(disks);
    for (i = 0; i < n; i++) {
        const char *spec = json_object_get_string(
            json_object_array_get_idx(disks, i));
        AUTOPTR(json_object) json_object *d = spec ? vmcfg_disk_parse(spec)
                                                   : NULL;
        const char *path, *target, *mode, *proto, *base, *id = NULL;
        json_object *v = NULL;
        bool cdrom = false;

        if (!d) {
            json_object_put(out);
            return -1;
        }
        path = json_str(d, "path");
        target = json_str(d, "target");
        mode = json_str(d, "mode");
        proto = json_str(d, "proto");
        if (json_object_object_get_ex(d, "cdrom", &v))
            cdrom = json_object_get_boolean(v);
        base = path ? base_of(path) : "";
        if (*base && json_object_object_get_ex(images, base, &v))
            id = json_object_get_string(v);
        if (id) {
            char *s = xasprintf("%s:/OVS/Repositories/%s/VirtualDisks/%s,"
                                "%s%s,%s", proto && *proto ? proto : "file",
                                repo, id, target ? target : "xvda",
                                cdrom ? ":cdrom" : "",
                                mode ? mode : cdrom ? "r" : "w");

            json_object_array_add(out, json_object_new_string(s));
            xfree(s);
        } else if (cdrom) {
            char *s = xasprintf(",%s:cdrom,r", target ? target : "hdc");

            if (*base)
                json_object_array_add(notes, json_object_new_string(base));
            json_object_array_add(out, json_object_new_string(s));
            xfree(s);
        } else {
            err_set(ERR_INVALID, "vm.cfg disk '%s' (%s) is not in the "
                                 "template package", *base ? base : spec,
                    target ? target : "?");
            json_object_put(out);
            return -1;
        }
    }
    json_object_object_add(cfg, "disk", out);
    return 0;
}

/*
 * The rewritten vm.cfg text of template @vm in @repo (caller frees):
 * disk paths in the repository, name = the id, uuid from the id,
 * OVM_simple_name = @name (made valid) or the package's.
 */
static char *
tpl_cfg(const char *text, size_t len, const char *vm, const char *repo,
        const char *name, json_object *images, json_object *notes)
{
    AUTOPTR(json_object) json_object *cfg = vmcfg_parse(text, len);
    char *AUTOFREE valid = NULL, *AUTOFREE uuid = uuid_of(vm);
    const char *wanted;

    if (!cfg || tpl_rewrite_disks(cfg, repo, images, notes) < 0)
        return NULL;
    wanted = name ? name : json_str(cfg, "OVM_simple_name");
    if (!wanted)
        wanted = json_str(cfg, "name");
    valid = storage_vm_name_valid(wanted);
    json_object_object_add(cfg, "OVM_simple_name",
                           json_object_new_string(valid));
    json_object_object_add(cfg, "name", json_object_new_string(vm));
    json_object_object_add(cfg, "uuid", json_object_new_string(uuid));
    return vmcfg_format(cfg);
}

/* The notes of a template import as one sentence, or "". Caller frees. */
static char *
notes_text(json_object *a, const char *prefix)
{
    struct {
        char *s;
        size_t n;
    } b = { xstrdup(""), 0 };
    size_t i;

    for (i = 0; a && i < json_object_array_length(a); i++) {
        char *s = xasprintf("%s%s%s", b.s, i ? "; " : prefix,
                            json_object_get_string(
                                json_object_array_get_idx(a, i)));

        xfree(b.s);
        b.s = s;
    }
    return b.s;
}

static int
tpl_rows(struct job_ctx *ctx, struct db_txn *t, json_object *args,
         struct tpl_walk *w, const char *text, json_object *infos,
         json_object *notes)
{
    const char *vm = json_str(args, "vm"), *repo = w->repo;
    const char *origin = json_object_get_string(json_object_array_get_idx(
        json_object_object_get(args, "urls"), 0));
    json_object *rows = json_object_object_get(w->made, "rows"), *r;
    AUTOPTR(json_object) json_object *tnotes = NULL;
    char *AUTOFREE vm_name = NULL, *AUTOFREE nt = NULL;
    size_t i;

    r = db_txn_row_get(t, model_type_find("Repository"), repo);
    if (!r)
        return -1;
    json_object_put(r);
    for (i = 0; i < json_object_array_length(w->order); i++) {
        const char *base = json_object_get_string(
            json_object_array_get_idx(w->order, i));
        const char *id = json_object_get_string(
            json_object_object_get(w->images, base));
        json_object *info = json_object_object_get(infos, id);
        AUTOPTR(json_object) json_object *extra = json_object_new_object();
        struct hv_file f;

        memset(&f, 0, sizeof(f));
        f.capacity_bytes = (uint64_t)vd_int(info, "size", 0);
        f.allocation_bytes = (uint64_t)vd_int(info, "onDisk", 0);
        str_copy(f.format, json_str(info, "format") ? json_str(info, "format")
                                                  : "raw", sizeof(f.format));
        json_object_object_add(extra, "import_file_name",
                               json_object_new_string(base));
        json_object_object_add(extra, "import_url",
                               json_object_new_string(origin));
        if (vd_txn_disk_insert(t, id, base, repo, HV_DIR_VIRTUAL_DISKS, &f,
                               extra) < 0)
            return -1;
        vd_made_row(w->made, "VirtualDisk", id);
    }
    if (storage_template_from_cfg(t, repo, vm, text, strlen(text), NULL,
                                  origin, rows, &vm_name, &tnotes) < 0)
        return -1;
    for (i = 0; tnotes && i < json_object_array_length(tnotes); i++)
        json_object_array_add(notes, json_object_get(
                                         json_object_array_get_idx(tnotes,
                                                                   i)));
    nt = notes_text(notes, "; ");
    if (events_add(t, SEV_INFORMATIONAL, "template.imported", vm, "Vm",
                   vm_name, job_id(ctx), job_user(ctx), NULL,
                   "Template '%s' imported from '%s' with %zu virtual "
                   "disk(s)%s", vm_name, origin,
                   json_object_array_length(w->order), nt) < 0)
        return -1;
    job_set_result(ctx, "Vm", vm, vm_name);
    log_info("job %" PRId64 ": template '%s' (%s) imported from '%s'",
             job_id(ctx), vm_name, vm, origin);
    /* The progress message is written after the commit (job_progress
     * takes the writer itself): keep it for the caller. */
    xfree(w->summary);
    w->summary = xasprintf("imported template '%s' with %zu virtual "
                           "disk(s)%s", vm_name,
                           json_object_array_length(w->order), nt);
    return 0;
}

static int
tpl_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    const char *vm = json_str(args, "vm"), *repo = json_str(args, "repository");
    json_object *urls = NULL;
    AUTOPTR(json_object) json_object *made = NULL;
    AUTOPTR(json_object) json_object *images = json_object_new_object();
    AUTOPTR(json_object) json_object *order = json_object_new_array();
    AUTOPTR(json_object) json_object *infos = json_object_new_object();
    AUTOPTR(json_object) json_object *notes = json_object_new_array();
    char *AUTOFREE text = NULL;
    struct tpl_walk w;
    struct tmp_file tf = { -1, NULL, NULL };
    struct fetch_policy p;
    struct hv_conn *c = NULL;
    struct db_txn *t;
    char what[256];
    size_t i, nfiles = 0;
    int rc = -1;

    (void)undo;
    memset(&w, 0, sizeof(w));
    if (!vm || !repo || !json_object_object_get_ex(args, "urls", &urls) ||
        !urls || json_object_array_length(urls) == 0) {
        err_set(ERR_INVALID, "import.template needs 'vm', 'repository' and "
                             "'urls'");
        return -1;
    }
    vd_fetch_policy(args, &p);
    fetch_url_basename(json_object_get_string(
                           json_object_array_get_idx(urls, 0)),
                       what, sizeof(what));
    c = vd_repo_conn(job_db(ctx), repo, NULL, NULL);
    if (!c)
        return -1;
    made = vd_made_new(repo);
    if (tmp_open(ctx, json_str(args, "tmpDir"), &tf) < 0 ||
        fetch_to_file(ctx, urls, &p, &tf, what) < 0)
        goto fail;
    job_progress(ctx, "checking the template package '%s'", what);
    if (archive_check(tf.read_path, &nfiles) < 0) {
        err_rename(tf.read_path, what);
        goto fail;
    }
    w.ctx = ctx;
    w.c = c;
    w.repo = repo;
    w.made = made;
    w.images = images;
    w.order = order;
    if (archive_walk(tf.read_path, tpl_entry, &w) < 0) {
        err_rename(tf.read_path, what);
        failed(ctx);
        goto fail;
    }
    if (!w.cfg) {
        err_set(ERR_INVALID, "the template package '%s' has no vm.cfg", what);
        goto fail;
    }
    text = tpl_cfg(w.cfg, w.cfg_len, vm, repo, json_str(args, "name"), images,
                   notes);
    if (!text)
        goto fail;
    for (i = 0; i < json_object_array_length(notes); i++) {
        char *s = xasprintf("CD-ROM '%s' is not in the package: mapped as "
                            "an empty CD-ROM drive", json_object_get_string(
                                json_object_array_get_idx(notes, i)));

        json_object_array_put_idx(notes, i, json_object_new_string(s));
        xfree(s);
    }
    {
        char *AUTOFREE fn = xasprintf("%s%s", vm, STORAGE_TEMPLATE_SUFFIX);

        if (ST()->file_write(c, repo, HV_DIR_TEMPLATES, fn, text,
                             strlen(text)) < 0)
            goto fail;
        vd_made_file(made, HV_DIR_TEMPLATES, fn);
    }
    for (i = 0; i < json_object_array_length(order); i++) {
        const char *id = json_object_get_string(json_object_object_get(
            images, json_object_get_string(json_object_array_get_idx(order,
                                                                     i))));
        json_object *info = json_object_new_object();
        struct hv_file f;

        if (ST()->file_info(c, repo, HV_DIR_VIRTUAL_DISKS, id, &f) < 0) {
            json_object_put(info);
            goto fail;
        }
        json_object_object_add(info, "size", json_object_new_int64(
                                                 (int64_t)f.capacity_bytes));
        json_object_object_add(info, "onDisk", json_object_new_int64(
                                                   (int64_t)
                                                       f.allocation_bytes));
        json_object_object_add(info, "format", json_object_new_string(
                                                   f.format[0] ? f.format
                                                               : "raw"));
        json_object_object_add(infos, id, info);
    }
    if (job_aborting(ctx)) {
        job_abort_error(ctx);
        goto fail;
    }
    t = job_txn_begin(ctx);
    if (!t)
        goto fail;
    if (vd_finish(ctx, t, tpl_rows(ctx, t, args, &w, text, infos, notes),
                  made) < 0)
        goto fail;
    if (w.summary)
        job_progress(ctx, "%s", w.summary);
    rc = 0;
    goto cleanup;
 fail:
    vd_made_cleanup(c, made);
 cleanup:
    tmp_close(&tf);
    xfree(w.cfg);
    xfree(w.summary);
    storage_hv->close(c);
    return rc;
}

const struct job_op_type job_op_import_template = {
    "import.template", tpl_run, vd_undo_created, true,
};

/* ---- import.assembly ---- */

struct asm_walk {
    struct job_ctx *ctx;
    struct hv_conn *c;
    const char *repo, *id;
    json_object *made;
    const struct ovf *ovf;
    char *xml;             /* walk 1: the descriptor */
    size_t xml_len;
    char xml_path[512];
    bool *stored;          /* walk 2: per disk, its file was stored */
};

/* Walk 1: find the one .ovf descriptor. */
static int
asm_find_ovf(void *opaque, const char *path, uint64_t size,
             struct archive_reader *r)
{
    struct asm_walk *w = opaque;

    if (job_aborting(w->ctx))
        return job_abort_error(w->ctx);
    if (!ends_ci(path, ".ovf"))
        return 0;
    if (w->xml) {
        err_set(ERR_INVALID, "the assembly holds more than one OVF "
                             "descriptor ('%s' and '%s')", w->xml_path, path);
        return -1;
    }
    str_copy(w->xml_path, path, sizeof(w->xml_path));
    w->xml = entry_read(r, path, size, OVF_MAX, &w->xml_len);
    return w->xml ? 0 : -1;
}

/* The stored name of disk @n of assembly @id. Caller frees. */
static char *
asm_disk_file(const char *id, size_t n)
{
    return xasprintf("%s-%zu.img", id, n);
}

/* Walk 2: store the files the disks use. */
static int
asm_store(void *opaque, const char *path, uint64_t size,
          struct archive_reader *r)
{
    struct asm_walk *w = opaque;
    const struct ovf *o = w->ovf;
    size_t k;

    if (job_aborting(w->ctx))
        return job_abort_error(w->ctx);
    for (k = 0; k < o->ndisks; k++) {
        const struct ovf_file *f = o->disks[k].file_ref[0]
                                       ? ovf_file_find(o,
                                                       o->disks[k].file_ref)
                                       : NULL;
        char *AUTOFREE name = NULL;

        if (!f || w->stored[k] || strcmp(f->href, path) != 0)
            continue;
        name = asm_disk_file(w->id, k);
        if (entry_upload(w->ctx, w->c, w->repo, HV_DIR_ASSEMBLIES, name, r,
                         path, size) < 0)
            return -1;
        vd_made_file(w->made, HV_DIR_ASSEMBLIES, name);
        w->stored[k] = true;
        break;  /* one file per entry; another disk using it is odd */
    }
    return 0;
}

/* The OVF's summary, stored with the assembly. New reference. */
static json_object *
ovf_json(const struct ovf *o)
{
    json_object *j = json_object_new_object(), *a;
    size_t i, k;

    a = json_object_new_array();
    for (i = 0; i < o->nfiles; i++) {
        json_object *f = json_object_new_object();

        json_object_object_add(f, "id", json_object_new_string(
                                            o->files[i].id));
        json_object_object_add(f, "href", json_object_new_string(
                                              o->files[i].href));
        json_object_object_add(f, "size", json_object_new_int64(
                                              (int64_t)o->files[i].size));
        json_object_array_add(a, f);
    }
    json_object_object_add(j, "files", a);
    a = json_object_new_array();
    for (i = 0; i < o->ndisks; i++) {
        json_object *d = json_object_new_object();

        json_object_object_add(d, "id", json_object_new_string(
                                            o->disks[i].id));
        json_object_object_add(d, "fileRef", json_object_new_string(
                                                 o->disks[i].file_ref));
        json_object_object_add(d, "capacity", json_object_new_int64(
                                                  (int64_t)o->disks[i]
                                                      .capacity_bytes));
        json_object_object_add(d, "format", json_object_new_string(
                                                o->disks[i].format));
        json_object_array_add(a, d);
    }
    json_object_object_add(j, "disks", a);
    a = json_object_new_array();
    for (i = 0; i < o->nsystems; i++) {
        const struct ovf_system *s = &o->systems[i];
        json_object *v = json_object_new_object(), *l;

        json_object_object_add(v, "id", json_object_new_string(s->id));
        json_object_object_add(v, "name", json_object_new_string(s->name));
        json_object_object_add(v, "os", json_object_new_string(s->os));
        json_object_object_add(v, "cpus", json_object_new_int(
                                              (int)s->cpus));
        json_object_object_add(v, "memoryMiB", json_object_new_int64(
                                                   (int64_t)s->memory_mib));
        l = json_object_new_array();
        for (k = 0; k < s->ndisks; k++)
            json_object_array_add(l, json_object_new_string(
                                         s->disk_ids[k]));
        json_object_object_add(v, "disks", l);
        l = json_object_new_array();
        for (k = 0; k < s->nnics; k++)
            json_object_array_add(l, json_object_new_string(s->nics[k]));
        json_object_object_add(v, "networks", l);
        json_object_object_add(v, "cdroms", json_object_new_int(
                                                (int)s->cdroms));
        json_object_array_add(a, v);
    }
    json_object_object_add(j, "systems", a);
    return j;
}

static int
asm_rows(struct job_ctx *ctx, struct db_txn *t, json_object *args,
         const struct ovf *o, json_object *sizes, json_object *made)
{
    const char *id = json_str(args, "id"), *repo = json_str(args, "repository");
    const char *name = json_str(args, "name"), *url = json_str(args, "url");
    const struct model_type *at = model_type_find("Assembly");
    const struct model_type *vt = model_type_find("AssemblyVm");
    const struct model_type *dt = model_type_find("AssemblyVirtualDisk");
    AUTOPTR(json_object) json_object *row = json_object_new_object();
    AUTOPTR(json_object) json_object *summary = ovf_json(o);
    char **vm_ids = xcalloc(o->nsystems + 1, sizeof(char *));
    char *AUTOFREE fn = xasprintf("%s.ovf", id);
    json_object *r;
    size_t i, k, s;
    int rc = -1;

    r = db_txn_row_get(t, model_type_find("Repository"), repo);
    if (!r)
        goto cleanup;
    json_object_put(r);
    json_object_object_add(row, "id", json_object_new_string(id));
    json_object_object_add(row, "name", json_object_new_string(name));
    json_object_object_add(row, "repository_id",
                           json_object_new_string(repo));
    json_object_object_add(row, "origin", json_object_new_string(url));
    json_object_object_add(row, "file_name", json_object_new_string(fn));
    json_object_object_add(row, "ovf", json_object_new_string(
                                           json_to_text(summary)));
    if (db_txn_row_insert(t, at, row) < 0)
        goto cleanup;
    vd_made_row(made, "Assembly", id);
    for (s = 0; s < o->nsystems; s++) {
        const struct ovf_system *sy = &o->systems[s];
        AUTOPTR(json_object) json_object *v = json_object_new_object();
        json_object *nics = json_object_new_array();

        vm_ids[s] = model_id_new(vt);
        for (k = 0; k < sy->nnics; k++)
            json_object_array_add(nics, json_object_new_string(sy->nics[k]));
        json_object_object_add(v, "id", json_object_new_string(vm_ids[s]));
        json_object_object_add(v, "name", json_object_new_string(
                                              sy->name[0] ? sy->name
                                                          : sy->id));
        json_object_object_add(v, "assembly_id", json_object_new_string(id));
        json_object_object_add(v, "cpu_count", json_object_new_int(
                                                   (int)(sy->cpus ? sy->cpus
                                                                  : 1)));
        json_object_object_add(v, "memory", json_object_new_int64(
                                                (int64_t)sy->memory_mib));
        json_object_object_add(v, "os_type", json_object_new_string(sy->os));
        json_object_object_add(v, "nics", json_object_new_string(
                                              json_to_text(nics)));
        json_object_put(nics);
        if (db_txn_row_insert(t, vt, v) < 0)
            goto cleanup;
        vd_made_row(made, "AssemblyVm", vm_ids[s]);
    }
    for (i = 0; i < o->ndisks; i++) {
        const struct ovf_disk *d = &o->disks[i];
        const struct ovf_file *f = d->file_ref[0]
                                       ? ovf_file_find(o, d->file_ref)
                                       : NULL;
        AUTOPTR(json_object) json_object *v = json_object_new_object();
        char *AUTOFREE did = model_id_new(dt);
        char *AUTOFREE file = f ? asm_disk_file(id, i) : NULL;
        const char *owner = NULL;
        int64_t size = (int64_t)d->capacity_bytes;

        for (s = 0; s < o->nsystems && !owner; s++) {
            for (k = 0; k < o->systems[s].ndisks && !owner; k++) {
                if (strcmp(o->systems[s].disk_ids[k], d->id) == 0)
                    owner = vm_ids[s];
            }
        }
        if (size == 0 && file)
            size = vd_int(sizes, file, 0);
        json_object_object_add(v, "id", json_object_new_string(did));
        json_object_object_add(v, "name", json_object_new_string(
                                              f ? f->href : d->id));
        json_object_object_add(v, "assembly_id", json_object_new_string(id));
        json_object_object_add(v, "assembly_vm_id", json_str_or_null(owner));
        json_object_object_add(v, "size", json_object_new_int64(size));
        json_object_object_add(v, "file_name", json_str_or_null(file));
        json_object_object_add(v, "disk_index",
                               json_object_new_int64((int64_t)i));
        if (db_txn_row_insert(t, dt, v) < 0)
            goto cleanup;
        vd_made_row(made, "AssemblyVirtualDisk", did);
    }
    if (events_add(t, SEV_INFORMATIONAL, "assembly.imported", id, "Assembly",
                   name, job_id(ctx), job_user(ctx), NULL,
                   "Assembly '%s' imported from '%s': %zu virtual "
                   "machine(s), %zu disk(s)", name, url, o->nsystems,
                   o->ndisks) < 0)
        goto cleanup;
    job_set_result(ctx, "Assembly", id, name);
    rc = 0;
 cleanup:
    for (s = 0; s < o->nsystems; s++)
        xfree(vm_ids[s]);
    xfree(vm_ids);
    return rc;
}

struct mem_sink {
    struct job_ctx *ctx;
    char *buf;
    size_t len, max;
};

static int
mem_write(void *opaque, const void *buf, size_t len)
{
    struct mem_sink *m = opaque;

    if (m->len + len > m->max) {
        err_set(ERR_INVALID, "the OVF descriptor is larger than %zu bytes",
                m->max);
        return -1;
    }
    m->buf = xrealloc(m->buf, m->len + len + 1);
    memcpy(m->buf + m->len, buf, len);
    m->len += len;
    m->buf[m->len] = '\0';
    return 0;
}

static bool
mem_aborting(void *opaque)
{
    struct mem_sink *m = opaque;

    return job_aborting(m->ctx);
}

/* An .ovf URL: the descriptor into w->xml, its disk files stored through
 * uploads from URLs relative to it. */
static int
asm_from_ovf_url(struct job_ctx *ctx, struct asm_walk *w, const char *url,
                 const struct fetch_policy *p, struct ovf *o)
{
    struct mem_sink m = { ctx, NULL, 0, OVF_MAX };
    struct fetch_sink sink = { mem_write, NULL, mem_aborting, &m };
    struct fetch_result res;
    const char *q, *slash;
    size_t k, dirlen;

    job_progress(ctx, "downloading the OVF descriptor '%s'", url);
    if (fetch_url(url, p, &sink, &res) < 0) {
        xfree(m.buf);
        return failed(ctx);
    }
    w->xml = m.buf ? m.buf : xstrdup("");
    w->xml_len = m.len;
    if (ovf_parse(w->xml, w->xml_len, o) < 0)
        return -1;
    /* The directory of the URL: up to the last '/' before any '?'. */
    q = strchr(url, '?');
    dirlen = q ? (size_t)(q - url) : strlen(url);
    slash = NULL;
    for (k = 0; k < dirlen; k++) {
        if (url[k] == '/')
            slash = url + k;
    }
    dirlen = slash ? (size_t)(slash - url) + 1 : 0;
    for (k = 0; k < o->ndisks; k++) {
        const struct ovf_file *f = o->disks[k].file_ref[0]
                                       ? ovf_file_find(o,
                                                       o->disks[k].file_ref)
                                       : NULL;
        char *AUTOFREE name = NULL, *AUTOFREE furl = NULL;

        if (!f)
            continue;
        if (job_aborting(ctx))
            return job_abort_error(ctx);
        name = asm_disk_file(w->id, k);
        furl = xasprintf("%.*s%s", (int)dirlen, url, f->href);
        if (fetch_to_upload(ctx, w->c, w->repo, HV_DIR_ASSEMBLIES, name,
                            furl, p, f->href) < 0)
            return -1;
        vd_made_file(w->made, HV_DIR_ASSEMBLIES, name);
    }
    return 0;
}

/* An .ova (tar) URL: downloaded, checked, walked twice. */
static int
asm_from_ova(struct job_ctx *ctx, struct asm_walk *w, json_object *args,
             const struct fetch_policy *p, struct ovf *o,
             struct tmp_file *tf)
{
    AUTOPTR(json_object) json_object *urls = json_object_new_array();
    char what[256];
    size_t k;
    int rc;

    json_object_array_add(urls, json_object_new_string(json_str(args, "url")));
    fetch_url_basename(json_str(args, "url"), what, sizeof(what));
    if (tmp_open(ctx, json_str(args, "tmpDir"), tf) < 0 ||
        fetch_to_file(ctx, urls, p, tf, what) < 0)
        return -1;
    job_progress(ctx, "checking the assembly '%s'", what);
    if (archive_check(tf->read_path, NULL) < 0) {
        err_rename(tf->read_path, what);
        return -1;
    }
    if (archive_walk(tf->read_path, asm_find_ovf, w) < 0) {
        err_rename(tf->read_path, what);
        return failed(ctx);
    }
    if (!w->xml) {
        err_set(ERR_INVALID, "the assembly '%s' has no OVF descriptor (.ovf)",
                what);
        return -1;
    }
    if (ovf_parse(w->xml, w->xml_len, o) < 0)
        return -1;
    w->ovf = o;
    w->stored = xcalloc(o->ndisks + 1, sizeof(bool));
    rc = archive_walk(tf->read_path, asm_store, w);
    if (rc < 0) {
        err_rename(tf->read_path, what);
        return failed(ctx);
    }
    for (k = 0; k < o->ndisks; k++) {
        if (o->disks[k].file_ref[0] && !w->stored[k]) {
            const struct ovf_file *f = ovf_file_find(o, o->disks[k].file_ref);

            err_set(ERR_INVALID, "the assembly has no file '%s' for disk "
                                 "'%s'", f ? f->href : o->disks[k].file_ref,
                    o->disks[k].id);
            return -1;
        }
    }
    return 0;
}

static int
asm_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    const char *id = json_str(args, "id"), *repo = json_str(args, "repository");
    const char *url = json_str(args, "url");
    AUTOPTR(json_object) json_object *made = NULL;
    AUTOPTR(json_object) json_object *sizes = json_object_new_object();
    struct tmp_file tf = { -1, NULL, NULL };
    struct asm_walk w;
    struct ovf o;
    struct fetch_policy p;
    struct hv_conn *c;
    struct db_txn *t;
    char base[256];
    size_t k;
    int rc = -1;

    (void)undo;
    memset(&w, 0, sizeof(w));
    memset(&o, 0, sizeof(o));
    if (!id || !repo || !url || !json_str(args, "name")) {
        err_set(ERR_INVALID, "import.assembly needs 'id', 'repository', "
                             "'url' and 'name'");
        return -1;
    }
    vd_fetch_policy(args, &p);
    c = vd_repo_conn(job_db(ctx), repo, NULL, NULL);
    if (!c)
        return -1;
    made = vd_made_new(repo);
    w.ctx = ctx;
    w.c = c;
    w.repo = repo;
    w.id = id;
    w.made = made;
    fetch_url_basename(url, base, sizeof(base));
    if (ends_ci(base, ".ovf"))
        rc = asm_from_ovf_url(ctx, &w, url, &p, &o);
    else
        rc = asm_from_ova(ctx, &w, args, &p, &o, &tf);
    if (rc < 0)
        goto fail;
    rc = -1;
    {
        char *AUTOFREE fn = xasprintf("%s.ovf", id);

        if (ST()->file_write(c, repo, HV_DIR_ASSEMBLIES, fn, w.xml,
                             w.xml_len) < 0)
            goto fail;
        vd_made_file(made, HV_DIR_ASSEMBLIES, fn);
    }
    for (k = 0; k < o.ndisks; k++) {
        char *AUTOFREE fn = asm_disk_file(id, k);
        struct hv_file f;

        if (!o.disks[k].file_ref[0])
            continue;
        if (ST()->file_info(c, repo, HV_DIR_ASSEMBLIES, fn, &f) < 0)
            goto fail;
        json_object_object_add(sizes, fn, json_object_new_int64(
                                              (int64_t)f.capacity_bytes));
    }
    if (job_aborting(ctx)) {
        job_abort_error(ctx);
        goto fail;
    }
    t = job_txn_begin(ctx);
    if (!t)
        goto fail;
    if (vd_finish(ctx, t, asm_rows(ctx, t, args, &o, sizes, made), made) < 0)
        goto fail;
    rc = 0;
    goto cleanup;
 fail:
    vd_made_cleanup(c, made);
 cleanup:
    tmp_close(&tf);
    ovf_release(&o);
    xfree(w.xml);
    xfree(w.stored);
    storage_hv->close(c);
    return rc;
}

const struct job_op_type job_op_import_assembly = {
    "import.assembly", asm_run, vd_undo_created, true,
};

/* ---- assembly.create_vm ---- */

/* qsort: rows by disk_index. */
static int
by_index(const void *a, const void *b)
{
    int64_t x = vd_int(*(json_object *const *)a, "disk_index", 0);
    int64_t y = vd_int(*(json_object *const *)b, "disk_index", 0);

    return x < y ? -1 : x > y;
}

/* The AssemblyVirtualDisk rows of AssemblyVm @avm, by disk_index. */
static json_object *
avm_disks(struct db *db, const char *avm)
{
    const struct model_type *dt = model_type_find("AssemblyVirtualDisk");
    json_object *a, **v;
    char **ids = NULL;
    size_t n = 0, i, m = 0;

    if (db_row_ids(db, dt, "assembly_vm_id", avm, &ids, &n) < 0)
        return NULL;
    v = xcalloc(n + 1, sizeof(*v));
    for (i = 0; i < n; i++) {
        json_object *r = db_row_get(db, dt, ids[i]);

        if (r)
            v[m++] = r;
        else
            err_clear();
    }
    db_ids_free(ids, n);
    qsort(v, m, sizeof(*v), by_index);
    a = json_object_new_array();
    for (i = 0; i < m; i++)
        json_object_array_add(a, v[i]);
    xfree(v);
    return a;
}

static int
cvm_rows(struct job_ctx *ctx, struct db_txn *t, json_object *args,
         json_object *avm, json_object *disks, json_object *ids,
         json_object *infos, const char *text, json_object *made)
{
    const char *vm = json_str(args, "vm"), *repo = json_str(args, "repository");
    json_object *rows = json_object_object_get(made, "rows"), *r;
    AUTOPTR(json_object) json_object *notes = NULL;
    char *AUTOFREE vm_name = NULL, *AUTOFREE origin = NULL;
    size_t i;

    r = db_txn_row_get(t, model_type_find("AssemblyVm"), json_str(avm, "id"));
    if (!r)
        return -1;
    json_object_put(r);
    for (i = 0; i < json_object_array_length(disks); i++) {
        json_object *d = json_object_array_get_idx(disks, i);
        const char *id = json_object_get_string(
            json_object_array_get_idx(ids, i));
        json_object *info = json_object_object_get(infos, id);
        AUTOPTR(json_object) json_object *extra = json_object_new_object();
        char *AUTOFREE name = xasprintf("%s-%" PRId64 ".img",
                                        json_str(avm, "name"),
                                        vd_int(d, "disk_index", 0));
        struct hv_file f;

        memset(&f, 0, sizeof(f));
        f.capacity_bytes = (uint64_t)vd_int(info, "size", 0);
        f.allocation_bytes = (uint64_t)vd_int(info, "onDisk", 0);
        str_copy(f.format, "raw", sizeof(f.format));
        json_object_object_add(extra, "assembly_virtual_disk_id",
                               json_object_new_string(json_str(d, "id")));
        if (vd_txn_disk_insert(t, id, name, repo, HV_DIR_VIRTUAL_DISKS, &f,
                               extra) < 0)
            return -1;
        vd_made_row(made, "VirtualDisk", id);
    }
    origin = xasprintf("assembly %s", json_str(avm, "assembly_id"));
    if (storage_template_from_cfg(t, repo, vm, text, strlen(text), NULL,
                                  origin, rows, &vm_name, &notes) < 0)
        return -1;
    if (events_add(t, SEV_INFORMATIONAL, "template.created", vm, "Vm",
                   vm_name, job_id(ctx), job_user(ctx), NULL,
                   "Template '%s' created from assembly VM '%s' with %zu "
                   "virtual disk(s)", vm_name, json_str(avm, "name"),
                   json_object_array_length(disks)) < 0)
        return -1;
    job_set_result(ctx, "Vm", vm, vm_name);
    return 0;
}

/* The vm.cfg of a template made from AssemblyVm @avm. Caller frees. */
static char *
cvm_cfg(json_object *avm, const char *vm, const char *repo, json_object *ids)
{
    AUTOPTR(json_object) json_object *cfg = json_object_new_object();
    json_object *dl = json_object_new_array();
    char *AUTOFREE name = storage_vm_name_valid(json_str(avm, "name"));
    char *AUTOFREE uuid = uuid_of(vm);
    int64_t mem = vd_int(avm, "memory", 0), cpus = vd_int(avm, "cpu_count", 1);
    size_t i;

    if (mem <= 0)
        mem = 512;
    if (cpus <= 0)
        cpus = 1;
    for (i = 0; i < json_object_array_length(ids) && i < 26; i++) {
        char *s = xasprintf("file:/OVS/Repositories/%s/VirtualDisks/%s,"
                            "xvd%c,w", repo, json_object_get_string(
                                json_object_array_get_idx(ids, i)),
                            (char)('a' + i));

        json_object_array_add(dl, json_object_new_string(s));
        xfree(s);
    }
    json_object_object_add(cfg, "name", json_object_new_string(vm));
    json_object_object_add(cfg, "OVM_simple_name",
                           json_object_new_string(name));
    json_object_object_add(cfg, "uuid", json_object_new_string(uuid));
    json_object_object_add(cfg, "memory", json_object_new_int64(mem));
    json_object_object_add(cfg, "maxmem", json_object_new_int64(mem));
    json_object_object_add(cfg, "vcpus", json_object_new_int64(cpus));
    json_object_object_add(cfg, "maxvcpus", json_object_new_int64(cpus));
    json_object_object_add(cfg, "builder", json_object_new_string("hvm"));
    json_object_object_add(cfg, "OVM_domain_type",
                           json_object_new_string("xen_hvm"));
    if (json_str(avm, "os_type") && *json_str(avm, "os_type"))
        json_object_object_add(cfg, "OVM_os_type", json_object_new_string(
                                                       json_str(avm,
                                                              "os_type")));
    json_object_object_add(cfg, "disk", dl);
    return vmcfg_format(cfg);
}

static int
cvm_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    const char *avm_id = json_str(args, "assemblyVm"), *vm = json_str(args, "vm");
    const char *repo = json_str(args, "repository");
    struct db *db = job_db(ctx);
    AUTOPTR(json_object) json_object *avm = NULL;
    AUTOPTR(json_object) json_object *disks = NULL;
    AUTOPTR(json_object) json_object *ids = json_object_new_array();
    AUTOPTR(json_object) json_object *infos = json_object_new_object();
    AUTOPTR(json_object) json_object *made = NULL;
    char *AUTOFREE text = NULL;
    struct hv_conn *c;
    struct db_txn *t;
    size_t i;
    int rc = -1;

    (void)undo;
    if (!avm_id || !vm || !repo) {
        err_set(ERR_INVALID, "assembly.create_vm needs 'assemblyVm', 'vm' "
                             "and 'repository'");
        return -1;
    }
    avm = db_row_get(db, model_type_find("AssemblyVm"), avm_id);
    if (!avm || !(disks = avm_disks(db, avm_id)))
        return -1;
    c = vd_repo_conn(db, repo, NULL, NULL);
    if (!c)
        return -1;
    made = vd_made_new(repo);
    for (i = 0; i < json_object_array_length(disks); i++) {
        json_object *d = json_object_array_get_idx(disks, i);
        char *AUTOFREE id = vdisk_id_new(false);
        const char *file = json_str(d, "file_name");
        json_object *info;
        struct hv_file f;

        job_progress(ctx, "copying disk %zu of %zu of assembly VM '%s'",
                     i + 1, json_object_array_length(disks),
                     json_str(avm, "name"));
        if (file)
            rc = ST()->file_copy(c, repo, HV_DIR_ASSEMBLIES, file, repo,
                                 HV_DIR_VIRTUAL_DISKS, id, true, vd_aborting,
                                 ctx);
        else
            rc = ST()->file_create(c, repo, HV_DIR_VIRTUAL_DISKS, id,
                                   (uint64_t)vd_int(d, "size", 0), true,
                                   "raw", NULL);
        if (rc < 0) {
            failed(ctx);
            goto fail;
        }
        rc = -1;
        vd_made_file(made, HV_DIR_VIRTUAL_DISKS, id);
        json_object_array_add(ids, json_object_new_string(id));
        if (ST()->file_info(c, repo, HV_DIR_VIRTUAL_DISKS, id, &f) < 0)
            goto fail;
        info = json_object_new_object();
        json_object_object_add(info, "size", json_object_new_int64(
                                                 (int64_t)f.capacity_bytes));
        json_object_object_add(info, "onDisk", json_object_new_int64(
                                                   (int64_t)
                                                       f.allocation_bytes));
        json_object_object_add(infos, id, info);
    }
    text = cvm_cfg(avm, vm, repo, ids);
    if (!text)
        goto fail;
    {
        char *AUTOFREE fn = xasprintf("%s%s", vm, STORAGE_TEMPLATE_SUFFIX);

        if (ST()->file_write(c, repo, HV_DIR_TEMPLATES, fn, text,
                             strlen(text)) < 0)
            goto fail;
        vd_made_file(made, HV_DIR_TEMPLATES, fn);
    }
    if (job_aborting(ctx)) {
        job_abort_error(ctx);
        goto fail;
    }
    t = job_txn_begin(ctx);
    if (!t)
        goto fail;
    if (vd_finish(ctx, t, cvm_rows(ctx, t, args, avm, disks, ids, infos,
                                   text, made), made) < 0)
        goto fail;
    rc = 0;
    goto cleanup;
 fail:
    rc = -1;
    vd_made_cleanup(c, made);
 cleanup:
    storage_hv->close(c);
    return rc;
}

const struct job_op_type job_op_assembly_create_vm = {
    "assembly.create_vm", cvm_run, vd_undo_created, true,
};

/* ---- template.delete_rows ---- */

static int
tdel_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
          json_object *undo)
{
    const char *vm = json_str(args, "vm");
    json_object *want = json_object_object_get(args, "disks");
    AUTOPTR(json_object) json_object *row = NULL;
    AUTOPTR(json_object) json_object *plan = NULL;
    AUTOPTR(json_object) json_object *notes = NULL;
    char **ids = NULL;
    size_t n = 0, i, k;
    int rc = 0;

    if (!vm) {
        err_set(ERR_INVALID, "template.delete_rows needs 'vm'");
        return -1;
    }
    row = db_txn_row_get(t, model_type_find("Vm"), vm);
    if (!row || vdisk_template_plan(NULL, t, row, vd_int(args, "deleteDisks",
                                                         0) != 0, &plan,
                                    &notes) < 0)
        return -1;
    /* Only the disks the request planned (their files are the next
     * operation's), and each must still be free to go. */
    for (i = 0; want && i < json_object_array_length(want); i++) {
        const char *d = json_object_get_string(
            json_object_array_get_idx(want, i));
        bool ok = false;

        for (k = 0; k < json_object_array_length(plan) && !ok; k++)
            ok = str_eq(json_object_get_string(
                            json_object_array_get_idx(plan, k)), d);
        if (!ok) {
            char *AUTOFREE nt = notes_text(notes, "");

            err_set(ERR_STATE, "cannot delete template '%s' with its disks: "
                               "virtual disk '%s' can no longer go with it%s"
                               "%s", json_str(row, "name"), d,
                    *nt ? ": " : "", nt);
            return -1;
        }
    }
    if (db_txn_row_ids(t, model_type_find("VmDiskMapping"), "vm_id", vm,
                       &ids, &n) < 0)
        return -1;
    for (i = 0; i < n && rc == 0; i++)
        rc = vd_txn_delete_snap(t, "VmDiskMapping", ids[i], undo);
    db_ids_free(ids, n);
    if (rc < 0 || vd_txn_delete_snap(t, "Vm", vm, undo) < 0)
        return -1;
    for (i = 0; want && i < json_object_array_length(want); i++) {
        if (vd_txn_delete_snap(t, "VirtualDisk", json_object_get_string(
                                   json_object_array_get_idx(want, i)),
                               undo) < 0)
            return -1;
    }
    if (events_add(t, SEV_INFORMATIONAL, "template.deleted", vm, "Vm",
                   json_str(row, "name"), job_id(ctx), job_user(ctx), NULL,
                   "Template '%s' deleted%s", json_str(row, "name"),
                   want && json_object_array_length(want)
                       ? " with its virtual disks" : "") < 0)
        return -1;
    job_set_result(ctx, "Vm", vm, json_str(row, "name"));
    return 0;
}

static int
tdel_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    AUTOPTR(json_object) json_object *u = json_object_new_object();
    struct db_txn *t = job_txn_begin(ctx);

    (void)undo;
    if (!t)
        return -1;
    return vd_finish(ctx, t, tdel_step(ctx, t, args, u), u);
}

const struct job_op_type job_op_template_delete_rows = {
    "template.delete_rows", tdel_run, vd_undo_restore, true,
};

/* ---- assembly.delete_rows ---- */

static int
adel_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
          json_object *undo)
{
    const char *id = json_str(args, "id");
    AUTOPTR(json_object) json_object *row = NULL;
    static const char *const kids[] = { "AssemblyVirtualDisk", "AssemblyVm" };
    char **ids = NULL;
    size_t n = 0, i, k;
    int rc = 0;

    if (!id) {
        err_set(ERR_INVALID, "assembly.delete_rows needs 'id'");
        return -1;
    }
    row = db_txn_row_get(t, model_type_find("Assembly"), id);
    if (!row)
        return -1;
    for (k = 0; k < 2 && rc == 0; k++) {
        if (db_txn_row_ids(t, model_type_find(kids[k]), "assembly_id", id,
                           &ids, &n) < 0)
            return -1;
        for (i = 0; i < n && rc == 0; i++)
            rc = vd_txn_delete_snap(t, kids[k], ids[i], undo);
        db_ids_free(ids, n);
    }
    if (rc < 0 || vd_txn_delete_snap(t, "Assembly", id, undo) < 0)
        return -1;
    if (events_add(t, SEV_INFORMATIONAL, "assembly.deleted", id, "Assembly",
                   json_str(row, "name"), job_id(ctx), job_user(ctx), NULL,
                   "Assembly '%s' deleted", json_str(row, "name")) < 0)
        return -1;
    job_set_result(ctx, "Assembly", id, json_str(row, "name"));
    return 0;
}

static int
adel_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    AUTOPTR(json_object) json_object *u = json_object_new_object();
    struct db_txn *t = job_txn_begin(ctx);

    (void)undo;
    if (!t)
        return -1;
    return vd_finish(ctx, t, adel_step(ctx, t, args, u), u);
}

const struct job_op_type job_op_assembly_delete_rows = {
    "assembly.delete_rows", adel_run, vd_undo_restore, true,
};
