/*
 * op_fileserver.c - file servers and file systems as job operations
 * (fileserver.create/update/refresh/delete, filesystem.refresh), probing
 * file systems and writing what was found, and the storage side of
 * server discovery and server delete (storage.h: the server's iSCSI
 * initiator, local storage sync, snapshot and restore).
 *
 * DESIGN
 *
 * As every storage operation (op_storage.c's header has rows, acting,
 * undo data and events): read and check through a storage_view, talk to
 * one server through the hv layer with no transaction open, then check
 * again inside job_txn_begin(), write rows, events and the undo journal
 * (storage_int.h) and commit with sto_finish(). A refresh probes every file
 * system first (probe_all(), no transaction) and writes what it found in
 * one transaction (gather(), apply_probe()).
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
#include "util/str.h"

/* ---- probing file systems, and writing what was found ---- */

/* PROBE_KEEP: a local directory the host does not have yet (it is
 * made when a repository is built there): nothing to write. */
enum probe_state { PROBE_OK, PROBE_MISSING, PROBE_FAILED, PROBE_KEEP };

/* One file system as a probe found it (before the transaction). */
struct probe {
    char *path;            /* export path or directory */
    char *fs_id;           /* its FileSystem, or NULL (new) */
    enum probe_state state;
    struct hv_space space;
    char *ovsrepo;         /* .ovsrepo at its root, or NULL */
    char *error;           /* PROBE_FAILED: why */
    bool ocfs2;            /* an OCFS2 file system on a LUN (path: the
                              LUN's device) */
};

static void
probes_free(struct probe *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        xfree(p[i].path);
        xfree(p[i].fs_id);
        xfree(p[i].ovsrepo);
        xfree(p[i].error);
    }
    xfree(p);
}

/* Probe every PROBE_OK entry of @p through @c (file server @fsrv). */
static void
probe_all(struct job_ctx *ctx, struct hv_conn *c, json_object *fsrv,
          struct probe *p, size_t n)
{
    bool local = str_eq(json_str(fsrv, "file_server_type"), "LOCAL");
    struct hv_fs fs;
    size_t i;

    for (i = 0; i < n; i++) {
        if (p[i].state != PROBE_OK)
            continue;
        job_progress(ctx, "probing %s", p[i].path);
        fs.kind = p[i].ocfs2 ? "ocfs2" : local ? "local" : "nfs";
        fs.host = local ? NULL : json_str(fsrv, "access_host");
        fs.path = p[i].path;
        if (sto_probe(c, &fs, "", &p[i].space, &p[i].ovsrepo) == 0)
            continue;
        if (err_code() == ERR_NOT_FOUND) {
            /* A local directory may come later; a LUN's file system
             * that is gone is gone. */
            p[i].state = local && !p[i].ocfs2 ? PROBE_KEEP : PROBE_MISSING;
        } else {
            p[i].state = PROBE_FAILED;
            p[i].error = xstrdup(err_message());
        }
        err_clear();
    }
}

/* True when file system @fs_id is used: a repository on it, or a pool's
 * file system. -1 on error. */
static int
fs_used(const struct storage_view *v, const char *fs_id)
{
    char **ids = NULL, pool[256];
    size_t n = 0;
    int p;

    if (sto_sv_ids(v, "Repository", "file_system_id", fs_id, &ids, &n) < 0)
        return -1;
    sto_ids_free(ids, n);
    if (n > 0)
        return 1;
    p = sto_pool_of_fs(v, fs_id, pool, sizeof(pool));
    return p;
}

/*
 * A repository found at the root of file system @fs (a row) with
 * .ovsrepo @text: a Repository row unless the Manager knows it. The
 * owner is the one .ovsrepo names (NULL when none): this Manager's when
 * it lost the repository from its database, another's (or none) for a
 * repository to take over.
 */
