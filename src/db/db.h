/*
 * db.h - the inventory database: the only user of <sqlite3.h>.
 *
 * DESIGN: one SQLite file in WAL mode with foreign keys on. A `struct db`
 * owns one writer connection (all changes; `->wlock` serializes them, the
 * single-writer shape dqlite needs later) and one reader connection
 * (`->rlock`), so reads never wait for a write in progress. Every call
 * below is thread-safe and takes the lock it needs for its duration only.
 * Migrations are the embedded schema/db/NNNN_*.sql files, applied in order
 * at open, each inside one transaction with the `schema_version` row, so a
 * crash mid-migration leaves the previous version intact. Statements are
 * prepared once per connection and cached; values are always bound, never
 * formatted into SQL (identifiers from model/ descriptors are).
 *
 * Error convention: int functions return 0 or -1, pointer functions NULL,
 * with err_set(): ERR_NOT_FOUND, ERR_EXISTS (unique constraint), ERR_DB.
 */
#ifndef OVMM_DB_H
#define OVMM_DB_H

#include <stdbool.h>
#include <stdint.h>

#include "model/model.h"
#include "util/autoptr.h"

struct db;

/*
 * Open (creating if needed) the database at @path: WAL, foreign keys,
 * busy timeout, migrations, then `PRAGMA integrity_check` (a failure is
 * ERR_DB "database '<path>' is damaged: <first problem>"). A database
 * whose schema version is newer than this binary knows is refused.
 * Returns a handle to free with db_close().
 */
struct db *db_open(const char *path);
/* Close the handle (checkpointing the WAL); accepts NULL. */
void db_close(struct db *db);
DEFINE_AUTOPTR(db, db_close)
/* The highest migration applied. */
int db_schema_version(struct db *db);
/* The highest migration this binary carries. */
int db_schema_version_latest(void);

/*
 * Copy the database at @db_path into a new file @dest with SQLite's online
 * backup API. Safe while ovmmd runs on @db_path: the copy is one
 * consistent snapshot. @dest must not exist (ERR_EXISTS).
 */
int db_backup_file(const char *db_path, const char *dest);
/*
 * Replace the database at @db_path with the backup @src, after checking
 * that @src is a SQLite database that passes integrity_check and whose
 * schema version this binary knows. The caller holds the data-directory
 * lock (no ovmmd is running). Stale -wal/-shm files are removed.
 */
int db_restore_file(const char *src, const char *db_path);

/* ---- generic objects (db_object.c) ---- */

/*
 * One object of type @t by id. NULL with ERR_NOT_FOUND
 * ("<Type> '<id>' not found") when there is none. Caller frees.
 */
struct model_obj *db_object_get(struct db *db, const struct model_type *t,
                                const char *id);
/*
 * Objects of type @t ordered by name then id, skipping @offset and
 * returning at most @limit. When @column is not NULL only those whose
 * type-table @column equals @value are returned (child collections).
 * *out receives a new array of *n objects (free with model_objs_free()).
 * *total, when not NULL, receives the count before paging.
 */
int db_object_list(struct db *db, const struct model_type *t,
                   const char *column, const char *value, int64_t limit,
                   int64_t offset, struct model_obj ***out, size_t *n,
                   int64_t *total);
/* Like db_object_list() but only ids and names (GET /Type/id). */
int db_object_refs(struct db *db, const struct model_type *t,
                   const char *column, const char *value, int64_t limit,
                   int64_t offset, struct model_ref **out, size_t *n,
                   int64_t *total);

/* ---- the Manager (db_manager.c) ---- */

/* The one Manager's id (made by the first migration). Caller frees. */
char *db_manager_id(struct db *db);
/* Set managerRunState (STARTING, RUNNING, STOPPING) and bump generation. */
int db_manager_set_state(struct db *db, const char *state);
/* Set the Manager's name and version (at start, from config and build). */
int db_manager_set_info(struct db *db, const char *name, const char *version);

/* ---- users (db_user.c) ---- */

struct db_user {
    char *id;
    char *name;
    char *role;            /* "administrator", "operator", "read-only" */
    char *password_hash;   /* libsodium crypt string; never rendered */
    int64_t failed_logins; /* consecutive failures since the last success */
    int64_t locked_until_ms; /* lock-out end, 0 when none */
    int64_t last_login_ms;
    bool disabled;         /* locked by an administrator */
};

void db_user_free(struct db_user *u);
DEFINE_AUTOPTR(db_user, db_user_free)

/* Create a user (objects row + users row, one transaction) with
 * @description (NULL: empty). ERR_EXISTS for a taken name. *id_out (when
 * not NULL) receives the new id; caller frees. */
int db_user_create(struct db *db, const char *name, const char *role,
                   const char *password_hash, const char *description,
                   char **id_out);
/* The user called @name, or NULL with ERR_NOT_FOUND. Caller frees. */
struct db_user *db_user_get_by_name(struct db *db, const char *name);
/* Number of users. */
int db_user_count(struct db *db, int64_t *out);
/* Replace the password hash; clears failures and lock-out and ends the
 * user's sessions, in one transaction. ERR_NOT_FOUND. */
