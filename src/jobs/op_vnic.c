/*
 * op_vnic.c - VNICs and MAC ranges (issue 6; docs/NETWORKS.md, "VNICs and
 * MAC ranges"): the MAC text helpers and rules of network.h shared with
 * src/api/api_vnic.c, and the operations macrange.create/update/delete
 * and vnic.create/update/delete.
 *
 * DESIGN
 *
 * No host is involved (a VNIC reaches a server when its VM starts), so
 * every operation is one write transaction (ONE_TXN_RUN, as op_array.c's
 * access groups): it reads and checks through a storage_view on the
 * transaction -- the same rule functions the handler applied on arrival,
 * so a change that came first makes the job end FAILURE with the same
 * message --, writes its rows, its events and the undo journal of
 * storage_int.h (created objects, rows as they were), and commits with
 * sto_finish(); storage_undo() is the undo.
 *
 * MAC addresses: a VNIC without an explicit address gets the lowest one
 * of the MAC ranges (by start) no VNIC has, looked up by one query inside
 * the job's write transaction (db_txn_mac_lowest_free()). SQLite runs one
 * writer at a time, so jobs on different VMs running in parallel still
 * allocate one after another, each seeing the others' committed VNICs;
 * virtual_nics.mac_int is UNIQUE besides. Changing or deleting a range
 * never touches the VNICs: they keep their addresses, inside a range or
 * not. Deleting the last range is allowed; new VNICs then need an
 * explicit address until a range is added (409 saying so).
 *
 * Locks (declared by the handlers): a VNIC add or removal holds its VM
 * exclusively (so the slot and count checks of one VM serialize) and the
 * network shared; an edit holds the VNIC exclusively and its VM and the
 * network shared; a range change holds the range.
 *
 * Threads: operations run on job workers; nothing here keeps state.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "db/db.h"
#include "jobs/jobs_int.h"
#include "jobs/network.h"
#include "jobs/storage.h"
#include "jobs/storage_int.h"
#include "model/model.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/json.h"
#include "util/str.h"

#define MAC_TEXT 18
/* VNICs of a PVM guest (the Xen netfront limit Oracle VM applies) and of
 * any other domain type (HVM, PVHVM, KVM: emulated PCI slots). */
#define VNICS_PVM 31
#define VNICS_HVM 8

/* ---- MAC text ---- */

/* The value of hex digit @c, or -1. */
static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int
net_mac_parse(const char *what, const char *text, uint64_t *out)
{
    uint64_t v = 0;
    char sep;
    int i, hi, lo;

    /* Exactly "hh?hh?hh?hh?hh?hh" with one separator, ':' or '-'. */
    if (!text || strlen(text) != 17 || (text[2] != ':' && text[2] != '-'))
        goto bad;
    sep = text[2];
    for (i = 0; i < 6; i++) {
        const char *p = text + 3 * i;

        if (i > 0 && p[-1] != sep)
            goto bad;
        hi = hexval(p[0]);
        lo = hexval(p[1]);
        if (hi < 0 || lo < 0)
            goto bad;
        v = (v << 8) | (uint64_t)(hi << 4 | lo);
    }
    *out = v;
    return 0;
 bad:
    err_set(ERR_INVALID, "%s is not a MAC address (six pairs of hex digits "
                         "separated by ':' or '-'): '%.40s'", what,
            text ? text : "");
    return -1;
}

void
net_mac_format(uint64_t mac, char *out)
{
    snprintf(out, MAC_TEXT, "%02x:%02x:%02x:%02x:%02x:%02x",
             (unsigned)(mac >> 40) & 0xff, (unsigned)(mac >> 32) & 0xff,
             (unsigned)(mac >> 24) & 0xff, (unsigned)(mac >> 16) & 0xff,
             (unsigned)(mac >> 8) & 0xff, (unsigned)mac & 0xff);
}

int
net_mac_check_unicast(const char *what, uint64_t mac)
{
    char s[MAC_TEXT];

    net_mac_format(mac, s);
    if (mac == 0) {
        err_set(ERR_INVALID, "%s '%s' is the null address, which no network "
                             "card may have", what, s);
        return -1;
    }
    if ((mac >> 40) & 1) {
        err_set(ERR_INVALID, "%s '%s' is a multicast address (the low bit "
                             "of its first octet is set): VNICs need "
                             "unicast addresses", what, s);
        return -1;
    }
    return 0;
}

