/*
 * op_ocfs2.c - OCFS2 file systems on LUNs: repositories on a physical
 * disk (docs/STORAGE.md, "Repositories on a LUN"). The rules
 * (storage.h: storage_check_ocfs2_new(), storage_check_fs_delete(),
 * storage_check_element_access()), the host side (sto_host_fs()) and the
 * operations filesystem.create and filesystem.delete.
 *
 * DESIGN
 *
 * As in Oracle VM, a LUN becomes a repository in two steps: an OCFS2
 * file system is made on the LUN through the local file server of a
 * server that reaches it (POST /FileServer/{id}/FileSystem), then a
 * repository is made on that file system (POST /FileSystem/{id}/
 * Repository). OCFS2 is a cluster file system: the file system belongs
 * to the clustered server pool of the server that made it
 * (file_systems.server_pool_id), only that pool's servers that reach the
 * LUN mount it, and the pool cannot be deleted while it exists. A server
 * reaches a LUN when its iSCSI initiator is in an access group of the
 * LUN's array that lists the LUN or lists no LUN.
 *
 * The file system row: path is the LUN's device (hv_lun_device()),
 * file_server_id the local file server it was made through, shared 1.
 * Refreshes probe it as kind "ocfs2" (op_fileserver.c); a rediscovery of
 * the server keeps it (it is no local disk).
 *
 * Operations (undo data as every storage operation, op_storage.c):
 *   filesystem.create {id, fileServer, element, name, description?,
 *                     userData?}: mkfs through the file server's server,
 *                     probe, then the row. Undo: wipe, row removed.
 *   filesystem.delete {id}: the row, then the wipe through a running
 *                     server of the pool. Undo: mkfs again, row back.
 * Events: filesystem.created, filesystem.deleted, and a WARNING
 * filesystem.not_wiped when the host cannot wipe (real hosts).
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

/* ---- rules ---- */

/* 1 when @id is among @ids, else 0. */
static int
in_list(char *const *ids, size_t n, const char *id)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (str_eq(ids[i], id))
            return 1;
    }
    return 0;
}

int
storage_check_element_access(const struct storage_view *v,
                             const char *server_id, const char *element_id)
{
    AUTOPTR(json_object) json_object *e = sto_sv_get(v, "StorageElement",
                                                     element_id);
    char **inits = NULL, **groups = NULL, **gi = NULL, **ge = NULL;
    size_t ni = 0, ng = 0, ngi = 0, nge = 0, i, k;
    char sname[256], aname[256];
    int rc = -1, ok = 0;

    if (!e)
        return -1;
    if (sto_sv_ids(v, "StorageInitiator", "server_id", server_id, &inits,
                   &ni) < 0 ||
        sto_sv_ids(v, "AccessGroup", "storage_array_id",
                   json_str(e, "storage_array_id"), &groups, &ng) < 0)
        goto out;
    for (i = 0; i < ng && !ok; i++) {
        bool member = false;

        if (sto_sv_links(v, "access_group_initiators", groups[i], &gi,
                         &ngi) < 0)
            goto out;
        for (k = 0; k < ni && !member; k++)
            member = in_list(gi, ngi, inits[k]);
        sto_ids_free(gi, ngi);
        gi = NULL;
        ngi = 0;
        if (!member)
            continue;
        if (sto_sv_links(v, "access_group_elements", groups[i], &ge,
                         &nge) < 0)
            goto out;
        ok = nge == 0 || in_list(ge, nge, element_id);
        sto_ids_free(ge, nge);
        ge = NULL;
        nge = 0;
    }
    if (!ok) {
        sto_sv_name(v, "Server", server_id, sname, sizeof(sname));
        sto_sv_name(v, "StorageArray", json_str(e, "storage_array_id"), aname,
                    sizeof(aname));
        err_set(ERR_STATE, "server '%s' does not reach storage element '%s': "
                           "put its storage initiator%s%s in an access group "
                           "of storage array '%s' that lists the element "
                           "or no element", sname, sto_rname(e),
                ni ? " " : "", ni ? inits[0] : "", aname);
        goto out;
    }
    rc = 0;
 out:
    sto_ids_free(inits, ni);
    sto_ids_free(groups, ng);
    return rc;
}

