/*
 * api_user.c - user management over REST (extension; administrators).
 *
 * DESIGN: users are objects of the extension type User, so listing and
 * reading them is the generic code in api_object.c; this file holds the
 * changes. Every change is a job (src/jobs/op_user.c): the handler does
 * everything that can be refused at once -- the body, the name, the role,
 * the password's strength, an existing name (409), an unknown user
 * (404), who may change whose password -- then hashes the password here,
 * on the HTTP thread (Argon2id; the plain password never reaches the job
 * tables), submits a one-operation job that holds the user exclusively,
 * and answers with the Job (api_reply_job()). The operation looks again
 * when it runs, so whatever changed in between makes the job fail
 * cleanly. An administrator cannot lock or delete their own account, so
 * the last way in is never closed from the inside.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "db/db.h"
#include "jobs/jobs.h"
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

/*
 * Submit the one-operation job @job_name running @op with @args (borrowed)
 * on the user @name, declared exclusive under the lock id @lock_id (the
 * user's id, or "user:<name>" for one not created yet), and answer with
 * the Job. @user_id is the job's resultId up front, NULL when not known
 * before the job runs. 0 or -1.
 */
static int
submit_user_job(struct api_req *req, struct api_resp *resp,
                const char *job_name, const char *lock_id,
                const char *user_id, const char *name, const char *op,
                json_object *args)
{
    struct job_object_req obj = { 0 };
    struct job_op_req jop = { 0 };
    struct job_req jr = { 0 };
    int64_t job_id = 0;

    obj.id = lock_id;
    obj.type = "User";
    obj.name = name;
    obj.exclusive = true;
    jop.op = op;
    jop.description = job_name;
    jop.args = args;
    jr.name = job_name;
    jr.user = req->ident.name;
    jr.objects = &obj;
    jr.nobjects = 1;
    jr.ops = &jop;
    jr.nops = 1;
    if (user_id) {
        jr.result_type = "User";
        jr.result_id = user_id;
        jr.result_name = name;
    }
    if (jobs_submit(&jr, &job_id) < 0)
        return -1;
    log_info("request %" PRIu64 ": '%s' by '%s' is job %" PRId64, req->id,
             job_name, req->ident.name, job_id);
    return api_reply_job(req, resp, job_id);
}

/* POST /User {"name", "password", "role", "description"} */
int
api_user_create(struct api_req *req, struct api_resp *resp)
{
    AUTOPTR(json_object) json_object *body = api_body_object(req);
    AUTOPTR(json_object) json_object *args = NULL;
    AUTOPTR(db_user) struct db_user *old = NULL;
    const char *name = NULL, *pw = NULL, *role_s = "read-only", *desc = NULL;
    char *AUTOFREE hash = NULL;
    char job_name[128], lock_id[128];
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
    /* A taken name is 409 now; one taken while the job waits fails it. */
    old = db_user_get_by_name(api_conf()->db, name);
    if (old) {
        err_set(ERR_EXISTS, "user '%s' already exists", name);
        return -1;
    }
    if (err_code() != ERR_NOT_FOUND)
        return -1;
    err_clear();
    hash = auth_password_hash(pw);
    if (!hash)
        return -1;
    /*
     * The hash goes into job_ops.args: as sensitive as the users table
     * and in the same database file (see src/jobs/op_user.c).
     */
    args = json_object_new_object();
    json_object_object_add(args, "name", json_object_new_string(name));
    json_object_object_add(args, "role",
                           json_object_new_string(auth_role_str(role)));
    json_object_object_add(args, "passwordHash",
                           json_object_new_string(hash));
    json_object_object_add(args, "description",
                           json_object_new_string(desc ? desc : ""));
    snprintf(job_name, sizeof(job_name), "Create User: %s", name);
    /* Two creations of one name take the same lock, so they run one
     * after the other and the second fails with ERR_EXISTS. */
    snprintf(lock_id, sizeof(lock_id), "user:%s", name);
    return submit_user_job(req, resp, job_name, lock_id, NULL, name,
                           "user.create", args);
}

/* PUT /User/{id}/password {"currentPassword", "newPassword"} */
int
api_user_password(struct api_req *req, struct api_resp *resp)
{
    AUTOPTR(json_object) json_object *body = api_body_object(req);
    AUTOPTR(json_object) json_object *args = NULL;
    AUTOPTR(model_obj) struct model_obj *target = NULL;
    AUTOPTR(db_user) struct db_user *u = NULL;
    const char *cur = NULL, *pw = NULL;
    char *AUTOFREE hash = NULL;
    char job_name[128];
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
    /* The job also ends the user's sessions, in the same transaction. */
    args = json_object_new_object();
    json_object_object_add(args, "name", json_object_new_string(u->name));
    json_object_object_add(args, "passwordHash",
                           json_object_new_string(hash));
    snprintf(job_name, sizeof(job_name), "Change Password of User: %s",
             u->name);
    return submit_user_job(req, resp, job_name, target->id, target->id,
                           u->name, "user.password", args);
}

static int
set_disabled(struct api_req *req, struct api_resp *resp, bool disabled)
{
    AUTOPTR(model_obj) struct model_obj *target = target_user(req);
    AUTOPTR(json_object) json_object *args = NULL;
    char job_name[128];

    if (!target)
        return -1;
    if (disabled && strcmp(target->id, req->ident.user_id) == 0) {
        err_set(ERR_STATE, "you cannot lock your own account");
        return -1;
    }
    /* Locking also ends the user's sessions, in the job's transaction. */
    args = json_object_new_object();
    json_object_object_add(args, "name",
                           json_object_new_string(target->name));
    json_object_object_add(args, "disabled",
                           json_object_new_boolean(disabled));
    snprintf(job_name, sizeof(job_name), "%s User: %s",
             disabled ? "Lock" : "Unlock", target->name);
    return submit_user_job(req, resp, job_name, target->id, target->id,
                           target->name, "user.disabled", args);
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
    AUTOPTR(json_object) json_object *args = NULL;
    char job_name[128];

    if (!target)
        return -1;
    if (strcmp(target->id, req->ident.user_id) == 0) {
        err_set(ERR_STATE, "you cannot delete your own account");
        return -1;
    }
    args = json_object_new_object();
    json_object_object_add(args, "name",
                           json_object_new_string(target->name));
    snprintf(job_name, sizeof(job_name), "Delete User: %s", target->name);
    return submit_user_job(req, resp, job_name, target->id, target->id,
                           target->name, "user.delete", args);
}
