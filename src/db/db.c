/*
 * db.c - opening the inventory database: connections, pragmas,
 * migrations, integrity check, the statement cache, transactions, and
 * file-level backup and restore.
 *
 * DESIGN: see db.h and db_int.h. db_open() runs on one thread before the
 * handle is shared, so it uses the connections without their locks. The
 * writer is opened first and does all schema work: it creates the
 * `schema_version` table (one row), then applies every embedded
 * schema/db/NNNN_*.sql newer than that row, each inside its own BEGIN
 * IMMEDIATE ... COMMIT together with the row's update, so a crash or a
 * failing statement leaves the previous version intact. Only then is the
 * read-only reader connection opened. Migrations must be numbered 0001,
 * 0002, ... without gaps; a gap is a build mistake and refused.
 *
 * Backup and restore work on files, not on an open handle: backup runs
 * next to a live ovmmd (SQLite's backup API copies one consistent
 * snapshot from a read-only connection), restore runs with the data
 * directory locked and never touches the live file until a complete,
 * checked copy is ready to be renamed over it.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db/db_int.h"
#include "util/alloc.h"
#include "util/embed.h"
#include "util/err.h"
#include "util/log.h"
#include "util/str.h"

LOG_MODULE("db");

/* How long a connection waits for another process's lock. */
#define DB_BUSY_TIMEOUT_MS 5000
/* Extra attempts when a backup step reports BUSY/LOCKED, and the pause. */
#define DB_COPY_RETRIES 5
#define DB_COPY_RETRY_MS 100

#define MIGRATION_PREFIX "schema/db/"

/* ---- migrations ---- */

/*
 * The version number of an embedded migration at @path, which must look
 * like "schema/db/NNNN_name.sql"; -1 for any other file.
 */
