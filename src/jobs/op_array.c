/*
 * op_array.c - storage arrays, access groups and storage elements as job
 * operations (array.create/update/refresh/delete, accessgroup.create/
 * member/delete, storageelement.update) and their rules (storage.h:
 * storage_check_array_*(), storage_check_group_member()); see
 * docs/STORAGE.md, "Storage arrays".
 *
 * DESIGN
 *
 * As every storage operation (op_storage.c's header has rows, acting,
 * undo data and events): read and check through a storage_view, scan the
 * array through its admin server with no transaction open, then check
 * again inside job_txn_begin(), write rows, events and the undo journal
 * (storage_int.h) and commit with sto_finish(). A refresh and an edit
 * that changes the access hosts reconcile the elements with the scan in
 * one shared function (array_reconcile()). Access group and element
 * changes touch no host: one transaction each (ONE_TXN_RUN).
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

/* ---- storage arrays (docs/STORAGE.md, "Storage arrays") ---- */

/* JSON text (may be NULL) parsed; NULL with an error when bad. */
static json_object *
json_parse_text(const char *text)
{
    if (!text) {
        err_set(ERR_INVALID, "no JSON text");
        return NULL;
    }
    return json_parse(text, strlen(text));
}

#define SCSI_PLUGIN "oracle.generic.SCSIPlugin.GenericPlugin (1.1.0)"

/* What uses storage element @id (a VM disk mapping, a file system), as
 * text into @out; 1 used, 0 not, -1 error. */
static int
element_use(const struct storage_view *v, const char *id, char *out,
            size_t size)
{
    char **ids = NULL;
    size_t n = 0;

    if (sto_sv_ids(v, "VmDiskMapping", "storage_element_id", id, &ids, &n) < 0)
        return -1;
    if (n > 0) {
        snprintf(out, size, "VM disk mapping '%s'", ids[0]);
        sto_ids_free(ids, n);
        return 1;
    }
    sto_ids_free(ids, n);
    if (sto_sv_ids(v, "FileSystem", "storage_element_id", id, &ids, &n) < 0)
        return -1;
    if (n > 0) {
        char nm[256];

        snprintf(out, size, "file system '%s'",
                 sto_sv_name(v, "FileSystem", ids[0], nm, sizeof(nm)));
        sto_ids_free(ids, n);
        return 1;
    }
    sto_ids_free(ids, n);
    return 0;
}

/*
 * Whether an array other than @except (may be NULL) has access host @host
 * (canonical): 1 with ERR_EXISTS naming it, 0 when none has, -1.
 */
static int
host_taken(const struct storage_view *v, const char *host, const char *except)
{
    char **ids = NULL;
    size_t n = 0, i;
    int rc = 0;

    if (sto_sv_ids(v, "StorageArray", NULL, NULL, &ids, &n) < 0)
        return -1;
    for (i = 0; i < n && rc == 0; i++) {
        AUTOPTR(json_object) json_object *a = NULL, *hosts = NULL;
        size_t k;

        if (str_eq(ids[i], except))
            continue;
        if (!(a = sto_sv_get(v, "StorageArray", ids[i]))) {
            rc = -1;
            break;
        }
        hosts = json_parse_text(json_str(a, "access_hosts"));
        for (k = 0; hosts && json_object_is_type(hosts, json_type_array) &&
                    k < json_object_array_length(hosts) && rc == 0; k++) {
            if (str_eq(json_str(json_object_array_get_idx(hosts, k),
                            "accessHost"), host)) {
                err_set(ERR_EXISTS, "storage array '%s' already has access "
                                    "host '%s'", sto_rname(a), host);
                rc = 1;
            }
        }
        if (rc == 0)
            err_clear();
    }
    sto_ids_free(ids, n);
    return rc;
}

int
storage_check_array_new(const struct storage_view *v, const char *host,
                        char *const *admins, size_t nadmins, const char *mgr)
{
    if (nadmins == 0) {
        err_set(ERR_INVALID, "a storage array needs at least one admin "
                             "server ('adminServerIds')");
        return -1;
    }
    if (host_taken(v, host, NULL) != 0)
        return -1;
    return storage_check_admins(v, admins, nadmins, "admin server", mgr);
}

/* The first RUNNING server of @ids. Caller frees; NULL when none runs
 * (no error recorded). */
static char *
first_running(const struct storage_view *v, char *const *ids, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (sto_running(v, ids[i]))
            return xstrdup(ids[i]);
    }
    return NULL;
}

