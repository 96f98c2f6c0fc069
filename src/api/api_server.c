/*
 * api_server.c - server routes that are not generic: discovery, edit,
 * ownership, delete and power.
 *
 * POST /Server/discover?serverName=...&takeOwnershipIfUnowned=... answers
 * with the discovery Job. The agent password comes in the body -- as a
 * JSON string, as {"password": ...}, or as the raw text Oracle VM's own
 * examples send (`data='p4ssword'` with a JSON content type) -- or, with
 * an empty body as python-ovmclient sends it, from the Manager's
 * default_agent_password setting. It is sealed (util/secret.h) before it
 * reaches the job tables. What can be checked now is checked now: a
 * missing or malformed serverName is 400 before any job exists.
 *
 * The other routes follow the mutating-handler skeleton of DESIGN section
 * 3: everything that can be decided when the request arrives is decided
 * then, with no job made -- a malformed body or value (400), an unknown
 * server (404), a stale generation or a rule of the seeds (7.8) against
 * the current state (409; db_server_check_*(), the functions the
 * operations apply again when they run) -- and then one job is submitted
 * that holds the server exclusively (and, when entering maintenance mode
 * moves its pool's master role, the pool too). The answer is the Job.
 *
 *   PUT /Server/{id}                  server.update (one operation, undo
 *                                     of every changed column)
 *   PUT /Server/{id}/takeOwnership    server.owner
 *   PUT /Server/{id}/releaseOwnership server.owner
 *   DELETE /Server/{id}               server.delete
 *   PUT /Server/{id}/start|stop|restart|kill
 *                                     server.run_state (STARTING or
 *                                     STOPPING) + server.power (ipmitool or
 *                                     Wake-on-LAN); kill in the priority
 *                                     lane
 *
 * The IPMI password is write-only: it arrives as ipmiPassword, is sealed
 * here, and no route ever renders it (it is not a field of the Server
 * type). Power settings (timeouts, cipher suite, Wake-on-LAN target) are
 * copied from the configuration into each power job's arguments.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "db/db.h"
#include "hv/hv.h"
#include "jobs/jobs.h"
#include "jobs/storage.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/ipmi.h"
#include "util/json.h"
#include "util/secret.h"
#include "util/str.h"

/* The agent password from the body, or NULL for none. Caller frees. */
static char *
body_password(const struct api_req *req)
{
    json_object *b, *v;
    char *pw = NULL;
    size_t len;

    if (!req->body || !req->body_len)
        return NULL;
    b = json_tokener_parse(req->body);
    if (b && json_object_is_type(b, json_type_string)) {
        pw = xstrdup(json_object_get_string(b));
    } else if (b && json_object_is_type(b, json_type_object)) {
        if (json_object_object_get_ex(b, "password", &v) &&
            json_object_is_type(v, json_type_string))
            pw = xstrdup(json_object_get_string(v));
    } else if (!b) {
        /* Raw text: Oracle's sample code posts the bare password. */
        len = req->body_len;
        while (len && (req->body[len - 1] == '\n' ||
                       req->body[len - 1] == '\r'))
            len--;
        pw = xstrndup(req->body, len);
    }
    json_object_put(b);
    return pw;
}

/*
 * Submit a server.discover job for @host at @uri (sealed password or
 * NULL) and answer with it. Shared by discover and rediscover.
 */
