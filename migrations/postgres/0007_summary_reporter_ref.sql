-- Signed-in citizens list their own cases. The summary keeps a pseudonym of the
-- reporter's account (a SHA-256, see domain `tracking::reporter_ref`), never the
-- account id, so analysts' tables still hold no personal identifiers. Computed
-- from events, so the projection starts over (the server rebuilds it at start).
TRUNCATE complaint_summary;
DELETE FROM projection_checkpoints WHERE name = 'complaint_summary';

ALTER TABLE complaint_summary ADD COLUMN reporter_ref text;

CREATE INDEX IF NOT EXISTS complaint_summary_reporter_ref
    ON complaint_summary (reporter_ref, created_at DESC, complaint_id DESC)
    WHERE reporter_ref IS NOT NULL;
