-- Where each case is, for radius and box queries and hotspot maps: its
-- coordinates and its H3 cell at resolution 9 (`aduan_domain::geo`), the same
-- index on both databases, no PostGIS. Computed from events, so the projection
-- and its roll-up start over (the server replays them at start).
TRUNCATE complaint_summary;
TRUNCATE complaint_summary_rollup;
DELETE FROM projection_checkpoints WHERE name = 'complaint_summary';

ALTER TABLE complaint_summary ADD COLUMN latitude double precision;
ALTER TABLE complaint_summary ADD COLUMN longitude double precision;
ALTER TABLE complaint_summary ADD COLUMN h3_cell bigint;

CREATE INDEX IF NOT EXISTS complaint_summary_h3_cell
    ON complaint_summary (h3_cell, created_at);
