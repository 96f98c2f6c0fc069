/*
 * api_storage.c - file server, file system and repository routes (issue
 * 5; docs/STORAGE.md): register, edit, refresh and delete a file server;
 * refresh a file system; create, present, unpresent, refresh, release,
 * take over and delete a repository. Reads are the generic ones of
 * api_object.c (GET /FileServer, /FileServer/{id}/FileSystem,
 * /Repository/{id}/FileSystemMount, ...); PUT /Repository/{id} is the
 * generic edit (api_update.c).
 *
 * DESIGN: the mutating-handler skeleton of DESIGN section 3, as
 * api_pool.c. What can be decided now is decided now with no job: a body
 * that is not what the route takes (400), an unknown object (404), a rule
 * of the seeds' storage chapter against the current state (409), through
 * the rule functions of jobs/storage.h that the operations
 * (src/jobs/op_storage.c) apply again when they run -- so a change made
 * while a job waited for its locks makes it end FAILURE with the same
 * message. Then one job of one operation is submitted, holding
 * exclusively what it changes and shared what it reads, and the answer is
 * the Job.
 *
 * Oracle VM 3.4 compatibility: POST /FileServer takes a FileServer as
 * Oracle's examples send it (name, accessHost, fileServerType NETWORK,
 * fileServerPluginId and adminServerIds as SimpleIds or id strings,
 * uniformExports); PUT /FileServer/{id} and PUT /StorageArray/{id} the
 * object as GET returned it (members that identify it may come back
 * equal, never changed);
 * POST /FileSystem/{id}/Repository a Repository (name, description,
 * sharePath); present and unpresent a Server SimpleId ({"value": id} or
 * the id string too). Members a route does not handle are ignored, as
 * Oracle VM ignores them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "db/db.h"
#include "jobs/jobs.h"
#include "jobs/storage.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/json.h"
#include "util/str.h"

#define NFS_PLUGIN "oracle.generic.NFSPlugin.GenericNFSPlugin (1.1.0)"



static struct storage_view
reader(void)
{
    struct storage_view v = { api_conf()->db, NULL };

    return v;
}

/* Shared locks on the admin and refresh servers of file server @id. */
static int
lock_fileserver_servers(struct api_locks *l, const char *id, char ***a,
                        size_t *na, char ***r, size_t *nr)
{
    if (db_links_get(api_conf()->db, "file_server_admins", id, a, na) < 0)
        return -1;
    if (db_links_get(api_conf()->db, "file_server_refreshers", id, r,
                     nr) < 0)
        return -1;
    api_lock_servers(l, *a, *na);
    api_lock_servers(l, *r, *nr);
    return 0;
}

/* ---- POST /FileServer ---- */

int
api_fileserver_create(struct api_req *req, struct api_resp *resp)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *b = api_body_object(req);
    AUTOPTR(json_object) json_object *args = NULL, *plugin_row = NULL;
    const char *name = NULL, *desc = NULL, *host = NULL, *type = NULL;
    char hostc[256], plugin[256], jname[600];
    char **admins = NULL, **refr = NULL;
    char *AUTOFREE mgr = NULL, *AUTOFREE id = NULL;
    size_t na = 0, nr = 0, i;
    json_object *ud = NULL, *pv = NULL;
    API_LOCKS(l);
    bool uniform = true, any_running = false;
    int rc = -1, r;

    if (!b)
        return -1;
    if (api_common_members(b, model_type_find("FileServer"), &name, &desc,
                       &ud) < 0 ||
        api_body_str(b, "accessHost", &host) < 0 ||
        api_body_str(b, "fileServerType", &type) < 0 ||
        json_get_bool(b, "uniformExports", &uniform) < 0)
        return -1;
    if (type && strcmp(type, "NETWORK") != 0) {
        err_set(ERR_INVALID, "'fileServerType' must be NETWORK: %s",
                strcmp(type, "LOCAL") == 0
                    ? "local file servers are made by server discovery"
                    : "no other type is supported");
        return -1;
    }
    if (storage_check_access_host(host, hostc, sizeof(hostc)) < 0)
        return -1;
    str_copy(plugin, NFS_PLUGIN, sizeof(plugin));
    json_object_object_get_ex(b, "fileServerPluginId", &pv);
    if (api_ref_value(pv, "FileServerPlugin", "'fileServerPluginId'", plugin,
                  sizeof(plugin)) < 0)
        return -1;
    if (!(plugin_row = api_row_get("FileServerPlugin", plugin)))
        return -1;
    if (strcmp(json_str(plugin_row, "file_server_type"), "NETWORK") != 0) {
        err_set(ERR_INVALID, "plug-in '%s' serves local file systems, not "
                             "file servers", plugin);
        return -1;
    }
    r = api_server_list(b, "adminServerIds", &admins, &na);
    if (r < 0)
        return -1;
    if (api_server_list(b, "refreshServerIds", &refr, &nr) < 0)
        goto out;
    if (!(mgr = db_manager_id(api_conf()->db)) ||
        storage_check_fileserver_new(&v, hostc, admins, na, refr, nr,
                                     mgr) < 0)
        goto out;
    for (i = 0; i < na; i++) {
        AUTOPTR(json_object) json_object *s = api_row_get("Server", admins[i]);

        if (s && str_eq(json_str(s, "run_state"), "RUNNING"))
            any_running = true;
        if (!s)
            err_clear();
    }
    if (!any_running) {
        err_set(ERR_STATE, "cannot register file server '%s': none of its "
                           "admin servers is running",
                name ? name : hostc);
        goto out;
    }
    id = model_id_new(model_type_find("FileServer"));
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    json_object_object_add(args, "name",
                           json_object_new_string(name ? name : hostc));
    if (desc)
        json_object_object_add(args, "description",
                               json_object_new_string(desc));
    if (ud)
        json_object_object_add(args, "userData", json_object_get(ud));
    json_object_object_add(args, "accessHost", json_object_new_string(hostc));
    json_object_object_add(args, "pluginId", json_object_new_string(plugin));
    json_object_object_add(args, "admins", api_ids_json(admins, na));
    json_object_object_add(args, "refreshers", api_ids_json(refr, nr));
    json_object_object_add(args, "uniformExports",
                           json_object_new_boolean(uniform));
    snprintf(jname, sizeof(jname), "Create File Server: %s",
             name ? name : hostc);
    api_lock_add(&l, "FileServer", id, name ? name : hostc, true);
    api_lock_servers(&l, admins, na);
    api_lock_servers(&l, refr, nr);
    rc = api_submit(req, resp, jname, &l, "fileserver.create", args, NULL, NULL,
                NULL);
 out:
    db_ids_free(admins, na);
    db_ids_free(refr, nr);
    return rc;
}

