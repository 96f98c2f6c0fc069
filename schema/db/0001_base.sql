-- 0001_base.sql - the first migration: generic objects, the Manager, users
-- and browser sessions.
--
-- Applied by src/db/db.c inside one BEGIN IMMEDIATE ... COMMIT together with
-- the schema_version update, so it either happens completely or not at all.
-- schema_version itself is created by db.c, never by a migration.
--
-- Every managed object has one row in `objects` (the columns every Oracle VM
-- object shares) and one row in its type's own table, keyed by the same id;
-- deleting the objects row removes the rest through ON DELETE CASCADE (the
-- connection runs with foreign_keys=ON). Times are milliseconds since the
-- epoch, as Oracle VM renders them.

-- The common part of every object (see model.h). `generation` is bumped on
-- every change (optimistic concurrency); `locked` is set while a job holds
-- the object; `user_data` is a JSON array of {"key", "value"} objects.
CREATE TABLE objects (
    id          TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    generation  INTEGER NOT NULL DEFAULT 0,
    locked      INTEGER NOT NULL DEFAULT 0,
    read_only   INTEGER NOT NULL DEFAULT 0,
    user_data   TEXT NOT NULL DEFAULT '[]',
    created_ms  INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL
);

-- Lists are "all objects of a type, ordered by name then id", paged: this
-- index serves them without a sort.
CREATE INDEX objects_type_name ON objects (type, name, id);

-- The one Manager (GET /Manager).
CREATE TABLE manager (
    id              TEXT PRIMARY KEY REFERENCES objects(id) ON DELETE CASCADE,
    manager_uuid    TEXT NOT NULL,
    manager_version TEXT NOT NULL,
    run_state       TEXT NOT NULL
        CHECK (run_state IN ('STARTING', 'RUNNING', 'STOPPING'))
);

-- Users of the REST API and the console (an ovmm extension: Oracle VM
-- keeps them in WebLogic). objects.name equals `login`. password_hash is a
-- libsodium crypt string and never leaves db/ and auth/.
CREATE TABLE users (
    id                  TEXT PRIMARY KEY
        REFERENCES objects(id) ON DELETE CASCADE,
    login               TEXT NOT NULL UNIQUE,
    role                TEXT NOT NULL
        CHECK (role IN ('administrator', 'operator', 'read-only')),
    password_hash       TEXT NOT NULL,
    failed_logins       INTEGER NOT NULL DEFAULT 0, -- since the last success
    locked_until_ms     INTEGER NOT NULL DEFAULT 0, -- lock-out end, 0: none
    disabled            INTEGER NOT NULL DEFAULT 0, -- administrator lock
    last_login_ms       INTEGER,                    -- NULL: never
    password_changed_ms INTEGER NOT NULL
);

-- Browser sessions. Only the SHA-256 of the cookie token is stored, so a
-- copy of the database does not let anyone log in.
CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_ms   INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    expires_ms   INTEGER NOT NULL
);

-- Deleting a user's sessions, and purging expired ones.
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_ms);

-- The Manager itself. Its id is Oracle-style: "0004fb00" + type code
-- "0001" + "0000" + 16 random hex digits; managerUuid is the same value.
-- The name and version are set at every start from the configuration and
-- the build (db_manager_set_info); it starts in STARTING.
INSERT INTO objects (id, type, name, description, created_ms, modified_ms)
VALUES ('0004fb0000010000' || lower(hex(randomblob(8))), 'Manager',
        'OVM Manager', '',
        CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER),
        CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));

INSERT INTO manager (id, manager_uuid, manager_version, run_state)
SELECT id, id, '0.0.0', 'STARTING' FROM objects WHERE type = 'Manager';
