/*
 * db_row.c - generic rows of any registered type (see db.h, "generic
 * rows").
 *
 * DESIGN: a row is a flat JSON object of the `objects` columns and the
 * type table's columns. Column names come from the caller, so every name
 * is checked against the table's real columns (PRAGMA table_info, read
 * once per table and connection use) before it is spliced into SQL;
 * values are always bound. Reads (a row, ids by column) have one SQL text
 * per table and column and use the connection's statement cache
 * (db_stmt()), since the monitor's reconciliation reads a row per domain;
 * inserts and updates vary with the columns given and are prepared per
 * call.
 * Every function runs inside the caller's transaction (db_txn_*) or a
 * read transaction of its own (db_row_get, db_row_ids).
 */
#include <string.h>

#include <sqlite3.h>

#include "db/db.h"
#include "db/db_int.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/json.h"
#include "util/str.h"

/* The columns of the generic objects table, in table order. */
static const char *const obj_cols[] = {
    "id", "type", "name", "description", "generation", "locked",
    "read_only", "user_data", "created_ms", "modified_ms",
};
#define NOBJ_COLS (sizeof(obj_cols) / sizeof(obj_cols[0]))

/* The link tables db_txn_links_*() may touch, with their owner column. */
static const struct {
    const char *table;
    const char *owner;
} link_tables[] = {
    { "file_server_admins", "file_server_id" },
    { "file_server_refreshers", "file_server_id" },
    { "storage_array_admins", "storage_array_id" },
    { "access_group_elements", "access_group_id" },
    { "access_group_initiators", "access_group_id" },
};

/* True when @name is one of the objects columns. */
static bool
is_obj_col(const char *name)
{
    size_t i;

    for (i = 0; i < NOBJ_COLS; i++) {
        if (strcmp(obj_cols[i], name) == 0)
            return true;
    }
    return false;
}

/*
 * True when table @table has a column @name. Errors (a table SQLite does
 * not know) count as false. PRAGMA table_info() takes the table name as
 * an argument, so @table (from a type descriptor) is bound, not spliced.
 */
static bool
has_col(struct db_conn *c, const char *table, const char *name)
{
    sqlite3_stmt *st = db_stmt(c, "SELECT 1 FROM pragma_table_info(?1) "
                                  "WHERE name = ?2");
    bool found;

    if (!st) {
        err_clear();
        return false;
    }
    db_bind_text(st, 1, table);
    db_bind_text(st, 2, name);
    found = sqlite3_step(st) == SQLITE_ROW;
    db_stmt_release(st);
    return found;
}

/* Bind JSON value @v at @i: string, int (or bool), null. -1 with
 * ERR_INVALID for other kinds. */
static int
bind_json(sqlite3_stmt *st, int i, json_object *v, const char *col)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        sqlite3_bind_null(st, i);
        return 0;
    case json_type_string:
        sqlite3_bind_text(st, i, json_object_get_string(v), -1,
                          SQLITE_TRANSIENT);
        return 0;
    case json_type_int:
        sqlite3_bind_int64(st, i, json_object_get_int64(v));
        return 0;
    case json_type_boolean:
        sqlite3_bind_int64(st, i, json_object_get_boolean(v) ? 1 : 0);
        return 0;
    default:
        err_set(ERR_INVALID, "column '%s': a value must be a string, an "
                             "integer, a boolean or null", col);
        return -1;
    }
}

/* Column @i of the current row of @st as JSON (NULL for SQL NULL). */
static json_object *
col_json(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        return json_object_new_int64(sqlite3_column_int64(st, i));
    case SQLITE_NULL:
        return NULL;
    default:
        return json_object_new_string((const char *)
                                      sqlite3_column_text(st, i));
    }
}

/* Prepare @sql (not cached: it varies per call). NULL with ERR_DB. */
static sqlite3_stmt *
prepare(struct db_conn *c, const char *sql)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(c->h, sql, -1, &st, NULL) != SQLITE_OK) {
        db_err_set(c, "cannot prepare a row statement");
        return NULL;
    }
    return st;
}