int
storage_check_array_update(const struct storage_view *v, const char *id,
                           const char *hosts, char *const *admins,
                           size_t nadmins, bool set_admins, const char *mgr)
{
    AUTOPTR(json_object) json_object *a = sto_sv_get(v, "StorageArray", id);
    AUTOPTR(json_object) json_object *h = NULL;
    char **cur = NULL, *s = NULL;
    size_t ncur = 0, k, nh;
    int rc = -1;

    if (!a)
        return -1;
    if (hosts && !(h = json_parse_text(hosts)))
        return -1;
    nh = h && json_object_is_type(h, json_type_array)
             ? json_object_array_length(h) : 0;
    if (sto_jint(a, "default_array", 0)) {
        /* Its LUNs are the ones no array of ours offers: nothing to scan
         * and nobody to scan through. */
        if ((set_admins && nadmins > 0) || (h && nh > 0) ||
            (h && !json_object_is_type(h, json_type_array))) {
            err_set(ERR_STATE, "storage array '%s' is a default array: it "
                               "has no admin servers or access hosts",
                    sto_rname(a));
            return -1;
        }
        return 0;
    }
    if (set_admins) {
        if (nadmins == 0) {
            err_set(ERR_INVALID, "a storage array needs at least one admin "
                                 "server ('adminServerIds')");
            return -1;
        }
        if (storage_check_admins(v, admins, nadmins, "admin server", mgr) < 0)
            return -1;
    }
    if (!h)
        return 0;
    if (nh == 0) {
        err_set(ERR_INVALID, "a storage array needs at least one access "
                             "host ('accessHosts')");
        return -1;
    }
    for (k = 0; k < nh; k++) {
        if (host_taken(v, json_str(json_object_array_get_idx(h, k),
                                   "accessHost"), id) != 0)
            return -1;
    }
    /* New access hosts are scanned (the LUNs follow the new portal). */
    if (!set_admins) {
        if (sto_sv_links(v, "storage_array_admins", id, &cur, &ncur) < 0)
            return -1;
        admins = cur;
        nadmins = ncur;
    }
    if ((s = first_running(v, admins, nadmins)))
        rc = 0;
    else
        err_set(ERR_STATE, "cannot change the access hosts of storage array "
                           "'%s': none of its admin servers is running to "
                           "scan them through", sto_rname(a));
    xfree(s);
    sto_ids_free(cur, ncur);
    return rc;
}

int
storage_check_array_delete(const struct storage_view *v, const char *id)
{
    AUTOPTR(json_object) json_object *a = sto_sv_get(v, "StorageArray", id);
    char **els = NULL, what[300];
    size_t n = 0, i;
    int rc = -1, u;

    if (!a)
        return -1;
    if (sto_jint(a, "default_array", 0)) {
        err_set(ERR_STATE, "storage array '%s' is a default array and "
                           "cannot be deleted", sto_rname(a));
        return -1;
    }
    if (sto_sv_ids(v, "StorageElement", "storage_array_id", id, &els, &n) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        char nm[256];

        if ((u = element_use(v, els[i], what, sizeof(what))) < 0)
            goto out;
        if (u) {
            err_set(ERR_STATE, "storage array '%s' cannot be deleted: its "
                               "storage element '%s' is used by %s",
                    sto_rname(a), sto_sv_name(v, "StorageElement", els[i], nm,
                                      sizeof(nm)), what);
            goto out;
        }
    }
    rc = 0;
 out:
    sto_ids_free(els, n);
    return rc;
}

/* The first RUNNING admin server of array @a (a row). Caller frees; NULL
 * with ERR_STATE. */
static char *
array_acting(const struct storage_view *v, json_object *a)
{
    char **ids = NULL, *found;
    size_t n = 0;

    if (sto_sv_links(v, "storage_array_admins", json_str(a, "id"), &ids, &n) < 0)
        return NULL;
    found = first_running(v, ids, n);
    sto_ids_free(ids, n);
    if (!found)
        err_set(ERR_STATE, "storage array '%s' has no running admin server",
                sto_rname(a));
    return found;
}

int
storage_check_array_reachable(const struct storage_view *v, const char *id)
{
    AUTOPTR(json_object) json_object *a = sto_sv_get(v, "StorageArray", id);
    char *s;

    if (!a)
        return -1;
    if (sto_jint(a, "default_array", 0)) {
        err_set(ERR_STATE, "storage array '%s' is a default array: it has "
                           "no admin server to refresh it through",
                sto_rname(a));
        return -1;
    }
    if (!(s = array_acting(v, a)))
        return -1;
    xfree(s);
    return 0;
}

int
storage_check_group_member(const struct storage_view *v, const char *group,
                           const char *kind, const char *ref, bool add)
{
    AUTOPTR(json_object) json_object *g = sto_sv_get(v, "AccessGroup", group);
    AUTOPTR(json_object) json_object *r = NULL;
    bool element = str_eq(kind, "StorageElement");
    const char *table = element ? "access_group_elements"
                                : "access_group_initiators";
    char **ids = NULL;
    size_t n = 0, i;
    bool in = false;

    if (!g || !(r = sto_sv_get(v, kind, ref)))
        return -1;
    if (element && !str_eq(json_str(r, "storage_array_id"),
                           json_str(g, "storage_array_id"))) {
        err_set(ERR_STATE, "storage element '%s' is not of the storage "
                           "array of access group '%s'", sto_rname(r),
                sto_rname(g));
        return -1;
    }
    if (sto_sv_links(v, table, group, &ids, &n) < 0)
        return -1;
    for (i = 0; i < n; i++)
        in = in || str_eq(ids[i], ref);
    sto_ids_free(ids, n);
    if (add && in) {
        err_set(ERR_EXISTS, "%s '%s' is already in access group '%s'",
                element ? "storage element" : "storage initiator", sto_rname(r),
                sto_rname(g));
        return -1;
    }
    if (!add && !in) {
        err_set(ERR_STATE, "%s '%s' is not in access group '%s'",
                element ? "storage element" : "storage initiator", sto_rname(r),
                sto_rname(g));
        return -1;
    }
    return 0;
}

/* A found LUN: its target and facts. */
struct found_lun {
    char target[256];
    struct hv_lun l;
};

