/*
 * model.h - the object model as data: types, fields, rows, rendering.
 *
 * DESIGN: every managed object lives in the generic `objects` table (id,
 * type, name, description, generation, locked, read_only, user_data,
 * created_ms, modified_ms) plus one row in its type's own table holding
 * its own columns. A `struct model_type` says which columns exist and how
 * each becomes a JSON member, so db/ can read any type with one generic
 * query and api/ can render any type with one generic function. Adding a
 * type is a migration plus a descriptor here; no new read code.
 *
 * Descriptors are immutable static data: thread-safe. model/ does no I/O
 * and takes no locks.
 */
#ifndef OVMM_MODEL_H
#define OVMM_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/autoptr.h"
#include "util/json.h"

/* The Java package Oracle VM clients expect in SimpleId "type". */
#define MODEL_WS_PACKAGE "com.oracle.ovm.mgr.ws.model."

enum model_field_kind {
    MF_STRING,  /* TEXT column -> JSON string (NULL -> null) */
    MF_INT,     /* INTEGER column -> JSON number (NULL -> null) */
    MF_BOOL,    /* INTEGER 0/1 column -> true/false */
    MF_REF,     /* TEXT column holding an id -> SimpleId of ref_type, or null */
    MF_REFLIST, /* no column: SimpleIds of the ref_type objects whose
                   ref_column equals this object's id, ordered by name.
                   With `column` set to "<table>:<col>", through that
                   table instead: the objects whose id is <col> of the
                   rows of <table> whose ref_column is this object's id
                   (link tables, e.g. "file_server_admins:ref_id" with
                   ref_column "file_server_id") */
    MF_JSON,    /* TEXT column holding JSON -> embedded as is */
    MF_NOW_MS,  /* no column: the current time, ms since the epoch */
};

struct model_field {
    const char *json;       /* member name, e.g. "managerRunState" */
    enum model_field_kind kind;
    const char *column;     /* column in the type's table; NULL for
                               MF_NOW_MS and plain MF_REFLIST (see
                               there for the link-table form) */
    const char *ref_type;   /* MF_REF, MF_REFLIST: referenced type name */
    const char *ref_column; /* MF_REFLIST: column of ref_type's table */
};

/* A child collection: GET /<Type>/{id}/<path>. */
struct model_child {
    const char *path;   /* path segment, e.g. "Server" */
    const char *type;   /* child type name */
    const char *column; /* column of the child's table equal to the parent id */
};

struct model_type {
    const char *name;  /* "Manager": REST path segment, SimpleId type suffix */
    const char *code;  /* 4 hex digits placed in generated ids ("0001") */
    const char *table; /* the type's own table (first column `id`) */
    const struct model_field *fields;
    size_t nfields;
    const struct model_child *children;
    size_t nchildren;
    bool strict_name;  /* names: letters, digits, '_' and '-', <= 200 chars */
    bool extension;    /* not an Oracle VM type (marked in openapi.json) */
};

/* The registered type named @name (case-sensitive), or NULL. */
const struct model_type *model_type_find(const char *name);
/* All registered types, in a stable order; *n receives the count. */
const struct model_type *const *model_types(size_t *n);
/* Index of the field named @json in @t, or -1. */
int model_field_index(const struct model_type *t, const char *json);

/*
 * A new id for an object of type @t, Oracle-style: "0004fb00" + code +
 * "0000" + 16 random hex digits (32 hex digits). Caller frees.
 */
char *model_id_new(const struct model_type *t);
/* 0 when @name is acceptable for @t, else -1 with ERR_INVALID. */
int model_name_check(const struct model_type *t, const char *name);
/*
 * 0 when @ud is an Oracle userData array: [{"key": str, "value": str}],
 * at most 64 entries, keys unique and <= 256 chars, values <= 4096 chars.
 * Else -1 with ERR_INVALID naming the problem.
 */
int model_user_data_check(json_object *ud);

/* One value of a row, as db/ read it. */
enum model_val_kind { MV_NULL, MV_INT, MV_TEXT, MV_REFS };

struct model_ref {
    char *id;
    char *name;
};

struct model_val {
    enum model_val_kind kind;
    int64_t i;              /* MV_INT */
    char *s;                /* MV_TEXT */
    char *ref_name;         /* MF_REF with MV_TEXT: the referenced object's
                               name, NULL when it does not exist */
    struct model_ref *refs; /* MV_REFS (MF_REFLIST) */
    size_t nrefs;
};

/* An object read from the database. Owned by whoever holds the pointer. */
struct model_obj {
    const struct model_type *type;
    char *id;
    char *name;
    char *description;
    int64_t generation;
    int64_t created_ms;
    int64_t modified_ms;
    bool locked;
    bool read_only;
    char *user_data;        /* JSON array text, "[]" when empty */
    int event_severity;     /* worst unacknowledged WARNING-or-worse event:
                               1 WARNING .. 3 CRITICAL; -1 none */
    struct model_val *vals; /* type->nfields entries, in field order */
};

/* Free @o and everything it owns; accepts NULL. */
void model_obj_free(struct model_obj *o);
/* Free @n objects and the array; accepts NULL. */
void model_objs_free(struct model_obj **v, size_t n);
/* Free @n refs and the array; accepts NULL. */
void model_refs_free(struct model_ref *v, size_t n);
DEFINE_AUTOPTR(model_obj, model_obj_free)

/*
 * A SimpleId {"type", "value", "uri", "name"} for an object of type
 * @type_name. @base is the absolute REST base ("https://h:7002/ovm/core/
 * wsapi/rest"). @name may be NULL (rendered as null). New reference.
 */
json_object *model_simpleid(const char *type_name, const char *id,
                            const char *name, const char *base);
/*
 * The full JSON object for @o: common fields in Oracle's order (id, name,
 * description, locked, readOnly, generation, userData, resourceGroupIds)
 * then the type's fields, then the extension member eventSeverity (the
 * worst unacknowledged event's severity name, or null). New reference.
 */
json_object *model_obj_to_json(const struct model_obj *o, const char *base);

#endif
