/*
 * test_auth.c - unit tests for auth/: the permission table, roles,
 * password hashing and checks, log-in with lock-out and the verification
 * cache, and browser sessions.
 *
 * DESIGN: every test gets a fresh real database (db_open on a new
 * temporary directory, removed afterwards) and a fresh auth_init with
 * the "interactive" strength, which is fast enough to hash a few
 * passwords per test. Time-based rules are tested with short limits
 * (a 1 s lock-out, 100 ms session limits) and real sleeps.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tmpdir.h"
#include "auth/auth.h"
#include "db/db.h"
#include "util/alloc.h"
#include "util/autoptr.h"
#include "util/err.h"
#include "util/str.h"

#define PW_ALICE "alice's password"
#define PW_BOB "bob's password"

struct fixture {
    char dir[64];
    struct db *db;
    struct auth_conf conf;
};

static const struct auth_conf test_conf = {
    .max_failures = 5,
    .lockout_ms = 1000,
    .session_idle_ms = 1800000,
    .session_lifetime_ms = 43200000,
    .strength = "interactive",
};

static void
sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0)
        ;
}

static int
setup(void **state)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));
    char *path;

    if (tmpdir_make(fx->dir, sizeof(fx->dir), "auth") < 0) {
        xfree(fx);
        return -1;
    }
    path = xasprintf("%s/ovmm.db", fx->dir);
    fx->db = db_open(path);
    xfree(path);
    if (!fx->db) {
        fprintf(stderr, "# db_open: %s\n", err_message());
        tmpdir_remove(fx->dir);
        xfree(fx);
        return -1;
    }
    fx->conf = test_conf;
    if (auth_init(fx->db, &fx->conf) < 0) {
        fprintf(stderr, "# auth_init: %s\n", err_message());
        db_close(fx->db);
        tmpdir_remove(fx->dir);
        xfree(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;

    auth_shutdown();
    db_close(fx->db);
    tmpdir_remove(fx->dir);
    xfree(fx);
    return 0;
}

/* Restart auth with changed settings (the db stays). */
static void
reinit(struct fixture *fx)
{
    auth_shutdown();
    assert_int_equal(auth_init(fx->db, &fx->conf), 0);
}

static void
add_user(struct fixture *fx, const char *name, const char *role,
         const char *password)
{
    AUTOFREE char *hash = auth_password_hash(password);

    assert_non_null(hash);
    if (db_user_create(fx->db, name, role, hash, NULL, NULL) < 0)
        fail_msg("db_user_create '%s': %s", name, err_message());
}

static struct db_user *
get_user(struct fixture *fx, const char *name)
{
    struct db_user *u = db_user_get_by_name(fx->db, name);

    if (!u)
        fail_msg("db_user_get_by_name '%s': %s", name, err_message());
    return u;
}

static void
expect_error(int ret, enum err_code code, const char *message)
{
    assert_int_equal(ret, -1);
    if (err_code() != code || !str_eq(err_message(), message))
        fail_msg("got %s \"%s\", want %s \"%s\"", err_code_str(err_code()),
                 err_message(), err_code_str(code), message);
}

/* ---- permissions and roles ---- */

static void
test_permission_table(void **state)
{
    static const struct {
        enum auth_perm perm;
        bool read_only, operator, administrator;
    } rows[] = {
        { PERM_PUBLIC, true, true, true },
        { PERM_READ, true, true, true },
        { PERM_OPERATE, false, true, true },
        { PERM_ADMIN, false, false, true },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        assert_int_equal(auth_allowed(ROLE_READ_ONLY, rows[i].perm),
                         rows[i].read_only);
        assert_int_equal(auth_allowed(ROLE_OPERATOR, rows[i].perm),
                         rows[i].operator);
        assert_int_equal(auth_allowed(ROLE_ADMINISTRATOR, rows[i].perm),
                         rows[i].administrator);
    }
    /* Values outside the enums are denied, not read out of bounds. */
    assert_false(auth_allowed((enum auth_role)7, PERM_PUBLIC));
    assert_false(auth_allowed(ROLE_ADMINISTRATOR, (enum auth_perm)9));
}

