/*
 * api_vdisk.c - repository contents: virtual disks and ISOs (create,
 * edit and resize, clone, delete), imports from URLs (virtual disks,
 * ISOs, templates, assemblies), templates from assembly VMs, and deleting
 * templates and assemblies. Reads are the generic ones of api_object.c
 * (GET /VirtualDisk, /Repository/{id}/VirtualDisk, /Vm/{id}/VmDiskMapping,
 * /Assembly/{id}/AssemblyVm ...).
 *
 * DESIGN: the mutating-handler skeleton of DESIGN section 3. What can be
 * decided now is decided now, with no job made: a bad body or query (400),
 * an unknown object (404), a URL that is not http(s) (400) or points at
 * an address the allow list does not open (403) -- fetch_url_check(), with
 * its message --, a rule of vdisk.h against the current state or a
 * repository presented to no running server (409). Then one job is
 * submitted with the locks its operations need (the repository written
 * exclusive, sources shared) and the answer is the Job. The operations
 * check again when they run (vdisk.h, fetch_url() for every connection).
 * Import jobs carry the import policy of the configuration in their
 * arguments (import_allow, import_max_size, import_timeout, tmp_dir).
 *
 * Oracle VM 3.4 compatibility: POST /Repository/{id}/VirtualDisk takes a
 * VirtualDisk object (name, size in bytes, shareable, description) and
 * ?sparse=; PUT /Repository/{id}/importAssembly?url= and PUT
 * /Vm/createFromAssemblyVm/{id} are Oracle's own calls; the imports of
 * disks, ISOs and templates take ?url= (templates also ?urls=a,b for a
 * split package, or url= repeated).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "db/db.h"
#include "jobs/jobs.h"
#include "jobs/vdisk.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/fetch.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"

LOG_MODULE("api");

#define DESCRIPTION_MAX 4000
/* Parts of a split template package. */
#define MAX_PARTS 32
#define URL_MAX 4096

/* A string member of row @o, or NULL. */
static const char *
rstr(json_object *o, const char *key)
{
    const char *s = NULL;

    if (!o || json_get_string(o, key, &s) != 0)
        return NULL;
    return s;
}

/* The row of object @id of @type; NULL with ERR_NOT_FOUND. */
static json_object *
row_get(const char *type, const char *id)
{
    return db_row_get(api_conf()->db, model_type_find(type), id);
}

/* The object addressed by path segment @seg (copied into @id). */
static json_object *
target(struct api_req *req, size_t seg, const char *type, char *id,
       size_t size)
{
    if (api_segment(req, seg, id, size) < 0)
        return NULL;
    return row_get(type, id);
}

/* Query parameter @key as a boolean (@dflt when absent). */
static int
query_bool(struct api_req *req, const char *key, bool dflt, bool *out)
{
    const char *v = api_query(req, key);

    *out = dflt;
    if (!v)
        return 0;
    return str_to_bool(v, key, out);
}

/* The import policy of the configuration. */
static void
policy(struct fetch_policy *p)
{
    memset(p, 0, sizeof(*p));
    p->allow = api_conf()->import_allow;
    p->max_bytes = (uint64_t)api_conf()->import_max_bytes;
    p->timeout_ms = api_conf()->import_timeout_ms;
}

/* Add the import policy to job arguments @args. */
static void
policy_args(json_object *args)
{
    const struct api_conf *c = api_conf();

    json_object_object_add(args, "allow", json_object_new_string(
                                              c->import_allow
                                                  ? c->import_allow : ""));
    json_object_object_add(args, "maxBytes",
                           json_object_new_int64(c->import_max_bytes));
    json_object_object_add(args, "timeoutMs",
                           json_object_new_int64(c->import_timeout_ms));
    json_object_object_add(args, "tmpDir", json_object_new_string(
                                               c->tmp_dir ? c->tmp_dir : ""));
}

/* Check an import URL now: 400 / 403 with fetch's message. */
static int
url_ok(const char *url)
{
    struct fetch_policy p;

    if (!url || !*url) {
        err_set(ERR_INVALID, "the import needs a 'url' query parameter");
        return -1;
    }
    if (strlen(url) > URL_MAX) {
        err_set(ERR_INVALID, "the URL is longer than %d characters", URL_MAX);
        return -1;
    }
    policy(&p);
    return fetch_url_check(url, &p);
}

