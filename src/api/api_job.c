/*
 * api_job.c - the Job routes, the Lock list, diagnostic jobs, and the one
 * renderer of the Oracle Job object.
 *
 * DESIGN: jobs are read from the database like everything else; the only
 * engine calls here are jobs_submit() (diagnostic jobs) and jobs_abort(),
 * both of which return at once. GET /Job/{id}?wait=N is a long-poll: the
 * handler answers when the job is done, else asks http/ to suspend the
 * request until "job:<id>" is published or the deadline passes, and is
 * called again (see struct api_resp in api.h) -- no thread waits.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "db/db.h"
#include "jobs/jobs.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/str.h"

#define JOB_TYPE "Job"
#define DIAG_MAX_SLEEP_MS 600000

static json_object *
str_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

static json_object *
ms_or_null(int64_t ms)
{
    return ms ? json_object_new_int64(ms) : NULL;
}

static json_object *
job_ref(int64_t id, const char *name, const char *base)
{
    char v[32];

    snprintf(v, sizeof(v), "%" PRId64, id);
    return model_simpleid(JOB_TYPE, v, name, base);
}

json_object *
api_job_json(const struct db_job *j, const char *base)
{
    json_object *o = json_object_new_object(), *err, *kids;
    size_t i;

    json_object_object_add(o, "id", job_ref(j->id, j->name, base));
    json_object_object_add(o, "name", json_object_new_string(j->name));
    json_object_object_add(o, "description",
                           json_object_new_string(j->description ?
                                                  j->description : ""));
    json_object_object_add(o, "locked", json_object_new_boolean(false));
    json_object_object_add(o, "readOnly", json_object_new_boolean(false));
    json_object_object_add(o, "generation",
                           json_object_new_int64(j->generation));
    json_object_object_add(o, "userData", NULL);
    json_object_object_add(o, "resourceGroupIds", NULL);
    json_object_object_add(o, "resultId",
                           j->result_id
                               ? model_simpleid(j->result_type ?
                                                j->result_type : "Object",
                                                j->result_id, j->result_name,
                                                base)
                               : NULL);
    json_object_object_add(o, "jobRunState",
                           json_object_new_string(
                               db_job_state_str(j->run_state)));
    json_object_object_add(o, "jobSummaryState",
                           json_object_new_string(
                               db_job_state_str(j->summary_state)));
    json_object_object_add(o, "done", json_object_new_boolean(j->done));
    json_object_object_add(o, "summaryDone",
                           json_object_new_boolean(j->summary_done));
    json_object_object_add(o, "jobGroup",
                           json_object_new_boolean(j->nchildren > 0));
    err = json_object_new_object();
    json_object_object_add(err, "message", str_or_null(j->error_message));
    json_object_object_add(err, "type", str_or_null(j->error_type));
    json_object_object_add(o, "error", err);
    json_object_object_add(o, "progressMessage",
                           str_or_null(j->progress_message));
    json_object_object_add(o, "latestSummaryProgressMessage",
                           str_or_null(j->latest_summary_progress));
    json_object_object_add(o, "extraInfo", NULL);
    json_object_object_add(o, "parentJobId",
                           j->parent_id ? job_ref(j->parent_id, NULL, base)
                                        : NULL);
    kids = json_object_new_array_ext((int)j->nchildren);
    for (i = 0; i < j->nchildren; i++)
        json_object_array_add(kids, job_ref(j->child_ids[i], NULL, base));
    json_object_object_add(o, "childJobIds", kids);
    json_object_object_add(o, "user", json_object_new_string(j->user ?
                                                             j->user : ""));
    json_object_object_add(o, "abortedByUser", str_or_null(j->aborted_by));
    json_object_object_add(o, "startTime", ms_or_null(j->start_ms));
    json_object_object_add(o, "endTime", ms_or_null(j->end_ms));
    json_object_object_add(o, "createTime",
                           json_object_new_int64(j->created_ms));
    return o;
}

int
api_reply_job(struct api_req *req, struct api_resp *resp, int64_t id)
{
    AUTOPTR(db_job) struct db_job *j = db_job_get(api_conf()->db, id);
    char uri[512];

    if (!j)
        return -1;
    api_reply(resp, api_job_json(j, req->base_uri));
    snprintf(uri, sizeof(uri), "%s/Job/%" PRId64, req->base_uri, id);
    api_resp_header(resp, "Location", uri);
    return 0;
}

/* The job id in path segment 1. */
static int
job_id_param(const struct api_req *req, int64_t *id)
{
    char s[64];

    if (api_segment(req, 1, s, sizeof(s)) < 0)
        return -1;
    if (str_to_int64(s, 1, INT64_MAX, "job id", id) < 0) {
        err_set(ERR_NOT_FOUND, "Job '%s' not found", s);
        return -1;
    }
    return 0;
}

