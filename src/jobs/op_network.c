/*
 * op_network.c - networks (issue 6; docs/NETWORKS.md): the shared network
 * helpers of network.h and the operations network.* (work in progress:
 * see docs/NETWORKS.md).
 */
#include <stdio.h>
#include <string.h>

#include "jobs/jobs_int.h"
#include "jobs/network.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/str.h"

static const char *const roles[] = {
    "MANAGEMENT", "LIVE_MIGRATE", "CLUSTER_HEARTBEAT", "VIRTUAL_MACHINE",
    "STORAGE",
};

bool
net_role_valid(const char *role)
{
    size_t i;

    for (i = 0; role && i < sizeof(roles) / sizeof(roles[0]); i++) {
        if (strcmp(roles[i], role) == 0)
            return true;
    }
    return false;
}

bool
net_has_role(json_object *n, const char *role)
{
    const char *text = json_str(n, "roles");
    json_object *a = text ? json_parse(text, strlen(text)) : NULL;
    bool found = false;
    size_t i;

    if (!a) {
        err_clear();
        return false;
    }
    for (i = 0; json_object_is_type(a, json_type_array) &&
                i < json_object_array_length(a) && !found; i++) {
        json_object *e = json_object_array_get_idx(a, i);

        found = json_object_is_type(e, json_type_string) &&
                strcmp(json_object_get_string(e), role) == 0;
    }
    json_object_put(a);
    return found;
}

bool
net_vm_active(const char *s)
{
    return str_eq(s, "RUNNING") || str_eq(s, "SUSPENDED") ||
           str_eq(s, "STARTING") || str_eq(s, "STOPPING");
}

char *
net_bridge_name(const char *network_id)
{
    size_t n = network_id ? strlen(network_id) : 0;

    return xasprintf("vb%s", n > 10 ? network_id + n - 10 : network_id);
}

/* The network operations (engine.c searches this table). */
const struct job_op_type *const job_ops_net[] = {
    NULL,
};
