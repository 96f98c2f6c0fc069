/*
 * op_repository.c - repositories as job operations: repo.create,
 * repo.present/unpresent, repo.release/take, repo.refresh (disks, ISOs
 * and templates found in the repository) and repo.delete.
 *
 * DESIGN
 *
 * As every storage operation (op_storage.c's header has rows, acting,
 * undo data and events): read and check through a storage_view, talk to
 * a server the repository is presented to (or the file system's admin
 * server) through the hv layer with no transaction open, then check again
 * inside job_txn_begin(), write rows, events and the undo journal
 * (storage_int.h) and commit with sto_finish(). These operations change
 * hosts, so their undo runs hv actions and may not run after a restart
 * (undo_after_restart false), except repo.refresh.
 *
 * Threads: operations run on job workers; nothing here keeps state.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "db/db.h"
#include "events/events.h"
#include "hv/hv.h"
#include "jobs/jobs_int.h"
#include "jobs/storage.h"
#include "jobs/storage_int.h"
#include "model/model.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"

LOG_MODULE("jobs");

/* ---- repositories ---- */

static int
repo_create_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    struct db *db = job_db(ctx);
    struct storage_view rv = { db, NULL }, tv = { NULL, NULL };
    const char *id = json_str(args, "id"), *fs_id = json_str(args, "fs");
    const char *name = json_str(args, "name");
    const char *share = json_str(args, "sharePath") ? json_str(args, "sharePath")
                                                : "";
    AUTOPTR(json_object) json_object *row = NULL, *u = sto_undo_new();
    char *AUTOFREE mgr = NULL, *AUTOFREE text = NULL;
    char *AUTOFREE found = NULL;
    struct fs_access a = { 0 };
    struct hv_space sp;
    struct db_txn *t = NULL;
    json_object *ud = NULL, *h;
    bool built = false, was = false;
    int rc = -1;

    (void)undo;
    if (!id || !fs_id || !name) {
        err_set(ERR_INVALID, "repo.create needs 'id', 'fs' and 'name'");
        return -1;
    }
    if (!(mgr = sto_manager_uuid(db)) ||
        storage_check_repo_create(&rv, fs_id, share) < 0)
        return -1;
    job_progress(ctx, "connecting to the admin server");
    if (sto_fs_access_open(db, fs_id, &a) < 0)
        return -1;
    /* A repository nobody registered may sit there already. A file
     * system not found is no repository: the mount decides whether it
     * can be made (a local directory is created, an export is not). */
    if (sto_probe(a.conn, &a.fs, share, &sp, &found) < 0) {
        if (err_code() != ERR_NOT_FOUND)
            goto out;
        err_clear();
    }
    if (found) {
        char *AUTOFREE other = sto_ovsrepo_get(found, "OVS_REPO_UUID");

        err_set(ERR_EXISTS, "there is a repository at share path '%s' of "
                            "the file system already ('%s'); refresh the "
                            "file system to find it", share,
                other ? other : "?");
        goto out;
    }
    job_progress(ctx, "building the repository on server %s", a.server_id);
    text = sto_ovsrepo_new(id, mgr, name, share);
    if (sto_tmp_mount(&a, id, share, true, &was) < 0)
        goto out;
    built = true;
    rc = sto_write(a.conn, id, OVSREPO, text);
    sto_tmp_unmount(&a, id, was);
    if (rc < 0)
        goto out;
    rc = -1;
    sto_fs_access_close(&a);

    if (!(t = job_txn_begin(ctx)))
        goto out;
    tv.t = t;
    if (storage_check_repo_create(&tv, fs_id, share) < 0)
        goto fail;
    row = json_object_new_object();
    sto_set_str(row, "id", id);
    sto_set_str(row, "name", name);
    if (json_str(args, "description"))
        sto_set_str(row, "description", json_str(args, "description"));
    if (json_object_object_get_ex(args, "userData", &ud) && ud)
        sto_set_str(row, "user_data", json_to_text(ud));
    sto_set_str(row, "file_system_id", fs_id);
    sto_set_str(row, "share_path", share);
    sto_set_str(row, "manager_uuid", mgr);
    json_object_object_add(row, "refreshed", json_object_new_int(1));
    json_object_object_add(row, "refreshed_ms",
                           json_object_new_int64(time_now_ms()));
    if (db_txn_row_insert(t, sto_mt("Repository"), row) < 0)
        goto fail;
    sto_jr_created(u, "Repository", id);
    h = sto_jr_hv(u, "destroy");
    sto_set_str(h, "fs", fs_id);
    sto_set_str(h, "repo", id);
    sto_set_str(h, "share", share);
    if (sto_ev(ctx, t, SEV_INFORMATIONAL, "repository.created", "Repository", id,
           name, "repository '%s' created%s%s; present it to servers to "
           "use it", name, *share ? " at share path " : "", share) < 0)
        goto fail;
    job_set_result(ctx, "Repository", id, name);
    rc = sto_finish(ctx, t, 0, u);
    t = NULL;
    if (rc == 0)
        built = false;
    goto out;
 fail:
    db_txn_rollback(t);
 out:
    sto_fs_access_close(&a);
    if (built) {
        struct err e = *err_get();

        /* Nothing may stay of a repository whose row was not made. */
        if (sto_host_destroy(db, fs_id, id, share, NULL, true) < 0)
            log_warnx("job %" PRId64 ": cannot remove the tree of "
                      "repository '%s' it built: %s", job_id(ctx), id,
                      err_message());
        sto_err_keep(&e);
    }
    return rc;
}

