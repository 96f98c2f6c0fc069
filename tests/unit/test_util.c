/*
 * test_util.c - util/: bounded buffers, errors, strict parsing, JSON,
 * hex and randomness, the data-directory lock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/buf.h"
#include "util/fs.h"
#include "util/err.h"
#include "util/json.h"
#include "util/lockfile.h"
#include "util/str.h"

static void
test_buf_bounded(void **state)
{
    struct buf b;
    char big[100];

    (void)state;
    buf_init(&b, 10);
    assert_int_equal(buf_puts(&b, "hello"), 0);
    assert_int_equal(buf_append(&b, "12345", 5), 0);
    assert_int_equal(b.len, 10);
    /* One more byte is past the limit: refused, contents untouched. */
    assert_int_equal(buf_append(&b, "x", 1), -1);
    assert_int_equal(err_code(), ERR_TOO_LARGE);
    assert_string_equal(b.data, "hello12345");
    memset(big, 'a', sizeof(big));
    assert_int_equal(buf_append(&b, big, sizeof(big)), -1);
    assert_int_equal(buf_printf(&b, "%d", 7), -1);
    buf_clear(&b);
    assert_int_equal(buf_printf(&b, "%s-%d", "ab", 42), 0);
    assert_string_equal(b.data, "ab-42");
    buf_release(&b);

    buf_init(&b, 0); /* unbounded */
    for (int i = 0; i < 1000; i++)
        assert_int_equal(buf_append(&b, big, sizeof(big)), 0);
    assert_int_equal(b.len, 100000);
    {
        char *s = buf_steal(&b);

        assert_int_equal(strlen(s), 100000);
        xfree(s);
    }
    assert_null(b.data);
}

static void
test_err(void **state)
{
    (void)state;
    err_clear();
    assert_int_equal(err_code(), ERR_OK);
    assert_string_equal(err_message(), "");
    err_set(ERR_NOT_FOUND, "vm '%s' not found", "x");
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_string_equal(err_message(), "vm 'x' not found");
    assert_string_equal(err_code_str(ERR_NOT_FOUND), "NOT_FOUND");
    assert_non_null(err_get()->func);
    /* Every code has a distinct name. */
    for (int i = 0; i < ERR__COUNT; i++) {
        assert_string_not_equal(err_code_str((enum err_code)i),
                                "UNKNOWN_ERROR");
        for (int j = 0; j < i; j++)
            assert_string_not_equal(err_code_str((enum err_code)i),
                                    err_code_str((enum err_code)j));
    }
    assert_string_equal(err_code_str(ERR__COUNT), "UNKNOWN_ERROR");
}

static void
test_str_parse(void **state)
{
    static const struct {
        const char *in;
        int ret;
        int64_t val;
    } cases[] = {
        { "0", 0, 0 }, { "42", 0, 42 }, { "-5", 0, -5 }, { "100", 0, 100 },
        { "101", -1, 0 }, { "", -1, 0 }, { "12x", -1, 0 }, { " 1", 0, 1 },
        { "abc", -1, 0 }, { "99999999999999999999", -1, 0 }, { NULL, -1, 0 },
    };
    int64_t v;
    bool b;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        v = -999;
        assert_int_equal(str_to_int64(cases[i].in, -10, 100, "n", &v),
                         cases[i].ret);
        if (cases[i].ret == 0)
            assert_int_equal(v, cases[i].val);
        else
            assert_int_equal(err_code(), ERR_INVALID);
    }
    assert_int_equal(str_to_bool("Yes", "b", &b), 0);
    assert_true(b);
    assert_int_equal(str_to_bool("off", "b", &b), 0);
    assert_false(b);
    assert_int_equal(str_to_bool("maybe", "b", &b), -1);
    assert_true(str_secret_eq("abc", "abc"));
    assert_false(str_secret_eq("abc", "abd"));
    assert_false(str_secret_eq("abc", "abcd"));
    assert_true(str_has_prefix("/ovm/core", "/ovm"));
    assert_false(str_has_prefix("/ov", "/ovm"));
    {
        char small[4];

        assert_int_equal(str_copy(small, "hello", sizeof(small)), 5);
        assert_string_equal(small, "hel");
    }
}

static void
test_rand_hex(void **state)
{
    char a[33], b[33], h[9];

    (void)state;
    rand_hex(a, 16);
    rand_hex(b, 16);
    assert_int_equal(strlen(a), 32);
    assert_string_not_equal(a, b);
    assert_int_equal(strspn(a, "0123456789abcdef"), 32);
    hex_encode("\x01\xab\xff\x00", 4, h);
    assert_string_equal(h, "01abff00");
    assert_true(time_now_ms() > 1600000000000LL);
}

