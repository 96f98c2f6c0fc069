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
    { "storageInitiatorIds", MF_REFLIST, NULL, "StorageInitiator",
      "server_id" },
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
    .code = "0090",   /* unused: server ids are host UUIDs */
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
    /* Extensions. */
    { "clustered", MF_BOOL, "clustered", NULL, NULL },
    { "poolFileSystemId", MF_REF, "pool_file_system_id", "FileSystem",
      NULL },
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
    /* Bonds (issue 6, docs/NETWORKS.md): a BOND's mode and physical
     * ports, a physical port's bond. */
    { "bondMode", MF_STRING, "bond_mode", NULL, NULL },
    { "physicalPortIds", MF_REFLIST, NULL, "EthernetPort", "bond_port_id" },
    { "bondPortId", MF_REF, "bond_port_id", "EthernetPort", NULL },
    { "vlanInterfaceIds", MF_REFLIST, NULL, "VlanInterface",
      "ethernet_port_id" },
    /* Extensions: its VLAN group and IP configuration. */
    { "vlanGroupId", MF_REF, "vlan_group_id", "VlanGroup", NULL },
    { "addressType", MF_STRING, "address_type", NULL, NULL },
    { "ipAddress", MF_STRING, "ip_address", NULL, NULL },
    { "netmask", MF_STRING, "netmask", NULL, NULL },
    { "gateway", MF_STRING, "gateway", NULL, NULL },
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
    { "virtualNicIds", MF_REFLIST, NULL, "VirtualNic", "network_id" },
    { "vlanInterfaceIds", MF_REFLIST, NULL, "VlanInterface", "network_id" },
    /* Extensions: the VLAN segment a VLAN or hybrid network uses, and
     * the bridge a VIRTUAL_MACHINE network has on each member server. */
    { "vlanSegmentId", MF_REF, "vlan_segment_id", "VlanSegment", NULL },
    { "bridgeName", MF_STRING, "bridge_name", NULL, NULL },
};

static const struct model_child network_children[] = {
    { "EthernetPort", "EthernetPort", "network_id" },
    { "VirtualNic", "VirtualNic", "network_id" },
};

static const struct model_type network_type = {
    .name = "Network",
    .code = "0010",
    .table = "networks",
    .fields = network_fields,
    .nfields = NELEMS(network_fields),
    .children = network_children,
    .nchildren = NELEMS(network_children),
};

/* VLAN groups (Oracle VM 3.2's model, kept by 3.4's manager): a group of
 * ports and bonds carrying VLAN segments; docs/NETWORKS.md. */
static const struct model_field vlan_group_fields[] = {
    { "ethernetPortIds", MF_REFLIST, NULL, "EthernetPort", "vlan_group_id" },
    { "vlanSegmentIds", MF_REFLIST, NULL, "VlanSegment", "vlan_group_id" },
    { "mtu", MF_INT, "mtu", NULL, NULL },
};

static const struct model_child vlan_group_children[] = {
    { "VlanSegment", "VlanSegment", "vlan_group_id" },
    { "EthernetPort", "EthernetPort", "vlan_group_id" },
};

static const struct model_type vlan_group_type = {
    .name = "VlanGroup",
    .code = "0036",
    .table = "vlan_groups",
    .fields = vlan_group_fields,
    .nfields = NELEMS(vlan_group_fields),
    .children = vlan_group_children,
    .nchildren = NELEMS(vlan_group_children),
};

static const struct model_field vlan_segment_fields[] = {
    { "vlanGroupId", MF_REF, "vlan_group_id", "VlanGroup", NULL },
    { "vlanId", MF_INT, "vlan_id", NULL, NULL },
    { "tagged", MF_BOOL, "tagged", NULL, NULL },
    { "networkIds", MF_REFLIST, NULL, "Network", "vlan_segment_id" },
    { "vlanInterfaceIds", MF_REFLIST, NULL, "VlanInterface",
      "vlan_segment_id" },
};

static const struct model_type vlan_segment_type = {
    .name = "VlanSegment",
    .code = "0037",
    .table = "vlan_segments",
    .fields = vlan_segment_fields,
    .nfields = NELEMS(vlan_segment_fields),
};

