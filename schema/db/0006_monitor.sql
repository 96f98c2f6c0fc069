-- 0006_monitor.sql - what the monitor (src/policy/monitor.c) learns about
-- each server on every cycle, and the domains it found that ovmm does not
-- manage (docs/MONITORING.md).
--
-- The utilization columns are observations, not changes: the monitor
-- writes them directly through db/ once per cycle for all servers in one
-- transaction, without bumping the server's generation (a user editing the
-- server is never refused because a sample arrived). They are NULL until
-- the first sample and again while the server is unreachable, so nobody
-- reads stale figures. `last_seen_ms` (0003) is when the server last
-- answered. State changes (serverRunState RUNNING <-> UNKNOWN) commit with
-- their events and do bump the generation.

-- CPU use of the domains over the last monitoring period, percent of the
-- server's logical CPUs (0..100).
ALTER TABLE servers ADD COLUMN cpu_utilization INTEGER;
-- Memory held by active domains, percent of the server's memory (0..100).
ALTER TABLE servers ADD COLUMN memory_utilization INTEGER;
-- The same in MiB.
ALTER TABLE servers ADD COLUMN memory_used_mib INTEGER;
-- Domains running (or blocked, or paused) on the server.
ALTER TABLE servers ADD COLUMN running_domains INTEGER;
-- When the figures above were sampled (ms since the epoch).
ALTER TABLE servers ADD COLUMN sampled_ms INTEGER;
-- Why the server is unreachable (the last connection error), NULL while
-- it answers.
ALTER TABLE servers ADD COLUMN monitor_error TEXT;
-- Domains found on the server that are no VM of this Manager: a JSON
-- array of {"name", "uuid", "state"}, ordered by name. Listed, never
-- adopted (reconciliation, docs/MONITORING.md).
ALTER TABLE servers ADD COLUMN foreign_domains TEXT NOT NULL DEFAULT '[]';
