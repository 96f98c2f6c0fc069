/*
 * simstore.c - repository storage of simulated hosts, on real files
 * (simstore.h; the contract is hv.h, "storage: repositories and the files
 * in them"). Also the storage helpers every path shares: the directory
 * names, hv_strv_free() and the name checks.
 *
 * DESIGN
 *
 * libvirt's test driver keeps pools and volumes in memory, per
 * connection, and cannot upload, download or resize, so a test:///
 * connection's storage is served here on real files under <simdir>, the
 * directory of the host's node file (hv.h gives the mapping: NFS export
 * H:/E is <simdir>/nfs/H/E, local directory /D of host S is
 * <simdir>/local/S/D, the OCFS2 file system on LUN n of target T at
 * portal H is <simdir>/iscsi/H/T/lun-<n>.ocfs2). A mount is a record file
 * <simdir>/mounts/<S>/<id> whose first line is the real path of the
 * repository root and whose second line is the real path of the file
 * system it lies on (the export, the local directory or the OCFS2
 * directory, which repo_destroy never removes; repo_space tells an OCFS2
 * one by that path and measures it by its LUN). Two
 * simulated hosts that mount one export therefore see the same files, and
 * mounts outlive connections, as they do on real hosts.
 *
 * Containment: repository ids and file names are checked (hv.h) before
 * anything is built from them, and every path below a file system's base
 * is walked one component at a time with openat(O_NOFOLLOW), so a
 * symbolic link planted inside a repository is never followed out of it;
 * files are opened with O_NOFOLLOW too.
 *
 * Files: formats are detected from the content (the qcow2 magic; then a
 * name ending ".iso" is "iso", anything else "raw"); allocation is
 * st_blocks * 512. A qcow2 overlay is a minimal, valid qcow2 v3 image
 * written here (header, refcount table, one refcount block, an empty L1
 * table; 64 KiB clusters) naming its backing file by its bare name, which
 * qemu resolves relative to the overlay's directory.
 *
 * Atomicity: whatever is written in several steps is written under a
 * hidden temporary name and renamed into place: uploads and copies as
 * ".<name>.part" (published with a rename that never replaces, so a name
 * taken meanwhile is ERR_EXISTS), small files and mount records as
 * ".<name>.<random>.tmp" (replacing). A ".part" file is flock()ed by its
 * writer, so a second writer of the same name is refused while a stale
 * one, left by a writer that died, is taken over.
 *
 * Threads: no state of its own; see simstore.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "hv/hv.h"
#include "hv/simstore.h"
#include "util/alloc.h"
#include "util/autoptr.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/str.h"

LOG_MODULE("hv");

/* Copy and zero-detection granularity; also how often a copy asks
 * whether it is being aborted. */
#define SS_CHUNK (1024 * 1024)
/* The most of ".ovsrepo" fs_probe returns (hv.h). */
#define SS_OVSREPO_MAX (64 * 1024)
/* qcow2 images written here use 64 KiB clusters, like qemu-img. */
#define SS_QCOW2_CLUSTER_BITS 16
#define SS_QCOW2_MAGIC 0x514649fbU        /* "QFI\xfb" */
#define SS_QCOW2_EXT_BACKING_FMT 0xe2792acaU
#define SS_QCOW2_V3_HEADER_LEN 104
/* A LUN's device name (hv.h struct hv_fs, "ocfs2"):
 * SS_LUN_PREFIX <host> ':' <port> SS_ISCSI_SEP <iqn> SS_LUN_SEP <n>. */
#define SS_LUN_PREFIX "/dev/disk/by-path/ip-"
#define SS_ISCSI_SEP "-iscsi-"
#define SS_LUN_SEP "-lun-"
/* Largest LUN number; the simulated target lists lun-N files up to it. */
#define SS_LUN_MAX 65535
/* Longest iSCSI name (RFC 3720). */
#define SS_IQN_MAX 223
/* Deepest directory tree walked below a simulated OCFS2 file system (for
 * its space, and when it is wiped). */
#define SS_WALK_DEPTH 64

/* ---- shared helpers: directory names, string vectors, name checks ---- */

static const char *const ss_dir_names[HV_DIR_COUNT] = {
    "", "Templates", "Assemblies", "ISOs", "VirtualDisks", "VirtualMachines",
};

/* See hv.h. */
const char *
hv_repo_dir_name(enum hv_repo_dir d)
{
    if (NEVER((unsigned)d >= HV_DIR_COUNT))
        return "?";
    return ss_dir_names[d];
}

/* See hv.h. */
void
hv_strv_free(char **v, size_t n)
{
    size_t i;

    if (!v)
        return;
    for (i = 0; i < n; i++)
        xfree(v[i]);
    xfree(v);
}

/* @s with every byte outside printable ASCII replaced by '?', into @out
 * of @size bytes: a name we refuse may hold anything, and it goes into an
 * error message and from there into logs. */
static const char *
ss_printable(const char *s, char *out, size_t size)
{
    size_t i;

    str_copy(out, s ? s : "(null)", size);
    for (i = 0; out[i]; i++) {
        unsigned char ch = (unsigned char)out[i];

        if (ch < 0x20 || ch >= 0x7f)
            out[i] = '?';
    }
    return out;
}

/* True when @s holds a control character (C0 or DEL). */
static bool
ss_has_control(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    }
    return false;
}

/* The rule of hv.h for repository ids and file names, without the error:
 * not empty, at most HV_STORE_NAME_MAX bytes, no '/', no "..", no
 * control character, no leading '.' except ".ovsrepo" when
 * @allow_ovsrepo. */
static bool
ss_name_valid(const char *s, bool allow_ovsrepo)
{
    size_t n;

    if (!s)
        return false;
    n = strlen(s);
    if (n == 0 || n > HV_STORE_NAME_MAX)
        return false;
    if (s[0] == '.' && !(allow_ovsrepo && strcmp(s, ".ovsrepo") == 0))
        return false;
    if (strchr(s, '/') || strstr(s, ".."))
        return false;
    return !ss_has_control(s);
}

/* See simstore.h. */
int
hv_store_check_id(const char *id)
{
    char p[64];

    if (!ss_name_valid(id, false)) {
        err_set(ERR_INVALID, "invalid repository id '%s'",
                ss_printable(id, p, sizeof(p)));
        return -1;
    }
    return 0;
}

/* See simstore.h. */
bool
hv_store_name_ok(enum hv_repo_dir dir, const char *name)
{
    return (unsigned)dir < HV_DIR_COUNT &&
           ss_name_valid(name, dir == HV_DIR_ROOT);
}

/* See simstore.h. */
int
hv_store_check_dir(enum hv_repo_dir dir)
{
    if ((unsigned)dir >= HV_DIR_COUNT) {
        err_set(ERR_INVALID, "invalid repository directory %d", (int)dir);
        return -1;
    }
    return 0;
}

/* See simstore.h. */
int
hv_store_check_name(enum hv_repo_dir dir, const char *name)
{
    char p[64];

    if (hv_store_check_dir(dir) < 0)
        return -1;
    if (!ss_name_valid(name, dir == HV_DIR_ROOT)) {
        err_set(ERR_INVALID, "invalid file name '%s'",
                ss_printable(name, p, sizeof(p)));
        return -1;
    }
    return 0;
}

/* The rule of hv_store_check_host() without the error: letters, digits,
 * '.', '-', ':', '_', not empty, no leading '.', no "..", at most 255
 * bytes. */
static bool
ss_host_valid(const char *host)
{
    const char *s;

    if (!host || !host[0] || host[0] == '.' || strlen(host) > 255)
        return false;
    for (s = host; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '.' || *s == '-' ||
              *s == ':' || *s == '_'))
            return false;
    }
    return !strstr(host, "..");
}

/* See simstore.h. */
int
hv_store_check_host(const char *host)
{
    char p[64];

    if (!ss_host_valid(host)) {
        err_set(ERR_INVALID, "invalid NFS server name '%s'",
                ss_printable(host, p, sizeof(p)));
        return -1;
    }
    return 0;
}

/* The rule of hv_store_check_iqn() without the error: letters, digits,
 * '.', ':', '-' only, not starting with '.', 1 to SS_IQN_MAX bytes
 * (RFC 3720), so that it is also a safe directory name. */
static bool
ss_iqn_valid(const char *iqn)
{
    size_t i, len = iqn ? strlen(iqn) : 0;

    if (len == 0 || len > SS_IQN_MAX || iqn[0] == '.')
        return false;
    for (i = 0; i < len; i++) {
        char ch = iqn[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '.' || ch == ':' ||
              ch == '-'))
            return false;
    }
    return true;
}

/* See simstore.h. */
int
hv_store_check_iqn(const char *iqn)
{
    if (!ss_iqn_valid(iqn)) {
        err_set(ERR_INVALID, "invalid iSCSI target name");
        return -1;
    }
    return 0;
}

/*
 * The decimal number of the @n bytes at @s into *out: digits only, no
 * sign, no leading zero (so that one number has one spelling and one
 * LUN one device name), at most @max. False when it is not one.
 */
static bool
ss_parse_dec(const char *s, size_t n, unsigned max, unsigned *out)
{
    unsigned long v = 0;
    size_t i;

    if (n == 0 || n > 10 || (n > 1 && s[0] == '0'))
        return false;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v > max)
        return false;
    *out = (unsigned)v;
    return true;
}

/* See simstore.h. */
int
hv_store_parse_lun(const char *path, struct hv_store_lun *out)
{
    const char *rest, *lun = NULL, *p, *iscsi = NULL, *colon = NULL;
    char pr[128];
    size_t hlen, ilen;

    memset(out, 0, sizeof(*out));
    if (!path || !str_has_prefix(path, SS_LUN_PREFIX))
        goto fail;
    rest = path + strlen(SS_LUN_PREFIX);
    /* The LUN number follows the last "-lun-": an IQN may hold "-lun-"
     * itself, a number never does. */
    for (p = strstr(rest, SS_LUN_SEP); p; p = strstr(p + 1, SS_LUN_SEP))
        lun = p;
    if (!lun || !ss_parse_dec(lun + strlen(SS_LUN_SEP),
                              strlen(lun + strlen(SS_LUN_SEP)), SS_LUN_MAX,
                              &out->lun))
        goto fail;
    /* The portal ends at the first "-iscsi-" that follows ":<port>": a
     * host name may hold ':' (IPv6) and '-', and an IQN "-iscsi-". */
    for (p = strstr(rest, SS_ISCSI_SEP); p && p < lun;
         p = strstr(p + 1, SS_ISCSI_SEP)) {
        const char *c = p;

        while (c > rest && c[-1] >= '0' && c[-1] <= '9')
            c--;
        if (c > rest + 1 && c < p && c[-1] == ':' &&
            ss_parse_dec(c, (size_t)(p - c), 65535, &out->port) &&
            out->port > 0) {
            iscsi = p;
            colon = c - 1;
            break;
        }
    }
    if (!iscsi)
        goto fail;
    hlen = (size_t)(colon - rest);
    p = iscsi + strlen(SS_ISCSI_SEP);
    if (p > lun)
        goto fail;
    ilen = (size_t)(lun - p);
    if (hlen >= sizeof(out->host) || ilen >= sizeof(out->iqn))
        goto fail;
    memcpy(out->host, rest, hlen);
    out->host[hlen] = '\0';
    memcpy(out->iqn, p, ilen);
    out->iqn[ilen] = '\0';
    if (!ss_host_valid(out->host) || !ss_iqn_valid(out->iqn))
        goto fail;
    return 0;

 fail:
    memset(out, 0, sizeof(*out));
    err_set(ERR_INVALID, "invalid LUN device path '%s'",
            ss_printable(path, pr, sizeof(pr)));
    return -1;
}

