-- Client idempotency keys (commandId), one row each, written in the same statement
-- as the command's events: a retried command collides on the primary key, so the
-- duplicate-key race *is* the replay, and the look-up is one primary-key probe
-- whatever the size of the log (the expression index on events.metadata it
-- replaces was not used by the planner, which walked the whole log instead).
CREATE TABLE IF NOT EXISTS command_ids
(
    command_id   text   PRIMARY KEY,
    complaint_id text   NOT NULL,
    -- The sequence of the command's last event: the state a replay returns.
    sequence     bigint NOT NULL
);

INSERT INTO command_ids (command_id, complaint_id, sequence)
SELECT metadata ->> 'command_id', aggregate_id, max(sequence)
FROM events
WHERE metadata ->> 'command_id' IS NOT NULL
GROUP BY 1, 2
ON CONFLICT (command_id) DO NOTHING;

DROP INDEX IF EXISTS events_command_id;