char *
storage_element_device(const struct storage_view *v, json_object *e)
{
    AUTOPTR(json_object) json_object *a = sto_sv_get(v, "StorageArray",
                                                     json_str(e, "storage_array_id"));
    AUTOPTR(json_object) json_object *hosts = NULL;
    json_object *h;
    const char *text;

    if (!a)
        return NULL;
    text = json_str(a, "access_hosts");
    hosts = text ? json_parse(text, strlen(text)) : NULL;
    if (!hosts || !json_object_is_type(hosts, json_type_array) ||
        json_object_array_length(hosts) == 0) {
        err_set(ERR_STATE, "storage array '%s' has no access host: the LUNs "
                           "of a default array cannot hold OCFS2 file "
                           "systems here", sto_rname(a));
        return NULL;
    }
    h = json_object_array_get_idx(hosts, 0);
    return hv_lun_device(json_str(h, "accessHost"),
                         (unsigned)sto_jint(h, "accessPort", 3260),
                         json_str(e, "target"), (unsigned)sto_jint(e, "lun", 0));
}

int
storage_check_ocfs2_new(const struct storage_view *v, const char *fsrv_id,
                        const char *element_id, const char *mgr, char *pool,
                        size_t size)
{
    AUTOPTR(json_object) json_object *f = sto_sv_get(v, "FileServer", fsrv_id);
    AUTOPTR(json_object) json_object *s = NULL, *p = NULL, *e = NULL;
    char *AUTOFREE dev = NULL;
    char **ids = NULL, nm[256];
    size_t n = 0;
    int rc = -1;

    if (!f)
        return -1;
    if (!str_eq(json_str(f, "file_server_type"), "LOCAL")) {
        err_set(ERR_INVALID, "an OCFS2 file system on a LUN is made through "
                             "the local file server of a server that "
                             "reaches the LUN; '%s' is a network file "
                             "server", sto_rname(f));
        return -1;
    }
    if (!(e = sto_sv_get(v, "StorageElement", element_id)) ||
        !(s = sto_sv_get(v, "Server", json_str(f, "server_id"))))
        return -1;
    if (!str_eq(json_str(s, "manager_uuid"), mgr)) {
        err_set(ERR_STATE, "this Manager does not own server '%s'",
                sto_rname(s));
        return -1;
    }
    if (!str_eq(json_str(s, "run_state"), "RUNNING")) {
        err_set(ERR_STATE, "server '%s' is not running (%s)", sto_rname(s),
                json_str(s, "run_state"));
        return -1;
    }
    if (!json_str(s, "server_pool_id")) {
        err_set(ERR_STATE, "server '%s' is in no server pool: repositories "
                           "on a LUN are only for clustered server pools",
                sto_rname(s));
        return -1;
    }
    if (!(p = sto_sv_get(v, "ServerPool", json_str(s, "server_pool_id"))))
        return -1;
    if (!sto_jint(p, "clustered", 0)) {
        err_set(ERR_STATE, "server '%s' is in server pool '%s', which is not "
                           "clustered: repositories on a LUN are only for "
                           "clustered server pools", sto_rname(s),
                sto_rname(p));
        return -1;
    }
    if (!sto_jint(e, "present", 1)) {
        err_set(ERR_STATE, "storage element '%s' is no longer offered by "
                           "its storage array (refresh the array)",
                sto_rname(e));
        return -1;
    }
    if (!sto_jint(e, "shareable", 0)) {
        err_set(ERR_STATE, "storage element '%s' is not shareable: a "
                           "clustered OCFS2 file system needs a LUN the "
                           "pool's servers share (set 'shareable')",
                sto_rname(e));
        return -1;
    }
    if (sto_sv_ids(v, "FileSystem", "storage_element_id", element_id, &ids,
                   &n) < 0)
        return -1;
    if (n > 0) {
        err_set(ERR_EXISTS, "storage element '%s' already holds file system "
                            "'%s'", sto_rname(e),
                sto_sv_name(v, "FileSystem", ids[0], nm, sizeof(nm)));
        goto out;
    }
    sto_ids_free(ids, n);
    ids = NULL;
    if (sto_sv_ids(v, "VmDiskMapping", "storage_element_id", element_id, &ids,
                   &n) < 0)
        goto out;
    if (n > 0) {
        err_set(ERR_STATE, "storage element '%s' is a VM's physical disk "
                           "(disk mapping '%s')", sto_rname(e), ids[0]);
        goto out;
    }
    if (storage_check_element_access(v, json_str(s, "id"), element_id) < 0 ||
        !(dev = storage_element_device(v, e)))
        goto out;
    str_copy(pool, json_str(p, "id"), size);
    rc = 0;
 out:
    sto_ids_free(ids, n);
    return rc;
}

