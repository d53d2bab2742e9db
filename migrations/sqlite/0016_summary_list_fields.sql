-- List items carry `externalRef` and `duplicateOf` (see the PostgreSQL
-- migration of the same name). The projection and its roll-up start over.
DELETE FROM complaint_summary;
DELETE FROM complaint_summary_rollup;
DELETE FROM projection_checkpoints WHERE name = 'complaint_summary';

ALTER TABLE complaint_summary ADD COLUMN external_ref TEXT;
ALTER TABLE complaint_summary ADD COLUMN duplicate_of TEXT;

CREATE INDEX IF NOT EXISTS complaint_summary_external_ref
    ON complaint_summary (external_ref) WHERE external_ref IS NOT NULL;
