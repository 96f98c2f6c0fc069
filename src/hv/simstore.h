/*
 * simstore.h - simulated repository storage on real files (hv/simstore.c),
 * private to hv/: included only by hv/libvirt.c, which delegates every
 * storage op of a test:/// connection here, and by hv/simstore.c.
 *
 * Every function takes @sim_path, the node file of the simulated host
 * (struct hv_conn's sim_path): the storage lives under its directory and
 * the host's name is its base name without ".xml" (hv.h, "SIMULATED
 * STORAGE"). Arguments and errors are those of the matching slot of
 * struct hv_storage_ops; names are checked here as well, so nothing can
 * reach outside a repository even if a caller forgot.
 *
 * Thread-safety: no state of its own; the file system is the state.
 * Functions may run concurrently from different threads (two simulated
 * hosts sharing an export); an upload handle is used by one thread.
 */
#ifndef OVMM_HV_SIMSTORE_H
#define OVMM_HV_SIMSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/hv.h"

/* ---- name checks, shared with the libvirt path of hv/libvirt.c ---- */

/* Longest file name or repository id accepted: leaves room for the
 * temporary names made from it (".<name>.part") within NAME_MAX. */
#define HV_STORE_NAME_MAX 200

/* 0 when @id is a valid repository id (hv.h), else -1 (ERR_INVALID). */
int hv_store_check_id(const char *id);
/* 0 when @dir is a valid directory and @name a valid flat file name in
 * it (hv.h: ".ovsrepo" only in HV_DIR_ROOT), else -1 (ERR_INVALID). */
int hv_store_check_name(enum hv_repo_dir dir, const char *name);
/* True when @name is a valid file name in @dir: hv_store_check_name()
 * without the error, to filter what a directory listing shows. */
bool hv_store_name_ok(enum hv_repo_dir dir, const char *name);
/* "<prefix>/<c1>/<c2>..." from the non-empty components of @path (which
 * the caller checked with hv_store_check_fs()); "" adds nothing. Caller
 * frees with xfree(). */
char *hv_store_path_join(const char *prefix, const char *path);
/* 0 when @dir is one of the enum's values, else -1 (ERR_INVALID). */
int hv_store_check_dir(enum hv_repo_dir dir);
/* 0 when @fs is a valid file system ("nfs" with a host and an absolute
 * export path, "local" with an absolute directory, or "ocfs2" with a
 * LUN's device path that hv_store_parse_lun() accepts) and @share is ""
 * or a relative path without "." or ".." components ("ocfs2": "" or NULL
 * only, a repository on a LUN is at its file system's root); else
 * ERR_INVALID. */
int hv_store_check_fs(const struct hv_fs *fs, const char *share);
/* 0 when @host is a valid NFS server name (letters, digits, '.', '-',
 * ':', not starting with '.'), else -1 (ERR_INVALID). */
int hv_store_check_host(const char *host);
/* An iSCSI target name: letters, digits, '.', ':', '-'; ERR_INVALID. */
int hv_store_check_iqn(const char *iqn);

/* A LUN's device name taken apart (hv_store_parse_lun()). */
struct hv_store_lun {
    char host[256];            /* portal host, hv_store_check_host() */
    unsigned port;             /* 1-65535 */
    char iqn[224];             /* target, hv_store_check_iqn() */
    unsigned lun;              /* 0-65535 */
};
/*
 * Parse @path, a LUN's device name as hv_lun_device() makes it
 * (hv.h struct hv_fs, "ocfs2"): "/dev/disk/by-path/ip-", host, ':',
 * port, "-iscsi-", iqn, "-lun-", n. The numbers are decimal without
 * leading zeros; the IQN is everything between that "-iscsi-" and the
 * last "-lun-"; the host ends at the first ":<port>-iscsi-"; host and
 * IQN are checked as names. The one parser of these names (simulated
 * storage and the libvirt path). 0, or -1 with ERR_INVALID.
 */
int hv_store_parse_lun(const char *path, struct hv_store_lun *out);

/* ---- the simulated storage ops (hv.h struct hv_storage_ops) ---- */

