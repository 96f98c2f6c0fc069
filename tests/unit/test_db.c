/*
 * test_db.c - unit tests of src/db/: open and migrate, damaged and newer
 * databases, generic object reads with paging and filters, the Manager,
 * users and their lock-out arithmetic, user changes inside a caller's
 * transaction, sessions, backup and restore.
 *
 * DESIGN: every test gets a fresh directory from mkdtemp() (setup) that
 * teardown removes with everything in it, so tests share nothing and can
 * run in any order. Where a test needs to look under db/ (the schema
 * version row, an open write transaction of "another process") it uses
 * SQLite directly, as an operator with the sqlite3 shell would.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tmpdir.h"
#include "db/db.h"
#include "model/model.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/str.h"

struct fixture {
    char dir[64];  /* the test's own temporary directory */
    char *path;    /* <dir>/ovmm.db */
};

static int
setup(void **state)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));

    if (tmpdir_make(fx->dir, sizeof(fx->dir), "db") < 0) {
        xfree(fx);
        return -1;
    }
    fx->path = xasprintf("%s/ovmm.db", fx->dir);
    err_clear();
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;

    tmpdir_remove(fx->dir);
    xfree(fx->path);
    xfree(fx);
    return 0;
}

/* ---- helpers ---- */

static bool
file_exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

static bool
is_hex(const char *s, size_t len)
{
    size_t i;

    if (strlen(s) != len)
        return false;
    for (i = 0; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    }
    return true;
}

/* Run @sql on the file @path with a connection of our own. */
static int
raw_exec(const char *path, const char *sql)
{
    sqlite3 *h = NULL;
    int rc;

    rc = sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
    sqlite3_close(h);
    return rc;
}

/* The first value of the one-column query @sql on @path, or NULL. */
static char *
raw_query(const char *path, const char *sql)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    char *v = NULL;

    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) ==
            SQLITE_OK &&
        sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = xstrdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

static void
write_file(const char *path, const char *data)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(data, f);
    fclose(f);
}

static const struct model_type *
user_type(void)
{
    const struct model_type *t = model_type_find("User");

    assert_non_null(t);
    return t;
}

static const struct model_type *
manager_type(void)
{
    const struct model_type *t = model_type_find("Manager");

    assert_non_null(t);
    return t;
}

/* The generation of the object @id of type @t. */
static int64_t
generation_of(struct db *db, const struct model_type *t, const char *id)
{
    AUTOPTR(model_obj) struct model_obj *o = db_object_get(db, t, id);

    assert_non_null(o);
    return o->generation;
}

static void
create_user(struct db *db, const char *name, const char *role, char **id)
{
    assert_int_equal(db_user_create(db, name, role, "$argon2id$hash", NULL, id),
                     0);
}

/* ---- open, migrations, refusals ---- */

