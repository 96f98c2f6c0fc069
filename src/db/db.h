/*
 * db.h - the inventory database: the only user of <sqlite3.h>.
 *
 * DESIGN: one SQLite file in WAL mode with foreign keys on. A `struct db`
 * owns one writer connection (all changes; `->wlock` serializes them, the
 * single-writer shape dqlite needs later) and one reader connection
 * (`->rlock`), so reads never wait for a write in progress. Every call
 * below is thread-safe and takes the lock it needs for its duration only.
 * Migrations are the embedded schema/db/NNNN_*.sql files, applied in order
 * at open, each inside one transaction with the `schema_version` row, so a
 * crash mid-migration leaves the previous version intact. Statements are
 * prepared once per connection and cached; values are always bound, never
 * formatted into SQL (identifiers from model/ descriptors are).
 *
 * Error convention: int functions return 0 or -1, pointer functions NULL,
 * with err_set(): ERR_NOT_FOUND, ERR_EXISTS (unique constraint), ERR_DB.
 */
#ifndef OVMM_DB_H
#define OVMM_DB_H

#include <stdbool.h>
#include <stdint.h>

#include "model/model.h"
#include "util/autoptr.h"

struct db;

/*
 * Open (creating if needed) the database at @path: WAL, foreign keys,
 * busy timeout, migrations, then `PRAGMA integrity_check` (a failure is
 * ERR_DB "database '<path>' is damaged: <first problem>"). A database
 * whose schema version is newer than this binary knows is refused.
 * Returns a handle to free with db_close().
 */
struct db *db_open(const char *path);
/* Close the handle (checkpointing the WAL); accepts NULL. */
void db_close(struct db *db);
DEFINE_AUTOPTR(db, db_close)
/* The highest migration applied. */
int db_schema_version(struct db *db);
/* The highest migration this binary carries. */
int db_schema_version_latest(void);

/*
 * Copy the database at @db_path into a new file @dest with SQLite's online
 * backup API. Safe while ovmmd runs on @db_path: the copy is one
 * consistent snapshot. @dest must not exist (ERR_EXISTS).
 */
int db_backup_file(const char *db_path, const char *dest);
/*
 * Replace the database at @db_path with the backup @src, after checking
 * that @src is a SQLite database that passes integrity_check and whose
 * schema version this binary knows. The caller holds the data-directory
 * lock (no ovmmd is running). Stale -wal/-shm files are removed.
 */
int db_restore_file(const char *src, const char *db_path);

/* ---- generic objects (db_object.c) ---- */

/*
 * One object of type @t by id. NULL with ERR_NOT_FOUND
 * ("<Type> '<id>' not found") when there is none. Caller frees.
 */
struct model_obj *db_object_get(struct db *db, const struct model_type *t,
                                const char *id);
/*
 * Objects of type @t ordered by name then id, skipping @offset and
 * returning at most @limit. When @column is not NULL only those whose
 * type-table @column equals @value are returned (child collections).
 * *out receives a new array of *n objects (free with model_objs_free()).
 * *total, when not NULL, receives the count before paging.
 */
int db_object_list(struct db *db, const struct model_type *t,
                   const char *column, const char *value, int64_t limit,
                   int64_t offset, struct model_obj ***out, size_t *n,
                   int64_t *total);
/* Like db_object_list() but only ids and names (GET /Type/id). */
int db_object_refs(struct db *db, const struct model_type *t,
                   const char *column, const char *value, int64_t limit,
                   int64_t offset, struct model_ref **out, size_t *n,
                   int64_t *total);

/* ---- the Manager (db_manager.c) ---- */

/* The one Manager's id (made by the first migration). Caller frees. */
char *db_manager_id(struct db *db);
/* Set managerRunState (STARTING, RUNNING, STOPPING) and bump generation. */
int db_manager_set_state(struct db *db, const char *state);
/* Set the Manager's name and version (at start, from config and build). */
int db_manager_set_info(struct db *db, const char *name, const char *version);

/* ---- users (db_user.c) ---- */

struct db_user {
    char *id;
    char *name;
    char *role;            /* "administrator", "operator", "read-only" */
    char *password_hash;   /* libsodium crypt string; never rendered */
    int64_t failed_logins; /* consecutive failures since the last success */
    int64_t locked_until_ms; /* lock-out end, 0 when none */
    int64_t last_login_ms;
    bool disabled;         /* locked by an administrator */
};

void db_user_free(struct db_user *u);
DEFINE_AUTOPTR(db_user, db_user_free)

/* Create a user (objects row + users row, one transaction) with
 * @description (NULL: empty). ERR_EXISTS for a taken name. *id_out (when
 * not NULL) receives the new id; caller frees. */
int db_user_create(struct db *db, const char *name, const char *role,
                   const char *password_hash, const char *description,
                   char **id_out);
/* The user called @name, or NULL with ERR_NOT_FOUND. Caller frees. */
struct db_user *db_user_get_by_name(struct db *db, const char *name);
/* Number of users. */
int db_user_count(struct db *db, int64_t *out);
/* Replace the password hash; clears failures and lock-out. ERR_NOT_FOUND. */
int db_user_set_password(struct db *db, const char *name, const char *hash);
/* Set the administrator lock; unlocking also clears failures and
 * lock-out. ERR_NOT_FOUND. */
int db_user_set_disabled(struct db *db, const char *name, bool disabled);
/*
 * Record a failed log-in at @now_ms: failed_logins + 1; when that reaches
 * @max_failures, locked_until_ms = now + @lockout_ms and failed_logins = 0.
 * *locked_until (when not NULL) receives the resulting locked_until_ms.
 */
int db_user_login_failed(struct db *db, const char *id, int64_t now_ms,
                         int64_t max_failures, int64_t lockout_ms,
                         int64_t *locked_until);
/* Record a successful log-in: failures 0, last_login_ms = @now_ms. */
int db_user_login_ok(struct db *db, const char *id, int64_t now_ms);
/* Delete a user and its sessions. ERR_NOT_FOUND. */
int db_user_delete(struct db *db, const char *name);

/* ---- browser sessions (db_session.c) ---- */

struct db_session {
    char *token_hash;   /* hex SHA-256 of the cookie token (never the token) */
    char *user_id;
    char *csrf_token;
    int64_t created_ms;
    int64_t last_seen_ms;
    int64_t expires_ms; /* absolute end of life */
};

void db_session_free(struct db_session *s);
DEFINE_AUTOPTR(db_session, db_session_free)

int db_session_create(struct db *db, const struct db_session *s);
/* The session, or NULL with ERR_NOT_FOUND. Caller frees. */
struct db_session *db_session_get(struct db *db, const char *token_hash);
int db_session_touch(struct db *db, const char *token_hash, int64_t now_ms);
/* Delete one session; deleting a missing one is not an error. */
int db_session_delete(struct db *db, const char *token_hash);
/* Delete every session of a user (password change, lock, delete). */
int db_session_delete_user(struct db *db, const char *user_id);
/* Delete sessions past expires_ms or idle longer than @idle_ms. */
int db_session_purge(struct db *db, int64_t now_ms, int64_t idle_ms);

#endif