int db_user_set_password(struct db *db, const char *name, const char *hash);
/* Set the administrator lock; locking ends the user's sessions, unlocking
 * clears failures and lock-out. ERR_NOT_FOUND. */
int db_user_set_disabled(struct db *db, const char *name, bool disabled);
/*
 * Record a failed log-in at @now_ms: failed_logins + 1; when that reaches
 * @max_failures, locked_until_ms = now + @lockout_ms and failed_logins = 0.
 * *locked_until (when not NULL) receives the resulting locked_until_ms.
 */
int db_user_login_failed(struct db *db, const char *id, int64_t now_ms,
                         int64_t max_failures, int64_t lockout_ms,
                         int64_t *locked_until);
/* Record a successful log-in: failures 0, last_login_ms = @now_ms. */
int db_user_login_ok(struct db *db, const char *id, int64_t now_ms);
/* Delete a user and its sessions. ERR_NOT_FOUND. */
int db_user_delete(struct db *db, const char *name);

struct db_txn; /* below, with db_txn_begin() */
/*
 * The same changes inside the caller's write transaction @t (a job
 * operation's, committed with its DONE row; see src/jobs/op_user.c).
 * They never commit or roll back themselves; on -1 the caller rolls back.
 * Errors and effects are those of the db_user_*() functions above:
 * set_password and set_disabled(true) end the user's sessions inside @t,
 * delete removes them by cascade.
 *
 * db_txn_user_create(): @id NULL makes a new id; otherwise the user gets
 * exactly that id (putting back a deleted user: an undo). ERR_EXISTS for
 * a taken name or id. *id_out (may be NULL) receives the id; caller
 * frees.
 */
int db_txn_user_create(struct db_txn *t, const char *id, const char *name,
                       const char *role, const char *password_hash,
                       const char *description, char **id_out);
int db_txn_user_delete(struct db_txn *t, const char *name);
int db_txn_user_set_password(struct db_txn *t, const char *name,
                             const char *hash);
int db_txn_user_set_disabled(struct db_txn *t, const char *name,
                             bool disabled);
/* The user called @name / with id @id as @t sees it, or NULL with
 * ERR_NOT_FOUND. Caller frees. */
struct db_user *db_txn_user_get_by_name(struct db_txn *t, const char *name);
struct db_user *db_txn_user_get_by_id(struct db_txn *t, const char *id);

/* ---- browser sessions (db_session.c) ---- */

struct db_session {
    char *token_hash;   /* hex SHA-256 of the cookie token (never the token) */
    char *user_id;
    char *csrf_token;
    int64_t created_ms;
    int64_t last_seen_ms;
    int64_t expires_ms; /* absolute end of life */
};

void db_session_free(struct db_session *s);
DEFINE_AUTOPTR(db_session, db_session_free)

int db_session_create(struct db *db, const struct db_session *s);
/* The session, or NULL with ERR_NOT_FOUND. Caller frees. */
struct db_session *db_session_get(struct db *db, const char *token_hash);
int db_session_touch(struct db *db, const char *token_hash, int64_t now_ms);
/* Delete one session; deleting a missing one is not an error. */
int db_session_delete(struct db *db, const char *token_hash);
/* Delete every session of a user (password change, lock, delete). */
int db_session_delete_user(struct db *db, const char *user_id);
/* Delete sessions past expires_ms or idle longer than @idle_ms. */
int db_session_purge(struct db *db, int64_t now_ms, int64_t idle_ms);

/* ---- write transactions shared across db_*.c calls (db_txn.c) ---- */

/*
 * An open write transaction on the writer connection. Jobs need several
 * changes -- the object, the operation's DONE row, its events, the feed --
 * to commit together, so the functions below that take a `struct db_txn`
 * run inside the caller's transaction and never commit themselves. Only
 * one transaction exists at a time (the writer lock is held from begin to
 * commit/rollback): keep them short and never wait on anything inside.
 */
struct db_txn;

enum db_sync {
    DB_SYNC_NORMAL, /* synchronous=NORMAL: survives a process crash */
    DB_SYNC_FULL,   /* synchronous=FULL: survives power loss (job tables) */
};

/* Lock the writer and BEGIN IMMEDIATE. NULL with ERR_DB. */
struct db_txn *db_txn_begin(struct db *db, enum db_sync sync);
/*
 * COMMIT and unlock; frees @t. -1 with ERR_DB (rolled back). After a
 * successful commit, every key recorded with db_txn_notify() (the job and
 * event writers below record theirs) is published with notify_publish(),
 * outside the writer lock: subscribers only ever hear of committed data.
 */
int db_txn_commit(struct db_txn *t);
/* Record @key to publish when @t commits (deduplicated). */
void db_txn_notify(struct db_txn *t, const char *key);
/* ROLLBACK and unlock; frees @t; accepts NULL; keeps the thread's error. */
void db_txn_rollback(struct db_txn *t);

/* ---- generic object changes inside a transaction (db_object.c) ---- */

/* The common, user-editable part of an object. */
struct db_common {
    char *name;
    char *description;
    char *user_data;   /* JSON array text */
    int64_t generation;
    char *type;        /* type name */
};
void db_common_clear(struct db_common *c);

