/*
 * vdisk_int.h - private to the repository-content operations of
 * src/jobs/ (op_vdisk.c, op_import.c, storage_template.c): virtual disks,
 * ISOs, imports, templates and assemblies.
 *
 * DESIGN: these operations act on files of a repository through a server
 * where it is presented (hv storage ops) and on rows (db generic rows).
 * An operation that creates things creates its files first and then, in
 * one transaction committed with its DONE row (job_txn_commit), its rows
 * and events; when anything fails before that commit it deletes the files
 * it made, so a failed or aborted job leaves nothing. Its undo data list
 * what it made -- {"repository", "files": [{"dir", "name"}], "rows":
 * [{"type", "id"}]} -- and vd_undo_created() removes exactly that: files
 * first (when that fails nothing else is touched and the undo fails: the
 * rows keep describing files that still exist), then the rows, in reverse
 * order of creation. Deleting is two operations: the rows (database-only,
 * undone by restoring exact snapshots), then the files (no undo; last in
 * the job, so a failure there restores the rows and the files are still
 * all there, see vdisk.delete_files).
 *
 * Thread-safety: everything here runs on job worker threads and keeps no
 * state of its own.
 */
#ifndef OVMM_JOBS_VDISK_INT_H
#define OVMM_JOBS_VDISK_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/hv.h"
#include "jobs/jobs_int.h"
#include "util/json.h"

struct db;
struct db_txn;

/* Integer member @key of @o, or @dflt. */
int64_t vd_int(json_object *o, const char *key, int64_t dflt);

/* "VirtualDisks" -> HV_DIR_VIRTUAL_DISKS etc. 0, or -1 (ERR_INVALID). */
int vd_dir_parse(const char *name, enum hv_repo_dir *out);


/*
 * A connection to a RUNNING server where repository @a is presented and,
 * when @b is not NULL, @b as well (a copy between them). NULL with
 * ERR_STATE naming the repositories when there is none, or the
 * connection's error. *server_id (may be NULL) receives the server's id
 * (caller frees). Close with storage_hv->close().
 */
struct hv_conn *vd_repo_conn(struct db *db, const char *a, const char *b,
                             char **server_id);

/* For hv file_copy(): job_aborting() of the struct job_ctx @opaque. */
bool vd_aborting(void *opaque);

/* ---- what a creating operation made (undo data) ---- */

/* {"repository": @repo, "files": [], "rows": []}. New reference. */
json_object *vd_made_new(const char *repo);
void vd_made_file(json_object *made, enum hv_repo_dir dir, const char *name);
void vd_made_row(json_object *made, const char *type, const char *id);
/*
 * Delete the files listed in @made through @c, best effort (a failure is
 * logged): the cleanup of an operation that fails before its commit. The
 * thread's error is kept.
 */
void vd_made_cleanup(struct hv_conn *c, json_object *made);
/*
 * The undo of every creating operation: delete the files of @undo (a
 * vd_made object; absent ones are fine), then, in one transaction
 * committed with the UNDONE row, its rows in reverse order, each with an
 * event "<what> '<name>' deleted: its creation was undone".
 */
int vd_undo_created(struct job_ctx *ctx, json_object *args, json_object *undo);

/*
 * Insert VirtualDisk row @id inside @t: @dir HV_DIR_VIRTUAL_DISKS or
 * HV_DIR_ISOS decides diskType and path; @f the file's facts (sizes,
 * format, backing). Optional members of @extra (borrowed; may be NULL)
 * are copied over the defaults (description, shareable, sparse,
 * import_file_name, import_url, backing_id, assembly_virtual_disk_id,
 * user_data). 0 or -1.
 */
int vd_txn_disk_insert(struct db_txn *t, const char *id, const char *name,
                       const char *repo, enum hv_repo_dir dir,
                       const struct hv_file *f, json_object *extra);

/*
 * Snapshot row @id of @type into @undo's "rows" array (created when
 * absent) as {"type", "row"} and delete it inside @t. An absent row is 0
 * (nothing to do). Delete children before parents.
 */
int vd_txn_delete_snap(struct db_txn *t, const char *type, const char *id,
                       json_object *undo);
/*
 * The undo of a deletion or an edit: put back the snapshots of
 * undo.rows in reverse order (parents before children), with
 * object.restored events on templates, disks and assemblies, in one
 * transaction committed with the UNDONE row.
 */
int vd_undo_restore(struct job_ctx *ctx, json_object *args,
                    json_object *undo);

/* Commit @t with @undo (job_txn_commit), or roll it back when @rc < 0. */
int vd_finish(struct job_ctx *ctx, struct db_txn *t, int rc,
              json_object *undo);

/* The fetch policy of an import's arguments: import_allow, limits. */
struct fetch_policy;
void vd_fetch_policy(json_object *args, struct fetch_policy *p);

/* op_import.c: imports, templates and assemblies (see there). */
extern const struct job_op_type job_op_import_disk;
extern const struct job_op_type job_op_import_template;
extern const struct job_op_type job_op_import_assembly;
extern const struct job_op_type job_op_assembly_create_vm;
extern const struct job_op_type job_op_template_delete_rows;
extern const struct job_op_type job_op_assembly_delete_rows;

#endif