/* A name for an object: not empty, no control characters. */
static int
name_ok(const char *type, const char *name)
{
    return model_name_check(model_type_find(type), name);
}

struct lock {
    const char *id, *type, *name;
    bool exclusive;
};

/*
 * Submit job @job_name of @nops operations (@ops, @args) holding @locks,
 * and answer with the Job. @result_*: the object the job changes, known
 * up front (NULL: none yet).
 */
static int
submit(struct api_req *req, struct api_resp *resp, const char *job_name,
       const char *description, const struct lock *locks, size_t nlocks,
       const char *const *ops, json_object *const *args, size_t nops,
       const char *result_type, const char *result_id,
       const char *result_name)
{
    struct job_object_req objs[8];
    struct job_op_req jops[4];
    struct job_req jr = { 0 };
    int64_t job_id = 0;
    size_t i;

    if (NEVER(nlocks > 8 || nops > 4))
        return -1;
    memset(objs, 0, sizeof(objs));
    memset(jops, 0, sizeof(jops));
    for (i = 0; i < nlocks; i++) {
        objs[i].id = locks[i].id;
        objs[i].type = locks[i].type;
        objs[i].name = locks[i].name ? locks[i].name : "";
        objs[i].exclusive = locks[i].exclusive;
    }
    for (i = 0; i < nops; i++) {
        jops[i].op = ops[i];
        jops[i].description = i == 0 ? job_name : "delete the files";
        jops[i].args = args[i];
    }
    jr.name = job_name;
    jr.description = description;
    jr.user = req->ident.name;
    jr.objects = objs;
    jr.nobjects = nlocks;
    jr.ops = jops;
    jr.nops = nops;
    jr.result_type = result_type;
    jr.result_id = result_id;
    jr.result_name = result_name;
    if (jobs_submit(&jr, &job_id) < 0)
        return -1;
    log_info("request %" PRIu64 ": '%s' by '%s' is job %" PRId64, req->id,
             job_name, req->ident.name, job_id);
    return api_reply_job(req, resp, job_id);
}

/* Submit a one-operation job. */
static int
submit1(struct api_req *req, struct api_resp *resp, const char *job_name,
        const struct lock *locks, size_t nlocks, const char *op,
        json_object *args, const char *result_type, const char *result_id,
        const char *result_name)
{
    return submit(req, resp, job_name, NULL, locks, nlocks, &op, &args, 1,
                  result_type, result_id, result_name);
}

/*
 * The id a body names ({"value"} SimpleId or a string) must be @id when
 * present. 0 or -1 (ERR_INVALID).
 */
static int
body_id_ok(json_object *b, const char *id)
{
    json_object *v = NULL;
    const char *s = NULL;

    if (!json_object_object_get_ex(b, "id", &v) || !v)
        return 0;
    if (json_object_is_type(v, json_type_string))
        s = json_object_get_string(v);
    else if (json_object_is_type(v, json_type_object) &&
             json_get_string(v, "value", &s) < 0)
        return -1;
    if (s && strcmp(s, id) != 0) {
        err_set(ERR_INVALID, "the body's id '%s' is not the object in the "
                             "path '%s'", s, id);
        return -1;
    }
    return 0;
}

/* description and userData members of body @b into @args, checked. */
static int
common_members(json_object *b, json_object *args)
{
    const char *desc = NULL;
    json_object *ud = NULL;

    if (json_get_string(b, "description", &desc) < 0)
        return -1;
    if (desc && strlen(desc) > DESCRIPTION_MAX) {
        err_set(ERR_INVALID, "'description' is longer than %d characters",
                DESCRIPTION_MAX);
        return -1;
    }
    if (desc)
        json_object_object_add(args, "description",
                               json_object_new_string(desc));
    if (json_object_object_get_ex(b, "userData", &ud) && ud) {
        if (model_user_data_check(ud) < 0)
            return -1;
        json_object_object_add(args, "userData", json_object_get(ud));
    }
    return 0;
}

/* ---- POST /Repository/{id}/VirtualDisk ---- */

