-- Read side. The projector reads events in (tx_id, position) order, only from
-- transactions older than the oldest one still running: that set never grows
-- behind its back, so no event is ever skipped (see docs/architecture.md).
CREATE INDEX IF NOT EXISTS events_tx_position ON events (tx_id, position);

-- Wake the projector as soon as events commit (NOTIFY is delivered at commit).
CREATE OR REPLACE FUNCTION events_notify() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    PERFORM pg_notify('aduan_events', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER events_notify_after_insert
    AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_notify();

-- How far each projection has read. Written in the same transaction as its rows.
CREATE TABLE IF NOT EXISTS projection_checkpoints
(
    name          text        PRIMARY KEY,
    last_tx_id    xid8        NOT NULL DEFAULT '0'::xid8,
    last_position bigint      NOT NULL DEFAULT 0,
    events_seen   bigint      NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- One row per complaint, for lists, filters and analysts. Holds no personal data:
-- no reporter name, phone, e-mail or exact address.
CREATE TABLE IF NOT EXISTS complaint_summary
(
    complaint_id      text        PRIMARY KEY,
    status            text        NOT NULL,
    channel           text        NOT NULL,
    category          text        NOT NULL,
    priority          text        NOT NULL,
    opd               text,
    officer_id        text,
    kecamatan         text,
    kelurahan         text,
    title             text        NOT NULL,
    anonymous         boolean     NOT NULL,
    escalation_level  integer     NOT NULL,
    resolution        text,
    rating            smallint,
    reopen_count      integer     NOT NULL,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    verified_at       timestamptz,
    assigned_at       timestamptz,
    first_response_at timestamptz,
    closed_at         timestamptz,
    -- The complaint's sequence number and global position of the last event applied.
    version           bigint      NOT NULL,
    last_position     bigint      NOT NULL,
    -- Counts applications: equals `version` unless an event was skipped or applied twice.
    events_applied    bigint      NOT NULL,
    -- The folded case with personal data removed, so the next event can be applied.
    state             jsonb       NOT NULL
);

CREATE INDEX IF NOT EXISTS complaint_summary_opd_status ON complaint_summary (opd, status);
CREATE INDEX IF NOT EXISTS complaint_summary_created ON complaint_summary (created_at, complaint_id);
