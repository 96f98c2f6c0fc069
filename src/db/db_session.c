/*
 * db_session.c - browser sessions: create, look up, touch, delete, purge.
 *
 * DESIGN: sessions are not objects (no objects row, no generation); a
 * session row belongs to a user and goes with it (ON DELETE CASCADE).
 * Only the hash of the cookie token is stored. Writes use the writer in
 * a transaction like everything else; a touch on every request is one
 * small commit (synchronous=NORMAL: tens of microseconds).
 */
#include "db/db_int.h"
#include "util/alloc.h"
#include "util/err.h"

void
db_session_free(struct db_session *s)
{
    if (!s)
        return;
    xfree(s->token_hash);
    xfree(s->user_id);
    xfree(s->csrf_token);
    xfree(s);
}

int
db_session_create(struct db *db, const struct db_session *s)
{
    struct db_conn *c;

    if (!s->token_hash || !s->user_id || !s->csrf_token) {
        err_set(ERR_INVALID, "cannot create session: token, user and CSRF "
                             "token are required");
        return -1;
    }
    c = db_write_begin(db);
    if (!c)
        return -1;
    if (db_run(c, "INSERT INTO sessions (token_hash, user_id, csrf_token, "
                  "created_ms, last_seen_ms, expires_ms) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
               "tttiii", s->token_hash, s->user_id, s->csrf_token,
               s->created_ms, s->last_seen_ms, s->expires_ms) !=
        SQLITE_DONE) {
        /* The user may have been deleted since the password check. */
        if (sqlite3_extended_errcode(c->h) == SQLITE_CONSTRAINT_FOREIGNKEY)
            err_set(ERR_NOT_FOUND, "User '%s' not found", s->user_id);
        else
            db_err_set(c, "cannot create a session for User '%s'",
                       s->user_id);
        goto fail;
    }
    return db_write_commit(db);

 fail:
    db_write_rollback(db);
    return -1;
}

struct db_session *
db_session_get(struct db *db, const char *token_hash)
{
    struct db_conn *c;
    sqlite3_stmt *st = NULL;
    struct db_session *s = NULL;
    int rc;

    if (!token_hash) {
        err_set(ERR_NOT_FOUND, "session not found");
        return NULL;
    }
    c = db_read_begin(db);
    if (!c)
        return NULL;
    st = db_stmt(c, "SELECT token_hash, user_id, csrf_token, created_ms, "
                    "last_seen_ms, expires_ms FROM sessions "
                    "WHERE token_hash = ?1");
    if (!st)
        goto cleanup;
    rc = db_bind_text(st, 1, token_hash);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        /* Never echo the token hash: it is a credential's fingerprint. */
        err_set(ERR_NOT_FOUND, "session not found");
        goto cleanup;
    }
    if (rc != SQLITE_ROW) {
        db_err_set(c, "cannot read a session");
        goto cleanup;
    }
    s = xcalloc(1, sizeof(*s));
    s->token_hash = db_col_strdup(st, 0);
    s->user_id = db_col_strdup(st, 1);
    s->csrf_token = db_col_strdup(st, 2);
    s->created_ms = sqlite3_column_int64(st, 3);
    s->last_seen_ms = sqlite3_column_int64(st, 4);
    s->expires_ms = sqlite3_column_int64(st, 5);

 cleanup:
    db_stmt_release(st);
    db_read_end(db);
    return s;
}

int
db_session_touch(struct db *db, const char *token_hash, int64_t now_ms)
{
    struct db_conn *c;

    c = db_write_begin(db);
    if (!c)
        return -1;
    if (db_run(c, "UPDATE sessions SET last_seen_ms = ?2 "
                  "WHERE token_hash = ?1",
               "ti", token_hash, now_ms) != SQLITE_DONE) {
        db_err_set(c, "cannot update a session");
        goto fail;
    }
    if (sqlite3_changes(c->h) == 0) {
        err_set(ERR_NOT_FOUND, "session not found");
        goto fail;
    }
    return db_write_commit(db);

 fail:
    db_write_rollback(db);
    return -1;
}

/* Run the DELETE @sql with ?1 = @arg in a writer transaction; @what
 * names the rows for messages. */
static int
session_delete(struct db *db, const char *sql, const char *what,
               const char *arg)
{
    struct db_conn *c;

    c = db_write_begin(db);
    if (!c)
        return -1;
    if (db_run(c, sql, "t", arg) != SQLITE_DONE) {
        db_err_set(c, "cannot delete %s", what);
        db_write_rollback(db);
        return -1;
    }
    return db_write_commit(db);
}

int
db_session_delete(struct db *db, const char *token_hash)
{
    return session_delete(db, "DELETE FROM sessions WHERE token_hash = ?1",
                          "a session", token_hash);
}

int
db_session_delete_user(struct db *db, const char *user_id)
{
    return session_delete(db, "DELETE FROM sessions WHERE user_id = ?1",
                          "the sessions of a user", user_id);
}

int
db_session_purge(struct db *db, int64_t now_ms, int64_t idle_ms)
{
    struct db_conn *c;

    c = db_write_begin(db);
    if (!c)
        return -1;
    /* idle_ms <= 0 means no idle limit; expires_ms always applies. */
    if (db_run(c, "DELETE FROM sessions WHERE expires_ms <= ?1 OR "
                  "(?2 > 0 AND last_seen_ms < ?1 - ?2)",
               "ii", now_ms, idle_ms) != SQLITE_DONE) {
        db_err_set(c, "cannot purge sessions");
        goto fail;
    }
    return db_write_commit(db);

 fail:
    db_write_rollback(db);
    return -1;
}