/* Read object @id of @ty on @c (inside a transaction). */
static json_object *
row_get(struct db_conn *c, const struct model_type *ty, const char *id)
{
    char *AUTOFREE sql = xasprintf("SELECT * FROM objects o JOIN %s x "
                                   "ON x.id = o.id WHERE o.id = ?1 AND "
                                   "o.type = ?2", ty->table);
    /* Cached: one text per table (db_stmt() copies it). */
    sqlite3_stmt *st = db_stmt(c, sql);
    json_object *row = NULL;
    int i, n, rc;

    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, ty->name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        row = json_object_new_object();
        n = sqlite3_column_count(st);
        for (i = 0; i < n; i++) {
            const char *name = sqlite3_column_name(st, i);

            /* The type table's id repeats the objects id: keep the
             * first (by name, so a column added to objects later
             * cannot shift which one that is). */
            if (json_object_object_get_ex(row, name, NULL))
                continue;
            json_object_object_add(row, name, col_json(st, i));
        }
    } else if (rc == SQLITE_DONE) {
        err_set(ERR_NOT_FOUND, "%s '%s' not found", ty->name, id);
    } else {
        db_err_set(c, "cannot read %s '%s'", ty->name, id);
    }
    db_stmt_release(st);
    return row;
}

json_object *
db_txn_row_get(struct db_txn *t, const struct model_type *ty, const char *id)
{
    return row_get(db_txn_conn(t), ty, id);
}

json_object *
db_row_get(struct db *db, const struct model_type *ty, const char *id)
{
    struct db_conn *c = db_read_begin(db);
    json_object *row;

    if (!c)
        return NULL;
    row = row_get(c, ty, id);
    db_read_end(db);
    return row;
}

/*
 * Insert into @table the members of @row that are columns of it (@objects:
 * the objects table, whose columns are obj_cols; else the type table,
 * where "id" is taken and objects columns are skipped). Unknown members
 * are ERR_INVALID (checked on the type table pass).
 */
static int
insert_part(struct db_conn *c, const struct model_type *ty, json_object *row,
            bool objects)
{
    struct buf cols, vals;
    sqlite3_stmt *st = NULL;
    int n = 0, ret = -1;
    char *sql = NULL;

    buf_init(&cols, 0);
    buf_init(&vals, 0);
    json_object_object_foreach(row, key, val) {
        (void)val;
        if (objects ? !is_obj_col(key)
                    : (strcmp(key, "id") != 0 && is_obj_col(key)))
            continue;
        if (!objects && !has_col(c, ty->table, key)) {
            err_set(ERR_INVALID, "%s has no column '%s'", ty->name, key);
            goto cleanup;
        }
        buf_printf(&cols, "%s%s", n ? ", " : "", key);
        buf_printf(&vals, "%s?%d", n ? ", " : "", n + 1);
        n++;
    }
    sql = xasprintf("INSERT INTO %s (%s) VALUES (%s)",
                    objects ? "objects" : ty->table, cols.data,
                    vals.data);
    if (!(st = prepare(c, sql)))
        goto cleanup;
    n = 0;
    json_object_object_foreach(row, key2, val2) {
        if (objects ? !is_obj_col(key2)
                    : (strcmp(key2, "id") != 0 && is_obj_col(key2)))
            continue;
        if (bind_json(st, ++n, val2, key2) < 0)
            goto cleanup;
    }
    if (sqlite3_step(st) != SQLITE_DONE) {
        db_err_set(c, "cannot insert %s", ty->name);
        goto cleanup;
    }
    ret = 0;
 cleanup:
    if (st)
        sqlite3_finalize(st);
    xfree(sql);
    buf_release(&cols);
    buf_release(&vals);
    return ret;
}

