/*
 * test_hv_storage.c - hv/: repositories and their files through
 * hv_libvirt.storage on simulated hosts (test:/// connections, whose
 * storage hv/simstore.c keeps on real files). Every test checks what
 * happened on disk, not only what the driver answered: the layout a mount
 * builds, shared NFS exports between two hosts, sparse and preallocated
 * volumes (st_blocks), qcow2 overlays, copies and their abort, uploads
 * that appear only when finished, names that would escape a repository,
 * and repository removal; OCFS2 file systems on simulated iSCSI LUNs
 * (made, shared, measured by their LUN, wiped).
 *
 * Each test gets a fresh temporary directory with two simulated hosts
 * (sim-1, sim-2), an NFS server "filer1" exporting /exports/a and
 * /exports/b, the iSCSI portal hv_sim_generate() makes (lun-0 of 1 GiB,
 * lun-1 of 2 GiB), and both hosts connected.
 */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cmocka.h>

#include "hv/hv.h"
#include "tmpdir.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/log.h"
#include "util/str.h"

#define MIB (1024ULL * 1024)
#define REPO "0004fb0000030000aaaa"
#define REPO2 "0004fb0000030000bbbb"

/* One test's world. */
struct fx {
    char dir[256];                 /* the simulated hosts' directory */
    struct hv_conn *c1, *c2;       /* sim-1, sim-2 */
    const struct hv_storage_ops *ops;
};

static const struct hv_fs nfs_a = { "nfs", "filer1", "/exports/a" };
static const struct hv_fs nfs_b = { "nfs", "filer1", "/exports/b" };

/* The simulated portal's LUNs as devices, and where they live. */
#define DEV_PREFIX "/dev/disk/by-path/ip-" HV_SIM_ISCSI_HOST ":3260-iscsi-"
#define LUN_DEV(n) DEV_PREFIX HV_SIM_ISCSI_IQN "-lun-" n
#define TGT_DIR "iscsi/" HV_SIM_ISCSI_HOST "/" HV_SIM_ISCSI_IQN
static const struct hv_fs lun0 = { "ocfs2", NULL, LUN_DEV("0") };
static const struct hv_fs lun1 = { "ocfs2", NULL, LUN_DEV("1") };
static const struct hv_fs lun9 = { "ocfs2", NULL, LUN_DEV("9") };

/* "<fx dir>/<rel>". Caller frees. */
static char *
fx_path(const struct fx *f, const char *rel)
{
    return xasprintf("%s/%s", f->dir, rel);
}

/* mkdir -p "<fx dir>/<rel>". */
static void
fx_mkdir(const struct fx *f, const char *rel)
{
    char *cmd = xasprintf("mkdir -p '%s/%s'", f->dir, rel);

    assert_int_equal(system(cmd), 0);
    xfree(cmd);
}

/* True when "<fx dir>/<rel>" exists (without following a last link). */
static bool
fx_exists(const struct fx *f, const char *rel)
{
    char *p = fx_path(f, rel);
    struct stat st;
    bool ok = lstat(p, &st) == 0;

    xfree(p);
    return ok;
}

/* lstat() of "<fx dir>/<rel>", which must exist. */
static struct stat
fx_stat(const struct fx *f, const char *rel)
{
    char *p = fx_path(f, rel);
    struct stat st;

    if (lstat(p, &st) != 0)
        fail_msg("'%s' does not exist", p);
    xfree(p);
    return st;
}

/* The number of entries (other than . and ..) of "<fx dir>/<rel>". */
static int
fx_count(const struct fx *f, const char *rel)
{
    char *p = fx_path(f, rel);
    DIR *d = opendir(p);
    struct dirent *de;
    int n = 0;

    assert_non_null(d);
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    }
    closedir(d);
    xfree(p);
    return n;
}

/* Write @len bytes of @byte at @off into "<fx dir>/<rel>" (made when
 * missing), then give the file @size bytes when @size is not 0. */
static void
fx_fill(const struct fx *f, const char *rel, off_t off, size_t len, int byte,
        off_t size)
{
    char *p = fx_path(f, rel);
    char *buf = xmalloc(len ? len : 1);
    int fd = open(p, O_WRONLY | O_CREAT, 0644);

    assert_true(fd >= 0);
    memset(buf, byte, len);
    assert_int_equal(pwrite(fd, buf, len, off), (ssize_t)len);
    if (size)
        assert_int_equal(ftruncate(fd, size), 0);
    close(fd);
    xfree(buf);
    xfree(p);
}

/* The whole of "<fx dir>/<rel>". Caller frees; *len its size. */
static char *
fx_slurp(const struct fx *f, const char *rel, size_t *len)
{
    char *p = fx_path(f, rel);
    FILE *fp = fopen(p, "rb");
    char *data;
    long n;

    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    n = ftell(fp);
    rewind(fp);
    data = xmalloc((size_t)n + 1);
    assert_int_equal(fread(data, 1, (size_t)n, fp), (size_t)n);
    data[n] = '\0';
    fclose(fp);
    xfree(p);
    *len = (size_t)n;
    return data;
}

/* Open simulated host @name of @dir. */
static struct hv_conn *
open_sim(const char *dir, const char *name)
{
    char *uri = hv_uri_for(name, NULL, "xen+tls://{host}/system", dir);
    struct hv_conn *c;

    assert_non_null(uri);
    c = hv_libvirt.open(uri, NULL);
    if (!c)
        fail_msg("open %s: %s", uri, err_message());
    xfree(uri);
    return c;
}

static int
fx_setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof(*f));

    assert_int_equal(tmpdir_make(f->dir, sizeof(f->dir), "hvstore"), 0);
    assert_int_equal(hv_sim_generate(f->dir, 2, "seed-storage"), 0);
    fx_mkdir(f, "nfs/filer1/exports/a");
    fx_mkdir(f, "nfs/filer1/exports/b");
    f->c1 = open_sim(f->dir, "sim-1");
    f->c2 = open_sim(f->dir, "sim-2");
    f->ops = hv_libvirt.storage;
    assert_non_null(f->ops);
    *state = f;
    return 0;
}

static int
fx_teardown(void **state)
{
    struct fx *f = *state;
    char *cmd = xasprintf("rm -rf '%s'", f->dir);

    hv_libvirt.close(f->c1);
    hv_libvirt.close(f->c2);
    assert_int_equal(system(cmd), 0);
    xfree(cmd);
    xfree(f);
    return 0;
}

/* Mount REPO on sim-1 from nfs_a share "r1", building it. */
static void
fx_mount_a(struct fx *f)
{
    if (f->ops->repo_mount(f->c1, REPO, &nfs_a, "r1", true) != 0)
        fail_msg("repo_mount: %s", err_message());
}

/* ---- iSCSI ---- */

