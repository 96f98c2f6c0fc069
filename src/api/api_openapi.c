/*
 * api_openapi.c - GET /openapi.json, built from the route data.
 *
 * DESIGN: the document is derived at run time from the same embedded
 * schema/api/routes.json and objects.json that generated the route table,
 * so it cannot disagree with what the daemon serves. Generic routes
 * ("/{type}") appear once with an enumerated type parameter and once per
 * registered type with that type's schema, literal routes winning.
 * Built per request (it is small and rarely fetched); no shared state.
 */
#include <string.h>

#include "api/api_int.h"
#include "util/alloc.h"
#include "util/embed.h"
#include "util/err.h"

static json_object *
load_embedded(const char *path)
{
    const struct embedded_file *f = embedded_find(path);

    if (!f) {
        err_set(ERR_INTERNAL, "'%s' is not compiled in", path);
        return NULL;
    }
    return json_parse((const char *)f->data, f->len);
}

static json_object *
schema_ref(const char *name)
{
    json_object *o = json_object_new_object();
    char *AUTOFREE ref = NULL;
    size_t len = strlen(name);

    if (len > 2 && strcmp(name + len - 2, "[]") == 0) {
        char *AUTOFREE base = xstrndup(name, len - 2);

        json_object_object_add(o, "type", json_object_new_string("array"));
        json_object_object_add(o, "items", schema_ref(base));
        return o;
    }
    ref = xasprintf("#/components/schemas/%s", name);
    json_object_object_add(o, "$ref", json_object_new_string(ref));
    return o;
}

static json_object *
content(json_object *schema)
{
    json_object *c = json_object_new_object(), *m = json_object_new_object();

    json_object_object_add(m, "schema", schema);
    json_object_object_add(c, "application/json", m);
    return c;
}

/* Replace "$type"/"$child" in a response schema name. */
static char *
resolve_name(const char *name, const char *type, const char *child)
{
    if (strncmp(name, "$type", 5) == 0)
        return xasprintf("%s%s", type ? type : "object", name + 5);
    if (strncmp(name, "$child", 6) == 0)
        return xasprintf("%s%s", child ? child : "object", name + 6);
    return xstrdup(name);
}

static json_object *
operation(json_object *route, const char *type, const char *child,
          const char *path)
{
    json_object *op = json_object_new_object(), *v, *params, *responses, *ok;
    const char *resp = NULL, *reqname = NULL, *perm = "read";
    const char *p;
    char *AUTOFREE opid = NULL;

    if (json_object_object_get_ex(route, "summary", &v))
        json_object_object_add(op, "summary", json_object_get(v));
    if (json_object_object_get_ex(route, "perm", &v))
        perm = json_object_get_string(v);
    json_object_object_add(op, "x-permission", json_object_new_string(perm));
    if (json_object_object_get_ex(route, "change", &v))
        json_object_object_add(op, "x-change", json_object_get(v));
    json_object_object_get_ex(route, "method", &v);
    opid = xasprintf("%s %s", json_object_get_string(v), path);
    json_object_object_add(op, "operationId", json_object_new_string(opid));
    if (strcmp(perm, "public") == 0)
        json_object_object_add(op, "security", json_object_new_array());

    params = json_object_new_array();
    for (p = strchr(path, '{'); p; p = strchr(p + 1, '{')) {
        json_object *pa = json_object_new_object(), *s = json_object_new_object();
        char *AUTOFREE pname = xstrndup(p + 1, strcspn(p + 1, "}"));

        json_object_object_add(pa, "name", json_object_new_string(pname));
        json_object_object_add(pa, "in", json_object_new_string("path"));
        json_object_object_add(pa, "required", json_object_new_boolean(1));
        json_object_object_add(s, "type", json_object_new_string("string"));
        if (strcmp(pname, "type") == 0) {
            json_object *e = json_object_new_array();
            const struct model_type *const *types;
            size_t n, i;

            types = model_types(&n);
            for (i = 0; i < n; i++)
                json_object_array_add(e, json_object_new_string(types[i]->name));
            json_object_object_add(s, "enum", e);
        }
        json_object_object_add(pa, "schema", s);
        json_object_array_add(params, pa);
    }
    json_object_object_add(op, "parameters", params);

    if (json_object_object_get_ex(route, "request", &v) && v) {
        json_object *rb = json_object_new_object();

        reqname = json_object_get_string(v);
        json_object_object_add(rb, "required", json_object_new_boolean(1));
        json_object_object_add(rb, "content", content(schema_ref(reqname)));
        json_object_object_add(op, "requestBody", rb);
    }
    responses = json_object_new_object();
    ok = json_object_new_object();
    json_object_object_add(ok, "description", json_object_new_string("OK"));
    if (json_object_object_get_ex(route, "response", &v) && v) {
        char *AUTOFREE name = resolve_name(json_object_get_string(v), type,
                                           child);

        resp = name;
        json_object_object_add(ok, "content", content(schema_ref(resp)));
    }
    json_object_object_add(responses, "200", ok);
    {
        json_object *def = json_object_new_object();

        json_object_object_add(def, "description",
                               json_object_new_string("Error"));
        json_object_object_add(def, "content", content(schema_ref("Error")));
        json_object_object_add(responses, "default", def);
    }
    json_object_object_add(op, "responses", responses);
    return op;
}

