/*
 * archive.c - see archive.h: walking tar archives with libarchive, read
 * only, every entry checked before the caller sees it.
 *
 * DESIGN: libarchive is used through its read API alone, with only the
 * tar format (ustar, pax and GNU tar are one reader) and the "empty"
 * format enabled, so a zip, cpio, ISO or raw file is never recognised
 * and never decoded. Decompression filters are enabled only when
 * libarchive has the library built in (archive_zlib_version() and
 * friends): without it libarchive would fork an external gzip/bzip2/xz,
 * and this daemon runs no external programs for untrusted data.
 *
 * Each entry's path is normalized by archive_path_normalize() (empty and
 * "." components dropped) and refused when absolute or with a ".."
 * component; its type must be a regular file or a directory and it may
 * not be a hard link. Nothing here creates, opens for writing or names a
 * file by an entry's path: the only file touched is the archive itself,
 * opened read-only.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "util/alloc.h"
#include "util/archive.h"
#include "util/err.h"
#include "util/log.h"
#include "util/str.h"

/* Read-ahead block size handed to libarchive. */
#define ARCHIVE_BLOCK 65536
/* Longest normalized entry path (as PATH_MAX, with its NUL). */
#define ARCHIVE_PATH_MAX 4096

/* The entry being visited, as the callback sees it. */
struct archive_reader {
    struct archive *a;
    const char *path;        /* normalized path of the entry */
    const char *archive;     /* the archive file, for messages */
};

/*
 * Normalize @raw into @out (@size bytes): components separated by '/',
 * empty and "." components dropped ("./a//b/." -> "a/b"). NULL when it
 * is acceptable (@out may then be "" for the archive's root, "./"), else
 * the reason it is not, worded to follow "archive entry 'x': ".
 */
static const char *
archive_path_normalize(const char *raw, char *out, size_t size)
{
    const char *p = raw;
    size_t n = 0;

    out[0] = '\0';
    if (raw[0] == '/')
        return "absolute path";
    while (*p) {
        size_t len = strcspn(p, "/");

        if (len == 2 && p[0] == '.' && p[1] == '.')
            return "path leaves the archive";
        if (len > 0 && !(len == 1 && p[0] == '.')) {
            if (n + (n ? 1 : 0) + len >= size)
                return "path too long";
            if (n)
                out[n++] = '/';
            memcpy(out + n, p, len);
            n += len;
            out[n] = '\0';
        }
        p += len;
        if (*p == '/')
            p++;
    }
    return NULL;
}

/*
 * Why @e may not be in an archive we accept, or NULL when it may: only
 * regular files and directories, no links of either kind.
 */
static const char *
archive_refusal(struct archive_entry *e)
{
    if (archive_entry_hardlink(e))
        return "hard links are not allowed";
    if (archive_entry_symlink(e))
        return "symbolic links are not allowed";
    switch (archive_entry_filetype(e)) {
    case AE_IFREG:
    case AE_IFDIR:
        return NULL;
    case AE_IFLNK:
        return "symbolic links are not allowed";
    case AE_IFCHR:
    case AE_IFBLK:
        return "device files are not allowed";
    case AE_IFIFO:
        return "FIFOs are not allowed";
    case AE_IFSOCK:
        return "sockets are not allowed";
    default:
        return "entries of this type are not allowed";
    }
}

/*
 * A new reader for one tar archive with the filters that need no external
 * program. Never NULL (libarchive allocation failure is OOM).
 */
static struct archive *
archive_reader_new(void)
{
    struct archive *a = archive_read_new();

    if (!a)
        fatalx("archive_read_new: out of memory");
    archive_read_support_format_tar(a);
    archive_read_support_format_empty(a);
    if (archive_zlib_version())
        archive_read_support_filter_gzip(a);
    if (archive_bzlib_version())
        archive_read_support_filter_bzip2(a);
    if (archive_liblzma_version())
        archive_read_support_filter_xz(a);
    return a;
}

/* Read the current entry's data (archive.h); libarchive undoes the
 * compression and stops at the entry's end. */
ssize_t
archive_reader_read(struct archive_reader *r, void *buf, size_t len)
{
    la_ssize_t n = archive_read_data(r->a, buf, len);

    if (n < 0) {
        err_set(ERR_INVALID, "archive '%s': entry '%s': corrupt data: %s",
                r->archive, r->path, archive_error_string(r->a) ?
                archive_error_string(r->a) : "read error");
        return -1;
    }
    return (ssize_t)n;
}

