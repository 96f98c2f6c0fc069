/*
 * auth.h - passwords, log-in with lock-out, browser sessions, permissions.
 *
 * DESIGN: passwords are hashed with libsodium's Argon2id
 * (crypto_pwhash_str). Because Oracle VM clients send HTTP Basic on every
 * call, a successful verification is remembered in a small in-memory
 * cache keyed by a keyed hash (BLAKE2b, random per-process key) of
 * (user id, stored hash string, password): a changed password changes the
 * stored hash and so misses the cache, even when another process (`ovmmd
 * user passwd`) changed it. The user row is still read on every call, so
 * locks, lock-outs and role changes apply at once. The cache has its own
 * mutex (`cache_lock`) and is bounded (LRU-ish eviction).
 *
 * Sessions: a 256-bit random token in an HttpOnly cookie; only its SHA-256
 * is stored, with a CSRF token that cookie-authenticated changes must echo
 * in the X-CSRF-Token header.
 *
 * The permission table (auth_allowed) is the one place that says which
 * role may do what; every route names one permission.
 */
#ifndef OVMM_AUTH_H
#define OVMM_AUTH_H

#include <stdbool.h>
#include <stdint.h>

struct db;

enum auth_role { ROLE_READ_ONLY, ROLE_OPERATOR, ROLE_ADMINISTRATOR };

/* What a route requires. */
enum auth_perm {
    PERM_PUBLIC,  /* no authentication (login, openapi.json) */
    PERM_READ,    /* any authenticated user */
    PERM_OPERATE, /* operator or administrator: VM lifecycle and the like */
    PERM_ADMIN,   /* administrator only: users, settings, destructive changes */
};

struct auth_conf {
    int64_t max_failures;        /* failed log-ins before lock-out (5) */
    int64_t lockout_ms;          /* lock-out length (300000) */
    int64_t session_idle_ms;     /* idle sessions end (1800000) */
    int64_t session_lifetime_ms; /* sessions end regardless (43200000) */
    const char *strength;        /* "interactive", "moderate", "sensitive" */
};

/* Who made a request, as established by auth_login/auth_session_check. */
struct auth_identity {
    char user_id[64];
    char name[256];
    enum auth_role role;
    bool via_session;   /* authenticated by cookie: changes need CSRF */
    char csrf[72];      /* the session's CSRF token when via_session */
};

/*
 * Initialize libsodium and the verification cache, and remember @db for
 * later calls (borrowed; must outlive auth). Call once from the main
 * thread. 0 or -1 (ERR_CONFIG for a bad strength, ERR_INTERNAL).
 */
int auth_init(struct db *db, const struct auth_conf *conf);
/* Drop the cache and forget the db. */
void auth_shutdown(void);

/* "administrator" | "operator" | "read-only". 0 or -1 (ERR_INVALID). */
int auth_role_parse(const char *s, enum auth_role *out);
const char *auth_role_str(enum auth_role role);
const char *auth_perm_str(enum auth_perm perm);
/* The permission table: may @role do what @perm guards? */
bool auth_allowed(enum auth_role role, enum auth_perm perm);

/*
 * Hash @password with Argon2id at the configured strength (the default
 * "interactive" when auth_init was not called). Caller frees. NULL with
 * ERR_INTERNAL on failure.
 */
char *auth_password_hash(const char *password);
/* Does @password match @hash? Constant-time; false for a malformed hash. */
bool auth_password_verify(const char *hash, const char *password);
/* A new random password: 20 characters from an unambiguous alphabet. */
char *auth_password_generate(void);
/* 0 when @password is acceptable (8..256 bytes, no control characters),
 * else -1 with ERR_INVALID saying why. */
int auth_password_check(const char *password);

/*
 * Check a user name and password (HTTP Basic or the log-in form).
 * Success: 0, *out filled (via_session false), failures reset.
 * Failure: -1 with
 *   ERR_AUTH "invalid user name or password" (unknown user or wrong
 *     password; a wrong password counts towards the lock-out),
 *   ERR_ACCOUNT_LOCKED "user '<name>' is locked out for <N> more seconds
 *     after <M> failed log-ins" (even with the right password), or
 *     "user '<name>' is locked by an administrator".
 */
int auth_login(const char *user, const char *password,
               struct auth_identity *out);

/*
 * Open a session for @id: writes the session row; @token receives the
 * cookie value (64 hex + NUL) and @csrf the CSRF token (64 hex + NUL).
 */
int auth_session_open(const struct auth_identity *id, char token[65],
                      char csrf[65]);
/*
 * Check a session cookie value: 0 with *out filled (via_session true,
 * csrf set) and the session touched; -1 ERR_AUTH "session expired or
 * unknown" otherwise (also when its user was deleted, locked, or locked
 * out).
 */
int auth_session_check(const char *token, struct auth_identity *out);
/* End the session with cookie value @token; unknown tokens are ignored. */
int auth_session_close(const char *token);

#endif