static void
test_open_migrates(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(db) struct db *db = NULL;
    AUTOPTR(model_obj) struct model_obj *m = NULL;
    char *AUTOFREE id = NULL;
    char *AUTOFREE wal = xasprintf("%s-wal", fx->path);
    const struct model_type *t = manager_type();
    struct stat st;
    int i;

    assert_false(file_exists(fx->path));
    db = db_open(fx->path);
    assert_non_null(db);
    assert_true(file_exists(fx->path));
    assert_true(file_exists(wal));
    assert_int_equal(stat(fx->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(wal, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_true(db_schema_version_latest() >= 1);
    assert_int_equal(db_schema_version(db), db_schema_version_latest());

    id = db_manager_id(db);
    assert_non_null(id);
    assert_true(is_hex(id, 32));
    assert_true(str_has_prefix(id, "0004fb0000010000"));

    m = db_object_get(db, t, id);
    assert_non_null(m);
    assert_string_equal(m->name, "OVM Manager");
    assert_string_equal(m->description, "");
    assert_string_equal(m->user_data, "[]");
    assert_true(m->created_ms > 1600000000000LL);
    assert_true(m->created_ms <= time_now_ms());
    for (i = 0; i < (int)t->nfields; i++) {
        const struct model_field *f = &t->fields[i];

        if (strcmp(f->json, "managerUuid") == 0) {
            assert_int_equal(m->vals[i].kind, MV_TEXT);
            assert_string_equal(m->vals[i].s, id);
        } else if (strcmp(f->json, "managerRunState") == 0) {
            assert_string_equal(m->vals[i].s, "STARTING");
        } else if (strcmp(f->json, "managerVersion") == 0) {
            assert_string_equal(m->vals[i].s, "0.0.0");
        } else if (f->kind == MF_NOW_MS) {
            assert_int_equal(m->vals[i].kind, MV_NULL);
        }
    }
}

static void
test_reopen_keeps_data(void **state)
{
    struct fixture *fx = *state;
    struct db *db;
    char *AUTOFREE id1 = NULL;
    char *AUTOFREE id2 = NULL;
    AUTOPTR(db_user) struct db_user *u = NULL;
    AUTOPTR(model_obj) struct model_obj *m = NULL;
    int64_t gen;

    db = db_open(fx->path);
    assert_non_null(db);
    id1 = db_manager_id(db);
    gen = generation_of(db, manager_type(), id1);
    assert_int_equal(db_manager_set_state(db, "RUNNING"), 0);
    assert_int_equal(db_manager_set_info(db, "mgr-1", "1.2.3"), 0);
    assert_int_equal(generation_of(db, manager_type(), id1), gen + 2);
    assert_int_equal(db_manager_set_state(db, "FLYING"), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    create_user(db, "admin", "administrator", NULL);
    db_close(db);

    db = db_open(fx->path);
    assert_non_null(db);
    assert_int_equal(db_schema_version(db), db_schema_version_latest());
    id2 = db_manager_id(db);
    assert_string_equal(id1, id2);
    m = db_object_get(db, manager_type(), id2);
    assert_non_null(m);
    assert_string_equal(m->name, "mgr-1");
    assert_string_equal(m->vals[1].s, "1.2.3");
    assert_string_equal(m->vals[2].s, "RUNNING");
    assert_int_equal(m->generation, gen + 2);
    u = db_user_get_by_name(db, "admin");
    assert_non_null(u);
    assert_string_equal(u->role, "administrator");
    db_close(db);
}

static void
test_future_version_refused(void **state)
{
    struct fixture *fx = *state;
    struct db *db;
    char *AUTOFREE sql = NULL;
    char *AUTOFREE want = NULL;

    db = db_open(fx->path);
    assert_non_null(db);
    db_close(db);
    sql = xasprintf("UPDATE schema_version SET version = %d",
                    db_schema_version_latest() + 1);
    assert_int_equal(raw_exec(fx->path, sql), SQLITE_OK);

    assert_null(db_open(fx->path));
    assert_int_equal(err_code(), ERR_DB);
    want = xasprintf("database '%s' has schema version %d; this ovmmd knows "
                     "up to %d", fx->path, db_schema_version_latest() + 1,
                     db_schema_version_latest());
    assert_string_equal(err_message(), want);
}

static void
test_migration_failure(void **state)
{
    struct fixture *fx = *state;
    char *AUTOFREE v = NULL;
    char *AUTOFREE m = NULL;

    /* A table in the way makes 0001 fail halfway: all of it rolls back. */
    assert_false(file_exists(fx->path));
    {
        sqlite3 *h = NULL;

        assert_int_equal(sqlite3_open(fx->path, &h), SQLITE_OK);
        assert_int_equal(sqlite3_exec(h, "CREATE TABLE sessions (x)", NULL,
                                      NULL, NULL), SQLITE_OK);
        sqlite3_close(h);
    }
    assert_null(db_open(fx->path));
    assert_int_equal(err_code(), ERR_DB);
    assert_non_null(strstr(err_message(), "cannot apply migration "
                                          "'schema/db/0001_base.sql'"));
    assert_non_null(strstr(err_message(), "already exists"));
    v = raw_query(fx->path, "SELECT version FROM schema_version");
    assert_string_equal(v, "0");
    m = raw_query(fx->path, "SELECT COUNT(*) FROM sqlite_schema "
                            "WHERE name IN ('objects', 'manager')");
    assert_string_equal(m, "0");
}

static void
test_damaged_refused(void **state)
{
    struct fixture *fx = *state;
    struct db *db;
    char *AUTOFREE wal = xasprintf("%s-wal", fx->path);
    char *AUTOFREE other = xasprintf("%s/not-a-db", fx->dir);
    char garbage[4096];
    struct stat st;
    off_t page, npages;
    int i, fd;

    db = db_open(fx->path);
    assert_non_null(db);
    for (i = 0; i < 300; i++) {
        char name[32];

        snprintf(name, sizeof(name), "user-%03d", i);
        create_user(db, name, "operator", NULL);
    }
    db_close(db);
    assert_false(file_exists(wal));  /* checkpointed into the main file */

    /* Garbage over every page but the first two and the last one. */
    assert_int_equal(stat(fx->path, &st), 0);
    npages = st.st_size / 4096;
    assert_true(npages > 8);
    for (i = 0; i < (int)sizeof(garbage); i++)
        garbage[i] = (char)(i * 7 + 13);
    fd = open(fx->path, O_WRONLY);
    assert_true(fd >= 0);
    for (page = 2; page < npages - 1; page++)
        assert_int_equal(pwrite(fd, garbage, sizeof(garbage), page * 4096),
                         (ssize_t)sizeof(garbage));
    close(fd);

    assert_null(db_open(fx->path));
    assert_int_equal(err_code(), ERR_DB);
    assert_non_null(strstr(err_message(), "is damaged"));
    assert_non_null(strstr(err_message(), fx->path));

    /* A file that is not SQLite at all. */
    write_file(other, "this is not a database, just some text that is long "
                      "enough to look like a header to nobody\n");
    assert_null(db_open(other));
    assert_int_equal(err_code(), ERR_DB);
    assert_true(strstr(err_message(), "is damaged") ||
                strstr(err_message(), "not a database"));
}

/* ---- generic objects ---- */

static void
test_object_paging(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(db) struct db *db = db_open(fx->path);
    const struct model_type *t = user_type();
    struct model_obj **objs = NULL;
    struct model_ref *refs = NULL;
    size_t n = 0, i;
    int64_t total = -1;
    char name[32];
    json_object *j;

    assert_non_null(db);
    /* Created out of order, so only ORDER BY can produce name order. */
    for (i = 0; i < 25; i++) {
        snprintf(name, sizeof(name), "user%02zu", (i * 7) % 25);
        create_user(db, name, i % 5 == 0 ? "read-only" : "operator", NULL);
    }

    assert_int_equal(db_object_list(db, t, NULL, NULL, 10, 20, &objs, &n,
                                    &total), 0);
    assert_int_equal(n, 5);
    assert_int_equal(total, 25);
    for (i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "user%02zu", 20 + i);
        assert_string_equal(objs[i]->name, name);
        assert_ptr_equal(objs[i]->type, t);
        assert_true(is_hex(objs[i]->id, 32));
        assert_int_equal(objs[i]->vals[0].kind, MV_TEXT);     /* role */
        assert_int_equal(objs[i]->vals[1].kind, MV_INT);      /* disabled */
        assert_int_equal(objs[i]->vals[1].i, 0);
        assert_int_equal(objs[i]->vals[3].kind, MV_INT);      /* failed */
        assert_int_equal(objs[i]->vals[4].kind, MV_NULL);     /* last login */
    }
    /* The row renders (model/ reads what db/ filled). */
    j = model_obj_to_json(objs[0], "https://h:7002/ovm/core/wsapi/rest");
    assert_non_null(j);
    assert_string_equal(json_object_get_string(
                            json_object_object_get(j, "role")), "read-only");
    json_object_put(j);
    model_objs_free(objs, n);

    assert_int_equal(db_object_list(db, t, NULL, NULL, 10, 0, &objs, &n,
                                    NULL), 0);
    assert_int_equal(n, 10);
    assert_string_equal(objs[0]->name, "user00");
    assert_string_equal(objs[9]->name, "user09");
    model_objs_free(objs, n);

    /* No limit; an offset past the end is an empty page, not an error. */
    assert_int_equal(db_object_list(db, t, NULL, NULL, -1, 0, &objs, &n,
                                    &total), 0);
    assert_int_equal(n, 25);
    model_objs_free(objs, n);
    assert_int_equal(db_object_list(db, t, NULL, NULL, 10, 100, &objs, &n,
                                    &total), 0);
    assert_int_equal(n, 0);
    assert_int_equal(total, 25);
    model_objs_free(objs, n);

    assert_int_equal(db_object_refs(db, t, NULL, NULL, 10, 20, &refs, &n,
                                    &total), 0);
    assert_int_equal(n, 5);
    assert_int_equal(total, 25);
    assert_string_equal(refs[0].name, "user20");
    assert_string_equal(refs[4].name, "user24");
    assert_true(is_hex(refs[0].id, 32));
    model_refs_free(refs, n);

    /* Column filters: a field's column, and "id". */
    assert_int_equal(db_object_refs(db, t, "role", "read-only", -1, 0, &refs,
                                    &n, &total), 0);
    assert_int_equal(n, 5);
    assert_int_equal(total, 5);
    {
        AUTOPTR(model_obj) struct model_obj *o = NULL;
        struct model_obj **one = NULL;
        size_t n1 = 0;

        assert_int_equal(db_object_list(db, t, "id", refs[2].id, -1, 0,
                                        &one, &n1, &total), 0);
        assert_int_equal(n1, 1);
        assert_int_equal(total, 1);
        assert_string_equal(one[0]->name, refs[2].name);
        o = db_object_get(db, t, refs[2].id);
        assert_non_null(o);
        assert_string_equal(o->vals[0].s, "read-only");
        model_objs_free(one, n1);
    }
    model_refs_free(refs, n);

    /* The Manager through the same code. */
    assert_int_equal(db_object_list(db, manager_type(), NULL, NULL, 100, 0,
                                    &objs, &n, &total), 0);
    assert_int_equal(n, 1);
    assert_int_equal(total, 1);
    assert_string_equal(objs[0]->name, "OVM Manager");
    model_objs_free(objs, n);
}

static void
test_object_errors(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(db) struct db *db = db_open(fx->path);
    struct model_obj **objs = NULL;
    struct model_ref *refs = NULL;
    size_t n = 0;
    int64_t total;

    assert_non_null(db);
    assert_null(db_object_get(db, user_type(), "nope"));
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_string_equal(err_message(), "User 'nope' not found");
    assert_null(db_object_get(db, manager_type(),
                              "0004fb00000100000000000000000000"));
    assert_int_equal(err_code(), ERR_NOT_FOUND);

    /* Columns of the table that are not fields, and plain junk. */
    assert_int_equal(db_object_list(db, user_type(), "password_hash", "x",
                                    -1, 0, &objs, &n, &total), -1);
    assert_int_equal(err_code(), ERR_INTERNAL);
    assert_int_equal(db_object_list(db, user_type(), "login", "x", -1, 0,
                                    &objs, &n, &total), -1);
    assert_int_equal(err_code(), ERR_INTERNAL);
    assert_int_equal(db_object_refs(db, user_type(),
                                    "1=1; DROP TABLE objects; --", "x", -1,
                                    0, &refs, &n, &total), -1);
    assert_int_equal(err_code(), ERR_INTERNAL);
    /* A bool field is not a filter column either. */
    assert_int_equal(db_object_refs(db, user_type(), "disabled", "0", -1, 0,
                                    &refs, &n, &total), -1);
    assert_int_equal(err_code(), ERR_INTERNAL);
    /* Nothing was harmed. */
    assert_int_equal(db_object_refs(db, manager_type(), NULL, NULL, -1, 0,
                                    &refs, &n, &total), 0);
    assert_int_equal(n, 1);
    model_refs_free(refs, n);
}

/*
 * A descriptor that is not registered, with every field kind, on a table
 * the test creates: db_object.c must read any descriptor. "members" lists
 * the users whose role equals the group's id.
 */
static const struct model_field group_fields[] = {
    { "ownerId", MF_REF, "owner_id", "User", NULL },
    { "members", MF_REFLIST, NULL, "User", "role" },
    { "size", MF_INT, "size", NULL, NULL },
    { "enabled", MF_BOOL, "enabled", NULL, NULL },
    { "extra", MF_JSON, "extra", NULL, NULL },
    { "groupTime", MF_NOW_MS, NULL, NULL, NULL },
};

static const struct model_type group_type = {
    .name = "Group",
    .code = "ffff",
    .table = "test_groups",
    .fields = group_fields,
    .nfields = sizeof(group_fields) / sizeof(group_fields[0]),
};

static const struct model_field broken_fields[] = {
    { "things", MF_REFLIST, NULL, "NoSuchType", "x" },
};

static const struct model_type broken_type = {
    .name = "Broken",
    .code = "fffe",
    .table = "test_groups",
    .fields = broken_fields,
    .nfields = 1,
};

static void
test_object_generic(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(db) struct db *db = db_open(fx->path);
    AUTOPTR(model_obj) struct model_obj *o = NULL;
    char *AUTOFREE alice = NULL;
    char *AUTOFREE sql = NULL;
    struct model_obj **objs = NULL;
    size_t n = 0;
    int64_t total = 0;
    json_object *j;

    assert_non_null(db);
    create_user(db, "bob", "operator", NULL);
    create_user(db, "alice", "operator", &alice);
    create_user(db, "carol", "read-only", NULL);
    sql = xasprintf(
        "CREATE TABLE test_groups (id TEXT PRIMARY KEY REFERENCES "
        "objects(id) ON DELETE CASCADE, owner_id TEXT, size INTEGER, "
        "enabled INTEGER NOT NULL DEFAULT 0, extra TEXT);"
        "INSERT INTO objects (id, type, name, created_ms, modified_ms) "
        "VALUES ('operator', 'Group', 'ops', 1, 2), "
        "('read-only', 'Group', 'readers', 1, 2), "
        "('administrator', 'Group', 'admins', 1, 2);"
        "INSERT INTO test_groups VALUES "
        "('operator', '%s', 3, 1, '{\"a\":1}'), "
        "('read-only', 'gone', NULL, 0, NULL), "
        "('administrator', NULL, 0, 0, NULL)", alice);
    assert_int_equal(raw_exec(fx->path, sql), SQLITE_OK);

    o = db_object_get(db, &group_type, "operator");
    assert_non_null(o);
    assert_string_equal(o->name, "ops");
    assert_int_equal(o->created_ms, 1);
    assert_int_equal(o->modified_ms, 2);
    assert_int_equal(o->vals[0].kind, MV_TEXT);
    assert_string_equal(o->vals[0].s, alice);
    assert_string_equal(o->vals[0].ref_name, "alice");
    assert_int_equal(o->vals[1].kind, MV_REFS);
    assert_int_equal(o->vals[1].nrefs, 2);
    assert_string_equal(o->vals[1].refs[0].name, "alice");
    assert_string_equal(o->vals[1].refs[1].name, "bob");
    assert_int_equal(o->vals[2].kind, MV_INT);
    assert_int_equal(o->vals[2].i, 3);
    assert_int_equal(o->vals[3].i, 1);
    assert_int_equal(o->vals[4].kind, MV_TEXT);
    assert_string_equal(o->vals[4].s, "{\"a\":1}");
    assert_int_equal(o->vals[5].kind, MV_NULL);
    j = model_obj_to_json(o, "https://h/rest");
    assert_string_equal(json_object_get_string(json_object_object_get(
                            json_object_object_get(j, "ownerId"), "name")),
                        "alice");
    assert_int_equal(json_object_array_length(
                         json_object_object_get(j, "members")), 2);
    json_object_put(j);
    model_obj_free(steal_ptr(&o));

    /* A dangling reference keeps its id, without a name. */
    o = db_object_get(db, &group_type, "read-only");
    assert_non_null(o);
    assert_string_equal(o->vals[0].s, "gone");
    assert_null(o->vals[0].ref_name);
    assert_int_equal(o->vals[1].nrefs, 1);
    assert_int_equal(o->vals[2].kind, MV_NULL);
    assert_int_equal(o->vals[4].kind, MV_NULL);

    assert_int_equal(db_object_list(db, &group_type, NULL, NULL, -1, 0,
                                    &objs, &n, &total), 0);
    assert_int_equal(n, 3);
    assert_string_equal(objs[0]->name, "admins");
    assert_int_equal(objs[0]->vals[1].nrefs, 0);
    assert_int_equal(objs[0]->vals[0].kind, MV_NULL);
    assert_string_equal(objs[1]->name, "ops");
    assert_string_equal(objs[2]->name, "readers");
    model_objs_free(objs, n);

    /* Filters on a reference column and on an integer column. */
    assert_int_equal(db_object_list(db, &group_type, "owner_id", alice, -1,
                                    0, &objs, &n, &total), 0);
    assert_int_equal(n, 1);
    assert_int_equal(total, 1);
    assert_string_equal(objs[0]->id, "operator");
    model_objs_free(objs, n);
    assert_int_equal(db_object_list(db, &group_type, "size", "0", -1, 0,
                                    &objs, &n, &total), 0);
    assert_int_equal(n, 1);
    assert_string_equal(objs[0]->id, "administrator");
    model_objs_free(objs, n);
    assert_int_equal(db_object_list(db, &group_type, "enabled", "1", -1, 0,
                                    &objs, &n, &total), -1);
    assert_int_equal(err_code(), ERR_INTERNAL);
    assert_int_equal(db_object_list(db, &group_type, "extra", "x", -1, 0,
                                    &objs, &n, &total), -1);
    assert_int_equal(err_code(), ERR_INTERNAL);

    /* A reference list to a type nobody registered is a bug, not a crash. */
    assert_null(db_object_get(db, &broken_type, "operator"));
    assert_int_equal(err_code(), ERR_INTERNAL);
    assert_non_null(strstr(err_message(), "NoSuchType"));
}

/* ---- users ---- */

static void
test_users(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(db) struct db *db = db_open(fx->path);
    const struct model_type *t = user_type();
    char *AUTOFREE id = NULL;
    int64_t count = -1, gen, until = -1, now = 1700000000000LL;
    const int64_t lockout = 15 * 60 * 1000;
    struct db_user *u;
    int i;

    assert_non_null(db);
    assert_int_equal(db_user_count(db, &count), 0);
    assert_int_equal(count, 0);
    create_user(db, "alice", "operator", &id);
    assert_true(is_hex(id, 32));
    assert_true(str_has_prefix(id, "0004fb0001000000"));
    {
        /* The description is written with the user, in one transaction. */
        char *AUTOFREE did = NULL;
        AUTOPTR(model_obj) struct model_obj *o = NULL;

        assert_int_equal(db_user_create(db, "dora", "read-only", "h",
                                        "made in a test", &did), 0);
        o = db_object_get(db, t, did);
        assert_non_null(o);
        assert_string_equal(o->description, "made in a test");
        assert_int_equal(o->generation, 0);
        assert_int_equal(db_user_delete(db, "dora"), 0);
    }

    assert_int_equal(db_user_create(db, "alice", "administrator", "h",
                                    NULL, NULL), -1);
    assert_int_equal(err_code(), ERR_EXISTS);
    assert_string_equal(err_message(), "user 'alice' already exists");
    assert_int_equal(db_user_create(db, "bob", "superuser", "h", NULL,
                                    NULL), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_non_null(strstr(err_message(), "cannot create user 'bob'"));
    assert_int_equal(db_user_count(db, &count), 0);
    assert_int_equal(count, 1);

    u = db_user_get_by_name(db, "alice");
    assert_non_null(u);
    assert_string_equal(u->id, id);
    assert_string_equal(u->name, "alice");
    assert_string_equal(u->role, "operator");
    assert_string_equal(u->password_hash, "$argon2id$hash");
    assert_int_equal(u->failed_logins, 0);
    assert_int_equal(u->locked_until_ms, 0);
    assert_int_equal(u->last_login_ms, 0);
    assert_false(u->disabled);
    db_user_free(u);
    assert_null(db_user_get_by_name(db, "carol"));
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_string_equal(err_message(), "user 'carol' not found");

    /* Lock-out arithmetic, max 5: four failures only count. */
    gen = generation_of(db, t, id);
    for (i = 1; i <= 4; i++) {
        assert_int_equal(db_user_login_failed(db, id, now + i, 5, lockout,
                                              &until), 0);
        assert_int_equal(until, 0);
        u = db_user_get_by_name(db, "alice");
        assert_int_equal(u->failed_logins, i);
        assert_int_equal(u->locked_until_ms, 0);
        db_user_free(u);
    }
    assert_int_equal(db_user_login_failed(db, id, now + 5, 5, lockout,
                                          &until), 0);
    assert_int_equal(until, now + 5 + lockout);
    u = db_user_get_by_name(db, "alice");
    assert_int_equal(u->failed_logins, 0);
    assert_int_equal(u->locked_until_ms, now + 5 + lockout);
    db_user_free(u);
    {
        /* Bookkeeping: modified_ms moves, generation does not. */
        AUTOPTR(model_obj) struct model_obj *o = db_object_get(db, t, id);

        assert_int_equal(o->generation, gen);
        assert_int_equal(o->modified_ms, now + 5);
    }
    assert_int_equal(db_user_login_failed(db, "0004fb000100000000000000",
                                          now, 5, lockout, NULL), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);

    /* A success clears the count and records the time. */
    assert_int_equal(db_user_login_failed(db, id, now + 6, 5, lockout, NULL),
                     0);
    assert_int_equal(db_user_login_ok(db, id, now + 7), 0);
    u = db_user_get_by_name(db, "alice");
    assert_int_equal(u->failed_logins, 0);
    assert_int_equal(u->last_login_ms, now + 7);
    db_user_free(u);
    assert_int_equal(generation_of(db, t, id), gen);
    assert_int_equal(db_user_login_ok(db, "nobody", now), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);

    /* Password: new hash, counters and lock-out cleared, generation+1. */
    assert_int_equal(db_user_login_failed(db, id, now + 8, 5, lockout, NULL),
                     0);
    assert_int_equal(db_user_set_password(db, "alice", "$argon2id$new"), 0);
    u = db_user_get_by_name(db, "alice");
    assert_string_equal(u->password_hash, "$argon2id$new");
    assert_int_equal(u->failed_logins, 0);
    assert_int_equal(u->locked_until_ms, 0);
    db_user_free(u);
    assert_int_equal(generation_of(db, t, id), gen + 1);
    assert_int_equal(db_user_set_password(db, "carol", "x"), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);

    /* Administrator lock: locking keeps counters, unlocking clears. */
    assert_int_equal(db_user_login_failed(db, id, now + 9, 5, lockout, NULL),
                     0);
    assert_int_equal(db_user_set_disabled(db, "alice", true), 0);
    u = db_user_get_by_name(db, "alice");
    assert_true(u->disabled);
    assert_int_equal(u->failed_logins, 1);
    db_user_free(u);
    assert_int_equal(generation_of(db, t, id), gen + 2);
    assert_int_equal(db_user_set_disabled(db, "alice", false), 0);
    u = db_user_get_by_name(db, "alice");
    assert_false(u->disabled);
    assert_int_equal(u->failed_logins, 0);
    db_user_free(u);
    assert_int_equal(generation_of(db, t, id), gen + 3);
    assert_int_equal(db_user_set_disabled(db, "carol", true), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);

    /* Delete: the object goes with it. */
    assert_int_equal(db_user_delete(db, "alice"), 0);
    assert_null(db_user_get_by_name(db, "alice"));
    assert_null(db_object_get(db, t, id));
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_int_equal(db_user_delete(db, "alice"), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_int_equal(db_user_count(db, &count), 0);
    assert_int_equal(count, 0);
}

/* ---- sessions ---- */

static void
session_add(struct db *db, const char *token, const char *user,
            int64_t last_seen, int64_t expires)
{
    struct db_session s = {
        .token_hash = (char *)(uintptr_t)token,
        .user_id = (char *)(uintptr_t)user,
        .csrf_token = (char *)(uintptr_t)"csrf",
        .created_ms = last_seen,
        .last_seen_ms = last_seen,
        .expires_ms = expires,
    };

    assert_int_equal(db_session_create(db, &s), 0);
}

static bool
session_exists(struct db *db, const char *token)
{
    struct db_session *s = db_session_get(db, token);
    bool found = s != NULL;

    if (!found)
        assert_int_equal(err_code(), ERR_NOT_FOUND);
    db_session_free(s);
    return found;
}

static void
test_sessions(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(db) struct db *db = db_open(fx->path);
    char *AUTOFREE alice = NULL;
    char *AUTOFREE bob = NULL;
    struct db_session *s;
    struct db_session dup = { .token_hash = (char *)(uintptr_t)"t1",
                              .csrf_token = (char *)(uintptr_t)"c" };
    const int64_t now = 1700000000000LL, hour = 3600 * 1000;

    assert_non_null(db);
    create_user(db, "alice", "operator", &alice);
    create_user(db, "bob", "operator", &bob);

    session_add(db, "t1", alice, now, now + 8 * hour);
    s = db_session_get(db, "t1");
    assert_non_null(s);
    assert_string_equal(s->token_hash, "t1");
    assert_string_equal(s->user_id, alice);
    assert_string_equal(s->csrf_token, "csrf");
    assert_int_equal(s->created_ms, now);
    assert_int_equal(s->last_seen_ms, now);
    assert_int_equal(s->expires_ms, now + 8 * hour);
    db_session_free(s);

    assert_int_equal(db_session_touch(db, "t1", now + 60000), 0);
    s = db_session_get(db, "t1");
    assert_int_equal(s->last_seen_ms, now + 60000);
    db_session_free(s);
    assert_int_equal(db_session_touch(db, "nope", now), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_false(session_exists(db, "nope"));

    /* Same token twice; a session of a user that does not exist. */
    dup.user_id = alice;
    assert_int_equal(db_session_create(db, &dup), -1);
    assert_int_equal(err_code(), ERR_EXISTS);
    dup.token_hash = (char *)(uintptr_t)"t9";
    dup.user_id = (char *)(uintptr_t)"0004fb00010000000000000000000000";
    assert_int_equal(db_session_create(db, &dup), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);

    /* Purge at now + 2h with a 30 min idle limit. */
    session_add(db, "expired", alice, now + 2 * hour - 1000, now + 2 * hour);
    session_add(db, "idle", alice, now, now + 8 * hour);
    session_add(db, "fresh", bob, now + 2 * hour - 1000, now + 8 * hour);
    assert_int_equal(db_session_touch(db, "t1", now + 2 * hour - 5000), 0);
    assert_int_equal(db_session_purge(db, now + 2 * hour, 30 * 60 * 1000),
                     0);
    assert_false(session_exists(db, "expired"));
    assert_false(session_exists(db, "idle"));
    assert_true(session_exists(db, "fresh"));
    assert_true(session_exists(db, "t1"));
    /* idle_ms 0: only expiry counts. */
    assert_int_equal(db_session_purge(db, now + 7 * hour, 0), 0);
    assert_true(session_exists(db, "t1"));
    assert_true(session_exists(db, "fresh"));

    /* Per user, single, and through the user's deletion. */
    session_add(db, "t2", alice, now, now + 8 * hour);
    assert_int_equal(db_session_delete_user(db, alice), 0);
    assert_false(session_exists(db, "t1"));
    assert_false(session_exists(db, "t2"));
    assert_true(session_exists(db, "fresh"));
    assert_int_equal(db_session_delete(db, "fresh"), 0);
    assert_false(session_exists(db, "fresh"));
    assert_int_equal(db_session_delete(db, "fresh"), 0);
    session_add(db, "t3", bob, now, now + 8 * hour);
    assert_int_equal(db_user_delete(db, "bob"), 0);
    assert_false(session_exists(db, "t3"));
}

/* ---- user changes inside a caller's transaction (job operations) ---- */

static void
test_user_txn(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(db) struct db *db = db_open(fx->path);
    const struct model_type *t = user_type();
    const int64_t now = time_now_ms(), hour = 3600 * 1000;
    char *AUTOFREE id = NULL;
    char *AUTOFREE id2 = NULL;
    struct db_txn *tx;
    struct db_user *u;
    int64_t count = -1, gen;

    assert_non_null(db);

    /* Rolled back: nothing is left, although the txn saw it. */
    tx = db_txn_begin(db, DB_SYNC_FULL);
    assert_non_null(tx);
    assert_int_equal(db_txn_user_create(tx, NULL, "alice", "operator",
                                        "$argon2id$a", "made in a txn",
                                        &id), 0);
    u = db_txn_user_get_by_name(tx, "alice");
    assert_non_null(u);
    assert_string_equal(u->id, id);
    db_user_free(u);
    u = db_txn_user_get_by_id(tx, id);
    assert_non_null(u);
    assert_string_equal(u->name, "alice");
    db_user_free(u);
    db_txn_rollback(tx);
    assert_null(db_user_get_by_name(db, "alice"));
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_null(db_object_get(db, t, id));
    assert_int_equal(db_user_count(db, &count), 0);
    assert_int_equal(count, 0);
    xfree(steal_ptr(&id));

    /* Committed: the user and its description. */
    tx = db_txn_begin(db, DB_SYNC_FULL);
    assert_non_null(tx);
    assert_int_equal(db_txn_user_create(tx, NULL, "alice", "operator",
                                        "$argon2id$a", "made in a txn",
                                        &id), 0);
    /* A taken name inside the same transaction; a bad role. */
    assert_int_equal(db_txn_user_create(tx, NULL, "alice", "read-only",
                                        "h", NULL, NULL), -1);
    assert_int_equal(err_code(), ERR_EXISTS);
    assert_string_equal(err_message(), "user 'alice' already exists");
    assert_int_equal(db_txn_user_create(tx, NULL, "bob", "superuser", "h",
                                        NULL, NULL), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_int_equal(db_txn_commit(tx), 0);
    {
        AUTOPTR(model_obj) struct model_obj *o = db_object_get(db, t, id);

        assert_non_null(o);
        assert_string_equal(o->name, "alice");
        assert_string_equal(o->description, "made in a txn");
    }
    u = db_user_get_by_name(db, "alice");
    assert_non_null(u);
    assert_string_equal(u->role, "operator");
    assert_string_equal(u->password_hash, "$argon2id$a");
    db_user_free(u);
    gen = generation_of(db, t, id);

    /* Unknown users. */
    tx = db_txn_begin(db, DB_SYNC_FULL);
    assert_non_null(tx);
    assert_null(db_txn_user_get_by_name(tx, "carol"));
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_null(db_txn_user_get_by_id(tx, "0004fb0001000000ffff"));
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_int_equal(db_txn_user_set_password(tx, "carol", "h"), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_int_equal(db_txn_user_set_disabled(tx, "carol", true), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_int_equal(db_txn_user_delete(tx, "carol"), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    db_txn_rollback(tx);

    /* Password: rolled back changes nothing, not even the sessions. */
    session_add(db, "s1", id, now, now + hour);
    tx = db_txn_begin(db, DB_SYNC_FULL);
    assert_non_null(tx);
    assert_int_equal(db_txn_user_set_password(tx, "alice", "$argon2id$b"),
                     0);
    u = db_txn_user_get_by_name(tx, "alice");
    assert_string_equal(u->password_hash, "$argon2id$b");
    db_user_free(u);
    db_txn_rollback(tx);
    u = db_user_get_by_name(db, "alice");
    assert_string_equal(u->password_hash, "$argon2id$a");
    db_user_free(u);
    assert_true(session_exists(db, "s1"));
    assert_int_equal(generation_of(db, t, id), gen);
    /* Committed: new hash, generation + 1, sessions ended with it. */
    tx = db_txn_begin(db, DB_SYNC_FULL);
    assert_non_null(tx);
    assert_int_equal(db_txn_user_set_password(tx, "alice", "$argon2id$b"),
                     0);
    assert_int_equal(db_txn_commit(tx), 0);
    u = db_user_get_by_name(db, "alice");
    assert_string_equal(u->password_hash, "$argon2id$b");
    db_user_free(u);
    assert_false(session_exists(db, "s1"));
    assert_int_equal(generation_of(db, t, id), gen + 1);

    /* Lock: ends sessions (rolled back: keeps them); unlock keeps them. */
    session_add(db, "s2", id, now, now + hour);
    tx = db_txn_begin(db, DB_SYNC_FULL);
    assert_non_null(tx);
    assert_int_equal(db_txn_user_set_disabled(tx, "alice", true), 0);
    db_txn_rollback(tx);
    u = db_user_get_by_name(db, "alice");
    assert_false(u->disabled);
    db_user_free(u);
    assert_true(session_exists(db, "s2"));
    tx = db_txn_begin(db, DB_SYNC_FULL);
    assert_non_null(tx);
    assert_int_equal(db_txn_user_set_disabled(tx, "alice", true), 0);
    assert_int_equal(db_txn_commit(tx), 0);
    u = db_user_get_by_name(db, "alice");
    assert_true(u->disabled);
    db_user_free(u);
    assert_false(session_exists(db, "s2"));
    assert_int_equal(generation_of(db, t, id), gen + 2);
    session_add(db, "s3", id, now, now + hour);
    tx = db_txn_begin(db, DB_SYNC_FULL);
    assert_non_null(tx);
    assert_int_equal(db_txn_user_set_disabled(tx, "alice", false), 0);
    assert_int_equal(db_txn_commit(tx), 0);
    u = db_user_get_by_name(db, "alice");
    assert_false(u->disabled);
    db_user_free(u);
    assert_true(session_exists(db, "s3"));

    /* The public wrappers end sessions too (one transaction each). */
    assert_int_equal(db_user_set_password(db, "alice", "$argon2id$c"), 0);
    assert_false(session_exists(db, "s3"));
    session_add(db, "s4", id, now, now + hour);
    assert_int_equal(db_user_set_disabled(db, "alice", true), 0);
    assert_false(session_exists(db, "s4"));
    assert_int_equal(db_user_set_disabled(db, "alice", false), 0);

    /* Delete: rolled back keeps the user and its sessions. */
    session_add(db, "s5", id, now, now + hour);
    tx = db_txn_begin(db, DB_SYNC_FULL);
    assert_non_null(tx);
    assert_int_equal(db_txn_user_delete(tx, "alice"), 0);
    assert_null(db_txn_user_get_by_name(tx, "alice"));
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    db_txn_rollback(tx);
    u = db_user_get_by_name(db, "alice");
    assert_non_null(u);
    db_user_free(u);
    assert_true(session_exists(db, "s5"));
    /* Committed, and re-created with the same id in a later one (an
     * undo): the id comes back, the sessions do not. */
    tx = db_txn_begin(db, DB_SYNC_FULL);
    assert_non_null(tx);
    assert_int_equal(db_txn_user_delete(tx, "alice"), 0);
    assert_int_equal(db_txn_commit(tx), 0);
    assert_null(db_user_get_by_name(db, "alice"));
    assert_null(db_object_get(db, t, id));
    assert_false(session_exists(db, "s5"));
    tx = db_txn_begin(db, DB_SYNC_FULL);
    assert_non_null(tx);
    assert_int_equal(db_txn_user_create(tx, id, "alice", "operator",
                                        "$argon2id$c", "made in a txn",
                                        &id2), 0);
    assert_string_equal(id2, id);
    /* The same id twice is refused. */
    assert_int_equal(db_txn_user_create(tx, id, "alice2", "operator", "h",
                                        NULL, NULL), -1);
    assert_int_equal(err_code(), ERR_EXISTS);
    assert_int_equal(db_txn_commit(tx), 0);
    u = db_user_get_by_name(db, "alice");
    assert_non_null(u);
    assert_string_equal(u->id, id);
    assert_string_equal(u->password_hash, "$argon2id$c");
    db_user_free(u);
    assert_false(session_exists(db, "s5"));
    assert_int_equal(db_user_count(db, &count), 0);
    assert_int_equal(count, 1);
}

/* ---- backup and restore ---- */

static void
test_backup_during_write(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(db) struct db *db = db_open(fx->path);
    char *AUTOFREE dest = xasprintf("%s/backup.db", fx->dir);
    char *AUTOFREE dest2 = xasprintf("%s/backup2.db", fx->dir);
    char *AUTOFREE v = NULL;
    char *AUTOFREE n = NULL;
    sqlite3 *other = NULL;
    struct stat st;

    assert_non_null(db);
    create_user(db, "before", "operator", NULL);

    /* Another connection holds an open write transaction. */
    assert_int_equal(sqlite3_open_v2(fx->path, &other, SQLITE_OPEN_READWRITE,
                                     NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other,
                                  "BEGIN IMMEDIATE;"
                                  "INSERT INTO objects (id, type, name, "
                                  "created_ms, modified_ms) VALUES "
                                  "('x', 'User', 'uncommitted', 0, 0)",
                                  NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(db_backup_file(fx->path, dest), 0);
    assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(other);

    assert_int_equal(stat(dest, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    v = raw_query(dest, "PRAGMA integrity_check");
    assert_non_null(v);
    assert_string_equal(v, "ok");
    xfree(n);
    n = raw_query(dest, "SELECT COUNT(*) FROM users WHERE login = 'before'");
    assert_string_equal(n, "1");
    xfree(n);
    n = raw_query(dest, "SELECT COUNT(*) FROM objects WHERE id = 'x'");
    assert_string_equal(n, "0");
    xfree(n);
    /* A self-contained rollback-journal file. */
    n = raw_query(dest, "PRAGMA journal_mode");
    assert_string_equal(n, "delete");

    /* Backing up a closed database works too (no -wal/-shm around). */
    db_close(steal_ptr(&db));
    assert_int_equal(db_backup_file(fx->path, dest2), 0);
    xfree(n);
    n = raw_query(dest2, "SELECT COUNT(*) FROM objects WHERE id = 'x'");
    assert_string_equal(n, "1");
}

static void
test_backup_exists(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(db) struct db *db = db_open(fx->path);
    char *AUTOFREE dest = xasprintf("%s/backup.db", fx->dir);
    char *AUTOFREE missing = xasprintf("%s/missing.db", fx->dir);
    struct stat st;

    assert_non_null(db);
    write_file(dest, "precious");
    assert_int_equal(db_backup_file(fx->path, dest), -1);
    assert_int_equal(err_code(), ERR_EXISTS);
    assert_non_null(strstr(err_message(), dest));
    assert_int_equal(stat(dest, &st), 0);
    assert_int_equal(st.st_size, 8);

    assert_int_equal(db_backup_file(missing, dest), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_false(file_exists(missing));
}

static void
test_restore_roundtrip(void **state)
{
    struct fixture *fx = *state;
    char *AUTOFREE bk = xasprintf("%s/backup.db", fx->dir);
    char *AUTOFREE wal = xasprintf("%s-wal", fx->path);
    char *AUTOFREE id1 = NULL;
    char *AUTOFREE id2 = NULL;
    struct db_user *u;
    struct db *db;
    pid_t pid;
    int status;

    db = db_open(fx->path);
    assert_non_null(db);
    create_user(db, "old", "operator", NULL);
    id1 = db_manager_id(db);
    assert_int_equal(db_backup_file(fx->path, bk), 0);
    create_user(db, "new", "operator", NULL);
    assert_int_equal(db_user_delete(db, "old"), 0);
    db_close(db);

    /*
     * A crashed ovmmd leaves committed data in the -wal: a child writes
     * and exits without closing. Restore must not let that WAL be
     * replayed onto the restored file.
     */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct db *cdb = db_open(fx->path);

        if (!cdb || db_user_create(cdb, "ghost", "operator", "h", NULL, NULL) < 0)
            _exit(1);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_true(file_exists(wal));

    assert_int_equal(db_restore_file(bk, fx->path), 0);
    assert_false(file_exists(wal));

    db = db_open(fx->path);
    assert_non_null(db);
    u = db_user_get_by_name(db, "old");
    assert_non_null(u);
    db_user_free(u);
    assert_null(db_user_get_by_name(db, "new"));
    assert_null(db_user_get_by_name(db, "ghost"));
    id2 = db_manager_id(db);
    assert_string_equal(id1, id2);
    db_close(db);
}

static void
test_restore_bad(void **state)
{
    struct fixture *fx = *state;
    char *AUTOFREE bad = xasprintf("%s/bad.db", fx->dir);
    char *AUTOFREE future = xasprintf("%s/future.db", fx->dir);
    char *AUTOFREE foreign = xasprintf("%s/foreign.db", fx->dir);
    char *AUTOFREE missing = xasprintf("%s/missing.db", fx->dir);
    char *AUTOFREE tmp = xasprintf("%s.tmp", fx->path);
    char *AUTOFREE sql = NULL;
    struct db_user *u;
    struct db *db;

    db = db_open(fx->path);
    assert_non_null(db);
    create_user(db, "keep", "operator", NULL);
    assert_int_equal(db_backup_file(fx->path, future), 0);
    db_close(db);

    write_file(bad, "SQLite format 2\nthis is not a database at all\n");
    assert_int_equal(db_restore_file(bad, fx->path), -1);
    assert_int_equal(err_code(), ERR_DB);
    assert_non_null(strstr(err_message(), bad));

    sql = xasprintf("UPDATE schema_version SET version = %d",
                    db_schema_version_latest() + 1);
    assert_int_equal(raw_exec(future, sql), SQLITE_OK);
    assert_int_equal(db_restore_file(future, fx->path), -1);
    assert_int_equal(err_code(), ERR_DB);
    assert_non_null(strstr(err_message(), "schema version"));

    /* A valid SQLite file that is not ours. */
    {
        sqlite3 *h = NULL;

        assert_int_equal(sqlite3_open(foreign, &h), SQLITE_OK);
        assert_int_equal(sqlite3_exec(h, "CREATE TABLE t (x)", NULL, NULL,
                                      NULL), SQLITE_OK);
        sqlite3_close(h);
    }
    assert_int_equal(db_restore_file(foreign, fx->path), -1);
    assert_int_equal(err_code(), ERR_DB);

    assert_int_equal(db_restore_file(missing, fx->path), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);

    /* The original is intact and nothing is left behind. */
    assert_false(file_exists(tmp));
    db = db_open(fx->path);
    assert_non_null(db);
    u = db_user_get_by_name(db, "keep");
    assert_non_null(u);
    db_user_free(u);
    db_close(db);
}

/* ---- threads ---- */

struct worker {
    struct db *db;
    int n;
    int failures;
};

static void *
worker_run(void *arg)
{
    struct worker *w = arg;
    struct model_ref *refs = NULL;
    size_t n = 0;
    int64_t total;
    char name[32];
    int i;

    for (i = 0; i < 20; i++) {
        snprintf(name, sizeof(name), "w%d-%02d", w->n, i);
        if (db_user_create(w->db, name, "operator", "h", NULL, NULL) < 0)
            w->failures++;
        if (db_object_refs(w->db, model_type_find("User"), NULL, NULL, 10,
                           0, &refs, &n, &total) < 0)
            w->failures++;
        model_refs_free(refs, n);
        refs = NULL;
    }
    return NULL;
}

static void
test_threads(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(db) struct db *db = db_open(fx->path);
    struct worker w[4];
    pthread_t th[4];
    int64_t count = 0;
    int i;

    assert_non_null(db);
    for (i = 0; i < 4; i++) {
        w[i] = (struct worker){ .db = db, .n = i };
        assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    assert_int_equal(db_user_count(db, &count), 0);
    assert_int_equal(count, 80);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_open_migrates),
        T(test_reopen_keeps_data),
        T(test_future_version_refused),
        T(test_migration_failure),
        T(test_damaged_refused),
        T(test_object_paging),
        T(test_object_errors),
        T(test_object_generic),
        T(test_users),
        T(test_sessions),
        T(test_user_txn),
        T(test_backup_during_write),
        T(test_backup_exists),
        T(test_restore_roundtrip),
        T(test_restore_bad),
        T(test_threads),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests_name("db", tests, NULL, NULL);
}
