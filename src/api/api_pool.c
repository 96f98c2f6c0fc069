/*
 * api_pool.c - server pool routes: create, edit, add and remove a server,
 * delete (reads are the generic ones of api_object.c, including the child
 * collections /ServerPool/{id}/Server and /ServerPool/{id}/
 * ServerPoolPolicy).
 *
 * DESIGN: the mutating-handler skeleton of DESIGN section 3. Everything
 * that can be decided now is decided now, with no job made: a body that
 * is not what the route takes or a bad value (400), an unknown pool or
 * server (404), a taken name or virtual IP, a stale generation, or a rule
 * of the seeds' server pool chapter against the current state (409, the
 * rule functions db_pool_check_*() shared with the operations). Then one
 * job with one operation (src/jobs/op_pool.c) is submitted, holding the
 * pool -- and for addServer/removeServer the server -- exclusively, and
 * the answer is the Job (api_reply_job()). The operation looks again when
 * it runs, so a change made meanwhile (another job added the server to
 * another pool, the pool was renamed) makes the job fail with the same
 * message and change nothing.
 *
 * Oracle VM 3.4 compatibility: POST /ServerPool and PUT /ServerPool/{id}
 * take a ServerPool object and ignore the members they do not handle
 * (read-only ones such as serverIds, or ones of later issues); addServer
 * and removeServer take the server's SimpleId as Oracle's own examples
 * send it, or {"value": id}, or the id as a JSON string. Clustering is an
 * extension member `clustered` here (Oracle VM 3.4 derives it from the
 * pool file system, which a later issue brings): clusterId must be null.
 * The virtual IP is optional as in 3.4, and, following the seeds ("You
 * cannot change the virtual IP address"), it can be changed only while
 * the pool has no server on which it could be configured.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "db/db.h"
#include "jobs/jobs.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"

LOG_MODULE("api");

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define DESCRIPTION_MAX 4000

/* The console keymaps of Oracle VM 3.4 (create ServerPool keymapName). */
static const char *const keymaps[] = {
    "en-us", "ar", "da", "de", "de-ch", "en-gb", "es", "et", "fi", "fo",
    "fr", "fr-be", "fr-ca", "fr-ch", "hr", "hu", "is", "it", "ja", "lt",
    "lv", "mk", "nl", "nl-be", "no", "pl", "pt", "pt-br", "ru", "sl", "sv",
    "th", "tr",
};

static const char *const start_policies[] = {
    "BEST_SERVER", "BALANCE_SERVER", "CURRENT_SERVER",
};

static const struct model_type *
pool_type(void)
{
    return model_type_find("ServerPool");
}

/* 0 when @v is one of the @n strings of @set, else -1 (ERR_INVALID). */
static int
one_of(const char *key, const char *v, const char *const *set, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(set[i], v) == 0)
            return 0;
    }
    err_set(ERR_INVALID, "'%s' '%s' is not one of the accepted values "
                         "(%s, %s, ...; see /openapi.json)", key, v, set[0],
            set[1]);
    return -1;
}

/* The body's member @key as a string: 0 with *out (NULL when absent or
 * null), -1 (ERR_INVALID) when it has another type. */
static int
body_str(json_object *b, const char *key, const char **out)
{
    *out = NULL;
    return json_get_string(b, key, out) < 0 ? -1 : 0;
}

/*
 * @text as the canonical form of an IPv4 or IPv6 address in @out (@size
 * bytes, at least INET6_ADDRSTRLEN), so one address has one spelling and
 * uniqueness means something. 0 or -1 (ERR_INVALID).
 */
static int
ip_canonical(const char *text, char *out, size_t size)
{
    unsigned char addr[sizeof(struct in6_addr)];

    if (inet_pton(AF_INET, text, addr) == 1 &&
        inet_ntop(AF_INET, addr, out, (socklen_t)size))
        return 0;
    if (inet_pton(AF_INET6, text, addr) == 1 &&
        inet_ntop(AF_INET6, addr, out, (socklen_t)size))
        return 0;
    err_set(ERR_INVALID, "'virtualIp' '%s' is not an IPv4 or IPv6 address",
            text);
    return -1;
}

/* The server a PUT addServer/removeServer body names, into @out. */
static int
body_server(const struct api_req *req, char *out, size_t size)
{
    AUTOPTR(json_object) json_object *b = NULL;

    if (!req->body || !req->body_len) {
        err_set(ERR_INVALID, "the body must name the server: its SimpleId, "
                             "{\"value\": id} or the id as a JSON string");
        return -1;
    }
    b = json_parse(req->body, req->body_len);
    if (!b)
        return -1;
    return api_ref_value(b, "Server", "the server", out, size) == 0 ? 0 : -1;
}