static int
present_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    struct db *db = job_db(ctx);
    struct storage_view rv = { db, NULL }, tv = { NULL, NULL };
    const char *repo = json_str(args, "repo"), *server = json_str(args, "server");
    AUTOPTR(json_object) json_object *r = NULL, *s = NULL, *hold = NULL;
    AUTOPTR(json_object) json_object *m = NULL, *u = sto_undo_new();
    AUTOPTR(json_object) json_object *empty = json_object_new_object();
    char *AUTOFREE mgr = NULL, *AUTOFREE mid = NULL;
    char *AUTOFREE mname = NULL, *AUTOFREE path = NULL;
    struct hv_conn *c = NULL;
    struct db_txn *t = NULL;
    struct hv_fs fs;
    bool mounted = false;
    json_object *h;
    int rc = -1, was;

    (void)undo;
    if (!repo || !server) {
        err_set(ERR_INVALID, "repo.present needs 'repo' and 'server'");
        return -1;
    }
    if (!(mgr = sto_manager_uuid(db)) ||
        storage_check_present(&rv, repo, server, mgr) < 0 ||
        !(r = sto_sv_get(&rv, "Repository", repo)) ||
        !(s = sto_sv_get(&rv, "Server", server)) ||
        storage_fs_spec(db, json_str(r, "file_system_id"), &fs, &hold,
                        NULL) < 0)
        return -1;
    job_progress(ctx, "mounting on server %s", sto_rname(s));
    if (!(c = storage_server_open(db, server)))
        return -1;
    was = sto_mounted(c, repo);
    if (was < 0 ||
        sto_mount(c, repo, &fs, json_str(r, "share_path"), false) < 0) {
        storage_hv->close(c);
        return -1;
    }
    storage_hv->close(c);
    mounted = was == 0;

    if (!(t = job_txn_begin(ctx)))
        goto out;
    tv.t = t;
    if (storage_check_present(&tv, repo, server, mgr) < 0)
        goto fail;
    mid = sto_mount_id(server, repo);
    path = xasprintf(REPO_MOUNT_ROOT "/%s", repo);
    mname = xasprintf("%s_%s", sto_rname(s), path);
    m = json_object_new_object();
    sto_set_str(m, "id", mid);
    sto_set_str(m, "name", mname);
    sto_set_str(m, "server_id", server);
    sto_set_str(m, "file_system_id", json_str(r, "file_system_id"));
    sto_set_str(m, "repository_id", repo);
    sto_set_str(m, "absolute_path", path);
    sto_set_str(m, "share_path", json_str(r, "share_path"));
    if (sto_jr_row(t, u, "Repository", repo) < 0 ||
        db_txn_row_insert(t, sto_mt("FileSystemMount"), m) < 0)
        goto fail;
    sto_jr_created(u, "FileSystemMount", mid);
    if (mounted) {
        h = sto_jr_hv(u, "unmount");
        sto_set_str(h, "server", server);
        sto_set_str(h, "repo", repo);
    }
    if (db_txn_row_update(t, sto_mt("Repository"), repo, empty, true) < 0 ||
        sto_ev(ctx, t, SEV_INFORMATIONAL, "repository.presented", "Repository",
           repo, sto_rname(r), "repository '%s' presented to server '%s' (%s)",
           sto_rname(r), sto_rname(s), path) < 0)
        goto fail;
    job_set_result(ctx, "Repository", repo, sto_rname(r));
    rc = sto_finish(ctx, t, 0, u);
    t = NULL;
    if (rc == 0)
        mounted = false;
    goto out;
 fail:
    db_txn_rollback(t);
 out:
    if (mounted) {
        struct err e = *err_get();

        if (sto_host_present(db, server, repo, false) < 0)
            log_warnx("job %" PRId64 ": cannot unmount repository '%s' "
                      "again: %s", job_id(ctx), repo, err_message());
        sto_err_keep(&e);
    }
    return rc;
}