int
net_vnic_limit(const char *domain_type)
{
    return str_eq(domain_type, "XEN_PVM") ? VNICS_PVM : VNICS_HVM;
}

/* ---- rules ---- */

/* The first VNIC (by name) with address @mac: 1 with its id in @out, 0
 * when none has it, -1. */
static int
mac_owner(const struct storage_view *v, uint64_t mac, char *out,
          size_t size)
{
    char num[32], **ids = NULL;
    size_t n = 0;

    /* mac_int has INTEGER affinity: the text compares as a number. */
    snprintf(num, sizeof(num), "%" PRIu64, mac);
    if (sto_sv_ids(v, "VirtualNic", "mac_int", num, &ids, &n) < 0)
        return -1;
    if (n > 0)
        str_copy(out, ids[0], size);
    sto_ids_free(ids, n);
    return n > 0;
}

int
net_check_macrange(const struct storage_view *v, const char *id,
                   uint64_t start, uint64_t end)
{
    char s[MAC_TEXT], e[MAC_TEXT], **ids = NULL;
    size_t n = 0, i;
    int rc = 0;

    net_mac_format(start, s);
    net_mac_format(end, e);
    if (net_mac_check_unicast("'startMacAddress'", start) < 0 ||
        net_mac_check_unicast("'endMacAddress'", end) < 0)
        return -1;
    if (start > end) {
        err_set(ERR_INVALID, "'startMacAddress' '%s' comes after "
                             "'endMacAddress' '%s'", s, e);
        return -1;
    }
    if ((start >> 40) != (end >> 40)) {
        err_set(ERR_INVALID, "MAC range '%s'-'%s' spans more than one first "
                             "octet: a range keeps its first octet, so that "
                             "every address in it is unicast", s, e);
        return -1;
    }
    if (sto_sv_ids(v, "MacRange", NULL, NULL, &ids, &n) < 0)
        return -1;
    for (i = 0; i < n && rc == 0; i++) {
        AUTOPTR(json_object) json_object *r = NULL;
        uint64_t rs, re;

        if (str_eq(ids[i], id))
            continue;
        if (!(r = sto_sv_get(v, "MacRange", ids[i]))) {
            rc = -1;
            break;
        }
        rs = (uint64_t)sto_jint(r, "start_mac", 0);
        re = (uint64_t)sto_jint(r, "end_mac", 0);
        if (start <= re && rs <= end) {
            err_set(ERR_EXISTS, "MAC range '%s'-'%s' overlaps MAC range '%s' "
                                "(%s-%s)", s, e, sto_rname(r),
                    json_str(r, "start_address"), json_str(r, "end_address"));
            rc = -1;
        }
    }
    sto_ids_free(ids, n);
    return rc;
}

int
net_check_vnic_network(const struct storage_view *v, const char *id)
{
    AUTOPTR(json_object) json_object *n = sto_sv_get(v, "Network", id);

    if (!n)
        return -1;
    if (!net_has_role(n, "VIRTUAL_MACHINE")) {
        err_set(ERR_STATE, "network '%s' does not have the VIRTUAL_MACHINE "
                           "role: VNICs attach to virtual machine networks "
                           "only", sto_rname(n));
        return -1;
    }
    return 0;
}

