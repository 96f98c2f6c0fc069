/*
 * op_storage.c - what the storage operations share: the small helpers,
 * reading through a storage_view, events, .ovsrepo text, the storage
 * rules shared with the handlers (src/api/api_storage.c; storage.h) but
 * those of file server create (op_fileserver.c) and of storage arrays
 * (op_array.c), the undo journal and storage_undo(), the host side, and
 * the table job_ops_storage[] (storage_int.h declares the shared
 * functions). The operations live in
 * op_fileserver.c (file servers, file systems, and the storage side of
 * server discovery and server delete), op_repository.c (repositories)
 * and op_array.c (storage arrays, access groups, storage elements).
 *
 * DESIGN
 *
 * Rows: storage objects have no typed structs; they are flat rows of the
 * generic row layer (db.h, "generic rows"), read through a struct
 * storage_view -- the reader for the handlers and for a job before it
 * acts, the job's write transaction for the check it makes again just
 * before it commits -- so one rule function serves both and the messages
 * agree (DESIGN section 3: refused at once, or FAILURE with the same
 * message when the world changed while the job waited).
 *
 * Acting: an operation that touches storage first reads and checks, then
 * talks to one server through the hv layer with no transaction open
 * (storage.h says which server: a file system's admin server, a server
 * the repository is presented to, the server being presented to), and
 * only then opens job_txn_begin(), checks again, writes its rows and
 * events and commits them with its DONE row and undo data
 * (job_txn_commit()). When the commit (or the check before it) fails,
 * the operation puts back what it did on the host before it returns, so
 * a FAILURE leaves the world as it was.
 *
 * Undo data (one shape for every operation here, applied by
 * storage_undo()): {"hv": [actions], "steps": [journal]}. The hv actions
 * run first, newest first (unmount what was mounted, remove a tree that
 * was built, build again a tree that was removed, write back a .ovsrepo);
 * then the journal: the objects the operation created are deleted, newest
 * first, then the rows it changed or deleted are written back exactly
 * (db_txn_row_restore(): generation and times included), oldest first --
 * parents were recorded before their children -- and last the link lists
 * (admin and refresh servers) it replaced. Operations whose undo needs no
 * host (refreshes, file server create/edit/delete) may be undone after a
 * restart; the others may not (undo_after_restart false: the host may
 * have changed meanwhile).
 *
 * Operations (arguments; every one records the undo data above; the
 * array.*, accessgroup.* and storageelement.* operations are described
 * in op_array.c and docs/STORAGE.md):
 *   fileserver.create  {id, name, description?, userData?, accessHost,
 *                      pluginId, admins [], refreshers [],
 *                      uniformExports}: lists the exports through a
 *                      running admin server and creates the FileServer,
 *                      its links and one FileSystem per export (probed:
 *                      size, free size, and a repository found there).
 *   fileserver.update  {id, generation?, name?, description?, userData?,
 *                      admins?, refreshers?, uniformExports?}.
 *   fileserver.refresh {id}: exports again (NETWORK) or the known
 *                      directories (LOCAL), then as create: new file
 *                      systems, missing ones present=false (deleted when
 *                      unused), sizes, repositories found (.ovsrepo).
 *   fileserver.delete  {id}.
 *   filesystem.refresh {id}: the same for one file system.
 *   repo.create        {id, fs, name, description?, userData?, sharePath}.
 *   repo.present       {repo, server}; repo.unpresent {repo, server}.
 *   repo.release       {repo}; repo.take {repo}: .ovsrepo rewritten.
 *   repo.refresh       {repo, server?}: through a server it is
 *                      presented to (@server preferred): VirtualDisks/
 *                      and ISOs/ against the VirtualDisk rows,
 *                      Templates/<id>.vm.cfg against the templates
 *                      (storage_template_from_cfg()).
 *   repo.delete        {repo}: owned: the tree goes too; unowned: rows
 *                      only (the repository's disks and templates too).
 *
 * Events: fileserver.created/updated/refreshed/deleted,
 * filesystem.created/missing (WARNING)/found/deleted/probe_failed
 * (WARNING), repository.created/discovered/presented/unpresented/
 * released/taken/refreshed/deleted, virtualdisk.discovered/missing
 * (WARNING)/deleted, vm.discovered/deleted (templates), WARNINGs for what
 * a refresh leaves out, object.restored and <kind>.deleted for undos
 * (docs/STORAGE.md has the table).
 *
 * Threads: operations run on job workers; nothing here keeps state.
 */
#include <arpa/inet.h>
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


/* ---- small helpers ---- */

int64_t
sto_jint(json_object *o, const char *key, int64_t def)
{
    json_object *v;

    if (!o || !json_object_object_get_ex(o, key, &v) || !v)
        return def;
    if (json_object_is_type(v, json_type_boolean))
        return json_object_get_boolean(v) ? 1 : 0;
    if (!json_object_is_type(v, json_type_int))
        return def;
    return json_object_get_int64(v);
}

/* A row's name ("" when it has none). */
const char *
sto_rname(json_object *row)
{
    const char *s = json_str(row, "name");

    return s ? s : "";
}

/* Record @e again as the thread's error (after cleanup that may have
 * recorded errors of its own). */
void
sto_err_keep(const struct err *e)
{
    err_set_full(e->code, e->file, e->func, e->line, "%s", e->message);
}

const struct model_type *
sto_mt(const char *type)
{
    const struct model_type *t = model_type_find(type);

    assert(t);
    return t;
}

/* Free @n strings and the array (db_ids_free() under another name). */
void
sto_ids_free(char **ids, size_t n)
{
    db_ids_free(ids, n);
}

/* JSON array of strings -> *ids (new). 0, or -1 (ERR_INVALID). */
int
sto_json_ids(json_object *a, const char *what, char ***ids, size_t *n)
{
    size_t i, len;

    *ids = NULL;
    *n = 0;
    if (!a)
        return 0;
    if (!json_object_is_type(a, json_type_array)) {
        err_set(ERR_INVALID, "%s must be an array of ids", what);
        return -1;
    }
    len = json_object_array_length(a);
    *ids = xcalloc(len + 1, sizeof(**ids));
    for (i = 0; i < len; i++) {
        json_object *v = json_object_array_get_idx(a, i);

        if (!json_object_is_type(v, json_type_string)) {
            sto_ids_free(*ids, i);
            *ids = NULL;
            err_set(ERR_INVALID, "%s must be an array of ids", what);
            return -1;
        }
        (*ids)[i] = xstrdup(json_object_get_string(v));
    }
    *n = len;
    return 0;
}

/* ---- reading through a view ---- */

json_object *
sto_sv_get(const struct storage_view *v, const char *type, const char *id)
{
    if (!id) {
        err_set(ERR_NOT_FOUND, "%s not found", type);
        return NULL;
    }
    return v->t ? db_txn_row_get(v->t, sto_mt(type), id)
                : db_row_get(v->db, sto_mt(type), id);
}

int
sto_sv_ids(const struct storage_view *v, const char *type, const char *column,
       const char *value, char ***ids, size_t *n)
{
    return v->t ? db_txn_row_ids(v->t, sto_mt(type), column, value, ids, n)
                : db_row_ids(v->db, sto_mt(type), column, value, ids, n);
}