int
api_vdisk_create(struct api_req *req, struct api_resp *resp)
{
    AUTOPTR(json_object) json_object *repo = NULL;
    AUTOPTR(json_object) json_object *b = NULL;
    AUTOPTR(json_object) json_object *args = NULL;
    const char *name = NULL, *type = NULL;
    char *AUTOFREE id = NULL;
    char rid[256], job_name[1100];
    bool sparse = true, shareable = false;
    int64_t size = 0;
    struct lock lk;

    repo = target(req, 1, "Repository", rid, sizeof(rid));
    if (!repo || !(b = api_body_object(req)))
        return -1;
    if (query_bool(req, "sparse", true, &sparse) < 0 ||
        json_get_string(b, "name", &name) < 0 ||
        json_get_string(b, "diskType", &type) < 0 ||
        json_get_bool(b, "shareable", &shareable) < 0 ||
        json_get_int64(b, "size", &size) < 0)
        return -1;
    if (type && strcmp(type, "VIRTUAL_DISK") != 0) {
        if (strcmp(type, "VIRTUAL_CDROM") == 0)
            err_set(ERR_INVALID, "an empty CD-ROM cannot be created: import "
                                 "an ISO (PUT /Repository/{id}/importIso)");
        else
            err_set(ERR_INVALID, "'diskType' '%s' is not VIRTUAL_DISK", type);
        return -1;
    }
    if (!name) {
        err_set(ERR_INVALID, "a new virtual disk needs a 'name'");
        return -1;
    }
    if (name_ok("VirtualDisk", name) < 0)
        return -1;
    if (size <= 0) {
        err_set(ERR_INVALID, "a new virtual disk needs a 'size' in bytes, "
                             "greater than 0");
        return -1;
    }
    args = json_object_new_object();
    if (common_members(b, args) < 0 ||
        vdisk_repo_reachable(api_conf()->db, rid, NULL, NULL) < 0)
        return -1;
    id = vdisk_id_new(false);
    json_object_object_add(args, "id", json_object_new_string(id));
    json_object_object_add(args, "repository", json_object_new_string(rid));
    json_object_object_add(args, "name", json_object_new_string(name));
    json_object_object_add(args, "size", json_object_new_int64(size));
    json_object_object_add(args, "sparse", json_object_new_boolean(sparse));
    json_object_object_add(args, "shareable",
                           json_object_new_boolean(shareable));
    snprintf(job_name, sizeof(job_name), "Create Virtual Disk: %s", name);
    lk = (struct lock){ rid, "Repository", rstr(repo, "name"), true };
    return submit1(req, resp, job_name, &lk, 1, "vdisk.create", args, NULL,
                   NULL, NULL);
}

/* ---- PUT /VirtualDisk/{id} ---- */

int
api_vdisk_update(struct api_req *req, struct api_resp *resp)
{
    AUTOPTR(json_object) json_object *d = NULL;
    AUTOPTR(json_object) json_object *b = NULL;
    AUTOPTR(json_object) json_object *args = NULL;
    const char *name = NULL, *repo;
    char id[256], job_name[1100];
    int64_t gen = -1, size = -1;
    bool shareable;
    json_object *v;
    struct lock lk[2];
    int rc;

    d = target(req, 1, "VirtualDisk", id, sizeof(id));
    if (!d || !(b = api_body_object(req)) || body_id_ok(b, id) < 0)
        return -1;
    repo = rstr(d, "repository_id");
    args = json_object_new_object();
    if (json_get_string(b, "name", &name) < 0 ||
        json_get_int64(b, "generation", &gen) < 0 ||
        json_get_int64(b, "size", &size) < 0 || common_members(b, args) < 0)
        return -1;
    if (name && strcmp(name, rstr(d, "name")) != 0) {
        if (name_ok("VirtualDisk", name) < 0)
            return -1;
        json_object_object_add(args, "name", json_object_new_string(name));
    }
    if (gen >= 0 && json_object_object_get_ex(d, "generation", &v) &&
        gen != json_object_get_int64(v)) {
        err_set(ERR_CONFLICT, "VirtualDisk '%s' was changed since it was "
                              "read: the request is from generation %" PRId64
                              ", the object is at generation %" PRId64
                              "; read it again and retry", rstr(d, "name"),
                gen, json_object_get_int64(v));
        return -1;
    }
    if (gen >= 0)
        json_object_object_add(args, "generation",
                               json_object_new_int64(gen));
    rc = json_get_bool(b, "shareable", &shareable);
    if (rc < 0)
        return -1;
    if (rc == 0)
        json_object_object_add(args, "shareable",
                               json_object_new_boolean(shareable));
    if (json_object_object_get_ex(b, "size", &v) && v) {
        if (vdisk_check_resize(d, size) < 0)
            return -1;
        if (json_object_object_get_ex(d, "size", &v) &&
            size != json_object_get_int64(v)) {
            if (vdisk_repo_reachable(api_conf()->db, repo, NULL, NULL) < 0)
                return -1;
            json_object_object_add(args, "size", json_object_new_int64(size));
        }
    }
    json_object_object_add(args, "id", json_object_new_string(id));
    snprintf(job_name, sizeof(job_name), "Edit Virtual Disk: %s",
             rstr(d, "name"));
    lk[0] = (struct lock){ id, "VirtualDisk", rstr(d, "name"), true };
    lk[1] = (struct lock){ repo, "Repository", NULL, false };
    return submit1(req, resp, job_name, lk, 2, "vdisk.update", args,
                   "VirtualDisk", id, name ? name : rstr(d, "name"));
}

