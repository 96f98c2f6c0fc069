/*
 * api_user.c - user management over REST (extension; administrators).
 *
 * DESIGN: users are objects of the extension type User, so listing and
 * reading them is the generic code in api_object.c; this file holds the
 * changes. These are synchronous small database writes for now; they
 * become jobs together with every other change when the job engine
 * lands. An administrator cannot lock or delete their own account, so
 * the last way in is never closed from the inside.
 */
#include <string.h>

#include "api/api_int.h"
#include "db/db.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/log.h"

LOG_MODULE("api");

#define USER_NAME_MAX 64

/* 0 when @name is a valid log-in name, else -1 (ERR_INVALID). */
static int
user_name_check(const char *name)
{
    size_t i, len = strlen(name);

    if (len == 0 || len > USER_NAME_MAX) {
        err_set(ERR_INVALID, "user name must be 1 to %d characters",
                USER_NAME_MAX);
        return -1;
    }
    for (i = 0; i < len; i++) {
        char c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || strchr("._@-", c))) {
            err_set(ERR_INVALID, "user name '%s' may contain only letters, "
                                 "digits, '.', '_', '@' and '-'", name);
            return -1;
        }
    }
    return 0;
}

/* The user addressed by the {id} segment; NULL with ERR_NOT_FOUND. */
static struct model_obj *
target_user(struct api_req *req)
{
    char id[256];

    if (api_segment(req, 1, id, sizeof(id)) < 0)
        return NULL;
    return db_object_get(api_conf()->db, model_type_find("User"), id);
}

static int
reply_user(struct api_req *req, struct api_resp *resp, const char *id)
{
    AUTOPTR(model_obj) struct model_obj *o =
        db_object_get(api_conf()->db, model_type_find("User"), id);

    if (!o)
        return -1;
    api_reply(resp, model_obj_to_json(o, req->base_uri));
    return 0;
}

/* POST /User {"name", "password", "role", "description"} */
int
api_user_create(struct api_req *req, struct api_resp *resp)
{
    AUTOPTR(json_object) json_object *body = api_body_object(req);
    const char *name = NULL, *pw = NULL, *role_s = "read-only", *desc = NULL;
    char *AUTOFREE hash = NULL;
    char *AUTOFREE id = NULL;
    enum auth_role role;

    if (!body)
        return -1;
    if (json_get_string(body, "name", &name) != 0 ||
        json_get_string(body, "password", &pw) != 0) {
        if (err_code() != ERR_INVALID)
            err_set(ERR_INVALID, "a new user needs 'name' and 'password'");
        return -1;
    }
    if (json_get_string(body, "role", &role_s) < 0 ||
        json_get_string(body, "description", &desc) < 0)
        return -1;
    if (desc && strlen(desc) > 4000) {
        err_set(ERR_INVALID, "'description' is longer than 4000 characters");
        return -1;
    }
    if (user_name_check(name) < 0 || auth_role_parse(role_s, &role) < 0 ||
        auth_password_check(pw) < 0)
        return -1;
    hash = auth_password_hash(pw);
    if (!hash)
        return -1;
    if (db_user_create(api_conf()->db, name, auth_role_str(role), hash, desc,
                       &id) < 0)
        return -1;
    log_info("user '%s' created with role %s by '%s'", name,
             auth_role_str(role), req->ident.name);
    return reply_user(req, resp, id);
}

/* PUT /User/{id}/password {"currentPassword", "newPassword"} */
int
api_user_password(struct api_req *req, struct api_resp *resp)
{
    AUTOPTR(json_object) json_object *body = api_body_object(req);
    AUTOPTR(model_obj) struct model_obj *target = NULL;
    AUTOPTR(db_user) struct db_user *u = NULL;
    const char *cur = NULL, *pw = NULL;
    char *AUTOFREE hash = NULL;
    bool self;

    if (!body)
        return -1;
    if (json_get_string(body, "newPassword", &pw) != 0) {
        if (err_code() != ERR_INVALID)
            err_set(ERR_INVALID, "'newPassword' is required");
        return -1;
    }
    if (json_get_string(body, "currentPassword", &cur) < 0)
        return -1;
    target = target_user(req);
    if (!target)
        return -1;
    self = strcmp(target->id, req->ident.user_id) == 0;
    if (!self && req->ident.role != ROLE_ADMINISTRATOR) {
        err_set(ERR_FORBIDDEN, "only an administrator may change another "
                               "user's password");
        return -1;
    }
    u = db_user_get_by_name(api_conf()->db, target->name);
    if (!u)
        return -1;
    if (self) {
        if (!cur) {
            err_set(ERR_INVALID, "changing your own password needs "
                                 "'currentPassword'");
            return -1;
        }
        if (!auth_password_verify(u->password_hash, cur)) {
            err_set(ERR_FORBIDDEN, "the current password is wrong");
            return -1;
        }
    }
    if (auth_password_check(pw) < 0)
        return -1;
    hash = auth_password_hash(pw);
    if (!hash)
        return -1;
    if (db_user_set_password(api_conf()->db, u->name, hash) < 0 ||
        db_session_delete_user(api_conf()->db, u->id) < 0)
        return -1;
    log_info("password of user '%s' changed by '%s'", u->name,
             req->ident.name);
    return reply_user(req, resp, target->id);
}

static int
set_disabled(struct api_req *req, struct api_resp *resp, bool disabled)
{
    AUTOPTR(model_obj) struct model_obj *target = target_user(req);

    if (!target)
        return -1;
    if (disabled && strcmp(target->id, req->ident.user_id) == 0) {
        err_set(ERR_STATE, "you cannot lock your own account");
        return -1;
    }
    if (db_user_set_disabled(api_conf()->db, target->name, disabled) < 0)
        return -1;
    if (disabled && db_session_delete_user(api_conf()->db, target->id) < 0)
        return -1;
    log_info("user '%s' %s by '%s'", target->name,
             disabled ? "locked" : "unlocked", req->ident.name);
    return reply_user(req, resp, target->id);
}

/* PUT /User/{id}/lock */
int
api_user_lock(struct api_req *req, struct api_resp *resp)
{
    return set_disabled(req, resp, true);
}

/* PUT /User/{id}/unlock */
int
api_user_unlock(struct api_req *req, struct api_resp *resp)
{
    return set_disabled(req, resp, false);
}

/* DELETE /User/{id} */
int
api_user_delete(struct api_req *req, struct api_resp *resp)
{
    AUTOPTR(model_obj) struct model_obj *target = target_user(req);

    if (!target)
        return -1;
    if (strcmp(target->id, req->ident.user_id) == 0) {
        err_set(ERR_STATE, "you cannot delete your own account");
        return -1;
    }
    if (db_user_delete(api_conf()->db, target->name) < 0)
        return -1;
    log_info("user '%s' deleted by '%s'", target->name, req->ident.name);
    api_reply(resp, json_object_new_object());
    return 0;
}