/* Read the common part of object @id. ERR_NOT_FOUND "<id> not found". */
int db_txn_object_common(struct db_txn *t, const char *id,
                         struct db_common *out);
/*
 * Set name, description and user_data of @id (NULL members are left as
 * they are) and its generation to @generation (-1: generation + 1);
 * modified_ms = now. ERR_NOT_FOUND. ERR_EXISTS when the type's table has
 * a unique name column and the name is taken.
 */
int db_txn_object_set_common(struct db_txn *t, const char *id,
                             const char *name, const char *description,
                             const char *user_data, int64_t generation);

/* ---- generic rows of any registered type (db_row.c) ----
 *
 * For types whose jobs need no typed struct (storage, issue 5): an
 * object is one flat JSON object {column: value} holding its `objects`
 * columns (id, type, name, description, generation, locked, read_only,
 * user_data, created_ms, modified_ms) and its type table's columns
 * (named as in schema/db; they never clash with the objects columns but
 * `id`). Values: TEXT -> string, INTEGER -> int, NULL -> null. Column
 * names are checked against the tables (PRAGMA table_info), so a name
 * never reaches SQL unchecked: an unknown one is ERR_INVALID. A row read
 * with db_txn_row_get() and written back with db_txn_row_restore() is
 * the object exactly as it was (generation and times included): that is
 * the undo of any change.
 */
/* Object @id of type @ty as a flat row. NULL with ERR_NOT_FOUND
 * "<Type> '<id>' not found" (also when @id is of another type). */
json_object *db_txn_row_get(struct db_txn *t, const struct model_type *ty,
                            const char *id);
json_object *db_row_get(struct db *db, const struct model_type *ty,
                        const char *id);
/*
 * Insert @row (must hold "id"; "name" defaults to "", type is @ty,
 * generation 0, times now, user_data "[]"; type columns left out take
 * their SQL defaults). ERR_EXISTS (a unique constraint, with SQLite's
 * message), ERR_INVALID (unknown column, CHECK constraint).
 */
int db_txn_row_insert(struct db_txn *t, const struct model_type *ty,
                      json_object *row);
/*
 * Set the columns in @cols (either table's, not id/type) of object @id.
 * @bump: generation + 1 and modified_ms = now (unless @cols sets them).
 * ERR_NOT_FOUND, ERR_EXISTS, ERR_INVALID.
 */
int db_txn_row_update(struct db_txn *t, const struct model_type *ty,
                      const char *id, json_object *cols, bool bump);
/* Delete object @id (its type row and what cascades with it).
 * ERR_NOT_FOUND. */
int db_txn_row_delete(struct db_txn *t, const struct model_type *ty,
                      const char *id);
/* Put @row back exactly: replaces the object when it exists, inserts it
 * otherwise (every column as given, except that an existing object keeps
 * its `locked` flag, which belongs to the job engine). */
int db_txn_row_restore(struct db_txn *t, const struct model_type *ty,
                       json_object *row);
/*
 * Ids of the objects of @ty whose type-table @column equals @value (NULL:
 * IS NULL; @column NULL: all), ordered by name then id. *ids: *n strings,
 * free with db_ids_free(). 0 or -1.
 */
int db_txn_row_ids(struct db_txn *t, const struct model_type *ty,
                   const char *column, const char *value, char ***ids,
                   size_t *n);
int db_row_ids(struct db *db, const struct model_type *ty,
               const char *column, const char *value, char ***ids,
               size_t *n);
void db_ids_free(char **ids, size_t n);
/*
 * The ref_id values of link table @table (a link table of schema/db:
 * columns <owner column> and ref_id) for owner @owner_id, ordered. Set
 * replaces them with @n @ids. The table and column must be among the
 * link tables db_row.c knows (ERR_INVALID otherwise).
 */
int db_txn_links_get(struct db_txn *t, const char *table,
                     const char *owner_id, char ***ids, size_t *n);
int db_links_get(struct db *db, const char *table, const char *owner_id,
                 char ***ids, size_t *n);
int db_txn_links_set(struct db_txn *t, const char *table,
                     const char *owner_id, char *const *ids, size_t n);

/* ---- VNIC MAC addresses (db_vnic.c) ---- */

/*
 * The lowest address of the MAC ranges (mac_ranges, ordered by start) that
 * no VNIC has (virtual_nics.mac_int), as a 48-bit value in *mac: 1, or 0
 * when every address of every range is taken (or there is no range), or
 * -1 with ERR_DB. Inside a job's write transaction the answer stays true
 * until it commits.
 */
int db_mac_lowest_free(struct db *db, uint64_t *mac);
int db_txn_mac_lowest_free(struct db_txn *t, uint64_t *mac);

/* ---- servers, ports, networks, CPU groups (db_server.c) ---- */