/* Every LUN of every target of @host:@port through @c. *out xfree(). */
static int
array_scan(struct job_ctx *ctx, struct hv_conn *c, const char *host,
           unsigned port, struct found_lun **out, size_t *nout)
{
    char **tg = NULL;
    size_t nt = 0, i, k, nl;
    struct hv_lun *l = NULL;
    struct found_lun *f = NULL;
    size_t n = 0;
    const struct hv_storage_ops *o = sto_ops_for(HAS(iscsi_targets) &&
                                             HAS(iscsi_luns),
                                             "discover iSCSI targets");

    *out = NULL;
    *nout = 0;
    if (!o)
        return -1;
    job_progress(ctx, "listing the iSCSI targets of %s:%u", host, port);
    if (o->iscsi_targets(c, host, port, &tg, &nt) < 0)
        return -1;
    for (i = 0; i < nt; i++) {
        if (o->iscsi_luns(c, host, port, tg[i], &l, &nl) < 0) {
            xfree(f);
            hv_strv_free(tg, nt);
            return -1;
        }
        f = xrealloc(f, (n + nl + 1) * sizeof(*f));
        for (k = 0; k < nl; k++) {
            str_copy(f[n].target, tg[i], sizeof(f[n].target));
            f[n++].l = l[k];
        }
        xfree(l);
        l = NULL;
    }
    hv_strv_free(tg, nt);
    *out = f;
    *nout = n;
    return 0;
}

/* Insert storage element for @f into array @aid, volume group @vg. */
static int
element_insert(struct job_ctx *ctx, struct db_txn *t, json_object *u,
               const char *aid, const char *vg, const struct found_lun *f)
{
    AUTOPTR(json_object) json_object *row = json_object_new_object();
    char *AUTOFREE id = model_id_new(sto_mt("StorageElement"));

    sto_set_str(row, "id", id);
    sto_set_str(row, "name", f->l.page83);
    sto_set_str(row, "description", f->target);
    sto_set_str(row, "volume_group_id", vg);
    sto_set_str(row, "storage_array_id", aid);
    sto_set_str(row, "page83_id", f->l.page83);
    sto_set_str(row, "vendor", f->l.vendor);
    sto_set_str(row, "target", f->target);
    json_object_object_add(row, "size",
                           json_object_new_int64((int64_t)f->l.size_bytes));
    json_object_object_add(row, "lun", json_object_new_int((int)f->l.lun));
    json_object_object_add(row, "shareable", json_object_new_int(1));
    if (db_txn_row_insert(t, sto_mt("StorageElement"), row) < 0)
        return -1;
    sto_jr_created(u, "StorageElement", id);
    return sto_ev(ctx, t, SEV_INFORMATIONAL, "storageelement.created",
              "StorageElement", id, f->l.page83, "LUN %u of '%s' (%" PRIu64
              " bytes) found", f->l.lun, f->target, f->l.size_bytes);
}

/* The first access host and port of an array row (or args). */
static int
array_portal(const char *hosts_text, char *host, size_t size,
             unsigned *port)
{
    AUTOPTR(json_object) json_object *h = json_parse_text(hosts_text);
    json_object *e;

    if (!h || !json_object_is_type(h, json_type_array) ||
        json_object_array_length(h) == 0) {
        err_set(ERR_INVALID, "the storage array has no access host");
        return -1;
    }
    e = json_object_array_get_idx(h, 0);
    str_copy(host, json_str(e, "accessHost") ? json_str(e, "accessHost") : "",
             size);
    *port = (unsigned)sto_jint(e, "accessPort", 3260);
    return 0;
}

static int
array_create_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    struct db *db = job_db(ctx);
    struct storage_view rv = { db, NULL }, tv = { NULL, NULL };
    const char *id = json_str(args, "id"), *name = json_str(args, "name");
    const char *hosts = json_str(args, "accessHosts");
    AUTOPTR(json_object) json_object *a = NULL, *vg = NULL, *u = sto_undo_new();
    char **admins = NULL, *AUTOFREE mgr = NULL, *AUTOFREE sid = NULL;
    char *AUTOFREE vgid = NULL, host[256];
    struct found_lun *f = NULL;
    size_t na = 0, nf = 0, i;
    struct hv_conn *c = NULL;
    struct db_txn *t = NULL;
    json_object *adm = NULL;
    unsigned port = 3260;
    int rc = -1;

    (void)undo;
    if (!id || !name || !hosts || !json_str(args, "pluginId")) {
        err_set(ERR_INVALID, "array.create needs 'id', 'name', "
                             "'accessHosts' and 'pluginId'");
        return -1;
    }
    json_object_object_get_ex(args, "admins", &adm);
    if (sto_json_ids(adm, "admins", &admins, &na) < 0 ||
        array_portal(hosts, host, sizeof(host), &port) < 0)
        goto out;
    if (!(mgr = sto_manager_uuid(db)) ||
        storage_check_array_new(&rv, host, admins, na, mgr) < 0)
        goto out;
    for (i = 0; i < na && !sid; i++) {
        if (sto_running(&rv, admins[i]))
            sid = xstrdup(admins[i]);
    }
    if (!sid) {
        err_set(ERR_STATE, "storage array '%s' has no running admin server",
                name);
        goto out;
    }
    job_progress(ctx, "connecting to admin server %s", sid);
    if (!(c = storage_server_open(db, sid)) ||
        array_scan(ctx, c, host, port, &f, &nf) < 0)
        goto out;
    storage_hv->close(c);
    c = NULL;
    a = json_object_new_object();
    sto_set_str(a, "id", id);
    sto_set_str(a, "name", name);
    if (json_str(args, "description"))
        sto_set_str(a, "description", json_str(args, "description"));
    sto_set_str(a, "plugin_id", json_str(args, "pluginId"));
    sto_set_str(a, "storage_type", "ISCSI");
    sto_set_str(a, "access_hosts", hosts);
    json_object_object_add(a, "refreshed_ms",
                           json_object_new_int64(time_now_ms()));
    vgid = model_id_new(sto_mt("VolumeGroup"));
    vg = json_object_new_object();
    sto_set_str(vg, "id", vgid);
    sto_set_str(vg, "name", "Generic iSCSI Volume Group");
    sto_set_str(vg, "storage_array_id", id);
    sto_set_str(vg, "name_on_array", "Generic_iSCSI_Volume_Group");
    if (!(t = job_txn_begin(ctx)))
        goto out;
    tv.t = t;
    if (storage_check_array_new(&tv, host, admins, na, mgr) < 0 ||
        db_txn_row_insert(t, sto_mt("StorageArray"), a) < 0)
        goto fail;
    sto_jr_created(u, "StorageArray", id);
    if (db_txn_links_set(t, "storage_array_admins", id, admins, na) < 0 ||
        db_txn_row_insert(t, sto_mt("VolumeGroup"), vg) < 0)
        goto fail;
    sto_jr_created(u, "VolumeGroup", vgid);
    if (sto_ev(ctx, t, SEV_INFORMATIONAL, "storagearray.created",
           "StorageArray", id, name, "storage array '%s' (%s:%u) registered "
           "with %zu LUN%s", name, host, port, nf, nf == 1 ? "" : "s") < 0)
        goto fail;
    for (i = 0; i < nf; i++) {
        if (element_insert(ctx, t, u, id, vgid, &f[i]) < 0)
            goto fail;
    }
    job_set_result(ctx, "StorageArray", id, name);
    rc = sto_finish(ctx, t, 0, u);
    t = NULL;
    goto out;
 fail:
    db_txn_rollback(t);
 out:
    if (c)
        storage_hv->close(c);
    xfree(f);
    sto_ids_free(admins, na);
    return rc;
}