/* See hv.h. Port 0 means the iSCSI default, 3260, as for the iscsi_*
 * ops; a port above 65535 or a LUN above SS_LUN_MAX is ERR_INVALID, and
 * so is a host whose device name would read back differently (a host
 * name holding ":<digits>-iscsi-"). */
char *
hv_lun_device(const char *host, unsigned port, const char *iqn,
              unsigned lun)
{
    struct hv_store_lun l;
    char *dev;

    if (hv_store_check_host(host) < 0 || hv_store_check_iqn(iqn) < 0)
        return NULL;
    if (port == 0)
        port = 3260;
    if (port > 65535 || lun > SS_LUN_MAX) {
        err_set(ERR_INVALID, "invalid iSCSI port %u or LUN number %u", port,
                lun);
        return NULL;
    }
    dev = xasprintf(SS_LUN_PREFIX "%s:%u" SS_ISCSI_SEP "%s" SS_LUN_SEP "%u",
                    host, port, iqn, lun);
    if (hv_store_parse_lun(dev, &l) < 0 || strcmp(l.host, host) != 0 ||
        l.port != port || strcmp(l.iqn, iqn) != 0 || l.lun != lun) {
        err_set(ERR_INVALID, "cannot name LUN %u of '%s' at '%s': the "
                "device name would be ambiguous", lun, iqn, host);
        xfree(dev);
        return NULL;
    }
    return dev;
}

/*
 * True when @path is a path of the kind @absolute asks for (leading '/'
 * or none; "" is a valid relative path) whose components are neither "."
 * nor "..", hold no control character and fit NAME_MAX.
 */
static bool
ss_path_valid(const char *path, bool absolute)
{
    const char *p = path, *end;
    size_t n;

    if (!path || strlen(path) > 1024 || ss_has_control(path))
        return false;
    if (absolute != (path[0] == '/'))
        return false;
    while (*p) {
        while (*p == '/')
            p++;
        end = strchr(p, '/');
        n = end ? (size_t)(end - p) : strlen(p);
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        if (n > NAME_MAX)
            return false;
        p += n;
    }
    return true;
}

/* See simstore.h. */
int
hv_store_check_fs(const struct hv_fs *fs, const char *share)
{
    char p[128];

    if (!fs || !fs->kind) {
        err_set(ERR_INVALID, "invalid file system: no kind");
        return -1;
    }
    if (strcmp(fs->kind, "ocfs2") == 0) {
        struct hv_store_lun l;

        /* The path is a device name, parsed whole; the repository is
         * the file system's root. */
        if (hv_store_parse_lun(fs->path, &l) < 0)
            return -1;
        if (share && share[0]) {
            err_set(ERR_INVALID, "invalid share path '%s': a repository on "
                    "a LUN is at the root of its file system",
                    ss_printable(share, p, sizeof(p)));
            return -1;
        }
        return 0;
    }
    if (strcmp(fs->kind, "nfs") == 0) {
        if (hv_store_check_host(fs->host) < 0)
            return -1;
    } else if (strcmp(fs->kind, "local") != 0) {
        err_set(ERR_INVALID, "invalid file system kind '%s'",
                ss_printable(fs->kind, p, sizeof(p)));
        return -1;
    }
    if (!ss_path_valid(fs->path, true)) {
        err_set(ERR_INVALID, "invalid file system path '%s'",
                ss_printable(fs->path, p, sizeof(p)));
        return -1;
    }
    if (!ss_path_valid(share ? share : "", false)) {
        err_set(ERR_INVALID, "invalid share path '%s'",
                ss_printable(share, p, sizeof(p)));
        return -1;
    }
    return 0;
}

/* ---- the simulated host, errors, low-level file helpers ---- */

/* Where one simulated host keeps its storage. */
struct ss_host {
    char *simdir;              /* real path of the node file's directory */
    char *name;                /* the host's name: "sim-1" */
};

/* Free what @h holds (scope cleanup of SS_HOST variables too). */
static void
ss_host_release(struct ss_host *h)
{
    xfree(h->simdir);
    xfree(h->name);
    h->simdir = h->name = NULL;
}

/* Fill @h from the node file path @sim_path. 0 or -1 (ERR_INTERNAL: the
 * connection's node file is not usable, which open() should have
 * refused). */
static int
ss_host_init(struct ss_host *h, const char *sim_path)
{
    char *AUTOFREE dir = NULL;
    char real[PATH_MAX];
    char *slash, *dot;

    h->simdir = h->name = NULL;
    if (!sim_path || !(slash = strrchr(sim_path, '/'))) {
        err_set(ERR_INTERNAL, "invalid simulated host node file '%s'",
                sim_path ? sim_path : "(null)");
        return -1;
    }
    dir = slash == sim_path ? xstrdup("/")
                            : xstrndup(sim_path, (size_t)(slash - sim_path));
    h->name = xstrdup(slash + 1);
    dot = strrchr(h->name, '.');
    if (dot && strcmp(dot, ".xml") == 0)
        *dot = '\0';
    if (!ss_name_valid(h->name, false)) {
        err_set(ERR_INTERNAL, "invalid simulated host name in '%s'",
                sim_path);
        goto fail;
    }
    if (!realpath(dir, real)) {
        err_set(ERR_INTERNAL, "cannot resolve '%s': %s", dir,
                strerror(errno));
        goto fail;
    }
    h->simdir = xstrdup(real);
    return 0;

 fail:
    ss_host_release(h);
    return -1;
}

/* A struct ss_host variable released at the end of its scope. */
#define SS_HOST __attribute__((cleanup(ss_host_release))) struct ss_host

/* Our code for a failed file operation's errno. */
static enum err_code
ss_code(int e)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
    case ELOOP:        /* a symbolic link where we expect a file */
        return ERR_NOT_FOUND;
    case EEXIST:
    case ENOTEMPTY:
        return ERR_EXISTS;
    case ENAMETOOLONG:
        return ERR_INVALID;
    default:
        return ERR_IO;
    }
}

/* close() that keeps errno, for cleanup paths. */
static void
ss_close(int fd)
{
    int e = errno;

    if (fd >= 0)
        close(fd);
    errno = e;
}

/* Write all @len bytes of @buf to @fd (at the current offset). 0, or -1
 * with errno. */