static int
migration_version(const char *path)
{
    const char *p, *name;
    size_t len;
    int v = 0, i;

    if (strncmp(path, MIGRATION_PREFIX, strlen(MIGRATION_PREFIX)) != 0)
        return -1;
    name = path + strlen(MIGRATION_PREFIX);
    if (strchr(name, '/'))
        return -1;
    for (i = 0, p = name; i < 4; i++, p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    if (*p != '_')
        return -1;
    len = strlen(name);
    if (len < 4 + 1 + 4 || strcmp(name + len - 4, ".sql") != 0)
        return -1;
    return v;
}

int
db_schema_version_latest(void)
{
    size_t i;
    int v, latest = 0;

    for (i = 0; i < embedded_nfiles; i++) {
        v = migration_version(embedded_files[i].path);
        if (v > latest)
            latest = v;
    }
    return latest;
}

/* ---- statement cache and helpers (db_int.h) ---- */

/* FNV-1a: a cheap first comparison before strcmp() in the cache. */
static uint32_t
sql_hash(const char *s)
{
    uint32_t h = 2166136261u;

    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

sqlite3_stmt *
db_stmt(struct db_conn *c, const char *sql)
{
    struct db_stmt_entry *e;
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    uint32_t hash = sql_hash(sql);
    size_t i;

    /*
     * Linear search: the keys are the fixed SQL texts of db/ (values are
     * never part of them), a few dozen per connection, and most differ
     * in their hash.
     */
    for (i = 0; i < c->nstmts; i++) {
        e = &c->stmts[i];
        if (e->hash == hash && strcmp(e->sql, sql) == 0) {
            /* A statement still stepping here means a missing release. */
            assert(!sqlite3_stmt_busy(e->stmt));
            return e->stmt;
        }
    }
    if (sqlite3_prepare_v3(c->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
                           &tail) != SQLITE_OK) {
        db_err_set(c, "cannot prepare '%.80s'", sql);
        return NULL;
    }
    if (!st || (tail && *tail)) {
        sqlite3_finalize(st);
        err_set(ERR_INTERNAL, "cannot prepare '%.80s': not one statement",
                sql);
        return NULL;
    }
    if (c->nstmts == c->capstmts) {
        c->capstmts = c->capstmts ? 2 * c->capstmts : 16;
        c->stmts = xrealloc(c->stmts, c->capstmts * sizeof(*c->stmts));
    }
    c->stmts[c->nstmts].sql = xstrdup(sql);
    c->stmts[c->nstmts].hash = hash;
    c->stmts[c->nstmts].stmt = st;
    c->nstmts++;
    return st;
}

void
db_stmt_release(sqlite3_stmt *st)
{
    if (!st)
        return;
    /* reset() repeats the last step's error code; it was handled there. */
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

int
db_err_set(struct db_conn *c, const char *fmt, ...)
{
    char prefix[256];
    va_list ap;
    int rc = sqlite3_extended_errcode(c->h);
    enum err_code code = ERR_DB;

    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        code = ERR_EXISTS;
    else if (rc == SQLITE_CONSTRAINT_CHECK)
        code = ERR_INVALID;
    err_set(code, "%s: %s", prefix, sqlite3_errmsg(c->h));
    return -1;
}

char *
db_col_strdup(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return NULL;
    return xstrdup((const char *)sqlite3_column_text(st, i));
}

int
db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (!s)
        return sqlite3_bind_null(st, i);
    return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

int
db_run(struct db_conn *c, const char *sql, const char *types, ...)
{
    sqlite3_stmt *st = db_stmt(c, sql);
    va_list ap;
    int rc = SQLITE_OK, i;

    if (!st)
        return SQLITE_ERROR;
    va_start(ap, types);
    for (i = 0; types[i] && rc == SQLITE_OK; i++) {
        switch (types[i]) {
        case 't':
            rc = db_bind_text(st, i + 1, va_arg(ap, const char *));
            break;
        case 'i':
            rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
            break;
        case 'b':
            rc = sqlite3_bind_int(st, i + 1, va_arg(ap, int) ? 1 : 0);
            break;
        default:
            assert(!"db_run: unknown type letter");
            rc = SQLITE_MISUSE;
            break;
        }
    }
    va_end(ap);
    if (rc == SQLITE_OK) {
        do
            rc = sqlite3_step(st);
        while (rc == SQLITE_ROW);
    }
    db_stmt_release(st);
    return rc;
}

/* Run @sql (no parameters) on @c: SQLITE_OK or the SQLite result code,
 * with the error left on the connection for the caller. */
static int
conn_run(struct db_conn *c, const char *sql)
{
    int rc = db_run(c, sql, "");

    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* ROLLBACK when a transaction is open; errors are ignored (it has to
 * end anyway, and SQLite rolls back by itself when it cannot). */
static void
conn_rollback(struct db_conn *c)
{
    if (!sqlite3_get_autocommit(c->h))
        sqlite3_exec(c->h, "ROLLBACK", NULL, NULL, NULL);
}

struct db_conn *
db_write_begin(struct db *db)
{
    pthread_mutex_lock(&db->wlock);
    if (conn_run(&db->w, "BEGIN IMMEDIATE") != SQLITE_OK) {
        db_err_set(&db->w, "cannot start a transaction on database '%s'",
                   db->path);
        pthread_mutex_unlock(&db->wlock);
        return NULL;
    }
    return &db->w;
}

int
db_write_commit(struct db *db)
{
    int ret = 0;

    if (conn_run(&db->w, "COMMIT") != SQLITE_OK) {
        db_err_set(&db->w, "cannot commit to database '%s'", db->path);
        conn_rollback(&db->w);
        ret = -1;
    }
    pthread_mutex_unlock(&db->wlock);
    return ret;
}

void
db_write_rollback(struct db *db)
{
    conn_rollback(&db->w);
    pthread_mutex_unlock(&db->wlock);
}

struct db_conn *
db_read_begin(struct db *db)
{
    pthread_mutex_lock(&db->rlock);
    if (conn_run(&db->r, "BEGIN") != SQLITE_OK) {
        db_err_set(&db->r, "cannot start reading database '%s'", db->path);
        pthread_mutex_unlock(&db->rlock);
        return NULL;
    }
    return &db->r;
}

void
db_read_end(struct db *db)
{
    /* A read transaction changes nothing: COMMIT and ROLLBACK are equal. */
    if (conn_run(&db->r, "COMMIT") != SQLITE_OK)
        conn_rollback(&db->r);
    pthread_mutex_unlock(&db->rlock);
}

/* ---- opening ---- */

static bool
rc_is_damage(int rc)
{
    return (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB;
}

/*
 * Record the failure of step @what on @h for the file @path (called a
 * @kind: "database" or "backup"). A corrupt file or one that is not a
 * database at all is reported as damaged, whatever step noticed it.
 */
static int
open_err(sqlite3 *h, const char *kind, const char *path, const char *what)
{
    int rc = sqlite3_extended_errcode(h);

    if (rc_is_damage(rc))
        err_set(ERR_DB, "%s '%s' is damaged: %s", kind, path,
                sqlite3_errmsg(h));
    else
        err_set(ERR_DB, "cannot %s %s '%s': %s", what, kind, path,
                sqlite3_errmsg(h));
    return -1;
}

/*
 * Run the one-column query @sql on @h and return a copy of the first
 * row's value in *out (NULL when there is no row or it is NULL).
 * Returns the SQLite result code (SQLITE_OK on success).
 */
static int
query_text(sqlite3 *h, const char *sql, char **out)
{
    sqlite3_stmt *st = NULL;
    int rc;

    *out = NULL;
    rc = sqlite3_prepare_v2(h, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = db_col_strdup(st, 0);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    /* The connection keeps the error's code and message for the caller. */
    if (rc != SQLITE_OK) {
        sqlite3_reset(st);
        rc = sqlite3_extended_errcode(h);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Open @path on @c with @flags, extended result codes, the busy timeout. */
static int
conn_open(struct db_conn *c, const char *path, int flags)
{
    int rc;

    rc = sqlite3_open_v2(path, &c->h, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        err_set(ERR_DB, "cannot open database '%s': %s", path,
                c->h ? sqlite3_errmsg(c->h) : sqlite3_errstr(rc));
        return -1;
    }
    sqlite3_extended_result_codes(c->h, 1);
    sqlite3_busy_timeout(c->h, DB_BUSY_TIMEOUT_MS);
    return 0;
}

/* The pragmas every connection runs with (see DESIGN.md §9: NORMAL). */
static int
conn_setup(struct db_conn *c, const char *path)
{
    char *AUTOFREE mode = NULL;

    if (query_text(c->h, "PRAGMA journal_mode=WAL", &mode) != SQLITE_OK)
        return open_err(c->h, "database", path, "set WAL mode on");
    if (!mode || strcmp(mode, "wal") != 0) {
        err_set(ERR_DB, "cannot set WAL mode on database '%s': got '%s'",
                path, mode ? mode : "");
        return -1;
    }
    if (sqlite3_exec(c->h, "PRAGMA foreign_keys=ON; "
                           "PRAGMA synchronous=NORMAL",
                     NULL, NULL, NULL) != SQLITE_OK)
        return open_err(c->h, "database", path, "configure");
    return 0;
}

static void
conn_close(struct db_conn *c)
{
    size_t i;

    for (i = 0; i < c->nstmts; i++) {
        sqlite3_finalize(c->stmts[i].stmt);
        xfree(c->stmts[i].sql);
    }
    xfree(c->stmts);
    c->stmts = NULL;
    c->nstmts = c->capstmts = 0;
    if (c->h && sqlite3_close(c->h) != SQLITE_OK)
        log_warnx("cannot close database connection: %s",
                  sqlite3_errmsg(c->h));
    c->h = NULL;
}

/*
 * 0 when `PRAGMA integrity_check` on @h says "ok"; else -1 with ERR_DB
 * "<kind> '<path>' is damaged: <first problem>".
 */
static int
check_integrity(sqlite3 *h, const char *kind, const char *path)
{
    char *AUTOFREE res = NULL;
    const char *first, *nl;

    if (query_text(h, "PRAGMA integrity_check", &res) != SQLITE_OK)
        return open_err(h, kind, path, "check");
    if (res && strcmp(res, "ok") == 0)
        return 0;
    /*
     * SQLite may put every problem into one row, one per line, under a
     * "*** in database main ***" heading: report the first problem only.
     */
    first = res ? res : "no integrity_check result";
    nl = strchr(first, '\n');
    if (nl && str_has_prefix(first, "*** ")) {
        first = nl + 1;
        nl = strchr(first, '\n');
    }
    err_set(ERR_DB, "%s '%s' is damaged: %.*s", kind, path,
            nl ? (int)(nl - first) : (int)strlen(first), first);
    return -1;
}

/* The schema_version row of @h into *out; SQLite result code. */
static int
read_version(sqlite3 *h, int *out)
{
    char *AUTOFREE v = NULL;
    const char *p;
    int rc, n = 0;

    rc = query_text(h, "SELECT version FROM schema_version", &v);
    if (rc != SQLITE_OK)
        return rc;
    /* The column is an INTEGER written by us; parse without atoi. */
    for (p = v ? v : ""; *p >= '0' && *p <= '9' && n < 100000000; p++)
        n = n * 10 + (*p - '0');
    *out = n;
    return SQLITE_OK;
}

/* Apply one migration @f (version @v) on the writer, atomically. */
static int
apply_migration(struct db *db, const struct embedded_file *f, int v)
{
    sqlite3 *h = db->w.h;
    sqlite3_stmt *st = NULL;
    int ret = -1;

    /* Any failing step stops the chain; SQLite's message says which. */
    if (sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(h, (const char *)f->data, NULL, NULL, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(h, "UPDATE schema_version SET version = ?1", -1,
                           &st, NULL) != SQLITE_OK ||
        sqlite3_bind_int(st, 1, v) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_DONE ||
        sqlite3_exec(h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        err_set(ERR_DB, "cannot apply migration '%s' to database '%s': %s",
                f->path, db->path, sqlite3_errmsg(h));
        conn_rollback(&db->w);
        goto cleanup;
    }
    log_info("applied migration '%s' to database '%s'", f->path, db->path);
    ret = 0;

 cleanup:
    sqlite3_finalize(st);
    return ret;
}

/* Create schema_version if needed, refuse a newer database, migrate. */
static int
migrate(struct db *db)
{
    sqlite3 *h = db->w.h;
    int latest = db_schema_version_latest();
    int expect = 1, v;
    size_t i;

    if (sqlite3_exec(h,
                     "BEGIN IMMEDIATE;"
                     "CREATE TABLE IF NOT EXISTS schema_version ("
                     "    version INTEGER NOT NULL);"
                     "INSERT INTO schema_version (version)"
                     "    SELECT 0 WHERE NOT EXISTS"
                     "    (SELECT 1 FROM schema_version);"
                     "COMMIT",
                     NULL, NULL, NULL) != SQLITE_OK) {
        open_err(h, "database", db->path, "initialize");
        conn_rollback(&db->w);
        return -1;
    }
    if (read_version(h, &db->version) != SQLITE_OK)
        return open_err(h, "database", db->path, "read the version of");
    if (db->version > latest) {
        err_set(ERR_DB, "database '%s' has schema version %d; this ovmmd "
                        "knows up to %d", db->path, db->version, latest);
        return -1;
    }
    for (i = 0; i < embedded_nfiles; i++) {
        v = migration_version(embedded_files[i].path);
        if (v < 0)
            continue;
        if (v != expect) {
            err_set(ERR_INTERNAL, "migration '%s' is out of sequence: "
                                  "expected number %04d",
                    embedded_files[i].path, expect);
            return -1;
        }
        expect++;
        if (v <= db->version)
            continue;
        if (apply_migration(db, &embedded_files[i], v) < 0)
            return -1;
        db->version = v;
    }
    return 0;
}

struct db *
db_open(const char *path)
{
    struct db *db = xcalloc(1, sizeof(*db));
    int fd;

    db->path = xstrdup(path);
    pthread_mutex_init(&db->wlock, NULL);
    pthread_mutex_init(&db->rlock, NULL);
    /*
     * The file holds password hashes: create it 0600 ourselves (SQLite
     * would use 0644) and SQLite gives -wal and -shm the same mode.
     */
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        err_set(ERR_IO, "cannot open database '%s': %s", path,
                strerror(errno));
        goto fail;
    }
    close(fd);
    if (conn_open(&db->w, path,
                  SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) < 0 ||
        conn_setup(&db->w, path) < 0)
        goto fail;
    if (migrate(db) < 0)
        goto fail;
    if (check_integrity(db->w.h, "database", path) < 0)
        goto fail;
    /*
     * The reader is read-only so that no code path can write around
     * ->wlock. It opens after migration: it never sees an old schema.
     */
    if (conn_open(&db->r, path, SQLITE_OPEN_READONLY) < 0 ||
        conn_setup(&db->r, path) < 0)
        goto fail;
    db_object_sql_init(db);
    return db;

 fail:
    db_close(db);
    return NULL;
}

void
db_close(struct db *db)
{
    if (!db)
        return;
    conn_close(&db->r);
    /*
     * Fold the WAL back into the main file so the database is one
     * self-contained file between runs; SQLite also does this when the
     * last connection closes, but not when another process has it open.
     */
    if (db->w.h)
        sqlite3_wal_checkpoint_v2(db->w.h, NULL, SQLITE_CHECKPOINT_TRUNCATE,
                                  NULL, NULL);
    conn_close(&db->w);
    db_object_sql_release(db);
    pthread_mutex_destroy(&db->wlock);
    pthread_mutex_destroy(&db->rlock);
    xfree(db->path);
    xfree(db);
}

int
db_schema_version(struct db *db)
{
    return db->version;
}

/* ---- backup and restore ---- */

/* fsync the file (or directory) @path. 0, or -1 with ERR_IO. */
static int
fsync_path(const char *path, bool dir)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | (dir ? O_DIRECTORY : 0));

    if (fd < 0 || fsync(fd) < 0) {
        err_set(ERR_IO, "cannot sync '%s': %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* fsync the directory holding @path, so a create or rename is durable. */
static int
fsync_parent(const char *path)
{
    char *AUTOFREE dir = xstrdup(path);
    char *slash = strrchr(dir, '/');

    if (!slash)
        return fsync_path(".", true);
    if (slash == dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    return fsync_path(dir, true);
}

/* Create @path exclusively with mode 0600. 0, or -1 (ERR_EXISTS/ERR_IO). */
static int
create_excl(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

    if (fd < 0) {
        if (errno == EEXIST)
            err_set(ERR_EXISTS, "file '%s' already exists", path);
        else
            err_set(ERR_IO, "cannot create '%s': %s", path, strerror(errno));
        return -1;
    }
    close(fd);
    return 0;
}

/* unlink() that treats a missing file as success. 0 or -1 (ERR_IO). */
static int
unlink_if_exists(const char *path)
{
    if (unlink(path) < 0 && errno != ENOENT) {
        err_set(ERR_IO, "cannot remove '%s': %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/*
 * Copy every page of @src into @dst in one backup step, so the copy is a
 * single consistent snapshot of @src. BUSY/LOCKED (another process holds
 * a lock the step needs) is retried a few times. Returns the SQLite
 * result code: SQLITE_OK on success.
 */
static int
copy_db(sqlite3 *src, sqlite3 *dst)
{
    struct timespec pause = { 0, DB_COPY_RETRY_MS * 1000000L };
    sqlite3_backup *b;
    int attempt, rc = SQLITE_OK, frc;

    for (attempt = 0; attempt <= DB_COPY_RETRIES; attempt++) {
        b = sqlite3_backup_init(dst, "main", src, "main");
        if (!b)
            return sqlite3_extended_errcode(dst);
        rc = sqlite3_backup_step(b, -1);
        frc = sqlite3_backup_finish(b);
        if (rc == SQLITE_DONE)
            return frc;
        if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
            return rc;
        nanosleep(&pause, NULL);
    }
    return rc;
}

/* Open @path read-only for copying (no create; waits for locks). */
static int
open_ro(const char *path, sqlite3 **out)
{
    int rc = sqlite3_open_v2(path, out, SQLITE_OPEN_READONLY, NULL);

    if (*out) {
        sqlite3_extended_result_codes(*out, 1);
        sqlite3_busy_timeout(*out, DB_BUSY_TIMEOUT_MS);
    }
    return rc;
}

int
db_backup_file(const char *db_path, const char *dest)
{
    sqlite3 *src = NULL, *dst = NULL;
    char *AUTOFREE mode = NULL;
    char *AUTOFREE journal = xasprintf("%s-journal", dest);
    struct stat st;
    bool created = false;
    int rc, ret = -1;

    if (stat(db_path, &st) < 0) {
        err_set(errno == ENOENT ? ERR_NOT_FOUND : ERR_IO,
                "cannot back up database '%s': %s", db_path, strerror(errno));
        return -1;
    }
    if (create_excl(dest) < 0)
        return -1;
    created = true;
    if (open_ro(db_path, &src) != SQLITE_OK) {
        err_set(ERR_DB, "cannot open database '%s': %s", db_path,
                src ? sqlite3_errmsg(src) : "out of memory");
        goto cleanup;
    }
    if (sqlite3_open_v2(dest, &dst, SQLITE_OPEN_READWRITE, NULL) !=
        SQLITE_OK) {
        err_set(ERR_DB, "cannot open backup '%s': %s", dest,
                dst ? sqlite3_errmsg(dst) : "out of memory");
        goto cleanup;
    }
    rc = copy_db(src, dst);
    if (rc != SQLITE_OK) {
        err_set(ERR_DB, "cannot back up database '%s' to '%s': %s", db_path,
                dest, sqlite3_errstr(rc));
        goto cleanup;
    }
    /*
     * The pages carry the source's WAL flag. Make the copy a rollback-
     * journal database, so it is one self-contained file that can be
     * opened read-only anywhere (restore; ovmmd turns WAL back on).
     */
    if (query_text(dst, "PRAGMA journal_mode=DELETE", &mode) != SQLITE_OK) {
        err_set(ERR_DB, "cannot finish backup '%s': %s", dest,
                sqlite3_errmsg(dst));
        goto cleanup;
    }
    if (sqlite3_close(dst) != SQLITE_OK) {
        err_set(ERR_DB, "cannot close backup '%s': %s", dest,
                sqlite3_errmsg(dst));
        goto cleanup;
    }
    dst = NULL;
    if (fsync_path(dest, false) < 0 || fsync_parent(dest) < 0)
        goto cleanup;
    log_info("backed up database '%s' to '%s'", db_path, dest);
    ret = 0;

 cleanup:
    sqlite3_close(src);
    sqlite3_close(dst);
    if (ret < 0 && created) {
        unlink(dest);
        unlink(journal);
    }
    return ret;
}

/*
 * Check that @src is a database this binary can run on: integrity_check
 * says ok and its schema version is between 1 and the latest we carry.
 */
static int
check_backup(sqlite3 *h, const char *src)
{
    int v = 0, latest = db_schema_version_latest();

    if (check_integrity(h, "backup", src) < 0)
        return -1;
    if (read_version(h, &v) != SQLITE_OK) {
        err_set(ERR_DB, "backup '%s' is not an ovmm database: %s", src,
                sqlite3_errmsg(h));
        return -1;
    }
    if (v < 1 || v > latest) {
        err_set(ERR_DB, "backup '%s' has schema version %d; this ovmmd "
                        "knows 1 to %d", src, v, latest);
        return -1;
    }
    return 0;
}

int
db_restore_file(const char *src, const char *db_path)
{
    sqlite3 *s = NULL, *d = NULL;
    char *AUTOFREE tmp = xasprintf("%s.tmp", db_path);
    char *AUTOFREE tmp_journal = xasprintf("%s.tmp-journal", db_path);
    char *AUTOFREE wal = xasprintf("%s-wal", db_path);
    char *AUTOFREE shm = xasprintf("%s-shm", db_path);
    char *AUTOFREE aside = xasprintf("%s.pre-restore-wal", db_path);
    struct stat st;
    bool created = false, moved_wal = false;
    int rc, ret = -1;

    if (stat(src, &st) < 0) {
        err_set(errno == ENOENT ? ERR_NOT_FOUND : ERR_IO,
                "cannot restore backup '%s': %s", src, strerror(errno));
        return -1;
    }
    if (open_ro(src, &s) != SQLITE_OK) {
        err_set(ERR_DB, "cannot open backup '%s': %s", src,
                s ? sqlite3_errmsg(s) : "out of memory");
        goto cleanup;
    }
    if (check_backup(s, src) < 0)
        goto cleanup;

    /* Build the complete copy beside the live file first. */
    if (unlink_if_exists(tmp) < 0 || unlink_if_exists(tmp_journal) < 0 ||
        create_excl(tmp) < 0)
        goto cleanup;
    created = true;
    if (sqlite3_open_v2(tmp, &d, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        err_set(ERR_DB, "cannot open '%s': %s", tmp,
                d ? sqlite3_errmsg(d) : "out of memory");
        goto cleanup;
    }
    rc = copy_db(s, d);
    if (rc != SQLITE_OK) {
        err_set(ERR_DB, "cannot copy backup '%s' to '%s': %s", src, tmp,
                sqlite3_errstr(rc));
        goto cleanup;
    }
    if (sqlite3_close(d) != SQLITE_OK) {
        err_set(ERR_DB, "cannot close '%s': %s", tmp, sqlite3_errmsg(d));
        goto cleanup;
    }
    d = NULL;
    if (fsync_path(tmp, false) < 0)
        goto cleanup;

    /*
     * Swap it in. A stale -wal would be replayed onto the new file and
     * corrupt it, so it must go; it is moved aside rather than deleted
     * until the rename succeeded, so a failure leaves the old database
     * exactly as it was. -shm is only an index of the -wal.
     */
    if (unlink_if_exists(shm) < 0)
        goto cleanup;
    if (rename(wal, aside) == 0) {
        moved_wal = true;
    } else if (errno != ENOENT) {
        err_set(ERR_IO, "cannot move '%s' aside: %s", wal, strerror(errno));
        goto cleanup;
    }
    if (rename(tmp, db_path) < 0) {
        err_set(ERR_IO, "cannot replace database '%s': %s", db_path,
                strerror(errno));
        if (moved_wal && rename(aside, wal) < 0)
            log_warn("cannot move '%s' back to '%s'", aside, wal);
        goto cleanup;
    }
    created = false;
    if (moved_wal && unlink(aside) < 0)
        log_warn("cannot remove '%s'", aside);
    if (fsync_parent(db_path) < 0)
        goto cleanup;
    log_info("restored database '%s' from backup '%s'", db_path, src);
    ret = 0;

 cleanup:
    sqlite3_close(s);
    sqlite3_close(d);
    if (created) {
        unlink(tmp);
        unlink(tmp_journal);
    }
    return ret;
}
