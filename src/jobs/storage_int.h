/*
 * storage_int.h - private to the storage operations of src/jobs/
 * (op_storage.c, op_fileserver.c, op_repository.c, op_array.c): the
 * helpers they share -- small JSON helpers, reading through a
 * storage_view, events, .ovsrepo text, the rule helpers used by several,
 * the undo journal and the host side -- and the operations each defines
 * for op_storage.c's table job_ops_storage[].
 *
 * DESIGN: op_storage.c's header comment describes rows, acting, undo data
 * and events for all of them; nothing here keeps state. Every shared
 * function is named sto_*, so none of these program-wide names can be
 * taken for another module's (sto_host_* act on a server through hv/).
 */
#ifndef OVMM_STORAGE_INT_H
#define OVMM_STORAGE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"
#include "hv/hv.h"
#include "jobs/jobs_int.h"
#include "jobs/storage.h"
#include "util/err.h"
#include "util/json.h"

#define NFS_PLUGIN "oracle.generic.NFSPlugin.GenericNFSPlugin (1.1.0)"
#define OCFS2_PLUGIN "oracle.ocfs2.OCFS2.OCFS2Plugin (0.1.0-42.1)"
#define OVSREPO ".ovsrepo"
#define OVSREPO_MAX 65536
#define REPO_MOUNT_ROOT "/OVS/Repositories"

/* Whether the storage driver has the storage op @slot. */
#define HAS(slot) (storage_hv->storage && storage_hv->storage->slot)

/* A file system as a job reaches it: the spec and a connection to the
 * server acting for it. */
struct fs_access {
    struct hv_fs fs;
    json_object *hold;     /* owns the strings of fs */
    char *server_id;       /* the acting server */
    struct hv_conn *conn;
};

/* events_add() for a job (@ctx may be NULL: no job). */
int
sto_ev(struct job_ctx *ctx, struct db_txn *t, int sev, const char *etype,
   const char *otype, const char *id, const char *name, const char *fmt,
   ...) __attribute__((format(printf, 8, 9)));

/* Integer (or boolean as 0/1) member @key of @o, or @def. */
int64_t
sto_jint(json_object *o, const char *key, int64_t def);

/* A row's name ("" when it has none). */
const char *
sto_rname(json_object *row);

/* Record @e again as the thread's error (after cleanup that may have
 * recorded errors of its own). */
void
sto_err_keep(const struct err *e);

/* The model type named @type (asserted to exist). */
const struct model_type *
sto_mt(const char *type);

/* Free @n strings and the array (db_ids_free() under another name). */
void
sto_ids_free(char **ids, size_t n);

/* JSON array of strings -> *ids (new). 0, or -1 (ERR_INVALID). */
int
sto_json_ids(json_object *a, const char *what, char ***ids, size_t *n);

/* Row @id of @type through view @v; caller puts it. */
json_object *
sto_sv_get(const struct storage_view *v, const char *type, const char *id);

/* Ids of @type rows whose @column is @value, through @v; caller frees
 * with sto_ids_free(). */
int
sto_sv_ids(const struct storage_view *v, const char *type, const char *column,
       const char *value, char ***ids, size_t *n);

/* The links of @owner in link table @table, through @v; caller frees
 * with sto_ids_free(). */
int
sto_sv_links(const struct storage_view *v, const char *table, const char *owner,
         char ***ids, size_t *n);

/* The name of object @id of @type, copied into @out ("?" when gone). */
const char *
sto_sv_name(const struct storage_view *v, const char *type, const char *id,
        char *out, size_t size);

/* The value of KEY=value line @key of .ovsrepo text @text, trimmed, or
 * NULL when there is no such line. Caller frees. */
char *
sto_ovsrepo_get(const char *text, const char *key);

/* @text with line @key set to @value (added when absent); other lines
 * stay as they are. Caller frees. */
char *
sto_ovsrepo_set(const char *text, const char *key, const char *value);

/* A new repository's .ovsrepo. Control characters of @alias become
 * spaces, so the alias stays one line. Caller frees. */