static int
ss_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    ssize_t w;

    while (len > 0) {
        w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* pwrite() of all @len bytes at @off. 0, or -1 with errno. */
static int
ss_pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
    const char *p = buf;
    ssize_t w;

    while (len > 0) {
        w = pwrite(fd, p, len, off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        off += w;
        len -= (size_t)w;
    }
    return 0;
}

/* pread() of up to @len bytes at @off, retrying short reads; the number
 * read (less than @len only at end of file), or -1 with errno. */
static ssize_t
ss_pread_full(int fd, void *buf, size_t len, off_t off)
{
    char *p = buf;
    size_t got = 0;
    ssize_t r;

    while (got < len) {
        r = pread(fd, p + got, len - got, off + (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/*
 * Open the directory @rel (a relative path; "" is @fd itself) below the
 * directory @fd one component at a time, never following a symbolic
 * link; with @create, missing components are made (mode 0755). A new
 * descriptor, or -1 with errno (no err_set: callers word the error).
 */
static int
ss_walk(int fd, const char *rel, bool create)
{
    char *AUTOFREE copy = xstrdup(rel);
    char *p, *next;
    int cur, nfd, e;

    cur = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cur < 0)
        return -1;
    for (p = copy; p; p = next) {
        next = strchr(p, '/');
        if (next)
            *next++ = '\0';
        if (!*p)
            continue;
        nfd = openat(cur, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (nfd < 0 && errno == ENOENT && create) {
            if (mkdirat(cur, p, 0755) < 0 && errno != EEXIST) {
                ss_close(cur);
                return -1;
            }
            nfd = openat(cur, p,
                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        e = errno;
        close(cur);
        if (nfd < 0) {
            errno = e;
            return -1;
        }
        cur = nfd;
    }
    return cur;
}

/* See simstore.h. */
char *
hv_store_path_join(const char *prefix, const char *path)
{
    char *out = xstrdup(prefix), *tmp;
    const char *p = path, *end;
    size_t n;

    while (*p) {
        while (*p == '/')
            p++;
        end = strchr(p, '/');
        n = end ? (size_t)(end - p) : strlen(p);
        if (n > 0) {
            tmp = xasprintf("%s/%.*s", out, (int)n, p);
            xfree(out);
            out = tmp;
        }
        p += n;
    }
    return out;
}

/* Read all of @fd, at most @max bytes: -1 with errno EFBIG when there is
 * more. *data is NUL-terminated (not counted in *len). Caller frees. */
static int
ss_read_fd(int fd, size_t max, char **data, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = xmalloc(cap + 1);
    ssize_t r;

    for (;;) {
        if (n == cap) {
            if (cap > max) {
                xfree(buf);
                errno = EFBIG;
                return -1;
            }
            cap *= 2;
            buf = xrealloc(buf, cap + 1);
        }
        r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            xfree(buf);
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (n > max) {
        xfree(buf);
        errno = EFBIG;
        return -1;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

/* Space of the file system holding @fd. 0, or -1 with errno. */
static int
ss_space(int fd, struct hv_space *out)
{
    struct statvfs sv;

    if (fstatvfs(fd, &sv) < 0)
        return -1;
    out->capacity_bytes = (uint64_t)sv.f_blocks * sv.f_frsize;
    out->available_bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
    return 0;
}

/*
 * Write @data to "<dirfd>/<name>" atomically: a temporary file, fsync,
 * rename over @name, fsync of the directory. 0, or -1 with errno.
 */
static int
ss_replace(int dirfd, const char *name, const void *data, size_t len)
{
    char hex[17], *AUTOFREE tmp = NULL;
    int fd;

    rand_hex(hex, 8);
    tmp = xasprintf(".%s.%s.tmp", name, hex);
    fd = openat(dirfd, tmp,
                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    if (ss_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
        ss_close(fd);
        goto fail;
    }
    if (close(fd) < 0)
        goto fail;
    if (renameat(dirfd, tmp, dirfd, name) < 0)
        goto fail;
    fsync(dirfd);
    return 0;

 fail:
    unlinkat(dirfd, tmp, 0);
    return -1;
}

/* ---- OCFS2 file systems on simulated LUNs ----
 *
 * LUN n of target T at portal H is the regular file
 * <simdir>/iscsi/H/T/lun-<n>; the OCFS2 file system on it is the
 * directory lun-<n>.ocfs2 next to it, holding a marker ".ocfs2" (label
 * and cluster; hidden, so no listing shows it) and the repository tree at
 * its root. Only fs_make creates that directory (mkdir is the lock
 * against a concurrent make) and only fs_wipe removes it; mounting,
 * probing and repo_destroy never do. Its space is the LUN's size less
 * what the files in it allocate, since the real file system under the
 * simulation knows nothing of the LUN's size.
 */

/* The directory <simdir>/iscsi/<host>[/<iqn>] opened, or -1 (errno). */
static int
ss_iscsi_open(const struct ss_host *h, const char *host, const char *iqn)
{
    char *AUTOFREE top = xasprintf("%s/iscsi/%s", h->simdir, host);
    int fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC), tfd;

    if (fd < 0 || !iqn)
        return fd;
    tfd = ss_walk(fd, iqn, false);
    close(fd);
    return tfd;
}

/* The names of LUN @l's file and of its file system's directory, in the
 * target's directory. */
static void
ss_lun_names(const struct hv_store_lun *l, char *lun, size_t lsize,
             char *fsdir, size_t fsize)
{
    snprintf(lun, lsize, "lun-%u", l->lun);
    snprintf(fsdir, fsize, "lun-%u.ocfs2", l->lun);
}

/* Check that @fs is an OCFS2 file system on a LUN and parse its device
 * into @l: 0, or -1 with ERR_INVALID. */
static int
ss_ocfs2_check(const struct hv_fs *fs, struct hv_store_lun *l)
{
    if (!fs || !fs->kind || strcmp(fs->kind, "ocfs2") != 0) {
        err_set(ERR_INVALID, "invalid file system: only an OCFS2 file "
                "system on a LUN can be made or wiped");
        return -1;
    }
    return hv_store_parse_lun(fs->path, l);
}

/*
 * The directory of LUN @l's target, opened, once the LUN file is known
 * to be there: -1 with ERR_NOT_FOUND when @h cannot reach it (no portal,
 * target or regular LUN file), ERR_IO on other errors. @dev names the
 * LUN in messages.
 */
static int
ss_lun_open(const struct ss_host *h, const struct hv_store_lun *l,
            const char *dev)
{
    char lun[32], fsdir[40];
    struct stat st;
    int tfd, e;

    ss_lun_names(l, lun, sizeof(lun), fsdir, sizeof(fsdir));
    if ((tfd = ss_iscsi_open(h, l->host, l->iqn)) < 0)
        e = errno;
    else if (fstatat(tfd, lun, &st, AT_SYMLINK_NOFOLLOW) < 0)
        e = errno;
    else if (!S_ISREG(st.st_mode))
        e = ENOENT;              /* a directory or a link is no LUN */
    else
        return tfd;
    ss_close(tfd);
    if (ss_code(e) == ERR_NOT_FOUND)
        err_set(ERR_NOT_FOUND, "no LUN '%s' reachable from '%s'", dev,
                h->name);
    else
        err_set(ERR_IO, "cannot reach LUN '%s' from '%s': %s", dev, h->name,
                strerror(e));
    return -1;
}

/*
 * Open the file system of the LUN of @fs (kind "ocfs2", checked) from
 * @h: the descriptor of its directory and that directory's path in
 * *path (caller frees); -1 with ERR_NOT_FOUND when the LUN is not
 * reachable or holds no file system. Never creates anything.
 */
static int
ss_ocfs2_open(const struct ss_host *h, const struct hv_fs *fs, char **path)
{
    struct hv_store_lun l;
    char lun[32], fsdir[40];
    int tfd, fd, e;

    *path = NULL;
    if (hv_store_parse_lun(fs->path, &l) < 0)
        return -1;
    if ((tfd = ss_lun_open(h, &l, fs->path)) < 0)
        return -1;
    ss_lun_names(&l, lun, sizeof(lun), fsdir, sizeof(fsdir));
    fd = openat(tfd, fsdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    e = errno;
    close(tfd);
    if (fd < 0) {
        if (ss_code(e) == ERR_NOT_FOUND)
            err_set(ERR_NOT_FOUND, "LUN '%s' holds no file system", fs->path);
        else
            err_set(ERR_IO, "cannot open the file system of LUN '%s' from "
                    "'%s': %s", fs->path, h->name, strerror(e));
        return -1;
    }
    *path = xasprintf("%s/iscsi/%s/%s/%s", h->simdir, l.host, l.iqn, fsdir);
    return fd;
}

/* True when @base, the real path of a file system (ss_fs_open(), a
 * mount record's second line), is an OCFS2 file system on a simulated
 * LUN: <simdir>/iscsi/.../lun-<n>.ocfs2. NFS exports and local
 * directories lie under <simdir>/nfs and <simdir>/local, never here. */
static bool
ss_is_ocfs2(const struct ss_host *h, const char *base)
{
    char *AUTOFREE top = xasprintf("%s/iscsi/", h->simdir);
    size_t n = strlen(base), m = strlen(".ocfs2");

    return str_has_prefix(base, top) && n > m &&
           strcmp(base + n - m, ".ocfs2") == 0;
}

/*
 * Add to *used the bytes the regular files below directory @fd allocate
 * (st_blocks * 512), without following symbolic links, at most
 * SS_WALK_DEPTH levels down (deeper: ELOOP). An entry that vanishes
 * meanwhile is skipped. 0, or -1 with errno.
 */
static int
ss_allocated(int fd, int depth, uint64_t *used)
{
    struct dirent *de;
    struct stat st;
    int dfd, sub, rc = 0, e;
    DIR *d;

    if (depth > SS_WALK_DEPTH) {
        errno = ELOOP;
        return -1;
    }
    /* A descriptor of our own: readdir moves its offset. */
    if ((dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return -1;
    if (!(d = fdopendir(dfd))) {
        ss_close(dfd);
        return -1;
    }
    while (rc == 0 && (de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno != ENOENT)
                rc = -1;
            continue;
        }
        if (S_ISREG(st.st_mode)) {
            *used += (uint64_t)st.st_blocks * 512;
        } else if (S_ISDIR(st.st_mode)) {
            sub = openat(dfd, de->d_name,
                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) {
                if (errno != ENOENT)
                    rc = -1;
                continue;
            }
            rc = ss_allocated(sub, depth + 1, used);
            ss_close(sub);
        }
    }
    e = errno;
    closedir(d);
    errno = e;
    return rc;
}

/*
 * Space of the OCFS2 file system whose directory is @fd, at @base (see
 * ss_is_ocfs2()): capacity the LUN file's size, available that less what
 * the tree allocates (never below 0). 0, or -1 with errno.
 */
static int
ss_ocfs2_space(int fd, const char *base, struct hv_space *out)
{
    char *AUTOFREE lun = xstrndup(base, strlen(base) - strlen(".ocfs2"));
    uint64_t used = 0;
    struct stat st;

    if (lstat(lun, &st) < 0)
        return -1;
    if (!S_ISREG(st.st_mode)) {
        errno = ENOENT;
        return -1;
    }
    if (ss_allocated(fd, 0, &used) < 0)
        return -1;
    out->capacity_bytes = (uint64_t)st.st_size;
    out->available_bytes =
        used < out->capacity_bytes ? out->capacity_bytes - used : 0;
    return 0;
}

/* Space of the file system at @base, open as @fd: an OCFS2 file system
 * on a simulated LUN by its LUN, anything else by statvfs. 0, or -1
 * with errno. */
static int
ss_fs_space(const struct ss_host *h, int fd, const char *base,
            struct hv_space *out)
{
    if (ss_is_ocfs2(h, base))
        return ss_ocfs2_space(fd, base, out);
    return ss_space(fd, out);
}

/* ---- file systems and mounts ---- */

/*
 * Open the file system @fs of host @h: for NFS the export (which must
 * exist), for a local directory the directory (made with @create), for
 * OCFS2 the LUN's file system (which must exist; @create is ignored:
 * only fs_make makes one). The descriptor, and its real path in *path
 * (caller frees); -1 with ERR_NOT_FOUND when it does not exist.
 */
static int
ss_fs_open(const struct ss_host *h, const struct hv_fs *fs, bool create,
           char **path)
{
    char *AUTOFREE top = NULL;
    bool nfs = strcmp(fs->kind, "nfs") == 0;
    int topfd, fd, e;

    *path = NULL;
    if (strcmp(fs->kind, "ocfs2") == 0)
        return ss_ocfs2_open(h, fs, path);
    if (nfs)
        top = xasprintf("%s/nfs/%s", h->simdir, fs->host);
    else
        top = xasprintf("%s/local/%s", h->simdir, h->name);
    if (!nfs && create && fs_mkdir_p(top, 0755) < 0)
        return -1;
    topfd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (topfd < 0)
        goto fail;
    fd = ss_walk(topfd, fs->path, create && !nfs);
    ss_close(topfd);
    if (fd < 0)
        goto fail;
    *path = hv_store_path_join(top, fs->path);
    return fd;

 fail:
    e = errno;
    if (nfs)
        err_set(ss_code(e), "cannot open NFS export '%s:%s' from '%s': %s",
                fs->host, fs->path, h->name, strerror(e));
    else
        err_set(ss_code(e), "cannot open local directory '%s' of '%s': %s",
                fs->path, h->name, strerror(e));
    return -1;
}

/* The mount record of @id on @h. Caller frees. */
static char *
ss_mount_path(const struct ss_host *h, const char *id)
{
    return xasprintf("%s/mounts/%s/%s", h->simdir, h->name, id);
}

/*
 * Read the mount record of @id on @h: 1 with *root and *base (the real
 * paths of the repository root and of its file system; caller frees),
 * 0 when not mounted, -1 on error.
 */
static int
ss_mount_read(const struct ss_host *h, const char *id, char **root,
              char **base)
{
    char *AUTOFREE path = ss_mount_path(h, id);
    char *AUTOFREE data = NULL;
    char *nl;
    size_t len;
    int fd;

    *root = *base = NULL;
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return 0;
    if (fd < 0 || ss_read_fd(fd, 2 * PATH_MAX + 2, &data, &len) < 0) {
        err_set(ERR_IO, "cannot read mount record '%s': %s", path,
                strerror(errno));
        ss_close(fd);
        return -1;
    }
    close(fd);
    nl = strchr(data, '\n');
    if (nl)
        *nl++ = '\0';
    if (data[0] != '/') {
        err_set(ERR_INTERNAL, "invalid mount record '%s'", path);
        return -1;
    }
    *root = xstrdup(data);
    if (nl && nl[0] == '/') {
        char *end = strchr(nl, '\n');

        *base = end ? xstrndup(nl, (size_t)(end - nl)) : xstrdup(nl);
    } else {
        *base = xstrdup(data);
    }
    return 1;
}

/* Write the mount record of @id on @h. 0 or -1. */
static int
ss_mount_write(const struct ss_host *h, const char *id, const char *root,
               const char *base)
{
    char *AUTOFREE dir = xasprintf("%s/mounts/%s", h->simdir, h->name);
    char *AUTOFREE text = xasprintf("%s\n%s\n", root, base);
    int fd, rc;

    if (fs_mkdir_p(dir, 0755) < 0)
        return -1;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    rc = fd < 0 ? -1 : ss_replace(fd, id, text, strlen(text));
    if (rc < 0)
        err_set(ERR_IO, "cannot write the mount record of '%s' on '%s': %s",
                id, h->name, strerror(errno));
    ss_close(fd);
    return rc;
}

/*
 * Open directory @dir of repository @id, mounted on @h. The descriptor,
 * or -1: ERR_NOT_FOUND when the repository is not mounted, its root is
 * gone or the directory is missing.
 */
static int
ss_repo_open(const struct ss_host *h, const char *id, enum hv_repo_dir dir)
{
    char *AUTOFREE root = NULL, *AUTOFREE base = NULL;
    int rc, rootfd, fd;

    rc = ss_mount_read(h, id, &root, &base);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        err_set(ERR_NOT_FOUND, "repository '%s' is not mounted on '%s'", id,
                h->name);
        return -1;
    }
    rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) {
        err_set(ss_code(errno), "cannot open repository '%s' on '%s': %s",
                id, h->name, strerror(errno));
        return -1;
    }
    if (dir == HV_DIR_ROOT)
        return rootfd;
    fd = openat(rootfd, ss_dir_names[dir],
                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        err_set(ss_code(errno), "cannot open '%s' of repository '%s' on "
                "'%s': %s", ss_dir_names[dir], id, h->name, strerror(errno));
    close(rootfd);
    return fd;
}

/* ---- qcow2 ---- */

/* Big-endian (qcow2 byte order) readers and writers. */
static uint32_t
ss_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static uint64_t
ss_be64(const unsigned char *p)
{
    return (uint64_t)ss_be32(p) << 32 | ss_be32(p + 4);
}

static void
ss_put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static void
ss_put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void
ss_put64(unsigned char *p, uint64_t v)
{
    ss_put32(p, (uint32_t)(v >> 32));
    ss_put32(p + 4, (uint32_t)v);
}

/* What we use of a qcow2 header. */
struct ss_qcow2 {
    uint32_t version;
    uint32_t cluster_bits;
    uint64_t size;             /* virtual size */
    uint32_t l1_size;          /* entries */
    uint64_t l1_offset;
    char backing[1024];        /* as written in the image, "" if none */
};

/* Read the qcow2 header of @fd into @q: true when @fd is a qcow2 image
 * (version 2 or 3) we can make sense of. */
static bool
ss_qcow2_read(int fd, struct ss_qcow2 *q)
{
    unsigned char hdr[72];
    uint64_t boff;
    uint32_t blen;

    memset(q, 0, sizeof(*q));
    if (ss_pread_full(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr))
        return false;
    if (ss_be32(hdr) != SS_QCOW2_MAGIC)
        return false;
    q->version = ss_be32(hdr + 4);
    q->cluster_bits = ss_be32(hdr + 20);
    q->size = ss_be64(hdr + 24);
    q->l1_size = ss_be32(hdr + 36);
    q->l1_offset = ss_be64(hdr + 40);
    if ((q->version != 2 && q->version != 3) || q->cluster_bits < 9 ||
        q->cluster_bits > 21)
        return false;
    boff = ss_be64(hdr + 8);
    blen = ss_be32(hdr + 16);
    if (boff && blen > 0 && blen < sizeof(q->backing)) {
        if (ss_pread_full(fd, q->backing, blen, (off_t)boff) != (ssize_t)blen)
            return false;
        q->backing[blen] = '\0';
    }
    return true;
}

/*
 * Write a new, empty qcow2 v3 image of virtual size @size into the empty
 * file @fd: header (with a backing-format extension and the backing
 * file's name when @backing is set), refcount table, one refcount block
 * and a zeroed L1 table large enough for @size (at least one cluster, so
 * that a resize can grow into it). 0, or -1 with errno.
 */
static int
ss_qcow2_write(int fd, uint64_t size, const char *backing,
               const char *backing_fmt)
{
    const uint64_t cs = 1ULL << SS_QCOW2_CLUSTER_BITS;
    const uint64_t per_l1 = cs * (cs / 8); /* bytes one L1 entry maps */
    uint64_t l1_size = (size + per_l1 - 1) / per_l1;
    uint64_t l1_clusters, total, i;
    unsigned char *AUTOFREE hdr = xcalloc(1, cs);
    unsigned char rt[8], *AUTOFREE rb = NULL;
    size_t pos = SS_QCOW2_V3_HEADER_LEN, flen;

    if (l1_size == 0)
        l1_size = 1;
    l1_clusters = (l1_size * 8 + cs - 1) / cs;
    total = 3 + l1_clusters;       /* header, refcount table, block, L1 */
    if (l1_size > UINT32_MAX / 8 || total > cs / 2) {
        errno = EFBIG;
        return -1;
    }
    ss_put32(hdr, SS_QCOW2_MAGIC);
    ss_put32(hdr + 4, 3);
    ss_put32(hdr + 20, SS_QCOW2_CLUSTER_BITS);
    ss_put64(hdr + 24, size);
    ss_put32(hdr + 32, 0);                    /* no encryption */
    ss_put32(hdr + 36, (uint32_t)l1_size);
    ss_put64(hdr + 40, 3 * cs);               /* L1 table */
    ss_put64(hdr + 48, cs);                   /* refcount table */
    ss_put32(hdr + 56, 1);                    /* its clusters */
    ss_put32(hdr + 60, 0);                    /* no snapshots */
    ss_put64(hdr + 64, 0);
    /* 72..95: incompatible, compatible, autoclear features: none. */
    ss_put32(hdr + 96, 4);                    /* 16-bit refcounts */
    ss_put32(hdr + 100, SS_QCOW2_V3_HEADER_LEN);
    if (backing && backing[0]) {
        flen = strlen(backing_fmt);
        ss_put32(hdr + pos, SS_QCOW2_EXT_BACKING_FMT);
        ss_put32(hdr + pos + 4, (uint32_t)flen);
        memcpy(hdr + pos + 8, backing_fmt, flen);
        pos += 8 + (flen + 7) / 8 * 8;
    }
    pos += 8;                                 /* end of extensions: zeros */
    if (backing && backing[0]) {
        ss_put64(hdr + 8, pos);
        ss_put32(hdr + 16, (uint32_t)strlen(backing));
        memcpy(hdr + pos, backing, strlen(backing));
        pos += strlen(backing);
    }
    ss_put64(rt, 2 * cs);                     /* refcount block 0 */
    rb = xcalloc(1, (size_t)total * 2);
    for (i = 0; i < total; i++)
        ss_put16(rb + i * 2, 1);
    if (ftruncate(fd, (off_t)(total * cs)) < 0 ||
        ss_pwrite_all(fd, hdr, pos, 0) < 0 ||
        ss_pwrite_all(fd, rt, sizeof(rt), (off_t)cs) < 0 ||
        ss_pwrite_all(fd, rb, (size_t)total * 2, (off_t)(2 * cs)) < 0)
        return -1;
    return 0;
}

/*
 * Grow the qcow2 image @fd (header @q) to virtual size @size: the size
 * field and, when more L1 entries are needed, l1_size, as long as they
 * fit in the clusters the L1 table already has. 0; -1 with errno EFBIG
 * when the table would have to move (not done by the simulation), other
 * errno on I/O errors.
 */
static int
ss_qcow2_grow(int fd, const struct ss_qcow2 *q, uint64_t size)
{
    const uint64_t cs = 1ULL << q->cluster_bits;
    const uint64_t per_l1 = cs * (cs / 8);
    uint64_t need = (size + per_l1 - 1) / per_l1;
    uint64_t avail = (q->l1_size * 8ULL + cs - 1) / cs * cs / 8;
    unsigned char b[8];

    if (need > q->l1_size) {
        if (need > avail) {
            errno = EFBIG;
            return -1;
        }
        ss_put32(b, (uint32_t)need);
        if (ss_pwrite_all(fd, b, 4, 36) < 0)
            return -1;
    }
    ss_put64(b, size);
    if (ss_pwrite_all(fd, b, 8, 24) < 0 || fsync(fd) < 0)
        return -1;
    return 0;
}

/* ---- file facts ---- */

/* True when @name ends with @suffix. */
static bool
ss_ends_with(const char *name, const char *suffix)
{
    size_t n = strlen(name), m = strlen(suffix);

    return n >= m && strcmp(name + n - m, suffix) == 0;
}

/*
 * The name a qcow2 image in directory @dirfd gives its backing file, as
 * hv.h reports it: a bare name as is; a path only when it names a file
 * directly in that same directory (then its base name); else "".
 */
static void
ss_backing_name(int dirfd, const char *backing, char *out, size_t size)
{
    char link[64], dir[PATH_MAX];
    const char *slash = strrchr(backing, '/');
    ssize_t n;

    out[0] = '\0';
    if (!slash) {
        str_copy(out, backing, size);
        return;
    }
    if (backing[0] != '/')
        return;
    snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
    n = readlink(link, dir, sizeof(dir) - 1);
    if (n <= 0)
        return;
    dir[n] = '\0';
    if ((size_t)(slash - backing) == (size_t)n &&
        strncmp(backing, dir, (size_t)n) == 0)
        str_copy(out, slash + 1, size);
}

/* Facts of the open regular file @fd named @name in @dirfd. */
static void
ss_facts(int dirfd, int fd, const char *name, const struct stat *st,
         struct hv_file *f)
{
    struct ss_qcow2 q;

    memset(f, 0, sizeof(*f));
    str_copy(f->name, name, sizeof(f->name));
    f->capacity_bytes = (uint64_t)st->st_size;
    f->allocation_bytes = (uint64_t)st->st_blocks * 512;
    if (ss_qcow2_read(fd, &q)) {
        str_copy(f->format, "qcow2", sizeof(f->format));
        f->capacity_bytes = q.size;
        ss_backing_name(dirfd, q.backing, f->backing, sizeof(f->backing));
    } else if (ss_ends_with(name, ".iso")) {
        str_copy(f->format, "iso", sizeof(f->format));
    } else {
        str_copy(f->format, "raw", sizeof(f->format));
    }
}

/*
 * Open the regular file @name in @dirfd (without following a symbolic
 * link) with @flags and fill *st. The descriptor, or -1 with errno
 * (ENOENT also for something that is not a regular file).
 */
static int
ss_open_file(int dirfd, const char *name, int flags, struct stat *st)
{
    int fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0)
        return -1;
    if (fstat(fd, st) < 0) {
        ss_close(fd);
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        errno = ENOENT;
        return -1;
    }
    return fd;
}

/* Facts of file @name in @dirfd; -1 with errno. */
static int
ss_info_at(int dirfd, const char *name, struct hv_file *f)
{
    struct stat st;
    int fd = ss_open_file(dirfd, name, O_RDONLY | O_NONBLOCK, &st);

    if (fd < 0)
        return -1;
    ss_facts(dirfd, fd, name, &st, f);
    close(fd);
    return 0;
}

/* ---- partial files: uploads and copies ---- */

/*
 * Open (creating) the partial file ".<name>.part" in @dirfd for writing,
 * locked (flock) by this writer, and empty it. The descriptor and its
 * name in *part (caller frees), or -1: ERR_EXISTS when another live
 * writer holds it. A partial file nobody holds is stale and taken over.
 */
static int
ss_part_open(int dirfd, const char *name, char **part)
{
    char *AUTOFREE p = xasprintf(".%s.part", name);
    int fd;

    *part = NULL;
    fd = openat(dirfd, p, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        err_set(ss_code(errno), "cannot create '%s': %s", p, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK)
            err_set(ERR_EXISTS, "'%s' is being written already", name);
        else
            err_set(ERR_IO, "cannot lock '%s': %s", p, strerror(errno));
        close(fd);
        return -1;
    }
    if (ftruncate(fd, 0) < 0) {
        err_set(ERR_IO, "cannot truncate '%s': %s", p, strerror(errno));
        close(fd);
        return -1;
    }
    *part = steal_ptr(&p);
    return fd;
}

/* Give the complete partial file @part in @dirfd its final name @name,
 * never replacing a file of that name (ERR_EXISTS). 0 or -1. */
static int
ss_publish(int dirfd, const char *part, const char *name)
{
    int rc = renameat2(dirfd, part, dirfd, name, RENAME_NOREPLACE);

    if (rc < 0 && (errno == EINVAL || errno == ENOSYS)) {
        /* A file system without RENAME_NOREPLACE: link() never replaces
         * either. */
        rc = linkat(dirfd, part, dirfd, name, 0);
        if (rc == 0)
            unlinkat(dirfd, part, 0);
    }
    if (rc < 0) {
        if (errno == EEXIST)
            err_set(ERR_EXISTS, "file '%s' exists", name);
        else
            err_set(ERR_IO, "cannot rename '%s' to '%s': %s", part, name,
                    strerror(errno));
        return -1;
    }
    fsync(dirfd);
    return 0;
}

/* ---- the ops: NFS and file systems ---- */

/* qsort() comparator for strings. */
static int
ss_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* hv_storage_ops.nfs_exports on simulated storage (simstore.h). */
int
hv_simstore_nfs_exports(const char *sim_path, const char *host, char ***out,
                        size_t *n)
{
    SS_HOST h = { NULL, NULL };
    char *AUTOFREE top = NULL;
    char **v = NULL;
    size_t count = 0;
    struct dirent *de;
    struct stat st;
    DIR *d;
    int fd;

    *out = NULL;
    *n = 0;
    if (hv_store_check_host(host) < 0 || ss_host_init(&h, sim_path) < 0)
        return -1;
    top = xasprintf("%s/nfs/%s", h.simdir, host);
    if (access(top, F_OK) < 0) {
        err_set(ERR_UNREACHABLE, "cannot list the exports of NFS server "
                "'%s' from '%s': no such server", host, h.name);
        return -1;
    }
    fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        int efd = ss_walk(fd, "exports", false);

        close(fd);
        fd = efd;
    }
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;               /* a server that exports nothing */
        err_set(ERR_IO, "cannot list the exports of NFS server '%s': %s",
                host, strerror(errno));
        return -1;
    }
    if (!(d = fdopendir(fd))) {
        err_set(ERR_IO, "cannot list the exports of NFS server '%s': %s",
                host, strerror(errno));
        close(fd);
        return -1;
    }
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || ss_has_control(de->d_name))
            continue;
        if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISDIR(st.st_mode))
            continue;
        v = xrealloc(v, (count + 1) * sizeof(*v));
        v[count++] = xasprintf("/exports/%s", de->d_name);
    }
    closedir(d);
    if (count > 1)
        qsort(v, count, sizeof(*v), ss_cmp_str);
    *out = v;
    *n = count;
    return 0;
}

/* hv_storage_ops.iscsi_targets on simulated storage (simstore.h). */
int
hv_simstore_iscsi_targets(const char *sim_path, const char *host,
                          char ***out, size_t *n)
{
    SS_HOST h = { NULL, NULL };
    char **v = NULL;
    size_t count = 0;
    struct dirent *de;
    struct stat st;
    DIR *d;
    int fd;

    *out = NULL;
    *n = 0;
    if (hv_store_check_host(host) < 0 || ss_host_init(&h, sim_path) < 0)
        return -1;
    if ((fd = ss_iscsi_open(&h, host, NULL)) < 0) {
        err_set(ERR_UNREACHABLE, "cannot reach iSCSI portal '%s' from '%s': "
                "no such server", host, h.name);
        return -1;
    }
    if (!(d = fdopendir(fd))) {
        err_set(ERR_IO, "cannot list the targets of iSCSI portal '%s': %s",
                host, strerror(errno));
        close(fd);
        return -1;
    }
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || hv_store_check_iqn(de->d_name) < 0) {
            err_clear();
            continue;
        }
        if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISDIR(st.st_mode))
            continue;
        v = xrealloc(v, (count + 1) * sizeof(*v));
        v[count++] = xstrdup(de->d_name);
    }
    closedir(d);
    if (count > 1)
        qsort(v, count, sizeof(*v), ss_cmp_str);
    *out = v;
    *n = count;
    return 0;
}

/* FNV-1a 64 of @s continuing from @h. */
static uint64_t
ss_fnv(uint64_t h, const char *s)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

static int
ss_cmp_lun(const void *a, const void *b)
{
    const struct hv_lun *x = a, *y = b;

    if (x->lun != y->lun)
        return x->lun < y->lun ? -1 : 1;
    return strcmp(x->page83, y->page83);
}

/* hv_storage_ops.iscsi_luns on simulated storage (simstore.h). */
int
hv_simstore_iscsi_luns(const char *sim_path, const char *host,
                       const char *iqn, struct hv_lun **out, size_t *n)
{
    SS_HOST h = { NULL, NULL };
    struct hv_lun *v = NULL;
    size_t count = 0;
    struct dirent *de;
    struct stat st;
    DIR *d;
    int fd;

    *out = NULL;
    *n = 0;
    if (hv_store_check_host(host) < 0 || hv_store_check_iqn(iqn) < 0 ||
        ss_host_init(&h, sim_path) < 0)
        return -1;
    if ((fd = ss_iscsi_open(&h, host, iqn)) < 0) {
        err_set(errno == ENOENT ? ERR_NOT_FOUND : ERR_IO,
                "iSCSI portal '%s' has no target '%s'", host, iqn);
        return -1;
    }
    if (!(d = fdopendir(fd))) {
        err_set(ERR_IO, "cannot list the LUNs of '%s': %s", iqn,
                strerror(errno));
        close(fd);
        return -1;
    }
    while ((de = readdir(d))) {
        uint64_t hash = 0xcbf29ce484222325ULL;
        struct hv_lun *l;
        unsigned num = 0;
        char *end;

        if (de->d_name[0] == '.' || ss_has_control(de->d_name))
            continue;
        if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISREG(st.st_mode))
            continue;
        if (strncmp(de->d_name, "lun-", 4) == 0) {
            unsigned long x = strtoul(de->d_name + 4, &end, 10);

            if (end != de->d_name + 4 && !*end && x < 65536)
                num = (unsigned)x;
        }
        hash = ss_fnv(ss_fnv(ss_fnv(ss_fnv(ss_fnv(hash, host), "/"), iqn),
                             "/"), de->d_name);
        v = xrealloc(v, (count + 1) * sizeof(*v));
        l = &v[count++];
        memset(l, 0, sizeof(*l));
        /* NAA type 6 style: "36" + 16 hex digits. */
        snprintf(l->page83, sizeof(l->page83), "36%016" PRIx64, hash);
        str_copy(l->vendor, "SIM", sizeof(l->vendor));
        l->size_bytes = (uint64_t)st.st_size;
        l->lun = num;
    }
    closedir(d);
    if (count > 1)
        qsort(v, count, sizeof(*v), ss_cmp_lun);
    *out = v;
    *n = count;
    return 0;
}

/* hv_storage_ops.fs_probe on simulated storage (simstore.h). */
int
hv_simstore_fs_probe(const char *sim_path, const struct hv_fs *fs,
                     const char *share, struct hv_space *space,
                     char **ovsrepo)
{
    SS_HOST h = { NULL, NULL };
    char *AUTOFREE base = NULL;
    int fd = -1, rootfd = -1, ofd = -1, rc = -1;
    char *data = NULL;
    struct stat st;
    size_t len;

    *ovsrepo = NULL;
    memset(space, 0, sizeof(*space));
    if (hv_store_check_fs(fs, share) < 0 || ss_host_init(&h, sim_path) < 0)
        return -1;
    if ((fd = ss_fs_open(&h, fs, false, &base)) < 0)
        return -1;
    if (ss_fs_space(&h, fd, base, space) < 0) {
        err_set(ERR_IO, "cannot get the space of '%s': %s", base,
                strerror(errno));
        goto cleanup;
    }
    rootfd = ss_walk(fd, share ? share : "", false);
    if (rootfd >= 0)
        ofd = ss_open_file(rootfd, ".ovsrepo", O_RDONLY | O_NONBLOCK, &st);
    if (ofd >= 0) {
        if (ss_read_fd(ofd, SS_OVSREPO_MAX, &data, &len) < 0) {
            err_set(errno == EFBIG ? ERR_INVALID : ERR_IO,
                    "cannot read '.ovsrepo' of '%s': %s", base,
                    errno == EFBIG ? "larger than 64 KiB" : strerror(errno));
            goto cleanup;
        }
        *ovsrepo = data;
    }
    rc = 0;

 cleanup:
    ss_close(ofd);
    ss_close(rootfd);
    ss_close(fd);
    return rc;
}

/* ---- the ops: repositories ---- */

/* hv_storage_ops.repo_mount on simulated storage (simstore.h). */
int
hv_simstore_repo_mount(const char *sim_path, const char *repo_id,
                       const struct hv_fs *fs, const char *share, bool build)
{
    SS_HOST h = { NULL, NULL };
    char *AUTOFREE base = NULL, *AUTOFREE root = NULL;
    char *AUTOFREE old_root = NULL, *AUTOFREE old_base = NULL;
    int basefd = -1, rootfd = -1, rc = -1, i, e;

    if (hv_store_check_id(repo_id) < 0 || hv_store_check_fs(fs, share) < 0 ||
        ss_host_init(&h, sim_path) < 0)
        return -1;
    if ((basefd = ss_fs_open(&h, fs, build, &base)) < 0)
        return -1;
    root = hv_store_path_join(base, share ? share : "");
    rootfd = ss_walk(basefd, share ? share : "", build);
    if (rootfd < 0) {
        e = errno;
        err_set(ss_code(e), "cannot mount repository '%s' on '%s': "
                "cannot open '%s': %s", repo_id, h.name, root, strerror(e));
        goto cleanup;
    }
    for (i = 1; build && i < HV_DIR_COUNT; i++) {
        if (mkdirat(rootfd, ss_dir_names[i], 0755) < 0 && errno != EEXIST) {
            e = errno;
            err_set(ss_code(e), "cannot create '%s/%s': %s", root,
                    ss_dir_names[i], strerror(e));
            goto cleanup;
        }
    }
    rc = ss_mount_read(&h, repo_id, &old_root, &old_base);
    if (rc < 0)
        goto cleanup;
    if (rc == 1 && strcmp(old_root, root) != 0) {
        err_set(ERR_STATE, "cannot mount repository '%s' on '%s': it is "
                "mounted from '%s'", repo_id, h.name, old_root);
        rc = -1;
        goto cleanup;
    }
    rc = rc == 1 ? 0 : ss_mount_write(&h, repo_id, root, base);
    if (rc == 0)
        log_debug("repository '%s' mounted on '%s' from '%s'", repo_id,
                  h.name, root);

 cleanup:
    ss_close(rootfd);
    ss_close(basefd);
    return rc;
}

/* hv_storage_ops.repo_unmount on simulated storage (simstore.h). */
int
hv_simstore_repo_unmount(const char *sim_path, const char *repo_id)
{
    SS_HOST h = { NULL, NULL };
    char *AUTOFREE path = NULL;

    if (hv_store_check_id(repo_id) < 0 || ss_host_init(&h, sim_path) < 0)
        return -1;
    path = ss_mount_path(&h, repo_id);
    if (unlink(path) < 0 && errno != ENOENT) {
        err_set(ERR_IO, "cannot unmount repository '%s' from '%s': %s",
                repo_id, h.name, strerror(errno));
        return -1;
    }
    return 0;
}

/* hv_storage_ops.repo_mounted on simulated storage (simstore.h). */
int
hv_simstore_repo_mounted(const char *sim_path, const char *repo_id)
{
    SS_HOST h = { NULL, NULL };
    char *AUTOFREE root = NULL, *AUTOFREE base = NULL;

    if (hv_store_check_id(repo_id) < 0 || ss_host_init(&h, sim_path) < 0)
        return -1;
    return ss_mount_read(&h, repo_id, &root, &base);
}

/* hv_storage_ops.repo_space on simulated storage (simstore.h). */
int
hv_simstore_repo_space(const char *sim_path, const char *repo_id,
                       struct hv_space *out)
{
    SS_HOST h = { NULL, NULL };
    char *AUTOFREE root = NULL, *AUTOFREE base = NULL;
    int fd, bfd = -1, rc = 0;

    memset(out, 0, sizeof(*out));
    if (hv_store_check_id(repo_id) < 0 || ss_host_init(&h, sim_path) < 0)
        return -1;
    if ((fd = ss_repo_open(&h, repo_id, HV_DIR_ROOT)) < 0)
        return -1;
    /* The mount record names the file system the root lies on: an OCFS2
     * one is measured by its LUN and its whole tree, from its base (the
     * root itself, as its repositories have no share). */
    if (ss_mount_read(&h, repo_id, &root, &base) < 0) {
        close(fd);
        return -1;
    }
    if (base && ss_is_ocfs2(&h, base)) {
        bfd = strcmp(root, base) == 0
                  ? dup(fd)
                  : open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (bfd < 0 || ss_ocfs2_space(bfd, base, out) < 0)
            rc = -1;
    } else if (ss_space(fd, out) < 0) {
        rc = -1;
    }
    if (rc < 0)
        err_set(ERR_IO, "cannot get the space of repository '%s': %s",
                repo_id, strerror(errno));
    ss_close(bfd);
    close(fd);
    return rc;
}

/* True for a temporary file of ours (".<name>.part", ".<name>.<x>.tmp"):
 * left-overs that repo_destroy removes rather than refuses. */
static bool
ss_is_temp(const char *name)
{
    return name[0] == '.' &&
           (ss_ends_with(name, ".part") || ss_ends_with(name, ".tmp"));
}

/*
 * The first entry of directory @fd (other than our temporaries) into
 * @out: 1 when there is one, 0 when the directory is empty but for
 * temporaries (which @remove deletes), -1 with errno.
 */
static int
ss_dir_first(int fd, bool remove, char *out, size_t size)
{
    struct dirent *de;
    int dfd = dup(fd), found = 0;
    DIR *d;

    if (dfd < 0)
        return -1;
    if (!(d = fdopendir(dfd))) {
        ss_close(dfd);
        return -1;
    }
    /* The duplicate shares @fd's offset, which an earlier call left at
     * the end. */
    rewinddir(d);
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (ss_is_temp(de->d_name)) {
            if (remove)
                unlinkat(fd, de->d_name, 0);
            continue;
        }
        str_copy(out, de->d_name, size);
        found = 1;
        break;
    }
    closedir(d);
    return found;
}

