-- Notifications to reporters (docs/notifications.md): one row per
-- (complaint, event sequence, kind, channel), made once by the notifier
-- following the event log and sent by its sender. No address and no text is
-- kept here: both are made from the log when the row is sent, so an erased or
-- opted-out reporter is not contacted afterwards. Times in milliseconds since
-- the epoch (the same on both stores).
CREATE TABLE IF NOT EXISTS notification_outbox (
    id bigserial PRIMARY KEY,
    complaint_id text NOT NULL,
    sequence bigint NOT NULL,
    kind text NOT NULL,
    channel text NOT NULL,
    status text NOT NULL DEFAULT 'pending',
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_ms bigint NOT NULL,
    last_error text,
    created_ms bigint NOT NULL,
    done_ms bigint,
    UNIQUE (complaint_id, sequence, kind, channel)
);
CREATE INDEX IF NOT EXISTS notification_outbox_due
    ON notification_outbox (next_attempt_ms) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS notification_outbox_status
    ON notification_outbox (status, id);