int
sto_sv_links(const struct storage_view *v, const char *table, const char *owner,
         char ***ids, size_t *n)
{
    return v->t ? db_txn_links_get(v->t, table, owner, ids, n)
                : db_links_get(v->db, table, owner, ids, n);
}

/* The name of object @id of @type, copied into @out ("?" when gone). */
const char *
sto_sv_name(const struct storage_view *v, const char *type, const char *id,
        char *out, size_t size)
{
    json_object *row = sto_sv_get(v, type, id);

    if (!row) {
        err_clear();
        str_copy(out, "?", size);
        return out;
    }
    str_copy(out, sto_rname(row), size);
    json_object_put(row);
    return out;
}

/* ---- events ---- */

/* The event prefix of an object type ("filesystem.deleted"). */
static const char *
kind_of(const char *type)
{
    static const struct {
        const char *type, *kind;
    } kinds[] = {
        { "FileServer", "fileserver" }, { "FileSystem", "filesystem" },
        { "Repository", "repository" }, { "FileSystemMount", "mount" },
        { "VirtualDisk", "virtualdisk" }, { "Vm", "vm" },
        { "VmDiskMapping", "vmdiskmapping" }, { "Assembly", "assembly" },
        { "StorageArray", "storagearray" }, { "VolumeGroup", "volumegroup" },
        { "StorageElement", "storageelement" },
        { "AccessGroup", "accessgroup" },
        { "StorageInitiator", "storageinitiator" },
        { "Network", "network" }, { "EthernetPort", "ethernetport" },
        { "VlanGroup", "vlangroup" }, { "VlanSegment", "vlansegment" },
        { "VlanInterface", "vlaninterface" }, { "VirtualNic", "virtualnic" },
        { "MacRange", "macrange" },
    };
    size_t i;

    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strcmp(kinds[i].type, type) == 0)
            return kinds[i].kind;
    }
    return "object";
}

/* events_add() for a job (@ctx may be NULL: no job). */
int
sto_ev(struct job_ctx *ctx, struct db_txn *t, int sev, const char *etype,
   const char *otype, const char *id, const char *name, const char *fmt,
   ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return events_add(t, sev, etype, id, otype, name,
                      ctx ? job_id(ctx) : 0, ctx ? job_user(ctx) : NULL,
                      NULL, "%s", msg);
}

/* ---- .ovsrepo ---- */

/* The value of KEY=value line @key of .ovsrepo text @text, trimmed, or
 * NULL when there is no such line. Caller frees. */
char *
sto_ovsrepo_get(const char *text, const char *key)
{
    size_t klen = strlen(key);
    const char *p = text;

    while (p && *p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);

        while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == ' '))
            len--;
        if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=')
            return xasprintf("%.*s", (int)(len - klen - 1), p + klen + 1);
        p = eol ? eol + 1 : NULL;
    }
    return NULL;
}

/* @text with line @key set to @value (added when absent); other lines
 * stay as they are. Caller frees. */
char *
sto_ovsrepo_set(const char *text, const char *key, const char *value)
{
    size_t klen = strlen(key);
    const char *p = text ? text : "";
    char *out = xstrdup(""), *tmp;
    bool done = false;

    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);

        if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
            tmp = xasprintf("%s%s=%s\n", out, key, value);
            done = true;
        } else {
            tmp = xasprintf("%s%.*s\n", out, (int)len, p);
        }
        xfree(out);
        out = tmp;
        p = eol ? eol + 1 : p + len;
    }
    if (!done) {
        tmp = xasprintf("%s%s=%s\n", out, key, value);
        xfree(out);
        out = tmp;
    }
    return out;
}

/* A new repository's .ovsrepo. Control characters of @alias become
 * spaces, so the alias stays one line. Caller frees. */
char *
sto_ovsrepo_new(const char *id, const char *mgr, const char *alias,
            const char *share)
{
    char *a = xstrdup(alias ? alias : id), *s;
    char *text;

    for (s = a; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = ' ';
    }
    text = xasprintf("OVS_REPO_UUID=%s\nOVS_REPO_VERSION=3.0\n"
                     "OVS_REPO_MGR_UUID=%s\nOVS_REPO_ALIAS=%s\n"
                     "OVS_REPO_SHARE_PATH=%s\n",
                     id, mgr ? mgr : "", a, share ? share : "");
    xfree(a);
    return text;
}

/* True for a repository id this Manager accepts from a .ovsrepo: the
 * characters of Oracle ids (hex) and of names hosts accept, no path. */
bool
sto_repo_id_ok(const char *id)
{
    size_t i, n = strlen(id);

    if (n == 0 || n > 64)
        return false;
    for (i = 0; i < n; i++) {
        char c = id[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
    }
    return true;
}

/* ---- rules (storage.h) ---- */

int
storage_check_access_host(const char *host, char *out, size_t size)
{
    unsigned char addr[sizeof(struct in6_addr)];
    size_t i, n;

    if (!host || !*host) {
        err_set(ERR_INVALID, "a file server needs an 'accessHost': the host "
                             "name or IP address of the NFS server");
        return -1;
    }
    n = strlen(host);
    if (inet_pton(AF_INET, host, addr) == 1) {
        inet_ntop(AF_INET, addr, out, (socklen_t)size);
        return 0;
    }
    if (inet_pton(AF_INET6, host, addr) == 1) {
        inet_ntop(AF_INET6, addr, out, (socklen_t)size);
        return 0;
    }
    if (n > 253 || n >= size)
        goto bad;
    for (i = 0; i < n; i++) {
        char c = host[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '.'))
            goto bad;
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    out[n] = '\0';
    if (host[0] == '.' || host[0] == '-' || host[n - 1] == '.' ||
        strstr(host, ".."))
        goto bad;
    return 0;
 bad:
    err_set(ERR_INVALID, "'accessHost' '%.64s' is not a host name or an IP "
                         "address", host);
    return -1;
}

int
storage_check_share_path(const char *share)
{
    const char *p = share, *c;
    size_t len;

    if (!share || !*share)
        return 0;
    if (strlen(share) > 255) {
        err_set(ERR_INVALID, "'sharePath' is longer than 255 characters");
        return -1;
    }
    while (*p) {
        const char *slash = strchr(p, '/');

        len = slash ? (size_t)(slash - p) : strlen(p);
        if (len == 0 || p[0] == '.')
            goto bad;
        for (c = p; c < p + len; c++) {
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' ||
                  *c == '.'))
                goto bad;
        }
        if (!slash)
            break;
        p = slash + 1;
        if (!*p)
            goto bad;
    }
    return 0;
 bad:
    err_set(ERR_INVALID, "'sharePath' '%.64s' must be a relative path of "
                         "names (letters, digits, '.', '_', '-'; no "
                         "component starting with '.', no '..', no empty "
                         "component)", share);
    return -1;
}