/* What discovery writes about a server (NULL strings: unknown). */
struct db_server_facts {
    const char *id;            /* the host UUID in Oracle's colon form */
    const char *name;          /* objects.name for a new server */
    const char *ip_address;    /* as discovered (unique) */
    const char *agent_login;
    const char *agent_password; /* sealed, or NULL */
    const char *libvirt_uri;
    const char *manager_uuid;  /* owner, or NULL */
    const char *hostname;
    const char *bios_vendor, *bios_version, *bios_release_date;
    const char *processor_type;
    int64_t processor_speed_khz;
    int64_t sockets, threads_per_core, cores_per_socket;
    int64_t total_cores, enabled_cores;
    int64_t memory_mib, usable_memory_mib;
    const char *manufacturer, *product_name, *serial_number;
    const char *cpu_vendor, *cpu_model_name;
    int64_t cpu_family, cpu_model;   /* -1: unknown */
    const char *hypervisor_json;
    const char *local_disks_json; /* [{name, type, path, capacity,
                                     allocation}] */
    const char *cpu_group_id;  /* NULL: none */
};

/* Create the server (objects + servers rows) or, when @f->id exists,
 * refresh its facts (not its name, roles, pool, maintenance or owner).
 * *created says which. */
int db_txn_server_put(struct db_txn *t, const struct db_server_facts *f,
                      bool *created);
/* The id of the server discovered as @address, or NULL (ERR_NOT_FOUND). */
char *db_txn_server_by_address(struct db_txn *t, const char *address);
/* Make sure CPU compatibility group @id exists; *created says whether it
 * was made now. */
int db_txn_cpu_group_ensure(struct db_txn *t, const char *id,
                            const char *name, const char *vendor,
                            int64_t family, int64_t model, bool *created);
/* Create or refresh the Ethernet port @ifname of @server_id; *id_out
 * receives its id (caller frees). */
int db_txn_port_put(struct db_txn *t, const char *server_id,
                    const char *server_name, const char *ifname,
                    const char *mac, int64_t mtu, bool up, char **id_out);
/* The network carrying the MANAGEMENT role, made (with MANAGEMENT,
 * LIVE_MIGRATE and CLUSTER_HEARTBEAT, named @name) when none exists.
 * *id_out receives its id (caller frees); *created says whether it is
 * new. */
int db_txn_management_network(struct db_txn *t, const char *name,
                              char **id_out, bool *created);
/* Put port @port_id on network @network_id (NULL: none). */
int db_txn_port_set_network(struct db_txn *t, const char *port_id,
                            const char *network_id);
/* Delete object @id (any type: its type row goes by cascade) and, for a
 * server, its Ethernet ports. ERR_NOT_FOUND. */
int db_txn_object_delete(struct db_txn *t, const char *id);

/*
 * A server as its edit, ownership, delete and power jobs see it (all
 * owned; free with db_server_free()). Passwords stay sealed.
 */
struct db_server {
    char *id;
    char *name;
    int64_t generation;
    char *run_state;           /* serverRunState */
    char *roles;               /* serverRoles, JSON array text */
    bool maintenance_mode;
    bool inbound_migration_locked;
    char *ipmi_address;        /* "host", "host:port", "[v6]:port"; NULL */
    char *ipmi_user;           /* NULL: none */
    char *ipmi_password;       /* sealed, or NULL */
    char *manager_uuid;        /* owner; NULL: unowned */
    char *agent_password;      /* sealed, or NULL */
    char *server_pool_id;      /* NULL: Unassigned Servers */
    char *pool_name;           /* its pool's name, or NULL */
    char *pool_master_id;      /* its pool's master, or NULL */
    char *mgmt_mac;            /* MAC of its port on the MANAGEMENT
                                  network (Wake-on-LAN), or NULL */
    char *ip_address;          /* the name or address it was discovered as */
    char *libvirt_uri;
    char *agent_login;
    int64_t active_vms;        /* VMs RUNNING, SUSPENDED, STARTING or
                                  STOPPING on it */
    char *active_vm_name;      /* the first of them by name, or NULL */
};
void db_server_free(struct db_server *s);
DEFINE_AUTOPTR(db_server, db_server_free)

/* Server @id from the reader (handlers) or inside @t (operations). NULL
 * with ERR_NOT_FOUND "Server '<id>' not found". Caller frees. */
struct db_server *db_server_get(struct db *db, const char *id);
struct db_server *db_txn_server_get(struct db_txn *t, const char *id);
/*
 * Columns of server @id by name, for exact undo: @names is an object
 * whose keys are column names (values ignored) from an allow-list (roles,
 * maintenance_mode, inbound_migration_locked, ipmi_address, ipmi_user,
 * ipmi_password, manager_uuid, agent_password, power_state,
 * power_checked_ms); a name outside it is ERR_INVALID. Returns a new
 * object {column: value} (SQL NULL as JSON null), or NULL with
 * ERR_NOT_FOUND.
 */
json_object *db_txn_server_columns(struct db_txn *t, const char *id,
                                   json_object *names);
/* Write @values {column: string | integer | null} (same allow-list) into
 * server @id. No generation bump (the caller's set_common does it). */
int db_txn_server_set_columns(struct db_txn *t, const char *id,
                              json_object *values);
