/*
 * api_jobreq.c - what the mutating handlers share (api_int.h): reading
 * the object of the path, the common members of a body (name,
 * description, userData, generation, id), lists of servers, and the lock
 * request and one-operation job submit of DESIGN section 3's handler
 * skeleton. No state.
 */
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

#define DESCRIPTION_MAX 4000
#define MAX_SERVERS 64

/* Row @id of @type from the reader; NULL with ERR_NOT_FOUND. */
json_object *
api_row_get(const char *type, const char *id)
{
    return db_row_get(api_conf()->db, model_type_find(type), id);
}

/* The object of the {id} segment: its row, the id copied into @id. */
json_object *
api_target(struct api_req *req, const char *type, char *id, size_t size)
{
    if (api_segment(req, 1, id, size) < 0)
        return NULL;
    return api_row_get(type, id);
}

/*
 * Member @key of @b as a list of Server ids (SimpleIds or strings) into
 * *ids (new array, *n entries, duplicates dropped). 1 when absent or
 * null, 0, -1 (ERR_INVALID).
 */
int
api_server_list(json_object *b, const char *key, char ***ids, size_t *n)
{
    json_object *a;
    size_t i, k, len;
    char id[256], what[80];

    *ids = NULL;
    *n = 0;
    if (!json_object_object_get_ex(b, key, &a) || !a)
        return 1;
    if (!json_object_is_type(a, json_type_array)) {
        err_set(ERR_INVALID, "'%s' must be an array of Server SimpleIds",
                key);
        return -1;
    }
    len = json_object_array_length(a);
    if (len > MAX_SERVERS) {
        err_set(ERR_INVALID, "'%s' names more than %d servers", key,
                MAX_SERVERS);
        return -1;
    }
    *ids = xcalloc(len + 1, sizeof(**ids));
    for (i = 0; i < len; i++) {
        bool dup = false;

        snprintf(what, sizeof(what), "'%s'[%zu]", key, i);
        if (api_ref_value(json_object_array_get_idx(a, i), "Server", what, id,
                      sizeof(id)) != 0) {
            if (err_code() == ERR_OK)
                err_set(ERR_INVALID, "%s must not be null", what);
            db_ids_free(*ids, *n);
            *ids = NULL;
            *n = 0;
            return -1;
        }
        for (k = 0; k < *n; k++)
            dup = dup || strcmp((*ids)[k], id) == 0;
        if (!dup)
            (*ids)[(*n)++] = xstrdup(id);
    }
    return 0;
}

json_object *
api_ids_json(char *const *ids, size_t n)
{
    json_object *a = json_object_new_array();
    size_t i;

    for (i = 0; i < n; i++)
        json_object_array_add(a, json_object_new_string(ids[i]));
    return a;
}

/* The body's string member @key: 0 with *out (NULL when absent/null). */
int
api_body_str(json_object *b, const char *key, const char **out)
{
    *out = NULL;
    return json_get_string(b, key, out) < 0 ? -1 : 0;
}

/* name / description / userData of a create or edit body, checked. */
int
api_common_members(json_object *b, const struct model_type *t, const char **name,
               const char **desc, json_object **ud)
{
    json_object *v;

    *ud = NULL;
    if (api_body_str(b, "name", name) < 0 || api_body_str(b, "description", desc)
            < 0)
        return -1;
    if (*name && model_name_check(t, *name) < 0)
        return -1;
    if (*desc && strlen(*desc) > DESCRIPTION_MAX) {
        err_set(ERR_INVALID, "'description' is longer than %d characters",
                DESCRIPTION_MAX);
        return -1;
    }
    if (json_object_object_get_ex(b, "userData", &v) && v) {
        if (model_user_data_check(v) < 0)
            return -1;
        *ud = v;
    }
    return 0;
}

