/*
 * db_object.c - generic reads of any model type: one object, a page of
 * objects, a page of SimpleId refs.
 *
 * DESIGN: a `struct model_type` names the type's table and the column of
 * every field, so one query shape reads every type:
 *
 *   SELECT o.<common columns>, t.<field column>..., rN.name (MF_REF)...
 *   FROM objects o JOIN <table> t ON t.id = o.id
 *   LEFT JOIN objects rN ON rN.id = t.<ref column>       (per MF_REF)
 *   WHERE o.type = ?1 [AND <filter> = ?2]
 *   ORDER BY o.name, o.id LIMIT ?3 OFFSET ?4
 *
 * The texts are built once per descriptor (at open for the registered
 * types, on first use for any other) and kept in db->tsql; descriptors
 * are static data, so formatting their identifiers is safe, and every
 * value is bound. A filter column supplied by a caller is only compared
 * against the descriptor's column names; the descriptor's own string is
 * what reaches the SQL. `o.type = ?1` lets the (type, name, id) index
 * return rows already in page order. MF_REFLIST members take one more
 * query per object. All reads of one call run in one read transaction on
 * the reader connection, so a page, its total and its ref lists agree.
 */
#include <assert.h>
#include <string.h>

#include "db/db_int.h"
#include "model/model.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/str.h"

/* The common columns, in the order row_to_obj() reads them. */
#define COMMON_COLS                                                           \
    "o.id, o.name, o.description, o.generation, o.locked, o.read_only, "    \
    "o.user_data, o.created_ms, o.modified_ms, "                             \
    "(SELECT max(e.severity) FROM events e WHERE e.object_id = o.id "        \
    "AND e.acknowledged = 0 AND e.severity >= 1)"
#define NCOMMON 10

/* Filter slots of struct db_type_sql (see db_int.h). */
#define SLOT_NONE 0
#define SLOT_ID 1
#define SLOT_FIELD(i) (2 + (i))

/* True when a field of kind @k has a column a caller may filter on. */
static bool
kind_filterable(enum model_field_kind k)
{
    return k == MF_STRING || k == MF_INT || k == MF_REF;
}

/* True when a field of kind @k is stored in a column of its own. */
static bool
kind_has_column(enum model_field_kind k)
{
    return k != MF_REFLIST && k != MF_NOW_MS;
}

/* The WHERE clause for filter slot @slot of @t (a new string). */
static char *
where_sql(const struct model_type *t, size_t slot)
{
    if (slot == SLOT_NONE)
        return xstrdup(" WHERE o.type = ?1");
    if (slot == SLOT_ID)
        return xstrdup(" WHERE o.type = ?1 AND o.id = ?2");
    return xasprintf(" WHERE o.type = ?1 AND t.%s = ?2",
                     t->fields[slot - 2].column);
}