/* ---- PUT /VirtualDisk/{id}/clone ---- */

int
api_vdisk_clone(struct api_req *req, struct api_resp *resp)
{
    AUTOPTR(json_object) json_object *d = NULL;
    AUTOPTR(json_object) json_object *tr = NULL;
    AUTOPTR(json_object) json_object *args = NULL;
    const char *repo, *trepo, *ct, *name;
    char *AUTOFREE id = NULL, *AUTOFREE dflt = NULL;
    char sid[256], job_name[1200];
    struct lock lk[2];

    d = target(req, 1, "VirtualDisk", sid, sizeof(sid));
    if (!d)
        return -1;
    repo = rstr(d, "repository_id");
    trepo = api_query(req, "targetRepositoryId");
    if (!trepo || !*trepo)
        trepo = repo;
    ct = api_query(req, "cloneType");
    if (!ct || !*ct)
        ct = VDISK_SPARSE_COPY;
    name = api_query(req, "name");
    if (!name || !*name) {
        dflt = xasprintf("%s (clone)", rstr(d, "name"));
        name = dflt;
    }
    if (name_ok("VirtualDisk", name) < 0)
        return -1;
    tr = row_get("Repository", trepo);
    if (!tr || vdisk_check_clone(api_conf()->db, NULL, d, trepo, ct) < 0 ||
        vdisk_repo_reachable(api_conf()->db, repo, trepo, NULL) < 0)
        return -1;
    id = vdisk_id_new(str_eq(rstr(d, "disk_type"), "VIRTUAL_CDROM"));
    args = json_object_new_object();
    json_object_object_add(args, "source", json_object_new_string(sid));
    json_object_object_add(args, "id", json_object_new_string(id));
    json_object_object_add(args, "repository", json_object_new_string(trepo));
    json_object_object_add(args, "name", json_object_new_string(name));
    json_object_object_add(args, "cloneType", json_object_new_string(ct));
    snprintf(job_name, sizeof(job_name), "Clone Virtual Disk: %s to %s",
             rstr(d, "name"), name);
    lk[0] = (struct lock){ sid, "VirtualDisk", rstr(d, "name"), false };
    lk[1] = (struct lock){ trepo, "Repository", rstr(tr, "name"), true };
    return submit1(req, resp, job_name, lk, 2, "vdisk.clone", args, NULL,
                   NULL, NULL);
}

/* ---- DELETE /VirtualDisk/{id}, /Repository/{rid}/VirtualDisk/{id} ---- */

/* {"dir", "name"} for the file list of vdisk.delete_files. */
static void
file_entry(json_object *files, const char *dir, const char *name)
{
    json_object *f = json_object_new_object();

    json_object_object_add(f, "dir", json_object_new_string(dir));
    json_object_object_add(f, "name", json_object_new_string(name));
    json_object_array_add(files, f);
}

