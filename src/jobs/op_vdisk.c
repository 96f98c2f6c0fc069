/*
 * op_vdisk.c - virtual disks and ISOs as job operations: create, edit and
 * resize, clone, delete; the rules they share with the handlers
 * (vdisk.h); the helpers of the repository-content operations
 * (vdisk_int.h); and the module's operation table job_ops_vdisk[].
 *
 * DESIGN: see vdisk_int.h for how files and rows go together and how
 * undo works. Each operation acts through one short connection to a
 * RUNNING server where the repository is presented (two repositories for
 * a copy: a server where both are), opened when it runs, closed when it
 * ends; no connection is held while waiting for anything else. The rules
 * of vdisk.h are checked again inside the operation's transaction, so a
 * job that waited while the world changed fails with the handler's
 * message and leaves nothing.
 *
 * Operations (arguments -> undo data):
 *   vdisk.create        {id, repository, name, size, sparse, shareable?,
 *                       description?, userData?} -> made (vdisk_int.h)
 *   vdisk.update        {id, generation?, name?, description?,
 *                       userData?, shareable?, size?} -> {rows: [the
 *                       row's snapshot]}; a resize grows the file first.
 *                       Its undo restores the row; the file keeps its new
 *                       size (files never shrink), which the restored row
 *                       then understates until the next refresh.
 *   vdisk.clone         {source, id, repository, name, cloneType} -> made.
 *                       THIN_CLONE: a qcow2 overlay on the source (same
 *                       repository); SPARSE_COPY / NON_SPARSE_COPY: a
 *                       copy, abortable between chunks.
 *   vdisk.delete        {id} -> {rows: [snapshot]}: database-only.
 *   vdisk.delete_files  {repository, files: [{dir, name}]} -> none: the
 *                       last operation of every delete job. It fails (and
 *                       the job's row changes are undone) when it cannot
 *                       reach the repository or the first deletion fails;
 *                       once a file is gone it goes on, noting failures
 *                       in the job's progress message and a WARNING
 *                       event, since the rows are already right.
 *
 * Events: INFORMATIONAL vdisk.created, vdisk.updated, vdisk.resized,
 * vdisk.cloned, vdisk.deleted on the disk; object.restored when an edit or
 * delete is undone; WARNING vdisk.file_left when a file could not be
 * deleted.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "db/db.h"
#include "events/events.h"
#include "jobs/storage.h"
#include "jobs/vdisk.h"
#include "jobs/vdisk_int.h"
#include "model/model.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/fetch.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"

LOG_MODULE("jobs");

#define VDT() model_type_find("VirtualDisk")

int64_t
vd_int(json_object *o, const char *key, int64_t dflt)
{
    json_object *v = NULL;

    if (!o || !json_object_object_get_ex(o, key, &v) || !v)
        return dflt;
    if (json_object_is_type(v, json_type_int))
        return json_object_get_int64(v);
    if (json_object_is_type(v, json_type_boolean))
        return json_object_get_boolean(v) ? 1 : 0;
    return dflt;
}

/* Boolean member (true/false or 0/1) or @dflt. */
static bool
vd_bool(json_object *o, const char *key, bool dflt)
{
    return vd_int(o, key, dflt ? 1 : 0) != 0;
}

int
vd_dir_parse(const char *name, enum hv_repo_dir *out)
{
    int d;

    for (d = HV_DIR_TEMPLATES; d < HV_DIR_COUNT; d++) {
        if (name && strcmp(hv_repo_dir_name((enum hv_repo_dir)d), name) ==
                0) {
            *out = (enum hv_repo_dir)d;
            return 0;
        }
    }
    err_set(ERR_INVALID, "'%s' is not a repository directory",
            name ? name : "(null)");
    return -1;
}

char *
vdisk_id_new(bool iso)
{
    char *id = model_id_new(VDT());
    char *out;

    /* Oracle VM: type code 0012 for disk images, 0015 for ISOs. */
    if (iso)
        memcpy(id + 8, "0015", 4);
    out = xasprintf("%s%s", id, iso ? ".iso" : ".img");
    xfree(id);
    return out;
}

bool
vd_aborting(void *opaque)
{
    return job_aborting(opaque);
}

int
vd_finish(struct job_ctx *ctx, struct db_txn *t, int rc, json_object *undo)
{
    if (rc < 0) {
        db_txn_rollback(t);
        return -1;
    }
    return job_txn_commit(ctx, t, undo);
}

void
vd_fetch_policy(json_object *args, struct fetch_policy *p)
{
    memset(p, 0, sizeof(*p));
    p->allow = json_str(args, "allow");
    p->max_bytes = (uint64_t)vd_int(args, "maxBytes", 0);
    p->timeout_ms = vd_int(args, "timeoutMs", 0);
}

/* ---- reads through the reader or inside a transaction ---- */

static json_object *
rd_get(struct db *db, struct db_txn *t, const char *type, const char *id)
{
    const struct model_type *ty = model_type_find(type);

    return t ? db_txn_row_get(t, ty, id) : db_row_get(db, ty, id);
}

static int
rd_ids(struct db *db, struct db_txn *t, const char *type, const char *col,
       const char *value, char ***ids, size_t *n)
{
    const struct model_type *ty = model_type_find(type);

    return t ? db_txn_row_ids(t, ty, col, value, ids, n)
             : db_row_ids(db, ty, col, value, ids, n);
}

/* The name of object @id of @type, or a copy of @id when it is gone.
 * Caller frees. */