/*
 * Journal the element lists of array @id's access groups: deleting an
 * element drops its memberships (ON DELETE CASCADE), and the undo puts
 * the lists back after the elements. Once per operation, before the
 * first delete.
 */
static int
jr_group_elements(struct db_txn *t, json_object *u, const char *id)
{
    struct storage_view tv = { NULL, t };
    char **ags = NULL;
    size_t n = 0, i;
    int rc = 0;

    if (sto_sv_ids(&tv, "AccessGroup", "storage_array_id", id, &ags, &n) < 0)
        return -1;
    for (i = 0; i < n && rc == 0; i++)
        rc = sto_jr_links(t, u, "access_group_elements", ags[i]);
    sto_ids_free(ags, n);
    return rc;
}

/*
 * Inside @t: make the storage elements of array @a (a row) what a scan of
 * its portal found (@f, @nf LUNs), journaling into @u: a LUN with a known
 * page 83 id keeps its element (size updated, present again), a new one
 * becomes an element of the array's first volume group, and an element
 * whose LUN is gone is deleted (its access group memberships journaled
 * for the undo) -- or kept with present=false and a WARNING event while a
 * VM disk mapping or a file system uses it. *added
 * and *gone count the elements made and deleted. Shared by array.refresh
 * and array.update (new access hosts), so both treat LUNs alike.
 */
static int
array_reconcile(struct job_ctx *ctx, struct db_txn *t, json_object *u,
                json_object *a, const struct found_lun *f, size_t nf,
                size_t *added, size_t *gone)
{
    struct storage_view tv = { NULL, t };
    const char *id = json_str(a, "id");
    char **els = NULL, **vgs = NULL;
    size_t ne = 0, nvg = 0, i, k;
    bool *seen = NULL;
    int rc = -1;

    *added = *gone = 0;
    if (sto_sv_ids(&tv, "StorageElement", "storage_array_id", id, &els, &ne) < 0 ||
        sto_sv_ids(&tv, "VolumeGroup", "storage_array_id", id, &vgs, &nvg) < 0)
        goto out;
    if (nvg == 0) {
        err_set(ERR_STATE, "storage array '%s' has no volume group",
                sto_rname(a));
        goto out;
    }
    seen = xcalloc(ne + 1, sizeof(*seen));
    for (i = 0; i < nf; i++) {
        bool known = false;

        for (k = 0; k < ne && !known; k++) {
            AUTOPTR(json_object) json_object *e = sto_sv_get(&tv,
                                                         "StorageElement",
                                                         els[k]);
            AUTOPTR(json_object) json_object *cols = NULL;

            if (!e)
                goto out;
            if (!str_eq(json_str(e, "page83_id"), f[i].l.page83))
                continue;
            known = seen[k] = true;
            if (sto_jint(e, "size", 0) == (int64_t)f[i].l.size_bytes &&
                sto_jint(e, "present", 1) == 1)
                continue;
            cols = json_object_new_object();
            json_object_object_add(cols, "size", json_object_new_int64(
                                       (int64_t)f[i].l.size_bytes));
            json_object_object_add(cols, "present", json_object_new_int(1));
            if (sto_jr_row(t, u, "StorageElement", els[k]) < 0 ||
                db_txn_row_update(t, sto_mt("StorageElement"), els[k], cols,
                                  true) < 0)
                goto out;
        }
        if (!known) {
            if (element_insert(ctx, t, u, id, vgs[0], &f[i]) < 0)
                goto out;
            (*added)++;
        }
    }
    for (k = 0; k < ne; k++) {
        AUTOPTR(json_object) json_object *e = NULL;
        char what[300];
        int used;

        if (seen[k])
            continue;
        if (!(e = sto_sv_get(&tv, "StorageElement", els[k])) ||
            (used = element_use(&tv, els[k], what, sizeof(what))) < 0 ||
            sto_jr_row(t, u, "StorageElement", els[k]) < 0)
            goto out;
        if (used) {
            AUTOPTR(json_object) json_object *cols = json_object_new_object();

            json_object_object_add(cols, "present", json_object_new_int(0));
            if (db_txn_row_update(t, sto_mt("StorageElement"), els[k], cols,
                                  true) < 0 ||
                sto_ev(ctx, t, SEV_WARNING, "storageelement.missing",
                   "StorageElement", els[k], sto_rname(e), "LUN '%s' of storage "
                   "array '%s' is gone but kept: it is used by %s",
                   sto_rname(e), sto_rname(a), what) < 0)
                goto out;
        } else {
            if ((*gone == 0 && jr_group_elements(t, u, id) < 0) ||
                db_txn_row_delete(t, sto_mt("StorageElement"), els[k]) < 0 ||
                sto_ev(ctx, t, SEV_INFORMATIONAL, "storageelement.deleted",
                   "StorageElement", els[k], sto_rname(e), "LUN '%s' of storage "
                   "array '%s' is gone", sto_rname(e), sto_rname(a)) < 0)
                goto out;
            (*gone)++;
        }
    }
    rc = 0;
 out:
    xfree(seen);
    sto_ids_free(els, ne);
    sto_ids_free(vgs, nvg);
    return rc;
}

