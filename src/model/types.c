/*
 * types.c - the registered object types, as data (see model.h).
 *
 * DESIGN: one descriptor per REST type. Field order is the JSON member
 * order after the common fields, matching the Oracle VM samples in
 * ../shared/reference/wsapi-samples. Types arrive issue by issue; each
 * needs its table in a schema/db migration with the columns named here.
 * Immutable; thread-safe.
 */
#include <stddef.h>
#include <string.h>

#include "model/model.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* GET /Manager: see get_manager.json. */
static const struct model_field manager_fields[] = {
    { "managerUuid", MF_STRING, "manager_uuid", NULL, NULL },
    { "managerVersion", MF_STRING, "manager_version", NULL, NULL },
    { "managerRunState", MF_STRING, "run_state", NULL, NULL },
    { "managerTime", MF_NOW_MS, NULL, NULL, NULL },
};

static const struct model_type manager_type = {
    .name = "Manager",
    .code = "0001",
    .table = "manager",
    .fields = manager_fields,
    .nfields = NELEMS(manager_fields),
};

/*
 * GET /User: an extension (Oracle VM keeps users in WebLogic). The
 * password hash is deliberately not a field, so it can never be rendered.
 */
static const struct model_field user_fields[] = {
    { "role", MF_STRING, "role", NULL, NULL },
    { "accountLocked", MF_BOOL, "disabled", NULL, NULL },
    { "lockedOutUntil", MF_INT, "locked_until_ms", NULL, NULL },
    { "failedLogins", MF_INT, "failed_logins", NULL, NULL },
    { "lastLoginTime", MF_INT, "last_login_ms", NULL, NULL },
};

static const struct model_type user_type = {
    .name = "User",
    .code = "0100",
    .table = "users",
    .fields = user_fields,
    .nfields = NELEMS(user_fields),
    .extension = true,
};

/* GET /Server: see get_server.json. The id is the host UUID in Oracle VM's
 * colon form; the sealed agent/IPMI passwords are deliberately not
 * fields. */
static const struct model_field server_fields[] = {
    { "serverRunState", MF_STRING, "run_state", NULL, NULL },
    { "ipAddress", MF_STRING, "ip_address", NULL, NULL },
    { "serverRoles", MF_JSON, "roles", NULL, NULL },
    { "maintenanceMode", MF_BOOL, "maintenance_mode", NULL, NULL },
    { "agentLogin", MF_STRING, "agent_login", NULL, NULL },
    { "statisticInterval", MF_INT, "statistic_interval", NULL, NULL },
    { "ntpServers", MF_JSON, "ntp_servers", NULL, NULL },
    { "biosVendor", MF_STRING, "bios_vendor", NULL, NULL },
    { "biosVersion", MF_STRING, "bios_version", NULL, NULL },
    { "biosReleaseDate", MF_STRING, "bios_release_date", NULL, NULL },
    { "processorType", MF_STRING, "processor_type", NULL, NULL },
    { "processorSpeed", MF_INT, "processor_speed", NULL, NULL },
    { "populatedProcessorSockets", MF_INT, "sockets", NULL, NULL },
    { "threadsPerCore", MF_INT, "threads_per_core", NULL, NULL },
    { "coresPerProcessorSocket", MF_INT, "cores_per_socket", NULL, NULL },
    { "totalProcessorCores", MF_INT, "total_cores", NULL, NULL },
    { "enabledProcessorCores", MF_INT, "enabled_cores", NULL, NULL },
    { "memory", MF_INT, "memory_mib", NULL, NULL },
    { "usableMemory", MF_INT, "usable_memory_mib", NULL, NULL },
    { "hostname", MF_STRING, "hostname", NULL, NULL },
    { "managerUuid", MF_STRING, "manager_uuid", NULL, NULL },
    { "manufacturer", MF_STRING, "manufacturer", NULL, NULL },
    { "productName", MF_STRING, "product_name", NULL, NULL },
    { "serialNumber", MF_STRING, "serial_number", NULL, NULL },
    { "hypervisor", MF_JSON, "hypervisor", NULL, NULL },
    /* Extension until issue 5 models local storage as StorageElements. */
    { "localDisks", MF_JSON, "local_disks", NULL, NULL },
    { "cpuCompatibilityGroupId", MF_REF, "cpu_compat_group_id",
      "CpuCompatibilityGroup", NULL },
    { "serverPoolId", MF_REF, "server_pool_id", "ServerPool", NULL },
    { "ethernetPortIds", MF_REFLIST, NULL, "EthernetPort", "server_id" },
    /* Extensions. */
    { "libvirtUri", MF_STRING, "libvirt_uri", NULL, NULL },
    { "inboundMigrationLocked", MF_BOOL, "inbound_migration_locked", NULL,
      NULL },
    { "ipmiAddress", MF_STRING, "ipmi_address", NULL, NULL },
    { "ipmiUser", MF_STRING, "ipmi_user", NULL, NULL },
    /* Extensions kept by the monitor (schema/db/0006_monitor.sql,
     * docs/MONITORING.md). */
    { "cpuUtilization", MF_INT, "cpu_utilization", NULL, NULL },
    { "memoryUtilization", MF_INT, "memory_utilization", NULL, NULL },
    { "memoryUsed", MF_INT, "memory_used_mib", NULL, NULL },
    { "runningDomains", MF_INT, "running_domains", NULL, NULL },
    { "lastSampled", MF_INT, "sampled_ms", NULL, NULL },
    { "lastSeen", MF_INT, "last_seen_ms", NULL, NULL },
    { "unreachableReason", MF_STRING, "monitor_error", NULL, NULL },
    { "foreignDomains", MF_JSON, "foreign_domains", NULL, NULL },
};