int
net_check_vnic_add(const struct storage_view *v, const char *vm_id,
                   const char *network_id, bool has_mac, uint64_t mac)
{
    AUTOPTR(json_object) json_object *vm = sto_sv_get(v, "Vm", vm_id);
    AUTOPTR(json_object) json_object *o = NULL;
    char **ids = NULL, owner[256], s[MAC_TEXT], nm[256];
    size_t n = 0;
    int limit, r;

    if (!vm)
        return -1;
    if (str_eq(json_str(vm, "run_state"), "SUSPENDED")) {
        err_set(ERR_STATE, "cannot add a VNIC to VM '%s' while it is "
                           "SUSPENDED: resume or stop it first",
                sto_rname(vm));
        return -1;
    }
    if (sto_sv_ids(v, "VirtualNic", "vm_id", vm_id, &ids, &n) < 0)
        return -1;
    sto_ids_free(ids, n);
    limit = net_vnic_limit(json_str(vm, "domain_type"));
    if (n >= (size_t)limit) {
        err_set(ERR_STATE, "VM '%s' has %zu VNICs already, the most a %s VM "
                           "can have", sto_rname(vm), n,
                json_str(vm, "domain_type") ? json_str(vm, "domain_type")
                                            : "XEN_HVM");
        return -1;
    }
    if (net_check_vnic_network(v, network_id) < 0)
        return -1;
    if (!has_mac)
        return 0;
    if ((r = mac_owner(v, mac, owner, sizeof(owner))) < 0)
        return -1;
    if (r == 1) {
        net_mac_format(mac, s);
        o = sto_sv_get(v, "VirtualNic", owner);
        err_set(ERR_EXISTS, "MAC address '%s' is used by VNIC '%s' of VM '%s'",
                s, o ? sto_rname(o) : owner,
                o ? sto_sv_name(v, "Vm", json_str(o, "vm_id"), nm, sizeof(nm))
                  : "?");
        return -1;
    }
    return 0;
}

int
net_check_vnic_remove(const struct storage_view *v, const char *id)
{
    AUTOPTR(json_object) json_object *nic = sto_sv_get(v, "VirtualNic", id);
    AUTOPTR(json_object) json_object *vm = NULL;

    if (!nic || !(vm = sto_sv_get(v, "Vm", json_str(nic, "vm_id"))))
        return -1;
    if (str_eq(json_str(vm, "run_state"), "SUSPENDED")) {
        err_set(ERR_STATE, "cannot remove VNIC '%s' from VM '%s' while it is "
                           "SUSPENDED: resume or stop it first",
                sto_rname(nic), sto_rname(vm));
        return -1;
    }
    return 0;
}

int
net_mac_alloc(const struct storage_view *v, uint64_t *mac)
{
    char **ids = NULL;
    size_t n = 0, i;
    uint64_t total = 0;
    int r;

    r = v->t ? db_txn_mac_lowest_free(v->t, mac)
             : db_mac_lowest_free(v->db, mac);
    if (r != 0)
        return r < 0 ? -1 : 0;
    /* All taken: say how many there are, for the message. */
    if (sto_sv_ids(v, "MacRange", NULL, NULL, &ids, &n) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        AUTOPTR(json_object) json_object *rg = sto_sv_get(v, "MacRange",
                                                          ids[i]);

        if (rg)
            total += (uint64_t)(sto_jint(rg, "end_mac", 0) -
                                sto_jint(rg, "start_mac", 0) + 1);
        else
            err_clear();
    }
    sto_ids_free(ids, n);
    if (n == 0)
        err_set(ERR_STATE, "no free MAC address: there is no MAC range (add "
                           "one with POST /MacRange, or give the VNIC a "
                           "'macAddress')");
    else
        err_set(ERR_STATE, "no free MAC address in the MAC ranges (%" PRIu64
                           " address%s in %zu range%s, all in use): add or "
                           "widen a MAC range, or give the VNIC a "
                           "'macAddress'", total, total == 1 ? "" : "es", n,
                n == 1 ? "" : "s");
    return -1;
}

/* ---- helpers of the operations ---- */

/* Append @item to the ", "-separated list @what (@size bytes). */
static void
what_add(char *what, size_t size, const char *item)
{
    size_t len = strlen(what);

    snprintf(what + len, size - len, "%s%s", len ? ", " : "", item);
}

/* A 'generation' in @args (-1 or absent: none) older than @row's:
 * ERR_CONFLICT naming @type. */
static int
gen_check(json_object *args, json_object *row, const char *type)
{
    int64_t gen = sto_jint(args, "generation", -1);

    if (gen >= 0 && gen != sto_jint(row, "generation", 0)) {
        err_set(ERR_CONFLICT, "%s '%s' was changed by someone else: the "
                              "request was made from generation %" PRId64
                              " but it is at generation %" PRId64, type,
                sto_rname(row), gen, sto_jint(row, "generation", 0));
        return -1;
    }
    return 0;
}

