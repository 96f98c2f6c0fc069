/* api_event.c - placeholder until written */
#include "api/api_int.h"
#include "util/err.h"
int
api_event_list(struct api_req *req, struct api_resp *resp)
{
    (void)req;
    (void)resp;
    err_set(ERR_UNSUPPORTED, "not yet");
    return -1;
}
int
api_event_ids(struct api_req *req, struct api_resp *resp)
{
    (void)req;
    (void)resp;
    err_set(ERR_UNSUPPORTED, "not yet");
    return -1;
}
int
api_event_get(struct api_req *req, struct api_resp *resp)
{
    (void)req;
    (void)resp;
    err_set(ERR_UNSUPPORTED, "not yet");
    return -1;
}
int
api_event_acknowledge(struct api_req *req, struct api_resp *resp)
{
    (void)req;
    (void)resp;
    err_set(ERR_UNSUPPORTED, "not yet");
    return -1;
}
int
api_event_stream(struct api_req *req, struct api_resp *resp)
{
    (void)req;
    (void)resp;
    err_set(ERR_UNSUPPORTED, "not yet");
    return -1;
}
