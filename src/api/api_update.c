/* api_update.c - placeholder until written */
#include "api/api_int.h"
#include "util/err.h"
int
api_object_update(struct api_req *req, struct api_resp *resp)
{
    (void)req;
    (void)resp;
    err_set(ERR_UNSUPPORTED, "not yet");
    return -1;
}