/* The delete_files arguments for repository @repo. */
static json_object *
files_args(const char *repo, json_object **files)
{
    json_object *a = json_object_new_object();

    *files = json_object_new_array();
    json_object_object_add(a, "repository", json_object_new_string(repo));
    json_object_object_add(a, "files", *files);
    return a;
}

int
api_vdisk_delete(struct api_req *req, struct api_resp *resp)
{
    AUTOPTR(json_object) json_object *d = NULL;
    AUTOPTR(json_object) json_object *a1 = NULL;
    AUTOPTR(json_object) json_object *a2 = NULL;
    static const char *const ops[] = { "vdisk.delete", "vdisk.delete_files" };
    json_object *args[2], *files;
    const char *repo;
    char id[256], rid[256], job_name[1100];
    bool via_repo = req->nparams >= 2;
    struct lock lk[2];

    d = target(req, via_repo ? 3 : 1, "VirtualDisk", id, sizeof(id));
    if (!d)
        return -1;
    repo = rstr(d, "repository_id");
    if (via_repo) {
        if (api_segment(req, 1, rid, sizeof(rid)) < 0)
            return -1;
        if (!str_eq(rid, repo)) {
            err_set(ERR_NOT_FOUND, "VirtualDisk '%s' not found in repository "
                                   "'%s'", id, rid);
            return -1;
        }
    }
    if (vdisk_check_delete(api_conf()->db, NULL, d) < 0 ||
        vdisk_repo_reachable(api_conf()->db, repo, NULL, NULL) < 0)
        return -1;
    a1 = json_object_new_object();
    json_object_object_add(a1, "id", json_object_new_string(id));
    a2 = files_args(repo, &files);
    file_entry(files, str_eq(rstr(d, "disk_type"), "VIRTUAL_CDROM")
                          ? "ISOs" : "VirtualDisks", id);
    args[0] = a1;
    args[1] = a2;
    snprintf(job_name, sizeof(job_name), "Delete %s: %s",
             str_eq(rstr(d, "disk_type"), "VIRTUAL_CDROM") ? "ISO"
                                                           : "Virtual Disk",
             rstr(d, "name"));
    lk[0] = (struct lock){ id, "VirtualDisk", rstr(d, "name"), true };
    lk[1] = (struct lock){ repo, "Repository", NULL, false };
    return submit(req, resp, job_name, NULL, lk, 2, ops, args, 2,
                  "VirtualDisk", id, rstr(d, "name"));
}

/* ---- imports ---- */

/* The repository of an import, presented to a running server. */
static json_object *
import_repo(struct api_req *req, char *rid, size_t size)
{
    json_object *r = target(req, 1, "Repository", rid, size);

    if (r && vdisk_repo_reachable(api_conf()->db, rid, NULL, NULL) < 0) {
        json_object_put(r);
        return NULL;
    }
    return r;
}

/* A disk or ISO import (@iso) of ?url=. */
static int
import_disk(struct api_req *req, struct api_resp *resp, bool iso)
{
    AUTOPTR(json_object) json_object *args = NULL;
    AUTOPTR(json_object) json_object *repo = NULL;
    const char *url = api_query(req, "url"), *name = api_query(req, "name");
    char *AUTOFREE id = NULL;
    char rid[256], base[256], job_name[URL_MAX + 64];
    struct lock lk;

    if (url_ok(url) < 0)
        return -1;
    if (!name || !*name) {
        fetch_url_basename(url, base, sizeof(base));
        name = *base ? base : iso ? "imported ISO" : "imported disk";
    }
    if (name_ok("VirtualDisk", name) < 0)
        return -1;
    repo = import_repo(req, rid, sizeof(rid));
    if (!repo)
        return -1;
    id = vdisk_id_new(iso);
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    json_object_object_add(args, "repository", json_object_new_string(rid));
    json_object_object_add(args, "name", json_object_new_string(name));
    json_object_object_add(args, "url", json_object_new_string(url));
    json_object_object_add(args, "dir", json_object_new_string(
                                            iso ? "ISOs" : "VirtualDisks"));
    policy_args(args);
    snprintf(job_name, sizeof(job_name), "Import %s: %s",
             iso ? "ISO" : "Virtual Disk", url);
    lk = (struct lock){ rid, "Repository", rstr(repo, "name"), true };
    return submit1(req, resp, job_name, &lk, 1, "import.disk", args, NULL,
                   NULL, NULL);
}