static void
test_roles_and_perms(void **state)
{
    static const enum auth_role roles[] = { ROLE_READ_ONLY, ROLE_OPERATOR,
                                            ROLE_ADMINISTRATOR };
    enum auth_role r;
    size_t i;

    (void)state;
    for (i = 0; i < 3; i++) {
        r = ROLE_READ_ONLY;
        assert_int_equal(auth_role_parse(auth_role_str(roles[i]), &r), 0);
        assert_int_equal(r, roles[i]);
    }
    assert_string_equal(auth_role_str(ROLE_ADMINISTRATOR), "administrator");
    assert_string_equal(auth_role_str(ROLE_OPERATOR), "operator");
    assert_string_equal(auth_role_str(ROLE_READ_ONLY), "read-only");
    expect_error(auth_role_parse("root", &r), ERR_INVALID,
                 "unknown role 'root' (administrator, operator, read-only)");
    assert_int_equal(auth_role_parse("Administrator", &r), -1);
    assert_int_equal(auth_role_parse(NULL, &r), -1);

    assert_string_equal(auth_perm_str(PERM_PUBLIC), "public");
    assert_string_equal(auth_perm_str(PERM_READ), "read");
    assert_string_equal(auth_perm_str(PERM_OPERATE), "operate");
    assert_string_equal(auth_perm_str(PERM_ADMIN), "admin");
}

/* ---- passwords ---- */

static void
test_hash_verify(void **state)
{
    AUTOFREE char *h1 = auth_password_hash("correct horse");
    AUTOFREE char *h2 = auth_password_hash("correct horse");

    (void)state;
    assert_non_null(h1);
    assert_non_null(h2);
    assert_true(str_has_prefix(h1, "$argon2id$"));
    assert_string_not_equal(h1, h2);  /* salted */
    assert_true(auth_password_verify(h1, "correct horse"));
    assert_true(auth_password_verify(h2, "correct horse"));
    assert_false(auth_password_verify(h1, "correct horse "));
    assert_false(auth_password_verify(h1, ""));
    assert_false(auth_password_verify("nonsense", "correct horse"));
    assert_false(auth_password_verify("", "correct horse"));
    assert_false(auth_password_verify("$argon2id$v=19$m=65536,t=2,p=1$x",
                                      "correct horse"));
    assert_false(auth_password_verify(NULL, "correct horse"));
}

static void
test_generate(void **state)
{
    static const char alphabet[] =
        "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    char *pw[20];
    size_t i, j;

    (void)state;
    for (i = 0; i < 20; i++) {
        pw[i] = auth_password_generate();
        assert_int_equal(strlen(pw[i]), 20);
        assert_int_equal(strspn(pw[i], alphabet), 20);
        assert_int_equal(auth_password_check(pw[i]), 0);
        for (j = 0; j < i; j++)
            assert_string_not_equal(pw[i], pw[j]);
    }
    for (i = 0; i < 20; i++)
        xfree(pw[i]);
}

static void
test_password_check(void **state)
{
    char long_pw[258];

    (void)state;
    expect_error(auth_password_check("short"), ERR_INVALID,
                 "password is too short: at least 8 characters");
    expect_error(auth_password_check("tab\tinside"), ERR_INVALID,
                 "password must not contain control characters");
    expect_error(auth_password_check("del\x7finside"), ERR_INVALID,
                 "password must not contain control characters");
    memset(long_pw, 'x', sizeof(long_pw));
    long_pw[257] = '\0';
    expect_error(auth_password_check(long_pw), ERR_INVALID,
                 "password is too long: at most 256 bytes");
    long_pw[256] = '\0';
    assert_int_equal(auth_password_check(long_pw), 0);
    assert_int_equal(auth_password_check("12345678"), 0);
    assert_int_equal(auth_password_check("pässwörd with spaces"), 0);
    assert_int_equal(auth_password_check(NULL), -1);
}

static void
test_bad_strength(void **state)
{
    struct fixture *fx = *state;
    struct auth_conf conf = test_conf;

    auth_shutdown();
    conf.strength = "extreme";
    expect_error(auth_init(fx->db, &conf), ERR_CONFIG,
                 "unknown password strength 'extreme' (interactive, "
                 "moderate, sensitive)");
    assert_int_equal(auth_init(fx->db, &fx->conf), 0);
}

