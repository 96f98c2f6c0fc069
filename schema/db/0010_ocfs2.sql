-- 0010_ocfs2.sql - OCFS2 file systems on LUNs (issue 5; docs/STORAGE.md,
-- "Repositories on a LUN"). A file system made on a storage element
-- (file_systems.storage_element_id, from 0009) belongs to the clustered
-- server pool whose servers share it: only they mount it, and the pool
-- cannot be deleted while the file system exists.

ALTER TABLE file_systems ADD COLUMN server_pool_id TEXT
    REFERENCES server_pools(id);
CREATE INDEX file_systems_pool ON file_systems (server_pool_id);
-- One file system per LUN (NULLs, the NFS and local ones, are distinct).
CREATE UNIQUE INDEX file_systems_element ON file_systems (storage_element_id);