static char *
rd_name(struct db *db, struct db_txn *t, const char *type, const char *id)
{
    json_object *r = rd_get(db, t, type, id);
    char *s;

    if (!r) {
        err_clear();
        return xstrdup(id);
    }
    s = xstrdup(json_str(r, "name") ? json_str(r, "name") : id);
    json_object_put(r);
    return s;
}

/* ---- the rules (vdisk.h) ---- */

int
vdisk_check_delete(struct db *db, struct db_txn *t, json_object *disk)
{
    const char *id = json_str(disk, "id"), *name = json_str(disk, "name");
    char **ids = NULL;
    size_t n = 0;
    int rc = 0;

    if (rd_ids(db, t, "VmDiskMapping", "virtual_disk_id", id, &ids, &n) < 0)
        return -1;
    if (n > 0) {
        json_object *m = rd_get(db, t, "VmDiskMapping", ids[0]);
        const char *vm_id = m ? json_str(m, "vm_id") : NULL;
        json_object *vm = vm_id ? rd_get(db, t, "Vm", vm_id) : NULL;
        const char *state = vm ? json_str(vm, "run_state") : NULL;

        err_clear();
        err_set(ERR_STATE, "cannot delete virtual disk '%s': it is used by "
                           "%s '%s'%s", name,
                state && strcmp(state, "TEMPLATE") == 0 ? "template" : "vm",
                vm ? json_str(vm, "name") : vm_id ? vm_id : "?",
                n > 1 ? " and others" : "");
        json_object_put(m);
        json_object_put(vm);
        rc = -1;
    }
    db_ids_free(ids, n);
    if (rc < 0)
        return -1;
    if (rd_ids(db, t, "VirtualDisk", "backing_id", id, &ids, &n) < 0)
        return -1;
    if (n > 0) {
        char *AUTOFREE clone = rd_name(db, t, "VirtualDisk", ids[0]);

        err_set(ERR_STATE, "cannot delete virtual disk '%s': it is the base "
                           "of thin clone '%s'%s; delete the clones first",
                name, clone, n > 1 ? " and others" : "");
        rc = -1;
    }
    db_ids_free(ids, n);
    return rc;
}

int
vdisk_check_clone(struct db *db, struct db_txn *t, json_object *disk,
                  const char *target, const char *clone_type)
{
    const char *name = json_str(disk, "name");
    const char *repo = json_str(disk, "repository_id");
    const char *type = json_str(disk, "disk_type");
    bool iso = type && strcmp(type, "VIRTUAL_CDROM") == 0;
    json_object *tr;

    if (strcmp(clone_type, VDISK_THIN_CLONE) != 0 &&
        strcmp(clone_type, VDISK_SPARSE_COPY) != 0 &&
        strcmp(clone_type, VDISK_NON_SPARSE_COPY) != 0) {
        err_set(ERR_INVALID, "'cloneType' '%s' is not THIN_CLONE, "
                             "SPARSE_COPY or NON_SPARSE_COPY", clone_type);
        return -1;
    }
    if (iso && strcmp(clone_type, VDISK_THIN_CLONE) == 0) {
        err_set(ERR_INVALID, "cannot thin-clone ISO '%s': ISOs are copied "
                             "(SPARSE_COPY or NON_SPARSE_COPY)", name);
        return -1;
    }
    tr = rd_get(db, t, "Repository", target);
    if (!tr)
        return -1;
    json_object_put(tr);
    if (strcmp(clone_type, VDISK_THIN_CLONE) == 0 && !str_eq(repo, target)) {
        char *AUTOFREE rn = rd_name(db, t, "Repository", repo);

        err_set(ERR_STATE, "cannot thin-clone virtual disk '%s' into "
                           "another repository: a thin clone stays in the "
                           "repository of its base ('%s')", name, rn);
        return -1;
    }
    if (json_str(disk, "backing_id") && !str_eq(repo, target)) {
        char *AUTOFREE bn = rd_name(db, t, "VirtualDisk",
                                    json_str(disk, "backing_id"));

        err_set(ERR_STATE, "cannot copy virtual disk '%s' into another "
                           "repository: it is a thin clone of '%s', which "
                           "stays in its repository", name, bn);
        return -1;
    }
    return 0;
}

int
vdisk_check_resize(json_object *disk, int64_t size)
{
    const char *type = json_str(disk, "disk_type");
    int64_t cur = vd_int(disk, "size", 0);

    if (size == cur)
        return 0;
    if (type && strcmp(type, "VIRTUAL_CDROM") == 0) {
        err_set(ERR_INVALID, "cannot resize '%s': ISOs cannot be resized",
                json_str(disk, "name"));
        return -1;
    }
    if (size < cur) {
        err_set(ERR_INVALID, "cannot resize virtual disk '%s' from %" PRId64
                             " to %" PRId64 " bytes: virtual disks cannot "
                             "shrink", json_str(disk, "name"), cur, size);
        return -1;
    }
    return 0;
}

/* A new JSON string, printf-formatted. */
static json_object *
jstrf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_object *
jstrf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    json_object *o;

    va_start(ap, fmt);
    s = xvasprintf(fmt, ap);
    va_end(ap);
    o = json_object_new_string(s);
    xfree(s);
    return o;
}

/* True when array @a holds string @s. */
static bool
has_str(json_object *a, const char *s)
{
    size_t i;

    for (i = 0; a && i < json_object_array_length(a); i++) {
        if (str_eq(json_object_get_string(json_object_array_get_idx(a, i)),
                   s))
            return true;
    }
    return false;
}

/* Whether template @vm_id's disk @disk may go with it; adds a note when
 * not. 1 yes, 0 no, -1 error. */