static const char *
caller(const struct api_req *req)
{
    return req->ident.name;
}

/* ---- lists ---- */

static int
parse_filter(const struct api_req *req, struct db_job_filter *f)
{
    const char *v;

    memset(f, 0, sizeof(*f));
    f->state = -1;
    f->parent_id = -1;
    f->limit = -1;
    if ((v = api_query(req, "state"))) {
        f->state = db_job_state_parse(v);
        if (f->state < 0) {
            err_set(ERR_INVALID, "state '%s' is not a job state (CREATED, "
                                 "RUNNING, SUCCESS, FAILURE, ABORTED, "
                                 "CHILD_QUEUED, CHILD_RUNNING)", v);
            return -1;
        }
    }
    if ((v = api_query(req, "active")) &&
        str_to_bool(v, "active", &f->active) < 0)
        return -1;
    f->user = api_query(req, "user");
    f->object_id = api_query(req, "object");
    if ((v = api_query(req, "since")) &&
        str_to_int64(v, 0, INT64_MAX / 2, "since", &f->since_ms) < 0)
        return -1;
    if ((v = api_query(req, "until")) &&
        str_to_int64(v, 0, INT64_MAX / 2, "until", &f->until_ms) < 0)
        return -1;
    if ((v = api_query(req, "parent")) &&
        str_to_int64(v, 0, INT64_MAX, "parent", &f->parent_id) < 0)
        return -1;
    if (api_paging(req, &f->limit, &f->offset) < 0)
        return -1;
    if ((v = api_query(req, "order"))) {
        if (strcmp(v, "desc") == 0) {
            f->newest_first = true;
        } else if (strcmp(v, "asc") != 0) {
            err_set(ERR_INVALID, "order must be asc or desc, not '%s'", v);
            return -1;
        }
    }
    return 0;
}

/* One CSV field: quoted when it holds a comma, quote or line break;
 * a leading =, +, - or @ is prefixed with ' so spreadsheets do not run
 * it as a formula. */
static void
csv_field(struct buf *b, const char *s, bool last)
{
    const char *p;

    if (!s)
        s = "";
    if (strpbrk(s, ",\"\r\n") || strchr("=+-@", s[0] ? s[0] : ' ')) {
        buf_puts(b, "\"");
        if (strchr("=+-@", s[0] ? s[0] : ' '))
            buf_puts(b, "'");
        for (p = s; *p; p++) {
            if (*p == '"')
                buf_puts(b, "\"\"");
            else
                buf_append(b, p, 1);
        }
        buf_puts(b, "\"");
    } else {
        buf_puts(b, s);
    }
    buf_puts(b, last ? "\r\n" : ",");
}

static void
csv_ms(struct buf *b, int64_t ms)
{
    char n[32] = "";

    if (ms)
        snprintf(n, sizeof(n), "%" PRId64, ms);
    csv_field(b, n, false);
}

static void
jobs_csv(struct api_resp *resp, struct db_job **v, size_t n)
{
    struct buf b = { 0 };
    size_t i;

    buf_puts(&b, "id,name,description,jobRunState,jobSummaryState,done,"
                 "user,createTime,startTime,endTime,parentJobId,resultId,"
                 "errorType,errorMessage,abortedByUser\r\n");
    for (i = 0; i < n; i++) {
        const struct db_job *j = v[i];
        char num[32];

        snprintf(num, sizeof(num), "%" PRId64, j->id);
        csv_field(&b, num, false);
        csv_field(&b, j->name, false);
        csv_field(&b, j->description, false);
        csv_field(&b, db_job_state_str(j->run_state), false);
        csv_field(&b, db_job_state_str(j->summary_state), false);
        csv_field(&b, j->done ? "true" : "false", false);
        csv_field(&b, j->user, false);
        csv_ms(&b, j->created_ms);
        csv_ms(&b, j->start_ms);
        csv_ms(&b, j->end_ms);
        csv_ms(&b, j->parent_id);
        csv_field(&b, j->result_id, false);
        csv_field(&b, j->error_type, false);
        csv_field(&b, j->error_message, false);
        csv_field(&b, j->aborted_by, true);
    }
    resp->status = 200;
    resp->text = buf_steal(&b);
    if (!resp->text)
        resp->text = xstrdup("");
    resp->content_type = "text/csv; charset=utf-8";
    api_resp_header(resp, "Content-Disposition",
                    "attachment; filename=\"jobs.csv\"");
}

