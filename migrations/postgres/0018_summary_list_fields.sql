-- List items carry what a console finds cases by without reading each case:
-- the case's id in the system it came from (national platform, Open311) and
-- the case a DUPLICATE closing points to. Computed from events, so the
-- projection and its roll-up start over (the server replays them at start).
TRUNCATE complaint_summary;
TRUNCATE complaint_summary_rollup;
DELETE FROM projection_checkpoints WHERE name = 'complaint_summary';

ALTER TABLE complaint_summary ADD COLUMN external_ref text;
ALTER TABLE complaint_summary ADD COLUMN duplicate_of text;

-- `externalRef` and `hasExternalRef` filters: few cases come from elsewhere.
CREATE INDEX IF NOT EXISTS complaint_summary_external_ref
    ON complaint_summary (external_ref) WHERE external_ref IS NOT NULL;
