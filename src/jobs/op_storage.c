/*
 * op_storage.c - file servers, file systems and repositories as job
 * operations, the storage rules shared with the handlers
 * (src/api/api_storage.c), and the storage side of server discovery and
 * server delete (storage.h).
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
 * Operations (arguments; every one records the undo data above):
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
#include "model/model.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"

LOG_MODULE("jobs");

#define NFS_PLUGIN "oracle.generic.NFSPlugin.GenericNFSPlugin (1.1.0)"
#define OCFS2_PLUGIN "oracle.ocfs2.OCFS2.OCFS2Plugin (0.1.0-42.1)"
#define OVSREPO ".ovsrepo"
#define OVSREPO_MAX 65536
#define REPO_MOUNT_ROOT "/OVS/Repositories"

/* ---- small helpers ---- */

/* String member @key of @o, or NULL (absent, null or not a string). */
static const char *
jstr(json_object *o, const char *key)
{
    json_object *v;

    if (!o || !json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static int64_t
jint(json_object *o, const char *key, int64_t def)
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
static const char *
rname(json_object *row)
{
    const char *s = jstr(row, "name");

    return s ? s : "";
}

/* Record @e again as the thread's error (after cleanup that may have
 * recorded errors of its own). */
static void
err_keep(const struct err *e)
{
    err_set_full(e->code, e->file, e->func, e->line, "%s", e->message);
}

static const struct model_type *
mt(const char *type)
{
    const struct model_type *t = model_type_find(type);

    assert(t);
    return t;
}

/* Free @n strings and the array (db_ids_free() under another name). */
static void
ids_free(char **ids, size_t n)
{
    db_ids_free(ids, n);
}

/* JSON array of strings -> *ids (new). 0, or -1 (ERR_INVALID). */
static int
json_ids(json_object *a, const char *what, char ***ids, size_t *n)
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
            ids_free(*ids, i);
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

static json_object *
sv_get(const struct storage_view *v, const char *type, const char *id)
{
    if (!id) {
        err_set(ERR_NOT_FOUND, "%s not found", type);
        return NULL;
    }
    return v->t ? db_txn_row_get(v->t, mt(type), id)
                : db_row_get(v->db, mt(type), id);
}

static int
sv_ids(const struct storage_view *v, const char *type, const char *column,
       const char *value, char ***ids, size_t *n)
{
    return v->t ? db_txn_row_ids(v->t, mt(type), column, value, ids, n)
                : db_row_ids(v->db, mt(type), column, value, ids, n);
}

static int
sv_links(const struct storage_view *v, const char *table, const char *owner,
         char ***ids, size_t *n)
{
    return v->t ? db_txn_links_get(v->t, table, owner, ids, n)
                : db_links_get(v->db, table, owner, ids, n);
}

/* The name of object @id of @type, copied into @out ("?" when gone). */
static const char *
sv_name(const struct storage_view *v, const char *type, const char *id,
        char *out, size_t size)
{
    json_object *row = sv_get(v, type, id);

    if (!row) {
        err_clear();
        str_copy(out, "?", size);
        return out;
    }
    str_copy(out, rname(row), size);
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
    };
    size_t i;

    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strcmp(kinds[i].type, type) == 0)
            return kinds[i].kind;
    }
    return "object";
}

/* events_add() for a job (@ctx may be NULL: no job). */
static int
ev(struct job_ctx *ctx, struct db_txn *t, int sev, const char *etype,
   const char *otype, const char *id, const char *name, const char *fmt,
   ...) __attribute__((format(printf, 8, 9)));