static int
unpresent_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    struct db *db = job_db(ctx);
    struct storage_view rv = { db, NULL }, tv = { NULL, NULL };
    const char *repo = json_str(args, "repo"), *server = json_str(args, "server");
    AUTOPTR(json_object) json_object *r = NULL, *s = NULL;
    AUTOPTR(json_object) json_object *u = sto_undo_new();
    AUTOPTR(json_object) json_object *empty = json_object_new_object();
    char *AUTOFREE mid = NULL;
    struct db_txn *t = NULL;
    bool unmounted = false, reachable;
    json_object *h;
    int rc = -1;

    (void)undo;
    if (!repo || !server) {
        err_set(ERR_INVALID, "repo.unpresent needs 'repo' and 'server'");
        return -1;
    }
    if (storage_check_unpresent(&rv, repo, server) < 0 ||
        !(r = sto_sv_get(&rv, "Repository", repo)) ||
        !(s = sto_sv_get(&rv, "Server", server)))
        return -1;
    /* A server that is down keeps its mount until it comes back; the
     * Manager's record goes now (with a WARNING), or the server could
     * never be deleted. */
    reachable = str_eq(json_str(s, "run_state"), "RUNNING");
    if (reachable) {
        job_progress(ctx, "unmounting from server %s", sto_rname(s));
        if (sto_host_present(db, server, repo, false) < 0)
            return -1;
        unmounted = true;
    }
    if (!(t = job_txn_begin(ctx)))
        goto out;
    tv.t = t;
    mid = sto_mount_id(server, repo);
    if (storage_check_unpresent(&tv, repo, server) < 0 ||
        sto_jr_row(t, u, "Repository", repo) < 0 ||
        sto_jr_row(t, u, "FileSystemMount", mid) < 0 ||
        db_txn_row_delete(t, sto_mt("FileSystemMount"), mid) < 0 ||
        db_txn_row_update(t, sto_mt("Repository"), repo, empty, true) < 0)
        goto fail;
    if (unmounted) {
        h = sto_jr_hv(u, "mount");
        sto_set_str(h, "server", server);
        sto_set_str(h, "repo", repo);
    }
    if (sto_ev(ctx, t, reachable ? SEV_INFORMATIONAL : SEV_WARNING,
           "repository.unpresented", "Repository", repo, sto_rname(r),
           reachable ? "repository '%s' unpresented from server '%s'"
                     : "repository '%s' unpresented from server '%s', "
                       "which is not running: it may still have it mounted",
           sto_rname(r), sto_rname(s)) < 0)
        goto fail;
    job_set_result(ctx, "Repository", repo, sto_rname(r));
    rc = sto_finish(ctx, t, 0, u);
    t = NULL;
    if (rc == 0)
        unmounted = false;
    goto out;
 fail:
    db_txn_rollback(t);
 out:
    if (unmounted) {
        struct err e = *err_get();

        if (sto_host_present(db, server, repo, true) < 0)
            log_warnx("job %" PRId64 ": cannot mount repository '%s' "
                      "again: %s", job_id(ctx), repo, err_message());
        sto_err_keep(&e);
    }
    return rc;
}

/*
 * releaseOwnership (@take false) and takeOwnership: .ovsrepo's
 * OVS_REPO_MGR_UUID through the file system's admin server, then
 * managerUuid.
 */
static int
owner_run(struct job_ctx *ctx, json_object *args, bool take)
{
    struct db *db = job_db(ctx);
    struct storage_view rv = { db, NULL }, tv = { NULL, NULL };
    const char *repo = json_str(args, "repo"), *verb = take ? "take" : "release";
    AUTOPTR(json_object) json_object *r = NULL, *cols = NULL;
    AUTOPTR(json_object) json_object *u = sto_undo_new();
    char *AUTOFREE mgr = NULL, *AUTOFREE old = NULL, *AUTOFREE text = NULL;
    const char *fs_id, *share;
    struct fs_access a = { 0 };
    struct db_txn *t = NULL;
    bool written = false, was;
    json_object *h;
    int rc = -1;

    if (!repo) {
        err_set(ERR_INVALID, "repo.%s needs 'repo'", verb);
        return -1;
    }
    if (!(mgr = sto_manager_uuid(db)) ||
        (take ? storage_check_take(&rv, repo, mgr)
              : storage_check_release(&rv, repo, mgr)) < 0 ||
        !(r = sto_sv_get(&rv, "Repository", repo)))
        return -1;
    fs_id = json_str(r, "file_system_id");
    share = json_str(r, "share_path") ? json_str(r, "share_path") : "";
    job_progress(ctx, "rewriting the repository's .ovsrepo");
    if (sto_fs_access_open(db, fs_id, &a) < 0)
        return -1;
    if (sto_tmp_mount(&a, repo, share, false, &was) < 0)
        goto out;
    if (sto_read(a.conn, repo, OVSREPO, &old) < 0) {
        if (err_code() != ERR_NOT_FOUND) {
            sto_tmp_unmount(&a, repo, was);
            goto out;
        }
        err_clear();
        /* None: written afresh; the undo writes one naming the owner
         * the row named. */
        old = sto_ovsrepo_new(repo, json_str(r, "manager_uuid"), sto_rname(r), share);
        text = sto_ovsrepo_new(repo, take ? mgr : "", sto_rname(r), share);
    } else {
        text = sto_ovsrepo_set(old, "OVS_REPO_MGR_UUID", take ? mgr : "");
    }
    rc = sto_write(a.conn, repo, OVSREPO, text);
    sto_tmp_unmount(&a, repo, was);
    if (rc < 0)
        goto out;
    rc = -1;
    written = true;
    sto_fs_access_close(&a);

    if (!(t = job_txn_begin(ctx)))
        goto out;
    tv.t = t;
    if ((take ? storage_check_take(&tv, repo, mgr)
              : storage_check_release(&tv, repo, mgr)) < 0 ||
        sto_jr_row(t, u, "Repository", repo) < 0)
        goto fail;
    cols = json_object_new_object();
    sto_set_str(cols, "manager_uuid", take ? mgr : NULL);
    if (db_txn_row_update(t, sto_mt("Repository"), repo, cols, true) < 0)
        goto fail;
    h = sto_jr_hv(u, "ovsrepo");
    sto_set_str(h, "fs", fs_id);
    sto_set_str(h, "repo", repo);
    sto_set_str(h, "share", share);
    sto_set_str(h, "text", old);
    if (sto_ev(ctx, t, SEV_INFORMATIONAL,
           take ? "repository.taken" : "repository.released", "Repository",
           repo, sto_rname(r),
           take ? "this Manager took ownership of repository '%s'"
                : "this Manager released ownership of repository '%s': "
                  "another Manager may take it",
           sto_rname(r)) < 0)
        goto fail;
    job_set_result(ctx, "Repository", repo, sto_rname(r));
    rc = sto_finish(ctx, t, 0, u);
    t = NULL;
    if (rc == 0)
        written = false;
    goto out;
 fail:
    db_txn_rollback(t);
 out:
    sto_fs_access_close(&a);
    if (written) {
        struct err e = *err_get();

        if (sto_host_ovsrepo(db, fs_id, repo, share, old, NULL) < 0)
            log_warnx("job %" PRId64 ": cannot write back the .ovsrepo of "
                      "repository '%s': %s", job_id(ctx), repo,
                      err_message());
        sto_err_keep(&e);
    }
    return rc;
}

