/*
 * api_session.c - browser log-in, log-out and "who am I" (extensions).
 *
 * DESIGN: scripts use HTTP Basic on every call, as Oracle VM clients do,
 * and get no cookie. The browser console logs in once: the session token
 * travels only in an HttpOnly, Secure, SameSite=Strict cookie, and the
 * CSRF token it must echo on changes is returned in the body (and again
 * by GET /session after a reload). Thread context: HTTP threads.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/log.h"

LOG_MODULE("api");

static json_object *
session_json(const struct auth_identity *id)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "user", json_object_new_string(id->name));
    json_object_object_add(o, "role",
                           json_object_new_string(auth_role_str(id->role)));
    json_object_object_add(o, "csrfToken", id->via_session ?
                           json_object_new_string(id->csrf) : NULL);
    return o;
}

/* POST /login {"username", "password"} */
int
api_session_login(struct api_req *req, struct api_resp *resp)
{
    AUTOPTR(json_object) json_object *body = api_body_object(req);
    struct auth_identity id;
    const char *user = NULL, *pw = NULL;
    char token[65], csrf[65];
    char *AUTOFREE cookie = NULL;

    if (!body)
        return -1;
    if (json_get_string(body, "username", &user) != 0 ||
        json_get_string(body, "password", &pw) != 0) {
        if (err_code() != ERR_INVALID || !user)
            err_set(ERR_INVALID, "log-in needs 'username' and 'password' "
                                 "strings");
        return -1;
    }
    memset(&id, 0, sizeof(id));
    if (auth_login(user, pw, &id) < 0)
        return -1;
    if (auth_session_open(&id, token, csrf) < 0)
        return -1;
    id.via_session = true;
    memcpy(id.csrf, csrf, sizeof(csrf));
    cookie = xasprintf(API_SESSION_COOKIE "=%s; Path=/; HttpOnly; Secure; "
                       "SameSite=Strict; Max-Age=%" PRId64, token,
                       api_conf()->session_lifetime_s);
    api_resp_header(resp, "Set-Cookie", cookie);
    api_reply(resp, session_json(&id));
    log_info("user '%s' logged in (session)", id.name);
    return 0;
}

/* POST /logout */
int
api_session_logout(struct api_req *req, struct api_resp *resp)
{
    if (req->ident.via_session && req->session) {
        if (auth_session_close(req->session) < 0)
            return -1;
        log_info("user '%s' logged out", req->ident.name);
    }
    api_resp_header(resp, "Set-Cookie", API_SESSION_COOKIE "=; Path=/; "
                    "HttpOnly; Secure; SameSite=Strict; Max-Age=0");
    api_reply(resp, json_object_new_object());
    return 0;
}

/* GET /session */
int
api_session_get(struct api_req *req, struct api_resp *resp)
{
    api_reply(resp, session_json(&req->ident));
    return 0;
}