/* True when share path @a is @b or lies inside it (or the reverse). */
static bool
share_nested(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    if (la == 0 || lb == 0)
        return true;
    if (la > lb)
        return strncmp(a, b, lb) == 0 && a[lb] == '/';
    if (lb > la)
        return strncmp(a, b, la) == 0 && b[la] == '/';
    return strcmp(a, b) == 0;
}

/* The first server pool whose pool file system is @fs_id: 1 with its
 * name in @out, 0 when none, -1. */
int
sto_pool_of_fs(const struct storage_view *v, const char *fs_id, char *out,
           size_t size)
{
    char **ids = NULL;
    size_t n = 0;
    int found;

    if (sto_sv_ids(v, "ServerPool", "pool_file_system_id", fs_id, &ids, &n) < 0)
        return -1;
    found = n > 0;
    if (found)
        sto_sv_name(v, "ServerPool", ids[0], out, size);
    sto_ids_free(ids, n);
    return found;
}

int
storage_check_fileserver_delete(const struct storage_view *v,
                                const char *id)
{
    AUTOPTR(json_object) json_object *fsrv = sto_sv_get(v, "FileServer", id);
    char **fss = NULL, **repos = NULL, name[256], pool[256];
    size_t nfs = 0, nrepos = 0, i;
    int rc = -1, p;

    if (!fsrv)
        return -1;
    if (str_eq(json_str(fsrv, "file_server_type"), "LOCAL")) {
        err_set(ERR_STATE, "cannot delete file server '%s': a local file "
                           "server goes with its server ('%s'); delete the "
                           "server instead", sto_rname(fsrv),
                sto_sv_name(v, "Server", json_str(fsrv, "server_id"), name,
                        sizeof(name)));
        return -1;
    }
    if (sto_sv_ids(v, "FileSystem", "file_server_id", id, &fss, &nfs) < 0)
        return -1;
    for (i = 0; i < nfs; i++) {
        if (sto_sv_ids(v, "Repository", "file_system_id", fss[i], &repos,
                   &nrepos) < 0)
            goto cleanup;
        if (nrepos > 0) {
            char fsn[256];

            err_set(ERR_STATE, "cannot delete file server '%s': file system "
                               "'%s' has repository '%s'; delete the "
                               "repository first", sto_rname(fsrv),
                    sto_sv_name(v, "FileSystem", fss[i], fsn, sizeof(fsn)),
                    sto_sv_name(v, "Repository", repos[0], name, sizeof(name)));
            goto cleanup;
        }
        sto_ids_free(repos, nrepos);
        repos = NULL;
        nrepos = 0;
        p = sto_pool_of_fs(v, fss[i], pool, sizeof(pool));
        if (p < 0)
            goto cleanup;
        if (p > 0) {
            err_set(ERR_STATE, "cannot delete file server '%s': file system "
                               "'%s' is the pool file system of server pool "
                               "'%s'; delete the server pool first",
                    sto_rname(fsrv), sto_sv_name(v, "FileSystem", fss[i], name,
                                         sizeof(name)), pool);
            goto cleanup;
        }
    }
    rc = 0;
 cleanup:
    sto_ids_free(repos, nrepos);
    sto_ids_free(fss, nfs);
    return rc;
}

int
storage_check_repo_create(const struct storage_view *v, const char *fs_id,
                          const char *share)
{
    AUTOPTR(json_object) json_object *fs = sto_sv_get(v, "FileSystem", fs_id);
    char **repos = NULL, pool[256];
    size_t n = 0, i;
    int rc = -1, p;

    if (!fs || storage_check_share_path(share) < 0)
        return -1;
    if (json_str(fs, "storage_element_id")) {
        AUTOPTR(json_object) json_object *cl = NULL;

        if (share && share[0]) {
            err_set(ERR_INVALID, "a repository on a LUN takes its whole "
                                 "OCFS2 file system '%s': 'sharePath' must be "
                                 "empty", sto_rname(fs));
            return -1;
        }
        if (!json_str(fs, "server_pool_id") ||
            !(cl = sto_sv_get(v, "ServerPool", json_str(fs, "server_pool_id"))))
            return -1;
        if (!sto_jint(cl, "clustered", 0)) {
            err_set(ERR_STATE, "cannot create a repository on file system "
                               "'%s': repositories on a LUN are only for "
                               "clustered server pools, and '%s' is not "
                               "clustered", sto_rname(fs), sto_rname(cl));
            return -1;
        }
    }
    if (!sto_jint(fs, "present", 1)) {
        err_set(ERR_STATE, "cannot create a repository on file system '%s': "
                           "its file server no longer offers it (refresh "
                           "the file server)", sto_rname(fs));
        return -1;
    }
    p = sto_pool_of_fs(v, fs_id, pool, sizeof(pool));
    if (p < 0)
        return -1;
    if (p > 0) {
        err_set(ERR_STATE, "cannot create a repository on file system '%s': "
                           "it is the pool file system of server pool '%s'",
                sto_rname(fs), pool);
        return -1;
    }
    if (sto_sv_ids(v, "Repository", "file_system_id", fs_id, &repos, &n) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        AUTOPTR(json_object) json_object *r = sto_sv_get(v, "Repository",
                                                     repos[i]);
        const char *other = r ? json_str(r, "share_path") : NULL;

        if (!r)
            goto cleanup;
        other = other ? other : "";
        if (strcmp(other, share ? share : "") == 0) {
            err_set(ERR_EXISTS, "file system '%s' already has repository "
                                "'%s' at share path '%s'", sto_rname(fs),
                    sto_rname(r), other);
            goto cleanup;
        }
        if (share_nested(other, share ? share : "")) {
            err_set(ERR_STATE, "cannot create a repository at share path "
                               "'%s' of file system '%s': it would nest with "
                               "repository '%s' at '%s'", share ? share : "",
                    sto_rname(fs), sto_rname(r), other);
            goto cleanup;
        }
    }
    rc = 0;
 cleanup:
    sto_ids_free(repos, n);
    return rc;
}

/* The FileSystemMount id of @repo on @server ("<server>_mount_<repo>"). */
char *
sto_mount_id(const char *server, const char *repo)
{
    return xasprintf("%s_mount_%s", server, repo);
}

/* 1 when a row of @type @id exists, 0 when not, -1. */
int
sto_sv_exists(const struct storage_view *v, const char *type, const char *id)
{
    json_object *row = sto_sv_get(v, type, id);

    if (row) {
        json_object_put(row);
        return 1;
    }
    if (err_code() != ERR_NOT_FOUND)
        return -1;
    err_clear();
    return 0;
}