/* hv_storage_ops.repo_destroy on simulated storage (simstore.h). */
int
hv_simstore_repo_destroy(const char *sim_path, const char *repo_id)
{
    SS_HOST h = { NULL, NULL };
    char *AUTOFREE root = NULL, *AUTOFREE base = NULL;
    char *AUTOFREE record = NULL;
    int fds[HV_DIR_COUNT], i, rc = -1, r;
    char first[256], p[64];

    for (i = 0; i < HV_DIR_COUNT; i++)
        fds[i] = -1;
    if (hv_store_check_id(repo_id) < 0 || ss_host_init(&h, sim_path) < 0)
        return -1;
    if ((fds[HV_DIR_ROOT] = ss_repo_open(&h, repo_id, HV_DIR_ROOT)) < 0)
        return -1;
    /* Refuse before touching anything: every subdirectory must be empty
     * (a missing one is fine). */
    for (i = 1; i < HV_DIR_COUNT; i++) {
        fds[i] = openat(fds[HV_DIR_ROOT], ss_dir_names[i],
                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fds[i] < 0) {
            if (errno == ENOENT)
                continue;
            err_set(ss_code(errno), "cannot open '%s' of repository '%s': "
                    "%s", ss_dir_names[i], repo_id, strerror(errno));
            goto cleanup;
        }
        r = ss_dir_first(fds[i], false, first, sizeof(first));
        if (r < 0) {
            err_set(ERR_IO, "cannot list '%s' of repository '%s': %s",
                    ss_dir_names[i], repo_id, strerror(errno));
            goto cleanup;
        }
        if (r == 1) {
            err_set(ERR_STATE, "repository not empty: %s/%s",
                    ss_dir_names[i], ss_printable(first, p, sizeof(p)));
            goto cleanup;
        }
    }
    for (i = 1; i < HV_DIR_COUNT; i++) {
        if (fds[i] < 0)
            continue;
        ss_dir_first(fds[i], true, first, sizeof(first));
        if (unlinkat(fds[HV_DIR_ROOT], ss_dir_names[i], AT_REMOVEDIR) < 0) {
            err_set(ss_code(errno), "cannot remove '%s' of repository '%s': "
                    "%s", ss_dir_names[i], repo_id, strerror(errno));
            goto cleanup;
        }
    }
    if (unlinkat(fds[HV_DIR_ROOT], ".ovsrepo", 0) < 0 && errno != ENOENT) {
        err_set(ERR_IO, "cannot remove '.ovsrepo' of repository '%s': %s",
                repo_id, strerror(errno));
        goto cleanup;
    }
    ss_dir_first(fds[HV_DIR_ROOT], true, first, sizeof(first));
    if (ss_mount_read(&h, repo_id, &root, &base) < 0)
        goto cleanup;
    /* The root goes when it is empty and not the file system itself (an
     * export, the local directory or an OCFS2 file system stays, as on a
     * real server: a repository on a LUN is at its file system's root,
     * so root and base are the same, and only fs_wipe removes it). */
    if (root && base && strcmp(root, base) != 0 && !ss_is_ocfs2(&h, root) &&
        rmdir(root) < 0 && errno != ENOTEMPTY && errno != EEXIST &&
        errno != ENOENT)
        log_warn("cannot remove the root '%s' of repository '%s'", root,
                 repo_id);
    record = ss_mount_path(&h, repo_id);
    if (unlink(record) < 0 && errno != ENOENT) {
        err_set(ERR_IO, "cannot remove mount record '%s': %s", record,
                strerror(errno));
        goto cleanup;
    }
    log_debug("repository '%s' destroyed from '%s'", repo_id, h.name);
    rc = 0;

 cleanup:
    for (i = 0; i < HV_DIR_COUNT; i++)
        ss_close(fds[i]);
    return rc;
}