/* ---- PUT /FileServer/{id} ---- */

int
api_fileserver_update(struct api_req *req, struct api_resp *resp)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *f = NULL, *b = NULL, *args = NULL;
    const char *name = NULL, *desc = NULL, *s = NULL;
    char id[256], jname[600];
    char **admins = NULL, **refr = NULL, **la = NULL, **lr = NULL;
    char *AUTOFREE mgr = NULL;
    size_t na = 0, nr = 0, nla = 0, nlr = 0;
    json_object *ud = NULL, *pv = NULL;
    API_LOCKS(l);
    bool local, uniform;
    int64_t gen;
    int rc = -1, ra, rr, ru;

    if (!(f = api_target(req, "FileServer", id, sizeof(id))) ||
        !(b = api_body_object(req)))
        return -1;
    local = str_eq(json_str(f, "file_server_type"), "LOCAL");
    if (api_body_id_check(b, "FileServer", id) < 0 ||
        api_common_members(b, model_type_find("FileServer"), &name, &desc,
                       &ud) < 0 ||
        api_generation_check(b, f, "FileServer", &gen) < 0)
        return -1;
    if (name && str_eq(name, json_str(f, "name")))
        name = NULL;
    /* What identifies a file server cannot change. */
    if (api_body_str(b, "accessHost", &s) < 0)
        return -1;
    if (s && !str_eq(s, json_str(f, "access_host"))) {
        char hc[256];

        if (local || storage_check_access_host(s, hc, sizeof(hc)) < 0 ||
            !str_eq(hc, json_str(f, "access_host"))) {
            err_set(ERR_INVALID, "the 'accessHost' of file server '%s' "
                                 "cannot change; register another file "
                                 "server instead", json_str(f, "name"));
            return -1;
        }
    }
    if (api_body_str(b, "fileServerType", &s) < 0)
        return -1;
    if (s && !str_eq(s, json_str(f, "file_server_type"))) {
        err_set(ERR_INVALID, "the 'fileServerType' of file server '%s' "
                             "cannot change", json_str(f, "name"));
        return -1;
    }
    if (json_object_object_get_ex(b, "fileServerPluginId", &pv) && pv) {
        char plugin[256];

        if (api_ref_value(pv, "FileServerPlugin", "'fileServerPluginId'",
                      plugin, sizeof(plugin)) < 0)
            return -1;
        if (!str_eq(plugin, json_str(f, "plugin_id"))) {
            err_set(ERR_INVALID, "the 'fileServerPluginId' of file server "
                                 "'%s' cannot change", json_str(f, "name"));
            return -1;
        }
    }
    ru = json_get_bool(b, "uniformExports", &uniform);
    if (ru < 0)
        return -1;
    ra = api_server_list(b, "adminServerIds", &admins, &na);
    if (ra < 0)
        return -1;
    rr = api_server_list(b, "refreshServerIds", &refr, &nr);
    if (rr < 0)
        goto out;
    if (!(mgr = db_manager_id(api_conf()->db)) ||
        lock_fileserver_servers(&l, id, &la, &nla, &lr, &nlr) < 0)
        goto out;
    /* Lists equal to the current ones are no change (a GET body). */
    if (ra == 0 && local) {
        if (!(na == nla && (na == 0 || strcmp(admins[0], la[0]) == 0))) {
            err_set(ERR_INVALID, "the admin server of local file server "
                                 "'%s' is its own server and cannot change",
                    json_str(f, "name"));
            goto out;
        }
        ra = 1;
    }
    if (rr == 0 && local && nr > 0) {
        err_set(ERR_INVALID, "local file server '%s' has no refresh "
                             "servers", json_str(f, "name"));
        goto out;
    }
    if (rr == 0 && local)
        rr = 1;
    if (ra == 0 && na == 0) {
        err_set(ERR_INVALID, "a file server needs at least one admin server "
                             "('adminServerIds')");
        goto out;
    }
    if ((ra == 0 && storage_check_admins(&v, admins, na, "admin server",
                                         mgr) < 0) ||
        (rr == 0 && storage_check_admins(&v, refr, nr, "refresh server",
                                         mgr) < 0))
        goto out;
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    if (gen >= 0)
        json_object_object_add(args, "generation",
                               json_object_new_int64(gen));
    if (name)
        json_object_object_add(args, "name", json_object_new_string(name));
    if (desc)
        json_object_object_add(args, "description",
                               json_object_new_string(desc));
    if (ud)
        json_object_object_add(args, "userData", json_object_get(ud));
    if (ra == 0)
        json_object_object_add(args, "admins", api_ids_json(admins, na));
    if (rr == 0)
        json_object_object_add(args, "refreshers", api_ids_json(refr, nr));
    if (ru == 0 && !local)
        json_object_object_add(args, "uniformExports",
                               json_object_new_boolean(uniform));
    snprintf(jname, sizeof(jname), "Edit File Server: %s", json_str(f, "name"));
    api_lock_add(&l, "FileServer", id, json_str(f, "name"), true);
    api_lock_servers(&l, admins, na);
    api_lock_servers(&l, refr, nr);
    rc = api_submit(req, resp, jname, &l, "fileserver.update", args,
                "FileServer", id, name ? name : json_str(f, "name"));
 out:
    db_ids_free(admins, na);
    db_ids_free(refr, nr);
    db_ids_free(la, nla);
    db_ids_free(lr, nlr);
    return rc;
}

/* ---- PUT /FileServer/{id}/refresh, PUT /FileSystem/{id}/refresh ---- */

/*
 * Lock what a refresh of file server @fsrv changes (it and its file
 * systems, exclusive) and reads (its servers, shared).
 */
static int
refresh_locks(struct api_locks *l, json_object *fsrv, char ***fss, size_t *nfs,
              char ***a, size_t *na, char ***r, size_t *nr)
{
    const char *id = json_str(fsrv, "id");
    size_t i;

    api_lock_add(l, "FileServer", id, json_str(fsrv, "name"), true);
    if (db_row_ids(api_conf()->db, model_type_find("FileSystem"),
                   "file_server_id", id, fss, nfs) < 0)
        return -1;
    for (i = 0; i < *nfs; i++)
        api_lock_add(l, "FileSystem", (*fss)[i], NULL, true);
    if (json_str(fsrv, "server_id"))
        api_lock_add(l, "Server", json_str(fsrv, "server_id"), NULL, false);
    return lock_fileserver_servers(l, id, a, na, r, nr);
}

