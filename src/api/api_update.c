/*
 * api_update.c - PUT /Type/{id}: the generic edit of any object's name,
 * description and userData, as a job.
 *
 * DESIGN: Oracle VM clients PUT the whole object they read. What can be
 * decided now is refused now, with no job made (DESIGN section 3): an
 * unknown object (404), a body that is not that object (400), a name the
 * type does not allow (400), userData that is not [{key, value}] (400),
 * and a stale `generation` (409). The job (operation object.update) then
 * checks the generation again when it runs, because another job may have
 * changed the object while this one waited for its lock: it fails with
 * the same conflict and changes nothing. Members other than name,
 * description, userData, generation and id are read-only here and
 * ignored, as Oracle VM ignores them; a missing generation skips the
 * check (scripts that PUT a partial object).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "db/db.h"
#include "jobs/jobs.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/str.h"

/* Types whose name is not edited through PUT, and why. */
static const struct {
    const char *type;
    const char *why;
} fixed_names[] = {
    { "User", "a user's name is its log-in name and cannot change" },
    { "Manager", "the Manager's name comes from manager_name in the "
                 "configuration" },
};

static const char *
fixed_name_reason(const char *type)
{
    size_t i;

    for (i = 0; i < sizeof(fixed_names) / sizeof(fixed_names[0]); i++) {
        if (strcmp(fixed_names[i].type, type) == 0)
            return fixed_names[i].why;
    }
    return NULL;
}

/* The body's string member @key: 0 with *out (NULL when absent or null),
 * -1 when it is there with another type. */
static int
body_str(json_object *b, const char *key, const char **out)
{
    json_object *v;

    *out = NULL;
    if (!json_object_object_get_ex(b, key, &v) || !v)
        return 0;
    if (!json_object_is_type(v, json_type_string)) {
        err_set(ERR_INVALID, "'%s' must be a string", key);
        return -1;
    }
    *out = json_object_get_string(v);
    return 0;
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
        err_set(ERR_INVALID, "the body's id '%s' is not the object in the "
                             "path '%s'", s ? s : "?", id);
        return -1;
    }
    return 0;
}

int
api_object_update(struct api_req *req, struct api_resp *resp)
{
    const struct model_type *t = api_req_type(req);
    AUTOPTR(model_obj) struct model_obj *o = NULL;
    json_object *b = NULL, *v, *ud = NULL, *args = NULL;
    const char *name, *desc;
    int64_t gen = -1, id_job;
    char id[256], jname[300];
    struct job_object_req obj;
    struct job_op_req op;
    struct job_req jr;
    int ret = -1;

    if (!t || api_segment(req, 1, id, sizeof(id)) < 0)
        return -1;
    o = db_object_get(api_conf()->db, t, id);
    if (!o)
        return -1;
    if (o->read_only) {
        /* Facts of the Manager, e.g. the Storage Connect plug-ins. */
        err_set(ERR_STATE, "%s '%s' is read-only", t->name, o->name);
        goto out;
    }
    b = api_body_object(req);
    if (!b)
        return -1;
    if (check_body_id(b, id) < 0 || body_str(b, "name", &name) < 0 ||
        body_str(b, "description", &desc) < 0)
        goto out;
    if (name && strcmp(name, o->name) == 0)
        name = NULL;
    if (name) {
        const char *why = fixed_name_reason(t->name);

        if (why) {
            err_set(ERR_INVALID, "cannot rename %s '%s': %s", t->name,
                    o->name, why);
            goto out;
        }
        if (model_name_check(t, name) < 0)
            goto out;
    }
    if (json_object_object_get_ex(b, "userData", &ud) && ud &&
        model_user_data_check(ud) < 0)
        goto out;
    if (json_object_object_get_ex(b, "generation", &v) && v) {
        if (!json_object_is_type(v, json_type_int)) {
            err_set(ERR_INVALID, "'generation' must be an integer");
            goto out;
        }
        gen = json_object_get_int64(v);
        if (gen != o->generation) {
            err_set(ERR_CONFLICT, "%s '%s' was changed since it was read: "
                                  "the request is from generation %" PRId64
                                  ", the object is at generation %" PRId64
                                  "; read it again and retry",
                    t->name, o->name, gen, o->generation);
            goto out;
        }
    }
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    json_object_object_add(args, "type", json_object_new_string(t->name));
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
    snprintf(jname, sizeof(jname), "Edit %s: %s", t->name, o->name);
    memset(&obj, 0, sizeof(obj));
    obj.id = id;
    obj.type = t->name;
    obj.name = o->name;
    obj.exclusive = true;
    memset(&op, 0, sizeof(op));
    op.op = "object.update";
    op.description = jname;
    op.args = args;
    memset(&jr, 0, sizeof(jr));
    jr.name = jname;
    jr.user = req->ident.name;
    jr.objects = &obj;
    jr.nobjects = 1;
    jr.ops = &op;
    jr.nops = 1;
    jr.result_type = t->name;
    jr.result_id = id;
    jr.result_name = name ? name : o->name;
    if (jobs_submit(&jr, &id_job) < 0)
        goto out;
    ret = api_reply_job(req, resp, id_job);
 out:
    json_object_put(args);
    json_object_put(b);
    return ret;
}
