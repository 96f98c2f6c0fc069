/*
 * db_user.c - users: create, look up, password, administrator lock,
 * log-in bookkeeping, delete.
 *
 * DESIGN: a user is an object (objects row, type "User", name = login)
 * plus a users row; both are written in one writer transaction. Changes
 * an administrator makes (password, lock) bump the object's generation
 * and modified_ms like any object write; log-in bookkeeping (failures,
 * lock-out, last log-in) happens on every log-in attempt and bumps only
 * modified_ms, so it never makes a client's copy look stale. Deleting
 * the objects row removes the users row and the user's sessions through
 * ON DELETE CASCADE; a password change and a lock end the sessions with
 * an explicit DELETE in the same transaction, so no session outlives the
 * change that should have ended it.
 *
 * Each change exists twice: db_user_*() opens and commits its own writer
 * transaction (admin commands, auth/), db_txn_user_*() runs inside a
 * caller's `struct db_txn` (the job operations of src/jobs/op_user.c,
 * which commit the change together with their DONE row). Both call the
 * same static helper on the writer connection, so they cannot drift.
 */
#include <string.h>

#include "db/db_int.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/str.h"

/* Bump generation and modified_ms (?1) of the user with login ?2. */
#define BUMP_BY_LOGIN_SQL                                                     \
    "UPDATE objects SET generation = generation + 1, modified_ms = ?1 "      \
    "WHERE id = (SELECT id FROM users WHERE login = ?2)"
/* Set modified_ms (?1) of the user with id ?2, leaving generation. */
#define TOUCH_BY_ID_SQL                                                       \
    "UPDATE objects SET modified_ms = ?1 WHERE id = ?2 AND type = 'User'"
/* End every session of the user with login ?1. */
#define END_SESSIONS_SQL                                                      \
    "DELETE FROM sessions WHERE user_id = "                                   \
    "(SELECT id FROM users WHERE login = ?1)"
/* One user; the WHERE clause is appended (?1 = login or id). */
#define USER_SELECT_SQL                                                       \
    "SELECT o.id, o.name, u.role, u.password_hash, u.failed_logins, "        \
    "u.locked_until_ms, u.last_login_ms, u.disabled "                         \
    "FROM users u JOIN objects o ON o.id = u.id "

void
db_user_free(struct db_user *u)
{
    if (!u)
        return;
    xfree(u->id);
    xfree(u->name);
    xfree(u->role);
    xfree(u->password_hash);
    xfree(u);
}

/*
 * Insert the objects and users rows of a user on the writer @c (inside a
 * transaction the caller owns). @id NULL makes a new id; otherwise that
 * id is used (re-creating a deleted user). *id_out (may be NULL) receives
 * the id; caller frees.
 */
static int
user_create(struct db_conn *c, const char *id, const char *name,
            const char *role, const char *password_hash,
            const char *description, char **id_out)
{
    const struct model_type *t = model_type_find("User");
    char *AUTOFREE nid = NULL;
    int64_t now = time_now_ms();

    if (!t) {
        err_set(ERR_INTERNAL, "type 'User' is not registered");
        return -1;
    }
    if (!name || !role || !password_hash) {
        err_set(ERR_INVALID, "cannot create user '%s': name, role and "
                             "password are required", name ? name : "");
        return -1;
    }
    nid = id ? xstrdup(id) : model_id_new(t);
    if (db_run(c, "INSERT INTO objects (id, type, name, description, "
                  "created_ms, modified_ms) VALUES (?1, ?2, ?3, ?5, ?4, ?4)",
               "tttit", nid, t->name, name, now,
               description ? description : "") != SQLITE_DONE)
        return db_err_set(c, "cannot create user '%s'", name);
    if (db_run(c, "INSERT INTO users (id, login, role, password_hash, "
                  "password_changed_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
               "tttti", nid, name, role, password_hash, now) !=
        SQLITE_DONE) {
        if (sqlite3_extended_errcode(c->h) == SQLITE_CONSTRAINT_UNIQUE) {
            err_set(ERR_EXISTS, "user '%s' already exists", name);
            return -1;
        }
        return db_err_set(c, "cannot create user '%s'", name);
    }
    if (id_out)
        *id_out = steal_ptr(&nid);
    return 0;
}

