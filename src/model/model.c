/*
 * model.c - ids, name rules, userData checks, rows and their rendering.
 *
 * DESIGN: pure functions over model.h descriptors; no I/O, no locks.
 * Rendering follows the Oracle VM samples member for member: common
 * fields first, in Oracle's order, then the type's own fields.
 */
#include <string.h>

#include "model/model.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/str.h"

/* The longest pool/VM name the seeds allow. */
#define MODEL_NAME_MAX 200
#define USER_DATA_MAX_ENTRIES 64
#define USER_DATA_KEY_MAX 256
#define USER_DATA_VALUE_MAX 4096

int
model_field_index(const struct model_type *t, const char *json)
{
    size_t i;

    for (i = 0; i < t->nfields; i++) {
        if (strcmp(t->fields[i].json, json) == 0)
            return (int)i;
    }
    return -1;
}

char *
model_id_new(const struct model_type *t)
{
    char rnd[17];

    rand_hex(rnd, 8);
    return xasprintf("0004fb00%.4s0000%s", t->code, rnd);
}

int
model_name_check(const struct model_type *t, const char *name)
{
    size_t len, i;

    if (!name || !*name) {
        err_set(ERR_INVALID, "%s name must not be empty", t->name);
        return -1;
    }
    len = strlen(name);
    if (!t->strict_name) {
        if (len > 1024) {
            err_set(ERR_INVALID, "%s name must be at most 1024 characters",
                    t->name);
            return -1;
        }
        for (i = 0; i < len; i++) {
            if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f) {
                err_set(ERR_INVALID,
                        "%s name must not contain control characters",
                        t->name);
                return -1;
            }
        }
        return 0;
    }
    if (len > MODEL_NAME_MAX) {
        err_set(ERR_INVALID, "%s name '%.40s...' is longer than %d characters",
                t->name, name, MODEL_NAME_MAX);
        return -1;
    }
    for (i = 0; i < len; i++) {
        char c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-')) {
            err_set(ERR_INVALID,
                    "%s name '%s' may contain only letters, digits, '_' "
                    "and '-'", t->name, name);
            return -1;
        }
    }
    return 0;
}

int
model_user_data_check(json_object *ud)
{
    size_t n, i, j;

    if (!ud)
        return 0;
    if (!json_object_is_type(ud, json_type_array)) {
        err_set(ERR_INVALID, "'userData' must be an array of "
                             "{\"key\", \"value\"} objects");
        return -1;
    }
    n = json_object_array_length(ud);
    if (n > USER_DATA_MAX_ENTRIES) {
        err_set(ERR_INVALID, "'userData' has %zu entries; at most %d allowed",
                n, USER_DATA_MAX_ENTRIES);
        return -1;
    }
    for (i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(ud, i);
        const char *k = NULL, *v = NULL;

        if (!json_object_is_type(e, json_type_object) ||
            json_get_string(e, "key", &k) != 0 ||
            json_get_string(e, "value", &v) != 0 ||
            json_object_object_length(e) != 2) {
            err_set(ERR_INVALID, "'userData' entry %zu must be "
                                 "{\"key\": string, \"value\": string}", i);
            return -1;
        }
        if (!*k || strlen(k) > USER_DATA_KEY_MAX) {
            err_set(ERR_INVALID, "'userData' key %zu must be 1 to %d "
                                 "characters", i, USER_DATA_KEY_MAX);
            return -1;
        }
        if (strlen(v) > USER_DATA_VALUE_MAX) {
            err_set(ERR_INVALID, "'userData' value of '%s' is longer than %d "
                                 "characters", k, USER_DATA_VALUE_MAX);
            return -1;
        }
        for (j = 0; j < i; j++) {
            const char *k2 = NULL;

            json_get_string(json_object_array_get_idx(ud, j), "key", &k2);
            if (str_eq(k, k2)) {
                err_set(ERR_INVALID, "'userData' key '%s' appears twice", k);
                return -1;
            }
        }
    }
    return 0;
}

void
model_refs_free(struct model_ref *v, size_t n)
{
    size_t i;

    if (!v)
        return;
    for (i = 0; i < n; i++) {
        xfree(v[i].id);
        xfree(v[i].name);
    }
    xfree(v);
}

void
model_obj_free(struct model_obj *o)
{
    size_t i;

    if (!o)
        return;
    if (o->vals) {
        for (i = 0; i < o->type->nfields; i++) {
            xfree(o->vals[i].s);
            xfree(o->vals[i].ref_name);
            model_refs_free(o->vals[i].refs, o->vals[i].nrefs);
        }
        xfree(o->vals);
    }
    xfree(o->id);
    xfree(o->name);
    xfree(o->description);
    xfree(o->user_data);
    xfree(o);
}

void
model_objs_free(struct model_obj **v, size_t n)
{
    size_t i;

    if (!v)
        return;
    for (i = 0; i < n; i++)
        model_obj_free(v[i]);
    xfree(v);
}