static int
discover_repo(struct job_ctx *ctx, struct db_txn *t, json_object *undo,
              json_object *fs, const char *text, const char *mgr)
{
    struct storage_view v = { NULL, t };
    char *AUTOFREE id = sto_ovsrepo_get(text, "OVS_REPO_UUID");
    char *AUTOFREE owner = sto_ovsrepo_get(text, "OVS_REPO_MGR_UUID");
    char *AUTOFREE alias = sto_ovsrepo_get(text, "OVS_REPO_ALIAS");
    AUTOPTR(json_object) json_object *row = NULL;
    const char *fs_id = json_str(fs, "id");
    char **ids = NULL;
    size_t n = 0, i;
    int e;

    if (!id || !sto_repo_id_ok(id))
        return sto_ev(ctx, t, SEV_WARNING, "filesystem.bad_repository",
                  "FileSystem", fs_id, sto_rname(fs), "file system '%s' holds a "
                  ".ovsrepo without a usable OVS_REPO_UUID ('%.64s'): "
                  "ignored", sto_rname(fs), id ? id : "");
    e = sto_sv_exists(&v, "Repository", id);
    if (e != 0)
        return e < 0 ? -1 : 0;  /* known: nothing to do */
    /* The id may be some other object's. */
    {
        struct db_common c = { 0 };

        if (db_txn_object_common(t, id, &c) == 0) {
            db_common_clear(&c);
            return sto_ev(ctx, t, SEV_WARNING, "filesystem.bad_repository",
                      "FileSystem", fs_id, sto_rname(fs), "file system '%s' "
                      "holds repository '%s', an id this Manager uses for "
                      "a %s: ignored", sto_rname(fs), id, c.type ? c.type : "?");
        }
        err_clear();
    }
    if (sto_sv_ids(&v, "Repository", "file_system_id", fs_id, &ids, &n) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        AUTOPTR(json_object) json_object *r = sto_sv_get(&v, "Repository",
                                                     ids[i]);

        if (r && str_eq(json_str(r, "share_path"), "")) {
            e = sto_ev(ctx, t, SEV_WARNING, "filesystem.bad_repository",
                   "FileSystem", fs_id, sto_rname(fs), "file system '%s' holds "
                   "repository '%s' in its .ovsrepo, but this Manager has "
                   "repository '%s' there: ignored", sto_rname(fs), id,
                   sto_rname(r));
            sto_ids_free(ids, n);
            return e;
        }
    }
    sto_ids_free(ids, n);
    row = json_object_new_object();
    sto_set_str(row, "id", id);
    sto_set_str(row, "name", alias && *alias ? alias : id);
    sto_set_str(row, "file_system_id", fs_id);
    sto_set_str(row, "share_path", "");
    sto_set_str(row, "manager_uuid", owner && *owner ? owner : NULL);
    if (db_txn_row_insert(t, sto_mt("Repository"), row) < 0)
        return -1;
    sto_jr_created(undo, "Repository", id);
    return sto_ev(ctx, t, SEV_INFORMATIONAL, "repository.discovered",
              "Repository", id, alias && *alias ? alias : id,
              "repository '%s' found on file system '%s': %s",
              alias && *alias ? alias : id, sto_rname(fs),
              !owner || !*owner ? "owned by no Manager; take ownership to "
                                  "use it"
              : str_eq(owner, mgr) ? "owned by this Manager"
                                   : "owned by another Manager; take "
                                     "ownership to use it");
}

/*
 * Write probe @p of file server @fsrv (a row) inside @t: a new
 * FileSystem, new sizes, a missing one marked or deleted, a repository
 * found. Journal in @undo.
 */
static int
apply_probe(struct job_ctx *ctx, struct db_txn *t, json_object *undo,
            json_object *fsrv, struct probe *p, const char *mgr)
{
    struct storage_view v = { NULL, t };
    bool local = str_eq(json_str(fsrv, "file_server_type"), "LOCAL");
    AUTOPTR(json_object) json_object *fs = NULL, *cols = NULL;
    char *AUTOFREE id = NULL, *AUTOFREE name = NULL;
    int used;

    if (!p->fs_id) {
        if (p->state != PROBE_OK)
            return 0;
        id = model_id_new(sto_mt("FileSystem"));
        name = xasprintf("%s:%s", local ? "local" : "nfs", p->path);
        fs = json_object_new_object();
        sto_set_str(fs, "id", id);
        sto_set_str(fs, "name", name);
        sto_set_str(fs, "file_server_id", json_str(fsrv, "id"));
        sto_set_str(fs, "path", p->path);
        json_object_object_add(fs, "size", json_object_new_int64(
                                   (int64_t)p->space.capacity_bytes));
        json_object_object_add(fs, "free_size", json_object_new_int64(
                                   (int64_t)p->space.available_bytes));
        json_object_object_add(fs, "refreshed", json_object_new_int(1));
        json_object_object_add(fs, "shared", json_object_new_int(!local));
        json_object_object_add(fs, "present", json_object_new_int(1));
        if (db_txn_row_insert(t, sto_mt("FileSystem"), fs) < 0)
            return -1;
        sto_jr_created(undo, "FileSystem", id);
        if (sto_ev(ctx, t, SEV_INFORMATIONAL, "filesystem.created", "FileSystem",
               id, json_str(fs, "name"), "file system '%s' found on file server "
               "'%s'", json_str(fs, "name"), sto_rname(fsrv)) < 0)
            return -1;
        if (p->ovsrepo)
            return discover_repo(ctx, t, undo, fs, p->ovsrepo, mgr);
        return 0;
    }
    if (!(fs = db_txn_row_get(t, sto_mt("FileSystem"), p->fs_id)))
        return -1;
    cols = json_object_new_object();
    switch (p->state) {
    case PROBE_OK:
        if (sto_jint(fs, "size", 0) != (int64_t)p->space.capacity_bytes ||
            sto_jint(fs, "free_size", 0) != (int64_t)p->space.available_bytes ||
            !sto_jint(fs, "refreshed", 0) || !sto_jint(fs, "present", 1)) {
            json_object_object_add(cols, "size", json_object_new_int64(
                                       (int64_t)p->space.capacity_bytes));
            json_object_object_add(cols, "free_size", json_object_new_int64(
                                       (int64_t)p->space.available_bytes));
            json_object_object_add(cols, "refreshed",
                                   json_object_new_int(1));
            json_object_object_add(cols, "present", json_object_new_int(1));
            if (sto_jr_row(t, undo, "FileSystem", p->fs_id) < 0 ||
                db_txn_row_update(t, sto_mt("FileSystem"), p->fs_id, cols,
                                  true) < 0)
                return -1;
            if (!sto_jint(fs, "present", 1) &&
                sto_ev(ctx, t, SEV_INFORMATIONAL, "filesystem.found",
                   "FileSystem", p->fs_id, sto_rname(fs), "file system '%s' is "
                   "offered by file server '%s' again", sto_rname(fs),
                   sto_rname(fsrv)) < 0)
                return -1;
        }
        if (p->ovsrepo)
            return discover_repo(ctx, t, undo, fs, p->ovsrepo, mgr);
        return 0;
    case PROBE_MISSING:
        used = fs_used(&v, p->fs_id);
        if (used < 0)
            return -1;
        if (used) {
            if (!sto_jint(fs, "present", 1))
                return 0;
            json_object_object_add(cols, "present", json_object_new_int(0));
            if (sto_jr_row(t, undo, "FileSystem", p->fs_id) < 0 ||
                db_txn_row_update(t, sto_mt("FileSystem"), p->fs_id, cols,
                                  true) < 0)
                return -1;
            return sto_ev(ctx, t, SEV_WARNING, "filesystem.missing",
                      "FileSystem", p->fs_id, sto_rname(fs), "file system '%s' "
                      "is no longer offered by file server '%s'; it is kept "
                      "while repositories or a server pool use it",
                      sto_rname(fs), sto_rname(fsrv));
        }
        if (sto_jr_row(t, undo, "FileSystem", p->fs_id) < 0 ||
            db_txn_row_delete(t, sto_mt("FileSystem"), p->fs_id) < 0)
            return -1;
        return sto_ev(ctx, t, SEV_INFORMATIONAL, "filesystem.deleted",
                  "FileSystem", p->fs_id, sto_rname(fs), "file system '%s' is "
                  "no longer offered by file server '%s' and was removed",
                  sto_rname(fs), sto_rname(fsrv));
    case PROBE_KEEP:
        return 0;
    case PROBE_FAILED:
        return sto_ev(ctx, t, SEV_WARNING, "filesystem.probe_failed",
                  "FileSystem", p->fs_id, sto_rname(fs), "cannot look at file "
                  "system '%s': %s", sto_rname(fs), p->error ? p->error : "?");
    }
    return 0;
}