static int
release_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    (void)undo;
    return owner_run(ctx, args, false);
}

static int
take_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    (void)undo;
    return owner_run(ctx, args, true);
}

/* ---- repository refresh ---- */

/* The directories refresh looks at, and the disk type of their files. */
static const struct {
    enum hv_repo_dir dir;
    const char *disk_type;
    const char *name;
} disk_dirs[] = {
    { HV_DIR_VIRTUAL_DISKS, "VIRTUAL_DISK", "VirtualDisks" },
    { HV_DIR_ISOS, "VIRTUAL_CDROM", "ISOs" },
};
#define NDISK_DIRS (sizeof(disk_dirs) / sizeof(disk_dirs[0]))

/* One directory's files as listed. */
struct listing {
    struct hv_file *files;
    size_t n;
};

static const struct hv_file *
listing_find(const struct listing *l, const char *name)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        if (strcmp(l->files[i].name, name) == 0)
            return &l->files[i];
    }
    return NULL;
}

/* Disk @id is used: mapped by a VM, or the backing of another disk. */
static int
disk_used(const struct storage_view *v, const char *id)
{
    char **ids = NULL;
    size_t n = 0;

    if (sto_sv_ids(v, "VmDiskMapping", "virtual_disk_id", id, &ids, &n) < 0)
        return -1;
    sto_ids_free(ids, n);
    if (n > 0)
        return 1;
    if (sto_sv_ids(v, "VirtualDisk", "backing_id", id, &ids, &n) < 0)
        return -1;
    sto_ids_free(ids, n);
    return n > 0;
}

/* The columns of a VirtualDisk that a file's facts give (@iso: a file
 * of ISOs/, "iso" unless the host tells otherwise). */
static json_object *
disk_cols(const struct hv_file *f, bool iso)
{
    json_object *c = json_object_new_object();

    json_object_object_add(c, "size", json_object_new_int64(
                               (int64_t)f->capacity_bytes));
    json_object_object_add(c, "on_disk_size", json_object_new_int64(
                               (int64_t)f->allocation_bytes));
    sto_set_str(c, "format", f->format[0] ? f->format : iso ? "iso" : "raw");
    return c;
}

/* Write the listing @l of directory @k of repository @r (a row). */
static int
refresh_dir(struct job_ctx *ctx, struct db_txn *t, json_object *u,
            json_object *r, size_t k, const struct listing *l)
{
    const char *repo = json_str(r, "id");
    size_t i;

    for (i = 0; i < l->n; i++) {
        const struct hv_file *f = &l->files[i];
        AUTOPTR(json_object) json_object *row = NULL,
            *cols = disk_cols(f, disk_dirs[k].dir == HV_DIR_ISOS);
        struct db_common c = { 0 };

        row = db_txn_row_get(t, sto_mt("VirtualDisk"), f->name);
        if (row && str_eq(json_str(row, "repository_id"), repo)) {
            if (sto_jint(row, "size", -1) == sto_jint(cols, "size", 0) &&
                sto_jint(row, "on_disk_size", -1) ==
                    sto_jint(cols, "on_disk_size", 0) &&
                str_eq(json_str(row, "format"), json_str(cols, "format")))
                continue;
            if (sto_jr_row(t, u, "VirtualDisk", f->name) < 0 ||
                db_txn_row_update(t, sto_mt("VirtualDisk"), f->name, cols,
                                  true) < 0)
                return -1;
            continue;
        }
        if (!row && err_code() != ERR_NOT_FOUND)
            return -1;
        err_clear();
        if (db_txn_object_common(t, f->name, &c) == 0) {
            int e = sto_ev(ctx, t, SEV_WARNING, "repository.name_clash",
                       "Repository", repo, sto_rname(r), "file '%s/%s' of "
                       "repository '%s' is not listed: its name is the id "
                       "of a %s this Manager has elsewhere",
                       disk_dirs[k].name, f->name, sto_rname(r),
                       c.type ? c.type : "?");

            db_common_clear(&c);
            if (e < 0)
                return -1;
            continue;
        }
        err_clear();
        sto_set_str(cols, "id", f->name);
        sto_set_str(cols, "name", f->name);
        sto_set_str(cols, "repository_id", repo);
        sto_set_str(cols, "disk_type", disk_dirs[k].disk_type);
        {
            /* As the disk jobs write it: relative to the repository. */
            char *AUTOFREE path = xasprintf("/%s/%s", disk_dirs[k].name,
                                            f->name);

            sto_set_str(cols, "path", path);
        }
        json_object_object_add(cols, "sparse", json_object_new_int(
                                   f->allocation_bytes < f->capacity_bytes));
        if (db_txn_row_insert(t, sto_mt("VirtualDisk"), cols) < 0)
            return -1;
        sto_jr_created(u, "VirtualDisk", f->name);
        if (sto_ev(ctx, t, SEV_INFORMATIONAL, "virtualdisk.discovered",
               "VirtualDisk", f->name, f->name, "file '%s/%s' of "
               "repository '%s' found", disk_dirs[k].name, f->name,
               sto_rname(r)) < 0)
            return -1;
    }
    /* Thin clones: a qcow2 file naming another disk of the same
     * directory as its backing file. */
    for (i = 0; i < l->n; i++) {
        const struct hv_file *f = &l->files[i];
        AUTOPTR(json_object) json_object *row = NULL, *b = NULL;
        AUTOPTR(json_object) json_object *cols = NULL;

        if (!f->backing[0])
            continue;
        row = db_txn_row_get(t, sto_mt("VirtualDisk"), f->name);
        b = db_txn_row_get(t, sto_mt("VirtualDisk"), f->backing);
        err_clear();
        if (!row || !b || !str_eq(json_str(row, "repository_id"), repo) ||
            !str_eq(json_str(b, "repository_id"), repo) ||
            str_eq(json_str(row, "backing_id"), f->backing))
            continue;
        cols = json_object_new_object();
        sto_set_str(cols, "backing_id", f->backing);
        if (sto_jr_row(t, u, "VirtualDisk", f->name) < 0 ||
            db_txn_row_update(t, sto_mt("VirtualDisk"), f->name, cols, true) < 0)
            return -1;
    }
    return 0;
}