static int
submit_discover(struct api_req *req, struct api_resp *resp, const char *host,
                const char *uri, const char *login, const char *sealed,
                bool take)
{
    char *AUTOFREE manager = NULL, *AUTOFREE obj = NULL;
    char jname[300];
    json_object *args;
    struct job_object_req o;
    struct job_op_req op;
    struct job_req jr;
    int64_t id;
    int rc;

    manager = db_manager_id(api_conf()->db);
    if (!manager)
        return -1;
    args = json_object_new_object();
    json_object_object_add(args, "host", json_object_new_string(host));
    json_object_object_add(args, "uri", json_object_new_string(uri));
    json_object_object_add(args, "user", json_object_new_string(login));
    if (sealed)
        json_object_object_add(args, "password",
                               json_object_new_string(sealed));
    json_object_object_add(args, "takeOwnership",
                           json_object_new_boolean(take));
    json_object_object_add(args, "managerUuid",
                           json_object_new_string(manager));
    snprintf(jname, sizeof(jname), "Discover Server: %s", host);
    obj = xasprintf("server:%s", host);
    memset(&o, 0, sizeof(o));
    o.id = obj;
    o.type = "Server";
    o.name = host;
    o.exclusive = true;
    memset(&op, 0, sizeof(op));
    op.op = "server.discover";
    op.description = jname;
    op.args = args;
    memset(&jr, 0, sizeof(jr));
    jr.name = jname;
    jr.user = req->ident.name;
    jr.objects = &o;
    jr.nobjects = 1;
    jr.ops = &op;
    jr.nops = 1;
    rc = jobs_submit(&jr, &id);
    json_object_put(args);
    if (rc < 0)
        return -1;
    return api_reply_job(req, resp, id);
}

/* PUT /Server/{id}/rediscover: discover a known server again with the
 * address, URI and sealed agent password it was discovered with; its
 * facts and ports are refreshed, nothing the administrator set changes. */
int
api_server_rediscover(struct api_req *req, struct api_resp *resp)
{
    AUTOPTR(db_server) struct db_server *s = NULL;
    char id[256];

    if (api_segment(req, 1, id, sizeof(id)) < 0)
        return -1;
    s = db_server_get(api_conf()->db, id);
    if (!s)
        return -1;
    return submit_discover(req, resp, s->ip_address, s->libvirt_uri,
                           s->agent_login ? s->agent_login
                                          : api_conf()->agent_login,
                           s->agent_password, s->manager_uuid != NULL);
}

int
api_server_discover(struct api_req *req, struct api_resp *resp)
{
    const struct api_conf *c = api_conf();
    const char *host = api_query(req, "serverName");
    const char *own = api_query(req, "takeOwnershipIfUnowned");
    char *AUTOFREE uri = NULL, *AUTOFREE sealed = NULL;
    bool take = true;
    char *pw;

    if (!host || !*host) {
        err_set(ERR_INVALID, "serverName is required: the host name or "
                             "address of the server to discover");
        return -1;
    }
    if (own && str_to_bool(own, "takeOwnershipIfUnowned", &take) < 0)
        return -1;
    uri = hv_uri_for(host, c->agent_login, c->hv_uri_template, c->sim_dir);
    if (!uri)
        return -1;
    pw = body_password(req);
    if (!pw && c->default_agent_password && *c->default_agent_password)
        pw = xstrdup(c->default_agent_password);
    if (pw) {
        sealed = secret_seal(pw);
        memset(pw, 0, strlen(pw));
        xfree(pw);
        if (!sealed)
            return -1;
    }
    return submit_discover(req, resp, host, uri, c->agent_login, sealed,
                           take);
}

/* ---- edit, ownership, delete, power ---- */

/* Submit a job of @nops operations on server @s (exclusive), plus pool
 * @pool_id (exclusive) when not NULL, and answer with it. */
static int
server_job(struct api_req *req, struct api_resp *resp,
           const struct db_server *s, const char *pool_id,
           const char *pool_name, const char *jname,
           const struct job_op_req *ops, size_t nops, bool priority,
           bool result)
{
    struct job_object_req objs[2];
    struct job_req jr;
    int64_t id;

    memset(objs, 0, sizeof(objs));
    objs[0].id = s->id;
    objs[0].type = "Server";
    objs[0].name = s->name;
    objs[0].exclusive = true;
    if (pool_id) {
        objs[1].id = pool_id;
        objs[1].type = "ServerPool";
        objs[1].name = pool_name;
        objs[1].exclusive = true;
    }
    memset(&jr, 0, sizeof(jr));
    jr.name = jname;
    jr.user = req->ident.name;
    jr.priority = priority;
    jr.objects = objs;
    jr.nobjects = pool_id ? 2 : 1;
    jr.ops = ops;
    jr.nops = nops;
    if (result) {
        jr.result_type = "Server";
        jr.result_id = s->id;
        jr.result_name = s->name;
    }
    if (jobs_submit(&jr, &id) < 0)
        return -1;
    return api_reply_job(req, resp, id);
}

