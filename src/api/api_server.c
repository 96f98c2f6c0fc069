/*
 * api_server.c - server routes that are not generic: discovery.
 *
 * POST /Server/discover?serverName=...&takeOwnershipIfUnowned=... answers
 * with the discovery Job. The agent password comes in the body -- as a
 * JSON string, as {"password": ...}, or as the raw text Oracle VM's own
 * examples send (`data='p4ssword'` with a JSON content type) -- or, with
 * an empty body as python-ovmclient sends it, from the Manager's
 * default_agent_password setting. It is sealed (util/secret.h) before it
 * reaches the job tables. What can be checked now is checked now: a
 * missing or malformed serverName is 400 before any job exists.
 */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "db/db.h"
#include "hv/hv.h"
#include "jobs/jobs.h"
#include "util/alloc.h"
#include "util/err.h"
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

int
api_server_discover(struct api_req *req, struct api_resp *resp)
{
    const struct api_conf *c = api_conf();
    const char *host = api_query(req, "serverName");
    const char *own = api_query(req, "takeOwnershipIfUnowned");
    char *AUTOFREE uri = NULL, *AUTOFREE manager = NULL;
    char *AUTOFREE sealed = NULL, *AUTOFREE obj = NULL;
    char *pw, jname[300];
    bool take = true;
    json_object *args;
    struct job_object_req o;
    struct job_op_req op;
    struct job_req jr;
    int64_t id;
    int rc;

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
    manager = db_manager_id(c->db);
    if (!manager)
        return -1;
    args = json_object_new_object();
    json_object_object_add(args, "host", json_object_new_string(host));
    json_object_object_add(args, "uri", json_object_new_string(uri));
    json_object_object_add(args, "user",
                           json_object_new_string(c->agent_login));
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