static void
test_json_parse(void **state)
{
    static const char *const bad[] = {
        "", "{", "{\"a\":}", "[1,2", "{\"a\":1} x", "nul", "{'a':1}", "[\"x\\\"\", 'y']",
    };
    json_object *o;
    const char *s;
    int64_t i64;
    bool b;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_null(json_parse(bad[i], strlen(bad[i])));
        assert_int_equal(err_code(), ERR_INVALID);
        assert_non_null(strstr(err_message(), "malformed JSON"));
    }
    o = json_parse("[\"it's\", \"q\\\"'\"]", 16);
    assert_non_null(o); /* quotes inside strings are fine */
    json_object_put(o);
    o = json_parse("{\"s\":\"x\",\"n\":5,\"b\":true,\"z\":null} \n", 36);
    assert_non_null(o);
    assert_int_equal(json_get_string(o, "s", &s), 0);
    assert_string_equal(s, "x");
    assert_int_equal(json_get_int64(o, "n", &i64), 0);
    assert_int_equal(i64, 5);
    assert_int_equal(json_get_bool(o, "b", &b), 0);
    assert_true(b);
    assert_int_equal(json_get_string(o, "z", &s), 1);   /* null: absent */
    assert_int_equal(json_get_string(o, "missing", &s), 1);
    assert_int_equal(json_get_string(o, "n", &s), -1);  /* wrong type */
    assert_non_null(strstr(err_message(), "'n' must be a string"));
    /* json_str(): the string or NULL, never an error. */
    err_clear();
    assert_string_equal(json_str(o, "s"), "x");
    assert_null(json_str(o, "n"));
    assert_null(json_str(o, "z"));
    assert_null(json_str(o, "missing"));
    assert_null(json_str(NULL, "s"));
    assert_int_equal(err_code(), ERR_OK);
    json_object_put(o);

    /* Nesting deeper than JSON_MAX_DEPTH is refused, not a crash. */
    {
        char deep[2 * (JSON_MAX_DEPTH + 10) + 1];
        size_t k;

        for (k = 0; k < JSON_MAX_DEPTH + 10; k++) {
            deep[k] = '[';
            deep[2 * (JSON_MAX_DEPTH + 10) - 1 - k] = ']';
        }
        deep[2 * (JSON_MAX_DEPTH + 10)] = '\0';
        assert_null(json_parse(deep, strlen(deep)));
        assert_int_equal(err_code(), ERR_INVALID);
    }
}

static void
test_lockfile(void **state)
{
    char dir[] = "/tmp/ovmm-lock-XXXXXX";
    char path[64];
    int fd, fd2;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/ovmmd.lock", dir);
    fd = lockfile_acquire(path, dir);
    assert_true(fd >= 0);
    /* A second open file description conflicts, as a second daemon would. */
    fd2 = lockfile_acquire(path, dir);
    assert_int_equal(fd2, -1);
    assert_int_equal(err_code(), ERR_BUSY);
    assert_non_null(strstr(err_message(), "is in use by another ovmmd"));
    lockfile_release(fd);
    fd2 = lockfile_acquire(path, dir);
    assert_true(fd2 >= 0);
    lockfile_release(fd2);
    unlink(path);
    rmdir(dir);
}

static void
test_mkdir(void **state)
{
    char dir[] = "/tmp/ovmm-fs-XXXXXX";
    char path[128];
    struct stat st;
    FILE *f;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/a/b/c", dir);
    assert_int_equal(fs_mkdir_p(path, 0700), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(fs_mkdir_p(path, 0700), 0);      /* exists: fine */
    snprintf(path, sizeof(path), "%s/p/q/file.txt", dir);
    assert_int_equal(fs_mkdir_parent(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/p/q", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(fs_mkdir_parent("bare-name", 0700), 0);
    /* A file where a directory should be: ERR_IO naming it. */
    snprintf(path, sizeof(path), "%s/plain", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/plain/sub", dir);
    assert_int_equal(fs_mkdir_p(path, 0700), -1);
    assert_int_equal(err_code(), ERR_IO);
    assert_non_null(strstr(err_message(), "cannot create directory"));
    snprintf(path, sizeof(path), "rm -rf '%s'", dir);
    assert_int_equal(system(path), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_bounded),
        cmocka_unit_test(test_err),
        cmocka_unit_test(test_str_parse),
        cmocka_unit_test(test_rand_hex),
        cmocka_unit_test(test_json_parse),
        cmocka_unit_test(test_lockfile),
        cmocka_unit_test(test_mkdir),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