/* The server named by path parameter 0. NULL with ERR_NOT_FOUND. */
static struct db_server *
req_server(const struct api_req *req)
{
    if (req->nparams < 1) {
        err_set(ERR_NOT_FOUND, "no server id in the path");
        return NULL;
    }
    return db_server_get(api_conf()->db, req->params[0]);
}

/* The id member, a SimpleId or a plain string, must name @id. */
static int
check_body_id(json_object *b, const char *id)
{
    json_object *v, *val;
    const char *s = NULL;

    if (!json_object_object_get_ex(b, "id", &v) || !v)
        return 0;
    if (json_object_is_type(v, json_type_string))
        s = json_object_get_string(v);
    else if (json_object_is_type(v, json_type_object) &&
             json_object_object_get_ex(v, "value", &val) &&
             json_object_is_type(val, json_type_string))
        s = json_object_get_string(val);
    if (!s || strcmp(s, id) != 0) {
        err_set(ERR_INVALID, "the body's id '%s' is not the server in the "
                             "path '%s'", s ? s : "?", id);
        return -1;
    }
    return 0;
}

/* serverRoles @v as canonical JSON text (VM before UTILITY) into @out. */
static int
roles_text(json_object *v, char *out, size_t size)
{
    bool vm = false, util = false;
    size_t i, n;

    if (!json_object_is_type(v, json_type_array)) {
        err_set(ERR_INVALID, "'serverRoles' must be an array of \"VM\" and "
                             "\"UTILITY\"");
        return -1;
    }
    n = json_object_array_length(v);
    for (i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(v, i);
        const char *r = json_object_is_type(e, json_type_string)
                            ? json_object_get_string(e) : NULL;
        bool *seen = str_eq(r, "VM") ? &vm : str_eq(r, "UTILITY") ? &util
                                                                  : NULL;

        if (!seen) {
            err_set(ERR_INVALID, "serverRoles[%zu] is not a server role: "
                                 "\"VM\" or \"UTILITY\"", i);
            return -1;
        }
        if (*seen) {
            err_set(ERR_INVALID, "serverRoles names '%s' twice", r);
            return -1;
        }
        *seen = true;
    }
    if (!vm && !util) {
        err_set(ERR_INVALID, "a server needs at least one role: \"VM\" "
                             "(runs virtual machines) or \"UTILITY\" "
                             "(does the pool's I/O work)");
        return -1;
    }
    snprintf(out, size, "[%s%s%s]", vm ? "\"VM\"" : "", vm && util ? "," : "",
             util ? "\"UTILITY\"" : "");
    return 0;
}

/* Boolean member @key: 0 with *present, -1 when it is not a boolean. */
static int
body_bool(json_object *b, const char *key, bool *out, bool *present)
{
    json_object *v;

    *present = false;
    if (!json_object_object_get_ex(b, key, &v) || !v)
        return 0;
    if (!json_object_is_type(v, json_type_boolean)) {
        err_set(ERR_INVALID, "'%s' must be true or false", key);
        return -1;
    }
    *out = json_object_get_boolean(v);
    *present = true;
    return 0;
}

/* String member @key: 0 with *out (NULL when JSON null) and *present;
 * -1 when it has another type. */
static int
body_str_or_null(json_object *b, const char *key, const char **out,
                 bool *present)
{
    json_object *v;

    *out = NULL;
    *present = json_object_object_get_ex(b, key, &v);
    if (!*present || !v)
        return 0;
    if (!json_object_is_type(v, json_type_string)) {
        err_set(ERR_INVALID, "'%s' must be a string or null", key);
        return -1;
    }
    *out = json_object_get_string(v);
    return 0;
}

/*
 * The IPMI members of the body into @cols (columns that change). Empty
 * strings and null clear the address and the user; ipmiPassword absent or
 * null leaves the password as it is, "" clears it, anything else is
 * sealed.
 */
