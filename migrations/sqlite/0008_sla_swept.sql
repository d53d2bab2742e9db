-- SLA-state pages without walking the newest cases (see the PostgreSQL migration
-- of the same name and crates/projections/src/sla_sweep.rs).
ALTER TABLE complaint_summary ADD COLUMN sla_state_swept TEXT;

CREATE INDEX IF NOT EXISTS complaint_summary_swept_created
    ON complaint_summary (sla_state_swept, created_at, complaint_id);

-- The rows written since the last sweep, newest first (few: the projector's
-- writes of the last few seconds; a rebuilt table's every row until its first sweep).
CREATE INDEX IF NOT EXISTS complaint_summary_unswept
    ON complaint_summary (created_at, complaint_id) WHERE sla_state_swept IS NULL;

CREATE TABLE IF NOT EXISTS sla_sweeps
(
    name     TEXT PRIMARY KEY,
    swept_at TEXT
);