static int
array_refresh_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    struct db *db = job_db(ctx);
    struct storage_view rv = { db, NULL }, tv = { NULL, NULL };
    const char *id = json_str(args, "id");
    AUTOPTR(json_object) json_object *a = NULL, *u = sto_undo_new();
    AUTOPTR(json_object) json_object *cols = NULL;
    char *AUTOFREE sid = NULL, host[256];
    struct found_lun *f = NULL;
    size_t nf = 0, added = 0, gone = 0;
    struct hv_conn *c = NULL;
    struct db_txn *t = NULL;
    unsigned port = 3260;
    int rc = -1;

    (void)undo;
    if (!id) {
        err_set(ERR_INVALID, "array.refresh needs 'id'");
        return -1;
    }
    if (storage_check_array_reachable(&rv, id) < 0 ||
        !(a = sto_sv_get(&rv, "StorageArray", id)) ||
        !(sid = array_acting(&rv, a)) ||
        array_portal(json_str(a, "access_hosts"), host, sizeof(host), &port) < 0)
        return -1;
    if (!(c = storage_server_open(db, sid)) ||
        array_scan(ctx, c, host, port, &f, &nf) < 0)
        goto out;
    storage_hv->close(c);
    c = NULL;
    if (!(t = job_txn_begin(ctx)))
        goto out;
    tv.t = t;
    if (storage_check_array_reachable(&tv, id) < 0 ||
        array_reconcile(ctx, t, u, a, f, nf, &added, &gone) < 0)
        goto fail;
    cols = json_object_new_object();
    json_object_object_add(cols, "refreshed_ms",
                           json_object_new_int64(time_now_ms()));
    if (sto_jr_row(t, u, "StorageArray", id) < 0 ||
        db_txn_row_update(t, sto_mt("StorageArray"), id, cols, false) < 0)
        goto fail;
    if (sto_ev(ctx, t, SEV_INFORMATIONAL, "storagearray.refreshed",
           "StorageArray", id, sto_rname(a), "storage array '%s' refreshed: %zu "
           "LUN%s, %zu new, %zu gone", sto_rname(a), nf, nf == 1 ? "" : "s",
           added, gone) < 0)
        goto fail;
    job_set_result(ctx, "StorageArray", id, sto_rname(a));
    rc = sto_finish(ctx, t, 0, u);
    t = NULL;
    goto out;
 fail:
    db_txn_rollback(t);
 out:
    if (c)
        storage_hv->close(c);
    xfree(f);
    return rc;
}

/* A stale @gen (>= 0, the request's generation) against array row @a:
 * ERR_CONFLICT. */
static int
array_gen_check(json_object *a, int64_t gen)
{
    if (gen < 0 || gen == sto_jint(a, "generation", 0))
        return 0;
    err_set(ERR_CONFLICT, "StorageArray '%s' was changed by someone else: "
                          "the request was made from generation %" PRId64
                          " but it is at generation %" PRId64,
            sto_rname(a), gen, sto_jint(a, "generation", 0));
    return -1;
}

/* Append ", @item" (or @item first) to the list in @buf. */
static void
what_add(char *buf, size_t size, const char *item)
{
    size_t len = strlen(buf);

    if (len < size)
        snprintf(buf + len, size - len, "%s%s", len ? ", " : "", item);
}

/*
 * array.update {id, generation?, name?, description?, userData?,
 * admins? [server ids], accessHosts? (JSON text, canonical)}: new access
 * hosts are scanned first (their first portal, through a running admin
 * server, no transaction open): a portal that does not answer fails the
 * job and nothing changes. Then one transaction: the rules again, the
 * row, the admin links, and with new hosts the elements reconciled with
 * the new portal's LUNs (array_reconcile(), as a refresh).
 */
