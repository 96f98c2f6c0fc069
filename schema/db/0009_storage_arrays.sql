-- 0009_storage_arrays.sql - storage arrays (issue 5; docs/STORAGE.md,
-- "Storage arrays"): SAN servers (iSCSI targets reached through an admin
-- server), their volume groups and storage elements (LUNs), access
-- groups, and the storage initiators of the servers (one iSCSI initiator
-- per discovered server).
--
-- Link tables (access group elements and initiators, array admin
-- servers) have the columns (<owner>_id, ref_id) as in 0008.

CREATE TABLE storage_arrays (
    id                  TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    plugin_id           TEXT NOT NULL REFERENCES storage_array_plugins(id),
    storage_type        TEXT NOT NULL CHECK (storage_type IN ('ISCSI', 'FIBRECHANNEL')),
    access_hosts        TEXT NOT NULL DEFAULT '[]',  -- JSON [{accessHost, accessPort}]
    default_array       INTEGER NOT NULL DEFAULT 0,
    validated           INTEGER NOT NULL DEFAULT 1,
    use_chap            INTEGER NOT NULL DEFAULT 0,
    total_size          INTEGER NOT NULL DEFAULT -1,
    storage_description TEXT,
    refreshed_ms        INTEGER                      -- last refresh, NULL: never
);

CREATE TABLE storage_array_admins (
    storage_array_id TEXT NOT NULL REFERENCES storage_arrays(id) ON DELETE CASCADE,
    ref_id           TEXT NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    PRIMARY KEY (storage_array_id, ref_id)
);
CREATE INDEX storage_array_admins_ref ON storage_array_admins (ref_id);

-- A volume group of an array (a generic array has one).
CREATE TABLE volume_groups (
    id               TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    storage_array_id TEXT NOT NULL REFERENCES storage_arrays(id) ON DELETE CASCADE,
    name_on_array    TEXT NOT NULL DEFAULT '',
    total_size       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX volume_groups_array ON volume_groups (storage_array_id);

-- A storage element: a LUN of an iSCSI target. page83_id is unique per
-- array; present is 0 once a refresh no longer finds it (kept while used).
CREATE TABLE storage_elements (
    id               TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    volume_group_id  TEXT NOT NULL REFERENCES volume_groups(id) ON DELETE CASCADE,
    storage_array_id TEXT NOT NULL REFERENCES storage_arrays(id) ON DELETE CASCADE,
    page83_id        TEXT NOT NULL,
    element_type     TEXT NOT NULL DEFAULT 'LUN',
    size             INTEGER NOT NULL DEFAULT 0,
    vendor           TEXT NOT NULL DEFAULT '',
    lun              INTEGER NOT NULL DEFAULT 0,
    target           TEXT NOT NULL DEFAULT '',   -- the iSCSI target IQN
    shareable        INTEGER NOT NULL DEFAULT 0,
    present          INTEGER NOT NULL DEFAULT 1,
    UNIQUE (storage_array_id, page83_id)
);
CREATE INDEX storage_elements_vg ON storage_elements (volume_group_id);

-- The storage initiators of a server: its iSCSI initiator (id: the IQN).
CREATE TABLE storage_initiators (
    id             TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    server_id      TEXT NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    initiator_type TEXT NOT NULL DEFAULT 'ISCSI'
        CHECK (initiator_type IN ('ISCSI', 'FC', 'LOCAL'))
);
CREATE INDEX storage_initiators_server ON storage_initiators (server_id);

CREATE TABLE access_groups (
    id               TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    storage_array_id TEXT NOT NULL REFERENCES storage_arrays(id) ON DELETE CASCADE
);
CREATE INDEX access_groups_array ON access_groups (storage_array_id);

CREATE TABLE access_group_elements (
    access_group_id TEXT NOT NULL REFERENCES access_groups(id) ON DELETE CASCADE,
    ref_id          TEXT NOT NULL REFERENCES storage_elements(id) ON DELETE CASCADE,
    PRIMARY KEY (access_group_id, ref_id)
);
CREATE INDEX access_group_elements_ref ON access_group_elements (ref_id);
CREATE TABLE access_group_initiators (
    access_group_id TEXT NOT NULL REFERENCES access_groups(id) ON DELETE CASCADE,
    ref_id          TEXT NOT NULL REFERENCES storage_initiators(id) ON DELETE CASCADE,
    PRIMARY KEY (access_group_id, ref_id)
);
CREATE INDEX access_group_initiators_ref ON access_group_initiators (ref_id);

-- A file system on a LUN (OCFS2; not made yet: the column is there so a
-- storage element knows its file systems and is "used" by them).
ALTER TABLE file_systems ADD COLUMN storage_element_id TEXT
    REFERENCES storage_elements(id);

-- The default arrays Oracle VM has from the start (ids and names as
-- Oracle VM shows them): no admin servers, never deleted.
INSERT INTO objects (id, type, name, description, created_ms, modified_ms)
VALUES
 ('Unmanaged FibreChannel Storage Array', 'StorageArray',
  'Unmanaged FibreChannel Storage Array', '', 0, 0),
 ('Unmanaged iSCSI Storage Array', 'StorageArray',
  'Unmanaged iSCSI Storage Array', '', 0, 0),
 ('0004fb0000320000d2f0672a5b606681', 'VolumeGroup',
  'FibreChannel Volume Group', '', 0, 0),
 ('0004fb000032000016113711f641fd5d', 'VolumeGroup',
  'iSCSI Volume Group', '', 0, 0);

INSERT INTO storage_arrays (id, plugin_id, storage_type, default_array)
VALUES
 ('Unmanaged FibreChannel Storage Array',
  'oracle.generic.SCSIPlugin.GenericPlugin (1.1.0)', 'FIBRECHANNEL', 1),
 ('Unmanaged iSCSI Storage Array',
  'oracle.generic.SCSIPlugin.GenericPlugin (1.1.0)', 'ISCSI', 1);

INSERT INTO volume_groups (id, storage_array_id, name_on_array) VALUES
 ('0004fb0000320000d2f0672a5b606681', 'Unmanaged FibreChannel Storage Array',
  'Generic_SAN_Volume_Group'),
 ('0004fb000032000016113711f641fd5d', 'Unmanaged iSCSI Storage Array',
  'Generic_iSCSI_Volume_Group');

CREATE TRIGGER storage_arrays_gone AFTER DELETE ON storage_arrays
BEGIN DELETE FROM objects WHERE id = OLD.id; END;
CREATE TRIGGER volume_groups_gone AFTER DELETE ON volume_groups
BEGIN DELETE FROM objects WHERE id = OLD.id; END;
CREATE TRIGGER storage_elements_gone AFTER DELETE ON storage_elements
BEGIN DELETE FROM objects WHERE id = OLD.id; END;
CREATE TRIGGER storage_initiators_gone AFTER DELETE ON storage_initiators
BEGIN DELETE FROM objects WHERE id = OLD.id; END;
CREATE TRIGGER access_groups_gone AFTER DELETE ON access_groups
BEGIN DELETE FROM objects WHERE id = OLD.id; END;
