/*
 * api_event.c - events over REST (extension): lists with filters, one
 * event, acknowledging (a job), and the SSE stream of events and job
 * changes.
 *
 * DESIGN: reads come from db/ like every read; acknowledging is a change,
 * so it only validates (the event must exist) and submits a job whose
 * operation "event.acknowledge" (jobs/op_event.c) does the write. The
 * stream is a cursor over the change feed (db_feed_after): its state is
 * the last feed seq it formatted plus the bytes formatted but not yet
 * taken by http/, so nothing is lost when a chunk does not fit and a
 * client that reconnects with Last-Event-ID resumes right after the last
 * row it received. http/ calls read() on one of its threads, never twice
 * at once for one stream, and suspends the connection while read() has
 * nothing; a commit's notify_publish() wakes it. The request is gone by
 * then, so the state keeps its own copy of the base URI. Each row is
 * rendered from the database when it is sent (the feed carries no data),
 * so a stream shows an object as it is now, and a job or event purged in
 * the meantime is skipped.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "db/db.h"
#include "jobs/jobs.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/log.h"
#include "util/str.h"

LOG_MODULE("api");

/* Feed rows read per database round trip of the stream. */
#define STREAM_BATCH 64
/* Interval of ": keep-alive" comments on an idle stream. */
#define STREAM_HEARTBEAT_MS 15000

/* ---- rendering ---- */

/*
 * Event @e as the schema "Event" of schema/api/objects.json, with
 * SimpleIds under @base. New reference. Used by the lists, GET
 * /Event/{id} and the stream alike, so they can never disagree.
 */
static json_object *
event_json(const struct db_event *e, const char *base)
{
    json_object *o = json_object_new_object();
    char id[32];

    snprintf(id, sizeof(id), "%" PRId64, e->id);
    json_object_object_add(o, "id", model_simpleid("Event", id, e->type,
                                                   base));
    json_object_object_add(o, "name", json_object_new_string(e->type));
    json_object_object_add(o, "description",
                           json_object_new_string(e->description
                                                      ? e->description
                                                      : ""));
    json_object_object_add(o, "severity", json_object_new_string(
                                              db_severity_str(e->severity)));
    json_object_object_add(o, "summary", json_object_new_string(e->summary));
    json_object_object_add(o, "type", json_object_new_string(e->type));
    json_object_object_add(o, "timeStamp", json_object_new_int64(e->time_ms));
    json_object_object_add(o, "acknowledged",
                           json_object_new_boolean(e->acknowledged));
    /* Oracle VM: only WARNING and worse can be acknowledged by a user. */
    json_object_object_add(o, "userAcknowledgeable",
                           json_object_new_boolean(e->severity >=
                                                   SEV_WARNING));
    json_object_object_add(o, "acknowledgedBy",
                           json_str_or_null(e->acknowledged ? e->ack_user
                                                            : NULL));
    json_object_object_add(o, "acknowledgedTime",
                           e->acknowledged && e->ack_ms
                               ? json_object_new_int64(e->ack_ms)
                               : NULL);
    /*
     * db/ fills the type from the object when the raiser left it out; an
     * object already deleted then has none, and "Object" still gives the
     * client the id.
     */
    json_object_object_add(o, "object",
                           e->object_id
                               ? model_simpleid(e->object_type
                                                    ? e->object_type
                                                    : "Object",
                                                e->object_id, e->object_name,
                                                base)
                               : NULL);
    if (e->job_id > 0) {
        snprintf(id, sizeof(id), "%" PRId64, e->job_id);
        json_object_object_add(o, "jobId",
                               model_simpleid("Job", id, NULL, base));
    } else {
        json_object_object_add(o, "jobId", NULL);
    }
    json_object_object_add(o, "user", json_str_or_null(e->user));
    return o;
}

/* ---- query parameters ---- */

/*
 * The filters of GET /Event and /Event/id into @f. The strings in @f are
 * borrowed from @req. 0, or -1 with ERR_INVALID (400) naming the bad
 * parameter.
 */
static int
event_filter(const struct api_req *req, struct db_event_filter *f)
{
    const char *v;
    bool b;

    memset(f, 0, sizeof(*f));
    f->min_severity = -1;
    f->acknowledged = -1;
    f->object_id = api_query(req, "object");
    v = api_query(req, "severity");
    if (v) {
        char up[16];
        size_t i;

        /* Severity names are upper case; accept any case from a URL. */
        for (i = 0; v[i] && i < sizeof(up) - 1; i++)
            up[i] = (char)toupper((unsigned char)v[i]);
        up[i] = '\0';
        f->min_severity = v[i] ? -1 : db_severity_parse(up);
        if (f->min_severity < 0) {
            err_set(ERR_INVALID, "severity must be INFORMATIONAL, WARNING, "
                                 "ERROR or CRITICAL, not '%.40s'", v);
            return -1;
        }
    }
    v = api_query(req, "acknowledged");
    if (v) {
        if (str_to_bool(v, "acknowledged", &b) < 0)
            return -1;
        f->acknowledged = b ? 1 : 0;
    }
    v = api_query(req, "since");
    if (v && str_to_int64(v, 0, INT64_MAX, "since", &f->since_ms) < 0)
        return -1;
    v = api_query(req, "until");
    if (v && str_to_int64(v, 0, INT64_MAX, "until", &f->until_ms) < 0)
        return -1;
    v = api_query(req, "job");
    if (v && str_to_int64(v, 1, INT64_MAX, "job", &f->job_id) < 0)
        return -1;
    return api_paging(req, &f->limit, &f->offset);
}