int
storage_check_fs_delete(const struct storage_view *v, const char *fs_id)
{
    AUTOPTR(json_object) json_object *fs = sto_sv_get(v, "FileSystem", fs_id);
    char **ids = NULL, nm[256];
    size_t n = 0;

    if (!fs)
        return -1;
    if (!json_str(fs, "storage_element_id")) {
        err_set(ERR_STATE, "file system '%s' is not an OCFS2 file system on "
                           "a LUN: the file systems of a file server come "
                           "and go with a refresh of the file server",
                sto_rname(fs));
        return -1;
    }
    if (sto_sv_ids(v, "Repository", "file_system_id", fs_id, &ids, &n) < 0)
        return -1;
    if (n > 0) {
        err_set(ERR_STATE, "file system '%s' holds repository '%s'; delete "
                           "the repository first", sto_rname(fs),
                sto_sv_name(v, "Repository", ids[0], nm, sizeof(nm)));
        sto_ids_free(ids, n);
        return -1;
    }
    return 0;
}

/* ---- the host side ---- */

int
sto_host_fs(struct db *db, const char *server, const char *device, bool make,
            const char *label, const char *cluster)
{
    struct hv_fs fs = { "ocfs2", NULL, device };
    const struct hv_storage_ops *o;
    struct hv_conn *c;
    int rc;

    if (!server || !device) {
        err_set(ERR_INVALID, "no server or device for an OCFS2 file system");
        return -1;
    }
    o = make ? sto_ops_for(HAS(fs_make), "make OCFS2 file systems")
             : sto_ops_for(HAS(fs_wipe), "wipe OCFS2 file systems");
    if (!o || !(c = storage_server_open(db, server)))
        return -1;
    rc = make ? o->fs_make(c, &fs, label ? label : "", cluster ? cluster : "")
              : o->fs_wipe(c, &fs);
    storage_hv->close(c);
    if (rc < 0 && !make && err_code() == ERR_UNSUPPORTED) {
        log_warnx("the OCFS2 file system on %s stays on the LUN: %s",
                  device, err_message());
        err_clear();
        return 0;
    }
    return rc;
}

/* ---- filesystem.create ---- */