/* GET /Job */
int
api_job_list(struct api_req *req, struct api_resp *resp)
{
    struct db_job_filter f;
    struct db_job **v = NULL;
    size_t n = 0, i;
    int64_t total = 0;
    const char *format = api_query(req, "format");
    json_object *arr;

    if (parse_filter(req, &f) < 0)
        return -1;
    if (format && strcmp(format, "csv") != 0 && strcmp(format, "json") != 0) {
        err_set(ERR_INVALID, "format must be json or csv, not '%s'", format);
        return -1;
    }
    if (db_job_list(api_conf()->db, &f, &v, &n, &total) < 0)
        return -1;
    if (format && strcmp(format, "csv") == 0) {
        jobs_csv(resp, v, n);
    } else {
        arr = json_object_new_array_ext((int)n);
        for (i = 0; i < n; i++)
            json_object_array_add(arr, api_job_json(v[i], req->base_uri));
        api_reply(resp, arr);
    }
    api_total_header(resp, total);
    db_jobs_free(v, n);
    return 0;
}

/* GET /Job/id */
int
api_job_ids(struct api_req *req, struct api_resp *resp)
{
    struct db_job_filter f;
    struct db_job **v = NULL;
    size_t n = 0, i;
    int64_t total = 0;
    json_object *arr;

    if (parse_filter(req, &f) < 0)
        return -1;
    if (db_job_list(api_conf()->db, &f, &v, &n, &total) < 0)
        return -1;
    arr = json_object_new_array_ext((int)n);
    for (i = 0; i < n; i++)
        json_object_array_add(arr, job_ref(v[i]->id, v[i]->name,
                                           req->base_uri));
    db_jobs_free(v, n);
    api_reply(resp, arr);
    api_total_header(resp, total);
    return 0;
}

/* GET /Job/{id}[?wait=N] */
int
api_job_get(struct api_req *req, struct api_resp *resp)
{
    AUTOPTR(db_job) struct db_job *j = NULL;
    const char *w = api_query(req, "wait");
    int64_t id, wait_s = 0;

    if (job_id_param(req, &id) < 0)
        return -1;
    if (w && str_to_int64(w, 0, INT32_MAX, "wait", &wait_s) < 0)
        return -1;
    if (wait_s > api_conf()->job_wait_max)   /* at most job_wait_max */
        wait_s = api_conf()->job_wait_max;
    j = db_job_get(api_conf()->db, id);
    if (!j)
        return -1;
    if (wait_s > 0 && !j->summary_done && !req->no_wait) {
        int64_t deadline = req->arrival_ms + wait_s * 1000;

        if (time_mono_ms() < deadline) {
            resp->wait_until_ms = deadline;
            snprintf(resp->wait_key, sizeof(resp->wait_key),
                     "job:%" PRId64, id);
            return 0;
        }
    }
    api_reply(resp, api_job_json(j, req->base_uri));
    return 0;
}