int
db_txn_row_insert(struct db_txn *t, const struct model_type *ty,
                  json_object *row)
{
    struct db_conn *c = db_txn_conn(t);
    json_object *full;
    const char *id = NULL;
    int64_t now = time_now_ms();
    int ret;

    if (json_get_string(row, "id", &id) != 0 || !*id) {
        err_set(ERR_INVALID, "a %s row needs an id", ty->name);
        return -1;
    }
    /* Defaults for the objects columns, overridden by @row. */
    full = json_object_new_object();
    json_object_object_add(full, "name", json_object_new_string(""));
    json_object_object_add(full, "user_data", json_object_new_string("[]"));
    json_object_object_add(full, "created_ms", json_object_new_int64(now));
    json_object_object_add(full, "modified_ms", json_object_new_int64(now));
    json_object_object_foreach(row, key, val)
        json_object_object_add(full, key, json_object_get(val));
    json_object_object_add(full, "type", json_object_new_string(ty->name));
    ret = insert_part(c, ty, full, true);
    if (ret == 0)
        ret = insert_part(c, ty, full, false);
    json_object_put(full);
    return ret;
}

/* UPDATE @table SET the members of @cols that belong to it WHERE id. */
static int
update_part(struct db_conn *c, const struct model_type *ty, const char *id,
            json_object *cols, bool objects)
{
    struct buf set;
    sqlite3_stmt *st = NULL;
    int n = 0, ret = -1;
    char *sql = NULL;

    buf_init(&set, 0);
    json_object_object_foreach(cols, key, val) {
        (void)val;
        if (objects != is_obj_col(key))
            continue;
        buf_printf(&set, "%s%s = ?%d", n ? ", " : "", key, n + 2);
        n++;
    }
    if (n == 0) {
        ret = 0;
        goto cleanup;
    }
    sql = xasprintf("UPDATE %s SET %s WHERE id = ?1",
                    objects ? "objects" : ty->table, set.data);
    if (!(st = prepare(c, sql)))
        goto cleanup;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    n = 0;
    json_object_object_foreach(cols, key2, val2) {
        if (objects != is_obj_col(key2))
            continue;
        if (bind_json(st, (++n) + 1, val2, key2) < 0)
            goto cleanup;
    }
    if (sqlite3_step(st) != SQLITE_DONE) {
        db_err_set(c, "cannot update %s '%s'", ty->name, id);
        goto cleanup;
    }
    ret = 0;
 cleanup:
    if (st)
        sqlite3_finalize(st);
    xfree(sql);
    buf_release(&set);
    return ret;
}

/* The type of object @id, or -1 (ERR_NOT_FOUND unless it is @ty). */
static int
check_type(struct db_conn *c, const struct model_type *ty, const char *id)
{
    sqlite3_stmt *st = db_stmt(c, "SELECT type FROM objects WHERE id = ?1");
    int rc, ret = -1;

    if (!st)
        return -1;
    db_bind_text(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW &&
        strcmp((const char *)sqlite3_column_text(st, 0), ty->name) == 0)
        ret = 0;
    else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        err_set(ERR_NOT_FOUND, "%s '%s' not found", ty->name, id);
    else
        db_err_set(c, "cannot read object '%s'", id);
    db_stmt_release(st);
    return ret;
}