static int
fs_create_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    struct db *db = job_db(ctx);
    struct storage_view rv = { db, NULL }, tv = { NULL, NULL };
    const char *id = json_str(args, "id"), *fsrv_id = json_str(args, "fileServer");
    const char *element = json_str(args, "element");
    const char *name = json_str(args, "name");
    AUTOPTR(json_object) json_object *f = NULL, *e = NULL, *row = NULL;
    AUTOPTR(json_object) json_object *u = sto_undo_new();
    char *AUTOFREE mgr = NULL, *AUTOFREE dev = NULL, *AUTOFREE ovs = NULL;
    char pool[256];
    const struct hv_storage_ops *o;
    struct hv_fs fs = { "ocfs2", NULL, NULL };
    struct hv_conn *c = NULL;
    struct hv_space sp;
    struct db_txn *t = NULL;
    const char *server;
    json_object *ud = NULL, *h;
    bool made = false;
    int rc = -1;

    (void)undo;
    if (!id || !fsrv_id || !element || !name) {
        err_set(ERR_INVALID, "filesystem.create needs 'id', 'fileServer', "
                             "'element' and 'name'");
        return -1;
    }
    if (!(mgr = sto_manager_uuid(db)) ||
        storage_check_ocfs2_new(&rv, fsrv_id, element, mgr, pool,
                                sizeof(pool)) < 0 ||
        !(f = sto_sv_get(&rv, "FileServer", fsrv_id)) ||
        !(e = sto_sv_get(&rv, "StorageElement", element)) ||
        !(dev = storage_element_device(&rv, e)))
        return -1;
    server = json_str(f, "server_id");
    fs.path = dev;
    if (!(o = sto_ops_for(HAS(fs_make), "make OCFS2 file systems")))
        return -1;
    job_progress(ctx, "making an OCFS2 file system on %s through server %s",
                 dev, server);
    if (!(c = storage_server_open(db, server)) ||
        o->fs_make(c, &fs, name, pool) < 0)
        goto out;
    made = true;
    if (sto_probe(c, &fs, "", &sp, &ovs) < 0)
        goto out;
    storage_hv->close(c);
    c = NULL;

    if (!(t = job_txn_begin(ctx)))
        goto out;
    tv.t = t;
    if (storage_check_ocfs2_new(&tv, fsrv_id, element, mgr, pool,
                                sizeof(pool)) < 0)
        goto fail;
    row = json_object_new_object();
    sto_set_str(row, "id", id);
    sto_set_str(row, "name", name);
    if (json_str(args, "description"))
        sto_set_str(row, "description", json_str(args, "description"));
    if (json_object_object_get_ex(args, "userData", &ud) && ud)
        sto_set_str(row, "user_data", json_to_text(ud));
    sto_set_str(row, "file_server_id", fsrv_id);
    sto_set_str(row, "path", dev);
    json_object_object_add(row, "size",
                           json_object_new_int64((int64_t)sp.capacity_bytes));
    json_object_object_add(row, "free_size",
                           json_object_new_int64((int64_t)sp.available_bytes));
    json_object_object_add(row, "refreshed", json_object_new_int(1));
    json_object_object_add(row, "shared", json_object_new_int(1));
    sto_set_str(row, "storage_element_id", element);
    sto_set_str(row, "server_pool_id", pool);
    if (db_txn_row_insert(t, sto_mt("FileSystem"), row) < 0)
        goto fail;
    sto_jr_created(u, "FileSystem", id);
    h = sto_jr_hv(u, "fs_wipe");
    sto_set_str(h, "server", server);
    sto_set_str(h, "device", dev);
    if (sto_ev(ctx, t, SEV_INFORMATIONAL, "filesystem.created", "FileSystem",
               id, name, "OCFS2 file system '%s' made on storage element "
               "'%s' (%s, %" PRIu64 " bytes) for server pool '%s'", name,
               sto_rname(e), dev, sp.capacity_bytes, pool) < 0)
        goto fail;
    job_set_result(ctx, "FileSystem", id, name);
    rc = sto_finish(ctx, t, 0, u);
    t = NULL;
    if (rc == 0)
        made = false;
    goto out;
 fail:
    db_txn_rollback(t);
 out:
    if (c)
        storage_hv->close(c);
    if (made) {
        struct err saved = *err_get();

        /* Nothing may stay of a file system whose row was not made. */
        if (sto_host_fs(db, server, dev, false, NULL, NULL) < 0)
            log_warnx("job %" PRId64 ": cannot wipe the file system it made "
                      "on %s: %s", job_id(ctx), dev, err_message());
        sto_err_keep(&saved);
    }
    return rc;
}

/* ---- filesystem.delete ---- */

