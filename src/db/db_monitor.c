/*
 * db_monitor.c - what the monitor (src/policy/monitor.c) reads and writes:
 * the list of servers to watch, per-cycle utilization samples, and the
 * run state, error and foreign domains of one server.
 *
 * DESIGN: samples are observations, not changes (schema/db/0006): one
 * transaction per cycle writes them for every server polled, with
 * synchronous=NORMAL and without touching `objects` (no generation bump,
 * no modified_ms), so a sample never makes a user's edit stale. The run
 * state, on the other hand, is part of the object: the db_txn_* calls
 * below run inside the caller's transaction, which also holds the event
 * that reports the change, and a state change bumps the generation.
 */
#include <string.h>

#include "db/db_int.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/str.h"

void
db_monitor_servers_free(struct db_monitor_server *v, size_t n)
{
    size_t i;

    for (i = 0; v && i < n; i++) {
        xfree(v[i].id);
        xfree(v[i].name);
        xfree(v[i].uri);
        xfree(v[i].login);
        xfree(v[i].password);
        xfree(v[i].run_state);
    }
    xfree(v);
}

int
db_monitor_servers(struct db *db, struct db_monitor_server **out, size_t *n)
{
    struct db_monitor_server *v = NULL;
    size_t nv = 0, cap = 0;
    struct db_conn *c;
    sqlite3_stmt *st;
    int rc;

    *out = NULL;
    *n = 0;
    c = db_read_begin(db);
    if (!c)
        return -1;
    st = db_stmt(c, "SELECT s.id, o.name, s.libvirt_uri, s.agent_login, "
                    "s.agent_password, s.run_state, s.memory_mib, "
                    "s.enabled_cores FROM servers s "
                    "JOIN objects o ON o.id = s.id ORDER BY s.id");
    if (!st) {
        db_read_end(db);
        return -1;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_monitor_server *s;

        if (nv == cap) {
            cap = cap ? cap * 2 : 16;
            v = xrealloc(v, cap * sizeof(*v));
        }
        s = &v[nv++];
        memset(s, 0, sizeof(*s));
        s->id = db_col_strdup(st, 0);
        s->name = db_col_strdup(st, 1);
        s->uri = db_col_strdup(st, 2);
        s->login = db_col_strdup(st, 3);
        s->password = db_col_strdup(st, 4);
        s->run_state = db_col_strdup(st, 5);
        s->memory_mib = sqlite3_column_int64(st, 6);
        s->cpus = sqlite3_column_int64(st, 7);
    }
    if (rc != SQLITE_DONE)
        db_err_set(c, "cannot list the servers to monitor");
    db_stmt_release(st);
    db_read_end(db);
    if (rc != SQLITE_DONE) {
        db_monitor_servers_free(v, nv);
        return -1;
    }
    *out = v;
    *n = nv;
    return 0;
}

int
db_monitor_put_samples(struct db *db, const struct db_monitor_sample *v,
                       size_t n)
{
    struct db_txn *t;
    struct db_conn *c;
    size_t i;

    if (n == 0)
        return 0;
    t = db_txn_begin(db, DB_SYNC_NORMAL);
    if (!t)
        return -1;
    c = db_txn_conn(t);
    for (i = 0; i < n; i++) {
        const struct db_monitor_sample *s = &v[i];

        /* Only servers that still answer to the state the sample was
         * taken in: a server a job stopped or deleted meanwhile keeps
         * what the job wrote. */
        if (db_run(c, "UPDATE servers SET cpu_utilization = "
                      "CASE WHEN ?2 < 0 THEN NULL ELSE ?2 END, "
                      "memory_utilization = ?3, memory_used_mib = ?4, "
                      "usable_memory_mib = ?5, running_domains = ?6, "
                      "sampled_ms = ?7, last_seen_ms = ?7 "
                      "WHERE id = ?1 AND run_state = 'RUNNING'",
                   "tiiiiii", s->id, s->cpu_pct, s->memory_pct,
                   s->memory_used_mib, s->memory_free_mib, s->running,
                   s->sampled_ms) != SQLITE_DONE) {
            db_err_set(c, "cannot record the utilization of server '%s'",
                       s->id);
            db_txn_rollback(t);
            return -1;
        }
    }
    return db_txn_commit(t);
}

int
db_txn_server_run_state(struct db_txn *t, const char *id, char **state,
                        char **name, char **foreign)
{
    struct db_conn *c = db_txn_conn(t);
    sqlite3_stmt *st = db_stmt(c, "SELECT s.run_state, o.name, "
                                  "s.foreign_domains FROM servers s "
                                  "JOIN objects o ON o.id = s.id "
                                  "WHERE s.id = ?1");
    int rc;

    *state = NULL;
    if (name)
        *name = NULL;
    if (foreign)
        *foreign = NULL;
    if (!st)
        return -1;
    db_bind_text(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *state = db_col_strdup(st, 0);
        if (name)
            *name = db_col_strdup(st, 1);
        if (foreign)
            *foreign = db_col_strdup(st, 2);
    } else if (rc == SQLITE_DONE) {
        err_set(ERR_NOT_FOUND, "Server '%s' not found", id);
    } else {
        db_err_set(c, "cannot read the state of server '%s'", id);
    }
    db_stmt_release(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

int
db_txn_server_set_run_state(struct db_txn *t, const char *id,
                            const char *state, const char *error)
{
    struct db_conn *c = db_txn_conn(t);
    bool running = str_eq(state, "RUNNING");

    /* Figures of an unreachable server would be stale: cleared. */
    if (db_run(c, running ? "UPDATE servers SET run_state = ?2, "
                            "monitor_error = ?3 WHERE id = ?1"
                          : "UPDATE servers SET run_state = ?2, "
                            "monitor_error = ?3, cpu_utilization = NULL, "
                            "memory_utilization = NULL, "
                            "memory_used_mib = NULL, "
                            "running_domains = NULL WHERE id = ?1",
               "ttt", id, state, error) != SQLITE_DONE)
        return db_err_set(c, "cannot set the state of server '%s'", id);
    if (sqlite3_changes(c->h) == 0) {
        err_set(ERR_NOT_FOUND, "Server '%s' not found", id);
        return -1;
    }
    if (db_run(c, "UPDATE objects SET generation = generation + 1, "
                  "modified_ms = ?2 WHERE id = ?1", "ti", id, time_now_ms())
        != SQLITE_DONE)
        return db_err_set(c, "cannot update server '%s'", id);
    return 0;
}

int
db_txn_server_set_monitor_error(struct db_txn *t, const char *id,
                                const char *error)
{
    struct db_conn *c = db_txn_conn(t);

    if (db_run(c, "UPDATE servers SET monitor_error = ?2 WHERE id = ?1",
               "tt", id, error) != SQLITE_DONE)
        return db_err_set(c, "cannot record the error of server '%s'", id);
    return 0;
}

int
db_txn_server_set_foreign(struct db_txn *t, const char *id,
                          const char *json)
{
    struct db_conn *c = db_txn_conn(t);

    if (db_run(c, "UPDATE servers SET foreign_domains = ?2 WHERE id = ?1",
               "tt", id, json) != SQLITE_DONE)
        return db_err_set(c, "cannot record the foreign domains of server "
                             "'%s'", id);
    return 0;
}