static void
test_iscsi_targets(void **state)
{
    struct fx *f = *state;
    char **v = NULL;
    size_t n = 99;

    /* hv_sim_generate() made sim-iscsi with one target. */
    assert_int_equal(f->ops->iscsi_targets(f->c1, HV_SIM_ISCSI_HOST, 3260,
                                           &v, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(v[0], HV_SIM_ISCSI_IQN);
    hv_strv_free(v, n);

    /* A new target directory shows up; a file or a bad name does not. */
    fx_mkdir(f, "iscsi/" HV_SIM_ISCSI_HOST "/iqn.2026-01.test.sim:a");
    fx_mkdir(f, "iscsi/" HV_SIM_ISCSI_HOST "/bad name");
    fx_fill(f, "iscsi/" HV_SIM_ISCSI_HOST "/iqn.2026-01.test.sim:file", 0, 1,
            'x', 0);
    assert_int_equal(f->ops->iscsi_targets(f->c2, HV_SIM_ISCSI_HOST, 3260,
                                           &v, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(v[0], "iqn.2026-01.test.sim:a");
    assert_string_equal(v[1], HV_SIM_ISCSI_IQN);
    hv_strv_free(v, n);

    /* A portal that is not there; a bad host name. */
    assert_int_equal(f->ops->iscsi_targets(f->c1, "nosuch", 3260, &v, &n),
                     -1);
    assert_int_equal(err_code(), ERR_UNREACHABLE);
    assert_int_equal(f->ops->iscsi_targets(f->c1, "../x", 3260, &v, &n), -1);
    assert_int_equal(err_code(), ERR_INVALID);
}

static void
test_iscsi_luns(void **state)
{
    struct fx *f = *state;
    struct hv_lun *l = NULL, *l2 = NULL;
    size_t n = 99, n2 = 0;

    assert_int_equal(f->ops->iscsi_luns(f->c1, HV_SIM_ISCSI_HOST, 3260,
                                        HV_SIM_ISCSI_IQN, &l, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(l[0].lun, 0);
    assert_int_equal(l[1].lun, 1);
    assert_true(l[0].size_bytes == 1ULL << 30);
    assert_true(l[1].size_bytes == 2ULL << 30);
    assert_int_equal(strlen(l[0].page83), 18);
    assert_string_not_equal(l[0].page83, l[1].page83);
    assert_string_equal(l[0].vendor, "SIM");

    /* Stable: another server sees the same ids; a new LUN appears,
     * sorted by number; a directory is no LUN. */
    fx_fill(f, "iscsi/" HV_SIM_ISCSI_HOST "/" HV_SIM_ISCSI_IQN "/lun-10", 0,
            1, 'x', 4096);
    fx_mkdir(f, "iscsi/" HV_SIM_ISCSI_HOST "/" HV_SIM_ISCSI_IQN "/lun-3");
    assert_int_equal(f->ops->iscsi_luns(f->c2, HV_SIM_ISCSI_HOST, 3260,
                                        HV_SIM_ISCSI_IQN, &l2, &n2), 0);
    assert_int_equal(n2, 3);
    assert_string_equal(l2[0].page83, l[0].page83);
    assert_string_equal(l2[1].page83, l[1].page83);
    assert_int_equal(l2[2].lun, 10);
    assert_true(l2[2].size_bytes == 4096);
    xfree(l);
    xfree(l2);

    /* An empty target; an unknown one; bad names. */
    fx_mkdir(f, "iscsi/" HV_SIM_ISCSI_HOST "/iqn.2026-01.test.sim:empty");
    assert_int_equal(f->ops->iscsi_luns(f->c1, HV_SIM_ISCSI_HOST, 3260,
                                        "iqn.2026-01.test.sim:empty", &l,
                                        &n), 0);
    assert_int_equal(n, 0);
    assert_null(l);
    assert_int_equal(f->ops->iscsi_luns(f->c1, HV_SIM_ISCSI_HOST, 3260,
                                        "iqn.2026-01.test.sim:none", &l, &n),
                     -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_int_equal(f->ops->iscsi_luns(f->c1, HV_SIM_ISCSI_HOST, 3260,
                                        "../etc", &l, &n), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_int_equal(f->ops->iscsi_luns(f->c1, "nosuch", 3260,
                                        HV_SIM_ISCSI_IQN, &l, &n), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
}

/* ---- exports and probing ---- */

static void
test_nfs_exports(void **state)
{
    struct fx *f = *state;
    char **v = NULL;
    size_t n = 99;

    assert_int_equal(f->ops->nfs_exports(f->c1, "filer1", &v, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(v[0], "/exports/a");
    assert_string_equal(v[1], "/exports/b");
    hv_strv_free(v, n);

    /* A new export directory shows up; a plain file there does not. */
    fx_mkdir(f, "nfs/filer1/exports/0first");
    fx_fill(f, "nfs/filer1/exports/notadir", 0, 1, 'x', 0);
    assert_int_equal(f->ops->nfs_exports(f->c2, "filer1", &v, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(v[0], "/exports/0first");
    hv_strv_free(v, n);

    /* A server that exports nothing; one that is not there. */
    fx_mkdir(f, "nfs/quiet");
    assert_int_equal(f->ops->nfs_exports(f->c1, "quiet", &v, &n), 0);
    assert_int_equal(n, 0);
    assert_null(v);
    assert_int_equal(f->ops->nfs_exports(f->c1, "nosuch", &v, &n), -1);
    assert_int_equal(err_code(), ERR_UNREACHABLE);
    assert_int_equal(f->ops->nfs_exports(f->c1, "../filer1", &v, &n), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    hv_strv_free(NULL, 0);
}

static void
test_fs_probe(void **state)
{
    struct fx *f = *state;
    static const struct hv_fs missing = { "nfs", "filer1", "/exports/zz" };
    static const struct hv_fs local = { "local", NULL, "/srv/store" };
    struct hv_space sp;
    char *text = (char *)1;

    /* An empty export: space, no repository. */
    assert_int_equal(f->ops->fs_probe(f->c1, &nfs_a, "", &sp, &text), 0);
    assert_null(text);
    assert_true(sp.capacity_bytes > 0);
    assert_true(sp.available_bytes <= sp.capacity_bytes);

    /* A repository at the export's root and one in a share. */
    fx_fill(f, "nfs/filer1/exports/a/.ovsrepo", 0, 5, 'r', 0);
    assert_int_equal(f->ops->fs_probe(f->c1, &nfs_a, "", &sp, &text), 0);
    assert_string_equal(text, "rrrrr");
    xfree(text);
    fx_mkdir(f, "nfs/filer1/exports/a/sub");
    fx_fill(f, "nfs/filer1/exports/a/sub/.ovsrepo", 0, 3, 's', 0);
    assert_int_equal(f->ops->fs_probe(f->c2, &nfs_a, "sub", &sp, &text), 0);
    assert_string_equal(text, "sss");
    xfree(text);
    /* A share that does not exist yet is no repository, not an error. */
    assert_int_equal(f->ops->fs_probe(f->c2, &nfs_a, "new", &sp, &text), 0);
    assert_null(text);
    assert_false(fx_exists(f, "nfs/filer1/exports/a/new"));

    /* Too big a .ovsrepo. */
    fx_fill(f, "nfs/filer1/exports/b/.ovsrepo", 0, 70000, 'x', 0);
    assert_int_equal(f->ops->fs_probe(f->c1, &nfs_b, "", &sp, &text), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_null(text);

    /* No such export; bad paths. */
    assert_int_equal(f->ops->fs_probe(f->c1, &missing, "", &sp, &text), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_int_equal(f->ops->fs_probe(f->c1, &nfs_a, "../b", &sp, &text), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_int_equal(f->ops->fs_probe(f->c1, &nfs_a, "/abs", &sp, &text), -1);
    assert_int_equal(err_code(), ERR_INVALID);

    /* A local directory of sim-1 only. */
    assert_int_equal(f->ops->fs_probe(f->c1, &local, "", &sp, &text), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    fx_mkdir(f, "local/sim-1/srv/store");
    assert_int_equal(f->ops->fs_probe(f->c1, &local, "", &sp, &text), 0);
    assert_null(text);
    assert_true(sp.capacity_bytes > 0);
    assert_int_equal(f->ops->fs_probe(f->c2, &local, "", &sp, &text), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
}

/* ---- mounts ---- */

static void
test_mount_build(void **state)
{
    struct fx *f = *state;
    static const char *const subs[] = { "Templates", "Assemblies", "ISOs",
                                        "VirtualDisks", "VirtualMachines" };
    struct hv_space sp;
    size_t i;

    assert_int_equal(f->ops->repo_mounted(f->c1, REPO), 0);
    /* Not built and not there. */
    assert_int_equal(f->ops->repo_mount(f->c1, REPO, &nfs_a, "r1", false),
                     -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_false(fx_exists(f, "nfs/filer1/exports/a/r1"));

    fx_mount_a(f);
    for (i = 0; i < 5; i++) {
        char *rel = xasprintf("nfs/filer1/exports/a/r1/%s", subs[i]);

        assert_true(S_ISDIR(fx_stat(f, rel).st_mode));
        xfree(rel);
        assert_string_equal(hv_repo_dir_name((enum hv_repo_dir)(i + 1)),
                            subs[i]);
    }
    assert_string_equal(hv_repo_dir_name(HV_DIR_ROOT), "");
    assert_int_equal(fx_count(f, "nfs/filer1/exports/a/r1"), 5);
    assert_true(fx_exists(f, "mounts/sim-1/" REPO));
    assert_int_equal(f->ops->repo_mounted(f->c1, REPO), 1);
    assert_int_equal(f->ops->repo_mounted(f->c2, REPO), 0);
    assert_int_equal(f->ops->repo_space(f->c1, REPO, &sp), 0);
    assert_true(sp.capacity_bytes > 0);
    assert_int_equal(f->ops->repo_space(f->c2, REPO, &sp), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);

    /* Idempotent, with or without build; another root is refused. */
    fx_mount_a(f);
    assert_int_equal(f->ops->repo_mount(f->c1, REPO, &nfs_a, "r1", false), 0);
    assert_int_equal(f->ops->repo_mount(f->c1, REPO, &nfs_b, "", false), -1);
    assert_int_equal(err_code(), ERR_STATE);

    /* Survives reconnection. */
    hv_libvirt.close(f->c1);
    f->c1 = open_sim(f->dir, "sim-1");
    assert_int_equal(f->ops->repo_mounted(f->c1, REPO), 1);

    /* Unmount: gone from the host, files stay; twice is fine. */
    assert_int_equal(f->ops->file_write(f->c1, REPO, HV_DIR_ROOT, ".ovsrepo",
                                        "id", 2), 0);
    assert_int_equal(f->ops->repo_unmount(f->c1, REPO), 0);
    assert_int_equal(f->ops->repo_mounted(f->c1, REPO), 0);
    assert_false(fx_exists(f, "mounts/sim-1/" REPO));
    assert_true(fx_exists(f, "nfs/filer1/exports/a/r1/.ovsrepo"));
    assert_true(fx_exists(f, "nfs/filer1/exports/a/r1/VirtualDisks"));
    assert_int_equal(f->ops->repo_unmount(f->c1, REPO), 0);
    assert_int_equal(f->ops->file_list(f->c1, REPO, HV_DIR_ISOS,
                                       &(struct hv_file *){ NULL },
                                       &(size_t){ 0 }), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);

    /* An existing repository mounts without build. */
    assert_int_equal(f->ops->repo_mount(f->c1, REPO, &nfs_a, "r1", false), 0);
    assert_int_equal(f->ops->repo_mounted(f->c1, REPO), 1);
}

static void
test_mount_local(void **state)
{
    struct fx *f = *state;
    static const struct hv_fs local = { "local", NULL, "/OVS/local" };

    assert_int_equal(f->ops->repo_mount(f->c2, REPO2, &local, "repo", true),
                     0);
    assert_true(S_ISDIR(
        fx_stat(f, "local/sim-2/OVS/local/repo/VirtualMachines").st_mode));
    assert_false(fx_exists(f, "local/sim-1"));
    assert_int_equal(f->ops->file_write(f->c2, REPO2, HV_DIR_VIRTUAL_MACHINES,
                                        "vm.cfg", "x=1\n", 4), 0);
    assert_true(fx_exists(f, "local/sim-2/OVS/local/repo/VirtualMachines/"
                             "vm.cfg"));
    /* sim-1 has no such local directory. */
    assert_int_equal(f->ops->repo_mount(f->c1, REPO2, &local, "repo", false),
                     -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
}

static void
test_shared_export(void **state)
{
    struct fx *f = *state;
    struct hv_file *files = NULL;
    size_t n = 0, len = 0;
    char *data = NULL;

    fx_mount_a(f);
    assert_int_equal(f->ops->repo_mount(f->c2, REPO, &nfs_a, "r1", false), 0);
    assert_true(fx_exists(f, "mounts/sim-2/" REPO));

    /* One writes, the other reads and lists; then the other way. */
    assert_int_equal(f->ops->file_write(f->c1, REPO, HV_DIR_VIRTUAL_MACHINES,
                                        "a.vm.cfg", "name=a\n", 7), 0);
    assert_int_equal(f->ops->file_read(f->c2, REPO, HV_DIR_VIRTUAL_MACHINES,
                                       "a.vm.cfg", 1024, &data, &len), 0);
    assert_int_equal(len, 7);
    assert_memory_equal(data, "name=a\n", 7);
    xfree(data);
    assert_int_equal(f->ops->file_create(f->c2, REPO, HV_DIR_VIRTUAL_DISKS,
                                         "d.img", MIB, true, "raw", NULL), 0);
    assert_int_equal(f->ops->file_list(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                       &files, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(files[0].name, "d.img");
    xfree(files);

    /* sim-2 unmounting leaves sim-1's mount alone. */
    assert_int_equal(f->ops->repo_unmount(f->c2, REPO), 0);
    assert_int_equal(f->ops->repo_mounted(f->c1, REPO), 1);
    assert_int_equal(f->ops->file_list(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                       &files, &n), 0);
    assert_int_equal(n, 1);
    xfree(files);
}

/* ---- files ---- */

static void
test_file_create(void **state)
{
    struct fx *f = *state;
    const char *vd = "nfs/filer1/exports/a/r1/VirtualDisks";
    struct hv_file info, *files = NULL;
    struct stat st;
    char *rel, *head;
    size_t n = 0, len;

    fx_mount_a(f);

    /* Sparse raw: the size, no blocks. */
    assert_int_equal(f->ops->file_create(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                         "sparse.img", 64 * MIB, true, "raw",
                                         NULL), 0);
    rel = xasprintf("%s/sparse.img", vd);
    st = fx_stat(f, rel);
    xfree(rel);
    assert_int_equal(st.st_size, 64 * MIB);
    assert_true((uint64_t)st.st_blocks * 512 < MIB);
    assert_int_equal(f->ops->file_info(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                       "sparse.img", &info), 0);
    assert_string_equal(info.name, "sparse.img");
    assert_string_equal(info.format, "raw");
    assert_int_equal(info.capacity_bytes, 64 * MIB);
    assert_int_equal(info.allocation_bytes, (uint64_t)st.st_blocks * 512);
    assert_string_equal(info.backing, "");

    /* Preallocated raw: every block. */
    assert_int_equal(f->ops->file_create(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                         "full.img", 8 * MIB, false, "raw",
                                         NULL), 0);
    rel = xasprintf("%s/full.img", vd);
    st = fx_stat(f, rel);
    xfree(rel);
    assert_int_equal(st.st_size, 8 * MIB);
    assert_true((uint64_t)st.st_blocks * 512 >= 8 * MIB);
    assert_int_equal(f->ops->file_info(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                       "full.img", &info), 0);
    assert_true(info.allocation_bytes >= 8 * MIB);

    /* The name is taken. */
    assert_int_equal(f->ops->file_create(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                         "full.img", MIB, true, "raw", NULL),
                     -1);
    assert_int_equal(err_code(), ERR_EXISTS);
    rel = xasprintf("%s/full.img", vd);
    assert_int_equal(fx_stat(f, rel).st_size, 8 * MIB);  /* untouched */
    xfree(rel);

    /* A qcow2 overlay of full.img: its size by default, the backing
     * named; a qcow2 header on disk. */
    assert_int_equal(f->ops->file_create(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                         "thin.img", 0, true, "qcow2",
                                         "full.img"), 0);
    assert_int_equal(f->ops->file_info(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                       "thin.img", &info), 0);
    assert_string_equal(info.format, "qcow2");
    assert_string_equal(info.backing, "full.img");
    assert_int_equal(info.capacity_bytes, 8 * MIB);
    rel = xasprintf("%s/thin.img", vd);
    head = fx_slurp(f, rel, &len);
    xfree(rel);
    assert_true(len >= 4 * 65536);
    assert_memory_equal(head, "QFI\xfb\0\0\0\3", 8);
    assert_non_null(memmem(head, len, "full.img", 8));
    xfree(head);
    /* ... larger than its backing file, and without one. */
    assert_int_equal(f->ops->file_create(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                         "thin2.img", 100 * MIB, true,
                                         "qcow2", "full.img"), 0);
    assert_int_equal(f->ops->file_info(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                       "thin2.img", &info), 0);
    assert_int_equal(info.capacity_bytes, 100 * MIB);
    assert_int_equal(f->ops->file_create(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                         "alone.qcow2", 3 * MIB, true,
                                         "qcow2", NULL), 0);
    assert_int_equal(f->ops->file_info(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                       "alone.qcow2", &info), 0);
    assert_string_equal(info.format, "qcow2");
    assert_string_equal(info.backing, "");
    assert_int_equal(info.capacity_bytes, 3 * MIB);
    /* qemu-img, where installed, agrees that these are valid images. */
    if (system("command -v qemu-img >/dev/null 2>&1") == 0) {
        char *cmd = xasprintf("cd '%s/%s' && qemu-img check -q thin.img && "
                              "qemu-img check -q alone.qcow2 && "
                              "qemu-img info thin.img | grep -q "
                              "'backing file: full.img'", f->dir, vd);

        assert_int_equal(system(cmd), 0);
        xfree(cmd);
    }

    /* Backing missing or given to raw; unknown format. */
    assert_int_equal(f->ops->file_create(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                         "o.img", 0, true, "qcow2", "nope"),
                     -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_int_equal(f->ops->file_create(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                         "o.img", MIB, true, "raw",
                                         "full.img"), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_int_equal(f->ops->file_create(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                         "o.img", MIB, true, "vmdk", NULL),
                     -1);
    assert_int_equal(err_code(), ERR_INVALID);
    rel = xasprintf("%s/o.img", vd);
    assert_false(fx_exists(f, rel));
    xfree(rel);

    /* An ISO is known by its name. */
    assert_int_equal(f->ops->file_create(f->c1, REPO, HV_DIR_ISOS, "cd.iso",
                                         MIB, false, "raw", NULL), 0);
    assert_int_equal(f->ops->file_info(f->c1, REPO, HV_DIR_ISOS, "cd.iso",
                                       &info), 0);
    assert_string_equal(info.format, "iso");

    /* Listing: sorted, every file. */
    assert_int_equal(f->ops->file_list(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                       &files, &n), 0);
    assert_int_equal(n, 5);
    assert_string_equal(files[0].name, "alone.qcow2");
    assert_string_equal(files[1].name, "full.img");
    assert_string_equal(files[2].name, "sparse.img");
    assert_string_equal(files[3].name, "thin.img");
    assert_string_equal(files[4].name, "thin2.img");
    assert_string_equal(files[3].backing, "full.img");
    xfree(files);
    assert_int_equal(f->ops->file_list(f->c1, REPO, HV_DIR_TEMPLATES, &files,
                                       &n), 0);
    assert_int_equal(n, 0);
    assert_null(files);
}

/* An aborting() that says yes from its @limit-th call on. */
struct abort_after {
    int calls;
    int limit;
};

static bool
abort_after(void *opaque)
{
    struct abort_after *a = opaque;

    return ++a->calls >= a->limit;
}

static void
test_file_copy(void **state)
{
    struct fx *f = *state;
    const char *vd = "nfs/filer1/exports/a/r1/VirtualDisks";
    char *src_rel, *a, *b;
    struct abort_after ab = { 0, 3 };
    struct hv_file info;
    struct stat st;
    size_t la, lb;

    fx_mount_a(f);
    assert_int_equal(f->ops->repo_mount(f->c1, REPO2, &nfs_b, "", true), 0);
    /* 32 MiB with data at 0 (1 MiB) and at 20 MiB (4 KiB), holes
     * elsewhere, and a zero-filled MiB at 8 MiB that is allocated. */
    src_rel = xasprintf("%s/src.img", vd);
    fx_fill(f, src_rel, 0, MIB, 'A', 32 * MIB);
    fx_fill(f, src_rel, 20 * MIB, 4096, 'B', 0);
    fx_fill(f, src_rel, 8 * MIB, MIB, 0, 0);

    /* Sparse, within the repository: same bytes, holes kept. */
    assert_int_equal(f->ops->file_copy(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                       "src.img", REPO, HV_DIR_VIRTUAL_DISKS,
                                       "sparse.img", true, NULL, NULL), 0);
    a = fx_slurp(f, src_rel, &la);
    {
        char *rel = xasprintf("%s/sparse.img", vd);

        b = fx_slurp(f, rel, &lb);
        st = fx_stat(f, rel);
        xfree(rel);
    }
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    xfree(b);
    assert_int_equal(st.st_size, 32 * MIB);
    assert_true((uint64_t)st.st_blocks * 512 < 3 * MIB);

    /* Not sparse, to the other repository: every block. */
    assert_int_equal(f->ops->file_copy(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                       "src.img", REPO2, HV_DIR_TEMPLATES,
                                       "full.img", false, NULL, NULL), 0);
    b = fx_slurp(f, "nfs/filer1/exports/b/Templates/full.img", &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    xfree(b);
    xfree(a);
    st = fx_stat(f, "nfs/filer1/exports/b/Templates/full.img");
    assert_true((uint64_t)st.st_blocks * 512 >= 32 * MIB);
    assert_int_equal(f->ops->file_info(f->c1, REPO2, HV_DIR_TEMPLATES,
                                       "full.img", &info), 0);
    assert_int_equal(info.capacity_bytes, 32 * MIB);

    /* Target taken; source missing. */
    assert_int_equal(f->ops->file_copy(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                       "src.img", REPO2, HV_DIR_TEMPLATES,
                                       "full.img", true, NULL, NULL), -1);
    assert_int_equal(err_code(), ERR_EXISTS);
    assert_int_equal(f->ops->file_copy(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                       "nope.img", REPO2, HV_DIR_TEMPLATES,
                                       "x.img", true, NULL, NULL), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);

    /* Aborted after a few chunks: no target, no partial file. */
    assert_int_equal(f->ops->file_copy(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                       "src.img", REPO2, HV_DIR_TEMPLATES,
                                       "aborted.img", false, abort_after,
                                       &ab), -1);
    assert_int_equal(err_code(), ERR_ABORTED);
    assert_int_equal(ab.calls, ab.limit);
    assert_false(fx_exists(f, "nfs/filer1/exports/b/Templates/aborted.img"));
    assert_int_equal(fx_count(f, "nfs/filer1/exports/b/Templates"), 1);
    /* An aborting() that never says yes is asked at least once a MiB. */
    ab.calls = 0;
    ab.limit = 1000000;
    assert_int_equal(f->ops->file_copy(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                       "src.img", REPO2, HV_DIR_TEMPLATES,
                                       "asked.img", false, abort_after, &ab),
                     0);
    assert_true(ab.calls >= 2);
    xfree(src_rel);
}

static void
test_file_resize(void **state)
{
    struct fx *f = *state;
    struct hv_file info;

    fx_mount_a(f);
    assert_int_equal(f->ops->file_create(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                         "r.img", 4 * MIB, true, "raw", NULL),
                     0);
    assert_int_equal(f->ops->file_resize(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                         "r.img", 10 * MIB), 0);
    assert_int_equal(
        fx_stat(f, "nfs/filer1/exports/a/r1/VirtualDisks/r.img").st_size,
        10 * MIB);
    /* Shrinking is refused and changes nothing; the same size is fine. */
    assert_int_equal(f->ops->file_resize(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                         "r.img", 2 * MIB), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_int_equal(
        fx_stat(f, "nfs/filer1/exports/a/r1/VirtualDisks/r.img").st_size,
        10 * MIB);
    assert_int_equal(f->ops->file_resize(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                         "r.img", 10 * MIB), 0);

    /* qcow2: the virtual size grows, the file does not. */
    assert_int_equal(f->ops->file_create(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                         "q.img", 0, true, "qcow2", "r.img"),
                     0);
    assert_int_equal(f->ops->file_resize(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                         "q.img", 4096 * MIB), 0);
    assert_int_equal(f->ops->file_info(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                       "q.img", &info), 0);
    assert_string_equal(info.format, "qcow2");
    assert_int_equal(info.capacity_bytes, 4096 * MIB);
    assert_string_equal(info.backing, "r.img");
    assert_true(
        fx_stat(f, "nfs/filer1/exports/a/r1/VirtualDisks/q.img").st_size <
        (off_t)MIB);
    assert_int_equal(f->ops->file_resize(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                         "q.img", MIB), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    if (system("command -v qemu-img >/dev/null 2>&1") == 0) {
        char *cmd = xasprintf("cd '%s/nfs/filer1/exports/a/r1/VirtualDisks' "
                              "&& qemu-img check -q q.img && qemu-img info "
                              "q.img | grep -q '4 GiB'", f->dir);

        assert_int_equal(system(cmd), 0);
        xfree(cmd);
    }

    assert_int_equal(f->ops->file_resize(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                         "nope.img", 10 * MIB), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
}

static void
test_file_delete(void **state)
{
    struct fx *f = *state;

    fx_mount_a(f);
    assert_int_equal(f->ops->file_create(f->c1, REPO, HV_DIR_ISOS, "x.iso",
                                         MIB, true, "raw", NULL), 0);
    assert_true(fx_exists(f, "nfs/filer1/exports/a/r1/ISOs/x.iso"));
    /* sim-2, with its own mount, deletes it. */
    assert_int_equal(f->ops->repo_mount(f->c2, REPO, &nfs_a, "r1", false), 0);
    assert_int_equal(f->ops->file_delete(f->c2, REPO, HV_DIR_ISOS, "x.iso"),
                     0);
    assert_false(fx_exists(f, "nfs/filer1/exports/a/r1/ISOs/x.iso"));
    assert_int_equal(f->ops->file_delete(f->c1, REPO, HV_DIR_ISOS, "x.iso"),
                     -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    /* A directory is not a file. */
    fx_mkdir(f, "nfs/filer1/exports/a/r1/ISOs/adir");
    assert_int_equal(f->ops->file_delete(f->c1, REPO, HV_DIR_ISOS, "adir"),
                     -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_true(fx_exists(f, "nfs/filer1/exports/a/r1/ISOs/adir"));
}

static void
test_file_read_write(void **state)
{
    struct fx *f = *state;
    const char *vm = "nfs/filer1/exports/a/r1/VirtualMachines";
    char *data = NULL, *rel;
    size_t len = 0;

    fx_mount_a(f);
    assert_int_equal(f->ops->file_write(f->c1, REPO, HV_DIR_VIRTUAL_MACHINES,
                                        "v.vm.cfg", "a long first text\n",
                                        18), 0);
    assert_int_equal(f->ops->file_write(f->c1, REPO, HV_DIR_VIRTUAL_MACHINES,
                                        "v.vm.cfg", "short\n", 6), 0);
    rel = xasprintf("%s/v.vm.cfg", vm);
    data = fx_slurp(f, rel, &len);
    xfree(rel);
    assert_int_equal(len, 6);
    assert_string_equal(data, "short\n");
    xfree(data);
    /* No temporary file is left. */
    assert_int_equal(fx_count(f, vm), 1);

    assert_int_equal(f->ops->file_read(f->c1, REPO, HV_DIR_VIRTUAL_MACHINES,
                                       "v.vm.cfg", 6, &data, &len), 0);
    assert_int_equal(len, 6);
    assert_string_equal(data, "short\n");
    xfree(data);
    assert_int_equal(f->ops->file_read(f->c1, REPO, HV_DIR_VIRTUAL_MACHINES,
                                       "v.vm.cfg", 5, &data, &len), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_null(data);
    assert_int_equal(f->ops->file_read(f->c1, REPO, HV_DIR_VIRTUAL_MACHINES,
                                       "none.cfg", 100, &data, &len), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);

    /* An empty file; .ovsrepo at the root. */
    assert_int_equal(f->ops->file_write(f->c1, REPO, HV_DIR_VIRTUAL_MACHINES,
                                        "empty", "", 0), 0);
    assert_int_equal(f->ops->file_read(f->c1, REPO, HV_DIR_VIRTUAL_MACHINES,
                                       "empty", 10, &data, &len), 0);
    assert_int_equal(len, 0);
    xfree(data);
    assert_int_equal(f->ops->file_write(f->c1, REPO, HV_DIR_ROOT, ".ovsrepo",
                                        "OVS_REPO_UUID=x\n", 16), 0);
    data = fx_slurp(f, "nfs/filer1/exports/a/r1/.ovsrepo", &len);
    assert_string_equal(data, "OVS_REPO_UUID=x\n");
    xfree(data);
}

static void
test_upload(void **state)
{
    struct fx *f = *state;
    const char *iso = "nfs/filer1/exports/a/r1/ISOs";
    struct hv_upload *u, *u2;
    struct hv_file *files = NULL;
    char *data, chunk[4096];
    size_t n = 0, len, i;

    fx_mount_a(f);
    u = f->ops->upload_begin(f->c1, REPO, HV_DIR_ISOS, "up.iso");
    assert_non_null(u);
    memset(chunk, 'u', sizeof(chunk));
    for (i = 0; i < 3; i++)
        assert_int_equal(f->ops->upload_write(u, chunk, sizeof(chunk)), 0);
    assert_int_equal(f->ops->upload_write(u, "end", 3), 0);
    /* Not there until finished: not on disk, not listed. */
    assert_false(fx_exists(f, "nfs/filer1/exports/a/r1/ISOs/up.iso"));
    assert_true(fx_exists(f, "nfs/filer1/exports/a/r1/ISOs/.up.iso.part"));
    assert_int_equal(f->ops->file_list(f->c1, REPO, HV_DIR_ISOS, &files, &n),
                     0);
    assert_int_equal(n, 0);
    /* A second writer of the same name is refused meanwhile. */
    assert_null(f->ops->upload_begin(f->c1, REPO, HV_DIR_ISOS, "up.iso"));
    assert_int_equal(err_code(), ERR_EXISTS);
    assert_int_equal(f->ops->upload_finish(u), 0);
    data = fx_slurp(f, "nfs/filer1/exports/a/r1/ISOs/up.iso", &len);
    assert_int_equal(len, 3 * sizeof(chunk) + 3);
    assert_memory_equal(data + 3 * sizeof(chunk), "end", 3);
    xfree(data);
    assert_int_equal(fx_count(f, iso), 1);

    /* The name is taken now. */
    assert_null(f->ops->upload_begin(f->c1, REPO, HV_DIR_ISOS, "up.iso"));
    assert_int_equal(err_code(), ERR_EXISTS);

    /* Cancelled: nothing stays, no partial file either. */
    u = f->ops->upload_begin(f->c1, REPO, HV_DIR_ISOS, "gone.iso");
    assert_non_null(u);
    assert_int_equal(f->ops->upload_write(u, chunk, sizeof(chunk)), 0);
    f->ops->upload_cancel(u);
    f->ops->upload_cancel(NULL);
    assert_false(fx_exists(f, "nfs/filer1/exports/a/r1/ISOs/gone.iso"));
    assert_false(fx_exists(f, "nfs/filer1/exports/a/r1/ISOs/.gone.iso.part"));
    assert_int_equal(fx_count(f, iso), 1);

    /* A stale partial file (its writer died) does not block a new
     * upload; a name taken between begin and finish fails the finish,
     * which cleans up. */
    fx_fill(f, "nfs/filer1/exports/a/r1/ISOs/.late.iso.part", 0, 10, 's', 0);
    u = f->ops->upload_begin(f->c1, REPO, HV_DIR_ISOS, "late.iso");
    assert_non_null(u);
    u2 = f->ops->upload_begin(f->c2, REPO, HV_DIR_ISOS, "late.iso");
    assert_null(u2);  /* sim-2 has not mounted REPO */
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_int_equal(f->ops->file_write(f->c1, REPO, HV_DIR_ISOS, "late.iso",
                                        "first", 5), 0);
    assert_int_equal(f->ops->upload_write(u, "second", 6), 0);
    assert_int_equal(f->ops->upload_finish(u), -1);
    assert_int_equal(err_code(), ERR_EXISTS);
    data = fx_slurp(f, "nfs/filer1/exports/a/r1/ISOs/late.iso", &len);
    assert_string_equal(data, "first");
    xfree(data);
    assert_false(fx_exists(f, "nfs/filer1/exports/a/r1/ISOs/.late.iso.part"));
}

static void
test_invalid_names(void **state)
{
    struct fx *f = *state;
    static const char *const bad[] = { "../x", "a/b", ".hidden", "", "..",
                                       "a..b", "tab\there", ".ovsrepo" };
    static const struct hv_fs relative = { "nfs", "filer1", "exports/a" };
    static const struct hv_fs badhost = { "nfs", "../x", "/exports/a" };
    static const struct hv_fs badkind = { "iscsi", "filer1", "/e" };
    char longname[300], *data = NULL;
    struct hv_file info;
    size_t i, len;

    fx_mount_a(f);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *nm = bad[i];

        assert_int_equal(f->ops->file_create(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                             nm, MIB, true, "raw", NULL), -1);
        assert_int_equal(err_code(), ERR_INVALID);
        assert_int_equal(f->ops->file_info(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                           nm, &info), -1);
        assert_int_equal(err_code(), ERR_INVALID);
        assert_int_equal(f->ops->file_read(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                           nm, 100, &data, &len), -1);
        assert_int_equal(err_code(), ERR_INVALID);
        assert_int_equal(f->ops->file_write(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                            nm, "x", 1), -1);
        assert_int_equal(err_code(), ERR_INVALID);
        assert_int_equal(f->ops->file_delete(f->c1, REPO,
                                             HV_DIR_VIRTUAL_DISKS, nm), -1);
        assert_int_equal(err_code(), ERR_INVALID);
        assert_null(f->ops->upload_begin(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                         nm));
        assert_int_equal(err_code(), ERR_INVALID);
        assert_int_equal(f->ops->file_copy(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                           "x", REPO, HV_DIR_VIRTUAL_DISKS,
                                           nm, true, NULL, NULL), -1);
        assert_int_equal(err_code(), ERR_INVALID);
        /* As a repository id too. */
        if (strcmp(nm, ".ovsrepo") != 0) {
            assert_int_equal(f->ops->repo_mount(f->c1, nm, &nfs_a, "r9",
                                                true), -1);
            assert_int_equal(err_code(), ERR_INVALID);
            assert_int_equal(f->ops->repo_mounted(f->c1, nm), -1);
            assert_int_equal(err_code(), ERR_INVALID);
        }
    }
    /* Nothing was made anywhere: the repository has only its layout. */
    assert_int_equal(fx_count(f, "nfs/filer1/exports/a/r1/VirtualDisks"), 0);
    assert_int_equal(fx_count(f, "nfs/filer1/exports/a"), 1);
    assert_int_equal(fx_count(f, "nfs/filer1/exports/a/r1"), 5);

    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(f->ops->file_create(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                         longname, MIB, true, "raw", NULL),
                     -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_int_equal(f->ops->file_info(f->c1, REPO, (enum hv_repo_dir)42,
                                       "x.img", &info), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    /* .ovsrepo is a name only at the root. */
    assert_int_equal(f->ops->file_write(f->c1, REPO, HV_DIR_ROOT, ".ovsrepo",
                                        "x", 1), 0);
    /* Bad file systems and shares. */
    assert_int_equal(f->ops->repo_mount(f->c1, REPO2, &relative, "", true),
                     -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_int_equal(f->ops->repo_mount(f->c1, REPO2, &badhost, "", true), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_int_equal(f->ops->repo_mount(f->c1, REPO2, &badkind, "", true), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_int_equal(f->ops->repo_mount(f->c1, REPO2, &nfs_a, "../..", true),
                     -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_int_equal(f->ops->repo_mount(f->c1, REPO2, &nfs_a, "x/../..",
                                        true), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_int_equal(fx_count(f, "nfs/filer1/exports/a"), 1);
}

static void
test_symlinks(void **state)
{
    struct fx *f = *state;
    struct hv_file info, *files = NULL;
    char *secret, *link, *data = NULL;
    size_t n = 0, len;

    fx_mount_a(f);
    /* A link inside the repository to a file outside it. */
    fx_fill(f, "secret", 0, 6, 's', 0);
    secret = fx_path(f, "secret");
    link = fx_path(f, "nfs/filer1/exports/a/r1/VirtualDisks/evil.img");
    assert_int_equal(symlink(secret, link), 0);
    assert_int_equal(f->ops->file_info(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                       "evil.img", &info), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_int_equal(f->ops->file_read(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                       "evil.img", 100, &data, &len), -1);
    assert_int_equal(f->ops->file_resize(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                         "evil.img", 100 * MIB), -1);
    assert_int_equal(f->ops->file_list(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                       &files, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(f->ops->file_copy(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                       "evil.img", REPO, HV_DIR_ISOS,
                                       "stolen.img", true, NULL, NULL), -1);
    assert_false(fx_exists(f, "nfs/filer1/exports/a/r1/ISOs/stolen.img"));
    /* Writing through it replaces the link, never the target. */
    assert_int_equal(f->ops->file_write(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                        "evil.img", "mine", 4), 0);
    assert_int_equal(fx_stat(f, "secret").st_size, 6);
    assert_true(S_ISREG(fx_stat(
        f, "nfs/filer1/exports/a/r1/VirtualDisks/evil.img").st_mode));

    /* A whole subdirectory replaced by a link is not followed. */
    fx_mkdir(f, "elsewhere");
    {
        char *dir = fx_path(f, "nfs/filer1/exports/a/r1/Templates");
        char *other = fx_path(f, "elsewhere");

        assert_int_equal(rmdir(dir), 0);
        assert_int_equal(symlink(other, dir), 0);
        xfree(dir);
        xfree(other);
    }
    assert_int_equal(f->ops->file_create(f->c1, REPO, HV_DIR_TEMPLATES,
                                         "t.img", MIB, true, "raw", NULL), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_int_equal(fx_count(f, "elsewhere"), 0);
    xfree(secret);
    xfree(link);
}

static void
test_repo_destroy(void **state)
{
    struct fx *f = *state;

    fx_mount_a(f);
    assert_int_equal(f->ops->file_write(f->c1, REPO, HV_DIR_ROOT, ".ovsrepo",
                                        "id\n", 3), 0);
    assert_int_equal(f->ops->file_create(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                         "d.img", MIB, true, "raw", NULL), 0);
    /* A left-over partial file does not count. */
    fx_fill(f, "nfs/filer1/exports/a/r1/ISOs/.old.iso.part", 0, 1, 'p', 0);

    /* Not empty: refused, nothing removed. */
    assert_int_equal(f->ops->repo_destroy(f->c1, REPO), -1);
    assert_int_equal(err_code(), ERR_STATE);
    assert_non_null(strstr(err_message(), "VirtualDisks/d.img"));
    assert_int_equal(fx_count(f, "nfs/filer1/exports/a/r1"), 6);
    assert_true(fx_exists(f, "nfs/filer1/exports/a/r1/VirtualDisks/d.img"));
    assert_int_equal(f->ops->repo_mounted(f->c1, REPO), 1);

    /* Not mounted on sim-2. */
    assert_int_equal(f->ops->repo_destroy(f->c2, REPO), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);

    /* Empty: the tree goes, the export stays, the mount is gone. */
    assert_int_equal(f->ops->file_delete(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                         "d.img"), 0);
    if (f->ops->repo_destroy(f->c1, REPO) != 0)
        fail_msg("repo_destroy: %s", err_message());
    assert_false(fx_exists(f, "nfs/filer1/exports/a/r1"));
    assert_true(fx_exists(f, "nfs/filer1/exports/a"));
    assert_int_equal(f->ops->repo_mounted(f->c1, REPO), 0);
    assert_false(fx_exists(f, "mounts/sim-1/" REPO));

    /* A repository at the export's root: the export stays. */
    assert_int_equal(f->ops->repo_mount(f->c1, REPO2, &nfs_b, "", true), 0);
    assert_int_equal(f->ops->file_write(f->c1, REPO2, HV_DIR_ROOT,
                                        ".ovsrepo", "id\n", 3), 0);
    assert_int_equal(f->ops->repo_destroy(f->c1, REPO2), 0);
    assert_true(fx_exists(f, "nfs/filer1/exports/b"));
    assert_int_equal(fx_count(f, "nfs/filer1/exports/b"), 0);
}

/* ---- OCFS2 on LUNs ---- */

static void
test_lun_device(void **state)
{
    static const char *const bad_hosts[] = { "", "../x", ".h", "a b",
                                             "h/x", "a..b" };
    static const char *const bad_iqns[] = { "", "../etc", ".iqn", "a/b",
                                            "a b", "iqn\nx" };
    char *dev;
    size_t i;

    (void)state;
    dev = hv_lun_device(HV_SIM_ISCSI_HOST, 3260, HV_SIM_ISCSI_IQN, 0);
    assert_non_null(dev);
    assert_string_equal(dev, LUN_DEV("0"));
    xfree(dev);
    /* Port 0 is the iSCSI default. */
    dev = hv_lun_device("10.0.0.5", 0, "iqn.2026-01.x:t", 12);
    assert_string_equal(dev, "/dev/disk/by-path/ip-10.0.0.5:3260-iscsi-"
                             "iqn.2026-01.x:t-lun-12");
    xfree(dev);
    /* An IPv6 host; an IQN holding the separators; the largest LUN. */
    dev = hv_lun_device("fe80::1", 860, "iqn.x:a-lun-3-iscsi-b", 65535);
    assert_string_equal(dev, "/dev/disk/by-path/ip-fe80::1:860-iscsi-"
                             "iqn.x:a-lun-3-iscsi-b-lun-65535");
    xfree(dev);

    for (i = 0; i < sizeof(bad_hosts) / sizeof(bad_hosts[0]); i++) {
        err_clear();
        assert_null(hv_lun_device(bad_hosts[i], 3260, HV_SIM_ISCSI_IQN, 0));
        assert_int_equal(err_code(), ERR_INVALID);
    }
    for (i = 0; i < sizeof(bad_iqns) / sizeof(bad_iqns[0]); i++) {
        err_clear();
        assert_null(hv_lun_device(HV_SIM_ISCSI_HOST, 3260, bad_iqns[i], 0));
        assert_int_equal(err_code(), ERR_INVALID);
    }
    assert_null(hv_lun_device(NULL, 3260, HV_SIM_ISCSI_IQN, 0));
    assert_int_equal(err_code(), ERR_INVALID);
    assert_null(hv_lun_device(HV_SIM_ISCSI_HOST, 3260, NULL, 0));
    assert_int_equal(err_code(), ERR_INVALID);
    assert_null(hv_lun_device(HV_SIM_ISCSI_HOST, 70000, HV_SIM_ISCSI_IQN, 0));
    assert_int_equal(err_code(), ERR_INVALID);
    assert_null(hv_lun_device(HV_SIM_ISCSI_HOST, 3260, HV_SIM_ISCSI_IQN,
                              65536));
    assert_int_equal(err_code(), ERR_INVALID);
    /* A host whose name would not read back the same. */
    assert_null(hv_lun_device("h:1-iscsi-x", 3260, HV_SIM_ISCSI_IQN, 0));
    assert_int_equal(err_code(), ERR_INVALID);
}

static void
test_ocfs2_check(void **state)
{
    struct fx *f = *state;
    static const char *const bad[] = {
        "",
        "/dev/sda",
        "dev/disk/by-path/ip-" HV_SIM_ISCSI_HOST ":3260-iscsi-"
            HV_SIM_ISCSI_IQN "-lun-0",
        DEV_PREFIX HV_SIM_ISCSI_IQN,                      /* no LUN */
        DEV_PREFIX HV_SIM_ISCSI_IQN "-lun-",              /* empty LUN */
        DEV_PREFIX HV_SIM_ISCSI_IQN "-lun-01",            /* leading 0 */
        DEV_PREFIX HV_SIM_ISCSI_IQN "-lun-x",
        DEV_PREFIX HV_SIM_ISCSI_IQN "-lun-70000",
        DEV_PREFIX HV_SIM_ISCSI_IQN "-lun-0/../1",
        DEV_PREFIX "-lun-0",                              /* no IQN */
        DEV_PREFIX "../../etc-lun-0",
        DEV_PREFIX "..-lun-0",
        "/dev/disk/by-path/ip-" HV_SIM_ISCSI_HOST "-iscsi-" HV_SIM_ISCSI_IQN
            "-lun-0",                                     /* no port */
        "/dev/disk/by-path/ip-" HV_SIM_ISCSI_HOST ":-iscsi-" HV_SIM_ISCSI_IQN
            "-lun-0",
        "/dev/disk/by-path/ip-" HV_SIM_ISCSI_HOST ":03260-iscsi-"
            HV_SIM_ISCSI_IQN "-lun-0",
        "/dev/disk/by-path/ip-" HV_SIM_ISCSI_HOST ":0-iscsi-"
            HV_SIM_ISCSI_IQN "-lun-0",
        "/dev/disk/by-path/ip-" HV_SIM_ISCSI_HOST ":65536-iscsi-"
            HV_SIM_ISCSI_IQN "-lun-0",
        "/dev/disk/by-path/ip-" HV_SIM_ISCSI_HOST ":32a0-iscsi-"
            HV_SIM_ISCSI_IQN "-lun-0",
        "/dev/disk/by-path/ip-:3260-iscsi-" HV_SIM_ISCSI_IQN "-lun-0",
        "/dev/disk/by-path/ip-..:3260-iscsi-" HV_SIM_ISCSI_IQN "-lun-0",
        "/dev/disk/by-path/ip-a/b:3260-iscsi-" HV_SIM_ISCSI_IQN "-lun-0",
        "/dev/disk/by-path/ip-" HV_SIM_ISCSI_HOST ":3260-iscsi-lun-0",
        LUN_DEV("0") "\n",
    };
    struct hv_space sp;
    char *text = NULL;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct hv_fs fs = { "ocfs2", NULL, bad[i] };

        err_clear();
        if (f->ops->fs_probe(f->c1, &fs, "", &sp, &text) != -1 ||
            err_code() != ERR_INVALID)
            fail_msg("fs_probe accepted '%s' (%s)", bad[i], err_message());
        assert_int_equal(f->ops->repo_mount(f->c1, REPO, &fs, "", true), -1);
        assert_int_equal(err_code(), ERR_INVALID);
        assert_int_equal(f->ops->fs_make(f->c1, &fs, "l", "c"), -1);
        assert_int_equal(err_code(), ERR_INVALID);
        assert_int_equal(f->ops->fs_wipe(f->c1, &fs), -1);
        assert_int_equal(err_code(), ERR_INVALID);
    }
    /* A good path: valid, just no file system on it yet. */
    assert_int_equal(f->ops->fs_probe(f->c1, &lun0, "", &sp, &text), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_int_equal(f->ops->fs_probe(f->c1, &lun0, NULL, &sp, &text), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    /* A repository on a LUN is at the root: any share is refused. */
    assert_int_equal(f->ops->fs_make(f->c1, &lun0, "l", "c"), 0);
    assert_int_equal(f->ops->repo_mount(f->c1, REPO, &lun0, "r1", true), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_int_equal(f->ops->fs_probe(f->c1, &lun0, "sub", &sp, &text), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_int_equal(f->ops->repo_mounted(f->c1, REPO), 0);
    /* fs_make and fs_wipe take OCFS2 only. */
    assert_int_equal(f->ops->fs_make(f->c1, &nfs_a, "l", "c"), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_int_equal(f->ops->fs_wipe(f->c1, &nfs_a), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_int_equal(f->ops->fs_make(f->c1, NULL, "l", "c"), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    /* Nothing but the one file system was made. */
    assert_int_equal(fx_count(f, TGT_DIR), 3);
}

static void
test_ocfs2_make(void **state)
{
    struct fx *f = *state;
    static const struct hv_fs notarget = {
        "ocfs2", NULL, DEV_PREFIX "iqn.2026-01.test.sim:none-lun-0"
    };
    static const struct hv_fs noportal = {
        "ocfs2", NULL, "/dev/disk/by-path/ip-nosuch:3260-iscsi-"
                       HV_SIM_ISCSI_IQN "-lun-0"
    };
    struct hv_lun *l = NULL;
    char *text;
    size_t len, n = 0;

    assert_int_equal(f->ops->fs_make(f->c1, &lun0, "OVS_repo", "pool\n1\x7f"),
                     0);
    assert_true(S_ISDIR(fx_stat(f, TGT_DIR "/lun-0.ocfs2").st_mode));
    text = fx_slurp(f, TGT_DIR "/lun-0.ocfs2/.ocfs2", &len);
    assert_string_equal(text, "label=OVS_repo\ncluster=pool?1?\n");
    xfree(text);
    assert_int_equal(fx_count(f, TGT_DIR "/lun-0.ocfs2"), 1);
    /* The LUN file itself is untouched. */
    assert_true(fx_stat(f, TGT_DIR "/lun-0").st_size == 1LL << 30);

    /* A second make, from either host, overwrites nothing. */
    assert_int_equal(f->ops->fs_make(f->c2, &lun0, "other", "x"), -1);
    assert_int_equal(err_code(), ERR_EXISTS);
    assert_int_equal(f->ops->fs_make(f->c1, &lun0, "other", "x"), -1);
    assert_int_equal(err_code(), ERR_EXISTS);
    text = fx_slurp(f, TGT_DIR "/lun-0.ocfs2/.ocfs2", &len);
    assert_string_equal(text, "label=OVS_repo\ncluster=pool?1?\n");
    xfree(text);

    /* NULL label and cluster are empty. */
    assert_int_equal(f->ops->fs_make(f->c2, &lun1, NULL, NULL), 0);
    text = fx_slurp(f, TGT_DIR "/lun-1.ocfs2/.ocfs2", &len);
    assert_string_equal(text, "label=\ncluster=\n");
    xfree(text);

    /* No such LUN, target or portal; a directory is no LUN. */
    assert_int_equal(f->ops->fs_make(f->c1, &lun9, "l", "c"), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_false(fx_exists(f, TGT_DIR "/lun-9.ocfs2"));
    assert_int_equal(f->ops->fs_make(f->c1, &notarget, "l", "c"), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_int_equal(f->ops->fs_make(f->c1, &noportal, "l", "c"), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    fx_mkdir(f, TGT_DIR "/lun-9");
    assert_int_equal(f->ops->fs_make(f->c1, &lun9, "l", "c"), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_false(fx_exists(f, TGT_DIR "/lun-9.ocfs2"));

    /* File systems are not LUNs. */
    assert_int_equal(f->ops->iscsi_luns(f->c1, HV_SIM_ISCSI_HOST, 3260,
                                        HV_SIM_ISCSI_IQN, &l, &n), 0);
    assert_int_equal(n, 2);
    xfree(l);
}

/* Two hosts making a file system on one LUN at once. */
struct race {
    struct fx *f;
    struct hv_conn *c;
    int rc;
    enum err_code code;
};

static void *
race_make(void *arg)
{
    struct race *r = arg;

    r->rc = r->f->ops->fs_make(r->c, &lun1, "race", "c");
    r->code = r->rc < 0 ? err_code() : ERR_OK;
    return NULL;
}

static void
test_ocfs2_make_race(void **state)
{
    struct fx *f = *state;
    int round;

    for (round = 0; round < 20; round++) {
        struct race r[2] = { { f, f->c1, 0, ERR_OK },
                             { f, f->c2, 0, ERR_OK } };
        pthread_t th[2];
        int i;

        for (i = 0; i < 2; i++)
            assert_int_equal(pthread_create(&th[i], NULL, race_make, &r[i]),
                             0);
        for (i = 0; i < 2; i++)
            assert_int_equal(pthread_join(th[i], NULL), 0);
        /* Exactly one made it; the other was told it exists. */
        assert_int_equal(r[0].rc + r[1].rc, -1);
        assert_int_equal(r[0].rc < 0 ? r[0].code : r[1].code, ERR_EXISTS);
        assert_int_equal(fx_count(f, TGT_DIR "/lun-1.ocfs2"), 1);
        assert_int_equal(f->ops->fs_wipe(f->c1, &lun1), 0);
    }
}

static void
test_ocfs2_mount(void **state)
{
    struct fx *f = *state;
    static const char *const subs[] = { "Templates", "Assemblies", "ISOs",
                                        "VirtualDisks", "VirtualMachines" };
    const char *root = TGT_DIR "/lun-0.ocfs2";
    struct hv_file *files = NULL;
    struct hv_space sp;
    char *text = NULL;
    size_t i, n = 0;

    /* No file system yet: mounting never makes one. */
    assert_int_equal(f->ops->repo_mount(f->c1, REPO, &lun0, "", true), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_non_null(strstr(err_message(), "holds no file system"));
    assert_false(fx_exists(f, root));
    assert_int_equal(f->ops->repo_mount(f->c1, REPO, &lun9, "", true), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_non_null(strstr(err_message(), "no LUN"));
    assert_int_equal(f->ops->repo_mounted(f->c1, REPO), 0);

    assert_int_equal(f->ops->fs_make(f->c1, &lun0, "l", "c"), 0);
    assert_int_equal(f->ops->fs_probe(f->c2, &lun0, "", &sp, &text), 0);
    assert_null(text);
    assert_true(sp.capacity_bytes == 1ULL << 30);
    assert_true(sp.available_bytes <= sp.capacity_bytes);
    assert_true(sp.available_bytes + MIB > sp.capacity_bytes);

    /* Built from sim-1, at the file system's root. */
    if (f->ops->repo_mount(f->c1, REPO, &lun0, "", true) != 0)
        fail_msg("repo_mount: %s", err_message());
    for (i = 0; i < 5; i++) {
        char *rel = xasprintf("%s/%s", root, subs[i]);

        assert_true(S_ISDIR(fx_stat(f, rel).st_mode));
        xfree(rel);
    }
    assert_int_equal(fx_count(f, root), 6);   /* + the marker */
    assert_int_equal(f->ops->repo_mounted(f->c1, REPO), 1);
    /* Idempotent; and sim-2 mounts the same tree without building. */
    assert_int_equal(f->ops->repo_mount(f->c1, REPO, &lun0, NULL, true), 0);
    assert_int_equal(f->ops->repo_mount(f->c2, REPO, &lun0, "", false), 0);
    assert_int_equal(f->ops->file_write(f->c1, REPO, HV_DIR_ROOT, ".ovsrepo",
                                        "id=1\n", 5), 0);
    assert_int_equal(f->ops->fs_probe(f->c2, &lun0, "", &sp, &text), 0);
    assert_string_equal(text, "id=1\n");
    xfree(text);
    assert_int_equal(f->ops->file_write(f->c2, REPO, HV_DIR_VIRTUAL_MACHINES,
                                        "a.vm.cfg", "x\n", 2), 0);
    assert_true(fx_exists(f, TGT_DIR "/lun-0.ocfs2/VirtualMachines/"
                             "a.vm.cfg"));

    /* The marker is no file of the repository. */
    assert_int_equal(f->ops->file_list(f->c1, REPO, HV_DIR_ROOT, &files, &n),
                     0);
    assert_int_equal(n, 1);
    assert_string_equal(files[0].name, ".ovsrepo");
    xfree(files);

    /* Mounted from this file system only. */
    assert_int_equal(f->ops->fs_make(f->c1, &lun1, "l", "c"), 0);
    assert_int_equal(f->ops->repo_mount(f->c1, REPO, &lun1, "", false), -1);
    assert_int_equal(err_code(), ERR_STATE);

    /* Survives reconnection; unmount and mount again without build. */
    hv_libvirt.close(f->c1);
    f->c1 = open_sim(f->dir, "sim-1");
    assert_int_equal(f->ops->repo_mounted(f->c1, REPO), 1);
    assert_int_equal(f->ops->repo_unmount(f->c1, REPO), 0);
    assert_int_equal(f->ops->repo_mounted(f->c1, REPO), 0);
    assert_true(fx_exists(f, TGT_DIR "/lun-0.ocfs2/.ovsrepo"));
    assert_int_equal(f->ops->repo_mount(f->c1, REPO, &lun0, "", false), 0);
    assert_int_equal(f->ops->repo_mounted(f->c1, REPO), 1);
}

static void
test_ocfs2_space(void **state)
{
    struct fx *f = *state;
    static const struct hv_fs small = { "ocfs2", NULL, LUN_DEV("5") };
    struct hv_space sp, sp2, probe;
    char *text = NULL;

    assert_int_equal(f->ops->fs_make(f->c1, &lun1, "l", "c"), 0);
    assert_int_equal(f->ops->repo_mount(f->c1, REPO, &lun1, "", true), 0);
    assert_int_equal(f->ops->repo_mount(f->c2, REPO, &lun1, "", false), 0);
    assert_int_equal(f->ops->repo_space(f->c1, REPO, &sp), 0);
    assert_true(sp.capacity_bytes == 2ULL << 30);
    assert_true(sp.available_bytes <= sp.capacity_bytes);

    /* A preallocated file takes its size from what is available, on
     * every host; the capacity stays the LUN's. */
    assert_int_equal(f->ops->file_create(f->c2, REPO, HV_DIR_VIRTUAL_DISKS,
                                         "full.img", 8 * MIB, false, "raw",
                                         NULL), 0);
    assert_int_equal(f->ops->repo_space(f->c1, REPO, &sp2), 0);
    assert_true(sp2.capacity_bytes == 2ULL << 30);
    assert_true(sp2.available_bytes <= sp.available_bytes - 8 * MIB);
    assert_true(sp2.available_bytes + 9 * MIB > sp.available_bytes);
    assert_int_equal(f->ops->fs_probe(f->c1, &lun1, "", &probe, &text), 0);
    xfree(text);
    assert_true(probe.capacity_bytes == sp2.capacity_bytes);
    assert_true(probe.available_bytes == sp2.available_bytes);

    /* A sparse one takes (almost) nothing. */
    assert_int_equal(f->ops->file_create(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                         "thin.img", 512 * MIB, true, "raw",
                                         NULL), 0);
    assert_int_equal(f->ops->repo_space(f->c2, REPO, &sp), 0);
    assert_true(sp.available_bytes + MIB > sp2.available_bytes);
    /* Deleting gives it back. */
    assert_int_equal(f->ops->file_delete(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                         "full.img"), 0);
    assert_int_equal(f->ops->repo_space(f->c2, REPO, &sp2), 0);
    assert_true(sp2.available_bytes >= sp.available_bytes + 8 * MIB);

    /* More allocated than the LUN holds: nothing available, not less. */
    fx_fill(f, TGT_DIR "/lun-5", 0, 1, 'x', (off_t)MIB);
    assert_int_equal(f->ops->fs_make(f->c1, &small, "l", "c"), 0);
    assert_int_equal(f->ops->repo_mount(f->c1, REPO2, &small, "", true), 0);
    assert_int_equal(f->ops->file_create(f->c1, REPO2, HV_DIR_VIRTUAL_DISKS,
                                         "big.img", 2 * MIB, false, "raw",
                                         NULL), 0);
    assert_int_equal(f->ops->repo_space(f->c1, REPO2, &sp), 0);
    assert_true(sp.capacity_bytes == MIB);
    assert_true(sp.available_bytes == 0);

    /* NFS repositories keep the space of their file system. */
    assert_int_equal(f->ops->repo_unmount(f->c1, REPO), 0);
    fx_mount_a(f);
    assert_int_equal(f->ops->repo_space(f->c1, REPO, &sp), 0);
    {
        char *p = fx_path(f, "nfs/filer1/exports/a");
        struct statvfs sv;

        assert_int_equal(statvfs(p, &sv), 0);
        assert_true(sp.capacity_bytes == (uint64_t)sv.f_blocks * sv.f_frsize);
        xfree(p);
    }
}

static void
test_ocfs2_destroy(void **state)
{
    struct fx *f = *state;
    const char *root = TGT_DIR "/lun-0.ocfs2";

    assert_int_equal(f->ops->fs_make(f->c1, &lun0, "l", "c"), 0);
    assert_int_equal(f->ops->repo_mount(f->c1, REPO, &lun0, "", true), 0);
    assert_int_equal(f->ops->file_write(f->c1, REPO, HV_DIR_ROOT, ".ovsrepo",
                                        "id\n", 3), 0);
    assert_int_equal(f->ops->file_create(f->c1, REPO, HV_DIR_ISOS, "x.iso",
                                         MIB, true, "raw", NULL), 0);
    assert_int_equal(f->ops->repo_destroy(f->c1, REPO), -1);
    assert_int_equal(err_code(), ERR_STATE);
    assert_int_equal(fx_count(f, root), 7);
    assert_int_equal(f->ops->file_delete(f->c1, REPO, HV_DIR_ISOS, "x.iso"),
                     0);
    if (f->ops->repo_destroy(f->c1, REPO) != 0)
        fail_msg("repo_destroy: %s", err_message());
    /* The tree goes; the file system (and its marker) stays. */
    assert_true(S_ISDIR(fx_stat(f, root).st_mode));
    assert_int_equal(fx_count(f, root), 1);
    assert_true(fx_exists(f, TGT_DIR "/lun-0.ocfs2/.ocfs2"));
    assert_int_equal(f->ops->repo_mounted(f->c1, REPO), 0);
    assert_false(fx_exists(f, "mounts/sim-1/" REPO));
    /* A new repository can be built on it. */
    assert_int_equal(f->ops->repo_mount(f->c2, REPO2, &lun0, "", true), 0);
    assert_int_equal(fx_count(f, root), 6);
}

static void
test_ocfs2_wipe(void **state)
{
    struct fx *f = *state;
    static const struct hv_fs notarget = {
        "ocfs2", NULL, DEV_PREFIX "iqn.2026-01.test.sim:none-lun-0"
    };
    const char *root = TGT_DIR "/lun-0.ocfs2";
    char *outside, *link;

    /* Nothing to wipe: a LUN without a file system, a missing one. */
    assert_int_equal(f->ops->fs_wipe(f->c1, &lun0), 0);
    assert_int_equal(f->ops->fs_wipe(f->c1, &lun9), 0);
    assert_int_equal(f->ops->fs_wipe(f->c1, &notarget), 0);
    assert_true(fx_exists(f, TGT_DIR "/lun-0"));

    assert_int_equal(f->ops->fs_make(f->c1, &lun0, "l", "c"), 0);
    assert_int_equal(f->ops->repo_mount(f->c1, REPO, &lun0, "", true), 0);
    assert_int_equal(f->ops->file_create(f->c1, REPO, HV_DIR_VIRTUAL_DISKS,
                                         "d.img", MIB, false, "raw", NULL),
                     0);
    /* Refused while a repository on it is mounted here. */
    assert_int_equal(f->ops->fs_wipe(f->c1, &lun0), -1);
    assert_int_equal(err_code(), ERR_STATE);
    assert_non_null(strstr(err_message(), "sim-1"));
    assert_true(fx_exists(f, TGT_DIR "/lun-0.ocfs2/VirtualDisks/d.img"));
    /* Another repository's mount (another LUN) does not count. */
    assert_int_equal(f->ops->fs_make(f->c1, &lun1, "l", "c"), 0);
    assert_int_equal(f->ops->repo_mount(f->c1, REPO2, &lun1, "", true), 0);

    /* Links inside are removed, never followed. */
    fx_mkdir(f, "outside");
    fx_fill(f, "outside/keep", 0, 4, 'k', 0);
    outside = fx_path(f, "outside");
    link = fx_path(f, "iscsi/" HV_SIM_ISCSI_HOST "/" HV_SIM_ISCSI_IQN
                      "/lun-0.ocfs2/Templates/evil");
    assert_int_equal(symlink(outside, link), 0);
    fx_mkdir(f, TGT_DIR "/lun-0.ocfs2/Assemblies/a/b/c");
    fx_fill(f, TGT_DIR "/lun-0.ocfs2/Assemblies/a/b/c/f", 0, 3, 'f', 0);

    assert_int_equal(f->ops->repo_unmount(f->c1, REPO), 0);
    if (f->ops->fs_wipe(f->c1, &lun0) != 0)
        fail_msg("fs_wipe: %s", err_message());
    assert_false(fx_exists(f, root));
    assert_true(fx_exists(f, TGT_DIR "/lun-0"));
    assert_true(fx_exists(f, "outside/keep"));
    assert_true(fx_exists(f, TGT_DIR "/lun-1.ocfs2/VirtualDisks"));
    /* Twice is fine; a mount finds nothing; a new make works. */
    assert_int_equal(f->ops->fs_wipe(f->c1, &lun0), 0);
    assert_int_equal(f->ops->repo_mount(f->c1, REPO, &lun0, "", false), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    assert_int_equal(f->ops->fs_make(f->c2, &lun0, "new", "c"), 0);
    assert_int_equal(fx_count(f, root), 1);
    xfree(outside);
    xfree(link);
}

static int
group_teardown(void **state)
{
    (void)state;
    hv_shutdown();
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_iscsi_targets, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_iscsi_luns, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_nfs_exports, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_fs_probe, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_mount_build, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_mount_local, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_shared_export, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_file_create, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_file_copy, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_file_resize, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_file_delete, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_file_read_write, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_upload, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_invalid_names, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_symlinks, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_repo_destroy, fx_setup,
                                        fx_teardown),
        cmocka_unit_test(test_lun_device),
        cmocka_unit_test_setup_teardown(test_ocfs2_check, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_ocfs2_make, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_ocfs2_make_race, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_ocfs2_mount, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_ocfs2_space, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_ocfs2_destroy, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_ocfs2_wipe, fx_setup,
                                        fx_teardown),
    };

    log_set_level(LOG_LEVEL_ERROR);
    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests_name("hv_storage", tests, NULL,
                                       group_teardown);
}
