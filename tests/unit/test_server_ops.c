/*
 * test_server_ops.c - unit tests of the server operations' undo
 * (src/jobs/op_server.c) and of the server rules (db_server_check_*()).
 *
 * DESIGN: an edit, an ownership change, a delete or a run-state change is
 * a job of one operation, so no REST request can make it undo: the undo
 * runs when a later operation of the same job fails (issue 7 appends VM
 * migrations after server.update) or after a restart. Here the engine
 * runs jobs of [the operation, diag.fail] on a real database in a fresh
 * directory, and the test compares an exact snapshot of the server's rows
 * -- objects, servers, Ethernet ports -- taken before the job with one
 * taken after it: they must be equal, column for column (modified_ms
 * aside where the undo is a change of its own: an edit's undo is a new
 * modification that puts the old values back). The rules are pure
 * functions and are driven directly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tmpdir.h"
#include "db/db.h"
#include "jobs/jobs.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"

#define WAIT_MS 10000
#define SERVER "01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef"
#define NOBODY "0004fb00000100000000000000000001"

struct fixture {
    char dir[64];
    char *path;
    struct db *db;
    char *manager;
    bool engine;
};

static int
setup(void **state)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));
    struct jobs_conf c;

    *state = fx;
    if (tmpdir_make(fx->dir, sizeof(fx->dir), "server") < 0)
        return -1;
    fx->path = xasprintf("%s/ovmm.db", fx->dir);
    fx->db = db_open(fx->path);
    if (!fx->db)
        return -1;
    fx->manager = db_manager_id(fx->db);
    memset(&c, 0, sizeof(c));
    c.db = fx->db;
    c.workers = 2;
    c.priority_workers = 1;
    c.lock_timeout_ms = 5000;
    c.retention_ms = 86400000;
    c.event_retention_ms = 86400000;
    if (!fx->manager || jobs_init(&c) < 0 || jobs_recover() < 0 ||
        jobs_start() < 0)
        return -1;
    fx->engine = true;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;

    if (fx->engine)
        jobs_stop(0);
    db_close(fx->db);
    tmpdir_remove(fx->dir);
    xfree(fx->manager);
    xfree(fx->path);
    xfree(fx);
    return 0;
}

/* A discovered server as discovery writes it: owned by the Manager, two
 * ports, the first on the management network. */
static void
make_server(struct fixture *fx)
{
    struct db_server_facts f;
    struct db_txn *t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    char *p0 = NULL, *p1 = NULL, *net = NULL;
    bool created, gcreated, ncreated;

    assert_non_null(t);
    memset(&f, 0, sizeof(f));
    f.id = SERVER;
    f.name = "unit-1";
    f.ip_address = "unit-1";
    f.agent_login = "oracle";
    f.agent_password = "sb1:sealed-agent";
    f.libvirt_uri = "test:///nowhere.xml";
    f.manager_uuid = fx->manager;
    f.hostname = "unit-1";
    f.cpu_family = 6;
    f.cpu_model = 85;
    f.hypervisor_json = "{\"type\":\"test\"}";
    f.cpu_group_id = "Default_Intel_F6_M85";
    assert_int_equal(db_txn_cpu_group_ensure(t, f.cpu_group_id, "group",
                                             "GenuineIntel", 6, 85,
                                             &gcreated), 0);
    assert_int_equal(db_txn_server_put(t, &f, &created), 0);
    assert_true(created);
    assert_int_equal(db_txn_port_put(t, SERVER, "unit-1", "eth0",
                                     "02:00:00:00:00:01", 1500, true, &p0),
                     0);
    assert_int_equal(db_txn_port_put(t, SERVER, "unit-1", "eth1",
                                     "02:00:00:00:00:02", 9000, false, &p1),
                     0);
    assert_int_equal(db_txn_management_network(t, "management", &net,
                                               &ncreated), 0);
    assert_int_equal(db_txn_port_set_network(t, p0, net), 0);
    assert_int_equal(db_txn_commit(t), 0);
    xfree(p0);
    xfree(p1);
    xfree(net);
}

/*
 * The server's rows as JSON text; with @drop_modified, without the
 * objects rows' modified_ms. NULL when the server does not exist.
 */
static char *
snapshot(struct fixture *fx, bool drop_modified)
{
    struct db_txn *t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    json_object *snap, *rows;
    char *text;
    size_t i;

    assert_non_null(t);
    snap = db_txn_server_snapshot(t, SERVER);
    db_txn_rollback(t);
    if (!snap)
        return NULL;
    rows = json_object_object_get(snap, "objects");
    for (i = 0; drop_modified && i < json_object_array_length(rows); i++)
        json_object_object_del(json_object_array_get_idx(rows, i),
                               "modified_ms");
    text = xstrdup(json_object_to_json_string_ext(snap,
                                                  JSON_C_TO_STRING_PLAIN));
    json_object_put(snap);
    return text;
}

/* Run a job of the operation @op with @args (taken) on the server, then,
 * when @fail, diag.fail; return its final row (caller frees). */
