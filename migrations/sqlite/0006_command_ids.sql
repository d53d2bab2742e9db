-- Client idempotency keys (commandId), one row each, written in the same
-- transaction as the command's events: a retried command collides on the primary
-- key, and the look-up is one primary-key probe whatever the size of the log.
CREATE TABLE IF NOT EXISTS command_ids
(
    command_id   TEXT    PRIMARY KEY,
    complaint_id TEXT    NOT NULL,
    -- The sequence of the command's last event: the state a replay returns.
    sequence     INTEGER NOT NULL
);

INSERT OR IGNORE INTO command_ids (command_id, complaint_id, sequence)
SELECT json_extract(metadata, '$.command_id'), aggregate_id, max(sequence)
FROM events
WHERE json_extract(metadata, '$.command_id') IS NOT NULL
GROUP BY 1, 2;

DROP INDEX IF EXISTS events_command_id;