/* GET /VlanInterface: see list_vlan_interfaces.json (empty there). */
static const struct model_field vlan_interface_fields[] = {
    { "vlanId", MF_INT, "vlan_id", NULL, NULL },
    { "ethernetPortId", MF_REF, "ethernet_port_id", "EthernetPort", NULL },
    { "networkId", MF_REF, "network_id", "Network", NULL },
    { "interfaceName", MF_STRING, "interface_name", NULL, NULL },
    /* Extensions. */
    { "vlanSegmentId", MF_REF, "vlan_segment_id", "VlanSegment", NULL },
    { "addressType", MF_STRING, "address_type", NULL, NULL },
    { "ipAddress", MF_STRING, "ip_address", NULL, NULL },
    { "netmask", MF_STRING, "netmask", NULL, NULL },
    { "gateway", MF_STRING, "gateway", NULL, NULL },
};

static const struct model_type vlan_interface_type = {
    .name = "VlanInterface",
    .code = "0038",
    .table = "vlan_interfaces",
    .fields = vlan_interface_fields,
    .nfields = NELEMS(vlan_interface_fields),
};

/* GET /VirtualNic: see get_virtual_nic.json. */
static const struct model_field virtual_nic_fields[] = {
    { "macAddress", MF_STRING, "mac_address", NULL, NULL },
    { "interfaceName", MF_STRING, "interface_name", NULL, NULL },
    { "vmId", MF_REF, "vm_id", "Vm", NULL },
    { "networkId", MF_REF, "network_id", "Network", NULL },
    /* Extension: its position among the VM's VNICs. */
    { "slot", MF_INT, "slot", NULL, NULL },
};

static const struct model_type virtual_nic_type = {
    .name = "VirtualNic",
    .code = "0007",
    .table = "virtual_nics",
    .fields = virtual_nic_fields,
    .nfields = NELEMS(virtual_nic_fields),
};

/* The Manager's VNIC MAC address ranges (extension; Oracle VM's
 * getVnicMacAddrRange/setVnicMacAddrRange as objects). */
static const struct model_field mac_range_fields[] = {
    { "startMacAddress", MF_STRING, "start_address", NULL, NULL },
    { "endMacAddress", MF_STRING, "end_address", NULL, NULL },
};

