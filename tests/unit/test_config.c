/*
 * test_config.c - unit tests for conf/config.c: defaults, the file format,
 * errors, config_set, reload, and the sample file packaging/ovmmd.conf.
 *
 * DESIGN: every test writes its config files into one temporary directory
 * made by the group setup and removed by the group teardown. Checks that
 * apply to every key (ranges, the sample file) walk config_keys() rather
 * than naming keys, so a new key is covered without touching this file.
 * The sample is found through $OVMM_SRCDIR (default ".").
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/config.h"
#include "util/alloc.h"
#include "util/autoptr.h"
#include "util/err.h"
#include "util/log.h"
#include "util/str.h"

static char tmpdir[] = "/tmp/ovmm-test-config-XXXXXX";
static int nfiles;

/* Write @len bytes of @text to a new file in tmpdir; caller frees path. */
static char *
write_file_len(const char *text, size_t len)
{
    char *path = xasprintf("%s/test%d.conf", tmpdir, ++nfiles);
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

static char *
write_file(const char *text)
{
    return write_file_len(text, strlen(text));
}

static const void *
member(const struct config *c, const struct conf_key *k)
{
    return (const char *)c + k->offset;
}

/* Do @a and @b hold the same value for every key? */
static bool
config_equal(const struct config *a, const struct config *b)
{
    const struct conf_key *keys;
    size_t n, i;

    keys = config_keys(&n);
    for (i = 0; i < n; i++) {
        switch (keys[i].type) {
        case CONF_STRING:
            if (!str_eq(*(char *const *)member(a, &keys[i]),
                        *(char *const *)member(b, &keys[i])))
                return false;
            break;
        case CONF_INT:
            if (*(const int64_t *)member(a, &keys[i]) !=
                *(const int64_t *)member(b, &keys[i]))
                return false;
            break;
        case CONF_BOOL:
            if (*(const bool *)member(a, &keys[i]) !=
                *(const bool *)member(b, &keys[i]))
                return false;
            break;
        }
    }
    return true;
}

static int
group_setup(void **state)
{
    (void)state;
    if (!mkdtemp(tmpdir))
        return -1;
    return 0;
}

static int
group_teardown(void **state)
{
    char *path;
    int i;

    (void)state;
    for (i = 1; i <= nfiles; i++) {
        path = xasprintf("%s/test%d.conf", tmpdir, i);
        unlink(path);
        xfree(path);
    }
    /* Left behind when test_sample_file fails half-way. */
    path = xasprintf("%s/sample-uncommented.conf", tmpdir);
    unlink(path);
    xfree(path);
    return rmdir(tmpdir);
}

/* Defaults: the documented values, and the table is consistent. */
static void
test_defaults(void **state)
{
    const struct conf_key *keys;
    struct config c, d;
    size_t n, i, j;

    (void)state;
    config_init(&c);
    assert_string_equal(c.data_dir, "./var");
    assert_string_equal(c.listen, "127.0.0.1:7002");
    assert_string_equal(c.http_listen, "");
    assert_string_equal(c.tls_cert, "");
    assert_string_equal(c.tls_key, "");
    assert_string_equal(c.log_file, "");
    assert_string_equal(c.log_level, "info");
    assert_string_equal(c.web_root, "");
    assert_string_equal(c.manager_name, "OVM Manager");
    assert_int_equal(c.max_body_bytes, 1048576);
    assert_int_equal(c.connection_timeout, 30);
    assert_int_equal(c.max_connections, 256);
    assert_int_equal(c.max_connections_per_ip, 64);
    assert_int_equal(c.http_threads, 0);
    assert_int_equal(c.list_limit_default, 100);
    assert_int_equal(c.list_limit_max, 1000);
    assert_int_equal(c.login_max_failures, 5);
    assert_int_equal(c.login_lockout_seconds, 300);
    assert_int_equal(c.session_idle_timeout, 1800);
    assert_int_equal(c.session_lifetime, 43200);
    assert_string_equal(c.password_strength, "interactive");
    assert_int_equal(c.startup_delay_ms, 0);

    keys = config_keys(&n);
    assert_int_equal(n, 44);
    config_init(&d);
    for (i = 0; i < n; i++) {
        assert_non_null(keys[i].help);
        assert_true(strlen(keys[i].help) > 10);
        for (j = i + 1; j < n; j++)
            assert_string_not_equal(keys[i].name, keys[j].name);
        /* Setting a key to its default changes nothing. */
        assert_int_equal(config_set(&d, keys[i].name, keys[i].def), 0);
    }
    assert_true(config_equal(&c, &d));
    config_release(&d);
    config_release(&c);
}

/* Every kind of value, quoting and comment the format allows. */
static void
test_load_values(void **state)
{
    static const char text[] =
        "# a whole-line comment\n"
        "\n"
        "   \t\n"
        "  # an indented comment\n"
        "data_dir = /srv/ovmm   # a comment after a value\n"
        "listen=0.0.0.0:7443\n"
        "manager_name = \"My #1 \\\"Manager\\\" \\\\ here\"  # quoted\n"
        "http_listen = \"\"\n"
        "web_root = /a#b\n"
        "tls_cert = \"  padded  \"\n"
        "log_file = -\n"
        "log_level = debug\r\n"
        "connection_timeout = 3600\n"
        "max_connections_per_ip = 0\n"
        "max_body_bytes\t=\t2048\n"
        "password_strength = \"moderate\"\n"
        "startup_delay_ms = 250\n"
        "list_limit_max = 5\n"
        "list_limit_max = 50\n"
        "tls_key = #only a comment\n"
        "session_lifetime = 60";  /* no newline at the end */
    AUTOFREE char *path = write_file(text);
    struct config c;

    (void)state;
    config_init(&c);
    assert_int_equal(config_load(&c, path), 0);
    assert_string_equal(c.data_dir, "/srv/ovmm");
    assert_string_equal(c.listen, "0.0.0.0:7443");
    assert_string_equal(c.manager_name, "My #1 \"Manager\" \\ here");
    assert_string_equal(c.http_listen, "");
    assert_string_equal(c.web_root, "/a#b");
    assert_string_equal(c.tls_cert, "  padded  ");
    assert_string_equal(c.log_file, "-");
    assert_string_equal(c.log_level, "debug");
    assert_int_equal(c.connection_timeout, 3600);
    assert_int_equal(c.max_connections_per_ip, 0);
    assert_int_equal(c.max_body_bytes, 2048);
    assert_string_equal(c.password_strength, "moderate");
    assert_int_equal(c.startup_delay_ms, 250);
    assert_int_equal(c.list_limit_max, 50);
    assert_string_equal(c.tls_key, "");
    assert_int_equal(c.session_lifetime, 60);
    /* Keys the file does not mention keep their defaults. */
    assert_int_equal(c.max_connections, 256);
    assert_string_equal(c.log_level, "debug");
    config_release(&c);
}

/* An empty file is valid and changes nothing. */
static void
test_load_empty(void **state)
{
    AUTOFREE char *path = write_file("");
    struct config c, d;

    (void)state;
    config_init(&c);
    config_init(&d);
    assert_int_equal(config_load(&c, path), 0);
    assert_true(config_equal(&c, &d));
    config_release(&c);
    config_release(&d);
}

struct bad_case {
    const char *text;
    int line;             /* line the error must name */
    const char *problem;  /* must appear in the message */
};

static const struct bad_case bad_cases[] = {
    { "lisen = 1.2.3.4:5\n", 1, "unknown key 'lisen'" },
    { "# ok\nconnection_timeout = soon\n", 2,
      "'connection_timeout' must be an integer, not 'soon'" },
    { "connection_timeout = 12x\n", 1, "must be an integer" },
    { "connection_timeout =\n", 1, "'connection_timeout' must be an integer" },
    { "\n\nconnection_timeout = 0\n", 3,
      "'connection_timeout' must be between 1 and 3600" },
    { "max_body_bytes = 1073741825\n", 1,
      "'max_body_bytes' must be between 1024 and 1073741824" },
    { "max_connections = -1\n", 1, "must be between 1 and 65535" },
    { "max_connections = 99999999999999999999999\n", 1, "must be an integer" },
    { "listen 1.2.3.4:5\n", 1, "missing '='" },
    { "listen\n", 1, "missing '='" },
    { "= 5\n", 1, "expected a key name" },
    { "list-limit = 5\n", 1, "missing '='" },
    { "log_level = loud\n", 1, "unknown log level 'loud'" },
    { "log_level = \"INFO\"\n", 1, "unknown log level 'INFO'" },
    { "password_strength = extreme\n", 1,
      "unknown password strength 'extreme'" },
    { "manager_name = \"open\n", 1, "missing closing '\"'" },
    { "manager_name = \"a\\nb\"\n", 1, "unknown escape" },
    { "manager_name = \"a\" b\n", 1, "unexpected text after the closing" },
};

/*
 * Each bad file: ERR_CONFIG naming path and line, and the config exactly
 * as it was, even though earlier lines of the file were good.
 */
static void
test_load_errors(void **state)
{
    struct config c, before;
    char *text, *path, *prefix;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        text = xasprintf("manager_name = changed\nlisten = 10.0.0.1:1\n%s",
                         bad_cases[i].text);
        path = write_file(text);
        prefix = xasprintf("%s:%d: ", path, bad_cases[i].line + 2);
        config_init(&c);
        assert_int_equal(config_set(&c, "data_dir", "/keep"), 0);
        config_init(&before);
        assert_int_equal(config_set(&before, "data_dir", "/keep"), 0);

        err_clear();
        assert_int_equal(config_load(&c, path), -1);
        assert_int_equal(err_code(), ERR_CONFIG);
        if (!str_has_prefix(err_message(), prefix) ||
            !strstr(err_message(), bad_cases[i].problem))
            fail_msg("case %zu: got \"%s\", want \"%s...%s\"", i,
                     err_message(), prefix, bad_cases[i].problem);
        assert_true(config_equal(&c, &before));

        config_release(&before);
        config_release(&c);
        xfree(prefix);
        xfree(path);
        xfree(text);
    }
}

