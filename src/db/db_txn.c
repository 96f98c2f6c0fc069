/*
 * db_txn.c - write transactions that span several db_*() calls, and the
 * notifications published once they commit.
 *
 * DESIGN: a job's change, its operation row, its events and the feed rows
 * must commit together, so callers outside db/ hold a `struct db_txn`
 * across calls. It is the writer connection under ->wlock, as
 * db_write_begin() gives db/'s own functions. DB_SYNC_FULL transactions
 * switch the connection to synchronous=FULL for their commit (the WAL is
 * fsynced, so the commit survives power loss, and so does every NORMAL
 * commit before it in the same WAL) and back to NORMAL afterwards; the
 * pragma costs nothing by itself (no I/O). Keys recorded with
 * db_txn_notify() are published after COMMIT and after the lock is
 * dropped, so a subscriber that reads at once sees the change.
 */
#include <string.h>

#include "db/db_int.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/notify.h"
#include "util/str.h"

/* Set the writer's synchronous level; NULL-safe error handling. */
static int
set_sync(struct db *db, enum db_sync sync)
{
    const char *sql = sync == DB_SYNC_FULL ? "PRAGMA synchronous=FULL"
                                           : "PRAGMA synchronous=NORMAL";

    if (sqlite3_exec(db->w.h, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_err_set(&db->w, "cannot set synchronous on database '%s'",
                          db->path);
    return 0;
}

struct db_txn *
db_txn_begin(struct db *db, enum db_sync sync)
{
    struct db_txn *t;

    pthread_mutex_lock(&db->wlock);
    if (sync == DB_SYNC_FULL && set_sync(db, DB_SYNC_FULL) < 0) {
        pthread_mutex_unlock(&db->wlock);
        return NULL;
    }
    if (sqlite3_exec(db->w.h, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
        SQLITE_OK) {
        db_err_set(&db->w, "cannot start a transaction on database '%s'",
                   db->path);
        if (sync == DB_SYNC_FULL)
            set_sync(db, DB_SYNC_NORMAL);
        pthread_mutex_unlock(&db->wlock);
        return NULL;
    }
    t = xcalloc(1, sizeof(*t));
    t->db = db;
    t->sync = sync;
    return t;
}

/* Leave the transaction: synchronous back to NORMAL, unlock, publish
 * (only when @publish), free. */
static void
txn_end(struct db_txn *t, bool publish)
{
    struct db *db = t->db;
    size_t i;

    if (t->sync == DB_SYNC_FULL)
        set_sync(db, DB_SYNC_NORMAL);
    pthread_mutex_unlock(&db->wlock);
    if (publish) {
        if (t->overflow)
            notify_publish("*");
        else
            for (i = 0; i < t->nkeys; i++)
                notify_publish(t->keys[i]);
    }
    xfree(t);
}

int
db_txn_commit(struct db_txn *t)
{
    struct db *db = t->db;

    if (sqlite3_exec(db->w.h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        db_err_set(&db->w, "cannot commit to database '%s'", db->path);
        if (!sqlite3_get_autocommit(db->w.h))
            sqlite3_exec(db->w.h, "ROLLBACK", NULL, NULL, NULL);
        txn_end(t, false);
        return -1;
    }
    txn_end(t, true);
    return 0;
}

void
db_txn_rollback(struct db_txn *t)
{
    struct err saved;

    if (!t)
        return;
    saved = *err_get();
    if (!sqlite3_get_autocommit(t->db->w.h))
        sqlite3_exec(t->db->w.h, "ROLLBACK", NULL, NULL, NULL);
    txn_end(t, false);
    if (saved.code != ERR_OK)
        err_set_full(saved.code, saved.file, saved.func, saved.line, "%s",
                     saved.message);
}

void
db_txn_notify(struct db_txn *t, const char *key)
{
    size_t i;

    for (i = 0; i < t->nkeys; i++) {
        if (strcmp(t->keys[i], key) == 0)
            return;
    }
    if (t->nkeys == DB_TXN_MAX_KEYS || strlen(key) >= sizeof(t->keys[0])) {
        t->overflow = true;
        return;
    }
    str_copy(t->keys[t->nkeys++], key, sizeof(t->keys[0]));
}
