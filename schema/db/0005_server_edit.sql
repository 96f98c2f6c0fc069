-- 0005_server_edit.sql - what the server power jobs learn from IPMI (issue
-- 4, the rest of it: edit, ownership, delete and power; see
-- src/jobs/op_server.c and docs/SERVERS.md).
--
-- Everything else those jobs change already has its column in 0003
-- (roles, maintenance_mode, inbound_migration_locked, ipmi_address,
-- ipmi_user, ipmi_password sealed, manager_uuid). The IPMI port, when it
-- is not 623, is part of ipmi_address ("host:port", "[v6]:port").
--
-- power_state is the chassis power state `ipmitool chassis power status`
-- last reported after a power job ('on' or 'off'; NULL: never asked), and
-- power_checked_ms when. serverRunState says what ovmm believes the server
-- is doing; power_state is the BMC's word for the power alone, so a
-- server that stopped answering can be told from one that ovmm powered
-- off (the monitor's business). Neither is a secret and neither bumps a
-- generation on its own: the power job that writes them commits them with
-- the run state change it confirms.

ALTER TABLE servers ADD COLUMN power_state TEXT
    CHECK (power_state IN ('on', 'off'));
ALTER TABLE servers ADD COLUMN power_checked_ms INTEGER;