int
api_fileserver_refresh(struct api_req *req, struct api_resp *resp)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *f = NULL, *args = NULL;
    char id[256], jname[600], **fss = NULL, **a = NULL, **r = NULL;
    size_t nfs = 0, na = 0, nr = 0;
    API_LOCKS(l);
    int rc = -1;

    if (!(f = api_target(req, "FileServer", id, sizeof(id))) ||
        storage_check_reachable(&v, id) < 0)
        return -1;
    if (refresh_locks(&l, f, &fss, &nfs, &a, &na, &r, &nr) == 0) {
        args = json_object_new_object();
        json_object_object_add(args, "id", json_object_new_string(id));
        snprintf(jname, sizeof(jname), "Refresh File Server: %s",
                 json_str(f, "name"));
        rc = api_submit(req, resp, jname, &l, "fileserver.refresh", args,
                    "FileServer", id, json_str(f, "name"));
    }
    db_ids_free(fss, nfs);
    db_ids_free(a, na);
    db_ids_free(r, nr);
    return rc;
}

int
api_filesystem_refresh(struct api_req *req, struct api_resp *resp)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *fs = NULL, *f = NULL, *args = NULL;
    char id[256], jname[600], **a = NULL, **r = NULL;
    size_t na = 0, nr = 0;
    API_LOCKS(l);
    int rc = -1;

    if (!(fs = api_target(req, "FileSystem", id, sizeof(id))) ||
        !(f = api_row_get("FileServer", json_str(fs, "file_server_id"))) ||
        storage_check_reachable(&v, json_str(f, "id")) < 0)
        return -1;
    api_lock_add(&l, "FileSystem", id, json_str(fs, "name"), true);
    api_lock_add(&l, "FileServer", json_str(f, "id"), json_str(f, "name"), false);
    if (json_str(f, "server_id"))
        api_lock_add(&l, "Server", json_str(f, "server_id"), NULL, false);
    if (lock_fileserver_servers(&l, json_str(f, "id"), &a, &na, &r, &nr) == 0) {
        args = json_object_new_object();
        json_object_object_add(args, "id", json_object_new_string(id));
        snprintf(jname, sizeof(jname), "Refresh File System: %s",
                 json_str(fs, "name"));
        rc = api_submit(req, resp, jname, &l, "filesystem.refresh", args,
                    "FileSystem", id, json_str(fs, "name"));
    }
    db_ids_free(a, na);
    db_ids_free(r, nr);
    return rc;
}

/* ---- DELETE /FileServer/{id} ---- */

int
api_fileserver_delete(struct api_req *req, struct api_resp *resp)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *f = NULL, *args = NULL;
    char id[256], jname[600], **fss = NULL, **a = NULL, **r = NULL;
    size_t nfs = 0, na = 0, nr = 0;
    API_LOCKS(l);
    int rc = -1;

    if (!(f = api_target(req, "FileServer", id, sizeof(id))) ||
        storage_check_fileserver_delete(&v, id) < 0)
        return -1;
    if (refresh_locks(&l, f, &fss, &nfs, &a, &na, &r, &nr) == 0) {
        args = json_object_new_object();
        json_object_object_add(args, "id", json_object_new_string(id));
        snprintf(jname, sizeof(jname), "Delete File Server: %s",
                 json_str(f, "name"));
        rc = api_submit(req, resp, jname, &l, "fileserver.delete", args,
                    "FileServer", id, json_str(f, "name"));
    }
    db_ids_free(fss, nfs);
    db_ids_free(a, na);
    db_ids_free(r, nr);
    return rc;
}

/* ---- repositories ---- */

/*
 * Locks of a job acting on file system @fs_id through its admin server:
 * the file system (@fs_exclusive or shared), its file server and the
 * servers that may act for it, shared.
 */
static int
fs_locks(struct api_locks *l, const char *fs_id, bool fs_exclusive, char ***a,
         size_t *na, char ***r, size_t *nr)
{
    AUTOPTR(json_object) json_object *fs = api_row_get("FileSystem", fs_id);
    AUTOPTR(json_object) json_object *f = NULL;

    *a = *r = NULL;
    *na = *nr = 0;
    if (!fs || !(f = api_row_get("FileServer", json_str(fs, "file_server_id"))))
        return -1;
    api_lock_add(l, "FileSystem", fs_id, NULL, fs_exclusive);
    api_lock_add(l, "FileServer", json_str(f, "id"), NULL, false);
    return lock_fileserver_servers(l, json_str(f, "id"), a, na, r, nr);
}

/* POST /FileSystem/{id}/Repository */
int
api_repository_create(struct api_req *req, struct api_resp *resp)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *fs = NULL, *b = NULL, *args = NULL;
    AUTOPTR(json_object) json_object *f = NULL;
    const char *name = NULL, *desc = NULL, *share = NULL;
    char fs_id[256], jname[600], **a = NULL, **r = NULL;
    char *AUTOFREE id = NULL, *AUTOFREE admin = NULL;
    json_object *ud = NULL, *hold = NULL;
    API_LOCKS(l);
    struct hv_fs spec;
    size_t na = 0, nr = 0;
    int rc = -1;

    if (!(fs = api_target(req, "FileSystem", fs_id, sizeof(fs_id))) ||
        !(b = api_body_object(req)))
        return -1;
    if (api_common_members(b, model_type_find("Repository"), &name, &desc,
                       &ud) < 0 ||
        api_body_str(b, "sharePath", &share) < 0)
        return -1;
    if (!name) {
        err_set(ERR_INVALID, "a new repository needs a 'name'");
        return -1;
    }
    if (share && share[0] == '/') {
        err_set(ERR_INVALID, "'sharePath' must be relative to the file "
                             "system ('%s' starts with '/')", share);
        return -1;
    }
    if (storage_check_repo_create(&v, fs_id, share ? share : "") < 0)
        return -1;
    /* A server must be able to build it. */
    if (storage_fs_spec(api_conf()->db, fs_id, &spec, &hold, &admin) < 0)
        return -1;
    json_object_put(hold);
    id = model_id_new(model_type_find("Repository"));
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    json_object_object_add(args, "fs", json_object_new_string(fs_id));
    json_object_object_add(args, "name", json_object_new_string(name));
    if (desc)
        json_object_object_add(args, "description",
                               json_object_new_string(desc));
    if (ud)
        json_object_object_add(args, "userData", json_object_get(ud));
    json_object_object_add(args, "sharePath",
                           json_object_new_string(share ? share : ""));
    snprintf(jname, sizeof(jname), "Create Repository: %s", name);
    api_lock_add(&l, "Repository", id, name, true);
    if (fs_locks(&l, fs_id, true, &a, &na, &r, &nr) == 0) {
        if ((f = api_row_get("FileServer", json_str(fs, "file_server_id"))) &&
            json_str(f, "server_id"))
            api_lock_add(&l, "Server", json_str(f, "server_id"), NULL, false);
        err_clear();
        rc = api_submit(req, resp, jname, &l, "repo.create", args, NULL, NULL,
                    NULL);
    }
    db_ids_free(a, na);
    db_ids_free(r, nr);
    return rc;
}

