-- 0008_storage.sql - storage and repositories (issue 5; DESIGN.md section
-- 2, docs/STORAGE.md): Storage Connect plug-ins (read-only facts), file
-- servers and their file systems, repositories and where they are
-- mounted, virtual disks and ISOs, templates (Vm rows in state TEMPLATE)
-- with their disk mappings, and assemblies.
--
-- Many-to-many relations (a file server's admin and refresh servers) are
-- link tables with the columns (<owner>_id, ref_id), which the model
-- renders as SimpleId lists (model.h: MF_REFLIST with a link table).

-- Storage Connect plug-ins: seeded below, never changed (readOnly).
CREATE TABLE file_server_plugins (
    id                  TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    plugin_name         TEXT NOT NULL,
    plugin_description  TEXT NOT NULL,
    plugin_vendor       TEXT NOT NULL,
    plugin_version      TEXT NOT NULL,
    generic_plugin      INTEGER NOT NULL,
    cluster_required    INTEGER NOT NULL,
    backing_device_type TEXT,
    abilities           TEXT NOT NULL,           -- storageAbilityRecords JSON
    file_server_type    TEXT NOT NULL CHECK (file_server_type IN ('NETWORK', 'LOCAL'))
);

CREATE TABLE storage_array_plugins (
    id                  TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    plugin_name         TEXT NOT NULL,
    plugin_description  TEXT NOT NULL,
    plugin_vendor       TEXT NOT NULL,
    plugin_version      TEXT NOT NULL,
    generic_plugin      INTEGER NOT NULL,
    cluster_required    INTEGER NOT NULL,
    storage_types       TEXT NOT NULL,           -- JSON array
    abilities           TEXT NOT NULL
);

-- A file server: NETWORK (an NFS server by its access host) or LOCAL (the
-- local file server of one discovered server, made by discovery).
CREATE TABLE file_servers (
    id                  TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    file_server_type    TEXT NOT NULL CHECK (file_server_type IN ('NETWORK', 'LOCAL')),
    plugin_id           TEXT NOT NULL REFERENCES file_server_plugins(id),
    access_host         TEXT NOT NULL DEFAULT '',
    server_id           TEXT REFERENCES servers(id) ON DELETE CASCADE,
    uniform_exports     INTEGER NOT NULL DEFAULT 1,
    storage_description TEXT,
    refreshed_ms        INTEGER                  -- last refresh, NULL: never
);
CREATE UNIQUE INDEX file_servers_access_host ON file_servers (access_host)
    WHERE file_server_type = 'NETWORK';
CREATE UNIQUE INDEX file_servers_local ON file_servers (server_id)
    WHERE server_id IS NOT NULL;

CREATE TABLE file_server_admins (
    file_server_id TEXT NOT NULL REFERENCES file_servers(id) ON DELETE CASCADE,
    ref_id         TEXT NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    PRIMARY KEY (file_server_id, ref_id)
);
CREATE INDEX file_server_admins_ref ON file_server_admins (ref_id);
CREATE TABLE file_server_refreshers (
    file_server_id TEXT NOT NULL REFERENCES file_servers(id) ON DELETE CASCADE,
    ref_id         TEXT NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    PRIMARY KEY (file_server_id, ref_id)
);
CREATE INDEX file_server_refreshers_ref ON file_server_refreshers (ref_id);

-- A file system: an NFS export of a file server, or a local directory of
-- a server (its local storage). `path` is the export or the directory;
-- `present` is 0 once a refresh no longer finds it (kept while used).
CREATE TABLE file_systems (
    id             TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    file_server_id TEXT NOT NULL REFERENCES file_servers(id) ON DELETE CASCADE,
    path           TEXT NOT NULL,
    size           INTEGER NOT NULL DEFAULT 0,
    free_size      INTEGER NOT NULL DEFAULT 0,
    refreshed      INTEGER NOT NULL DEFAULT 0,
    shared         INTEGER NOT NULL DEFAULT 0,
    present        INTEGER NOT NULL DEFAULT 1,
    UNIQUE (file_server_id, path)
);

-- A repository on a file system (and an optional subdirectory of it).
-- manager_uuid: the owning Manager, NULL when released.
CREATE TABLE repositories (
    id             TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    file_system_id TEXT NOT NULL REFERENCES file_systems(id),
    share_path     TEXT NOT NULL DEFAULT '',
    manager_uuid   TEXT,
    refreshed      INTEGER NOT NULL DEFAULT 0,
    refreshed_ms   INTEGER,
    UNIQUE (file_system_id, share_path)
);

-- A repository mounted on a server ("presented"). id:
-- "<server id>_mount_<absolute path>" as in Oracle VM.
CREATE TABLE file_system_mounts (
    id             TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    server_id      TEXT NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    file_system_id TEXT NOT NULL REFERENCES file_systems(id) ON DELETE CASCADE,
    repository_id  TEXT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    absolute_path  TEXT NOT NULL,
    share_path     TEXT NOT NULL DEFAULT '',
    options        TEXT,
    UNIQUE (server_id, repository_id)
);
CREATE INDEX file_system_mounts_repo ON file_system_mounts (repository_id);

-- Virtual disks and ISOs: files of a repository. id "<32 hex>.img" /
-- ".iso", the file name in VirtualDisks/ or ISOs/.
CREATE TABLE virtual_disks (
    id             TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    repository_id  TEXT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    disk_type      TEXT NOT NULL CHECK (disk_type IN ('VIRTUAL_DISK', 'VIRTUAL_CDROM')),
    size           INTEGER NOT NULL DEFAULT 0,   -- virtual size, bytes
    on_disk_size   INTEGER NOT NULL DEFAULT 0,   -- allocated, bytes
    path           TEXT NOT NULL,                -- "/VirtualDisks/<id>"
    shareable      INTEGER NOT NULL DEFAULT 0,
    sparse         INTEGER NOT NULL DEFAULT 1,
    format         TEXT NOT NULL DEFAULT 'raw',  -- raw, qcow2, iso
    backing_id     TEXT REFERENCES virtual_disks(id), -- thin clone's base
    import_file_name TEXT,
    import_url     TEXT,
    assembly_virtual_disk_id TEXT
);
CREATE INDEX virtual_disks_repo ON virtual_disks (repository_id);
CREATE INDEX virtual_disks_backing ON virtual_disks (backing_id);

-- Virtual machines. Issue 5 makes only templates (run_state TEMPLATE)
-- from imported packages and assemblies; issue 7 adds the rest.
CREATE TABLE vms (
    id                   TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    run_state            TEXT NOT NULL DEFAULT 'STOPPED'
        CHECK (run_state IN ('STARTING', 'RUNNING', 'STOPPING', 'STOPPED',
                             'SUSPENDED', 'TEMPLATE', 'ERROR')),
    domain_type          TEXT NOT NULL DEFAULT 'XEN_HVM',
    cpu_count            INTEGER NOT NULL DEFAULT 1,
    cpu_count_limit      INTEGER NOT NULL DEFAULT 1,
    cpu_priority         INTEGER NOT NULL DEFAULT 50,
    cpu_cap              INTEGER NOT NULL DEFAULT 100,
    memory               INTEGER NOT NULL DEFAULT 512,   -- MiB
    memory_limit         INTEGER NOT NULL DEFAULT 512,
    huge_pages           INTEGER NOT NULL DEFAULT 0,
    high_availability    INTEGER NOT NULL DEFAULT 0,
    os_type              TEXT NOT NULL DEFAULT 'Other Linux',
    boot_order           TEXT NOT NULL DEFAULT '["DISK"]',
    mouse_type           TEXT NOT NULL DEFAULT 'OS_DEFAULT',
    keymap               TEXT NOT NULL DEFAULT 'en-us',
    network_install_path TEXT NOT NULL DEFAULT '',
    origin               TEXT NOT NULL DEFAULT '',
    disk_limit           INTEGER NOT NULL DEFAULT 4,
    vm_start_policy      TEXT NOT NULL DEFAULT 'BEST_SERVER',
    restart_on_crash     TEXT NOT NULL DEFAULT 'RESTART',
    restart_on_power_off TEXT NOT NULL DEFAULT 'STOP',
    restart_on_restart   TEXT NOT NULL DEFAULT 'RESTART',
    repository_id        TEXT REFERENCES repositories(id),
    server_pool_id       TEXT REFERENCES server_pools(id),
    server_id            TEXT REFERENCES servers(id),
    config_file          TEXT,         -- file name in Templates/ or VirtualMachines/
    config               TEXT          -- the vm.cfg as JSON (vmcfg_parse)
);
CREATE INDEX vms_repo ON vms (repository_id);
CREATE INDEX vms_server ON vms (server_id);
CREATE INDEX vms_pool ON vms (server_pool_id);

CREATE TABLE vm_disk_mappings (
    id                TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    vm_id             TEXT NOT NULL REFERENCES vms(id) ON DELETE CASCADE,
    virtual_disk_id   TEXT REFERENCES virtual_disks(id),
    storage_element_id TEXT,
    disk_target       INTEGER NOT NULL,
    emulated_block_device INTEGER NOT NULL DEFAULT 0,
    disk_write_mode   TEXT NOT NULL DEFAULT 'READ_WRITE'
        CHECK (disk_write_mode IN ('READ_WRITE', 'READ_ONLY')),
    UNIQUE (vm_id, disk_target)
);
CREATE INDEX vm_disk_mappings_disk ON vm_disk_mappings (virtual_disk_id);

-- Assemblies (.ova / .ovf imports) and what they contain.
CREATE TABLE assemblies (
    id             TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    repository_id  TEXT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    origin         TEXT NOT NULL DEFAULT '',   -- the import URL
    file_name      TEXT,                       -- the package in Assemblies/
    ovf            TEXT                        -- the descriptor, as JSON
);
CREATE INDEX assemblies_repo ON assemblies (repository_id);

CREATE TABLE assembly_vms (
    id            TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    assembly_id   TEXT NOT NULL REFERENCES assemblies(id) ON DELETE CASCADE,
    cpu_count     INTEGER NOT NULL DEFAULT 1,
    memory        INTEGER NOT NULL DEFAULT 0,  -- MiB
    os_type       TEXT NOT NULL DEFAULT '',
    nics          TEXT NOT NULL DEFAULT '[]'   -- network names, JSON
);
CREATE INDEX assembly_vms_assembly ON assembly_vms (assembly_id);

CREATE TABLE assembly_virtual_disks (
    id             TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    assembly_id    TEXT NOT NULL REFERENCES assemblies(id) ON DELETE CASCADE,
    assembly_vm_id TEXT REFERENCES assembly_vms(id) ON DELETE SET NULL,
    size           INTEGER NOT NULL DEFAULT 0,
    file_name      TEXT,                       -- the disk image in Assemblies/
    disk_index     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX assembly_virtual_disks_assembly ON assembly_virtual_disks (assembly_id);

-- The plug-ins Oracle VM ships, as facts (ids and names as Oracle VM
-- shows them, so scripts that look them up by name find them).
INSERT INTO objects (id, type, name, description, read_only, created_ms, modified_ms)
VALUES
 ('oracle.generic.NFSPlugin.GenericNFSPlugin (1.1.0)', 'FileServerPlugin',
  'Oracle Generic Network File System',
  'Oracle Storage Connect Plugin for Generic NFS', 1, 0, 0),
 ('oracle.ocfs2.OCFS2.OCFS2Plugin (0.1.0-42.1)', 'FileServerPlugin',
  'Oracle OCFS2 File system',
  'Oracle OCFS2 File system Storage Connect Plugin', 1, 0, 0),
 ('oracle.generic.SCSIPlugin.GenericPlugin (1.1.0)', 'StorageArrayPlugin',
  'Oracle Generic SCSI Plugin',
  'Oracle Storage Connect Plugin for Generic FC and iSCSI', 1, 0, 0);

INSERT INTO file_server_plugins VALUES
 ('oracle.generic.NFSPlugin.GenericNFSPlugin (1.1.0)',
  'Oracle Generic Network File System',
  'Oracle Storage Connect Plugin for Generic NFS', 'Oracle', '1.1.0', 1, 0,
  NULL,
  '[{"ability":"CLONE","value":"UNSUPPORTED"},{"ability":"SNAPSHOT","value":"UNSUPPORTED"},{"ability":"RESIZE","value":"UNSUPPORTED"},{"ability":"ACCESS_CONTROL","value":"NO"}]',
  'NETWORK'),
 ('oracle.ocfs2.OCFS2.OCFS2Plugin (0.1.0-42.1)', 'Oracle OCFS2 File system',
  'Oracle OCFS2 File system Storage Connect Plugin', 'Oracle', '0.1.0-42.1',
  0, 1, 'LOCALDEVICE_SINGLE',
  '[{"ability":"CLONE","value":"FULLY_SUPPORTED"},{"ability":"SNAPSHOT","value":"FULLY_SUPPORTED"},{"ability":"RESIZE","value":"FULLY_SUPPORTED"},{"ability":"ACCESS_CONTROL","value":"NO"}]',
  'LOCAL');

INSERT INTO storage_array_plugins VALUES
 ('oracle.generic.SCSIPlugin.GenericPlugin (1.1.0)',
  'Oracle Generic SCSI Plugin',
  'Oracle Storage Connect Plugin for Generic FC and iSCSI', 'Oracle', '1.1.0',
  1, 0, '["FIBRECHANNEL","ISCSI"]',
  '[{"ability":"CLONE","value":"UNSUPPORTED"},{"ability":"SNAPSHOT","value":"UNSUPPORTED"},{"ability":"RESIZE","value":"UNSUPPORTED"},{"ability":"ACCESS_CONTROL","value":"NO"}]');

-- An object's rows go together: when a type row goes (directly, or by a
-- cascade from what it belongs to -- a server's local file server, a
-- repository's disks), its objects row goes too, so no objects row is
-- ever left without its type row.
CREATE TRIGGER file_servers_gone AFTER DELETE ON file_servers
BEGIN DELETE FROM objects WHERE id = OLD.id; END;
CREATE TRIGGER file_systems_gone AFTER DELETE ON file_systems
BEGIN DELETE FROM objects WHERE id = OLD.id; END;
CREATE TRIGGER file_system_mounts_gone AFTER DELETE ON file_system_mounts
BEGIN DELETE FROM objects WHERE id = OLD.id; END;
CREATE TRIGGER repositories_gone AFTER DELETE ON repositories
BEGIN DELETE FROM objects WHERE id = OLD.id; END;
CREATE TRIGGER virtual_disks_gone AFTER DELETE ON virtual_disks
BEGIN DELETE FROM objects WHERE id = OLD.id; END;
CREATE TRIGGER vms_gone AFTER DELETE ON vms
BEGIN DELETE FROM objects WHERE id = OLD.id; END;
CREATE TRIGGER vm_disk_mappings_gone AFTER DELETE ON vm_disk_mappings
BEGIN DELETE FROM objects WHERE id = OLD.id; END;
CREATE TRIGGER assemblies_gone AFTER DELETE ON assemblies
BEGIN DELETE FROM objects WHERE id = OLD.id; END;
CREATE TRIGGER assembly_vms_gone AFTER DELETE ON assembly_vms
BEGIN DELETE FROM objects WHERE id = OLD.id; END;
CREATE TRIGGER assembly_virtual_disks_gone AFTER DELETE ON assembly_virtual_disks
BEGIN DELETE FROM objects WHERE id = OLD.id; END;
