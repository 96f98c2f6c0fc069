/*
 * api_int.h - helpers shared by the api/ handler files (private).
 */
#ifndef OVMM_API_INT_H
#define OVMM_API_INT_H

#include "api/api.h"
#include "model/model.h"
#include "routes.h" /* handler prototypes, generated */

/* The configuration given to api_init() (immutable afterwards). */
const struct api_conf *api_conf(void);

/*
 * Path segment @i (0-based) after API_BASE, copied into @out (@size
 * bytes). 0, or -1 with ERR_NOT_FOUND when there is no such segment.
 */
int api_segment(const struct api_req *req, size_t i, char *out, size_t size);
/* The object type named by segment 0, or NULL with ERR_NOT_FOUND. */
const struct model_type *api_req_type(const struct api_req *req);
/*
 * Parse the request body as a JSON object: new reference, or NULL with
 * ERR_INVALID (empty, malformed, not an object).
 */
json_object *api_body_object(const struct api_req *req);
/*
 * Read ?limit= and ?offset= (extension paging): *limit -1 (all) without
 * them; offset alone pages by default_list_limit. 0, or -1 with
 * ERR_INVALID.
 */
int api_paging(const struct api_req *req, int64_t *limit, int64_t *offset);
/* Add X-Total-Count: @total (the count before paging). */
void api_total_header(struct api_resp *resp, int64_t total);

struct db_job;
/* The Oracle Job object for @j (api_job.c). New reference. */
json_object *api_job_json(const struct db_job *j, const char *base);
/*
 * Answer a change request with job @id, as Oracle VM does: HTTP 200, the
 * Job object as it is now, and a Location header with its URI (api_job.c).
 */
int api_reply_job(struct api_req *req, struct api_resp *resp, int64_t id);

/*
 * The object id @v names: a SimpleId ({"value": ...}, its "type", when
 * given, being @type or ending in ".@type"), or a plain id string; copied
 * into @out (@size bytes). 1 when @v is NULL (JSON null), 0, or -1 with
 * ERR_INVALID naming @what (e.g. "'masterServerId'").
 */
int api_ref_value(json_object *v, const char *type, const char *what,
                  char *out, size_t size);

/* Set @resp's body to @body (taking the reference), status 200. */
void api_reply(struct api_resp *resp, json_object *body);

#endif