int
db_txn_row_update(struct db_txn *t, const struct model_type *ty,
                  const char *id, json_object *cols, bool bump)
{
    struct db_conn *c = db_txn_conn(t);

    if (check_type(c, ty, id) < 0)
        return -1;
    json_object_object_foreach(cols, key, val) {
        (void)val;
        if (strcmp(key, "id") == 0 || strcmp(key, "type") == 0) {
            err_set(ERR_INVALID, "the %s of %s '%s' cannot change", key,
                    ty->name, id);
            return -1;
        }
        if (!is_obj_col(key) && !has_col(c, ty->table, key)) {
            err_set(ERR_INVALID, "%s has no column '%s'", ty->name, key);
            return -1;
        }
    }
    if (update_part(c, ty, id, cols, true) < 0 ||
        update_part(c, ty, id, cols, false) < 0)
        return -1;
    /* The bump leaves alone what @cols set explicitly. */
    if (bump && !json_object_object_get_ex(cols, "generation", NULL) &&
        db_run(c, "UPDATE objects SET generation = generation + 1 "
                  "WHERE id = ?1", "t", id) != SQLITE_DONE)
        return db_err_set(c, "cannot update %s '%s'", ty->name, id);
    if (bump && !json_object_object_get_ex(cols, "modified_ms", NULL) &&
        db_run(c, "UPDATE objects SET modified_ms = ?2 WHERE id = ?1", "ti",
               id, time_now_ms()) != SQLITE_DONE)
        return db_err_set(c, "cannot update %s '%s'", ty->name, id);
    return 0;
}

int
db_txn_row_delete(struct db_txn *t, const struct model_type *ty,
                  const char *id)
{
    struct db_conn *c = db_txn_conn(t);

    if (check_type(c, ty, id) < 0)
        return -1;
    if (db_run(c, "DELETE FROM objects WHERE id = ?1", "t", id) !=
            SQLITE_DONE)
        return db_err_set(c, "cannot delete %s '%s'", ty->name, id);
    return 0;
}

int
db_txn_row_restore(struct db_txn *t, const struct model_type *ty,
                   json_object *row)
{
    struct db_conn *c = db_txn_conn(t);
    const char *id = NULL;
    json_object *cols;
    int ret;

    if (json_get_string(row, "id", &id) != 0) {
        err_set(ERR_INVALID, "a %s row needs an id", ty->name);
        return -1;
    }
    if (check_type(c, ty, id) < 0) {
        if (err_code() != ERR_NOT_FOUND)
            return -1;
        err_clear();
        return db_txn_row_insert(t, ty, row);
    }
    /*
     * In place (an UPDATE, so rows that reference it stay). `locked` is
     * the job engine's, not the object's: whoever holds the object now
     * keeps it marked, and the engine clears it when they release it.
     */
    cols = json_object_new_object();
    json_object_object_foreach(row, key, val) {
        if (strcmp(key, "id") != 0 && strcmp(key, "type") != 0 &&
            strcmp(key, "locked") != 0)
            json_object_object_add(cols, key, json_object_get(val));
    }
    ret = db_txn_row_update(t, ty, id, cols, false);
    json_object_put(cols);
    return ret;
}

void
db_ids_free(char **ids, size_t n)
{
    size_t i;

    if (!ids)
        return;
    for (i = 0; i < n; i++)
        xfree(ids[i]);
    xfree(ids);
}

/* Collect column 0 of every row of @st into *ids. */
static int
collect_ids(struct db_conn *c, sqlite3_stmt *st, char ***ids, size_t *n)
{
    char **v = NULL;
    size_t len = 0;
    int rc;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        v = xrealloc(v, (len + 1) * sizeof(*v));
        v[len++] = db_col_strdup(st, 0);
    }
    if (rc != SQLITE_DONE) {
        db_ids_free(v, len);
        return db_err_set(c, "cannot list ids");
    }
    *ids = v;
    *n = len;
    return 0;
}