int
storage_check_present(const struct storage_view *v, const char *repo_id,
                      const char *server_id, const char *mgr)
{
    AUTOPTR(json_object) json_object *r = sto_sv_get(v, "Repository", repo_id);
    AUTOPTR(json_object) json_object *s = NULL, *fs = NULL, *fsrv = NULL;
    char *AUTOFREE mid = NULL;
    char other[256];
    int e;

    if (!r)
        return -1;
    if (!(s = sto_sv_get(v, "Server", server_id)))
        return -1;
    if (!str_eq(json_str(r, "manager_uuid"), mgr)) {
        err_set(ERR_STATE, "cannot present repository '%s': this Manager "
                           "does not own it; take ownership first",
                sto_rname(r));
        return -1;
    }
    if (!str_eq(json_str(s, "manager_uuid"), mgr)) {
        err_set(ERR_STATE, "cannot present repository '%s' to server '%s': "
                           "this Manager does not own the server",
                sto_rname(r), sto_rname(s));
        return -1;
    }
    if (!str_eq(json_str(s, "run_state"), "RUNNING")) {
        err_set(ERR_STATE, "cannot present repository '%s' to server '%s': "
                           "the server is not running (%s)", sto_rname(r),
                sto_rname(s), json_str(s, "run_state"));
        return -1;
    }
    if (!(fs = sto_sv_get(v, "FileSystem", json_str(r, "file_system_id"))) ||
        !(fsrv = sto_sv_get(v, "FileServer", json_str(fs, "file_server_id"))))
        return -1;
    if (!sto_jint(fs, "present", 1)) {
        err_set(ERR_STATE, "cannot present repository '%s': its file system "
                           "'%s' is no longer offered by its file server",
                sto_rname(r), sto_rname(fs));
        return -1;
    }
    if (json_str(fs, "storage_element_id")) {
        /* On a LUN: the servers of the file system's clustered pool that
         * reach the LUN (docs/STORAGE.md, "Repositories on a LUN"). */
        if (!str_eq(json_str(s, "server_pool_id"),
                    json_str(fs, "server_pool_id"))) {
            err_set(ERR_STATE, "cannot present repository '%s' to server "
                               "'%s': it is on a LUN whose OCFS2 file system "
                               "belongs to server pool '%s', and only that "
                               "pool's servers mount it", sto_rname(r),
                    sto_rname(s), sto_sv_name(v, "ServerPool",
                                              json_str(fs, "server_pool_id"),
                                              other, sizeof(other)));
            return -1;
        }
        if (storage_check_element_access(v, server_id,
                                         json_str(fs, "storage_element_id")) < 0)
            return -1;
    } else if (str_eq(json_str(fsrv, "file_server_type"), "LOCAL") &&
        !str_eq(json_str(fsrv, "server_id"), server_id)) {
        err_set(ERR_STATE, "cannot present repository '%s' to server '%s': "
                           "it is on the local storage of server '%s', which "
                           "only that server reaches", sto_rname(r), sto_rname(s),
                sto_sv_name(v, "Server", json_str(fsrv, "server_id"), other,
                        sizeof(other)));
        return -1;
    }
    mid = sto_mount_id(server_id, repo_id);
    e = sto_sv_exists(v, "FileSystemMount", mid);
    if (e < 0)
        return -1;
    if (e > 0) {
        err_set(ERR_STATE, "repository '%s' is already presented to server "
                           "'%s'", sto_rname(r), sto_rname(s));
        return -1;
    }
    return 0;
}

/* States in which a VM occupies its server. */
static bool
vm_active(const char *state)
{
    return str_eq(state, "RUNNING") || str_eq(state, "SUSPENDED") ||
           str_eq(state, "STARTING") || str_eq(state, "STOPPING");
}

/*
 * A VM active on @server_id (NULL: on any server) that uses repository
 * @repo_id: one of its own VMs, or a VM mapping one of its disks. 1 with
 * the VM's name in @out, 0 when none, -1.
 */
static int
active_vm(const struct storage_view *v, const char *repo_id,
          const char *server_id, char *out, size_t size)
{
    char **ids = NULL, **maps = NULL;
    size_t n = 0, nm = 0, i, k;
    int found = 0;

    if (sto_sv_ids(v, "Vm", "repository_id", repo_id, &ids, &n) < 0)
        return -1;
    for (i = 0; i < n && !found; i++) {
        AUTOPTR(json_object) json_object *vm = sto_sv_get(v, "Vm", ids[i]);

        if (!vm) {
            found = -1;
            break;
        }
        if (vm_active(json_str(vm, "run_state")) && json_str(vm, "server_id") &&
            (!server_id || str_eq(json_str(vm, "server_id"), server_id))) {
            str_copy(out, sto_rname(vm), size);
            found = 1;
        }
    }
    sto_ids_free(ids, n);
    ids = NULL;
    n = 0;
    if (found)
        return found;
    if (sto_sv_ids(v, "VirtualDisk", "repository_id", repo_id, &ids, &n) < 0)
        return -1;
    for (i = 0; i < n && !found; i++) {
        if (sto_sv_ids(v, "VmDiskMapping", "virtual_disk_id", ids[i], &maps,
                   &nm) < 0) {
            found = -1;
            break;
        }
        for (k = 0; k < nm && !found; k++) {
            AUTOPTR(json_object) json_object *m = sto_sv_get(v, "VmDiskMapping",
                                                         maps[k]);
            AUTOPTR(json_object) json_object *vm =
                m ? sto_sv_get(v, "Vm", json_str(m, "vm_id")) : NULL;

            if (!vm) {
                found = -1;
                break;
            }
            if (vm_active(json_str(vm, "run_state")) && json_str(vm, "server_id") &&
                (!server_id || str_eq(json_str(vm, "server_id"), server_id))) {
                str_copy(out, sto_rname(vm), size);
                found = 1;
            }
        }
        sto_ids_free(maps, nm);
        maps = NULL;
        nm = 0;
    }
    sto_ids_free(ids, n);
    return found;
}

int
storage_check_unpresent(const struct storage_view *v, const char *repo_id,
                        const char *server_id)
{
    AUTOPTR(json_object) json_object *r = sto_sv_get(v, "Repository", repo_id);
    AUTOPTR(json_object) json_object *s = NULL;
    char *AUTOFREE mid = NULL;
    char vm[256];
    int e;

    if (!r || !(s = sto_sv_get(v, "Server", server_id)))
        return -1;
    mid = sto_mount_id(server_id, repo_id);
    e = sto_sv_exists(v, "FileSystemMount", mid);
    if (e < 0)
        return -1;
    if (e == 0) {
        err_set(ERR_STATE, "repository '%s' is not presented to server '%s'",
                sto_rname(r), sto_rname(s));
        return -1;
    }
    e = active_vm(v, repo_id, server_id, vm, sizeof(vm));
    if (e < 0)
        return -1;
    if (e > 0) {
        err_set(ERR_STATE, "cannot unpresent repository '%s' from server "
                           "'%s': virtual machine '%s' uses the repository "
                           "there; stop or migrate it first", sto_rname(r),
                sto_rname(s), vm);
        return -1;
    }
    return 0;
}

/* The first server @repo_id is presented to: 1 with its name, 0, -1. */
static int
presented_to(const struct storage_view *v, const char *repo_id, char *out,
             size_t size)
{
    char **ids = NULL;
    size_t n = 0;
    int found;

    if (sto_sv_ids(v, "FileSystemMount", "repository_id", repo_id, &ids, &n) < 0)
        return -1;
    found = n > 0;
    if (found) {
        AUTOPTR(json_object) json_object *m = sto_sv_get(v, "FileSystemMount",
                                                     ids[0]);

        sto_sv_name(v, "Server", m ? json_str(m, "server_id") : NULL, out, size);
        if (!m)
            err_clear();
    }
    sto_ids_free(ids, n);
    return found;
}