/* 0 when no pool other than @self_id is named @name, else -1 (409). */
static int
name_free(const char *name, const char *self_id)
{
    char *AUTOFREE other = db_pool_by_name(api_conf()->db, name);

    if (!other) {
        if (err_code() != ERR_NOT_FOUND)
            return -1;
        err_clear();
        return 0;
    }
    if (self_id && strcmp(other, self_id) == 0)
        return 0;
    err_set(ERR_EXISTS, "a server pool named '%s' already exists", name);
    return -1;
}

/* The same for virtual IP address @vip (canonical). */
static int
vip_free(const char *vip, const char *self_id)
{
    char *AUTOFREE other = db_pool_by_vip(api_conf()->db, vip);

    if (!other) {
        if (err_code() != ERR_NOT_FOUND)
            return -1;
        err_clear();
        return 0;
    }
    if (self_id && strcmp(other, self_id) == 0)
        return 0;
    err_set(ERR_EXISTS, "virtual IP address '%s' is already used by another "
                        "server pool", vip);
    return -1;
}

/* The pool addressed by the {id} segment (copied into @id); NULL with
 * ERR_NOT_FOUND. */
static struct db_pool *
target_pool(struct api_req *req, char *id, size_t size)
{
    if (api_segment(req, 1, id, size) < 0)
        return NULL;
    return db_pool_get(api_conf()->db, id);
}

/*
 * Submit a one-operation job @job_name running @op with @args (borrowed)
 * holding @objs exclusively, and answer with the Job. @result_id (may be
 * NULL) is the pool the job changes, its resultId up front.
 */
static int
submit(struct api_req *req, struct api_resp *resp, const char *job_name,
       const struct job_object_req *objs, size_t nobjs, const char *op,
       json_object *args, const char *result_id, const char *result_name)
{
    struct job_op_req jop = { 0 };
    struct job_req jr = { 0 };
    int64_t job_id = 0;

    jop.op = op;
    jop.description = job_name;
    jop.args = args;
    jr.name = job_name;
    jr.user = req->ident.name;
    jr.objects = objs;
    jr.nobjects = nobjs;
    jr.ops = &jop;
    jr.nops = 1;
    if (result_id) {
        jr.result_type = "ServerPool";
        jr.result_id = result_id;
        jr.result_name = result_name;
    }
    if (jobs_submit(&jr, &job_id) < 0)
        return -1;
    log_info("request %" PRIu64 ": '%s' by '%s' is job %" PRId64, req->id,
             job_name, req->ident.name, job_id);
    return api_reply_job(req, resp, job_id);
}

/*
 * The body's poolFileSystemId (extension; Oracle VM 3.4 reaches it
 * through the pool's Cluster) into @out: 1 when absent or null, 0 when a
 * file system is named -- checked for pool @pool_id (NULL: a new pool)
 * with db_pool_check_fs() -- or -1.
 */
static int
body_pool_fs(json_object *b, const char *pool_id, bool clustered, char *out,
             size_t size)
{
    json_object *v = NULL;
    int rc;

    if (!json_object_object_get_ex(b, "poolFileSystemId", &v))
        return 1;
    rc = api_ref_value(v, "FileSystem", "'poolFileSystemId'", out, size);
    if (rc != 0)
        return rc;
    if (!clustered) {
        err_set(ERR_INVALID, "only a clustered server pool has a pool file "
                             "system (its cluster heartbeat); set "
                             "'clustered' or leave 'poolFileSystemId' null");
        return -1;
    }
    if (db_pool_check_fs(api_conf()->db, pool_id, out) < 0)
        return -1;
    return 0;
}

/* ---- POST /ServerPool ---- */

