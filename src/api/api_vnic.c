/*
 * api_vnic.c - VNIC and MAC range routes (issue 6; docs/NETWORKS.md,
 * "VNICs and MAC ranges"): create, edit and delete a MAC range; add a
 * VNIC to a VM, edit it, remove it. Reads are the generic ones of
 * api_object.c (GET /MacRange, /VirtualNic/{id}, /Network/{id}/VirtualNic
 * ...).
 *
 * DESIGN: the mutating-handler skeleton of DESIGN section 3, as
 * api_storage.c, with its helpers (api_int.h). What can be decided now is
 * decided now with no job: a body that is not what the route takes or a
 * MAC address that does not parse (400), an unknown object (404), a rule
 * of jobs/network.h against the current state (409) -- the operations of
 * src/jobs/op_vnic.c apply the same rules again inside their transaction.
 * A VNIC without a 'macAddress' is refused now when the ranges have no
 * free address, but its address is chosen by the job, in its write
 * transaction, so concurrent creations never share one. Then one job of
 * one operation: a VNIC add or removal holds its VM exclusively and the
 * network shared, an edit the VNIC exclusively and its VM and network
 * shared, a range change the range.
 *
 * Oracle VM 3.4 compatibility: POST /Vm/{id}/VirtualNic takes a
 * VirtualNic as Oracle's clients send it (networkId as a SimpleId or an
 * id string, macAddress, name, description); PUT /VirtualNic/{id} the
 * object as GET returned it (macAddress, vmId and slot may come back
 * equal, never changed; interfaceName is the Manager's and ignored).
 * MacRange is an extension (Oracle VM's getVnicMacAddrRange and
 * setVnicMacAddrRange as objects). Members a route does not handle are
 * ignored.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "jobs/jobs.h"
#include "jobs/network.h"
#include "jobs/storage.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/json.h"
#include "util/str.h"

#define MAC_TEXT 18

static struct storage_view
reader(void)
{
    struct storage_view v = { api_conf()->db, NULL };

    return v;
}

/* Add name, description and userData (each when given) to @args. */
static void
common_args(json_object *args, const char *name, const char *desc,
            json_object *ud)
{
    if (name)
        json_object_object_add(args, "name", json_object_new_string(name));
    if (desc)
        json_object_object_add(args, "description",
                               json_object_new_string(desc));
    if (ud)
        json_object_object_add(args, "userData", json_object_get(ud));
}

/*
 * String member @key of @b as a MAC address: 1 with *mac and its
 * canonical text in @text, 0 when absent or null, -1 (ERR_INVALID).
 */
static int
body_mac(json_object *b, const char *key, uint64_t *mac, char *text)
{
    const char *s = NULL;
    char what[64];

    if (api_body_str(b, key, &s) < 0)
        return -1;
    if (!s)
        return 0;
    snprintf(what, sizeof(what), "'%s'", key);
    if (net_mac_parse(what, s, mac) < 0)
        return -1;
    net_mac_format(*mac, text);
    return 1;
}

/* ---- POST /MacRange ---- */

int
api_macrange_create(struct api_req *req, struct api_resp *resp)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *b = api_body_object(req);
    AUTOPTR(json_object) json_object *args = NULL;
    const char *name = NULL, *desc = NULL;
    char st[MAC_TEXT], en[MAC_TEXT], jname[600];
    char *AUTOFREE id = NULL;
    json_object *ud = NULL;
    uint64_t s = 0, e = 0;
    int hs, he;
    API_LOCKS(l);

    if (!b || api_common_members(b, model_type_find("MacRange"), &name,
                                 &desc, &ud) < 0 ||
        (hs = body_mac(b, "startMacAddress", &s, st)) < 0 ||
        (he = body_mac(b, "endMacAddress", &e, en)) < 0)
        return -1;
    if (!name || !*name) {
        err_set(ERR_INVALID, "a MAC range needs a 'name'");
        return -1;
    }
    if (!hs || !he) {
        err_set(ERR_INVALID, "a MAC range needs 'startMacAddress' and "
                             "'endMacAddress'");
        return -1;
    }
    if (net_check_macrange(&v, NULL, s, e) < 0)
        return -1;
    id = model_id_new(model_type_find("MacRange"));
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    common_args(args, name, desc, ud);
    json_object_object_add(args, "start", json_object_new_string(st));
    json_object_object_add(args, "end", json_object_new_string(en));
    api_lock_add(&l, "MacRange", id, name, true);
    snprintf(jname, sizeof(jname), "Create MAC Range: %s", name);
    return api_submit(req, resp, jname, &l, "macrange.create", args,
                      "MacRange", id, name);
}

