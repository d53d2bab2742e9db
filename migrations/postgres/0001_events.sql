-- The event store. The first seven columns are postgres-es's own; it names its
-- columns in every statement, so the extra columns below are filled by defaults.
CREATE TABLE IF NOT EXISTS events
(
    aggregate_type text                         NOT NULL,
    aggregate_id   text                         NOT NULL,
    sequence       bigint CHECK (sequence >= 0) NOT NULL,
    event_type     text                         NOT NULL,
    event_version  text                         NOT NULL,
    payload        json                         NOT NULL,
    metadata       json                         NOT NULL,
    -- Global order across all aggregates. Assigned at insert, visible at commit:
    -- readers that follow it must also respect tx_id (see docs/architecture.md).
    position       bigserial                    NOT NULL UNIQUE,
    -- The writing transaction, so a reader can stay below the oldest one still running.
    tx_id          xid8                         NOT NULL DEFAULT pg_current_xact_id(),
    recorded_at    timestamptz                  NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);

-- Idempotency look-ups: has this client command id been applied already?
CREATE INDEX IF NOT EXISTS events_command_id
    ON events ((metadata ->> 'command_id'))
    WHERE metadata ->> 'command_id' IS NOT NULL;

-- Events are immutable: refuse UPDATE and DELETE at the database itself.
CREATE OR REPLACE FUNCTION events_are_immutable() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    RAISE EXCEPTION 'events are immutable: % refused', TG_OP;
END;
$$;

CREATE TRIGGER events_no_update_or_delete
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_are_immutable();

CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_immutable();