/*
 * The server that should take over as master of @server_id's pool when
 * @server_id enters maintenance: another server of the pool not in
 * maintenance mode, RUNNING ones first, then by name. NULL with
 * ERR_NOT_FOUND when there is none. Caller frees.
 */
char *db_txn_server_master_successor(struct db_txn *t,
                                     const char *server_id);
/* Set pool @pool_id's master to @master_id (NULL: none). No generation
 * bump. ERR_NOT_FOUND. */
int db_txn_server_pool_set_master(struct db_txn *t, const char *pool_id,
                                  const char *master_id);
/*
 * An exact copy of server @id's rows -- its objects row, its servers row,
 * its Ethernet ports and intra-server networks with their objects rows --
 * as {"objects": [...], "servers": [...], "networks": [...],
 * "ethernet_ports": [...]}, each row {column: value}. New reference, or
 * NULL with ERR_NOT_FOUND.
 */
json_object *db_txn_server_snapshot(struct db_txn *t, const char *id);
/* Insert the rows of a snapshot back, exactly (the undo of a delete).
 * ERR_EXISTS when the server exists again; ERR_INVALID for a malformed
 * snapshot (a column the table does not have). */
int db_txn_server_restore(struct db_txn *t, json_object *snap);
/* Delete server @id with its ports and intra-server networks (objects
 * rows included). ERR_NOT_FOUND. */
int db_txn_server_delete(struct db_txn *t, const char *id);

/* Power actions on a server (PUT /Server/{id}/start, stop, restart,
 * kill). */
enum db_power_action {
    DB_POWER_START, DB_POWER_STOP, DB_POWER_RESTART, DB_POWER_KILL,
};
/*
 * The rules of the seeds (7.8), pure functions of a server read above,
 * shared by the handlers (409 before any job) and the operations (the job
 * fails when the world changed while it waited). 0, or -1 with ERR_STATE
 * and a message naming the server.
 * - ownership: not while in a server pool; take only what no Manager
 *   owns, release only what @manager_uuid owns.
 * - delete: only from Unassigned Servers (no pool).
 * - power: only a server @manager_uuid owns; start from STOPPED, UNKNOWN
 *   or STARTING (a start may be repeated), stop and restart from RUNNING
 *   or UNKNOWN, kill from any state; through IPMI when ipmiAddress is
 *   set, else a start may use Wake-on-LAN (*wol set) when the management
 *   port has a MAC; with neither, refused.
 */
int db_server_check_ownership(const struct db_server *s, bool take,
                              const char *manager_uuid);
int db_server_check_delete(const struct db_server *s);
int db_server_check_power(const struct db_server *s, enum db_power_action a,
                          const char *manager_uuid, bool *wol);

/* ---- monitoring (db_monitor.c) ---- */

/* A server as the monitor needs it (all owned; free with
 * db_monitor_servers_free()). */
struct db_monitor_server {
    char *id;
    char *name;
    char *uri;             /* libvirt URI */
    char *login;           /* agent login */
    char *password;        /* sealed agent password, or NULL */
    char *run_state;       /* serverRunState */
    int64_t memory_mib;    /* 0: unknown */
    int64_t cpus;          /* enabled cores; 0: unknown */
};
void db_monitor_servers_free(struct db_monitor_server *v, size_t n);
/* Every server, ordered by id. *out: an array of *n (NULL when 0). */
int db_monitor_servers(struct db *db, struct db_monitor_server **out,
                       size_t *n);

/* One utilization sample (schema/db/0006_monitor.sql). */
struct db_monitor_sample {
    const char *id;            /* borrowed */
    int64_t cpu_pct;           /* 0..100, -1: unknown (rendered null) */
    int64_t memory_pct;        /* 0..100 */
    int64_t memory_used_mib;
    int64_t memory_free_mib;   /* written to usable_memory_mib */
    int64_t running;           /* active domains */
    int64_t sampled_ms;        /* also last_seen_ms */
};
/*
 * Record @n samples in one transaction (synchronous=NORMAL), without
 * bumping any generation: observations, not changes. Only servers whose
 * run state is RUNNING take theirs; a deleted server is skipped.
 */
int db_monitor_put_samples(struct db *db, const struct db_monitor_sample *v,
                           size_t n);
/* Server @id's run state and, when the pointers are not NULL, its name and
 * foreign domains (JSON array text), as @t sees them. ERR_NOT_FOUND.
 * Caller frees all three. */
int db_txn_server_run_state(struct db_txn *t, const char *id, char **state,
                            char **name, char **foreign);
/*
 * Set server @id's run state to @state and its monitor error to @error
 * (NULL clears it); bumps the generation. A state other than RUNNING
 * clears the utilization figures. ERR_NOT_FOUND.
 */
int db_txn_server_set_run_state(struct db_txn *t, const char *id,
                                const char *state, const char *error);
/* Set only the monitor error (NULL clears it); no generation bump. */
int db_txn_server_set_monitor_error(struct db_txn *t, const char *id,
                                    const char *error);
/* Set server @id's foreign domains (JSON array text); no generation
 * bump: an observation. */
int db_txn_server_set_foreign(struct db_txn *t, const char *id,
                              const char *json);

/* ---- jobs (db_job.c) ---- */

