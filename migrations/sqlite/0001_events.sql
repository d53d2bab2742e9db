-- The event log on SQLite. sqlite-es inserts by naming its seven columns, so the
-- extra ones (position, recorded_at) take their defaults. `position` is an
-- AUTOINCREMENT key: never reused, and (with one writer at a time) assigned in
-- commit order, so readers following it never pass a late commit.
CREATE TABLE IF NOT EXISTS events
(
    position       INTEGER PRIMARY KEY AUTOINCREMENT,
    aggregate_type TEXT    NOT NULL,
    aggregate_id   TEXT    NOT NULL,
    sequence       INTEGER NOT NULL CHECK (sequence >= 0),
    event_type     TEXT    NOT NULL,
    event_version  TEXT    NOT NULL,
    payload        TEXT    NOT NULL,
    metadata       TEXT    NOT NULL,
    recorded_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (aggregate_type, aggregate_id, sequence)
);

CREATE INDEX IF NOT EXISTS events_command_id ON events (json_extract(metadata, '$.command_id'));

-- Events are immutable: no update, no delete (SQLite has no TRUNCATE).
CREATE TRIGGER IF NOT EXISTS events_immutable_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are immutable');
END;

CREATE TRIGGER IF NOT EXISTS events_immutable_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are immutable');
END;
