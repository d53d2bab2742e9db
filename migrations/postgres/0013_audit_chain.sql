-- Tamper evidence (docs/audit.md). Each event carries its chain hash and its
-- predecessor's, written by the append itself. Rows written before this
-- migration have neither: the server seals them once at start, in log order.
ALTER TABLE events ADD COLUMN IF NOT EXISTS hash text;
ALTER TABLE events ADD COLUMN IF NOT EXISTS prev_hash text;

-- A row is immutable once sealed. An unsealed row (from before the chain) may
-- be updated, which is how the one-time sealing fills its hash; every append
-- since seals its rows as it writes them.
CREATE OR REPLACE FUNCTION events_are_immutable() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.hash IS NULL THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'events are immutable: % refused', TG_OP;
END;
$$;

-- The Merkle tree over the log in position order, as the checkpointer sealed
-- it: leaf i is the i-th event by position. The event's hash is kept here so
-- a verifier can say which event moved, went missing or appeared.
CREATE TABLE IF NOT EXISTS audit_leaves
(
    leaf      bigint PRIMARY KEY,
    position  bigint NOT NULL UNIQUE,
    hash      text   NOT NULL,
    leaf_hash bytea  NOT NULL
);

-- Roots of aligned blocks of 1024 leaves, so an inclusion proof reads a few
-- thousand hashes instead of the whole tree.
CREATE TABLE IF NOT EXISTS audit_blocks
(
    block bigint PRIMARY KEY,
    root  bytea  NOT NULL
);

-- Every signed checkpoint, kept: the note is the signed text itself.
CREATE TABLE IF NOT EXISTS audit_checkpoints
(
    tree_size     bigint      PRIMARY KEY,
    last_position bigint      NOT NULL,
    root          bytea       NOT NULL,
    signed_at     timestamptz NOT NULL,
    note          text        NOT NULL
);

CREATE OR REPLACE FUNCTION audit_is_append_only() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % refused', TG_OP;
END;
$$;

CREATE TRIGGER audit_leaves_append_only BEFORE UPDATE OR DELETE ON audit_leaves
    FOR EACH ROW EXECUTE FUNCTION audit_is_append_only();
CREATE TRIGGER audit_blocks_append_only BEFORE UPDATE OR DELETE ON audit_blocks
    FOR EACH ROW EXECUTE FUNCTION audit_is_append_only();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_is_append_only();

-- Finds rows still to seal at start without walking the log.
CREATE INDEX IF NOT EXISTS events_unsealed ON events (position) WHERE hash IS NULL;