static int
ipmi_members(json_object *b, const struct db_server *s, json_object *cols)
{
    char host[IPMI_HOST_MAX + 1];
    const char *v;
    bool present;
    int port;

    if (body_str_or_null(b, "ipmiAddress", &v, &present) < 0)
        return -1;
    if (present) {
        if (v && !*v)
            v = NULL;
        if (v && ipmi_address_parse(v, host, sizeof(host), &port) < 0)
            return -1;
        if (!str_eq(v, s->ipmi_address))
            json_object_object_add(cols, "ipmi_address",
                                   json_str_or_null(v));
    }
    if (body_str_or_null(b, "ipmiUser", &v, &present) < 0)
        return -1;
    if (present) {
        if (v && !*v)
            v = NULL;
        if (v && ipmi_user_check(v) < 0)
            return -1;
        if (!str_eq(v, s->ipmi_user))
            json_object_object_add(cols, "ipmi_user", json_str_or_null(v));
    }
    if (body_str_or_null(b, "ipmiPassword", &v, &present) < 0)
        return -1;
    if (v && !*v) {
        json_object_object_add(cols, "ipmi_password", NULL);
    } else if (v) {
        char *sealed;

        if (ipmi_password_check(v) < 0)
            return -1;
        sealed = secret_seal(v);
        if (!sealed)
            return -1;
        json_object_object_add(cols, "ipmi_password",
                               json_object_new_string(sealed));
        xfree(sealed);
    }
    return 0;
}

int
api_server_update(struct api_req *req, struct api_resp *resp)
{
    const struct model_type *type = model_type_find("Server");
    AUTOPTR(db_server) struct db_server *s = NULL;
    AUTOPTR(json_object) json_object *b = NULL;
    AUTOPTR(json_object) json_object *args = NULL;
    json_object *cols, *v, *ud = NULL;
    const char *name = NULL, *desc = NULL;
    char roles[32], jname[300];
    int64_t gen = -1;
    bool flag, present, entering = false;
    struct job_op_req op;

    s = req_server(req);
    if (!s)
        return -1;
    b = api_body_object(req);
    if (!b)
        return -1;
    if (check_body_id(b, s->id) < 0 ||
        body_str_or_null(b, "name", &name, &present) < 0 ||
        body_str_or_null(b, "description", &desc, &present) < 0)
        return -1;
    if (name && strcmp(name, s->name) == 0)
        name = NULL;
    if (name && model_name_check(type, name) < 0)
        return -1;
    if (json_object_object_get_ex(b, "userData", &ud) && ud &&
        model_user_data_check(ud) < 0)
        return -1;
    if (json_object_object_get_ex(b, "generation", &v) && v) {
        if (!json_object_is_type(v, json_type_int)) {
            err_set(ERR_INVALID, "'generation' must be an integer");
            return -1;
        }
        gen = json_object_get_int64(v);
        if (gen != s->generation) {
            err_set(ERR_CONFLICT, "Server '%s' was changed since it was "
                                  "read: the request is from generation "
                                  "%" PRId64 ", the server is at generation "
                                  "%" PRId64 "; read it again and retry",
                    s->name, gen, s->generation);
            return -1;
        }
    }
    args = json_object_new_object();
    cols = json_object_new_object();
    json_object_object_add(args, "columns", cols);
    if (json_object_object_get_ex(b, "serverRoles", &v) && v) {
        if (roles_text(v, roles, sizeof(roles)) < 0)
            return -1;
        if (!str_eq(roles, s->roles))
            json_object_object_add(cols, "roles",
                                   json_object_new_string(roles));
    }
    if (body_bool(b, "maintenanceMode", &flag, &present) < 0)
        return -1;
    if (present && flag != s->maintenance_mode) {
        json_object_object_add(cols, "maintenance_mode",
                               json_object_new_int64(flag));
        entering = flag;
    }
    if (body_bool(b, "inboundMigrationLocked", &flag, &present) < 0)
        return -1;
    if (present && flag != s->inbound_migration_locked)
        json_object_object_add(cols, "inbound_migration_locked",
                               json_object_new_int64(flag));
    if (ipmi_members(b, s, cols) < 0)
        return -1;
    json_object_object_add(args, "id", json_object_new_string(s->id));
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
    snprintf(jname, sizeof(jname), "Edit Server: %s", s->name);
    memset(&op, 0, sizeof(op));
    op.op = "server.update";
    op.description = jname;
    op.args = args;
    /*
     * Entering maintenance mode also migrates the server's running VMs to
     * other servers of its pool, or stops them where none can take them
     * (seeds 7.8.9). VMs arrive with issue 7, which appends those
     * operations here, after server.update, in this same job: a VM that
     * can be neither migrated nor stopped then fails the job and the
     * server leaves maintenance mode again (undo). The pool is held too,
     * because server.update may move its master role.
     */
    return server_job(req, resp, s, entering ? s->server_pool_id : NULL,
                      s->pool_name, jname, &op, 1, false, true);
}

