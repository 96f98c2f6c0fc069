/*
 * json.c - json-c helpers (see json.h).
 */
#include <string.h>

#include "util/err.h"
#include "util/json.h"

/*
 * json-c 0.16 accepts single-quoted strings even in strict mode. A single
 * quote outside a double-quoted string is never valid JSON, so find one
 * with a scan that follows string boundaries and escapes. Returns its
 * offset, or -1 when there is none.
 */
static long
single_quote_offset(const char *text, size_t len)
{
    bool in_str = false;
    size_t i;

    for (i = 0; i < len; i++) {
        if (in_str) {
            if (text[i] == '\\')
                i++;
            else if (text[i] == '"')
                in_str = false;
        } else if (text[i] == '"') {
            in_str = true;
        } else if (text[i] == '\'') {
            return (long)i;
        }
    }
    return -1;
}

json_object *
json_parse(const char *text, size_t len)
{
    long sq;

    json_tokener *tok;
    json_object *obj;
    enum json_tokener_error jerr;
    size_t off;

    if (!text || len == 0) {
        err_set(ERR_INVALID, "malformed JSON: the request body is empty");
        return NULL;
    }
    if (len > INT32_MAX) {
        err_set(ERR_TOO_LARGE, "JSON text too large");
        return NULL;
    }
    sq = single_quote_offset(text, len);
    if (sq >= 0) {
        err_set(ERR_INVALID, "malformed JSON at offset %ld: strings must be "
                             "in double quotes", sq);
        return NULL;
    }
    tok = json_tokener_new_ex(JSON_MAX_DEPTH);
    if (!tok) {
        err_set(ERR_INTERNAL, "cannot allocate a JSON parser");
        return NULL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    obj = json_tokener_parse_ex(tok, text, (int)len);
    jerr = json_tokener_get_error(tok);
    off = json_tokener_get_parse_end(tok);
    if (jerr == json_tokener_continue) {
        err_set(ERR_INVALID, "malformed JSON: unexpected end of input");
        goto fail;
    }
    if (jerr != json_tokener_success) {
        err_set(ERR_INVALID, "malformed JSON at offset %zu: %s", off,
                json_tokener_error_desc(jerr));
        goto fail;
    }
    /* Allow trailing whitespace only. */
    for (; off < len; off++) {
        if (!strchr(" \t\r\n", text[off])) {
            err_set(ERR_INVALID,
                    "malformed JSON at offset %zu: trailing characters", off);
            goto fail;
        }
    }
    json_tokener_free(tok);
    return obj;

 fail:
    json_object_put(obj);
    json_tokener_free(tok);
    return NULL;
}

static int
json_get_typed(json_object *obj, const char *key, json_type want,
               const char *what, json_object **out)
{
    json_object *v = NULL;

    if (!obj || !json_object_is_type(obj, json_type_object)) {
        err_set(ERR_INVALID, "the request body must be a JSON object");
        return -1;
    }
    if (!json_object_object_get_ex(obj, key, &v) || !v)
        return 1;
    if (!json_object_is_type(v, want)) {
        err_set(ERR_INVALID, "'%s' must be %s", key, what);
        return -1;
    }
    *out = v;
    return 0;
}

int
json_get_string(json_object *obj, const char *key, const char **out)
{
    json_object *v;
    int r = json_get_typed(obj, key, json_type_string, "a string", &v);

    if (r == 0)
        *out = json_object_get_string(v);
    return r;
}

const char *
json_str(json_object *obj, const char *key)
{
    json_object *v = NULL;

    if (!obj || !json_object_object_get_ex(obj, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

int
json_get_int64(json_object *obj, const char *key, int64_t *out)
{
    json_object *v;
    int r = json_get_typed(obj, key, json_type_int, "an integer", &v);

    if (r == 0)
        *out = json_object_get_int64(v);
    return r;
}

int
json_get_bool(json_object *obj, const char *key, bool *out)
{
    json_object *v;
    int r = json_get_typed(obj, key, json_type_boolean, "true or false", &v);

    if (r == 0)
        *out = json_object_get_boolean(v);
    return r;
}

const char *
json_to_text(json_object *obj)
{
    return json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
                                                   JSON_C_TO_STRING_NOSLASHESCAPE);
}

json_object *
json_str_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}