/* ---- log-in ---- */

static void
test_login_ok(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(db_user) struct db_user *u = NULL;
    struct auth_identity id;
    int64_t before = time_now_ms();

    int64_t t0, t1, t2;

    add_user(fx, "alice", "operator", PW_ALICE);
    memset(&id, 0x55, sizeof(id));
    t0 = time_mono_ms();
    assert_int_equal(auth_login("alice", PW_ALICE, &id), 0);
    t1 = time_mono_ms();
    assert_string_equal(id.name, "alice");
    assert_int_equal(id.role, ROLE_OPERATOR);
    assert_false(id.via_session);
    u = get_user(fx, "alice");
    assert_string_equal(id.user_id, u->id);
    assert_true(u->last_login_ms >= before);

    /* Again: now from the cache, same answer, without an Argon2id run. */
    memset(&id, 0, sizeof(id));
    assert_int_equal(auth_login("alice", PW_ALICE, &id), 0);
    t2 = time_mono_ms();
    assert_string_equal(id.name, "alice");
    if ((t2 - t1) * 4 > t1 - t0)
        fail_msg("cached log-in took %lld ms, the first %lld ms",
                 (long long)(t2 - t1), (long long)(t1 - t0));
}

static void
test_login_wrong_password(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(db_user) struct db_user *u = NULL;
    struct auth_identity id;

    add_user(fx, "alice", "administrator", PW_ALICE);
    expect_error(auth_login("alice", "not the password", &id), ERR_AUTH,
                 "invalid user name or password");
    expect_error(auth_login("alice", "", &id), ERR_AUTH,
                 "invalid user name or password");
    u = get_user(fx, "alice");
    assert_int_equal(u->failed_logins, 2);
    db_user_free(steal_ptr(&u));

    /* Success resets the count. */
    assert_int_equal(auth_login("alice", PW_ALICE, &id), 0);
    assert_int_equal(id.role, ROLE_ADMINISTRATOR);
    u = get_user(fx, "alice");
    assert_int_equal(u->failed_logins, 0);
}

static void
test_login_unknown_user(void **state)
{
    struct fixture *fx = *state;
    struct auth_identity id;

    int64_t t0, t1, t2;

    add_user(fx, "alice", "operator", PW_ALICE);
    t0 = time_mono_ms();
    expect_error(auth_login("alice", "wrong password", &id), ERR_AUTH,
                 "invalid user name or password");
    t1 = time_mono_ms();
    expect_error(auth_login("mallory", PW_ALICE, &id), ERR_AUTH,
                 "invalid user name or password");
    t2 = time_mono_ms();
    /* An unknown name costs a hash verification too, so timing does not
     * tell names apart (loose bound: only catch a skipped verification). */
    if ((t2 - t1) * 3 < t1 - t0)
        fail_msg("unknown user took %lld ms, a wrong password %lld ms",
                 (long long)(t2 - t1), (long long)(t1 - t0));
    expect_error(auth_login("", "", &id), ERR_AUTH,
                 "invalid user name or password");
    expect_error(auth_login("evil\nname", "x", &id), ERR_AUTH,
                 "invalid user name or password");
    expect_error(auth_login(NULL, NULL, &id), ERR_AUTH,
                 "invalid user name or password");
}

/* Exactly max_failures wrong passwords lock the user out for lockout_ms,
 * even against the right (and cached) password. */
static void
test_lockout(void **state)
{
    struct fixture *fx = *state;
    struct auth_identity id;
    int i;

    add_user(fx, "bob", "read-only", PW_BOB);
    assert_int_equal(auth_login("bob", PW_BOB, &id), 0);  /* now cached */
    for (i = 1; i < 5; i++)
        expect_error(auth_login("bob", "guess", &id), ERR_AUTH,
                     "invalid user name or password");
    expect_error(auth_login("bob", "guess", &id), ERR_AUTH,
                 "invalid user name or password; user 'bob' is now locked "
                 "out for 1 seconds");
    expect_error(auth_login("bob", PW_BOB, &id), ERR_ACCOUNT_LOCKED,
                 "user 'bob' is locked out for 1 more seconds after 5 "
                 "failed log-ins");
    expect_error(auth_login("bob", "guess", &id), ERR_ACCOUNT_LOCKED,
                 "user 'bob' is locked out for 1 more seconds after 5 "
                 "failed log-ins");
    sleep_ms(1200);
    assert_int_equal(auth_login("bob", PW_BOB, &id), 0);
    assert_int_equal(id.role, ROLE_READ_ONLY);
}

