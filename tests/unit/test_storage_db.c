/*
 * test_storage_db.c - unit tests of the generic rows of src/db/db_row.c
 * (db.h, "generic rows"), on the storage tables of
 * schema/db/0008_storage.sql that the storage jobs write through them.
 *
 * DESIGN: every test opens a fresh database in its own mkdtemp()
 * directory (setup) that teardown removes, so tests share nothing. What
 * db/ does not show -- objects rows left without their type row, the raw
 * columns -- is looked at with SQLite directly on the file, as an
 * operator with the sqlite3 shell would (a read-only connection beside
 * ovmm's, which WAL allows).
 *
 * Covered: insert with defaults and get; update with and without the
 * generation bump, and a bump that leaves explicit columns alone; a
 * snapshot written back with restore is the object exactly (generation
 * and times included), over the changed object and after a delete;
 * delete; ids by column, by NULL and all, in name order; link tables
 * (get, set replaces, unknown table); unknown columns, ids, CHECK and
 * UNIQUE violations as ERR_INVALID / ERR_EXISTS; the triggers that take
 * objects rows with their type rows (cascades from a file server, from a
 * server) leave no orphan; the reader sees only committed rows.
 *
 * The storage operations' undo (src/jobs/op_storage.c) is tested the way
 * test_server_ops.c tests the server operations': no REST request can
 * make a one-operation job undo, so the engine runs jobs of [operation,
 * diag.fail] and every row the operation touched must be, after the
 * undo, exactly what it was (generation and times included): a file
 * server edit, a file server delete, the delete of an unowned repository
 * with disks, a thin clone, a template and an assembly, and a server
 * delete that takes a local file server along (op_server.c with
 * storage_server_snapshot()). The local storage sync of discovery and a
 * few pure rules are driven directly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tmpdir.h"
#include "db/db.h"
#include "jobs/jobs.h"
#include "jobs/storage.h"
#include "model/model.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"

#define NFS_PLUGIN "oracle.generic.NFSPlugin.GenericNFSPlugin (1.1.0)"
#define OCFS2_PLUGIN "oracle.ocfs2.OCFS2.OCFS2Plugin (0.1.0-42.1)"

struct fixture {
    char dir[64];
    char *path;
    struct db *db;
};

static int
setup(void **state)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));

    if (tmpdir_make(fx->dir, sizeof(fx->dir), "storage-db") < 0) {
        xfree(fx);
        return -1;
    }
    fx->path = xasprintf("%s/ovmm.db", fx->dir);
    fx->db = db_open(fx->path);
    if (!fx->db) {
        tmpdir_remove(fx->dir);
        xfree(fx->path);
        xfree(fx);
        return -1;
    }
    err_clear();
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;

    db_close(fx->db);
    tmpdir_remove(fx->dir);
    xfree(fx->path);
    xfree(fx);
    return 0;
}

/* ---- helpers ---- */

static const struct model_type *
ty(const char *name)
{
    const struct model_type *t = model_type_find(name);

    assert_non_null(t);
    return t;
}

/* @text (JSON) as a new object. */
static json_object *
J(const char *text)
{
    json_object *o = json_tokener_parse(text);

    assert_non_null(o);
    return o;
}

/* Insert @text as a row of @type in a transaction of its own. */
static int
insert(struct db *db, const char *type, const char *text)
{
    struct db_txn *t = db_txn_begin(db, DB_SYNC_NORMAL);
    json_object *row = J(text);
    int rc;

    assert_non_null(t);
    rc = db_txn_row_insert(t, ty(type), row);
    json_object_put(row);
    if (rc < 0) {
        db_txn_rollback(t);
        return -1;
    }
    assert_int_equal(db_txn_commit(t), 0);
    return 0;
}

static void
must_insert(struct db *db, const char *type, const char *text)
{
    if (insert(db, type, text) < 0)
        fail_msg("insert %s %s: %s", type, text, err_message());
}

/* A NETWORK file server @id with access host @host. */
static void
add_file_server(struct db *db, const char *id, const char *host)
{
    char *text = xasprintf("{\"id\": \"%s\", \"name\": \"fs %s\", "
                           "\"file_server_type\": \"NETWORK\", "
                           "\"plugin_id\": \"" NFS_PLUGIN "\", "
                           "\"access_host\": \"%s\"}", id, host, host);

    must_insert(db, "FileServer", text);
    xfree(text);
}

/* A server @id (the columns servers needs). */
static void
add_server(struct db *db, const char *id, const char *name)
{
    char *text = xasprintf("{\"id\": \"%s\", \"name\": \"%s\", "
                           "\"ip_address\": \"%s\", \"libvirt_uri\": "
                           "\"test:///default\", \"discovered_ms\": 1}",
                           id, name, name);

    must_insert(db, "Server", text);
    xfree(text);
}

static void
add_file_system(struct db *db, const char *id, const char *name,
                const char *server_id, const char *path)
{
    char *text = xasprintf("{\"id\": \"%s\", \"name\": \"%s\", "
                           "\"file_server_id\": \"%s\", \"path\": \"%s\"}",
                           id, name, server_id, path);

    must_insert(db, "FileSystem", text);
    xfree(text);
}

/* SELECT COUNT(*) ... on a connection of our own. */
static int64_t
count(const char *path, const char *sql)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    int64_t n = -1;

    assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

static const char *
str_of(json_object *row, const char *key)
{
    json_object *v = NULL;

    assert_true(json_object_object_get_ex(row, key, &v));
    return v ? json_object_get_string(v) : NULL;
}

static int64_t
int_of(json_object *row, const char *key)
{
    json_object *v = NULL;

    assert_true(json_object_object_get_ex(row, key, &v));
    assert_non_null(v);
    assert_true(json_object_is_type(v, json_type_int));
    return json_object_get_int64(v);
}

/* ---- tests ---- */

/* An inserted row reads back with the defaults of both tables. */
static void
test_insert_get(void **state)
{
    struct fixture *fx = *state;
    json_object *row, *v;
    int64_t before = time_now_ms();

    add_file_server(fx->db, "fs1", "nfs.example.com");
    row = db_row_get(fx->db, ty("FileServer"), "fs1");
    assert_non_null(row);
    assert_string_equal(str_of(row, "id"), "fs1");
    assert_string_equal(str_of(row, "type"), "FileServer");
    assert_string_equal(str_of(row, "name"), "fs nfs.example.com");
    assert_string_equal(str_of(row, "description"), "");
    assert_string_equal(str_of(row, "user_data"), "[]");
    assert_int_equal(int_of(row, "generation"), 0);
    assert_int_equal(int_of(row, "locked"), 0);
    assert_int_equal(int_of(row, "read_only"), 0);
    assert_true(int_of(row, "created_ms") >= before);
    assert_int_equal(int_of(row, "created_ms"), int_of(row, "modified_ms"));
    assert_string_equal(str_of(row, "access_host"), "nfs.example.com");
    assert_string_equal(str_of(row, "plugin_id"), NFS_PLUGIN);
    assert_int_equal(int_of(row, "uniform_exports"), 1);
    /* NULL columns are present as JSON null. */
    assert_true(json_object_object_get_ex(row, "server_id", &v));
    assert_null(v);
    assert_true(json_object_object_get_ex(row, "refreshed_ms", &v));
    assert_null(v);
    json_object_put(row);

    /* The generic reads (db_object.c) see the same object. */
    {
        struct model_obj *o = db_object_get(fx->db, ty("FileServer"), "fs1");

        assert_non_null(o);
        assert_string_equal(o->name, "fs nfs.example.com");
        model_obj_free(o);
    }

    /* Unknown, and of another type. */
    assert_null(db_row_get(fx->db, ty("FileServer"), "nope"));
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_non_null(strstr(err_message(), "FileServer 'nope' not found"));
    assert_null(db_row_get(fx->db, ty("FileSystem"), "fs1"));
    assert_int_equal(err_code(), ERR_NOT_FOUND);

    /* Booleans are stored as 0/1. */
    must_insert(fx->db, "FileServer",
                "{\"id\": \"fs2\", \"file_server_type\": \"NETWORK\", "
                "\"plugin_id\": \"" NFS_PLUGIN "\", \"access_host\": \"h2\", "
                "\"uniform_exports\": false}");
    row = db_row_get(fx->db, ty("FileServer"), "fs2");
    assert_non_null(row);
    assert_int_equal(int_of(row, "uniform_exports"), 0);
    assert_string_equal(str_of(row, "name"), "");
    json_object_put(row);
}