/* name, description and userData of @args into row or columns @o. */
static void
common_cols(json_object *args, json_object *o)
{
    json_object *ud = NULL;

    if (json_str(args, "name"))
        sto_set_str(o, "name", json_str(args, "name"));
    if (json_str(args, "description"))
        sto_set_str(o, "description", json_str(args, "description"));
    if (json_object_object_get_ex(args, "userData", &ud) && ud)
        sto_set_str(o, "user_data", json_to_text(ud));
}

/* MAC text member @key of @args parsed into *mac: 1, 0 when absent, -1. */
static int
arg_mac(json_object *args, const char *key, uint64_t *mac)
{
    const char *s = json_str(args, key);

    if (!s)
        return 0;
    return net_mac_parse(key, s, mac) < 0 ? -1 : 1;
}

/* Bump VM @vm_id's generation (its virtualNicIds changed), journalled. */
static int
vm_touch(struct db_txn *t, json_object *u, const char *vm_id)
{
    AUTOPTR(json_object) json_object *none = json_object_new_object();

    if (sto_jr_row(t, u, "Vm", vm_id) < 0)
        return -1;
    return db_txn_row_update(t, sto_mt("Vm"), vm_id, none, true);
}

/* ---- MAC ranges ---- */

static int
macrange_create_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
                     json_object *u)
{
    struct storage_view tv = { NULL, t };
    const char *id = json_str(args, "id"), *name = json_str(args, "name");
    AUTOPTR(json_object) json_object *row = NULL;
    uint64_t s = 0, e = 0;
    char st[MAC_TEXT], en[MAC_TEXT];

    if (!id || !name || arg_mac(args, "start", &s) != 1 ||
        arg_mac(args, "end", &e) != 1) {
        if (err_code() == ERR_OK)
            err_set(ERR_INVALID, "macrange.create needs 'id', 'name', "
                                 "'start' and 'end'");
        return -1;
    }
    if (net_check_macrange(&tv, NULL, s, e) < 0)
        return -1;
    net_mac_format(s, st);
    net_mac_format(e, en);
    row = json_object_new_object();
    sto_set_str(row, "id", id);
    common_cols(args, row);
    json_object_object_add(row, "start_mac", json_object_new_int64((int64_t)s));
    json_object_object_add(row, "end_mac", json_object_new_int64((int64_t)e));
    sto_set_str(row, "start_address", st);
    sto_set_str(row, "end_address", en);
    if (db_txn_row_insert(t, sto_mt("MacRange"), row) < 0)
        return -1;
    sto_jr_created(u, "MacRange", id);
    if (sto_ev(ctx, t, SEV_INFORMATIONAL, "macrange.created", "MacRange", id,
               name, "MAC range '%s' (%s-%s, %" PRIu64 " address%s) created",
               name, st, en, e - s + 1, e == s ? "" : "es") < 0)
        return -1;
    job_set_result(ctx, "MacRange", id, name);
    return 0;
}

