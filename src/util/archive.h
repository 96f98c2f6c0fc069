/*
 * archive.h - reading tar archives (.tar, .tgz, .tar.gz, .ova) safely,
 * over libarchive: template packages and OVA assemblies.
 *
 * DESIGN: archive_walk() visits every entry of an archive file once, in
 * order. Before any entry is handed to the caller, the entry's path is
 * checked: it must be relative, may not contain a ".." component, and
 * the entry must be a regular file or a directory. An absolute path, a
 * ".." component, a symbolic link, a hard link, a device, a FIFO or a
 * socket fails the whole walk with ERR_INVALID naming the entry ("archive
 * entry '../x': path leaves the archive"). The caller never writes by an
 * entry's path: it decides where data go (volumes named by id), so an
 * archive can never write outside the repository. Paths are normalized
 * ("./a//b" -> "a/b").
 *
 * Formats: tar (ustar, pax, gnu) with no, gzip, bzip2 or xz compression;
 * nothing else (zip, cpio, ... are ERR_INVALID "not a tar archive").
 *
 * Thread-safety: reentrant.
 */
#ifndef OVMM_UTIL_ARCHIVE_H
#define OVMM_UTIL_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct archive_reader;   /* the entry being visited */

/*
 * Called for each regular file entry (directories are checked but not
 * reported). @path normalized, @size its size. Read the data with
 * archive_reader_read() (optional: unread data are skipped). Return 0 to
 * go on, 1 to stop the walk successfully, -1 (with err_set()) to fail it.
 */
typedef int (*archive_entry_fn)(void *opaque, const char *path,
                                uint64_t size, struct archive_reader *r);

/* Read up to @len bytes of the current entry: bytes read, 0 at its end,
 * -1 with err_set() (ERR_INVALID: corrupt data). */
ssize_t archive_reader_read(struct archive_reader *r, void *buf, size_t len);

/*
 * Walk the archive in file @path. 0 when every entry was visited (or the
 * callback returned 1); -1 with err_set() otherwise, including for an
 * archive with no entry at all ("empty archive").
 */
int archive_walk(const char *path, archive_entry_fn fn, void *opaque);

/*
 * Only the checks: 0 when every entry of @path is acceptable (as above),
 * else -1 with the same ERR_INVALID message. *nfiles (may be NULL):
 * number of regular files.
 */
int archive_check(const char *path, size_t *nfiles);

#endif
