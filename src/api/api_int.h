/*
 * api_int.h - helpers shared by the api/ handler files (private).
 */
#ifndef OVMM_API_INT_H
#define OVMM_API_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api.h"
#include "jobs/jobs.h"
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

/* ---- helpers of the mutating handlers (api_jobreq.c) ---- */

struct job_object_req;
/*
 * A lock request: @n objects. Ids and names are copies (the rows they
 * come from are freed before the job is submitted); API_LOCKS declares one
 * that frees them when it goes out of scope.
 */
struct api_locks {
    struct job_object_req v[512];
    char *ids[512];
    char *names[512];
    size_t n;
    bool overflow;      /* more objects than fit: the request is refused */
};

void api_locks_release(struct api_locks *l);
#define API_LOCKS(l)                                                       \
    struct api_locks l __attribute__((cleanup(api_locks_release))) = {   \
        .n = 0                                                             \
    }
/* Lock @id of @type (@name for the lock view; NULL: none), exclusive or
 * shared; a second request for one id keeps the stronger. NULL @id is
 * ignored; more than fit marks @l overflowed (the submit refuses). */
void api_lock_add(struct api_locks *l, const char *type, const char *id,
                  const char *name, bool exclusive);
/* Shared locks on the servers @ids. */
void api_lock_servers(struct api_locks *l, char *const *ids, size_t n);
/* Submit a one-operation job @job_name running @op with @args (borrowed)
 * holding @l and answer with the Job. @rtype/@rid/@rname: the resultId
 * known up front (@rid NULL: the job sets it). */
int api_submit(struct api_req *req, struct api_resp *resp,
               const char *job_name, const struct api_locks *l,
               const char *op, json_object *args, const char *rtype,
               const char *rid, const char *rname);
/* Row @id of @type from the reader; NULL with ERR_NOT_FOUND. */
json_object *api_row_get(const char *type, const char *id);
/* The object of the {id} path segment (segment 1): its row, the id
 * copied into @id. */
json_object *api_target(struct api_req *req, const char *type, char *id,
                        size_t size);
/* Member @key of @b as a list of Server ids (SimpleIds or strings) into
 * *ids (new, *n entries, duplicates dropped, at most 64). 1 when absent
 * or null, 0, -1 (ERR_INVALID). Free with db_ids_free(). */
int api_server_list(json_object *b, const char *key, char ***ids,
                    size_t *n);
/* A JSON array of the strings @ids. */
json_object *api_ids_json(char *const *ids, size_t n);
/* The body's string member @key: 0 with *out (NULL when absent/null),
 * -1 (ERR_INVALID) when not a string. */
int api_body_str(json_object *b, const char *key, const char **out);
/* name / description / userData of a create or edit body, checked
 * against type @t; absent ones NULL. */
int api_common_members(json_object *b, const struct model_type *t,
                       const char **name, const char **desc,
                       json_object **ud);
/* A 'generation' in @b older than @row's: 409 (ERR_CONFLICT). *gen: the
 * body's, -1 when absent. */
int api_generation_check(json_object *b, json_object *row,
                         const char *type, int64_t *gen);
/* The body's id (when given) must be @id, the object of the path. */
int api_body_id_check(json_object *b, const char *type, const char *id);

#endif