/* ---- the ops: OCFS2 file systems ---- */

/* @s (NULL: "") with every control character replaced by '?', for a
 * line of the marker file. Caller frees. */
static char *
ss_one_line(const char *s)
{
    char *out = xstrdup(s ? s : ""), *p;

    for (p = out; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    }
    return out;
}

/* hv_storage_ops.fs_make on simulated storage (simstore.h). */
int
hv_simstore_fs_make(const char *sim_path, const struct hv_fs *fs,
                    const char *label, const char *cluster)
{
    SS_HOST h = { NULL, NULL };
    char *AUTOFREE l1 = ss_one_line(label), *AUTOFREE l2 = ss_one_line(cluster);
    char *AUTOFREE text = NULL;
    struct hv_store_lun l;
    char lun[32], fsdir[40];
    int tfd, fd = -1, rc = -1, e;

    if (ss_ocfs2_check(fs, &l) < 0 || ss_host_init(&h, sim_path) < 0)
        return -1;
    if ((tfd = ss_lun_open(&h, &l, fs->path)) < 0)
        return -1;
    ss_lun_names(&l, lun, sizeof(lun), fsdir, sizeof(fsdir));
    /* mkdir is the lock: of two hosts making a file system on one LUN,
     * exactly one creates the directory. */
    if (mkdirat(tfd, fsdir, 0755) < 0) {
        e = errno;
        if (e == EEXIST)
            err_set(ERR_EXISTS, "LUN '%s' already holds a file system",
                    fs->path);
        else
            err_set(ss_code(e), "cannot make a file system on LUN '%s': %s",
                    fs->path, strerror(e));
        goto cleanup;
    }
    text = xasprintf("label=%s\ncluster=%s\n", l1, l2);
    fd = openat(tfd, fsdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || ss_replace(fd, ".ocfs2", text, strlen(text)) < 0) {
        e = errno;
        err_set(ERR_IO, "cannot make a file system on LUN '%s': %s",
                fs->path, strerror(e));
        /* Not half made: the directory goes again (it is empty, as
         * ss_replace() removes its temporary file). */
        unlinkat(tfd, fsdir, AT_REMOVEDIR);
        goto cleanup;
    }
    fsync(tfd);
    log_debug("OCFS2 file system made on LUN '%s' from '%s'", fs->path,
              h.name);
    rc = 0;

 cleanup:
    ss_close(fd);
    ss_close(tfd);
    return rc;
}