int
db_user_create(struct db *db, const char *name, const char *role,
               const char *password_hash, const char *description,
               char **id_out)
{
    struct db_conn *c = db_write_begin(db);

    if (!c)
        return -1;
    if (user_create(c, NULL, name, role, password_hash, description,
                    id_out) < 0) {
        db_write_rollback(db);
        return -1;
    }
    if (db_write_commit(db) < 0) {
        if (id_out) {
            xfree(*id_out);
            *id_out = NULL;
        }
        return -1;
    }
    return 0;
}

int
db_txn_user_create(struct db_txn *t, const char *id, const char *name,
                   const char *role, const char *password_hash,
                   const char *description, char **id_out)
{
    return user_create(db_txn_conn(t), id, name, role, password_hash,
                       description, id_out);
}

/*
 * Read one user on @c (either connection, its lock held): by login when
 * @by_id is false, else by id. NULL with ERR_NOT_FOUND "user '<key>' not
 * found" or ERR_DB. Caller frees.
 */
static struct db_user *
user_read(struct db_conn *c, const char *key, bool by_id)
{
    sqlite3_stmt *st;
    struct db_user *u = NULL;
    int rc;

    if (!key) {
        err_set(ERR_NOT_FOUND, "user '' not found");
        return NULL;
    }
    st = db_stmt(c, by_id ? USER_SELECT_SQL "WHERE u.id = ?1"
                          : USER_SELECT_SQL "WHERE u.login = ?1");
    if (!st)
        return NULL;
    rc = db_bind_text(st, 1, key);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        err_set(ERR_NOT_FOUND, "user '%s' not found", key);
        goto cleanup;
    }
    if (rc != SQLITE_ROW) {
        db_err_set(c, "cannot read user '%s'", key);
        goto cleanup;
    }
    u = xcalloc(1, sizeof(*u));
    u->id = db_col_strdup(st, 0);
    u->name = db_col_strdup(st, 1);
    u->role = db_col_strdup(st, 2);
    u->password_hash = db_col_strdup(st, 3);
    u->failed_logins = sqlite3_column_int64(st, 4);
    u->locked_until_ms = sqlite3_column_int64(st, 5);
    u->last_login_ms = sqlite3_column_int64(st, 6); /* NULL (never) -> 0 */
    u->disabled = sqlite3_column_int64(st, 7) != 0;

 cleanup:
    db_stmt_release(st);
    return u;
}

struct db_user *
db_user_get_by_name(struct db *db, const char *name)
{
    struct db_conn *c;
    struct db_user *u;

    if (!name) {
        err_set(ERR_NOT_FOUND, "user '' not found");
        return NULL;
    }
    c = db_read_begin(db);
    if (!c)
        return NULL;
    u = user_read(c, name, false);
    db_read_end(db);
    return u;
}

struct db_user *
db_txn_user_get_by_name(struct db_txn *t, const char *name)
{
    return user_read(db_txn_conn(t), name, false);
}

struct db_user *
db_txn_user_get_by_id(struct db_txn *t, const char *id)
{
    return user_read(db_txn_conn(t), id, true);
}

int
db_user_count(struct db *db, int64_t *out)
{
    struct db_conn *c;
    sqlite3_stmt *st = NULL;
    int ret = -1;

    c = db_read_begin(db);
    if (!c)
        return -1;
    st = db_stmt(c, "SELECT COUNT(*) FROM users");
    if (!st)
        goto cleanup;
    if (sqlite3_step(st) != SQLITE_ROW) {
        db_err_set(c, "cannot count users");
        goto cleanup;
    }
    *out = sqlite3_column_int64(st, 0);
    ret = 0;

 cleanup:
    db_stmt_release(st);
    db_read_end(db);
    return ret;
}