static struct db_job *
run(struct fixture *fx, const char *op, json_object *args, bool fail)
{
    struct job_object_req obj = { SERVER, "Server", "unit-1", true };
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

/* The operations of job @id, states joined by spaces, into @out. */
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

static json_object *
id_args(void)
{
    json_object *a = json_object_new_object();

    json_object_object_add(a, "id", json_object_new_string(SERVER));
    return a;
}

/* ---- undo ---- */

static void
test_delete_undo_is_exact(void **state)
{
    struct fixture *fx = *state;
    char *AUTOFREE before = NULL, *AUTOFREE after = NULL;
    AUTOPTR(db_job) struct db_job *j = NULL;
    char states[128];

    make_server(fx);
    before = snapshot(fx, false);
    assert_non_null(before);
    j = run(fx, "server.delete", id_args(), true);
    assert_int_equal(j->run_state, JOB_FAILURE);
    op_states(fx, j->id, states, sizeof(states));
    assert_string_equal(states, "UNDONE FAILED");
    after = snapshot(fx, false);
    assert_non_null(after);
    /* Every row, every column: ids, generation and times included. */
    assert_string_equal(before, after);
}

static void
test_delete_removes_ports(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(db_job) struct db_job *j = NULL;
    struct model_obj **ports = NULL;
    size_t n = 99;

    make_server(fx);
    j = run(fx, "server.delete", id_args(), false);
    assert_int_equal(j->run_state, JOB_SUCCESS);
    assert_null(snapshot(fx, false));
    assert_int_equal(db_object_list(fx->db, model_type_find("EthernetPort"),
                                    NULL, NULL, -1, 0, &ports, &n, NULL), 0);
    assert_int_equal(n, 0);
    model_objs_free(ports, n);
}

static void
test_update_undo_restores_every_column(void **state)
{
    struct fixture *fx = *state;
    char *AUTOFREE before = NULL, *AUTOFREE after = NULL;
    char *AUTOFREE mid = NULL;
    AUTOPTR(db_job) struct db_job *j = NULL;
    AUTOPTR(db_server) struct db_server *s = NULL;
    json_object *a = id_args(), *cols = json_object_new_object();

    make_server(fx);
    before = snapshot(fx, true);
    json_object_object_add(a, "name", json_object_new_string("renamed"));
    json_object_object_add(a, "description",
                           json_object_new_string("changed"));
    json_object_object_add(a, "userData", json_tokener_parse(
                               "[{\"key\":\"k\",\"value\":\"v\"}]"));
    json_object_object_add(cols, "roles",
                           json_object_new_string("[\"UTILITY\"]"));
    json_object_object_add(cols, "maintenance_mode",
                           json_object_new_int64(1));
    json_object_object_add(cols, "inbound_migration_locked",
                           json_object_new_int64(1));
    json_object_object_add(cols, "ipmi_address",
                           json_object_new_string("bmc:623"));
    json_object_object_add(cols, "ipmi_user", json_object_new_string("u"));
    json_object_object_add(cols, "ipmi_password",
                           json_object_new_string("sb1:sealed"));
    json_object_object_add(a, "columns", cols);
    j = run(fx, "server.update", a, true);
    assert_int_equal(j->run_state, JOB_FAILURE);
    after = snapshot(fx, true);
    assert_string_equal(before, after);

    /* The same edit without the failure sticks. */
    a = id_args();
    cols = json_object_new_object();
    json_object_object_add(cols, "maintenance_mode",
                           json_object_new_int64(1));
    json_object_object_add(a, "columns", cols);
    db_job_free(j);
    j = run(fx, "server.update", a, false);
    assert_int_equal(j->run_state, JOB_SUCCESS);
    s = db_server_get(fx->db, SERVER);
    assert_non_null(s);
    assert_true(s->maintenance_mode);
    mid = snapshot(fx, true);
    assert_string_not_equal(mid, before);
}

static void
test_update_stale_generation_changes_nothing(void **state)
{
    struct fixture *fx = *state;
    char *AUTOFREE before = NULL, *AUTOFREE after = NULL;
    AUTOPTR(db_job) struct db_job *j = NULL;
    json_object *a = id_args();

    make_server(fx);
    before = snapshot(fx, false);
    json_object_object_add(a, "generation", json_object_new_int64(12345));
    json_object_object_add(a, "description", json_object_new_string("x"));
    j = run(fx, "server.update", a, false);
    assert_int_equal(j->run_state, JOB_FAILURE);
    assert_string_equal(j->error_type, "CONFLICT");
    after = snapshot(fx, false);
    assert_string_equal(before, after);
}

static void
test_owner_undo(void **state)
{
    struct fixture *fx = *state;
    char *AUTOFREE before = NULL, *AUTOFREE after = NULL;
    AUTOPTR(db_job) struct db_job *j = NULL;
    AUTOPTR(db_server) struct db_server *s = NULL;
    json_object *a = id_args();

    make_server(fx);
    before = snapshot(fx, true);
    json_object_object_add(a, "take", json_object_new_boolean(false));
    json_object_object_add(a, "managerUuid",
                           json_object_new_string(fx->manager));
    j = run(fx, "server.owner", json_object_get(a), true);
    assert_int_equal(j->run_state, JOB_FAILURE);
    after = snapshot(fx, true);
    assert_string_equal(before, after);
    db_job_free(j);
    j = run(fx, "server.owner", a, false);
    assert_int_equal(j->run_state, JOB_SUCCESS);
    s = db_server_get(fx->db, SERVER);
    assert_null(s->manager_uuid);
}

static void
test_run_state_undo(void **state)
{
    struct fixture *fx = *state;
    char *AUTOFREE before = NULL, *AUTOFREE after = NULL;
    AUTOPTR(db_job) struct db_job *j = NULL;
    json_object *a = id_args();

    make_server(fx);
    before = snapshot(fx, true);
    json_object_object_add(a, "state", json_object_new_string("STOPPING"));
    json_object_object_add(a, "action", json_object_new_string("stop"));
    j = run(fx, "server.run_state", a, true);
    assert_int_equal(j->run_state, JOB_FAILURE);
    after = snapshot(fx, true);
    assert_string_equal(before, after);
}

static void
test_run_state_rechecks_the_state(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(db_job) struct db_job *j = NULL;
    json_object *a = id_args(), *from = json_object_new_array();

    make_server(fx);   /* RUNNING */
    json_object_array_add(from, json_object_new_string("STOPPED"));
    json_object_object_add(a, "state", json_object_new_string("STARTING"));
    json_object_object_add(a, "action", json_object_new_string("start"));
    json_object_object_add(a, "from", from);
    j = run(fx, "server.run_state", a, false);
    assert_int_equal(j->run_state, JOB_FAILURE);
    assert_string_equal(j->error_type, "INVALID_STATE");
    assert_non_null(strstr(j->error_message, "it is RUNNING"));
}

/* ---- the rules ---- */

static void
test_rules(void **state)
{
    struct db_server s;
    bool wol;

    (void)state;
    memset(&s, 0, sizeof(s));
    s.id = (char *)"id";
    s.name = (char *)"srv";
    s.run_state = (char *)"RUNNING";
    s.manager_uuid = (char *)"me";

    /* ownership */
    assert_int_equal(db_server_check_ownership(&s, false, "me"), 0);
    assert_int_equal(db_server_check_ownership(&s, true, "me"), -1);
    assert_int_equal(err_code(), ERR_STATE);
    assert_int_equal(db_server_check_ownership(&s, false, NOBODY), -1);
    s.server_pool_id = (char *)"pool";
    s.pool_name = (char *)"p1";
    assert_int_equal(db_server_check_ownership(&s, false, "me"), -1);
    assert_non_null(strstr(err_message(), "server pool 'p1'"));
    assert_int_equal(db_server_check_delete(&s), -1);
    s.server_pool_id = NULL;
    assert_int_equal(db_server_check_delete(&s), 0);
    s.manager_uuid = NULL;
    assert_int_equal(db_server_check_ownership(&s, false, "me"), -1);
    assert_int_equal(db_server_check_ownership(&s, true, "me"), 0);

    /* power: ownership, state, means */
    assert_int_equal(db_server_check_power(&s, DB_POWER_KILL, "me", &wol),
                     -1);
    s.manager_uuid = (char *)"me";
    assert_int_equal(db_server_check_power(&s, DB_POWER_START, "me", &wol),
                     -1);
    assert_non_null(strstr(err_message(), "it is RUNNING"));
    assert_int_equal(db_server_check_power(&s, DB_POWER_STOP, "me", &wol),
                     -1);
    assert_non_null(strstr(err_message(), "ipmiAddress"));
    s.ipmi_address = (char *)"bmc";
    assert_int_equal(db_server_check_power(&s, DB_POWER_STOP, "me", &wol),
                     0);
    assert_false(wol);
    s.run_state = (char *)"STOPPED";
    assert_int_equal(db_server_check_power(&s, DB_POWER_RESTART, "me", &wol),
                     -1);
    assert_int_equal(db_server_check_power(&s, DB_POWER_KILL, "me", &wol),
                     0);
    assert_int_equal(db_server_check_power(&s, DB_POWER_START, "me", &wol),
                     0);
    assert_false(wol);
    s.ipmi_address = NULL;
    assert_int_equal(db_server_check_power(&s, DB_POWER_START, "me", &wol),
                     -1);
    assert_non_null(strstr(err_message(), "Wake-on-LAN"));
    s.mgmt_mac = (char *)"02:00:00:00:00:01";
    assert_int_equal(db_server_check_power(&s, DB_POWER_START, "me", &wol),
                     0);
    assert_true(wol);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_delete_undo_is_exact),
        T(test_delete_removes_ports),
        T(test_update_undo_restores_every_column),
        T(test_update_stale_generation_changes_nothing),
        T(test_owner_undo),
        T(test_run_state_undo),
        T(test_run_state_rechecks_the_state),
        cmocka_unit_test(test_rules),
    };

    log_set_level(getenv("TEST_SERVER_VERBOSE") ? LOG_LEVEL_DEBUG
                                                : LOG_LEVEL_ERROR);
    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests_name("server_ops", tests, NULL, NULL);
}