/* Job run states, as Oracle VM names them. */
enum db_job_state {
    JOB_CREATED, JOB_RUNNING, JOB_SUCCESS, JOB_FAILURE, JOB_ABORTED,
    JOB_CHILD_QUEUED, JOB_CHILD_RUNNING,
};
const char *db_job_state_str(enum db_job_state s);
/* -1 when @s names no state. */
int db_job_state_parse(const char *s);
/* SUCCESS, FAILURE and ABORTED are final. */
bool db_job_state_final(enum db_job_state s);

/* One row of `jobs` (plus its children's ids when read with children). */
struct db_job {
    int64_t id;
    char *name;
    char *description;
    enum db_job_state run_state;
    enum db_job_state summary_state;
    bool done;
    bool summary_done;
    bool priority;
    int64_t parent_id;        /* 0: none */
    int64_t child_seq;
    bool parallel;
    char *user;
    char *result_type, *result_id, *result_name; /* NULL: no result */
    char *error_type, *error_message;            /* NULL: none */
    char *progress_message;
    char *latest_summary_progress; /* newest progress among self and
                                      children (read only) */
    char *aborted_by;
    int64_t created_ms, start_ms, end_ms; /* 0: not yet */
    int64_t lock_deadline_ms;
    int64_t generation;
    int64_t *child_ids;       /* in child_seq order */
    size_t nchildren;
};
void db_job_free(struct db_job *j);
void db_jobs_free(struct db_job **v, size_t n);
DEFINE_AUTOPTR(db_job, db_job_free)

/* An operation of a job (a row of job_ops). */
struct db_job_op {
    int64_t seq;
    char *op;           /* operation name (src/jobs/ops.c) */
    char *description;
    char *args;         /* JSON text */
    char *state;        /* PENDING RUNNING DONE FAILED UNDONE UNDO_FAILED
                           SKIPPED UNKNOWN */
    char *undo;         /* JSON text or NULL */
    char *message;
    int64_t start_ms, end_ms, undo_ms;
};
void db_job_ops_free(struct db_job_op *v, size_t n);

/* An object a job declared (a row of job_objects). */
struct db_job_object {
    int64_t job_id;
    char *object_id;
    char *object_type;
    char *object_name;
    bool exclusive;
    bool granted;
    bool released;
};
void db_job_objects_free(struct db_job_object *v, size_t n);

/*
 * Insert a new job: its row (id chosen here, > every earlier id, from
 * @j->created_ms), its operations and its declared objects, plus a feed
 * row. @j->id receives the id. Everything else is the caller's values.
 */
int db_txn_job_insert(struct db_txn *t, struct db_job *j,
                      const struct db_job_op *ops, size_t nops,
                      const struct db_job_object *objs, size_t nobjs);
/*
 * Write the mutable columns of @j (states, done flags, result, error,
 * progress, aborted_by, start/end) and bump its generation; adds a feed
 * row. ERR_NOT_FOUND.
 */
int db_txn_job_update(struct db_txn *t, const struct db_job *j);
/* Set one operation's state, undo, message and times (0/NULL: unchanged). */
int db_txn_job_op_update(struct db_txn *t, int64_t job_id, int64_t seq,
                         const char *state, const char *undo,
                         const char *message, int64_t start_ms,
                         int64_t end_ms, int64_t undo_ms);
/* Mark a job's objects granted (and objects.locked = 1 for them). */
int db_txn_job_grant(struct db_txn *t, int64_t job_id);
/* Mark a job's objects released (objects.locked = 0 unless another
 * granted job still holds the object). */
int db_txn_job_release(struct db_txn *t, int64_t job_id);

/* One job, with child ids. NULL with ERR_NOT_FOUND "Job '<id>' not found". */
struct db_job *db_job_get(struct db *db, int64_t id);
/* Same, inside a write transaction (the writer's view). */
struct db_job *db_txn_job_get(struct db_txn *t, int64_t id);
/* A job's operations in order. */
int db_job_ops(struct db *db, int64_t id, struct db_job_op **out, size_t *n);
int db_txn_job_ops(struct db_txn *t, int64_t id, struct db_job_op **out,
                   size_t *n);
/* A job's declared objects. */
int db_job_objects(struct db *db, int64_t id, struct db_job_object **out,
                   size_t *n);

/* Filters of GET /Job; zero/NULL members do not filter. */
struct db_job_filter {
    int state;          /* -1: any; else enum db_job_state */
    bool active;        /* only jobs not done */
    const char *user;
    const char *object_id; /* jobs that declared this object */
    int64_t since_ms;   /* created_ms >= */
    int64_t until_ms;   /* created_ms <  (0: no bound) */
    int64_t parent_id;  /* -1: any, 0: top-level only, else children of */
    int64_t limit;      /* -1: all */
    int64_t offset;
    bool newest_first;  /* order by id descending (default ascending) */
};
int db_job_list(struct db *db, const struct db_job_filter *f,
                struct db_job ***out, size_t *n, int64_t *total);
/* Ids of jobs in @state, ascending; for recovery (writer view). */
int db_txn_job_ids_in_state(struct db_txn *t, enum db_job_state state,
                            int64_t **out, size_t *n);