/*
 * The second half of an administrator's change to the user @name, after
 * its `UPDATE users ... WHERE login = ?` ran in the writer transaction @c:
 * ERR_NOT_FOUND when that changed no row, else bump the object's
 * generation and modified_ms, and end the user's sessions when
 * @end_sessions. @what ("set the password of") names the change in
 * messages.
 */
static int
user_admin_finish(struct db_conn *c, const char *name, const char *what,
                  bool end_sessions)
{
    if (sqlite3_changes(c->h) == 0) {
        err_set(ERR_NOT_FOUND, "user '%s' not found", name);
        return -1;
    }
    if (db_run(c, BUMP_BY_LOGIN_SQL, "it", time_now_ms(), name) !=
        SQLITE_DONE)
        return db_err_set(c, "cannot %s user '%s'", what, name);
    if (end_sessions &&
        db_run(c, END_SESSIONS_SQL, "t", name) != SQLITE_DONE)
        return db_err_set(c, "cannot end the sessions of user '%s'", name);
    return 0;
}

/* Replace the password hash of @name on the writer @c (see db.h). */
static int
user_set_password(struct db_conn *c, const char *name, const char *hash)
{
    if (!name || !hash) {
        err_set(ERR_INVALID, "cannot set the password of user '%s': no "
                             "password", name ? name : "");
        return -1;
    }
    /* A new password ends any lock-out: the failures were guesses at the
     * old one. */
    if (db_run(c, "UPDATE users SET password_hash = ?2, "
                  "password_changed_ms = ?3, failed_logins = 0, "
                  "locked_until_ms = 0 WHERE login = ?1",
               "tti", name, hash, time_now_ms()) != SQLITE_DONE)
        return db_err_set(c, "cannot set the password of user '%s'", name);
    return user_admin_finish(c, name, "set the password of", true);
}

int
db_user_set_password(struct db *db, const char *name, const char *hash)
{
    struct db_conn *c = db_write_begin(db);

    if (!c)
        return -1;
    if (user_set_password(c, name, hash) < 0) {
        db_write_rollback(db);
        return -1;
    }
    return db_write_commit(db);
}

int
db_txn_user_set_password(struct db_txn *t, const char *name,
                         const char *hash)
{
    return user_set_password(db_txn_conn(t), name, hash);
}

/* Set or clear the administrator lock of @name on the writer @c. */
static int
user_set_disabled(struct db_conn *c, const char *name, bool disabled)
{
    if (!name) {
        err_set(ERR_NOT_FOUND, "user '' not found");
        return -1;
    }
    /* ?2 = disabled: locking keeps the counters, unlocking clears them. */
    if (db_run(c, "UPDATE users SET disabled = ?2, "
                  "failed_logins = CASE WHEN ?2 THEN failed_logins "
                  "ELSE 0 END, "
                  "locked_until_ms = CASE WHEN ?2 THEN locked_until_ms "
                  "ELSE 0 END WHERE login = ?1",
               "tb", name, disabled) != SQLITE_DONE)
        return db_err_set(c, "cannot change the lock of user '%s'", name);
    /* A locked user keeps no session: the lock takes effect at once. */
    return user_admin_finish(c, name, "change the lock of", disabled);
}

int
db_user_set_disabled(struct db *db, const char *name, bool disabled)
{
    struct db_conn *c = db_write_begin(db);

    if (!c)
        return -1;
    if (user_set_disabled(c, name, disabled) < 0) {
        db_write_rollback(db);
        return -1;
    }
    return db_write_commit(db);
}

