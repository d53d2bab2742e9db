-- Signed-in citizens list their own cases (see the PostgreSQL migration of the
-- same name). The projection starts over.
DELETE FROM complaint_summary;
DELETE FROM projection_checkpoints WHERE name = 'complaint_summary';

ALTER TABLE complaint_summary ADD COLUMN reporter_ref TEXT;

CREATE INDEX IF NOT EXISTS complaint_summary_reporter_ref
    ON complaint_summary (reporter_ref, created_at DESC, complaint_id DESC)
    WHERE reporter_ref IS NOT NULL;