/* The server a present/unpresent body names, into @out. */
static int
body_server(const struct api_req *req, char *out, size_t size)
{
    AUTOPTR(json_object) json_object *b = NULL;

    if (!req->body || !req->body_len) {
        err_set(ERR_INVALID, "the body must name the server: its SimpleId, "
                             "{\"value\": id} or the id as a JSON string");
        return -1;
    }
    if (!(b = json_parse(req->body, req->body_len)))
        return -1;
    return api_ref_value(b, "Server", "the server", out, size) == 0 ? 0 : -1;
}

/* PUT /Repository/{id}/present (@present) and /unpresent. */
static int
presentation(struct api_req *req, struct api_resp *resp, bool present)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *r = NULL, *s = NULL, *args = NULL;
    char id[256], sid[256], jname[800];
    char *AUTOFREE mgr = NULL;
    API_LOCKS(l);

    if (!(r = api_target(req, "Repository", id, sizeof(id))) ||
        body_server(req, sid, sizeof(sid)) < 0 ||
        !(s = api_row_get("Server", sid)))
        return -1;
    if (present) {
        if (!(mgr = db_manager_id(api_conf()->db)) ||
            storage_check_present(&v, id, sid, mgr) < 0)
            return -1;
    } else if (storage_check_unpresent(&v, id, sid) < 0) {
        return -1;
    }
    args = json_object_new_object();
    json_object_object_add(args, "repo", json_object_new_string(id));
    json_object_object_add(args, "server", json_object_new_string(sid));
    snprintf(jname, sizeof(jname),
             present ? "Present Repository: %s to Server: %s"
                     : "Unpresent Repository: %s from Server: %s",
             json_str(r, "name"), json_str(s, "name"));
    api_lock_add(&l, "Repository", id, json_str(r, "name"), true);
    api_lock_add(&l, "Server", sid, json_str(s, "name"), false);
    api_lock_add(&l, "FileSystem", json_str(r, "file_system_id"), NULL, false);
    return api_submit(req, resp, jname, &l,
                  present ? "repo.present" : "repo.unpresent", args,
                  "Repository", id, json_str(r, "name"));
}

int
api_repository_present(struct api_req *req, struct api_resp *resp)
{
    return presentation(req, resp, true);
}

int
api_repository_unpresent(struct api_req *req, struct api_resp *resp)
{
    return presentation(req, resp, false);
}

/* releaseOwnership (@take false) and takeOwnership. */
static int
ownership(struct api_req *req, struct api_resp *resp, bool take)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *r = NULL, *args = NULL;
    char id[256], jname[600], **a = NULL, **rf = NULL;
    char *AUTOFREE mgr = NULL, *AUTOFREE admin = NULL;
    json_object *hold = NULL;
    API_LOCKS(l);
    struct hv_fs spec;
    size_t na = 0, nr = 0;
    int rc = -1;

    if (!(r = api_target(req, "Repository", id, sizeof(id))) ||
        !(mgr = db_manager_id(api_conf()->db)))
        return -1;
    if ((take ? storage_check_take(&v, id, mgr)
              : storage_check_release(&v, id, mgr)) < 0 ||
        storage_fs_spec(api_conf()->db, json_str(r, "file_system_id"), &spec,
                        &hold, &admin) < 0)
        return -1;
    json_object_put(hold);
    args = json_object_new_object();
    json_object_object_add(args, "repo", json_object_new_string(id));
    snprintf(jname, sizeof(jname), "%s Ownership of Repository: %s",
             take ? "Take" : "Release", json_str(r, "name"));
    api_lock_add(&l, "Repository", id, json_str(r, "name"), true);
    api_lock_add(&l, "Server", admin, NULL, false);
    if (fs_locks(&l, json_str(r, "file_system_id"), false, &a, &na, &rf,
                 &nr) == 0)
        rc = api_submit(req, resp, jname, &l, take ? "repo.take" : "repo.release",
                    args, "Repository", id, json_str(r, "name"));
    db_ids_free(a, na);
    db_ids_free(rf, nr);
    return rc;
}

int
api_repository_take_ownership(struct api_req *req, struct api_resp *resp)
{
    return ownership(req, resp, true);
}

int
api_repository_release_ownership(struct api_req *req, struct api_resp *resp)
{
    return ownership(req, resp, false);
}

/* PUT /Repository/{id}/refresh: through a server it is presented to. */
int
api_repository_refresh(struct api_req *req, struct api_resp *resp)
{
    AUTOPTR(json_object) json_object *r = NULL, *args = NULL;
    char id[256], jname[600], **mounts = NULL;
    const struct model_type *mt = model_type_find("FileSystemMount");
    API_LOCKS(l);
    bool any = false;
    size_t n = 0, i;
    int rc = -1;

    if (!(r = api_target(req, "Repository", id, sizeof(id))))
        return -1;
    if (db_row_ids(api_conf()->db, mt, "repository_id", id, &mounts, &n) < 0)
        return -1;
    api_lock_add(&l, "Repository", id, json_str(r, "name"), true);
    for (i = 0; i < n; i++) {
        AUTOPTR(json_object) json_object *m = api_row_get("FileSystemMount",
                                                      mounts[i]);
        AUTOPTR(json_object) json_object *s =
            m ? api_row_get("Server", json_str(m, "server_id")) : NULL;

        if (!s) {
            err_clear();
            continue;
        }
        if (str_eq(json_str(s, "run_state"), "RUNNING"))
            any = true;
    }
    if (!any) {
        err_set(ERR_STATE, "cannot refresh repository '%s': it is not "
                           "presented to any running server",
                json_str(r, "name"));
        goto out;
    }
    args = json_object_new_object();
    json_object_object_add(args, "repo", json_object_new_string(id));
    snprintf(jname, sizeof(jname), "Refresh Repository: %s", json_str(r, "name"));
    rc = api_submit(req, resp, jname, &l, "repo.refresh", args, "Repository", id,
                json_str(r, "name"));
 out:
    db_ids_free(mounts, n);
    return rc;
}