int
storage_check_release(const struct storage_view *v, const char *repo_id,
                      const char *mgr)
{
    AUTOPTR(json_object) json_object *r = sto_sv_get(v, "Repository", repo_id);
    char srv[256];
    int p;

    if (!r)
        return -1;
    if (!str_eq(json_str(r, "manager_uuid"), mgr)) {
        err_set(ERR_STATE, "cannot release ownership of repository '%s': "
                           "this Manager does not own it", sto_rname(r));
        return -1;
    }
    p = presented_to(v, repo_id, srv, sizeof(srv));
    if (p < 0)
        return -1;
    if (p > 0) {
        err_set(ERR_STATE, "cannot release ownership of repository '%s': it "
                           "is presented to server '%s'; unpresent it "
                           "first", sto_rname(r), srv);
        return -1;
    }
    return 0;
}

int
storage_check_take(const struct storage_view *v, const char *repo_id,
                   const char *mgr)
{
    AUTOPTR(json_object) json_object *r = sto_sv_get(v, "Repository", repo_id);
    AUTOPTR(json_object) json_object *fs = NULL;

    if (!r)
        return -1;
    if (str_eq(json_str(r, "manager_uuid"), mgr)) {
        err_set(ERR_STATE, "cannot take ownership of repository '%s': this "
                           "Manager owns it already", sto_rname(r));
        return -1;
    }
    if (!(fs = sto_sv_get(v, "FileSystem", json_str(r, "file_system_id"))))
        return -1;
    if (!sto_jint(fs, "present", 1)) {
        err_set(ERR_STATE, "cannot take ownership of repository '%s': its "
                           "file system '%s' is no longer offered by its "
                           "file server", sto_rname(r), sto_rname(fs));
        return -1;
    }
    return 0;
}

/* The first object of @type in repository @repo_id and how many there
 * are: *n, with the first one's name in @out. 0 or -1. */
int
sto_contents(const struct storage_view *v, const char *type, const char *repo_id,
         size_t *n, char *out, size_t size)
{
    char **ids = NULL;

    if (sto_sv_ids(v, type, "repository_id", repo_id, &ids, n) < 0)
        return -1;
    if (*n > 0)
        sto_sv_name(v, type, ids[0], out, size);
    sto_ids_free(ids, *n);
    return 0;
}

/* 0 when no VM outside repository @r (a row) maps one of its disks,
 * else -1 with ERR_STATE naming the disk and the VM. */
static int
foreign_mapping(const struct storage_view *v, json_object *r)
{
    const char *repo = json_str(r, "id");
    char **ids = NULL, **maps = NULL;
    size_t n = 0, nm = 0, i, k;
    int rc = 0;

    if (sto_sv_ids(v, "VirtualDisk", "repository_id", repo, &ids, &n) < 0)
        return -1;
    for (i = 0; i < n && rc == 0; i++) {
        if (sto_sv_ids(v, "VmDiskMapping", "virtual_disk_id", ids[i], &maps,
                   &nm) < 0) {
            rc = -1;
            break;
        }
        for (k = 0; k < nm && rc == 0; k++) {
            AUTOPTR(json_object) json_object *m = sto_sv_get(v, "VmDiskMapping",
                                                         maps[k]);
            AUTOPTR(json_object) json_object *vm =
                m ? sto_sv_get(v, "Vm", json_str(m, "vm_id")) : NULL;

            if (!vm) {
                rc = -1;
            } else if (!str_eq(json_str(vm, "repository_id"), repo)) {
                err_set(ERR_STATE, "cannot delete repository '%s': its "
                                   "virtual disk '%s' is used by virtual "
                                   "machine '%s' of another repository",
                        sto_rname(r), ids[i], sto_rname(vm));
                rc = -1;
            }
        }
        sto_ids_free(maps, nm);
        maps = NULL;
        nm = 0;
    }
    sto_ids_free(ids, n);
    return rc;
}

int
storage_check_repo_delete(const struct storage_view *v, const char *repo_id,
                          const char *mgr)
{
    static const struct {
        const char *type, *what;
    } kinds[] = {
        { "VirtualDisk", "virtual disk or ISO" },
        { "Vm", "virtual machine or template" },
        { "Assembly", "assembly" },
    };
    AUTOPTR(json_object) json_object *r = sto_sv_get(v, "Repository", repo_id);
    char name[256];
    size_t i, n;
    int p;

    if (!r)
        return -1;
    p = presented_to(v, repo_id, name, sizeof(name));
    if (p < 0)
        return -1;
    if (p > 0) {
        err_set(ERR_STATE, "cannot delete repository '%s': it is presented "
                           "to server '%s'; unpresent it first", sto_rname(r),
                name);
        return -1;
    }
    if (str_eq(json_str(r, "manager_uuid"), mgr)) {
        for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
            if (sto_contents(v, kinds[i].type, repo_id, &n, name,
                         sizeof(name)) < 0)
                return -1;
            if (n > 0) {
                err_set(ERR_STATE, "cannot delete repository '%s': it still "
                                   "holds %s '%s'%s; delete its contents "
                                   "first", sto_rname(r), kinds[i].what, name,
                        n > 1 ? " and more" : "");
                return -1;
            }
        }
        return 0;
    }
    /* Unowned: only rows go, but not while a VM uses it, nor while a VM
     * of another repository maps one of its disks (the mapping would
     * point nowhere). */
    p = active_vm(v, repo_id, NULL, name, sizeof(name));
    if (p < 0)
        return -1;
    if (p > 0) {
        err_set(ERR_STATE, "cannot delete repository '%s': virtual machine "
                           "'%s' uses it", sto_rname(r), name);
        return -1;
    }
    return foreign_mapping(v, r);
}

int
storage_check_server_delete(const struct storage_view *v,
                            const char *server_id)
{
    char **ids = NULL, **fss = NULL, **repos = NULL;
    size_t n = 0, nfs = 0, nr = 0, i;
    char sname[256], rn[256];
    int rc = -1;

    sto_sv_name(v, "Server", server_id, sname, sizeof(sname));
    if (sto_sv_ids(v, "FileSystemMount", "server_id", server_id, &ids, &n) < 0)
        return -1;
    if (n > 0) {
        AUTOPTR(json_object) json_object *m = sto_sv_get(v, "FileSystemMount",
                                                     ids[0]);

        sto_sv_name(v, "Repository", m ? json_str(m, "repository_id") : NULL, rn,
                sizeof(rn));
        err_set(ERR_STATE, "cannot delete server '%s': repository '%s' is "
                           "presented to it; unpresent repository '%s' "
                           "first", sname, rn, rn);
        goto cleanup;
    }
    sto_ids_free(ids, n);
    ids = NULL;
    n = 0;
    if (sto_sv_ids(v, "FileServer", "server_id", server_id, &ids, &n) < 0)
        goto cleanup;
    for (i = 0; i < n; i++) {
        size_t k;

        if (sto_sv_ids(v, "FileSystem", "file_server_id", ids[i], &fss,
                   &nfs) < 0)
            goto cleanup;
        for (k = 0; k < nfs; k++) {
            if (sto_sv_ids(v, "Repository", "file_system_id", fss[k], &repos,
                       &nr) < 0)
                goto cleanup;
            if (nr > 0) {
                sto_sv_name(v, "Repository", repos[0], rn, sizeof(rn));
                err_set(ERR_STATE, "cannot delete server '%s': repository "
                                   "'%s' is on its local storage; delete "
                                   "repository '%s' first", sname, rn, rn);
                goto cleanup;
            }
            sto_ids_free(repos, nr);
            repos = NULL;
            nr = 0;
        }
        sto_ids_free(fss, nfs);
        fss = NULL;
        nfs = 0;
    }
    rc = 0;
 cleanup:
    sto_ids_free(repos, nr);
    sto_ids_free(fss, nfs);
    sto_ids_free(ids, n);
    return rc;
}