/* Build every SQL text for @t into @q. */
static void
type_sql_build(struct db_type_sql *q, const struct model_type *t)
{
    const struct model_type *rt;
    struct buf cols, from;
    char *AUTOFREE cols_sql = NULL;
    char *AUTOFREE from_sql = NULL;
    char *AUTOFREE base_from = NULL;
    size_t i, nslots = 2 + t->nfields;

    buf_init(&cols, 0);
    buf_init(&from, 0);
    buf_puts(&cols, COMMON_COLS);
    buf_printf(&from, "FROM objects o JOIN %s t ON t.id = o.id", t->table);
    for (i = 0; i < t->nfields; i++) {
        const struct model_field *f = &t->fields[i];

        if (!kind_has_column(f->kind))
            continue;
        buf_printf(&cols, ", t.%s", f->column);
        if (f->kind == MF_REF) {
            buf_printf(&cols, ", r%zu.name", i);
            buf_printf(&from, " LEFT JOIN objects r%zu ON r%zu.id = t.%s",
                       i, i, f->column);
        }
    }
    cols_sql = buf_steal(&cols);
    from_sql = buf_steal(&from);
    buf_release(&cols);
    buf_release(&from);
    base_from = xasprintf("FROM objects o JOIN %s t ON t.id = o.id",
                          t->table);

    q->type = t;
    q->get = xasprintf("SELECT %s %s WHERE o.id = ?1", cols_sql, from_sql);
    q->list = xcalloc(nslots, sizeof(char *));
    q->count = xcalloc(nslots, sizeof(char *));
    q->refs = xcalloc(nslots, sizeof(char *));
    for (i = 0; i < nslots; i++) {
        char *AUTOFREE where = NULL;

        if (i >= SLOT_FIELD(0) && !kind_filterable(t->fields[i - 2].kind))
            continue;
        where = where_sql(t, i);
        q->list[i] = xasprintf("SELECT %s %s%s ORDER BY o.name, o.id "
                               "LIMIT ?3 OFFSET ?4", cols_sql, from_sql,
                               where);
        q->count[i] = xasprintf("SELECT COUNT(*) %s%s", base_from, where);
        q->refs[i] = xasprintf("SELECT o.id, o.name %s%s ORDER BY o.name, "
                               "o.id LIMIT ?3 OFFSET ?4", base_from, where);
    }
    q->reflist = xcalloc(t->nfields ? t->nfields : 1, sizeof(char *));
    for (i = 0; i < t->nfields; i++) {
        const struct model_field *f = &t->fields[i];

        if (f->kind != MF_REFLIST)
            continue;
        /* An unknown ref_type stays NULL and fails at query time. */
        rt = model_type_find(f->ref_type);
        if (!rt || !f->ref_column)
            continue;
        if (f->column && strchr(f->column, ':')) {
            /* Through a link table "<table>:<col>" (model.h). */
            size_t tl = (size_t)(strchr(f->column, ':') - f->column);

            q->reflist[i] = xasprintf("SELECT o.id, o.name FROM objects o "
                                      "JOIN %.*s x ON x.%s = o.id "
                                      "WHERE x.%s = ?1 "
                                      "ORDER BY o.name, o.id",
                                      (int)tl, f->column,
                                      f->column + tl + 1, f->ref_column);
            continue;
        }
        q->reflist[i] = xasprintf("SELECT o.id, o.name FROM objects o "
                                  "JOIN %s x ON x.id = o.id "
                                  "WHERE x.%s = ?1 ORDER BY o.name, o.id",
                                  rt->table, f->ref_column);
    }
}

/* Build the SQL texts of @t and add them to db->tsql. Call with ->rlock
 * held (or before the handle is shared). */
static const struct db_type_sql *
type_sql_add(struct db *db, const struct model_type *t)
{
    struct db_type_sql *q = xcalloc(1, sizeof(*q));

    type_sql_build(q, t);
    db->tsql = xrealloc(db->tsql, (db->ntsql + 1) * sizeof(*db->tsql));
    db->tsql[db->ntsql++] = q;
    return q;
}

void
db_object_sql_init(struct db *db)
{
    const struct model_type *const *types;
    size_t n, i;

    types = model_types(&n);
    for (i = 0; i < n; i++)
        type_sql_add(db, types[i]);
}

void
db_object_sql_release(struct db *db)
{
    size_t i, j, nslots;

    for (i = 0; i < db->ntsql; i++) {
        struct db_type_sql *q = db->tsql[i];

        nslots = 2 + q->type->nfields;
        for (j = 0; j < nslots; j++) {
            xfree(q->list[j]);
            xfree(q->count[j]);
            xfree(q->refs[j]);
        }
        for (j = 0; j < q->type->nfields; j++)
            xfree(q->reflist[j]);
        xfree(q->get);
        xfree(q->list);
        xfree(q->count);
        xfree(q->refs);
        xfree(q->reflist);
        xfree(q);
    }
    xfree(db->tsql);
    db->tsql = NULL;
    db->ntsql = 0;
}

/*
 * The SQL texts for @t. Registered types were built at open; any other
 * descriptor (a type being developed, a test's) is built now and kept
 * until db_close(). Call with ->rlock held.
 */
static const struct db_type_sql *
type_sql(struct db *db, const struct model_type *t)
{
    size_t i;

    for (i = 0; i < db->ntsql; i++) {
        if (db->tsql[i]->type == t)
            return db->tsql[i];
    }
    return type_sql_add(db, t);
}