/* DELETE /Repository/{id} */
int
api_repository_delete(struct api_req *req, struct api_resp *resp)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *r = NULL, *args = NULL;
    char id[256], jname[600], **a = NULL, **rf = NULL;
    char *AUTOFREE mgr = NULL, *AUTOFREE admin = NULL;
    json_object *hold = NULL;
    API_LOCKS(l);
    struct hv_fs spec;
    size_t na = 0, nr = 0;
    bool owned;
    int rc = -1;

    if (!(r = api_target(req, "Repository", id, sizeof(id))) ||
        !(mgr = db_manager_id(api_conf()->db)) ||
        storage_check_repo_delete(&v, id, mgr) < 0)
        return -1;
    owned = str_eq(json_str(r, "manager_uuid"), mgr);
    /* Its files go too: a server must reach them. */
    if (owned) {
        if (storage_fs_spec(api_conf()->db, json_str(r, "file_system_id"), &spec,
                            &hold, &admin) < 0)
            return -1;
        json_object_put(hold);
    }
    args = json_object_new_object();
    json_object_object_add(args, "repo", json_object_new_string(id));
    snprintf(jname, sizeof(jname), "Delete Repository: %s", json_str(r, "name"));
    api_lock_add(&l, "Repository", id, json_str(r, "name"), true);
    api_lock_add(&l, "Server", admin, NULL, false);
    if (fs_locks(&l, json_str(r, "file_system_id"), false, &a, &na, &rf,
                 &nr) == 0)
        rc = api_submit(req, resp, jname, &l, "repo.delete", args, "Repository",
                    id, json_str(r, "name"));
    db_ids_free(a, na);
    db_ids_free(rf, nr);
    return rc;
}

/* ---- storage arrays (docs/STORAGE.md, "Storage arrays") ---- */

#define SCSI_PLUGIN "oracle.generic.SCSIPlugin.GenericPlugin (1.1.0)"
#define ACCESS_HOSTS_MAX 16

/* accessHosts of @b checked: [{accessHost, accessPort}] (at least one),
 * canonical into *out (a JSON array), the first host into @first. */
static int
access_hosts(json_object *b, json_object **out, char *first, size_t size)
{
    json_object *a, *r;
    size_t i, len;

    *out = NULL;
    if (!json_object_object_get_ex(b, "accessHosts", &a) || !a ||
        !json_object_is_type(a, json_type_array) ||
        (len = json_object_array_length(a)) == 0) {
        err_set(ERR_INVALID, "'accessHosts' must be an array of at least one "
                             "{\"accessHost\": host, \"accessPort\": port}");
        return -1;
    }
    if (len > ACCESS_HOSTS_MAX) {
        err_set(ERR_INVALID, "'accessHosts' has more than %d entries",
                ACCESS_HOSTS_MAX);
        return -1;
    }
    r = json_object_new_array();
    for (i = 0; i < len; i++) {
        json_object *e = json_object_array_get_idx(a, i), *p, *o;
        char hc[256];
        int64_t port = 3260;

        if (!e || !json_object_is_type(e, json_type_object) ||
            storage_check_access_host(json_str(e, "accessHost"), hc,
                                      sizeof(hc)) < 0) {
            if (err_code() == ERR_OK)
                err_set(ERR_INVALID, "'accessHosts'[%zu] must be an object "
                                     "with an 'accessHost'", i);
            json_object_put(r);
            return -1;
        }
        if (json_object_object_get_ex(e, "accessPort", &p) && p) {
            if (!json_object_is_type(p, json_type_int) ||
                (port = json_object_get_int64(p)) < 1 || port > 65535) {
                err_set(ERR_INVALID, "'accessHosts'[%zu].accessPort must be "
                                     "a port number (1-65535)", i);
                json_object_put(r);
                return -1;
            }
        }
        if (i == 0)
            str_copy(first, hc, size);
        o = json_object_new_object();
        json_object_object_add(o, "accessHost", json_object_new_string(hc));
        json_object_object_add(o, "accessPort", json_object_new_int64(port));
        json_object_array_add(r, o);
    }
    *out = r;
    return 0;
}

/* ---- POST /StorageArray ---- */