static int
disk_goes(struct db *db, struct db_txn *t, const char *vm_id,
          json_object *disk, json_object *notes)
{
    const char *id = json_str(disk, "id"), *name = json_str(disk, "name");
    const char *type = json_str(disk, "disk_type");
    char **ids = NULL;
    size_t n = 0, i;
    int rc = 1;

    if (type && strcmp(type, "VIRTUAL_CDROM") == 0) {
        json_object_array_add(notes, jstrf(
            "ISO '%s' is kept: ISOs are shared resources", name));
        return 0;
    }
    if (rd_ids(db, t, "VmDiskMapping", "virtual_disk_id", id, &ids, &n) < 0)
        return -1;
    for (i = 0; i < n && rc == 1; i++) {
        json_object *m = rd_get(db, t, "VmDiskMapping", ids[i]);
        const char *other = m ? json_str(m, "vm_id") : NULL;

        if (!m)
            err_clear();
        if (other && strcmp(other, vm_id) != 0) {
            char *AUTOFREE on = rd_name(db, t, "Vm", other);

            json_object_array_add(notes, jstrf(
                "virtual disk '%s' is kept: vm '%s' uses it too", name, on));
            rc = 0;
        }
        json_object_put(m);
    }
    db_ids_free(ids, n);
    if (rc != 1)
        return rc;
    if (rd_ids(db, t, "VirtualDisk", "backing_id", id, &ids, &n) < 0)
        return -1;
    if (n > 0) {
        char *AUTOFREE cn = rd_name(db, t, "VirtualDisk", ids[0]);

        json_object_array_add(notes, jstrf(
            "virtual disk '%s' is kept: it is the base of thin clone '%s'",
            name, cn));
        rc = 0;
    }
    db_ids_free(ids, n);
    return rc;
}

int
vdisk_template_plan(struct db *db, struct db_txn *t, json_object *vm,
                    bool delete_disks, json_object **disks,
                    json_object **notes)
{
    const char *vm_id = json_str(vm, "id"), *state = json_str(vm, "run_state");
    char **ids = NULL;
    size_t n = 0, i;
    int rc = 0;

    *disks = json_object_new_array();
    *notes = json_object_new_array();
    if (!state || strcmp(state, "TEMPLATE") != 0) {
        err_set(ERR_STATE, "cannot delete vm '%s' (%s): only templates can "
                           "be deleted until virtual machines are managed",
                json_str(vm, "name"), state ? state : "?");
        return -1;
    }
    if (!delete_disks)
        return 0;
    if (rd_ids(db, t, "VmDiskMapping", "vm_id", vm_id, &ids, &n) < 0)
        return -1;
    for (i = 0; i < n && rc == 0; i++) {
        json_object *m = rd_get(db, t, "VmDiskMapping", ids[i]);
        const char *did = m ? json_str(m, "virtual_disk_id") : NULL;
        json_object *d = did ? rd_get(db, t, "VirtualDisk", did) : NULL;
        int goes;

        if (!m || (did && !d)) {
            err_clear();
        } else if (d && !has_str(*disks, did)) {
            goes = disk_goes(db, t, vm_id, d, *notes);
            if (goes < 0)
                rc = -1;
            else if (goes)
                json_object_array_add(*disks, json_object_new_string(did));
        }
        json_object_put(m);
        json_object_put(d);
    }
    db_ids_free(ids, n);
    return rc;
}

/* True when server @sid is RUNNING. */
static bool
running(struct db *db, const char *sid)
{
    json_object *s = db_row_get(db, model_type_find("Server"), sid);
    bool ok = s && str_eq(json_str(s, "run_state"), "RUNNING");

    if (!s)
        err_clear();
    json_object_put(s);
    return ok;
}

/* Server ids where repository @repo is presented. */
static int
mounts_of(struct db *db, const char *repo, json_object **servers)
{
    const struct model_type *mt = model_type_find("FileSystemMount");
    char **ids = NULL;
    size_t n = 0, i;

    *servers = json_object_new_array();
    if (db_row_ids(db, mt, "repository_id", repo, &ids, &n) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        json_object *m = db_row_get(db, mt, ids[i]);

        if (!m)
            err_clear();
        else if (json_str(m, "server_id"))
            json_object_array_add(*servers, json_object_new_string(
                                                json_str(m, "server_id")));
        json_object_put(m);
    }
    db_ids_free(ids, n);
    return 0;
}

int
vdisk_repo_reachable(struct db *db, const char *repo, const char *other,
                     char **server_id)
{
    AUTOPTR(json_object) json_object *a = NULL;
    AUTOPTR(json_object) json_object *b = NULL;
    json_object *r;
    size_t i;

    if (server_id)
        *server_id = NULL;
    if (other && strcmp(other, repo) == 0)
        other = NULL;
    r = db_row_get(db, model_type_find("Repository"), repo);
    if (!r)
        return -1;
    json_object_put(r);
    if (mounts_of(db, repo, &a) < 0 ||
        (other && mounts_of(db, other, &b) < 0))
        return -1;
    for (i = 0; i < json_object_array_length(a); i++) {
        const char *sid = json_object_get_string(
            json_object_array_get_idx(a, i));

        if ((!other || has_str(b, sid)) && running(db, sid)) {
            if (server_id)
                *server_id = xstrdup(sid);
            return 0;
        }
    }
    {
        char *AUTOFREE rn = rd_name(db, NULL, "Repository", repo);
        char *AUTOFREE on = other ? rd_name(db, NULL, "Repository", other)
                                  : NULL;

        if (other)
            err_set(ERR_STATE, "repositories '%s' and '%s' are not presented "
                               "together to any running server", rn, on);
        else
            err_set(ERR_STATE, "repository '%s' is not presented to any "
                               "running server", rn);
    }
    return -1;
}