/* A line longer than 4096 bytes, and a NUL byte, are errors. */
static void
test_load_line_limits(void **state)
{
    char line[4200];
    char *text, *path;
    struct config c;

    (void)state;
    config_init(&c);
    /* Exactly 4096 bytes is fine. */
    memset(line, ' ', sizeof(line));
    memcpy(line, "web_root = x", 12);
    line[4096] = '\0';
    text = xasprintf("# first\n%s\n", line);
    path = write_file(text);
    assert_int_equal(config_load(&c, path), 0);
    assert_string_equal(c.web_root, "x");
    xfree(path);
    xfree(text);

    line[4096] = ' ';
    line[4097] = '\0';
    text = xasprintf("# first\n%s\n", line);
    path = write_file(text);
    assert_int_equal(config_load(&c, path), -1);
    assert_int_equal(err_code(), ERR_CONFIG);
    assert_non_null(strstr(err_message(), ":2: line is longer than 4096"));
    xfree(path);
    xfree(text);

    path = write_file_len("web_root = a\0b\n", 15);
    assert_int_equal(config_load(&c, path), -1);
    assert_int_equal(err_code(), ERR_CONFIG);
    assert_non_null(strstr(err_message(), ":1: line contains a NUL byte"));
    xfree(path);
    config_release(&c);
}