int
api_array_create(struct api_req *req, struct api_resp *resp)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *b = api_body_object(req);
    AUTOPTR(json_object) json_object *args = NULL, *hosts = NULL;
    AUTOPTR(json_object) json_object *plugin_row = NULL;
    const char *name = NULL, *desc = NULL, *type = NULL;
    char host[256], plugin[256], jname[600];
    char **admins = NULL, *AUTOFREE mgr = NULL, *AUTOFREE id = NULL;
    size_t na = 0, i;
    json_object *ud = NULL, *pv = NULL;
    API_LOCKS(l);
    bool any_running = false;
    int rc = -1;

    if (!b)
        return -1;
    if (api_common_members(b, model_type_find("StorageArray"), &name, &desc,
                       &ud) < 0 ||
        api_body_str(b, "storageType", &type) < 0)
        return -1;
    if (type && strcmp(type, "ISCSI") != 0) {
        err_set(ERR_INVALID, "'storageType' must be ISCSI: %s",
                strcmp(type, "FIBRECHANNEL") == 0
                    ? "Fibre Channel LUNs belong to the default Unmanaged "
                      "FibreChannel Storage Array"
                    : "no other type is supported");
        return -1;
    }
    if (access_hosts(b, &hosts, host, sizeof(host)) < 0)
        return -1;
    str_copy(plugin, SCSI_PLUGIN, sizeof(plugin));
    json_object_object_get_ex(b, "storageArrayPluginId", &pv);
    if (api_ref_value(pv, "StorageArrayPlugin", "'storageArrayPluginId'",
                      plugin, sizeof(plugin)) < 0)
        return -1;
    if (!(plugin_row = api_row_get("StorageArrayPlugin", plugin)))
        return -1;
    if (api_server_list(b, "adminServerIds", &admins, &na) < 0)
        return -1;
    if (!(mgr = db_manager_id(api_conf()->db)) ||
        storage_check_array_new(&v, host, admins, na, mgr) < 0)
        goto out;
    for (i = 0; i < na; i++) {
        AUTOPTR(json_object) json_object *s = api_row_get("Server", admins[i]);

        if (s && str_eq(json_str(s, "run_state"), "RUNNING"))
            any_running = true;
        if (!s)
            err_clear();
    }
    if (!any_running) {
        err_set(ERR_STATE, "cannot register storage array '%s': none of its "
                           "admin servers is running", name ? name : host);
        goto out;
    }
    id = model_id_new(model_type_find("StorageArray"));
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    json_object_object_add(args, "name",
                           json_object_new_string(name ? name : host));
    if (desc)
        json_object_object_add(args, "description",
                               json_object_new_string(desc));
    json_object_object_add(args, "accessHosts", json_object_new_string(
                               json_object_to_json_string_ext(
                                   hosts, JSON_C_TO_STRING_PLAIN)));
    json_object_object_add(args, "pluginId", json_object_new_string(plugin));
    json_object_object_add(args, "admins", api_ids_json(admins, na));
    snprintf(jname, sizeof(jname), "Create Storage Array: %s",
             name ? name : host);
    api_lock_add(&l, "StorageArray", id, name ? name : host, true);
    api_lock_servers(&l, admins, na);
    rc = api_submit(req, resp, jname, &l, "array.create", args, NULL, NULL,
                NULL);
 out:
    db_ids_free(admins, na);
    return rc;
}

/* Locks: array @id exclusive, its admin servers shared. */
static int
lock_array(struct api_locks *l, json_object *a)
{
    char **ids = NULL;
    size_t n = 0;

    api_lock_add(l, "StorageArray", json_str(a, "id"), json_str(a, "name"), true);
    if (db_links_get(api_conf()->db, "storage_array_admins", json_str(a, "id"),
                     &ids, &n) < 0)
        return -1;
    api_lock_servers(l, ids, n);
    db_ids_free(ids, n);
    return 0;
}

/* PUT /StorageArray/{id}/refresh and DELETE /StorageArray/{id}. */
static int
array_job(struct api_req *req, struct api_resp *resp, bool del)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *a = NULL, *args = NULL;
    char id[256], jname[600];
    API_LOCKS(l);

    if (!(a = api_target(req, "StorageArray", id, sizeof(id))))
        return -1;
    if ((del ? storage_check_array_delete(&v, id)
             : storage_check_array_reachable(&v, id)) < 0 ||
        lock_array(&l, a) < 0)
        return -1;
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    snprintf(jname, sizeof(jname), "%s Storage Array: %s",
             del ? "Delete" : "Refresh", json_str(a, "name"));
    return api_submit(req, resp, jname, &l, del ? "array.delete"
                                            : "array.refresh", args,
                  "StorageArray", id, json_str(a, "name"));
}

int
api_array_refresh(struct api_req *req, struct api_resp *resp)
{
    return array_job(req, resp, false);
}

int
api_array_delete(struct api_req *req, struct api_resp *resp)
{
    return array_job(req, resp, true);
}

/* ---- PUT /StorageArray/{id} ---- */

/* The JSON text of access host list @h (PLAIN, as rows keep it). */
static const char *
hosts_text(json_object *h)
{
    return json_object_to_json_string_ext(h, JSON_C_TO_STRING_PLAIN);
}

/* Whether server lists @a and @b hold the same ids (in any order). */
static bool
same_servers(char *const *a, size_t na, char *const *b, size_t nb)
{
    size_t i, k;

    if (na != nb)
        return false;
    for (i = 0; i < na; i++) {
        bool in = false;

        for (k = 0; k < nb && !in; k++)
            in = strcmp(a[i], b[k]) == 0;
        if (!in)
            return false;
    }
    return true;
}

/*
 * The members of array @a that identify it, as a GET body carries them:
 * equal values are accepted, others refused (400).
 */
static int
array_fixed_members(json_object *b, json_object *a)
{
    json_object *pv = NULL;
    const char *s = NULL;
    int64_t dflt = 0;
    bool bd;
    int r;

    if (api_body_str(b, "storageType", &s) < 0)
        return -1;
    if (s && !str_eq(s, json_str(a, "storage_type"))) {
        err_set(ERR_INVALID, "the 'storageType' of storage array '%s' "
                             "cannot change; register another array "
                             "instead", json_str(a, "name"));
        return -1;
    }
    if (json_object_object_get_ex(b, "storageArrayPluginId", &pv) && pv) {
        char plugin[256];

        if (api_ref_value(pv, "StorageArrayPlugin", "'storageArrayPluginId'",
                          plugin, sizeof(plugin)) < 0)
            return -1;
        if (!str_eq(plugin, json_str(a, "plugin_id"))) {
            err_set(ERR_INVALID, "the 'storageArrayPluginId' of storage "
                                 "array '%s' cannot change",
                    json_str(a, "name"));
            return -1;
        }
    }
    if ((r = json_get_bool(b, "defaultArray", &bd)) < 0)
        return -1;
    json_get_int64(a, "default_array", &dflt);
    if (r == 0 && bd != (dflt != 0)) {
        err_set(ERR_INVALID, "the 'defaultArray' of storage array '%s' "
                             "cannot change", json_str(a, "name"));
        return -1;
    }
    return 0;
}