/* GET /Job/{id}/transcript */
int
api_job_transcript(struct api_req *req, struct api_resp *resp)
{
    AUTOPTR(db_job) struct db_job *j = NULL;
    struct db_job_op *ops = NULL;
    struct db_job_object *objs = NULL;
    size_t nops = 0, nobjs = 0, i;
    json_object *o, *arr, *locks;
    struct buf text = { 0 };
    int64_t id;

    if (job_id_param(req, &id) < 0)
        return -1;
    j = db_job_get(api_conf()->db, id);
    if (!j)
        return -1;
    if (db_job_ops(api_conf()->db, id, &ops, &nops) < 0)
        return -1;
    if (db_job_objects(api_conf()->db, id, &objs, &nobjs) < 0) {
        db_job_ops_free(ops, nops);
        return -1;
    }
    o = json_object_new_object();
    json_object_object_add(o, "id", job_ref(j->id, j->name, req->base_uri));
    json_object_object_add(o, "jobRunState",
                           json_object_new_string(
                               db_job_state_str(j->run_state)));
    buf_printf(&text, "Job %" PRId64 " '%s' by %s: %s\n", j->id, j->name,
               j->user, db_job_state_str(j->run_state));
    arr = json_object_new_array_ext((int)nops);
    for (i = 0; i < nops; i++) {
        json_object *op = json_object_new_object();

        json_object_object_add(op, "seq", json_object_new_int64(ops[i].seq));
        json_object_object_add(op, "operation",
                               json_object_new_string(ops[i].op));
        json_object_object_add(op, "description",
                               json_object_new_string(ops[i].description ?
                                                      ops[i].description
                                                      : ""));
        json_object_object_add(op, "state",
                               json_object_new_string(ops[i].state));
        json_object_object_add(op, "message", str_or_null(ops[i].message));
        json_object_object_add(op, "startTime", ms_or_null(ops[i].start_ms));
        json_object_object_add(op, "endTime", ms_or_null(ops[i].end_ms));
        json_object_object_add(op, "undoTime", ms_or_null(ops[i].undo_ms));
        json_object_array_add(arr, op);
        buf_printf(&text, "%" PRId64 ". %s: %s%s%s\n", ops[i].seq + 1,
                   ops[i].description ? ops[i].description : ops[i].op,
                   ops[i].state, ops[i].message ? " - " : "",
                   ops[i].message ? ops[i].message : "");
    }
    json_object_object_add(o, "operations", arr);
    locks = json_object_new_array_ext((int)nobjs);
    for (i = 0; i < nobjs; i++) {
        json_object *l = json_object_new_object();

        json_object_object_add(l, "object",
                               model_simpleid(objs[i].object_type ?
                                              objs[i].object_type : "Object",
                                              objs[i].object_id,
                                              objs[i].object_name,
                                              req->base_uri));
        json_object_object_add(l, "mode",
                               json_object_new_string(objs[i].exclusive ?
                                                      "EXCLUSIVE"
                                                      : "SHARED"));
        json_object_object_add(l, "granted",
                               json_object_new_boolean(objs[i].granted));
        json_object_object_add(l, "released",
                               json_object_new_boolean(objs[i].released));
        json_object_array_add(locks, l);
    }
    json_object_object_add(o, "locks", locks);
    if (j->error_message)
        buf_printf(&text, "Error (%s): %s\n", j->error_type ?
                   j->error_type : "", j->error_message);
    json_object_object_add(o, "transcript",
                           json_object_new_string(text.data ? text.data
                                                            : ""));
    buf_release(&text);
    db_job_ops_free(ops, nops);
    db_job_objects_free(objs, nobjs);
    api_reply(resp, o);
    return 0;
}

/* PUT /Job/{id}/abort */
int
api_job_abort(struct api_req *req, struct api_resp *resp)
{
    int64_t id;

    if (job_id_param(req, &id) < 0)
        return -1;
    if (jobs_abort(id, caller(req),
                   req->ident.role == ROLE_ADMINISTRATOR) < 0)
        return -1;
    return api_reply_job(req, resp, id);
}

/* ---- diagnostic jobs ---- */

/* Everything a parsed diagnostic job owns. */
struct diag {
    struct job_req req;
    struct job_object_req *objs;
    struct job_op_req *ops;
    struct job_req *kids;
    struct diag *kid_state;
    size_t nkids;
    json_object *args;       /* array holding every op's args */
    char *name;
};

static void
diag_release(struct diag *d)
{
    size_t i;

    for (i = 0; d->kid_state && i < d->nkids; i++)
        diag_release(&d->kid_state[i]);
    xfree(d->kid_state);
    xfree(d->kids);
    xfree(d->objs);
    xfree(d->ops);
    json_object_put(d->args);
    xfree(d->name);
}

static int diag_parse(json_object *b, struct diag *d, const char *user,
                      int depth);