static const struct model_type mac_range_type = {
    .name = "MacRange",
    .code = "00a1",
    .table = "mac_ranges",
    .fields = mac_range_fields,
    .nfields = NELEMS(mac_range_fields),
    .extension = true,
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

/* ---- storage (schema/db/0008_storage.sql, docs/STORAGE.md) ---- */

/* GET /FileServerPlugin: see get_file_server_plugin.json. Seeded facts. */
static const struct model_field fs_plugin_fields[] = {
    { "fileServerIds", MF_REFLIST, NULL, "FileServer", "plugin_id" },
    { "storageAbilityRecords", MF_JSON, "abilities", NULL, NULL },
    { "pluginName", MF_STRING, "plugin_name", NULL, NULL },
    { "pluginDescription", MF_STRING, "plugin_description", NULL, NULL },
    { "pluginVendor", MF_STRING, "plugin_vendor", NULL, NULL },
    { "pluginVersion", MF_STRING, "plugin_version", NULL, NULL },
    { "genericPlugin", MF_BOOL, "generic_plugin", NULL, NULL },
    { "clusterRequired", MF_BOOL, "cluster_required", NULL, NULL },
    { "backingDeviceType", MF_STRING, "backing_device_type", NULL, NULL },
    /* Extension: the file server type the plug-in serves. */
    { "fileServerType", MF_STRING, "file_server_type", NULL, NULL },
};

static const struct model_type fs_plugin_type = {
    .name = "FileServerPlugin",
    .code = "0050",
    .table = "file_server_plugins",
    .fields = fs_plugin_fields,
    .nfields = NELEMS(fs_plugin_fields),
};

/* GET /StorageArrayPlugin: see get_storage_array_plugin.json. */
static const struct model_field sa_plugin_fields[] = {
    { "storageTypes", MF_JSON, "storage_types", NULL, NULL },
    { "storageAbilityRecords", MF_JSON, "abilities", NULL, NULL },
    { "pluginName", MF_STRING, "plugin_name", NULL, NULL },
    { "pluginDescription", MF_STRING, "plugin_description", NULL, NULL },
    { "pluginVendor", MF_STRING, "plugin_vendor", NULL, NULL },
    { "pluginVersion", MF_STRING, "plugin_version", NULL, NULL },
    { "genericPlugin", MF_BOOL, "generic_plugin", NULL, NULL },
    { "clusterRequired", MF_BOOL, "cluster_required", NULL, NULL },
};

static const struct model_type sa_plugin_type = {
    .name = "StorageArrayPlugin",
    .code = "0051",
    .table = "storage_array_plugins",
    .fields = sa_plugin_fields,
    .nfields = NELEMS(sa_plugin_fields),
};

/* GET /FileServer: see get_file_server.json. */
static const struct model_field file_server_fields[] = {
    { "fileSystemIds", MF_REFLIST, NULL, "FileSystem", "file_server_id" },
    { "fileServerType", MF_STRING, "file_server_type", NULL, NULL },
    { "fileServerPluginId", MF_REF, "plugin_id", "FileServerPlugin", NULL },
    { "accessHost", MF_STRING, "access_host", NULL, NULL },
    { "storageDescription", MF_STRING, "storage_description", NULL, NULL },
    { "adminServerIds", MF_REFLIST, "file_server_admins:ref_id", "Server",
      "file_server_id" },
    { "serverId", MF_REF, "server_id", "Server", NULL },
    { "refreshServerIds", MF_REFLIST, "file_server_refreshers:ref_id",
      "Server", "file_server_id" },
    { "uniformExports", MF_BOOL, "uniform_exports", NULL, NULL },
    /* Extension. */
    { "lastRefreshed", MF_INT, "refreshed_ms", NULL, NULL },
};

static const struct model_child file_server_children[] = {
    { "FileSystem", "FileSystem", "file_server_id" },
};

static const struct model_type file_server_type = {
    .name = "FileServer",
    .code = "0009",
    .table = "file_servers",
    .fields = file_server_fields,
    .nfields = NELEMS(file_server_fields),
    .children = file_server_children,
    .nchildren = NELEMS(file_server_children),
};

/* GET /FileSystem: see get_file_system.json. */
static const struct model_field file_system_fields[] = {
    { "fileServerIds", MF_REFLIST, "file_systems:file_server_id",
      "FileServer", "id" },
    { "fileSystemMountIds", MF_REFLIST, NULL, "FileSystemMount",
      "file_system_id" },
    { "repositoryIds", MF_REFLIST, NULL, "Repository", "file_system_id" },
    { "path", MF_STRING, "path", NULL, NULL },
    { "size", MF_INT, "size", NULL, NULL },
    { "freeSize", MF_INT, "free_size", NULL, NULL },
    { "refreshed", MF_BOOL, "refreshed", NULL, NULL },
    { "shared", MF_BOOL, "shared", NULL, NULL },
    /* Extension: false once a refresh no longer finds it. */
    { "present", MF_BOOL, "present", NULL, NULL },
    { "fileServerId", MF_REF, "file_server_id", "FileServer", NULL },
    { "serverPoolIds", MF_REFLIST, NULL, "ServerPool",
      "pool_file_system_id" },
    /* An OCFS2 file system on a LUN: the LUN, and (extension) the
     * clustered pool whose servers share it; null for NFS and local. */
    { "storageElementId", MF_REF, "storage_element_id", "StorageElement",
      NULL },
    { "clusterServerPoolId", MF_REF, "server_pool_id", "ServerPool", NULL },
};

static const struct model_child file_system_children[] = {
    { "Repository", "Repository", "file_system_id" },
    { "FileSystemMount", "FileSystemMount", "file_system_id" },
};

static const struct model_type file_system_type = {
    .name = "FileSystem",
    .code = "0005",
    .table = "file_systems",
    .fields = file_system_fields,
    .nfields = NELEMS(file_system_fields),
    .children = file_system_children,
    .nchildren = NELEMS(file_system_children),
};

/* GET /FileSystemMount: see get_file_system_mount.json. */
static const struct model_field fs_mount_fields[] = {
    { "serverId", MF_REF, "server_id", "Server", NULL },
    { "fileSystemId", MF_REF, "file_system_id", "FileSystem", NULL },
    { "absolutePath", MF_STRING, "absolute_path", NULL, NULL },
    { "sharePath", MF_STRING, "share_path", NULL, NULL },
    { "options", MF_STRING, "options", NULL, NULL },
    /* Extension. */
    { "repositoryId", MF_REF, "repository_id", "Repository", NULL },
};

static const struct model_type fs_mount_type = {
    .name = "FileSystemMount",
    .code = "0006",
    .table = "file_system_mounts",
    .fields = fs_mount_fields,
    .nfields = NELEMS(fs_mount_fields),
};

/* GET /Repository: see get_repository.json. */
static const struct model_field repository_fields[] = {
    { "virtualDiskIds", MF_REFLIST, NULL, "VirtualDisk", "repository_id" },
    { "vmIds", MF_REFLIST, NULL, "Vm", "repository_id" },
    { "assemblyIds", MF_REFLIST, NULL, "Assembly", "repository_id" },
    { "presentedServerIds", MF_REFLIST, "file_system_mounts:server_id",
      "Server", "repository_id" },
    { "fileSystemId", MF_REF, "file_system_id", "FileSystem", NULL },
    { "managerUuid", MF_STRING, "manager_uuid", NULL, NULL },
    { "refreshed", MF_BOOL, "refreshed", NULL, NULL },
    { "sharePath", MF_STRING, "share_path", NULL, NULL },
    /* Extension. */
    { "lastRefreshed", MF_INT, "refreshed_ms", NULL, NULL },
};

static const struct model_child repository_children[] = {
    { "VirtualDisk", "VirtualDisk", "repository_id" },
    { "Vm", "Vm", "repository_id" },
    { "Assembly", "Assembly", "repository_id" },
    { "FileSystemMount", "FileSystemMount", "repository_id" },
};

static const struct model_type repository_type = {
    .name = "Repository",
    .code = "0003",
    .table = "repositories",
    .fields = repository_fields,
    .nfields = NELEMS(repository_fields),
    .children = repository_children,
    .nchildren = NELEMS(repository_children),
};

/* GET /VirtualDisk: see get_virtual_disk.json. */
static const struct model_field virtual_disk_fields[] = {
    { "diskType", MF_STRING, "disk_type", NULL, NULL },
    { "size", MF_INT, "size", NULL, NULL },
    { "onDiskSize", MF_INT, "on_disk_size", NULL, NULL },
    { "path", MF_STRING, "path", NULL, NULL },
    { "shareable", MF_BOOL, "shareable", NULL, NULL },
    { "importFileName", MF_STRING, "import_file_name", NULL, NULL },
    { "vmDiskMappingIds", MF_REFLIST, NULL, "VmDiskMapping",
      "virtual_disk_id" },
    { "repositoryId", MF_REF, "repository_id", "Repository", NULL },
    { "assemblyVirtualDiskId", MF_REF, "assembly_virtual_disk_id",
      "AssemblyVirtualDisk", NULL },
    /* Extensions. */
    { "sparse", MF_BOOL, "sparse", NULL, NULL },
    { "format", MF_STRING, "format", NULL, NULL },
    { "backingVirtualDiskId", MF_REF, "backing_id", "VirtualDisk", NULL },
    { "importUrl", MF_STRING, "import_url", NULL, NULL },
};

static const struct model_type virtual_disk_type = {
    .name = "VirtualDisk",
    .code = "0012",
    .table = "virtual_disks",
    .fields = virtual_disk_fields,
    .nfields = NELEMS(virtual_disk_fields),
};

/* GET /Vm: see get_vm.json. Issue 5 makes templates only. */
static const struct model_field vm_fields[] = {
    { "vmRunState", MF_STRING, "run_state", NULL, NULL },
    { "cpuPriority", MF_INT, "cpu_priority", NULL, NULL },
    { "memory", MF_INT, "memory", NULL, NULL },
    { "memoryLimit", MF_INT, "memory_limit", NULL, NULL },
    { "hugePagesEnabled", MF_BOOL, "huge_pages", NULL, NULL },
    { "cpuCount", MF_INT, "cpu_count", NULL, NULL },
    { "cpuCountLimit", MF_INT, "cpu_count_limit", NULL, NULL },
    { "cpuUtilizationCap", MF_INT, "cpu_cap", NULL, NULL },
    { "highAvailability", MF_BOOL, "high_availability", NULL, NULL },
    { "bootOrder", MF_JSON, "boot_order", NULL, NULL },
    { "vmMouseType", MF_STRING, "mouse_type", NULL, NULL },
    { "osType", MF_STRING, "os_type", NULL, NULL },
    { "vmDomainType", MF_STRING, "domain_type", NULL, NULL },
    { "diskLimit", MF_INT, "disk_limit", NULL, NULL },
    { "vmDiskMappingIds", MF_REFLIST, NULL, "VmDiskMapping", "vm_id" },
    { "virtualNicIds", MF_REFLIST, NULL, "VirtualNic", "vm_id" },
    { "repositoryId", MF_REF, "repository_id", "Repository", NULL },
    { "serverPoolId", MF_REF, "server_pool_id", "ServerPool", NULL },
    { "networkInstallPath", MF_STRING, "network_install_path", NULL, NULL },
    { "origin", MF_STRING, "origin", NULL, NULL },
    { "keymapName", MF_STRING, "keymap", NULL, NULL },
    { "serverId", MF_REF, "server_id", "Server", NULL },
    { "vmStartPolicy", MF_STRING, "vm_start_policy", NULL, NULL },
    { "restartActionOnCrash", MF_STRING, "restart_on_crash", NULL, NULL },
    { "restartActionOnPowerOff", MF_STRING, "restart_on_power_off", NULL,
      NULL },
    { "restartActionOnRestart", MF_STRING, "restart_on_restart", NULL,
      NULL },
    /* Extension: the vm.cfg it was made from, as JSON. */
    { "vmConfig", MF_JSON, "config", NULL, NULL },
};

static const struct model_child vm_children[] = {
    { "VmDiskMapping", "VmDiskMapping", "vm_id" },
    { "VirtualNic", "VirtualNic", "vm_id" },
};

static const struct model_type vm_type = {
    .name = "Vm",
    .code = "0004",
    .table = "vms",
    .fields = vm_fields,
    .nfields = NELEMS(vm_fields),
    .children = vm_children,
    .nchildren = NELEMS(vm_children),
    .strict_name = true,
};

/* GET /VmDiskMapping: see get_vm_disk_mapping.json. */
static const struct model_field vm_disk_mapping_fields[] = {
    { "vmId", MF_REF, "vm_id", "Vm", NULL },
    { "virtualDiskId", MF_REF, "virtual_disk_id", "VirtualDisk", NULL },
    { "storageElementId", MF_STRING, "storage_element_id", NULL, NULL },
    { "diskTarget", MF_INT, "disk_target", NULL, NULL },
    { "emulatedBlockDevice", MF_BOOL, "emulated_block_device", NULL, NULL },
    { "diskWriteMode", MF_STRING, "disk_write_mode", NULL, NULL },
};

static const struct model_type vm_disk_mapping_type = {
    .name = "VmDiskMapping",
    .code = "0013",
    .table = "vm_disk_mappings",
    .fields = vm_disk_mapping_fields,
    .nfields = NELEMS(vm_disk_mapping_fields),
};

/* GET /Assembly (list_assemblies.json is empty: fields as Oracle VM's
 * model names them). */
static const struct model_field assembly_fields[] = {
    { "repositoryId", MF_REF, "repository_id", "Repository", NULL },
    { "assemblyVmIds", MF_REFLIST, NULL, "AssemblyVm", "assembly_id" },
    { "assemblyVirtualDiskIds", MF_REFLIST, NULL, "AssemblyVirtualDisk",
      "assembly_id" },
    { "origin", MF_STRING, "origin", NULL, NULL },
    /* Extension. */
    { "fileName", MF_STRING, "file_name", NULL, NULL },
};

static const struct model_child assembly_children[] = {
    { "AssemblyVm", "AssemblyVm", "assembly_id" },
    { "AssemblyVirtualDisk", "AssemblyVirtualDisk", "assembly_id" },
};

static const struct model_type assembly_type = {
    .name = "Assembly",
    .code = "0014",
    .table = "assemblies",
    .fields = assembly_fields,
    .nfields = NELEMS(assembly_fields),
    .children = assembly_children,
    .nchildren = NELEMS(assembly_children),
};

static const struct model_field assembly_vm_fields[] = {
    { "assemblyId", MF_REF, "assembly_id", "Assembly", NULL },
    { "assemblyVirtualDiskIds", MF_REFLIST, NULL, "AssemblyVirtualDisk",
      "assembly_vm_id" },
    { "cpuCount", MF_INT, "cpu_count", NULL, NULL },
    { "memory", MF_INT, "memory", NULL, NULL },
    { "osType", MF_STRING, "os_type", NULL, NULL },
    { "networkNames", MF_JSON, "nics", NULL, NULL },
};

static const struct model_type assembly_vm_type = {
    .name = "AssemblyVm",
    .code = "0017",
    .table = "assembly_vms",
    .fields = assembly_vm_fields,
    .nfields = NELEMS(assembly_vm_fields),
};

static const struct model_field assembly_disk_fields[] = {
    { "assemblyId", MF_REF, "assembly_id", "Assembly", NULL },
    { "assemblyVmId", MF_REF, "assembly_vm_id", "AssemblyVm", NULL },
    { "size", MF_INT, "size", NULL, NULL },
    { "fileName", MF_STRING, "file_name", NULL, NULL },
    { "diskIndex", MF_INT, "disk_index", NULL, NULL },
};

static const struct model_type assembly_disk_type = {
    .name = "AssemblyVirtualDisk",
    .code = "0019",
    .table = "assembly_virtual_disks",
    .fields = assembly_disk_fields,
    .nfields = NELEMS(assembly_disk_fields),
};

/* ---- storage arrays (schema/db/0009_storage_arrays.sql) ---- */

/* GET /StorageArray: see get_storage_array.json. */
static const struct model_field storage_array_fields[] = {
    { "accessGroupIds", MF_REFLIST, NULL, "AccessGroup", "storage_array_id" },
    { "storageArrayPluginId", MF_REF, "plugin_id", "StorageArrayPlugin",
      NULL },
    { "adminServerIds", MF_REFLIST, "storage_array_admins:ref_id", "Server",
      "storage_array_id" },
    { "volumeGroupIds", MF_REFLIST, NULL, "VolumeGroup", "storage_array_id" },
    { "totalSize", MF_INT, "total_size", NULL, NULL },
    { "storageDescription", MF_STRING, "storage_description", NULL, NULL },
    { "validated", MF_BOOL, "validated", NULL, NULL },
    { "defaultArray", MF_BOOL, "default_array", NULL, NULL },
    { "storageType", MF_STRING, "storage_type", NULL, NULL },
    { "accessHosts", MF_JSON, "access_hosts", NULL, NULL },
    { "useChap", MF_BOOL, "use_chap", NULL, NULL },
    /* Extensions. */
    { "storageElementIds", MF_REFLIST, NULL, "StorageElement",
      "storage_array_id" },
    { "lastRefreshed", MF_INT, "refreshed_ms", NULL, NULL },
};

static const struct model_child storage_array_children[] = {
    { "VolumeGroup", "VolumeGroup", "storage_array_id" },
    { "StorageElement", "StorageElement", "storage_array_id" },
    { "AccessGroup", "AccessGroup", "storage_array_id" },
};

static const struct model_type storage_array_type = {
    .name = "StorageArray",
    .code = "0033",
    .table = "storage_arrays",
    .fields = storage_array_fields,
    .nfields = NELEMS(storage_array_fields),
    .children = storage_array_children,
    .nchildren = NELEMS(storage_array_children),
};

/* GET /VolumeGroup: see get_volume_group.json. */
static const struct model_field volume_group_fields[] = {
    { "storageArrayId", MF_REF, "storage_array_id", "StorageArray", NULL },
    { "storageElementIds", MF_REFLIST, NULL, "StorageElement",
      "volume_group_id" },
    { "totalSize", MF_INT, "total_size", NULL, NULL },
    { "nameOnArray", MF_STRING, "name_on_array", NULL, NULL },
};

static const struct model_child volume_group_children[] = {
    { "StorageElement", "StorageElement", "volume_group_id" },
};

static const struct model_type volume_group_type = {
    .name = "VolumeGroup",
    .code = "0032",
    .table = "volume_groups",
    .fields = volume_group_fields,
    .nfields = NELEMS(volume_group_fields),
    .children = volume_group_children,
    .nchildren = NELEMS(volume_group_children),
};

/* GET /StorageElement: see get_storage_element.json. */
static const struct model_field storage_element_fields[] = {
    { "accessGroupIds", MF_REFLIST, "access_group_elements:access_group_id",
      "AccessGroup", "ref_id" },
    { "fileSystemIds", MF_REFLIST, NULL, "FileSystem",
      "storage_element_id" },
    { "vmDiskMappingIds", MF_REFLIST, NULL, "VmDiskMapping",
      "storage_element_id" },
    { "volumeGroupId", MF_REF, "volume_group_id", "VolumeGroup", NULL },
    { "page83Id", MF_STRING, "page83_id", NULL, NULL },
    { "shareable", MF_BOOL, "shareable", NULL, NULL },
    { "size", MF_INT, "size", NULL, NULL },
    { "type", MF_STRING, "element_type", NULL, NULL },
    { "vendor", MF_STRING, "vendor", NULL, NULL },
    /* Extensions. */
    { "storageArrayId", MF_REF, "storage_array_id", "StorageArray", NULL },
    { "lun", MF_INT, "lun", NULL, NULL },
    { "storageTargetName", MF_STRING, "target", NULL, NULL },
    { "present", MF_BOOL, "present", NULL, NULL },
};

static const struct model_type storage_element_type = {
    .name = "StorageElement",
    .code = "0018",
    .table = "storage_elements",
    .fields = storage_element_fields,
    .nfields = NELEMS(storage_element_fields),
};

/* GET /AccessGroup (list_access_groups.json is empty: fields as Oracle
 * VM's model names them). */
static const struct model_field access_group_fields[] = {
    { "storageArrayId", MF_REF, "storage_array_id", "StorageArray", NULL },
    { "storageElementIds", MF_REFLIST, "access_group_elements:ref_id",
      "StorageElement", "access_group_id" },
    { "storageInitiatorIds", MF_REFLIST, "access_group_initiators:ref_id",
      "StorageInitiator", "access_group_id" },
};

static const struct model_type access_group_type = {
    .name = "AccessGroup",
    .code = "0034",
    .table = "access_groups",
    .fields = access_group_fields,
    .nfields = NELEMS(access_group_fields),
};

/* GET /StorageInitiator: see list_storage_initiators.json. The id is
 * the initiator's IQN. */
static const struct model_field storage_initiator_fields[] = {
    { "accessGroupIds", MF_REFLIST,
      "access_group_initiators:access_group_id", "AccessGroup", "ref_id" },
    { "serverId", MF_REF, "server_id", "Server", NULL },
    { "initiatorType", MF_STRING, "initiator_type", NULL, NULL },
};

static const struct model_type storage_initiator_type = {
    .name = "StorageInitiator",
    .code = "0035",
    .table = "storage_initiators",
    .fields = storage_initiator_fields,
    .nfields = NELEMS(storage_initiator_fields),
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
    &fs_plugin_type,
    &sa_plugin_type,
    &file_server_type,
    &file_system_type,
    &fs_mount_type,
    &repository_type,
    &virtual_disk_type,
    &vm_type,
    &vm_disk_mapping_type,
    &assembly_type,
    &assembly_vm_type,
    &assembly_disk_type,
    &storage_array_type,
    &volume_group_type,
    &storage_element_type,
    &access_group_type,
    &storage_initiator_type,
    &vlan_group_type,
    &vlan_segment_type,
    &vlan_interface_type,
    &virtual_nic_type,
    &mac_range_type,
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