/* Take (@take) or release ownership of the server in the path. */
static int
ownership(struct api_req *req, struct api_resp *resp, bool take)
{
    AUTOPTR(db_server) struct db_server *s = NULL;
    AUTOPTR(json_object) json_object *args = NULL;
    char *AUTOFREE manager = NULL, *AUTOFREE sealed = NULL;
    char jname[300], *pw;
    struct job_op_req op;

    s = req_server(req);
    if (!s)
        return -1;
    manager = db_manager_id(api_conf()->db);
    if (!manager || db_server_check_ownership(s, take, manager) < 0)
        return -1;
    pw = take ? body_password(req) : NULL;
    if (pw) {
        sealed = secret_seal(pw);
        memset(pw, 0, strlen(pw));
        xfree(pw);
        if (!sealed)
            return -1;
    }
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(s->id));
    json_object_object_add(args, "take", json_object_new_boolean(take));
    json_object_object_add(args, "managerUuid",
                           json_object_new_string(manager));
    if (sealed)
        json_object_object_add(args, "agentPassword",
                               json_object_new_string(sealed));
    snprintf(jname, sizeof(jname), "%s Ownership of Server: %s",
             take ? "Take" : "Release", s->name);
    memset(&op, 0, sizeof(op));
    op.op = "server.owner";
    op.description = jname;
    op.args = args;
    return server_job(req, resp, s, NULL, NULL, jname, &op, 1, false, true);
}

int
api_server_take_ownership(struct api_req *req, struct api_resp *resp)
{
    return ownership(req, resp, true);
}

int
api_server_release_ownership(struct api_req *req, struct api_resp *resp)
{
    return ownership(req, resp, false);
}

int
api_server_delete(struct api_req *req, struct api_resp *resp)
{
    AUTOPTR(db_server) struct db_server *s = NULL;
    AUTOPTR(json_object) json_object *args = NULL;
    char jname[300];
    struct job_op_req op;

    s = req_server(req);
    if (!s ||
        storage_check_server_delete(&(struct storage_view){
                                        api_conf()->db, NULL }, s->id) < 0 ||
        db_server_check_delete(s) < 0)
        return -1;
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(s->id));
    snprintf(jname, sizeof(jname), "Delete Server: %s", s->name);
    memset(&op, 0, sizeof(op));
    op.op = "server.delete";
    op.description = jname;
    op.args = args;
    return server_job(req, resp, s, NULL, NULL, jname, &op, 1, false, false);
}

/* What each power action does: verb, job name, transition state, the
 * states it may start from, the ipmitool action, the power state to
 * confirm and the run state it ends in. */
static const struct {
    const char *verb;
    const char *title;
    const char *transition;
    const char *from[4];
    const char *ipmi;
    const char *expect;
    const char *final;
} power_actions[] = {
    [DB_POWER_START] = { "start", "Start", "STARTING",
                         { "STOPPED", "UNKNOWN", "STARTING", NULL }, "on",
                         "on", "RUNNING" },
    [DB_POWER_STOP] = { "stop", "Stop", "STOPPING",
                        { "RUNNING", "UNKNOWN", NULL, NULL }, "soft", "off",
                        "STOPPED" },
    [DB_POWER_RESTART] = { "restart", "Restart", "STOPPING",
                           { "RUNNING", "UNKNOWN", NULL, NULL }, "cycle",
                           "on", "RUNNING" },
    [DB_POWER_KILL] = { "kill", "Kill", "STOPPING",
                        { NULL, NULL, NULL, NULL }, "off", "off",
                        "STOPPED" },
};