static const struct model_child server_children[] = {
    { "EthernetPort", "EthernetPort", "server_id" },
};

static const struct model_type server_type = {
    .name = "Server",
    .code = "0003",
    .table = "servers",
    .fields = server_fields,
    .nfields = NELEMS(server_fields),
    .children = server_children,
    .nchildren = NELEMS(server_children),
};

/* GET /ServerPool: see get_server_pool.json. */
static const struct model_field server_pool_fields[] = {
    { "serverIds", MF_REFLIST, NULL, "Server", "server_pool_id" },
    { "masterServerId", MF_REF, "master_server_id", "Server", NULL },
    { "virtualIp", MF_STRING, "virtual_ip", NULL, NULL },
    { "keymap", MF_STRING, "keymap", NULL, NULL },
    { "secureVmMigrate", MF_BOOL, "secure_vm_migrate", NULL, NULL },
    { "serverPoolPolicyId", MF_REF, "policy_id", "ServerPoolPolicy", NULL },
    { "vmStartPolicy", MF_STRING, "vm_start_policy", NULL, NULL },
    /* Extension. */
    { "clustered", MF_BOOL, "clustered", NULL, NULL },
};

static const struct model_child server_pool_children[] = {
    { "Server", "Server", "server_pool_id" },
    { "ServerPoolPolicy", "ServerPoolPolicy", "server_pool_id" },
};

static const struct model_type server_pool_type = {
    .name = "ServerPool",
    .code = "0002",
    .table = "server_pools",
    .fields = server_pool_fields,
    .nfields = NELEMS(server_pool_fields),
    .children = server_pool_children,
    .nchildren = NELEMS(server_pool_children),
    .strict_name = true,
};

/*
 * GET /ServerPoolPolicy: see get_server_pool_policy.json. One per pool,
 * id "balancer_<pool id>", made and deleted with its pool (db_pool.c);
 * mode OFF until DRS/DPM are enforced. serverIds are the participating
 * servers (servers.policy_id).
 */
static const struct model_field server_pool_policy_fields[] = {
    { "mode", MF_STRING, "mode", NULL, NULL },
    { "cpuEnable", MF_BOOL, "cpu_enable", NULL, NULL },
    { "periodMinutes", MF_INT, "period_minutes", NULL, NULL },
    { "cpuThreshold", MF_INT, "cpu_threshold", NULL, NULL },
    { "serverIds", MF_REFLIST, NULL, "Server", "policy_id" },
    { "serverPoolNetworkPolicyIds", MF_JSON, "network_policies", NULL, NULL },
    { "serverPoolId", MF_REF, "server_pool_id", "ServerPool", NULL },
};

static const struct model_type server_pool_policy_type = {
    .name = "ServerPoolPolicy",
    .code = "0040",
    .table = "server_pool_policies",
    .fields = server_pool_policy_fields,
    .nfields = NELEMS(server_pool_policy_fields),
};

/* GET /EthernetPort: see get_ethernet_port.json. */
static const struct model_field ethernet_port_fields[] = {
    { "interfaceName", MF_STRING, "interface_name", NULL, NULL },
    { "macAddress", MF_STRING, "mac_address", NULL, NULL },
    { "mtu", MF_INT, "mtu", NULL, NULL },
    { "networkId", MF_REF, "network_id", "Network", NULL },
    { "portType", MF_STRING, "port_type", NULL, NULL },
    { "serverId", MF_REF, "server_id", "Server", NULL },
    { "portState", MF_STRING, "port_state", NULL, NULL },
};

static const struct model_type ethernet_port_type = {
    .name = "EthernetPort",
    .code = "0020",
    .table = "ethernet_ports",
    .fields = ethernet_port_fields,
    .nfields = NELEMS(ethernet_port_fields),
};

/* GET /Network: see get_network.json. */
static const struct model_field network_fields[] = {
    { "roles", MF_JSON, "roles", NULL, NULL },
    { "ethernetPortIds", MF_REFLIST, NULL, "EthernetPort", "network_id" },
    { "serverLocal", MF_BOOL, "server_local", NULL, NULL },
    { "mtu", MF_INT, "mtu", NULL, NULL },
    { "serverId", MF_REF, "server_id", "Server", NULL },
};

static const struct model_type network_type = {
    .name = "Network",
    .code = "0010",
    .table = "networks",
    .fields = network_fields,
    .nfields = NELEMS(network_fields),
};

/* GET /CpuCompatibilityGroup: see get_cpu_compatibility_group.json. The
 * default groups are computed from CPU vendor, family and model. */
static const struct model_field cpu_group_fields[] = {
    { "serverIds", MF_REFLIST, NULL, "Server", "cpu_compat_group_id" },
};

static const struct model_type cpu_group_type = {
    .name = "CpuCompatibilityGroup",
    .code = "0030",
    .table = "cpu_compat_groups",
    .fields = cpu_group_fields,
    .nfields = NELEMS(cpu_group_fields),
};

static const struct model_type *const all_types[] = {
    &manager_type,
    &user_type,
    &server_type,
    &server_pool_type,
    &server_pool_policy_type,
    &ethernet_port_type,
    &network_type,
    &cpu_group_type,
};

const struct model_type *const *
model_types(size_t *n)
{
    *n = NELEMS(all_types);
    return all_types;
}

const struct model_type *
model_type_find(const char *name)
{
    size_t i;

    if (!name)
        return NULL;
    for (i = 0; i < NELEMS(all_types); i++) {
        if (strcmp(all_types[i]->name, name) == 0)
            return all_types[i];
    }
    return NULL;
}