/*
 * The probes of a refresh of file server @fsrv (a row) through @c: for a
 * NETWORK server, its exports (new ones and known ones) and the known
 * file systems it no longer exports (missing); for a LOCAL one, the
 * known directories (@only: just that file system). Then probed.
 */
static int
gather(struct job_ctx *ctx, struct db *db, struct hv_conn *c,
       json_object *fsrv, const char *only, struct probe **out, size_t *nout)
{
    struct storage_view v = { db, NULL };
    bool network = !str_eq(json_str(fsrv, "file_server_type"), "LOCAL");
    struct probe *p = NULL;
    char **known = NULL, **exports = NULL;
    size_t nknown = 0, nexp = 0, n = 0, i, k;
    bool *seen = NULL;
    int rc = -1;

    *out = NULL;
    *nout = 0;
    if (only) {
        known = xcalloc(1, sizeof(*known));
        known[0] = xstrdup(only);
        nknown = 1;
    } else if (sto_sv_ids(&v, "FileSystem", "file_server_id", json_str(fsrv, "id"),
                      &known, &nknown) < 0) {
        return -1;
    }
    seen = xcalloc(nknown + 1, sizeof(*seen));
    if (network && !only) {
        job_progress(ctx, "listing the exports of %s",
                     json_str(fsrv, "access_host"));
        if (sto_exports(c, json_str(fsrv, "access_host"), &exports, &nexp) < 0)
            goto cleanup;
    }
    p = xcalloc(nexp + nknown + 1, sizeof(*p));
    for (i = 0; i < nexp; i++) {
        p[n].path = xstrdup(exports[i]);
        for (k = 0; k < nknown; k++) {
            AUTOPTR(json_object) json_object *fs = sto_sv_get(&v, "FileSystem",
                                                          known[k]);

            if (!fs)
                goto cleanup;
            if (str_eq(json_str(fs, "path"), exports[i])) {
                p[n].fs_id = xstrdup(known[k]);
                seen[k] = true;
                break;
            }
        }
        n++;
    }
    for (k = 0; k < nknown; k++) {
        AUTOPTR(json_object) json_object *fs = NULL;

        if (seen[k])
            continue;
        if (!(fs = sto_sv_get(&v, "FileSystem", known[k])))
            goto cleanup;
        if (!str_eq(json_str(fs, "file_server_id"), json_str(fsrv, "id"))) {
            err_set(ERR_INVALID, "file system '%s' is not one of file "
                                 "server '%s'", known[k], sto_rname(fsrv));
            goto cleanup;
        }
        p[n].path = xstrdup(json_str(fs, "path") ? json_str(fs, "path") : "");
        p[n].fs_id = xstrdup(known[k]);
        p[n].ocfs2 = json_str(fs, "storage_element_id") != NULL;
        /* A NETWORK server that no longer exports it: missing. */
        p[n].state = network && !only ? PROBE_MISSING : PROBE_OK;
        n++;
    }
    probe_all(ctx, c, fsrv, p, n);
    *out = p;
    *nout = n;
    p = NULL;
    rc = 0;
 cleanup:
    if (p)
        probes_free(p, n + 1);
    xfree(seen);
    hv_strv_free(exports, nexp);
    sto_ids_free(known, nknown);
    return rc;
}

/* ---- file servers ---- */