static int
macrange_update_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
                     json_object *u)
{
    struct storage_view tv = { NULL, t };
    const char *id = json_str(args, "id");
    AUTOPTR(json_object) json_object *r = NULL, *cols = NULL;
    uint64_t s, e, os, oe;
    int hs, he;
    char what[600], item[300], st[MAC_TEXT], en[MAC_TEXT];
    const char *name;

    if (!id) {
        err_set(ERR_INVALID, "macrange.update needs 'id'");
        return -1;
    }
    if (!(r = db_txn_row_get(t, sto_mt("MacRange"), id)) ||
        gen_check(args, r, "MacRange") < 0 ||
        (hs = arg_mac(args, "start", &s)) < 0 ||
        (he = arg_mac(args, "end", &e)) < 0)
        return -1;
    os = (uint64_t)sto_jint(r, "start_mac", 0);
    oe = (uint64_t)sto_jint(r, "end_mac", 0);
    if (!hs)
        s = os;
    if (!he)
        e = oe;
    what[0] = '\0';
    cols = json_object_new_object();
    if (s != os || e != oe) {
        if (net_check_macrange(&tv, id, s, e) < 0)
            return -1;
        net_mac_format(s, st);
        net_mac_format(e, en);
        json_object_object_add(cols, "start_mac",
                               json_object_new_int64((int64_t)s));
        json_object_object_add(cols, "end_mac",
                               json_object_new_int64((int64_t)e));
        sto_set_str(cols, "start_address", st);
        sto_set_str(cols, "end_address", en);
        snprintf(item, sizeof(item), "addresses %s-%s (were %s-%s)", st, en,
                 json_str(r, "start_address"), json_str(r, "end_address"));
        what_add(what, sizeof(what), item);
    }
    name = json_str(args, "name");
    if (name && !str_eq(name, sto_rname(r))) {
        snprintf(item, sizeof(item), "name (was '%s')", sto_rname(r));
        what_add(what, sizeof(what), item);
    }
    if (json_str(args, "description"))
        what_add(what, sizeof(what), "description");
    if (json_object_object_get_ex(args, "userData", NULL))
        what_add(what, sizeof(what), "userData");
    common_cols(args, cols);
    name = name ? name : sto_rname(r);
    if (sto_jr_row(t, u, "MacRange", id) < 0 ||
        db_txn_row_update(t, sto_mt("MacRange"), id, cols, true) < 0 ||
        sto_ev(ctx, t, SEV_INFORMATIONAL, "macrange.updated", "MacRange", id,
               name, "MAC range '%s' updated: %s", name,
               what[0] ? what : "no member changed") < 0)
        return -1;
    job_set_result(ctx, "MacRange", id, name);
    return 0;
}

static int
macrange_delete_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
                     json_object *u)
{
    struct storage_view tv = { NULL, t };
    const char *id = json_str(args, "id");
    AUTOPTR(json_object) json_object *r = NULL;
    char **ids = NULL;
    size_t n = 0;

    if (!id) {
        err_set(ERR_INVALID, "macrange.delete needs 'id'");
        return -1;
    }
    if (!(r = db_txn_row_get(t, sto_mt("MacRange"), id)) ||
        sto_jr_row(t, u, "MacRange", id) < 0 ||
        db_txn_row_delete(t, sto_mt("MacRange"), id) < 0 ||
        sto_sv_ids(&tv, "MacRange", NULL, NULL, &ids, &n) < 0)
        return -1;
    sto_ids_free(ids, n);
    /* The VNICs keep their addresses; with no range left, new VNICs need
     * an explicit one: worth a warning. */
    if (sto_ev(ctx, t, n ? SEV_INFORMATIONAL : SEV_WARNING,
               "macrange.deleted", "MacRange", id, sto_rname(r),
               "MAC range '%s' (%s-%s) deleted; VNICs keep their "
               "addresses%s", sto_rname(r), json_str(r, "start_address"),
               json_str(r, "end_address"),
               n ? "" : "; no MAC range is left: new VNICs need a "
                        "'macAddress' until one is added") < 0)
        return -1;
    job_set_result(ctx, "MacRange", id, sto_rname(r));
    return 0;
}

/* ---- VNICs ---- */

/* The lowest slot of VM @vm_id no VNIC of it has, into *slot. */
static int
free_slot(const struct storage_view *v, const char *vm_id, int64_t *slot)
{
    char **ids = NULL;
    size_t n = 0, i;
    uint64_t used = 0;   /* bit s: slot s taken (slots 0..63 suffice) */
    int64_t s;
    int rc = 0;

    if (sto_sv_ids(v, "VirtualNic", "vm_id", vm_id, &ids, &n) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        AUTOPTR(json_object) json_object *nic = sto_sv_get(v, "VirtualNic",
                                                           ids[i]);

        if (!nic) {
            rc = -1;
            break;
        }
        s = sto_jint(nic, "slot", -1);
        if (s >= 0 && s < 64)
            used |= (uint64_t)1 << s;
    }
    sto_ids_free(ids, n);
    for (s = 0; s < 64 && (used >> s) & 1; s++)
        ;
    *slot = s;
    return rc;
}