/*
 * Recovery: release every job_objects row of jobs that are done, clear
 * `granted` on all others and set objects.locked = 0 everywhere.
 */
int db_txn_locks_reset(struct db_txn *t);
/* Delete jobs done before @before_ms (with their ops, objects, feed rows).
 * *deleted receives the count. */
int db_job_purge(struct db *db, int64_t before_ms, int64_t *deleted);

/* Held and awaited locks (GET /Lock): unreleased job_objects rows with
 * their job's state, ordered by object then job id. */
int db_lock_list(struct db *db, struct db_job_object **out, size_t *n);

/* ---- events (db_event.c) ---- */

enum db_severity {
    SEV_INFORMATIONAL = 0, SEV_WARNING = 1, SEV_ERROR = 2, SEV_CRITICAL = 3,
};
const char *db_severity_str(int sev);
/* -1 when @s names no severity. */
int db_severity_parse(const char *s);

struct db_event {
    int64_t id;
    int64_t time_ms;
    int severity;           /* enum db_severity */
    char *type;             /* "job.failure", "object.updated", ... */
    char *summary;
    char *description;
    char *object_id, *object_type, *object_name; /* NULL: none */
    int64_t job_id;         /* 0: none */
    char *user;
    bool acknowledged;
    char *ack_user;
    int64_t ack_ms;
};
void db_event_free(struct db_event *e);
void db_events_free(struct db_event **v, size_t n);
DEFINE_AUTOPTR(db_event, db_event_free)

/* Insert @e (id and, when 0, time_ms are set here) plus a feed row. */
int db_txn_event_insert(struct db_txn *t, struct db_event *e);
struct db_event *db_event_get(struct db *db, int64_t id);

struct db_event_filter {
    const char *object_id;
    int min_severity;       /* -1: any */
    int acknowledged;       /* -1: any, 0: not acknowledged, 1: acknowledged */
    int64_t since_ms, until_ms; /* 0: no bound */
    int64_t job_id;         /* 0: any */
    int64_t limit, offset;  /* limit -1: all */
};
/* Newest first. */
int db_event_list(struct db *db, const struct db_event_filter *f,
                  struct db_event ***out, size_t *n, int64_t *total);
/*
 * Set or clear (@ack false) the acknowledgement of event @id inside @t;
 * *was (when not NULL) receives the previous state. ERR_NOT_FOUND. Adds a
 * feed row and records "event:<id>" to notify.
 */
int db_txn_event_acknowledge(struct db_txn *t, int64_t id, bool ack,
                             const char *user, int64_t now_ms, bool *was);
/* Delete events older than @before_ms. */
int db_event_purge(struct db *db, int64_t before_ms, int64_t *deleted);

/* ---- the change feed (db_event.c) ---- */

struct db_feed_item {
    int64_t seq;
    int64_t time_ms;
    bool is_job;            /* else an event */
    int64_t ref;            /* job or event id */
};
/* Items with seq > @after, ascending, at most @limit. */
int db_feed_after(struct db *db, int64_t after, int64_t limit,
                  struct db_feed_item **out, size_t *n);
/* The lowest and highest seq (0, 0 when empty). */
int db_feed_bounds(struct db *db, int64_t *first, int64_t *last);

/* ---- server pools (db_pool.c) ---- */

/*
 * A server pool as the pool handlers and operations use it (all owned;
 * free with db_pool_free()). A pool always has its policy, made and
 * deleted with it ("balancer_<pool id>", mode OFF until DRS/DPM exist).
 */
struct db_pool {
    char *id;
    char *name;
    char *description;
    char *user_data;         /* JSON array text */
    int64_t generation;
    char *virtual_ip;        /* canonical text, or NULL */
    bool clustered;
    char *keymap;
    bool secure_vm_migrate;
    char *vm_start_policy;   /* BEST_SERVER, BALANCE_SERVER, CURRENT_SERVER */
    char *master_server_id;  /* NULL: no master (no servers) */
    char *master_name;       /* the master's name (read only), or NULL */
    char *agent_password;    /* sealed; from the first server; NULL: none */
    char *policy_id;
    char *pool_fs_id;        /* pool file system (FileSystem), or NULL */
    int64_t nservers;        /* servers in the pool (read only) */
    int64_t nvms;            /* VMs (not templates) in the pool (read
                                only) */
    char *ocfs2_fs_name;     /* the first OCFS2 file system on a LUN
                                that belongs to the pool, or NULL (read
                                only) */
};
void db_pool_free(struct db_pool *p);
DEFINE_AUTOPTR(db_pool, db_pool_free)

/* What the membership rules look at for a server (all owned). */
struct db_pool_member {
    char *id;
    char *name;
    char *pool_id;           /* NULL: unassigned */
    char *pool_name;         /* its pool's name, or NULL */
    char *manager_uuid;      /* owner, or NULL */
    char *run_state;
    bool maintenance;
    char *agent_password;    /* sealed, or NULL */
    char *policy_id;         /* the policy it participates in, or NULL */
    int64_t active_vms;      /* VMs RUNNING, SUSPENDED, STARTING or
                                STOPPING on it (read only) */
    char *active_vm_name;    /* the first of them by name, or NULL */
    char *ocfs2_repo_name;   /* the first repository on an OCFS2 file
                                system of its pool presented to it, or
                                NULL (read only) */
};
void db_pool_member_free(struct db_pool_member *s);
DEFINE_AUTOPTR(db_pool_member, db_pool_member_free)

