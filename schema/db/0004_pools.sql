-- 0004_pools.sql - server pool policies, and the constraints the server
-- pool jobs rely on (issue 5; see src/db/db_pool.c and docs/POOLS.md).
--
-- Every pool has exactly one ServerPoolPolicy, made with it and deleted
-- with it, whose id is "balancer_" + the pool's id as in Oracle VM 3.4.
-- Its mode is OFF until the policy issue enforces DRS and DPM; the row is
-- here so GET /ServerPoolPolicy and a pool's serverPoolPolicyId have the
-- shape Oracle VM clients read.

CREATE TABLE server_pool_policies (
    id               TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    server_pool_id   TEXT NOT NULL UNIQUE
        REFERENCES server_pools(id) ON DELETE CASCADE,
    mode             TEXT NOT NULL DEFAULT 'OFF'
        CHECK (mode IN ('OFF', 'DRS', 'DPM')),
    cpu_enable       INTEGER NOT NULL DEFAULT 0,
    period_minutes   INTEGER NOT NULL DEFAULT 10,
    cpu_threshold    INTEGER NOT NULL DEFAULT 75,
    -- ServerPoolNetworkPolicy SimpleIds, rendered as is; always [] until
    -- network policies exist.
    network_policies TEXT NOT NULL DEFAULT '[]'
);

-- The pool's policy (ServerPool.serverPoolPolicyId).
ALTER TABLE server_pools ADD COLUMN policy_id TEXT;

-- The policy a server participates in (ServerPoolPolicy.serverIds): at
-- most one, that of its pool. Cleared when the server leaves its pool.
ALTER TABLE servers ADD COLUMN policy_id TEXT
    REFERENCES server_pool_policies(id) ON DELETE SET NULL;
CREATE INDEX servers_policy ON servers (policy_id);

-- Pool names are unique (409 when taken); the jobs check first for a
-- clear message, this index makes a race impossible.
CREATE UNIQUE INDEX objects_pool_name ON objects (name)
    WHERE type = 'ServerPool';

-- A virtual IP address (stored in canonical form) belongs to one pool.
CREATE UNIQUE INDEX server_pools_virtual_ip ON server_pools (virtual_ip)
    WHERE virtual_ip IS NOT NULL;