/*
 * Wipe the file system on @spec through @server: 1 wiped, 0 the host
 * cannot wipe (ERR_UNSUPPORTED: the signature stays), -1 on error.
 */
static int
fs_wipe_on(struct db *db, const char *server, const struct hv_fs *spec)
{
    struct hv_conn *c;
    int w;

    if (!HAS(fs_wipe))
        return 0;
    if (!(c = storage_server_open(db, server)))
        return -1;
    w = storage_hv->storage->fs_wipe(c, spec);
    storage_hv->close(c);
    if (w < 0 && err_code() == ERR_UNSUPPORTED) {
        err_clear();
        return 0;
    }
    return w < 0 ? -1 : 1;
}

static int
fs_delete_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    struct db *db = job_db(ctx);
    struct storage_view rv = { db, NULL }, tv = { NULL, NULL };
    const char *id = json_str(args, "id");
    AUTOPTR(json_object) json_object *fs = NULL, *u = sto_undo_new();
    AUTOPTR(json_object) json_object *hold = NULL;
    char *AUTOFREE server = NULL, *AUTOFREE dev = NULL;
    struct hv_fs spec;
    struct db_txn *t = NULL;
    json_object *h;
    int rc = -1, wiped;

    (void)undo;
    if (!id) {
        err_set(ERR_INVALID, "filesystem.delete needs 'id'");
        return -1;
    }
    if (storage_check_fs_delete(&rv, id) < 0 ||
        !(fs = sto_sv_get(&rv, "FileSystem", id)) ||
        storage_fs_spec(db, id, &spec, &hold, &server) < 0)
        return -1;
    dev = xstrdup(spec.path);
    job_progress(ctx, "wiping the OCFS2 file system on %s through server %s",
                 dev, server);
    if ((wiped = fs_wipe_on(db, server, &spec)) < 0)
        return -1;

    if (!(t = job_txn_begin(ctx)))
        goto out;
    tv.t = t;
    if (storage_check_fs_delete(&tv, id) < 0 ||
        sto_jr_row(t, u, "FileSystem", id) < 0 ||
        db_txn_row_delete(t, sto_mt("FileSystem"), id) < 0)
        goto fail;
    h = sto_jr_hv(u, "fs_make");
    sto_set_str(h, "server", server);
    sto_set_str(h, "device", dev);
    sto_set_str(h, "label", sto_rname(fs));
    sto_set_str(h, "cluster", json_str(fs, "server_pool_id"));
    if (sto_ev(ctx, t, SEV_INFORMATIONAL, "filesystem.deleted", "FileSystem",
               id, sto_rname(fs), "OCFS2 file system '%s' on %s deleted",
               sto_rname(fs), dev) < 0)
        goto fail;
    if (!wiped &&
        sto_ev(ctx, t, SEV_WARNING, "filesystem.not_wiped", "FileSystem", id,
               sto_rname(fs), "the OCFS2 signature of file system '%s' stays "
               "on %s: server %s cannot wipe it; wipe the LUN on the storage "
               "side before reusing it", sto_rname(fs), dev, server) < 0)
        goto fail;
    job_set_result(ctx, "FileSystem", id, sto_rname(fs));
    rc = sto_finish(ctx, t, 0, u);
    t = NULL;
    goto out;
 fail:
    db_txn_rollback(t);
 out:
    if (rc < 0 && wiped > 0) {
        struct err saved = *err_get();

        /* The row stays: so must an (empty) file system under it. */
        if (sto_host_fs(db, server, dev, true, sto_rname(fs),
                        json_str(fs, "server_pool_id")) < 0)
            log_warnx("job %" PRId64 ": cannot make again the file system "
                      "it wiped on %s: %s", job_id(ctx), dev, err_message());
        sto_err_keep(&saved);
    }
    return rc;
}

const struct job_op_type op_fs_create = {
    "filesystem.create", fs_create_run, storage_undo, false,
};
const struct job_op_type op_fs_delete = {
    "filesystem.delete", fs_delete_run, storage_undo, false,
};