int
api_pool_create(struct api_req *req, struct api_resp *resp)
{
    AUTOPTR(json_object) json_object *b = api_body_object(req);
    AUTOPTR(json_object) json_object *args = NULL;
    const char *name = NULL, *desc = NULL, *vip = NULL;
    const char *keymap = "en-us", *policy = "BEST_SERVER";
    char *AUTOFREE id = NULL;
    char vipc[INET6_ADDRSTRLEN], job_name[300], fsid[256];
    bool secure = false, clustered = false;
    json_object *ud = NULL, *v;
    struct job_object_req obj[2];
    int fsrc;

    if (!b)
        return -1;
    if (body_str(b, "name", &name) < 0 || body_str(b, "description", &desc)
            < 0 || body_str(b, "virtualIp", &vip) < 0 ||
        json_get_string(b, "keymap", &keymap) < 0 ||
        json_get_string(b, "vmStartPolicy", &policy) < 0 ||
        json_get_bool(b, "secureVmMigrate", &secure) < 0 ||
        json_get_bool(b, "clustered", &clustered) < 0)
        return -1;
    if (!name) {
        err_set(ERR_INVALID, "a new server pool needs a 'name'");
        return -1;
    }
    if (model_name_check(pool_type(), name) < 0)
        return -1;
    if (desc && strlen(desc) > DESCRIPTION_MAX) {
        err_set(ERR_INVALID, "'description' is longer than %d characters",
                DESCRIPTION_MAX);
        return -1;
    }
    if (json_object_object_get_ex(b, "userData", &ud) && ud &&
        model_user_data_check(ud) < 0)
        return -1;
    if (json_object_object_get_ex(b, "clusterId", &v) && v) {
        err_set(ERR_INVALID, "'clusterId' must be null: this Manager has no "
                             "Cluster objects; a clustered pool is made with "
                             "the extensions 'clustered' and "
                             "'poolFileSystemId'");
        return -1;
    }
    if (one_of("keymap", keymap, keymaps, NELEMS(keymaps)) < 0 ||
        one_of("vmStartPolicy", policy, start_policies,
               NELEMS(start_policies)) < 0)
        return -1;
    if (vip && !*vip)
        vip = NULL;     /* "" as null: some clients send empty strings */
    if (vip && ip_canonical(vip, vipc, sizeof(vipc)) < 0)
        return -1;
    if (name_free(name, NULL) < 0 || (vip && vip_free(vipc, NULL) < 0))
        return -1;
    fsrc = body_pool_fs(b, NULL, clustered, fsid, sizeof(fsid));
    if (fsrc < 0)
        return -1;

    id = model_id_new(pool_type());
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    json_object_object_add(args, "name", json_object_new_string(name));
    if (desc)
        json_object_object_add(args, "description",
                               json_object_new_string(desc));
    if (ud)
        json_object_object_add(args, "userData", json_object_get(ud));
    if (vip)
        json_object_object_add(args, "virtualIp",
                               json_object_new_string(vipc));
    json_object_object_add(args, "keymap", json_object_new_string(keymap));
    json_object_object_add(args, "vmStartPolicy",
                           json_object_new_string(policy));
    json_object_object_add(args, "secureVmMigrate",
                           json_object_new_boolean(secure));
    json_object_object_add(args, "clustered",
                           json_object_new_boolean(clustered));
    if (fsrc == 0)
        json_object_object_add(args, "poolFileSystemId",
                               json_object_new_string(fsid));
    snprintf(job_name, sizeof(job_name), "Create Server Pool: %s", name);
    memset(obj, 0, sizeof(obj));
    obj[0].id = id;
    obj[0].type = "ServerPool";
    obj[0].name = name;
    obj[0].exclusive = true;
    /* The pool file system, so no repository is made on it meanwhile. */
    obj[1].id = fsid;
    obj[1].type = "FileSystem";
    obj[1].exclusive = true;
    /* No resultId up front: the pool exists only once the job ran. */
    return submit(req, resp, job_name, obj, fsrc == 0 ? 2 : 1, "pool.create",
                  args, NULL, NULL);
}

/* ---- PUT /ServerPool/{id} ---- */

/*
 * The pool members of the edit body @b that differ from @p, added to
 * @args; 0, or -1 with the refusal (400 or 409).
 */
