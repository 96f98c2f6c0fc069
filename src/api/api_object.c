/*
 * api_object.c - the generic Oracle-compatible reads for every type.
 *
 * DESIGN: GET /Type, /Type/id, /Type/{id} and /Type/{id}/{child} work for
 * any type registered in model/ without per-type code: db/ reads rows by
 * the type's descriptor and model/ renders them. The type comes from the
 * first path segment, so the same handlers serve generic routes
 * ("/{type}") and literal ones with stricter permissions ("/User").
 * Lists are complete by default, as Oracle VM clients expect; ?limit= and
 * ?offset= page them (extension) and X-Total-Count carries the full count.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "db/db.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/str.h"

int
api_paging(const struct api_req *req, int64_t *limit, int64_t *offset)
{
    const struct api_conf *c = api_conf();
    const char *l = api_query(req, "limit"), *o = api_query(req, "offset");

    *limit = -1;
    *offset = 0;
    if (l && str_to_int64(l, 1, c->max_list_limit, "limit", limit) < 0)
        return -1;
    if (o && str_to_int64(o, 0, INT64_MAX / 2, "offset", offset) < 0)
        return -1;
    if (o && !l)
        *limit = c->default_list_limit;
    return 0;
}

void
api_total_header(struct api_resp *resp, int64_t total)
{
    char num[32];

    snprintf(num, sizeof(num), "%" PRId64, total);
    api_resp_header(resp, "X-Total-Count", num);
}

/* List @t, optionally only rows whose @column equals @value. */
static int
list_objects(struct api_req *req, struct api_resp *resp,
             const struct model_type *t, const char *column,
             const char *value)
{
    struct model_obj **objs = NULL;
    int64_t limit, offset, total = 0;
    json_object *arr;
    size_t n = 0, i;

    if (api_paging(req, &limit, &offset) < 0)
        return -1;
    if (db_object_list(api_conf()->db, t, column, value, limit, offset, &objs,
                       &n, &total) < 0)
        return -1;
    arr = json_object_new_array_ext((int)n);
    for (i = 0; i < n; i++)
        json_object_array_add(arr, model_obj_to_json(objs[i], req->base_uri));
    model_objs_free(objs, n);
    api_reply(resp, arr);
    api_total_header(resp, total);
    return 0;
}

/* GET /Type */
int
api_object_list(struct api_req *req, struct api_resp *resp)
{
    const struct model_type *t = api_req_type(req);

    if (!t)
        return -1;
    return list_objects(req, resp, t, NULL, NULL);
}

/* GET /Type/id */
int
api_object_ids(struct api_req *req, struct api_resp *resp)
{
    const struct model_type *t = api_req_type(req);
    struct model_ref *refs = NULL;
    int64_t limit, offset, total = 0;
    json_object *arr;
    size_t n = 0, i;

    if (!t || api_paging(req, &limit, &offset) < 0)
        return -1;
    if (db_object_refs(api_conf()->db, t, NULL, NULL, limit, offset, &refs, &n,
                       &total) < 0)
        return -1;
    arr = json_object_new_array_ext((int)n);
    for (i = 0; i < n; i++)
        json_object_array_add(arr, model_simpleid(t->name, refs[i].id,
                                                  refs[i].name, req->base_uri));
    model_refs_free(refs, n);
    api_reply(resp, arr);
    api_total_header(resp, total);
    return 0;
}

/* GET /Type/{id} */
int
api_object_get(struct api_req *req, struct api_resp *resp)
{
    const struct model_type *t = api_req_type(req);
    AUTOPTR(model_obj) struct model_obj *o = NULL;
    char id[256];

    if (!t || api_segment(req, 1, id, sizeof(id)) < 0)
        return -1;
    o = db_object_get(api_conf()->db, t, id);
    if (!o)
        return -1;
    api_reply(resp, model_obj_to_json(o, req->base_uri));
    return 0;
}

/* GET /Type/{id}/{child} */
int
api_object_children(struct api_req *req, struct api_resp *resp)
{
    const struct model_type *t = api_req_type(req), *ct;
    AUTOPTR(model_obj) struct model_obj *parent = NULL;
    char id[256], child[128];
    size_t i;

    if (!t || api_segment(req, 1, id, sizeof(id)) < 0 ||
        api_segment(req, 2, child, sizeof(child)) < 0)
        return -1;
    for (i = 0; i < t->nchildren; i++) {
        if (strcmp(t->children[i].path, child) == 0)
            break;
    }
    if (i == t->nchildren) {
        err_set(ERR_NOT_FOUND, "%s has no child collection '%s'", t->name,
                child);
        return -1;
    }
    ct = model_type_find(t->children[i].type);
    if (NEVER(!ct)) {
        err_set(ERR_INTERNAL, "child type '%s' is not registered",
                t->children[i].type);
        return -1;
    }
    /* The parent must exist: an empty list would hide a wrong id. */
    parent = db_object_get(api_conf()->db, t, id);
    if (!parent)
        return -1;
    return list_objects(req, resp, ct, t->children[i].column, id);
}

/* A request's reference to an object (api_int.h). */
int
api_ref_value(json_object *v, const char *type, const char *what, char *out,
              size_t size)
{
    const char *id = NULL, *t = NULL;
    size_t tl, l;

    if (!v)
        return 1;
    if (json_object_is_type(v, json_type_string)) {
        id = json_object_get_string(v);
    } else if (json_object_is_type(v, json_type_object)) {
        if (json_get_string(v, "value", &id) < 0 ||
            json_get_string(v, "type", &t) < 0)
            return -1;
    }
    if (!id || !*id) {
        err_set(ERR_INVALID, "%s must be a SimpleId ({\"type\", \"value\", "
                             "...}), {\"value\": id} or an id string", what);
        return -1;
    }
    if (t) {
        tl = strlen(type);
        l = strlen(t);
        if (strcmp(t, type) != 0 &&
            !(l > tl && t[l - tl - 1] == '.' &&
              strcmp(t + l - tl, type) == 0)) {
            err_set(ERR_INVALID, "%s is a '%s': a %s is needed", what, t,
                    type);
            return -1;
        }
    }
    if (str_copy(out, id, size) >= size) {
        err_set(ERR_INVALID, "%s '%.40s...' is too long", what, id);
        return -1;
    }
    return 0;
}