static int
diag_ops(json_object *arr, struct diag *d)
{
    size_t i, n = json_object_array_length(arr);

    d->ops = xcalloc(n ? n : 1, sizeof(*d->ops));
    d->args = json_object_new_array();
    for (i = 0; i < n; i++) {
        json_object *o = json_object_array_get_idx(arr, i), *v, *args;
        const char *op;

        if (!json_object_is_type(o, json_type_object) ||
            !json_object_object_get_ex(o, "op", &v) ||
            !json_object_is_type(v, json_type_string)) {
            err_set(ERR_INVALID, "operations[%zu] needs \"op\": sleep, "
                                 "touch or fail", i);
            return -1;
        }
        op = json_object_get_string(v);
        args = json_object_new_object();
        json_object_array_add(d->args, args);
        if (strcmp(op, "sleep") == 0) {
            int64_t ms = 0;

            if (json_object_object_get_ex(o, "ms", &v))
                ms = json_object_get_int64(v);
            if (ms < 0 || ms > DIAG_MAX_SLEEP_MS) {
                err_set(ERR_INVALID, "operations[%zu]: ms must be 0..%d", i,
                        DIAG_MAX_SLEEP_MS);
                return -1;
            }
            json_object_object_add(args, "ms", json_object_new_int64(ms));
            d->ops[i].op = "diag.sleep";
            d->ops[i].description = "Sleep";
        } else if (strcmp(op, "touch") == 0) {
            if (!json_object_object_get_ex(o, "id", &v) ||
                !json_object_is_type(v, json_type_string)) {
                err_set(ERR_INVALID, "operations[%zu]: touch needs \"id\"",
                        i);
                return -1;
            }
            json_object_object_add(args, "id", json_object_get(v));
            d->ops[i].op = "diag.touch";
            d->ops[i].description = "Touch an object's description";
        } else if (strcmp(op, "fail") == 0) {
            if (json_object_object_get_ex(o, "message", &v))
                json_object_object_add(args, "message", json_object_get(v));
            d->ops[i].op = "diag.fail";
            d->ops[i].description = "Fail";
        } else {
            err_set(ERR_INVALID, "operations[%zu]: unknown op '%s' (sleep, "
                                 "touch, fail)", i, op);
            return -1;
        }
        d->ops[i].args = args;
    }
    d->req.ops = d->ops;
    d->req.nops = n;
    return 0;
}

static int
diag_objects(json_object *arr, struct diag *d)
{
    size_t i, n = json_object_array_length(arr);

    d->objs = xcalloc(n ? n : 1, sizeof(*d->objs));
    for (i = 0; i < n; i++) {
        json_object *o = json_object_array_get_idx(arr, i), *v;

        if (!json_object_is_type(o, json_type_object) ||
            !json_object_object_get_ex(o, "id", &v) ||
            !json_object_is_type(v, json_type_string) ||
            !json_object_get_string_len(v)) {
            err_set(ERR_INVALID, "objects[%zu] needs an \"id\"", i);
            return -1;
        }
        d->objs[i].id = json_object_get_string(v);
        d->objs[i].exclusive = true;
        if (json_object_object_get_ex(o, "exclusive", &v))
            d->objs[i].exclusive = json_object_get_boolean(v);
    }
    d->req.objects = d->objs;
    d->req.nobjects = n;
    return 0;
}