/* The {id} path parameter as an event id: 400 when it is not a number. */
static int
event_id_param(const struct api_req *req, int64_t *id)
{
    if (NEVER(req->nparams < 1)) {
        err_set(ERR_INTERNAL, "route '%s' has no {id}", req->path);
        return -1;
    }
    return str_to_int64(req->params[0], 1, INT64_MAX, "event id", id);
}

/* ---- handlers ---- */

/* GET /Event (and /Event/id when @ids_only) */
static int
event_list(struct api_req *req, struct api_resp *resp, bool ids_only)
{
    struct db_event_filter f;
    struct db_event **v = NULL;
    int64_t total = 0;
    json_object *arr;
    size_t n = 0, i;

    if (event_filter(req, &f) < 0)
        return -1;
    if (db_event_list(api_conf()->db, &f, &v, &n, &total) < 0)
        return -1;
    arr = json_object_new_array_ext((int)n);
    for (i = 0; i < n; i++) {
        char id[32];

        snprintf(id, sizeof(id), "%" PRId64, v[i]->id);
        json_object_array_add(arr, ids_only
                                       ? model_simpleid("Event", id,
                                                        v[i]->type,
                                                        req->base_uri)
                                       : event_json(v[i], req->base_uri));
    }
    db_events_free(v, n);
    api_reply(resp, arr);
    api_total_header(resp, total);
    return 0;
}

/* GET /Event */
int
api_event_list(struct api_req *req, struct api_resp *resp)
{
    return event_list(req, resp, false);
}

/* GET /Event/id */
int
api_event_ids(struct api_req *req, struct api_resp *resp)
{
    return event_list(req, resp, true);
}

/* GET /Event/{id} */
int
api_event_get(struct api_req *req, struct api_resp *resp)
{
    AUTOPTR(db_event) struct db_event *e = NULL;
    int64_t id;

    if (event_id_param(req, &id) < 0)
        return -1;
    e = db_event_get(api_conf()->db, id);
    if (!e)
        return -1;
    api_reply(resp, event_json(e, req->base_uri));
    return 0;
}

/* PUT /Event/{id}/acknowledge */
int
api_event_acknowledge(struct api_req *req, struct api_resp *resp)
{
    AUTOPTR(db_event) struct db_event *e = NULL;
    AUTOPTR(json_object) json_object *args = NULL;
    struct job_object_req obj = { 0 };
    struct job_op_req op = { 0 };
    struct job_req jr = { 0 };
    char name[64], idstr[32];
    int64_t id, job_id = 0;

    if (event_id_param(req, &id) < 0)
        return -1;
    /* An unknown event is 404 now, not a job that fails later. */
    e = db_event_get(api_conf()->db, id);
    if (!e)
        return -1;
    snprintf(idstr, sizeof(idstr), "%" PRId64, id);
    snprintf(name, sizeof(name), "Acknowledge event %" PRId64, id);
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_int64(id));
    op.op = "event.acknowledge";
    op.description = name;
    op.args = args;
    jr.name = name;
    jr.user = req->ident.name;
    jr.ops = &op;
    jr.nops = 1;
    jr.result_type = "Event";
    jr.result_id = idstr;
    jr.result_name = e->type;
    /*
     * Shared, not exclusive: the object itself does not change, but the
     * job is then ordered after a running change of it (which may raise
     * the very events being acknowledged) and shows up in its job list.
     */
    if (e->object_id) {
        obj.id = e->object_id;
        obj.type = e->object_type;
        obj.name = e->object_name;
        obj.exclusive = false;
        jr.objects = &obj;
        jr.nobjects = 1;
    }
    if (jobs_submit(&jr, &job_id) < 0)
        return -1;
    log_info("request %" PRIu64 ": job %" PRId64 " acknowledges event %"
             PRId64 " for '%s'", req->id, job_id, id, req->ident.name);
    return api_reply_job(req, resp, job_id);
}

/* ---- GET /events/stream ---- */

struct event_stream {
    struct db *db;        /* borrowed; outlives every request */
    int64_t last_seq;     /* highest feed seq formatted into ->out */
    struct buf out;       /* formatted, not all taken by http/ yet */
    size_t sent;          /* bytes of ->out already taken */
    char base[320];       /* copy of the request's base_uri */
};