static void
test_load_missing(void **state)
{
    AUTOFREE char *path = xasprintf("%s/no-such.conf", tmpdir);
    struct config c;

    (void)state;
    config_init(&c);
    assert_int_equal(config_load(&c, path), -1);
    assert_int_equal(err_code(), ERR_IO);
    assert_non_null(strstr(err_message(), "no-such.conf"));
    config_release(&c);
}

/* Every integer key enforces its bounds, every bool key its words. */
static void
test_key_ranges(void **state)
{
    const struct conf_key *keys;
    struct config c;
    char text[32];
    size_t n, i;

    (void)state;
    keys = config_keys(&n);
    config_init(&c);
    for (i = 0; i < n; i++) {
        if (keys[i].type == CONF_INT) {
            assert_true(keys[i].min <= keys[i].max);
            snprintf(text, sizeof(text), "%lld", (long long)keys[i].min);
            assert_int_equal(config_set(&c, keys[i].name, text), 0);
            snprintf(text, sizeof(text), "%lld", (long long)keys[i].max);
            assert_int_equal(config_set(&c, keys[i].name, text), 0);
            assert_int_equal(*(const int64_t *)member(&c, &keys[i]),
                             keys[i].max);
            snprintf(text, sizeof(text), "%lld", (long long)keys[i].min - 1);
            assert_int_equal(config_set(&c, keys[i].name, text), -1);
            assert_int_equal(err_code(), ERR_CONFIG);
            assert_non_null(strstr(err_message(), keys[i].name));
            snprintf(text, sizeof(text), "%lld", (long long)keys[i].max + 1);
            assert_int_equal(config_set(&c, keys[i].name, text), -1);
            assert_int_equal(err_code(), ERR_CONFIG);
            assert_int_equal(*(const int64_t *)member(&c, &keys[i]),
                             keys[i].max);
        } else if (keys[i].type == CONF_BOOL) {
            /* No bool key exists yet; this covers the first one added. */
            assert_int_equal(config_set(&c, keys[i].name, "yes"), 0);
            assert_true(*(const bool *)member(&c, &keys[i]));
            assert_int_equal(config_set(&c, keys[i].name, "off"), 0);
            assert_int_equal(config_set(&c, keys[i].name, "maybe"), -1);
            assert_int_equal(err_code(), ERR_CONFIG);
            assert_false(*(const bool *)member(&c, &keys[i]));
        }
    }
    config_release(&c);
}