static int
ev(struct job_ctx *ctx, struct db_txn *t, int sev, const char *etype,
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
static char *
ovsrepo_get(const char *text, const char *key)
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
static char *
ovsrepo_set(const char *text, const char *key, const char *value)
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
static char *
ovsrepo_new(const char *id, const char *mgr, const char *alias,
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
static bool
repo_id_ok(const char *id)
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
static int
pool_of_fs(const struct storage_view *v, const char *fs_id, char *out,
           size_t size)
{
    char **ids = NULL;
    size_t n = 0;
    int found;

    if (sv_ids(v, "ServerPool", "pool_file_system_id", fs_id, &ids, &n) < 0)
        return -1;
    found = n > 0;
    if (found)
        sv_name(v, "ServerPool", ids[0], out, size);
    ids_free(ids, n);
    return found;
}

int
storage_check_fileserver_delete(const struct storage_view *v,
                                const char *id)
{
    AUTOPTR(json_object) json_object *fsrv = sv_get(v, "FileServer", id);
    char **fss = NULL, **repos = NULL, name[256], pool[256];
    size_t nfs = 0, nrepos = 0, i;
    int rc = -1, p;

    if (!fsrv)
        return -1;
    if (str_eq(jstr(fsrv, "file_server_type"), "LOCAL")) {
        err_set(ERR_STATE, "cannot delete file server '%s': a local file "
                           "server goes with its server ('%s'); delete the "
                           "server instead", rname(fsrv),
                sv_name(v, "Server", jstr(fsrv, "server_id"), name,
                        sizeof(name)));
        return -1;
    }
    if (sv_ids(v, "FileSystem", "file_server_id", id, &fss, &nfs) < 0)
        return -1;
    for (i = 0; i < nfs; i++) {
        if (sv_ids(v, "Repository", "file_system_id", fss[i], &repos,
                   &nrepos) < 0)
            goto cleanup;
        if (nrepos > 0) {
            char fsn[256];

            err_set(ERR_STATE, "cannot delete file server '%s': file system "
                               "'%s' has repository '%s'; delete the "
                               "repository first", rname(fsrv),
                    sv_name(v, "FileSystem", fss[i], fsn, sizeof(fsn)),
                    sv_name(v, "Repository", repos[0], name, sizeof(name)));
            goto cleanup;
        }
        ids_free(repos, nrepos);
        repos = NULL;
        nrepos = 0;
        p = pool_of_fs(v, fss[i], pool, sizeof(pool));
        if (p < 0)
            goto cleanup;
        if (p > 0) {
            err_set(ERR_STATE, "cannot delete file server '%s': file system "
                               "'%s' is the pool file system of server pool "
                               "'%s'; delete the server pool first",
                    rname(fsrv), sv_name(v, "FileSystem", fss[i], name,
                                         sizeof(name)), pool);
            goto cleanup;
        }
    }
    rc = 0;
 cleanup:
    ids_free(repos, nrepos);
    ids_free(fss, nfs);
    return rc;
}

int
storage_check_repo_create(const struct storage_view *v, const char *fs_id,
                          const char *share)
{
    AUTOPTR(json_object) json_object *fs = sv_get(v, "FileSystem", fs_id);
    char **repos = NULL, pool[256];
    size_t n = 0, i;
    int rc = -1, p;

    if (!fs || storage_check_share_path(share) < 0)
        return -1;
    if (!jint(fs, "present", 1)) {
        err_set(ERR_STATE, "cannot create a repository on file system '%s': "
                           "its file server no longer offers it (refresh "
                           "the file server)", rname(fs));
        return -1;
    }
    p = pool_of_fs(v, fs_id, pool, sizeof(pool));
    if (p < 0)
        return -1;
    if (p > 0) {
        err_set(ERR_STATE, "cannot create a repository on file system '%s': "
                           "it is the pool file system of server pool '%s'",
                rname(fs), pool);
        return -1;
    }
    if (sv_ids(v, "Repository", "file_system_id", fs_id, &repos, &n) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        AUTOPTR(json_object) json_object *r = sv_get(v, "Repository",
                                                     repos[i]);
        const char *other = r ? jstr(r, "share_path") : NULL;

        if (!r)
            goto cleanup;
        other = other ? other : "";
        if (strcmp(other, share ? share : "") == 0) {
            err_set(ERR_EXISTS, "file system '%s' already has repository "
                                "'%s' at share path '%s'", rname(fs),
                    rname(r), other);
            goto cleanup;
        }
        if (share_nested(other, share ? share : "")) {
            err_set(ERR_STATE, "cannot create a repository at share path "
                               "'%s' of file system '%s': it would nest with "
                               "repository '%s' at '%s'", share ? share : "",
                    rname(fs), rname(r), other);
            goto cleanup;
        }
    }
    rc = 0;
 cleanup:
    ids_free(repos, n);
    return rc;
}

/* The FileSystemMount id of @repo on @server ("<server>_mount_<repo>"). */
static char *
mount_id(const char *server, const char *repo)
{
    return xasprintf("%s_mount_%s", server, repo);
}

/* 1 when a row of @type @id exists, 0 when not, -1. */
static int
sv_exists(const struct storage_view *v, const char *type, const char *id)
{
    json_object *row = sv_get(v, type, id);

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
    AUTOPTR(json_object) json_object *r = sv_get(v, "Repository", repo_id);
    AUTOPTR(json_object) json_object *s = NULL, *fs = NULL, *fsrv = NULL;
    char *AUTOFREE mid = NULL;
    char other[256];
    int e;

    if (!r)
        return -1;
    if (!(s = sv_get(v, "Server", server_id)))
        return -1;
    if (!str_eq(jstr(r, "manager_uuid"), mgr)) {
        err_set(ERR_STATE, "cannot present repository '%s': this Manager "
                           "does not own it; take ownership first",
                rname(r));
        return -1;
    }
    if (!str_eq(jstr(s, "manager_uuid"), mgr)) {
        err_set(ERR_STATE, "cannot present repository '%s' to server '%s': "
                           "this Manager does not own the server",
                rname(r), rname(s));
        return -1;
    }
    if (!str_eq(jstr(s, "run_state"), "RUNNING")) {
        err_set(ERR_STATE, "cannot present repository '%s' to server '%s': "
                           "the server is not running (%s)", rname(r),
                rname(s), jstr(s, "run_state"));
        return -1;
    }
    if (!(fs = sv_get(v, "FileSystem", jstr(r, "file_system_id"))) ||
        !(fsrv = sv_get(v, "FileServer", jstr(fs, "file_server_id"))))
        return -1;
    if (!jint(fs, "present", 1)) {
        err_set(ERR_STATE, "cannot present repository '%s': its file system "
                           "'%s' is no longer offered by its file server",
                rname(r), rname(fs));
        return -1;
    }
    if (str_eq(jstr(fsrv, "file_server_type"), "LOCAL") &&
        !str_eq(jstr(fsrv, "server_id"), server_id)) {
        err_set(ERR_STATE, "cannot present repository '%s' to server '%s': "
                           "it is on the local storage of server '%s', which "
                           "only that server reaches", rname(r), rname(s),
                sv_name(v, "Server", jstr(fsrv, "server_id"), other,
                        sizeof(other)));
        return -1;
    }
    mid = mount_id(server_id, repo_id);
    e = sv_exists(v, "FileSystemMount", mid);
    if (e < 0)
        return -1;
    if (e > 0) {
        err_set(ERR_STATE, "repository '%s' is already presented to server "
                           "'%s'", rname(r), rname(s));
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

    if (sv_ids(v, "Vm", "repository_id", repo_id, &ids, &n) < 0)
        return -1;
    for (i = 0; i < n && !found; i++) {
        AUTOPTR(json_object) json_object *vm = sv_get(v, "Vm", ids[i]);

        if (!vm) {
            found = -1;
            break;
        }
        if (vm_active(jstr(vm, "run_state")) && jstr(vm, "server_id") &&
            (!server_id || str_eq(jstr(vm, "server_id"), server_id))) {
            str_copy(out, rname(vm), size);
            found = 1;
        }
    }
    ids_free(ids, n);
    ids = NULL;
    n = 0;
    if (found)
        return found;
    if (sv_ids(v, "VirtualDisk", "repository_id", repo_id, &ids, &n) < 0)
        return -1;
    for (i = 0; i < n && !found; i++) {
        if (sv_ids(v, "VmDiskMapping", "virtual_disk_id", ids[i], &maps,
                   &nm) < 0) {
            found = -1;
            break;
        }
        for (k = 0; k < nm && !found; k++) {
            AUTOPTR(json_object) json_object *m = sv_get(v, "VmDiskMapping",
                                                         maps[k]);
            AUTOPTR(json_object) json_object *vm =
                m ? sv_get(v, "Vm", jstr(m, "vm_id")) : NULL;

            if (!vm) {
                found = -1;
                break;
            }
            if (vm_active(jstr(vm, "run_state")) && jstr(vm, "server_id") &&
                (!server_id || str_eq(jstr(vm, "server_id"), server_id))) {
                str_copy(out, rname(vm), size);
                found = 1;
            }
        }
        ids_free(maps, nm);
        maps = NULL;
        nm = 0;
    }
    ids_free(ids, n);
    return found;
}

int
storage_check_unpresent(const struct storage_view *v, const char *repo_id,
                        const char *server_id)
{
    AUTOPTR(json_object) json_object *r = sv_get(v, "Repository", repo_id);
    AUTOPTR(json_object) json_object *s = NULL;
    char *AUTOFREE mid = NULL;
    char vm[256];
    int e;

    if (!r || !(s = sv_get(v, "Server", server_id)))
        return -1;
    mid = mount_id(server_id, repo_id);
    e = sv_exists(v, "FileSystemMount", mid);
    if (e < 0)
        return -1;
    if (e == 0) {
        err_set(ERR_STATE, "repository '%s' is not presented to server '%s'",
                rname(r), rname(s));
        return -1;
    }
    e = active_vm(v, repo_id, server_id, vm, sizeof(vm));
    if (e < 0)
        return -1;
    if (e > 0) {
        err_set(ERR_STATE, "cannot unpresent repository '%s' from server "
                           "'%s': virtual machine '%s' uses the repository "
                           "there; stop or migrate it first", rname(r),
                rname(s), vm);
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

    if (sv_ids(v, "FileSystemMount", "repository_id", repo_id, &ids, &n) < 0)
        return -1;
    found = n > 0;
    if (found) {
        AUTOPTR(json_object) json_object *m = sv_get(v, "FileSystemMount",
                                                     ids[0]);

        sv_name(v, "Server", m ? jstr(m, "server_id") : NULL, out, size);
        if (!m)
            err_clear();
    }
    ids_free(ids, n);
    return found;
}

int
storage_check_release(const struct storage_view *v, const char *repo_id,
                      const char *mgr)
{
    AUTOPTR(json_object) json_object *r = sv_get(v, "Repository", repo_id);
    char srv[256];
    int p;

    if (!r)
        return -1;
    if (!str_eq(jstr(r, "manager_uuid"), mgr)) {
        err_set(ERR_STATE, "cannot release ownership of repository '%s': "
                           "this Manager does not own it", rname(r));
        return -1;
    }
    p = presented_to(v, repo_id, srv, sizeof(srv));
    if (p < 0)
        return -1;
    if (p > 0) {
        err_set(ERR_STATE, "cannot release ownership of repository '%s': it "
                           "is presented to server '%s'; unpresent it "
                           "first", rname(r), srv);
        return -1;
    }
    return 0;
}

int
storage_check_take(const struct storage_view *v, const char *repo_id,
                   const char *mgr)
{
    AUTOPTR(json_object) json_object *r = sv_get(v, "Repository", repo_id);
    AUTOPTR(json_object) json_object *fs = NULL;

    if (!r)
        return -1;
    if (str_eq(jstr(r, "manager_uuid"), mgr)) {
        err_set(ERR_STATE, "cannot take ownership of repository '%s': this "
                           "Manager owns it already", rname(r));
        return -1;
    }
    if (!(fs = sv_get(v, "FileSystem", jstr(r, "file_system_id"))))
        return -1;
    if (!jint(fs, "present", 1)) {
        err_set(ERR_STATE, "cannot take ownership of repository '%s': its "
                           "file system '%s' is no longer offered by its "
                           "file server", rname(r), rname(fs));
        return -1;
    }
    return 0;
}

/* The first object of @type in repository @repo_id and how many there
 * are: *n, with the first one's name in @out. 0 or -1. */
static int
contents(const struct storage_view *v, const char *type, const char *repo_id,
         size_t *n, char *out, size_t size)
{
    char **ids = NULL;

    if (sv_ids(v, type, "repository_id", repo_id, &ids, n) < 0)
        return -1;
    if (*n > 0)
        sv_name(v, type, ids[0], out, size);
    ids_free(ids, *n);
    return 0;
}

/* 0 when no VM outside repository @r (a row) maps one of its disks,
 * else -1 with ERR_STATE naming the disk and the VM. */
static int
foreign_mapping(const struct storage_view *v, json_object *r)
{
    const char *repo = jstr(r, "id");
    char **ids = NULL, **maps = NULL;
    size_t n = 0, nm = 0, i, k;
    int rc = 0;

    if (sv_ids(v, "VirtualDisk", "repository_id", repo, &ids, &n) < 0)
        return -1;
    for (i = 0; i < n && rc == 0; i++) {
        if (sv_ids(v, "VmDiskMapping", "virtual_disk_id", ids[i], &maps,
                   &nm) < 0) {
            rc = -1;
            break;
        }
        for (k = 0; k < nm && rc == 0; k++) {
            AUTOPTR(json_object) json_object *m = sv_get(v, "VmDiskMapping",
                                                         maps[k]);
            AUTOPTR(json_object) json_object *vm =
                m ? sv_get(v, "Vm", jstr(m, "vm_id")) : NULL;

            if (!vm) {
                rc = -1;
            } else if (!str_eq(jstr(vm, "repository_id"), repo)) {
                err_set(ERR_STATE, "cannot delete repository '%s': its "
                                   "virtual disk '%s' is used by virtual "
                                   "machine '%s' of another repository",
                        rname(r), ids[i], rname(vm));
                rc = -1;
            }
        }
        ids_free(maps, nm);
        maps = NULL;
        nm = 0;
    }
    ids_free(ids, n);
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
    AUTOPTR(json_object) json_object *r = sv_get(v, "Repository", repo_id);
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
                           "to server '%s'; unpresent it first", rname(r),
                name);
        return -1;
    }
    if (str_eq(jstr(r, "manager_uuid"), mgr)) {
        for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
            if (contents(v, kinds[i].type, repo_id, &n, name,
                         sizeof(name)) < 0)
                return -1;
            if (n > 0) {
                err_set(ERR_STATE, "cannot delete repository '%s': it still "
                                   "holds %s '%s'%s; delete its contents "
                                   "first", rname(r), kinds[i].what, name,
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
                           "'%s' uses it", rname(r), name);
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

    sv_name(v, "Server", server_id, sname, sizeof(sname));
    if (sv_ids(v, "FileSystemMount", "server_id", server_id, &ids, &n) < 0)
        return -1;
    if (n > 0) {
        AUTOPTR(json_object) json_object *m = sv_get(v, "FileSystemMount",
                                                     ids[0]);

        sv_name(v, "Repository", m ? jstr(m, "repository_id") : NULL, rn,
                sizeof(rn));
        err_set(ERR_STATE, "cannot delete server '%s': repository '%s' is "
                           "presented to it; unpresent repository '%s' "
                           "first", sname, rn, rn);
        goto cleanup;
    }
    ids_free(ids, n);
    ids = NULL;
    n = 0;
    if (sv_ids(v, "FileServer", "server_id", server_id, &ids, &n) < 0)
        goto cleanup;
    for (i = 0; i < n; i++) {
        size_t k;

        if (sv_ids(v, "FileSystem", "file_server_id", ids[i], &fss,
                   &nfs) < 0)
            goto cleanup;
        for (k = 0; k < nfs; k++) {
            if (sv_ids(v, "Repository", "file_system_id", fss[k], &repos,
                       &nr) < 0)
                goto cleanup;
            if (nr > 0) {
                sv_name(v, "Repository", repos[0], rn, sizeof(rn));
                err_set(ERR_STATE, "cannot delete server '%s': repository "
                                   "'%s' is on its local storage; delete "
                                   "repository '%s' first", sname, rn, rn);
                goto cleanup;
            }
            ids_free(repos, nr);
            repos = NULL;
            nr = 0;
        }
        ids_free(fss, nfs);
        fss = NULL;
        nfs = 0;
    }
    rc = 0;
 cleanup:
    ids_free(repos, nr);
    ids_free(fss, nfs);
    ids_free(ids, n);
    return rc;
}

/* True when server @id exists and is RUNNING (errors count as no). */
static bool
running(const struct storage_view *v, const char *id)
{
    json_object *s = sv_get(v, "Server", id);
    bool ok = s && str_eq(jstr(s, "run_state"), "RUNNING");

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
static char *
acting_server(const struct storage_view *v, json_object *fsrv, bool refresh)
{
    const char *tables[2];
    char **ids = NULL, *found = NULL;
    size_t n = 0, i, k;

    if (str_eq(jstr(fsrv, "file_server_type"), "LOCAL")) {
        if (running(v, jstr(fsrv, "server_id")))
            return xstrdup(jstr(fsrv, "server_id"));
        err_set(ERR_STATE, "the server of local file server '%s' is not "
                           "running", rname(fsrv));
        return NULL;
    }
    tables[0] = refresh ? "file_server_refreshers" : "file_server_admins";
    tables[1] = refresh ? "file_server_admins" : "file_server_refreshers";
    for (k = 0; k < 2 && !found; k++) {
        if (sv_links(v, tables[k], jstr(fsrv, "id"), &ids, &n) < 0)
            return NULL;
        for (i = 0; i < n && !found; i++) {
            if (running(v, ids[i]))
                found = xstrdup(ids[i]);
        }
        ids_free(ids, n);
    }
    if (!found)
        err_set(ERR_STATE, "file server '%s' has no running admin server",
                rname(fsrv));
    return found;
}

int
storage_check_reachable(const struct storage_view *v, const char *fsrv_id)
{
    AUTOPTR(json_object) json_object *fsrv = sv_get(v, "FileServer",
                                                    fsrv_id);
    char *s;

    if (!fsrv || !(s = acting_server(v, fsrv, true)))
        return -1;
    xfree(s);
    return 0;
}

/* ---- the undo journal ---- */

static json_object *
undo_new(void)
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
static void
jr_created(json_object *undo, const char *type, const char *id)
{
    json_object *s = json_object_new_object();

    json_object_object_add(s, "created", json_object_new_string(type));
    json_object_object_add(s, "id", json_object_new_string(id));
    json_object_array_add(steps_of(undo), s);
}

/* Journal: the row of @type @id as it is now (once per object). */
static int
jr_row(struct db_txn *t, json_object *undo, const char *type, const char *id)
{
    json_object *steps = steps_of(undo), *s, *row;
    size_t i, n = json_object_array_length(steps);

    for (i = 0; i < n; i++) {
        json_object *st = json_object_array_get_idx(steps, i), *r;

        if (json_object_object_get_ex(st, "row", &r) &&
            str_eq(jstr(r, "id"), id))
            return 0;
    }
    if (!(row = db_txn_row_get(t, mt(type), id)))
        return -1;
    s = json_object_new_object();
    json_object_object_add(s, "type", json_object_new_string(type));
    json_object_object_add(s, "row", row);
    json_object_array_add(steps, s);
    return 0;
}

/* Journal: link table @table of @owner as it is now. */
static int
jr_links(struct db_txn *t, json_object *undo, const char *table,
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
    ids_free(ids, n);
    s = json_object_new_object();
    json_object_object_add(s, "links", json_object_new_string(table));
    json_object_object_add(s, "owner", json_object_new_string(owner));
    json_object_object_add(s, "ids", a);
    json_object_array_add(steps_of(undo), s);
    return 0;
}

/* Journal: a host action for the undo (see storage_undo()). */
static json_object *
jr_hv(json_object *undo, const char *action)
{
    json_object *a = json_object_new_object(), *hv = NULL;

    json_object_object_add(a, "action", json_object_new_string(action));
    json_object_object_get_ex(undo, "hv", &hv);
    json_object_array_add(hv, a);
    return a;
}

static void
set_str(json_object *o, const char *key, const char *v)
{
    json_object_object_add(o, key, json_str_or_null(v));
}

/* Apply the journal @undo's steps (see DESIGN) inside @t. @ctx NULL:
 * raise no events. */
static int
journal_apply(struct job_ctx *ctx, struct db_txn *t, json_object *undo)
{
    json_object *steps = steps_of(undo);
    size_t n = steps ? json_object_array_length(steps) : 0, i;

    /* Created objects go, newest first. */
    for (i = n; i-- > 0;) {
        json_object *s = json_object_array_get_idx(steps, i);
        const char *type = jstr(s, "created"), *id = jstr(s, "id");
        char etype[64];
        json_object *row;

        if (!type || !id)
            continue;
        if (!model_type_find(type)) {
            err_set(ERR_INVALID, "undo: unknown type '%s'", type);
            return -1;
        }
        row = db_txn_row_get(t, mt(type), id);
        if (!row) {
            if (err_code() != ERR_NOT_FOUND)
                return -1;
            err_clear();
            continue;
        }
        snprintf(etype, sizeof(etype), "%s.deleted", kind_of(type));
        if (db_txn_row_delete(t, mt(type), id) < 0 ||
            (ctx && ev(ctx, t, SEV_INFORMATIONAL, etype, type, id,
                       rname(row), "%s '%s' removed: its creation was "
                       "undone", type, rname(row)) < 0)) {
            json_object_put(row);
            return -1;
        }
        json_object_put(row);
    }
    /* Rows written back, oldest first; then link lists. */
    for (i = 0; i < n; i++) {
        json_object *s = json_object_array_get_idx(steps, i), *row;
        const char *type = jstr(s, "type");

        if (!type || !json_object_object_get_ex(s, "row", &row))
            continue;
        if (!model_type_find(type)) {
            err_set(ERR_INVALID, "undo: unknown type '%s'", type);
            return -1;
        }
        if (db_txn_row_restore(t, mt(type), row) < 0)
            return -1;
        if (ctx && ev(ctx, t, SEV_INFORMATIONAL, "object.restored", type,
                      jstr(row, "id"), rname(row), "%s '%s' restored: the "
                      "job's change was undone", type, rname(row)) < 0)
            return -1;
    }
    for (i = 0; i < n; i++) {
        json_object *s = json_object_array_get_idx(steps, i), *a;
        const char *table = jstr(s, "links"), *owner = jstr(s, "owner");
        char **ids = NULL;
        size_t k;
        int rc;

        if (!table || !owner)
            continue;
        if (!json_object_object_get_ex(s, "ids", &a) ||
            json_ids(a, "undo links", &ids, &k) < 0)
            return -1;
        rc = db_txn_links_set(t, table, owner, ids, k);
        ids_free(ids, k);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* ---- the host side ---- */

/* The storage ops of the driver, or NULL with ERR_UNSUPPORTED when it
 * has none or not @slot_ok. */
static const struct hv_storage_ops *
ops_for(bool slot_ok, const char *what)
{
    if (!storage_hv->storage || !slot_ok) {
        err_set(ERR_UNSUPPORTED, "cannot %s: the hypervisor driver '%s' has "
                                 "no storage support for it", what,
                storage_hv->name);
        return NULL;
    }
    return storage_hv->storage;
}

#define HAS(slot) (storage_hv->storage && storage_hv->storage->slot)

static int
st_exports(struct hv_conn *c, const char *host, char ***v, size_t *n)
{
    const struct hv_storage_ops *o = ops_for(HAS(nfs_exports),
                                             "list NFS exports");

    return o ? o->nfs_exports(c, host, v, n) : -1;
}

static int
st_probe(struct hv_conn *c, const struct hv_fs *fs, const char *share,
         struct hv_space *sp, char **ovsrepo)
{
    const struct hv_storage_ops *o = ops_for(HAS(fs_probe),
                                             "probe a file system");

    *ovsrepo = NULL;
    return o ? o->fs_probe(c, fs, share, sp, ovsrepo) : -1;
}

static int
st_mount(struct hv_conn *c, const char *repo, const struct hv_fs *fs,
         const char *share, bool build)
{
    const struct hv_storage_ops *o = ops_for(HAS(repo_mount),
                                             "mount a repository");

    return o ? o->repo_mount(c, repo, fs, share ? share : "", build) : -1;
}

static int
st_unmount(struct hv_conn *c, const char *repo)
{
    const struct hv_storage_ops *o = ops_for(HAS(repo_unmount),
                                             "unmount a repository");

    return o ? o->repo_unmount(c, repo) : -1;
}

static int
st_mounted(struct hv_conn *c, const char *repo)
{
    const struct hv_storage_ops *o = ops_for(HAS(repo_mounted),
                                             "look at a mount");

    return o ? o->repo_mounted(c, repo) : -1;
}

static int
st_destroy(struct hv_conn *c, const char *repo)
{
    const struct hv_storage_ops *o = ops_for(HAS(repo_destroy),
                                             "remove a repository");

    return o ? o->repo_destroy(c, repo) : -1;
}

static int
st_list(struct hv_conn *c, const char *repo, enum hv_repo_dir dir,
        struct hv_file **out, size_t *n)
{
    const struct hv_storage_ops *o = ops_for(HAS(file_list),
                                             "list repository files");

    *out = NULL;
    *n = 0;
    return o ? o->file_list(c, repo, dir, out, n) : -1;
}

/* Read a small file of @dir whole, as a NUL-terminated string. */
static int
st_read_dir(struct hv_conn *c, const char *repo, enum hv_repo_dir dir,
            const char *name, char **text)
{
    const struct hv_storage_ops *o = ops_for(HAS(file_read),
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
static int
st_read(struct hv_conn *c, const char *repo, const char *name, char **text)
{
    return st_read_dir(c, repo, HV_DIR_ROOT, name, text);
}

static int
st_write(struct hv_conn *c, const char *repo, const char *name,
         const char *text)
{
    const struct hv_storage_ops *o = ops_for(HAS(file_write),
                                             "write a repository file");

    return o ? o->file_write(c, repo, HV_DIR_ROOT, name, text, strlen(text))
             : -1;
}

/* A file system as a job reaches it: the spec and a connection to the
 * server acting for it. */
struct fs_access {
    struct hv_fs fs;
    json_object *hold;     /* owns the strings of fs */
    char *server_id;       /* the acting server */
    struct hv_conn *conn;
};

static void
fs_access_close(struct fs_access *a)
{
    if (a->conn)
        storage_hv->close(a->conn);
    json_object_put(a->hold);
    xfree(a->server_id);
    memset(a, 0, sizeof(*a));
}

/* Open @a for file system @fs_id through its admin server. */
static int
fs_access_open(struct db *db, const char *fs_id, struct fs_access *a)
{
    memset(a, 0, sizeof(*a));
    if (storage_fs_spec(db, fs_id, &a->fs, &a->hold, &a->server_id) < 0)
        return -1;
    a->conn = storage_server_open(db, a->server_id);
    if (!a->conn) {
        struct err e = *err_get();

        fs_access_close(a);
        err_keep(&e);
        return -1;
    }
    return 0;
}

/*
 * Mount repository @repo (@share of @a's file system) on @a's server for
 * a moment, unless it is mounted there already: *was says which, for
 * tmp_unmount(). @build: create the tree (a new repository).
 */
static int
tmp_mount(struct fs_access *a, const char *repo, const char *share,
          bool build, bool *was)
{
    int m = st_mounted(a->conn, repo);

    if (m < 0)
        return -1;
    *was = m == 1;
    if (*was)
        return 0;
    return st_mount(a->conn, repo, &a->fs, share, build);
}

/* Undo tmp_mount(); keeps the thread's error when @keep. */
static void
tmp_unmount(struct fs_access *a, const char *repo, bool was)
{
    struct err e = *err_get();

    if (!was && st_unmount(a->conn, repo) < 0)
        log_warnx("cannot unmount repository '%s' from server '%s': %s",
                  repo, a->server_id, err_message());
    if (e.code != ERR_OK)
        err_keep(&e);
    else
        err_clear();
}

/*
 * Build repository @repo's tree at @share of file system @fs_id and write
 * its .ovsrepo @text (a new repository, or the undo of a delete). 0/-1.
 */
static int
hv_build(struct db *db, const char *fs_id, const char *repo,
         const char *share, const char *text)
{
    struct fs_access a;
    bool was;
    int rc = -1;

    if (fs_access_open(db, fs_id, &a) < 0)
        return -1;
    if (tmp_mount(&a, repo, share, true, &was) == 0) {
        rc = st_write(a.conn, repo, OVSREPO, text);
        tmp_unmount(&a, repo, was);
    }
    fs_access_close(&a);
    return rc;
}

/* Remove repository @repo's tree (through @fs_id's admin server). When
 * @text is not NULL, *text receives its .ovsrepo first (NULL when it had
 * none). @missing_ok: a root that is gone already is success. */
static int
hv_destroy(struct db *db, const char *fs_id, const char *repo,
           const char *share, char **text, bool missing_ok)
{
    struct fs_access a;
    bool was;
    int rc = -1;

    if (text)
        *text = NULL;
    if (fs_access_open(db, fs_id, &a) < 0)
        return -1;
    if (tmp_mount(&a, repo, share, false, &was) < 0) {
        if (missing_ok && err_code() == ERR_NOT_FOUND) {
            log_info("repository '%s': its tree is gone already: %s", repo,
                     err_message());
            err_clear();
            rc = 0;
        }
        goto out;
    }
    if (text && st_read(a.conn, repo, OVSREPO, text) < 0) {
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
    tmp_unmount(&a, repo, was);
 out:
    fs_access_close(&a);
    return rc;
}

/* Write .ovsrepo @text of @repo through @fs_id's admin server; *old (may
 * be NULL) receives the text it replaces (NULL when there was none). */
static int
hv_ovsrepo(struct db *db, const char *fs_id, const char *repo,
           const char *share, const char *text, char **old)
{
    struct fs_access a;
    bool was;
    int rc = -1;

    if (old)
        *old = NULL;
    if (fs_access_open(db, fs_id, &a) < 0)
        return -1;
    if (tmp_mount(&a, repo, share, false, &was) < 0)
        goto out;
    if (old && st_read(a.conn, repo, OVSREPO, old) < 0) {
        if (err_code() != ERR_NOT_FOUND)
            goto unmount;
        err_clear();
    }
    rc = st_write(a.conn, repo, OVSREPO, text);
 unmount:
    tmp_unmount(&a, repo, was);
 out:
    fs_access_close(&a);
    return rc;
}

/* Mount (@mount) or unmount repository @repo on server @server. */
static int
hv_present(struct db *db, const char *server, const char *repo, bool mount)
{
    AUTOPTR(json_object) json_object *r = NULL, *hold = NULL;
    struct hv_conn *c;
    struct hv_fs fs;
    int rc;

    if (mount) {
        if (!(r = db_row_get(db, mt("Repository"), repo)) ||
            storage_fs_spec(db, jstr(r, "file_system_id"), &fs, &hold,
                            NULL) < 0)
            return -1;
    }
    if (!(c = storage_server_open(db, server)))
        return -1;
    rc = mount ? st_mount(c, repo, &fs, jstr(r, "share_path"), false)
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
        const char *action = jstr(a, "action"), *repo = jstr(a, "repo");
        const char *fs = jstr(a, "fs"), *share = jstr(a, "share");
        const char *server = jstr(a, "server"), *text = jstr(a, "text");
        int rc;

        if (str_eq(action, "unmount") || str_eq(action, "mount"))
            rc = hv_present(db, server, repo, str_eq(action, "mount"));
        else if (str_eq(action, "destroy"))
            rc = hv_destroy(db, fs, repo, share, NULL, true);
        else if (str_eq(action, "build"))
            rc = hv_build(db, fs, repo, share, text ? text : "");
        else if (str_eq(action, "ovsrepo"))
            rc = hv_ovsrepo(db, fs, repo, share, text ? text : "", NULL);
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
static int
storage_undo(struct job_ctx *ctx, json_object *args, json_object *undo)
{
    struct db_txn *t;

    (void)args;
    if (hv_undo(job_db(ctx), undo) < 0)
        return -1;
    if (!(t = job_txn_begin(ctx)))
        return -1;
    if (journal_apply(ctx, t, undo) < 0) {
        db_txn_rollback(t);
        return -1;
    }
    return job_txn_commit(ctx, t, NULL);
}

/* Commit @t with @undo as the DONE row's undo data, or roll back when
 * @rc < 0. */
static int
finish(struct job_ctx *ctx, struct db_txn *t, int rc, json_object *undo)
{
    if (rc < 0) {
        db_txn_rollback(t);
        return -1;
    }
    return job_txn_commit(ctx, t, undo);
}

/* This Manager's uuid (its id). Caller frees. */
static char *
manager_uuid(struct db *db)
{
    return db_manager_id(db);
}

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
    bool local = str_eq(jstr(fsrv, "file_server_type"), "LOCAL");
    struct hv_fs fs;
    size_t i;

    for (i = 0; i < n; i++) {
        if (p[i].state != PROBE_OK)
            continue;
        job_progress(ctx, "probing %s", p[i].path);
        fs.kind = local ? "local" : "nfs";
        fs.host = local ? NULL : jstr(fsrv, "access_host");
        fs.path = p[i].path;
        if (st_probe(c, &fs, "", &p[i].space, &p[i].ovsrepo) == 0)
            continue;
        if (err_code() == ERR_NOT_FOUND) {
            p[i].state = local ? PROBE_KEEP : PROBE_MISSING;
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

    if (sv_ids(v, "Repository", "file_system_id", fs_id, &ids, &n) < 0)
        return -1;
    ids_free(ids, n);
    if (n > 0)
        return 1;
    p = pool_of_fs(v, fs_id, pool, sizeof(pool));
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
    char *AUTOFREE id = ovsrepo_get(text, "OVS_REPO_UUID");
    char *AUTOFREE owner = ovsrepo_get(text, "OVS_REPO_MGR_UUID");
    char *AUTOFREE alias = ovsrepo_get(text, "OVS_REPO_ALIAS");
    AUTOPTR(json_object) json_object *row = NULL;
    const char *fs_id = jstr(fs, "id");
    char **ids = NULL;
    size_t n = 0, i;
    int e;

    if (!id || !repo_id_ok(id))
        return ev(ctx, t, SEV_WARNING, "filesystem.bad_repository",
                  "FileSystem", fs_id, rname(fs), "file system '%s' holds a "
                  ".ovsrepo without a usable OVS_REPO_UUID ('%.64s'): "
                  "ignored", rname(fs), id ? id : "");
    e = sv_exists(&v, "Repository", id);
    if (e != 0)
        return e < 0 ? -1 : 0;  /* known: nothing to do */
    /* The id may be some other object's. */
    {
        struct db_common c = { 0 };

        if (db_txn_object_common(t, id, &c) == 0) {
            db_common_clear(&c);
            return ev(ctx, t, SEV_WARNING, "filesystem.bad_repository",
                      "FileSystem", fs_id, rname(fs), "file system '%s' "
                      "holds repository '%s', an id this Manager uses for "
                      "a %s: ignored", rname(fs), id, c.type ? c.type : "?");
        }
        err_clear();
    }
    if (sv_ids(&v, "Repository", "file_system_id", fs_id, &ids, &n) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        AUTOPTR(json_object) json_object *r = sv_get(&v, "Repository",
                                                     ids[i]);

        if (r && str_eq(jstr(r, "share_path"), "")) {
            e = ev(ctx, t, SEV_WARNING, "filesystem.bad_repository",
                   "FileSystem", fs_id, rname(fs), "file system '%s' holds "
                   "repository '%s' in its .ovsrepo, but this Manager has "
                   "repository '%s' there: ignored", rname(fs), id,
                   rname(r));
            ids_free(ids, n);
            return e;
        }
    }
    ids_free(ids, n);
    row = json_object_new_object();
    set_str(row, "id", id);
    set_str(row, "name", alias && *alias ? alias : id);
    set_str(row, "file_system_id", fs_id);
    set_str(row, "share_path", "");
    set_str(row, "manager_uuid", owner && *owner ? owner : NULL);
    if (db_txn_row_insert(t, mt("Repository"), row) < 0)
        return -1;
    jr_created(undo, "Repository", id);
    return ev(ctx, t, SEV_INFORMATIONAL, "repository.discovered",
              "Repository", id, alias && *alias ? alias : id,
              "repository '%s' found on file system '%s': %s",
              alias && *alias ? alias : id, rname(fs),
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
    bool local = str_eq(jstr(fsrv, "file_server_type"), "LOCAL");
    AUTOPTR(json_object) json_object *fs = NULL, *cols = NULL;
    char *AUTOFREE id = NULL, *AUTOFREE name = NULL;
    int used;

    if (!p->fs_id) {
        if (p->state != PROBE_OK)
            return 0;
        id = model_id_new(mt("FileSystem"));
        name = xasprintf("%s:%s", local ? "local" : "nfs", p->path);
        fs = json_object_new_object();
        set_str(fs, "id", id);
        set_str(fs, "name", name);
        set_str(fs, "file_server_id", jstr(fsrv, "id"));
        set_str(fs, "path", p->path);
        json_object_object_add(fs, "size", json_object_new_int64(
                                   (int64_t)p->space.capacity_bytes));
        json_object_object_add(fs, "free_size", json_object_new_int64(
                                   (int64_t)p->space.available_bytes));
        json_object_object_add(fs, "refreshed", json_object_new_int(1));
        json_object_object_add(fs, "shared", json_object_new_int(!local));
        json_object_object_add(fs, "present", json_object_new_int(1));
        if (db_txn_row_insert(t, mt("FileSystem"), fs) < 0)
            return -1;
        jr_created(undo, "FileSystem", id);
        if (ev(ctx, t, SEV_INFORMATIONAL, "filesystem.created", "FileSystem",
               id, jstr(fs, "name"), "file system '%s' found on file server "
               "'%s'", jstr(fs, "name"), rname(fsrv)) < 0)
            return -1;
        if (p->ovsrepo)
            return discover_repo(ctx, t, undo, fs, p->ovsrepo, mgr);
        return 0;
    }
    if (!(fs = db_txn_row_get(t, mt("FileSystem"), p->fs_id)))
        return -1;
    cols = json_object_new_object();
    switch (p->state) {
    case PROBE_OK:
        if (jint(fs, "size", 0) != (int64_t)p->space.capacity_bytes ||
            jint(fs, "free_size", 0) != (int64_t)p->space.available_bytes ||
            !jint(fs, "refreshed", 0) || !jint(fs, "present", 1)) {
            json_object_object_add(cols, "size", json_object_new_int64(
                                       (int64_t)p->space.capacity_bytes));
            json_object_object_add(cols, "free_size", json_object_new_int64(
                                       (int64_t)p->space.available_bytes));
            json_object_object_add(cols, "refreshed",
                                   json_object_new_int(1));
            json_object_object_add(cols, "present", json_object_new_int(1));
            if (jr_row(t, undo, "FileSystem", p->fs_id) < 0 ||
                db_txn_row_update(t, mt("FileSystem"), p->fs_id, cols,
                                  true) < 0)
                return -1;
            if (!jint(fs, "present", 1) &&
                ev(ctx, t, SEV_INFORMATIONAL, "filesystem.found",
                   "FileSystem", p->fs_id, rname(fs), "file system '%s' is "
                   "offered by file server '%s' again", rname(fs),
                   rname(fsrv)) < 0)
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
            if (!jint(fs, "present", 1))
                return 0;
            json_object_object_add(cols, "present", json_object_new_int(0));
            if (jr_row(t, undo, "FileSystem", p->fs_id) < 0 ||
                db_txn_row_update(t, mt("FileSystem"), p->fs_id, cols,
                                  true) < 0)
                return -1;
            return ev(ctx, t, SEV_WARNING, "filesystem.missing",
                      "FileSystem", p->fs_id, rname(fs), "file system '%s' "
                      "is no longer offered by file server '%s'; it is kept "
                      "while repositories or a server pool use it",
                      rname(fs), rname(fsrv));
        }
        if (jr_row(t, undo, "FileSystem", p->fs_id) < 0 ||
            db_txn_row_delete(t, mt("FileSystem"), p->fs_id) < 0)
            return -1;
        return ev(ctx, t, SEV_INFORMATIONAL, "filesystem.deleted",
                  "FileSystem", p->fs_id, rname(fs), "file system '%s' is "
                  "no longer offered by file server '%s' and was removed",
                  rname(fs), rname(fsrv));
    case PROBE_KEEP:
        return 0;
    case PROBE_FAILED:
        return ev(ctx, t, SEV_WARNING, "filesystem.probe_failed",
                  "FileSystem", p->fs_id, rname(fs), "cannot look at file "
                  "system '%s': %s", rname(fs), p->error ? p->error : "?");
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
    bool network = !str_eq(jstr(fsrv, "file_server_type"), "LOCAL");
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
    } else if (sv_ids(&v, "FileSystem", "file_server_id", jstr(fsrv, "id"),
                      &known, &nknown) < 0) {
        return -1;
    }
    seen = xcalloc(nknown + 1, sizeof(*seen));
    if (network && !only) {
        job_progress(ctx, "listing the exports of %s",
                     jstr(fsrv, "access_host"));
        if (st_exports(c, jstr(fsrv, "access_host"), &exports, &nexp) < 0)
            goto cleanup;
    }
    p = xcalloc(nexp + nknown + 1, sizeof(*p));
    for (i = 0; i < nexp; i++) {
        p[n].path = xstrdup(exports[i]);
        for (k = 0; k < nknown; k++) {
            AUTOPTR(json_object) json_object *fs = sv_get(&v, "FileSystem",
                                                          known[k]);

            if (!fs)
                goto cleanup;
            if (str_eq(jstr(fs, "path"), exports[i])) {
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
        if (!(fs = sv_get(&v, "FileSystem", known[k])))
            goto cleanup;
        if (!str_eq(jstr(fs, "file_server_id"), jstr(fsrv, "id"))) {
            err_set(ERR_INVALID, "file system '%s' is not one of file "
                                 "server '%s'", known[k], rname(fsrv));
            goto cleanup;
        }
        p[n].path = xstrdup(jstr(fs, "path") ? jstr(fs, "path") : "");
        p[n].fs_id = xstrdup(known[k]);
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
    ids_free(known, nknown);
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
    if (sv_ids(v, "FileServer", "access_host", host, &ids, &n) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        AUTOPTR(json_object) json_object *f = sv_get(v, "FileServer",
                                                     ids[i]);

        if (!f)
            goto cleanup;
        if (str_eq(jstr(f, "file_server_type"), "NETWORK")) {
            err_set(ERR_EXISTS, "file server '%s' already has access host "
                                "'%s'", rname(f), host);
            goto cleanup;
        }
    }
    rc = storage_check_admins(v, admins, nadmins, "admin server", mgr);
    if (rc == 0)
        rc = storage_check_admins(v, refreshers, nrefreshers,
                                  "refresh server", mgr);
 cleanup:
    ids_free(ids, n);
    return rc;
}

int
storage_check_admins(const struct storage_view *v, char *const *ids,
                     size_t n, const char *what, const char *mgr)
{
    size_t i;

    for (i = 0; i < n; i++) {
        AUTOPTR(json_object) json_object *s = sv_get(v, "Server", ids[i]);

        if (!s)
            return -1;
        if (!str_eq(jstr(s, "manager_uuid"), mgr)) {
            err_set(ERR_STATE, "server '%s' cannot be an %s: this Manager "
                               "does not own it", rname(s), what);
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
    if (json_ids(a, "admins", admins, na) < 0)
        return -1;
    if (json_ids(r, "refreshers", refreshers, nr) < 0) {
        ids_free(*admins, *na);
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
    const char *id = jstr(args, "id"), *name = jstr(args, "name");
    const char *host = jstr(args, "accessHost");
    const char *plugin = jstr(args, "pluginId");
    AUTOPTR(json_object) json_object *fsrv = NULL, *u = undo_new();
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
    if (!(mgr = manager_uuid(db)) ||
        storage_check_fileserver_new(&rv, host, admins, na, refr, nr,
                                     mgr) < 0)
        goto out;
    fsrv = json_object_new_object();
    set_str(fsrv, "id", id);
    set_str(fsrv, "name", name);
    if (jstr(args, "description"))
        set_str(fsrv, "description", jstr(args, "description"));
    if (json_object_object_get_ex(args, "userData", &ud) && ud)
        set_str(fsrv, "user_data", json_to_text(ud));
    set_str(fsrv, "file_server_type", "NETWORK");
    set_str(fsrv, "plugin_id", plugin);
    set_str(fsrv, "access_host", host);
    json_object_object_add(fsrv, "uniform_exports", json_object_new_int(
                               (int)jint(args, "uniformExports", 1)));
    json_object_object_add(fsrv, "refreshed_ms",
                           json_object_new_int64(time_now_ms()));
    for (i = 0; i < na && !sid; i++) {
        if (running(&rv, admins[i]))
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
        db_txn_row_insert(t, mt("FileServer"), fsrv) < 0)
        goto fail;
    jr_created(u, "FileServer", id);
    if (db_txn_links_set(t, "file_server_admins", id, admins, na) < 0 ||
        db_txn_links_set(t, "file_server_refreshers", id, refr, nr) < 0 ||
        ev(ctx, t, SEV_INFORMATIONAL, "fileserver.created", "FileServer", id,
           name, "file server '%s' (%s) registered with %zu file "
           "system%s", name, host, np, np == 1 ? "" : "s") < 0)
        goto fail;
    for (i = 0; i < np; i++) {
        if (apply_probe(ctx, t, u, fsrv, &p[i], mgr) < 0)
            goto fail;
    }
    job_set_result(ctx, "FileServer", id, name);
    rc = finish(ctx, t, 0, u);
    t = NULL;
    goto out;
 fail:
    db_txn_rollback(t);
 out:
    if (c)
        storage_hv->close(c);
    probes_free(p, np);
    ids_free(admins, na);
    ids_free(refr, nr);
    return rc;
}

/* Replace the admin (@table) servers of @id with @ids, journaled. */
static int
set_links(struct db_txn *t, json_object *u, const char *table,
          const char *id, char *const *ids, size_t n)
{
    if (jr_links(t, u, table, id) < 0)
        return -1;
    return db_txn_links_set(t, table, id, ids, n);
}

static int
fsrv_update_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
                 json_object *u)
{
    struct storage_view tv = { NULL, t };
    const char *id = jstr(args, "id");
    AUTOPTR(json_object) json_object *f = NULL, *cols = NULL;
    char **admins = NULL, **refr = NULL, *AUTOFREE mgr = NULL;
    size_t na = 0, nr = 0;
    json_object *a = NULL, *r = NULL, *ud = NULL;
    int64_t gen = jint(args, "generation", -1);
    bool local;
    int rc = -1;

    if (!id) {
        err_set(ERR_INVALID, "fileserver.update needs 'id'");
        return -1;
    }
    if (!(f = db_txn_row_get(t, mt("FileServer"), id)))
        return -1;
    if (gen >= 0 && gen != jint(f, "generation", 0)) {
        err_set(ERR_CONFLICT, "FileServer '%s' was changed by someone else: "
                              "the request was made from generation %" PRId64
                              " but it is at generation %" PRId64,
                rname(f), gen, jint(f, "generation", 0));
        return -1;
    }
    local = str_eq(jstr(f, "file_server_type"), "LOCAL");
    json_object_object_get_ex(args, "admins", &a);
    json_object_object_get_ex(args, "refreshers", &r);
    if (!(mgr = manager_uuid(job_db(ctx))) ||
        server_lists(args, &admins, &na, &refr, &nr) < 0)
        return -1;
    if ((a || r) && local) {
        err_set(ERR_STATE, "the admin server of local file server '%s' is "
                           "its own server", rname(f));
        goto out;
    }
    if (a && na == 0) {
        err_set(ERR_INVALID, "a file server needs at least one admin server "
                             "('adminServerIds')");
        goto out;
    }
    if (storage_check_admins(&tv, admins, na, "admin server", mgr) < 0 ||
        storage_check_admins(&tv, refr, nr, "refresh server", mgr) < 0 ||
        jr_row(t, u, "FileServer", id) < 0)
        goto out;
    if ((a && set_links(t, u, "file_server_admins", id, admins, na) < 0) ||
        (r && set_links(t, u, "file_server_refreshers", id, refr, nr) < 0))
        goto out;
    cols = json_object_new_object();
    if (jstr(args, "name"))
        set_str(cols, "name", jstr(args, "name"));
    if (jstr(args, "description"))
        set_str(cols, "description", jstr(args, "description"));
    if (json_object_object_get_ex(args, "userData", &ud) && ud)
        set_str(cols, "user_data", json_to_text(ud));
    if (json_object_object_get_ex(args, "uniformExports", NULL))
        json_object_object_add(cols, "uniform_exports", json_object_new_int(
                                   (int)jint(args, "uniformExports", 1)));
    if (db_txn_row_update(t, mt("FileServer"), id, cols, true) < 0)
        goto out;
    if (ev(ctx, t, SEV_INFORMATIONAL, "fileserver.updated", "FileServer", id,
           jstr(args, "name") ? jstr(args, "name") : rname(f),
           "file server '%s' updated",
           jstr(args, "name") ? jstr(args, "name") : rname(f)) < 0)
        goto out;
    job_set_result(ctx, "FileServer", id,
                   jstr(args, "name") ? jstr(args, "name") : rname(f));
    rc = 0;
 out:
    ids_free(admins, na);
    ids_free(refr, nr);
    return rc;
}

static int
fsrv_update_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    AUTOPTR(json_object) json_object *u = undo_new();
    struct db_txn *t = job_txn_begin(ctx);

    (void)undo;
    if (!t)
        return -1;
    return finish(ctx, t, fsrv_update_step(ctx, t, args, u), u);
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
    AUTOPTR(json_object) json_object *fsrv = NULL, *u = undo_new();
    AUTOPTR(json_object) json_object *fs = NULL, *cols = NULL;
    char *AUTOFREE sid = NULL, *AUTOFREE mgr = NULL;
    struct probe *p = NULL;
    struct hv_conn *c = NULL;
    struct db_txn *t = NULL;
    size_t np = 0, i;
    int rc = -1;

    if (fs_id) {
        if (!(fs = sv_get(&rv, "FileSystem", fs_id)))
            return -1;
        fsrv_id = jstr(fs, "file_server_id");
    }
    if (!(fsrv = sv_get(&rv, "FileServer", fsrv_id)) ||
        !(mgr = manager_uuid(db)) ||
        !(sid = acting_server(&rv, fsrv, true)))
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
    if (!(fsrv = db_txn_row_get(t, mt("FileServer"), fsrv_id)))
        goto fail;
    for (i = 0; i < np; i++) {
        if (apply_probe(ctx, t, u, fsrv, &p[i], mgr) < 0)
            goto fail;
    }
    cols = json_object_new_object();
    json_object_object_add(cols, "refreshed_ms",
                           json_object_new_int64(time_now_ms()));
    if (jr_row(t, u, "FileServer", fsrv_id) < 0 ||
        db_txn_row_update(t, mt("FileServer"), fsrv_id, cols, !fs_id) < 0)
        goto fail;
    if (fs_id) {
        if (ev(ctx, t, SEV_INFORMATIONAL, "filesystem.refreshed",
               "FileSystem", fs_id, rname(fs), "file system '%s' refreshed",
               rname(fs)) < 0)
            goto fail;
        job_set_result(ctx, "FileSystem", fs_id, rname(fs));
    } else {
        char sname[256];
        struct storage_view tv = { NULL, t };

        if (ev(ctx, t, SEV_INFORMATIONAL, "fileserver.refreshed",
               "FileServer", fsrv_id, rname(fsrv), "file server '%s' "
               "refreshed through server '%s'", rname(fsrv),
               sv_name(&tv, "Server", sid, sname, sizeof(sname))) < 0)
            goto fail;
        job_set_result(ctx, "FileServer", fsrv_id, rname(fsrv));
    }
    rc = finish(ctx, t, 0, u);
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
    if (!jstr(args, "id")) {
        err_set(ERR_INVALID, "fileserver.refresh needs 'id'");
        return -1;
    }
    return refresh_run(ctx, jstr(args, "id"), NULL);
}

static int
fs_refresh_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    (void)undo;
    if (!jstr(args, "id")) {
        err_set(ERR_INVALID, "filesystem.refresh needs 'id'");
        return -1;
    }
    return refresh_run(ctx, NULL, jstr(args, "id"));
}

static int
fsrv_delete_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
                 json_object *u)
{
    struct storage_view tv = { NULL, t };
    const char *id = jstr(args, "id");
    AUTOPTR(json_object) json_object *f = NULL;
    char **fss = NULL;
    size_t n = 0, i;
    int rc = -1;

    if (!id) {
        err_set(ERR_INVALID, "fileserver.delete needs 'id'");
        return -1;
    }
    if (!(f = db_txn_row_get(t, mt("FileServer"), id)) ||
        storage_check_fileserver_delete(&tv, id) < 0)
        return -1;
    if (jr_row(t, u, "FileServer", id) < 0 ||
        sv_ids(&tv, "FileSystem", "file_server_id", id, &fss, &n) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        if (jr_row(t, u, "FileSystem", fss[i]) < 0)
            goto out;
    }
    if (jr_links(t, u, "file_server_admins", id) < 0 ||
        jr_links(t, u, "file_server_refreshers", id) < 0 ||
        db_txn_row_delete(t, mt("FileServer"), id) < 0 ||
        ev(ctx, t, SEV_INFORMATIONAL, "fileserver.deleted", "FileServer", id,
           rname(f), "file server '%s' and its %zu file system%s removed "
           "from this Manager", rname(f), n, n == 1 ? "" : "s") < 0)
        goto out;
    job_set_result(ctx, "FileServer", id, rname(f));
    rc = 0;
 out:
    ids_free(fss, n);
    return rc;
}

static int
fsrv_delete_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    AUTOPTR(json_object) json_object *u = undo_new();
    struct db_txn *t = job_txn_begin(ctx);

    (void)undo;
    if (!t)
        return -1;
    return finish(ctx, t, fsrv_delete_step(ctx, t, args, u), u);
}

/* ---- repositories ---- */

static int
repo_create_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    struct db *db = job_db(ctx);
    struct storage_view rv = { db, NULL }, tv = { NULL, NULL };
    const char *id = jstr(args, "id"), *fs_id = jstr(args, "fs");
    const char *name = jstr(args, "name");
    const char *share = jstr(args, "sharePath") ? jstr(args, "sharePath")
                                                : "";
    AUTOPTR(json_object) json_object *row = NULL, *u = undo_new();
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
    if (!(mgr = manager_uuid(db)) ||
        storage_check_repo_create(&rv, fs_id, share) < 0)
        return -1;
    job_progress(ctx, "connecting to the admin server");
    if (fs_access_open(db, fs_id, &a) < 0)
        return -1;
    /* A repository nobody registered may sit there already. A file
     * system not found is no repository: the mount decides whether it
     * can be made (a local directory is created, an export is not). */
    if (st_probe(a.conn, &a.fs, share, &sp, &found) < 0) {
        if (err_code() != ERR_NOT_FOUND)
            goto out;
        err_clear();
    }
    if (found) {
        char *AUTOFREE other = ovsrepo_get(found, "OVS_REPO_UUID");

        err_set(ERR_EXISTS, "there is a repository at share path '%s' of "
                            "the file system already ('%s'); refresh the "
                            "file system to find it", share,
                other ? other : "?");
        goto out;
    }
    job_progress(ctx, "building the repository on server %s", a.server_id);
    text = ovsrepo_new(id, mgr, name, share);
    if (tmp_mount(&a, id, share, true, &was) < 0)
        goto out;
    built = true;
    rc = st_write(a.conn, id, OVSREPO, text);
    tmp_unmount(&a, id, was);
    if (rc < 0)
        goto out;
    rc = -1;
    fs_access_close(&a);

    if (!(t = job_txn_begin(ctx)))
        goto out;
    tv.t = t;
    if (storage_check_repo_create(&tv, fs_id, share) < 0)
        goto fail;
    row = json_object_new_object();
    set_str(row, "id", id);
    set_str(row, "name", name);
    if (jstr(args, "description"))
        set_str(row, "description", jstr(args, "description"));
    if (json_object_object_get_ex(args, "userData", &ud) && ud)
        set_str(row, "user_data", json_to_text(ud));
    set_str(row, "file_system_id", fs_id);
    set_str(row, "share_path", share);
    set_str(row, "manager_uuid", mgr);
    json_object_object_add(row, "refreshed", json_object_new_int(1));
    json_object_object_add(row, "refreshed_ms",
                           json_object_new_int64(time_now_ms()));
    if (db_txn_row_insert(t, mt("Repository"), row) < 0)
        goto fail;
    jr_created(u, "Repository", id);
    h = jr_hv(u, "destroy");
    set_str(h, "fs", fs_id);
    set_str(h, "repo", id);
    set_str(h, "share", share);
    if (ev(ctx, t, SEV_INFORMATIONAL, "repository.created", "Repository", id,
           name, "repository '%s' created%s%s; present it to servers to "
           "use it", name, *share ? " at share path " : "", share) < 0)
        goto fail;
    job_set_result(ctx, "Repository", id, name);
    rc = finish(ctx, t, 0, u);
    t = NULL;
    if (rc == 0)
        built = false;
    goto out;
 fail:
    db_txn_rollback(t);
 out:
    fs_access_close(&a);
    if (built) {
        struct err e = *err_get();

        /* Nothing may stay of a repository whose row was not made. */
        if (hv_destroy(db, fs_id, id, share, NULL, true) < 0)
            log_warnx("job %" PRId64 ": cannot remove the tree of "
                      "repository '%s' it built: %s", job_id(ctx), id,
                      err_message());
        err_keep(&e);
    }
    return rc;
}

static int
present_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    struct db *db = job_db(ctx);
    struct storage_view rv = { db, NULL }, tv = { NULL, NULL };
    const char *repo = jstr(args, "repo"), *server = jstr(args, "server");
    AUTOPTR(json_object) json_object *r = NULL, *s = NULL, *hold = NULL;
    AUTOPTR(json_object) json_object *m = NULL, *u = undo_new();
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
    if (!(mgr = manager_uuid(db)) ||
        storage_check_present(&rv, repo, server, mgr) < 0 ||
        !(r = sv_get(&rv, "Repository", repo)) ||
        !(s = sv_get(&rv, "Server", server)) ||
        storage_fs_spec(db, jstr(r, "file_system_id"), &fs, &hold,
                        NULL) < 0)
        return -1;
    job_progress(ctx, "mounting on server %s", rname(s));
    if (!(c = storage_server_open(db, server)))
        return -1;
    was = st_mounted(c, repo);
    if (was < 0 ||
        st_mount(c, repo, &fs, jstr(r, "share_path"), false) < 0) {
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
    mid = mount_id(server, repo);
    path = xasprintf(REPO_MOUNT_ROOT "/%s", repo);
    mname = xasprintf("%s_%s", rname(s), path);
    m = json_object_new_object();
    set_str(m, "id", mid);
    set_str(m, "name", mname);
    set_str(m, "server_id", server);
    set_str(m, "file_system_id", jstr(r, "file_system_id"));
    set_str(m, "repository_id", repo);
    set_str(m, "absolute_path", path);
    set_str(m, "share_path", jstr(r, "share_path"));
    if (jr_row(t, u, "Repository", repo) < 0 ||
        db_txn_row_insert(t, mt("FileSystemMount"), m) < 0)
        goto fail;
    jr_created(u, "FileSystemMount", mid);
    if (mounted) {
        h = jr_hv(u, "unmount");
        set_str(h, "server", server);
        set_str(h, "repo", repo);
    }
    if (db_txn_row_update(t, mt("Repository"), repo, empty, true) < 0 ||
        ev(ctx, t, SEV_INFORMATIONAL, "repository.presented", "Repository",
           repo, rname(r), "repository '%s' presented to server '%s' (%s)",
           rname(r), rname(s), path) < 0)
        goto fail;
    job_set_result(ctx, "Repository", repo, rname(r));
    rc = finish(ctx, t, 0, u);
    t = NULL;
    if (rc == 0)
        mounted = false;
    goto out;
 fail:
    db_txn_rollback(t);
 out:
    if (mounted) {
        struct err e = *err_get();

        if (hv_present(db, server, repo, false) < 0)
            log_warnx("job %" PRId64 ": cannot unmount repository '%s' "
                      "again: %s", job_id(ctx), repo, err_message());
        err_keep(&e);
    }
    return rc;
}

static int
unpresent_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    struct db *db = job_db(ctx);
    struct storage_view rv = { db, NULL }, tv = { NULL, NULL };
    const char *repo = jstr(args, "repo"), *server = jstr(args, "server");
    AUTOPTR(json_object) json_object *r = NULL, *s = NULL;
    AUTOPTR(json_object) json_object *u = undo_new();
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
        !(r = sv_get(&rv, "Repository", repo)) ||
        !(s = sv_get(&rv, "Server", server)))
        return -1;
    /* A server that is down keeps its mount until it comes back; the
     * Manager's record goes now (with a WARNING), or the server could
     * never be deleted. */
    reachable = str_eq(jstr(s, "run_state"), "RUNNING");
    if (reachable) {
        job_progress(ctx, "unmounting from server %s", rname(s));
        if (hv_present(db, server, repo, false) < 0)
            return -1;
        unmounted = true;
    }
    if (!(t = job_txn_begin(ctx)))
        goto out;
    tv.t = t;
    mid = mount_id(server, repo);
    if (storage_check_unpresent(&tv, repo, server) < 0 ||
        jr_row(t, u, "Repository", repo) < 0 ||
        jr_row(t, u, "FileSystemMount", mid) < 0 ||
        db_txn_row_delete(t, mt("FileSystemMount"), mid) < 0 ||
        db_txn_row_update(t, mt("Repository"), repo, empty, true) < 0)
        goto fail;
    if (unmounted) {
        h = jr_hv(u, "mount");
        set_str(h, "server", server);
        set_str(h, "repo", repo);
    }
    if (ev(ctx, t, reachable ? SEV_INFORMATIONAL : SEV_WARNING,
           "repository.unpresented", "Repository", repo, rname(r),
           reachable ? "repository '%s' unpresented from server '%s'"
                     : "repository '%s' unpresented from server '%s', "
                       "which is not running: it may still have it mounted",
           rname(r), rname(s)) < 0)
        goto fail;
    job_set_result(ctx, "Repository", repo, rname(r));
    rc = finish(ctx, t, 0, u);
    t = NULL;
    if (rc == 0)
        unmounted = false;
    goto out;
 fail:
    db_txn_rollback(t);
 out:
    if (unmounted) {
        struct err e = *err_get();

        if (hv_present(db, server, repo, true) < 0)
            log_warnx("job %" PRId64 ": cannot mount repository '%s' "
                      "again: %s", job_id(ctx), repo, err_message());
        err_keep(&e);
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
    const char *repo = jstr(args, "repo"), *verb = take ? "take" : "release";
    AUTOPTR(json_object) json_object *r = NULL, *cols = NULL;
    AUTOPTR(json_object) json_object *u = undo_new();
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
    if (!(mgr = manager_uuid(db)) ||
        (take ? storage_check_take(&rv, repo, mgr)
              : storage_check_release(&rv, repo, mgr)) < 0 ||
        !(r = sv_get(&rv, "Repository", repo)))
        return -1;
    fs_id = jstr(r, "file_system_id");
    share = jstr(r, "share_path") ? jstr(r, "share_path") : "";
    job_progress(ctx, "rewriting the repository's .ovsrepo");
    if (fs_access_open(db, fs_id, &a) < 0)
        return -1;
    if (tmp_mount(&a, repo, share, false, &was) < 0)
        goto out;
    if (st_read(a.conn, repo, OVSREPO, &old) < 0) {
        if (err_code() != ERR_NOT_FOUND) {
            tmp_unmount(&a, repo, was);
            goto out;
        }
        err_clear();
        /* None: written afresh; the undo writes one naming the owner
         * the row named. */
        old = ovsrepo_new(repo, jstr(r, "manager_uuid"), rname(r), share);
        text = ovsrepo_new(repo, take ? mgr : "", rname(r), share);
    } else {
        text = ovsrepo_set(old, "OVS_REPO_MGR_UUID", take ? mgr : "");
    }
    rc = st_write(a.conn, repo, OVSREPO, text);
    tmp_unmount(&a, repo, was);
    if (rc < 0)
        goto out;
    rc = -1;
    written = true;
    fs_access_close(&a);

    if (!(t = job_txn_begin(ctx)))
        goto out;
    tv.t = t;
    if ((take ? storage_check_take(&tv, repo, mgr)
              : storage_check_release(&tv, repo, mgr)) < 0 ||
        jr_row(t, u, "Repository", repo) < 0)
        goto fail;
    cols = json_object_new_object();
    set_str(cols, "manager_uuid", take ? mgr : NULL);
    if (db_txn_row_update(t, mt("Repository"), repo, cols, true) < 0)
        goto fail;
    h = jr_hv(u, "ovsrepo");
    set_str(h, "fs", fs_id);
    set_str(h, "repo", repo);
    set_str(h, "share", share);
    set_str(h, "text", old);
    if (ev(ctx, t, SEV_INFORMATIONAL,
           take ? "repository.taken" : "repository.released", "Repository",
           repo, rname(r),
           take ? "this Manager took ownership of repository '%s'"
                : "this Manager released ownership of repository '%s': "
                  "another Manager may take it",
           rname(r)) < 0)
        goto fail;
    job_set_result(ctx, "Repository", repo, rname(r));
    rc = finish(ctx, t, 0, u);
    t = NULL;
    if (rc == 0)
        written = false;
    goto out;
 fail:
    db_txn_rollback(t);
 out:
    fs_access_close(&a);
    if (written) {
        struct err e = *err_get();

        if (hv_ovsrepo(db, fs_id, repo, share, old, NULL) < 0)
            log_warnx("job %" PRId64 ": cannot write back the .ovsrepo of "
                      "repository '%s': %s", job_id(ctx), repo,
                      err_message());
        err_keep(&e);
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

    if (sv_ids(v, "VmDiskMapping", "virtual_disk_id", id, &ids, &n) < 0)
        return -1;
    ids_free(ids, n);
    if (n > 0)
        return 1;
    if (sv_ids(v, "VirtualDisk", "backing_id", id, &ids, &n) < 0)
        return -1;
    ids_free(ids, n);
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
    set_str(c, "format", f->format[0] ? f->format : iso ? "iso" : "raw");
    return c;
}

/* Write the listing @l of directory @k of repository @r (a row). */
static int
refresh_dir(struct job_ctx *ctx, struct db_txn *t, json_object *u,
            json_object *r, size_t k, const struct listing *l)
{
    const char *repo = jstr(r, "id");
    size_t i;

    for (i = 0; i < l->n; i++) {
        const struct hv_file *f = &l->files[i];
        AUTOPTR(json_object) json_object *row = NULL,
            *cols = disk_cols(f, disk_dirs[k].dir == HV_DIR_ISOS);
        struct db_common c = { 0 };

        row = db_txn_row_get(t, mt("VirtualDisk"), f->name);
        if (row && str_eq(jstr(row, "repository_id"), repo)) {
            if (jint(row, "size", -1) == jint(cols, "size", 0) &&
                jint(row, "on_disk_size", -1) ==
                    jint(cols, "on_disk_size", 0) &&
                str_eq(jstr(row, "format"), jstr(cols, "format")))
                continue;
            if (jr_row(t, u, "VirtualDisk", f->name) < 0 ||
                db_txn_row_update(t, mt("VirtualDisk"), f->name, cols,
                                  true) < 0)
                return -1;
            continue;
        }
        if (!row && err_code() != ERR_NOT_FOUND)
            return -1;
        err_clear();
        if (db_txn_object_common(t, f->name, &c) == 0) {
            int e = ev(ctx, t, SEV_WARNING, "repository.name_clash",
                       "Repository", repo, rname(r), "file '%s/%s' of "
                       "repository '%s' is not listed: its name is the id "
                       "of a %s this Manager has elsewhere",
                       disk_dirs[k].name, f->name, rname(r),
                       c.type ? c.type : "?");

            db_common_clear(&c);
            if (e < 0)
                return -1;
            continue;
        }
        err_clear();
        set_str(cols, "id", f->name);
        set_str(cols, "name", f->name);
        set_str(cols, "repository_id", repo);
        set_str(cols, "disk_type", disk_dirs[k].disk_type);
        {
            /* As the disk jobs write it: relative to the repository. */
            char *AUTOFREE path = xasprintf("/%s/%s", disk_dirs[k].name,
                                            f->name);

            set_str(cols, "path", path);
        }
        json_object_object_add(cols, "sparse", json_object_new_int(
                                   f->allocation_bytes < f->capacity_bytes));
        if (db_txn_row_insert(t, mt("VirtualDisk"), cols) < 0)
            return -1;
        jr_created(u, "VirtualDisk", f->name);
        if (ev(ctx, t, SEV_INFORMATIONAL, "virtualdisk.discovered",
               "VirtualDisk", f->name, f->name, "file '%s/%s' of "
               "repository '%s' found", disk_dirs[k].name, f->name,
               rname(r)) < 0)
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
        row = db_txn_row_get(t, mt("VirtualDisk"), f->name);
        b = db_txn_row_get(t, mt("VirtualDisk"), f->backing);
        err_clear();
        if (!row || !b || !str_eq(jstr(row, "repository_id"), repo) ||
            !str_eq(jstr(b, "repository_id"), repo) ||
            str_eq(jstr(row, "backing_id"), f->backing))
            continue;
        cols = json_object_new_object();
        set_str(cols, "backing_id", f->backing);
        if (jr_row(t, u, "VirtualDisk", f->name) < 0 ||
            db_txn_row_update(t, mt("VirtualDisk"), f->name, cols, true) < 0)
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
    const char *repo = jstr(r, "id");
    char **ids = NULL;
    size_t n = 0, i, k;
    int *fate = NULL, rc = -1;

    if (sv_ids(&tv, "VirtualDisk", "repository_id", repo, &ids, &n) < 0)
        return -1;
    fate = xcalloc(n + 1, sizeof(*fate));
    for (i = 0; i < n; i++) {
        AUTOPTR(json_object) json_object *d = sv_get(&tv, "VirtualDisk",
                                                     ids[i]);
        bool present = false;

        if (!d)
            goto out;
        for (k = 0; k < NDISK_DIRS; k++) {
            if (str_eq(jstr(d, "disk_type"), disk_dirs[k].disk_type) &&
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
        if (!(d = sv_get(&tv, "VirtualDisk", ids[i])))
            goto out;
        if (fate[i] == 2) {
            if (ev(ctx, t, SEV_WARNING, "virtualdisk.missing", "VirtualDisk",
                   ids[i], rname(d), "the file of virtual disk '%s' is "
                   "missing from repository '%s'; it is kept while it is "
                   "in use", rname(d), rname(r)) < 0)
                goto out;
            continue;
        }
        if (jr_row(t, u, "VirtualDisk", ids[i]) < 0 ||
            db_txn_row_delete(t, mt("VirtualDisk"), ids[i]) < 0 ||
            ev(ctx, t, SEV_INFORMATIONAL, "virtualdisk.deleted",
               "VirtualDisk", ids[i], rname(d), "the file of virtual disk "
               "'%s' is gone from repository '%s': removed", rname(d),
               rname(r)) < 0)
            goto out;
    }
    rc = 0;
 out:
    xfree(fate);
    ids_free(ids, n);
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
    if (st_list(c, repo, HV_DIR_TEMPLATES, &files, &nf) < 0)
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
        row = db_row_get(db, mt("Vm"), id);
        if (row || err_code() != ERR_NOT_FOUND) {
            json_object_put(row);
            err_clear();
            xfree(id);
            continue;
        }
        err_clear();
        if (st_read_dir(c, repo, HV_DIR_TEMPLATES, files[i].name,
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
    const char *repo = jstr(r, "id");
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
            if (ev(ctx, t, SEV_WARNING, "repository.bad_template",
                   "Repository", repo, rname(r), "template file '%s%s' of "
                   "repository '%s' is not listed: %s", tf[i].vm_id,
                   STORAGE_TEMPLATE_SUFFIX, rname(r), err_message()) < 0)
                return -1;
            err_clear();
            continue;
        }
        for (k = 0; k < json_object_array_length(rows); k++) {
            json_object *e = json_object_array_get_idx(rows, k);

            if (jstr(e, "type") && jstr(e, "id"))
                jr_created(u, jstr(e, "type"), jstr(e, "id"));
        }
        if (ev(ctx, t, SEV_INFORMATIONAL, "vm.discovered", "Vm", tf[i].vm_id,
               vm_name ? vm_name : tf[i].vm_id, "template '%s' found in "
               "repository '%s'", vm_name ? vm_name : tf[i].vm_id,
               rname(r)) < 0)
            return -1;
    }
    /* Templates whose vm.cfg is gone. */
    if (sv_ids(&tv, "Vm", "repository_id", repo, &ids, &n) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        AUTOPTR(json_object) json_object *vm = sv_get(&tv, "Vm", ids[i]);
        bool listed = false;

        if (!vm)
            goto out;
        if (!str_eq(jstr(vm, "run_state"), "TEMPLATE"))
            continue;
        for (k = 0; k < nall && !listed; k++)
            listed = strcmp(all[k], ids[i]) == 0;
        if (listed)
            continue;
        if (jr_row(t, u, "Vm", ids[i]) < 0 ||
            sv_ids(&tv, "VmDiskMapping", "vm_id", ids[i], &maps, &nm) < 0)
            goto out;
        for (k = 0; k < nm; k++) {
            if (jr_row(t, u, "VmDiskMapping", maps[k]) < 0)
                goto out;
        }
        ids_free(maps, nm);
        maps = NULL;
        nm = 0;
        if (db_txn_row_delete(t, mt("Vm"), ids[i]) < 0 ||
            ev(ctx, t, SEV_INFORMATIONAL, "vm.deleted", "Vm", ids[i],
               rname(vm), "the vm.cfg of template '%s' is gone from "
               "repository '%s': removed", rname(vm), rname(r)) < 0)
            goto out;
    }
    rc = 0;
 out:
    ids_free(maps, nm);
    ids_free(ids, n);
    return rc;
}

static int
repo_refresh_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    struct db *db = job_db(ctx);
    const char *repo = jstr(args, "repo");
    AUTOPTR(json_object) json_object *r = NULL, *cols = NULL;
    AUTOPTR(json_object) json_object *u = undo_new();
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
    if (!(r = db_row_get(db, mt("Repository"), repo)))
        return -1;
    job_progress(ctx, "listing repository %s", rname(r));
    if (!(c = storage_repo_open(db, repo, jstr(args, "server"), &sid)))
        return -1;
    for (k = 0; k < NDISK_DIRS; k++) {
        if (st_list(c, repo, disk_dirs[k].dir, &lists[k].files,
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
    if (!(r = db_txn_row_get(t, mt("Repository"), repo)))
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
    if (jr_row(t, u, "Repository", repo) < 0 ||
        db_txn_row_update(t, mt("Repository"), repo, cols, true) < 0 ||
        ev(ctx, t, SEV_INFORMATIONAL, "repository.refreshed", "Repository",
           repo, rname(r), "repository '%s' refreshed through server '%s'",
           rname(r), sv_name(&tv, "Server", sid, sname, sizeof(sname))) < 0)
        goto fail;
    job_set_result(ctx, "Repository", repo, rname(r));
    rc = finish(ctx, t, 0, u);
    goto out;
 fail:
    db_txn_rollback(t);
 out:
    for (k = 0; k < NDISK_DIRS; k++)
        xfree(lists[k].files);
    tmpl_files_free(tf, ntf);
    ids_free(all, nall);
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

    if (sv_ids(&tv, "Assembly", "repository_id", repo, &ids, &n) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        static const char *const parts[] = { "AssemblyVm",
                                             "AssemblyVirtualDisk" };

        if (jr_row(t, u, "Assembly", ids[i]) < 0)
            goto out;
        for (k = 0; k < 2; k++) {
            size_t j;

            if (sv_ids(&tv, parts[k], "assembly_id", ids[i], &sub, &ns) < 0)
                goto out;
            for (j = 0; j < ns; j++) {
                if (jr_row(t, u, parts[k], sub[j]) < 0)
                    goto out;
            }
            ids_free(sub, ns);
            sub = NULL;
            ns = 0;
        }
    }
    ids_free(ids, n);
    ids = NULL;
    n = 0;
    /* Disks: repeatedly those whose backing disk is recorded or none. */
    if (sv_ids(&tv, "VirtualDisk", "repository_id", repo, &ids, &n) < 0)
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
            if (!(d = sv_get(&tv, "VirtualDisk", ids[i])))
                goto out;
            b = jstr(d, "backing_id");
            for (k = 0; b && k < n; k++) {
                if (!taken[k] && k != i && strcmp(ids[k], b) == 0)
                    ready = false;
            }
            if (!ready)
                continue;
            if (jr_row(t, u, "VirtualDisk", ids[i]) < 0)
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
    ids_free(ids, n);
    ids = NULL;
    n = 0;
    if (sv_ids(&tv, "Vm", "repository_id", repo, &ids, &n) < 0)
        goto out;
    for (i = 0; i < n; i++) {
        size_t j;

        if (jr_row(t, u, "Vm", ids[i]) < 0 ||
            sv_ids(&tv, "VmDiskMapping", "vm_id", ids[i], &sub, &ns) < 0)
            goto out;
        for (j = 0; j < ns; j++) {
            if (jr_row(t, u, "VmDiskMapping", sub[j]) < 0)
                goto out;
        }
        ids_free(sub, ns);
        sub = NULL;
        ns = 0;
        if (db_txn_row_delete(t, mt("Vm"), ids[i]) < 0)
            goto out;
    }
    rc = 0;
 out:
    xfree(taken);
    ids_free(sub, ns);
    ids_free(ids, n);
    return rc;
}

static int
repo_delete_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    struct db *db = job_db(ctx);
    struct storage_view rv = { db, NULL }, tv = { NULL, NULL };
    const char *repo = jstr(args, "repo"), *fs_id, *share;
    AUTOPTR(json_object) json_object *r = NULL, *u = undo_new();
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
    if (!(mgr = manager_uuid(db)) ||
        storage_check_repo_delete(&rv, repo, mgr) < 0 ||
        !(r = sv_get(&rv, "Repository", repo)))
        return -1;
    owned = str_eq(jstr(r, "manager_uuid"), mgr);
    fs_id = jstr(r, "file_system_id");
    share = jstr(r, "share_path") ? jstr(r, "share_path") : "";
    if (owned) {
        job_progress(ctx, "removing the repository's files");
        if (hv_destroy(db, fs_id, repo, share, &text, true) < 0)
            return -1;
        destroyed = true;
    }
    if (!(t = job_txn_begin(ctx)))
        goto out;
    tv.t = t;
    if (storage_check_repo_delete(&tv, repo, mgr) < 0 ||
        jr_row(t, u, "Repository", repo) < 0 ||
        (!owned && delete_contents(t, u, repo) < 0) ||
        db_txn_row_delete(t, mt("Repository"), repo) < 0)
        goto fail;
    if (owned) {
        h = jr_hv(u, "build");
        set_str(h, "fs", fs_id);
        set_str(h, "repo", repo);
        set_str(h, "share", share);
        if (text) {
            set_str(h, "text", text);
        } else {
            char *AUTOFREE fresh = ovsrepo_new(repo, mgr, rname(r), share);

            set_str(h, "text", fresh);
        }
    }
    if (ev(ctx, t, SEV_INFORMATIONAL, "repository.deleted", "Repository",
           repo, rname(r),
           owned ? "repository '%s' deleted with its files"
                 : "repository '%s' removed from this Manager; it is not "
                   "owned by this Manager, so its files stay",
           rname(r)) < 0)
        goto fail;
    job_set_result(ctx, "Repository", repo, rname(r));
    rc = finish(ctx, t, 0, u);
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
                                    : ovsrepo_new(repo, mgr, rname(r), share);

        if (hv_build(db, fs_id, repo, share, text ? text : fresh) < 0)
            log_warnx("job %" PRId64 ": cannot build repository '%s' "
                      "again: %s", job_id(ctx), repo, err_message());
        err_keep(&e);
    }
    return rc;
}

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

    if (sv_ids(v, "VmDiskMapping", "storage_element_id", id, &ids, &n) < 0)
        return -1;
    if (n > 0) {
        snprintf(out, size, "VM disk mapping '%s'", ids[0]);
        ids_free(ids, n);
        return 1;
    }
    ids_free(ids, n);
    if (sv_ids(v, "FileSystem", "storage_element_id", id, &ids, &n) < 0)
        return -1;
    if (n > 0) {
        char nm[256];

        snprintf(out, size, "file system '%s'",
                 sv_name(v, "FileSystem", ids[0], nm, sizeof(nm)));
        ids_free(ids, n);
        return 1;
    }
    ids_free(ids, n);
    return 0;
}

int
storage_check_array_new(const struct storage_view *v, const char *host,
                        char *const *admins, size_t nadmins, const char *mgr)
{
    char **ids = NULL;
    size_t n = 0, i;
    int rc = -1;

    if (nadmins == 0) {
        err_set(ERR_INVALID, "a storage array needs at least one admin "
                             "server ('adminServerIds')");
        return -1;
    }
    if (sv_ids(v, "StorageArray", NULL, NULL, &ids, &n) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        AUTOPTR(json_object) json_object *a = sv_get(v, "StorageArray",
                                                     ids[i]);
        AUTOPTR(json_object) json_object *hosts = NULL;
        size_t k;

        if (!a)
            goto cleanup;
        hosts = json_parse_text(jstr(a, "access_hosts"));
        for (k = 0; hosts && json_object_is_type(hosts, json_type_array) &&
                    k < json_object_array_length(hosts); k++) {
            if (str_eq(jstr(json_object_array_get_idx(hosts, k),
                            "accessHost"), host)) {
                err_set(ERR_EXISTS, "storage array '%s' already has access "
                                    "host '%s'", rname(a), host);
                goto cleanup;
            }
        }
        err_clear();
    }
    rc = storage_check_admins(v, admins, nadmins, "admin server", mgr);
 cleanup:
    ids_free(ids, n);
    return rc;
}

int
storage_check_array_delete(const struct storage_view *v, const char *id)
{
    AUTOPTR(json_object) json_object *a = sv_get(v, "StorageArray", id);
    char **els = NULL, what[300];
    size_t n = 0, i;
    int rc = -1, u;

    if (!a)
        return -1;
    if (jint(a, "default_array", 0)) {
        err_set(ERR_STATE, "storage array '%s' is a default array and "
                           "cannot be deleted", rname(a));
        return -1;
    }
    if (sv_ids(v, "StorageElement", "storage_array_id", id, &els, &n) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        char nm[256];

        if ((u = element_use(v, els[i], what, sizeof(what))) < 0)
            goto out;
        if (u) {
            err_set(ERR_STATE, "storage array '%s' cannot be deleted: its "
                               "storage element '%s' is used by %s",
                    rname(a), sv_name(v, "StorageElement", els[i], nm,
                                      sizeof(nm)), what);
            goto out;
        }
    }
    rc = 0;
 out:
    ids_free(els, n);
    return rc;
}

/* The first RUNNING admin server of array @a (a row). Caller frees; NULL
 * with ERR_STATE. */
static char *
array_acting(const struct storage_view *v, json_object *a)
{
    char **ids = NULL, *found = NULL;
    size_t n = 0, i;

    if (sv_links(v, "storage_array_admins", jstr(a, "id"), &ids, &n) < 0)
        return NULL;
    for (i = 0; i < n && !found; i++) {
        if (running(v, ids[i]))
            found = xstrdup(ids[i]);
    }
    ids_free(ids, n);
    if (!found)
        err_set(ERR_STATE, "storage array '%s' has no running admin server",
                rname(a));
    return found;
}

int
storage_check_array_reachable(const struct storage_view *v, const char *id)
{
    AUTOPTR(json_object) json_object *a = sv_get(v, "StorageArray", id);
    char *s;

    if (!a)
        return -1;
    if (jint(a, "default_array", 0)) {
        err_set(ERR_STATE, "storage array '%s' is a default array: it has "
                           "no admin server to refresh it through",
                rname(a));
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
    AUTOPTR(json_object) json_object *g = sv_get(v, "AccessGroup", group);
    AUTOPTR(json_object) json_object *r = NULL;
    bool element = str_eq(kind, "StorageElement");
    const char *table = element ? "access_group_elements"
                                : "access_group_initiators";
    char **ids = NULL;
    size_t n = 0, i;
    bool in = false;

    if (!g || !(r = sv_get(v, kind, ref)))
        return -1;
    if (element && !str_eq(jstr(r, "storage_array_id"),
                           jstr(g, "storage_array_id"))) {
        err_set(ERR_STATE, "storage element '%s' is not of the storage "
                           "array of access group '%s'", rname(r),
                rname(g));
        return -1;
    }
    if (sv_links(v, table, group, &ids, &n) < 0)
        return -1;
    for (i = 0; i < n; i++)
        in = in || str_eq(ids[i], ref);
    ids_free(ids, n);
    if (add && in) {
        err_set(ERR_EXISTS, "%s '%s' is already in access group '%s'",
                element ? "storage element" : "storage initiator", rname(r),
                rname(g));
        return -1;
    }
    if (!add && !in) {
        err_set(ERR_STATE, "%s '%s' is not in access group '%s'",
                element ? "storage element" : "storage initiator", rname(r),
                rname(g));
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
    const struct hv_storage_ops *o = ops_for(HAS(iscsi_targets) &&
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
    char *AUTOFREE id = model_id_new(mt("StorageElement"));

    set_str(row, "id", id);
    set_str(row, "name", f->l.page83);
    set_str(row, "description", f->target);
    set_str(row, "volume_group_id", vg);
    set_str(row, "storage_array_id", aid);
    set_str(row, "page83_id", f->l.page83);
    set_str(row, "vendor", f->l.vendor);
    set_str(row, "target", f->target);
    json_object_object_add(row, "size",
                           json_object_new_int64((int64_t)f->l.size_bytes));
    json_object_object_add(row, "lun", json_object_new_int((int)f->l.lun));
    json_object_object_add(row, "shareable", json_object_new_int(1));
    if (db_txn_row_insert(t, mt("StorageElement"), row) < 0)
        return -1;
    jr_created(u, "StorageElement", id);
    return ev(ctx, t, SEV_INFORMATIONAL, "storageelement.created",
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
    str_copy(host, jstr(e, "accessHost") ? jstr(e, "accessHost") : "",
             size);
    *port = (unsigned)jint(e, "accessPort", 3260);
    return 0;
}

static int
array_create_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    struct db *db = job_db(ctx);
    struct storage_view rv = { db, NULL }, tv = { NULL, NULL };
    const char *id = jstr(args, "id"), *name = jstr(args, "name");
    const char *hosts = jstr(args, "accessHosts");
    AUTOPTR(json_object) json_object *a = NULL, *vg = NULL, *u = undo_new();
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
    if (!id || !name || !hosts || !jstr(args, "pluginId")) {
        err_set(ERR_INVALID, "array.create needs 'id', 'name', "
                             "'accessHosts' and 'pluginId'");
        return -1;
    }
    json_object_object_get_ex(args, "admins", &adm);
    if (json_ids(adm, "admins", &admins, &na) < 0 ||
        array_portal(hosts, host, sizeof(host), &port) < 0)
        goto out;
    if (!(mgr = manager_uuid(db)) ||
        storage_check_array_new(&rv, host, admins, na, mgr) < 0)
        goto out;
    for (i = 0; i < na && !sid; i++) {
        if (running(&rv, admins[i]))
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
    set_str(a, "id", id);
    set_str(a, "name", name);
    if (jstr(args, "description"))
        set_str(a, "description", jstr(args, "description"));
    set_str(a, "plugin_id", jstr(args, "pluginId"));
    set_str(a, "storage_type", "ISCSI");
    set_str(a, "access_hosts", hosts);
    json_object_object_add(a, "refreshed_ms",
                           json_object_new_int64(time_now_ms()));
    vgid = model_id_new(mt("VolumeGroup"));
    vg = json_object_new_object();
    set_str(vg, "id", vgid);
    set_str(vg, "name", "Generic iSCSI Volume Group");
    set_str(vg, "storage_array_id", id);
    set_str(vg, "name_on_array", "Generic_iSCSI_Volume_Group");
    if (!(t = job_txn_begin(ctx)))
        goto out;
    tv.t = t;
    if (storage_check_array_new(&tv, host, admins, na, mgr) < 0 ||
        db_txn_row_insert(t, mt("StorageArray"), a) < 0)
        goto fail;
    jr_created(u, "StorageArray", id);
    if (db_txn_links_set(t, "storage_array_admins", id, admins, na) < 0 ||
        db_txn_row_insert(t, mt("VolumeGroup"), vg) < 0)
        goto fail;
    jr_created(u, "VolumeGroup", vgid);
    if (ev(ctx, t, SEV_INFORMATIONAL, "storagearray.created",
           "StorageArray", id, name, "storage array '%s' (%s:%u) registered "
           "with %zu LUN%s", name, host, port, nf, nf == 1 ? "" : "s") < 0)
        goto fail;
    for (i = 0; i < nf; i++) {
        if (element_insert(ctx, t, u, id, vgid, &f[i]) < 0)
            goto fail;
    }
    job_set_result(ctx, "StorageArray", id, name);
    rc = finish(ctx, t, 0, u);
    t = NULL;
    goto out;
 fail:
    db_txn_rollback(t);
 out:
    if (c)
        storage_hv->close(c);
    xfree(f);
    ids_free(admins, na);
    return rc;
}

static int
array_refresh_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    struct db *db = job_db(ctx);
    struct storage_view rv = { db, NULL }, tv = { NULL, NULL };
    const char *id = jstr(args, "id");
    AUTOPTR(json_object) json_object *a = NULL, *u = undo_new();
    char *AUTOFREE sid = NULL, host[256], **els = NULL, **vgs = NULL;
    struct found_lun *f = NULL;
    size_t nf = 0, ne = 0, nvg = 0, i, k, added = 0, gone = 0;
    struct hv_conn *c = NULL;
    struct db_txn *t = NULL;
    bool *seen = NULL;
    unsigned port = 3260;
    int rc = -1;

    (void)undo;
    if (!id) {
        err_set(ERR_INVALID, "array.refresh needs 'id'");
        return -1;
    }
    if (storage_check_array_reachable(&rv, id) < 0 ||
        !(a = sv_get(&rv, "StorageArray", id)) ||
        !(sid = array_acting(&rv, a)) ||
        array_portal(jstr(a, "access_hosts"), host, sizeof(host), &port) < 0)
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
        sv_ids(&tv, "StorageElement", "storage_array_id", id, &els, &ne) < 0 ||
        sv_ids(&tv, "VolumeGroup", "storage_array_id", id, &vgs, &nvg) < 0)
        goto fail;
    if (nvg == 0) {
        err_set(ERR_STATE, "storage array '%s' has no volume group",
                rname(a));
        goto fail;
    }
    seen = xcalloc(ne + 1, sizeof(*seen));
    for (i = 0; i < nf; i++) {
        bool known = false;

        for (k = 0; k < ne && !known; k++) {
            AUTOPTR(json_object) json_object *e = sv_get(&tv,
                                                         "StorageElement",
                                                         els[k]);
            AUTOPTR(json_object) json_object *cols = NULL;

            if (!e)
                goto fail;
            if (!str_eq(jstr(e, "page83_id"), f[i].l.page83))
                continue;
            known = seen[k] = true;
            if (jint(e, "size", 0) == (int64_t)f[i].l.size_bytes &&
                jint(e, "present", 1) == 1)
                continue;
            cols = json_object_new_object();
            json_object_object_add(cols, "size", json_object_new_int64(
                                       (int64_t)f[i].l.size_bytes));
            json_object_object_add(cols, "present", json_object_new_int(1));
            if (jr_row(t, u, "StorageElement", els[k]) < 0 ||
                db_txn_row_update(t, mt("StorageElement"), els[k], cols,
                                  true) < 0)
                goto fail;
        }
        if (!known) {
            if (element_insert(ctx, t, u, id, vgs[0], &f[i]) < 0)
                goto fail;
            added++;
        }
    }
    for (k = 0; k < ne; k++) {
        AUTOPTR(json_object) json_object *e = NULL;
        char what[300];
        int used;

        if (seen[k])
            continue;
        if (!(e = sv_get(&tv, "StorageElement", els[k])) ||
            (used = element_use(&tv, els[k], what, sizeof(what))) < 0 ||
            jr_row(t, u, "StorageElement", els[k]) < 0)
            goto fail;
        if (used) {
            AUTOPTR(json_object) json_object *cols = json_object_new_object();

            json_object_object_add(cols, "present", json_object_new_int(0));
            if (db_txn_row_update(t, mt("StorageElement"), els[k], cols,
                                  true) < 0 ||
                ev(ctx, t, SEV_WARNING, "storageelement.missing",
                   "StorageElement", els[k], rname(e), "LUN '%s' of storage "
                   "array '%s' is gone but kept: it is used by %s",
                   rname(e), rname(a), what) < 0)
                goto fail;
        } else {
            if (db_txn_row_delete(t, mt("StorageElement"), els[k]) < 0 ||
                ev(ctx, t, SEV_INFORMATIONAL, "storageelement.deleted",
                   "StorageElement", els[k], rname(e), "LUN '%s' of storage "
                   "array '%s' is gone", rname(e), rname(a)) < 0)
                goto fail;
            gone++;
        }
    }
    {
        AUTOPTR(json_object) json_object *cols = json_object_new_object();

        json_object_object_add(cols, "refreshed_ms",
                               json_object_new_int64(time_now_ms()));
        if (jr_row(t, u, "StorageArray", id) < 0 ||
            db_txn_row_update(t, mt("StorageArray"), id, cols, false) < 0)
            goto fail;
    }
    if (ev(ctx, t, SEV_INFORMATIONAL, "storagearray.refreshed",
           "StorageArray", id, rname(a), "storage array '%s' refreshed: %zu "
           "LUN%s, %zu new, %zu gone", rname(a), nf, nf == 1 ? "" : "s",
           added, gone) < 0)
        goto fail;
    job_set_result(ctx, "StorageArray", id, rname(a));
    rc = finish(ctx, t, 0, u);
    t = NULL;
    goto out;
 fail:
    db_txn_rollback(t);
 out:
    if (c)
        storage_hv->close(c);
    xfree(seen);
    xfree(f);
    ids_free(els, ne);
    ids_free(vgs, nvg);
    return rc;
}

/* Journal every row of @type whose @column is @owner. */
static int
jr_rows(struct db_txn *t, json_object *u, const char *type,
        const char *column, const char *owner, char ***ids, size_t *n)
{
    struct storage_view tv = { NULL, t };
    size_t i;

    if (sv_ids(&tv, type, column, owner, ids, n) < 0)
        return -1;
    for (i = 0; i < *n; i++) {
        if (jr_row(t, u, type, (*ids)[i]) < 0)
            return -1;
    }
    return 0;
}

static int
array_delete_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
                  json_object *u)
{
    struct storage_view tv = { NULL, t };
    const char *id = jstr(args, "id");
    AUTOPTR(json_object) json_object *a = NULL;
    char **vgs = NULL, **els = NULL, **ags = NULL;
    size_t nvg = 0, ne = 0, nag = 0, i;
    int rc = -1;

    if (!id) {
        err_set(ERR_INVALID, "array.delete needs 'id'");
        return -1;
    }
    if (!(a = db_txn_row_get(t, mt("StorageArray"), id)) ||
        storage_check_array_delete(&tv, id) < 0 ||
        jr_row(t, u, "StorageArray", id) < 0 ||
        jr_rows(t, u, "VolumeGroup", "storage_array_id", id, &vgs, &nvg) < 0 ||
        jr_rows(t, u, "StorageElement", "storage_array_id", id, &els,
                &ne) < 0 ||
        jr_rows(t, u, "AccessGroup", "storage_array_id", id, &ags, &nag) < 0)
        goto out;
    for (i = 0; i < nag; i++) {
        if (jr_links(t, u, "access_group_elements", ags[i]) < 0 ||
            jr_links(t, u, "access_group_initiators", ags[i]) < 0)
            goto out;
    }
    if (jr_links(t, u, "storage_array_admins", id) < 0 ||
        db_txn_row_delete(t, mt("StorageArray"), id) < 0 ||
        ev(ctx, t, SEV_INFORMATIONAL, "storagearray.deleted", "StorageArray",
           id, rname(a), "storage array '%s' and its %zu storage element%s "
           "removed from this Manager", rname(a), ne, ne == 1 ? "" : "s") < 0)
        goto out;
    job_set_result(ctx, "StorageArray", id, rname(a));
    rc = 0;
 out:
    ids_free(vgs, nvg);
    ids_free(els, ne);
    ids_free(ags, nag);
    return rc;
}

static int
array_delete_run(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    AUTOPTR(json_object) json_object *u = undo_new();
    struct db_txn *t = job_txn_begin(ctx);

    (void)undo;
    if (!t)
        return -1;
    return finish(ctx, t, array_delete_step(ctx, t, args, u), u);
}

static int
group_create_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
                  json_object *u)
{
    const char *id = jstr(args, "id"), *name = jstr(args, "name");
    const char *array = jstr(args, "array");
    AUTOPTR(json_object) json_object *a = NULL, *g = NULL;

    if (!id || !name || !array) {
        err_set(ERR_INVALID, "accessgroup.create needs 'id', 'name' and "
                             "'array'");
        return -1;
    }
    if (!(a = db_txn_row_get(t, mt("StorageArray"), array)))
        return -1;
    g = json_object_new_object();
    set_str(g, "id", id);
    set_str(g, "name", name);
    if (jstr(args, "description"))
        set_str(g, "description", jstr(args, "description"));
    set_str(g, "storage_array_id", array);
    if (db_txn_row_insert(t, mt("AccessGroup"), g) < 0)
        return -1;
    jr_created(u, "AccessGroup", id);
    if (ev(ctx, t, SEV_INFORMATIONAL, "accessgroup.created", "AccessGroup",
           id, name, "access group '%s' of storage array '%s' created", name,
           rname(a)) < 0)
        return -1;
    job_set_result(ctx, "AccessGroup", id, name);
    return 0;
}

static int
group_member_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
                  json_object *u)
{
    struct storage_view tv = { NULL, t };
    const char *id = jstr(args, "id"), *kind = jstr(args, "kind");
    const char *ref = jstr(args, "ref");
    bool add = jint(args, "add", 0) != 0;
    bool element = str_eq(kind, "StorageElement");
    const char *table = element ? "access_group_elements"
                                : "access_group_initiators";
    AUTOPTR(json_object) json_object *g = NULL;
    char **ids = NULL, **nids = NULL, *refcopy = NULL, nm[256];
    size_t n = 0, nn = 0, i;
    int rc = -1;

    if (!id || !ref || (!element && !str_eq(kind, "StorageInitiator"))) {
        err_set(ERR_INVALID, "accessgroup.member needs 'id', 'kind' and "
                             "'ref'");
        return -1;
    }
    if (!(g = db_txn_row_get(t, mt("AccessGroup"), id)) ||
        storage_check_group_member(&tv, id, kind, ref, add) < 0 ||
        jr_row(t, u, "AccessGroup", id) < 0 ||
        jr_links(t, u, table, id) < 0 ||
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
        db_txn_row_update(t, mt("AccessGroup"), id,
                          json_object_new_object(), true) < 0)
        goto out;
    sv_name(&tv, kind, ref, nm, sizeof(nm));
    if (ev(ctx, t, SEV_INFORMATIONAL, add ? "accessgroup.added"
                                          : "accessgroup.removed",
           "AccessGroup", id, rname(g), "%s '%s' %s access group '%s'",
           element ? "storage element" : "storage initiator", nm,
           add ? "added to" : "removed from", rname(g)) < 0)
        goto out;
    job_set_result(ctx, "AccessGroup", id, rname(g));
    rc = 0;
 out:
    xfree(nids);
    xfree(refcopy);
    ids_free(ids, n);
    return rc;
}

static int
group_delete_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
                  json_object *u)
{
    const char *id = jstr(args, "id");
    AUTOPTR(json_object) json_object *g = NULL;

    if (!id) {
        err_set(ERR_INVALID, "accessgroup.delete needs 'id'");
        return -1;
    }
    if (!(g = db_txn_row_get(t, mt("AccessGroup"), id)) ||
        jr_row(t, u, "AccessGroup", id) < 0 ||
        jr_links(t, u, "access_group_elements", id) < 0 ||
        jr_links(t, u, "access_group_initiators", id) < 0 ||
        db_txn_row_delete(t, mt("AccessGroup"), id) < 0 ||
        ev(ctx, t, SEV_INFORMATIONAL, "accessgroup.deleted", "AccessGroup",
           id, rname(g), "access group '%s' deleted", rname(g)) < 0)
        return -1;
    job_set_result(ctx, "AccessGroup", id, rname(g));
    return 0;
}

static int
element_update_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
                    json_object *u)
{
    const char *id = jstr(args, "id");
    AUTOPTR(json_object) json_object *e = NULL, *cols = NULL;
    json_object *ud = NULL;
    int64_t gen = jint(args, "generation", -1);
    const char *name;

    if (!id) {
        err_set(ERR_INVALID, "storageelement.update needs 'id'");
        return -1;
    }
    if (!(e = db_txn_row_get(t, mt("StorageElement"), id)))
        return -1;
    if (gen >= 0 && gen != jint(e, "generation", 0)) {
        err_set(ERR_CONFLICT, "StorageElement '%s' was changed by someone "
                              "else: the request was made from generation %"
                              PRId64 " but it is at generation %" PRId64,
                rname(e), gen, jint(e, "generation", 0));
        return -1;
    }
    if (jr_row(t, u, "StorageElement", id) < 0)
        return -1;
    cols = json_object_new_object();
    if (jstr(args, "name"))
        set_str(cols, "name", jstr(args, "name"));
    if (jstr(args, "description"))
        set_str(cols, "description", jstr(args, "description"));
    if (json_object_object_get_ex(args, "userData", &ud) && ud)
        set_str(cols, "user_data", json_to_text(ud));
    if (json_object_object_get_ex(args, "shareable", NULL))
        json_object_object_add(cols, "shareable", json_object_new_int(
                                   (int)jint(args, "shareable", 0)));
    name = jstr(args, "name") ? jstr(args, "name") : rname(e);
    if (db_txn_row_update(t, mt("StorageElement"), id, cols, true) < 0 ||
        ev(ctx, t, SEV_INFORMATIONAL, "storageelement.updated",
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
        AUTOPTR(json_object) json_object *u = undo_new();                  \
        struct db_txn *t = job_txn_begin(ctx);                             \
                                                                           \
        (void)undo;                                                        \
        if (!t)                                                            \
            return -1;                                                     \
        return finish(ctx, t, step(ctx, t, args, u), u);                   \
    }

ONE_TXN_RUN(group_create_run, group_create_step)
ONE_TXN_RUN(group_member_run, group_member_step)
ONE_TXN_RUN(group_delete_run, group_delete_step)
ONE_TXN_RUN(element_update_run, element_update_step)

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
        t, mt("StorageInitiator"), iqn);

    if (row)
        return 0;
    if (err_code() != ERR_NOT_FOUND)
        return -1;
    err_clear();
    row = json_object_new_object();
    set_str(row, "id", iqn);
    set_str(row, "name", iqn);
    set_str(row, "server_id", server_id);
    set_str(row, "initiator_type", "ISCSI");
    if (db_txn_row_insert(t, mt("StorageInitiator"), row) < 0)
        return -1;
    return ev(ctx, t, SEV_INFORMATIONAL, "storageinitiator.created",
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

    if (sv_ids(&tv, "FileServer", "server_id", server_id, &ids, &n) < 0)
        return -1;
    if (n > 0) {
        fsrv_id = xstrdup(ids[0]);
        if (!(fsrv = db_txn_row_get(t, mt("FileServer"), fsrv_id)))
            goto out;
    } else {
        fsrv_id = model_id_new(mt("FileServer"));
        name = xasprintf("Local FS %s", server_name);
        fsrv = json_object_new_object();
        set_str(fsrv, "id", fsrv_id);
        set_str(fsrv, "name", name);
        set_str(fsrv, "file_server_type", "LOCAL");
        set_str(fsrv, "plugin_id", OCFS2_PLUGIN);
        set_str(fsrv, "access_host", "");
        set_str(fsrv, "server_id", server_id);
        json_object_object_add(fsrv, "refreshed_ms",
                               json_object_new_int64(time_now_ms()));
        if (db_txn_row_insert(t, mt("FileServer"), fsrv) < 0 ||
            ev(ctx, t, SEV_INFORMATIONAL, "fileserver.created", "FileServer",
               fsrv_id, name, "local file server '%s' of server '%s' "
               "found", name, server_name) < 0)
            goto out;
    }
    one[0] = xstrdup(server_id);
    rc = db_txn_links_set(t, "file_server_admins", fsrv_id, one, 1);
    xfree(one[0]);
    if (rc < 0 || initiator_sync(ctx, t, server_id, server_name) < 0 ||
        sv_ids(&tv, "FileSystem", "file_server_id", fsrv_id, &known,
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
            AUTOPTR(json_object) json_object *fs = sv_get(&tv, "FileSystem",
                                                          known[k]);

            if (!fs)
                goto out;
            if (str_eq(jstr(fs, "path"), d->path)) {
                p.fs_id = xstrdup(known[k]);
                seen[k] = true;
            }
        }
        /* No journal: discovery's own undo removes the server, and its
         * local storage with it. */
        {
            AUTOPTR(json_object) json_object *scratch = undo_new();
            int arc = apply_probe(ctx, t, scratch, fsrv, &p, NULL);

            xfree(p.path);
            xfree(p.fs_id);
            if (arc < 0)
                goto out;
        }
    }
    for (k = 0; k < nknown; k++) {
        AUTOPTR(json_object) json_object *scratch = undo_new();
        struct probe p;

        if (seen[k])
            continue;
        memset(&p, 0, sizeof(p));
        p.fs_id = known[k];
        p.state = PROBE_MISSING;
        if (apply_probe(ctx, t, scratch, fsrv, &p, NULL) < 0)
            goto out;
    }
    rc = 0;
 out:
    xfree(seen);
    ids_free(known, nknown);
    ids_free(ids, n);
    return rc;
}

json_object *
storage_server_snapshot(struct db_txn *t, const char *server_id)
{
    static const char *const tables[] = { "file_server_admins",
                                          "file_server_refreshers" };
    struct storage_view tv = { NULL, t };
    json_object *u = undo_new();
    char **ids = NULL, **fss = NULL, **links = NULL;
    size_t n = 0, nfs = 0, nl = 0, i, k, j;

    /* Its local file server and file systems go with it. */
    if (sv_ids(&tv, "FileServer", "server_id", server_id, &ids, &n) < 0)
        goto fail;
    for (i = 0; i < n; i++) {
        if (jr_row(t, u, "FileServer", ids[i]) < 0 ||
            sv_ids(&tv, "FileSystem", "file_server_id", ids[i], &fss,
                   &nfs) < 0)
            goto fail;
        for (k = 0; k < nfs; k++) {
            if (jr_row(t, u, "FileSystem", fss[k]) < 0)
                goto fail;
        }
        ids_free(fss, nfs);
        fss = NULL;
        nfs = 0;
    }
    ids_free(ids, n);
    ids = NULL;
    n = 0;
    /* Its storage initiators go too, and leave their access groups;
     * and it leaves the admin lists of storage arrays. */
    if (sv_ids(&tv, "StorageInitiator", "server_id", server_id, &ids,
               &n) < 0)
        goto fail;
    for (i = 0; i < n; i++) {
        if (jr_row(t, u, "StorageInitiator", ids[i]) < 0)
            goto fail;
    }
    if (n > 0) {
        if (sv_ids(&tv, "AccessGroup", NULL, NULL, &fss, &nfs) < 0)
            goto fail;
        for (k = 0; k < nfs; k++) {
            if (jr_links(t, u, "access_group_initiators", fss[k]) < 0)
                goto fail;
        }
        ids_free(fss, nfs);
        fss = NULL;
        nfs = 0;
    }
    ids_free(ids, n);
    ids = NULL;
    n = 0;
    if (sv_ids(&tv, "StorageArray", NULL, NULL, &ids, &n) < 0)
        goto fail;
    for (i = 0; i < n; i++) {
        if (db_txn_links_get(t, "storage_array_admins", ids[i], &links,
                             &nl) < 0)
            goto fail;
        for (j = 0; j < nl; j++) {
            if (strcmp(links[j], server_id) == 0 &&
                jr_links(t, u, "storage_array_admins", ids[i]) < 0)
                goto fail;
        }
        ids_free(links, nl);
        links = NULL;
        nl = 0;
    }
    ids_free(ids, n);
    ids = NULL;
    n = 0;
    /* And it leaves the admin and refresh lists it is on. */
    if (sv_ids(&tv, "FileServer", NULL, NULL, &ids, &n) < 0)
        goto fail;
    for (i = 0; i < n; i++) {
        for (k = 0; k < 2; k++) {
            if (db_txn_links_get(t, tables[k], ids[i], &links, &nl) < 0)
                goto fail;
            for (j = 0; j < nl; j++) {
                if (strcmp(links[j], server_id) == 0 &&
                    jr_links(t, u, tables[k], ids[i]) < 0)
                    goto fail;
            }
            ids_free(links, nl);
            links = NULL;
            nl = 0;
        }
    }
    ids_free(ids, n);
    return u;
 fail:
    ids_free(links, nl);
    ids_free(fss, nfs);
    ids_free(ids, n);
    json_object_put(u);
    return NULL;
}

int
storage_server_restore(struct db_txn *t, json_object *snap)
{
    if (!snap)
        return 0;
    return journal_apply(NULL, t, snap);
}

/* ---- the table ---- */

static const struct job_op_type op_fsrv_create = {
    "fileserver.create", fsrv_create_run, storage_undo, true,
};
static const struct job_op_type op_fsrv_update = {
    "fileserver.update", fsrv_update_run, storage_undo, true,
};
static const struct job_op_type op_fsrv_refresh = {
    "fileserver.refresh", fsrv_refresh_run, storage_undo, true,
};
static const struct job_op_type op_fsrv_delete = {
    "fileserver.delete", fsrv_delete_run, storage_undo, true,
};
static const struct job_op_type op_fs_refresh = {
    "filesystem.refresh", fs_refresh_run, storage_undo, true,
};
/* These undo on hosts too: not after a restart (the host may have moved
 * on; the job says so and ends FAILURE). */
static const struct job_op_type op_repo_create = {
    "repo.create", repo_create_run, storage_undo, false,
};
static const struct job_op_type op_repo_present = {
    "repo.present", present_run, storage_undo, false,
};
static const struct job_op_type op_repo_unpresent = {
    "repo.unpresent", unpresent_run, storage_undo, false,
};
static const struct job_op_type op_repo_release = {
    "repo.release", release_run, storage_undo, false,
};
static const struct job_op_type op_repo_take = {
    "repo.take", take_run, storage_undo, false,
};
static const struct job_op_type op_repo_refresh = {
    "repo.refresh", repo_refresh_run, storage_undo, true,
};
static const struct job_op_type op_repo_delete = {
    "repo.delete", repo_delete_run, storage_undo, false,
};

static const struct job_op_type op_array_create = {
    "array.create", array_create_run, storage_undo, true,
};
static const struct job_op_type op_array_refresh = {
    "array.refresh", array_refresh_run, storage_undo, true,
};
static const struct job_op_type op_array_delete = {
    "array.delete", array_delete_run, storage_undo, true,
};
static const struct job_op_type op_group_create = {
    "accessgroup.create", group_create_run, storage_undo, true,
};
static const struct job_op_type op_group_member = {
    "accessgroup.member", group_member_run, storage_undo, true,
};
static const struct job_op_type op_group_delete = {
    "accessgroup.delete", group_delete_run, storage_undo, true,
};
static const struct job_op_type op_element_update = {
    "storageelement.update", element_update_run, storage_undo, true,
};

const struct job_op_type *const job_ops_storage[] = {
    &op_fsrv_create, &op_fsrv_update, &op_fsrv_refresh, &op_fsrv_delete,
    &op_fs_refresh, &op_repo_create, &op_repo_present, &op_repo_unpresent,
    &op_repo_release, &op_repo_take, &op_repo_refresh, &op_repo_delete,
    &op_array_create, &op_array_refresh, &op_array_delete, &op_group_create,
    &op_group_member, &op_group_delete, &op_element_update,
    NULL,
};