static int
diag_parse(json_object *b, struct diag *d, const char *user, int depth)
{
    json_object *v;
    size_t i;

    memset(d, 0, sizeof(*d));
    if (!json_object_is_type(b, json_type_object)) {
        err_set(ERR_INVALID, "a diagnostic job is a JSON object");
        return -1;
    }
    if (depth > 3) {
        err_set(ERR_INVALID, "children nest deeper than 3");
        return -1;
    }
    d->name = xstrdup(json_object_object_get_ex(b, "name", &v) &&
                      json_object_is_type(v, json_type_string)
                          ? json_object_get_string(v) : "Diagnostic job");
    d->req.name = d->name;
    d->req.user = user;
    if (json_object_object_get_ex(b, "description", &v) &&
        json_object_is_type(v, json_type_string))
        d->req.description = json_object_get_string(v);
    if (json_object_object_get_ex(b, "priority", &v))
        d->req.priority = json_object_get_boolean(v);
    if (json_object_object_get_ex(b, "parallel", &v))
        d->req.parallel = json_object_get_boolean(v);
    if (json_object_object_get_ex(b, "objects", &v) && v) {
        if (!json_object_is_type(v, json_type_array)) {
            err_set(ERR_INVALID, "objects must be an array");
            return -1;
        }
        if (diag_objects(v, d) < 0)
            return -1;
    }
    if (json_object_object_get_ex(b, "operations", &v) && v) {
        if (!json_object_is_type(v, json_type_array)) {
            err_set(ERR_INVALID, "operations must be an array");
            return -1;
        }
        if (diag_ops(v, d) < 0)
            return -1;
    }
    if (json_object_object_get_ex(b, "children", &v) && v) {
        if (!json_object_is_type(v, json_type_array)) {
            err_set(ERR_INVALID, "children must be an array");
            return -1;
        }
        d->nkids = json_object_array_length(v);
        d->kids = xcalloc(d->nkids ? d->nkids : 1, sizeof(*d->kids));
        d->kid_state = xcalloc(d->nkids ? d->nkids : 1,
                               sizeof(*d->kid_state));
        for (i = 0; i < d->nkids; i++) {
            if (diag_parse(json_object_array_get_idx(v, i),
                           &d->kid_state[i], user, depth + 1) < 0)
                return -1;
            d->kids[i] = d->kid_state[i].req;
        }
        d->req.children = d->kids;
        d->req.nchildren = d->nkids;
    }
    return 0;
}

/* POST /Job/diagnostic */
int
api_job_diagnostic(struct api_req *req, struct api_resp *resp)
{
    json_object *b;
    struct diag d;
    int64_t id;
    int rc;

    if (!api_conf()->job_diagnostics) {
        err_set(ERR_NOT_FOUND, "diagnostic jobs are disabled "
                               "(job_diagnostics = false)");
        return -1;
    }
    b = api_body_object(req);
    if (!b)
        return -1;
    rc = diag_parse(b, &d, caller(req), 0);
    if (rc == 0)
        rc = jobs_submit(&d.req, &id);
    diag_release(&d);
    json_object_put(b);
    if (rc < 0)
        return -1;
    return api_reply_job(req, resp, id);
}

/* ---- GET /Lock ---- */

int
api_lock_list(struct api_req *req, struct api_resp *resp)
{
    struct db_job_object *v = NULL;
    size_t n = 0, i;
    json_object *arr = json_object_new_array(), *cur = NULL;
    const char *cur_id = NULL;

    if (db_lock_list(api_conf()->db, &v, &n) < 0) {
        json_object_put(arr);
        return -1;
    }
    for (i = 0; i < n; i++) {
        json_object *holders, *waiters;

        if (!cur_id || strcmp(cur_id, v[i].object_id) != 0) {
            cur = json_object_new_object();
            json_object_object_add(cur, "object",
                                   model_simpleid(v[i].object_type ?
                                                  v[i].object_type
                                                  : "Object",
                                                  v[i].object_id,
                                                  v[i].object_name,
                                                  req->base_uri));
            json_object_object_add(cur, "mode",
                                   json_object_new_string("SHARED"));
            json_object_object_add(cur, "holder", json_object_new_array());
            json_object_object_add(cur, "waiters", json_object_new_array());
            json_object_array_add(arr, cur);
            cur_id = v[i].object_id;
        }
        json_object_object_get_ex(cur, "holder", &holders);
        json_object_object_get_ex(cur, "waiters", &waiters);
        if (v[i].granted) {
            json_object_array_add(holders,
                                  job_ref(v[i].job_id, NULL, req->base_uri));
            if (v[i].exclusive)
                json_object_object_add(cur, "mode",
                                       json_object_new_string("EXCLUSIVE"));
        } else {
            json_object *w = json_object_new_object();

            json_object_object_add(w, "job", job_ref(v[i].job_id, NULL,
                                                     req->base_uri));
            json_object_object_add(w, "mode",
                                   json_object_new_string(v[i].exclusive ?
                                                          "EXCLUSIVE"
                                                          : "SHARED"));
            json_object_array_add(waiters, w);
        }
    }
    /* Objects only waited for (nobody holds them: queued behind others
     * elsewhere) keep mode from their holders, none here. */
    db_job_objects_free(v, n);
    api_reply(resp, arr);
    return 0;
}