struct hv_conn *
vd_repo_conn(struct db *db, const char *a, const char *b, char **server_id)
{
    char *AUTOFREE sid = NULL, *AUTOFREE got = NULL;
    struct hv_conn *c;

    if (server_id)
        *server_id = NULL;
    if (vdisk_repo_reachable(db, a, b, &sid) < 0)
        return NULL;
    /* Through the repository being written (b for a copy), preferring
     * the server that has both. */
    c = storage_repo_open(db, b ? b : a, sid, &got);
    if (!c)
        return NULL;
    if (b && !str_eq(got, sid)) {
        storage_hv->close(c);
        err_set(ERR_STATE, "server '%s' where both repositories are "
                           "presented is not reachable", sid);
        return NULL;
    }
    if (server_id)
        *server_id = steal_ptr(&got);
    return c;
}

/* ---- what a creating operation made ---- */

json_object *
vd_made_new(const char *repo)
{
    json_object *m = json_object_new_object();

    json_object_object_add(m, "repository", json_object_new_string(repo));
    json_object_object_add(m, "files", json_object_new_array());
    json_object_object_add(m, "rows", json_object_new_array());
    return m;
}

void
vd_made_file(json_object *made, enum hv_repo_dir dir, const char *name)
{
    json_object *files = NULL, *f = json_object_new_object();

    json_object_object_get_ex(made, "files", &files);
    json_object_object_add(f, "dir",
                           json_object_new_string(hv_repo_dir_name(dir)));
    json_object_object_add(f, "name", json_object_new_string(name));
    json_object_array_add(files, f);
}

void
vd_made_row(json_object *made, const char *type, const char *id)
{
    json_object *rows = NULL, *r = json_object_new_object();

    json_object_object_get_ex(made, "rows", &rows);
    json_object_object_add(r, "type", json_object_new_string(type));
    json_object_object_add(r, "id", json_object_new_string(id));
    json_object_array_add(rows, r);
}

/*
 * Delete the files of @made through @c, newest first. @strict: stop at
 * the first failure other than "absent" (-1); else log it and go on.
 */
static int
made_delete_files(struct hv_conn *c, json_object *made, bool strict)
{
    const char *repo = json_str(made, "repository");
    json_object *files = NULL;
    size_t i;

    if (!json_object_object_get_ex(made, "files", &files) || !files)
        return 0;
    for (i = json_object_array_length(files); i-- > 0;) {
        json_object *f = json_object_array_get_idx(files, i);
        enum hv_repo_dir d;

        if (vd_dir_parse(json_str(f, "dir"), &d) < 0)
            return -1;
        if (storage_hv->storage->file_delete(c, repo, d, json_str(f, "name"))
                == 0)
            continue;
        if (err_code() == ERR_NOT_FOUND) {
            err_clear();
            continue;
        }
        if (strict)
            return -1;
        log_warnx("cannot delete '%s/%s' of repository '%s': %s",
                  json_str(f, "dir"), json_str(f, "name"), repo, err_message());
    }
    return 0;
}

void
vd_made_cleanup(struct hv_conn *c, json_object *made)
{
    struct err saved = *err_get();

    if (c && made)
        made_delete_files(c, made, false);
    /* Keep the error that made us clean up. */
    if (saved.code == ERR_OK)
        err_clear();
    else
        err_set_full(saved.code, saved.file, saved.func, saved.line, "%s",
                 saved.message);
}

/* The event type and the type's wording for a row type undone. */
static const char *
gone_event(const char *type)
{
    if (strcmp(type, "VirtualDisk") == 0)
        return "vdisk.deleted";
    if (strcmp(type, "Vm") == 0)
        return "template.deleted";
    if (strcmp(type, "Assembly") == 0)
        return "assembly.deleted";
    return NULL;
}

int
vd_undo_created(struct job_ctx *ctx, json_object *args, json_object *undo)
{
    const char *repo = json_str(undo, "repository");
    json_object *files = NULL, *rows = NULL;
    struct hv_conn *c;
    struct db_txn *t;
    size_t i;
    int rc = 0;

    (void)args;
    json_object_object_get_ex(undo, "files", &files);
    json_object_object_get_ex(undo, "rows", &rows);
    if (files && json_object_array_length(files) > 0) {
        c = vd_repo_conn(job_db(ctx), repo, NULL, NULL);
        if (!c)
            return -1;
        rc = made_delete_files(c, undo, true);
        storage_hv->close(c);
        if (rc < 0)
            return -1;
    }
    t = job_txn_begin(ctx);
    if (!t)
        return -1;
    for (i = rows ? json_object_array_length(rows) : 0; i-- > 0 && rc == 0;) {
        json_object *r = json_object_array_get_idx(rows, i);
        const char *type = json_str(r, "type"), *id = json_str(r, "id");
        const struct model_type *ty = type ? model_type_find(type) : NULL;
        json_object *row;
        const char *ev = type ? gone_event(type) : NULL;

        if (!ty || !id) {
            err_set(ERR_INVALID, "bad undo data: a row without type or id");
            rc = -1;
            break;
        }
        row = db_txn_row_get(t, ty, id);
        if (!row) {
            if (err_code() != ERR_NOT_FOUND) {
                rc = -1;
                break;
            }
            err_clear();
            continue;
        }
        rc = db_txn_row_delete(t, ty, id);
        if (rc == 0 && ev)
            rc = events_add(t, SEV_INFORMATIONAL, ev, id, type,
                            json_str(row, "name"), job_id(ctx), job_user(ctx),
                            NULL, "%s '%s' deleted: its creation was undone",
                            strcmp(type, "Vm") == 0 ? "Template" : type,
                            json_str(row, "name"));
        json_object_put(row);
    }
    return vd_finish(ctx, t, rc, NULL);
}