char *
sto_ovsrepo_new(const char *id, const char *mgr, const char *alias,
            const char *share);

/* True for a repository id this Manager accepts from a .ovsrepo: the
 * characters of Oracle ids (hex) and of names hosts accept, no path. */
bool
sto_repo_id_ok(const char *id);

/* The first server pool whose pool file system is @fs_id: 1 with its
 * name in @out, 0 when none, -1. */
int
sto_pool_of_fs(const struct storage_view *v, const char *fs_id, char *out,
           size_t size);

/* The FileSystemMount id of @repo on @server ("<server>_mount_<repo>"). */
char *
sto_mount_id(const char *server, const char *repo);

/* 1 when a row of @type @id exists, 0 when not, -1. */
int
sto_sv_exists(const struct storage_view *v, const char *type, const char *id);

/* The first object of @type in repository @repo_id and how many there
 * are: *n, with the first one's name in @out. 0 or -1. */
int
sto_contents(const struct storage_view *v, const char *type, const char *repo_id,
         size_t *n, char *out, size_t size);

/* True when server @id exists and is RUNNING (errors count as no). */
bool
sto_running(const struct storage_view *v, const char *id);

/*
 * The server to act through for file server @fsrv (a row): its own
 * server when LOCAL; else the first RUNNING admin server, or with
 * @refresh the first RUNNING refresh server before them. Caller frees;
 * NULL with ERR_STATE when none runs.
 */
char *
sto_acting_server(const struct storage_view *v, json_object *fsrv, bool refresh);

/* A new, empty undo object {"hv": [], "steps": []}; caller puts it. */
json_object *
sto_undo_new(void);

/* Journal: @type @id was created. */
void
sto_jr_created(json_object *undo, const char *type, const char *id);

/* Journal: the row of @type @id as it is now (once per object). */
int
sto_jr_row(struct db_txn *t, json_object *undo, const char *type, const char *id);

/* Journal: link table @table of @owner as it is now. */
int
sto_jr_links(struct db_txn *t, json_object *undo, const char *table,
         const char *owner);

/* Journal: a host action for the undo (see storage_undo()). */
json_object *
sto_jr_hv(json_object *undo, const char *action);

/* Set string member @key of @o to @v (JSON null when @v is NULL). */
void
sto_set_str(json_object *o, const char *key, const char *v);

/* Apply the journal @undo's steps (see DESIGN) inside @t. @ctx NULL:
 * raise no events. */
int
sto_journal_apply(struct job_ctx *ctx, struct db_txn *t, json_object *undo);

/* The storage ops of the driver, or NULL with ERR_UNSUPPORTED when it
 * has none or not @slot_ok. */
const struct hv_storage_ops *
sto_ops_for(bool slot_ok, const char *what);

/* The NFS exports of @host through @c (ERR_UNSUPPORTED without). */
int
sto_exports(struct hv_conn *c, const char *host, char ***v, size_t *n);

/* Probe file system @fs at @share through @c: space, and the .ovsrepo
 * text found there (caller frees). */
int
sto_probe(struct hv_conn *c, const struct hv_fs *fs, const char *share,
         struct hv_space *sp, char **ovsrepo);

/* Mount repository @repo of @fs at @share through @c (@build: make the
 * tree). */
int
sto_mount(struct hv_conn *c, const char *repo, const struct hv_fs *fs,
         const char *share, bool build);

/* Whether @repo is mounted on the server of @c (1/0, -1 on error). */
int
sto_mounted(struct hv_conn *c, const char *repo);

/* The files of @repo's directory @dir through @c; caller frees. */
int
sto_list(struct hv_conn *c, const char *repo, enum hv_repo_dir dir,
        struct hv_file **out, size_t *n);

/* Read a small file of @dir whole, as a NUL-terminated string. */
int
sto_read_dir(struct hv_conn *c, const char *repo, enum hv_repo_dir dir,
            const char *name, char **text);

/* A root file (.ovsrepo). */
int
sto_read(struct hv_conn *c, const char *repo, const char *name, char **text);

/* Write file @name with @text into @repo's root through @c. */
int
sto_write(struct hv_conn *c, const char *repo, const char *name,
         const char *text);