static int
update_pool_members(json_object *b, const struct db_pool *p,
                    json_object *args)
{
    const char *s;
    char vipc[INET6_ADDRSTRLEN], sid[256];
    json_object *v;
    bool flag;
    int rc;

    if (json_object_object_get_ex(b, "virtualIp", &v)) {
        if (body_str(b, "virtualIp", &s) < 0)
            return -1;
        if (s && !*s)
            s = NULL;   /* "" as null, as on create */
        if (s && ip_canonical(s, vipc, sizeof(vipc)) < 0)
            return -1;
        s = s ? vipc : NULL;
        if (s ? !p->virtual_ip || strcmp(s, p->virtual_ip) != 0
              : p->virtual_ip != NULL) {
            if (p->nservers > 0) {
                err_set(ERR_STATE, "cannot change the virtual IP address of "
                                   "server pool '%s' while it has servers",
                        p->name);
                return -1;
            }
            if (s && vip_free(s, p->id) < 0)
                return -1;
            json_object_object_add(args, "virtualIp", json_str_or_null(s));
        }
    }
    s = NULL;
    if (json_get_string(b, "keymap", &s) < 0 ||
        (s && one_of("keymap", s, keymaps, NELEMS(keymaps)) < 0))
        return -1;
    if (s && strcmp(s, p->keymap) != 0)
        json_object_object_add(args, "keymap", json_object_new_string(s));
    s = NULL;
    if (json_get_string(b, "vmStartPolicy", &s) < 0 ||
        (s && one_of("vmStartPolicy", s, start_policies,
                     NELEMS(start_policies)) < 0))
        return -1;
    if (s && strcmp(s, p->vm_start_policy) != 0)
        json_object_object_add(args, "vmStartPolicy",
                               json_object_new_string(s));
    rc = json_get_bool(b, "secureVmMigrate", &flag);
    if (rc < 0)
        return -1;
    if (rc == 0 && flag != p->secure_vm_migrate)
        json_object_object_add(args, "secureVmMigrate",
                               json_object_new_boolean(flag));
    rc = json_get_bool(b, "clustered", &flag);
    if (rc < 0)
        return -1;
    if (rc == 0 && flag != p->clustered) {
        err_set(ERR_STATE, "cannot change whether server pool '%s' is "
                           "clustered: a pool is converted neither way",
                p->name);
        return -1;
    }
    if (json_object_object_get_ex(b, "poolFileSystemId", &v)) {
        char fsid[256];

        rc = body_pool_fs(b, p->id, p->clustered, fsid, sizeof(fsid));
        if (rc < 0)
            return -1;
        if ((rc == 1 && p->pool_fs_id) ||
            (rc == 0 && (!p->pool_fs_id || strcmp(fsid, p->pool_fs_id)))) {
            if (p->nservers > 0) {
                err_set(ERR_STATE, "cannot change the pool file system of "
                                   "server pool '%s' while it has servers",
                        p->name);
                return -1;
            }
            json_object_object_add(args, "poolFileSystemId",
                                   rc == 0 ? json_object_new_string(fsid)
                                           : NULL);
        }
    }
    if (!json_object_object_get_ex(b, "masterServerId", &v))
        return 0;
    rc = api_ref_value(v, "Server", "'masterServerId'", sid, sizeof(sid));
    if (rc < 0)
        return -1;
    if (rc == 1) {
        if (p->master_server_id && p->nservers > 0) {
            err_set(ERR_STATE, "server pool '%s' has servers, so it must "
                               "have a master", p->name);
            return -1;
        }
        return 0;
    }
    if (p->master_server_id && strcmp(sid, p->master_server_id) == 0)
        return 0;
    {
        AUTOPTR(db_pool_member) struct db_pool_member *m =
            db_pool_member_get(api_conf()->db, sid);

        if (!m)
            return -1;
        if (!m->pool_id || strcmp(m->pool_id, p->id) != 0) {
            err_set(ERR_STATE, "cannot make server '%s' the master of server "
                               "pool '%s': it is not in that pool", m->name,
                    p->name);
            return -1;
        }
    }
    json_object_object_add(args, "masterServerId",
                           json_object_new_string(sid));
    return 0;
}

int
api_pool_update(struct api_req *req, struct api_resp *resp)
{
    AUTOPTR(db_pool) struct db_pool *p = NULL;
    AUTOPTR(json_object) json_object *b = NULL;
    AUTOPTR(json_object) json_object *args = NULL;
    const char *name = NULL, *desc = NULL;
    json_object *v, *ud = NULL;
    char id[256], sid[256], job_name[300];
    struct job_object_req obj = { 0 };
    int64_t gen = -1;

    p = target_pool(req, id, sizeof(id));
    if (!p)
        return -1;
    b = api_body_object(req);
    if (!b)
        return -1;
    if (json_object_object_get_ex(b, "id", &v) && v) {
        if (api_ref_value(v, "ServerPool", "the body's id", sid, sizeof(sid)) < 0)
            return -1;
        if (strcmp(sid, id) != 0) {
            err_set(ERR_INVALID, "the body's id '%s' is not the object in "
                                 "the path '%s'", sid, id);
            return -1;
        }
    }
    if (body_str(b, "name", &name) < 0 || body_str(b, "description", &desc)
            < 0)
        return -1;
    if (name && strcmp(name, p->name) == 0)
        name = NULL;
    if (name && model_name_check(pool_type(), name) < 0)
        return -1;
    if (desc && strlen(desc) > DESCRIPTION_MAX) {
        err_set(ERR_INVALID, "'description' is longer than %d characters",
                DESCRIPTION_MAX);
        return -1;
    }
    if (json_object_object_get_ex(b, "userData", &ud) && ud &&
        model_user_data_check(ud) < 0)
        return -1;
    if (json_object_object_get_ex(b, "generation", &v) && v) {
        if (!json_object_is_type(v, json_type_int)) {
            err_set(ERR_INVALID, "'generation' must be an integer");
            return -1;
        }
        gen = json_object_get_int64(v);
        if (gen != p->generation) {
            err_set(ERR_CONFLICT, "ServerPool '%s' was changed since it was "
                                  "read: the request is from generation "
                                  "%" PRId64 ", the object is at generation "
                                  "%" PRId64 "; read it again and retry",
                    p->name, gen, p->generation);
            return -1;
        }
    }
    args = json_object_new_object();
    if (update_pool_members(b, p, args) < 0)
        return -1;
    if (name && name_free(name, id) < 0)
        return -1;
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
    snprintf(job_name, sizeof(job_name), "Edit Server Pool: %s", p->name);
    obj.id = id;
    obj.type = "ServerPool";
    obj.name = p->name;
    obj.exclusive = true;
    return submit(req, resp, job_name, &obj, 1, "pool.update", args, id,
                  name ? name : p->name);
}