int
api_array_update(struct api_req *req, struct api_resp *resp)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *a = NULL, *b = NULL, *args = NULL;
    AUTOPTR(json_object) json_object *hosts = NULL, *cur = NULL;
    const char *name = NULL, *desc = NULL, *htext = NULL;
    char id[256], jname[600], first[256];
    char **admins = NULL, **la = NULL, *AUTOFREE mgr = NULL;
    char *AUTOFREE newhosts = NULL;
    size_t na = 0, nla = 0;
    json_object *ud = NULL, *hj = NULL;
    int64_t gen, dflt = 0;
    bool set;
    int rc = -1, ra;
    API_LOCKS(l);

    if (!(a = api_target(req, "StorageArray", id, sizeof(id))) ||
        !(b = api_body_object(req)))
        return -1;
    json_get_int64(a, "default_array", &dflt);
    if (api_body_id_check(b, "StorageArray", id) < 0 ||
        api_common_members(b, model_type_find("StorageArray"), &name, &desc,
                       &ud) < 0 ||
        api_generation_check(b, a, "StorageArray", &gen) < 0 ||
        array_fixed_members(b, a) < 0)
        return -1;
    if (name && str_eq(name, json_str(a, "name")))
        name = NULL;
    /* accessHosts: absent or equal to the current ones is no change; a
     * default array's (none) may come back empty from a GET. */
    if (json_object_object_get_ex(b, "accessHosts", &hj) && hj) {
        if (dflt) {
            if (!json_object_is_type(hj, json_type_array) ||
                json_object_array_length(hj) > 0)
                newhosts = xstrdup(json_to_text(hj));
        } else {
            if (access_hosts(b, &hosts, first, sizeof(first)) < 0)
                return -1;
            htext = json_str(a, "access_hosts");
            cur = htext ? json_parse(htext, strlen(htext)) : NULL;
            if (!cur)
                err_clear();
            if (!cur || strcmp(hosts_text(hosts), hosts_text(cur)) != 0)
                newhosts = xstrdup(hosts_text(hosts));
        }
    }
    ra = api_server_list(b, "adminServerIds", &admins, &na);
    if (ra < 0)
        return -1;
    if (db_links_get(api_conf()->db, "storage_array_admins", id, &la,
                     &nla) < 0)
        goto out;
    /* A list equal to the current one is no change (a GET body). */
    set = ra == 0 && !same_servers(admins, na, la, nla);
    if (!(mgr = db_manager_id(api_conf()->db)) ||
        storage_check_array_update(&v, id, newhosts, admins, na, set,
                                   mgr) < 0)
        goto out;
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    if (gen >= 0)
        json_object_object_add(args, "generation",
                               json_object_new_int64(gen));
    if (name)
        json_object_object_add(args, "name", json_object_new_string(name));
    if (desc)
        json_object_object_add(args, "description",
                               json_object_new_string(desc));
    if (ud)
        json_object_object_add(args, "userData", json_object_get(ud));
    if (set)
        json_object_object_add(args, "admins", api_ids_json(admins, na));
    if (newhosts)
        json_object_object_add(args, "accessHosts",
                               json_object_new_string(newhosts));
    snprintf(jname, sizeof(jname), "Edit Storage Array: %s",
             json_str(a, "name"));
    /* The array exclusive; its admin servers, old and new, shared. */
    if (lock_array(&l, a) < 0)
        goto out;
    api_lock_servers(&l, admins, na);
    rc = api_submit(req, resp, jname, &l, "array.update", args, "StorageArray",
                id, name ? name : json_str(a, "name"));
 out:
    db_ids_free(admins, na);
    db_ids_free(la, nla);
    return rc;
}

/* ---- POST /StorageArray/{id}/AccessGroup ---- */

int
api_access_group_create(struct api_req *req, struct api_resp *resp)
{
    AUTOPTR(json_object) json_object *a = NULL, *b = NULL, *args = NULL;
    const char *name = NULL, *desc = NULL;
    char id[256], jname[600], *AUTOFREE gid = NULL;
    json_object *ud = NULL;
    API_LOCKS(l);

    if (!(a = api_target(req, "StorageArray", id, sizeof(id))) ||
        !(b = api_body_object(req)) ||
        api_common_members(b, model_type_find("AccessGroup"), &name, &desc,
                       &ud) < 0)
        return -1;
    if (!name) {
        err_set(ERR_INVALID, "an access group needs a 'name'");
        return -1;
    }
    gid = model_id_new(model_type_find("AccessGroup"));
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(gid));
    json_object_object_add(args, "array", json_object_new_string(id));
    json_object_object_add(args, "name", json_object_new_string(name));
    if (desc)
        json_object_object_add(args, "description",
                               json_object_new_string(desc));
    api_lock_add(&l, "AccessGroup", gid, name, true);
    api_lock_add(&l, "StorageArray", id, json_str(a, "name"), false);
    snprintf(jname, sizeof(jname), "Create Access Group: %s", name);
    return api_submit(req, resp, jname, &l, "accessgroup.create", args,
                  "AccessGroup", gid, name);
}

/* PUT /AccessGroup/{id}/add|removeStorageElement|Initiator. */
static int
group_member(struct api_req *req, struct api_resp *resp, const char *kind,
             bool add)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *g = NULL, *b = NULL, *args = NULL;
    AUTOPTR(json_object) json_object *r = NULL;
    char id[256], ref[256], jname[800];
    API_LOCKS(l);

    if (!(g = api_target(req, "AccessGroup", id, sizeof(id))))
        return -1;
    if (!req->body || !req->body_len) {
        err_set(ERR_INVALID, "the body must name the %s: its SimpleId, "
                             "{\"value\": id} or the id as a JSON string",
                kind);
        return -1;
    }
    if (!(b = json_parse(req->body, req->body_len)) ||
        api_ref_value(b, kind, "the body", ref, sizeof(ref)) != 0) {
        if (err_code() == ERR_OK)
            err_set(ERR_INVALID, "the body must name the %s", kind);
        return -1;
    }
    if (!(r = api_row_get(kind, ref)) ||
        storage_check_group_member(&v, id, kind, ref, add) < 0)
        return -1;
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    json_object_object_add(args, "kind", json_object_new_string(kind));
    json_object_object_add(args, "ref", json_object_new_string(ref));
    json_object_object_add(args, "add", json_object_new_boolean(add));
    api_lock_add(&l, "AccessGroup", id, json_str(g, "name"), true);
    api_lock_add(&l, kind, ref, json_str(r, "name"), false);
    snprintf(jname, sizeof(jname), "%s %s %s Access Group: %s",
             add ? "Add" : "Remove", json_str(r, "name"), add ? "to" : "from",
             json_str(g, "name"));
    return api_submit(req, resp, jname, &l, "accessgroup.member", args,
                  "AccessGroup", id, json_str(g, "name"));
}

int
api_access_group_add_element(struct api_req *req, struct api_resp *resp)
{
    return group_member(req, resp, "StorageElement", true);
}

int
api_access_group_remove_element(struct api_req *req, struct api_resp *resp)
{
    return group_member(req, resp, "StorageElement", false);
}

int
api_access_group_add_initiator(struct api_req *req, struct api_resp *resp)
{
    return group_member(req, resp, "StorageInitiator", true);
}