/*
 * Append feed row @it as one SSE message to s->out. A row whose job or
 * event no longer exists (purged) adds nothing. 0, or -1 with err_set()
 * when the database fails.
 */
static int
stream_format(struct event_stream *s, const struct db_feed_item *it)
{
    AUTOPTR(json_object) json_object *j = NULL;

    if (it->is_job) {
        AUTOPTR(db_job) struct db_job *job = db_job_get(s->db, it->ref);

        if (job)
            j = api_job_json(job, s->base);
    } else {
        AUTOPTR(db_event) struct db_event *e = db_event_get(s->db, it->ref);

        if (e)
            j = event_json(e, s->base);
    }
    if (!j) {
        if (err_code() != ERR_NOT_FOUND)
            return -1;
        err_clear();
        return 0;
    }
    /* json_to_text() is one line: newlines inside strings are escaped, so
     * one data: line carries the whole object. */
    return buf_printf(&s->out, "id: %" PRId64 "\nevent: %s\ndata: %s\n\n",
                      it->seq, it->is_job ? "job" : "event",
                      json_to_text(j));
}

/*
 * Format the feed rows after s->last_seq into s->out, one batch, or more
 * while a whole batch was skipped (purged rows). 0 or -1.
 */
static int
stream_fill(struct event_stream *s)
{
    struct db_feed_item *items = NULL;
    size_t n, i;
    int rc = 0;

    do {
        if (db_feed_after(s->db, s->last_seq, STREAM_BATCH, &items, &n) < 0)
            return -1;
        for (i = 0; i < n && rc == 0; i++) {
            rc = stream_format(s, &items[i]);
            if (rc == 0)
                s->last_seq = items[i].seq;
        }
        xfree(items);
        items = NULL;
    } while (rc == 0 && s->out.len == 0 && n == STREAM_BATCH);
    return rc;
}

static ssize_t
stream_read(void *cls, char *buf, size_t max, bool heartbeat)
{
    struct event_stream *s = cls;
    size_t len;

    if (api_get_run_state() == RUN_STOPPING)
        return -1;
    if (s->sent == s->out.len) {
        buf_clear(&s->out);
        s->sent = 0;
        if (stream_fill(s) < 0) {
            log_warnx("event stream ends after feed seq %" PRId64 ": %s",
                      s->last_seq, err_message());
            return -1;
        }
        if (s->out.len == 0 && heartbeat)
            buf_puts(&s->out, ": keep-alive\n\n");
        if (s->out.len == 0)
            return 0;
    }
    /* What does not fit stays in ->out for the next call. */
    len = s->out.len - s->sent;
    if (len > max)
        len = max;
    memcpy(buf, s->out.data + s->sent, len);
    s->sent += len;
    return (ssize_t)len;
}

static void
stream_free(void *cls)
{
    struct event_stream *s = cls;

    if (!s)
        return;
    buf_release(&s->out);
    xfree(s);
}

/* GET /events/stream */
int
api_event_stream(struct api_req *req, struct api_resp *resp)
{
    struct event_stream *s;
    struct api_stream *st;
    const char *since = api_query(req, "since");
    int64_t after = -1, first, last;

    /*
     * Last-Event-ID is what a reconnecting EventSource sends; it wins
     * over ?since= (the URL it reconnects to still carries the first
     * one). A Last-Event-ID that is no seq of ours (another server's) is
     * ignored rather than refused: the browser would only resend it.
     */
    if (req->last_event_id &&
        str_to_int64(req->last_event_id, 0, INT64_MAX, "Last-Event-ID",
                     &after) < 0) {
        err_clear();
        after = -1;
    }
    if (after < 0 && since &&
        str_to_int64(since, 0, INT64_MAX, "since", &after) < 0)
        return -1;
    if (db_feed_bounds(api_conf()->db, &first, &last) < 0)
        return -1;

    s = xcalloc(1, sizeof(*s));
    s->db = api_conf()->db;
    buf_init(&s->out, 0);
    str_copy(s->base, req->base_uri, sizeof(s->base));
    if (after >= 0) {
        /*
         * Rows after @after were purged (it is older than the first kept
         * row), or @after is past every seq we issued (a restored
         * database): either way the client missed something and must
         * reload what it shows. Then send all that is kept.
         */
        if ((first > 0 && after < first - 1) || after > last) {
            buf_printf(&s->out, "event: reset\ndata: {\"first\":%" PRId64
                                "}\n\n", first);
            if (after > last)
                after = last;
        }
        s->last_seq = after;
    } else {
        buf_puts(&s->out, ": connected\n\n");
        s->last_seq = last;
    }

    st = xcalloc(1, sizeof(*st));
    st->read = stream_read;
    st->free = stream_free;
    st->cls = s;
    st->heartbeat_ms = STREAM_HEARTBEAT_MS;
    resp->status = 200;
    resp->stream = st;
    resp->stream_type = "text/event-stream";
    log_debug("request %" PRIu64 ": event stream starts after feed seq %"
              PRId64, req->id, s->last_seq);
    return 0;
}