static int
array_update_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    struct db *db = job_db(ctx);
    struct storage_view rv = { db, NULL }, tv = { NULL, NULL };
    const char *id = json_str(args, "id");
    const char *hosts = json_str(args, "accessHosts");
    const char *name = json_str(args, "name");
    const char *desc = json_str(args, "description"), *cur_desc;
    AUTOPTR(json_object) json_object *a = NULL, *cols = NULL;
    AUTOPTR(json_object) json_object *u = sto_undo_new();
    char **admins = NULL, **cur = NULL, *AUTOFREE mgr = NULL;
    char *AUTOFREE sid = NULL, host[256], what[700];
    char item[400];
    struct found_lun *f = NULL;
    size_t na = 0, ncur = 0, nf = 0, added = 0, gone = 0;
    json_object *adm = NULL, *ud = NULL;
    int64_t gen = sto_jint(args, "generation", -1);
    struct hv_conn *c = NULL;
    struct db_txn *t = NULL;
    unsigned port = 3260;
    bool set;
    int rc = -1;

    (void)undo;
    if (!id) {
        err_set(ERR_INVALID, "array.update needs 'id'");
        return -1;
    }
    set = json_object_object_get_ex(args, "admins", &adm) && adm;
    if (sto_json_ids(adm, "admins", &admins, &na) < 0)
        return -1;
    if (!(mgr = sto_manager_uuid(db)) ||
        !(a = sto_sv_get(&rv, "StorageArray", id)) ||
        array_gen_check(a, gen) < 0 ||
        storage_check_array_update(&rv, id, hosts, admins, na, set, mgr) < 0)
        goto out;
    if (hosts) {
        if (array_portal(hosts, host, sizeof(host), &port) < 0 ||
            (!set && sto_sv_links(&rv, "storage_array_admins", id, &cur,
                                  &ncur) < 0))
            goto out;
        if (!(sid = first_running(&rv, set ? admins : cur, set ? na : ncur))) {
            err_set(ERR_STATE, "storage array '%s' has no running admin "
                               "server", sto_rname(a));
            goto out;
        }
        job_progress(ctx, "connecting to admin server %s", sid);
        if (!(c = storage_server_open(db, sid)) ||
            array_scan(ctx, c, host, port, &f, &nf) < 0)
            goto out;
        storage_hv->close(c);
        c = NULL;
    }
    if (!(t = job_txn_begin(ctx)))
        goto out;
    tv.t = t;
    json_object_put(a);
    if (!(a = db_txn_row_get(t, sto_mt("StorageArray"), id)) ||
        array_gen_check(a, gen) < 0 ||
        storage_check_array_update(&tv, id, hosts, admins, na, set, mgr) < 0 ||
        sto_jr_row(t, u, "StorageArray", id) < 0)
        goto fail;
    what[0] = '\0';
    cols = json_object_new_object();
    if (name && !str_eq(name, sto_rname(a))) {
        sto_set_str(cols, "name", name);
        snprintf(item, sizeof(item), "name (was '%s')", sto_rname(a));
        what_add(what, sizeof(what), item);
    }
    cur_desc = json_str(a, "description");
    if (desc && !str_eq(desc, cur_desc ? cur_desc : "")) {
        sto_set_str(cols, "description", desc);
        what_add(what, sizeof(what), "description");
    }
    if (json_object_object_get_ex(args, "userData", &ud) && ud) {
        sto_set_str(cols, "user_data", json_to_text(ud));
        what_add(what, sizeof(what), "userData");
    }
    if (set) {
        if (sto_jr_links(t, u, "storage_array_admins", id) < 0 ||
            db_txn_links_set(t, "storage_array_admins", id, admins, na) < 0)
            goto fail;
        what_add(what, sizeof(what), "admin servers");
    }
    if (hosts) {
        sto_set_str(cols, "access_hosts", hosts);
        json_object_object_add(cols, "refreshed_ms",
                               json_object_new_int64(time_now_ms()));
    }
    if (db_txn_row_update(t, sto_mt("StorageArray"), id, cols, true) < 0)
        goto fail;
    /* Events of the elements name the array by its new name. */
    json_object_put(a);
    if (!(a = db_txn_row_get(t, sto_mt("StorageArray"), id)))
        goto fail;
    if (hosts) {
        if (array_reconcile(ctx, t, u, a, f, nf, &added, &gone) < 0)
            goto fail;
        snprintf(item, sizeof(item), "access hosts (%s:%u: %zu LUN%s, %zu "
                 "new, %zu gone)", host, port, nf, nf == 1 ? "" : "s", added,
                 gone);
        what_add(what, sizeof(what), item);
    }
    if (sto_ev(ctx, t, SEV_INFORMATIONAL, "storagearray.updated",
           "StorageArray", id, sto_rname(a), "storage array '%s' updated: %s",
           sto_rname(a), what[0] ? what : "no member changed") < 0)
        goto fail;
    job_set_result(ctx, "StorageArray", id, sto_rname(a));
    rc = sto_finish(ctx, t, 0, u);
    t = NULL;
    goto out;
 fail:
    db_txn_rollback(t);
 out:
    if (c)
        storage_hv->close(c);
    xfree(f);
    sto_ids_free(admins, na);
    sto_ids_free(cur, ncur);
    return rc;
}