static void
test_login_disabled(void **state)
{
    struct fixture *fx = *state;
    struct auth_identity id;

    add_user(fx, "carol", "operator", "carol's password");
    assert_int_equal(auth_login("carol", "carol's password", &id), 0);
    assert_int_equal(db_user_set_disabled(fx->db, "carol", true), 0);
    expect_error(auth_login("carol", "carol's password", &id),
                 ERR_ACCOUNT_LOCKED, "user 'carol' is locked by an "
                 "administrator");
    assert_int_equal(db_user_set_disabled(fx->db, "carol", false), 0);
    assert_int_equal(auth_login("carol", "carol's password", &id), 0);
}

/* The cache never outlives a password change, even one made behind
 * auth's back (another process writing the db). */
static void
test_password_changed(void **state)
{
    struct fixture *fx = *state;
    AUTOFREE char *hash = auth_password_hash("the new password");
    struct auth_identity id;

    add_user(fx, "alice", "operator", PW_ALICE);
    assert_int_equal(auth_login("alice", PW_ALICE, &id), 0);
    assert_int_equal(auth_login("alice", PW_ALICE, &id), 0);
    assert_int_equal(db_user_set_password(fx->db, "alice", hash), 0);
    expect_error(auth_login("alice", PW_ALICE, &id), ERR_AUTH,
                 "invalid user name or password");
    assert_int_equal(auth_login("alice", "the new password", &id), 0);
}

/* ---- sessions ---- */

static void
hash_token(const char *token, char out[65])
{
    unsigned char d[crypto_hash_sha256_BYTES];

    crypto_hash_sha256(d, (const unsigned char *)token, strlen(token));
    hex_encode(d, sizeof(d), out);
}

static void
open_session(const char *user, const char *password, char token[65],
             char csrf[65])
{
    struct auth_identity id;

    assert_int_equal(auth_login(user, password, &id), 0);
    if (auth_session_open(&id, token, csrf) < 0)
        fail_msg("auth_session_open: %s", err_message());
}

static void
test_session(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(db_session) struct db_session *s = NULL;
    AUTOPTR(db_user) struct db_user *u = NULL;
    char token[65], csrf[65], hash[65];
    struct auth_identity id;

    add_user(fx, "alice", "administrator", PW_ALICE);
    open_session("alice", PW_ALICE, token, csrf);
    assert_int_equal(strlen(token), 64);
    assert_int_equal(strspn(token, "0123456789abcdef"), 64);
    assert_int_equal(strlen(csrf), 64);
    assert_int_equal(strspn(csrf, "0123456789abcdef"), 64);
    assert_string_not_equal(token, csrf);

    /* The db holds the token's SHA-256, never the token. */
    hash_token(token, hash);
    s = db_session_get(fx->db, hash);
    assert_non_null(s);
    assert_string_equal(s->csrf_token, csrf);
    assert_true(s->expires_ms - s->created_ms == test_conf.session_lifetime_ms);
    assert_null(db_session_get(fx->db, token));
    assert_int_equal(err_code(), ERR_NOT_FOUND);

    memset(&id, 0, sizeof(id));
    assert_int_equal(auth_session_check(token, &id), 0);
    assert_true(id.via_session);
    assert_string_equal(id.csrf, csrf);
    assert_string_equal(id.name, "alice");
    assert_int_equal(id.role, ROLE_ADMINISTRATOR);
    u = get_user(fx, "alice");
    assert_string_equal(id.user_id, u->id);

    assert_int_equal(auth_session_close(token), 0);
    expect_error(auth_session_check(token, &id), ERR_AUTH,
                 "session expired or unknown");
    assert_int_equal(auth_session_close(token), 0);
    assert_int_equal(auth_session_close("not a token"), 0);
    assert_int_equal(auth_session_close(NULL), 0);
    expect_error(auth_session_check("not a token", &id), ERR_AUTH,
                 "session expired or unknown");
    expect_error(auth_session_check(NULL, &id), ERR_AUTH,
                 "session expired or unknown");
    /* Well-formed but never issued. */
    expect_error(auth_session_check(hash, &id), ERR_AUTH,
                 "session expired or unknown");
}