/*
 * Whether a repository is mounted on @h from the file system at @fsdir:
 * 1 with its id in @id (a mount record whose root or base is @fsdir or
 * lies below it), 0 when none is, -1 on error.
 */
static int
ss_mounted_from(const struct ss_host *h, const char *fsdir, char *id,
                size_t size)
{
    char *AUTOFREE dir = xasprintf("%s/mounts/%s", h->simdir, h->name);
    size_t n = strlen(fsdir);
    struct dirent *de;
    int found = 0;
    DIR *d;

    if (!(d = opendir(dir))) {
        if (errno == ENOENT)
            return 0;              /* nothing ever mounted here */
        err_set(ERR_IO, "cannot list the mounts of '%s': %s", h->name,
                strerror(errno));
        return -1;
    }
    while (!found && (de = readdir(d))) {
        char *AUTOFREE root = NULL, *AUTOFREE base = NULL;
        int r;

        /* Records are named by repository id; the rest are temporaries. */
        if (!ss_name_valid(de->d_name, false))
            continue;
        r = ss_mount_read(h, de->d_name, &root, &base);
        if (r < 0) {
            found = -1;
            break;
        }
        if (r == 0)
            continue;              /* unmounted meanwhile */
        if ((strncmp(root, fsdir, n) == 0 &&
             (root[n] == '\0' || root[n] == '/')) ||
            strcmp(base, fsdir) == 0) {
            str_copy(id, de->d_name, size);
            found = 1;
        }
    }
    closedir(d);
    return found;
}

/*
 * Remove @name from directory @dirfd and, when it is a directory,
 * everything below it (at most SS_WALK_DEPTH levels: deeper is ELOOP),
 * never following a symbolic link: a link is removed, not what it points
 * to. Missing is 0. 0, or -1 with errno.
 */