/* Update with and without the bump; a bump leaves explicit columns. */
static void
test_update(void **state)
{
    struct fixture *fx = *state;
    struct db_txn *t;
    json_object *row, *cols;

    add_file_server(fx->db, "fs1", "h1");
    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    assert_non_null(t);
    cols = J("{\"name\": \"renamed\", \"access_host\": \"h1b\", "
             "\"modified_ms\": 5}");
    assert_int_equal(db_txn_row_update(t, ty("FileServer"), "fs1", cols,
                                       false), 0);
    json_object_put(cols);
    row = db_txn_row_get(t, ty("FileServer"), "fs1");
    assert_non_null(row);
    assert_string_equal(str_of(row, "name"), "renamed");
    assert_string_equal(str_of(row, "access_host"), "h1b");
    assert_int_equal(int_of(row, "generation"), 0);
    assert_int_equal(int_of(row, "modified_ms"), 5);
    json_object_put(row);

    /* The bump: generation + 1 and modified now. */
    cols = J("{\"storage_description\": \"d\"}");
    assert_int_equal(db_txn_row_update(t, ty("FileServer"), "fs1", cols,
                                       true), 0);
    json_object_put(cols);
    row = db_txn_row_get(t, ty("FileServer"), "fs1");
    assert_int_equal(int_of(row, "generation"), 1);
    assert_true(int_of(row, "modified_ms") > 5);
    assert_string_equal(str_of(row, "storage_description"), "d");
    json_object_put(row);

    /* A bump with modified_ms given keeps it, and with generation given
     * keeps that. */
    cols = J("{\"modified_ms\": 7}");
    assert_int_equal(db_txn_row_update(t, ty("FileServer"), "fs1", cols,
                                       true), 0);
    json_object_put(cols);
    cols = J("{\"generation\": 40}");
    assert_int_equal(db_txn_row_update(t, ty("FileServer"), "fs1", cols,
                                       true), 0);
    json_object_put(cols);
    row = db_txn_row_get(t, ty("FileServer"), "fs1");
    assert_int_equal(int_of(row, "generation"), 40);
    assert_true(int_of(row, "modified_ms") > 7);
    json_object_put(row);
    cols = J("{\"modified_ms\": 9}");
    assert_int_equal(db_txn_row_update(t, ty("FileServer"), "fs1", cols,
                                       true), 0);
    json_object_put(cols);
    row = db_txn_row_get(t, ty("FileServer"), "fs1");
    assert_int_equal(int_of(row, "generation"), 41);
    assert_int_equal(int_of(row, "modified_ms"), 9);
    json_object_put(row);

    /* An empty update with a bump still bumps. */
    cols = J("{}");
    assert_int_equal(db_txn_row_update(t, ty("FileServer"), "fs1", cols,
                                       true), 0);
    json_object_put(cols);
    row = db_txn_row_get(t, ty("FileServer"), "fs1");
    assert_int_equal(int_of(row, "generation"), 42);
    json_object_put(row);

    /* Refusals: id and type never change; unknown columns; unknown or
     * mistyped objects. */
    cols = J("{\"id\": \"x\"}");
    assert_int_equal(db_txn_row_update(t, ty("FileServer"), "fs1", cols,
                                       true), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    json_object_put(cols);
    cols = J("{\"type\": \"Vm\"}");
    assert_int_equal(db_txn_row_update(t, ty("FileServer"), "fs1", cols,
                                       true), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    json_object_put(cols);
    cols = J("{\"no_such_column\": 1}");
    assert_int_equal(db_txn_row_update(t, ty("FileServer"), "fs1", cols,
                                       true), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_non_null(strstr(err_message(), "no_such_column"));
    json_object_put(cols);
    cols = J("{\"name\": \"x\"}");
    assert_int_equal(db_txn_row_update(t, ty("FileServer"), "nope", cols,
                                       true), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_int_equal(db_txn_row_update(t, ty("Repository"), "fs1", cols,
                                       true), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    json_object_put(cols);
    /* A value of a kind SQL cannot hold. */
    cols = J("{\"name\": [1, 2]}");
    assert_int_equal(db_txn_row_update(t, ty("FileServer"), "fs1", cols,
                                       true), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    json_object_put(cols);
    assert_int_equal(db_txn_commit(t), 0);
}

/* A snapshot written back is the object exactly: over a changed object,
 * and after a delete (then as a new row). */
static void
test_restore_exact(void **state)
{
    struct fixture *fx = *state;
    struct db_txn *t;
    json_object *snap, *row, *cols;

    add_file_server(fx->db, "fs1", "h1");
    add_file_system(fx->db, "fsys1", "nfs:/a", "fs1", "/a");
    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    cols = J("{\"size\": 100, \"free_size\": 50, \"description\": \"x\", "
             "\"user_data\": \"[{\\\"key\\\":\\\"k\\\",\\\"value\\\":"
             "\\\"v\\\"}]\"}");
    assert_int_equal(db_txn_row_update(t, ty("FileSystem"), "fsys1", cols,
                                       true), 0);
    json_object_put(cols);
    assert_int_equal(db_txn_commit(t), 0);

    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    snap = db_txn_row_get(t, ty("FileSystem"), "fsys1");
    assert_non_null(snap);
    assert_int_equal(int_of(snap, "generation"), 1);
    cols = J("{\"size\": 1, \"present\": 0, \"name\": \"changed\", "
             "\"description\": \"y\", \"user_data\": \"[]\"}");
    assert_int_equal(db_txn_row_update(t, ty("FileSystem"), "fsys1", cols,
                                       true), 0);
    json_object_put(cols);
    assert_int_equal(db_txn_row_restore(t, ty("FileSystem"), snap), 0);
    row = db_txn_row_get(t, ty("FileSystem"), "fsys1");
    assert_true(json_object_equal(row, snap));
    json_object_put(row);

    /* Deleted, then restored: a new row, every column as it was. */
    assert_int_equal(db_txn_row_delete(t, ty("FileSystem"), "fsys1"), 0);
    assert_null(db_txn_row_get(t, ty("FileSystem"), "fsys1"));
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_int_equal(db_txn_row_restore(t, ty("FileSystem"), snap), 0);
    row = db_txn_row_get(t, ty("FileSystem"), "fsys1");
    assert_true(json_object_equal(row, snap));
    json_object_put(row);
    assert_int_equal(db_txn_commit(t), 0);

    /* Committed, and the reader agrees. */
    row = db_row_get(fx->db, ty("FileSystem"), "fsys1");
    assert_true(json_object_equal(row, snap));
    json_object_put(row);
    json_object_put(snap);

    /* A row without an id cannot be restored. */
    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    snap = J("{\"name\": \"x\"}");
    assert_int_equal(db_txn_row_restore(t, ty("FileSystem"), snap), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    json_object_put(snap);
    db_txn_rollback(t);
}

/* While a job holds an object (locked), restoring a snapshot taken
 * without the lock keeps the mark: `locked` belongs to the engine. */
static void
test_restore_keeps_lock(void **state)
{
    struct fixture *fx = *state;
    struct db_txn *t;
    json_object *snap, *row, *cols;

    add_file_server(fx->db, "fs1", "h1");
    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    snap = db_txn_row_get(t, ty("FileServer"), "fs1");
    cols = J("{\"locked\": 1}");
    assert_int_equal(db_txn_row_update(t, ty("FileServer"), "fs1", cols,
                                       false), 0);
    json_object_put(cols);
    assert_int_equal(db_txn_row_restore(t, ty("FileServer"), snap), 0);
    row = db_txn_row_get(t, ty("FileServer"), "fs1");
    assert_int_equal(int_of(row, "locked"), 1);
    assert_int_equal(int_of(row, "generation"), int_of(snap, "generation"));
    json_object_put(row);
    json_object_put(snap);
    assert_int_equal(db_txn_commit(t), 0);
}

/* Ids by column value, by NULL, all; name order; unknown column. */
static void
test_ids(void **state)
{
    struct fixture *fx = *state;
    char **ids = NULL;
    size_t n = 0;
    struct db_txn *t;

    add_file_server(fx->db, "fsA", "ha");
    add_file_server(fx->db, "fsB", "hb");
    add_file_system(fx->db, "x3", "b-name", "fsA", "/3");
    add_file_system(fx->db, "x1", "c-name", "fsA", "/1");
    add_file_system(fx->db, "x2", "a-name", "fsA", "/2");
    add_file_system(fx->db, "y1", "a-name", "fsB", "/1");

    assert_int_equal(db_row_ids(fx->db, ty("FileSystem"), "file_server_id",
                                "fsA", &ids, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(ids[0], "x2");
    assert_string_equal(ids[1], "x3");
    assert_string_equal(ids[2], "x1");
    db_ids_free(ids, n);

    /* Same name: then by id. */
    assert_int_equal(db_row_ids(fx->db, ty("FileSystem"), NULL, NULL, &ids,
                                &n), 0);
    assert_int_equal(n, 4);
    assert_string_equal(ids[0], "x2");
    assert_string_equal(ids[1], "y1");
    db_ids_free(ids, n);

    /* IS NULL: neither file server belongs to a server. */
    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    assert_int_equal(db_txn_row_ids(t, ty("FileServer"), "server_id", NULL,
                                    &ids, &n), 0);
    assert_int_equal(n, 2);
    db_ids_free(ids, n);
    assert_int_equal(db_txn_row_ids(t, ty("FileSystem"), "file_server_id",
                                    "none", &ids, &n), 0);
    assert_int_equal(n, 0);
    assert_null(ids);
    db_ids_free(ids, n);
    /* A column of another table, or none at all: refused. */
    assert_int_equal(db_txn_row_ids(t, ty("FileSystem"), "name", "x", &ids,
                                    &n), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_int_equal(db_txn_row_ids(t, ty("FileSystem"), "x; DROP TABLE "
                                    "objects", "x", &ids, &n), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    db_txn_rollback(t);
}

/* Link tables: set replaces, get is ordered, unknown tables refused. */
static void
test_links(void **state)
{
    struct fixture *fx = *state;
    char *three[] = { "s3", "s1", "s2" }, *one[] = { "s2" };
    char **ids = NULL;
    size_t n = 0;
    struct db_txn *t;

    add_file_server(fx->db, "fs1", "h1");
    add_server(fx->db, "s1", "srv-1");
    add_server(fx->db, "s2", "srv-2");
    add_server(fx->db, "s3", "srv-3");
    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    assert_int_equal(db_txn_links_set(t, "file_server_admins", "fs1", three,
                                      3), 0);
    assert_int_equal(db_txn_links_set(t, "file_server_refreshers", "fs1",
                                      one, 1), 0);
    assert_int_equal(db_txn_links_get(t, "file_server_admins", "fs1", &ids,
                                      &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(ids[0], "s1");
    assert_string_equal(ids[2], "s3");
    db_ids_free(ids, n);
    assert_int_equal(db_txn_commit(t), 0);

    /* Rendered as SimpleId lists by the model (MF_REFLIST via a link). */
    {
        struct model_obj *o = db_object_get(fx->db, ty("FileServer"), "fs1");
        int i = model_field_index(ty("FileServer"), "adminServerIds");

        assert_non_null(o);
        assert_true(i >= 0);
        assert_int_equal(o->vals[i].kind, MV_REFS);
        assert_int_equal(o->vals[i].nrefs, 3);
        assert_string_equal(o->vals[i].refs[0].name, "srv-1");
        model_obj_free(o);
    }

    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    assert_int_equal(db_txn_links_set(t, "file_server_admins", "fs1", one,
                                      1), 0);
    assert_int_equal(db_txn_commit(t), 0);
    assert_int_equal(db_links_get(fx->db, "file_server_admins", "fs1", &ids,
                                  &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(ids[0], "s2");
    db_ids_free(ids, n);

    /* Deleting a server takes its links (cascade). */
    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    assert_int_equal(db_txn_row_delete(t, ty("Server"), "s2"), 0);
    assert_int_equal(db_txn_commit(t), 0);
    assert_int_equal(db_links_get(fx->db, "file_server_refreshers", "fs1",
                                  &ids, &n), 0);
    assert_int_equal(n, 0);
    db_ids_free(ids, n);

    /* Not a link table; an unknown server (foreign key). */
    assert_int_equal(db_links_get(fx->db, "objects", "fs1", &ids, &n), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    assert_int_equal(db_txn_links_set(t, "servers", "fs1", one, 1), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_int_equal(db_txn_links_set(t, "file_server_admins", "fs1", one,
                                      1), -1);
    assert_int_equal(err_code(), ERR_DB);
    db_txn_rollback(t);
}

/* Unknown columns, missing ids, CHECK and UNIQUE violations. */
static void
test_insert_errors(void **state)
{
    struct fixture *fx = *state;

    add_file_server(fx->db, "fs1", "h1");
    /* Unknown column: nothing is left behind (the objects row neither). */
    assert_int_equal(insert(fx->db, "FileServer",
                            "{\"id\": \"fs9\", \"file_server_type\": "
                            "\"NETWORK\", \"plugin_id\": \"" NFS_PLUGIN "\", "
                            "\"bogus\": 1}"), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_non_null(strstr(err_message(), "bogus"));
    assert_int_equal(count(fx->path, "SELECT COUNT(*) FROM objects WHERE "
                                     "id = 'fs9'"), 0);
    /* No id. */
    assert_int_equal(insert(fx->db, "FileServer", "{\"name\": \"x\"}"), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_int_equal(insert(fx->db, "FileServer", "{\"id\": \"\"}"), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    /* CHECK constraint. */
    assert_int_equal(insert(fx->db, "FileServer",
                            "{\"id\": \"fs8\", \"file_server_type\": "
                            "\"TAPE\", \"plugin_id\": \"" NFS_PLUGIN "\"}"),
                     -1);
    assert_int_equal(err_code(), ERR_INVALID);
    /* UNIQUE: the access host of NETWORK file servers, and the id. */
    assert_int_equal(insert(fx->db, "FileServer",
                            "{\"id\": \"fs7\", \"file_server_type\": "
                            "\"NETWORK\", \"plugin_id\": \"" NFS_PLUGIN "\", "
                            "\"access_host\": \"h1\"}"), -1);
    assert_int_equal(err_code(), ERR_EXISTS);
    assert_int_equal(insert(fx->db, "FileSystem",
                            "{\"id\": \"fs1\", \"file_server_id\": \"fs1\", "
                            "\"path\": \"/x\"}"), -1);
    assert_int_equal(err_code(), ERR_EXISTS);
    /* One repository per (file system, share path). */
    add_file_system(fx->db, "fsys1", "nfs:/a", "fs1", "/a");
    must_insert(fx->db, "Repository", "{\"id\": \"r1\", \"name\": \"r1\", "
                                      "\"file_system_id\": \"fsys1\"}");
    assert_int_equal(insert(fx->db, "Repository",
                            "{\"id\": \"r2\", \"file_system_id\": "
                            "\"fsys1\", \"share_path\": \"\"}"), -1);
    assert_int_equal(err_code(), ERR_EXISTS);
    must_insert(fx->db, "Repository", "{\"id\": \"r2\", \"file_system_id\": "
                                      "\"fsys1\", \"share_path\": \"sub\"}");
    /* A double cannot be bound. */
    assert_int_equal(insert(fx->db, "FileSystem",
                            "{\"id\": \"fsys2\", \"file_server_id\": "
                            "\"fs1\", \"path\": \"/b\", \"size\": 1.5}"), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_int_equal(count(fx->path, "SELECT COUNT(*) FROM objects o WHERE "
                                     "NOT EXISTS (SELECT 1 FROM "
                                     "file_systems x WHERE x.id = o.id) AND "
                                     "o.type = 'FileSystem'"), 0);
}

/* Deleting a row takes its objects row and what cascades from it, with
 * their objects rows (the triggers of 0008_storage.sql). */
static void
test_delete_no_orphans(void **state)
{
    struct fixture *fx = *state;
    struct db_txn *t;
    char *admins[] = { "s1" };

    add_server(fx->db, "s1", "srv-1");
    /* A local file server of s1 with a file system. */
    must_insert(fx->db, "FileServer",
                "{\"id\": \"lfs\", \"name\": \"Local FS srv-1\", "
                "\"file_server_type\": \"LOCAL\", \"plugin_id\": \""
                OCFS2_PLUGIN "\", \"server_id\": \"s1\"}");
    add_file_system(fx->db, "lfsys", "local:/OVS", "lfs", "/OVS");
    /* A NETWORK file server with two file systems, a repository with a
     * disk and a mount. */
    add_file_server(fx->db, "nfs", "h1");
    add_file_system(fx->db, "f1", "nfs:/1", "nfs", "/1");
    add_file_system(fx->db, "f2", "nfs:/2", "nfs", "/2");
    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    assert_int_equal(db_txn_links_set(t, "file_server_admins", "nfs", admins,
                                      1), 0);
    assert_int_equal(db_txn_commit(t), 0);
    must_insert(fx->db, "Repository", "{\"id\": \"r1\", \"name\": \"r1\", "
                                      "\"file_system_id\": \"f2\"}");
    must_insert(fx->db, "VirtualDisk",
                "{\"id\": \"d1.img\", \"repository_id\": \"r1\", "
                "\"disk_type\": \"VIRTUAL_DISK\", \"path\": \"x\"}");
    must_insert(fx->db, "FileSystemMount",
                "{\"id\": \"s1_mount_r1\", \"server_id\": \"s1\", "
                "\"file_system_id\": \"f2\", \"repository_id\": \"r1\", "
                "\"absolute_path\": \"/OVS/Repositories/r1\"}");

    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    /* A file system with a repository cannot go (no cascade there). */
    assert_int_equal(db_txn_row_delete(t, ty("FileSystem"), "f2"), -1);
    assert_int_equal(err_code(), ERR_DB);
    db_txn_rollback(t);

    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    /* Wrong type: not found, nothing deleted. */
    assert_int_equal(db_txn_row_delete(t, ty("FileSystem"), "r1"), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    /* The repository takes its disk and its mount. */
    assert_int_equal(db_txn_row_delete(t, ty("Repository"), "r1"), 0);
    assert_int_equal(db_txn_row_delete(t, ty("Repository"), "r1"), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    /* The file server takes its file systems and its links. */
    assert_int_equal(db_txn_row_delete(t, ty("FileServer"), "nfs"), 0);
    /* The server takes its local file server and its file system. */
    assert_int_equal(db_txn_row_delete(t, ty("Server"), "s1"), 0);
    assert_int_equal(db_txn_commit(t), 0);

    assert_int_equal(count(fx->path, "SELECT COUNT(*) FROM objects WHERE "
                                     "type IN ('FileServer', 'FileSystem', "
                                     "'Repository', 'VirtualDisk', "
                                     "'FileSystemMount', 'Server')"), 0);
    assert_int_equal(count(fx->path, "SELECT COUNT(*) FROM file_systems"), 0);
    assert_int_equal(count(fx->path, "SELECT COUNT(*) FROM "
                                     "file_server_admins"), 0);
    assert_int_equal(count(fx->path, "SELECT COUNT(*) FROM virtual_disks"),
                     0);
    /* The seeded plug-ins stay. */
    assert_int_equal(count(fx->path, "SELECT COUNT(*) FROM objects WHERE "
                                     "type = 'FileServerPlugin'"), 2);
}

/*
 * The VM rules of servers and pools (db_pool_check_remove,
 * db_pool_check_delete, db_server_check_delete) count the vms table: a
 * server that runs a VM leaves neither its pool nor the inventory, a pool
 * that holds a VM is not deleted; templates and stopped VMs do not count
 * for the server, templates do not count for the pool.
 */
static void
test_vm_rules(void **state)
{
    struct fixture *fx = *state;
    struct db_pool_member *m;
    struct db_server *srv;
    struct db_pool *p;
    struct db_txn *t;
    json_object *cols;

    must_insert(fx->db, "ServerPool", "{\"id\": \"p1\", \"name\": "
                                      "\"pool-1\"}");
    must_insert(fx->db, "Server",
                "{\"id\": \"s1\", \"name\": \"srv-1\", \"ip_address\": "
                "\"srv-1\", \"libvirt_uri\": \"test:///default\", "
                "\"discovered_ms\": 1, \"server_pool_id\": \"p1\", "
                "\"maintenance_mode\": 1}");
    must_insert(fx->db, "Vm", "{\"id\": \"t1\", \"name\": \"tmpl\", "
                              "\"run_state\": \"TEMPLATE\"}");
    must_insert(fx->db, "Vm", "{\"id\": \"v1\", \"name\": \"web-1\", "
                              "\"run_state\": \"RUNNING\", \"server_id\": "
                              "\"s1\", \"server_pool_id\": \"p1\"}");

    p = db_pool_get(fx->db, "p1");
    m = db_pool_member_get(fx->db, "s1");
    srv = db_server_get(fx->db, "s1");
    assert_non_null(p);
    assert_non_null(m);
    assert_non_null(srv);
    assert_int_equal(m->active_vms, 1);
    assert_string_equal(m->active_vm_name, "web-1");
    assert_int_equal(p->nvms, 1);
    assert_int_equal(db_pool_check_remove(p, m), -1);
    assert_int_equal(err_code(), ERR_STATE);
    assert_non_null(strstr(err_message(), "runs 1 VM ('web-1')"));
    assert_int_equal(db_server_check_delete(srv), -1);
    assert_int_equal(err_code(), ERR_STATE);
    {
        bool wol;

        xfree(srv->manager_uuid);
        srv->manager_uuid = xstrdup("mgr");
        xfree(srv->ipmi_address);
        srv->ipmi_address = xstrdup("127.0.0.1");
        assert_int_equal(db_server_check_power(srv, DB_POWER_KILL, "mgr",
                                               &wol), -1);
        assert_non_null(strstr(err_message(), "cannot kill server 'srv-1': "
                                              "it runs 1 VM ('web-1')"));
    }
    db_pool_member_free(m);
    db_server_free(srv);
    db_pool_free(p);

    /* Stopped: the server may leave; the pool still holds the VM. */
    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    cols = json_object_new_object();
    json_object_object_add(cols, "run_state",
                           json_object_new_string("STOPPED"));
    assert_int_equal(db_txn_row_update(t, ty("Vm"), "v1", cols, true), 0);
    json_object_put(cols);
    assert_int_equal(db_txn_commit(t), 0);
    p = db_pool_get(fx->db, "p1");
    m = db_pool_member_get(fx->db, "s1");
    assert_int_equal(m->active_vms, 0);
    assert_null(m->active_vm_name);
    assert_int_equal(db_pool_check_remove(p, m), 0);
    db_pool_member_free(m);
    db_pool_free(p);
    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    cols = json_object_new_object();
    json_object_object_add(cols, "server_pool_id", NULL);
    assert_int_equal(db_txn_row_update(t, ty("Server"), "s1", cols, true), 0);
    json_object_put(cols);
    assert_int_equal(db_txn_commit(t), 0);
    p = db_pool_get(fx->db, "p1");
    assert_int_equal(p->nservers, 0);
    assert_int_equal(db_pool_check_delete(p), -1);
    assert_int_equal(err_code(), ERR_STATE);
    assert_non_null(strstr(err_message(), "holds 1 VM"));
    db_pool_free(p);

    /* Gone: only the template is left, which holds nothing. */
    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    assert_int_equal(db_txn_row_delete(t, ty("Vm"), "v1"), 0);
    assert_int_equal(db_txn_commit(t), 0);
    p = db_pool_get(fx->db, "p1");
    assert_int_equal(p->nvms, 0);
    assert_int_equal(db_pool_check_delete(p), 0);
    db_pool_free(p);
}

/* The reader sees committed rows only. */
static void
test_reader_committed(void **state)
{
    struct fixture *fx = *state;
    struct db_txn *t;
    json_object *row;
    char **ids;
    size_t n;

    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    row = J("{\"id\": \"fs1\", \"file_server_type\": \"NETWORK\", "
            "\"plugin_id\": \"" NFS_PLUGIN "\", \"access_host\": \"h\"}");
    assert_int_equal(db_txn_row_insert(t, ty("FileServer"), row), 0);
    json_object_put(row);
    assert_null(db_row_get(fx->db, ty("FileServer"), "fs1"));
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_int_equal(db_row_ids(fx->db, ty("FileServer"), NULL, NULL, &ids,
                                &n), 0);
    assert_int_equal(n, 0);
    db_ids_free(ids, n);
    db_txn_rollback(t);
    assert_null(db_row_get(fx->db, ty("FileServer"), "fs1"));
}


/* ---- the storage operations' undo, through the job engine ---- */

#define WAIT_MS 10000
#define SRV1 "01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:01"
#define SRV2 "01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:02"

static int
setup_engine(void **state)
{
    struct fixture *fx;
    struct jobs_conf c;

    if (setup(state) < 0)
        return -1;
    fx = *state;
    memset(&c, 0, sizeof(c));
    c.db = fx->db;
    c.workers = 2;
    c.priority_workers = 1;
    c.lock_timeout_ms = 5000;
    c.retention_ms = 86400000;
    c.event_retention_ms = 86400000;
    if (jobs_init(&c) < 0 || jobs_recover() < 0 || jobs_start() < 0)
        return -1;
    return 0;
}

static int
teardown_engine(void **state)
{
    jobs_stop(0);
    return teardown(state);
}

/* Two servers owned by the Manager (sealed passwords are not needed:
 * nothing here connects). */
static void
add_owned_servers(struct fixture *fx)
{
    char *mgr = db_manager_id(fx->db), *text;

    assert_non_null(mgr);
    text = xasprintf("{\"id\": \"" SRV1 "\", \"name\": \"unit-1\", "
                     "\"ip_address\": \"unit-1\", \"libvirt_uri\": "
                     "\"test:///nowhere.xml\", \"discovered_ms\": 1, "
                     "\"manager_uuid\": \"%s\"}", mgr);
    must_insert(fx->db, "Server", text);
    xfree(text);
    text = xasprintf("{\"id\": \"" SRV2 "\", \"name\": \"unit-2\", "
                     "\"ip_address\": \"unit-2\", \"libvirt_uri\": "
                     "\"test:///nowhere2.xml\", \"discovered_ms\": 1, "
                     "\"manager_uuid\": \"%s\"}", mgr);
    must_insert(fx->db, "Server", text);
    xfree(text);
    xfree(mgr);
}

/* The rows of the objects @ids (type:id strings, NULL-terminated) and
 * the link lists of @owner, as one JSON text. */
static char *
rows_text(struct fixture *fx, const char *const *ids, const char *owner)
{
    json_object *all = json_object_new_object(), *v;
    char **links = NULL;
    size_t n = 0, i;
    char *text;

    for (; *ids; ids++) {
        char *type = xstrdup(*ids), *id = strchr(type, ':');

        assert_non_null(id);
        *id++ = '\0';
        v = db_row_get(fx->db, ty(type), id);
        if (!v)
            err_clear();
        json_object_object_add(all, *ids, v);
        xfree(type);
    }
    if (owner) {
        static const char *const tables[] = { "file_server_admins",
                                              "file_server_refreshers" };

        for (i = 0; i < 2; i++) {
            json_object *a = json_object_new_array();
            size_t k;

            assert_int_equal(db_links_get(fx->db, tables[i], owner, &links,
                                          &n), 0);
            for (k = 0; k < n; k++)
                json_object_array_add(a, json_object_new_string(links[k]));
            db_ids_free(links, n);
            json_object_object_add(all, tables[i], a);
        }
    }
    text = xstrdup(json_object_to_json_string_ext(all,
                                                  JSON_C_TO_STRING_PLAIN));
    json_object_put(all);
    return text;
}

/* Run [@op with @args (taken), diag.fail when @fail] holding @lock_id;
 * return the finished job (caller frees). */
static struct db_job *
run_job(struct fixture *fx, const char *op, json_object *args,
        const char *lock_id, bool fail)
{
    struct job_object_req obj = { lock_id, "Object", "unit", true };
    struct job_op_req ops[2];
    json_object *fargs = json_object_new_object();
    struct job_req r;
    int64_t id, until = time_mono_ms() + WAIT_MS;

    json_object_object_add(fargs, "message",
                           json_object_new_string("after the operation"));
    memset(ops, 0, sizeof(ops));
    ops[0].op = op;
    ops[0].description = op;
    ops[0].args = args;
    ops[1].op = "diag.fail";
    ops[1].description = "fail";
    ops[1].args = fargs;
    memset(&r, 0, sizeof(r));
    r.name = op;
    r.user = "unit";
    r.objects = &obj;
    r.nobjects = 1;
    r.ops = ops;
    r.nops = fail ? 2 : 1;
    assert_int_equal(jobs_submit(&r, &id), 0);
    json_object_put(args);
    json_object_put(fargs);
    for (;;) {
        struct db_job *j = db_job_get(fx->db, id);

        assert_non_null(j);
        if (j->done)
            return j;
        db_job_free(j);
        if (time_mono_ms() > until)
            fail_msg("job %" PRId64 " not done after %d ms", id, WAIT_MS);
        usleep(2000);
    }
}

/* The states of job @id's operations, joined by spaces. */
static void
op_states(struct fixture *fx, int64_t id, char *out, size_t size)
{
    struct db_job_op *ops = NULL;
    size_t n = 0, i, len = 0;

    assert_int_equal(db_job_ops(fx->db, id, &ops, &n), 0);
    out[0] = '\0';
    for (i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, size - len, "%s%s", i ? " " : "",
                                ops[i].state);
    db_job_ops_free(ops, n);
}

/* A NETWORK file server "nfs" with admin SRV1, refresher SRV2 and two
 * file systems. */
static void
make_nfs(struct fixture *fx)
{
    char *admins[] = { SRV1 }, *refr[] = { SRV2 };
    struct db_txn *t;

    add_owned_servers(fx);
    add_file_server(fx->db, "nfs", "filer");
    add_file_system(fx->db, "f1", "nfs:/1", "nfs", "/1");
    add_file_system(fx->db, "f2", "nfs:/2", "nfs", "/2");
    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    assert_int_equal(db_txn_links_set(t, "file_server_admins", "nfs", admins,
                                      1), 0);
    assert_int_equal(db_txn_links_set(t, "file_server_refreshers", "nfs",
                                      refr, 1), 0);
    assert_int_equal(db_txn_commit(t), 0);
}

static void
test_fileserver_update_undo(void **state)
{
    static const char *const ids[] = { "FileServer:nfs", NULL };
    struct fixture *fx = *state;
    char *AUTOFREE before = NULL, *AUTOFREE after = NULL;
    AUTOPTR(db_job) struct db_job *j = NULL;
    char states[128];

    make_nfs(fx);
    before = rows_text(fx, ids, "nfs");
    j = run_job(fx, "fileserver.update",
                J("{\"id\": \"nfs\", \"name\": \"renamed\", "
                  "\"description\": \"d\", \"userData\": [{\"key\": \"k\", "
                  "\"value\": \"v\"}], \"admins\": [\"" SRV1 "\", \"" SRV2
                  "\"], \"refreshers\": [], \"uniformExports\": false}"),
                "nfs", true);
    assert_int_equal(j->run_state, JOB_FAILURE);
    op_states(fx, j->id, states, sizeof(states));
    assert_string_equal(states, "UNDONE FAILED");
    after = rows_text(fx, ids, "nfs");
    assert_string_equal(before, after);

    /* Without the failure the edit stays. */
    db_job_free(j);
    j = run_job(fx, "fileserver.update",
                J("{\"id\": \"nfs\", \"name\": \"renamed\", \"admins\": [\""
                  SRV2 "\"]}"), "nfs", false);
    assert_int_equal(j->run_state, JOB_SUCCESS);
    {
        json_object *row = db_row_get(fx->db, ty("FileServer"), "nfs");

        assert_string_equal(str_of(row, "name"), "renamed");
        assert_int_equal(int_of(row, "generation"), 1);
        json_object_put(row);
    }
    /* A stale generation fails and changes nothing. */
    db_job_free(j);
    xfree(before);
    before = rows_text(fx, ids, "nfs");
    j = run_job(fx, "fileserver.update",
                J("{\"id\": \"nfs\", \"generation\": 0, \"name\": \"x\"}"),
                "nfs", false);
    assert_int_equal(j->run_state, JOB_FAILURE);
    assert_string_equal(j->error_type, "CONFLICT");
    xfree(after);
    after = rows_text(fx, ids, "nfs");
    assert_string_equal(before, after);
}

static void
test_fileserver_delete_undo(void **state)
{
    static const char *const ids[] = { "FileServer:nfs", "FileSystem:f1",
                                       "FileSystem:f2", NULL };
    struct fixture *fx = *state;
    char *AUTOFREE before = NULL, *AUTOFREE after = NULL;
    AUTOPTR(db_job) struct db_job *j = NULL;
    char states[128];

    make_nfs(fx);
    before = rows_text(fx, ids, "nfs");
    j = run_job(fx, "fileserver.delete", J("{\"id\": \"nfs\"}"), "nfs",
                true);
    assert_int_equal(j->run_state, JOB_FAILURE);
    op_states(fx, j->id, states, sizeof(states));
    assert_string_equal(states, "UNDONE FAILED");
    after = rows_text(fx, ids, "nfs");
    assert_string_equal(before, after);

    /* With a repository on it the job refuses, with the rule's words. */
    must_insert(fx->db, "Repository", "{\"id\": \"r1\", \"name\": \"r1\", "
                                      "\"file_system_id\": \"f2\"}");
    db_job_free(j);
    j = run_job(fx, "fileserver.delete", J("{\"id\": \"nfs\"}"), "nfs",
                false);
    assert_int_equal(j->run_state, JOB_FAILURE);
    assert_non_null(strstr(j->error_message, "has repository 'r1'"));
}

/* An unowned repository with a disk, a thin clone of it (backing), an
 * ISO, a template mapping two of them, and an assembly. */
static void
make_full_repo(struct fixture *fx)
{
    make_nfs(fx);
    must_insert(fx->db, "Repository", "{\"id\": \"r1\", \"name\": \"r1\", "
                                      "\"file_system_id\": \"f1\"}");
    /* The overlay first by name: the undo must restore its base first. */
    must_insert(fx->db, "VirtualDisk",
                "{\"id\": \"z-base.img\", \"name\": \"z-base\", "
                "\"repository_id\": \"r1\", \"disk_type\": \"VIRTUAL_DISK\", "
                "\"path\": \"/VirtualDisks/z-base.img\", \"size\": 100}");
    must_insert(fx->db, "VirtualDisk",
                "{\"id\": \"a-over.img\", \"name\": \"a-over\", "
                "\"repository_id\": \"r1\", \"disk_type\": \"VIRTUAL_DISK\", "
                "\"path\": \"/VirtualDisks/a-over.img\", \"format\": "
                "\"qcow2\", \"backing_id\": \"z-base.img\"}");
    must_insert(fx->db, "VirtualDisk",
                "{\"id\": \"cd.iso\", \"name\": \"cd\", \"repository_id\": "
                "\"r1\", \"disk_type\": \"VIRTUAL_CDROM\", \"path\": "
                "\"/ISOs/cd.iso\"}");
    must_insert(fx->db, "Vm", "{\"id\": \"vm1\", \"name\": \"tmpl\", "
                              "\"run_state\": \"TEMPLATE\", "
                              "\"repository_id\": \"r1\"}");
    must_insert(fx->db, "VmDiskMapping",
                "{\"id\": \"m0\", \"vm_id\": \"vm1\", \"virtual_disk_id\": "
                "\"a-over.img\", \"disk_target\": 0}");
    must_insert(fx->db, "VmDiskMapping",
                "{\"id\": \"m1\", \"vm_id\": \"vm1\", \"virtual_disk_id\": "
                "\"cd.iso\", \"disk_target\": 1}");
    must_insert(fx->db, "Assembly", "{\"id\": \"as1\", \"name\": \"app\", "
                                    "\"repository_id\": \"r1\"}");
    must_insert(fx->db, "AssemblyVm", "{\"id\": \"av1\", \"name\": \"web\", "
                                      "\"assembly_id\": \"as1\"}");
    must_insert(fx->db, "AssemblyVirtualDisk",
                "{\"id\": \"ad1\", \"assembly_id\": \"as1\", "
                "\"assembly_vm_id\": \"av1\"}");
}

static void
test_repo_delete_unowned_undo(void **state)
{
    static const char *const ids[] = {
        "Repository:r1", "VirtualDisk:z-base.img", "VirtualDisk:a-over.img",
        "VirtualDisk:cd.iso", "Vm:vm1", "VmDiskMapping:m0",
        "VmDiskMapping:m1", "Assembly:as1", "AssemblyVm:av1",
        "AssemblyVirtualDisk:ad1", NULL,
    };
    struct fixture *fx = *state;
    char *AUTOFREE before = NULL, *AUTOFREE after = NULL;
    AUTOPTR(db_job) struct db_job *j = NULL;
    char states[128];

    make_full_repo(fx);
    before = rows_text(fx, ids, NULL);
    /* Every object is there to compare (a missing one reads null). */
    assert_non_null(strstr(before, "\"AssemblyVirtualDisk:ad1\":{"));
    assert_non_null(strstr(before, "\"VirtualDisk:a-over.img\":{"));
    j = run_job(fx, "repo.delete", J("{\"repo\": \"r1\"}"), "r1", true);
    assert_int_equal(j->run_state, JOB_FAILURE);
    op_states(fx, j->id, states, sizeof(states));
    assert_string_equal(states, "UNDONE FAILED");
    after = rows_text(fx, ids, NULL);
    assert_string_equal(before, after);

    /* For real: every row goes, and no objects row is left. */
    db_job_free(j);
    j = run_job(fx, "repo.delete", J("{\"repo\": \"r1\"}"), "r1", false);
    assert_int_equal(j->run_state, JOB_SUCCESS);
    assert_int_equal(count(fx->path, "SELECT COUNT(*) FROM objects WHERE "
                                     "type IN ('Repository', 'VirtualDisk', "
                                     "'Vm', 'VmDiskMapping', 'Assembly', "
                                     "'AssemblyVm', 'AssemblyVirtualDisk')"),
                     0);
}

static void
test_repo_delete_refusals(void **state)
{
    struct fixture *fx = *state;
    struct storage_view v = { fx->db, NULL };
    char *mgr = db_manager_id(fx->db);

    make_full_repo(fx);
    /* Unowned: a VM of another repository mapping one of its disks. */
    must_insert(fx->db, "Repository", "{\"id\": \"r2\", \"name\": \"r2\", "
                                      "\"file_system_id\": \"f2\"}");
    must_insert(fx->db, "Vm", "{\"id\": \"vm2\", \"name\": \"other\", "
                              "\"run_state\": \"STOPPED\", "
                              "\"repository_id\": \"r2\"}");
    must_insert(fx->db, "VmDiskMapping",
                "{\"id\": \"m9\", \"vm_id\": \"vm2\", \"virtual_disk_id\": "
                "\"cd.iso\", \"disk_target\": 0}");
    assert_int_equal(storage_check_repo_delete(&v, "r1", mgr), -1);
    assert_int_equal(err_code(), ERR_STATE);
    assert_non_null(strstr(err_message(), "virtual machine 'other' of "
                                          "another repository"));
    /* Owned: not while it holds anything, naming it. */
    assert_int_equal(storage_check_repo_delete(&v, "r2", "someone"), 0);
    {
        struct db_txn *t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
        json_object *cols = json_object_new_object();

        json_object_object_add(cols, "manager_uuid",
                               json_object_new_string(mgr));
        assert_int_equal(db_txn_row_update(t, ty("Repository"), "r2", cols,
                                           true), 0);
        json_object_put(cols);
        assert_int_equal(db_txn_commit(t), 0);
    }
    assert_int_equal(storage_check_repo_delete(&v, "r2", mgr), -1);
    assert_non_null(strstr(err_message(), "virtual machine or template "
                                          "'other'"));
    /* Presented: refused first. */
    must_insert(fx->db, "FileSystemMount",
                "{\"id\": \"" SRV1 "_mount_r1\", \"server_id\": \"" SRV1 "\", "
                "\"file_system_id\": \"f1\", \"repository_id\": \"r1\", "
                "\"absolute_path\": \"/OVS/Repositories/r1\"}");
    assert_int_equal(storage_check_repo_delete(&v, "r1", mgr), -1);
    assert_non_null(strstr(err_message(), "presented to server 'unit-1'"));
    assert_int_equal(storage_check_server_delete(&v, SRV1), -1);
    assert_non_null(strstr(err_message(), "unpresent repository 'r1' "
                                          "first"));
    xfree(mgr);
}

/* Discovery's local storage: made once, kept by rediscovery, sizes
 * updated, a directory that goes deleted or kept while used. */
static void
test_local_sync(void **state)
{
    struct fixture *fx = *state;
    struct hv_node_facts f;
    struct hv_disk disks[2];
    struct db_txn *t;
    char **fsrv = NULL, **fss = NULL, *first = NULL;
    size_t n = 0, nfs = 0;
    json_object *row;

    add_owned_servers(fx);
    memset(&f, 0, sizeof(f));
    memset(disks, 0, sizeof(disks));
    str_copy(disks[0].path, "/OVS/a", sizeof(disks[0].path));
    disks[0].capacity_bytes = 1000;
    disks[0].allocation_bytes = 400;
    str_copy(disks[1].path, "/OVS/b", sizeof(disks[1].path));
    disks[1].capacity_bytes = 2000;
    f.disks = disks;
    f.ndisks = 2;
    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    assert_int_equal(storage_local_sync(NULL, t, SRV1, "unit-1", &f), 0);
    assert_int_equal(db_txn_commit(t), 0);
    assert_int_equal(db_row_ids(fx->db, ty("FileServer"), "server_id", SRV1,
                                &fsrv, &n), 0);
    assert_int_equal(n, 1);
    row = db_row_get(fx->db, ty("FileServer"), fsrv[0]);
    assert_string_equal(str_of(row, "name"), "Local FS unit-1");
    assert_string_equal(str_of(row, "file_server_type"), "LOCAL");
    assert_string_equal(str_of(row, "plugin_id"), OCFS2_PLUGIN);
    json_object_put(row);
    assert_int_equal(db_row_ids(fx->db, ty("FileSystem"), "file_server_id",
                                fsrv[0], &fss, &nfs), 0);
    assert_int_equal(nfs, 2);
    row = db_row_get(fx->db, ty("FileSystem"), fss[0]);
    assert_string_equal(str_of(row, "name"), "local:/OVS/a");
    assert_int_equal(int_of(row, "free_size"), 600);
    json_object_put(row);
    first = xstrdup(fss[0]);
    db_ids_free(fss, nfs);

    /* Rediscovery: the same ids, new sizes; /OVS/b used by a repository
     * goes missing, /OVS/a stays. */
    assert_int_equal(db_row_ids(fx->db, ty("FileSystem"), "path", "/OVS/b",
                                &fss, &nfs), 0);
    assert_int_equal(nfs, 1);
    {
        char *text = xasprintf("{\"id\": \"rb\", \"name\": \"rb\", "
                               "\"file_system_id\": \"%s\"}", fss[0]);

        must_insert(fx->db, "Repository", text);
        xfree(text);
    }
    disks[0].allocation_bytes = 900;
    f.ndisks = 1;
    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    assert_int_equal(storage_local_sync(NULL, t, SRV1, "unit-1", &f), 0);
    assert_int_equal(db_txn_commit(t), 0);
    row = db_row_get(fx->db, ty("FileSystem"), first);
    assert_int_equal(int_of(row, "free_size"), 100);
    assert_int_equal(int_of(row, "present"), 1);
    json_object_put(row);
    row = db_row_get(fx->db, ty("FileSystem"), fss[0]);
    assert_int_equal(int_of(row, "present"), 0);
    json_object_put(row);
    /* Unused once the repository goes: deleted by the next sync. */
    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    assert_int_equal(db_txn_row_delete(t, ty("Repository"), "rb"), 0);
    assert_int_equal(storage_local_sync(NULL, t, SRV1, "unit-1", &f), 0);
    assert_int_equal(db_txn_commit(t), 0);
    assert_null(db_row_get(fx->db, ty("FileSystem"), fss[0]));
    db_ids_free(fss, nfs);
    assert_int_equal(db_row_ids(fx->db, ty("FileServer"), "server_id", SRV1,
                                &fss, &nfs), 0);
    assert_int_equal(nfs, 1);
    assert_string_equal(fss[0], fsrv[0]);
    db_ids_free(fss, nfs);
    db_ids_free(fsrv, n);
    xfree(first);
}

/* A server delete takes its local file server and its place on admin
 * lists; the undo puts every row back. */
static void
test_server_delete_undo(void **state)
{
    struct fixture *fx = *state;
    char *AUTOFREE before = NULL, *AUTOFREE after = NULL;
    char *AUTOFREE before_nfs = NULL, *AUTOFREE after_nfs = NULL;
    AUTOPTR(db_job) struct db_job *j = NULL;
    const char *ids[4] = { NULL, NULL, NULL, NULL };
    char *lfs_key = NULL, *fs_key = NULL, **v = NULL;
    struct hv_node_facts f;
    struct hv_disk disk;
    struct db_txn *t;
    char states[128];
    size_t n = 0;

    make_nfs(fx);
    memset(&f, 0, sizeof(f));
    memset(&disk, 0, sizeof(disk));
    str_copy(disk.path, "/OVS/local", sizeof(disk.path));
    disk.capacity_bytes = 1 << 20;
    f.disks = &disk;
    f.ndisks = 1;
    t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    assert_int_equal(storage_local_sync(NULL, t, SRV1, "unit-1", &f), 0);
    assert_int_equal(db_txn_commit(t), 0);
    assert_int_equal(db_row_ids(fx->db, ty("FileServer"), "server_id", SRV1,
                                &v, &n), 0);
    assert_int_equal(n, 1);
    lfs_key = xasprintf("FileServer:%s", v[0]);
    db_ids_free(v, n);
    assert_int_equal(db_row_ids(fx->db, ty("FileSystem"), "path",
                                "/OVS/local", &v, &n), 0);
    assert_int_equal(n, 1);
    fs_key = xasprintf("FileSystem:%s", v[0]);
    db_ids_free(v, n);
    ids[0] = lfs_key;
    ids[1] = fs_key;
    ids[2] = "Server:" SRV1;
    before = rows_text(fx, ids, strchr(lfs_key, ':') + 1);
    before_nfs = rows_text(fx, ids + 3, "nfs");

    j = run_job(fx, "server.delete", J("{\"id\": \"" SRV1 "\"}"), SRV1,
                true);
    assert_int_equal(j->run_state, JOB_FAILURE);
    op_states(fx, j->id, states, sizeof(states));
    assert_string_equal(states, "UNDONE FAILED");
    after = rows_text(fx, ids, strchr(lfs_key, ':') + 1);
    after_nfs = rows_text(fx, ids + 3, "nfs");
    assert_string_equal(before, after);
    assert_string_equal(before_nfs, after_nfs);
    assert_non_null(strstr(after_nfs, SRV1));

    /* For real: the local file server goes, the NFS server loses it. */
    db_job_free(j);
    j = run_job(fx, "server.delete", J("{\"id\": \"" SRV1 "\"}"), SRV1,
                false);
    assert_int_equal(j->run_state, JOB_SUCCESS);
    xfree(after_nfs);
    after_nfs = rows_text(fx, ids + 3, "nfs");
    assert_null(strstr(after_nfs, SRV1));
    assert_int_equal(count(fx->path, "SELECT COUNT(*) FROM objects WHERE "
                                     "type = 'FileServer'"), 1);
    xfree(lfs_key);
    xfree(fs_key);
}

/* Pure rules: share paths, access hosts. */
static void
test_rules(void **state)
{
    static const char *const good[] = { "", "a", "a/b", "repo-1_x.y", NULL };
    static const char *const bad[] = { "/a", "a/", "a//b", "..", "a/../b",
                                       ".hidden", "a/.b", "a b", "a\n",
                                       NULL };
    char out[256];
    size_t i;

    (void)state;
    for (i = 0; good[i]; i++)
        assert_int_equal(storage_check_share_path(good[i]), 0);
    for (i = 0; bad[i]; i++) {
        assert_int_equal(storage_check_share_path(bad[i]), -1);
        assert_int_equal(err_code(), ERR_INVALID);
    }
    assert_int_equal(storage_check_access_host("NFS.Example.COM", out,
                                               sizeof(out)), 0);
    assert_string_equal(out, "nfs.example.com");
    assert_int_equal(storage_check_access_host("2001:DB8:0::1", out,
                                               sizeof(out)), 0);
    assert_string_equal(out, "2001:db8::1");
    assert_int_equal(storage_check_access_host("192.0.2.1", out,
                                               sizeof(out)), 0);
    assert_string_equal(out, "192.0.2.1");
    assert_int_equal(storage_check_access_host("nfs:/export", out,
                                               sizeof(out)), -1);
    assert_int_equal(storage_check_access_host("a..b", out, sizeof(out)),
                     -1);
    assert_int_equal(storage_check_access_host("", out, sizeof(out)), -1);
    assert_int_equal(storage_check_access_host(NULL, out, sizeof(out)), -1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define TE(fn) cmocka_unit_test_setup_teardown(fn, setup_engine, \
                                               teardown_engine)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_insert_get),
        T(test_update),
        T(test_restore_exact),
        T(test_restore_keeps_lock),
        T(test_ids),
        T(test_links),
        T(test_insert_errors),
        T(test_delete_no_orphans),
        T(test_vm_rules),
        T(test_reader_committed),
        TE(test_fileserver_update_undo),
        TE(test_fileserver_delete_undo),
        TE(test_repo_delete_unowned_undo),
        T(test_repo_delete_refusals),
        T(test_local_sync),
        TE(test_server_delete_undo),
        cmocka_unit_test(test_rules),
    };

    /* Migrations log at info: keep the TAP output readable. */
    log_set_level(LOG_LEVEL_WARN);
    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests_name("storage_db", tests, NULL, NULL);
}