int
storage_check_fileserver_new(const struct storage_view *v, const char *host,
                             char *const *admins, size_t nadmins,
                             char *const *refreshers, size_t nrefreshers,
                             const char *mgr)
{
    char **ids = NULL;
    size_t n = 0, i;
    int rc = -1;

    if (nadmins == 0) {
        err_set(ERR_INVALID, "a file server needs at least one admin server "
                             "('adminServerIds')");
        return -1;
    }
    if (sto_sv_ids(v, "FileServer", "access_host", host, &ids, &n) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        AUTOPTR(json_object) json_object *f = sto_sv_get(v, "FileServer",
                                                     ids[i]);

        if (!f)
            goto cleanup;
        if (str_eq(json_str(f, "file_server_type"), "NETWORK")) {
            err_set(ERR_EXISTS, "file server '%s' already has access host "
                                "'%s'", sto_rname(f), host);
            goto cleanup;
        }
    }
    rc = storage_check_admins(v, admins, nadmins, "admin server", mgr);
    if (rc == 0)
        rc = storage_check_admins(v, refreshers, nrefreshers,
                                  "refresh server", mgr);
 cleanup:
    sto_ids_free(ids, n);
    return rc;
}

int
storage_check_admins(const struct storage_view *v, char *const *ids,
                     size_t n, const char *what, const char *mgr)
{
    size_t i;

    for (i = 0; i < n; i++) {
        AUTOPTR(json_object) json_object *s = sto_sv_get(v, "Server", ids[i]);

        if (!s)
            return -1;
        if (!str_eq(json_str(s, "manager_uuid"), mgr)) {
            err_set(ERR_STATE, "server '%s' cannot be an %s: this Manager "
                               "does not own it", sto_rname(s), what);
            return -1;
        }
    }
    return 0;
}

/* Members "admins" and "refreshers" of @args. */
static int
server_lists(json_object *args, char ***admins, size_t *na,
             char ***refreshers, size_t *nr)
{
    json_object *a = NULL, *r = NULL;

    *admins = *refreshers = NULL;
    *na = *nr = 0;
    json_object_object_get_ex(args, "admins", &a);
    json_object_object_get_ex(args, "refreshers", &r);
    if (sto_json_ids(a, "admins", admins, na) < 0)
        return -1;
    if (sto_json_ids(r, "refreshers", refreshers, nr) < 0) {
        sto_ids_free(*admins, *na);
        *admins = NULL;
        *na = 0;
        return -1;
    }
    return 0;
}

static int
fsrv_create_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    struct db *db = job_db(ctx);
    struct storage_view rv = { db, NULL }, tv = { NULL, NULL };
    const char *id = json_str(args, "id"), *name = json_str(args, "name");
    const char *host = json_str(args, "accessHost");
    const char *plugin = json_str(args, "pluginId");
    AUTOPTR(json_object) json_object *fsrv = NULL, *u = sto_undo_new();
    char **admins = NULL, **refr = NULL, *AUTOFREE mgr = NULL;
    char *AUTOFREE sid = NULL;
    struct probe *p = NULL;
    size_t na = 0, nr = 0, np = 0, i;
    struct hv_conn *c = NULL;
    struct db_txn *t = NULL;
    json_object *ud = NULL;
    int rc = -1;

    (void)undo;
    if (!id || !name || !host || !plugin) {
        err_set(ERR_INVALID, "fileserver.create needs 'id', 'name', "
                             "'accessHost' and 'pluginId'");
        return -1;
    }
    if (server_lists(args, &admins, &na, &refr, &nr) < 0)
        return -1;
    if (!(mgr = sto_manager_uuid(db)) ||
        storage_check_fileserver_new(&rv, host, admins, na, refr, nr,
                                     mgr) < 0)
        goto out;
    fsrv = json_object_new_object();
    sto_set_str(fsrv, "id", id);
    sto_set_str(fsrv, "name", name);
    if (json_str(args, "description"))
        sto_set_str(fsrv, "description", json_str(args, "description"));
    if (json_object_object_get_ex(args, "userData", &ud) && ud)
        sto_set_str(fsrv, "user_data", json_to_text(ud));
    sto_set_str(fsrv, "file_server_type", "NETWORK");
    sto_set_str(fsrv, "plugin_id", plugin);
    sto_set_str(fsrv, "access_host", host);
    json_object_object_add(fsrv, "uniform_exports", json_object_new_int(
                               (int)sto_jint(args, "uniformExports", 1)));
    json_object_object_add(fsrv, "refreshed_ms",
                           json_object_new_int64(time_now_ms()));
    for (i = 0; i < na && !sid; i++) {
        if (sto_running(&rv, admins[i]))
            sid = xstrdup(admins[i]);
    }
    if (!sid) {
        err_set(ERR_STATE, "file server '%s' has no running admin server",
                name);
        goto out;
    }
    job_progress(ctx, "connecting to admin server %s", sid);
    if (!(c = storage_server_open(db, sid)) ||
        gather(ctx, db, c, fsrv, NULL, &p, &np) < 0)
        goto out;
    storage_hv->close(c);
    c = NULL;
    if (np == 0) {
        err_set(ERR_NOT_FOUND, "NFS server '%s' exports no file systems to "
                               "server '%s'", host, sid);
        goto out;
    }
    if (!(t = job_txn_begin(ctx)))
        goto out;
    tv.t = t;
    if (storage_check_fileserver_new(&tv, host, admins, na, refr, nr,
                                     mgr) < 0 ||
        db_txn_row_insert(t, sto_mt("FileServer"), fsrv) < 0)
        goto fail;
    sto_jr_created(u, "FileServer", id);
    if (db_txn_links_set(t, "file_server_admins", id, admins, na) < 0 ||
        db_txn_links_set(t, "file_server_refreshers", id, refr, nr) < 0 ||
        sto_ev(ctx, t, SEV_INFORMATIONAL, "fileserver.created", "FileServer", id,
           name, "file server '%s' (%s) registered with %zu file "
           "system%s", name, host, np, np == 1 ? "" : "s") < 0)
        goto fail;
    for (i = 0; i < np; i++) {
        if (apply_probe(ctx, t, u, fsrv, &p[i], mgr) < 0)
            goto fail;
    }
    job_set_result(ctx, "FileServer", id, name);
    rc = sto_finish(ctx, t, 0, u);
    t = NULL;
    goto out;
 fail:
    db_txn_rollback(t);
 out:
    if (c)
        storage_hv->close(c);
    probes_free(p, np);
    sto_ids_free(admins, na);
    sto_ids_free(refr, nr);
    return rc;
}