static int
ss_rmtree(int dirfd, const char *name, int depth)
{
    struct dirent *de;
    struct stat st;
    int fd, rc = 0, e;
    DIR *d;

    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -1 : 0;
    if (depth >= SS_WALK_DEPTH) {
        errno = ELOOP;
        return -1;
    }
    /* O_NOFOLLOW: a directory swapped for a link since the fstatat()
     * fails here rather than being entered. */
    fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    if (!(d = fdopendir(fd))) {
        ss_close(fd);
        return -1;
    }
    while (rc == 0 && (de = readdir(d))) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            rc = ss_rmtree(fd, de->d_name, depth + 1);
    }
    e = errno;
    closedir(d);
    errno = e;
    if (rc == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        rc = -1;
    return rc;
}

/* hv_storage_ops.fs_wipe on simulated storage (simstore.h). */
int
hv_simstore_fs_wipe(const char *sim_path, const struct hv_fs *fs)
{
    SS_HOST h = { NULL, NULL };
    char *AUTOFREE path = NULL;
    struct hv_store_lun l;
    char lun[32], fsdir[40], id[HV_STORE_NAME_MAX + 1];
    struct stat st;
    int tfd, rc = -1, r;

    if (ss_ocfs2_check(fs, &l) < 0 || ss_host_init(&h, sim_path) < 0)
        return -1;
    ss_lun_names(&l, lun, sizeof(lun), fsdir, sizeof(fsdir));
    /* No target, or no file system (or something else of that name,
     * which is not ours to remove): nothing to wipe. */
    if ((tfd = ss_iscsi_open(&h, l.host, l.iqn)) < 0) {
        if (ss_code(errno) == ERR_NOT_FOUND)
            return 0;
        err_set(ERR_IO, "cannot wipe the file system of LUN '%s': %s",
                fs->path, strerror(errno));
        return -1;
    }
    if (fstatat(tfd, fsdir, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
        !S_ISDIR(st.st_mode)) {
        rc = 0;
        goto cleanup;
    }
    path = xasprintf("%s/iscsi/%s/%s/%s", h.simdir, l.host, l.iqn, fsdir);
    if ((r = ss_mounted_from(&h, path, id, sizeof(id))) < 0)
        goto cleanup;
    if (r == 1) {
        err_set(ERR_STATE, "cannot wipe the file system of LUN '%s': a "
                "repository on it is mounted on '%s' (repository '%s')",
                fs->path, h.name, id);
        goto cleanup;
    }
    if (ss_rmtree(tfd, fsdir, 0) < 0) {
        err_set(ERR_IO, "cannot wipe the file system of LUN '%s': %s",
                fs->path, strerror(errno));
        goto cleanup;
    }
    fsync(tfd);
    log_debug("OCFS2 file system of LUN '%s' wiped from '%s'", fs->path,
              h.name);
    rc = 0;

 cleanup:
    close(tfd);
    return rc;
}

/* ---- the ops: files ---- */

/* qsort() comparator for struct hv_file by name. */
static int
ss_cmp_file(const void *a, const void *b)
{
    return strcmp(((const struct hv_file *)a)->name,
                  ((const struct hv_file *)b)->name);
}

/* hv_storage_ops.file_list on simulated storage (simstore.h). */
int
hv_simstore_file_list(const char *sim_path, const char *repo_id,
                      enum hv_repo_dir dir, struct hv_file **out, size_t *n)
{
    SS_HOST h = { NULL, NULL };
    struct hv_file *v = NULL, f;
    size_t count = 0;
    struct dirent *de;
    int fd, dfd;
    DIR *d;

    *out = NULL;
    *n = 0;
    if (hv_store_check_id(repo_id) < 0 || hv_store_check_dir(dir) < 0 ||
        ss_host_init(&h, sim_path) < 0)
        return -1;
    if ((fd = ss_repo_open(&h, repo_id, dir)) < 0)
        return -1;
    if ((dfd = dup(fd)) < 0 || !(d = fdopendir(dfd))) {
        err_set(ERR_IO, "cannot list '%s' of repository '%s': %s",
                ss_dir_names[dir], repo_id, strerror(errno));
        ss_close(dfd);
        close(fd);
        return -1;
    }
    while ((de = readdir(d))) {
        /* Only what a caller could name: our temporaries and anything
         * else hidden stay out, and so do directories and links. */
        if (!ss_name_valid(de->d_name, dir == HV_DIR_ROOT))
            continue;
        if (ss_info_at(fd, de->d_name, &f) < 0)
            continue;
        v = xrealloc(v, (count + 1) * sizeof(*v));
        v[count++] = f;
    }
    closedir(d);
    close(fd);
    if (count > 1)
        qsort(v, count, sizeof(*v), ss_cmp_file);
    *out = v;
    *n = count;
    return 0;
}

/* hv_storage_ops.file_info on simulated storage (simstore.h). */
int
hv_simstore_file_info(const char *sim_path, const char *repo_id,
                      enum hv_repo_dir dir, const char *name,
                      struct hv_file *out)
{
    SS_HOST h = { NULL, NULL };
    int fd, rc = 0;

    memset(out, 0, sizeof(*out));
    if (hv_store_check_id(repo_id) < 0 || hv_store_check_name(dir, name) < 0 ||
        ss_host_init(&h, sim_path) < 0)
        return -1;
    if ((fd = ss_repo_open(&h, repo_id, dir)) < 0)
        return -1;
    if (ss_info_at(fd, name, out) < 0) {
        err_set(ss_code(errno), "cannot read file '%s' in repository '%s': "
                "%s", name, repo_id, strerror(errno));
        rc = -1;
    }
    close(fd);
    return rc;
}

/* hv_storage_ops.file_create on simulated storage (simstore.h). */
int
hv_simstore_file_create(const char *sim_path, const char *repo_id,
                        enum hv_repo_dir dir, const char *name,
                        uint64_t capacity, bool sparse, const char *format,
                        const char *backing)
{
    SS_HOST h = { NULL, NULL };
    bool qcow2 = format && strcmp(format, "qcow2") == 0;
    bool has_backing = backing && backing[0];
    const char *bfmt = "raw";
    struct hv_file bf;
    int dirfd = -1, fd = -1, rc = -1, e;
    char p[32];

    if (hv_store_check_id(repo_id) < 0 || hv_store_check_name(dir, name) < 0)
        return -1;
    if (format && strcmp(format, "raw") != 0 && !qcow2) {
        err_set(ERR_INVALID, "cannot create '%s': unknown format '%s'", name,
                ss_printable(format, p, sizeof(p)));
        return -1;
    }
    if (has_backing && !qcow2) {
        err_set(ERR_INVALID, "cannot create '%s': only a qcow2 volume has a "
                "backing file", name);
        return -1;
    }
    if (has_backing && hv_store_check_name(dir, backing) < 0)
        return -1;
    if (capacity > INT64_MAX) {
        err_set(ERR_INVALID, "cannot create '%s': capacity too large", name);
        return -1;
    }
    if (ss_host_init(&h, sim_path) < 0)
        return -1;
    if ((dirfd = ss_repo_open(&h, repo_id, dir)) < 0)
        return -1;
    if (has_backing) {
        if (ss_info_at(dirfd, backing, &bf) < 0) {
            err_set(ss_code(errno), "cannot create '%s': backing file '%s': "
                    "%s", name, backing, strerror(errno));
            goto cleanup;
        }
        if (strcmp(bf.format, "qcow2") == 0)
            bfmt = "qcow2";
        if (capacity == 0)
            capacity = bf.capacity_bytes;
    }
    fd = openat(dirfd, name,
                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        e = errno;
        if (e == EEXIST)
            err_set(ERR_EXISTS, "cannot create '%s' in repository '%s': "
                    "file exists", name, repo_id);
        else
            err_set(ss_code(e), "cannot create '%s' in repository '%s': %s",
                    name, repo_id, strerror(e));
        goto cleanup;
    }
    if (qcow2) {
        if (ss_qcow2_write(fd, capacity, has_backing ? backing : NULL,
                           bfmt) < 0)
            goto io_fail;
    } else {
        if (ftruncate(fd, (off_t)capacity) < 0)
            goto io_fail;
        if (!sparse && capacity > 0) {
            e = posix_fallocate(fd, 0, (off_t)capacity);
            if (e != 0) {
                errno = e;
                goto io_fail;
            }
        }
    }
    if (fsync(fd) < 0)
        goto io_fail;
    rc = 0;
    goto cleanup;

 io_fail:
    e = errno;
    err_set(e == ENOSPC || e == EDQUOT ? ERR_IO : ss_code(e),
            "cannot create '%s' in repository '%s': %s", name, repo_id,
            strerror(e));
    unlinkat(dirfd, name, 0);

 cleanup:
    ss_close(fd);
    ss_close(dirfd);
    return rc;
}

/* True when the @len bytes at @buf are all zero. */
static bool
ss_is_zero(const char *buf, size_t len)
{
    return len == 0 || (buf[0] == 0 && memcmp(buf, buf + 1, len - 1) == 0);
}

/*
 * Copy the @size bytes of @src into the empty file @dst: only the data
 * regions of @src (SEEK_DATA/SEEK_HOLE, the whole file where those are
 * not supported), chunk by chunk; with @sparse, all-zero chunks are left
 * as holes, else the whole target is allocated first. Asks @aborting
 * before each chunk. 0; -1 with errno (ECANCELED: aborted).
 */
static int
ss_copy_data(int src, int dst, off_t size, bool sparse,
             bool (*aborting)(void *opaque), void *opaque)
{
    char *AUTOFREE buf = xmalloc(SS_CHUNK);
    off_t pos = 0, data, hole;
    ssize_t r;
    size_t want;
    int e;

    if (ftruncate(dst, size) < 0)
        return -1;
    if (!sparse && size > 0 && (e = posix_fallocate(dst, 0, size)) != 0) {
        errno = e;
        return -1;
    }
    while (pos < size) {
        if (aborting && aborting(opaque)) {
            errno = ECANCELED;
            return -1;
        }
        data = lseek(src, pos, SEEK_DATA);
        if (data < 0 && errno == ENXIO)
            break;                  /* only a hole is left */
        if (data < 0) {
            data = pos;             /* no SEEK_DATA: it is all data */
            hole = size;
        } else {
            hole = lseek(src, data, SEEK_HOLE);
            if (hole < 0 || hole > size)
                hole = size;
        }
        pos = data;
        while (pos < hole) {
            if (aborting && aborting(opaque)) {
                errno = ECANCELED;
                return -1;
            }
            want = (size_t)(hole - pos < SS_CHUNK ? hole - pos : SS_CHUNK);
            r = ss_pread_full(src, buf, want, pos);
            if (r < 0)
                return -1;
            if (r == 0) {
                pos = size;         /* the source shrank: stop */
                break;
            }
            if (!(sparse && ss_is_zero(buf, (size_t)r)) &&
                ss_pwrite_all(dst, buf, (size_t)r, pos) < 0)
                return -1;
            pos += r;
        }
    }
    return fsync(dst);
}

/* hv_storage_ops.file_copy on simulated storage (simstore.h). */
int
hv_simstore_file_copy(const char *sim_path, const char *src_repo,
                      enum hv_repo_dir src_dir, const char *src_name,
                      const char *dst_repo, enum hv_repo_dir dst_dir,
                      const char *dst_name, bool sparse,
                      bool (*aborting)(void *opaque), void *opaque)
{
    SS_HOST h = { NULL, NULL };
    char *AUTOFREE part = NULL;
    int sdir = -1, ddir = -1, sfd = -1, dfd = -1, rc = -1, e;
    struct stat st;

    if (hv_store_check_id(src_repo) < 0 ||
        hv_store_check_name(src_dir, src_name) < 0 ||
        hv_store_check_id(dst_repo) < 0 ||
        hv_store_check_name(dst_dir, dst_name) < 0 ||
        ss_host_init(&h, sim_path) < 0)
        return -1;
    if ((sdir = ss_repo_open(&h, src_repo, src_dir)) < 0 ||
        (ddir = ss_repo_open(&h, dst_repo, dst_dir)) < 0)
        goto cleanup;
    sfd = ss_open_file(sdir, src_name, O_RDONLY | O_NONBLOCK, &st);
    if (sfd < 0) {
        err_set(ss_code(errno), "cannot copy '%s' of repository '%s': %s",
                src_name, src_repo, strerror(errno));
        goto cleanup;
    }
    if (faccessat(ddir, dst_name, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
        err_set(ERR_EXISTS, "cannot copy '%s' to '%s' in repository '%s': "
                "file exists", src_name, dst_name, dst_repo);
        goto cleanup;
    }
    if ((dfd = ss_part_open(ddir, dst_name, &part)) < 0)
        goto cleanup;
    if (ss_copy_data(sfd, dfd, st.st_size, sparse, aborting, opaque) < 0) {
        e = errno;
        if (e == ECANCELED)
            err_set(ERR_ABORTED, "copy of '%s' to '%s' aborted", src_name,
                    dst_name);
        else
            err_set(ERR_IO, "cannot copy '%s' to '%s': %s", src_name,
                    dst_name, strerror(e));
        goto cleanup;
    }
    if (close(dfd) < 0) {
        dfd = -1;
        err_set(ERR_IO, "cannot copy '%s' to '%s': %s", src_name, dst_name,
                strerror(errno));
        goto cleanup;
    }
    dfd = -1;
    if (ss_publish(ddir, part, dst_name) < 0)
        goto cleanup;
    xfree(steal_ptr(&part));       /* published: nothing to remove */
    rc = 0;

 cleanup:
    if (part)
        unlinkat(ddir, part, 0);
    ss_close(dfd);
    ss_close(sfd);
    ss_close(sdir);
    ss_close(ddir);
    return rc;
}

/* hv_storage_ops.file_resize on simulated storage (simstore.h). */
int
hv_simstore_file_resize(const char *sim_path, const char *repo_id,
                        enum hv_repo_dir dir, const char *name,
                        uint64_t capacity)
{
    SS_HOST h = { NULL, NULL };
    int dirfd = -1, fd = -1, rc = -1;
    struct hv_file f;
    struct ss_qcow2 q;
    struct stat st;

    if (hv_store_check_id(repo_id) < 0 || hv_store_check_name(dir, name) < 0 ||
        ss_host_init(&h, sim_path) < 0)
        return -1;
    if ((dirfd = ss_repo_open(&h, repo_id, dir)) < 0)
        return -1;
    fd = ss_open_file(dirfd, name, O_RDWR, &st);
    if (fd < 0) {
        err_set(ss_code(errno), "cannot resize '%s' in repository '%s': %s",
                name, repo_id, strerror(errno));
        goto cleanup;
    }
    ss_facts(dirfd, fd, name, &st, &f);
    if (strcmp(f.format, "raw") != 0 && strcmp(f.format, "qcow2") != 0) {
        err_set(ERR_INVALID, "cannot resize '%s': a %s file is not a raw or "
                "qcow2 volume", name, f.format);
        goto cleanup;
    }
    if (capacity < f.capacity_bytes || capacity > INT64_MAX) {
        err_set(ERR_INVALID, "cannot resize '%s' to %llu bytes: it has %llu "
                "and volumes only grow", name, (unsigned long long)capacity,
                (unsigned long long)f.capacity_bytes);
        goto cleanup;
    }
    if (capacity == f.capacity_bytes) {
        rc = 0;
        goto cleanup;
    }
    if (strcmp(f.format, "qcow2") == 0) {
        if (!ss_qcow2_read(fd, &q) || ss_qcow2_grow(fd, &q, capacity) < 0) {
            if (errno == EFBIG)
                err_set(ERR_UNSUPPORTED, "cannot grow qcow2 '%s' to %llu "
                        "bytes: its L1 table would have to move", name,
                        (unsigned long long)capacity);
            else
                err_set(ERR_IO, "cannot resize '%s': %s", name,
                        strerror(errno));
            goto cleanup;
        }
    } else if (ftruncate(fd, (off_t)capacity) < 0) {
        err_set(ERR_IO, "cannot resize '%s': %s", name, strerror(errno));
        goto cleanup;
    }
    rc = 0;

 cleanup:
    ss_close(fd);
    ss_close(dirfd);
    return rc;
}

/* hv_storage_ops.file_delete on simulated storage (simstore.h). */
int
hv_simstore_file_delete(const char *sim_path, const char *repo_id,
                        enum hv_repo_dir dir, const char *name)
{
    SS_HOST h = { NULL, NULL };
    struct stat st;
    int dirfd, rc = -1, e = 0;

    if (hv_store_check_id(repo_id) < 0 || hv_store_check_name(dir, name) < 0 ||
        ss_host_init(&h, sim_path) < 0)
        return -1;
    if ((dirfd = ss_repo_open(&h, repo_id, dir)) < 0)
        return -1;
    /* Only a regular file: a directory or a link of that name is not
     * one of ours. */
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        e = errno;
    else if (!S_ISREG(st.st_mode))
        e = ENOENT;
    else if (unlinkat(dirfd, name, 0) < 0)
        e = errno;
    else
        rc = 0;
    if (rc < 0)
        err_set(ss_code(e), "cannot delete '%s' in repository '%s': %s",
                name, repo_id, strerror(e));
    close(dirfd);
    return rc;
}

/* hv_storage_ops.file_read on simulated storage (simstore.h). */
int
hv_simstore_file_read(const char *sim_path, const char *repo_id,
                      enum hv_repo_dir dir, const char *name, size_t max,
                      char **data, size_t *len)
{
    SS_HOST h = { NULL, NULL };
    int dirfd, fd, rc = -1;
    struct stat st;

    *data = NULL;
    *len = 0;
    if (hv_store_check_id(repo_id) < 0 || hv_store_check_name(dir, name) < 0 ||
        ss_host_init(&h, sim_path) < 0)
        return -1;
    if ((dirfd = ss_repo_open(&h, repo_id, dir)) < 0)
        return -1;
    fd = ss_open_file(dirfd, name, O_RDONLY | O_NONBLOCK, &st);
    if (fd < 0) {
        err_set(ss_code(errno), "cannot read '%s' in repository '%s': %s",
                name, repo_id, strerror(errno));
    } else if (ss_read_fd(fd, max, data, len) < 0) {
        if (errno == EFBIG)
            err_set(ERR_INVALID, "cannot read '%s': larger than %zu bytes",
                    name, max);
        else
            err_set(ERR_IO, "cannot read '%s': %s", name, strerror(errno));
    } else {
        rc = 0;
    }
    ss_close(fd);
    close(dirfd);
    return rc;
}

/* hv_storage_ops.file_write on simulated storage (simstore.h). */
int
hv_simstore_file_write(const char *sim_path, const char *repo_id,
                       enum hv_repo_dir dir, const char *name,
                       const void *data, size_t len)
{
    SS_HOST h = { NULL, NULL };
    int dirfd, rc = 0;

    if (hv_store_check_id(repo_id) < 0 || hv_store_check_name(dir, name) < 0 ||
        ss_host_init(&h, sim_path) < 0)
        return -1;
    if ((dirfd = ss_repo_open(&h, repo_id, dir)) < 0)
        return -1;
    if (ss_replace(dirfd, name, data, len) < 0) {
        err_set(errno == ENOENT ? ERR_NOT_FOUND : ERR_IO,
                "cannot write '%s' in repository '%s': %s", name, repo_id,
                strerror(errno));
        rc = -1;
    }
    close(dirfd);
    return rc;
}

/* ---- the ops: uploads ---- */

struct hv_simstore_upload {
    int dirfd;                 /* the target directory */
    int fd;                    /* the partial file, locked */
    char *name;                /* the final name */
    char *part;                /* ".<name>.part" */
};

/* Close and free @u (the partial file is the caller's business). */
static void
ss_upload_free(struct hv_simstore_upload *u)
{
    ss_close(u->fd);
    ss_close(u->dirfd);
    xfree(u->name);
    xfree(u->part);
    xfree(u);
}

/* hv_storage_ops.upload_begin on simulated storage (simstore.h). */
struct hv_simstore_upload *
hv_simstore_upload_begin(const char *sim_path, const char *repo_id,
                         enum hv_repo_dir dir, const char *name)
{
    SS_HOST h = { NULL, NULL };
    struct hv_simstore_upload *u;
    int dirfd, fd;
    char *part;

    if (hv_store_check_id(repo_id) < 0 || hv_store_check_name(dir, name) < 0 ||
        ss_host_init(&h, sim_path) < 0)
        return NULL;
    if ((dirfd = ss_repo_open(&h, repo_id, dir)) < 0)
        return NULL;
    if (faccessat(dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
        err_set(ERR_EXISTS, "cannot upload '%s' to repository '%s': file "
                "exists", name, repo_id);
        close(dirfd);
        return NULL;
    }
    if ((fd = ss_part_open(dirfd, name, &part)) < 0) {
        close(dirfd);
        return NULL;
    }
    u = xcalloc(1, sizeof(*u));
    u->dirfd = dirfd;
    u->fd = fd;
    u->name = xstrdup(name);
    u->part = part;
    return u;
}

/* hv_storage_ops.upload_write on simulated storage (simstore.h). */
int
hv_simstore_upload_write(struct hv_simstore_upload *u, const void *buf,
                         size_t len)
{
    if (ss_write_all(u->fd, buf, len) < 0) {
        err_set(ERR_IO, "cannot write upload of '%s': %s", u->name,
                strerror(errno));
        return -1;
    }
    return 0;
}

/* hv_storage_ops.upload_finish on simulated storage (simstore.h). */
int
hv_simstore_upload_finish(struct hv_simstore_upload *u)
{
    int rc = -1;

    if (fsync(u->fd) < 0) {
        err_set(ERR_IO, "cannot finish upload of '%s': %s", u->name,
                strerror(errno));
        goto cleanup;
    }
    /* Published while still locked: a second writer that opens the
     * partial name now makes a new file, never this one. */
    if (ss_publish(u->dirfd, u->part, u->name) < 0)
        goto cleanup;
    rc = 0;

 cleanup:
    if (rc < 0)
        unlinkat(u->dirfd, u->part, 0);
    ss_upload_free(u);
    return rc;
}

/* hv_storage_ops.upload_cancel on simulated storage (simstore.h). */
void
hv_simstore_upload_cancel(struct hv_simstore_upload *u)
{
    if (!u)
        return;
    unlinkat(u->dirfd, u->part, 0);
    ss_upload_free(u);
}
