/*
 * vdisk.h - the rules of virtual disks, ISOs, templates and assemblies
 * (seeds 8.5, 7.6; docs/STORAGE.md), shared by the HTTP handlers
 * (src/api/api_vdisk.c: refused at once, no job) and the operations
 * (src/jobs/op_vdisk.c, op_import.c: checked again when the job runs), so
 * both say the same thing.
 *
 * Every function reads either through @db (a handler: the reader
 * connection) or inside @t (an operation's write transaction): pass
 * exactly one of them. 0 when the rule allows it, else -1 with
 * err_set(): ERR_STATE (409) for a rule against the current state,
 * ERR_INVALID (400) for a request no state could allow, ERR_NOT_FOUND.
 *
 * Thread-safety: reentrant.
 */
#ifndef OVMM_JOBS_VDISK_H
#define OVMM_JOBS_VDISK_H

#include <stdbool.h>
#include <stdint.h>

#include "util/json.h"

struct db;
struct db_txn;

/*
 * A new virtual disk id, as Oracle VM makes them: "0004fb00" + "0012"
 * (".img") or "0015" (@iso: ".iso") + "0000" + 16 random hex digits +
 * the extension. Caller frees.
 */
char *vdisk_id_new(bool iso);

/* Clone types of PUT /VirtualDisk/{id}/clone. */
#define VDISK_THIN_CLONE "THIN_CLONE"
#define VDISK_SPARSE_COPY "SPARSE_COPY"
#define VDISK_NON_SPARSE_COPY "NON_SPARSE_COPY"

/*
 * A virtual disk (row @disk, as db_row_get() returns it) may be deleted:
 * no VmDiskMapping uses it ("it is used by template 'x'") and it is no
 * thin clone's base ("it is the base of thin clone 'y'").
 */
int vdisk_check_delete(struct db *db, struct db_txn *t, json_object *disk);

/*
 * @disk may be cloned into repository @target with @clone_type: an ISO
 * is never thin-cloned (ERR_INVALID); a thin clone stays in its source's
 * repository (ERR_STATE); a thin clone (a disk with a base) is copied only
 * within its repository, where its base is (ERR_STATE); @target exists.
 */
int vdisk_check_clone(struct db *db, struct db_txn *t, json_object *disk,
                      const char *target, const char *clone_type);

/*
 * Resizing @disk to @size bytes: ISOs cannot be resized and disks cannot
 * shrink (ERR_INVALID). 0 also when @size is the current size.
 */
int vdisk_check_resize(json_object *disk, int64_t size);

/*
 * What deleting template @vm (its row) does: it must be a template
 * (ERR_STATE "only templates can be deleted ..."); with @delete_disks,
 * *disks receives the ids of its virtual disks that go with it (a new
 * array) and *notes sentences about those kept (an ISO, a disk another
 * Vm uses, a thin clone's base). Without, *disks is empty.
 */
int vdisk_template_plan(struct db *db, struct db_txn *t, json_object *vm,
                        bool delete_disks, json_object **disks,
                        json_object **notes);

/*
 * A running server where repository @repo is presented (and @other too,
 * when not NULL): 0, or -1 with ERR_STATE "repository 'x' is not
 * presented to any running server" / "repositories 'x' and 'y' are not
 * presented together on any running server". *server_id (may be NULL)
 * receives the first such server by name (caller frees).
 */
int vdisk_repo_reachable(struct db *db, const char *repo, const char *other,
                         char **server_id);

#endif
