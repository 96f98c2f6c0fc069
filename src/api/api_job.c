/* api_job.c - placeholder until written */
#include "api/api_int.h"
#include "util/err.h"
int
api_job_list(struct api_req *req, struct api_resp *resp)
{
    (void)req;
    (void)resp;
    err_set(ERR_UNSUPPORTED, "not yet");
    return -1;
}
int
api_job_ids(struct api_req *req, struct api_resp *resp)
{
    (void)req;
    (void)resp;
    err_set(ERR_UNSUPPORTED, "not yet");
    return -1;
}
int
api_job_get(struct api_req *req, struct api_resp *resp)
{
    (void)req;
    (void)resp;
    err_set(ERR_UNSUPPORTED, "not yet");
    return -1;
}
int
api_job_transcript(struct api_req *req, struct api_resp *resp)
{
    (void)req;
    (void)resp;
    err_set(ERR_UNSUPPORTED, "not yet");
    return -1;
}
int
api_job_abort(struct api_req *req, struct api_resp *resp)
{
    (void)req;
    (void)resp;
    err_set(ERR_UNSUPPORTED, "not yet");
    return -1;
}
int
api_job_diagnostic(struct api_req *req, struct api_resp *resp)
{
    (void)req;
    (void)resp;
    err_set(ERR_UNSUPPORTED, "not yet");
    return -1;
}
int
api_lock_list(struct api_req *req, struct api_resp *resp)
{
    (void)req;
    (void)resp;
    err_set(ERR_UNSUPPORTED, "not yet");
    return -1;
}