/* The disks of @r whose file is gone: deleted when unused, else a
 * WARNING. Decided for all first, so a disk backing one that goes stays
 * until the next refresh (and the undo puts rows back parents first). */
static int
refresh_vanished(struct job_ctx *ctx, struct db_txn *t, json_object *u,
                 json_object *r, const struct listing *lists)
{
    struct storage_view tv = { NULL, t };
    const char *repo = json_str(r, "id");
    char **ids = NULL;
    size_t n = 0, i, k;
    int *fate = NULL, rc = -1;

    if (sto_sv_ids(&tv, "VirtualDisk", "repository_id", repo, &ids, &n) < 0)
        return -1;
    fate = xcalloc(n + 1, sizeof(*fate));
    for (i = 0; i < n; i++) {
        AUTOPTR(json_object) json_object *d = sto_sv_get(&tv, "VirtualDisk",
                                                     ids[i]);
        bool present = false;

        if (!d)
            goto out;
        for (k = 0; k < NDISK_DIRS; k++) {
            if (str_eq(json_str(d, "disk_type"), disk_dirs[k].disk_type) &&
                listing_find(&lists[k], ids[i]))
                present = true;
        }
        if (present)
            continue;
        fate[i] = disk_used(&tv, ids[i]);
        if (fate[i] < 0)
            goto out;
        fate[i] = fate[i] ? 2 : 1;    /* 1: delete, 2: warn */
    }
    for (i = 0; i < n; i++) {
        AUTOPTR(json_object) json_object *d = NULL;

        if (!fate[i])
            continue;
        if (!(d = sto_sv_get(&tv, "VirtualDisk", ids[i])))
            goto out;
        if (fate[i] == 2) {
            if (sto_ev(ctx, t, SEV_WARNING, "virtualdisk.missing", "VirtualDisk",
                   ids[i], sto_rname(d), "the file of virtual disk '%s' is "
                   "missing from repository '%s'; it is kept while it is "
                   "in use", sto_rname(d), sto_rname(r)) < 0)
                goto out;
            continue;
        }
        if (sto_jr_row(t, u, "VirtualDisk", ids[i]) < 0 ||
            db_txn_row_delete(t, sto_mt("VirtualDisk"), ids[i]) < 0 ||
            sto_ev(ctx, t, SEV_INFORMATIONAL, "virtualdisk.deleted",
               "VirtualDisk", ids[i], sto_rname(d), "the file of virtual disk "
               "'%s' is gone from repository '%s': removed", sto_rname(d),
               sto_rname(r)) < 0)
            goto out;
    }
    rc = 0;
 out:
    xfree(fate);
    sto_ids_free(ids, n);
    return rc;
}

/* A template's vm.cfg found by a refresh: its Vm id and text. */
struct tmpl_file {
    char *vm_id;
    char *text;
};

static void
tmpl_files_free(struct tmpl_file *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        xfree(v[i].vm_id);
        xfree(v[i].text);
    }
    xfree(v);
}

/*
 * The Templates/<vm id>.vm.cfg files of @repo that no Vm row has yet,
 * read through @c; *all receives every template id listed (for the
 * vanished ones).
 */
