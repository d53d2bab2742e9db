-- Incidents (see the PostgreSQL migration of the same name). Both projections
-- and their roll-ups start over.
DELETE FROM complaint_summary;
DELETE FROM complaint_summary_rollup;
DELETE FROM sla_timers;
DELETE FROM sla_timers_rollup;
DELETE FROM projection_checkpoints WHERE name IN ('complaint_summary', 'sla_timers');

ALTER TABLE complaint_summary ADD COLUMN primary_id TEXT;
ALTER TABLE sla_timers ADD COLUMN primary_id TEXT;

CREATE INDEX IF NOT EXISTS complaint_summary_duplicate_of
    ON complaint_summary (duplicate_of, primary_id) WHERE duplicate_of IS NOT NULL;

DROP INDEX IF EXISTS complaint_summary_open_opd_created;
CREATE INDEX IF NOT EXISTS complaint_summary_open_opd_created
    ON complaint_summary (opd, created_at)
    WHERE status NOT IN ('CLOSED', 'REJECTED') AND primary_id IS NULL;
DROP INDEX IF EXISTS sla_timers_stopped_used;
CREATE INDEX IF NOT EXISTS sla_timers_stopped_used
    ON sla_timers (opd, leg, used_seconds, case_created_at)
    WHERE stopped_at IS NOT NULL AND primary_id IS NULL;
