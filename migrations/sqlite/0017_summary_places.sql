-- Where each case is (see the PostgreSQL migration of the same name). The
-- projection and its roll-up start over.
DELETE FROM complaint_summary;
DELETE FROM complaint_summary_rollup;
DELETE FROM projection_checkpoints WHERE name = 'complaint_summary';

ALTER TABLE complaint_summary ADD COLUMN latitude REAL;
ALTER TABLE complaint_summary ADD COLUMN longitude REAL;
ALTER TABLE complaint_summary ADD COLUMN h3_cell INTEGER;

CREATE INDEX IF NOT EXISTS complaint_summary_h3_cell
    ON complaint_summary (h3_cell, created_at);
