/*
 * monitor.h - monitoring and reconciliation of servers (DESIGN.md sections
 * 1, 5 and 9; docs/MONITORING.md).
 *
 * DESIGN: one monitor watches every server in the inventory whose
 * serverRunState is RUNNING or UNKNOWN (STARTING, STOPPING and STOPPED
 * belong to the power jobs and are left alone). Every `interval_ms` a
 * cycle re-reads the server list (new servers are picked up, deleted ones
 * dropped) and visits each server once: through the connection registry
 * (registry.h: one connection per server, kept open) it makes exactly one
 * bulk hv domain_stats call (virConnectGetAllDomainStats) -- never a call
 * per VM -- and computes the server's utilization. A server that does not
 * answer (connection closed, keepalive timeout, refused reconnection, or
 * no answer within `timeout_ms`) goes UNKNOWN with an ERROR event
 * "server.unreachable"; reconnection follows the registry's back-off
 * (1 s doubling to 60 s), between cycles, and a server that answers again
 * goes RUNNING with an event "server.reachable". The first answer after
 * every (re)connection, including the monitor's start, is a
 * reconciliation pass: the server's domains are compared with the
 * database, VMs corrected (vms_reconcile() in monitor.c) and domains
 * that are no VM of this Manager listed as the server's foreignDomains,
 * never adopted.
 *
 * Writes: a state change commits in one transaction with its event (and,
 * later, the VM state changes it implies), and only from the state the
 * monitor observed (RUNNING <-> UNKNOWN), so it never overwrites what a
 * job wrote meanwhile. Utilization samples are observations: one
 * transaction per cycle for all servers, no generation bump
 * (db_monitor_put_samples()).
 *
 * Threads: a coordinator thread (monitor_start()) and two small pools of
 * visitor threads: one for servers with an open connection, one for
 * connection attempts, so a server whose connection attempt hangs never
 * delays the polling of the others. Hypervisor calls happen only on the
 * visitors, with no lock held; the coordinator alone writes the database.
 * Nothing here takes a lock of the job engine or of HTTP.
 */
#ifndef OVMM_POLICY_MONITOR_H
#define OVMM_POLICY_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;
struct hv_driver;
struct monitor;

struct monitor_conf {
    struct db *db;                  /* borrowed; outlives the monitor */
    const struct hv_driver *driver; /* NULL: hv_libvirt */
    int64_t interval_ms;            /* between cycles (monitor_interval) */
    int64_t timeout_ms;             /* a visit still running after this
                                       marks the server unreachable
                                       (monitor_timeout) */
    int threads;                    /* visitors per pool (monitor_threads) */
    int64_t backoff_min_ms;         /* 0: 1000 */
    int64_t backoff_max_ms;         /* 0: 60000 */
};

/* Counters, for tests, the bench and the log. */
struct monitor_stats {
    uint64_t cycles;        /* full cycles run */
    size_t servers;         /* servers watched in the last cycle */
    size_t answered;        /* ... that answered */
    size_t unreachable;     /* ... that did not (or were not tried yet) */
    size_t domains;         /* domains reported in the last cycle */
    uint64_t stats_calls;   /* bulk domain_stats calls, ever */
    uint64_t connects;      /* successful connections, ever */
    uint64_t reconciliations; /* reconciliation passes, ever */
    int64_t last_cycle_ms;  /* wall time of the last full cycle */
};

/*
 * A monitor over @conf->db, with its visitor threads started but no
 * coordinator yet (monitor_cycle() may be used). NULL with err_set() when
 * a thread cannot be started. Free with monitor_free().
 */
struct monitor *monitor_new(const struct monitor_conf *conf);
/* Stop (when started), join every thread, close every connection;
 * accepts NULL. */
void monitor_free(struct monitor *m);

/* Start the coordinator thread; its first cycle (the start-up
 * reconciliation) runs at once. 0 or -1. */
int monitor_start(struct monitor *m);
/* Stop and join the coordinator (a visit in progress finishes first). */
void monitor_stop(struct monitor *m);

/*
 * Run one full cycle on the calling thread: read the server list, visit
 * every server it should (connected ones, and the others whose back-off
 * allows an attempt), wait for the answers up to timeout_ms, and write
 * what they said. For tests and the bench; ERR_STATE while the
 * coordinator runs. 0, or -1 when the database could not be read.
 */
int monitor_cycle(struct monitor *m);

/* A copy of the counters. Thread-safe. */
void monitor_get_stats(struct monitor *m, struct monitor_stats *out);

#endif