static int
list_templates(struct db *db, struct hv_conn *c, const char *repo,
               struct tmpl_file **out, size_t *nout, char ***all,
               size_t *nall)
{
    size_t slen = strlen(STORAGE_TEMPLATE_SUFFIX), i, n = 0;
    struct hv_file *files = NULL;
    struct tmpl_file *v = NULL;
    size_t nf = 0;

    *out = NULL;
    *nout = 0;
    *all = NULL;
    *nall = 0;
    if (sto_list(c, repo, HV_DIR_TEMPLATES, &files, &nf) < 0)
        return -1;
    v = xcalloc(nf + 1, sizeof(*v));
    *all = xcalloc(nf + 1, sizeof(**all));
    for (i = 0; i < nf; i++) {
        size_t len = strlen(files[i].name);
        char *id;
        json_object *row;

        if (len <= slen ||
            strcmp(files[i].name + len - slen, STORAGE_TEMPLATE_SUFFIX) != 0)
            continue;
        id = xasprintf("%.*s", (int)(len - slen), files[i].name);
        (*all)[(*nall)++] = xstrdup(id);
        row = db_row_get(db, sto_mt("Vm"), id);
        if (row || err_code() != ERR_NOT_FOUND) {
            json_object_put(row);
            err_clear();
            xfree(id);
            continue;
        }
        err_clear();
        if (sto_read_dir(c, repo, HV_DIR_TEMPLATES, files[i].name,
                        &v[n].text) < 0) {
            log_warnx("repository '%s': cannot read template file '%s': %s",
                      repo, files[i].name, err_message());
            err_clear();
            xfree(id);
            continue;
        }
        v[n++].vm_id = id;
    }
    xfree(files);
    *out = v;
    *nout = n;
    return 0;
}

/* New templates from their vm.cfg (storage_template_from_cfg()), and
 * templates whose vm.cfg vanished removed. */
static int
refresh_templates(struct job_ctx *ctx, struct db_txn *t, json_object *u,
                  json_object *r, struct tmpl_file *tf, size_t ntf,
                  char *const *all, size_t nall)
{
    struct storage_view tv = { NULL, t };
    const char *repo = json_str(r, "id");
    char **ids = NULL, **maps = NULL;
    size_t n = 0, nm = 0, i, k;
    int rc = -1;

    for (i = 0; i < ntf; i++) {
        AUTOPTR(json_object) json_object *rows = json_object_new_array();
        AUTOPTR(json_object) json_object *notes = NULL;
        char *AUTOFREE vm_name = NULL;
        struct db_common c = { 0 };

        if (db_txn_object_common(t, tf[i].vm_id, &c) == 0) {
            db_common_clear(&c);
            continue;       /* made meanwhile, or another object's id */
        }
        err_clear();
        if (storage_template_from_cfg(t, repo, tf[i].vm_id, tf[i].text,
                                      strlen(tf[i].text), NULL, NULL, rows,
                                      &vm_name, &notes) < 0) {
            if (err_code() != ERR_INVALID && err_code() != ERR_EXISTS)
                return -1;
            if (sto_ev(ctx, t, SEV_WARNING, "repository.bad_template",
                   "Repository", repo, sto_rname(r), "template file '%s%s' of "
                   "repository '%s' is not listed: %s", tf[i].vm_id,
                   STORAGE_TEMPLATE_SUFFIX, sto_rname(r), err_message()) < 0)
                return -1;
            err_clear();
            continue;
        }
        for (k = 0; k < json_object_array_length(rows); k++) {
            json_object *e = json_object_array_get_idx(rows, k);

            if (json_str(e, "type") && json_str(e, "id"))
                sto_jr_created(u, json_str(e, "type"), json_str(e, "id"));
        }
        if (sto_ev(ctx, t, SEV_INFORMATIONAL, "vm.discovered", "Vm", tf[i].vm_id,
               vm_name ? vm_name : tf[i].vm_id, "template '%s' found in "
               "repository '%s'", vm_name ? vm_name : tf[i].vm_id,
               sto_rname(r)) < 0)
            return -1;
    }
    /* Templates whose vm.cfg is gone. */
    if (sto_sv_ids(&tv, "Vm", "repository_id", repo, &ids, &n) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        AUTOPTR(json_object) json_object *vm = sto_sv_get(&tv, "Vm", ids[i]);
        bool listed = false;

        if (!vm)
            goto out;
        if (!str_eq(json_str(vm, "run_state"), "TEMPLATE"))
            continue;
        for (k = 0; k < nall && !listed; k++)
            listed = strcmp(all[k], ids[i]) == 0;
        if (listed)
            continue;
        if (sto_jr_row(t, u, "Vm", ids[i]) < 0 ||
            sto_sv_ids(&tv, "VmDiskMapping", "vm_id", ids[i], &maps, &nm) < 0)
            goto out;
        for (k = 0; k < nm; k++) {
            if (sto_jr_row(t, u, "VmDiskMapping", maps[k]) < 0)
                goto out;
        }
        sto_ids_free(maps, nm);
        maps = NULL;
        nm = 0;
        if (db_txn_row_delete(t, sto_mt("Vm"), ids[i]) < 0 ||
            sto_ev(ctx, t, SEV_INFORMATIONAL, "vm.deleted", "Vm", ids[i],
               sto_rname(vm), "the vm.cfg of template '%s' is gone from "
               "repository '%s': removed", sto_rname(vm), sto_rname(r)) < 0)
            goto out;
    }
    rc = 0;
 out:
    sto_ids_free(maps, nm);
    sto_ids_free(ids, n);
    return rc;
}

