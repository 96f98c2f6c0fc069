/* op_user.c - placeholder until written */
#include "jobs/jobs_int.h"
#include "util/err.h"

static int
nyi(struct job_ctx *ctx, json_object *args, json_object **undo)
{
    (void)ctx;
    (void)args;
    (void)undo;
    err_set(ERR_UNSUPPORTED, "not yet");
    return -1;
}

const struct job_op_type job_op_user_create = { "user.create", nyi, NULL, true };
const struct job_op_type job_op_user_delete = { "user.delete", nyi, NULL, true };
const struct job_op_type job_op_user_password = { "user.password", nyi, NULL, true };
const struct job_op_type job_op_user_disabled = { "user.disabled", nyi, NULL, true };