/* ---- deleting rows with snapshots, restoring them ---- */

/*
 * Snapshot row @id of @type into @undo's "rows" and delete it inside @t.
 * Absent: 0 (nothing to do).
 */
static int
delete_snap(struct db_txn *t, const char *type, const char *id,
            json_object *undo)
{
    const struct model_type *ty = model_type_find(type);
    json_object *row = db_txn_row_get(t, ty, id), *rows = NULL, *e;

    if (!row) {
        if (err_code() != ERR_NOT_FOUND)
            return -1;
        err_clear();
        return 0;
    }
    if (!json_object_object_get_ex(undo, "rows", &rows) || !rows) {
        rows = json_object_new_array();
        json_object_object_add(undo, "rows", rows);
    }
    e = json_object_new_object();
    json_object_object_add(e, "type", json_object_new_string(type));
    json_object_object_add(e, "row", row);
    json_object_array_add(rows, e);
    return db_txn_row_delete(t, ty, id);
}

int
vd_txn_delete_snap(struct db_txn *t, const char *type, const char *id,
                   json_object *undo)
{
    return delete_snap(t, type, id, undo);
}

int
vd_undo_restore(struct job_ctx *ctx, json_object *args, json_object *undo)
{
    json_object *rows = NULL;
    struct db_txn *t;
    size_t i;
    int rc = 0;

    (void)args;
    json_object_object_get_ex(undo, "rows", &rows);
    t = job_txn_begin(ctx);
    if (!t)
        return -1;
    for (i = rows ? json_object_array_length(rows) : 0; i-- > 0 && rc == 0;) {
        json_object *e = json_object_array_get_idx(rows, i), *row = NULL;
        const char *type = json_str(e, "type");
        const struct model_type *ty = type ? model_type_find(type) : NULL;

        json_object_object_get_ex(e, "row", &row);
        if (!ty || !row) {
            err_set(ERR_INVALID, "bad undo data: a snapshot without type "
                                 "or row");
            rc = -1;
            break;
        }
        rc = db_txn_row_restore(t, ty, row);
        if (rc == 0 && gone_event(type))
            rc = events_add(t, SEV_INFORMATIONAL, "object.restored",
                            json_str(row, "id"), type, json_str(row, "name"),
                            job_id(ctx), job_user(ctx), NULL,
                            "%s '%s' restored: the job's change was undone",
                            strcmp(type, "Vm") == 0 ? "Template" : type,
                            json_str(row, "name"));
    }
    return vd_finish(ctx, t, rc, NULL);
}

/* ---- rows ---- */

int
vd_txn_disk_insert(struct db_txn *t, const char *id, const char *name,
                   const char *repo, enum hv_repo_dir dir,
                   const struct hv_file *f, json_object *extra)
{
    AUTOPTR(json_object) json_object *row = json_object_new_object();
    bool iso = dir == HV_DIR_ISOS;
    const char *format = f->format[0] ? f->format : iso ? "iso" : "raw";
    char *AUTOFREE path = xasprintf("/%s/%s", hv_repo_dir_name(dir), id);

    json_object_object_add(row, "id", json_object_new_string(id));
    json_object_object_add(row, "name", json_object_new_string(name));
    json_object_object_add(row, "repository_id",
                           json_object_new_string(repo));
    json_object_object_add(row, "disk_type", json_object_new_string(
                                                 iso ? "VIRTUAL_CDROM"
                                                     : "VIRTUAL_DISK"));
    json_object_object_add(row, "size",
                           json_object_new_int64((int64_t)f->capacity_bytes));
    json_object_object_add(row, "on_disk_size", json_object_new_int64(
                                                    (int64_t)
                                                        f->allocation_bytes));
    json_object_object_add(row, "path", json_object_new_string(path));
    json_object_object_add(row, "format", json_object_new_string(format));
    json_object_object_add(row, "sparse", json_object_new_int(1));
    json_object_object_add(row, "shareable", json_object_new_int(0));
    if (extra) {
        json_object_object_foreach(extra, k, v)
            json_object_object_add(row, k, json_object_get(v));
    }
    return db_txn_row_insert(t, VDT(), row);
}

/* ---- vdisk.create ---- */

static int
create_rows(struct job_ctx *ctx, struct db_txn *t, json_object *args,
            const struct hv_file *f, json_object *made)
{
    const char *id = json_str(args, "id"), *repo = json_str(args, "repository");
    const char *name = json_str(args, "name");
    AUTOPTR(json_object) json_object *extra = json_object_new_object();
    json_object *r, *ud = NULL;

    r = db_txn_row_get(t, model_type_find("Repository"), repo);
    if (!r)
        return -1;
    json_object_put(r);
    if (json_str(args, "description"))
        json_object_object_add(extra, "description", json_object_new_string(
                                                         json_str(args,
                                                                "description")));
    if (json_object_object_get_ex(args, "userData", &ud) && ud)
        json_object_object_add(extra, "user_data",
                               json_object_new_string(json_to_text(ud)));
    json_object_object_add(extra, "sparse", json_object_new_int(
                                                vd_bool(args, "sparse",
                                                        true)));
    json_object_object_add(extra, "shareable", json_object_new_int(
                                                   vd_bool(args, "shareable",
                                                           false)));
    if (vd_txn_disk_insert(t, id, name, repo, HV_DIR_VIRTUAL_DISKS, f,
                           extra) < 0)
        return -1;
    vd_made_row(made, "VirtualDisk", id);
    if (events_add(t, SEV_INFORMATIONAL, "vdisk.created", id, "VirtualDisk",
                   name, job_id(ctx), job_user(ctx), NULL,
                   "VirtualDisk '%s' created (%" PRIu64 " bytes, %s)", name,
                   f->capacity_bytes,
                   vd_bool(args, "sparse", true) ? "sparse" : "non-sparse")
            < 0)
        return -1;
    job_set_result(ctx, "VirtualDisk", id, name);
    return 0;
}