int
db_txn_user_set_disabled(struct db_txn *t, const char *name, bool disabled)
{
    return user_set_disabled(db_txn_conn(t), name, disabled);
}
int
db_user_login_failed(struct db *db, const char *id, int64_t now_ms,
                     int64_t max_failures, int64_t lockout_ms,
                     int64_t *locked_until)
{
    struct db_conn *c;
    sqlite3_stmt *st = NULL;
    int64_t until = 0;
    int rc;

    if (!id) {
        err_set(ERR_NOT_FOUND, "User '' not found");
        return -1;
    }
    c = db_write_begin(db);
    if (!c)
        return -1;
    /*
     * One statement, so the count cannot race: every right-hand side sees
     * the old row. The failure that reaches @max_failures starts the
     * lock-out and restarts the count; max_failures <= 0 never locks.
     */
    st = db_stmt(c, "UPDATE users SET "
                    "locked_until_ms = CASE WHEN ?2 > 0 AND "
                    "failed_logins + 1 >= ?2 THEN ?3 + ?4 "
                    "ELSE locked_until_ms END, "
                    "failed_logins = CASE WHEN ?2 > 0 AND "
                    "failed_logins + 1 >= ?2 THEN 0 "
                    "ELSE failed_logins + 1 END "
                    "WHERE id = ?1 RETURNING locked_until_ms");
    if (!st)
        goto fail;
    rc = db_bind_text(st, 1, id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, max_failures);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 3, now_ms);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 4, lockout_ms);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        until = sqlite3_column_int64(st, 0);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            /* The id is a primary key: a second row cannot happen. */
            rc = SQLITE_DONE;
        }
    } else if (rc == SQLITE_DONE) {
        err_set(ERR_NOT_FOUND, "User '%s' not found", id);
        goto fail;
    }
    if (rc != SQLITE_DONE) {
        db_err_set(c, "cannot record a failed log-in of User '%s'", id);
        goto fail;
    }
    db_stmt_release(st);
    st = NULL;
    if (db_run(c, TOUCH_BY_ID_SQL, "it", now_ms, id) != SQLITE_DONE) {
        db_err_set(c, "cannot record a failed log-in of User '%s'", id);
        goto fail;
    }
    if (db_write_commit(db) < 0)
        return -1;
    if (locked_until)
        *locked_until = until;
    return 0;

 fail:
    db_stmt_release(st);
    db_write_rollback(db);
    return -1;
}

int
db_user_login_ok(struct db *db, const char *id, int64_t now_ms)
{
    struct db_conn *c;

    if (!id) {
        err_set(ERR_NOT_FOUND, "User '' not found");
        return -1;
    }
    c = db_write_begin(db);
    if (!c)
        return -1;
    if (db_run(c, "UPDATE users SET failed_logins = 0, last_login_ms = ?2 "
                  "WHERE id = ?1", "ti", id, now_ms) != SQLITE_DONE) {
        db_err_set(c, "cannot record the log-in of User '%s'", id);
        goto fail;
    }
    if (sqlite3_changes(c->h) == 0) {
        err_set(ERR_NOT_FOUND, "User '%s' not found", id);
        goto fail;
    }
    if (db_run(c, TOUCH_BY_ID_SQL, "it", now_ms, id) != SQLITE_DONE) {
        db_err_set(c, "cannot record the log-in of User '%s'", id);
        goto fail;
    }
    return db_write_commit(db);

 fail:
    db_write_rollback(db);
    return -1;
}


/* Delete the user @name on the writer @c (see db.h). */
static int
user_delete(struct db_conn *c, const char *name)
{
    if (!name) {
        err_set(ERR_NOT_FOUND, "user '' not found");
        return -1;
    }
    /* The users row and the sessions follow by ON DELETE CASCADE. */
    if (db_run(c, "DELETE FROM objects WHERE id = "
                  "(SELECT id FROM users WHERE login = ?1)",
               "t", name) != SQLITE_DONE)
        return db_err_set(c, "cannot delete user '%s'", name);
    if (sqlite3_changes(c->h) == 0) {
        err_set(ERR_NOT_FOUND, "user '%s' not found", name);
        return -1;
    }
    return 0;
}

int
db_user_delete(struct db *db, const char *name)
{
    struct db_conn *c = db_write_begin(db);

    if (!c)
        return -1;
    if (user_delete(c, name) < 0) {
        db_write_rollback(db);
        return -1;
    }
    return db_write_commit(db);
}

int
db_txn_user_delete(struct db_txn *t, const char *name)
{
    return user_delete(db_txn_conn(t), name);
}