/* ---- PUT /MacRange/{id} ---- */

int
api_macrange_update(struct api_req *req, struct api_resp *resp)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *r = NULL, *b = NULL, *args = NULL;
    const char *name = NULL, *desc = NULL;
    char id[256], st[MAC_TEXT], en[MAC_TEXT], jname[600];
    json_object *ud = NULL;
    uint64_t s = 0, e = 0;
    int64_t gen;
    int hs, he;
    API_LOCKS(l);

    if (!(r = api_target(req, "MacRange", id, sizeof(id))) ||
        !(b = api_body_object(req)))
        return -1;
    if (api_body_id_check(b, "MacRange", id) < 0 ||
        api_common_members(b, model_type_find("MacRange"), &name, &desc,
                           &ud) < 0 ||
        api_generation_check(b, r, "MacRange", &gen) < 0 ||
        (hs = body_mac(b, "startMacAddress", &s, st)) < 0 ||
        (he = body_mac(b, "endMacAddress", &e, en)) < 0)
        return -1;
    if (name && !*name) {
        err_set(ERR_INVALID, "a MAC range needs a 'name'");
        return -1;
    }
    if (!hs)
        s = (uint64_t)json_object_get_int64(
            json_object_object_get(r, "start_mac"));
    if (!he)
        e = (uint64_t)json_object_get_int64(
            json_object_object_get(r, "end_mac"));
    if ((hs || he) && net_check_macrange(&v, id, s, e) < 0)
        return -1;
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    if (gen >= 0)
        json_object_object_add(args, "generation",
                               json_object_new_int64(gen));
    common_args(args, name, desc, ud);
    if (hs)
        json_object_object_add(args, "start", json_object_new_string(st));
    if (he)
        json_object_object_add(args, "end", json_object_new_string(en));
    api_lock_add(&l, "MacRange", id, json_str(r, "name"), true);
    snprintf(jname, sizeof(jname), "Edit MAC Range: %s",
             name ? name : json_str(r, "name"));
    return api_submit(req, resp, jname, &l, "macrange.update", args,
                      "MacRange", id, name ? name : json_str(r, "name"));
}

/* ---- DELETE /MacRange/{id} ---- */

int
api_macrange_delete(struct api_req *req, struct api_resp *resp)
{
    AUTOPTR(json_object) json_object *r = NULL, *args = NULL;
    char id[256], jname[600];
    API_LOCKS(l);

    if (!(r = api_target(req, "MacRange", id, sizeof(id))))
        return -1;
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    api_lock_add(&l, "MacRange", id, json_str(r, "name"), true);
    snprintf(jname, sizeof(jname), "Delete MAC Range: %s",
             json_str(r, "name"));
    return api_submit(req, resp, jname, &l, "macrange.delete", args,
                      "MacRange", id, json_str(r, "name"));
}

/* ---- POST /Vm/{id}/VirtualNic ---- */

