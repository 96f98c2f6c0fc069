-- 0007_local_disks.sql - a server's local storage as discovery saw it: a
-- JSON array of {name, type, path, capacity, allocation} (bytes), shown as
-- the extension member `localDisks` until storage objects (issue 5) model
-- them as StorageElements of the server's local storage array.
ALTER TABLE servers ADD COLUMN local_disks TEXT NOT NULL DEFAULT '[]';