int
api_repo_import_vdisk(struct api_req *req, struct api_resp *resp)
{
    const char *type = api_query(req, "diskType");

    if (type && strcmp(type, "VIRTUAL_CDROM") != 0 &&
        strcmp(type, "VIRTUAL_DISK") != 0) {
        err_set(ERR_INVALID, "'diskType' '%s' is not VIRTUAL_DISK or "
                             "VIRTUAL_CDROM", type);
        return -1;
    }
    return import_disk(req, resp, type && strcmp(type, "VIRTUAL_CDROM") == 0);
}

int
api_repo_import_iso(struct api_req *req, struct api_resp *resp)
{
    return import_disk(req, resp, true);
}

/* Append the comma-separated URLs of @list to @urls. */
static int
add_urls(json_object *urls, const char *list)
{
    const char *p = list, *c;

    while (p && *p) {
        c = strchr(p, ',');
        if (c != p) {
            char *u = xstrndup(p, c ? (size_t)(c - p) : strlen(p));

            json_object_array_add(urls, json_object_new_string(u));
            xfree(u);
        }
        p = c ? c + 1 : NULL;
    }
    return 0;
}

int
api_repo_import_template(struct api_req *req, struct api_resp *resp)
{
    AUTOPTR(json_object) json_object *args = NULL;
    AUTOPTR(json_object) json_object *repo = NULL;
    json_object *urls = json_object_new_array();
    const char *name = api_query(req, "name");
    char *AUTOFREE vm = NULL;
    char rid[256], job_name[URL_MAX + 64];
    struct lock lk;
    size_t i, n;

    args = json_object_new_object();
    json_object_object_add(args, "urls", urls);
    for (i = 0; i < req->nquery; i++) {
        if (strcmp(req->query[i].key, "url") == 0 ||
            strcmp(req->query[i].key, "urls") == 0)
            add_urls(urls, req->query[i].value);
    }
    n = json_object_array_length(urls);
    if (n == 0) {
        err_set(ERR_INVALID, "the import needs the package's URL: ?url= (or "
                             "?urls=a,b for the parts of a split package)");
        return -1;
    }
    if (n > MAX_PARTS) {
        err_set(ERR_INVALID, "a template package has at most %d parts",
                MAX_PARTS);
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (url_ok(json_object_get_string(json_object_array_get_idx(urls,
                                                                    i))) < 0)
            return -1;
    }
    if (name && model_name_check(model_type_find("Vm"), name) < 0)
        return -1;
    repo = import_repo(req, rid, sizeof(rid));
    if (!repo)
        return -1;
    vm = model_id_new(model_type_find("Vm"));
    json_object_object_add(args, "vm", json_object_new_string(vm));
    json_object_object_add(args, "repository", json_object_new_string(rid));
    if (name)
        json_object_object_add(args, "name", json_object_new_string(name));
    policy_args(args);
    snprintf(job_name, sizeof(job_name), "Import Template: %s%s",
             json_object_get_string(json_object_array_get_idx(urls, 0)),
             n > 1 ? " (split)" : "");
    lk = (struct lock){ rid, "Repository", rstr(repo, "name"), true };
    return submit1(req, resp, job_name, &lk, 1, "import.template", args,
                   NULL, NULL, NULL);
}