/* Replace the admin (@table) servers of @id with @ids, journaled. */
static int
set_links(struct db_txn *t, json_object *u, const char *table,
          const char *id, char *const *ids, size_t n)
{
    if (sto_jr_links(t, u, table, id) < 0)
        return -1;
    return db_txn_links_set(t, table, id, ids, n);
}

static int
fsrv_update_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
                 json_object *u)
{
    struct storage_view tv = { NULL, t };
    const char *id = json_str(args, "id");
    AUTOPTR(json_object) json_object *f = NULL, *cols = NULL;
    char **admins = NULL, **refr = NULL, *AUTOFREE mgr = NULL;
    size_t na = 0, nr = 0;
    json_object *a = NULL, *r = NULL, *ud = NULL;
    int64_t gen = sto_jint(args, "generation", -1);
    bool local;
    int rc = -1;

    if (!id) {
        err_set(ERR_INVALID, "fileserver.update needs 'id'");
        return -1;
    }
    if (!(f = db_txn_row_get(t, sto_mt("FileServer"), id)))
        return -1;
    if (gen >= 0 && gen != sto_jint(f, "generation", 0)) {
        err_set(ERR_CONFLICT, "FileServer '%s' was changed by someone else: "
                              "the request was made from generation %" PRId64
                              " but it is at generation %" PRId64,
                sto_rname(f), gen, sto_jint(f, "generation", 0));
        return -1;
    }
    local = str_eq(json_str(f, "file_server_type"), "LOCAL");
    json_object_object_get_ex(args, "admins", &a);
    json_object_object_get_ex(args, "refreshers", &r);
    if (!(mgr = sto_manager_uuid(job_db(ctx))) ||
        server_lists(args, &admins, &na, &refr, &nr) < 0)
        return -1;
    if ((a || r) && local) {
        err_set(ERR_STATE, "the admin server of local file server '%s' is "
                           "its own server", sto_rname(f));
        goto out;
    }
    if (a && na == 0) {
        err_set(ERR_INVALID, "a file server needs at least one admin server "
                             "('adminServerIds')");
        goto out;
    }
    if (storage_check_admins(&tv, admins, na, "admin server", mgr) < 0 ||
        storage_check_admins(&tv, refr, nr, "refresh server", mgr) < 0 ||
        sto_jr_row(t, u, "FileServer", id) < 0)
        goto out;
    if ((a && set_links(t, u, "file_server_admins", id, admins, na) < 0) ||
        (r && set_links(t, u, "file_server_refreshers", id, refr, nr) < 0))
        goto out;
    cols = json_object_new_object();
    if (json_str(args, "name"))
        sto_set_str(cols, "name", json_str(args, "name"));
    if (json_str(args, "description"))
        sto_set_str(cols, "description", json_str(args, "description"));
    if (json_object_object_get_ex(args, "userData", &ud) && ud)
        sto_set_str(cols, "user_data", json_to_text(ud));
    if (json_object_object_get_ex(args, "uniformExports", NULL))
        json_object_object_add(cols, "uniform_exports", json_object_new_int(
                                   (int)sto_jint(args, "uniformExports", 1)));
    if (db_txn_row_update(t, sto_mt("FileServer"), id, cols, true) < 0)
        goto out;
    if (sto_ev(ctx, t, SEV_INFORMATIONAL, "fileserver.updated", "FileServer", id,
           json_str(args, "name") ? json_str(args, "name") : sto_rname(f),
           "file server '%s' updated",
           json_str(args, "name") ? json_str(args, "name") : sto_rname(f)) < 0)
        goto out;
    job_set_result(ctx, "FileServer", id,
                   json_str(args, "name") ? json_str(args, "name") : sto_rname(f));
    rc = 0;
 out:
    sto_ids_free(admins, na);
    sto_ids_free(refr, nr);
    return rc;
}

static int
fsrv_update_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    AUTOPTR(json_object) json_object *u = sto_undo_new();
    struct db_txn *t = job_txn_begin(ctx);

    (void)undo;
    if (!t)
        return -1;
    return sto_finish(ctx, t, fsrv_update_step(ctx, t, args, u), u);
}

/*
 * Refresh file server @fsrv_id (@fs_id NULL) or only its file system
 * @fs_id: probe through the acting server, then write what was found.
 */