/* Journal every row of @type whose @column is @owner. */
static int
jr_rows(struct db_txn *t, json_object *u, const char *type,
        const char *column, const char *owner, char ***ids, size_t *n)
{
    struct storage_view tv = { NULL, t };
    size_t i;

    if (sto_sv_ids(&tv, type, column, owner, ids, n) < 0)
        return -1;
    for (i = 0; i < *n; i++) {
        if (sto_jr_row(t, u, type, (*ids)[i]) < 0)
            return -1;
    }
    return 0;
}

static int
array_delete_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
                  json_object *u)
{
    struct storage_view tv = { NULL, t };
    const char *id = json_str(args, "id");
    AUTOPTR(json_object) json_object *a = NULL;
    char **vgs = NULL, **els = NULL, **ags = NULL;
    size_t nvg = 0, ne = 0, nag = 0, i;
    int rc = -1;

    if (!id) {
        err_set(ERR_INVALID, "array.delete needs 'id'");
        return -1;
    }
    if (!(a = db_txn_row_get(t, sto_mt("StorageArray"), id)) ||
        storage_check_array_delete(&tv, id) < 0 ||
        sto_jr_row(t, u, "StorageArray", id) < 0 ||
        jr_rows(t, u, "VolumeGroup", "storage_array_id", id, &vgs, &nvg) < 0 ||
        jr_rows(t, u, "StorageElement", "storage_array_id", id, &els,
                &ne) < 0 ||
        jr_rows(t, u, "AccessGroup", "storage_array_id", id, &ags, &nag) < 0)
        goto out;
    for (i = 0; i < nag; i++) {
        if (sto_jr_links(t, u, "access_group_elements", ags[i]) < 0 ||
            sto_jr_links(t, u, "access_group_initiators", ags[i]) < 0)
            goto out;
    }
    if (sto_jr_links(t, u, "storage_array_admins", id) < 0 ||
        db_txn_row_delete(t, sto_mt("StorageArray"), id) < 0 ||
        sto_ev(ctx, t, SEV_INFORMATIONAL, "storagearray.deleted", "StorageArray",
           id, sto_rname(a), "storage array '%s' and its %zu storage element%s "
           "removed from this Manager", sto_rname(a), ne, ne == 1 ? "" : "s") < 0)
        goto out;
    job_set_result(ctx, "StorageArray", id, sto_rname(a));
    rc = 0;
 out:
    sto_ids_free(vgs, nvg);
    sto_ids_free(els, ne);
    sto_ids_free(ags, nag);
    return rc;
}

static int
array_delete_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    AUTOPTR(json_object) json_object *u = sto_undo_new();
    struct db_txn *t = job_txn_begin(ctx);

    (void)undo;
    if (!t)
        return -1;
    return sto_finish(ctx, t, array_delete_step(ctx, t, args, u), u);
}

static int
group_create_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
                  json_object *u)
{
    const char *id = json_str(args, "id"), *name = json_str(args, "name");
    const char *array = json_str(args, "array");
    AUTOPTR(json_object) json_object *a = NULL, *g = NULL;

    if (!id || !name || !array) {
        err_set(ERR_INVALID, "accessgroup.create needs 'id', 'name' and "
                             "'array'");
        return -1;
    }
    if (!(a = db_txn_row_get(t, sto_mt("StorageArray"), array)))
        return -1;
    g = json_object_new_object();
    sto_set_str(g, "id", id);
    sto_set_str(g, "name", name);
    if (json_str(args, "description"))
        sto_set_str(g, "description", json_str(args, "description"));
    sto_set_str(g, "storage_array_id", array);
    if (db_txn_row_insert(t, sto_mt("AccessGroup"), g) < 0)
        return -1;
    sto_jr_created(u, "AccessGroup", id);
    if (sto_ev(ctx, t, SEV_INFORMATIONAL, "accessgroup.created", "AccessGroup",
           id, name, "access group '%s' of storage array '%s' created", name,
           sto_rname(a)) < 0)
        return -1;
    job_set_result(ctx, "AccessGroup", id, name);
    return 0;
}

static int
group_member_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
                  json_object *u)
{
    struct storage_view tv = { NULL, t };
    const char *id = json_str(args, "id"), *kind = json_str(args, "kind");
    const char *ref = json_str(args, "ref");
    bool add = sto_jint(args, "add", 0) != 0;
    bool element = str_eq(kind, "StorageElement");
    const char *table = element ? "access_group_elements"
                                : "access_group_initiators";
    AUTOPTR(json_object) json_object *g = NULL;
    /* No column changes: the update only bumps the generation. */
    AUTOPTR(json_object) json_object *none = json_object_new_object();
    char **ids = NULL, **nids = NULL, *refcopy = NULL, nm[256];
    size_t n = 0, nn = 0, i;
    int rc = -1;

    if (!id || !ref || (!element && !str_eq(kind, "StorageInitiator"))) {
        err_set(ERR_INVALID, "accessgroup.member needs 'id', 'kind' and "
                             "'ref'");
        return -1;
    }
    if (!(g = db_txn_row_get(t, sto_mt("AccessGroup"), id)) ||
        storage_check_group_member(&tv, id, kind, ref, add) < 0 ||
        sto_jr_row(t, u, "AccessGroup", id) < 0 ||
        sto_jr_links(t, u, table, id) < 0 ||
        db_txn_links_get(t, table, id, &ids, &n) < 0)
        return -1;
    nids = xcalloc(n + 2, sizeof(*nids));
    for (i = 0; i < n; i++) {
        if (!str_eq(ids[i], ref))
            nids[nn++] = ids[i];
    }
    if (add)
        nids[nn++] = refcopy = xstrdup(ref);
    if (db_txn_links_set(t, table, id, nids, nn) < 0 ||
        db_txn_row_update(t, sto_mt("AccessGroup"), id, none, true) < 0)
        goto out;
    sto_sv_name(&tv, kind, ref, nm, sizeof(nm));
    if (sto_ev(ctx, t, SEV_INFORMATIONAL, add ? "accessgroup.added"
                                          : "accessgroup.removed",
           "AccessGroup", id, sto_rname(g), "%s '%s' %s access group '%s'",
           element ? "storage element" : "storage initiator", nm,
           add ? "added to" : "removed from", sto_rname(g)) < 0)
        goto out;
    job_set_result(ctx, "AccessGroup", id, sto_rname(g));
    rc = 0;
 out:
    xfree(nids);
    xfree(refcopy);
    sto_ids_free(ids, n);
    return rc;
}

