/*
 * password.c - password hashing, generation and checks, and log-in with
 * lock-out and a verification cache (see auth.h).
 *
 * DESIGN: the module state (`auth`: the db, the settings, the Argon2id
 * limits and a dummy hash) is written only by auth_init() and
 * auth_shutdown() on the main thread before and after the HTTP threads
 * run, so other threads read it without a lock.
 *
 * Oracle VM clients send HTTP Basic credentials on every call, and an
 * Argon2id verification is deliberately slow (tens of milliseconds, tens
 * of megabytes). So a successful verification is remembered: the cache
 * holds BLAKE2b-256 digests, keyed with a random per-process secret, of
 * (user id, stored hash string, password), each field length-prefixed so
 * that fields cannot run into each other. It never holds a password or
 * anything that could be attacked offline without the secret, which never
 * leaves this process. A changed password changes the stored hash and so
 * misses; entries also expire after CACHE_TTL_MS. The user row is read on
 * every log-in regardless, so an administrator lock, a lock-out or a role
 * change applies to the very next request.
 *
 * The cache is a fixed table of CACHE_SLOTS entries protected by
 * `cache_lock`; a full table evicts its oldest entry. The lock is held for
 * table scans only, never during a hash verification.
 *
 * An unknown user name costs one verification against a dummy hash made at
 * auth_init, so response times do not tell which user names exist.
 */
#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "auth/auth_int.h"
#include "db/db.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/log.h"
#include "util/str.h"

LOG_MODULE("auth");

#define CACHE_SLOTS 256
#define CACHE_TTL_MS (5 * 60 * 1000)
/* A successful log-in is written back at most this often per user. */
#define LOGIN_WRITE_INTERVAL_MS (60 * 1000)

#define PASSWORD_MIN 8
#define PASSWORD_MAX 256
#define GENERATED_LEN 20

/* No 0/O, 1/l/I, and no i/o either: easy to read out and type. */
static const char password_alphabet[] =
    "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

#define AUTH_CONF_DEFAULTS                                                    \
    { .max_failures = 5, .lockout_ms = 300000,                                \
      .session_idle_ms = 1800000, .session_lifetime_ms = 43200000,            \
      .strength = "interactive" }

static const struct auth_conf auth_conf_defaults = AUTH_CONF_DEFAULTS;

/* Written by auth_init/auth_shutdown only (main thread); read anywhere. */
static struct {
    struct db *db;                /* borrowed */
    struct auth_conf conf;        /* .strength points at a static name */
    unsigned long long opslimit;  /* Argon2id cost for new hashes */
    size_t memlimit;
    char *dummy_hash;             /* verified for unknown user names */
} auth = {
    .conf = AUTH_CONF_DEFAULTS,
    .opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE,
    .memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE,
};

struct cache_slot {
    unsigned char digest[crypto_generichash_BYTES];
    int64_t added_ms;  /* time_mono_ms() when stored */
    bool used;
};

/* Immutable between auth_init and auth_shutdown. */
static unsigned char cache_secret[crypto_generichash_KEYBYTES];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cache_slot cache[CACHE_SLOTS];  /* protected by cache_lock */

struct strength {
    const char *name;
    unsigned long long opslimit;
    size_t memlimit;
};

static const struct strength strengths[] = {
    { "interactive", crypto_pwhash_OPSLIMIT_INTERACTIVE,
      crypto_pwhash_MEMLIMIT_INTERACTIVE },
    { "moderate", crypto_pwhash_OPSLIMIT_MODERATE,
      crypto_pwhash_MEMLIMIT_MODERATE },
    { "sensitive", crypto_pwhash_OPSLIMIT_SENSITIVE,
      crypto_pwhash_MEMLIMIT_SENSITIVE },
};

/* sodium_init() is idempotent and thread-safe; the CLI hashes without
 * auth_init, so every entry point that needs libsodium calls this. */
static int
sodium_ready(void)
{
    if (sodium_init() < 0) {
        err_set(ERR_INTERNAL, "cannot initialize libsodium");
        return -1;
    }
    return 0;
}

static const struct strength *
strength_find(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(strengths) / sizeof(strengths[0]); i++) {
        if (str_eq(strengths[i].name, name))
            return &strengths[i];
    }
    return NULL;
}

/*
 * Copy a user-supplied name into @out for a log line: at most 64 bytes,
 * control characters replaced, so a crafted name cannot forge log lines.
 */