/* True when server @id exists and is RUNNING (errors count as no). */
bool
sto_running(const struct storage_view *v, const char *id)
{
    json_object *s = sto_sv_get(v, "Server", id);
    bool ok = s && str_eq(json_str(s, "run_state"), "RUNNING");

    if (!s)
        err_clear();
    json_object_put(s);
    return ok;
}

/*
 * The server to act through for file server @fsrv (a row): its own
 * server when LOCAL; else the first RUNNING admin server, or with
 * @refresh the first RUNNING refresh server before them. Caller frees;
 * NULL with ERR_STATE when none runs.
 */
char *
sto_acting_server(const struct storage_view *v, json_object *fsrv, bool refresh)
{
    const char *tables[2];
    char **ids = NULL, *found = NULL;
    size_t n = 0, i, k;

    if (str_eq(json_str(fsrv, "file_server_type"), "LOCAL")) {
        if (sto_running(v, json_str(fsrv, "server_id")))
            return xstrdup(json_str(fsrv, "server_id"));
        err_set(ERR_STATE, "the server of local file server '%s' is not "
                           "running", sto_rname(fsrv));
        return NULL;
    }
    tables[0] = refresh ? "file_server_refreshers" : "file_server_admins";
    tables[1] = refresh ? "file_server_admins" : "file_server_refreshers";
    for (k = 0; k < 2 && !found; k++) {
        if (sto_sv_links(v, tables[k], json_str(fsrv, "id"), &ids, &n) < 0)
            return NULL;
        for (i = 0; i < n && !found; i++) {
            if (sto_running(v, ids[i]))
                found = xstrdup(ids[i]);
        }
        sto_ids_free(ids, n);
    }
    if (!found)
        err_set(ERR_STATE, "file server '%s' has no running admin server",
                sto_rname(fsrv));
    return found;
}

int
storage_check_reachable(const struct storage_view *v, const char *fsrv_id)
{
    AUTOPTR(json_object) json_object *fsrv = sto_sv_get(v, "FileServer",
                                                    fsrv_id);
    char *s;

    if (!fsrv || !(s = sto_acting_server(v, fsrv, true)))
        return -1;
    xfree(s);
    return 0;
}

/* ---- the undo journal ---- */

json_object *
sto_undo_new(void)
{
    json_object *u = json_object_new_object();

    json_object_object_add(u, "hv", json_object_new_array());
    json_object_object_add(u, "steps", json_object_new_array());
    return u;
}

static json_object *
steps_of(json_object *undo)
{
    json_object *s = NULL;

    json_object_object_get_ex(undo, "steps", &s);
    return s;
}

/* Journal: @type @id was created. */
void
sto_jr_created(json_object *undo, const char *type, const char *id)
{
    json_object *s = json_object_new_object();

    json_object_object_add(s, "created", json_object_new_string(type));
    json_object_object_add(s, "id", json_object_new_string(id));
    json_object_array_add(steps_of(undo), s);
}

/* Journal: the row of @type @id as it is now (once per object). */
int
sto_jr_row(struct db_txn *t, json_object *undo, const char *type, const char *id)
{
    json_object *steps = steps_of(undo), *s, *row;
    size_t i, n = json_object_array_length(steps);

    for (i = 0; i < n; i++) {
        json_object *st = json_object_array_get_idx(steps, i), *r;

        if (json_object_object_get_ex(st, "row", &r) &&
            str_eq(json_str(r, "id"), id))
            return 0;
    }
    if (!(row = db_txn_row_get(t, sto_mt(type), id)))
        return -1;
    s = json_object_new_object();
    json_object_object_add(s, "type", json_object_new_string(type));
    json_object_object_add(s, "row", row);
    json_object_array_add(steps, s);
    return 0;
}

/* Journal: link table @table of @owner as it is now. */
int
sto_jr_links(struct db_txn *t, json_object *undo, const char *table,
         const char *owner)
{
    json_object *s, *a;
    char **ids = NULL;
    size_t n = 0, i;

    if (db_txn_links_get(t, table, owner, &ids, &n) < 0)
        return -1;
    a = json_object_new_array();
    for (i = 0; i < n; i++)
        json_object_array_add(a, json_object_new_string(ids[i]));
    sto_ids_free(ids, n);
    s = json_object_new_object();
    json_object_object_add(s, "links", json_object_new_string(table));
    json_object_object_add(s, "owner", json_object_new_string(owner));
    json_object_object_add(s, "ids", a);
    json_object_array_add(steps_of(undo), s);
    return 0;
}

/* Journal: a host action for the undo (see storage_undo()). */
json_object *
sto_jr_hv(json_object *undo, const char *action)
{
    json_object *a = json_object_new_object(), *hv = NULL;

    json_object_object_add(a, "action", json_object_new_string(action));
    json_object_object_get_ex(undo, "hv", &hv);
    json_object_array_add(hv, a);
    return a;
}

void
sto_set_str(json_object *o, const char *key, const char *v)
{
    json_object_object_add(o, key, json_str_or_null(v));
}

/* Apply the journal @undo's steps (see DESIGN) inside @t. @ctx NULL:
 * raise no events. */