static int
row_ids(struct db_conn *c, const struct model_type *ty, const char *column,
        const char *value, char ***ids, size_t *n)
{
    char *AUTOFREE sql = NULL;
    sqlite3_stmt *st;
    int ret;

    *ids = NULL;
    *n = 0;
    if (column && !has_col(c, ty->table, column)) {
        err_set(ERR_INVALID, "%s has no column '%s'", ty->name, column);
        return -1;
    }
    if (!column)
        sql = xasprintf("SELECT o.id FROM objects o JOIN %s x ON x.id = "
                        "o.id ORDER BY o.name, o.id", ty->table);
    else if (!value)
        sql = xasprintf("SELECT o.id FROM objects o JOIN %s x ON x.id = "
                        "o.id WHERE x.%s IS NULL ORDER BY o.name, o.id",
                        ty->table, column);
    else
        sql = xasprintf("SELECT o.id FROM objects o JOIN %s x ON x.id = "
                        "o.id WHERE x.%s = ?1 ORDER BY o.name, o.id",
                        ty->table, column);
    /* Cached: one text per table, column and NULL-ness. */
    if (!(st = db_stmt(c, sql)))
        return -1;
    if (column && value)
        sqlite3_bind_text(st, 1, value, -1, SQLITE_TRANSIENT);
    ret = collect_ids(c, st, ids, n);
    db_stmt_release(st);
    return ret;
}

int
db_txn_row_ids(struct db_txn *t, const struct model_type *ty,
               const char *column, const char *value, char ***ids, size_t *n)
{
    return row_ids(db_txn_conn(t), ty, column, value, ids, n);
}

int
db_row_ids(struct db *db, const struct model_type *ty, const char *column,
           const char *value, char ***ids, size_t *n)
{
    struct db_conn *c = db_read_begin(db);
    int ret;

    if (!c)
        return -1;
    ret = row_ids(c, ty, column, value, ids, n);
    db_read_end(db);
    return ret;
}

/* The owner column of link table @table, or NULL with ERR_INVALID. */
static const char *
link_owner(const char *table)
{
    size_t i;

    for (i = 0; i < sizeof(link_tables) / sizeof(link_tables[0]); i++) {
        if (strcmp(link_tables[i].table, table) == 0)
            return link_tables[i].owner;
    }
    err_set(ERR_INVALID, "'%s' is not a link table", table);
    return NULL;
}

static int
links_get(struct db_conn *c, const char *table, const char *owner_id,
          char ***ids, size_t *n)
{
    const char *owner = link_owner(table);
    char *AUTOFREE sql = NULL;
    sqlite3_stmt *st;
    int ret;

    *ids = NULL;
    *n = 0;
    if (!owner)
        return -1;
    sql = xasprintf("SELECT ref_id FROM %s WHERE %s = ?1 ORDER BY ref_id",
                    table, owner);
    if (!(st = prepare(c, sql)))
        return -1;
    sqlite3_bind_text(st, 1, owner_id, -1, SQLITE_TRANSIENT);
    ret = collect_ids(c, st, ids, n);
    sqlite3_finalize(st);
    return ret;
}

int
db_txn_links_get(struct db_txn *t, const char *table, const char *owner_id,
                 char ***ids, size_t *n)
{
    return links_get(db_txn_conn(t), table, owner_id, ids, n);
}

int
db_links_get(struct db *db, const char *table, const char *owner_id,
             char ***ids, size_t *n)
{
    struct db_conn *c = db_read_begin(db);
    int ret;

    if (!c)
        return -1;
    ret = links_get(c, table, owner_id, ids, n);
    db_read_end(db);
    return ret;
}

int
db_txn_links_set(struct db_txn *t, const char *table, const char *owner_id,
                 char *const *ids, size_t n)
{
    struct db_conn *c = db_txn_conn(t);
    const char *owner = link_owner(table);
    char *AUTOFREE del = NULL, *AUTOFREE ins = NULL;
    size_t i;

    if (!owner)
        return -1;
    del = xasprintf("DELETE FROM %s WHERE %s = ?1", table, owner);
    ins = xasprintf("INSERT OR IGNORE INTO %s (%s, ref_id) VALUES (?1, ?2)",
                    table, owner);
    if (db_run(c, del, "t", owner_id) != SQLITE_DONE)
        return db_err_set(c, "cannot update %s", table);
    for (i = 0; i < n; i++) {
        if (db_run(c, ins, "tt", owner_id, ids[i]) != SQLITE_DONE)
            return db_err_set(c, "cannot update %s with '%s'", table,
                              ids[i]);
    }
    return 0;
}