static int
vnic_create_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
                 json_object *u)
{
    struct storage_view tv = { NULL, t };
    const char *id = json_str(args, "id"), *vm_id = json_str(args, "vm");
    const char *net = json_str(args, "network"), *name;
    AUTOPTR(json_object) json_object *vm = NULL, *row = NULL;
    char mac[MAC_TEXT], nm[256];
    uint64_t m = 0;
    int64_t slot = 0;
    int has;

    if (!id || !vm_id || !net) {
        err_set(ERR_INVALID, "vnic.create needs 'id', 'vm' and 'network'");
        return -1;
    }
    if ((has = arg_mac(args, "macAddress", &m)) < 0 ||
        (has && net_mac_check_unicast("'macAddress'", m) < 0) ||
        !(vm = db_txn_row_get(t, sto_mt("Vm"), vm_id)) ||
        net_check_vnic_add(&tv, vm_id, net, has == 1, m) < 0 ||
        (!has && net_mac_alloc(&tv, &m) < 0) ||
        free_slot(&tv, vm_id, &slot) < 0)
        return -1;
    net_mac_format(m, mac);
    name = json_str(args, "name") ? json_str(args, "name") : mac;
    row = json_object_new_object();
    sto_set_str(row, "id", id);
    common_cols(args, row);
    sto_set_str(row, "name", name);
    sto_set_str(row, "vm_id", vm_id);
    sto_set_str(row, "network_id", net);
    sto_set_str(row, "mac_address", mac);
    json_object_object_add(row, "mac_int", json_object_new_int64((int64_t)m));
    json_object_object_add(row, "slot", json_object_new_int64(slot));
    sto_set_str(row, "interface_name", "");
    if (db_txn_row_insert(t, sto_mt("VirtualNic"), row) < 0)
        return -1;
    sto_jr_created(u, "VirtualNic", id);
    if (vm_touch(t, u, vm_id) < 0 ||
        sto_ev(ctx, t, SEV_INFORMATIONAL, "virtualnic.created", "VirtualNic",
               id, name, "VNIC '%s' (MAC %s%s, slot %" PRId64 ") added to VM "
               "'%s' on network '%s'", name, mac,
               has ? "" : ", from the MAC ranges", slot, sto_rname(vm),
               sto_sv_name(&tv, "Network", net, nm, sizeof(nm))) < 0)
        return -1;
    job_set_result(ctx, "VirtualNic", id, name);
    return 0;
}

static int
vnic_update_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
                 json_object *u)
{
    struct storage_view tv = { NULL, t };
    const char *id = json_str(args, "id"), *net = json_str(args, "network");
    const char *name = json_str(args, "name");
    AUTOPTR(json_object) json_object *nic = NULL, *cols = NULL;
    char what[700], item[400], nm[256];

    if (!id) {
        err_set(ERR_INVALID, "vnic.update needs 'id'");
        return -1;
    }
    if (!(nic = db_txn_row_get(t, sto_mt("VirtualNic"), id)) ||
        gen_check(args, nic, "VirtualNic") < 0)
        return -1;
    what[0] = '\0';
    cols = json_object_new_object();
    if (net && !str_eq(net, json_str(nic, "network_id"))) {
        if (net_check_vnic_network(&tv, net) < 0)
            return -1;
        sto_set_str(cols, "network_id", net);
        snprintf(item, sizeof(item), "network '%s'",
                 sto_sv_name(&tv, "Network", net, nm, sizeof(nm)));
        what_add(what, sizeof(what), item);
    }
    if (name && !str_eq(name, sto_rname(nic))) {
        snprintf(item, sizeof(item), "name (was '%s')", sto_rname(nic));
        what_add(what, sizeof(what), item);
    }
    if (json_str(args, "description"))
        what_add(what, sizeof(what), "description");
    if (json_object_object_get_ex(args, "userData", NULL))
        what_add(what, sizeof(what), "userData");
    common_cols(args, cols);
    name = name ? name : sto_rname(nic);
    if (sto_jr_row(t, u, "VirtualNic", id) < 0 ||
        db_txn_row_update(t, sto_mt("VirtualNic"), id, cols, true) < 0 ||
        sto_ev(ctx, t, SEV_INFORMATIONAL, "virtualnic.updated", "VirtualNic",
               id, name, "VNIC '%s' updated: %s", name,
               what[0] ? what : "no member changed") < 0)
        return -1;
    job_set_result(ctx, "VirtualNic", id, name);
    return 0;
}