static int
create_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    const struct hv_storage_ops *st = storage_hv->storage;
    const char *id = json_str(args, "id"), *repo = json_str(args, "repository");
    const char *name = json_str(args, "name");
    int64_t size = vd_int(args, "size", 0);
    bool sparse = vd_bool(args, "sparse", true);
    AUTOPTR(json_object) json_object *made = NULL;
    struct hv_conn *c;
    struct hv_file f;
    struct db_txn *t;
    int rc = -1;

    (void)undo; /* recorded by job_txn_commit() with the rows */
    if (!id || !repo || !name || size <= 0) {
        err_set(ERR_INVALID, "vdisk.create needs 'id', 'repository', 'name' "
                             "and a positive 'size'");
        return -1;
    }
    c = vd_repo_conn(job_db(ctx), repo, NULL, NULL);
    if (!c)
        return -1;
    job_progress(ctx, "creating virtual disk '%s': %" PRId64 " bytes, %s",
                 name, size, sparse ? "sparse" : "non-sparse");
    made = vd_made_new(repo);
    if (st->file_create(c, repo, HV_DIR_VIRTUAL_DISKS, id, (uint64_t)size,
                        sparse, "raw", NULL) < 0)
        goto cleanup;
    vd_made_file(made, HV_DIR_VIRTUAL_DISKS, id);
    if (st->file_info(c, repo, HV_DIR_VIRTUAL_DISKS, id, &f) < 0)
        goto fail;
    t = job_txn_begin(ctx);
    if (!t)
        goto fail;
    if (vd_finish(ctx, t, create_rows(ctx, t, args, &f, made), made) < 0)
        goto fail;
    rc = 0;
    goto cleanup;
 fail:
    vd_made_cleanup(c, made);
 cleanup:
    storage_hv->close(c);
    return rc;
}

static const struct job_op_type op_create = {
    "vdisk.create", create_run, vd_undo_created, true,
};

/* ---- vdisk.update ---- */

/* The generation check of an edit. */
static int
check_generation(json_object *args, json_object *row)
{
    int64_t want = vd_int(args, "generation", -1);
    int64_t have = vd_int(row, "generation", -1);

    if (want >= 0 && want != have) {
        err_set(ERR_CONFLICT, "VirtualDisk '%s' was changed by someone else: "
                              "the request was made from generation %" PRId64
                              " but it is at generation %" PRId64,
                json_str(row, "name"), want, have);
        return -1;
    }
    return 0;
}

static int
update_rows(struct job_ctx *ctx, struct db_txn *t, json_object *args,
            const struct hv_file *f, json_object *undo)
{
    const char *id = json_str(args, "id");
    AUTOPTR(json_object) json_object *cols = json_object_new_object();
    AUTOPTR(json_object) json_object *row = NULL;
    json_object *v, *rows;
    const char *name;
    int64_t size = vd_int(args, "size", -1);

    row = db_txn_row_get(t, VDT(), id);
    if (!row || check_generation(args, row) < 0)
        return -1;
    if (size >= 0 && !f && vdisk_check_resize(row, size) < 0)
        return -1;
    rows = json_object_new_array();
    json_object_object_add(undo, "rows", rows);
    v = json_object_new_object();
    json_object_object_add(v, "type", json_object_new_string("VirtualDisk"));
    json_object_object_add(v, "row", json_object_get(row));
    json_object_array_add(rows, v);
    if ((name = json_str(args, "name")))
        json_object_object_add(cols, "name", json_object_new_string(name));
    if (json_str(args, "description"))
        json_object_object_add(cols, "description", json_object_new_string(
                                                        json_str(args,
                                                               "description")));
    if (json_object_object_get_ex(args, "userData", &v) && v)
        json_object_object_add(cols, "user_data",
                               json_object_new_string(json_to_text(v)));
    if (json_object_object_get_ex(args, "shareable", &v) && v)
        json_object_object_add(cols, "shareable", json_object_new_int(
                                                      vd_bool(args,
                                                              "shareable",
                                                              false)));
    if (f) {
        json_object_object_add(cols, "size", json_object_new_int64(
                                                 (int64_t)f->capacity_bytes));
        json_object_object_add(cols, "on_disk_size", json_object_new_int64(
                                                         (int64_t)f->
                                                             allocation_bytes));
    }
    if (db_txn_row_update(t, VDT(), id, cols, true) < 0)
        return -1;
    name = name ? name : json_str(row, "name");
    if (f && events_add(t, SEV_INFORMATIONAL, "vdisk.resized", id,
                        "VirtualDisk", name, job_id(ctx), job_user(ctx), NULL,
                        "VirtualDisk '%s' resized from %" PRId64 " to %"
                        PRIu64 " bytes", name, vd_int(row, "size", 0),
                        f->capacity_bytes) < 0)
        return -1;
    if (events_add(t, SEV_INFORMATIONAL, "vdisk.updated", id, "VirtualDisk",
                   name, job_id(ctx), job_user(ctx), NULL,
                   "VirtualDisk '%s' updated", name) < 0)
        return -1;
    job_set_result(ctx, "VirtualDisk", id, name);
    return 0;
}

