/*
 * storage.h - what the storage operations of src/jobs/ share: reaching a
 * server, or a server where a repository is mounted, through the hv
 * layer; the file system of a repository as the hv layer wants it.
 *
 * DESIGN: storage jobs open their own short connection to the server
 * they act through (as discovery does), with the server's URI, agent
 * login and agent password (unsealed only for the open); storage state
 * lives on the file systems, not in the connection, so a fresh
 * connection sees everything. Which server: for a repository, one it is
 * presented to (a FileSystemMount) whose serverRunState is RUNNING,
 * preferring the caller's choice; for a file server, one of its admin
 * (or refresh) servers, RUNNING; for a local file server, its own server.
 *
 * Thread-safety: reentrant; called from job workers.
 */
#ifndef OVMM_JOBS_STORAGE_H
#define OVMM_JOBS_STORAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "hv/hv.h"
#include "util/json.h"

struct db;

/* The hv driver storage jobs use (hv_libvirt). */
extern const struct hv_driver *const storage_hv;

/*
 * Connect to server @server_id. NULL with err_set(): ERR_NOT_FOUND,
 * ERR_STATE "server 'x' is not running (UNKNOWN)" unless RUNNING,
 * ERR_UNREACHABLE / ERR_AUTH from the hv layer. Close with
 * storage_hv->close().
 */
struct hv_conn *storage_server_open(struct db *db, const char *server_id);

/*
 * Connect to a RUNNING server where repository @repo_id is mounted:
 * @prefer (may be NULL) when it qualifies, else the first by name.
 * *server_id (may be NULL) receives its id (caller frees). NULL with
 * ERR_STATE "repository 'name' is not presented to any running server"
 * or the connection's error.
 */
struct hv_conn *storage_repo_open(struct db *db, const char *repo_id,
                                  const char *prefer, char **server_id);

/*
 * The hv_fs of file system @fs_id: kind "nfs" (host = its file server's
 * access host, path = export), "local" (path = directory) or "ocfs2" (on
 * a LUN: path = the LUN's device; acted for by its file server's server
 * when RUNNING, else by a RUNNING server of its pool), plus the
 * repository share path when @repo_id is given (else ""). Strings point
 * into *hold (free with json_object_put()). *admin (may be NULL): the
 * server to act through for this file system when no repository mount
 * is involved -- the local server, or a RUNNING admin server of the file
 * server (caller frees). ERR_NOT_FOUND, ERR_STATE (no running admin
 * server).
 */
int storage_fs_spec(struct db *db, const char *fs_id, struct hv_fs *fs,
                    json_object **hold, char **admin);

/* ---- templates (storage_template.c) ---- */

/* A template's vm.cfg is Templates/<vm id> STORAGE_TEMPLATE_SUFFIX. */
#define STORAGE_TEMPLATE_SUFFIX ".vm.cfg"

struct db_txn;
/*
 * Make the rows of template @vm_id of repository @repo_id from the text of
 * its vm.cfg (@len bytes of @cfg_text, as stored in Templates/<vm id>.vm.cfg)
 * inside @t: the Vm row (vmRunState TEMPLATE, config_file, the vm.cfg as
 * JSON in `config`) and one VmDiskMapping per entry of the cfg's `disk`
 * list, in order (diskTarget 0, 1, ...), each entry's file matched by its
 * base name to a VirtualDisk of the repository (disk ids are file names).
 * Mapping (docs/STORAGE.md "Templates"): name from @name, else
 * OVM_simple_name, else `name`, made valid for a Vm (letters, digits, '_',
 * '-'; others become '_') and given a suffix "-2", "-3"... when another Vm
 * has it; memory/maxmem -> memory/memoryLimit (MiB), vcpus/maxvcpus ->
 * cpuCount/cpuCountLimit, OVM_os_type -> osType, OVM_domain_type or else
 * builder 'hvm' (XEN_HVM, or XEN_HVM_PV_DRIVERS when OVM_os_type says
 * PVHVM or xen_platform_pci = 1) / bootloader or kernel (XEN_PVM), boot ->
 * bootOrder. An entry whose file is no disk of the repository becomes an
 * empty CD-ROM mapping when it is a CD-ROM, else it is left out; each
 * such case adds a sentence to *notes. @origin (may be NULL): the Vm's
 * origin (an import URL). @rows (may be NULL): a JSON array receiving
 * {"type", "id"} for every row made, in creation order (undo data).
 * *vm_name (may be NULL): the name given (caller frees). *notes (may be
 * NULL): a new array of strings, or NULL when nothing was left out.
 * 0, or -1 with ERR_INVALID (the vm.cfg does not parse, or names no
 * template), ERR_EXISTS (@vm_id exists), ERR_DB.
 */