/* Pool @id, from the reader (handlers) or inside @t (operations). NULL
 * with ERR_NOT_FOUND "ServerPool '<id>' not found". Caller frees. */
struct db_pool *db_pool_get(struct db *db, const char *id);
struct db_pool *db_txn_pool_get(struct db_txn *t, const char *id);
/* Server @server_id's membership facts; ERR_NOT_FOUND "Server '<id>' not
 * found". Caller frees. */
struct db_pool_member *db_pool_member_get(struct db *db,
                                          const char *server_id);
struct db_pool_member *db_txn_pool_member_get(struct db_txn *t,
                                              const char *server_id);
/* The id of the pool named @name / using virtual IP @vip (canonical
 * text), or NULL with ERR_NOT_FOUND when none does. Caller frees. */
char *db_pool_by_name(struct db *db, const char *name);
char *db_txn_pool_by_name(struct db_txn *t, const char *name);
char *db_pool_by_vip(struct db *db, const char *vip);
char *db_txn_pool_by_vip(struct db_txn *t, const char *vip);
/* The server of pool @pool_id that should be its master: running and
 * not in maintenance first, then the first by name. NULL with
 * ERR_NOT_FOUND when the pool has no servers. Caller frees. */
char *db_txn_pool_elect_master(struct db_txn *t, const char *pool_id);

/*
 * The membership rules (seeds 7.7), pure functions over the reads above,
 * shared by the handler (409 before any job) and the operation (the job
 * fails when the world changed meanwhile). 0, or -1 with ERR_STATE and a
 * message naming the server and the pool.
 * - add: @s is unassigned, owned by @manager_uuid, RUNNING, and, when the
 *   pool has servers, has the pool's agent password (sealed values are
 *   compared opened).
 * - remove: @s is in @p and in maintenance mode.
 * - delete: @p has no servers.
 */
int db_pool_check_add(const struct db_pool *p, const struct db_pool_member *s,
                      const char *manager_uuid);
int db_pool_check_remove(const struct db_pool *p,
                         const struct db_pool_member *s);
int db_pool_check_delete(const struct db_pool *p);
/*
 * May file system @fs_id be the pool file system of pool @pool_id (NULL:
 * a pool being created)? It must exist (ERR_NOT_FOUND), be exported by a
 * NETWORK file server, since every server of the pool reaches it
 * (ERR_STATE), still be exported (ERR_STATE), hold no repository
 * (ERR_STATE: "one purpose per export") and not be another pool's
 * (ERR_EXISTS). From the reader (handlers) or inside @t (jobs).
 */
int db_pool_check_fs(struct db *db, const char *pool_id, const char *fs_id);
int db_txn_pool_check_fs(struct db_txn *t, const char *pool_id,
                         const char *fs_id);

/*
 * Create pool @p (its objects and server_pools rows from id, name,
 * description, user_data, virtual_ip, clustered, keymap,
 * secure_vm_migrate, vm_start_policy) with its policy, inside @t.
 * ERR_EXISTS when the name or the virtual IP is taken.
 */
int db_txn_pool_create(struct db_txn *t, const struct db_pool *p);
/* Write @p's virtual_ip, keymap, secure_vm_migrate, vm_start_policy,
 * master_server_id and agent_password (all of them, as they are). The
 * common part is db_txn_object_set_common()'s. ERR_NOT_FOUND. */
int db_txn_pool_set(struct db_txn *t, const struct db_pool *p);
/* Put server @server_id in pool @pool_id (NULL: unassigned) with policy
 * participation @policy_id (NULL: none). No generation bump. */
int db_txn_pool_member_set(struct db_txn *t, const char *server_id,
                           const char *pool_id, const char *policy_id);
/* Delete pool @id and its policy. ERR_NOT_FOUND; a pool that still has
 * servers fails on the foreign key (check db_pool_check_delete()). */
int db_txn_pool_delete(struct db_txn *t, const char *id);
/*
 * Undo support. A pool snapshot holds its rows (objects, server_pools
 * and, when it has one, its policy's) as {column: value}; restoring it
 * writes them back exactly -- generation and times included, `locked`
 * excepted -- over the existing rows, or, with @create, as new rows (the
 * undo of a delete). A member snapshot holds a server's generation,
 * modified time, pool and policy participation. Snapshots are new
 * references; NULL with ERR_NOT_FOUND when the object is gone.
 */
json_object *db_txn_pool_snapshot(struct db_txn *t, const char *id);
int db_txn_pool_restore(struct db_txn *t, json_object *snap, bool create);
json_object *db_txn_pool_member_snapshot(struct db_txn *t,
                                         const char *server_id);
int db_txn_pool_member_restore(struct db_txn *t, json_object *snap);

#endif
