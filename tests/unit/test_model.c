/*
 * test_model.c - model/: the type registry, ids, name rules, userData,
 * and rendering against the Oracle VM sample shapes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model/model.h"
#include "util/alloc.h"
#include "util/err.h"

static void
test_registry(void **state)
{
    const struct model_type *const *types;
    size_t n, i, j;

    (void)state;
    types = model_types(&n);
    assert_true(n >= 2);
    assert_non_null(model_type_find("Manager"));
    assert_null(model_type_find("manager"));
    assert_null(model_type_find(NULL));
    for (i = 0; i < n; i++) {
        assert_ptr_equal(model_type_find(types[i]->name), types[i]);
        assert_int_equal(strlen(types[i]->code), 4);
        assert_non_null(types[i]->table);
        for (j = 0; j < types[i]->nfields; j++) {
            const struct model_field *f = &types[i]->fields[j];

            /* Fields that read a column name one; the others do not,
             * except a REFLIST through a link table ("<table>:<col>"). */
            if (f->kind == MF_REFLIST && f->column)
                assert_non_null(strchr(f->column, ':'));
            else if (f->kind == MF_REFLIST || f->kind == MF_NOW_MS)
                assert_null(f->column);
            else
                assert_non_null(f->column);
            if (f->kind == MF_REF || f->kind == MF_REFLIST)
                assert_non_null(model_type_find(f->ref_type));
        }
        for (j = 0; j < i; j++)
            assert_string_not_equal(types[i]->code, types[j]->code);
    }
    assert_int_equal(model_field_index(model_type_find("Manager"),
                                       "managerRunState"), 2);
    assert_int_equal(model_field_index(model_type_find("Manager"), "x"), -1);
}

static void
test_ids(void **state)
{
    const struct model_type *t = model_type_find("Manager");
    char *a = model_id_new(t), *b = model_id_new(t);

    (void)state;
    assert_int_equal(strlen(a), 32);
    assert_true(strncmp(a, "0004fb0000010000", 16) == 0);
    assert_string_not_equal(a, b);
    xfree(a);
    xfree(b);
}

static void
test_names(void **state)
{
    static const struct model_field nofields[1];
    struct model_type strict = { .name = "ServerPool", .code = "0002",
                                 .table = "x", .fields = nofields,
                                 .strict_name = true };
    char long_name[202];

    (void)state;
    assert_int_equal(model_name_check(&strict, "pool_1-A"), 0);
    assert_int_equal(model_name_check(&strict, "pool 1"), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_int_equal(model_name_check(&strict, "pool.1"), -1);
    assert_int_equal(model_name_check(&strict, ""), -1);
    memset(long_name, 'a', 200);
    long_name[200] = '\0';
    assert_int_equal(model_name_check(&strict, long_name), 0);
    long_name[200] = 'a';
    long_name[201] = '\0';
    assert_int_equal(model_name_check(&strict, long_name), -1);
    /* Non-strict types take spaces but not control characters. */
    assert_int_equal(model_name_check(model_type_find("Manager"),
                                      "OVM Manager"), 0);
    assert_int_equal(model_name_check(model_type_find("Manager"), "a\nb"), -1);
}

static void
test_user_data(void **state)
{
    static const char *const good[] = {
        "[]", "[{\"key\":\"a\",\"value\":\"1\"},{\"key\":\"b\",\"value\":\"\"}]",
    };
    static const char *const bad[] = {
        "{}", "[1]", "[{\"key\":\"a\"}]", "[{\"key\":\"\",\"value\":\"x\"}]",
        "[{\"key\":\"a\",\"value\":1}]",
        "[{\"key\":\"a\",\"value\":\"1\"},{\"key\":\"a\",\"value\":\"2\"}]",
        "[{\"key\":\"a\",\"value\":\"1\",\"extra\":\"x\"}]",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        AUTOPTR(json_object) json_object *o = json_parse(good[i], strlen(good[i]));

        assert_int_equal(model_user_data_check(o), 0);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        AUTOPTR(json_object) json_object *o = json_parse(bad[i], strlen(bad[i]));

        assert_non_null(o);
        assert_int_equal(model_user_data_check(o), -1);
        assert_int_equal(err_code(), ERR_INVALID);
    }
}

/* A Manager rendered has exactly the members of get_manager.json, in order. */
static void
test_render_manager(void **state)
{
    static const char *const members[] = {
        "id", "name", "description", "locked", "readOnly", "generation",
        "userData", "resourceGroupIds", "managerUuid", "managerVersion",
        "managerRunState", "managerTime", "eventSeverity",
    };
    const struct model_type *t = model_type_find("Manager");
    struct model_obj *o = xcalloc(1, sizeof(*o));
    json_object *j, *id, *v;
    size_t i = 0;

    (void)state;
    o->type = t;
    o->id = xstrdup("0004fb000001000078b1f88e034c8105");
    o->name = xstrdup("OVM Manager");
    o->description = xstrdup("");
    o->generation = 3;
    o->event_severity = 2;
    o->user_data = xstrdup("[{\"key\":\"k\",\"value\":\"v\"}]");
    o->vals = xcalloc(t->nfields, sizeof(*o->vals));
    o->vals[0].kind = MV_TEXT;
    o->vals[0].s = xstrdup(o->id);
    o->vals[1].kind = MV_TEXT;
    o->vals[1].s = xstrdup("0.1.0");
    o->vals[2].kind = MV_TEXT;
    o->vals[2].s = xstrdup("RUNNING");
    j = model_obj_to_json(o, "https://h:7002/ovm/core/wsapi/rest");
    json_object_object_foreach(j, key, val) {
        (void)val;
        assert_true(i < sizeof(members) / sizeof(members[0]));
        assert_string_equal(key, members[i]);
        i++;
    }
    assert_int_equal(i, sizeof(members) / sizeof(members[0]));
    assert_true(json_object_object_get_ex(j, "id", &id));
    json_object_object_get_ex(id, "type", &v);
    assert_string_equal(json_object_get_string(v),
                        "com.oracle.ovm.mgr.ws.model.Manager");
    json_object_object_get_ex(id, "uri", &v);
    assert_string_equal(json_object_get_string(v),
                        "https://h:7002/ovm/core/wsapi/rest/Manager/"
                        "0004fb000001000078b1f88e034c8105");
    json_object_object_get_ex(j, "userData", &v);
    assert_int_equal(json_object_array_length(v), 1);
    json_object_object_get_ex(j, "generation", &v);
    assert_int_equal(json_object_get_int64(v), 3);
    json_object_object_get_ex(j, "managerTime", &v);
    assert_true(json_object_get_int64(v) > 1600000000000LL);
    json_object_object_get_ex(j, "eventSeverity", &v);
    assert_string_equal(json_object_get_string(v), "ERROR");
    json_object_put(j);
    /* No unacknowledged warning: null. */
    o->event_severity = -1;
    j = model_obj_to_json(o, "https://h:7002/ovm/core/wsapi/rest");
    assert_true(json_object_object_get_ex(j, "eventSeverity", &v));
    assert_null(v);
    json_object_put(j);
    model_obj_free(o);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_user_data),
        cmocka_unit_test(test_render_manager),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
