-- The read side on SQLite: the same tables and columns as on PostgreSQL
-- (docs/analytics.md), timestamps as RFC 3339 UTC text, booleans as 0/1.

CREATE TABLE IF NOT EXISTS projection_checkpoints
(
    name          TEXT    PRIMARY KEY,
    last_tx_id    INTEGER NOT NULL DEFAULT 0,
    last_position INTEGER NOT NULL DEFAULT 0,
    events_seen   INTEGER NOT NULL DEFAULT 0,
    updated_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE IF NOT EXISTS complaint_summary
(
    complaint_id      TEXT    PRIMARY KEY,
    status            TEXT    NOT NULL,
    channel           TEXT    NOT NULL,
    category          TEXT    NOT NULL,
    priority          TEXT    NOT NULL,
    opd               TEXT,
    officer_id        TEXT,
    kecamatan         TEXT,
    kelurahan         TEXT,
    title             TEXT    NOT NULL,
    anonymous         INTEGER NOT NULL,
    escalation_level  INTEGER NOT NULL,
    resolution        TEXT,
    rating            INTEGER,
    reopen_count      INTEGER NOT NULL,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    verified_at       TEXT,
    assigned_at       TEXT,
    first_response_at TEXT,
    closed_at         TEXT,
    sla_state         TEXT,
    sla_at_risk_at    TEXT,
    sla_deadline      TEXT,
    version           INTEGER NOT NULL,
    last_position     INTEGER NOT NULL,
    events_applied    INTEGER NOT NULL,
    state             TEXT    NOT NULL
);

CREATE INDEX IF NOT EXISTS complaint_summary_created ON complaint_summary (created_at, complaint_id);
CREATE INDEX IF NOT EXISTS complaint_summary_status_created ON complaint_summary (status, created_at, complaint_id);
CREATE INDEX IF NOT EXISTS complaint_summary_opd_created ON complaint_summary (opd, created_at, complaint_id);

CREATE TABLE IF NOT EXISTS sla_timers
(
    complaint_id     TEXT    NOT NULL,
    leg              TEXT    NOT NULL,
    opd              TEXT,
    category         TEXT    NOT NULL,
    priority         TEXT    NOT NULL,
    policy_version   INTEGER NOT NULL,
    target_amount    INTEGER NOT NULL,
    target_unit      TEXT    NOT NULL,
    target_seconds   INTEGER NOT NULL,
    started_at       TEXT    NOT NULL,
    deadline         TEXT    NOT NULL,
    at_risk_at       TEXT    NOT NULL,
    stopped_at       TEXT,
    paused           INTEGER NOT NULL,
    used_seconds     INTEGER NOT NULL,
    state            TEXT    NOT NULL,
    state_changed_at TEXT    NOT NULL,
    explanation      TEXT    NOT NULL,
    last_position    INTEGER NOT NULL,
    PRIMARY KEY (complaint_id, leg)
);

CREATE INDEX IF NOT EXISTS sla_timers_running_deadline ON sla_timers (deadline) WHERE stopped_at IS NULL;
CREATE INDEX IF NOT EXISTS sla_timers_opd ON sla_timers (opd, leg);
