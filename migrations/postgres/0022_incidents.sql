-- Incidents (issue 23): a case linked as a duplicate, or closed through its
-- primary, follows that primary (`primary_id`, the domain's
-- `Case::incident_primary`). The OPD's workload and breach figures count
-- incidents, not reports: rows with a primary are left out of them
-- (`aduan_projections::incident`). Computed from events, so both projections
-- and their roll-ups start over (the server replays them at start).
TRUNCATE complaint_summary;
TRUNCATE complaint_summary_rollup;
TRUNCATE sla_timers;
TRUNCATE sla_timers_rollup;
DELETE FROM projection_checkpoints WHERE name IN ('complaint_summary', 'sla_timers');

ALTER TABLE complaint_summary ADD COLUMN primary_id text;
ALTER TABLE sla_timers ADD COLUMN primary_id text;

-- `Complaint.duplicates` (a prefix range) and each list item's report count
-- (the members of the incident: duplicate_of = id with a primary), index only.
CREATE INDEX IF NOT EXISTS complaint_summary_duplicate_of
    ON complaint_summary (duplicate_of, primary_id) WHERE duplicate_of IS NOT NULL;

-- The open-case and percentile indexes, with the incident rule in their
-- predicate so that the dashboard's reads stay index-only.
DROP INDEX IF EXISTS complaint_summary_open_opd_created;
CREATE INDEX IF NOT EXISTS complaint_summary_open_opd_created
    ON complaint_summary (opd, created_at)
    WHERE status NOT IN ('CLOSED', 'REJECTED') AND primary_id IS NULL;
DROP INDEX IF EXISTS sla_timers_stopped_used;
CREATE INDEX IF NOT EXISTS sla_timers_stopped_used
    ON sla_timers (opd, leg, used_seconds, case_created_at)
    WHERE stopped_at IS NOT NULL AND primary_id IS NULL;