/*
 * The filter slot for @column of @t: SLOT_NONE for NULL, SLOT_ID for
 * "id", SLOT_FIELD(i) for the column of a filterable field i. Anything
 * else is a caller bug: -1 with ERR_INTERNAL.
 */
static int
filter_slot(const struct model_type *t, const char *column)
{
    size_t i;

    if (!column)
        return SLOT_NONE;
    if (strcmp(column, "id") == 0)
        return SLOT_ID;
    for (i = 0; i < t->nfields; i++) {
        const struct model_field *f = &t->fields[i];

        if (kind_filterable(f->kind) && f->column &&
            strcmp(f->column, column) == 0)
            return (int)SLOT_FIELD(i);
    }
    err_set(ERR_INTERNAL, "cannot filter %s objects by '%s': no such column",
            t->name, column);
    return -1;
}

/* Column @i of the current row as a model value (MF_REF name aside). */
static void
col_val(sqlite3_stmt *st, int i, struct model_val *v)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL:
        v->kind = MV_NULL;
        break;
    case SQLITE_INTEGER:
    case SQLITE_FLOAT:
        v->kind = MV_INT;
        v->i = sqlite3_column_int64(st, i);
        break;
    default:
        v->kind = MV_TEXT;
        v->s = db_col_strdup(st, i);
        break;
    }
}

/* The current row of a `get`/`list` statement as a new object of @t. */
static struct model_obj *
row_to_obj(const struct model_type *t, sqlite3_stmt *st)
{
    struct model_obj *o = xcalloc(1, sizeof(*o));
    int c = NCOMMON;
    size_t i;

    o->type = t;
    o->id = db_col_strdup(st, 0);
    o->name = db_col_strdup(st, 1);
    o->description = db_col_strdup(st, 2);
    o->generation = sqlite3_column_int64(st, 3);
    o->locked = sqlite3_column_int64(st, 4) != 0;
    o->read_only = sqlite3_column_int64(st, 5) != 0;
    o->user_data = db_col_strdup(st, 6);
    o->created_ms = sqlite3_column_int64(st, 7);
    o->modified_ms = sqlite3_column_int64(st, 8);
    o->event_severity = sqlite3_column_type(st, 9) == SQLITE_NULL
                            ? -1 : (int)sqlite3_column_int64(st, 9);
    o->vals = xcalloc(t->nfields ? t->nfields : 1, sizeof(*o->vals));
    for (i = 0; i < t->nfields; i++) {
        const struct model_field *f = &t->fields[i];
        struct model_val *v = &o->vals[i];

        if (f->kind == MF_REFLIST) {
            v->kind = MV_REFS;  /* filled by fill_reflists() */
            continue;
        }
        if (f->kind == MF_NOW_MS) {
            v->kind = MV_NULL;  /* model/ renders the current time */
            continue;
        }
        col_val(st, c++, v);
        if (f->kind == MF_REF) {
            if (v->kind == MV_TEXT)
                v->ref_name = db_col_strdup(st, c);
            c++;
        }
    }
    return o;
}

/* Step @st to the end, collecting (id, name) rows into *out / *n. */
static int
collect_refs(struct db_conn *c, sqlite3_stmt *st, const char *what,
             struct model_ref **out, size_t *n)
{
    struct model_ref *v = NULL;
    size_t len = 0, cap = 0;
    int rc;

    for (;;) {
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
            break;
        if (len == cap) {
            cap = cap ? 2 * cap : 8;
            v = xrealloc(v, cap * sizeof(*v));
        }
        v[len].id = db_col_strdup(st, 0);
        v[len].name = db_col_strdup(st, 1);
        len++;
    }
    if (rc != SQLITE_DONE) {
        db_err_set(c, "cannot read %s", what);
        model_refs_free(v, len);
        return -1;
    }
    *out = v;
    *n = len;
    return 0;
}

/* Fill the MF_REFLIST values of @o (read in the caller's transaction). */
static int
fill_reflists(struct db_conn *c, const struct db_type_sql *q,
              struct model_obj *o)
{
    const struct model_type *t = q->type;
    sqlite3_stmt *st;
    size_t i;
    int ret;