static void
add_op(json_object *paths, const char *path, const char *method,
       json_object *op)
{
    json_object *item;
    char lower[8];
    size_t i;

    for (i = 0; method[i] && i < sizeof(lower) - 1; i++)
        lower[i] = (char)(method[i] | 0x20);
    lower[i] = '\0';
    if (!json_object_object_get_ex(paths, path, &item)) {
        item = json_object_new_object();
        json_object_object_add(paths, path, item);
    }
    if (json_object_object_get_ex(item, lower, NULL)) {
        json_object_put(op);   /* a literal route already documents it */
        return;
    }
    json_object_object_add(item, lower, op);
}

/* Replace "{type}" in @pattern by @type and "{child}" by @child. */
static char *
expand(const char *pattern, const char *type, const char *child)
{
    const char *t = strstr(pattern, "{type}");
    char *AUTOFREE first = NULL;
    const char *c;

    if (!t)
        return xstrdup(pattern);
    first = xasprintf("%.*s%s%s", (int)(t - pattern), pattern, type, t + 6);
    c = child ? strstr(first, "{child}") : NULL;
    if (!c)
        return steal_ptr(&first);
    return xasprintf("%.*s%s%s", (int)(c - first), first, child, c + 7);
}

/* GET /openapi.json */
int
api_openapi(struct api_req *req, struct api_resp *resp)
{
    AUTOPTR(json_object) json_object *routes_doc =
        load_embedded("schema/api/routes.json");
    AUTOPTR(json_object) json_object *objects_doc =
        load_embedded("schema/api/objects.json");
    json_object *doc, *info, *paths, *routes, *schemas, *comp, *sec, *servers;
    const struct model_type *const *types;
    size_t nroutes, ntypes, i, j, k, pass;

    if (!routes_doc || !objects_doc ||
        !json_object_object_get_ex(routes_doc, "routes", &routes) ||
        !json_object_object_get_ex(objects_doc, "schemas", &schemas)) {
        if (err_code() == ERR_OK)
            err_set(ERR_INTERNAL, "the compiled-in API description is broken");
        return -1;
    }
    types = model_types(&ntypes);
    doc = json_object_new_object();
    json_object_object_add(doc, "openapi", json_object_new_string("3.0.3"));
    info = json_object_new_object();
    json_object_object_add(info, "title",
                           json_object_new_string("ovmm REST API (Oracle VM "
                                                  "3.4 Web Services compatible)"));
    json_object_object_add(info, "version", json_object_new_string(OVMM_VERSION));
    json_object_object_add(doc, "info", info);
    servers = json_object_new_array();
    {
        json_object *s = json_object_new_object();

        json_object_object_add(s, "url", json_object_new_string(req->base_uri));
        json_object_array_add(servers, s);
    }
    json_object_object_add(doc, "servers", servers);
    sec = json_object_new_array();
    {
        json_object *a = json_object_new_object(), *b = json_object_new_object();

        json_object_object_add(a, "basic", json_object_new_array());
        json_object_object_add(b, "session", json_object_new_array());
        json_object_array_add(sec, a);
        json_object_array_add(sec, b);
    }
    json_object_object_add(doc, "security", sec);

    paths = json_object_new_object();
    nroutes = json_object_array_length(routes);
    /* Pass 0: routes as declared. Pass 1: generic routes per type. */
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < nroutes; i++) {
            json_object *r = json_object_array_get_idx(routes, i), *pv, *mv;
            const char *pattern, *method;

            json_object_object_get_ex(r, "path", &pv);
            json_object_object_get_ex(r, "method", &mv);
            pattern = json_object_get_string(pv);
            method = json_object_get_string(mv);
            if (pass == 0) {
                add_op(paths, pattern, method, operation(r, NULL, NULL, pattern));
                continue;
            }
            if (!strstr(pattern, "{type}"))
                continue;
            for (j = 0; j < ntypes; j++) {
                const struct model_type *t = types[j];

                if (strstr(pattern, "{child}")) {
                    for (k = 0; k < t->nchildren; k++) {
                        char *AUTOFREE p = expand(pattern, t->name,
                                                  t->children[k].path);

                        add_op(paths, p, method,
                               operation(r, t->name, t->children[k].type, p));
                    }
                    continue;
                }
                {
                    char *AUTOFREE p = expand(pattern, t->name, NULL);

                    add_op(paths, p, method, operation(r, t->name, NULL, p));
                }
            }
        }
    }
    json_object_object_add(doc, "paths", paths);

    comp = json_object_new_object();
    json_object_object_add(comp, "schemas", json_object_get(schemas));
    {
        json_object *ss = json_object_new_object();
        json_object *basic = json_object_new_object();
        json_object *cookie = json_object_new_object();

        json_object_object_add(basic, "type", json_object_new_string("http"));
        json_object_object_add(basic, "scheme", json_object_new_string("basic"));
        json_object_object_add(cookie, "type", json_object_new_string("apiKey"));
        json_object_object_add(cookie, "in", json_object_new_string("cookie"));
        json_object_object_add(cookie, "name",
                               json_object_new_string(API_SESSION_COOKIE));
        json_object_object_add(ss, "basic", basic);
        json_object_object_add(ss, "session", cookie);
        json_object_object_add(comp, "securitySchemes", ss);
    }
    json_object_object_add(doc, "components", comp);
    api_reply(resp, doc);
    return 0;
}