/* A stale 'generation' of the body against @row: 409. -1 when bad. */
int
api_generation_check(json_object *b, json_object *row, const char *type,
                 int64_t *gen)
{
    json_object *v;
    int64_t cur = 0;

    *gen = -1;
    if (!json_object_object_get_ex(b, "generation", &v) || !v)
        return 0;
    if (!json_object_is_type(v, json_type_int)) {
        err_set(ERR_INVALID, "'generation' must be an integer");
        return -1;
    }
    *gen = json_object_get_int64(v);
    json_get_int64(row, "generation", &cur);
    if (*gen != cur) {
        err_set(ERR_CONFLICT, "%s '%s' was changed since it was read: the "
                              "request is from generation %" PRId64 ", the "
                              "object is at generation %" PRId64 "; read "
                              "it again and retry", type, json_str(row, "name"),
                *gen, cur);
        return -1;
    }
    return 0;
}

/* The body's id (when given) must be the object of the path. */
int
api_body_id_check(json_object *b, const char *type, const char *id)
{
    json_object *v;
    char bid[256];

    if (!json_object_object_get_ex(b, "id", &v) || !v)
        return 0;
    if (api_ref_value(v, type, "the body's id", bid, sizeof(bid)) < 0)
        return -1;
    if (strcmp(bid, id) != 0) {
        err_set(ERR_INVALID, "the body's id '%s' is not the object in the "
                             "path '%s'", bid, id);
        return -1;
    }
    return 0;
}

void
api_locks_release(struct api_locks *l)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        xfree(l->ids[i]);
        xfree(l->names[i]);
    }
    l->n = 0;
}


void
api_lock_add(struct api_locks *l, const char *type, const char *id, const char *name,
         bool exclusive)
{
    size_t i;

    if (!id)
        return;
    for (i = 0; i < l->n; i++) {
        if (strcmp(l->v[i].id, id) == 0) {
            l->v[i].exclusive = l->v[i].exclusive || exclusive;
            return;
        }
    }
    if (l->n >= sizeof(l->v) / sizeof(l->v[0])) {
        l->overflow = true;
        return;
    }
    l->ids[l->n] = xstrdup(id);
    l->names[l->n] = xstrdup(name ? name : "");
    l->v[l->n].type = type;
    l->v[l->n].id = l->ids[l->n];
    l->v[l->n].name = l->names[l->n];
    l->v[l->n].exclusive = exclusive;
    l->n++;
}

/*
 * Submit a one-operation job @job_name running @op with @args (borrowed)
 * holding @l, and answer with the Job. @rtype/@rid/@rname: the resultId
 * known up front (NULL: the job sets it).
 */
int
api_submit(struct api_req *req, struct api_resp *resp, const char *job_name,
       const struct api_locks *l, const char *op, json_object *args,
       const char *rtype, const char *rid, const char *rname)
{
    struct job_op_req jop = { 0 };
    struct job_req jr = { 0 };
    int64_t job_id = 0;

    jop.op = op;
    jop.description = job_name;
    jop.args = args;
    jr.name = job_name;
    jr.user = req->ident.name;
    jr.objects = l->v;
    jr.nobjects = l->n;
    jr.ops = &jop;
    jr.nops = 1;
    jr.result_type = rid ? rtype : NULL;
    jr.result_id = rid;
    jr.result_name = rid ? rname : NULL;
    if (l->overflow) {
        err_set(ERR_INVALID, "job '%s' would need more than %zu object "
                             "locks", job_name, l->n);
        return -1;
    }
    if (jobs_submit(&jr, &job_id) < 0)
        return -1;
    log_info("request %" PRIu64 ": '%s' by '%s' is job %" PRId64, req->id,
             job_name, req->ident.name, job_id);
    return api_reply_job(req, resp, job_id);
}

/* Shared locks on the servers @ids (names looked up for the lock view). */
void
api_lock_servers(struct api_locks *l, char *const *ids, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        api_lock_add(l, "Server", ids[i], NULL, false);
}