int
api_repo_import_assembly(struct api_req *req, struct api_resp *resp)
{
    AUTOPTR(json_object) json_object *args = NULL;
    AUTOPTR(json_object) json_object *repo = NULL;
    const char *url = api_query(req, "url"), *name = api_query(req, "name");
    char *AUTOFREE id = NULL;
    char rid[256], base[256], job_name[URL_MAX + 64];
    struct lock lk;

    if (url_ok(url) < 0)
        return -1;
    if (!name || !*name) {
        char *dot;

        fetch_url_basename(url, base, sizeof(base));
        dot = strrchr(base, '.');
        if (dot && dot != base)
            *dot = '\0';
        name = *base ? base : "assembly";
    }
    if (name_ok("Assembly", name) < 0)
        return -1;
    repo = import_repo(req, rid, sizeof(rid));
    if (!repo)
        return -1;
    id = model_id_new(model_type_find("Assembly"));
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    json_object_object_add(args, "repository", json_object_new_string(rid));
    json_object_object_add(args, "name", json_object_new_string(name));
    json_object_object_add(args, "url", json_object_new_string(url));
    policy_args(args);
    snprintf(job_name, sizeof(job_name), "Import Assembly: %s", url);
    lk = (struct lock){ rid, "Repository", rstr(repo, "name"), true };
    return submit1(req, resp, job_name, &lk, 1, "import.assembly", args,
                   NULL, NULL, NULL);
}

/* ---- PUT /AssemblyVm/{id}/createVm, PUT /Vm/createFromAssemblyVm/{id} */

int
api_assembly_vm_create_vm(struct api_req *req, struct api_resp *resp)
{
    AUTOPTR(json_object) json_object *avm = NULL;
    AUTOPTR(json_object) json_object *as = NULL;
    AUTOPTR(json_object) json_object *args = NULL;
    const char *repo;
    char *AUTOFREE vm = NULL;
    char id[256], job_name[600];
    struct lock lk[3];

    /* /AssemblyVm/{id}/createVm or /Vm/createFromAssemblyVm/{id} */
    if (api_segment(req, 0, id, sizeof(id)) < 0)
        return -1;
    avm = target(req, strcmp(id, "Vm") == 0 ? 2 : 1, "AssemblyVm", id,
                 sizeof(id));
    if (!avm)
        return -1;
    as = row_get("Assembly", rstr(avm, "assembly_id"));
    if (!as)
        return -1;
    repo = rstr(as, "repository_id");
    if (vdisk_repo_reachable(api_conf()->db, repo, NULL, NULL) < 0)
        return -1;
    vm = model_id_new(model_type_find("Vm"));
    args = json_object_new_object();
    json_object_object_add(args, "assemblyVm", json_object_new_string(id));
    json_object_object_add(args, "vm", json_object_new_string(vm));
    json_object_object_add(args, "repository", json_object_new_string(repo));
    snprintf(job_name, sizeof(job_name), "Create Template from Assembly "
             "VM: %s", rstr(avm, "name"));
    lk[0] = (struct lock){ id, "AssemblyVm", rstr(avm, "name"), false };
    lk[1] = (struct lock){ rstr(as, "id"), "Assembly", rstr(as, "name"),
                           false };
    lk[2] = (struct lock){ repo, "Repository", NULL, true };
    return submit1(req, resp, job_name, lk, 3, "assembly.create_vm", args,
                   NULL, NULL, NULL);
}

/* ---- DELETE /Vm/{id} (templates) ---- */