/* Close what sto_fs_access_open() opened in @a (the struct itself is
 * borrowed). */
void
sto_fs_access_close(struct fs_access *a);

/* Open @a for file system @fs_id through its admin server. */
int
sto_fs_access_open(struct db *db, const char *fs_id, struct fs_access *a);

/*
 * Mount repository @repo (@share of @a's file system) on @a's server for
 * a moment, unless it is mounted there already: *was says which, for
 * sto_tmp_unmount(). @build: create the tree (a new repository).
 */
int
sto_tmp_mount(struct fs_access *a, const char *repo, const char *share,
          bool build, bool *was);

/* Undo sto_tmp_mount(); keeps the thread's error when @keep. */
void
sto_tmp_unmount(struct fs_access *a, const char *repo, bool was);

/*
 * Build repository @repo's tree at @share of file system @fs_id and write
 * its .ovsrepo @text (a new repository, or the undo of a delete). 0/-1.
 */
int
sto_host_build(struct db *db, const char *fs_id, const char *repo,
         const char *share, const char *text);

/* Remove repository @repo's tree (through @fs_id's admin server). When
 * @text is not NULL, *text receives its .ovsrepo first (NULL when it had
 * none). @missing_ok: a root that is gone already is success. */
int
sto_host_destroy(struct db *db, const char *fs_id, const char *repo,
           const char *share, char **text, bool missing_ok);

/* Write .ovsrepo @text of @repo through @fs_id's admin server; *old (may
 * be NULL) receives the text it replaces (NULL when there was none). */
int
sto_host_ovsrepo(struct db *db, const char *fs_id, const char *repo,
           const char *share, const char *text, char **old);

/* Mount (@mount) or unmount repository @repo on server @server. */
int
sto_host_present(struct db *db, const char *server, const char *repo, bool mount);

/*
 * The undo of every operation here: the host actions, then the journal
 * in one transaction committed with the UNDONE row.
 */
int
storage_undo(struct job_ctx *ctx, json_object *args, json_object *undo);

/* Commit @t with @undo as the DONE row's undo data, or roll back when
 * @rc < 0. */
int
sto_finish(struct job_ctx *ctx, struct db_txn *t, int rc, json_object *undo);

/* This Manager's uuid (its id). Caller frees. */
char *
sto_manager_uuid(struct db *db);

/* Make (@make: an OCFS2 file system labelled @label for cluster
 * @cluster) or wipe the file system on LUN device @device through server
 * @server (op_ocfs2.c; the host actions "fs_make"/"fs_wipe" of an
 * undo). A driver that cannot wipe: 0 with a WARNING logged. */
int
sto_host_fs(struct db *db, const char *server, const char *device, bool make,
            const char *label, const char *cluster);

/* op_ocfs2.c: OCFS2 file systems on LUNs. */
extern const struct job_op_type op_fs_create;
extern const struct job_op_type op_fs_delete;
/* op_fileserver.c: file servers and file systems. */
extern const struct job_op_type op_fsrv_create;
extern const struct job_op_type op_fsrv_update;
extern const struct job_op_type op_fsrv_refresh;
extern const struct job_op_type op_fsrv_delete;
extern const struct job_op_type op_fs_refresh;
/* op_repository.c: repositories. */
extern const struct job_op_type op_repo_create;
extern const struct job_op_type op_repo_present;
extern const struct job_op_type op_repo_unpresent;
extern const struct job_op_type op_repo_release;
extern const struct job_op_type op_repo_take;
extern const struct job_op_type op_repo_refresh;
extern const struct job_op_type op_repo_delete;
/* op_array.c: storage arrays, access groups, storage elements. */
extern const struct job_op_type op_array_create;
extern const struct job_op_type op_array_refresh;
extern const struct job_op_type op_array_update;
extern const struct job_op_type op_array_delete;
extern const struct job_op_type op_group_create;
extern const struct job_op_type op_group_member;
extern const struct job_op_type op_group_delete;
extern const struct job_op_type op_element_update;

#endif