int
api_access_group_remove_initiator(struct api_req *req,
                                  struct api_resp *resp)
{
    return group_member(req, resp, "StorageInitiator", false);
}

int
api_access_group_delete(struct api_req *req, struct api_resp *resp)
{
    AUTOPTR(json_object) json_object *g = NULL, *args = NULL;
    char id[256], jname[600];
    API_LOCKS(l);

    if (!(g = api_target(req, "AccessGroup", id, sizeof(id))))
        return -1;
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    api_lock_add(&l, "AccessGroup", id, json_str(g, "name"), true);
    snprintf(jname, sizeof(jname), "Delete Access Group: %s",
             json_str(g, "name"));
    return api_submit(req, resp, jname, &l, "accessgroup.delete", args,
                  "AccessGroup", id, json_str(g, "name"));
}

/* ---- PUT /StorageElement/{id} ---- */

int
api_storage_element_update(struct api_req *req, struct api_resp *resp)
{
    AUTOPTR(json_object) json_object *e = NULL, *b = NULL, *args = NULL;
    const char *name = NULL, *desc = NULL;
    char id[256], jname[600];
    json_object *ud = NULL;
    bool shareable;
    int64_t gen;
    int rs;
    API_LOCKS(l);

    if (!(e = api_target(req, "StorageElement", id, sizeof(id))) ||
        !(b = api_body_object(req)))
        return -1;
    if (api_body_id_check(b, "StorageElement", id) < 0 ||
        api_common_members(b, model_type_find("StorageElement"), &name, &desc,
                       &ud) < 0 ||
        api_generation_check(b, e, "StorageElement", &gen) < 0 ||
        (rs = json_get_bool(b, "shareable", &shareable)) < 0)
        return -1;
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    if (gen >= 0)
        json_object_object_add(args, "generation",
                               json_object_new_int64(gen));
    if (name)
        json_object_object_add(args, "name", json_object_new_string(name));
    if (desc)
        json_object_object_add(args, "description",
                               json_object_new_string(desc));
    if (ud)
        json_object_object_add(args, "userData", json_object_get(ud));
    if (rs == 0)
        json_object_object_add(args, "shareable",
                               json_object_new_boolean(shareable));
    api_lock_add(&l, "StorageElement", id, json_str(e, "name"), true);
    snprintf(jname, sizeof(jname), "Edit Storage Element: %s",
             name ? name : json_str(e, "name"));
    return api_submit(req, resp, jname, &l, "storageelement.update", args,
                  "StorageElement", id, name ? name : json_str(e, "name"));
}

/* ---- POST /FileServer/{id}/FileSystem, DELETE /FileSystem/{id}:
 * OCFS2 file systems on LUNs (op_ocfs2.c) ---- */

int
api_filesystem_create(struct api_req *req, struct api_resp *resp)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *f = NULL, *b = NULL, *args = NULL;
    AUTOPTR(json_object) json_object *e = NULL, *s = NULL;
    const char *name = NULL, *desc = NULL;
    char fsrv_id[256], element[256], pool[256], jname[600];
    char *AUTOFREE mgr = NULL, *AUTOFREE id = NULL;
    json_object *ud = NULL, *ev = NULL;
    API_LOCKS(l);

    if (!(f = api_target(req, "FileServer", fsrv_id, sizeof(fsrv_id))) ||
        !(b = api_body_object(req)))
        return -1;
    if (api_common_members(b, model_type_find("FileSystem"), &name, &desc,
                       &ud) < 0)
        return -1;
    if (!json_object_object_get_ex(b, "storageElementId", &ev) || !ev) {
        err_set(ERR_INVALID, "a new file system needs 'storageElementId': "
                             "the LUN (StorageElement) to make it on");
        return -1;
    }
    if (api_ref_value(ev, "StorageElement", "'storageElementId'", element,
                      sizeof(element)) != 0) {
        if (err_code() == ERR_OK)
            err_set(ERR_INVALID, "'storageElementId' must not be null");
        return -1;
    }
    if (!(e = api_row_get("StorageElement", element)) ||
        !(mgr = db_manager_id(api_conf()->db)) ||
        storage_check_ocfs2_new(&v, fsrv_id, element, mgr, pool,
                                sizeof(pool)) < 0 ||
        !(s = api_row_get("Server", json_str(f, "server_id"))))
        return -1;
    if (!name)
        name = json_str(e, "name");
    id = model_id_new(model_type_find("FileSystem"));
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    json_object_object_add(args, "fileServer", json_object_new_string(fsrv_id));
    json_object_object_add(args, "element", json_object_new_string(element));
    json_object_object_add(args, "name", json_object_new_string(name));
    if (desc)
        json_object_object_add(args, "description",
                               json_object_new_string(desc));
    if (ud)
        json_object_object_add(args, "userData", json_object_get(ud));
    snprintf(jname, sizeof(jname), "Create File System: %s on %s", name,
             json_str(e, "name"));
    api_lock_add(&l, "FileSystem", id, name, true);
    api_lock_add(&l, "StorageElement", element, json_str(e, "name"), true);
    api_lock_add(&l, "FileServer", fsrv_id, json_str(f, "name"), false);
    api_lock_add(&l, "Server", json_str(s, "id"), json_str(s, "name"), false);
    api_lock_add(&l, "ServerPool", pool, NULL, false);
    return api_submit(req, resp, jname, &l, "filesystem.create", args,
                  "FileSystem", id, name);
}

int
api_filesystem_delete(struct api_req *req, struct api_resp *resp)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *fs = NULL, *args = NULL;
    char id[256], jname[600];
    API_LOCKS(l);

    if (!(fs = api_target(req, "FileSystem", id, sizeof(id))) ||
        storage_check_fs_delete(&v, id) < 0)
        return -1;
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    snprintf(jname, sizeof(jname), "Delete File System: %s",
             json_str(fs, "name"));
    api_lock_add(&l, "FileSystem", id, json_str(fs, "name"), true);
    api_lock_add(&l, "StorageElement", json_str(fs, "storage_element_id"), NULL,
             true);
    api_lock_add(&l, "FileServer", json_str(fs, "file_server_id"), NULL, false);
    api_lock_add(&l, "ServerPool", json_str(fs, "server_pool_id"), NULL, false);
    return api_submit(req, resp, jname, &l, "filesystem.delete", args,
                  "FileSystem", id, json_str(fs, "name"));
}