int
api_vnic_create(struct api_req *req, struct api_resp *resp)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *vm = NULL, *b = NULL, *args = NULL;
    AUTOPTR(json_object) json_object *n = NULL;
    const char *name = NULL, *desc = NULL;
    char vm_id[256], net[256], other[256], mac[MAC_TEXT], jname[700];
    char *AUTOFREE id = NULL;
    json_object *ud = NULL, *m = NULL;
    uint64_t addr = 0, spare;
    int has, r;
    API_LOCKS(l);

    if (!(vm = api_target(req, "Vm", vm_id, sizeof(vm_id))) ||
        !(b = api_body_object(req)))
        return -1;
    if (api_common_members(b, model_type_find("VirtualNic"), &name, &desc,
                           &ud) < 0 ||
        (has = body_mac(b, "macAddress", &addr, mac)) < 0)
        return -1;
    json_object_object_get_ex(b, "vmId", &m);
    if ((r = api_ref_value(m, "Vm", "'vmId'", other, sizeof(other))) < 0)
        return -1;
    if (r == 0 && strcmp(other, vm_id) != 0) {
        err_set(ERR_INVALID, "the body's 'vmId' '%s' is not the VM in the "
                             "path '%s'", other, vm_id);
        return -1;
    }
    m = NULL;
    json_object_object_get_ex(b, "networkId", &m);
    if ((r = api_ref_value(m, "Network", "'networkId'", net,
                           sizeof(net))) < 0)
        return -1;
    if (r == 1) {
        err_set(ERR_INVALID, "a VNIC needs a 'networkId': a network with "
                             "the VIRTUAL_MACHINE role");
        return -1;
    }
    if (name && !*name)
        name = NULL;
    if ((has && net_mac_check_unicast("'macAddress'", addr) < 0) ||
        net_check_vnic_add(&v, vm_id, net, has == 1, addr) < 0 ||
        (!has && net_mac_alloc(&v, &spare) < 0) ||
        !(n = api_row_get("Network", net)))
        return -1;
    id = model_id_new(model_type_find("VirtualNic"));
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    json_object_object_add(args, "vm", json_object_new_string(vm_id));
    json_object_object_add(args, "network", json_object_new_string(net));
    common_args(args, name, desc, ud);
    if (has)
        json_object_object_add(args, "macAddress",
                               json_object_new_string(mac));
    api_lock_add(&l, "Vm", vm_id, json_str(vm, "name"), true);
    api_lock_add(&l, "Network", net, json_str(n, "name"), false);
    api_lock_add(&l, "VirtualNic", id, name ? name : has ? mac : NULL, true);
    snprintf(jname, sizeof(jname), "Create Virtual NIC on VM: %s",
             json_str(vm, "name"));
    return api_submit(req, resp, jname, &l, "vnic.create", args,
                      "VirtualNic", id, name ? name : has ? mac : "");
}

/* ---- PUT /VirtualNic/{id} ---- */

/* Members of a VNIC a body may repeat but never change: 400. */
static int
vnic_fixed_members(json_object *b, json_object *nic)
{
    json_object *m = NULL;
    char mac[MAC_TEXT], other[256];
    uint64_t addr;
    int64_t slot;
    int r;

    if ((r = body_mac(b, "macAddress", &addr, mac)) < 0)
        return -1;
    if (r == 1 && !str_eq(mac, json_str(nic, "mac_address"))) {
        err_set(ERR_INVALID, "the 'macAddress' of VNIC '%s' cannot change "
                             "(it is '%s'): add a VNIC with the new address "
                             "instead", json_str(nic, "name"),
                json_str(nic, "mac_address"));
        return -1;
    }
    json_object_object_get_ex(b, "vmId", &m);
    if ((r = api_ref_value(m, "Vm", "'vmId'", other, sizeof(other))) < 0)
        return -1;
    if (r == 0 && !str_eq(other, json_str(nic, "vm_id"))) {
        err_set(ERR_INVALID, "VNIC '%s' cannot move to another VM ('vmId')",
                json_str(nic, "name"));
        return -1;
    }
    if ((r = json_get_int64(b, "slot", &slot)) < 0)
        return -1;
    if (r == 0 && slot != json_object_get_int64(
                              json_object_object_get(nic, "slot"))) {
        err_set(ERR_INVALID, "the 'slot' of VNIC '%s' cannot change",
                json_str(nic, "name"));
        return -1;
    }
    return 0;
}

