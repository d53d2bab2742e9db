-- Notifications to reporters (docs/notifications.md): one row per
-- (complaint, event sequence, kind, channel), made once by the notifier
-- following the event log and sent by its sender. No address and no TEXT is
-- kept here: both are made from the log when the row is sent, so an erased or
-- opted-out reporter is not contacted afterwards. Times in milliseconds since
-- the epoch (the same on both stores).
CREATE TABLE IF NOT EXISTS notification_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    complaint_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    last_error TEXT,
    created_ms INTEGER NOT NULL,
    done_ms INTEGER,
    UNIQUE (complaint_id, sequence, kind, channel)
);
CREATE INDEX IF NOT EXISTS notification_outbox_due
    ON notification_outbox (next_attempt_ms) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS notification_outbox_status
    ON notification_outbox (status, id);
