-- 0002_jobs_events.sql - jobs, their operations and locks, events, and the
-- change feed behind the SSE stream.
--
-- DESIGN (see src/jobs/jobs.h and DESIGN.md section 4): every change is a
-- job. A job row is committed before anything happens; each operation is a
-- row committed RUNNING before it acts and DONE (with what its undo needs)
-- after, so a restart can tell what was done. The locks a job asked for are
-- rows too, so GET /Lock and recovery read them from here. Times are ms
-- since the epoch. Job ids are numbers, as Oracle VM's are ("1448899976258"):
-- the creation time in ms, bumped past the previous id when two jobs share
-- a millisecond.

CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    run_state        TEXT NOT NULL
        CHECK (run_state IN ('CREATED', 'RUNNING', 'SUCCESS', 'FAILURE',
                             'ABORTED', 'CHILD_QUEUED', 'CHILD_RUNNING')),
    summary_state    TEXT NOT NULL
        CHECK (summary_state IN ('CREATED', 'RUNNING', 'SUCCESS', 'FAILURE',
                                 'ABORTED', 'CHILD_QUEUED', 'CHILD_RUNNING')),
    done             INTEGER NOT NULL DEFAULT 0,
    summary_done     INTEGER NOT NULL DEFAULT 0,
    priority         INTEGER NOT NULL DEFAULT 0, -- runs in the priority lane
    parent_id        INTEGER REFERENCES jobs(id) ON DELETE CASCADE,
    child_seq        INTEGER NOT NULL DEFAULT 0, -- order among siblings
    parallel         INTEGER NOT NULL DEFAULT 0, -- children run at once
    user_name        TEXT NOT NULL,
    result_type      TEXT,                       -- resultId SimpleId
    result_id        TEXT,
    result_name      TEXT,
    error_type       TEXT,
    error_message    TEXT,
    progress_message TEXT,
    aborted_by       TEXT,                       -- abortedByUser
    created_ms       INTEGER NOT NULL,
    start_ms         INTEGER,                    -- left CREATED
    end_ms           INTEGER,                    -- done
    lock_deadline_ms INTEGER NOT NULL,           -- FAILURE if still waiting
    generation       INTEGER NOT NULL DEFAULT 0  -- bumped on every change
);

-- Recovery and the scheduler look jobs up by state; lists filter by user
-- and time; retention deletes by end time.
CREATE INDEX jobs_state ON jobs (run_state);
CREATE INDEX jobs_parent ON jobs (parent_id, child_seq);
CREATE INDEX jobs_user ON jobs (user_name, id);
CREATE INDEX jobs_end ON jobs (done, end_ms);

-- The operations of a job, in order. `op` names an entry of the operation
-- table in src/jobs/ops.c; `args` is its input, `undo` what its undo needs
-- (NULL: nothing to undo).
CREATE TABLE job_ops (
    job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    op          TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    args        TEXT NOT NULL DEFAULT '{}',
    state       TEXT NOT NULL DEFAULT 'PENDING'
        CHECK (state IN ('PENDING', 'RUNNING', 'DONE', 'FAILED', 'UNDONE',
                         'UNDO_FAILED', 'SKIPPED', 'UNKNOWN')),
    undo        TEXT,
    message     TEXT,
    start_ms    INTEGER,
    end_ms      INTEGER,
    undo_ms     INTEGER,
    PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;

-- The objects a job declared, with the lock mode it needs. `granted` while
-- held; `released` once the job is done (the row stays, so GET /Job can
-- filter by object). GET /Lock is the unreleased rows.
CREATE TABLE job_objects (
    job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    object_id   TEXT NOT NULL,
    object_type TEXT,
    object_name TEXT,
    exclusive   INTEGER NOT NULL DEFAULT 1,
    granted     INTEGER NOT NULL DEFAULT 0,
    released    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, object_id)
) WITHOUT ROWID;

CREATE INDEX job_objects_object ON job_objects (object_id, job_id);
CREATE INDEX job_objects_held ON job_objects (released, object_id);

-- Events on objects. severity: 0 INFORMATIONAL, 1 WARNING, 2 ERROR,
-- 3 CRITICAL (stored as a rank so "worst" is max()).
CREATE TABLE events (
    id            INTEGER PRIMARY KEY,
    time_ms       INTEGER NOT NULL,
    severity      INTEGER NOT NULL CHECK (severity BETWEEN 0 AND 3),
    type          TEXT NOT NULL,          -- e.g. "job.failure", "object.updated"
    summary       TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    object_id     TEXT,
    object_type   TEXT,
    object_name   TEXT,
    job_id        INTEGER,                -- the job that raised it, if any
    user_name     TEXT,
    acknowledged  INTEGER NOT NULL DEFAULT 0,
    ack_user      TEXT,
    ack_ms        INTEGER
);

-- An object's worst unacknowledged severity, and lists by object and time.
CREATE INDEX events_object ON events (object_id, acknowledged, severity);
CREATE INDEX events_time ON events (time_ms);

-- The change feed: one row per event and per job change, in commit order.
-- The SSE stream sends these in `seq` order and resumes after Last-Event-ID.
CREATE TABLE feed (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    time_ms INTEGER NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('event', 'job')),
    ref     INTEGER NOT NULL                -- events.id or jobs.id
);

CREATE INDEX feed_time ON feed (time_ms);