    for (i = 0; i < t->nfields; i++) {
        const struct model_field *f = &t->fields[i];

        if (f->kind != MF_REFLIST)
            continue;
        if (!q->reflist[i]) {
            err_set(ERR_INTERNAL, "field '%s' of %s refers to unknown type "
                                  "'%s'", f->json, t->name,
                    f->ref_type ? f->ref_type : "");
            return -1;
        }
        st = db_stmt(c, q->reflist[i]);
        if (!st)
            return -1;
        if (db_bind_text(st, 1, o->id) != SQLITE_OK) {
            db_err_set(c, "cannot read '%s' of %s '%s'", f->json, t->name,
                       o->id);
            db_stmt_release(st);
            return -1;
        }
        ret = collect_refs(c, st, f->json, &o->vals[i].refs,
                           &o->vals[i].nrefs);
        db_stmt_release(st);
        if (ret < 0)
            return -1;
    }
    return 0;
}

struct model_obj *
db_object_get(struct db *db, const struct model_type *t, const char *id)
{
    const struct db_type_sql *q;
    struct db_conn *c;
    sqlite3_stmt *st = NULL;
    struct model_obj *o = NULL;
    int rc;

    assert(id);
    c = db_read_begin(db);
    if (!c)
        return NULL;
    q = type_sql(db, t);
    st = db_stmt(c, q->get);
    if (!st)
        goto cleanup;
    if (db_bind_text(st, 1, id) != SQLITE_OK) {
        db_err_set(c, "cannot read %s '%s'", t->name, id);
        goto cleanup;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        err_set(ERR_NOT_FOUND, "%s '%s' not found", t->name, id);
        goto cleanup;
    }
    if (rc != SQLITE_ROW) {
        db_err_set(c, "cannot read %s '%s'", t->name, id);
        goto cleanup;
    }
    o = row_to_obj(t, st);
    if (fill_reflists(c, q, o) < 0) {
        model_obj_free(o);
        o = NULL;
    }

 cleanup:
    db_stmt_release(st);
    db_read_end(db);
    return o;
}

/* Bind the filter value of @slot to ?2 of @st (nothing for SLOT_NONE). */
static int
bind_filter(sqlite3_stmt *st, int slot, const char *value)
{
    if (slot == SLOT_NONE)
        return SQLITE_OK;
    return db_bind_text(st, 2, value);
}

/* COUNT(*) of @t's objects matching @slot/@value into *total. */
static int
count_objects(struct db_conn *c, const struct db_type_sql *q, int slot,
              const char *value, int64_t *total)
{
    sqlite3_stmt *st = db_stmt(c, q->count[slot]);
    int ret = -1;

    if (!st)
        return -1;
    if (sqlite3_bind_text(st, 1, q->type->name, -1, SQLITE_STATIC) !=
            SQLITE_OK ||
        bind_filter(st, slot, value) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        db_err_set(c, "cannot count %s objects", q->type->name);
        goto cleanup;
    }
    *total = sqlite3_column_int64(st, 0);
    ret = 0;

 cleanup:
    db_stmt_release(st);
    return ret;
}

/*
 * The shared body of db_object_list() (@objs != NULL: full rows) and
 * db_object_refs() (@refs != NULL: id and name only).
 */
