/*
 * test_vdisk.c - unit tests of the repository-content operations:
 * virtual disks, templates (src/jobs/op_vdisk.c, op_import.c,
 * storage_template.c) and their rules (src/jobs/vdisk.h).
 *
 * DESIGN: every test opens a fresh database in its own temporary
 * directory. The vm.cfg mapping (storage_template_from_cfg()) and the
 * rules are driven directly on rows inserted through the generic rows.
 * The operations run in the real engine, on a simulated host whose
 * storage lives in the test's directory (hv_sim_generate(): sim-nfs's
 * exports are real directories), so every operation goes down to files.
 * Undo cannot be reached through the REST API for one-operation jobs, so
 * jobs of [operation, diag.fail] are run, as test_storage_db.c does: a
 * creation must leave no file and no row, a deletion or an edit must
 * leave the rows exactly as they were (generation and times included).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tmpdir.h"
#include "db/db.h"
#include "hv/hv.h"
#include "jobs/jobs.h"
#include "jobs/storage.h"
#include "jobs/vdisk.h"
#include "model/model.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"

#define WAIT_MS 15000
#define NFS_PLUGIN "oracle.generic.NFSPlugin.GenericNFSPlugin (1.1.0)"
#define SRV "11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00"
#define REPO "0004fb0000030000aaaaaaaaaaaaaaa1"
#define REPO2 "0004fb0000030000aaaaaaaaaaaaaaa2"

struct fixture {
    char dir[64];
    char *path;
    struct db *db;
    bool engine;
};

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    return remove(p) < 0 ? 0 : 0;
}

static int
setup(void **state)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));

    if (tmpdir_make(fx->dir, sizeof(fx->dir), "vdisk") < 0) {
        xfree(fx);
        return -1;
    }
    fx->path = xasprintf("%s/ovmm.db", fx->dir);
    fx->db = db_open(fx->path);
    if (!fx->db)
        return -1;
    err_clear();
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;

    if (fx->engine)
        jobs_stop(0);
    db_close(fx->db);
    nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    xfree(fx->path);
    xfree(fx);
    return 0;
}

/* ---- helpers ---- */

static const struct model_type *
ty(const char *name)
{
    const struct model_type *t = model_type_find(name);

    assert_non_null(t);
    return t;
}

static json_object *
J(const char *text)
{
    json_object *o = json_tokener_parse(text);

    assert_non_null(o);
    return o;
}