int
api_vnic_update(struct api_req *req, struct api_resp *resp)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *nic = NULL, *b = NULL, *args = NULL;
    AUTOPTR(json_object) json_object *n = NULL;
    const char *name = NULL, *desc = NULL, *cur;
    char id[256], net[256], jname[600];
    json_object *ud = NULL, *m = NULL;
    int64_t gen;
    int r;
    API_LOCKS(l);

    if (!(nic = api_target(req, "VirtualNic", id, sizeof(id))) ||
        !(b = api_body_object(req)))
        return -1;
    if (api_body_id_check(b, "VirtualNic", id) < 0 ||
        api_common_members(b, model_type_find("VirtualNic"), &name, &desc,
                           &ud) < 0 ||
        api_generation_check(b, nic, "VirtualNic", &gen) < 0 ||
        vnic_fixed_members(b, nic) < 0)
        return -1;
    if (name && !*name) {
        err_set(ERR_INVALID, "a VNIC's 'name' cannot be empty");
        return -1;
    }
    json_object_object_get_ex(b, "networkId", &m);
    if ((r = api_ref_value(m, "Network", "'networkId'", net,
                           sizeof(net))) < 0)
        return -1;
    cur = json_str(nic, "network_id");
    /* null or absent: unchanged (the network of a GET body may be gone) */
    if (r == 0 && !str_eq(net, cur)) {
        if (net_check_vnic_network(&v, net) < 0)
            return -1;
    } else {
        str_copy(net, cur ? cur : "", sizeof(net));
        r = 1;
    }
    if (net[0] && !(n = api_row_get("Network", net)))
        err_clear();
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    if (gen >= 0)
        json_object_object_add(args, "generation",
                               json_object_new_int64(gen));
    common_args(args, name, desc, ud);
    if (r == 0)
        json_object_object_add(args, "network", json_object_new_string(net));
    api_lock_add(&l, "VirtualNic", id, json_str(nic, "name"), true);
    api_lock_add(&l, "Vm", json_str(nic, "vm_id"), NULL, false);
    if (net[0])
        api_lock_add(&l, "Network", net, n ? json_str(n, "name") : NULL,
                     false);
    snprintf(jname, sizeof(jname), "Edit Virtual NIC: %s",
             json_str(nic, "name"));
    return api_submit(req, resp, jname, &l, "vnic.update", args,
                      "VirtualNic", id, name ? name : json_str(nic, "name"));
}

/* ---- DELETE /VirtualNic/{id}, /Vm/{id}/VirtualNic/{vnicId} ---- */

int
api_vnic_delete(struct api_req *req, struct api_resp *resp)
{
    struct storage_view v = reader();
    AUTOPTR(json_object) json_object *nic = NULL, *vm = NULL;
    AUTOPTR(json_object) json_object *args = NULL;
    char id[256], vm_id[256], jname[600];
    bool via_vm = req->nparams >= 2;
    API_LOCKS(l);

    if (via_vm && !(vm = api_target(req, "Vm", vm_id, sizeof(vm_id))))
        return -1;
    if (api_segment(req, via_vm ? 3 : 1, id, sizeof(id)) < 0 ||
        !(nic = api_row_get("VirtualNic", id)))
        return -1;
    if (via_vm && !str_eq(json_str(nic, "vm_id"), vm_id)) {
        err_set(ERR_NOT_FOUND, "VirtualNic '%s' not found in VM '%s'", id,
                json_str(vm, "name"));
        return -1;
    }
    if (!vm && !(vm = api_row_get("Vm", json_str(nic, "vm_id"))))
        return -1;
    if (net_check_vnic_remove(&v, id) < 0)
        return -1;
    args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    api_lock_add(&l, "VirtualNic", id, json_str(nic, "name"), true);
    api_lock_add(&l, "Vm", json_str(vm, "id"), json_str(vm, "name"), true);
    snprintf(jname, sizeof(jname), "Delete Virtual NIC: %s from VM: %s",
             json_str(nic, "name"), json_str(vm, "name"));
    return api_submit(req, resp, jname, &l, "vnic.delete", args,
                      "VirtualNic", id, json_str(nic, "name"));
}
