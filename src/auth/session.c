/*
 * session.c - browser sessions: open, check, close (see auth.h).
 *
 * DESIGN: a session is a 256-bit random token that lives only in the
 * browser's cookie; the database keeps its SHA-256, so a stolen copy of
 * the database (or a backup) cannot be replayed as a cookie. The token is
 * looked up by that hash, which also means no secret comparison happens
 * here that could leak timing. Each session carries a CSRF token that
 * http/ makes cookie-authenticated changes echo.
 *
 * A session ends at its absolute expiry (created + session_lifetime) or
 * after session_idle_ms without use, whichever is first; an ended session
 * found here is deleted. The user row is read on every check, so locking
 * a user (administrator lock or failed-log-in lock-out) or deleting it
 * takes effect on that user's very next request. last_seen_ms is written
 * at most every TOUCH_INTERVAL_MS, so a busy console does not turn every
 * read into a database write; the idle timeout (at least 60 s by config)
 * may therefore end a session up to that much early.
 *
 * No state of its own: the db and settings come from password.c
 * (auth_db/auth_settings), immutable while requests are served, and the
 * db is thread-safe, so every function may run on any thread.
 */
#include <sodium.h>
#include <string.h>

#include "auth/auth_int.h"
#include "db/db.h"
#include "model/model.h"
#include "util/err.h"
#include "util/log.h"
#include "util/str.h"

LOG_MODULE("auth");

#define TOKEN_BYTES 32
#define TOUCH_INTERVAL_MS (30 * 1000)

/* Is @token what auth_session_open hands out: 64 lower-case hex digits? */
static bool
token_well_formed(const char *token)
{
    size_t i;

    if (!token)
        return false;
    for (i = 0; i < 2 * TOKEN_BYTES; i++) {
        if (!((token[i] >= '0' && token[i] <= '9') ||
              (token[i] >= 'a' && token[i] <= 'f')))
            return false;
    }
    return token[i] == '\0';
}

/* Hex SHA-256 of @token into @out: what the database stores. */
static void
token_hash(const char *token, char out[2 * crypto_hash_sha256_BYTES + 1])
{
    unsigned char digest[crypto_hash_sha256_BYTES];

    crypto_hash_sha256(digest, (const unsigned char *)token, strlen(token));
    hex_encode(digest, sizeof(digest), out);
}

int
auth_session_open(const struct auth_identity *id, char token[65],
                  char csrf[65])
{
    struct db *db = auth_db();
    const struct auth_conf *conf = auth_settings();
    char hash[2 * crypto_hash_sha256_BYTES + 1];
    char user_id[sizeof(id->user_id)];
    struct db_session s;
    int64_t now = time_now_ms();

    if (!db) {
        err_set(ERR_INTERNAL, "authentication is not initialized");
        return -1;
    }
    rand_hex(token, TOKEN_BYTES);
    rand_hex(csrf, TOKEN_BYTES);
    token_hash(token, hash);
    str_copy(user_id, id->user_id, sizeof(user_id));

    memset(&s, 0, sizeof(s));
    s.token_hash = hash;
    s.user_id = user_id;
    s.csrf_token = csrf;
    s.created_ms = now;
    s.last_seen_ms = now;
    s.expires_ms = now + conf->session_lifetime_ms;
    if (db_session_create(db, &s) < 0) {
        /* Hand back nothing that looks like a working token. */
        sodium_memzero(token, 65);
        sodium_memzero(csrf, 65);
        return -1;
    }
    log_info("session opened for user '%s'", id->name);
    return 0;
}

int
auth_session_check(const char *token, struct auth_identity *out)
{
    AUTOPTR(db_session) struct db_session *s = NULL;
    AUTOPTR(model_obj) struct model_obj *obj = NULL;
    AUTOPTR(db_user) struct db_user *u = NULL;
    struct db *db = auth_db();
    const struct auth_conf *conf = auth_settings();
    const struct model_type *user_type;
    char hash[2 * crypto_hash_sha256_BYTES + 1];
    int64_t now = time_now_ms();

    if (!db) {
        err_set(ERR_INTERNAL, "authentication is not initialized");
        return -1;
    }
    if (!token_well_formed(token))
        goto fail;
    token_hash(token, hash);
    s = db_session_get(db, hash);
    if (!s) {
        if (err_code() != ERR_NOT_FOUND)
            return -1;
        goto fail;
    }
    if (now > s->expires_ms || now - s->last_seen_ms > conf->session_idle_ms) {
        if (db_session_delete(db, hash) < 0)
            return -1;
        log_info("session of user id '%s' ended: %s", s->user_id,
                 now > s->expires_ms ? "expired" : "idle");
        goto fail;
    }

    /* Sessions name users by id; db/ reads users by name. */
    user_type = model_type_find("User");
    if (!user_type) {
        err_set(ERR_INTERNAL, "object type 'User' is not registered");
        return -1;
    }
    obj = db_object_get(db, user_type, s->user_id);
    if (obj)
        u = db_user_get_by_name(db, obj->name);
    if (!u) {
        if (err_code() != ERR_NOT_FOUND)
            return -1;
        /* The user was deleted (its sessions normally go with it). */
        if (db_session_delete(db, hash) < 0)
            return -1;
        goto fail;
    }
    if (!str_eq(u->id, s->user_id))
        goto fail;  /* renamed between the two reads: let it retry */
    if (u->disabled) {
        /* An administrator lock ends the user's sessions for good. */
        if (db_session_delete(db, hash) < 0)
            return -1;
        log_info("session of user '%s' ended: user is locked", u->name);
        goto fail;
    }
    if (u->locked_until_ms > now)
        goto fail;  /* locked out for a while: refuse, keep the session */

    if (now - s->last_seen_ms >= TOUCH_INTERVAL_MS &&
        db_session_touch(db, hash, now) < 0)
        return -1;
    if (auth_identity_fill(u, out) < 0)
        return -1;
    out->via_session = true;
    str_copy(out->csrf, s->csrf_token, sizeof(out->csrf));
    return 0;

 fail:
    err_set(ERR_AUTH, "session expired or unknown");
    return -1;
}

int
auth_session_close(const char *token)
{
    struct db *db = auth_db();
    char hash[2 * crypto_hash_sha256_BYTES + 1];

    if (!db) {
        err_set(ERR_INTERNAL, "authentication is not initialized");
        return -1;
    }
    if (!token_well_formed(token))
        return 0;  /* could never have been a session: nothing to end */
    token_hash(token, hash);
    return db_session_delete(db, hash);
}