static int
vnic_delete_step(struct job_ctx *ctx, struct db_txn *t, json_object *args,
                 json_object *u)
{
    struct storage_view tv = { NULL, t };
    const char *id = json_str(args, "id");
    AUTOPTR(json_object) json_object *nic = NULL;
    char vm_id[256], nm[256];

    if (!id) {
        err_set(ERR_INVALID, "vnic.delete needs 'id'");
        return -1;
    }
    if (!(nic = db_txn_row_get(t, sto_mt("VirtualNic"), id)) ||
        net_check_vnic_remove(&tv, id) < 0)
        return -1;
    str_copy(vm_id, json_str(nic, "vm_id"), sizeof(vm_id));
    if (sto_jr_row(t, u, "VirtualNic", id) < 0 ||
        db_txn_row_delete(t, sto_mt("VirtualNic"), id) < 0 ||
        vm_touch(t, u, vm_id) < 0 ||
        sto_ev(ctx, t, SEV_INFORMATIONAL, "virtualnic.deleted", "VirtualNic",
               id, sto_rname(nic), "VNIC '%s' (MAC %s, slot %" PRId64 ") "
               "removed from VM '%s'", sto_rname(nic),
               json_str(nic, "mac_address"), sto_jint(nic, "slot", 0),
               sto_sv_name(&tv, "Vm", vm_id, nm, sizeof(nm))) < 0)
        return -1;
    job_set_result(ctx, "VirtualNic", id, sto_rname(nic));
    return 0;
}

/* One transaction: the step, then sto_finish() (op_array.c's pattern). */
#define ONE_TXN_RUN(fn, step)                                              \
    static int fn(struct job_ctx *ctx, json_object *args,                  \
                  json_object **undo)                                      \
    {                                                                      \
        AUTOPTR(json_object) json_object *u = sto_undo_new();              \
        struct db_txn *t = job_txn_begin(ctx);                             \
                                                                           \
        (void)undo;                                                        \
        if (!t)                                                            \
            return -1;                                                     \
        return sto_finish(ctx, t, step(ctx, t, args, u), u);               \
    }

ONE_TXN_RUN(macrange_create_run, macrange_create_step)
ONE_TXN_RUN(macrange_update_run, macrange_update_step)
ONE_TXN_RUN(macrange_delete_run, macrange_delete_step)
ONE_TXN_RUN(vnic_create_run, vnic_create_step)
ONE_TXN_RUN(vnic_update_run, vnic_update_step)
ONE_TXN_RUN(vnic_delete_run, vnic_delete_step)

/* ---- the operations ----
 *
 * Arguments (made by src/api/api_vnic.c; MAC addresses as text):
 *   macrange.create  id, name, description?, userData?, start, end
 *   macrange.update  id, generation?, name?, description?, userData?,
 *                    start?, end?
 *   macrange.delete  id
 *   vnic.create      id, vm, network, name? (default: the MAC),
 *                    description?, userData?, macAddress? (default: the
 *                    lowest free address of the ranges)
 *   vnic.update      id, generation?, name?, description?, userData?,
 *                    network?
 *   vnic.delete      id
 * Undo data: the journal of storage_int.h (storage_undo()).
 */
static const struct job_op_type op_macrange_create = {
    "macrange.create", macrange_create_run, storage_undo, true,
};
static const struct job_op_type op_macrange_update = {
    "macrange.update", macrange_update_run, storage_undo, true,
};
static const struct job_op_type op_macrange_delete = {
    "macrange.delete", macrange_delete_run, storage_undo, true,
};
static const struct job_op_type op_vnic_create = {
    "vnic.create", vnic_create_run, storage_undo, true,
};
static const struct job_op_type op_vnic_update = {
    "vnic.update", vnic_update_run, storage_undo, true,
};
static const struct job_op_type op_vnic_delete = {
    "vnic.delete", vnic_delete_run, storage_undo, true,
};

/* The operations of this file (engine.c searches this table). */
const struct job_op_type *const job_ops_vnic[] = {
    &op_macrange_create, &op_macrange_update, &op_macrange_delete,
    &op_vnic_create, &op_vnic_update, &op_vnic_delete,
    NULL,
};
