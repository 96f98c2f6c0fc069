/*
 * db_int.h - private to src/db/: the handle, the statement cache and the
 * transaction and row helpers shared by the db_*.c files.
 *
 * DESIGN: `struct db` holds two connections to the same WAL file. The
 * writer (`->w`, serialized by `->wlock`) makes every change, always
 * inside BEGIN IMMEDIATE ... COMMIT; the reader (`->r`, `->rlock`) is
 * opened read-only and serves every read, so a read never waits for a
 * write in progress (WAL gives it the last committed snapshot). Each
 * connection keeps its prepared statements in a small cache keyed by SQL
 * text; a statement is used by one thread at a time because it belongs to
 * a connection whose lock the user holds, and it is reset (bindings
 * cleared) with db_stmt_release() before that lock is dropped.
 *
 * The connections are opened with SQLITE_OPEN_NOMUTEX: our own mutexes
 * are the only serialization, so every sqlite3_* call on a connection,
 * including sqlite3_errmsg(), must happen with its lock held.
 */
#ifndef OVMM_DB_INT_H
#define OVMM_DB_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

/* One cached prepared statement. */
struct db_stmt_entry {
    char *sql;           /* the key: the exact SQL text (owned) */
    uint32_t hash;       /* of ->sql, compared before strcmp() */
    sqlite3_stmt *stmt;  /* prepared with SQLITE_PREPARE_PERSISTENT */
};

/* A connection and its statement cache; protected by the owner's lock. */
struct db_conn {
    sqlite3 *h;
    struct db_stmt_entry *stmts;
    size_t nstmts;
    size_t capstmts;
};

/*
 * The SQL texts db_object.c runs for one model type, built once per type
 * from the descriptor's identifiers (static data; values are bound).
 * Filter slot 0 is "no filter", 1 is "id", 2 + i is field i (NULL when
 * field i cannot be filtered on).
 */
struct db_type_sql {
    const struct model_type *type;
    char *get;        /* one object, ?1 = id */
    char **list;      /* [2 + nfields]: full rows; ?1 = type name,
                         ?2 = filter value, ?3 = limit, ?4 = offset */
    char **count;     /* [2 + nfields]: COUNT(*); ?1 and ?2 as list */
    char **refs;      /* [2 + nfields]: id, name; parameters as list */
    char **reflist;   /* [nfields]: MF_REFLIST members, ?1 = owner id;
                         NULL for other kinds or an unknown ref_type */
};

struct db {
    char *path;                  /* immutable after open */
    int version;                 /* immutable after open */
    pthread_mutex_t wlock;       /* serializes all use of ->w */
    struct db_conn w;            /* protected by ->wlock */
    pthread_mutex_t rlock;       /* serializes all use of ->r */
    struct db_conn r;            /* protected by ->rlock */
    /* Per-type SQL: the registered types are built at open, any other
     * descriptor on first use; entries never move or change once built. */
    struct db_type_sql **tsql;   /* protected by ->rlock */
    size_t ntsql;                /* protected by ->rlock */
};

/*
 * The cached statement for @sql on @c, preparing it on first use. NULL
 * with ERR_DB when SQLite rejects it. The statement stays owned by the
 * cache; give it back with db_stmt_release(). Call with @c's lock held.
 */
sqlite3_stmt *db_stmt(struct db_conn *c, const char *sql);
/* Reset @st and clear its bindings; accepts NULL. Call with the lock held. */
void db_stmt_release(sqlite3_stmt *st);

/*
 * Record the connection's last SQLite error as "<prefix>: <sqlite message>"
 * where <prefix> is formatted from @fmt. The code follows the result:
 * ERR_EXISTS for a UNIQUE/PRIMARY KEY constraint, ERR_INVALID for a CHECK
 * constraint, ERR_DB for anything else. Always returns -1.
 */
int db_err_set(struct db_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Lock the writer and BEGIN IMMEDIATE. Returns the writer connection, or
 * NULL with ERR_DB (the lock is not held then). Finish with exactly one
 * of db_write_commit() or db_write_rollback().
 */
struct db_conn *db_write_begin(struct db *db);
/* COMMIT and unlock: 0, or -1 with ERR_DB (the transaction rolled back). */
int db_write_commit(struct db *db);
/* ROLLBACK when a transaction is open, then unlock. Keeps the thread's
 * recorded error untouched. */
void db_write_rollback(struct db *db);

/*
 * Lock the reader and BEGIN (deferred), so several SELECTs see one
 * snapshot. NULL with ERR_DB (not locked). Finish with db_read_end().
 */
struct db_conn *db_read_begin(struct db *db);
/* End the read transaction and unlock; keeps the thread's error. */
void db_read_end(struct db *db);

/*
 * Run the cached statement @sql on @c to completion, binding the
 * variadic arguments to ?1, ?2, ... as described by @types, one letter
 * each: 't' a const char * (NULL binds SQL NULL), 'i' an int64_t (pass
 * exactly that type), 'b' a bool. Rows a statement returns are skipped.
 * Returns the SQLite result code: SQLITE_DONE on success. It records no
 * error itself: on failure the caller says what failed with db_err_set()
 * (the connection still holds SQLite's code and message). The statement
 * is released before returning; sqlite3_changes(c->h) stays valid.
 * Call with @c's lock held.
 */
int db_run(struct db_conn *c, const char *sql, const char *types, ...);

/* Column @i of the current row as a new string, NULL for SQL NULL. */
char *db_col_strdup(sqlite3_stmt *st, int i);

/* Bind @s as text (NULL binds SQL NULL); the text must outlive the use. */
int db_bind_text(sqlite3_stmt *st, int i, const char *s);

/* An open write transaction (db_txn.c); the writer lock is held. */
#define DB_TXN_MAX_KEYS 32
struct db_txn {
    struct db *db;
    enum db_sync sync;
    char keys[DB_TXN_MAX_KEYS][48]; /* notify keys, published at commit */
    size_t nkeys;
    bool overflow;                   /* more keys than fit: publish "*" */
};
/* The writer connection of @t. */
static inline struct db_conn *
db_txn_conn(struct db_txn *t)
{
    return &t->db->w;
}

/* Two result columns for a query over `servers s`: how many VMs are
 * active on the server (RUNNING, SUSPENDED, STARTING, STOPPING) and the
 * first of them by name (NULL when none). */
#define DB_ACTIVE_VMS                                                         \
    "(SELECT COUNT(*) FROM vms v WHERE v.server_id = s.id AND v.run_state "   \
    "IN ('RUNNING', 'SUSPENDED', 'STARTING', 'STOPPING')), "                  \
    "(SELECT vo.name FROM vms v JOIN objects vo ON vo.id = v.id "             \
    "WHERE v.server_id = s.id AND v.run_state IN ('RUNNING', 'SUSPENDED', "   \
    "'STARTING', 'STOPPING') ORDER BY vo.name LIMIT 1)"

/* Build the per-type SQL texts for every registered type (db_object.c). */
void db_object_sql_init(struct db *db);
/* Free what db_object_sql_init() built; accepts a partly built db. */
void db_object_sql_release(struct db *db);

#endif