static void
must_insert(struct db *db, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
must_insert(struct db *db, const char *type, const char *fmt, ...)
{
    struct db_txn *t = db_txn_begin(db, DB_SYNC_NORMAL);
    json_object *row;
    va_list ap;
    char *text;

    va_start(ap, fmt);
    text = xvasprintf(fmt, ap);
    va_end(ap);
    row = J(text);
    assert_non_null(t);
    if (db_txn_row_insert(t, ty(type), row) < 0)
        fail_msg("insert %s %s: %s", type, text, err_message());
    assert_int_equal(db_txn_commit(t), 0);
    json_object_put(row);
    xfree(text);
}

static const char *
str_of(json_object *row, const char *key)
{
    json_object *v = NULL;

    assert_true(json_object_object_get_ex(row, key, &v));
    return v ? json_object_get_string(v) : NULL;
}

static int64_t
int_of(json_object *row, const char *key)
{
    json_object *v = NULL;

    assert_true(json_object_object_get_ex(row, key, &v));
    assert_non_null(v);
    return json_object_get_int64(v);
}

/* Row @id of @type, or NULL (error cleared) when absent. */
static json_object *
row(struct fixture *fx, const char *type, const char *id)
{
    json_object *r = db_row_get(fx->db, ty(type), id);

    if (!r)
        err_clear();
    return r;
}

/* Exact text of row @id of @type ("null" when absent). Caller frees. */
static char *
row_text(struct fixture *fx, const char *type, const char *id)
{
    json_object *r = row(fx, type, id);
    char *s = xstrdup(r ? json_object_to_json_string_ext(
                              r, JSON_C_TO_STRING_PLAIN) : "null");

    json_object_put(r);
    return s;
}

/* A file server, a file system on sim-nfs:/exports/repo1 (and repo2) and
 * repositories REPO and REPO2 on them; a server SRV (the simulated host
 * sim-1 when @sim_uri is not NULL) with REPO presented when @present. */
static void
make_repo(struct fixture *fx, const char *sim_uri, bool present)
{
    must_insert(fx->db, "FileServer", "{\"id\": \"nfs\", \"name\": \"nfs\", "
                "\"file_server_type\": \"NETWORK\", \"plugin_id\": \""
                NFS_PLUGIN "\", \"access_host\": \"sim-nfs\"}");
    must_insert(fx->db, "FileSystem", "{\"id\": \"fs1\", \"name\": "
                "\"nfs:/exports/repo1\", \"file_server_id\": \"nfs\", "
                "\"path\": \"/exports/repo1\"}");
    must_insert(fx->db, "FileSystem", "{\"id\": \"fs2\", \"name\": "
                "\"nfs:/exports/repo2\", \"file_server_id\": \"nfs\", "
                "\"path\": \"/exports/repo2\"}");
    must_insert(fx->db, "Repository", "{\"id\": \"" REPO "\", \"name\": "
                "\"repo-a\", \"file_system_id\": \"fs1\"}");
    must_insert(fx->db, "Repository", "{\"id\": \"" REPO2 "\", \"name\": "
                "\"repo-b\", \"file_system_id\": \"fs2\"}");
    must_insert(fx->db, "Server", "{\"id\": \"" SRV "\", \"name\": "
                "\"sim-1\", \"ip_address\": \"sim-1\", \"libvirt_uri\": "
                "\"%s\", \"discovered_ms\": 1}",
                sim_uri ? sim_uri : "test:///nowhere.xml");
    if (present)
        must_insert(fx->db, "FileSystemMount", "{\"id\": \"m1\", \"name\": "
                    "\"m1\", \"server_id\": \"" SRV "\", \"file_system_id\": "
                    "\"fs1\", \"repository_id\": \"" REPO "\", "
                    "\"absolute_path\": \"/OVS/Repositories/" REPO "\"}");
}

/* A VirtualDisk row @id in @repo (no file). */
static void
add_disk(struct fixture *fx, const char *id, const char *name,
         const char *repo, const char *type, const char *backing)
{
    char *b = backing ? xasprintf("\"%s\"", backing) : xstrdup("null");

    must_insert(fx->db, "VirtualDisk", "{\"id\": \"%s\", \"name\": \"%s\", "
                "\"repository_id\": \"%s\", \"disk_type\": \"%s\", "
                "\"size\": 1048576, \"path\": \"/VirtualDisks/%s\", "
                "\"backing_id\": %s}", id, name, repo, type, id, b);
    xfree(b);
}

/* Make template @vm from @cfg inside a transaction of its own. */
static int
template(struct fixture *fx, const char *vm, const char *cfg, char **name,
         json_object **notes, json_object *rows)
{
    struct db_txn *t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
    int rc;

    assert_non_null(t);
    rc = storage_template_from_cfg(t, REPO, vm, cfg, strlen(cfg), NULL,
                                   "unit", rows, name, notes);
    if (rc < 0) {
        db_txn_rollback(t);
        return -1;
    }
    assert_int_equal(db_txn_commit(t), 0);
    return 0;
}

/* Start the engine on @fx's database. */
static void
engine(struct fixture *fx)
{
    struct jobs_conf c;

    memset(&c, 0, sizeof(c));
    c.db = fx->db;
    c.workers = 2;
    c.priority_workers = 1;
    c.lock_timeout_ms = 5000;
    c.retention_ms = 86400000;
    c.event_retention_ms = 86400000;
    assert_int_equal(jobs_init(&c), 0);
    assert_int_equal(jobs_recover(), 0);
    assert_int_equal(jobs_start(), 0);
    fx->engine = true;
}

/* Run [@op with @args (taken), then @op2 (args @args2, taken) when not
 * NULL, then diag.fail when @fail]; the finished job (caller frees). */
static struct db_job *
run_job(struct fixture *fx, const char *op, json_object *args,
        const char *op2, json_object *args2, bool fail)
{
    struct job_object_req obj = { REPO, "Repository", "unit", true };
    struct job_op_req ops[3];
    json_object *fargs = J("{\"message\": \"after the operation\"}");
    struct job_req r;
    int64_t id, until = time_mono_ms() + WAIT_MS;
    size_t n = 0;

    memset(ops, 0, sizeof(ops));
    ops[n].op = op;
    ops[n].description = op;
    ops[n++].args = args;
    if (op2) {
        ops[n].op = op2;
        ops[n].description = op2;
        ops[n++].args = args2;
    }
    if (fail) {
        ops[n].op = "diag.fail";
        ops[n].description = "fail";
        ops[n++].args = fargs;
    }
    memset(&r, 0, sizeof(r));
    r.name = op;
    r.user = "unit";
    r.objects = &obj;
    r.nobjects = 1;
    r.ops = ops;
    r.nops = n;
    assert_int_equal(jobs_submit(&r, &id), 0);
    json_object_put(args);
    json_object_put(args2);
    json_object_put(fargs);
    for (;;) {
        struct db_job *j = db_job_get(fx->db, id);

        assert_non_null(j);
        if (j->done)
            return j;
        db_job_free(j);
        if (time_mono_ms() > until)
            fail_msg("job %" PRId64 " not done after %d ms", id, WAIT_MS);
        usleep(2000);
    }
}

/* A simulated host sim-1 in @fx->dir/sim, REPO built and mounted on it
 * from sim-nfs:/exports/repo1, rows as make_repo(). The export's
 * directory is returned (caller frees). */
static char *
sim_repo(struct fixture *fx)
{
    char *simdir = xasprintf("%s/sim", fx->dir);
    char *uri = xasprintf("test://%s/sim-1.xml", simdir);
    struct hv_fs fs = { "nfs", HV_SIM_NFS_HOST, "/exports/repo1" };
    struct hv_conn *c;
    char *root;

    assert_int_equal(hv_sim_generate(simdir, 1, "unit"), 0);
    c = hv_libvirt.open(uri, NULL);
    if (!c)
        fail_msg("open %s: %s", uri, err_message());
    if (hv_libvirt.storage->repo_mount(c, REPO, &fs, "", true) < 0)
        fail_msg("repo_mount: %s", err_message());
    hv_libvirt.close(c);
    make_repo(fx, uri, true);
    root = xasprintf("%s/nfs/sim-nfs/exports/repo1", simdir);
    xfree(uri);
    xfree(simdir);
    return root;
}

/* Size of file @dir/@sub/@name, -1 when absent. */
static int64_t
file_size(const char *dir, const char *sub, const char *name)
{
    char *p = xasprintf("%s/%s/%s", dir, sub, name);
    struct stat st;
    int64_t n = stat(p, &st) == 0 ? (int64_t)st.st_size : -1;

    xfree(p);
    return n;
}

/* ---- storage_template_from_cfg ---- */

static const char HVM_CFG[] =
    "OVM_simple_name = 'OL7 PVHVM template'\n"
    "OVM_os_type = 'Oracle Linux 7'\n"
    "name = 'x'\n"
    "builder = 'hvm'\n"
    "xen_platform_pci = 1\n"
    "memory = 2048\n"
    "maxmem = 1024\n"
    "vcpus = 2\n"
    "maxvcpus = 4\n"
    "boot = 'dc'\n"
    "disk = ['file:/OVS/Repositories/" REPO "/VirtualDisks/d1.img,xvda,w',\n"
    "        'file:/elsewhere/gone.img,xvdb,w',\n"
    "        'file:/OVS/Repositories/" REPO "/VirtualDisks/d2.img,hdb,r',\n"
    "        'file:/OVS/Repositories/x/ISOs/missing.iso,hdc:cdrom,r',\n"
    "        ',hdd:cdrom,r']\n";

/* The mapping of @vm at @target, or NULL. */
static json_object *
mapping_at(struct fixture *fx, const char *vm, int64_t target)
{
    char **ids = NULL;
    size_t n = 0, i;
    json_object *found = NULL;

    assert_int_equal(db_row_ids(fx->db, ty("VmDiskMapping"), "vm_id", vm,
                                &ids, &n), 0);
    for (i = 0; i < n && !found; i++) {
        json_object *m = row(fx, "VmDiskMapping", ids[i]);

        if (m && int_of(m, "disk_target") == target)
            found = m;
        else
            json_object_put(m);
    }
    db_ids_free(ids, n);
    return found;
}

static void
test_template_from_cfg(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(json_object) json_object *notes = NULL;
    AUTOPTR(json_object) json_object *rows = json_object_new_array();
    AUTOPTR(json_object) json_object *vm = NULL;
    AUTOPTR(json_object) json_object *m = NULL;
    char *name = NULL;

    make_repo(fx, NULL, false);
    add_disk(fx, "d1.img", "System.img", REPO, "VIRTUAL_DISK", NULL);
    add_disk(fx, "d2.img", "u01.img", REPO, "VIRTUAL_DISK", NULL);
    assert_int_equal(template(fx, "vm1", HVM_CFG, &name, &notes, rows), 0);
    /* made valid: the spaces became '_' */
    assert_string_equal(name, "OL7_PVHVM_template");
    xfree(name);
    vm = row(fx, "Vm", "vm1");
    assert_non_null(vm);
    assert_string_equal(str_of(vm, "run_state"), "TEMPLATE");
    assert_string_equal(str_of(vm, "domain_type"), "XEN_HVM_PV_DRIVERS");
    assert_int_equal(int_of(vm, "memory"), 2048);
    assert_int_equal(int_of(vm, "memory_limit"), 2048); /* maxmem < memory */
    assert_int_equal(int_of(vm, "cpu_count"), 2);
    assert_int_equal(int_of(vm, "cpu_count_limit"), 4);
    assert_string_equal(str_of(vm, "os_type"), "Oracle Linux 7");
    assert_string_equal(str_of(vm, "boot_order"), "[\"CDROM\",\"DISK\"]");
    assert_string_equal(str_of(vm, "repository_id"), REPO);
    assert_string_equal(str_of(vm, "config_file"), "vm1.vm.cfg");
    assert_string_equal(str_of(vm, "origin"), "unit");
    /* d1 at 0, gone.img left out, d2 at 1 read-only and emulated, the
     * missing ISO and the empty drive as empty CD-ROMs at 2 and 3 */
    m = mapping_at(fx, "vm1", 0);
    assert_non_null(m);
    assert_string_equal(str_of(m, "virtual_disk_id"), "d1.img");
    assert_string_equal(str_of(m, "disk_write_mode"), "READ_WRITE");
    json_object_put(m);
    m = mapping_at(fx, "vm1", 1);
    assert_string_equal(str_of(m, "virtual_disk_id"), "d2.img");
    assert_string_equal(str_of(m, "disk_write_mode"), "READ_ONLY");
    assert_int_equal(int_of(m, "emulated_block_device"), 1);
    json_object_put(m);
    m = mapping_at(fx, "vm1", 2);
    assert_null(str_of(m, "virtual_disk_id"));
    assert_string_equal(str_of(m, "name"), "Mapping for empty CD-ROM");
    json_object_put(m);
    m = mapping_at(fx, "vm1", 3);
    assert_null(str_of(m, "virtual_disk_id"));
    json_object_put(steal_ptr(&m));
    assert_null(mapping_at(fx, "vm1", 4));
    /* two notes: the disk left out, the ISO not there */
    assert_non_null(notes);
    assert_int_equal(json_object_array_length(notes), 2);
    assert_non_null(strstr(json_object_get_string(
                               json_object_array_get_idx(notes, 0)),
                           "gone.img"));
    /* rows: the Vm then its four mappings */
    assert_int_equal(json_object_array_length(rows), 5);
    assert_string_equal(str_of(json_object_array_get_idx(rows, 0), "type"),
                        "Vm");
    /* the same cfg again: the name is taken, "-2" */
    json_object_put(steal_ptr(&notes));
    assert_int_equal(template(fx, "vm2", HVM_CFG, &name, &notes, NULL), 0);
    assert_string_equal(name, "OL7_PVHVM_template-2");
    xfree(name);
    /* the same id again: ERR_EXISTS */
    json_object_put(steal_ptr(&notes));
    assert_int_equal(template(fx, "vm1", HVM_CFG, NULL, NULL, NULL), -1);
    assert_int_equal(err_code(), ERR_EXISTS);
    err_clear();
}

/* The domain type comes from OVM_domain_type, builder, bootloader. */
static void
test_template_domain_types(void **state)
{
    static const struct {
        const char *cfg, *want;
    } cases[] = {
        { "bootloader = '/usr/bin/pygrub'\nmemory = 512\n", "XEN_PVM" },
        { "kernel = '/boot/vmlinuz'\n", "XEN_PVM" },
        { "memory = 512\n", "XEN_PVM" },
        { "builder = 'hvm'\n", "XEN_HVM" },
        { "builder = 'hvm'\nOVM_os_type = 'Oracle Linux 6 PVHVM'\n",
          "XEN_HVM_PV_DRIVERS" },
        { "builder = 'hvm'\nOVM_domain_type = 'xen_pvm'\n", "XEN_PVM" },
        { "bootloader = 'x'\nOVM_domain_type = 'xen_hvm_pv_drivers'\n",
          "XEN_HVM_PV_DRIVERS" },
    };
    struct fixture *fx = *state;
    size_t i;

    make_repo(fx, NULL, false);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char vm[16];
        json_object *r;

        snprintf(vm, sizeof(vm), "vmd%zu", i);
        assert_int_equal(template(fx, vm, cases[i].cfg, NULL, NULL, NULL),
                         0);
        r = row(fx, "Vm", vm);
        assert_non_null(r);
        if (strcmp(str_of(r, "domain_type"), cases[i].want) != 0)
            fail_msg("case %zu: %s, wanted %s", i, str_of(r, "domain_type"),
                     cases[i].want);
        /* no name in the cfg: "template", then suffixes */
        json_object_put(r);
    }
    /* a vm.cfg that does not parse */
    assert_int_equal(template(fx, "bad", "memory = [1, \n", NULL, NULL,
                              NULL), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    err_clear();
    assert_null(row(fx, "Vm", "bad"));
}

static void
test_name_valid(void **state)
{
    char *s;

    (void)state;
    s = storage_vm_name_valid("a b/c.d-e_f");
    assert_string_equal(s, "a_b_c_d-e_f");
    xfree(s);
    s = storage_vm_name_valid("");
    assert_string_equal(s, "template");
    xfree(s);
    s = storage_vm_name_valid(NULL);
    assert_string_equal(s, "template");
    xfree(s);
    {
        char big[400];

        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        s = storage_vm_name_valid(big);
        assert_int_equal(strlen(s), 190);
        xfree(s);
    }
    s = vdisk_id_new(false);
    assert_int_equal(strlen(s), 36);
    assert_true(str_has_prefix(s, "0004fb000012"));
    assert_string_equal(s + 32, ".img");
    xfree(s);
    s = vdisk_id_new(true);
    assert_true(str_has_prefix(s, "0004fb000015"));
    assert_string_equal(s + 32, ".iso");
    xfree(s);
}

/* ---- the rules ---- */

static void
test_rules(void **state)
{
    struct fixture *fx = *state;
    AUTOPTR(json_object) json_object *d = NULL;
    AUTOPTR(json_object) json_object *iso = NULL;
    AUTOPTR(json_object) json_object *vm = NULL;
    AUTOPTR(json_object) json_object *disks = NULL;
    AUTOPTR(json_object) json_object *notes = NULL;
    char *sid = NULL;
    static const char cfg[] =
        "name = 't'\n"
        "disk = ['file:/x/d1.img,xvda,w', 'file:/x/d2.img,xvdb,w',"
        " 'file:/x/d3.img,xvdc,w', 'file:/x/cd.iso,hdc:cdrom,r']\n";

    make_repo(fx, NULL, false);
    add_disk(fx, "d1.img", "one", REPO, "VIRTUAL_DISK", NULL);
    add_disk(fx, "d2.img", "two", REPO, "VIRTUAL_DISK", NULL);
    add_disk(fx, "d3.img", "three", REPO, "VIRTUAL_DISK", NULL);
    add_disk(fx, "thin.img", "thin", REPO, "VIRTUAL_DISK", "d3.img");
    add_disk(fx, "cd.iso", "cd", REPO, "VIRTUAL_CDROM", NULL);
    d = row(fx, "VirtualDisk", "d1.img");
    iso = row(fx, "VirtualDisk", "cd.iso");

    /* resize */
    assert_int_equal(vdisk_check_resize(d, 1048576), 0);
    assert_int_equal(vdisk_check_resize(d, 2097152), 0);
    assert_int_equal(vdisk_check_resize(d, 1024), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_non_null(strstr(err_message(), "cannot shrink"));
    assert_int_equal(vdisk_check_resize(iso, 2097152), -1);
    assert_non_null(strstr(err_message(), "ISOs cannot be resized"));
    err_clear();

    /* clone */
    assert_int_equal(vdisk_check_clone(fx->db, NULL, d, REPO,
                                       VDISK_THIN_CLONE), 0);
    assert_int_equal(vdisk_check_clone(fx->db, NULL, d, REPO2,
                                       VDISK_SPARSE_COPY), 0);
    assert_int_equal(vdisk_check_clone(fx->db, NULL, d, REPO2,
                                       VDISK_THIN_CLONE), -1);
    assert_int_equal(err_code(), ERR_STATE);
    assert_int_equal(vdisk_check_clone(fx->db, NULL, iso, REPO,
                                       VDISK_THIN_CLONE), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_int_equal(vdisk_check_clone(fx->db, NULL, d, REPO, "COPY"), -1);
    assert_int_equal(err_code(), ERR_INVALID);
    assert_int_equal(vdisk_check_clone(fx->db, NULL, d, "nope",
                                       VDISK_SPARSE_COPY), -1);
    assert_int_equal(err_code(), ERR_NOT_FOUND);
    {
        json_object *thin = row(fx, "VirtualDisk", "thin.img");

        assert_int_equal(vdisk_check_clone(fx->db, NULL, thin, REPO2,
                                           VDISK_SPARSE_COPY), -1);
        assert_non_null(strstr(err_message(), "thin clone of 'three'"));
        assert_int_equal(vdisk_check_clone(fx->db, NULL, thin, REPO,
                                           VDISK_NON_SPARSE_COPY), 0);
        json_object_put(thin);
    }
    err_clear();

    /* a template using d1, d2, d3 and the ISO; another Vm using d2 */
    assert_int_equal(template(fx, "tpl", cfg, NULL, NULL, NULL), 0);
    assert_int_equal(template(fx, "other", "name = 'o'\n"
                              "disk = ['file:/y/d2.img,xvda,w']\n", NULL,
                              NULL, NULL), 0);
    assert_int_equal(vdisk_check_delete(fx->db, NULL, d), -1);
    assert_int_equal(err_code(), ERR_STATE);
    assert_non_null(strstr(err_message(), "used by template 't'"));
    {
        json_object *base = row(fx, "VirtualDisk", "d3.img");
        json_object *thin = row(fx, "VirtualDisk", "thin.img");

        /* mapped comes first; the thin clone itself may go */
        assert_int_equal(vdisk_check_delete(fx->db, NULL, base), -1);
        assert_int_equal(vdisk_check_delete(fx->db, NULL, thin), 0);
        json_object_put(base);
        json_object_put(thin);
    }
    err_clear();

    /* the template's delete plan: d1 goes; d2 (other Vm), d3 (a thin
     * clone's base) and the ISO stay, with notes */
    vm = row(fx, "Vm", "tpl");
    assert_int_equal(vdisk_template_plan(fx->db, NULL, vm, true, &disks,
                                         &notes), 0);
    assert_int_equal(json_object_array_length(disks), 1);
    assert_string_equal(json_object_get_string(
                            json_object_array_get_idx(disks, 0)), "d1.img");
    assert_int_equal(json_object_array_length(notes), 3);
    json_object_put(steal_ptr(&disks));
    json_object_put(steal_ptr(&notes));
    assert_int_equal(vdisk_template_plan(fx->db, NULL, vm, false, &disks,
                                         &notes), 0);
    assert_int_equal(json_object_array_length(disks), 0);
    json_object_put(steal_ptr(&disks));
    json_object_put(steal_ptr(&notes));
    /* not a template */
    {
        struct db_txn *t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
        json_object *cols = J("{\"run_state\": \"STOPPED\"}");

        assert_int_equal(db_txn_row_update(t, ty("Vm"), "other", cols,
                                           false), 0);
        assert_int_equal(db_txn_commit(t), 0);
        json_object_put(cols);
    }
    json_object_put(steal_ptr(&vm));
    vm = row(fx, "Vm", "other");
    assert_int_equal(vdisk_template_plan(fx->db, NULL, vm, true, &disks,
                                         &notes), -1);
    assert_int_equal(err_code(), ERR_STATE);
    assert_non_null(strstr(err_message(), "only templates"));
    err_clear();

    /* reachability: not presented; presented but the server stopped;
     * presented to a running server */
    assert_int_equal(vdisk_repo_reachable(fx->db, REPO, NULL, &sid), -1);
    assert_non_null(strstr(err_message(), "not presented to any running"));
    must_insert(fx->db, "FileSystemMount", "{\"id\": \"m1\", \"name\": "
                "\"m1\", \"server_id\": \"" SRV "\", \"file_system_id\": "
                "\"fs1\", \"repository_id\": \"" REPO "\", "
                "\"absolute_path\": \"/OVS/Repositories/" REPO "\"}");
    assert_int_equal(vdisk_repo_reachable(fx->db, REPO, NULL, &sid), 0);
    assert_string_equal(sid, SRV);
    xfree(sid);
    assert_int_equal(vdisk_repo_reachable(fx->db, REPO, REPO2, &sid), -1);
    assert_non_null(strstr(err_message(), "not presented together"));
    {
        struct db_txn *t = db_txn_begin(fx->db, DB_SYNC_NORMAL);
        json_object *cols = J("{\"run_state\": \"STOPPED\"}");

        assert_int_equal(db_txn_row_update(t, ty("Server"), SRV, cols,
                                           false), 0);
        assert_int_equal(db_txn_commit(t), 0);
        json_object_put(cols);
    }
    assert_int_equal(vdisk_repo_reachable(fx->db, REPO, NULL, NULL), -1);
    assert_int_equal(err_code(), ERR_STATE);
    err_clear();
}

/* ---- operations and their undo, on a simulated host ---- */

static void
test_create_and_undo(void **state)
{
    struct fixture *fx = *state;
    char *root = sim_repo(fx);
    struct db_job *j;
    json_object *r;

    engine(fx);
    /* undone: no file, no row */
    j = run_job(fx, "vdisk.create", J("{\"id\": \"u1.img\", \"repository\":"
                                      " \"" REPO "\", \"name\": \"u1\", "
                                      "\"size\": 1048576, \"sparse\": "
                                      "false}"), NULL, NULL, true);
    assert_int_equal(j->run_state, JOB_FAILURE);
    db_job_free(j);
    assert_int_equal(file_size(root, "VirtualDisks", "u1.img"), -1);
    assert_null(row(fx, "VirtualDisk", "u1.img"));
    /* done */
    j = run_job(fx, "vdisk.create", J("{\"id\": \"c1.img\", \"repository\":"
                                      " \"" REPO "\", \"name\": \"c1\", "
                                      "\"size\": 2097152, \"sparse\": "
                                      "true}"), NULL, NULL, false);
    assert_int_equal(j->run_state, JOB_SUCCESS);
    assert_string_equal(j->result_id, "c1.img");
    db_job_free(j);
    assert_int_equal(file_size(root, "VirtualDisks", "c1.img"), 2097152);
    r = row(fx, "VirtualDisk", "c1.img");
    assert_non_null(r);
    assert_int_equal(int_of(r, "size"), 2097152);
    assert_string_equal(str_of(r, "path"), "/VirtualDisks/c1.img");
    json_object_put(r);
    /* a thin clone and a copy, each undone: nothing of them stays */
    j = run_job(fx, "vdisk.clone", J("{\"source\": \"c1.img\", \"id\": "
                                     "\"t1.img\", \"repository\": \"" REPO
                                     "\", \"name\": \"t1\", \"cloneType\": "
                                     "\"THIN_CLONE\"}"), NULL, NULL, true);
    assert_int_equal(j->run_state, JOB_FAILURE);
    db_job_free(j);
    assert_int_equal(file_size(root, "VirtualDisks", "t1.img"), -1);
    assert_null(row(fx, "VirtualDisk", "t1.img"));
    j = run_job(fx, "vdisk.clone", J("{\"source\": \"c1.img\", \"id\": "
                                     "\"k1.img\", \"repository\": \"" REPO
                                     "\", \"name\": \"k1\", \"cloneType\": "
                                     "\"NON_SPARSE_COPY\"}"), NULL, NULL,
                true);
    assert_int_equal(j->run_state, JOB_FAILURE);
    db_job_free(j);
    assert_int_equal(file_size(root, "VirtualDisks", "k1.img"), -1);
    assert_null(row(fx, "VirtualDisk", "k1.img"));
    /* a clone whose source vanished fails and leaves nothing */
    j = run_job(fx, "vdisk.clone", J("{\"source\": \"none.img\", \"id\": "
                                     "\"k2.img\", \"repository\": \"" REPO
                                     "\", \"name\": \"k2\", \"cloneType\": "
                                     "\"SPARSE_COPY\"}"), NULL, NULL, false);
    assert_int_equal(j->run_state, JOB_FAILURE);
    db_job_free(j);
    assert_int_equal(file_size(root, "VirtualDisks", "k2.img"), -1);
    xfree(root);
}

static void
test_edit_delete_undo(void **state)
{
    struct fixture *fx = *state;
    char *root = sim_repo(fx);
    char *before, *after;
    struct db_job *j;

    engine(fx);
    j = run_job(fx, "vdisk.create", J("{\"id\": \"e1.img\", \"repository\":"
                                      " \"" REPO "\", \"name\": \"e1\", "
                                      "\"size\": 1048576}"), NULL, NULL,
                false);
    assert_int_equal(j->run_state, JOB_SUCCESS);
    db_job_free(j);
    before = row_text(fx, "VirtualDisk", "e1.img");

    /* an edit with a resize, undone: the row exactly as it was; the file
     * keeps its new size (files never shrink) */
    j = run_job(fx, "vdisk.update", J("{\"id\": \"e1.img\", \"name\": "
                                      "\"renamed\", \"size\": 4194304}"),
                NULL, NULL, true);
    assert_int_equal(j->run_state, JOB_FAILURE);
    db_job_free(j);
    after = row_text(fx, "VirtualDisk", "e1.img");
    assert_string_equal(after, before);
    xfree(after);
    assert_int_equal(file_size(root, "VirtualDisks", "e1.img"), 4194304);

    /* a delete whose rows went but whose files could not (the repository
     * it names is presented nowhere): the row comes back, the file stays */
    j = run_job(fx, "vdisk.delete", J("{\"id\": \"e1.img\"}"),
                "vdisk.delete_files",
                J("{\"repository\": \"" REPO2 "\", \"files\": "
                  "[{\"dir\": \"VirtualDisks\", \"name\": \"e1.img\"}]}"),
                false);
    assert_int_equal(j->run_state, JOB_FAILURE);
    assert_non_null(strstr(j->error_message, "not presented"));
    db_job_free(j);
    after = row_text(fx, "VirtualDisk", "e1.img");
    assert_string_equal(after, before);
    xfree(after);
    assert_true(file_size(root, "VirtualDisks", "e1.img") > 0);

    /* a delete undone by a later failure */
    j = run_job(fx, "vdisk.delete", J("{\"id\": \"e1.img\"}"), NULL, NULL,
                true);
    assert_int_equal(j->run_state, JOB_FAILURE);
    db_job_free(j);
    after = row_text(fx, "VirtualDisk", "e1.img");
    assert_string_equal(after, before);
    xfree(after);

    /* the delete itself: row and file gone */
    j = run_job(fx, "vdisk.delete", J("{\"id\": \"e1.img\"}"),
                "vdisk.delete_files",
                J("{\"repository\": \"" REPO "\", \"files\": "
                  "[{\"dir\": \"VirtualDisks\", \"name\": \"e1.img\"}]}"),
                false);
    assert_int_equal(j->run_state, JOB_SUCCESS);
    db_job_free(j);
    assert_null(row(fx, "VirtualDisk", "e1.img"));
    assert_int_equal(file_size(root, "VirtualDisks", "e1.img"), -1);
    xfree(before);
    xfree(root);
}

static void
test_template_delete_undo(void **state)
{
    struct fixture *fx = *state;
    static const char cfg[] =
        "OVM_simple_name = 'tpl'\n"
        "disk = ['file:/x/s.img,xvda,w', 'file:/x/u.img,xvdb,w']\n";
    const char *const ids[][2] = {
        { "Vm", "tv" }, { "VirtualDisk", "s.img" }, { "VirtualDisk", "u.img" },
    };
    char *before[3], *after;
    char **maps = NULL;
    size_t n = 0, i;
    struct db_job *j;
    char *root = sim_repo(fx);

    engine(fx);
    add_disk(fx, "s.img", "System.img", REPO, "VIRTUAL_DISK", NULL);
    add_disk(fx, "u.img", "u01.img", REPO, "VIRTUAL_DISK", NULL);
    assert_int_equal(template(fx, "tv", cfg, NULL, NULL, NULL), 0);
    for (i = 0; i < 3; i++)
        before[i] = row_text(fx, ids[i][0], ids[i][1]);
    assert_int_equal(db_row_ids(fx->db, ty("VmDiskMapping"), "vm_id", "tv",
                                &maps, &n), 0);
    assert_int_equal(n, 2);

    /* the rows of a template and one of its disks, undone: exactly back */
    j = run_job(fx, "template.delete_rows",
                J("{\"vm\": \"tv\", \"deleteDisks\": true, \"disks\": "
                  "[\"s.img\", \"u.img\"]}"), NULL, NULL, true);
    assert_int_equal(j->run_state, JOB_FAILURE);
    db_job_free(j);
    for (i = 0; i < 3; i++) {
        after = row_text(fx, ids[i][0], ids[i][1]);
        assert_string_equal(after, before[i]);
        xfree(after);
    }
    for (i = 0; i < n; i++) {
        json_object *m = row(fx, "VmDiskMapping", maps[i]);

        assert_non_null(m);
        json_object_put(m);
    }
    /* a disk the request planned that can no longer go: refused */
    add_disk(fx, "thin.img", "thin", REPO, "VIRTUAL_DISK", "u.img");
    j = run_job(fx, "template.delete_rows",
                J("{\"vm\": \"tv\", \"deleteDisks\": true, \"disks\": "
                  "[\"s.img\", \"u.img\"]}"), NULL, NULL, false);
    assert_int_equal(j->run_state, JOB_FAILURE);
    assert_non_null(strstr(j->error_message, "'u.img' can no longer go"));
    db_job_free(j);
    after = row_text(fx, "Vm", "tv");
    assert_string_equal(after, before[0]);
    xfree(after);
    /* done: the template and s.img go, u.img stays */
    j = run_job(fx, "template.delete_rows",
                J("{\"vm\": \"tv\", \"deleteDisks\": true, \"disks\": "
                  "[\"s.img\"]}"), NULL, NULL, false);
    assert_int_equal(j->run_state, JOB_SUCCESS);
    db_job_free(j);
    assert_null(row(fx, "Vm", "tv"));
    assert_null(row(fx, "VirtualDisk", "s.img"));
    assert_null(row(fx, "VmDiskMapping", maps[0]));
    after = row_text(fx, "VirtualDisk", "u.img");
    assert_string_not_equal(after, "null");
    xfree(after);
    db_ids_free(maps, n);
    for (i = 0; i < 3; i++)
        xfree(before[i]);
    xfree(root);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_template_from_cfg, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_template_domain_types, setup,
                                        teardown),
        cmocka_unit_test(test_name_valid),
        cmocka_unit_test_setup_teardown(test_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_and_undo, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_edit_delete_undo, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_template_delete_undo, setup,
                                        teardown),
    };

    log_set_level(LOG_LEVEL_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
