-- 0003_servers.sql - servers, server pools, their Ethernet ports, networks
-- and CPU compatibility groups (issue 4; see src/model/types.c for how each
-- column becomes a member of the Oracle VM object).
--
-- Every object keeps its common part in `objects`; the tables below hold
-- the type's own columns, keyed by the same id. Lists of strings (roles,
-- NTP servers) and structured facts (the hypervisor) are JSON text, as
-- they are rendered. Secrets (agent and IPMI passwords) are stored sealed
-- (util/secret.h), never in clear.

CREATE TABLE cpu_compat_groups (
    id          TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    vendor      TEXT NOT NULL,
    family      INTEGER,
    model       INTEGER,
    is_default  INTEGER NOT NULL DEFAULT 1   -- computed by ovmm, not made by a user
);

CREATE TABLE server_pools (
    id                 TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    virtual_ip         TEXT,
    clustered          INTEGER NOT NULL DEFAULT 0,
    keymap             TEXT NOT NULL DEFAULT 'en-us',
    secure_vm_migrate  INTEGER NOT NULL DEFAULT 0,
    vm_start_policy    TEXT NOT NULL DEFAULT 'BEST_SERVER',
    master_server_id   TEXT,                  -- a server of the pool, or NULL
    pool_file_system_id TEXT,
    agent_password     TEXT                   -- sealed; clustered pools check it
);

CREATE TABLE servers (
    id                     TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    run_state              TEXT NOT NULL DEFAULT 'RUNNING'
        CHECK (run_state IN ('RUNNING', 'STOPPED', 'STARTING', 'STOPPING',
                             'UNKNOWN')),
    ip_address             TEXT NOT NULL,     -- the name or address discovered
    roles                  TEXT NOT NULL DEFAULT '["VM","UTILITY"]',
    maintenance_mode       INTEGER NOT NULL DEFAULT 0,
    agent_login            TEXT NOT NULL DEFAULT 'oracle',
    agent_password         TEXT,              -- sealed
    libvirt_uri            TEXT NOT NULL,
    statistic_interval     INTEGER NOT NULL DEFAULT 20,
    ntp_servers            TEXT NOT NULL DEFAULT '[]',
    bios_vendor            TEXT,
    bios_version           TEXT,
    bios_release_date      TEXT,
    processor_type         TEXT,
    processor_speed        INTEGER,           -- kHz, as Oracle VM reports it
    sockets                INTEGER,
    threads_per_core       INTEGER,
    cores_per_socket       INTEGER,
    total_cores            INTEGER,
    enabled_cores          INTEGER,
    memory_mib             INTEGER,
    usable_memory_mib      INTEGER,
    hostname               TEXT,
    manager_uuid           TEXT,              -- owner; NULL: unowned
    manufacturer           TEXT,
    product_name           TEXT,
    serial_number          TEXT,
    cpu_vendor             TEXT,
    cpu_family             INTEGER,
    cpu_model              INTEGER,
    cpu_model_name         TEXT,
    hypervisor             TEXT NOT NULL DEFAULT '{}',
    cpu_compat_group_id    TEXT REFERENCES cpu_compat_groups(id) ON DELETE SET NULL,
    server_pool_id         TEXT REFERENCES server_pools(id),
    inbound_migration_locked INTEGER NOT NULL DEFAULT 0,
    ipmi_address           TEXT,
    ipmi_user              TEXT,
    ipmi_password          TEXT,              -- sealed
    last_seen_ms           INTEGER,
    discovered_ms          INTEGER NOT NULL
);

CREATE INDEX servers_pool ON servers (server_pool_id);
CREATE INDEX servers_group ON servers (cpu_compat_group_id);
CREATE UNIQUE INDEX servers_address ON servers (ip_address);

CREATE TABLE networks (
    id            TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    roles         TEXT NOT NULL DEFAULT '[]',
    server_local  INTEGER NOT NULL DEFAULT 0,
    mtu           INTEGER NOT NULL DEFAULT 1500,
    server_id     TEXT REFERENCES servers(id) ON DELETE CASCADE  -- intra-server only
);

CREATE TABLE ethernet_ports (
    id              TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    server_id       TEXT NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    interface_name  TEXT NOT NULL,
    mac_address     TEXT,
    mtu             INTEGER NOT NULL DEFAULT 1500,
    port_type       TEXT NOT NULL DEFAULT 'PHYSICAL',
    port_state      TEXT NOT NULL DEFAULT 'PORT_UP',
    network_id      TEXT REFERENCES networks(id) ON DELETE SET NULL,
    UNIQUE (server_id, interface_name)
);

CREATE INDEX ethernet_ports_network ON ethernet_ports (network_id);