static void
test_set(void **state)
{
    struct config c, before;

    (void)state;
    config_init(&c);
    assert_int_equal(config_set(&c, "listen", "[::1]:7002"), 0);
    assert_string_equal(c.listen, "[::1]:7002");
    assert_int_equal(config_set(&c, "max_connections", "10"), 0);
    assert_int_equal(c.max_connections, 10);
    assert_int_equal(config_set(&c, "manager_name", "a b # c"), 0);
    assert_string_equal(c.manager_name, "a b # c");

    config_init(&before);
    assert_int_equal(config_set(&before, "listen", "[::1]:7002"), 0);
    assert_int_equal(config_set(&before, "max_connections", "10"), 0);
    assert_int_equal(config_set(&before, "manager_name", "a b # c"), 0);

    assert_int_equal(config_set(&c, "no_such_key", "1"), -1);
    assert_int_equal(err_code(), ERR_CONFIG);
    assert_string_equal(err_message(), "unknown config key 'no_such_key'");
    assert_int_equal(config_set(&c, "max_connections", "0"), -1);
    assert_int_equal(err_code(), ERR_CONFIG);
    assert_non_null(strstr(err_message(),
                           "'max_connections' must be between 1 and 65535"));
    assert_int_equal(config_set(&c, "log_level", "chatty"), -1);
    assert_int_equal(err_code(), ERR_CONFIG);
    assert_int_equal(config_set(&c, "password_strength", "weak"), -1);
    assert_int_equal(err_code(), ERR_CONFIG);
    assert_true(config_equal(&c, &before));
    config_release(&before);
    config_release(&c);
}