static int
update_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    const struct hv_storage_ops *st = storage_hv->storage;
    const char *id = json_str(args, "id");
    AUTOPTR(json_object) json_object *row = NULL;
    AUTOPTR(json_object) json_object *u = json_object_new_object();
    int64_t size = vd_int(args, "size", -1);
    struct hv_file f, *fp = NULL;
    struct db_txn *t;

    (void)undo;
    if (!id) {
        err_set(ERR_INVALID, "vdisk.update needs 'id'");
        return -1;
    }
    row = db_row_get(job_db(ctx), VDT(), id);
    if (!row || check_generation(args, row) < 0)
        return -1;
    if (size >= 0 && size != vd_int(row, "size", 0)) {
        const char *repo = json_str(row, "repository_id");
        struct hv_conn *c;
        int rc;

        if (vdisk_check_resize(row, size) < 0)
            return -1;
        c = vd_repo_conn(job_db(ctx), repo, NULL, NULL);
        if (!c)
            return -1;
        job_progress(ctx, "resizing virtual disk '%s' to %" PRId64 " bytes",
                     json_str(row, "name"), size);
        rc = st->file_resize(c, repo, HV_DIR_VIRTUAL_DISKS, id,
                             (uint64_t)size);
        if (rc == 0)
            rc = st->file_info(c, repo, HV_DIR_VIRTUAL_DISKS, id, &f);
        storage_hv->close(c);
        if (rc < 0)
            return -1;
        fp = &f;
    }
    t = job_txn_begin(ctx);
    if (!t)
        return -1;
    return vd_finish(ctx, t, update_rows(ctx, t, args, fp, u), u);
}

static const struct job_op_type op_update = {
    "vdisk.update", update_run, vd_undo_restore, true,
};

/* ---- vdisk.clone ---- */

static int
clone_rows(struct job_ctx *ctx, struct db_txn *t, json_object *args,
           const struct hv_file *f, enum hv_repo_dir dir, json_object *made)
{
    const char *src = json_str(args, "source"), *id = json_str(args, "id");
    const char *repo = json_str(args, "repository");
    const char *name = json_str(args, "name");
    const char *ct = json_str(args, "cloneType");
    AUTOPTR(json_object) json_object *s = db_txn_row_get(t, VDT(), src);
    AUTOPTR(json_object) json_object *extra = json_object_new_object();
    bool thin = strcmp(ct, VDISK_THIN_CLONE) == 0;
    const char *backing;

    if (!s || vdisk_check_clone(NULL, t, s, repo, ct) < 0)
        return -1;
    backing = thin ? src : json_str(s, "backing_id");
    json_object_object_add(extra, "backing_id", json_str_or_null(backing));
    json_object_object_add(extra, "sparse", json_object_new_int(
                                                strcmp(ct,
                                                       VDISK_NON_SPARSE_COPY)
                                                != 0));
    json_object_object_add(extra, "shareable", json_object_new_int(
                                                   vd_bool(s, "shareable",
                                                           false)));
    if (json_str(s, "import_file_name"))
        json_object_object_add(extra, "import_file_name",
                               json_object_new_string(
                                   json_str(s, "import_file_name")));
    if (vd_txn_disk_insert(t, id, name, repo, dir, f, extra) < 0)
        return -1;
    vd_made_row(made, "VirtualDisk", id);
    if (events_add(t, SEV_INFORMATIONAL, "vdisk.cloned", id, "VirtualDisk",
                   name, job_id(ctx), job_user(ctx), NULL,
                   "VirtualDisk '%s' created as a %s of '%s'", name,
                   thin ? "thin clone" : strcmp(ct, VDISK_SPARSE_COPY) == 0
                                             ? "sparse copy"
                                             : "non-sparse copy",
                   json_str(s, "name")) < 0)
        return -1;
    job_set_result(ctx, "VirtualDisk", id, name);
    return 0;
}

static int
clone_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    const struct hv_storage_ops *st = storage_hv->storage;
    const char *src = json_str(args, "source"), *id = json_str(args, "id");
    const char *repo = json_str(args, "repository");
    const char *ct = json_str(args, "cloneType");
    AUTOPTR(json_object) json_object *s = NULL;
    AUTOPTR(json_object) json_object *made = NULL;
    const char *src_repo, *type;
    enum hv_repo_dir dir;
    struct hv_conn *c;
    struct hv_file f;
    struct db_txn *t;
    int rc = -1;

    (void)undo;
    if (!src || !id || !repo || !ct || !json_str(args, "name")) {
        err_set(ERR_INVALID, "vdisk.clone needs 'source', 'id', "
                             "'repository', 'name' and 'cloneType'");
        return -1;
    }
    s = db_row_get(job_db(ctx), VDT(), src);
    if (!s || vdisk_check_clone(job_db(ctx), NULL, s, repo, ct) < 0)
        return -1;
    src_repo = json_str(s, "repository_id");
    type = json_str(s, "disk_type");
    dir = str_eq(type, "VIRTUAL_CDROM") ? HV_DIR_ISOS : HV_DIR_VIRTUAL_DISKS;
    c = vd_repo_conn(job_db(ctx), src_repo, repo, NULL);
    if (!c)
        return -1;
    made = vd_made_new(repo);
    job_progress(ctx, "cloning '%s' (%s)", json_str(s, "name"), ct);
    if (strcmp(ct, VDISK_THIN_CLONE) == 0)
        rc = st->file_create(c, repo, dir, id,
                             (uint64_t)vd_int(s, "size", 0), true, "qcow2",
                             src);
    else
        rc = st->file_copy(c, src_repo, dir, src, repo, dir, id,
                           strcmp(ct, VDISK_SPARSE_COPY) == 0, vd_aborting,
                           ctx);
    if (rc < 0) {
        if (err_code() == ERR_ABORTED)
            job_abort_error(ctx);
        goto cleanup;
    }
    rc = -1;
    vd_made_file(made, dir, id);
    if (job_aborting(ctx)) {
        job_abort_error(ctx);
        goto fail;
    }
    if (st->file_info(c, repo, dir, id, &f) < 0)
        goto fail;
    t = job_txn_begin(ctx);
    if (!t)
        goto fail;
    if (vd_finish(ctx, t, clone_rows(ctx, t, args, &f, dir, made), made) < 0)
        goto fail;
    rc = 0;
    goto cleanup;
 fail:
    vd_made_cleanup(c, made);
 cleanup:
    storage_hv->close(c);
    return rc;
}

