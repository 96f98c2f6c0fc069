/*
 * db_manager.c - the one Manager row: its id, run state, name and version.
 *
 * DESIGN: the first migration creates the Manager (objects + manager
 * rows) with a random Oracle-style id, so there is always exactly one.
 * Changes go through the writer in one transaction that also bumps the
 * object's generation and modified_ms, like every object write.
 */
#include "db/db_int.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/str.h"

/* Bump generation and modified_ms of the Manager; ?1 = now. */
#define BUMP_MANAGER_SQL                                                      \
    "UPDATE objects SET generation = generation + 1, modified_ms = ?1 "      \
    "WHERE id IN (SELECT id FROM manager)"

char *
db_manager_id(struct db *db)
{
    struct db_conn *c;
    sqlite3_stmt *st = NULL;
    char *id = NULL;
    int rc;

    c = db_read_begin(db);
    if (!c)
        return NULL;
    st = db_stmt(c, "SELECT id FROM manager ORDER BY id LIMIT 1");
    if (!st)
        goto cleanup;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        id = db_col_strdup(st, 0);
    else if (rc == SQLITE_DONE)
        err_set(ERR_NOT_FOUND, "Manager not found in database '%s'",
                db->path);
    else
        db_err_set(c, "cannot read the Manager id");

 cleanup:
    db_stmt_release(st);
    db_read_end(db);
    return id;
}

/* Run the one-statement update @sql binding ?1 = @value, then bump. */
static int
manager_update(struct db *db, const char *sql, const char *value,
               const char *what)
{
    struct db_conn *c;

    if (!value) {
        err_set(ERR_INVALID, "the Manager %s must be set", what);
        return -1;
    }
    c = db_write_begin(db);
    if (!c)
        return -1;
    if (db_run(c, sql, "t", value) != SQLITE_DONE) {
        db_err_set(c, "cannot set the Manager %s to '%s'", what, value);
        goto fail;
    }
    if (sqlite3_changes(c->h) == 0) {
        err_set(ERR_NOT_FOUND, "Manager not found in database '%s'",
                db->path);
        goto fail;
    }
    if (db_run(c, BUMP_MANAGER_SQL, "i", time_now_ms()) != SQLITE_DONE) {
        db_err_set(c, "cannot set the Manager %s to '%s'", what, value);
        goto fail;
    }
    return db_write_commit(db);

 fail:
    db_write_rollback(db);
    return -1;
}

int
db_manager_set_state(struct db *db, const char *state)
{
    /* The CHECK constraint refuses unknown states (ERR_INVALID). */
    return manager_update(db, "UPDATE manager SET run_state = ?1", state,
                          "run state");
}

int
db_manager_set_info(struct db *db, const char *name, const char *version)
{
    /* Both in one transaction: no reader sees a new name, old version. */
    struct db_conn *c;

    if (!name || !version) {
        err_set(ERR_INVALID, "the Manager name and version must be set");
        return -1;
    }
    c = db_write_begin(db);
    if (!c)
        return -1;
    if (db_run(c, "UPDATE manager SET manager_version = ?1", "t",
               version) != SQLITE_DONE) {
        db_err_set(c, "cannot set the Manager version to '%s'", version);
        goto fail;
    }
    if (db_run(c, "UPDATE objects SET name = ?2, "
                  "generation = generation + 1, modified_ms = ?1 "
                  "WHERE id IN (SELECT id FROM manager)",
               "it", time_now_ms(), name) != SQLITE_DONE) {
        db_err_set(c, "cannot set the Manager name to '%s'", name);
        goto fail;
    }
    if (sqlite3_changes(c->h) == 0) {
        err_set(ERR_NOT_FOUND, "Manager not found in database '%s'",
                db->path);
        goto fail;
    }
    return db_write_commit(db);

 fail:
    db_write_rollback(db);
    return -1;
}