static void
log_safe_name(char out[72], const char *name)
{
    size_t i;

    for (i = 0; name[i] && i < 64; i++) {
        unsigned char ch = (unsigned char)name[i];

        out[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    out[i] = '\0';
    if (name[i])
        str_copy(out + i, "...", 4);
}

static void
cache_clear(void)
{
    pthread_mutex_lock(&cache_lock);
    sodium_memzero(cache, sizeof(cache));
    pthread_mutex_unlock(&cache_lock);
}

int
auth_init(struct db *db, const struct auth_conf *conf)
{
    const struct strength *st;
    char *dummy;
    char pw[GENERATED_LEN + 1];

    if (sodium_ready() < 0)
        return -1;
    if (!conf)
        conf = &auth_conf_defaults;
    st = strength_find(conf->strength);
    if (!st) {
        err_set(ERR_CONFIG,
                "unknown password strength '%s' (interactive, moderate, "
                "sensitive)", conf->strength ? conf->strength : "");
        return -1;
    }
    if (conf->max_failures < 1 || conf->lockout_ms < 0 ||
        conf->session_idle_ms < 1 || conf->session_lifetime_ms < 1) {
        err_set(ERR_CONFIG, "log-in and session limits must be positive");
        return -1;
    }

    /* Hash a random password, at the configured cost, for unknown users. */
    randombytes_buf(pw, GENERATED_LEN);
    pw[GENERATED_LEN] = '\0';
    dummy = xmalloc(crypto_pwhash_STRBYTES);
    if (crypto_pwhash_str(dummy, pw, GENERATED_LEN, st->opslimit,
                          st->memlimit) != 0) {
        xfree(dummy);
        err_set(ERR_INTERNAL,
                "cannot hash a password at strength '%s': out of memory",
                st->name);
        return -1;
    }
    sodium_memzero(pw, sizeof(pw));

    xfree(auth.dummy_hash);
    auth.dummy_hash = dummy;
    auth.opslimit = st->opslimit;
    auth.memlimit = st->memlimit;
    auth.db = db;
    auth.conf = *conf;
    auth.conf.strength = st->name;
    randombytes_buf(cache_secret, sizeof(cache_secret));
    cache_clear();
    return 0;
}

void
auth_shutdown(void)
{
    cache_clear();
    sodium_memzero(cache_secret, sizeof(cache_secret));
    xfree(auth.dummy_hash);
    auth.dummy_hash = NULL;
    auth.db = NULL;
    auth.conf = auth_conf_defaults;
    auth.opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
    auth.memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
}

struct db *
auth_db(void)
{
    return auth.db;
}

const struct auth_conf *
auth_settings(void)
{
    return &auth.conf;
}

char *
auth_password_hash(const char *password)
{
    char out[crypto_pwhash_STRBYTES];

    if (!password) {
        err_set(ERR_INVALID, "password is missing");
        return NULL;
    }
    if (sodium_ready() < 0)
        return NULL;
    if (crypto_pwhash_str(out, password, strlen(password), auth.opslimit,
                          auth.memlimit) != 0) {
        err_set(ERR_INTERNAL,
                "cannot hash password at strength '%s': out of memory",
                auth.conf.strength);
        return NULL;
    }
    return xstrdup(out);
}

bool
auth_password_verify(const char *hash, const char *password)
{
    if (!hash || !password || sodium_ready() < 0)
        return false;
    /* libsodium declares a crypto_pwhash_STRBYTES array: never read past
     * a shorter string, and a longer one cannot be a valid hash. */
    if (strnlen(hash, crypto_pwhash_STRBYTES) >= crypto_pwhash_STRBYTES)
        return false;
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

char *
auth_password_generate(void)
{
    char *pw = xmalloc(GENERATED_LEN + 1);
    size_t i;

    if (sodium_ready() < 0)
        fatalx("cannot initialize libsodium");
    for (i = 0; i < GENERATED_LEN; i++)
        pw[i] = password_alphabet[randombytes_uniform(
            (uint32_t)(sizeof(password_alphabet) - 1))];
    pw[GENERATED_LEN] = '\0';
    return pw;
}

int
auth_password_check(const char *password)
{
    size_t len, i;

    if (!password) {
        err_set(ERR_INVALID, "password is missing");
        return -1;
    }
    len = strlen(password);
    if (len < PASSWORD_MIN) {
        err_set(ERR_INVALID, "password is too short: at least %d characters",
                PASSWORD_MIN);
        return -1;
    }
    if (len > PASSWORD_MAX) {
        err_set(ERR_INVALID, "password is too long: at most %d bytes",
                PASSWORD_MAX);
        return -1;
    }
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)password[i];

        if (ch < 0x20 || ch == 0x7f) {
            err_set(ERR_INVALID,
                    "password must not contain control characters");
            return -1;
        }
    }
    return 0;
}

static void
digest_field(crypto_generichash_state *st, const char *s)
{
    unsigned char len[8];
    uint64_t n = strlen(s);
    int i;

    /* Little-endian length first: ("ab","c") and ("a","bc") differ. */
    for (i = 0; i < 8; i++)
        len[i] = (unsigned char)(n >> (8 * i));
    crypto_generichash_update(st, len, sizeof(len));
    crypto_generichash_update(st, (const unsigned char *)s, n);
}

static void
cache_digest(const struct db_user *u, const char *password,
             unsigned char out[crypto_generichash_BYTES])
{
    crypto_generichash_state st;

    crypto_generichash_init(&st, cache_secret, sizeof(cache_secret),
                            crypto_generichash_BYTES);
    digest_field(&st, u->id);
    digest_field(&st, u->password_hash);
    digest_field(&st, password);
    crypto_generichash_final(&st, out, crypto_generichash_BYTES);
    sodium_memzero(&st, sizeof(st));
}

/* Is @digest a live entry? Expired entries found on the way are freed. */
static bool
cache_lookup(const unsigned char *digest)
{
    int64_t now = time_mono_ms();
    bool hit = false;
    size_t i;

    pthread_mutex_lock(&cache_lock);
    for (i = 0; i < CACHE_SLOTS; i++) {
        if (!cache[i].used)
            continue;
        if (now - cache[i].added_ms > CACHE_TTL_MS) {
            cache[i].used = false;
            continue;
        }
        if (sodium_memcmp(cache[i].digest, digest,
                          crypto_generichash_BYTES) == 0) {
            hit = true;
            break;
        }
    }
    pthread_mutex_unlock(&cache_lock);
    return hit;
}

/* Remember @digest, in a free slot or in place of the oldest entry. */
static void
cache_add(const unsigned char *digest)
{
    int64_t now = time_mono_ms();
    size_t i, victim = 0;

    pthread_mutex_lock(&cache_lock);
    for (i = 0; i < CACHE_SLOTS; i++) {
        if (!cache[i].used || now - cache[i].added_ms > CACHE_TTL_MS) {
            victim = i;
            break;
        }
        if (cache[i].added_ms < cache[victim].added_ms)
            victim = i;
    }
    memcpy(cache[victim].digest, digest, crypto_generichash_BYTES);
    cache[victim].added_ms = now;
    cache[victim].used = true;
    pthread_mutex_unlock(&cache_lock);
}

/* Does @password match @u's stored hash? Cached when it does. */
static bool
password_matches(const struct db_user *u, const char *password)
{
    unsigned char digest[crypto_generichash_BYTES];

    cache_digest(u, password, digest);
    if (cache_lookup(digest))
        return true;
    if (!auth_password_verify(u->password_hash, password))
        return false;
    cache_add(digest);
    return true;
}

int
auth_login(const char *user, const char *password, struct auth_identity *out)
{
    AUTOPTR(db_user) struct db_user *u = NULL;
    char safe[72];
    int64_t now = time_now_ms(), until = 0;

    if (!auth.db) {
        err_set(ERR_INTERNAL, "authentication is not initialized");
        return -1;
    }
    if (!user || !password) {
        err_set(ERR_AUTH, "invalid user name or password");
        return -1;
    }
    log_safe_name(safe, user);

    u = db_user_get_by_name(auth.db, user);
    if (!u) {
        if (err_code() != ERR_NOT_FOUND)
            return -1;
        /* Spend what a known user costs; the result does not matter. */
        (void)auth_password_verify(auth.dummy_hash, password);
        log_warnx("log-in as '%s' refused: no such user", safe);
        err_set(ERR_AUTH, "invalid user name or password");
        return -1;
    }
    if (u->disabled) {
        log_warnx("log-in as '%s' refused: locked by an administrator", safe);
        err_set(ERR_ACCOUNT_LOCKED, "user '%s' is locked by an administrator",
                u->name);
        return -1;
    }
    if (u->locked_until_ms > now) {
        log_warnx("log-in as '%s' refused: locked out", safe);
        err_set(ERR_ACCOUNT_LOCKED,
                "user '%s' is locked out for %lld more seconds after %lld "
                "failed log-ins", u->name,
                (long long)((u->locked_until_ms - now + 999) / 1000),
                (long long)auth.conf.max_failures);
        return -1;
    }

    if (!password_matches(u, password)) {
        if (db_user_login_failed(auth.db, u->id, now, auth.conf.max_failures,
                                 auth.conf.lockout_ms, &until) < 0)
            return -1;
        if (until > now) {
            log_warnx("log-in as '%s' refused: wrong password; locked out "
                      "after %lld failures", safe,
                      (long long)auth.conf.max_failures);
            err_set(ERR_AUTH,
                    "invalid user name or password; user '%s' is now locked "
                    "out for %lld seconds", u->name,
                    (long long)((until - now + 999) / 1000));
        } else {
            log_warnx("log-in as '%s' refused: wrong password", safe);
            err_set(ERR_AUTH, "invalid user name or password");
        }
        return -1;
    }

    /* Basic auth logs in on every call: write only when it matters. */
    if (u->failed_logins > 0 ||
        now - u->last_login_ms > LOGIN_WRITE_INTERVAL_MS) {
        if (db_user_login_ok(auth.db, u->id, now) < 0)
            return -1;
    }
    return auth_identity_fill(u, out);
}