static void
test_session_idle(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(db_session) struct db_session *s = NULL;
    char token[65], csrf[65], hash[65];
    struct auth_identity id;

    fx->conf.session_idle_ms = 100;
    reinit(fx);
    add_user(fx, "alice", "operator", PW_ALICE);
    open_session("alice", PW_ALICE, token, csrf);
    assert_int_equal(auth_session_check(token, &id), 0);
    sleep_ms(250);
    expect_error(auth_session_check(token, &id), ERR_AUTH,
                 "session expired or unknown");
    /* An ended session is deleted when found. */
    hash_token(token, hash);
    s = db_session_get(fx->db, hash);
    assert_null(s);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
}

static void
test_session_lifetime(void **state)
{
    struct fixture *fx = *state;
    char token[65], csrf[65];
    struct auth_identity id;

    fx->conf.session_lifetime_ms = 100;
    reinit(fx);
    add_user(fx, "alice", "operator", PW_ALICE);
    open_session("alice", PW_ALICE, token, csrf);
    assert_int_equal(auth_session_check(token, &id), 0);
    sleep_ms(250);
    expect_error(auth_session_check(token, &id), ERR_AUTH,
                 "session expired or unknown");
}

static void
test_session_disabled_user(void **state)
{
    struct fixture *fx = *state;
    char token[65], csrf[65];
    struct auth_identity id;

    add_user(fx, "alice", "operator", PW_ALICE);
    open_session("alice", PW_ALICE, token, csrf);
    assert_int_equal(db_user_set_disabled(fx->db, "alice", true), 0);
    expect_error(auth_session_check(token, &id), ERR_AUTH,
                 "session expired or unknown");
    /* Unlocking does not bring the session back. */
    assert_int_equal(db_user_set_disabled(fx->db, "alice", false), 0);
    expect_error(auth_session_check(token, &id), ERR_AUTH,
                 "session expired or unknown");
}

static void
test_session_locked_out_user(void **state)
{
    struct fixture *fx = *state;
    char token[65], csrf[65];
    struct auth_identity id;
    int i;

    add_user(fx, "bob", "operator", PW_BOB);
    open_session("bob", PW_BOB, token, csrf);
    for (i = 0; i < 5; i++)
        assert_int_equal(auth_login("bob", "guess", &id), -1);
    expect_error(auth_session_check(token, &id), ERR_AUTH,
                 "session expired or unknown");
    sleep_ms(1200);
    assert_int_equal(auth_session_check(token, &id), 0);
    assert_string_equal(id.name, "bob");
}

static void
test_session_deleted_user(void **state)
{
    struct fixture *fx = *state;
    char token[65], csrf[65];
    struct auth_identity id;

    add_user(fx, "alice", "operator", PW_ALICE);
    open_session("alice", PW_ALICE, token, csrf);
    assert_int_equal(db_user_delete(fx->db, "alice"), 0);
    expect_error(auth_session_check(token, &id), ERR_AUTH,
                 "session expired or unknown");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_permission_table),
        cmocka_unit_test(test_roles_and_perms),
        T(test_hash_verify),
        T(test_generate),
        T(test_password_check),
        T(test_bad_strength),
        T(test_login_ok),
        T(test_login_wrong_password),
        T(test_login_unknown_user),
        T(test_lockout),
        T(test_login_disabled),
        T(test_password_changed),
        T(test_session),
        T(test_session_idle),
        T(test_session_lifetime),
        T(test_session_disabled_user),
        T(test_session_locked_out_user),
        T(test_session_deleted_user),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