static int
refresh_run(struct job_ctx *ctx, const char *fsrv_id, const char *fs_id)
{
    struct db *db = job_db(ctx);
    struct storage_view rv = { db, NULL };
    AUTOPTR(json_object) json_object *fsrv = NULL, *u = sto_undo_new();
    AUTOPTR(json_object) json_object *fs = NULL, *cols = NULL;
    char *AUTOFREE sid = NULL, *AUTOFREE mgr = NULL;
    struct probe *p = NULL;
    struct hv_conn *c = NULL;
    struct db_txn *t = NULL;
    size_t np = 0, i;
    int rc = -1;

    if (fs_id) {
        if (!(fs = sto_sv_get(&rv, "FileSystem", fs_id)))
            return -1;
        fsrv_id = json_str(fs, "file_server_id");
    }
    if (!(fsrv = sto_sv_get(&rv, "FileServer", fsrv_id)) ||
        !(mgr = sto_manager_uuid(db)) ||
        !(sid = sto_acting_server(&rv, fsrv, true)))
        return -1;
    job_progress(ctx, "connecting to %s", sid);
    if (!(c = storage_server_open(db, sid)) ||
        gather(ctx, db, c, fsrv, fs_id, &p, &np) < 0)
        goto out;
    storage_hv->close(c);
    c = NULL;
    if (!(t = job_txn_begin(ctx)))
        goto out;
    json_object_put(fsrv);
    if (!(fsrv = db_txn_row_get(t, sto_mt("FileServer"), fsrv_id)))
        goto fail;
    for (i = 0; i < np; i++) {
        if (apply_probe(ctx, t, u, fsrv, &p[i], mgr) < 0)
            goto fail;
    }
    cols = json_object_new_object();
    json_object_object_add(cols, "refreshed_ms",
                           json_object_new_int64(time_now_ms()));
    if (sto_jr_row(t, u, "FileServer", fsrv_id) < 0 ||
        db_txn_row_update(t, sto_mt("FileServer"), fsrv_id, cols, !fs_id) < 0)
        goto fail;
    if (fs_id) {
        if (sto_ev(ctx, t, SEV_INFORMATIONAL, "filesystem.refreshed",
               "FileSystem", fs_id, sto_rname(fs), "file system '%s' refreshed",
               sto_rname(fs)) < 0)
            goto fail;
        job_set_result(ctx, "FileSystem", fs_id, sto_rname(fs));
    } else {
        char sname[256];
        struct storage_view tv = { NULL, t };

        if (sto_ev(ctx, t, SEV_INFORMATIONAL, "fileserver.refreshed",
               "FileServer", fsrv_id, sto_rname(fsrv), "file server '%s' "
               "refreshed through server '%s'", sto_rname(fsrv),
               sto_sv_name(&tv, "Server", sid, sname, sizeof(sname))) < 0)
            goto fail;
        job_set_result(ctx, "FileServer", fsrv_id, sto_rname(fsrv));
    }
    rc = sto_finish(ctx, t, 0, u);
    t = NULL;
    goto out;
 fail:
    db_txn_rollback(t);
 out:
    if (c)
        storage_hv->close(c);
    probes_free(p, np);
    return rc;
}

static int
fsrv_refresh_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    (void)undo;
    if (!json_str(args, "id")) {
        err_set(ERR_INVALID, "fileserver.refresh needs 'id'");
        return -1;
    }
    return refresh_run(ctx, json_str(args, "id"), NULL);
}

static int
fs_refresh_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    (void)undo;
    if (!json_str(args, "id")) {
        err_set(ERR_INVALID, "filesystem.refresh needs 'id'");
        return -1;
    }
    return refresh_run(ctx, NULL, json_str(args, "id"));
}

static int
fsrv_delete_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
                 json_object *u)
{
    struct storage_view tv = { NULL, t };
    const char *id = json_str(args, "id");
    AUTOPTR(json_object) json_object *f = NULL;
    char **fss = NULL;
    size_t n = 0, i;
    int rc = -1;

    if (!id) {
        err_set(ERR_INVALID, "fileserver.delete needs 'id'");
        return -1;
    }
    if (!(f = db_txn_row_get(t, sto_mt("FileServer"), id)) ||
        storage_check_fileserver_delete(&tv, id) < 0)
        return -1;
    if (sto_jr_row(t, u, "FileServer", id) < 0 ||
        sto_sv_ids(&tv, "FileSystem", "file_server_id", id, &fss, &n) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        if (sto_jr_row(t, u, "FileSystem", fss[i]) < 0)
            goto out;
    }
    if (sto_jr_links(t, u, "file_server_admins", id) < 0 ||
        sto_jr_links(t, u, "file_server_refreshers", id) < 0 ||
        db_txn_row_delete(t, sto_mt("FileServer"), id) < 0 ||
        sto_ev(ctx, t, SEV_INFORMATIONAL, "fileserver.deleted", "FileServer", id,
           sto_rname(f), "file server '%s' and its %zu file system%s removed "
           "from this Manager", sto_rname(f), n, n == 1 ? "" : "s") < 0)
        goto out;
    job_set_result(ctx, "FileServer", id, sto_rname(f));
    rc = 0;
 out:
    sto_ids_free(fss, n);
    return rc;
}

static int
fsrv_delete_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    AUTOPTR(json_object) json_object *u = sto_undo_new();
    struct db_txn *t = job_txn_begin(ctx);

    (void)undo;
    if (!t)
        return -1;
    return sto_finish(ctx, t, fsrv_delete_step(ctx, t, args, u), u);
}