/* An upload in progress on simulated storage. */
struct hv_simstore_upload;

int hv_simstore_nfs_exports(const char *sim_path, const char *host,
                            char ***out, size_t *n);
int hv_simstore_iscsi_targets(const char *sim_path, const char *host,
                              char ***out, size_t *n);
int hv_simstore_iscsi_luns(const char *sim_path, const char *host,
                           const char *iqn, struct hv_lun **out, size_t *n);
int hv_simstore_fs_probe(const char *sim_path, const struct hv_fs *fs,
                         const char *share, struct hv_space *space,
                         char **ovsrepo);
int hv_simstore_repo_mount(const char *sim_path, const char *repo_id,
                           const struct hv_fs *fs, const char *share,
                           bool build);
int hv_simstore_repo_unmount(const char *sim_path, const char *repo_id);
int hv_simstore_repo_mounted(const char *sim_path, const char *repo_id);
int hv_simstore_repo_space(const char *sim_path, const char *repo_id,
                           struct hv_space *out);
int hv_simstore_repo_destroy(const char *sim_path, const char *repo_id);
int hv_simstore_file_list(const char *sim_path, const char *repo_id,
                          enum hv_repo_dir dir, struct hv_file **out,
                          size_t *n);
int hv_simstore_file_info(const char *sim_path, const char *repo_id,
                          enum hv_repo_dir dir, const char *name,
                          struct hv_file *out);
int hv_simstore_file_create(const char *sim_path, const char *repo_id,
                            enum hv_repo_dir dir, const char *name,
                            uint64_t capacity, bool sparse,
                            const char *format, const char *backing);
int hv_simstore_file_copy(const char *sim_path, const char *src_repo,
                          enum hv_repo_dir src_dir, const char *src_name,
                          const char *dst_repo, enum hv_repo_dir dst_dir,
                          const char *dst_name, bool sparse,
                          bool (*aborting)(void *opaque), void *opaque);
int hv_simstore_file_resize(const char *sim_path, const char *repo_id,
                            enum hv_repo_dir dir, const char *name,
                            uint64_t capacity);
int hv_simstore_file_delete(const char *sim_path, const char *repo_id,
                            enum hv_repo_dir dir, const char *name);
int hv_simstore_file_read(const char *sim_path, const char *repo_id,
                          enum hv_repo_dir dir, const char *name, size_t max,
                          char **data, size_t *len);
int hv_simstore_file_write(const char *sim_path, const char *repo_id,
                           enum hv_repo_dir dir, const char *name,
                           const void *data, size_t len);
/* Make the OCFS2 file system of LUN @fs: the directory
 * "<lun file>.ocfs2" with a marker ".ocfs2" ("label=..." and
 * "cluster=..." lines, control characters replaced). ERR_NOT_FOUND: no
 * such LUN; ERR_EXISTS: it has a file system already (also when a
 * concurrent make won). */
int hv_simstore_fs_make(const char *sim_path, const struct hv_fs *fs,
                        const char *label, const char *cluster);
/* Remove LUN @fs's file system directory and everything in it (links
 * removed, never followed). ERR_STATE while a repository on it is mounted
 * on this host (its mount records; other hosts' are not looked at). No
 * file system, or no such target: 0. */
int hv_simstore_fs_wipe(const char *sim_path, const struct hv_fs *fs);
/* Begin an upload; NULL with err_set(). The handle is freed by exactly
 * one of finish and cancel. */
struct hv_simstore_upload *hv_simstore_upload_begin(const char *sim_path,
                                                    const char *repo_id,
                                                    enum hv_repo_dir dir,
                                                    const char *name);
int hv_simstore_upload_write(struct hv_simstore_upload *u, const void *buf,
                             size_t len);
/* Publish the file under its name and free @u; on failure the partial
 * file is gone too. */
int hv_simstore_upload_finish(struct hv_simstore_upload *u);
/* Remove the partial file and free @u; accepts NULL. */
void hv_simstore_upload_cancel(struct hv_simstore_upload *u);

#endif