/* ---- PUT /ServerPool/{id}/addServer and removeServer ---- */

/* addServer (@add) and removeServer: look up, check the rule, submit. */
static int
membership(struct api_req *req, struct api_resp *resp, bool add)
{
    AUTOPTR(db_pool) struct db_pool *p = NULL;
    AUTOPTR(db_pool_member) struct db_pool_member *s = NULL;
    AUTOPTR(json_object) json_object *args = NULL;
    char *AUTOFREE mgr = NULL;
    char id[256], sid[256], job_name[600];
    struct job_object_req objs[2];

    p = target_pool(req, id, sizeof(id));
    if (!p || body_server(req, sid, sizeof(sid)) < 0)
        return -1;
    s = db_pool_member_get(api_conf()->db, sid);
    if (!s)
        return -1;
    if (add) {
        mgr = db_manager_id(api_conf()->db);
        if (!mgr || db_pool_check_add(p, s, mgr) < 0)
            return -1;
    } else if (db_pool_check_remove(p, s) < 0) {
        return -1;
    }
    args = json_object_new_object();
    json_object_object_add(args, "pool", json_object_new_string(id));
    json_object_object_add(args, "server", json_object_new_string(sid));
    if (add)
        json_object_object_add(args, "managerUuid",
                               json_object_new_string(mgr));
    snprintf(job_name, sizeof(job_name),
             add ? "Add Server: %s to Server Pool: %s"
                 : "Remove Server: %s from Server Pool: %s",
             s->name, p->name);
    memset(objs, 0, sizeof(objs));
    objs[0].id = id;
    objs[0].type = "ServerPool";
    objs[0].name = p->name;
    objs[0].exclusive = true;
    objs[1].id = sid;
    objs[1].type = "Server";
    objs[1].name = s->name;
    objs[1].exclusive = true;
    return submit(req, resp, job_name, objs, 2,
                  add ? "pool.add_server" : "pool.remove_server", args, id,
                  p->name);
}

int
api_pool_add_server(struct api_req *req, struct api_resp *resp)
{
    return membership(req, resp, true);
}

int
api_pool_remove_server(struct api_req *req, struct api_resp *resp)
{
    return membership(req, resp, false);
}

/* ---- DELETE /ServerPool/{id} ---- */

int
api_pool_delete(struct api_req *req, struct api_resp *resp)
{
    AUTOPTR(db_pool) struct db_pool *p = NULL;
    AUTOPTR(json_object) json_object *args = NULL;
    char id[256], job_name[300];
    struct job_object_req objs[2];

    p = target_pool(req, id, sizeof(id));
    if (!p || db_pool_check_delete(p) < 0)
        return -1;
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    snprintf(job_name, sizeof(job_name), "Delete Server Pool: %s", p->name);
    memset(objs, 0, sizeof(objs));
    objs[0].id = id;
    objs[0].type = "ServerPool";
    objs[0].name = p->name;
    objs[0].exclusive = true;
    objs[1].id = p->policy_id;
    objs[1].type = "ServerPoolPolicy";
    objs[1].name = "";
    objs[1].exclusive = true;
    return submit(req, resp, job_name, objs, p->policy_id ? 2 : 1,
                  "pool.delete", args, id, p->name);
}