static const struct job_op_type op_clone = {
    "vdisk.clone", clone_run, vd_undo_created, true,
};

/* ---- vdisk.delete ---- */

static int
delete_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
            json_object *undo)
{
    const char *id = json_str(args, "id");
    AUTOPTR(json_object) json_object *row = NULL;

    if (!id) {
        err_set(ERR_INVALID, "vdisk.delete needs 'id'");
        return -1;
    }
    row = db_txn_row_get(t, VDT(), id);
    if (!row || vdisk_check_delete(NULL, t, row) < 0)
        return -1;
    if (delete_snap(t, "VirtualDisk", id, undo) < 0)
        return -1;
    if (events_add(t, SEV_INFORMATIONAL, "vdisk.deleted", id, "VirtualDisk",
                   json_str(row, "name"), job_id(ctx), job_user(ctx), NULL,
                   "%s '%s' deleted",
                   str_eq(json_str(row, "disk_type"), "VIRTUAL_CDROM")
                       ? "ISO" : "VirtualDisk",
                   json_str(row, "name")) < 0)
        return -1;
    job_set_result(ctx, "VirtualDisk", id, json_str(row, "name"));
    return 0;
}

static int
delete_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    AUTOPTR(json_object) json_object *u = json_object_new_object();
    struct db_txn *t = job_txn_begin(ctx);

    (void)undo;
    if (!t)
        return -1;
    return vd_finish(ctx, t, delete_step(ctx, t, args, u), u);
}

static const struct job_op_type op_delete = {
    "vdisk.delete", delete_run, vd_undo_restore, true,
};

/* ---- vdisk.delete_files ---- */

static int
delete_files_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    const char *repo = json_str(args, "repository");
    json_object *files = NULL;
    struct hv_conn *c;
    size_t i, n, gone = 0, left = 0;
    char last[512] = "";

    (void)undo; /* none: this is the last operation of its job */
    if (!repo || !json_object_object_get_ex(args, "files", &files) ||
        !files) {
        err_set(ERR_INVALID, "vdisk.delete_files needs 'repository' and "
                             "'files'");
        return -1;
    }
    n = json_object_array_length(files);
    if (n == 0)
        return 0;
    c = vd_repo_conn(job_db(ctx), repo, NULL, NULL);
    if (!c)
        return -1;
    for (i = 0; i < n; i++) {
        json_object *f = json_object_array_get_idx(files, i);
        const char *name = json_str(f, "name");
        enum hv_repo_dir d;

        if (vd_dir_parse(json_str(f, "dir"), &d) < 0 || !name) {
            storage_hv->close(c);
            return -1;
        }
        if (storage_hv->storage->file_delete(c, repo, d, name) == 0) {
            gone++;
            continue;
        }
        if (err_code() == ERR_NOT_FOUND) {
            log_info("job %" PRId64 ": '%s/%s' was already gone",
                     job_id(ctx), json_str(f, "dir"), name);
            err_clear();
            continue;
        }
        if (gone == 0) {
            storage_hv->close(c);
            return -1;  /* nothing deleted yet: the job's rows come back */
        }
        left++;
        snprintf(last, sizeof(last), "%s/%s: %s", json_str(f, "dir"), name,
                 err_message());
        log_warnx("job %" PRId64 ": cannot delete %s", job_id(ctx), last);
        err_clear();
    }
    storage_hv->close(c);
    if (left > 0) {
        struct db_txn *t = db_txn_begin(job_db(ctx), DB_SYNC_NORMAL);

        job_progress(ctx, "%zu file(s) could not be deleted and were left "
                          "in the repository (last: %s)", left, last);
        if (t && events_add(t, SEV_WARNING, "vdisk.file_left", repo,
                            "Repository", NULL, job_id(ctx), job_user(ctx),
                            NULL, "%zu file(s) could not be deleted from the "
                                  "repository (last: %s)", left, last) == 0)
            db_txn_commit(t);
        else
            db_txn_rollback(t);
        err_clear();
    }
    return 0;
}

static const struct job_op_type op_delete_files = {
    "vdisk.delete_files", delete_files_run, NULL, false,
};

const struct job_op_type *const job_ops_vdisk[] = {
    &op_create,
    &op_update,
    &op_clone,
    &op_delete,
    &op_delete_files,
    &job_op_import_disk,
    &job_op_import_template,
    &job_op_import_assembly,
    &job_op_assembly_create_vm,
    &job_op_template_delete_rows,
    &job_op_assembly_delete_rows,
    NULL,
};