int
sto_journal_apply(struct job_ctx *ctx, struct db_txn *t, json_object *undo)
{
    json_object *steps = steps_of(undo);
    size_t n = steps ? json_object_array_length(steps) : 0, i;

    /* Created objects go, newest first. */
    for (i = n; i-- > 0;) {
        json_object *s = json_object_array_get_idx(steps, i);
        const char *type = json_str(s, "created"), *id = json_str(s, "id");
        char etype[64];
        json_object *row;

        if (!type || !id)
            continue;
        if (!model_type_find(type)) {
            err_set(ERR_INVALID, "undo: unknown type '%s'", type);
            return -1;
        }
        row = db_txn_row_get(t, sto_mt(type), id);
        if (!row) {
            if (err_code() != ERR_NOT_FOUND)
                return -1;
            err_clear();
            continue;
        }
        snprintf(etype, sizeof(etype), "%s.deleted", kind_of(type));
        if (db_txn_row_delete(t, sto_mt(type), id) < 0 ||
            (ctx && sto_ev(ctx, t, SEV_INFORMATIONAL, etype, type, id,
                       sto_rname(row), "%s '%s' removed: its creation was "
                       "undone", type, sto_rname(row)) < 0)) {
            json_object_put(row);
            return -1;
        }
        json_object_put(row);
    }
    /* Rows written back, oldest first; then link lists. */
    for (i = 0; i < n; i++) {
        json_object *s = json_object_array_get_idx(steps, i), *row;
        const char *type = json_str(s, "type");

        if (!type || !json_object_object_get_ex(s, "row", &row))
            continue;
        if (!model_type_find(type)) {
            err_set(ERR_INVALID, "undo: unknown type '%s'", type);
            return -1;
        }
        if (db_txn_row_restore(t, sto_mt(type), row) < 0)
            return -1;
        if (ctx && sto_ev(ctx, t, SEV_INFORMATIONAL, "object.restored", type,
                      json_str(row, "id"), sto_rname(row), "%s '%s' restored: the "
                      "job's change was undone", type, sto_rname(row)) < 0)
            return -1;
    }
    for (i = 0; i < n; i++) {
        json_object *s = json_object_array_get_idx(steps, i), *a;
        const char *table = json_str(s, "links"), *owner = json_str(s, "owner");
        char **ids = NULL;
        size_t k;
        int rc;

        if (!table || !owner)
            continue;
        if (!json_object_object_get_ex(s, "ids", &a) ||
            sto_json_ids(a, "undo links", &ids, &k) < 0)
            return -1;
        rc = db_txn_links_set(t, table, owner, ids, k);
        sto_ids_free(ids, k);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* ---- the host side ---- */

/* The storage ops of the driver, or NULL with ERR_UNSUPPORTED when it
 * has none or not @slot_ok. */
const struct hv_storage_ops *
sto_ops_for(bool slot_ok, const char *what)
{
    if (!storage_hv->storage || !slot_ok) {
        err_set(ERR_UNSUPPORTED, "cannot %s: the hypervisor driver '%s' has "
                                 "no storage support for it", what,
                storage_hv->name);
        return NULL;
    }
    return storage_hv->storage;
}

int
sto_exports(struct hv_conn *c, const char *host, char ***v, size_t *n)
{
    const struct hv_storage_ops *o = sto_ops_for(HAS(nfs_exports),
                                             "list NFS exports");

    return o ? o->nfs_exports(c, host, v, n) : -1;
}

int
sto_probe(struct hv_conn *c, const struct hv_fs *fs, const char *share,
         struct hv_space *sp, char **ovsrepo)
{
    const struct hv_storage_ops *o = sto_ops_for(HAS(fs_probe),
                                             "probe a file system");

    *ovsrepo = NULL;
    return o ? o->fs_probe(c, fs, share, sp, ovsrepo) : -1;
}

int
sto_mount(struct hv_conn *c, const char *repo, const struct hv_fs *fs,
         const char *share, bool build)
{
    const struct hv_storage_ops *o = sto_ops_for(HAS(repo_mount),
                                             "mount a repository");

    return o ? o->repo_mount(c, repo, fs, share ? share : "", build) : -1;
}

static int
st_unmount(struct hv_conn *c, const char *repo)
{
    const struct hv_storage_ops *o = sto_ops_for(HAS(repo_unmount),
                                             "unmount a repository");

    return o ? o->repo_unmount(c, repo) : -1;
}

int
sto_mounted(struct hv_conn *c, const char *repo)
{
    const struct hv_storage_ops *o = sto_ops_for(HAS(repo_mounted),
                                             "look at a mount");

    return o ? o->repo_mounted(c, repo) : -1;
}

static int
st_destroy(struct hv_conn *c, const char *repo)
{
    const struct hv_storage_ops *o = sto_ops_for(HAS(repo_destroy),
                                             "remove a repository");

    return o ? o->repo_destroy(c, repo) : -1;
}

int
sto_list(struct hv_conn *c, const char *repo, enum hv_repo_dir dir,
        struct hv_file **out, size_t *n)
{
    const struct hv_storage_ops *o = sto_ops_for(HAS(file_list),
                                             "list repository files");

    *out = NULL;
    *n = 0;
    return o ? o->file_list(c, repo, dir, out, n) : -1;
}

/* Read a small file of @dir whole, as a NUL-terminated string. */
int
sto_read_dir(struct hv_conn *c, const char *repo, enum hv_repo_dir dir,
            const char *name, char **text)
{
    const struct hv_storage_ops *o = sto_ops_for(HAS(file_read),
                                             "read a repository file");
    char *data = NULL;
    size_t len = 0;

    *text = NULL;
    if (!o || o->file_read(c, repo, dir, name, OVSREPO_MAX, &data, &len) < 0)
        return -1;
    /* NUL-terminated copy: the data may not be. */
    *text = xasprintf("%.*s", (int)len, data ? data : "");
    xfree(data);
    return 0;
}

/* A root file (.ovsrepo). */
int
sto_read(struct hv_conn *c, const char *repo, const char *name, char **text)
{
    return sto_read_dir(c, repo, HV_DIR_ROOT, name, text);
}

int
sto_write(struct hv_conn *c, const char *repo, const char *name,
         const char *text)
{
    const struct hv_storage_ops *o = sto_ops_for(HAS(file_write),
                                             "write a repository file");

    return o ? o->file_write(c, repo, HV_DIR_ROOT, name, text, strlen(text))
             : -1;
}

void
sto_fs_access_close(struct fs_access *a)
{
    if (a->conn)
        storage_hv->close(a->conn);
    json_object_put(a->hold);
    xfree(a->server_id);
    memset(a, 0, sizeof(*a));
}

/* Open @a for file system @fs_id through its admin server. */
int
sto_fs_access_open(struct db *db, const char *fs_id, struct fs_access *a)
{
    memset(a, 0, sizeof(*a));
    if (storage_fs_spec(db, fs_id, &a->fs, &a->hold, &a->server_id) < 0)
        return -1;
    a->conn = storage_server_open(db, a->server_id);
    if (!a->conn) {
        struct err e = *err_get();

        sto_fs_access_close(a);
        sto_err_keep(&e);
        return -1;
    }
    return 0;
}

/*
 * Mount repository @repo (@share of @a's file system) on @a's server for
 * a moment, unless it is mounted there already: *was says which, for
 * sto_tmp_unmount(). @build: create the tree (a new repository).
 */
int
sto_tmp_mount(struct fs_access *a, const char *repo, const char *share,
          bool build, bool *was)
{
    int m = sto_mounted(a->conn, repo);

    if (m < 0)
        return -1;
    *was = m == 1;
    if (*was)
        return 0;
    return sto_mount(a->conn, repo, &a->fs, share, build);
}

/* Undo sto_tmp_mount(); keeps the thread's error when @keep. */
void
sto_tmp_unmount(struct fs_access *a, const char *repo, bool was)
{
    struct err e = *err_get();

    if (!was && st_unmount(a->conn, repo) < 0)
        log_warnx("cannot unmount repository '%s' from server '%s': %s",
                  repo, a->server_id, err_message());
    if (e.code != ERR_OK)
        sto_err_keep(&e);
    else
        err_clear();
}

/*
 * Build repository @repo's tree at @share of file system @fs_id and write
 * its .ovsrepo @text (a new repository, or the undo of a delete). 0/-1.
 */
int
sto_host_build(struct db *db, const char *fs_id, const char *repo,
         const char *share, const char *text)
{
    struct fs_access a;
    bool was;
    int rc = -1;

    if (sto_fs_access_open(db, fs_id, &a) < 0)
        return -1;
    if (sto_tmp_mount(&a, repo, share, true, &was) == 0) {
        rc = sto_write(a.conn, repo, OVSREPO, text);
        sto_tmp_unmount(&a, repo, was);
    }
    sto_fs_access_close(&a);
    return rc;
}

/* Remove repository @repo's tree (through @fs_id's admin server). When
 * @text is not NULL, *text receives its .ovsrepo first (NULL when it had
 * none). @missing_ok: a root that is gone already is success. */
int
sto_host_destroy(struct db *db, const char *fs_id, const char *repo,
           const char *share, char **text, bool missing_ok)
{
    struct fs_access a;
    bool was;
    int rc = -1;

    if (text)
        *text = NULL;
    if (sto_fs_access_open(db, fs_id, &a) < 0)
        return -1;
    if (sto_tmp_mount(&a, repo, share, false, &was) < 0) {
        if (missing_ok && err_code() == ERR_NOT_FOUND) {
            log_info("repository '%s': its tree is gone already: %s", repo,
                     err_message());
            err_clear();
            rc = 0;
        }
        goto out;
    }
    if (text && sto_read(a.conn, repo, OVSREPO, text) < 0) {
        if (err_code() != ERR_NOT_FOUND)
            goto unmount;
        err_clear();
    }
    rc = st_destroy(a.conn, repo);
    if (rc < 0 && text) {
        xfree(*text);
        *text = NULL;
    }
 unmount:
    sto_tmp_unmount(&a, repo, was);
 out:
    sto_fs_access_close(&a);
    return rc;
}

/* Write .ovsrepo @text of @repo through @fs_id's admin server; *old (may
 * be NULL) receives the text it replaces (NULL when there was none). */
int
sto_host_ovsrepo(struct db *db, const char *fs_id, const char *repo,
           const char *share, const char *text, char **old)
{
    struct fs_access a;
    bool was;
    int rc = -1;

    if (old)
        *old = NULL;
    if (sto_fs_access_open(db, fs_id, &a) < 0)
        return -1;
    if (sto_tmp_mount(&a, repo, share, false, &was) < 0)
        goto out;
    if (old && sto_read(a.conn, repo, OVSREPO, old) < 0) {
        if (err_code() != ERR_NOT_FOUND)
            goto unmount;
        err_clear();
    }
    rc = sto_write(a.conn, repo, OVSREPO, text);
 unmount:
    sto_tmp_unmount(&a, repo, was);
 out:
    sto_fs_access_close(&a);
    return rc;
}

/* Mount (@mount) or unmount repository @repo on server @server. */
int
sto_host_present(struct db *db, const char *server, const char *repo, bool mount)
{
    AUTOPTR(json_object) json_object *r = NULL, *hold = NULL;
    struct hv_conn *c;
    struct hv_fs fs;
    int rc;

    if (mount) {
        if (!(r = db_row_get(db, sto_mt("Repository"), repo)) ||
            storage_fs_spec(db, json_str(r, "file_system_id"), &fs, &hold,
                            NULL) < 0)
            return -1;
    }
    if (!(c = storage_server_open(db, server)))
        return -1;
    rc = mount ? sto_mount(c, repo, &fs, json_str(r, "share_path"), false)
               : st_unmount(c, repo);
    storage_hv->close(c);
    return rc;
}

/* Run the host actions of @undo, newest first. */
static int
hv_undo(struct db *db, json_object *undo)
{
    json_object *hv = NULL;
    size_t i;

    if (!json_object_object_get_ex(undo, "hv", &hv) || !hv)
        return 0;
    for (i = json_object_array_length(hv); i-- > 0;) {
        json_object *a = json_object_array_get_idx(hv, i);
        const char *action = json_str(a, "action"), *repo = json_str(a, "repo");
        const char *fs = json_str(a, "fs"), *share = json_str(a, "share");
        const char *server = json_str(a, "server"), *text = json_str(a, "text");
        int rc;

        if (str_eq(action, "unmount") || str_eq(action, "mount"))
            rc = sto_host_present(db, server, repo, str_eq(action, "mount"));
        else if (str_eq(action, "destroy"))
            rc = sto_host_destroy(db, fs, repo, share, NULL, true);
        else if (str_eq(action, "build"))
            rc = sto_host_build(db, fs, repo, share, text ? text : "");
        else if (str_eq(action, "ovsrepo"))
            rc = sto_host_ovsrepo(db, fs, repo, share, text ? text : "", NULL);
        else if (str_eq(action, "fs_make") || str_eq(action, "fs_wipe"))
            rc = sto_host_fs(db, server, json_str(a, "device"),
                             str_eq(action, "fs_make"), json_str(a, "label"),
                             json_str(a, "cluster"));
        else {
            err_set(ERR_INVALID, "undo: unknown host action '%s'",
                    action ? action : "?");
            rc = -1;
        }
        if (rc < 0)
            return -1;
    }
    return 0;
}

/*
 * The undo of every operation here: the host actions, then the journal
 * in one transaction committed with the UNDONE row.
 */
int
storage_undo(struct job_ctx *ctx, json_object *args, json_object *undo)
{
    struct db_txn *t;

    (void)args;
    if (hv_undo(job_db(ctx), undo) < 0)
        return -1;
    if (!(t = job_txn_begin(ctx)))
        return -1;
    if (sto_journal_apply(ctx, t, undo) < 0) {
        db_txn_rollback(t);
        return -1;
    }
    return job_txn_commit(ctx, t, NULL);
}

/* Commit @t with @undo as the DONE row's undo data, or roll back when
 * @rc < 0. */
int
sto_finish(struct job_ctx *ctx, struct db_txn *t, int rc, json_object *undo)
{
    if (rc < 0) {
        db_txn_rollback(t);
        return -1;
    }
    return job_txn_commit(ctx, t, undo);
}

/* This Manager's uuid (its id). Caller frees. */
char *
sto_manager_uuid(struct db *db)
{
    return db_manager_id(db);
}

/* ---- the table ---- */

const struct job_op_type *const job_ops_storage[] = {
    &op_fsrv_create, &op_fsrv_update, &op_fsrv_refresh, &op_fsrv_delete,
    &op_fs_refresh, &op_repo_create, &op_repo_present, &op_repo_unpresent,
    &op_repo_release, &op_repo_take, &op_repo_refresh, &op_repo_delete,
    &op_array_create, &op_array_refresh, &op_array_delete, &op_group_create,
    &op_group_member, &op_group_delete, &op_element_update,
    &op_array_update,
    &op_fs_create, &op_fs_delete,
    NULL,
};