/* Set the error for the failed libarchive call on @a (before any entry
 * when @nentries is 0, where failing means "not a tar archive"). */
static void
archive_fail(struct archive *a, const char *path, size_t nentries)
{
    const char *msg = archive_error_string(a);
    int base = archive_format(a) & ARCHIVE_FORMAT_BASE_MASK;

    if (nentries == 0 && base != ARCHIVE_FORMAT_TAR)
        err_set(ERR_INVALID, "archive '%s': not a tar archive%s%s", path,
                msg ? ": " : "", msg ? msg : "");
    else
        err_set(ERR_INVALID, "archive '%s': corrupt after %zu entries: %s",
                path, nentries, msg ? msg : "read error");
}

/*
 * The one walk behind archive_walk() and archive_check(): open @path,
 * check every entry, call @fn (may be NULL) for regular files, count them
 * into *nfiles (may be NULL). 0 or -1 with err_set().
 */
static int
archive_run(const char *path, archive_entry_fn fn, void *opaque,
            size_t *nfiles)
{
    struct archive *a = NULL;
    struct archive_entry *e;
    struct archive_reader r;
    char norm[ARCHIVE_PATH_MAX];
    size_t nentries = 0, files = 0;
    int fd, st, rc = -1;

    if (nfiles)
        *nfiles = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        err_set(errno == ENOENT ? ERR_NOT_FOUND : ERR_IO,
                "cannot open archive '%s': %s", path, strerror(errno));
        return -1;
    }
    a = archive_reader_new();
    if (archive_read_open_fd(a, fd, ARCHIVE_BLOCK) != ARCHIVE_OK) {
        archive_fail(a, path, 0);
        goto cleanup;
    }
    for (;;) {
        const char *raw, *why;
        int64_t size;

        st = archive_read_next_header(a, &e);
        if (st == ARCHIVE_EOF)
            break;
        /* ARCHIVE_WARN still gives a usable entry (e.g. a name that does
         * not convert to the locale); everything below is an error. */
        if (st < ARCHIVE_WARN) {
            archive_fail(a, path, nentries);
            goto cleanup;
        }
        if ((archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) !=
            ARCHIVE_FORMAT_TAR) {
            err_set(ERR_INVALID, "archive '%s': not a tar archive", path);
            goto cleanup;
        }
        nentries++;
        raw = archive_entry_pathname(e);
        if (!raw || !raw[0]) {
            err_set(ERR_INVALID, "archive '%s': entry %zu has no path", path,
                    nentries);
            goto cleanup;
        }
        why = archive_path_normalize(raw, norm, sizeof(norm));
        if (!why)
            why = archive_refusal(e);
        if (!why && archive_entry_filetype(e) == AE_IFREG && !norm[0])
            why = "a file needs a name";
        if (why) {
            err_set(ERR_INVALID, "archive entry '%s': %s", raw, why);
            goto cleanup;
        }
        if (archive_entry_filetype(e) != AE_IFREG)
            continue;
        size = archive_entry_size(e);
        if (size < 0) {
            err_set(ERR_INVALID, "archive entry '%s': bad size", raw);
            goto cleanup;
        }
        files++;
        if (fn) {
            int cb;

            r.a = a;
            r.path = norm;
            r.archive = path;
            cb = fn(opaque, norm, (uint64_t)size, &r);
            if (cb < 0)
                goto cleanup;
            if (cb > 0) {
                rc = 0;
                goto cleanup;
            }
        }
    }
    if (nentries == 0) {
        err_set(ERR_INVALID, "archive '%s': empty archive", path);
        goto cleanup;
    }
    rc = 0;
 cleanup:
    if (nfiles)
        *nfiles = files;
    archive_read_free(a);
    close(fd);
    return rc;
}

/* Walk @path calling @fn for each regular file (archive.h). */
int
archive_walk(const char *path, archive_entry_fn fn, void *opaque)
{
    if (!ALWAYS(fn)) {
        err_set(ERR_INVALID, "archive walk needs a callback");
        return -1;
    }
    return archive_run(path, fn, opaque, NULL);
}

/* The walk without a callback: only the checks and the count. */
int
archive_check(const char *path, size_t *nfiles)
{
    return archive_run(path, NULL, NULL, nfiles);
}
