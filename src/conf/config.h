/*
 * config.h - ovmmd's configuration: one key table, a file parser, reload.
 *
 * DESIGN: every key is one row of the table in config.c {name, type,
 * default, min, max, flags, help}; packaging/ovmmd.conf lists them all
 * (a unit test checks it). The file format is libvirtd.conf-like:
 * `key = value` lines, `#` comments, strings optionally in double quotes.
 * Reading happens on the main thread at start and on SIGHUP; on reload
 * only RELOADABLE keys change, others keep their value with a warning.
 * The struct is read by other threads only for immutable keys, or through
 * the apply hooks of reloadable ones.
 */
#ifndef OVMM_CONFIG_H
#define OVMM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum conf_type { CONF_STRING, CONF_INT, CONF_BOOL };

#define CONF_RELOADABLE 0x1 /* applied again on SIGHUP */

struct config {
    char *data_dir;           /* data_dir: SQLite, TLS, logs, lock */
    char *listen;             /* listen: HTTPS address:port */
    char *http_listen;        /* http_listen: HTTP redirector, "" = off */
    char *tls_cert;           /* tls_cert: "" = <data_dir>/tls/server.crt */
    char *tls_key;            /* tls_key: "" = <data_dir>/tls/server.key */
    char *log_file;           /* log_file: "" = <data_dir>/logs/ovmmd.log */
    char *log_level;          /* log_level: debug|info|warn|error (reload) */
    char *web_root;           /* web_root: "" = built-in default */
    char *manager_name;       /* manager_name: the Manager object's name */
    int64_t max_body_bytes;   /* max_body_bytes */
    int64_t connection_timeout; /* connection_timeout, seconds */
    int64_t max_connections;  /* max_connections */
    int64_t max_connections_per_ip; /* max_connections_per_ip, 0 = none */
    int64_t http_threads;     /* http_threads: 0 = one per online CPU */
    int64_t list_limit_default; /* list_limit_default (extension paging) */
    int64_t list_limit_max;   /* list_limit_max */
    int64_t login_max_failures;   /* login_max_failures */
    int64_t login_lockout_seconds; /* login_lockout_seconds */
    int64_t session_idle_timeout; /* session_idle_timeout, seconds */
    int64_t session_lifetime; /* session_lifetime, seconds */
    char *password_strength;  /* password_strength */
    int64_t startup_delay_ms; /* startup_delay_ms: testing aid */
    int64_t job_workers;      /* job_workers: 0 = online CPUs + 1 */
    int64_t job_priority_workers; /* job_priority_workers */
    int64_t job_lock_timeout; /* job_lock_timeout, seconds */
    int64_t job_wait_max;     /* job_wait_max, seconds */
    int64_t job_retention_days;   /* job_retention_days */
    int64_t event_retention_days; /* event_retention_days */
    bool job_diagnostics;     /* job_diagnostics: POST /Job/diagnostic */
    int64_t simulate;         /* simulate: simulated servers sim-1..N */
    char *hv_uri_template;    /* hv_uri_template */
    char *agent_login;        /* agent_login */
    char *default_agent_password; /* default_agent_password */
    int64_t monitor_interval; /* monitor_interval, seconds; 0 = off */
    int64_t monitor_timeout;  /* monitor_timeout, seconds */
    int64_t monitor_threads;  /* monitor_threads, per pool */
    int64_t ipmi_timeout;     /* ipmi_timeout, seconds per ipmitool run */
    int64_t ipmi_cipher_suite; /* ipmi_cipher_suite: -C, -1 = ipmitool's */
    int64_t power_confirm_timeout; /* power_confirm_timeout, seconds */
    char *wol_address;        /* wol_address: numeric, Wake-on-LAN target */
    int64_t wol_port;         /* wol_port: UDP port of Wake-on-LAN */
    char *import_allow;       /* import_allow: CIDRs imports may reach */
    int64_t import_max_size;  /* import_max_size, bytes */
    int64_t import_timeout;   /* import_timeout, seconds */
};

struct conf_key {
    const char *name;
    enum conf_type type;
    const char *def;    /* default, as it would be written in the file */
    int64_t min, max;   /* CONF_INT bounds */
    unsigned flags;
    size_t offset;      /* offsetof(struct config, member) */
    const char *help;   /* one paragraph, for the sample file and docs */
};

/* The key table; *n receives its length. */
const struct conf_key *config_keys(size_t *n);

/* Fill @c with every default. Release with config_release(). */
void config_init(struct config *c);
void config_release(struct config *c);
/*
 * Read @path into @c. ERR_CONFIG "<path>:<line>: <problem>" for unknown
 * keys, bad values, out-of-range numbers, syntax errors; ERR_IO when the
 * file cannot be read. On failure @c is unchanged.
 */
int config_load(struct config *c, const char *path);
/* Set one key from text (command-line flags). ERR_CONFIG on a bad key or value. */
int config_set(struct config *c, const char *key, const char *value);
/*
 * Re-read @path and apply only RELOADABLE keys to @c, running their apply
 * hooks (log_level: log_set_level()); a changed non-reloadable key is
 * logged as ignored. Only keys the file sets are compared, so values from
 * command-line flags survive. 0 or -1 (@c unchanged).
 */
int config_reload(struct config *c, const char *path);

#endif