/* The iSCSI initiator name of server @server_id. Caller frees. */
char *
storage_initiator_iqn(const char *server_id)
{
    char hex[128];
    size_t n = 0;
    const char *p;

    for (p = server_id; *p && n + 1 < sizeof(hex); p++) {
        if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))
            hex[n++] = *p;
        else if (*p >= 'A' && *p <= 'F')
            hex[n++] = (char)(*p - 'A' + 'a');
    }
    hex[n] = '\0';
    return xasprintf("iqn.1988-12.com.oracle:%s", hex);
}

/* The server's iSCSI initiator exists (made at its first discovery). */
static int
initiator_sync(struct job_ctx *ctx, struct db_txn *t, const char *server_id,
               const char *server_name)
{
    char *AUTOFREE iqn = storage_initiator_iqn(server_id);
    AUTOPTR(json_object) json_object *row = db_txn_row_get(
        t, sto_mt("StorageInitiator"), iqn);

    if (row)
        return 0;
    if (err_code() != ERR_NOT_FOUND)
        return -1;
    err_clear();
    row = json_object_new_object();
    sto_set_str(row, "id", iqn);
    sto_set_str(row, "name", iqn);
    sto_set_str(row, "server_id", server_id);
    sto_set_str(row, "initiator_type", "ISCSI");
    if (db_txn_row_insert(t, sto_mt("StorageInitiator"), row) < 0)
        return -1;
    return sto_ev(ctx, t, SEV_INFORMATIONAL, "storageinitiator.created",
              "StorageInitiator", iqn, iqn, "iSCSI initiator '%s' of server "
              "'%s' found", iqn, server_name);
}

/* ---- servers: local storage at discovery, and server delete ---- */

int
storage_local_sync(struct job_ctx *ctx, struct db_txn *t,
                   const char *server_id, const char *server_name,
                   const struct hv_node_facts *f)
{
    struct storage_view tv = { NULL, t };
    AUTOPTR(json_object) json_object *fsrv = NULL;
    char **ids = NULL, **known = NULL, *one[1];
    char *AUTOFREE fsrv_id = NULL, *AUTOFREE name = NULL;
    size_t n = 0, nknown = 0, i, k;
    bool *seen = NULL;
    int rc = -1;

    if (sto_sv_ids(&tv, "FileServer", "server_id", server_id, &ids, &n) < 0)
        return -1;
    if (n > 0) {
        fsrv_id = xstrdup(ids[0]);
        if (!(fsrv = db_txn_row_get(t, sto_mt("FileServer"), fsrv_id)))
            goto out;
    } else {
        fsrv_id = model_id_new(sto_mt("FileServer"));
        name = xasprintf("Local FS %s", server_name);
        fsrv = json_object_new_object();
        sto_set_str(fsrv, "id", fsrv_id);
        sto_set_str(fsrv, "name", name);
        sto_set_str(fsrv, "file_server_type", "LOCAL");
        sto_set_str(fsrv, "plugin_id", OCFS2_PLUGIN);
        sto_set_str(fsrv, "access_host", "");
        sto_set_str(fsrv, "server_id", server_id);
        json_object_object_add(fsrv, "refreshed_ms",
                               json_object_new_int64(time_now_ms()));
        if (db_txn_row_insert(t, sto_mt("FileServer"), fsrv) < 0 ||
            sto_ev(ctx, t, SEV_INFORMATIONAL, "fileserver.created", "FileServer",
               fsrv_id, name, "local file server '%s' of server '%s' "
               "found", name, server_name) < 0)
            goto out;
    }
    one[0] = xstrdup(server_id);
    rc = db_txn_links_set(t, "file_server_admins", fsrv_id, one, 1);
    xfree(one[0]);
    if (rc < 0 || initiator_sync(ctx, t, server_id, server_name) < 0 ||
        sto_sv_ids(&tv, "FileSystem", "file_server_id", fsrv_id, &known,
               &nknown) < 0)
        goto out;
    rc = -1;
    seen = xcalloc(nknown + 1, sizeof(*seen));
    for (i = 0; i < f->ndisks; i++) {
        const struct hv_disk *d = &f->disks[i];
        struct probe p;

        if (!d->path[0])
            continue;
        memset(&p, 0, sizeof(p));
        p.path = xstrdup(d->path);
        p.space.capacity_bytes = d->capacity_bytes;
        p.space.available_bytes = d->capacity_bytes > d->allocation_bytes
                                      ? d->capacity_bytes -
                                            d->allocation_bytes
                                      : 0;
        for (k = 0; k < nknown && !p.fs_id; k++) {
            AUTOPTR(json_object) json_object *fs = sto_sv_get(&tv, "FileSystem",
                                                          known[k]);

            if (!fs)
                goto out;
            if (str_eq(json_str(fs, "path"), d->path)) {
                p.fs_id = xstrdup(known[k]);
                seen[k] = true;
            }
        }
        /* No journal: discovery's own undo removes the server, and its
         * local storage with it. */
        {
            AUTOPTR(json_object) json_object *scratch = sto_undo_new();
            int arc = apply_probe(ctx, t, scratch, fsrv, &p, NULL);

            xfree(p.path);
            xfree(p.fs_id);
            if (arc < 0)
                goto out;
        }
    }
    for (k = 0; k < nknown; k++) {
        AUTOPTR(json_object) json_object *scratch = NULL;
        AUTOPTR(json_object) json_object *fs = NULL;
        struct probe p;

        if (seen[k])
            continue;
        /* OCFS2 file systems on LUNs are not local disks: they stay
         * (POST /FileServer/{id}/FileSystem; op_ocfs2.c). */
        if (!(fs = sto_sv_get(&tv, "FileSystem", known[k])))
            goto out;
        if (json_str(fs, "storage_element_id"))
            continue;
        scratch = sto_undo_new();
        memset(&p, 0, sizeof(p));
        p.fs_id = known[k];
        p.state = PROBE_MISSING;
        if (apply_probe(ctx, t, scratch, fsrv, &p, NULL) < 0)
            goto out;
    }
    rc = 0;
 out:
    xfree(seen);
    sto_ids_free(known, nknown);
    sto_ids_free(ids, n);
    return rc;
}