/*
 * @id as a URI path segment: bytes other than RFC 3986 unreserved
 * characters and the sub-delimiters Oracle VM leaves as they are (":",
 * "(", ")", ...) are percent-encoded, e.g. the space of a plug-in id
 * ("...OCFS2Plugin%20(0.1.0-42.1)", as in get_file_server_plugin.json).
 * Caller frees.
 */
static char *
uri_segment(const char *id)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i, j = 0, n = strlen(id);
    char *out = xmalloc(3 * n + 1);

    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)id[i];

        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
            (ch >= '0' && ch <= '9') || strchr("-._~:()@!$&'*+,;=", ch)) {
            out[j++] = (char)ch;
        } else {
            out[j++] = '%';
            out[j++] = hex[ch >> 4];
            out[j++] = hex[ch & 15];
        }
    }
    out[j] = '\0';
    return out;
}

json_object *
model_simpleid(const char *type_name, const char *id, const char *name,
               const char *base)
{
    json_object *o = json_object_new_object();
    char *AUTOFREE type = xasprintf(MODEL_WS_PACKAGE "%s", type_name);
    char *AUTOFREE seg = uri_segment(id);
    char *AUTOFREE uri = xasprintf("%s/%s/%s", base, type_name, seg);

    json_object_object_add(o, "type", json_object_new_string(type));
    json_object_object_add(o, "value", json_object_new_string(id));
    json_object_object_add(o, "uri", json_object_new_string(uri));
    json_object_object_add(o, "name", json_str_or_null(name));
    return o;
}

static json_object *
model_val_to_json(const struct model_field *f, const struct model_val *v,
                  const char *base)
{
    json_object *arr;
    size_t i;

    switch (f->kind) {
    case MF_NOW_MS:
        return json_object_new_int64(time_now_ms());
    case MF_REFLIST:
        arr = json_object_new_array();
        for (i = 0; v->kind == MV_REFS && i < v->nrefs; i++)
            json_object_array_add(arr, model_simpleid(f->ref_type,
                                                      v->refs[i].id,
                                                      v->refs[i].name, base));
        return arr;
    default:
        break;
    }
    if (v->kind == MV_NULL)
        return NULL;
    switch (f->kind) {
    case MF_STRING:
        if (v->kind == MV_INT)
            return json_object_new_int64(v->i);
        return json_object_new_string(v->s);
    case MF_INT:
        return v->kind == MV_INT ? json_object_new_int64(v->i) : NULL;
    case MF_BOOL:
        return json_object_new_boolean(v->kind == MV_INT && v->i != 0);
    case MF_REF:
        return v->kind == MV_TEXT ? model_simpleid(f->ref_type, v->s,
                                                   v->ref_name, base)
                                  : NULL;
    case MF_JSON:
        if (v->kind == MV_TEXT) {
            json_object *j = json_parse(v->s, strlen(v->s));

            err_clear();
            return j;
        }
        return NULL;
    default:
        return NULL;
    }
}

/* Names of the event severities by rank (db/ stores the rank). */
static const char *const severity_names[] = {
    "INFORMATIONAL", "WARNING", "ERROR", "CRITICAL",
};

json_object *
model_obj_to_json(const struct model_obj *o, const char *base)
{
    json_object *j = json_object_new_object();
    json_object *ud = NULL;
    size_t i;

    json_object_object_add(j, "id", model_simpleid(o->type->name, o->id,
                                                   o->name, base));
    json_object_object_add(j, "name", json_str_or_null(o->name));
    json_object_object_add(j, "description",
                           json_object_new_string(o->description ?
                                                  o->description : ""));
    json_object_object_add(j, "locked", json_object_new_boolean(o->locked));
    json_object_object_add(j, "readOnly",
                           json_object_new_boolean(o->read_only));
    json_object_object_add(j, "generation",
                           json_object_new_int64(o->generation));
    if (o->user_data)
        ud = json_parse(o->user_data, strlen(o->user_data));
    if (!ud || !json_object_is_type(ud, json_type_array)) {
        json_object_put(ud);
        ud = json_object_new_array();
        err_clear();
    }
    json_object_object_add(j, "userData", ud);
    json_object_object_add(j, "resourceGroupIds", json_object_new_array());
    for (i = 0; i < o->type->nfields; i++) {
        static const struct model_val null_val = { .kind = MV_NULL };
        const struct model_val *v = o->vals ? &o->vals[i] : &null_val;

        json_object_object_add(j, o->type->fields[i].json,
                               model_val_to_json(&o->type->fields[i], v,
                                                 base));
    }
    json_object_object_add(j, "eventSeverity",
                           o->event_severity >= 1 && o->event_severity <= 3
                               ? json_object_new_string(
                                     severity_names[o->event_severity])
                               : NULL);
    return j;
}