static int
object_page(struct db *db, const struct model_type *t, const char *column,
            const char *value, int64_t limit, int64_t offset,
            struct model_obj ***objs, struct model_ref **refs, size_t *n,
            int64_t *total)
{
    const struct db_type_sql *q;
    struct db_conn *c;
    sqlite3_stmt *st = NULL;
    struct model_obj **v = NULL;
    size_t len = 0, cap = 0;
    int slot, rc, ret = -1;

    slot = filter_slot(t, column);
    if (slot < 0)
        return -1;
    if (slot != SLOT_NONE && !value) {
        err_set(ERR_INTERNAL, "cannot filter %s objects by '%s': no value",
                t->name, column);
        return -1;
    }
    /* SQLite reads a negative LIMIT as "no limit". */
    if (limit < 0)
        limit = -1;
    if (offset < 0)
        offset = 0;

    c = db_read_begin(db);
    if (!c)
        return -1;
    q = type_sql(db, t);
    if (total && count_objects(c, q, slot, value, total) < 0)
        goto cleanup;
    st = db_stmt(c, objs ? q->list[slot] : q->refs[slot]);
    if (!st)
        goto cleanup;
    if (sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC) != SQLITE_OK ||
        bind_filter(st, slot, value) != SQLITE_OK ||
        sqlite3_bind_int64(st, 3, limit) != SQLITE_OK ||
        sqlite3_bind_int64(st, 4, offset) != SQLITE_OK) {
        db_err_set(c, "cannot list %s objects", t->name);
        goto cleanup;
    }
    if (refs) {
        ret = collect_refs(c, st, t->name, refs, n);
        goto cleanup;
    }
    for (;;) {
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
            break;
        if (len == cap) {
            cap = cap ? 2 * cap : 16;
            v = xrealloc(v, cap * sizeof(*v));
        }
        v[len] = row_to_obj(t, st);
        if (fill_reflists(c, q, v[len]) < 0) {
            model_obj_free(v[len]);
            goto cleanup;
        }
        len++;
    }
    if (rc != SQLITE_DONE) {
        db_err_set(c, "cannot list %s objects", t->name);
        goto cleanup;
    }
    *objs = steal_ptr(&v);
    *n = len;
    ret = 0;

 cleanup:
    model_objs_free(v, len);
    db_stmt_release(st);
    db_read_end(db);
    return ret;
}

int
db_object_list(struct db *db, const struct model_type *t, const char *column,
               const char *value, int64_t limit, int64_t offset,
               struct model_obj ***out, size_t *n, int64_t *total)
{
    return object_page(db, t, column, value, limit, offset, out, NULL, n,
                       total);
}

int
db_object_refs(struct db *db, const struct model_type *t, const char *column,
               const char *value, int64_t limit, int64_t offset,
               struct model_ref **out, size_t *n, int64_t *total)
{
    return object_page(db, t, column, value, limit, offset, NULL, out, n,
                       total);
}

/* ---- the common, user-editable part inside a transaction ---- */

void
db_common_clear(struct db_common *c)
{
    if (!c)
        return;
    xfree(c->name);
    xfree(c->description);
    xfree(c->user_data);
    xfree(c->type);
    memset(c, 0, sizeof(*c));
}

int
db_txn_object_common(struct db_txn *t, const char *id, struct db_common *out)
{
    struct db_conn *c = db_txn_conn(t);
    sqlite3_stmt *st = db_stmt(c, "SELECT name, description, user_data, "
                                  "generation, type FROM objects "
                                  "WHERE id = ?1");
    int rc, ret = -1;

    memset(out, 0, sizeof(*out));
    if (!st)
        return -1;
    db_bind_text(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->name = db_col_strdup(st, 0);
        out->description = db_col_strdup(st, 1);
        out->user_data = db_col_strdup(st, 2);
        out->generation = sqlite3_column_int64(st, 3);
        out->type = db_col_strdup(st, 4);
        ret = 0;
    } else if (rc == SQLITE_DONE) {
        err_set(ERR_NOT_FOUND, "object '%s' not found", id);
    } else {
        db_err_set(c, "cannot read object '%s'", id);
    }
    db_stmt_release(st);
    return ret;
}

int
db_txn_object_set_common(struct db_txn *t, const char *id, const char *name,
                         const char *description, const char *user_data,
                         int64_t generation)
{
    struct db_conn *c = db_txn_conn(t);
    int rc;

    rc = db_run(c, "UPDATE objects SET name = coalesce(?2, name), "
                   "description = coalesce(?3, description), "
                   "user_data = coalesce(?4, user_data), "
                   "generation = CASE WHEN ?5 < 0 THEN generation + 1 "
                   "ELSE ?5 END, modified_ms = ?6 WHERE id = ?1",
                "ttttii", id, name, description, user_data, generation,
                time_now_ms());
    if (rc != SQLITE_DONE)
        return db_err_set(c, "cannot change object '%s'", id);
    if (sqlite3_changes(c->h) == 0) {
        err_set(ERR_NOT_FOUND, "object '%s' not found", id);
        return -1;
    }
    return 0;
}
