/*
 * storage_host.c - reaching the server a storage operation acts through
 * (see storage.h).
 */
#include <string.h>

#include "db/db.h"
#include "jobs/storage.h"
#include "model/model.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/json.h"
#include "util/secret.h"

const struct hv_driver *const storage_hv = &hv_libvirt;

struct hv_conn *
storage_server_open(struct db *db, const char *server_id)
{
    struct db_server *s = db_server_get(db, server_id);
    struct hv_auth auth = { NULL, NULL };
    struct hv_conn *c = NULL;
    char *password = NULL;

    if (!s)
        return NULL;
    if (strcmp(s->run_state, "RUNNING") != 0) {
        err_set(ERR_STATE, "server '%s' is not running (%s)", s->name,
                s->run_state);
        goto cleanup;
    }
    if (s->agent_password && !(password = secret_open(s->agent_password)))
        goto cleanup;
    auth.username = s->agent_login;
    auth.password = password;
    c = storage_hv->open(s->libvirt_uri, &auth);
 cleanup:
    if (password) {
        memset(password, 0, strlen(password));
        xfree(password);
    }
    db_server_free(s);
    return c;
}

/* True when server @id is RUNNING (errors count as no). */
static bool
server_running(struct db *db, const char *id)
{
    json_object *row = db_row_get(db, model_type_find("Server"), id);
    bool ok = row && json_str(row, "run_state") &&
              strcmp(json_str(row, "run_state"), "RUNNING") == 0;

    if (!row)
        err_clear();
    json_object_put(row);
    return ok;
}

struct hv_conn *
storage_repo_open(struct db *db, const char *repo_id, const char *prefer,
                  char **server_id)
{
    const struct model_type *mt = model_type_find("FileSystemMount");
    char **mounts = NULL, *chosen = NULL;
    size_t n = 0, i;
    struct hv_conn *c = NULL;
    json_object *repo = NULL;

    if (server_id)
        *server_id = NULL;
    if (!(repo = db_row_get(db, model_type_find("Repository"), repo_id)))
        return NULL;
    if (db_row_ids(db, mt, "repository_id", repo_id, &mounts, &n) < 0)
        goto cleanup;
    /* The preferred server first, then the others in name order. */
    for (i = 0; i < n && !chosen; i++) {
        json_object *m = db_row_get(db, mt, mounts[i]);
        const char *sid = m ? json_str(m, "server_id") : NULL;

        if (!m)
            err_clear();
        if (sid && prefer && strcmp(sid, prefer) == 0 &&
            server_running(db, sid))
            chosen = xstrdup(sid);
        json_object_put(m);
    }
    for (i = 0; i < n && !chosen; i++) {
        json_object *m = db_row_get(db, mt, mounts[i]);
        const char *sid = m ? json_str(m, "server_id") : NULL;

        if (!m)
            err_clear();
        if (sid && server_running(db, sid))
            chosen = xstrdup(sid);
        json_object_put(m);
    }
    if (!chosen) {
        err_set(ERR_STATE, "repository '%s' is not presented to any running "
                           "server", json_str(repo, "name"));
        goto cleanup;
    }
    c = storage_server_open(db, chosen);
    if (c && server_id) {
        *server_id = chosen;
        chosen = NULL;
    }
 cleanup:
    xfree(chosen);
    db_ids_free(mounts, n);
    json_object_put(repo);
    return c;
}

/* A RUNNING admin (then refresh) server of file server @fsrv. NULL with
 * ERR_STATE when none. Caller frees. */
static char *
file_server_admin(struct db *db, json_object *fsrv)
{
    static const char *const tables[] = { "file_server_admins",
                                          "file_server_refreshers" };
    const char *id = json_str(fsrv, "id");
    char *found = NULL;
    size_t t, i, n;
    char **ids;

    for (t = 0; t < 2 && !found; t++) {
        if (db_links_get(db, tables[t], id, &ids, &n) < 0)
            return NULL;
        for (i = 0; i < n && !found; i++) {
            if (server_running(db, ids[i]))
                found = xstrdup(ids[i]);
        }
        db_ids_free(ids, n);
    }
    if (!found)
        err_set(ERR_STATE, "file server '%s' has no running admin server",
                json_str(fsrv, "name"));
    return found;
}

/*
 * The server to act through for OCFS2 file system @fsys (a row): the
 * server of its file server @fsrv (which made it and reaches the LUN)
 * when that runs, else the first RUNNING server of the file system's
 * pool. NULL with ERR_STATE when none. Caller frees.
 */
static char *
ocfs2_admin(struct db *db, json_object *fsys, json_object *fsrv)
{
    const struct model_type *mt = model_type_find("Server");
    const char *pool = json_str(fsys, "server_pool_id");
    const char *own = json_str(fsrv, "server_id");
    char **ids = NULL, *found = NULL;
    size_t n = 0, i;

    if (!pool) {
        err_set(ERR_STATE, "file system '%s' belongs to no server pool",
                json_str(fsys, "name"));
        return NULL;
    }
    if (own && server_running(db, own))
        return xstrdup(own);
    if (db_row_ids(db, mt, "server_pool_id", pool, &ids, &n) < 0)
        return NULL;
    for (i = 0; i < n && !found; i++) {
        if (server_running(db, ids[i]))
            found = xstrdup(ids[i]);
    }
    db_ids_free(ids, n);
    if (!found)
        err_set(ERR_STATE, "neither the server that made file system '%s' "
                           "nor any server of its pool is running",
                json_str(fsys, "name"));
    return found;
}

int
storage_fs_spec(struct db *db, const char *fs_id, struct hv_fs *fs,
                json_object **hold, char **admin)
{
    json_object *h = json_object_new_object(), *fsys, *fsrv;
    const char *type;

    memset(fs, 0, sizeof(*fs));
    *hold = NULL;
    if (admin)
        *admin = NULL;
    fsys = db_row_get(db, model_type_find("FileSystem"), fs_id);
    if (!fsys)
        goto fail;
    json_object_object_add(h, "fs", fsys);
    fsrv = db_row_get(db, model_type_find("FileServer"),
                      json_str(fsys, "file_server_id"));
    if (!fsrv)
        goto fail;
    json_object_object_add(h, "server", fsrv);
    type = json_str(fsrv, "file_server_type");
    if (json_str(fsys, "storage_element_id")) {
        fs->kind = "ocfs2";
        fs->host = NULL;
        if (admin && !(*admin = ocfs2_admin(db, fsys, fsrv)))
            goto fail;
    } else if (type && strcmp(type, "LOCAL") == 0) {
        fs->kind = "local";
        fs->host = NULL;
        if (admin) {
            const char *sid = json_str(fsrv, "server_id");

            if (!sid || !server_running(db, sid)) {
                err_set(ERR_STATE, "the server of local file server '%s' "
                                   "is not running", json_str(fsrv, "name"));
                goto fail;
            }
            *admin = xstrdup(sid);
        }
    } else {
        fs->kind = "nfs";
        fs->host = json_str(fsrv, "access_host");
        if (admin && !(*admin = file_server_admin(db, fsrv)))
            goto fail;
    }
    fs->path = json_str(fsys, "path");
    *hold = h;
    return 0;
 fail:
    json_object_put(h);
    return -1;
}