static int
power(struct api_req *req, struct api_resp *resp, enum db_power_action a)
{
    const struct api_conf *c = api_conf();
    AUTOPTR(db_server) struct db_server *s = NULL;
    AUTOPTR(json_object) json_object *state_args = NULL;
    AUTOPTR(json_object) json_object *power_args = NULL;
    char *AUTOFREE manager = NULL;
    char jname[300], desc[320];
    struct job_op_req ops[2];
    json_object *from;
    bool wol;
    size_t i;

    s = req_server(req);
    if (!s)
        return -1;
    manager = db_manager_id(c->db);
    if (!manager || db_server_check_power(s, a, manager, &wol) < 0)
        return -1;
    state_args = json_object_new_object();
    json_object_object_add(state_args, "id", json_object_new_string(s->id));
    json_object_object_add(state_args, "state",
                           json_object_new_string(power_actions[a].transition));
    json_object_object_add(state_args, "action",
                           json_object_new_string(power_actions[a].verb));
    if (power_actions[a].from[0]) {
        from = json_object_new_array();
        for (i = 0; power_actions[a].from[i]; i++)
            json_object_array_add(
                from, json_object_new_string(power_actions[a].from[i]));
        json_object_object_add(state_args, "from", from);
    }
    power_args = json_object_new_object();
    json_object_object_add(power_args, "id", json_object_new_string(s->id));
    if (wol) {
        json_object_object_add(power_args, "action",
                               json_object_new_string("wol"));
        json_object_object_add(power_args, "wolAddress",
                               json_str_or_null(c->wol_address));
        json_object_object_add(power_args, "wolPort",
                               json_object_new_int64(c->wol_port));
    } else {
        json_object_object_add(power_args, "action",
                               json_object_new_string(power_actions[a].ipmi));
        json_object_object_add(power_args, "expect",
                               json_object_new_string(
                                   power_actions[a].expect));
        json_object_object_add(power_args, "state",
                               json_object_new_string(power_actions[a].final));
        json_object_object_add(power_args, "timeoutMs",
                               json_object_new_int64(c->ipmi_timeout_ms));
        json_object_object_add(power_args, "confirmTimeoutMs",
                               json_object_new_int64(c->power_confirm_ms));
        json_object_object_add(power_args, "cipherSuite",
                               json_object_new_int64(c->ipmi_cipher_suite));
    }
    snprintf(jname, sizeof(jname), "%s Server: %s", power_actions[a].title,
             s->name);
    snprintf(desc, sizeof(desc), "%s server '%s' %s", power_actions[a].title,
             s->name, wol ? "with Wake-on-LAN" : "through IPMI");
    memset(ops, 0, sizeof(ops));
    ops[0].op = "server.run_state";
    ops[0].description = power_actions[a].transition;
    ops[0].args = state_args;
    ops[1].op = "server.power";
    ops[1].description = desc;
    ops[1].args = power_args;
    /* Kill never waits behind ordinary work (DESIGN section 4). */
    return server_job(req, resp, s, NULL, NULL, jname, ops, 2,
                      a == DB_POWER_KILL, true);
}

int
api_server_start(struct api_req *req, struct api_resp *resp)
{
    return power(req, resp, DB_POWER_START);
}

int
api_server_stop(struct api_req *req, struct api_resp *resp)
{
    return power(req, resp, DB_POWER_STOP);
}

int
api_server_restart(struct api_req *req, struct api_resp *resp)
{
    return power(req, resp, DB_POWER_RESTART);
}

int
api_server_kill(struct api_req *req, struct api_resp *resp)
{
    return power(req, resp, DB_POWER_KILL);
}