json_object *
storage_server_snapshot(struct db_txn *t, const char *server_id)
{
    static const char *const tables[] = { "file_server_admins",
                                          "file_server_refreshers" };
    struct storage_view tv = { NULL, t };
    json_object *u = sto_undo_new();
    char **ids = NULL, **fss = NULL, **links = NULL;
    size_t n = 0, nfs = 0, nl = 0, i, k, j;

    /* Its local file server and file systems go with it. */
    if (sto_sv_ids(&tv, "FileServer", "server_id", server_id, &ids, &n) < 0)
        goto fail;
    for (i = 0; i < n; i++) {
        if (sto_jr_row(t, u, "FileServer", ids[i]) < 0 ||
            sto_sv_ids(&tv, "FileSystem", "file_server_id", ids[i], &fss,
                   &nfs) < 0)
            goto fail;
        for (k = 0; k < nfs; k++) {
            if (sto_jr_row(t, u, "FileSystem", fss[k]) < 0)
                goto fail;
        }
        sto_ids_free(fss, nfs);
        fss = NULL;
        nfs = 0;
    }
    sto_ids_free(ids, n);
    ids = NULL;
    n = 0;
    /* Its storage initiators go too, and leave their access groups;
     * and it leaves the admin lists of storage arrays. */
    if (sto_sv_ids(&tv, "StorageInitiator", "server_id", server_id, &ids,
               &n) < 0)
        goto fail;
    for (i = 0; i < n; i++) {
        if (sto_jr_row(t, u, "StorageInitiator", ids[i]) < 0)
            goto fail;
    }
    if (n > 0) {
        if (sto_sv_ids(&tv, "AccessGroup", NULL, NULL, &fss, &nfs) < 0)
            goto fail;
        for (k = 0; k < nfs; k++) {
            if (sto_jr_links(t, u, "access_group_initiators", fss[k]) < 0)
                goto fail;
        }
        sto_ids_free(fss, nfs);
        fss = NULL;
        nfs = 0;
    }
    sto_ids_free(ids, n);
    ids = NULL;
    n = 0;
    if (sto_sv_ids(&tv, "StorageArray", NULL, NULL, &ids, &n) < 0)
        goto fail;
    for (i = 0; i < n; i++) {
        if (db_txn_links_get(t, "storage_array_admins", ids[i], &links,
                             &nl) < 0)
            goto fail;
        for (j = 0; j < nl; j++) {
            if (strcmp(links[j], server_id) == 0 &&
                sto_jr_links(t, u, "storage_array_admins", ids[i]) < 0)
                goto fail;
        }
        sto_ids_free(links, nl);
        links = NULL;
        nl = 0;
    }
    sto_ids_free(ids, n);
    ids = NULL;
    n = 0;
    /* And it leaves the admin and refresh lists it is on. */
    if (sto_sv_ids(&tv, "FileServer", NULL, NULL, &ids, &n) < 0)
        goto fail;
    for (i = 0; i < n; i++) {
        for (k = 0; k < 2; k++) {
            if (db_txn_links_get(t, tables[k], ids[i], &links, &nl) < 0)
                goto fail;
            for (j = 0; j < nl; j++) {
                if (strcmp(links[j], server_id) == 0 &&
                    sto_jr_links(t, u, tables[k], ids[i]) < 0)
                    goto fail;
            }
            sto_ids_free(links, nl);
            links = NULL;
            nl = 0;
        }
    }
    sto_ids_free(ids, n);
    return u;
 fail:
    sto_ids_free(links, nl);
    sto_ids_free(fss, nfs);
    sto_ids_free(ids, n);
    json_object_put(u);
    return NULL;
}

int
storage_server_restore(struct db_txn *t, json_object *snap)
{
    if (!snap)
        return 0;
    return sto_journal_apply(NULL, t, snap);
}

/* ---- the operations (op_storage.c lists them) ---- */

const struct job_op_type op_fsrv_create = {
    "fileserver.create", fsrv_create_run, storage_undo, true,
};
const struct job_op_type op_fsrv_update = {
    "fileserver.update", fsrv_update_run, storage_undo, true,
};
const struct job_op_type op_fsrv_refresh = {
    "fileserver.refresh", fsrv_refresh_run, storage_undo, true,
};
const struct job_op_type op_fsrv_delete = {
    "fileserver.delete", fsrv_delete_run, storage_undo, true,
};
const struct job_op_type op_fs_refresh = {
    "filesystem.refresh", fs_refresh_run, storage_undo, true,
};