int storage_template_from_cfg(struct db_txn *t, const char *repo_id,
                              const char *vm_id, const char *cfg_text,
                              size_t len, const char *name,
                              const char *origin, json_object *rows,
                              char **vm_name, json_object **notes);

/*
 * @wanted made valid for a Vm name (see above; "" or NULL gives
 * "template"), at most 190 characters, without the uniqueness suffix.
 * Caller frees.
 */
char *storage_vm_name_valid(const char *wanted);

/* ---- op_storage.c (file server ones: op_fileserver.c): the storage
 * rules, shared with src/api/ ----
 *
 * Each rule reads through a view: the reader (@db, @t NULL: a handler,
 * or a job before it acts) or a write transaction (@t: the job's check
 * just before it commits), so the handler's refusal and the job's
 * FAILURE carry the same message. 0, or -1 with err_set(): ERR_NOT_FOUND
 * (an object named is unknown: 404), ERR_INVALID (400), ERR_STATE or
 * ERR_EXISTS (409).
 */
struct job_ctx;

struct storage_view {
    struct db *db;        /* the reader, when t is NULL */
    struct db_txn *t;     /* a write transaction, or NULL */
};

/* @host (an accessHost) checked and canonical into @out: a host name
 * (lower case) or an IP address (inet_ntop form). ERR_INVALID. */
int storage_check_access_host(const char *host, char *out, size_t size);
/* A repository's share path: "" or a relative path of safe names. */
int storage_check_share_path(const char *share);
/* A new NETWORK file server at @host (canonical): no other has that
 * access host (ERR_EXISTS), at least one admin server (ERR_INVALID),
 * admin and refresh servers exist and are owned by @mgr (ERR_STATE). */
int storage_check_fileserver_new(const struct storage_view *v,
                                 const char *host, char *const *admins,
                                 size_t nadmins, char *const *refreshers,
                                 size_t nrefreshers, const char *mgr);
/* Servers @ids exist and are owned by @mgr (@what: "admin server"). */
int storage_check_admins(const struct storage_view *v, char *const *ids,
                         size_t n, const char *what, const char *mgr);
/* File server @id has a server to act through (RUNNING): ERR_STATE. */
int storage_check_reachable(const struct storage_view *v, const char *id);
/* File server @id may be deleted: not LOCAL, no repository and no pool
 * file system on its file systems. */
int storage_check_fileserver_delete(const struct storage_view *v,
                                    const char *id);
/* A repository may be made at @share of file system @fs_id: present,
 * not a pool file system, no repository there (ERR_EXISTS) or nested. */
int storage_check_repo_create(const struct storage_view *v,
                              const char *fs_id, const char *share);
/* Present @repo_id to @server_id: both owned by @mgr, the server
 * RUNNING, a local file system only to its server, not yet presented. */
int storage_check_present(const struct storage_view *v, const char *repo_id,
                          const char *server_id, const char *mgr);
/* Unpresent: presented there, and no active VM uses it there. */
int storage_check_unpresent(const struct storage_view *v,
                            const char *repo_id, const char *server_id);
/* Release: owned by @mgr and presented nowhere. */
int storage_check_release(const struct storage_view *v, const char *repo_id,
                          const char *mgr);
/* Take: not owned by @mgr already; its file system present. */
int storage_check_take(const struct storage_view *v, const char *repo_id,
                       const char *mgr);
/* Delete: presented nowhere; owned: empty (no VirtualDisk, Vm or
 * Assembly); unowned: no VM of another repository uses its disks and
 * none of its VMs is active. */
int storage_check_repo_delete(const struct storage_view *v,
                              const char *repo_id, const char *mgr);
/* Server @server_id may be deleted as far as storage goes: no repository
 * presented to it, none on its local file systems. */
int storage_check_server_delete(const struct storage_view *v,
                                const char *server_id);

/* ---- op_array.c: storage arrays (docs/STORAGE.md); the initiator
 * name: op_fileserver.c ---- */