static int
group_delete_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
                  json_object *u)
{
    const char *id = json_str(args, "id");
    AUTOPTR(json_object) json_object *g = NULL;

    if (!id) {
        err_set(ERR_INVALID, "accessgroup.delete needs 'id'");
        return -1;
    }
    if (!(g = db_txn_row_get(t, sto_mt("AccessGroup"), id)) ||
        sto_jr_row(t, u, "AccessGroup", id) < 0 ||
        sto_jr_links(t, u, "access_group_elements", id) < 0 ||
        sto_jr_links(t, u, "access_group_initiators", id) < 0 ||
        db_txn_row_delete(t, sto_mt("AccessGroup"), id) < 0 ||
        sto_ev(ctx, t, SEV_INFORMATIONAL, "accessgroup.deleted", "AccessGroup",
           id, sto_rname(g), "access group '%s' deleted", sto_rname(g)) < 0)
        return -1;
    job_set_result(ctx, "AccessGroup", id, sto_rname(g));
    return 0;
}

static int
element_update_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
                    json_object *u)
{
    const char *id = json_str(args, "id");
    AUTOPTR(json_object) json_object *e = NULL, *cols = NULL;
    json_object *ud = NULL;
    int64_t gen = sto_jint(args, "generation", -1);
    const char *name;

    if (!id) {
        err_set(ERR_INVALID, "storageelement.update needs 'id'");
        return -1;
    }
    if (!(e = db_txn_row_get(t, sto_mt("StorageElement"), id)))
        return -1;
    if (gen >= 0 && gen != sto_jint(e, "generation", 0)) {
        err_set(ERR_CONFLICT, "StorageElement '%s' was changed by someone "
                              "else: the request was made from generation %"
                              PRId64 " but it is at generation %" PRId64,
                sto_rname(e), gen, sto_jint(e, "generation", 0));
        return -1;
    }
    if (sto_jr_row(t, u, "StorageElement", id) < 0)
        return -1;
    cols = json_object_new_object();
    if (json_str(args, "name"))
        sto_set_str(cols, "name", json_str(args, "name"));
    if (json_str(args, "description"))
        sto_set_str(cols, "description", json_str(args, "description"));
    if (json_object_object_get_ex(args, "userData", &ud) && ud)
        sto_set_str(cols, "user_data", json_to_text(ud));
    if (json_object_object_get_ex(args, "shareable", NULL))
        json_object_object_add(cols, "shareable", json_object_new_int(
                                   (int)sto_jint(args, "shareable", 0)));
    name = json_str(args, "name") ? json_str(args, "name") : sto_rname(e);
    if (db_txn_row_update(t, sto_mt("StorageElement"), id, cols, true) < 0 ||
        sto_ev(ctx, t, SEV_INFORMATIONAL, "storageelement.updated",
           "StorageElement", id, name, "storage element '%s' updated",
           name) < 0)
        return -1;
    job_set_result(ctx, "StorageElement", id, name);
    return 0;
}

#define ONE_TXN_RUN(fn, step)                                             \
    static int fn(struct job_ctx *ctx, json_object *args,                  \
                  json_object **undo)                                      \
    {                                                                      \
        AUTOPTR(json_object) json_object *u = sto_undo_new();                  \
        struct db_txn *t = job_txn_begin(ctx);                             \
                                                                           \
        (void)undo;                                                        \
        if (!t)                                                            \
            return -1;                                                     \
        return sto_finish(ctx, t, step(ctx, t, args, u), u);                   \
    }

ONE_TXN_RUN(group_create_run, group_create_step)
ONE_TXN_RUN(group_member_run, group_member_step)
ONE_TXN_RUN(group_delete_run, group_delete_step)
ONE_TXN_RUN(element_update_run, element_update_step)

/* ---- the operations (op_storage.c lists them) ---- */

const struct job_op_type op_array_create = {
    "array.create", array_create_run, storage_undo, true,
};
const struct job_op_type op_array_refresh = {
    "array.refresh", array_refresh_run, storage_undo, true,
};
const struct job_op_type op_array_update = {
    "array.update", array_update_run, storage_undo, true,
};
const struct job_op_type op_array_delete = {
    "array.delete", array_delete_run, storage_undo, true,
};
const struct job_op_type op_group_create = {
    "accessgroup.create", group_create_run, storage_undo, true,
};
const struct job_op_type op_group_member = {
    "accessgroup.member", group_member_run, storage_undo, true,
};
const struct job_op_type op_group_delete = {
    "accessgroup.delete", group_delete_run, storage_undo, true,
};
const struct job_op_type op_element_update = {
    "storageelement.update", element_update_run, storage_undo, true,
};
