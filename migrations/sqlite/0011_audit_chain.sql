-- Tamper evidence (docs/audit.md): see the PostgreSQL migration of the same
-- name for what each part is for.
ALTER TABLE events ADD COLUMN hash TEXT;
ALTER TABLE events ADD COLUMN prev_hash TEXT;

-- Immutable once sealed; rows from before the chain are sealed once at start.
DROP TRIGGER IF EXISTS events_immutable_update;
CREATE TRIGGER events_immutable_update BEFORE UPDATE ON events
    WHEN OLD.hash IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'events are immutable');
END;

CREATE TABLE IF NOT EXISTS audit_leaves
(
    leaf      INTEGER PRIMARY KEY,
    position  INTEGER NOT NULL UNIQUE,
    hash      TEXT    NOT NULL,
    leaf_hash BLOB    NOT NULL
);

CREATE TABLE IF NOT EXISTS audit_blocks
(
    block INTEGER PRIMARY KEY,
    root  BLOB    NOT NULL
);

CREATE TABLE IF NOT EXISTS audit_checkpoints
(
    tree_size     INTEGER PRIMARY KEY,
    last_position INTEGER NOT NULL,
    root          BLOB    NOT NULL,
    signed_at     TEXT    NOT NULL,
    note          TEXT    NOT NULL
);

CREATE TRIGGER IF NOT EXISTS audit_leaves_append_only BEFORE UPDATE ON audit_leaves
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_leaves_no_delete BEFORE DELETE ON audit_leaves
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_blocks_append_only BEFORE UPDATE ON audit_blocks
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_blocks_no_delete BEFORE DELETE ON audit_blocks
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_checkpoints_append_only BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;

-- Finds rows still to seal at start without walking the log.
CREATE INDEX IF NOT EXISTS events_unsealed ON events (position) WHERE hash IS NULL;