/* A new iSCSI array at access host @host (canonical): no other array has
 * it (ERR_EXISTS), at least one admin server (ERR_INVALID), the admin
 * servers exist (ERR_NOT_FOUND) and are owned by @mgr (ERR_STATE). */
int storage_check_array_new(const struct storage_view *v, const char *host,
                            char *const *admins, size_t nadmins,
                            const char *mgr);
/* Array @id may be edited to access hosts @hosts (JSON text of canonical
 * [{accessHost, accessPort}]; NULL: unchanged) and admin servers @admins
 * (@set_admins false: unchanged). A default array takes neither when
 * non-empty (ERR_STATE); else at least one admin server and one access
 * host (ERR_INVALID), the servers known (ERR_NOT_FOUND) and owned by
 * @mgr (ERR_STATE), no host of another array's (ERR_EXISTS), and with
 * new hosts one of the (new) admin servers RUNNING (ERR_STATE). */
int storage_check_array_update(const struct storage_view *v, const char *id,
                               const char *hosts, char *const *admins,
                               size_t nadmins, bool set_admins,
                               const char *mgr);
/* Array @id may be deleted: not a default array, no element used (by a
 * VM disk mapping or a file system): ERR_STATE. */
int storage_check_array_delete(const struct storage_view *v,
                               const char *id);
/* Array @id has a running admin server (a default array has none):
 * ERR_STATE. */
int storage_check_array_reachable(const struct storage_view *v,
                                  const char *id);
/* @ref (@kind "StorageElement" or "StorageInitiator") may be added to
 * (@add) or removed from access group @group: both exist
 * (ERR_NOT_FOUND), an element is of the group's array (ERR_STATE), not
 * already in (ERR_EXISTS) / in (ERR_STATE). */
int storage_check_group_member(const struct storage_view *v,
                               const char *group, const char *kind,
                               const char *ref, bool add);
/* "iqn.1988-12.com.oracle:<hex digits of @server_id>". Caller frees. */
char *storage_initiator_iqn(const char *server_id);

/* ---- op_ocfs2.c: OCFS2 file systems on LUNs (docs/STORAGE.md,
 * "Repositories on a LUN") ---- */

/* Server @server_id reaches storage element @element_id: its iSCSI
 * initiator is in an access group of the element's array that lists the
 * element or lists no element (ERR_STATE with what to do otherwise). */
int storage_check_element_access(const struct storage_view *v,
                                 const char *server_id,
                                 const char *element_id);
/*
 * An OCFS2 file system may be made on storage element @element_id
 * through local file server @fsrv_id: the file server is LOCAL and its
 * server RUNNING, owned by @mgr and in a clustered pool (its id into
 * @pool) -- LUN repositories are only for clustered pools --, the element
 * is present and used by nothing (no file system, no VM disk mapping),
 * and the server reaches it. ERR_NOT_FOUND, ERR_INVALID, ERR_STATE.
 */
int storage_check_ocfs2_new(const struct storage_view *v,
                            const char *fsrv_id, const char *element_id,
                            const char *mgr, char *pool, size_t size);
/* File system @fs_id may be deleted: an OCFS2 file system on a LUN (NFS
 * and local ones come and go with refreshes) holding no repository. */
int storage_check_fs_delete(const struct storage_view *v, const char *fs_id);
/* The device path of storage element @e (a row) as its servers see it
 * (hv_lun_device() of its array's first access host). Caller frees. */
char *storage_element_device(const struct storage_view *v, json_object *e);

/* ---- op_fileserver.c: servers ---- */

/*
 * Inside discovery's transaction @t (job @ctx): server @server_id gets
 * its local file server "Local FS <@server_name>" (LOCAL, the OCFS2
 * plug-in, admin server itself) when it has none, and one FileSystem per
 * local storage directory @f reports (disks with a path); known ones keep
 * their ids and get new sizes, ones no longer reported are marked
 * missing (present false) while used, else deleted.
 */
int storage_local_sync(struct job_ctx *ctx, struct db_txn *t,
                       const char *server_id, const char *server_name,
                       const struct hv_node_facts *f);
/*
 * For the undo of a server delete: the rows that go with server
 * @server_id (its local file server and file systems, the admin and
 * refresh lists it is on), as a new reference; restore writes them back
 * (after the server's own rows are back). NULL @snap restores nothing.
 */
json_object *storage_server_snapshot(struct db_txn *t,
                                     const char *server_id);
int storage_server_restore(struct db_txn *t, json_object *snap);

#endif