/* Reload applies log_level, keeps a changed immutable key, and a flag. */
static void
test_reload(void **state)
{
    AUTOFREE char *first = write_file("log_level = warn\n"
                                      "listen = 10.0.0.1:7002\n");
    AUTOFREE char *second = write_file("log_level = debug\n"
                                       "listen = 10.0.0.2:7002\n"
                                       "manager_name = \"OVM Manager\"\n");
    AUTOFREE char *bad = write_file("log_level = error\nnope = 1\n");
    struct config c, before;

    (void)state;
    log_set_level(LOG_LEVEL_INFO);
    config_init(&c);
    assert_int_equal(config_load(&c, first), 0);
    /* As a command-line flag would, after the file. */
    assert_int_equal(config_set(&c, "data_dir", "/flag"), 0);
    assert_string_equal(c.log_level, "warn");

    assert_int_equal(config_reload(&c, second), 0);
    assert_string_equal(c.log_level, "debug");
    assert_int_equal(log_get_level(), LOG_LEVEL_DEBUG);
    assert_string_equal(c.listen, "10.0.0.1:7002");
    assert_string_equal(c.data_dir, "/flag");
    assert_string_equal(c.manager_name, "OVM Manager");

    /* A bad file changes nothing, not even the reloadable key. */
    config_init(&before);
    assert_int_equal(config_load(&before, first), 0);
    assert_int_equal(config_set(&before, "data_dir", "/flag"), 0);
    assert_int_equal(config_reload(&before, second), 0);
    assert_true(config_equal(&c, &before));
    assert_int_equal(config_reload(&c, bad), -1);
    assert_int_equal(err_code(), ERR_CONFIG);
    assert_non_null(strstr(err_message(), ":2: unknown key 'nope'"));
    assert_true(config_equal(&c, &before));
    assert_int_equal(log_get_level(), LOG_LEVEL_DEBUG);
    config_release(&before);
    log_set_level(LOG_LEVEL_INFO);
    config_release(&c);
}

/*
 * The sample file lists every key of the table exactly once, commented
 * out with its default, and nothing else that looks like a key; with the
 * '#' removed from those lines it loads and gives the defaults.
 */
static void
test_sample_file(void **state)
{
    const struct conf_key *keys;
    const char *srcdir = getenv("OVMM_SRCDIR");
    AUTOFREE char *path = NULL;
    AUTOFREE char *want = NULL;
    AUTOFREE char *uncommented = NULL;
    AUTOFREE int *count = NULL;
    char line[4200], name[128];
    struct config c, d;
    FILE *f, *out;
    size_t n, i, len;
    bool found;

    (void)state;
    path = xasprintf("%s/packaging/ovmmd.conf", srcdir ? srcdir : ".");
    uncommented = xasprintf("%s/sample-uncommented.conf", tmpdir);
    keys = config_keys(&n);
    count = xcalloc(n, sizeof(*count));
    f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open '%s': %s (set OVMM_SRCDIR)", path,
                 strerror(errno));
    out = fopen(uncommented, "w");
    assert_non_null(out);

    while (fgets(line, sizeof(line), f)) {
        len = strlen(line);
        assert_true(len > 0 && line[len - 1] == '\n');
        /* A key line is '#' then a name: no blank after the '#'. */
        if (line[0] != '#' || !(line[1] >= 'a' && line[1] <= 'z')) {
            /* An active (uncommented) setting is not allowed either. */
            if (line[0] != '#' && line[0] != '\n')
                fail_msg("unexpected line in the sample: %s", line);
            continue;
        }
        if (sscanf(line + 1, "%127[a-z0-9_]", name) != 1)
            fail_msg("malformed key line in the sample: %s", line);
        found = false;
        for (i = 0; i < n; i++) {
            if (strcmp(keys[i].name, name) != 0)
                continue;
            found = true;
            count[i]++;
            xfree(want);
            if (keys[i].type == CONF_STRING)
                want = xasprintf("#%s = \"%s\"\n", name, keys[i].def);
            else
                want = xasprintf("#%s = %s\n", name, keys[i].def);
            assert_string_equal(line, want);
        }
        if (!found)
            fail_msg("the sample has key '%s', which the table lacks", name);
        fputs(line + 1, out);
    }
    assert_int_equal(fclose(f), 0);
    assert_int_equal(fclose(out), 0);
    for (i = 0; i < n; i++) {
        if (count[i] != 1)
            fail_msg("key '%s' appears %d times in the sample, not once",
                     keys[i].name, count[i]);
    }

    config_init(&c);
    config_init(&d);
    assert_int_equal(config_set(&c, "max_connections", "7"), 0);
    assert_int_equal(config_load(&c, uncommented), 0);
    assert_true(config_equal(&c, &d));
    config_release(&c);
    config_release(&d);
    unlink(uncommented);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_load_values),
        cmocka_unit_test(test_load_empty),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_load_line_limits),
        cmocka_unit_test(test_load_missing),
        cmocka_unit_test(test_key_ranges),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_reload),
        cmocka_unit_test(test_sample_file),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