static int
repo_refresh_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    struct db *db = job_db(ctx);
    const char *repo = json_str(args, "repo");
    AUTOPTR(json_object) json_object *r = NULL, *cols = NULL;
    AUTOPTR(json_object) json_object *u = sto_undo_new();
    char *AUTOFREE sid = NULL;
    struct listing lists[NDISK_DIRS];
    struct storage_view tv = { NULL, NULL };
    struct tmpl_file *tf = NULL;
    char **all = NULL, sname[256];
    size_t ntf = 0, nall = 0;
    struct hv_conn *c;
    struct db_txn *t = NULL;
    size_t k;
    int rc = -1;

    (void)undo;
    memset(lists, 0, sizeof(lists));
    if (!repo) {
        err_set(ERR_INVALID, "repo.refresh needs 'repo'");
        return -1;
    }
    if (!(r = db_row_get(db, sto_mt("Repository"), repo)))
        return -1;
    job_progress(ctx, "listing repository %s", sto_rname(r));
    if (!(c = storage_repo_open(db, repo, json_str(args, "server"), &sid)))
        return -1;
    for (k = 0; k < NDISK_DIRS; k++) {
        if (sto_list(c, repo, disk_dirs[k].dir, &lists[k].files,
                    &lists[k].n) < 0) {
            storage_hv->close(c);
            goto out;
        }
    }
    if (list_templates(db, c, repo, &tf, &ntf, &all, &nall) < 0) {
        storage_hv->close(c);
        goto out;
    }
    storage_hv->close(c);
    if (!(t = job_txn_begin(ctx)))
        goto out;
    tv.t = t;
    json_object_put(r);
    if (!(r = db_txn_row_get(t, sto_mt("Repository"), repo)))
        goto fail;
    for (k = 0; k < NDISK_DIRS; k++) {
        if (refresh_dir(ctx, t, u, r, k, &lists[k]) < 0)
            goto fail;
    }
    /* Disks first: templates map them. */
    if (refresh_vanished(ctx, t, u, r, lists) < 0 ||
        refresh_templates(ctx, t, u, r, tf, ntf, all, nall) < 0)
        goto fail;
    cols = json_object_new_object();
    json_object_object_add(cols, "refreshed", json_object_new_int(1));
    json_object_object_add(cols, "refreshed_ms",
                           json_object_new_int64(time_now_ms()));
    if (sto_jr_row(t, u, "Repository", repo) < 0 ||
        db_txn_row_update(t, sto_mt("Repository"), repo, cols, true) < 0 ||
        sto_ev(ctx, t, SEV_INFORMATIONAL, "repository.refreshed", "Repository",
           repo, sto_rname(r), "repository '%s' refreshed through server '%s'",
           sto_rname(r), sto_sv_name(&tv, "Server", sid, sname, sizeof(sname))) < 0)
        goto fail;
    job_set_result(ctx, "Repository", repo, sto_rname(r));
    rc = sto_finish(ctx, t, 0, u);
    goto out;
 fail:
    db_txn_rollback(t);
 out:
    for (k = 0; k < NDISK_DIRS; k++)
        xfree(lists[k].files);
    tmpl_files_free(tf, ntf);
    sto_ids_free(all, nall);
    return rc;
}

/* ---- repository delete ---- */

/*
 * Journal every row of repository @repo's contents, parents first
 * (assemblies and their parts, disks with backing disks before their
 * overlays, VMs and their disk mappings), and delete its VMs (the rest
 * goes with the repository by cascade).
 */
static int
delete_contents(struct db_txn *t, json_object *u, const char *repo)
{
    struct storage_view tv = { NULL, t };
    char **ids = NULL, **sub = NULL;
    size_t n = 0, ns = 0, i, k, done;
    bool *taken = NULL;
    int rc = -1;

    if (sto_sv_ids(&tv, "Assembly", "repository_id", repo, &ids, &n) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        static const char *const parts[] = { "AssemblyVm",
                                             "AssemblyVirtualDisk" };

        if (sto_jr_row(t, u, "Assembly", ids[i]) < 0)
            goto out;
        for (k = 0; k < 2; k++) {
            size_t j;

            if (sto_sv_ids(&tv, parts[k], "assembly_id", ids[i], &sub, &ns) < 0)
                goto out;
            for (j = 0; j < ns; j++) {
                if (sto_jr_row(t, u, parts[k], sub[j]) < 0)
                    goto out;
            }
            sto_ids_free(sub, ns);
            sub = NULL;
            ns = 0;
        }
    }
    sto_ids_free(ids, n);
    ids = NULL;
    n = 0;
    /* Disks: repeatedly those whose backing disk is recorded or none. */
    if (sto_sv_ids(&tv, "VirtualDisk", "repository_id", repo, &ids, &n) < 0)
        goto out;
    taken = xcalloc(n + 1, sizeof(*taken));
    for (done = 0; done < n;) {
        size_t before = done;

        for (i = 0; i < n; i++) {
            AUTOPTR(json_object) json_object *d = NULL;
            const char *b;
            bool ready = true;

            if (taken[i])
                continue;
            if (!(d = sto_sv_get(&tv, "VirtualDisk", ids[i])))
                goto out;
            b = json_str(d, "backing_id");
            for (k = 0; b && k < n; k++) {
                if (!taken[k] && k != i && strcmp(ids[k], b) == 0)
                    ready = false;
            }
            if (!ready)
                continue;
            if (sto_jr_row(t, u, "VirtualDisk", ids[i]) < 0)
                goto out;
            taken[i] = true;
            done++;
        }
        if (done == before) {
            err_set(ERR_INTERNAL, "the disks of repository '%s' back each "
                                  "other in a circle", repo);
            goto out;
        }
    }
    sto_ids_free(ids, n);
    ids = NULL;
    n = 0;
    if (sto_sv_ids(&tv, "Vm", "repository_id", repo, &ids, &n) < 0)
        goto out;
    for (i = 0; i < n; i++) {
        size_t j;

        if (sto_jr_row(t, u, "Vm", ids[i]) < 0 ||
            sto_sv_ids(&tv, "VmDiskMapping", "vm_id", ids[i], &sub, &ns) < 0)
            goto out;
        for (j = 0; j < ns; j++) {
            if (sto_jr_row(t, u, "VmDiskMapping", sub[j]) < 0)
                goto out;
        }
        sto_ids_free(sub, ns);
        sub = NULL;
        ns = 0;
        if (db_txn_row_delete(t, sto_mt("Vm"), ids[i]) < 0)
            goto out;
    }
    rc = 0;
 out:
    xfree(taken);
    sto_ids_free(sub, ns);
    sto_ids_free(ids, n);
    return rc;
}