int
api_vm_delete(struct api_req *req, struct api_resp *resp)
{
    AUTOPTR(json_object) json_object *vm = NULL;
    AUTOPTR(json_object) json_object *disks = NULL;
    AUTOPTR(json_object) json_object *notes = NULL;
    AUTOPTR(json_object) json_object *a1 = NULL;
    AUTOPTR(json_object) json_object *a2 = NULL;
    static const char *const ops[] = { "template.delete_rows",
                                       "vdisk.delete_files" };
    json_object *args[2], *files;
    const char *repo, *cfg;
    char id[256], job_name[600];
    char *AUTOFREE desc = NULL;
    struct lock lk[8];
    size_t i, nl = 0, nd;
    bool with_disks = false;

    vm = target(req, 1, "Vm", id, sizeof(id));
    if (!vm || query_bool(req, "deleteDisks", false, &with_disks) < 0 ||
        vdisk_template_plan(api_conf()->db, NULL, vm, with_disks, &disks,
                            &notes) < 0)
        return -1;
    repo = rstr(vm, "repository_id");
    cfg = rstr(vm, "config_file");
    nd = json_object_array_length(disks);
    if (nd > 6) {
        /* Locks are declared per object; a template with more disks keeps
         * them locked through the repository instead. */
        nd = 0;
    }
    if (repo && vdisk_repo_reachable(api_conf()->db, repo, NULL, NULL) < 0)
        return -1;
    a1 = json_object_new_object();
    json_object_object_add(a1, "vm", json_object_new_string(id));
    json_object_object_add(a1, "deleteDisks",
                           json_object_new_boolean(with_disks));
    json_object_object_add(a1, "disks", json_object_get(disks));
    a2 = files_args(repo ? repo : "", &files);
    if (cfg)
        file_entry(files, "Templates", cfg);
    for (i = 0; i < json_object_array_length(disks); i++)
        file_entry(files, "VirtualDisks", json_object_get_string(
                                              json_object_array_get_idx(disks,
                                                                        i)));
    args[0] = a1;
    args[1] = a2;
    for (i = 0; i < json_object_array_length(notes); i++) {
        char *s = xasprintf("%s%s%s", desc ? desc : "", desc ? "; " : "",
                            json_object_get_string(
                                json_object_array_get_idx(notes, i)));

        xfree(desc);
        desc = s;
    }
    snprintf(job_name, sizeof(job_name), "Delete Template: %s",
             rstr(vm, "name"));
    lk[nl++] = (struct lock){ id, "Vm", rstr(vm, "name"), true };
    for (i = 0; i < nd; i++)
        lk[nl++] = (struct lock){ json_object_get_string(
                                      json_object_array_get_idx(disks, i)),
                                  "VirtualDisk", NULL, true };
    if (repo)
        lk[nl++] = (struct lock){ repo, "Repository", NULL,
                                  json_object_array_length(disks) > 6 };
    return submit(req, resp, job_name, desc, lk, nl, ops, args,
                  repo ? 2 : 1, "Vm", id, rstr(vm, "name"));
}

/* ---- DELETE /Assembly/{id}, /Repository/{rid}/Assembly/{id} ---- */

int
api_assembly_delete(struct api_req *req, struct api_resp *resp)
{
    AUTOPTR(json_object) json_object *as = NULL;
    AUTOPTR(json_object) json_object *a1 = NULL;
    AUTOPTR(json_object) json_object *a2 = NULL;
    static const char *const ops[] = { "assembly.delete_rows",
                                       "vdisk.delete_files" };
    const struct model_type *dt = model_type_find("AssemblyVirtualDisk");
    json_object *args[2], *files;
    const char *repo;
    char id[256], rid[256], job_name[600];
    bool via_repo = req->nparams >= 2;
    char **ids = NULL;
    size_t n = 0, i;
    struct lock lk[2];

    as = target(req, via_repo ? 3 : 1, "Assembly", id, sizeof(id));
    if (!as)
        return -1;
    repo = rstr(as, "repository_id");
    if (via_repo) {
        if (api_segment(req, 1, rid, sizeof(rid)) < 0)
            return -1;
        if (!str_eq(rid, repo)) {
            err_set(ERR_NOT_FOUND, "Assembly '%s' not found in repository "
                                   "'%s'", id, rid);
            return -1;
        }
    }
    if (vdisk_repo_reachable(api_conf()->db, repo, NULL, NULL) < 0)
        return -1;
    a1 = json_object_new_object();
    json_object_object_add(a1, "id", json_object_new_string(id));
    a2 = files_args(repo, &files);
    if (rstr(as, "file_name"))
        file_entry(files, "Assemblies", rstr(as, "file_name"));
    if (db_row_ids(api_conf()->db, dt, "assembly_id", id, &ids, &n) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        json_object *d = db_row_get(api_conf()->db, dt, ids[i]);

        if (!d)
            err_clear();
        else if (rstr(d, "file_name"))
            file_entry(files, "Assemblies", rstr(d, "file_name"));
        json_object_put(d);
    }
    db_ids_free(ids, n);
    args[0] = a1;
    args[1] = a2;
    snprintf(job_name, sizeof(job_name), "Delete Assembly: %s",
             rstr(as, "name"));
    lk[0] = (struct lock){ id, "Assembly", rstr(as, "name"), true };
    lk[1] = (struct lock){ repo, "Repository", NULL, false };
    return submit(req, resp, job_name, NULL, lk, 2, ops, args, 2,
                  "Assembly", id, rstr(as, "name"));
}