static int
repo_delete_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    struct db *db = job_db(ctx);
    struct storage_view rv = { db, NULL }, tv = { NULL, NULL };
    const char *repo = json_str(args, "repo"), *fs_id, *share;
    AUTOPTR(json_object) json_object *r = NULL, *u = sto_undo_new();
    char *AUTOFREE mgr = NULL, *AUTOFREE text = NULL;
    struct db_txn *t = NULL;
    bool owned, destroyed = false;
    json_object *h;
    int rc = -1;

    (void)undo;
    if (!repo) {
        err_set(ERR_INVALID, "repo.delete needs 'repo'");
        return -1;
    }
    if (!(mgr = sto_manager_uuid(db)) ||
        storage_check_repo_delete(&rv, repo, mgr) < 0 ||
        !(r = sto_sv_get(&rv, "Repository", repo)))
        return -1;
    owned = str_eq(json_str(r, "manager_uuid"), mgr);
    fs_id = json_str(r, "file_system_id");
    share = json_str(r, "share_path") ? json_str(r, "share_path") : "";
    if (owned) {
        job_progress(ctx, "removing the repository's files");
        if (sto_host_destroy(db, fs_id, repo, share, &text, true) < 0)
            return -1;
        destroyed = true;
    }
    if (!(t = job_txn_begin(ctx)))
        goto out;
    tv.t = t;
    if (storage_check_repo_delete(&tv, repo, mgr) < 0 ||
        sto_jr_row(t, u, "Repository", repo) < 0 ||
        (!owned && delete_contents(t, u, repo) < 0) ||
        db_txn_row_delete(t, sto_mt("Repository"), repo) < 0)
        goto fail;
    if (owned) {
        h = sto_jr_hv(u, "build");
        sto_set_str(h, "fs", fs_id);
        sto_set_str(h, "repo", repo);
        sto_set_str(h, "share", share);
        if (text) {
            sto_set_str(h, "text", text);
        } else {
            char *AUTOFREE fresh = sto_ovsrepo_new(repo, mgr, sto_rname(r), share);

            sto_set_str(h, "text", fresh);
        }
    }
    if (sto_ev(ctx, t, SEV_INFORMATIONAL, "repository.deleted", "Repository",
           repo, sto_rname(r),
           owned ? "repository '%s' deleted with its files"
                 : "repository '%s' removed from this Manager; it is not "
                   "owned by this Manager, so its files stay",
           sto_rname(r)) < 0)
        goto fail;
    job_set_result(ctx, "Repository", repo, sto_rname(r));
    rc = sto_finish(ctx, t, 0, u);
    t = NULL;
    if (rc == 0)
        destroyed = false;
    goto out;
 fail:
    db_txn_rollback(t);
 out:
    if (destroyed) {
        struct err e = *err_get();
        char *AUTOFREE fresh = text ? NULL
                                    : sto_ovsrepo_new(repo, mgr, sto_rname(r), share);

        if (sto_host_build(db, fs_id, repo, share, text ? text : fresh) < 0)
            log_warnx("job %" PRId64 ": cannot build repository '%s' "
                      "again: %s", job_id(ctx), repo, err_message());
        sto_err_keep(&e);
    }
    return rc;
}

/* ---- the operations (op_storage.c lists them) ---- */

/* These undo on hosts too: not after a restart (the host may have moved
 * on; the job says so and ends FAILURE). */
const struct job_op_type op_repo_create = {
    "repo.create", repo_create_run, storage_undo, false,
};
const struct job_op_type op_repo_present = {
    "repo.present", present_run, storage_undo, false,
};
const struct job_op_type op_repo_unpresent = {
    "repo.unpresent", unpresent_run, storage_undo, false,
};
const struct job_op_type op_repo_release = {
    "repo.release", release_run, storage_undo, false,
};
const struct job_op_type op_repo_take = {
    "repo.take", take_run, storage_undo, false,
};
const struct job_op_type op_repo_refresh = {
    "repo.refresh", repo_refresh_run, storage_undo, true,
};
const struct job_op_type op_repo_delete = {
    "repo.delete", repo_delete_run, storage_undo, false,
};
